#!/usr/bin/env python3
"""Writes the seed corpora under tests/fuzz/corpus/ (committed; rerun only to change them).

Standard library only: the few BSON documents are encoded by hand below.
"""
import json
import pathlib
import struct

ROOT = pathlib.Path(__file__).resolve().parent / "corpus"


# --- a minimal BSON encoder: values are Python objects or (type byte, payload bytes) pairs ---
def cstring(s):
    return s.encode() + b"\0"


def string(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("<i", len(b) + 1) + b + b"\0"


def element(key, v):
    if isinstance(v, tuple):
        kind, payload = v
    elif v is None:
        kind, payload = 0x0A, b""
    elif isinstance(v, bool):
        kind, payload = 0x08, bytes([v])
    elif isinstance(v, int):
        kind, payload = (0x10, struct.pack("<i", v)) if -2**31 <= v < 2**31 else (0x12, struct.pack("<q", v))
    elif isinstance(v, float):
        kind, payload = 0x01, struct.pack("<d", v)
    elif isinstance(v, str):
        kind, payload = 0x02, string(v)
    elif isinstance(v, dict):
        kind, payload = 0x03, document(v)
    elif isinstance(v, list):
        kind, payload = 0x04, document({str(i): e for i, e in enumerate(v)})
    else:
        raise TypeError(v)
    return bytes([kind]) + cstring(key) + payload


def document(d):
    body = b"".join(element(k, v) for k, v in d.items()) + b"\0"
    return struct.pack("<i", len(body) + 4) + body


OID = bytes.fromhex("5f1e8c2a9b3d4e5f60718293")
EVERY_TYPE = {
    "double": 1.5,
    "nan": float("nan"),
    "string": "h\u00e9llo\0world",
    "document": {"a": 1},
    "array": [1, "two", None],
    "binary": (0x05, struct.pack("<i", 3) + b"\x00abc"),
    "old_binary": (0x05, struct.pack("<i", 7) + b"\x02" + struct.pack("<i", 3) + b"abc"),
    "uuid": (0x05, struct.pack("<i", 16) + b"\x04" + bytes(range(16))),
    "undefined": (0x06, b""),
    "oid": (0x07, OID),
    "bool": True,
    "date": (0x09, struct.pack("<q", 1577836800123)),
    "old_date": (0x09, struct.pack("<q", -62135596800000)),
    "null": None,
    "regex": (0x0B, cstring("^a.*b$") + cstring("mix")),
    "dbpointer": (0x0C, string("db.coll") + OID),
    "code": (0x0D, string("function() { return 1; }")),
    "symbol": (0x0E, string("sym")),
    "code_w_scope": (0x0F, (lambda code, scope: struct.pack("<i", 4 + len(code) + len(scope)) + code + scope)(
        string("x + y"), document({"x": 1, "y": "z"}))),
    "int32": -7,
    "timestamp": (0x11, struct.pack("<II", 5, 1234567890)),
    "int64": 2**40,
    "decimal128": (0x13, struct.pack("<QQ", 10, 0x303E << 48)),  # 1.0: significand 10, exponent -1
    "min": (0xFF, b""),
    "max": (0x7F, b""),
}

REQUESTS = [
    {"jsonrpc": "2.0", "method": "add", "params": [42, 23], "id": 1},
    {"jsonrpc": "2.0", "method": "greet", "params": {"name": "ada"}, "id": "a"},
    {"jsonrpc": "2.0", "method": "greet", "params": ["ada", "hi"], "id": None},
    {"jsonrpc": "2.0", "method": "count", "params": [["a", "b", "a"]], "id": 2},
    {"jsonrpc": "2.0", "method": "mean", "params": {"xs": [1, 2.5, -3]}, "id": 3},
    {"jsonrpc": "2.0", "method": "mirror", "params": [{"x": 1, "y": 2, "label": "p"}], "id": 4},
    {"jsonrpc": "2.0", "method": "tally", "params": [{"a": 1, "b": 2}], "id": 5},
    {"jsonrpc": "2.0", "method": "pair", "params": [[7, "seven"]], "id": 6},
    {"jsonrpc": "2.0", "method": "echo", "params": [{"$oid": OID.hex()}], "id": 7},
    {"jsonrpc": "2.0", "method": "huge", "params": [18446744073709551615], "id": 8},
    {"jsonrpc": "2.0", "method": "not_utf8", "id": 9},
    {"jsonrpc": "2.0", "method": "fail", "params": [-32001, "no", {"why": "asked"}], "id": 10},
    {"jsonrpc": "2.0", "method": "crash", "params": ["boom"], "id": 11},
    {"jsonrpc": "2.0", "method": "throw_int", "id": 12},
    {"jsonrpc": "2.0", "method": "ask_peer", "id": 13},
    {"jsonrpc": "2.0", "method": "note", "params": ["hello"]},
    {"jsonrpc": "2.0", "method": "note_crash"},
    {"jsonrpc": "2.0", "method": "missing", "id": 14},
    {"jsonrpc": "2.0", "result": {"a": [1, 2]}, "id": 15},
    {"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found", "data": [1]}, "id": 16},
    {"jsonrpc": "1.0", "method": "add", "params": [1, 2], "id": 17},
    {"jsonrpc": "2.0", "method": 1, "params": "bar"},
]


def write(target, name, data):
    path = ROOT / target / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode())


def compact(v):
    return json.dumps(v, separators=(",", ":"))


def framing_seed(limit_bits, largest_read, seed, stream):
    """The two header bytes framing_driver.hpp reads, then the stream."""
    return bytes([limit_bits << 6 | (largest_read - 1), seed]) + stream


def main():
    messages = [compact(r).encode() for r in REQUESTS[:4]]

    rs = b"\x1e"
    write("fuzz_framing_rfc7464", "two_texts", framing_seed(3, 7, 1, b"".join(rs + m + b"\n" for m in messages)))
    write("fuzz_framing_rfc7464", "rs_runs_and_truncation", framing_seed(3, 3, 2, rs * 3 + b'{"a"' + rs + b"[1]\n" + rs + b"\n"))
    write("fuzz_framing_rfc7464", "too_long", framing_seed(0, 5, 3, rs + b"x" * 20 + b"\n"))
    write("fuzz_framing_rfc7464", "no_rs", framing_seed(3, 1, 4, b"{}\n"))

    def netstring(m):
        return str(len(m)).encode() + b":" + m + b","
    write("fuzz_framing_netstring", "messages", framing_seed(3, 9, 1, b"".join(netstring(m) for m in messages)))
    write("fuzz_framing_netstring", "empty_and_partial", framing_seed(1, 2, 2, b"0:," + b"5:abc"))
    write("fuzz_framing_netstring", "too_long", framing_seed(0, 4, 3, b"17:" + b"x" * 17 + b","))
    write("fuzz_framing_netstring", "leading_zero", framing_seed(3, 1, 4, b"01:a,"))
    write("fuzz_framing_netstring", "bad_terminator", framing_seed(3, 3, 5, b"3:abc;"))

    write("fuzz_framing_frameless", "messages", framing_seed(3, 11, 1, b" \n".join(messages)))
    write("fuzz_framing_frameless", "strings_and_nesting",
          framing_seed(2, 3, 2, b'\t{"a":"}]\\"{[","b":[[{}]]}[1,{"c":"\\\\"}]\r\n'))
    write("fuzz_framing_frameless", "scalar", framing_seed(3, 2, 3, b"  42"))
    write("fuzz_framing_frameless", "mismatch", framing_seed(3, 2, 4, b"{[}]"))
    write("fuzz_framing_frameless", "too_long", framing_seed(0, 6, 5, b'{"a":"' + b"x" * 20 + b'"}'))

    docs = [document(r) for r in REQUESTS[:3]]
    write("fuzz_framing_bson", "documents", framing_seed(3, 13, 1, b"".join(docs)))
    write("fuzz_framing_bson", "empty_documents", framing_seed(0, 2, 2, document({}) * 3))
    write("fuzz_framing_bson", "too_long", framing_seed(0, 3, 3, docs[0]))
    write("fuzz_framing_bson", "bad_length", framing_seed(3, 1, 4, struct.pack("<i", 4) + b"\0" + struct.pack("<i", -1)))

    # AutoFraming: each framing it detects, the BSON it refuses, and bytes that match none.
    write("fuzz_framing_auto", "rfc7464", framing_seed(3, 5, 1, b"".join(rs + m + b"\n" for m in messages)))
    write("fuzz_framing_auto", "netstring", framing_seed(3, 2, 2, b"".join(netstring(m) for m in messages)))
    write("fuzz_framing_auto", "content_length", framing_seed(3, 7, 3, b"".join(
        b"Content-Length: %d\r\n\r\n" % len(m) + m for m in messages)))
    write("fuzz_framing_auto", "content_type_first", framing_seed(3, 3, 4,
        b"content-type: application/json\r\nContent-Length: 2\r\n\r\n{}"))
    write("fuzz_framing_auto", "json_texts", framing_seed(3, 11, 5, b"\n".join(messages) + b"\n"))
    write("fuzz_framing_auto", "empty_object", framing_seed(3, 1, 6, b"{}"))
    write("fuzz_framing_auto", "bson", framing_seed(3, 13, 7, b"".join(docs)))
    write("fuzz_framing_auto", "unknown", framing_seed(3, 2, 8, b"GET / HTTP/1.1\r\n\r\n"))
    write("fuzz_framing_auto", "digits_only", framing_seed(3, 1, 9, b"123456"))

    write("fuzz_codec_json", "request", compact(REQUESTS[0]))
    write("fuzz_codec_json", "batch", compact(REQUESTS[:3]))
    write("fuzz_codec_json", "numbers", "[0,-0,1.5,-2e-300,1e400,9223372036854775807,18446744073709551615,18446744073709551616]")
    write("fuzz_codec_json", "strings", '{"s":"a\\u00e9\\ud83d\\ude00\\n\\"\\\\\\/","e":"","\\u0000":null}')
    write("fuzz_codec_json", "nested", "[" * 20 + "{}" + "]" * 20)
    write("fuzz_codec_json", "invalid", '{"a":1,}')

    write("fuzz_codec_bson", "every_type", document(EVERY_TYPE))
    write("fuzz_codec_bson", "request", document(REQUESTS[1]))
    write("fuzz_codec_bson", "empty", document({}))
    write("fuzz_codec_bson", "duplicate_keys", document({"a": 1}) [:-1] + element("a", "two") + b"\0")
    # Array keys other than "0", "1", ... are valid and re-encode renumbered (BSON corpus).
    write("fuzz_codec_bson", "degenerate_array_keys", document({"a": (0x04, document({"x": 1, "": "y"}))}))
    write("fuzz_codec_bson", "nested", document({"a": {"b": {"c": [[{"d": None}]]}}}))

    ext = {
        "canonical": {"i": {"$numberInt": "-5"}, "l": {"$numberLong": "1099511627776"},
                      "d": {"$numberDouble": "-0.0"}, "inf": {"$numberDouble": "-Infinity"},
                      "dec": {"$numberDecimal": "1.23E+4"}, "date": {"$date": {"$numberLong": "-1"}},
                      "oid": {"$oid": OID.hex()}, "bin": {"$binary": {"base64": "AAEC", "subType": "80"}},
                      "ts": {"$timestamp": {"t": 1, "i": 2}}, "re": {"$regularExpression": {"pattern": "a", "options": "xi"}}},
        "relaxed": {"i": 5, "l": 10**12, "d": 2.5, "date": {"$date": "2020-01-01T00:00:00.123Z"}, "s": "x", "a": [True, None]},
        "legacy": [{"$binary": "AAEC", "$type": "00"}, {"$regex": "^a", "$options": "m"},
                   {"$uuid": "00112233-4455-6677-8899-aabbccddeeff"}],
        "deprecated": {"sym": {"$symbol": "s"}, "code": {"$code": "f()"}, "scope": {"$code": "g()", "$scope": {"x": 1}},
                       "ptr": {"$dbPointer": {"$ref": "db.c", "$id": {"$oid": OID.hex()}}},
                       "min": {"$minKey": 1}, "max": {"$maxKey": 1}, "undef": {"$undefined": True}},
        "malformed": {"$oid": 42},
    }
    for name, value in ext.items():
        write("fuzz_extended_json", name, compact(value))

    for i, r in enumerate(REQUESTS):
        write("fuzz_dispatcher_json", f"message_{i:02}", compact(r))
    write("fuzz_dispatcher_json", "batch", compact(REQUESTS[:3] + [REQUESTS[15], 1]))
    write("fuzz_dispatcher_json", "notification_batch", compact([REQUESTS[15], REQUESTS[16]]))
    write("fuzz_dispatcher_json", "empty_batch", "[]")
    write("fuzz_dispatcher_json", "parse_error", '{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]')

    for i, r in enumerate(REQUESTS):
        r = {("bsonrpc" if k == "jsonrpc" else k): v for k, v in r.items()}
        if r.get("method") == "huge":
            r["params"] = [2**62]
        if r.get("method") == "echo":
            r["params"] = [(0x07, OID)]
        write("fuzz_dispatcher_bson", f"message_{i:02}", document(r))
    write("fuzz_dispatcher_bson", "every_type_echo",
          document({"bsonrpc": "2.0", "method": "echo", "params": [EVERY_TYPE], "id": 99}))


if __name__ == "__main__":
    main()
