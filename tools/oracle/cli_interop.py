#!/usr/bin/env python3
"""`kcodec encode`/`kcodec decode` against Confluent's official Python serializers, through a
schema registry over HTTP (kcodec's `registry serve` in the Rust test cli/tests/python_interop.rs).

Two operations; both print one JSON object on stdout:

    cli_interop.py produce URL DIR
        Writes the schema files into DIR (user.avsc, key.avsc, order.proto, event.proto,
        common/money.proto, sale.proto, order.json, key.json), then serializes every case with the library's AvroSerializer,
        ProtobufSerializer and JSONSerializer (auto-register, prefix and header schema ids) to
        topic "py-<case>-<mode>". Prints {"cases": [{"name", "format", "topic", "is_key",
        "header", "schema_file", "message", "value", "hex", "headers"}]}: "format" is kcodec's
        --format, "value" the text `kcodec decode` must print (Avro JSON encoding, proto3 JSON,
        JSON), "headers" maps header names to hex.

    cli_interop.py consume URL DIR  < {"frames": [{"name", "format", "topic", "is_key",
                                                    "message", "hex", "headers"}]}
        Deserializes each frame (kcodec's output) with the library's deserializers, which take
        the writer schema from the registry by the frame's id or GUID. Prints
        {"values": [{"name", "value"} | {"name", "error"}]}, values in the same text forms.

    cli_interop.py avro_refs URL DIR
        Registers com.x.Address under subject "com.x.Address", then serializes Person values (a
        field of type com.x.Address and a union with it) with the library's AvroSerializer and
        the schema registered under "person-value" with a reference to it (topic "person").
        Prints {"subject", "cases": [{"value", "hex"}]}.

The values and the serializers are the library's; this script only drives them (see README.md).
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import oracle_lib as L  # noqa: E402
from confluent_kafka.schema_registry import (  # noqa: E402
    Schema, SchemaReference, SchemaRegistryClient, dual_schema_id_deserializer,
)
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer  # noqa: E402
from confluent_kafka.schema_registry.common.serde import SchemaId  # noqa: E402
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer  # noqa: E402
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer  # noqa: E402
from confluent_kafka.serialization import MessageField, SerializationContext  # noqa: E402

SCHEMAS = {
    "user.avsc": json.dumps({
        "type": "record", "name": "User", "namespace": "ex.users",
        "fields": [
            {"name": "name", "type": "string"},
            {"name": "age", "type": ["null", "int"], "default": None},
            {"name": "address", "type": {"type": "record", "name": "Address", "fields": [
                {"name": "city", "type": "string"},
                {"name": "zip", "type": ["null", "string", "long"]}]}},
            {"name": "tags", "type": {"type": "array", "items": "string"}},
            {"name": "balance", "type": "double"},
        ],
    }),
    "key.avsc": json.dumps("string"),
    "order.proto": """syntax = "proto3";
package ex.shop;

message Order {
  string id = 1;
  int64 quantity = 2;
  Line line = 3;
  repeated string notes = 4;
  message Line { string sku = 1; double price = 2; }
}

message Refund {
  string order_id = 1;
  Order.Line line = 2;
  bool full = 3;
  map<string, int32> counts = 4;
}
""",
    "event.proto": """syntax = "proto3";
package ex.events;

import "google/protobuf/timestamp.proto";

message Event {
  string id = 1;
  google.protobuf.Timestamp at = 2;
  enum Kind { KIND_UNSPECIFIED = 0; CREATED = 1; }
  Kind kind = 3;
  oneof body { string text = 4; int32 code = 5; }
}
""",
    "common/money.proto": """syntax = "proto3";
package ex.common;

message Money { string currency = 1; int64 units = 2; }
""",
    "sale.proto": """syntax = "proto3";
package ex.sales;

import "common/money.proto";

message Sale { string id = 1; ex.common.Money price = 2; }
""",
    "order.json": json.dumps({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Order",
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "amount": {"type": "integer"},
            "items": {"type": "array", "items": {"type": "object", "properties": {"sku": {"type": "string"}}}},
            "note": {"type": ["string", "null"]},
        },
        "required": ["id"],
    }),
    "key.json": json.dumps({"$schema": "http://json-schema.org/draft-07/schema#", "type": "string"}),
}

# (name, kcodec --format, is_key, schema file, protobuf message, value in its text form)
CASES = [
    ("avro_value", "avro", False, "user.avsc", None,
     {"name": "ada", "age": {"int": 36}, "address": {"city": "London", "zip": {"long": 12345}},
      "tags": ["a", "b"], "balance": -1.25}),
    ("avro_value_nulls", "avro", False, "user.avsc", None,
     {"name": "bob", "age": None, "address": {"city": "Paris", "zip": {"string": "75001"}},
      "tags": [], "balance": 0.0}),
    # Keys longer than 5 bytes: the library's deserializers refuse any payload of 5 bytes or
    # less (`len(data) <= 5`) even when the schema id is in a header.
    ("avro_key", "avro", True, "key.avsc", None, "key-0001"),
    ("protobuf_value", "protobuf", False, "order.proto", "ex.shop.Refund",
     {"orderId": "o-7", "line": {"sku": "s-1", "price": 9.5}, "full": True, "counts": {"a": 1}}),
    ("protobuf_key", "protobuf", True, "order.proto", "ex.shop.Order",
     {"id": "o-8", "quantity": "9007199254740993", "line": {"sku": "s-2"}, "notes": ["x"]}),
    # A well-known import (google/protobuf/timestamp.proto), an enum and a oneof.
    ("protobuf_event", "protobuf", False, "event.proto", "ex.events.Event",
     {"id": "e-1", "at": "2024-01-02T03:04:05.500Z", "kind": "CREATED", "code": 7}),
    # An import of another file: registered as a reference under its own subject.
    ("protobuf_reference", "protobuf", False, "sale.proto", "ex.sales.Sale",
     {"id": "s-1", "price": {"currency": "EUR", "units": "12"}}),
    ("json_value", "json-schema", False, "order.json", None,
     {"id": "o-9", "amount": 12, "items": [{"sku": "a"}], "note": None}),
    ("json_key", "json-schema", True, "key.json", None, "key-0002"),
]

FORMAT_TO_TYPE = {"avro": "AVRO", "protobuf": "PROTOBUF", "json-schema": "JSON"}


def ctx(topic, is_key, headers):
    return SerializationContext(topic, MessageField.KEY if is_key else MessageField.VALUE, headers)


def pb_class(outdir, message):
    return L.pb_message_class(outdir, message, ["order.proto", "event.proto", "common/money.proto", "sale.proto"])


def avro_to_text(registry, schema):
    named = L.avro_named_schemas(registry, schema)
    return L.avro_parse(schema.schema_str, named), named


def produce(url, outdir):
    os.makedirs(outdir, exist_ok=True)
    for name, text in SCHEMAS.items():
        os.makedirs(os.path.dirname(os.path.join(outdir, name)), exist_ok=True)
        with open(os.path.join(outdir, name), "w") as f:
            f.write(text)
    registry = SchemaRegistryClient({"url": url})
    out = []
    for name, fmt, is_key, schema_file, message, value in CASES:
        for header in (False, True):
            conf = {"schema.id.serializer": L.HEADER_SERIALIZER} if header else {}
            topic = f"py-{name}-{'header' if header else 'prefix'}"
            if fmt == "avro":
                schema_text = SCHEMAS[schema_file]
                ser = AvroSerializer(registry, schema_text, conf=conf)
                parsed = L.avro_parse(schema_text)
                obj = L.avro_from_json(parsed, value)
            elif fmt == "protobuf":
                cls = pb_class(outdir, message)
                ser = ProtobufSerializer(cls, registry, conf={"use.deprecated.format": False, **conf})
                obj = L.pb_from_json(cls, value)
            else:
                ser = JSONSerializer(SCHEMAS[schema_file], registry, conf=conf)
                obj = value
            headers = {}
            data = ser(obj, ctx(topic, is_key, headers))
            out.append({
                "name": f"{name}-{'header' if header else 'prefix'}", "format": fmt, "topic": topic,
                "is_key": is_key, "header": header, "schema_file": schema_file, "message": message,
                "value": value, "hex": data.hex(), "headers": L.headers_to_hex(headers),
            })
    return {"cases": out}


def writer_schema(registry, data, headers, topic, is_key, fmt):
    sid = SchemaId(FORMAT_TO_TYPE[fmt])
    dual_schema_id_deserializer(data, ctx(topic, is_key, dict(headers)), sid)
    if sid.id is not None:
        return registry.get_schema(sid.id)
    return registry.get_schema_by_guid(str(sid.guid))


def consume(url, outdir, request):
    registry = SchemaRegistryClient({"url": url})
    values = []
    for frame in request["frames"]:
        name, fmt = frame["name"], frame["format"]
        try:
            data = bytes.fromhex(frame["hex"])
            headers = L.headers_from_hex(frame.get("headers"))
            c = ctx(frame["topic"], frame["is_key"], dict(headers))
            if fmt == "avro":
                obj = AvroDeserializer(registry)(data, c)
                schema = writer_schema(registry, data, headers, frame["topic"], frame["is_key"], fmt)
                parsed, named = avro_to_text(registry, schema)
                value = L.avro_to_json(parsed, obj, named)
            elif fmt == "protobuf":
                cls = pb_class(outdir, frame["message"])
                obj = ProtobufDeserializer(cls, {"use.deprecated.format": False}, schema_registry_client=registry)(data, c)
                value = L.pb_to_json(obj)
            else:
                value = JSONDeserializer(None, schema_registry_client=registry)(data, c)
            values.append({"name": name, "value": value})
        except Exception as e:  # noqa: BLE001
            values.append({"name": name, "error": f"{type(e).__name__}: {e}"})
    return {"values": values}


ADDRESS = json.dumps({"type": "record", "name": "Address", "namespace": "com.x",
                      "fields": [{"name": "city", "type": "string"}]})
PERSON = json.dumps({"type": "record", "name": "Person", "namespace": "com.x", "fields": [
    {"name": "name", "type": "string"},
    {"name": "addr", "type": "com.x.Address"},
    {"name": "prev", "type": ["null", "com.x.Address"], "default": None},
]})
PERSONS = [
    {"name": "n", "addr": {"city": "Seoul"}, "prev": None},
    {"name": "m", "addr": {"city": "Oslo"}, "prev": {"com.x.Address": {"city": "Bergen"}}},
]


def avro_refs(url):
    registry = SchemaRegistryClient({"url": url})
    registry.register_schema("com.x.Address", Schema(ADDRESS, "AVRO"))
    version = registry.get_latest_version("com.x.Address").version
    person = Schema(PERSON, "AVRO", [SchemaReference("com.x.Address", "com.x.Address", version)])
    ser = AvroSerializer(registry, person)
    named = L.avro_named_schemas(registry, person)
    parsed = L.avro_parse(PERSON, named)
    out = []
    for value in PERSONS:
        data = ser(L.avro_from_json(parsed, value, named), ctx("person", False, {}))
        out.append({"value": value, "hex": data.hex()})
    return {"subject": "person-value", "cases": out}


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("produce", "consume", "avro_refs"):
        sys.stderr.write(__doc__)
        sys.exit(2)
    op, url, outdir = sys.argv[1:]
    if op == "produce":
        result = produce(url, outdir)
    elif op == "avro_refs":
        result = avro_refs(url)
    else:
        result = consume(url, outdir, json.load(sys.stdin))
    sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
