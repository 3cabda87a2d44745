//! The compiled schema plan: a writer schema, with the named types of its references, compiled
//! once into an owned, index-addressed graph that the binary walkers (the validator in
//! `validate` and the typed decoder in `direct`) follow instead of apache-avro's `Schema` tree.
//!
//! - Named types (records, enums, fixed) are nodes; every reference to one is its index, so a
//!   recursive schema is a cycle in the graph, never a name lookup on the hot path.
//! - Each union has its branches' names (a named type's full name, else its type: `null`,
//!   `string`, `array`…) so that branches are chosen by name.
//! - Each node has its minimum encoded size precomputed, and a zero-width flag (values that take
//!   no bytes: `null`, empty records, `fixed` of size 0, records of those), which is what bounds
//!   an array's item count when its items take no bytes.
//!
//! Compiling is linear in the schema's size: each named type is compiled once, however often it
//! is referred to; the references of a type are compiled from a work list (not by recursion), so
//! only the nesting inside one type's JSON (bounded by the JSON parser) uses the stack, and that
//! is checked against [`MAX_SCHEMA_NESTING`].

use super::AvroError;
use apache_avro::Schema;
use apache_avro::schema::{DecimalSchema, InnerDecimalSchema, Name, NamesRef, UuidSchema};
use kcodec_registry::avro_type::BaseType;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What serde's `is_human_readable` answers: `true`, so that `uuid::Uuid` writes and reads the
/// string form the Avro `uuid` logical type (on `string`) holds.
pub(crate) const HUMAN_READABLE: bool = true;

/// How deep values may nest (records in records, recursive types): the one depth limit of every
/// Avro walker, readers and writers alike.
pub(crate) const MAX_DEPTH: usize = 128;

/// How deep one schema's JSON may nest unnamed types (arrays of maps of unions…) before
/// compiling refuses it.
pub(crate) const MAX_SCHEMA_NESTING: usize = 256;

/// A node's index in its [`Plan`].
pub(crate) type NodeId = u32;

/// One type of the compiled schema. Logical types are folded into the encoding they use
/// (`date` is an `Int`, `timestamp-millis` a `Long`, a `uuid` on `string` a `String`…).
#[derive(Debug)]
pub(crate) enum Node {
    Null,
    Boolean,
    Int,
    Long,
    Float,
    Double,
    Bytes,
    String,
    /// `fixed` (also `duration`, `uuid` and `decimal` on `fixed`).
    Fixed {
        size: usize,
        /// A `decimal` on `fixed`: read as bytes, never as a byte array.
        decimal: bool,
    },
    Enum {
        name: String,
        symbols: Vec<String>,
    },
    Union {
        branches: Vec<NodeId>,
        /// Each branch's name: a named type's full name, else its type (`null`, `int`…).
        names: Vec<String>,
    },
    Array {
        items: NodeId,
    },
    Map {
        values: NodeId,
    },
    Record {
        /// The record's full name.
        name: String,
        fields: Vec<Field>,
        /// The fields' indexes sorted by name: how the typed encoder finds a field that serde
        /// gives out of the schema's order.
        by_name: Vec<u32>,
    },
}

/// A record's field.
#[derive(Debug)]
pub(crate) struct Field {
    pub(crate) name: String,
    /// The field's other names (a reader's field matches a writer's field of one of them).
    pub(crate) aliases: Vec<String>,
    pub(crate) node: NodeId,
    /// The field's default as written in the schema (JSON; for a union, its first matching
    /// branch's value): what a JSON document that leaves the field out takes.
    pub(crate) json_default: Option<serde_json::Value>,
    /// The field's default, encoded (what the typed encoder writes for a field serde leaves
    /// out); `None` without a default (or with one that does not fit the field's type), and
    /// until [`Plan::encode_defaults`] has set it.
    pub(crate) default: Option<Box<[u8]>>,
    /// The address of the last `&'static str` key (serde's field name) found equal to `name`:
    /// the typed encoder's check that serde's field is this one costs a pointer compare, not a
    /// string compare, after the first record.
    pub(crate) seen: AtomicUsize,
}

impl Field {
    /// Whether serde's static field name `key` is this field's name.
    #[inline]
    pub(crate) fn is(&self, key: &'static str) -> bool {
        // A static string's address and length fix its contents.
        if self.seen.load(Ordering::Relaxed) == key.as_ptr() as usize
            && key.len() == self.name.len()
        {
            return true;
        }
        if self.name == key {
            self.seen.store(key.as_ptr() as usize, Ordering::Relaxed);
            return true;
        }
        false
    }
}

impl Node {
    /// The node's Avro type (`record`, `long`, `union`…).
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Node::Null => "null",
            Node::Boolean => "boolean",
            Node::Int => "int",
            Node::Long => "long",
            Node::Float => "float",
            Node::Double => "double",
            Node::Bytes => "bytes",
            Node::String => "string",
            Node::Fixed { .. } => "fixed",
            Node::Enum { .. } => "enum",
            Node::Union { .. } => "union",
            Node::Array { .. } => "array",
            Node::Map { .. } => "map",
            Node::Record { .. } => "record",
        }
    }

    /// The record field named `name`, by binary search in `by_name`.
    pub(crate) fn field_index(fields: &[Field], by_name: &[u32], name: &str) -> Option<usize> {
        by_name
            .binary_search_by(|&i| fields[i as usize].name.as_str().cmp(name))
            .ok()
            .map(|i| by_name[i] as usize)
    }
}

/// The logical type a node's values have in apache-avro's [`Value`](apache_avro::types::Value)
/// (the node itself says how they are encoded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Logical {
    #[default]
    None,
    Date,
    TimeMillis,
    TimeMicros,
    TimestampMillis,
    TimestampMicros,
    TimestampNanos,
    LocalTimestampMillis,
    LocalTimestampMicros,
    LocalTimestampNanos,
    /// `decimal` on `bytes` or `fixed`.
    Decimal,
    /// `big-decimal` on `bytes`.
    BigDecimal,
    /// `uuid` on `string`, `bytes` or `fixed`.
    Uuid,
    /// `duration` on a `fixed`.
    Duration,
}

impl Logical {
    /// An `int` of this logical type as apache-avro's `Value`.
    pub(crate) fn int_value(self, v: i32) -> apache_avro::types::Value {
        use apache_avro::types::Value;
        match self {
            Logical::Date => Value::Date(v),
            Logical::TimeMillis => Value::TimeMillis(v),
            _ => Value::Int(v),
        }
    }

    /// A `long` of this logical type as apache-avro's `Value`.
    pub(crate) fn long_value(self, v: i64) -> apache_avro::types::Value {
        use apache_avro::types::Value;
        match self {
            Logical::TimeMicros => Value::TimeMicros(v),
            Logical::TimestampMillis => Value::TimestampMillis(v),
            Logical::TimestampMicros => Value::TimestampMicros(v),
            Logical::TimestampNanos => Value::TimestampNanos(v),
            Logical::LocalTimestampMillis => Value::LocalTimestampMillis(v),
            Logical::LocalTimestampMicros => Value::LocalTimestampMicros(v),
            Logical::LocalTimestampNanos => Value::LocalTimestampNanos(v),
            _ => Value::Long(v),
        }
    }
}

/// What a node needs beyond its encoding: its logical type, and for a named type its full name
/// and aliases (and an enum's default symbol), which schema resolution matches by.
#[derive(Debug, Default)]
pub(crate) struct Extra {
    pub(crate) logical: Logical,
    /// A named type's full name.
    pub(crate) name: Option<Box<str>>,
    /// A named type's aliases, as full names.
    pub(crate) aliases: Vec<String>,
    /// An enum's default symbol's index.
    pub(crate) enum_default: Option<u32>,
}

/// A compiled schema: its nodes, the root's index, and per node its minimum encoded size.
#[derive(Debug)]
pub(crate) struct Plan {
    nodes: Vec<Node>,
    extra: Vec<Extra>,
    min_size: Vec<u32>,
    /// Per zero-width node, how many values its one value is made of (1 for others).
    expanse: Vec<u32>,
    root: NodeId,
}

impl Plan {
    /// Compiles `schema`, whose named types (and those of its references) are `names`.
    pub(crate) fn compile(schema: &Schema, names: &NamesRef<'_>) -> Result<Plan, AvroError> {
        let mut compiler = Compiler {
            names,
            nodes: Vec::new(),
            extra: Vec::new(),
            by_name: HashMap::new(),
            pending: Vec::new(),
            primitives: [None; 8],
        };
        let root = compiler.node(schema, 0)?;
        while let Some((id, named)) = compiler.pending.pop() {
            compiler.fill(id, named)?;
        }
        let nodes = compiler.nodes;
        let min_size = min_sizes(&nodes);
        let expanse = expanses(&nodes, &min_size)?;
        Ok(Plan {
            nodes,
            extra: compiler.extra,
            min_size,
            expanse,
            root,
        })
    }

    /// Sets every record field's encoded default ([`Field::default`]) to what `encode` makes of
    /// its JSON default (a field's JSON default as a value of the field's node: `None` if it does
    /// not fit). [`compile`](Self::compile) leaves them unset: encoding a default takes the JSON
    /// reader and the binary writer (`json::default_bytes`), which walk the plan, so the plan
    /// does not depend on them; they run once the plan is whole (a default may be of a type
    /// defined later in the schema).
    pub(crate) fn encode_defaults(
        &mut self,
        encode: impl Fn(&Plan, NodeId, &serde_json::Value) -> Option<Box<[u8]>>,
    ) {
        let mut defaults = Vec::new();
        for (id, node) in self.nodes.iter().enumerate() {
            if let Node::Record { fields, .. } = node {
                for (i, f) in fields.iter().enumerate() {
                    if let Some(json) = &f.json_default {
                        defaults.push((id, i, encode(self, f.node, json)));
                    }
                }
            }
        }
        for (id, i, bytes) in defaults {
            if let Node::Record { fields, .. } = &mut self.nodes[id] {
                fields[i].default = bytes;
            }
        }
    }

    /// What the node at `id` needs beyond its encoding.
    #[inline]
    pub(crate) fn extra(&self, id: NodeId) -> &Extra {
        &self.extra[id as usize]
    }

    /// The node's logical type.
    #[inline]
    pub(crate) fn logical(&self, id: NodeId) -> Logical {
        self.extra[id as usize].logical
    }

    /// The node's name in messages: a named type's full name, a logical type's name, else its
    /// type (`string`, `array`…).
    pub(crate) fn label(&self, id: NodeId) -> String {
        let extra = self.extra(id);
        if let Some(name) = &extra.name {
            return name.to_string();
        }
        let logical = match extra.logical {
            Logical::None => None,
            Logical::Date => Some("date"),
            Logical::TimeMillis => Some("time-millis"),
            Logical::TimeMicros => Some("time-micros"),
            Logical::TimestampMillis => Some("timestamp-millis"),
            Logical::TimestampMicros => Some("timestamp-micros"),
            Logical::TimestampNanos => Some("timestamp-nanos"),
            Logical::LocalTimestampMillis => Some("local-timestamp-millis"),
            Logical::LocalTimestampMicros => Some("local-timestamp-micros"),
            Logical::LocalTimestampNanos => Some("local-timestamp-nanos"),
            Logical::Decimal => Some("decimal"),
            Logical::BigDecimal => Some("big-decimal"),
            Logical::Uuid => Some("uuid"),
            Logical::Duration => Some("duration"),
        };
        logical.unwrap_or(self.type_name(id)).to_owned()
    }

    /// The node's Avro type (`record`, `long`, `union`…).
    pub(crate) fn type_name(&self, id: NodeId) -> &'static str {
        self.node(id).type_name()
    }

    /// The root node's index.
    #[inline]
    pub(crate) fn root(&self) -> NodeId {
        self.root
    }

    /// The node at `id`.
    #[inline]
    pub(crate) fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id as usize]
    }

    /// How many nodes the plan has: at most one per type written in the schema's text.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    /// The fewest bytes a value of `id` takes.
    #[inline]
    pub(crate) fn min_size(&self, id: NodeId) -> u32 {
        self.min_size[id as usize]
    }

    /// How many values (itself, its fields, theirs…) a value of `id` that takes no bytes is made
    /// of: what one item of an array of them costs to walk. 1 for nodes that take bytes.
    #[inline]
    pub(crate) fn expanse(&self, id: NodeId) -> u32 {
        self.expanse[id as usize]
    }

    /// Whether values of `id` take no bytes at all.
    #[inline]
    pub(crate) fn zero_width(&self, id: NodeId) -> bool {
        self.min_size[id as usize] == 0
    }

    /// The depth inside a value of `id` met `depth` containers deep: one more for a record, an
    /// array or a map, the containers every walker counts. Past [`MAX_DEPTH`], the one depth
    /// limit of every walker: [`AvroError::TooDeep`] at byte `at`.
    #[inline]
    pub(crate) fn enter(&self, id: NodeId, depth: usize, at: usize) -> Result<usize, AvroError> {
        let container = matches!(
            self.node(id),
            Node::Record { .. } | Node::Array { .. } | Node::Map { .. }
        );
        let depth = depth + usize::from(container);
        if depth > MAX_DEPTH {
            return Err(AvroError::TooDeep {
                at,
                limit: MAX_DEPTH,
            });
        }
        Ok(depth)
    }
}

struct Compiler<'s, 'n> {
    names: &'n NamesRef<'s>,
    nodes: Vec<Node>,
    extra: Vec<Extra>,
    by_name: HashMap<Name, NodeId>,
    /// Named types referred to before being compiled: filled from this list, not by recursion.
    pending: Vec<(NodeId, &'s Schema)>,
    /// The one node of each primitive type (`null` … `string`), made at its first use.
    primitives: [Option<NodeId>; 8],
}

impl<'s> Compiler<'s, '_> {
    fn push(&mut self, node: Node) -> NodeId {
        // A schema's text would have to be gigabytes long to reach u32::MAX nodes.
        let id = NodeId::try_from(self.nodes.len()).unwrap_or(NodeId::MAX);
        self.nodes.push(node);
        self.extra.push(Extra::default());
        id
    }

    /// Allocates the node of a named type once; `None` if it already has one.
    fn named(&mut self, name: &Name) -> Result<NodeId, NodeId> {
        if let Some(&id) = self.by_name.get(name) {
            return Err(id);
        }
        let id = self.push(Node::Null);
        self.by_name.insert(name.clone(), id);
        Ok(id)
    }

    fn node(&mut self, schema: &'s Schema, depth: usize) -> Result<NodeId, AvroError> {
        if depth > MAX_SCHEMA_NESTING {
            return Err(AvroError::SchemaTooDeep {
                limit: MAX_SCHEMA_NESTING,
            });
        }
        let node = match schema {
            Schema::Ref { name } => {
                if let Some(&id) = self.by_name.get(name) {
                    return Ok(id);
                }
                let named = self
                    .names
                    .get(name)
                    .copied()
                    .ok_or_else(|| AvroError::UndefinedName(name.fullname(None)))?;
                let id = self.push(Node::Null);
                self.by_name.insert(name.clone(), id);
                self.pending.push((id, named));
                return Ok(id);
            }
            Schema::Record(r) => {
                return match self.named(&r.name) {
                    Err(id) => Ok(id),
                    Ok(id) => {
                        self.fill(id, schema)?;
                        Ok(id)
                    }
                };
            }
            Schema::Enum(e) => return self.leaf_named(&e.name, schema),
            Schema::Fixed(f)
            | Schema::Duration(f)
            | Schema::Uuid(UuidSchema::Fixed(f))
            | Schema::Decimal(DecimalSchema {
                inner: InnerDecimalSchema::Fixed(f),
                ..
            }) => return self.leaf_named(&f.name, schema),
            Schema::Null => Node::Null,
            Schema::Boolean => Node::Boolean,
            Schema::Int => Node::Int,
            Schema::Date => return Ok(self.logical(Node::Int, Logical::Date)),
            Schema::TimeMillis => return Ok(self.logical(Node::Int, Logical::TimeMillis)),
            Schema::Long => Node::Long,
            Schema::TimeMicros => return Ok(self.logical(Node::Long, Logical::TimeMicros)),
            Schema::TimestampMillis => {
                return Ok(self.logical(Node::Long, Logical::TimestampMillis));
            }
            Schema::TimestampMicros => {
                return Ok(self.logical(Node::Long, Logical::TimestampMicros));
            }
            Schema::TimestampNanos => return Ok(self.logical(Node::Long, Logical::TimestampNanos)),
            Schema::LocalTimestampMillis => {
                return Ok(self.logical(Node::Long, Logical::LocalTimestampMillis));
            }
            Schema::LocalTimestampMicros => {
                return Ok(self.logical(Node::Long, Logical::LocalTimestampMicros));
            }
            Schema::LocalTimestampNanos => {
                return Ok(self.logical(Node::Long, Logical::LocalTimestampNanos));
            }
            Schema::Float => Node::Float,
            Schema::Double => Node::Double,
            Schema::Bytes => Node::Bytes,
            Schema::BigDecimal => return Ok(self.logical(Node::Bytes, Logical::BigDecimal)),
            Schema::Uuid(UuidSchema::Bytes) => return Ok(self.logical(Node::Bytes, Logical::Uuid)),
            Schema::Decimal(DecimalSchema {
                inner: InnerDecimalSchema::Bytes,
                ..
            }) => return Ok(self.logical(Node::Bytes, Logical::Decimal)),
            Schema::String => Node::String,
            Schema::Uuid(UuidSchema::String) => {
                return Ok(self.logical(Node::String, Logical::Uuid));
            }
            Schema::Array(a) => {
                let items = self.node(&a.items, depth + 1)?;
                Node::Array { items }
            }
            Schema::Map(m) => {
                let values = self.node(&m.types, depth + 1)?;
                Node::Map { values }
            }
            Schema::Union(u) => {
                let variants = u.variants();
                let mut branches = Vec::with_capacity(variants.len());
                let mut names = Vec::with_capacity(variants.len());
                for v in variants {
                    branches.push(self.node(v, depth + 1)?);
                    names.push(branch_name(v));
                }
                Node::Union { branches, names }
            }
        };
        let primitive = match node {
            Node::Null => 0,
            Node::Boolean => 1,
            Node::Int => 2,
            Node::Long => 3,
            Node::Float => 4,
            Node::Double => 5,
            Node::Bytes => 6,
            Node::String => 7,
            _ => return Ok(self.push(node)),
        };
        if let Some(id) = self.primitives[primitive] {
            return Ok(id);
        }
        let id = self.push(node);
        self.primitives[primitive] = Some(id);
        Ok(id)
    }

    /// A primitive node with a logical type (not shared, unlike plain primitives).
    fn logical(&mut self, node: Node, logical: Logical) -> NodeId {
        let id = self.push(node);
        self.extra[id as usize].logical = logical;
        id
    }

    fn leaf_named(&mut self, name: &Name, schema: &'s Schema) -> Result<NodeId, AvroError> {
        match self.named(name) {
            Err(id) => Ok(id),
            Ok(id) => {
                self.fill(id, schema)?;
                Ok(id)
            }
        }
    }

    /// Compiles the named type `schema` into its allocated node `id`.
    fn fill(&mut self, id: NodeId, schema: &'s Schema) -> Result<(), AvroError> {
        let full = |name: &Name, aliases: &Option<Vec<apache_avro::schema::Alias>>| {
            let aliases = aliases
                .iter()
                .flatten()
                .map(|a| a.fullname(name.namespace()))
                .collect();
            (Some(name.fullname(None).into_boxed_str()), aliases)
        };
        let mut extra = Extra::default();
        let node = match schema {
            Schema::Record(r) => {
                (extra.name, extra.aliases) = full(&r.name, &r.aliases);
                let mut fields = Vec::with_capacity(r.fields.len());
                for f in &r.fields {
                    fields.push(Field {
                        name: f.name.clone(),
                        aliases: f.aliases.clone(),
                        node: self.node(&f.schema, 1)?,
                        json_default: f.default.clone(),
                        default: None,
                        seen: AtomicUsize::new(0),
                    });
                }
                let mut by_name: Vec<u32> = (0..fields.len() as u32).collect();
                by_name.sort_unstable_by(|&a, &b| {
                    fields[a as usize].name.cmp(&fields[b as usize].name)
                });
                Node::Record {
                    name: r.name.fullname(None),
                    fields,
                    by_name,
                }
            }
            Schema::Enum(e) => {
                (extra.name, extra.aliases) = full(&e.name, &e.aliases);
                extra.enum_default = e
                    .default
                    .as_ref()
                    .and_then(|d| e.symbols.iter().position(|s| s == d))
                    .and_then(|i| u32::try_from(i).ok());
                Node::Enum {
                    name: e.name.fullname(None),
                    symbols: e.symbols.clone(),
                }
            }
            Schema::Fixed(f) | Schema::Duration(f) | Schema::Uuid(UuidSchema::Fixed(f)) => {
                (extra.name, extra.aliases) = full(&f.name, &f.aliases);
                extra.logical = match schema {
                    Schema::Duration(_) => Logical::Duration,
                    Schema::Uuid(_) => Logical::Uuid,
                    _ => Logical::None,
                };
                Node::Fixed {
                    size: f.size,
                    decimal: false,
                }
            }
            Schema::Decimal(DecimalSchema {
                inner: InnerDecimalSchema::Fixed(f),
                ..
            }) => {
                (extra.name, extra.aliases) = full(&f.name, &f.aliases);
                extra.logical = Logical::Decimal;
                Node::Fixed {
                    size: f.size,
                    decimal: true,
                }
            }
            // A name that stands for an unnamed type: apache-avro's parser makes none.
            _ => return Err(AvroError::UndefinedName(branch_name(schema))),
        };
        self.nodes[id as usize] = node;
        self.extra[id as usize] = extra;
        Ok(())
    }
}

/// The name a union branch goes by in the JSON encoding: a named type's full name, else its
/// base type (`long` for a `timestamp-millis`).
pub(crate) fn branch_name(schema: &Schema) -> String {
    match BaseType::of(schema) {
        BaseType::Ref(name) => name.fullname(None),
        base => base
            .name()
            .map_or_else(|| base.type_name().into(), |name| name.fullname(None)),
    }
}

/// Per zero-width record, how many values its one value is made of, counted by a depth-first
/// walk over the zero-width records (an explicit stack, each field edge followed once); a field
/// back to a record being counted (a value that never ends, cut off by the depth limit when
/// read) counts 1. Refuses a schema whose zero-width value is made of more values than the schema
/// has fields (plus some slack): reusing a type in several fields would otherwise make a value
/// that takes no bytes exponentially large in the schema's size, and walking it as costly.
fn expanses(nodes: &[Node], min_size: &[u32]) -> Result<Vec<u32>, AvroError> {
    let fields: usize = nodes
        .iter()
        .map(|n| match n {
            Node::Record { fields, .. } => fields.len(),
            _ => 0,
        })
        .sum();
    let limit = u32::try_from(fields.saturating_add(64)).unwrap_or(u32::MAX);
    let mut expanse = vec![1u32; nodes.len()];
    // 0: not seen, 1: being counted, 2: counted.
    let mut state = vec![0u8; nodes.len()];
    for start in 0..nodes.len() {
        if state[start] != 0 || min_size[start] != 0 {
            continue;
        }
        let mut stack = vec![(start, 0usize)];
        state[start] = 1;
        while let Some(&mut (n, ref mut next)) = stack.last_mut() {
            let Node::Record { fields, .. } = &nodes[n] else {
                state[n] = 2;
                stack.pop();
                continue;
            };
            if let Some(f) = fields.get(*next) {
                *next += 1;
                let c = f.node as usize;
                if state[c] == 0 {
                    state[c] = 1;
                    stack.push((c, 0));
                }
                continue;
            }
            let total = fields.iter().fold(1u32, |acc, f| {
                let c = f.node as usize;
                // A field back to a record still being counted: 1.
                acc.saturating_add(if state[c] == 2 { expanse[c] } else { 1 })
            });
            if total > limit {
                return Err(AvroError::ZeroWidthTooLarge {
                    name: match &nodes[n] {
                        Node::Record { name, .. } => name.clone(),
                        _ => String::new(),
                    },
                    limit,
                });
            }
            expanse[n] = total;
            state[n] = 2;
            stack.pop();
        }
    }
    Ok(expanse)
}

/// The minimum encoded size of every node: the least fixed point of "a record takes the sum of
/// its fields, a union its index and its smallest branch", computed by rounds over the nodes
/// from 0 upwards. Every round's values are lower bounds of the true minimums (and a node's value
/// is 0 exactly when it is zero-width), so the rounds may stop early: they stop when nothing
/// changes or after a fixed number, which keeps the work linear in the schema's size.
fn min_sizes(nodes: &[Node]) -> Vec<u32> {
    /// Rounds of the fixed point beyond the zero-width pass; later rounds only tighten bounds.
    const ROUNDS: usize = 8;
    let base = |node: &Node| -> u32 {
        match node {
            Node::Null | Node::Record { .. } => 0,
            Node::Fixed { size, .. } => u32::try_from(*size).unwrap_or(u32::MAX),
            Node::Float => 4,
            Node::Double => 8,
            // A byte of varint, length, count, index or boolean.
            _ => 1,
        }
    };
    // Zero-width: the greatest set of records whose fields are all zero-width (with `null` and
    // `fixed` of size 0), found by propagating "takes bytes" from the leaves up the records that
    // contain them: each field edge is followed once.
    let mut parents: Vec<Vec<NodeId>> = vec![Vec::new(); nodes.len()];
    let mut sized: Vec<bool> = nodes.iter().map(|n| base(n) > 0).collect();
    for (id, node) in nodes.iter().enumerate() {
        if let Node::Record { fields, .. } = node {
            for f in fields {
                parents[f.node as usize].push(id as NodeId);
            }
        }
    }
    let mut work: Vec<usize> = (0..nodes.len()).filter(|&i| sized[i]).collect();
    while let Some(n) = work.pop() {
        for &p in &parents[n] {
            let p = p as usize;
            if !sized[p] {
                sized[p] = true;
                work.push(p);
            }
        }
    }
    let mut size: Vec<u32> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| if sized[i] { base(n).max(1) } else { 0 })
        .collect();
    for _ in 0..ROUNDS {
        let mut changed = false;
        for (i, node) in nodes.iter().enumerate() {
            let next = match node {
                Node::Record { fields, .. } => fields
                    .iter()
                    .fold(0u32, |acc, f| acc.saturating_add(size[f.node as usize])),
                Node::Union { branches, .. } => branches
                    .iter()
                    .map(|b| size[*b as usize])
                    .min()
                    .unwrap_or(0)
                    .saturating_add(1),
                _ => continue,
            };
            if next > size[i] {
                size[i] = next;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    size
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::avro::ParsedSchema;

    fn plan(text: &str) -> ParsedSchema {
        ParsedSchema::parse(text).unwrap()
    }

    #[test]
    fn min_sizes_and_zero_width() {
        let s = plan(
            r#"{"type":"record","name":"R","fields":[
                {"name":"a","type":"null"},
                {"name":"b","type":{"type":"record","name":"E","fields":[]}},
                {"name":"c","type":{"type":"fixed","name":"F","size":3}},
                {"name":"d","type":["null","double"]},
                {"name":"e","type":"double"}]}"#,
        );
        let p = s.plan();
        let Node::Record { fields, .. } = p.node(p.root()) else {
            panic!("a record")
        };
        assert!(p.zero_width(fields[0].node));
        assert!(p.zero_width(fields[1].node));
        assert_eq!(p.min_size(fields[2].node), 3);
        assert_eq!(p.min_size(fields[3].node), 1);
        assert_eq!(p.min_size(fields[4].node), 8);
        assert_eq!(p.min_size(p.root()), 12);
    }

    #[test]
    fn self_reference_compiles_to_one_node_per_type() {
        // The schema from the issue: four fields that all refer to their record, in an array.
        let s = plan(
            r#"{"type":"array","items":{"type":"record","name":"R","fields":[
                {"name":"a","type":"R"},{"name":"b","type":"R"},
                {"name":"c","type":"R"},{"name":"d","type":"R"}]}}"#,
        );
        let p = s.plan();
        assert_eq!(p.len(), 2);
        let Node::Array { items } = p.node(p.root()) else {
            panic!("an array")
        };
        // No finite value exists; the least fixed point says zero-width, so item counts are
        // capped by MAX_ZERO_WIDTH_ITEMS and each item stops at the depth limit.
        assert!(p.zero_width(*items));
    }

    #[test]
    fn recursive_union_has_a_positive_minimum() {
        let s = plan(
            r#"{"type":"record","name":"Node","fields":[
                {"name":"l","type":["null","Node"]},{"name":"r","type":["null","Node"]},
                {"name":"v","type":"long"}]}"#,
        );
        let p = s.plan();
        // The record, `null`, two unions and `long`.
        assert_eq!(p.len(), 5);
        assert_eq!(p.min_size(p.root()), 3);
    }

    #[test]
    fn unions_name_their_branches_as_avro_json_does() {
        let s = plan(
            r#"["null",{"type":"long","logicalType":"timestamp-millis"},
                {"type":"record","name":"Cat","namespace":"pets","fields":[]},
                {"type":"array","items":"int"}]"#,
        );
        let p = s.plan();
        let Node::Union { names, branches } = p.node(p.root()) else {
            panic!("a union")
        };
        assert_eq!(names, &["null", "long", "pets.Cat", "array"]);
        assert!(matches!(p.node(branches[1]), Node::Long));
    }

    #[test]
    fn a_zero_width_value_exponential_in_the_schema_is_refused() {
        // Z0 has two fields of Z1, which has two of Z2…: a value of 2^25 parts taking no bytes.
        let mut text =
            r#"{"type":"record","name":"Z25","fields":[{"name":"n","type":"null"}]}"#.to_owned();
        for i in (0..25).rev() {
            text = format!(
                r#"{{"type":"record","name":"Z{i}","fields":[{{"name":"a","type":{text}}},
                    {{"name":"b","type":"Z{}"}}]}}"#,
                i + 1
            );
        }
        let err = ParsedSchema::parse(&text).unwrap_err();
        assert!(
            matches!(&err, AvroError::ZeroWidthTooLarge { name, .. } if name.starts_with('Z')),
            "{err:?}"
        );
        // A tree of the same records, each used once, is fine: its expanse is its size.
        let s = plan(
            r#"{"type":"record","name":"T","fields":[{"name":"a","type":"null"},
                {"name":"b","type":{"type":"record","name":"U","fields":[{"name":"c","type":"null"}]}}]}"#,
        );
        assert_eq!(s.plan().expanse(s.plan().root()), 4);
    }

    #[test]
    fn too_deep_a_schema_is_refused_not_overflowed() {
        // Nesting unnamed types past the limit: built as a `Schema` directly (the JSON parser
        // would refuse the text first).
        let mut schema = Schema::Long;
        for _ in 0..MAX_SCHEMA_NESTING + 2 {
            schema = Schema::array(schema).build();
        }
        let names = NamesRef::default();
        assert!(matches!(
            Plan::compile(&schema, &names),
            Err(AvroError::SchemaTooDeep { .. })
        ));
    }
}
