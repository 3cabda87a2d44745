//! What a codec sees besides the value: the topic, whether it encodes the key or the value, and the
//! record headers.

use bytes::Bytes;

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

/// One record header: a string key and an optional byte value, as in Kafka.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Header {
    /// The header key.
    pub key: String,
    /// The header value; `None` is a null header value.
    pub value: Option<Bytes>,
}

/// A record's headers: ordered, with repeated keys allowed, as Kafka's `RecordHeaders`.
///
/// ```
/// use kcodec_codecs::Headers;
///
/// let mut headers = Headers::new();
/// headers.add("trace", &b"a"[..]);
/// headers.add("trace", &b"b"[..]);
/// assert_eq!(headers.last("trace").unwrap().as_ref(), b"b");
/// assert_eq!(headers.len(), 2);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Headers {
    entries: Vec<Header>,
}

impl Headers {
    /// No headers.
    pub const fn new() -> Self {
        Headers {
            entries: Vec::new(),
        }
    }

    /// Appends a header, keeping any earlier one with the same key.
    pub fn add(&mut self, key: impl Into<String>, value: impl Into<Bytes>) -> &mut Self {
        self.push(Header {
            key: key.into(),
            value: Some(value.into()),
        })
    }

    /// Appends a header as it is (its value may be null).
    pub fn push(&mut self, header: Header) -> &mut Self {
        self.entries.push(header);
        self
    }

    /// Removes every header with this key, then appends one: what a codec does when it writes
    /// a header that must appear once, such as a schema id.
    pub fn set(&mut self, key: &str, value: impl Into<Bytes>) -> &mut Self {
        self.remove(key);
        self.add(key, value)
    }

    /// Removes every header with this key.
    pub fn remove(&mut self, key: &str) {
        self.entries.retain(|h| h.key != key);
    }

    /// The value of the last header with this key (Kafka's `lastHeader`), if it has a non-null value.
    pub fn last(&self, key: &str) -> Option<&Bytes> {
        self.entries
            .iter()
            .rev()
            .find(|h| h.key == key)
            .and_then(|h| h.value.as_ref())
    }

    /// Every header, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Header> {
        self.entries.iter()
    }

    /// How many headers there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Removes every header, keeping the allocation.
    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

impl From<Vec<Header>> for Headers {
    fn from(entries: Vec<Header>) -> Self {
        Headers { entries }
    }
}

impl From<Headers> for Vec<Header> {
    fn from(headers: Headers) -> Self {
        headers.entries
    }
}

impl<'a> IntoIterator for &'a Headers {
    type Item = &'a Header;
    type IntoIter = std::slice::Iter<'a, Header>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter()
    }
}

impl IntoIterator for Headers {
    type Item = Header;
    type IntoIter = std::vec::IntoIter<Header>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<K: Into<String>, V: Into<Bytes>> FromIterator<(K, V)> for Headers {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Headers {
            entries: iter
                .into_iter()
                .map(|(k, v)| Header {
                    key: k.into(),
                    value: Some(v.into()),
                })
                .collect(),
        }
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
