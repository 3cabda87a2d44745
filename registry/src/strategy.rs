//! Subject name strategies, with the exact subject strings Confluent's serializers use.
//!
//! | Strategy | Subject |
//! |---|---|
//! | [`SubjectNameStrategy::Topic`] (default) | `<topic>-key` or `<topic>-value` |
//! | [`SubjectNameStrategy::Record`] | `<namespace.Name>` of the record |
//! | [`SubjectNameStrategy::TopicRecord`] | `<topic>-<namespace.Name>` |
//!
//! ```
//! use kcodec_registry::strategy::{avro_record_name, SubjectKind, SubjectNameStrategy};
//! let schema = r#"{"type":"record","name":"User","namespace":"com.example","fields":[]}"#;
//! let name = avro_record_name(schema);
//! assert_eq!(name.as_deref(), Some("com.example.User"));
//! let s = SubjectNameStrategy::TopicRecord.subject("users", SubjectKind::Value, name.as_deref());
//! assert_eq!(s.unwrap(), "users-com.example.User");
//! assert_eq!(SubjectNameStrategy::Topic.subject("users", SubjectKind::Key, None).unwrap(), "users-key");
//! ```

use crate::RegistryError;

/// Whether the schema is for a record's key or its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubjectKind {
    /// The record key.
    Key,
    /// The record value.
    Value,
}

/// How a serializer names the subject a schema is registered under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SubjectNameStrategy {
    /// `TopicNameStrategy`: `<topic>-key` / `<topic>-value`.
    #[default]
    Topic,
    /// `RecordNameStrategy`: the record's full name, `<namespace.Name>`.
    Record,
    /// `TopicRecordNameStrategy`: `<topic>-<namespace.Name>`.
    TopicRecord,
}

impl SubjectNameStrategy {
    /// Confluent's class name for the strategy, such as `TopicNameStrategy`.
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectNameStrategy::Topic => "TopicNameStrategy",
            SubjectNameStrategy::Record => "RecordNameStrategy",
            SubjectNameStrategy::TopicRecord => "TopicRecordNameStrategy",
        }
    }

    /// The subject for a schema on `topic`. `record_name` is the schema's fully qualified record
    /// name (Avro `namespace.Name`, Protobuf `package.Message`, JSON Schema `title`), `None` for
    /// a schema that is not a named record; the record strategies refuse such a schema with
    /// [`RegistryError::NotARecord`].
    pub fn subject(
        self,
        topic: &str,
        kind: SubjectKind,
        record_name: Option<&str>,
    ) -> Result<String, RegistryError> {
        let record = || {
            record_name
                .filter(|n| !n.is_empty())
                .ok_or(RegistryError::NotARecord {
                    strategy: self.as_str(),
                })
        };
        Ok(match self {
            SubjectNameStrategy::Topic => match kind {
                SubjectKind::Key => format!("{topic}-key"),
                SubjectKind::Value => format!("{topic}-value"),
            },
            SubjectNameStrategy::Record => record()?.to_owned(),
            SubjectNameStrategy::TopicRecord => format!("{topic}-{}", record()?),
        })
    }
}

impl std::str::FromStr for SubjectNameStrategy {
    type Err = RegistryError;
    /// Accepts Confluent's class names (with or without their Java package) and the short names
    /// `topic`, `record`, `topic_record`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let short = s.rsplit('.').next().unwrap_or(s);
        match short.to_ascii_lowercase().replace(['-', '_'], "").as_str() {
            "topicnamestrategy" | "topic" => Ok(SubjectNameStrategy::Topic),
            "recordnamestrategy" | "record" => Ok(SubjectNameStrategy::Record),
            "topicrecordnamestrategy" | "topicrecord" => Ok(SubjectNameStrategy::TopicRecord),
            _ => Err(RegistryError::Config(format!(
                "unknown subject name strategy '{s}'"
            ))),
        }
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
        let s = SubjectNameStrategy::Topic;
        assert_eq!(s.subject("t", SubjectKind::Key, None).unwrap(), "t-key");
        assert_eq!(
            s.subject("t", SubjectKind::Value, Some("a.B")).unwrap(),
            "t-value"
        );
    }

    #[test]
    fn record_strategies_need_a_record() {
        for s in [
            SubjectNameStrategy::Record,
            SubjectNameStrategy::TopicRecord,
        ] {
            let e = s.subject("t", SubjectKind::Value, None).unwrap_err();
            assert!(matches!(e, RegistryError::NotARecord { .. }), "{e}");
            assert!(e.to_string().contains(s.as_str()));
        }
        assert_eq!(
            SubjectNameStrategy::Record
                .subject("t", SubjectKind::Key, Some("a.B"))
                .unwrap(),
            "a.B"
        );
        assert_eq!(
            SubjectNameStrategy::TopicRecord
                .subject("t", SubjectKind::Key, Some("a.B"))
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
        assert_eq!(
            "io.confluent.kafka.serializers.subject.TopicRecordNameStrategy"
                .parse::<SubjectNameStrategy>()
                .unwrap(),
            SubjectNameStrategy::TopicRecord
        );
        assert_eq!(
            "record".parse::<SubjectNameStrategy>().unwrap(),
            SubjectNameStrategy::Record
        );
        assert!("nope".parse::<SubjectNameStrategy>().is_err());
    }
}
