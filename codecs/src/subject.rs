//! Subject naming and schema-id placement shared by the schema codecs (Protobuf, JSON Schema).

/// How the subject a schema is registered under is named (Confluent's `subject.name.strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SubjectNameStrategy {
    /// `<topic>-key` or `<topic>-value` (the default).
    #[default]
    Topic,
    /// The record's full name: `package.Message` for Protobuf, the schema's `title` for JSON
    /// Schema.
    Record,
    /// `<topic>-<record name>`.
    TopicRecord,
}

impl SubjectNameStrategy {
    /// The subject for `topic`'s key or value whose record name is `record_name`.
    ///
    /// ```
    /// use kcodec_codecs::subject::SubjectNameStrategy;
    /// assert_eq!(SubjectNameStrategy::Topic.subject("orders", false, "shop.Order"), "orders-value");
    /// assert_eq!(SubjectNameStrategy::Record.subject("orders", true, "shop.Order"), "shop.Order");
    /// assert_eq!(SubjectNameStrategy::TopicRecord.subject("orders", false, "shop.Order"), "orders-shop.Order");
    /// ```
    pub fn subject(self, topic: &str, is_key: bool, record_name: &str) -> String {
        match self {
            SubjectNameStrategy::Topic => {
                format!("{topic}-{}", if is_key { "key" } else { "value" })
            }
            SubjectNameStrategy::Record => record_name.to_owned(),
            SubjectNameStrategy::TopicRecord => format!("{topic}-{record_name}"),
        }
    }
}

/// Where the writer schema's id goes (Confluent's `schema.id.serializer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SchemaIdFormat {
    /// `0x00` + the 4-byte big-endian id before the payload (Confluent's default).
    #[default]
    Prefix,
    /// A `__key_schema_id`/`__value_schema_id` header holding `0x01` + the schema's GUID (and,
    /// for Protobuf, the message indexes); the payload has no prefix.
    Header,
}
