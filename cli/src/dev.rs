//! `kcodec dev`: librdkafka's mock Kafka cluster and the dev schema registry in one process.
//!
//! The mock cluster speaks the Kafka protocol (produce, fetch, consumer groups, offset commits,
//! metadata, list offsets) but has no admin API (no CreateTopics, ListGroups, DescribeGroups). So
//! `kcodec dev` also serves a small control endpoint on 127.0.0.1 (one JSON object per line over
//! TCP) through which `kcodec topics create` creates topics, and writes a discovery file (see
//! [`crate::discovery`]) so the other commands find that endpoint and the registry.
//!
//! Control requests, one JSON object per line, each answered by `{"ok":MESSAGE}` or
//! `{"error":MESSAGE}` with kafka-topics' wording:
//!
//! * `{"op":"create_topic","topic":T,"partitions":P,"replication_factor":R,"configs":{K:V}}` →
//!   `{"ok":"Created topic T."}` (`configs` optional). A name that collides with an existing
//!   topic's once `.` and `_` are treated alike is refused as Kafka refuses it; config names are
//!   checked against Kafka's topic configs and the values kept (the mock applies none of them).
//! * `{"op":"topic_configs"}` → `{"configs":{T:{K:V}}}`: the configs each topic was created with.
//! * `{"op":"delete_topic","topic":T}` and `{"op":"create_partitions","topic":T,"partitions":P}`:
//!   the topic and the count are checked as Kafka checks them (`Topic 'T' does not exist as
//!   expected`, `... would not be an increase.`), then the request is refused: librdkafka's mock
//!   cluster can neither remove a topic nor add partitions to one (its API has no call for either).
//! * `{"op":"info"}` → the broker count and the bootstrap servers.

use crate::discovery::{DevInfo, DiscoveryFile};
use crate::error::{CliError, describe};
use clap::Args;
use kcodec_registry::InMemoryRegistry;
use kcodec_registry::server::{DevServer, ServerOptions};
use rdkafka::ClientConfig;
use rdkafka::producer::{BaseProducer, Producer};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// Arguments of `kcodec dev`.
#[derive(Debug, Args)]
pub struct DevArgs {
    /// Number of brokers of the mock cluster (replication factors up to this are accepted).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(i32).range(1..=64))]
    pub brokers: i32,

    /// Create this topic on start: NAME:PARTITIONS[:REPLICATION-FACTOR] (repeatable).
    #[arg(long = "topic", value_name = "NAME:PARTITIONS[:RF]")]
    pub topics: Vec<TopicSpec>,

    /// Address of the schema registry. Port 0 picks a free port (the URL printed on start
    /// names it).
    #[arg(long, default_value = "127.0.0.1:8081", value_name = "ADDR")]
    pub registry_listen: SocketAddr,

    /// Do not run a schema registry.
    #[arg(long, conflicts_with = "registry_listen")]
    pub no_registry: bool,

    /// Address of the control endpoint (topic creation for `kcodec topics create`).
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    pub control_listen: SocketAddr,

    /// The mock's initial rebalance delay: how long the first member of a group waits for
    /// others before the group forms. Kafka's broker default is 3000; 0 lets a console consumer
    /// start at once.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub rebalance_delay_ms: i32,
}

/// A topic to create on start: `NAME:PARTITIONS[:RF]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicSpec {
    /// The topic's name.
    pub name: String,
    /// Its partition count.
    pub partitions: i32,
    /// Its replication factor (default 1).
    pub replication_factor: i32,
}

impl FromStr for TopicSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("expected NAME:PARTITIONS[:REPLICATION-FACTOR], got {s:?}");
        let mut parts = s.rsplitn(3, ':').collect::<Vec<_>>();
        parts.reverse();
        // NAME may not contain ':' (Kafka forbids it), so a split from the right is exact.
        let (name, partitions, rf) = match parts.as_slice() {
            [name, p] => (*name, *p, "1"),
            [name, p, rf] => (*name, *p, *rf),
            _ => return Err(bad()),
        };
        Ok(TopicSpec {
            name: name.to_owned(),
            partitions: partitions.parse().map_err(|_| bad())?,
            replication_factor: rf.parse().map_err(|_| bad())?,
        })
    }
}

/// Kafka's topic name rules (`Topic.validate`), with its messages.
pub fn validate_topic_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("Topic name is illegal, it can't be empty".to_owned());
    }
    if name == "." || name == ".." {
        return Err("Topic name cannot be \".\" or \"..\"".to_owned());
    }
    if name.len() > 249 {
        return Err(format!(
            "Topic name is illegal, it can't be longer than 249 characters, topic name: {name}"
        ));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err(format!(
            "Topic name \"{name}\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'"
        ));
    }
    Ok(())
}

/// Kafka's check that a new topic's name does not collide with an existing one's in metric
/// names, where `.` and `_` are the same (`Topic.hasCollision`), with the controller's message
/// (`InvalidTopicException`). The same name is not a collision (that is "already exists").
pub fn check_collision<'a>(
    name: &str,
    existing: impl IntoIterator<Item = &'a str>,
) -> Result<(), String> {
    let canonical = |n: &str| n.replace('.', "_");
    let wanted = canonical(name);
    match existing
        .into_iter()
        .find(|other| *other != name && canonical(other) == wanted)
    {
        Some(other) => Err(format!(
            "Topic '{name}' collides with existing topic: {other}"
        )),
        None => Ok(()),
    }
}

/// Kafka's topic-level configuration names (`LogConfig`, Kafka 3.x and 4.x).
const TOPIC_CONFIG_NAMES: &[&str] = &[
    "cleanup.policy",
    "compression.gzip.level",
    "compression.lz4.level",
    "compression.type",
    "compression.zstd.level",
    "delete.retention.ms",
    "file.delete.delay.ms",
    "flush.messages",
    "flush.ms",
    "follower.replication.throttled.replicas",
    "index.interval.bytes",
    "leader.replication.throttled.replicas",
    "local.retention.bytes",
    "local.retention.ms",
    "max.compaction.lag.ms",
    "max.message.bytes",
    "message.downconversion.enable",
    "message.format.version",
    "message.timestamp.after.max.ms",
    "message.timestamp.before.max.ms",
    "message.timestamp.difference.max.ms",
    "message.timestamp.type",
    "min.cleanable.dirty.ratio",
    "min.compaction.lag.ms",
    "min.insync.replicas",
    "preallocate",
    "remote.log.copy.disable",
    "remote.log.delete.on.disable",
    "remote.storage.enable",
    "retention.bytes",
    "retention.ms",
    "segment.bytes",
    "segment.index.bytes",
    "segment.jitter.ms",
    "segment.ms",
    "unclean.leader.election.enable",
];

/// Refuses a configuration name Kafka does not know, with its message
/// (`LogConfig.validateNames`).
pub fn validate_topic_config_names<'a>(
    names: impl IntoIterator<Item = &'a str>,
) -> Result<(), String> {
    match names.into_iter().find(|n| !TOPIC_CONFIG_NAMES.contains(n)) {
        Some(unknown) => Err(format!("Unknown topic config name: {unknown}")),
        None => Ok(()),
    }
}

/// The checks a Kafka controller makes before creating a topic, with kafka-topics' messages.
pub fn validate_create(
    name: &str,
    partitions: i32,
    replication_factor: i32,
    brokers: i32,
) -> Result<(), String> {
    validate_topic_name(name)?;
    if partitions < 1 {
        return Err("Number of partitions must be larger than 0.".to_owned());
    }
    if replication_factor < 1 {
        return Err("Replication factor must be larger than 0.".to_owned());
    }
    if replication_factor > brokers {
        return Err(format!(
            "Unable to replicate the partition {replication_factor} time(s): The target replication factor of {replication_factor} cannot be reached because only {brokers} broker(s) are registered."
        ));
    }
    Ok(())
}

/// The check a Kafka (KRaft) controller makes before adding partitions, with its messages.
pub fn validate_partition_increase(name: &str, current: i32, requested: i32) -> Result<(), String> {
    if requested < current {
        return Err(format!(
            "The topic {name} currently has {current} partition(s); {requested} would not be an increase."
        ));
    }
    if requested == current {
        return Err(format!("Topic already has {current} partition(s)."));
    }
    Ok(())
}

/// kafka-topics' error for a `--topic` that names no topic (`--delete`, `--alter`).
pub fn no_such_topic(name: &str) -> String {
    format!("Topic '{name}' does not exist as expected")
}

/// The mock cluster, owned by a producer handle (which is `Send + Sync`; the mock's own calls
/// post operations to its thread, so any thread may make them).
struct Mock {
    owner: BaseProducer,
    brokers: i32,
    /// The configs each topic was created with (kept for `describe`; the mock applies none).
    /// Held while a topic is created, so creations (and their collision checks) are serial.
    configs: std::sync::Mutex<BTreeMap<String, BTreeMap<String, String>>>,
}

impl Mock {
    fn start(brokers: i32, rebalance_delay_ms: i32) -> Result<Mock, CliError> {
        let owner: BaseProducer = ClientConfig::new()
            .set("test.mock.num.brokers", brokers.to_string())
            .create()
            .map_err(|e| CliError::kafka("starting librdkafka's mock cluster", e))?;
        // SAFETY: the handle is alive for this call; a null mock cluster is checked.
        let raw = unsafe { rdkafka_sys::rd_kafka_handle_mock_cluster(owner.client().native_ptr()) };
        if raw.is_null() {
            return Err(CliError::Failed(
                "librdkafka did not start a mock cluster".to_owned(),
            ));
        }
        // SAFETY: `raw` is the live mock cluster of `owner`; the call posts an op to it.
        unsafe {
            rdkafka_sys::rd_kafka_mock_group_initial_rebalance_delay_ms(raw, rebalance_delay_ms)
        };
        Ok(Mock {
            owner,
            brokers,
            configs: std::sync::Mutex::new(BTreeMap::new()),
        })
    }

    fn bootstrap(&self) -> String {
        self.owner
            .client()
            .mock_cluster()
            .map(|m| m.bootstrap_servers())
            .unwrap_or_default()
    }

    /// Creates a topic; `Ok` is kafka-topics' success line.
    fn create_topic(
        &self,
        name: &str,
        partitions: i32,
        rf: i32,
        configs: BTreeMap<String, String>,
    ) -> Result<String, String> {
        validate_create(name, partitions, rf, self.brokers)?;
        validate_topic_config_names(configs.keys().map(String::as_str))?;
        let Some(mock) = self.owner.client().mock_cluster() else {
            return Err("the mock cluster is gone".to_owned());
        };
        let mut kept = self
            .configs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let existing = self.topic_names()?;
        if existing.iter().any(|t| t == name) {
            return Err(format!("Topic '{name}' already exists."));
        }
        check_collision(name, existing.iter().map(String::as_str))?;
        match mock.create_topic(name, partitions, rf) {
            Ok(()) => {
                kept.insert(name.to_owned(), configs);
                Ok(format!("Created topic {name}."))
            }
            Err(rdkafka::error::KafkaError::MockCluster(
                rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists,
            )) => Err(format!("Topic '{name}' already exists.")),
            Err(e) => Err(format!("cannot create topic {name}: {e}")),
        }
    }

    /// The mock's metadata for every topic (which never creates one).
    fn metadata(&self) -> Result<rdkafka::metadata::Metadata, String> {
        self.owner
            .client()
            .fetch_metadata(None, std::time::Duration::from_secs(5))
            .map_err(|e| format!("reading the mock cluster's metadata: {e}"))
    }

    /// The names of the mock's topics.
    fn topic_names(&self) -> Result<Vec<String>, String> {
        Ok(self
            .metadata()?
            .topics()
            .iter()
            .filter(|t| t.error().is_none())
            .map(|t| t.name().to_owned())
            .collect())
    }

    /// The configs each topic was created with.
    fn topic_configs(&self) -> Value {
        let kept = self
            .configs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        json!({ "configs": *kept })
    }

    /// The partition count of `name`, `None` when the mock has no such topic (read from its
    /// metadata for every topic, which never creates one).
    fn partition_count(&self, name: &str) -> Result<Option<i32>, String> {
        Ok(self
            .metadata()?
            .topics()
            .iter()
            .find(|t| t.name() == name && t.error().is_none())
            .map(|t| i32::try_from(t.partitions().len()).unwrap_or(i32::MAX)))
    }

    /// Checks the topic exists, then refuses: the mock cannot delete a topic.
    fn delete_topic(&self, name: &str) -> Result<String, String> {
        if self.partition_count(name)?.is_none() {
            return Err(no_such_topic(name));
        }
        Err(format!(
            "kcodec dev cannot delete topic {name}: librdkafka's mock cluster has no way to remove a topic (restart kcodec dev for an empty cluster)"
        ))
    }

    /// Checks the topic exists and the count is an increase, then refuses: the mock cannot add
    /// partitions.
    fn create_partitions(&self, name: &str, partitions: i32) -> Result<String, String> {
        let current = self
            .partition_count(name)?
            .ok_or_else(|| no_such_topic(name))?;
        validate_partition_increase(name, current, partitions)?;
        Err(format!(
            "kcodec dev cannot add partitions to topic {name}: librdkafka's mock cluster cannot change a topic's partition count (start kcodec dev with --topic {name}:{partitions})"
        ))
    }
}

/// Runs `kcodec dev` until Ctrl-C or SIGTERM.
pub async fn run(args: DevArgs) -> Result<(), CliError> {
    let mock = Arc::new(Mock::start(args.brokers, args.rebalance_delay_ms)?);
    let bootstrap = mock.bootstrap();

    let registry = if args.no_registry {
        None
    } else {
        let options = ServerOptions {
            protobuf_format: Arc::new(kcodec_codecs::protobuf::ProtobufServerFormat),
            ..ServerOptions::default()
        };
        let server = DevServer::start(
            args.registry_listen,
            Arc::new(InMemoryRegistry::new()),
            options,
        )
        .await
        .map_err(|source| CliError::Registry {
            context: format!(
                "starting the schema registry on {} (--registry-listen 127.0.0.1:0 picks a free port; --no-registry runs none)",
                args.registry_listen
            ),
            source,
        })?;
        Some(server)
    };
    let control = TcpListener::bind(args.control_listen)
        .await
        .map_err(|e| CliError::io(format!("binding {}", args.control_listen), e))?;
    let control_addr = control
        .local_addr()
        .map_err(|e| CliError::io("reading the control address", e))?;

    let mut created = Vec::new();
    for t in &args.topics {
        created.push(
            mock.create_topic(&t.name, t.partitions, t.replication_factor, BTreeMap::new())
                .map_err(CliError::Failed)?,
        );
    }

    let info = DevInfo {
        bootstrap: bootstrap.clone(),
        registry: registry.as_ref().map(DevServer::url),
        control: control_addr.to_string(),
        brokers: args.brokers,
        pid: std::process::id(),
    };
    let file = DiscoveryFile::write(&info)?;

    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "Bootstrap servers: {bootstrap}");
        match &info.registry {
            Some(url) => {
                let _ = writeln!(out, "Schema registry: {url}");
            }
            None => {
                let _ = writeln!(out, "Schema registry: none (--no-registry)");
            }
        }
        let _ = writeln!(
            out,
            "Brokers: {} (librdkafka mock cluster; initial rebalance delay {} ms)",
            args.brokers, args.rebalance_delay_ms
        );
        let _ = writeln!(out, "Control endpoint: {control_addr}");
        let _ = writeln!(out, "Discovery file: {}", file.path().display());
        for line in &created {
            let _ = writeln!(out, "{line}");
        }
        let _ = writeln!(out, "Ready; Ctrl-C stops.");
        let _ = out.flush();
    }

    let control_task = tokio::spawn(serve_control(control, mock.clone()));
    let result = match registry {
        Some(server) => server
            .run_until(crate::registry_cmd::stop_signal())
            .await
            .map_err(|e| CliError::Failed(describe(&e))),
        None => {
            crate::registry_cmd::stop_signal().await;
            Ok(())
        }
    };
    control_task.abort();
    drop(file);
    eprintln!("Shutting down");
    result
}

/// Accepts control connections; each carries JSON requests, one per line.
async fn serve_control(listener: TcpListener, mock: Arc<Mock>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let mock = mock.clone();
        tokio::spawn(async move {
            let (read, mut write) = stream.into_split();
            // A request is a short JSON line; more than 64 KiB is not one.
            let mut lines = BufReader::new(read.take(64 * 1024)).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let mock = mock.clone();
                let answer = tokio::task::spawn_blocking(move || handle(&mock, &line))
                    .await
                    .unwrap_or_else(|e| json!({ "error": e.to_string() }));
                let mut text = answer.to_string();
                text.push('\n');
                if write.write_all(text.as_bytes()).await.is_err() {
                    break;
                }
            }
        });
    }
}

fn answer(result: Result<String, String>) -> Value {
    match result {
        Ok(ok) => json!({ "ok": ok }),
        Err(e) => json!({ "error": e }),
    }
}

fn handle(mock: &Mock, line: &str) -> Value {
    let Ok(request) = serde_json::from_str::<Value>(line) else {
        return json!({ "error": "not a JSON request" });
    };
    match request.get("op").and_then(Value::as_str) {
        Some("create_topic") => {
            let topic = request.get("topic").and_then(Value::as_str);
            let int = |k: &str| {
                request
                    .get(k)
                    .and_then(Value::as_i64)
                    .and_then(|n| i32::try_from(n).ok())
            };
            let configs: BTreeMap<String, String> = match request.get("configs") {
                None | Some(Value::Null) => BTreeMap::new(),
                Some(Value::Object(map)) => {
                    let mut configs = BTreeMap::new();
                    for (k, v) in map {
                        let Some(v) = v.as_str() else {
                            return json!({ "error": format!("config {k}: the value must be a string") });
                        };
                        configs.insert(k.clone(), v.to_owned());
                    }
                    configs
                }
                Some(_) => return json!({ "error": "configs must be an object of strings" }),
            };
            match (topic, int("partitions"), int("replication_factor")) {
                (Some(topic), Some(p), Some(rf)) => {
                    answer(mock.create_topic(topic, p, rf, configs))
                }
                _ => {
                    json!({ "error": "create_topic needs topic, partitions and replication_factor" })
                }
            }
        }
        Some("delete_topic") => match request.get("topic").and_then(Value::as_str) {
            Some(topic) => answer(mock.delete_topic(topic)),
            None => json!({ "error": "delete_topic needs topic" }),
        },
        Some("create_partitions") => {
            let topic = request.get("topic").and_then(Value::as_str);
            let partitions = request
                .get("partitions")
                .and_then(Value::as_i64)
                .and_then(|n| i32::try_from(n).ok());
            match (topic, partitions) {
                (Some(topic), Some(p)) => answer(mock.create_partitions(topic, p)),
                _ => json!({ "error": "create_partitions needs topic and partitions" }),
            }
        }
        Some("topic_configs") => mock.topic_configs(),
        Some("info") => json!({ "brokers": mock.brokers, "bootstrap": mock.bootstrap() }),
        _ => json!({ "error": "unknown op" }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_specs() {
        assert_eq!(
            "orders:3".parse::<TopicSpec>().unwrap(),
            TopicSpec {
                name: "orders".into(),
                partitions: 3,
                replication_factor: 1
            }
        );
        assert_eq!(
            "a.b:6:3".parse::<TopicSpec>().unwrap().replication_factor,
            3
        );
        assert!("orders".parse::<TopicSpec>().is_err());
        assert!("orders:x".parse::<TopicSpec>().is_err());
    }

    #[test]
    fn kafka_checks() {
        assert_eq!(
            validate_create("t", 3, 3, 1).unwrap_err(),
            "Unable to replicate the partition 3 time(s): The target replication factor of 3 cannot be reached because only 1 broker(s) are registered."
        );
        assert!(validate_create("t", 0, 1, 1).is_err());
        assert!(
            validate_create("a b", 1, 1, 1)
                .unwrap_err()
                .contains("illegal")
        );
        assert!(validate_create("t", 3, 3, 3).is_ok());
    }

    #[test]
    fn colliding_names_and_config_names() {
        let existing = ["foo.bar", "plain"];
        assert_eq!(
            check_collision("foo_bar", existing).unwrap_err(),
            "Topic 'foo_bar' collides with existing topic: foo.bar"
        );
        assert_eq!(
            check_collision("a.b_c", ["a_b.c"]).unwrap_err(),
            "Topic 'a.b_c' collides with existing topic: a_b.c"
        );
        // The same name is not a collision ("already exists" is checked apart); '-' is not
        // '_' or '.'.
        assert!(check_collision("foo.bar", existing).is_ok());
        assert!(check_collision("foo-bar", existing).is_ok());
        assert!(validate_topic_config_names(["cleanup.policy", "retention.ms"]).is_ok());
        assert_eq!(
            validate_topic_config_names(["retention.ms", "retention"]).unwrap_err(),
            "Unknown topic config name: retention"
        );
    }

    #[test]
    fn partition_increases() {
        assert_eq!(
            validate_partition_increase("orders", 3, 2).unwrap_err(),
            "The topic orders currently has 3 partition(s); 2 would not be an increase."
        );
        assert_eq!(
            validate_partition_increase("orders", 3, 3).unwrap_err(),
            "Topic already has 3 partition(s)."
        );
        assert!(validate_partition_increase("orders", 3, 4).is_ok());
    }
}
