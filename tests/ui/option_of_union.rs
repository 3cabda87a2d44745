#[derive(serde::Serialize, kcodec::Record)]
struct Created {
    id: String,
}

#[derive(serde::Serialize, kcodec::Record)]
enum Event {
    Created(Created),
    Count(i64),
}

#[derive(serde::Serialize, kcodec::Record)]
struct Envelope {
    event: Option<Event>,
}

fn main() {}
