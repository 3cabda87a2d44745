//! Encodes serde types straight to Avro binary with the writer schema's compiled [`Plan`]: no
//! intermediate `Value`, no name lookups on the common path, varints written straight into the
//! caller's buffer.
//!
//! - Record fields are matched by position, checked by name; a field serde gives out of the
//!   schema's order is found through the record's precomputed name table and buffered until its
//!   turn; a field serde leaves out is written with its default.
//! - Union branches are chosen by name: a Rust enum variant takes the branch named as it (a
//!   record's full or short name, else a type name such as `null` or `long`, in any case), as
//!   the typed decoder reads them; a struct the record branch of its name; any other value the
//!   first branch of its type. `Option<T>` is `["null", T]` or `[T, "null"]`.
//! - Errors name the field path (`$.items[2].price`) and what did not fit.

use super::AvroError;
use super::plan::{Field, MAX_DEPTH, Node, NodeId, Plan};
use bytes::{BufMut, BytesMut};
use serde::Serialize;
use serde::ser::{self, Impossible};

/// Encodes `value` with `plan`'s root type, appending to `out` (left as it was on error).
pub(crate) fn to_bytes<T: Serialize + ?Sized>(
    plan: &Plan,
    value: &T,
    out: &mut BytesMut,
) -> Result<(), AvroError> {
    let start = out.len();
    let mut w = Writer {
        out,
        plan,
        depth: 0,
    };
    value
        .serialize(Ser {
            w: &mut w,
            node: plan.root(),
        })
        .map_err(|e| {
            out.truncate(start);
            e.into_avro()
        })
}

/// The serializer's error: where (innermost segment first) and what did not fit.
///
/// Boxed, so that every serializer call's `Result<(), SerError>` stays one word wide.
#[derive(Debug)]
pub(crate) struct SerError(Box<Failure>);

#[derive(Debug)]
struct Failure {
    /// Path segments from the failing value outwards (`.name`, `[3]`).
    path: Vec<String>,
    schema: String,
    problem: String,
}

impl From<Failure> for SerError {
    #[cold]
    fn from(f: Failure) -> Self {
        SerError(Box::new(f))
    }
}

impl SerError {
    #[cold]
    fn at(mut self, segment: impl FnOnce() -> String) -> Self {
        self.0.path.push(segment());
        self
    }

    fn into_avro(self) -> AvroError {
        let f = *self.0;
        let mut path = String::from("$");
        for segment in f.path.iter().rev() {
            path.push_str(segment);
        }
        AvroError::Encode {
            path,
            schema: f.schema,
            problem: f.problem,
        }
    }
}

impl std::fmt::Display for SerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("value at $")?;
        for segment in self.0.path.iter().rev() {
            f.write_str(segment)?;
        }
        write!(f, " does not fit '{}': {}", self.0.schema, self.0.problem)
    }
}

impl std::error::Error for SerError {}

impl ser::Error for SerError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        SerError::from(Failure {
            path: Vec::new(),
            schema: String::new(),
            problem: msg.to_string(),
        })
    }
}

struct Writer<'o, 'p> {
    out: &'o mut BytesMut,
    plan: &'p Plan,
    depth: usize,
}

/// Appends `v` as a zigzag varint: one byte written directly (inlined: string lengths, small
/// ints), a longer one by [`varint_wide`].
#[inline(always)]
fn zigzag(out: &mut BytesMut, v: i64) {
    let n = ((v << 1) ^ (v >> 63)) as u64;
    if n < 0x80 {
        out.put_u8(n as u8);
    } else {
        varint_wide(out, n);
    }
}

/// A varint of 2 to 10 bytes: up to eight are spread into one `u64` without a loop or branch
/// and written whole (a fixed-size store, no `memcpy` call), the unused bytes truncated away.
#[inline(never)]
fn varint_wide(out: &mut BytesMut, n: u64) {
    if n >= 1 << 56 {
        return varint_long(out, n);
    }
    // 2 to 8 groups of 7 bits, each in its own byte, the continuation bit on all but the last.
    let len = (64 - n.leading_zeros()).div_ceil(7) as usize;
    let mut spread = 0u64;
    for i in 0..8 {
        spread |= ((n >> (7 * i)) & 0x7f) << (8 * i);
    }
    let more = 0x8080_8080_8080_8080u64 >> (8 * (9 - len));
    out.put_u64_le(spread | more);
    let end = out.len() - (8 - len);
    out.truncate(end);
}

/// A varint of 9 or 10 bytes.
#[cold]
#[inline(never)]
fn varint_long(out: &mut BytesMut, mut n: u64) {
    while n >= 0x80 {
        out.put_u8((n as u8) | 0x80);
        n >>= 7;
    }
    out.put_u8(n as u8);
}

#[inline]
fn len_prefixed(out: &mut BytesMut, b: &[u8]) {
    zigzag(out, b.len() as i64);
    out.put_slice(b);
}

/// A node's name in errors: a named type's full name, else its type.
fn label(node: &Node) -> String {
    match node {
        Node::Enum { name, .. } | Node::Record { name, .. } => name.clone(),
        Node::Union { names, .. } => format!("union {names:?}"),
        _ => node.type_name().to_owned(),
    }
}

/// Whether `name` (a branch's full name or type) names a variant or struct called `variant`:
/// the full name, the unqualified name, or the unqualified name in any case (`Null`, `Long`).
fn names(name: &str, variant: &str) -> bool {
    let short = name.rsplit('.').next().unwrap_or(name);
    name == variant || short == variant || short.eq_ignore_ascii_case(variant)
}

struct Ser<'w, 'o, 'p> {
    w: &'w mut Writer<'o, 'p>,
    node: NodeId,
}

type Res<T = ()> = Result<T, SerError>;

impl<'w, 'o, 'p> Ser<'w, 'o, 'p> {
    /// The node to write at (before any union branch is chosen).
    #[inline]
    fn here(&self) -> &'p Node {
        self.w.plan.node(self.node)
    }

    #[cold]
    #[inline(never)]
    fn fail(&self, problem: impl Into<String>) -> SerError {
        SerError::from(Failure {
            path: Vec::new(),
            schema: label(self.w.plan.node(self.node)),
            problem: problem.into(),
        })
    }

    /// The node to write at: this one, or for a union the branch `rank` prefers (lowest rank,
    /// first in the union on a tie), whose index is written first.
    fn target(&mut self, what: &str, rank: impl Fn(&Node) -> Option<u8>) -> Res<&'p Node> {
        let plan = self.w.plan;
        let node = plan.node(self.node);
        let Node::Union { branches, .. } = node else {
            return Ok(node);
        };
        let best = branches
            .iter()
            .enumerate()
            .filter_map(|(i, &b)| Some((rank(plan.node(b))?, i, b)))
            .min_by_key(|&(r, i, _)| (r, i));
        match best {
            Some((_, i, b)) => {
                zigzag(self.w.out, i as i64);
                self.node = b;
                Ok(plan.node(b))
            }
            None => Err(self.fail(format!("{what}: no union branch takes it"))),
        }
    }

    /// For a union, writes the index of the branch named `variant` and moves to it.
    fn branch_named(&mut self, variant: &str) -> bool {
        let plan = self.w.plan;
        if let Node::Union { branches, names: n } = plan.node(self.node) {
            let found = n
                .iter()
                .position(|b| b == variant || b.rsplit('.').next() == Some(variant))
                .or_else(|| n.iter().position(|b| names(b, variant)));
            if let Some(i) = found {
                zigzag(self.w.out, i as i64);
                self.node = branches[i];
                return true;
            }
        }
        false
    }

    #[inline]
    fn enter(&mut self) -> Res {
        self.w.depth += 1;
        if self.w.depth > MAX_DEPTH {
            return Err(self.fail(format!("nests deeper than {MAX_DEPTH} levels")));
        }
        Ok(())
    }

    /// Writes an integer (`what`: its Rust type) to an `int` or `long`; a union prefers `long`
    /// for the 64-bit types (and `u32`), `int` for the others.
    #[inline]
    fn int(self, v: i64, what: &str, wide: bool) -> Res {
        match self.here() {
            Node::Long => zigzag(self.w.out, v),
            Node::Int if i32::try_from(v).is_ok() => zigzag(self.w.out, v),
            _ => return self.int_slow(v, what, wide),
        }
        Ok(())
    }

    /// [`int`](Self::int) into a union, or a refusal.
    #[inline(never)]
    fn int_slow(mut self, v: i64, what: &str, wide: bool) -> Res {
        let fits = i32::try_from(v).is_ok();
        let small = !wide;
        let node = self.target(what, |n| match n {
            Node::Int if fits => Some(if small { 0 } else { 1 }),
            Node::Long => Some(if small { 1 } else { 0 }),
            _ => None,
        })?;
        match node {
            Node::Long => zigzag(self.w.out, v),
            Node::Int if fits => zigzag(self.w.out, v),
            Node::Int => return Err(self.fail(format!("{what} {v} is out of the int range"))),
            _ => return Err(self.fail(format!("a {what} ({v})"))),
        }
        Ok(())
    }

    /// Starts a record: in a union, the record branch named `name`, else the only record
    /// branch (of several, none is guessed: same-shaped records would be written as each other).
    #[inline]
    fn record(mut self, what: &str, name: Option<&str>) -> Res<RecordSer<'w, 'o, 'p>> {
        if let Node::Record {
            fields, by_name, ..
        } = self.here()
        {
            self.enter()?;
            return Ok(RecordSer::new(self.w, self.node, fields, by_name));
        }
        self.record_slow(what, name)
    }

    /// [`record`](Self::record) in a union, or a refusal.
    #[inline(never)]
    fn record_slow(mut self, what: &str, name: Option<&str>) -> Res<RecordSer<'w, 'o, 'p>> {
        let plan = self.w.plan;
        let records = match plan.node(self.node) {
            Node::Union { branches, .. } => branches
                .iter()
                .filter(|&&b| matches!(plan.node(b), Node::Record { .. }))
                .count(),
            _ => 1,
        };
        let node = self.target(what, |n| match n {
            Node::Record { name: r, .. } if name.is_some_and(|s| names(r, s)) => Some(0),
            Node::Record { .. } if records == 1 => Some(1),
            _ => None,
        })?;
        let Node::Record {
            fields, by_name, ..
        } = node
        else {
            return Err(self.fail(format!("a {what}")));
        };
        self.enter()?;
        Ok(RecordSer::new(self.w, self.node, fields, by_name))
    }

    /// [`serialize_str`](ser::Serializer::serialize_str) into a union or an enum, or a refusal.
    #[inline(never)]
    fn str_slow(mut self, v: &str) -> Res {
        // A union takes a string in its first `string` branch (before any enum).
        let plan = self.w.plan;
        if let Node::Union { branches, .. } = self.here()
            && let Some(i) = branches
                .iter()
                .position(|&b| matches!(plan.node(b), Node::String))
        {
            zigzag(self.w.out, i as i64);
            len_prefixed(self.w.out, v.as_bytes());
            return Ok(());
        }
        let node = self.target("string", |n| match n {
            Node::String => Some(0),
            Node::Enum { symbols, .. } if symbols.iter().any(|s| s == v) => Some(1),
            _ => None,
        })?;
        match node {
            Node::String => len_prefixed(self.w.out, v.as_bytes()),
            Node::Enum { symbols, .. } => match symbols.iter().position(|s| s == v) {
                Some(i) => zigzag(self.w.out, i as i64),
                None => return Err(self.fail(format!("{v:?} is not one of its symbols"))),
            },
            _ => return Err(self.fail("a string")),
        }
        Ok(())
    }
}

/// The integer methods that fit an `i64`: all but `u64` and the 128-bit ones.
macro_rules! ints {
    ($($name:ident($ty:ident))*) => {$(
        #[inline]
        fn $name(self, v: $ty) -> Res {
            self.int(
                i64::from(v),
                stringify!($ty),
                matches!(stringify!($ty).as_bytes(), b"i64" | b"u32"),
            )
        }
    )*};
}

impl<'w, 'o, 'p> ser::Serializer for Ser<'w, 'o, 'p> {
    type Ok = ();
    type Error = SerError;
    type SerializeSeq = SeqSer<'w, 'o, 'p>;
    type SerializeTuple = TupleSer<'w, 'o, 'p>;
    type SerializeTupleStruct = TupleSer<'w, 'o, 'p>;
    type SerializeTupleVariant = TupleSer<'w, 'o, 'p>;
    type SerializeMap = MapSer<'w, 'o, 'p>;
    type SerializeStruct = RecordSer<'w, 'o, 'p>;
    type SerializeStructVariant = RecordSer<'w, 'o, 'p>;

    #[inline]
    fn serialize_bool(mut self, v: bool) -> Res {
        if let Node::Boolean = self.here() {
            self.w.out.put_u8(u8::from(v));
            return Ok(());
        }
        match self.target("bool", |n| matches!(n, Node::Boolean).then_some(0))? {
            Node::Boolean => {
                self.w.out.put_u8(u8::from(v));
                Ok(())
            }
            _ => Err(self.fail("a bool")),
        }
    }

    ints! {
        serialize_i8(i8) serialize_i16(i16) serialize_i32(i32) serialize_i64(i64)
        serialize_u8(u8) serialize_u16(u16) serialize_u32(u32)
    }
    fn serialize_u64(self, v: u64) -> Res {
        match i64::try_from(v) {
            Ok(v) => self.int(v, "u64", true),
            Err(_) => Err(self.fail(format!("u64 {v} is out of the long range"))),
        }
    }

    fn serialize_f32(mut self, v: f32) -> Res {
        let node = self.target("f32", |n| match n {
            Node::Float => Some(0),
            Node::Double => Some(1),
            _ => None,
        })?;
        match node {
            Node::Float => self.w.out.put_f32_le(v),
            Node::Double => self.w.out.put_f64_le(f64::from(v)),
            _ => return Err(self.fail("an f32")),
        }
        Ok(())
    }

    #[inline]
    fn serialize_f64(mut self, v: f64) -> Res {
        if let Node::Double = self.here() {
            self.w.out.put_f64_le(v);
            return Ok(());
        }
        match self.target("f64", |n| matches!(n, Node::Double).then_some(0))? {
            Node::Double => {
                self.w.out.put_f64_le(v);
                Ok(())
            }
            _ => Err(self.fail("an f64")),
        }
    }

    fn serialize_char(self, v: char) -> Res {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }

    #[inline]
    fn serialize_str(self, v: &str) -> Res {
        if let Node::String = self.here() {
            len_prefixed(self.w.out, v.as_bytes());
            return Ok(());
        }
        self.str_slow(v)
    }

    fn serialize_bytes(mut self, v: &[u8]) -> Res {
        let node = self.target("bytes", |n| match n {
            Node::Bytes => Some(0),
            Node::Fixed { size, .. } if *size == v.len() => Some(1),
            Node::Fixed {
                size,
                decimal: true,
            } if *size > v.len() => Some(2),
            _ => None,
        })?;
        match node {
            Node::Bytes => len_prefixed(self.w.out, v),
            Node::Fixed { size, .. } if *size == v.len() => self.w.out.put_slice(v),
            Node::Fixed {
                size,
                decimal: true,
            } if *size > v.len() => {
                // A decimal's unscaled value, sign-extended to the fixed size.
                let sign = if v.first().is_some_and(|b| b & 0x80 != 0) {
                    0xff
                } else {
                    0
                };
                self.w.out.put_bytes(sign, size - v.len());
                self.w.out.put_slice(v);
            }
            Node::Fixed { size, .. } => {
                return Err(self.fail(format!("{} bytes for a fixed of {size}", v.len())));
            }
            _ => return Err(self.fail("bytes")),
        }
        Ok(())
    }

    fn serialize_none(mut self) -> Res {
        match self.target("None", |n| matches!(n, Node::Null).then_some(0))? {
            Node::Null => Ok(()),
            _ => Err(self.fail("None (the field is not nullable)")),
        }
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Res {
        // A union picks the branch by the inner value; any other type takes it as is.
        value.serialize(self)
    }

    fn serialize_unit(mut self) -> Res {
        match self.target("unit", |n| matches!(n, Node::Null).then_some(0))? {
            Node::Null => Ok(()),
            _ => Err(self.fail("a unit")),
        }
    }

    fn serialize_unit_struct(mut self, name: &'static str) -> Res {
        let node = self.target(name, |n| match n {
            Node::Record {
                name: r, fields, ..
            } if fields.is_empty() && names(r, name) => Some(0),
            Node::Null => Some(1),
            _ => None,
        })?;
        match node {
            Node::Null => Ok(()),
            Node::Record { fields, .. } if fields.is_empty() => Ok(()),
            _ => Err(self.fail(format!("the unit struct {name}"))),
        }
    }

    fn serialize_unit_variant(mut self, _: &'static str, _: u32, variant: &'static str) -> Res {
        if self.branch_named(variant) {
            // A `null` branch, an empty record, or an enum of that name.
            return match self.w.plan.node(self.node) {
                Node::Null => Ok(()),
                Node::Record { fields, .. } if fields.is_empty() => Ok(()),
                _ => Err(self.fail(format!("the unit variant {variant}"))),
            };
        }
        // Else an enum with that symbol; in a union, the `null` branch (as `#[derive(Record)]`
        // maps a unit variant) before a string of the variant's name.
        let node = self.target(variant, |n| match n {
            Node::Enum { symbols, .. } if symbols.iter().any(|s| s == variant) => Some(0),
            Node::Null => Some(1),
            Node::String => Some(2),
            _ => None,
        })?;
        match node {
            Node::Null => {}
            Node::Enum { symbols, .. } => match symbols.iter().position(|s| s == variant) {
                Some(i) => zigzag(self.w.out, i as i64),
                None => return Err(self.fail(format!("{variant} is not one of its symbols"))),
            },
            Node::String => len_prefixed(self.w.out, variant.as_bytes()),
            _ => return Err(self.fail(format!("the unit variant {variant}"))),
        }
        Ok(())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Res {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        mut self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Res {
        // The branch named as the variant; else the value picks one by its type.
        self.branch_named(variant);
        value.serialize(self)
    }

    #[inline]
    fn serialize_seq(mut self, len: Option<usize>) -> Res<SeqSer<'w, 'o, 'p>> {
        if let Node::Array { items } = self.here() {
            self.enter()?;
            return Ok(SeqSer::new(self.w, *items, len));
        }
        match self.target("sequence", |n| matches!(n, Node::Array { .. }).then_some(0))? {
            Node::Array { items } => {
                self.enter()?;
                Ok(SeqSer::new(self.w, *items, len))
            }
            _ => Err(self.fail("a sequence")),
        }
    }

    fn serialize_tuple(mut self, len: usize) -> Res<TupleSer<'w, 'o, 'p>> {
        let node = self.target("tuple", |n| match n {
            Node::Fixed {
                size,
                decimal: false,
            } if *size == len => Some(0),
            Node::Record { fields, .. } if fields.len() == len => Some(1),
            _ => None,
        })?;
        let nodes = match node {
            Node::Fixed { .. } => TupleNodes::Fixed,
            Node::Record { fields, .. } if fields.len() == len => TupleNodes::Fields(fields),
            _ if len == 1 => TupleNodes::One(self.node),
            _ => return Err(self.fail(format!("a tuple of {len}"))),
        };
        self.enter()?;
        Ok(TupleSer {
            w: self.w,
            nodes,
            next: 0,
        })
    }

    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Res<TupleSer<'w, 'o, 'p>> {
        self.serialize_tuple(len)
    }

    fn serialize_tuple_variant(
        mut self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Res<TupleSer<'w, 'o, 'p>> {
        self.branch_named(variant);
        self.serialize_tuple(len)
    }

    fn serialize_map(mut self, len: Option<usize>) -> Res<MapSer<'w, 'o, 'p>> {
        let node = self.target("map", |n| match n {
            Node::Map { .. } => Some(0),
            Node::Record { .. } => Some(1),
            _ => None,
        })?;
        match node {
            Node::Map { values } => {
                let values = *values;
                self.enter()?;
                Ok(MapSer::Map(SeqSer::new(self.w, values, len)))
            }
            Node::Record { .. } => Ok(MapSer::Record(self.record("map", None)?, None)),
            _ => Err(self.fail("a map")),
        }
    }

    #[inline]
    fn serialize_struct(self, name: &'static str, _: usize) -> Res<RecordSer<'w, 'o, 'p>> {
        self.record("struct", Some(name))
    }

    fn serialize_struct_variant(
        mut self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Res<RecordSer<'w, 'o, 'p>> {
        self.branch_named(variant);
        self.record("struct variant", Some(variant))
    }

    fn serialize_i128(self, v: i128) -> Res {
        match i64::try_from(v) {
            Ok(v) => self.int(v, "i64", true),
            Err(_) => Err(self.fail(format!("i128 {v} is out of the long range"))),
        }
    }

    fn serialize_u128(self, v: u128) -> Res {
        match i64::try_from(v) {
            Ok(v) => self.int(v, "i64", true),
            Err(_) => Err(self.fail(format!("u128 {v} is out of the long range"))),
        }
    }

    fn is_human_readable(&self) -> bool {
        super::plan::HUMAN_READABLE
    }
}

/// An array's items (or a map's entries), written as one block: its count first when serde
/// gives the length up front (every sequence and map of std does), else patched in at the end.
struct SeqSer<'w, 'o, 'p> {
    w: &'w mut Writer<'o, 'p>,
    items: NodeId,
    /// The count written up front, if any.
    told: Option<usize>,
    count: usize,
    /// Where the items start, when the count is to be inserted before them at the end.
    start: usize,
}

impl<'w, 'o, 'p> SeqSer<'w, 'o, 'p> {
    fn new(w: &'w mut Writer<'o, 'p>, items: NodeId, len: Option<usize>) -> Self {
        if let Some(n) = len
            && n > 0
        {
            zigzag(w.out, n as i64);
        }
        let start = w.out.len();
        SeqSer {
            w,
            items,
            told: len,
            count: 0,
            start,
        }
    }

    fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Res {
        let i = self.count;
        self.count += 1;
        value
            .serialize(Ser {
                w: self.w,
                node: self.items,
            })
            .map_err(|e| e.at(|| format!("[{i}]")))
    }

    fn finish(self) -> Res {
        match self.told {
            Some(n) if n == self.count => {}
            Some(n) => {
                return Err(SerError::from(Failure {
                    path: Vec::new(),
                    schema: label(self.w.plan.node(self.items)),
                    problem: format!("a sequence that said {n} items and gave {}", self.count),
                }));
            }
            None if self.count > 0 => {
                // Insert the count before the items, which move right by its width.
                let mut count = [0u8; 10];
                let width = {
                    let mut b = &mut count[..];
                    let before = b.len();
                    let mut n = (self.count as u64) << 1;
                    while n >= 0x80 {
                        b.put_u8((n as u8 & 0x7f) | 0x80);
                        n >>= 7;
                    }
                    b.put_u8(n as u8);
                    before - b.len()
                };
                let end = self.w.out.len();
                self.w.out.put_slice(&count[..width]);
                self.w.out.copy_within(self.start..end, self.start + width);
                self.w.out[self.start..self.start + width].copy_from_slice(&count[..width]);
            }
            None => {}
        }
        self.w.out.put_u8(0);
        self.w.depth -= 1;
        Ok(())
    }
}

impl ser::SerializeSeq for SeqSer<'_, '_, '_> {
    type Ok = ();
    type Error = SerError;

    #[inline]
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Res {
        self.item(value)
    }

    fn end(self) -> Res {
        self.finish()
    }
}

/// A map's entries, or a record given as a map (fields by name, with the pending key).
enum MapSer<'w, 'o, 'p> {
    Map(SeqSer<'w, 'o, 'p>),
    Record(RecordSer<'w, 'o, 'p>, Option<String>),
}

impl ser::SerializeMap for MapSer<'_, '_, '_> {
    type Ok = ();
    type Error = SerError;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Res {
        match self {
            MapSer::Map(seq) => {
                let out = &mut *seq.w.out;
                key.serialize(KeySer(|k: &str| len_prefixed(out, k.as_bytes())))
            }
            MapSer::Record(_, slot) => key.serialize(KeySer(|k: &str| *slot = Some(k.to_owned()))),
        }
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Res {
        match self {
            MapSer::Map(seq) => seq.item(value),
            MapSer::Record(record, key) => {
                let key = key.take().unwrap_or_default();
                record.field(&key, None, value)
            }
        }
    }

    fn end(self) -> Res {
        match self {
            MapSer::Map(seq) => seq.finish(),
            MapSer::Record(record, _) => record.finish(),
        }
    }
}

/// Methods of a serializer that refuse their value with `$fail`.
macro_rules! refuse {
    ($fail:expr; $($name:ident($($ty:ty),*);)*) => {$(
        fn $name(self, $(_: $ty),*) -> Result<Self::Ok, SerError> { Err($fail) }
    )*};
}

/// The compound and generic methods of a serializer that refuses them all with `$fail`.
macro_rules! refuse_compound {
    ($fail:expr) => {
        fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Res {
            Err($fail)
        }
        fn serialize_newtype_variant<T: Serialize + ?Sized>(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: &T,
        ) -> Res {
            Err($fail)
        }
        fn serialize_seq(self, _: Option<usize>) -> Res<Self::SerializeSeq> {
            Err($fail)
        }
        fn serialize_tuple(self, _: usize) -> Res<Self::SerializeTuple> {
            Err($fail)
        }
        fn serialize_tuple_struct(
            self,
            _: &'static str,
            _: usize,
        ) -> Res<Self::SerializeTupleStruct> {
            Err($fail)
        }
        fn serialize_tuple_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Res<Self::SerializeTupleVariant> {
            Err($fail)
        }
        fn serialize_map(self, _: Option<usize>) -> Res<Self::SerializeMap> {
            Err($fail)
        }
        fn serialize_struct(self, _: &'static str, _: usize) -> Res<Self::SerializeStruct> {
            Err($fail)
        }
        fn serialize_struct_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Res<Self::SerializeStructVariant> {
            Err($fail)
        }
    };
}

/// A map key: a string (or a unit variant, or a newtype of one), handed to the closure.
struct KeySer<F>(F);

impl<F: FnOnce(&str)> ser::Serializer for KeySer<F> {
    type Ok = ();
    type Error = SerError;
    type SerializeSeq = Impossible<(), SerError>;
    type SerializeTuple = Impossible<(), SerError>;
    type SerializeTupleStruct = Impossible<(), SerError>;
    type SerializeTupleVariant = Impossible<(), SerError>;
    type SerializeMap = Impossible<(), SerError>;
    type SerializeStruct = Impossible<(), SerError>;
    type SerializeStructVariant = Impossible<(), SerError>;

    fn serialize_str(self, v: &str) -> Res {
        (self.0)(v);
        Ok(())
    }
    fn serialize_char(self, v: char) -> Res {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, v: &'static str) -> Res {
        self.serialize_str(v)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, v: &T) -> Res {
        v.serialize(self)
    }
    refuse! { not_a_key();
        serialize_bool(bool); serialize_i8(i8); serialize_i16(i16); serialize_i32(i32);
        serialize_i64(i64); serialize_u8(u8); serialize_u16(u16); serialize_u32(u32);
        serialize_u64(u64); serialize_f32(f32); serialize_f64(f64); serialize_bytes(&[u8]);
        serialize_none(); serialize_unit(); serialize_unit_struct(&'static str);
    }
    refuse_compound!(not_a_key());
}

fn not_a_key() -> SerError {
    SerError::from(Failure {
        path: Vec::new(),
        schema: "map".to_owned(),
        problem: "a map key that is not a string".to_owned(),
    })
}

/// What a tuple's elements are written as.
enum TupleNodes<'p> {
    /// The bytes of a `fixed` (`[u8; N]`).
    Fixed,
    /// A record's fields, in order.
    Fields(&'p [Field]),
    /// A 1-tuple: the value itself.
    One(NodeId),
}

struct TupleSer<'w, 'o, 'p> {
    w: &'w mut Writer<'o, 'p>,
    nodes: TupleNodes<'p>,
    next: usize,
}

impl TupleSer<'_, '_, '_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Res {
        let i = self.next;
        self.next += 1;
        let node = match self.nodes {
            TupleNodes::Fixed => {
                let byte = byte(value).map_err(|e| e.at(|| format!("[{i}]")))?;
                self.w.out.put_u8(byte);
                return Ok(());
            }
            TupleNodes::Fields(fields) => fields[i].node,
            TupleNodes::One(node) => node,
        };
        value
            .serialize(Ser { w: self.w, node })
            .map_err(|e| e.at(|| format!("[{i}]")))
    }

    fn finish(self) -> Res {
        self.w.depth -= 1;
        Ok(())
    }
}

/// serde's three tuple traits, each one `element` per value and `finish`.
macro_rules! tuple_traits {
    ($($tr:ident::$method:ident),*) => {$(
        impl ser::$tr for TupleSer<'_, '_, '_> {
            type Ok = ();
            type Error = SerError;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Res {
                self.element(value)
            }
            fn end(self) -> Res {
                self.finish()
            }
        }
    )*};
}

tuple_traits!(
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

/// One byte of a `fixed` written as a byte array (`[u8; N]`): an element that is not a `u8`
/// is refused.
fn byte<T: Serialize + ?Sized>(value: &T) -> Res<u8> {
    let mut byte = None;
    value.serialize(ByteSer(&mut byte))?;
    byte.ok_or_else(not_a_byte)
}

struct ByteSer<'a>(&'a mut Option<u8>);

fn not_a_byte() -> SerError {
    SerError::from(Failure {
        path: Vec::new(),
        schema: "fixed".to_owned(),
        problem: "an element that is not a u8".to_owned(),
    })
}

impl ser::Serializer for ByteSer<'_> {
    type Ok = ();
    type Error = SerError;
    type SerializeSeq = Impossible<(), SerError>;
    type SerializeTuple = Impossible<(), SerError>;
    type SerializeTupleStruct = Impossible<(), SerError>;
    type SerializeTupleVariant = Impossible<(), SerError>;
    type SerializeMap = Impossible<(), SerError>;
    type SerializeStruct = Impossible<(), SerError>;
    type SerializeStructVariant = Impossible<(), SerError>;

    fn serialize_u8(self, v: u8) -> Res {
        *self.0 = Some(v);
        Ok(())
    }
    refuse! { not_a_byte();
        serialize_bool(bool); serialize_i8(i8); serialize_i16(i16); serialize_i32(i32);
        serialize_i64(i64); serialize_u16(u16); serialize_u32(u32); serialize_str(&str);
        serialize_u64(u64); serialize_f32(f32); serialize_f64(f64); serialize_bytes(&[u8]);
        serialize_none(); serialize_unit(); serialize_unit_struct(&'static str); serialize_char(char);
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> Res {
        Err(not_a_byte())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, _: &T) -> Res {
        Err(not_a_byte())
    }
    refuse_compound!(not_a_byte());
}

/// A record's fields: in the schema's order they are written as they come; one serde gives
/// early is found by name and parked until its turn; one it leaves out takes its default.
struct RecordSer<'w, 'o, 'p> {
    w: &'w mut Writer<'o, 'p>,
    record: NodeId,
    fields: &'p [Field],
    by_name: &'p [u32],
    /// The next field in the schema's order.
    next: usize,
    /// Fields given before their turn: (index, encoded bytes).
    parked: Vec<(usize, BytesMut)>,
}

impl<'w, 'o, 'p> RecordSer<'w, 'o, 'p> {
    #[inline]
    fn new(
        w: &'w mut Writer<'o, 'p>,
        record: NodeId,
        fields: &'p [Field],
        by_name: &'p [u32],
    ) -> Self {
        RecordSer {
            w,
            record,
            fields,
            by_name,
            next: 0,
            parked: Vec::new(),
        }
    }

    #[cold]
    #[inline(never)]
    fn fail(&self, problem: String) -> SerError {
        SerError::from(Failure {
            path: Vec::new(),
            schema: label(self.w.plan.node(self.record)),
            problem,
        })
    }

    /// A field of a struct (serde's static field name) or of a map (`key` only).
    #[inline]
    fn field<T: Serialize + ?Sized>(
        &mut self,
        key: &str,
        static_key: Option<&'static str>,
        value: &T,
    ) -> Res {
        // The common case: serde's order is the schema's.
        if let Some(field) = self.fields.get(self.next)
            && self.parked.is_empty()
            && static_key.map_or(field.name == key, |k| field.is(k))
        {
            self.next += 1;
            return match value.serialize(Ser {
                w: self.w,
                node: field.node,
            }) {
                Ok(()) => Ok(()),
                Err(e) => Err(e.at(|| format!(".{key}"))),
            };
        }
        self.field_slow(key, value)
    }

    /// A field given out of the schema's order: encoded aside and parked until its turn.
    #[inline(never)]
    fn field_slow<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Res {
        let Some(i) = Node::field_index(self.fields, self.by_name, key) else {
            return Err(self.fail(format!(
                "the Rust type has a field {key:?} the record lacks"
            )));
        };
        if i < self.next || self.parked.iter().any(|(p, _)| *p == i) {
            return Err(self.fail(format!("field {key:?} given twice")));
        }
        let mut scratch = BytesMut::new();
        let mut w = Writer {
            out: &mut scratch,
            plan: self.w.plan,
            depth: self.w.depth,
        };
        value
            .serialize(Ser {
                w: &mut w,
                node: self.fields[i].node,
            })
            .map_err(|e| e.at(|| format!(".{key}")))?;
        self.parked.push((i, scratch));
        self.flush()
    }

    /// Writes the parked fields whose turn has come.
    fn flush(&mut self) -> Res {
        while let Some(p) = self.parked.iter().position(|(i, _)| *i == self.next) {
            let (_, bytes) = self.parked.swap_remove(p);
            self.w.out.put_slice(&bytes);
            self.next += 1;
        }
        Ok(())
    }

    #[inline]
    fn finish(mut self) -> Res {
        while self.next < self.fields.len() {
            self.flush()?;
            let Some(field) = self.fields.get(self.next) else {
                break;
            };
            match &field.default {
                Some(bytes) => self.w.out.put_slice(bytes),
                None => {
                    return Err(self
                        .fail("no value and no default for this field".to_owned())
                        .at(|| format!(".{}", field.name)));
                }
            }
            self.next += 1;
        }
        self.w.depth -= 1;
        Ok(())
    }
}

impl ser::SerializeStruct for RecordSer<'_, '_, '_> {
    type Ok = ();
    type Error = SerError;

    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Res {
        self.field(key, Some(key), value)
    }

    fn end(self) -> Res {
        self.finish()
    }
}

impl ser::SerializeStructVariant for RecordSer<'_, '_, '_> {
    type Ok = ();
    type Error = SerError;

    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Res {
        self.field(key, Some(key), value)
    }

    fn end(self) -> Res {
        self.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::zigzag;
    use bytes::BytesMut;

    /// Avro's zigzag varint, one byte at a time (the specification's definition).
    fn reference(v: i64) -> Vec<u8> {
        let mut n = ((v << 1) ^ (v >> 63)) as u64;
        let mut out = Vec::new();
        while n >= 0x80 {
            out.push((n as u8 & 0x7f) | 0x80);
            n >>= 7;
        }
        out.push(n as u8);
        out
    }

    #[test]
    fn varints_of_every_width_match_the_specification() {
        let mut values = vec![0, 1, -1, 63, -64, 64, -65, i64::MAX, i64::MIN];
        for bit in 0..64 {
            let p = 1u64 << bit;
            for v in [p, p - 1, p + 1] {
                let (v, half) = (v as i64, (v >> 1) as i64);
                values.extend([v, v.wrapping_neg(), half, -half]);
            }
        }
        let mut out = BytesMut::from(&b"prefix"[..]);
        for v in values {
            out.truncate(6);
            zigzag(&mut out, v);
            assert_eq!(&out[..6], b"prefix");
            assert_eq!(&out[6..], &reference(v)[..], "{v}");
        }
    }
}
