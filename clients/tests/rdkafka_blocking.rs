//! The rdkafka transport never blocks the runtime's worker threads: librdkafka calls that wait
//! for the broker (sync commit, `committed`, `flush`, close) run on blocking threads. Each test
//! runs on a current-thread runtime, whose one worker is the test's thread: while such a call
//! waits for the broker, another task must still run.
#![cfg(feature = "rdkafka")]

use kcodec_clients::kafka::{KafkaConsumer, KafkaProducer, consumer_config, producer_config};
use kcodec_clients::{Consumer, Producer, ProducerRecord, RebalanceEvent, TopicPartition};
use kcodec_codecs::builtin::StringSerde;
use rdkafka::ClientContext;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Runs `call`, a librdkafka call that waits for broker 1, while that broker holds every
/// response for an hour: `call` cannot complete before the test releases it, so another task
/// running first proves that `call` left the runtime's only worker (a call that blocked it
/// would only return, failed, at librdkafka's socket timeout, and fail the test). The broker
/// is then restarted without the delay, which releases `call` (librdkafka retries the request
/// on the new connection). No duration decides the outcome.
async fn other_tasks_run_while<C: ClientContext, F: Future>(
    mock: &MockCluster<'_, C>,
    call: F,
) -> F::Output {
    mock.broker_round_trip_time(1, Duration::from_secs(3600))
        .unwrap();
    let (ran, mut other) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = ran.send(());
    });
    tokio::pin!(call);
    tokio::select! {
        biased;
        _ = &mut call => panic!("the call completed while the broker held its response"),
        _ = &mut other => {}
    }
    mock.broker_round_trip_time(1, Duration::ZERO).unwrap();
    mock.broker_down(1).unwrap();
    mock.broker_up(1).unwrap();
    tokio::time::timeout(Duration::from_secs(60), call)
        .await
        .expect("the call completes once the broker answers")
}

/// `Producer::flush` (Java's `KafkaProducer.flush` blocks its caller; here librdkafka's
/// `flush` runs on a blocking thread): with the broker down the record cannot be delivered, so
/// flush is still waiting when the other task runs; once the broker is up it completes.
#[tokio::test(flavor = "current_thread")]
async fn flush_waits_off_the_worker_thread() {
    let mock = MockCluster::new(1).unwrap();
    mock.create_topic("t", 1, 1).unwrap();
    mock.broker_down(1).unwrap();
    let mut cfg = producer_config(&mock.bootstrap_servers());
    cfg.set("message.timeout.ms", "60000");
    let p = Producer::new(KafkaProducer::new(&cfg).unwrap(), StringSerde, StringSerde);
    let delivery = p
        .enqueue(ProducerRecord::new("t", "v".to_string()).key("k".to_string()))
        .await
        .unwrap();
    let flush = p.flush(Duration::from_secs(60));
    tokio::pin!(flush);
    let (ran, mut other) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = ran.send(());
    });
    tokio::select! {
        biased;
        _ = &mut flush => panic!("flush completed while the broker was down"),
        _ = &mut other => {}
    }
    mock.broker_up(1).unwrap();
    tokio::time::timeout(Duration::from_secs(60), flush)
        .await
        .expect("flushed once the broker is up")
        .unwrap();
    assert_eq!(delivery.await.unwrap().offset, 0);
}

/// A one-broker mock cluster whose topic `t` (one partition) holds one record.
async fn cluster_with_one_record() -> MockCluster<'static, DefaultProducerContext> {
    let mock = MockCluster::new(1).unwrap();
    mock.create_topic("t", 1, 1).unwrap();
    let p = Producer::new(
        KafkaProducer::new(&producer_config(&mock.bootstrap_servers())).unwrap(),
        StringSerde,
        StringSerde,
    );
    p.send(ProducerRecord::new("t", "v".to_string()).key("k".to_string()))
        .await
        .unwrap();
    mock
}

/// `Consumer::commit` (Java's `KafkaConsumer.commitSync`) and `committed` wait for the broker
/// on a blocking thread, not on the runtime's only worker; `close` too (not checked here: an
/// assigned consumer may close without a round trip).
#[tokio::test(flavor = "current_thread")]
async fn commit_committed_and_close_wait_off_the_worker_thread() {
    let mock = cluster_with_one_record().await;
    let mut cfg = consumer_config(&mock.bootstrap_servers(), "g");
    cfg.set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false");
    let mut c: Consumer<String, String, _> =
        Consumer::new(KafkaConsumer::new(&cfg).unwrap(), StringSerde, StringSerde);
    c.assign(&[TopicPartition::new("t", 0)]).unwrap();
    let r = tokio::time::timeout(Duration::from_secs(60), c.recv())
        .await
        .expect("a record")
        .unwrap();
    assert_eq!(r.offset, 0);
    other_tasks_run_while(&mock, c.commit()).await.unwrap();
    let committed = other_tasks_run_while(&mock, c.committed(&[TopicPartition::new("t", 0)]))
        .await
        .unwrap();
    assert_eq!(committed, [(TopicPartition::new("t", 0), Some(1))]);
    tokio::time::timeout(Duration::from_secs(60), c.close())
        .await
        .expect("closed")
        .unwrap();
}

/// Dropping a subscribed `KafkaConsumer` closes it before the drop returns (Java's
/// `KafkaConsumer.close` blocks its caller: commit, `onPartitionsRevoked`, leave the group)
/// without holding a multi-thread runtime's worker: the revocation callback below waits for a
/// task that can only run on the runtime's one worker, so it is released only if the dropping
/// worker handed its tasks on (a drop that held the worker would leave the callback waiting
/// until its deadline, and `released` false).
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn dropping_a_consumer_leaves_the_worker_free() {
    let mock = cluster_with_one_record().await;
    let (revoking, revoking_seen) = tokio::sync::oneshot::channel::<()>();
    let (go, wait_for_go) = std::sync::mpsc::channel::<()>();
    let released = Arc::new(AtomicBool::new(false));
    let mut revoking = Some(revoking);
    let flag = released.clone();
    let mut cfg = consumer_config(&mock.bootstrap_servers(), "g");
    cfg.set("auto.offset.reset", "earliest");
    let mut c: Consumer<String, String, _> =
        Consumer::builder(KafkaConsumer::new(&cfg).unwrap(), StringSerde, StringSerde)
            .on_rebalance(move |event| {
                if !matches!(event, RebalanceEvent::Revoked(_)) {
                    return;
                }
                if let Some(tx) = revoking.take() {
                    let _ = tx.send(());
                    // generous: bounds a failure only
                    let ok = wait_for_go.recv_timeout(Duration::from_secs(60)).is_ok();
                    flag.store(ok, Ordering::SeqCst);
                }
            })
            .build();
    c.subscribe(&["t"]).unwrap();
    let r = tokio::time::timeout(Duration::from_secs(60), c.recv())
        .await
        .expect("a record")
        .unwrap();
    assert_eq!(r.offset, 0);
    let helper = tokio::spawn(async move {
        revoking_seen.await.expect("the revocation callback ran");
        go.send(()).unwrap();
    });
    // the drop runs on the runtime's one worker (the test body runs on its own thread)
    tokio::spawn(async move { drop(c) }).await.unwrap();
    assert!(
        released.load(Ordering::SeqCst),
        "the revocation callback was not released while the consumer closed"
    );
    helper.await.unwrap();
}
