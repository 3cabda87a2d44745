//! Protobuf compatibility, following the main rules of Confluent's `ProtobufSchema` diff.
//!
//! The schema text is either `.proto` source or the base64 of a serialized
//! `FileDescriptorProto` (Confluent accepts both). Imports resolve through the schema's
//! references (by import path); Google's well-known types are built in.
//!
//! Comparing the writer (original) schema with the reader (updated) one, these changes are
//! **incompatible**:
//!
//! * **syntax changed** between `proto2` and `proto3`;
//! * **root message changed**: the first top-level message (the one serializers use by default)
//!   has another name;
//! * **message removed**: a message of the writer (top-level or nested, compared by name relative
//!   to the package) has no counterpart in the reader;
//! * **field kind changed**: a field number is reused with a type of another kind: scalar vs
//!   message vs enum, or another message / enum type (compared by name relative to the package);
//! * **scalar kind changed** outside a wire-compatible group; the groups are
//!   `int32`/`uint32`/`int64`/`uint64`/`bool`, `sint32`/`sint64`, `fixed32`/`sfixed32`,
//!   `fixed64`/`sfixed64` and `string`/`bytes` (other scalars stand alone);
//! * **label changed** between singular, `repeated` and `map` (maps also compare key and value
//!   types by the rules above);
//! * **required field added** or **required field removed** (`proto2`), including a field that
//!   becomes required;
//! * **field moved into an existing oneof**, or **several existing fields moved into a new oneof**.
//!
//! Compatible (as in Confluent): adding messages, fields, enums, enum values or oneofs; removing
//! optional fields, enums or enum values; renaming fields; changing the package; moving a
//! single field into a new oneof.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine;
use prost::Message;
use prost_reflect::{Cardinality, DescriptorPool, FileDescriptor, Kind, MessageDescriptor, Syntax};
use protox::file::{File, FileResolver, GoogleFileResolver};

use super::Resolved;
use crate::RegistryError;

/// The file name the checked schema gets when its text carries none.
const MAIN_FILE: &str = "kcodec_compat_schema.proto";

/// A parsed Protobuf schema: its file and every file it imports.
#[derive(Debug)]
pub struct ProtoSchema {
    file: FileDescriptor,
}

fn is_descriptor(text: &str) -> Option<prost_types::FileDescriptorProto> {
    let t = text.trim();
    if t.is_empty() || t.contains(|c: char| c.is_whitespace() || c == ';' || c == '{') {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD.decode(t).ok()?;
    prost_types::FileDescriptorProto::decode(bytes.as_slice()).ok()
}

fn to_file(name: &str, text: &str) -> Result<File, protox::Error> {
    match is_descriptor(text) {
        Some(mut fdp) => {
            fdp.name = Some(name.to_owned());
            Ok(File::from_file_descriptor_proto(fdp))
        }
        None => File::from_source(name, text),
    }
}

struct Resolver {
    main_name: String,
    main_text: String,
    /// Import path → schema text.
    references: BTreeMap<String, String>,
    google: GoogleFileResolver,
}

impl FileResolver for Resolver {
    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        if name == self.main_name {
            return to_file(name, &self.main_text);
        }
        if let Some(text) = self.references.get(name) {
            return to_file(name, text);
        }
        self.google.open_file(name)
    }
}

impl ProtoSchema {
    /// Parses `.proto` source or a base64 `FileDescriptorProto`, resolving imports through the
    /// references.
    pub fn parse(resolved: Resolved<'_>) -> Result<Self, RegistryError> {
        let text = resolved.schema.schema.as_str();
        let main_name = is_descriptor(text)
            .and_then(|fdp| fdp.name)
            .filter(|n| !n.is_empty() && !resolved.references.contains_key(n))
            .unwrap_or_else(|| MAIN_FILE.to_owned());
        let resolver = Resolver {
            main_name: main_name.clone(),
            main_text: text.to_owned(),
            references: resolved
                .references
                .iter()
                .map(|(k, v)| (k.clone(), v.schema.clone()))
                .collect(),
            google: GoogleFileResolver::new(),
        };
        let mut compiler = protox::Compiler::with_file_resolver(resolver);
        compiler
            .open_file(&main_name)
            .map_err(|e| RegistryError::InvalidSchema(format!("Protobuf: {e}")))?;
        let pool: DescriptorPool = compiler.descriptor_pool();
        let file = pool.get_file_by_name(&main_name).ok_or_else(|| {
            RegistryError::InvalidSchema(format!(
                "Protobuf: file {main_name} missing after parsing"
            ))
        })?;
        Ok(ProtoSchema { file })
    }

    /// Every message of the file (nested ones too, map entries excepted), by name relative to
    /// the package.
    fn messages(&self) -> BTreeMap<String, MessageDescriptor> {
        let mut out = BTreeMap::new();
        let mut stack: Vec<MessageDescriptor> = self.file.messages().collect();
        while let Some(m) = stack.pop() {
            if m.is_map_entry() {
                continue;
            }
            stack.extend(m.child_messages());
            out.insert(relative(m.full_name(), m.package_name()), m);
        }
        out
    }
}

fn relative(full: &str, package: &str) -> String {
    if package.is_empty() {
        full.to_owned()
    } else {
        full.strip_prefix(package)
            .and_then(|s| s.strip_prefix('.'))
            .unwrap_or(full)
            .to_owned()
    }
}

fn syntax_name(s: Syntax) -> &'static str {
    match s {
        Syntax::Proto2 => "proto2",
        Syntax::Proto3 => "proto3",
        #[allow(unreachable_patterns)]
        _ => "editions",
    }
}

/// Messages for data written with `writer` and read with `reader` (empty = compatible).
pub fn can_read(reader: &ProtoSchema, writer: &ProtoSchema) -> Vec<String> {
    let mut errors = Vec::new();
    let (rs, ws) = (reader.file.syntax(), writer.file.syntax());
    if rs != ws {
        errors.push(format!(
            "syntax changed from {} (writer) to {} (reader)",
            syntax_name(ws),
            syntax_name(rs)
        ));
    }
    if let (Some(r), Some(w)) = (reader.file.messages().next(), writer.file.messages().next())
        && r.name() != w.name()
    {
        errors.push(format!(
            "root message changed from '{}' (writer) to '{}' (reader)",
            w.name(),
            r.name()
        ));
    }
    let reader_messages = reader.messages();
    for (name, w) in writer.messages() {
        match reader_messages.get(&name) {
            None => errors.push(format!("message '{name}': removed")),
            Some(r) => compare_message(&name, r, &w, &mut errors),
        }
    }
    errors
}

/// Wire-compatible scalar groups, as Confluent groups them.
fn scalar_group(kind: &Kind) -> Option<u8> {
    Some(match kind {
        Kind::Int32 | Kind::Uint32 | Kind::Int64 | Kind::Uint64 | Kind::Bool => 1,
        Kind::Sint32 | Kind::Sint64 => 2,
        Kind::Fixed32 | Kind::Sfixed32 => 3,
        Kind::Fixed64 | Kind::Sfixed64 => 4,
        Kind::String | Kind::Bytes => 5,
        Kind::Float => 6,
        Kind::Double => 7,
        Kind::Message(_) | Kind::Enum(_) => return None,
    })
}

fn describe_kind(kind: &Kind) -> String {
    match kind {
        Kind::Message(m) => format!("message {}", relative(m.full_name(), m.package_name())),
        Kind::Enum(e) => format!("enum {}", relative(e.full_name(), e.package_name())),
        other => format!("{other:?}").to_ascii_lowercase(),
    }
}

/// Why a field's type change breaks, if it does.
fn kind_change(r: &Kind, w: &Kind) -> Option<String> {
    let broken = match (r, w) {
        (Kind::Message(rm), Kind::Message(wm)) => {
            relative(rm.full_name(), rm.package_name())
                != relative(wm.full_name(), wm.package_name())
        }
        (Kind::Enum(re), Kind::Enum(we)) => {
            relative(re.full_name(), re.package_name())
                != relative(we.full_name(), we.package_name())
        }
        _ => match (scalar_group(r), scalar_group(w)) {
            (Some(a), Some(b)) => a != b,
            _ => true,
        },
    };
    broken.then(|| {
        format!(
            "type changed from {} (writer) to {} (reader), which is not wire-compatible",
            describe_kind(w),
            describe_kind(r)
        )
    })
}

fn label(f: &prost_reflect::FieldDescriptor) -> &'static str {
    if f.is_map() {
        "map"
    } else if f.is_list() {
        "repeated"
    } else {
        "singular"
    }
}

fn compare_message(
    name: &str,
    r: &MessageDescriptor,
    w: &MessageDescriptor,
    errors: &mut Vec<String>,
) {
    for wf in w.fields() {
        let at = format!("field '{name}.{}' (number {})", wf.name(), wf.number());
        let Some(rf) = r.get_field(wf.number()) else {
            if wf.cardinality() == Cardinality::Required {
                errors.push(format!("{at}: required field removed"));
            }
            continue;
        };
        if label(&rf) != label(&wf) {
            errors.push(format!(
                "{at}: changed from {} (writer) to {} (reader)",
                label(&wf),
                label(&rf)
            ));
            continue;
        }
        if rf.is_map() {
            if let (Kind::Message(re), Kind::Message(we)) = (rf.kind(), wf.kind()) {
                for (n, part) in [(1, "key"), (2, "value")] {
                    if let (Some(rk), Some(wk)) = (re.get_field(n), we.get_field(n))
                        && let Some(why) = kind_change(&rk.kind(), &wk.kind())
                    {
                        errors.push(format!("{at}: map {part} {why}"));
                    }
                }
            }
        } else if let Some(why) = kind_change(&rf.kind(), &wf.kind()) {
            errors.push(format!("{at}: {why}"));
        }
        if rf.cardinality() == Cardinality::Required && wf.cardinality() != Cardinality::Required {
            errors.push(format!("{at}: field became required"));
        }
    }
    for rf in r.fields() {
        if rf.cardinality() == Cardinality::Required && w.get_field(rf.number()).is_none() {
            errors.push(format!(
                "field '{name}.{}' (number {}): required field added",
                rf.name(),
                rf.number()
            ));
        }
    }
    // Oneofs: fields that were outside any (real) oneof in the writer and are inside one now.
    let writer_oneofs: BTreeSet<String> = w
        .oneofs()
        .filter(|o| !o.is_synthetic())
        .map(|o| o.name().to_owned())
        .collect();
    for oneof in r.oneofs().filter(|o| !o.is_synthetic()) {
        let moved: Vec<String> = oneof
            .fields()
            .filter(|rf| {
                w.get_field(rf.number())
                    .is_some_and(|wf| wf.containing_oneof().is_none_or(|o| o.is_synthetic()))
            })
            .map(|rf| rf.name().to_owned())
            .collect();
        if moved.is_empty() {
            continue;
        }
        if writer_oneofs.contains(oneof.name()) {
            errors.push(format!(
                "oneof '{name}.{}': field(s) [{}] moved into an existing oneof",
                oneof.name(),
                moved.join(", ")
            ));
        } else if moved.len() > 1 {
            errors.push(format!(
                "oneof '{name}.{}': several existing fields [{}] moved into a new oneof",
                oneof.name(),
                moved.join(", ")
            ));
        }
    }
}
