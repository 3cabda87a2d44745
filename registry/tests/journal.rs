//! The dev server's journal under failing appends, restarts and permanent deletes: an id, once
//! acknowledged, means one schema forever, and no acknowledged registration is lost.

use kcodec_registry::server::journal::{
    Fault, FaultInjector, JOURNAL_FILE, open_registry, open_registry_with_faults,
};
use kcodec_registry::{
    CompatibilityLevel, InMemoryRegistry, RegistryError, Schema, SchemaRegistry, Version,
};
use proptest::prelude::*;
use std::collections::HashMap;
use std::path::Path;

fn schema(n: u8) -> Schema {
    Schema::avro(format!(
        r#"{{"type":"fixed","name":"F{n}","size":{}}}"#,
        n as u32 + 1
    ))
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

fn open(dir: &Path, faults: &FaultInjector) -> InMemoryRegistry {
    let registry = open_registry_with_faults(dir, faults.clone()).unwrap();
    block_on(registry.set_compatibility(None, CompatibilityLevel::None)).unwrap();
    registry
}

/// The case from the issue: a failed append (disk full) leaves nothing behind, so the next
/// acknowledged registration survives the restart with its id, and that id is never reused.
#[test]
fn failed_append_is_rolled_back() {
    let dir = tempfile::tempdir().unwrap();
    let faults = FaultInjector::default();
    let registry = open(dir.path(), &faults);
    let a = block_on(registry.register("a", &schema(0), false)).unwrap();
    faults.push(Fault {
        bytes_written: 30,
        rollback_fails: false,
    });
    let e = block_on(registry.register("b", &schema(1), false)).unwrap_err();
    assert!(matches!(e, RegistryError::Storage { .. }), "{e}");
    let b = block_on(registry.register("b", &schema(2), false)).unwrap();
    assert_eq!((a.id, b.id), (1, 2));
    drop(registry);
    let registry = open(dir.path(), &faults);
    assert_eq!(
        block_on(registry.schema_by_id(2)).unwrap().schema,
        schema(2).schema
    );
    let c = block_on(registry.register("c", &schema(3), false)).unwrap();
    assert_eq!(c.id, 3);
}

/// When even the rollback fails, the journal refuses writes until restart: a half line is never
/// followed by a good one. The refused write was never acknowledged.
#[test]
fn failed_rollback_stops_writes_until_restart() {
    let dir = tempfile::tempdir().unwrap();
    let faults = FaultInjector::default();
    let registry = open(dir.path(), &faults);
    faults.push(Fault {
        bytes_written: 30,
        rollback_fails: true,
    });
    block_on(registry.register("a", &schema(0), false)).unwrap_err();
    let e = block_on(registry.register("a", &schema(1), false)).unwrap_err();
    assert!(e.to_string().contains("refuses writes"), "{e}");
    drop(registry);
    let registry = open(dir.path(), &faults);
    let a = block_on(registry.register("a", &schema(1), false)).unwrap();
    assert_eq!((a.id, a.version), (1, 1));
}

/// A permanently deleted schema leaves the disk (compaction), its id stays reserved, and the
/// journal file is the owner's only.
#[test]
fn permanent_delete_removes_the_schema_from_disk_and_keeps_its_id() {
    let dir = tempfile::tempdir().unwrap();
    let registry = open_registry(dir.path()).unwrap();
    let secret = Schema::avro(r#"{"type":"fixed","name":"SecretName","size":4}"#);
    let id = block_on(registry.register("s", &secret, false)).unwrap().id;
    block_on(registry.delete_subject("s", false)).unwrap();
    block_on(registry.delete_subject("s", true)).unwrap();
    let path = dir.path().join(JOURNAL_FILE);
    let on_disk = std::fs::read_to_string(&path).unwrap();
    assert!(!on_disk.contains("SecretName"), "{on_disk}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // the id stays taken, before and after a restart
    let next = block_on(registry.register("t", &schema(9), false)).unwrap();
    assert_eq!(next.id, id + 1);
    drop(registry);
    let registry = open_registry(dir.path()).unwrap();
    let again = block_on(registry.register("s", &secret, false)).unwrap();
    assert_eq!(again.id, id + 2);
    assert_eq!(
        block_on(registry.schema_by_id(id)).unwrap_err().to_string(),
        format!("Schema {id} not found")
    );
}

/// A complete line whose checksum fails stops the start (it may hold an acknowledged write).
/// A compaction that cannot be written at start (here its temporary file cannot be created; a
/// full disk does the same) leaves the journal as it was, and the registry still starts with
/// every acknowledged schema and keeps taking writes.
#[test]
fn failed_compaction_at_start_keeps_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let faults = FaultInjector::default();
    let first = {
        let registry = open(dir.path(), &faults);
        block_on(registry.register("s", &schema(1), false)).unwrap()
    };
    std::fs::create_dir(dir.path().join(format!("{JOURNAL_FILE}.compact"))).unwrap();
    let registry = open_registry(dir.path()).expect("starts without compacting");
    assert_eq!(
        *block_on(registry.schema_by_id(first.id)).unwrap(),
        schema(1)
    );
    let second = block_on(registry.register("s", &schema(2), false)).unwrap();
    drop(registry);
    std::fs::remove_dir(dir.path().join(format!("{JOURNAL_FILE}.compact"))).unwrap();
    let registry = open_registry(dir.path()).unwrap();
    assert_eq!(
        *block_on(registry.schema_by_id(first.id)).unwrap(),
        schema(1)
    );
    assert_eq!(
        *block_on(registry.schema_by_id(second.id)).unwrap(),
        schema(2)
    );
}

#[test]
fn damaged_line_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let registry = open_registry(dir.path()).unwrap();
    block_on(registry.register("a", &schema(0), false)).unwrap();
    block_on(registry.register("a", &schema(1), false)).unwrap_err(); // BACKWARD: fixed size
    block_on(registry.register("b", &schema(1), false)).unwrap();
    drop(registry);
    let path = dir.path().join(JOURNAL_FILE);
    let text = std::fs::read_to_string(&path).unwrap();
    let damaged = text.replacen("F0", "G0", 1);
    assert_ne!(text, damaged);
    std::fs::write(&path, damaged).unwrap();
    let e = open_registry(dir.path()).unwrap_err();
    assert!(e.to_string().contains("checksum mismatch"), "{e}");
}

#[derive(Debug, Clone)]
enum Op {
    Register {
        subject: u8,
        schema: u8,
    },
    SoftDelete {
        subject: u8,
    },
    PermanentDelete {
        subject: u8,
    },
    Restart,
    FailingRegister {
        subject: u8,
        schema: u8,
        bytes: usize,
        rollback_fails: bool,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..3u8, 0..6u8).prop_map(|(subject, schema)| Op::Register { subject, schema }),
        1 => (0..3u8).prop_map(|subject| Op::SoftDelete { subject }),
        1 => (0..3u8).prop_map(|subject| Op::PermanentDelete { subject }),
        1 => Just(Op::Restart),
        2 => (0..3u8, 0..6u8, 0..400usize, any::<bool>()).prop_map(
            |(subject, schema, bytes, rollback_fails)| Op::FailingRegister {
                subject,
                schema,
                bytes,
                rollback_fails
            }
        ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Across random registers, soft and permanent deletes, restarts and failing appends (some
    /// whose rollback fails too): every id ever acknowledged resolves to the same schema text
    /// whenever it resolves, and every acknowledged registration not deleted since is there.
    #[test]
    fn acknowledged_ids_mean_one_schema_forever(ops in proptest::collection::vec(op(), 1..40)) {
        let dir = tempfile::tempdir().unwrap();
        let faults = FaultInjector::default();
        let mut registry = open(dir.path(), &faults);
        // every id ever acknowledged, with its text
        let mut ids: HashMap<u32, String> = HashMap::new();
        // acknowledged (subject, version) → (id, soft-deleted) not permanently deleted since
        let mut live: HashMap<(String, i32), (u32, bool)> = HashMap::new();
        for op in ops {
            match op {
                Op::Register { subject, schema: n } | Op::FailingRegister { subject, schema: n, .. } => {
                    if let Op::FailingRegister { bytes, rollback_fails, .. } = op {
                        faults.push(Fault { bytes_written: bytes, rollback_fails });
                    }
                    let subject = format!("s{subject}");
                    if let Ok(r) = block_on(registry.register(&subject, &schema(n), false)) {
                        let text = ids.entry(r.id).or_insert_with(|| r.schema.schema.clone());
                        prop_assert_eq!(&*text, &r.schema.schema, "id {} changed meaning", r.id);
                        live.insert((subject, r.version), (r.id, false));
                    }
                    // a fault not consumed (the register failed before appending) is dropped
                    faults.clear();
                }
                Op::SoftDelete { subject } => {
                    let subject = format!("s{subject}");
                    if let Ok(versions) = block_on(registry.delete_subject(&subject, false)) {
                        for v in versions {
                            if let Some(e) = live.get_mut(&(subject.clone(), v)) {
                                e.1 = true;
                            }
                        }
                    }
                }
                Op::PermanentDelete { subject } => {
                    let subject = format!("s{subject}");
                    if let Ok(versions) = block_on(registry.delete_subject(&subject, true)) {
                        for v in versions {
                            live.remove(&(subject.clone(), v));
                        }
                    }
                }
                Op::Restart => {
                    drop(registry);
                    registry = open(dir.path(), &faults);
                }
            }
            for ((subject, version), (id, deleted)) in &live {
                let found = block_on(registry.version(subject, Version::Number(*version), true));
                let found = found.map_err(|e| TestCaseError::fail(format!("{subject} v{version} lost: {e}")))?;
                prop_assert_eq!(found.id, *id);
                let text = block_on(registry.schema_by_id(*id)).unwrap();
                prop_assert_eq!(&text.schema, &ids[id]);
                if !deleted {
                    let versions = block_on(registry.versions(subject, false)).unwrap();
                    prop_assert!(versions.contains(version));
                }
            }
            for (id, text) in &ids {
                if let Ok(found) = block_on(registry.schema_by_id(*id)) {
                    prop_assert_eq!(&found.schema, text, "id {} changed meaning", id);
                }
            }
        }
    }
}
