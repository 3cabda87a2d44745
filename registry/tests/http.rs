//! The HTTP client against the dev server over real HTTP on loopback: the shared behaviour suite
//! (same ids, versions and errors as the in-memory registry), plus client and server specifics.

#[macro_use]
mod suite;

use kcodec_registry::http::{HttpRegistry, HttpRegistryConfig};
use kcodec_registry::server::{DevServer, ProtobufFormat, ServerOptions, open_registry};
use kcodec_registry::{InMemoryRegistry, RegistryError, Schema, SchemaRegistry, Version};
use std::sync::Arc;

async fn start(registry: InMemoryRegistry, options: ServerOptions) -> DevServer {
    DevServer::start("127.0.0.1:0".parse().unwrap(), Arc::new(registry), options)
        .await
        .unwrap()
}

/// A fresh dev server and a client with caching off, so every call reaches the server.
async fn fresh() -> (Arc<dyn SchemaRegistry>, DevServer) {
    let server = start(InMemoryRegistry::new(), ServerOptions::default()).await;
    let client = HttpRegistryConfig::new(&server.url())
        .cache_capacity(0)
        .build()
        .unwrap();
    (Arc::new(client), server)
}

suite_tests!(fresh());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_registration_from_32_tasks_gives_one_id_and_version() {
    let server = start(InMemoryRegistry::new(), ServerOptions::default()).await;
    // Separate clients (no shared cache), so 32 requests really race at the server.
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let client = HttpRegistry::new(&server.url()).unwrap();
            tokio::spawn(async move {
                client
                    .register("race-value", &suite::user_v1(), false)
                    .await
            })
        })
        .collect();
    let mut seen = Vec::new();
    for t in tasks {
        let r = t.await.unwrap().unwrap();
        seen.push((r.id, r.version));
    }
    assert!(seen.iter().all(|s| *s == (1, 1)), "{seen:?}");
    let client = HttpRegistry::new(&server.url()).unwrap();
    assert_eq!(client.versions("race-value", true).await.unwrap(), vec![1]);

    // And 32 tasks sharing one caching client: one id, one version as well.
    let shared = Arc::new(HttpRegistry::new(&server.url()).unwrap());
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let c = shared.clone();
            tokio::spawn(async move { c.register("race2-value", &suite::user_v2(), false).await })
        })
        .collect();
    for t in tasks {
        let r = t.await.unwrap().unwrap();
        assert_eq!((r.id, r.version), (2, 1));
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_with_data_dir_keeps_every_id() {
    let dir = tempfile::tempdir().unwrap();
    let mut registered = Vec::new();
    {
        let server = start(open_registry(dir.path()).unwrap(), ServerOptions::default()).await;
        let client = HttpRegistryConfig::new(&server.url())
            .cache_capacity(0)
            .build()
            .unwrap();
        client
            .set_compatibility(Some("b"), kcodec_registry::CompatibilityLevel::None)
            .await
            .unwrap();
        registered.push(
            client
                .register("a", &suite::user_v1(), false)
                .await
                .unwrap(),
        );
        registered.push(
            client
                .register("a", &suite::user_v2(), false)
                .await
                .unwrap(),
        );
        registered.push(client.register("b", &suite::other(), false).await.unwrap());
        registered.push(
            client
                .register("b", &suite::user_v1(), false)
                .await
                .unwrap(),
        );
        client
            .delete_version("a", Version::Number(2), false)
            .await
            .unwrap();
        server.shutdown().await;
    }
    // A second server on the same data directory while the first holds it is refused.
    let reopened = open_registry(dir.path()).unwrap();
    let e = open_registry(dir.path()).unwrap_err();
    assert!(matches!(e, RegistryError::Storage { .. }), "{e}");
    let server = start(reopened, ServerOptions::default()).await;
    let client = HttpRegistryConfig::new(&server.url())
        .cache_capacity(0)
        .build()
        .unwrap();
    for r in &registered {
        let schema = client.schema_by_id(r.id).await.unwrap();
        assert_eq!(schema.schema, r.schema.schema);
        assert_eq!(
            *client.schema_by_guid(r.guid.unwrap()).await.unwrap(),
            *schema
        );
        let v = client
            .version(&r.subject, Version::Number(r.version), true)
            .await
            .unwrap();
        assert_eq!((v.id, v.guid), (r.id, r.guid));
    }
    assert_eq!(client.versions("a", false).await.unwrap(), vec![1]);
    assert_eq!(
        client.compatibility(Some("b"), false).await.unwrap(),
        kcodec_registry::CompatibilityLevel::None
    );
    // New ids continue after the old ones.
    let next = client
        .register("c", &Schema::avro(r#""string""#), false)
        .await
        .unwrap();
    assert_eq!(next.id, 4);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn torn_journal_tail_is_ignored_on_restart() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let registry = open_registry(dir.path()).unwrap();
        registry
            .register("a", &suite::user_v1(), false)
            .await
            .unwrap()
            .id
    };
    let path = dir
        .path()
        .join(kcodec_registry::server::journal::JOURNAL_FILE);
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("{\"op\":\"register\",\"subj");
    std::fs::write(&path, text).unwrap();
    let registry = open_registry(dir.path()).unwrap();
    assert_eq!(
        registry.schema_by_id(id).await.unwrap().schema,
        suite::user_v1().schema
    );
    // The torn tail was cut: new entries append cleanly and survive another restart.
    let b = registry
        .register("b", &suite::other(), false)
        .await
        .unwrap();
    drop(registry);
    let registry = open_registry(dir.path()).unwrap();
    assert_eq!(
        registry.schema_by_id(b.id).await.unwrap().schema,
        suite::other().schema
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_bodies_and_content_type_are_confluents() {
    let server = start(InMemoryRegistry::new(), ServerOptions::default()).await;
    let http = reqwest::Client::new();
    let r = http
        .get(format!("{}/subjects/nope/versions", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(
        r.headers()["content-type"],
        "application/vnd.schemaregistry.v1+json"
    );
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error_code"], 40401);
    assert_eq!(body["message"], "Subject 'nope' not found.");

    let r = http
        .get(format!("{}/subjects/s/versions/zero", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["error_code"],
        42202
    );

    let r = http
        .post(format!("{}/subjects/s/versions", server.url()))
        .header("content-type", "application/vnd.schemaregistry.v1+json")
        .body(r#"{"schema": "{\"type\": \"record\", \"name\": \"R\", \"fields\": []}"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["id"], 1);
    assert_eq!(body["version"], 1);
    assert_eq!(
        body["schema"],
        r#"{"type":"record","name":"R","fields":[]}"#
    );
    assert!(body["guid"].as_str().unwrap().len() == 36);
    assert!(body.get("schemaType").is_none(), "AVRO is implied: {body}");

    // Python's client spells booleans `True`; it must count.
    let r = http
        .delete(format!("{}/subjects/s", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Vec<i32>>().await.unwrap(), vec![1]);
    let r = http
        .get(format!("{}/subjects?deleted=True", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Vec<String>>().await.unwrap(), vec!["s".to_owned()]);

    let r = http
        .post(format!("{}/subjects/s/versions", server.url()))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["error_code"],
        400
    );

    let r = http
        .get(format!("{}/no/such/route", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["error_code"],
        404
    );

    let r = http
        .get(format!("{}/schemas/ids/1?fetchMaxId=true", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["maxId"], 1);

    let r = http
        .put(format!("{}/config", server.url()))
        .body(r#"{"compatibility":"SIDEWAYS"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["error_code"],
        42203
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_bodies_are_limited() {
    let options = ServerOptions {
        body_limit: 1024,
        ..ServerOptions::default()
    };
    let server = start(InMemoryRegistry::new(), options).await;
    let big = format!(
        r#"{{"schema": "{{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"{}\"]}}"}}"#,
        "A".repeat(4096)
    );
    let r = reqwest::Client::new()
        .post(format!("{}/subjects/s/versions", server.url()))
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["error_code"],
        413
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_auth_is_enforced() {
    let options = ServerOptions {
        basic_auth: Some(("alice".into(), "s3cret".into())),
        ..ServerOptions::default()
    };
    let server = start(InMemoryRegistry::new(), options).await;
    let anonymous = HttpRegistryConfig::new(&server.url()).build().unwrap();
    let e = anonymous.subjects(false).await.unwrap_err();
    assert!(
        matches!(
            e,
            RegistryError::Server {
                status: 401,
                error_code: 401,
                ..
            }
        ),
        "{e:?}"
    );
    let wrong = HttpRegistryConfig::new(&server.url())
        .basic_auth("alice", "nope")
        .build()
        .unwrap();
    assert_eq!(wrong.subjects(false).await.unwrap_err().http_status(), 401);
    let alice = HttpRegistryConfig::new(&server.url())
        .basic_auth("alice", "s3cret")
        .build()
        .unwrap();
    assert!(alice.subjects(false).await.unwrap().is_empty());
    let r = reqwest::Client::new()
        .get(format!("{}/subjects", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic")
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn base_urls_are_tried_in_turn() {
    let server = start(InMemoryRegistry::new(), ServerOptions::default()).await;
    // A port nobody listens on (bound, then released).
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let client = HttpRegistry::new(&format!("http://{dead}, {}", server.url())).unwrap();
    let r = client
        .register("s", &suite::user_v1(), false)
        .await
        .unwrap();
    assert_eq!(r.id, 1);
    let only_dead = HttpRegistry::new(&format!("http://{dead}")).unwrap();
    let e = only_dead.subjects(false).await.unwrap_err();
    assert!(matches!(e, RegistryError::Transport { .. }), "{e:?}");
    assert!(
        std::error::Error::source(&e).is_some(),
        "transport errors keep their source"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_keeps_immutable_answers_and_not_errors() {
    let server = start(InMemoryRegistry::new(), ServerOptions::default()).await;
    let client = HttpRegistry::new(&server.url()).unwrap();
    // Errors are not cached: `latest` of an empty subject fails, then works once registered.
    let e = client.latest("s").await.unwrap_err();
    assert_eq!(e.error_code(), 40401);
    let r = client
        .register("s", &suite::user_v1(), false)
        .await
        .unwrap();
    assert_eq!(client.latest("s").await.unwrap().id, r.id);
    let by_id = client.schema_by_id(r.id).await.unwrap();
    let found = client
        .lookup("s", &suite::user_v1(), false, false)
        .await
        .unwrap();
    assert_eq!(found.version, 1);
    server.shutdown().await;
    // Schemas by id and GUID, and registrations, are served from the cache with the server gone.
    assert_eq!(client.schema_by_id(r.id).await.unwrap(), by_id);
    assert_eq!(client.schema_by_guid(r.guid.unwrap()).await.unwrap(), by_id);
    assert_eq!(
        client
            .register("s", &suite::user_v1(), false)
            .await
            .unwrap()
            .id,
        r.id
    );
    // Uncached calls fail with a transport error.
    assert!(matches!(
        client.subjects(false).await.unwrap_err(),
        RegistryError::Transport { .. }
    ));
}

struct Tagged;

impl ProtobufFormat for Tagged {
    fn format(
        &self,
        schema: &Schema,
        references: &kcodec_registry::compat::References,
        format: &str,
    ) -> Result<String, RegistryError> {
        Ok(format!(
            "{format}:{}:{}",
            references.len(),
            schema.schema.len()
        ))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protobuf_format_hook_answers_format_requests() {
    let options = ServerOptions {
        protobuf_format: Arc::new(Tagged),
        ..ServerOptions::default()
    };
    let server = start(InMemoryRegistry::new(), options).await;
    let client = HttpRegistry::new(&server.url()).unwrap();
    let proto = Schema::protobuf("syntax = \"proto3\";\nmessage M { int32 a = 1; }\n");
    let r = client.register("p", &proto, false).await.unwrap();
    let http = reqwest::Client::new();
    let body: serde_json::Value = http
        .get(format!(
            "{}/schemas/ids/{}?format=serialized",
            server.url(),
            r.id
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["schemaType"], "PROTOBUF");
    assert_eq!(
        body["schema"],
        format!("serialized:0:{}", proto.schema.len())
    );
    // Without `format`, the stored text.
    let body: serde_json::Value = http
        .get(format!("{}/subjects/p/versions/latest", server.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["schema"], proto.schema);
    server.shutdown().await;
}
