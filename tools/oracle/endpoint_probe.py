#!/usr/bin/env python3
"""List the Schema Registry REST calls Confluent's Python client makes (for the dev server).

    .venv/bin/python tools/oracle/endpoint_probe.py

Starts a tiny in-process HTTP registry stub on 127.0.0.1 that logs every request
(method, path, query, JSON body keys) and answers just enough for the client to proceed,
then runs the library's serializers and deserializers for each format against it. The
output is the table copied into README.md ("REST calls made by the client").
"""

import http.server
import json
import os
import sys
import threading
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import oracle_lib as L  # noqa: E402
from confluent_kafka.schema_registry import SchemaRegistryClient  # noqa: E402
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer  # noqa: E402
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer  # noqa: E402
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer  # noqa: E402
from confluent_kafka.serialization import MessageField, SerializationContext  # noqa: E402

LOG = []
STATE = {"schemas": [], "subjects": {}}  # schemas: list of dicts; subjects: name -> [index]


def _record(subject, body):
    for i, s in enumerate(STATE["schemas"]):
        if s["schema"] == body["schema"] and s.get("references", []) == body.get("references", []):
            break
    else:
        STATE["schemas"].append({k: body.get(k) for k in ("schema", "schemaType", "references")})
        i = len(STATE["schemas"]) - 1
    versions = STATE["subjects"].setdefault(subject, [])
    if i not in versions:
        versions.append(i)
    return i, versions.index(i) + 1


def _schema_json(i, subject=None, version=None):
    s = STATE["schemas"][i]
    out = {"id": i + 1, "guid": L.pinned_guid(i + 1), "schema": s["schema"]}
    if s.get("schemaType") and s["schemaType"] != "AVRO":
        out["schemaType"] = s["schemaType"]
    if s.get("references"):
        out["references"] = s["references"]
    if subject is not None:
        out["subject"], out["version"] = subject, version
    return out


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def _send(self, code, obj):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self, method):
        url = urllib.parse.urlparse(self.path)
        n = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(n)) if n else None
        LOG.append((method, url.path, url.query, sorted(body.keys()) if isinstance(body, dict) else None,
                    self.headers.get("Content-Type"), self.headers.get("Accept")))
        parts = [urllib.parse.unquote(p) for p in url.path.strip("/").split("/")]
        nf = (404, {"error_code": 40401, "message": "not found"})
        if parts[0] == "associations":
            return self._send(*nf)
        if parts[0] == "subjects" and method == "POST" and len(parts) == 3 and parts[2] == "versions":
            i, v = _record(parts[1], body)
            return self._send(200, _schema_json(i, parts[1], v))
        if parts[0] == "subjects" and method == "POST" and len(parts) == 2:
            for i in STATE["subjects"].get(parts[1], []):
                if STATE["schemas"][i]["schema"] == body["schema"]:
                    return self._send(200, _schema_json(i, parts[1], STATE["subjects"][parts[1]].index(i) + 1))
            return self._send(404, {"error_code": 40403, "message": "schema not found"})
        if parts[0] == "subjects" and method == "GET" and len(parts) == 4:
            versions = STATE["subjects"].get(parts[1])
            if not versions:
                return self._send(*nf)
            v = len(versions) if parts[3] == "latest" else int(parts[3])
            return self._send(200, _schema_json(versions[v - 1], parts[1], v))
        if parts[:2] == ["schemas", "ids"] and method == "GET":
            return self._send(200, _schema_json(int(parts[2]) - 1))
        if parts[:2] == ["schemas", "guids"] and method == "GET":
            for i in range(len(STATE["schemas"])):
                if L.pinned_guid(i + 1) == parts[2]:
                    return self._send(200, _schema_json(i))
        return self._send(*nf)

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")


def main():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_address[1]}"

    def ctx(topic, headers=None):
        return SerializationContext(topic, MessageField.VALUE, headers)

    def section(title, fn):
        LOG.clear()
        fn(SchemaRegistryClient({"url": url}))
        print(f"\n### {title}")
        for method, path, query, keys, ctype, accept in LOG:
            q = f"?{query}" if query else ""
            b = f"  body keys {keys}" if keys else ""
            print(f"- `{method} {path}{q}`{b}")

    user = '{"type":"record","name":"User","fields":[{"name":"name","type":"string"}]}'

    def avro_prefix(c):
        data = AvroSerializer(c, user)({"name": "a"}, ctx("t"))
        AvroDeserializer(SchemaRegistryClient({"url": url}))(data, ctx("t"))

    def avro_header(c):
        h = {}
        data = AvroSerializer(c, user, conf={"schema.id.serializer": L.HEADER_SERIALIZER})({"name": "abcdefg"}, ctx("t", h))
        AvroDeserializer(SchemaRegistryClient({"url": url}))(data, ctx("t", h))

    def avro_lookup(c):
        AvroSerializer(c, user, conf={"auto.register.schemas": False, "subject.name.strategy.type": "TOPIC"})({"name": "a"}, ctx("t"))

    def avro_latest(c):
        AvroSerializer(c, user, conf={"auto.register.schemas": False, "use.latest.version": True, "normalize.schemas": True})(
            {"name": "a"}, ctx("t")
        )

    def pb(c):
        cls = L.pb_message_class(L.PROTO_DIR, "kcodec.oracle.Order")
        data = ProtobufSerializer(cls, c, conf={"use.deprecated.format": False})(cls(id="x"), ctx("orders"))
        ProtobufDeserializer(cls, {"use.deprecated.format": False}, schema_registry_client=SchemaRegistryClient({"url": url}))(
            data, ctx("orders")
        )

    def js(c):
        data = JSONSerializer('{"type":"object","title":"T"}', c)({"a": 1}, ctx("j"))
        JSONDeserializer(None, schema_registry_client=SchemaRegistryClient({"url": url}))(data, ctx("j"))

    section("Avro: serialize (auto-register, default strategy) then deserialize (fresh client), prefix framing", avro_prefix)
    section("Avro: header framing (GUID) serialize then deserialize with a fresh client", avro_header)
    section("Avro: auto.register.schemas=false, TOPIC strategy (lookup)", avro_lookup)
    section("Avro: use.latest.version=true, normalize.schemas=true", avro_latest)
    section("Protobuf with an imported file: serialize then deserialize (fresh client)", pb)
    section("JSON Schema: serialize then deserialize (fresh client)", js)
    print("\nregistered schemaType values seen:", sorted({s.get("schemaType") for s in STATE["schemas"]}, key=str))
    srv.shutdown()


if __name__ == "__main__":
    main()
