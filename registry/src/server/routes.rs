//! The REST routes: Confluent's API over an [`InMemoryRegistry`].

use super::ServerOptions;
use crate::api::SchemaRegistry;
use crate::{
    CompatibilityLevel, InMemoryRegistry, RegisteredSchema, RegistryError, Schema, SchemaReference,
    SchemaType, Version,
};
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;

/// Confluent's content type for requests and responses.
const CONTENT_TYPE: &str = "application/vnd.schemaregistry.v1+json";

#[derive(Clone)]
struct App {
    registry: Arc<InMemoryRegistry>,
    options: ServerOptions,
}

/// The dev server's routes over `registry`, ready for `axum::serve`.
///
/// Every request passes Confluent's HTTP hygiene first: a request body must be JSON or octet
/// stream (415), a browser's cross-origin write (an `Origin` other than the `Host`, or without
/// `Origin` a `Sec-Fetch-Site` other than `same-origin`/`none`) is refused
/// (403), a subject with a control character is refused (42208), and every error answer has
/// Confluent's `{"error_code", "message"}` shape. [`super::DevServer`] also refuses, on a
/// loopback address, any `Host` that does not name a loopback address (DNS rebinding).
pub fn router(registry: Arc<InMemoryRegistry>, options: ServerOptions) -> Router {
    router_for(registry, options, false)
}

/// [`router`], refusing non-loopback `Host` headers when `loopback` is set.
pub(super) fn router_for(
    registry: Arc<InMemoryRegistry>,
    options: ServerOptions,
    loopback: bool,
) -> Router {
    let limit = options.body_limit;
    let body_read = BodyRead {
        limit,
        timeout: options.body_read_timeout,
        bodies: Arc::new(tokio::sync::Semaphore::new(super::MAX_CONCURRENT_BODIES)),
    };
    let app = App { registry, options };
    let routes = Router::new()
        .route("/", get(root))
        .route("/schemas", get(schemas))
        .route("/schemas/types", get(schema_types))
        .route("/schemas/ids/{id}", get(schema_by_id))
        .route("/schemas/ids/{id}/schema", get(raw_schema_by_id))
        .route("/schemas/ids/{id}/subjects", get(subjects_for_id))
        .route("/schemas/ids/{id}/versions", get(versions_for_id))
        .route("/schemas/guids/{guid}", get(schema_by_guid))
        .route("/subjects", get(subjects))
        .route("/subjects/{subject}", post(lookup).delete(delete_subject))
        .route("/subjects/{subject}/metadata", get(latest_with_metadata))
        .route("/subjects/{subject}/versions", get(versions).post(register))
        .route(
            "/subjects/{subject}/versions/{version}",
            get(version).delete(delete_version),
        )
        .route(
            "/subjects/{subject}/versions/{version}/schema",
            get(raw_version),
        )
        .route(
            "/subjects/{subject}/versions/{version}/referencedby",
            get(referenced_by),
        )
        .route(
            "/compatibility/subjects/{subject}/versions",
            post(compatibility_all),
        )
        .route(
            "/compatibility/subjects/{subject}/versions/{version}",
            post(compatibility_one),
        )
        .route(
            "/config",
            get(global_config)
                .put(set_global_config)
                .delete(delete_global_config),
        )
        .route(
            "/config/{subject}",
            get(subject_config)
                .put(set_subject_config)
                .delete(delete_subject_config),
        )
        .route("/mode", get(mode))
        .route("/mode/{subject}", get(subject_mode))
        .route("/contexts", get(contexts))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn_with_state(body_read, read_body));
    let routes = if app.options.basic_auth.is_some() {
        routes.layer(middleware::from_fn_with_state(app.clone(), basic_auth))
    } else {
        routes
    };
    routes
        .layer(middleware::from_fn_with_state(loopback, hygiene))
        .with_state(app)
}

// ---------------------------------------------------------------------------------------------
// HTTP hygiene

/// The request body types Confluent's resources consume.
const BODY_TYPES: [&str; 4] = [
    "application/vnd.schemaregistry.v1+json",
    "application/vnd.schemaregistry+json",
    "application/json",
    "application/octet-stream",
];

/// Whether a `Host` header names a loopback address (`localhost`, `127.x.x.x`, `[::1]`).
fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Refuses what Confluent's registry refuses before routing, and gives every error answer
/// Confluent's JSON shape.
async fn hygiene(State(loopback): State<bool>, request: Request, next: Next) -> Response {
    use axum::http::Method;
    let headers = request.headers();
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    if loopback && host.is_some_and(|h| !is_loopback_host(h)) {
        return error_reply(
            403,
            403,
            "Forbidden: this registry listens on a loopback address and answers only requests \
             whose Host is one (localhost, 127.0.0.1, [::1])",
        );
    }
    let method = request.method();
    if !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        let authority = headers.get(header::ORIGIN).map(|origin| {
            origin.to_str().ok().and_then(|o| {
                o.strip_prefix("http://")
                    .or_else(|| o.strip_prefix("https://"))
            })
        });
        let same_origin = match authority {
            // host names compare without regard to case
            Some(authority) => authority
                .zip(host)
                .is_some_and(|(a, h)| a.eq_ignore_ascii_case(h)),
            // a browser that sends no Origin still says where the request comes from
            None => headers
                .get("sec-fetch-site")
                .is_none_or(|site| site == "same-origin" || site == "none"),
        };
        if !same_origin {
            return error_reply(
                403,
                403,
                "Forbidden: a request from another origin (a web page) may not change the registry",
            );
        }
    }
    if matches!(*method, Method::POST | Method::PUT)
        && let Some(content_type) = headers.get(header::CONTENT_TYPE)
    {
        let essence = content_type
            .to_str()
            .ok()
            .and_then(|c| c.split(';').next())
            .map(|c| c.trim().to_ascii_lowercase());
        if !essence.is_some_and(|e| BODY_TYPES.contains(&e.as_str())) {
            return error_reply(415, 415, "HTTP 415 Unsupported Media Type");
        }
    }
    let path = request.uri().path();
    let subject = [
        "/subjects/",
        "/config/",
        "/mode/",
        "/compatibility/subjects/",
    ]
    .iter()
    .find_map(|p| path.strip_prefix(p))
    .map(|rest| crate::percent_decode(rest.split('/').next().unwrap_or("")));
    if let Some(subject) = subject.filter(|s| s.iter().any(u8::is_ascii_control)) {
        return error_reply(
            422,
            42208,
            &crate::error::invalid_subject(&String::from_utf8_lossy(&subject)),
        );
    }
    json_errors(next.run(request).await).await
}

/// Reads a `POST`/`PUT` body (at most `limit` bytes) within `timeout` before the routes see it:
/// a client trickling its body is answered 408 instead of holding its connection. Runs after
/// the basic-auth check, so an unauthorized client's body is never read.
/// How request bodies are read: the limit, the timeout, and the permits for bodies read at once.
#[derive(Clone)]
struct BodyRead {
    limit: usize,
    timeout: std::time::Duration,
    bodies: Arc<tokio::sync::Semaphore>,
}

async fn read_body(
    State(BodyRead {
        limit,
        timeout,
        bodies,
    }): State<BodyRead>,
    request: Request,
    next: Next,
) -> Response {
    use axum::http::Method;
    if !matches!(*request.method(), Method::POST | Method::PUT) {
        return next.run(request).await;
    }
    // A declared length over the limit is refused on sight, not waited for.
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return too_large();
    }
    let (parts, body) = request.into_parts();
    let read = async {
        // waiting for a permit counts toward the timeout
        let _permit = bodies.acquire().await;
        axum::body::to_bytes(body, limit).await
    };
    match tokio::time::timeout(timeout, read).await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
                .await
        }
        Ok(Err(e)) if e.to_string().contains("length limit exceeded") => too_large(),
        Ok(Err(e)) => error_reply(400, 400, &format!("Failed to read the request body: {e}")),
        Err(_) => error_reply(
            408,
            408,
            "Request Timeout: the request body did not arrive in time",
        ),
    }
}

/// The answer to a body over the limit.
fn too_large() -> Response {
    error_reply(
        413,
        413,
        "Failed to buffer the request body: length limit exceeded",
    )
}

/// An error answer not in Confluent's shape (a rejected path or query, 405) put in it.
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|c| c == CONTENT_TYPE);
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let body = axum::body::to_bytes(response.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&body);
    let message = match text.trim() {
        "" => format!(
            "HTTP {} {}",
            status.as_u16(),
            status.canonical_reason().unwrap_or("")
        ),
        text => text.to_owned(),
    };
    error_reply(status.as_u16(), status.as_u16() as u32, &message)
}

async fn method_not_allowed() -> Response {
    error_reply(405, 405, "HTTP 405 Method Not Allowed")
}

// ---------------------------------------------------------------------------------------------
// Replies and errors

fn reply<T: Serialize>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => (
            status,
            [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))],
            body,
        )
            .into_response(),
        Err(e) => error_reply(500, 50001, &format!("encoding the response failed: {e}")),
    }
}

fn ok<T: Serialize>(value: &T) -> Response {
    reply(StatusCode::OK, value)
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error_code: u32,
    message: &'a str,
}

fn error_reply(status: u16, error_code: u32, message: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    reply(
        status,
        &ErrorBody {
            error_code,
            message,
        },
    )
}

/// A registry error as Confluent's `{"error_code", "message"}` answer.
struct ApiError(RegistryError);

impl From<RegistryError> for ApiError {
    fn from(e: RegistryError) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let message = match &self.0 {
            RegistryError::Server { message, .. } => message.clone(),
            other => {
                // Keep the source chain in the message (storage errors name the I/O failure).
                let mut text = other.to_string();
                let mut source = std::error::Error::source(other);
                while let Some(s) = source {
                    text.push_str(": ");
                    text.push_str(&s.to_string());
                    source = s.source();
                }
                text
            }
        };
        error_reply(self.0.http_status(), self.0.error_code(), &message)
    }
}

type ApiResult = Result<Response, ApiError>;

fn plain_error(status: u16, message: impl Into<String>) -> ApiError {
    ApiError(RegistryError::Server {
        status,
        error_code: status as u32,
        message: message.into(),
    })
}

async fn not_found() -> Response {
    error_reply(404, 404, "HTTP 404 Not Found")
}

// ---------------------------------------------------------------------------------------------
// Request pieces

type Params = Query<HashMap<String, String>>;

/// A boolean query parameter, as Confluent's Java, Go and Python clients spell it
/// (`true`, `True`, `1`).
fn flag(params: &HashMap<String, String>, name: &str) -> bool {
    params
        .get(name)
        .is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

fn parse_version(text: &str) -> Result<Version, ApiError> {
    Ok(text.parse::<Version>()?)
}

fn parse_id(text: &str) -> Result<u32, ApiError> {
    text.parse::<u32>()
        .ok()
        .filter(|id| *id <= i32::MAX as u32)
        .ok_or_else(|| ApiError(RegistryError::schema_not_found(text)))
}

/// Applies Confluent's `offset` and `limit` parameters (a negative or absent limit = all).
fn paginate<T>(items: Vec<T>, params: &HashMap<String, String>) -> Vec<T> {
    let offset = params
        .get("offset")
        .and_then(|o| o.parse::<usize>().ok())
        .unwrap_or(0);
    let limit = params
        .get("limit")
        .and_then(|l| l.parse::<i64>().ok())
        .filter(|l| *l >= 0)
        .map(|l| l as usize)
        .unwrap_or(usize::MAX);
    items.into_iter().skip(offset).take(limit).collect()
}

fn body_bytes(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|rejection| {
        let status = rejection.status().as_u16();
        plain_error(status, rejection.body_text())
    })
}

fn parse_json<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes)
        .map_err(|e| plain_error(400, format!("Unrecognized request body: {e}")))
}

#[derive(Deserialize)]
struct SchemaRequest {
    schema: Option<String>,
    #[serde(rename = "schemaType")]
    schema_type: Option<String>,
    references: Option<Vec<SchemaReference>>,
    /// Confluent's `RegisterSchemaRequest.id`: an id to register the schema under (IMPORT mode).
    id: Option<i32>,
    /// Confluent's `RegisterSchemaRequest.version`: the version to register it as.
    version: Option<i32>,
}

fn schema_from_body(body: Result<Bytes, BytesRejection>) -> Result<Schema, ApiError> {
    Ok(register_request(body)?.0)
}

/// A register (or lookup, or compatibility) request's schema, with the `id` and `version` it
/// asks for.
fn register_request(
    body: Result<Bytes, BytesRejection>,
) -> Result<(Schema, Option<i32>, Option<i32>), ApiError> {
    let bytes = body_bytes(body)?;
    let request: SchemaRequest = parse_json(&bytes)?;
    let schema_type = match request.schema_type.as_deref() {
        None | Some("") => SchemaType::Avro,
        Some(t) => match t.to_ascii_uppercase().as_str() {
            "AVRO" => SchemaType::Avro,
            "PROTOBUF" => SchemaType::Protobuf,
            "JSON" => SchemaType::Json,
            _ => {
                return Err(ApiError(RegistryError::InvalidSchema(format!(
                    "Invalid schema type {t}"
                ))));
            }
        },
    };
    let text = request
        .schema
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError(RegistryError::InvalidSchema("Empty schema".to_owned())))?;
    let schema =
        Schema::new(schema_type, text).with_references(request.references.unwrap_or_default());
    Ok((schema, request.id, request.version))
}

// ---------------------------------------------------------------------------------------------
// Schema bodies

#[derive(Serialize)]
struct SchemaBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    guid: Option<String>,
    #[serde(rename = "schemaType", skip_serializing_if = "Option::is_none")]
    schema_type: Option<&'static str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    references: &'a [SchemaReference],
    schema: String,
    #[serde(rename = "maxId", skip_serializing_if = "Option::is_none")]
    max_id: Option<u32>,
}

impl App {
    /// The schema text to answer, in the `format` asked for (Protobuf only).
    fn text(&self, schema: &Schema, params: &HashMap<String, String>) -> Result<String, ApiError> {
        match (schema.schema_type, params.get("format")) {
            (SchemaType::Protobuf, Some(format)) if !format.is_empty() => {
                let references = self.registry.resolve_references(schema)?;
                Ok(self
                    .options
                    .protobuf_format
                    .format(schema, &references, format)?)
            }
            _ => Ok(schema.schema.clone()),
        }
    }

    fn body<'a>(
        &self,
        schema: &'a Schema,
        params: &HashMap<String, String>,
    ) -> Result<SchemaBody<'a>, ApiError> {
        Ok(SchemaBody {
            subject: None,
            version: None,
            id: None,
            guid: None,
            schema_type: (schema.schema_type != SchemaType::Avro)
                .then(|| schema.schema_type.as_str()),
            references: &schema.references,
            schema: self.text(schema, params)?,
            max_id: None,
        })
    }

    fn registered_body<'a>(
        &self,
        r: &'a RegisteredSchema,
        params: &HashMap<String, String>,
    ) -> Result<SchemaBody<'a>, ApiError> {
        Ok(SchemaBody {
            subject: Some(&r.subject),
            version: Some(r.version),
            id: Some(r.id),
            guid: r.guid.map(|g| g.to_string()),
            ..self.body(&r.schema, params)?
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Handlers

async fn root() -> Response {
    ok(&serde_json::json!({}))
}

async fn schema_types() -> Response {
    ok(&["JSON", "PROTOBUF", "AVRO"])
}

async fn contexts() -> Response {
    ok(&["."])
}

/// The only mode the dev server has: `READWRITE`, globally.
async fn mode() -> Response {
    ok(&serde_json::json!({ "mode": "READWRITE" }))
}

/// A subject never has a mode of its own here (no `PUT /mode`): as Confluent, 40409 unless
/// `defaultToGlobal` asks for the global mode.
async fn subject_mode(Path(subject): Path<String>, Query(q): Params) -> ApiResult {
    if flag(&q, "defaultToGlobal") {
        return Ok(mode().await);
    }
    Err(ApiError(RegistryError::Server {
        status: 404,
        error_code: 40409,
        message: format!("Subject '{subject}' does not have subject-level mode configured"),
    }))
}

/// Confluent's `schema.search.default.limit` and `schema.search.max.limit` (both 1000): the
/// number of schemas `GET /schemas` answers at most, and when `limit` is absent, not positive or
/// larger.
const SCHEMA_SEARCH_LIMIT: usize = 1000;

/// `GET /schemas`: the versions of the subjects with a prefix, as Confluent lists them.
async fn schemas(State(app): State<App>, Query(q): Params) -> ApiResult {
    let prefix = q
        .get("subjectPrefix")
        .map(String::as_str)
        .filter(|p| *p != ":*:")
        .unwrap_or("");
    let found =
        app.registry
            .schemas_with_prefix(prefix, flag(&q, "deleted"), flag(&q, "latestOnly"));
    let offset = q
        .get("offset")
        .and_then(|o| o.parse::<usize>().ok())
        .unwrap_or(0);
    let limit = q
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| (1..=SCHEMA_SEARCH_LIMIT).contains(l))
        .unwrap_or(SCHEMA_SEARCH_LIMIT);
    let bodies = found
        .iter()
        .skip(offset)
        .take(limit)
        .map(|r| app.registered_body(r, &q))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ok(&bodies))
}

/// `GET /subjects/{s}/metadata`: the latest version whose metadata holds the given properties.
/// The dev server keeps no metadata, and Confluent matches no version without metadata, so this
/// answers what Confluent answers for such a registry: 40401 for an unknown subject, else 40403.
async fn latest_with_metadata(
    State(app): State<App>,
    Path(subject): Path<String>,
    Query(q): Params,
) -> ApiResult {
    let deleted = flag(&q, "deleted");
    app.registry.versions(&subject, deleted).await?;
    Err(ApiError(RegistryError::SchemaNotFound(
        "Schema not found".to_owned(),
    )))
}

async fn schema_by_id(
    State(app): State<App>,
    Path(id): Path<String>,
    Query(q): Params,
) -> ApiResult {
    let id = parse_id(&id)?;
    let schema = app.registry.schema_by_id(id).await?;
    let mut body = app.body(&schema, &q)?;
    body.guid = app.registry.guid_of(id).map(|g| g.to_string());
    if flag(&q, "fetchMaxId") {
        body.max_id = Some(app.registry.max_id());
    }
    Ok(ok(&body))
}

async fn raw_schema_by_id(
    State(app): State<App>,
    Path(id): Path<String>,
    Query(q): Params,
) -> ApiResult {
    let schema = app.registry.schema_by_id(parse_id(&id)?).await?;
    let text = app.text(&schema, &q)?;
    Ok(raw(text))
}

/// A schema text as the body: Confluent answers `.../schema` with the text itself.
fn raw(text: String) -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))],
        text,
    )
        .into_response()
}

async fn subjects_for_id(
    State(app): State<App>,
    Path(id): Path<String>,
    Query(q): Params,
) -> ApiResult {
    let mut subjects = app
        .registry
        .subjects_for_id(parse_id(&id)?, flag(&q, "deleted"))
        .await?;
    if let Some(only) = q.get("subject").filter(|s| !s.is_empty()) {
        subjects.retain(|s| s == only);
    }
    Ok(ok(&paginate(subjects, &q)))
}

#[derive(Serialize)]
struct SubjectVersion {
    subject: String,
    version: i32,
}

async fn versions_for_id(
    State(app): State<App>,
    Path(id): Path<String>,
    Query(q): Params,
) -> ApiResult {
    let mut pairs = app
        .registry
        .versions_for_id(parse_id(&id)?, flag(&q, "deleted"))?;
    if let Some(only) = q.get("subject").filter(|s| !s.is_empty()) {
        pairs.retain(|(s, _)| s == only);
    }
    let pairs: Vec<SubjectVersion> = pairs
        .into_iter()
        .map(|(subject, version)| SubjectVersion { subject, version })
        .collect();
    Ok(ok(&paginate(pairs, &q)))
}

async fn schema_by_guid(
    State(app): State<App>,
    Path(guid): Path<String>,
    Query(q): Params,
) -> ApiResult {
    let guid = uuid::Uuid::parse_str(&guid)
        .map_err(|_| ApiError(RegistryError::schema_not_found(&guid)))?;
    let schema = app.registry.schema_by_guid(guid).await?;
    let mut body = app.body(&schema, &q)?;
    body.guid = Some(guid.to_string());
    Ok(ok(&body))
}

async fn subjects(State(app): State<App>, Query(q): Params) -> ApiResult {
    let deleted_only = flag(&q, "deleted_only") || flag(&q, "deletedOnly");
    let mut subjects = app
        .registry
        .subjects(deleted_only || flag(&q, "deleted"))
        .await?;
    if deleted_only {
        let live = app.registry.subjects(false).await?;
        subjects.retain(|s| !live.contains(s));
    }
    if let Some(prefix) = q.get("subjectPrefix").filter(|p| *p != ":*:") {
        subjects.retain(|s| s.starts_with(prefix.as_str()));
    }
    Ok(ok(&paginate(subjects, &q)))
}

async fn versions(
    State(app): State<App>,
    Path(subject): Path<String>,
    Query(q): Params,
) -> ApiResult {
    let deleted_only = flag(&q, "deleted_only") || flag(&q, "deletedOnly");
    let mut versions = app
        .registry
        .versions(&subject, deleted_only || flag(&q, "deleted"))
        .await?;
    if deleted_only {
        let live = app
            .registry
            .versions(&subject, false)
            .await
            .unwrap_or_default();
        versions.retain(|v| !live.contains(v));
    }
    Ok(ok(&paginate(versions, &q)))
}

async fn version(
    State(app): State<App>,
    Path((subject, version)): Path<(String, String)>,
    Query(q): Params,
) -> ApiResult {
    let r = app
        .registry
        .version(&subject, parse_version(&version)?, flag(&q, "deleted"))
        .await?;
    Ok(ok(&app.registered_body(&r, &q)?))
}

async fn raw_version(
    State(app): State<App>,
    Path((subject, version)): Path<(String, String)>,
    Query(q): Params,
) -> ApiResult {
    let r = app
        .registry
        .version(&subject, parse_version(&version)?, flag(&q, "deleted"))
        .await?;
    Ok(raw(app.text(&r.schema, &q)?))
}

async fn referenced_by(
    State(app): State<App>,
    Path((subject, version)): Path<(String, String)>,
    Query(q): Params,
) -> ApiResult {
    let ids = app
        .registry
        .referenced_by(&subject, parse_version(&version)?)?;
    Ok(ok(&paginate(ids, &q)))
}

/// Runs `work` — parsing and compatibility checks, CPU-bound and possibly long — on a blocking
/// thread, so the server's async workers keep answering other requests meanwhile.
async fn off_workers<T: Send + 'static>(
    work: impl std::future::Future<Output = Result<T, RegistryError>> + Send + 'static,
) -> Result<T, ApiError> {
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || runtime.block_on(work))
        .await
        .map_err(|e| plain_error(500, format!("the request's task failed: {e}")))?
        .map_err(ApiError)
}

async fn register(
    State(app): State<App>,
    Path(subject): Path<String>,
    Query(q): Params,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let (schema, id, version) = register_request(body)?;
    let (registry, normalize) = (app.registry.clone(), flag(&q, "normalize"));
    let r = off_workers(async move {
        register_as(&registry, &subject, &schema, normalize, (id, version)).await
    })
    .await?;
    Ok(ok(&app.registered_body(&r, &q)?))
}

/// Registers `schema` under `subject` as Confluent's `KafkaSchemaRegistry.registerOrForward`
/// and `register` do in `READWRITE` mode (the dev server's only mode) with the `id` and
/// `version` a request asks for (absent, or an id below 0 and a version of 0 or -1: any).
///
/// The schema is first looked up under the subject: found with the id asked for (or none) and
/// any version (or the one asked for), that registration is the answer. Otherwise an id is
/// refused, 42205, as `checkRegisterMode` refuses it outside IMPORT mode, and a version is
/// refused, 42201, unless it is the subject's next one ("Version is not one more than previous
/// version").
async fn register_as(
    registry: &InMemoryRegistry,
    subject: &str,
    schema: &Schema,
    normalize: bool,
    (id, version): (Option<i32>, Option<i32>),
) -> Result<RegisteredSchema, RegistryError> {
    let id = id.filter(|id| *id >= 0);
    let version = version.filter(|v| *v > 0);
    if id.is_none() && version.is_none() {
        return registry.register(subject, schema, normalize).await;
    }
    if let Ok(found) = registry.lookup(subject, schema, normalize, false).await {
        let same_id = id.is_none_or(|id| id as u32 == found.id);
        let same_version = version.is_none_or(|v| v == found.version);
        if same_id && same_version && (id.is_some() || version.is_none()) {
            return Ok(found);
        }
    }
    if id.is_some() {
        return Err(RegistryError::Server {
            status: 422,
            error_code: 42205,
            message: format!("Subject {subject} in context  is not in import mode"),
        });
    }
    if let Some(version) = version {
        let next = match registry.versions(subject, true).await {
            Ok(versions) => versions.into_iter().max().unwrap_or(0) + 1,
            Err(_) => 1,
        };
        if version != next {
            return Err(RegistryError::Server {
                status: 422,
                error_code: 42201,
                message: "Version is not one more than previous version".to_owned(),
            });
        }
    }
    registry.register(subject, schema, normalize).await
}

async fn lookup(
    State(app): State<App>,
    Path(subject): Path<String>,
    Query(q): Params,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let schema = schema_from_body(body)?;
    let registry = app.registry.clone();
    let (normalize, deleted) = (flag(&q, "normalize"), flag(&q, "deleted"));
    let r =
        off_workers(async move { registry.lookup(&subject, &schema, normalize, deleted).await })
            .await?;
    Ok(ok(&app.registered_body(&r, &q)?))
}

async fn delete_subject(
    State(app): State<App>,
    Path(subject): Path<String>,
    Query(q): Params,
) -> ApiResult {
    let versions = app
        .registry
        .delete_subject(&subject, flag(&q, "permanent"))
        .await?;
    Ok(ok(&versions))
}

async fn delete_version(
    State(app): State<App>,
    Path((subject, version)): Path<(String, String)>,
    Query(q): Params,
) -> ApiResult {
    let n = app
        .registry
        .delete_version(&subject, parse_version(&version)?, flag(&q, "permanent"))
        .await?;
    Ok(ok(&n))
}

#[derive(Serialize)]
struct CompatibilityBody {
    is_compatible: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    messages: Option<Vec<String>>,
}

async fn compatibility(
    app: App,
    subject: String,
    version: Option<Version>,
    q: HashMap<String, String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let schema = schema_from_body(body)?;
    let registry = app.registry.clone();
    let report = off_workers(async move {
        registry
            .test_compatibility(&subject, &schema, version)
            .await
    })
    .await?;
    Ok(ok(&CompatibilityBody {
        is_compatible: report.is_compatible,
        messages: flag(&q, "verbose").then_some(report.messages),
    }))
}

async fn compatibility_all(
    State(app): State<App>,
    Path(subject): Path<String>,
    Query(q): Params,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    compatibility(app, subject, None, q, body).await
}

async fn compatibility_one(
    State(app): State<App>,
    Path((subject, version)): Path<(String, String)>,
    Query(q): Params,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let version = parse_version(&version)?;
    compatibility(app, subject, Some(version), q, body).await
}

#[derive(Serialize)]
struct ConfigBody {
    #[serde(rename = "compatibilityLevel")]
    compatibility_level: &'static str,
}

/// Confluent's `ConfigUpdateRequest`: every field is optional, and an update sets what it
/// carries and keeps the rest (`ConfigValue.update`). The dev server keeps only the
/// compatibility level; the other fields (`normalize`, `validateFields`, `alias`, ...) are
/// accepted and not kept (the dev server always normalizes; see the crate docs).
#[derive(Deserialize)]
struct ConfigRequest {
    compatibility: Option<String>,
    #[serde(rename = "compatibilityLevel")]
    compatibility_level: Option<String>,
}

/// The answer to a config update: as Confluent's `new ConfigUpdateRequest(config)` of the
/// merged config, with `compatibility` absent when the scope has no level of its own.
#[derive(Serialize)]
struct ConfigUpdateBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    compatibility: Option<&'static str>,
}

/// The level a config update carries, if any (Confluent's `ConfigResource` refuses only a
/// level it does not know, 42203).
fn level_from_body(
    body: Result<Bytes, BytesRejection>,
) -> Result<Option<CompatibilityLevel>, ApiError> {
    let bytes = body_bytes(body)?;
    let request: ConfigRequest = parse_json(&bytes)?;
    match request.compatibility.or(request.compatibility_level) {
        Some(text) => Ok(Some(text.parse::<CompatibilityLevel>()?)),
        None => Ok(None),
    }
}

/// Applies a config update to `subject` (`None`: the global config) and answers the config it
/// leaves.
async fn update_config(
    app: &App,
    subject: Option<&str>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let level = match level_from_body(body)? {
        Some(level) => Some(app.registry.set_compatibility(subject, level).await?),
        None => match app.registry.compatibility(subject, false).await {
            Ok(level) => Some(level),
            Err(RegistryError::SubjectCompatibilityNotConfigured(_)) => None,
            Err(e) => return Err(e.into()),
        },
    };
    Ok(ok(&ConfigUpdateBody {
        compatibility: level.map(CompatibilityLevel::as_str),
    }))
}

async fn global_config(State(app): State<App>) -> ApiResult {
    let level = app.registry.compatibility(None, true).await?;
    Ok(ok(&ConfigBody {
        compatibility_level: level.as_str(),
    }))
}

async fn set_global_config(
    State(app): State<App>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    update_config(&app, None, body).await
}

async fn delete_global_config(State(app): State<App>) -> ApiResult {
    let old = app.registry.compatibility(None, true).await?;
    app.registry
        .set_compatibility(None, CompatibilityLevel::default())
        .await?;
    Ok(ok(&ConfigBody {
        compatibility_level: old.as_str(),
    }))
}

async fn subject_config(
    State(app): State<App>,
    Path(subject): Path<String>,
    Query(q): Params,
) -> ApiResult {
    let level = app
        .registry
        .compatibility(Some(&subject), flag(&q, "defaultToGlobal"))
        .await?;
    Ok(ok(&ConfigBody {
        compatibility_level: level.as_str(),
    }))
}

async fn set_subject_config(
    State(app): State<App>,
    Path(subject): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    update_config(&app, Some(&subject), body).await
}

async fn delete_subject_config(State(app): State<App>, Path(subject): Path<String>) -> ApiResult {
    let old = app.registry.delete_compatibility(&subject).await?;
    Ok(ok(&ConfigBody {
        compatibility_level: old.as_str(),
    }))
}

// ---------------------------------------------------------------------------------------------
// Basic auth

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn authorized(app: &App, request: &Request) -> bool {
    use base64::Engine as _;
    let Some((user, password)) = &app.options.basic_auth else {
        return true;
    };
    let Some(value) = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some((scheme, encoded)) = value.trim().split_once(' ') else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return false;
    }
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
        return false;
    };
    let expected = format!("{user}:{password}");
    constant_time_eq(&decoded, expected.as_bytes())
}

async fn basic_auth(State(app): State<App>, request: Request, next: Next) -> Response {
    if authorized(&app, &request) {
        return next.run(request).await;
    }
    let mut response = error_reply(401, 401, "Unauthorized");
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"kcodec schema registry\""),
    );
    response
}
