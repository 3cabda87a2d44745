//! The connection loop and ApiVersions at the byte level, with a raw TCP client.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use kcodec_broker::Cluster;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Sends one request frame (v1 request header: key, version, correlation id, client id)
/// and reads one response frame.
async fn roundtrip(
    s: &mut TcpStream,
    key: i16,
    version: i16,
    correlation: i32,
    body: &[u8],
) -> Bytes {
    let mut req = BytesMut::new();
    req.put_i16(key);
    req.put_i16(version);
    req.put_i32(correlation);
    req.put_i16(4);
    req.put_slice(b"test");
    req.put_slice(body);
    let mut frame = BytesMut::new();
    frame.put_i32(req.len() as i32);
    frame.put_slice(&req);
    s.write_all(&frame).await.unwrap();
    let size = s.read_i32().await.unwrap();
    let mut resp = vec![0; size as usize];
    s.read_exact(&mut resp).await.unwrap();
    Bytes::from(resp)
}

/// An ApiVersions request at a version the broker does not know is answered at v0 with
/// UNSUPPORTED_VERSION (35) and ApiVersions' own range, as Kafka's
/// `ApiVersionsRequest.getErrorResponse` does (KIP-511: the client retries with v0..max); the
/// connection stays open and the next request is answered.
#[tokio::test]
async fn api_versions_at_an_unknown_version_answers_v0_with_unsupported_version() {
    let cluster = Cluster::new();
    let server = kcodec_kafka_server::serve(&cluster, "127.0.0.1:0")
        .await
        .unwrap();
    let mut s = TcpStream::connect(server.local_addr()).await.unwrap();
    // v99 has a flexible request header: an empty tagged-field section after the client id
    let mut r = roundtrip(&mut s, 18, 99, 7, &[0]).await;
    assert_eq!(r.get_i32(), 7, "correlation id");
    assert_eq!(r.get_i16(), 35, "UNSUPPORTED_VERSION");
    assert_eq!(r.get_i32(), 1, "one api key");
    assert_eq!((r.get_i16(), r.get_i16(), r.get_i16()), (18, 0, 4));
    assert!(!r.has_remaining(), "v0 has no throttle time");

    // the connection is still served: ApiVersions v0 lists every implemented API
    let mut r = roundtrip(&mut s, 18, 0, 8, &[]).await;
    assert_eq!(r.get_i32(), 8);
    assert_eq!(r.get_i16(), 0, "no error");
    let n = r.get_i32();
    let apis: Vec<(i16, i16, i16)> = (0..n)
        .map(|_| (r.get_i16(), r.get_i16(), r.get_i16()))
        .collect();
    assert!(apis.contains(&(18, 0, 4)), "{apis:?}");
    assert!(apis.iter().any(|(k, _, _)| *k == 3), "Metadata: {apis:?}");
}

/// A request of an API the front end does not implement (DescribeAcls, key 29, v1) and one of
/// an API key Kafka does not have get UNSUPPORTED_VERSION, not a closed connection.
#[tokio::test]
async fn unimplemented_and_unknown_apis_are_answered_unsupported_version() {
    let cluster = Cluster::new();
    let server = kcodec_kafka_server::serve(&cluster, "127.0.0.1:0")
        .await
        .unwrap();
    let mut s = TcpStream::connect(server.local_addr()).await.unwrap();
    // DescribeAclsResponse v1: throttle_time_ms, error_code, ...
    let mut r = roundtrip(&mut s, 29, 1, 1, &[0; 16]).await;
    assert_eq!(r.get_i32(), 1);
    assert_eq!(r.get_i32(), 0, "throttle");
    assert_eq!(r.get_i16(), 35);
    let mut r = roundtrip(&mut s, 4242, 0, 2, &[]).await;
    assert_eq!(r.get_i32(), 2);
    assert_eq!(r.get_i16(), 35);
    assert!(!r.has_remaining());
}

/// A size prefix beyond `socket.request.max.bytes` closes the connection (Kafka's
/// `NetworkReceive` refuses it with `InvalidReceiveException`).
#[tokio::test]
async fn an_oversized_frame_closes_the_connection() {
    let cluster = Cluster::new();
    let server = kcodec_kafka_server::serve(&cluster, "127.0.0.1:0")
        .await
        .unwrap();
    let mut s = TcpStream::connect(server.local_addr()).await.unwrap();
    let too_big = kcodec_kafka_server::MAX_REQUEST_SIZE as i32 + 1;
    s.write_all(&too_big.to_be_bytes()).await.unwrap();
    let mut buf = [0u8; 1];
    assert_eq!(s.read(&mut buf).await.unwrap(), 0, "closed by the broker");
}

/// `shutdown` stops the listeners and closes open connections; the cluster lives on.
#[tokio::test]
async fn shutdown_closes_connections_and_listeners() {
    let cluster = Cluster::new();
    let server = kcodec_kafka_server::serve(&cluster, "127.0.0.1:0")
        .await
        .unwrap();
    let addr = server.local_addr();
    let mut s = TcpStream::connect(addr).await.unwrap();
    let mut r = roundtrip(&mut s, 18, 0, 1, &[]).await;
    assert_eq!(r.get_i32(), 1);
    server.shutdown().await;
    let mut buf = [0u8; 1];
    // closed (EOF) or reset: either way no more answers
    assert!(!matches!(s.read(&mut buf).await, Ok(n) if n > 0));
    assert!(TcpStream::connect(addr).await.is_err(), "nobody listens");
    assert_eq!(cluster.brokers(), 1);
}

/// A request whose array claims more elements than the request has bytes is refused before
/// anything is reserved for it, as Kafka's generated readers refuse it ("Tried to allocate a
/// collection of size N, but there are only M bytes remaining"), and the connection closes as
/// `SocketServer` closes one whose request does not parse; the broker serves on. (Before the
/// fix in `vendor/kafka-protocol`, these 20-odd bytes made the process abort.)
#[tokio::test]
async fn a_request_claiming_a_huge_array_is_refused_without_reserving_it() {
    let cluster = Cluster::new();
    let server = kcodec_kafka_server::serve(&cluster, "127.0.0.1:0")
        .await
        .unwrap();
    // Metadata v0: topics is an ARRAY (i32 length); v9+: a COMPACT_ARRAY (varint length + 1)
    // after a flexible header (client id, then an empty tagged-field section)
    let cases: [(i16, Vec<u8>); 2] = [
        (0, vec![0x7f, 0xff, 0xff, 0xff, 0, 0]),
        (12, vec![0, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0]),
    ];
    for (version, body) in cases {
        let mut s = TcpStream::connect(server.local_addr()).await.unwrap();
        let mut req = BytesMut::new();
        req.put_i16(3); // Metadata
        req.put_i16(version);
        req.put_i32(7);
        req.put_i16(4);
        req.put_slice(b"test");
        req.put_slice(&body);
        let mut frame = BytesMut::new();
        frame.put_i32(req.len() as i32);
        frame.put_slice(&req);
        s.write_all(&frame).await.unwrap();
        let mut buf = [0u8; 1];
        assert!(
            !matches!(s.read(&mut buf).await, Ok(n) if n > 0),
            "v{version}: no answer, the connection closes"
        );
        // the broker is alive: a new connection is answered
        let mut s = TcpStream::connect(server.local_addr()).await.unwrap();
        let mut r = roundtrip(&mut s, 18, 0, 8, &[]).await;
        assert_eq!(r.get_i32(), 8);
        assert_eq!(r.get_i16(), 0);
    }
}
