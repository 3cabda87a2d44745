#[derive(kcodec::Record)]
enum Event {
    Created { id: String },
}

fn main() {}
