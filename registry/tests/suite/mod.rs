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

#[macro_export]
macro_rules! suite_tests {
    ($make:expr) => {
        $crate::suite_tests!(@each $make;
            same_schema_twice_same_id_and_version,
            whitespace_differences_are_the_same_schema,
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
            protobuf_and_json_types_are_kept
        );
        $crate::suite_tests!(@ignored $make;
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
    (@ignored $make:expr; $($name:ident),*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        #[ignore = "needs compat module"]
        async fn $name() {
            let (registry, _guard) = $make.await;
            $crate::suite::$name(&*registry).await;
        }
    )*};
}
