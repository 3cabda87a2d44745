//! The typed producer.

use crate::transport::{DeliveryFuture, ProducerTransport, Queued, check_record};
use crate::{ClientError, SendError};
use bytes::{Bytes, BytesMut};
use kcodec_codecs::{Headers, SerializeContext, Serialized, Serializer, Target, resolve};
use kcodec_record::{ProducerRecord, RecordMetadata};
use parking_lot::Mutex;
use std::sync::Arc;
use std::time::Duration;

/// A typed producer: serializes keys and values with its codecs, then hands the bytes to its
/// transport.
///
/// Serialization runs before anything is sent and reuses one buffer per producer; a schema
/// codec's first record of a schema awaits its registration (the async resolve protocol of
/// [`kcodec_codecs::resolve`]), later ones stay on the synchronous path.
///
/// `send` takes `&self` and holds no lock across an await: concurrent sends (from tasks
/// holding clones, or joined futures) run independently, so one waiting for a slow registry
/// does not hold up the others. `Producer` is cheap to clone (an `Arc` inside); clones share
/// the transport and the serializers with their schema caches.
///
/// ```
/// # #[cfg(feature = "memory")] {
/// use kcodec_clients::{Producer, ProducerRecord, memory::{MemoryProducer, broker::{Cluster, NewTopic}}};
/// use kcodec_codecs::builtin::StringSerde;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let cluster = Cluster::builder().brokers(1).build();
/// cluster.create_topic(NewTopic::new("greetings", 3, 1)).unwrap();
/// let producer = Producer::new(MemoryProducer::new(&cluster), StringSerde, StringSerde);
/// let md = producer
///     .send(ProducerRecord::new("greetings", "hello".to_string()).key("alice".to_string()))
///     .await
///     .unwrap();
/// assert_eq!(md.offset, 0);
/// # });
/// # }
/// ```
pub struct Producer<T, KS, VS> {
    inner: Arc<Inner<T, KS, VS>>,
}

struct Inner<T, KS, VS> {
    transport: T,
    key_serializer: KS,
    value_serializer: VS,
    /// The reusable encode buffer. A send takes it out for the whole encode (no lock is held
    /// across an await) and puts it back; a send that finds it taken encodes into a fresh one.
    buf: Mutex<BytesMut>,
}

/// A clone shares the transport, the serializers (and their schema caches) and the buffer:
/// hand one to each task that sends.
impl<T, KS, VS> Clone for Producer<T, KS, VS> {
    fn clone(&self) -> Self {
        Producer {
            inner: self.inner.clone(),
        }
    }
}

impl<T: std::fmt::Debug, KS, VS> std::fmt::Debug for Producer<T, KS, VS> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Producer")
            .field("transport", &self.inner.transport)
            .finish_non_exhaustive()
    }
}

impl<T: ProducerTransport, KS, VS> Producer<T, KS, VS> {
    /// A producer over `transport` with a key and a value serializer.
    pub fn new(transport: T, key_serializer: KS, value_serializer: VS) -> Self {
        Producer {
            inner: Arc::new(Inner {
                transport,
                key_serializer,
                value_serializer,
                buf: Mutex::new(BytesMut::with_capacity(1024)),
            }),
        }
    }

    /// Takes the shared encode buffer (or a fresh one while another send holds it).
    fn take_buf(&self) -> BytesMut {
        std::mem::take(&mut *self.inner.buf.lock())
    }

    /// Puts an encode buffer back, keeping the larger one.
    fn put_buf(&self, mut buf: BytesMut) {
        // The transport copied or kept its `Bytes`; when it copied, the buffer's space is
        // reclaimed here.
        buf.reserve(256);
        let mut slot = self.inner.buf.lock();
        if slot.capacity() < buf.capacity() {
            *slot = buf;
        }
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.inner.transport
    }

    /// The key serializer.
    pub fn key_serializer(&self) -> &KS {
        &self.inner.key_serializer
    }

    /// The value serializer.
    pub fn value_serializer(&self) -> &VS {
        &self.inner.value_serializer
    }

    /// Serializes and sends `record`; resolves to its partition, offset and timestamp:
    /// [`enqueue`](Self::enqueue), then its [`Delivery`] (Java's `send(record).get()`).
    ///
    /// Errors come with the record: a serialization error before anything was sent, or the
    /// transport's delivery error.
    pub async fn send<K, V>(
        &self,
        record: ProducerRecord<K, V>,
    ) -> Result<RecordMetadata, SendError<K, V>>
    where
        K: Sync,
        V: Sync,
        KS: Serializer<K> + Sync,
        VS: Serializer<V> + Sync,
    {
        self.enqueue(record).await?.await
    }

    /// Serializes `record` and hands it to the transport; resolves, once the record is in the
    /// transport's queue, to its [`Delivery`]: a future of its partition, offset and timestamp
    /// (Java's `KafkaProducer.send` returning a `Future<RecordMetadata>`, rdkafka's
    /// `send_result`). Pipelining is awaiting `enqueue` for each record, then the deliveries.
    ///
    /// Encoding is synchronous (a schema codec awaits only its first registration), and the
    /// record takes its place in the send order on the first poll of this future: records
    /// enqueued one after another keep their order per partition (per key), also when the
    /// transport's queue is full. Then this future waits for room, as Java's `send` blocks for
    /// `max.block.ms`, so a loop of `enqueue(..).await` is held back by a full queue instead
    /// of piling records up. Dropping it before it resolves withdraws the record if it is
    /// still waiting for room.
    ///
    /// ```
    /// # #[cfg(feature = "memory")] {
    /// use kcodec_clients::{Producer, ProducerRecord, memory::{MemoryProducer, broker::{Cluster, NewTopic}}};
    /// use kcodec_codecs::builtin::StringSerde;
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let cluster = Cluster::builder().brokers(1).build();
    /// cluster.create_topic(NewTopic::new("greetings", 1, 1)).unwrap();
    /// let producer = Producer::new(MemoryProducer::new(&cluster), StringSerde, StringSerde);
    /// let mut deliveries = Vec::new();
    /// for word in ["hello", "world"] {
    ///     let record = ProducerRecord::new("greetings", word.to_string()).key("k".to_string());
    ///     deliveries.push(producer.enqueue(record).await.unwrap());
    /// }
    /// for (offset, delivery) in deliveries.into_iter().enumerate() {
    ///     assert_eq!(delivery.await.unwrap().offset, offset as i64);
    /// }
    /// # });
    /// # }
    /// ```
    pub async fn enqueue<K, V>(
        &self,
        mut record: ProducerRecord<K, V>,
    ) -> Result<Delivery<K, V>, SendError<K, V>>
    where
        K: Sync,
        V: Sync,
        KS: Serializer<K> + Sync,
        VS: Serializer<V> + Sync,
    {
        let queued = match self.hand_over(&mut record).await {
            Ok(q) => q,
            Err(error) => return Err(SendError { error, record }),
        };
        match queued.await {
            Ok(delivery) => Ok(Delivery {
                delivery,
                record: Some(record),
            }),
            Err(error) => Err(SendError { error, record }),
        }
    }

    async fn hand_over<K, V>(
        &self,
        record: &mut ProducerRecord<K, V>,
    ) -> Result<Queued, ClientError>
    where
        K: Sync,
        V: Sync,
        KS: Serializer<K> + Sync,
        VS: Serializer<V> + Sync,
    {
        let ProducerRecord {
            topic,
            partition,
            key,
            value,
            headers,
            timestamp,
        } = record;
        let parts = Parts {
            topic,
            partition: *partition,
            headers,
            timestamp: *timestamp,
        };
        self.enqueue_parts(parts, key.as_ref(), value.as_ref())
            .await
    }

    /// Checks the partition, serializes key and value into the producer's reused buffer and
    /// hands the record to the transport. Shared by owned records and records of references.
    async fn enqueue_parts<K, V>(
        &self,
        parts: Parts<'_>,
        key: Option<&K>,
        value: Option<&V>,
    ) -> Result<Queued, ClientError>
    where
        K: Sync + ?Sized,
        V: Sync + ?Sized,
        KS: Serializer<K> + Sync,
        VS: Serializer<V> + Sync,
    {
        check_record(parts.topic, parts.partition, parts.timestamp)?;
        let mut buf = self.take_buf();
        let result = self.encode_and_enqueue(parts, key, value, &mut buf).await;
        self.put_buf(buf);
        result
    }

    async fn encode_and_enqueue<K, V>(
        &self,
        parts: Parts<'_>,
        key: Option<&K>,
        value: Option<&V>,
        buf: &mut BytesMut,
    ) -> Result<Queued, ClientError>
    where
        K: Sync + ?Sized,
        V: Sync + ?Sized,
        KS: Serializer<K> + Sync,
        VS: Serializer<V> + Sync,
    {
        let Parts {
            topic,
            partition,
            headers,
            timestamp,
        } = parts;
        let key = match key {
            Some(k) => {
                encode(
                    &self.inner.key_serializer,
                    k,
                    topic,
                    Target::Key,
                    headers,
                    buf,
                )
                .await?
            }
            None => None,
        };
        let value = match value {
            Some(v) => {
                encode(
                    &self.inner.value_serializer,
                    v,
                    topic,
                    Target::Value,
                    headers,
                    buf,
                )
                .await?
            }
            None => None,
        };
        // The record's headers as the serializers left them, shared (no copy) with the bytes
        // record the transport takes.
        self.inner.transport.enqueue(ProducerRecord {
            topic: topic.clone(),
            partition,
            key,
            value,
            headers: headers.clone(),
            timestamp,
        })
    }

    /// Waits until every record handed to the transport is delivered or failed, sends still
    /// waiting for room in a full transport queue included (see
    /// [`ProducerTransport::flush`]), off the runtime's worker threads.
    pub async fn flush(&self, timeout: Duration) -> Result<(), ClientError> {
        self.inner.transport.flush(timeout).await
    }
}

/// The delivery of an enqueued record (see [`Producer::enqueue`]): resolves to where it was
/// stored, or to the error with the record handed back.
#[must_use = "a delivery does nothing unless awaited; dropping it does not withdraw the record"]
pub struct Delivery<K, V> {
    delivery: DeliveryFuture,
    record: Option<ProducerRecord<K, V>>,
}

// The record is never pinned: it is only moved out when the delivery resolves.
impl<K, V> Unpin for Delivery<K, V> {}

impl<K: std::fmt::Debug, V: std::fmt::Debug> std::fmt::Debug for Delivery<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("record", &self.record)
            .finish_non_exhaustive()
    }
}

impl<K, V> Delivery<K, V> {
    /// The record (as serialized: serializers may have added headers); `None` once the
    /// delivery resolved.
    pub fn record(&self) -> Option<&ProducerRecord<K, V>> {
        self.record.as_ref()
    }
}

impl<K, V> std::future::Future for Delivery<K, V> {
    type Output = Result<RecordMetadata, SendError<K, V>>;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let this = self.get_mut();
        let outcome = std::task::ready!(this.delivery.as_mut().poll(cx));
        let record = this
            .record
            .take()
            .expect("a Delivery is not polled after it resolved");
        std::task::Poll::Ready(match outcome {
            Ok(d) => Ok(RecordMetadata {
                topic: record.topic,
                partition: d.partition,
                offset: d.offset,
                timestamp: d.timestamp,
            }),
            Err(error) => Err(SendError { error, record }),
        })
    }
}

/// A record's fields other than key and value, borrowed for one send.
struct Parts<'a> {
    topic: &'a Arc<str>,
    partition: Option<i32>,
    headers: &'a mut Headers,
    timestamp: Option<i64>,
}

async fn encode<S, X>(
    serde: &S,
    value: &X,
    topic: &str,
    target: Target,
    headers: &mut Headers,
    buf: &mut BytesMut,
) -> Result<Option<Bytes>, ClientError>
where
    S: Serializer<X> + Sync + ?Sized,
    X: Sync + ?Sized,
{
    let mut ctx = SerializeContext::new(topic, target, headers);
    match resolve::serialize(serde, value, &mut ctx, buf).await {
        Ok(Serialized::Data) => Ok(Some(buf.split().freeze())),
        Ok(Serialized::Null) => {
            buf.clear();
            Ok(None)
        }
        Err(source) => {
            buf.clear();
            Err(ClientError::Serialization {
                topic: topic.to_owned(),
                target,
                source: Box::new(source),
            })
        }
    }
}

#[cfg(feature = "derive")]
mod records {
    use super::*;
    use kcodec_codecs::record::Keyed;

    impl<T: ProducerTransport, KS, VS> Producer<T, KS, VS> {
        /// Sends a value whose type derives `Record`, keyed by its `#[record(key)]` field, to
        /// its `#[record(topic = ..)]` topic.
        ///
        /// Errors with [`ClientError::IllegalState`] when the type names no topic (use
        /// [`send_record_to`](Self::send_record_to)).
        pub async fn send_record<R>(&self, record: &R) -> Result<RecordMetadata, ClientError>
        where
            R: Keyed + Sync,
            R::Key: Sync + Clone,
            KS: Serializer<R::Key> + Sync,
            VS: Serializer<R> + Sync,
        {
            let topic = R::TOPIC.ok_or_else(|| {
                ClientError::IllegalState(format!(
                    "{} names no topic; use send_record_to",
                    R::FULL_NAME
                ))
            })?;
            self.send_record_to(topic, record).await
        }

        /// Sends a `Record` value to `topic`, keyed by its key field.
        pub async fn send_record_to<R>(
            &self,
            topic: &str,
            record: &R,
        ) -> Result<RecordMetadata, ClientError>
        where
            R: Keyed + Sync,
            R::Key: Sync + Clone,
            KS: Serializer<R::Key> + Sync,
            VS: Serializer<R> + Sync,
        {
            let mut rec = ProducerRecord::<&R::Key, &R> {
                topic: topic.into(),
                partition: None,
                key: Some(record.key()),
                value: Some(record),
                headers: Headers::new(),
                timestamp: None,
            };
            let delivery = self.enqueue_refs(&mut rec).await?.await?;
            let d = delivery.await?;
            Ok(RecordMetadata {
                topic: rec.topic,
                partition: d.partition,
                offset: d.offset,
                timestamp: d.timestamp,
            })
        }

        async fn enqueue_refs<K, V>(
            &self,
            record: &mut ProducerRecord<&K, &V>,
        ) -> Result<Queued, ClientError>
        where
            K: Sync + ?Sized,
            V: Sync + ?Sized,
            KS: Serializer<K> + Sync,
            VS: Serializer<V> + Sync,
        {
            let parts = Parts {
                topic: &record.topic,
                partition: record.partition,
                headers: &mut record.headers,
                timestamp: record.timestamp,
            };
            self.enqueue_parts(parts, record.key, record.value).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::Delivered;
    use kcodec_codecs::builtin::StringSerde;
    use parking_lot::Mutex;

    /// What a test transport saw of one record: the key, and where and what the value was.
    type Seen = (Option<Vec<u8>>, Option<(usize, Vec<u8>)>);

    /// A transport that copies what it is given (as librdkafka does) and remembers where the
    /// value bytes were.
    #[derive(Default)]
    struct Copying {
        seen: Mutex<Vec<Seen>>,
    }

    impl ProducerTransport for Copying {
        fn enqueue(&self, r: ProducerRecord) -> Result<Queued, ClientError> {
            let mut seen = self.seen.lock();
            seen.push((
                r.key.map(|k| k.to_vec()),
                r.value.map(|v| (v.as_ptr() as usize, v.to_vec())),
            ));
            let offset = seen.len() as i64 - 1;
            Ok(Queued::ready(Box::pin(std::future::ready(Ok(Delivered {
                partition: 0,
                offset,
                timestamp: None,
            })))))
        }
        async fn flush(&self, _: Duration) -> Result<(), ClientError> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn one_buffer_is_reused_when_the_transport_copies() {
        let p = Producer::new(Copying::default(), StringSerde, StringSerde);
        // 500 values of 10 bytes: five times the buffer's initial 1 KiB.
        for i in 0..500 {
            p.send(ProducerRecord::<String, _>::new(
                "t",
                format!("value-{i:04}"),
            ))
            .await
            .unwrap();
        }
        let seen = p.transport().seen.lock();
        let values: Vec<_> = seen.iter().map(|(_, v)| v.clone().unwrap()).collect();
        assert_eq!(values[0].1, b"value-0000");
        assert_eq!(values[499].1, b"value-0499");
        let base = values.iter().map(|(p, _)| *p).min().unwrap();
        assert!(
            values.iter().all(|(ptr, _)| *ptr + 10 <= base + 1024),
            "every value was encoded inside the one 1 KiB allocation, reclaimed once the \
             transport had copied the earlier ones"
        );
    }

    #[tokio::test]
    async fn null_key_and_tombstone_reach_the_transport_as_none() {
        let p = Producer::new(Copying::default(), StringSerde, StringSerde);
        let md = p
            .send(ProducerRecord::<String, String>::tombstone("t", "k".into()))
            .await
            .unwrap();
        assert_eq!(md.offset, 0);
        p.send(ProducerRecord::<String, _>::new("t", "v".to_string()))
            .await
            .unwrap();
        let seen = p.transport().seen.lock();
        assert_eq!(seen[0], (Some(b"k".to_vec()), None));
        assert_eq!(seen[1].0, None);
    }
}
