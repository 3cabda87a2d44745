//! `kcodec groups list|describe`: kafka-consumer-groups.
//!
//! `describe` prints kafka-consumer-groups' table: committed offsets (OffsetFetch), log-end
//! offsets (ListOffsets) and LAG = LOG-END-OFFSET − CURRENT-OFFSET, with each partition's member
//! from DescribeGroups where the broker has it; one table per group (`--group` repeated, or
//! `--all-groups` from ListGroups), each after a blank line. librdkafka's mock cluster
//! (`kcodec dev`) has no ListGroups or DescribeGroups: there `list` and `--all-groups` fail in
//! one line and `describe` shows `-` for the members.

use crate::connect::{AdminArgs, Cluster};
use crate::error::CliError;
use clap::{Args, Subcommand};
use kcodec_broker::lag::{LagRow, format_lag_table};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Offset, TopicPartitionList};
use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

/// Subcommands of `kcodec groups`.
#[derive(Debug, Subcommand)]
pub enum GroupsCommand {
    /// List consumer groups, one per line (needs ListGroups; `kcodec dev` has none).
    List(ListArgs),
    /// Describe groups: committed offset, log-end offset and lag per partition, one table per
    /// group.
    Describe(DescribeArgs),
}

/// Arguments of `kcodec groups list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    common: AdminArgs,
}

/// Arguments of `kcodec groups describe`.
#[derive(Debug, Args)]
pub struct DescribeArgs {
    #[command(flatten)]
    common: AdminArgs,
    /// A group to describe (repeatable).
    #[arg(
        long,
        required_unless_present = "all_groups",
        conflicts_with = "all_groups"
    )]
    group: Vec<String>,
    /// Describe every consumer group (needs ListGroups; `kcodec dev` has none).
    #[arg(long)]
    all_groups: bool,
}

/// A consumer handle in `group` that never joins it (for OffsetFetch, ListOffsets and
/// metadata).
fn consumer(common: &AdminArgs, cluster: &Cluster, group: &str) -> Result<BaseConsumer, CliError> {
    let defaults = [
        ("group.id", group),
        ("enable.auto.commit", "false"),
        ("allow.auto.create.topics", "false"),
    ];
    common
        .config(cluster, &defaults)?
        .create()
        .map_err(|e| CliError::kafka("creating a Kafka client", e))
}

/// Runs `kcodec groups`.
pub async fn run(command: GroupsCommand) -> Result<(), CliError> {
    match command {
        GroupsCommand::List(args) => list(args).await,
        GroupsCommand::Describe(args) => describe(args).await,
    }
}

fn no_group_api(cluster: &Cluster, api: &str) -> CliError {
    CliError::Failed(format!(
        "the broker at {} does not support {api} (librdkafka's mock cluster has no group admin API); `kcodec groups describe --group G` works there",
        cluster.bootstrap
    ))
}

async fn list(args: ListArgs) -> Result<(), CliError> {
    let cluster = args.common.connect.cluster()?;
    cluster.check_reachable(args.common.timeout()).await?;
    let names = group_names(&args.common, &cluster).await?;
    let mut out = std::io::stdout().lock();
    for n in names {
        writeln!(out, "{n}").map_err(|e| CliError::io("writing the group list", e))?;
    }
    Ok(())
}

/// The consumer groups of the cluster (ListGroups), sorted.
async fn group_names(common: &AdminArgs, cluster: &Cluster) -> Result<Vec<String>, CliError> {
    if cluster.dev.is_some() {
        return Err(no_group_api(cluster, "ListGroups"));
    }
    let consumer = consumer(common, cluster, "kcodec-groups")?;
    let timeout = common.timeout();
    let names = tokio::task::spawn_blocking(move || {
        consumer.fetch_group_list(None, timeout).map(|list| {
            list.groups()
                .iter()
                .filter(|g| g.protocol_type().is_empty() || g.protocol_type() == "consumer")
                .map(|g| g.name().to_owned())
                .collect::<Vec<_>>()
        })
    })
    .await
    .map_err(|e| CliError::Failed(format!("group list task: {e}")))?;
    let mut names = match names {
        Ok(names) => names,
        Err(e) => return Err(group_api_error(cluster, "ListGroups", e)),
    };
    names.sort();
    Ok(names)
}

fn group_api_error(cluster: &Cluster, api: &str, e: rdkafka::error::KafkaError) -> CliError {
    use rdkafka::types::RDKafkaErrorCode as C;
    match e.rdkafka_error_code() {
        Some(C::UnsupportedFeature | C::UnsupportedVersion | C::InvalidRequest) => {
            no_group_api(cluster, api)
        }
        _ => CliError::kafka(format!("{api} against {}", cluster.bootstrap), e),
    }
}

/// A member as DescribeGroups shows it.
#[derive(Debug, Clone)]
struct Member {
    id: String,
    client_id: String,
    host: String,
    assignment: Vec<(String, i32)>,
}

/// What DescribeGroups said: the state and the members, or nothing when unsupported.
struct Described {
    state: String,
    members: Vec<Member>,
}

/// Parses Kafka's ConsumerProtocolAssignment (version, \[topic, \[partition\]\], user data);
/// `None` if the bytes are not one.
pub fn parse_assignment(bytes: &[u8]) -> Option<Vec<(String, i32)>> {
    struct R<'a>(&'a [u8]);
    impl R<'_> {
        fn take(&mut self, n: usize) -> Option<&[u8]> {
            if self.0.len() < n {
                return None;
            }
            let (a, b) = self.0.split_at(n);
            self.0 = b;
            Some(a)
        }
        fn i16(&mut self) -> Option<i16> {
            Some(i16::from_be_bytes(self.take(2)?.try_into().ok()?))
        }
        fn i32(&mut self) -> Option<i32> {
            Some(i32::from_be_bytes(self.take(4)?.try_into().ok()?))
        }
    }
    let mut r = R(bytes);
    let _version = r.i16()?;
    let topics = r.i32()?;
    let mut out = Vec::new();
    for _ in 0..topics.max(0) {
        let len = usize::try_from(r.i16()?).ok()?;
        let topic = String::from_utf8(r.take(len)?.to_vec()).ok()?;
        let partitions = r.i32()?;
        // Each partition takes 4 bytes: a count beyond what is left is malformed.
        if usize::try_from(partitions).ok()? > r.0.len() / 4 {
            return None;
        }
        for _ in 0..partitions {
            out.push((topic.clone(), r.i32()?));
        }
    }
    Some(out)
}

async fn describe(args: DescribeArgs) -> Result<(), CliError> {
    let common = &args.common;
    let cluster = common.connect.cluster()?;
    cluster.check_reachable(common.timeout()).await?;
    let groups = if args.all_groups {
        group_names(common, &cluster).await?
    } else {
        let mut groups = Vec::with_capacity(args.group.len());
        for g in &args.group {
            if !groups.contains(g) {
                groups.push(g.clone());
            }
        }
        groups
    };
    let mut failed = Vec::new();
    let mut note_shown = false;
    for group in &groups {
        match describe_group(common, &cluster, group, &mut note_shown).await {
            Ok(table) => {
                let mut out = std::io::stdout().lock();
                write!(out, "\n{table}")
                    .and_then(|()| out.flush())
                    .map_err(|e| CliError::io("writing the table", e))?;
            }
            // One group: its error is the command's.
            Err(e) if groups.len() == 1 => return Err(e),
            Err(e) => {
                eprintln!("\nerror: {}", crate::error::describe(&e));
                failed.push(group.as_str());
            }
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(CliError::Failed(format!(
            "{} of {} groups could not be described: {}",
            failed.len(),
            groups.len(),
            failed.join(", ")
        )))
    }
}

/// One group's table; its notes (no active members, rebalancing, no DescribeGroups) go to
/// stderr, the last one only once per command (`note_shown`).
async fn describe_group(
    common: &AdminArgs,
    cluster: &Cluster,
    group: &str,
    note_shown: &mut bool,
) -> Result<String, CliError> {
    let timeout = common.timeout();
    let consumer = consumer(common, cluster, group)?;
    let is_dev = cluster.dev.is_some();
    let bootstrap = cluster.bootstrap.clone();
    let owned = group.to_owned();
    let (described, rows) = tokio::task::spawn_blocking(move || {
        let group = owned;
        let described = if is_dev {
            None
        } else {
            match consumer.fetch_group_list(Some(&group), timeout) {
                Ok(list) => list
                    .groups()
                    .iter()
                    .find(|g| g.name() == group)
                    .map(|g| Described {
                        state: g.state().to_owned(),
                        members: g
                            .members()
                            .iter()
                            .map(|m| Member {
                                id: m.id().to_owned(),
                                client_id: m.client_id().to_owned(),
                                host: m.client_host().to_owned(),
                                assignment: m
                                    .assignment()
                                    .and_then(parse_assignment)
                                    .unwrap_or_default(),
                            })
                            .collect(),
                    }),
                Err(_) => None,
            }
        };
        let rows = lag_rows(&consumer, &group, described.as_ref(), timeout, &bootstrap);
        drop(consumer);
        rows.map(|rows| (described, rows))
    })
    .await
    .map_err(|e| CliError::Failed(format!("describe task: {e}")))??;

    let no_members = described.as_ref().is_some_and(|d| d.members.is_empty());
    if rows.is_empty()
        && described
            .as_ref()
            .is_none_or(|d| d.state == "Dead" || d.members.is_empty())
    {
        return Err(CliError::Failed(format!(
            "Consumer group '{group}' does not exist."
        )));
    }
    if no_members {
        eprintln!("\nConsumer group '{group}' has no active members.");
    } else if described
        .as_ref()
        .is_some_and(|d| d.state.contains("Rebalance"))
    {
        eprintln!("\nWarning: Consumer group '{group}' is rebalancing.");
    } else if described.is_none() && !*note_shown {
        *note_shown = true;
        eprintln!(
            "\nNote: the broker at {} cannot describe group members (no DescribeGroups): CONSUMER-ID, HOST and CLIENT-ID show '-'.",
            cluster.bootstrap
        );
    }
    Ok(format_lag_table(&rows))
}

/// Committed offsets of every partition of every topic (and the members' assignments), with
/// log-end offsets and lag.
fn lag_rows(
    consumer: &BaseConsumer,
    group: &str,
    described: Option<&Described>,
    timeout: Duration,
    bootstrap: &str,
) -> Result<Vec<LagRow>, CliError> {
    let metadata = consumer
        .fetch_metadata(None, timeout)
        .map_err(|e| CliError::kafka(format!("reading the metadata of {bootstrap}"), e))?;
    let mut owners: BTreeMap<(String, i32), &Member> = BTreeMap::new();
    if let Some(d) = described {
        for m in &d.members {
            for tp in &m.assignment {
                owners.insert(tp.clone(), m);
            }
        }
    }
    let mut committed: BTreeMap<(String, i32), i64> = BTreeMap::new();
    {
        let mut tpl = TopicPartitionList::new();
        for t in metadata.topics() {
            if t.name().starts_with("__") {
                continue;
            }
            for p in t.partitions() {
                tpl.add_partition(t.name(), p.id());
            }
        }
        if tpl.count() > 0 {
            let result = consumer.committed_offsets(tpl, timeout).map_err(|e| {
                CliError::kafka(format!("reading the committed offsets of group {group}"), e)
            })?;
            for e in result.elements() {
                if let Offset::Offset(o) = e.offset() {
                    committed.insert((e.topic().to_owned(), e.partition()), o);
                }
            }
        }
    }
    let mut keys: Vec<(String, i32)> = committed.keys().chain(owners.keys()).cloned().collect();
    keys.sort();
    keys.dedup();
    let mut rows = Vec::with_capacity(keys.len());
    for (topic, partition) in keys {
        let end = consumer
            .fetch_watermarks(&topic, partition, timeout)
            .ok()
            .map(|(_, high)| high);
        let current = committed.get(&(topic.clone(), partition)).copied();
        let member = owners.get(&(topic.clone(), partition));
        rows.push(LagRow {
            group: group.to_owned(),
            topic: Some(topic),
            partition: Some(partition),
            current_offset: current,
            log_end_offset: end,
            lag: match (current, end) {
                (Some(c), Some(e)) => Some(e - c),
                _ => None,
            },
            consumer_id: member.map(|m| m.id.clone()),
            host: member.map(|m| m.host.clone()),
            client_id: member.map(|m| m.client_id.clone()),
        });
    }
    if let Some(d) = described {
        for m in d.members.iter().filter(|m| m.assignment.is_empty()) {
            rows.push(LagRow {
                group: group.to_owned(),
                topic: None,
                partition: None,
                current_offset: None,
                log_end_offset: None,
                lag: None,
                consumer_id: Some(m.id.clone()),
                host: Some(m.host.clone()),
                client_id: Some(m.client_id.clone()),
            });
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consumer_protocol_assignment() {
        // version 1, one topic "t" with partitions 0 and 2, empty user data.
        let bytes = [
            0, 1, 0, 0, 0, 1, 0, 1, b't', 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0,
        ];
        assert_eq!(
            parse_assignment(&bytes).unwrap(),
            vec![("t".to_owned(), 0), ("t".to_owned(), 2)]
        );
        assert!(parse_assignment(&[0, 1, 0, 0, 0, 1, 0, 9]).is_none());
        assert!(parse_assignment(&[0, 1, 0, 0, 0, 1, 0, 1, b't', 0x7f, 0, 0, 0]).is_none());
    }
}
