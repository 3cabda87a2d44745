//! `kcodec topics create|delete|alter|list|describe`: kafka-topics.
//!
//! `create`, `delete` and `alter` use Kafka's CreateTopics, DeleteTopics and CreatePartitions
//! admin requests (rdkafka's `AdminClient`), on any Kafka and on `kcodec dev` alike. `delete`
//! and `alter` first look the topic up in the metadata, as kafka-topics does. `list` and
//! `describe` read cluster metadata; `describe` adds each topic's non-default configs
//! (DescribeConfigs). librdkafka's mock cluster, which answers no admin request, is refused in
//! one line. Kafka 3's `TopicId:` is not printed: librdkafka's metadata does not expose topic
//! ids.
//!
//! As kafka-topics, `create` prints the metric-name collision warning for a name with `.` or `_`
//! and checks `--partitions` and `--replication-factor` before sending anything.

use crate::connect::{AdminArgs, Cluster, parse_property};
use crate::dev::{no_such_topic, validate_create, validate_partition_increase};
use crate::error::CliError;
use clap::{Args, Subcommand};
use rdkafka::admin::{
    AdminClient, AdminOptions, ConfigSource, NewPartitions, NewTopic, OwnedResourceSpecifier,
    ResourceSpecifier, TopicReplication,
};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::metadata::Metadata;
use rdkafka::types::RDKafkaErrorCode;
use std::collections::BTreeMap;
use std::io::Write;

/// Subcommands of `kcodec topics`.
#[derive(Debug, Subcommand)]
pub enum TopicsCommand {
    /// Create a topic (`Created topic T.`).
    Create(CreateArgs),
    /// Delete a topic (prints nothing on success, as kafka-topics).
    Delete(DeleteArgs),
    /// Raise a topic's partition count (`--partitions N`; Kafka never lowers it).
    Alter(AlterArgs),
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
    /// Its partition count (default: the broker's `num.partitions`, 1 on a `kcodec dev`).
    #[arg(long, allow_negative_numbers = true)]
    partitions: Option<i32>,
    /// Its replication factor (default: the broker's `default.replication.factor`, 1 on a
    /// `kcodec dev`).
    #[arg(long, allow_negative_numbers = true)]
    replication_factor: Option<i32>,
    /// A topic configuration, KEY=VALUE (repeatable). A `kcodec dev` checks the name, keeps
    /// the value and reports it in `describe`; of the values it applies
    /// `message.timestamp.type`.
    #[arg(long = "config", value_name = "KEY=VALUE", value_parser = parse_property)]
    configs: Vec<(String, String)>,
    /// Succeed without doing anything when the topic exists.
    #[arg(long)]
    if_not_exists: bool,
}

/// Arguments of `kcodec topics delete`.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    #[command(flatten)]
    common: AdminArgs,
    /// The topic to delete.
    #[arg(long)]
    topic: String,
    /// Succeed without doing anything when the topic does not exist.
    #[arg(long)]
    if_exists: bool,
}

/// Arguments of `kcodec topics alter`.
#[derive(Debug, Args)]
pub struct AlterArgs {
    #[command(flatten)]
    common: AdminArgs,
    /// The topic to alter.
    #[arg(long)]
    topic: String,
    /// The new partition count (more than the current one).
    #[arg(long, allow_negative_numbers = true)]
    partitions: i32,
    /// Succeed without doing anything when the topic does not exist.
    #[arg(long)]
    if_exists: bool,
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
        TopicsCommand::Delete(args) => delete(args).await,
        TopicsCommand::Alter(args) => alter(args).await,
        TopicsCommand::List(args) => list(args).await,
        TopicsCommand::Describe(args) => describe(args).await,
    }
}

/// kafka-topics' warning for a name with a character that may collide in metric names.
pub const COLLISION_WARNING: &str = "WARNING: Due to limitations in metric names, topics with a period ('.') or underscore ('_') could collide. To avoid issues it is best to use either, but not both.";

/// The checks kafka-topics makes on `--create`'s numbers before sending anything, with its
/// messages (`TopicCommand.createTopic`).
pub fn check_create_args(
    partitions: Option<i32>,
    replication_factor: Option<i32>,
) -> Result<(), String> {
    if replication_factor.is_some_and(|rf| !(1..=i32::from(i16::MAX)).contains(&rf)) {
        return Err(format!(
            "The replication factor must be between 1 and {} inclusive",
            i16::MAX
        ));
    }
    if partitions.is_some_and(|p| p < 1) {
        return Err("The partitions must be greater than 0".to_owned());
    }
    Ok(())
}

async fn create(args: CreateArgs) -> Result<(), CliError> {
    // As kafka-topics: the warning first (on stdout, as it prints it), then the argument
    // checks, then the request.
    if args.topic.contains(['.', '_']) {
        println!("{COLLISION_WARNING}");
    }
    check_create_args(args.partitions, args.replication_factor).map_err(CliError::Failed)?;
    let common = &args.common;
    let cluster = common.connect().await?;
    let message = match admin_create(&args, &cluster).await {
        Err(CliError::Failed(e)) if args.if_not_exists && e.ends_with("already exists.") => {
            return Ok(());
        }
        other => other?,
    };
    println!("{message}");
    Ok(())
}

async fn admin_create(args: &CreateArgs, cluster: &Cluster) -> Result<String, CliError> {
    let common = &args.common;
    let name = args.topic.as_str();
    crate::dev::validate_topic_name(name).map_err(CliError::Failed)?;
    let admin = admin_client(common, cluster, "CreateTopics", name)?;
    let mut topic = NewTopic::new(
        name,
        args.partitions.unwrap_or(-1),
        TopicReplication::Fixed(args.replication_factor.unwrap_or(-1)),
    );
    for (k, v) in &args.configs {
        topic = topic.set(k, v);
    }
    let results = match admin.create_topics([&topic], &admin_options(common)).await {
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
            // As for a collision: Kafka's message for an unknown config name, rebuilt.
            RDKafkaErrorCode::InvalidConfig => crate::dev::validate_topic_config_names(
                args.configs.iter().map(|(k, _)| k.as_str()),
            )
            .err()
            .unwrap_or_else(|| format!("cannot create topic {name}: {code}")),
            // librdkafka keeps the code but not the broker's message: rebuild Kafka's for a
            // name that collides with an existing topic's.
            RDKafkaErrorCode::InvalidTopic => {
                let topics = metadata(common, cluster).await.ok();
                let names = topics
                    .iter()
                    .flat_map(|m| m.topics())
                    .map(|t| t.name().to_owned())
                    .collect::<Vec<_>>();
                crate::dev::check_collision(name, names.iter().map(String::as_str))
                    .err()
                    .unwrap_or_else(|| format!("cannot create topic {name}: {code}"))
            }
            RDKafkaErrorCode::UnsupportedVersion | RDKafkaErrorCode::InvalidRequest => {
                return Err(unsupported(cluster, "CreateTopics", name, false));
            }
            other => format!("cannot create topic {name}: {other}"),
        })),
        None => Err(CliError::Failed(format!(
            "cannot create topic {name}: the broker sent no result"
        ))),
    }
}

/// The one-line error for a broker without an admin API (`mock`: it is librdkafka's mock
/// cluster, which has none).
fn unsupported(cluster: &Cluster, api: &str, topic: &str, mock: bool) -> CliError {
    let why = if mock {
        " (librdkafka's mock cluster has no admin API)"
    } else {
        ""
    };
    let hint = if mock && api == "CreateTopics" {
        format!("; kcodec dev serves it (kcodec dev --topic {topic}:PARTITIONS)")
    } else {
        String::new()
    };
    CliError::Failed(format!(
        "the broker at {} does not support {api}{why}{hint}",
        cluster.bootstrap
    ))
}

/// An admin client; librdkafka's mock cluster (which names itself `mockCluster…` and answers
/// no admin request) is refused at once, in one line, rather than after the request times out.
fn admin_client(
    common: &AdminArgs,
    cluster: &Cluster,
    api: &str,
    topic: &str,
) -> Result<AdminClient<DefaultClientContext>, CliError> {
    let admin: AdminClient<DefaultClientContext> = common
        .config(cluster, &[])?
        .create()
        .map_err(|e| CliError::kafka("creating the admin client", e))?;
    let cluster_id =
        tokio::task::block_in_place(|| admin.inner().fetch_cluster_id(common.timeout()));
    if cluster_id.is_some_and(|id| id.starts_with("mockCluster")) {
        return Err(unsupported(cluster, api, topic, true));
    }
    Ok(admin)
}

fn admin_options(common: &AdminArgs) -> AdminOptions {
    AdminOptions::new()
        .request_timeout(Some(common.timeout()))
        .operation_timeout(Some(common.timeout()))
}

/// The partition count of `name` from the metadata, `None` when there is no such topic.
async fn partition_count(
    common: &AdminArgs,
    cluster: &Cluster,
    name: &str,
) -> Result<Option<i32>, CliError> {
    let metadata = metadata(common, cluster).await?;
    Ok(metadata
        .topics()
        .iter()
        .find(|t| t.name() == name && t.error().is_none())
        .map(|t| i32::try_from(t.partitions().len()).unwrap_or(i32::MAX)))
}

async fn delete(args: DeleteArgs) -> Result<(), CliError> {
    let common = &args.common;
    let name = args.topic.as_str();
    let cluster = common.connect().await?;
    // kafka-topics looks the topic up first: a missing one is an error unless --if-exists.
    if partition_count(common, &cluster, name).await?.is_none() {
        return if args.if_exists {
            Ok(())
        } else {
            Err(CliError::Failed(no_such_topic(name)))
        };
    }
    let admin = admin_client(common, &cluster, "DeleteTopics", name)?;
    let results = admin
        .delete_topics(&[name], &admin_options(common))
        .await
        .map_err(|e| unsupported_or(e, "DeleteTopics", &cluster, name))?;
    match results.into_iter().next() {
        Some(Ok(_)) => Ok(()),
        Some(Err((_, code))) => Err(match code {
            RDKafkaErrorCode::UnknownTopicOrPartition if args.if_exists => return Ok(()),
            RDKafkaErrorCode::UnknownTopicOrPartition => CliError::Failed(no_such_topic(name)),
            RDKafkaErrorCode::TopicDeletionDisabled => {
                CliError::Failed("Topic deletion is disabled.".to_owned())
            }
            RDKafkaErrorCode::UnsupportedVersion | RDKafkaErrorCode::InvalidRequest => {
                unsupported(&cluster, "DeleteTopics", name, false)
            }
            other => CliError::Failed(format!("cannot delete topic {name}: {other}")),
        }),
        None => Err(CliError::Failed(format!(
            "cannot delete topic {name}: the broker sent no result"
        ))),
    }
}

async fn alter(args: AlterArgs) -> Result<(), CliError> {
    let common = &args.common;
    let name = args.topic.as_str();
    let cluster = common.connect().await?;
    let Some(current) = partition_count(common, &cluster, name).await? else {
        return if args.if_exists {
            Ok(())
        } else {
            Err(CliError::Failed(no_such_topic(name)))
        };
    };
    validate_partition_increase(name, current, args.partitions).map_err(CliError::Failed)?;
    let admin = admin_client(common, &cluster, "CreatePartitions", name)?;
    let increase = NewPartitions::new(name, usize::try_from(args.partitions).unwrap_or(0));
    let results = admin
        .create_partitions([&increase], &admin_options(common))
        .await
        .map_err(|e| unsupported_or(e, "CreatePartitions", &cluster, name))?;
    match results.into_iter().next() {
        Some(Ok(_)) => Ok(()),
        Some(Err((_, code))) => Err(match code {
            RDKafkaErrorCode::UnknownTopicOrPartition => CliError::Failed(no_such_topic(name)),
            // The count changed since the metadata was read: say so with the new one.
            RDKafkaErrorCode::InvalidPartitions => {
                let now = partition_count(common, &cluster, name).await.ok().flatten();
                let message = now
                    .and_then(|now| validate_partition_increase(name, now, args.partitions).err());
                CliError::Failed(
                    message.unwrap_or_else(|| {
                        format!("cannot add partitions to topic {name}: {code}")
                    }),
                )
            }
            RDKafkaErrorCode::UnsupportedVersion | RDKafkaErrorCode::InvalidRequest => {
                unsupported(&cluster, "CreatePartitions", name, false)
            }
            other => CliError::Failed(format!("cannot add partitions to topic {name}: {other}")),
        }),
        None => Err(CliError::Failed(format!(
            "cannot add partitions to topic {name}: the broker sent no result"
        ))),
    }
}

fn unsupported_or(e: KafkaError, api: &str, cluster: &Cluster, topic: &str) -> CliError {
    let code = match &e {
        KafkaError::AdminOp(code) => Some(*code),
        other => other.rdkafka_error_code(),
    };
    match code {
        Some(RDKafkaErrorCode::UnsupportedFeature) | Some(RDKafkaErrorCode::UnsupportedVersion) => {
            unsupported(cluster, api, topic, false)
        }
        Some(RDKafkaErrorCode::OperationTimedOut) | Some(RDKafkaErrorCode::RequestTimedOut) => {
            let hint = if api == "CreateTopics" {
                ": use kcodec dev"
            } else {
                ""
            };
            CliError::Failed(format!(
                "{api} for topic {topic} got no answer from {} in time (does the broker support it? librdkafka's mock cluster does not{hint})",
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
    let names: Vec<&str> = topics.iter().map(|t| t.name()).collect();
    let configs = topic_configs(&args.common, &cluster, &names).await?;
    let mut text = String::new();
    for t in topics {
        let mut partitions: Vec<_> = t.partitions().iter().collect();
        partitions.sort_by_key(|p| p.id());
        let rf = partitions.first().map_or(0, |p| p.replicas().len());
        let configs = configs
            .get(t.name())
            .map(|c| {
                c.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default();
        text.push_str(&format!(
            "Topic: {}\tPartitionCount: {}\tReplicationFactor: {}\tConfigs: {configs}\n",
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

/// Each topic's non-default configs, as kafka-topics `--describe` prints them after `Configs:`:
/// DescribeConfigs' entries whose source is not the default, in the broker's order (a sensitive
/// value, which the broker withholds, reads `null` as in Kafka's tool). librdkafka's mock
/// cluster, which has no DescribeConfigs, reports none.
async fn topic_configs(
    common: &AdminArgs,
    cluster: &Cluster,
    names: &[&str],
) -> Result<BTreeMap<String, Vec<(String, String)>>, CliError> {
    if names.is_empty() {
        return Ok(BTreeMap::new());
    }
    let Ok(admin) = admin_client(common, cluster, "DescribeConfigs", names[0]) else {
        return Ok(BTreeMap::new());
    };
    let resources: Vec<ResourceSpecifier<'_>> =
        names.iter().map(|n| ResourceSpecifier::Topic(n)).collect();
    let results = match admin
        .describe_configs(&resources, &admin_options(common))
        .await
    {
        Ok(results) => results,
        // A broker without DescribeConfigs: the rest of the description is still worth having.
        Err(e) => {
            eprintln!(
                "Note: the broker at {} answered no DescribeConfigs ({e}): Configs is left empty.",
                cluster.bootstrap
            );
            return Ok(BTreeMap::new());
        }
    };
    let mut out = BTreeMap::new();
    for result in results {
        match result {
            Ok(resource) => {
                let OwnedResourceSpecifier::Topic(topic) = resource.specifier else {
                    continue;
                };
                let entries = resource
                    .entries
                    .into_iter()
                    .filter(|e| !e.is_default && e.source != ConfigSource::Default)
                    .map(|e| (e.name, e.value.unwrap_or_else(|| "null".to_owned())))
                    .collect();
                out.insert(topic, entries);
            }
            Err(code) => {
                return Err(CliError::Failed(format!(
                    "DescribeConfigs against {}: {code}",
                    cluster.bootstrap
                )));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_arguments_are_checked_as_kafka_topics_does() {
        assert!(check_create_args(None, None).is_ok());
        assert!(check_create_args(Some(1), Some(32767)).is_ok());
        for p in [0, -1, i32::MIN] {
            assert_eq!(
                check_create_args(Some(p), None).unwrap_err(),
                "The partitions must be greater than 0"
            );
        }
        for rf in [0, -1, 32768] {
            assert_eq!(
                check_create_args(Some(1), Some(rf)).unwrap_err(),
                "The replication factor must be between 1 and 32767 inclusive"
            );
        }
        // The replication factor is checked first, as in kafka-topics.
        assert_eq!(
            check_create_args(Some(0), Some(0)).unwrap_err(),
            "The replication factor must be between 1 and 32767 inclusive"
        );
    }
}
