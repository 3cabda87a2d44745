//! kcodec: typed Kafka keys and values.
pub use kcodec_codecs as codecs;
