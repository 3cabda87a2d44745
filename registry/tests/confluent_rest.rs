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
