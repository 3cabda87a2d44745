//! Records as producers send them, the broker stores them and consumers receive them: the
//! vocabulary is `kcodec-record`'s (one type per concept for the broker, the codecs and the
//! typed clients); what the log keeps is here.

use bytes::Bytes;
pub use kcodec_record::{
    ConsumerRecord, Header, Headers, ProducerRecord, RecordMetadata, TimestampType, TopicPartition,
};

/// One stored record: 80 bytes plus the shared payload buffers.
#[derive(Debug, Clone)]
pub(crate) struct StoredRecord {
    pub(crate) timestamp: i64,
    pub(crate) key: Option<Bytes>,
    pub(crate) value: Option<Bytes>,
    pub(crate) headers: Headers,
}

const _: () = assert!(std::mem::size_of::<StoredRecord>() == 80);
