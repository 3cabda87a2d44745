//! `kcodec groups list|describe|reset-offsets|delete`: kafka-consumer-groups.
//!
//! `describe` prints kafka-consumer-groups' table: committed offsets (OffsetFetch), log-end
//! offsets (ListOffsets) and LAG = LOG-END-OFFSET − CURRENT-OFFSET, with each partition's member
//! from DescribeGroups where the broker has it; one table per group (`--group` repeated, or
//! `--all-groups` from ListGroups), each after a blank line. A broker without DescribeGroups
//! (librdkafka's mock cluster) gets `-` for the members and a note.
//!
//! `describe --members` and `describe --state` are kafka-consumer-groups' other views: one row
//! per member (`#PARTITIONS` counted from the member's ConsumerProtocolAssignment; `--verbose`
//! adds Kafka 4's epoch and assignment columns, the epochs `-` as for any classic group) and the
//! group's coordinator (leader of its `__consumer_offsets` partition, or the only broker),
//! assignment strategy, state and member count. Both need DescribeGroups.
//!
//! `reset-offsets` is `--reset-offsets`: it plans new committed offsets for a scope (`--topic
//! T[:P,...]` or `--all-topics`) from a spec (`--to-earliest`, `--to-latest`, `--to-current`,
//! `--to-offset`, `--shift-by`, `--to-datetime`, `--by-duration`), prints Kafka's `GROUP TOPIC PARTITION
//! NEW-OFFSET` table, and with `--execute` commits them, as the group's OffsetCommit from outside
//! the group (what Kafka's AlterConsumerGroupOffsets does). Like Kafka it refuses a group whose
//! state (DescribeGroups) is not `Empty` or `Dead`. `delete` is `--delete` (DeleteGroups).

use crate::connect::{AdminArgs, Cluster};
use crate::error::CliError;
use clap::{Args, Subcommand};
use kcodec_broker::lag::{LagRow, format_lag_table};
use rdkafka::admin::{AdminClient, AdminOptions};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::KafkaResult;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};
use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

/// Subcommands of `kcodec groups`.
#[derive(Debug, Subcommand)]
pub enum GroupsCommand {
    /// List consumer groups, one per line (needs ListGroups; `kcodec dev` has none).
    List(ListArgs),
    /// Describe groups: committed offset, log-end offset and lag per partition (or, with
    /// --members / --state, the members or the group's state), one table per group.
    Describe(DescribeArgs),
    /// Reset a group's committed offsets (kafka-consumer-groups --reset-offsets): a dry run
    /// printing the new offsets unless --execute.
    ResetOffsets(ResetArgs),
    /// Delete consumer groups and their committed offsets (refused while a group has members).
    Delete(DeleteArgs),
}

/// Arguments of `kcodec groups reset-offsets`.
#[derive(Debug, Args)]
pub struct ResetArgs {
    #[command(flatten)]
    common: AdminArgs,
    /// A group whose offsets to reset (repeatable).
    #[arg(
        long,
        required_unless_present = "all_groups",
        conflicts_with = "all_groups"
    )]
    group: Vec<String>,
    /// Reset every consumer group (needs ListGroups; `kcodec dev` has none).
    #[arg(long)]
    all_groups: bool,
    /// The scope: a topic, or some of its partitions as TOPIC:P1,P2 (repeatable).
    #[arg(
        long,
        value_name = "TOPIC[:PARTITIONS]",
        required_unless_present = "all_topics",
        conflicts_with = "all_topics"
    )]
    topic: Vec<String>,
    /// The scope: every partition the group has a committed offset for.
    #[arg(long)]
    all_topics: bool,
    #[command(flatten)]
    spec: ResetSpec,
    /// Only print the new offsets (the default without --execute).
    #[arg(long, conflicts_with = "execute")]
    dry_run: bool,
    /// Commit the new offsets.
    #[arg(long)]
    execute: bool,
}

/// Where `reset-offsets` moves each partition's committed offset (exactly one).
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct ResetSpec {
    /// To the log start offset.
    #[arg(long)]
    to_earliest: bool,
    /// To the log end offset.
    #[arg(long)]
    to_latest: bool,
    /// To the committed offset (the log end where there is none).
    #[arg(long)]
    to_current: bool,
    /// To this offset (kept within the log's start and end).
    #[arg(long, value_name = "OFFSET", allow_negative_numbers = true)]
    to_offset: Option<i64>,
    /// By this many from the committed offset (negative goes back; kept within the log).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    shift_by: Option<i64>,
    /// To the first offset at or after this time: YYYY-MM-DDTHH:mm:SS.sss, optionally with a
    /// zone (Z, +HH, +HH:mm); UTC without one.
    #[arg(long, value_name = "YYYY-MM-DDTHH:mm:SS.sss")]
    to_datetime: Option<String>,
    /// To the first offset at or after this long ago: an ISO-8601 duration, PnDTnHnMnS (e.g.
    /// PT30M, P1DT12H).
    #[arg(long, value_name = "PnDTnHnMnS")]
    by_duration: Option<String>,
}

/// Arguments of `kcodec groups delete`.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    #[command(flatten)]
    common: AdminArgs,
    /// A group to delete (repeatable).
    #[arg(
        long,
        required_unless_present = "all_groups",
        conflicts_with = "all_groups"
    )]
    group: Vec<String>,
    /// Delete every consumer group (needs ListGroups; `kcodec dev` has none).
    #[arg(long)]
    all_groups: bool,
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
    /// Show committed offset, log-end offset and lag per partition (the default view).
    #[arg(long, group = "view")]
    offsets: bool,
    /// Show the members instead: GROUP CONSUMER-ID HOST CLIENT-ID #PARTITIONS (needs
    /// DescribeGroups; `kcodec dev` has none).
    #[arg(long, group = "view")]
    members: bool,
    /// Show the group's state instead: GROUP COORDINATOR (ID) ASSIGNMENT-STRATEGY STATE
    /// #MEMBERS (needs DescribeGroups; `kcodec dev` has none).
    #[arg(long, group = "view")]
    state: bool,
    /// With --members: also each member's epochs and assignment (CURRENT-ASSIGNMENT as
    /// topic:p1,p2;topic2:p1).
    #[arg(long, conflicts_with_all = ["offsets", "state"])]
    verbose: bool,
}

/// Which table `groups describe` prints (kafka-consumer-groups' `--offsets`, `--members`,
/// `--state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum View {
    Offsets,
    Members { verbose: bool },
    State,
}

impl DescribeArgs {
    fn view(&self) -> Result<View, CliError> {
        Ok(if self.members {
            View::Members {
                verbose: self.verbose,
            }
        } else if self.verbose {
            return Err(CliError::Usage(
                "--verbose goes with --members (the offsets table has no verbose form here)"
                    .to_owned(),
            ));
        } else if self.state {
            View::State
        } else {
            View::Offsets
        })
    }
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
        GroupsCommand::ResetOffsets(args) => reset_offsets(args).await,
        GroupsCommand::Delete(args) => delete(args).await,
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

/// What DescribeGroups said: the state, the assignment strategy and the members, or nothing
/// when unsupported.
struct Described {
    state: String,
    protocol: String,
    members: Vec<Member>,
}

/// The group coordinator as kafka-consumer-groups `--state` names it: `host:port  (id)`.
fn coordinator_column(host: &str, port: i32, id: i32) -> String {
    format!("{host}:{port}  ({id})")
}

/// Java's `String.hashCode` (over UTF-16 code units, wrapping).
fn java_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

/// The coordinator of a classic group: the leader of `__consumer_offsets` partition
/// `abs(hashCode(group)) % partitions` (Kafka's `GroupCoordinator.partitionFor`), or the only
/// broker where that topic is not in the metadata; `None` if neither is known.
fn coordinator(consumer: &BaseConsumer, group: &str, timeout: Duration) -> Option<String> {
    let metadata = consumer.fetch_metadata(None, timeout).ok()?;
    let broker = |id: i32| {
        metadata
            .brokers()
            .iter()
            .find(|b| b.id() == id)
            .map(|b| coordinator_column(b.host(), b.port(), b.id()))
    };
    if let Some(t) = metadata
        .topics()
        .iter()
        .find(|t| t.name() == "__consumer_offsets" && !t.partitions().is_empty())
    {
        let h = java_hash(group);
        // Kafka's Utils.abs: MIN_VALUE maps to 0.
        let abs = if h == i32::MIN { 0 } else { h.abs() };
        let n = i32::try_from(t.partitions().len()).ok()?;
        let p = abs % n;
        let leader = t.partitions().iter().find(|x| x.id() == p)?.leader();
        return broker(leader);
    }
    match metadata.brokers() {
        [only] => broker(only.id()),
        _ => None,
    }
}

/// kafka-consumer-groups' assignment column: per topic (sorted) `topic:p1,p2` with the
/// partitions sorted, topics joined by `;`; `-` when empty.
fn assignment_string(assignment: &[(String, i32)]) -> String {
    let mut by_topic: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
    for (t, p) in assignment {
        by_topic.entry(t).or_default().push(*p);
    }
    if by_topic.is_empty() {
        return "-".to_owned();
    }
    by_topic
        .into_iter()
        .map(|(t, mut ps)| {
            ps.sort_unstable();
            let ps: Vec<String> = ps.iter().map(ToString::to_string).collect();
            format!("{t}:{}", ps.join(","))
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// Left-aligned columns as kafka-consumer-groups prints them: each column but the last padded
/// to the widest of its minimum width and its values, one space between columns, trailing
/// blanks trimmed; the header first.
fn format_columns(header: &[&str], min_widths: &[usize], rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i).map(String::len))
                .chain([header[i].len(), min_widths.get(i).copied().unwrap_or(0)])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    let header: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                line.push(' ');
            }
            line.push_str(&format!(
                "{cell:<w$}",
                w = widths.get(i).copied().unwrap_or(0)
            ));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// kafka-consumer-groups `--describe --members` for one group (`--verbose` adds the epochs,
/// which classic groups do not have, and the assignments).
fn format_members_table(group: &str, members: &[Member], verbose: bool) -> String {
    let mut header = vec!["GROUP", "CONSUMER-ID", "HOST", "CLIENT-ID", "#PARTITIONS"];
    let mut widths = vec![15, 15, 15, 15, 15];
    if verbose {
        header.extend([
            "CURRENT-EPOCH",
            "CURRENT-ASSIGNMENT",
            "TARGET-EPOCH",
            "TARGET-ASSIGNMENT",
        ]);
        widths.extend([15, 20, 15, 20]);
    }
    let rows: Vec<Vec<String>> = members
        .iter()
        .map(|m| {
            let mut row = vec![
                group.to_owned(),
                m.id.clone(),
                m.host.clone(),
                m.client_id.clone(),
                m.assignment.len().to_string(),
            ];
            if verbose {
                row.extend([
                    "-".to_owned(),
                    assignment_string(&m.assignment),
                    "-".to_owned(),
                    "-".to_owned(),
                ]);
            }
            row
        })
        .collect();
    format_columns(&header, &widths, &rows)
}

/// kafka-consumer-groups `--describe --state` for one group.
fn format_state_table(
    group: &str,
    coordinator: &str,
    strategy: &str,
    state: &str,
    members: usize,
) -> String {
    let strategy = if strategy.is_empty() { "-" } else { strategy };
    format_columns(
        &[
            "GROUP",
            "COORDINATOR (ID)",
            "ASSIGNMENT-STRATEGY",
            "STATE",
            "#MEMBERS",
        ],
        &[15, 25, 20, 20, 0],
        &[vec![
            group.to_owned(),
            coordinator.to_owned(),
            strategy.to_owned(),
            state.to_owned(),
            members.to_string(),
        ]],
    )
}

/// A member's assignment from Kafka's ConsumerProtocolAssignment bytes (the broker's decoder:
/// version, \[topic, \[partition\]\], user data), by topic and partition; `None` if the bytes
/// are not one.
fn parse_assignment(bytes: &[u8]) -> Option<Vec<(String, i32)>> {
    let parts = kcodec_broker::group::classic::decode_assignment(bytes)?;
    Some(
        parts
            .into_iter()
            .map(|tp| (tp.topic, tp.partition))
            .collect(),
    )
}

async fn describe(args: DescribeArgs) -> Result<(), CliError> {
    let view = args.view()?;
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
        match describe_group(common, &cluster, group, view, &mut note_shown).await {
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
    view: View,
    note_shown: &mut bool,
) -> Result<String, CliError> {
    let timeout = common.timeout();
    let consumer = consumer(common, cluster, group)?;
    let bootstrap = cluster.bootstrap.clone();
    let owned = group.to_owned();
    let (described, rows, coordinator) = tokio::task::spawn_blocking(move || {
        let group = owned;
        let described = {
            match consumer.fetch_group_list(Some(&group), timeout) {
                Ok(list) => list
                    .groups()
                    .iter()
                    .find(|g| g.name() == group)
                    .map(|g| Described {
                        state: g.state().to_owned(),
                        protocol: g.protocol().to_owned(),
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
        let result = match view {
            View::Offsets => lag_rows(&consumer, &group, described.as_ref(), timeout, &bootstrap)
                .map(|rows| (described, rows, None)),
            View::Members { .. } => Ok((described, Vec::new(), None)),
            View::State => {
                let coordinator = coordinator(&consumer, &group, timeout);
                Ok((described, Vec::new(), coordinator))
            }
        };
        drop(consumer);
        result
    })
    .await
    .map_err(|e| CliError::Failed(format!("describe task: {e}")))??;

    if view != View::Offsets {
        return member_view(group, view, described, coordinator);
    }

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

/// The `--members` or `--state` table of a group DescribeGroups described, with Kafka's notes
/// (no active members, rebalancing) on stderr.
fn member_view(
    group: &str,
    view: View,
    described: Option<Described>,
    coordinator: Option<String>,
) -> Result<String, CliError> {
    let Some(d) = described.filter(|d| d.state != "Dead") else {
        return Err(CliError::Failed(format!(
            "Consumer group '{group}' does not exist."
        )));
    };
    if d.state == "Empty" {
        eprintln!("\nConsumer group '{group}' has no active members.");
    } else if d.state.contains("Rebalance") {
        eprintln!("\nWarning: Consumer group '{group}' is rebalancing.");
    }
    Ok(match view {
        View::Members { verbose } => format_members_table(group, &d.members, verbose),
        _ => format_state_table(
            group,
            coordinator.as_deref().unwrap_or("-"),
            &d.protocol,
            &d.state,
            d.members.len(),
        ),
    })
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

// ---------------------------------------------------------------------------------------------
// reset-offsets and delete

/// kafka-consumer-groups' warning (on stderr) for `--reset-offsets` without `--dry-run` or
/// `--execute`, in its words (the missing space after "missing." included).
pub const DRY_RUN_WARNING: &str = "WARN: No action will be performed as the --execute option is missing.In a future major release, the default behavior of this command will be to prompt the user before executing the reset rather than doing a dry run. You should add the --dry-run option explicitly if you are scripting this command and want to keep the current default behavior without prompting.";

/// Where each partition's committed offset goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spec {
    Earliest,
    Latest,
    Current,
    Offset(i64),
    Shift(i64),
    Time(i64),
}

impl ResetSpec {
    fn spec(&self) -> Result<Spec, CliError> {
        Ok(if self.to_earliest {
            Spec::Earliest
        } else if self.to_latest {
            Spec::Latest
        } else if self.to_current {
            Spec::Current
        } else if let Some(n) = self.to_offset {
            Spec::Offset(n)
        } else if let Some(n) = self.shift_by {
            Spec::Shift(n)
        } else if let Some(t) = &self.to_datetime {
            Spec::Time(parse_datetime(t).map_err(CliError::Usage)?)
        } else if let Some(d) = &self.by_duration {
            let ago = parse_duration(d).map_err(CliError::Usage)?;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
            Spec::Time(now.saturating_sub(ago))
        } else {
            return Err(CliError::Usage(
                "one of --to-earliest, --to-latest, --to-current, --to-offset, --shift-by, --to-datetime, --by-duration is required"
                    .to_owned(),
            ));
        })
    }
}

/// A `--topic` of `reset-offsets`: `TOPIC` (every partition) or `TOPIC:P1,P2`, with
/// kafka-consumer-groups' messages for a malformed one.
pub fn parse_topic_arg(arg: &str) -> Result<(String, Option<Vec<i32>>), String> {
    let Some((topic, partitions)) = arg.split_once(':') else {
        return Ok((arg.to_owned(), None));
    };
    if topic.is_empty() || partitions.is_empty() || partitions.contains(':') {
        return Err(format!(
            "Invalid topic arg '{arg}', expected topic name and partitions"
        ));
    }
    let partitions = partitions
        .split(',')
        .map(|p| {
            p.parse::<i32>()
                .map_err(|_| format!("Invalid partition '{p}' specified in topic arg '{arg}''"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((topic.to_owned(), Some(partitions)))
}

/// Days from 1970-01-01 to a proleptic Gregorian date (month 1..=12).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    // Shift the year to start in March, so the leap day is the year's last.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let march_month = (month + 9) % 12;
    let day_of_year = (153 * march_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `--to-datetime`: `YYYY-MM-DDTHH:mm:SS.sss` with an optional zone (`Z`, `+HH`, `+HHmm`,
/// `+HH:mm`), UTC without one, as Kafka's `Utils.getDateTime` reads it; epoch milliseconds.
pub fn parse_datetime(text: &str) -> Result<i64, String> {
    let Some((date, time)) = text.split_once('T') else {
        return Err(
            "Error parsing timestamp. It does not contain a 'T' according to ISO8601 format"
                .to_owned(),
        );
    };
    let with_zone = if time.contains(['+', '-', 'Z']) {
        text.to_owned()
    } else {
        format!("{text}Z")
    };
    let unparseable = || format!("Unparseable date: \"{with_zone}\"");
    let number = |s: &str, len: std::ops::RangeInclusive<usize>| -> Option<i64> {
        (len.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let parse = || -> Option<i64> {
        let mut parts = date.split('-');
        let year = number(parts.next()?, 4..=4)?;
        let month = number(parts.next()?, 2..=2)?;
        let day = number(parts.next()?, 2..=2)?;
        if parts.next().is_some()
            || !(1..=12).contains(&month)
            || !(1..=days_in_month(year, month)).contains(&day)
        {
            return None;
        }
        let (clock, zone_minutes) = if let Some(clock) = time.strip_suffix('Z') {
            (clock, 0)
        } else if let Some(at) = time.find(['+', '-']) {
            let (clock, zone) = time.split_at(at);
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let digits = zone[1..].replacen(':', "", 1);
            let (h, m) = match digits.len() {
                2 => (number(&digits, 2..=2)?, 0),
                4 => (number(&digits[..2], 2..=2)?, number(&digits[2..], 2..=2)?),
                _ => return None,
            };
            if h > 23 || m > 59 {
                return None;
            }
            (clock, sign * (h * 60 + m))
        } else {
            (time, 0)
        };
        let (hms, millis) = clock.split_once('.')?;
        let millis = number(millis, 1..=3)?;
        let mut hms = hms.split(':');
        let hour = number(hms.next()?, 2..=2)?;
        let minute = number(hms.next()?, 2..=2)?;
        let second = number(hms.next()?, 2..=2)?;
        if hms.next().is_some() || hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        let seconds =
            days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second
                - zone_minutes * 60;
        Some(seconds * 1_000 + millis)
    };
    parse().ok_or_else(unparseable)
}

/// `--by-duration`: an ISO-8601 duration as Java's `Duration.parse` reads it
/// (`[-+]P[nD][T[nH][nM][n[.f]S]]`, any case, each number signed), in milliseconds; Java's
/// message when it is not one.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let unparseable = || "Text cannot be parsed to a Duration".to_owned();
    let upper = text.to_ascii_uppercase();
    let (negated, rest) = match upper.as_bytes().first() {
        Some(b'-') => (true, &upper[1..]),
        Some(b'+') => (false, &upper[1..]),
        _ => (false, upper.as_str()),
    };
    let rest = rest.strip_prefix('P').ok_or_else(unparseable)?;
    let (mut days, time) = match rest.split_once('T') {
        Some((days, time)) if !time.is_empty() => (days, time),
        Some(_) => return Err(unparseable()),
        None => (rest, ""),
    };
    let mut time = time;
    let day = duration_part(&mut days, 'D', false).ok_or_else(unparseable)?;
    let hour = duration_part(&mut time, 'H', false).ok_or_else(unparseable)?;
    let minute = duration_part(&mut time, 'M', false).ok_or_else(unparseable)?;
    let second = duration_part(&mut time, 'S', true).ok_or_else(unparseable)?;
    let parts = [day, hour, minute, second];
    if !days.is_empty() || !time.is_empty() || parts.iter().all(Option::is_none) {
        return Err(unparseable());
    }
    let [day, hour, minute, second] = parts.map(|p| p.unwrap_or(0));
    let millis = day * 86_400_000 + hour * 3_600_000 + minute * 60_000 + second;
    let millis = if negated { -millis } else { millis };
    Ok(i64::try_from(millis).unwrap_or(if millis < 0 { i64::MIN } else { i64::MAX }))
}

/// One `<signed number><unit>` of a duration, taken from the front of `text`: `Some(None)` when
/// `unit` is absent, `None` when malformed; in milliseconds for seconds (`fraction`, up to 9
/// decimals, finer than a millisecond dropped), else in whole units.
fn duration_part(text: &mut &str, unit: char, fraction: bool) -> Option<Option<i128>> {
    let Some(at) = text.find(unit) else {
        return Some(None);
    };
    let number = &text[..at];
    *text = &text[at + 1..];
    let (sign, digits) = match number.as_bytes().first() {
        Some(b'-') => (-1, &number[1..]),
        Some(b'+') => (1, &number[1..]),
        _ => (1, number),
    };
    let (whole, part) = match digits.split_once(['.', ',']) {
        Some((w, p)) if fraction && (1..=9).contains(&p.len()) => (w, p),
        Some(_) => return None,
        None => (digits, ""),
    };
    if whole.is_empty()
        || whole.len() > 19
        || !whole
            .bytes()
            .chain(part.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: i128 = whole.parse().ok()?;
    if !fraction {
        return Some(Some(sign * whole));
    }
    let millis: i128 = format!("{part:0<3}")[..3].parse().ok()?;
    Some(Some(sign * (whole * 1_000 + millis)))
}

/// The groups a command names (`--group`, each once, in order), or every consumer group.
async fn selected_groups(
    common: &AdminArgs,
    cluster: &Cluster,
    named: &[String],
    all: bool,
) -> Result<Vec<String>, CliError> {
    if all {
        return group_names(common, cluster).await;
    }
    let mut groups: Vec<String> = Vec::with_capacity(named.len());
    for g in named {
        if !groups.contains(g) {
            groups.push(g.clone());
        }
    }
    Ok(groups)
}

/// A partition's new offset: topic, partition, offset.
pub type NewOffset = (String, i32, i64);

/// One group's reset plan: the group and its partitions' new offsets.
pub type GroupPlan = (String, Vec<NewOffset>);

/// kafka-consumer-groups' table of a reset plan: a blank line, `GROUP TOPIC PARTITION
/// NEW-OFFSET` (group and topic columns at least 15 wide) and one row per partition; only the
/// blank line when there are no groups.
pub fn format_reset_table(plans: &[GroupPlan]) -> String {
    let group_width = plans.iter().map(|(g, _)| g.len()).fold(15, usize::max);
    let topic_width = plans
        .iter()
        .flat_map(|(_, rows)| rows.iter().map(|(t, _, _)| t.len()))
        .fold(15, usize::max);
    let mut out = String::new();
    if !plans.is_empty() {
        out.push_str(&format!(
            "\n{:<group_width$} {:<topic_width$} {:<10} NEW-OFFSET",
            "GROUP", "TOPIC", "PARTITION"
        ));
    }
    for (group, rows) in plans {
        for (topic, partition, offset) in rows {
            out.push_str(&format!(
                "\n{group:<group_width$} {topic:<topic_width$} {partition:<10} {offset}"
            ));
        }
    }
    out.push('\n');
    out
}

/// Kafka's refusal to reset the offsets of a group that has members.
fn active_group(group: &str, state: &str) -> CliError {
    CliError::Failed(format!(
        "Assignments can only be reset if the group '{group}' is inactive, but the current state is {state}."
    ))
}

/// The group's state from DescribeGroups; `None` where the broker has no DescribeGroups.
fn group_state(consumer: &BaseConsumer, group: &str, timeout: Duration) -> Option<String> {
    let list = consumer.fetch_group_list(Some(group), timeout).ok()?;
    list.groups()
        .iter()
        .find(|g| g.name() == group)
        .map(|g| g.state().to_owned())
}

/// Kafka's `checkOffsetsRange`: an offset past the log end is the end, one before the log
/// start the start, each with its warning (on stderr, where Kafka's tools log).
fn clamp(topic: &str, partition: i32, offset: i64, low: i64, high: i64) -> i64 {
    if offset > high {
        eprintln!(
            "WARN New offset ({offset}) is higher than latest offset for topic partition {topic}-{partition}. Value will be set to {high}."
        );
        high
    } else if offset < low {
        eprintln!(
            "WARN New offset ({offset}) is lower than earliest offset for topic partition {topic}-{partition}. Value will be set to {low}."
        );
        low
    } else {
        offset
    }
}

/// The new offsets of one group: its scope's partitions, sorted, each with its new offset.
fn plan_reset(
    consumer: &BaseConsumer,
    group: &str,
    topics: &[String],
    spec: Spec,
    timeout: Duration,
    bootstrap: &str,
) -> Result<Vec<NewOffset>, CliError> {
    let metadata = consumer
        .fetch_metadata(None, timeout)
        .map_err(|e| CliError::kafka(format!("reading the metadata of {bootstrap}"), e))?;
    let mut partitions: BTreeMap<String, Vec<i32>> = BTreeMap::new();
    for t in metadata.topics().iter().filter(|t| t.error().is_none()) {
        let mut ids: Vec<i32> = t.partitions().iter().map(|p| p.id()).collect();
        ids.sort_unstable();
        partitions.insert(t.name().to_owned(), ids);
    }
    let mut committed: BTreeMap<(String, i32), i64> = BTreeMap::new();
    {
        let mut tpl = TopicPartitionList::new();
        for (topic, ids) in partitions.iter().filter(|(t, _)| !t.starts_with("__")) {
            for p in ids {
                tpl.add_partition(topic, *p);
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
    // The scope.
    let mut scope: Vec<(String, i32)> = Vec::new();
    if topics.is_empty() {
        scope.extend(committed.keys().cloned());
    } else {
        let mut missing = Vec::new();
        for arg in topics {
            let (topic, wanted) = parse_topic_arg(arg).map_err(CliError::Usage)?;
            let Some(existing) = partitions.get(&topic) else {
                return Err(CliError::Failed(format!(
                    "This server does not host this topic-partition: {topic}"
                )));
            };
            match wanted {
                None => scope.extend(existing.iter().map(|p| (topic.clone(), *p))),
                Some(wanted) => {
                    for p in wanted {
                        if existing.contains(&p) {
                            scope.push((topic.clone(), p));
                        } else {
                            missing.push(format!("{topic}-{p}"));
                        }
                    }
                }
            }
        }
        if !missing.is_empty() {
            return Err(CliError::Failed(format!(
                "The partitions \"{}\" do not exist",
                missing.join(",")
            )));
        }
    }
    scope.sort();
    scope.dedup();
    // Offsets by time, when asked for.
    let mut by_time: BTreeMap<(String, i32), Option<i64>> = BTreeMap::new();
    if let Spec::Time(ts) = spec
        && !scope.is_empty()
    {
        let mut tpl = TopicPartitionList::new();
        for (topic, p) in &scope {
            tpl.add_partition_offset(topic, *p, Offset::Offset(ts))
                .map_err(|e| CliError::kafka("building the timestamp query", e))?;
        }
        let result = consumer
            .offsets_for_times(tpl, timeout)
            .map_err(|e| CliError::kafka(format!("ListOffsets against {bootstrap}"), e))?;
        for e in result.elements() {
            let found = match e.offset() {
                Offset::Offset(o) if o >= 0 => Some(o),
                _ => None,
            };
            by_time.insert((e.topic().to_owned(), e.partition()), found);
        }
    }
    let mut rows = Vec::with_capacity(scope.len());
    for (topic, partition) in scope {
        let (low, high) = consumer
            .fetch_watermarks(&topic, partition, timeout)
            .map_err(|e| {
                CliError::kafka(
                    format!("Error getting ending offset of topic partition: {topic}-{partition}"),
                    e,
                )
            })?;
        let current = committed.get(&(topic.clone(), partition)).copied();
        let offset = match spec {
            Spec::Earliest => low,
            Spec::Latest => high,
            Spec::Current => current.unwrap_or(high),
            Spec::Offset(n) => clamp(&topic, partition, n, low, high),
            Spec::Shift(n) => {
                let Some(current) = current else {
                    return Err(CliError::Failed(format!(
                        "Cannot shift offset for partition {topic}-{partition} since there is no current committed offset"
                    )));
                };
                clamp(&topic, partition, current.saturating_add(n), low, high)
            }
            Spec::Time(_) => match by_time.get(&(topic.clone(), partition)).copied().flatten() {
                Some(o) => o,
                None => {
                    println!(
                        "\nWarn: Partition {partition} from topic {topic} is empty. Falling back to latest known offset."
                    );
                    high
                }
            },
        };
        rows.push((topic, partition, offset));
    }
    Ok(rows)
}

/// Commits `rows` for the group as a consumer outside it (OffsetCommit with no member, which
/// Kafka accepts while the group is empty).
fn commit_offsets(consumer: &BaseConsumer, rows: &[NewOffset]) -> KafkaResult<()> {
    let mut tpl = TopicPartitionList::new();
    for (topic, partition, offset) in rows {
        tpl.add_partition_offset(topic, *partition, Offset::Offset(*offset))?;
    }
    consumer.commit(&tpl, CommitMode::Sync)
}

async fn reset_offsets(args: ResetArgs) -> Result<(), CliError> {
    let common = &args.common;
    let spec = args.spec.spec()?;
    for t in &args.topic {
        parse_topic_arg(t).map_err(CliError::Usage)?;
    }
    if !args.dry_run && !args.execute {
        eprintln!("{DRY_RUN_WARNING}");
    }
    let cluster = common.connect.cluster()?;
    cluster.check_reachable(common.timeout()).await?;
    let groups = selected_groups(common, &cluster, &args.group, args.all_groups).await?;
    let mut plans = Vec::new();
    let mut failed = Vec::new();
    for group in &groups {
        let consumer = consumer(common, &cluster, group)?;
        let timeout = common.timeout();
        let bootstrap = cluster.bootstrap.clone();
        let topics = args.topic.clone();
        let owned = group.clone();
        let execute = args.execute;
        let result = tokio::task::spawn_blocking(move || {
            let group = owned;
            if let Some(state) = group_state(&consumer, &group, timeout)
                && !matches!(state.as_str(), "Empty" | "Dead" | "")
            {
                return Err(active_group(&group, &state));
            }
            let rows = plan_reset(&consumer, &group, &topics, spec, timeout, &bootstrap)?;
            if execute && !rows.is_empty() {
                commit_offsets(&consumer, &rows).map_err(|e| {
                    CliError::kafka(format!("committing the offsets of group {group}"), e)
                })?;
            }
            drop(consumer);
            Ok(rows)
        })
        .await
        .map_err(|e| CliError::Failed(format!("reset task: {e}")))?;
        match result {
            Ok(rows) => plans.push((group.clone(), rows)),
            Err(e) if groups.len() == 1 => return Err(e),
            Err(e) => {
                eprintln!("\nerror: {}", crate::error::describe(&e));
                failed.push(group.as_str());
            }
        }
    }
    let mut out = std::io::stdout().lock();
    out.write_all(format_reset_table(&plans).as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| CliError::io("writing the table", e))?;
    if failed.is_empty() {
        Ok(())
    } else {
        Err(CliError::Failed(format!(
            "the offsets of {} of {} groups could not be reset: {}",
            failed.len(),
            groups.len(),
            failed.join(", ")
        )))
    }
}

/// How Kafka's tool names a group deletion's failure (the exception and its message).
fn deletion_error(code: RDKafkaErrorCode) -> String {
    match code {
        RDKafkaErrorCode::NonEmptyGroup => {
            "org.apache.kafka.common.errors.GroupNotEmptyException: The group is not empty."
                .to_owned()
        }
        RDKafkaErrorCode::GroupIdNotFound => {
            "org.apache.kafka.common.errors.GroupIdNotFoundException: The group id does not exist."
                .to_owned()
        }
        other => other.to_string(),
    }
}

fn quoted(groups: &[String]) -> String {
    groups
        .iter()
        .map(|g| format!("'{g}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn delete(args: DeleteArgs) -> Result<(), CliError> {
    let common = &args.common;
    let cluster = common.connect.cluster()?;
    cluster.check_reachable(common.timeout()).await?;
    let groups = selected_groups(common, &cluster, &args.group, args.all_groups).await?;
    if groups.is_empty() {
        println!("Deletion of requested consumer groups () was successful.");
        return Ok(());
    }
    let admin: AdminClient<DefaultClientContext> = common
        .config(&cluster, &[])?
        .create()
        .map_err(|e| CliError::kafka("creating the admin client", e))?;
    let names: Vec<&str> = groups.iter().map(String::as_str).collect();
    let options = AdminOptions::new()
        .request_timeout(Some(common.timeout()))
        .operation_timeout(Some(common.timeout()));
    let results = admin
        .delete_groups(&names, &options)
        .await
        .map_err(|e| group_api_error(&cluster, "DeleteGroups", e))?;
    let mut deleted = Vec::new();
    let mut failed = Vec::new();
    for result in results {
        match result {
            Ok(group) => deleted.push(group),
            Err((group, code)) => failed.push((group, code)),
        }
    }
    let (out, error) = deletion_report(&deleted, &failed);
    print!("{out}");
    match error {
        None => Ok(()),
        Some(message) => Err(CliError::Failed(message)),
    }
}

/// kafka-consumer-groups' report of `--delete`: what goes to stdout, and the error when some
/// groups could not be deleted (with the Java exception each failed with).
fn deletion_report(
    deleted: &[String],
    failed: &[(String, RDKafkaErrorCode)],
) -> (String, Option<String>) {
    if failed.is_empty() {
        return (
            format!(
                "Deletion of requested consumer groups ({}) was successful.\n",
                quoted(deleted)
            ),
            None,
        );
    }
    let out = if deleted.is_empty() {
        String::new()
    } else {
        format!(
            "\nThese consumer groups were deleted successfully: {}\n",
            quoted(deleted)
        )
    };
    let mut message = "Deletion of some consumer groups failed:".to_owned();
    for (group, code) in failed {
        message.push_str(&format!(
            "\n* Group '{group}' could not be deleted due to: {}",
            deletion_error(*code)
        ));
    }
    (out, Some(message))
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

    /// A ConsumerProtocolAssignment: version, [topic, [partition]], user data.
    fn assignment_bytes(topics: &[(&str, &[i32])], user_data: &[u8]) -> Vec<u8> {
        let mut b = vec![0, 3];
        b.extend_from_slice(&i32::try_from(topics.len()).unwrap().to_be_bytes());
        for (t, ps) in topics {
            b.extend_from_slice(&i16::try_from(t.len()).unwrap().to_be_bytes());
            b.extend_from_slice(t.as_bytes());
            b.extend_from_slice(&i32::try_from(ps.len()).unwrap().to_be_bytes());
            for p in *ps {
                b.extend_from_slice(&p.to_be_bytes());
            }
        }
        b.extend_from_slice(&i32::try_from(user_data.len()).unwrap().to_be_bytes());
        b.extend_from_slice(user_data);
        b
    }

    #[test]
    fn assignments_decode_and_bad_bytes_are_errors() {
        let bytes = assignment_bytes(&[("orders", &[2, 0]), ("audit", &[1])], b"ud");
        let parsed = parse_assignment(&bytes).unwrap();
        assert_eq!(
            parsed,
            vec![
                ("audit".to_owned(), 1),
                ("orders".to_owned(), 0),
                ("orders".to_owned(), 2)
            ]
        );
        assert_eq!(assignment_string(&parsed), "audit:1;orders:0,2");
        assert_eq!(assignment_string(&[]), "-");
        // Every truncation of a valid assignment inside its topics is an error, never a panic.
        let topics_end = bytes.len() - 6;
        for cut in 0..topics_end {
            assert!(parse_assignment(&bytes[..cut]).is_none(), "cut at {cut}");
        }
        // Counts that claim more than the bytes hold, a negative length, bad UTF-8.
        let huge_topics = [0, 0, 0x7f, 0xff, 0xff, 0xff, 0, 1, b't'];
        assert!(parse_assignment(&huge_topics).is_none());
        let huge_partitions = [0, 0, 0, 0, 0, 1, 0, 1, b't', 0x7f, 0xff, 0xff, 0xff, 0, 0];
        assert!(parse_assignment(&huge_partitions).is_none());
        assert!(parse_assignment(&[0, 0, 0, 0, 0, 1, 0xff, 0xff]).is_none());
        assert!(parse_assignment(&[0, 0, 0, 0, 0, 1, 0, 1, 0xff, 0, 0, 0, 0]).is_none());
        // Pseudo-random garbage never panics.
        let mut x: u32 = 0x9e37_79b9;
        for len in 0..200 {
            let garbage: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    x.to_be_bytes()[0]
                })
                .collect();
            let _ = parse_assignment(&garbage);
        }
    }

    fn member(id: &str, assignment: &[(&str, i32)]) -> Member {
        Member {
            id: id.to_owned(),
            client_id: "rdkafka".to_owned(),
            host: "/127.0.0.1".to_owned(),
            assignment: assignment
                .iter()
                .map(|(t, p)| ((*t).to_owned(), *p))
                .collect(),
        }
    }

    #[test]
    fn members_table_is_kafkas() {
        let members = [
            member("m-1", &[("t", 1), ("t", 0), ("u", 0)]),
            member("a-consumer-id-longer-than-15", &[]),
        ];
        assert_eq!(
            format_members_table("g", &members, false),
            "GROUP           CONSUMER-ID                  HOST            CLIENT-ID       #PARTITIONS\n\
             g               m-1                          /127.0.0.1      rdkafka         3\n\
             g               a-consumer-id-longer-than-15 /127.0.0.1      rdkafka         0\n"
        );
        assert_eq!(
            format_members_table("g", &members[..1], true),
            "GROUP           CONSUMER-ID     HOST            CLIENT-ID       #PARTITIONS     CURRENT-EPOCH   CURRENT-ASSIGNMENT   TARGET-EPOCH    TARGET-ASSIGNMENT\n\
             g               m-1             /127.0.0.1      rdkafka         3               -               t:0,1;u:0            -               -\n"
        );
        // No members: the header alone.
        assert_eq!(
            format_members_table("g", &[], false),
            "GROUP           CONSUMER-ID     HOST            CLIENT-ID       #PARTITIONS\n"
        );
    }

    #[test]
    fn state_table_is_kafkas() {
        assert_eq!(
            format_state_table(
                "g",
                &coordinator_column("localhost", 9092, 1),
                "range",
                "Stable",
                2
            ),
            "GROUP           COORDINATOR (ID)          ASSIGNMENT-STRATEGY  STATE                #MEMBERS\n\
             g               localhost:9092  (1)       range                Stable               2\n"
        );
        let text = format_state_table("g", "-", "", "Empty", 0);
        assert!(text.ends_with("\ng               -                         -                    Empty                0\n"), "{text}");
    }

    #[test]
    fn coordinator_partition_uses_javas_hash() {
        // "hello".hashCode() == 99162322 and "polygenelubricants".hashCode() == Integer.MIN_VALUE
        // (well-known Java values).
        assert_eq!(java_hash("hello"), 99_162_322);
        assert_eq!(java_hash("polygenelubricants"), i32::MIN);
        assert_eq!(java_hash(""), 0);
    }

    #[test]
    fn reset_scopes_parse_like_kafka() {
        assert_eq!(
            parse_topic_arg("orders").unwrap(),
            ("orders".to_owned(), None)
        );
        assert_eq!(
            parse_topic_arg("orders:0,2").unwrap(),
            ("orders".to_owned(), Some(vec![0, 2]))
        );
        assert_eq!(
            parse_topic_arg("orders:x").unwrap_err(),
            "Invalid partition 'x' specified in topic arg 'orders:x''"
        );
        assert_eq!(
            parse_topic_arg("orders:1,,2").unwrap_err(),
            "Invalid partition '' specified in topic arg 'orders:1,,2''"
        );
        for bad in ["orders:", "orders:1:2", ":1"] {
            assert_eq!(
                parse_topic_arg(bad).unwrap_err(),
                format!("Invalid topic arg '{bad}', expected topic name and partitions")
            );
        }
    }

    #[test]
    fn datetimes_read_as_kafkas_get_date_time() {
        // UTC without a zone; epoch values checked with `date -u -d ... +%s%3N`.
        assert_eq!(parse_datetime("1970-01-01T00:00:00.000").unwrap(), 0);
        assert_eq!(
            parse_datetime("2020-11-10T16:51:38.198").unwrap(),
            1_605_027_098_198
        );
        assert_eq!(
            parse_datetime("2020-11-10T16:51:38.198Z").unwrap(),
            1_605_027_098_198
        );
        // The same instant written in +08:00, +0800 and +08.
        for zoned in [
            "2020-11-11T00:51:38.198+08:00",
            "2020-11-11T00:51:38.198+0800",
            "2020-11-11T00:51:38.198+08",
        ] {
            assert_eq!(parse_datetime(zoned).unwrap(), 1_605_027_098_198, "{zoned}");
        }
        assert_eq!(
            parse_datetime("2020-11-10T11:51:38.198-05:00").unwrap(),
            1_605_027_098_198
        );
        // Leap day, and a date before 1970.
        assert_eq!(
            parse_datetime("2024-02-29T00:00:00.000").unwrap(),
            1_709_164_800_000
        );
        assert_eq!(parse_datetime("1969-12-31T23:59:59.999").unwrap(), -1);
        assert_eq!(
            parse_datetime("2020-11-10 16:51:38").unwrap_err(),
            "Error parsing timestamp. It does not contain a 'T' according to ISO8601 format"
        );
        for bad in [
            "2020-11-10T16:51:38",
            "2023-02-29T00:00:00.000",
            "2020-13-01T00:00:00.000",
            "2020-11-10T24:00:00.000",
            "2020-11-10T16:51:38.1234",
            "20-11-10T16:51:38.000",
            "2020-11-10T16:51:38.000+8",
        ] {
            let e = parse_datetime(bad).unwrap_err();
            assert!(e.starts_with("Unparseable date: \""), "{bad}: {e}");
        }
    }

    #[test]
    fn durations_read_as_javas_duration_parse() {
        assert_eq!(parse_duration("PT30M").unwrap(), 30 * 60_000);
        assert_eq!(parse_duration("P1DT12H").unwrap(), 36 * 3_600_000);
        assert_eq!(parse_duration("pt1.5s").unwrap(), 1_500);
        assert_eq!(parse_duration("PT-0.25S").unwrap(), -250);
        assert_eq!(parse_duration("-PT1H-1M").unwrap(), -(3_600_000 - 60_000));
        assert_eq!(parse_duration("P2D").unwrap(), 2 * 86_400_000);
        assert_eq!(parse_duration("PT0.123456789S").unwrap(), 123);
        for bad in [
            "",
            "P",
            "PT",
            "1H",
            "PT1",
            "PT1X",
            "PT1S1M",
            "P1H",
            "PT1.S",
            "PT.5S",
            "PT1.5M",
            "PT1.1234567890S",
            "P1DT",
        ] {
            assert_eq!(
                parse_duration(bad).unwrap_err(),
                "Text cannot be parsed to a Duration",
                "{bad}"
            );
        }
    }

    #[test]
    fn deletion_reports_are_kafkas() {
        let (out, error) = deletion_report(&["a".to_owned(), "b".to_owned()], &[]);
        assert_eq!(
            out,
            "Deletion of requested consumer groups ('a', 'b') was successful.\n"
        );
        assert!(error.is_none());
        let (out, error) = deletion_report(
            &["a".to_owned()],
            &[
                ("busy".to_owned(), RDKafkaErrorCode::NonEmptyGroup),
                ("nope".to_owned(), RDKafkaErrorCode::GroupIdNotFound),
            ],
        );
        assert_eq!(
            out,
            "\nThese consumer groups were deleted successfully: 'a'\n"
        );
        assert_eq!(
            error.unwrap(),
            "Deletion of some consumer groups failed:\n\
             * Group 'busy' could not be deleted due to: org.apache.kafka.common.errors.GroupNotEmptyException: The group is not empty.\n\
             * Group 'nope' could not be deleted due to: org.apache.kafka.common.errors.GroupIdNotFoundException: The group id does not exist."
        );
    }

    #[test]
    fn reset_table_is_kafkas() {
        let plans = vec![(
            "g".to_owned(),
            vec![("t".to_owned(), 0, 5), ("t".to_owned(), 1, 0)],
        )];
        assert_eq!(
            format_reset_table(&plans),
            "\nGROUP           TOPIC           PARTITION  NEW-OFFSET\n\
             g               t               0          5\n\
             g               t               1          0\n"
        );
        // Wider names widen their columns; no groups print only the blank line.
        let long = "a-rather-long-group-name".to_owned();
        let text = format_reset_table(&[(long.clone(), vec![("t".to_owned(), 0, 1)])]);
        assert!(
            text.contains(&format!("\n{long} t               0          1\n")),
            "{text}"
        );
        assert_eq!(format_reset_table(&[]), "\n");
        assert_eq!(
            format_reset_table(&[("g".to_owned(), vec![])]),
            "\nGROUP           TOPIC           PARTITION  NEW-OFFSET\n"
        );
    }
}
