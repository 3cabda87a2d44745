//! Protobuf compatibility, following the main rules of Confluent's `ProtobufSchema` diff.
//!
//! The schema text is either `.proto` source or the base64 of a serialized
//! `FileDescriptorProto` (Confluent accepts both). Imports resolve through the schema's
//! references (by import path); Google's well-known types are built in.
//!
//! Comparing the writer (original) schema with the reader (updated) one, these changes are
//! **incompatible** (the rules of Confluent's diff):
//!
//! * **package changed**;
//! * **message removed**: a message of the writer (top-level or nested, compared by name relative
//!   to the package) has no counterpart in the reader. As in Confluent, the check is directional:
//!   under FORWARD a message *added* by the new schema is a message the old one lacks;
//! * **field kind changed**: a field number is reused with a kind of another kind: scalar (enums
//!   count as scalars) vs message, or map vs non-map;
//! * **scalar kind changed** outside a wire-compatible group; the groups are
//!   `int32`/`uint32`/`int64`/`uint64`/`bool`/enums, `sint32`/`sint64`, `fixed32`/`sfixed32`,
//!   `fixed64`/`sfixed64` and `string`/`bytes` (`float` and `double` stand alone);
//! * **named type changed**: a message field now has a message type of another name (compared
//!   relative to the package); a message type of the same name that comes from an import is
//!   compared field by field too;
//! * **numeric label changed**: a numeric (or enum) field changed between singular and
//!   `repeated` (packed encoding differs); for `string`, `bytes` and message fields this is
//!   compatible;
//! * map key / value types changed by the rules above;
//! * **required field added** or **required field removed** (`proto2`), including a field that
//!   becomes or stops being required;
//! * **oneofs**: several fields that were outside any oneof moved into one oneof, or a single
//!   field moved into a oneof that also holds fields that were in a oneof before.
//!
//! Compatible (as in Confluent): adding messages, fields, enums, enum values or oneofs; removing
//! optional fields, enums or enum values; renaming fields; reordering messages; moving a single
//! field into a new oneof; changing a field between enum types or between an enum and an
//! integer.
//!
//! Not compared: the `syntax` line itself (Confluent does not either; the field rules above
//! catch what matters), options, services, and extensions.

use std::collections::{BTreeMap, HashSet};

use base64::Engine;
use prost::Message;
use prost_reflect::{
    Cardinality, DescriptorPool, FieldDescriptor, FileDescriptor, Kind, MessageDescriptor,
};
use protox::file::{File, FileResolver, GoogleFileResolver};

use super::{Budget, Exhausted, Resolved};
use crate::RegistryError;

/// The file name the checked schema gets when its text carries none.
const MAIN_FILE: &str = "kcodec_compat_schema.proto";

/// A parsed Protobuf schema: its file and every file it imports.
#[derive(Debug)]
pub struct ProtoSchema {
    file: FileDescriptor,
    /// The file carries what `prost_types::FileDescriptorProto` does not keep: extension
    /// (custom) options, or unknown fields in a base64 descriptor.
    opaque: bool,
}

/// Whether a base64 descriptor holds more than `prost_types::FileDescriptorProto` keeps (custom
/// options are extensions, which decoding drops): re-encoding it does not give its bytes back.
fn descriptor_loses_data(text: &str) -> bool {
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(text.trim()) else {
        return false;
    };
    prost_types::FileDescriptorProto::decode(bytes.as_slice())
        .is_ok_and(|fdp| fdp.encode_to_vec() != bytes)
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

/// How deep braces, brackets, parentheses and angle brackets may nest in `.proto` source (message
/// nesting and option values): the parser recurses per level.
pub const MAX_NESTING: usize = 64;

/// Refuses `.proto` source nested deeper than [`MAX_NESTING`] (outside strings and comments),
/// before the recursive parser sees it.
fn check_nesting(name: &str, text: &str) -> Result<(), RegistryError> {
    let bytes = text.as_bytes();
    let (mut depth, mut i) = (0usize, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'{' | b'[' | b'(' | b'<' => {
                depth += 1;
                if depth > MAX_NESTING {
                    let line = 1 + bytes[..i].iter().filter(|b| **b == b'\n').count();
                    return Err(RegistryError::InvalidSchema(format!(
                        "Protobuf: {name}:{line}: nesting deeper than {MAX_NESTING} levels"
                    )));
                }
            }
            b'}' | b']' | b')' | b'>' => depth = depth.saturating_sub(1),
            quote @ (b'"' | b'\'') => {
                i += 1;
                while i < bytes.len() && bytes[i] != quote && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < bytes.len() && !(bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    Ok(())
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
        if is_descriptor(text).is_none() {
            check_nesting(MAIN_FILE, text)?;
        }
        for (name, reference) in resolved.references {
            if is_descriptor(&reference.schema).is_none() {
                check_nesting(name, &reference.schema)?;
            }
        }
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
        let opaque = file.encode_to_vec() != file.file_descriptor_proto().encode_to_vec()
            || (is_descriptor(text).is_some() && descriptor_loses_data(text));
        Ok(ProtoSchema { file, opaque })
    }

    /// Whether [`ProtoSchema::canonical_descriptor`] leaves something of the file out: custom
    /// (extension) options, such as Confluent's `(confluent.field_meta)`, or unknown fields of a
    /// base64 descriptor. Such a schema is only the same as another with the same text.
    pub fn has_uncompared_parts(&self) -> bool {
        self.opaque
    }

    /// The file as a `FileDescriptorProto` in a form that two texts of the same schema share,
    /// whatever they were written as (`.proto` source with any formatting and comments, or a
    /// base64 descriptor as `protoc` and Confluent's Python client write it): no file name, no
    /// source code info, no JSON names that merely repeat the default, no `syntax` for `proto2`
    /// (its default). The registry compares these to decide whether a schema is already known
    /// (Confluent compares its canonical printed form of the parsed file).
    ///
    /// ```
    /// use kcodec_registry::compat::protobuf::ProtoSchema;
    /// use kcodec_registry::compat::{References, Resolved};
    /// use kcodec_registry::Schema;
    ///
    /// let none = References::new();
    /// let parse = |text: &str| {
    ///     let schema = Schema::protobuf(text);
    ///     ProtoSchema::parse(Resolved { schema: &schema, references: &none }).unwrap()
    /// };
    /// let a = parse("syntax = \"proto3\"; package t; message A { int32 x = 1; }");
    /// let b = parse("syntax = \"proto3\";\n// A comment\npackage t;\n\nmessage A {\n  int32 x = 1;\n}\n");
    /// assert_eq!(a.canonical_descriptor(), b.canonical_descriptor());
    /// ```
    pub fn canonical_descriptor(&self) -> prost_types::FileDescriptorProto {
        let mut proto = self.file.file_descriptor_proto().clone();
        proto.name = None;
        proto.source_code_info = None;
        if proto.syntax.as_deref() == Some("proto2") {
            proto.syntax = None;
        }
        for message in &mut proto.message_type {
            strip_default_json_names(message);
        }
        for field in &mut proto.extension {
            field.json_name = None;
        }
        proto
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

/// Clears the JSON names of a message's fields (nested messages too) that equal the default
/// one, and those of extensions (which `protoc` never writes).
fn strip_default_json_names(message: &mut prost_types::DescriptorProto) {
    for field in &mut message.field {
        if field.json_name.as_deref() == Some(default_json_name(field.name()).as_str()) {
            field.json_name = None;
        }
    }
    for field in &mut message.extension {
        field.json_name = None;
    }
    for nested in &mut message.nested_type {
        strip_default_json_names(nested);
    }
}

/// The JSON name `protoc` gives a field: underscores dropped, the letter after each one upper
/// case.
fn default_json_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
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

/// Messages for data written with `writer` and read with `reader` (empty = compatible).
///
/// Like Confluent's diff of the writer (original) against the reader (updated) schema.
///
/// Each message is compared once, whatever the number of fields using it; messages nested
/// through fields are compared from a work list, not by recursion, so no nesting depth
/// overflows the stack. Returns [`Exhausted`] when the check needs more than its work budget.
pub fn can_read(reader: &ProtoSchema, writer: &ProtoSchema) -> Result<Vec<String>, Exhausted> {
    can_read_within(reader, writer, &mut Budget::default())
}

/// [`can_read`] taking its steps from `budget`.
pub(super) fn can_read_within(
    reader: &ProtoSchema,
    writer: &ProtoSchema,
    budget: &mut Budget,
) -> Result<Vec<String>, Exhausted> {
    let mut ctx = Ctx {
        errors: Vec::new(),
        visited: HashSet::new(),
        pending: Vec::new(),
        budget: std::mem::take(budget),
    };
    let (rp, wp) = (reader.file.package_name(), writer.file.package_name());
    if rp != wp {
        ctx.errors.push(format!(
            "package changed from '{wp}' (writer) to '{rp}' (reader)"
        ));
    }
    let reader_messages = reader.messages();
    for (name, w) in writer.messages() {
        match reader_messages.get(&name) {
            None => ctx.errors.push(format!("message '{name}': removed")),
            Some(r) => {
                ctx.visited.insert(name.clone());
                ctx.compare_message(&name, r, &w);
                while let Some((name, r, w)) = ctx.pending.pop() {
                    if ctx.budget.exhausted() {
                        break;
                    }
                    ctx.compare_message(&name, &r, &w);
                }
            }
        }
        if ctx.budget.exhausted() {
            break;
        }
    }
    let result = ctx.budget.result(ctx.errors);
    *budget = ctx.budget;
    result
}

/// Wire-compatible scalar groups, as Confluent groups them (an enum is a general number).
fn scalar_group(kind: &Kind) -> Option<u8> {
    Some(match kind {
        Kind::Int32 | Kind::Uint32 | Kind::Int64 | Kind::Uint64 | Kind::Bool | Kind::Enum(_) => 1,
        Kind::Sint32 | Kind::Sint64 => 2,
        Kind::Fixed32 | Kind::Sfixed32 => 3,
        Kind::Fixed64 | Kind::Sfixed64 => 4,
        Kind::String | Kind::Bytes => 5,
        Kind::Float => 6,
        Kind::Double => 7,
        Kind::Message(_) => return None,
    })
}

fn describe_kind(kind: &Kind) -> String {
    match kind {
        Kind::Message(m) => format!("message {}", relative(m.full_name(), m.package_name())),
        Kind::Enum(e) => format!("enum {}", relative(e.full_name(), e.package_name())),
        other => format!("{other:?}").to_ascii_lowercase(),
    }
}

fn label(f: &FieldDescriptor) -> &'static str {
    if f.is_map() {
        "map"
    } else if f.is_list() {
        "repeated"
    } else {
        "singular"
    }
}

struct Ctx {
    errors: Vec<String>,
    /// Messages (relative names) already compared, so recursive and shared types end.
    visited: HashSet<String>,
    /// Messages met through fields, still to compare.
    pending: Vec<(String, MessageDescriptor, MessageDescriptor)>,
    budget: Budget,
}

impl Ctx {
    /// Compares the types of a field (or a map key / value) present on both sides.
    fn compare_types(&mut self, at: &str, r: &Kind, w: &Kind) {
        match (r, w) {
            (Kind::Message(rm), Kind::Message(wm)) => {
                let (rn, wn) = (
                    relative(rm.full_name(), rm.package_name()),
                    relative(wm.full_name(), wm.package_name()),
                );
                if rn != wn {
                    self.errors.push(format!(
                        "{at}: type changed from message {wn} (writer) to message {rn} (reader)"
                    ));
                } else if self.visited.insert(rn.clone()) {
                    // Same name: compare the message itself (matters for imported ones; the
                    // schema's own messages are compared by name anyway).
                    self.pending.push((rn, rm.clone(), wm.clone()));
                }
            }
            (Kind::Message(_), _) | (_, Kind::Message(_)) => self.errors.push(format!(
                "{at}: kind changed from {} (writer) to {} (reader)",
                describe_kind(w),
                describe_kind(r)
            )),
            _ => {
                if scalar_group(r) != scalar_group(w) {
                    self.errors.push(format!(
                        "{at}: type changed from {} (writer) to {} (reader), which is not wire-compatible",
                        describe_kind(w),
                        describe_kind(r)
                    ));
                }
            }
        }
    }

    fn compare_field(&mut self, at: &str, rf: &FieldDescriptor, wf: &FieldDescriptor) {
        let (rl, wl) = (label(rf), label(wf));
        if rf.is_map() != wf.is_map() {
            self.errors.push(format!(
                "{at}: kind changed from {wl} (writer) to {rl} (reader)"
            ));
            return;
        }
        if rf.is_map() {
            if let (Kind::Message(re), Kind::Message(we)) = (rf.kind(), wf.kind()) {
                for (n, part) in [(1, "key"), (2, "value")] {
                    if let (Some(rk), Some(wk)) = (re.get_field(n), we.get_field(n)) {
                        self.compare_types(&format!("{at}: map {part}"), &rk.kind(), &wk.kind());
                    }
                }
            }
            return;
        }
        let before = self.errors.len();
        self.compare_types(at, &rf.kind(), &wf.kind());
        // Singular <-> repeated: numbers change encoding (packed); strings, bytes and messages
        // are length-delimited either way.
        let numeric = !matches!(wf.kind(), Kind::String | Kind::Bytes | Kind::Message(_));
        if self.errors.len() == before && rl != wl && numeric {
            self.errors.push(format!(
                "{at}: numeric field changed from {wl} (writer) to {rl} (reader)"
            ));
        }
    }

    fn compare_message(&mut self, name: &str, r: &MessageDescriptor, w: &MessageDescriptor) {
        for wf in w.fields() {
            self.budget.spend();
            let at = format!("field '{name}.{}' (number {})", wf.name(), wf.number());
            match r.get_field(wf.number()) {
                None if wf.cardinality() == Cardinality::Required => {
                    self.errors.push(format!("{at}: required field removed"));
                }
                None => {}
                Some(rf) => {
                    self.compare_field(&at, &rf, &wf);
                    if rf.cardinality() == Cardinality::Required
                        && wf.cardinality() != Cardinality::Required
                    {
                        self.errors.push(format!("{at}: field became required"));
                    } else if wf.cardinality() == Cardinality::Required
                        && rf.cardinality() != Cardinality::Required
                    {
                        self.errors
                            .push(format!("{at}: field is no longer required"));
                    }
                }
            }
        }
        for rf in r.fields() {
            if rf.cardinality() == Cardinality::Required && w.get_field(rf.number()).is_none() {
                self.errors.push(format!(
                    "field '{name}.{}' (number {}): required field added",
                    rf.name(),
                    rf.number()
                ));
            }
        }
        // Oneofs of the reader: fields that were outside any (real) oneof in the writer
        // ("moved"), and fields that were in some writer oneof ("existing").
        let in_real_oneof =
            |f: &FieldDescriptor| f.containing_oneof().is_some_and(|o| !o.is_synthetic());
        for oneof in r.oneofs().filter(|o| !o.is_synthetic()) {
            let mut moved = Vec::new();
            let mut existing = 0;
            for rf in oneof.fields() {
                if let Some(wf) = w.get_field(rf.number()) {
                    if in_real_oneof(&wf) {
                        existing += 1;
                    } else {
                        moved.push(rf.name().to_owned());
                    }
                }
            }
            if moved.len() > 1 {
                self.errors.push(format!(
                    "oneof '{name}.{}': several existing fields [{}] moved into a new oneof",
                    oneof.name(),
                    moved.join(", ")
                ));
            } else if moved.len() == 1 && existing > 0 {
                self.errors.push(format!(
                    "oneof '{name}.{}': field [{}] moved into an existing oneof",
                    oneof.name(),
                    moved.join(", ")
                ));
            }
        }
    }
}
