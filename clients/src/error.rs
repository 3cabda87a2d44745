//! The clients' error type.

use crate::transport::TopicPartition;
use bytes::Bytes;
use kcodec_codecs::{Headers, Target};

/// What went wrong in a typed producer or consumer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The key or value could not be serialized; nothing was sent.
    #[error("cannot serialize the {target} for topic '{topic}'")]
    Serialization {
        /// The record's topic.
        topic: String,
        /// Key or value.
        target: Target,
        /// The codec's error.
        #[source]
        source: Box<kcodec_codecs::Error>,
    },
    /// A fetched record's key or value could not be deserialized.
    #[error(transparent)]
    Deserialization(Box<DeserializationError>),
    /// The in-memory broker refused an operation.
    #[cfg(feature = "memory")]
    #[error("in-memory broker error")]
    Broker(#[source] kcodec_broker::BrokerError),
    /// librdkafka reported an error.
    #[cfg(feature = "rdkafka")]
    #[error("Kafka client error")]
    Kafka(#[source] rdkafka::error::KafkaError),
    /// A transport outside this crate reported an error (kcodec-confluent's over
    /// confluent-kafka): the transport classified it as `kind`, and `source` is its own error,
    /// with its cause chain.
    #[error("Kafka client error")]
    Transport {
        /// What [`ClientError::kind`] returns.
        kind: ErrorKind,
        /// The transport's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// The transport gave up on a record without a broker error (its delivery channel closed).
    #[error("delivery was cancelled: {0}")]
    Cancelled(&'static str),
    /// A record named a negative partition (Kafka's `Invalid partition given with record`);
    /// nothing was serialized or sent. Leave the partition unset to let the partitioner choose.
    #[error("invalid partition {partition} for topic '{topic}': a partition is 0 or more")]
    InvalidPartition {
        /// The record's topic.
        topic: String,
        /// The partition it named.
        partition: i32,
    },
    /// A record carried a negative timestamp (Java's `ProducerRecord` refuses it: "Timestamp
    /// should always be non-negative or null"); nothing was serialized or sent.
    #[error("invalid timestamp {timestamp} for topic '{topic}': a timestamp is 0 or more")]
    InvalidTimestamp {
        /// The record's topic.
        topic: String,
        /// The timestamp it carried.
        timestamp: i64,
    },
    /// An operation was used in a state that does not allow it.
    #[error("illegal state: {0}")]
    IllegalState(String),
}

/// What kind of failure a [`ClientError`] is, the same on every transport (after the Java
/// client's exception families).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A key or value could not be serialized; nothing was sent (`SerializationException`).
    Serialization,
    /// A fetched record could not be deserialized (`RecordDeserializationException`).
    Deserialization,
    /// Trying again may succeed (`RetriableException`: a leader change, too few in-sync
    /// replicas, a timeout, a full queue, a topic not known yet).
    Retriable,
    /// The record itself is refused: a negative partition or timestamp, a partition the topic
    /// lacks, too large, an illegal topic name.
    InvalidRecord,
    /// The group or the consumer's state refused the call (`CommitFailedException`, an unknown
    /// member, a rebalance in progress, `IllegalStateException`).
    State,
    /// The transport gave up on the operation (its client was dropped).
    Cancelled,
    /// Anything else (configuration, offsets without a reset policy, fatal errors).
    Other,
}

impl ClientError {
    /// The transport-neutral kind of this error: one `match` for the in-memory broker and
    /// librdkafka alike.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ClientError::Serialization { .. } => ErrorKind::Serialization,
            ClientError::Deserialization(_) => ErrorKind::Deserialization,
            #[cfg(feature = "memory")]
            ClientError::Broker(e) => broker_kind(e),
            #[cfg(feature = "rdkafka")]
            ClientError::Kafka(e) => kafka_kind(e),
            ClientError::Transport { kind, .. } => *kind,
            ClientError::Cancelled(_) => ErrorKind::Cancelled,
            ClientError::InvalidPartition { .. } | ClientError::InvalidTimestamp { .. } => {
                ErrorKind::InvalidRecord
            }
            ClientError::IllegalState(_) => ErrorKind::State,
        }
    }
}

#[cfg(feature = "memory")]
fn broker_kind(e: &kcodec_broker::BrokerError) -> ErrorKind {
    use kcodec_broker::BrokerError as B;
    if e.is_retriable() {
        return ErrorKind::Retriable;
    }
    match e {
        B::InvalidPartition { .. }
        | B::InvalidTimestamp(_)
        | B::RecordTooLarge
        | B::InvalidTopic(_) => ErrorKind::InvalidRecord,
        B::CommitFailed(_)
        | B::IllegalState(_)
        | B::UnknownMemberId(_)
        | B::InconsistentGroupProtocol(_)
        | B::NonEmptyGroup(_)
        | B::GroupIdNotFound(_)
        | B::InvalidGroupId => ErrorKind::State,
        _ => ErrorKind::Other,
    }
}

#[cfg(feature = "rdkafka")]
fn kafka_kind(e: &rdkafka::error::KafkaError) -> ErrorKind {
    use rdkafka::error::{KafkaError, RDKafkaErrorCode as C};
    if matches!(e, KafkaError::Canceled) {
        return ErrorKind::Cancelled;
    }
    match e.rdkafka_error_code() {
        Some(
            C::QueueFull
            | C::RequestTimedOut
            | C::OperationTimedOut
            | C::NotLeaderForPartition
            | C::NotEnoughReplicas
            | C::NotEnoughReplicasAfterAppend
            | C::LeaderNotAvailable
            | C::NetworkException
            | C::BrokerTransportFailure
            | C::AllBrokersDown
            | C::CoordinatorLoadInProgress
            | C::CoordinatorNotAvailable
            | C::NotCoordinator
            | C::UnknownTopicOrPartition,
        ) => ErrorKind::Retriable,
        Some(
            C::MessageSizeTooLarge
            | C::InvalidMessageSize
            | C::UnknownPartition
            | C::InvalidTimestamp
            | C::InvalidRecord
            | C::InvalidTopic,
        ) => ErrorKind::InvalidRecord,
        Some(
            C::RebalanceInProgress
            | C::IllegalGeneration
            | C::UnknownMemberId
            | C::State
            | C::AssignmentLost,
        ) => ErrorKind::State,
        _ => ErrorKind::Other,
    }
}

#[cfg(feature = "memory")]
impl From<kcodec_broker::BrokerError> for ClientError {
    fn from(e: kcodec_broker::BrokerError) -> Self {
        ClientError::Broker(e)
    }
}

#[cfg(feature = "rdkafka")]
impl From<rdkafka::error::KafkaError> for ClientError {
    fn from(e: rdkafka::error::KafkaError) -> Self {
        ClientError::Kafka(e)
    }
}

/// A record that failed to deserialize: where it is, its raw bytes and the codec's error.
#[derive(Debug, thiserror::Error)]
#[error(
    "cannot deserialize the {target} of the record at {tp} offset {offset}",
    tp = self.topic_partition()
)]
pub struct DeserializationError {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
    /// Which part failed (the key is decoded first).
    pub target: Target,
    /// The raw key bytes (`None` = null).
    pub key: Option<Bytes>,
    /// The raw value bytes (`None` = null).
    pub value: Option<Bytes>,
    /// The record's headers.
    pub headers: Headers,
    /// The codec's error.
    #[source]
    pub source: kcodec_codecs::Error,
}

impl DeserializationError {
    /// The record's topic and partition.
    pub fn topic_partition(&self) -> TopicPartition {
        TopicPartition::new(self.topic.as_str(), self.partition)
    }
}

/// A failed send: the error and the record, handed back so it can be retried or logged.
#[derive(Debug, thiserror::Error)]
#[error("cannot send a record to topic '{}'", self.record.topic)]
pub struct SendError<K, V> {
    /// Why: [`ClientError::Serialization`] (nothing was sent) or a transport error.
    #[source]
    pub error: ClientError,
    /// The record as it was given to `send` (serializers may have added headers).
    pub record: crate::ProducerRecord<K, V>,
}

impl<K, V> SendError<K, V> {
    /// The record back.
    pub fn into_record(self) -> crate::ProducerRecord<K, V> {
        self.record
    }
}

impl<K, V> From<SendError<K, V>> for ClientError {
    fn from(e: SendError<K, V>) -> Self {
        e.error
    }
}
