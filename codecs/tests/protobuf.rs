//! Protobuf schemas: message indexes from descriptors, registry schema parsing, and the
//! descriptor → `.proto` printer's round trip.
#![cfg(feature = "protobuf")]

use kcodec_codecs::protobuf::{
    ProtobufError, ProtobufSchema, file_descriptor_bytes, file_to_base64, file_to_proto_text,
    message_at, message_indexes,
};
use kcodec_registry::Schema;
use kcodec_test_proto::oracle::{Order, Scalars, Second, common::Address, order, scalars, second};
use prost_reflect::{DescriptorPool, ReflectMessage};
use std::collections::BTreeMap;

fn pool() -> DescriptorPool {
    DescriptorPool::decode(kcodec_test_proto::FILE_DESCRIPTOR_SET).unwrap()
}

#[test]
fn message_indexes_follow_the_descriptor_path() {
    let cases: Vec<(prost_reflect::MessageDescriptor, Vec<i32>)> = vec![
        (Scalars::default().descriptor(), vec![0]),
        (scalars::Inner::default().descriptor(), vec![0, 0]),
        (Second::default().descriptor(), vec![1]),
        (second::Mid::default().descriptor(), vec![1, 0]),
        (second::mid::Deep::default().descriptor(), vec![1, 0, 0]),
        (Order::default().descriptor(), vec![0]),
        (order::Line::default().descriptor(), vec![0, 0]),
        (Address::default().descriptor(), vec![0]),
    ];
    for (desc, want) in cases {
        assert_eq!(
            &message_indexes(&desc)[..],
            &want[..],
            "{}",
            desc.full_name()
        );
        let back = message_at(&desc.parent_file(), &want).unwrap();
        assert_eq!(back.full_name(), desc.full_name());
    }
    // Map entries count as nested types, as in Confluent's clients: Order's second nested type.
    let file = Order::default().descriptor().parent_file();
    assert_eq!(
        message_at(&file, &[0, 1]).unwrap().full_name(),
        "kcodec.oracle.Order.AttributesEntry"
    );
    for bad in [&[][..], &[1], &[0, 2], &[0, 0, 0], &[-1], &[i32::MAX]] {
        assert!(message_at(&file, bad).is_none(), "{bad:?}");
    }
}

#[test]
fn registered_descriptor_matches_the_python_clients_bytes() {
    // The Python client registers base64(FileDescriptorProto.serialized_pb); ours, built by protox
    // from the same .proto files, must be byte-identical.
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/oracle/protobuf"
    );
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let fixture: serde_json::Value =
            serde_json::from_slice(&std::fs::read(entry.unwrap().path()).unwrap()).unwrap();
        let file = pool()
            .get_file_by_name(fixture["proto_file"].as_str().unwrap())
            .unwrap();
        assert_eq!(
            file_to_base64(&file),
            fixture["schema"].as_str().unwrap(),
            "{}",
            fixture["case"]
        );
        for reference in fixture["references"].as_array().unwrap() {
            let file = pool()
                .get_file_by_name(reference["name"].as_str().unwrap())
                .unwrap();
            assert_eq!(file_to_base64(&file), reference["schema"].as_str().unwrap());
        }
        checked += 1;
    }
    assert!(checked >= 8, "only {checked} fixtures");
}

fn refs(pairs: &[(&str, String)]) -> BTreeMap<String, Schema> {
    pairs
        .iter()
        .map(|(name, text)| (name.to_string(), Schema::protobuf(text.clone())))
        .collect()
}

#[test]
fn parses_base64_and_text_schemas_with_references() {
    let pool = pool();
    let order = pool.get_file_by_name("kcodec/oracle/order.proto").unwrap();
    let common = pool.get_file_by_name("kcodec/oracle/common.proto").unwrap();
    // base64 root and reference, as the Python client registers them.
    let references = refs(&[("kcodec/oracle/common.proto", file_to_base64(&common))]);
    let schema = ProtobufSchema::parse(&file_to_base64(&order), &references).unwrap();
    assert_eq!(schema.file().name(), "kcodec/oracle/order.proto");
    assert_eq!(
        file_descriptor_bytes(schema.file()),
        file_descriptor_bytes(&order)
    );
    assert_eq!(
        schema.message_at(&[0, 0]).unwrap().full_name(),
        "kcodec.oracle.Order.Line"
    );
    // Text root and text reference, as Confluent's server returns them.
    let references = refs(&[(
        "kcodec/oracle/common.proto",
        file_to_proto_text(common.file_descriptor_proto()),
    )]);
    let text = file_to_proto_text(order.file_descriptor_proto());
    let schema = ProtobufSchema::parse(&text, &references).unwrap();
    let mut want = order.file_descriptor_proto().clone();
    want.name = Some(kcodec_codecs::protobuf::DEFAULT_FILE_NAME.to_owned());
    want.source_code_info = None;
    let mut got = schema.file().file_descriptor_proto().clone();
    got.source_code_info = None;
    assert_eq!(got, want);
}

#[test]
fn a_missing_reference_or_bad_schema_is_a_typed_error() {
    let pool = pool();
    let order = pool.get_file_by_name("kcodec/oracle/order.proto").unwrap();
    let err = ProtobufSchema::parse(&file_to_base64(&order), &BTreeMap::new()).unwrap_err();
    assert!(matches!(err, ProtobufError::Compile { .. }), "{err:?}");
    assert!(std::error::Error::source(&err).is_some());

    let err =
        ProtobufSchema::parse("syntax = \"proto3\"; message {", &BTreeMap::new()).unwrap_err();
    assert!(matches!(err, ProtobufError::Compile { .. }), "{err:?}");
    // Valid base64 that is no FileDescriptorProto.
    let err = ProtobufSchema::parse("//////8=", &BTreeMap::new()).unwrap_err();
    assert!(
        matches!(err, ProtobufError::BadDescriptor { .. }),
        "{err:?}"
    );
    let schema =
        ProtobufSchema::parse_text("a.proto", "syntax = \"proto3\"; message A {}").unwrap();
    let err = schema.message_at(&[3]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "message indexes [3] point at no message in schema file 'a.proto'"
    );
}

/// Printing every compiled file (including Google's) and compiling the text again gives the same
/// descriptor.
#[test]
fn printer_round_trips_every_file() {
    let pool = pool();
    let mut printed: BTreeMap<String, String> = BTreeMap::new();
    for file in pool.files() {
        printed.insert(
            file.name().to_owned(),
            file_to_proto_text(file.file_descriptor_proto()),
        );
    }
    for file in pool.files() {
        let references: BTreeMap<String, Schema> = printed
            .iter()
            .filter(|(name, _)| *name != file.name() && !name.starts_with("google/"))
            .map(|(name, text)| (name.clone(), Schema::protobuf(text.clone())))
            .collect();
        let text = &printed[file.name()];
        let schema = ProtobufSchema::parse(text, &references)
            .unwrap_or_else(|e| panic!("{}: {e:?}\n{text}", file.name()));
        let mut want = file.file_descriptor_proto().clone();
        want.source_code_info = None;
        want.name = None;
        let mut got = schema.file().file_descriptor_proto().clone();
        got.source_code_info = None;
        got.name = None;
        assert_eq!(got, want, "{}:\n{text}", file.name());
    }
}

#[test]
fn printer_output_reads_like_the_source() {
    let file = pool()
        .get_file_by_name("kcodec/test/features.proto")
        .unwrap();
    let text = file_to_proto_text(file.file_descriptor_proto());
    for line in [
        "syntax = \"proto2\";",
        "package kcodec.test;",
        "import \"google/protobuf/duration.proto\";",
        "option java_package = \"dev.kcodec.test\";",
        "  required string id = 1;",
        "  optional int32 count = 2 [default = -7];",
        "  optional string label = 3 [default = \"say \\\"hi\\\"\\n\\ttab\"];",
        "  optional string renamed = 9 [json_name = \"otherName\", deprecated = true];",
        "  map<string, .kcodec.test.Features> children = 10;",
        "  optional group Item = 11 {",
        "  oneof choice {",
        "    reserved 5, 10 to 20, 100 to max;",
        "  extensions 100 to 199;",
        "  extensions 1000 to max;",
        "  reserved \"gone\", \"also_gone\";",
        "extend .kcodec.test.Features {",
        "  rpc Watch(stream .kcodec.test.Features) returns (stream .kcodec.test.Features) {",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in:\n{text}"
        );
    }
}

mod codec {
    use bytes::BytesMut;
    use kcodec_codecs::protobuf::{
        ProtobufDeserializer, ProtobufDynamicDeserializer, ProtobufError, ProtobufSchema,
        ProtobufSerializer, ProtobufSerializerConfig,
    };
    use kcodec_codecs::subject::SchemaIdFormat;
    use kcodec_codecs::wire::SchemaId;
    use kcodec_codecs::{
        DeserializeContext, Deserializer, Error, Headers, SerializeContext, Serialized, Serializer,
        Target, Unresolved, resolve, testing,
    };
    use kcodec_registry::strategy::RecordNameStrategy;
    use kcodec_registry::{InMemoryRegistry, SchemaRegistry};
    use kcodec_test_proto::oracle::{Order, Scalars, Second, order, scalars, second};
    use proptest::prelude::*;
    use prost::Message;
    use prost_reflect::{DynamicMessage, ReflectMessage};
    use std::sync::Arc;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
    }

    fn dynamic_with(schema_file: &str, id: u32) -> ProtobufDynamicDeserializer {
        let d = ProtobufDynamicDeserializer::new(Arc::new(InMemoryRegistry::new()));
        let file = super::pool().get_file_by_name(schema_file).unwrap();
        d.insert_schema(SchemaId::Id(id), ProtobufSchema::from_file(file));
        d
    }

    #[test]
    fn encode_is_prefix_indexes_then_prost_bytes_and_null_is_a_tombstone() {
        let registry = Arc::new(InMemoryRegistry::new());
        let ser = ProtobufSerializer::<second::mid::Deep>::new(registry.clone());
        assert_eq!(ser.message_indexes(), &[1, 0, 0]);
        let value = second::mid::Deep { note: "n".into() };
        // Not resolved yet: the sync call names the subject.
        let err = testing::encode(&ser, &value).unwrap_err();
        assert!(
            matches!(&err, Error::Unresolved(Unresolved::WriterSchema { subject: Some(s), .. }) if s == "test-value"),
            "{err:?}"
        );
        rt().block_on(async {
            let mut headers = Headers::new();
            let mut out = BytesMut::from(&b"keep"[..]);
            let mut ctx = SerializeContext::new("test", Target::Value, &mut headers);
            let w = resolve::serialize(&ser, &value, &mut ctx, &mut out)
                .await
                .unwrap();
            assert_eq!(w, Serialized::Data);
            let mut want = b"keep\x00\x00\x00\x00\x01\x06\x02\x00\x00".to_vec();
            want.extend(value.encode_to_vec());
            assert_eq!(&out[..], &want[..]);
            let none: Option<second::mid::Deep> = None;
            assert_eq!(
                ser.serialize(&none, &mut ctx, &mut out).unwrap(),
                Serialized::Null
            );
            assert_eq!(&out[..], &want[..], "null appends nothing");
        });
        let back: Option<second::mid::Deep> =
            testing::decode(&ProtobufDeserializer::new(), None).unwrap();
        assert_eq!(back, None);
        let err = testing::decode::<second::mid::Deep, _>(&ProtobufDeserializer::new(), None)
            .unwrap_err();
        assert!(matches!(err, Error::UnexpectedNull { .. }));
    }

    #[test]
    fn dynamic_messages_encode_like_generated_ones_and_other_types_are_refused() {
        let registry = Arc::new(InMemoryRegistry::new());
        let typed = ProtobufSerializer::<second::mid::Deep>::new(registry.clone());
        let descriptor = second::mid::Deep::default().descriptor();
        let dynamic = ProtobufSerializer::<DynamicMessage>::for_descriptor(
            registry.clone(),
            descriptor.clone(),
            ProtobufSerializerConfig::new(),
        )
        .unwrap();
        assert_eq!(dynamic.message_indexes(), typed.message_indexes());
        let value = second::mid::Deep { note: "n".into() };
        let mut as_dynamic = DynamicMessage::new(descriptor);
        as_dynamic.transcode_from(&value).unwrap();
        rt().block_on(async {
            let mut headers = Headers::new();
            let mut ctx = SerializeContext::new("dyn", Target::Value, &mut headers);
            let mut from_typed = BytesMut::new();
            let written = resolve::serialize(&typed, &value, &mut ctx, &mut from_typed)
                .await
                .unwrap();
            assert_eq!(written, Serialized::Data);
            let mut from_dynamic = BytesMut::new();
            let written = resolve::serialize(&dynamic, &as_dynamic, &mut ctx, &mut from_dynamic)
                .await
                .unwrap();
            assert_eq!(written, Serialized::Data);
            assert_eq!(
                from_dynamic, from_typed,
                "same schema id, indexes and payload"
            );
            let other = DynamicMessage::new(Order::default().descriptor());
            let err = dynamic
                .serialize(&other, &mut ctx, &mut from_dynamic)
                .unwrap_err();
            assert!(
                err.to_string().contains("expected a")
                    && err
                        .to_string()
                        .contains(Order::default().descriptor().full_name()),
                "{err}"
            );
        });
    }

    #[test]
    fn preloaded_ids_frame_without_the_registry() {
        let registry = Arc::new(InMemoryRegistry::new());
        let ser = ProtobufSerializer::<second::mid::Deep>::new(registry.clone());
        ser.preload(testing::TOPIC, Target::Value, SchemaId::Id(7))
            .unwrap();
        let value = second::mid::Deep { note: "n".into() };
        let out = testing::encode(&ser, &value).unwrap().unwrap();
        let mut want = b"\x00\x00\x00\x00\x07\x06\x02\x00\x00".to_vec();
        want.extend(value.encode_to_vec());
        assert_eq!(
            &out[..],
            &want[..],
            "the preloaded id, then the indexes [1, 0, 0]"
        );
        assert!(registry_is_empty(&registry));
        let header = ProtobufSerializer::<second::mid::Deep>::with_config(
            registry.clone(),
            ProtobufSerializerConfig::new().schema_id_format(SchemaIdFormat::Header),
        )
        .unwrap();
        let err = header
            .preload("t", Target::Value, SchemaId::Id(7))
            .unwrap_err();
        assert!(
            matches!(&err, Error::Protobuf(e) if matches!(**e, ProtobufError::NoGuid(7))),
            "{err:?}"
        );
    }

    fn registry_is_empty(registry: &InMemoryRegistry) -> bool {
        rt().block_on(registry.subjects(false)).unwrap().is_empty()
    }

    #[test]
    fn record_strategy_uses_the_message_full_name_and_header_mode_puts_guid_and_indexes() {
        let registry = Arc::new(InMemoryRegistry::new());
        let ser = ProtobufSerializer::<scalars::Inner>::with_config(
            registry.clone(),
            ProtobufSerializerConfig::new()
                .subject_name_strategy(RecordNameStrategy)
                .schema_id_format(SchemaIdFormat::Header),
        )
        .unwrap();
        rt().block_on(async {
            let mut headers = Headers::new();
            let mut out = BytesMut::new();
            let mut ctx = SerializeContext::new("t", Target::Key, &mut headers);
            let value = scalars::Inner {
                label: "l".into(),
                delta: -1,
            };
            let _ = resolve::serialize(&ser, &value, &mut ctx, &mut out)
                .await
                .unwrap();
            assert_eq!(
                &out[..],
                &value.encode_to_vec()[..],
                "no prefix in header mode"
            );
            let registered = registry
                .latest("kcodec.oracle.Scalars.Inner")
                .await
                .unwrap();
            let header = headers.last("__key_schema_id").unwrap();
            let mut want = vec![1];
            want.extend(registered.guid.unwrap().as_bytes());
            want.extend([4, 0, 0]);
            assert_eq!(&header[..], &want[..]);
            // Both deserializers read the header form.
            let ctx = DeserializeContext::new("t", Target::Key, &headers);
            let typed: scalars::Inner = ProtobufDeserializer::new()
                .deserialize(Some(&out), &ctx)
                .unwrap();
            assert_eq!(typed, value);
            let dynamic = ProtobufDynamicDeserializer::new(registry.clone());
            let bytes = bytes::Bytes::from(out.to_vec());
            let d: DynamicMessage = resolve::deserialize(&dynamic, Some(&bytes), &ctx)
                .await
                .unwrap();
            assert_eq!(d.transcode_to::<scalars::Inner>().unwrap(), value);
        });
        assert!(
            ProtobufSerializerConfig::new()
                .use_latest_version(true)
                .check()
                .is_err()
        );
    }

    #[test]
    fn bad_frames_and_payloads_are_typed_errors() {
        let typed = ProtobufDeserializer::<Order>::new();
        let dynamic = dynamic_with("kcodec/oracle/order.proto", 1);
        let cases: Vec<(&[u8], &str)> = vec![
            (b"", "empty data"),
            (b"\x07\x00\x00\x00\x01\x00", "bad magic"),
            (b"\x00\x00\x00", "truncated schema id"),
            (b"\x00\x00\x00\x00\x01", "truncated varint"),
            (b"\x00\x00\x00\x00\x01\x7f", "message index count"),
            (b"\x00\x00\x00\x00\x01\x00\x0a\x05ab", "does not decode"),
            (
                b"\x00\x00\x00\x00\x01\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",
                "does not decode",
            ),
        ];
        let headers = Headers::new();
        let ctx = DeserializeContext::new("t", Target::Value, &headers);
        for (data, want) in cases {
            let err = Deserializer::<Order>::deserialize(&typed, Some(data), &ctx).unwrap_err();
            assert!(err.to_string().contains(want), "{data:?}: {err}");
            let err = Deserializer::<DynamicMessage>::deserialize(&dynamic, Some(data), &ctx)
                .unwrap_err();
            assert!(err.to_string().contains(want), "{data:?}: {err}");
        }
        // Indexes that point at no message.
        for indexes in [&b"\x02\x02"[..], b"\x04\x00\x06", b"\x06\x00\x00\x00"] {
            let mut data = b"\x00\x00\x00\x00\x01".to_vec();
            data.extend_from_slice(indexes);
            let err = Deserializer::<DynamicMessage>::deserialize(&dynamic, Some(&data), &ctx)
                .unwrap_err();
            let Error::Protobuf(inner) = &err else {
                panic!("{err:?}")
            };
            assert!(
                matches!(**inner, ProtobufError::NoMessageAtIndexes { .. }),
                "{err}"
            );
        }
        // An unknown id asks to be resolved; an id the registry lacks fails resolving, typed.
        let err = Deserializer::<DynamicMessage>::deserialize(
            &dynamic,
            Some(b"\x00\x00\x00\x00\x09\x00"),
            &ctx,
        )
        .unwrap_err();
        assert!(matches!(
            err,
            Error::Unresolved(Unresolved::Schema(SchemaId::Id(9)))
        ));
        let err = rt()
            .block_on(Deserializer::<DynamicMessage>::resolve(
                &dynamic,
                &Unresolved::Schema(SchemaId::Id(9)),
            ))
            .unwrap_err();
        assert!(matches!(err, Error::Registry(_)), "{err:?}");
    }

    #[test]
    fn a_writer_schema_of_another_type_is_refused() {
        let registry = Arc::new(InMemoryRegistry::new());
        rt().block_on(async {
            let r = registry
                .register(
                    "x-value",
                    &kcodec_registry::Schema::json(r#"{"type":"string"}"#),
                    false,
                )
                .await
                .unwrap();
            let dynamic = ProtobufDynamicDeserializer::new(registry.clone());
            let mut data = vec![0];
            data.extend(r.id.to_be_bytes());
            data.push(0);
            let headers = Headers::new();
            let ctx = DeserializeContext::new("x", Target::Value, &headers);
            let err = resolve::deserialize::<DynamicMessage, _>(&dynamic, Some(&data.into()), &ctx)
                .await
                .unwrap_err();
            assert_eq!(
                err.to_string(),
                "schema id 1 is a JSON schema, not PROTOBUF"
            );
        });
    }

    /// Opt-in: the typed deserializer refuses a frame whose message indexes are not its type's
    /// (prefix and header forms); by default it decodes it anyway, as Confluent's clients do.
    #[test]
    fn checked_message_indexes_refuse_another_message_type() {
        let registry = Arc::new(InMemoryRegistry::new());
        let deep = second::mid::Deep { note: "n".into() };
        for format in [SchemaIdFormat::Prefix, SchemaIdFormat::Header] {
            let ser = ProtobufSerializer::<second::mid::Deep>::with_config(
                registry.clone(),
                ProtobufSerializerConfig::new().schema_id_format(format),
            )
            .unwrap();
            let (headers, frame) = rt().block_on(async {
                let mut headers = Headers::new();
                let mut out = BytesMut::new();
                let mut ctx = SerializeContext::new("deep", Target::Value, &mut headers);
                let written = resolve::serialize(&ser, &deep, &mut ctx, &mut out)
                    .await
                    .unwrap();
                assert_eq!(written, Serialized::Data);
                (headers, out)
            });
            let ctx = DeserializeContext::new("deep", Target::Value, &headers);
            let same: second::mid::Deep = ProtobufDeserializer::new()
                .check_message_indexes()
                .deserialize(Some(&frame), &ctx)
                .unwrap();
            assert_eq!(same, deep, "{format:?}");
            let same: Option<second::mid::Deep> = ProtobufDeserializer::new()
                .check_message_indexes()
                .deserialize(Some(&frame), &ctx)
                .unwrap();
            assert_eq!(same.as_ref(), Some(&deep), "{format:?}");

            // Unchecked, the frame decodes as `Second` (field 1 is a string in both).
            let wrong: Second = ProtobufDeserializer::new()
                .deserialize(Some(&frame), &ctx)
                .unwrap();
            assert_eq!(wrong.name, "n", "{format:?}");
            // Checked, it is refused, naming both index paths.
            let checked = ProtobufDeserializer::<Second>::new().check_message_indexes();
            let err =
                Deserializer::<Second>::deserialize(&checked, Some(&frame), &ctx).unwrap_err();
            let Error::Protobuf(inner) = &err else {
                panic!("{err:?}")
            };
            let ProtobufError::WrongMessageIndexes {
                message,
                expected,
                found,
            } = &**inner
            else {
                panic!("{inner:?}")
            };
            assert_eq!(message, "kcodec.oracle.Second");
            assert_eq!(expected, &[1]);
            assert_eq!(found, &[1, 0, 0]);
            assert_eq!(
                err.to_string(),
                "message indexes [1, 0, 0] are not those of 'kcodec.oracle.Second' ([1]): the frame holds another message type"
            );
        }
    }

    prop_compose! {
        fn arb_second()(name in ".{0,16}", numbers in proptest::collection::vec(any::<i32>(), 0..8)) -> Second {
            Second { name, numbers }
        }
    }

    prop_compose! {
        fn arb_order()(
            id in ".{0,12}",
            secs in -62_135_596_800i64..253_402_300_799,
            nanos in 0..1_000_000_000i32,
            city in proptest::option::of(".{0,8}"),
            status in 0..3i32,
            lines in proptest::collection::vec((".{0,4}", any::<u32>(), any::<i64>()), 0..4),
            attributes in proptest::collection::hash_map(".{0,4}", ".{0,4}", 0..4),
            tags in proptest::collection::vec(".{0,4}", 0..3),
            voucher in proptest::option::of(any::<i64>()),
        ) -> Order {
            Order {
                id,
                created_at: Some(prost_types::Timestamp { seconds: secs, nanos }),
                ship_to: city.map(|city| kcodec_test_proto::oracle::common::Address { city, ..Default::default() }),
                priority: 0,
                status,
                lines: lines.into_iter().map(|(sku, quantity, price_cents)| order::Line { sku, quantity, price_cents }).collect(),
                attributes,
                tags,
                payment: voucher.map(order::Payment::VoucherId),
            }
        }
    }

    fn round_trip<T>(value: &T) -> Result<(), TestCaseError>
    where
        T: prost::Message + ReflectMessage + Default + PartialEq + Clone + std::fmt::Debug,
    {
        let registry = Arc::new(InMemoryRegistry::new());
        let ser = ProtobufSerializer::<T>::new(registry.clone());
        let dynamic = ProtobufDynamicDeserializer::new(registry);
        rt().block_on(async {
            let mut headers = Headers::new();
            let mut out = BytesMut::new();
            let mut ctx = SerializeContext::new("p", Target::Value, &mut headers);
            let _ = resolve::serialize(&ser, value, &mut ctx, &mut out)
                .await
                .unwrap();
            let bytes = out.freeze();
            let ctx = DeserializeContext::new("p", Target::Value, &headers);
            let typed: T = ProtobufDeserializer::<T>::new()
                .deserialize(Some(&bytes), &ctx)
                .unwrap();
            prop_assert_eq!(&typed, value);
            let d: DynamicMessage = resolve::deserialize(&dynamic, Some(&bytes), &ctx)
                .await
                .unwrap();
            prop_assert_eq!(&d.transcode_to::<T>().unwrap(), value);
            // Canonical JSON parses back to the same message.
            let json: serde_json::Value = resolve::deserialize(&dynamic, Some(&bytes), &ctx)
                .await
                .unwrap();
            let again = DynamicMessage::deserialize(T::default().descriptor(), json).unwrap();
            prop_assert_eq!(&again.transcode_to::<T>().unwrap(), value);
            Ok(())
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn generated_orders_round_trip(order in arb_order()) {
            round_trip(&order)?;
        }
        #[test]
        fn generated_seconds_round_trip(second in arb_second()) {
            round_trip(&second)?;
        }
        #[test]
        fn generated_scalars_round_trip(
            f in any::<f64>().prop_filter("NaN != NaN", |f| !f.is_nan()),
            i in any::<i64>(), u in any::<u64>(), s in ".{0,8}", b in proptest::collection::vec(any::<u8>(), 0..8),
            o in proptest::option::of(any::<i32>()),
        ) {
            round_trip(&Scalars { f_double: f, f_int64: i, f_sint64: i, f_uint64: u, f_fixed64: u, f_string: s, f_bytes: b, f_optional: o, ..Default::default() })?;
        }
    }
}
