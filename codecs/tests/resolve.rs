//! The sync-codec / async-resolve protocol: a codec reports what it lacks, the async helpers
//! resolve it once and retry, and later calls stay on the sync path.

use bytes::{BufMut, Bytes, BytesMut};
use kcodec_codecs::resolve::{self, ResolveFuture};
use kcodec_codecs::wire::{self, SchemaId};
use kcodec_codecs::{
    DeserializeContext, Error, Headers, SerializeContext, Serialized, Serializer, Target,
    Unresolved, builtin::StringSerde,
};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A toy schema codec: frames a string with the id of its topic's "schema", which it must fetch.
#[derive(Default)]
struct Toy {
    ids: Mutex<HashMap<String, u32>>,
    fetches: AtomicUsize,
}

impl Serializer<str> for Toy {
    fn serialize(
        &self,
        v: &str,
        ctx: &mut SerializeContext<'_>,
        out: &mut BytesMut,
    ) -> Result<Serialized, Error> {
        let Some(&id) = self.ids.lock().unwrap().get(ctx.topic()) else {
            return Err(Error::Unresolved(Unresolved::WriterSchema {
                topic: ctx.topic().to_owned(),
                target: ctx.target(),
                subject: None,
            }));
        };
        wire::write_prefix(out, SchemaId::Id(id));
        out.put_slice(v.as_bytes());
        Ok(Serialized::Data)
    }

    fn resolve<'a>(&'a self, need: &'a Unresolved) -> ResolveFuture<'a> {
        Box::pin(async move {
            let Unresolved::WriterSchema { topic, .. } = need else {
                return Err(Error::CannotResolve(need.clone()));
            };
            tokio::task::yield_now().await; // stands for registry I/O
            self.fetches.fetch_add(1, Ordering::SeqCst);
            self.ids
                .lock()
                .unwrap()
                .insert(topic.clone(), topic.len() as u32);
            Ok(())
        })
    }
}

#[tokio::test]
async fn async_helper_resolves_once_then_the_sync_path_serves() {
    let toy = Toy::default();
    let mut headers = Headers::new();
    let mut out = BytesMut::new();
    out.put_slice(b"keep"); // the helper must not clobber what the caller had in the buffer
    let mut ctx = SerializeContext::new("orders", Target::Value, &mut headers);
    // The sync call alone reports what is missing, naming it.
    let err = toy.serialize("x", &mut ctx, &mut out).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the value schema for topic 'orders' is not resolved yet: resolve it asynchronously before encoding or decoding"
    );
    for _ in 0..3 {
        let written = resolve::serialize(&toy, "hi", &mut ctx, &mut out)
            .await
            .unwrap();
        assert_eq!(written, Serialized::Data);
    }
    assert_eq!(
        toy.fetches.load(Ordering::SeqCst),
        1,
        "resolved once, then cached"
    );
    assert_eq!(&out[..4], b"keep");
    assert_eq!(&out[4..13], [0, 0, 0, 0, 6, b'h', b'i', 0, 0]);
}

#[tokio::test]
async fn codecs_without_schemas_cannot_resolve() {
    let need = Unresolved::Schema(SchemaId::Id(7));
    let err = <StringSerde as Serializer<str>>::resolve(&StringSerde, &need)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "this codec cannot resolve what was asked: schema id 7 is not loaded yet"
    );
    // A deserializer that keeps asking is cut off instead of looping forever.
    let always = |_: Option<&[u8]>, _: &DeserializeContext<'_>| -> Result<String, Error> {
        Err(Error::Unresolved(Unresolved::Schema(SchemaId::Id(7))))
    };
    let headers = Headers::new();
    let ctx = DeserializeContext::new("t", Target::Key, &headers);
    let err = resolve::deserialize::<String, _>(&always, Some(&Bytes::from_static(b"x")), &ctx)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::CannotResolve(Unresolved::Schema(SchemaId::Id(7)))
        ),
        "{err}"
    );
}
