//! `kcodec consume` (to be written).

use crate::error::CliError;
use clap::Args;

/// Arguments of `kcodec consume`.
#[derive(Debug, Args)]
pub struct ConsumeArgs {}

/// Runs `kcodec consume`.
pub async fn run(_args: ConsumeArgs) -> Result<(), CliError> {
    Err(CliError::Usage("not implemented yet".to_owned()))
}
