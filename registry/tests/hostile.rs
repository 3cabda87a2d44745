//! Issue 16's hostile inputs against the dev server over HTTP on loopback, one regression test
//! each: the server answers every one with a Confluent-shaped error or a bounded answer, and
//! stays up.

#[path = "hostile/schemas.rs"]
mod schemas;

use kcodec_registry::InMemoryRegistry;
use kcodec_registry::server::journal::{Fault, FaultInjector};
use kcodec_registry::server::{DevServer, ServerOptions, open_registry_with_faults};
use serde_json::{Value, json};
use std::sync::Arc;

const CT: &str = "application/vnd.schemaregistry.v1+json";

async fn start(registry: InMemoryRegistry) -> DevServer {
    DevServer::start(
        "127.0.0.1:0".parse().unwrap(),
        Arc::new(registry),
        ServerOptions::default(),
    )
    .await
    .unwrap()
}

/// POSTs `body` as JSON to `path`; the status and the JSON answer.
async fn post(server: &DevServer, path: &str, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}{path}", server.url()))
        .header("content-type", CT)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

async fn register(server: &DevServer, subject: &str, kind: &str, schema: &str) -> (u16, Value) {
    post(
        server,
        &format!("/subjects/{subject}/versions"),
        json!({"schemaType": kind, "schema": schema}),
    )
    .await
}

/// GETs `path`; the JSON answer.
async fn get_json(server: &DevServer, path: &str) -> Value {
    reqwest::get(format!("{}{path}", server.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The server still answers (no crash, no stalled lock).
async fn still_up(server: &DevServer) {
    let r = reqwest::get(format!("{}/subjects", server.url()))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_journal_append_loses_no_acknowledged_id() {
    let dir = tempfile::tempdir().unwrap();
    let faults = FaultInjector::default();
    let server = start(open_registry_with_faults(dir.path(), faults.clone()).unwrap()).await;
    let (status, _) = register(&server, "a", "AVRO", r#""string""#).await;
    assert_eq!(status, 200);
    faults.push(Fault {
        bytes_written: 20,
        rollback_fails: false,
    });
    let (status, body) = register(&server, "b", "AVRO", r#""int""#).await;
    assert_eq!(
        (status, body["error_code"].as_u64()),
        (500, Some(50001)),
        "{body}"
    );
    let (status, body) = register(&server, "c", "AVRO", r#""long""#).await;
    assert_eq!((status, &body["id"]), (200, &json!(2)));
    server.shutdown().await;
    let server = start(open_registry_with_faults(dir.path(), faults).unwrap()).await;
    let r: Value = get_json(&server, "/schemas/ids/2").await;
    assert_eq!(r["schema"], r#""long""#);
    let (_, body) = register(&server, "d", "AVRO", r#""double""#).await;
    assert_eq!(body["id"], 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_schema_any_of_self_reference_is_checked_without_overflow() {
    let server = start(InMemoryRegistry::new()).await;
    let (status, _) = register(&server, "j", "JSON", r##"{"anyOf":[{"$ref":"#"}]}"##).await;
    assert_eq!(status, 200);
    for next in [
        r##"{"anyOf":[{"$ref":"#"},{"$ref":"#"}],"title":"x"}"##,
        r##"{"oneOf":[{"$ref":"#"},{"type":"string"}],"type":"object"}"##,
        r##"{"allOf":[{"$ref":"#"}],"anyOf":[{"$ref":"#"}]}"##,
    ] {
        let (status, body) = post(
            &server,
            "/compatibility/subjects/j/versions?verbose=true",
            json!({"schemaType": "JSON", "schema": next}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let (status, _) = register(&server, "j", "JSON", next).await;
        assert!(status == 200 || status == 409, "{status}");
    }
    still_up(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deeply_nested_proto_is_refused_not_a_stack_overflow() {
    let server = start(InMemoryRegistry::new()).await;
    for text in [
        schemas::proto_deep_option(2000),
        schemas::proto_deep_messages(2000),
    ] {
        let (status, body) = register(&server, "p", "PROTOBUF", &text).await;
        assert_eq!(
            (status, body["error_code"].as_u64()),
            (422, Some(42201)),
            "{body}"
        );
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("nesting deeper than 64"),
            "{body}"
        );
    }
    // Moderate nesting still parses.
    let (status, body) =
        register(&server, "p", "PROTOBUF", &schemas::proto_deep_messages(20)).await;
    assert_eq!(status, 200, "{body}");
    still_up(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_schema_fan_out_is_checked_once_per_pair() {
    let server = start(InMemoryRegistry::new()).await;
    let old = schemas::json_fanout(40, "string");
    let new = schemas::json_fanout(40, "integer");
    assert!(old.len() > 4000);
    let (status, _) = register(&server, "f", "JSON", &old).await;
    assert_eq!(status, 200);
    let (status, body) = register(&server, "f", "JSON", &new).await;
    assert_eq!(
        (status, body["error_code"].as_u64()),
        (409, Some(409)),
        "{body}"
    );
    let (status, body) = post(
        &server,
        "/compatibility/subjects/f/versions/latest?verbose=true",
        json!({"schemaType": "JSON", "schema": new}),
    )
    .await;
    assert_eq!(status, 200);
    let messages = body["messages"].as_array().unwrap();
    // 2^40 paths, one comparison per pair of definitions, at most 100 messages plus a summary
    assert_eq!(messages.len(), 101, "{body}");
    assert!(
        messages[100]
            .as_str()
            .unwrap()
            .contains("more messages left out")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn avro_double_reference_verbose_answer_is_bounded() {
    let server = start(InMemoryRegistry::new()).await;
    let old = schemas::avro_double_reference(19, "int");
    let new = schemas::avro_double_reference(19, "string");
    let (status, _) = register(&server, "a", "AVRO", &old).await;
    assert_eq!(status, 200);
    let r = reqwest::Client::new()
        .post(format!(
            "{}/compatibility/subjects/a/versions/latest?verbose=true",
            server.url()
        ))
        .header("content-type", CT)
        .body(json!({"schema": new}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body = r.bytes().await.unwrap();
    assert!(body.len() < 64 * 1024, "{} bytes", body.len());
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["is_compatible"], false);
    assert!(body["messages"].as_array().unwrap().len() <= 101);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_over_its_work_budget_is_a_422() {
    let server = start(InMemoryRegistry::new()).await;
    // every writer branch against every reader branch: 800 × 800 comparisons
    let branches = |f: &dyn Fn(usize) -> String| {
        format!(
            r#"{{"anyOf":[{}]}}"#,
            (0..800).map(f).collect::<Vec<_>>().join(",")
        )
    };
    let old = branches(&|i| format!(r#"{{"type":"string","maxLength":{i}}}"#));
    let new = branches(&|i| format!(r#"{{"type":"integer","maximum":{i}}}"#));
    let (status, _) = register(&server, "b", "JSON", &old).await;
    assert_eq!(status, 200);
    // the failure is remembered: asking again gives the same answer
    for _ in 0..2 {
        let (status, body) = register(&server, "b", "JSON", &new).await;
        assert_eq!(
            (status, body["error_code"].as_u64()),
            (422, Some(42201)),
            "{body}"
        );
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("needs more than its work budget (500000 steps per comparison"),
            "{body}"
        );
    }
    still_up(&server).await;
}

fn reference(subject: &str, version: i32) -> Value {
    json!([{"name": "com.example.Address", "subject": subject, "version": version}])
}

const ADDRESS_V1: &str = r#"{"type":"record","name":"Address","namespace":"com.example","fields":[{"name":"street","type":"string"}]}"#;
const ADDRESS_V2: &str = r#"{"type":"record","name":"Address","namespace":"com.example","fields":[{"name":"street","type":"string"},{"name":"zip","type":"string","default":""}]}"#;
const PERSON: &str = r#"{"type":"record","name":"Person","namespace":"com.example","fields":[{"name":"home","type":"com.example.Address"}]}"#;

/// `-1` (latest) is pinned to the version it names at registration: the stored schema keeps its
/// meaning, the same text registered after the referenced subject moved on is another schema,
/// and the deletion guard (42206) sees every pinned version.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latest_references_are_pinned_at_registration() {
    let server = start(InMemoryRegistry::new()).await;
    register(&server, "address", "AVRO", ADDRESS_V1).await;
    let person = json!({"schema": PERSON, "references": reference("address", -1)});
    let (status, first) = post(&server, "/subjects/person/versions", person.clone()).await;
    assert_eq!(status, 200, "{first}");
    let stored: Value = get_json(&server, &format!("/schemas/ids/{}", first["id"])).await;
    assert_eq!(stored["references"], reference("address", 1), "{stored}");
    // lookup with -1 finds it while version 1 is the latest
    let (status, found) = post(&server, "/subjects/person", person.clone()).await;
    assert_eq!((status, &found["id"]), (200, &first["id"]), "{found}");
    register(&server, "address", "AVRO", ADDRESS_V2).await;
    let (status, second) = post(&server, "/subjects/person/versions", person).await;
    assert_eq!(status, 200, "{second}");
    assert_ne!(second["id"], first["id"], "same id, different meaning");
    let stored: Value = get_json(&server, &format!("/schemas/ids/{}", second["id"])).await;
    assert_eq!(stored["references"], reference("address", 2));
    for path in ["/subjects/address", "/subjects/address/versions/1"] {
        let r = reqwest::Client::new()
            .delete(format!("{}{path}", server.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        assert_eq!(r.json::<Value>().await.unwrap()["error_code"], 42206);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_cannot_reference_its_own_subject() {
    let server = start(InMemoryRegistry::new()).await;
    register(&server, "address", "AVRO", ADDRESS_V1).await;
    for version in [-1, 1] {
        let (status, body) = post(
            &server,
            "/subjects/address/versions",
            json!({"schema": PERSON, "references": reference("address", version)}),
        )
        .await;
        assert_eq!(
            (status, body["error_code"].as_u64()),
            (422, Some(42201)),
            "{body}"
        );
        assert!(
            body["message"].as_str().unwrap().contains("own subject"),
            "{body}"
        );
    }
}

/// A `-1` reference kept by an older journal protects every version of the subject it names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unpinned_reference_from_an_old_journal_still_guards_deletion() {
    use kcodec_registry::memory::Change;
    let lines = [
        json!({"op":"register","subject":"address","version":1,"id":1,
               "guid":"00000000-0000-4000-8000-000000000001","schema_type":"AVRO","schema":ADDRESS_V1}),
        json!({"op":"register","subject":"address","version":2,"id":2,
               "guid":"00000000-0000-4000-8000-000000000002","schema_type":"AVRO","schema":ADDRESS_V2}),
        json!({"op":"register","subject":"person","version":1,"id":3,
               "guid":"00000000-0000-4000-8000-000000000003","schema_type":"AVRO","schema":PERSON,
               "references":reference("address", -1)}),
    ];
    let changes: Vec<Change> = lines
        .into_iter()
        .map(|l| serde_json::from_value(l).unwrap())
        .collect();
    let server = start(InMemoryRegistry::replay(changes).unwrap()).await;
    for path in [
        "/subjects/address/versions/1",
        "/subjects/address/versions/2",
    ] {
        let r = reqwest::Client::new()
            .delete(format!("{}{path}", server.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        assert_eq!(r.json::<Value>().await.unwrap()["error_code"], 42206);
    }
}

async fn start_with(options: ServerOptions) -> DevServer {
    DevServer::start(
        "127.0.0.1:0".parse().unwrap(),
        Arc::new(InMemoryRegistry::new()),
        options,
    )
    .await
    .unwrap()
}

/// Sends raw bytes on a new connection and reads the answer until the server closes it.
async fn raw(server: &DevServer, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(server.local_addr())
        .await
        .unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

/// The JSON body of a raw HTTP answer, with its status.
fn raw_json(answer: &str) -> (u16, Value) {
    let status = answer[9..12].parse().unwrap();
    let body = answer.split_once("\r\n\r\n").unwrap().1;
    (
        status,
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {answer}")),
    )
}

/// A body Confluent's resources do not consume (a browser's `text/plain` form post needs no
/// CORS preflight) is a 415, as Jersey answers it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_bodies_must_be_json_or_octet_stream() {
    let server = start(InMemoryRegistry::new()).await;
    let body = json!({"schema": "\"string\""}).to_string();
    for (content_type, status) in [
        ("text/plain", 415),
        ("application/x-www-form-urlencoded", 415),
        ("multipart/form-data; boundary=x", 415),
        ("application/json; charset=utf-8", 200),
        ("application/vnd.schemaregistry+json", 200),
        ("application/octet-stream", 200),
    ] {
        let r = reqwest::Client::new()
            .post(format!("{}/subjects/s/versions", server.url()))
            .header("content-type", content_type)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status, "{content_type}");
        assert_eq!(r.headers()["content-type"], CT);
        if status == 415 {
            let e: Value = r.json().await.unwrap();
            assert_eq!(
                e,
                json!({"error_code": 415, "message": "HTTP 415 Unsupported Media Type"})
            );
        }
    }
    let versions: Value = get_json(&server, "/subjects/s/versions").await;
    assert_eq!(versions, json!([1]));
}

/// A web page's write (its `Origin` is not the registry's own, or, without `Origin`, its
/// `Sec-Fetch-Site` is not `same-origin`/`none`) is refused; the registry's own origin (host
/// names in any case) and clients that send neither header are not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_origin_writes_are_refused() {
    let server = start(InMemoryRegistry::new()).await;
    let own = server.url();
    for (origin, site, status) in [
        (Some("https://evil.example"), None, 403),
        (Some("null"), None, 403),
        (Some("http://localhost:1"), None, 403),
        (Some(own.as_str()), None, 200),
        (None, None, 200),
        (None, Some("cross-site"), 403),
        (None, Some("same-site"), 403),
        (None, Some("same-origin"), 200),
        (None, Some("none"), 200),
    ] {
        let mut request = reqwest::Client::new()
            .put(format!("{}/config/s", server.url()))
            .header("content-type", CT)
            .body(r#"{"compatibility":"NONE"}"#);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        if let Some(site) = site {
            request = request.header("sec-fetch-site", site);
        }
        let r = request.send().await.unwrap();
        assert_eq!(r.status(), status, "{origin:?} {site:?}");
        let body: Value = r.json().await.unwrap();
        if status == 403 {
            assert_eq!(body["error_code"], 403, "{body}");
        }
    }
    let port = server.local_addr().port();
    let r = reqwest::Client::new()
        .put(format!("{}/config/s", server.url()))
        .header("host", format!("localhost:{port}"))
        .header("origin", format!("http://LocalHost:{port}"))
        .header("content-type", CT)
        .body(r#"{"compatibility":"NONE"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "host names compare without regard to case");
}

/// On a loopback address, a `Host` that names another machine (DNS rebinding) is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_server_answers_only_loopback_hosts() {
    let server = start(InMemoryRegistry::new()).await;
    let port = server.local_addr().port();
    for (host, status) in [
        ("evil.example".to_owned(), 403),
        (format!("evil.example:{port}"), 403),
        (format!("localhost:{port}"), 200),
        (format!("127.0.0.1:{port}"), 200),
        ("[::1]".to_owned(), 200),
    ] {
        let answer = raw(
            &server,
            &format!("GET /subjects HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
        )
        .await;
        let (got, body) = raw_json(&answer);
        assert_eq!(got, status, "{host}: {answer}");
        if status == 403 {
            assert_eq!(body["error_code"], 403);
        }
    }
}

/// Every error answer has Confluent's shape, including the router's own (405) and rejected
/// paths (a subject that is not UTF-8); subjects with control characters are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_has_confluents_shape() {
    let server = start(InMemoryRegistry::new()).await;
    let (status, body) = raw_json(
        &raw(
            &server,
            "PUT /subjects HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        )
        .await,
    );
    assert_eq!(
        (status, body),
        (
            405,
            json!({"error_code": 405, "message": "HTTP 405 Method Not Allowed"})
        )
    );
    let answer = raw(
        &server,
        "GET /subjects/%FF%FE/versions HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(answer.contains(CT), "{answer}");
    let (status, body) = raw_json(&answer);
    assert_eq!((status, &body["error_code"]), (400, &json!(400)), "{body}");
    // the answer as Confluent's RestInvalidSubjectException words it
    for (subject, decoded) in [("a%00b", "a\0b"), ("a%0Ab", "a\nb"), ("%7F", "\x7f")] {
        let (status, body) = register(&server, subject, "AVRO", r#""string""#).await;
        let message = format!("The specified subject '{decoded}' is not a valid.");
        assert_eq!(
            (status, body),
            (422, json!({"error_code": 42208, "message": message})),
            "{subject}"
        );
    }
    assert_eq!(get_json(&server, "/subjects").await, json!([]));
}

/// A client that sends half a request line loses its connection after the header-read
/// timeout, and while it holds the only connection slot no other is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_cut_off_and_connections_limited() {
    use std::io::Read as _;
    use tokio::io::AsyncWriteExt;
    let server = start_with(ServerOptions {
        header_read_timeout: std::time::Duration::from_millis(500),
        max_connections: 1,
        ..ServerOptions::default()
    })
    .await;
    let mut slow = tokio::net::TcpStream::connect(server.local_addr())
        .await
        .unwrap();
    slow.write_all(b"GET /subj").await.unwrap();
    // Served only once the slow connection is gone: its slot is the only one.
    let r = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        reqwest::get(format!("{}/subjects", server.url())),
    )
    .await
    .expect("the second request is served")
    .unwrap();
    assert_eq!(r.status(), 200);
    // The server closed the slow connection before that answer: its end of stream (or reset)
    // is already there, without waiting.
    let mut slow = slow.into_std().unwrap();
    let mut buf = [0u8; 1024];
    loop {
        match slow.read(&mut buf) {
            Ok(0) => break,
            Ok(_) => continue,
            Err(e) => {
                assert_ne!(e.kind(), std::io::ErrorKind::WouldBlock, "still open");
                break;
            }
        }
    }
}

/// A client that sends its headers and then trickles (here: withholds) its body is answered
/// 408 after the body-read timeout and loses its connection slot, so the next client is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_bodies_are_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = start_with(ServerOptions {
        body_read_timeout: std::time::Duration::from_millis(300),
        max_connections: 1,
        ..ServerOptions::default()
    })
    .await;
    let mut slow = tokio::net::TcpStream::connect(server.local_addr())
        .await
        .unwrap();
    slow.write_all(
        b"POST /subjects/s/versions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"schema\":",
    )
    .await
    .unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(60),
        slow.read_to_end(&mut answer),
    )
    .await
    .expect("the slow request is answered and its connection closed")
    .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    let (status, body) = raw_json(&answer);
    assert_eq!(
        (status, &body["error_code"]),
        (408, &json!(408)),
        "{answer}"
    );
    let r = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        reqwest::get(format!("{}/subjects", server.url())),
    )
    .await
    .expect("the next client is served")
    .unwrap();
    assert_eq!(r.status(), 200);
}

/// The client refuses subjects `.` and `..` (URL normalization would send them to another path)
/// instead of silently asking about another resource.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_refuses_dot_subjects() {
    use kcodec_registry::{Schema, SchemaRegistry, Version};
    let server = start(InMemoryRegistry::new()).await;
    let client = kcodec_registry::http::HttpRegistry::new(&server.url()).unwrap();
    for subject in [".", ".."] {
        let e = client
            .register(subject, &Schema::avro(r#""string""#), false)
            .await
            .unwrap_err();
        assert!(
            e.to_string().contains("cannot be named in a URL path"),
            "{e}"
        );
        let e = client
            .version(subject, Version::Latest, false)
            .await
            .unwrap_err();
        assert!(
            e.to_string().contains("cannot be named in a URL path"),
            "{e}"
        );
    }
    assert_eq!(get_json(&server, "/subjects").await, json!([]));
}

/// User info in a base URL becomes basic auth and never appears in the client's errors or
/// debug output.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn url_user_info_becomes_auth_and_is_never_printed() {
    use kcodec_registry::{SchemaRegistry, http::HttpRegistry};
    let server = start_with(ServerOptions {
        basic_auth: Some(("alice".into(), "s3cr:et".into())),
        ..ServerOptions::default()
    })
    .await;
    let port = server.local_addr().port();
    let client = HttpRegistry::new(&format!("http://alice:s3cr%3Aet@127.0.0.1:{port}")).unwrap();
    assert_eq!(client.subjects(false).await.unwrap(), Vec::<String>::new());
    assert!(!format!("{client:?}").contains("s3cr"), "{client:?}");
    // an unreachable registry: the error names the URL, without the password
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_port = dead.local_addr().unwrap().port();
    drop(dead);
    let client =
        HttpRegistry::new(&format!("http://alice:s3cr%3Aet@127.0.0.1:{dead_port}")).unwrap();
    let e = client.subjects(false).await.unwrap_err();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(&format!(": {s:?} {s}"));
        source = s.source();
    }
    assert!(text.contains(&format!("127.0.0.1:{dead_port}")), "{text}");
    assert!(!text.contains("s3cr") && !text.contains("alice"), "{text}");
    // a malformed URL's error does not print it either
    let e = HttpRegistry::new("http://alice:s3cr@[bad").unwrap_err();
    assert!(!e.to_string().contains("s3cr"), "{e}");
}

/// Schemas nested as deep as JSON parsing allows are checked (or refused) without overflowing
/// the server's stacks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deeply_nested_json_and_avro_do_not_overflow() {
    let server = start(InMemoryRegistry::new()).await;
    for depth in [60, 126, 5000] {
        let json_schema = format!(
            "{}{{\"type\":\"string\"}}{}",
            r#"{"type":"array","items":"#.repeat(depth),
            "}".repeat(depth)
        );
        let avro = format!(
            "{}\"int\"{}",
            r#"{"type":"array","items":"#.repeat(depth / 2),
            "}".repeat(depth / 2)
        );
        for (kind, text) in [("JSON", json_schema), ("AVRO", avro)] {
            let subject = format!("{kind}-{depth}");
            let (first, body) = register(&server, &subject, kind, &text).await;
            assert!(first == 200 || first == 422, "{kind} {depth}: {body}");
            if first == 200 {
                // and checked against itself changed at the leaf
                let changed =
                    text.replacen("string", "integer", 1)
                        .replacen("\"int\"", "\"string\"", 1);
                let (status, body) = register(&server, &subject, kind, &changed).await;
                assert!(status == 409 || status == 422, "{kind} {depth}: {body}");
            }
        }
    }
    still_up(&server).await;
}
