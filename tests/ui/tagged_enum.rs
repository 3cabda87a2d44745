#[derive(serde::Serialize, kcodec::Record)]
#[serde(tag = "kind")]
enum Event {
    Created,
}

fn main() {}
