mod as_text {
    pub fn serialize<S: serde::Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }
}

#[derive(serde::Serialize, kcodec::Record)]
struct Order {
    #[serde(serialize_with = "as_text::serialize")]
    amount: i64,
}

fn main() {}
