#[derive(kcodec::Record)]
struct Order {
    #[record(key)]
    lines: Vec<String>,
}

fn main() {}
