//! Record headers: what serializers write, the broker stores and consumers read, one type.

use bytes::Bytes;
use std::ops::Deref;
use std::sync::Arc;

/// A record header. Keys may repeat; order is kept (Kafka's `RecordHeader`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Header {
    /// Header key.
    pub key: String,
    /// Header value; `None` is a null value, distinct from empty.
    pub value: Option<Bytes>,
}

impl Header {
    /// Builds a header.
    pub fn new(key: impl Into<String>, value: Option<Bytes>) -> Self {
        Header {
            key: key.into(),
            value,
        }
    }
}

/// A record's headers: ordered, repeated keys allowed (Kafka's `RecordHeaders`). Derefs to
/// `[Header]` (`iter`, `len`, `is_empty`…).
///
/// One pointer wide and shared: a clone costs a reference count, so the headers a serializer
/// wrote reach the broker's log, and from it every consumer, without a copy (the broker keeps a
/// stored record at 80 bytes). A change to headers shared with a clone copies them first
/// (copy-on-write); headers held once change in place.
///
/// ```
/// use kcodec_record::Headers;
///
/// let mut headers = Headers::new();
/// headers.add("trace", &b"a"[..]);
/// headers.add("trace", &b"b"[..]);
/// assert_eq!(headers.last("trace").unwrap().as_ref(), b"b");
/// assert_eq!(headers.headers("trace").count(), 2);
/// assert_eq!(headers.len(), 2);
///
/// let stored = headers.clone(); // shares the list
/// headers.set("trace", &b"c"[..]); // copies it, then replaces both `trace` headers
/// assert_eq!((stored.len(), headers.len()), (2, 1));
/// ```
#[derive(Clone, Default)]
pub struct Headers(Option<Arc<Vec<Header>>>);

impl Headers {
    /// No headers (allocates nothing).
    pub const fn new() -> Self {
        Headers(None)
    }

    /// The list, to change: created when there is none, copied first when shared.
    fn entries_mut(&mut self) -> &mut Vec<Header> {
        Arc::make_mut(self.0.get_or_insert_with(Default::default))
    }

    /// Appends a header, keeping any earlier one with the same key (Kafka's `add`).
    pub fn add(&mut self, key: impl Into<String>, value: impl Into<Bytes>) -> &mut Self {
        self.push(Header {
            key: key.into(),
            value: Some(value.into()),
        })
    }

    /// Appends a header as it is (its value may be null).
    pub fn push(&mut self, header: Header) -> &mut Self {
        self.entries_mut().push(header);
        self
    }

    /// Removes every header with this key, then appends one: what a codec does when it writes
    /// a header that must appear once, such as a schema id.
    pub fn set(&mut self, key: &str, value: impl Into<Bytes>) -> &mut Self {
        self.remove(key);
        self.add(key, value)
    }

    /// Removes every header with this key (Kafka's `remove`); headers shared with a clone are
    /// copied only when one matches.
    pub fn remove(&mut self, key: &str) {
        if self.iter().any(|h| h.key == key) {
            self.entries_mut().retain(|h| h.key != key);
        }
    }

    /// Removes every header (the list, if held once, is kept for reuse).
    pub fn clear(&mut self) {
        match self.0.as_mut().and_then(Arc::get_mut) {
            Some(entries) => entries.clear(),
            None => self.0 = None,
        }
    }

    /// The last header with this key (Kafka's `Headers.lastHeader`).
    pub fn last_header(&self, key: &str) -> Option<&Header> {
        self.iter().rev().find(|h| h.key == key)
    }

    /// The value of the last header with this key, when that value is not null.
    pub fn last(&self, key: &str) -> Option<&Bytes> {
        self.last_header(key).and_then(|h| h.value.as_ref())
    }

    /// All headers with this key, in order (Kafka's `Headers.headers(key)`).
    pub fn headers<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a Header> + 'a {
        self.iter().filter(move |h| h.key == key)
    }
}

impl Deref for Headers {
    type Target = [Header];
    fn deref(&self) -> &[Header] {
        match &self.0 {
            Some(h) => h,
            None => &[],
        }
    }
}

impl std::fmt::Debug for Headers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Equal when they hold the same headers in the same order (shared or not).
impl PartialEq for Headers {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for Headers {}

impl std::hash::Hash for Headers {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (**self).hash(state)
    }
}

impl From<Vec<Header>> for Headers {
    /// Takes the `Vec` as it is (no copy).
    fn from(entries: Vec<Header>) -> Self {
        if entries.is_empty() {
            Headers(None)
        } else {
            Headers(Some(Arc::new(entries)))
        }
    }
}

impl From<Headers> for Vec<Header> {
    /// The list, copied only when shared.
    fn from(headers: Headers) -> Self {
        headers.0.map(Arc::unwrap_or_clone).unwrap_or_default()
    }
}

impl<'a> IntoIterator for &'a Headers {
    type Item = &'a Header;
    type IntoIter = std::slice::Iter<'a, Header>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl IntoIterator for Headers {
    type Item = Header;
    type IntoIter = std::vec::IntoIter<Header>;
    fn into_iter(self) -> Self::IntoIter {
        Vec::from(self).into_iter()
    }
}

impl FromIterator<Header> for Headers {
    fn from_iter<I: IntoIterator<Item = Header>>(iter: I) -> Self {
        Headers::from(iter.into_iter().collect::<Vec<_>>())
    }
}

/// Headers with non-null values from `(key, value)` pairs.
impl<K: Into<String>, V: Into<Bytes>> FromIterator<(K, V)> for Headers {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        iter.into_iter()
            .map(|(k, v)| Header::new(k, Some(v.into())))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_pointer_wide() {
        assert_eq!(std::mem::size_of::<Headers>(), std::mem::size_of::<usize>());
    }

    #[test]
    fn a_clone_shares_and_a_change_copies_on_write() {
        let mut a: Headers = [("k", "1")].into_iter().collect();
        let b = a.clone();
        assert!(
            std::ptr::eq(a.as_ptr(), b.as_ptr()),
            "a clone shares the list"
        );
        a.add("k", "2");
        assert_eq!(b.len(), 1, "the clone is unchanged");
        assert_eq!(a.headers("k").count(), 2);
        let before = a.as_ptr();
        a.add("x", "3");
        a.remove("missing");
        assert!(
            std::ptr::eq(before, a.as_ptr()),
            "held once: changed in place"
        );
    }

    /// Kafka's `RecordHeaders`: `lastHeader` sees null values, `remove` drops every header of
    /// the key, order is kept.
    #[test]
    fn follows_record_headers() {
        let mut h = Headers::new();
        h.add("a", "1").push(Header::new("a", None)).add("b", "2");
        assert_eq!(h.last_header("a"), Some(&Header::new("a", None)));
        assert_eq!(h.last("a"), None, "the last `a` is null");
        h.set("a", "3");
        let keys: Vec<_> = h.iter().map(|h| h.key.as_str()).collect();
        assert_eq!(keys, ["b", "a"]);
        h.remove("a");
        h.remove("b");
        assert!(h.is_empty());
        assert_eq!(h, Headers::new(), "empty equals none");
        h.add("c", "4");
        h.clear();
        assert!(h.is_empty());
    }
}
