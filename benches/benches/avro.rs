//! Framed Avro on one representative record (strings, longs, a nested record, an array of
//! records, an optional, a timestamp): kcodec against raw apache-avro (its direct serde writer
//! and reader, no framing: the floor), serde_avro_fast, schema_registry_converter and
//! schema-registry-client (each with a warmed registry so only the steady state is timed), and
//! prost and serde_json on the same data for scale.
//!
//! A second record, `Invoice`, has a union of two records, a map and a decimal.
//!
//! kcodec appears three ways: `AvroSerializer::new` with the schema text (the compiled plan,
//! serde-driven), `for_record` on the `#[derive(Record)]` type (the code the derive generates,
//! used because the writer schema is the record's own), and the borrowed decode
//! (`deserialize_borrowed` into a struct of `&str`s through serde, and `deserialize_record` into
//! the same struct with `#[derive(Record)]`'s generated borrowing decode).
//!
//! Run: `cargo bench -p kcodec-benches --bench avro`

use bytes::BytesMut;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kcodec_codecs::avro::{AvroDeserializer, AvroSerializer, ParsedSchema, raw};
use kcodec_codecs::record::Decimal;
use kcodec_codecs::wire::SchemaId;
use kcodec_codecs::{
    DeserializeContext, Deserializer, Headers, SerializeContext, Serializer, Target,
};
use kcodec_derive::Record;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::io::{BufRead, BufReader, Read, Write};
use std::sync::Arc;

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

// Struct names equal the Avro record names: apache-avro's direct reader requires it. The derived
// schema is `ORDER` without the `timestamp-millis` annotation (the same bytes).
#[derive(Record, Serialize, Deserialize, Debug, PartialEq, Clone)]
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

#[derive(Record, Serialize, Deserialize, Debug, PartialEq, Clone)]
#[record(crate = "kcodec_codecs", namespace = "kcodec.bench")]
struct Address {
    street: String,
    city: String,
    zip: String,
}

#[derive(Record, Serialize, Deserialize, Debug, PartialEq, Clone)]
#[record(crate = "kcodec_codecs", namespace = "kcodec.bench")]
struct Line {
    sku: String,
    qty: i32,
    price_cents: i64,
}

/// `Order` borrowing its strings from the frame: serde's `Deserialize` (for
/// `deserialize_borrowed` and serde_avro_fast) and `#[derive(Record)]` (the same schema as
/// `Order`, for the generated borrowing decode, `deserialize_record`).
#[derive(Record, Deserialize, Debug, PartialEq)]
#[record(crate = "kcodec_codecs", namespace = "kcodec.bench", name = "Order")]
struct OrderRef<'a> {
    id: &'a str,
    customer_id: i64,
    sku: &'a str,
    quantity: i32,
    amount_cents: i64,
    currency: &'a str,
    #[serde(borrow)]
    shipping: AddressRef<'a>,
    #[serde(borrow)]
    lines: Vec<LineRef<'a>>,
    coupon: Option<&'a str>,
    created_at: i64,
}

#[derive(Record, Deserialize, Debug, PartialEq)]
#[record(crate = "kcodec_codecs", namespace = "kcodec.bench", name = "Address")]
struct AddressRef<'a> {
    street: &'a str,
    city: &'a str,
    zip: &'a str,
}

#[derive(Record, Deserialize, Debug, PartialEq)]
#[record(crate = "kcodec_codecs", namespace = "kcodec.bench", name = "Line")]
struct LineRef<'a> {
    sku: &'a str,
    qty: i32,
    price_cents: i64,
}

/// The second record: a union of two records, a map and a decimal.
#[derive(Record, Serialize, Deserialize, Debug, PartialEq, Clone)]
#[record(crate = "kcodec_codecs", namespace = "kcodec.bench")]
struct Invoice {
    id: String,
    amount: Decimal<12, 2>,
    method: Method,
    tags: BTreeMap<String, String>,
    issued_at: i64,
}

#[derive(Record, Serialize, Deserialize, Debug, PartialEq, Clone)]
#[record(crate = "kcodec_codecs", namespace = "kcodec.bench")]
enum Method {
    Card(Card),
    Transfer(Transfer),
}

#[derive(Record, Serialize, Deserialize, Debug, PartialEq, Clone)]
#[record(crate = "kcodec_codecs", namespace = "kcodec.bench")]
struct Card {
    last4: String,
    network: String,
}

#[derive(Record, Serialize, Deserialize, Debug, PartialEq, Clone)]
#[record(crate = "kcodec_codecs", namespace = "kcodec.bench")]
struct Transfer {
    iban: String,
}

/// `Invoice` for serde_avro_fast, which takes a decimal as a number and names a union's record
/// variants by their full names when reading.
#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct InvoiceFast {
    id: String,
    amount: f64,
    method: MethodFast,
    tags: BTreeMap<String, String>,
    issued_at: i64,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
enum MethodFast {
    #[serde(rename = "kcodec.bench.Card")]
    Card(Card),
    #[serde(rename = "kcodec.bench.Transfer")]
    Transfer(Transfer),
}

fn invoice() -> Invoice {
    Invoice {
        id: "inv-2026-000042".into(),
        amount: Decimal::new(1_234_599),
        method: Method::Card(Card {
            last4: "4242".into(),
            network: "VISA".into(),
        }),
        tags: [
            ("channel".to_owned(), "web".to_owned()),
            ("region".to_owned(), "eu-west".to_owned()),
            ("tier".to_owned(), "gold".to_owned()),
        ]
        .into(),
        issued_at: 1_700_000_000_000,
    }
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

/// The same record for prost (hand-written messages, prost's derive).
mod pb {
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Order {
        #[prost(string, tag = "1")]
        pub id: String,
        #[prost(int64, tag = "2")]
        pub customer_id: i64,
        #[prost(string, tag = "3")]
        pub sku: String,
        #[prost(int32, tag = "4")]
        pub quantity: i32,
        #[prost(int64, tag = "5")]
        pub amount_cents: i64,
        #[prost(string, tag = "6")]
        pub currency: String,
        #[prost(message, optional, tag = "7")]
        pub shipping: Option<Address>,
        #[prost(message, repeated, tag = "8")]
        pub lines: Vec<Line>,
        #[prost(string, optional, tag = "9")]
        pub coupon: Option<String>,
        #[prost(int64, tag = "10")]
        pub created_at: i64,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Address {
        #[prost(string, tag = "1")]
        pub street: String,
        #[prost(string, tag = "2")]
        pub city: String,
        #[prost(string, tag = "3")]
        pub zip: String,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Line {
        #[prost(string, tag = "1")]
        pub sku: String,
        #[prost(int32, tag = "2")]
        pub qty: i32,
        #[prost(int64, tag = "3")]
        pub price_cents: i64,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Invoice {
        #[prost(string, tag = "1")]
        pub id: String,
        /// The decimal's unscaled value.
        #[prost(int64, tag = "2")]
        pub amount: i64,
        #[prost(oneof = "Method", tags = "3, 4")]
        pub method: Option<Method>,
        #[prost(btree_map = "string, string", tag = "5")]
        pub tags: std::collections::BTreeMap<String, String>,
        #[prost(int64, tag = "6")]
        pub issued_at: i64,
    }
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Method {
        #[prost(message, tag = "3")]
        Card(Card),
        #[prost(message, tag = "4")]
        Transfer(Transfer),
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Card {
        #[prost(string, tag = "1")]
        pub last4: String,
        #[prost(string, tag = "2")]
        pub network: String,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Transfer {
        #[prost(string, tag = "1")]
        pub iban: String,
    }

    pub fn from_invoice(i: &super::Invoice) -> Invoice {
        Invoice {
            id: i.id.clone(),
            amount: i.amount.unscaled as i64,
            method: Some(match &i.method {
                super::Method::Card(c) => Method::Card(Card {
                    last4: c.last4.clone(),
                    network: c.network.clone(),
                }),
                super::Method::Transfer(t) => Method::Transfer(Transfer {
                    iban: t.iban.clone(),
                }),
            }),
            tags: i.tags.clone(),
            issued_at: i.issued_at,
        }
    }

    pub fn from(o: &super::Order) -> Order {
        Order {
            id: o.id.clone(),
            customer_id: o.customer_id,
            sku: o.sku.clone(),
            quantity: o.quantity,
            amount_cents: o.amount_cents,
            currency: o.currency.clone(),
            shipping: Some(Address {
                street: o.shipping.street.clone(),
                city: o.shipping.city.clone(),
                zip: o.shipping.zip.clone(),
            }),
            lines: o
                .lines
                .iter()
                .map(|l| Line {
                    sku: l.sku.clone(),
                    qty: l.qty,
                    price_cents: l.price_cents,
                })
                .collect(),
            coupon: o.coupon.clone(),
            created_at: o.created_at,
        }
    }
}

/// A loopback HTTP stub of the registry endpoints schema_registry_converter calls, to warm its
/// caches once (it has no in-memory registry). Serves id 1 = `ORDER`.
fn registry_stub() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let mut content_length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    content_length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; content_length];
            let _ = reader.read_exact(&mut body);
            let path = request_line.split_whitespace().nth(1).unwrap_or("");
            let schema = serde_json::Value::String(ORDER.to_owned());
            let response = if path.starts_with("/schemas/ids/") {
                serde_json::json!({ "schema": schema }).to_string()
            } else {
                serde_json::json!({"subject": "orders-value", "version": 1, "id": 1, "schema": schema})
                    .to_string()
            };
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.schemaregistry.v1+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
                response.len(),
                response
            );
        }
    });
    format!("http://{addr}")
}

fn bench(c: &mut Criterion) {
    let value = order();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    // kcodec: registered once (async), then the sync path.
    let registry = Arc::new(kcodec_registry::InMemoryRegistry::new());
    let schema = ParsedSchema::parse(ORDER).unwrap();
    let ser = AvroSerializer::<Order>::new(registry.clone(), schema.clone());
    let de = AvroDeserializer::<Order>::new(registry.clone());
    let frame = rt.block_on(async {
        let mut headers = Headers::new();
        let mut out = BytesMut::new();
        let mut ctx = SerializeContext::new("orders", Target::Value, &mut headers);
        let _ = kcodec_codecs::resolve::serialize(&ser, &value, &mut ctx, &mut out)
            .await
            .unwrap();
        let frame = out.freeze();
        let ctx = DeserializeContext::new("orders", Target::Value, &headers);
        let back: Order = kcodec_codecs::resolve::deserialize(&de, Some(&frame), &ctx)
            .await
            .unwrap();
        assert_eq!(back, value);
        frame
    });
    let _ = SchemaId::Id(1);

    // raw apache-avro: its direct serde writer and reader on the same schema, no framing.
    let avro_schema = apache_avro::Schema::parse_str(ORDER).unwrap();
    let writer = apache_avro::writer::datum::GenericDatumWriter::builder(&avro_schema)
        .human_readable(false)
        .build()
        .unwrap();
    let reader = apache_avro::reader::datum::GenericDatumReader::builder(&avro_schema)
        .human_readable(false)
        .build()
        .unwrap();
    let raw = writer.write_ser_to_vec(&value).unwrap();
    assert_eq!(&raw[..], &frame[5..], "same Avro bytes as kcodec's payload");
    assert_eq!(reader.read_deser::<Order>(&mut &raw[..]).unwrap(), value);

    // serde_avro_fast (unframed, like raw apache-avro).
    let fast_schema: serde_avro_fast::Schema = ORDER.parse().unwrap();
    let mut fast_config = serde_avro_fast::ser::SerializerConfig::new(&fast_schema);
    let fast = serde_avro_fast::to_datum(&value, Vec::new(), &mut fast_config).unwrap();
    assert_eq!(fast, raw);

    // schema_registry_converter: warmed through the loopback stub.
    let url = registry_stub();
    let src_settings = schema_registry_converter::async_impl::schema_registry::SrSettings::new(url);
    let src_encoder =
        schema_registry_converter::async_impl::avro::AvroEncoder::new(src_settings.clone());
    let src_decoder = schema_registry_converter::async_impl::avro::AvroDecoder::new(src_settings);
    let strategy =
        schema_registry_converter::schema_registry_common::SubjectNameStrategy::TopicNameStrategy(
            "orders".into(),
            false,
        );
    let src_frame = rt
        .block_on(src_encoder.encode_struct(&value, &strategy))
        .unwrap();
    assert_eq!(&src_frame[..], &frame[..]);
    let decoded = rt.block_on(src_decoder.decode(Some(&src_frame))).unwrap();
    assert_eq!(
        apache_avro::from_value::<Order>(&decoded.value).unwrap(),
        value
    );

    // schema-registry-client: its in-memory mock client, warmed.
    use schema_registry_client::rest::client_config::ClientConfig;
    use schema_registry_client::rest::mock_schema_registry_client::MockSchemaRegistryClient;
    use schema_registry_client::rest::schema_registry_client::Client as _;
    use schema_registry_client::serdes::avro as src2;
    use schema_registry_client::serdes::config::{DeserializerConfig, SerializerConfig};
    use schema_registry_client::serdes::serde::{SerdeFormat, SerdeType, SerializationContext};
    let src2_client = MockSchemaRegistryClient::new(ClientConfig::new(vec!["mock://".into()]));
    let src2_schema = schema_registry_client::rest::models::Schema {
        schema_type: Some("AVRO".into()),
        references: None,
        metadata: None,
        rule_set: None,
        schema: ORDER.into(),
    };
    let src2_ser = src2::AvroSerializer::new(
        &src2_client,
        Some(&src2_schema),
        None,
        SerializerConfig::default(),
    )
    .unwrap();
    let src2_de =
        src2::AvroDeserializer::new(&src2_client, None, DeserializerConfig::default()).unwrap();
    let src2_ctx = SerializationContext {
        topic: "orders".into(),
        serde_type: SerdeType::Value,
        serde_format: SerdeFormat::Avro,
        headers: None,
    };
    let src2_frame = rt
        .block_on(src2_ser.serialize_ser(&src2_ctx, &value))
        .unwrap();
    assert_eq!(&src2_frame[5..], &frame[5..]);
    let named = rt
        .block_on(src2_de.deserialize(&src2_ctx, &src2_frame))
        .unwrap();
    assert_eq!(
        apache_avro_021::from_value::<Order>(&named.value).unwrap(),
        value
    );

    let pb_value = pb::from(&value);
    let pb_bytes = prost::Message::encode_to_vec(&pb_value);
    let json_bytes = serde_json::to_vec(&value).unwrap();

    // kcodec, derived: `for_record` (the generated code, the writer schema being the record's
    // own), registered once like the others.
    let derived_ser = AvroSerializer::<Order>::for_record(registry.clone()).unwrap();
    let derived_de = AvroDeserializer::<Order>::for_record(registry.clone()).unwrap();
    assert!(raw::supported::<Order>());
    let derived_frame = rt.block_on(async {
        let mut headers = Headers::new();
        let mut out = BytesMut::new();
        let mut ctx = SerializeContext::new("orders-derived", Target::Value, &mut headers);
        let _ = kcodec_codecs::resolve::serialize(&derived_ser, &value, &mut ctx, &mut out)
            .await
            .unwrap();
        let frame = out.freeze();
        let ctx = DeserializeContext::new("orders-derived", Target::Value, &headers);
        let back: Order = kcodec_codecs::resolve::deserialize(&derived_de, Some(&frame), &ctx)
            .await
            .unwrap();
        assert_eq!(back, value);
        frame
    });
    assert_eq!(
        &derived_frame[5..],
        &raw[..],
        "the generated code writes the same bytes"
    );
    {
        let headers = Headers::new();
        let ctx = DeserializeContext::new("orders", Target::Value, &headers);
        let borrowed: OrderRef<'_> = de.deserialize_borrowed(Some(&frame[..]), &ctx).unwrap();
        assert_eq!(borrowed.shipping.city, value.shipping.city);
        let fast: OrderRef<'_> = serde_avro_fast::from_datum_slice(&raw, &fast_schema).unwrap();
        assert_eq!(fast, borrowed);
        let ctx = DeserializeContext::new("orders-derived", Target::Value, &headers);
        let derived: OrderRef<'_> = derived_de
            .deserialize_record(Some(&derived_frame[..]), &ctx)
            .unwrap();
        assert_eq!(derived, borrowed);
        assert!(std::ptr::eq(
            derived.id.as_ptr(),
            derived_frame[6..].as_ptr()
        ));
    }

    // ---------------------------------------------------------------- encode
    let mut g = c.benchmark_group("avro_encode");
    g.throughput(Throughput::Elements(1));
    g.bench_function("kcodec (framed, typed)", |b| {
        let mut headers = Headers::new();
        let mut out = BytesMut::with_capacity(512);
        b.iter(|| {
            out.clear();
            let mut ctx = SerializeContext::new("orders", Target::Value, &mut headers);
            let _ = ser
                .serialize(black_box(&value), &mut ctx, &mut out)
                .unwrap();
            black_box(&out);
        })
    });
    g.bench_function("kcodec for_record (framed, derived code)", |b| {
        let mut headers = Headers::new();
        let mut out = BytesMut::with_capacity(512);
        b.iter(|| {
            out.clear();
            let mut ctx = SerializeContext::new("orders-derived", Target::Value, &mut headers);
            let _ = derived_ser
                .serialize(black_box(&value), &mut ctx, &mut out)
                .unwrap();
            black_box(&out);
        })
    });
    g.bench_function("kcodec raw::encode (unframed, derived code)", |b| {
        let mut out = BytesMut::with_capacity(512);
        b.iter(|| {
            out.clear();
            raw::encode(black_box(&value), &mut out).unwrap();
            black_box(&out);
        })
    });
    g.bench_function("apache-avro (raw, direct serde writer)", |b| {
        let mut out = Vec::with_capacity(512);
        b.iter(|| {
            out.clear();
            writer.write_ser(&mut out, black_box(&value)).unwrap();
            black_box(&out);
        })
    });
    g.bench_function("serde_avro_fast (raw)", |b| {
        let mut buf = Vec::with_capacity(512);
        b.iter(|| {
            buf.clear();
            let out = serde_avro_fast::to_datum(
                black_box(&value),
                std::mem::take(&mut buf),
                &mut fast_config,
            )
            .unwrap();
            buf = black_box(out);
        })
    });
    g.bench_function("schema_registry_converter (framed)", |b| {
        b.iter(|| {
            black_box(
                rt.block_on(src_encoder.encode_struct(black_box(&value), &strategy))
                    .unwrap(),
            )
        })
    });
    g.bench_function("schema-registry-client (framed)", |b| {
        b.iter(|| {
            black_box(
                rt.block_on(src2_ser.serialize_ser(&src2_ctx, black_box(&value)))
                    .unwrap(),
            )
        })
    });
    g.bench_function("prost", |b| {
        let mut out = Vec::with_capacity(512);
        b.iter(|| {
            out.clear();
            prost::Message::encode(black_box(&pb_value), &mut out).unwrap();
            black_box(&out);
        })
    });
    g.bench_function("serde_json", |b| {
        let mut out = Vec::with_capacity(512);
        b.iter(|| {
            out.clear();
            serde_json::to_writer(&mut out, black_box(&value)).unwrap();
            black_box(&out);
        })
    });
    g.finish();

    // ---------------------------------------------------------------- decode
    let mut g = c.benchmark_group("avro_decode");
    g.throughput(Throughput::Elements(1));
    let headers = Headers::new();
    g.bench_function("kcodec (framed, typed)", |b| {
        let ctx = DeserializeContext::new("orders", Target::Value, &headers);
        b.iter(|| black_box(de.deserialize(Some(black_box(&frame[..])), &ctx).unwrap()))
    });
    g.bench_function("kcodec for_record (framed, derived code)", |b| {
        let ctx = DeserializeContext::new("orders-derived", Target::Value, &headers);
        b.iter(|| {
            black_box(
                derived_de
                    .deserialize(Some(black_box(&derived_frame[..])), &ctx)
                    .unwrap(),
            )
        })
    });
    g.bench_function("kcodec borrowed (framed, typed)", |b| {
        let ctx = DeserializeContext::new("orders", Target::Value, &headers);
        b.iter(|| {
            black_box(
                de.deserialize_borrowed::<OrderRef<'_>>(Some(black_box(&frame[..])), &ctx)
                    .unwrap(),
            )
        })
    });
    g.bench_function(
        "kcodec deserialize_record borrowed (framed, derived code)",
        |b| {
            let ctx = DeserializeContext::new("orders-derived", Target::Value, &headers);
            b.iter(|| {
                black_box(
                    derived_de
                        .deserialize_record::<OrderRef<'_>>(
                            Some(black_box(&derived_frame[..])),
                            &ctx,
                        )
                        .unwrap(),
                )
            })
        },
    );
    g.bench_function("serde_avro_fast borrowed (raw)", |b| {
        b.iter(|| {
            black_box(
                serde_avro_fast::from_datum_slice::<OrderRef<'_>>(black_box(&raw), &fast_schema)
                    .unwrap(),
            )
        })
    });
    g.bench_function("apache-avro (raw, direct serde reader)", |b| {
        b.iter(|| {
            black_box(
                reader
                    .read_deser::<Order>(&mut black_box(&raw[..]))
                    .unwrap(),
            )
        })
    });
    g.bench_function("serde_avro_fast (raw)", |b| {
        b.iter(|| {
            black_box(
                serde_avro_fast::from_datum_slice::<Order>(black_box(&raw), &fast_schema).unwrap(),
            )
        })
    });
    g.bench_function("schema_registry_converter (framed)", |b| {
        b.iter(|| {
            let decoded = rt
                .block_on(src_decoder.decode(Some(black_box(&src_frame))))
                .unwrap();
            black_box(apache_avro::from_value::<Order>(&decoded.value).unwrap())
        })
    });
    g.bench_function("schema-registry-client (framed)", |b| {
        b.iter(|| {
            let named = rt
                .block_on(src2_de.deserialize(&src2_ctx, black_box(&src2_frame)))
                .unwrap();
            black_box(apache_avro_021::from_value::<Order>(&named.value).unwrap())
        })
    });
    g.bench_function("prost", |b| {
        b.iter(|| {
            black_box(<pb::Order as prost::Message>::decode(black_box(&pb_bytes[..])).unwrap())
        })
    });
    g.bench_function("serde_json", |b| {
        b.iter(|| black_box(serde_json::from_slice::<Order>(black_box(&json_bytes)).unwrap()))
    });
    g.finish();

    bench_invoice(c, &rt, registry);
}

/// The second record: a union of records, a map and a decimal.
fn bench_invoice(
    c: &mut Criterion,
    rt: &tokio::runtime::Runtime,
    registry: Arc<kcodec_registry::InMemoryRegistry>,
) {
    use kcodec_codecs::record::Record as _;
    let value = invoice();
    let schema_text = Invoice::avro_schema().json();
    let schema = ParsedSchema::parse(schema_text).unwrap();
    let plan_ser = AvroSerializer::<Invoice>::new(registry.clone(), schema);
    let plan_de = AvroDeserializer::<Invoice>::new(registry.clone());
    let derived_ser = AvroSerializer::<Invoice>::for_record(registry.clone()).unwrap();
    let derived_de = AvroDeserializer::<Invoice>::for_record(registry).unwrap();
    assert!(raw::supported::<Invoice>());
    let frame = rt.block_on(async {
        let mut headers = Headers::new();
        let mut out = BytesMut::new();
        let mut ctx = SerializeContext::new("invoices", Target::Value, &mut headers);
        let _ = kcodec_codecs::resolve::serialize(&plan_ser, &value, &mut ctx, &mut out)
            .await
            .unwrap();
        let mut derived = BytesMut::new();
        let mut ctx = SerializeContext::new("invoices", Target::Value, &mut headers);
        let _ = kcodec_codecs::resolve::serialize(&derived_ser, &value, &mut ctx, &mut derived)
            .await
            .unwrap();
        assert_eq!(
            out, derived,
            "the generated code writes what the plan writes"
        );
        let frame = out.freeze();
        let ctx = DeserializeContext::new("invoices", Target::Value, &headers);
        let back: Invoice = kcodec_codecs::resolve::deserialize(&plan_de, Some(&frame), &ctx)
            .await
            .unwrap();
        assert_eq!(back, value);
        let back: Invoice = kcodec_codecs::resolve::deserialize(&derived_de, Some(&frame), &ctx)
            .await
            .unwrap();
        assert_eq!(back, value);
        frame
    });
    let payload = frame[5..].to_vec();

    let fast_schema: serde_avro_fast::Schema = schema_text.parse().unwrap();
    let mut fast_config = serde_avro_fast::ser::SerializerConfig::new(&fast_schema);
    let fast_value = InvoiceFast {
        id: value.id.clone(),
        amount: 12_345.99,
        method: match &value.method {
            Method::Card(c) => MethodFast::Card(c.clone()),
            Method::Transfer(t) => MethodFast::Transfer(t.clone()),
        },
        tags: value.tags.clone(),
        issued_at: value.issued_at,
    };
    let fast = serde_avro_fast::to_datum(&fast_value, Vec::new(), &mut fast_config).unwrap();
    assert_eq!(fast, payload, "serde_avro_fast writes the same bytes");
    assert_eq!(
        serde_avro_fast::from_datum_slice::<InvoiceFast>(&payload, &fast_schema).unwrap(),
        fast_value
    );
    let pb_value = pb::from_invoice(&value);
    let pb_bytes = prost::Message::encode_to_vec(&pb_value);

    let mut g = c.benchmark_group("avro_encode_invoice");
    g.throughput(Throughput::Elements(1));
    for (name, ser) in [
        ("kcodec (framed, typed)", &plan_ser),
        ("kcodec for_record (framed, derived code)", &derived_ser),
    ] {
        g.bench_function(name, |b| {
            let mut headers = Headers::new();
            let mut out = BytesMut::with_capacity(512);
            b.iter(|| {
                out.clear();
                let mut ctx = SerializeContext::new("invoices", Target::Value, &mut headers);
                let _ = ser
                    .serialize(black_box(&value), &mut ctx, &mut out)
                    .unwrap();
                black_box(&out);
            })
        });
    }
    g.bench_function("serde_avro_fast (raw)", |b| {
        let mut buf = Vec::with_capacity(512);
        b.iter(|| {
            buf.clear();
            let out = serde_avro_fast::to_datum(
                black_box(&fast_value),
                std::mem::take(&mut buf),
                &mut fast_config,
            )
            .unwrap();
            buf = black_box(out);
        })
    });
    g.bench_function("prost", |b| {
        let mut out = Vec::with_capacity(512);
        b.iter(|| {
            out.clear();
            prost::Message::encode(black_box(&pb_value), &mut out).unwrap();
            black_box(&out);
        })
    });
    g.finish();

    let mut g = c.benchmark_group("avro_decode_invoice");
    g.throughput(Throughput::Elements(1));
    let headers = Headers::new();
    let ctx = DeserializeContext::new("invoices", Target::Value, &headers);
    for (name, de) in [
        ("kcodec (framed, typed)", &plan_de),
        ("kcodec for_record (framed, derived code)", &derived_de),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| black_box(de.deserialize(Some(black_box(&frame[..])), &ctx).unwrap()))
        });
    }
    g.bench_function("serde_avro_fast (raw)", |b| {
        b.iter(|| {
            black_box(
                serde_avro_fast::from_datum_slice::<InvoiceFast>(black_box(&payload), &fast_schema)
                    .unwrap(),
            )
        })
    });
    g.bench_function("prost", |b| {
        b.iter(|| {
            black_box(<pb::Invoice as prost::Message>::decode(black_box(&pb_bytes[..])).unwrap())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
