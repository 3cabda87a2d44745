//! `kcodec`: Kafka's console tools with codecs.
//!
//! * `kcodec dev`: librdkafka's mock cluster and the dev schema registry in one process.
//! * `kcodec topics|produce|consume|groups`: kafka-topics, kafka-console-producer,
//!   kafka-console-consumer and kafka-consumer-groups, with key/value formats (string, JSON,
//!   Avro, Protobuf, JSON Schema, Java's numbers, bytes) against any Kafka.
//! * `kcodec encode|decode`: the codecs offline, for scripts and debugging.
//! * `kcodec registry serve`: a Confluent-compatible schema registry.

mod codec_args;
mod codec_cmd;
mod connect;
mod consume;
mod dev;
mod discovery;
mod error;
mod format;
mod groups;
mod produce;
mod progress;
mod registry_cmd;
mod topics;

use clap::{Parser, Subcommand};
use error::{CliError, describe};
use std::process::ExitCode;

/// Typed Kafka keys and values: Kafka's console tools with codecs (Java-identical serdes, JSON,
/// Avro, Protobuf and JSON Schema with Confluent's wire format), a dev environment and a schema
/// registry.
#[derive(Debug, Parser)]
#[command(name = "kcodec", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a development environment: librdkafka's mock Kafka cluster and the schema registry.
    Dev(dev::DevArgs),
    /// Create, list and describe topics (kafka-topics).
    #[command(subcommand)]
    Topics(topics::TopicsCommand),
    /// Produce records from lines on stdin (kafka-console-producer).
    Produce(produce::ProduceArgs),
    /// Consume records and print them (kafka-console-consumer).
    Consume(consume::ConsumeArgs),
    /// List and describe consumer groups with their lag (kafka-consumer-groups).
    #[command(subcommand)]
    Groups(groups::GroupsCommand),
    /// Encode JSON documents (one per line) into framed key/value bytes, offline.
    Encode(codec_cmd::EncodeArgs),
    /// Decode framed key/value bytes into JSON documents, offline.
    Decode(codec_cmd::DecodeArgs),
    /// Schema registry tools.
    #[command(subcommand)]
    Registry(RegistryCommand),
}

#[derive(Debug, Subcommand)]
enum RegistryCommand {
    /// Run a Confluent-compatible schema registry (REST API over an in-memory store, optionally
    /// journaled to disk). Confluent's clients and serializers can use it as their
    /// `schema.registry.url`.
    Serve(registry_cmd::ServeArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result: Result<(), CliError> = runtime.block_on(async {
        match cli.command {
            Command::Dev(args) => dev::run(args).await,
            Command::Topics(command) => topics::run(command).await,
            Command::Produce(args) => produce::run(args).await,
            Command::Consume(args) => consume::run(args).await,
            Command::Groups(command) => groups::run(command).await,
            Command::Encode(args) => codec_cmd::encode(args).await,
            Command::Decode(args) => codec_cmd::decode(args).await,
            Command::Registry(RegistryCommand::Serve(args)) => {
                registry_cmd::serve(args).await.map_err(CliError::Usage)
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", describe(&error));
            ExitCode::FAILURE
        }
    }
}
