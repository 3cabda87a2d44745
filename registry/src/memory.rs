//! [`InMemoryRegistry`]: a thread-safe registry with Confluent's semantics, kept in memory.
//!
//! Its state changes only through [`Change`]s, which a [`ChangeLog`] can record (the dev server's
//! journal does) and [`InMemoryRegistry::replay`] can apply again, so ids, versions and GUIDs are
//! the same after a restart.

use crate::api::{CompatibilityReport, SchemaRegistry};
use crate::compat::{self, References, Resolved};
use crate::{
    CompatibilityLevel, RegisteredSchema, RegistryError, Schema, SchemaReference, SchemaType,
    Version,
};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use uuid::Uuid;

/// How deep references may nest before a schema is refused (guards against cycles and abuse).
const MAX_REFERENCE_DEPTH: usize = 32;

/// One change to a registry's state. Applying the same changes in the same order to an empty
/// registry gives the same state (ids, versions, GUIDs, levels).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Change {
    /// A schema registered under a subject as a new version.
    Register {
        /// The subject.
        subject: String,
        /// The new version.
        version: i32,
        /// The schema's global id.
        id: u32,
        /// The schema's GUID.
        guid: Uuid,
        /// The schema (as stored: canonical text).
        schema_type: SchemaType,
        /// The schema text.
        schema: String,
        /// Its references.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        references: Vec<SchemaReference>,
    },
    /// A version deleted (soft or permanent).
    DeleteVersion {
        /// The subject.
        subject: String,
        /// The version.
        version: i32,
        /// Whether it is gone for good.
        permanent: bool,
    },
    /// A whole subject deleted (soft or permanent); both also drop its own compatibility level.
    DeleteSubject {
        /// The subject.
        subject: String,
        /// Whether it is gone for good.
        permanent: bool,
    },
    /// A compatibility level set, globally (`subject` = `None`) or for a subject.
    SetCompatibility {
        /// The subject, or `None` for the global level.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        subject: Option<String>,
        /// The level.
        level: CompatibilityLevel,
    },
    /// A subject's own compatibility level removed.
    DeleteCompatibility {
        /// The subject.
        subject: String,
    },
    /// Ids up to `max_id` are taken (written by a compaction, which may have removed the
    /// schemas that held the highest ones): no new schema gets one of them.
    ReserveIds {
        /// The largest id ever assigned.
        max_id: u32,
    },
}

/// Where an [`InMemoryRegistry`] records its changes before applying them (for example an
/// append-only journal). A change whose append fails is not applied and its request fails with
/// the error returned.
pub trait ChangeLog: Send + Sync {
    /// Records one change durably.
    fn append(&self, change: &Change) -> Result<(), RegistryError>;

    /// Replaces everything recorded so far with `snapshot`, the changes that rebuild the current
    /// state (see [`InMemoryRegistry::snapshot`]). Called after a permanent delete, so deleted
    /// schemas leave the log; the default keeps the log as it is.
    fn compact(&self, snapshot: &[Change]) -> Result<(), RegistryError> {
        let _ = snapshot;
        Ok(())
    }
}

#[derive(Debug)]
struct SchemaEntry {
    schema: Arc<Schema>,
    guid: Uuid,
    /// How many versions (soft-deleted included) use this schema. At 0 the id no longer resolves,
    /// but it stays reserved for the same schema.
    uses: usize,
}

#[derive(Debug, Clone, Copy)]
struct VersionEntry {
    id: u32,
    deleted: bool,
}

#[derive(Debug, Default)]
struct Subject {
    versions: BTreeMap<i32, VersionEntry>,
    compatibility: Option<CompatibilityLevel>,
}

impl Subject {
    fn visible(&self, deleted: bool) -> impl DoubleEndedIterator<Item = (i32, VersionEntry)> + '_ {
        self.versions
            .iter()
            .filter(move |(_, v)| deleted || !v.deleted)
            .map(|(n, v)| (*n, *v))
    }
    fn has_visible(&self, deleted: bool) -> bool {
        self.visible(deleted).next().is_some()
    }
}

#[derive(Debug, Default)]
struct State {
    schemas: HashMap<u32, SchemaEntry>,
    by_content: HashMap<Schema, Vec<u32>>,
    by_guid: HashMap<Uuid, u32>,
    subjects: BTreeMap<String, Subject>,
    global: CompatibilityLevel,
    max_id: u32,
    /// Counts the changes applied: work done outside the lock is valid while it is unchanged.
    generation: u64,
}

/// A schema registry kept in memory, with Confluent's semantics: global ids shared by identical
/// schemas across subjects, versions counted per subject from 1, compatibility enforced per the
/// subject's level (default `BACKWARD`), soft deletes that hide versions but keep ids, permanent
/// deletes only after soft ones, and referenced schemas protected from deletion.
///
/// Thread-safe (one mutex; no lock is held across an `await`). Clone an `Arc` of it to share it.
///
/// Avro and JSON Schema texts are stored with insignificant whitespace removed, Protobuf text as
/// given. Two Avro texts that differ only in whitespace or object key order are the same schema,
/// as are two Protobuf schemas that parse to the same file (`.proto` text in any layout, or the
/// base64 descriptor); see the crate documentation for how identity differs from Confluent's.
pub struct InMemoryRegistry {
    state: Mutex<State>,
    log: Option<Box<dyn ChangeLog>>,
    /// Compatibility results by (new schema, its resolved references, level, ids checked
    /// against), failures included, so a client repeating a costly request costs one check;
    /// with the bytes of schema text the keys hold.
    checks: Mutex<(CheckMemo, usize)>,
}

/// What decides a compatibility result: the new schema, the schemas its references resolve to
/// (a permanently deleted version number can later name another schema), the level and the ids
/// it is checked against (each id means one schema forever).
type CheckKey = (Schema, References, CompatibilityLevel, Vec<u32>);

/// Remembered compatibility results: messages, or why the check failed.
type CheckMemo = HashMap<CheckKey, Result<Vec<String>, String>>;

/// How many compatibility results [`InMemoryRegistry`] keeps (all are dropped when full).
const CHECK_MEMO: usize = 256;

/// How many bytes of schema text the remembered results' keys may hold (all are dropped when
/// more would be), so large schemas cannot make the memo grow without bound.
const CHECK_MEMO_BYTES: usize = 16 * 1024 * 1024;

impl Default for InMemoryRegistry {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for InMemoryRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        f.debug_struct("InMemoryRegistry")
            .field("schemas", &state.schemas.len())
            .field("subjects", &state.subjects.len())
            .field("global", &state.global)
            .field("journaled", &self.log.is_some())
            .finish()
    }
}

impl InMemoryRegistry {
    /// An empty registry with global level `BACKWARD`.
    pub fn new() -> Self {
        InMemoryRegistry {
            state: Mutex::new(State::default()),
            log: None,
            checks: Mutex::new((HashMap::new(), 0)),
        }
    }

    /// An empty registry whose global level is `level` (a starting setting, not a recorded
    /// [`Change`]: a journaled registry should use `set_compatibility` instead).
    pub fn with_global_compatibility(level: CompatibilityLevel) -> Self {
        let registry = Self::new();
        registry.lock().global = level;
        registry
    }

    /// A registry rebuilt from recorded changes, in order. A change that does not fit the state
    /// built so far (such as a delete of an unknown version) is a [`RegistryError::Storage`]
    /// error naming it.
    pub fn replay<I: IntoIterator<Item = Change>>(changes: I) -> Result<Self, RegistryError> {
        let registry = Self::new();
        {
            let mut state = registry.lock();
            for (n, change) in changes.into_iter().enumerate() {
                state.apply(change).map_err(|why| RegistryError::Storage {
                    context: format!("replaying change {}: {why}", n + 1),
                    source: std::io::Error::new(std::io::ErrorKind::InvalidData, why),
                })?;
            }
        }
        Ok(registry)
    }

    /// The same registry, recording every later change in `log` before applying it.
    pub fn with_change_log(mut self, log: Box<dyn ChangeLog>) -> Self {
        self.log = Some(log);
        self
    }

    /// The GUID of a schema id, if the id resolves.
    pub fn guid_of(&self, id: u32) -> Option<Uuid> {
        let state = self.lock();
        state
            .schemas
            .get(&id)
            .filter(|e| e.uses > 0)
            .map(|e| e.guid)
    }

    /// The `(subject, version)` pairs that use a schema id (`GET /schemas/ids/{id}/versions`).
    pub fn versions_for_id(
        &self,
        id: u32,
        deleted: bool,
    ) -> Result<Vec<(String, i32)>, RegistryError> {
        let state = self.lock();
        state.live_schema(id)?;
        Ok(state
            .subjects
            .iter()
            .flat_map(|(name, s)| {
                s.visible(deleted)
                    .filter(|(_, v)| v.id == id)
                    .map(move |(n, _)| (name.clone(), n))
            })
            .collect())
    }

    /// Every version of every subject whose name starts with `subject_prefix`, sorted by subject
    /// then version (`GET /schemas`): soft-deleted versions only when `deleted` is set, and with
    /// `latest_only` only the last of those per subject (so, with `deleted`, possibly a
    /// soft-deleted one, as in Confluent).
    pub fn schemas_with_prefix(
        &self,
        subject_prefix: &str,
        deleted: bool,
        latest_only: bool,
    ) -> Vec<RegisteredSchema> {
        let state = self.lock();
        state
            .subjects
            .range(subject_prefix.to_owned()..)
            .take_while(|(name, _)| name.starts_with(subject_prefix))
            .flat_map(|(name, s)| {
                let versions: Vec<(i32, VersionEntry)> = if latest_only {
                    s.visible(deleted).next_back().into_iter().collect()
                } else {
                    s.visible(deleted).collect()
                };
                versions
                    .into_iter()
                    .map(|(n, v)| registered(name, n, v.id, &state.schemas[&v.id]))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// The ids of the schemas (any version, soft-deleted included) that reference `subject`
    /// `version` (`GET /subjects/{subject}/versions/{version}/referencedby`).
    pub fn referenced_by(
        &self,
        subject: &str,
        version: Version,
    ) -> Result<Vec<u32>, RegistryError> {
        let state = self.lock();
        let (n, _) = state.find_version(subject, version, true)?;
        let mut ids: Vec<u32> = state
            .subjects
            .values()
            .flat_map(|s| s.versions.values().map(|v| v.id))
            .filter(|id| {
                state.schemas[id]
                    .schema
                    .references
                    .iter()
                    .any(|r| refers_to(r, subject, n))
            })
            .collect();
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
    }

    /// The schemas `schema` references, transitively, by reference name (what a Protobuf
    /// compiler needs to resolve its imports).
    pub fn resolve_references(&self, schema: &Schema) -> Result<References, RegistryError> {
        self.lock().resolve(schema)
    }

    /// The largest schema id assigned so far (0 when none).
    pub fn max_id(&self) -> u32 {
        self.lock().max_id
    }

    /// The changes that rebuild the current state on an empty registry: levels, every version
    /// (soft-deleted ones registered then deleted) with its id and GUID, and the largest id
    /// assigned ([`Change::ReserveIds`]). Permanently deleted versions are left out, and so are
    /// schemas no version uses any more: their ids stay reserved, but registering such a schema
    /// again gives it a new id.
    pub fn snapshot(&self) -> Vec<Change> {
        self.lock().snapshot()
    }

    /// Forgets the schemas no version uses (once a compaction removed their text from the log).
    #[cfg(feature = "server")]
    pub(crate) fn forget_unused(&self) {
        self.lock().forget_unused();
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// [`Inputs::check`], remembered (failures included) for the same schema, level and ids.
    fn check(&self, inputs: &Inputs, new: &Schema) -> Result<Vec<String>, RegistryError> {
        let checks = || self.checks.lock().unwrap_or_else(|p| p.into_inner());
        let key = (
            new.clone(),
            inputs.references.clone(),
            inputs.level,
            inputs.previous_ids.clone(),
        );
        let known = checks().0.get(&key).cloned();
        let result = match known {
            Some(result) => result,
            None => {
                let result = inputs.check(new).map_err(|e| match e {
                    RegistryError::InvalidSchema(why) => why,
                    other => other.to_string(),
                });
                let size = new.schema.len()
                    + inputs
                        .references
                        .iter()
                        .map(|(name, s)| name.len() + s.schema.len())
                        .sum::<usize>();
                let mut guard = checks();
                let (checks, bytes) = &mut *guard;
                if size <= CHECK_MEMO_BYTES {
                    if checks.len() >= CHECK_MEMO || *bytes + size > CHECK_MEMO_BYTES {
                        checks.clear();
                        *bytes = 0;
                    }
                    if checks.insert(key, result.clone()).is_none() {
                        *bytes += size;
                    }
                }
                result
            }
        };
        result.map_err(RegistryError::InvalidSchema)
    }

    fn commit(&self, state: &mut State, change: Change) -> Result<(), RegistryError> {
        let compact = matches!(
            change,
            Change::DeleteVersion {
                permanent: true,
                ..
            } | Change::DeleteSubject {
                permanent: true,
                ..
            }
        );
        if let Some(log) = &self.log {
            log.append(&change)?;
        }
        state.apply(change).map_err(|why| RegistryError::Storage {
            context: why.clone(),
            source: std::io::Error::other(why),
        })?;
        if compact && let Some(log) = &self.log {
            // The delete is durable already; a failed compaction leaves the deleted schema in
            // the log until the next one (at the latest on restart), which the state mirrors.
            if log.compact(&state.snapshot()).is_ok() {
                state.forget_unused();
            }
        }
        Ok(())
    }
}

/// Removes insignificant whitespace from a JSON text, keeping key order and string contents.
/// The text must already be known to be valid JSON.
fn minify_json(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            out.push(c);
        }
    }
    out
}

/// Avro's primitive type names.
const AVRO_PRIMITIVES: [&str; 8] = [
    "null", "boolean", "int", "long", "float", "double", "bytes", "string",
];

/// `{"type":"string"}` is the Avro schema `"string"`, as Avro's own printer writes it (and so as
/// Confluent stores it). Takes minified text.
fn unwrap_avro_primitive(text: String) -> String {
    if let Some(inner) = text
        .strip_prefix("{\"type\":\"")
        .and_then(|rest| rest.strip_suffix("\"}"))
        && AVRO_PRIMITIVES.contains(&inner)
    {
        return format!("\"{inner}\"");
    }
    text
}

/// Writes `value` as compact JSON with object keys sorted, and `{"type":"<primitive>"}` objects
/// written as `"<primitive>"` (Avro reads them the same).
fn write_avro_identity(value: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            if map.len() == 1
                && let Some(Value::String(t)) = map.get("type")
                && AVRO_PRIMITIVES.contains(&t.as_str())
            {
                out.push_str(&Value::String(t.clone()).to_string());
                return;
            }
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_avro_identity(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_avro_identity(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// What decides whether two Avro or JSON Schema texts are the same schema (and so share an id):
/// for Avro, the JSON with object keys in sorted order (Confluent compares Avro's own printed
/// form, in which the input's key order does not show); for JSON Schema, the stored (minified)
/// text, as Confluent compares the JSON text it re-serializes. Protobuf needs its references:
/// see [`State::identity`].
fn text_identity(schema: &Schema) -> Schema {
    match schema.schema_type {
        SchemaType::Avro => match serde_json::from_str::<serde_json::Value>(&schema.schema) {
            Ok(value) => {
                let mut text = String::with_capacity(schema.schema.len());
                write_avro_identity(&value, &mut text);
                Schema {
                    schema_type: schema.schema_type,
                    schema: text,
                    references: schema.references.clone(),
                }
            }
            Err(_) => schema.clone(),
        },
        _ => schema.clone(),
    }
}

/// The stored form of a submitted schema: JSON-based texts validated and minified.
fn canonical(schema: &Schema) -> Result<Schema, RegistryError> {
    let text = match schema.schema_type {
        SchemaType::Avro | SchemaType::Json => {
            if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(&schema.schema) {
                return Err(RegistryError::InvalidSchema(format!(
                    "{} schema is not valid JSON: {e}",
                    schema.schema_type
                )));
            }
            let text = minify_json(&schema.schema);
            match schema.schema_type {
                SchemaType::Avro => unwrap_avro_primitive(text),
                _ => text,
            }
        }
        SchemaType::Protobuf => {
            if schema.schema.trim().is_empty() {
                return Err(RegistryError::InvalidSchema(
                    "empty Protobuf schema".to_owned(),
                ));
            }
            schema.schema.clone()
        }
    };
    Ok(Schema {
        schema_type: schema.schema_type,
        schema: text,
        references: schema.references.clone(),
    })
}

/// The answer to a register or lookup request for `sent`, found as `id`. Confluent answers the
/// canonical form of the schema *sent*; for Avro and JSON Schema that is the stored one here (they
/// compare by their stored form), while a Protobuf schema is answered in the form it was sent:
/// clients cache the answer as the schema of the id, and Confluent's Python client later asks that
/// cache for the base64 descriptor it sent, not for a `.proto` text first registered by another
/// client. Fetching the id or a version answers the stored (first registered) form.
fn answered(
    subject: &str,
    version: i32,
    id: u32,
    entry: &SchemaEntry,
    sent: &Schema,
) -> RegisteredSchema {
    let mut answer = registered(subject, version, id, entry);
    if sent.schema_type == SchemaType::Protobuf {
        answer.schema = sent.clone();
    }
    answer
}

fn registered(subject: &str, version: i32, id: u32, entry: &SchemaEntry) -> RegisteredSchema {
    RegisteredSchema {
        id,
        guid: Some(entry.guid),
        subject: subject.to_owned(),
        version,
        schema: (*entry.schema).clone(),
    }
}

/// [`State::identity`] with the schema's references already resolved (no state needed, so it
/// runs outside the lock).
fn identity_with(schema: &Schema, references: &References) -> Result<Schema, RegistryError> {
    if schema.schema_type != SchemaType::Protobuf {
        return Ok(text_identity(schema));
    }
    use base64::Engine as _;
    use prost::Message as _;
    let parsed = compat::protobuf::ProtoSchema::parse(Resolved { schema, references })?;
    if parsed.has_uncompared_parts() {
        // custom options are not in the canonical form: only the same text is the same
        return Ok(Schema {
            schema_type: schema.schema_type,
            schema: format!("text:{}", schema.schema),
            references: schema.references.clone(),
        });
    }
    let bytes = parsed.canonical_descriptor().encode_to_vec();
    Ok(Schema {
        schema_type: schema.schema_type,
        schema: base64::engine::general_purpose::STANDARD.encode(bytes),
        references: schema.references.clone(),
    })
}

/// Whether `r` names `subject` `version`. A reference to the latest version (`-1`, stored only
/// by journals of earlier versions: new ones are pinned) names every version, since deleting
/// any could change what it means.
fn refers_to(r: &SchemaReference, subject: &str, version: i32) -> bool {
    r.subject == subject && (r.version == version || r.version == -1)
}

/// What a registration or compatibility test needs from the state, taken under the lock so
/// that parsing and checking can run without it.
struct Inputs {
    /// [`State::generation`] when taken.
    generation: u64,
    /// The new schema's references, resolved.
    references: References,
    level: CompatibilityLevel,
    /// The schemas to check against (oldest first), with their references.
    previous: Vec<(Arc<Schema>, References)>,
    /// Their ids.
    previous_ids: Vec<u32>,
}

impl Inputs {
    /// The compatibility messages for `new` (which `references` belongs to).
    fn check(&self, new: &Schema) -> Result<Vec<String>, RegistryError> {
        let resolved: Vec<Resolved<'_>> = self
            .previous
            .iter()
            .map(|(schema, references)| Resolved { schema, references })
            .collect();
        compat::check(
            self.level,
            Resolved {
                schema: new,
                references: &self.references,
            },
            &resolved,
        )
    }
}

/// How many times a registration computes outside the lock before, with the state changing
/// under it every time, it computes holding the lock.
const UNLOCKED_ATTEMPTS: usize = 4;

impl State {
    /// What decides whether two schemas are the same schema (and so share an id): for Avro and
    /// JSON Schema see [`text_identity`]; for Protobuf, the parsed file (imports resolved through
    /// the references) as [`compat::protobuf::ProtoSchema::canonical_descriptor`] gives it, so
    /// `.proto` texts that differ in formatting or comments and the base64 descriptor of the same
    /// file are one schema. References are part of the identity, as in Confluent.
    fn identity(&self, schema: &Schema) -> Result<Schema, RegistryError> {
        if schema.schema_type != SchemaType::Protobuf {
            return Ok(text_identity(schema));
        }
        identity_with(schema, &self.resolve(schema)?)
    }

    fn live_schema(&self, id: u32) -> Result<&SchemaEntry, RegistryError> {
        self.schemas
            .get(&id)
            .filter(|e| e.uses > 0)
            .ok_or_else(|| RegistryError::schema_not_found(id))
    }

    fn level_of(&self, subject: &str) -> CompatibilityLevel {
        self.subjects
            .get(subject)
            .and_then(|s| s.compatibility)
            .unwrap_or(self.global)
    }

    /// The version `version` names, per Confluent's lookup rules.
    fn find_version(
        &self,
        subject: &str,
        version: Version,
        deleted: bool,
    ) -> Result<(i32, VersionEntry), RegistryError> {
        let s = self
            .subjects
            .get(subject)
            .filter(|s| s.has_visible(deleted))
            .ok_or_else(|| RegistryError::SubjectNotFound(subject.to_owned()))?;
        let found = match version {
            Version::Latest => s.visible(deleted).next_back(),
            Version::Number(n) => s
                .versions
                .get(&n)
                .filter(|v| deleted || !v.deleted)
                .map(|v| (n, *v)),
        };
        found.ok_or_else(|| RegistryError::VersionNotFound {
            subject: subject.to_owned(),
            version: version.to_string(),
        })
    }

    /// Resolves `refs` (transitively) into `out`, by reference name.
    fn resolve_into(
        &self,
        refs: &[SchemaReference],
        out: &mut References,
        seen: &mut BTreeSet<(String, i32)>,
        depth: usize,
    ) -> Result<(), RegistryError> {
        if depth > MAX_REFERENCE_DEPTH {
            return Err(RegistryError::InvalidSchema(format!(
                "references nest deeper than {MAX_REFERENCE_DEPTH} levels"
            )));
        }
        for r in refs {
            let version = if r.version == -1 {
                Version::Latest
            } else if r.version >= 1 {
                Version::Number(r.version)
            } else {
                return Err(RegistryError::InvalidSchema(format!(
                    "reference '{}' has invalid version {}",
                    r.name, r.version
                )));
            };
            let (n, entry) = self.find_version(&r.subject, version, true).map_err(|_| {
                RegistryError::InvalidSchema(format!(
                    "reference '{}' names subject '{}' version {} which does not exist",
                    r.name, r.subject, r.version
                ))
            })?;
            if !seen.insert((r.subject.clone(), n)) {
                continue;
            }
            let schema = &self.schemas[&entry.id].schema;
            out.insert(r.name.clone(), (**schema).clone());
            self.resolve_into(&schema.references, out, seen, depth + 1)?;
        }
        Ok(())
    }

    fn resolve(&self, schema: &Schema) -> Result<References, RegistryError> {
        let mut out = References::new();
        self.resolve_into(&schema.references, &mut out, &mut BTreeSet::new(), 0)?;
        Ok(out)
    }

    /// The inputs for checking `new` against `previous` ids (oldest first) under `level`.
    fn inputs(
        &self,
        level: CompatibilityLevel,
        new: &Schema,
        ids: &[u32],
    ) -> Result<Inputs, RegistryError> {
        let references = self.resolve(new)?;
        let previous = if level == CompatibilityLevel::None {
            Vec::new()
        } else {
            ids.iter()
                .map(|id| {
                    let schema = self.schemas[id].schema.clone();
                    let refs = self.resolve(&schema)?;
                    Ok((schema, refs))
                })
                .collect::<Result<_, RegistryError>>()?
        };
        Ok(Inputs {
            generation: self.generation,
            references,
            level,
            previous_ids: if previous.is_empty() {
                Vec::new()
            } else {
                ids.to_vec()
            },
            previous,
        })
    }

    /// `schema` with every reference to the latest version (`-1`) replaced by the number of
    /// that version now, so the schema means the same forever. A reference to `subject`
    /// itself is refused (a schema cannot depend on its own subject's versions).
    fn pin_references(&self, subject: &str, schema: &Schema) -> Result<Schema, RegistryError> {
        let mut pinned = schema.clone();
        for r in &mut pinned.references {
            if r.subject == subject {
                return Err(RegistryError::InvalidSchema(format!(
                    "reference '{}' names the schema's own subject '{subject}': a schema cannot \
                     reference its own subject",
                    r.name
                )));
            }
            if r.version == -1 {
                let (n, _) = self
                    .find_version(&r.subject, Version::Latest, false)
                    .map_err(|_| {
                        RegistryError::InvalidSchema(format!(
                            "reference '{}' names the latest version of subject '{}', which has \
                             none",
                            r.name, r.subject
                        ))
                    })?;
                r.version = n;
            }
        }
        Ok(pinned)
    }

    /// The live versions of `subject` (number, id).
    fn live(&self, subject: &str) -> Vec<(i32, u32)> {
        self.subjects
            .get(subject)
            .map(|s| s.visible(false).map(|(n, v)| (n, v.id)).collect())
            .unwrap_or_default()
    }

    /// Whether any stored version (soft-deleted included) references `subject` `version`.
    fn is_referenced(&self, subject: &str, version: i32) -> bool {
        self.subjects.values().any(|s| {
            s.versions.values().any(|v| {
                self.schemas[&v.id]
                    .schema
                    .references
                    .iter()
                    .any(|r| refers_to(r, subject, version))
            })
        })
    }

    fn snapshot(&self) -> Vec<Change> {
        let mut changes = vec![Change::SetCompatibility {
            subject: None,
            level: self.global,
        }];
        let mut registers = Vec::new();
        for (name, s) in &self.subjects {
            for (&version, v) in &s.versions {
                let entry = &self.schemas[&v.id];
                registers.push((v.id, name, version, entry, v.deleted));
            }
        }
        // ascending ids: the order the ids were first registered in (`by_content` keeps the
        // first id of a schema first)
        registers.sort_by_key(|(id, name, version, ..)| (*id, *name, *version));
        let mut deletes = Vec::new();
        for (id, name, version, entry, deleted) in registers {
            changes.push(Change::Register {
                subject: name.clone(),
                version,
                id,
                guid: entry.guid,
                schema_type: entry.schema.schema_type,
                schema: entry.schema.schema.clone(),
                references: entry.schema.references.clone(),
            });
            if deleted {
                deletes.push(Change::DeleteVersion {
                    subject: name.clone(),
                    version,
                    permanent: false,
                });
            }
        }
        changes.extend(deletes);
        changes.extend(self.subjects.iter().filter_map(|(name, s)| {
            s.compatibility.map(|level| Change::SetCompatibility {
                subject: Some(name.clone()),
                level,
            })
        }));
        changes.push(Change::ReserveIds {
            max_id: self.max_id,
        });
        changes
    }

    /// Drops the schemas no version uses (after a compaction removed them from the log), so the
    /// state is what replaying the compacted log gives.
    fn forget_unused(&mut self) {
        let unused: Vec<u32> = self
            .schemas
            .iter()
            .filter(|(_, e)| e.uses == 0)
            .map(|(id, _)| *id)
            .collect();
        for id in unused {
            let entry = self.schemas.remove(&id).expect("listed above");
            self.by_guid.remove(&entry.guid);
            self.by_content.retain(|_, ids| {
                ids.retain(|i| *i != id);
                !ids.is_empty()
            });
        }
    }

    fn drop_use(&mut self, id: u32) {
        if let Some(e) = self.schemas.get_mut(&id) {
            e.uses = e.uses.saturating_sub(1);
        }
    }

    /// Applies a change; `Err` names why it does not fit (only for replayed, foreign input).
    fn apply(&mut self, change: Change) -> Result<(), String> {
        self.generation += 1;
        match change {
            Change::Register {
                subject,
                version,
                id,
                guid,
                schema_type,
                schema,
                references,
            } => {
                if id == 0 || version < 1 {
                    return Err(format!("invalid id {id} or version {version}"));
                }
                if self
                    .subjects
                    .get(&subject)
                    .is_some_and(|s| s.versions.contains_key(&version))
                {
                    return Err(format!("version {version} of '{subject}' registered twice"));
                }
                let schema = Schema {
                    schema_type,
                    schema,
                    references,
                };
                match self.schemas.get_mut(&id) {
                    Some(e) => {
                        if *e.schema != schema || e.guid != guid {
                            return Err(format!("id {id} registered with another schema"));
                        }
                        e.uses += 1;
                    }
                    None => {
                        if self.by_guid.contains_key(&guid) {
                            return Err(format!("the GUID of id {id} already has another id"));
                        }
                        // A schema that no longer parses (a journal written by an older
                        // version) is known by its text. A journal written before Protobuf
                        // schemas were compared parsed may hold one schema under two ids: the
                        // first keeps answering for it.
                        let identity = self.identity(&schema).unwrap_or_else(|_| schema.clone());
                        self.by_content.entry(identity).or_default().push(id);
                        self.by_guid.insert(guid, id);
                        self.schemas.insert(
                            id,
                            SchemaEntry {
                                schema: Arc::new(schema),
                                guid,
                                uses: 1,
                            },
                        );
                    }
                }
                self.max_id = self.max_id.max(id);
                self.subjects
                    .entry(subject)
                    .or_default()
                    .versions
                    .insert(version, VersionEntry { id, deleted: false });
                Ok(())
            }
            Change::DeleteVersion {
                subject,
                version,
                permanent,
            } => {
                let s = self
                    .subjects
                    .get_mut(&subject)
                    .ok_or_else(|| format!("unknown subject '{subject}'"))?;
                if permanent {
                    let v = s
                        .versions
                        .remove(&version)
                        .ok_or_else(|| format!("unknown version {version} of '{subject}'"))?;
                    if s.versions.is_empty() {
                        self.subjects.remove(&subject);
                    }
                    self.drop_use(v.id);
                } else {
                    s.versions
                        .get_mut(&version)
                        .ok_or_else(|| format!("unknown version {version} of '{subject}'"))?
                        .deleted = true;
                }
                Ok(())
            }
            Change::DeleteSubject { subject, permanent } => {
                if permanent {
                    let s = self
                        .subjects
                        .remove(&subject)
                        .ok_or_else(|| format!("unknown subject '{subject}'"))?;
                    for v in s.versions.values() {
                        self.drop_use(v.id);
                    }
                } else {
                    let s = self
                        .subjects
                        .get_mut(&subject)
                        .ok_or_else(|| format!("unknown subject '{subject}'"))?;
                    for v in s.versions.values_mut() {
                        v.deleted = true;
                    }
                    s.compatibility = None;
                }
                Ok(())
            }
            Change::SetCompatibility { subject, level } => {
                match subject {
                    None => self.global = level,
                    Some(subject) => {
                        self.subjects.entry(subject).or_default().compatibility = Some(level)
                    }
                }
                Ok(())
            }
            Change::ReserveIds { max_id } => {
                self.max_id = self.max_id.max(max_id);
                Ok(())
            }
            Change::DeleteCompatibility { subject } => {
                if let Some(s) = self.subjects.get_mut(&subject) {
                    s.compatibility = None;
                    if s.versions.is_empty() {
                        self.subjects.remove(&subject);
                    }
                }
                Ok(())
            }
        }
    }
}

#[async_trait]
impl SchemaRegistry for InMemoryRegistry {
    async fn register(
        &self,
        subject: &str,
        schema: &Schema,
        normalize: bool,
    ) -> Result<RegisteredSchema, RegistryError> {
        let _ = normalize; // Avro/JSON texts are always stored minified; see the crate docs.
        if subject.is_empty() {
            return Err(RegistryError::InvalidSchema(
                "empty subject name".to_owned(),
            ));
        }
        if subject.chars().any(char::is_control) {
            return Err(RegistryError::Server {
                status: 422,
                error_code: 42208,
                message: crate::error::invalid_subject(subject),
            });
        }
        let mut schema = canonical(schema)?;
        // Parsing and checking run without the lock (so one costly schema does not stall other
        // requests), on inputs taken under it; the result counts only if the state did not
        // change meanwhile, else it is computed again (at last holding the lock).
        let mut attempt = 0;
        let (mut state, known_ids, messages) = loop {
            attempt += 1;
            let hold = attempt > UNLOCKED_ATTEMPTS;
            let state = self.lock();
            let level = state.level_of(subject);
            let previous: Vec<u32> = state.live(subject).iter().map(|(_, id)| *id).collect();
            schema = state.pin_references(subject, &schema)?;
            let inputs = state.inputs(level, &schema, &previous)?;
            let held = hold.then_some(state);
            let identity = identity_with(&schema, &inputs.references)?;
            let state = held.unwrap_or_else(|| self.lock());
            if state.generation != inputs.generation {
                continue;
            }
            // every id the schema has (more than one only after replaying an old journal); the
            // first is the one a new registration reuses
            let known_ids = state.by_content.get(&identity).cloned().unwrap_or_default();
            let live = state.live(subject);
            if let Some(&(n, id)) = live.iter().find(|(_, v)| known_ids.contains(v)) {
                return Ok(answered(subject, n, id, &state.schemas[&id], &schema));
            }
            let held = hold.then_some(state);
            let messages = self.check(&inputs, &schema)?;
            let state = held.unwrap_or_else(|| self.lock());
            if state.generation == inputs.generation {
                break (state, known_ids, messages);
            }
        };
        let known_id = known_ids.first().copied();
        if !messages.is_empty() {
            return Err(RegistryError::Incompatible {
                subject: subject.to_owned(),
                messages,
            });
        }
        // A schema known under another id keeps the text it was first registered with (the same
        // schema, perhaps written otherwise).
        let (stored, (id, guid)) = match known_id {
            Some(id) => {
                let entry = &state.schemas[&id];
                ((*entry.schema).clone(), (id, entry.guid))
            }
            None => {
                let id = state
                    .max_id
                    .checked_add(1)
                    .filter(|id| *id <= i32::MAX as u32)
                    .ok_or_else(|| RegistryError::Server {
                        status: 500,
                        error_code: 50001,
                        message: "schema ids exhausted".to_owned(),
                    })?;
                let mut guid = Uuid::new_v4();
                while state.by_guid.contains_key(&guid) {
                    guid = Uuid::new_v4();
                }
                (schema.clone(), (id, guid))
            }
        };
        let version = state
            .subjects
            .get(subject)
            .and_then(|s| s.versions.keys().next_back().copied())
            .unwrap_or(0)
            .checked_add(1)
            .ok_or_else(|| RegistryError::InvalidVersion("versions exhausted".to_owned()))?;
        self.commit(
            &mut state,
            Change::Register {
                subject: subject.to_owned(),
                version,
                id,
                guid,
                schema_type: stored.schema_type,
                schema: stored.schema,
                references: stored.references,
            },
        )?;
        Ok(answered(subject, version, id, &state.schemas[&id], &schema))
    }

    async fn lookup(
        &self,
        subject: &str,
        schema: &Schema,
        normalize: bool,
        deleted: bool,
    ) -> Result<RegisteredSchema, RegistryError> {
        let _ = normalize;
        let (schema, references) = {
            let state = self.lock();
            let schema = state.pin_references(subject, &canonical(schema)?)?;
            let references = state.resolve(&schema)?;
            (schema, references)
        };
        let identity = identity_with(&schema, &references)?;
        let state = self.lock();
        let s = state
            .subjects
            .get(subject)
            .filter(|s| s.has_visible(deleted))
            .ok_or_else(|| RegistryError::SubjectNotFound(subject.to_owned()))?;
        let not_found = || RegistryError::SchemaNotFound("Schema not found".to_owned());
        let ids = state.by_content.get(&identity).ok_or_else(not_found)?;
        let (n, id) = s
            .visible(deleted)
            .rev()
            .find(|(_, v)| ids.contains(&v.id))
            .map(|(n, v)| (n, v.id))
            .ok_or_else(not_found)?;
        Ok(answered(subject, n, id, &state.schemas[&id], &schema))
    }

    async fn schema_by_id(&self, id: u32) -> Result<Arc<Schema>, RegistryError> {
        Ok(self.lock().live_schema(id)?.schema.clone())
    }

    async fn schema_by_guid(&self, guid: Uuid) -> Result<Arc<Schema>, RegistryError> {
        let state = self.lock();
        let id = *state
            .by_guid
            .get(&guid)
            .ok_or_else(|| RegistryError::schema_not_found(guid))?;
        state
            .live_schema(id)
            .map(|e| e.schema.clone())
            .map_err(|_| RegistryError::schema_not_found(guid))
    }

    async fn subjects_for_id(&self, id: u32, deleted: bool) -> Result<Vec<String>, RegistryError> {
        let mut subjects: Vec<String> = self
            .versions_for_id(id, deleted)?
            .into_iter()
            .map(|(s, _)| s)
            .collect();
        subjects.dedup();
        Ok(subjects)
    }

    async fn subjects(&self, deleted: bool) -> Result<Vec<String>, RegistryError> {
        Ok(self
            .lock()
            .subjects
            .iter()
            .filter(|(_, s)| s.has_visible(deleted))
            .map(|(name, _)| name.clone())
            .collect())
    }

    async fn versions(&self, subject: &str, deleted: bool) -> Result<Vec<i32>, RegistryError> {
        let state = self.lock();
        let versions: Vec<i32> = state
            .subjects
            .get(subject)
            .map(|s| s.visible(deleted).map(|(n, _)| n).collect())
            .unwrap_or_default();
        if versions.is_empty() {
            return Err(RegistryError::SubjectNotFound(subject.to_owned()));
        }
        Ok(versions)
    }

    async fn version(
        &self,
        subject: &str,
        version: Version,
        deleted: bool,
    ) -> Result<RegisteredSchema, RegistryError> {
        let state = self.lock();
        let (n, v) = state.find_version(subject, version, deleted)?;
        Ok(registered(subject, n, v.id, &state.schemas[&v.id]))
    }

    async fn delete_subject(
        &self,
        subject: &str,
        permanent: bool,
    ) -> Result<Vec<i32>, RegistryError> {
        let mut state = self.lock();
        let s = state
            .subjects
            .get(subject)
            .filter(|s| !s.versions.is_empty())
            .ok_or_else(|| RegistryError::SubjectNotFound(subject.to_owned()))?;
        let versions: Vec<i32> = if permanent {
            if s.has_visible(false) {
                return Err(RegistryError::SubjectNotSoftDeleted(subject.to_owned()));
            }
            s.versions.keys().copied().collect()
        } else {
            if !s.has_visible(false) {
                return Err(RegistryError::SubjectSoftDeleted(subject.to_owned()));
            }
            s.visible(false).map(|(n, _)| n).collect()
        };
        if let Some(n) = versions.iter().find(|n| state.is_referenced(subject, **n)) {
            return Err(RegistryError::ReferenceExists {
                subject: subject.to_owned(),
                version: *n,
            });
        }
        self.commit(
            &mut state,
            Change::DeleteSubject {
                subject: subject.to_owned(),
                permanent,
            },
        )?;
        Ok(versions)
    }

    async fn delete_version(
        &self,
        subject: &str,
        version: Version,
        permanent: bool,
    ) -> Result<i32, RegistryError> {
        let mut state = self.lock();
        // A soft delete of `latest` names the latest live version; everything else may name a
        // soft-deleted one, so that the right error can be given.
        let lookup_deleted = permanent || matches!(version, Version::Number(_));
        let (n, v) = state.find_version(subject, version, lookup_deleted)?;
        match (permanent, v.deleted) {
            (false, true) => {
                return Err(RegistryError::VersionSoftDeleted {
                    subject: subject.to_owned(),
                    version: n,
                });
            }
            (true, false) => {
                return Err(RegistryError::VersionNotSoftDeleted {
                    subject: subject.to_owned(),
                    version: n,
                });
            }
            _ => {}
        }
        if state.is_referenced(subject, n) {
            return Err(RegistryError::ReferenceExists {
                subject: subject.to_owned(),
                version: n,
            });
        }
        self.commit(
            &mut state,
            Change::DeleteVersion {
                subject: subject.to_owned(),
                version: n,
                permanent,
            },
        )?;
        Ok(n)
    }

    async fn test_compatibility(
        &self,
        subject: &str,
        schema: &Schema,
        version: Option<Version>,
    ) -> Result<CompatibilityReport, RegistryError> {
        let schema = canonical(schema)?;
        let state = self.lock();
        let schema = state.pin_references(subject, &schema)?;
        let level = state.level_of(subject);
        let previous: Vec<u32> = match version {
            Some(version) => vec![state.find_version(subject, version, false)?.1.id],
            None => state
                .subjects
                .get(subject)
                .map(|s| s.visible(false).map(|(_, v)| v.id).collect())
                .unwrap_or_default(),
        };
        // Against one named version, the level's direction applies to that version alone.
        let level = match (version, level) {
            (Some(_), CompatibilityLevel::BackwardTransitive) => CompatibilityLevel::Backward,
            (Some(_), CompatibilityLevel::ForwardTransitive) => CompatibilityLevel::Forward,
            (Some(_), CompatibilityLevel::FullTransitive) => CompatibilityLevel::Full,
            (_, level) => level,
        };
        let inputs = state.inputs(level, &schema, &previous)?;
        drop(state);
        let messages = self.check(&inputs, &schema)?;
        Ok(CompatibilityReport {
            is_compatible: messages.is_empty(),
            messages,
        })
    }

    async fn compatibility(
        &self,
        subject: Option<&str>,
        default_to_global: bool,
    ) -> Result<CompatibilityLevel, RegistryError> {
        let state = self.lock();
        match subject {
            None => Ok(state.global),
            Some(subject) => match state.subjects.get(subject).and_then(|s| s.compatibility) {
                Some(level) => Ok(level),
                None if default_to_global => Ok(state.global),
                None => Err(RegistryError::SubjectCompatibilityNotConfigured(
                    subject.to_owned(),
                )),
            },
        }
    }

    async fn set_compatibility(
        &self,
        subject: Option<&str>,
        level: CompatibilityLevel,
    ) -> Result<CompatibilityLevel, RegistryError> {
        let mut state = self.lock();
        self.commit(
            &mut state,
            Change::SetCompatibility {
                subject: subject.map(str::to_owned),
                level,
            },
        )?;
        Ok(level)
    }

    async fn delete_compatibility(
        &self,
        subject: &str,
    ) -> Result<CompatibilityLevel, RegistryError> {
        let mut state = self.lock();
        let level = state
            .subjects
            .get(subject)
            .and_then(|s| s.compatibility)
            .ok_or_else(|| RegistryError::SubjectCompatibilityNotConfigured(subject.to_owned()))?;
        self.commit(
            &mut state,
            Change::DeleteCompatibility {
                subject: subject.to_owned(),
            },
        )?;
        Ok(level)
    }
}

#[cfg(test)]
mod tests {
    use super::minify_json;

    #[test]
    fn avro_identity_ignores_key_order_and_wrapped_primitives() {
        use super::{Schema, text_identity as identity};
        let a = Schema::avro(
            r#"{"type":"record","name":"R","fields":[{"name":"a","type":{"type":"long"}},{"type":"string","name":"b"}]}"#,
        );
        let b = Schema::avro(
            r#"{"name":"R","fields":[{"type":"long","name":"a"},{"name":"b","type":"string"}],"type":"record"}"#,
        );
        assert_eq!(identity(&a), identity(&b));
        // Field order is meaningful in Avro.
        let c = Schema::avro(
            r#"{"type":"record","name":"R","fields":[{"name":"b","type":"string"},{"name":"a","type":"long"}]}"#,
        );
        assert_ne!(identity(&a), identity(&c));
        // JSON Schema keeps its text as identity.
        let j1 = Schema::json(r#"{"a":1,"b":2}"#);
        let j2 = Schema::json(r#"{"b":2,"a":1}"#);
        assert_ne!(identity(&j1), identity(&j2));
    }

    #[test]
    fn bare_primitives_are_unwrapped() {
        use super::unwrap_avro_primitive as u;
        assert_eq!(u(r#"{"type":"string"}"#.into()), r#""string""#);
        assert_eq!(u(r#"{"type":"record"}"#.into()), r#"{"type":"record"}"#);
        assert_eq!(
            u(r#"{"type":"string","logicalType":"uuid"}"#.into()),
            r#"{"type":"string","logicalType":"uuid"}"#
        );
    }

    #[test]
    fn minify_keeps_strings_and_order() {
        assert_eq!(
            minify_json("{ \"b\" : [1, 2],\n \"a\": \"x y \\\" z\" }"),
            "{\"b\":[1,2],\"a\":\"x y \\\" z\"}"
        );
    }
}
