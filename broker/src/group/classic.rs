//! Kafka's classic group protocol as its coordinator runs it (`GroupMetadataManager`'s
//! `classicGroupJoin`/`classicGroupSync`/`classicGroupHeartbeat`/`classicGroupLeave` over a
//! `ClassicGroup`): JoinGroup, SyncGroup, Heartbeat and LeaveGroup for clients on Kafka's wire.
//!
//! * A dynamic member's first join (v4+) gets `MEMBER_ID_REQUIRED` with its member id (KIP-394);
//!   it joins again with it.
//! * A join of a new member, a changed member or the leader moves the group to
//!   `PreparingRebalance`. The join waits until every member has rejoined (or the rebalance
//!   timeout removes those that did not), then the generation is bumped, a protocol every member
//!   supports is chosen by vote, and every waiting join is answered; the leader's answer lists the
//!   members with their metadata. The group is `CompletingRebalance`.
//! * The leader computes the assignment (the broker does not) and sends it in its SyncGroup; every
//!   member's SyncGroup waits for it and returns its own part. The group is `Stable`.
//! * Heartbeats keep a member's session (`session.timeout.ms`, broker clock); they answer
//!   `REBALANCE_IN_PROGRESS` while the group prepares a rebalance. A member whose session runs
//!   out is removed and the others rebalance.
//! * Static members (`group.instance.id`, KIP-345): a join with a known instance id and no member
//!   id replaces the previous member id (the old one is fenced: `FENCED_INSTANCE_ID`) and, while
//!   the group is stable with the same protocols, gets the current generation without a rebalance.
//! * No `group.initial.rebalance.delay.ms`: the first join completes at once (the delay's only
//!   purpose is fewer rebalances on a production broker's start).
//! * One protocol per group, no migration between them (as Kafka with
//!   `group.consumer.migration.policy=disabled`, where Kafka's default is `bidirectional`): an
//!   empty group of either protocol becomes a group of the protocol that joins it; a classic
//!   JoinGroup to a non-empty KIP-848 group is `INCONSISTENT_GROUP_PROTOCOL` (Kafka's answer when
//!   the member's protocols are not `consumer` ones; Kafka admits a `consumer`-type member as a
//!   classic member of the consumer group, which this coordinator does not); its Heartbeat,
//!   SyncGroup and LeaveGroup there are `UNKNOWN_MEMBER_ID` (the group has no classic member);
//!   a ConsumerGroupHeartbeat to a non-empty classic group is `GROUP_ID_NOT_FOUND` ("Group g is
//!   not a consumer group": Kafka's answer when the upgrade is not allowed).

use super::protocol::{GroupError, GroupType, MemberRef, WireGroup};
use super::{Coordinator, GroupState, MemberDescription};
use crate::cluster::Cluster;
use crate::record::TopicPartition;
use bytes::Bytes;
use std::collections::BTreeMap;

/// A `JoinGroup` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinGroupRequest {
    /// The group.
    pub group_id: String,
    /// Empty on a member's first join.
    pub member_id: String,
    /// `group.instance.id` (static membership).
    pub group_instance_id: Option<String>,
    /// `consumer` for Kafka consumers.
    pub protocol_type: String,
    /// Protocols (assignor names) with their metadata, in the member's order of preference.
    pub protocols: Vec<(String, Bytes)>,
    /// `session.timeout.ms`.
    pub session_timeout_ms: i32,
    /// `max.poll.interval.ms` (v1+; v0 uses the session timeout).
    pub rebalance_timeout_ms: i32,
    /// The client's `client.id`.
    pub client_id: String,
    /// The client's host, as Kafka prints it (`/127.0.0.1`).
    pub client_host: String,
    /// Whether a dynamic member must first obtain a member id (request v4+, KIP-394).
    pub require_known_member_id: bool,
}

/// One member in the leader's `JoinGroup` response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinedMember {
    /// Member id.
    pub member_id: String,
    /// `group.instance.id`.
    pub group_instance_id: Option<String>,
    /// The member's metadata for the chosen protocol.
    pub metadata: Bytes,
}

/// A `JoinGroup` response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinGroupResponse {
    /// The new generation.
    pub generation_id: i32,
    /// The group's protocol type.
    pub protocol_type: String,
    /// The chosen protocol.
    pub protocol_name: String,
    /// The leader's member id.
    pub leader: String,
    /// This member's id.
    pub member_id: String,
    /// Every member with its metadata, for the leader only (empty for the others).
    pub members: Vec<JoinedMember>,
    /// True when a static leader rejoined a stable group: it must not assign again (v9+).
    pub skip_assignment: bool,
}

/// A `SyncGroup` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncGroupRequest {
    /// The group.
    pub group_id: String,
    /// Member id.
    pub member_id: String,
    /// The generation from the join.
    pub generation_id: i32,
    /// `group.instance.id`.
    pub group_instance_id: Option<String>,
    /// The protocol type (v5+), checked against the group's.
    pub protocol_type: Option<String>,
    /// The protocol name (v5+), checked against the group's.
    pub protocol_name: Option<String>,
    /// The leader's assignment: member id → its opaque assignment (empty for followers).
    pub assignments: Vec<(String, Bytes)>,
}

/// A `SyncGroup` response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncGroupResponse {
    /// The group's protocol type.
    pub protocol_type: String,
    /// The group's protocol.
    pub protocol_name: String,
    /// This member's assignment, as the leader computed it.
    pub assignment: Bytes,
}

/// A member in a `LeaveGroup` request (v3+ names several).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeavingMember {
    /// Member id (may be empty for a static member named by instance id).
    pub member_id: String,
    /// `group.instance.id`.
    pub group_instance_id: Option<String>,
}

/// A classic group as `DescribeGroups` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassicGroupDescription {
    /// The group.
    pub group_id: String,
    /// State.
    pub state: GroupState,
    /// Protocol type (`consumer`, or empty for a group with offsets only).
    pub protocol_type: String,
    /// The chosen protocol while the group is `Stable` or `CompletingRebalance`, else empty.
    pub protocol: String,
    /// Members, ordered by member id.
    pub members: Vec<ClassicMemberDescription>,
}

/// A member of [`ClassicGroupDescription`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassicMemberDescription {
    /// Member id.
    pub member_id: String,
    /// `group.instance.id`.
    pub group_instance_id: Option<String>,
    /// `client.id`.
    pub client_id: String,
    /// Client host.
    pub client_host: String,
    /// Metadata for the chosen protocol (empty when none is chosen).
    pub metadata: Bytes,
    /// The member's assignment (empty unless the group is `Stable`).
    pub assignment: Bytes,
}

pub(crate) struct ClassicMember {
    instance_id: Option<String>,
    client_id: String,
    client_host: String,
    protocol_type: String,
    protocols: Vec<(String, Bytes)>,
    session_timeout_ms: i64,
    rebalance_timeout_ms: i64,
    last_heartbeat: i64,
    /// Has a join in flight for the rebalance under way.
    awaiting_join: bool,
    /// Counts this member's joins; a waiting join answered by a later one gives up.
    join_seq: u64,
    join_result: Option<JoinGroupResponse>,
    assignment: Bytes,
}

impl ClassicMember {
    /// The member's metadata for `protocol` (empty when it has none).
    fn metadata_for(&self, protocol: &str) -> Bytes {
        self.protocols
            .iter()
            .find(|(n, _)| n == protocol)
            .map(|(_, b)| b.clone())
            .unwrap_or_default()
    }
}

pub(crate) struct ClassicGroup {
    pub(crate) state: GroupState,
    pub(crate) generation: i32,
    pub(crate) protocol_type: Option<String>,
    protocol: Option<String>,
    leader: Option<String>,
    pub(crate) members: BTreeMap<String, ClassicMember>,
    /// Member ids handed out with `MEMBER_ID_REQUIRED`, with when they expire.
    pub(crate) pending: BTreeMap<String, i64>,
    /// `group.instance.id` → member id.
    statics: BTreeMap<String, String>,
    rebalance_started: i64,
}

impl ClassicGroup {
    fn new() -> Self {
        ClassicGroup {
            state: GroupState::Empty,
            generation: 0,
            protocol_type: None,
            protocol: None,
            leader: None,
            members: BTreeMap::new(),
            pending: BTreeMap::new(),
            statics: BTreeMap::new(),
            rebalance_started: 0,
        }
    }

    fn prepare(&mut self, now: i64) {
        if self.state != GroupState::PreparingRebalance {
            self.state = GroupState::PreparingRebalance;
            self.rebalance_started = now;
        }
    }

    /// The protocol every member supports that most members prefer (`ClassicGroup.selectProtocol`);
    /// ties go to the leader's preference.
    fn select_protocol(&self) -> Option<String> {
        let mut candidates: Option<Vec<&str>> = None;
        for m in self.members.values() {
            let names: Vec<&str> = m.protocols.iter().map(|(n, _)| n.as_str()).collect();
            candidates = Some(match candidates {
                None => names,
                Some(c) => c.into_iter().filter(|n| names.contains(n)).collect(),
            });
        }
        let candidates = candidates?;
        let mut votes: BTreeMap<&str, usize> = BTreeMap::new();
        for m in self.members.values() {
            if let Some((n, _)) = m
                .protocols
                .iter()
                .find(|(n, _)| candidates.contains(&n.as_str()))
            {
                *votes.entry(n.as_str()).or_default() += 1;
            }
        }
        let best = votes.values().copied().max()?;
        let leader_order = self
            .leader
            .as_ref()
            .and_then(|l| self.members.get(l))
            .or_else(|| self.members.values().next())?;
        leader_order
            .protocols
            .iter()
            .map(|(n, _)| n.as_str())
            .find(|n| votes.get(n) == Some(&best))
            .map(str::to_string)
    }

    /// Whether a joining member's protocols fit the group's (`ClassicGroup.supportsProtocols`).
    fn supports(&self, protocol_type: &str, protocols: &[(String, Bytes)]) -> bool {
        if protocol_type.is_empty() || protocols.is_empty() {
            return false;
        }
        if self.members.is_empty() {
            return true;
        }
        if self.protocol_type.as_deref() != Some(protocol_type) {
            return false;
        }
        // some protocol every current member supports
        protocols.iter().any(|(n, _)| {
            self.members
                .values()
                .all(|m| m.protocols.iter().any(|(p, _)| p == n))
        })
    }

    fn join_response(&self, member_id: &str) -> JoinGroupResponse {
        let protocol = self.protocol.clone().unwrap_or_default();
        let leader = self.leader.clone().unwrap_or_default();
        let members = if leader == member_id {
            self.members
                .iter()
                .map(|(id, m)| JoinedMember {
                    member_id: id.clone(),
                    group_instance_id: m.instance_id.clone(),
                    metadata: m.metadata_for(&protocol),
                })
                .collect()
        } else {
            Vec::new()
        };
        JoinGroupResponse {
            generation_id: self.generation,
            protocol_type: self.protocol_type.clone().unwrap_or_default(),
            protocol_name: protocol,
            leader,
            member_id: member_id.to_string(),
            members,
            skip_assignment: false,
        }
    }

    /// Completes the join phase when every member has rejoined (`maybeCompleteJoinPhase`,
    /// `onCompleteJoin`).
    fn maybe_complete_join(&mut self, now: i64) {
        if self.state != GroupState::PreparingRebalance
            || !self.pending.is_empty()
            || self.members.values().any(|m| !m.awaiting_join)
        {
            return;
        }
        self.complete_join(now);
    }

    fn complete_join(&mut self, now: i64) {
        self.members.retain(|_, m| m.awaiting_join);
        self.statics
            .retain(|_, id| self.members.contains_key(id.as_str()));
        self.pending.clear();
        self.generation += 1;
        if self.members.is_empty() {
            self.state = GroupState::Empty;
            self.protocol = None;
            self.leader = None;
            return;
        }
        if self
            .leader
            .as_ref()
            .is_none_or(|l| !self.members.contains_key(l))
        {
            self.leader = self.members.keys().next().cloned();
        }
        self.protocol = self.select_protocol();
        self.state = GroupState::CompletingRebalance;
        let ids: Vec<String> = self.members.keys().cloned().collect();
        for id in ids {
            let r = self.join_response(&id);
            let m = self.members.get_mut(&id).expect("member listed above");
            m.awaiting_join = false;
            m.last_heartbeat = now;
            m.assignment = Bytes::new();
            m.join_result = Some(r);
        }
    }

    fn remove_member(&mut self, id: &str, now: i64) {
        let Some(m) = self.members.remove(id) else {
            return;
        };
        if let Some(i) = m.instance_id {
            self.statics.remove(&i);
        }
        if self.leader.as_deref() == Some(id) {
            self.leader = None;
        }
        match self.state {
            GroupState::Stable | GroupState::CompletingRebalance => {
                if self.members.is_empty() {
                    self.state = GroupState::Empty;
                    self.generation += 1;
                    self.protocol = None;
                } else {
                    self.prepare(now);
                }
            }
            GroupState::PreparingRebalance => self.maybe_complete_join(now),
            _ => {}
        }
    }

    /// Session and rebalance timeouts due at `now`.
    pub(crate) fn expire(&mut self, now: i64) {
        self.pending.retain(|_, due| now < *due);
        let expired: Vec<String> = self
            .members
            .iter()
            .filter(|(_, m)| {
                !m.awaiting_join && now.saturating_sub(m.last_heartbeat) >= m.session_timeout_ms
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            self.remove_member(&id, now);
        }
        if self.state == GroupState::PreparingRebalance {
            if now.saturating_sub(self.rebalance_started) >= self.rebalance_timeout() {
                self.complete_join(now);
            } else {
                self.maybe_complete_join(now);
            }
        }
    }

    fn rebalance_timeout(&self) -> i64 {
        self.members
            .values()
            .map(|m| m.rebalance_timeout_ms)
            .max()
            .unwrap_or(0)
    }

    pub(crate) fn next_deadline(&self) -> Option<i64> {
        let sessions = self
            .members
            .values()
            .filter(|m| !m.awaiting_join)
            .map(|m| m.last_heartbeat.saturating_add(m.session_timeout_ms));
        let rebalance = (self.state == GroupState::PreparingRebalance).then(|| {
            self.rebalance_started
                .saturating_add(self.rebalance_timeout())
        });
        sessions
            .chain(rebalance)
            .chain(self.pending.values().copied())
            .min()
    }

    /// `ClassicGroup.validateMember`: the member id is known and, for a static member, still
    /// the one its instance id maps to.
    fn validate_member(&self, member_id: &str, instance: Option<&str>) -> Result<(), GroupError> {
        if let Some(i) = instance {
            match self.statics.get(i) {
                Some(id) if id == member_id => return Ok(()),
                Some(_) => return Err(GroupError::FencedInstanceId(i.to_string())),
                None => return Err(GroupError::UnknownMemberId(member_id.to_string())),
            }
        }
        if self.members.contains_key(member_id) {
            Ok(())
        } else {
            Err(GroupError::UnknownMemberId(member_id.to_string()))
        }
    }

    /// `ClassicGroup.validateOffsetCommit`.
    pub(crate) fn validate_commit(&self, m: &MemberRef) -> Result<(), GroupError> {
        if m.generation_or_epoch < 0 && self.state == GroupState::Empty {
            return Ok(());
        }
        if m.generation_or_epoch >= 0 || !m.member_id.is_empty() || m.group_instance_id.is_some() {
            self.validate_member(&m.member_id, m.group_instance_id.as_deref())?;
            if m.generation_or_epoch != self.generation {
                return Err(GroupError::IllegalGeneration {
                    given: m.generation_or_epoch,
                    current: self.generation,
                });
            }
        } else if self.state != GroupState::Empty {
            return Err(GroupError::UnknownMemberId(String::new()));
        }
        if self.state == GroupState::CompletingRebalance {
            return Err(GroupError::RebalanceInProgress);
        }
        Ok(())
    }

    /// Generation, protocol (while settled) and leader, for [`super::GroupDescription`].
    pub(crate) fn summary(&self) -> (i32, String, Option<String>) {
        let protocol = match self.state {
            GroupState::Stable | GroupState::CompletingRebalance => {
                self.protocol.clone().unwrap_or_default()
            }
            _ => String::new(),
        };
        (self.generation, protocol, self.leader.clone())
    }

    pub(crate) fn member_descriptions(&self) -> Vec<MemberDescription> {
        self.members
            .iter()
            .map(|(id, m)| MemberDescription {
                member_id: id.clone(),
                client_id: m.client_id.clone(),
                host: m.client_host.clone(),
                assignment: if self.state == GroupState::Stable
                    && self.protocol_type.as_deref() == Some("consumer")
                {
                    decode_assignment(&m.assignment).unwrap_or_default()
                } else {
                    Vec::new()
                },
            })
            .collect()
    }

    fn describe(&self, group_id: &str) -> ClassicGroupDescription {
        let protocol = match self.state {
            GroupState::Stable | GroupState::CompletingRebalance => {
                self.protocol.clone().unwrap_or_default()
            }
            _ => String::new(),
        };
        ClassicGroupDescription {
            group_id: group_id.to_string(),
            state: self.state,
            protocol_type: self.protocol_type.clone().unwrap_or_default(),
            members: self
                .members
                .iter()
                .map(|(id, m)| ClassicMemberDescription {
                    member_id: id.clone(),
                    group_instance_id: m.instance_id.clone(),
                    client_id: m.client_id.clone(),
                    client_host: m.client_host.clone(),
                    metadata: m.metadata_for(&protocol),
                    assignment: if self.state == GroupState::Stable {
                        m.assignment.clone()
                    } else {
                        Bytes::new()
                    },
                })
                .collect(),
            protocol,
        }
    }
}

/// What a join does right away: answer, or wait for the rebalance (member id, join number).
enum JoinStart {
    Done(Result<JoinGroupResponse, GroupError>),
    Wait(String, u64),
}

impl Coordinator {
    /// The classic group `group_id`, created when absent; refused when the id belongs to a
    /// KIP-848 group or to in-process consumers.
    fn classic_mut(
        &mut self,
        group_id: &str,
        create: bool,
    ) -> Result<&mut ClassicGroup, GroupError> {
        if self.has_local_members(group_id) {
            return Err(GroupError::InconsistentGroupProtocol(format!(
                "group '{group_id}' has in-process members"
            )));
        }
        let convert = match self.wire.get(group_id) {
            None if !create => return Err(GroupError::UnknownMemberId(String::new())),
            None => true,
            // an empty consumer group converts to classic (as Kafka converts it)
            Some(WireGroup::Consumer(g)) => g.members.is_empty() && create,
            Some(WireGroup::Classic(_)) => false,
        };
        if convert {
            self.wire.insert(
                group_id.to_string(),
                WireGroup::Classic(ClassicGroup::new()),
            );
        }
        match self.wire.get_mut(group_id) {
            Some(WireGroup::Classic(g)) => Ok(g),
            _ => Err(GroupError::WrongGroupType {
                group: group_id.to_string(),
                actual: GroupType::Consumer,
                wanted: GroupType::Classic,
            }),
        }
    }

    fn join_start(&mut self, req: JoinGroupRequest, now: i64) -> JoinStart {
        let min = crate::clock::millis(self.settings.min_session_timeout);
        let max = crate::clock::millis(self.settings.max_session_timeout);
        if req.group_id.is_empty() {
            return JoinStart::Done(Err(GroupError::InvalidGroupId));
        }
        if i64::from(req.session_timeout_ms) < min || i64::from(req.session_timeout_ms) > max {
            return JoinStart::Done(Err(GroupError::InvalidSessionTimeout {
                given: req.session_timeout_ms,
                min,
                max,
            }));
        }
        self.member_seq += 1;
        let seq = self.member_seq;
        let g = match self.classic_mut(&req.group_id, true) {
            Ok(g) => g,
            Err(GroupError::WrongGroupType { .. }) => {
                // a non-empty KIP-848 group (`classicGroupJoinToConsumerGroup`): Kafka refuses a
                // member whose protocols the group does not support
                // (`throwIfClassicProtocolIsNotSupported`) and admits the others as classic
                // members of the consumer group, which this coordinator does not do
                let id = &req.member_id;
                let e = if req.protocol_type != "consumer" || req.protocols.is_empty() {
                    GroupError::InconsistentGroupProtocol(format!(
                        "Member {id}'s protocols are not supported."
                    ))
                } else {
                    GroupError::InconsistentGroupProtocol(format!(
                        "Member {id} uses the classic protocol and group {} is a consumer group: \
                         this coordinator does not mix the protocols in one group.",
                        req.group_id
                    ))
                };
                return JoinStart::Done(Err(e));
            }
            Err(e) => return JoinStart::Done(Err(e)),
        };
        if !g.supports(&req.protocol_type, &req.protocols) {
            let e = GroupError::InconsistentGroupProtocol(format!(
                "group '{}' (protocol type '{}'), member protocol type '{}'",
                req.group_id,
                g.protocol_type.clone().unwrap_or_default(),
                req.protocol_type
            ));
            return JoinStart::Done(Err(e));
        }
        let mut member_id = req.member_id.clone();
        let mut replaced_static = false;
        if member_id.is_empty() {
            let fresh = format!("{}-{}", req.client_id, super::uuid_like(seq));
            match &req.group_instance_id {
                Some(i) => {
                    if let Some(old) = g.statics.get(i).cloned()
                        && let Some(m) = g.members.remove(&old)
                    {
                        // KIP-345: the new member id takes the old one's place; the old one is
                        // fenced
                        g.members.insert(fresh.clone(), m);
                        if g.leader.as_deref() == Some(old.as_str()) {
                            g.leader = Some(fresh.clone());
                        }
                        replaced_static = true;
                    }
                    g.statics.insert(i.clone(), fresh.clone());
                    member_id = fresh;
                }
                None if req.require_known_member_id => {
                    let due = now.saturating_add(i64::from(req.session_timeout_ms));
                    g.pending.insert(fresh.clone(), due);
                    return JoinStart::Done(Err(GroupError::MemberIdRequired(fresh)));
                }
                None => member_id = fresh,
            }
        } else if let Some(i) = &req.group_instance_id {
            if g.statics.get(i).is_some_and(|id| *id != member_id) {
                return JoinStart::Done(Err(GroupError::FencedInstanceId(i.clone())));
            }
        } else if !g.members.contains_key(&member_id) && !g.pending.contains_key(&member_id) {
            return JoinStart::Done(Err(GroupError::UnknownMemberId(member_id)));
        }
        g.pending.remove(&member_id);
        let rebalance_timeout = if req.rebalance_timeout_ms > 0 {
            req.rebalance_timeout_ms
        } else {
            req.session_timeout_ms
        };
        let existing = g.members.get(&member_id);
        let unchanged = existing.is_some_and(|m| m.protocols == req.protocols);
        let is_leader = g.leader.as_deref() == Some(member_id.as_str());
        let m = g
            .members
            .entry(member_id.clone())
            .or_insert_with(|| ClassicMember {
                instance_id: None,
                client_id: String::new(),
                client_host: String::new(),
                protocol_type: String::new(),
                protocols: Vec::new(),
                session_timeout_ms: 0,
                rebalance_timeout_ms: 0,
                last_heartbeat: now,
                awaiting_join: false,
                join_seq: 0,
                join_result: None,
                assignment: Bytes::new(),
            });
        m.instance_id = req.group_instance_id.clone();
        m.client_id = req.client_id;
        m.client_host = req.client_host;
        m.protocol_type = req.protocol_type.clone();
        m.protocols = req.protocols;
        m.session_timeout_ms = i64::from(req.session_timeout_ms);
        m.rebalance_timeout_ms = i64::from(rebalance_timeout);
        m.last_heartbeat = now;
        m.join_seq = seq;
        m.join_result = None;
        if g.protocol_type.is_none() || g.members.len() == 1 {
            g.protocol_type = Some(req.protocol_type);
        }
        if g.leader.is_none() {
            g.leader = Some(member_id.clone());
        }
        // An existing member that rejoins a settled group with the same protocols gets the
        // current generation back (`classicGroupJoinExistingMember`); so does a static member
        // that replaced its previous id.
        let settled = matches!(
            g.state,
            GroupState::Stable | GroupState::CompletingRebalance
        );
        if settled
            && unchanged
            && (!is_leader || replaced_static || g.state == GroupState::CompletingRebalance)
        {
            let mut r = g.join_response(&member_id);
            r.skip_assignment = replaced_static && is_leader && g.state == GroupState::Stable;
            return JoinStart::Done(Ok(r));
        }
        if let Some(m) = g.members.get_mut(&member_id) {
            m.awaiting_join = true;
        }
        g.prepare(now);
        g.maybe_complete_join(now);
        JoinStart::Wait(member_id, seq)
    }

    fn sync_start(
        &mut self,
        req: &SyncGroupRequest,
        now: i64,
    ) -> Option<Result<SyncGroupResponse, GroupError>> {
        let g = match self.classic_mut(&req.group_id, false) {
            Ok(g) => g,
            Err(GroupError::WrongGroupType { .. }) | Err(_) => {
                return Some(Err(GroupError::UnknownMemberId(req.member_id.clone())));
            }
        };
        if let Err(e) = g.validate_member(&req.member_id, req.group_instance_id.as_deref()) {
            return Some(Err(e));
        }
        if req.generation_id != g.generation {
            return Some(Err(GroupError::IllegalGeneration {
                given: req.generation_id,
                current: g.generation,
            }));
        }
        let type_ok = req
            .protocol_type
            .as_ref()
            .is_none_or(|t| Some(t) == g.protocol_type.as_ref());
        let name_ok = req
            .protocol_name
            .as_ref()
            .is_none_or(|n| Some(n) == g.protocol.as_ref());
        if !type_ok || !name_ok {
            return Some(Err(GroupError::InconsistentGroupProtocol(format!(
                "group '{}' uses protocol type '{}' and protocol '{}'",
                req.group_id,
                g.protocol_type.clone().unwrap_or_default(),
                g.protocol.clone().unwrap_or_default()
            ))));
        }
        if let Some(m) = g.members.get_mut(&req.member_id) {
            m.last_heartbeat = now;
        }
        match g.state {
            GroupState::PreparingRebalance => Some(Err(GroupError::RebalanceInProgress)),
            GroupState::CompletingRebalance => {
                if g.leader.as_deref() == Some(req.member_id.as_str()) {
                    let mut given: BTreeMap<&str, &Bytes> = BTreeMap::new();
                    for (id, a) in &req.assignments {
                        given.insert(id.as_str(), a);
                    }
                    for (id, m) in g.members.iter_mut() {
                        m.assignment = given
                            .get(id.as_str())
                            .map(|b| (*b).clone())
                            .unwrap_or_default();
                    }
                    g.state = GroupState::Stable;
                    Some(Ok(g.sync_response(&req.member_id)))
                } else {
                    None
                }
            }
            GroupState::Stable => Some(Ok(g.sync_response(&req.member_id))),
            _ => Some(Err(GroupError::UnknownMemberId(req.member_id.clone()))),
        }
    }
}

impl ClassicGroup {
    fn sync_response(&self, member_id: &str) -> SyncGroupResponse {
        SyncGroupResponse {
            protocol_type: self.protocol_type.clone().unwrap_or_default(),
            protocol_name: self.protocol.clone().unwrap_or_default(),
            assignment: self
                .members
                .get(member_id)
                .map(|m| m.assignment.clone())
                .unwrap_or_default(),
        }
    }
}

impl Cluster {
    /// `JoinGroup` (`GroupMetadataManager.classicGroupJoin`): returns when the join phase of the
    /// rebalance completes (every member rejoined, or the rebalance timeout passed), or at once
    /// with an error or, for a member rejoining a settled group unchanged, the current generation.
    pub async fn join_group(&self, req: JoinGroupRequest) -> Result<JoinGroupResponse, GroupError> {
        let group_id = req.group_id.clone();
        let start = {
            let now = self.inner.clock.now_ms();
            let counts = self.inner.counts();
            let mut c = self.inner.coordinator.lock();
            c.expire_group(&group_id, now, &counts);
            let r = c.join_start(req, now);
            c.wire_changed.notify_waiters();
            r
        };
        let (member_id, seq) = match start {
            JoinStart::Done(r) => return r,
            JoinStart::Wait(id, seq) => (id, seq),
        };
        self.wait_group(&group_id, |c, _now| {
            let Some(WireGroup::Classic(g)) = c.wire.get_mut(&group_id) else {
                return Some(Err(GroupError::UnknownMemberId(member_id.clone())));
            };
            let Some(m) = g.members.get_mut(&member_id) else {
                return Some(Err(GroupError::UnknownMemberId(member_id.clone())));
            };
            if m.join_seq != seq {
                return Some(Err(GroupError::RebalanceInProgress));
            }
            m.join_result.take().map(Ok)
        })
        .await
    }

    /// `SyncGroup` (`GroupMetadataManager.classicGroupSync`): the leader's call stores the
    /// assignment it computed and makes the group `Stable`; another member's call waits for it.
    /// Each gets its own assignment.
    pub async fn sync_group(&self, req: SyncGroupRequest) -> Result<SyncGroupResponse, GroupError> {
        let first = {
            let now = self.inner.clock.now_ms();
            let counts = self.inner.counts();
            let mut c = self.inner.coordinator.lock();
            c.expire_group(&req.group_id, now, &counts);
            let r = c.sync_start(&req, now);
            c.wire_changed.notify_waiters();
            r
        };
        if let Some(r) = first {
            return r;
        }
        self.wait_group(&req.group_id, |c, _now| {
            let Some(WireGroup::Classic(g)) = c.wire.get(&req.group_id) else {
                return Some(Err(GroupError::UnknownMemberId(req.member_id.clone())));
            };
            if !g.members.contains_key(&req.member_id) {
                return Some(Err(GroupError::UnknownMemberId(req.member_id.clone())));
            }
            if g.generation != req.generation_id || g.state == GroupState::PreparingRebalance {
                return Some(Err(GroupError::RebalanceInProgress));
            }
            (g.state == GroupState::Stable).then(|| Ok(g.sync_response(&req.member_id)))
        })
        .await
    }

    /// `Heartbeat` (`classicGroupHeartbeat`): keeps the member's session;
    /// `REBALANCE_IN_PROGRESS` while the group prepares a rebalance (the member must rejoin),
    /// `ILLEGAL_GENERATION` for another generation, `UNKNOWN_MEMBER_ID` for a member the group
    /// does not have.
    pub fn heartbeat(
        &self,
        group_id: &str,
        member_id: &str,
        generation_id: i32,
        group_instance_id: Option<&str>,
    ) -> Result<(), GroupError> {
        let now = self.inner.clock.now_ms();
        let counts = self.inner.counts();
        let mut c = self.inner.coordinator.lock();
        c.expire_group(group_id, now, &counts);
        // a KIP-848 group has no classic members: `classicGroupHeartbeatToConsumerGroup`'s
        // UNKNOWN_MEMBER_ID ("does not use the classic protocol")
        let g = c.classic_mut(group_id, false).map_err(|e| match e {
            GroupError::WrongGroupType { .. } => GroupError::UnknownMemberId(member_id.to_string()),
            e => e,
        })?;
        g.validate_member(member_id, group_instance_id)?;
        if generation_id != g.generation {
            return Err(GroupError::IllegalGeneration {
                given: generation_id,
                current: g.generation,
            });
        }
        if let Some(m) = g.members.get_mut(member_id) {
            m.last_heartbeat = now;
        }
        match g.state {
            GroupState::Empty => Err(GroupError::UnknownMemberId(member_id.to_string())),
            GroupState::PreparingRebalance => Err(GroupError::RebalanceInProgress),
            _ => Ok(()),
        }
    }

    /// `LeaveGroup` (`classicGroupLeave`): removes each member (by member id, or by instance id
    /// for a static member) and rebalances the others. One result per member, in order; the
    /// outer error is for the group (`UNKNOWN_MEMBER_ID` when it has no such group).
    pub fn leave_group(
        &self,
        group_id: &str,
        members: &[LeavingMember],
    ) -> Result<Vec<Result<(), GroupError>>, GroupError> {
        let now = self.inner.clock.now_ms();
        let counts = self.inner.counts();
        let mut c = self.inner.coordinator.lock();
        c.expire_group(group_id, now, &counts);
        if let Some(WireGroup::Consumer(_)) = c.wire.get(group_id) {
            // `classicGroupLeaveToConsumerGroup`: each member is unknown or not a classic member
            return Ok(members
                .iter()
                .map(|m| Err(GroupError::UnknownMemberId(m.member_id.clone())))
                .collect());
        }
        let g = c.classic_mut(group_id, false)?;
        let out = members
            .iter()
            .map(|lm| {
                let id = match &lm.group_instance_id {
                    Some(i) => match g.statics.get(i) {
                        Some(id) if lm.member_id.is_empty() || *id == lm.member_id => id.clone(),
                        Some(_) => return Err(GroupError::FencedInstanceId(i.clone())),
                        None => return Err(GroupError::UnknownMemberId(lm.member_id.clone())),
                    },
                    None => lm.member_id.clone(),
                };
                if g.pending.remove(&id).is_some() {
                    return Ok(());
                }
                if !g.members.contains_key(&id) {
                    return Err(GroupError::UnknownMemberId(id));
                }
                g.remove_member(&id, now);
                Ok(())
            })
            .collect();
        c.expire_wire(group_id, now, &counts);
        c.wire_changed.notify_waiters();
        Ok(out)
    }

    /// `DescribeGroups` for one group: a classic wire group as its members joined it; a group of
    /// in-process consumers with their subscriptions and assignments in the consumer protocol's
    /// encoding (version 0); an unknown group `Dead` with no members; a KIP-848 group
    /// `GROUP_ID_NOT_FOUND` (Kafka: "not a classic group").
    pub fn describe_classic_group(
        &self,
        group_id: &str,
    ) -> Result<ClassicGroupDescription, GroupError> {
        let now = self.inner.clock.now_ms();
        let counts = self.inner.counts();
        let mut c = self.inner.coordinator.lock();
        c.expire_group(group_id, now, &counts);
        match c.wire.get(group_id) {
            Some(WireGroup::Classic(g)) => return Ok(g.describe(group_id)),
            Some(WireGroup::Consumer(_)) => {
                return Err(GroupError::WrongGroupType {
                    group: group_id.to_string(),
                    actual: GroupType::Consumer,
                    wanted: GroupType::Classic,
                });
            }
            None => {}
        }
        let d = c.describe(group_id, now, &counts);
        let topics: BTreeMap<&str, &Vec<String>> = c
            .groups
            .get(group_id)
            .map(|g| {
                g.members
                    .iter()
                    .map(|(id, m)| (id.as_str(), &m.topics))
                    .collect()
            })
            .unwrap_or_default();
        Ok(ClassicGroupDescription {
            group_id: group_id.to_string(),
            state: d.state,
            protocol_type: d.protocol_type,
            protocol: d.protocol,
            members: d
                .members
                .into_iter()
                .map(|m| ClassicMemberDescription {
                    metadata: encode_subscription(
                        topics
                            .get(m.member_id.as_str())
                            .map_or(&[][..], |t| t.as_slice()),
                    ),
                    assignment: encode_assignment(&m.assignment),
                    group_instance_id: None,
                    member_id: m.member_id,
                    client_id: m.client_id,
                    client_host: m.host,
                })
                .collect(),
        })
    }
}

/// Decodes the partitions of a consumer protocol `Assignment` (`ConsumerProtocol`, any
/// version: int16 version, then `[topic: string, partitions: [int32]]`); `None` when the
/// bytes are not one.
pub fn decode_assignment(b: &[u8]) -> Option<Vec<TopicPartition>> {
    let mut r = Reader(b);
    let _version = r.i16()?;
    let topics = r.count(4)?;
    let mut out = Vec::new();
    for _ in 0..topics {
        let len = usize::try_from(r.i16()?).ok()?;
        let topic = std::str::from_utf8(r.take(len)?).ok()?.to_string();
        let n = r.count(4)?;
        for _ in 0..n {
            out.push(TopicPartition::new(topic.clone(), r.i32()?));
        }
    }
    out.sort();
    Some(out)
}

/// A consumer protocol `Assignment` v0 of these partitions (no user data).
pub fn encode_assignment(parts: &[TopicPartition]) -> Bytes {
    let mut by_topic: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
    for tp in parts {
        by_topic.entry(&tp.topic).or_default().push(tp.partition);
    }
    let mut out = Vec::new();
    out.extend_from_slice(&0i16.to_be_bytes());
    out.extend_from_slice(&(by_topic.len() as i32).to_be_bytes());
    for (t, ps) in by_topic {
        out.extend_from_slice(&(t.len() as i16).to_be_bytes());
        out.extend_from_slice(t.as_bytes());
        out.extend_from_slice(&(ps.len() as i32).to_be_bytes());
        for p in ps {
            out.extend_from_slice(&p.to_be_bytes());
        }
    }
    out.extend_from_slice(&(-1i32).to_be_bytes());
    Bytes::from(out)
}

/// A consumer protocol `Subscription` v0 of these topics (no user data).
pub fn encode_subscription(topics: &[String]) -> Bytes {
    let mut out = Vec::new();
    out.extend_from_slice(&0i16.to_be_bytes());
    out.extend_from_slice(&(topics.len() as i32).to_be_bytes());
    for t in topics {
        out.extend_from_slice(&(t.len() as i16).to_be_bytes());
        out.extend_from_slice(t.as_bytes());
    }
    out.extend_from_slice(&(-1i32).to_be_bytes());
    Bytes::from(out)
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn i16(&mut self) -> Option<i16> {
        self.take(2).map(|b| i16::from_be_bytes([b[0], b[1]]))
    }
    fn i32(&mut self) -> Option<i32> {
        self.take(4)
            .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    /// An array count, checked against the bytes left (each element at least `min` bytes).
    fn count(&mut self, min: usize) -> Option<usize> {
        let n = usize::try_from(self.i32()?).ok()?;
        (n.saturating_mul(min) <= self.0.len()).then_some(n)
    }
}
