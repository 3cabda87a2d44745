//! KIP-848 regular-expression subscriptions (`SubscribedTopicRegex` in
//! `ConsumerGroupHeartbeat`) as Kafka's `GroupMetadataManager` resolves them
//! (`maybeUpdateRegularExpressions`, `refreshRegularExpressions`,
//! `handleRegularExpressionsResult`).
//!
//! * A member subscribes to at most one expression; the group keeps one resolution per distinct
//!   expression its members use, dropped when the last member using it leaves or changes it.
//! * An expression new to the group must compile, else the heartbeat fails with
//!   `INVALID_REGULAR_EXPRESSION` (`throwIfRegularExpressionIsInvalid`) and nothing changes.
//! * Resolution is a whole-name match (`Pattern.matcher(topic).matches()`) against every topic
//!   of the cluster; a member's subscription is its topic names plus what its expression
//!   resolved to (`TargetAssignmentBuilder.withResolvedRegularExpressions`), so a resolution
//!   that changes the subscribed topics bumps the group epoch.
//! * Creating or deleting a topic marks the resolutions stale; the next heartbeat of a member
//!   of the group resolves them again.
//!
//! # Translation note (Java → Rust)
//!
//! * Kafka compiles with RE2J; this module uses the `regex` crate. Both take RE2's syntax and
//!   match in linear time (no backreferences, no look-around), so an expression that compiles
//!   in both matches the same topic names: topic names are ASCII (`[a-zA-Z0-9._-]`), where the
//!   crate's Unicode-aware `\w`, `\d`, `\s` and `\b` agree with RE2J's ASCII ones.
//! * Syntax only one side accepts: RE2J's `\Q…\E` quoting is refused here (escape the
//!   characters instead); the crate's character-class set operations (`[a-z&&[^x]]`,
//!   `--`, `~~`) and nested classes are its own (RE2J reads `&&` literally).
//! * Kafka resolves asynchronously, at most every 10 s per group
//!   (`REGEX_BATCH_REFRESH_INTERVAL_MS`) and after the metadata image gains topics; here the
//!   heartbeat that brings an expression resolves it in line (the member gets its topics in
//!   that response), and a topic created or deleted is seen at the next heartbeat, without the
//!   10 s batching.
//! * Kafka filters the resolved topics by the member's `DESCRIBE` ACLs; there are no ACLs here.
//! * Hostile input: Kafka bounds neither length nor compile cost. Here an expression longer than
//!   [`MAX_REGEX_BYTES`] is refused, and compilation is bounded (compiled program and lazy DFA
//!   at most [`REGEX_SIZE_LIMIT`] each, the crate's nesting limit against deep recursion), each
//!   refusal an `INVALID_REGULAR_EXPRESSION` naming the cause.

use super::protocol::GroupError;
use std::collections::{BTreeMap, BTreeSet};

/// The longest `SubscribedTopicRegex` accepted, in bytes.
pub const MAX_REGEX_BYTES: usize = 16 * 1024;

/// The most memory one compiled expression may take, for its program and for its lazy DFA.
pub const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// An expression compiled for whole-name matching.
pub(crate) struct Compiled {
    source: String,
    regex: ::regex::Regex,
}

struct Entry {
    regex: ::regex::Regex,
    /// The topics it matched at the last resolution; `None` until resolved.
    topics: Option<BTreeSet<String>>,
}

/// A group's regular expressions and their resolutions, by expression.
#[derive(Default)]
pub(crate) struct Regexes {
    entries: BTreeMap<String, Entry>,
    /// The cluster's topics changed since the last resolution.
    stale: bool,
}

fn builder(pattern: &str) -> ::regex::RegexBuilder {
    let mut b = ::regex::RegexBuilder::new(pattern);
    b.size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT);
    b
}

/// The crate's message without its caret diagram: the line after `error: `.
fn reason(e: &::regex::Error) -> String {
    match e {
        ::regex::Error::CompiledTooBig(limit) => {
            format!("compiles to more than {limit} bytes")
        }
        other => {
            let text = other.to_string();
            text.lines()
                .rev()
                .find_map(|l| l.trim().strip_prefix("error: "))
                .unwrap_or(text.trim())
                .to_string()
        }
    }
}

impl Regexes {
    /// Compiles `source` as `Pattern.compile` would be asked to, for whole-name matching.
    pub(crate) fn compile(source: &str) -> Result<Compiled, GroupError> {
        let invalid = |reason: String| GroupError::InvalidRegularExpression {
            regex: source.chars().take(256).collect(),
            reason,
        };
        if source.len() > MAX_REGEX_BYTES {
            return Err(invalid(format!(
                "it is {} bytes long, more than the {MAX_REGEX_BYTES} accepted",
                source.len()
            )));
        }
        // the expression alone first: wrapping an unbalanced one (`a)|(b`) could make it valid
        builder(source).build().map_err(|e| invalid(reason(&e)))?;
        let regex = builder(&format!(r"\A(?:{source})\z"))
            .build()
            .map_err(|e| invalid(reason(&e)))?;
        Ok(Compiled {
            source: source.to_string(),
            regex,
        })
    }

    /// Whether the group already has `source` (then it is not compiled again).
    pub(crate) fn contains(&self, source: &str) -> bool {
        self.entries.contains_key(source)
    }

    /// Adds an expression, unresolved.
    pub(crate) fn insert(&mut self, c: Compiled) {
        self.entries.entry(c.source).or_insert(Entry {
            regex: c.regex,
            topics: None,
        });
    }

    /// Keeps only the expressions in `used`.
    pub(crate) fn retain_used<'a>(&mut self, used: impl Iterator<Item = &'a str>) {
        let used: BTreeSet<&str> = used.collect();
        self.entries.retain(|k, _| used.contains(k.as_str()));
    }

    /// The cluster's topics changed: resolve again at the next [`Regexes::resolve`].
    pub(crate) fn mark_stale(&mut self) {
        self.stale = !self.entries.is_empty();
    }

    /// Resolves the unresolved expressions, or all of them when the topics changed, against
    /// `topics` (called only then).
    pub(crate) fn resolve(&mut self, topics: &dyn Fn() -> Vec<String>) {
        let stale = self.stale;
        let pending: Vec<&mut Entry> = self
            .entries
            .values_mut()
            .filter(|e| stale || e.topics.is_none())
            .collect();
        if pending.is_empty() {
            self.stale = false;
            return;
        }
        let names = topics();
        for e in pending {
            e.topics = Some(
                names
                    .iter()
                    .filter(|t| e.regex.is_match(t))
                    .cloned()
                    .collect(),
            );
        }
        self.stale = false;
    }

    /// What `source` resolved to (nothing while unresolved or unknown).
    pub(crate) fn topics(&self, source: &str) -> impl Iterator<Item = &String> {
        self.entries
            .get(source)
            .and_then(|e| e.topics.as_ref())
            .into_iter()
            .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolved(source: &str, topics: &[&str]) -> Vec<String> {
        let mut r = Regexes::default();
        r.insert(Regexes::compile(source).unwrap());
        let names: Vec<String> = topics.iter().map(|t| t.to_string()).collect();
        r.resolve(&|| names.clone());
        r.topics(source).cloned().collect()
    }

    /// `GroupMetadataManager.refreshRegularExpressions` matches whole names
    /// (`Pattern.matcher(topic).matches()`), not a substring.
    #[test]
    fn expressions_match_whole_topic_names() {
        let topics = ["orders-eu", "orders-us", "old-orders-eu", "orders"];
        assert_eq!(resolved("orders-.*", &topics), ["orders-eu", "orders-us"]);
        assert_eq!(resolved("^orders-.*", &topics), ["orders-eu", "orders-us"]);
        assert_eq!(resolved("orders", &topics), ["orders"]);
        // an alternative that matches a prefix first still matches the whole name
        assert_eq!(
            resolved("orders|orders-eu", &topics),
            ["orders", "orders-eu"]
        );
        assert_eq!(resolved("(?i)ORDERS-US", &topics), ["orders-us"]);
    }

    /// `throwIfRegularExpressionIsInvalid`: INVALID_REGULAR_EXPRESSION with the cause; an
    /// unbalanced expression is refused even though wrapping it would balance it.
    #[test]
    fn invalid_oversized_and_costly_expressions_are_refused_with_the_cause() {
        let code = |s: &str| Regexes::compile(s).err().map(|e| (e.code(), e.to_string()));
        let (c, msg) = code("orders-(").unwrap();
        assert_eq!(c, 128);
        assert!(
            msg.starts_with("SubscribedTopicRegex `orders-(` is not a valid regular expression: "),
            "{msg}"
        );
        assert!(code("a)|(b").is_some(), "unbalanced");
        assert!(
            code(r"\Qa.b\E").is_some(),
            "RE2J's quoting is not the crate's"
        );
        let (_, msg) = code(&"a".repeat(MAX_REGEX_BYTES + 1)).unwrap();
        assert!(msg.contains("more than the 16384 accepted"), "{msg}");
        // a small expression that compiles to a huge program
        let (_, msg) = code("(?:a{1000}){1000}").unwrap();
        assert!(msg.contains("compiles to more than"), "{msg}");
        // deep nesting: refused, no stack overflow
        let deep = format!("{}a{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(code(&deep).is_some());
        assert!(code("orders-.*").is_none());
    }

    /// Stale resolutions are recomputed; expressions no member uses are dropped.
    #[test]
    fn topic_changes_resolve_again_and_unused_expressions_go() {
        let mut r = Regexes::default();
        r.insert(Regexes::compile("a.*").unwrap());
        r.insert(Regexes::compile("b.*").unwrap());
        r.resolve(&|| vec!["a1".into(), "b1".into()]);
        r.resolve(&|| panic!("nothing to resolve"));
        r.mark_stale();
        r.resolve(&|| vec!["a1".into(), "a2".into()]);
        assert_eq!(r.topics("a.*").collect::<Vec<_>>(), ["a1", "a2"]);
        assert_eq!(r.topics("b.*").count(), 0);
        r.retain_used(["b.*"].into_iter());
        assert!(!r.contains("a.*") && r.contains("b.*"));
    }
}
