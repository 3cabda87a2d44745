//! `kcodec dev`: kcodec's in-memory broker behind Kafka's wire protocol
//! ([`kcodec_kafka_server::serve`]) and the dev schema registry in one process.
//!
//! Any Kafka client (librdkafka, Java, Confluent's clients, kcat, the other `kcodec` commands)
//! produces, consumes, joins groups and administers topics and groups through Kafka's own
//! requests (CreateTopics, DeleteTopics, CreatePartitions, DescribeConfigs, ListGroups,
//! DescribeGroups, DeleteGroups, ...). The broker is configured as Kafka's defaults are
//! (`auto.create.topics.enable=true`, `num.partitions=1`, `default.replication.factor=1`).
//! `kcodec dev` writes a discovery file (see [`crate::discovery`]) so the other commands find
//! its bootstrap servers and its registry without flags.

use crate::discovery::{DevInfo, DiscoveryFile};
use crate::error::{CliError, describe};
use clap::Args;
use kcodec_broker::{Cluster, NewTopic};
use kcodec_registry::InMemoryRegistry;
use kcodec_registry::server::{DevServer, ServerOptions};
use std::io::Write;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;

/// Arguments of `kcodec dev`.
#[derive(Debug, Args)]
pub struct DevArgs {
    /// Number of brokers (replication factors up to this are accepted), each with a listener
    /// of its own.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(i32).range(1..=64))]
    pub brokers: i32,

    /// Create this topic on start: NAME:PARTITIONS[:REPLICATION-FACTOR] (repeatable).
    #[arg(long = "topic", value_name = "NAME:PARTITIONS[:RF]")]
    pub topics: Vec<TopicSpec>,

    /// Address of the Kafka listeners: broker 0 on it, broker N on its port + N. Port 0 gives
    /// each broker a free port (the bootstrap servers printed on start name them).
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    pub listen: SocketAddr,

    /// Address of the schema registry. Port 0 picks a free port (the URL printed on start
    /// names it).
    #[arg(long, default_value = "127.0.0.1:8081", value_name = "ADDR")]
    pub registry_listen: SocketAddr,

    /// Do not run a schema registry.
    #[arg(long, conflicts_with = "registry_listen")]
    pub no_registry: bool,

    /// Formerly the address of the control endpoint that librdkafka's mock cluster needed for
    /// topic creation; topics are now administered through Kafka's admin API, so the value is
    /// not used.
    #[arg(long, value_name = "ADDR", hide = true)]
    pub control_listen: Option<SocketAddr>,

    /// Kafka's `group.initial.rebalance.delay.ms`. kcodec's broker completes a group's first
    /// join at once (as with 0, the default here); another value is accepted and not applied.
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

/// Refuses a configuration name Kafka does not know, with its message
/// (`LogConfig.validateNames`).
pub fn validate_topic_config_names<'a>(
    names: impl IntoIterator<Item = &'a str>,
) -> Result<(), String> {
    match names
        .into_iter()
        .find(|n| !kcodec_kafka_server::TOPIC_CONFIG_NAMES.contains(n))
    {
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

/// How often the coordinator's timed transitions (session and rebalance timeouts, offset
/// expiry) run when no request touches the group, as Kafka's coordinator timers do.
const TICK: std::time::Duration = std::time::Duration::from_millis(500);

/// Runs `kcodec dev` until Ctrl-C or SIGTERM.
pub async fn run(args: DevArgs) -> Result<(), CliError> {
    if args.control_listen.is_some() {
        eprintln!(
            "Note: --control-listen is not used: kcodec dev serves Kafka's admin API (CreateTopics, DeleteTopics, ...) on its brokers."
        );
    }
    if args.rebalance_delay_ms != 0 {
        eprintln!(
            "Note: --rebalance-delay-ms {} is not applied: kcodec's broker completes a group's first join at once.",
            args.rebalance_delay_ms
        );
    }
    let cluster = Cluster::builder()
        .brokers(args.brokers)
        .auto_create_topics(true)
        .default_partitions(1)
        .default_replication_factor(1)
        .build();
    let mut created = Vec::new();
    for t in &args.topics {
        let replication_factor = i16::try_from(t.replication_factor).map_err(|_| {
            CliError::Failed(format!(
                "--topic {}: the replication factor {} is not a Kafka replication factor (at most {})",
                t.name,
                t.replication_factor,
                i16::MAX
            ))
        })?;
        cluster
            .create_topic(NewTopic::new(
                t.name.clone(),
                t.partitions,
                replication_factor,
            ))
            .map_err(|e| CliError::Failed(format!("--topic {}: {e}", t.name)))?;
        created.push(format!("Created topic {}.", t.name));
    }
    let server = kcodec_kafka_server::serve(&cluster, &args.listen.to_string())
        .await
        .map_err(|e| {
            CliError::Failed(format!(
                "starting the Kafka listeners: {} (--listen 127.0.0.1:0 picks free ports)",
                describe(&e)
            ))
        })?;
    let bootstrap = server.bootstrap();

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

    let info = DevInfo {
        bootstrap: bootstrap.clone(),
        registry: registry.as_ref().map(DevServer::url),
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
            "Brokers: {} (kcodec's in-memory broker over Kafka's protocol)",
            args.brokers
        );
        let _ = writeln!(out, "Discovery file: {}", file.path().display());
        for line in &created {
            let _ = writeln!(out, "{line}");
        }
        let _ = writeln!(out, "Ready; Ctrl-C stops.");
        let _ = out.flush();
    }

    let ticker = {
        let cluster = cluster.clone();
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(TICK);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                cluster.tick();
            }
        })
    };
    let result = match registry {
        Some(registry) => registry
            .run_until(crate::registry_cmd::stop_signal())
            .await
            .map_err(|e| CliError::Failed(describe(&e))),
        None => {
            crate::registry_cmd::stop_signal().await;
            Ok(())
        }
    };
    ticker.abort();
    server.shutdown().await;
    drop(file);
    eprintln!("Shutting down");
    result
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
