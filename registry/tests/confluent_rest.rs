//! The dev server's REST answers pinned to Confluent's Schema Registry (the Java class and method
//! each test follows is named on it), over real HTTP on loopback.

use kcodec_registry::InMemoryRegistry;
use kcodec_registry::server::{DevServer, ServerOptions};
use serde_json::{Value, json};
use std::sync::Arc;

const CT: &str = "application/vnd.schemaregistry.v1+json";

async fn start(options: ServerOptions) -> DevServer {
    DevServer::start(
        "127.0.0.1:0".parse().unwrap(),
        Arc::new(InMemoryRegistry::new()),
        options,
    )
    .await
    .unwrap()
}

/// Sends `body` as JSON with `method` to `path`; the status and the JSON answer.
async fn send(server: &DevServer, method: reqwest::Method, path: &str, body: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .request(method, format!("{}{path}", server.url()))
        .header("content-type", CT)
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

async fn put(server: &DevServer, path: &str, body: &str) -> (u16, Value) {
    send(server, reqwest::Method::PUT, path, body).await
}

async fn post(server: &DevServer, path: &str, body: &str) -> (u16, Value) {
    send(server, reqwest::Method::POST, path, body).await
}

async fn get(server: &DevServer, path: &str) -> (u16, Value) {
    let r = reqwest::get(format!("{}{path}", server.url()))
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

/// `ConfigResource.updateTopLevelConfig`/`updateSubjectLevelConfig` with `ConfigValue.update`:
/// every field of `ConfigUpdateRequest` is optional, an update sets what it carries and keeps the
/// rest, and the answer is the merged config (`new ConfigUpdateRequest(config)`, nulls left out).
/// Only an unknown level is refused (`RestInvalidCompatibilityException`, 42203).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_updates_without_a_level_keep_the_level() {
    let server = start(ServerOptions::default()).await;
    // global: no level carried, the level in force is kept and answered
    assert_eq!(
        put(&server, "/config", r#"{"compatibility":"FULL"}"#).await,
        (200, json!({"compatibility": "FULL"}))
    );
    assert_eq!(
        put(&server, "/config", r#"{"normalize":true}"#).await,
        (200, json!({"compatibility": "FULL"}))
    );
    assert_eq!(
        put(&server, "/config", "{}").await,
        (200, json!({"compatibility": "FULL"}))
    );
    assert_eq!(
        get(&server, "/config").await,
        (200, json!({"compatibilityLevel": "FULL"}))
    );
    // a subject without a level of its own: nothing set, nothing answered
    assert_eq!(
        put(
            &server,
            "/config/s",
            r#"{"normalize":true,"validateFields":false}"#
        )
        .await,
        (200, json!({}))
    );
    assert_eq!(get(&server, "/config/s").await.1["error_code"], 40408);
    // with one: kept
    assert_eq!(
        put(&server, "/config/s", r#"{"compatibilityLevel":"none"}"#).await,
        (200, json!({"compatibility": "NONE"}))
    );
    assert_eq!(
        put(&server, "/config/s", r#"{"normalize":true}"#).await,
        (200, json!({"compatibility": "NONE"}))
    );
    assert_eq!(
        get(&server, "/config/s").await,
        (200, json!({"compatibilityLevel": "NONE"}))
    );
    // an unknown level is still refused
    let (status, body) = put(&server, "/config/s", r#"{"compatibility":"SIDEWAYS"}"#).await;
    assert_eq!((status, body["error_code"].clone()), (422, json!(42203)));
    server.shutdown().await;
}

/// `KafkaSchemaRegistry.registerOrForward` then `register` (`AbstractSchemaRegistry.checkRegisterMode`)
/// in READWRITE mode: a register request's `id` names the registration when the schema is
/// already under the subject with that id, else it is refused, 42205 ("... is not in import
/// mode"); a `version` must be the subject's next one (`InvalidSchemaException`, 42201).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_with_an_id_or_version_outside_import_mode() {
    let server = start(ServerOptions::default()).await;
    let path = "/subjects/s/versions";
    let (status, body) = post(&server, path, r#"{"schema":"\"int\"","id":500}"#).await;
    assert_eq!((status, body["error_code"].clone()), (422, json!(42205)));
    assert_eq!(
        body["message"],
        "Subject s in context  is not in import mode"
    );
    // nothing was registered
    assert_eq!(get(&server, "/subjects").await, (200, json!([])));

    let (status, body) = post(&server, path, r#"{"schema":"\"int\""}"#).await;
    assert_eq!((status, body["id"].clone()), (200, json!(1)));
    // the id (and version) it already has: that registration
    for request in [
        r#"{"schema":"\"int\"","id":1}"#,
        r#"{"schema":"\"int\"","id":1,"version":1}"#,
        r#"{"schema":"\"int\"","id":-1}"#,
        r#"{"schema":"\"int\"","version":-1}"#,
    ] {
        let (status, body) = post(&server, path, request).await;
        assert_eq!(
            (status, body["id"].clone(), body["version"].clone()),
            (200, json!(1), json!(1)),
            "{request}"
        );
    }
    // another id, or the right id with another version: refused
    for request in [
        r#"{"schema":"\"int\"","id":2}"#,
        r#"{"schema":"\"int\"","id":1,"version":2}"#,
        r#"{"schema":"\"long\"","id":2}"#,
    ] {
        let (status, body) = post(&server, path, request).await;
        assert_eq!(
            (status, body["error_code"].clone()),
            (422, json!(42205)),
            "{request}"
        );
    }
    // a version that is not the next one
    let (status, body) = post(&server, path, r#"{"schema":"\"long\"","version":5}"#).await;
    assert_eq!((status, body["error_code"].clone()), (422, json!(42201)));
    assert_eq!(
        body["message"],
        "Version is not one more than previous version"
    );
    // the next one
    put(&server, "/config/s", r#"{"compatibility":"NONE"}"#).await;
    let (status, body) = post(&server, path, r#"{"schema":"\"long\"","version":2}"#).await;
    assert_eq!(
        (status, body["id"].clone(), body["version"].clone()),
        (200, json!(2), json!(2))
    );
    server.shutdown().await;
}

/// A `Content-Length` over the body limit is answered 413 from the header, at once: with a
/// body-read timeout of an hour, the answer can only come from the header.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declared_length_over_the_limit_is_refused_on_sight() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = start(ServerOptions {
        body_limit: 8 * 1024 * 1024,
        body_read_timeout: std::time::Duration::from_secs(3600),
        ..ServerOptions::default()
    })
    .await;
    let mut client = tokio::net::TcpStream::connect(server.local_addr())
        .await
        .unwrap();
    client
        .write_all(
            b"POST /subjects/s/versions HTTP/1.1\r\nHost: localhost\r\n\
              Content-Type: application/json\r\nContent-Length: 99999999999\r\n\r\n{\"schema\":",
        )
        .await
        .unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        let n = tokio::time::timeout(std::time::Duration::from_secs(60), client.read(&mut buf))
            .await
            .expect("answered from the header")
            .unwrap();
        assert_ne!(n, 0, "closed without an answer");
        answer.extend_from_slice(&buf[..n]);
        if let Some(end) = answer.windows(4).position(|w| w == b"\r\n\r\n")
            && answer.ends_with(b"}")
        {
            break end;
        }
    };
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    let body: Value = serde_json::from_str(&answer[head_end + 4..]).unwrap();
    assert_eq!(body["error_code"], 413);
    // the server still answers others
    assert_eq!(get(&server, "/subjects").await, (200, json!([])));
    server.shutdown().await;
}

/// `JsonSchema.validate()`, which Confluent's `AbstractSchemaRegistry.canonicalizeSchema` runs
/// on a new schema at registration: a JSON Schema its meta-schema refuses, or with a `$ref`
/// that does not resolve (or only leads back to itself), is refused 42201 and not registered,
/// so the subject's next registration is checked as if it never came.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_json_schemas_are_refused_on_registration() {
    let server = start(ServerOptions::default()).await;
    let register = |subject: &'static str, schema: &str, references: Value| {
        let body = json!({"schemaType": "JSON", "schema": schema, "references": references});
        let server = &server;
        async move {
            post(
                server,
                &format!("/subjects/{subject}/versions"),
                &body.to_string(),
            )
            .await
        }
    };
    for invalid in [
        r#"{"type":"notatype"}"#,
        r##"{"properties":{"a":{"$ref":"#/definitions/missing"}}}"##,
        r#"{"minimum":"abc"}"#,
        r##"{"$ref":"#/definitions/a","definitions":{"a":{"$ref":"#/definitions/b"},"b":{"$ref":"#/definitions/a"}}}"##,
        r##"{"$ref":"#"}"##,
        r#"{"$ref":"other.json"}"#,
    ] {
        let (status, body) = register("s", invalid, json!([])).await;
        assert_eq!(
            (status, body["error_code"].clone()),
            (422, json!(42201)),
            "{invalid}: {body}"
        );
    }
    assert_eq!(get(&server, "/subjects").await, (200, json!([])));
    // valid ones register: local and recursive references, and a reference by name
    let (status, body) = register(
        "s",
        r##"{"type":"object","properties":{"next":{"$ref":"#"},"n":{"$ref":"#/definitions/n"}},"definitions":{"n":{"type":"integer","minimum":0}}}"##,
        json!([]),
    )
    .await;
    assert_eq!((status, body["id"].clone()), (200, json!(1)), "{body}");
    let (status, body) = register("other", r#"{"type":"string"}"#, json!([])).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = register(
        "t",
        r#"{"type":"object","properties":{"o":{"$ref":"other.json"}}}"#,
        json!([{"name": "other.json", "subject": "other", "version": 1}]),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    server.shutdown().await;
}

/// 300 connections that send part of a request header do not lock a normal client out: with
/// header and body timeouts of an hour, `GET /subjects` can only be answered while they are
/// all open, as Confluent's Jetty (no accept limit, idle timeouts only) answers it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_do_not_lock_others_out() {
    use tokio::io::AsyncWriteExt;
    let hour = std::time::Duration::from_secs(3600);
    let server = start(ServerOptions {
        header_read_timeout: hour,
        body_read_timeout: hour,
        ..ServerOptions::default()
    })
    .await;
    let mut slow = Vec::new();
    for n in 0..300 {
        let mut c = tokio::net::TcpStream::connect(server.local_addr())
            .await
            .unwrap();
        if n % 2 == 0 {
            c.write_all(b"GET /subj").await.unwrap();
        } else {
            c.write_all(
                b"POST /subjects/s/versions HTTP/1.1\r\nHost: localhost\r\n\
                  Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{",
            )
            .await
            .unwrap();
        }
        slow.push(c);
    }
    let answer = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        get(&server, "/subjects"),
    )
    .await
    .expect("a normal client is served while the slow ones hold their connections");
    assert_eq!(answer, (200, json!([])));
    drop(slow);
}
