#!/usr/bin/env python3
"""Self-test for tools/oracle: runs oracle.py as a subprocess (exactly as Rust tests do).

    .venv/bin/python tools/oracle/selftest.py      # prints "N passed, 0 failed"

Checks, for every fixture under tests/fixtures/oracle/:
  * decode: both frames decode back to the fixture's "value";
  * encode: encoding the fixture's "value" gives the fixture's bytes (prefix and header mode);
plus encode->decode round trips of fresh values, per-frame error reporting, and that
generate.py --check finds nothing stale (fixtures are deterministic).
"""

import glob
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
FIXTURES = os.path.join(REPO, "tests", "fixtures", "oracle")
ORACLE = os.path.join(HERE, "oracle.py")

passed = 0
failed = 0


def call(req):
    p = subprocess.run([sys.executable, ORACLE], input=json.dumps(req), capture_output=True, text=True)
    try:
        return json.loads(p.stdout)
    except json.JSONDecodeError:
        return {"error": f"bad oracle output (rc {p.returncode}): {p.stdout!r} {p.stderr[-2000:]!r}"}


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {name}: {detail}")


def schemas_of(fx):
    """The fixture's schemas (references first), with their ids and GUIDs forced."""
    entries = []
    for r in fx["references"]:
        entries.append(
            {"subject": r["subject"], "schema_type": r["schema_type"], "schema": r["schema"], "id": r["schema_id"], "guid": r["guid"]}
        )
    entries.append(
        {
            "subject": fx["subject"],
            "schema_type": fx["schema_type"],
            "schema": fx["schema"],
            "references": [{"name": r["name"], "subject": r["subject"], "version": r["version"]} for r in fx["references"]],
            "id": fx["schema_id"],
            "guid": fx["guid"],
        }
    )
    return sorted(entries, key=lambda e: e["id"])


def base_request(fx):
    req = {
        "format": fx["format"],
        "topic": fx["topic"],
        "is_key": fx["is_key"],
        "schemas": schemas_of(fx),
        "config": fx["config"],
    }
    if fx["format"] == "protobuf":
        req["proto_dir"] = os.path.join(HERE, "proto")
        req["message"] = fx["message"]
    return req


def fixture_tests():
    # one oracle process for all fixtures: {"op": "batch"} (a couple of single calls below)
    reqs, expect = [], []
    for path in sorted(glob.glob(os.path.join(FIXTURES, "*", "*.json"))):
        fx = json.load(open(path, encoding="utf-8"))
        name = fx["case"]
        frames = [f for f in fx["frames"] if "python_decode_error" not in f]
        reqs.append({**base_request(fx), "op": "decode", "frames": frames})
        expect.append(("decode", name, fx, frames))
        for frame in fx["frames"]:
            conf = dict(fx["config"])
            if frame["id_mode"] == "header":
                conf["schema.id.serializer"] = "header"
            reqs.append({**base_request(fx), "op": "encode", "config": conf, "values": [fx["value"]]})
            expect.append(("encode", name, fx, frame))
    resps = call({"op": "batch", "format": "avro", "requests": reqs}).get("responses") or [{}] * len(reqs)
    for resp, (op, name, fx, extra) in zip(resps, expect):
        if op == "decode":
            check(f"{name} decode", resp.get("values") == [fx["value"]] * len(extra), json.dumps(resp)[:500])
        else:
            got = (resp.get("frames") or [{}])[0]
            check(
                f"{name} encode {extra['id_mode']}",
                got.get("hex") == extra["hex"] and got.get("headers") == extra["headers"],
                f"{got} != {extra}",
            )

    # the protobuf class can also come from the registered FileDescriptorProtos (no .proto files)
    fx = json.load(open(os.path.join(FIXTURES, "protobuf", "pb_import_reference.json"), encoding="utf-8"))
    req = {**base_request(fx), "op": "decode", "frames": fx["frames"]}
    del req["proto_dir"]
    resp = call(req)
    check("pb decode without proto_dir", resp.get("values") == [fx["value"]] * 2, json.dumps(resp)[:500])


def roundtrip_tests():
    user = json.load(open(os.path.join(FIXTURES, "avro", "avro_user_vector.json"), encoding="utf-8"))
    schemas = [{"subject": "users-value", "schema_type": "AVRO", "schema": user["schema"]}]
    values = [
        {"name": "abcdef", "id": 0, "tags": [], "email": None},
        {"name": "z\u00fc\u00df", "id": -9223372036854775808, "tags": ["a"] * 3, "email": {"string": "x@y"}},
    ]
    for mode in ("prefix", "header"):
        enc = call(
            {"op": "encode", "format": "avro", "topic": "users", "schemas": schemas, "values": values, "config": {"schema.id.serializer": mode}}
        )
        frames = enc.get("frames", [])
        dec = call({"op": "decode", "format": "avro", "topic": "users", "schemas": schemas, "frames": frames})
        check(f"avro roundtrip {mode}", dec.get("values") == values, f"{enc} {dec}")

    # unknown id -> per-frame error, not a crash
    dec = call({"op": "decode", "format": "avro", "topic": "users", "schemas": schemas, "frames": [{"hex": "0000000009" + "00"}]})
    vals = dec.get("values") or [{}]
    check("avro unknown id is a per-frame error", "error" in vals[0], str(dec))

    # protobuf round trip at a nested index
    pb = {"op": "encode", "format": "protobuf", "topic": "t", "proto_dir": os.path.join(HERE, "proto"), "message": "kcodec.oracle.Second.Mid.Deep"}
    enc = call({**pb, "values": [{"note": "a"}, {}]})
    frames = enc.get("frames", [])
    ok = len(frames) == 2 and all(f.get("hex", "").startswith("0000000001060200") for f in frames)
    check("pb encode index [1,0,0]", ok, str(enc))
    dec = call({**pb, "op": "decode", "frames": frames})
    check("pb roundtrip", dec.get("values") == [{"note": "a"}, {}], str(dec))

    # json round trip, header mode
    js = {"op": "encode", "format": "json", "topic": "t", "schemas": [{"subject": "t-value", "schema_type": "JSON", "schema": '{"type":"object"}'}]}
    vals = [{"a": [1, 2.5, None, "s"]}, {}]
    enc = call({**js, "values": vals, "config": {"schema.id.serializer": "header"}})
    dec = call({**js, "op": "decode", "frames": enc.get("frames", [])})
    check("json roundtrip header", dec.get("values") == vals, f"{enc} {dec}")

    # bad request -> top-level error
    bad = call({"op": "nope", "format": "avro"})
    check("bad op is a request error", "error" in bad, str(bad))


def reader_schema_test():
    user = json.load(open(os.path.join(FIXTURES, "avro", "avro_user_vector.json"), encoding="utf-8"))
    reader = '{"type":"record","name":"User","fields":[{"name":"name","type":"string"},{"name":"age","type":"int","default":-1}]}'
    dec = call(
        {
            "op": "decode",
            "format": "avro",
            "topic": "users",
            "schemas": schemas_of(user),
            "frames": [user["frames"][0]],
            "reader_schema": reader,
        }
    )
    check("avro decode with reader_schema", dec.get("values") == [{"name": "alice", "age": -1}], str(dec))


def http_registry_test():
    """registry_url: the same requests against an HTTP registry (endpoint_probe's stub)."""
    import http.server
    import threading

    sys.path.insert(0, HERE)
    import endpoint_probe

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), endpoint_probe.Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_address[1]}"
    try:
        user = json.load(open(os.path.join(FIXTURES, "avro", "avro_user_vector.json"), encoding="utf-8"))
        schemas = [{"subject": "users-value", "schema_type": "AVRO", "schema": user["schema"]}]
        enc = call({"op": "encode", "format": "avro", "topic": "users", "schemas": schemas, "registry_url": url, "values": [user["value"]]})
        check("http registry encode", enc.get("frames") == [{"hex": user["frames"][0]["hex"], "headers": {}}], str(enc))
        dec = call(
            {"op": "decode", "format": "avro", "topic": "users", "schemas": schemas, "registry_url": url, "frames": user["frames"]}
        )
        check("http registry decode (prefix + header/GUID)", dec.get("values") == [user["value"]] * 2, str(dec))
        fx = json.load(open(os.path.join(FIXTURES, "protobuf", "pb_import_reference.json"), encoding="utf-8"))
        req = {**base_request(fx), "registry_url": url, "register": False}
        del req["schemas"]
        enc = call({**req, "op": "encode", "values": [fx["value"]]})
        frames = enc.get("frames", [])
        dec = call({**req, "op": "decode", "frames": frames})
        check("http registry protobuf with reference", dec.get("values") == [fx["value"]], f"{enc} {dec}")
    finally:
        srv.shutdown()


def determinism_test():
    p = subprocess.run([sys.executable, os.path.join(HERE, "generate.py"), "--check"], capture_output=True, text=True)
    check("generate.py --check (fixtures deterministic and current)", p.returncode == 0, p.stdout + p.stderr[-2000:])


def main():
    fixture_tests()
    roundtrip_tests()
    reader_schema_test()
    http_registry_test()
    determinism_test()
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
