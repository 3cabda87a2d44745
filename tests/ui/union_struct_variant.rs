#[derive(serde::Serialize, kcodec::Record)]
struct Created {
    id: String,
}

#[derive(serde::Serialize, kcodec::Record)]
enum Event {
    Created(Created),
    Cancelled { id: String },
}

fn main() {}
