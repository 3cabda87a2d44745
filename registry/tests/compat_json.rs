//! JSON Schema compatibility: a table of evolution cases, each with the expected verdict.

use kcodec_registry::compat::{References, Resolved, check, compatibility_errors};
use kcodec_registry::{CompatibilityLevel as L, RegistryError, Schema};

struct Case {
    name: &'static str,
    old: &'static str,
    new: &'static str,
    level: L,
    /// `None` = compatible; `Some(s)` = incompatible and some message contains `s`.
    expect: Option<&'static str>,
}

const fn case(
    name: &'static str,
    old: &'static str,
    new: &'static str,
    level: L,
    expect: Option<&'static str>,
) -> Case {
    Case {
        name,
        old,
        new,
        level,
        expect,
    }
}

fn run(cases: &[Case]) {
    let mut failures = Vec::new();
    for c in cases {
        let msgs = compatibility_errors(&Schema::json(c.old), &Schema::json(c.new), c.level)
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

const OPEN: &str = r#"{"type":"object","properties":{"id":{"type":"integer"},"name":{"type":"string"}},"required":["id"]}"#;
const CLOSED: &str = r#"{"type":"object","properties":{"id":{"type":"integer"},"name":{"type":"string"}},"required":["id"],"additionalProperties":false}"#;

const CASES: &[Case] = &[
    case("identical", OPEN, OPEN, L::FullTransitive, None),
    case(
        "optional property added to an open model",
        OPEN,
        r#"{"type":"object","properties":{"id":{"type":"integer"},"name":{"type":"string"},"email":{"type":"string"}},"required":["id"]}"#,
        L::Backward,
        Some("at '#/properties/email': property added to an open content model"),
    ),
    case(
        "optional property added to a closed model",
        CLOSED,
        r#"{"type":"object","properties":{"id":{"type":"integer"},"name":{"type":"string"},"email":{"type":"string"}},"required":["id"],"additionalProperties":false}"#,
        L::Backward,
        None,
    ),
    case(
        "property removed from a closed model",
        CLOSED,
        r#"{"type":"object","properties":{"id":{"type":"integer"}},"required":["id"],"additionalProperties":false}"#,
        L::Backward,
        Some("at '#/properties/name': property removed from a closed content model"),
    ),
    case(
        "property removed from an open model",
        OPEN,
        r#"{"type":"object","properties":{"id":{"type":"integer"}},"required":["id"]}"#,
        L::Backward,
        None,
    ),
    case(
        "property removed from an open model, forward",
        OPEN,
        r#"{"type":"object","properties":{"id":{"type":"integer"}},"required":["id"]}"#,
        L::Forward,
        Some("forward: at '#/properties/name'"),
    ),
    case(
        "required property added without default",
        OPEN,
        r#"{"type":"object","properties":{"id":{"type":"integer"},"name":{"type":"string"}},"required":["id","name"]}"#,
        L::Backward,
        Some("at '#/properties/name': required property added without a default"),
    ),
    case(
        "required property added with default",
        OPEN,
        r#"{"type":"object","properties":{"id":{"type":"integer"},"name":{"type":"string","default":""}},"required":["id","name"]}"#,
        L::Backward,
        None,
    ),
    case(
        "required property dropped",
        r#"{"type":"object","properties":{"id":{"type":"integer"},"name":{"type":"string"}},"required":["id","name"]}"#,
        OPEN,
        L::Backward,
        None,
    ),
    case(
        "type changed",
        OPEN,
        r#"{"type":"object","properties":{"id":{"type":"string"},"name":{"type":"string"}},"required":["id"]}"#,
        L::Backward,
        Some("at '#/properties/id': type changed from [integer] (writer) to [string] (reader)"),
    ),
    case(
        "integer widened to number",
        r#"{"type":"integer"}"#,
        r#"{"type":"number"}"#,
        L::Backward,
        None,
    ),
    case(
        "integer widened to number, forward",
        r#"{"type":"integer"}"#,
        r#"{"type":"number"}"#,
        L::Forward,
        Some("type changed from [number] (writer) to [integer] (reader)"),
    ),
    case(
        "nullable type narrowed",
        r#"{"type":["string","null"]}"#,
        r#"{"type":"string"}"#,
        L::Backward,
        Some("type changed"),
    ),
    case(
        "additionalProperties false added",
        OPEN,
        CLOSED,
        L::Backward,
        Some("at '#': additionalProperties: false added"),
    ),
    case(
        "additionalProperties false removed",
        CLOSED,
        OPEN,
        L::Backward,
        None,
    ),
    case(
        "enum narrowed",
        r#"{"enum":["a","b","c"]}"#,
        r#"{"enum":["a","b"]}"#,
        L::Backward,
        Some("enum narrowed: values [\"c\"] removed"),
    ),
    case(
        "enum widened",
        r#"{"enum":["a","b"]}"#,
        r#"{"enum":["a","b","c"]}"#,
        L::Backward,
        None,
    ),
    case(
        "maxLength decreased",
        r#"{"type":"string","maxLength":10}"#,
        r#"{"type":"string","maxLength":5}"#,
        L::Backward,
        Some("maxLength decreased from 10 to 5"),
    ),
    case(
        "maxLength increased",
        r#"{"type":"string","maxLength":10}"#,
        r#"{"type":"string","maxLength":20}"#,
        L::Backward,
        None,
    ),
    case(
        "minLength added",
        r#"{"type":"string"}"#,
        r#"{"type":"string","minLength":1}"#,
        L::Backward,
        Some("minLength increased from 0 to 1"),
    ),
    case(
        "pattern added",
        r#"{"type":"string"}"#,
        r#"{"type":"string","pattern":"^[a-z]+$"}"#,
        L::Backward,
        Some("pattern"),
    ),
    case(
        "minimum increased",
        r#"{"type":"integer","minimum":0}"#,
        r#"{"type":"integer","minimum":1}"#,
        L::Backward,
        Some("minimum increased from 0 to 1"),
    ),
    case(
        "minimum made exclusive",
        r#"{"type":"integer","minimum":0}"#,
        r#"{"type":"integer","exclusiveMinimum":0}"#,
        L::Backward,
        Some("minimum increased from 0 to 0 (exclusive)"),
    ),
    case(
        "maximum removed",
        r#"{"type":"integer","maximum":9}"#,
        r#"{"type":"integer"}"#,
        L::Backward,
        None,
    ),
    case(
        "maximum removed, full",
        r#"{"type":"integer","maximum":9}"#,
        r#"{"type":"integer"}"#,
        L::Full,
        Some("forward: at '#': maximum 9 added"),
    ),
    case(
        "multipleOf refined",
        r#"{"type":"number","multipleOf":4}"#,
        r#"{"type":"number","multipleOf":2}"#,
        L::Backward,
        None,
    ),
    case(
        "multipleOf coarsened",
        r#"{"type":"number","multipleOf":2}"#,
        r#"{"type":"number","multipleOf":4}"#,
        L::Backward,
        Some("multipleOf 4"),
    ),
    case(
        "items type changed",
        r#"{"type":"object","properties":{"tags":{"type":"array","items":{"type":"string"}}}}"#,
        r#"{"type":"object","properties":{"tags":{"type":"array","items":{"type":"integer"}}}}"#,
        L::Backward,
        Some("at '#/properties/tags/items': type changed"),
    ),
    case(
        "maxItems added",
        r#"{"type":"array"}"#,
        r#"{"type":"array","maxItems":3}"#,
        L::Backward,
        Some("maxItems 3 added"),
    ),
    case(
        "$ref target changed",
        r##"{"type":"object","properties":{"a":{"$ref":"#/definitions/A"}},"definitions":{"A":{"type":"string"}}}"##,
        r##"{"type":"object","properties":{"a":{"$ref":"#/$defs/A"}},"$defs":{"A":{"type":"string","maxLength":3}}}"##,
        L::Backward,
        Some("at '#/properties/a': maxLength 3 added"),
    ),
    case(
        "recursive $ref with a compatible change",
        r##"{"$ref":"#/$defs/Node","$defs":{"Node":{"type":"object","properties":{"v":{"type":"integer"},"next":{"$ref":"#/$defs/Node"}}}}}"##,
        r##"{"$ref":"#/$defs/Node","$defs":{"Node":{"type":"object","properties":{"v":{"type":"number"},"next":{"$ref":"#/$defs/Node"}}}}}"##,
        L::Backward,
        None,
    ),
    case(
        "anyOf branch added",
        r#"{"anyOf":[{"type":"string"},{"type":"integer"}]}"#,
        r#"{"anyOf":[{"type":"string"},{"type":"integer"},{"type":"boolean"}]}"#,
        L::Backward,
        None,
    ),
    case(
        "anyOf branch removed",
        r#"{"anyOf":[{"type":"string"},{"type":"integer"}]}"#,
        r#"{"anyOf":[{"type":"string"}]}"#,
        L::Backward,
        Some("no branch of the reader's anyOf/oneOf (writer branch 1 of anyOf/oneOf)"),
    ),
    case(
        "type widened into oneOf",
        r#"{"type":"string"}"#,
        r#"{"oneOf":[{"type":"string"},{"type":"null"}]}"#,
        L::Backward,
        None,
    ),
    case(
        "allOf in writer merged",
        r#"{"allOf":[{"type":"object"},{"properties":{"id":{"type":"integer"}}}]}"#,
        r#"{"type":"object","properties":{"id":{"type":"number"}}}"#,
        L::Backward,
        None,
    ),
    case("true accepts everything", OPEN, "true", L::Backward, None),
    case(
        "false accepts nothing",
        OPEN,
        "false",
        L::Backward,
        Some("reader schema is false"),
    ),
    case(
        "NONE allows anything",
        OPEN,
        r#"{"type":"string"}"#,
        L::None,
        None,
    ),
];

#[test]
fn json_schema_evolution_table() {
    assert!(CASES.len() >= 8);
    run(CASES);
}

#[test]
fn references_by_name_resolve() {
    let addr_v1 = Schema::json(r#"{"type":"object","properties":{"zip":{"type":"string"}}}"#);
    let addr_v2 =
        Schema::json(r#"{"type":"object","properties":{"zip":{"type":"string","maxLength":5}}}"#);
    let order =
        Schema::json(r#"{"type":"object","properties":{"ship_to":{"$ref":"address.json"}}}"#);
    let r1 = References::from([("address.json".to_owned(), addr_v1)]);
    let r2 = References::from([("address.json".to_owned(), addr_v2)]);
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
        ["backward: at '#/properties/ship_to/properties/zip': maxLength 5 added"]
    );
}

#[test]
fn unparseable_json_schema_is_invalid() {
    let good = Schema::json(OPEN);
    for bad in ["{", "42", "\"string\""] {
        assert!(
            matches!(
                compatibility_errors(&good, &Schema::json(bad), L::Backward),
                Err(RegistryError::InvalidSchema(m)) if m.starts_with("JSON Schema")
            ),
            "{bad}"
        );
    }
}
