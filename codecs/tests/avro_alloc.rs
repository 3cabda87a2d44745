//! Heap allocations per encoded and decoded message, counted with a counting global allocator
//! (a test, not a benchmark: it asserts counts, not times).
#![cfg(feature = "avro")]

use bytes::BytesMut;
use kcodec_codecs::avro::{AvroDeserializer, AvroSerializer, ParsedSchema};
use kcodec_codecs::record::Record as _;
use kcodec_codecs::wire::SchemaId;
use kcodec_codecs::{
    DeserializeContext, Deserializer, Headers, SerializeContext, Serialized, Serializer, Target,
};
use kcodec_derive::Record;
use serde::{Deserialize, Serialize};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;

struct Counting;

thread_local! {
    /// This thread's allocations while it measures (`None` when it does not): only the
    /// measuring test's own, never the test harness's or another test's.
    static COUNTED: Cell<Option<usize>> = const { Cell::new(None) };
}

fn count() {
    COUNTED.with(|c| c.set(c.get().map(|n| n + 1)));
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The allocations `f` makes per call on this thread, over `n` calls.
fn per_call(n: usize, mut f: impl FnMut()) -> f64 {
    COUNTED.with(|c| c.set(Some(0)));
    for _ in 0..n {
        f();
    }
    let total = COUNTED.with(|c| c.replace(None)).unwrap_or(0);
    total as f64 / n as f64
}

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

#[derive(Record, Serialize, Deserialize, Debug, PartialEq)]
#[record(crate = "kcodec_codecs", namespace = "kcodec.bench")]
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

#[derive(Record, Serialize, Deserialize, Debug, PartialEq)]
#[record(crate = "kcodec_codecs", namespace = "kcodec.bench")]
struct Address {
    street: String,
    city: String,
    zip: String,
}

#[derive(Record, Serialize, Deserialize, Debug, PartialEq)]
#[record(crate = "kcodec_codecs", namespace = "kcodec.bench")]
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
    let per_message = per_call(n, || {
        out.clear();
        let mut ctx = SerializeContext::new("orders", Target::Value, &mut headers);
        let _ = ser.serialize(&value, &mut ctx, &mut out).unwrap();
    });
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
    let per_decode = per_call(n, || {
        let back = de.deserialize(Some(&frame), &ctx).unwrap();
        std::hint::black_box(back);
    });
    // The value itself owns 9 strings and one Vec: 10 allocations, and decoding adds none.
    println!("allocations per decoded message: {per_decode}");
    assert!(per_decode <= 10.0, "{per_decode} allocations per decode");
}

/// `Address` borrowing its strings from the frame.
#[derive(Deserialize, Debug, PartialEq)]
struct AddressRef<'a> {
    street: &'a str,
    city: &'a str,
    zip: &'a str,
}

#[test]
fn derived_code_allocates_only_the_value() {
    let registry = Arc::new(kcodec_registry::InMemoryRegistry::new());
    let ser = AvroSerializer::<Order>::for_record(registry.clone()).unwrap();
    ser.preload("orders", Target::Value, SchemaId::Id(1))
        .unwrap();
    let de = AvroDeserializer::<Order>::for_record(registry).unwrap();
    de.preload(SchemaId::Id(1), ser.schema().clone()).unwrap();
    let value = order();
    let mut headers = Headers::new();
    let mut out = BytesMut::with_capacity(4096);
    let mut encode = || {
        out.clear();
        let mut ctx = SerializeContext::new("orders", Target::Value, &mut headers);
        let _ = ser.serialize(&value, &mut ctx, &mut out).unwrap();
    };
    encode();
    let per_encode = per_call(1000, encode);
    println!("allocations per derived encode: {per_encode}");
    assert_eq!(per_encode, 0.0);

    let frame = {
        let mut headers = Headers::new();
        let mut ctx = SerializeContext::new("orders", Target::Value, &mut headers);
        let mut out = BytesMut::new();
        let _ = ser.serialize(&value, &mut ctx, &mut out).unwrap();
        out.freeze()
    };
    let headers = Headers::new();
    let ctx = DeserializeContext::new("orders", Target::Value, &headers);
    assert_eq!(de.deserialize(Some(&frame), &ctx).unwrap(), value);
    let per_decode = per_call(1000, || {
        std::hint::black_box(de.deserialize(Some(&frame), &ctx).unwrap());
    });
    // Exactly the value's 9 strings and its one Vec.
    println!("allocations per derived decode: {per_decode}");
    assert_eq!(per_decode, 10.0);
}

#[test]
fn borrowed_decode_allocates_nothing() {
    let registry = Arc::new(kcodec_registry::InMemoryRegistry::new());
    let de = AvroDeserializer::<Address>::for_record(registry).unwrap();
    de.preload(
        SchemaId::Id(2),
        ParsedSchema::parse(
            r#"{"type":"record","name":"Address","namespace":"kcodec.bench","fields":[
            {"name":"street","type":"string"},{"name":"city","type":"string"},
            {"name":"zip","type":"string"}]}"#,
        )
        .unwrap(),
    )
    .unwrap();
    let mut frame = vec![0, 0, 0, 0, 2];
    for s in ["1 Main Street", "Springfield", "12345"] {
        frame.push((s.len() * 2) as u8);
        frame.extend_from_slice(s.as_bytes());
    }
    let headers = Headers::new();
    let ctx = DeserializeContext::new("addresses", Target::Value, &headers);
    let address: AddressRef<'_> = de.deserialize_borrowed(Some(&frame), &ctx).unwrap();
    assert_eq!(address.city, "Springfield");
    let per_decode = per_call(1000, || {
        let a: AddressRef<'_> = de.deserialize_borrowed(Some(&frame), &ctx).unwrap();
        std::hint::black_box(a);
    });
    println!("allocations per borrowed decode: {per_decode}");
    assert_eq!(per_decode, 0.0);
}

// `Order` as a derived record borrowing its strings from the frame (the same schema).
#[derive(Record, Serialize, Debug, PartialEq)]
#[record(crate = "kcodec_codecs", namespace = "kcodec.bench", name = "Order")]
struct OrderView<'a> {
    id: &'a str,
    customer_id: i64,
    sku: &'a str,
    quantity: i32,
    amount_cents: i64,
    currency: std::borrow::Cow<'a, str>,
    shipping: AddressView<'a>,
    lines: Vec<LineView<'a>>,
    coupon: Option<&'a str>,
    created_at: i64,
}

#[derive(Record, Serialize, Debug, PartialEq)]
#[record(crate = "kcodec_codecs", namespace = "kcodec.bench", name = "Address")]
struct AddressView<'a> {
    street: &'a str,
    city: &'a str,
    zip: &'a str,
}

#[derive(Record, Serialize, Debug, PartialEq)]
#[record(crate = "kcodec_codecs", namespace = "kcodec.bench", name = "Line")]
struct LineView<'a> {
    sku: &'a str,
    qty: i32,
    price_cents: i64,
}

#[test]
fn a_derived_borrowed_record_decodes_with_no_allocation() {
    let registry = Arc::new(kcodec_registry::InMemoryRegistry::new());
    let ser = AvroSerializer::<Order>::for_record(registry.clone()).unwrap();
    ser.preload("orders", Target::Value, SchemaId::Id(1))
        .unwrap();
    let value = order();
    let frame = {
        let mut headers = Headers::new();
        let mut ctx = SerializeContext::new("orders", Target::Value, &mut headers);
        let mut out = BytesMut::new();
        let _ = ser.serialize(&value, &mut ctx, &mut out).unwrap();
        out.freeze()
    };
    // The writer schema is `Order`'s, which is `OrderView`'s too (same names and fields).
    let de = AvroDeserializer::<()>::new(registry);
    de.preload(SchemaId::Id(1), ser.schema().clone()).unwrap();
    assert_eq!(
        OrderView::avro_schema().parsed(),
        Order::avro_schema().parsed()
    );
    let headers = Headers::new();
    let ctx = DeserializeContext::new("orders", Target::Value, &headers);
    let view: OrderView<'_> = de.deserialize_record(Some(&frame), &ctx).unwrap();
    assert_eq!((view.id, view.shipping.city), ("ord-000123", "Springfield"));
    assert_eq!(view.lines[1].sku, "SKU-7");
    let per_decode = per_call(1000, || {
        let v: OrderView<'_> = de.deserialize_record(Some(&frame), &ctx).unwrap();
        std::hint::black_box(v);
    });
    // Only the `Vec` of lines.
    println!("allocations per derived borrowed Order decode: {per_decode}");
    assert_eq!(per_decode, 1.0);
    // A record of borrowed fields and nothing else: no allocation at all.
    de.preload(SchemaId::Id(2), AddressView::avro_schema().parsed().clone())
        .unwrap();
    let mut frame = BytesMut::from(&[0u8, 0, 0, 0, 2][..]);
    kcodec_codecs::avro::raw::encode(&value.shipping, &mut frame).unwrap();
    let a: AddressView<'_> = de.deserialize_record(Some(&frame), &ctx).unwrap();
    assert_eq!(a.zip, "12345");
    let per_decode = per_call(1000, || {
        let a: AddressView<'_> = de.deserialize_record(Some(&frame), &ctx).unwrap();
        std::hint::black_box(a);
    });
    println!("allocations per derived borrowed Address decode: {per_decode}");
    assert_eq!(per_decode, 0.0);
}
