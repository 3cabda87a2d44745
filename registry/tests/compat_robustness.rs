//! Bad input never panics: every prefix of valid schemas, and some odd documents, either parse
//! and check or give `InvalidSchema`.

use kcodec_registry::compat::compatibility_errors;
use kcodec_registry::{CompatibilityLevel as L, RegistryError, Schema, SchemaType};

fn every_prefix(schema_type: SchemaType, full: &str) {
    let whole = Schema::new(schema_type, full);
    for end in (0..full.len()).filter(|i| full.is_char_boundary(*i)) {
        let cut = Schema::new(schema_type, &full[..end]);
        for (old, new) in [(&whole, &cut), (&cut, &whole)] {
            match compatibility_errors(old, new, L::FullTransitive) {
                Ok(_) | Err(RegistryError::InvalidSchema(_)) => {}
                Err(other) => panic!("unexpected error {other} for prefix {end}"),
            }
        }
    }
}

#[test]
fn truncated_schemas_never_panic() {
    every_prefix(
        SchemaType::Avro,
        r#"{"type":"record","name":"N","fields":[{"name":"a","type":["null",{"type":"array","items":"N"}],"default":null},{"name":"d","type":{"type":"bytes","logicalType":"decimal","precision":4,"scale":2}}]}"#,
    );
    every_prefix(
        SchemaType::Protobuf,
        "syntax = \"proto3\"; package p; message M { oneof o { int32 a = 1; string b = 2; } map<string, M> m = 3; }",
    );
    every_prefix(
        SchemaType::Json,
        r##"{"type":"object","properties":{"n":{"$ref":"#"},"x":{"anyOf":[{"type":"string"},{"allOf":[{"minimum":1}]}]}},"required":["x"]}"##,
    );
}

#[test]
fn odd_documents_do_not_panic() {
    let odd_json = [
        r##"{"$ref":"#"}"##,
        r##"{"$ref":"#/nowhere"}"##,
        r#"{"$ref":"other.json"}"#,
        r#"{"type":42,"properties":[],"required":"x","items":[true],"anyOf":{}}"#,
        r#"{"minimum":"a","maxLength":-1,"multipleOf":0}"#,
        r##"{"allOf":[{"$ref":"#"}]}"##,
    ];
    for a in odd_json {
        for b in odd_json {
            // an invalid new schema is refused (as Confluent's `JsonSchema.validate()`)
            match compatibility_errors(&Schema::json(a), &Schema::json(b), L::Full) {
                Ok(_) | Err(RegistryError::InvalidSchema(_)) => {}
                Err(e) => panic!("{a} / {b}: {e}"),
            }
        }
    }
    // Deeply nested JSON Schema: bounded, not a stack overflow.
    let deep = format!(
        "{}{}{}",
        r#"{"type":"array","items":"#.repeat(100),
        r#"{"type":"string"}"#,
        "}".repeat(100)
    );
    let deeper = deep.replace(r#"{"type":"string"}"#, r#"{"type":"integer"}"#);
    match compatibility_errors(&Schema::json(&deep), &Schema::json(&deeper), L::Backward) {
        Ok(msgs) => assert!(!msgs.is_empty()),
        Err(RegistryError::InvalidSchema(_)) => {}
        Err(e) => panic!("{e}"),
    }
    // Protobuf text that is valid base64 but not a descriptor is parsed as (bad) source.
    assert!(matches!(
        compatibility_errors(
            &Schema::protobuf("AAAA"),
            &Schema::protobuf("AAAA"),
            L::Backward
        ),
        Err(RegistryError::InvalidSchema(_))
    ));
}

/// A transitive check against many earlier schemas, each comparison within its own budget,
/// stops once the comparisons together need more than `CHECK_BUDGET`: one request's work is
/// bounded whatever the number of versions.
#[test]
fn transitive_check_has_one_budget_for_all_versions() {
    use kcodec_registry::compat::{References, Resolved, check};
    let branches = |f: &dyn Fn(usize) -> String| {
        let all: Vec<String> = (0..150).map(f).collect();
        Schema::json(format!(r#"{{"anyOf":[{}]}}"#, all.join(",")))
    };
    let old: Vec<Schema> = (0..12)
        .map(|v| branches(&|i| format!(r#"{{"type":"string","maxLength":{}}}"#, i + v)))
        .collect();
    let new = branches(&|i| format!(r#"{{"type":"integer","maximum":{i}}}"#));
    let none = References::new();
    let resolved = |s| Resolved {
        schema: s,
        references: &none,
    };
    // against one earlier schema: within budget, and incompatible
    let one = check(L::Full, resolved(&new), &[resolved(&old[0])]).unwrap();
    assert!(!one.is_empty());
    let all: Vec<Resolved<'_>> = old.iter().map(resolved).collect();
    match check(L::FullTransitive, resolved(&new), &all) {
        Err(RegistryError::InvalidSchema(why)) => {
            assert!(why.contains("needs more than its work budget"), "{why}")
        }
        other => panic!(
            "expected the check budget to run out, got {:?} messages",
            other.map(|m| m.len())
        ),
    }
}
