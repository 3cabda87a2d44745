//! The group coordinator: membership, rebalances, committed offsets, expiry.
//!
//! # Protocol model
//!
//! The coordinator follows Kafka's classic group protocol, run synchronously under one mutex:
//!
//! * A join, a leave, an expired member or a metadata change of a subscribed topic moves the
//!   group to `PreparingRebalance` and asks every member to rejoin.
//! * Members learn of it on their next `poll` (as Kafka's consumer learns from its heartbeat):
//!   an eager member commits (auto-commit), runs `on_partitions_revoked` for everything it owns
//!   and rejoins; a cooperative member keeps its partitions and rejoins.
//! * When every member has rejoined, the coordinator runs the group's assignor on the leader's
//!   behalf (so `CompletingRebalance` is passed through instantly), bumps the generation and
//!   the group becomes `Stable`. Members pick up their assignment on their next poll.
//! * A member that does not rejoin within the rebalance timeout (its `max.poll.interval.ms`)
//!   is removed, as Kafka does.
//! * Liveness: a live `Consumer` counts as heartbeating (Kafka's background heartbeat thread).
//!   A member whose consumer was [abandoned](crate::Consumer::abandon) (a crashed process) is
//!   removed once `session.timeout.ms` has passed on the broker's clock; a live consumer that
//!   does not poll within `max.poll.interval.ms` is removed too.
//! * When the last member leaves the group becomes `Empty`; `offsets.retention.minutes` after
//!   that (broker clock) its offsets expire and the group becomes `Dead` and disappears.
//!   Offsets of a group that never had members (manual `assign` + commit) expire per offset,
//!   retention after their commit.
//!
//! * A consumer waiting inside `poll` is polling (Kafka resets the poll timer on every
//!   coordinator poll within `KafkaConsumer.poll`): its `max.poll.interval.ms` does not run
//!   out while it waits.
//!
//! Timed transitions run whenever the group is accessed, when a consumer waiting in `poll`
//! reaches the group's next deadline on the system clock (so a waiting member learns of a
//! peer's expiry or a rebalance at once), and, with a [`crate::ManualClock`], on every move
//! of the clock (and on [`crate::Cluster::tick`]), so a manual clock gives deterministic
//! results.

pub mod classic;
pub mod consumer;
pub mod protocol;
pub mod topic_regex;

use crate::assignor::{Assignor, MemberSubscription};
use crate::error::{BrokerError, ProtocolMismatch, Result};
use crate::record::TopicPartition;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;
use tokio::sync::Notify;

/// Kafka's consumer group states (`ConsumerGroupState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupState {
    /// No members (offsets may remain).
    Empty,
    /// Waiting for members to rejoin.
    PreparingRebalance,
    /// Waiting for the leader's assignment (passed through instantly here).
    CompletingRebalance,
    /// Members have their assignments.
    Stable,
    /// The group does not exist (any more).
    Dead,
    /// A KIP-848 group computing its target assignment (never lasts here: the assignor runs at
    /// once).
    Assigning,
    /// A KIP-848 group whose members are moving to their target assignment.
    Reconciling,
}

impl fmt::Display for GroupState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            GroupState::Empty => "Empty",
            GroupState::PreparingRebalance => "PreparingRebalance",
            GroupState::CompletingRebalance => "CompletingRebalance",
            GroupState::Stable => "Stable",
            GroupState::Dead => "Dead",
            GroupState::Assigning => "Assigning",
            GroupState::Reconciling => "Reconciling",
        })
    }
}

/// A group member as `describeConsumerGroups` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberDescription {
    /// Member id (`client.id` + `-` + a UUID-shaped suffix).
    pub member_id: String,
    /// The consumer's `client.id`.
    pub client_id: String,
    /// The consumer's host (Kafka prints `/127.0.0.1`).
    pub host: String,
    /// Partitions assigned in the current generation.
    pub assignment: Vec<TopicPartition>,
}

/// A group as `describeConsumerGroups` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDescription {
    /// The group id.
    pub group_id: String,
    /// State.
    pub state: GroupState,
    /// `consumer` for groups that had members, empty for commit-only groups.
    pub protocol_type: String,
    /// The assignor in use (`range`, …), empty when none.
    pub protocol: String,
    /// Generation id.
    pub generation: i32,
    /// Leader member id.
    pub leader: Option<String>,
    /// Members, ordered by member id.
    pub members: Vec<MemberDescription>,
}

/// One row of `listConsumerGroups`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupListing {
    /// The group id.
    pub group_id: String,
    /// State.
    pub state: GroupState,
    /// `consumer` or empty.
    pub protocol_type: String,
}

/// A committed offset (`OffsetAndMetadata`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetAndMetadata {
    /// The next offset to read.
    pub offset: i64,
    /// Free-form metadata.
    pub metadata: String,
    /// Broker time of the commit.
    pub commit_timestamp: i64,
}

pub(crate) struct JoinInfo {
    pub(crate) client_id: String,
    pub(crate) host: String,
    pub(crate) topics: Vec<String>,
    pub(crate) assignor: Assignor,
    pub(crate) owned: Vec<TopicPartition>,
    pub(crate) session_timeout_ms: i64,
    pub(crate) max_poll_interval_ms: i64,
    pub(crate) notify: Arc<Notify>,
}

/// What a member must do next, as its poll sees it.
#[derive(Debug)]
pub(crate) enum Status {
    NotMember,
    RejoinNeeded,
    Waiting,
    Assignment {
        generation: i32,
        partitions: Vec<TopicPartition>,
    },
    Stable,
}

struct Member {
    client_id: String,
    host: String,
    topics: Vec<String>,
    owned: Vec<TopicPartition>,
    session_timeout_ms: i64,
    max_poll_interval_ms: i64,
    alive: bool,
    last_heartbeat: i64,
    last_poll: i64,
    /// Waiting inside `poll` (counts as polling).
    in_poll: bool,
    joined: bool,
    assignment: Vec<TopicPartition>,
    notify: Arc<Notify>,
}

struct Group {
    state: GroupState,
    generation: i32,
    protocol: Option<Assignor>,
    had_members: bool,
    leader: Option<String>,
    members: BTreeMap<String, Member>,
    offsets: BTreeMap<TopicPartition, OffsetAndMetadata>,
    state_ts: i64,
    rebalance_started: i64,
}

impl Group {
    fn new(now: i64) -> Self {
        Group {
            state: GroupState::Empty,
            generation: 0,
            protocol: None,
            had_members: false,
            leader: None,
            members: BTreeMap::new(),
            offsets: BTreeMap::new(),
            state_ts: now,
            rebalance_started: now,
        }
    }

    fn prepare(&mut self, now: i64) {
        if self.state != GroupState::PreparingRebalance {
            self.state = GroupState::PreparingRebalance;
            self.state_ts = now;
            self.rebalance_started = now;
            for m in self.members.values_mut() {
                m.joined = false;
                m.notify.notify_one();
            }
        }
    }

    fn become_empty(&mut self, now: i64) {
        self.state = GroupState::Empty;
        self.state_ts = now;
        self.generation += 1;
        self.leader = None;
    }

    fn member_removed(&mut self, now: i64) {
        if self.members.is_empty() {
            self.become_empty(now);
        } else {
            if self
                .leader
                .as_ref()
                .is_some_and(|l| !self.members.contains_key(l))
            {
                self.leader = self.members.keys().next().cloned();
            }
            self.prepare(now);
        }
    }

    fn try_complete(&mut self, now: i64, counts: &dyn Fn(&str) -> Option<i32>) {
        if self.state != GroupState::PreparingRebalance || self.members.values().any(|m| !m.joined)
        {
            return;
        }
        if self.members.is_empty() {
            self.become_empty(now);
            return;
        }
        let assignor = self.protocol.unwrap_or_default();
        let mut topics: BTreeMap<String, i32> = BTreeMap::new();
        for m in self.members.values() {
            for t in &m.topics {
                if !topics.contains_key(t)
                    && let Some(n) = counts(t)
                {
                    topics.insert(t.clone(), n);
                }
            }
        }
        let subs: Vec<MemberSubscription> = self
            .members
            .iter()
            .map(|(id, m)| MemberSubscription {
                member_id: id.clone(),
                topics: m.topics.clone(),
                owned: m.owned.clone(),
            })
            .collect();
        let mut result = assignor.assign(&subs, &topics);
        if assignor.is_cooperative() {
            // A partition still owned by another member is withheld until that member revokes
            // it and rejoins (incremental cooperative rebalancing).
            let owner: HashMap<&TopicPartition, &String> = self
                .members
                .iter()
                .flat_map(|(id, m)| m.owned.iter().map(move |tp| (tp, id)))
                .collect();
            for (id, parts) in result.iter_mut() {
                parts.retain(|tp| owner.get(tp).is_none_or(|o| *o == id));
            }
        }
        self.generation += 1;
        self.state = GroupState::Stable;
        self.state_ts = now;
        if self
            .leader
            .as_ref()
            .is_none_or(|l| !self.members.contains_key(l))
        {
            self.leader = self.members.keys().next().cloned();
        }
        for (id, m) in self.members.iter_mut() {
            m.assignment = result.remove(id).unwrap_or_default();
            m.notify.notify_one();
        }
    }

    fn expire(&mut self, now: i64, retention_ms: i64, counts: &dyn Fn(&str) -> Option<i32>) {
        let before = self.members.len();
        self.members.retain(|_, m| {
            if m.alive {
                m.in_poll || now.saturating_sub(m.last_poll) < m.max_poll_interval_ms
            } else {
                now.saturating_sub(m.last_heartbeat) < m.session_timeout_ms
            }
        });
        if self.state == GroupState::PreparingRebalance {
            let timeout = self
                .members
                .values()
                .map(|m| m.max_poll_interval_ms)
                .max()
                .unwrap_or(0);
            if now.saturating_sub(self.rebalance_started) >= timeout {
                self.members.retain(|_, m| m.joined);
            }
        }
        if self.members.len() != before {
            self.member_removed(now);
        }
        self.try_complete(now, counts);
        if self.state == GroupState::Empty {
            if self.had_members {
                if now.saturating_sub(self.state_ts) >= retention_ms {
                    self.offsets.clear();
                }
            } else {
                self.offsets
                    .retain(|_, o| now.saturating_sub(o.commit_timestamp) < retention_ms);
            }
        }
    }

    /// When the next member timeout or rebalance timeout of this group falls due.
    fn next_deadline(&self) -> Option<i64> {
        let members = self.members.values().filter_map(|m| {
            if !m.alive {
                Some(m.last_heartbeat.saturating_add(m.session_timeout_ms))
            } else if !m.in_poll {
                Some(m.last_poll.saturating_add(m.max_poll_interval_ms))
            } else {
                None
            }
        });
        let rebalance = (self.state == GroupState::PreparingRebalance).then(|| {
            let timeout = self.members.values().map(|m| m.max_poll_interval_ms).max();
            self.rebalance_started.saturating_add(timeout.unwrap_or(0))
        });
        members.chain(rebalance).min()
    }

    fn is_dead(&self) -> bool {
        self.state == GroupState::Empty && self.offsets.is_empty()
    }

    fn describe(&self, id: &str) -> GroupDescription {
        GroupDescription {
            group_id: id.to_string(),
            state: self.state,
            protocol_type: if self.had_members {
                "consumer".into()
            } else {
                String::new()
            },
            protocol: if self.state == GroupState::Empty {
                String::new()
            } else {
                self.protocol
                    .map(|p| p.name().to_string())
                    .unwrap_or_default()
            },
            generation: self.generation,
            leader: self.leader.clone(),
            members: self
                .members
                .iter()
                .map(|(mid, m)| MemberDescription {
                    member_id: mid.clone(),
                    client_id: m.client_id.clone(),
                    host: m.host.clone(),
                    assignment: if self.state == GroupState::Stable {
                        m.assignment.clone()
                    } else {
                        Vec::new()
                    },
                })
                .collect(),
        }
    }
}

/// All groups, behind one mutex in the cluster.
pub(crate) struct Coordinator {
    groups: BTreeMap<String, Group>,
    retention_ms: i64,
    member_seq: u64,
    /// Groups joined over Kafka's wire ([`protocol`]); their offsets are in `groups`.
    wire: BTreeMap<String, protocol::WireGroup>,
    /// Woken on every change of a wire group (joins and syncs wait on it).
    wire_changed: Arc<Notify>,
    settings: protocol::GroupSettings,
}

fn uuid_like(seq: u64) -> String {
    let mut r = crate::partitioner::SplitMix::new(seq ^ 0x6b63_6f64_6563);
    let a = r.next_u64();
    let b = r.next_u64();
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | ((b >> 48) & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}

impl Coordinator {
    pub(crate) fn new(retention_ms: i64) -> Self {
        Coordinator {
            groups: BTreeMap::new(),
            retention_ms,
            member_seq: 0,
            wire: BTreeMap::new(),
            wire_changed: Arc::new(Notify::new()),
            settings: protocol::GroupSettings::default(),
        }
    }

    /// Runs timed transitions for one group; drops it when dead.
    fn expire_group(&mut self, group: &str, now: i64, counts: &dyn Fn(&str) -> Option<i32>) {
        if let Some(g) = self.groups.get_mut(group) {
            g.expire(now, self.retention_ms, counts);
            if g.is_dead() {
                self.groups.remove(group);
            }
        }
        self.expire_wire(group, now, counts);
    }

    pub(crate) fn expire_all(&mut self, now: i64, counts: &dyn Fn(&str) -> Option<i32>) {
        let retention = self.retention_ms;
        self.groups.retain(|_, g| {
            g.expire(now, retention, counts);
            !g.is_dead()
        });
        self.expire_all_wire(now, counts);
    }

    pub(crate) fn join(
        &mut self,
        group_id: &str,
        member_id: Option<&str>,
        info: JoinInfo,
        now: i64,
        counts: &dyn Fn(&str) -> Option<i32>,
    ) -> Result<String> {
        self.expire_group(group_id, now, counts);
        if let Some(w) = self.wire.get(group_id).filter(|w| !w.is_empty()) {
            return Err(BrokerError::InconsistentGroupProtocol(Box::new(
                ProtocolMismatch {
                    group: group_id.to_string(),
                    group_protocol: format!("{} protocol over the wire", w.group_type()),
                    member_protocol: info.assignor.name().to_string(),
                },
            )));
        }
        self.member_seq += 1;
        let seq = self.member_seq;
        let g = self
            .groups
            .entry(group_id.to_string())
            .or_insert_with(|| Group::new(now));
        if let Some(p) = g.protocol {
            let others = g.members.keys().any(|k| Some(k.as_str()) != member_id);
            if others && p != info.assignor {
                return Err(BrokerError::InconsistentGroupProtocol(Box::new(
                    ProtocolMismatch {
                        group: group_id.to_string(),
                        group_protocol: p.name().to_string(),
                        member_protocol: info.assignor.name().to_string(),
                    },
                )));
            }
        }
        let id = match member_id {
            Some(id) if g.members.contains_key(id) => id.to_string(),
            Some(id) => return Err(BrokerError::UnknownMemberId(id.to_string())),
            None => format!("{}-{}", info.client_id, uuid_like(seq)),
        };
        g.protocol = Some(info.assignor);
        g.had_members = true;
        if g.state != GroupState::PreparingRebalance {
            g.prepare(now);
        }
        g.members.insert(
            id.clone(),
            Member {
                client_id: info.client_id,
                host: info.host,
                topics: info.topics,
                owned: info.owned,
                session_timeout_ms: info.session_timeout_ms,
                max_poll_interval_ms: info.max_poll_interval_ms,
                alive: true,
                last_heartbeat: now,
                last_poll: now,
                in_poll: false,
                joined: true,
                assignment: Vec::new(),
                notify: info.notify,
            },
        );
        if g.leader.is_none() {
            g.leader = Some(id.clone());
        }
        g.try_complete(now, counts);
        Ok(id)
    }

    pub(crate) fn status(
        &mut self,
        group_id: &str,
        member_id: &str,
        generation: i32,
        now: i64,
        counts: &dyn Fn(&str) -> Option<i32>,
    ) -> Status {
        self.expire_group(group_id, now, counts);
        let Some(g) = self.groups.get_mut(group_id) else {
            return Status::NotMember;
        };
        let Some(m) = g.members.get_mut(member_id) else {
            return Status::NotMember;
        };
        m.alive = true;
        m.last_heartbeat = now;
        m.last_poll = now;
        match g.state {
            GroupState::PreparingRebalance if m.joined => Status::Waiting,
            GroupState::PreparingRebalance => Status::RejoinNeeded,
            GroupState::Stable if generation != g.generation => Status::Assignment {
                generation: g.generation,
                partitions: m.assignment.clone(),
            },
            GroupState::Stable => Status::Stable,
            _ => Status::Waiting,
        }
    }

    /// Marks a member as waiting inside `poll` (or no longer): a waiting member is polling.
    pub(crate) fn set_in_poll(&mut self, group_id: &str, member_id: &str, on: bool, now: i64) {
        if let Some(m) = self.member_mut(group_id, member_id) {
            m.in_poll = on;
            m.last_poll = now;
        }
    }

    fn member_mut(&mut self, group_id: &str, member_id: &str) -> Option<&mut Member> {
        self.groups
            .get_mut(group_id)
            .and_then(|g| g.members.get_mut(member_id))
    }

    /// When the group's next member or rebalance timeout falls due (broker clock).
    pub(crate) fn next_deadline(&self, group_id: &str) -> Option<i64> {
        self.groups.get(group_id).and_then(Group::next_deadline)
    }

    /// Marks a member as no longer heartbeating (its process "crashed").
    pub(crate) fn abandon(&mut self, group_id: &str, member_id: &str, now: i64) {
        if let Some(m) = self.member_mut(group_id, member_id) {
            m.alive = false;
            m.last_heartbeat = now;
        }
    }

    pub(crate) fn leave(
        &mut self,
        group_id: &str,
        member_id: &str,
        now: i64,
        counts: &dyn Fn(&str) -> Option<i32>,
    ) {
        if let Some(g) = self.groups.get_mut(group_id)
            && g.members.remove(member_id).is_some()
        {
            g.member_removed(now);
            g.try_complete(now, counts);
        }
        self.expire_group(group_id, now, counts);
    }

    pub(crate) fn commit(
        &mut self,
        group_id: &str,
        member: Option<(&str, i32)>,
        offsets: &[(TopicPartition, i64, String)],
        now: i64,
        counts: &dyn Fn(&str) -> Option<i32>,
    ) -> Result<()> {
        // the whole commit is refused if one offset is (Kafka answers per partition; the
        // Java client's commitSync throws on the first error)
        for (tp, off, _) in offsets {
            if *off < 0 {
                return Err(BrokerError::NegativeOffset(*off, tp.to_string()));
            }
            if !counts(&tp.topic).is_some_and(|n| tp.partition >= 0 && tp.partition < n) {
                return Err(BrokerError::UnknownTopicOrPartition(tp.to_string()));
            }
        }
        self.expire_group(group_id, now, counts);
        let g = self
            .groups
            .entry(group_id.to_string())
            .or_insert_with(|| Group::new(now));
        match member {
            None if !g.members.is_empty() => {
                return Err(BrokerError::CommitFailed(group_id.to_string()));
            }
            None => {}
            Some((id, generation)) => match g.members.get_mut(id) {
                Some(m) if generation == g.generation => {
                    m.last_heartbeat = now;
                }
                _ => return Err(BrokerError::CommitFailed(group_id.to_string())),
            },
        }
        for (tp, off, meta) in offsets {
            g.offsets.insert(
                tp.clone(),
                OffsetAndMetadata {
                    offset: *off,
                    metadata: meta.clone(),
                    commit_timestamp: now,
                },
            );
        }
        Ok(())
    }

    pub(crate) fn committed(
        &mut self,
        group_id: &str,
        tp: &TopicPartition,
        now: i64,
        counts: &dyn Fn(&str) -> Option<i32>,
    ) -> Option<OffsetAndMetadata> {
        self.expire_group(group_id, now, counts);
        self.groups.get(group_id)?.offsets.get(tp).cloned()
    }

    pub(crate) fn all_committed(
        &self,
        group_id: &str,
    ) -> BTreeMap<TopicPartition, OffsetAndMetadata> {
        self.groups
            .get(group_id)
            .map(|g| g.offsets.clone())
            .unwrap_or_default()
    }

    pub(crate) fn describe(
        &mut self,
        group_id: &str,
        now: i64,
        counts: &dyn Fn(&str) -> Option<i32>,
    ) -> GroupDescription {
        self.expire_group(group_id, now, counts);
        if let Some(w) = self.wire.get(group_id) {
            return w.describe(group_id);
        }
        match self.groups.get(group_id) {
            Some(g) => g.describe(group_id),
            None => GroupDescription {
                group_id: group_id.to_string(),
                state: GroupState::Dead,
                protocol_type: String::new(),
                protocol: String::new(),
                generation: -1,
                leader: None,
                members: Vec::new(),
            },
        }
    }

    pub(crate) fn exists(&self, group_id: &str) -> bool {
        self.groups.contains_key(group_id) || self.wire.contains_key(group_id)
    }

    pub(crate) fn list(
        &mut self,
        now: i64,
        counts: &dyn Fn(&str) -> Option<i32>,
    ) -> Vec<GroupListing> {
        self.expire_all(now, counts);
        let mut wire = protocol::wire_listing(self);
        let mut out: Vec<GroupListing> = self
            .groups
            .iter()
            .map(|(id, g)| match wire.remove(id) {
                Some((state, protocol_type)) => GroupListing {
                    group_id: id.clone(),
                    state,
                    protocol_type,
                },
                None => GroupListing {
                    group_id: id.clone(),
                    state: g.state,
                    protocol_type: if g.had_members {
                        "consumer".into()
                    } else {
                        String::new()
                    },
                },
            })
            .collect();
        out.extend(
            wire.into_iter()
                .map(|(group_id, (state, protocol_type))| GroupListing {
                    group_id,
                    state,
                    protocol_type,
                }),
        );
        out.sort_by(|a, b| a.group_id.cmp(&b.group_id));
        out
    }

    pub(crate) fn delete(
        &mut self,
        group_id: &str,
        now: i64,
        counts: &dyn Fn(&str) -> Option<i32>,
    ) -> Result<()> {
        self.expire_group(group_id, now, counts);
        if let Some(w) = self.wire.get(group_id) {
            if !w.is_empty() {
                return Err(BrokerError::NonEmptyGroup(group_id.to_string()));
            }
            self.wire.remove(group_id);
            self.groups.remove(group_id);
            return Ok(());
        }
        match self.groups.get(group_id) {
            None => Err(BrokerError::GroupIdNotFound(group_id.to_string())),
            Some(g) if !g.members.is_empty() => {
                Err(BrokerError::NonEmptyGroup(group_id.to_string()))
            }
            Some(_) => {
                self.groups.remove(group_id);
                Ok(())
            }
        }
    }

    pub(crate) fn force_rebalance(
        &mut self,
        group_id: &str,
        now: i64,
        counts: &dyn Fn(&str) -> Option<i32>,
    ) -> Result<()> {
        self.expire_group(group_id, now, counts);
        let g = self
            .groups
            .get_mut(group_id)
            .ok_or_else(|| BrokerError::GroupIdNotFound(group_id.to_string()))?;
        if !g.members.is_empty() {
            g.prepare(now);
        }
        Ok(())
    }

    /// A topic was deleted: its committed offsets go (Kafka's coordinator drops the offsets of
    /// deleted partitions), a group left empty with no offsets is gone, and groups subscribed
    /// to the topic rebalance.
    pub(crate) fn topic_deleted(&mut self, topic: &str, now: i64) {
        for g in self.groups.values_mut() {
            g.offsets.retain(|tp, _| tp.topic != topic);
        }
        self.groups.retain(|_, g| !g.is_dead());
        self.metadata_changed(topic, now);
    }

    /// A subscribed topic was created, grew or was deleted: rebalance the groups that care.
    pub(crate) fn metadata_changed(&mut self, topic: &str, now: i64) {
        for w in self.wire.values_mut() {
            if let protocol::WireGroup::Consumer(g) = w {
                g.topics_changed();
            }
        }
        for g in self.groups.values_mut() {
            if g.members
                .values()
                .any(|m| m.topics.iter().any(|t| t == topic))
            {
                g.prepare(now);
            }
        }
    }

    /// Members (id, client id, host, assignment) and committed offsets, for lag rows.
    pub(crate) fn lag_snapshot(
        &mut self,
        group_id: &str,
        now: i64,
        counts: &dyn Fn(&str) -> Option<i32>,
    ) -> Option<(
        Vec<MemberDescription>,
        BTreeMap<TopicPartition, OffsetAndMetadata>,
    )> {
        self.expire_group(group_id, now, counts);
        if let Some(w) = self.wire.get(group_id) {
            let offsets = self
                .groups
                .get(group_id)
                .map(|g| g.offsets.clone())
                .unwrap_or_default();
            return Some((w.members(), offsets));
        }
        let g = self.groups.get(group_id)?;
        Some((g.describe(group_id).members, g.offsets.clone()))
    }
}
