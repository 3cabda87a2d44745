//! The wrapper's errors, and how they cross into `confluent_kafka`'s closed error enum.

use confluent_kafka::common::Error as KafkaError;
use confluent_kafka::common::errors::SerializationError;
use kcodec_codecs::Target;

/// How deep a cause chain is carried across; deeper links are dropped (a chain that long is a
/// cycle or a bug, and the text must stay bounded).
const MAX_CHAIN: usize = 32;

/// What went wrong in a [`Serde`](crate::Serde).
///
/// `confluent_kafka`'s traits return its own [`confluent_kafka::common::Error`]; every value of
/// this type converts into one (`From`): an `Error::Serialization` (Java's
/// `SerializationException`) whose message is this error's, and whose source chain repeats this
/// error's causes one link each, as bare `KafkaError`s carrying each cause's text. A header
/// failure keeps `confluent_kafka`'s own error as the source, unchanged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The kcodec codec failed (encoding, decoding, or the registry behind a schema codec).
    #[error(transparent)]
    Codec(#[from] kcodec_codecs::Error),
    /// The codec wrote a record header (a schema id in a header), but `serialize` was called
    /// without the record's headers.
    #[error(
        "Missing headers: the {target} serializer writes record headers; call serialize_with_headers"
    )]
    MissingHeaders {
        /// Key or value.
        target: Target,
    },
    /// The record's headers could not take the codec's (they are read-only).
    #[error("cannot write the {target} serializer's headers to the record")]
    Headers {
        /// Key or value.
        target: Target,
        /// `confluent_kafka`'s refusal.
        #[source]
        source: KafkaError,
    },
    /// `configure` said key where the serde was built for values, or the other way round.
    #[error("this serde was built for the record {built_for}, not the {}", other(*built_for))]
    TargetMismatch {
        /// What it was built for.
        built_for: Target,
    },
}

fn other(target: Target) -> Target {
    match target {
        Target::Key => Target::Value,
        Target::Value => Target::Key,
    }
}

impl From<Error> for KafkaError {
    fn from(err: Error) -> KafkaError {
        let message = err.to_string();
        let source = match err {
            Error::Headers { source, .. } => Some(source),
            other => cause_chain(std::error::Error::source(&other)),
        };
        KafkaError::Serialization(match source {
            Some(source) => SerializationError::with_source(message, source),
            None => SerializationError::new(message),
        })
    }
}

/// `cause` and its own causes as `KafkaError`s, one link each, innermost last.
fn cause_chain(cause: Option<&(dyn std::error::Error + 'static)>) -> Option<KafkaError> {
    let mut texts = Vec::new();
    let mut next = cause;
    while let Some(e) = next {
        if texts.len() == MAX_CHAIN {
            break;
        }
        texts.push(e.to_string());
        next = e.source();
    }
    texts.into_iter().rev().fold(None, |inner, text| {
        Some(match inner {
            Some(inner) => KafkaError::kafka_message_source(text, inner),
            None => KafkaError::kafka_message(text),
        })
    })
}
