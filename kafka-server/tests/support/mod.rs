//! A raw Kafka-protocol client for the tests: requests encoded and responses decoded by
//! `kafka-protocol` (the client side of the message schemas the broker answers with).

#![allow(dead_code)] // each test file uses part of it

use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, RequestHeader, ResponseHeader, TopicName};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Request, StrBytes};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Sends one request frame (in one write: a split frame meets Nagle's algorithm and delayed
/// ACKs).
pub async fn send<Q: Request>(s: &mut TcpStream, version: i16, correlation: i32, req: &Q) {
    let key = ApiKey::try_from(Q::KEY).unwrap();
    let mut body = BytesMut::new();
    RequestHeader::default()
        .with_request_api_key(Q::KEY)
        .with_request_api_version(version)
        .with_correlation_id(correlation)
        .with_client_id(Some(StrBytes::from_static_str("kafka-server-test")))
        .encode(&mut body, key.request_header_version(version))
        .unwrap();
    req.encode(&mut body, version).unwrap();
    let mut frame = BytesMut::new();
    frame.put_i32(body.len() as i32);
    frame.put_slice(&body);
    s.write_all(&frame).await.unwrap();
}

/// Reads one response frame: its correlation id and the response.
pub async fn receive<R: Decodable + HeaderVersion>(s: &mut TcpStream, version: i16) -> (i32, R) {
    let size = s
        .read_i32()
        .await
        .unwrap_or_else(|e| panic!("v{version}: no answer ({e})"));
    let mut buf = vec![0; size as usize];
    s.read_exact(&mut buf).await.unwrap();
    let mut buf = Bytes::from(buf);
    let header = ResponseHeader::decode(&mut buf, R::header_version(version)).unwrap();
    let response = R::decode(&mut buf, version).unwrap_or_else(|e| panic!("v{version}: {e}"));
    assert!(
        !buf.has_remaining(),
        "v{version}: bytes left after the response"
    );
    (header.correlation_id, response)
}

/// Sends a request and reads its response (correlation id checked).
pub async fn call<Q: Request>(s: &mut TcpStream, version: i16, req: Q) -> Q::Response {
    send(s, version, 1, &req).await;
    let (correlation, response) = receive::<Q::Response>(s, version).await;
    assert_eq!(correlation, 1);
    response
}

/// A topic name.
pub fn name(s: &str) -> TopicName {
    TopicName(StrBytes::from_string(s.to_owned()))
}
