//! The facade's names under each feature set: every schema codec brings `kcodec::registry` (its
//! constructors take an `Arc<dyn SchemaRegistry>`), the generic Avro codec's `Value` comes with
//! `kcodec::avro`, and `schemars` exposes `JsonSchema::for_type`.
//!
//! Each part compiles only with its features; `tools/test.sh` checks this file under
//! `--no-default-features` with `json-schema,clients`, with `protobuf` and with
//! `registry-http,registry-server`, so a gate that hides
//! the registry again fails to build. Only `kcodec`'s own names are used here (no direct
//! apache-avro, prost-reflect or schemars imports).

#[cfg(feature = "json-schema")]
mod json_schema {
    use kcodec::json_schema::{JsonSchema, JsonSchemaDeserializer, JsonSchemaSerializer};
    use kcodec::registry::{InMemoryRegistry, SchemaRegistry};
    use kcodec::{
        BytesMut, DeserializeContext, Headers, SerializeContext, Serialized, Target, resolve,
    };
    use serde::{Deserialize, Serialize};
    use std::sync::Arc;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Reading {
        sensor: String,
        celsius: f64,
    }

    #[tokio::test]
    async fn registry_is_there_for_json_schema() {
        let registry: Arc<dyn SchemaRegistry> = Arc::new(InMemoryRegistry::new());
        let schema = JsonSchema::parse(
            r#"{"type":"object","properties":{"sensor":{"type":"string"},"celsius":{"type":"number"}},"required":["sensor","celsius"]}"#,
        )
        .unwrap();
        let ser = JsonSchemaSerializer::<Reading>::new(registry.clone(), schema).unwrap();
        let de = JsonSchemaDeserializer::<Reading>::new(registry.clone());
        let value = Reading {
            sensor: "s1".into(),
            celsius: 21.5,
        };
        let mut headers = Headers::new();
        let mut out = BytesMut::new();
        let mut ctx = SerializeContext::new("readings", Target::Value, &mut headers);
        let written = resolve::serialize(&ser, &value, &mut ctx, &mut out)
            .await
            .unwrap();
        assert_eq!(written, Serialized::Data);
        assert_eq!(&out[..5], [0, 0, 0, 0, 1]);
        assert_eq!(
            &out[5..],
            br#"{"sensor":"s1","celsius":21.5}"#,
            "compact JSON after the prefix"
        );
        assert_eq!(registry.subjects(false).await.unwrap(), ["readings-value"]);
        let ctx = DeserializeContext::new("readings", Target::Value, &headers);
        let back: Reading = resolve::deserialize(&de, Some(&out.freeze()), &ctx)
            .await
            .unwrap();
        assert_eq!(back, value);
    }
}

#[cfg(feature = "schemars")]
mod schemars_feature {
    use kcodec::json_schema::{JsonSchema, schemars};

    #[derive(schemars::JsonSchema)]
    #[schemars(crate = "kcodec::json_schema::schemars")]
    #[allow(dead_code)]
    struct Order {
        id: i64,
        item: String,
    }

    #[test]
    fn for_type_through_the_facade() {
        let schema = JsonSchema::for_type::<Order>().unwrap();
        assert_eq!(schema.title(), Some("Order"));
        assert_eq!(schema.value()["properties"]["id"]["type"], "integer");
        assert_eq!(schema.value()["properties"]["item"]["type"], "string");
    }
}

#[cfg(feature = "protobuf")]
mod protobuf {
    use kcodec::protobuf::ProtobufDynamicDeserializer;
    use kcodec::protobuf::prost_reflect::{DynamicMessage, ReflectMessage, Value};
    use kcodec::registry::{InMemoryRegistry, Schema, SchemaRegistry};
    use kcodec::{DeserializeContext, Headers, Target, resolve};
    use std::sync::Arc;

    #[tokio::test]
    async fn registry_is_there_for_protobuf() {
        let registry = Arc::new(InMemoryRegistry::new());
        let registered = registry
            .register(
                "counts-value",
                &Schema::protobuf("syntax = \"proto3\";\nmessage Count { int64 n = 1; }\n"),
                false,
            )
            .await
            .unwrap();
        let de = ProtobufDynamicDeserializer::new(registry);
        let mut frame = vec![0];
        frame.extend_from_slice(&registered.id.to_be_bytes());
        // Message indexes [0] as the single byte 0, then field 1 (varint) = 5.
        frame.extend_from_slice(&[0x00, 0x08, 0x05]);
        let headers = Headers::new();
        let ctx = DeserializeContext::new("counts", Target::Value, &headers);
        let message: DynamicMessage = resolve::deserialize(&de, Some(&frame.into()), &ctx)
            .await
            .unwrap();
        assert_eq!(message.descriptor().full_name(), "Count");
        assert_eq!(
            message.get_field_by_name("n").as_deref(),
            Some(&Value::I64(5))
        );
    }
}

#[cfg(feature = "avro")]
mod avro {
    use kcodec::avro::{GenericAvroDeserializer, GenericAvroSerializer, ParsedSchema, Value};
    use kcodec::registry::InMemoryRegistry;
    use kcodec::{
        BytesMut, DeserializeContext, Headers, SerializeContext, Serialized, Target, resolve,
    };
    use std::sync::Arc;

    #[tokio::test]
    async fn generic_avro_needs_no_own_apache_avro() {
        let registry = Arc::new(InMemoryRegistry::new());
        let schema = ParsedSchema::parse(
            r#"{"type":"record","name":"Click","fields":[{"name":"page","type":"string"},{"name":"n","type":"int"}]}"#,
        )
        .unwrap();
        let ser = GenericAvroSerializer::new(registry.clone(), schema);
        let de = GenericAvroDeserializer::new(registry);
        let value = Value::Record(vec![
            ("page".into(), Value::String("/home".into())),
            ("n".into(), Value::Int(3)),
        ]);
        let mut headers = Headers::new();
        let mut out = BytesMut::new();
        let mut ctx = SerializeContext::new("clicks", Target::Value, &mut headers);
        let written = resolve::serialize(&ser, &value, &mut ctx, &mut out)
            .await
            .unwrap();
        assert_eq!(written, Serialized::Data);
        // Prefix, then "/home" (zig-zag length 5 = 0x0a) and int 3 (0x06).
        assert_eq!(&out[..], b"\0\0\0\0\x01\x0a/home\x06");
        let ctx = DeserializeContext::new("clicks", Target::Value, &headers);
        let back: Value = resolve::deserialize(&de, Some(&out.freeze()), &ctx)
            .await
            .unwrap();
        assert_eq!(back, value);
        // The apache_avro crate itself, in lockstep with the codec.
        let _: kcodec::avro::apache_avro::Schema = kcodec::avro::apache_avro::Schema::Int;
    }
}

/// `registry-http` and `registry-server` bring the HTTP client and the dev server under
/// `kcodec::registry`: a schema registered over HTTP is there in the server's registry.
#[cfg(all(feature = "registry-http", feature = "registry-server"))]
mod registry_http_and_server {
    use kcodec::registry::http::HttpRegistry;
    use kcodec::registry::server::{DevServer, ServerOptions};
    use kcodec::registry::{InMemoryRegistry, Schema, SchemaRegistry};
    use std::sync::Arc;

    #[tokio::test]
    async fn http_client_registers_in_the_dev_server() {
        let memory = Arc::new(InMemoryRegistry::new());
        let server = DevServer::start(
            "127.0.0.1:0".parse().unwrap(),
            memory.clone(),
            ServerOptions::default(),
        )
        .await
        .unwrap();
        let client = HttpRegistry::new(&server.url()).unwrap();
        let schema =
            Schema::avro(r#"{"type":"record","name":"A","fields":[{"name":"x","type":"int"}]}"#);
        let registered = client.register("a-value", &schema, false).await.unwrap();
        let stored = memory.latest("a-value").await.unwrap();
        assert_eq!(stored.id, registered.id);
        assert_eq!(
            client
                .schema_by_id(registered.id)
                .await
                .unwrap()
                .schema_type,
            schema.schema_type
        );
        server.shutdown().await;
    }
}
