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

    /// Directory .proto imports are looked up in (repeatable, searched in order, as protoc's
    /// -I/--proto_path); default: the schema file's directory, then the current directory.
    #[arg(
        short = 'I',
        long = "proto-path",
        visible_alias = "proto_path",
        value_name = "DIR"
    )]
    pub proto_paths: Vec<PathBuf>,
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
        spec.proto_paths = self.proto_paths.clone();
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
        spec.proto_paths = self.proto_paths.clone();
        spec.schema_id_in_header = self.schema_id_in_header;
        spec
    }

    /// Whether either side needs a schema registry.
    pub fn needs_registry(&self) -> bool {
        self.key_format.needs_registry() || self.value_format.needs_registry()
    }

    /// Refuses schema options given for a side whose format takes no schema: Confluent's
    /// `kafka-avro-console-producer` implies Avro, but here the format is chosen apart, and a
    /// schema silently ignored would send plain strings where Avro was meant.
    pub fn check_schema_options(&self) -> Result<(), crate::error::CliError> {
        let sides = [
            (
                "key",
                self.key_format,
                self.key_schema_file.is_some()
                    || self.key_schema_id.is_some()
                    || self.key_subject.is_some()
                    || self.key_use_latest
                    || self.key_message.is_some(),
            ),
            (
                "value",
                self.value_format,
                self.value_schema_file.is_some()
                    || self.value_schema_id.is_some()
                    || self.value_subject.is_some()
                    || self.value_use_latest
                    || self.value_message.is_some(),
            ),
        ];
        for (side, format, has_schema) in sides {
            if has_schema && !format.needs_registry() {
                return Err(crate::error::CliError::Usage(format!(
                    "a {side} schema (--{side}-schema-file, --{side}-schema-id, --{side}-subject, \
                     --{side}-use-latest, --{side}-message or --property {side}.schema*) needs \
                     --{side}-format avro, protobuf or json-schema; the {side} format is {}",
                    format.name()
                )));
            }
        }
        Ok(())
    }
}

/// Schema files written from inline `key.schema`/`value.schema` properties; removed when
/// dropped.
#[derive(Debug, Default)]
pub struct InlineSchemas {
    files: Vec<PathBuf>,
}

impl Drop for InlineSchemas {
    fn drop(&mut self) {
        for f in &self.files {
            let _ = std::fs::remove_file(f);
        }
    }
}

/// The properties of Confluent's `kafka-avro-console-producer`/`-consumer` (and their Protobuf
/// and JSON Schema siblings): `schema.registry.url`, `key.schema`/`value.schema` (inline
/// schema text), `key.schema.file`/`value.schema.file`, `key.schema.id`/`value.schema.id`.
/// They are taken out of `props` and applied to `codecs` and `registry` (flags win).
pub fn take_confluent_properties(
    props: &mut Vec<(String, String)>,
    codecs: &mut CodecArgs,
    registry: &mut crate::connect::RegistryArgs,
) -> Result<InlineSchemas, crate::error::CliError> {
    use crate::error::CliError;
    let mut inline = InlineSchemas::default();
    let mut rest = Vec::with_capacity(props.len());
    for (k, v) in props.drain(..) {
        let id = |v: &str| {
            v.trim()
                .parse::<u32>()
                .map_err(|_| CliError::Usage(format!("--property {k}: not a schema id: {v:?}")))
        };
        match k.as_str() {
            "schema.registry.url" => {
                registry.registry.get_or_insert(v);
            }
            "key.schema.file" => {
                codecs.key_schema_file.get_or_insert(PathBuf::from(v));
            }
            "value.schema.file" => {
                codecs.value_schema_file.get_or_insert(PathBuf::from(v));
            }
            "key.schema.id" => {
                let n = id(&v)?;
                codecs.key_schema_id.get_or_insert(n);
            }
            "value.schema.id" => {
                let n = id(&v)?;
                codecs.value_schema_id.get_or_insert(n);
            }
            "key.schema" | "value.schema" => {
                // Named with the extension of the format's schema files.
                let format = if k == "key.schema" {
                    codecs.key_format
                } else {
                    codecs.value_format
                };
                let ext = match format {
                    Format::Protobuf => "proto",
                    Format::JsonSchema => "json",
                    _ => "avsc",
                };
                // unique in this process too (a counter, not the index in `inline`)
                static NEXT: std::sync::atomic::AtomicUsize =
                    std::sync::atomic::AtomicUsize::new(0);
                let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let path = std::env::temp_dir().join(format!(
                    "kcodec-{}-{n}-{}.{ext}",
                    std::process::id(),
                    k.replace('.', "-")
                ));
                std::fs::write(&path, v.as_bytes())
                    .map_err(|e| CliError::io(format!("writing {}", path.display()), e))?;
                inline.files.push(path.clone());
                let slot = if k == "key.schema" {
                    &mut codecs.key_schema_file
                } else {
                    &mut codecs.value_schema_file
                };
                slot.get_or_insert(path);
            }
            _ => rest.push((k, v)),
        }
    }
    *props = rest;
    codecs.check_schema_options()?;
    Ok(inline)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connect::RegistryArgs;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        codecs: CodecArgs,
        #[command(flatten)]
        registry: RegistryArgs,
    }

    #[test]
    fn a_schema_without_a_schema_format_is_refused() {
        let mut cli = Cli::try_parse_from(["t"]).unwrap();
        let mut props = vec![(
            "value.schema".to_string(),
            r#"{"type":"string"}"#.to_string(),
        )];
        let err = take_confluent_properties(&mut props, &mut cli.codecs, &mut cli.registry)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("needs --value-format avro, protobuf or json-schema")
                && err.contains("the value format is string"),
            "{err}"
        );
        let mut cli =
            Cli::try_parse_from(["t", "--key-schema-id", "3", "--key-format", "int"]).unwrap();
        let err = take_confluent_properties(&mut Vec::new(), &mut cli.codecs, &mut cli.registry)
            .unwrap_err()
            .to_string();
        assert!(err.contains("the key format is int"), "{err}");
        let mut cli = Cli::try_parse_from(["t", "--value-format", "avro"]).unwrap();
        let mut props = vec![(
            "value.schema".to_string(),
            r#"{"type":"string"}"#.to_string(),
        )];
        take_confluent_properties(&mut props, &mut cli.codecs, &mut cli.registry).unwrap();
    }

    #[test]
    fn proto_paths_apply_to_key_and_value_in_order() {
        let cli = Cli::parse_from(["x", "-I", "a", "--proto_path", "b", "--proto-path=c", "-Id"]);
        let want: Vec<PathBuf> = ["a", "b", "c", "d"].iter().map(PathBuf::from).collect();
        assert_eq!(cli.codecs.key_spec().proto_paths, want);
        assert_eq!(cli.codecs.value_spec().proto_paths, want);
        let none = Cli::parse_from(["x"]);
        assert!(none.codecs.value_spec().proto_paths.is_empty());
    }

    #[test]
    fn confluent_console_properties_map_onto_flags() {
        let mut cli = Cli::parse_from([
            "x",
            "--value-format",
            "avro",
            "--key-format",
            "avro",
            "--key-schema-id",
            "9",
        ]);
        cli.registry.registry = None;
        let mut props: Vec<(String, String)> = [
            ("schema.registry.url", "http://r:8081"),
            ("value.schema", r#"{"type":"string"}"#),
            ("key.schema.id", "3"),
            ("parse.key", "true"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let inline =
            take_confluent_properties(&mut props, &mut cli.codecs, &mut cli.registry).unwrap();
        assert_eq!(props, [("parse.key".to_owned(), "true".to_owned())]);
        assert_eq!(cli.registry.registry.as_deref(), Some("http://r:8081"));
        // A flag wins over the property.
        assert_eq!(cli.codecs.key_schema_id, Some(9));
        let file = cli.codecs.value_schema_file.clone().unwrap();
        assert_eq!(file.extension().unwrap(), "avsc");
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            r#"{"type":"string"}"#
        );
        assert_eq!(cli.codecs.value_spec().schema_file, Some(file.clone()));
        drop(inline);
        assert!(!file.exists());
    }
}
