//! Partition assignors with Kafka's results: `range`, `roundrobin`, `sticky`,
//! `cooperative-sticky`.
//!
//! All of them see the members sorted by member id (Kafka orders `MemberInfo` by
//! `group.instance.id`, then member id; this broker has no static membership) and the
//! partitions of each subscribed topic. Every member's list comes back sorted by topic,
//! then partition.
//!
//! ```
//! use kcodec_broker::assignor::{Assignor, MemberSubscription};
//! use std::collections::BTreeMap;
//! let members = [
//!     MemberSubscription::new("C0", ["t0", "t1"]),
//!     MemberSubscription::new("C1", ["t0", "t1"]),
//! ];
//! let topics = BTreeMap::from([("t0".to_string(), 3), ("t1".to_string(), 3)]);
//! let a = Assignor::Range.assign(&members, &topics);
//! let names = |m: &str| a[m].iter().map(|tp| tp.to_string()).collect::<Vec<_>>();
//! assert_eq!(names("C0"), ["t0-0", "t0-1", "t1-0", "t1-1"]);
//! assert_eq!(names("C1"), ["t0-2", "t1-2"]);
//! ```

use crate::record::TopicPartition;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::str::FromStr;

/// Result of an assignment: member id → partitions.
pub type Assignment = BTreeMap<String, Vec<TopicPartition>>;

/// `partition.assignment.strategy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Assignor {
    /// `RangeAssignor` (`range`): per topic, contiguous ranges, the first members getting one more.
    #[default]
    Range,
    /// `RoundRobinAssignor` (`roundrobin`): all partitions dealt to members in turn.
    RoundRobin,
    /// `StickyAssignor` (`sticky`): balanced, keeping previous ownership; eager protocol.
    Sticky,
    /// `CooperativeStickyAssignor` (`cooperative-sticky`): sticky, with incremental cooperative
    /// rebalancing (a partition changing owner is first revoked, then assigned in a follow-up
    /// rebalance).
    CooperativeSticky,
}

impl Assignor {
    /// Kafka's protocol name.
    pub fn name(&self) -> &'static str {
        match self {
            Assignor::Range => "range",
            Assignor::RoundRobin => "roundrobin",
            Assignor::Sticky => "sticky",
            Assignor::CooperativeSticky => "cooperative-sticky",
        }
    }

    /// Whether the assignor uses the COOPERATIVE rebalance protocol.
    pub fn is_cooperative(&self) -> bool {
        matches!(self, Assignor::CooperativeSticky)
    }

    /// Computes the assignment. `partitions` maps topic → partition count; topics nobody
    /// subscribes to are ignored, and subscribed topics missing from the map get nothing.
    pub fn assign(
        &self,
        members: &[MemberSubscription],
        partitions: &BTreeMap<String, i32>,
    ) -> Assignment {
        let mut sorted: Vec<&MemberSubscription> = members.iter().collect();
        sorted.sort_by(|a, b| a.member_id.cmp(&b.member_id));
        sorted.dedup_by(|a, b| a.member_id == b.member_id);
        let mut out = match self {
            Assignor::Range => range(&sorted, partitions),
            Assignor::RoundRobin => round_robin(&sorted, partitions),
            Assignor::Sticky | Assignor::CooperativeSticky => sticky(&sorted, partitions),
        };
        for m in &sorted {
            out.entry(m.member_id.clone()).or_default();
        }
        for v in out.values_mut() {
            v.sort();
        }
        out
    }
}

impl fmt::Display for Assignor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Error parsing an assignor name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown partition.assignment.strategy '{0}' (expected range, roundrobin, sticky or cooperative-sticky)"
)]
pub struct UnknownAssignor(pub String);

impl FromStr for Assignor {
    type Err = UnknownAssignor;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "range" | "org.apache.kafka.clients.consumer.RangeAssignor" => Assignor::Range,
            "roundrobin" | "org.apache.kafka.clients.consumer.RoundRobinAssignor" => {
                Assignor::RoundRobin
            }
            "sticky" | "org.apache.kafka.clients.consumer.StickyAssignor" => Assignor::Sticky,
            "cooperative-sticky"
            | "org.apache.kafka.clients.consumer.CooperativeStickyAssignor" => {
                Assignor::CooperativeSticky
            }
            other => return Err(UnknownAssignor(other.to_string())),
        })
    }
}

/// One member's input to an assignor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberSubscription {
    /// Member id (sort key).
    pub member_id: String,
    /// Subscribed topics.
    pub topics: Vec<String>,
    /// Partitions the member owned in the previous generation (used by the sticky assignors).
    pub owned: Vec<TopicPartition>,
}

impl MemberSubscription {
    /// A member with no previously owned partitions.
    pub fn new<I, S>(member_id: impl Into<String>, topics: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        MemberSubscription {
            member_id: member_id.into(),
            topics: topics.into_iter().map(Into::into).collect(),
            owned: Vec::new(),
        }
    }

    /// Sets the previously owned partitions.
    pub fn owned(mut self, owned: Vec<TopicPartition>) -> Self {
        self.owned = owned;
        self
    }

    fn subscribes(&self, topic: &str) -> bool {
        self.topics.iter().any(|t| t == topic)
    }
}

fn subscribed_topics<'a>(members: &[&'a MemberSubscription]) -> BTreeSet<&'a str> {
    members
        .iter()
        .flat_map(|m| m.topics.iter().map(String::as_str))
        .collect()
}

fn range(members: &[&MemberSubscription], partitions: &BTreeMap<String, i32>) -> Assignment {
    let mut out = Assignment::new();
    for topic in subscribed_topics(members) {
        let Some(&n) = partitions.get(topic) else {
            continue;
        };
        let consumers: Vec<&&MemberSubscription> =
            members.iter().filter(|m| m.subscribes(topic)).collect();
        let c = consumers.len() as i32;
        let per = n / c;
        let extra = n % c;
        for (i, m) in consumers.iter().enumerate() {
            let i = i as i32;
            let start = per * i + i.min(extra);
            let len = per + i32::from(i < extra);
            let v = out.entry(m.member_id.clone()).or_default();
            v.extend((start..start + len).map(|p| TopicPartition::new(topic, p)));
        }
    }
    out
}

fn all_partitions(
    members: &[&MemberSubscription],
    partitions: &BTreeMap<String, i32>,
) -> Vec<TopicPartition> {
    let mut all = Vec::new();
    for topic in subscribed_topics(members) {
        if let Some(&n) = partitions.get(topic) {
            all.extend((0..n).map(|p| TopicPartition::new(topic, p)));
        }
    }
    all
}

fn round_robin(members: &[&MemberSubscription], partitions: &BTreeMap<String, i32>) -> Assignment {
    let mut out = Assignment::new();
    if members.is_empty() {
        return out;
    }
    let mut idx = 0usize;
    for tp in all_partitions(members, partitions) {
        while !members[idx % members.len()].subscribes(&tp.topic) {
            idx += 1;
        }
        out.entry(members[idx % members.len()].member_id.clone())
            .or_default()
            .push(tp);
        idx += 1;
    }
    out
}

fn sticky(members: &[&MemberSubscription], partitions: &BTreeMap<String, i32>) -> Assignment {
    if members.is_empty() {
        return Assignment::new();
    }
    let all = all_partitions(members, partitions);
    // Previously owned partitions that are still valid, each kept by its first claimant.
    let mut claimed: HashMap<&TopicPartition, usize> = HashMap::new();
    let mut owned: Vec<Vec<TopicPartition>> = vec![Vec::new(); members.len()];
    for (i, m) in members.iter().enumerate() {
        let mut mine: Vec<&TopicPartition> = m
            .owned
            .iter()
            .filter(|tp| {
                m.subscribes(&tp.topic)
                    && partitions.get(&tp.topic).is_some_and(|&n| tp.partition < n)
            })
            .collect();
        mine.sort();
        mine.dedup();
        for tp in mine {
            if !claimed.contains_key(tp) && tp.partition >= 0 {
                claimed.insert(tp, i);
                owned[i].push(tp.clone());
            }
        }
    }
    let same = members.windows(2).all(|w| {
        let a: BTreeSet<&String> = w[0].topics.iter().collect();
        let b: BTreeSet<&String> = w[1].topics.iter().collect();
        a == b
    });
    let lists = if same {
        constrained(members.len(), &all, owned)
    } else {
        general(members, &all, owned)
    };
    members
        .iter()
        .map(|m| m.member_id.clone())
        .zip(lists)
        .collect()
}

/// Equal subscriptions: Kafka's constrained sticky assignment (quotas of ⌊P/M⌋ and ⌈P/M⌉).
fn constrained(
    m: usize,
    all: &[TopicPartition],
    owned: Vec<Vec<TopicPartition>>,
) -> Vec<Vec<TopicPartition>> {
    let total = all.len();
    let min_quota = total / m;
    let max_quota = total.div_ceil(m);
    let expected_over = if max_quota > min_quota { total % m } else { 0 };
    let mut over = 0usize;
    let mut lists: Vec<Vec<TopicPartition>> = Vec::with_capacity(m);
    for mut mine in owned {
        if mine.len() > min_quota {
            if over < expected_over {
                mine.truncate(max_quota);
                over += 1;
            } else {
                mine.truncate(min_quota);
            }
        }
        lists.push(mine);
    }
    let taken: HashSet<TopicPartition> = lists.iter().flatten().cloned().collect();
    let mut under: Vec<usize> = (0..m).filter(|&i| lists[i].len() < min_quota).collect();
    let mut exact: Vec<usize> = if max_quota > min_quota {
        (0..m).filter(|&i| lists[i].len() == min_quota).collect()
    } else {
        Vec::new()
    };
    let mut idx = 0usize;
    for tp in all.iter().filter(|tp| !taken.contains(tp)) {
        if !under.is_empty() {
            if idx >= under.len() {
                idx = 0;
            }
            let mi = under[idx];
            lists[mi].push(tp.clone());
            if lists[mi].len() >= min_quota {
                under.remove(idx);
                if max_quota > min_quota {
                    exact.push(mi);
                }
            } else {
                idx += 1;
            }
        } else if !exact.is_empty() && over < expected_over {
            let mi = exact.remove(0);
            lists[mi].push(tp.clone());
            over += 1;
        } else {
            // Defensive: should not happen with consistent quotas.
            let mi = (0..m).min_by_key(|&i| lists[i].len()).unwrap_or(0);
            lists[mi].push(tp.clone());
        }
    }
    lists
}

/// Unequal subscriptions: keep ownership, give each free partition to the least-loaded
/// eligible member, then move partitions from the most to the least loaded until no move
/// reduces the imbalance.
fn general(
    members: &[&MemberSubscription],
    all: &[TopicPartition],
    owned: Vec<Vec<TopicPartition>>,
) -> Vec<Vec<TopicPartition>> {
    let mut lists = owned;
    let taken: BTreeSet<TopicPartition> = lists.iter().flatten().cloned().collect();
    let eligible = |tp: &TopicPartition| -> Vec<usize> {
        (0..members.len())
            .filter(|&i| members[i].subscribes(&tp.topic))
            .collect()
    };
    let mut free: Vec<(usize, &TopicPartition)> = all
        .iter()
        .filter(|tp| !taken.contains(*tp))
        .map(|tp| (eligible(tp).len(), tp))
        .collect();
    free.sort();
    for (_, tp) in free {
        if let Some(mi) = eligible(tp)
            .into_iter()
            .min_by_key(|&i| (lists[i].len(), i))
        {
            lists[mi].push(tp.clone());
        }
    }
    let limit = all.len() * 2 + 1;
    for _ in 0..limit {
        let mut moved = false;
        let mut order: Vec<usize> = (0..members.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(lists[i].len()));
        'donors: for &d in &order {
            for k in (0..lists[d].len()).rev() {
                let tp = &lists[d][k];
                let best = (0..members.len())
                    .filter(|&r| r != d && members[r].subscribes(&tp.topic))
                    .min_by_key(|&r| (lists[r].len(), r));
                if let Some(r) = best
                    && lists[r].len() + 1 < lists[d].len()
                {
                    let tp = lists[d].remove(k);
                    lists[r].push(tp);
                    moved = true;
                    break 'donors;
                }
            }
        }
        if !moved {
            break;
        }
    }
    lists
}
