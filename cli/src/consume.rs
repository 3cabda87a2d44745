//! `kcodec consume`: kafka-console-consumer, with key/value formats.
//!
//! Records are printed as Kafka's `DefaultMessageFormatter` prints them: the fields turned on
//! by `--property print.timestamp|print.partition|print.offset|print.headers|print.key|
//! print.value` in that order (`CreateTime:1700000000000`, `Partition:0`, `Offset:5`,
//! `k:v,k2:v2` or `NO_HEADERS`, key, value), separated by `key.separator` (tab), each record
//! ended by `line.separator` (newline), nulls printed as `null.literal` (`null`).
//!
//! With a group (`--group`, default `console-consumer-<5 random digits>` as Kafka's) the
//! consumer subscribes, stores the offset of each printed record and commits them (every
//! 5 s and once more on exit), so `kcodec groups describe` shows them. With `--partition` it
//! is assigned that partition instead and commits only when `--group` is given.

use crate::codec_args::CodecArgs;
use crate::connect::{
    ConnectArgs, DEFAULT_TIMEOUT_MS, RegistryArgs, bool_property, parse_property,
};
use crate::error::{CliError, describe};
use crate::format::Decoder;
use crate::progress::Progress;
use bytes::Bytes;
use clap::Args;
use kcodec_codecs::{Header, Headers};
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Headers as _, Message, Timestamp};
use rdkafka::{Offset, TopicPartitionList};
use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

/// Arguments of `kcodec consume`.
#[derive(Debug, Args)]
pub struct ConsumeArgs {
    #[command(flatten)]
    connect: ConnectArgs,
    /// The topic to consume.
    #[arg(long)]
    topic: String,
    /// The consumer group (default: `console-consumer-<5 random digits>`).
    #[arg(long)]
    group: Option<String>,
    /// Start with the earliest record when the group has no committed offset (else the
    /// latest, as Kafka).
    #[arg(long)]
    from_beginning: bool,
    /// Exit after this many records.
    #[arg(long, value_name = "N")]
    max_messages: Option<u64>,
    /// Exit when no record arrives for this long, in milliseconds (default: wait for ever).
    #[arg(long, value_name = "MS")]
    timeout_ms: Option<u64>,
    /// Consume this partition only (assigned, not subscribed).
    #[arg(long, value_name = "P")]
    partition: Option<i32>,
    /// With --partition: the offset to start at, a number, `earliest` or `latest` (default
    /// latest, or earliest with --from-beginning).
    #[arg(long, value_name = "OFFSET", requires = "partition")]
    offset: Option<String>,
    /// A formatter property, KEY=VALUE (repeatable), as kafka-console-consumer's: print.key,
    /// print.value, print.partition, print.offset, print.timestamp, print.headers,
    /// key.separator, line.separator, headers.separator, null.literal.
    #[arg(long = "property", value_name = "KEY=VALUE", value_parser = parse_property)]
    properties: Vec<(String, String)>,
    /// A librdkafka consumer property, KEY=VALUE (repeatable).
    #[arg(long = "consumer-property", value_name = "KEY=VALUE", value_parser = parse_property)]
    consumer_properties: Vec<(String, String)>,
    /// A properties file of librdkafka consumer settings (applied before --consumer-property).
    #[arg(long = "consumer.config", value_name = "FILE")]
    consumer_config: Option<std::path::PathBuf>,
    /// Skip records that cannot be decoded (counted and reported at the end) instead of
    /// failing on the first (Kafka's `--skip-message-on-error`).
    #[arg(long, visible_alias = "skip-message-on-error")]
    ignore_error: bool,
    #[command(flatten)]
    registry: RegistryArgs,
    #[command(flatten)]
    codecs: CodecArgs,
}

/// Kafka's `DefaultMessageFormatter` settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Formatter {
    /// `print.timestamp`.
    pub print_timestamp: bool,
    /// `print.key`.
    pub print_key: bool,
    /// `print.value` (default true).
    pub print_value: bool,
    /// `print.partition`.
    pub print_partition: bool,
    /// `print.offset`.
    pub print_offset: bool,
    /// `print.headers`.
    pub print_headers: bool,
    /// `key.separator` (tab): between fields.
    pub key_separator: Vec<u8>,
    /// `line.separator` (newline).
    pub line_separator: Vec<u8>,
    /// `headers.separator` (`,`).
    pub headers_separator: Vec<u8>,
    /// `null.literal` (`null`).
    pub null_literal: Vec<u8>,
}

/// One record, decoded, ready to print.
#[derive(Debug, Clone, Default)]
pub struct Printable {
    /// `CreateTime:ms`, `LogAppendTime:ms` or `NO_TIMESTAMP`.
    pub timestamp: String,
    /// The partition.
    pub partition: i32,
    /// The offset.
    pub offset: i64,
    /// Headers (raw values).
    pub headers: Vec<(String, Option<Vec<u8>>)>,
    /// The decoded key, `None` for null.
    pub key: Option<Vec<u8>>,
    /// The decoded value, `None` for null.
    pub value: Option<Vec<u8>>,
}

impl Formatter {
    /// Reads the properties with Kafka's defaults.
    pub fn from_properties(props: &[(String, String)]) -> Result<Self, String> {
        let mut f = Formatter {
            print_timestamp: false,
            print_key: false,
            print_value: true,
            print_partition: false,
            print_offset: false,
            print_headers: false,
            key_separator: b"\t".to_vec(),
            line_separator: b"\n".to_vec(),
            headers_separator: b",".to_vec(),
            null_literal: b"null".to_vec(),
        };
        for (k, v) in props {
            match k.as_str() {
                "print.timestamp" => f.print_timestamp = bool_property(v),
                "print.key" => f.print_key = bool_property(v),
                "print.value" => f.print_value = bool_property(v),
                "print.partition" => f.print_partition = bool_property(v),
                "print.offset" => f.print_offset = bool_property(v),
                "print.headers" => f.print_headers = bool_property(v),
                "key.separator" => f.key_separator = v.as_bytes().to_vec(),
                "line.separator" => f.line_separator = v.as_bytes().to_vec(),
                "headers.separator" => f.headers_separator = v.as_bytes().to_vec(),
                "null.literal" => f.null_literal = v.as_bytes().to_vec(),
                other => {
                    return Err(format!(
                        "unknown --property {other} (known: print.key, print.value, print.partition, print.offset, print.timestamp, print.headers, key.separator, line.separator, headers.separator, null.literal; librdkafka settings go in --consumer-property)"
                    ));
                }
            }
        }
        Ok(f)
    }

    /// Appends the record as `DefaultMessageFormatter.writeTo` writes it.
    pub fn write(&self, r: &Printable, out: &mut Vec<u8>) {
        let sep = |out: &mut Vec<u8>, more: bool| {
            out.extend_from_slice(if more {
                &self.key_separator
            } else {
                &self.line_separator
            });
        };
        if self.print_timestamp {
            out.extend_from_slice(r.timestamp.as_bytes());
            sep(
                out,
                self.print_partition
                    || self.print_offset
                    || self.print_headers
                    || self.print_key
                    || self.print_value,
            );
        }
        if self.print_partition {
            out.extend_from_slice(format!("Partition:{}", r.partition).as_bytes());
            sep(
                out,
                self.print_offset || self.print_headers || self.print_key || self.print_value,
            );
        }
        if self.print_offset {
            out.extend_from_slice(format!("Offset:{}", r.offset).as_bytes());
            sep(
                out,
                self.print_headers || self.print_key || self.print_value,
            );
        }
        if self.print_headers {
            if r.headers.is_empty() {
                out.extend_from_slice(b"NO_HEADERS");
            }
            for (i, (k, v)) in r.headers.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(&self.headers_separator);
                }
                out.extend_from_slice(k.as_bytes());
                out.push(b':');
                out.extend_from_slice(v.as_deref().unwrap_or(&self.null_literal));
            }
            sep(out, self.print_key || self.print_value);
        }
        if self.print_key {
            out.extend_from_slice(r.key.as_deref().unwrap_or(&self.null_literal));
            sep(out, self.print_value);
        }
        if self.print_value {
            out.extend_from_slice(r.value.as_deref().unwrap_or(&self.null_literal));
            out.extend_from_slice(&self.line_separator);
        }
    }
}

/// `console-consumer-<0..99999>`, as Kafka names the group it makes up.
fn random_group() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    format!("console-consumer-{}", h.finish() % 100_000)
}

fn parse_offset(text: Option<&str>, from_beginning: bool) -> Result<Offset, CliError> {
    match text {
        None if from_beginning => Ok(Offset::Beginning),
        None | Some("latest") => Ok(Offset::End),
        Some("earliest") => Ok(Offset::Beginning),
        Some(n) => match n.parse::<i64>() {
            Ok(n) if n >= 0 => Ok(Offset::Offset(n)),
            _ => Err(CliError::Usage(format!(
                "--offset must be a non-negative number, earliest or latest, not {n:?}"
            ))),
        },
    }
}

/// Runs `kcodec consume`.
pub async fn run(mut args: ConsumeArgs) -> Result<(), CliError> {
    let _inline = crate::codec_args::take_confluent_properties(
        &mut args.properties,
        &mut args.codecs,
        &mut args.registry,
    )?;
    let formatter = Formatter::from_properties(&args.properties).map_err(CliError::Usage)?;
    let cluster = args.connect.cluster()?;
    let registry = args
        .registry
        .client(&cluster, args.codecs.needs_registry())?;
    let key_decoder = Decoder::new(args.codecs.key_spec(), registry.clone()).await?;
    let value_decoder = Decoder::new(args.codecs.value_spec(), registry).await?;
    let start = match args.partition {
        Some(_) => Some(parse_offset(args.offset.as_deref(), args.from_beginning)?),
        None => None,
    };
    let network_timeout = Duration::from_millis(DEFAULT_TIMEOUT_MS);
    cluster.check_reachable(network_timeout).await?;

    let commits = args.partition.is_none() || args.group.is_some();
    let group = args.group.clone().unwrap_or_else(random_group);
    let mut config = kcodec_clients::kafka::consumer_config(&cluster.bootstrap, &group);
    config
        .set(
            "auto.offset.reset",
            if args.from_beginning {
                "earliest"
            } else {
                "latest"
            },
        )
        .set("enable.auto.commit", if commits { "true" } else { "false" })
        .set("enable.auto.offset.store", "false")
        .set("enable.partition.eof", "false");
    crate::connect::apply_config(
        &mut config,
        args.consumer_config.as_deref(),
        &args.consumer_properties,
    )?;
    let consumer: StreamConsumer = config
        .create()
        .map_err(|e| CliError::kafka("creating the consumer", e))?;
    match (args.partition, start) {
        (Some(p), Some(offset)) => {
            let mut tpl = TopicPartitionList::new();
            tpl.add_partition_offset(&args.topic, p, offset)
                .map_err(|e| CliError::kafka("assigning the partition", e))?;
            consumer
                .assign(&tpl)
                .map_err(|e| CliError::kafka(format!("assigning {}/{p}", args.topic), e))?;
        }
        _ => consumer
            .subscribe(&[args.topic.as_str()])
            .map_err(|e| CliError::kafka(format!("subscribing to {}", args.topic), e))?,
    }

    let mut state = Run {
        formatter: &formatter,
        key_decoder: &key_decoder,
        value_decoder: &value_decoder,
        ignore_error: args.ignore_error,
        topic: &args.topic,
        out: Vec::with_capacity(64 * 1024),
        processed: 0,
        skipped: 0,
        positions: BTreeMap::new(),
        progress: Progress::new("received"),
        warned: false,
        closed: false,
    };
    let result = state
        .consume(
            &consumer,
            args.max_messages,
            args.timeout_ms.map(Duration::from_millis),
        )
        .await;
    let flushed = state.flush().map(|_| ());
    state.progress.clear();

    if commits && !state.positions.is_empty() {
        let mut tpl = TopicPartitionList::new();
        for ((topic, partition), next) in &state.positions {
            let _ = tpl.add_partition_offset(topic, *partition, Offset::Offset(*next));
        }
        if let Err(e) = consumer.commit(&tpl, CommitMode::Sync) {
            eprintln!("warning: cannot commit the final offsets: {e}");
        }
        drop(tpl);
    }
    // Leave the group now, so a next member of it is not kept waiting for this one's session
    // to time out.
    if args.partition.is_none() {
        consumer.unsubscribe();
    }
    drop(consumer);
    eprintln!("Processed a total of {} messages", state.processed);
    if state.skipped > 0 {
        eprintln!(
            "Skipped {} record(s) that could not be decoded",
            state.skipped
        );
    }
    result?;
    flushed
}

/// The consume loop's state.
struct Run<'a> {
    formatter: &'a Formatter,
    key_decoder: &'a Decoder,
    value_decoder: &'a Decoder,
    ignore_error: bool,
    topic: &'a str,
    out: Vec<u8>,
    processed: u64,
    skipped: u64,
    /// (topic, partition) → the offset after the last printed record.
    positions: BTreeMap<(String, i32), i64>,
    progress: Progress,
    warned: bool,
    /// stdout's reader went away.
    closed: bool,
}

enum Next<'c> {
    Message(Result<BorrowedMessage<'c>, rdkafka::error::KafkaError>),
    Idle,
    Stop,
}

impl Run<'_> {
    /// Writes the buffered output; `Ok(false)` when the reader went away (`| head`), which
    /// ends the run without an error.
    fn flush(&mut self) -> Result<bool, CliError> {
        if self.out.is_empty() {
            return Ok(true);
        }
        let mut stdout = std::io::stdout().lock();
        let result = stdout.write_all(&self.out).and_then(|()| stdout.flush());
        self.out.clear();
        match result {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
            Err(e) => Err(CliError::io("writing to stdout", e)),
        }
    }

    async fn consume(
        &mut self,
        consumer: &StreamConsumer,
        max: Option<u64>,
        idle: Option<Duration>,
    ) -> Result<(), CliError> {
        let stop = crate::registry_cmd::stop_signal();
        tokio::pin!(stop);
        loop {
            if self.closed || max.is_some_and(|m| self.processed >= m) {
                return Ok(());
            }
            // A record ready now is taken without flushing; before waiting, flush.
            let next = match tokio::time::timeout(Duration::ZERO, consumer.recv()).await {
                Ok(m) => Next::Message(m),
                Err(_) => {
                    if !self.flush()? {
                        return Ok(());
                    }
                    let wait = async {
                        match idle {
                            Some(idle) => match tokio::time::timeout(idle, consumer.recv()).await {
                                Ok(m) => Next::Message(m),
                                Err(_) => Next::Idle,
                            },
                            None => Next::Message(consumer.recv().await),
                        }
                    };
                    tokio::select! {
                        next = wait => next,
                        () = &mut stop => Next::Stop,
                    }
                }
            };
            let message = match next {
                Next::Stop | Next::Idle => return Ok(()),
                Next::Message(Ok(m)) => m,
                Next::Message(Err(e)) => {
                    // librdkafka reports e.g. a topic that does not exist (yet) and carries on,
                    // as Kafka's console consumer does.
                    if !self.warned {
                        self.progress.clear();
                        if e.rdkafka_error_code()
                            == Some(rdkafka::types::RDKafkaErrorCode::UnknownTopicOrPartition)
                        {
                            eprintln!(
                                "warning: topic '{}' does not exist (yet); waiting for it",
                                self.topic
                            );
                        } else {
                            eprintln!("warning: {e}");
                        }
                        self.warned = true;
                    }
                    continue;
                }
            };
            self.record(consumer, &message).await?;
        }
    }

    async fn record(
        &mut self,
        consumer: &StreamConsumer,
        m: &BorrowedMessage<'_>,
    ) -> Result<(), CliError> {
        let mut headers = Headers::new();
        let mut raw_headers = Vec::new();
        if let Some(hs) = m.headers() {
            for h in hs.iter() {
                headers.push(Header {
                    key: h.key.to_owned(),
                    value: h.value.map(Bytes::copy_from_slice),
                });
                raw_headers.push((h.key.to_owned(), h.value.map(<[u8]>::to_vec)));
            }
        }
        let decoded = async {
            let key = match m.key() {
                Some(k) if self.formatter.print_key => Some(
                    self.key_decoder
                        .decode(self.topic, k, &headers)
                        .await
                        .map_err(|e| ("key", e))?,
                ),
                _ => None,
            };
            let value = match m.payload() {
                Some(v) if self.formatter.print_value => Some(
                    self.value_decoder
                        .decode(self.topic, v, &headers)
                        .await
                        .map_err(|e| ("value", e))?,
                ),
                _ => None,
            };
            Ok::<_, (&str, crate::format::FormatError)>((key, value))
        }
        .await;
        let position = (m.topic().to_owned(), m.partition());
        let next = m.offset() + 1;
        match decoded {
            Ok((key, value)) => {
                let printable = Printable {
                    timestamp: match m.timestamp() {
                        Timestamp::CreateTime(t) => format!("CreateTime:{t}"),
                        Timestamp::LogAppendTime(t) => format!("LogAppendTime:{t}"),
                        Timestamp::NotAvailable => "NO_TIMESTAMP".to_owned(),
                    },
                    partition: m.partition(),
                    offset: m.offset(),
                    headers: raw_headers,
                    key,
                    value,
                };
                self.formatter.write(&printable, &mut self.out);
                self.processed += 1;
                self.progress.add(1);
                if self.out.len() >= 64 * 1024 && !self.flush()? {
                    self.closed = true;
                }
            }
            Err((side, e)) => {
                let what = format!(
                    "cannot decode the {side} of {}/{}@{}: {}",
                    m.topic(),
                    m.partition(),
                    m.offset(),
                    describe(&e)
                );
                if !self.ignore_error {
                    return Err(CliError::Failed(what));
                }
                self.skipped += 1;
                if self.skipped <= 10 {
                    self.progress.clear();
                    eprintln!("warning: {what}; skipped");
                }
            }
        }
        // The record is handled (printed or skipped): its offset may be committed.
        let _ = consumer.store_offset_from_message(m);
        self.positions.insert(position, next);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn printable() -> Printable {
        Printable {
            timestamp: "CreateTime:1700000000000".into(),
            partition: 2,
            offset: 5,
            headers: vec![("h".into(), Some(b"1".to_vec())), ("n".into(), None)],
            key: None,
            value: Some(b"v".to_vec()),
        }
    }

    fn props(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn default_prints_the_value_only() {
        let f = Formatter::from_properties(&[]).unwrap();
        let mut out = Vec::new();
        f.write(&printable(), &mut out);
        assert_eq!(out, b"v\n");
    }

    #[test]
    fn every_field_in_kafkas_order() {
        let f = Formatter::from_properties(&props(&[
            ("print.timestamp", "true"),
            ("print.partition", "true"),
            ("print.offset", "true"),
            ("print.headers", "true"),
            ("print.key", "true"),
            ("null.literal", "<null>"),
        ]))
        .unwrap();
        let mut out = Vec::new();
        f.write(&printable(), &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "CreateTime:1700000000000\tPartition:2\tOffset:5\th:1,n:<null>\t<null>\tv\n"
        );
    }

    #[test]
    fn without_value_the_last_field_ends_the_line() {
        let f =
            Formatter::from_properties(&props(&[("print.key", "true"), ("print.value", "false")]))
                .unwrap();
        let mut out = Vec::new();
        f.write(&printable(), &mut out);
        assert_eq!(out, b"null\n");
        let f = Formatter::from_properties(&props(&[
            ("print.headers", "true"),
            ("print.value", "false"),
        ]))
        .unwrap();
        let mut out = Vec::new();
        f.write(&Printable::default(), &mut out);
        assert_eq!(out, b"NO_HEADERS\n");
        assert!(Formatter::from_properties(&props(&[("parse.key", "true")])).is_err());
    }

    #[test]
    fn group_names_look_like_kafkas() {
        let g = random_group();
        let digits = g.strip_prefix("console-consumer-").unwrap();
        assert!(digits.parse::<u32>().unwrap() < 100_000);
    }
}
