#[derive(serde::Serialize, kcodec::Record)]
enum Number {
    Small(i32),
    Unsigned(u16),
}

fn main() {}
