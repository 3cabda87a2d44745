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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_and_lesser_endpoints() {
    let server = start(InMemoryRegistry::new(), ServerOptions::default()).await;
    let client = HttpRegistry::new(&server.url()).unwrap();
    let address = Schema::avro(
        r#"{"type":"record","name":"Address","fields":[{"name":"street","type":"string"}]}"#,
    );
    let a = client.register("address", &address, false).await.unwrap();
    let person = Schema::avro(
        r#"{"type":"record","name":"Person","fields":[{"name":"home","type":"Address"}]}"#,
    )
    .with_references(vec![kcodec_registry::SchemaReference {
        name: "Address".into(),
        subject: "address".into(),
        version: 1,
    }]);
    let p = client
        .register("person-value", &person, false)
        .await
        .unwrap();
    client
        .register("person-key", &address, false)
        .await
        .unwrap();
    client.delete_subject("person-key", false).await.unwrap();

    let base = server.url();
    let http = reqwest::Client::new();
    let get = |path: String| {
        let http = http.clone();
        let base = base.clone();
        async move {
            let r = http.get(format!("{base}{path}")).send().await.unwrap();
            assert!(r.status().is_success(), "{path}: {}", r.status());
            r.text().await.unwrap()
        }
    };
    let json = |text: String| serde_json::from_str::<serde_json::Value>(&text).unwrap();

    assert_eq!(
        json(get("/subjects/address/versions/1/referencedby".into()).await),
        serde_json::json!([p.id])
    );
    assert_eq!(
        json(get(format!("/schemas/ids/{}/versions?deleted=true", a.id)).await),
        serde_json::json!([{"subject": "address", "version": 1}, {"subject": "person-key", "version": 1}])
    );
    assert_eq!(
        json(get(format!("/schemas/ids/{}/versions", a.id)).await),
        serde_json::json!([{"subject": "address", "version": 1}])
    );
    assert_eq!(
        get(format!("/schemas/ids/{}/schema", a.id)).await,
        a.schema.schema
    );
    assert_eq!(
        get("/subjects/person-value/versions/latest/schema".into()).await,
        p.schema.schema
    );
    let body = json(get(format!("/schemas/ids/{}", p.id)).await);
    assert_eq!(
        body["references"],
        serde_json::json!([{"name": "Address", "subject": "address", "version": 1}])
    );
    assert_eq!(body["guid"], p.guid.unwrap().to_string());
    assert_eq!(
        json(get("/subjects?subjectPrefix=person".into()).await),
        serde_json::json!(["person-value"])
    );
    assert_eq!(
        json(get("/subjects?deleted_only=true".into()).await),
        serde_json::json!(["person-key"])
    );
    assert_eq!(
        json(get("/subjects?deleted=true&offset=1&limit=1".into()).await),
        serde_json::json!(["person-key"])
    );
    assert_eq!(
        json(get("/schemas/types".into()).await),
        serde_json::json!(["JSON", "PROTOBUF", "AVRO"])
    );
    assert_eq!(json(get("/mode".into()).await)["mode"], "READWRITE");
    assert_eq!(
        json(get("/config/address?defaultToGlobal=true".into()).await)["compatibilityLevel"],
        "BACKWARD"
    );
    client
        .set_compatibility(None, kcodec_registry::CompatibilityLevel::Full)
        .await
        .unwrap();
    let r = http.delete(format!("{base}/config")).send().await.unwrap();
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["compatibilityLevel"],
        "FULL"
    );
    assert_eq!(
        client.compatibility(None, false).await.unwrap(),
        kcodec_registry::CompatibilityLevel::Backward
    );
    // Subjects with characters that need escaping in a path.
    let odd = "a/b c:%";
    let r = client.register(odd, &address, false).await.unwrap();
    assert_eq!(client.versions(odd, false).await.unwrap(), vec![1]);
    assert_eq!(client.latest(odd).await.unwrap().id, r.id);
    server.shutdown().await;
}

/// A one-shot HTTP server that records the request it gets and answers `body` with `status`.
async fn recording_server(
    status: u16,
    body: &'static str,
) -> (String, tokio::task::JoinHandle<String>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = socket.read(&mut buf).await.unwrap();
            request.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&request);
            if let Some(head_end) = text.find("\r\n\r\n") {
                let length = text[..head_end]
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse::<usize>().unwrap())
                    })
                    .unwrap_or(0);
                if request.len() >= head_end + 4 + length {
                    break;
                }
            }
            if n == 0 {
                break;
            }
        }
        let answer = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/vnd.schemaregistry.v1+json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        socket.write_all(answer.as_bytes()).await.unwrap();
        String::from_utf8_lossy(&request).into_owned()
    });
    (url, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bearer_auth_headers_and_request_shape() {
    let (url, request) = recording_server(
        200,
        r#"{"id":7,"version":3,"guid":"00000000-0000-4000-8000-000000000001"}"#,
    )
    .await;
    let client = HttpRegistryConfig::new(&url)
        .bearer_auth("tok-123")
        .header("target-sr-cluster", "lsrc-1")
        .build()
        .unwrap();
    let proto = Schema::protobuf("syntax = \"proto3\";");
    let r = client.register("a/b", &proto, true).await.unwrap();
    assert_eq!((r.id, r.version), (7, 3));
    assert_eq!(
        r.schema, proto,
        "no schema in the answer: the one sent is kept"
    );
    let request = request.await.unwrap().to_ascii_lowercase();
    assert!(
        request.starts_with("post /subjects/a%2fb/versions?normalize=true http/1.1"),
        "{request}"
    );
    assert!(
        request.contains("authorization: bearer tok-123"),
        "{request}"
    );
    assert!(request.contains("target-sr-cluster: lsrc-1"), "{request}");
    assert!(
        request.contains("content-type: application/vnd.schemaregistry.v1+json"),
        "{request}"
    );
    assert!(
        request.contains("accept: application/vnd.schemaregistry.v1+json"),
        "{request}"
    );
    assert!(request.contains(r#""schematype":"protobuf""#), "{request}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_error_codes_keep_status_code_and_message() {
    let (url, _request) = recording_server(
        500,
        r#"{"error_code":50001,"message":"Error in the backend data store"}"#,
    )
    .await;
    let client = HttpRegistry::new(&url).unwrap();
    let e = client.subjects(false).await.unwrap_err();
    match e {
        RegistryError::Server {
            status,
            error_code,
            message,
        } => {
            assert_eq!((status, error_code), (500, 50001));
            assert_eq!(message, "Error in the backend data store");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_time_out() {
    // Accepts connections (the kernel's backlog does) but never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let client = HttpRegistryConfig::new(&format!("http://{}", silent.local_addr().unwrap()))
        .timeout(std::time::Duration::from_millis(300))
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let e = client.subjects(false).await.unwrap_err();
    assert!(matches!(e, RegistryError::Transport { .. }), "{e:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    drop(silent);
}

/// The review's reproducer over raw HTTP: one Protobuf schema sent with other whitespace, with
/// and without `normalize`, is one id and one version; the lookup finds it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protobuf_whitespace_variants_are_one_version_over_http() {
    let server = start(InMemoryRegistry::new(), ServerOptions::default()).await;
    let http = reqwest::Client::new();
    let base = server.url();
    let post = |path: &str, schema: &str| {
        let body = serde_json::json!({"schemaType": "PROTOBUF", "schema": schema});
        let request = http.post(format!("{base}{path}")).json(&body);
        async move {
            let r = request.send().await.unwrap();
            let status = r.status().as_u16();
            (status, r.json::<serde_json::Value>().await.unwrap())
        }
    };
    let first = "syntax = \"proto3\"; package t; message A { int32 x = 1; }";
    let (status, v1) = post("/subjects/pt-value/versions", first).await;
    assert_eq!(status, 200, "{v1}");
    for (path, text) in [
        (
            "/subjects/pt-value/versions",
            "syntax = \"proto3\";\npackage t;\nmessage A {\n  int32 x = 1;\n}\n",
        ),
        (
            "/subjects/pt-value/versions?normalize=true",
            "syntax = \"proto3\";  package t;  message A { int32 x = 1; }",
        ),
        (
            "/subjects/pt-value?normalize=true",
            "syntax = \"proto3\";\n\npackage t; message A {int32 x = 1;}",
        ),
        (
            "/subjects/pt-value",
            "syntax = \"proto3\"; package t; // c\nmessage A { int32 x = 1; }",
        ),
    ] {
        let (status, body) = post(path, text).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(
            (&body["id"], &body["version"]),
            (&v1["id"], &v1["version"]),
            "{path}"
        );
        assert_eq!(body["schema"], text, "{path}: answered in the form sent");
    }
    let versions: Vec<i32> = http
        .get(format!("{base}/subjects/pt-value/versions"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(versions, vec![1]);
    let stored: serde_json::Value = http
        .get(format!("{base}/schemas/ids/{}", v1["id"]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stored["schema"], first, "the id keeps the first text");
    // Not registered: Confluent's 40403 wording.
    let (status, body) = post(
        "/subjects/pt-value",
        "syntax = \"proto3\"; package t; message B { int32 x = 1; }",
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(body["error_code"], 40403);
    assert_eq!(body["message"], "Schema not found");
    server.shutdown().await;
}

/// `GET /schemas`, `GET /subjects/{s}/metadata`, `GET /mode/{s}` and the 40403 wording, as
/// Confluent's Schema Registry answers them (its `SchemasResource`, `SubjectsResource`,
/// `ModeResource` and `Errors`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemas_list_metadata_mode_and_not_found_wording() {
    let server = start(InMemoryRegistry::new(), ServerOptions::default()).await;
    let client = HttpRegistry::new(&server.url()).unwrap();
    client
        .set_compatibility(None, kcodec_registry::CompatibilityLevel::None)
        .await
        .unwrap();
    let s1 = Schema::avro(r#"{"type":"record","name":"A","fields":[]}"#);
    let s2 = Schema::avro(r#"{"type":"record","name":"B","fields":[]}"#);
    let p = Schema::protobuf("syntax = \"proto3\"; message P { int32 x = 1; }");
    let a1 = client.register("a-value", &s1, false).await.unwrap();
    let a2 = client.register("a-value", &s2, false).await.unwrap();
    let b1 = client.register("b-value", &p, false).await.unwrap();
    client
        .delete_version("a-value", Version::Number(2), false)
        .await
        .unwrap();
    let base = server.url();
    let http = reqwest::Client::new();
    let get = |path: &str| {
        let request = http.get(format!("{base}{path}"));
        async move {
            let r = request.send().await.unwrap();
            let status = r.status().as_u16();
            (status, r.json::<serde_json::Value>().await.unwrap())
        }
    };
    let listed = |body: &serde_json::Value| -> Vec<(String, i64, i64)> {
        body.as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["subject"].as_str().unwrap().to_owned(),
                    s["version"].as_i64().unwrap(),
                    s["id"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    let (a1, a2, b1) = (a1.id as i64, a2.id as i64, b1.id as i64);
    let (status, body) = get("/schemas").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        listed(&body),
        [("a-value".into(), 1, a1), ("b-value".into(), 1, b1)]
    );
    assert!(
        body[0].get("schemaType").is_none(),
        "AVRO is implied: {body}"
    );
    assert_eq!(body[1]["schemaType"], "PROTOBUF");
    assert_eq!(body[1]["schema"], p.schema);
    assert_eq!(
        listed(&get("/schemas?deleted=true").await.1),
        [
            ("a-value".into(), 1, a1),
            ("a-value".into(), 2, a2),
            ("b-value".into(), 1, b1)
        ]
    );
    // latestOnly: the last version each subject shows (with deleted, a soft-deleted one).
    assert_eq!(
        listed(&get("/schemas?latestOnly=true").await.1),
        [("a-value".into(), 1, a1), ("b-value".into(), 1, b1)]
    );
    assert_eq!(
        listed(&get("/schemas?latestOnly=true&deleted=true").await.1),
        [("a-value".into(), 2, a2), ("b-value".into(), 1, b1)]
    );
    assert_eq!(
        listed(&get("/schemas?subjectPrefix=b").await.1),
        [("b-value".into(), 1, b1)]
    );
    assert_eq!(listed(&get("/schemas?subjectPrefix=zz").await.1), []);
    assert_eq!(
        listed(&get("/schemas?deleted=true&offset=1&limit=1").await.1),
        [("a-value".into(), 2, a2)]
    );
    // A limit that is not positive means the default (all, here), as in Confluent.
    assert_eq!(listed(&get("/schemas?limit=0").await.1).len(), 2);
    assert_eq!(listed(&get("/schemas?limit=-1").await.1).len(), 2);

    // No metadata is kept, and Confluent matches no version without metadata.
    let (status, body) = get("/subjects/a-value/metadata?key=owner&value=me").await;
    assert_eq!(
        (status, &body["error_code"]),
        (404, &40403.into()),
        "{body}"
    );
    assert_eq!(body["message"], "Schema not found");
    let (status, body) = get("/subjects/nope/metadata").await;
    assert_eq!(
        (status, &body["error_code"]),
        (404, &40401.into()),
        "{body}"
    );

    // Modes: global READWRITE; a subject has none of its own unless defaultToGlobal.
    assert_eq!(get("/mode").await.1["mode"], "READWRITE");
    let (status, body) = get("/mode/a-value").await;
    assert_eq!(
        (status, &body["error_code"]),
        (404, &40409.into()),
        "{body}"
    );
    assert_eq!(
        body["message"],
        "Subject 'a-value' does not have subject-level mode configured"
    );
    let (status, body) = get("/mode/a-value?defaultToGlobal=true").await;
    assert_eq!(
        (status, &body["mode"]),
        (200, &"READWRITE".into()),
        "{body}"
    );

    // 40403 by id and GUID: `Schema <id> not found`.
    let (status, body) = get("/schemas/ids/999").await;
    assert_eq!(
        (status, &body["error_code"]),
        (404, &40403.into()),
        "{body}"
    );
    assert_eq!(body["message"], "Schema 999 not found");
    let guid = uuid::Uuid::nil();
    let (_, body) = get(&format!("/schemas/guids/{guid}")).await;
    assert_eq!(body["message"], format!("Schema {guid} not found"));
    // The client reads the message back whole.
    let e = client.schema_by_id(999).await.unwrap_err();
    assert_eq!(e.to_string(), "Schema 999 not found");
    server.shutdown().await;
}
