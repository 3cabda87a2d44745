//! A console producer over rdkafka, like `kafka-console-producer`: one record per stdin line.
//!
//! ```sh
//! cargo run --example rdkafka_producer --features rdkafka -- \
//!     --bootstrap-server localhost:9092 --topic orders \
//!     --property parse.key=true --property key.separator=:
//! ```
//!
//! Keys and values are UTF-8 strings (Java's `StringSerializer`); with `parse.key=true` a line
//! `alice:book` is key `alice`, value `book`. Keys are placed with `murmur2_random`, the Java
//! client's partitioning, so a key lands where a Java producer would put it.

use kcodec::clients::kafka::{KafkaProducer, producer_config};
use kcodec::prelude::*;
use std::io::BufRead;
use std::time::Duration;

struct Args {
    bootstrap: String,
    topic: String,
    parse_key: bool,
    separator: String,
}

fn usage() -> ! {
    eprintln!(
        "usage: rdkafka_producer --bootstrap-server HOST:PORT --topic TOPIC \
         [--property parse.key=true] [--property key.separator=SEP]"
    );
    std::process::exit(2)
}

fn args() -> Args {
    let mut a = Args {
        bootstrap: String::new(),
        topic: String::new(),
        parse_key: false,
        separator: "\t".into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| usage());
        match flag.as_str() {
            "--bootstrap-server" => a.bootstrap = value(),
            "--topic" => a.topic = value(),
            "--property" => match value().split_once('=') {
                Some(("parse.key", v)) => a.parse_key = v == "true",
                Some(("key.separator", v)) => a.separator = v.to_owned(),
                _ => usage(),
            },
            _ => usage(),
        }
    }
    if a.bootstrap.is_empty() || a.topic.is_empty() {
        usage()
    }
    a
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a = args();
    let transport = KafkaProducer::new(&producer_config(&a.bootstrap))?;
    let producer = Producer::new(transport, StringSerde, StringSerde);
    eprintln!("> type records, one per line (Ctrl-D to end)");
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let record = match line.split_once(a.separator.as_str()) {
            Some((k, v)) if a.parse_key => {
                ProducerRecord::new(a.topic.as_str(), v.to_owned()).key(k.to_owned())
            }
            _ if a.parse_key => {
                eprintln!("No key separator found on line: {line}");
                continue;
            }
            _ => ProducerRecord::new(a.topic.as_str(), line),
        };
        let md = producer.send(record).await?;
        eprintln!(
            "sent to {}-{} at offset {}",
            md.topic, md.partition, md.offset
        );
    }
    producer.flush(Duration::from_secs(10)).await?;
    Ok(())
}
