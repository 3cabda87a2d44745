//! `kcodec encode` and `kcodec decode`: the codecs offline, for scripts and debugging.
//!
//! `encode` reads one text form per line on stdin (a JSON document for `json`, `avro` (Avro JSON
//! encoding), `protobuf` (proto3 JSON) and `json-schema`; the text itself for `string`, the
//! numbers, `boolean`, `uuid` and `bytes`) and writes each encoded key or value:
//!
//! * `--output hex` (default) / `--output base64`: one line per message. When the codec adds
//!   headers (`--schema-id-in-header`), each follows the value on the same line as
//!   `<TAB>NAME=VALUE`, the header value in the same encoding:
//!   `<hex value>\t__value_schema_id=<hex header value>`.
//! * `--output raw`: the bytes of exactly one message, nothing else on stdout; headers go to
//!   stderr as `NAME=<hex>` lines.
//!
//! `decode` reads what `encode` writes (`--input hex|base64`: one message per line, optionally
//! followed by `<TAB>NAME=VALUE` headers; `--input raw`: all of stdin is one message) and prints
//! one text form per line. `--header NAME=HEX` adds a header to every message (a schema id
//! header, for instance).
//!
//! `encode` skips blank lines, except for `string` and `bytes` (an empty value: an empty hex or
//! base64 line). `decode` reads every line as a message: an empty line is a 0-byte message (an
//! empty `string` or `bytes` value; an error for formats that cannot be empty), as one empty
//! `--input raw` stdin is. So `encode | decode` gives back every value, empty ones included.
//!
//! A bad line stops the command with `line N: <why>`; with `--ignore-error` it is reported on
//! stderr, counted, and skipped, the summary goes to stderr and the exit status is 0.

use crate::error::CliError;
use crate::format::{CodecSpec, Decoder, Encoder, Format, registry_client};
use base64::Engine as _;
use clap::{Args, ValueEnum};
use kcodec_codecs::{Headers, Target};
use kcodec_registry::SchemaRegistry;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::Arc;

/// The input and output forms, after `kcodec encode --help`.
const ENCODE_HELP: &str = "\
Input: one value per line on stdin: a JSON document for json, avro (Avro's JSON encoding: a
union value is {\"<branch>\": value} or null), protobuf (proto3 JSON) and json-schema; the
text itself for string, bytes, the numbers, boolean and uuid. Blank lines are skipped except
for string and bytes (an empty value: an empty output line, which decode reads back as one).

Output: one message per line in hex (default) or base64. Headers the codec adds (with
--schema-id-in-header) follow on the same line as TAB NAME=VALUE, VALUE in the same encoding:
  <hex value><TAB>__value_schema_id=<hex: 01 + schema GUID (+ message indexes for protobuf)>
--output raw writes the bytes of exactly one message, and its headers to stderr as NAME=<hex>.

Errors name the line (`line 3: ...`); --ignore-error skips bad lines, counts them on stderr and
exits 0.

Example:
  echo '{\"name\":\"ada\"}' | kcodec encode --format avro --schema-file user.avsc \\
      --registry http://localhost:8081 --topic users";

/// The input and output forms, after `kcodec decode --help`.
const DECODE_HELP: &str = "\
Input: what `kcodec encode` writes: one message per line in hex (default) or base64, optionally
followed by TAB NAME=VALUE headers in the same encoding; --input raw reads all of stdin as one
message. Every line is a message: an empty line is a 0-byte message (an empty string or bytes
value, as `kcodec encode` writes it; an error for the other formats). --header NAME=HEX adds a
header to every message.

Output: one value per line, in the forms `kcodec encode` reads (Avro JSON encoding with fields
in schema order, proto3 JSON, JSON as written).

--format auto takes the schema type (Avro, Protobuf, JSON Schema) from the registry by each
message's schema id. --schema-file decodes avro, protobuf or json-schema offline: the file is
the writer schema of every message, whatever its id, and no registry is asked.";

/// How messages are written (encode) or read (decode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Encoding {
    /// The bytes themselves: exactly one message.
    Raw,
    /// Lowercase hex, one message per line (decoding accepts either case).
    Hex,
    /// Standard base64 with padding, one message per line.
    Base64,
}

/// The options `encode` and `decode` share.
#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Key or value format.
    #[arg(long, value_enum)]
    pub format: Format,

    /// Schema registry URL (one, or several separated by commas); default: the registry of the
    /// running `kcodec dev`, if one runs. Basic auth from `user:pass@`
    /// in the URL or KCODEC_REGISTRY_BASIC_AUTH=USER:PASS.
    #[arg(long, env = "KCODEC_REGISTRY_URL", value_name = "URL")]
    pub registry: Option<String>,

    /// Topic the records belong to: names the subject (`<topic>-key`/`<topic>-value`).
    #[arg(long, default_value = "kcodec")]
    pub topic: String,

    /// Encode/decode keys (subject `<topic>-key`, header `__key_schema_id`) instead of values.
    #[arg(long)]
    pub key: bool,

    /// On a bad line, report it on stderr and go on; exit 0 with a count of failures.
    #[arg(long)]
    pub ignore_error: bool,
}

/// Arguments of `kcodec encode`.
#[derive(Debug, Args)]
#[command(after_help = ENCODE_HELP)]
pub struct EncodeArgs {
    /// Format, registry, topic, key, --ignore-error.
    #[command(flatten)]
    common: CommonArgs,

    /// Schema file (.avsc, .proto, JSON Schema), registered under the subject. A .proto file's
    /// imports are looked up in the -I directories and registered first, each under its import
    /// path, as references (Google's well-known types are built in).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["schema_id", "use_latest"])]
    schema_file: Option<PathBuf>,

    /// Protobuf: a directory .proto imports are looked up in (repeatable, searched in order, as
    /// protoc's -I/--proto_path); default: the schema file's directory, then the current one.
    #[arg(
        short = 'I',
        long = "proto-path",
        visible_alias = "proto_path",
        value_name = "DIR"
    )]
    proto_paths: Vec<PathBuf>,

    /// Use this registered schema id (nothing is registered).
    #[arg(long, value_name = "ID", conflicts_with = "use_latest")]
    schema_id: Option<u32>,

    /// Subject to register under or take the latest version of (default `<topic>-key|value`).
    #[arg(long, value_name = "SUBJECT")]
    subject: Option<String>,

    /// Use the subject's latest registered schema.
    #[arg(long)]
    use_latest: bool,

    /// Protobuf: the message's full name (default: the schema's first message).
    #[arg(long, value_name = "NAME")]
    message: Option<String>,

    /// Put the schema id in the `__key_schema_id`/`__value_schema_id` header (`0x01` + the
    /// schema's GUID, as Confluent's header serializer) instead of the 5-byte prefix.
    #[arg(long)]
    schema_id_in_header: bool,

    /// How to write each message.
    #[arg(long, value_enum, default_value = "hex")]
    output: Encoding,
}

/// Arguments of `kcodec decode`.
#[derive(Debug, Args)]
#[command(after_help = DECODE_HELP)]
pub struct DecodeArgs {
    /// Format, registry, topic, key, --ignore-error.
    #[command(flatten)]
    common: CommonArgs,

    /// How messages are read.
    #[arg(long, value_enum, default_value = "hex")]
    input: Encoding,

    /// A header of every message, NAME=HEX (repeatable), such as
    /// `__value_schema_id=01<guid hex>`.
    #[arg(long = "header", value_name = "NAME=HEX")]
    headers: Vec<String>,

    /// Writer schema (.avsc, .proto, JSON Schema) for every record whatever its schema id:
    /// decodes without a registry.
    #[arg(long, value_name = "FILE")]
    schema_file: Option<PathBuf>,

    /// Protobuf: a directory the --schema-file's imports are looked up in (repeatable, searched
    /// in order, as protoc's -I/--proto_path); default: the file's directory, then the current
    /// one.
    #[arg(
        short = 'I',
        long = "proto-path",
        visible_alias = "proto_path",
        value_name = "DIR"
    )]
    proto_paths: Vec<PathBuf>,
}

/// Key or value, from `--key`.
fn target(key: bool) -> Target {
    if key { Target::Key } else { Target::Value }
}

/// The registry URL: `--registry` (or `KCODEC_REGISTRY_URL`), else the registry of the one
/// running `kcodec dev`, if exactly one runs.
fn registry_url(common: &CommonArgs) -> Option<String> {
    match &common.registry {
        Some(url) if !url.trim().is_empty() => Some(url.clone()),
        Some(_) => None,
        None => match crate::discovery::running().as_slice() {
            [dev] => dev.registry.clone(),
            _ => None,
        },
    }
}

/// The registry client, when the format needs one and a URL is known.
fn registry(
    common: &CommonArgs,
    needed: bool,
) -> Result<Option<Arc<dyn SchemaRegistry>>, CliError> {
    match registry_url(common) {
        Some(url) if needed => Ok(Some(registry_client(&url)?)),
        _ => Ok(None),
    }
}

/// All of stdin.
fn read_stdin() -> Result<Vec<u8>, CliError> {
    let mut input = Vec::new();
    std::io::stdin()
        .lock()
        .read_to_end(&mut input)
        .map_err(|e| CliError::io("reading stdin", e))?;
    Ok(input)
}

/// Splits input into numbered lines (1-based), without their `\n` / `\r\n`.
fn lines(input: &[u8]) -> Vec<(usize, &[u8])> {
    let mut out: Vec<(usize, &[u8])> = input
        .split(|&b| b == b'\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l.strip_suffix(b"\r").unwrap_or(l)))
        .collect();
    if input.ends_with(b"\n") || input.is_empty() {
        out.pop();
    }
    out
}

/// Counts failures under `--ignore-error`, or stops at the first.
struct Failures {
    /// `--ignore-error`.
    ignore: bool,
    /// Lines that failed.
    count: usize,
    /// Lines seen.
    total: usize,
}

impl Failures {
    /// Passes `result` on, or (with `--ignore-error`) reports and counts a failure.
    fn handle(&mut self, line: usize, result: Result<(), CliError>) -> Result<(), CliError> {
        self.total += 1;
        match result {
            Ok(()) => Ok(()),
            Err(source) => {
                let error = CliError::Line {
                    line,
                    source: Box::new(source),
                };
                if self.ignore {
                    self.count += 1;
                    eprintln!("error: {}", crate::error::describe(&error));
                    Ok(())
                } else {
                    Err(error)
                }
            }
        }
    }

    /// Prints the count of skipped lines on stderr.
    fn summary(&self) {
        if self.ignore && self.count > 0 {
            eprintln!(
                "{} of {} lines failed and were skipped",
                self.count, self.total
            );
        }
    }
}

/// `data` as hex or base64.
fn encode_bytes(encoding: Encoding, data: &[u8]) -> String {
    match encoding {
        Encoding::Base64 => base64::engine::general_purpose::STANDARD.encode(data),
        _ => hex::encode(data),
    }
}

/// Hex or base64 text back to bytes.
fn decode_bytes(encoding: Encoding, text: &str) -> Result<Vec<u8>, CliError> {
    let text = text.trim();
    match encoding {
        Encoding::Base64 => Ok(base64::engine::general_purpose::STANDARD.decode(text)?),
        _ => Ok(hex::decode(text)?),
    }
}

/// Writes to stdout, naming the failure.
fn write_out(out: &mut impl Write, data: &[u8]) -> Result<(), CliError> {
    out.write_all(data)
        .map_err(|e| CliError::io("writing stdout", e))
}

/// `-I`/`--proto-path` is for .proto schema files: a usage error with another format.
fn proto_paths_need_protobuf(paths: &[PathBuf], format: Format) -> Result<(), CliError> {
    if paths.is_empty() || format == Format::Protobuf {
        return Ok(());
    }
    Err(CliError::Usage(
        "-I/--proto-path is where .proto imports are found: use it with --format protobuf"
            .to_owned(),
    ))
}

/// Runs `kcodec encode`.
pub async fn encode(args: EncodeArgs) -> Result<(), CliError> {
    let common = &args.common;
    let mut spec = CodecSpec::new(common.format, target(common.key));
    spec.schema_file = args.schema_file.clone();
    spec.schema_id = args.schema_id;
    spec.subject = args.subject.clone();
    spec.use_latest = args.use_latest;
    spec.message = args.message.clone();
    spec.proto_paths = args.proto_paths.clone();
    spec.schema_id_in_header = args.schema_id_in_header;
    let schema_options = args.schema_file.is_some()
        || args.schema_id.is_some()
        || args.subject.is_some()
        || args.use_latest
        || args.schema_id_in_header;
    if schema_options && !common.format.needs_registry() {
        return Err(CliError::Usage(format!(
            "--format {} has no schema: --schema-file, --schema-id, --subject, --use-latest and --schema-id-in-header are for avro, protobuf and json-schema",
            common.format.name()
        )));
    }
    if args.message.is_some() && common.format != Format::Protobuf {
        return Err(CliError::Usage(
            "--message names a Protobuf message: use it with --format protobuf".to_owned(),
        ));
    }
    proto_paths_need_protobuf(&args.proto_paths, common.format)?;
    let registry = registry(common, common.format.needs_registry())?;
    let encoder = Encoder::new(spec, registry).await?;
    encoder.prepare(&common.topic).await?;

    let input = read_stdin()?;
    let skip_blank = !matches!(common.format, Format::String | Format::Bytes);
    let lines: Vec<(usize, &[u8])> = lines(&input)
        .into_iter()
        .filter(|(_, l)| !(skip_blank && l.iter().all(u8::is_ascii_whitespace)))
        .collect();
    if args.output == Encoding::Raw && lines.len() != 1 {
        return Err(CliError::Usage(format!(
            "--output raw writes exactly one message: got {} input lines (use --output hex or base64 for several)",
            lines.len()
        )));
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut failures = Failures {
        ignore: common.ignore_error,
        count: 0,
        total: 0,
    };
    for (number, line) in lines {
        let result = async {
            let text = std::str::from_utf8(line).map_err(CliError::Utf8)?;
            let mut headers = Headers::new();
            let bytes = encoder
                .encode(&common.topic, text, &mut headers)
                .await?
                .unwrap_or_default();
            match args.output {
                Encoding::Raw => {
                    write_out(&mut out, &bytes)?;
                    for h in headers.iter() {
                        eprintln!(
                            "{}={}",
                            h.key,
                            hex::encode(h.value.as_deref().unwrap_or_default())
                        );
                    }
                }
                encoding => {
                    let mut text = encode_bytes(encoding, &bytes);
                    for h in headers.iter() {
                        text.push('\t');
                        text.push_str(&h.key);
                        text.push('=');
                        text.push_str(&encode_bytes(
                            encoding,
                            h.value.as_deref().unwrap_or_default(),
                        ));
                    }
                    text.push('\n');
                    write_out(&mut out, text.as_bytes())?;
                }
            }
            Ok(())
        }
        .await;
        failures.handle(number, result)?;
    }
    out.flush().map_err(|e| CliError::io("writing stdout", e))?;
    failures.summary();
    Ok(())
}

/// Parses `NAME=HEX` (from `--header`) or `NAME=<encoded>` (after a tab on an input line).
fn parse_header(text: &str, encoding: Encoding) -> Result<(String, Vec<u8>), CliError> {
    let Some((name, value)) = text.split_once('=') else {
        return Err(CliError::Usage(format!(
            "header {text:?} is not NAME=VALUE"
        )));
    };
    if name.is_empty() {
        return Err(CliError::Usage(format!("header {text:?} has no name")));
    }
    Ok((name.to_owned(), decode_bytes(encoding, value)?))
}

/// Runs `kcodec decode`.
pub async fn decode(args: DecodeArgs) -> Result<(), CliError> {
    let common = &args.common;
    let mut spec = CodecSpec::new(common.format, target(common.key));
    spec.schema_file = args.schema_file.clone();
    spec.proto_paths = args.proto_paths.clone();
    proto_paths_need_protobuf(&args.proto_paths, common.format)?;
    let needed = common.format.needs_registry();
    let no_registry = registry_url(common).is_none();
    if common.format == Format::Auto && no_registry && args.schema_file.is_none() {
        return Err(CliError::Usage(
            "--format auto reads the schema type from the registry: pass --registry URL or set KCODEC_REGISTRY_URL".to_owned(),
        ));
    }
    if common.format == Format::Auto && args.schema_file.is_some() {
        return Err(CliError::Usage(
            "--schema-file needs a named format (avro, protobuf or json-schema), not auto"
                .to_owned(),
        ));
    }
    let registry = registry(common, needed)?;
    let decoder = Decoder::new(spec, registry).await?;
    let mut base_headers = Headers::new();
    for h in &args.headers {
        let (name, value) = parse_header(h, Encoding::Hex)?;
        base_headers.add(name, value);
    }

    let input = read_stdin()?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut failures = Failures {
        ignore: common.ignore_error,
        count: 0,
        total: 0,
    };
    // Every line is a message, an empty one a 0-byte message (as an empty raw stdin is): what
    // `encode` writes for an empty string or bytes value.
    let messages: Vec<(usize, &[u8])> = match args.input {
        Encoding::Raw => vec![(1, &input[..])],
        _ => lines(&input),
    };
    for (number, line) in messages {
        let result = async {
            let mut headers = base_headers.clone();
            let data = match args.input {
                Encoding::Raw => line.to_vec(),
                encoding => {
                    let text = std::str::from_utf8(line).map_err(CliError::Utf8)?;
                    let mut fields = text.split('\t');
                    let data = decode_bytes(encoding, fields.next().unwrap_or_default())?;
                    for field in fields {
                        let (name, value) = parse_header(field, encoding)?;
                        headers.set(&name, value);
                    }
                    data
                }
            };
            let mut text = decoder.decode(&common.topic, &data, &headers).await?;
            text.push(b'\n');
            write_out(&mut out, &text)
        }
        .await;
        failures.handle(number, result)?;
    }
    out.flush().map_err(|e| CliError::io("writing stdout", e))?;
    failures.summary();
    Ok(())
}
