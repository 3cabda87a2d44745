//! Protobuf compatibility: a table of evolution cases, each with the expected verdict.

use base64::Engine;
use kcodec_registry::compat::{References, Resolved, check, compatibility_errors};
use kcodec_registry::{CompatibilityLevel as L, RegistryError, Schema};
use prost::Message;

struct Case {
    name: &'static str,
    old: String,
    new: String,
    level: L,
    /// `None` = compatible; `Some(s)` = incompatible and some message contains `s`.
    expect: Option<&'static str>,
}

fn case(name: &'static str, old: &str, new: &str, level: L, expect: Option<&'static str>) -> Case {
    Case {
        name,
        old: old.to_owned(),
        new: new.to_owned(),
        level,
        expect,
    }
}

fn run(cases: Vec<Case>) {
    let mut failures = Vec::new();
    for c in &cases {
        let msgs = compatibility_errors(
            &Schema::protobuf(c.old.clone()),
            &Schema::protobuf(c.new.clone()),
            c.level,
        )
        .unwrap_or_else(|e| panic!("{}: {e}", c.name));
        let ok = match c.expect {
            None => msgs.is_empty(),
            Some(s) => !msgs.is_empty() && msgs.iter().any(|m| m.contains(s)),
        };
        if !ok {
            failures.push(format!(
                "{} [{}]: expected {:?}, got {:?}",
                c.name, c.level, c.expect, msgs
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

const P3: &str = "syntax = \"proto3\"; package shop.v1;";

fn p3(body: &str) -> String {
    format!("{P3}\n{body}")
}

#[test]
fn protobuf_evolution_table() {
    let base = p3("message Order { int32 id = 1; string note = 2; }");
    let cases = vec![
        case(
            "field added",
            &base,
            &p3("message Order { int32 id = 1; string note = 2; double total = 3; }"),
            L::FullTransitive,
            None,
        ),
        case(
            "field removed",
            &base,
            &p3("message Order { int32 id = 1; }"),
            L::Full,
            None,
        ),
        case(
            "field renamed",
            &base,
            &p3("message Order { int32 id = 1; string comment = 2; }"),
            L::Full,
            None,
        ),
        case(
            "int32 to int64 (same wire group)",
            &base,
            &p3("message Order { int64 id = 1; string note = 2; }"),
            L::Full,
            None,
        ),
        case(
            "int32 to bool (same wire group)",
            &base,
            &p3("message Order { bool id = 1; string note = 2; }"),
            L::Backward,
            None,
        ),
        case(
            "string to bytes",
            &base,
            &p3("message Order { int32 id = 1; bytes note = 2; }"),
            L::Full,
            None,
        ),
        case(
            "number reused with another type",
            &base,
            &p3("message Order { string id = 1; string note = 2; }"),
            L::Backward,
            Some(
                "field 'Order.id' (number 1): type changed from int32 (writer) to string (reader), which is not wire-compatible",
            ),
        ),
        case(
            "int32 to sint32",
            &base,
            &p3("message Order { sint32 id = 1; string note = 2; }"),
            L::Forward,
            Some("field 'Order.id' (number 1)"),
        ),
        case(
            "fixed32 to sfixed32",
            &p3("message Order { fixed32 id = 1; }"),
            &p3("message Order { sfixed32 id = 1; }"),
            L::Full,
            None,
        ),
        case(
            "scalar to message",
            &base,
            &p3(
                "message Order { Money id = 1; string note = 2; } message Money { int64 units = 1; }",
            ),
            L::Backward,
            Some("kind changed from int32 (writer) to message Money (reader)"),
        ),
        case(
            "message type changed",
            &p3("message Order { A x = 1; } message A { int32 a = 1; } message B { int32 a = 1; }"),
            &p3("message Order { B x = 1; } message A { int32 a = 1; } message B { int32 a = 1; }"),
            L::Backward,
            Some("type changed from message A (writer) to message B (reader)"),
        ),
        case(
            "enum type changed (both general numbers, as Confluent groups them)",
            &p3("message Order { E x = 1; } enum E { E0 = 0; } enum F { F0 = 0; }"),
            &p3("message Order { F x = 1; } enum E { E0 = 0; } enum F { F0 = 0; }"),
            L::Full,
            None,
        ),
        case(
            "enum to int32",
            &p3("message Order { E x = 1; } enum E { E0 = 0; }"),
            &p3("message Order { int32 x = 1; } enum E { E0 = 0; }"),
            L::Full,
            None,
        ),
        case(
            "enum to string",
            &p3("message Order { E x = 1; } enum E { E0 = 0; }"),
            &p3("message Order { string x = 1; } enum E { E0 = 0; }"),
            L::Backward,
            Some("type changed from enum E (writer) to string (reader)"),
        ),
        case(
            "enum value added and removed",
            &p3("message Order { E x = 1; } enum E { E0 = 0; E1 = 1; }"),
            &p3("message Order { E x = 1; } enum E { E0 = 0; E2 = 2; }"),
            L::Full,
            None,
        ),
        case(
            "message removed",
            &p3("message Order { int32 id = 1; } message Item { string sku = 1; }"),
            &p3("message Order { int32 id = 1; }"),
            L::Backward,
            Some("message 'Item': removed"),
        ),
        case(
            "nested message removed",
            &p3("message Order { int32 id = 1; message Line { int32 n = 1; } }"),
            &p3("message Order { int32 id = 1; }"),
            L::Backward,
            Some("message 'Order.Line': removed"),
        ),
        case(
            "message added is forward-incompatible (as Confluent's diff sees it)",
            &p3("message Order { int32 id = 1; }"),
            &p3("message Order { int32 id = 1; } message Item { string sku = 1; }"),
            L::Forward,
            Some("forward: message 'Item': removed"),
        ),
        case(
            "message added, backward",
            &p3("message Order { int32 id = 1; }"),
            &p3("message Order { int32 id = 1; } message Item { string sku = 1; }"),
            L::Backward,
            None,
        ),
        case(
            "messages reordered",
            &p3("message Order { int32 id = 1; } message Item { string sku = 1; }"),
            &p3("message Item { string sku = 1; } message Order { int32 id = 1; }"),
            L::FullTransitive,
            None,
        ),
        case(
            "singular to repeated",
            &base,
            &p3("message Order { repeated int32 id = 1; string note = 2; }"),
            L::Backward,
            Some(
                "field 'Order.id' (number 1): numeric field changed from singular (writer) to repeated (reader)",
            ),
        ),
        case(
            "string singular to repeated",
            &base,
            &p3("message Order { int32 id = 1; repeated string note = 2; }"),
            L::Full,
            None,
        ),
        case(
            "map value type changed",
            &p3("message Order { map<string, int32> counts = 1; }"),
            &p3("message Order { map<string, string> counts = 1; }"),
            L::Backward,
            Some("map value: type changed from int32"),
        ),
        case(
            "repeated to map",
            &p3("message Order { repeated string tags = 1; }"),
            &p3("message Order { map<string, string> tags = 1; }"),
            L::Backward,
            Some("kind changed from repeated (writer) to map (reader)"),
        ),
        case(
            "field moved into existing oneof",
            &p3("message Order { int32 id = 1; oneof pay { string card = 2; } string cash = 3; }"),
            &p3("message Order { int32 id = 1; oneof pay { string card = 2; string cash = 3; } }"),
            L::Backward,
            Some("oneof 'Order.pay': field [cash] moved into an existing oneof"),
        ),
        case(
            "one field moved into a new oneof",
            &base,
            &p3("message Order { int32 id = 1; oneof extra { string note = 2; } }"),
            L::Full,
            None,
        ),
        case(
            "several fields moved into a new oneof",
            &base,
            &p3("message Order { oneof key { int32 id = 1; string note = 2; } }"),
            L::Backward,
            Some("several existing fields [id, note] moved into a new oneof"),
        ),
        case(
            "proto3 optional is not a oneof move",
            &base,
            &p3("message Order { optional int32 id = 1; string note = 2; }"),
            L::Full,
            None,
        ),
        case(
            "package changed",
            &base,
            "syntax = \"proto3\"; package shop.v2; message Order { int32 id = 1; string note = 2; }",
            L::Backward,
            Some("package changed from 'shop.v1' (writer) to 'shop.v2' (reader)"),
        ),
        case(
            "syntax changed alone (not a rule in Confluent's diff)",
            "syntax = \"proto2\"; message Order { optional int32 id = 1; }",
            "syntax = \"proto3\"; message Order { int32 id = 1; }",
            L::Full,
            None,
        ),
        case(
            "required field added",
            "syntax = \"proto2\"; message Order { optional int32 id = 1; }",
            "syntax = \"proto2\"; message Order { optional int32 id = 1; required string sku = 2; }",
            L::Backward,
            Some("field 'Order.sku' (number 2): required field added"),
        ),
        case(
            "required field removed",
            "syntax = \"proto2\"; message Order { optional int32 id = 1; required string sku = 2; }",
            "syntax = \"proto2\"; message Order { optional int32 id = 1; }",
            L::Backward,
            Some("field 'Order.sku' (number 2): required field removed"),
        ),
        case(
            "optional field added (proto2)",
            "syntax = \"proto2\"; message Order { optional int32 id = 1; }",
            "syntax = \"proto2\"; message Order { optional int32 id = 1; optional string sku = 2; }",
            L::FullTransitive,
            None,
        ),
        case(
            "well-known type import",
            &p3(
                "import \"google/protobuf/timestamp.proto\"; message Order { google.protobuf.Timestamp at = 1; }",
            ),
            &p3(
                "import \"google/protobuf/timestamp.proto\"; message Order { google.protobuf.Timestamp at = 1; int32 id = 2; }",
            ),
            L::Full,
            None,
        ),
        case(
            "NONE allows anything",
            &base,
            &p3("message Other { bytes b = 1; }"),
            L::None,
            None,
        ),
    ];
    assert!(cases.len() >= 8);
    run(cases);
}

fn descriptor_base64(source: &str) -> String {
    let mut compiler = protox::Compiler::with_file_resolver(SingleFile(source.to_owned()));
    compiler.open_file("order.proto").unwrap();
    let set = compiler.file_descriptor_set();
    let file = set.file.iter().find(|f| f.name() == "order.proto").unwrap();
    base64::engine::general_purpose::STANDARD.encode(file.encode_to_vec())
}

struct SingleFile(String);
impl protox::file::FileResolver for SingleFile {
    fn open_file(&self, name: &str) -> Result<protox::file::File, protox::Error> {
        if name == "order.proto" {
            protox::file::File::from_source(name, &self.0)
        } else {
            Err(protox::Error::file_not_found(name))
        }
    }
}

#[test]
fn base64_descriptors_compare_like_source() {
    let v1 = p3("message Order { int32 id = 1; }");
    let v2 = p3("message Order { string id = 1; }");
    let d1 = Schema::protobuf(descriptor_base64(&v1));
    let d2 = Schema::protobuf(descriptor_base64(&v2));
    assert!(
        compatibility_errors(&d1, &Schema::protobuf(v1.clone()), L::Full)
            .unwrap()
            .is_empty()
    );
    let msgs = compatibility_errors(&d1, &d2, L::Backward).unwrap();
    assert_eq!(
        msgs,
        [
            "backward: field 'Order.id' (number 1): type changed from int32 (writer) to string (reader), which is not wire-compatible"
        ]
    );
}

#[test]
fn imports_resolve_through_references() {
    let money_v1 = Schema::protobuf(p3("message Money { int64 units = 1; }"));
    let money_v2 = Schema::protobuf(p3("message Money { string units = 1; }"));
    let order = Schema::protobuf(p3(
        "import \"money.proto\"; message Order { Money total = 1; }",
    ));
    let r1 = References::from([("money.proto".to_owned(), money_v1)]);
    let r2 = References::from([("money.proto".to_owned(), money_v2)]);
    // A message type from an import is compared field by field.
    let msgs = check(
        L::Backward,
        Resolved {
            schema: &order,
            references: &r2,
        },
        &[Resolved {
            schema: &order,
            references: &r1,
        }],
    )
    .unwrap();
    assert_eq!(
        msgs,
        [
            "backward: field 'Money.units' (number 1): type changed from int64 (writer) to string (reader), which is not wire-compatible"
        ]
    );
    let msgs = check(
        L::Full,
        Resolved {
            schema: &order,
            references: &r1,
        },
        &[Resolved {
            schema: &order,
            references: &r1,
        }],
    )
    .unwrap();
    assert!(msgs.is_empty(), "{msgs:?}");
    // A missing import is an invalid schema, naming the file.
    let none = References::new();
    let err = check(
        L::Backward,
        Resolved {
            schema: &order,
            references: &none,
        },
        &[],
    )
    .unwrap_err();
    assert!(
        matches!(&err, RegistryError::InvalidSchema(m) if m.contains("money.proto")),
        "{err}"
    );
}

#[test]
fn unparseable_proto_is_invalid_schema() {
    let good = Schema::protobuf(p3("message Order { int32 id = 1; }"));
    let bad = Schema::protobuf("syntax = \"proto3\"; message Order { int32 id = ; }");
    assert!(matches!(
        compatibility_errors(&good, &bad, L::Backward),
        Err(RegistryError::InvalidSchema(m)) if m.starts_with("Protobuf")
    ));
}
