//! Entry points for the fuzz targets in `fuzz/` (`kafka_batches`, `kafka_requests`). Compiled
//! only when `cargo fuzz` builds the crate (`--cfg fuzzing`); not part of the crate's API.

use crate::api::{self, Broker, Shared};
use crate::records;
use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, RequestHeader};
use kafka_protocol::protocol::{Encodable, StrBytes};
use kcodec_broker::{Cluster, NewTopic, TopicPartition};
use std::sync::Arc;

/// Decodes `input` as one partition's `records` of a produce request (each batch's CRC made
/// right first when `fix_crc`, so the fuzzer reaches what the CRC guards), appends what decodes
/// to a fresh partition as a produce does, reads it back as a fetch does, encodes it, and
/// decodes that again: every record must come back with its key, value, headers and timestamp.
pub fn batches(input: &[u8], fix_crc: bool) {
    let mut buf = BytesMut::from(input);
    if fix_crc {
        fix_crcs(&mut buf);
    }
    let topic: Arc<str> = Arc::from("t");
    let mut budget = records::MAX_DECOMPRESSED;
    let Ok(batches) = records::decode(buf.freeze(), &topic, &mut budget) else {
        return;
    };
    let cluster = Cluster::new();
    cluster
        .create_topic(NewTopic::new("t", 1, 1))
        .expect("a fresh cluster creates a topic");
    let tp = TopicPartition::new("t", 0);
    let mut sent = Vec::new();
    for batch in batches {
        let records = batch.records;
        if cluster.append_batch(&tp, records.clone()).is_err() {
            // refused as a whole (a negative timestamp…): nothing of it is stored
            break;
        }
        sent.extend(records);
    }
    let stored = cluster
        .read(&tp, 0, usize::MAX)
        .expect("the partition exists");
    assert_eq!(stored.len(), sent.len(), "every appended record is stored");
    let mut out = BytesMut::new();
    records::encode(&mut out, &stored, false);
    let mut budget = records::MAX_DECOMPRESSED;
    let again: Vec<_> = records::decode(out.freeze(), &topic, &mut budget)
        .expect("what the broker encodes decodes")
        .into_iter()
        .flat_map(|b| b.records)
        .collect();
    assert_eq!(again.len(), sent.len());
    for (a, s) in again.iter().zip(&sent) {
        assert_eq!(a.key, s.key);
        assert_eq!(a.value, s.value);
        assert_eq!(a.headers, s.headers);
        assert_eq!(a.timestamp, s.timestamp);
    }
}

/// Sets the CRC-32C of every batch whose length field fits the buffer.
fn fix_crcs(buf: &mut BytesMut) {
    let mut start = 0;
    while buf.len() >= start + 21 {
        let length = i32::from_be_bytes([
            buf[start + 8],
            buf[start + 9],
            buf[start + 10],
            buf[start + 11],
        ]);
        let Some(end) = usize::try_from(length)
            .ok()
            .and_then(|l| (start + 12).checked_add(l))
            .filter(|end| *end <= buf.len() && *end >= start + 21)
        else {
            return;
        };
        let crc = crc32c::crc32c(&buf[start + 21..end]);
        buf[start + 17..start + 21].copy_from_slice(&crc.to_be_bytes());
        start = end;
    }
}

/// Every API the front end answers, with its version range.
pub fn apis() -> Vec<(i16, i16, i16)> {
    api::supported_apis()
        .into_iter()
        .map(|(k, r)| (k as i16, r.min, r.max))
        .collect()
}

/// A request frame (no size prefix) for API `key` at `version`: a valid header (correlation id
/// `correlation`, client id `fuzz`), then `body` as it is.
pub fn frame(key: i16, version: i16, correlation: i32, body: &[u8]) -> Bytes {
    let api = ApiKey::try_from(key).expect("a known API key");
    let header = RequestHeader::default()
        .with_request_api_key(key)
        .with_request_api_version(version)
        .with_correlation_id(correlation)
        .with_client_id(Some(StrBytes::from_static_str("fuzz")));
    let mut buf = BytesMut::new();
    header
        .encode(&mut buf, api.request_header_version(version))
        .expect("a header encodes");
    buf.put_slice(body);
    buf.freeze()
}

/// A broker (node 0 of `cluster`, advertised at 127.0.0.1:9092) answering request frames.
pub struct Front(Broker);

impl Front {
    /// Serves `cluster`.
    pub fn new(cluster: &Cluster) -> Self {
        let shared = Arc::new(Shared::new(
            cluster.clone(),
            vec![([127, 0, 0, 1], 9092).into()],
        ));
        Front(Broker::new(0, shared))
    }

    /// Answers one request frame as a connection would: `Ok(None)` for an `acks=0` produce,
    /// `Err` when the connection would close (a request that does not parse). A response
    /// starts with its size and the request's correlation id.
    pub async fn respond(&self, frame: Bytes) -> Result<Option<Bytes>, String> {
        let correlation = frame
            .get(4..8)
            .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]));
        match api::handle(&self.0, &api::Client::new(None), frame).await {
            Ok(Some(response)) => {
                let size = i32::from_be_bytes([response[0], response[1], response[2], response[3]]);
                assert_eq!(
                    size as usize,
                    response.len() - 4,
                    "the size prefix is the frame's"
                );
                let id = i32::from_be_bytes([response[4], response[5], response[6], response[7]]);
                assert_eq!(Some(id), correlation, "the response names the request");
                Ok(Some(response.freeze()))
            }
            Ok(None) => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }
}
