//! Records/s produced and consumed through rdkafka over loopback (100-byte values, keyed, one
//! partition), against the front end served in-process, librdkafka's mock cluster, and any
//! broker given as an argument (tansu, `kcodec dev`):
//!
//! ```text
//! cargo run --release -p kcodec-kafka-server --example throughput -- [--only] [BOOTSTRAP ...]
//! ```
//!
//! `THROUGHPUT_RECORDS` sets the record count (default 500 000); `--only` skips the in-process
//! brokers. Each run creates its own topic through the admin API, so one external broker can be
//! measured several times.

use kcodec_broker::{Cluster, NewTopic as BrokerTopic};
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{Offset, TopicPartitionList};
use std::time::{Duration, Instant};

/// Records of this workload that librdkafka's mock cluster keeps: it deletes a partition's
/// oldest message sets beyond 5 MB (`rd_kafka_mock_partition_log_append`), about 40 000 of
/// these records.
const MOCK_KEEPS: usize = 30_000;

fn records() -> usize {
    std::env::var("THROUGHPUT_RECORDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(500_000)
}

/// Produces `n` 100-byte values to partition 0 of `topic`, then consumes them from the start;
/// returns (produced/s, consumed/s).
fn run(bootstrap: &str, topic: &str, n: usize) -> (f64, f64) {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("linger.ms", "5")
        .set("queue.buffering.max.messages", "1000000")
        .create()
        .unwrap();
    let value = [b'x'; 100];
    let start = Instant::now();
    for i in 0..n {
        let key = (i % 1000).to_string();
        let mut record = BaseRecord::to(topic)
            .key(&key)
            .payload(&value[..])
            .partition(0);
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((_, back)) => {
                    record = back;
                    producer.poll(Duration::from_millis(1));
                }
            }
        }
    }
    producer.flush(Duration::from_secs(300)).unwrap();
    let produced = n as f64 / start.elapsed().as_secs_f64();

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
    let mut got = 0;
    while got < n {
        match consumer.poll(Duration::from_secs(30)) {
            Some(m) => {
                m.unwrap();
                got += 1;
            }
            None => panic!("{bootstrap}: stalled after {got} records"),
        }
    }
    let consumed = n as f64 / start.elapsed().as_secs_f64();
    (produced, consumed)
}

/// Creates a one-partition topic on an external broker through the admin API.
fn create_topic(bootstrap: &str, topic: &str, rt: &tokio::runtime::Runtime) {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .unwrap();
    let created = rt
        .block_on(admin.create_topics(
            &[NewTopic::new(topic, 1, TopicReplication::Fixed(1))],
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(30))),
        ))
        .unwrap();
    for r in created {
        r.unwrap_or_else(|(t, e)| panic!("{bootstrap}: creating {t}: {e}"));
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let n = records();
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let only = args.first().is_some_and(|a| a == "--only");
    if only {
        args.remove(0);
    }
    if !only {
        let cluster = Cluster::new();
        cluster
            .create_topic(BrokerTopic::new("bench", 1, 1))
            .unwrap();
        let server = rt
            .block_on(kcodec_kafka_server::serve(&cluster, "127.0.0.1:0"))
            .unwrap();
        let (p, c) = run(&server.bootstrap(), "bench", n);
        println!(
            "kcodec-kafka-server (in-process): {p:.0} produced/s, {c:.0} consumed/s ({n} records, 100-byte values)"
        );

        if n <= MOCK_KEEPS {
            let mock = MockCluster::new(1).unwrap();
            mock.create_topic("bench", 1, 1).unwrap();
            let (p, c) = run(&mock.bootstrap_servers(), "bench", n);
            println!("librdkafka mock cluster (in-process): {p:.0} produced/s, {c:.0} consumed/s");
        } else {
            println!(
                "librdkafka mock cluster: skipped (it keeps about 5 MB per partition, so the first \
                 of {n} records are deleted before they are consumed; use THROUGHPUT_RECORDS={MOCK_KEEPS})"
            );
        }
    }
    for (i, other) in args.iter().enumerate() {
        let topic = format!("bench-{}-{i}", std::process::id());
        create_topic(other, &topic, &rt);
        let (p, c) = run(other, &topic, n);
        println!("{other}: {p:.0} produced/s, {c:.0} consumed/s ({n} records)");
    }
}
