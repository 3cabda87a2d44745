//! The group protocols: FindCoordinator, OffsetCommit/OffsetFetch, the classic protocol
//! (JoinGroup/SyncGroup/Heartbeat/LeaveGroup), KIP-848's ConsumerGroupHeartbeat and the group
//! admin APIs (DescribeGroups/ListGroups/DeleteGroups/ConsumerGroupDescribe).
//!
//! The dispatch hook: an API listed in [`VERSIONS`] is advertised by ApiVersions and its
//! requests (at a version in range) are handed to [`handle`] with their decoded header; the
//! body is still encoded. Decode it with [`super::decode`] and answer with [`super::respond`].

use super::{Broker, RequestError};
use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, RequestHeader};

/// The group APIs answered here, with the versions implemented (`(key, min, max)`; the
/// advertised range is this intersected with what `kafka-protocol` knows).
pub(crate) const VERSIONS: &[(ApiKey, i16, i16)] = &[];

/// Whether `key` is a group API answered here.
pub(crate) fn handles(key: ApiKey) -> bool {
    VERSIONS.iter().any(|(k, _, _)| *k == key)
}

/// Answers a group request whose key is in [`VERSIONS`] (and whose version is in range).
pub(crate) async fn handle(
    _broker: &Broker,
    key: ApiKey,
    header: &RequestHeader,
    _body: &mut Bytes,
) -> Result<BytesMut, RequestError> {
    Ok(super::unsupported::response(key, header))
}
