#[derive(serde::Serialize, kcodec::Record)]
struct Order {
    id: String,
    #[serde(flatten)]
    extra: std::collections::HashMap<String, String>,
}

fn main() {}
