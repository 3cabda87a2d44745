#[derive(kcodec::Record)]
struct Order {
    #[record(default = "EUR")]
    currency: String,
}

fn main() {}
