//! The behaviour suite every `SchemaRegistry` implementation passes: the in-memory registry and
//! the dev server (through the HTTP client) give the same ids, versions and errors.
//!
//! `suite_tests!(make)` expands to one `#[tokio::test]` per behaviour; `make` is an async
//! expression giving a fresh, empty registry as `Arc<dyn SchemaRegistry>` (plus a guard kept
//! alive for the test).

#![allow(dead_code)]

use kcodec_registry::{
    CompatibilityLevel, RegistryError, Schema, SchemaReference, SchemaRegistry, Version,
};

pub fn user_v1() -> Schema {
    Schema::avro(
        r#"{"type":"record","name":"User","namespace":"com.example","fields":[{"name":"name","type":"string"}]}"#,
    )
}

/// `user_v1` plus an optional field with a default: backward and forward compatible.
pub fn user_v2() -> Schema {
    Schema::avro(
        r#"{"type":"record","name":"User","namespace":"com.example","fields":[{"name":"name","type":"string"},{"name":"age","type":["null","int"],"default":null}]}"#,
    )
}

/// `user_v1` with `name` changed from string to int: incompatible every way.
pub fn user_name_int() -> Schema {
    Schema::avro(
        r#"{"type":"record","name":"User","namespace":"com.example","fields":[{"name":"name","type":"int"}]}"#,
    )
}

/// `user_v1` plus a field without default: not backward compatible.
pub fn user_required_age() -> Schema {
    Schema::avro(
        r#"{"type":"record","name":"User","namespace":"com.example","fields":[{"name":"name","type":"string"},{"name":"age","type":"int"}]}"#,
    )
}

pub fn other() -> Schema {
    Schema::avro(r#"{"type":"record","name":"Other","fields":[{"name":"x","type":"long"}]}"#)
}

fn code(e: &RegistryError) -> u32 {
    e.error_code()
}

pub async fn same_schema_twice_same_id_and_version(r: &dyn SchemaRegistry) {
    let a = r.register("s-value", &user_v1(), false).await.unwrap();
    let b = r.register("s-value", &user_v1(), false).await.unwrap();
    assert_eq!((a.id, a.version), (b.id, b.version));
    assert_eq!(a.version, 1);
    assert_eq!(r.versions("s-value", false).await.unwrap(), vec![1]);
    assert!(a.guid.is_some());
    assert_eq!(a.guid, b.guid);
}

pub async fn whitespace_differences_are_the_same_schema(r: &dyn SchemaRegistry) {
    let a = r.register("s", &user_v1(), false).await.unwrap();
    let spaced = Schema::avro(
        "{ \"type\": \"record\", \"name\": \"User\", \"namespace\": \"com.example\",\n  \"fields\": [ {\"name\": \"name\", \"type\": \"string\"} ] }",
    );
    let b = r.register("s", &spaced, false).await.unwrap();
    assert_eq!((a.id, a.version), (b.id, b.version));
    let found = r.lookup("s", &spaced, false, false).await.unwrap();
    assert_eq!(found.id, a.id);
}

pub async fn wrapped_avro_primitive_is_the_primitive(r: &dyn SchemaRegistry) {
    let a = r
        .register("k", &Schema::avro(r#"{"type": "string"}"#), false)
        .await
        .unwrap();
    assert_eq!(a.schema.schema, r#""string""#);
    let b = r
        .register("k", &Schema::avro(r#""string""#), false)
        .await
        .unwrap();
    assert_eq!((a.id, a.version), (b.id, b.version));
}

pub async fn avro_key_order_does_not_make_a_new_schema(r: &dyn SchemaRegistry) {
    let a = r.register("s", &user_v1(), false).await.unwrap();
    let reordered = Schema::avro(
        r#"{"namespace":"com.example","fields":[{"type":"string","name":"name"}],"name":"User","type":"record"}"#,
    );
    let b = r.register("s", &reordered, false).await.unwrap();
    assert_eq!((a.id, a.version), (b.id, b.version));
    assert_eq!(
        b.schema.schema,
        user_v1().schema,
        "the first text registered is kept"
    );
    assert_eq!(
        r.lookup("s", &reordered, false, false).await.unwrap().id,
        a.id
    );
}

pub async fn ids_are_global_versions_per_subject(r: &dyn SchemaRegistry) {
    let a = r.register("a-value", &user_v1(), false).await.unwrap();
    // `other` is an unrelated record, so the subject holding both uses level NONE.
    r.set_compatibility(Some("b-value"), CompatibilityLevel::None)
        .await
        .unwrap();
    let b1 = r.register("b-value", &other(), false).await.unwrap();
    let b2 = r.register("b-value", &user_v1(), false).await.unwrap();
    assert_eq!(b2.id, a.id, "same schema under two subjects shares its id");
    assert_ne!(b1.id, a.id);
    assert_eq!((b1.version, b2.version), (1, 2));
    let mut subjects = r.subjects_for_id(a.id, false).await.unwrap();
    subjects.sort();
    assert_eq!(subjects, vec!["a-value".to_owned(), "b-value".to_owned()]);
    assert_eq!(a.version, 1);
}

pub async fn ids_count_from_one(r: &dyn SchemaRegistry) {
    r.set_compatibility(None, CompatibilityLevel::None)
        .await
        .unwrap();
    let a = r.register("x", &user_v1(), false).await.unwrap();
    let b = r.register("x", &other(), false).await.unwrap();
    assert_eq!((a.id, b.id), (1, 2));
    assert_eq!((a.version, b.version), (1, 2));
}

pub async fn schema_by_id_and_guid(r: &dyn SchemaRegistry) {
    let a = r.register("s", &user_v1(), false).await.unwrap();
    let by_id = r.schema_by_id(a.id).await.unwrap();
    assert_eq!(by_id.schema, a.schema.schema);
    assert_eq!(by_id.schema_type, kcodec_registry::SchemaType::Avro);
    let by_guid = r.schema_by_guid(a.guid.unwrap()).await.unwrap();
    assert_eq!(*by_guid, *by_id);
    let e = r.schema_by_id(a.id + 100).await.unwrap_err();
    assert_eq!(code(&e), 40403, "{e}");
    let e = r.schema_by_guid(uuid::Uuid::nil()).await.unwrap_err();
    assert_eq!(code(&e), 40403, "{e}");
}

pub async fn lookup_finds_registered_and_not_others(r: &dyn SchemaRegistry) {
    let e = r
        .lookup("nope", &user_v1(), false, false)
        .await
        .unwrap_err();
    assert_eq!(code(&e), 40401, "{e}");
    let a = r.register("s", &user_v1(), false).await.unwrap();
    let found = r.lookup("s", &user_v1(), false, false).await.unwrap();
    assert_eq!(
        (found.id, found.version, &found.subject[..]),
        (a.id, 1, "s")
    );
    let e = r.lookup("s", &other(), false, false).await.unwrap_err();
    assert_eq!(code(&e), 40403, "{e}");
}

pub async fn versions_and_latest(r: &dyn SchemaRegistry) {
    let v1 = r.register("s", &user_v1(), false).await.unwrap();
    let v2 = r.register("s", &user_v2(), false).await.unwrap();
    assert_eq!((v1.version, v2.version), (1, 2));
    assert_eq!(r.versions("s", false).await.unwrap(), vec![1, 2]);
    let latest = r.version("s", Version::Latest, false).await.unwrap();
    assert_eq!((latest.id, latest.version), (v2.id, 2));
    assert_eq!(r.latest("s").await.unwrap().id, v2.id);
    let one = r.version("s", Version::Number(1), false).await.unwrap();
    assert_eq!(one.id, v1.id);
    assert_eq!(one.schema.schema, v1.schema.schema);
    let e = r.version("s", Version::Number(3), false).await.unwrap_err();
    assert_eq!(code(&e), 40402, "{e}");
    let e = r.version("nope", Version::Latest, false).await.unwrap_err();
    assert_eq!(code(&e), 40401, "{e}");
    let e = r.versions("nope", false).await.unwrap_err();
    assert_eq!(code(&e), 40401, "{e}");
    assert_eq!(r.subjects(false).await.unwrap(), vec!["s".to_owned()]);
}

pub async fn soft_delete_hides_but_keeps_id(r: &dyn SchemaRegistry) {
    let v1 = r.register("s", &user_v1(), false).await.unwrap();
    let v2 = r.register("s", &user_v2(), false).await.unwrap();
    assert_eq!(
        r.delete_version("s", Version::Number(2), false)
            .await
            .unwrap(),
        2
    );
    assert_eq!(r.versions("s", false).await.unwrap(), vec![1]);
    assert_eq!(r.versions("s", true).await.unwrap(), vec![1, 2]);
    assert_eq!(r.latest("s").await.unwrap().version, 1);
    let e = r.version("s", Version::Number(2), false).await.unwrap_err();
    assert_eq!(code(&e), 40402, "{e}");
    assert_eq!(
        r.version("s", Version::Number(2), true).await.unwrap().id,
        v2.id
    );
    // The id still resolves.
    assert_eq!(
        r.schema_by_id(v2.id).await.unwrap().schema,
        v2.schema.schema
    );
    // Lookup hides it unless asked.
    let e = r.lookup("s", &user_v2(), false, false).await.unwrap_err();
    assert_eq!(code(&e), 40403, "{e}");
    assert_eq!(
        r.lookup("s", &user_v2(), false, true)
            .await
            .unwrap()
            .version,
        2
    );
    // Soft-deleting again is refused; permanent delete now works.
    let e = r
        .delete_version("s", Version::Number(2), false)
        .await
        .unwrap_err();
    assert_eq!(code(&e), 40406, "{e}");
    // Re-registering a soft-deleted schema gives a new version with the same id.
    let again = r.register("s", &user_v2(), false).await.unwrap();
    assert_eq!((again.id, again.version), (v2.id, 3));
    assert_eq!(v1.version, 1);
}

pub async fn permanent_delete_needs_soft_delete_first(r: &dyn SchemaRegistry) {
    let v1 = r.register("s", &user_v1(), false).await.unwrap();
    let e = r
        .delete_version("s", Version::Number(1), true)
        .await
        .unwrap_err();
    assert_eq!(code(&e), 40407, "{e}");
    let e = r.delete_subject("s", true).await.unwrap_err();
    assert_eq!(code(&e), 40405, "{e}");
    assert_eq!(r.delete_subject("s", false).await.unwrap(), vec![1]);
    let e = r.delete_subject("s", false).await.unwrap_err();
    assert_eq!(code(&e), 40404, "{e}");
    assert!(r.subjects(false).await.unwrap().is_empty());
    assert_eq!(r.subjects(true).await.unwrap(), vec!["s".to_owned()]);
    let e = r.versions("s", false).await.unwrap_err();
    assert_eq!(code(&e), 40401, "{e}");
    assert_eq!(
        r.schema_by_id(v1.id).await.unwrap().schema,
        v1.schema.schema
    );
    assert_eq!(r.delete_subject("s", true).await.unwrap(), vec![1]);
    assert!(r.subjects(true).await.unwrap().is_empty());
    let e = r.schema_by_id(v1.id).await.unwrap_err();
    assert_eq!(code(&e), 40403, "{e}");
    let e = r.delete_subject("s", false).await.unwrap_err();
    assert_eq!(code(&e), 40401, "{e}");
    // After a permanent delete the subject starts again at version 1 and the schema keeps its id.
    let again = r.register("s", &user_v1(), false).await.unwrap();
    assert_eq!((again.id, again.version), (v1.id, 1));
}

pub async fn delete_latest_and_unknown(r: &dyn SchemaRegistry) {
    r.register("s", &user_v1(), false).await.unwrap();
    r.register("s", &user_v2(), false).await.unwrap();
    assert_eq!(
        r.delete_version("s", Version::Latest, false).await.unwrap(),
        2
    );
    assert_eq!(
        r.delete_version("s", Version::Latest, false).await.unwrap(),
        1
    );
    let e = r
        .delete_version("s", Version::Number(9), false)
        .await
        .unwrap_err();
    assert_eq!(code(&e), 40402, "{e}");
    let e = r
        .delete_version("nope", Version::Number(1), false)
        .await
        .unwrap_err();
    assert_eq!(code(&e), 40401, "{e}");
    assert_eq!(
        r.delete_version("s", Version::Number(1), true)
            .await
            .unwrap(),
        1
    );
    assert_eq!(r.versions("s", true).await.unwrap(), vec![2]);
}

pub async fn referenced_schema_cannot_be_deleted(r: &dyn SchemaRegistry) {
    let address = Schema::avro(
        r#"{"type":"record","name":"Address","namespace":"com.example","fields":[{"name":"street","type":"string"}]}"#,
    );
    let a = r.register("address", &address, false).await.unwrap();
    let person = Schema::avro(
        r#"{"type":"record","name":"Person","namespace":"com.example","fields":[{"name":"home","type":"com.example.Address"}]}"#,
    )
    .with_references(vec![SchemaReference {
        name: "com.example.Address".into(),
        subject: "address".into(),
        version: a.version,
    }]);
    let p = r.register("person", &person, false).await.unwrap();
    assert_eq!(p.schema.references.len(), 1);
    assert_eq!(
        r.schema_by_id(p.id).await.unwrap().references,
        person.references
    );
    let e = r.delete_subject("address", false).await.unwrap_err();
    assert_eq!(code(&e), 42206, "{e}");
    let e = r
        .delete_version("address", Version::Number(1), false)
        .await
        .unwrap_err();
    assert_eq!(code(&e), 42206, "{e}");
    // Once the referrer is gone for good, the referenced schema can go.
    r.delete_subject("person", false).await.unwrap();
    r.delete_subject("person", true).await.unwrap();
    assert_eq!(r.delete_subject("address", false).await.unwrap(), vec![1]);
}

pub async fn missing_reference_is_invalid(r: &dyn SchemaRegistry) {
    let person =
        Schema::avro(r#"{"type":"record","name":"P","fields":[{"name":"a","type":"Address"}]}"#)
            .with_references(vec![SchemaReference {
                name: "Address".into(),
                subject: "nowhere".into(),
                version: 1,
            }]);
    let e = r.register("person", &person, false).await.unwrap_err();
    assert_eq!(code(&e), 42201, "{e}");
}

pub async fn invalid_schema_is_refused(r: &dyn SchemaRegistry) {
    let e = r
        .register("s", &Schema::avro("{not json"), false)
        .await
        .unwrap_err();
    assert_eq!(code(&e), 42201, "{e}");
    assert!(r.subjects(true).await.unwrap().is_empty());
}

pub async fn compatibility_levels(r: &dyn SchemaRegistry) {
    assert_eq!(
        r.compatibility(None, false).await.unwrap(),
        CompatibilityLevel::Backward
    );
    let e = r.compatibility(Some("s"), false).await.unwrap_err();
    assert_eq!(code(&e), 40408, "{e}");
    assert_eq!(
        r.compatibility(Some("s"), true).await.unwrap(),
        CompatibilityLevel::Backward
    );
    assert_eq!(
        r.set_compatibility(Some("s"), CompatibilityLevel::FullTransitive)
            .await
            .unwrap(),
        CompatibilityLevel::FullTransitive
    );
    assert_eq!(
        r.compatibility(Some("s"), false).await.unwrap(),
        CompatibilityLevel::FullTransitive
    );
    r.set_compatibility(None, CompatibilityLevel::Forward)
        .await
        .unwrap();
    assert_eq!(
        r.compatibility(None, false).await.unwrap(),
        CompatibilityLevel::Forward
    );
    assert_eq!(
        r.compatibility(Some("t"), true).await.unwrap(),
        CompatibilityLevel::Forward
    );
    assert_eq!(
        r.delete_compatibility("s").await.unwrap(),
        CompatibilityLevel::FullTransitive
    );
    assert_eq!(
        r.compatibility(Some("s"), true).await.unwrap(),
        CompatibilityLevel::Forward
    );
    let e = r.delete_compatibility("s").await.unwrap_err();
    assert_eq!(code(&e), 40408, "{e}");
}

pub async fn compatible_change_tests_compatible(r: &dyn SchemaRegistry) {
    // No versions yet: anything valid is compatible.
    let rep = r.test_compatibility("s", &user_v1(), None).await.unwrap();
    assert!(rep.is_compatible);
    r.register("s", &user_v1(), false).await.unwrap();
    let rep = r.test_compatibility("s", &user_v2(), None).await.unwrap();
    assert!(rep.is_compatible, "{rep:?}");
    let rep = r
        .test_compatibility("s", &user_v2(), Some(Version::Latest))
        .await
        .unwrap();
    assert!(rep.is_compatible, "{rep:?}");
    let e = r
        .test_compatibility("s", &user_v2(), Some(Version::Number(7)))
        .await
        .unwrap_err();
    assert_eq!(code(&e), 40402, "{e}");
    let e = r
        .test_compatibility("nope", &user_v2(), Some(Version::Latest))
        .await
        .unwrap_err();
    assert_eq!(code(&e), 40401, "{e}");
}

pub async fn incompatible_schema_is_refused(r: &dyn SchemaRegistry) {
    r.register("s", &user_v1(), false).await.unwrap();
    let e = r.register("s", &user_name_int(), false).await.unwrap_err();
    assert_eq!(code(&e), 409, "{e}");
    let e = r
        .register("s", &user_required_age(), false)
        .await
        .unwrap_err();
    assert_eq!(code(&e), 409, "{e}");
    assert_eq!(r.versions("s", false).await.unwrap(), vec![1]);
    let rep = r
        .test_compatibility("s", &user_name_int(), None)
        .await
        .unwrap();
    assert!(!rep.is_compatible);
    assert!(!rep.messages.is_empty());
    // Under NONE the same change is accepted.
    r.set_compatibility(Some("s"), CompatibilityLevel::None)
        .await
        .unwrap();
    assert_eq!(
        r.register("s", &user_name_int(), false)
            .await
            .unwrap()
            .version,
        2
    );
}

pub async fn forward_level_refuses_removing_required_field(r: &dyn SchemaRegistry) {
    r.set_compatibility(Some("s"), CompatibilityLevel::Forward)
        .await
        .unwrap();
    r.register("s", &user_required_age(), false).await.unwrap();
    // Adding a field without default is forward compatible...
    let e = r.register("s", &user_v1(), false).await.unwrap_err();
    // ...but removing one without default is not: old readers need `age`.
    assert_eq!(code(&e), 409, "{e}");
}

pub async fn protobuf_and_json_types_are_kept(r: &dyn SchemaRegistry) {
    let proto = Schema::protobuf("syntax = \"proto3\";\npackage t;\nmessage M { string a = 1; }\n");
    let json = Schema::json(r#"{"type":"object","properties":{"a":{"type":"string"}}}"#);
    let p = r.register("p", &proto, false).await.unwrap();
    let j = r.register("j", &json, false).await.unwrap();
    assert_ne!(p.id, j.id);
    let back = r.schema_by_id(p.id).await.unwrap();
    assert_eq!(back.schema_type, kcodec_registry::SchemaType::Protobuf);
    assert_eq!(back.schema, proto.schema);
    let back = r.schema_by_id(j.id).await.unwrap();
    assert_eq!(back.schema_type, kcodec_registry::SchemaType::Json);
    // Same text, different type: different schemas.
    let as_avro = Schema::avro(json.schema.clone());
    let e = r.lookup("j", &as_avro, false, false).await.unwrap_err();
    assert_eq!(code(&e), 40403, "{e}");
}

/// A `.proto` file and the base64 `FileDescriptorProto` `protoc` makes of it (what Confluent's
/// Python `ProtobufSerializer` registers); see `tests/fixtures/protobuf/README.md`.
pub fn proto_fixture(name: &str) -> (Schema, Schema) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/protobuf/");
    let text = std::fs::read_to_string(format!("{dir}{name}.proto")).unwrap();
    let b64 = std::fs::read_to_string(format!("{dir}{name}.desc.b64")).unwrap();
    (
        Schema::protobuf(text),
        Schema::protobuf(b64.trim().to_owned()),
    )
}

pub async fn protobuf_formatting_and_comments_are_the_same_schema(r: &dyn SchemaRegistry) {
    let compact = Schema::protobuf("syntax = \"proto3\"; package t; message A { int32 x = 1; }");
    let spaced = Schema::protobuf(
        "// The A message.\nsyntax = \"proto3\";\n\npackage t;\n\nmessage A {\n  /* x */ int32 x = 1;\n}\n",
    );
    let other_layout = Schema::protobuf("syntax=\"proto3\";package t;message A{int32 x=1;}// end");
    let a = r.register("pt-value", &compact, false).await.unwrap();
    let b = r.register("pt-value", &spaced, false).await.unwrap();
    let c = r.register("pt-value", &other_layout, true).await.unwrap();
    assert_eq!((a.id, a.version), (b.id, b.version));
    assert_eq!((a.id, a.version), (c.id, c.version));
    assert_eq!(r.versions("pt-value", false).await.unwrap(), vec![1]);
    // Register and lookup answer the form sent (as Confluent answers the canonical form of the
    // schema sent); the id keeps the first text.
    assert_eq!(b.schema.schema, spaced.schema);
    assert_eq!(r.schema_by_id(a.id).await.unwrap().schema, compact.schema);
    assert_eq!(
        r.version("pt-value", Version::Latest, false)
            .await
            .unwrap()
            .schema
            .schema,
        compact.schema
    );
    for normalize in [false, true] {
        let found = r
            .lookup("pt-value", &other_layout, normalize, false)
            .await
            .unwrap();
        assert_eq!((found.id, found.version), (a.id, 1));
    }
    // Another subject: same id, its own version 1.
    let d = r.register("pt2-value", &spaced, false).await.unwrap();
    assert_eq!((d.id, d.version), (a.id, 1));
    // What the file means still counts: a renamed field, a renumbered one, another package.
    r.set_compatibility(Some("pt-value"), CompatibilityLevel::None)
        .await
        .unwrap();
    let mut ids = vec![a.id];
    for (n, text) in [
        "syntax = \"proto3\"; package t; message A { int32 y = 1; }",
        "syntax = \"proto3\"; package t; message A { int32 x = 2; }",
        "syntax = \"proto3\"; package u; message A { int32 x = 1; }",
        "syntax = \"proto2\"; package t; message A { optional int32 x = 1; }",
    ]
    .into_iter()
    .enumerate()
    {
        let e = r
            .register("pt-value", &Schema::protobuf(text), false)
            .await
            .unwrap();
        assert_eq!(e.version, n as i32 + 2, "{text}");
        assert!(!ids.contains(&e.id), "{text}");
        ids.push(e.id);
    }
}

/// Custom (extension) options are part of a Protobuf schema: two files that differ only in
/// one are two schemas, and a file with one is the same schema only as the same text.
pub async fn protobuf_custom_options_make_another_schema(r: &dyn SchemaRegistry) {
    let with = |tag: &str| {
        Schema::protobuf(format!(
            "syntax = \"proto3\"; package t; import \"google/protobuf/descriptor.proto\";\n\
             extend google.protobuf.FieldOptions {{ string tag = 50001; }}\n\
             message A {{ string ssn = 1{tag}; }}"
        ))
    };
    r.set_compatibility(Some("po-value"), CompatibilityLevel::None)
        .await
        .unwrap();
    let plain = r.register("po-value", &with(""), false).await.unwrap();
    let pii = r
        .register("po-value", &with(" [(tag) = \"PII\"]"), false)
        .await
        .unwrap();
    let other = r
        .register("po-value", &with(" [(tag) = \"other\"]"), false)
        .await
        .unwrap();
    assert_eq!(
        [plain.version, pii.version, other.version],
        [1, 2, 3],
        "each option value is another schema"
    );
    assert!(plain.id != pii.id && pii.id != other.id && plain.id != other.id);
    let again = r
        .register("po-value", &with(" [(tag) = \"PII\"]"), false)
        .await
        .unwrap();
    assert_eq!((again.id, again.version), (pii.id, 2));
    let found = r
        .lookup("po-value", &with(" [(tag) = \"PII\"]"), false, false)
        .await
        .unwrap();
    assert_eq!(found.id, pii.id);
}

pub async fn protobuf_text_and_descriptor_are_the_same_schema(r: &dyn SchemaRegistry) {
    // Text first, then protoc's descriptor (a rich proto3 file importing a well-known type).
    let (text, descriptor) = proto_fixture("rich");
    let a = r.register("rich-value", &text, false).await.unwrap();
    let b = r.register("rich-value", &descriptor, false).await.unwrap();
    assert_eq!((a.id, a.version), (b.id, b.version));
    assert_eq!(
        b.schema.schema, descriptor.schema,
        "answered in the form sent"
    );
    let first = r.schema_by_id(a.id).await.unwrap();
    assert_eq!(first.schema, text.schema, "the first form is kept");
    let found = r
        .lookup("rich-value", &descriptor, false, false)
        .await
        .unwrap();
    assert_eq!((found.id, found.version), (a.id, 1));
    assert_eq!(
        found.schema.schema, descriptor.schema,
        "answered in the form sent"
    );
    let c = r.register("rich2-value", &descriptor, true).await.unwrap();
    assert_eq!((c.id, c.version), (a.id, 1));

    // Descriptor first, then the text (proto2: defaults, required, extensions).
    let (text, descriptor) = proto_fixture("legacy");
    let a = r
        .register("legacy-value", &descriptor, false)
        .await
        .unwrap();
    let b = r.register("legacy-value", &text, false).await.unwrap();
    assert_eq!((a.id, a.version), (b.id, b.version));
    let first = r.schema_by_id(a.id).await.unwrap();
    assert_eq!(first.schema, descriptor.schema, "the first form is kept");
    let found = r.lookup("legacy-value", &text, true, false).await.unwrap();
    assert_eq!((found.id, found.version), (a.id, 1));
    assert_eq!(r.versions("legacy-value", false).await.unwrap(), vec![1]);
}

pub async fn protobuf_with_references_is_compared_with_its_imports(r: &dyn SchemaRegistry) {
    let common = Schema::protobuf(
        "syntax = \"proto3\";\npackage shop;\nmessage Money { string currency = 1; int64 units = 2; }\n",
    );
    let c = r
        .register("shop/common.proto", &common, false)
        .await
        .unwrap();
    let reference = SchemaReference {
        name: "shop/common.proto".into(),
        subject: "shop/common.proto".into(),
        version: c.version,
    };
    let order = |text: &str| Schema::protobuf(text).with_references(vec![reference.clone()]);
    let a = r
        .register(
            "orders-value",
            &order("syntax = \"proto3\"; package shop; import \"shop/common.proto\"; message Order { Money total = 1; }"),
            false,
        )
        .await
        .unwrap();
    let spaced = order(
        "syntax = \"proto3\";\n\npackage shop;\n\nimport \"shop/common.proto\";\n\n// An order.\nmessage Order {\n  Money total = 1;\n}\n",
    );
    let b = r.register("orders-value", &spaced, false).await.unwrap();
    assert_eq!((a.id, a.version), (b.id, b.version));
    let found = r
        .lookup("orders-value", &spaced, false, false)
        .await
        .unwrap();
    assert_eq!((found.id, found.version), (a.id, 1));
    // Without its reference the same text is another schema (here: one whose import does not
    // resolve, so invalid).
    let e = r
        .register(
            "orders-value",
            &Schema::protobuf(spaced.schema.clone()),
            false,
        )
        .await
        .unwrap_err();
    assert_eq!(code(&e), 42201, "{e}");
}

pub async fn json_schema_whitespace_is_the_same_schema(r: &dyn SchemaRegistry) {
    let a = r
        .register(
            "j",
            &Schema::json(r#"{"type":"object","properties":{"a":{"type":"string"}}}"#),
            false,
        )
        .await
        .unwrap();
    let spaced = Schema::json(
        "{\n  \"type\": \"object\",\n  \"properties\": { \"a\": { \"type\": \"string\" } }\n}",
    );
    let b = r.register("j", &spaced, false).await.unwrap();
    assert_eq!((a.id, a.version), (b.id, b.version));
    assert_eq!(r.lookup("j", &spaced, true, false).await.unwrap().id, a.id);
}

#[macro_export]
macro_rules! suite_tests {
    ($make:expr) => {
        $crate::suite_tests!(@each $make;
            same_schema_twice_same_id_and_version,
            whitespace_differences_are_the_same_schema,
            wrapped_avro_primitive_is_the_primitive,
            avro_key_order_does_not_make_a_new_schema,
            ids_are_global_versions_per_subject,
            ids_count_from_one,
            schema_by_id_and_guid,
            lookup_finds_registered_and_not_others,
            versions_and_latest,
            soft_delete_hides_but_keeps_id,
            permanent_delete_needs_soft_delete_first,
            delete_latest_and_unknown,
            referenced_schema_cannot_be_deleted,
            missing_reference_is_invalid,
            invalid_schema_is_refused,
            compatibility_levels,
            compatible_change_tests_compatible,
            protobuf_and_json_types_are_kept,
            protobuf_formatting_and_comments_are_the_same_schema,
            protobuf_text_and_descriptor_are_the_same_schema,
            protobuf_custom_options_make_another_schema,
            protobuf_with_references_is_compared_with_its_imports,
            json_schema_whitespace_is_the_same_schema,
            incompatible_schema_is_refused,
            forward_level_refuses_removing_required_field
        );
    };
    (@each $make:expr; $($name:ident),*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let (registry, _guard) = $make.await;
            $crate::suite::$name(&*registry).await;
        }
    )*};
}
