//! Interop with Confluent's Python client (confluent-kafka, from the project's Python set-up:
//! `tools/python-env.sh`): keyed produce, manual assignment, and a consumer group of two across a
//! rebalance with both group protocols (the scripts under `tests/python/`).

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

/// A running `tests/python/group.py`: its JSON lines, one by one, and its stdin.
struct Script {
    child: std::process::Child,
    lines: tokio::sync::mpsc::UnboundedReceiver<String>,
}

impl Script {
    fn start(python: PathBuf, args: &[&str]) -> Script {
        use std::io::BufRead;
        use std::process::Stdio;
        let mut child = Command::new(python)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = tokio::sync::mpsc::unbounded_channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Script { child, lines }
    }

    /// The next JSON line, which must be the phase named; fails (with the script's exit) when the
    /// script ends first.
    async fn phase(&mut self, name: &str) -> serde_json::Value {
        let line = tokio::time::timeout(DEADLINE, self.lines.recv())
            .await
            .unwrap_or_else(|_| panic!("no {name} phase within {DEADLINE:?}"));
        let Some(line) = line else {
            let status = self.child.wait().unwrap();
            panic!("the script ended ({status}) before the {name} phase (its stderr above)");
        };
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["phase"], name, "{line}");
        v
    }

    fn say(&mut self, line: &str) {
        use std::io::Write;
        let stdin = self.child.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }
}

/// Bounds a failing wait only.
const DEADLINE: std::time::Duration = std::time::Duration::from_secs(120);

/// Partitions as a set, from a JSON array.
fn partitions(v: &serde_json::Value) -> std::collections::BTreeSet<i32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_i64().unwrap() as i32)
        .collect()
}

/// Confluent's Python client in one group of two (`tests/python/group.py`): keyed records land
/// on the broker's murmur2 partitions (Java's `BuiltInPartitioner.partitionForKey`); the first
/// member reads them and commits; the second member's join rebalances the group (each owns
/// half, and reads only its partitions, from the committed offsets: no record of the first
/// batch read again, none of the second lost or read twice); both commit, read their commits
/// back and see a lag of 0 (high watermark minus committed), which the broker's lag table
/// (`kafka-consumer-groups --describe`, `ConsumerGroupCommand`) agrees with; when one leaves,
/// the other owns every partition again.
async fn python_group_of_two(protocol: &str) {
    use kcodec_broker::group::protocol::GroupSettings;
    use kcodec_broker::{GroupState, TopicPartition};
    let Some(python) = python() else { return };
    let cluster = Cluster::builder().build();
    cluster
        .create_topic(NewTopic::new("billing", 4, 1))
        .unwrap();
    cluster.set_group_settings(GroupSettings {
        consumer_heartbeat_interval: std::time::Duration::from_millis(100),
        ..GroupSettings::default()
    });
    let server = kcodec_kafka_server::serve(&cluster, "127.0.0.1:0")
        .await
        .unwrap();
    let bootstrap = server.bootstrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/group.py");
    let mut run = Script::start(python, &[script, &bootstrap, "billing", "4", protocol]);
    let r = run.phase("committed").await;

    // each key where Java's murmur2 puts it
    let placed = |batch: &str| -> Vec<(String, i32, i64)> {
        r[batch]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| {
                let (p, o) = (v[0].as_i64().unwrap() as i32, v[1].as_i64().unwrap());
                assert_eq!(
                    p,
                    kcodec_broker::partitioner::partition_for_key(k.as_bytes(), 4),
                    "{k}"
                );
                (k.clone(), p, o)
            })
            .collect()
    };
    let (first, second) = (placed("first"), placed("second"));
    assert_eq!((first.len(), second.len()), (20, 40));
    let (a, b) = (&r["a"], &r["b"]);
    let (owned_a, owned_b) = (partitions(&a["assignment"]), partitions(&b["assignment"]));
    assert!(!owned_a.is_empty() && !owned_b.is_empty(), "{r}");
    assert!(owned_a.is_disjoint(&owned_b), "{r}");
    assert_eq!(owned_a.len() + owned_b.len(), 4, "{r}");
    for m in [a, b] {
        assert_eq!(
            m["duplicates"],
            serde_json::json!([]),
            "no record read twice"
        );
    }
    // the first batch: read by a only (b started from a's commits)
    for (k, p, o) in &first {
        assert_eq!(a["read"][k], serde_json::json!([p, o, true]), "{k}");
        assert!(b["read"].get(k).is_none(), "{k} read again by b");
    }
    // the second batch: each record read once, by the owner of its partition
    for (k, p, o) in &second {
        let (owner, other) = if owned_a.contains(p) { (a, b) } else { (b, a) };
        assert_eq!(owner["read"][k], serde_json::json!([p, o, true]), "{k}");
        assert!(other["read"].get(k).is_none(), "{k} read by both");
    }
    // commits read back, and lag as the client computes it
    for (m, owned) in [(a, &owned_a), (b, &owned_b)] {
        for p in owned {
            let end = cluster
                .end_offset(&TopicPartition::new("billing", *p))
                .unwrap();
            assert_eq!(m["committed"][p.to_string()], end, "partition {p}");
            assert_eq!(m["lag"][p.to_string()], serde_json::json!([end, 0]));
        }
    }
    // the broker's view: two members, stable, every partition owned with lag 0
    let d = cluster.describe_group("python-billing");
    assert_eq!(d.state, GroupState::Stable);
    assert_eq!(d.members.len(), 2);
    let rows = cluster.describe_group_offsets("python-billing").unwrap();
    let with_partitions: Vec<_> = rows.iter().filter(|r| r.partition.is_some()).collect();
    assert_eq!(with_partitions.len(), 4, "{rows:?}");
    for row in with_partitions {
        assert_eq!(row.lag, Some(0), "{row:?}");
        assert!(row.consumer_id.is_some(), "{row:?}");
        assert!(
            row.client_id
                .as_deref()
                .is_some_and(|c| c.starts_with("python-"))
        );
    }

    run.say("go");
    let done = run.phase("done").await;
    assert_eq!(
        partitions(&done["a"]).len(),
        4,
        "a owns every partition again"
    );
    let status = tokio::task::spawn_blocking(move || run.child.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success());
    assert_eq!(
        cluster.describe_group("python-billing").state,
        GroupState::Empty
    );
    server.shutdown().await;
}

/// The classic protocol (JoinGroup/SyncGroup, Kafka's `GroupCoordinator`): librdkafka's leader
/// computes the `range` assignment and the broker relays it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confluent_python_classic_group_of_two_rebalances_commits_and_has_no_lag() {
    python_group_of_two("classic").await;
}

/// KIP-848's consumer protocol (`group.protocol=consumer`, librdkafka ≥ 2.10;
/// `GroupMetadataManager.consumerGroupHeartbeat`): the broker's `uniform` assignor splits the
/// partitions and moves one only after its previous owner revoked it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confluent_python_consumer_protocol_group_of_two_rebalances_commits_and_has_no_lag() {
    python_group_of_two("consumer").await;
}
