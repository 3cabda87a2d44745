//! The broker's typed errors, named and worded after Kafka's own exceptions.

use crate::record::TopicPartition;

/// Result alias used throughout the broker.
pub type Result<T, E = BrokerError> = std::result::Result<T, E>;

/// Formats a list of partitions as Kafka prints them: `[t-0, t-1]`.
fn list(parts: &[TopicPartition]) -> String {
    let inner: Vec<String> = parts.iter().map(ToString::to_string).collect();
    format!("[{}]", inner.join(", "))
}

/// Formats `t-0=10` pairs as Kafka prints an offset map: `{t-0=10, t-1=3}`.
fn offset_map(parts: &[(TopicPartition, i64)]) -> String {
    let inner: Vec<String> = parts.iter().map(|(tp, o)| format!("{tp}={o}")).collect();
    format!("{{{}}}", inner.join(", "))
}

/// Everything the in-memory broker can refuse.
///
/// Variant names follow Kafka's exception classes (`TopicExistsException` →
/// [`BrokerError::TopicExists`], …) and messages reproduce Kafka's wording, with the
/// offending name or partition spelled out. The enum is `Clone` so a test can inject the
/// same error into several produce calls ([`crate::Cluster::inject_produce_errors`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BrokerError {
    /// `TopicExistsException`.
    #[error("Topic '{0}' already exists.")]
    TopicExists(String),
    /// `InvalidReplicationFactorException` when the factor exceeds the number of brokers.
    #[error(
        "Unable to replicate the partition {replication_factor} time(s): The target replication factor of {replication_factor} cannot be reached because only {brokers} broker(s) are registered."
    )]
    ReplicationFactorTooLarge {
        /// The requested replication factor.
        replication_factor: i16,
        /// Brokers in the cluster.
        brokers: i32,
    },
    /// `InvalidReplicationFactorException` for a factor below 1.
    #[error("Replication factor must be larger than 0.")]
    InvalidReplicationFactor,
    /// `InvalidPartitionsException` (zero or negative count, or a decrease).
    #[error("{0}")]
    InvalidPartitions(String),
    /// `InvalidTopicException`: illegal name, `.`/`..`, too long, or colliding with another topic.
    #[error("{0}")]
    InvalidTopic(String),
    /// A negative offset to commit (the Java client's `OffsetAndMetadata` refuses it with an
    /// `IllegalArgumentException`).
    #[error("Invalid negative offset {0} for {1}")]
    NegativeOffset(i64, String),
    /// `UnknownTopicOrPartitionException`.
    #[error("This server does not host this topic-partition: {0}")]
    UnknownTopicOrPartition(String),
    /// The producer named a partition the topic does not have (Kafka's `IllegalArgumentException`).
    #[error(
        "Invalid partition given with record: {partition} is not in the range [0...{partitions})."
    )]
    InvalidPartition {
        /// The partition asked for.
        partition: i32,
        /// Partitions the topic has.
        partitions: i32,
    },
    /// A negative record timestamp (Java's `ProducerRecord` constructor refuses it with an
    /// `IllegalArgumentException`).
    #[error("Invalid timestamp: {0}. Timestamp should always be non-negative or null.")]
    InvalidTimestamp(i64),
    /// `NoOffsetForPartitionException`: no committed offset and `auto.offset.reset=none`.
    #[error("Undefined offset with no reset policy for partitions: {}", list(.0))]
    NoOffsetForPartition(Vec<TopicPartition>),
    /// `OffsetOutOfRangeException`: the position is past the log end and `auto.offset.reset=none`.
    #[error("Offsets out of range with no configured reset policy for partitions: {}", offset_map(.0))]
    OffsetOutOfRange(Vec<(TopicPartition, i64)>),
    /// `NotLeaderOrFollowerException` (retriable; for injection).
    #[error(
        "For requests intended only for the leader, this error indicates that the broker is not the current leader. For requests intended for any replica, this error indicates that the broker is not a replica of the topic partition."
    )]
    NotLeaderOrFollower,
    /// `NotEnoughReplicasException` (retriable; for injection).
    #[error("Messages are rejected since there are fewer in-sync replicas than required.")]
    NotEnoughReplicas,
    /// `TimeoutException` (retriable; for injection).
    #[error("The request timed out.")]
    RequestTimedOut,
    /// `RecordTooLargeException` (for injection).
    #[error(
        "The request included a message larger than the max message size the server will accept."
    )]
    RecordTooLarge,
    /// `CoordinatorNotAvailableException` (retriable; for injection into a consumer's group
    /// protocol, see [`crate::Consumer::inject_coordinator_errors`]).
    #[error("The coordinator is not available.")]
    CoordinatorNotAvailable,
    /// Any other injected failure, with a caller-chosen message.
    #[error("Injected failure: {0}")]
    Injected(String),
    /// `GroupIdNotFoundException`.
    #[error("The group id does not exist: {0}")]
    GroupIdNotFound(String),
    /// `GroupNotEmptyException`.
    #[error("The group is not empty: {0}")]
    NonEmptyGroup(String),
    /// `InvalidGroupIdException`: group management used without a `group.id`.
    #[error(
        "To use the group management or offset commit APIs, you must provide a valid group.id in the consumer configuration."
    )]
    InvalidGroupId,
    /// `UnknownMemberIdException`.
    #[error("The coordinator is not aware of this member: {0}")]
    UnknownMemberId(String),
    /// `InconsistentGroupProtocolException`.
    #[error(
        "The group member's supported protocols are incompatible with those of existing members: group '{}' uses '{}', member asked for '{}'.",
        .0.group, .0.group_protocol, .0.member_protocol
    )]
    InconsistentGroupProtocol(Box<ProtocolMismatch>),
    /// `CommitFailedException`: the member's generation is stale or it is no longer in the group.
    #[error(
        "Commit cannot be completed since the group has already rebalanced and assigned the partitions to another member. This means that the time between subsequent calls to poll() was longer than the configured max.poll.interval.ms, which typically implies that the poll loop is spending too much time message processing. (group '{0}')"
    )]
    CommitFailed(String),
    /// `IllegalStateException` from the consumer (e.g. seeking an unassigned partition).
    #[error("{0}")]
    IllegalState(String),
    /// A configuration value is out of range (`ConfigException`).
    #[error("Invalid value {} for configuration {}: {}", .0.value, .0.name, .0.reason)]
    InvalidConfig(Box<InvalidValue>),
}

// Large payloads are boxed so that `Result<RecordMetadata>` (one per record from `send`)
// stays at 40 bytes.
const _: () = assert!(std::mem::size_of::<BrokerError>() <= 32);

/// The details of [`BrokerError::InconsistentGroupProtocol`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolMismatch {
    /// The group.
    pub group: String,
    /// The assignor the group's members use.
    pub group_protocol: String,
    /// The assignor the joining member asked for.
    pub member_protocol: String,
}

/// The details of [`BrokerError::InvalidConfig`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidValue {
    /// Configuration name, Kafka-style (`max.poll.records`).
    pub name: &'static str,
    /// The value given.
    pub value: String,
    /// Why it is refused.
    pub reason: &'static str,
}

impl BrokerError {
    /// Whether Kafka classifies this error as retriable (a producer would retry it).
    pub fn is_retriable(&self) -> bool {
        matches!(
            self,
            BrokerError::NotLeaderOrFollower
                | BrokerError::NotEnoughReplicas
                | BrokerError::RequestTimedOut
                | BrokerError::UnknownTopicOrPartition(_)
                | BrokerError::CoordinatorNotAvailable
        )
    }
}
