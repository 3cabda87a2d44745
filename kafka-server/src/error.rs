//! The front end's errors.

use std::net::SocketAddr;

/// What can fail when starting the front end.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The listen address did not resolve to any address.
    #[error("the listen address {0:?} resolves to no socket address")]
    NoAddress(String),
    /// The listen address could not be resolved.
    #[error("cannot resolve the listen address {addr:?}")]
    Resolve {
        /// The address as given.
        addr: String,
        /// The resolver's error.
        #[source]
        source: std::io::Error,
    },
    /// A broker's listener could not be bound.
    #[error("cannot listen on {addr} (broker {node_id})")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The broker the listener was for.
        node_id: i32,
        /// The socket error.
        #[source]
        source: std::io::Error,
    },
    /// A fixed port plus the broker count runs past port 65535.
    #[error("{brokers} brokers from port {port} run past port 65535")]
    PortRange {
        /// The first port.
        port: u16,
        /// Brokers in the cluster.
        brokers: i32,
    },
}
