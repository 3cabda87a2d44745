//! Times the compatibility checks of issue 16's fan-out schemas:
//! `cargo run --release -p kcodec-registry --example fanout -- [json-levels] [avro-levels]`.

#[path = "../tests/hostile/schemas.rs"]
mod schemas;

use kcodec_registry::Schema;
use kcodec_registry::compat::{Level, compatibility_errors};
use std::time::Instant;

fn time(what: &str, old: Schema, new: Schema) {
    let start = Instant::now();
    let result = compatibility_errors(&old, &new, Level::Full);
    let elapsed = start.elapsed();
    let outcome = match &result {
        Ok(messages) => format!(
            "{} messages, {} bytes",
            messages.len(),
            messages.iter().map(String::len).sum::<usize>()
        ),
        Err(e) => format!("error: {e}"),
    };
    println!(
        "{what} ({} + {} bytes): {:.3} ms, {outcome}",
        old.schema.len(),
        new.schema.len(),
        elapsed.as_secs_f64() * 1e3
    );
}

fn main() {
    let mut args = std::env::args()
        .skip(1)
        .map(|a| a.parse::<usize>().expect("a number"));
    let json = args.next().unwrap_or(40);
    let avro = args.next().unwrap_or(19);
    time(
        &format!("JSON Schema fan-out, {json} levels"),
        Schema::json(schemas::json_fanout(json, "string")),
        Schema::json(schemas::json_fanout(json, "integer")),
    );
    time(
        &format!("Avro double reference, {avro} levels"),
        Schema::avro(schemas::avro_double_reference(avro, "int")),
        Schema::avro(schemas::avro_double_reference(avro, "string")),
    );
}
