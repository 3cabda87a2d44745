//! Parsed, compiled Avro schemas: parsed once, then shared by every message.

use super::AvroError;
use super::encode::KeyOrder;
use super::plan::Plan;
use apache_avro::Schema;
use apache_avro::schema::{NamesRef, ResolvedSchema};
use apache_avro::types::Value;
use kcodec_registry::SchemaReference;
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// A generic Avro value read from a JSON document's text
/// ([`ParsedSchema::value_from_json_text`]), with the order the document lists its objects' keys
/// in: [`GenericAvroSerializer`](super::GenericAvroSerializer) writes its maps' entries in that
/// order (a plain [`Value`]'s maps are written sorted by key).
#[derive(Debug, Clone, PartialEq)]
pub struct OrderedValue {
    value: Value,
    order: KeyOrder,
}

impl OrderedValue {
    /// The value.
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// The value, without the key order.
    pub fn into_value(self) -> Value {
        self.value
    }
}

/// A parsed Avro schema, ready to encode and decode with: its named types are resolved, and its
/// reader and its compiled plan (which the typed encoder and decoder walk) are built once. Cheap
/// to clone (shared).
///
/// ```
/// use kcodec_codecs::avro::ParsedSchema;
///
/// let schema = ParsedSchema::parse(r#"{"type":"record","name":"User","fields":[{"name":"id","type":"long"}]}"#).unwrap();
/// assert_eq!(schema.name(), "User");
/// assert!(ParsedSchema::parse("{").is_err());
/// ```
#[derive(Clone)]
pub struct ParsedSchema {
    inner: Arc<Inner>,
}

struct Inner {
    text: String,
    references: Vec<SchemaReference>,
    canonical: String,
    /// The canonical form with those of the referenced schemas: what [`PartialEq`] compares.
    identity: String,
    name: String,
    schema: Schema,
    deps: Vec<Schema>,
    plan: Plan,
    /// The last other parse found equal to this one by [`ParsedSchema::is`], so that comparing
    /// the same two parses again (a registry's writer schema with a record's own, on every
    /// `deserialize_record`) is a pointer compare. Weak: it keeps the other's allocation, and so
    /// its address, from being reused, not its contents alive.
    same_as: std::sync::OnceLock<std::sync::Weak<Inner>>,
}

impl std::fmt::Debug for ParsedSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParsedSchema")
            .field("name", &self.inner.name)
            .field("canonical", &self.inner.canonical)
            .finish()
    }
}

impl PartialEq for ParsedSchema {
    /// Two schemas are equal when their Parsing Canonical Forms are, and those of the schemas
    /// they reference: they encode the same bytes. (A root's canonical form names a referenced
    /// type without its definition, so two versions of a referenced type must be told apart by
    /// their own forms.)
    fn eq(&self, other: &Self) -> bool {
        self.inner.identity == other.inner.identity
    }
}

impl Eq for ParsedSchema {}

/// The decoder's allocation limit for one string, bytes or collection, set once per process
/// through apache-avro's global `max_allocation_bytes` (unless the program set it first). Every
/// length is also checked against the bytes that remain before decoding, so a frame can't make
/// the decoder allocate much more than its own size.
pub const MAX_ALLOCATION_BYTES: usize = 64 * 1024 * 1024;

pub(crate) fn init_limits() {
    apache_avro::util::max_allocation_bytes(MAX_ALLOCATION_BYTES);
}

/// The referenced schemas `deps` ordered so that each comes after the ones whose named types it
/// uses, as apache-avro's name resolution needs (references are given in any order). Tries the
/// schemas not yet placed until a round places none: at most [`MAX_REFERENCES`](super::ser)
/// rounds over at most that many schemas. Those that never resolve go last, for apache-avro to
/// name the undefined type.
fn in_definition_order(deps: &[Schema]) -> Vec<&Schema> {
    let mut known: NamesRef<'_> = NamesRef::default();
    let mut order = Vec::with_capacity(deps.len());
    let mut left: Vec<&Schema> = deps.iter().collect();
    loop {
        let before = left.len();
        left.retain(|dep| {
            match ResolvedSchema::new_with_known_schemata(vec![*dep], None, &known) {
                Ok(resolved) => {
                    known.extend(resolved.get_names().iter().map(|(k, v)| (k.clone(), *v)));
                    order.push(*dep);
                    false
                }
                Err(_) => true,
            }
        });
        if left.is_empty() || left.len() == before {
            break;
        }
    }
    order.extend(left);
    order
}

/// The named types of `schema` and its dependencies `deps` (given in any order).
fn resolve_names<'s>(
    schema: &'s Schema,
    deps: &'s [Schema],
) -> Result<ResolvedSchema<'s>, apache_avro::Error> {
    let mut all = in_definition_order(deps);
    all.push(schema);
    ResolvedSchema::new_with_schemata(all)
}

impl ParsedSchema {
    /// Parses an Avro schema from its JSON text.
    pub fn parse(text: &str) -> Result<Self, AvroError> {
        let schema = Schema::parse_str(text).map_err(AvroError::SchemaParse)?;
        Self::build(text.to_owned(), schema, Vec::new(), Vec::new())
    }

    /// Parses a schema that refers to named types defined in other registered schemas (Confluent
    /// schema references): `references` are registered with it, `dependencies` are the texts of
    /// the referenced schemas (and of theirs), in any order.
    pub fn parse_with_references(
        text: &str,
        references: Vec<SchemaReference>,
        dependencies: &[&str],
    ) -> Result<Self, AvroError> {
        if dependencies.is_empty() {
            let mut parsed = Self::parse(text)?;
            Arc::get_mut(&mut parsed.inner)
                .expect("just built")
                .references = references;
            return Ok(parsed);
        }
        let (schema, deps) =
            Schema::parse_str_with_list(text, dependencies).map_err(AvroError::SchemaParse)?;
        Self::build(text.to_owned(), schema, deps, references)
    }

    /// Wraps an already parsed schema; its text is its canonical JSON form.
    pub fn from_schema(schema: Schema) -> Result<Self, AvroError> {
        let text = serde_json::to_string(&schema).map_err(|e| {
            AvroError::SchemaParse(apache_avro::Error::from(
                apache_avro::error::Details::ParseSchemaJson(e),
            ))
        })?;
        Self::build(text, schema, Vec::new(), Vec::new())
    }

    fn build(
        text: String,
        schema: Schema,
        deps: Vec<Schema>,
        references: Vec<SchemaReference>,
    ) -> Result<Self, AvroError> {
        init_limits();
        let canonical = schema.canonical_form();
        let mut dep_forms: Vec<String> = deps.iter().map(Schema::canonical_form).collect();
        dep_forms.sort_unstable();
        let identity = std::iter::once(canonical.as_str())
            .chain(dep_forms.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join("\n");
        let resolved = resolve_names(&schema, &deps).map_err(AvroError::SchemaParse)?;
        let mut plan = Plan::compile(&schema, resolved.get_names())?;
        drop(resolved);
        // What the typed encoder writes for a field serde leaves out, and resolution for a field
        // the writer lacks.
        plan.encode_defaults(super::json::default_bytes);
        let name = plan.label(plan.root());
        Ok(ParsedSchema {
            inner: Arc::new(Inner {
                text,
                references,
                canonical,
                identity,
                name,
                schema,
                deps,
                plan,
                same_as: std::sync::OnceLock::new(),
            }),
        })
    }

    /// The apache-avro schema.
    pub fn schema(&self) -> &Schema {
        &self.inner.schema
    }

    /// The schema text as given (what is registered).
    pub fn text(&self) -> &str {
        &self.inner.text
    }

    /// The Parsing Canonical Form: equal for schemas that encode the same bytes.
    pub fn canonical_form(&self) -> &str {
        &self.inner.canonical
    }

    /// The full name of a named schema, else its type (`string`, `array`…).
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Whether the schema is a top-level `"bytes"`, which Confluent writes raw (no length prefix).
    pub fn is_raw_bytes(&self) -> bool {
        matches!(self.schema(), Schema::Bytes)
    }

    /// The schema references it is registered with.
    pub fn references(&self) -> &[SchemaReference] {
        &self.inner.references
    }

    /// The schemas it refers to (parsed from the references' texts).
    pub fn dependencies(&self) -> &[Schema] {
        &self.inner.deps
    }

    /// Reads a value in Avro's JSON encoding against this schema (named types of its
    /// references included); see [`value_from_json`](super::value_from_json).
    pub fn value_from_json(&self, json: &serde_json::Value) -> Result<Value, AvroError> {
        super::json::from_json(self.plan(), json)
    }

    /// Reads a value from the text of a JSON document in Avro's JSON encoding (as
    /// [`value_from_json`](Self::value_from_json)), remembering the order its objects list their
    /// keys in: [`GenericAvroSerializer`](super::GenericAvroSerializer) writes the value's maps'
    /// entries in that order, as Confluent's serializers write a map (a Python `dict`) in
    /// insertion order. (A [`Value`]'s maps are `HashMap`s: they are written sorted by key.)
    ///
    /// ```
    /// use kcodec_codecs::avro::ParsedSchema;
    ///
    /// let schema = ParsedSchema::parse(r#"{"type":"map","values":"int"}"#).unwrap();
    /// let value = schema.value_from_json_text(r#"{"k": 1, "j": -2}"#).unwrap();
    /// assert!(matches!(value.value(), kcodec_codecs::avro::Value::Map(m) if m.len() == 2));
    /// assert!(schema.value_from_json_text("{").is_err());
    /// ```
    pub fn value_from_json_text(&self, text: &str) -> Result<OrderedValue, AvroError> {
        let json: serde_json::Value = serde_json::from_str(text).map_err(AvroError::JsonText)?;
        let order: KeyOrder = serde_json::from_str(text).map_err(AvroError::JsonText)?;
        Ok(OrderedValue {
            value: self.value_from_json(&json)?,
            order,
        })
    }

    /// Writes `value` in Avro's JSON encoding against this schema; see
    /// [`value_to_json`](super::value_to_json).
    pub fn value_to_json(&self, value: &Value) -> Result<serde_json::Value, AvroError> {
        super::json::to_json(self.plan(), value)
    }

    /// Writes `value` as Avro JSON text (as [`value_to_json`](Self::value_to_json)) with each
    /// record's fields in the schema's order, as Confluent's console consumer prints them (a
    /// `serde_json` object sorts its keys); map entries are sorted by key.
    ///
    /// ```
    /// use kcodec_codecs::avro::{ParsedSchema, Value};
    ///
    /// let schema = ParsedSchema::parse(r#"{"type":"record","name":"R","fields":[
    ///     {"name":"z","type":"long"},{"name":"a","type":["null","string"]}]}"#).unwrap();
    /// let value = Value::Record(vec![
    ///     ("z".into(), Value::Long(1)),
    ///     ("a".into(), Value::Union(1, Box::new(Value::String("x".into())))),
    /// ]);
    /// let mut out = Vec::new();
    /// schema.write_value_json(&value, &mut out).unwrap();
    /// assert_eq!(out, br#"{"z":1,"a":{"string":"x"}}"#);
    /// ```
    pub fn write_value_json(&self, value: &Value, out: &mut Vec<u8>) -> Result<(), AvroError> {
        super::json::write_text(self.plan(), value, out)
    }

    /// The named types (records, enums, fixed) of the schema and of the schemas it references,
    /// by full name: what its `Schema::Ref`s stand for. Gathered at each call (kcodec's own
    /// walkers follow the compiled plan instead).
    pub fn names(&self) -> NamesRef<'_> {
        resolve_names(&self.inner.schema, &self.inner.deps)
            .map(|r| r.get_names().clone())
            .unwrap_or_default()
    }

    /// Whether `other` is this schema: the same parse (a pointer compare), else equal with
    /// references included (see [`PartialEq`]).
    #[inline]
    pub(crate) fn is(&self, other: &ParsedSchema) -> bool {
        if Arc::ptr_eq(&self.inner, &other.inner)
            || self
                .inner
                .same_as
                .get()
                .is_some_and(|seen| std::ptr::eq(seen.as_ptr(), Arc::as_ptr(&other.inner)))
        {
            return true;
        }
        if self != other {
            return false;
        }
        let _ = self.inner.same_as.set(Arc::downgrade(&other.inner));
        true
    }

    /// The compiled plan the binary walkers follow.
    pub(crate) fn plan(&self) -> &Plan {
        &self.inner.plan
    }

    /// Writes a value read from JSON text, its maps' entries in the document's key order.
    pub(crate) fn write_ordered_value(
        &self,
        out: &mut impl bytes::BufMut,
        value: &OrderedValue,
    ) -> Result<(), AvroError> {
        super::encode::encode_in_order(
            self.plan(),
            self.plan().root(),
            &value.value,
            Some(&value.order),
            out,
        )
    }

    /// Writes a generic value, validating it against the schema first.
    pub(crate) fn write_value(
        &self,
        out: &mut impl bytes::BufMut,
        value: &Value,
    ) -> Result<(), AvroError> {
        super::encode::encode(self.plan(), self.plan().root(), value, out)
    }

    /// Decodes a payload straight into `T` (no intermediate `Value`), checking it as it goes.
    pub(crate) fn read_de<T: DeserializeOwned>(&self, data: &[u8]) -> Result<T, AvroError> {
        super::direct::from_slice(self.plan(), data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const USER: &str = r#"{"type":"record","name":"User","fields":[{"name":"id","type":"long"}]}"#;

    #[test]
    fn is_remembers_an_equal_parse_and_still_tells_others_apart() {
        let own = ParsedSchema::parse(USER).unwrap();
        let writer = ParsedSchema::parse(&USER.replace(':', ": ")).unwrap();
        let other = ParsedSchema::parse(&USER.replace("long", "int")).unwrap();
        assert!(own.is(&writer));
        assert!(
            own.inner.same_as.get().is_some(),
            "the equal parse is remembered"
        );
        assert!(own.is(&writer), "and found again");
        assert!(!own.is(&other));
        // A parse the memo doesn't name is still compared by its canonical forms.
        drop(writer);
        assert!(own.is(&ParsedSchema::parse(USER).unwrap()));
        assert!(!own.is(&other));
    }
}
