//! Registry errors, with Confluent's error codes.

/// What went wrong talking to a schema registry. Variants that mirror a Confluent error carry its
/// code in [`RegistryError::error_code`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// 40401: the subject does not exist.
    #[error("Subject '{0}' not found.")]
    SubjectNotFound(String),
    /// 40402: the subject has no such version.
    #[error("Version {version} not found for subject '{subject}'.")]
    VersionNotFound {
        /// The subject.
        subject: String,
        /// The version asked for.
        version: String,
    },
    /// 40403: no schema with that id, GUID, or text under the subject.
    #[error("Schema not found: {0}")]
    SchemaNotFound(String),
    /// 409: the schema is incompatible with earlier versions under the subject's level.
    #[error("Schema being registered is incompatible with an earlier schema for subject '{subject}': {}", messages.join("; "))]
    Incompatible {
        /// The subject.
        subject: String,
        /// One message per broken rule, naming the field.
        messages: Vec<String>,
    },
    /// 42201: the schema does not parse or is otherwise invalid.
    #[error("Invalid schema: {0}")]
    InvalidSchema(String),
    /// 42202: not a version number (or `latest`).
    #[error(
        "The specified version '{0}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\""
    )]
    InvalidVersion(String),
    /// 42203: not a compatibility level.
    #[error("Invalid compatibility level: {0}")]
    InvalidCompatibilityLevel(String),
}

impl RegistryError {
    /// Confluent's `error_code` for this error.
    pub fn error_code(&self) -> u32 {
        match self {
            RegistryError::SubjectNotFound(_) => 40401,
            RegistryError::VersionNotFound { .. } => 40402,
            RegistryError::SchemaNotFound(_) => 40403,
            RegistryError::Incompatible { .. } => 409,
            RegistryError::InvalidSchema(_) => 42201,
            RegistryError::InvalidVersion(_) => 42202,
            RegistryError::InvalidCompatibilityLevel(_) => 42203,
        }
    }
}
