#[derive(kcodec::Record)]
struct Order {
    #[record(key)]
    id: String,
    #[record(key)]
    customer: String,
}

fn main() {}
