//! Proto3 JSON of the well-known wrappers, non-finite floats included (the proto3 JSON mapping:
//! wrappers print as their wrapped value; NaN and ±Infinity as "NaN", "Infinity", "-Infinity").
#![cfg(feature = "protobuf")]

use kcodec_codecs::protobuf::{ProtobufSchema, write_proto3_json};
use prost_reflect::{DynamicMessage, MessageDescriptor, SerializeOptions, Value};

const PROTO: &str = r#"
syntax = "proto3";
import "google/protobuf/wrappers.proto";
message W {
  google.protobuf.DoubleValue d = 1;
  google.protobuf.FloatValue f = 2;
  google.protobuf.Int64Value i64 = 3;
  google.protobuf.UInt64Value u64 = 4;
  google.protobuf.Int32Value i32 = 5;
  google.protobuf.UInt32Value u32 = 6;
  google.protobuf.BoolValue b = 7;
  google.protobuf.StringValue s = 8;
  google.protobuf.BytesValue by = 9;
  repeated double ds = 10;
  double plain = 11;
}
"#;

fn descriptor() -> MessageDescriptor {
    let schema = ProtobufSchema::parse_text("w.proto", PROTO).unwrap();
    schema
        .file()
        .parent_pool()
        .get_message_by_name("W")
        .unwrap()
}

fn with_wrappers(d: f64, f: f32) -> DynamicMessage {
    let w = descriptor();
    let mut m = DynamicMessage::new(w.clone());
    let mut set = |name: &str, value: Value| {
        let field = w.get_field_by_name(name).unwrap();
        let mut wrapper = DynamicMessage::new(field.kind().as_message().unwrap().clone());
        wrapper.set_field_by_name("value", value);
        m.set_field_by_name(name, Value::Message(wrapper));
    };
    set("d", Value::F64(d));
    set("f", Value::F32(f));
    set("i64", Value::I64(-5));
    set("u64", Value::U64(7));
    set("i32", Value::I32(-3));
    set("u32", Value::U32(4));
    set("b", Value::Bool(true));
    set("s", Value::String("x".into()));
    set("by", Value::Bytes(vec![1, 2].into()));
    m.set_field_by_name(
        "ds",
        Value::List(vec![Value::F64(f64::NAN), Value::F64(1.5)]),
    );
    m.set_field_by_name("plain", Value::F64(f64::INFINITY));
    m
}

fn print(m: &DynamicMessage) -> String {
    let mut out = Vec::new();
    write_proto3_json(m, &SerializeOptions::new(), &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn every_wrapper_prints_as_its_value_non_finite_floats_as_strings() {
    for (d, f, d_text, f_text) in [
        (f64::NAN, f32::NAN, r#""NaN""#, r#""NaN""#),
        (
            f64::INFINITY,
            f32::NEG_INFINITY,
            r#""Infinity""#,
            r#""-Infinity""#,
        ),
        (
            f64::NEG_INFINITY,
            f32::INFINITY,
            r#""-Infinity""#,
            r#""Infinity""#,
        ),
        (0.5, 0.25, "0.5", "0.25"),
    ] {
        let m = with_wrappers(d, f);
        let text = print(&m);
        assert_eq!(
            text,
            format!(
                r#"{{"d":{d_text},"f":{f_text},"i64":"-5","u64":"7","i32":-3,"u32":4,"b":true,"s":"x","by":"AQI=","ds":["NaN",1.5],"plain":"Infinity"}}"#
            )
        );
        // And the text reads back to the same values (the decode → encode round trip).
        let mut de = serde_json::Deserializer::from_str(&text);
        let back = DynamicMessage::deserialize(descriptor(), &mut de).unwrap();
        let wrapped = |name: &str| match &*back.get_field_by_name(name).unwrap() {
            Value::Message(w) => w.get_field_by_name("value").unwrap().into_owned(),
            other => panic!("{other:?}"),
        };
        match wrapped("d") {
            Value::F64(v) => assert!(v.total_cmp(&d).is_eq() || (v.is_nan() && d.is_nan())),
            other => panic!("{other:?}"),
        }
        match wrapped("f") {
            Value::F32(v) => assert!(v.total_cmp(&f).is_eq() || (v.is_nan() && f.is_nan())),
            other => panic!("{other:?}"),
        }
        assert_eq!(print(&back), text);
    }
}
