//! Fuzzes the Kafka front end's record-batch decoder (`kafka-server/src/records.rs`): a
//! produce request's partition records from a hostile client. The first byte says whether the
//! harness sets each batch's CRC (so mutations reach the records behind it). Nothing may panic
//! or allocate without bound; whatever decodes is appended, fetched, re-encoded and decodes to
//! the same records.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, records)) = data.split_first() else {
        return;
    };
    kcodec_kafka_server::fuzzing::batches(records, mode & 1 == 1);
});
