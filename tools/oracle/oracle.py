#!/usr/bin/env python3
"""One-shot oracle: Confluent's Python client decodes kcodec's bytes or encodes values.

Reads ONE JSON request on stdin, writes ONE JSON response on stdout (exit code 0 even for
per-frame errors; non-zero only when the request itself is unusable, with
{"error": "..."} on stdout). Protocol and value encodings: tools/oracle/README.md.

    echo '{"op":"decode", ...}' | .venv/bin/python tools/oracle/oracle.py
"""

import json
import os
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import oracle_lib as L  # noqa: E402
from confluent_kafka.schema_registry import dual_schema_id_deserializer  # noqa: E402
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer  # noqa: E402
from confluent_kafka.schema_registry.common.avro import _schema_loads  # noqa: E402
from confluent_kafka.schema_registry.common.serde import SchemaId  # noqa: E402
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer  # noqa: E402
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer  # noqa: E402
from confluent_kafka.serialization import MessageField, SerializationContext  # noqa: E402


class RequestError(Exception):
    pass


def _ctx(req, headers):
    return SerializationContext(req.get("topic", "oracle"), MessageField.KEY if req.get("is_key") else MessageField.VALUE, headers)


def _serializer_conf(req, fmt):
    conf = dict(req.get("config") or {})
    ser = conf.get("schema.id.serializer")
    if ser is not None:
        if ser in ("header", "header_schema_id_serializer"):
            conf["schema.id.serializer"] = L.HEADER_SERIALIZER
        elif ser in ("prefix", "prefix_schema_id_serializer"):
            conf.pop("schema.id.serializer")
        else:
            raise RequestError(f"unknown schema.id.serializer {ser!r} (use \"prefix\" or \"header\")")
    if fmt == "protobuf":
        conf.setdefault("use.deprecated.format", False)
    return conf


def _pb_class(req):
    message = req.get("message")
    if not message:
        raise RequestError('protobuf requests need "message": "pkg.Name"')
    if req.get("proto_dir"):
        return L.pb_message_class(req["proto_dir"], message, req.get("proto_files"))
    return _pb_class_from_schemas(req, message)


def _pb_class_from_schemas(req, message):
    """Build the message class from the base64 FileDescriptorProtos in the request."""
    from google.protobuf.descriptor_pool import DescriptorPool
    from google.protobuf.message_factory import GetMessageClass

    from confluent_kafka.schema_registry.common.protobuf import _init_pool, _str_to_proto

    pool = DescriptorPool()
    _init_pool(pool)
    ref_names = {}
    for entry in req.get("schemas", []):
        for r in entry.get("references", []) or []:
            ref_names[(r["subject"], r["version"])] = r["name"]
    versions = {}
    for i, entry in enumerate(req.get("schemas", [])):
        subj = entry["subject"]
        versions[subj] = versions.get(subj, 0) + 1
        name = entry.get("file_name") or ref_names.get((subj, versions[subj])) or f"oracle_schema_{i}.proto"
        try:
            pool.Add(_str_to_proto(name, entry["schema"]))
        except Exception as e:  # noqa: BLE001
            raise RequestError(f"schema {i} ({subj}) is not a usable base64 FileDescriptorProto: {e}")
    return GetMessageClass(pool.FindMessageTypeByName(message))


def _writer_schema(registry, data, headers, req, fmt):
    sid = SchemaId(L.FORMAT_TO_SCHEMA_TYPE[fmt])
    dual_schema_id_deserializer(data, _ctx(req, dict(headers)), sid)
    if sid.id is not None:
        return registry.get_schema(sid.id)
    return registry.get_schema_by_guid(str(sid.guid))


def decode(req):
    fmt = req["format"]
    registry = L.make_registry(req.get("registry_url"))
    if req.get("register", True):
        L.register_all(registry, req.get("schemas", []))
    if fmt == "protobuf" and not req.get("schemas") and req.get("proto_dir"):
        # no schemas given: register the compiled file (and its imports) the way the
        # serializer does, so ids match what an "encode" with the same request produced
        ProtobufSerializer(_pb_class(req), registry, conf=_serializer_conf(req, fmt))(_pb_class(req)(), _ctx(req, {}))
    reader = req.get("reader_schema")
    conf = {k: v for k, v in (req.get("config") or {}).items() if k in ("use.latest.version", "subject.name.strategy.type")}
    if fmt == "avro":
        de = AvroDeserializer(registry, reader, conf=conf or None)
    elif fmt == "protobuf":
        de = ProtobufDeserializer(_pb_class(req), {"use.deprecated.format": False, **conf}, schema_registry_client=registry)
    elif fmt == "json":
        de = JSONDeserializer(reader, schema_registry_client=registry, conf=conf or None)
    else:
        raise RequestError(f"unknown format {fmt!r}")

    values = []
    for frame in req.get("frames", []):
        try:
            data = bytes.fromhex(frame["hex"])
            headers = L.headers_from_hex(frame.get("headers"))
            obj = de(data, _ctx(req, dict(headers)))
            if fmt == "avro":
                schema = _schema_loads(reader) if reader else _writer_schema(registry, data, headers, req, fmt)
                named = L.avro_named_schemas(registry, schema)
                parsed = L.avro_parse(schema.schema_str, named)
                values.append(L.avro_to_json(parsed, obj, named))
            elif fmt == "protobuf":
                values.append(L.pb_to_json(obj))
            else:
                values.append(obj)
        except Exception as e:  # noqa: BLE001
            values.append({"error": f"{type(e).__name__}: {e}"})
    return {"values": values}


def encode(req):
    fmt = req["format"]
    registry = L.make_registry(req.get("registry_url"))
    if req.get("register", True):
        L.register_all(registry, req.get("schemas", []))
    conf = _serializer_conf(req, fmt)
    if fmt == "avro":
        idx = req.get("schema_index", -1)
        entry = req["schemas"][idx]
        schema = L.schema_from_json(entry)
        ser = AvroSerializer(registry, schema, conf=conf)
        named = L.avro_named_schemas(registry, schema)
        parsed = L.avro_parse(_schema_loads(schema.schema_str).schema_str, named)
        to_obj = lambda v: L.avro_from_json(parsed, v, named)  # noqa: E731
    elif fmt == "protobuf":
        cls = _pb_class(req)
        ser = ProtobufSerializer(cls, registry, conf=conf)
        to_obj = lambda v: L.pb_from_json(cls, v)  # noqa: E731
    elif fmt == "json":
        idx = req.get("schema_index", -1)
        ser = JSONSerializer(L.schema_from_json(req["schemas"][idx]), registry, conf=conf)
        to_obj = lambda v: v  # noqa: E731
    else:
        raise RequestError(f"unknown format {fmt!r}")

    frames = []
    for value in req.get("values", []):
        try:
            headers = {}
            data = ser(to_obj(value), _ctx(req, headers))
            frames.append({"hex": data.hex() if data is not None else None, "headers": L.headers_to_hex(headers)})
        except Exception as e:  # noqa: BLE001
            frames.append({"error": f"{type(e).__name__}: {e}"})
    return {"frames": frames}


def handle(req):
    op = req.get("op")
    if op == "batch":
        out = []
        for sub in req.get("requests", []):
            try:
                out.append(handle(sub))
            except Exception as e:  # noqa: BLE001
                out.append({"error": f"{type(e).__name__}: {e}"})
        return {"responses": out}
    if req.get("format") not in ("avro", "protobuf", "json"):
        raise RequestError(f"\"format\" must be avro, protobuf or json, got {req.get('format')!r}")
    if op == "decode":
        return decode(req)
    if op == "encode":
        return encode(req)
    raise RequestError(f"unknown op {op!r} (decode or encode)")


def main():
    try:
        req = json.load(sys.stdin)
        resp = handle(req)
        code = 0
    except (RequestError, KeyError, ValueError, json.JSONDecodeError) as e:
        resp = {"error": f"{type(e).__name__}: {e}"}
        code = 2
    except Exception as e:  # noqa: BLE001
        resp = {"error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()}
        code = 3
    sys.stdout.write(json.dumps(resp, ensure_ascii=False) + "\n")
    sys.exit(code)


if __name__ == "__main__":
    main()
