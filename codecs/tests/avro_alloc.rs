//! Heap allocations per encoded and decoded message, counted with a counting global allocator
//! (a test, not a benchmark: it asserts counts, not times).
#![cfg(feature = "avro")]

use bytes::BytesMut;
use kcodec_codecs::avro::{AvroDeserializer, AvroSerializer, ParsedSchema};
use kcodec_codecs::wire::SchemaId;
use kcodec_codecs::{
    DeserializeContext, Deserializer, Headers, SerializeContext, Serialized, Serializer, Target,
};
use serde::{Deserialize, Serialize};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The benchmark's representative record (see `benches/`).
const ORDER: &str = r#"{"type":"record","name":"Order","namespace":"kcodec.bench","fields":[
    {"name":"id","type":"string"},
    {"name":"customer_id","type":"long"},
    {"name":"sku","type":"string"},
    {"name":"quantity","type":"int"},
    {"name":"amount_cents","type":"long"},
    {"name":"currency","type":"string"},
    {"name":"shipping","type":{"type":"record","name":"Address","fields":[
        {"name":"street","type":"string"},{"name":"city","type":"string"},{"name":"zip","type":"string"}]}},
    {"name":"lines","type":{"type":"array","items":{"type":"record","name":"Line","fields":[
        {"name":"sku","type":"string"},{"name":"qty","type":"int"},{"name":"price_cents","type":"long"}]}}},
    {"name":"coupon","type":["null","string"],"default":null},
    {"name":"created_at","type":{"type":"long","logicalType":"timestamp-millis"}}]}"#;

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Order {
    id: String,
    customer_id: i64,
    sku: String,
    quantity: i32,
    amount_cents: i64,
    currency: String,
    shipping: Address,
    lines: Vec<Line>,
    coupon: Option<String>,
    created_at: i64,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Address {
    street: String,
    city: String,
    zip: String,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Line {
    sku: String,
    qty: i32,
    price_cents: i64,
}

fn order() -> Order {
    Order {
        id: "ord-000123".into(),
        customer_id: 987_654_321,
        sku: "SKU-42".into(),
        quantity: 3,
        amount_cents: 12_999,
        currency: "EUR".into(),
        shipping: Address {
            street: "1 Main Street".into(),
            city: "Springfield".into(),
            zip: "12345".into(),
        },
        lines: vec![
            Line {
                sku: "SKU-42".into(),
                qty: 2,
                price_cents: 4_999,
            },
            Line {
                sku: "SKU-7".into(),
                qty: 1,
                price_cents: 3_001,
            },
        ],
        coupon: Some("WELCOME10".into()),
        created_at: 1_700_000_000_000,
    }
}

#[test]
fn encoding_into_a_reused_buffer_allocates_nothing() {
    let registry = Arc::new(kcodec_registry::InMemoryRegistry::new());
    let schema = ParsedSchema::parse(ORDER).unwrap();
    let ser = AvroSerializer::<Order>::new(registry.clone(), schema.clone());
    ser.preload("orders", Target::Value, SchemaId::Id(1))
        .unwrap();
    let value = order();
    let mut headers = Headers::new();
    let mut out = BytesMut::with_capacity(4096);
    // Warm up.
    for _ in 0..10 {
        out.clear();
        let mut ctx = SerializeContext::new("orders", Target::Value, &mut headers);
        assert_eq!(
            ser.serialize(&value, &mut ctx, &mut out).unwrap(),
            Serialized::Data
        );
    }
    let n = 1000;
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    for _ in 0..n {
        out.clear();
        let mut ctx = SerializeContext::new("orders", Target::Value, &mut headers);
        let _ = ser.serialize(&value, &mut ctx, &mut out).unwrap();
    }
    let per_message = (ALLOCATIONS.load(Ordering::SeqCst) - before) as f64 / n as f64;
    println!("allocations per encoded message: {per_message}");
    // The typed encoder writes straight into the buffer: no allocation at all.
    assert_eq!(per_message, 0.0, "{per_message} allocations per message");

    // Decoding allocates the value's own strings and vectors, and nothing else of note.
    let de = AvroDeserializer::<Order>::new(registry);
    de.preload(SchemaId::Id(1), schema).unwrap();
    let frame = out.clone().freeze();
    let headers = Headers::new();
    let ctx = DeserializeContext::new("orders", Target::Value, &headers);
    assert_eq!(de.deserialize(Some(&frame), &ctx).unwrap(), value);
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    for _ in 0..n {
        let back = de.deserialize(Some(&frame), &ctx).unwrap();
        std::hint::black_box(back);
    }
    let per_decode = (ALLOCATIONS.load(Ordering::SeqCst) - before) as f64 / n as f64;
    // The value itself owns 9 strings and one Vec: 10 allocations, and decoding adds none.
    println!("allocations per decoded message: {per_decode}");
    assert!(per_decode <= 10.0, "{per_decode} allocations per decode");
}
