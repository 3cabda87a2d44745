//! What a codec sees besides the value: the topic, whether it encodes the key or the value, and the
//! record headers.

pub use kcodec_record::{Header, Headers};

/// Whether a codec is encoding a record's key or its value.
///
/// Schema codecs use it to pick a subject (`<topic>-key` / `<topic>-value`) and a schema-id header
/// (`__key_schema_id` / `__value_schema_id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// The record key.
    Key,
    /// The record value.
    Value,
}

impl Target {
    /// `true` for [`Target::Key`].
    pub fn is_key(self) -> bool {
        matches!(self, Target::Key)
    }

    /// `"key"` or `"value"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Target::Key => "key",
            Target::Value => "value",
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a [`Serializer`](crate::Serializer) sees: the topic, key or value, and the record's
/// headers, which it may change (a schema codec writes its schema id there when asked to).
#[derive(Debug)]
pub struct SerializeContext<'a> {
    topic: &'a str,
    target: Target,
    headers: &'a mut Headers,
}

impl<'a> SerializeContext<'a> {
    /// A context for encoding `target` of a record bound for `topic`.
    pub fn new(topic: &'a str, target: Target, headers: &'a mut Headers) -> Self {
        SerializeContext {
            topic,
            target,
            headers,
        }
    }

    /// The topic the record is for.
    pub fn topic(&self) -> &'a str {
        self.topic
    }

    /// Whether this call encodes the key or the value.
    pub fn target(&self) -> Target {
        self.target
    }

    /// The record's headers so far.
    pub fn headers(&self) -> &Headers {
        self.headers
    }

    /// The record's headers, to add to.
    pub fn headers_mut(&mut self) -> &mut Headers {
        self.headers
    }
}

/// What a [`Deserializer`](crate::Deserializer) sees: the topic, key or value, and the record's
/// headers.
#[derive(Debug, Clone, Copy)]
pub struct DeserializeContext<'a> {
    topic: &'a str,
    target: Target,
    headers: &'a Headers,
}

impl<'a> DeserializeContext<'a> {
    /// A context for decoding `target` of a record read from `topic`.
    pub fn new(topic: &'a str, target: Target, headers: &'a Headers) -> Self {
        DeserializeContext {
            topic,
            target,
            headers,
        }
    }

    /// The topic the record came from.
    pub fn topic(&self) -> &'a str {
        self.topic
    }

    /// Whether this call decodes the key or the value.
    pub fn target(&self) -> Target {
        self.target
    }

    /// The record's headers.
    pub fn headers(&self) -> &'a Headers {
        self.headers
    }
}
