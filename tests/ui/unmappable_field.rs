struct Money;

#[derive(kcodec::Record)]
struct Order {
    amount: Money,
}

fn main() {}
