//! Consumer lag as `kafka-consumer-groups --describe` shows it.

use crate::group::{MemberDescription, OffsetAndMetadata};
use crate::record::TopicPartition;
use std::collections::BTreeMap;

/// One row of `kafka-consumer-groups --describe --group <id>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LagRow {
    /// GROUP.
    pub group: String,
    /// TOPIC (`None` for a member without partitions, printed `-`).
    pub topic: Option<String>,
    /// PARTITION (`None` printed `-`).
    pub partition: Option<i32>,
    /// CURRENT-OFFSET: the committed offset, `None` (printed `-`) when nothing is committed.
    pub current_offset: Option<i64>,
    /// LOG-END-OFFSET (`None` printed `-`, for a member row or a deleted topic).
    pub log_end_offset: Option<i64>,
    /// LAG = LOG-END-OFFSET − CURRENT-OFFSET; `None` (printed `-`) without a committed offset.
    pub lag: Option<i64>,
    /// CONSUMER-ID of the owning member, `None` (printed `-`) when unassigned.
    pub consumer_id: Option<String>,
    /// HOST of the owning member.
    pub host: Option<String>,
    /// CLIENT-ID of the owning member.
    pub client_id: Option<String>,
}

pub(crate) fn rows(
    group: &str,
    members: &[MemberDescription],
    offsets: &BTreeMap<TopicPartition, OffsetAndMetadata>,
    leo: impl Fn(&TopicPartition) -> Option<i64>,
) -> Vec<LagRow> {
    let mut owner: BTreeMap<TopicPartition, &MemberDescription> = BTreeMap::new();
    for m in members {
        for tp in &m.assignment {
            owner.insert(tp.clone(), m);
        }
    }
    let mut tps: Vec<&TopicPartition> = owner.keys().chain(offsets.keys()).collect();
    tps.sort();
    tps.dedup();
    let mut out: Vec<LagRow> = tps
        .into_iter()
        .map(|tp| {
            let current = offsets.get(tp).map(|o| o.offset);
            let end = leo(tp);
            let m = owner.get(tp);
            LagRow {
                group: group.to_string(),
                topic: Some(tp.topic.clone()),
                partition: Some(tp.partition),
                current_offset: current,
                log_end_offset: end,
                lag: match (current, end) {
                    (Some(c), Some(e)) => Some(e - c),
                    _ => None,
                },
                consumer_id: m.map(|m| m.member_id.clone()),
                host: m.map(|m| m.host.clone()),
                client_id: m.map(|m| m.client_id.clone()),
            }
        })
        .collect();
    for m in members.iter().filter(|m| m.assignment.is_empty()) {
        out.push(LagRow {
            group: group.to_string(),
            topic: None,
            partition: None,
            current_offset: None,
            log_end_offset: None,
            lag: None,
            consumer_id: Some(m.member_id.clone()),
            host: Some(m.host.clone()),
            client_id: Some(m.client_id.clone()),
        });
    }
    out
}

fn dash<T: ToString>(v: &Option<T>) -> String {
    v.as_ref()
        .map(ToString::to_string)
        .unwrap_or_else(|| "-".to_string())
}

/// Formats rows as `kafka-consumer-groups --describe` does: a header line, then one line per
/// row; GROUP, TOPIC, CONSUMER-ID and HOST are left-aligned to the widest value (at least 15),
/// PARTITION to 10 and the offset columns to 15, separated by one space. Empty input gives
/// just the header.
///
/// ```
/// use kcodec_broker::lag::{format_lag_table, LagRow};
/// let row = LagRow {
///     group: "g".into(), topic: Some("t".into()), partition: Some(0),
///     current_offset: Some(3), log_end_offset: Some(5), lag: Some(2),
///     consumer_id: None, host: None, client_id: None,
/// };
/// let table = format_lag_table(&[row]);
/// let lines: Vec<&str> = table.lines().collect();
/// assert!(lines[0].starts_with("GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG "));
/// assert_eq!(lines[1].split_whitespace().collect::<Vec<_>>(), ["g", "t", "0", "3", "5", "2", "-", "-", "-"]);
/// ```
pub fn format_lag_table(rows: &[LagRow]) -> String {
    let width = |title: &str, f: &dyn Fn(&LagRow) -> String| {
        rows.iter()
            .map(|r| f(r).len())
            .chain([title.len(), 15])
            .max()
            .unwrap_or(15)
    };
    let gw = width("GROUP", &|r| r.group.clone());
    let tw = width("TOPIC", &|r| dash(&r.topic));
    let cw = width("CONSUMER-ID", &|r| dash(&r.consumer_id));
    let hw = width("HOST", &|r| dash(&r.host));
    let mut out = String::new();
    let mut line = |cols: [String; 9]| {
        let s = format!(
            "{:<gw$} {:<tw$} {:<10} {:<15} {:<15} {:<15} {:<cw$} {:<hw$} {}",
            cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6], cols[7], cols[8]
        );
        out.push_str(s.trim_end());
        out.push('\n');
    };
    line([
        "GROUP".into(),
        "TOPIC".into(),
        "PARTITION".into(),
        "CURRENT-OFFSET".into(),
        "LOG-END-OFFSET".into(),
        "LAG".into(),
        "CONSUMER-ID".into(),
        "HOST".into(),
        "CLIENT-ID".into(),
    ]);
    for r in rows {
        line([
            r.group.clone(),
            dash(&r.topic),
            dash(&r.partition),
            dash(&r.current_offset),
            dash(&r.log_end_offset),
            dash(&r.lag),
            dash(&r.consumer_id),
            dash(&r.host),
            dash(&r.client_id),
        ]);
    }
    out
}
