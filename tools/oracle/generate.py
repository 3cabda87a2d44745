#!/usr/bin/env python3
"""Generate kcodec's byte-level reference fixtures with Confluent's official Python client.

    .venv/bin/python tools/oracle/generate.py            # (re)write tests/fixtures/oracle/
    .venv/bin/python tools/oracle/generate.py --check    # fail if any file would change

Every case runs in a fresh PinnedMockClient (the library's in-memory mock registry with
deterministic GUIDs, see oracle_lib.pinned_guid), so ids start at 1 and files are
byte-identical on every run. See tools/oracle/README.md for the file format.
"""

import argparse
import io
import datetime as dt
import decimal
import json
import os
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import oracle_lib as L  # noqa: E402
from confluent_kafka.schema_registry import Schema, SchemaReference  # noqa: E402
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer  # noqa: E402
from confluent_kafka.schema_registry.common.avro import _schema_loads  # noqa: E402
from confluent_kafka.schema_registry.common.protobuf import _create_index_array, _schema_to_str  # noqa: E402
from confluent_kafka.schema_registry.common.serde import SchemaId  # noqa: E402
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer  # noqa: E402
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer  # noqa: E402
from confluent_kafka.serialization import MessageField, SerializationContext  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(REPO, "tests", "fixtures", "oracle")
UTC = dt.timezone.utc

# ------------------------------------------------------------------------- Avro cases

NS = "kcodec.oracle"

PRIMITIVES_RECORD = {
    "type": "record",
    "name": "Primitives",
    "namespace": NS,
    "fields": [
        {"name": "f_null", "type": "null"},
        {"name": "f_boolean", "type": "boolean"},
        {"name": "f_int", "type": "int"},
        {"name": "f_long", "type": "long"},
        {"name": "f_float", "type": "float"},
        {"name": "f_double", "type": "double"},
        {"name": "f_bytes", "type": "bytes"},
        {"name": "f_string", "type": "string"},
    ],
}
PRIMITIVES_VALUE = {
    "f_null": None,
    "f_boolean": True,
    "f_int": -2147483648,
    "f_long": 9223372036854775807,
    "f_float": 3.5,
    "f_double": -0.1,
    "f_bytes": b"\x00\x7f\x80\xff",
    "f_string": "h\u00e9llo \u2713 \U0001f600",
}

USER = {
    "type": "record",
    "name": "User",
    "fields": [
        {"name": "name", "type": "string"},
        {"name": "id", "type": "long"},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "email", "type": ["null", "string"], "default": None},
    ],
}

INNER = {
    "type": "record",
    "name": "Inner",
    "namespace": NS,
    "fields": [{"name": "label", "type": "string"}, {"name": "weight", "type": "double"}],
}
NESTED = {
    "type": "record",
    "name": "Outer",
    "namespace": NS,
    "fields": [
        {"name": "id", "type": "int"},
        {"name": "inner", "type": INNER},
        {"name": "maybe_inner", "type": ["null", "Inner"], "default": None},
        {
            "name": "deep",
            "type": {
                "type": "record",
                "name": "Level1",
                "fields": [
                    {
                        "name": "level2",
                        "type": {
                            "type": "record",
                            "name": "Level2",
                            "namespace": "kcodec.oracle.deep",
                            "fields": [{"name": "leaf", "type": "string"}],
                        },
                    }
                ],
            },
        },
    ],
}

COLLECTIONS = {
    "type": "record",
    "name": "Collections",
    "namespace": NS,
    "fields": [
        {"name": "ints", "type": {"type": "array", "items": "int"}},
        {"name": "empty", "type": {"type": "array", "items": "string"}},
        {
            "name": "points",
            "type": {
                "type": "array",
                "items": {
                    "type": "record",
                    "name": "Point",
                    "fields": [{"name": "x", "type": "int"}, {"name": "y", "type": "int"}],
                },
            },
        },
        {"name": "counts", "type": {"type": "map", "values": "long"}},
        {"name": "groups", "type": {"type": "map", "values": {"type": "array", "items": "string"}}},
    ],
}

ENUM_FIXED = {
    "type": "record",
    "name": "EnumFixed",
    "namespace": NS,
    "fields": [
        {"name": "suit", "type": {"type": "enum", "name": "Suit", "symbols": ["SPADES", "HEARTS", "DIAMONDS", "CLUBS"]}},
        {"name": "md5", "type": {"type": "fixed", "name": "MD5", "size": 16}},
        {"name": "tiny", "type": {"type": "fixed", "name": "Tiny", "namespace": "kcodec.other", "size": 2}},
    ],
}

UNIONS = {
    "type": "record",
    "name": "Unions",
    "namespace": NS,
    "fields": [
        {"name": "opt_null", "type": ["null", "string"], "default": None},
        {"name": "opt_set", "type": ["null", "string"], "default": None},
        {"name": "str_first", "type": ["string", "null"]},
        {
            "name": "multi_int",
            "type": ["null", "int", "string", {"type": "record", "name": "Tag", "fields": [{"name": "v", "type": "long"}]}],
        },
        {"name": "multi_rec", "type": ["null", "int", "string", "Tag"]},
        {"name": "multi_arr", "type": ["null", {"type": "array", "items": "int"}, {"type": "map", "values": "int"}]},
        {"name": "multi_map", "type": ["null", {"type": "array", "items": "int"}, {"type": "map", "values": "int"}]},
        {"name": "float_or_double", "type": ["float", "double"]},
    ],
}

LOGICAL = {
    "type": "record",
    "name": "Logical",
    "namespace": NS,
    "fields": [
        {"name": "dec_bytes", "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}},
        {"name": "dec_bytes_pos", "type": {"type": "bytes", "logicalType": "decimal", "precision": 20, "scale": 4}},
        {
            "name": "dec_fixed",
            "type": {"type": "fixed", "name": "Dec8", "size": 8, "logicalType": "decimal", "precision": 18, "scale": 3},
        },
        {"name": "uuid", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "date", "type": {"type": "int", "logicalType": "date"}},
        {"name": "time_millis", "type": {"type": "int", "logicalType": "time-millis"}},
        {"name": "time_micros", "type": {"type": "long", "logicalType": "time-micros"}},
        {"name": "ts_millis", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "ts_micros", "type": {"type": "long", "logicalType": "timestamp-micros"}},
        {"name": "local_ts_millis", "type": {"type": "long", "logicalType": "local-timestamp-millis"}},
        {"name": "local_ts_micros", "type": {"type": "long", "logicalType": "local-timestamp-micros"}},
        {"name": "pre_epoch_date", "type": {"type": "int", "logicalType": "date"}},
        {"name": "pre_epoch_ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    ],
}
LOGICAL_VALUE = {
    "dec_bytes": decimal.Decimal("-123.45"),
    "dec_bytes_pos": decimal.Decimal("98765432.1012"),
    "dec_fixed": decimal.Decimal("1234.567"),
    "uuid": uuid.UUID("6ba7b810-9dad-41d1-80b4-00c04fd430c8"),
    "date": dt.date(2024, 2, 29),
    "time_millis": dt.time(12, 34, 56, 789000),
    "time_micros": dt.time(23, 59, 59, 999999),
    "ts_millis": dt.datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
    "ts_micros": dt.datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
    "local_ts_millis": dt.datetime(2024, 1, 2, 3, 4, 5, 678000),
    "local_ts_micros": dt.datetime(2024, 1, 2, 3, 4, 5, 678901),
    "pre_epoch_date": dt.date(1969, 7, 20),
    "pre_epoch_ts": dt.datetime(1969, 7, 20, 20, 17, 40, tzinfo=UTC),
}

RECURSIVE = {
    "type": "record",
    "name": "Node",
    "namespace": NS,
    "fields": [
        {"name": "value", "type": "int"},
        {"name": "children", "type": {"type": "array", "items": "Node"}},
        {"name": "next", "type": ["null", "Node"], "default": None},
    ],
}
RECURSIVE_VALUE = {
    "value": 1,
    "children": [{"value": 2, "children": [], "next": None}],
    "next": {"value": 3, "children": [], "next": {"value": 4, "children": [], "next": None}},
}

USER_V1 = {"type": "record", "name": "User", "fields": [{"name": "name", "type": "string"}]}


def avro_cases():
    c = []

    def add(name, schema, value, topic="oracle-avro", **kw):
        text = schema if isinstance(schema, str) else json.dumps(schema, separators=(",", ":"))
        c.append(dict(case=name, format="avro", schema_text=text, value=value, topic=topic, **kw))

    # top-level primitives: passed as the bare canonical form ("int") like Java users do;
    # the library wraps it to {"type":"int"} before registering.
    add("avro_boolean", '"boolean"', True)
    add("avro_int", '"int"', -1)
    add("avro_int_max", '"int"', 2147483647)
    add("avro_long", '"long"', 1234567890123)
    add("avro_long_min", '"long"', -9223372036854775808)
    add("avro_float", '"float"', 1.5)
    add("avro_double", '"double"', 3.141592653589793)
    add("avro_bytes", '"bytes"', b"\x00\x01\xfe\xff")
    add("avro_bytes_empty", '"bytes"', b"")
    add("avro_bytes_object_form", '{"type": "bytes"}', b"raw")
    add("avro_string", '"string"', "h\u00e9llo \u2713")
    add("avro_string_empty", '"string"', "")
    # records and friends
    add("avro_user_vector", USER, {"name": "alice", "id": 42, "tags": ["a", "b"], "email": None}, topic="users")
    add("avro_user_email", USER, {"name": "bob", "id": -1, "tags": [], "email": "bob@example.com"}, topic="users")
    add("avro_primitives_record", PRIMITIVES_RECORD, PRIMITIVES_VALUE)
    add(
        "avro_nested_records",
        NESTED,
        {
            "id": 7,
            "inner": {"label": "x", "weight": 0.5},
            "maybe_inner": {"label": "y", "weight": -1.0},
            "deep": {"level2": {"leaf": "z"}},
        },
    )
    add(
        "avro_collections",
        COLLECTIONS,
        {
            "ints": [0, -1, 63, -64, 64, 300],
            "empty": [],
            "points": [{"x": 1, "y": 2}, {"x": -3, "y": 4}],
            "counts": {"a": 1, "b": -2},
            "groups": {"g": ["p", "q"], "h": []},
        },
    )
    add("avro_array_toplevel", '{"type":"array","items":"string"}', ["x", "y", "z"])
    add("avro_map_toplevel", '{"type":"map","values":"int"}', {"one": 1, "two": 2})
    add(
        "avro_enum_fixed",
        ENUM_FIXED,
        {"suit": "DIAMONDS", "md5": bytes(range(16)), "tiny": b"\xff\x00"},
    )
    add("avro_enum_toplevel", '{"type":"enum","name":"Color","namespace":"kcodec.oracle","symbols":["RED","GREEN","BLUE"]}', "BLUE")
    add("avro_fixed_toplevel", '{"type":"fixed","name":"Four","namespace":"kcodec.oracle","size":4}', b"\xde\xad\xbe\xef")
    add(
        "avro_unions",
        UNIONS,
        {
            "opt_null": None,
            "opt_set": "present",
            "str_first": "first",
            "multi_int": 5,
            "multi_rec": {"v": 99},
            "multi_arr": [1, 2],
            "multi_map": {"k": 3},
            "float_or_double": 2.5,
        },
    )
    add("avro_union_toplevel", '["null","string","long"]', 77)
    add("avro_logical_types", LOGICAL, LOGICAL_VALUE)
    add("avro_recursive", RECURSIVE, RECURSIVE_VALUE)
    # keys and subject-name strategies
    add("avro_key_string", '"string"', "key-1", is_key=True)
    add("avro_key_record", USER, {"name": "k", "id": 1, "tags": [], "email": None}, topic="users", is_key=True)
    add(
        "avro_record_strategy",
        PRIMITIVES_RECORD,
        PRIMITIVES_VALUE,
        config={"subject.name.strategy.type": "RECORD"},
    )
    add(
        "avro_topic_record_strategy",
        NESTED,
        {"id": 1, "inner": {"label": "", "weight": 0.0}, "maybe_inner": None, "deep": {"level2": {"leaf": ""}}},
        config={"subject.name.strategy.type": "TOPIC_RECORD"},
    )
    # registry interplay: latest version (id 2), lookup of a pre-registered schema with a 4-byte id
    add(
        "avro_use_latest_version",
        USER,
        {"name": "carol", "id": 3, "tags": ["x"], "email": None},
        topic="users",
        config={"auto.register.schemas": False, "use.latest.version": True},
        preregister=[{"schema": json.dumps(USER_V1, separators=(",", ":"))}, {"schema": json.dumps(USER, separators=(",", ":"))}],
    )
    add(
        "avro_schema_reference",
        '{"type":"record","name":"Customer","namespace":"kcodec.oracle","fields":['
        '{"name":"name","type":"string"},{"name":"home","type":"kcodec.oracle.Address"},'
        '{"name":"work","type":["null","kcodec.oracle.Address"],"default":null}]}',
        {"name": "Ann", "home": {"street": "1 Elm", "zip": 1234}, "work": {"street": "2 Oak", "zip": 5678}},
        refs=[
            {
                "name": "kcodec.oracle.Address",
                "subject": "kcodec.oracle.Address",
                "schema": '{"type":"record","name":"Address","namespace":"kcodec.oracle","fields":'
                '[{"name":"street","type":"string"},{"name":"zip","type":"int"}]}',
            }
        ],
    )
    add(
        "avro_lookup_big_id",
        '"string"',
        "id is 0x01020304",
        config={"auto.register.schemas": False},
        preregister=[{"schema": '{"type":"string"}', "id": 0x01020304}],
    )
    return c


# --------------------------------------------------------------------- Protobuf cases


def pb_cases():
    c = []

    def add(name, message, value, topic="oracle-protobuf", **kw):
        c.append(dict(case=name, format="protobuf", message=message, value=value, topic=topic, **kw))

    scalars = {
        "fDouble": -2.5,
        "fFloat": 1.5,
        "fInt32": -1,
        "fInt64": "-9223372036854775808",
        "fUint32": 4294967295,
        "fUint64": "18446744073709551615",
        "fSint32": -64,
        "fSint64": "9223372036854775807",
        "fFixed32": 1,
        "fFixed64": "2",
        "fSfixed32": -3,
        "fSfixed64": "-4",
        "fBool": True,
        "fString": "h\u00e9llo",
        "fBytes": "AH+A/w==",
        "inner": {"label": "in", "delta": -7},
        "fOptional": 0,
    }
    add("pb_scalars_index_0", "kcodec.oracle.Scalars", scalars)
    add("pb_scalars_defaults", "kcodec.oracle.Scalars", {})
    add("pb_nested_index_0_0", "kcodec.oracle.Scalars.Inner", {"label": "nested", "delta": 150})
    add("pb_second_index_1", "kcodec.oracle.Second", {"name": "two", "numbers": [1, -1, 300]})
    add("pb_deep_index_1_0_0", "kcodec.oracle.Second.Mid.Deep", {"note": "three levels"})
    order = {
        "id": "o-1",
        "createdAt": "2024-01-02T03:04:05.678901Z",
        "shipTo": {"street": "1 Main St", "city": "Springfield", "zip": 12345},
        "priority": "PRIORITY_HIGH",
        "status": "STATUS_SHIPPED",
        "lines": [{"sku": "A", "quantity": 2, "priceCents": "1999"}, {"sku": "B", "quantity": 1, "priceCents": "-5"}],
        # one entry only: the protobuf runtime serializes map entries in an order that
        # changes from process to process, which would make the fixture bytes unstable
        "attributes": {"gift": "yes"},
        "tags": ["x", "y"],
        "cardToken": "tok_123",
    }
    add("pb_import_reference", "kcodec.oracle.Order", order)
    add(
        "pb_oneof_other_branch",
        "kcodec.oracle.Order",
        {"id": "o-2", "status": "STATUS_OPEN", "voucherId": "42", "createdAt": "1970-01-01T00:00:00Z"},
    )
    add("pb_key", "kcodec.oracle.Scalars.Inner", {"label": "key"}, is_key=True)
    add("pb_record_strategy", "kcodec.oracle.Second", {"name": "rec"}, config={"subject.name.strategy.type": "RECORD"})
    add(
        "pb_topic_record_strategy",
        "kcodec.oracle.Scalars.Inner",
        {"label": "tr", "delta": 1},
        config={"subject.name.strategy.type": "TOPIC_RECORD"},
    )
    add(
        "pb_use_latest_version",
        "kcodec.oracle.Second",
        {"name": "latest", "numbers": [7]},
        config={"auto.register.schemas": False, "use.latest.version": True},
        preregister=[{"message": "kcodec.oracle.Second"}],
    )
    return c


# ------------------------------------------------------------------------- JSON cases

JSON_PERSON = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "kcodec.oracle.Person",
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer"},
        "email": {"type": ["string", "null"]},
        "nickname": {"oneOf": [{"type": "null"}, {"type": "string"}]},
    },
    "required": ["name", "age"],
}
JSON_NESTED = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "Order",
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "customer": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "address": {"type": "object", "properties": {"city": {"type": "string"}}}},
        },
        "lines": {
            "type": "array",
            "items": {"type": "object", "properties": {"sku": {"type": "string"}, "qty": {"type": "integer"}}},
        },
        "flags": {"type": "array", "items": {"type": "boolean"}},
    },
}
JSON_NUMBERS = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "Numbers",
    "type": "object",
    "properties": {
        "i": {"type": "integer"},
        "big": {"type": "integer"},
        "neg": {"type": "integer"},
        "f": {"type": "number"},
        "tiny": {"type": "number"},
        "huge": {"type": "number"},
        "whole": {"type": "number"},
    },
}


def json_cases():
    c = []

    def add(name, schema, value, topic="oracle-json", **kw):
        text = schema if isinstance(schema, str) else json.dumps(schema, separators=(",", ":"))
        c.append(dict(case=name, format="json", schema_text=text, value=value, topic=topic, **kw))

    add("json_object_nulls", JSON_PERSON, {"name": "Ann \u00e9\u2713", "age": 30, "email": None, "nickname": None})
    add(
        "json_nested",
        JSON_NESTED,
        {
            "id": "o-9",
            "customer": {"name": "Zed", "address": {"city": "Oslo"}},
            "lines": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 20}],
            "flags": [True, False],
        },
    )
    add(
        "json_numbers",
        JSON_NUMBERS,
        {"i": 1, "big": 9007199254740993, "neg": -42, "f": 0.1, "tiny": 1e-07, "huge": 1e21, "whole": 2.0},
    )
    add("json_array_toplevel", '{"type":"array","items":{"type":"string"}}', ["a", "b"])
    add("json_string_toplevel", '{"type":"string"}', "just a string")
    add("json_record_strategy", JSON_PERSON, {"name": "Rec", "age": 1}, config={"subject.name.strategy.type": "RECORD"})
    add(
        "json_topic_record_strategy",
        JSON_PERSON,
        {"name": "TR", "age": 2, "email": "tr@example.com"},
        config={"subject.name.strategy.type": "TOPIC_RECORD"},
    )
    add("json_key", '{"type":"object","properties":{"k":{"type":"string"}}}', {"k": "key"}, is_key=True)
    add(
        "json_use_latest_version",
        JSON_PERSON,
        {"name": "Latest", "age": 3},
        config={"auto.register.schemas": False, "use.latest.version": True},
        preregister=[{"schema": json.dumps(JSON_PERSON, separators=(",", ":"))}],
    )
    return c


# ------------------------------------------------------------------------- runner


def _ctx(topic, is_key, headers):
    return SerializationContext(topic, MessageField.KEY if is_key else MessageField.VALUE, headers)


def _subject_for(case, record_name):
    strat = (case.get("config") or {}).get("subject.name.strategy.type", "TOPIC").upper()
    field = "key" if case.get("is_key") else "value"
    if strat == "RECORD":
        return record_name
    if strat == "TOPIC_RECORD":
        return f"{case['topic']}-{record_name}"
    return f"{case['topic']}-{field}"


def _refs_json(registry, schema):
    out = []
    for ref in schema.references or []:
        rs = registry.get_version(ref.subject, ref.version)
        out.append(
            {
                "name": ref.name,
                "subject": ref.subject,
                "version": ref.version,
                "schema_type": rs.schema.schema_type,
                "schema": rs.schema.schema_str,
                "schema_id": rs.schema_id,
                "guid": rs.guid,
            }
        )
    return out


def build_serde(case, registry):
    """Return (serializer factory taking extra conf, deserializer, to_json, input_obj)."""
    fmt = case["format"]
    conf = dict(case.get("config") or {})
    if fmt == "avro":
        schema = _schema_loads(case["schema_text"])
        if case.get("refs"):
            # the referenced schemas were registered (version 1) by preregister()
            schema = Schema(
                schema.schema_str, "AVRO", [SchemaReference(r["name"], r["subject"], 1) for r in case["refs"]]
            )
        named = L.avro_named_schemas(registry, schema)
        parsed = L.avro_parse(schema.schema_str, named)
        case["_avro"] = (parsed, named)
        to_json = lambda v: L.avro_to_json(parsed, v, named)  # noqa: E731
        ser_schema = schema if case.get("refs") else case["schema_text"]
        ser = lambda extra: AvroSerializer(registry, ser_schema, conf={**conf, **extra})  # noqa: E731
        de = AvroDeserializer(registry)
        return ser, de, to_json, case["value"]
    if fmt == "protobuf":
        cls = L.pb_message_class(L.PROTO_DIR, case["message"])
        obj = L.pb_from_json(cls, case["value"])
        ser = lambda extra: ProtobufSerializer(cls, registry, conf={"use.deprecated.format": False, **conf, **extra})  # noqa: E731
        de = ProtobufDeserializer(cls, {"use.deprecated.format": False})
        return ser, de, L.pb_to_json, obj
    if fmt == "json":
        ser = lambda extra: JSONSerializer(case["schema_text"], registry, conf={**conf, **extra})  # noqa: E731
        de = JSONDeserializer(None, schema_registry_client=registry)
        return ser, de, (lambda v: v), case["value"]
    raise ValueError(fmt)


def preregister(case, registry):
    subject_record = None
    for r in case.get("refs", []):
        registry.register_with(r["subject"], Schema(r["schema"], L.FORMAT_TO_SCHEMA_TYPE[case["format"]]))
    for p in case.get("preregister", []):
        if case["format"] == "protobuf":
            cls = L.pb_message_class(L.PROTO_DIR, p["message"])
            schema = Schema(_schema_to_str(cls.DESCRIPTOR.file), "PROTOBUF")
            subject_record = cls.DESCRIPTOR.full_name
        else:
            schema = Schema(p["schema"], L.FORMAT_TO_SCHEMA_TYPE[case["format"]])
            subject_record = json.loads(p["schema"]).get("name") if case["format"] == "avro" else None
        subject = _subject_for(case, subject_record)
        registry.register_with(subject, schema, p.get("id"), p.get("guid"))


def run_case(case):
    registry = L.PinnedMockClient()
    preregister(case, registry)
    ser_factory, de, to_json, obj = build_serde(case, registry)
    topic, is_key = case["topic"], bool(case.get("is_key"))

    # 1) prefix framing (the default schema.id.serializer)
    prefix_headers = {}
    prefix_bytes = ser_factory({})(obj, _ctx(topic, is_key, prefix_headers))
    # 2) header framing: GUID (+ message indexes for Protobuf) in __value_schema_id/__key_schema_id
    hdr_headers = {}
    hdr_bytes = ser_factory({"schema.id.serializer": L.HEADER_SERIALIZER})(obj, _ctx(topic, is_key, hdr_headers))

    value_json = to_json(obj)
    # every frame must decode back to the same value with the library's deserializer
    decode_errors = {}
    for mode, data, headers in (("prefix", prefix_bytes, prefix_headers), ("header", hdr_bytes, hdr_headers)):
        try:
            back = de(data, _ctx(topic, is_key, dict(headers)))
        except Exception as e:  # noqa: BLE001
            # Known library quirk: the Avro and JSON deserializers reject any payload shorter
            # than 6 bytes before looking at headers: short header-mode payloads and an empty
            # top-level Avro "bytes" value (5-byte prefix frame) cannot be read back.
            if len(data) < 6:
                decode_errors[mode] = f"{type(e).__name__}: {e}"
                continue
            raise
        if to_json(back) != value_json:
            raise AssertionError(f"{case['case']}: decode mismatch {to_json(back)!r} != {value_json!r}")

    # the JSON value must carry everything: re-encoding it gives the same bytes
    if case["format"] == "avro":
        again = L.avro_from_json(*case["_avro"][:1], value_json, case["_avro"][1])
    elif case["format"] == "protobuf":
        again = L.pb_from_json(type(obj), value_json)
    else:
        again = value_json
    if ser_factory({})(again, _ctx(topic, is_key, {})) != prefix_bytes:
        raise AssertionError(f"{case['case']}: re-encoding the JSON value changed the bytes")

    # find what was registered / used
    sid = SchemaId(L.FORMAT_TO_SCHEMA_TYPE[case["format"]])
    sid.from_bytes(io.BytesIO(prefix_bytes))
    schema = registry.get_schema(sid.id)
    rs = None
    for subj in registry.get_subjects():
        for v in registry.get_versions(subj):
            cand = registry.get_version(subj, v)
            if cand.schema_id == sid.id:
                rs = cand
    assert rs is not None
    fixture = {
        "case": case["case"],
        "format": case["format"],
        "topic": topic,
        "is_key": is_key,
        "subject": rs.subject,
        "version": rs.version,
        "schema_type": schema.schema_type,
        "schema": schema.schema_str,
        "references": _refs_json(registry, schema),
        "schema_id": sid.id,
        "guid": rs.guid,
        "value": value_json,
        "frames": [
            {"id_mode": "prefix", "hex": prefix_bytes.hex(), "headers": L.headers_to_hex(prefix_headers)},
            {"id_mode": "header", "hex": hdr_bytes.hex(), "headers": L.headers_to_hex(hdr_headers)},
        ],
        "config": dict(case.get("config") or {}),
    }
    for frame in fixture["frames"]:
        if frame["id_mode"] in decode_errors:
            frame["python_decode_error"] = decode_errors[frame["id_mode"]]
    if case["format"] == "protobuf":
        cls = L.pb_message_class(L.PROTO_DIR, case["message"])
        fixture["message"] = case["message"]
        fixture["message_indexes"] = _create_index_array(cls.DESCRIPTOR)
        fixture["proto_file"] = cls.DESCRIPTOR.file.name
        fixture["config"].setdefault("use.deprecated.format", False)
    if case.get("preregister"):
        fixture["preregistered"] = [
            {"subject": s, "version": v, "schema_id": registry.get_version(s, v).schema_id}
            for s in sorted(registry.get_subjects())
            for v in sorted(registry.get_versions(s))
        ]
    return fixture


def wire_fixture():
    """Index encodings and a header value straight from the library's SchemaId."""
    out = {"message_indexes": [], "headers": []}
    for path in ([0], [1], [0, 0], [127, 8, 9], [128], [1, 0, 0]):
        sid = SchemaId("PROTOBUF", 1, None, path)
        full = sid.id_to_bytes()
        back = SchemaId("PROTOBUF")
        back.from_bytes(io.BytesIO(full))
        out["message_indexes"].append(
            {"path": path, "index_hex": full[5:].hex(), "prefix_frame_id_1_hex": full.hex(), "decoded": back.message_indexes}
        )
    guid = L.pinned_guid(1)
    for schema_type, idx in (("AVRO", None), ("JSON", None), ("PROTOBUF", [0]), ("PROTOBUF", [1, 0])):
        sid = SchemaId(schema_type, 1, guid, idx)
        out["headers"].append(
            {
                "schema_type": schema_type,
                "guid": guid,
                "message_indexes": idx,
                "key_header": "__key_schema_id",
                "value_header": "__value_schema_id",
                "header_value_hex": sid.guid_to_bytes().hex(),
                "prefix_frame_hex": sid.id_to_bytes().hex(),
            }
        )
    out["empty_index_array_decodes_to"] = SchemaId._read_index_array(io.BytesIO(b"\x00"))
    out["pinned_guids"] = {str(k): L.pinned_guid(k) for k in range(1, 5)}
    return out


def dump(obj):
    return json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="verify files are up to date; write nothing")
    ap.add_argument("--out", default=OUT)
    args = ap.parse_args()

    files = {}
    for case in avro_cases() + pb_cases() + json_cases():
        fx = run_case(case)
        files[os.path.join(case["format"], case["case"] + ".json")] = dump(fx)
    files["wire.json"] = dump(wire_fixture())

    # the one vector pinned in the brief
    user = json.loads(files[os.path.join("avro", "avro_user_vector.json")])
    expected = "00" + "00000001" + "0a616c696365" + "54" + "04" + "0261" + "0262" + "00" + "00"
    if user["frames"][0]["hex"] != expected:
        raise SystemExit(f"User vector mismatch: {user['frames'][0]['hex']} != {expected}")

    stale = []
    for rel, text in sorted(files.items()):
        path = os.path.join(args.out, rel)
        old = open(path, encoding="utf-8").read() if os.path.exists(path) else None
        if old != text:
            stale.append(rel)
            if not args.check:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w", encoding="utf-8") as f:
                    f.write(text)
    # remove fixtures no longer generated
    for fmt in ("avro", "protobuf", "json"):
        d = os.path.join(args.out, fmt)
        if os.path.isdir(d):
            for n in os.listdir(d):
                if os.path.join(fmt, n) not in files:
                    stale.append(os.path.join(fmt, n))
                    if not args.check:
                        os.remove(os.path.join(d, n))
    counts = {fmt: sum(1 for k in files if k.startswith(fmt + os.sep)) for fmt in ("avro", "protobuf", "json")}
    print(f"fixtures: {counts} + wire.json; {'stale' if args.check else 'changed'}: {len(stale)}")
    if args.check and stale:
        for s in stale:
            print("  stale:", s)
        sys.exit(1)


if __name__ == "__main__":
    main()
