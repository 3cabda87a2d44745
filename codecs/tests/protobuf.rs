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
