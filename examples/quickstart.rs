//! kcodec quickstart: Kafka's first steps — a cluster, a topic, typed producers and a consumer
//! group — on the in-memory broker, with no Kafka, no Java and no set-up.
//!
//! Run it with `cargo run --example quickstart`.
//!
//! The same `Producer` and `Consumer` run over rdkafka (feature `rdkafka`); see
//! `examples/rdkafka_producer.rs` and `examples/rdkafka_consumer.rs`.

use kcodec::avro::{AvroDeserializer, AvroSerializer};
use kcodec::broker::{
    Cluster, ConsumerConfig, NewTopic, OffsetReset, ProducerConfig, format_lag_table, partitioner,
};
use kcodec::clients::{RebalanceEvent, TopicPartition};
use kcodec::prelude::*;
use kcodec::registry::{InMemoryRegistry, SchemaRegistry};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::error::Error;
use std::sync::Arc;
use std::time::Duration;

// An order. `#[derive(Record)]` gives it an Avro schema, a key (the customer) and a topic.
// (Doc comments on the struct and its fields would become the schema's "doc" attributes.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[record(namespace = "shop", topic = "orders")]
struct Order {
    // Who ordered: the record key, so one customer's orders stay in order.
    #[record(key)]
    customer: String,
    id: i64,
    item: String,
    amount_cents: i64,
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn step(n: u32, title: &str) {
    println!("\n== {n}. {title}\n");
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    println!("kcodec quickstart: Kafka's basics on an in-memory broker (no Kafka needed)");

    step(1, "Start a cluster of 3 brokers");
    let cluster = Cluster::builder().brokers(3).build();
    println!(
        "A Kafka cluster is a set of brokers. This one has {} (ids 0..2), in memory.",
        cluster.brokers()
    );

    step(
        2,
        "Create the topic `orders`: 3 partitions, replication factor 3",
    );
    println!(
        "$ kafka-topics --bootstrap-server localhost:9092 --create --topic orders --partitions 3 --replication-factor 3"
    );
    cluster.create_topic(NewTopic::new("orders", 3, 3))?;
    let topic = cluster.describe_topic("orders")?;
    println!("Created topic orders.");
    for p in &topic.partitions {
        println!(
            "  Topic: orders  Partition: {}  Leader: {}  Replicas: {:?}  Isr: {:?}",
            p.partition, p.leader, p.replicas, p.isr
        );
    }
    println!("Each partition is copied to 3 brokers (one leader, two followers). With only 3");
    println!("brokers, a replication factor of 4 is impossible:");
    println!(
        "$ kafka-topics ... --create --topic orders-rf4 --partitions 3 --replication-factor 4"
    );
    match cluster.create_topic(NewTopic::new("orders-rf4", 3, 4)) {
        Err(e) => println!("Error: {e}"),
        Ok(()) => return Err("a replication factor above the broker count was accepted".into()),
    }

    step(
        3,
        "Produce typed orders: string keys, Avro values, a schema registry",
    );
    println!("Brokers store only bytes. A serializer turns the key and the value into bytes; a");
    println!("deserializer turns them back. Keys: UTF-8 strings (Java's StringSerializer).");
    println!(
        "Values: Avro in the Confluent wire format, the schema registered once in a registry."
    );
    let registry = Arc::new(InMemoryRegistry::new());
    println!(
        "\nThe Avro schema derived from `struct Order`:\n  {}",
        Order::avro_schema().json()
    );
    let producer = Producer::new(
        // A fixed seed makes the keyless placement below the same on every run.
        MemoryProducer::with_config(&cluster, ProducerConfig::default().seed(7)),
        StringSerde,
        // `for_record`: the writer schema is the one `#[derive(Record)]` made for `Order`.
        AvroSerializer::<Order>::for_record(registry.clone())?,
    );

    let items = [
        ("alice", "book", 1250),
        ("bob", "lamp", 3999),
        ("carol", "pen", 199),
        ("alice", "mug", 850),
        ("dave", "chair", 8900),
        ("bob", "bulb", 499),
        ("alice", "poster", 1500),
        ("carol", "ink", 650),
        ("dave", "desk", 24900),
    ];
    println!(
        "\nSending 9 orders with `producer.send_record(&order)` (topic and key from the type):"
    );
    println!(
        "  {:<6} {:<8} {:>9} {:>6}",
        "KEY", "ITEM", "PARTITION", "OFFSET"
    );
    let mut placed: BTreeMap<String, i32> = BTreeMap::new();
    for (n, (customer, item, amount_cents)) in items.iter().enumerate() {
        let order = Order {
            customer: customer.to_string(),
            id: 1001 + n as i64,
            item: item.to_string(),
            amount_cents: *amount_cents,
        };
        let md = producer.send_record(&order).await?;
        placed.insert(customer.to_string(), md.partition);
        println!(
            "  {:<6} {:<8} {:>9} {:>6}",
            customer, item, md.partition, md.offset
        );
    }
    let subjects = registry.subjects(false).await?;
    println!(
        "\nThe first send registered the schema: subjects {subjects:?}; later sends reused it."
    );
    let first = &cluster.records(&kcodec::broker::TopicPartition::new(
        "orders",
        placed["alice"],
    ))?[0];
    let value = first.value.as_deref().unwrap_or_default();
    println!("alice's first order as stored, key then value bytes:");
    println!(
        "  key   {}  (\"alice\" in UTF-8)",
        hex(first.key.as_deref().unwrap_or_default())
    );
    println!("  value {}", hex(value));
    println!(
        "        ^^ magic byte 0, then the schema id {} (4 bytes), then the Avro body",
        u32::from_be_bytes(value[1..5].try_into()?)
    );

    step(4, "Same key, same partition, in order");
    println!("The partition of a keyed record is murmur2(key) % partitions, as in Kafka's Java");
    println!("client, so every order of one customer lands in one partition:");
    for (customer, partition) in &placed {
        println!(
            "  {customer:<6} -> partition {partition}  (murmur2 says {})",
            partitioner::partition_for_key(customer.as_bytes(), 3)
        );
    }
    println!("Kafka keeps order within a partition only. Reading each partition from the start");
    println!("(`kafka-console-consumer --from-beginning --property print.key=true`):");
    let mut reader: Consumer<String, Order, _> = Consumer::new(
        MemoryConsumer::new(&cluster, ConsumerConfig::without_group())?,
        StringSerde,
        // `for_record`: values written with another version of the schema are resolved into
        // `Order`'s (fields added since take their `#[record(default = ...)]`).
        AvroDeserializer::<Order>::for_record(registry.clone())?,
    );
    for p in 0..3 {
        reader.assign(&[TopicPartition::new("orders", p)])?;
        reader.seek(&TopicPartition::new("orders", p), 0)?;
        let mut line = Vec::new();
        while let Some(r) = reader.poll(Duration::from_millis(50)).await? {
            line.push(format!("{}:#{} {}", r.key, r.value.id, r.value.item));
        }
        println!(
            "  partition {p}: {}",
            if line.is_empty() {
                "(empty)".into()
            } else {
                line.join(", ")
            }
        );
    }
    println!("alice's book, mug and poster come back in the order they were sent.");

    step(5, "Records without a key stick to a partition");
    println!("Since Kafka 2.4 (KIP-480, refined by KIP-794 in 3.3) a keyless record is not sent");
    println!(
        "round-robin: the producer sticks to one partition until a batch is full, then moves."
    );
    let mut keyless = Vec::new();
    for n in 0..6 {
        let order = Order {
            customer: "walk-in".into(),
            id: 2001 + n,
            item: "coffee".into(),
            amount_cents: 300,
        };
        let md = producer
            .send(ProducerRecord::<String, _>::new("orders", order))
            .await?;
        keyless.push(md.partition);
    }
    println!("  6 keyless orders went to partitions {keyless:?}");

    step(6, "A consumer group of two members splits the partitions");
    println!(
        "$ kafka-console-consumer --bootstrap-server localhost:9092 --topic orders --group billing"
    );
    println!(
        "Every consumer belongs to a group; each partition is read by one member of the group."
    );
    println!("(Keys are read as Option<String>: the keyless orders have a null key.)");
    fn show(tps: &[TopicPartition]) -> String {
        tps.iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
    let member = |name: &'static str| -> Result<Consumer<Option<String>, Order, MemoryConsumer>, Box<dyn Error>> {
        let config = ConsumerConfig::new("billing")
            .client_id(name)
            .auto_offset_reset(OffsetReset::Earliest)
            .enable_auto_commit(false);
        let mut c = Consumer::builder(
            MemoryConsumer::new(&cluster, config)?,
            StringSerde,
            AvroDeserializer::<Order>::for_record(registry.clone())?,
        )
        .on_rebalance(move |event| match event {
            RebalanceEvent::Assigned(tps) => println!("  [{name}] assigned {}", show(tps)),
            RebalanceEvent::Revoked(tps) => println!("  [{name}] revoked  {}", show(tps)),
        })
        .build();
        c.subscribe(&["orders"])?;
        Ok(c)
    };
    println!("billing-1 joins alone and gets every partition:");
    let mut one = member("billing-1")?;
    let mut alone = 0;
    while one.poll(Duration::from_millis(100)).await?.is_some() {
        alone += 1;
    }
    println!("  billing-1 read {alone} records (and committed nothing).");
    println!("billing-2 joins: the group rebalances and the partitions are split:");
    let mut two = member("billing-2")?;
    let mut read = [0usize; 2];
    let mut quiet = 0;
    while quiet < 3 {
        let mut got = false;
        while one.poll(Duration::from_millis(20)).await?.is_some() {
            read[0] += 1;
            got = true;
        }
        while two.poll(Duration::from_millis(20)).await?.is_some() {
            read[1] += 1;
            got = true;
        }
        let settled = !one.assignment()?.is_empty() && !two.assignment()?.is_empty();
        quiet = if settled && !got { quiet + 1 } else { 0 };
    }
    println!(
        "  billing-1 now reads {} and read {} records",
        show(&one.assignment()?),
        read[0]
    );
    println!(
        "  billing-2 now reads {} and read {} records",
        show(&two.assignment()?),
        read[1]
    );
    println!("Nothing was committed before the rebalance, so the group started over from the");
    println!("earliest offsets: records are delivered at least once. Committing often avoids it.");

    step(7, "Offsets and lag, before and after a commit");
    println!("CURRENT-OFFSET: where the group will resume (the committed offset).");
    println!("LOG-END-OFFSET: the offset the next record produced will get.");
    println!("LAG = LOG-END-OFFSET - CURRENT-OFFSET: records the group has not confirmed yet.");
    println!(
        "\n$ kafka-consumer-groups --bootstrap-server localhost:9092 --describe --group billing"
    );
    println!("Nothing committed yet:\n");
    print!(
        "{}",
        format_lag_table(&cluster.describe_group_offsets("billing")?)
    );
    one.commit().await?;
    two.commit().await?;
    println!("\nAfter both members commit what they read:\n");
    print!(
        "{}",
        format_lag_table(&cluster.describe_group_offsets("billing")?)
    );
    for n in 0..3 {
        let order = Order {
            customer: "erin".into(),
            id: 3001 + n,
            item: "stamp".into(),
            amount_cents: 100,
        };
        producer.send_record(&order).await?;
    }
    println!("\nerin orders 3 more stamps; the group has not read them yet:\n");
    print!(
        "{}",
        format_lag_table(&cluster.describe_group_offsets("billing")?)
    );

    println!("\nBoth members leave the group (`close`); their partitions are revoked:");
    two.close().await?;
    one.close().await?;

    println!(
        "\nDone. Next: the same walk with Kafka's console tools, `cargo run -p kcodec-cli -- dev --brokers 3` \
         (README, \"Console tools\"), or against a real Kafka: \
         `cargo run --example rdkafka_producer --features rdkafka -- --bootstrap-server localhost:9092 --topic orders`"
    );
    Ok(())
}
