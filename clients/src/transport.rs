//! The transport traits the typed clients are generic over.
//!
//! A transport moves bytes only: the typed [`Producer`](crate::Producer) serializes, then
//! hands a [`ProducerRecord`] of bytes to [`ProducerTransport::enqueue`]; the typed
//! [`Consumer`](crate::Consumer) deserializes the [`ConsumerRecord`] of bytes that
//! [`ConsumerTransport::poll`] returns. Both are the record types of the typed clients (and of
//! the in-memory broker), with their default `Bytes` key and value types. Implementations: [`memory`](crate::memory) (the in-memory
//! broker) and `rdkafka` (feature `rdkafka`).

use crate::ClientError;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// A topic and partition, displayed as Kafka does: `orders-0` (one type for the broker, the
/// typed clients and every transport).
pub use kcodec_record::TopicPartition;
use kcodec_record::{ConsumerRecord, ProducerRecord};

/// Where a transport stored a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivered {
    /// Partition.
    pub partition: i32,
    /// Offset in the partition.
    pub offset: i64,
    /// The stored timestamp in epoch ms, when the transport reports one.
    pub timestamp: Option<i64>,
}

/// A change of a group member's assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RebalanceEvent {
    /// Partitions are being taken away (commit what was processed before they go). Partitions
    /// *lost* (the member was expelled from its group, e.g. after its session timed out) are
    /// reported as revoked too, as Kafka's `onPartitionsLost` defaults to
    /// `onPartitionsRevoked`; [`RebalanceCommitter::lost`] tells them apart.
    Revoked(Vec<TopicPartition>),
    /// Partitions were assigned.
    Assigned(Vec<TopicPartition>),
}

/// What a transport lends its rebalance callback: a synchronous commit while the revoked
/// partitions are still owned (Kafka's `commitSync` inside `onPartitionsRevoked`).
pub trait RebalanceCommitter {
    /// Commits offsets (each the next offset to read). Fails when the partitions were lost.
    fn commit(&mut self, offsets: &[(TopicPartition, i64)]) -> Result<(), ClientError>;

    /// Whether the revoked partitions were lost: the member is no longer in the group, another
    /// member may own them already, and commits fail.
    fn lost(&self) -> bool;

    /// The offset stored for a partition still owned, as
    /// [`ConsumerTransport::stored_offsets`] reports it; `None` when none was.
    fn stored_offset(&self, tp: &TopicPartition) -> Option<i64>;
}

/// A rebalance callback: called on the task that drives the consumer (inside
/// [`ConsumerTransport::poll`] or `close`), with a way to commit before partitions go.
pub type RebalanceCallback = Box<dyn FnMut(&RebalanceEvent, &mut dyn RebalanceCommitter) + Send>;

/// The future that resolves once a transport stored a record (or gave up on it).
pub type DeliveryFuture =
    std::pin::Pin<Box<dyn Future<Output = Result<Delivered, ClientError>> + Send + 'static>>;

/// A record a transport took: resolves to its [`DeliveryFuture`] once the record is in the
/// transport's queue, at once unless the queue is full (then once room was made, or with
/// the error that none was made in time: Java's `send` blocking for `max.block.ms`).
///
/// The record's place in the send order is fixed when [`ProducerTransport::enqueue`] returns,
/// not when this future is polled: a record enqueued later never overtakes it. Dropping this
/// future before it resolves withdraws the record if it is still waiting for room.
#[must_use = "the record is withdrawn if it is still waiting for room"]
pub struct Queued(QueuedState);

type WaitFuture =
    std::pin::Pin<Box<dyn Future<Output = Result<DeliveryFuture, ClientError>> + Send + 'static>>;

enum QueuedState {
    Ready(Option<DeliveryFuture>),
    Waiting(WaitFuture),
}

impl Queued {
    /// A record already in the transport's queue.
    pub fn ready(delivery: DeliveryFuture) -> Self {
        Queued(QueuedState::Ready(Some(delivery)))
    }

    /// A record waiting for room: `wait` resolves once it is in the queue.
    pub fn waiting(
        wait: impl Future<Output = Result<DeliveryFuture, ClientError>> + Send + 'static,
    ) -> Self {
        Queued(QueuedState::Waiting(Box::pin(wait)))
    }

    /// Whether the record is in the transport's queue already (no need to wait for room).
    pub fn is_ready(&self) -> bool {
        matches!(self.0, QueuedState::Ready(_))
    }
}

impl fmt::Debug for Queued {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Queued")
            .field("ready", &self.is_ready())
            .finish()
    }
}

impl Future for Queued {
    type Output = Result<DeliveryFuture, ClientError>;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        match &mut self.get_mut().0 {
            QueuedState::Ready(d) => std::task::Poll::Ready(d.take().ok_or(
                ClientError::IllegalState("Queued polled after it resolved".into()),
            )),
            QueuedState::Waiting(w) => w.as_mut().poll(cx),
        }
    }
}

/// Sends serialized records.
pub trait ProducerTransport: Send + Sync + 'static {
    /// Takes a record; an error here means it was not accepted. Its order among the records
    /// of this transport is fixed by this call: the returned [`Queued`] resolves (to the
    /// delivery future) once the record is in the transport's queue, waiting for room when the
    /// queue is full (the rdkafka transport does, up to its `max.block.ms`), and records taken
    /// later wait behind it. A record with a negative explicit partition is refused with
    /// [`ClientError::InvalidPartition`].
    fn enqueue(&self, record: ProducerRecord) -> Result<Queued, ClientError>;

    /// Waits until every accepted record is delivered or failed, records still waiting for
    /// room in a full queue included (the rdkafka transport sends those itself, in order, as
    /// room frees up), all within `timeout`; off the runtime's worker threads. A record whose
    /// [`Queued`] was dropped before it was in the queue is not waited for.
    fn flush(&self, timeout: Duration) -> impl Future<Output = Result<(), ClientError>> + Send;
}

/// Fetches serialized records, in a group or from assigned partitions.
///
/// The typed [`Consumer`](crate::Consumer) calls [`store_offset`](Self::store_offset) for every
/// record it hands to the application (and for a seek); the transport is the one place that
/// keeps those offsets. Every commit uses them, never the fetch position, so a record fetched
/// but not yet returned is never committed past: the transport's own (auto-commit, commits
/// before partitions are revoked, on close) and the typed consumer's
/// [`commit`](crate::Consumer::commit), which reads them with
/// [`stored_offsets`](Self::stored_offsets) (a rebalance callback with
/// [`RebalanceCommitter::stored_offset`]).
pub trait ConsumerTransport: Send + 'static {
    /// Joins the consumer's group with a subscription to `topics`.
    fn subscribe(&mut self, topics: &[&str]) -> Result<(), ClientError>;

    /// Reads `partitions` without group management, from their committed offsets (or the
    /// reset policy).
    fn assign(&mut self, partitions: &[TopicPartition]) -> Result<(), ClientError>;

    /// The next record, waiting up to `timeout`; `None` when none came. Runs group
    /// coordination (rebalance callbacks included).
    ///
    /// Must be cancel-safe: when the future is dropped before it completes, no record is lost
    /// (the next call returns it).
    fn poll(
        &mut self,
        timeout: Duration,
    ) -> impl Future<Output = Result<Option<ConsumerRecord>, ClientError>> + Send;

    /// Runs group coordination (heartbeat, rebalances and their callbacks, auto-commit)
    /// without fetching, where the transport can. The typed consumer does not rely on it: at a
    /// record that failed to deserialize it seeks back and keeps calling
    /// [`poll`](Self::poll), which serves the group protocol; it calls this only in the rare
    /// case where that seek failed and it holds the record itself. The default does nothing;
    /// the rdkafka transport keeps the default (librdkafka heartbeats on its own threads, but
    /// runs rebalance callbacks and resets `max.poll.interval.ms` only in `poll`).
    fn coordinate(&mut self) -> Result<(), ClientError> {
        Ok(())
    }

    /// Records that the application has consumed `partition` of `topic` up to `next_offset`
    /// (the offset after the last record returned): what auto-commit, the commit before
    /// partitions are revoked and `close` commit. A partition no longer assigned is ignored.
    fn store_offset(&mut self, topic: &Arc<str>, partition: i32, next_offset: i64);

    /// The offsets stored with [`store_offset`](Self::store_offset) (each the next offset to
    /// read) of the assigned partitions that have one, sorted. The transport is the one place
    /// that keeps what the application consumed: the typed consumer's
    /// [`commit`](crate::Consumer::commit) commits these and its
    /// [`consumed_positions`](crate::Consumer::consumed_positions) reports them. A partition
    /// revoked, lost or no longer assigned loses its offset.
    fn stored_offsets(&self) -> Vec<(TopicPartition, i64)>;

    /// Commits offsets (the next offset to read) and waits for the outcome (Kafka's
    /// `commitSync`), off the runtime's worker threads.
    fn commit(
        &mut self,
        offsets: &[(TopicPartition, i64)],
    ) -> impl Future<Output = Result<(), ClientError>> + Send;

    /// The group's committed offsets for `partitions` (`None`: nothing committed), off the
    /// runtime's worker threads.
    fn committed(
        &mut self,
        partitions: &[TopicPartition],
    ) -> impl Future<Output = Result<Vec<(TopicPartition, Option<i64>)>, ClientError>> + Send;

    /// Moves an assigned partition's position; records fetched from it but not yet returned
    /// are dropped. Does not wait for the broker (Java's `seek` only sets the position the
    /// next `poll` fetches from; the rdkafka transport seeks asynchronously).
    fn seek(&mut self, tp: &TopicPartition, offset: i64) -> Result<(), ClientError>;

    /// Moves assigned partitions to their first offset (without waiting, as `seek`).
    fn seek_to_beginning(&mut self, partitions: &[TopicPartition]) -> Result<(), ClientError>;

    /// Moves assigned partitions to their end, the next record produced (without waiting, as
    /// `seek`).
    fn seek_to_end(&mut self, partitions: &[TopicPartition]) -> Result<(), ClientError>;

    /// The offset of the next record [`poll`](Self::poll) returns from an assigned partition;
    /// `None` while it is not known yet (nothing fetched and no committed offset resolved).
    fn position(&mut self, tp: &TopicPartition) -> Result<Option<i64>, ClientError>;

    /// Stops returning records of assigned partitions until [`resume`](Self::resume); records
    /// fetched from them but not yet returned are fetched again after the resume.
    fn pause(&mut self, partitions: &[TopicPartition]) -> Result<(), ClientError>;

    /// Resumes paused partitions.
    fn resume(&mut self, partitions: &[TopicPartition]) -> Result<(), ClientError>;

    /// The current assignment.
    fn assignment(&self) -> Result<Vec<TopicPartition>, ClientError>;

    /// Installs the rebalance callback; call before [`subscribe`](Self::subscribe).
    fn set_rebalance_callback(&mut self, callback: RebalanceCallback);

    /// Closes the consumer: commits the stored offsets when auto-commit is on, runs the
    /// revocation callback and leaves the group, off the runtime's worker threads. Dropping
    /// the transport does the same, without reporting errors.
    fn close(self) -> impl Future<Output = Result<(), ClientError>> + Send
    where
        Self: Sized,
    {
        drop(self);
        std::future::ready(Ok(()))
    }
}

/// Kafka refuses an explicit negative partition and a negative timestamp (Java's
/// `ProducerRecord` constructor); both transports and the typed producer check them the same
/// way, before anything is serialized or sent.
pub fn check_record(
    topic: &str,
    partition: Option<i32>,
    timestamp: Option<i64>,
) -> Result<(), ClientError> {
    match (partition, timestamp) {
        (Some(p), _) if p < 0 => Err(ClientError::InvalidPartition {
            topic: topic.to_owned(),
            partition: p,
        }),
        (_, Some(ts)) if ts < 0 => Err(ClientError::InvalidTimestamp {
            topic: topic.to_owned(),
            timestamp: ts,
        }),
        _ => Ok(()),
    }
}
