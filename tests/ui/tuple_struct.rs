#[derive(kcodec::Record)]
struct Point(i32, i32);

fn main() {}
