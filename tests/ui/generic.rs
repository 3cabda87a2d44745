#[derive(kcodec::Record)]
struct Envelope<T> {
    payload: T,
}

fn main() {}
