//! Fuzzes the Kafka front end's request handling with sequences of requests on a fresh
//! cluster: each chunk of the input names an API and a version the front end answers (the
//! harness writes a valid request header) and gives the request body as it is, so every
//! handler — produce, fetch, metadata, admin, both group protocols — sees hostile bodies, in
//! any order. Nothing may panic or hang; every response carries its size and correlation id.
//! Time is tokio's paused clock: a long poll or a rebalance wait ends as soon as nothing else
//! can run, so waits the protocol allows cost no wall time.
#![no_main]

use kcodec_broker::{Cluster, NewTopic};
use kcodec_kafka_server::fuzzing::{Front, apis, frame};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use std::time::Duration;

/// Most requests one input sends.
const MAX_REQUESTS: usize = 8;

fn setup() -> &'static (tokio::runtime::Runtime, Vec<(i16, i16, i16)>) {
    static SETUP: OnceLock<(tokio::runtime::Runtime, Vec<(i16, i16, i16)>)> = OnceLock::new();
    SETUP.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        (rt, apis())
    })
}

fuzz_target!(|data: &[u8]| {
    let (rt, apis) = setup();
    let cluster = Cluster::new();
    cluster.create_topic(NewTopic::new("t", 3, 1)).unwrap();
    let front = Front::new(&cluster);
    rt.block_on(async {
        let mut rest = data;
        for correlation in 0..MAX_REQUESTS as i32 {
            // [api] [version] [body length: u16 LE] [body]
            let [api, version, l0, l1, tail @ ..] = rest else {
                break;
            };
            let len = usize::from(u16::from_le_bytes([*l0, *l1])).min(tail.len());
            let (body, tail) = tail.split_at(len);
            rest = tail;
            let (key, min, max) = apis[usize::from(*api) % apis.len()];
            let version = min + (i16::from(*version) % (max - min + 1));
            let request = frame(key, version, correlation, body);
            // a wait the protocol allows (a long poll, a join) ends when the paused clock
            // reaches it; an endless one would hang here and trip libFuzzer's timeout
            let _ = tokio::time::timeout(Duration::from_secs(3600), front.respond(request)).await;
        }
    });
});
