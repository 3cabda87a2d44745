//! The console tools as processes against `kcodec dev`: topics, the console producer and
//! consumer with Kafka's properties, consumer group lag, formats, discovery and failures.

mod support;
use support::python;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A running `kcodec dev` with its own discovery directory; killed when dropped.
struct Dev {
    child: Child,
    bootstrap: String,
    registry: String,
    runtime: tempfile::TempDir,
}

impl Drop for Dev {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn kcodec_command(runtime: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kcodec"));
    c.env("KCODEC_RUNTIME_DIR", runtime)
        .env_remove("KCODEC_BOOTSTRAP_SERVER")
        .env_remove("KCODEC_REGISTRY_URL");
    c
}

fn dev(extra: &[&str]) -> Dev {
    let runtime = tempfile::tempdir().unwrap();
    let mut child = kcodec_command(runtime.path())
        .args(["dev", "--registry-listen", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start kcodec dev");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut field = |prefix: &str| {
        let line = lines.next().expect("a line").unwrap();
        line.strip_prefix(prefix)
            .unwrap_or_else(|| panic!("expected {prefix:?}, got {line:?}"))
            .to_owned()
    };
    let bootstrap = field("Bootstrap servers: ");
    let registry = field("Schema registry: ");
    for line in lines.by_ref() {
        if line.unwrap().starts_with("Ready") {
            break;
        }
    }
    // Keep draining stdout so the dev never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Dev {
        child,
        bootstrap,
        registry,
        runtime,
    }
}

impl Dev {
    /// Runs `kcodec ARGS --bootstrap-server <dev>` with `stdin`.
    fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--bootstrap-server", &self.bootstrap]);
        run_with(self.runtime.path(), &all, stdin)
    }

    /// Like [`Dev::run`], asserting success; stdout as text.
    fn ok(&self, args: &[&str], stdin: &str) -> String {
        let out = self.run(args, stdin);
        assert!(
            out.status.success(),
            "kcodec {args:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Like [`Dev::run`], asserting failure; stderr as text.
    fn fails(&self, args: &[&str], stdin: &str) -> String {
        let out = self.run(args, stdin);
        assert!(
            !out.status.success(),
            "kcodec {args:?} succeeded: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stderr).unwrap()
    }

    fn create(&self, topic: &str, partitions: &str) {
        assert_eq!(
            self.ok(
                &[
                    "topics",
                    "create",
                    "--topic",
                    topic,
                    "--partitions",
                    partitions
                ],
                ""
            ),
            format!(
                "{}Created topic {topic}.\n",
                if topic.contains(['.', '_']) {
                    COLLISION_WARNING
                } else {
                    ""
                }
            )
        );
    }
}

fn run_with(runtime: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = kcodec_command(runtime)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kcodec");
    let mut input = child.stdin.take().unwrap();
    let text = stdin.to_owned();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(text.as_bytes());
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

/// The `groups describe` table: (partition → (current, log-end, lag)) for `topic`.
fn lag(dev: &Dev, group: &str, topic: &str) -> BTreeMap<i32, (String, String, String)> {
    let out = dev.ok(&["groups", "describe", "--group", group], "");
    let mut lines = out.lines().skip_while(|l| l.is_empty());
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        [
            "GROUP",
            "TOPIC",
            "PARTITION",
            "CURRENT-OFFSET",
            "LOG-END-OFFSET",
            "LAG",
            "CONSUMER-ID",
            "HOST",
            "CLIENT-ID"
        ]
    );
    lines
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|cols| cols[1] == topic)
        .map(|cols| {
            assert_eq!(cols[0], group);
            assert_eq!(&cols[6..], ["-", "-", "-"]);
            (
                cols[2].parse().unwrap(),
                (cols[3].to_owned(), cols[4].to_owned(), cols[5].to_owned()),
            )
        })
        .collect()
}

#[test]
fn topics_create_list_describe_with_kafkas_messages() {
    let dev = dev(&[]);
    dev.create("orders", "3");
    let e = dev.fails(
        &[
            "topics",
            "create",
            "--topic",
            "wide",
            "--partitions",
            "3",
            "--replication-factor",
            "3",
        ],
        "",
    );
    assert_eq!(
        e,
        "error: Unable to replicate the partition 3 time(s): The target replication factor of 3 cannot be reached because only 1 broker(s) are registered.\n"
    );
    let e = dev.fails(
        &["topics", "create", "--topic", "orders", "--partitions", "1"],
        "",
    );
    assert_eq!(e, "error: Topic 'orders' already exists.\n");
    dev.ok(
        &[
            "topics",
            "create",
            "--topic",
            "orders",
            "--partitions",
            "1",
            "--if-not-exists",
        ],
        "",
    );
    let e = dev.fails(&["topics", "create", "--topic", "a b"], "");
    assert!(e.contains("is illegal"), "{e}");
    dev.create("audit", "1");

    assert_eq!(dev.ok(&["topics", "list"], ""), "audit\norders\n");
    let described = dev.ok(&["topics", "describe", "--topic", "orders"], "");
    let lines: Vec<&str> = described.lines().collect();
    assert_eq!(
        lines[0],
        "Topic: orders\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: "
    );
    for p in 0..3 {
        assert_eq!(
            lines[1 + p],
            format!("\tTopic: orders\tPartition: {p}\tLeader: 0\tReplicas: 0\tIsr: 0")
        );
    }
    assert_eq!(lines.len(), 4);
    let e = dev.fails(&["topics", "describe", "--topic", "nope"], "");
    assert!(e.contains("Topic 'nope' does not exist"), "{e}");

    // Producing to a missing topic creates it as Kafka's auto.create.topics.enable does, with
    // Kafka's default num.partitions=1.
    dev.ok(&["produce", "--topic", "fresh"], "x\n");
    let described = dev.ok(&["topics", "describe", "--topic", "fresh"], "");
    assert!(
        described.starts_with("Topic: fresh\tPartitionCount: 1\tReplicationFactor: 1\t"),
        "{described}"
    );
}

const COLLISION_WARNING: &str = "WARNING: Due to limitations in metric names, topics with a period ('.') or underscore ('_') could collide. To avoid issues it is best to use either, but not both.\n";

/// kafka-topics' warning for '.' or '_' (on stdout, as it prints it), the controller's refusal of
/// a colliding name (also when a produce would auto-create it), `--config` kept by `kcodec dev`
/// and shown after `Configs:`, and negative counts parsed and refused with Kafka's messages.
#[test]
fn topic_collisions_configs_and_negative_counts_like_kafka() {
    let dev = dev(&[]);
    let out = dev.ok(
        &[
            "topics",
            "create",
            "--topic",
            "foo.bar",
            "--partitions",
            "2",
            "--config",
            "retention.ms=1000",
            "--config",
            "cleanup.policy=compact",
        ],
        "",
    );
    assert_eq!(out, format!("{COLLISION_WARNING}Created topic foo.bar.\n"));
    let out = dev.run(&["topics", "create", "--topic", "foo_bar"], "");
    assert!(!out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap(), COLLISION_WARNING);
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "error: Topic 'foo_bar' collides with existing topic: foo.bar\n"
    );
    // A produce that would auto-create the colliding name is refused the same way.
    let e = dev.fails(&["produce", "--topic", "foo_bar"], "x\n");
    assert!(
        e.contains("Topic 'foo_bar' collides with existing topic: foo.bar"),
        "{e}"
    );
    // Either way round; '-' does not collide; a name without '.' or '_' gets no warning.
    dev.create("x_y", "1");
    let e = dev.fails(&["topics", "create", "--topic", "x.y"], "");
    assert_eq!(e, "error: Topic 'x.y' collides with existing topic: x_y\n");
    dev.create("foo-bar", "1");
    assert_eq!(dev.ok(&["topics", "list"], ""), "foo-bar\nfoo.bar\nx_y\n");

    // Configs: the non-default ones, comma-separated, after `Configs:`.
    let described = dev.ok(&["topics", "describe", "--topic", "foo.bar"], "");
    assert_eq!(
        described.lines().next().unwrap(),
        "Topic: foo.bar\tPartitionCount: 2\tReplicationFactor: 1\tConfigs: cleanup.policy=compact,retention.ms=1000"
    );
    let described = dev.ok(&["topics", "describe", "--topic", "foo-bar"], "");
    assert_eq!(
        described.lines().next().unwrap(),
        "Topic: foo-bar\tPartitionCount: 1\tReplicationFactor: 1\tConfigs: "
    );
    assert_eq!(
        dev.fails(
            &[
                "topics",
                "create",
                "--topic",
                "cfg",
                "--config",
                "retention=1"
            ],
            ""
        ),
        "error: Unknown topic config name: retention\n"
    );

    // Negative numbers reach the checks (not the argument parser), with kafka-topics' words.
    for (args, message) in [
        (
            &["topics", "create", "--topic", "neg", "--partitions", "-1"][..],
            "The partitions must be greater than 0",
        ),
        (
            &["topics", "create", "--topic", "neg", "--partitions", "0"][..],
            "The partitions must be greater than 0",
        ),
        (
            &[
                "topics",
                "create",
                "--topic",
                "neg",
                "--replication-factor",
                "-1",
            ][..],
            "The replication factor must be between 1 and 32767 inclusive",
        ),
        (
            &[
                "topics",
                "alter",
                "--topic",
                "foo-bar",
                "--partitions",
                "-1",
            ][..],
            "The topic foo-bar currently has 1 partition(s); -1 would not be an increase.",
        ),
    ] {
        assert_eq!(
            dev.fails(args, ""),
            format!("error: {message}\n"),
            "{args:?}"
        );
    }
    assert!(!dev.ok(&["topics", "list"], "").contains("neg"));
}

/// A group's committed partitions as `CURRENT-OFFSET` by partition, and the log-end offsets.
fn committed(dev: &Dev, group: &str, topic: &str) -> BTreeMap<i32, String> {
    lag(dev, group, topic)
        .into_iter()
        .map(|(p, (current, _, _))| (p, current))
        .collect()
}

/// kafka-consumer-groups `--reset-offsets` as `groups reset-offsets` against `kcodec dev`: the
/// dry run (the default, with Kafka's warning) prints the plan and commits nothing, `--execute`
/// commits it (OffsetCommit from outside the group, as `Admin.alterConsumerGroupOffsets`), both
/// for a group that never had members and for one that had; a group with an active member is
/// refused with Kafka's message (its state from DescribeGroups); `--delete` is DeleteGroups, with
/// `GroupNotEmptyException` for a group with a member (`ConsumerGroupCommand.deleteGroups`).
#[test]
fn groups_reset_offsets_and_delete_on_dev() {
    let dev = dev(&["--topic", "t:2"]);
    let mut input = String::new();
    for i in 0..12 {
        input.push_str(&format!("k{i}:{i}\n"));
    }
    dev.ok(
        &[
            "produce",
            "--topic",
            "t",
            "--property",
            "parse.key=true",
            "--property",
            "key.separator=:",
        ],
        &input,
    );
    // The log-end offsets, from a dry run to the latest.
    let table = |out: &str| -> Vec<Vec<String>> {
        let mut lines = out.lines();
        assert_eq!(lines.next(), Some(""), "{out}");
        assert_eq!(
            lines.next().unwrap().split_whitespace().collect::<Vec<_>>(),
            ["GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"],
            "{out}"
        );
        lines
            .map(|l| l.split_whitespace().map(str::to_owned).collect())
            .collect()
    };
    let out = dev.run(
        &[
            "groups",
            "reset-offsets",
            "--group",
            "g",
            "--topic",
            "t",
            "--to-latest",
        ],
        "",
    );
    assert!(out.status.success());
    let e = String::from_utf8(out.stderr).unwrap();
    assert!(
        e.starts_with("WARN: No action will be performed as the --execute option is missing.In a future major release"),
        "{e}"
    );
    let rows = table(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(rows.len(), 2);
    let end: Vec<i64> = rows.iter().map(|r| r[3].parse().unwrap()).collect();
    assert_eq!(end.iter().sum::<i64>(), 12);
    assert!(
        end.iter().all(|&e| e >= 2),
        "{end:?}: the keys should spread"
    );
    // Nothing was committed: the group does not exist.
    let e = dev.fails(&["groups", "describe", "--group", "g"], "");
    assert!(e.contains("Consumer group 'g' does not exist."), "{e}");

    // --execute on a group that never had members.
    let out = dev.ok(
        &[
            "groups",
            "reset-offsets",
            "--group",
            "g",
            "--topic",
            "t",
            "--to-offset",
            "1",
            "--execute",
        ],
        "",
    );
    assert_eq!(table(&out), [["g", "t", "0", "1"], ["g", "t", "1", "1"]]);
    assert_eq!(
        committed(&dev, "g", "t"),
        BTreeMap::from([(0, "1".to_owned()), (1, "1".to_owned())])
    );
    // --shift-by past the end is kept at the end, with Kafka's warning; one partition only.
    let out = dev.run(
        &[
            "groups",
            "reset-offsets",
            "--group",
            "g",
            "--topic",
            "t:1",
            "--shift-by",
            "100",
            "--execute",
        ],
        "",
    );
    assert!(out.status.success());
    assert_eq!(
        table(&String::from_utf8(out.stdout).unwrap()),
        [["g", "t", "1", &end[1].to_string()]]
    );
    assert!(
        String::from_utf8(out.stderr).unwrap().contains(&format!(
            "WARN New offset (101) is higher than latest offset for topic partition t-1. Value will be set to {}.",
            end[1]
        ))
    );
    // --all-topics: the partitions with a committed offset; --dry-run commits nothing.
    let out = dev.ok(
        &[
            "groups",
            "reset-offsets",
            "--group",
            "g",
            "--all-topics",
            "--shift-by",
            "-1",
            "--dry-run",
        ],
        "",
    );
    assert_eq!(
        table(&out),
        [
            ["g", "t", "0", "0"],
            ["g", "t", "1", &(end[1] - 1).to_string()]
        ]
    );
    assert_eq!(committed(&dev, "g", "t")[&1], end[1].to_string());

    // A group that had a member is reset too, once its consumer is gone.
    let out = dev.ok(
        &[
            "consume",
            "--topic",
            "t",
            "--group",
            "g2",
            "--from-beginning",
            "--max-messages",
            "12",
            "--timeout-ms",
            "10000",
        ],
        "",
    );
    assert_eq!(out.lines().count(), 12);
    let out = dev.ok(
        &[
            "groups",
            "reset-offsets",
            "--group",
            "g2",
            "--topic",
            "t",
            "--to-earliest",
            "--execute",
        ],
        "",
    );
    assert_eq!(table(&out), [["g2", "t", "0", "0"], ["g2", "t", "1", "0"]]);
    assert_eq!(
        committed(&dev, "g2", "t"),
        BTreeMap::from([(0, "0".to_owned()), (1, "0".to_owned())])
    );
    // --to-datetime: before every record is the start; after every record falls back to the end.
    let out = dev.ok(
        &[
            "groups",
            "reset-offsets",
            "--group",
            "g2",
            "--topic",
            "t",
            "--to-datetime",
            "2000-01-01T00:00:00.000",
            "--dry-run",
        ],
        "",
    );
    assert_eq!(table(&out), [["g2", "t", "0", "0"], ["g2", "t", "1", "0"]]);
    // --by-duration: every record is younger than an hour.
    let out = dev.ok(
        &[
            "groups",
            "reset-offsets",
            "--group",
            "g2",
            "--topic",
            "t",
            "--by-duration",
            "PT1H",
            "--dry-run",
        ],
        "",
    );
    assert_eq!(table(&out), [["g2", "t", "0", "0"], ["g2", "t", "1", "0"]]);
    let out = dev.ok(
        &[
            "groups",
            "reset-offsets",
            "--group",
            "g2",
            "--topic",
            "t",
            "--to-datetime",
            "2999-01-01T00:00:00.000+02:00",
            "--dry-run",
        ],
        "",
    );
    assert!(
        out.starts_with(
            "\nWarn: Partition 0 from topic t is empty. Falling back to latest known offset.\n"
        ),
        "{out}"
    );
    let rows: Vec<&str> = out.lines().filter(|l| l.starts_with("g2 ")).collect();
    assert_eq!(rows.len(), 2, "{out}");

    // An active member: Kafka's refusal, and the member keeps its partitions.
    let mut member = kcodec_command(dev.runtime.path())
        .args([
            "consume",
            "--topic",
            "t",
            "--group",
            "g3",
            "--timeout-ms",
            "20000",
            "--bootstrap-server",
            &dev.bootstrap,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_state(&dev, "g3", "Stable");
    let e = dev.fails(
        &[
            "groups",
            "reset-offsets",
            "--group",
            "g3",
            "--topic",
            "t",
            "--to-earliest",
            "--execute",
        ],
        "",
    );
    assert!(
        e.ends_with(
            "error: Assignments can only be reset if the group 'g3' is inactive, but the current state is Stable.\n"
        ),
        "{e}"
    );
    // Nor can it be deleted while it has a member.
    let e = dev.fails(&["groups", "delete", "--group", "g3"], "");
    assert_eq!(
        e,
        "error: Deletion of some consumer groups failed:\n* Group 'g3' could not be deleted due to: org.apache.kafka.common.errors.GroupNotEmptyException: The group is not empty.\n"
    );
    let _ = member.kill();
    let _ = member.wait();

    // Several groups: each one's plan in one table; a group that fails is named and the command
    // fails after the others are done (here: no committed offset to shift from).
    let out = dev.run(
        &[
            "groups",
            "reset-offsets",
            "--group",
            "fresh",
            "--group",
            "g",
            "--topic",
            "t:0",
            "--shift-by",
            "1",
            "--dry-run",
        ],
        "",
    );
    assert!(!out.status.success());
    assert_eq!(
        table(&String::from_utf8(out.stdout).unwrap()),
        // g committed 1 on t-0 (--to-offset 1 above).
        [["g", "t", "0", "2"]]
    );
    let e = String::from_utf8(out.stderr).unwrap();
    assert!(
        e.contains("error: Cannot shift offset for partition t-0 since there is no current committed offset\n"),
        "{e}"
    );
    assert!(
        e.ends_with("error: the offsets of 1 of 2 groups could not be reset: fresh\n"),
        "{e}"
    );

    // Scope and spec errors.
    assert_eq!(
        dev.fails(
            &[
                "groups",
                "reset-offsets",
                "--group",
                "g",
                "--topic",
                "t:7",
                "--to-latest"
            ],
            ""
        )
        .lines()
        .last(),
        Some("error: The partitions \"t-7\" do not exist")
    );
    for args in [
        &["groups", "reset-offsets", "--group", "g", "--topic", "t"][..],
        &["groups", "reset-offsets", "--group", "g", "--to-latest"][..],
        &[
            "groups",
            "reset-offsets",
            "--group",
            "g",
            "--topic",
            "t",
            "--to-latest",
            "--to-earliest",
        ][..],
        &[
            "groups",
            "reset-offsets",
            "--group",
            "g",
            "--topic",
            "t",
            "--to-latest",
            "--dry-run",
            "--execute",
        ][..],
    ] {
        assert_eq!(dev.run(args, "").status.code(), Some(2), "{args:?}");
    }
    // DeleteGroups: the group and its committed offsets are gone; a second delete names Kafka's
    // GroupIdNotFoundException.
    assert_eq!(
        dev.ok(&["groups", "delete", "--group", "g"], ""),
        "Deletion of requested consumer groups ('g') was successful.\n"
    );
    let e = dev.fails(&["groups", "describe", "--group", "g"], "");
    assert!(e.contains("Consumer group 'g' does not exist."), "{e}");
    let e = dev.fails(&["groups", "delete", "--group", "g"], "");
    assert!(
        e.contains("GroupIdNotFoundException: The group id does not exist."),
        "{e}"
    );
}

/// Waits until `groups describe --state` shows `group` in `state` (the deadline only bounds a
/// failure).
fn wait_for_state(dev: &Dev, group: &str, state: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = dev.run(&["groups", "describe", "--group", group, "--state"], "");
        let text = String::from_utf8_lossy(&out.stdout);
        let current = text
            .lines()
            .find(|l| l.starts_with(&format!("{group} ")))
            .and_then(|l| l.split_whitespace().nth(4).map(str::to_owned));
        if current.as_deref() == Some(state) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "group {group} not {state} within 60 s: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Kafka's tools (joptsimple) take any unique prefix of a long option; so does kcodec.
#[test]
fn unique_prefixes_of_long_options_like_kafkas_tools() {
    let dev = dev(&[]);
    let out = dev.ok(
        &[
            "topics",
            "create",
            "--topic",
            "t",
            "--partition",
            "3",
            "--replication-factor",
            "1",
        ],
        "",
    );
    assert_eq!(out, "Created topic t.\n");
    let described = dev.ok(&["topics", "describe", "--top", "t"], "");
    assert!(
        described.starts_with("Topic: t\tPartitionCount: 3\tReplicationFactor: 1\t"),
        "{described}"
    );
    let out = dev.run(&["topics", "create", "--topic", "u", "--com", "x=y"], "");
    assert_eq!(out.status.code(), Some(2));
    let e = String::from_utf8(out.stderr).unwrap();
    assert!(
        e.starts_with(
            "error: option '--com' is ambiguous: it could be --command-config, --command-property\n"
        ),
        "{e}"
    );
    assert_eq!(dev.ok(&["topics", "list"], ""), "t\n");
}

/// `topics delete` and `topics alter --partitions` on a `kcodec dev`, through DeleteTopics and
/// CreatePartitions: kafka-topics' checks and messages (`TopicCommand.alterTopic`,
/// `deleteTopic`), then the change itself.
#[test]
fn topics_delete_and_alter_through_kafkas_admin_api() {
    let dev = dev(&["--topic", "orders:3"]);

    assert_eq!(
        dev.fails(&["topics", "delete", "--topic", "nope"], ""),
        "error: Topic 'nope' does not exist as expected\n"
    );
    assert_eq!(
        dev.ok(&["topics", "delete", "--topic", "nope", "--if-exists"], ""),
        ""
    );
    assert_eq!(
        dev.fails(
            &["topics", "alter", "--topic", "nope", "--partitions", "4"],
            ""
        ),
        "error: Topic 'nope' does not exist as expected\n"
    );
    assert_eq!(
        dev.ok(
            &[
                "topics",
                "alter",
                "--topic",
                "nope",
                "--partitions",
                "4",
                "--if-exists"
            ],
            ""
        ),
        ""
    );
    assert_eq!(
        dev.fails(
            &["topics", "alter", "--topic", "orders", "--partitions", "2"],
            ""
        ),
        "error: The topic orders currently has 3 partition(s); 2 would not be an increase.\n"
    );
    assert_eq!(
        dev.fails(
            &["topics", "alter", "--topic", "orders", "--partitions", "3"],
            ""
        ),
        "error: Topic already has 3 partition(s).\n"
    );
    // Kafka's own spelling, abbreviated: `--partition 5`. kafka-topics prints nothing.
    assert_eq!(
        dev.ok(
            &["topics", "alter", "--topic", "orders", "--partition", "5"],
            ""
        ),
        ""
    );
    let described = dev.ok(&["topics", "describe", "--topic", "orders"], "");
    assert!(
        described.starts_with("Topic: orders\tPartitionCount: 5\t"),
        "{described}"
    );
    assert!(
        described.contains("\tTopic: orders\tPartition: 4\tLeader: 0\t"),
        "{described}"
    );
    // Deleted: gone from the list and the description; deleting it again is Kafka's error.
    assert_eq!(dev.ok(&["topics", "delete", "--topic", "orders"], ""), "");
    assert_eq!(dev.ok(&["topics", "list"], ""), "");
    assert_eq!(
        dev.fails(&["topics", "delete", "--topic", "orders"], ""),
        "error: Topic 'orders' does not exist as expected\n"
    );
    let e = dev.fails(&["topics", "describe", "--topic", "orders"], "");
    assert!(e.contains("Topic 'orders' does not exist"), "{e}");
}

#[test]
fn three_brokers_take_replication_factor_three() {
    let dev = dev(&["--brokers", "3", "--topic", "pre:2:3"]);
    assert_eq!(
        dev.ok(
            &[
                "topics",
                "create",
                "--topic",
                "orders",
                "--partitions",
                "3",
                "--replication-factor",
                "3"
            ],
            ""
        ),
        "Created topic orders.\n"
    );
    let described = dev.ok(&["topics", "describe"], "");
    let header: Vec<&str> = described
        .lines()
        .filter(|l| l.starts_with("Topic:"))
        .collect();
    assert_eq!(
        header,
        [
            "Topic: orders\tPartitionCount: 3\tReplicationFactor: 3\tConfigs: ",
            "Topic: pre\tPartitionCount: 2\tReplicationFactor: 3\tConfigs: "
        ]
    );
    for line in described.lines().filter(|l| l.starts_with('\t')) {
        let replicas = line
            .split('\t')
            .find(|f| f.starts_with("Replicas: "))
            .unwrap();
        let mut ids: Vec<&str> = replicas["Replicas: ".len()..].split(',').collect();
        ids.sort_unstable();
        assert_eq!(ids, ["0", "1", "2"], "{line}");
    }
}

#[test]
fn keyed_records_keep_their_partition_and_order_and_lag_follows_commits() {
    let dev = dev(&[]);
    dev.create("orders", "3");
    let keys = ["alice", "bob", "carol", "dave", "erin", "frank"];
    let mut input = String::new();
    for i in 0..30 {
        input.push_str(&format!("{}:{i}\n", keys[i % keys.len()]));
    }
    let keyed = [
        "--property",
        "parse.key=true",
        "--property",
        "key.separator=:",
    ];
    let mut args = vec!["produce", "--topic", "orders"];
    args.extend(keyed);
    dev.ok(&args, &input);

    let consume = |max: &str| {
        dev.ok(
            &[
                "consume",
                "--topic",
                "orders",
                "--group",
                "G",
                "--from-beginning",
                "--max-messages",
                max,
                "--property",
                "print.key=true",
                "--property",
                "print.partition=true",
                "--timeout-ms",
                "10000",
            ],
            "",
        )
    };
    let out = consume("30");
    let mut partition_of: BTreeMap<String, String> = BTreeMap::new();
    let mut values_of: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for line in out.lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 3, "{line}");
        let partition = cols[0].strip_prefix("Partition:").unwrap().to_owned();
        let key = cols[1].to_owned();
        // Java's partitioner: murmur2(key) mod partitions.
        let java = kcodec_broker::partitioner::partition_for_key(key.as_bytes(), 3);
        assert_eq!(partition, java.to_string(), "{key}");
        assert_eq!(
            partition_of.entry(key.clone()).or_insert(partition.clone()),
            &partition
        );
        values_of
            .entry(key)
            .or_default()
            .push(cols[2].parse().unwrap());
    }
    assert_eq!(out.lines().count(), 30);
    for (key, values) in &values_of {
        assert!(values.is_sorted(), "{key}: {values:?}");
        assert_eq!(values.len(), 5);
    }

    // Everything consumed and committed: no lag.
    let before = lag(&dev, "G", "orders");
    assert!(!before.is_empty());
    let mut per_partition = BTreeMap::new();
    for (p, (current, end, lag)) in &before {
        assert_eq!(current, end, "partition {p}");
        assert_eq!(lag, "0");
        per_partition.insert(*p, end.parse::<i64>().unwrap());
    }
    assert_eq!(per_partition.values().sum::<i64>(), 30);

    // Five more records for alice: her partition lags by 5.
    let more: String = (30..35).map(|i| format!("alice:{i}\n")).collect();
    dev.ok(&args, &more);
    let alice = kcodec_broker::partitioner::partition_for_key(b"alice", 3);
    let after = lag(&dev, "G", "orders");
    for (p, (current, end, lag)) in &after {
        let expected_lag = if *p == alice { 5 } else { 0 };
        assert_eq!(lag, &expected_lag.to_string(), "partition {p}");
        assert_eq!(
            end.parse::<i64>().unwrap() - current.parse::<i64>().unwrap(),
            expected_lag
        );
    }
    // The group resumes where it committed.
    let rest = consume("5");
    let values: Vec<&str> = rest
        .lines()
        .map(|l| l.rsplit('\t').next().unwrap())
        .collect();
    assert_eq!(values, ["30", "31", "32", "33", "34"]);
    assert!(
        lag(&dev, "G", "orders")
            .values()
            .all(|(_, _, lag)| lag == "0")
    );
}

/// `groups describe` with `--group` repeated: one table per group, a blank line before each (as
/// kafka-consumer-groups `--describe --all-groups`); `--all-groups` and `groups list` from
/// ListGroups; `--members` and `--state` from DescribeGroups, with
/// `ConsumerGroupCommand`'s note for a group without active members.
#[test]
fn groups_describe_several_groups_one_table_each() {
    let dev = dev(&["--topic", "t:1"]);
    dev.ok(&["produce", "--topic", "t"], "1\n2\n3\n");
    for (group, max) in [("a", "3"), ("b", "2")] {
        let out = dev.ok(
            &[
                "consume",
                "--topic",
                "t",
                "--group",
                group,
                "--from-beginning",
                "--max-messages",
                max,
                "--timeout-ms",
                "10000",
            ],
            "",
        );
        assert_eq!(out.lines().count(), max.parse::<usize>().unwrap());
    }
    let out = dev.run(&["groups", "describe", "--group", "b", "--gro", "a"], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let blocks: Vec<Vec<Vec<&str>>> = text
        .strip_prefix('\n')
        .unwrap_or_else(|| panic!("no leading blank line: {text:?}"))
        .split("\n\n")
        .map(|block| {
            block
                .lines()
                .map(|l| l.split_whitespace().collect())
                .collect()
        })
        .collect();
    assert_eq!(blocks.len(), 2, "{text}");
    for (block, (group, current, lag)) in blocks.iter().zip([("b", "2", "1"), ("a", "3", "0")]) {
        assert_eq!(block.len(), 2, "{text}");
        assert_eq!(block[0][0], "GROUP");
        assert_eq!(
            block[1],
            [group, "t", "0", current, "3", lag, "-", "-", "-"],
            "{text}"
        );
    }
    // Both consumers are gone: Kafka's note for each group, on stderr.
    let e = String::from_utf8(out.stderr).unwrap();
    for group in ["a", "b"] {
        assert!(
            e.contains(&format!("Consumer group '{group}' has no active members.")),
            "{e}"
        );
    }

    // A missing group among several: the others are still described, then the command fails.
    let out = dev.run(
        &["groups", "describe", "--group", "a", "--group", "nope"],
        "",
    );
    assert!(!out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text.lines().filter(|l| l.starts_with("a ")).count(),
        1,
        "{text}"
    );
    let e = String::from_utf8(out.stderr).unwrap();
    assert!(
        e.contains("error: Consumer group 'nope' does not exist.\n"),
        "{e}"
    );
    assert!(
        e.ends_with("error: 1 of 2 groups could not be described: nope\n"),
        "{e}"
    );

    // --members: the header alone (no member); --state: Empty with no members, the coordinator
    // broker 0; --offsets is the default table.
    let text = dev.ok(&["groups", "describe", "--group", "a", "--members"], "");
    assert_eq!(
        text.lines().filter(|l| !l.is_empty()).collect::<Vec<_>>(),
        ["GROUP           CONSUMER-ID     HOST            CLIENT-ID       #PARTITIONS"],
        "{text}"
    );
    let text = dev.ok(&["groups", "describe", "--group", "a", "--state"], "");
    let row: Vec<&str> = text
        .lines()
        .find(|l| l.starts_with("a "))
        .unwrap_or_else(|| panic!("{text}"))
        .split_whitespace()
        .collect();
    let port = dev.bootstrap.rsplit(':').next().unwrap();
    assert_eq!(
        row,
        ["a", &format!("127.0.0.1:{port}"), "(0)", "-", "Empty", "0"],
        "{text}"
    );
    let text = dev.ok(&["groups", "describe", "--group", "a", "--offsets"], "");
    assert!(text.lines().any(|l| l.starts_with("a ")), "{text}");
    // The views exclude each other, and --verbose goes with --members.
    for args in [
        ["--members", "--state"],
        ["--offsets", "--members"],
        ["--state", "--verbose"],
    ] {
        let mut all = vec!["groups", "describe", "--group", "a"];
        all.extend(args);
        let out = dev.run(&all, "");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
    let e = dev.fails(&["groups", "describe", "--group", "a", "--verbose"], "");
    assert!(e.contains("--verbose goes with --members"), "{e}");

    // --all-groups and `groups list`: ListGroups.
    assert_eq!(dev.ok(&["groups", "list"], ""), "a\nb\n");
    let text = dev.ok(&["groups", "describe", "--all-groups"], "");
    let groups: Vec<&str> = text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with("GROUP"))
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(groups, ["a", "b"], "{text}");
    // One of --group and --all-groups, not both.
    for args in [
        &["groups", "describe"][..],
        &["groups", "describe", "--all-groups", "--group", "a"][..],
    ] {
        let out = dev.run(args, "");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn lines_without_a_key_separator() {
    let dev = dev(&["--topic", "t:1"]);
    let base = [
        "produce",
        "--topic",
        "t",
        "--property",
        "parse.key=true",
        "--property",
        "key.separator=:",
    ];
    let e = dev.fails(&base, "a:1\nbad line\nc:3\n");
    assert_eq!(
        e,
        "error: No key separator found on line number 2: 'bad line'\n"
    );
    let mut ignoring = base.to_vec();
    ignoring.push("--ignore-error");
    let out = dev.run(&ignoring, "d:4\nworse line\ne:5\n");
    assert!(out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("No key separator found on line number 2: 'worse line'"),
        "{stderr}"
    );
    assert!(stderr.contains("1 line(s) had errors"), "{stderr}");
    let mut property = base.to_vec();
    property.extend(["--property", "ignore.error=true"]);
    dev.ok(&property, "third\n");

    let out = dev.run(
        &[
            "consume",
            "--topic",
            "t",
            "--from-beginning",
            "--max-messages",
            "5",
            "--property",
            "print.key=true",
            "--timeout-ms",
            "10000",
        ],
        "",
    );
    assert!(out.status.success());
    // Kafka's reader: the failing run sent the line before the bad one; ignore.error sends a
    // line without separator with a null key.
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "a\t1\nd\t4\nnull\tworse line\ne\t5\nnull\tthird\n"
    );
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "Processed a total of 5 messages\n"
    );
}

#[test]
fn null_marker_and_headers() {
    let dev = dev(&["--topic", "h:1"]);
    dev.ok(
        &[
            "produce",
            "--topic",
            "h",
            "--property",
            "parse.headers=true",
            "--property",
            "parse.key=true",
            "--property",
            "null.marker=NULL",
        ],
        "trace:abc,empty:NULL\tk1\tv1\nNULL\tNULL\tv2\nx:1\tk3\tNULL\n",
    );
    let out = dev.ok(
        &[
            "consume",
            "--topic",
            "h",
            "--from-beginning",
            "--max-messages",
            "3",
            "--property",
            "print.key=true",
            "--property",
            "print.headers=true",
            "--property",
            "print.offset=true",
            "--property",
            "null.literal=<null>",
            "--property",
            "key.separator= | ",
        ],
        "",
    );
    assert_eq!(
        out,
        "Offset:0 | trace:abc,empty:<null> | k1 | v1\n\
         Offset:1 | NO_HEADERS | <null> | v2\n\
         Offset:2 | x:1 | k3 | <null>\n"
    );
    let e = dev.fails(
        &[
            "produce",
            "--topic",
            "h",
            "--property",
            "null.marker=:",
            "--property",
            "key.separator=:",
        ],
        "",
    );
    assert_eq!(e, "error: null.marker and key.separator may not be equal\n");
}

#[test]
fn int_and_long_formats_and_decode_errors() {
    let dev = dev(&["--topic", "n:1"]);
    dev.ok(
        &[
            "produce",
            "--topic",
            "n",
            "--key-format",
            "int",
            "--value-format",
            "long",
            "--property",
            "parse.key=true",
            "--property",
            "key.separator==",
        ],
        "1=10\n-2=9000000000\n",
    );
    let formats = ["--key-format", "int", "--value-format", "long"];
    let mut args = vec![
        "consume",
        "--topic",
        "n",
        "--from-beginning",
        "--max-messages",
        "2",
        "--property",
        "print.key=true",
    ];
    args.extend(formats);
    assert_eq!(dev.ok(&args, ""), "1\t10\n-2\t9000000000\n");

    // The same bytes read as ints: the 8-byte values do not decode.
    let wrong = [
        "consume",
        "--topic",
        "n",
        "--from-beginning",
        "--max-messages",
        "2",
        "--value-format",
        "int",
        "--timeout-ms",
        "3000",
    ];
    let e = dev.fails(&wrong, "");
    assert!(e.contains("cannot decode the value of n/0@0"), "{e}");
    let mut skipping = wrong.to_vec();
    skipping.push("--ignore-error");
    let out = dev.run(&skipping, "");
    assert!(out.status.success());
    assert_eq!(out.stdout, b"");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("Skipped 2 record(s)"), "{stderr}");

    let e = dev.fails(
        &["produce", "--topic", "n", "--value-format", "int"],
        "12\nnot a number\n",
    );
    assert!(
        e.starts_with("error: line 2: cannot encode the value"),
        "{e}"
    );
}

#[test]
fn an_unreachable_cluster_fails_fast_in_one_line() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let bootstrap = format!("127.0.0.1:{port}");
    let runtime = tempfile::tempdir().unwrap();
    for args in [
        vec!["topics", "list"],
        vec!["topics", "create", "--topic", "t"],
        vec!["produce", "--topic", "t"],
        vec!["consume", "--topic", "t"],
        vec!["groups", "describe", "--group", "g"],
        vec!["topics", "delete", "--topic", "t"],
        vec!["topics", "alter", "--topic", "t", "--partitions", "2"],
        vec!["groups", "describe", "--all-groups"],
    ] {
        let mut all = args.clone();
        all.extend(["--bootstrap-server", &bootstrap]);
        let start = Instant::now();
        let out = run_with(runtime.path(), &all, "x\n");
        assert!(start.elapsed() < Duration::from_secs(10), "{args:?}");
        assert!(!out.status.success(), "{args:?}");
        let e = String::from_utf8(out.stderr).unwrap();
        assert_eq!(e.lines().count(), 1, "{args:?}: {e}");
        assert!(
            e.starts_with(&format!("error: cannot connect to Kafka at {bootstrap}")),
            "{e}"
        );
    }
}

#[test]
fn discovery_and_brokers_without_admin_apis() {
    // Discovery: `kcodec dev` writes its bootstrap servers and registry where the other
    // commands look; librdkafka's mock cluster, which has no admin API, is refused in one line.
    let dev = dev(&["--topic", "d:1"]);
    // No --bootstrap-server: the one running kcodec dev of this discovery directory.
    let out = run_with(dev.runtime.path(), &["topics", "list"], "");
    assert!(out.status.success());
    assert_eq!(out.stdout, b"d\n");
    // The registry of that dev is known too.
    let info: Vec<_> = std::fs::read_dir(dev.runtime.path())
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(info.len(), 1);
    assert!(info[0].contains(&dev.registry), "{}", info[0]);

    // Nothing running and nothing given: one clear line.
    let empty = tempfile::tempdir().unwrap();
    let out = run_with(empty.path(), &["topics", "list"], "");
    assert!(!out.status.success());
    let e = String::from_utf8(out.stderr).unwrap();
    assert!(e.contains("pass --bootstrap-server"), "{e}");
    assert_eq!(e.lines().count(), 1);

    // The same dev named by --bootstrap-server from elsewhere (no discovery file): its admin
    // API is Kafka's, so nothing depends on discovery but the registry.
    let out = run_with(
        empty.path(),
        &[
            "topics",
            "create",
            "--topic",
            "elsewhere",
            "--bootstrap-server",
            &dev.bootstrap,
        ],
        "",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, b"Created topic elsewhere.\n");

    // librdkafka's mock cluster (no admin API): said in one line, not after a timeout.
    let mock = rdkafka::mocking::MockCluster::new(1).unwrap();
    mock.create_topic("d", 1, 1).unwrap();
    let mock_bootstrap = mock.bootstrap_servers();
    let bare = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend([
            "--bootstrap-server",
            &mock_bootstrap,
            "--timeout-ms",
            "5000",
        ]);
        let start = Instant::now();
        let out = run_with(empty.path(), &all, "");
        assert!(start.elapsed() < Duration::from_secs(7));
        assert!(!out.status.success());
        let e = String::from_utf8(out.stderr).unwrap();
        assert_eq!(e.lines().count(), 1, "{e}");
        e
    };
    let e = bare(&["topics", "create", "--topic", "x", "--partitions", "2"]);
    assert!(e.contains("does not support CreateTopics"), "{e}");
    let e = bare(&["groups", "list"]);
    assert!(e.contains("does not support ListGroups"), "{e}");
    let e = bare(&["topics", "delete", "--topic", "d"]);
    assert!(e.contains("does not support DeleteTopics"), "{e}");
    let e = bare(&["topics", "alter", "--topic", "d", "--partitions", "2"]);
    assert!(e.contains("does not support CreatePartitions"), "{e}");

    // Killed: its discovery file names a dead process and is ignored.
    let runtime = dev.runtime.path().to_owned();
    let mut dev = dev;
    let _ = dev.child.kill();
    let _ = dev.child.wait();
    let out = run_with(&runtime, &["topics", "list"], "");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("pass --bootstrap-server"));
}

/// Against another Kafka-protocol broker at `KAFKA_BOOTSTRAP` (tansu in CI), when set: the same
/// admin path (CreateTopics, ListGroups, DescribeGroups) as on `kcodec dev`.
#[test]
fn external_kafka_uses_the_admin_api() {
    let Some(bootstrap) = std::env::var("KAFKA_BOOTSTRAP")
        .ok()
        .filter(|b| !b.is_empty())
    else {
        println!("skipped: KAFKA_BOOTSTRAP is not set");
        return;
    };
    let runtime = tempfile::tempdir().unwrap();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let topic = format!("kcodec-console-{nanos}");
    let group = format!("{topic}-g");
    let run = |args: &[&str], stdin: &str| {
        let mut all = args.to_vec();
        all.extend(["--bootstrap-server", &bootstrap]);
        run_with(runtime.path(), &all, stdin)
    };
    let out = run(
        &["topics", "create", "--topic", &topic, "--partitions", "2"],
        "",
    );
    assert_eq!(out.stdout, format!("Created topic {topic}.\n").as_bytes());
    let out = run(&["topics", "create", "--topic", &topic], "");
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        format!("error: Topic '{topic}' already exists.\n")
    );
    let out = run(&["topics", "describe", "--topic", &topic], "");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with(&format!("Topic: {topic}\tPartitionCount: 2\t")),
        "{text}"
    );
    let out = run(
        &["topics", "alter", "--topic", &topic, "--partitions", "1"],
        "",
    );
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        format!(
            "error: The topic {topic} currently has 2 partition(s); 1 would not be an increase.\n"
        )
    );
    // CreatePartitions: 3 partitions after it, or (tansu) one line saying the broker lacks it.
    let out = run(
        &["topics", "alter", "--topic", &topic, "--partitions", "3"],
        "",
    );
    if out.status.success() {
        assert!(out.stdout.is_empty());
        let out = run(&["topics", "describe", "--topic", &topic], "");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.starts_with(&format!("Topic: {topic}\tPartitionCount: 3\t")),
            "{text}"
        );
    } else {
        assert_eq!(
            String::from_utf8(out.stderr).unwrap(),
            format!("error: the broker at {bootstrap} does not support CreatePartitions\n")
        );
    }
    // DeleteTopics on a scratch topic: gone from the list, or (a broker without the API) one
    // line saying so.
    let doomed = format!("{topic}-deleted");
    let out = run(&["topics", "create", "--topic", &doomed], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["topics", "delete", "--topic", &doomed], "");
    if out.status.success() {
        assert!(out.stdout.is_empty());
        let gone = (0..20).any(|_| {
            let list = run(&["topics", "list"], "");
            let listed = String::from_utf8(list.stdout)
                .unwrap()
                .lines()
                .any(|l| l == doomed);
            if listed {
                std::thread::sleep(Duration::from_millis(250));
            }
            !listed
        });
        assert!(gone, "{doomed} still listed after delete");
    } else {
        let e = String::from_utf8(out.stderr).unwrap();
        assert_eq!(e.lines().count(), 1, "{e}");
    }
    let out = run(
        &[
            "produce",
            "--topic",
            &topic,
            "--property",
            "parse.key=true",
            "--property",
            "key.separator=:",
        ],
        "a:1\nb:2\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(
        &[
            "consume",
            "--topic",
            &topic,
            "--group",
            &group,
            "--from-beginning",
            "--max-messages",
            "2",
            "--property",
            "print.key=true",
            "--consumer-property",
            "session.timeout.ms=6000",
            "--timeout-ms",
            "20000",
        ],
        "",
    );
    let mut lines: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    lines.sort();
    assert_eq!(lines, ["a\t1", "b\t2"]);
    let out = run(&["groups", "list"], "");
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .any(|l| l == group),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["groups", "describe", "--group", &group], "");
    assert!(out.status.success());
    let table = String::from_utf8(out.stdout).unwrap();
    // Committed offsets: one row per partition that had a record (watermarks are not checked:
    // tansu reports wrong ones after multi-record batches).
    assert!(
        table.lines().filter(|l| l.contains(&topic)).count() >= 1,
        "{table}"
    );
    // --all-groups: this group's table is among them (other groups may come and go).
    let out = run(&["groups", "describe", "--all-groups"], "");
    let all = String::from_utf8(out.stdout).unwrap();
    assert!(
        all.lines()
            .any(|l| l.starts_with(&format!("{group} ")) && l.contains(&topic)),
        "{all}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // --members and --state with one active consumer (a `consume` left running in another
    // group), then with none.
    let live = format!("{topic}-live");
    let mut consumer = kcodec_command(runtime.path())
        .args([
            "consume",
            "--topic",
            &topic,
            "--group",
            &live,
            "--consumer-property",
            "session.timeout.ms=6000",
            "--timeout-ms",
            "60000",
            "--bootstrap-server",
            &bootstrap,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run kcodec consume");
    // The group shows once the broker lists it (tansu lists a group only after a commit, and
    // keeps a member that left: its rows may be blank where Kafka's are not).
    let row_of = |text: &str| -> Option<Vec<String>> {
        text.lines()
            .find(|l| l.starts_with(&format!("{live} ")))
            .map(|l| l.split_whitespace().map(str::to_owned).collect())
    };
    let (mut members, mut state) = (String::new(), String::new());
    for _ in 0..120 {
        let out = run(&["groups", "describe", "--group", &live, "--members"], "");
        members = String::from_utf8(out.stdout).unwrap();
        let out = run(&["groups", "describe", "--group", &live, "--state"], "");
        state = String::from_utf8(out.stdout).unwrap();
        if row_of(&members).is_some()
            && row_of(&state).is_some_and(|r| r.len() == 6 && r[4] == "Stable")
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let verbose = run(
        &[
            "groups",
            "describe",
            "--group",
            &live,
            "--members",
            "--verbose",
        ],
        "",
    );
    let _ = consumer.kill();
    let _ = consumer.wait();
    let lines: Vec<&str> = members.lines().collect();
    assert_eq!(lines[0], "", "{members}");
    assert_eq!(
        lines[1].split_whitespace().collect::<Vec<_>>(),
        ["GROUP", "CONSUMER-ID", "HOST", "CLIENT-ID", "#PARTITIONS"],
        "{members}"
    );
    assert_eq!(lines.len(), 3, "one member: {members}");
    let row = row_of(&members).unwrap();
    let partitions: usize = row.last().unwrap().parse().unwrap();
    let verbose = String::from_utf8(verbose.stdout).unwrap();
    let header: Vec<&str> = verbose.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(
        header[5..],
        [
            "CURRENT-EPOCH",
            "CURRENT-ASSIGNMENT",
            "TARGET-EPOCH",
            "TARGET-ASSIGNMENT"
        ],
        "{verbose}"
    );
    // Where the broker reports the assignment (Kafka does, tansu does not), it is the topic's.
    if partitions > 0 {
        assert!(verbose.contains(&format!(" {topic}:")), "{verbose}");
    }
    let lines: Vec<&str> = state.lines().collect();
    assert_eq!(lines[0], "", "{state}");
    assert_eq!(
        lines[1].split_whitespace().collect::<Vec<_>>(),
        [
            "GROUP",
            "COORDINATOR",
            "(ID)",
            "ASSIGNMENT-STRATEGY",
            "STATE",
            "#MEMBERS"
        ],
        "{state}"
    );
    // GROUP, host:port, (id), strategy, state, #MEMBERS.
    let row = row_of(&state).unwrap();
    assert_eq!(row.len(), 6, "{state}");
    assert!(row[1].contains(':'), "{state}");
    assert!(row[2].starts_with('(') && row[2].ends_with(')'), "{state}");
    assert!(
        lines[2].contains(&format!("{}  {}", row[1], row[2])),
        "{state}"
    );
    assert_eq!(row[4..], ["Stable", "1"], "{state}");

    // --reset-offsets --execute on the group, whose consumer has left (DescribeGroups says
    // Empty): Kafka's table, and the committed offsets are then the log start.
    let out = run(
        &[
            "groups",
            "reset-offsets",
            "--group",
            &group,
            "--all-topics",
            "--to-earliest",
            "--execute",
        ],
        "",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<Vec<&str>> = text
        .lines()
        .skip(2)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert!(!rows.is_empty(), "{text}");
    for row in &rows {
        assert_eq!(
            [row[0], row[1], row[3]],
            [group.as_str(), topic.as_str(), "0"],
            "{text}"
        );
    }
    let out = run(&["groups", "describe", "--group", &group], "");
    let table = String::from_utf8(out.stdout).unwrap();
    let currents: Vec<&str> = table
        .lines()
        .filter(|l| l.starts_with(&format!("{group} ")))
        .map(|l| l.split_whitespace().nth(3).unwrap())
        .collect();
    assert_eq!(currents.len(), rows.len(), "{table}");
    assert!(currents.iter().all(|c| *c == "0"), "{table}");
    // --delete: Kafka's line (or, a broker without DeleteGroups, one line saying so).
    let out = run(&["groups", "delete", "--group", &group], "");
    if out.status.success() {
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            format!("Deletion of requested consumer groups ('{group}') was successful.\n")
        );
    } else {
        let e = String::from_utf8(out.stderr).unwrap();
        assert!(e.contains("DeleteGroups"), "{e}");
    }
    // kafka-topics' checks happen before any request, on any broker.
    let out = run(
        &["topics", "create", "--topic", "never", "--partitions", "-3"],
        "",
    );
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "error: The partitions must be greater than 0\n"
    );
}

// ---------------------------------------------------------------------------------------------
// Confluent's Python client (confluent-kafka) against kcodec dev

/// Produces two keyed records with headers (argv: bootstrap, topic), then consumes every
/// record of the topic in a group and prints `key<TAB>value` lines (argv[3]: how many).
const PYTHON_CLIENT: &str = r#"
import sys
from confluent_kafka import Producer, Consumer
bootstrap, topic, mode = sys.argv[1], sys.argv[2], sys.argv[3]
if mode == "produce":
    p = Producer({"bootstrap.servers": bootstrap})
    p.produce(topic, key=b"py-1", value=b"from python", headers=[("origin", b"py"), ("n", None)])
    p.produce(topic, key=None, value=b"keyless")
    assert p.flush(10) == 0
else:
    want = int(mode)
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "py-group",
                  "auto.offset.reset": "earliest", "session.timeout.ms": 6000})
    c.subscribe([topic])
    got = []
    while len(got) < want:
        m = c.poll(10)
        assert m is not None, f"timed out after {got}"
        if m.error():
            continue
        key = m.key().decode() if m.key() is not None else "null"
        got.append((m.partition(), m.offset(), f"{key}\t{m.value().decode()}"))
    c.close()
    for _, _, line in sorted(got):
        print(line)
"#;

#[test]
fn confluent_kafka_python_client_interoperates() {
    let Some(python) = python() else {
        return;
    };
    let dev = dev(&["--topic", "py:1"]);
    let script = |mode: &str| {
        let out = Command::new(&python)
            .args(["-c", PYTHON_CLIENT, &dev.bootstrap, "py", mode])
            .output()
            .expect("run python");
        assert!(
            out.status.success(),
            "python {mode}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    // Python writes, kcodec reads.
    script("produce");
    let out = dev.ok(
        &[
            "consume",
            "--topic",
            "py",
            "--from-beginning",
            "--max-messages",
            "2",
            "--property",
            "print.key=true",
            "--property",
            "print.headers=true",
        ],
        "",
    );
    assert_eq!(
        out,
        "origin:py,n:null\tpy-1\tfrom python\nNO_HEADERS\tnull\tkeyless\n"
    );
    // kcodec writes, Python reads.
    dev.ok(
        &["produce", "--topic", "py", "--property", "parse.key=true"],
        "k\tfrom kcodec\n",
    );
    assert_eq!(
        script("3"),
        "py-1\tfrom python\nnull\tkeyless\nk\tfrom kcodec\n"
    );
}

/// The schema formats end to end: `produce` registers with the dev's registry and frames with
/// Confluent's wire format, `consume` fetches the writer schema by the id in each record and
/// prints the same JSON forms `produce` read.
#[test]
fn schema_formats_through_produce_and_consume() {
    let dev = dev(&[
        "--topic", "orders:3", "--topic", "events:1", "--topic", "people:1",
    ]);
    let dir = tempfile::tempdir().unwrap();
    let avro = dir.path().join("order.avsc");
    std::fs::write(
        &avro,
        r#"{"type":"record","name":"Order","namespace":"shop","fields":[
            {"name":"id","type":"string"},
            {"name":"amount_cents","type":"long"},
            {"name":"note","type":["null","string"],"default":null}]}"#,
    )
    .unwrap();
    let lines = "alice:{\"id\":\"o-1\",\"amount_cents\":1250,\"note\":null}\n\
                 bob:{\"id\":\"o-2\",\"amount_cents\":99,\"note\":{\"string\":\"gift\"}}\n\
                 alice:{\"id\":\"o-3\",\"amount_cents\":7,\"note\":null}\n";
    let avro_path = avro.to_str().unwrap();
    dev.ok(
        &[
            "produce",
            "--topic",
            "orders",
            "--property",
            "parse.key=true",
            "--property",
            "key.separator=:",
            "--value-format",
            "avro",
            "--value-schema-file",
            avro_path,
        ],
        lines,
    );
    let consume = |topic: &str, format: &str, n: &str, extra: &[&str]| {
        let mut args = vec![
            "consume",
            "--topic",
            topic,
            "--from-beginning",
            "--max-messages",
            n,
            "--value-format",
            format,
            "--property",
            "print.key=true",
            "--property",
            "key.separator=:",
        ];
        args.extend_from_slice(extra);
        dev.ok(&args, "")
    };
    let out = consume("orders", "avro", "3", &[]);
    let mut printed: Vec<&str> = out.lines().collect();
    printed.sort();
    let mut want: Vec<&str> = lines.lines().collect();
    want.sort();
    assert_eq!(
        printed, want,
        "Avro values come back in the Avro JSON encoding"
    );
    // The registry holds the schema under the topic strategy's subject, as Confluent's would.
    let subjects: serde_json::Value = reqwest_free_get(&format!("{}/subjects", dev.registry));
    assert!(
        subjects
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == "orders-value"),
        "{subjects}"
    );
    // `auto` finds the format from the registry's schema type.
    let auto = consume("orders", "auto", "3", &[]);
    assert_eq!(auto.lines().count(), 3);

    // Offline encode/decode find the running dev's registry too (no --registry).
    let encoded = run_with(
        dev.runtime.path(),
        &[
            "encode",
            "--format",
            "avro",
            "--topic",
            "orders",
            "--schema-file",
            avro_path,
        ],
        "{\"id\":\"o-4\",\"amount_cents\":1,\"note\":null}\n",
    );
    assert!(
        encoded.status.success(),
        "{}",
        String::from_utf8_lossy(&encoded.stderr)
    );
    let hex = String::from_utf8(encoded.stdout).unwrap();
    assert!(hex.starts_with("00"), "Confluent framing: {hex}");
    let decoded = run_with(dev.runtime.path(), &["decode", "--format", "auto"], &hex);
    assert!(
        decoded.status.success(),
        "{}",
        String::from_utf8_lossy(&decoded.stderr)
    );
    assert_eq!(
        String::from_utf8(decoded.stdout).unwrap(),
        "{\"id\":\"o-4\",\"amount_cents\":1,\"note\":null}\n"
    );

    let proto = dir.path().join("event.proto");
    std::fs::write(
        &proto,
        "syntax = \"proto3\";\npackage shop.v1;\nmessage Ignored { string x = 1; }\n\
         message Event { string name = 1; int64 at = 2; repeated string tags = 3; }\n",
    )
    .unwrap();
    dev.ok(
        &[
            "produce",
            "--topic",
            "events",
            "--value-format",
            "protobuf",
            "--value-schema-file",
            proto.to_str().unwrap(),
            "--value-message",
            "shop.v1.Event",
        ],
        "{\"name\":\"signup\",\"at\":\"17\",\"tags\":[\"a\",\"b\"]}\n",
    );
    let out = consume("events", "protobuf", "1", &[]);
    assert_eq!(
        out,
        "null:{\"name\":\"signup\",\"at\":\"17\",\"tags\":[\"a\",\"b\"]}\n"
    );

    let schema = dir.path().join("person.json");
    std::fs::write(
        &schema,
        r#"{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer","minimum":0}},"required":["name"]}"#,
    )
    .unwrap();
    let schema_path = schema.to_str().unwrap();
    dev.ok(
        &[
            "produce",
            "--topic",
            "people",
            "--value-format",
            "json-schema",
            "--value-schema-file",
            schema_path,
        ],
        "{\"name\":\"ann\",\"age\":40}\n",
    );
    // A value the schema refuses is an error naming the line, and nothing is sent.
    let e = dev.fails(
        &[
            "produce",
            "--topic",
            "people",
            "--value-format",
            "json-schema",
            "--value-schema-file",
            schema_path,
        ],
        "{\"age\":-1}\n",
    );
    assert!(e.contains("line 1"), "{e}");
    let out = consume("people", "json-schema", "1", &["--timeout-ms", "3000"]);
    assert_eq!(out, "null:{\"name\":\"ann\",\"age\":40}\n");
}

/// A GET on the dev registry without an HTTP client crate: one request over a TCP socket.
fn reqwest_free_get(url: &str) -> serde_json::Value {
    use std::io::Read;
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_owned()), |(h, p)| (h, format!("/{p}")));
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let body = response.split_once("\r\n\r\n").expect("headers end").1;
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body:?}"))
}
