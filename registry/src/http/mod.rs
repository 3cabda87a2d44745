//! The HTTP client (feature `http`): [`HttpRegistry`] speaks the REST API of Confluent-compatible
//! registries (Confluent, Redpanda, Karapace, Apicurio's `ccompat` API, and the kcodec dev
//! server).
//!
//! - Content type `application/vnd.schemaregistry.v1+json`; errors' `{"error_code", "message"}`
//!   become typed [`RegistryError`]s (unknown codes: [`RegistryError::Server`]).
//! - Basic or bearer auth, TLS with rustls (extra root certificates and a client identity can be
//!   given), a request timeout and a connect timeout.
//! - Several base URLs tried in turn: the next one is tried when a request cannot be sent or the
//!   answer is a 5xx; a 4xx answer is final.
//! - Caches: schema by id and by GUID kept for good (they are immutable); the registration of a
//!   schema under a subject kept (invalidated by deletes made through this client); `latest`
//!   kept for [`HttpRegistryConfig::latest_ttl`]. Each cache is bounded
//!   ([`HttpRegistryConfig::cache_capacity`]), runs one request per key however many tasks ask
//!   at once, and never keeps an error.
//!
//! ```no_run
//! use kcodec_registry::http::{HttpRegistry, HttpRegistryConfig};
//! use kcodec_registry::{Schema, SchemaRegistry};
//! # async fn run() -> Result<(), kcodec_registry::RegistryError> {
//! let registry = HttpRegistryConfig::new("http://127.0.0.1:8081")
//!     .basic_auth("user", "secret")
//!     .build()?;
//! let registered = registry.register("users-value", &Schema::avro(r#""string""#), false).await?;
//! println!("id {}", registered.id);
//! # Ok(()) }
//! ```

mod cache;

use crate::api::{CompatibilityReport, SchemaRegistry};
use crate::{
    CompatibilityLevel, RegisteredSchema, RegistryError, Schema, SchemaReference, SchemaType,
    Version,
};
use async_trait::async_trait;
use cache::SingleFlightCache;
use reqwest::{Method, Url};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// `url` with any user info (`user:password@`) replaced by `***@`, for messages.
fn redact_user_info(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) if scheme.is_empty() => format!("***@{}", &rest[at + 1..]),
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => url.to_owned(),
    }
}

/// The largest response body the client reads (64 MiB).
const MAX_RESPONSE: usize = 64 * 1024 * 1024;
const ACCEPT: &str =
    "application/vnd.schemaregistry.v1+json, application/vnd.schemaregistry+json, application/json";
const CONTENT_TYPE: &str = "application/vnd.schemaregistry.v1+json";

/// How the client authenticates.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    /// HTTP basic auth (Confluent's `basic.auth.user.info`).
    Basic {
        /// User name (an API key on Confluent Cloud).
        username: String,
        /// Password (an API secret on Confluent Cloud).
        password: String,
    },
    /// A static bearer token (`Authorization: Bearer ...`).
    Bearer(String),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::Basic { username, .. } => write!(f, "Basic({username}, ***)"),
            Auth::Bearer(_) => f.write_str("Bearer(***)"),
        }
    }
}

/// Settings for an [`HttpRegistry`].
#[derive(Debug, Clone)]
pub struct HttpRegistryConfig {
    /// The base URLs, tried in turn.
    pub urls: Vec<String>,
    /// Authentication, if any.
    pub auth: Option<Auth>,
    /// Extra headers sent with every request (such as Confluent Cloud's `target-sr-cluster`).
    pub headers: Vec<(String, String)>,
    /// Timeout for a whole request, per base URL. Default 30 s.
    pub timeout: Duration,
    /// Timeout for connecting. Default 10 s.
    pub connect_timeout: Duration,
    /// Entries each cache holds at most. Default 1000; 0 turns caching off.
    pub cache_capacity: usize,
    /// How long a subject's `latest` version is cached. Default 60 s; zero disables that cache.
    pub latest_ttl: Duration,
    /// Extra trusted root certificates (PEM), besides the built-in web PKI roots.
    pub root_certificates_pem: Vec<Vec<u8>>,
    /// A client certificate and its private key (PEM) for mutual TLS.
    pub identity_pem: Option<Vec<u8>>,
}

impl HttpRegistryConfig {
    /// Settings for one base URL, or several separated by commas (as Confluent's `url` setting).
    pub fn new(urls: &str) -> Self {
        HttpRegistryConfig {
            urls: urls
                .split(',')
                .map(|u| u.trim().to_owned())
                .filter(|u| !u.is_empty())
                .collect(),
            auth: None,
            headers: Vec::new(),
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            cache_capacity: 1000,
            latest_ttl: Duration::from_secs(60),
            root_certificates_pem: Vec::new(),
            identity_pem: None,
        }
    }
    /// Uses HTTP basic auth.
    pub fn basic_auth(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.auth = Some(Auth::Basic {
            username: username.into(),
            password: password.into(),
        });
        self
    }
    /// Uses a bearer token.
    pub fn bearer_auth(mut self, token: impl Into<String>) -> Self {
        self.auth = Some(Auth::Bearer(token.into()));
        self
    }
    /// Adds a header to every request.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
    /// Sets the request timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
    /// Sets the connect timeout.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }
    /// Sets how many entries each cache holds at most.
    pub fn cache_capacity(mut self, capacity: usize) -> Self {
        self.cache_capacity = capacity;
        self
    }
    /// Sets how long `latest` is cached.
    pub fn latest_ttl(mut self, ttl: Duration) -> Self {
        self.latest_ttl = ttl;
        self
    }
    /// Trusts one more root certificate (PEM).
    pub fn add_root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificates_pem.push(pem.into());
        self
    }
    /// Presents this client certificate and key (PEM) for mutual TLS.
    pub fn identity_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.identity_pem = Some(pem.into());
        self
    }
    /// Builds the client.
    pub fn build(self) -> Result<HttpRegistry, RegistryError> {
        HttpRegistry::with_config(self)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct SchemaKey {
    subject: String,
    schema: Schema,
    normalize: bool,
}

struct Inner {
    client: reqwest::Client,
    base_urls: Vec<Url>,
    auth: Option<Auth>,
    by_id: SingleFlightCache<u32, Arc<Schema>>,
    by_guid: SingleFlightCache<Uuid, Arc<Schema>>,
    by_schema: SingleFlightCache<SchemaKey, RegisteredSchema>,
    latest: Option<SingleFlightCache<String, RegisteredSchema>>,
}

/// A client for a Confluent-compatible schema registry over HTTP. Cheap to clone (clones share
/// the connection pool and caches).
#[derive(Clone)]
pub struct HttpRegistry {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for HttpRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpRegistry")
            .field("base_urls", &self.inner.base_urls)
            .field("auth", &self.inner.auth)
            .finish_non_exhaustive()
    }
}

/// Which request, for naming errors.
#[derive(Clone, Copy, Default)]
struct Context<'a> {
    subject: Option<&'a str>,
    version: Option<i32>,
}

fn version_number(v: Version) -> Option<i32> {
    match v {
        Version::Number(n) => Some(n),
        Version::Latest => None,
    }
}

#[derive(Serialize)]
struct SchemaRequest<'a> {
    schema: &'a str,
    #[serde(rename = "schemaType", skip_serializing_if = "Option::is_none")]
    schema_type: Option<&'static str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    references: &'a [SchemaReference],
}

impl<'a> From<&'a Schema> for SchemaRequest<'a> {
    fn from(s: &'a Schema) -> Self {
        SchemaRequest {
            schema: &s.schema,
            schema_type: (s.schema_type != SchemaType::Avro).then(|| s.schema_type.as_str()),
            references: &s.references,
        }
    }
}

#[derive(Deserialize)]
struct SchemaResponse {
    subject: Option<String>,
    version: Option<i32>,
    id: Option<u32>,
    guid: Option<String>,
    #[serde(rename = "schemaType")]
    schema_type: Option<String>,
    #[serde(default)]
    references: Option<Vec<SchemaReference>>,
    schema: Option<String>,
}

impl SchemaResponse {
    fn guid(&self) -> Option<Uuid> {
        self.guid.as_deref().and_then(|g| Uuid::parse_str(g).ok())
    }
    fn schema(&self, url: &str) -> Result<Schema, RegistryError> {
        let schema_type = match self.schema_type.as_deref() {
            None | Some("") => SchemaType::Avro,
            Some(t) => match t.to_ascii_uppercase().as_str() {
                "AVRO" => SchemaType::Avro,
                "PROTOBUF" => SchemaType::Protobuf,
                "JSON" => SchemaType::Json,
                other => return Err(invalid(url, format!("unknown schemaType '{other}'"))),
            },
        };
        let text = self
            .schema
            .clone()
            .ok_or_else(|| invalid(url, "answer has no schema".to_owned()))?;
        Ok(Schema::new(schema_type, text)
            .with_references(self.references.clone().unwrap_or_default()))
    }
}

fn invalid(url: &str, why: String) -> RegistryError {
    RegistryError::InvalidResponse {
        url: url.to_owned(),
        status: 200,
        source: why.into(),
    }
}

#[derive(Deserialize)]
struct ErrorResponse {
    error_code: Option<i64>,
    message: Option<String>,
}

#[derive(Deserialize)]
struct CompatibilityResponse {
    is_compatible: bool,
    #[serde(default)]
    messages: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct ConfigResponse {
    #[serde(rename = "compatibilityLevel")]
    compatibility_level: Option<String>,
    compatibility: Option<String>,
}

impl ConfigResponse {
    fn level(self, url: &str) -> Result<CompatibilityLevel, RegistryError> {
        let text = self
            .compatibility_level
            .or(self.compatibility)
            .ok_or_else(|| invalid(url, "answer has no compatibility level".to_owned()))?;
        text.parse()
    }
}

fn bool_str(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

impl HttpRegistry {
    /// A client for `urls` (one, or several separated by commas) with default settings.
    pub fn new(urls: &str) -> Result<Self, RegistryError> {
        HttpRegistryConfig::new(urls).build()
    }

    /// A client with these settings.
    pub fn with_config(config: HttpRegistryConfig) -> Result<Self, RegistryError> {
        if config.urls.is_empty() {
            return Err(RegistryError::Config(
                "no schema registry URL given".to_owned(),
            ));
        }
        let mut auth = config.auth;
        let base_urls = config
            .urls
            .iter()
            .map(|u| {
                let shown = redact_user_info(u);
                let mut url = Url::parse(u)
                    .map_err(|e| RegistryError::Config(format!("bad URL '{shown}': {e}")))?;
                if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
                    return Err(RegistryError::Config(format!(
                        "bad URL '{shown}': need an http or https base URL"
                    )));
                }
                // User info moves into basic auth (unless auth is configured), so that no URL
                // the client keeps, sends or prints holds a password.
                if !url.username().is_empty() || url.password().is_some() {
                    let decode = |text: &str| {
                        String::from_utf8_lossy(&crate::percent_decode(text)).into_owned()
                    };
                    if auth.is_none() {
                        auth = Some(Auth::Basic {
                            username: decode(url.username()),
                            password: decode(url.password().unwrap_or("")),
                        });
                    }
                    let _ = url.set_username("");
                    let _ = url.set_password(None);
                }
                Ok(url)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::ACCEPT,
            reqwest::header::HeaderValue::from_static(ACCEPT),
        );
        for (name, value) in &config.headers {
            let name = reqwest::header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| RegistryError::Config(format!("bad header name '{name}': {e}")))?;
            let value = reqwest::header::HeaderValue::from_str(value)
                .map_err(|e| RegistryError::Config(format!("bad value for header {name}: {e}")))?;
            headers.insert(name, value);
        }
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .default_headers(headers)
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .user_agent(concat!("kcodec-registry/", env!("CARGO_PKG_VERSION")));
        for pem in &config.root_certificates_pem {
            let cert = reqwest::Certificate::from_pem(pem)
                .map_err(|e| RegistryError::Config(format!("bad root certificate: {e}")))?;
            builder = builder.add_root_certificate(cert);
        }
        if let Some(pem) = &config.identity_pem {
            let identity = reqwest::Identity::from_pem(pem)
                .map_err(|e| RegistryError::Config(format!("bad client identity: {e}")))?;
            builder = builder.identity(identity);
        }
        let client = builder
            .build()
            .map_err(|e| RegistryError::Config(format!("building the HTTP client: {e}")))?;
        let capacity = config.cache_capacity;
        Ok(HttpRegistry {
            inner: Arc::new(Inner {
                client,
                base_urls,
                auth,
                by_id: SingleFlightCache::new(capacity, None),
                by_guid: SingleFlightCache::new(capacity, None),
                by_schema: SingleFlightCache::new(capacity, None),
                latest: (!config.latest_ttl.is_zero())
                    .then(|| SingleFlightCache::new(capacity, Some(config.latest_ttl))),
            }),
        })
    }

    /// Forgets every cached answer.
    pub fn clear_caches(&self) {
        self.inner.by_id.invalidate(|_| true);
        self.inner.by_guid.invalidate(|_| true);
        self.inner.by_schema.invalidate(|_| true);
        if let Some(latest) = &self.inner.latest {
            latest.invalidate(|_| true);
        }
    }

    fn forget_subject(&self, subject: &str) {
        self.inner.by_schema.invalidate(|k| k.subject == subject);
        if let Some(latest) = &self.inner.latest {
            latest.invalidate(|k| k == subject);
        }
    }

    /// `base` with `path`'s segments (percent-encoded) and `query` appended. A segment `.` or
    /// `..` (a subject so named) is refused: URL normalization would turn it into another path.
    fn url(base: &Url, path: &[&str], query: &[(&str, &str)]) -> Result<Url, RegistryError> {
        if let Some(segment) = path.iter().find(|s| matches!(**s, "." | "..")) {
            return Err(RegistryError::InvalidSchema(format!(
                "subject '{segment}' cannot be named in a URL path"
            )));
        }
        let mut url = base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().extend(path);
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    /// Sends a request to each base URL in turn until one answers; returns the answer's JSON.
    async fn send<T: for<'de> Deserialize<'de>>(
        &self,
        method: Method,
        path: &[&str],
        query: &[(&str, &str)],
        body: Option<Vec<u8>>,
        context: Context<'_>,
    ) -> Result<T, RegistryError> {
        let mut last_error = None;
        let count = self.inner.base_urls.len();
        for (i, base) in self.inner.base_urls.iter().enumerate() {
            let url = Self::url(base, path, query)?;
            let url_text = url.to_string();
            let mut request = self.inner.client.request(method.clone(), url);
            request = match &self.inner.auth {
                Some(Auth::Basic { username, password }) => {
                    request.basic_auth(username, Some(password))
                }
                Some(Auth::Bearer(token)) => request.bearer_auth(token),
                None => request,
            };
            if let Some(body) = &body {
                request = request
                    .header(reqwest::header::CONTENT_TYPE, CONTENT_TYPE)
                    .body(body.clone());
            }
            let response = match request.send().await {
                Ok(r) => r,
                Err(e) => {
                    last_error = Some(RegistryError::Transport {
                        url: url_text,
                        source: Box::new(e),
                    });
                    continue;
                }
            };
            let status = response.status().as_u16();
            let bytes = match read_limited(response).await {
                Ok(b) => b,
                Err(e) => {
                    last_error = Some(RegistryError::Transport {
                        url: url_text,
                        source: e,
                    });
                    continue;
                }
            };
            if (200..300).contains(&status) {
                return serde_json::from_slice(&bytes).map_err(|e| {
                    RegistryError::InvalidResponse {
                        url: url_text,
                        status,
                        source: Box::new(e),
                    }
                });
            }
            let error = match serde_json::from_slice::<ErrorResponse>(&bytes) {
                Ok(ErrorResponse {
                    error_code: Some(code),
                    message,
                }) => RegistryError::from_response(
                    status,
                    u32::try_from(code).unwrap_or(status as u32),
                    message.unwrap_or_default(),
                    context.subject,
                    context.version,
                ),
                _ => RegistryError::Server {
                    status,
                    error_code: status as u32,
                    message: String::from_utf8_lossy(&bytes[..bytes.len().min(1024)]).into_owned(),
                },
            };
            if status >= 500 && i + 1 < count {
                last_error = Some(error);
                continue;
            }
            return Err(error);
        }
        Err(last_error.unwrap_or_else(|| RegistryError::Config("no base URL".to_owned())))
    }

    async fn get_schema_by_id(&self, id: u32) -> Result<Arc<Schema>, RegistryError> {
        let id_text = id.to_string();
        let r: SchemaResponse = self
            .send(
                Method::GET,
                &["schemas", "ids", &id_text],
                &[],
                None,
                Context::default(),
            )
            .await?;
        let schema = Arc::new(r.schema(&id_text)?);
        if let Some(guid) = r.guid() {
            self.inner.by_guid.insert(guid, schema.clone());
        }
        Ok(schema)
    }

    async fn get_schema_by_guid(&self, guid: Uuid) -> Result<Arc<Schema>, RegistryError> {
        let guid_text = guid.to_string();
        let r: SchemaResponse = self
            .send(
                Method::GET,
                &["schemas", "guids", &guid_text],
                &[],
                None,
                Context::default(),
            )
            .await?;
        let schema = Arc::new(r.schema(&guid_text)?);
        if let Some(id) = r.id {
            self.inner.by_id.insert(id, schema.clone());
        }
        Ok(schema)
    }

    fn registered(
        &self,
        r: SchemaResponse,
        subject: &str,
        fallback: &Schema,
    ) -> Result<RegisteredSchema, RegistryError> {
        let id =
            r.id.ok_or_else(|| invalid(subject, "answer has no id".to_owned()))?;
        let version = r
            .version
            .ok_or_else(|| invalid(subject, "answer has no version".to_owned()))?;
        let schema = if r.schema.is_some() {
            r.schema(subject)?
        } else {
            fallback.clone()
        };
        let guid = r.guid();
        if r.schema.is_some() {
            let shared = Arc::new(schema.clone());
            self.inner.by_id.insert(id, shared.clone());
            if let Some(guid) = guid {
                self.inner.by_guid.insert(guid, shared);
            }
        }
        Ok(RegisteredSchema {
            id,
            guid,
            subject: r.subject.unwrap_or_else(|| subject.to_owned()),
            version,
            schema,
        })
    }

    async fn post_lookup(
        &self,
        subject: &str,
        schema: &Schema,
        normalize: bool,
        deleted: bool,
    ) -> Result<RegisteredSchema, RegistryError> {
        let body = serde_json::to_vec(&SchemaRequest::from(schema)).map_err(encode_error)?;
        let r: SchemaResponse = self
            .send(
                Method::POST,
                &["subjects", subject],
                &[
                    ("normalize", bool_str(normalize)),
                    ("deleted", bool_str(deleted)),
                ],
                Some(body),
                Context {
                    subject: Some(subject),
                    version: None,
                },
            )
            .await?;
        self.registered(r, subject, schema)
    }

    async fn post_register(
        &self,
        subject: &str,
        schema: &Schema,
        normalize: bool,
    ) -> Result<RegisteredSchema, RegistryError> {
        let body = serde_json::to_vec(&SchemaRequest::from(schema)).map_err(encode_error)?;
        let r: SchemaResponse = self
            .send(
                Method::POST,
                &["subjects", subject, "versions"],
                &[("normalize", bool_str(normalize))],
                Some(body),
                Context {
                    subject: Some(subject),
                    version: None,
                },
            )
            .await?;
        if let Some(latest) = &self.inner.latest {
            latest.invalidate(|k| k == subject);
        }
        if r.version.is_some() {
            return self.registered(r, subject, schema);
        }
        // Older registries answer only `{"id"}`: ask for the version.
        let id = r.id;
        let found = self.post_lookup(subject, schema, normalize, false).await?;
        if id.is_some_and(|id| id != found.id) {
            return Err(invalid(
                subject,
                "lookup after register gave another id".to_owned(),
            ));
        }
        Ok(found)
    }

    async fn get_version(
        &self,
        subject: &str,
        version: Version,
        deleted: bool,
    ) -> Result<RegisteredSchema, RegistryError> {
        let v = version.to_string();
        let r: SchemaResponse = self
            .send(
                Method::GET,
                &["subjects", subject, "versions", &v],
                &[("deleted", bool_str(deleted))],
                None,
                Context {
                    subject: Some(subject),
                    version: version_number(version),
                },
            )
            .await?;
        let schema = r.schema(subject)?;
        self.registered(r, subject, &schema)
    }
}

fn encode_error(e: serde_json::Error) -> RegistryError {
    RegistryError::Config(format!("encoding the request failed: {e}"))
}

async fn read_limited(mut response: reqwest::Response) -> Result<Vec<u8>, crate::BoxError> {
    if response
        .content_length()
        .is_some_and(|n| n > MAX_RESPONSE as u64)
    {
        return Err(format!("response larger than {MAX_RESPONSE} bytes").into());
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if bytes.len() + chunk.len() > MAX_RESPONSE {
            return Err(format!("response larger than {MAX_RESPONSE} bytes").into());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

#[async_trait]
impl SchemaRegistry for HttpRegistry {
    async fn register(
        &self,
        subject: &str,
        schema: &Schema,
        normalize: bool,
    ) -> Result<RegisteredSchema, RegistryError> {
        let key = SchemaKey {
            subject: subject.to_owned(),
            schema: schema.clone(),
            normalize,
        };
        self.inner
            .by_schema
            .get_or_fetch(key, || self.post_register(subject, schema, normalize))
            .await
    }

    async fn lookup(
        &self,
        subject: &str,
        schema: &Schema,
        normalize: bool,
        deleted: bool,
    ) -> Result<RegisteredSchema, RegistryError> {
        if deleted {
            return self.post_lookup(subject, schema, normalize, true).await;
        }
        let key = SchemaKey {
            subject: subject.to_owned(),
            schema: schema.clone(),
            normalize,
        };
        self.inner
            .by_schema
            .get_or_fetch(key, || self.post_lookup(subject, schema, normalize, false))
            .await
    }

    async fn schema_by_id(&self, id: u32) -> Result<Arc<Schema>, RegistryError> {
        self.inner
            .by_id
            .get_or_fetch(id, || self.get_schema_by_id(id))
            .await
    }

    async fn schema_by_guid(&self, guid: Uuid) -> Result<Arc<Schema>, RegistryError> {
        self.inner
            .by_guid
            .get_or_fetch(guid, || self.get_schema_by_guid(guid))
            .await
    }

    async fn subjects_for_id(&self, id: u32, deleted: bool) -> Result<Vec<String>, RegistryError> {
        let id = id.to_string();
        self.send(
            Method::GET,
            &["schemas", "ids", &id, "subjects"],
            &[("deleted", bool_str(deleted))],
            None,
            Context::default(),
        )
        .await
    }

    async fn subjects(&self, deleted: bool) -> Result<Vec<String>, RegistryError> {
        self.send(
            Method::GET,
            &["subjects"],
            &[("deleted", bool_str(deleted))],
            None,
            Context::default(),
        )
        .await
    }

    async fn versions(&self, subject: &str, deleted: bool) -> Result<Vec<i32>, RegistryError> {
        self.send(
            Method::GET,
            &["subjects", subject, "versions"],
            &[("deleted", bool_str(deleted))],
            None,
            Context {
                subject: Some(subject),
                version: None,
            },
        )
        .await
    }

    async fn version(
        &self,
        subject: &str,
        version: Version,
        deleted: bool,
    ) -> Result<RegisteredSchema, RegistryError> {
        match (&self.inner.latest, version, deleted) {
            (Some(latest), Version::Latest, false) => {
                latest
                    .get_or_fetch(subject.to_owned(), || {
                        self.get_version(subject, Version::Latest, false)
                    })
                    .await
            }
            _ => self.get_version(subject, version, deleted).await,
        }
    }

    async fn latest_with_metadata(
        &self,
        subject: &str,
        metadata: &std::collections::BTreeMap<String, String>,
        deleted: bool,
    ) -> Result<RegisteredSchema, RegistryError> {
        let mut query: Vec<(&str, &str)> = Vec::with_capacity(1 + 2 * metadata.len());
        for (key, value) in metadata {
            query.extend([("key", key.as_str()), ("value", value.as_str())]);
        }
        query.push(("deleted", bool_str(deleted)));
        let r: SchemaResponse = self
            .send(
                Method::GET,
                &["subjects", subject, "metadata"],
                &query,
                None,
                Context {
                    subject: Some(subject),
                    version: None,
                },
            )
            .await?;
        let schema = r.schema(subject)?;
        self.registered(r, subject, &schema)
    }

    async fn delete_subject(
        &self,
        subject: &str,
        permanent: bool,
    ) -> Result<Vec<i32>, RegistryError> {
        let result = self
            .send(
                Method::DELETE,
                &["subjects", subject],
                &[("permanent", bool_str(permanent))],
                None,
                Context {
                    subject: Some(subject),
                    version: None,
                },
            )
            .await;
        self.forget_subject(subject);
        result
    }

    async fn delete_version(
        &self,
        subject: &str,
        version: Version,
        permanent: bool,
    ) -> Result<i32, RegistryError> {
        let v = version.to_string();
        let result = self
            .send(
                Method::DELETE,
                &["subjects", subject, "versions", &v],
                &[("permanent", bool_str(permanent))],
                None,
                Context {
                    subject: Some(subject),
                    version: version_number(version),
                },
            )
            .await;
        self.forget_subject(subject);
        result
    }

    async fn test_compatibility(
        &self,
        subject: &str,
        schema: &Schema,
        version: Option<Version>,
    ) -> Result<CompatibilityReport, RegistryError> {
        let body = serde_json::to_vec(&SchemaRequest::from(schema)).map_err(encode_error)?;
        let v = version.map(|v| v.to_string());
        let mut path = vec!["compatibility", "subjects", subject, "versions"];
        if let Some(v) = &v {
            path.push(v);
        }
        let r: CompatibilityResponse = self
            .send(
                Method::POST,
                &path,
                &[("verbose", "true")],
                Some(body),
                Context {
                    subject: Some(subject),
                    version: version.and_then(version_number),
                },
            )
            .await?;
        Ok(CompatibilityReport {
            is_compatible: r.is_compatible,
            messages: r.messages.unwrap_or_default(),
        })
    }

    async fn compatibility(
        &self,
        subject: Option<&str>,
        default_to_global: bool,
    ) -> Result<CompatibilityLevel, RegistryError> {
        let mut path = vec!["config"];
        path.extend(subject);
        let query: &[(&str, &str)] = if subject.is_some() {
            &[("defaultToGlobal", bool_str(default_to_global))]
        } else {
            &[]
        };
        let r: ConfigResponse = self
            .send(
                Method::GET,
                &path,
                query,
                None,
                Context {
                    subject,
                    version: None,
                },
            )
            .await?;
        r.level(subject.unwrap_or("config"))
    }

    async fn set_compatibility(
        &self,
        subject: Option<&str>,
        level: CompatibilityLevel,
    ) -> Result<CompatibilityLevel, RegistryError> {
        let mut path = vec!["config"];
        path.extend(subject);
        let body = serde_json::to_vec(&serde_json::json!({ "compatibility": level.as_str() }))
            .map_err(encode_error)?;
        let r: ConfigResponse = self
            .send(
                Method::PUT,
                &path,
                &[],
                Some(body),
                Context {
                    subject,
                    version: None,
                },
            )
            .await?;
        r.level(subject.unwrap_or("config"))
    }

    async fn delete_compatibility(
        &self,
        subject: &str,
    ) -> Result<CompatibilityLevel, RegistryError> {
        let r: ConfigResponse = self
            .send(
                Method::DELETE,
                &["config", subject],
                &[],
                None,
                Context {
                    subject: Some(subject),
                    version: None,
                },
            )
            .await?;
        r.level(subject)
    }
}
