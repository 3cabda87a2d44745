//! `kcodec dev` (to be written).

use crate::error::CliError;
use clap::Args;

/// Arguments of `kcodec dev`.
#[derive(Debug, Args)]
pub struct DevArgs {}

/// Runs `kcodec dev`.
pub async fn run(_args: DevArgs) -> Result<(), CliError> {
    Err(CliError::Usage("not implemented yet".to_owned()))
}
