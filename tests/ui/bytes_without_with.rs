#[derive(serde::Serialize, kcodec::Record)]
struct Upload {
    name: String,
    content: Vec<u8>,
}

fn main() {}
