//! `kcodec registry serve`: a Confluent-compatible schema registry (the kcodec dev server).

use crate::error::describe;
use clap::Args;
use kcodec_registry::InMemoryRegistry;
use kcodec_registry::server::{
    DEFAULT_BODY_LIMIT, DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_MAX_CONNECTIONS, DevServer,
    ServerOptions, open_registry,
};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// Arguments of `kcodec registry serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on. Port 0 picks a free port (the URL printed on start names it).
    #[arg(long, default_value = "127.0.0.1:8081", value_name = "ADDR")]
    pub listen: SocketAddr,

    /// Keep the registry in DIR: an append-only journal, fsynced per write and replayed on start,
    /// so ids and versions survive restarts. Without it the registry lives in memory only.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Require HTTP basic auth with USER:PASS on every request.
    #[arg(
        long,
        value_name = "USER:PASS",
        env = "KCODEC_REGISTRY_BASIC_AUTH",
        hide_env_values = true
    )]
    pub basic_auth: Option<String>,

    /// Largest request body accepted, in bytes.
    #[arg(long, default_value_t = DEFAULT_BODY_LIMIT, value_name = "BYTES")]
    pub body_limit: usize,

    /// Milliseconds a client has to send a request's headers before its connection is closed.
    #[arg(long, default_value_t = DEFAULT_HEADER_READ_TIMEOUT.as_millis() as u64, value_name = "MS")]
    pub header_timeout_ms: u64,

    /// Connections served at once; more wait to be accepted.
    #[arg(long, default_value_t = DEFAULT_MAX_CONNECTIONS, value_name = "N")]
    pub max_connections: usize,
}

/// Runs the registry until Ctrl-C or SIGTERM.
pub async fn serve(args: ServeArgs) -> Result<(), String> {
    let basic_auth = match args.basic_auth.as_deref() {
        None => None,
        Some(text) => match text.split_once(':') {
            Some((user, pass)) if !user.is_empty() => Some((user.to_owned(), pass.to_owned())),
            _ => return Err("--basic-auth must be USER:PASS".to_owned()),
        },
    };
    let registry = match &args.data_dir {
        Some(dir) => open_registry(dir).map_err(|e| describe(&e))?,
        None => InMemoryRegistry::new(),
    };
    if !args.listen.ip().is_loopback() && basic_auth.is_none() {
        eprintln!(
            "warning: listening on {} without --basic-auth: anyone who can reach it can change schemas",
            args.listen
        );
    }
    let options = ServerOptions {
        body_limit: args.body_limit,
        basic_auth,
        protobuf_format: Arc::new(kcodec_codecs::protobuf::ProtobufServerFormat),
        header_read_timeout: std::time::Duration::from_millis(args.header_timeout_ms),
        max_connections: args.max_connections,
        ..ServerOptions::default()
    };
    let server = DevServer::start(args.listen, Arc::new(registry), options)
        .await
        .map_err(|e| describe(&e))?;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "Schema registry listening on {}", server.url());
    match &args.data_dir {
        Some(dir) => {
            let _ = writeln!(out, "Data directory: {}", dir.display());
        }
        None => {
            let _ = writeln!(
                out,
                "In memory only: schemas are lost on exit (use --data-dir DIR to keep them)"
            );
        }
    }
    let _ = out.flush();
    drop(out);
    server
        .run_until(async {
            stop_signal().await;
            eprintln!("Shutting down");
        })
        .await
        .map_err(|e| describe(&e))
}

/// Completes on Ctrl-C/// Completes on Ctrl-C (SIGINT) or, on Unix, SIGTERM.
pub async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
                return;
            }
            Err(e) => eprintln!("warning: cannot watch SIGTERM ({e})"),
        }
    }
    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("warning: cannot wait for Ctrl-C ({e}); stopping");
    }
}
