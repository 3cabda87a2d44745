//! Property test: random operation sequences against a simple model of topics, partitions,
//! offsets and committed offsets.

use bytes::Bytes;
use kcodec_broker::partitioner::partition_for_key;
use kcodec_broker::{
    BrokerError, Cluster, ConsumerConfig, NewTopic, OffsetReset, PartitionerKind, ProducerConfig,
    ProducerRecord, TopicPartition,
};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug, Clone)]
enum Op {
    Create {
        topic: u8,
        partitions: i32,
    },
    Produce {
        topic: u8,
        key: Option<u8>,
        partition: Option<i32>,
        value: u8,
    },
    AddPartitions {
        topic: u8,
        extra: i32,
    },
    Delete {
        topic: u8,
    },
    Commit {
        topic: u8,
        partition: i32,
        offset: i64,
    },
    Read {
        topic: u8,
        partition: i32,
        from: i64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..3, 0i32..4).prop_map(|(topic, partitions)| Op::Create { topic, partitions }),
        (
            0u8..3,
            proptest::option::of(0u8..20),
            proptest::option::weighted(0.2, 0i32..5),
            any::<u8>()
        )
            .prop_map(|(topic, key, partition, value)| Op::Produce {
                topic,
                key,
                partition,
                value
            }),
        (0u8..3, 0i32..3).prop_map(|(topic, extra)| Op::AddPartitions { topic, extra }),
        (0u8..3).prop_map(|topic| Op::Delete { topic }),
        (0u8..3, 0i32..4, -2i64..10).prop_map(|(topic, partition, offset)| Op::Commit {
            topic,
            partition,
            offset
        }),
        (0u8..3, 0i32..4, 0i64..6).prop_map(|(topic, partition, from)| Op::Read {
            topic,
            partition,
            from
        }),
    ]
}

#[derive(Default)]
struct ModelTopic {
    partitions: Vec<Vec<(Option<u8>, u8)>>,
    rr: usize,
}

fn name(t: u8) -> String {
    format!("topic-{t}")
}

#[allow(clippy::map_entry)] // the model mirrors the broker step by step
fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let cluster = Cluster::new();
    let producer =
        cluster.producer(ProducerConfig::default().partitioner(PartitionerKind::RoundRobin));
    let mut committer = cluster.consumer(ConsumerConfig::new("model")).unwrap();
    let mut model: BTreeMap<String, ModelTopic> = BTreeMap::new();
    let mut committed: BTreeMap<TopicPartition, i64> = BTreeMap::new();
    for op in ops {
        match op {
            Op::Create { topic, partitions } => {
                let got = cluster.create_topic(NewTopic::new(name(topic), partitions, 1));
                if partitions <= 0 {
                    prop_assert!(matches!(got, Err(BrokerError::InvalidPartitions(_))));
                } else if model.contains_key(&name(topic)) {
                    prop_assert_eq!(got, Err(BrokerError::TopicExists(name(topic))));
                } else {
                    prop_assert!(got.is_ok());
                    let t = ModelTopic {
                        partitions: vec![Vec::new(); partitions as usize],
                        rr: 0,
                    };
                    model.insert(name(topic), t);
                }
            }
            Op::Produce {
                topic,
                key,
                partition,
                value,
            } => {
                let mut rec = ProducerRecord::new(name(topic), Bytes::from(vec![value]));
                if let Some(k) = key {
                    rec = rec.key(Bytes::from(vec![k]));
                }
                if let Some(p) = partition {
                    rec = rec.partition(p);
                }
                let got = producer.send(rec);
                match model.get_mut(&name(topic)) {
                    None => {
                        prop_assert!(matches!(got, Err(BrokerError::UnknownTopicOrPartition(_))))
                    }
                    Some(t) => {
                        let n = t.partitions.len() as i32;
                        let expected = match (partition, key) {
                            (Some(p), _) if p >= n => {
                                let refused =
                                    matches!(got, Err(BrokerError::InvalidPartition { .. }));
                                prop_assert!(refused);
                                continue;
                            }
                            (Some(p), _) => p,
                            (None, Some(k)) => partition_for_key(&[k], n),
                            (None, None) => {
                                t.rr += 1;
                                ((t.rr - 1) % n as usize) as i32
                            }
                        };
                        let md = got.map_err(|e| TestCaseError::fail(e.to_string()))?;
                        prop_assert_eq!(md.partition, expected);
                        prop_assert_eq!(md.offset, t.partitions[expected as usize].len() as i64);
                        t.partitions[expected as usize].push((key, value));
                    }
                }
            }
            Op::AddPartitions { topic, extra } => {
                let t = model.get_mut(&name(topic));
                let current = t.as_ref().map(|t| t.partitions.len() as i32).unwrap_or(0);
                let got = cluster.create_partitions(&name(topic), current + extra);
                match t {
                    None => {
                        prop_assert!(matches!(got, Err(BrokerError::UnknownTopicOrPartition(_))))
                    }
                    Some(_) if extra == 0 => {
                        prop_assert!(matches!(got, Err(BrokerError::InvalidPartitions(_))))
                    }
                    Some(t) => {
                        prop_assert!(got.is_ok());
                        t.partitions
                            .resize(t.partitions.len() + extra as usize, Vec::new());
                    }
                }
            }
            Op::Delete { topic } => {
                let got = cluster.delete_topic(&name(topic));
                prop_assert_eq!(got.is_ok(), model.remove(&name(topic)).is_some());
                // the deleted topic's committed offsets go with it, as in Kafka
                committed.retain(|tp, _| tp.topic != name(topic));
            }
            Op::Commit {
                topic,
                partition,
                offset,
            } => {
                let tp = TopicPartition::new(name(topic), partition);
                let got = committer.commit_offsets(&[(tp.clone(), offset)]);
                let exists = model
                    .get(&name(topic))
                    .is_some_and(|t| (partition as usize) < t.partitions.len());
                match got {
                    Ok(()) => {
                        prop_assert!(exists && offset >= 0);
                        committed.insert(tp, offset);
                    }
                    Err(BrokerError::NegativeOffset(..)) => prop_assert!(offset < 0),
                    Err(BrokerError::UnknownTopicOrPartition(_)) => prop_assert!(!exists),
                    Err(e) => prop_assert!(false, "unexpected {e}"),
                }
                let stored: BTreeMap<TopicPartition, i64> = cluster
                    .group_offsets("model")
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, v)| (k, v.offset))
                    .collect();
                prop_assert_eq!(&stored, &committed);
            }
            Op::Read {
                topic,
                partition,
                from,
            } => {
                let tp = TopicPartition::new(name(topic), partition);
                let Some(t) = model.get(&name(topic)) else {
                    prop_assert!(cluster.records(&tp).is_err());
                    continue;
                };
                let Some(log) = t.partitions.get(partition as usize) else {
                    prop_assert!(cluster.end_offset(&tp).is_err());
                    continue;
                };
                prop_assert_eq!(cluster.end_offset(&tp).unwrap(), log.len() as i64);
                let mut c = cluster
                    .consumer(
                        ConsumerConfig::without_group().auto_offset_reset(OffsetReset::Earliest),
                    )
                    .unwrap();
                c.assign([tp.clone()]).unwrap();
                c.seek(&tp, from).unwrap();
                let recs = rt.block_on(c.poll(Duration::ZERO)).unwrap();
                let start = if from as usize > log.len() {
                    0
                } else {
                    from as usize
                };
                let expect: Vec<(Option<u8>, u8)> = log[start..].to_vec();
                let got: Vec<(Option<u8>, u8)> = recs
                    .iter()
                    .map(|r| (r.key.as_ref().map(|k| k[0]), r.value.as_ref().unwrap()[0]))
                    .collect();
                prop_assert_eq!(got, expect);
                for (i, r) in recs.iter().enumerate() {
                    prop_assert_eq!(r.offset, (start + i) as i64);
                }
            }
        }
    }
    committer.unsubscribe();
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]
    #[test]
    fn broker_matches_model(ops in proptest::collection::vec(op(), 1..60)) {
        run(ops)?;
    }
}
