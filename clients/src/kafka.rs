//! The rdkafka transport (feature `rdkafka`): librdkafka's `FutureProducer` and `StreamConsumer`
//! under the typed clients.
//!
//! Configuration follows rdkafka's [`ClientConfig`] idiom: build one (or start from
//! [`producer_config`] / [`consumer_config`]) and pass it in. Producers default to
//! `partitioner=murmur2_random`, librdkafka's Java-compatible partitioner: a key goes to
//! `murmur2(key) % partitions` as with the Java client (and the in-memory broker), and keyless
//! records are spread randomly. Set `partitioner` yourself to override it.
//!
//! Producers block like Java's `max.block.ms`: when librdkafka's queue is full
//! (`queue.buffering.max.messages` / `queue.buffering.max.kbytes`), a send waits for room, up to
//! [`DEFAULT_MAX_BLOCK`] or the `max.block.ms` given in the config (a kcodec setting, taken out
//! of the config before librdkafka sees it), and only then fails with `QueueFull`.
//!
//! Consumers commit what the typed consumer returned, never what librdkafka merely fetched:
//! [`KafkaConsumer`] always runs with `enable.auto.offset.store=false` and stores the offset
//! of each record as it is handed to the application, so librdkafka's auto-commit (on by
//! default, as in Kafka), its commit when partitions are revoked and its commit on close all
//! use those offsets.
//!
//! A consumer never outlives a `TopicPartitionList` taken from it here: every list is built and
//! dropped inside one call, since destroying a consumer while such a list is alive hangs
//! librdkafka.

use crate::ClientError;
use crate::transport::{
    ConsumerTransport, Delivered, DeliveryFuture, ProducerTransport, Queued, RebalanceCallback,
    RebalanceCommitter, RebalanceEvent, TopicPartition, check_record,
};
use kcodec_record::{ConsumerRecord, Header, Headers, ProducerRecord, TimestampType};
use parking_lot::Mutex;
pub use rdkafka::ClientConfig;
use rdkafka::Offset;
use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer as _, ConsumerContext, Rebalance, StreamConsumer,
};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header as KHeader, Headers as _, Message, OwnedHeaders};
use rdkafka::producer::{
    DeliveryFuture as DeliveryFutureRd, FutureProducer, FutureRecord, Producer as _,
};
use rdkafka::types::RDKafkaConfRes;
use rdkafka::{ClientContext, TopicPartitionList};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// How long metadata calls (committed offsets, seeks) may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// A producer config for `bootstrap_servers` with the Java-compatible partitioner.
pub fn producer_config(bootstrap_servers: &str) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", bootstrap_servers)
        .set("partitioner", "murmur2_random");
    c
}

/// A consumer config for `bootstrap_servers` and `group.id` with Kafka's defaults, spelled out:
/// `enable.auto.commit=true` (commits the offsets of records the typed consumer returned, see
/// the [module documentation](self)) and `auto.offset.reset=latest`, the same defaults as the
/// in-memory transport's `ConsumerConfig::new`. Set either to change it.
pub fn consumer_config(bootstrap_servers: &str, group_id: &str) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", bootstrap_servers)
        .set("group.id", group_id)
        .set("enable.auto.commit", "true")
        .set("auto.offset.reset", "latest");
    c
}

/// How long a send waits for room in a full producer queue by default (Java's `max.block.ms`).
pub const DEFAULT_MAX_BLOCK: Duration = Duration::from_secs(60);

/// A [`ProducerTransport`] over rdkafka's `FutureProducer`.
pub struct KafkaProducer {
    producer: FutureProducer,
    max_block: Duration,
    /// Records waiting for room in librdkafka's queue, oldest first.
    waiting: Arc<WaitList>,
}

/// Records waiting for room in librdkafka's queue, oldest first. Only the oldest is ever
/// offered to librdkafka, so none overtakes an earlier one (per-key order, as Java's `send`
/// keeps by blocking the caller).
type WaitList = Mutex<std::collections::VecDeque<Arc<Mutex<Waiting>>>>;

/// A record waiting for room in librdkafka's queue.
struct Waiting {
    topic: String,
    partition: Option<i32>,
    key: Option<bytes::Bytes>,
    value: Option<bytes::Bytes>,
    timestamp: Option<i64>,
    headers: Option<OwnedHeaders>,
    /// Set once it is sent (or refused for good).
    sent: Option<Result<DeliveryFutureRd, KafkaError>>,
}

impl Waiting {
    /// Tries to send it; `false` while librdkafka's queue is still full.
    fn try_send(&mut self, producer: &FutureProducer) -> bool {
        let fr = future_record(
            &self.topic,
            self.partition,
            self.key.as_deref(),
            self.value.as_deref(),
            self.timestamp,
            self.headers.take(),
        );
        match producer.send_result(fr) {
            Ok(fut) => self.sent = Some(Ok(fut)),
            Err((e, rec)) if is_queue_full(&e) => {
                self.headers = rec.headers;
                return false;
            }
            Err((e, _)) => self.sent = Some(Err(e)),
        }
        true
    }
}

/// Sends waiting records, oldest first, until librdkafka's queue is full; `true` when none is
/// left waiting.
fn send_waiting(producer: &FutureProducer, list: &WaitList) -> bool {
    let mut list = list.lock();
    while let Some(front) = list.front() {
        if !front.lock().try_send(producer) {
            return false;
        }
        list.pop_front();
    }
    true
}

/// Takes a waiting record off the list when its future ends or is dropped.
struct WaitGuard {
    list: Arc<WaitList>,
    slot: Arc<Mutex<Waiting>>,
}

impl Drop for WaitGuard {
    fn drop(&mut self) {
        self.list.lock().retain(|s| !Arc::ptr_eq(s, &self.slot));
    }
}

impl std::fmt::Debug for KafkaProducer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaProducer").finish_non_exhaustive()
    }
}

impl KafkaProducer {
    /// Creates the producer; `partitioner` defaults to `murmur2_random`. A `max.block.ms`
    /// entry (milliseconds) sets [`max_block`](Self::max_block) and is removed before
    /// librdkafka, which has no such setting, sees the config.
    pub fn new(config: &ClientConfig) -> Result<Self, ClientError> {
        let mut config = config.clone();
        if config.get("partitioner").is_none() {
            config.set("partitioner", "murmur2_random");
        }
        let max_block = match config.get("max.block.ms") {
            None => DEFAULT_MAX_BLOCK,
            Some(ms) => {
                let ms: u64 = ms.trim().parse().map_err(|_| {
                    ClientError::Kafka(KafkaError::ClientConfig(
                        RDKafkaConfRes::RD_KAFKA_CONF_INVALID,
                        format!("max.block.ms must be a number of milliseconds, not '{ms}'"),
                        "max.block.ms".into(),
                        ms.into(),
                    ))
                })?;
                Duration::from_millis(ms)
            }
        };
        config.remove("max.block.ms");
        Ok(KafkaProducer {
            producer: config.create()?,
            max_block,
            waiting: Arc::default(),
        })
    }

    /// How long a send waits for room when librdkafka's queue is full before it fails with
    /// `QueueFull` (Java's `max.block.ms`; default [`DEFAULT_MAX_BLOCK`]; zero fails at once).
    pub fn max_block(mut self, max_block: Duration) -> Self {
        self.max_block = max_block;
        self
    }

    /// rdkafka's producer underneath.
    pub fn inner(&self) -> &FutureProducer {
        &self.producer
    }
}

/// kcodec [`Headers`] as rdkafka's (in order, repeated keys kept; `None` when there are none,
/// so that no empty header block is sent).
pub fn to_kafka_headers(headers: &Headers) -> Option<OwnedHeaders> {
    if headers.is_empty() {
        return None;
    }
    let mut out = OwnedHeaders::new_with_capacity(headers.len());
    for h in headers.iter() {
        out = out.insert(KHeader {
            key: h.key.as_str(),
            value: h.value.as_deref(),
        });
    }
    Some(out)
}

fn future_record<'a>(
    topic: &'a str,
    partition: Option<i32>,
    key: Option<&'a [u8]>,
    value: Option<&'a [u8]>,
    timestamp: Option<i64>,
    headers: Option<OwnedHeaders>,
) -> FutureRecord<'a, [u8], [u8]> {
    let mut fr: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(topic);
    if let Some(k) = key {
        fr = fr.key(k);
    }
    if let Some(v) = value {
        fr = fr.payload(v);
    }
    if let Some(p) = partition {
        fr = fr.partition(p);
    }
    if let Some(ts) = timestamp {
        fr = fr.timestamp(ts);
    }
    if let Some(h) = headers {
        fr = fr.headers(h);
    }
    fr
}

fn is_queue_full(e: &KafkaError) -> bool {
    matches!(
        e,
        KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull)
    )
}

async fn delivered(fut: DeliveryFutureRd) -> Result<Delivered, ClientError> {
    match fut.await {
        Ok(Ok(d)) => Ok(Delivered {
            partition: d.partition,
            offset: d.offset,
            timestamp: d.timestamp.to_millis(),
        }),
        Ok(Err((e, _))) => Err(ClientError::Kafka(e)),
        Err(_) => Err(ClientError::Cancelled("the producer was dropped")),
    }
}

impl ProducerTransport for KafkaProducer {
    /// Hands the record to librdkafka (which copies key and value) unless records are waiting
    /// for room already: then, or when librdkafka's queue is full, the record waits behind
    /// them, and the returned [`Queued`] resolves once it is in librdkafka's queue (records
    /// are offered oldest first, by whichever waiting future or `flush` runs, with a short
    /// backoff between tries while librdkafka's background thread delivers). A record still
    /// waiting after [`max_block`](KafkaProducer::max_block) fails with `QueueFull`.
    /// [`flush`](ProducerTransport::flush) sends waiting records too (even when their futures
    /// are not polled meanwhile); dropping the [`Queued`] before the record was sent
    /// withdraws it.
    fn enqueue(&self, record: ProducerRecord) -> Result<Queued, ClientError> {
        check_record(&record.topic, record.partition, record.timestamp)?;
        let ProducerRecord {
            topic,
            partition,
            key,
            value,
            headers,
            timestamp,
        } = record;
        // Holding the list from the check to the push: no record slips in between.
        let mut list = self.waiting.lock();
        let headers = to_kafka_headers(&headers);
        let headers = if list.is_empty() {
            let fr = future_record(
                &topic,
                partition,
                key.as_deref(),
                value.as_deref(),
                timestamp,
                headers,
            );
            match self.producer.send_result(fr) {
                Ok(fut) => return Ok(Queued::ready(Box::pin(delivered(fut)))),
                Err((e, rec)) if is_queue_full(&e) && !self.max_block.is_zero() => rec.headers,
                Err((e, _)) => return Err(e.into()),
            }
        } else {
            headers
        };
        let slot = Arc::new(Mutex::new(Waiting {
            topic: topic.to_string(),
            partition,
            key,
            value,
            timestamp,
            headers,
            sent: None,
        }));
        list.push_back(slot.clone());
        drop(list);
        let producer = self.producer.clone();
        // Takes the record off the waiting list when the future ends or is dropped (a
        // dropped send is not sent by `flush` either).
        let guard = WaitGuard {
            list: self.waiting.clone(),
            slot,
        };
        // `max.block.ms` too large to represent (Java's `Long.MAX_VALUE`, `Duration::MAX`)
        // waits without a deadline.
        let deadline = tokio::time::Instant::now().checked_add(self.max_block);
        Ok(Queued::waiting(async move {
            let mut backoff = Duration::from_millis(1);
            loop {
                let now = tokio::time::Instant::now();
                // Past the deadline (also when the future is first polled late), one last try
                // before giving up.
                let last = deadline.is_some_and(|d| now >= d);
                send_waiting(&producer, &guard.list);
                // Sent by this try, another waiting future's or `flush`.
                let sent = guard.slot.lock().sent.take();
                if let Some(sent) = sent {
                    let fut = sent.map_err(ClientError::Kafka)?;
                    return Ok(Box::pin(delivered(fut)) as DeliveryFuture);
                }
                if last {
                    return Err(ClientError::Kafka(KafkaError::MessageProduction(
                        RDKafkaErrorCode::QueueFull,
                    )));
                }
                let left = deadline.map_or(backoff, |d| d - now);
                tokio::time::sleep(backoff.min(left)).await;
                backoff = (backoff * 2).min(Duration::from_millis(50));
            }
        }))
    }

    /// Sends the records waiting for room in librdkafka's queue (oldest first), each time
    /// librdkafka's `flush` emptied its queue, until none is left, then waits for librdkafka's
    /// queue to drain, all within `timeout`. librdkafka's `flush` blocks: it runs on a
    /// blocking thread (`spawn_blocking`), off the runtime's workers. A send whose future was
    /// dropped is not waited for.
    async fn flush(&self, timeout: Duration) -> Result<(), ClientError> {
        let deadline = std::time::Instant::now().checked_add(timeout);
        loop {
            let none_waiting = send_waiting(&self.producer, &self.waiting);
            let left = deadline.map_or(timeout, |d| {
                d.saturating_duration_since(std::time::Instant::now())
            });
            let producer = self.producer.clone();
            let flushed = tokio::task::spawn_blocking(move || producer.flush(left))
                .await
                .map_err(|_| ClientError::Cancelled("librdkafka's flush did not finish"))?;
            flushed?;
            if none_waiting {
                return Ok(());
            }
            // librdkafka's queue is empty: the next round sends at least one waiting record.
            if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
                return Err(ClientError::Kafka(KafkaError::Flush(
                    RDKafkaErrorCode::OperationTimedOut,
                )));
            }
        }
    }
}

/// The consumer context: forwards rebalances to the callback.
pub struct KcodecContext {
    callback: Arc<Mutex<Option<RebalanceCallback>>>,
    /// The offsets the typed consumer stored, as given to `rd_kafka_offsets_store`: librdkafka
    /// commits its copy (auto-commit, close) but has no call that reads it back.
    stored: Mutex<HashMap<TopicPartition, i64>>,
}

impl ClientContext for KcodecContext {}

fn tpl_to_vec(tpl: &TopicPartitionList) -> Vec<TopicPartition> {
    tpl.elements()
        .iter()
        .map(|e| TopicPartition::new(e.topic(), e.partition()))
        .collect()
}

fn commit_tpl(offsets: &[(TopicPartition, i64)]) -> Result<TopicPartitionList, ClientError> {
    let mut tpl = TopicPartitionList::with_capacity(offsets.len());
    for (tp, o) in offsets {
        tpl.add_partition_offset(&tp.topic, tp.partition, Offset::Offset(*o))?;
    }
    Ok(tpl)
}

/// librdkafka's consumer inside a rebalance callback as a [`RebalanceCommitter`].
struct Committer<'a> {
    consumer: &'a BaseConsumer<KcodecContext>,
    stored: &'a Mutex<HashMap<TopicPartition, i64>>,
    lost: bool,
}

impl RebalanceCommitter for Committer<'_> {
    fn commit(&mut self, offsets: &[(TopicPartition, i64)]) -> Result<(), ClientError> {
        if self.lost {
            return Err(ClientError::IllegalState(
                "cannot commit: the partitions were lost (the member left its group)".into(),
            ));
        }
        let tpl = commit_tpl(offsets)?;
        Ok(self.consumer.commit(&tpl, CommitMode::Sync)?)
    }

    fn lost(&self) -> bool {
        self.lost
    }

    fn stored_offset(&self, tp: &TopicPartition) -> Option<i64> {
        self.stored.lock().get(tp).copied()
    }
}

impl KcodecContext {
    fn call(&self, consumer: &BaseConsumer<Self>, event: RebalanceEvent, lost: bool) {
        let cb = self.callback.lock().take();
        if let Some(mut cb) = cb {
            let stored = &self.stored;
            cb(
                &event,
                &mut Committer {
                    consumer,
                    stored,
                    lost,
                },
            );
            let mut slot = self.callback.lock();
            if slot.is_none() {
                *slot = Some(cb);
            }
        }
    }
}

impl ConsumerContext for KcodecContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(tpl) = rebalance {
            let lost = consumer.assignment_lost();
            let revoked = tpl_to_vec(tpl);
            self.call(consumer, RebalanceEvent::Revoked(revoked.clone()), lost);
            let mut stored = self.stored.lock();
            for tp in &revoked {
                stored.remove(tp);
            }
        }
    }

    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(tpl) = rebalance {
            self.call(consumer, RebalanceEvent::Assigned(tpl_to_vec(tpl)), false);
        }
    }
}

/// A [`ConsumerTransport`] over rdkafka's `StreamConsumer`.
///
/// librdkafka calls that wait for the broker (a synchronous commit, `committed`, closing)
/// run on tokio's blocking threads, off the runtime's workers; seeks are asynchronous in
/// librdkafka (as Java's `seek` sets the position the next poll fetches from).
///
/// Dropping the consumer closes it before the drop returns (librdkafka commits the stored
/// offsets, runs the revocation callback and leaves the group, as Java's `close`). On a
/// multi-thread tokio runtime's worker that wait runs in
/// [`block_in_place`](tokio::task::block_in_place): the worker's other tasks move to another
/// thread, so the runtime keeps running. A current-thread runtime has no other thread to hand
/// them to and waits: there, prefer [`close`](ConsumerTransport::close)`.await`, which closes
/// on a blocking thread.
pub struct KafkaConsumer {
    /// `None` only once `close` handed it to a blocking thread.
    consumer: Option<Arc<StreamConsumer<KcodecContext>>>,
    callback: Arc<Mutex<Option<RebalanceCallback>>>,
}

impl std::fmt::Debug for KafkaConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaConsumer").finish_non_exhaustive()
    }
}

impl Drop for KafkaConsumer {
    fn drop(&mut self) {
        let Some(consumer) = self.consumer.take() else {
            return;
        };
        let multi_thread = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        if multi_thread {
            // librdkafka's close waits for the group coordinator: hand this worker's other
            // tasks to another thread meanwhile. Closing on a detached blocking thread instead
            // would let the close outlive what the caller drops next (the cluster, in tests).
            tokio::task::block_in_place(move || drop(consumer));
        } else {
            drop(consumer);
        }
    }
}

impl KafkaConsumer {
    /// Creates the consumer from a config (see [`consumer_config`]).
    /// `enable.auto.offset.store` is always set to `false`: offsets are stored as the typed
    /// consumer returns records (see the [module documentation](self)).
    pub fn new(config: &ClientConfig) -> Result<Self, ClientError> {
        let callback = Arc::new(Mutex::new(None));
        let mut config = config.clone();
        config.set("enable.auto.offset.store", "false");
        let consumer = config.create_with_context(KcodecContext {
            callback: callback.clone(),
            stored: Mutex::new(HashMap::new()),
        })?;
        Ok(KafkaConsumer {
            consumer: Some(Arc::new(consumer)),
            callback,
        })
    }

    /// rdkafka's consumer underneath. Drop every `TopicPartitionList` taken from it before
    /// dropping this consumer.
    pub fn inner(&self) -> &StreamConsumer<KcodecContext> {
        self.consumer
            .as_deref()
            .expect("the consumer is only taken out by close")
    }

    /// Runs `f` with the consumer on a blocking thread (librdkafka calls that wait).
    async fn blocking<R: Send + 'static>(
        &self,
        f: impl FnOnce(&StreamConsumer<KcodecContext>) -> Result<R, ClientError> + Send + 'static,
    ) -> Result<R, ClientError> {
        let consumer = self
            .consumer
            .clone()
            .expect("the consumer is only taken out by close");
        tokio::task::spawn_blocking(move || f(&consumer))
            .await
            .map_err(|_| ClientError::Cancelled("a librdkafka call on a blocking thread failed"))?
    }
}

fn tpl_of(
    partitions: &[TopicPartition],
    offset: Offset,
) -> Result<TopicPartitionList, ClientError> {
    let mut tpl = TopicPartitionList::with_capacity(partitions.len());
    for tp in partitions {
        tpl.add_partition_offset(&tp.topic, tp.partition, offset)?;
    }
    Ok(tpl)
}

impl KafkaConsumer {
    /// Seeks without waiting for librdkafka's fetcher (a zero timeout makes
    /// `rd_kafka_seek` asynchronous); an unknown partition still fails here.
    fn seek_async(&self, partitions: &[TopicPartition], offset: Offset) -> Result<(), ClientError> {
        for tp in partitions {
            self.inner()
                .seek(&tp.topic, tp.partition, offset, Duration::ZERO)?;
        }
        Ok(())
    }
}

impl ConsumerTransport for KafkaConsumer {
    fn subscribe(&mut self, topics: &[&str]) -> Result<(), ClientError> {
        Ok(self.inner().subscribe(topics)?)
    }

    fn assign(&mut self, partitions: &[TopicPartition]) -> Result<(), ClientError> {
        let tpl = tpl_of(partitions, Offset::Stored)?;
        self.inner().assign(&tpl)?;
        self.inner()
            .context()
            .stored
            .lock()
            .retain(|tp, _| partitions.contains(tp));
        Ok(())
    }

    /// Cancel-safe: rdkafka's `StreamConsumer::recv` is.
    async fn poll(&mut self, timeout: Duration) -> Result<Option<ConsumerRecord>, ClientError> {
        let msg = match tokio::time::timeout(timeout, self.inner().recv()).await {
            Err(_) => return Ok(None),
            Ok(m) => m?,
        };
        let headers: Headers = msg
            .headers()
            .map(|hs| {
                hs.iter()
                    .map(|h| Header::new(h.key, h.value.map(bytes::Bytes::copy_from_slice)))
                    .collect()
            })
            .unwrap_or_default();
        let (timestamp, timestamp_type) = match msg.timestamp() {
            rdkafka::Timestamp::NotAvailable => (None, None),
            rdkafka::Timestamp::CreateTime(t) => (Some(t), Some(TimestampType::CreateTime)),
            rdkafka::Timestamp::LogAppendTime(t) => (Some(t), Some(TimestampType::LogAppendTime)),
        };
        Ok(Some(ConsumerRecord {
            topic: Arc::from(msg.topic()),
            partition: msg.partition(),
            offset: msg.offset(),
            timestamp,
            timestamp_type,
            key: msg.key().map(bytes::Bytes::copy_from_slice),
            value: msg.payload().map(bytes::Bytes::copy_from_slice),
            headers,
        }))
    }

    /// Stores the offset in librdkafka's offset store (`rd_kafka_offsets_store`); a
    /// partition no longer assigned is refused by librdkafka and ignored here.
    fn store_offset(&mut self, topic: &Arc<str>, partition: i32, next_offset: i64) {
        let mut tpl = TopicPartitionList::with_capacity(1);
        if tpl
            .add_partition_offset(topic, partition, Offset::Offset(next_offset))
            .is_ok()
            && self.inner().store_offsets(&tpl).is_ok()
        {
            self.inner()
                .context()
                .stored
                .lock()
                .insert(TopicPartition::new(&**topic, partition), next_offset);
        }
    }

    /// What `store_offset` gave librdkafka, for the assigned partitions.
    fn stored_offsets(&self) -> Vec<(TopicPartition, i64)> {
        let assigned = self.inner().assignment().map(|tpl| tpl_to_vec(&tpl));
        let assigned = assigned.unwrap_or_default();
        let mut v: Vec<_> = self
            .inner()
            .context()
            .stored
            .lock()
            .iter()
            .filter(|(tp, _)| assigned.contains(tp))
            .map(|(tp, o)| (tp.clone(), *o))
            .collect();
        v.sort();
        v
    }

    /// librdkafka's synchronous commit, on a blocking thread.
    async fn commit(&mut self, offsets: &[(TopicPartition, i64)]) -> Result<(), ClientError> {
        let offsets = offsets.to_vec();
        self.blocking(move |c| {
            let tpl = commit_tpl(&offsets)?;
            Ok(c.commit(&tpl, CommitMode::Sync)?)
        })
        .await
    }

    /// librdkafka's `committed`, on a blocking thread.
    async fn committed(
        &mut self,
        partitions: &[TopicPartition],
    ) -> Result<Vec<(TopicPartition, Option<i64>)>, ClientError> {
        let tpl = tpl_of(partitions, Offset::Invalid)?;
        let got = self
            .blocking(move |c| Ok(c.committed_offsets(tpl, REQUEST_TIMEOUT)?))
            .await?;
        Ok(got
            .elements()
            .iter()
            .map(|e| {
                let o = match e.offset() {
                    Offset::Offset(o) => Some(o),
                    _ => None,
                };
                (TopicPartition::new(e.topic(), e.partition()), o)
            })
            .collect())
    }

    /// librdkafka's asynchronous seek (no timeout: it does not wait for the fetcher).
    fn seek(&mut self, tp: &TopicPartition, offset: i64) -> Result<(), ClientError> {
        self.seek_async(std::slice::from_ref(tp), Offset::Offset(offset))
    }

    fn seek_to_beginning(&mut self, partitions: &[TopicPartition]) -> Result<(), ClientError> {
        self.seek_async(partitions, Offset::Beginning)
    }

    fn seek_to_end(&mut self, partitions: &[TopicPartition]) -> Result<(), ClientError> {
        self.seek_async(partitions, Offset::End)
    }

    fn position(&mut self, tp: &TopicPartition) -> Result<Option<i64>, ClientError> {
        let tpl = self.inner().position()?;
        Ok(tpl
            .find_partition(&tp.topic, tp.partition)
            .and_then(|e| match e.offset() {
                Offset::Offset(o) => Some(o),
                _ => None,
            }))
    }

    fn pause(&mut self, partitions: &[TopicPartition]) -> Result<(), ClientError> {
        let tpl = tpl_of(partitions, Offset::Invalid)?;
        Ok(self.inner().pause(&tpl)?)
    }

    fn resume(&mut self, partitions: &[TopicPartition]) -> Result<(), ClientError> {
        let tpl = tpl_of(partitions, Offset::Invalid)?;
        Ok(self.inner().resume(&tpl)?)
    }

    fn assignment(&self) -> Result<Vec<TopicPartition>, ClientError> {
        let tpl = self.inner().assignment()?;
        Ok(tpl_to_vec(&tpl))
    }

    fn set_rebalance_callback(&mut self, callback: RebalanceCallback) {
        *self.callback.lock() = Some(callback);
    }

    /// Dropping rdkafka's consumer closes it: librdkafka commits the stored offsets (with
    /// auto-commit on), runs the revocation callback and leaves the group; on a blocking
    /// thread, awaited here.
    async fn close(mut self) -> Result<(), ClientError> {
        let Some(consumer) = self.consumer.take() else {
            return Ok(());
        };
        tokio::task::spawn_blocking(move || drop(consumer))
            .await
            .map_err(|_| ClientError::Cancelled("closing the consumer failed"))
    }
}
