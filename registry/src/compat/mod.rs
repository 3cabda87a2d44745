//! Local schema compatibility checks, no server needed.
//!
//! [`check`] applies a [`CompatibilityLevel`] the way Confluent Schema Registry does:
//!
//! * `BACKWARD`: the new schema (reader) can read data written with the previous one (writer);
//! * `FORWARD`: the previous schema (reader) can read data written with the new one (writer);
//! * `FULL`: both;
//! * the `_TRANSITIVE` forms check against every earlier version instead of only the latest;
//! * `NONE`: no check.
//!
//! The per-format rules are listed in [`avro`], [`protobuf`] and [`json`]. Every message names the
//! direction, the field or element that broke and what broke, for example
//! `backward: field 'User.email': reader field has no default and is missing in writer`.
//!
//! [`assert_compatible`] turns the check into a one-line test for users' CI:
//!
//! ```
//! use kcodec_registry::Schema;
//! use kcodec_registry::compat::{assert_compatible, Level};
//!
//! let v1 = Schema::avro(r#"{"type":"record","name":"User","fields":[{"name":"id","type":"int"}]}"#);
//! let v2 = Schema::avro(
//!     r#"{"type":"record","name":"User","fields":[{"name":"id","type":"long"},
//!        {"name":"email","type":"string","default":""}]}"#,
//! );
//! assert_compatible(&v1, &v2, Level::Backward);
//! ```

pub mod avro;
pub mod json;
pub mod protobuf;

use crate::{CompatibilityLevel, RegistryError, Schema, SchemaType};

/// Short name for [`CompatibilityLevel`], as in `assert_compatible(old, new, Level::Backward)`.
pub use crate::CompatibilityLevel as Level;

/// Resolves a schema's references to the referenced schemas' texts, for Protobuf imports and
/// Avro/JSON named references. Maps a reference *name* to the referenced schema.
pub type References = std::collections::BTreeMap<String, Schema>;

/// A schema together with everything it references (transitively), ready to check.
#[derive(Debug, Clone, Copy)]
pub struct Resolved<'a> {
    /// The schema itself.
    pub schema: &'a Schema,
    /// The schemas it references, by reference name, transitively.
    pub references: &'a References,
}

/// The most steps one reader/writer comparison may take (a step is one pair of schema nodes
/// compared, or a few bytes of message). A comparison that needs more stops with [`Exhausted`],
/// which the registry answers as a 422 naming the limit.
pub const WORK_BUDGET: u64 = 500_000;

/// The most steps all comparisons of one [`check`] may take together (a transitive level checks
/// against every earlier schema): the registry's work per request is bounded whatever the
/// number of versions.
pub const CHECK_BUDGET: u64 = 4 * WORK_BUDGET;

/// The most messages [`check`] returns; more are summed up in one last message.
pub const MAX_MESSAGES: usize = 100;

/// How many of its messages a comparison repeats when the same pair of types is met again.
pub const MEMO_MESSAGES: usize = 4;

/// A comparison needed more than [`WORK_BUDGET`] steps, or a check more than [`CHECK_BUDGET`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the compatibility check needs more than its work budget ({WORK_BUDGET} steps per \
     comparison, {CHECK_BUDGET} in all)"
)]
pub struct Exhausted;

/// The steps a comparison has taken, and how many it may take.
#[derive(Debug)]
struct Budget {
    spent: u64,
    limit: u64,
}

impl Default for Budget {
    fn default() -> Self {
        Budget::with_limit(WORK_BUDGET)
    }
}

impl Budget {
    fn with_limit(limit: u64) -> Self {
        Budget { spent: 0, limit }
    }
    /// Takes one step; false once the budget is spent.
    fn spend(&mut self) -> bool {
        self.spent += 1;
        !self.exhausted()
    }
    /// Accounts for a message's size.
    fn spend_message(&mut self, message: &str) {
        self.spent += 1 + message.len() as u64 / 4;
    }
    fn exhausted(&self) -> bool {
        self.spent > self.limit
    }
    fn result(&self, errors: Vec<String>) -> Result<Vec<String>, Exhausted> {
        if self.exhausted() {
            Err(Exhausted)
        } else {
            Ok(errors)
        }
    }
}

/// A schema parsed once for the checks, in the form its format's checker needs.
enum Parsed {
    Avro(avro::AvroSchema),
    Protobuf(protobuf::ProtoSchema),
    Json(json::JsonSchema),
}

fn parse(resolved: Resolved<'_>) -> Result<Parsed, RegistryError> {
    Ok(match resolved.schema.schema_type {
        SchemaType::Avro => Parsed::Avro(avro::AvroSchema::parse(resolved)?),
        SchemaType::Protobuf => Parsed::Protobuf(protobuf::ProtoSchema::parse(resolved)?),
        SchemaType::Json => Parsed::Json(json::JsonSchema::parse(resolved)?),
    })
}

/// Messages for data written with `writer` and read with `reader`, taking at most
/// [`WORK_BUDGET`] steps and no more than `left` (which the steps taken are taken from).
fn can_read(
    reader: &Parsed,
    writer: &Parsed,
    left: &mut u64,
) -> Result<Vec<String>, RegistryError> {
    let mut budget = Budget::with_limit(WORK_BUDGET.min(*left));
    let result = match (reader, writer) {
        (Parsed::Avro(r), Parsed::Avro(w)) => avro::can_read_within(r, w, &mut budget),
        (Parsed::Protobuf(r), Parsed::Protobuf(w)) => protobuf::can_read_within(r, w, &mut budget),
        (Parsed::Json(r), Parsed::Json(w)) => json::can_read_within(r, w, &mut budget),
        _ => Ok(vec![format!(
            "schema type changed from {} to {}",
            kind(writer),
            kind(reader)
        )]),
    };
    *left = left.saturating_sub(budget.spent);
    result.map_err(|e| {
        RegistryError::InvalidSchema(format!(
            "{e} against an earlier schema; the schema is too complex to check, simplify it"
        ))
    })
}

fn kind(p: &Parsed) -> SchemaType {
    match p {
        Parsed::Avro(_) => SchemaType::Avro,
        Parsed::Protobuf(_) => SchemaType::Protobuf,
        Parsed::Json(_) => SchemaType::Json,
    }
}

/// Checks `new` against `previous` (oldest first) under `level`. Non-transitive levels check only
/// the last of `previous`. Returns one message per broken rule (empty = compatible). A schema that
/// does not parse is an [`crate::RegistryError::InvalidSchema`].
///
/// Messages start with the direction that broke (`backward:` = the new schema cannot read data
/// of an earlier one, `forward:` = an earlier schema cannot read data of the new one); under a
/// transitive level with more than one earlier schema they also name which earlier version (counted
/// from 1, oldest first).
///
/// ```
/// use kcodec_registry::{CompatibilityLevel, Schema};
/// use kcodec_registry::compat::{check, References, Resolved};
///
/// let none = References::new();
/// let old = Schema::avro(r#"{"type":"record","name":"User","fields":[{"name":"id","type":"int"}]}"#);
/// let new = Schema::avro(
///     r#"{"type":"record","name":"User","fields":[{"name":"id","type":"int"},
///        {"name":"email","type":"string"}]}"#,
/// );
/// let msgs = check(
///     CompatibilityLevel::Backward,
///     Resolved { schema: &new, references: &none },
///     &[Resolved { schema: &old, references: &none }],
/// )
/// .unwrap();
/// assert_eq!(
///     msgs,
///     ["backward: field 'User.email': reader field has no default and is missing in writer"]
/// );
/// ```
pub fn check(
    level: CompatibilityLevel,
    new: Resolved<'_>,
    previous: &[Resolved<'_>],
) -> Result<Vec<String>, RegistryError> {
    // A schema that does not parse is rejected whatever the level, as the registry would.
    let new_parsed = parse(new)?;
    // and a new JSON Schema must be one (as Confluent's `JsonSchema.validate()` on registration)
    if let Parsed::Json(schema) = &new_parsed {
        schema.validate()?;
    }
    if level == CompatibilityLevel::None || previous.is_empty() {
        return Ok(Vec::new());
    }
    let start = if level.is_transitive() {
        0
    } else {
        previous.len() - 1
    };
    let name_versions = level.is_transitive() && previous.len() > 1;
    let mut messages = Vec::new();
    let mut left = CHECK_BUDGET;
    for (index, old) in previous.iter().enumerate().skip(start) {
        let old_parsed = parse(*old)?;
        let suffix = if name_versions {
            format!(
                " (against earlier schema {} of {})",
                index + 1,
                previous.len()
            )
        } else {
            String::new()
        };
        if level.checks_backward() {
            for m in can_read(&new_parsed, &old_parsed, &mut left)? {
                messages.push(format!("backward{suffix}: {m}"));
            }
        }
        if level.checks_forward() {
            for m in can_read(&old_parsed, &new_parsed, &mut left)? {
                messages.push(format!("forward{suffix}: {m}"));
            }
        }
    }
    if messages.len() > MAX_MESSAGES {
        let more = messages.len() - MAX_MESSAGES;
        messages.truncate(MAX_MESSAGES);
        messages.push(format!("… and {more} more messages left out"));
    }
    Ok(messages)
}

/// Checks `new` against `old` (both without references) under `level` and returns one message
/// per broken rule; empty means compatible. Does not panic.
///
/// ```
/// use kcodec_registry::Schema;
/// use kcodec_registry::compat::{compatibility_errors, Level};
///
/// let old = Schema::json(r#"{"type":"object","properties":{"n":{"type":"integer"}}}"#);
/// let new = Schema::json(r#"{"type":"object","properties":{"n":{"type":"string"}}}"#);
/// let errors = compatibility_errors(&old, &new, Level::Backward).unwrap();
/// assert!(errors[0].contains("'#/properties/n'"), "{errors:?}");
/// ```
pub fn compatibility_errors(
    old: &Schema,
    new: &Schema,
    level: CompatibilityLevel,
) -> Result<Vec<String>, RegistryError> {
    let none = References::new();
    check(
        level,
        Resolved {
            schema: new,
            references: &none,
        },
        &[Resolved {
            schema: old,
            references: &none,
        }],
    )
}

/// Whether `new` is compatible with `old` (both without references) under `level`. Does not
/// panic; a schema that does not parse is an error.
///
/// ```
/// use kcodec_registry::Schema;
/// use kcodec_registry::compat::{is_compatible, Level};
///
/// let old = Schema::avro(r#""int""#);
/// let new = Schema::avro(r#""long""#);
/// assert!(is_compatible(&old, &new, Level::Backward).unwrap());
/// assert!(!is_compatible(&old, &new, Level::Forward).unwrap());
/// ```
pub fn is_compatible(
    old: &Schema,
    new: &Schema,
    level: CompatibilityLevel,
) -> Result<bool, RegistryError> {
    Ok(compatibility_errors(old, new, level)?.is_empty())
}

/// Panics, listing every broken rule, unless `new` is compatible with `old` under `level`, or if
/// either schema does not parse. Meant for users' tests (a CI check that a schema change is safe).
///
/// ```
/// use kcodec_registry::Schema;
/// use kcodec_registry::compat::{assert_compatible, Level};
///
/// let old = Schema::protobuf("syntax = \"proto3\"; message M { int32 a = 1; }");
/// let new = Schema::protobuf("syntax = \"proto3\"; message M { int64 a = 1; string b = 2; }");
/// assert_compatible(&old, &new, Level::Full);
/// ```
///
/// ```should_panic
/// use kcodec_registry::Schema;
/// use kcodec_registry::compat::{assert_compatible, Level};
///
/// let old = Schema::protobuf("syntax = \"proto3\"; message M { int32 a = 1; }");
/// let new = Schema::protobuf("syntax = \"proto3\"; message M { string a = 1; }");
/// assert_compatible(&old, &new, Level::Backward); // panics: field 'M.a' changed type
/// ```
#[track_caller]
pub fn assert_compatible(old: &Schema, new: &Schema, level: CompatibilityLevel) {
    match compatibility_errors(old, new, level) {
        Ok(errors) if errors.is_empty() => {}
        Ok(errors) => panic!(
            "schema is not {level} compatible:\n  - {}",
            errors.join("\n  - ")
        ),
        Err(e) => panic!("schema compatibility could not be checked: {e}"),
    }
}
