#[derive(kcodec::Record)]
struct Window<'a, const N: usize> {
    name: &'a str,
}

fn main() {}
