//! The JSON Schema deserializer: deframing, optional validation against the writer's (or a
//! given) schema, and serde.

use super::{JsonSchema, JsonSchemaError};
use crate::resolve::ResolveFuture;
use crate::subject::{self, ReaderCache};
use crate::wire::{self, SchemaId};
use crate::{DeserializeContext, Deserializer, Error, Unresolved};
use kcodec_registry::{Schema, SchemaRegistry, SchemaType};
use serde::de::DeserializeOwned;
use std::marker::PhantomData;
use std::sync::Arc;

enum Validation {
    Off,
    Given(Arc<JsonSchema>),
    Writer {
        registry: Arc<dyn SchemaRegistry>,
        schemas: ReaderCache<JsonSchema>,
    },
}

/// Deserializes compact (or any) JSON framed with the Confluent wire format into a serde type.
///
/// Three modes: validate against the writer schema the frame names (fetched from the registry
/// once per id: [`new`](Self::new), as Confluent's Python client does without a local schema),
/// against a given schema ([`with_schema`](Self::with_schema), no registry), or not at all
/// ([`without_validation`](Self::without_validation), no registry). A null record reads as JSON
/// `null`: `None` for an `Option`, [`Error::UnexpectedNull`] for other types.
pub struct JsonSchemaDeserializer<T> {
    validation: Arc<Validation>,
    _type: PhantomData<fn() -> T>,
}

impl<T> Clone for JsonSchemaDeserializer<T> {
    fn clone(&self) -> Self {
        JsonSchemaDeserializer {
            validation: self.validation.clone(),
            _type: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for JsonSchemaDeserializer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mode = match &*self.validation {
            Validation::Off => "off",
            Validation::Given(_) => "given schema",
            Validation::Writer { .. } => "writer schema",
        };
        f.debug_struct("JsonSchemaDeserializer")
            .field("validation", &mode)
            .finish()
    }
}

impl<T: DeserializeOwned> JsonSchemaDeserializer<T> {
    /// Validates against the writer schema, fetched from `registry` by the frame's id.
    pub fn new(registry: Arc<dyn SchemaRegistry>) -> Self {
        Self::from(Validation::Writer {
            registry,
            schemas: ReaderCache::default(),
        })
    }

    /// Validates against `schema`; needs no registry.
    pub fn with_schema(schema: JsonSchema) -> Self {
        Self::from(Validation::Given(Arc::new(schema)))
    }

    /// Does not validate; needs no registry.
    pub fn without_validation() -> Self {
        Self::from(Validation::Off)
    }

    fn from(validation: Validation) -> Self {
        JsonSchemaDeserializer {
            validation: Arc::new(validation),
            _type: PhantomData,
        }
    }

    fn decode(&self, data: &[u8], ctx: &DeserializeContext<'_>) -> Result<T, Error> {
        let framed = wire::read(data, ctx.headers(), ctx.target(), false)?;
        let schema = match &*self.validation {
            Validation::Off => {
                return serde_json::from_slice(framed.payload)
                    .map_err(|e| JsonSchemaError::Json(e).into());
            }
            Validation::Given(schema) => schema.clone(),
            Validation::Writer { schemas, .. } => schemas.get(framed.schema_id)?,
        };
        let json: serde_json::Value =
            serde_json::from_slice(framed.payload).map_err(JsonSchemaError::Json)?;
        schema.validate(&json)?;
        // From the bytes again rather than from `json`: serde_json's `Value` sorts object keys,
        // and a type may care about their order.
        serde_json::from_slice(framed.payload).map_err(|e| JsonSchemaError::Json(e).into())
    }

    async fn resolve(&self, need: &Unresolved) -> Result<(), Error> {
        let (Unresolved::Schema(id), Validation::Writer { registry, schemas }) =
            (need, &*self.validation)
        else {
            return Err(Error::CannotResolve(need.clone()));
        };
        let schema = subject::fetch_schema(&**registry, *id).await?;
        let parsed = parse_registered(&**registry, *id, &schema).await?;
        schemas.insert(*id, parsed);
        Ok(())
    }
}

/// Parses a schema the registry returned (fetching its references), refusing non-JSON ones.
pub(super) async fn parse_registered(
    registry: &dyn SchemaRegistry,
    id: SchemaId,
    schema: &Schema,
) -> Result<JsonSchema, Error> {
    if schema.schema_type != SchemaType::Json {
        return Err(JsonSchemaError::NotJsonSchema {
            id,
            schema_type: schema.schema_type,
        }
        .into());
    }
    let found = subject::fetch_references(registry, schema, |n| {
        JsonSchemaError::ReferenceDepth(n).into()
    })
    .await?;
    Ok(JsonSchema::parse_with_references(&schema.schema, &found)?
        .with_references(schema.references.clone()))
}

impl<T: DeserializeOwned> Deserializer<T> for JsonSchemaDeserializer<T> {
    fn deserialize(&self, data: Option<&[u8]>, ctx: &DeserializeContext<'_>) -> Result<T, Error> {
        match data {
            Some(data) => self.decode(data, ctx),
            None => serde_json::from_slice(b"null").map_err(|_| Error::UnexpectedNull {
                deserializer: "JSON Schema",
                target: ctx.target(),
            }),
        }
    }

    fn resolve<'a>(&'a self, need: &'a Unresolved) -> ResolveFuture<'a> {
        Box::pin(JsonSchemaDeserializer::resolve(self, need))
    }
}
