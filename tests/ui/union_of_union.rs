#[derive(serde::Serialize, kcodec::Record)]
enum Inner {
    Text(String),
    Count(i64),
}

#[derive(serde::Serialize, kcodec::Record)]
enum Outer {
    Inner(Inner),
    Flag(bool),
}

fn main() {}
