//! The dev server (feature `server`): Confluent's REST API over an [`InMemoryRegistry`], so a
//! developer can run a schema registry with no Java. The `kcodec registry serve` command runs it.
//!
//! See the crate documentation for the endpoints it serves and how it differs from Confluent.
//!
//! ```no_run
//! use kcodec_registry::server::{DevServer, ServerOptions};
//! use kcodec_registry::InMemoryRegistry;
//! use std::sync::Arc;
//! # async fn run() -> Result<(), kcodec_registry::RegistryError> {
//! let server = DevServer::start(
//!     "127.0.0.1:0".parse().unwrap(),
//!     Arc::new(InMemoryRegistry::new()),
//!     ServerOptions::default(),
//! )
//! .await?;
//! println!("Schema registry listening on {}", server.url());
//! server.shutdown().await;
//! # Ok(()) }
//! ```

pub mod journal;
mod routes;

use crate::compat::References;
use crate::{InMemoryRegistry, RegistryError, Schema};
use std::net::SocketAddr;
use std::sync::Arc;

pub use journal::open_registry;
#[doc(hidden)]
pub use journal::open_registry_with_faults;
pub use routes::router;

/// The default limit on request bodies: 8 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 8 * 1024 * 1024;

/// The default time a client has to send a request's headers: 10 s.
pub const DEFAULT_HEADER_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The default time a client has to send a request's body once its headers are in: 30 s.
pub const DEFAULT_BODY_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// The default limit on open connections: 1024. An idle or slow connection costs little (its
/// buffers, no body: at most [`MAX_CONCURRENT_BODIES`] bodies are read at once), so the limit is
/// well above what slow clients can hold for the header and body timeouts before a normal
/// client is served (Confluent's Jetty has no accept limit at all, only idle timeouts).
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

/// How many request bodies are read at once; more wait (within the body-read timeout). Memory
/// for bodies is bounded by this times the body limit.
pub const MAX_CONCURRENT_BODIES: usize = 64;

/// Answers a Protobuf schema in another format, for `?format=...` (Confluent's clients ask for
/// `format=serialized`: the base64 `FileDescriptorProto`). The Protobuf codec supplies the
/// conversion; the default, [`StoredText`], answers the schema as it was registered.
pub trait ProtobufFormat: Send + Sync {
    /// `schema` in `format`; `references` holds the schemas it imports, transitively, by
    /// import name.
    fn format(
        &self,
        schema: &Schema,
        references: &References,
        format: &str,
    ) -> Result<String, RegistryError>;
}

/// The default [`ProtobufFormat`]: every format is the stored text.
#[derive(Debug, Clone, Copy, Default)]
pub struct StoredText;

impl ProtobufFormat for StoredText {
    fn format(&self, schema: &Schema, _: &References, _: &str) -> Result<String, RegistryError> {
        Ok(schema.schema.clone())
    }
}

/// How the dev server behaves.
#[derive(Clone)]
pub struct ServerOptions {
    /// The largest request body accepted (413 beyond it; a `Content-Length` beyond it is
    /// answered 413 at once, before any of the body is read). Default [`DEFAULT_BODY_LIMIT`].
    pub body_limit: usize,
    /// When set, every request needs HTTP basic auth with this user and password (401 without).
    pub basic_auth: Option<(String, String)>,
    /// The `?format=` conversion for Protobuf schemas.
    pub protobuf_format: Arc<dyn ProtobufFormat>,
    /// How long a client has to send a request's headers before its connection is closed.
    /// Default [`DEFAULT_HEADER_READ_TIMEOUT`].
    pub header_read_timeout: std::time::Duration,
    /// How long a client has to send a request's body (after its headers) before the request
    /// is answered 408, so a slowly trickled body cannot hold a connection slot. Default
    /// [`DEFAULT_BODY_READ_TIMEOUT`].
    pub body_read_timeout: std::time::Duration,
    /// How many connections are served at once; more wait to be accepted. Default
    /// [`DEFAULT_MAX_CONNECTIONS`].
    pub max_connections: usize,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            body_limit: DEFAULT_BODY_LIMIT,
            basic_auth: None,
            protobuf_format: Arc::new(StoredText),
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

impl std::fmt::Debug for ServerOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerOptions")
            .field("body_limit", &self.body_limit)
            .field("header_read_timeout", &self.header_read_timeout)
            .field("body_read_timeout", &self.body_read_timeout)
            .field("max_connections", &self.max_connections)
            .field(
                "basic_auth",
                &self.basic_auth.as_ref().map(|(u, _)| (u, "***")),
            )
            .finish_non_exhaustive()
    }
}

/// Accepts connections while fewer than `max_connections` are open and serves each over HTTP/1
/// with a header-read timeout, until `stopped`; then lets open connections finish their
/// requests.
async fn serve(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    (header_read_timeout, max_connections): (std::time::Duration, usize),
    mut stopped: tokio::sync::oneshot::Receiver<()>,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let slots = Arc::new(tokio::sync::Semaphore::new(max_connections));
    let (closing, closed) = tokio::sync::watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let slot = tokio::select! {
            _ = &mut stopped => break,
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
        };
        let stream = tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => {
                    // out of file descriptors and the like: wait a little, then go on
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        let mut closed = closed.clone();
        connections.spawn(async move {
            let _slot = slot;
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_read_timeout)
                .serve_connection(TokioIo::new(stream), service);
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = closed.changed() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
        while connections.try_join_next().is_some() {}
    }
    let _ = closing.send(true);
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// A running dev server. Dropping it leaves the server running until the runtime ends; call
/// [`DevServer::shutdown`] to stop it.
#[derive(Debug)]
pub struct DevServer {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl DevServer {
    /// Binds `listen` and serves `registry` on it in a background task.
    pub async fn start(
        listen: SocketAddr,
        registry: Arc<InMemoryRegistry>,
        options: ServerOptions,
    ) -> Result<DevServer, RegistryError> {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|source| RegistryError::Storage {
                context: format!("binding {listen}"),
                source,
            })?;
        let addr = listener
            .local_addr()
            .map_err(|source| RegistryError::Storage {
                context: "reading the bound address".to_owned(),
                source,
            })?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let limits = (options.header_read_timeout, options.max_connections.max(1));
        let app = routes::router_for(registry, options, addr.ip().is_loopback());
        let task = tokio::spawn(serve(listener, app, limits, stopped));
        Ok(DevServer {
            addr,
            stop: Some(stop),
            task,
        })
    }

    /// The address it listens on.
    #[doc(alias = "addr")]
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its base URL, such as `http://127.0.0.1:8081`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting connections, lets running requests finish, and waits for the server.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }

    /// Serves until `signal` completes (then shuts down gracefully) or the server fails.
    pub async fn run_until(
        mut self,
        signal: impl std::future::Future<Output = ()>,
    ) -> Result<(), RegistryError> {
        tokio::select! {
            joined = &mut self.task => {
                self.stop = None;
                match joined {
                    Ok(result) => result.map_err(|source| RegistryError::Storage {
                        context: "serving".to_owned(),
                        source,
                    }),
                    Err(e) => Err(RegistryError::Storage {
                        context: "server task".to_owned(),
                        source: std::io::Error::other(e),
                    }),
                }
            }
            () = signal => {
                self.shutdown().await;
                Ok(())
            }
        }
    }
}
