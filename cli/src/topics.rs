//! `kcodec topics create|list|describe`: kafka-topics.
//!
//! `create` uses Kafka's CreateTopics admin request (rdkafka's `AdminClient`), or, against a
//! `kcodec dev`, its control endpoint (librdkafka's mock cluster has no admin API). `list` and
//! `describe` read cluster metadata, which every Kafka (and the mock) serves.

use crate::connect::{AdminArgs, Cluster, dev_create_topic, parse_property};
use crate::dev::validate_create;
use crate::error::CliError;
use clap::{Args, Subcommand};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::metadata::Metadata;
use rdkafka::types::RDKafkaErrorCode;
use std::io::Write;

/// Subcommands of `kcodec topics`.
#[derive(Debug, Subcommand)]
pub enum TopicsCommand {
    /// Create a topic (`Created topic T.`).
    Create(CreateArgs),
    /// List topic names, one per line, sorted.
    List(ListArgs),
    /// Describe topics: partition count, replication factor, and each partition's leader,
    /// replicas and in-sync replicas.
    Describe(DescribeArgs),
}

/// Arguments of `kcodec topics create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    #[command(flatten)]
    common: AdminArgs,
    /// The topic to create.
    #[arg(long)]
    topic: String,
    /// Its partition count (default: the broker's `num.partitions`; 1 on a `kcodec dev`).
    #[arg(long)]
    partitions: Option<i32>,
    /// Its replication factor (default: the broker's `default.replication.factor`; 1 on a
    /// `kcodec dev`).
    #[arg(long)]
    replication_factor: Option<i32>,
    /// A topic configuration, KEY=VALUE (repeatable; not supported by `kcodec dev`).
    #[arg(long = "config", value_name = "KEY=VALUE", value_parser = parse_property)]
    configs: Vec<(String, String)>,
    /// Succeed without doing anything when the topic exists.
    #[arg(long)]
    if_not_exists: bool,
}

/// Arguments of `kcodec topics list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    common: AdminArgs,
    /// Leave out internal topics (names starting with `__`).
    #[arg(long)]
    exclude_internal: bool,
}

/// Arguments of `kcodec topics describe`.
#[derive(Debug, Args)]
pub struct DescribeArgs {
    #[command(flatten)]
    common: AdminArgs,
    /// The topic to describe (default: every topic).
    #[arg(long)]
    topic: Option<String>,
}

/// Runs `kcodec topics`.
pub async fn run(command: TopicsCommand) -> Result<(), CliError> {
    match command {
        TopicsCommand::Create(args) => create(args).await,
        TopicsCommand::List(args) => list(args).await,
        TopicsCommand::Describe(args) => describe(args).await,
    }
}

async fn create(args: CreateArgs) -> Result<(), CliError> {
    let common = &args.common;
    let cluster = common.connect().await?;
    let message = if let Some(dev) = &cluster.dev {
        if !args.configs.is_empty() {
            return Err(CliError::Usage(
                "--config is not supported by kcodec dev (librdkafka's mock cluster has no topic configs)"
                    .to_owned(),
            ));
        }
        let result = dev_create_topic(
            dev,
            &args.topic,
            args.partitions.unwrap_or(1),
            args.replication_factor.unwrap_or(1),
            common.timeout(),
        )
        .await;
        match result {
            Err(CliError::Failed(e)) if args.if_not_exists && e.ends_with("already exists.") => {
                return Ok(());
            }
            other => other?,
        }
    } else {
        match admin_create(&args, &cluster).await {
            Err(CliError::Failed(e)) if args.if_not_exists && e.ends_with("already exists.") => {
                return Ok(());
            }
            other => other?,
        }
    };
    println!("{message}");
    Ok(())
}

async fn admin_create(args: &CreateArgs, cluster: &Cluster) -> Result<String, CliError> {
    let common = &args.common;
    let name = args.topic.as_str();
    crate::dev::validate_topic_name(name).map_err(CliError::Failed)?;
    let admin: AdminClient<DefaultClientContext> = common
        .config(cluster, &[])?
        .create()
        .map_err(|e| CliError::kafka("creating the admin client", e))?;
    // librdkafka's mock cluster names itself `mockCluster…` and has no CreateTopics: say so at
    // once rather than after the request times out.
    let cluster_id =
        tokio::task::block_in_place(|| admin.inner().fetch_cluster_id(common.timeout()));
    if cluster_id.is_some_and(|id| id.starts_with("mockCluster")) {
        return Err(unsupported(cluster, "CreateTopics", name));
    }
    let mut topic = NewTopic::new(
        name,
        args.partitions.unwrap_or(-1),
        TopicReplication::Fixed(args.replication_factor.unwrap_or(-1)),
    );
    for (k, v) in &args.configs {
        topic = topic.set(k, v);
    }
    let options = AdminOptions::new()
        .request_timeout(Some(common.timeout()))
        .operation_timeout(Some(common.timeout()));
    let results = match admin.create_topics([&topic], &options).await {
        Ok(results) => results,
        Err(e) => return Err(unsupported_or(e, "CreateTopics", cluster, name)),
    };
    match results.into_iter().next() {
        Some(Ok(_)) => Ok(format!("Created topic {name}.")),
        Some(Err((_, code))) => Err(CliError::Failed(match code {
            RDKafkaErrorCode::TopicAlreadyExists => format!("Topic '{name}' already exists."),
            RDKafkaErrorCode::InvalidReplicationFactor => {
                let rf = args.replication_factor.unwrap_or(-1);
                let brokers = broker_count(common, cluster).await.unwrap_or(0);
                validate_create(name, 1, rf, brokers)
                    .err()
                    .unwrap_or_else(|| format!("Invalid replication factor {rf}."))
            }
            RDKafkaErrorCode::InvalidPartitions => {
                "Number of partitions must be larger than 0.".to_owned()
            }
            RDKafkaErrorCode::UnsupportedVersion | RDKafkaErrorCode::InvalidRequest => {
                return Err(unsupported(cluster, "CreateTopics", name));
            }
            other => format!("cannot create topic {name}: {other}"),
        })),
        None => Err(CliError::Failed(format!(
            "cannot create topic {name}: the broker sent no result"
        ))),
    }
}

/// The one-line error for a broker without an admin API.
fn unsupported(cluster: &Cluster, api: &str, topic: &str) -> CliError {
    CliError::Failed(format!(
        "the broker at {} does not support {api} (librdkafka's mock cluster has no admin API); start it with kcodec dev --topic {topic}:PARTITIONS",
        cluster.bootstrap
    ))
}

fn unsupported_or(e: KafkaError, api: &str, cluster: &Cluster, topic: &str) -> CliError {
    let code = match &e {
        KafkaError::AdminOp(code) => Some(*code),
        other => other.rdkafka_error_code(),
    };
    match code {
        Some(RDKafkaErrorCode::UnsupportedFeature) | Some(RDKafkaErrorCode::UnsupportedVersion) => {
            unsupported(cluster, api, topic)
        }
        Some(RDKafkaErrorCode::OperationTimedOut) | Some(RDKafkaErrorCode::RequestTimedOut) => {
            CliError::Failed(format!(
                "{api} for topic {topic} got no answer from {} in time (does the broker support it? librdkafka's mock cluster does not: use kcodec dev)",
                cluster.bootstrap
            ))
        }
        _ => CliError::kafka(format!("{api} for topic {topic}"), e),
    }
}

async fn broker_count(common: &AdminArgs, cluster: &Cluster) -> Result<i32, CliError> {
    let metadata = metadata(common, cluster).await?;
    Ok(i32::try_from(metadata.brokers().len()).unwrap_or(i32::MAX))
}

/// Cluster metadata for every topic (read by a consumer handle, which never auto-creates).
async fn metadata(common: &AdminArgs, cluster: &Cluster) -> Result<Metadata, CliError> {
    let mut config = common.config(cluster, &[])?;
    config.set("allow.auto.create.topics", "false");
    let timeout = common.timeout();
    let bootstrap = cluster.bootstrap.clone();
    tokio::task::spawn_blocking(move || {
        let consumer: BaseConsumer = config
            .create()
            .map_err(|e| CliError::kafka("creating a Kafka client", e))?;
        consumer
            .fetch_metadata(None, timeout)
            .map_err(|e| CliError::kafka(format!("reading the metadata of {bootstrap}"), e))
    })
    .await
    .map_err(|e| CliError::Failed(format!("metadata task: {e}")))?
}

async fn list(args: ListArgs) -> Result<(), CliError> {
    let cluster = args.common.connect().await?;
    let metadata = metadata(&args.common, &cluster).await?;
    let mut names: Vec<&str> = metadata
        .topics()
        .iter()
        .map(|t| t.name())
        .filter(|n| !(args.exclude_internal && n.starts_with("__")))
        .collect();
    names.sort_unstable();
    let mut out = std::io::stdout().lock();
    for name in names {
        writeln!(out, "{name}").map_err(|e| CliError::io("writing the topic list", e))?;
    }
    Ok(())
}

fn ids(list: &[i32]) -> String {
    list.iter()
        .map(i32::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

async fn describe(args: DescribeArgs) -> Result<(), CliError> {
    let cluster = args.common.connect().await?;
    let metadata = metadata(&args.common, &cluster).await?;
    let mut topics: Vec<_> = metadata
        .topics()
        .iter()
        .filter(|t| args.topic.as_deref().is_none_or(|want| t.name() == want))
        .filter(|t| t.error().is_none())
        .collect();
    if topics.is_empty()
        && let Some(want) = &args.topic
    {
        return Err(CliError::Failed(format!(
            "Topic '{want}' does not exist as expected"
        )));
    }
    topics.sort_by_key(|t| t.name());
    let mut text = String::new();
    for t in topics {
        let mut partitions: Vec<_> = t.partitions().iter().collect();
        partitions.sort_by_key(|p| p.id());
        let rf = partitions.first().map_or(0, |p| p.replicas().len());
        text.push_str(&format!(
            "Topic: {}\tPartitionCount: {}\tReplicationFactor: {}\tConfigs: \n",
            t.name(),
            partitions.len(),
            rf
        ));
        for p in partitions {
            let leader = if p.leader() < 0 {
                "none".to_owned()
            } else {
                p.leader().to_string()
            };
            text.push_str(&format!(
                "\tTopic: {}\tPartition: {}\tLeader: {}\tReplicas: {}\tIsr: {}\n",
                t.name(),
                p.id(),
                leader,
                ids(p.replicas()),
                ids(p.isr())
            ));
        }
    }
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| CliError::io("writing the description", e))
}
