//! Confluent-compatible schema registry for kcodec.
//!
//! - [`SchemaRegistry`]: the async trait every registry implements (object-safe; hold an
//!   `Arc<dyn SchemaRegistry>`): register, look up, fetch by id or GUID, list subjects and
//!   versions, delete (soft and permanent), test compatibility, get and set compatibility levels.
//! - [`InMemoryRegistry`]: Confluent's semantics in memory, thread-safe. Same schema twice under a
//!   subject → same id and version; ids global (the same schema under two subjects shares its id);
//!   versions per subject from 1; incompatible schemas refused per the subject's level (default
//!   `BACKWARD`, checked by [`compat`]); soft-deleted versions hidden but keeping their ids;
//!   permanent deletes only after soft ones; referenced schemas cannot be deleted (42206).
//! - [`http::HttpRegistry`] (feature `http`): a client for Confluent, Redpanda, Karapace,
//!   Apicurio's `ccompat` API and the dev server, with caches and several base URLs.
//! - [`server`] (feature `server`): the dev server, Confluent's REST API over the in-memory
//!   registry with an optional append-only journal; `kcodec registry serve` runs it.
//! - [`strategy`]: the subject name strategy trait and the built-in strategies (`TopicNameStrategy`, `RecordNameStrategy`,
//!   `TopicRecordNameStrategy`) with Confluent's exact subject strings.
//! - [`compat`]: local compatibility checks, no server needed.
//! - [`avro_type`]: the base type of an apache-avro schema node (logical types folded into the
//!   types they annotate), shared with kcodec-codecs' Avro codec.
//!
//! ```
//! use kcodec_registry::{InMemoryRegistry, Schema, SchemaRegistry};
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let registry = InMemoryRegistry::new();
//! let v1 = Schema::avro(r#"{"type":"record","name":"User","fields":[{"name":"name","type":"string"}]}"#);
//! let a = registry.register("users-value", &v1, false).await?;
//! let b = registry.register("orders-value", &v1, false).await?;
//! assert_eq!(a.id, b.id); // ids are global
//! assert_eq!((a.version, b.version), (1, 1)); // versions are per subject
//! # Ok::<(), kcodec_registry::RegistryError>(())
//! # }).unwrap();
//! ```
//!
//! # Endpoints the dev server serves
//!
//! Requests and answers use `application/vnd.schemaregistry.v1+json` (any JSON request body is
//! accepted whatever its content type). Errors answer `{"error_code": N, "message": "..."}` with
//! Confluent's codes: 40401 subject not found, 40402 version not found, 40403 schema not found,
//! 40404 subject soft-deleted, 40405 subject not soft-deleted first, 40406 version soft-deleted,
//! 40407 version not soft-deleted first, 40408 no subject-level compatibility, 40409 no
//! subject-level mode, 409 incompatible,
//! 42201 invalid schema (including unresolvable references), 42202 invalid version, 42203
//! invalid compatibility level, 42206 referenced schema, 401 unauthorized, 400 unreadable body,
//! 413 body too large, 404 unknown path. Boolean query parameters accept `true`, `True` and `1`.
//!
//! | Method and path | Query parameters acted on | Answer |
//! |---|---|---|
//! | `GET /` | | `{}` |
//! | `POST /subjects/{s}/versions` | `normalize` | registers: `{id, guid, subject, version, schema, schemaType?, references?}` |
//! | `POST /subjects/{s}` | `deleted`, `normalize`, `format` | looks up: `{subject, version, id, guid, schema, ...}` |
//! | `GET /subjects/{s}/metadata` | `deleted` (`key`, `value`, `format` accepted) | no metadata is kept, so as Confluent answers for versions without metadata: 40401 for an unknown subject, else 40403 |
//! | `GET /subjects` | `deleted`, `deleted_only`/`deletedOnly`, `subjectPrefix`, `offset`, `limit` | `["s", ...]` sorted |
//! | `GET /subjects/{s}/versions` | `deleted`, `deleted_only`/`deletedOnly`, `offset`, `limit` | `[1, 2, ...]` |
//! | `GET /subjects/{s}/versions/{n\|latest\|-1}` | `deleted`, `format` | `{subject, version, id, guid, schema, schemaType?, references?}` |
//! | `GET /subjects/{s}/versions/{n\|latest}/schema` | `deleted`, `format` | the schema text alone |
//! | `GET /subjects/{s}/versions/{n\|latest}/referencedby` | `offset`, `limit` | ids of schemas referencing it |
//! | `DELETE /subjects/{s}` | `permanent` | versions deleted |
//! | `DELETE /subjects/{s}/versions/{n\|latest}` | `permanent` | the version deleted |
//! | `GET /schemas` | `subjectPrefix`, `deleted`, `latestOnly`, `offset`, `limit` | `[{subject, version, id, guid, schema, schemaType?, references?}, ...]` by subject then version; `latestOnly` keeps the last version listed per subject; a `limit` absent, not positive or over 1000 means 1000 (Confluent's default `schema.search.*.limit`) |
//! | `GET /schemas/ids/{id}` | `format`, `fetchMaxId` (`subject` accepted) | `{schema, schemaType?, references?, guid, maxId?}` |
//! | `GET /schemas/ids/{id}/schema` | `format` | the schema text alone |
//! | `GET /schemas/ids/{id}/subjects` | `deleted`, `subject`, `offset`, `limit` | subjects using the id |
//! | `GET /schemas/ids/{id}/versions` | `deleted`, `subject`, `offset`, `limit` | `[{subject, version}, ...]` |
//! | `GET /schemas/guids/{guid}` | `format` | `{schema, schemaType?, references?, guid}` |
//! | `GET /schemas/types` | | `["JSON", "PROTOBUF", "AVRO"]` |
//! | `POST /compatibility/subjects/{s}/versions` | `verbose` (`normalize` accepted) | `{is_compatible, messages?}` against the versions the subject's level names |
//! | `POST /compatibility/subjects/{s}/versions/{n\|latest}` | `verbose` (`normalize` accepted) | `{is_compatible, messages?}` against that version |
//! | `GET /config` | (`defaultToGlobal` accepted) | `{compatibilityLevel}` |
//! | `PUT /config` | | body: any of Confluent's config fields, all optional (`{}` too); sets the level if it carries one → `{compatibility}` in force |
//! | `DELETE /config` | | resets the global level to `BACKWARD`; `{compatibilityLevel}` it had |
//! | `GET /config/{s}` | `defaultToGlobal` | `{compatibilityLevel}`, or 40408 |
//! | `PUT /config/{s}` | | body: any of Confluent's config fields, all optional; sets the level if it carries one → `{compatibility}` of the subject's own level (`{}` when it has none) |
//! | `DELETE /config/{s}` | | `{compatibilityLevel}` it had, or 40408 |
//! | `GET /mode` | | `{"mode": "READWRITE"}` |
//! | `GET /mode/{s}` | `defaultToGlobal` | `{"mode": "READWRITE"}` with `defaultToGlobal`, else 40409 (no subject has a mode of its own) |
//! | `GET /contexts` | | `["."]` |
//!
//! For Protobuf schemas, `format` (Confluent's clients send `format=serialized`, meaning the
//! base64 `FileDescriptorProto`) is passed to the server's [`server::ProtobufFormat`] hook with
//! the schema's resolved imports; the default hook answers the stored text, which is already
//! that base64 form when the schema was registered by Confluent's serializers. The Protobuf
//! codec supplies the `.proto` → descriptor conversion.
//!
//! # How it differs from Confluent's Schema Registry
//!
//! - **Schema identity.** Confluent parses schemas and compares canonical forms. kcodec
//!   compares Avro schemas as JSON with object keys in sorted order and `{"type": "<primitive>"}`
//!   read as `"<primitive>"` (so key order and whitespace do not matter, field order does, as in
//!   Confluent), JSON Schema texts with insignificant whitespace removed (key order matters),
//!   and Protobuf schemas parsed, imports resolved through the references: `.proto` texts that
//!   differ in layout or comments and the base64 `FileDescriptorProto` of the same file (what
//!   Confluent's serializers register) are one schema, with one id and, under a subject, one
//!   version (see [`compat::protobuf::ProtoSchema::canonical_descriptor`]). References are part
//!   of the identity. `normalize` is accepted but normalizes no further (Confluent's
//!   normalization also sorts a Protobuf file's imports, options, and fields by number). The text stored, and answered
//!   for an id or a version, is the first one registered, minified (Avro, JSON Schema) or as sent
//!   (Protobuf: `.proto` text or base64 descriptor, whichever came first), not Confluent's
//!   printed form. Registering and looking up answer a Protobuf schema in the form sent (Confluent
//!   answers the canonical form of the schema sent; clients such as Confluent's Python one cache
//!   that answer as the schema of the id and expect it in the form they sent).
//! - **Compatibility** is decided by the local [`compat`] checks, not Confluent's Java code;
//!   messages differ in wording.
//! - **JSON Schema validation** on registration (and compatibility tests), as Confluent's
//!   `JsonSchema.validate()`: the `jsonschema` crate checks the schema against its meta-schema
//!   and resolves its `$ref`s (locally and to its references, never over the network), and a
//!   `$ref` leading back to itself through `$ref`s only is refused; 42201, messages worded by
//!   that crate.
//! - **Not supported:** modes (`READONLY`, `IMPORT`: no `PUT /mode`; a register request's `id`
//!   is answered as Confluent answers it in `READWRITE`: the registration it names when the
//!   schema is already under the subject with that id, else 42205; a `version` other than the
//!   subject's next is 42201 — checked before, not after, compatibility — and the next version
//!   of a schema already under the subject answers its registration, where Confluent registers
//!   it again), schema contexts (a `:.ctx:subject` is an ordinary subject name), data
//!   contracts (`metadata` and `ruleSet` in requests are accepted and ignored, never returned),
//!   config fields other than the compatibility level (`normalize`, `alias`,
//!   `compatibilityGroup`, default/override metadata and rule sets are accepted by `PUT
//!   /config` and ignored, so never answered back, and `GET
//!   /subjects/{s}/metadata` never finds a version), exporters, and the `/associations` and `/dek-registry` APIs.
//! - **GUIDs** are random (UUID v4) per distinct schema, kept in the journal.
//! - **Permanently deleted schemas:** once no version of any subject uses an id, `GET
//!   /schemas/ids/{id}` answers 40403; registering the same schema again gives back its old id
//!   and GUID — except with a journal, which removes the schema's text from disk (compaction)
//!   and so forgets it: it comes back under a new id. Its old id is never given to another
//!   schema.
//! - **Soft delete of `latest`** deletes the latest live version.
//! - **Storage** is a single process: the in-memory state, optionally an append-only journal file
//!   (locked against a second server; checksummed lines fsynced under the registry's lock, so
//!   writes are serialized; a failed append rolled back; compacted on start and after permanent
//!   deletes — see `server::journal`). No Kafka topic, no leader election, no forwarding.
//! - **Errors** of the HTTP layer (unreadable body 400, cross-origin write or foreign `Host` 403,
//!   unknown path 404, wrong method 405, body too slow 408, body too large 413, unsupported
//!   body type 415, unauthorized 401) use the HTTP status as `error_code`; message texts differ
//!   from Confluent's while the codes match. A subject with a control character is 42208, worded
//!   as Confluent's.
//! - **Bounded work**: a compatibility check stops after [`compat::WORK_BUDGET`] steps per
//!   comparison and [`compat::CHECK_BUDGET`] in all (422, 42201) and answers at most
//!   [`compat::MAX_MESSAGES`] messages.

#![warn(missing_docs)]

mod api;
pub mod avro_type;
pub mod compat;
mod error;
pub mod memory;
pub mod strategy;
mod types;

pub use api::{CompatibilityReport, SchemaRegistry};
pub use error::{BoxError, RegistryError};
pub use memory::InMemoryRegistry;
pub use types::*;

#[cfg(feature = "http")]
pub mod http;

/// Percent-decodes URL text (invalid escapes stay as they are).
#[cfg(any(feature = "http", feature = "server"))]
fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}
#[cfg(feature = "server")]
pub mod server;
