//! The key/value format flags `produce` and `consume` share, turned into [`CodecSpec`]s.

use crate::format::{CodecSpec, Format};
use clap::Args;
use kcodec_codecs::Target;
use std::path::PathBuf;

/// `--key-format`, `--value-format` and their schema options.
#[derive(Debug, Clone, Args)]
pub struct CodecArgs {
    /// Format of keys.
    #[arg(long, value_enum, default_value = "string", value_name = "FORMAT")]
    pub key_format: Format,
    /// Format of values.
    #[arg(long, value_enum, default_value = "string", value_name = "FORMAT")]
    pub value_format: Format,

    /// Key schema file (Avro .avsc, Protobuf .proto, JSON Schema .json).
    #[arg(long, value_name = "FILE")]
    pub key_schema_file: Option<PathBuf>,
    /// Use this registered schema id for keys.
    #[arg(long, value_name = "ID")]
    pub key_schema_id: Option<u32>,
    /// Subject of key schemas (default: `<topic>-key`).
    #[arg(long, value_name = "SUBJECT")]
    pub key_subject: Option<String>,
    /// Use the key subject's latest registered schema.
    #[arg(long)]
    pub key_use_latest: bool,
    /// Protobuf key message's full name (default: the file's first message).
    #[arg(long, value_name = "NAME")]
    pub key_message: Option<String>,

    /// Value schema file (Avro .avsc, Protobuf .proto, JSON Schema .json).
    #[arg(long, value_name = "FILE")]
    pub value_schema_file: Option<PathBuf>,
    /// Use this registered schema id for values.
    #[arg(long, value_name = "ID")]
    pub value_schema_id: Option<u32>,
    /// Subject of value schemas (default: `<topic>-value`).
    #[arg(long, value_name = "SUBJECT")]
    pub value_subject: Option<String>,
    /// Use the value subject's latest registered schema.
    #[arg(long, visible_alias = "use-latest")]
    pub value_use_latest: bool,
    /// Protobuf value message's full name (default: the file's first message).
    #[arg(long, value_name = "NAME")]
    pub value_message: Option<String>,

    /// Write schema ids into the `__key_schema_id`/`__value_schema_id` headers instead of a
    /// prefix of the key/value bytes.
    #[arg(long)]
    pub schema_id_in_header: bool,
}

impl CodecArgs {
    /// The key's spec.
    pub fn key_spec(&self) -> CodecSpec {
        let mut spec = CodecSpec::new(self.key_format, Target::Key);
        spec.schema_file = self.key_schema_file.clone();
        spec.schema_id = self.key_schema_id;
        spec.subject = self.key_subject.clone();
        spec.use_latest = self.key_use_latest;
        spec.message = self.key_message.clone();
        spec.schema_id_in_header = self.schema_id_in_header;
        spec
    }

    /// The value's spec.
    pub fn value_spec(&self) -> CodecSpec {
        let mut spec = CodecSpec::new(self.value_format, Target::Value);
        spec.schema_file = self.value_schema_file.clone();
        spec.schema_id = self.value_schema_id;
        spec.subject = self.value_subject.clone();
        spec.use_latest = self.value_use_latest;
        spec.message = self.value_message.clone();
        spec.schema_id_in_header = self.schema_id_in_header;
        spec
    }

    /// Whether either side needs a schema registry.
    pub fn needs_registry(&self) -> bool {
        self.key_format.needs_registry() || self.value_format.needs_registry()
    }
}
