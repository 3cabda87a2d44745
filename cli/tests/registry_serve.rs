//! `kcodec registry serve` as a process: its flags, a restart with `--data-dir`, and Confluent's
//! official Python client (confluent-kafka) registering, looking up and serializing against it.

mod support;
use support::{python, serve, workspace_root};

use kcodec_registry::http::{HttpRegistry, HttpRegistryConfig};
use kcodec_registry::{Schema, SchemaRegistry, Version};
use std::process::Command;

fn client(url: &str) -> HttpRegistry {
    HttpRegistryConfig::new(url)
        .cache_capacity(0)
        .build()
        .unwrap()
}

fn avro(n: usize) -> Schema {
    Schema::avro(format!(
        r#"{{"type":"record","name":"R{n}","fields":[{{"name":"f","type":"long"}}]}}"#
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_with_data_dir_keeps_every_id() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap();
    let mut registered = Vec::new();
    {
        let server = serve(&["--data-dir", data_dir]);
        let c = client(&server.url);
        c.set_compatibility(None, kcodec_registry::CompatibilityLevel::None)
            .await
            .unwrap();
        for n in 0..5 {
            registered.push(
                c.register(&format!("s{}", n % 2), &avro(n), false)
                    .await
                    .unwrap(),
            );
        }
        c.delete_version("s0", Version::Number(1), false)
            .await
            .unwrap();
        // Killed (SIGKILL), not stopped: every acknowledged write is already on disk.
    }
    let server = serve(&["--data-dir", data_dir]);
    let c = client(&server.url);
    for r in &registered {
        assert_eq!(c.schema_by_id(r.id).await.unwrap().schema, r.schema.schema);
        assert_eq!(
            c.version(&r.subject, Version::Number(r.version), true)
                .await
                .unwrap()
                .id,
            r.id
        );
    }
    assert_eq!(c.versions("s0", false).await.unwrap(), vec![2, 3]);
    assert_eq!(c.register("s9", &avro(9), false).await.unwrap().id, 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_auth_flag_protects_the_registry() {
    let server = serve(&["--basic-auth", "dev:pw"]);
    let e = client(&server.url).subjects(false).await.unwrap_err();
    assert_eq!(e.http_status(), 401);
    let authed = HttpRegistryConfig::new(&server.url)
        .basic_auth("dev", "pw")
        .build()
        .unwrap();
    assert!(authed.subjects(false).await.unwrap().is_empty());
}

#[test]
fn bad_flags_fail_with_a_message() {
    let out = Command::new(env!("CARGO_BIN_EXE_kcodec"))
        .args([
            "registry",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--basic-auth",
            "nocolon",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("USER:PASS"));
    let out = Command::new(env!("CARGO_BIN_EXE_kcodec"))
        .args(["registry", "serve", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in ["--listen", "--data-dir", "--basic-auth", "127.0.0.1:8081"] {
        assert!(help.contains(flag), "help lacks {flag}");
    }
}

// ---------------------------------------------------------------------------------------------
// Confluent's Python client

fn run_python_interop(url: &str) -> Option<serde_json::Value> {
    let python = python()?;
    let script = workspace_root().join("tools/oracle/registry_interop.py");
    let out = Command::new(python)
        .arg(script)
        .arg(url)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "registry_interop.py failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).expect("JSON from registry_interop.py"))
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confluent_python_client_talks_to_the_dev_server() {
    let server = serve(&[]);
    let Some(report) = run_python_interop(&server.url) else {
        return;
    };
    assert!(report["checks"].as_u64().unwrap() >= 40, "{report}");
    let c = client(&server.url);
    // The ids Python saw are the dev server's.
    let v1 = report["ids"]["avro_v1"].as_u64().unwrap() as u32;
    assert_eq!(
        c.subjects_for_id(v1, false).await.unwrap(),
        vec!["interop-copy".to_owned()]
    );
    // Every frame: magic byte 0, then the big-endian id registered for its subject.
    for (name, frame) in report["frames"].as_object().unwrap() {
        let bytes = hex(frame["hex"].as_str().unwrap());
        let subject = frame["subject"].as_str().unwrap();
        let latest = c.latest(subject).await.unwrap();
        assert_eq!(bytes[0], 0, "{name}: magic byte");
        let id = u32::from_be_bytes(bytes[1..5].try_into().unwrap());
        assert_eq!(id, latest.id, "{name}: schema id of {subject}");
        match name.as_str() {
            // Message index [0] is written as the single byte 0.
            "protobuf" => {
                assert_eq!(bytes[5], 0, "protobuf message index");
                assert_eq!(
                    latest.schema.schema_type,
                    kcodec_registry::SchemaType::Protobuf
                );
            }
            "json" => {
                let doc: serde_json::Value = serde_json::from_slice(&bytes[5..]).unwrap();
                assert_eq!(doc["id"], "o-2");
                assert_eq!(latest.schema.schema_type, kcodec_registry::SchemaType::Json);
            }
            // Avro: "Ada" is a zigzag length 3 (0x06) then the bytes.
            "avro" => assert_eq!(&bytes[5..9], b"\x06Ada"),
            "avro_key" => assert_eq!(latest.schema.schema, "\"string\""),
            other => panic!("unexpected frame {other}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confluent_python_client_sees_incompatible_schemas_refused() {
    let server = serve(&[]);
    let Some(report) = run_python_interop(&server.url) else {
        return;
    };
    assert_eq!(report["incompatible_refused"], true, "{report}");
}
