#!/usr/bin/env python3
"""Talks to a schema registry at URL with Confluent's official Python client (confluent-kafka):
SchemaRegistryClient calls and the Avro, Protobuf and JSON Schema serializers (auto-register)
and deserializers. Asserts Confluent's registry behaviour and prints one JSON object on stdout:

    {"ids": {...}, "frames": {"avro": {"subject", "hex"}, ...}, "checks": N,
     "incompatible_refused": bool}

The caller (kcodec's Rust test) checks the frames' magic byte and schema ids against the
registry. Usage: registry_interop.py URL
"""

import json
import sys

from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf import timestamp_pb2  # noqa: F401  (puts timestamp.proto in the pool)

CHECKS = 0


def check(condition, what):
    global CHECKS
    if not condition:
        raise AssertionError(what)
    CHECKS += 1


def expect_error(call, status, code, what):
    try:
        call()
    except SchemaRegistryError as e:
        check(e.http_status_code == status, f"{what}: HTTP {e.http_status_code} != {status}")
        check(e.error_code == code, f"{what}: error_code {e.error_code} != {code} ({e.error_message})")
        return
    raise AssertionError(f"{what}: no error")


USER_V1 = json.dumps({
    "type": "record", "name": "User", "namespace": "kcodec.interop",
    "fields": [{"name": "name", "type": "string"}],
})
USER_V2 = json.dumps({
    "type": "record", "name": "User", "namespace": "kcodec.interop",
    "fields": [{"name": "name", "type": "string"},
               {"name": "age", "type": ["null", "int"], "default": None}],
})
USER_NAME_INT = json.dumps({
    "type": "record", "name": "User", "namespace": "kcodec.interop",
    "fields": [{"name": "name", "type": "int"}],
})

ORDER_JSON_SCHEMA = json.dumps({
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "Order",
    "type": "object",
    "properties": {"id": {"type": "string"}, "amount": {"type": "integer"}},
    "required": ["id"],
})


def registry_calls(url):
    """SchemaRegistryClient against the registry; returns the ids it saw."""
    subject = "interop-value"
    client = SchemaRegistryClient({"url": url})
    id1 = client.register_schema(subject, Schema(USER_V1, "AVRO"))
    # A second client (no shared cache) gets the same id for the same schema.
    fresh = SchemaRegistryClient({"url": url})
    check(fresh.register_schema(subject, Schema(USER_V1, "AVRO")) == id1, "same schema, same id")
    found = fresh.lookup_schema(subject, Schema(USER_V1, "AVRO"))
    check(found.schema_id == id1 and found.version == 1, f"lookup: {found}")
    got = fresh.get_schema(id1)
    check(got.schema_type == "AVRO", f"schema type {got.schema_type}")
    check(json.loads(got.schema_str) == json.loads(USER_V1), "schema by id")
    latest = fresh.get_latest_version(subject)
    check(latest.version == 1 and latest.schema_id == id1, f"latest: {latest}")
    check(fresh.test_compatibility(subject, Schema(USER_V2, "AVRO")) is True, "v2 compatible")
    check(fresh.test_compatibility_all_versions(subject, Schema(USER_V2, "AVRO")) is True,
          "v2 compatible with all")
    incompatible = not fresh.test_compatibility(subject, Schema(USER_NAME_INT, "AVRO"))
    id2 = fresh.register_schema(subject, Schema(USER_V2, "AVRO"))
    check(id2 != id1, "new schema, new id")
    check(fresh.get_versions(subject) == [1, 2], "versions")
    v1 = fresh.get_version(subject, 1)
    check(v1.schema_id == id1, "version 1")
    # The same schema under another subject shares its id.
    check(fresh.register_schema("interop-copy", Schema(USER_V1, "AVRO")) == id1, "global ids")
    check(sorted(fresh.get_subjects_by_schema_id(id1)) == ["interop-copy", subject],
          "subjects of id")
    check(subject in fresh.get_subjects(), "subjects")
    # Compatibility levels.
    check(fresh.get_compatibility() == "BACKWARD", "global level")
    fresh.set_compatibility(subject, "FULL")
    check(fresh.get_compatibility(subject) == "FULL", "subject level")
    expect_error(lambda: fresh.get_compatibility("interop-copy"), 404, 40408, "no subject level")
    # Errors.
    expect_error(lambda: fresh.get_latest_version("missing-value"), 404, 40401, "no subject")
    expect_error(lambda: fresh.get_schema(999999), 404, 40403, "no schema")
    expect_error(lambda: fresh.get_version(subject, 9), 404, 40402, "no version")
    # The registry keeps no metadata, and Confluent's matches no version without metadata.
    expect_error(lambda: fresh.get_latest_with_metadata(subject, {"owner": "me"}), 404, 40403,
                 "no version with metadata")
    expect_error(lambda: fresh.get_latest_with_metadata("missing-value", {}), 404, 40401,
                 "metadata of no subject")
    expect_error(lambda: fresh.register_schema(subject, Schema("{nope", "AVRO")), 422, 42201,
                 "invalid schema")
    # Deletes: soft first, then permanent.
    check(fresh.delete_version(subject, 2) == 2, "soft delete version")
    check(fresh.get_versions(subject) == [1], "versions after soft delete")
    expect_error(lambda: fresh.delete_subject(subject, permanent=True), 404, 40405,
                 "permanent before soft")
    check(fresh.delete_subject(subject) == [1], "soft delete subject")
    check(subject not in fresh.get_subjects(), "hidden after soft delete")
    check(subject in fresh.get_subjects(deleted=True), "listed with deleted=True")
    check(sorted(fresh.delete_subject(subject, permanent=True)) == [1, 2], "permanent delete")
    # Ids stay: id1 is still under interop-copy.
    check(json.loads(fresh.get_schema(id1).schema_str) == json.loads(USER_V1), "id kept")
    return {"avro_v1": id1, "avro_v2": id2}, incompatible


def order_class():
    fdp = descriptor_pb2.FileDescriptorProto(
        name="kcodec/interop/order.proto", package="kcodec.interop", syntax="proto3",
        dependency=["google/protobuf/timestamp.proto"])
    msg = fdp.message_type.add(name="Order")
    F = descriptor_pb2.FieldDescriptorProto
    msg.field.add(name="id", number=1, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    msg.field.add(name="amount", number=2, type=F.TYPE_INT64, label=F.LABEL_OPTIONAL)
    msg.field.add(name="at", number=3, type=F.TYPE_MESSAGE, label=F.LABEL_OPTIONAL,
                  type_name=".google.protobuf.Timestamp")
    pool = descriptor_pool.Default()
    pool.Add(fdp)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("kcodec.interop.Order"))


def serializers(url):
    """The three serializers with auto-register, and their deserializers; returns the frames."""
    client = SchemaRegistryClient({"url": url})
    frames = {}

    ctx = SerializationContext("orders-avro", MessageField.VALUE)
    avro = AvroSerializer(client, USER_V2)
    value = {"name": "Ada", "age": 36}
    frame = avro(value, ctx)
    check(AvroDeserializer(SchemaRegistryClient({"url": url}))(frame, ctx) == value, "avro back")
    frames["avro"] = {"subject": "orders-avro-value", "hex": frame.hex()}

    key_ctx = SerializationContext("orders-avro", MessageField.KEY)
    key = AvroSerializer(client, '"string"')(("order-1"), key_ctx)
    frames["avro_key"] = {"subject": "orders-avro-key", "hex": key.hex()}

    Order = order_class()
    ctx = SerializationContext("orders-proto", MessageField.VALUE)
    proto = ProtobufSerializer(Order, client, {"skip.known.types": False})
    order = Order(id="o-1", amount=1234)
    order.at.seconds = 1700000000
    frame = proto(order, ctx)
    back = ProtobufDeserializer(Order, {}, SchemaRegistryClient({"url": url}))(frame, ctx)
    check(back == order, "protobuf back")
    frames["protobuf"] = {"subject": "orders-proto-value", "hex": frame.hex()}
    # The import was registered as a reference under its file name.
    reg = client.get_latest_version("orders-proto-value")
    refs = [(r.name, r.subject, r.version) for r in reg.schema.references]
    check(refs == [("google/protobuf/timestamp.proto", "google/protobuf/timestamp.proto", 1)],
          f"protobuf references {refs}")
    check(client.get_latest_version("google/protobuf/timestamp.proto").version == 1,
          "referenced subject")
    expect_error(lambda: client.delete_subject("google/protobuf/timestamp.proto"), 422, 42206,
                 "referenced schema kept")
    # The same file as .proto text (other layout, comments) is the same schema as the base64
    # descriptor the serializer registered: same id and version, registered or looked up, as
    # Confluent's registry compares parsed schemas.
    text = ('syntax = "proto3";\n// An order.\npackage kcodec.interop;\n\n'
            'import "google/protobuf/timestamp.proto";\n\n'
            'message Order {\n  string id = 1;\n  int64 amount = 2;\n'
            '  google.protobuf.Timestamp at = 3; /* when */\n}\n')
    as_text = Schema(text, "PROTOBUF", reg.schema.references)
    fresh = SchemaRegistryClient({"url": url})
    check(fresh.register_schema("orders-proto-value", as_text) == reg.schema_id,
          "proto text and descriptor: one id")
    found = fresh.lookup_schema("orders-proto-value", as_text, normalize_schemas=True)
    check(found.schema_id == reg.schema_id and found.version == reg.version,
          f"proto text looked up: {found}")
    check(fresh.get_versions("orders-proto-value") == [reg.version], "proto: one version")

    ctx = SerializationContext("orders-json", MessageField.VALUE)
    js = JSONSerializer(ORDER_JSON_SCHEMA, client)
    doc = {"id": "o-2", "amount": 7}
    frame = js(doc, ctx)
    back = JSONDeserializer(None, schema_registry_client=SchemaRegistryClient({"url": url}))(frame, ctx)
    check(back == doc, "json back")
    frames["json"] = {"subject": "orders-json-value", "hex": frame.hex()}
    return frames


def main():
    url = sys.argv[1]
    ids, incompatible = registry_calls(url)
    frames = serializers(url)
    print(json.dumps({
        "ids": ids, "frames": frames, "checks": CHECKS,
        "incompatible_refused": incompatible,
    }))


if __name__ == "__main__":
    main()
