#!/usr/bin/python3
"""Black-box conformance test of bsonrpc-server (CONFORMANCE.md) over raw sockets.

It starts the server on 127.0.0.1 port 0, reads the `listening on` line, and drives every
service with hand-built frames: JSON texts framed by hand for rfc7464, netstring, frameless,
content-length and ndjson, or BSON documents from pymongo's `bson` module. The test plays the
peer too, answering the server's calls (long_process, call_back) and receiving its
notifications (notify_back).

usage: conformance.py SERVER_BINARY --codec json|bson
                      [--framing rfc7464|netstring|frameless|content-length|ndjson]
                      [--executor threads|asio]
Exits 77 (skipped) when the `bson` module is missing.
"""
import argparse
import datetime
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import CheckFailed, Server, check, equal  # noqa: E402

harness.require_bson()
from bson import Binary, Code, Decimal128, Int64, MaxKey, MinKey, ObjectId, Regex, Timestamp  # noqa: E402
from wire import Wire, bson_encode  # noqa: E402

TIMEOUT = 5.0


class Conn:
    """One client connection speaking raw frames."""

    def __init__(self, address, wire):
        host, port = address.rsplit(":", 1)
        self.sock = socket.create_connection((host.strip("[]"), int(port)), timeout=TIMEOUT)
        self.wire = wire
        self.buf = b""
        self.next_id = 1

    def close(self):
        self.sock.close()

    def send(self, message):
        self.sock.sendall(self.wire.encode(message))

    def send_raw(self, data):
        self.sock.sendall(data)

    def request(self, method, params=None, id=None):
        if id is None:
            id = self.next_id
            self.next_id += 1
        m = {self.wire.key: "2.0", "method": method, "id": id}
        if params is not None:
            m["params"] = params
        self.send(m)
        return id

    def notify(self, method, params=None):
        m = {self.wire.key: "2.0", "method": method}
        if params is not None:
            m["params"] = params
        self.send(m)

    def respond(self, id, result=None, error=None):
        m = {self.wire.key: "2.0", "id": id}
        if error is not None:
            m["error"] = error
        else:
            m["result"] = result
        self.send(m)

    def recv_payload(self, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            found = self.wire.extract(self.buf)
            if found:
                payload, used = found
                self.buf = self.buf[used:]
                return payload
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise CheckFailed(f"no message within {timeout} s (buffered {self.buf[:80]!r})")
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            if not data:
                raise CheckFailed(f"connection closed while waiting (buffered {self.buf!r})")
            self.buf += data

    def recv(self, timeout=TIMEOUT):
        return self.wire.decode(self.recv_payload(timeout))

    def call(self, method, params=None):
        """Sends a request and returns its response (nothing else may arrive first)."""
        id = self.request(method, params)
        response = self.recv()
        equal(f"{method}: the response carries the request's id", response.get("id"), id)
        return response

    def result(self, method, params=None):
        response = self.call(method, params)
        check(f"{method}: success response", "result" in response and "error" not in response,
              response)
        equal(f"{method}: the version member is \"2.0\"", response.get(self.wire.key), "2.0")
        return response["result"]

    def error(self, method, params=None):
        response = self.call(method, params)
        check(f"{method}: error response", "error" in response and "result" not in response,
              response)
        return response["error"]

    def closed_within(self, timeout):
        """True if the server closes the connection within `timeout` seconds."""
        closed, received, _ = harness.closed_within(self.sock, timeout)
        self.buf += received
        return closed


def same_bson(a, b):
    """Whether two values encode to the same BSON bytes (types included)."""
    return bson_encode({"v": a}) == bson_encode({"v": b})


class Suite:
    def __init__(self, server, wire):
        self.server = server
        self.wire = wire
        self.bson = wire.codec == "bson"
        self.tag = f"[{'bson' if self.bson else 'json ' + wire.framing}]"

    def conn(self):
        return Conn(self.server.address, self.wire)

    def run(self):
        c = self.conn()
        self.simple_services(c)
        self.named_params(c)
        self.invalid_params(c)
        self.errors(c)
        self.echo_types(c)
        self.callbacks(c)
        self.concurrency(c)
        c = self.malformed(c)
        if not self.bson:
            self.batches(c)
        self.records()
        self.stats()
        self.close_after()
        self.framing_error_isolated()
        c.close()

    def simple_services(self, c):
        t = self.tag
        equal(f"{t} echo returns its argument", c.result("echo", ["hi"]), "hi")
        equal(f"{t} swapper reverses by code point", c.result("swapper", ["héllo wörld 😀!"]),
              "!😀 dlröw olléh")
        equal(f"{t} echo_times repeats", c.result("echo_times", ["ab", 3]), "ababab")
        equal(f"{t} echo_times 0 times is empty", c.result("echo_times", ["ab", 0]), "")
        r = c.result("add", [2, 3])
        check(f"{t} add of integers is the integer 5", r == 5 and type(r) is int, repr(r))
        r = c.result("add", [1, 2.5])
        check(f"{t} add with a double is the double 3.5", r == 3.5 and type(r) is float, repr(r))
        big = 2**62
        r = c.result("add", [big, big - 1])
        check(f"{t} add keeps int64 precision", r == 2**63 - 1 and type(r) in (int, Int64), repr(r))
        r = c.result("add", [2**63 - 1, 1])
        check(f"{t} add overflowing int64 falls back to a double", type(r) is float and
              r == float(2**63), repr(r))
        equal(f"{t} sleep_ms returns null", c.result("sleep_ms", [1]), None)
        c.notify("report_progress", ["a progress message for the server log"])
        equal(f"{t} the server takes report_progress and keeps serving",
              c.result("echo", [1]), 1)
        if self.bson:
            r = c.result("add", [Int64(2), 3])
            check(f"{t} add of an int64 gives an int64", type(r) is Int64 and r == 5, repr(r))
            r = c.result("add", [2**31 - 1, 1])
            check(f"{t} add of two int32 overflowing int32 gives an int64",
                  type(r) is Int64 and r == 2**31, repr(r))
            r = c.result("add", [2, 3])
            check(f"{t} add of two int32 gives an int32", type(r) is int, repr(type(r)))

    def named_params(self, c):
        t = self.tag
        equal(f"{t} echo by name", c.result("echo", {"value": [1, "x"]}), [1, "x"])
        equal(f"{t} swapper by name", c.result("swapper", {"txt": "abc"}), "cba")
        equal(f"{t} echo_times by name, in any order", c.result("echo_times", {"n": 2, "txt": "x"}),
              "xx")
        equal(f"{t} add by name", c.result("add", {"a": 40, "b": 2}), 42)
        equal(f"{t} sleep_ms by name", c.result("sleep_ms", {"ms": 1}), None)
        e = c.error("fail", {"code": 12, "message": "by name"})
        equal(f"{t} fail by name", (e["code"], e["message"], "data" in e), (12, "by name", False))
        e = c.error("throw_error", {"message": "named boom"})
        equal(f"{t} throw_error by name", (e["code"], e.get("data")), (-32000, "named boom"))
        equal(f"{t} recorded with empty params", c.result("recorded", []), [])
        equal(f"{t} recorded with empty named params", c.result("recorded", {}), [])
        equal(f"{t} recorded without params", c.result("recorded"), [])

    def invalid_params(self, c):
        t = self.tag
        cases = [
            ("swapper", ["a", "b"], "too many positional params"),
            ("echo_times", ["a"], "too few positional params"),
            ("echo", None, "no params for a one-parameter method"),
            ("echo_times", ["a", "b"], "a string where an integer goes"),
            ("swapper", [5], "a number where a string goes"),
            ("add", ["x", 1], "a string where a number goes"),
            ("sleep_ms", [1.5], "a fraction where an integer goes"),
            ("swapper", {"text": "a"}, "an unknown parameter name"),
            ("echo_times", {"txt": "a"}, "a missing named parameter"),
            ("notify_back", ["m", 5], "params that are neither an array nor an object"),
            ("fail", ["x", "y"], "a string where the error code goes"),
        ]
        for method, params, why in cases:
            e = c.error(method, params)
            equal(f"{t} -32602 for {why} ({method})", e["code"], -32602)

    def errors(self, c):
        t = self.tag
        e = c.error("no_such_method", [1])
        equal(f"{t} an unknown method is -32601", (e["code"], e["message"]),
              (-32601, "Method not found"))
        e = c.error("fail", [-32099, "custom failure", {"k": [1, 2]}])
        equal(f"{t} fail answers exactly that code, message and data", e,
              {"code": -32099, "message": "custom failure", "data": {"k": [1, 2]}})
        e = c.error("fail", [7, "without data"])
        equal(f"{t} fail without data sends no data member", e, {"code": 7, "message": "without data"})
        e = c.error("fail", [8, "null data", None])
        check(f"{t} fail with null data sends data: null", "data" in e and e["data"] is None, e)
        e = c.error("throw_error", ["it broke"])
        check(f"{t} throw_error is -32000 with the message in data",
              e["code"] == -32000 and "it broke" in str(e.get("data")), e)

    def echo_types(self, c):
        t = self.tag
        if not self.bson:
            samples = [None, True, False, 0, -1, 2**63 - 1, -2**63, 1.5, 1.0, -0.25, "",
                       "ünïcødé ☃ 😀", [], {}, [1, [2, [3, {"a": None}]]],
                       {"nested": {"list": [1, 2.5, "x"], "empty": {}}}]
            for value in samples:
                r = c.result("echo", [value])
                check(f"{t} echo returns {value!r} unchanged, same JSON type",
                      r == value and type(r) is type(value), repr(r))
            return
        samples = {
            "int32": 7,
            "int64": Int64(7),
            "double": 2.5,
            "string": "héllo",
            "binary subtype 0": Binary(b"\x00\x01\xff", 0),
            "binary subtype 4 (uuid)": Binary(bytes(range(16)), 4),
            "binary user subtype 0x80": Binary(b"xyz", 0x80),
            "datetime": datetime.datetime(2021, 5, 6, 7, 8, 9, 123000),
            "datetime before 1970": datetime.datetime(1901, 1, 1),
            "ObjectId": ObjectId("0123456789abcdef01234567"),
            "Decimal128": Decimal128("1234.5678"),
            "Timestamp": Timestamp(1234567890, 3),
            "Regex": Regex("^a.c$", "im"),
            "MinKey": MinKey(),
            "MaxKey": MaxKey(),
            "JavaScript code": Code("x = 1"),
            "null": None,
            "bool": True,
            "document keeping key order": {"z": 1, "a": Int64(2), "m": {"y": 1, "b": 2}},
            "array of mixed types": [1, Int64(2), 3.0, "x", Binary(b"b", 0x80)],
        }
        for name, value in samples.items():
            r = c.result("echo", [value])
            check(f"{t} echo keeps {name} byte for byte", same_bson(r, value),
                  f"sent {value!r}, got {r!r}")
        everything = dict(samples)
        r = c.result("echo", {"value": everything})
        check(f"{t} echo by name keeps a document of every type byte for byte",
              same_bson(r, everything), repr(r))
        r = c.result("echo", [Int64(5)])
        check(f"{t} echo keeps int64 as int64", type(r) is Int64, repr(type(r)))
        r = c.result("echo", [5])
        check(f"{t} echo keeps int32 as int32", type(r) is int and type(r) is not Int64,
              repr(type(r)))

    def callbacks(self, c):
        t = self.tag
        # long_process: two notifications, then a request we answer, then the result.
        for params in ([2, 3, 4], {"a": 2, "b": 3, "c": 4}):
            id = c.request("long_process", params)
            m1, m2, req = c.recv(), c.recv(), c.recv()
            equal(f"{t} long_process notifies report_progress Stage 1",
                  (m1.get("method"), m1.get("params"), "id" in m1),
                  ("report_progress", ["Stage 1"], False))
            equal(f"{t} long_process notifies report_progress Stage 2",
                  (m2.get("method"), m2.get("params"), "id" in m2),
                  ("report_progress", ["Stage 2"], False))
            equal(f"{t} long_process then calls swapper('TestinG') on the caller",
                  (req.get("method"), req.get("params"), req.get(self.wire.key)),
                  ("swapper", ["TestinG"], "2.0"))
            c.respond(req["id"], "GnitseT")
            r = c.recv()
            equal(f"{t} long_process returns a*b*c once swapper answered",
                  (r.get("id"), r.get("result")), (id, 24))

        # notify_back: a notification to us, then `true`.
        id = c.request("notify_back", ["peer_note", ["a", 1, {"b": None}]])
        n, r = c.recv(), c.recv()
        equal(f"{t} notify_back sends the notification with those params",
              (n.get("method"), n.get("params"), "id" in n), ("peer_note", ["a", 1, {"b": None}],
                                                               False))
        equal(f"{t} notify_back then returns true", (r.get("id"), r.get("result")), (id, True))
        id = c.request("notify_back", {"method": "peer_note", "params": []})
        n, r = c.recv(), c.recv()
        equal(f"{t} notify_back by name", (n.get("method"), r.get("result")), ("peer_note", True))

        # call_back: a request to us; our result or our error comes back.
        id = c.request("call_back", ["peer_echo", [5, "x"]])
        req = c.recv()
        equal(f"{t} call_back calls the method on the caller with those params",
              (req.get("method"), req.get("params")), ("peer_echo", [5, "x"]))
        c.respond(req["id"], {"got": [5, "x"]})
        r = c.recv()
        equal(f"{t} call_back returns the caller's result", (r.get("id"), r.get("result")),
              (id, {"got": [5, "x"]}))
        id = c.request("call_back", {"method": "peer_fails", "params": []})
        req = c.recv()
        c.respond(req["id"], error={"code": -32042, "message": "peer says no", "data": {"w": 1}})
        r = c.recv()
        equal(f"{t} call_back turns the caller's error into an error with the same code",
              (r.get("id"), r.get("error", {}).get("code"), r.get("error", {}).get("message")),
              (id, -32042, "peer says no"))
        id = c.request("call_back", ["peer_missing", []])
        req = c.recv()
        c.respond(req["id"], error={"code": -32601, "message": "Method not found"})
        r = c.recv()
        equal(f"{t} call_back passes on the caller's -32601", r.get("error", {}).get("code"), -32601)

    def concurrency(self, c):
        t = self.tag
        ids = list(range(1000, 1016))
        start = time.monotonic()
        c.send_raw(b"".join(c.wire.encode({self.wire.key: "2.0", "method": "sleep_ms",
                                            "params": [50], "id": i}) for i in ids))
        got = sorted(c.recv()["id"] for _ in ids)
        elapsed = time.monotonic() - start
        equal(f"{t} 16 concurrent sleep_ms(50) all answer", got, ids)
        # One after another they would take 800 ms: the bound stays below that even when
        # scaled for a sanitizer build.
        bound = min(0.4 * harness.SLOW, 0.75)
        check(f"{t} 16 concurrent sleep_ms(50) on one connection take < {bound * 1000:.0f} ms "
              f"({elapsed * 1000:.0f} ms)", elapsed < bound, f"{elapsed:.3f} s")

    def malformed(self, c):
        t = self.tag
        if self.bson:
            # A sound frame (length 12) around an element of unknown type 0x99.
            c.send_raw(struct.pack("<i", 12) + b"\x99k\x00" + b"\x00" * 4 + b"\x00")
            r = c.recv()
            equal(f"{t} an undecodable document gets -32700 with a null id",
                  (r.get("error", {}).get("code"), r.get("id")), (-32700, None))
        else:
            bad = b'{"jsonrpc":"2.0","method":"echo","params":[1],,"id":1}'
            c.send_raw(c.wire.frame(bad))
            r = c.recv()
            equal(f"{t} invalid JSON gets -32700 with a null id",
                  (r.get("error", {}).get("code"), r.get("id")), (-32700, None))
        if self.wire.framing == "frameless":
            # Frameless JSON finds message boundaries by parsing: after bytes that do not
            # parse, the next boundary is a guess, so the server closes the connection.
            check(f"{t} after a parse error, a frameless connection closes", c.closed_within(3))
            c.close()
            c = self.conn()
        else:
            equal(f"{t} the connection still works after a parse error", c.result("echo", [2]), 2)

        invalid = [
            ({self.wire.key: "2.0", "id": 71}, "neither request nor response"),
            ({self.wire.key: "1.0", "method": "echo", "params": [1], "id": 72}, "wrong version"),
            ({"method": "echo", "params": [1], "id": 73}, "no version member"),
            ({self.wire.key: "2.0", "method": 5, "id": 74}, "a method that is not a string"),
            ({self.wire.key: "2.0", "method": "echo", "params": 5, "id": 75},
             "params that are neither array nor object"),
        ]
        for message, why in invalid:
            c.send(message)
            r = c.recv()
            check(f"{t} -32600 for {why}",
                  r.get("error", {}).get("code") == -32600 and r.get("id") in (message["id"], None),
                  r)
        if not self.bson and self.wire.framing != "frameless":
            c.send_raw(c.wire.frame(b"42"))
            r = c.recv()
            equal(f"{t} a bare scalar message gets -32600", r.get("error", {}).get("code"), -32600)
        equal(f"{t} the connection still works after invalid requests", c.result("echo", [3]), 3)
        return c

    def batches(self, c):
        t = self.tag
        c.send([{"jsonrpc": "2.0", "method": "swapper", "params": ["ab"], "id": "a"},
                {"jsonrpc": "2.0", "method": "record", "params": ["in a batch"]},
                {"jsonrpc": "2.0", "method": "no_such_method", "id": "b"},
                {"foo": "bar"},
                {"jsonrpc": "2.0", "method": "add", "params": {"a": 1, "b": 1}, "id": "c"}])
        r = c.recv()
        check(f"{t} a batch gets an array with one response per request", isinstance(r, list) and
              len(r) == 4, r)
        by_id = {x.get("id"): x for x in r}
        equal(f"{t} batch: the request's result", by_id.get("a", {}).get("result"), "ba")
        equal(f"{t} batch: -32601 for the unknown method",
              by_id.get("b", {}).get("error", {}).get("code"), -32601)
        equal(f"{t} batch: -32600 with a null id for the invalid entry",
              by_id.get(None, {}).get("error", {}).get("code"), -32600)
        equal(f"{t} batch: named params work inside a batch", by_id.get("c", {}).get("result"), 2)
        c.send([])
        r = c.recv()
        check(f"{t} an empty batch gets one -32600 (not an array)",
              isinstance(r, dict) and r.get("error", {}).get("code") == -32600, r)
        c.send([1, 2])
        r = c.recv()
        check(f"{t} a batch of non-objects gets one -32600 per entry",
              isinstance(r, list) and [x["error"]["code"] for x in r] == [-32600, -32600], r)
        c.send([{"jsonrpc": "2.0", "method": "record", "params": [1]},
                {"jsonrpc": "2.0", "method": "report_progress", "params": ["x"]}])
        equal(f"{t} an all-notification batch gets no response at all",
              c.result("echo", ["after"]), "after")

    def records(self):
        t = self.tag
        a, b = self.conn(), self.conn()
        values = [1, "two", [3], {"four": 4}, None]
        if self.bson:
            values += [Int64(5), Binary(b"\x06", 0x80), datetime.datetime(2020, 1, 1)]
        for v in values:
            a.notify("record", [v])
        b.notify("record", {"value": "only on b"})
        got = a.result("recorded")
        check(f"{t} recorded returns the values in arrival order, types intact",
              len(got) == len(values) and all(same_bson(x, y) for x, y in zip(got, values)),
              f"{got!r}")
        equal(f"{t} record is per connection", b.result("recorded"), ["only on b"])
        a.close()
        b.close()

    def stats(self):
        t = self.tag
        c = self.conn()
        c.result("echo", [1])
        c.error("no_such_method")
        c.notify("record", [1])
        s = c.result("stats")
        equal(f"{t} stats counts this connection's requests (itself included), notifications "
              "and errors sent", (s.get("requests"), s.get("notifications"), s.get("errors_sent")),
              (3, 1, 1))
        c.close()
        c = self.conn()
        s = c.result("stats", {})
        equal(f"{t} stats start from zero on a new connection",
              (s.get("requests"), s.get("notifications"), s.get("errors_sent")), (1, 0, 0))
        c.close()

    def close_after(self):
        t = self.tag
        c = self.conn()
        equal(f"{t} close_after returns \"bye\"", c.result("close_after"), "bye")
        check(f"{t} close_after then closes the connection", c.closed_within(3))
        c.close()

    def framing_error_isolated(self):
        t = self.tag
        if self.wire.framing == "ndjson":
            return  # every byte sequence splits into lines: no framing error short of the size limit
        bystander = self.conn()
        broken = self.conn()
        garbage = {"rfc7464": b"no record separator\n", "netstring": b"abc:",
                   "frameless": b"42 ", "bson": struct.pack("<i", 2),
                   "content-length": b"Content-Length: 1x\r\n\r\n"}[self.wire.framing]
        broken.send_raw(garbage)
        check(f"{t} an irrecoverable framing error closes that connection",
              broken.closed_within(3))
        equal(f"{t} other connections keep working after a framing error",
              bystander.result("echo", ["still here"]), "still here")
        broken.close()
        bystander.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("server")
    p.add_argument("--codec", default="json", choices=["json", "bson"])
    p.add_argument("--framing", default="rfc7464",
                   choices=["rfc7464", "netstring", "frameless", "content-length", "ndjson"])
    p.add_argument("--executor", default="threads", choices=["threads", "asio"])
    a = p.parse_args()
    argv = [a.server, "--listen", "127.0.0.1:0", "--codec", a.codec, "--framing", a.framing,
            "--executor", a.executor]
    with Server(argv) as server:
        Suite(server, Wire(a.codec, a.framing)).run()
        code = server.terminate()
        equal("the server exits 0 on SIGTERM", code, 0)


if __name__ == "__main__":
    harness.main(main)
