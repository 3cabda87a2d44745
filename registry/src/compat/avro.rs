//! Avro compatibility by the schema-resolution rules of the Avro specification.
//!
//! The reader schema must be able to read every datum the writer schema can produce. Rules:
//!
//! * **Named-type references** are followed (in the schema and its references); a pair of named
//!   types already being compared is assumed compatible, so recursive types terminate.
//! * **Records** match when the unqualified names are equal or a reader alias equals the writer's
//!   full name. Each reader field is matched to the writer field of the same name or of one of its
//!   aliases and the two field types are checked recursively. A reader field missing from the
//!   writer needs a default (`READER_FIELD_MISSING_DEFAULT_VALUE`). Writer fields the reader
//!   lacks are skipped and allowed.
//! * **Promotions**: `int` → `long`, `float`, `double`; `long` → `float`, `double`;
//!   `float` → `double`; `string` ↔ `bytes`. Any other primitive change is a type mismatch.
//! * **Enums** match by name (as records); every writer symbol must be a reader symbol unless the
//!   reader enum has a `default`.
//! * **Fixed** types match by name (as records) and must have the same size.
//! * **Arrays** and **maps** are compatible when their item / value types are.
//! * **Unions**: a writer union is readable when every writer branch is readable by the reader
//!   (a union or not); a non-union writer type is readable by a reader union when some branch
//!   reads it.
//! * **Logical types** are compared by their underlying types (`date` is an `int`, timestamps are
//!   `long`s, …), except that two `decimal`s with a different precision or scale are
//!   incompatible, as Confluent's checker treats them.
//!
//! Messages name the location as a path from the root record, such as `field 'User.address.zip'`,
//! with `[]` for array items, `{}` for map values and `|N` for union branch `N`.

use std::collections::{HashMap, HashSet};

use apache_avro::Schema;
use apache_avro::schema::RecordSchema;

use super::{Budget, Exhausted, MEMO_MESSAGES, Resolved};
use crate::RegistryError;
use crate::avro_type::BaseType;

/// A parsed Avro schema together with every named type it (or its references) defines.
#[derive(Debug)]
pub struct AvroSchema {
    root: Schema,
    names: HashMap<String, Schema>,
}

impl AvroSchema {
    /// Parses the schema, with its references' texts as the named types it may use.
    pub fn parse(resolved: Resolved<'_>) -> Result<Self, RegistryError> {
        let refs: Vec<&str> = resolved
            .references
            .values()
            .map(|s| s.schema.as_str())
            .collect();
        let (root, others) = if refs.is_empty() {
            (Schema::parse_str(&resolved.schema.schema), Vec::new())
        } else {
            match Schema::parse_str_with_list(&resolved.schema.schema, refs) {
                Ok((root, others)) => (Ok(root), others),
                Err(e) => (Err(e), Vec::new()),
            }
        };
        let root = root.map_err(|e| RegistryError::InvalidSchema(format!("Avro: {e}")))?;
        let mut names = HashMap::new();
        collect_names(&root, &mut names);
        for s in &others {
            collect_names(s, &mut names);
        }
        Ok(AvroSchema { root, names })
    }
}

fn collect_names(s: &Schema, names: &mut HashMap<String, Schema>) {
    if let Some(full) = BaseType::of(s).name().map(|n| n.fullname(None)) {
        if names.contains_key(&full) {
            return;
        }
        names.insert(full, s.clone());
    }
    match s {
        Schema::Record(r) => {
            for f in &r.fields {
                collect_names(&f.schema, names);
            }
        }
        Schema::Array(a) => collect_names(&a.items, names),
        Schema::Map(m) => collect_names(&m.types, names),
        Schema::Union(u) => {
            for v in u.variants() {
                collect_names(v, names);
            }
        }
        _ => {}
    }
}

/// Messages for data written with `writer` and read with `reader` (empty = compatible), or
/// [`Exhausted`] when the check needs more than its work budget.
///
/// Each pair of records is compared once, as Java's `SchemaCompatibility` memoizes: a pair met
/// again repeats the first comparison's findings (at most [`MEMO_MESSAGES`] of them).
pub fn can_read(reader: &AvroSchema, writer: &AvroSchema) -> Result<Vec<String>, Exhausted> {
    can_read_within(reader, writer, &mut Budget::default())
}

/// [`can_read`] taking its steps from `budget`.
pub(super) fn can_read_within(
    reader: &AvroSchema,
    writer: &AvroSchema,
    budget: &mut Budget,
) -> Result<Vec<String>, Exhausted> {
    let mut ctx = Ctx {
        reader_names: &reader.names,
        writer_names: &writer.names,
        seen: HashSet::new(),
        proven: HashSet::new(),
        failed: HashMap::new(),
        budget: std::mem::take(budget),
        errors: Vec::new(),
    };
    let path = match &reader.root {
        Schema::Record(r) => r.name.name().to_owned(),
        _ => String::new(),
    };
    ctx.check(&reader.root, &writer.root, &path, 0);
    let result = ctx.budget.result(ctx.errors);
    *budget = ctx.budget;
    result
}

/// Messages name a type by its base type, a named one with its full name: `record a.B`.
fn describe(base: BaseType<'_>) -> String {
    match base {
        BaseType::Ref(name) => format!("unknown type {}", name.name()),
        base => match base.name() {
            Some(name) => format!("{} {}", base.type_name(), name.fullname(None)),
            None => base.type_name().into(),
        },
    }
}

/// Recursion bound for pathological (very deep, non-recursive) schemas.
const MAX_DEPTH: usize = 256;

struct Ctx<'a> {
    reader_names: &'a HashMap<String, Schema>,
    writer_names: &'a HashMap<String, Schema>,
    /// (reader full name, writer full name) pairs under comparison.
    seen: HashSet<(String, String)>,
    /// Record pairs already found compatible.
    proven: HashSet<(String, String)>,
    /// Record pairs already found incompatible, with their first messages.
    failed: HashMap<(String, String), Vec<String>>,
    budget: Budget,
    errors: Vec<String>,
}

fn deref<'a>(s: &'a Schema, names: &'a HashMap<String, Schema>) -> &'a Schema {
    match s {
        Schema::Ref { name } => names.get(&name.fullname(None)).unwrap_or(s),
        _ => s,
    }
}

fn location(path: &str) -> String {
    if path.is_empty() {
        "schema root".to_owned()
    } else if path.contains(['.', '[', '{', '|']) {
        format!("field '{path}'")
    } else {
        format!("type '{path}'")
    }
}

/// Whether a named type of the reader (name + aliases) matches a writer's name.
fn names_match(
    reader: &apache_avro::schema::Name,
    reader_aliases: &Option<Vec<apache_avro::schema::Alias>>,
    writer: &apache_avro::schema::Name,
) -> bool {
    reader.name() == writer.name()
        || reader_aliases.iter().flatten().any(|a| {
            let alias = a.fullname(reader.namespace());
            alias == writer.fullname(None) || a.name() == writer.name()
        })
}

impl Ctx<'_> {
    fn err(&mut self, path: &str, what: impl std::fmt::Display) {
        self.push(format!("{}: {what}", location(path)));
    }

    fn push(&mut self, message: String) {
        self.budget.spend_message(&message);
        self.errors.push(message);
    }

    fn check(&mut self, reader: &Schema, writer: &Schema, path: &str, depth: usize) {
        if depth > MAX_DEPTH {
            self.err(path, "schema nesting too deep to check");
            return;
        }
        if !self.budget.spend() {
            return;
        }
        let reader = deref(reader, self.reader_names);
        let writer = deref(writer, self.writer_names);
        if let Schema::Union(wu) = writer {
            // Every writer branch must be readable.
            for (i, branch) in wu.variants().iter().enumerate() {
                let before = self.errors.len();
                self.check(reader, branch, path, depth + 1);
                if self.errors.len() > before {
                    let described = describe(BaseType::of(deref(branch, self.writer_names)));
                    for e in &mut self.errors[before..] {
                        *e = format!("{e} (writer union branch {i}: {described})");
                    }
                }
            }
            return;
        }
        if let Schema::Union(ru) = reader {
            if let Err(closest) = self.union_reads(ru.variants(), writer, path, depth) {
                if !closest.is_empty() {
                    self.errors.extend(closest);
                    return;
                }
                let names: Vec<String> = ru
                    .variants()
                    .iter()
                    .map(|b| describe(BaseType::of(deref(b, self.reader_names))))
                    .collect();
                self.err(
                    path,
                    format_args!(
                        "writer type {} matches no branch of reader union [{}]",
                        describe(BaseType::of(writer)),
                        names.join(", ")
                    ),
                );
            }
            return;
        }
        if let (Schema::Decimal(r), Schema::Decimal(w)) = (reader, writer)
            && (r.precision != w.precision || r.scale != w.scale)
        {
            self.err(
                path,
                format_args!(
                    "decimal changed from precision {} scale {} (writer) to precision {} scale {} (reader)",
                    w.precision, w.scale, r.precision, r.scale
                ),
            );
            return;
        }
        self.check_base(BaseType::of(reader), BaseType::of(writer), path, depth);
    }

    fn check_base(&mut self, rb: BaseType<'_>, wb: BaseType<'_>, path: &str, depth: usize) {
        use BaseType::*;
        match (rb, wb) {
            (Null, Null)
            | (Boolean, Boolean)
            | (Int, Int)
            | (Long, Long)
            | (Float, Float)
            | (Double, Double)
            | (Bytes, Bytes)
            | (String, String) => {}
            (Long | Float | Double, Int)
            | (Float | Double, Long)
            | (Double, Float)
            | (Bytes, String)
            | (String, Bytes) => {}
            (Array(r), Array(w)) => self.check(r, w, &format!("{path}[]"), depth + 1),
            (Map(r), Map(w)) => self.check(r, w, &format!("{path}{{}}"), depth + 1),
            (Record(r), Record(w)) => self.check_record(r, w, path, depth),
            (Enum(r), Enum(w)) => {
                if !names_match(&r.name, &r.aliases, &w.name) {
                    self.err(
                        path,
                        format_args!(
                            "reader enum {} does not match writer enum {} by name or alias",
                            r.name.fullname(None),
                            w.name.fullname(None)
                        ),
                    );
                    return;
                }
                if r.default.is_some() {
                    return;
                }
                let missing: Vec<&str> = w
                    .symbols
                    .iter()
                    .filter(|s| !r.symbols.contains(s))
                    .map(|s| s.as_str())
                    .collect();
                if !missing.is_empty() {
                    self.err(
                        path,
                        format_args!(
                            "writer symbols [{}] of enum {} are missing from the reader enum, which has no default",
                            missing.join(", "),
                            w.name.fullname(None)
                        ),
                    );
                }
            }
            (Fixed(r), Fixed(w)) => {
                if !names_match(&r.name, &r.aliases, &w.name) {
                    self.err(
                        path,
                        format_args!(
                            "reader fixed {} does not match writer fixed {} by name or alias",
                            r.name.fullname(None),
                            w.name.fullname(None)
                        ),
                    );
                } else if r.size != w.size {
                    self.err(
                        path,
                        format_args!(
                            "fixed {} size changed from {} (writer) to {} (reader)",
                            r.name.fullname(None),
                            w.size,
                            r.size
                        ),
                    );
                }
            }
            (r, w) => self.err(
                path,
                format_args!(
                    "writer type {} cannot be promoted to reader type {}",
                    describe(w),
                    describe(r)
                ),
            ),
        }
    }

    /// Whether some reader union branch reads the writer type without error. If none does, the
    /// errors of the first branch of the writer's own kind (the closest match), if any.
    fn union_reads(
        &mut self,
        branches: &[Schema],
        writer: &Schema,
        path: &str,
        depth: usize,
    ) -> Result<(), Vec<String>> {
        let writer_kind = BaseType::of(writer).type_name();
        let names = self.reader_names;
        let same_kind = |b: &&Schema| BaseType::of(deref(b, names)).type_name() == writer_kind;
        // Branches of the writer's own kind first (the spec's "first match"), then promotions.
        let order: Vec<&Schema> = branches
            .iter()
            .filter(same_kind)
            .chain(branches.iter().filter(|b| !same_kind(b)))
            .collect();
        let mut closest: Option<Vec<String>> = None;
        for b in order {
            let saved = std::mem::take(&mut self.errors);
            self.check(b, writer, path, depth + 1);
            let errors = std::mem::replace(&mut self.errors, saved);
            if errors.is_empty() {
                return Ok(());
            }
            if closest.is_none() && same_kind(&b) {
                closest = Some(errors);
            }
        }
        Err(closest.unwrap_or_default())
    }

    fn check_record(&mut self, r: &RecordSchema, w: &RecordSchema, path: &str, depth: usize) {
        // Guard recursion through named types: a pair under comparison is assumed compatible.
        let key = (r.name.fullname(None), w.name.fullname(None));
        if self.proven.contains(&key) || self.seen.contains(&key) {
            return;
        }
        if let Some(first) = self.failed.get(&key) {
            let at = location(path);
            let repeated: Vec<String> = first
                .iter()
                .map(|m| format!("{at}: the same as {m}"))
                .collect();
            for m in repeated {
                self.push(m);
            }
            return;
        }
        self.seen.insert(key.clone());
        let before = self.errors.len();
        self.check_record_fields(r, w, path, depth);
        self.seen.remove(&key);
        // Memoized, like Java's checker, so nested unions of records stay polynomial and a
        // record referred to from many places is compared once.
        if self.errors.len() == before {
            self.proven.insert(key);
        } else if !self.budget.exhausted() {
            let first = self.errors[before..]
                .iter()
                .take(MEMO_MESSAGES)
                .cloned()
                .collect();
            self.failed.insert(key, first);
        }
    }

    fn check_record_fields(
        &mut self,
        r: &RecordSchema,
        w: &RecordSchema,
        path: &str,
        depth: usize,
    ) {
        if !names_match(&r.name, &r.aliases, &w.name) {
            self.err(
                path,
                format_args!(
                    "reader record {} does not match writer record {} by name or alias",
                    r.name.fullname(None),
                    w.name.fullname(None)
                ),
            );
            return;
        }
        for rf in &r.fields {
            let field_path = if path.is_empty() {
                rf.name.clone()
            } else {
                format!("{path}.{}", rf.name)
            };
            let wf = w
                .fields
                .iter()
                .find(|wf| wf.name == rf.name)
                .or_else(|| w.fields.iter().find(|wf| rf.aliases.contains(&wf.name)));
            match wf {
                Some(wf) => self.check(&rf.schema, &wf.schema, &field_path, depth + 1),
                None if rf.default.is_some() => {}
                None => self.push(format!(
                    "field '{field_path}': reader field has no default and is missing in writer"
                )),
            }
        }
    }
}
