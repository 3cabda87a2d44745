//! Proto3 JSON text of a message, with non-finite floats as the JSON mapping writes them.
//!
//! prost-reflect writes a `double`/`float` field that is NaN or ±Infinity as the strings
//! `"NaN"`, `"Infinity"`, `"-Infinity"`, as the proto3 JSON mapping says, but the value of a
//! well-known wrapper (`google.protobuf.DoubleValue`, `FloatValue`) reaches serde as a bare
//! `f64`/`f32`, which serde_json can only write as `null`, losing it. The serializer here hands
//! prost-reflect's output to serde_json with every non-finite float turned into that string.

use prost_reflect::{DynamicMessage, SerializeOptions};
use serde::ser::{self, Serialize, Serializer};

/// Writes `message` as proto3 JSON text to `out`, with `options` (prost-reflect's), non-finite
/// floats written as `"NaN"`, `"Infinity"`, `"-Infinity"` wherever they appear, wrappers
/// included.
///
/// ```
/// use kcodec_codecs::protobuf::{ProtobufSchema, write_proto3_json};
/// use prost_reflect::{DynamicMessage, SerializeOptions, Value};
///
/// let schema = ProtobufSchema::parse_text("m.proto", r#"
///     syntax = "proto3";
///     import "google/protobuf/wrappers.proto";
///     message M { google.protobuf.DoubleValue d = 1; }
/// "#).unwrap();
/// let m = schema.file().parent_pool().get_message_by_name("M").unwrap();
/// let mut message = DynamicMessage::new(m.clone());
/// let wrapper = m.get_field_by_name("d").unwrap().kind().as_message().unwrap().clone();
/// let mut d = DynamicMessage::new(wrapper);
/// d.set_field_by_name("value", Value::F64(f64::NEG_INFINITY));
/// message.set_field_by_name("d", Value::Message(d));
/// let mut text = Vec::new();
/// write_proto3_json(&message, &SerializeOptions::new(), &mut text).unwrap();
/// assert_eq!(text, br#"{"d":"-Infinity"}"#);
/// ```
pub fn write_proto3_json(
    message: &DynamicMessage,
    options: &SerializeOptions,
    out: impl std::io::Write,
) -> Result<(), serde_json::Error> {
    let mut json = serde_json::Serializer::new(out);
    message.serialize_with_options(NonFinite(&mut json), options)?;
    Ok(())
}

/// The proto3 JSON string of a non-finite float.
fn non_finite(v: f64) -> Option<&'static str> {
    if v.is_nan() {
        Some("NaN")
    } else if v == f64::INFINITY {
        Some("Infinity")
    } else if v == f64::NEG_INFINITY {
        Some("-Infinity")
    } else {
        None
    }
}

/// A serializer (or one of its compound parts) forwarding to `S`, with non-finite floats as
/// strings.
struct NonFinite<S>(S);

/// A value serialized through [`NonFinite`].
struct Through<'a, T: ?Sized>(&'a T);

impl<T: Serialize + ?Sized> Serialize for Through<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(NonFinite(serializer))
    }
}

macro_rules! forward {
    ($($name:ident($($arg:ident: $ty:ty),*);)*) => {$(
        fn $name(self, $($arg: $ty),*) -> Result<S::Ok, S::Error> { self.0.$name($($arg),*) }
    )*};
}

macro_rules! compound {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $assoc:ident;)*) => {$(
        fn $name(self, $($arg: $ty),*) -> Result<Self::$assoc, S::Error> {
            self.0.$name($($arg),*).map(NonFinite)
        }
    )*};
}

impl<S: Serializer> Serializer for NonFinite<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = NonFinite<S::SerializeSeq>;
    type SerializeTuple = NonFinite<S::SerializeTuple>;
    type SerializeTupleStruct = NonFinite<S::SerializeTupleStruct>;
    type SerializeTupleVariant = NonFinite<S::SerializeTupleVariant>;
    type SerializeMap = NonFinite<S::SerializeMap>;
    type SerializeStruct = NonFinite<S::SerializeStruct>;
    type SerializeStructVariant = NonFinite<S::SerializeStructVariant>;

    forward! {
        serialize_bool(v: bool);
        serialize_i8(v: i8);
        serialize_i16(v: i16);
        serialize_i32(v: i32);
        serialize_i64(v: i64);
        serialize_i128(v: i128);
        serialize_u8(v: u8);
        serialize_u16(v: u16);
        serialize_u32(v: u32);
        serialize_u64(v: u64);
        serialize_u128(v: u128);
        serialize_char(v: char);
        serialize_str(v: &str);
        serialize_bytes(v: &[u8]);
        serialize_none();
        serialize_unit();
        serialize_unit_struct(name: &'static str);
        serialize_unit_variant(name: &'static str, index: u32, variant: &'static str);
    }

    compound! {
        serialize_seq(len: Option<usize>) -> SerializeSeq;
        serialize_tuple(len: usize) -> SerializeTuple;
        serialize_tuple_struct(name: &'static str, len: usize) -> SerializeTupleStruct;
        serialize_tuple_variant(name: &'static str, index: u32, variant: &'static str, len: usize) -> SerializeTupleVariant;
        serialize_map(len: Option<usize>) -> SerializeMap;
        serialize_struct(name: &'static str, len: usize) -> SerializeStruct;
        serialize_struct_variant(name: &'static str, index: u32, variant: &'static str, len: usize) -> SerializeStructVariant;
    }

    fn serialize_f32(self, v: f32) -> Result<S::Ok, S::Error> {
        match non_finite(f64::from(v)) {
            Some(text) => self.0.serialize_str(text),
            None => self.0.serialize_f32(v),
        }
    }

    fn serialize_f64(self, v: f64) -> Result<S::Ok, S::Error> {
        match non_finite(v) {
            Some(text) => self.0.serialize_str(text),
            None => self.0.serialize_f64(v),
        }
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<S::Ok, S::Error> {
        self.0.serialize_some(&Through(value))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        self.0.serialize_newtype_struct(name, &Through(value))
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        self.0
            .serialize_newtype_variant(name, index, variant, &Through(value))
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

macro_rules! elements {
    ($($trait:ident :: $method:ident),* $(,)?) => {$(
        impl<S: ser::$trait> ser::$trait for NonFinite<S> {
            type Ok = S::Ok;
            type Error = S::Error;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), S::Error> {
                self.0.$method(&Through(value))
            }
            fn end(self) -> Result<S::Ok, S::Error> {
                self.0.end()
            }
        }
    )*};
}

elements!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field,
);

impl<S: ser::SerializeMap> ser::SerializeMap for NonFinite<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), S::Error> {
        self.0.serialize_key(&Through(key))
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), S::Error> {
        self.0.serialize_value(&Through(value))
    }
    fn end(self) -> Result<S::Ok, S::Error> {
        self.0.end()
    }
}

macro_rules! fields {
    ($($trait:ident),* $(,)?) => {$(
        impl<S: ser::$trait> ser::$trait for NonFinite<S> {
            type Ok = S::Ok;
            type Error = S::Error;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), S::Error> {
                self.0.serialize_field(key, &Through(value))
            }
            fn skip_field(&mut self, key: &'static str) -> Result<(), S::Error> {
                self.0.skip_field(key)
            }
            fn end(self) -> Result<S::Ok, S::Error> {
                self.0.end()
            }
        }
    )*};
}

fields!(SerializeStruct, SerializeStructVariant);
