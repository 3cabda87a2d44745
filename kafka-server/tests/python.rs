//! Interop with Confluent's Python client (confluent-kafka, from the project's Python set-up:
//! `tools/python-env.sh`).

use kcodec_broker::{Cluster, NewTopic};
use std::path::PathBuf;
use std::process::Command;

/// The venv's python (`KCODEC_PYTHON`, else `<root>/.venv/bin/python`), or `None` after saying
/// so, unless `KCODEC_REQUIRE_PYTHON=1` (CI), which makes a missing venv a failure.
fn python() -> Option<PathBuf> {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let candidate = std::env::var_os("KCODEC_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".venv/bin/python"));
    if candidate.exists() {
        return Some(candidate);
    }
    if std::env::var("KCODEC_REQUIRE_PYTHON").as_deref() == Ok("1") {
        panic!(
            "no python venv at {} (run tools/python-env.sh)",
            candidate.display()
        );
    }
    println!("skipped: no python venv (run tools/python-env.sh)");
    None
}

/// Confluent's Python client (an idempotent producer with `murmur2_random`, the Java client's
/// partitioner) produces keyed records with repeated headers; each lands on the partition the
/// broker's murmur2 gives its key, and a manually assigned Python consumer reads them all back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confluent_python_client_produces_on_murmur2_partitions_and_reads_back() {
    let Some(python) = python() else { return };
    let cluster = Cluster::builder().brokers(2).build();
    cluster.create_topic(NewTopic::new("py", 4, 2)).unwrap();
    let server = kcodec_kafka_server::serve(&cluster, "127.0.0.1:0")
        .await
        .unwrap();
    let bootstrap = server.bootstrap();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/python/produce_consume.py"
    );
    let output = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .args([script, &bootstrap, "py", "4", "30"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let answer: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let sent = answer["sent"].as_array().unwrap();
    assert_eq!(sent.len(), 30);
    for s in sent {
        let key = s[0].as_str().unwrap();
        assert_eq!(
            s[1].as_i64().unwrap() as i32,
            kcodec_broker::partitioner::partition_for_key(key.as_bytes(), 4),
            "{key}"
        );
    }
    let read = answer["read"].as_array().unwrap();
    assert_eq!(read.len(), 30);
    for r in read {
        let key = r[2].as_str().unwrap();
        let i: usize = key.trim_start_matches("user-").parse().unwrap();
        assert_eq!(r[3].as_str().unwrap(), format!("value {i}"));
        assert_eq!(r[4], serde_json::json!([["h", "1"], ["h", "2"]]));
        let s = sent.iter().find(|s| s[0] == key).unwrap();
        assert_eq!((&r[0], &r[1]), (&s[1], &s[2]), "read where it was sent");
    }
    let total: i64 = (0..4)
        .map(|p| {
            cluster
                .end_offset(&kcodec_broker::TopicPartition::new("py", p))
                .unwrap()
        })
        .sum();
    assert_eq!(total, 30, "each record stored once");
    server.shutdown().await;
}
