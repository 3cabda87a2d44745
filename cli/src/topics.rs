//! `kcodec topics` (to be written).

use crate::error::CliError;
use clap::Subcommand;

/// Subcommands of `kcodec topics`.
#[derive(Debug, Subcommand)]
pub enum TopicsCommand {
    /// List.
    List,
}

/// Runs `kcodec topics`.
pub async fn run(_command: TopicsCommand) -> Result<(), CliError> {
    Err(CliError::Usage("not implemented yet".to_owned()))
}
