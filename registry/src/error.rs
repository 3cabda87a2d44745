//! Registry errors, with Confluent's error codes.

/// A boxed error kept as the source of a transport failure.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What went wrong talking to a schema registry. Variants that mirror a Confluent error carry its
/// code in [`RegistryError::error_code`] and its HTTP status in [`RegistryError::http_status`].
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
    /// 40403: no schema with that id, GUID, or text under the subject. Carries the whole
    /// message, in Confluent's words: `Schema 999 not found` for an id or GUID, `Schema not
    /// found` for a lookup by text (see [`RegistryError::schema_not_found`]).
    #[error("{0}")]
    SchemaNotFound(String),
    /// 40404: the subject was soft-deleted; only a permanent delete applies now.
    #[error("Subject '{0}' was soft deleted. Set permanent=true to delete permanently")]
    SubjectSoftDeleted(String),
    /// 40405: a permanent delete of a subject that was not soft-deleted first.
    #[error("Subject '{0}' was not deleted first before being permanently deleted")]
    SubjectNotSoftDeleted(String),
    /// 40406: the version was soft-deleted; only a permanent delete applies now.
    #[error(
        "Subject '{subject}' Version {version} was soft deleted. Set permanent=true to delete permanently"
    )]
    VersionSoftDeleted {
        /// The subject.
        subject: String,
        /// The version.
        version: i32,
    },
    /// 40407: a permanent delete of a version that was not soft-deleted first.
    #[error(
        "Subject '{subject}' Version {version} was not deleted first before being permanently deleted"
    )]
    VersionNotSoftDeleted {
        /// The subject.
        subject: String,
        /// The version.
        version: i32,
    },
    /// 40408: the subject has no compatibility level of its own (and the global one was not asked for).
    #[error("Subject '{0}' does not have subject-level compatibility configured")]
    SubjectCompatibilityNotConfigured(String),
    /// 409: the schema is incompatible with earlier versions under the subject's level.
    #[error("Schema being registered is incompatible with an earlier schema for subject '{subject}': {}", messages.join("; "))]
    Incompatible {
        /// The subject.
        subject: String,
        /// One message per broken rule, naming the field.
        messages: Vec<String>,
    },
    /// 42201: the schema does not parse or is otherwise invalid (including unresolvable references).
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
    /// 42206: the schema version is referenced by another schema and cannot be deleted.
    #[error("One or more references exist to the schema {{subject={subject},version={version}}}")]
    ReferenceExists {
        /// The subject of the referenced schema.
        subject: String,
        /// Its version.
        version: i32,
    },
    /// An error a registry answered with that has no variant of its own (for example 401
    /// unauthorized, 50001 store error), as `{"error_code", "message"}` with its HTTP status.
    #[error("Schema registry error {error_code} (HTTP {status}): {message}")]
    Server {
        /// The HTTP status.
        status: u16,
        /// Confluent's `error_code` (the HTTP status when the body carried none).
        error_code: u32,
        /// The registry's message.
        message: String,
    },
    /// The request could not be sent or its answer not received (connection refused, TLS,
    /// timeout...).
    #[error("Request to schema registry {url} failed")]
    Transport {
        /// The URL that was tried (the last one, when several base URLs were tried).
        url: String,
        /// What failed.
        #[source]
        source: BoxError,
    },
    /// The registry answered something that is not the expected JSON.
    #[error("Unexpected response from schema registry {url} (HTTP {status})")]
    InvalidResponse {
        /// The URL asked.
        url: String,
        /// The HTTP status.
        status: u16,
        /// Why it could not be read.
        #[source]
        source: BoxError,
    },
    /// The registry's storage (such as the dev server's journal) failed.
    #[error("Schema registry storage failed: {context}")]
    Storage {
        /// What was being done.
        context: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A record subject name strategy was asked for the subject of a schema that is not a named
    /// record.
    #[error(
        "{strategy} needs a named record schema (an Avro record, a Protobuf message, a JSON Schema with a title)"
    )]
    NotARecord {
        /// Confluent's name of the strategy.
        strategy: &'static str,
    },
    /// A client-side configuration problem (bad base URL, bad TLS certificate...).
    #[error("Invalid schema registry configuration: {0}")]
    Config(String),
}

/// The message of a 42208 answer, as Confluent's `RestInvalidSubjectException` words it (its
/// grammar included).
pub(crate) fn invalid_subject(subject: &str) -> String {
    format!("The specified subject '{subject}' is not a valid.")
}

/// The text of an error's source chain, each cause once, for a copy of the error.
#[cfg(feature = "http")]
fn chain_text(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

impl RegistryError {
    /// A copy of this error for another caller waiting on the same request: the same variant and
    /// fields, with a source (if any) kept as its text.
    #[cfg(feature = "http")]
    pub(crate) fn duplicate(&self) -> RegistryError {
        use RegistryError::*;
        let boxed =
            |e: &BoxError| -> BoxError { Box::new(std::io::Error::other(chain_text(&**e))) };
        match self {
            SubjectNotFound(s) => SubjectNotFound(s.clone()),
            VersionNotFound { subject, version } => VersionNotFound {
                subject: subject.clone(),
                version: version.clone(),
            },
            SchemaNotFound(s) => SchemaNotFound(s.clone()),
            SubjectSoftDeleted(s) => SubjectSoftDeleted(s.clone()),
            SubjectNotSoftDeleted(s) => SubjectNotSoftDeleted(s.clone()),
            VersionSoftDeleted { subject, version } => VersionSoftDeleted {
                subject: subject.clone(),
                version: *version,
            },
            VersionNotSoftDeleted { subject, version } => VersionNotSoftDeleted {
                subject: subject.clone(),
                version: *version,
            },
            SubjectCompatibilityNotConfigured(s) => SubjectCompatibilityNotConfigured(s.clone()),
            Incompatible { subject, messages } => Incompatible {
                subject: subject.clone(),
                messages: messages.clone(),
            },
            InvalidSchema(s) => InvalidSchema(s.clone()),
            InvalidVersion(s) => InvalidVersion(s.clone()),
            InvalidCompatibilityLevel(s) => InvalidCompatibilityLevel(s.clone()),
            ReferenceExists { subject, version } => ReferenceExists {
                subject: subject.clone(),
                version: *version,
            },
            Server {
                status,
                error_code,
                message,
            } => Server {
                status: *status,
                error_code: *error_code,
                message: message.clone(),
            },
            Transport { url, source } => Transport {
                url: url.clone(),
                source: boxed(source),
            },
            InvalidResponse {
                url,
                status,
                source,
            } => InvalidResponse {
                url: url.clone(),
                status: *status,
                source: boxed(source),
            },
            Storage { context, source } => Storage {
                context: context.clone(),
                source: std::io::Error::new(source.kind(), chain_text(source)),
            },
            NotARecord { strategy } => NotARecord { strategy },
            Config(s) => Config(s.clone()),
        }
    }
    /// 40403 for an id or GUID, worded as Confluent's registry words it: `Schema 999 not found`.
    ///
    /// ```
    /// use kcodec_registry::RegistryError;
    /// assert_eq!(RegistryError::schema_not_found(999).to_string(), "Schema 999 not found");
    /// ```
    pub fn schema_not_found(id: impl std::fmt::Display) -> Self {
        RegistryError::SchemaNotFound(format!("Schema {id} not found"))
    }

    /// Confluent's `error_code` for this error. Errors that do not come from a registry answer
    /// use Confluent's server-side codes for the nearest case: 50001 for storage, transport,
    /// response and configuration failures.
    pub fn error_code(&self) -> u32 {
        match self {
            RegistryError::SubjectNotFound(_) => 40401,
            RegistryError::VersionNotFound { .. } => 40402,
            RegistryError::SchemaNotFound(_) => 40403,
            RegistryError::SubjectSoftDeleted(_) => 40404,
            RegistryError::SubjectNotSoftDeleted(_) => 40405,
            RegistryError::VersionSoftDeleted { .. } => 40406,
            RegistryError::VersionNotSoftDeleted { .. } => 40407,
            RegistryError::SubjectCompatibilityNotConfigured(_) => 40408,
            RegistryError::Incompatible { .. } => 409,
            RegistryError::InvalidSchema(_) => 42201,
            RegistryError::InvalidVersion(_) => 42202,
            RegistryError::InvalidCompatibilityLevel(_) => 42203,
            RegistryError::ReferenceExists { .. } => 42206,
            RegistryError::Server { error_code, .. } => *error_code,
            RegistryError::Transport { .. }
            | RegistryError::InvalidResponse { .. }
            | RegistryError::Storage { .. }
            | RegistryError::Config(_)
            | RegistryError::NotARecord { .. } => 50001,
        }
    }

    /// The HTTP status a Confluent registry answers this error with.
    pub fn http_status(&self) -> u16 {
        match self {
            RegistryError::Server { status, .. } => *status,
            RegistryError::Incompatible { .. } => 409,
            other => match other.error_code() {
                40400..=40499 => 404,
                42200..=42299 => 422,
                _ => 500,
            },
        }
    }

    /// Builds the typed error for a registry's `{"error_code", "message"}` answer to a request
    /// about `subject` (and `version`, where the request named one). Known codes become their
    /// variants; unknown codes become [`RegistryError::Server`], keeping status, code and message.
    pub fn from_response(
        status: u16,
        error_code: u32,
        message: String,
        subject: Option<&str>,
        version: Option<i32>,
    ) -> Self {
        let subject_or_message = || {
            subject
                .map(str::to_owned)
                .unwrap_or_else(|| message.clone())
        };
        match (error_code, subject, version) {
            (40401, _, _) => RegistryError::SubjectNotFound(subject_or_message()),
            (40402, Some(subject), _) => RegistryError::VersionNotFound {
                subject: subject.to_owned(),
                version: version.map_or_else(|| "latest".to_owned(), |v| v.to_string()),
            },
            (40403, _, _) => RegistryError::SchemaNotFound(message),
            (40404, _, _) => RegistryError::SubjectSoftDeleted(subject_or_message()),
            (40405, _, _) => RegistryError::SubjectNotSoftDeleted(subject_or_message()),
            (40406, Some(subject), Some(version)) => RegistryError::VersionSoftDeleted {
                subject: subject.to_owned(),
                version,
            },
            (40407, Some(subject), Some(version)) => RegistryError::VersionNotSoftDeleted {
                subject: subject.to_owned(),
                version,
            },
            (40408, _, _) => RegistryError::SubjectCompatibilityNotConfigured(subject_or_message()),
            (409, _, _) => RegistryError::Incompatible {
                subject: subject.unwrap_or_default().to_owned(),
                messages: vec![message],
            },
            (42201, _, _) => RegistryError::InvalidSchema(message),
            (42202, _, _) => RegistryError::InvalidVersion(message),
            (42203, _, _) => RegistryError::InvalidCompatibilityLevel(message),
            (42206, Some(subject), Some(version)) => RegistryError::ReferenceExists {
                subject: subject.to_owned(),
                version,
            },
            _ => RegistryError::Server {
                status,
                error_code,
                message,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    /// A message never repeats its source's: error-chain printers show each cause once.
    #[test]
    fn messages_do_not_repeat_their_sources() {
        let io = || std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused by peer");
        let errors = [
            RegistryError::Transport {
                url: "http://localhost:1".into(),
                source: Box::new(io()),
            },
            RegistryError::InvalidResponse {
                url: "http://localhost:1/schemas/ids/1".into(),
                status: 200,
                source: Box::new(serde_json::from_str::<u32>("{").unwrap_err()),
            },
            RegistryError::Storage {
                context: "appending to the journal".into(),
                source: io(),
            },
        ];
        for error in &errors {
            let source = error.source().expect("the cause is the source");
            let (outer, inner) = (error.to_string(), source.to_string());
            assert!(!outer.contains(&inner), "'{outer}' repeats '{inner}'");
        }
    }
}
