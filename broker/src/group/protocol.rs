//! What the group protocols on Kafka's wire share: protocol errors with Kafka's error codes, the
//! coordinator's settings, committed offsets (`OffsetCommit`/`OffsetFetch`), group types and the
//! wait for a group's state to change.
//!
//! Groups joined over the wire (the classic protocol, [`super::classic`], and KIP-848's consumer
//! protocol, [`super::consumer`]) live in the same coordinator as the in-process consumers' groups:
//! one group namespace, one store of committed offsets, the same clock.
//! [`Cluster::describe_group`], [`Cluster::list_groups`], [`Cluster::delete_group`] and
//! [`Cluster::describe_group_offsets`] see them all.

use super::classic::ClassicGroup;
use super::consumer::ConsumerGroup;
use super::{Coordinator, GroupDescription, GroupState, MemberDescription, OffsetAndMetadata};
use crate::clock::Clock;
use crate::cluster::Cluster;
use crate::record::TopicPartition;
use std::collections::BTreeMap;
use std::time::Duration;

/// The OffsetCommit version whose checks [`Cluster::commit_offsets`] applies when a commit does
/// not come in a request (the latest the front end answers).
pub const OFFSET_COMMIT_VERSION: i16 = 9;

/// Most bytes of metadata one committed offset may carry (`offset.metadata.max.bytes`).
pub const MAX_OFFSET_METADATA_BYTES: usize = 4096;

/// A group protocol error, named after Kafka's `Errors` entry; [`GroupError::code`] is the
/// error code Kafka puts on the wire.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GroupError {
    /// `MEMBER_ID_REQUIRED` (79): a dynamic member's first `JoinGroup` (v4+, KIP-394); it must
    /// join again with the member id given here.
    #[error(
        "The group member needs to have a valid member id before actually entering a consumer group (assigned: {0})."
    )]
    MemberIdRequired(String),
    /// `UNKNOWN_MEMBER_ID` (25).
    #[error("The coordinator is not aware of this member: {0}")]
    UnknownMemberId(String),
    /// `ILLEGAL_GENERATION` (22).
    #[error(
        "Specified group generation id {given} is not valid (the group is at generation {current})."
    )]
    IllegalGeneration {
        /// The generation the request named.
        given: i32,
        /// The group's generation.
        current: i32,
    },
    /// `REBALANCE_IN_PROGRESS` (27).
    #[error("The group is rebalancing, so a rejoin is needed.")]
    RebalanceInProgress,
    /// `INCONSISTENT_GROUP_PROTOCOL` (23).
    #[error(
        "The group member's supported protocols are incompatible with those of existing members or first group member tried to join with empty protocol type or empty protocol list: {0}"
    )]
    InconsistentGroupProtocol(String),
    /// `INVALID_SESSION_TIMEOUT` (26).
    #[error(
        "The session timeout {given} ms is not within the range allowed by the broker ({min} to {max} ms)."
    )]
    InvalidSessionTimeout {
        /// The timeout asked for.
        given: i32,
        /// `group.min.session.timeout.ms`.
        min: i64,
        /// `group.max.session.timeout.ms`.
        max: i64,
    },
    /// `INVALID_GROUP_ID` (24).
    #[error("The configured groupId is invalid.")]
    InvalidGroupId,
    /// `GROUP_ID_NOT_FOUND` (69).
    #[error("The group id does not exist: {0}")]
    GroupIdNotFound(String),
    /// `NON_EMPTY_GROUP` (68).
    #[error("The group is not empty: {0}")]
    NonEmptyGroup(String),
    /// `FENCED_INSTANCE_ID` (82): another member took this `group.instance.id`.
    #[error(
        "The broker rejected this static consumer since another consumer with the same group.instance.id ({0}) has registered with a different member.id."
    )]
    FencedInstanceId(String),
    /// `FENCED_MEMBER_EPOCH` (110).
    #[error("The consumer group member has a {} member epoch ({given}) than the one known by the group coordinator ({current}). The member must abandon all its partitions and rejoin.", if .given > .current { "greater" } else { "smaller" })]
    FencedMemberEpoch {
        /// The epoch the member sent.
        given: i32,
        /// The epoch the coordinator knows.
        current: i32,
    },
    /// `STALE_MEMBER_EPOCH` (113): an offset commit or fetch with an epoch that is not the
    /// member's.
    #[error("The member epoch {given} is stale; the member's epoch is {current}.")]
    StaleMemberEpoch {
        /// The epoch the request named.
        given: i32,
        /// The member's epoch.
        current: i32,
    },
    /// `UNSUPPORTED_ASSIGNOR` (112).
    #[error("Unsupported server assignor {0} (supported: uniform, range).")]
    UnsupportedAssignor(String),
    /// `INVALID_REQUEST` (42).
    #[error("{0}")]
    InvalidRequest(String),
    /// `INVALID_REGULAR_EXPRESSION` (128): a `SubscribedTopicRegex` that does not compile.
    #[error("SubscribedTopicRegex `{regex}` is not a valid regular expression: {reason}.")]
    InvalidRegularExpression {
        /// The expression as sent.
        regex: String,
        /// Why it does not compile.
        reason: String,
    },
    /// `UNSUPPORTED_VERSION` (35): a request version the group's protocol does not accept
    /// (an OffsetCommit below v9 from a KIP-848 member).
    #[error("{0}")]
    UnsupportedVersion(String),
    /// `ILLEGAL_GENERATION` (22) for a group that does not exist: an OffsetCommit below v9 with a
    /// generation (v9+ answers [`GroupError::GroupIdNotFound`]).
    #[error("Specified group generation id {given} is not valid: group {group} does not exist.")]
    NoGroupForGeneration {
        /// The group.
        group: String,
        /// The generation the request named.
        given: i32,
    },
    /// `UNKNOWN_TOPIC_OR_PARTITION` (3), per partition of an offset commit.
    #[error("This server does not host this topic-partition: {0}")]
    UnknownTopicOrPartition(String),
    /// `OFFSET_METADATA_TOO_LARGE` (12).
    #[error("The metadata field of the offset request was too large ({0} bytes).")]
    OffsetMetadataTooLarge(usize),
    /// The group exists with the other protocol: Kafka answers `GROUP_ID_NOT_FOUND` (69) with
    /// "Group X is not a consumer group" (or classic group).
    #[error("Group {group} is not a {wanted} group (it is a {actual} group).")]
    WrongGroupType {
        /// The group.
        group: String,
        /// Its type.
        actual: GroupType,
        /// The type the request needs.
        wanted: GroupType,
    },
}

impl GroupError {
    /// Kafka's error code for this error (`Errors.code()`).
    pub fn code(&self) -> i16 {
        match self {
            GroupError::MemberIdRequired(_) => 79,
            GroupError::UnknownMemberId(_) => 25,
            GroupError::IllegalGeneration { .. } | GroupError::NoGroupForGeneration { .. } => 22,
            GroupError::RebalanceInProgress => 27,
            GroupError::InconsistentGroupProtocol(_) => 23,
            GroupError::InvalidSessionTimeout { .. } => 26,
            GroupError::InvalidGroupId => 24,
            GroupError::GroupIdNotFound(_) | GroupError::WrongGroupType { .. } => 69,
            GroupError::NonEmptyGroup(_) => 68,
            GroupError::FencedInstanceId(_) => 82,
            GroupError::FencedMemberEpoch { .. } => 110,
            GroupError::StaleMemberEpoch { .. } => 113,
            GroupError::UnsupportedAssignor(_) => 112,
            GroupError::InvalidRequest(_) => 42,
            GroupError::UnsupportedVersion(_) => 35,
            GroupError::InvalidRegularExpression { .. } => 128,
            GroupError::UnknownTopicOrPartition(_) => 3,
            GroupError::OffsetMetadataTooLarge(_) => 12,
        }
    }
}

/// A group's type (KIP-848's `GroupType`): what `ListGroups` v5 filters on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupType {
    /// The classic protocol (JoinGroup/SyncGroup), including the in-process consumers' groups
    /// and groups that only hold committed offsets.
    Classic,
    /// KIP-848's consumer protocol (ConsumerGroupHeartbeat).
    Consumer,
}

impl GroupType {
    /// Kafka's name: `classic` or `consumer`.
    pub fn name(&self) -> &'static str {
        match self {
            GroupType::Classic => "classic",
            GroupType::Consumer => "consumer",
        }
    }
}

impl std::fmt::Display for GroupType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The coordinator's broker configs for the wire protocols (Kafka's names in each field's doc).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSettings {
    /// `group.min.session.timeout.ms` (Kafka: 6 s).
    pub min_session_timeout: Duration,
    /// `group.max.session.timeout.ms` (Kafka: 30 min).
    pub max_session_timeout: Duration,
    /// `group.consumer.session.timeout.ms`: a KIP-848 member that does not heartbeat for this
    /// long is removed (Kafka: 45 s).
    pub consumer_session_timeout: Duration,
    /// `group.consumer.heartbeat.interval.ms`, sent to KIP-848 members (Kafka: 5 s).
    pub consumer_heartbeat_interval: Duration,
}

impl Default for GroupSettings {
    fn default() -> Self {
        GroupSettings {
            min_session_timeout: Duration::from_secs(6),
            max_session_timeout: Duration::from_secs(30 * 60),
            consumer_session_timeout: Duration::from_secs(45),
            consumer_heartbeat_interval: Duration::from_secs(5),
        }
    }
}

/// A group joined over the wire.
pub(crate) enum WireGroup {
    Classic(ClassicGroup),
    Consumer(ConsumerGroup),
}

impl WireGroup {
    pub(crate) fn group_type(&self) -> GroupType {
        match self {
            WireGroup::Classic(_) => GroupType::Classic,
            WireGroup::Consumer(_) => GroupType::Consumer,
        }
    }

    pub(crate) fn state(&self) -> GroupState {
        match self {
            WireGroup::Classic(g) => g.state,
            WireGroup::Consumer(g) => g.state(),
        }
    }

    pub(crate) fn protocol_type(&self) -> String {
        match self {
            WireGroup::Classic(g) => g.protocol_type.clone().unwrap_or_default(),
            WireGroup::Consumer(_) => "consumer".into(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        match self {
            WireGroup::Classic(g) => g.members.is_empty() && g.pending.is_empty(),
            WireGroup::Consumer(g) => g.members.is_empty(),
        }
    }

    fn expire(&mut self, now: i64, settings: &GroupSettings, counts: &dyn Fn(&str) -> Option<i32>) {
        match self {
            WireGroup::Classic(g) => g.expire(now),
            WireGroup::Consumer(g) => g.expire(now, settings, counts),
        }
    }

    /// What a timed transition changes: members, pending ids, state, generation or epoch.
    fn fingerprint(&self) -> (usize, usize, GroupState, i32) {
        match self {
            WireGroup::Classic(g) => (g.members.len(), g.pending.len(), g.state, g.generation),
            WireGroup::Consumer(g) => (g.members.len(), 0, g.state(), g.group_epoch),
        }
    }

    fn next_deadline(&self, settings: &GroupSettings) -> Option<i64> {
        match self {
            WireGroup::Classic(g) => g.next_deadline(),
            WireGroup::Consumer(g) => g.next_deadline(settings),
        }
    }

    pub(crate) fn describe(&self, group_id: &str) -> GroupDescription {
        let (generation, protocol, leader) = match self {
            WireGroup::Classic(g) => g.summary(),
            WireGroup::Consumer(g) => g.summary(),
        };
        GroupDescription {
            group_id: group_id.to_string(),
            state: self.state(),
            protocol_type: self.protocol_type(),
            protocol,
            generation,
            leader,
            members: self.members(),
        }
    }

    /// Members as `describeConsumerGroups` reports them (assignments decoded from the
    /// consumer protocol for classic groups).
    pub(crate) fn members(&self) -> Vec<MemberDescription> {
        match self {
            WireGroup::Classic(g) => g.member_descriptions(),
            WireGroup::Consumer(g) => g.member_descriptions(),
        }
    }
}

/// A committed offset as `OffsetCommit` carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetCommit {
    /// The partition.
    pub partition: TopicPartition,
    /// The next offset to read.
    pub offset: i64,
    /// Free-form metadata (null on the wire is empty here, as Kafka stores it).
    pub metadata: String,
}

/// Who commits or fetches offsets: the group member's identity as `OffsetCommit` (v1+) and
/// `OffsetFetch` (v9+) carry it. [`MemberRef::none`] is the admin client or a consumer that does
/// not use group management (generation -1, no member id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRef {
    /// Member id (empty for none).
    pub member_id: String,
    /// The classic group's generation or the KIP-848 member epoch (-1 for none).
    pub generation_or_epoch: i32,
    /// `group.instance.id`.
    pub group_instance_id: Option<String>,
}

impl MemberRef {
    /// No member: an admin or a consumer with manual assignment.
    pub fn none() -> Self {
        MemberRef {
            member_id: String::new(),
            generation_or_epoch: -1,
            group_instance_id: None,
        }
    }

    /// A member at a generation (classic) or epoch (KIP-848).
    pub fn member(member_id: impl Into<String>, generation_or_epoch: i32) -> Self {
        MemberRef {
            member_id: member_id.into(),
            generation_or_epoch,
            group_instance_id: None,
        }
    }
}

impl Coordinator {
    pub(crate) fn expire_wire(
        &mut self,
        group_id: &str,
        now: i64,
        counts: &dyn Fn(&str) -> Option<i32>,
    ) {
        if let Some(w) = self.wire.get_mut(group_id) {
            let before = w.fingerprint();
            w.expire(now, &self.settings, counts);
            let changed = w.fingerprint() != before;
            if !w.is_empty()
                && let Some(g) = self.groups.get_mut(group_id)
            {
                // offsets.retention.minutes counts from when the group became empty
                // (`OffsetMetadataManager.cleanupExpiredOffsets`): not while it has members
                g.state_ts = now;
            }
            if w.is_empty() && !self.groups.contains_key(group_id) {
                self.wire.remove(group_id);
            }
            if changed {
                // only on a change: a waiter runs this too, and must not wake itself
                self.wire_changed.notify_waiters();
            }
        }
    }

    pub(crate) fn expire_all_wire(&mut self, now: i64, counts: &dyn Fn(&str) -> Option<i32>) {
        let ids: Vec<String> = self.wire.keys().cloned().collect();
        for id in ids {
            self.expire_wire(&id, now, counts);
        }
    }

    /// When the group's next wire timeout falls due (broker clock).
    pub(crate) fn wire_deadline(&self, group_id: &str) -> Option<i64> {
        self.wire.get(group_id)?.next_deadline(&self.settings)
    }

    /// Whether the group has in-process members (a `Consumer` of this crate).
    pub(crate) fn has_local_members(&self, group_id: &str) -> bool {
        self.groups
            .get(group_id)
            .is_some_and(|g| !g.members.is_empty())
    }

    fn commit_wire(
        &mut self,
        group_id: &str,
        member: &MemberRef,
        offsets: &[OffsetCommit],
        api_version: i16,
        now: i64,
        counts: &dyn Fn(&str) -> Option<i32>,
    ) -> Result<Vec<Result<(), GroupError>>, GroupError> {
        if group_id.is_empty() {
            return Err(GroupError::InvalidGroupId);
        }
        self.expire_group(group_id, now, counts);
        match self.wire.get(group_id) {
            Some(WireGroup::Classic(g)) => g.validate_commit(member)?,
            Some(WireGroup::Consumer(g)) => g.validate_commit(member, api_version)?,
            None if self.has_local_members(group_id) => {
                // a wire client committing into an in-process consumers' group
                return Err(GroupError::UnknownMemberId(member.member_id.clone()));
            }
            // a group with offsets and no members is an empty classic group
            // (`ClassicGroup.validateOffsetCommit` in state Empty): a generation names a member
            // it does not have
            None if self.groups.contains_key(group_id) && member.generation_or_epoch >= 0 => {
                return Err(GroupError::UnknownMemberId(member.member_id.clone()));
            }
            None if self.groups.contains_key(group_id) => {}
            // no group (`OffsetMetadataManager.validateOffsetCommit`): generation -1 creates a
            // simple group; a generation is GROUP_ID_NOT_FOUND from v9, ILLEGAL_GENERATION below
            None if member.generation_or_epoch >= 0 && api_version >= 9 => {
                return Err(GroupError::GroupIdNotFound(group_id.to_string()));
            }
            None if member.generation_or_epoch >= 0 => {
                return Err(GroupError::NoGroupForGeneration {
                    group: group_id.to_string(),
                    given: member.generation_or_epoch,
                });
            }
            None => {}
        }
        let g = self
            .groups
            .entry(group_id.to_string())
            .or_insert_with(|| super::Group::new(now));
        if let Some(WireGroup::Classic(_) | WireGroup::Consumer(_)) = self.wire.get(group_id) {
            // offsets of a group with (or that had) members expire with the group, not one by one
            g.had_members = true;
        }
        let mut out = Vec::with_capacity(offsets.len());
        for c in offsets {
            let tp = &c.partition;
            let r = if c.metadata.len() > MAX_OFFSET_METADATA_BYTES {
                Err(GroupError::OffsetMetadataTooLarge(c.metadata.len()))
            } else if !counts(&tp.topic).is_some_and(|n| tp.partition >= 0 && tp.partition < n) {
                Err(GroupError::UnknownTopicOrPartition(tp.to_string()))
            } else {
                g.offsets.insert(
                    tp.clone(),
                    OffsetAndMetadata {
                        offset: c.offset,
                        metadata: c.metadata.clone(),
                        commit_timestamp: now,
                    },
                );
                Ok(())
            };
            out.push(r);
        }
        if g.is_dead() {
            self.groups.remove(group_id);
        }
        Ok(out)
    }

    fn fetch_wire(
        &mut self,
        group_id: &str,
        member: &MemberRef,
        partitions: Option<&[TopicPartition]>,
        now: i64,
        counts: &dyn Fn(&str) -> Option<i32>,
    ) -> Result<Vec<(TopicPartition, Option<OffsetAndMetadata>)>, GroupError> {
        self.expire_group(group_id, now, counts);
        if let Some(WireGroup::Consumer(g)) = self.wire.get(group_id)
            && (!member.member_id.is_empty() || member.generation_or_epoch >= 0)
        {
            g.validate_fetch(member)?;
        }
        let offsets = self.groups.get(group_id).map(|g| &g.offsets);
        Ok(match partitions {
            None => offsets
                .map(|o| {
                    o.iter()
                        .map(|(tp, o)| (tp.clone(), Some(o.clone())))
                        .collect()
                })
                .unwrap_or_default(),
            Some(tps) => tps
                .iter()
                .map(|tp| (tp.clone(), offsets.and_then(|o| o.get(tp).cloned())))
                .collect(),
        })
    }
}

impl Cluster {
    /// The coordinator's settings for the wire protocols.
    pub fn group_settings(&self) -> GroupSettings {
        self.inner.coordinator.lock().settings.clone()
    }

    /// Sets the coordinator's settings for the wire protocols (session timeout bounds, the
    /// KIP-848 session timeout and heartbeat interval). Members already in a group keep
    /// the timeouts they joined with.
    pub fn set_group_settings(&self, settings: GroupSettings) {
        self.inner.coordinator.lock().settings = settings;
    }

    /// A group's type, `None` when no group has this id.
    pub fn group_type(&self, group_id: &str) -> Option<GroupType> {
        let now = self.inner.clock.now_ms();
        let counts = self.inner.counts();
        let mut c = self.inner.coordinator.lock();
        c.expire_group(group_id, now, &counts);
        match c.wire.get(group_id) {
            Some(w) => Some(w.group_type()),
            None => c
                .groups
                .contains_key(group_id)
                .then_some(GroupType::Classic),
        }
    }

    /// Commits offsets for a group as Kafka's `OffsetCommit` does (`GroupCoordinator.commitOffsets`):
    /// the member is checked first (`ClassicGroup.validateOffsetCommit`,
    /// `ConsumerGroup.validateOffsetCommit`), an error there fails the whole request; then each
    /// partition is committed or refused on its own (`UNKNOWN_TOPIC_OR_PARTITION`,
    /// `OFFSET_METADATA_TOO_LARGE`). One result per offset, in order.
    ///
    /// A commit with no member ([`MemberRef::none`]) is accepted while the group has no members,
    /// and creates the group when it does not exist. A commit naming a generation for a group
    /// that does not exist is `GROUP_ID_NOT_FOUND` from v9 and `ILLEGAL_GENERATION` below
    /// (`OffsetMetadataManager.validateOffsetCommit`); a KIP-848 member must commit with v9 or
    /// later (`UNSUPPORTED_VERSION`).
    ///
    /// `api_version` is the OffsetCommit request's version ([`OFFSET_COMMIT_VERSION`] when there
    /// is no request).
    pub fn commit_offsets(
        &self,
        group_id: &str,
        member: &MemberRef,
        offsets: &[OffsetCommit],
        api_version: i16,
    ) -> Result<Vec<Result<(), GroupError>>, GroupError> {
        let now = self.inner.clock.now_ms();
        let counts = self.inner.counts();
        let mut c = self.inner.coordinator.lock();
        let r = c.commit_wire(group_id, member, offsets, api_version, now, &counts);
        c.wire_changed.notify_waiters();
        r
    }

    /// A group's committed offsets as `OffsetFetch` returns them: every committed partition
    /// (`partitions` = `None`), or the partitions asked for, `None` where nothing is committed.
    /// A KIP-848 member that names itself (v9+) is checked (`UNKNOWN_MEMBER_ID`,
    /// `STALE_MEMBER_EPOCH`); an unknown group has no offsets.
    pub fn fetch_offsets(
        &self,
        group_id: &str,
        member: &MemberRef,
        partitions: Option<&[TopicPartition]>,
    ) -> Result<Vec<(TopicPartition, Option<OffsetAndMetadata>)>, GroupError> {
        let now = self.inner.clock.now_ms();
        let counts = self.inner.counts();
        self.inner
            .coordinator
            .lock()
            .fetch_wire(group_id, member, partitions, now, &counts)
    }

    /// Waits until `check` returns a value: it runs under the coordinator's lock after the
    /// group's timed transitions, whenever a wire group changes, and when the group's next
    /// timeout falls due (system clock; a [`crate::ManualClock`]'s moves run the transitions
    /// and wake the wait).
    pub(crate) async fn wait_group<T>(
        &self,
        group_id: &str,
        mut check: impl FnMut(&mut Coordinator, i64) -> Option<T>,
    ) -> T {
        let notify = self.inner.coordinator.lock().wire_changed.clone();
        loop {
            let notified = notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let due = {
                let now = self.inner.clock.now_ms();
                let counts = self.inner.counts();
                let mut c = self.inner.coordinator.lock();
                c.expire_group(group_id, now, &counts);
                if let Some(t) = check(&mut c, now) {
                    return t;
                }
                c.wire_deadline(group_id).map(|d| d.saturating_sub(now))
            };
            match (&self.inner.clock, due) {
                (Clock::System, Some(wait)) => {
                    // one millisecond late: a timeout is due once `now - start >= timeout`
                    let wait = Duration::from_millis(u64::try_from(wait).unwrap_or(0) + 1);
                    let _ = tokio::time::timeout(wait, notified).await;
                }
                _ => notified.await,
            }
        }
    }
}

/// The wire groups in a listing: `(id, state, protocol type, type)`.
pub(crate) fn wire_listing(c: &Coordinator) -> BTreeMap<String, (GroupState, String)> {
    c.wire
        .iter()
        .map(|(id, w)| (id.clone(), (w.state(), w.protocol_type())))
        .collect()
}
