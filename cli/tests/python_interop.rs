//! `kcodec encode` / `kcodec decode` against Confluent's official Python serializers
//! (confluent-kafka 2.16.1), both ways, through `kcodec registry serve` over HTTP: Avro, Protobuf
//! and JSON Schema, keys and values, schema ids in the prefix and in headers.
//! Also Avro schema references (a type defined under another subject). The Python side is
//! tools/oracle/cli_interop.py.

mod support;
use support::{python, serve, workspace_root};

use serde_json::{Value, json};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// Runs cli_interop.py `op url dir` with `stdin`; returns its JSON answer.
fn interop(python: &Path, op: &str, url: &str, dir: &Path, stdin: &[u8]) -> Value {
    let mut child = Command::new(python)
        .arg(workspace_root().join("tools/oracle/cli_interop.py"))
        .args([op, url])
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run python");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "cli_interop.py {op} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON from cli_interop.py")
}

/// Runs kcodec with `args` and `stdin`; asserts success and returns stdout.
fn kcodec(args: &[&str], stdin: &[u8]) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kcodec"))
        .args(args)
        .env_remove("KCODEC_REGISTRY_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kcodec");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "kcodec {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Numbers compared as numbers (`0.0` and `0`, as Python's JSON and serde's may differ).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fn flag<'a>(case: &'a Value, name: &str) -> &'a str {
    case[name].as_str().unwrap_or_default()
}

#[test]
fn python_serializers_and_kcodec_read_each_other() {
    let Some(python) = python() else {
        return;
    };
    let server = serve(&[]);
    let dir = tempfile::tempdir().unwrap();
    let produced = interop(&python, "produce", &server.url, dir.path(), b"");
    let cases = produced["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 18, "{produced}");

    // Python → kcodec: `kcodec decode` (named format and auto) prints the value Python wrote.
    for case in cases {
        let name = flag(case, "name");
        let mut line = flag(case, "hex").to_owned();
        for (header, value) in case["headers"].as_object().unwrap() {
            line.push_str(&format!("\t{header}={}", value.as_str().unwrap()));
        }
        assert_eq!(
            case["header"].as_bool().unwrap(),
            line.contains('\t'),
            "{name}: header mode writes a header"
        );
        line.push('\n');
        for format in [flag(case, "format"), "auto"] {
            let mut args = vec![
                "decode",
                "--format",
                format,
                "--topic",
                flag(case, "topic"),
                "--registry",
                &server.url,
            ];
            if case["is_key"].as_bool().unwrap() {
                args.push("--key");
            }
            let out = kcodec(&args, line.as_bytes());
            let got: Value = serde_json::from_str(out.trim()).unwrap();
            assert!(
                same(&got, &case["value"]),
                "{name} (--format {format}): kcodec printed {got}, Python wrote {}",
                case["value"]
            );
        }
    }

    // kcodec → Python: `kcodec encode` with the same schema files; Python's deserializers read
    // the frames (writer schema from the registry by id or GUID) and get the same values back.
    let mut frames = Vec::new();
    for case in cases {
        let name = flag(case, "name");
        let topic = format!("kc-{name}");
        let schema_file = dir.path().join(flag(case, "schema_file"));
        let mut args = vec![
            "encode",
            "--format",
            flag(case, "format"),
            "--topic",
            &topic,
            "--registry",
            &server.url,
            "--schema-file",
            schema_file.to_str().unwrap(),
        ];
        if case["is_key"].as_bool().unwrap() {
            args.push("--key");
        }
        if case["header"].as_bool().unwrap() {
            args.push("--schema-id-in-header");
        }
        if let Some(message) = case["message"].as_str() {
            args.extend(["--message", message]);
        }
        let input = format!("{}\n", case["value"]);
        let out = kcodec(&args, input.as_bytes());
        let mut fields = out.trim_end().split('\t');
        let hex = fields.next().unwrap().to_owned();
        let mut headers = serde_json::Map::new();
        for field in fields {
            let (k, v) = field.split_once('=').unwrap();
            headers.insert(k.to_owned(), json!(v));
        }
        assert_eq!(
            case["header"].as_bool().unwrap(),
            !headers.is_empty(),
            "{name}"
        );
        frames.push(json!({
            "name": name, "format": case["format"], "topic": topic, "is_key": case["is_key"],
            "message": case["message"], "hex": hex, "headers": headers,
        }));
    }
    let request = serde_json::to_vec(&json!({ "frames": frames })).unwrap();
    let consumed = interop(&python, "consume", &server.url, dir.path(), &request);
    let values = consumed["values"].as_array().unwrap();
    assert_eq!(values.len(), cases.len());
    for (case, got) in cases.iter().zip(values) {
        let name = flag(case, "name");
        assert!(got.get("error").is_none(), "{name}: Python failed: {got}");
        assert!(
            same(&got["value"], &case["value"]),
            "{name}: Python read {}, kcodec was given {}",
            got["value"],
            case["value"]
        );
    }

    // The Protobuf frames name the same message the same way: prefix + indexes [1] = 02 02 for
    // the file's second message, a single 00 for the first.
    for (case, frame) in cases.iter().zip(&frames) {
        if case["format"] == "protobuf" && !case["header"].as_bool().unwrap() {
            let ours = &frame["hex"].as_str().unwrap()[10..];
            let theirs = &flag(case, "hex")[10..];
            assert_eq!(ours[..4], theirs[..4], "{}", flag(case, "name"));
        }
    }
}

#[test]
fn avro_with_schema_references_matches_python_both_ways() {
    let Some(python) = python() else {
        return;
    };
    let server = serve(&[]);
    let dir = tempfile::tempdir().unwrap();
    // Python registers com.x.Address and person-value (referring to it) and serializes.
    let produced = interop(&python, "avro_refs", &server.url, dir.path(), b"");
    let cases = produced["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 2, "{produced}");
    for case in cases {
        let hex = flag(case, "hex");
        // Python → kcodec: decode prints the value Python wrote, with the referenced record.
        for format in ["avro", "auto"] {
            let out = kcodec(
                &[
                    "decode",
                    "--format",
                    format,
                    "--topic",
                    "person",
                    "--registry",
                    &server.url,
                ],
                format!("{hex}\n").as_bytes(),
            );
            let got: Value = serde_json::from_str(out.trim()).unwrap();
            assert_eq!(got, case["value"], "--format {format}");
        }
        // kcodec → Python's bytes: encoding with the registered schema (and its reference)
        // writes exactly what Confluent's AvroSerializer wrote.
        let out = kcodec(
            &[
                "encode",
                "--format",
                "avro",
                "--topic",
                "person",
                "--use-latest",
                "--registry",
                &server.url,
            ],
            format!("{}\n", case["value"]).as_bytes(),
        );
        assert_eq!(out.trim(), hex, "{}", case["value"]);
    }
}
