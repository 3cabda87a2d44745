//! `kcodec produce`: kafka-console-producer, with key/value formats.
//!
//! Lines are read from stdin as Kafka's `LineMessageReader` reads them: with
//! `--property parse.headers=true` a line starts with headers (`k:v,k2:v2`, then
//! `headers.delimiter`), with `parse.key=true` then the key and `key.separator`, then the value.
//! `null.marker` turns a key, value or header value equal to it into null. Keys and values are
//! then encoded with `--key-format`/`--value-format` (see [`crate::format`]).
//!
//! Records go through librdkafka with `partitioner=murmur2_random`, the Java client's key
//! partitioning. Every delivery is awaited before exiting; a failed one is an error naming the
//! record's line number.

use crate::codec_args::CodecArgs;
use crate::connect::{
    ConnectArgs, DEFAULT_TIMEOUT_MS, RegistryArgs, bool_property, parse_property,
};
use crate::error::CliError;
use crate::format::{Encoder, FormatError};
use crate::progress::Progress;
use bytes::Bytes;
use clap::Args;
use kcodec_codecs::{Header, Headers};
use parking_lot_free::Failures;
use rdkafka::ClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, BufReader};

/// The longest line accepted (Kafka's default `message.max.bytes` is about 1 MB).
const MAX_LINE: usize = 64 * 1024 * 1024;

/// How many parse/encode errors are printed one by one with `ignore.error` before only being
/// counted.
const SHOWN_ERRORS: u64 = 10;

/// Arguments of `kcodec produce`.
#[derive(Debug, Args)]
pub struct ProduceArgs {
    #[command(flatten)]
    connect: ConnectArgs,
    /// The topic to produce to.
    #[arg(long)]
    topic: String,
    /// A line reader property, KEY=VALUE (repeatable), as kafka-console-producer's:
    /// parse.key, key.separator (default tab), parse.headers, headers.delimiter (default tab),
    /// headers.separator (default ","), headers.key.separator (default ":"), null.marker,
    /// ignore.error.
    #[arg(long = "property", value_name = "KEY=VALUE", value_parser = parse_property)]
    properties: Vec<(String, String)>,
    /// A librdkafka producer property, KEY=VALUE (repeatable), e.g. acks=1 or linger.ms=50.
    #[arg(long = "producer-property", value_name = "KEY=VALUE", value_parser = parse_property)]
    producer_properties: Vec<(String, String)>,
    /// A properties file of librdkafka producer settings (applied before --producer-property).
    #[arg(long = "producer.config", value_name = "FILE")]
    producer_config: Option<std::path::PathBuf>,
    /// Go on past lines that cannot be parsed or encoded (as `--property ignore.error=true`):
    /// a line without its key separator is sent with a null key, as Kafka does; a line that
    /// cannot be encoded is skipped. Both are counted and reported at the end, and the exit
    /// status stays 0.
    #[arg(long)]
    ignore_error: bool,
    /// Timeout of the connection check and metadata request, in milliseconds; deliveries may
    /// take up to `message.timeout.ms` (default here 30000).
    #[arg(long, default_value_t = DEFAULT_TIMEOUT_MS, value_name = "MS")]
    timeout_ms: u64,
    #[command(flatten)]
    registry: RegistryArgs,
    #[command(flatten)]
    codecs: CodecArgs,
}

/// kafka-console-producer's `LineMessageReader` settings.
#[derive(Debug, Clone)]
pub struct LineReader {
    /// `parse.key`.
    pub parse_key: bool,
    /// `key.separator`.
    pub key_separator: String,
    /// `parse.headers`.
    pub parse_headers: bool,
    /// `headers.delimiter`.
    pub headers_delimiter: String,
    /// `headers.separator`.
    pub headers_separator: String,
    /// `headers.key.separator`.
    pub headers_key_separator: String,
    /// `null.marker`.
    pub null_marker: Option<String>,
    /// `ignore.error`.
    pub ignore_error: bool,
}

/// One parsed line: headers, key and value text (`None` is null).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedLine {
    /// Headers, in order.
    pub headers: Vec<(String, Option<String>)>,
    /// The key text, `None` for a null key.
    pub key: Option<String>,
    /// The value text, `None` for a null value.
    pub value: Option<String>,
    /// A problem `ignore.error` let through (the line is still sent, as Kafka does).
    pub ignored: Option<String>,
}

impl LineReader {
    /// Reads the properties, with Kafka's defaults and checks.
    pub fn from_properties(props: &[(String, String)], ignore_error: bool) -> Result<Self, String> {
        let map: HashMap<&str, &str> = props
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let known = [
            "parse.key",
            "key.separator",
            "parse.headers",
            "headers.delimiter",
            "headers.separator",
            "headers.key.separator",
            "null.marker",
            "ignore.error",
        ];
        if let Some((k, _)) = props.iter().find(|(k, _)| !known.contains(&k.as_str())) {
            return Err(format!(
                "unknown --property {k} (known: {}; librdkafka settings go in --producer-property)",
                known.join(", ")
            ));
        }
        let text = |k: &str, default: &str| map.get(k).map_or(default, |v| *v).to_owned();
        let reader = LineReader {
            parse_key: map.get("parse.key").is_some_and(|v| bool_property(v)),
            key_separator: text("key.separator", "\t"),
            parse_headers: map.get("parse.headers").is_some_and(|v| bool_property(v)),
            headers_delimiter: text("headers.delimiter", "\t"),
            headers_separator: text("headers.separator", ","),
            headers_key_separator: text("headers.key.separator", ":"),
            null_marker: map.get("null.marker").map(|v| (*v).to_owned()),
            ignore_error: ignore_error || map.get("ignore.error").is_some_and(|v| bool_property(v)),
        };
        let r = &reader;
        for (a, an, b, bn) in [
            (
                &r.headers_delimiter,
                "headers.delimiter",
                &r.headers_separator,
                "headers.separator",
            ),
            (
                &r.headers_delimiter,
                "headers.delimiter",
                &r.headers_key_separator,
                "headers.key.separator",
            ),
            (
                &r.headers_separator,
                "headers.separator",
                &r.headers_key_separator,
                "headers.key.separator",
            ),
        ] {
            if a == b {
                return Err(format!("{an} and {bn} may not be equal"));
            }
        }
        if let Some(marker) = &r.null_marker {
            for (sep, name) in [
                (&r.key_separator, "key.separator"),
                (&r.headers_separator, "headers.separator"),
                (&r.headers_delimiter, "headers.delimiter"),
                (&r.headers_key_separator, "headers.key.separator"),
            ] {
                if sep == marker {
                    return Err(format!("null.marker and {name} may not be equal"));
                }
            }
        }
        for (sep, name) in [
            (&r.key_separator, "key.separator"),
            (&r.headers_delimiter, "headers.delimiter"),
            (&r.headers_separator, "headers.separator"),
            (&r.headers_key_separator, "headers.key.separator"),
        ] {
            if sep.is_empty() {
                return Err(format!("{name} may not be empty"));
            }
        }
        Ok(reader)
    }

    fn nullable(&self, text: &str) -> Option<String> {
        match &self.null_marker {
            Some(m) if m == text => None,
            _ => Some(text.to_owned()),
        }
    }

    /// Parses line `number` (1-based) as Kafka's `LineMessageReader` does.
    pub fn parse(&self, number: u64, line: &str) -> Result<ParsedLine, String> {
        let mut rest = line;
        let mut ignored = None;
        let mut headers = Vec::new();
        if self.parse_headers {
            match rest.find(&self.headers_delimiter) {
                Some(i) => {
                    let text = &rest[..i];
                    rest = &rest[i + self.headers_delimiter.len()..];
                    if self.null_marker.as_deref() != Some(text) {
                        headers = self.split_headers(number, text)?;
                    }
                }
                None if self.ignore_error => {
                    ignored = Some(format!(
                        "No headers delimiter found on line number {number}: '{line}'"
                    ));
                }
                None => {
                    return Err(format!(
                        "No headers delimiter found on line number {number}: '{line}'"
                    ));
                }
            }
        }
        let mut key = None;
        if self.parse_key {
            match rest.find(&self.key_separator) {
                Some(i) => {
                    key = self.nullable(&rest[..i]);
                    rest = &rest[i + self.key_separator.len()..];
                }
                None if self.ignore_error => {
                    ignored = Some(format!(
                        "No key separator found on line number {number}: '{line}'"
                    ));
                }
                None => {
                    return Err(format!(
                        "No key separator found on line number {number}: '{line}'"
                    ));
                }
            }
        }
        Ok(ParsedLine {
            headers,
            key,
            value: self.nullable(rest),
            ignored,
        })
    }

    fn split_headers(
        &self,
        number: u64,
        text: &str,
    ) -> Result<Vec<(String, Option<String>)>, String> {
        let mut pairs: Vec<&str> = text.split(self.headers_separator.as_str()).collect();
        // Java's String.split drops trailing empty strings.
        while pairs.len() > 1 && pairs.last() == Some(&"") {
            pairs.pop();
        }
        pairs
            .into_iter()
            .map(|pair| match pair.find(&self.headers_key_separator) {
                None if self.ignore_error => Ok((pair.to_owned(), None)),
                None => Err(format!(
                    "No header key separator found in pair '{pair}' on line number {number}"
                )),
                Some(i) => {
                    let key = &pair[..i];
                    if self.null_marker.as_deref() == Some(key) {
                        return Err(format!(
                            "Header keys should not be equal to the null marker '{key}' as they can't be null"
                        ));
                    }
                    let value = &pair[i + self.headers_key_separator.len()..];
                    Ok((key.to_owned(), self.nullable(value)))
                }
            })
            .collect()
    }
}

mod parking_lot_free {
    //! Delivery failures collected by the producer's callback thread.
    use rdkafka::error::KafkaError;
    use std::sync::Mutex;

    /// The first failures (line, error) and how many there were.
    #[derive(Debug, Default)]
    pub struct Failures {
        inner: Mutex<(u64, Vec<(u64, KafkaError)>)>,
    }

    impl Failures {
        pub fn push(&self, line: u64, e: KafkaError) {
            let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
            g.0 += 1;
            if g.1.len() < 10 {
                g.1.push((line, e));
            }
        }

        pub fn take(&self) -> (u64, Vec<(u64, KafkaError)>) {
            let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
            (g.0, std::mem::take(&mut g.1))
        }
    }
}

/// Counts deliveries and keeps failures with their line numbers.
#[derive(Debug, Default)]
struct DeliveryContext {
    delivered: AtomicU64,
    failures: Failures,
}

impl ClientContext for DeliveryContext {}

impl ProducerContext for DeliveryContext {
    type DeliveryOpaque = Box<u64>;

    fn delivery(&self, result: &DeliveryResult<'_>, line: Self::DeliveryOpaque) {
        match result {
            Ok(_) => {
                self.delivered.fetch_add(1, Ordering::Relaxed);
            }
            Err((e, _)) => self.failures.push(*line, e.clone()),
        }
    }
}

/// Reads one line (without `\n` or `\r\n`) of at most [`MAX_LINE`] bytes; `None` at the end.
async fn read_line(
    input: &mut (impl AsyncBufRead + Unpin),
    buf: &mut Vec<u8>,
    number: u64,
) -> Result<Option<()>, CliError> {
    buf.clear();
    loop {
        let chunk = input
            .fill_buf()
            .await
            .map_err(|e| CliError::io("reading stdin", e))?;
        if chunk.is_empty() {
            return Ok(if buf.is_empty() { None } else { Some(()) });
        }
        let (take, done) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        if buf.len() + take > MAX_LINE {
            return Err(CliError::Failed(format!(
                "line {number} is longer than {MAX_LINE} bytes"
            )));
        }
        buf.extend_from_slice(&chunk[..take]);
        input.consume(take);
        if done {
            buf.pop();
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
            return Ok(Some(()));
        }
    }
}

/// Runs `kcodec produce`.
pub async fn run(mut args: ProduceArgs) -> Result<(), CliError> {
    let _inline = crate::codec_args::take_confluent_properties(
        &mut args.properties,
        &mut args.codecs,
        &mut args.registry,
    )?;
    let reader = LineReader::from_properties(&args.properties, args.ignore_error)
        .map_err(CliError::Usage)?;
    let cluster = args.connect.cluster()?;
    let timeout = Duration::from_millis(args.timeout_ms);
    let registry = args
        .registry
        .client(&cluster, args.codecs.needs_registry())?;
    let key_encoder = if reader.parse_key {
        Some(Encoder::new(args.codecs.key_spec(), registry.clone()).await?)
    } else {
        None
    };
    let value_encoder = Encoder::new(args.codecs.value_spec(), registry).await?;
    cluster.check_reachable(timeout).await?;

    let mut config = kcodec_clients::kafka::producer_config(&cluster.bootstrap);
    config.set("message.timeout.ms", "30000");
    crate::connect::apply_config(
        &mut config,
        args.producer_config.as_deref(),
        &args.producer_properties,
    )?;
    let message_timeout: u64 = config
        .get("message.timeout.ms")
        .and_then(|v| v.parse().ok())
        .unwrap_or(30_000);
    let producer: ThreadedProducer<DeliveryContext> = config
        .create_with_context(DeliveryContext::default())
        .map_err(|e| CliError::kafka("creating the producer", e))?;
    {
        // A missing topic is created as the broker's `auto.create.topics.enable` says (on a
        // `kcodec dev`, as Kafka's defaults: with `num.partitions=1`).
        // A name the broker refuses to create because it collides with an existing topic's
        // (INVALID_TOPIC_EXCEPTION) gets the controller's message, which librdkafka drops.
        let topic = args.topic.clone();
        let p = producer.clone();
        let collision = tokio::task::spawn_blocking(move || {
            let refused = p
                .client()
                .fetch_metadata(Some(&topic), timeout)?
                .topics()
                .iter()
                .any(|t| {
                    t.name() == topic
                        && t.error().map(RDKafkaErrorCode::from)
                            == Some(RDKafkaErrorCode::InvalidTopic)
                });
            if !refused {
                return Ok(None);
            }
            let all = p.client().fetch_metadata(None, timeout)?;
            let names = all.topics().iter().map(|t| t.name());
            Ok(crate::dev::check_collision(&topic, names).err())
        })
        .await
        .map_err(|e| CliError::Failed(format!("metadata task: {e}")))?
        .map_err(|e: KafkaError| {
            CliError::kafka(format!("reading the metadata of {}", cluster.bootstrap), e)
        })?;
        if let Some(message) = collision {
            return Err(CliError::Failed(message));
        }
    }

    let topic = args.topic.as_str();
    let mut input = BufReader::with_capacity(64 * 1024, tokio::io::stdin());
    let mut buf = Vec::new();
    let mut number: u64 = 0;
    let mut sent: u64 = 0;
    let mut ignored: u64 = 0;
    let mut progress = Progress::new("sent");
    let looped = async {
        while read_line(&mut input, &mut buf, number + 1).await?.is_some() {
            number += 1;
            let line = match std::str::from_utf8(&buf) {
                Ok(line) => line,
                Err(_) if reader.ignore_error => {
                    ignored += 1;
                    note(
                        &mut progress,
                        ignored,
                        &format!("line {number} is not UTF-8; skipped"),
                    );
                    continue;
                }
                Err(_) => return Err(CliError::Failed(format!("line {number} is not UTF-8"))),
            };
            let parsed = reader.parse(number, line).map_err(CliError::Failed)?;
            if let Some(problem) = &parsed.ignored {
                ignored += 1;
                note(
                    &mut progress,
                    ignored,
                    &format!("{problem}; sent with a null key"),
                );
            }
            let mut headers = Headers::new();
            for (k, v) in &parsed.headers {
                headers.push(Header {
                    key: k.clone(),
                    value: v.as_ref().map(|v| Bytes::copy_from_slice(v.as_bytes())),
                });
            }
            let encoded = encode(
                key_encoder.as_ref(),
                &value_encoder,
                topic,
                &parsed,
                &mut headers,
            )
            .await;
            let (key, value) = match encoded {
                Ok(kv) => kv,
                Err((side, e)) if reader.ignore_error => {
                    ignored += 1;
                    note(
                        &mut progress,
                        ignored,
                        &format!(
                            "line {number}: cannot encode the {side}: {}; skipped",
                            crate::error::describe(&e)
                        ),
                    );
                    continue;
                }
                Err((side, e)) => {
                    return Err(CliError::Failed(format!(
                        "line {number}: cannot encode the {side}: {}",
                        crate::error::describe(&e)
                    )));
                }
            };
            let kafka_headers = kcodec_clients::kafka::to_kafka_headers(&headers);
            let mut record: BaseRecord<'_, [u8], [u8], Box<u64>> =
                BaseRecord::with_opaque_to(topic, Box::new(number));
            if let Some(k) = key.as_deref() {
                record = record.key(k);
            }
            if let Some(v) = value.as_deref() {
                record = record.payload(v);
            }
            if let Some(h) = kafka_headers {
                record = record.headers(h);
            }
            loop {
                match producer.send(record) {
                    Ok(()) => break,
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                        record = back;
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    Err((e, _)) => {
                        return Err(CliError::kafka(
                            format!("line {number}: cannot send the record to {topic}"),
                            e,
                        ));
                    }
                }
            }
            sent += 1;
            progress.add(1);
        }
        Ok::<(), CliError>(())
    }
    .await;

    // Wait for every delivery (librdkafka fails each one after message.timeout.ms at worst).
    let p = producer.clone();
    let flush_timeout = Duration::from_millis(message_timeout.saturating_add(5_000));
    let flushed = tokio::task::spawn_blocking(move || p.flush(flush_timeout))
        .await
        .map_err(|e| CliError::Failed(format!("flush task: {e}")))?;
    progress.clear();
    drop(progress);
    let context = producer.client().context();
    let (failed, first) = context.failures.take();
    let delivered = context.delivered.load(Ordering::Relaxed);
    if ignored > 0 {
        eprintln!("{ignored} line(s) had errors (ignore.error): see the warnings above");
    }
    // A bad line stops the run, but the records before it were sent and have been awaited.
    looped?;
    if let Some((line, e)) = first.into_iter().next() {
        return Err(CliError::Failed(format!(
            "{failed} of {sent} record(s) were not delivered; the first, from line {line}: {e}"
        )));
    }
    if let Err(e) = flushed {
        return Err(CliError::kafka(
            format!(
                "{} of {sent} record(s) were not delivered in time",
                sent - delivered
            ),
            e,
        ));
    }
    Ok(())
}

/// Prints one of the first [`SHOWN_ERRORS`] warnings (later ones are only counted).
fn note(progress: &mut Progress, ignored: u64, text: &str) {
    if ignored <= SHOWN_ERRORS {
        progress.clear();
        eprintln!("warning: {text}");
    }
}

/// Encodes the key (when parsed) and the value; the error names the side.
async fn encode(
    key_encoder: Option<&Encoder>,
    value_encoder: &Encoder,
    topic: &str,
    parsed: &ParsedLine,
    headers: &mut Headers,
) -> Result<(Option<Bytes>, Option<Bytes>), (&'static str, FormatError)> {
    let key = match (key_encoder, &parsed.key) {
        (Some(enc), Some(text)) => enc
            .encode(topic, text, headers)
            .await
            .map_err(|e| ("key", e))?,
        _ => None,
    };
    let value = match &parsed.value {
        Some(text) => value_encoder
            .encode(topic, text, headers)
            .await
            .map_err(|e| ("value", e))?,
        None => None,
    };
    Ok((key, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(props: &[(&str, &str)]) -> LineReader {
        let props: Vec<(String, String)> = props
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        LineReader::from_properties(&props, false).unwrap()
    }

    #[test]
    fn keys_values_and_null_marker() {
        let r = reader(&[
            ("parse.key", "true"),
            ("key.separator", ":"),
            ("null.marker", "NULL"),
        ]);
        let p = r.parse(1, "k:v:w").unwrap();
        assert_eq!(
            (p.key.as_deref(), p.value.as_deref()),
            (Some("k"), Some("v:w"))
        );
        let p = r.parse(2, "NULL:NULL").unwrap();
        assert_eq!((p.key, p.value), (None, None));
        assert_eq!(
            r.parse(3, "bad line").unwrap_err(),
            "No key separator found on line number 3: 'bad line'"
        );
    }

    #[test]
    fn ignore_error_sends_a_null_key_like_kafka() {
        let props = vec![("parse.key".to_owned(), "true".to_owned())];
        let r = LineReader::from_properties(&props, true).unwrap();
        let p = r.parse(1, "no tab here").unwrap();
        assert_eq!((p.key, p.value.as_deref()), (None, Some("no tab here")));
        assert!(p.ignored.unwrap().contains("No key separator"));
    }

    #[test]
    fn headers() {
        let r = reader(&[
            ("parse.headers", "true"),
            ("parse.key", "true"),
            ("null.marker", "N"),
        ]);
        let p = r.parse(1, "a:1,b:N,c:x:y\tk\tv").unwrap();
        assert_eq!(
            p.headers,
            vec![
                ("a".to_owned(), Some("1".to_owned())),
                ("b".to_owned(), None),
                ("c".to_owned(), Some("x:y".to_owned()))
            ]
        );
        assert_eq!(
            (p.key.as_deref(), p.value.as_deref()),
            (Some("k"), Some("v"))
        );
        assert!(
            r.parse(2, "nokeysep\tk\tv")
                .unwrap_err()
                .contains("No header key separator")
        );
        assert!(r.parse(3, "N:1\tk\tv").unwrap_err().contains("null marker"));
    }

    #[test]
    fn kafka_property_checks() {
        let props = vec![
            ("null.marker".to_owned(), ":".to_owned()),
            ("key.separator".to_owned(), ":".to_owned()),
        ];
        assert_eq!(
            LineReader::from_properties(&props, false).unwrap_err(),
            "null.marker and key.separator may not be equal"
        );
        let props = vec![("print.key".to_owned(), "true".to_owned())];
        assert!(LineReader::from_properties(&props, false).is_err());
    }
}
