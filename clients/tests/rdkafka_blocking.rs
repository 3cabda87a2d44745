//! The rdkafka transport never blocks the runtime's worker threads: librdkafka calls that wait
//! for the broker (sync commit, `committed`, `flush`, close) run on blocking threads. Each test
//! runs on a current-thread runtime, whose one worker is the test's thread: while such a call
//! waits for the broker, another task must still run.
#![cfg(feature = "rdkafka")]

use kcodec_clients::kafka::{KafkaConsumer, KafkaProducer, consumer_config, producer_config};
use kcodec_clients::{Consumer, Producer, ProducerRecord, TopicPartition};
use kcodec_codecs::builtin::StringSerde;
use rdkafka::mocking::MockCluster;
use std::future::Future;
use std::time::Duration;

/// Polls `call` once, then requires another task to run before `call` completes: a call that
/// blocked the only worker thread would complete in its first poll. `call` must wait for the
/// broker far longer than the runtime takes to run a task (a 2 s round trip below).
async fn other_tasks_run_while<F: Future>(call: F) -> F::Output {
    let (ran, mut other) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = ran.send(());
    });
    tokio::pin!(call);
    tokio::select! {
        biased;
        _ = &mut call => panic!("the call completed before another task could run"),
        _ = &mut other => {}
    }
    tokio::time::timeout(Duration::from_secs(60), call)
        .await
        .expect("the call completes")
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

/// `Consumer::commit` (Java's `commitSync`) and `committed` wait for the broker (a round trip
/// of 2 s here) on a blocking thread, not on the runtime's only worker; `close` too (not timed
/// here: an assigned consumer may close without a round trip).
#[tokio::test(flavor = "current_thread")]
async fn commit_committed_and_close_wait_off_the_worker_thread() {
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
    mock.broker_round_trip_time(1, Duration::from_secs(2))
        .unwrap();
    other_tasks_run_while(c.commit()).await.unwrap();
    let committed = other_tasks_run_while(c.committed(&[TopicPartition::new("t", 0)]))
        .await
        .unwrap();
    assert_eq!(committed, [(TopicPartition::new("t", 0), Some(1))]);
    tokio::time::timeout(Duration::from_secs(60), c.close())
        .await
        .expect("closed")
        .unwrap();
}
