//! JSON Schema compatibility, following the main rules of Confluent's JSON Schema diff.
//!
//! The reader schema must accept every document the writer schema accepts (BACKWARD: the new
//! schema accepts all old documents). Locations are JSON pointers into the reader schema, such as
//! `'#/properties/address/properties/zip'`. These changes are **incompatible**:
//!
//! * **type narrowed or changed**: the reader's `type` lacks a type the writer allows (an
//!   `integer` writer is accepted by a `number` reader), or the reader adds `type` where the
//!   writer had none; a reader schema `false`;
//! * **enum narrowed** (a writer value missing from the reader's `enum`), an `enum` or `const`
//!   added or changed;
//! * **numeric constraints tightened**: `minimum` / `exclusiveMinimum` added or increased,
//!   `maximum` / `exclusiveMaximum` added or decreased (draft-4 boolean exclusive forms too),
//!   `multipleOf` added or changed to a value that does not divide the writer's;
//! * **string constraints tightened**: `maxLength` added or decreased, `minLength` added or
//!   increased, `pattern` added or changed;
//! * **array constraints tightened**: `items` schema changed incompatibly (checked recursively),
//!   `maxItems` added or decreased, `minItems` added or increased, `uniqueItems` added;
//! * **object content model**:
//!   * a writer property removed from a **closed** reader (`additionalProperties: false`), or
//!     not accepted by the reader's `additionalProperties` schema;
//!   * a property added to the reader whose schema does not accept any value, while the writer
//!     was **open** (it may have written that property with any value);
//!   * a property schema changed incompatibly (checked recursively);
//!   * a **required property added without a default**;
//!   * `additionalProperties: false` added (or an `additionalProperties` schema narrowed) while
//!     the writer allowed extra properties;
//!   * `maxProperties` added or decreased, `minProperties` added or increased;
//! * **combined schemas**: every `anyOf`/`oneOf` branch of the writer must be accepted by some
//!   reader branch; a reader `anyOf`/`oneOf` must accept a non-combined writer with one branch;
//!   every reader `allOf` branch must accept the writer (writer `allOf` branches are merged into
//!   the writer schema before comparing).
//!
//! `$ref`s are followed: local pointers (`#/definitions/…`, `#/$defs/…`) and references by name
//! (the schema's references, optionally with a `#/…` fragment). Keywords outside this list
//! (`not`, `if`/`then`/`else`, `patternProperties`, `dependencies`, tuple `items`/`prefixItems`,
//! `format`, …) are not compared.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{Map, Value};

use super::{Budget, Exhausted, MEMO_MESSAGES, Resolved};
use crate::RegistryError;

/// A parsed JSON Schema together with the documents it references by name.
#[derive(Debug)]
pub struct JsonSchema {
    root: Value,
    references: BTreeMap<String, Value>,
}

fn parse_doc(text: &str, what: &str) -> Result<Value, RegistryError> {
    let v: Value = serde_json::from_str(text)
        .map_err(|e| RegistryError::InvalidSchema(format!("JSON Schema{what}: {e}")))?;
    match v {
        Value::Object(_) | Value::Bool(_) => Ok(v),
        _ => Err(RegistryError::InvalidSchema(format!(
            "JSON Schema{what}: a schema must be an object or a boolean"
        ))),
    }
}

impl JsonSchema {
    /// Parses the schema and its references' documents.
    pub fn parse(resolved: Resolved<'_>) -> Result<Self, RegistryError> {
        let root = parse_doc(&resolved.schema.schema, "")?;
        let mut references = BTreeMap::new();
        for (name, s) in resolved.references {
            references.insert(
                name.clone(),
                parse_doc(&s.schema, &format!(" (reference '{name}')"))?,
            );
        }
        Ok(JsonSchema { root, references })
    }

    /// Refuses a schema Confluent's `JsonSchema.validate()` refuses: one its meta-schema (the
    /// draft its `$schema` names, else the latest) does not accept, or with a `$ref` that does
    /// not resolve — locally, or to one of its references (never fetched from elsewhere). The
    /// JSON Schema codec compiles its validator the same way, so what registers also
    /// serializes.
    pub fn validate(&self) -> Result<(), RegistryError> {
        jsonschema::options()
            .with_retriever(ReferenceRetriever(self.references.clone()))
            .build(&self.root)
            .map(drop)
            .map_err(|e| RegistryError::InvalidSchema(format!("Invalid JSON Schema: {e}")))?;
        refuse_ref_cycles(&self.root, &self.references)
    }
}

/// Where `$ref` `r`, met in document `doc`, points: the node and its document. `None` if it
/// does not resolve here (a local pointer, or a reference by name with an optional fragment).
fn ref_target<'v>(
    references: &'v BTreeMap<String, Value>,
    doc: &'v Value,
    r: &str,
) -> Option<(&'v Value, &'v Value)> {
    let (doc_name, fragment) = r.split_once('#').unwrap_or((r, ""));
    let (doc, pointer) = if let Some(d) = references.get(r) {
        (d, "")
    } else if doc_name.is_empty() {
        (doc, fragment)
    } else {
        (references.get(doc_name)?, fragment)
    };
    let target = if pointer.is_empty() {
        Some(doc)
    } else {
        doc.pointer(pointer)
    }?;
    Some((target, doc))
}

/// The keywords whose values are data, not schemas (a `$ref` key in them is no reference).
const DATA_KEYWORDS: [&str; 4] = ["const", "default", "enum", "examples"];

/// Refuses a `$ref` that leads, through `$ref`s only, back to itself: such a reference never
/// reaches a schema (Confluent cannot load it). Each node is followed once (linear work).
fn refuse_ref_cycles(
    root: &Value,
    references: &BTreeMap<String, Value>,
) -> Result<(), RegistryError> {
    // nodes whose `$ref` chain is known to end (in a schema, or in a `$ref` that does not
    // resolve here, which the meta-schema check judges)
    let mut ends: HashSet<*const Value> = HashSet::new();
    let mut stack: Vec<(&Value, &Value)> = vec![(root, root)];
    stack.extend(references.values().map(|d| (d, d)));
    while let Some((node, doc)) = stack.pop() {
        match node {
            Value::Object(map) => {
                for (key, value) in map {
                    if !DATA_KEYWORDS.contains(&key.as_str()) {
                        stack.push((value, doc));
                    }
                }
            }
            Value::Array(items) => stack.extend(items.iter().map(|v| (v, doc))),
            _ => continue,
        }
        let mut chain: HashSet<*const Value> = HashSet::new();
        let (mut at, mut at_doc) = (node, doc);
        while let Some(r) = at.get("$ref").and_then(Value::as_str) {
            let address: *const Value = at;
            if ends.contains(&address) {
                break;
            }
            if !chain.insert(address) {
                return Err(RegistryError::InvalidSchema(format!(
                    "Invalid JSON Schema: $ref '{r}' leads back to itself through $refs only"
                )));
            }
            match ref_target(references, at_doc, r) {
                Some((target, target_doc)) => (at, at_doc) = (target, target_doc),
                None => break,
            }
        }
        ends.extend(chain);
    }
    Ok(())
}

/// Serves a schema's `$ref`s to its references from memory (reference name, or the path of the
/// URI the `jsonschema` crate resolves it to → the referenced document), never from the network
/// or disk: the one retriever the registry's checks and kcodec-codecs' JSON Schema serdes
/// compile schemas with.
#[derive(Debug, Clone, Default)]
pub struct ReferenceRetriever(pub BTreeMap<String, Value>);

impl jsonschema::Retrieve for ReferenceRetriever {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let full = uri.as_str();
        let path = uri.path().as_str().trim_start_matches('/');
        self.0
            .get(full)
            .or_else(|| self.0.get(path))
            .cloned()
            .ok_or_else(|| format!("'{full}' is not among the schema's references").into())
    }
}

/// Messages for documents valid under `writer` checked against `reader` (empty = compatible),
/// or [`Exhausted`] when the check needs more than its work budget.
///
/// Each (reader node, writer node) pair is compared once: a pair met again (schemas that refer
/// to one definition from several places) repeats the first finding in one message per message
/// found the first time (at most [`MEMO_MESSAGES`]), without comparing again.
pub fn can_read(reader: &JsonSchema, writer: &JsonSchema) -> Result<Vec<String>, Exhausted> {
    can_read_within(reader, writer, &mut Budget::default())
}

/// [`can_read`] taking its steps from `budget`.
pub(super) fn can_read_within(
    reader: &JsonSchema,
    writer: &JsonSchema,
    budget: &mut Budget,
) -> Result<Vec<String>, Exhausted> {
    let mut ctx = Ctx {
        reader,
        writer,
        seen: HashSet::new(),
        memo: HashMap::new(),
        budget: std::mem::take(budget),
        errors: Vec::new(),
    };
    ctx.check(
        Node {
            schema: &reader.root,
            doc: &reader.root,
            stable: true,
        },
        Node {
            schema: &writer.root,
            doc: &writer.root,
            stable: true,
        },
        "#",
        0,
    );
    let result = ctx.budget.result(ctx.errors);
    *budget = ctx.budget;
    result
}

/// A schema node and the document its local `$ref`s point into.
#[derive(Clone, Copy)]
struct Node<'a> {
    schema: &'a Value,
    doc: &'a Value,
    /// Whether `schema` lies in a parsed document (which outlives the check), not in a map
    /// merged for the moment: only such nodes' addresses identify them for the memo.
    stable: bool,
}

impl<'a> Node<'a> {
    /// A node inside this one's schema.
    fn child(self, schema: &'a Value) -> Node<'a> {
        Node { schema, ..self }
    }
    /// The same document, seen through a merged (temporary) map.
    fn unstable(self) -> Node<'a> {
        Node {
            stable: false,
            ..self
        }
    }
}

const MAX_DEPTH: usize = 64;
static TRUE: Value = Value::Bool(true);
static EMPTY: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);

/// Keywords that do not constrain documents.
const ANNOTATIONS: &[&str] = &[
    "$schema",
    "$id",
    "id",
    "$comment",
    "title",
    "description",
    "default",
    "examples",
    "definitions",
    "$defs",
    "readOnly",
    "writeOnly",
    "deprecated",
];

fn accepts_everything(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Object(m) => m.keys().all(|k| ANNOTATIONS.contains(&k.as_str())),
        _ => false,
    }
}

fn types(m: &Map<String, Value>) -> Option<Vec<String>> {
    match m.get("type")? {
        Value::String(s) => Some(vec![s.clone()]),
        Value::Array(a) => Some(
            a.iter()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect(),
        ),
        _ => None,
    }
}

fn allows(types: &Option<Vec<String>>, t: &str) -> bool {
    match types {
        None => true,
        Some(ts) => ts
            .iter()
            .any(|x| x == t || (t == "integer" && x == "number")),
    }
}

/// A bound: value and whether it is exclusive.
type Bound = (f64, bool);

fn bound(m: &Map<String, Value>, inclusive: &str, exclusive: &str) -> Option<Bound> {
    let mut out: Option<Bound> = None;
    let draft4_exclusive = m.get(exclusive).and_then(Value::as_bool).unwrap_or(false);
    if let Some(v) = m.get(inclusive).and_then(Value::as_f64) {
        out = Some((v, draft4_exclusive));
    }
    if let Some(v) = m.get(exclusive).and_then(Value::as_f64) {
        let tighter = match out {
            None => true,
            Some((o, _)) => {
                if inclusive == "minimum" {
                    v >= o
                } else {
                    v <= o
                }
            }
        };
        if tighter {
            out = Some((v, true));
        }
    }
    out
}

fn fmt_bound(b: Bound) -> String {
    if b.1 {
        format!("{} (exclusive)", b.0)
    } else {
        b.0.to_string()
    }
}

fn list(values: &[String]) -> String {
    format!("[{}]", values.join(", "))
}

struct Ctx<'a> {
    reader: &'a JsonSchema,
    writer: &'a JsonSchema,
    /// (reader node, writer node) addresses under comparison, for recursive `$ref`s.
    seen: HashSet<(usize, usize)>,
    /// (reader node, writer node) addresses of stable nodes compared already, with the first
    /// messages that comparison gave and the path it was made at.
    memo: HashMap<(usize, usize), (String, Vec<String>)>,
    budget: Budget,
    errors: Vec<String>,
}

impl<'a> Ctx<'a> {
    // Nodes may point into the parsed schemas ('a) or into merged temporaries ('n).
    fn err(&mut self, path: &str, what: impl std::fmt::Display) {
        let message = format!("at '{path}': {what}");
        self.budget.spend_message(&message);
        self.errors.push(message);
    }

    /// Follows `$ref`s (a bounded chain). `None` if one does not resolve.
    fn resolve<'n>(&self, mut node: Node<'n>, reader_side: bool) -> Result<Node<'n>, String>
    where
        'a: 'n,
    {
        let side = if reader_side {
            self.reader
        } else {
            self.writer
        };
        for _ in 0..32 {
            let Some(r) = node.schema.get("$ref").and_then(Value::as_str) else {
                return Ok(node);
            };
            let (schema, doc) = ref_target(&side.references, node.doc, r)
                .ok_or_else(|| format!("cannot resolve $ref '{r}'"))?;
            node = Node {
                schema,
                doc,
                stable: true,
            };
        }
        Err("$ref chain too long".to_owned())
    }

    /// Runs a check on the side and says whether it raised no error.
    fn trial<'n>(&mut self, r: Node<'n>, w: Node<'n>, path: &str, depth: usize) -> bool
    where
        'a: 'n,
    {
        let saved = std::mem::take(&mut self.errors);
        self.check(r, w, path, depth);
        let ok = self.errors.is_empty();
        self.errors = saved;
        ok
    }

    fn check<'n>(&mut self, r: Node<'n>, w: Node<'n>, path: &str, depth: usize)
    where
        'a: 'n,
    {
        if depth > MAX_DEPTH {
            self.err(path, "schema nesting too deep to check");
            return;
        }
        if !self.budget.spend() {
            return;
        }
        let r = match self.resolve(r, true) {
            Ok(n) => n,
            Err(e) => return self.err(path, format_args!("reader: {e}")),
        };
        let w = match self.resolve(w, false) {
            Ok(n) => n,
            Err(e) => return self.err(path, format_args!("writer: {e}")),
        };
        if accepts_everything(r.schema) || w.schema == &Value::Bool(false) {
            return;
        }
        if r.schema == &Value::Bool(false) {
            return self.err(path, "reader schema is false and accepts no document");
        }
        let key = (
            r.schema as *const Value as usize,
            w.schema as *const Value as usize,
        );
        let memoize = r.stable && w.stable;
        if memoize && let Some((at, messages)) = self.memo.get(&key) {
            let repeated: Vec<String> = if at == path {
                messages.clone()
            } else {
                messages
                    .iter()
                    .map(|m| format!("at '{path}': the same as {m}"))
                    .collect()
            };
            for m in repeated {
                self.budget.spend_message(&m);
                self.errors.push(m);
            }
            return;
        }
        if !self.seen.insert(key) {
            return;
        }
        let before = self.errors.len();
        let rm = r.schema.as_object().unwrap_or(&*EMPTY);
        // Writer `allOf` branches are merged into the writer schema.
        let merged;
        let (w, wm): (Node<'_>, &Map<String, Value>) = match w.schema.as_object() {
            Some(m) if m.contains_key("allOf") => {
                merged = self.merge_all_of(w, m);
                (w.unstable(), &merged)
            }
            Some(m) => (w, m),
            None => (w, &EMPTY),
        };
        self.check_maps(r, rm, w, wm, path, depth);
        self.seen.remove(&key);
        if memoize && !self.budget.exhausted() {
            let first = self.errors[before..]
                .iter()
                .take(MEMO_MESSAGES)
                .cloned()
                .collect();
            self.memo.insert(key, (path.to_owned(), first));
        }
    }

    fn merge_all_of(&self, w: Node<'_>, m: &Map<String, Value>) -> Map<String, Value> {
        let mut out = m.clone();
        out.remove("allOf");
        if let Some(Value::Array(branches)) = m.get("allOf") {
            for b in branches {
                let Ok(b) = self.resolve(w.child(b), false) else {
                    continue;
                };
                if let Some(bm) = b.schema.as_object() {
                    for (k, v) in bm {
                        out.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                }
            }
        }
        out
    }

    fn check_maps<'n>(
        &mut self,
        r: Node<'n>,
        rm: &'n Map<String, Value>,
        w: Node<'n>,
        wm: &'n Map<String, Value>,
        path: &str,
        depth: usize,
    ) where
        'a: 'n,
    {
        if depth > MAX_DEPTH {
            self.err(path, "schema nesting too deep to check");
            return;
        }
        if !self.budget.spend() {
            return;
        }
        // Combined schemas first.
        let w_branches = wm
            .get("anyOf")
            .or_else(|| wm.get("oneOf"))
            .and_then(Value::as_array);
        let r_branches = rm
            .get("anyOf")
            .or_else(|| rm.get("oneOf"))
            .and_then(Value::as_array);
        if let Some(wb) = w_branches {
            // Each writer branch (with the writer's other keywords) must be read.
            let mut rest = wm.clone();
            rest.remove("anyOf");
            rest.remove("oneOf");
            for (i, b) in wb.iter().enumerate() {
                let branch = match self.resolve(w.child(b), false) {
                    Ok(n) => n,
                    Err(e) => {
                        self.err(path, format_args!("writer: {e}"));
                        continue;
                    }
                };
                if branch.schema == &Value::Bool(false) {
                    continue;
                }
                // A branch that leads back to a writer schema under comparison against this
                // reader (`{"anyOf":[{"$ref":"#"}]}`) adds nothing.
                let key = (
                    r.schema as *const Value as usize,
                    branch.schema as *const Value as usize,
                );
                if self.seen.contains(&key) {
                    continue;
                }
                let mut combined = rest.clone();
                if let Some(bm) = branch.schema.as_object() {
                    for (k, v) in bm {
                        combined.insert(k.clone(), v.clone());
                    }
                }
                let before = self.errors.len();
                self.seen.insert(key);
                self.check_maps(r, rm, branch.unstable(), &combined, path, depth + 1);
                self.seen.remove(&key);
                if self.errors.len() > before {
                    for e in &mut self.errors[before..] {
                        *e = format!("{e} (writer branch {i} of anyOf/oneOf)");
                    }
                }
            }
            return;
        }
        if let Some(rb) = r_branches {
            let mut r_rest = rm.clone();
            r_rest.remove("anyOf");
            r_rest.remove("oneOf");
            let any = rb.iter().any(|b| {
                let saved = std::mem::take(&mut self.errors);
                if let Ok(bn) = self.resolve(r.child(b), true) {
                    if accepts_everything(bn.schema) {
                        self.errors = saved;
                        return true;
                    }
                    if let Some(bm) = bn.schema.as_object() {
                        let bm: &'n Map<String, Value> = bm;
                        self.check_maps_owned(bn, bm, w, wm, path, depth + 1);
                    } else {
                        self.errors.push(String::new());
                    }
                } else {
                    self.errors.push(String::new());
                }
                let ok = self.errors.is_empty();
                self.errors = saved;
                ok
            });
            if !any {
                self.err(
                    path,
                    "the writer's schema is accepted by no branch of the reader's anyOf/oneOf",
                );
            }
        }
        if let Some(Value::Array(all)) = rm.get("allOf") {
            for (i, b) in all.iter().enumerate() {
                self.check(r.child(b), w, &format!("{path}/allOf/{i}"), depth + 1);
            }
        }
        self.check_keywords(r, rm, w, wm, path, depth);
    }

    /// [`Self::check_maps`] with the reader branch's own keywords (a reader `anyOf` branch).
    fn check_maps_owned<'n>(
        &mut self,
        r: Node<'n>,
        rm: &'n Map<String, Value>,
        w: Node<'n>,
        wm: &'n Map<String, Value>,
        path: &str,
        depth: usize,
    ) where
        'a: 'n,
    {
        if depth > MAX_DEPTH {
            self.err(path, "schema nesting too deep to check");
            return;
        }
        if !self.budget.spend() {
            return;
        }
        self.check_keywords(r, rm, w, wm, path, depth);
    }

    fn check_keywords<'n>(
        &mut self,
        r: Node<'n>,
        rm: &'n Map<String, Value>,
        w: Node<'n>,
        wm: &'n Map<String, Value>,
        path: &str,
        depth: usize,
    ) where
        'a: 'n,
    {
        let (rt, wt) = (types(rm), types(wm));
        if let Some(rts) = &rt {
            match &wt {
                None => self.err(
                    path,
                    format_args!("type restricted to {} (writer allowed any type)", list(rts)),
                ),
                Some(wts) => {
                    let lost: Vec<String> =
                        wts.iter().filter(|t| !allows(&rt, t)).cloned().collect();
                    if !lost.is_empty() {
                        self.err(
                            path,
                            format_args!(
                                "type changed from {} (writer) to {} (reader)",
                                list(wts),
                                list(rts)
                            ),
                        );
                    }
                }
            }
        }
        // enum / const
        let w_values: Option<Vec<&Value>> = match (wm.get("enum"), wm.get("const")) {
            (_, Some(c)) => Some(vec![c]),
            (Some(Value::Array(a)), None) => Some(a.iter().collect()),
            _ => None,
        };
        if let Some(Value::Array(re)) = rm.get("enum") {
            match &w_values {
                None => self.err(path, "enum added (writer allowed any value)"),
                Some(wv) => {
                    let missing: Vec<String> = wv
                        .iter()
                        .filter(|v| !re.contains(v))
                        .map(|v| v.to_string())
                        .collect();
                    if !missing.is_empty() {
                        self.err(
                            path,
                            format_args!("enum narrowed: values {} removed", list(&missing)),
                        );
                    }
                }
            }
        }
        if let Some(rc) = rm.get("const") {
            match &w_values {
                Some(wv) if wv.iter().all(|v| *v == rc) => {}
                _ => self.err(path, format_args!("const {rc} added or changed")),
            }
        }
        if allows(&wt, "number") || allows(&wt, "integer") {
            self.numeric(rm, wm, path);
        }
        if allows(&wt, "string") {
            self.max(rm, wm, "maxLength", path);
            self.min(rm, wm, "minLength", path);
            if let Some(p) = rm.get("pattern")
                && wm.get("pattern") != Some(p)
            {
                self.err(
                    path,
                    format_args!(
                        "pattern {} added or changed (writer: {})",
                        p,
                        wm.get("pattern")
                            .map_or("none".to_owned(), |v| v.to_string())
                    ),
                );
            }
        }
        if allows(&wt, "array") {
            self.max(rm, wm, "maxItems", path);
            self.min(rm, wm, "minItems", path);
            if rm.get("uniqueItems") == Some(&Value::Bool(true))
                && wm.get("uniqueItems") != Some(&Value::Bool(true))
            {
                self.err(path, "uniqueItems added");
            }
            if let Some(ri) = rm.get("items").filter(|v| !v.is_array()) {
                let wi = wm.get("items").filter(|v| !v.is_array()).unwrap_or(&TRUE);
                self.check(
                    r.child(ri),
                    w.child(wi),
                    &format!("{path}/items"),
                    depth + 1,
                );
            }
        }
        if allows(&wt, "object") {
            self.object(r, rm, w, wm, path, depth);
        }
    }

    fn numeric(&mut self, rm: &Map<String, Value>, wm: &Map<String, Value>, path: &str) {
        if let Some(rl) = bound(rm, "minimum", "exclusiveMinimum") {
            match bound(wm, "minimum", "exclusiveMinimum") {
                None => self.err(path, format_args!("minimum {} added", fmt_bound(rl))),
                Some(wl) if rl.0 > wl.0 || (rl.0 == wl.0 && rl.1 && !wl.1) => self.err(
                    path,
                    format_args!(
                        "minimum increased from {} to {}",
                        fmt_bound(wl),
                        fmt_bound(rl)
                    ),
                ),
                _ => {}
            }
        }
        if let Some(ru) = bound(rm, "maximum", "exclusiveMaximum") {
            match bound(wm, "maximum", "exclusiveMaximum") {
                None => self.err(path, format_args!("maximum {} added", fmt_bound(ru))),
                Some(wu) if ru.0 < wu.0 || (ru.0 == wu.0 && ru.1 && !wu.1) => self.err(
                    path,
                    format_args!(
                        "maximum decreased from {} to {}",
                        fmt_bound(wu),
                        fmt_bound(ru)
                    ),
                ),
                _ => {}
            }
        }
        if let Some(rmul) = rm.get("multipleOf").and_then(Value::as_f64) {
            let ok = wm
                .get("multipleOf")
                .and_then(Value::as_f64)
                .is_some_and(|wmul| {
                    let q = wmul / rmul;
                    rmul != 0.0 && (q - q.round()).abs() < 1e-9
                });
            if !ok {
                self.err(
                    path,
                    format_args!("multipleOf {rmul} added or changed to a non-divisor"),
                );
            }
        }
    }

    /// An upper limit (`maxLength`, …) added or decreased.
    fn max(&mut self, rm: &Map<String, Value>, wm: &Map<String, Value>, kw: &str, path: &str) {
        if let Some(r) = rm.get(kw).and_then(Value::as_f64) {
            match wm.get(kw).and_then(Value::as_f64) {
                None => self.err(path, format_args!("{kw} {r} added")),
                Some(w) if r < w => self.err(path, format_args!("{kw} decreased from {w} to {r}")),
                _ => {}
            }
        }
    }

    /// A lower limit (`minLength`, …) added or increased.
    fn min(&mut self, rm: &Map<String, Value>, wm: &Map<String, Value>, kw: &str, path: &str) {
        if let Some(r) = rm.get(kw).and_then(Value::as_f64) {
            let w = wm.get(kw).and_then(Value::as_f64).unwrap_or(0.0);
            if r > w {
                self.err(path, format_args!("{kw} increased from {w} to {r}"));
            }
        }
    }

    fn object<'n>(
        &mut self,
        r: Node<'n>,
        rm: &'n Map<String, Value>,
        w: Node<'n>,
        wm: &'n Map<String, Value>,
        path: &str,
        depth: usize,
    ) where
        'a: 'n,
    {
        let rp = rm
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&*EMPTY);
        let wp = wm
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&*EMPTY);
        let r_add = rm.get("additionalProperties").unwrap_or(&TRUE);
        let w_add = wm.get("additionalProperties").unwrap_or(&TRUE);
        let w_add_node = w.child(w_add);
        for (name, wps) in wp {
            let wn = w.child(wps);
            let p = format!("{path}/properties/{}", escape(name));
            match rp.get(name) {
                Some(rps) => self.check(r.child(rps), wn, &p, depth + 1),
                None if r_add == &Value::Bool(false) => self.err(
                    &p,
                    "property removed from a closed content model (additionalProperties: false)",
                ),
                None => {
                    let rn = r.child(r_add);
                    if !self.trial(rn, wn, &p, depth + 1) {
                        self.err(
                            &p,
                            "property removed and the reader's additionalProperties does not accept its values",
                        );
                    }
                }
            }
        }
        for (name, rps) in rp {
            if wp.contains_key(name) || w_add == &Value::Bool(false) {
                continue;
            }
            let p = format!("{path}/properties/{}", escape(name));
            let rn = r.child(rps);
            if !self.trial(rn, w_add_node, &p, depth + 1) {
                self.err(
                    &p,
                    "property added to an open content model whose additionalProperties allowed other values for it",
                );
            }
        }
        // required
        let req = |m: &Map<String, Value>| -> Vec<String> {
            m.get("required")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        let (r_req, w_req) = (req(rm), req(wm));
        for name in r_req.iter().filter(|n| !w_req.contains(n)) {
            let has_default = rp
                .get(name)
                .and_then(|s| self.resolve(r.child(s), true).ok())
                .is_some_and(|n| n.schema.get("default").is_some());
            if !has_default {
                self.err(
                    &format!("{path}/properties/{}", escape(name)),
                    "required property added without a default",
                );
            }
        }
        // additionalProperties narrowed
        if !accepts_everything(r_add) && w_add != &Value::Bool(false) {
            if r_add == &Value::Bool(false) {
                if accepts_everything(w_add) {
                    self.err(
                        path,
                        "additionalProperties: false added (the writer allowed extra properties)",
                    );
                } else {
                    self.err(path, "additionalProperties narrowed to false");
                }
            } else {
                self.check(
                    r.child(r_add),
                    w_add_node,
                    &format!("{path}/additionalProperties"),
                    depth + 1,
                );
            }
        }
        self.max(rm, wm, "maxProperties", path);
        self.min(rm, wm, "minProperties", path);
    }
}

/// JSON-pointer escaping of a property name.
fn escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}
