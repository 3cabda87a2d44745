//! `kcodec groups` (to be written).

use crate::error::CliError;
use clap::Subcommand;

/// Subcommands of `kcodec groups`.
#[derive(Debug, Subcommand)]
pub enum GroupsCommand {
    /// List.
    List,
}

/// Runs `kcodec groups`.
pub async fn run(_command: GroupsCommand) -> Result<(), CliError> {
    Err(CliError::Usage("not implemented yet".to_owned()))
}
