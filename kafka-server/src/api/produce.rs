//! Produce (key 0) and InitProducerId (key 22): record batches appended to the partition
//! logs, with the idempotent producer's sequence checks.

use super::{Broker, ResponseError, error_code};
use crate::records::{self, Batch};
use kafka_protocol::messages::produce_response::{PartitionProduceResponse, TopicProduceResponse};
use kafka_protocol::messages::{
    InitProducerIdRequest, InitProducerIdResponse, ProduceRequest, ProduceResponse, ProducerId,
    RequestHeader,
};
use kafka_protocol::protocol::StrBytes;
use kcodec_broker::{TimestampType, TopicPartition};
use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Kafka's default `message.max.bytes`: the largest record batch accepted.
pub(crate) const MESSAGE_MAX_BYTES: usize = 1_048_588;

/// Batches whose metadata a producer's entry keeps for duplicate detection
/// (`ProducerStateEntry.NUM_BATCHES_TO_RETAIN`).
const BATCHES_TO_RETAIN: usize = 5;

/// Producer ids and, per partition, the idempotent producers' last batches
/// (Kafka's `ProducerIdManager` and `ProducerStateManager`).
#[derive(Default)]
pub(crate) struct Producers {
    next_id: AtomicI64,
    epochs: Mutex<HashMap<i64, i16>>,
    partitions: Mutex<HashMap<TopicPartition, Arc<Mutex<PartitionProducers>>>>,
}

impl Producers {
    fn partition(&self, tp: &TopicPartition) -> Arc<Mutex<PartitionProducers>> {
        self.partitions
            .lock()
            .entry(tp.clone())
            .or_default()
            .clone()
    }

    /// Forgets a deleted topic's producer state.
    pub(crate) fn topic_deleted(&self, topic: &str) {
        self.partitions.lock().retain(|tp, _| tp.topic != topic);
    }
}

/// The producers of one partition, by producer id.
#[derive(Default)]
struct PartitionProducers(HashMap<i64, Entry>);

/// One producer's state on one partition (`ProducerStateEntry`).
struct Entry {
    epoch: i16,
    batches: VecDeque<BatchMeta>,
}

#[derive(Clone, Copy)]
struct BatchMeta {
    first_seq: i32,
    last_seq: i32,
    base_offset: i64,
    timestamp: i64,
}

/// What the sequence check decided for a batch.
enum Check {
    Append,
    /// The batch was appended before: answer with its offsets, append nothing.
    Duplicate(BatchMeta),
}

impl PartitionProducers {
    /// `ProducerAppendInfo.checkProducerEpoch` and `checkSequence`, and
    /// `ProducerStateEntry.findDuplicateBatch`.
    fn check(&self, b: &Batch) -> Result<Check, ResponseError> {
        let Some(e) = self.0.get(&b.producer_id) else {
            // no state for this producer here: any sequence is accepted
            return Ok(Check::Append);
        };
        if b.producer_epoch < e.epoch {
            return Err(ResponseError::InvalidProducerEpoch);
        }
        if b.producer_epoch != e.epoch {
            return if b.base_sequence == 0 {
                Ok(Check::Append)
            } else {
                Err(ResponseError::OutOfOrderSequenceNumber)
            };
        }
        let last_seq = b.last_sequence();
        if let Some(d) = e
            .batches
            .iter()
            .find(|m| m.first_seq == b.base_sequence && m.last_seq == last_seq)
        {
            return Ok(Check::Duplicate(*d));
        }
        let current = e.batches.back().map_or(-1, |m| m.last_seq);
        let in_sequence = b.base_sequence == current.wrapping_add(1)
            || (b.base_sequence == 0 && current == i32::MAX);
        if in_sequence {
            Ok(Check::Append)
        } else {
            Err(ResponseError::OutOfOrderSequenceNumber)
        }
    }

    fn appended(&mut self, b: &Batch, base_offset: i64, timestamp: i64) {
        let e = self.0.entry(b.producer_id).or_insert(Entry {
            epoch: b.producer_epoch,
            batches: VecDeque::new(),
        });
        if e.epoch != b.producer_epoch {
            e.epoch = b.producer_epoch;
            e.batches.clear();
        }
        if e.batches.len() == BATCHES_TO_RETAIN {
            e.batches.pop_front();
        }
        e.batches.push_back(BatchMeta {
            first_seq: b.base_sequence,
            last_seq: b.last_sequence(),
            base_offset,
            timestamp,
        });
    }
}

/// Answers InitProducerId for idempotent producers: a new producer id at epoch 0, or, when the
/// producer gives its current id and epoch (KIP-360), the same id at the next epoch.
/// Transactions are not implemented: a request with a transactional id is answered
/// `UNSUPPORTED_VERSION` (a retriable code such as `COORDINATOR_NOT_AVAILABLE` would have the
/// client retry forever).
pub(crate) fn init_producer_id(
    broker: &Broker,
    _header: &RequestHeader,
    req: InitProducerIdRequest,
) -> InitProducerIdResponse {
    let producers = &broker.shared.producers;
    if req.transactional_id.is_some() {
        return InitProducerIdResponse::default()
            .with_error_code(ResponseError::UnsupportedVersion.code())
            .with_producer_id(ProducerId(-1))
            .with_producer_epoch(-1);
    }
    let mut epochs = producers.epochs.lock();
    let known = (req.producer_id.0 >= 0)
        .then(|| epochs.get(&req.producer_id.0).copied())
        .flatten();
    let (id, epoch) = match known {
        Some(epoch) if epoch != req.producer_epoch => {
            return InitProducerIdResponse::default()
                .with_error_code(ResponseError::InvalidProducerEpoch.code())
                .with_producer_id(ProducerId(-1))
                .with_producer_epoch(-1);
        }
        // the epoch wraps to a new producer id, as Kafka's does at Short.MAX_VALUE - 1
        Some(epoch) if epoch < i16::MAX - 1 => (req.producer_id.0, epoch + 1),
        _ => (producers.next_id.fetch_add(1, Ordering::Relaxed), 0),
    };
    epochs.insert(id, epoch);
    InitProducerIdResponse::default()
        .with_producer_id(ProducerId(id))
        .with_producer_epoch(epoch)
}

/// Answers Produce (`None` for `acks=0`, which takes no response). Each partition's records
/// must be exactly one v2 batch (`INVALID_RECORD` otherwise, as Kafka requires from v3), of at
/// most `message.max.bytes` (`MESSAGE_TOO_LARGE`); it is appended whole at consecutive
/// offsets by the partition's leader only (`NOT_LEADER_OR_FOLLOWER` elsewhere), after the
/// idempotent producer's checks: a batch seen before is answered with its first append's
/// offset and not appended again (`findDuplicateBatch`), a gap or a reordering is
/// `OUT_OF_ORDER_SEQUENCE_NUMBER`, an old epoch `INVALID_PRODUCER_EPOCH`.
pub(crate) fn handle(
    broker: &Broker,
    _header: &RequestHeader,
    req: ProduceRequest,
) -> Option<ProduceResponse> {
    let acks = req.acks;
    let valid_acks = matches!(acks, -1..=1);
    // what the request's compressed batches may decompress to, together
    let mut budget = records::MAX_DECOMPRESSED;
    let responses = req
        .topic_data
        .into_iter()
        .map(|t| {
            let name = t.name.0.to_string();
            let topic: Arc<str> = Arc::from(name.as_str());
            let leaders: Option<Vec<i32>> = broker
                .cluster()
                .describe_topic(&name)
                .ok()
                .map(|d| d.partitions.iter().map(|p| p.leader).collect());
            let partition_responses = t
                .partition_data
                .into_iter()
                .map(|p| {
                    let tp = TopicPartition::new(name.clone(), p.index);
                    let leader = leaders
                        .as_ref()
                        .and_then(|l| l.get(usize::try_from(p.index).ok()?).copied());
                    let outcome = if !valid_acks {
                        Err((ResponseError::InvalidRequiredAcks.code(), None))
                    } else {
                        match leader {
                            None => Err((ResponseError::UnknownTopicOrPartition.code(), None)),
                            Some(l) if l != broker.node_id => {
                                Err((ResponseError::NotLeaderOrFollower.code(), None))
                            }
                            Some(_) => append(
                                broker,
                                &tp,
                                &topic,
                                p.records.unwrap_or_default(),
                                &mut budget,
                            ),
                        }
                    };
                    let mut r = PartitionProduceResponse::default()
                        .with_index(p.index)
                        .with_log_start_offset(0);
                    match outcome {
                        Ok((base_offset, log_append_time)) => {
                            r.base_offset = base_offset;
                            r.log_append_time_ms = log_append_time;
                        }
                        Err((code, message)) => {
                            r.error_code = code;
                            r.base_offset = -1;
                            r.log_append_time_ms = -1;
                            r.log_start_offset = -1;
                            r.error_message = message.map(StrBytes::from_string);
                        }
                    }
                    r
                })
                .collect();
            TopicProduceResponse::default()
                .with_name(t.name)
                .with_partition_responses(partition_responses)
        })
        .collect();
    (acks != 0).then(|| ProduceResponse::default().with_responses(responses))
}

/// Appends one partition's batch: the base offset and the append time (-1 on a `CreateTime`
/// topic), or an error code and message.
fn append(
    broker: &Broker,
    tp: &TopicPartition,
    topic: &Arc<str>,
    records: bytes::Bytes,
    budget: &mut usize,
) -> Result<(i64, i64), (i16, Option<String>)> {
    if records.len() > MESSAGE_MAX_BYTES {
        return Err((ResponseError::MessageTooLarge.code(), None));
    }
    let mut batches = records::decode(records, topic, budget).map_err(|e| {
        let code = match e {
            records::RecordsError::Magic(_) => ResponseError::UnsupportedForMessageFormat,
            records::RecordsError::TooLarge => ResponseError::MessageTooLarge,
            records::RecordsError::Crc { .. } => ResponseError::CorruptMessage,
            _ => ResponseError::InvalidRecord,
        };
        (code.code(), Some(e.to_string()))
    })?;
    if batches.len() != 1 {
        return Err((
            ResponseError::InvalidRecord.code(),
            Some("Produce requests carry exactly one record batch per partition.".into()),
        ));
    }
    let mut batch = batches.pop().expect("one batch");
    let cluster = broker.cluster();
    let log_append_time = cluster
        .describe_topic(&tp.topic)
        .map(|d| d.timestamp_type == TimestampType::LogAppendTime)
        .unwrap_or(false);
    let records = std::mem::take(&mut batch.records);
    let appended = |records| {
        cluster
            .append_batch(tp, records)
            .map(|md| {
                (
                    md.offset,
                    if log_append_time {
                        md.timestamp.unwrap_or(-1)
                    } else {
                        -1
                    },
                )
            })
            .map_err(|e| (error_code(&e), Some(e.to_string())))
    };
    if batch.producer_id < 0 || batch.base_sequence < 0 {
        return appended(records);
    }
    let state = broker.shared.producers.partition(tp);
    let mut state = state.lock();
    match state.check(&batch) {
        Err(e) => Err((e.code(), None)),
        Ok(Check::Duplicate(d)) => Ok((
            d.base_offset,
            if log_append_time { d.timestamp } else { -1 },
        )),
        Ok(Check::Append) => {
            let (base_offset, timestamp) = appended(records)?;
            state.appended(&batch, base_offset, timestamp);
            Ok((base_offset, timestamp))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(epoch: i16, base_sequence: i32, records: i32) -> Batch {
        Batch {
            producer_id: 7,
            producer_epoch: epoch,
            base_sequence,
            last_offset_delta: records - 1,
            records: Vec::new(),
        }
    }

    /// The checks of Kafka's `ProducerAppendInfo` (`checkProducerEpoch`, `checkSequence`) and
    /// `ProducerStateEntry.findDuplicateBatch`: in-sequence batches append, a retried batch is
    /// answered with its first offset, a gap is OUT_OF_ORDER_SEQUENCE_NUMBER, an old epoch
    /// INVALID_PRODUCER_EPOCH, a new epoch must start at sequence 0.
    #[test]
    fn sequence_checks_follow_kafkas_producer_state_manager() {
        let mut state = PartitionProducers::default();
        // a producer with no state here may start anywhere
        assert!(matches!(state.check(&batch(0, 0, 3)), Ok(Check::Append)));
        state.appended(&batch(0, 0, 3), 100, 1);
        assert!(matches!(state.check(&batch(0, 3, 2)), Ok(Check::Append)));
        state.appended(&batch(0, 3, 2), 103, 2);
        // a retry of either batch is a duplicate, answered with its first offset
        assert!(
            matches!(state.check(&batch(0, 0, 3)), Ok(Check::Duplicate(m)) if m.base_offset == 100)
        );
        assert!(
            matches!(state.check(&batch(0, 3, 2)), Ok(Check::Duplicate(m)) if m.base_offset == 103)
        );
        // a gap and an overlap that is no duplicate are out of order
        assert!(matches!(
            state.check(&batch(0, 6, 1)),
            Err(ResponseError::OutOfOrderSequenceNumber)
        ));
        assert!(matches!(
            state.check(&batch(0, 4, 1)),
            Err(ResponseError::OutOfOrderSequenceNumber)
        ));
        // a new epoch starts at 0; an old one is fenced
        assert!(matches!(
            state.check(&batch(1, 5, 1)),
            Err(ResponseError::OutOfOrderSequenceNumber)
        ));
        assert!(matches!(state.check(&batch(1, 0, 1)), Ok(Check::Append)));
        state.appended(&batch(1, 0, 1), 105, 3);
        assert!(matches!(
            state.check(&batch(0, 5, 1)),
            Err(ResponseError::InvalidProducerEpoch)
        ));
        // only the last five batches are remembered
        for i in 1..=5 {
            assert!(matches!(state.check(&batch(1, i, 1)), Ok(Check::Append)));
            state.appended(&batch(1, i, 1), 105 + i64::from(i), 4);
        }
        assert!(matches!(
            state.check(&batch(1, 1, 1)),
            Ok(Check::Duplicate(_))
        ));
        assert!(matches!(
            state.check(&batch(1, 0, 1)),
            Err(ResponseError::OutOfOrderSequenceNumber)
        ));
    }
}
