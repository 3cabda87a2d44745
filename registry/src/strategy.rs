//! Subject name strategies, with the exact subject strings Confluent's serializers use.
//!
//! A strategy is anything implementing [`SubjectNameStrategy`] (Confluent's
//! `io.confluent.kafka.serializers.subject.strategy.SubjectNameStrategy`); the three Confluent
//! ships are built in, and a user's own type is accepted wherever they are:
//!
//! | Strategy | Subject |
//! |---|---|
//! | [`TopicNameStrategy`] (default) | `<topic>-key` or `<topic>-value` |
//! | [`RecordNameStrategy`] | `<namespace.Name>` of the record |
//! | [`TopicRecordNameStrategy`] | `<topic>-<namespace.Name>` |
//!
//! Protobuf serializers also name the subjects of the files a schema imports with a
//! [`ReferenceSubjectNameStrategy`] (Confluent's `reference.subject.name.strategy`); the default,
//! [`DefaultReferenceSubjectNameStrategy`], is the import path itself.
//!
//! ```
//! use kcodec_registry::strategy::{
//!     avro_record_name, RecordNameStrategy, SubjectNameStrategy, TopicNameStrategy,
//!     TopicRecordNameStrategy,
//! };
//! use kcodec_registry::RegistryError;
//!
//! let schema = r#"{"type":"record","name":"User","namespace":"com.example","fields":[]}"#;
//! let name = avro_record_name(schema);
//! assert_eq!(name.as_deref(), Some("com.example.User"));
//! let s = TopicRecordNameStrategy.subject("users", false, name.as_deref());
//! assert_eq!(s.unwrap(), "users-com.example.User");
//! assert_eq!(TopicNameStrategy.subject("users", true, None).unwrap(), "users-key");
//!
//! // A strategy of one's own: every topic's values under one shared subject.
//! #[derive(Debug)]
//! struct Shared;
//! impl SubjectNameStrategy for Shared {
//!     fn subject(&self, _: &str, is_key: bool, _: Option<&str>) -> Result<String, RegistryError> {
//!         Ok(if is_key { "shared-key" } else { "shared-value" }.to_owned())
//!     }
//! }
//! assert_eq!(Shared.subject("users", false, None).unwrap(), "shared-value");
//! ```

use crate::RegistryError;
use std::sync::Arc;

/// How a serializer names the subject a schema is registered under (Confluent's
/// `SubjectNameStrategy.subjectName(topic, isKey, schema)`).
///
/// Implement it for a strategy of one's own; the built-in ones are [`TopicNameStrategy`],
/// [`RecordNameStrategy`] and [`TopicRecordNameStrategy`].
pub trait SubjectNameStrategy: Send + Sync + std::fmt::Debug {
    /// The subject for a schema on `topic`, for the record's key (`is_key`) or value.
    /// `record_name` is the schema's fully qualified record name (Avro `namespace.Name`,
    /// Protobuf `package.Message`, JSON Schema `title`), `None` for a schema that is not a named
    /// record.
    fn subject(
        &self,
        topic: &str,
        is_key: bool,
        record_name: Option<&str>,
    ) -> Result<String, RegistryError>;

    /// Whether the subject depends on the schema (Confluent's `usesSchema()`): such a strategy
    /// needs a named record, and a serializer checks it has one when it is built.
    fn uses_schema(&self) -> bool {
        false
    }
}

impl<S: SubjectNameStrategy + ?Sized> SubjectNameStrategy for Arc<S> {
    fn subject(
        &self,
        topic: &str,
        is_key: bool,
        record_name: Option<&str>,
    ) -> Result<String, RegistryError> {
        (**self).subject(topic, is_key, record_name)
    }

    fn uses_schema(&self) -> bool {
        (**self).uses_schema()
    }
}

/// `TopicNameStrategy` (Confluent's default): `<topic>-key` / `<topic>-value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TopicNameStrategy;

/// `RecordNameStrategy`: the record's full name, `<namespace.Name>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RecordNameStrategy;

/// `TopicRecordNameStrategy`: `<topic>-<namespace.Name>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TopicRecordNameStrategy;

/// The record name a record strategy needs, or [`RegistryError::NotARecord`].
fn record<'a>(
    record_name: Option<&'a str>,
    strategy: &'static str,
) -> Result<&'a str, RegistryError> {
    record_name
        .filter(|n| !n.is_empty())
        .ok_or(RegistryError::NotARecord { strategy })
}

impl SubjectNameStrategy for TopicNameStrategy {
    fn subject(&self, topic: &str, is_key: bool, _: Option<&str>) -> Result<String, RegistryError> {
        Ok(format!("{topic}-{}", if is_key { "key" } else { "value" }))
    }
}

impl SubjectNameStrategy for RecordNameStrategy {
    fn subject(&self, _: &str, _: bool, name: Option<&str>) -> Result<String, RegistryError> {
        Ok(record(name, "RecordNameStrategy")?.to_owned())
    }

    fn uses_schema(&self) -> bool {
        true
    }
}

impl SubjectNameStrategy for TopicRecordNameStrategy {
    fn subject(&self, topic: &str, _: bool, name: Option<&str>) -> Result<String, RegistryError> {
        Ok(format!(
            "{topic}-{}",
            record(name, "TopicRecordNameStrategy")?
        ))
    }

    fn uses_schema(&self) -> bool {
        true
    }
}

/// The built-in strategy named by Confluent's class name (with or without its Java package) or
/// the short names `topic`, `record`, `topic_record` (as configuration files and the CLI give
/// them).
pub fn strategy_by_name(name: &str) -> Result<Arc<dyn SubjectNameStrategy>, RegistryError> {
    let short = name.rsplit('.').next().unwrap_or(name);
    match short.to_ascii_lowercase().replace(['-', '_'], "").as_str() {
        "topicnamestrategy" | "topic" => Ok(Arc::new(TopicNameStrategy)),
        "recordnamestrategy" | "record" => Ok(Arc::new(RecordNameStrategy)),
        "topicrecordnamestrategy" | "topicrecord" => Ok(Arc::new(TopicRecordNameStrategy)),
        _ => Err(RegistryError::Config(format!(
            "unknown subject name strategy '{name}'"
        ))),
    }
}

/// How a Protobuf serializer names the subject of a file the schema imports (Confluent's
/// `ReferenceSubjectNameStrategy.subjectName(dependency, isKey, schema)`).
pub trait ReferenceSubjectNameStrategy: Send + Sync + std::fmt::Debug {
    /// The subject for the imported file `import` (its import path), for a key's or a value's
    /// schema.
    fn subject(&self, import: &str, is_key: bool) -> String;
}

impl<S: ReferenceSubjectNameStrategy + ?Sized> ReferenceSubjectNameStrategy for Arc<S> {
    fn subject(&self, import: &str, is_key: bool) -> String {
        (**self).subject(import, is_key)
    }
}

/// `DefaultReferenceSubjectNameStrategy`: the import path itself (`common/money.proto`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DefaultReferenceSubjectNameStrategy;

impl ReferenceSubjectNameStrategy for DefaultReferenceSubjectNameStrategy {
    fn subject(&self, import: &str, _: bool) -> String {
        import.to_owned()
    }
}

/// The full name (`namespace.Name`) of an Avro schema text whose top level is a record, `None`
/// when it is not a record (a primitive, an array, a union, an enum...) or not valid JSON.
pub fn avro_record_name(schema: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(schema).ok()?;
    let object = value.as_object()?;
    if object.get("type")?.as_str()? != "record" {
        return None;
    }
    let name = object.get("name")?.as_str()?;
    if name.contains('.') {
        return Some(name.to_owned());
    }
    match object.get("namespace").and_then(|n| n.as_str()) {
        Some(ns) if !ns.is_empty() => Some(format!("{ns}.{name}")),
        _ => Some(name.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_strategy() {
        let s = TopicNameStrategy;
        assert_eq!(s.subject("t", true, None).unwrap(), "t-key");
        assert_eq!(s.subject("t", false, Some("a.B")).unwrap(), "t-value");
        assert!(!s.uses_schema());
    }

    #[test]
    fn record_strategies_need_a_record() {
        let strategies: [(&dyn SubjectNameStrategy, &str); 2] = [
            (&RecordNameStrategy, "RecordNameStrategy"),
            (&TopicRecordNameStrategy, "TopicRecordNameStrategy"),
        ];
        for (s, name) in strategies {
            assert!(s.uses_schema());
            for missing in [None, Some("")] {
                let e = s.subject("t", false, missing).unwrap_err();
                assert!(matches!(e, RegistryError::NotARecord { .. }), "{e}");
                assert!(e.to_string().contains(name), "{e}");
            }
        }
        assert_eq!(
            RecordNameStrategy.subject("t", true, Some("a.B")).unwrap(),
            "a.B"
        );
        assert_eq!(
            TopicRecordNameStrategy
                .subject("t", true, Some("a.B"))
                .unwrap(),
            "t-a.B"
        );
    }

    #[test]
    fn avro_names() {
        assert_eq!(
            avro_record_name(r#"{"type":"record","name":"U","namespace":"a.b","fields":[]}"#)
                .as_deref(),
            Some("a.b.U")
        );
        assert_eq!(
            avro_record_name(r#"{"type":"record","name":"x.U","namespace":"a.b","fields":[]}"#)
                .as_deref(),
            Some("x.U")
        );
        assert_eq!(
            avro_record_name(r#"{"type":"record","name":"U","fields":[]}"#).as_deref(),
            Some("U")
        );
        assert_eq!(avro_record_name(r#""string""#), None);
        assert_eq!(
            avro_record_name(r#"{"type":"enum","name":"E","symbols":["A"]}"#),
            None
        );
        assert_eq!(avro_record_name("{oops"), None);
    }

    #[test]
    fn parse_names() {
        let s = strategy_by_name("io.confluent.kafka.serializers.subject.TopicRecordNameStrategy")
            .unwrap();
        assert_eq!(s.subject("t", false, Some("a.B")).unwrap(), "t-a.B");
        let s = strategy_by_name("record").unwrap();
        assert_eq!(s.subject("t", false, Some("a.B")).unwrap(), "a.B");
        assert_eq!(
            strategy_by_name("Topic")
                .unwrap()
                .subject("t", true, None)
                .unwrap(),
            "t-key"
        );
        assert!(strategy_by_name("nope").is_err());
    }

    #[test]
    fn default_reference_strategy_is_the_import_path() {
        assert_eq!(
            DefaultReferenceSubjectNameStrategy.subject("common/money.proto", false),
            "common/money.proto"
        );
    }
}
