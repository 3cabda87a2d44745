#[derive(serde::Serialize, kcodec::Record)]
#[serde(rename_all = "kebab-case")]
struct Order {
    order_id: String,
}

fn main() {}
