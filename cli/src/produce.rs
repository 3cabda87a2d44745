//! `kcodec produce` (to be written).

use crate::error::CliError;
use clap::Args;

/// Arguments of `kcodec produce`.
#[derive(Debug, Args)]
pub struct ProduceArgs {}

/// Runs `kcodec produce`.
pub async fn run(_args: ProduceArgs) -> Result<(), CliError> {
    Err(CliError::Usage("not implemented yet".to_owned()))
}
