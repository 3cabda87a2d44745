//! Requests: header parsing, the version table and dispatch by API key to the handler
//! modules (one per area).

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, VersionRange};
use kcodec_broker::Cluster;
use std::net::SocketAddr;
use std::sync::Arc;

mod admin;
mod api_versions;
mod fetch;
pub(crate) mod groups;
mod metadata;
mod produce;
mod unsupported;

pub use admin::TOPIC_CONFIG_NAMES;
/// Kafka's error codes (`org.apache.kafka.common.protocol.Errors`) as the handlers use them.
pub(crate) use kafka_protocol::ResponseError;

/// State every broker of one front end shares.
pub(crate) struct Shared {
    /// The cluster served.
    pub(crate) cluster: Cluster,
    /// Advertised addresses, by node id.
    pub(crate) brokers: Vec<SocketAddr>,
    /// The cluster id clients see (22 characters, base64url, as Kafka's).
    pub(crate) cluster_id: String,
    /// Producer ids and the idempotent producers' state per partition.
    pub(crate) producers: produce::Producers,
}

impl Shared {
    pub(crate) fn new(cluster: Cluster, brokers: Vec<SocketAddr>) -> Self {
        Shared {
            cluster,
            brokers,
            cluster_id: cluster_id(uuid::Uuid::new_v4()),
            producers: produce::Producers::default(),
        }
    }
}

impl Shared {
    /// Every broker's node id, advertised host and port, by node id.
    pub(crate) fn endpoints(
        &self,
    ) -> impl Iterator<
        Item = (
            kafka_protocol::messages::BrokerId,
            kafka_protocol::protocol::StrBytes,
            i32,
        ),
    > + '_ {
        self.brokers.iter().enumerate().map(|(id, addr)| {
            (
                kafka_protocol::messages::BrokerId(id as i32),
                kafka_protocol::protocol::StrBytes::from_string(addr.ip().to_string()),
                i32::from(addr.port()),
            )
        })
    }
}

/// One broker of the front end: what a connection's handlers see.
pub(crate) struct Broker {
    /// This broker's node id.
    pub(crate) node_id: i32,
    pub(crate) shared: Arc<Shared>,
}

impl Broker {
    pub(crate) fn new(node_id: i32, shared: Arc<Shared>) -> Self {
        Broker { node_id, shared }
    }

    pub(crate) fn cluster(&self) -> &Cluster {
        &self.shared.cluster
    }
}

/// A request that cannot be answered: the connection closes (as Kafka closes it on a request
/// it cannot parse).
#[derive(Debug, thiserror::Error)]
pub(crate) enum RequestError {
    #[error("request of {0} bytes is shorter than a request header")]
    Short(usize),
    #[error("cannot decode the {what} of {key:?} v{version}")]
    Decode {
        what: &'static str,
        key: ApiKey,
        version: i16,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("cannot encode the response to {key:?} v{version}")]
    Encode {
        key: ApiKey,
        version: i16,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("response of {0} bytes exceeds a frame")]
    TooLarge(usize),
}

/// The APIs this front end implements, with the versions it answers (each within what
/// `kafka-protocol` can decode and encode: see [`supported`]).
///
/// Produce and Fetch stop at v12: from v13 they name topics by id only.
const IMPLEMENTED: &[(ApiKey, i16, i16)] = &[
    (ApiKey::Produce, 3, 12),
    (ApiKey::Fetch, 4, 12),
    (ApiKey::ListOffsets, 1, 10),
    (ApiKey::Metadata, 0, 13),
    (ApiKey::ApiVersions, 0, 4),
    (ApiKey::CreateTopics, 2, 7),
    (ApiKey::DeleteTopics, 1, 6),
    (ApiKey::InitProducerId, 0, 5),
    (ApiKey::DescribeConfigs, 1, 4),
    (ApiKey::CreatePartitions, 0, 3),
    (ApiKey::DescribeCluster, 0, 2),
];

/// The versions of `key` this front end answers, if it implements it: the implemented range
/// (the group APIs' from [`groups::VERSIONS`]) intersected with `kafka-protocol`'s.
pub(crate) fn supported(key: ApiKey) -> Option<VersionRange> {
    let (min, max) = IMPLEMENTED
        .iter()
        .chain(groups::VERSIONS)
        .find(|(k, _, _)| *k == key)
        .map(|(_, min, max)| (*min, *max))?;
    let range = VersionRange { min, max }.intersect(&key.valid_versions());
    (!range.is_empty()).then_some(range)
}

/// Every implemented API with its versions, in API key order (the ApiVersions answer).
pub(crate) fn supported_apis() -> Vec<(ApiKey, VersionRange)> {
    let mut apis: Vec<(ApiKey, VersionRange)> = IMPLEMENTED
        .iter()
        .chain(groups::VERSIONS)
        .filter_map(|(k, _, _)| Some((*k, supported(*k)?)))
        .collect();
    apis.sort_by_key(|(k, _)| *k as i16);
    apis.dedup_by_key(|(k, _)| *k as i16);
    apis
}

/// The client at the other end of a connection, as Kafka's `RequestContext` knows it.
pub(crate) struct Client {
    /// The peer address as Java's `InetAddress.toString()` prints it (`/127.0.0.1`): the
    /// `clientHost` the group coordinator records (`context.clientAddress.toString()`).
    pub(crate) host: String,
}

impl Client {
    /// The client connected from `peer` (`None` when the socket no longer knows its peer).
    pub(crate) fn new(peer: Option<SocketAddr>) -> Self {
        Client {
            host: peer.map(java_inet_address).unwrap_or_default(),
        }
    }
}

/// Java's `InetAddress.toString()` for an address accepted from a socket (no host name, so
/// `/` then the literal). IPv6 as `Inet6Address.getHostAddress()`: eight hexadecimal groups
/// without leading zeros or `::` compression, `%scope` when the address has a scope id; an
/// IPv4-mapped IPv6 peer is the IPv4 address (the JDK turns it into an `Inet4Address`).
fn java_inet_address(peer: SocketAddr) -> String {
    use std::net::IpAddr;
    match peer.ip() {
        IpAddr::V4(v4) => format!("/{v4}"),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => format!("/{v4}"),
            None => {
                let groups: Vec<String> = v6.segments().iter().map(|g| format!("{g:x}")).collect();
                let scope = match peer {
                    SocketAddr::V6(a) if a.scope_id() != 0 => format!("%{}", a.scope_id()),
                    _ => String::new(),
                };
                format!("/{}{scope}", groups.join(":"))
            }
        },
    }
}

/// Answers one request frame from `client`: `Ok(None)` when the request takes no response
/// (a produce with `acks=0`).
pub(crate) async fn handle(
    broker: &Broker,
    client: &Client,
    frame: Bytes,
) -> Result<Option<BytesMut>, RequestError> {
    if frame.len() < 8 {
        return Err(RequestError::Short(frame.len()));
    }
    let api_key = i16::from_be_bytes([frame[0], frame[1]]);
    let version = i16::from_be_bytes([frame[2], frame[3]]);
    let correlation_id = i32::from_be_bytes([frame[4], frame[5], frame[6], frame[7]]);
    let Ok(key) = ApiKey::try_from(api_key) else {
        return Ok(Some(unsupported::unknown_key(correlation_id)));
    };
    let mut body = frame;
    let header =
        RequestHeader::decode(&mut body, key.request_header_version(version)).map_err(|e| {
            RequestError::Decode {
                what: "request header",
                key,
                version,
                source: e.into(),
            }
        })?;
    if key == ApiKey::ApiVersions {
        return api_versions::handle(&header, &mut body).map(Some);
    }
    match supported(key) {
        Some(range) if (range.min..=range.max).contains(&version) => {}
        _ => return Ok(Some(unsupported::response(key, &header))),
    }
    // decodes the request, runs the handler on it and encodes its answer
    macro_rules! answer {
        (async $handler:path) => {{
            let request = decode(key, &header, &mut body)?;
            respond(key, &header, &$handler(broker, &header, request).await)?
        }};
        ($handler:path) => {{
            let request = decode(key, &header, &mut body)?;
            respond(key, &header, &$handler(broker, &header, request))?
        }};
    }
    let response = match key {
        ApiKey::Produce => {
            let request = decode(key, &header, &mut body)?;
            match produce::handle(broker, &header, request) {
                Some(response) => respond(key, &header, &response)?,
                None => return Ok(None),
            }
        }
        ApiKey::Fetch => answer!(async fetch::handle),
        ApiKey::ListOffsets => answer!(fetch::list_offsets),
        ApiKey::Metadata => answer!(metadata::handle),
        ApiKey::InitProducerId => answer!(produce::init_producer_id),
        ApiKey::CreateTopics => answer!(admin::create_topics),
        ApiKey::DeleteTopics => answer!(admin::delete_topics),
        ApiKey::CreatePartitions => answer!(admin::create_partitions),
        ApiKey::DescribeConfigs => answer!(admin::describe_configs),
        ApiKey::DescribeCluster => answer!(admin::describe_cluster),
        _ if groups::handles(key) => {
            groups::handle(broker, client, key, &header, &mut body).await?
        }
        _ => unsupported::response(key, &header),
    };
    Ok(Some(response))
}

/// Decodes a request body at the header's version.
pub(crate) fn decode<Q: Decodable>(
    key: ApiKey,
    header: &RequestHeader,
    body: &mut Bytes,
) -> Result<Q, RequestError> {
    Q::decode(body, header.request_api_version).map_err(|e| RequestError::Decode {
        what: "request body",
        key,
        version: header.request_api_version,
        source: e.into(),
    })
}

/// Encodes a response frame (size prefix, response header, body) at the request's version.
pub(crate) fn respond<R: Encodable + HeaderVersion>(
    key: ApiKey,
    header: &RequestHeader,
    response: &R,
) -> Result<BytesMut, RequestError> {
    respond_at(
        key,
        header.correlation_id,
        header.request_api_version,
        response,
    )
}

/// Encodes a response frame at `version`.
pub(crate) fn respond_at<R: Encodable + HeaderVersion>(
    key: ApiKey,
    correlation_id: i32,
    version: i16,
    response: &R,
) -> Result<BytesMut, RequestError> {
    let encode_error = |source: Box<dyn std::error::Error + Send + Sync>| RequestError::Encode {
        key,
        version,
        source,
    };
    let mut buf = BytesMut::with_capacity(256);
    buf.put_i32(0);
    ResponseHeader::default()
        .with_correlation_id(correlation_id)
        .encode(&mut buf, R::header_version(version))
        .map_err(|e| encode_error(e.into()))?;
    response
        .encode(&mut buf, version)
        .map_err(|e| encode_error(e.into()))?;
    let size = i32::try_from(buf.len() - 4).map_err(|_| RequestError::TooLarge(buf.len()))?;
    buf[..4].copy_from_slice(&size.to_be_bytes());
    Ok(buf)
}

/// A cluster id as Kafka's (`Uuid.randomUuid().toString()` in Kafka's base64url, 22 chars).
fn cluster_id(id: uuid::Uuid) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let v = id.as_u128();
    // 128 bits as 22 six-bit digits (the last one carries 2 bits), unpadded
    (0..22)
        .map(|i| {
            let shift = 128i32 - 6 * (i + 1);
            let digit = if shift >= 0 {
                (v >> shift) & 0x3f
            } else {
                (v << -shift) & 0x3f
            };
            ALPHABET[digit as usize] as char
        })
        .collect()
}

/// Kafka's error code for a broker error (`Errors.forException`).
pub(crate) fn error_code(e: &kcodec_broker::BrokerError) -> i16 {
    use kcodec_broker::BrokerError as B;
    let error = match e {
        B::TopicExists(_) => ResponseError::TopicAlreadyExists,
        B::ReplicationFactorTooLarge { .. } | B::InvalidReplicationFactor => {
            ResponseError::InvalidReplicationFactor
        }
        B::InvalidPartitions(_) => ResponseError::InvalidPartitions,
        B::InvalidTopic(_) => ResponseError::InvalidTopicException,
        B::NegativeOffset(..) => ResponseError::InvalidCommitOffsetSize,
        B::UnknownTopicOrPartition(_) | B::InvalidPartition { .. } => {
            ResponseError::UnknownTopicOrPartition
        }
        B::InvalidTimestamp(_) => ResponseError::InvalidTimestamp,
        B::OffsetOutOfRange(_) | B::NoOffsetForPartition(_) => ResponseError::OffsetOutOfRange,
        B::NotLeaderOrFollower => ResponseError::NotLeaderOrFollower,
        B::NotEnoughReplicas => ResponseError::NotEnoughReplicas,
        B::RequestTimedOut => ResponseError::RequestTimedOut,
        B::RecordTooLarge => ResponseError::MessageTooLarge,
        B::CoordinatorNotAvailable => ResponseError::CoordinatorNotAvailable,
        B::GroupIdNotFound(_) => ResponseError::GroupIdNotFound,
        B::NonEmptyGroup(_) => ResponseError::NonEmptyGroup,
        B::InvalidGroupId => ResponseError::InvalidGroupId,
        B::UnknownMemberId(_) => ResponseError::UnknownMemberId,
        B::InconsistentGroupProtocol(_) => ResponseError::InconsistentGroupProtocol,
        B::CommitFailed(_) => ResponseError::IllegalGeneration,
        B::InvalidConfig(_) => ResponseError::InvalidConfig,
        _ => ResponseError::UnknownServerError,
    };
    error.code()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `InetAddress.toString()` as Java prints accepted peers.
    #[test]
    fn client_hosts_print_as_javas_inet_address() {
        let host = |a: &str| Client::new(Some(a.parse().unwrap())).host;
        assert_eq!(host("127.0.0.1:9092"), "/127.0.0.1");
        assert_eq!(host("10.1.2.3:1"), "/10.1.2.3");
        assert_eq!(host("[::1]:9092"), "/0:0:0:0:0:0:0:1");
        assert_eq!(
            host("[fe80::a00:27ff:fe4e:66a1%3]:1"),
            "/fe80:0:0:0:a00:27ff:fe4e:66a1%3"
        );
        assert_eq!(host("[2001:db8::1]:1"), "/2001:db8:0:0:0:0:0:1");
        assert_eq!(host("[::ffff:192.168.0.7]:1"), "/192.168.0.7");
        assert_eq!(Client::new(None).host, "");
    }
}
