//! `FileDescriptorProto` → `.proto` text.
//!
//! Prints what a registry needs to hand a schema registered as a serialized descriptor back as
//! text: syntax, package, imports, the options `descriptor.proto` defines, messages (fields, maps,
//! groups, oneofs, proto3 `optional`, defaults, reserved and extension ranges), enums, services
//! and extensions. Type names are printed fully qualified (`.pkg.Msg`), which every `.proto`
//! parser accepts, so the text compiles back to the same descriptor. Custom (extension) options
//! are not printed: `prost-types` does not keep them.

use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{
    DescriptorProto, EnumDescriptorProto, FieldDescriptorProto, FileDescriptorProto,
    ServiceDescriptorProto,
};
use std::fmt::Write as _;

/// Field numbers end below 2^29; a range ending there prints as `max`.
const MAX_FIELD_END: i32 = 536_870_912;

/// Prints `file` as `.proto` source that compiles back to the same descriptor (custom options
/// aside).
///
/// ```
/// # use kcodec_codecs::protobuf::{ProtobufSchema, file_to_proto_text};
/// let schema = ProtobufSchema::parse_text("a.proto", r#"
///     syntax = "proto3";
///     package shop;
///     message Order { string id = 1; map<string, int64> totals = 2; }
/// "#).unwrap();
/// let text = file_to_proto_text(schema.file().file_descriptor_proto());
/// assert!(text.contains("map<string, int64> totals = 2;"));
/// let again = ProtobufSchema::parse_text("a.proto", &text).unwrap();
/// assert_eq!(again.to_base64(), schema.to_base64()); // the same descriptor
/// ```
pub fn file_to_proto_text(file: &FileDescriptorProto) -> String {
    let mut p = Printer {
        out: String::new(),
        proto3: file.syntax() == "proto3",
        editions: file.syntax() == "editions",
    };
    p.file(file);
    p.out
}

struct Printer {
    out: String,
    proto3: bool,
    editions: bool,
}

impl Printer {
    fn line(&mut self, depth: usize, text: &str) {
        for _ in 0..depth {
            self.out.push_str("  ");
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    fn file(&mut self, file: &FileDescriptorProto) {
        if self.editions {
            // prost-types does not carry the edition number; 2023 is the only released one.
            self.line(0, "edition = \"2023\";");
        } else if self.proto3 {
            self.line(0, "syntax = \"proto3\";");
        } else {
            self.line(0, "syntax = \"proto2\";");
        }
        if !file.package().is_empty() {
            self.line(0, &format!("package {};", file.package()));
        }
        for (i, dep) in file.dependency.iter().enumerate() {
            let i = i32::try_from(i).unwrap_or(i32::MAX);
            let kind = if file.public_dependency.contains(&i) {
                "public "
            } else if file.weak_dependency.contains(&i) {
                "weak "
            } else {
                ""
            };
            self.line(0, &format!("import {kind}{};", quote(dep)));
        }
        if let Some(o) = &file.options {
            let mut opts = Vec::new();
            str_opt(&mut opts, "java_package", &o.java_package);
            str_opt(&mut opts, "java_outer_classname", &o.java_outer_classname);
            bool_opt(&mut opts, "java_multiple_files", o.java_multiple_files);
            #[allow(deprecated)] // still a valid option in .proto text
            bool_opt(
                &mut opts,
                "java_generate_equals_and_hash",
                o.java_generate_equals_and_hash,
            );
            bool_opt(
                &mut opts,
                "java_string_check_utf8",
                o.java_string_check_utf8,
            );
            if let Some(v) = o.optimize_for {
                let name = match v {
                    1 => "SPEED",
                    2 => "CODE_SIZE",
                    3 => "LITE_RUNTIME",
                    _ => "",
                };
                if !name.is_empty() {
                    opts.push(format!("optimize_for = {name}"));
                }
            }
            str_opt(&mut opts, "go_package", &o.go_package);
            bool_opt(&mut opts, "cc_generic_services", o.cc_generic_services);
            bool_opt(&mut opts, "java_generic_services", o.java_generic_services);
            bool_opt(&mut opts, "py_generic_services", o.py_generic_services);
            bool_opt(&mut opts, "deprecated", o.deprecated);
            bool_opt(&mut opts, "cc_enable_arenas", o.cc_enable_arenas);
            str_opt(&mut opts, "objc_class_prefix", &o.objc_class_prefix);
            str_opt(&mut opts, "csharp_namespace", &o.csharp_namespace);
            str_opt(&mut opts, "swift_prefix", &o.swift_prefix);
            str_opt(&mut opts, "php_class_prefix", &o.php_class_prefix);
            str_opt(&mut opts, "php_namespace", &o.php_namespace);
            str_opt(
                &mut opts,
                "php_metadata_namespace",
                &o.php_metadata_namespace,
            );
            str_opt(&mut opts, "ruby_package", &o.ruby_package);
            for opt in opts {
                self.line(0, &format!("option {opt};"));
            }
        }
        for message in &file.message_type {
            self.out.push('\n');
            self.message(0, message);
        }
        for e in &file.enum_type {
            self.out.push('\n');
            self.enumeration(0, e);
        }
        for s in &file.service {
            self.out.push('\n');
            self.service(s);
        }
        if !file.extension.is_empty() {
            self.out.push('\n');
            self.extensions(0, &file.extension, &[]);
        }
    }

    fn message(&mut self, depth: usize, m: &DescriptorProto) {
        self.line(depth, &format!("message {} {{", m.name()));
        self.message_body(depth + 1, m);
        self.line(depth, "}");
    }

    fn message_body(&mut self, depth: usize, m: &DescriptorProto) {
        if let Some(o) = &m.options {
            let mut opts = Vec::new();
            bool_opt(
                &mut opts,
                "message_set_wire_format",
                o.message_set_wire_format,
            );
            bool_opt(
                &mut opts,
                "no_standard_descriptor_accessor",
                o.no_standard_descriptor_accessor,
            );
            bool_opt(&mut opts, "deprecated", o.deprecated);
            for opt in opts {
                self.line(depth, &format!("option {opt};"));
            }
        }
        // Fields and nested messages are printed interleaved so that the text compiles back to the
        // same order of nested types: a map field (or group) creates its nested type where the
        // field stands, which fixes the other nested types' message indexes.
        let linked = |nested: &DescriptorProto| {
            m.field.iter().position(|f| {
                matches!(f.r#type(), Type::Message | Type::Group)
                    && f.type_name().rsplit('.').next() == Some(nested.name())
                    && (f.r#type() == Type::Group
                        || nested.options.as_ref().and_then(|o| o.map_entry) == Some(true))
            })
        };
        let mut next_field = 0;
        let mut printed_oneofs = Vec::new();
        for nested in &m.nested_type {
            match linked(nested) {
                Some(field) => {
                    while next_field <= field {
                        self.field_or_oneof(depth, m, next_field, &mut printed_oneofs);
                        next_field += 1;
                    }
                }
                None => {
                    let is_map_entry =
                        nested.options.as_ref().and_then(|o| o.map_entry) == Some(true);
                    if !is_map_entry && !is_group_type(m, nested) {
                        self.message(depth, nested);
                    }
                }
            }
        }
        while next_field < m.field.len() {
            self.field_or_oneof(depth, m, next_field, &mut printed_oneofs);
            next_field += 1;
        }
        for e in &m.enum_type {
            self.enumeration(depth, e);
        }
        for range in &m.extension_range {
            self.line(
                depth,
                &format!(
                    "extensions {};",
                    range_text(range.start(), range.end(), true)
                ),
            );
        }
        if !m.reserved_range.is_empty() {
            let ranges: Vec<String> = m
                .reserved_range
                .iter()
                .map(|r| range_text(r.start(), r.end(), true))
                .collect();
            self.line(depth, &format!("reserved {};", ranges.join(", ")));
        }
        if !m.reserved_name.is_empty() {
            let names: Vec<String> = m.reserved_name.iter().map(|n| quote(n)).collect();
            self.line(depth, &format!("reserved {};", names.join(", ")));
        }
        if !m.extension.is_empty() {
            self.extensions(depth, &m.extension, &m.nested_type);
        }
    }

    /// Prints field `index`, or the whole oneof it belongs to (once, at its first member).
    fn field_or_oneof(
        &mut self,
        depth: usize,
        m: &DescriptorProto,
        index: usize,
        printed_oneofs: &mut Vec<i32>,
    ) {
        let field = &m.field[index];
        // A proto3 `optional` field sits alone in a synthetic oneof: print it as a plain field.
        match field.oneof_index {
            Some(oneof) if !field.proto3_optional() => {
                if printed_oneofs.contains(&oneof) {
                    return;
                }
                printed_oneofs.push(oneof);
                let name = usize::try_from(oneof)
                    .ok()
                    .and_then(|i| m.oneof_decl.get(i))
                    .map_or("", |o| o.name());
                self.line(depth, &format!("oneof {name} {{"));
                for member in m.field.iter().filter(|f| f.oneof_index == Some(oneof)) {
                    self.field(depth + 1, member, m, true);
                }
                self.line(depth, "}");
            }
            _ => self.field(depth, field, m, false),
        }
    }

    fn field(
        &mut self,
        depth: usize,
        f: &FieldDescriptorProto,
        parent: &DescriptorProto,
        in_oneof: bool,
    ) {
        let map_entry = (f.r#type() == Type::Message && f.label() == Label::Repeated)
            .then(|| nested_by_type_name(parent, f.type_name()))
            .flatten()
            .filter(|n| n.options.as_ref().and_then(|o| o.map_entry) == Some(true));
        let options = field_options(f);
        let number = f.number();
        if let Some(entry) = map_entry {
            let key = entry.field.iter().find(|k| k.number() == 1);
            let value = entry.field.iter().find(|k| k.number() == 2);
            let (Some(key), Some(value)) = (key, value) else {
                return;
            };
            self.line(
                depth,
                &format!(
                    "map<{}, {}> {} = {number}{options};",
                    type_text(key),
                    type_text(value),
                    f.name()
                ),
            );
            return;
        }
        let label = if in_oneof {
            ""
        } else {
            match f.label() {
                Label::Repeated => "repeated ",
                Label::Required => "required ",
                Label::Optional if f.proto3_optional() => "optional ",
                Label::Optional if !self.proto3 && !self.editions => "optional ",
                Label::Optional => "",
            }
        };
        if f.r#type() == Type::Group {
            let group = nested_by_type_name(parent, f.type_name());
            self.line(
                depth,
                &format!(
                    "{label}group {} = {number}{options} {{",
                    group.map_or(f.name(), |g| g.name())
                ),
            );
            if let Some(group) = group {
                self.message_body(depth + 1, group);
            }
            self.line(depth, "}");
            return;
        }
        self.line(
            depth,
            &format!("{label}{} {} = {number}{options};", type_text(f), f.name()),
        );
    }

    fn extensions(
        &mut self,
        depth: usize,
        fields: &[FieldDescriptorProto],
        scope: &[DescriptorProto],
    ) {
        let holder = DescriptorProto {
            nested_type: scope.to_vec(),
            ..Default::default()
        };
        let mut extendees: Vec<&str> = Vec::new();
        for f in fields {
            if !extendees.contains(&f.extendee()) {
                extendees.push(f.extendee());
            }
        }
        for extendee in extendees {
            self.line(depth, &format!("extend {extendee} {{"));
            for f in fields.iter().filter(|f| f.extendee() == extendee) {
                self.field(depth + 1, f, &holder, false);
            }
            self.line(depth, "}");
        }
    }

    fn enumeration(&mut self, depth: usize, e: &EnumDescriptorProto) {
        self.line(depth, &format!("enum {} {{", e.name()));
        if let Some(o) = &e.options {
            let mut opts = Vec::new();
            bool_opt(&mut opts, "allow_alias", o.allow_alias);
            bool_opt(&mut opts, "deprecated", o.deprecated);
            for opt in opts {
                self.line(depth + 1, &format!("option {opt};"));
            }
        }
        for v in &e.value {
            let mut opts = Vec::new();
            if let Some(o) = &v.options {
                bool_opt(&mut opts, "deprecated", o.deprecated);
            }
            self.line(
                depth + 1,
                &format!("{} = {}{};", v.name(), v.number(), bracket(&opts)),
            );
        }
        if !e.reserved_range.is_empty() {
            let ranges: Vec<String> = e
                .reserved_range
                .iter()
                .map(|r| range_text(r.start(), r.end(), false))
                .collect();
            self.line(depth + 1, &format!("reserved {};", ranges.join(", ")));
        }
        if !e.reserved_name.is_empty() {
            let names: Vec<String> = e.reserved_name.iter().map(|n| quote(n)).collect();
            self.line(depth + 1, &format!("reserved {};", names.join(", ")));
        }
        self.line(depth, "}");
    }

    fn service(&mut self, s: &ServiceDescriptorProto) {
        self.line(0, &format!("service {} {{", s.name()));
        if s.options.as_ref().and_then(|o| o.deprecated) == Some(true) {
            self.line(1, "option deprecated = true;");
        }
        for m in &s.method {
            let stream = |yes: bool| if yes { "stream " } else { "" };
            let head = format!(
                "rpc {}({}{}) returns ({}{})",
                m.name(),
                stream(m.client_streaming()),
                m.input_type(),
                stream(m.server_streaming()),
                m.output_type()
            );
            let mut opts = Vec::new();
            if let Some(o) = &m.options {
                bool_opt(&mut opts, "deprecated", o.deprecated);
                match o.idempotency_level {
                    Some(1) => opts.push("idempotency_level = NO_SIDE_EFFECTS".to_owned()),
                    Some(2) => opts.push("idempotency_level = IDEMPOTENT".to_owned()),
                    _ => {}
                }
            }
            if opts.is_empty() {
                self.line(1, &format!("{head};"));
            } else {
                self.line(1, &format!("{head} {{"));
                for opt in opts {
                    self.line(2, &format!("option {opt};"));
                }
                self.line(1, "}");
            }
        }
        self.line(0, "}");
    }
}

/// Whether `nested` is the message type of one of `parent`'s group fields.
fn is_group_type(parent: &DescriptorProto, nested: &DescriptorProto) -> bool {
    parent.field.iter().chain(&parent.extension).any(|f| {
        f.r#type() == Type::Group && f.type_name().rsplit('.').next() == Some(nested.name())
    })
}

/// The nested type of `parent` that a field's fully qualified `type_name` names.
fn nested_by_type_name<'a>(
    parent: &'a DescriptorProto,
    type_name: &str,
) -> Option<&'a DescriptorProto> {
    let simple = type_name.rsplit('.').next()?;
    parent.nested_type.iter().find(|n| n.name() == simple)
}

fn type_text(f: &FieldDescriptorProto) -> String {
    let name = match f.r#type() {
        Type::Double => "double",
        Type::Float => "float",
        Type::Int64 => "int64",
        Type::Uint64 => "uint64",
        Type::Int32 => "int32",
        Type::Fixed64 => "fixed64",
        Type::Fixed32 => "fixed32",
        Type::Bool => "bool",
        Type::String => "string",
        Type::Bytes => "bytes",
        Type::Uint32 => "uint32",
        Type::Sfixed32 => "sfixed32",
        Type::Sfixed64 => "sfixed64",
        Type::Sint32 => "sint32",
        Type::Sint64 => "sint64",
        Type::Group | Type::Message | Type::Enum => return f.type_name().to_owned(),
    };
    name.to_owned()
}

/// The default JSON name protoc derives: underscores dropped, the letter after each capitalized.
pub(crate) fn default_json_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn field_options(f: &FieldDescriptorProto) -> String {
    let mut opts = Vec::new();
    if let Some(default) = &f.default_value {
        let text = match f.r#type() {
            Type::String => quote(default),
            // descriptor.proto keeps a bytes default C-escaped already.
            Type::Bytes => format!("\"{default}\""),
            _ => default.clone(),
        };
        opts.push(format!("default = {text}"));
    }
    if let Some(json_name) = &f.json_name
        && f.extendee.is_none()
        && *json_name != default_json_name(f.name())
    {
        opts.push(format!("json_name = {}", quote(json_name)));
    }
    if let Some(o) = &f.options {
        if let Some(ctype) = o.ctype {
            match ctype {
                1 => opts.push("ctype = CORD".to_owned()),
                2 => opts.push("ctype = STRING_PIECE".to_owned()),
                _ => opts.push("ctype = STRING".to_owned()),
            }
        }
        bool_opt(&mut opts, "packed", o.packed);
        if let Some(jstype) = o.jstype {
            match jstype {
                1 => opts.push("jstype = JS_STRING".to_owned()),
                2 => opts.push("jstype = JS_NUMBER".to_owned()),
                _ => opts.push("jstype = JS_NORMAL".to_owned()),
            }
        }
        bool_opt(&mut opts, "lazy", o.lazy);
        bool_opt(&mut opts, "deprecated", o.deprecated);
        bool_opt(&mut opts, "weak", o.weak);
    }
    bracket(&opts)
}

fn bracket(opts: &[String]) -> String {
    if opts.is_empty() {
        String::new()
    } else {
        format!(" [{}]", opts.join(", "))
    }
}

fn bool_opt(opts: &mut Vec<String>, name: &str, value: Option<bool>) {
    if let Some(v) = value {
        opts.push(format!("{name} = {v}"));
    }
}

fn str_opt(opts: &mut Vec<String>, name: &str, value: &Option<String>) {
    if let Some(v) = value {
        opts.push(format!("{name} = {}", quote(v)));
    }
}

/// `start to end`, for a range whose `end` is exclusive (message ranges) or inclusive (enums).
fn range_text(start: i32, end: i32, end_exclusive: bool) -> String {
    let last = if end_exclusive {
        end.saturating_sub(1)
    } else {
        end
    };
    if (end_exclusive && end >= MAX_FIELD_END) || (!end_exclusive && end == i32::MAX) {
        format!("{start} to max")
    } else if last == start {
        start.to_string()
    } else {
        format!("{start} to {last}")
    }
}

/// A `.proto` string literal: quotes, backslashes and control bytes escaped.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\{:03o}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
