//! The consumer: manual assignment or group subscription, async `poll`, positions and commits.

use crate::assignor::Assignor;
use crate::cluster::Cluster;
use crate::error::{BrokerError, InvalidValue, Result};
use crate::fault::InjectedErrors;
use crate::group::{JoinInfo, OffsetAndMetadata, Status};
use crate::log::{PartitionLog, Read};
use crate::record::{ConsumerRecord, TopicPartition};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// `auto.offset.reset`: where to start when there is no committed offset (or it is out of range).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OffsetReset {
    /// Start from the log start.
    Earliest,
    /// Start from the log end (Kafka's default).
    #[default]
    Latest,
    /// Fail with [`BrokerError::NoOffsetForPartition`].
    None,
}

/// Consumer settings, named after Kafka's consumer configs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerConfig {
    /// `group.id`; required for `subscribe` and commits.
    pub group_id: Option<String>,
    /// `client.id`; default `consumer-<group>-<n>` as Kafka makes it.
    pub client_id: Option<String>,
    /// Host reported in group descriptions (default `/127.0.0.1`).
    pub host: String,
    /// `auto.offset.reset` (default latest).
    pub auto_offset_reset: OffsetReset,
    /// `enable.auto.commit` (default true, as Kafka).
    pub enable_auto_commit: bool,
    /// `auto.commit.interval.ms` (default 5 s, broker clock).
    pub auto_commit_interval: Duration,
    /// `enable.auto.offset.store` (librdkafka's; default true). With `true` the consumer
    /// commits its positions, as Java's consumer (`SubscriptionState.allConsumed`): every
    /// record `poll` returned counts as consumed. With `false` it commits only the offsets
    /// stored with [`Consumer::store_offset`] (a client that hands records out one by one
    /// stores each as it returns it): auto-commit, the commit before partitions are revoked,
    /// `close` and [`Consumer::commit_sync`] all commit those, each stored offset once.
    pub enable_auto_offset_store: bool,
    /// `max.poll.records` (default 500).
    pub max_poll_records: usize,
    /// `session.timeout.ms` (default 45 s, broker clock).
    pub session_timeout: Duration,
    /// `max.poll.interval.ms` (default 5 min, broker clock); also the rebalance timeout.
    pub max_poll_interval: Duration,
    /// `partition.assignment.strategy` (default range).
    pub assignor: Assignor,
}

impl Default for ConsumerConfig {
    fn default() -> Self {
        ConsumerConfig {
            group_id: None,
            client_id: None,
            host: "/127.0.0.1".into(),
            auto_offset_reset: OffsetReset::Latest,
            enable_auto_commit: true,
            auto_commit_interval: Duration::from_secs(5),
            enable_auto_offset_store: true,
            max_poll_records: 500,
            session_timeout: Duration::from_secs(45),
            max_poll_interval: Duration::from_secs(300),
            assignor: Assignor::Range,
        }
    }
}

impl ConsumerConfig {
    /// Defaults with a `group.id`.
    pub fn new(group_id: impl Into<String>) -> Self {
        ConsumerConfig {
            group_id: Some(group_id.into()),
            ..Default::default()
        }
    }

    /// Defaults without a group (manual assignment, no commits).
    pub fn without_group() -> Self {
        ConsumerConfig::default()
    }

    /// Sets `client.id`.
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = Some(id.into());
        self
    }

    /// Sets `auto.offset.reset`.
    pub fn auto_offset_reset(mut self, r: OffsetReset) -> Self {
        self.auto_offset_reset = r;
        self
    }

    /// Sets `enable.auto.commit`.
    pub fn enable_auto_commit(mut self, on: bool) -> Self {
        self.enable_auto_commit = on;
        self
    }

    /// Sets `auto.commit.interval.ms`.
    pub fn auto_commit_interval(mut self, d: Duration) -> Self {
        self.auto_commit_interval = d;
        self
    }

    /// Sets `enable.auto.offset.store` (see the field).
    pub fn enable_auto_offset_store(mut self, on: bool) -> Self {
        self.enable_auto_offset_store = on;
        self
    }

    /// Sets `max.poll.records`.
    pub fn max_poll_records(mut self, n: usize) -> Self {
        self.max_poll_records = n;
        self
    }

    /// Sets `session.timeout.ms`.
    pub fn session_timeout(mut self, d: Duration) -> Self {
        self.session_timeout = d;
        self
    }

    /// Sets `max.poll.interval.ms`.
    pub fn max_poll_interval(mut self, d: Duration) -> Self {
        self.max_poll_interval = d;
        self
    }

    /// Sets `partition.assignment.strategy`.
    pub fn assignor(mut self, a: Assignor) -> Self {
        self.assignor = a;
        self
    }

    /// Sets the reported host.
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.host = host.into();
        self
    }
}

/// Callbacks around rebalances (`ConsumerRebalanceListener`). They run inside
/// [`Consumer::poll`] (and `close`), with a [`RebalanceContext`] to commit or seek.
///
/// With an eager assignor every partition is revoked before the member rejoins; with
/// `cooperative-sticky` only the partitions that move are revoked. `on_partitions_assigned`
/// receives the new assignment (eager) or only the added partitions (cooperative), and is
/// called after every completed rebalance, even with an empty list.
pub trait RebalanceListener: Send {
    /// Partitions are about to be taken away; commit what was processed.
    fn on_partitions_revoked(
        &mut self,
        ctx: &mut RebalanceContext<'_>,
        partitions: &[TopicPartition],
    ) {
        let _ = (ctx, partitions);
    }
    /// Partitions were assigned; positions are not resolved yet (seek here if needed).
    fn on_partitions_assigned(
        &mut self,
        ctx: &mut RebalanceContext<'_>,
        partitions: &[TopicPartition],
    ) {
        let _ = (ctx, partitions);
    }
    /// Partitions were lost without a chance to commit (the member was expelled); by default
    /// calls `on_partitions_revoked`, as Kafka does. Commits fail here.
    fn on_partitions_lost(
        &mut self,
        ctx: &mut RebalanceContext<'_>,
        partitions: &[TopicPartition],
    ) {
        self.on_partitions_revoked(ctx, partitions);
    }
}

/// What a rebalance listener may do with the consumer.
pub struct RebalanceContext<'a> {
    core: &'a mut Core,
    lost: bool,
}

impl RebalanceContext<'_> {
    /// Whether this is [`RebalanceListener::on_partitions_lost`] (also when its default
    /// forwards to `on_partitions_revoked`): the member left its group, another member may own
    /// the partitions already, and commits fail.
    pub fn is_lost(&self) -> bool {
        self.lost
    }
    /// Commits the current positions of all assigned partitions (the stored offsets, with
    /// `enable_auto_offset_store` off).
    pub fn commit_sync(&mut self) -> Result<()> {
        self.core.commit_positions(None)
    }
    /// Commits explicit offsets (next offset to read).
    pub fn commit_offsets(&mut self, offsets: &[(TopicPartition, i64)]) -> Result<()> {
        self.core.commit_offsets(offsets)
    }
    /// The offset stored for a partition with [`Consumer::store_offset`], if any.
    pub fn stored_offset(&self, tp: &TopicPartition) -> Option<i64> {
        self.core.entry(tp).and_then(|e| e.stored)
    }
    /// The current position of a partition, if resolved.
    pub fn position(&self, tp: &TopicPartition) -> Option<i64> {
        self.core.entry(tp).and_then(|e| e.position)
    }
    /// The committed offset of a partition.
    pub fn committed(&self, tp: &TopicPartition) -> Result<Option<OffsetAndMetadata>> {
        self.core.committed(tp)
    }
    /// Seeks an assigned partition.
    pub fn seek(&mut self, tp: &TopicPartition, offset: i64) -> Result<()> {
        self.core.seek(tp, offset)
    }
    /// The current assignment.
    pub fn assignment(&self) -> Vec<TopicPartition> {
        self.core.assigned()
    }
}

enum Mode {
    None,
    Assigned,
    Subscribed(Vec<String>),
}

struct Entry {
    tp: TopicPartition,
    position: Option<i64>,
    /// A `seek_to_beginning` / `seek_to_end` not resolved yet (Kafka's `SubscriptionState`
    /// resets lazily, at the next poll or `position`).
    reset: Option<OffsetReset>,
    paused: bool,
    log: Option<Arc<PartitionLog>>,
    /// The offset stored by [`Consumer::store_offset`] (`enable.auto.offset.store=false`).
    stored: Option<i64>,
    /// The stored offset last committed by this consumer, so that it is not committed again.
    committed_stored: Option<i64>,
}

struct Core {
    cluster: Cluster,
    config: ConsumerConfig,
    client_id: String,
    mode: Mode,
    parts: Vec<Entry>,
    member_id: Option<String>,
    generation: i32,
    prev_assignment: Vec<TopicPartition>,
    rejoin: bool,
    notify: Arc<Notify>,
    rotation: usize,
    last_auto_commit: i64,
    closed: bool,
    faults: Faults,
}

/// Errors injected into this consumer's calls (see [`Consumer::inject_poll_errors`] and its
/// siblings).
#[derive(Debug, Default)]
struct Faults {
    poll: InjectedErrors,
    commit: InjectedErrors,
    coordinator: InjectedErrors,
    /// A retriable coordinator fault stopped the member's heartbeats (until a round succeeds).
    heartbeats_stopped: bool,
}

impl Core {
    fn group_id(&self) -> Result<&str> {
        self.config
            .group_id
            .as_deref()
            .filter(|g| !g.is_empty())
            .ok_or(BrokerError::InvalidGroupId)
    }

    fn entry(&self, tp: &TopicPartition) -> Option<&Entry> {
        self.parts.iter().find(|e| &e.tp == tp)
    }

    fn entry_mut(&mut self, tp: &TopicPartition) -> Result<&mut Entry> {
        self.parts.iter_mut().find(|e| &e.tp == tp).ok_or_else(|| {
            BrokerError::IllegalState(format!("No current assignment for partition {tp}"))
        })
    }

    fn assigned(&self) -> Vec<TopicPartition> {
        self.parts.iter().map(|e| e.tp.clone()).collect()
    }

    fn set_assignment(&mut self, mut parts: Vec<TopicPartition>) {
        parts.sort();
        parts.dedup();
        let mut old = std::mem::take(&mut self.parts);
        for tp in parts {
            match old.iter().position(|e| e.tp == tp) {
                Some(i) => self.parts.push(old.swap_remove(i)),
                None => self.parts.push(Entry {
                    tp,
                    position: None,
                    reset: None,
                    paused: false,
                    log: None,
                    stored: None,
                    committed_stored: None,
                }),
            }
        }
        for e in old {
            if let Some(l) = e.log {
                l.remove_waiter(&self.notify);
            }
        }
        self.parts.sort_by(|a, b| a.tp.cmp(&b.tp));
        self.rotation = 0;
    }

    fn member(&self) -> Option<(&str, i32)> {
        match (&self.mode, &self.member_id) {
            (Mode::Subscribed(_), Some(id)) => Some((id.as_str(), self.generation)),
            _ => None,
        }
    }

    fn commit_offsets(&mut self, offsets: &[(TopicPartition, i64)]) -> Result<()> {
        let group = self.group_id()?.to_string();
        if let Some(e) = self.faults.commit.take() {
            return Err(e);
        }
        let inner = &self.cluster.inner;
        let now = inner.clock.now_ms();
        let offs: Vec<(TopicPartition, i64, String)> = offsets
            .iter()
            .map(|(tp, o)| (tp.clone(), *o, String::new()))
            .collect();
        let counts = inner.counts();
        let member = self.member();
        inner
            .coordinator
            .lock()
            .commit(&group, member, &offs, now, &counts)
    }

    /// Commits what was consumed from the assigned partitions (all, or `only` those): the
    /// positions, or with `enable.auto.offset.store=false` the stored offsets not committed
    /// yet. The one place where auto-commit, the commit before a revocation, `close` and
    /// `commit_sync` decide what to commit.
    fn commit_positions(&mut self, only: Option<&[TopicPartition]>) -> Result<()> {
        let store = self.config.enable_auto_offset_store;
        let offs: Vec<(TopicPartition, i64)> = self
            .parts
            .iter()
            .filter(|e| only.is_none_or(|o| o.contains(&e.tp)))
            .filter_map(|e| {
                if store {
                    e.position
                } else {
                    e.stored.filter(|s| e.committed_stored != Some(*s))
                }
                .map(|o| (e.tp.clone(), o))
            })
            .collect();
        if offs.is_empty() {
            return Ok(());
        }
        self.commit_offsets(&offs)?;
        if !store {
            for (tp, o) in &offs {
                if let Some(e) = self.parts.iter_mut().find(|e| &e.tp == tp) {
                    e.committed_stored = Some(*o);
                }
            }
        }
        Ok(())
    }

    fn committed(&self, tp: &TopicPartition) -> Result<Option<OffsetAndMetadata>> {
        let group = self.group_id()?;
        let inner = &self.cluster.inner;
        let now = inner.clock.now_ms();
        let counts = inner.counts();
        Ok(inner.coordinator.lock().committed(group, tp, now, &counts))
    }

    fn seek(&mut self, tp: &TopicPartition, offset: i64) -> Result<()> {
        if offset < 0 {
            return Err(BrokerError::IllegalState(format!(
                "Seek offset must not be a negative number: {offset}"
            )));
        }
        let e = self.entry_mut(tp)?;
        e.position = Some(offset);
        e.reset = None;
        Ok(())
    }

    /// Requests a lazy reset of `tps` (all assigned partitions when empty, as Kafka's
    /// `seekToBeginning` / `seekToEnd`); fails before any change if one is not assigned.
    fn request_reset(&mut self, tps: &[TopicPartition], to: OffsetReset) -> Result<()> {
        for tp in tps {
            self.entry_mut(tp)?;
        }
        for e in &mut self.parts {
            if tps.is_empty() || tps.contains(&e.tp) {
                e.position = None;
                e.reset = Some(to);
            }
        }
        Ok(())
    }

    fn log_of(cluster: &Cluster, e: &mut Entry) -> Option<Arc<PartitionLog>> {
        if let Some(l) = &e.log {
            if !l.is_deleted() {
                return Some(l.clone());
            }
            e.log = None;
        }
        e.log = cluster.inner.log(&e.tp);
        e.log.clone()
    }

    /// Gives every assigned partition without a position one: committed offset, else the reset
    /// policy. Partitions of missing topics are skipped until the topic exists.
    fn resolve_positions(&mut self) -> Result<()> {
        if self.parts.iter().all(|e| e.position.is_some()) {
            return Ok(());
        }
        let mut missing = Vec::new();
        let group = self.config.group_id.clone().filter(|g| !g.is_empty());
        for i in 0..self.parts.len() {
            if self.parts[i].position.is_some() {
                continue;
            }
            let cluster = self.cluster.clone();
            let Some(log) = Self::log_of(&cluster, &mut self.parts[i]) else {
                continue;
            };
            if let Some(to) = self.parts[i].reset.take() {
                self.parts[i].position = Some(match to {
                    OffsetReset::Latest => log.end_offset(),
                    _ => 0,
                });
                continue;
            }
            let committed = match &group {
                Some(g) => {
                    let inner = &cluster.inner;
                    let counts = inner.counts();
                    inner.coordinator.lock().committed(
                        g,
                        &self.parts[i].tp,
                        inner.clock.now_ms(),
                        &counts,
                    )
                }
                None => None,
            };
            let pos = match committed {
                Some(c) => Some(c.offset),
                None => match self.config.auto_offset_reset {
                    OffsetReset::Earliest => Some(0),
                    OffsetReset::Latest => Some(log.end_offset()),
                    OffsetReset::None => None,
                },
            };
            match pos {
                Some(p) => self.parts[i].position = Some(p),
                None => missing.push(self.parts[i].tp.clone()),
            }
        }
        if missing.is_empty() {
            Ok(())
        } else {
            Err(BrokerError::NoOffsetForPartition(missing))
        }
    }

    fn fetch(&mut self) -> Result<Vec<ConsumerRecord>> {
        let max = self.config.max_poll_records;
        let n = self.parts.len();
        let mut out = Vec::new();
        let mut out_of_range = Vec::new();
        if n == 0 {
            return Ok(out);
        }
        let start = self.rotation % n;
        for k in 0..n {
            let i = (start + k) % n;
            let cluster = &self.cluster;
            let e = &mut self.parts[i];
            let Some(pos) = e.position else { continue };
            if e.paused {
                continue;
            }
            let Some(log) = Self::log_of(cluster, e) else {
                continue;
            };
            match log.read(pos, max - out.len(), &mut out, Some(&self.notify)) {
                Read::Records(got) => e.position = Some(pos + got as i64),
                Read::OutOfRange { end } => {
                    let reset = match self.config.auto_offset_reset {
                        OffsetReset::Earliest => 0,
                        OffsetReset::Latest => end,
                        OffsetReset::None => {
                            out_of_range.push((e.tp.clone(), pos));
                            continue;
                        }
                    };
                    e.position = Some(reset);
                    if let Read::Records(got) =
                        log.read(reset, max - out.len(), &mut out, Some(&self.notify))
                    {
                        e.position = Some(reset + got as i64);
                    }
                }
            }
            if out.len() >= max {
                self.rotation = i + 1;
                break;
            }
        }
        if out.len() < max {
            self.rotation = start + 1;
        }
        if !out_of_range.is_empty() && out.is_empty() {
            return Err(BrokerError::OffsetOutOfRange(out_of_range));
        }
        Ok(out)
    }

    fn join_info(&self, topics: Vec<String>) -> JoinInfo {
        JoinInfo {
            client_id: self.client_id.clone(),
            host: self.config.host.clone(),
            topics,
            assignor: self.config.assignor,
            owned: if self.config.assignor.is_cooperative() {
                self.assigned()
            } else {
                self.prev_assignment.clone()
            },
            session_timeout_ms: crate::clock::millis(self.config.session_timeout),
            max_poll_interval_ms: crate::clock::millis(self.config.max_poll_interval),
            notify: self.notify.clone(),
        }
    }

    /// Marks this member as waiting inside `poll` until the returned guard drops (also when
    /// the poll is cancelled); `None` when not a group member.
    fn waiting_in_poll(&self) -> Option<InPoll> {
        let (member, _) = self.member()?;
        let group = self.config.group_id.clone()?;
        let inner = self.cluster.inner.clone();
        let now = inner.clock.now_ms();
        inner
            .coordinator
            .lock()
            .set_in_poll(&group, member, true, now);
        Some(InPoll {
            inner,
            group,
            member: member.to_owned(),
        })
    }

    fn maybe_auto_commit(&mut self) {
        if !self.config.enable_auto_commit || self.config.group_id.is_none() {
            return;
        }
        let now = self.cluster.inner.clock.now_ms();
        if now.saturating_sub(self.last_auto_commit)
            >= crate::clock::millis(self.config.auto_commit_interval)
        {
            self.last_auto_commit = now;
            // Kafka logs a failed auto-commit and carries on.
            let _ = self.commit_positions(None);
        }
    }
}

/// A member waiting inside `poll`; dropping it ends the wait (the member polled now).
struct InPoll {
    inner: Arc<crate::cluster::Inner>,
    group: String,
    member: String,
}

impl InPoll {
    /// When the group's next timeout falls due, as a tokio instant: the waiting member wakes
    /// then and runs it (with the system clock; a manual clock runs them as it moves).
    fn group_due(&self) -> Option<tokio::time::Instant> {
        if !matches!(self.inner.clock, crate::clock::Clock::System) {
            return None;
        }
        let due = self.inner.coordinator.lock().next_deadline(&self.group)?;
        let wait = due.saturating_sub(self.inner.clock.now_ms()).max(0) as u64;
        // One millisecond late: the transition is due once `now - start >= timeout`.
        tokio::time::Instant::now().checked_add(Duration::from_millis(wait.saturating_add(1)))
    }
}

impl Drop for InPoll {
    fn drop(&mut self) {
        let now = self.inner.clock.now_ms();
        self.inner
            .coordinator
            .lock()
            .set_in_poll(&self.group, &self.member, false, now);
    }
}

/// A consumer (`KafkaConsumer`). Not `Sync`: like Kafka's, one task drives it.
///
/// * [`Consumer::assign`] gives it fixed partitions; [`Consumer::subscribe`] joins its
///   `group.id` and lets the group coordinator assign partitions (see [`crate::group`] for
///   the protocol).
/// * [`Consumer::poll`] returns up to `max.poll.records` records from the current positions,
///   rotating over partitions; when there are none it waits (without spinning) for an append,
///   a rebalance or the timeout. Poll timeouts use tokio's timer, so poll must run inside a
///   tokio runtime with time enabled.
/// * Dropping a consumer closes it: auto-commit (if enabled), revocation callbacks, and a
///   clean leave of the group. [`Consumer::abandon`] instead simulates a crash.
pub struct Consumer {
    core: Core,
    listener: Option<Box<dyn RebalanceListener>>,
}

impl std::fmt::Debug for Consumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumer")
            .field("client_id", &self.core.client_id)
            .field("member_id", &self.core.member_id)
            .field("generation", &self.core.generation)
            .field("assignment", &self.core.assigned())
            .finish()
    }
}

impl Cluster {
    /// A consumer (`KafkaConsumer`).
    pub fn consumer(&self, config: ConsumerConfig) -> Result<Consumer> {
        Consumer::new(self.clone(), config)
    }
}

impl Consumer {
    pub(crate) fn new(cluster: Cluster, config: ConsumerConfig) -> Result<Self> {
        if config.max_poll_records == 0 {
            return Err(BrokerError::InvalidConfig(Box::new(InvalidValue {
                name: "max.poll.records",
                value: "0".into(),
                reason: "Value must be at least 1",
            })));
        }
        if config.session_timeout.is_zero() {
            return Err(BrokerError::InvalidConfig(Box::new(InvalidValue {
                name: "session.timeout.ms",
                value: "0".into(),
                reason: "Value must be at least 1",
            })));
        }
        let client_id = config.client_id.clone().unwrap_or_else(|| {
            let n = cluster.inner.next_seq();
            match &config.group_id {
                Some(g) => format!("consumer-{g}-{n}"),
                None => format!("consumer-{n}"),
            }
        });
        let now = cluster.inner.clock.now_ms();
        Ok(Consumer {
            core: Core {
                cluster,
                config,
                client_id,
                mode: Mode::None,
                parts: Vec::new(),
                member_id: None,
                generation: -1,
                prev_assignment: Vec::new(),
                rejoin: false,
                notify: Arc::new(Notify::new()),
                rotation: 0,
                last_auto_commit: now,
                closed: false,
                faults: Faults::default(),
            },
            listener: None,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ConsumerConfig {
        &self.core.config
    }

    /// The effective `client.id`.
    pub fn client_id(&self) -> &str {
        &self.core.client_id
    }

    /// The member id once the consumer has joined its group.
    pub fn member_id(&self) -> Option<&str> {
        self.core.member_id.as_deref()
    }

    /// The group generation of the current assignment (-1 before the first).
    pub fn generation(&self) -> i32 {
        self.core.generation
    }

    /// Subscribes to topics through the consumer group (joins on the next poll).
    pub fn subscribe<I, S>(&mut self, topics: I) -> Result<()>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.core.group_id()?;
        if matches!(self.core.mode, Mode::Assigned) {
            return Err(BrokerError::IllegalState(
                "Subscription to topics, partitions and pattern are mutually exclusive".into(),
            ));
        }
        let mut topics: Vec<String> = topics.into_iter().map(Into::into).collect();
        topics.sort();
        topics.dedup();
        if topics.is_empty() {
            self.unsubscribe();
            return Ok(());
        }
        for t in &topics {
            crate::cluster::validate_topic_name(t)?;
        }
        if self.core.member_id.is_some() {
            self.core.rejoin = true;
        }
        self.core.mode = Mode::Subscribed(topics);
        Ok(())
    }

    /// Subscribes with a rebalance listener.
    pub fn subscribe_with_listener<I, S>(
        &mut self,
        topics: I,
        listener: Box<dyn RebalanceListener>,
    ) -> Result<()>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.subscribe(topics)?;
        self.listener = Some(listener);
        Ok(())
    }

    /// Subscribed topics.
    pub fn subscription(&self) -> Vec<String> {
        match &self.core.mode {
            Mode::Subscribed(t) => t.clone(),
            _ => Vec::new(),
        }
    }

    /// Leaves the group (revoking partitions) or drops the manual assignment.
    pub fn unsubscribe(&mut self) {
        self.leave_group(true);
        self.core.set_assignment(Vec::new());
        self.core.mode = Mode::None;
    }

    /// Assigns partitions manually (no group membership; commits still go to `group.id` if set).
    pub fn assign(&mut self, partitions: impl IntoIterator<Item = TopicPartition>) -> Result<()> {
        if matches!(self.core.mode, Mode::Subscribed(_)) {
            return Err(BrokerError::IllegalState(
                "Subscription to topics, partitions and pattern are mutually exclusive".into(),
            ));
        }
        let parts: Vec<TopicPartition> = partitions.into_iter().collect();
        // Java's `assign` auto-commits first (`maybeAutoCommitOffsetsAsync`), when due.
        self.core.maybe_auto_commit();
        if parts.is_empty() {
            self.core.set_assignment(Vec::new());
            self.core.mode = Mode::None;
            return Ok(());
        }
        self.core.set_assignment(parts);
        self.core.mode = Mode::Assigned;
        Ok(())
    }

    /// The partitions currently assigned, sorted.
    pub fn assignment(&self) -> Vec<TopicPartition> {
        self.core.assigned()
    }

    /// Stores `next_offset` (the offset after the last record the application consumed) for
    /// `partition` of `topic`: what auto-commit, the commit before the partition is revoked,
    /// `close` and [`commit_sync`](Self::commit_sync) commit when the config's
    /// `enable_auto_offset_store` is `false` (librdkafka's `rd_kafka_offsets_store`). Fails
    /// with `IllegalState` when the partition is not assigned.
    pub fn store_offset(&mut self, topic: &str, partition: i32, next_offset: i64) -> Result<()> {
        match self
            .core
            .parts
            .iter_mut()
            .find(|e| e.tp.partition == partition && e.tp.topic == topic)
        {
            Some(e) => {
                e.stored = Some(next_offset);
                Ok(())
            }
            None => Err(BrokerError::IllegalState(format!(
                "No current assignment for partition {topic}-{partition}"
            ))),
        }
    }

    /// The offset stored for an assigned partition with [`store_offset`](Self::store_offset)
    /// (dropped when the partition is revoked, lost or unassigned); `None` when none was.
    pub fn stored_offset(&self, tp: &TopicPartition) -> Option<i64> {
        self.core.entry(tp).and_then(|e| e.stored)
    }

    /// Sets the next offset to read for an assigned partition.
    pub fn seek(&mut self, tp: &TopicPartition, offset: i64) -> Result<()> {
        self.core.seek(tp, offset)
    }

    /// Seeks partitions to their beginning; an empty list means every assigned partition.
    /// Resolved lazily, at the next `poll` or `position` (Kafka's `seekToBeginning`).
    pub fn seek_to_beginning(&mut self, tps: &[TopicPartition]) -> Result<()> {
        self.core.request_reset(tps, OffsetReset::Earliest)
    }

    /// Seeks partitions to their end; an empty list means every assigned partition. Resolved
    /// lazily, at the next `poll` or `position` (Kafka's `seekToEnd`): a record produced
    /// between this call and the next poll is skipped.
    pub fn seek_to_end(&mut self, tps: &[TopicPartition]) -> Result<()> {
        self.core.request_reset(tps, OffsetReset::Latest)
    }

    /// Pauses fetching from assigned partitions.
    pub fn pause(&mut self, tps: &[TopicPartition]) -> Result<()> {
        for tp in tps {
            self.core.entry_mut(tp)?.paused = true;
        }
        Ok(())
    }

    /// Resumes paused partitions.
    pub fn resume(&mut self, tps: &[TopicPartition]) -> Result<()> {
        for tp in tps {
            self.core.entry_mut(tp)?.paused = false;
        }
        Ok(())
    }

    /// Paused partitions.
    pub fn paused(&self) -> Vec<TopicPartition> {
        self.core
            .parts
            .iter()
            .filter(|e| e.paused)
            .map(|e| e.tp.clone())
            .collect()
    }

    /// The next offset to read of an assigned partition, resolving it (committed offset or
    /// reset policy) if needed.
    pub fn position(&mut self, tp: &TopicPartition) -> Result<i64> {
        if let Some(p) = self.core.entry_mut(tp)?.position {
            return Ok(p);
        }
        self.core.resolve_positions()?;
        self.core
            .entry(tp)
            .and_then(|e| e.position)
            .ok_or_else(|| BrokerError::UnknownTopicOrPartition(tp.to_string()))
    }

    /// The committed offset of a partition in this consumer's group.
    pub fn committed(&self, tp: &TopicPartition) -> Result<Option<OffsetAndMetadata>> {
        self.core.committed(tp)
    }

    /// Commits the current positions of all assigned partitions (`commitSync()`): the offset
    /// after the last record returned by `poll`; with `enable_auto_offset_store` off, the
    /// offsets stored with [`store_offset`](Self::store_offset) not committed yet.
    pub fn commit_sync(&mut self) -> Result<()> {
        self.core.commit_positions(None)
    }

    /// Commits explicit offsets (`commitSync(Map)`): pass the last processed offset + 1.
    pub fn commit_offsets(&mut self, offsets: &[(TopicPartition, i64)]) -> Result<()> {
        self.core.commit_offsets(offsets)
    }

    /// Makes the next `n` calls of [`poll`](Self::poll) fail with `error` before fetching
    /// anything (nothing is lost: the next successful poll returns what this one would have),
    /// as Kafka's `MockConsumer.setPollException` does for one poll. Queued after errors
    /// already injected.
    pub fn inject_poll_errors(&mut self, n: usize, error: BrokerError) {
        self.core.faults.poll.push(n, error);
    }

    /// Makes the next `n` commits fail with `error`, nothing committed: explicit ones (which
    /// return it), automatic ones (which ignore it, as Kafka's consumer logs a failed
    /// auto-commit) and those made in rebalance callbacks.
    pub fn inject_commit_errors(&mut self, n: usize, error: BrokerError) {
        self.core.faults.commit.push(n, error);
    }

    /// Makes the next `n` rounds of the group protocol (one per poll, and one each time a
    /// waiting poll wakes) fail with `error`. A retriable error
    /// ([`BrokerError::CoordinatorNotAvailable`], [`BrokerError::RequestTimedOut`]) only skips
    /// the round, as Kafka's consumer retries it: no join, no new assignment, and no
    /// heartbeat from the first such round until a round reaches the coordinator again (after
    /// `session.timeout.ms` on the broker's clock the member is expelled, and learns it, with
    /// `on_partitions_lost`, once a round succeeds), while fetching from the current assignment
    /// goes on; any other error is returned by `poll` (as Java's `poll` throws,
    /// e.g., a `GroupAuthorizationException`). Only subscribed consumers run the protocol.
    pub fn inject_coordinator_errors(&mut self, n: usize, error: BrokerError) {
        self.core.faults.coordinator.push(n, error);
    }

    fn call(&mut self, which: u8, parts: &[TopicPartition]) {
        if let Some(l) = self.listener.as_mut() {
            let mut ctx = RebalanceContext {
                core: &mut self.core,
                lost: which == 2,
            };
            match which {
                0 => l.on_partitions_revoked(&mut ctx, parts),
                1 => l.on_partitions_assigned(&mut ctx, parts),
                _ => l.on_partitions_lost(&mut ctx, parts),
            }
        }
    }

    fn rejoin(&mut self, group: &str, topics: Vec<String>) -> Result<()> {
        let inner = self.core.cluster.inner.clone();
        let counts = inner.counts();
        let info = self.core.join_info(topics);
        let id = self.core.member_id.clone();
        let now = inner.clock.now_ms();
        let res = inner
            .coordinator
            .lock()
            .join(group, id.as_deref(), info, now, &counts);
        match res {
            Ok(id) => {
                self.core.member_id = Some(id);
                Ok(())
            }
            Err(BrokerError::UnknownMemberId(_)) => {
                self.core.member_id = None;
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Runs the group protocol for this poll: join, revoke/rejoin, pick up assignments.
    fn coordinate(&mut self) -> Result<()> {
        let topics = match &self.core.mode {
            Mode::Subscribed(t) => t.clone(),
            _ => return Ok(()),
        };
        match self.core.faults.coordinator.take() {
            // The coordinator cannot be reached: no join, no new assignment, and heartbeats
            // stop from now until a round reaches it again (its status call marks the member
            // heartbeating); Java's consumer retries a retriable coordinator error itself.
            Some(e) if e.is_retriable() => {
                if !self.core.faults.heartbeats_stopped
                    && let (Some(id), Some(group)) =
                        (&self.core.member_id, &self.core.config.group_id)
                {
                    let inner = &self.core.cluster.inner;
                    let now = inner.clock.now_ms();
                    inner.coordinator.lock().abandon(group, id, now);
                    self.core.faults.heartbeats_stopped = true;
                }
                return Ok(());
            }
            Some(e) => return Err(e),
            None => self.core.faults.heartbeats_stopped = false,
        }
        let group = self.core.group_id()?.to_string();
        let inner = self.core.cluster.inner.clone();
        let cooperative = self.core.config.assignor.is_cooperative();
        for _ in 0..8 {
            let now = inner.clock.now_ms();
            let status = match &self.core.member_id {
                None => Status::NotMember,
                Some(id) => {
                    let counts = inner.counts();
                    let st = inner.coordinator.lock().status(
                        &group,
                        id,
                        self.core.generation,
                        now,
                        &counts,
                    );
                    match st {
                        Status::Waiting | Status::Stable if self.core.rejoin => {
                            Status::RejoinNeeded
                        }
                        other => other,
                    }
                }
            };
            match status {
                Status::NotMember => {
                    if self.core.member_id.take().is_some() {
                        let lost = self.core.assigned();
                        self.core.set_assignment(Vec::new());
                        self.core.generation = -1;
                        if !lost.is_empty() {
                            self.call(2, &lost);
                        }
                    }
                    self.core.rejoin = false;
                    self.rejoin(&group, topics.clone())?;
                }
                Status::RejoinNeeded => {
                    self.core.rejoin = false;
                    if !cooperative {
                        let owned = self.core.assigned();
                        if self.core.config.enable_auto_commit {
                            let _ = self.core.commit_positions(None);
                        }
                        if !owned.is_empty() {
                            self.call(0, &owned);
                        }
                        self.core.set_assignment(Vec::new());
                    }
                    self.rejoin(&group, topics.clone())?;
                }
                Status::Waiting | Status::Stable => return Ok(()),
                Status::Assignment {
                    generation,
                    partitions,
                } => {
                    self.core.generation = generation;
                    let owned: BTreeSet<TopicPartition> =
                        self.core.assigned().into_iter().collect();
                    let new: BTreeSet<TopicPartition> = partitions.iter().cloned().collect();
                    let revoked: Vec<TopicPartition> = owned.difference(&new).cloned().collect();
                    let added: Vec<TopicPartition> = new.difference(&owned).cloned().collect();
                    if cooperative && !revoked.is_empty() {
                        if self.core.config.enable_auto_commit {
                            let _ = self.core.commit_positions(Some(&revoked));
                        }
                        self.call(0, &revoked);
                    }
                    self.core.set_assignment(partitions.clone());
                    self.core.prev_assignment = partitions.clone();
                    if cooperative {
                        self.call(1, &added);
                    } else {
                        self.call(1, &partitions);
                    }
                    if cooperative && !revoked.is_empty() {
                        // Give up the revoked partitions: a follow-up rebalance hands them out.
                        self.rejoin(&group, topics.clone())?;
                        continue;
                    }
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// Fetches records: up to `max.poll.records` from the current positions, waiting up to
    /// `timeout` when there are none. Runs the group protocol (rebalance listeners included)
    /// and auto-commit first. Errors: [`BrokerError::NoOffsetForPartition`] /
    /// [`BrokerError::OffsetOutOfRange`] with `auto.offset.reset=none`, group errors, or
    /// `IllegalState` when neither subscribed nor assigned.
    pub async fn poll(&mut self, timeout: Duration) -> Result<Vec<ConsumerRecord>> {
        if let Some(e) = self.core.faults.poll.take() {
            return Err(e);
        }
        if matches!(self.core.mode, Mode::None) {
            return Err(BrokerError::IllegalState(
                "Consumer is not subscribed to any topics or assigned any partitions".into(),
            ));
        }
        // A timeout too large to represent waits without a deadline.
        let deadline = tokio::time::Instant::now().checked_add(timeout);
        let inner = self.core.cluster.inner.clone();
        let notify = self.core.notify.clone();
        loop {
            // Registered before looking, so that a partition created meanwhile is not missed.
            let created = inner.partitions_created.notified();
            tokio::pin!(created);
            created.as_mut().enable();
            self.core.maybe_auto_commit();
            self.coordinate()?;
            self.core.resolve_positions()?;
            let recs = self.core.fetch()?;
            if !recs.is_empty() || deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
                return Ok(recs);
            }
            let waiting = self.core.waiting_in_poll();
            let wake = match (deadline, waiting.as_ref().and_then(InPoll::group_due)) {
                (Some(d), Some(g)) => Some(d.min(g)),
                (d, g) => d.or(g),
            };
            tokio::select! {
                _ = notify.notified() => {}
                _ = &mut created => {}
                _ = tokio::time::sleep_until(wake.unwrap_or_else(tokio::time::Instant::now)),
                    if wake.is_some() => {}
            }
        }
    }

    /// Runs what [`poll`](Self::poll) runs before it fetches (auto-commit and the group
    /// protocol, rebalance listeners included) without fetching or waiting. A layer that
    /// buffers fetched records calls it between polls to learn at once that partitions were
    /// revoked or lost (as Kafka's consumer does on every `poll`). Does nothing when neither
    /// subscribed nor assigned.
    pub fn poll_group(&mut self) -> Result<()> {
        if matches!(self.core.mode, Mode::None) {
            return Ok(());
        }
        self.core.maybe_auto_commit();
        self.coordinate()
    }

    fn leave_group(&mut self, run_listener: bool) {
        if let (Some(id), Some(group)) = (
            self.core.member_id.clone(),
            self.core.config.group_id.clone(),
        ) && matches!(self.core.mode, Mode::Subscribed(_))
        {
            if self.core.config.enable_auto_commit {
                let _ = self.core.commit_positions(None);
            }
            let owned = self.core.assigned();
            if run_listener && !owned.is_empty() {
                self.call(0, &owned);
            }
            let inner = self.core.cluster.inner.clone();
            let counts = inner.counts();
            let now = inner.clock.now_ms();
            inner.coordinator.lock().leave(&group, &id, now, &counts);
        }
        self.core.member_id = None;
        self.core.generation = -1;
    }

    fn shutdown(&mut self) {
        if self.core.closed {
            return;
        }
        self.core.closed = true;
        if matches!(self.core.mode, Mode::Assigned) && self.core.config.enable_auto_commit {
            let _ = self.core.commit_positions(None);
        }
        self.leave_group(true);
        self.core.set_assignment(Vec::new());
    }

    /// Closes the consumer: auto-commit if enabled, `on_partitions_revoked`, leave the group.
    pub fn close(mut self) {
        self.shutdown();
    }

    /// Simulates a crash: the member stops heartbeating without leaving, so the group only
    /// rebalances once `session.timeout.ms` has passed on the broker clock. Nothing is committed.
    pub fn abandon(mut self) {
        if let (Some(id), Some(group)) = (
            self.core.member_id.clone(),
            self.core.config.group_id.clone(),
        ) {
            let now = self.core.cluster.inner.clock.now_ms();
            self.core
                .cluster
                .inner
                .coordinator
                .lock()
                .abandon(&group, &id, now);
        }
        self.core.member_id = None;
        self.core.set_assignment(Vec::new());
        self.core.closed = true;
    }
}

impl Drop for Consumer {
    /// Closes the consumer; while the thread panics (the application failed while processing
    /// a record) it skips the auto-commit, which would commit past that record.
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.core.config.enable_auto_commit = false;
        }
        self.shutdown();
    }
}
