//! The [`SchemaRegistry`] trait: what every registry (in-memory, HTTP client) can do.

use crate::{CompatibilityLevel, RegisteredSchema, RegistryError, Schema, Version};
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::Arc;
use uuid::Uuid;

/// The answer to a compatibility test.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CompatibilityReport {
    /// Whether the schema is compatible.
    pub is_compatible: bool,
    /// Why not: one message per broken rule (empty when compatible; a remote registry fills it
    /// only when asked for `verbose` answers, which the HTTP client does).
    pub messages: Vec<String>,
}

/// A Confluent-compatible schema registry.
///
/// Implemented by [`crate::InMemoryRegistry`] and (feature `http`) the HTTP client. Object-safe:
/// hold it as `Arc<dyn SchemaRegistry>`.
///
/// Soft-deleted versions are hidden unless a `deleted` flag says otherwise; they keep their ids.
/// A permanent delete needs a soft delete first.
///
/// ```
/// use kcodec_registry::{InMemoryRegistry, Schema, SchemaRegistry, Version};
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let registry = InMemoryRegistry::new();
/// let schema = Schema::avro(r#"{"type":"record","name":"User","fields":[{"name":"name","type":"string"}]}"#);
/// let registered = registry.register("users-value", &schema, false).await?;
/// assert_eq!((registered.id, registered.version), (1, 1));
/// let latest = registry.version("users-value", Version::Latest, false).await?;
/// assert_eq!(latest.id, registered.id);
/// assert_eq!(registry.schema_by_id(1).await?.schema, latest.schema.schema);
/// # Ok::<(), kcodec_registry::RegistryError>(())
/// # }).unwrap();
/// ```
#[async_trait]
pub trait SchemaRegistry: Send + Sync {
    /// Registers `schema` under `subject` (`POST /subjects/{subject}/versions`) and answers its
    /// global id, version and GUID. The same schema registered again answers the same id and
    /// version; a schema that breaks the subject's compatibility level is refused with
    /// [`RegistryError::Incompatible`]. `normalize` asks the registry to normalize the schema first.
    async fn register(
        &self,
        subject: &str,
        schema: &Schema,
        normalize: bool,
    ) -> Result<RegisteredSchema, RegistryError>;

    /// Finds `schema` among the versions of `subject` (`POST /subjects/{subject}`), including
    /// soft-deleted ones when `deleted` is set.
    async fn lookup(
        &self,
        subject: &str,
        schema: &Schema,
        normalize: bool,
        deleted: bool,
    ) -> Result<RegisteredSchema, RegistryError>;

    /// The schema with this global id (`GET /schemas/ids/{id}`).
    async fn schema_by_id(&self, id: u32) -> Result<Arc<Schema>, RegistryError>;

    /// The schema with this GUID (`GET /schemas/guids/{guid}`).
    async fn schema_by_guid(&self, guid: Uuid) -> Result<Arc<Schema>, RegistryError>;

    /// The subjects a schema id is registered under (`GET /schemas/ids/{id}/subjects`).
    async fn subjects_for_id(&self, id: u32, deleted: bool) -> Result<Vec<String>, RegistryError>;

    /// All subjects, sorted (`GET /subjects`); with `deleted`, soft-deleted ones too.
    async fn subjects(&self, deleted: bool) -> Result<Vec<String>, RegistryError>;

    /// The versions of a subject, ascending (`GET /subjects/{subject}/versions`).
    async fn versions(&self, subject: &str, deleted: bool) -> Result<Vec<i32>, RegistryError>;

    /// One version of a subject, or the latest (`GET /subjects/{subject}/versions/{version}`).
    async fn version(
        &self,
        subject: &str,
        version: Version,
        deleted: bool,
    ) -> Result<RegisteredSchema, RegistryError>;

    /// Deletes a subject (`DELETE /subjects/{subject}[?permanent=true]`) and answers the
    /// versions deleted.
    async fn delete_subject(
        &self,
        subject: &str,
        permanent: bool,
    ) -> Result<Vec<i32>, RegistryError>;

    /// Deletes one version (`DELETE /subjects/{subject}/versions/{version}[?permanent=true]`) and
    /// answers its number.
    async fn delete_version(
        &self,
        subject: &str,
        version: Version,
        permanent: bool,
    ) -> Result<i32, RegistryError>;

    /// Tests `schema` against one version of `subject`, or (with `None`) against the versions the
    /// subject's level names (`POST /compatibility/subjects/{subject}/versions[/{version}]`).
    async fn test_compatibility(
        &self,
        subject: &str,
        schema: &Schema,
        version: Option<Version>,
    ) -> Result<CompatibilityReport, RegistryError>;

    /// The global compatibility level (`subject` = `None`, `GET /config`) or a subject's
    /// (`GET /config/{subject}`). A subject with no level of its own answers the global level when
    /// `default_to_global` is set, else [`RegistryError::SubjectCompatibilityNotConfigured`].
    async fn compatibility(
        &self,
        subject: Option<&str>,
        default_to_global: bool,
    ) -> Result<CompatibilityLevel, RegistryError>;

    /// Sets the global (`None`) or a subject's compatibility level (`PUT /config[/{subject}]`).
    async fn set_compatibility(
        &self,
        subject: Option<&str>,
        level: CompatibilityLevel,
    ) -> Result<CompatibilityLevel, RegistryError>;

    /// Removes a subject's own compatibility level (`DELETE /config/{subject}`), answering the
    /// level it had; the subject then follows the global level.
    async fn delete_compatibility(
        &self,
        subject: &str,
    ) -> Result<CompatibilityLevel, RegistryError>;

    /// The latest (not deleted) version of a subject.
    async fn latest(&self, subject: &str) -> Result<RegisteredSchema, RegistryError> {
        self.version(subject, Version::Latest, false).await
    }

    /// The latest version of `subject` whose metadata holds every property of `metadata`
    /// (`GET /subjects/{subject}/metadata?key=…&value=…`), soft-deleted versions included when
    /// `deleted` is set. The default, for registries that keep no metadata (the in-memory one),
    /// answers what Confluent answers when no version has metadata:
    /// [`RegistryError::SubjectNotFound`] for an unknown subject, else
    /// [`RegistryError::SchemaNotFound`].
    async fn latest_with_metadata(
        &self,
        subject: &str,
        metadata: &BTreeMap<String, String>,
        deleted: bool,
    ) -> Result<RegisteredSchema, RegistryError> {
        self.versions(subject, deleted).await?;
        Err(RegistryError::SchemaNotFound(format!(
            "no version of subject '{subject}' has the metadata {metadata:?}"
        )))
    }
}

macro_rules! forward_impl {
    ($($ty:ty),*) => {$(
        #[async_trait]
        impl<T: SchemaRegistry + ?Sized> SchemaRegistry for $ty {
            async fn register(&self, subject: &str, schema: &Schema, normalize: bool) -> Result<RegisteredSchema, RegistryError> {
                (**self).register(subject, schema, normalize).await
            }
            async fn lookup(&self, subject: &str, schema: &Schema, normalize: bool, deleted: bool) -> Result<RegisteredSchema, RegistryError> {
                (**self).lookup(subject, schema, normalize, deleted).await
            }
            async fn schema_by_id(&self, id: u32) -> Result<Arc<Schema>, RegistryError> {
                (**self).schema_by_id(id).await
            }
            async fn schema_by_guid(&self, guid: Uuid) -> Result<Arc<Schema>, RegistryError> {
                (**self).schema_by_guid(guid).await
            }
            async fn subjects_for_id(&self, id: u32, deleted: bool) -> Result<Vec<String>, RegistryError> {
                (**self).subjects_for_id(id, deleted).await
            }
            async fn subjects(&self, deleted: bool) -> Result<Vec<String>, RegistryError> {
                (**self).subjects(deleted).await
            }
            async fn versions(&self, subject: &str, deleted: bool) -> Result<Vec<i32>, RegistryError> {
                (**self).versions(subject, deleted).await
            }
            async fn version(&self, subject: &str, version: Version, deleted: bool) -> Result<RegisteredSchema, RegistryError> {
                (**self).version(subject, version, deleted).await
            }
            async fn delete_subject(&self, subject: &str, permanent: bool) -> Result<Vec<i32>, RegistryError> {
                (**self).delete_subject(subject, permanent).await
            }
            async fn delete_version(&self, subject: &str, version: Version, permanent: bool) -> Result<i32, RegistryError> {
                (**self).delete_version(subject, version, permanent).await
            }
            async fn test_compatibility(&self, subject: &str, schema: &Schema, version: Option<Version>) -> Result<CompatibilityReport, RegistryError> {
                (**self).test_compatibility(subject, schema, version).await
            }
            async fn compatibility(&self, subject: Option<&str>, default_to_global: bool) -> Result<CompatibilityLevel, RegistryError> {
                (**self).compatibility(subject, default_to_global).await
            }
            async fn set_compatibility(&self, subject: Option<&str>, level: CompatibilityLevel) -> Result<CompatibilityLevel, RegistryError> {
                (**self).set_compatibility(subject, level).await
            }
            async fn delete_compatibility(&self, subject: &str) -> Result<CompatibilityLevel, RegistryError> {
                (**self).delete_compatibility(subject).await
            }
            async fn latest(&self, subject: &str) -> Result<RegisteredSchema, RegistryError> {
                (**self).latest(subject).await
            }
            async fn latest_with_metadata(&self, subject: &str, metadata: &BTreeMap<String, String>, deleted: bool) -> Result<RegisteredSchema, RegistryError> {
                (**self).latest_with_metadata(subject, metadata, deleted).await
            }
        }
    )*};
}

forward_impl!(Arc<T>, &T, Box<T>);
