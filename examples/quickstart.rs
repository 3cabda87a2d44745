//! kcodec quickstart: turn a typed key and value into the bytes Kafka stores, and back.
//!
//! Run it with `cargo run --example quickstart`. No Kafka needed.

use kcodec::prelude::*;
use kcodec::wire::{self, SchemaId};
use serde::{Deserialize, Serialize};

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Order {
    id: String,
    amount_cents: i64,
    currency: String,
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Serializes `value` as the key or value of a record for `topic`; `None` for a null.
fn encode<T: ?Sized>(
    serde: &impl Serializer<T>,
    topic: &str,
    target: Target,
    value: &T,
    headers: &mut Headers,
    buf: &mut BytesMut,
) -> Result<Option<Bytes>, kcodec::Error> {
    let mut ctx = SerializeContext::new(topic, target, headers);
    Ok(match serde.serialize(value, &mut ctx, buf)? {
        Serialized::Data => Some(buf.split().freeze()),
        Serialized::Null => None,
    })
}

fn main() -> Result<(), kcodec::Error> {
    let topic = "orders";
    let order = Order {
        id: "order-1".into(),
        amount_cents: 1250,
        currency: "EUR".into(),
    };

    // One buffer per producer, reused for every record.
    let mut buf = BytesMut::with_capacity(256);
    let mut headers = Headers::new();

    // The key: a string, UTF-8, exactly as Kafka's StringSerializer writes it.
    let key = encode(
        &StringSerde,
        topic,
        Target::Key,
        order.id.as_str(),
        &mut headers,
        &mut buf,
    )?
    .expect("a string is never null");
    println!("key   {:<8} -> {}", "string", hex(&key));

    // The value: JSON with serde_json.
    let value = encode(
        &JsonSerde,
        topic,
        Target::Value,
        &order,
        &mut headers,
        &mut buf,
    )?
    .expect("an order is never null");
    println!("value {:<8} -> {}", "json", String::from_utf8_lossy(&value));

    // Java's built-ins: big-endian numbers, UUIDs as text, lists with Java's layout.
    let long = encode(
        &I64Serde,
        topic,
        Target::Value,
        &order.amount_cents,
        &mut headers,
        &mut buf,
    )?;
    println!("value {:<8} -> {}", "long", hex(&long.unwrap_or_default()));
    let list = ListSerde::new(I32Serde);
    let ints = vec![Some(1), None, Some(3)];
    let ints = encode(&list, topic, Target::Value, &ints, &mut headers, &mut buf)?;
    println!(
        "value {:<9} -> {}",
        "list<int>",
        hex(&ints.unwrap_or_default())
    );

    // A tombstone: None is a null value.
    let tombstone = encode(
        &JsonSerde,
        topic,
        Target::Value,
        &None::<Order>,
        &mut headers,
        &mut buf,
    )?;
    println!(
        "value {:<8} -> {tombstone:?} (a null value: a tombstone)",
        "None"
    );

    // The Confluent wire format that schema codecs put in front of their payload.
    wire::write_prefix(&mut buf, SchemaId::Id(1));
    wire::write_message_indexes(&mut buf, &[0]);
    println!(
        "frame {:<8} -> {} (magic, schema id 1, message index [0])",
        "prefix",
        hex(&buf.split())
    );

    // And back.
    let de = DeserializeContext::new(topic, Target::Key, &headers);
    let id: String = StringSerde.deserialize_bytes(Some(&key), &de)?;
    let de = DeserializeContext::new(topic, Target::Value, &headers);
    let back: Order = JsonSerde.deserialize_bytes(Some(&value), &de)?;
    assert_eq!(back, order);
    println!("decoded key {id:?} and value {back:?}");
    Ok(())
}
