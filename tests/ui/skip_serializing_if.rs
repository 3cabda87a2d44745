#[derive(serde::Serialize, kcodec::Record)]
struct Order {
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

fn main() {}
