//! The dev registry server with kcodec's Protobuf format conversion: Confluent's Python client
//! registers and reads schemas through it (`?format=serialized`), including a schema registered
//! as `.proto` text, and kcodec reads the Python client's frames through the HTTP client.
#![cfg(feature = "protobuf-server")]

#[path = "support/python.rs"]
mod python;

use kcodec_codecs::protobuf::{
    ProtobufDynamicDeserializer, ProtobufSchema, ProtobufServerFormat, file_to_proto_text,
};
use kcodec_codecs::{DeserializeContext, Headers, Target, resolve};
use kcodec_registry::http::HttpRegistry;
use kcodec_registry::server::{DevServer, ProtobufFormat, ServerOptions};
use kcodec_registry::{InMemoryRegistry, Schema, SchemaReference, SchemaRegistry};
use prost_reflect::DescriptorPool;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

fn pool() -> DescriptorPool {
    DescriptorPool::decode(kcodec_test_proto::FILE_DESCRIPTOR_SET).unwrap()
}

#[test]
fn format_hook_converts_text_and_base64_both_ways() {
    let pool = pool();
    let order = pool.get_file_by_name("kcodec/oracle/order.proto").unwrap();
    let common = pool.get_file_by_name("kcodec/oracle/common.proto").unwrap();
    let references: BTreeMap<String, Schema> = [(
        "kcodec/oracle/common.proto".to_owned(),
        Schema::protobuf(file_to_proto_text(common.file_descriptor_proto())),
    )]
    .into();
    let text = Schema::protobuf(file_to_proto_text(order.file_descriptor_proto()));
    let serialized = ProtobufServerFormat
        .format(&text, &references, "serialized")
        .unwrap();
    let back = ProtobufSchema::parse(&serialized, &references).unwrap();
    assert_eq!(
        back.message_at(&[0, 0]).unwrap().full_name(),
        "kcodec.oracle.Order.Line"
    );
    // base64 in, text out: the text compiles to the same messages.
    let as_text = ProtobufServerFormat
        .format(&Schema::protobuf(serialized), &references, "default")
        .unwrap();
    assert!(as_text.contains("message Order {"), "{as_text}");
    assert!(as_text.contains("import \"kcodec/oracle/common.proto\";"));
    let err = ProtobufServerFormat
        .format(
            &Schema::protobuf("message {"),
            &BTreeMap::new(),
            "serialized",
        )
        .unwrap_err();
    assert_eq!(err.error_code(), 42201, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_client_through_the_dev_server() {
    let Some(python) = python::python("python_client_through_the_dev_server") else {
        return;
    };
    let server = DevServer::start(
        "127.0.0.1:0".parse().unwrap(),
        Arc::new(InMemoryRegistry::new()),
        ServerOptions {
            protobuf_format: Arc::new(ProtobufServerFormat),
            ..ServerOptions::default()
        },
    )
    .await
    .unwrap();
    let url = server.url();
    let registry: Arc<dyn SchemaRegistry> = Arc::new(HttpRegistry::new(&url).unwrap());

    // kcodec registers Order's import and Order itself as .proto TEXT; the Python client then
    // reads frames naming that schema, which only works if the server serves `format=serialized`.
    let pool = pool();
    let common = pool.get_file_by_name("kcodec/oracle/common.proto").unwrap();
    let order = pool.get_file_by_name("kcodec/oracle/order.proto").unwrap();
    let common_reg = registry
        .register(
            "kcodec/oracle/common.proto",
            &Schema::protobuf(file_to_proto_text(common.file_descriptor_proto())),
            false,
        )
        .await
        .unwrap();
    let order_reg = registry
        .register(
            "text-value",
            &Schema::protobuf(file_to_proto_text(order.file_descriptor_proto())).with_references(
                vec![SchemaReference {
                    name: "kcodec/oracle/common.proto".into(),
                    subject: "kcodec/oracle/common.proto".into(),
                    version: common_reg.version,
                }],
            ),
            false,
        )
        .await
        .unwrap();
    // Order{id:"t", tags:["a"]}: 0a 01 74 42 01 61. The Python deserializer fetches the writer
    // schema with `format=serialized` and fails if it gets text.
    let proto_dir = python::root().join("tools/oracle/proto");
    let frame = format!("00{:08x}000a0174420161", order_reg.id);
    let answer = python::oracle(
        &python,
        &json!({"op": "decode", "format": "protobuf", "topic": "text", "is_key": false,
                "registry_url": url, "frames": [{"hex": frame, "headers": {}}],
                "message": "kcodec.oracle.Order", "proto_dir": proto_dir}),
    );
    assert_eq!(
        answer["values"][0],
        json!({"id": "t", "tags": ["a"]}),
        "{answer}"
    );
    // Before reading, the Python client registered the same file under the same subject as its
    // base64 descriptor (and its import under the import's subject): the registry knows both as
    // the schemas kcodec registered as text, so no version was added.
    assert_eq!(
        registry.versions("text-value", false).await.unwrap(),
        vec![1]
    );
    assert_eq!(
        registry
            .versions("kcodec/oracle/common.proto", false)
            .await
            .unwrap(),
        vec![1]
    );

    // The Python client registers (base64, with its import as a reference) and writes; kcodec
    // reads the frame through the HTTP client, from the writer schema alone.
    let answer = python::oracle(
        &python,
        &json!({"op": "encode", "format": "protobuf", "topic": "py", "is_key": false,
                "registry_url": url, "proto_dir": proto_dir, "message": "kcodec.oracle.Order",
                "values": [{"id": "p", "shipTo": {"city": "Oslo"}, "attributes": {"k": "v"}}],
                "config": {}}),
    );
    let hex = answer["frames"][0]["hex"]
        .as_str()
        .unwrap_or_else(|| panic!("{answer}"));
    let bytes = bytes::Bytes::from(hex::decode(hex).unwrap());
    let dynamic = ProtobufDynamicDeserializer::new(registry.clone());
    let headers = Headers::new();
    let ctx = DeserializeContext::new("py", Target::Value, &headers);
    let got: Value = resolve::deserialize(&dynamic, Some(&bytes), &ctx)
        .await
        .unwrap();
    assert_eq!(
        got,
        json!({"id": "p", "shipTo": {"city": "Oslo"}, "attributes": {"k": "v"}})
    );
    let registered = registry.latest("py-value").await.unwrap();
    assert_eq!(
        registered.schema.references[0].subject,
        "kcodec/oracle/common.proto"
    );
    // And the Python client reads its own frame back through the server (format=serialized).
    let answer = python::oracle(
        &python,
        &json!({"op": "decode", "format": "protobuf", "topic": "py", "is_key": false,
                "registry_url": url, "frames": [{"hex": hex, "headers": {}}],
                "message": "kcodec.oracle.Order", "proto_dir": proto_dir}),
    );
    assert_eq!(
        answer["values"][0]["shipTo"],
        json!({"city": "Oslo"}),
        "{answer}"
    );
    server.shutdown().await;
}
