//! Fuzzes the Protobuf deserializers: the typed one (a generated message with a map, oneof,
//! nested and imported messages, a Timestamp) and the dynamic one (writer schema by id, message
//! by index, to `DynamicMessage` and to proto3 JSON), framed by prefix or by schema-id header.
#![no_main]

use kcodec_codecs::protobuf::{
    ProtobufDeserializer, ProtobufDynamicDeserializer, ProtobufSchema,
};
use kcodec_codecs::wire::{self, SchemaId};
use kcodec_codecs::{DeserializeContext, Deserializer, Headers, Target};
use kcodec_test_proto::oracle::{Order, Scalars};
use libfuzzer_sys::fuzz_target;
use prost_reflect::{DescriptorPool, DynamicMessage};
use std::sync::{Arc, OnceLock};

fn dynamic() -> &'static ProtobufDynamicDeserializer {
    static D: OnceLock<ProtobufDynamicDeserializer> = OnceLock::new();
    D.get_or_init(|| {
        let registry = Arc::new(kcodec_registry::InMemoryRegistry::new());
        let d = ProtobufDynamicDeserializer::new(registry);
        let pool = DescriptorPool::decode(kcodec_test_proto::FILE_DESCRIPTOR_SET).unwrap();
        for (id, name) in [(1, "kcodec/oracle/order.proto"), (2, "kcodec/oracle/shapes.proto")] {
            let file = pool.get_file_by_name(name).unwrap();
            d.insert_schema(SchemaId::Id(id), ProtobufSchema::from_file(file));
        }
        d
    })
}

fn run(data: &[u8], headers: &Headers) {
    let ctx = DeserializeContext::new("fuzz", Target::Value, headers);
    let _: Result<Order, _> = ProtobufDeserializer::<Order>::new().deserialize(Some(data), &ctx);
    let _: Result<Option<Scalars>, _> =
        ProtobufDeserializer::<Scalars>::new().deserialize(Some(data), &ctx);
    let d = dynamic();
    let _: Result<DynamicMessage, _> = d.deserialize(Some(data), &ctx);
    let _: Result<serde_json::Value, _> = d.deserialize(Some(data), &ctx);
}

fuzz_target!(|data: &[u8]| {
    run(data, &Headers::new());
    // The same bytes as a schema-id header value and payload, split where the first byte says.
    if let Some((&split, rest)) = data.split_first() {
        let at = usize::from(split).min(rest.len());
        let (header, payload) = rest.split_at(at);
        let mut headers = Headers::new();
        headers.add(wire::VALUE_SCHEMA_ID_HEADER, header.to_vec());
        run(payload, &headers);
    }
});
