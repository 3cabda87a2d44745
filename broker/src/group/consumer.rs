//! KIP-848's consumer group protocol as Kafka's coordinator runs it
//! (`GroupMetadataManager.consumerGroupHeartbeat` over a `ConsumerGroup`, reconciled by
//! `CurrentAssignmentBuilder`): one `ConsumerGroupHeartbeat` call does joining, subscribing,
//! assignment and leaving.
//!
//! * Epochs: a member joins with epoch 0 and gets one; any change of membership or
//!   subscriptions (or of a subscribed topic's partition count) bumps the group epoch, and the
//!   server-side assignor (`uniform`, the default, or `range`) computes the target assignment
//!   for that epoch.
//! * Reconciliation: a member that owns partitions its target no longer has is told to revoke
//!   them (its epoch stays); once a heartbeat reports them gone it moves to the target epoch. A
//!   partition goes to its new owner only after the previous owner has released it: until then
//!   the new owner's assignment lacks it (`UNRELEASED_PARTITIONS`).
//! * Errors: `FENCED_MEMBER_EPOCH` for an epoch the coordinator did not give (the previous one
//!   is tolerated when the member owns a subset of its assignment: the answer may have been
//!   lost), `UNKNOWN_MEMBER_ID`, `UNSUPPORTED_ASSIGNOR`. Epoch -1 leaves (-2: a static member
//!   leaves for a while; handled as -1).
//! * Timeouts (broker clock): no heartbeat for `group.consumer.session.timeout.ms` removes the
//!   member; a member that does not revoke within its rebalance timeout is removed too.
//!
//! The `uniform` assignor is this crate's sticky assignor (balanced, keeping current owners),
//! `range` its range assignor: the same results as Kafka's server-side assignors for members with
//! equal subscriptions.

use super::protocol::{GroupError, GroupSettings, GroupType, MemberRef, WireGroup};
use super::topic_regex::Regexes;
use super::{Coordinator, GroupState, MemberDescription};
use crate::assignor::{Assignor, MemberSubscription};
use crate::cluster::Cluster;
use crate::record::TopicPartition;
use std::collections::{BTreeMap, BTreeSet};

/// The server-side assignors (`group.consumer.assignors`), the first being the default.
pub const SERVER_ASSIGNORS: [&str; 2] = ["uniform", "range"];

/// A `ConsumerGroupHeartbeat` request (topics by name: the wire maps topic ids).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConsumerHeartbeatRequest {
    /// The group.
    pub group_id: String,
    /// The member id (empty on a v0 join: the coordinator makes one).
    pub member_id: String,
    /// 0 to join, -1 to leave, -2 for a static member's temporary leave, else the current epoch.
    pub member_epoch: i32,
    /// `group.instance.id`.
    pub instance_id: Option<String>,
    /// `client.rack`.
    pub rack_id: Option<String>,
    /// `max.poll.interval.ms`, -1 when unchanged.
    pub rebalance_timeout_ms: i32,
    /// Subscribed topics, `None` when unchanged.
    pub subscribed_topic_names: Option<Vec<String>>,
    /// Subscribed topic regular expression (`SubscribedTopicRegex`, v1+), `None` when
    /// unchanged, empty to drop it. See [`super::topic_regex`] for how it is resolved.
    pub subscribed_topic_regex: Option<String>,
    /// `group.remote.assignor`, `None` when unchanged.
    pub server_assignor: Option<String>,
    /// The partitions the member owns, `None` when unchanged.
    pub owned: Option<Vec<TopicPartition>>,
    /// The client's `client.id`.
    pub client_id: String,
    /// The client's host.
    pub client_host: String,
}

/// A `ConsumerGroupHeartbeat` response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerHeartbeatResponse {
    /// The member id.
    pub member_id: String,
    /// The member's epoch (-1 after a leave).
    pub member_epoch: i32,
    /// When to heartbeat next.
    pub heartbeat_interval_ms: i32,
    /// The member's assignment, when it changed or the request was a full one.
    pub assignment: Option<Vec<TopicPartition>>,
}

/// A KIP-848 group as `ConsumerGroupDescribe` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerGroupDescription {
    /// The group.
    pub group_id: String,
    /// `Empty`, `Assigning`, `Reconciling` or `Stable`.
    pub state: GroupState,
    /// The group epoch.
    pub group_epoch: i32,
    /// The target assignment's epoch.
    pub assignment_epoch: i32,
    /// The server-side assignor in use.
    pub assignor_name: String,
    /// Members, ordered by member id.
    pub members: Vec<ConsumerMemberDescription>,
}

/// A member of [`ConsumerGroupDescription`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerMemberDescription {
    /// Member id.
    pub member_id: String,
    /// `group.instance.id`.
    pub instance_id: Option<String>,
    /// `client.rack`.
    pub rack_id: Option<String>,
    /// The member's epoch.
    pub member_epoch: i32,
    /// `client.id`.
    pub client_id: String,
    /// Client host.
    pub client_host: String,
    /// Subscribed topics (by name).
    pub subscribed_topic_names: Vec<String>,
    /// Subscribed topic regular expression.
    pub subscribed_topic_regex: Option<String>,
    /// What the member owns now.
    pub assignment: Vec<TopicPartition>,
    /// Its target assignment.
    pub target_assignment: Vec<TopicPartition>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MemberState {
    Stable,
    UnrevokedPartitions,
    UnreleasedPartitions,
}

pub(crate) struct ConsumerMember {
    instance_id: Option<String>,
    rack_id: Option<String>,
    client_id: String,
    client_host: String,
    epoch: i32,
    previous_epoch: i32,
    state: MemberState,
    rebalance_timeout_ms: i64,
    assignor: Option<String>,
    topics: Vec<String>,
    /// The subscribed regular expression (never empty).
    regex: Option<String>,
    assigned: BTreeSet<TopicPartition>,
    revoking: BTreeSet<TopicPartition>,
    last_heartbeat: i64,
    /// When the member must have revoked (while `UnrevokedPartitions`).
    revoke_by: Option<i64>,
}

impl ConsumerMember {
    /// `ConsumerGroup.validateMemberEpoch` for a consumer-protocol member.
    fn validate_epoch(&self, given: i32) -> Result<(), GroupError> {
        if given != self.epoch {
            return Err(GroupError::StaleMemberEpoch {
                given,
                current: self.epoch,
            });
        }
        Ok(())
    }
}

#[derive(Default)]
pub(crate) struct ConsumerGroup {
    pub(crate) group_epoch: i32,
    assignment_epoch: i32,
    pub(crate) members: BTreeMap<String, ConsumerMember>,
    target: BTreeMap<String, BTreeSet<TopicPartition>>,
    /// Partition counts of the subscribed topics at the last epoch bump.
    metadata: BTreeMap<String, i32>,
    /// The members' regular expressions, resolved against the cluster's topics.
    regexes: Regexes,
}

impl ConsumerGroup {
    pub(crate) fn state(&self) -> GroupState {
        if self.members.is_empty() {
            GroupState::Empty
        } else if self.assignment_epoch < self.group_epoch {
            GroupState::Assigning
        } else if self
            .members
            .values()
            .any(|m| m.epoch != self.assignment_epoch || m.state != MemberState::Stable)
        {
            GroupState::Reconciling
        } else {
            GroupState::Stable
        }
    }

    fn assignor(&self) -> &str {
        // the assignor most members ask for (`ModernGroup.computePreferredServerAssignor`)
        let mut votes: BTreeMap<&str, usize> = BTreeMap::new();
        for m in self.members.values() {
            if let Some(a) = &m.assignor {
                *votes.entry(a.as_str()).or_default() += 1;
            }
        }
        let best = votes.values().copied().max().unwrap_or(0);
        SERVER_ASSIGNORS
            .iter()
            .copied()
            .find(|a| best > 0 && votes.get(a) == Some(&best))
            .unwrap_or(SERVER_ASSIGNORS[0])
    }

    /// The topics a member subscribes to: its names and what its regular expression resolved
    /// to (`TargetAssignmentBuilder.withResolvedRegularExpressions`).
    fn member_topics<'a>(&'a self, m: &'a ConsumerMember) -> impl Iterator<Item = &'a String> {
        m.topics
            .iter()
            .chain(m.regex.iter().flat_map(|r| self.regexes.topics(r)))
    }

    fn subscribed_metadata(&self, counts: &dyn Fn(&str) -> Option<i32>) -> BTreeMap<String, i32> {
        self.members
            .values()
            .flat_map(|m| self.member_topics(m))
            .filter_map(|t| counts(t).map(|n| (t.clone(), n)))
            .collect()
    }

    /// Bumps the group epoch when membership, subscriptions or the subscribed topics' metadata
    /// changed (`bump`), then computes the target assignment for a new epoch.
    fn refresh(&mut self, mut bump: bool, counts: &dyn Fn(&str) -> Option<i32>) {
        let metadata = self.subscribed_metadata(counts);
        if metadata != self.metadata {
            self.metadata = metadata;
            bump = true;
        }
        if bump {
            self.group_epoch += 1;
        }
        if self.group_epoch > self.assignment_epoch {
            let assignor = match self.assignor() {
                "range" => Assignor::Range,
                _ => Assignor::Sticky,
            };
            let subs: Vec<MemberSubscription> = self
                .members
                .iter()
                .map(|(id, m)| {
                    let mut topics: Vec<String> = self.member_topics(m).cloned().collect();
                    topics.sort();
                    topics.dedup();
                    MemberSubscription::new(id.clone(), topics).owned(
                        self.target
                            .get(id)
                            .map(|t| t.iter().cloned().collect())
                            .unwrap_or_default(),
                    )
                })
                .collect();
            let result = assignor.assign(&subs, &self.metadata);
            self.target = result
                .into_iter()
                .map(|(id, parts)| (id, parts.into_iter().collect()))
                .collect();
            self.assignment_epoch = self.group_epoch;
        }
    }

    /// Whether another member than `id` owns `tp` or has still to revoke it.
    fn owned_elsewhere(&self, id: &str, tp: &TopicPartition) -> bool {
        self.members
            .iter()
            .any(|(o, m)| o != id && (m.assigned.contains(tp) || m.revoking.contains(tp)))
    }

    /// `CurrentAssignmentBuilder.build`: moves the member toward its target.
    fn reconcile(&mut self, id: &str, owned: Option<&[TopicPartition]>, now: i64) {
        let Some(m) = self.members.get(id) else {
            return;
        };
        let target_epoch = self.assignment_epoch;
        match m.state {
            MemberState::UnrevokedPartitions => {
                let released = owned.is_some_and(|o| !o.iter().any(|tp| m.revoking.contains(tp)));
                if !released {
                    return;
                }
                if let Some(m) = self.members.get_mut(id) {
                    m.revoking.clear();
                    m.revoke_by = None;
                }
            }
            MemberState::Stable if m.epoch == target_epoch => return,
            _ => {}
        }
        let target = self.target.get(id).cloned().unwrap_or_default();
        let m = &self.members[id];
        let keep: BTreeSet<TopicPartition> = m.assigned.intersection(&target).cloned().collect();
        let revoke: BTreeSet<TopicPartition> = m.assigned.difference(&target).cloned().collect();
        let rebalance_timeout = m.rebalance_timeout_ms;
        if !revoke.is_empty() {
            let m = self.members.get_mut(id).expect("looked up above");
            m.assigned = keep;
            m.revoking = revoke;
            m.state = MemberState::UnrevokedPartitions;
            m.revoke_by = Some(now.saturating_add(rebalance_timeout));
            return;
        }
        let wanted: Vec<TopicPartition> = target.difference(&keep).cloned().collect();
        let (free, unreleased): (Vec<_>, Vec<_>) = wanted
            .into_iter()
            .partition(|tp| !self.owned_elsewhere(id, tp));
        let m = self.members.get_mut(id).expect("looked up above");
        m.assigned = keep;
        m.assigned.extend(free);
        if m.epoch != target_epoch {
            m.previous_epoch = m.epoch;
            m.epoch = target_epoch;
        }
        m.state = if unreleased.is_empty() {
            MemberState::Stable
        } else {
            MemberState::UnreleasedPartitions
        };
    }

    fn remove(&mut self, id: &str, counts: &dyn Fn(&str) -> Option<i32>) {
        if self.members.remove(id).is_some() {
            self.target.remove(id);
            self.regexes
                .retain_used(self.members.values().filter_map(|m| m.regex.as_deref()));
            self.refresh(true, counts);
        }
    }

    /// A topic was created, grew or was deleted: the regular expressions are resolved again
    /// at the next heartbeat.
    pub(crate) fn topics_changed(&mut self) {
        self.regexes.mark_stale();
    }

    pub(crate) fn expire(
        &mut self,
        now: i64,
        settings: &GroupSettings,
        counts: &dyn Fn(&str) -> Option<i32>,
    ) {
        let session = crate::clock::millis(settings.consumer_session_timeout);
        let gone: Vec<String> = self
            .members
            .iter()
            .filter(|(_, m)| {
                now.saturating_sub(m.last_heartbeat) >= session
                    || m.revoke_by.is_some_and(|d| now >= d)
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in gone {
            self.remove(&id, counts);
        }
    }

    pub(crate) fn next_deadline(&self, settings: &GroupSettings) -> Option<i64> {
        let session = crate::clock::millis(settings.consumer_session_timeout);
        self.members
            .values()
            .flat_map(|m| [Some(m.last_heartbeat.saturating_add(session)), m.revoke_by])
            .flatten()
            .min()
    }

    /// `ConsumerGroup.validateOffsetCommit`: without a member (epoch < 0) only while the group
    /// is empty; else the member must exist, commit with OffsetCommit v9+ (every member here
    /// uses the consumer protocol: no classic member joins a consumer group) and name its
    /// current epoch.
    pub(crate) fn validate_commit(
        &self,
        r: &MemberRef,
        api_version: i16,
    ) -> Result<(), GroupError> {
        if r.generation_or_epoch < 0 && self.members.is_empty() {
            return Ok(());
        }
        let m = self.member(&r.member_id)?;
        if api_version < 9 {
            return Err(GroupError::UnsupportedVersion(
                "OffsetCommit version 9 or above must be used by members using the modern group protocol".into(),
            ));
        }
        m.validate_epoch(r.generation_or_epoch)
    }

    /// `ConsumerGroup.validateOffsetFetch` for a request that names a member (the caller
    /// accepts one that does not): the member must exist at the epoch named.
    pub(crate) fn validate_fetch(&self, r: &MemberRef) -> Result<(), GroupError> {
        self.member(&r.member_id)?
            .validate_epoch(r.generation_or_epoch)
    }

    fn member(&self, id: &str) -> Result<&ConsumerMember, GroupError> {
        self.members
            .get(id)
            .ok_or_else(|| GroupError::UnknownMemberId(id.to_string()))
    }

    /// Group epoch and assignor, for [`super::GroupDescription`] (no leader in KIP-848).
    pub(crate) fn summary(&self) -> (i32, String, Option<String>) {
        (self.group_epoch, self.assignor().to_string(), None)
    }

    pub(crate) fn member_descriptions(&self) -> Vec<MemberDescription> {
        self.members
            .iter()
            .map(|(id, m)| MemberDescription {
                member_id: id.clone(),
                client_id: m.client_id.clone(),
                host: m.client_host.clone(),
                assignment: m.assigned.iter().cloned().collect(),
            })
            .collect()
    }

    fn describe(&self, group_id: &str) -> ConsumerGroupDescription {
        ConsumerGroupDescription {
            group_id: group_id.to_string(),
            state: self.state(),
            group_epoch: self.group_epoch,
            assignment_epoch: self.assignment_epoch,
            assignor_name: self.assignor().to_string(),
            members: self
                .members
                .iter()
                .map(|(id, m)| ConsumerMemberDescription {
                    member_id: id.clone(),
                    instance_id: m.instance_id.clone(),
                    rack_id: m.rack_id.clone(),
                    member_epoch: m.epoch,
                    client_id: m.client_id.clone(),
                    client_host: m.client_host.clone(),
                    subscribed_topic_names: m.topics.clone(),
                    subscribed_topic_regex: m.regex.clone(),
                    assignment: m.assigned.iter().cloned().collect(),
                    target_assignment: self
                        .target
                        .get(id)
                        .map(|t| t.iter().cloned().collect())
                        .unwrap_or_default(),
                })
                .collect(),
        }
    }
}

impl Coordinator {
    fn consumer_heartbeat(
        &mut self,
        req: ConsumerHeartbeatRequest,
        now: i64,
        counts: &dyn Fn(&str) -> Option<i32>,
        topics: &dyn Fn() -> Vec<String>,
    ) -> Result<ConsumerHeartbeatResponse, GroupError> {
        if req.group_id.is_empty() {
            return Err(GroupError::InvalidRequest("GroupId can't be empty.".into()));
        }
        if req.member_epoch > 0 && req.member_id.is_empty() || req.member_epoch < -2 {
            return Err(GroupError::InvalidRequest(format!(
                "MemberId can't be empty with member epoch {}.",
                req.member_epoch
            )));
        }
        if req.member_epoch == 0 && req.rebalance_timeout_ms == -1 {
            return Err(GroupError::InvalidRequest(
                "RebalanceTimeoutMs must be provided in first request.".into(),
            ));
        }
        if req.member_epoch == 0
            && req.subscribed_topic_names.is_none()
            && req.subscribed_topic_regex.is_none()
        {
            return Err(GroupError::InvalidRequest(
                "Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when (re-)joining."
                    .into(),
            ));
        }
        if let Some(a) = &req.server_assignor
            && !SERVER_ASSIGNORS.contains(&a.as_str())
        {
            return Err(GroupError::UnsupportedAssignor(a.clone()));
        }
        let interval = i32::try_from(crate::clock::millis(
            self.settings.consumer_heartbeat_interval,
        ))
        .unwrap_or(i32::MAX);
        if self.has_local_members(&req.group_id) {
            return Err(GroupError::WrongGroupType {
                group: req.group_id.clone(),
                actual: GroupType::Classic,
                wanted: GroupType::Consumer,
            });
        }
        self.member_seq += 1;
        let seq = self.member_seq;
        match self.wire.get(&req.group_id) {
            Some(WireGroup::Consumer(_)) => {}
            Some(WireGroup::Classic(c)) if c.members.is_empty() && req.member_epoch == 0 => {
                self.wire.insert(
                    req.group_id.clone(),
                    WireGroup::Consumer(ConsumerGroup::default()),
                );
            }
            Some(WireGroup::Classic(_)) => {
                return Err(GroupError::WrongGroupType {
                    group: req.group_id.clone(),
                    actual: GroupType::Classic,
                    wanted: GroupType::Consumer,
                });
            }
            None if req.member_epoch == 0 => {
                self.wire.insert(
                    req.group_id.clone(),
                    WireGroup::Consumer(ConsumerGroup::default()),
                );
            }
            None => return Err(GroupError::UnknownMemberId(req.member_id.clone())),
        }
        let Some(WireGroup::Consumer(g)) = self.wire.get_mut(&req.group_id) else {
            unreachable!("a consumer group is in place");
        };
        let member_id = if req.member_id.is_empty() {
            super::uuid_like(seq)
        } else {
            req.member_id.clone()
        };
        if req.member_epoch < 0 {
            if !g.members.contains_key(&member_id) {
                return Err(GroupError::UnknownMemberId(member_id));
            }
            g.remove(&member_id, counts);
            return Ok(ConsumerHeartbeatResponse {
                member_id,
                member_epoch: req.member_epoch,
                heartbeat_interval_ms: 0,
                assignment: None,
            });
        }
        match g.members.get(&member_id) {
            None if req.member_epoch != 0 => return Err(GroupError::UnknownMemberId(member_id)),
            Some(m) if req.member_epoch != 0 => {
                let owned_subset = req
                    .owned
                    .as_ref()
                    .is_some_and(|o| o.iter().all(|tp| m.assigned.contains(tp)));
                if req.member_epoch > m.epoch
                    || req.member_epoch < m.epoch
                        && (req.member_epoch != m.previous_epoch || !owned_subset)
                {
                    return Err(GroupError::FencedMemberEpoch {
                        given: req.member_epoch,
                        current: m.epoch,
                    });
                }
            }
            _ => {}
        }
        // a regular expression new to the group must compile (`maybeUpdateRegularExpressions`:
        // `throwIfRegularExpressionIsInvalid`), checked after the member, before any change
        let new_regex = match req.subscribed_topic_regex.as_deref() {
            Some(r) if !r.is_empty() && !g.regexes.contains(r) => Some(Regexes::compile(r)?),
            _ => None,
        };
        let mut bump = false;
        match g.members.get(&member_id) {
            None => {
                bump = true;
                g.members.insert(
                    member_id.clone(),
                    ConsumerMember {
                        instance_id: None,
                        rack_id: None,
                        client_id: String::new(),
                        client_host: String::new(),
                        epoch: 0,
                        previous_epoch: -1,
                        state: MemberState::Stable,
                        rebalance_timeout_ms: 0,
                        assignor: None,
                        topics: Vec::new(),
                        regex: None,
                        assigned: BTreeSet::new(),
                        revoking: BTreeSet::new(),
                        last_heartbeat: now,
                        revoke_by: None,
                    },
                );
            }
            Some(_) if req.member_epoch == 0 => {
                // the member rejoins: it lost what it had (`ConsumerGroupMember` reset)
                let m = g.members.get_mut(&member_id).expect("present");
                m.epoch = 0;
                m.assigned.clear();
                m.revoking.clear();
                m.revoke_by = None;
                m.state = MemberState::Stable;
                bump = true;
            }
            Some(_) => {}
        }
        let m = g.members.get_mut(&member_id).expect("present");
        let before: BTreeSet<TopicPartition> = m.assigned.clone();
        if let Some(mut t) = req.subscribed_topic_names.clone() {
            t.sort();
            t.dedup();
            if t != m.topics {
                m.topics = t;
                bump = true;
            }
        }
        if let Some(r) = &req.subscribed_topic_regex {
            let r = (!r.is_empty()).then(|| r.clone());
            if r != m.regex {
                m.regex = r;
                bump = true;
            }
        }
        if req.server_assignor.is_some() && req.server_assignor != m.assignor {
            m.assignor = req.server_assignor.clone();
            bump = true;
        }
        if req.rebalance_timeout_ms != -1 {
            m.rebalance_timeout_ms = i64::from(req.rebalance_timeout_ms);
        }
        if req.instance_id.is_some() {
            m.instance_id = req.instance_id.clone();
        }
        if req.rack_id.is_some() {
            m.rack_id = req.rack_id.clone();
        }
        m.client_id = req.client_id.clone();
        m.client_host = req.client_host.clone();
        m.last_heartbeat = now;
        if let Some(compiled) = new_regex {
            g.regexes.insert(compiled);
        }
        g.regexes
            .retain_used(g.members.values().filter_map(|m| m.regex.as_deref()));
        g.regexes.resolve(topics);
        g.refresh(bump, counts);
        g.reconcile(&member_id, req.owned.as_deref(), now);
        let m = &g.members[&member_id];
        let full = req.member_epoch == 0
            || (req.rebalance_timeout_ms != -1
                && (req.subscribed_topic_names.is_some() || req.subscribed_topic_regex.is_some())
                && req.owned.is_some());
        Ok(ConsumerHeartbeatResponse {
            member_id: member_id.clone(),
            member_epoch: m.epoch,
            heartbeat_interval_ms: interval,
            assignment: (full || m.assigned != before)
                .then(|| m.assigned.iter().cloned().collect()),
        })
    }
}

impl Cluster {
    /// `ConsumerGroupHeartbeat` (KIP-848; `GroupMetadataManager.consumerGroupHeartbeat`): joins
    /// (epoch 0), heartbeats, updates the subscription, reconciles the member's assignment and
    /// leaves (epoch -1). Never waits.
    pub fn consumer_group_heartbeat(
        &self,
        req: ConsumerHeartbeatRequest,
    ) -> Result<ConsumerHeartbeatResponse, GroupError> {
        let now = self.inner.clock.now_ms();
        let counts = self.inner.counts();
        let mut c = self.inner.coordinator.lock();
        c.expire_group(&req.group_id, now, &counts);
        let group_id = req.group_id.clone();
        let r = c.consumer_heartbeat(req, now, &counts, &|| self.list_topics());
        c.expire_wire(&group_id, now, &counts);
        r
    }

    /// `ConsumerGroupDescribe` for one group; `GROUP_ID_NOT_FOUND` for an unknown group or one of
    /// the classic protocol.
    pub fn describe_consumer_group(
        &self,
        group_id: &str,
    ) -> Result<ConsumerGroupDescription, GroupError> {
        let now = self.inner.clock.now_ms();
        let counts = self.inner.counts();
        let mut c = self.inner.coordinator.lock();
        c.expire_group(group_id, now, &counts);
        match c.wire.get(group_id) {
            Some(WireGroup::Consumer(g)) => Ok(g.describe(group_id)),
            Some(WireGroup::Classic(_)) => Err(GroupError::WrongGroupType {
                group: group_id.to_string(),
                actual: GroupType::Classic,
                wanted: GroupType::Consumer,
            }),
            None if c.groups.contains_key(group_id) => Err(GroupError::WrongGroupType {
                group: group_id.to_string(),
                actual: GroupType::Classic,
                wanted: GroupType::Consumer,
            }),
            None => Err(GroupError::GroupIdNotFound(group_id.to_string())),
        }
    }
}
