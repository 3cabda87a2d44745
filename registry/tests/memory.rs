//! The in-memory registry against the shared behaviour suite, plus in-memory-only checks.

#[macro_use]
mod suite;

use kcodec_registry::memory::Change;
use kcodec_registry::{InMemoryRegistry, SchemaRegistry, Version};
use std::sync::Arc;

async fn fresh() -> (Arc<dyn SchemaRegistry>, ()) {
    (Arc::new(InMemoryRegistry::new()), ())
}

suite_tests!(fresh());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_registration_gives_one_id_and_version() {
    let registry = Arc::new(InMemoryRegistry::new());
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let r = registry.clone();
            tokio::spawn(async move { r.register("s", &suite::user_v1(), false).await.unwrap() })
        })
        .collect();
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    assert!(results.iter().all(|r| r.id == 1 && r.version == 1));
    assert_eq!(registry.versions("s", true).await.unwrap(), vec![1]);
}

#[derive(Default)]
struct Recorder(std::sync::Mutex<Vec<Change>>);

struct Shared(Arc<Recorder>);

impl kcodec_registry::memory::ChangeLog for Shared {
    fn append(&self, change: &Change) -> Result<(), kcodec_registry::RegistryError> {
        self.0.0.lock().unwrap().push(change.clone());
        Ok(())
    }
}

#[tokio::test]
async fn replaying_changes_rebuilds_the_same_state() {
    let recorder = Arc::new(Recorder::default());
    let registry = InMemoryRegistry::new().with_change_log(Box::new(Shared(recorder.clone())));
    registry
        .set_compatibility(None, kcodec_registry::CompatibilityLevel::None)
        .await
        .unwrap();
    let a = registry
        .register("a", &suite::user_v1(), false)
        .await
        .unwrap();
    let b = registry
        .register("a", &suite::other(), false)
        .await
        .unwrap();
    registry
        .register("b", &suite::other(), false)
        .await
        .unwrap();
    registry
        .delete_version("a", Version::Number(1), false)
        .await
        .unwrap();
    registry.delete_subject("b", false).await.unwrap();
    registry.delete_subject("b", true).await.unwrap();
    let changes = recorder.0.lock().unwrap().clone();
    assert_eq!(changes.len(), 7);
    // Changes survive a JSON round trip (the journal's form).
    let lines: Vec<String> = changes
        .iter()
        .map(|c| serde_json::to_string(c).unwrap())
        .collect();
    let parsed = lines
        .iter()
        .map(|l| serde_json::from_str::<Change>(l).unwrap());
    let replayed = InMemoryRegistry::replay(parsed).unwrap();
    assert_eq!(replayed.versions("a", true).await.unwrap(), vec![1, 2]);
    assert_eq!(replayed.versions("a", false).await.unwrap(), vec![2]);
    assert!(replayed.versions("b", true).await.is_err());
    assert_eq!(replayed.guid_of(a.id), a.guid);
    assert_eq!(
        replayed
            .schema_by_guid(b.guid.unwrap())
            .await
            .unwrap()
            .schema,
        b.schema.schema
    );
    assert_eq!(
        replayed.compatibility(None, false).await.unwrap(),
        kcodec_registry::CompatibilityLevel::None
    );
    // New ids continue after the replayed ones.
    let c = replayed
        .register("c", &suite::user_v2(), false)
        .await
        .unwrap();
    assert_eq!(c.id, 3);
}

#[tokio::test]
async fn replay_rejects_inconsistent_changes() {
    let bad = vec![Change::DeleteVersion {
        subject: "x".into(),
        version: 1,
        permanent: false,
    }];
    let e = InMemoryRegistry::replay(bad).unwrap_err();
    assert_eq!(e.error_code(), 50001);
}

/// A journal written before Protobuf schemas were compared parsed may hold one schema under two
/// ids (two layouts of one file): it still replays, both ids resolve, and the first one answers
/// for the schema from then on.
#[tokio::test]
async fn replay_accepts_one_protobuf_schema_under_two_ids() {
    let register = |version: i32, id: u32, text: &str| Change::Register {
        subject: "pt-value".into(),
        version,
        id,
        guid: uuid::Uuid::new_v4(),
        schema_type: kcodec_registry::SchemaType::Protobuf,
        schema: text.into(),
        references: Vec::new(),
    };
    let compact = "syntax = \"proto3\"; package t; message A { int32 x = 1; }";
    let spaced = "syntax = \"proto3\";\npackage t;\nmessage A {\n  int32 x = 1;\n}\n";
    let registry =
        InMemoryRegistry::replay([register(1, 9, compact), register(2, 10, spaced)]).unwrap();
    assert_eq!(registry.schema_by_id(9).await.unwrap().schema, compact);
    assert_eq!(registry.schema_by_id(10).await.unwrap().schema, spaced);
    let again = registry
        .register(
            "pt-value",
            &kcodec_registry::Schema::protobuf(spaced),
            false,
        )
        .await
        .unwrap();
    assert_eq!((again.id, again.version), (9, 1));
    assert_eq!(
        registry.versions("pt-value", false).await.unwrap(),
        vec![1, 2]
    );
}

/// An old journal may hold one Protobuf schema under two ids in two subjects: each subject
/// still finds (and does not register again) the version it holds.
#[tokio::test]
async fn replayed_duplicate_ids_are_found_in_every_subject() {
    let register = |subject: &str, id: u32, text: &str| Change::Register {
        subject: subject.into(),
        version: 1,
        id,
        guid: uuid::Uuid::new_v4(),
        schema_type: kcodec_registry::SchemaType::Protobuf,
        schema: text.into(),
        references: Vec::new(),
    };
    let compact = "syntax = \"proto3\"; package t; message A { int32 x = 1; }";
    let spaced = "syntax = \"proto3\";\npackage t;\nmessage A {\n  int32 x = 1;\n}\n";
    let registry = InMemoryRegistry::replay([
        register("a-value", 1, compact),
        register("b-value", 2, spaced),
    ])
    .unwrap();
    for text in [compact, spaced] {
        let schema = kcodec_registry::Schema::protobuf(text);
        let found = registry
            .lookup("b-value", &schema, false, false)
            .await
            .unwrap();
        assert_eq!((found.id, found.version), (2, 1), "{text}");
        let again = registry.register("b-value", &schema, false).await.unwrap();
        assert_eq!((again.id, again.version), (2, 1), "{text}");
        let found = registry
            .lookup("a-value", &schema, false, false)
            .await
            .unwrap();
        assert_eq!((found.id, found.version), (1, 1), "{text}");
    }
    assert_eq!(registry.versions("b-value", false).await.unwrap(), vec![1]);
}

/// A remembered compatibility result must not outlive what its references meant: after a
/// permanent delete, a version number (here `address` 1) can name another schema.
#[tokio::test]
async fn compatibility_results_are_not_reused_once_a_referenced_version_changes_meaning() {
    use kcodec_registry::{Schema, SchemaReference};
    let address = |extra: &str| {
        Schema::avro(format!(
            r#"{{"type":"record","name":"Address","namespace":"com.example","fields":[{{"name":"street","type":"string"}}{extra}]}}"#
        ))
    };
    let registry = InMemoryRegistry::new();
    registry
        .register("address", &address(""), false)
        .await
        .unwrap();
    // the writer: Address written inline, with a zip code
    let inline = Schema::avro(
        r#"{"type":"record","name":"User","fields":[{"name":"home","type":{"type":"record","name":"Address","namespace":"com.example","fields":[{"name":"street","type":"string"},{"name":"zip","type":"string"}]}}]}"#,
    );
    registry.register("user", &inline, false).await.unwrap();
    let by_reference = Schema::avro(
        r#"{"type":"record","name":"User","fields":[{"name":"home","type":"com.example.Address"}]}"#,
    )
    .with_references(vec![SchemaReference {
        name: "com.example.Address".into(),
        subject: "address".into(),
        version: 1,
    }]);
    let report = registry
        .test_compatibility("user", &by_reference, None)
        .await
        .unwrap();
    assert!(report.is_compatible, "{:?}", report.messages);
    registry.delete_subject("address", false).await.unwrap();
    registry.delete_subject("address", true).await.unwrap();
    // version 1 of `address` now has a field without default the writer lacks
    let changed = address(r#",{"name":"country","type":"string"}"#);
    let r = registry.register("address", &changed, false).await.unwrap();
    assert_eq!(r.version, 1);
    let report = registry
        .test_compatibility("user", &by_reference, None)
        .await
        .unwrap();
    assert!(
        !report.is_compatible,
        "a result computed for the old address v1"
    );
}
