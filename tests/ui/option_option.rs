#[derive(serde::Serialize, kcodec::Record)]
struct Reading {
    value: Option<Option<i64>>,
}

fn main() {}
