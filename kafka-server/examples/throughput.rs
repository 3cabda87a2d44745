//! Records/s produced and consumed through rdkafka over loopback (100-byte values), against the
//! front end, librdkafka's mock cluster, and any broker given as the first argument
//! (`cargo run --release -p kcodec-kafka-server --example throughput -- [BOOTSTRAP]`).

use kcodec_broker::{Cluster, NewTopic};
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{Offset, TopicPartitionList};
use std::time::{Duration, Instant};

const RECORDS: usize = 500_000;

/// Produces `RECORDS` 100-byte values to partition 0 of `topic`, then consumes them; returns
/// (produced/s, consumed/s).
fn run(bootstrap: &str, topic: &str) -> (f64, f64) {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("linger.ms", "5")
        .set("queue.buffering.max.messages", "1000000")
        .create()
        .unwrap();
    let value = [b'x'; 100];
    let start = Instant::now();
    for i in 0..RECORDS {
        let key = (i % 1000).to_string();
        loop {
            match producer.send(
                BaseRecord::to(topic)
                    .key(&key)
                    .payload(&value[..])
                    .partition(0),
            ) {
                Ok(()) => break,
                Err((_, _)) => {
                    producer.poll(Duration::from_millis(1));
                }
            }
        }
    }
    producer.flush(Duration::from_secs(120)).unwrap();
    let produced = RECORDS as f64 / start.elapsed().as_secs_f64();

    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "throughput")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, Offset::Beginning)
        .unwrap();
    consumer.assign(&tpl).unwrap();
    let start = Instant::now();
    let mut n = 0;
    while n < RECORDS {
        if let Some(m) = consumer.poll(Duration::from_secs(10)) {
            m.unwrap();
            n += 1;
        } else {
            panic!("stalled after {n} records");
        }
    }
    let consumed = RECORDS as f64 / start.elapsed().as_secs_f64();
    (produced, consumed)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let cluster = Cluster::new();
    cluster.create_topic(NewTopic::new("bench", 1, 1)).unwrap();
    let server = rt
        .block_on(kcodec_kafka_server::serve(&cluster, "127.0.0.1:0"))
        .unwrap();
    let (p, c) = run(&server.bootstrap(), "bench");
    println!(
        "kcodec-kafka-server: {p:.0} produced/s, {c:.0} consumed/s ({RECORDS} records, 100-byte values)"
    );

    let mock = MockCluster::new(1).unwrap();
    mock.create_topic("bench", 1, 1).unwrap();
    let (p, c) = run(&mock.bootstrap_servers(), "bench");
    println!("librdkafka mock cluster: {p:.0} produced/s, {c:.0} consumed/s");

    if let Some(other) = std::env::args().nth(1) {
        let (p, c) = run(&other, "bench");
        println!("{other}: {p:.0} produced/s, {c:.0} consumed/s");
    }
}
