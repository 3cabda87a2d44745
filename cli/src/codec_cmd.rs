//! `kcodec encode` and `kcodec decode` (to be written).

use crate::error::CliError;
use clap::Args;

/// Arguments of `kcodec encode`.
#[derive(Debug, Args)]
pub struct EncodeArgs {}

/// Arguments of `kcodec decode`.
#[derive(Debug, Args)]
pub struct DecodeArgs {}

/// Runs `kcodec encode`.
pub async fn encode(_args: EncodeArgs) -> Result<(), CliError> {
    Err(CliError::Usage("not implemented yet".to_owned()))
}

/// Runs `kcodec decode`.
pub async fn decode(_args: DecodeArgs) -> Result<(), CliError> {
    Err(CliError::Usage("not implemented yet".to_owned()))
}
