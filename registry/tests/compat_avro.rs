//! Avro compatibility: a table of evolution cases per level, each with the expected verdict.

use kcodec_registry::compat::{References, Resolved, check, compatibility_errors};
use kcodec_registry::{CompatibilityLevel as L, RegistryError, Schema, SchemaReference};

/// A record `User` with the given fields (JSON array contents).
fn user(fields: &str) -> String {
    format!(r#"{{"type":"record","name":"User","namespace":"com.example","fields":[{fields}]}}"#)
}

struct Case {
    name: &'static str,
    old: String,
    new: String,
    level: L,
    /// `None` = compatible; `Some(s)` = incompatible and some message contains `s`.
    expect: Option<&'static str>,
}

fn case(
    name: &'static str,
    old: String,
    new: String,
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

fn run(cases: Vec<Case>) {
    let mut failures = Vec::new();
    for c in &cases {
        let msgs = compatibility_errors(
            &Schema::avro(c.old.clone()),
            &Schema::avro(c.new.clone()),
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

const ID: &str = r#"{"name":"id","type":"int"}"#;

#[test]
fn avro_evolution_table() {
    let v_id = user(ID);
    let with_email_default = user(&format!(
        r#"{ID},{{"name":"email","type":"string","default":""}}"#
    ));
    let with_email = user(&format!(r#"{ID},{{"name":"email","type":"string"}}"#));
    let id_long = user(r#"{"name":"id","type":"long"}"#);
    let id_string = user(r#"{"name":"id","type":"string"}"#);
    let id_bytes = user(r#"{"name":"id","type":"bytes"}"#);
    let field = |t: &str| user(&format!(r#"{{"name":"f","type":{t}}}"#));
    let color = |symbols: &str, default: &str| {
        field(&format!(
            r#"{{"type":"enum","name":"Color","symbols":[{symbols}]{default}}}"#
        ))
    };
    let fixed = |name: &str, size: u32, aliases: &str| {
        field(&format!(
            r#"{{"type":"fixed","name":"{name}","size":{size}{aliases}}}"#
        ))
    };
    let address = |fields: &str| {
        user(&format!(
            r#"{ID},{{"name":"address","type":{{"type":"record","name":"Address","fields":[{fields}]}}}}"#
        ))
    };
    let list = |extra: &str| {
        format!(
            r#"{{"type":"record","name":"Node","fields":[{{"name":"value","type":"int"}},
               {{"name":"next","type":["null","Node"],"default":null}}{extra}]}}"#
        )
    };
    let decimal = |p: u32, s: u32| {
        field(&format!(
            r#"{{"type":"bytes","logicalType":"decimal","precision":{p},"scale":{s}}}"#
        ))
    };

    let cases = vec![
        // Fields added / removed.
        case("add field with default", v_id.clone(), with_email_default.clone(), L::Backward, None),
        case(
            "add field without default",
            v_id.clone(),
            with_email.clone(),
            L::Backward,
            Some("field 'User.email': reader field has no default and is missing in writer"),
        ),
        case("add field without default, forward", v_id.clone(), with_email.clone(), L::Forward, None),
        case("add field without default, full", v_id.clone(), with_email.clone(), L::Full, Some("User.email")),
        case("add field with default, full", v_id.clone(), with_email_default.clone(), L::Full, None),
        case("remove field without default, backward", with_email.clone(), v_id.clone(), L::Backward, None),
        case(
            "remove field without default, forward",
            with_email.clone(),
            v_id.clone(),
            L::Forward,
            Some("forward: field 'User.email': reader field has no default"),
        ),
        case("remove field with default, forward", with_email_default.clone(), v_id.clone(), L::Forward, None),
        // Promotions.
        case("int to long, backward", v_id.clone(), id_long.clone(), L::Backward, None),
        case(
            "int to long, forward",
            v_id.clone(),
            id_long.clone(),
            L::Forward,
            Some("field 'User.id': writer type long cannot be promoted to reader type int"),
        ),
        case("int to long, full", v_id.clone(), id_long.clone(), L::Full, Some("User.id")),
        case("long to float", field(r#""long""#), field(r#""float""#), L::Backward, None),
        case("int to double", field(r#""int""#), field(r#""double""#), L::Backward, None),
        case("float to double", field(r#""float""#), field(r#""double""#), L::Backward, None),
        case("double to float", field(r#""double""#), field(r#""float""#), L::Backward, Some("writer type double cannot be promoted to reader type float")),
        case("int to string", v_id.clone(), id_string.clone(), L::Backward, Some("writer type int cannot be promoted to reader type string")),
        case("string to bytes, full", id_string.clone(), id_bytes.clone(), L::Full, None),
        case("boolean to int", field(r#""boolean""#), field(r#""int""#), L::Backward, Some("User.f")),
        // Enums.
        case("enum symbol added, backward", color(r#""RED""#, ""), color(r#""RED","BLUE""#, ""), L::Backward, None),
        case(
            "enum symbol added, forward",
            color(r#""RED""#, ""),
            color(r#""RED","BLUE""#, ""),
            L::Forward,
            Some("writer symbols [BLUE] of enum com.example.Color are missing from the reader enum"),
        ),
        case(
            "enum symbol added, forward, reader has default",
            color(r#""UNKNOWN","RED""#, r#","default":"UNKNOWN""#),
            color(r#""UNKNOWN","RED","BLUE""#, r#","default":"UNKNOWN""#),
            L::Forward,
            None,
        ),
        case("enum symbol removed, backward", color(r#""RED","BLUE""#, ""), color(r#""RED""#, ""), L::Backward, Some("[BLUE]")),
        case(
            "enum renamed",
            color(r#""RED""#, ""),
            field(r#"{"type":"enum","name":"Colour","symbols":["RED"]}"#),
            L::Backward,
            Some("does not match writer enum"),
        ),
        // Fixed.
        case("fixed size changed", fixed("Hash", 16, ""), fixed("Hash", 32, ""), L::Backward, Some("size changed from 16 (writer) to 32 (reader)")),
        case("fixed renamed", fixed("Hash", 16, ""), fixed("Digest", 16, ""), L::Backward, Some("does not match writer fixed")),
        case("fixed renamed with alias", fixed("Hash", 16, ""), fixed("Digest", 16, r#","aliases":["Hash"]"#), L::Backward, None),
        // Records and field aliases.
        case(
            "record renamed",
            v_id.clone(),
            r#"{"type":"record","name":"Person","namespace":"com.example","fields":[{"name":"id","type":"int"}]}"#.into(),
            L::Backward,
            Some("reader record com.example.Person does not match writer record com.example.User"),
        ),
        case(
            "record renamed with alias",
            v_id.clone(),
            r#"{"type":"record","name":"Person","namespace":"com.example","aliases":["User"],"fields":[{"name":"id","type":"int"}]}"#.into(),
            L::Backward,
            None,
        ),
        case(
            "record namespace changed (unqualified names match)",
            v_id.clone(),
            r#"{"type":"record","name":"User","namespace":"org.other","fields":[{"name":"id","type":"int"}]}"#.into(),
            L::Full,
            None,
        ),
        case("field renamed with alias", v_id.clone(), user(r#"{"name":"user_id","type":"int","aliases":["id"]}"#), L::Backward, None),
        case("field renamed without alias", v_id.clone(), user(r#"{"name":"user_id","type":"int"}"#), L::Backward, Some("User.user_id")),
        // Unions.
        case("type to nullable union, backward", id_string.clone(), user(r#"{"name":"id","type":["null","string"]}"#), L::Backward, None),
        case(
            "type to nullable union, forward",
            id_string.clone(),
            user(r#"{"name":"id","type":["null","string"]}"#),
            L::Forward,
            Some("(writer union branch 0: null)"),
        ),
        case("union branch added", field(r#"["null","string"]"#), field(r#"["null","string","int"]"#), L::Backward, None),
        case("union branch removed", field(r#"["null","string","int"]"#), field(r#"["null","string"]"#), L::Backward, Some("writer type int matches no branch of reader union [null, string]")),
        case("union branch promoted", field(r#"["null","int"]"#), field(r#"["null","long"]"#), L::Backward, None),
        case("union to single type", field(r#"["null","int"]"#), field(r#""int""#), L::Backward, Some("writer union branch 0: null")),
        // Arrays and maps.
        case("array items promoted", field(r#"{"type":"array","items":"int"}"#), field(r#"{"type":"array","items":"long"}"#), L::Backward, None),
        case("array items changed", field(r#"{"type":"array","items":"int"}"#), field(r#"{"type":"array","items":"string"}"#), L::Backward, Some("field 'User.f[]'")),
        case("map values changed", field(r#"{"type":"map","values":"string"}"#), field(r#"{"type":"map","values":"int"}"#), L::Backward, Some("field 'User.f{}'")),
        case("array to map", field(r#"{"type":"array","items":"int"}"#), field(r#"{"type":"map","values":"int"}"#), L::Backward, Some("writer type array cannot be promoted to reader type map")),
        // Nested and recursive records.
        case("nested field added without default", address(r#"{"name":"street","type":"string"}"#), address(r#"{"name":"street","type":"string"},{"name":"zip","type":"string"}"#), L::Backward, Some("field 'User.address.zip'")),
        case("recursive record gains defaulted field", list(""), list(r#",{"name":"tag","type":"string","default":""}"#), L::FullTransitive, None),
        case("recursive record gains field without default", list(""), list(r#",{"name":"tag","type":"string"}"#), L::Backward, Some("Node.tag")),
        // Logical types.
        case("decimal precision changed", decimal(10, 2), decimal(12, 2), L::Backward, Some("decimal changed from precision 10 scale 2 (writer) to precision 12 scale 2 (reader)")),
        case("decimal scale changed", decimal(10, 2), decimal(10, 3), L::Forward, Some("decimal changed")),
        case(
            "nullable decimal precision changed",
            field(r#"["null",{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}]"#),
            field(r#"["null",{"type":"bytes","logicalType":"decimal","precision":12,"scale":2}]"#),
            L::Backward,
            Some("decimal changed from precision 10 scale 2 (writer) to precision 12 scale 2 (reader) (writer union branch 1: bytes)"),
        ),
        case(
            "union of records: branch record gains field without default",
            field(r#"["null",{"type":"record","name":"A","fields":[{"name":"x","type":"int"}]}]"#),
            field(r#"["null",{"type":"record","name":"A","fields":[{"name":"x","type":"int"},{"name":"y","type":"int"}]}]"#),
            L::Backward,
            Some("field 'User.f.y': reader field has no default and is missing in writer (writer union branch 1: record com.example.A)"),
        ),
        case("decimal unchanged", decimal(10, 2), decimal(10, 2), L::Full, None),
        case("date to int", field(r#"{"type":"int","logicalType":"date"}"#), field(r#""int""#), L::Full, None),
        case("timestamp-millis to long", field(r#"{"type":"long","logicalType":"timestamp-millis"}"#), field(r#""long""#), L::Full, None),
        case("date to timestamp (int to long)", field(r#"{"type":"int","logicalType":"date"}"#), field(r#"{"type":"long","logicalType":"timestamp-millis"}"#), L::Backward, None),
        case("uuid string to string", field(r#"{"type":"string","logicalType":"uuid"}"#), field(r#""string""#), L::Full, None),
        // Primitive roots and NONE.
        case("primitive root int to long", r#""int""#.into(), r#""long""#.into(), L::Backward, None),
        case("primitive root int to string", r#""int""#.into(), r#""string""#.into(), L::Backward, Some("schema root: writer type int cannot be promoted to reader type string")),
        case("NONE allows anything", v_id.clone(), id_string.clone(), L::None, None),
    ];
    assert!(cases.len() >= 20);
    run(cases);
}

fn resolved<'a>(s: &'a Schema, refs: &'a References) -> Resolved<'a> {
    Resolved {
        schema: s,
        references: refs,
    }
}

#[test]
fn transitive_levels_check_every_earlier_version() {
    let none = References::new();
    // BACKWARD: v3 reads v2 (email present) but not v1 (email missing, no default).
    let v1 = Schema::avro(user(ID));
    let v2 = Schema::avro(user(&format!(
        r#"{ID},{{"name":"email","type":"string","default":""}}"#
    )));
    let v3 = Schema::avro(user(&format!(r#"{ID},{{"name":"email","type":"string"}}"#)));
    let history = [resolved(&v1, &none), resolved(&v2, &none)];
    assert_eq!(
        check(L::Backward, resolved(&v3, &none), &history).unwrap(),
        Vec::<String>::new()
    );
    let msgs = check(L::BackwardTransitive, resolved(&v3, &none), &history).unwrap();
    assert_eq!(
        msgs,
        [
            "backward (against earlier schema 1 of 2): field 'User.email': reader field has no default and is missing in writer"
        ]
    );

    // FORWARD: v1 has `name` without default, v2 gives it a default, v3 removes it.
    let f1 = Schema::avro(user(&format!(r#"{ID},{{"name":"name","type":"string"}}"#)));
    let f2 = Schema::avro(user(&format!(
        r#"{ID},{{"name":"name","type":"string","default":"?"}}"#
    )));
    let f3 = Schema::avro(user(ID));
    let history = [resolved(&f1, &none), resolved(&f2, &none)];
    assert!(
        check(L::Forward, resolved(&f3, &none), &history)
            .unwrap()
            .is_empty()
    );
    let msgs = check(L::ForwardTransitive, resolved(&f3, &none), &history).unwrap();
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    assert!(
        msgs[0].starts_with("forward (against earlier schema 1 of 2): field 'User.name'"),
        "{msgs:?}"
    );

    // FULL: the same history passes FULL (v2 <-> v3) but not FULL_TRANSITIVE.
    assert!(
        check(L::Full, resolved(&f3, &none), &history)
            .unwrap()
            .is_empty()
    );
    let msgs = check(L::FullTransitive, resolved(&f3, &none), &history).unwrap();
    assert!(
        !msgs.is_empty() && msgs.iter().all(|m| m.contains("User.name")),
        "{msgs:?}"
    );

    // NONE and an empty history never complain.
    assert!(
        check(L::None, resolved(&v3, &none), &history)
            .unwrap()
            .is_empty()
    );
    assert!(
        check(L::FullTransitive, resolved(&v3, &none), &[])
            .unwrap()
            .is_empty()
    );
}

#[test]
fn unparseable_and_mismatched_schemas() {
    let good = Schema::avro(user(ID));
    let bad =
        Schema::avro(r#"{"type":"record","name":"User","fields":[{"name":"id","type":"nope"}]}"#);
    let err = compatibility_errors(&good, &bad, L::Backward).unwrap_err();
    assert!(
        matches!(err, RegistryError::InvalidSchema(ref m) if m.starts_with("Avro")),
        "{err}"
    );
    // Even NONE rejects a schema that does not parse.
    assert!(compatibility_errors(&good, &Schema::avro("{not json"), L::None).is_err());
    let msgs =
        compatibility_errors(&good, &Schema::json(r#"{"type":"object"}"#), L::Backward).unwrap();
    assert_eq!(msgs, ["backward: schema type changed from AVRO to JSON"]);
}

#[test]
fn references_resolve_named_types() {
    let address_v1 = Schema::avro(
        r#"{"type":"record","name":"Address","namespace":"com.example","fields":[{"name":"street","type":"string"}]}"#,
    );
    let address_v2 = Schema::avro(
        r#"{"type":"record","name":"Address","namespace":"com.example","fields":[{"name":"street","type":"string"},{"name":"zip","type":"string"}]}"#,
    );
    let reference = SchemaReference {
        name: "com.example.Address".into(),
        subject: "address".into(),
        version: 1,
    };
    let user_schema = Schema::avro(user(&format!(
        r#"{ID},{{"name":"home","type":"com.example.Address"}}"#
    )))
    .with_references(vec![reference]);
    let refs_v1 = References::from([("com.example.Address".to_owned(), address_v1)]);
    let refs_v2 = References::from([("com.example.Address".to_owned(), address_v2)]);
    let msgs = check(
        L::Backward,
        resolved(&user_schema, &refs_v2),
        &[resolved(&user_schema, &refs_v1)],
    )
    .unwrap();
    assert_eq!(
        msgs,
        ["backward: field 'User.home.zip': reader field has no default and is missing in writer"]
    );
    assert!(
        check(
            L::Forward,
            resolved(&user_schema, &refs_v2),
            &[resolved(&user_schema, &refs_v1)]
        )
        .unwrap()
        .is_empty()
    );
    // Without the reference the named type does not resolve: an invalid schema.
    let none = References::new();
    assert!(matches!(
        check(L::Backward, resolved(&user_schema, &none), &[]),
        Err(RegistryError::InvalidSchema(_))
    ));
}
