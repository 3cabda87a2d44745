"""Shared helpers for the kcodec Python oracle (generate.py, oracle.py, selftest.py).

Everything here wraps Confluent's official client (PyPI ``confluent-kafka``); the
serializers and deserializers themselves are always the library's own.
"""

import hashlib
import importlib
import json
import os
import sys
import tempfile
import uuid

import fastavro
from google.protobuf import json_format

from confluent_kafka.schema_registry import (
    Schema,
    SchemaReference,
    SchemaRegistryClient,
    header_schema_id_serializer,
)
from confluent_kafka.schema_registry._sync import mock_schema_registry_client as _mock_mod
MockSchemaRegistryClient = _mock_mod.MockSchemaRegistryClient

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO_DIR = os.path.join(HERE, "proto")

FORMAT_TO_SCHEMA_TYPE = {"avro": "AVRO", "protobuf": "PROTOBUF", "json": "JSON"}


def pinned_guid(k: int) -> str:
    """GUID given to the k-th schema (1-based) registered in a fresh PinnedMockClient.

    UUID(bytes=sha256(b"kcodec-oracle-guid-<k>")[:16], version=4): deterministic, looks
    like a random v4 UUID (so byte-order mistakes show up), and is easy to recompute.
    """
    digest = hashlib.sha256(b"kcodec-oracle-guid-%d" % k).digest()[:16]
    return str(uuid.UUID(bytes=digest, version=4))


class _PinnedUuidModule:
    """Stand-in for the ``uuid`` module inside the library's mock registry module."""

    def __init__(self, fn):
        self._fn = fn

    def uuid4(self):
        return uuid.UUID(self._fn())

    def __getattr__(self, name):
        return getattr(uuid, name)


class PinnedMockClient(MockSchemaRegistryClient):
    """The library's in-memory mock registry with deterministic GUIDs.

    The mock assigns ids 1, 2, ... in registration order (a new id per subject, even for
    an identical schema) and calls ``uuid.uuid4()`` for the GUID. While registering we
    swap the mock module's ``uuid`` for a stand-in whose ``uuid4()`` returns
    ``pinned_guid(next_id)`` (or an explicitly requested GUID), so the GUID of schema id
    k is always ``pinned_guid(k)``. The library's own registration logic still runs.
    """

    def __init__(self, conf=None):
        super().__init__(conf or {"url": "mock://kcodec-oracle"})
        self._forced_guid = None

    def _next_guid(self):
        if self._forced_guid is not None:
            return self._forced_guid
        return pinned_guid(self._store.max_id + 1)

    def register_schema_full_response(self, subject_name, schema, normalize_schemas=False):
        saved = _mock_mod.uuid
        _mock_mod.uuid = _PinnedUuidModule(self._next_guid)
        try:
            return super().register_schema_full_response(subject_name, schema, normalize_schemas=normalize_schemas)
        finally:
            _mock_mod.uuid = saved

    def register_with(self, subject, schema, schema_id=None, guid=None):
        """Register ``schema``, optionally forcing its id (must exceed every id so far) and GUID."""
        existing = self._store.get_registered_schema_by_schema(subject, schema)
        if existing is not None:
            return existing
        if schema_id is not None:
            if schema_id <= self._store.max_id:
                raise ValueError(f"schema id {schema_id} must be greater than {self._store.max_id}")
            self._store.max_id = schema_id - 1
        self._forced_guid = guid
        try:
            return self.register_schema_full_response(subject, schema)
        finally:
            self._forced_guid = None


def make_registry(url=None):
    """A fresh pinned mock registry, or a real HTTP client when ``url`` is an http(s) URL."""
    if url is None or url.startswith("mock://"):
        return PinnedMockClient()
    return SchemaRegistryClient({"url": url})


def schema_from_json(entry):
    """Build a library ``Schema`` from {"schema_type", "schema", "references": [...]}."""
    refs = [
        SchemaReference(r["name"], r["subject"], r["version"]) for r in entry.get("references", []) or []
    ]
    return Schema(entry["schema"], entry.get("schema_type", "AVRO"), refs)


def register_all(registry, schemas):
    """Register each {"subject", "schema_type", "schema", "references", ["id"], ["guid"]} in order."""
    out = []
    for entry in schemas:
        schema = schema_from_json(entry)
        if isinstance(registry, PinnedMockClient):
            rs = registry.register_with(entry["subject"], schema, entry.get("id"), entry.get("guid"))
        else:
            rs = registry.register_schema_full_response(entry["subject"], schema)
        out.append(rs)
    return out


# ---------------------------------------------------------------- value encodings


def avro_named_schemas(registry, schema):
    """Parsed fastavro named-schema map for the references of ``schema`` (recursive)."""
    named = {}
    for ref in schema.references or []:
        rs = registry.get_version(ref.subject, ref.version)
        named.update(avro_named_schemas(registry, rs.schema))
        fastavro.parse_schema(json.loads(rs.schema.schema_str), named_schemas=named)
    return named


def avro_parse(schema_text, named=None):
    text = schema_text.strip()
    obj = json.loads(text)
    return fastavro.parse_schema(obj, named_schemas=dict(named or {}))


_PRIMS = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}


def _avro_named(schema, named):
    """Collect every named type (full name -> parsed schema) reachable from ``schema``."""
    if isinstance(schema, list):
        for b in schema:
            _avro_named(b, named)
    elif isinstance(schema, dict):
        t = schema.get("type")
        if t in ("record", "error", "enum", "fixed"):
            if schema["name"] in named:
                return named
            named[schema["name"]] = schema
            for f in schema.get("fields", []):
                _avro_named(f["type"], named)
        elif t == "array":
            _avro_named(schema["items"], named)
        elif t == "map":
            _avro_named(schema["values"], named)
        elif isinstance(t, (dict, list)):
            _avro_named(t, named)
    return named


def _resolve(schema, named):
    while isinstance(schema, str) and schema not in _PRIMS:
        schema = named[schema]
    if isinstance(schema, dict) and isinstance(schema.get("type"), (dict, list)):
        return _resolve(schema["type"], named)
    return schema


def _type_of(schema):
    return schema if isinstance(schema, str) else ("union" if isinstance(schema, list) else schema["type"])


def _branch_name(branch):
    """Union branch name per the Avro spec: full name for named types, else the type name."""
    if isinstance(branch, str):
        return branch
    if branch.get("type") in ("record", "error", "enum", "fixed"):
        return branch["name"]
    return branch["type"]


def _latin1(b):
    return bytes(b).decode("latin-1")


def _to_json(schema, datum, named):
    from fastavro._logical_writers_py import LOGICAL_WRITERS
    from fastavro._validation_py import _validate

    schema = _resolve(schema, named)
    t = _type_of(schema)
    if t == "union":
        if isinstance(datum, tuple):  # fastavro tuple notation (name, value)
            name, datum = datum
            branch = next(b for b in schema if _branch_name(b) == name)
        else:
            valid = [b for b in schema if _validate(datum, b, named, "", False, {})]
            if not valid:
                raise ValueError(f"no union branch of {schema} accepts {datum!r}")
            branch = valid[0]
            # fastavro's writer prefers double over float for Python floats; mirror it
            if _branch_name(_resolve(branch, named)) == "float":
                dbl = [b for b in valid if _branch_name(_resolve(b, named)) == "double"]
                if dbl:
                    branch = dbl[0]
        rb = _resolve(branch, named)
        if _type_of(rb) == "null":
            return None
        return {_branch_name(rb): _to_json(rb, datum, named)}
    if isinstance(schema, dict) and schema.get("logicalType"):
        prep = LOGICAL_WRITERS.get(f"{t}-{schema['logicalType']}")
        if prep is not None:
            datum = prep(datum, schema)
    if t == "null":
        return None
    if t in ("boolean", "int", "long", "string", "enum"):
        return datum
    if t in ("float", "double"):
        return float(datum)
    if t in ("bytes", "fixed"):
        return _latin1(datum)
    if t == "array":
        return [_to_json(schema["items"], d, named) for d in datum]
    if t == "map":
        return {k: _to_json(schema["values"], v, named) for k, v in datum.items()}
    if t in ("record", "error"):
        return {f["name"]: _to_json(f["type"], datum.get(f["name"], f.get("default")), named) for f in schema["fields"]}
    raise ValueError(f"unsupported Avro type {t!r}")


def _from_json(schema, value, named):
    schema = _resolve(schema, named)
    t = _type_of(schema)
    if t == "union":
        if value is None:
            return None
        if not isinstance(value, dict) or len(value) != 1:
            raise ValueError(f"union value must be null or a one-key object, got {value!r}")
        (name, inner), = value.items()
        for b in schema:
            rb = _resolve(b, named)
            if _branch_name(rb) == name:
                return (name, _from_json(rb, inner, named))
        raise ValueError(f"union branch {name!r} not in {schema}")
    if t in ("null", "boolean", "int", "long", "string", "enum"):
        return value
    if t in ("float", "double"):
        return float(value)
    if t in ("bytes", "fixed"):
        return value.encode("latin-1")
    if t == "array":
        return [_from_json(schema["items"], d, named) for d in value]
    if t == "map":
        return {k: _from_json(schema["values"], v, named) for k, v in value.items()}
    if t in ("record", "error"):
        return {f["name"]: _from_json(f["type"], value[f["name"]], named) for f in schema["fields"] if f["name"] in value}
    raise ValueError(f"unsupported Avro type {t!r}")


def avro_to_json(parsed_schema, datum, named=None):
    """Avro spec JSON encoding of a Python datum (as fastavro reads/writes it).

    Unions: null or {"<branch name>": value}; bytes/fixed: ISO-8859-1 strings; logical
    types: their underlying type's JSON (decimal -> bytes/fixed string of the two's-
    complement unscaled value, uuid -> string, date -> days, time-millis -> ms, ...).
    """
    named = _avro_named(parsed_schema, dict(named or {}))
    return _to_json(parsed_schema, datum, named)


def avro_from_json(parsed_schema, value, named=None):
    """Inverse of avro_to_json. Union values come back in fastavro's tuple notation
    ("branch name", value), so the writer picks exactly the named branch; logical types
    stay as their underlying values, which fastavro writes unchanged."""
    named = _avro_named(parsed_schema, dict(named or {}))
    return _from_json(parsed_schema, value, named)


def pb_to_json(msg):
    """Canonical proto3 JSON: json_format.MessageToDict with all default options."""
    return json_format.MessageToDict(msg)


def pb_from_json(msg_class, value):
    return json_format.ParseDict(value, msg_class())


# ---------------------------------------------------------------- protobuf compilation


def grpc_include_dir():
    import grpc_tools

    return os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")


_COMPILED = {}


def compile_protos(proto_dir, files):
    """Compile ``files`` (paths relative to ``proto_dir``) with grpc_tools.protoc into a temp
    dir put on sys.path; return that dir. Generated code is never written to the repo."""
    key = (os.path.abspath(proto_dir), tuple(sorted(files)))
    if key in _COMPILED:
        return _COMPILED[key]
    from grpc_tools import protoc

    out = tempfile.mkdtemp(prefix="kcodec-oracle-pb2-")
    args = ["protoc", f"-I{proto_dir}", f"-I{grpc_include_dir()}", f"--python_out={out}"] + list(files)
    rc = protoc.main(args)
    if rc != 0:
        raise RuntimeError(f"protoc failed ({rc}) for {files} in {proto_dir}")
    sys.path.insert(0, out)
    importlib.invalidate_caches()
    _COMPILED[key] = out
    return out


def all_proto_files(proto_dir):
    files = []
    for root, _dirs, names in os.walk(proto_dir):
        for n in names:
            if n.endswith(".proto"):
                files.append(os.path.relpath(os.path.join(root, n), proto_dir).replace(os.sep, "/"))
    return sorted(files)


def pb_message_class(proto_dir, message_full_name, files=None):
    """Compile the .proto set under proto_dir and return the generated class for ``pkg.Name``
    (nested messages as ``pkg.Outer.Inner``)."""
    from google.protobuf import descriptor_pool
    from google.protobuf.message_factory import GetMessageClass

    files = files or all_proto_files(proto_dir)
    compile_protos(proto_dir, files)
    for f in files:
        importlib.import_module(f[: -len(".proto")].replace("/", ".").replace("-", "_") + "_pb2")
    desc = descriptor_pool.Default().FindMessageTypeByName(message_full_name)
    return GetMessageClass(desc)


# ---------------------------------------------------------------- misc


def headers_to_hex(headers):
    return {k: (v.hex() if isinstance(v, (bytes, bytearray)) else v) for k, v in (headers or {}).items()}


def headers_from_hex(headers):
    return {k: bytes.fromhex(v) for k, v in (headers or {}).items()}


HEADER_SERIALIZER = header_schema_id_serializer
