//! Writer → reader schema resolution on the compiled plans: a resolution plan compiled once per
//! (writer, reader) pair, and the walk that follows it, transcoding a payload written with the
//! writer schema into the reader schema's binary encoding. The typed deserializer then decodes
//! that with the reader's plan (`direct`), the generic one into a `Value` (`value`): one
//! resolution serves both.
//!
//! The rules are the Avro specification's "Schema Resolution", as Java's
//! `org.apache.avro.Resolver` (which `ResolvingGrammarGenerator`, so `GenericDatumReader`,
//! follows) applies them:
//! - records: fields matched by name or by a reader field's alias; writer-only fields skipped;
//!   reader-only fields take their default (no default: the pair does not resolve); record names
//!   are not compared (`Resolver.RecordAdjust`);
//! - enums: symbols by name, a symbol the reader lacks takes the reader's default, or fails when
//!   read; enum and fixed names must match (unqualified, or by a reader alias), fixed sizes too;
//! - promotions `int`→`long`→`float`→`double`, `string`↔`bytes` (`Resolver.Promote`);
//! - a writer union: each branch resolved against the reader's schema, a branch that does not
//!   resolve failing only when a value of it is read (`Resolver.WriterUnion`);
//! - a reader union (writer not one): the first branch of the same type, a named type's by its
//!   full name (or an alias), else a record of the same short name, else one whose fields resolve,
//!   else the first a promotion reaches (`Resolver.ReaderUnion.firstMatchingBranch`).
//!
//! Compiling visits each (writer node, reader node) pair once: linear in the two plans' sizes for
//! schemas that evolve as schemas do (at most their product in general). A pair that can never
//! be read (a reader field with no default, a type mismatch outside a writer union's branch) is
//! refused up front, with where and why, as Java's `SchemaCompatibility` would report it.

use super::AvroError;
use super::cursor::Cursor;
use super::encode::long;
use super::error::Incompatibility;
use super::plan::{MAX_DEPTH, Node, NodeId, Plan};
use super::validate::{block, enum_index, skip, union_branch};
use std::collections::HashMap;

/// A step's index in its [`Resolution`].
type StepId = u32;

/// How one writer value becomes one reader value.
#[derive(Debug)]
enum Step {
    /// The writer's bytes are the reader's: the same type, `int`→`long` (the same varint),
    /// `string`↔`bytes`, a `fixed` of the same size.
    Copy(NodeId),
    /// A number promoted.
    Promote {
        from: Num,
        to: Num,
    },
    /// An enum: each writer symbol's reader index (`None`: not in the reader, no default).
    Enum {
        writer: NodeId,
        map: Vec<Option<u32>>,
    },
    /// An array's items or a map's values (`what`: `array` or `map`), each resolved.
    Items {
        what: &'static str,
        writer: NodeId,
        items: StepId,
    },
    Record(Box<RecordStep>),
    /// The writer's schema is a union: each branch resolved against the reader's schema.
    WriterUnion {
        branches: Vec<StepId>,
    },
    /// The reader's schema is a union and the writer's not: written as the reader's branch.
    ReaderUnion {
        index: u32,
        inner: StepId,
    },
    /// No resolution: reading a value here fails.
    Fail(Incompatibility),
    /// A record pair being compiled.
    Pending,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Num {
    Int,
    Long,
    Float,
    Double,
}

#[derive(Debug)]
struct RecordStep {
    /// The writer's fields in order: the reader field each fills and how, or `None` (skipped).
    fields: Vec<(NodeId, Option<(u32, StepId)>)>,
    /// The reader's fields the writer lacks: index and encoded default.
    defaults: Vec<(u32, Box<[u8]>)>,
    /// Whether the fields come out in the reader's order as they are read.
    in_order: bool,
}

/// A compiled writer → reader resolution.
#[derive(Debug)]
pub(crate) struct Resolution {
    steps: Vec<Step>,
    root: StepId,
}

impl Resolution {
    /// Compiles the resolution of `writer` into `reader`; an error names where and why the pair
    /// can never be read.
    pub(crate) fn compile(writer: &Plan, reader: &Plan) -> Result<Resolution, Incompatibility> {
        let mut c = Compiler {
            w: writer,
            r: reader,
            steps: Vec::new(),
            memo: HashMap::new(),
            pending: Vec::new(),
        };
        let root = c.step(writer.root(), reader.root(), "$", 0);
        while let Some((id, w, r, path)) = c.pending.pop() {
            let step = c.record(w, r, &path);
            c.steps[id as usize] = step;
        }
        let res = Resolution {
            steps: c.steps,
            root,
        };
        match res.doomed() {
            Some(why) => Err(why),
            None => Ok(res),
        }
    }

    /// How many steps the resolution has: at most one per (writer node, reader node) pair.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.steps.len()
    }

    /// Whether the root can never be read, and why: a failing step reached by every value
    /// (through records, collections and reader unions; a writer union only when all its
    /// branches fail). A least fixed point over the steps, each edge followed once.
    fn doomed(&self) -> Option<Incompatibility> {
        let n = self.steps.len();
        let mut parents: Vec<Vec<StepId>> = vec![Vec::new(); n];
        // How many more children must fail before a step does: one, or a writer union's all.
        let mut need: Vec<usize> = vec![1; n];
        let mut why: Vec<Option<&Incompatibility>> = vec![None; n];
        let mut work = Vec::new();
        for (id, step) in self.steps.iter().enumerate() {
            let children: Vec<StepId> = match step {
                Step::Items { items, .. } => vec![*items],
                Step::ReaderUnion { inner, .. } => vec![*inner],
                Step::Record(r) => r.fields.iter().filter_map(|f| f.1.map(|s| s.1)).collect(),
                Step::WriterUnion { branches, .. } => {
                    need[id] = branches.len().max(1);
                    branches.clone()
                }
                Step::Fail(i) => {
                    why[id] = Some(i);
                    work.push(id);
                    continue;
                }
                _ => continue,
            };
            for c in children {
                parents[c as usize].push(id as StepId);
            }
        }
        while let Some(c) = work.pop() {
            for &p in &parents[c] {
                let p = p as usize;
                if need[p] == 0 {
                    continue;
                }
                need[p] -= 1;
                if need[p] == 0 {
                    why[p] = why[c];
                    work.push(p);
                }
            }
        }
        let root = self.root as usize;
        (need[root] == 0 || matches!(self.steps[root], Step::Fail(_)))
            .then(|| why[root].cloned())
            .flatten()
    }
}

struct Compiler<'p> {
    w: &'p Plan,
    r: &'p Plan,
    steps: Vec<Step>,
    memo: HashMap<(NodeId, NodeId), StepId>,
    /// Record pairs allocated and not yet compiled: filled from this list, not by recursion.
    pending: Vec<(StepId, NodeId, NodeId, String)>,
}

/// A named type's short name.
fn short(full: &str) -> &str {
    full.rsplit('.').next().unwrap_or(full)
}

impl Compiler<'_> {
    fn push(&mut self, step: Step) -> StepId {
        let id = StepId::try_from(self.steps.len()).unwrap_or(StepId::MAX);
        self.steps.push(step);
        id
    }

    fn fail(&mut self, path: &str, reason: String) -> Step {
        Step::Fail(Incompatibility {
            path: path.to_owned(),
            reason,
        })
    }

    fn mismatch(&mut self, w: NodeId, r: NodeId, path: &str) -> Step {
        let reason = format!(
            "the writer's {} does not resolve to the reader's {}",
            self.w.label(w),
            self.r.label(r)
        );
        self.fail(path, reason)
    }

    /// Whether the writer's named type `w` goes by the reader's `r`: the same unqualified name
    /// (Java compares `getName()` once the reader's aliases are applied), or a reader alias.
    fn names_match(&self, w: NodeId, r: NodeId) -> bool {
        let (we, re) = (self.w.extra(w), self.r.extra(r));
        match (&we.name, &re.name) {
            (Some(wn), Some(rn)) => short(wn) == short(rn) || re.aliases.iter().any(|a| a == &**wn),
            _ => true,
        }
    }

    /// Whether the writer's named type `w` has the reader's `r` full name (or an alias of it).
    fn full_name_match(&self, w: NodeId, r: NodeId) -> bool {
        let (we, re) = (self.w.extra(w), self.r.extra(r));
        match (&we.name, &re.name) {
            (Some(wn), Some(rn)) => wn == rn || re.aliases.iter().any(|a| a == &**wn),
            _ => false,
        }
    }

    fn step(&mut self, w: NodeId, r: NodeId, path: &str, depth: usize) -> StepId {
        if let Some(&id) = self.memo.get(&(w, r)) {
            return id;
        }
        let id = self.push(Step::Pending);
        self.memo.insert((w, r), id);
        if depth > super::plan::MAX_SCHEMA_NESTING {
            let step = self.fail(path, "the schemas nest too deep to resolve".into());
            self.steps[id as usize] = step;
            return id;
        }
        let (wp, rp) = (self.w, self.r);
        let step = match (wp.node(w), rp.node(r)) {
            (Node::Union { branches, .. }, _) => {
                let branches = branches
                    .iter()
                    .enumerate()
                    .map(|(i, &b)| self.step(b, r, &format!("{path}<{i}>"), depth + 1))
                    .collect();
                Step::WriterUnion { branches }
            }
            (Node::Null, Node::Null)
            | (Node::Boolean, Node::Boolean)
            | (Node::Int, Node::Int | Node::Long)
            | (Node::Long, Node::Long)
            | (Node::Float, Node::Float)
            | (Node::Double, Node::Double)
            | (Node::Bytes | Node::String, Node::Bytes | Node::String) => Step::Copy(w),
            (Node::Int, Node::Float) => Step::Promote {
                from: Num::Int,
                to: Num::Float,
            },
            (Node::Int, Node::Double) => Step::Promote {
                from: Num::Int,
                to: Num::Double,
            },
            (Node::Long, Node::Float) => Step::Promote {
                from: Num::Long,
                to: Num::Float,
            },
            (Node::Long, Node::Double) => Step::Promote {
                from: Num::Long,
                to: Num::Double,
            },
            (Node::Float, Node::Double) => Step::Promote {
                from: Num::Float,
                to: Num::Double,
            },
            (Node::Fixed { size: a, .. }, Node::Fixed { size: b, .. }) => {
                if !self.names_match(w, r) {
                    self.mismatch(w, r, path)
                } else if a != b {
                    self.fail(
                        path,
                        format!("fixed sizes differ: the writer's {a}, the reader's {b}"),
                    )
                } else {
                    Step::Copy(w)
                }
            }
            (Node::Enum { symbols: ws, .. }, Node::Enum { symbols: rs, .. }) => {
                if self.names_match(w, r) {
                    let default = rp.extra(r).enum_default;
                    let map = ws
                        .iter()
                        .map(|s| {
                            rs.iter()
                                .position(|x| x == s)
                                .and_then(|i| u32::try_from(i).ok())
                                .or(default)
                        })
                        .collect();
                    Step::Enum { writer: w, map }
                } else {
                    self.mismatch(w, r, path)
                }
            }
            (Node::Array { items: wi }, Node::Array { items: ri }) => {
                let items = self.step(*wi, *ri, &format!("{path}[]"), depth + 1);
                Step::Items {
                    what: "array",
                    writer: *wi,
                    items,
                }
            }
            (Node::Map { values: wv }, Node::Map { values: rv }) => {
                let items = self.step(*wv, *rv, &format!("{path}{{}}"), depth + 1);
                Step::Items {
                    what: "map",
                    writer: *wv,
                    items,
                }
            }
            (Node::Record { .. }, Node::Record { .. }) => {
                self.pending.push((id, w, r, path.to_owned()));
                return id;
            }
            (_, Node::Union { branches, .. }) => match self.reader_branch(w, branches) {
                Some(index) => {
                    let inner =
                        self.step(w, branches[index], &format!("{path}<{index}>"), depth + 1);
                    Step::ReaderUnion {
                        index: index as u32,
                        inner,
                    }
                }
                None => {
                    let reason = format!(
                        "the writer's {} matches no branch of the reader's union",
                        wp.label(w)
                    );
                    self.fail(path, reason)
                }
            },
            _ => self.mismatch(w, r, path),
        };
        self.steps[id as usize] = step;
        id
    }

    /// The reader union branch a (non-union) writer value goes to, as Java's
    /// `Resolver.ReaderUnion.firstMatchingBranch`.
    fn reader_branch(&self, w: NodeId, branches: &[NodeId]) -> Option<usize> {
        let (wp, rp) = (self.w, self.r);
        let wt = wp.type_name(w);
        let mut structure = None;
        for (j, &b) in branches.iter().enumerate() {
            if rp.type_name(b) != wt {
                continue;
            }
            match wp.node(w) {
                Node::Record { .. } | Node::Enum { .. } | Node::Fixed { .. } => {
                    if self.full_name_match(w, b) {
                        return Some(j);
                    }
                    if matches!(wp.node(w), Node::Record { .. }) && self.fields_resolve(w, b) {
                        let same_short = match (&wp.extra(w).name, &rp.extra(b).name) {
                            (Some(a), Some(c)) => short(a) == short(c),
                            _ => false,
                        };
                        if structure.is_none() || same_short {
                            structure = Some(j);
                        }
                    }
                }
                _ => return Some(j),
            }
        }
        if structure.is_some() {
            return structure;
        }
        branches.iter().position(|&b| {
            matches!(
                (wp.node(w), rp.node(b)),
                (Node::Int, Node::Long | Node::Float | Node::Double)
                    | (Node::Long, Node::Float | Node::Double)
                    | (Node::Float, Node::Double)
                    | (Node::String, Node::Bytes)
                    | (Node::Bytes, Node::String)
            )
        })
    }

    /// Whether the writer record `w` resolves to the reader record `r` field by field, one level
    /// deep (Java's `hasMatchError` on the record's own field actions).
    fn fields_resolve(&self, w: NodeId, r: NodeId) -> bool {
        let (Node::Record { fields: wf, .. }, Node::Record { fields: rf, .. }) =
            (self.w.node(w), self.r.node(r))
        else {
            return false;
        };
        rf.iter()
            .all(|f| match wf.iter().find(|x| field_matches(f, &x.name)) {
                Some(x) => self.shallow(x.node, f.node),
                None => f.default.is_some(),
            })
    }

    /// Whether a field of the writer's `w` resolves to the reader's `r` at its own level.
    fn shallow(&self, w: NodeId, r: NodeId) -> bool {
        let (wp, rp) = (self.w, self.r);
        match (wp.node(w), rp.node(r)) {
            (Node::Union { .. }, _) => true,
            (Node::Fixed { size: a, .. }, Node::Fixed { size: b, .. }) => {
                a == b && self.names_match(w, r)
            }
            (Node::Enum { .. }, Node::Enum { .. }) => self.names_match(w, r),
            (_, Node::Union { branches, .. }) => branches
                .iter()
                .any(|&b| wp.type_name(w) == rp.type_name(b) || self.promotes(w, b)),
            _ => wp.type_name(w) == rp.type_name(r) || self.promotes(w, r),
        }
    }

    fn promotes(&self, w: NodeId, r: NodeId) -> bool {
        matches!(
            (self.w.node(w), self.r.node(r)),
            (Node::Int, Node::Long | Node::Float | Node::Double)
                | (Node::Long, Node::Float | Node::Double)
                | (Node::Float, Node::Double)
                | (Node::String, Node::Bytes)
                | (Node::Bytes, Node::String)
        )
    }

    /// A record pair (Java's `Resolver.RecordAdjust`).
    fn record(&mut self, w: NodeId, r: NodeId, path: &str) -> Step {
        let (wp, rp) = (self.w, self.r);
        let (Node::Record { fields: wf, .. }, Node::Record { fields: rf, .. }) =
            (wp.node(w), rp.node(r))
        else {
            return self.mismatch(w, r, path);
        };
        let mut filled = vec![false; rf.len()];
        let mut fields = Vec::with_capacity(wf.len());
        for f in wf {
            let target = rf.iter().position(|x| field_matches(x, &f.name));
            match target {
                Some(ri) if !filled[ri] => {
                    filled[ri] = true;
                    let step =
                        self.step(f.node, rf[ri].node, &format!("{path}.{}", rf[ri].name), 1);
                    fields.push((f.node, Some((ri as u32, step))));
                }
                _ => fields.push((f.node, None)),
            }
        }
        let mut defaults = Vec::new();
        for (ri, f) in rf.iter().enumerate() {
            if filled[ri] {
                continue;
            }
            match &f.default {
                Some(bytes) => defaults.push((ri as u32, bytes.clone())),
                None => {
                    return self.fail(
                        &format!("{path}.{}", f.name),
                        format!(
                            "the reader's field '{}' is not in the writer's record {} and has no default",
                            f.name,
                            wp.label(w)
                        ),
                    );
                }
            }
        }
        let order = fields
            .iter()
            .filter_map(|f| f.1.map(|s| s.0))
            .chain(defaults.iter().map(|d| d.0));
        let mut last = None;
        let mut in_order = true;
        for i in order {
            if last.is_some_and(|l| l > i) {
                in_order = false;
            }
            last = Some(i);
        }
        Step::Record(Box::new(RecordStep {
            fields,
            defaults,
            in_order,
        }))
    }
}

/// Whether the reader's field `f` reads the writer's field `name` (by its name or an alias).
fn field_matches(f: &super::plan::Field, name: &str) -> bool {
    f.name == name || f.aliases.iter().any(|a| a == name)
}

/// Why a resolved read failed.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The payload is not a value of the writer schema.
    Data(AvroError),
    /// The value does not resolve (a union branch or an enum symbol the reader lacks).
    Resolve { at: usize, source: Incompatibility },
}

impl From<AvroError> for ReadError {
    fn from(e: AvroError) -> Self {
        ReadError::Data(e)
    }
}

/// Transcodes `data` (exactly one value of `writer`'s root) into `reader`'s encoding, appended to
/// `out`; answers how many steps it took (its work).
pub(crate) fn transcode(
    res: &Resolution,
    writer: &Plan,
    data: &[u8],
    out: &mut Vec<u8>,
) -> Result<u64, ReadError> {
    let mut t = Transcoder {
        res,
        w: writer,
        bytes: Cursor::new(data),
        out,
        zero_items: 0,
        work: 0,
    };
    t.step(res.root, 0)?;
    if t.bytes.pos != data.len() {
        return Err(AvroError::TrailingBytes {
            at: t.bytes.pos,
            count: data.len() - t.bytes.pos,
        }
        .into());
    }
    Ok(t.work)
}

struct Transcoder<'d, 'p, 'o> {
    res: &'p Resolution,
    w: &'p Plan,
    bytes: Cursor<'d>,
    out: &'o mut Vec<u8>,
    zero_items: u64,
    work: u64,
}

impl Transcoder<'_, '_, '_> {
    fn enter(&self, depth: usize) -> Result<usize, AvroError> {
        if depth + 1 > MAX_DEPTH {
            return Err(AvroError::TooDeep {
                at: self.bytes.pos,
                limit: MAX_DEPTH,
            });
        }
        Ok(depth + 1)
    }

    fn skip(&mut self, node: NodeId, depth: usize) -> Result<(), AvroError> {
        self.work += skip(self.w, &mut self.bytes, &mut self.zero_items, node, depth)?;
        Ok(())
    }

    fn step(&mut self, id: StepId, depth: usize) -> Result<(), ReadError> {
        self.work += 1;
        let res = self.res;
        match &res.steps[id as usize] {
            Step::Items {
                what,
                writer,
                items,
            } => self.items(what, *writer, *items, depth),
            Step::Record(rec) => self.record(rec, depth),
            Step::WriterUnion { branches } => {
                let (_, step) = union_branch(&mut self.bytes, branches)?;
                self.step(step, depth)
            }
            Step::ReaderUnion { index, inner } => {
                long(self.out, i64::from(*index));
                self.step(*inner, depth)
            }
            leaf => self.leaf(leaf, depth),
        }
    }

    /// A step that holds no other: kept out of [`step`](Self::step) so that the recursion's
    /// frames stay small.
    #[inline(never)]
    fn leaf(&mut self, step: &Step, depth: usize) -> Result<(), ReadError> {
        match step {
            Step::Copy(node) => {
                let start = self.bytes.pos;
                self.skip(*node, depth)?;
                self.out
                    .extend_from_slice(&self.bytes.data[start..self.bytes.pos]);
            }
            Step::Promote { from, to } => {
                let v: f64 = match from {
                    Num::Int => f64::from(self.bytes.int("int")?),
                    Num::Long => {
                        let v = self.bytes.long("long")?;
                        if *to == Num::Float {
                            self.out.extend_from_slice(&(v as f32).to_le_bytes());
                            return Ok(());
                        }
                        v as f64
                    }
                    Num::Float => {
                        let b = self.bytes.take("float", 4)?;
                        f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    }
                    Num::Double => return Err(AvroError::Config("no promotion from double").into()),
                };
                match to {
                    Num::Float => self.out.extend_from_slice(&(v as f32).to_le_bytes()),
                    _ => self.out.extend_from_slice(&v.to_le_bytes()),
                }
            }
            Step::Enum { writer, map } => {
                let at = self.bytes.pos;
                let Node::Enum { name, symbols } = self.w.node(*writer) else {
                    return Err(AvroError::Config("an enum step on a non-enum").into());
                };
                let i = enum_index(&mut self.bytes, name, symbols)?;
                match map[i] {
                    Some(r) => long(self.out, i64::from(r)),
                    None => {
                        return Err(ReadError::Resolve {
                            at,
                            source: Incompatibility {
                                path: name.clone(),
                                reason: format!(
                                    "the symbol '{}' is not in the reader's enum, which has no default",
                                    symbols[i]
                                ),
                            },
                        });
                    }
                }
            }
            Step::Fail(why) => {
                return Err(ReadError::Resolve {
                    at: self.bytes.pos,
                    source: why.clone(),
                });
            }
            Step::Pending => return Err(AvroError::Config("an uncompiled resolution step").into()),
            _ => return Err(AvroError::Config("not a leaf step").into()),
        }
        Ok(())
    }

    #[inline(never)]
    fn items(
        &mut self,
        what: &'static str,
        writer: NodeId,
        items: StepId,
        depth: usize,
    ) -> Result<(), ReadError> {
        let depth = self.enter(depth)?;
        loop {
            let count = block(&mut self.bytes, self.w, what, writer, &mut self.zero_items)?;
            if count == 0 {
                break;
            }
            long(self.out, count as i64);
            for _ in 0..count {
                if what == "map" {
                    // The key, as it is.
                    let start = self.bytes.pos;
                    let n = self.bytes.len("string")?;
                    self.bytes.take("string", n)?;
                    self.out
                        .extend_from_slice(&self.bytes.data[start..self.bytes.pos]);
                }
                self.step(items, depth)?;
            }
        }
        self.out.push(0);
        Ok(())
    }

    #[inline(never)]
    fn record(&mut self, rec: &RecordStep, depth: usize) -> Result<(), ReadError> {
        let depth = self.enter(depth)?;
        if rec.in_order {
            for (node, target) in &rec.fields {
                match target {
                    Some((_, step)) => self.step(*step, depth)?,
                    None => self.skip(*node, depth)?,
                }
            }
            for (_, bytes) in &rec.defaults {
                self.out.extend_from_slice(bytes);
            }
        } else {
            // Each reader field's bytes, then put in the reader's order.
            let base = self.out.len();
            let mut spans: Vec<(u32, usize, usize)> =
                Vec::with_capacity(rec.fields.len() + rec.defaults.len());
            for (node, target) in &rec.fields {
                match target {
                    Some((ri, step)) => {
                        let start = self.out.len();
                        self.step(*step, depth)?;
                        spans.push((*ri, start, self.out.len()));
                    }
                    None => self.skip(*node, depth)?,
                }
            }
            for (ri, bytes) in &rec.defaults {
                let start = self.out.len();
                self.out.extend_from_slice(bytes);
                spans.push((*ri, start, self.out.len()));
            }
            spans.sort_unstable_by_key(|s| s.0);
            let written = self.out.split_off(base);
            for (_, start, end) in spans {
                self.out
                    .extend_from_slice(&written[start - base..end - base]);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::avro::ParsedSchema;

    fn resolution(writer: &ParsedSchema, reader: &ParsedSchema) -> Resolution {
        Resolution::compile(writer.plan(), reader.plan()).unwrap()
    }

    /// The self-referential schema of the issue, its fields optional so that values end; the
    /// reader adds a defaulted field.
    const WRITER: &str = r#"{"type":"array","items":{"type":"record","name":"R","fields":[
        {"name":"a","type":["null","R"]},{"name":"b","type":["null","R"]},
        {"name":"c","type":["null","R"]},{"name":"d","type":["null","R"]}]}}"#;
    const READER: &str = r#"{"type":"array","items":{"type":"record","name":"R","fields":[
        {"name":"d","type":["null","R"]},{"name":"c","type":["null","R"]},
        {"name":"b","type":["null","R"]},{"name":"a","type":["null","R"]},
        {"name":"e","type":"int","default":5}]}}"#;
    /// No value of `R` ends: every field is an `R`.
    const ENDLESS: &str = r#"{"type":"array","items":{"type":"record","name":"R","fields":[
        {"name":"a","type":"R"},{"name":"b","type":"R"},
        {"name":"c","type":"R"},{"name":"d","type":"R"}]}}"#;

    #[test]
    fn self_referential_resolution_is_one_step_per_pair_and_linear_work() {
        let (w, r) = (
            ParsedSchema::parse(WRITER).unwrap(),
            ParsedSchema::parse(READER).unwrap(),
        );
        let res = resolution(&w, &r);
        // The array, the record, per field its writer union, the reader union its two
        // branches each go to, and `null` (one for all).
        assert_eq!(res.len(), 1 + 1 + 4 * 3 + 1);
        let mut out = Vec::new();
        assert_eq!(transcode(&res, w.plan(), &[0], &mut out).unwrap(), 1);
        assert_eq!(out, [0]);
        // 1 000 items of four null branches: per item the record, and per field the writer's
        // union, the reader's, and the null copied (a step and the value it skips).
        let mut data = vec![0xd0, 0x0f];
        data.extend(std::iter::repeat_n(0u8, 4000));
        data.push(0);
        out.clear();
        let work = transcode(&res, w.plan(), &data, &mut out).unwrap();
        assert_eq!(work, 1 + 1000 * (1 + 4 * 4));
        // Each item comes out in the reader's field order, with the default 5 (zig-zag 10).
        assert_eq!(out.len(), 2 + 1000 * 5 + 1);
        assert_eq!(&out[2..7], &[0, 0, 0, 0, 10]);
        let value = crate::avro::value::read_value(r.plan(), &out).unwrap();
        assert!(matches!(value, apache_avro::types::Value::Array(items) if items.len() == 1000));
    }

    #[test]
    fn an_endless_self_reference_stops_at_the_depth_limit() {
        let s = ParsedSchema::parse(ENDLESS).unwrap();
        let res = resolution(&s, &s);
        assert_eq!(res.len(), 2);
        // Empty: one step.
        let mut out = Vec::new();
        assert_eq!(transcode(&res, s.plan(), &[0], &mut out).unwrap(), 1);
        // 1 000 items claimed (they take no bytes): the first stops at the depth limit.
        let mut t = Transcoder {
            res: &res,
            w: s.plan(),
            bytes: Cursor::new(&[0xd0, 0x0f, 0]),
            out: &mut out,
            zero_items: 0,
            work: 0,
        };
        assert!(matches!(
            t.step(res.root, 0),
            Err(ReadError::Data(AvroError::TooDeep { .. }))
        ));
        assert!(t.work <= MAX_DEPTH as u64 + 1, "{} steps", t.work);
    }

    #[test]
    fn deep_data_through_a_recursive_resolution_stops_at_the_depth_limit() {
        let w = ParsedSchema::parse(
            r#"{"type":"record","name":"Node","fields":[{"name":"next","type":["null","Node"]}]}"#,
        )
        .unwrap();
        let r = ParsedSchema::parse(
            r#"{"type":"record","name":"Node","fields":[{"name":"next","type":["null","Node"]},
                {"name":"n","type":"int","default":0}]}"#,
        )
        .unwrap();
        let res = resolution(&w, &r);
        let mut out = Vec::new();
        // 127 records then null: within the limit, each with the default added.
        let mut data = vec![2u8; 127];
        data.push(0);
        transcode(&res, w.plan(), &data, &mut out).unwrap();
        assert_eq!(out.len(), 127 * 2 + 2);
        // 300 levels: refused at 128, not a stack overflow.
        assert!(matches!(
            transcode(&res, w.plan(), &[2; 300], &mut out),
            Err(ReadError::Data(AvroError::TooDeep { limit: 128, .. }))
        ));
    }

    #[test]
    fn an_unresolvable_pair_names_the_first_incompatibility() {
        let w = ParsedSchema::parse(
            r#"{"type":"record","name":"R","fields":[{"name":"a","type":"string"}]}"#,
        )
        .unwrap();
        let r = ParsedSchema::parse(
            r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}"#,
        )
        .unwrap();
        let why = Resolution::compile(w.plan(), r.plan()).unwrap_err();
        assert_eq!(why.path, "$.a");
        assert_eq!(
            why.reason,
            "the writer's string does not resolve to the reader's int"
        );
        // A missing field with no default.
        let r = ParsedSchema::parse(
            r#"{"type":"record","name":"R","fields":[{"name":"a","type":"string"},
                {"name":"b","type":"long"}]}"#,
        )
        .unwrap();
        let why = Resolution::compile(w.plan(), r.plan()).unwrap_err();
        assert_eq!(why.path, "$.b");
        // A writer union one branch of which resolves is readable: values of the other fail.
        let w = ParsedSchema::parse(r#"["null","string"]"#).unwrap();
        let r = ParsedSchema::parse(r#""string""#).unwrap();
        let res = resolution(&w, &r);
        let mut out = Vec::new();
        transcode(&res, w.plan(), &[2, 2, b'x'], &mut out).unwrap();
        assert_eq!(out, [2, b'x']);
        assert!(matches!(
            transcode(&res, w.plan(), &[0], &mut out),
            Err(ReadError::Resolve { at: 1, .. })
        ));
    }
}
