#[derive(serde::Serialize, kcodec::Record)]
struct Event {
    id: String,
    at: chrono::DateTime<chrono::Utc>,
}

fn main() {}
