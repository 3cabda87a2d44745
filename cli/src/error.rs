//! The CLI's error type: one variant per failing layer, sources kept, printed as a chain.

use thiserror::Error;

/// Everything a `kcodec` command can fail with.
#[derive(Debug, Error)]
pub enum CliError {
    /// Wrong or contradictory arguments that clap cannot check on its own.
    #[error("{0}")]
    Usage(String),
    /// Reading input or writing output failed.
    #[error("{context}")]
    Io {
        /// What was being read or written.
        context: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A command failed for a reason it explains in one line (a broker refusing a request, a
    /// record that cannot be parsed, an unreachable cluster).
    #[error("{0}")]
    Failed(String),
    /// Turning text into key/value bytes or back failed.
    #[error(transparent)]
    Format(#[from] crate::format::FormatError),
    /// librdkafka reported an error.
    #[error("{context}")]
    Kafka {
        /// What was being done.
        context: String,
        /// librdkafka's error.
        #[source]
        source: rdkafka::error::KafkaError,
    },
    /// The schema registry (client or dev server) failed.
    #[error("{context}")]
    Registry {
        /// What was being done.
        context: String,
        /// The registry error.
        #[source]
        source: kcodec_registry::RegistryError,
    },
    /// One input line (or message) failed; `line` counts from 1.
    #[error("line {line}")]
    Line {
        /// The line number.
        line: usize,
        /// Why it failed.
        #[source]
        source: Box<CliError>,
    },
    /// Input text is not UTF-8.
    #[error("input is not valid UTF-8")]
    Utf8(#[source] std::str::Utf8Error),
    /// Input that should be hex is not.
    #[error("invalid hex")]
    Hex(#[from] hex::FromHexError),
    /// Input that should be base64 is not.
    #[error("invalid base64")]
    Base64(#[from] base64::DecodeError),
}

impl CliError {
    /// An I/O error with what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        CliError::Io {
            context: context.into(),
            source,
        }
    }

    /// A librdkafka error with what was being done.
    pub fn kafka(context: impl Into<String>, source: rdkafka::error::KafkaError) -> Self {
        CliError::Kafka {
            context: context.into(),
            source,
        }
    }
}

/// The error and its sources, one after the other, separated by `: `.
pub fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !text.ends_with(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = s.source();
    }
    text
}
