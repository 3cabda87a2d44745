//! A parsed JSON Schema: its registered text, its title, and a compiled validator.

use super::JsonSchemaError;
use jsonschema::Validator;
use kcodec_registry::Schema;
use serde_json::Value;
use std::collections::BTreeMap;

/// A JSON Schema ready to register and to validate with.
///
/// ```
/// use kcodec_codecs::json_schema::JsonSchema;
/// use serde_json::json;
///
/// let schema = JsonSchema::parse(r#"{"title":"shop.Order","type":"object",
///     "properties":{"qty":{"type":"integer","minimum":1}},"required":["qty"]}"#).unwrap();
/// assert_eq!(schema.title(), Some("shop.Order"));
/// assert!(schema.validate(&json!({"qty": 2})).is_ok());
/// let err = schema.validate(&json!({"qty": 0})).unwrap_err();
/// assert_eq!(err.to_string(), "JSON at '/qty' does not match the schema: 'minimum' failed");
/// // Why is the source (printed once by error-chain printers):
/// let why = std::error::Error::source(&err).unwrap();
/// assert_eq!(why.to_string(), "0 is less than the minimum of 1");
/// ```
#[derive(Debug, Clone)]
pub struct JsonSchema {
    text: String,
    value: Value,
    title: Option<String>,
    references: Vec<kcodec_registry::SchemaReference>,
    validator: std::sync::Arc<Validator>,
}

impl JsonSchema {
    /// Parses and compiles a schema with no references.
    pub fn parse(text: &str) -> Result<Self, JsonSchemaError> {
        Self::parse_with_references(text, &BTreeMap::new())
    }

    /// Parses and compiles a schema whose `$ref`s name `references` (reference name → schema,
    /// transitively), as the registry hands them out.
    pub fn parse_with_references(
        text: &str,
        references: &BTreeMap<String, Schema>,
    ) -> Result<Self, JsonSchemaError> {
        let value: Value = serde_json::from_str(text).map_err(JsonSchemaError::SchemaJson)?;
        let mut resources = BTreeMap::new();
        for (name, schema) in references {
            let v: Value =
                serde_json::from_str(&schema.schema).map_err(JsonSchemaError::SchemaJson)?;
            resources.insert(name.clone(), v);
        }
        let validator = jsonschema::options()
            .with_retriever(kcodec_registry::compat::json::ReferenceRetriever(resources))
            .build(&value)
            .map_err(|e| JsonSchemaError::Schema {
                message: e.to_string(),
                source: Box::new(e),
            })?;
        let title = value
            .get("title")
            .and_then(Value::as_str)
            .map(str::to_owned);
        Ok(JsonSchema {
            text: text.to_owned(),
            value,
            title,
            references: Vec::new(),
            validator: std::sync::Arc::new(validator),
        })
    }

    /// The schema schemars generates for `T` (feature `schemars`).
    #[cfg(feature = "schemars")]
    pub fn for_type<T: schemars::JsonSchema>() -> Result<Self, JsonSchemaError> {
        let schema = schemars::schema_for!(T);
        let text = serde_json::to_string(&schema).map_err(JsonSchemaError::Json)?;
        Self::parse(&text)
    }

    /// The same schema, registered with these references.
    pub fn with_references(mut self, references: Vec<kcodec_registry::SchemaReference>) -> Self {
        self.references = references;
        self
    }

    /// The schema text, as registered.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The schema as JSON.
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// The schema's `title`: the record name of the Record and TopicRecord subject strategies.
    pub fn title(&self) -> Option<&str> {
        self.title.as_deref()
    }

    /// The references it is registered with.
    pub fn references(&self) -> &[kcodec_registry::SchemaReference] {
        &self.references
    }

    /// The registry form: type JSON, the text, the references.
    pub fn to_registry_schema(&self) -> Schema {
        Schema::json(self.text.clone()).with_references(self.references.clone())
    }

    /// Checks `instance`; the first failure names its JSON pointer and the failing keyword.
    pub fn validate(&self, instance: &Value) -> Result<(), JsonSchemaError> {
        self.validator.validate(instance).map_err(|e| {
            let e = e.to_owned();
            JsonSchemaError::Invalid {
                pointer: e.instance_path().to_string(),
                keyword: e.kind().keyword().to_owned(),
                schema_pointer: e.schema_path().to_string(),
                message: e.to_string(),
                source: Box::new(e),
            }
        })
    }
}
