//! A console consumer over rdkafka, like `kafka-console-consumer`.
//!
//! ```sh
//! cargo run --example rdkafka_consumer --features rdkafka -- \
//!     --bootstrap-server localhost:9092 --topic orders --from-beginning \
//!     --property print.key=true [--group billing] [--max-messages 10]
//! ```
//!
//! Keys and values are read as UTF-8 strings (null shown as `null`). Without `--group` it
//! joins a fresh group `console-consumer-<pid>`, as Kafka's console consumer does, and commits
//! nothing (auto-commit off). With `--group` it commits after each record.

use kcodec::clients::kafka::{KafkaConsumer, consumer_config};
use kcodec::prelude::*;

struct Args {
    bootstrap: String,
    topic: String,
    group: String,
    from_beginning: bool,
    print_key: bool,
    max: Option<u64>,
    commit: bool,
}

fn usage() -> ! {
    eprintln!(
        "usage: rdkafka_consumer --bootstrap-server HOST:PORT --topic TOPIC [--group GROUP] \
         [--from-beginning] [--property print.key=true] [--max-messages N]"
    );
    std::process::exit(2)
}

fn args() -> Args {
    let mut a = Args {
        bootstrap: String::new(),
        topic: String::new(),
        group: format!("console-consumer-{}", std::process::id()),
        from_beginning: false,
        print_key: false,
        max: None,
        commit: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| usage());
        match flag.as_str() {
            "--bootstrap-server" => a.bootstrap = value(),
            "--topic" => a.topic = value(),
            "--group" => {
                a.group = value();
                a.commit = true;
            }
            "--from-beginning" => a.from_beginning = true,
            "--max-messages" => a.max = Some(value().parse().unwrap_or_else(|_| usage())),
            "--property" => match value().split_once('=') {
                Some(("print.key", v)) => a.print_key = v == "true",
                Some(("print.value", _)) => {}
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
    let mut config = consumer_config(&a.bootstrap, &a.group);
    config.set(
        "auto.offset.reset",
        if a.from_beginning {
            "earliest"
        } else {
            "latest"
        },
    );
    // Commits are explicit (after each record, with `--group`); the fresh group commits none.
    config.set("enable.auto.commit", "false");
    let mut consumer: Consumer<Option<String>, Option<String>, _> =
        Consumer::new(KafkaConsumer::new(&config)?, StringSerde, StringSerde);
    consumer.subscribe(&[a.topic.as_str()])?;
    let mut n = 0u64;
    while a.max.is_none_or(|m| n < m) {
        let r = consumer.recv().await?;
        let show = |s: &Option<String>| s.clone().unwrap_or_else(|| "null".into());
        if a.print_key {
            println!("{}\t{}", show(&r.key), show(&r.value));
        } else {
            println!("{}", show(&r.value));
        }
        if a.commit {
            consumer.commit_record(&r).await?;
        }
        n += 1;
    }
    eprintln!("Processed a total of {n} messages");
    Ok(())
}
