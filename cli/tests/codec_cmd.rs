//! `kcodec encode` / `kcodec decode` as processes: every format round trip, the wire bytes they
//! write, hex/base64/raw, key and value subjects, schema ids in headers, `--format auto`, offline
//! decoding with a schema file, and the error messages.

mod support;
use support::{Serve, serve};

use kcodec_registry::SchemaRegistry;
use kcodec_registry::http::HttpRegistryConfig;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

struct Out {
    ok: bool,
    stdout: Vec<u8>,
    stderr: String,
}

impl Out {
    fn text(&self) -> String {
        String::from_utf8(self.stdout.clone()).unwrap()
    }

    fn lines(&self) -> Vec<String> {
        self.text().lines().map(str::to_owned).collect()
    }

    /// Asserts success and returns stdout's lines.
    fn ok_lines(&self) -> Vec<String> {
        assert!(self.ok, "failed: {}", self.stderr);
        self.lines()
    }

    /// Asserts failure and returns stderr.
    fn err(&self) -> &str {
        assert!(
            !self.ok,
            "should have failed; stdout: {}",
            String::from_utf8_lossy(&self.stdout)
        );
        &self.stderr
    }
}

/// Runs `kcodec ARGS` with `stdin`, without the registry environment variables.
fn kcodec(args: &[&str], stdin: &[u8]) -> Out {
    kcodec_in(Path::new("."), args, stdin)
}

/// [`kcodec`] run in the directory `cwd`.
fn kcodec_in(cwd: &Path, args: &[&str], stdin: &[u8]) -> Out {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kcodec"))
        .current_dir(cwd)
        .args(args)
        // No `kcodec dev` to fall back on: an empty discovery directory.
        .env("KCODEC_RUNTIME_DIR", env!("CARGO_TARGET_TMPDIR"))
        .env_remove("KCODEC_REGISTRY_URL")
        .env_remove("KCODEC_REGISTRY_BASIC_AUTH")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kcodec");
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    Out {
        ok: out.status.success(),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `args` + `--registry URL`.
fn with_registry<'a>(args: &[&'a str], url: &'a str) -> Vec<&'a str> {
    let mut all = args.to_vec();
    all.extend(["--registry", url]);
    all
}

fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn unhex(text: &str) -> Vec<u8> {
    hex::decode(text.trim()).unwrap()
}

fn client(url: &str) -> kcodec_registry::http::HttpRegistry {
    HttpRegistryConfig::new(url)
        .cache_capacity(0)
        .build()
        .unwrap()
}

/// The latest schema id of `subject`.
fn client_sync_latest(url: &str, subject: &str) -> u32 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(client(url).latest(subject)).unwrap().id
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

// ---------------------------------------------------------------------------------------------
// Built-in formats (no registry)

#[test]
fn builtin_formats_round_trip_with_java_bytes() {
    // (format, text in, hex out, text back)
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "string",
            "héllo wörld",
            "68c3a96c6c6f2077c3b6726c64",
            "héllo wörld",
        ),
        ("string", "", "", ""),
        ("short", "-2", "fffe", "-2"),
        ("short", "32767", "7fff", "32767"),
        ("int", "-2", "fffffffe", "-2"),
        ("int", "305419896", "12345678", "305419896"),
        (
            "long",
            "-9223372036854775808",
            "8000000000000000",
            "-9223372036854775808",
        ),
        ("float", "1.5", "3fc00000", "1.5"),
        ("double", "-0.1", "bfb999999999999a", "-0.1"),
        ("boolean", "true", "01", "true"),
        ("boolean", "false", "00", "false"),
        (
            "uuid",
            "123e4567-e89b-12d3-a456-426614174000",
            "31323365343536372d653839622d313264332d613435362d343236363134313734303030",
            "123e4567-e89b-12d3-a456-426614174000",
        ),
        ("bytes", "abc", "616263", "abc"),
        (
            "json",
            r#"{ "b": [1, 2.5],  "a": null }"#,
            "",
            r#"{"b":[1,2.5],"a":null}"#,
        ),
    ];
    for (format, text, hex_out, back) in cases {
        let enc = kcodec(
            &["encode", "--format", format],
            format!("{text}\n").as_bytes(),
        );
        let lines = enc.ok_lines();
        assert_eq!(lines.len(), 1, "{format} {text:?}: {lines:?}");
        if !hex_out.is_empty() || text.is_empty() {
            assert_eq!(lines[0], *hex_out, "{format} {text:?}");
        }
        let dec = kcodec(
            &["decode", "--format", format],
            format!("{}\n", lines[0]).as_bytes(),
        );
        assert_eq!(dec.ok_lines(), vec![back.to_string()], "{format} {text:?}");
    }
}

#[test]
fn empty_values_survive_encode_then_decode() {
    for (format, output) in [("string", "hex"), ("string", "base64"), ("bytes", "hex")] {
        let enc = kcodec(
            &["encode", "--format", format, "--output", output],
            b"a\n\nb\n",
        );
        let frames = enc.ok_lines();
        assert_eq!(frames.len(), 3, "{format} {output}: {frames:?}");
        assert_eq!(frames[1], "", "{format} {output}");
        let dec = kcodec(
            &["decode", "--format", format, "--input", output],
            &enc.stdout,
        );
        assert_eq!(dec.ok_lines(), ["a", "", "b"], "{format} {output}");
    }
    // A 0-byte message of a format that cannot be empty is an error naming its line…
    let out = kcodec(&["decode", "--format", "int"], b"00000001\n\n");
    assert!(out.err().contains("line 2"), "{}", out.stderr);
    // …which --ignore-error counts and skips.
    let out = kcodec(
        &["decode", "--format", "int", "--ignore-error"],
        b"00000001\n\n00000002\n",
    );
    assert_eq!(out.ok_lines(), ["1", "2"]);
    assert!(out.stderr.contains("1 of 3 lines failed"), "{}", out.stderr);
    // Raw: an empty stdin is one 0-byte message too.
    let out = kcodec(&["decode", "--format", "string", "--input", "raw"], b"");
    assert_eq!(out.ok_lines(), [""]);
}

#[test]
fn hex_base64_and_raw_output_and_input() {
    let b64 = kcodec(
        &["encode", "--format", "int", "--output", "base64"],
        b"1\n-1\n",
    );
    assert_eq!(b64.ok_lines(), vec!["AAAAAQ==", "/////w=="]);
    let back = kcodec(
        &["decode", "--format", "int", "--input", "base64"],
        &b64.stdout,
    );
    assert_eq!(back.ok_lines(), vec!["1", "-1"]);

    let raw = kcodec(&["encode", "--format", "long", "--output", "raw"], b"258\n");
    assert!(raw.ok, "{}", raw.stderr);
    assert_eq!(raw.stdout, [0, 0, 0, 0, 0, 0, 1, 2]);
    let back = kcodec(
        &["decode", "--format", "long", "--input", "raw"],
        &raw.stdout,
    );
    assert_eq!(back.ok_lines(), vec!["258"]);

    // Upper-case hex and CRLF line ends are accepted.
    let back = kcodec(&["decode", "--format", "short"], b"7FFF\r\n");
    assert_eq!(back.ok_lines(), vec!["32767"]);
    // Raw input with a newline inside is still one message (it is all of stdin).
    let back = kcodec(&["decode", "--format", "bytes", "--input", "raw"], b"a\nb");
    assert_eq!(back.text(), "a\nb\n");
}

// ---------------------------------------------------------------------------------------------
// Schema formats

const USER_AVSC: &str = r#"{"type":"record","name":"User","namespace":"ex.users","fields":[
  {"name":"name","type":"string"},
  {"name":"age","type":["null","int"],"default":null},
  {"name":"address","type":{"type":"record","name":"Address","fields":[
     {"name":"city","type":"string"},{"name":"zip","type":["null","string","long"]}]}},
  {"name":"tags","type":{"type":"array","items":"string"}}]}"#;

const ORDER_PROTO: &str = r#"syntax = "proto3";
package ex.shop;

message Order {
  string id = 1;
  int64 quantity = 2;
  Line line = 3;
  repeated string notes = 4;
  message Line { string sku = 1; double price = 2; }
}

message Refund {
  string order_id = 1;
  Order.Line line = 2;
  bool full = 3;
}
"#;

const ORDER_JSON_SCHEMA: &str = r#"{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "Order",
  "type": "object",
  "properties": {"id": {"type": "string"}, "amount": {"type": "integer"},
                 "items": {"type": "array", "items": {"type": "object",
                   "properties": {"sku": {"type": "string"}}, "required": ["sku"]}}},
  "required": ["id"]
}"#;

#[test]
fn avro_round_trip_with_unions_and_nested_records() {
    let server = serve(&[]);
    let dir = tempfile::tempdir().unwrap();
    let avsc = write_file(dir.path(), "user.avsc", USER_AVSC);
    let avsc = avsc.to_str().unwrap();
    let docs = [
        r#"{"name":"ada","age":{"int":36},"address":{"city":"London","zip":{"string":"N1"}},"tags":["x","y"]}"#,
        r#"{"name":"bob","age":null,"address":{"city":"Paris","zip":{"long":75001}},"tags":[]}"#,
        r#"{"name":"cy","age":null,"address":{"city":"Rome","zip":null},"tags":["z"]}"#,
    ];
    let input = docs.join("\n") + "\n";
    let enc = kcodec(
        &with_registry(
            &[
                "encode",
                "--format",
                "avro",
                "--topic",
                "users",
                "--schema-file",
                avsc,
            ],
            &server.url,
        ),
        input.as_bytes(),
    );
    let frames = enc.ok_lines();
    assert_eq!(frames.len(), 3);
    // Magic byte, schema id 1, then Avro: "ada" = 06 'a' 'd' 'a', union branch 1 (02) + int 36 (48).
    assert_eq!(&frames[0][..10], "0000000001");
    assert!(
        frames[0][10..].starts_with("06616461" /* ada */),
        "{}",
        frames[0]
    );
    assert_eq!(&frames[0][18..22], "0248");

    for format in ["avro", "auto"] {
        let dec = kcodec(
            &with_registry(
                &["decode", "--format", format, "--topic", "users"],
                &server.url,
            ),
            enc.stdout.as_slice(),
        );
        let lines = dec.ok_lines();
        assert_eq!(lines.len(), 3);
        // Fields in the schema's order, as written.
        for (line, doc) in lines.iter().zip(docs) {
            assert_eq!(line, doc, "--format {format}");
        }
    }

    // Offline: the schema file as the writer schema, no registry.
    let offline = kcodec(
        &["decode", "--format", "avro", "--schema-file", avsc],
        enc.stdout.as_slice(),
    );
    assert_eq!(json(&offline.ok_lines()[1]), json(docs[1]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_and_value_use_their_own_subjects() {
    let server = serve(&[]);
    let dir = tempfile::tempdir().unwrap();
    let string_schema = write_file(dir.path(), "k.avsc", r#""string""#);
    let long_schema = write_file(dir.path(), "v.avsc", r#""long""#);
    let k = kcodec(
        &with_registry(
            &[
                "encode",
                "--format",
                "avro",
                "--topic",
                "orders",
                "--key",
                "--schema-file",
                string_schema.to_str().unwrap(),
            ],
            &server.url,
        ),
        b"\"o-1\"\n",
    );
    let v = kcodec(
        &with_registry(
            &[
                "encode",
                "--format",
                "avro",
                "--topic",
                "orders",
                "--schema-file",
                long_schema.to_str().unwrap(),
            ],
            &server.url,
        ),
        b"-1\n",
    );
    let c = client(&server.url);
    let key_id = c.latest("orders-key").await.unwrap().id;
    let value_id = c.latest("orders-value").await.unwrap().id;
    assert_ne!(key_id, value_id);
    assert_eq!(
        unhex(&k.ok_lines()[0]),
        [&[0u8][..], &key_id.to_be_bytes(), b"\x06o-1"].concat()
    );
    // long -1 is zigzag 1.
    assert_eq!(
        unhex(&v.ok_lines()[0]),
        [&[0u8][..], &value_id.to_be_bytes(), &[1]].concat()
    );
    let back = kcodec(
        &with_registry(
            &["decode", "--format", "avro", "--topic", "orders", "--key"],
            &server.url,
        ),
        k.stdout.as_slice(),
    );
    assert_eq!(back.ok_lines(), vec!["\"o-1\""]);

    // --subject overrides the topic name strategy; --use-latest and --schema-id use what's there.
    let s = kcodec(
        &with_registry(
            &[
                "encode",
                "--format",
                "avro",
                "--subject",
                "custom",
                "--schema-file",
                long_schema.to_str().unwrap(),
            ],
            &server.url,
        ),
        b"7\n",
    );
    assert!(s.ok, "{}", s.stderr);
    assert_eq!(c.latest("custom").await.unwrap().id, value_id);
    let latest = kcodec(
        &with_registry(
            &[
                "encode",
                "--format",
                "avro",
                "--topic",
                "orders",
                "--key",
                "--use-latest",
            ],
            &server.url,
        ),
        b"\"o-1\"\n",
    );
    assert_eq!(latest.ok_lines(), k.ok_lines());
    let by_id = kcodec(
        &with_registry(
            &[
                "encode",
                "--format",
                "avro",
                "--topic",
                "elsewhere",
                "--schema-id",
                &value_id.to_string(),
            ],
            &server.url,
        ),
        b"-1\n",
    );
    assert_eq!(by_id.ok_lines(), v.ok_lines());
    assert!(
        c.latest("elsewhere-value").await.is_err(),
        "--schema-id registers nothing"
    );
}

#[test]
fn protobuf_nested_and_second_message() {
    let server = serve(&[]);
    let dir = tempfile::tempdir().unwrap();
    let proto = write_file(dir.path(), "order.proto", ORDER_PROTO);
    let proto = proto.to_str().unwrap();
    let order = r#"{"id":"o-1","quantity":"3","line":{"sku":"s-9","price":2.5},"notes":["a","b"]}"#;
    let enc = kcodec(
        &with_registry(
            &[
                "encode",
                "--format",
                "protobuf",
                "--topic",
                "orders",
                "--schema-file",
                proto,
            ],
            &server.url,
        ),
        format!("{order}\n").as_bytes(),
    );
    let frame = unhex(&enc.ok_lines()[0]);
    // Prefix, then message index [0] as the single byte 0, then field 1 (0a) "o-1".
    assert_eq!(&frame[..7], [0, 0, 0, 0, 1, 0, 0x0a]);
    assert_eq!(&frame[7..11], b"\x03o-1");

    let refund = r#"{"orderId":"o-1","line":{"sku":"s-9"},"full":true}"#;
    let enc2 = kcodec(
        &with_registry(
            &[
                "encode",
                "--format",
                "protobuf",
                "--topic",
                "refunds",
                "--schema-file",
                proto,
                "--message",
                "Refund",
            ],
            &server.url,
        ),
        format!("{refund}\n").as_bytes(),
    );
    let frame2 = unhex(&enc2.ok_lines()[0]);
    // Message index [1]: count 1, index 1, as zigzag varints (02 02).
    assert_eq!(&frame2[5..7], [2, 2]);

    for (topic, frames, doc) in [("orders", &enc, order), ("refunds", &enc2, refund)] {
        for format in ["protobuf", "auto"] {
            let dec = kcodec(
                &with_registry(
                    &["decode", "--format", format, "--topic", topic],
                    &server.url,
                ),
                frames.stdout.as_slice(),
            );
            // Canonical proto3 JSON in field-number order.
            assert_eq!(dec.ok_lines()[0], doc, "{topic} {format}");
        }
    }
    // The full name works too; an unknown one lists what exists.
    let full = kcodec(
        &with_registry(
            &[
                "encode",
                "--format",
                "protobuf",
                "--topic",
                "refunds",
                "--schema-file",
                proto,
                "--message",
                "ex.shop.Refund",
            ],
            &server.url,
        ),
        format!("{refund}\n").as_bytes(),
    );
    assert_eq!(full.ok_lines(), enc2.ok_lines());
    let none = kcodec(
        &with_registry(
            &[
                "encode",
                "--format",
                "protobuf",
                "--schema-file",
                proto,
                "--message",
                "Nope",
            ],
            &server.url,
        ),
        b"{}\n",
    );
    let err = none.err();
    assert!(err.contains("no message Nope"), "{err}");
    assert!(err.contains("ex.shop.Order.Line"), "{err}");
    // Offline decoding with the .proto file.
    let offline = kcodec(
        &["decode", "--format", "protobuf", "--schema-file", proto],
        enc2.stdout.as_slice(),
    );
    assert_eq!(json(&offline.ok_lines()[0]), json(refund));
}

#[test]
fn json_schema_round_trip_keeps_key_order_in_the_payload() {
    let server = serve(&[]);
    let dir = tempfile::tempdir().unwrap();
    let schema = write_file(dir.path(), "order.json", ORDER_JSON_SCHEMA);
    let schema = schema.to_str().unwrap();
    let doc = r#"{"id": "o-2", "items": [{"sku": "a"}], "amount": 12}"#;
    let enc = kcodec(
        &with_registry(
            &[
                "encode",
                "--format",
                "json-schema",
                "--topic",
                "orders",
                "--schema-file",
                schema,
            ],
            &server.url,
        ),
        format!("{doc}\n").as_bytes(),
    );
    let frame = unhex(&enc.ok_lines()[0]);
    assert_eq!(&frame[..5], [0, 0, 0, 0, 1]);
    assert_eq!(
        &frame[5..],
        br#"{"id":"o-2","items":[{"sku":"a"}],"amount":12}"#
    );
    for format in ["json-schema", "auto"] {
        let dec = kcodec(
            &with_registry(
                &["decode", "--format", format, "--topic", "orders"],
                &server.url,
            ),
            enc.stdout.as_slice(),
        );
        assert_eq!(
            dec.ok_lines()[0],
            r#"{"id":"o-2","items":[{"sku":"a"}],"amount":12}"#
        );
    }
    let bad = kcodec(
        &with_registry(
            &[
                "encode",
                "--format",
                "json-schema",
                "--topic",
                "orders",
                "--schema-file",
                schema,
            ],
            &server.url,
        ),
        b"{\"amount\": 1}\n",
    );
    let err = bad.err();
    assert!(err.starts_with("error: line 1: "), "{err}");
    assert!(err.contains("\"id\" is a required property"), "{err}");
}

#[test]
fn schema_id_in_header_for_every_schema_format() {
    let server = serve(&[]);
    let dir = tempfile::tempdir().unwrap();
    let avsc = write_file(dir.path(), "user.avsc", USER_AVSC);
    let proto = write_file(dir.path(), "order.proto", ORDER_PROTO);
    let json_schema = write_file(dir.path(), "order.json", ORDER_JSON_SCHEMA);
    let cases = [
        (
            "avro",
            avsc,
            r#"{"name":"a","age":null,"address":{"city":"c","zip":null},"tags":[]}"#,
            None,
        ),
        (
            "protobuf",
            proto,
            r#"{"orderId":"o","full":true}"#,
            Some("Refund"),
        ),
        ("json-schema", json_schema, r#"{"id":"o"}"#, None),
    ];
    for (i, (format, file, doc, message)) in cases.into_iter().enumerate() {
        let topic = format!("h{i}");
        for (key, header) in [(false, "__value_schema_id"), (true, "__key_schema_id")] {
            let mut args = vec![
                "encode",
                "--format",
                format,
                "--topic",
                &topic,
                "--schema-file",
                file.to_str().unwrap(),
                "--schema-id-in-header",
            ];
            if key {
                args.push("--key");
            }
            if let Some(m) = message {
                args.extend(["--message", m]);
            }
            let enc = kcodec(
                &with_registry(&args, &server.url),
                format!("{doc}\n").as_bytes(),
            );
            let line = &enc.ok_lines()[0];
            // `<hex payload>\t<header>=<hex header value>`: 0x01 + GUID (+ indexes for Protobuf).
            let (payload, h) = line.split_once('\t').unwrap_or_else(|| panic!("{line}"));
            let (name, value) = h.split_once('=').unwrap();
            assert_eq!(name, header, "{format}");
            let value = unhex(value);
            assert_eq!(value[0], 1, "{format}: GUID magic byte");
            match format {
                "protobuf" => assert_eq!(&value[17..], [2, 2], "message index [1]"),
                _ => assert_eq!(value.len(), 17),
            }
            assert_ne!(unhex(payload).first(), Some(&0), "{format}: no prefix");

            let mut dec_args = vec!["decode", "--format", "auto", "--topic", &topic];
            if key {
                dec_args.push("--key");
            }
            // The line as encode wrote it…
            let dec = kcodec(
                &with_registry(&dec_args, &server.url),
                enc.stdout.as_slice(),
            );
            assert_eq!(json(&dec.ok_lines()[0]), json(doc), "{format} key={key}");
            // …or the payload alone with --header.
            let flag = format!("{header}={}", hex::encode(&value));
            dec_args.extend(["--header", &flag]);
            let dec = kcodec(
                &with_registry(&dec_args, &server.url),
                format!("{payload}\n").as_bytes(),
            );
            assert_eq!(
                json(&dec.ok_lines()[0]),
                json(doc),
                "{format} key={key} --header"
            );
        }
    }
    // --schema-id and --use-latest find the GUID too (Protobuf: the file registered for h1).
    let c = client_sync_latest(&server.url, "h1-value");
    let by_id = kcodec(
        &with_registry(
            &[
                "encode",
                "--format",
                "protobuf",
                "--topic",
                "other",
                "--schema-id",
                &c.to_string(),
                "--message",
                "Refund",
                "--schema-id-in-header",
            ],
            &server.url,
        ),
        b"{\"orderId\":\"z\"}\n",
    );
    let latest = kcodec(
        &with_registry(
            &[
                "encode",
                "--format",
                "protobuf",
                "--topic",
                "h1",
                "--use-latest",
                "--message",
                "Refund",
                "--schema-id-in-header",
            ],
            &server.url,
        ),
        b"{\"orderId\":\"z\"}\n",
    );
    assert_eq!(by_id.ok_lines(), latest.ok_lines());
    assert!(by_id.ok_lines()[0].ends_with("0202"), "{:?}", by_id.lines());
    let dec = kcodec(
        &with_registry(
            &["decode", "--format", "auto", "--topic", "other"],
            &server.url,
        ),
        by_id.stdout.as_slice(),
    );
    assert_eq!(dec.ok_lines(), vec![r#"{"orderId":"z"}"#]);

    // Base64 output puts the header value in base64 too, and decode reads it back.
    let enc = kcodec(
        &with_registry(
            &[
                "encode",
                "--format",
                "json-schema",
                "--topic",
                "h2",
                "--use-latest",
                "--schema-id-in-header",
                "--output",
                "base64",
            ],
            &server.url,
        ),
        b"{\"id\":\"b\"}\n",
    );
    let line = &enc.ok_lines()[0];
    assert!(
        line.starts_with("eyJpZCI6ImIifQ==\t__value_schema_id=A"),
        "{line}"
    );
    let dec = kcodec(
        &with_registry(
            &[
                "decode",
                "--format",
                "json-schema",
                "--topic",
                "h2",
                "--input",
                "base64",
            ],
            &server.url,
        ),
        enc.stdout.as_slice(),
    );
    assert_eq!(dec.ok_lines(), vec![r#"{"id":"b"}"#]);
}

// ---------------------------------------------------------------------------------------------
// Errors

#[test]
fn errors_name_the_line_and_the_problem() {
    let server = serve(&[]);
    let dir = tempfile::tempdir().unwrap();
    let avsc = write_file(dir.path(), "user.avsc", USER_AVSC);
    let avsc = avsc.to_str().unwrap();
    let enc = |input: &str| {
        kcodec(
            &with_registry(
                &[
                    "encode",
                    "--format",
                    "avro",
                    "--topic",
                    "e",
                    "--schema-file",
                    avsc,
                ],
                &server.url,
            ),
            input.as_bytes(),
        )
    };
    let good = r#"{"name":"a","age":null,"address":{"city":"c","zip":null},"tags":[]}"#;

    // Bad JSON, on line 3 (a blank line still counts).
    let out = enc(&format!("{good}\n\n{{nope\n"));
    let err = out.err();
    assert!(
        err.starts_with("error: line 3: invalid JSON: key must be a string"),
        "{err}"
    );
    // JSON that does not fit the schema names the field.
    let err = enc(r#"{"name":1,"age":null,"address":{"city":"c","zip":null},"tags":[]}"#)
        .err()
        .to_owned();
    assert!(
        err.contains("line 1: JSON value at $.name does not fit the schema"),
        "{err}"
    );
    let err = enc(r#"{"name":"a","age":3,"address":{"city":"c","zip":null},"tags":[]}"#)
        .err()
        .to_owned();
    assert!(err.contains("$.age"), "{err}");
    assert!(err.contains("union"), "{err}");

    let dec = |format: &str, input: &str| {
        kcodec(
            &with_registry(&["decode", "--format", format], &server.url),
            input.as_bytes(),
        )
    };
    // Unknown schema id, for a named format and for auto.
    for format in ["avro", "protobuf", "json-schema", "auto"] {
        let err = dec(format, "00000000630002\n").err().to_owned();
        assert!(
            err.contains("line 1: unknown schema id 99"),
            "{format}: {err}"
        );
    }
    // Bad magic byte; truncated prefix; truncated Avro payload; bad hex.
    let err = dec("avro", "0500000001\n").err().to_owned();
    assert!(err.contains("line 1: bad magic byte 0x05"), "{err}");
    let err = dec("auto", "000000\n").err().to_owned();
    assert!(
        err.contains("truncated schema id at byte 1: needed 4 bytes, 2 left"),
        "{err}"
    );
    enc(&format!("{good}\n")).ok_lines();
    let err = dec("avro", "0000000001\n").err().to_owned();
    assert!(err.contains("line 1: truncated Avro data"), "{err}");
    let err = dec("int", "0102zz\n").err().to_owned();
    assert!(err.contains("line 1: invalid hex"), "{err}");
    let err = dec("int", "010203\n").err().to_owned();
    assert!(
        err.contains("size of data received by i32 deserializer is not 4"),
        "{err}"
    );
    // The wrong schema type for the format.
    let err = dec("protobuf", "000000000100\n").err().to_owned();
    assert!(
        err.contains("schema id 1 has schema type AVRO, not PROTOBUF"),
        "{err}"
    );

    // auto (and any schema format) without a registry.
    let out = kcodec(&["decode", "--format", "auto"], b"0000000001\n");
    assert!(
        out.err()
            .contains("--format auto reads the schema type from the registry"),
        "{}",
        out.stderr
    );
    let out = kcodec(
        &["encode", "--format", "avro", "--schema-file", avsc],
        b"{}\n",
    );
    assert!(
        out.err().contains("--format avro needs a schema registry"),
        "{}",
        out.stderr
    );
    let out = kcodec(
        &with_registry(&["encode", "--format", "avro"], &server.url),
        b"{}\n",
    );
    assert!(
        out.err()
            .contains("--schema-file FILE, --schema-id ID or --use-latest")
    );
    let out = kcodec(&["encode", "--format", "auto"], b"1\n");
    assert!(
        out.err().contains("auto is for decoding only"),
        "{}",
        out.stderr
    );
    // An unknown --schema-id; schema options on a format without schemas.
    let out = kcodec(
        &with_registry(
            &["encode", "--format", "avro", "--schema-id", "4242"],
            &server.url,
        ),
        b"1\n",
    );
    // Reported before any input is read, so without a line number.
    assert!(
        out.err().starts_with("error: unknown schema id 4242"),
        "{}",
        out.stderr
    );
    let out = kcodec(
        &["encode", "--format", "int", "--schema-file", avsc],
        b"1\n",
    );
    assert!(
        out.err().contains("--format int has no schema"),
        "{}",
        out.stderr
    );
    // Raw output of two messages.
    let out = kcodec(&["encode", "--format", "int", "--output", "raw"], b"1\n2\n");
    assert!(
        out.err()
            .contains("--output raw writes exactly one message: got 2"),
        "{}",
        out.stderr
    );
    // Simple formats name the text.
    let out = kcodec(&["encode", "--format", "int"], b"1\n2\nx\n");
    assert!(
        out.err().contains("line 3: not a valid int: \"x\""),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty() || out.text() == "00000001\n00000002\n");
}

#[test]
fn ignore_error_counts_and_continues() {
    let out = kcodec(
        &["encode", "--format", "short", "--ignore-error"],
        b"1\nbig\n2\n99999\n3\n",
    );
    assert!(out.ok, "{}", out.stderr);
    assert_eq!(out.lines(), vec!["0001", "0002", "0003"]);
    assert!(
        out.stderr.contains("line 2: not a valid short"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("line 4: not a valid short"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("2 of 5 lines failed"), "{}", out.stderr);

    let out = kcodec(
        &["decode", "--format", "boolean", "--ignore-error"],
        b"01\n02\n00\nxy\n",
    );
    assert!(out.ok, "{}", out.stderr);
    assert_eq!(out.lines(), vec!["true", "false"]);
    assert!(
        out.stderr.contains("line 2: unexpected byte 0x02"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("2 of 4 lines failed"), "{}", out.stderr);
}

#[test]
fn help_documents_the_flags() {
    for (command, flags) in [
        (
            "encode",
            &[
                "--schema-file",
                "--schema-id",
                "--use-latest",
                "--message",
                "--schema-id-in-header",
                "--output",
                "KCODEC_REGISTRY_URL",
            ][..],
        ),
        (
            "decode",
            &[
                "--input",
                "--header",
                "--schema-file",
                "--ignore-error",
                "auto",
            ][..],
        ),
    ] {
        let out = kcodec(&[command, "--help"], b"");
        assert!(out.ok);
        let help = out.text();
        for flag in flags {
            assert!(help.contains(flag), "{command} --help lacks {flag}");
        }
    }
}

#[test]
fn registry_from_env_and_basic_auth_from_url_or_env() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kcodec"))
        .args([
            "registry",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--basic-auth",
            "dev:p@ss",
        ])
        .env_remove("KCODEC_REGISTRY_BASIC_AUTH")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let server = Serve {
        child,
        url: line["Schema registry listening on ".len()..]
            .trim()
            .to_owned(),
    };
    let dir = tempfile::tempdir().unwrap();
    let schema = write_file(dir.path(), "s.avsc", r#""string""#);
    let run = |url: &str, auth_env: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kcodec"));
        cmd.args(["encode", "--format", "avro", "--schema-file"])
            .arg(&schema)
            .env("KCODEC_REGISTRY_URL", url)
            .env_remove("KCODEC_REGISTRY_BASIC_AUTH")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(auth) = auth_env {
            cmd.env("KCODEC_REGISTRY_BASIC_AUTH", auth);
        }
        let mut child = cmd.spawn().unwrap();
        child.stdin.take().unwrap().write_all(b"\"x\"\n").unwrap();
        child.wait_with_output().unwrap()
    };
    // No credentials: the registry refuses (HTTP 401), and the error says so.
    let out = run(&server.url, None);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("401"), "{err}");
    // user:pass@ in the URL (percent-encoded '@'), or the environment variable.
    let with_userinfo = server.url.replacen("http://", "http://dev:p%40ss@", 1);
    let out = run(&with_userinfo, None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "00000000010278\n");
    let out = run(&server.url, Some("dev:p@ss"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protobuf_imports_are_registered_as_references() {
    let server = serve(&[]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("common")).unwrap();
    write_file(
        dir.path(),
        "common/money.proto",
        "syntax = \"proto3\";\npackage ex.common;\nmessage Money { string currency = 1; int64 units = 2; }\n",
    );
    let shop = write_file(
        dir.path(),
        "shop.proto",
        "syntax = \"proto3\";\npackage ex.shop;\nimport \"common/money.proto\";\n\
         import \"google/protobuf/timestamp.proto\";\n\
         message Sale { string id = 1; ex.common.Money price = 2; google.protobuf.Timestamp at = 3; }\n",
    );
    let doc = r#"{"id":"s-1","price":{"currency":"EUR","units":"12"},"at":"2024-05-06T07:08:09Z"}"#;
    let enc = kcodec(
        &with_registry(
            &[
                "encode",
                "--format",
                "protobuf",
                "--topic",
                "sales",
                "--schema-file",
                shop.to_str().unwrap(),
            ],
            &server.url,
        ),
        format!("{doc}\n").as_bytes(),
    );
    let frame = unhex(&enc.ok_lines()[0]);
    let c = client(&server.url);
    // The import under its own subject (its path), referenced by the root schema.
    let money = c.latest("common/money.proto").await.unwrap();
    let sale = c.latest("sales-value").await.unwrap();
    assert_eq!(
        sale.schema.references.len(),
        1,
        "{:?}",
        sale.schema.references
    );
    assert_eq!(sale.schema.references[0].name, "common/money.proto");
    assert_eq!(sale.schema.references[0].subject, "common/money.proto");
    assert_eq!(sale.schema.references[0].version, money.version);
    assert_eq!(&frame[1..5], sale.id.to_be_bytes());

    let dec = kcodec(
        &with_registry(
            &["decode", "--format", "auto", "--topic", "sales"],
            &server.url,
        ),
        enc.stdout.as_slice(),
    );
    assert_eq!(dec.ok_lines(), vec![doc.to_owned()]);
    let offline = kcodec(
        &[
            "decode",
            "--format",
            "protobuf",
            "--schema-file",
            shop.to_str().unwrap(),
        ],
        enc.stdout.as_slice(),
    );
    assert_eq!(offline.ok_lines(), vec![doc.to_owned()]);
    // A missing import is a compile error naming the file.
    let broken = write_file(
        dir.path(),
        "broken.proto",
        "syntax = \"proto3\";\nimport \"nope/missing.proto\";\nmessage B { int32 x = 1; }\n",
    );
    let out = kcodec(
        &with_registry(
            &[
                "encode",
                "--format",
                "protobuf",
                "--schema-file",
                broken.to_str().unwrap(),
            ],
            &server.url,
        ),
        b"{}\n",
    );
    let err = out.err();
    assert!(
        err.contains("cannot compile") && err.contains("broken.proto"),
        "{err}"
    );
    assert!(err.contains("nope/missing.proto"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn avro_schema_references_decode_with_the_referenced_types() {
    use kcodec_registry::{Schema, SchemaReference, SchemaType};
    let server = serve(&[]);
    let c = client(&server.url);
    // com.x.Address under its own subject; com.x.Person refers to it by name.
    let address = r#"{"type":"record","name":"Address","namespace":"com.x","fields":[{"name":"city","type":"string"}]}"#;
    let person = r#"{"type":"record","name":"Person","namespace":"com.x","fields":[{"name":"name","type":"string"},{"name":"addr","type":"com.x.Address"},{"name":"prev","type":["null","com.x.Address"],"default":null}]}"#;
    let addr = c
        .register(
            "com.x.Address",
            &Schema::new(SchemaType::Avro, address),
            false,
        )
        .await
        .unwrap();
    let reference = SchemaReference {
        name: "com.x.Address".to_owned(),
        subject: "com.x.Address".to_owned(),
        version: addr.version,
    };
    let registered = c
        .register(
            "person-value",
            &Schema::new(SchemaType::Avro, person).with_references(vec![reference]),
            false,
        )
        .await
        .unwrap();

    let docs = [
        r#"{"name":"n","addr":{"city":"Seoul"},"prev":null}"#,
        r#"{"name":"m","addr":{"city":"Oslo"},"prev":{"com.x.Address":{"city":"Bergen"}}}"#,
    ];
    let input = docs.join("\n") + "\n";
    let enc = kcodec(
        &with_registry(
            &[
                "encode",
                "--format",
                "avro",
                "--topic",
                "person",
                "--use-latest",
            ],
            &server.url,
        ),
        input.as_bytes(),
    );
    let frames = enc.ok_lines();
    // Magic, the id, then "n" (02 6e), "Seoul" (0a 53656f756c), prev = null branch (00).
    let mut expected = vec![0u8];
    expected.extend(registered.id.to_be_bytes());
    expected.extend([0x02, b'n', 0x0a]);
    expected.extend(b"Seoul");
    expected.push(0);
    assert_eq!(unhex(&frames[0]), expected);

    for format in ["avro", "auto"] {
        let dec = kcodec(
            &with_registry(
                &["decode", "--format", format, "--topic", "person"],
                &server.url,
            ),
            enc.stdout.as_slice(),
        );
        // The referenced record's fields in its schema's order, the union branch by full name.
        assert_eq!(dec.ok_lines(), docs, "--format {format}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protobuf_imports_resolve_against_include_directories() {
    let server = serve(&[]);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("proto/shop")).unwrap();
    // protoc -I proto proto/shop/order.proto: the import is written relative to proto/.
    write_file(
        root,
        "proto/shop/common.proto",
        "syntax = \"proto3\";\npackage shop;\nmessage Money { string currency = 1; int64 units = 2; }\n",
    );
    write_file(
        root,
        "proto/shop/order.proto",
        "syntax = \"proto3\";\npackage shop;\nimport \"shop/common.proto\";\n\
         message Order { string id = 1; shop.Money total = 2; }\n",
    );
    let doc = r#"{"id":"o-1","total":{"currency":"EUR","units":"5"}}"#;
    let input = format!("{doc}\n");
    let encode = |cwd: &Path, extra: &[&str]| {
        let mut args = vec!["encode", "--format", "protobuf", "--topic", "orders"];
        args.extend(extra);
        kcodec_in(cwd, &with_registry(&args, &server.url), input.as_bytes())
    };

    // Without -I the file's directory and the current one are searched: not proto/.
    let err = encode(root, &["--schema-file", "proto/shop/order.proto"]);
    let err = err.err();
    assert!(
        err.contains("import 'shop/common.proto' not found") && err.contains("-I DIR"),
        "{err}"
    );

    // -I proto with the file as a path…
    let by_path = encode(
        root,
        &["-I", "proto", "--schema-file", "proto/shop/order.proto"],
    );
    let frame = by_path.ok_lines()[0].clone();
    let c = client(&server.url);
    let common = c.latest("shop/common.proto").await.unwrap();
    let order = c.latest("orders-value").await.unwrap();
    assert_eq!(
        order.schema.references,
        [kcodec_registry::SchemaReference {
            name: "shop/common.proto".to_owned(),
            subject: "shop/common.proto".to_owned(),
            version: common.version,
        }]
    );
    assert_eq!(&unhex(&frame)[1..5], order.id.to_be_bytes());
    // …or by its name under the include directory (protoc's `-I proto shop/order.proto`), with
    // protoc's option spelling: the same schema, the same bytes.
    for flags in [
        &["--proto_path", "proto"][..],
        &["--proto-path", "proto"],
        &["-Iproto"],
    ] {
        let mut extra = flags.to_vec();
        extra.extend(["--schema-file", "shop/order.proto"]);
        assert_eq!(
            encode(root, &extra).ok_lines(),
            [frame.as_str()],
            "{extra:?}"
        );
    }
    // Include directories are searched in order: an empty first one changes nothing.
    std::fs::create_dir(root.join("empty")).unwrap();
    let two = encode(
        root,
        &[
            "-I",
            "empty",
            "-I",
            "proto",
            "--schema-file",
            "proto/shop/order.proto",
        ],
    );
    assert_eq!(two.ok_lines(), [frame.as_str()]);
    // Without -I, from inside proto/: the current directory resolves the import.
    let inside = encode(&root.join("proto"), &["--schema-file", "shop/order.proto"]);
    assert_eq!(inside.ok_lines(), [frame.as_str()]);
    assert_eq!(
        c.latest("orders-value").await.unwrap().version,
        order.version
    );

    // Offline decoding compiles the file the same way.
    let offline = kcodec_in(
        root,
        &[
            "decode",
            "--format",
            "protobuf",
            "-I",
            "proto",
            "--schema-file",
            "shop/order.proto",
        ],
        format!("{frame}\n").as_bytes(),
    );
    assert_eq!(offline.ok_lines(), [doc.to_owned()]);
    // -I is for Protobuf only.
    let out = kcodec(&["decode", "--format", "int", "-I", "proto"], b"00000001\n");
    assert!(out.err().contains("--format protobuf"), "{}", out.stderr);
}

#[test]
fn avro_maps_are_written_in_the_documents_key_order() {
    let server = serve(&[]);
    let dir = tempfile::tempdir().unwrap();
    let avsc = write_file(
        dir.path(),
        "m.avsc",
        r#"{"type":"record","name":"M","fields":[{"name":"m","type":{"type":"map","values":"int"}}]}"#,
    );
    let enc = kcodec(
        &with_registry(
            &[
                "encode",
                "--format",
                "avro",
                "--schema-file",
                avsc.to_str().unwrap(),
            ],
            &server.url,
        ),
        b"{\"m\":{\"k\":1,\"j\":-2}}\n",
    );
    let frame = enc.ok_lines()[0].clone();
    // Two entries, "k" → 1 then "j" → -2, as Confluent's Python AvroSerializer writes the dict
    // (insertion order), not sorted.
    assert_eq!(&frame[10..], "04026b02026a0300");
    let dec = kcodec(
        &with_registry(&["decode", "--format", "avro"], &server.url),
        enc.stdout.as_slice(),
    );
    assert_eq!(json(&dec.ok_lines()[0]), json(r#"{"m":{"k":1,"j":-2}}"#));
}
