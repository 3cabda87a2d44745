//! Schema registry for kcodec: the [`SchemaRegistry`] trait, the types it speaks, an
//! [`InMemoryRegistry`] with Confluent's semantics, and local compatibility checks ([`compat`]).

mod api;
pub mod compat;
mod error;
pub mod memory;
pub mod strategy;
mod types;

pub use api::{CompatibilityReport, SchemaRegistry};
pub use error::{BoxError, RegistryError};
pub use memory::InMemoryRegistry;
pub use types::*;

#[cfg(feature = "server")]
pub mod server;

#[cfg(feature = "http")]
pub mod http;
