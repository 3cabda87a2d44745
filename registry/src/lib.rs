//! Schema registry for kcodec: the [`SchemaRegistry`] trait, the types it speaks, and local
//! compatibility checks ([`compat`]).

pub mod compat;
mod error;
mod types;

pub use error::RegistryError;
pub use types::*;
