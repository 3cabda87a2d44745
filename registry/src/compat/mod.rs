//! Local schema compatibility checks, no server needed. (Work in progress: the compatibility
//! helper fills in the Avro, Protobuf and JSON Schema rules behind this API.)

use crate::{CompatibilityLevel, Schema};

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

/// Checks `new` against `previous` (oldest first) under `level`. Non-transitive levels check only
/// the last of `previous`. Returns one message per broken rule (empty = compatible). A schema that
/// does not parse is an [`crate::RegistryError::InvalidSchema`].
pub fn check(
    level: CompatibilityLevel,
    new: Resolved<'_>,
    previous: &[Resolved<'_>],
) -> Result<Vec<String>, crate::RegistryError> {
    let _ = (level, new, previous);
    Ok(Vec::new())
}
