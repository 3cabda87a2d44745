//! Interop with kcat (Debian's package, on Debian's librdkafka 2.0.2): metadata, produce and
//! consume from the command line.

use kcodec_broker::{Cluster, NewTopic, TopicPartition};
use std::io::Write;
use std::process::{Command, Stdio};

/// `kcat`, or `None` after saying so, unless `KCODEC_REQUIRE_KCAT=1` (CI installs it), which
/// makes its absence a failure.
fn kcat() -> Option<&'static str> {
    if Command::new("kcat")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return Some("kcat");
    }
    if std::env::var("KCODEC_REQUIRE_KCAT").as_deref() == Ok("1") {
        panic!("KCODEC_REQUIRE_KCAT=1 but no kcat (apt-get install -y kcat)");
    }
    println!("skipped: no kcat (apt-get install -y kcat)");
    None
}

fn run(args: &[&str], stdin: &str) -> String {
    let mut child = Command::new("kcat")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "kcat {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// kcat lists the brokers and the topic's partitions (`-L`), produces keyed lines with the
/// Java client's partitioner (`-P -K: -X partitioner=murmur2_random`: each key on the
/// partition the broker's murmur2 gives it) and consumes them back to the end (`-C -e`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kcat_lists_metadata_produces_and_consumes() {
    let Some(_) = kcat() else { return };
    let cluster = Cluster::builder().brokers(2).build();
    cluster.create_topic(NewTopic::new("lines", 3, 2)).unwrap();
    let server = kcodec_kafka_server::serve(&cluster, "127.0.0.1:0")
        .await
        .unwrap();
    let b = server.bootstrap();
    let out = tokio::task::spawn_blocking(move || {
        let metadata = run(&["-b", &b, "-L", "-t", "lines"], "");
        let input: String = (0..12).map(|i| format!("key-{i}:line {i}\n")).collect();
        run(
            &[
                "-b",
                &b,
                "-P",
                "-t",
                "lines",
                "-K:",
                "-X",
                "partitioner=murmur2_random",
            ],
            &input,
        );
        let consumed = run(
            &[
                "-b",
                &b,
                "-C",
                "-t",
                "lines",
                "-o",
                "beginning",
                "-e",
                "-f",
                "%p %k %s\\n",
            ],
            "",
        );
        (metadata, consumed)
    })
    .await
    .unwrap();
    let (metadata, consumed) = out;
    assert!(metadata.contains(" 2 brokers:"), "{metadata}");
    assert!(
        metadata.contains("topic \"lines\" with 3 partitions:"),
        "{metadata}"
    );
    let mut lines: Vec<&str> = consumed.lines().collect();
    lines.sort();
    assert_eq!(lines.len(), 12, "{consumed}");
    for i in 0..12 {
        let key = format!("key-{i}");
        let p = kcodec_broker::partitioner::partition_for_key(key.as_bytes(), 3);
        let expected = format!("{p} {key} line {i}");
        assert!(
            lines.contains(&expected.as_str()),
            "{expected} in {consumed}"
        );
        let stored = cluster.records(&TopicPartition::new("lines", p)).unwrap();
        assert!(
            stored
                .iter()
                .any(|r| r.key.as_deref() == Some(key.as_bytes()))
        );
    }
    server.shutdown().await;
}
