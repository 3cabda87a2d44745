//! `kcodec`: Kafka's console tools with codecs.
//!
//! * `kcodec dev`: kcodec's in-memory broker over Kafka's protocol and the dev schema registry
//!   in one process.
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

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use error::{CliError, describe};
use std::ffi::OsString;
use std::process::ExitCode;

/// Typed Kafka keys and values: Kafka's console tools with codecs (Java-identical serdes, JSON,
/// Avro, Protobuf and JSON Schema with Confluent's wire format), a dev environment and a schema
/// registry.
///
/// As with Kafka's tools (joptsimple), a long option may be shortened to any unique prefix
/// (`--partition 3` is `--partitions 3`); an exact name wins over a longer one it begins, and an
/// ambiguous prefix is an error naming the options it could be.
#[derive(Debug, Parser)]
#[command(name = "kcodec", version, about, long_about = None, infer_long_args = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a development environment: kcodec's in-memory Kafka (over Kafka's protocol) and the
    /// schema registry.
    Dev(dev::DevArgs),
    /// Create, delete, alter, list and describe topics (kafka-topics).
    #[command(subcommand)]
    Topics(topics::TopicsCommand),
    /// Produce records from lines on stdin (kafka-console-producer).
    Produce(produce::ProduceArgs),
    /// Consume records and print them (kafka-console-consumer).
    Consume(consume::ConsumeArgs),
    /// List, describe, reset the offsets of, and delete consumer groups (kafka-consumer-groups).
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

/// Parses the command line; an ambiguous long-option prefix is reported with its candidates
/// (clap alone would call it an unexpected argument).
fn parse<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let mut command = Cli::command();
    match command.try_get_matches_from_mut(&args) {
        Ok(matches) => Cli::from_arg_matches(&matches),
        Err(error) if error.kind() == ErrorKind::UnknownArgument => {
            command.build();
            Err(ambiguity(&command, &args, &error).unwrap_or(error))
        }
        Err(error) => Err(error),
    }
}

/// The error for an unknown `--prefix` that begins several long options of the subcommand it was
/// given to; `None` when it is not such a prefix.
fn ambiguity(root: &clap::Command, args: &[OsString], error: &clap::Error) -> Option<clap::Error> {
    let Some(ContextValue::String(given)) = error.get(ContextKind::InvalidArg) else {
        return None;
    };
    let prefix = given.strip_prefix("--")?;
    let prefix = prefix.split_once('=').map_or(prefix, |(name, _)| name);
    if prefix.is_empty() {
        return None;
    }
    // The subcommand it was given to: the leading words that name subcommands (no command with
    // subcommands takes options of its own besides --help and --version).
    let mut command = root;
    for word in args.iter().skip(1) {
        if !command.has_subcommands() {
            break;
        }
        match word.to_str().and_then(|w| command.find_subcommand(w)) {
            Some(sub) => command = sub,
            None => break,
        }
    }
    let mut candidates: Vec<String> = command
        .get_arguments()
        .filter_map(|a| {
            let names = a
                .get_long()
                .into_iter()
                .chain(a.get_all_aliases().into_iter().flatten());
            names
                .filter(|n| n.starts_with(prefix))
                .min_by_key(|n| n.len())
                .map(|n| format!("--{n}"))
        })
        .collect();
    if candidates.len() < 2 {
        return None;
    }
    candidates.sort();
    let mut command = command.clone();
    Some(command.error(
        ErrorKind::UnknownArgument,
        format!(
            "option '--{prefix}' is ambiguous: it could be {}",
            candidates.join(", ")
        ),
    ))
}

fn main() -> ExitCode {
    let cli = match parse(std::env::args_os()) {
        Ok(cli) => cli,
        Err(error) => error.exit(),
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<&str> {
        std::iter::once("kcodec")
            .chain(line.split_whitespace())
            .collect()
    }

    #[test]
    fn unique_prefixes_of_long_options_in_every_subcommand() {
        for line in [
            "dev --broker 3 --no-reg",
            "topics create --top t --partition 3 --replication 1 --if-not",
            "topics list --exclude --bootstrap h:1",
            "topics describe --top t --timeout 5",
            "groups describe --gro g",
            "groups list --command-prop a=b",
            "groups reset-offsets --gro g --all-top --to-ear --exec",
            "groups reset-offsets --gro g --top t:0 --shift -2 --dry",
            "groups delete --gro g",
            "topics create --top t --partitions -1",
            "topics alter --top t --partitions -1",
            "produce --top t --prop parse.key=true --producer-prop acks=all",
            "consume --top t --from --max 3",
            "encode --form json",
            "decode --form json --inp raw",
            "registry serve --lis 127.0.0.1:0",
        ] {
            if let Err(e) = parse(args(line)) {
                panic!("{line}: {e}");
            }
        }
        let Ok(Cli {
            command: Command::Topics(topics::TopicsCommand::Create(create)),
        }) = parse(args(
            "topics create --topic t --partition 3 --replication-factor 1",
        ))
        else {
            panic!("not topics create");
        };
        assert!(
            format!("{create:?}").contains("partitions: Some(3)"),
            "{create:?}"
        );
    }

    #[test]
    fn exact_names_win_and_ambiguous_prefixes_name_their_candidates() {
        // `--partition` is exact in consume (where `--partitions` does not exist) and a prefix of
        // `--partitions` in topics create.
        assert!(parse(args("consume --topic t --partition 1 --offset 0")).is_ok());
        let e = parse(args("topics create --topic t --com x=y")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnknownArgument);
        let text = e.to_string();
        assert!(
            text.starts_with(
                "error: option '--com' is ambiguous: it could be --command-config, --command-property\n"
            ),
            "{text}"
        );
        assert!(text.contains("Usage: kcodec topics create"), "{text}");
        let e = parse(args("produce --topic t --pro=a=b")).unwrap_err();
        assert!(
            e.to_string()
                .contains("'--pro' is ambiguous: it could be --producer-property, --producer.config, --property"),
            "{e}"
        );
        // Not a prefix of anything: clap's own error.
        let e = parse(args("topics create --topic t --nothing 1")).unwrap_err();
        assert!(
            e.to_string().contains("unexpected argument '--nothing'"),
            "{e}"
        );
    }
}
