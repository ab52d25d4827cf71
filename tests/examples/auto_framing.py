#!/usr/bin/python3
"""bsonrpc-server --framing auto: one server answers clients of every JSON framing, each in its
own framing (a call back included), one of them sending a byte at a time, and BSON clients
with the BSON codec (one of them a byte at a time too); a client of no framing gets a log line
on stderr and a closed connection, and the server goes on.

usage: auto_framing.py SERVER_BINARY [--executor threads|asio]
Exits 77 (skipped) when the `bson` module is missing.
"""
import argparse
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Server, check, equal  # noqa: E402

harness.require_bson()
from conformance import Conn  # noqa: E402
from wire import Wire, bson_encode  # noqa: E402

FRAMINGS = ["rfc7464", "netstring", "content-length", "ndjson", "frameless"]


def wait_for_stderr(server, text, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and text not in server.stderr():
        time.sleep(0.02)
    return text in server.stderr()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("server")
    p.add_argument("--executor", default="threads", choices=["threads", "asio"])
    a = p.parse_args()
    argv = [a.server, "--listen", "127.0.0.1:0", "--framing", "auto", "--executor", a.executor]
    with Server(argv) as server:
        conns = {f: Conn(server.address, Wire("json", f)) for f in FRAMINGS}
        for framing, conn in conns.items():  # all open at once: each keeps its own framing
            equal(f"[{framing}] add answers in the client's framing", conn.result("add", [2, 3]), 5)
        for framing, conn in conns.items():
            equal(f"[{framing}] swapper answers again", conn.result("swapper", ["abc"]), "cba")

        # One byte per write: detection waits for the bytes that tell framings apart.
        slow = Conn(server.address, Wire("json", "netstring"))
        slow.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        data = slow.wire.encode({"jsonrpc": "2.0", "method": "add", "params": [20, 22], "id": 7})
        for i in range(len(data)):
            slow.send_raw(data[i:i + 1])
            time.sleep(0.001)
        equal("[netstring, 1-byte writes] the request is answered", slow.recv().get("result"), 42)

        # A BSON document selects the BSON codec (CONFORMANCE.md), alongside the JSON clients.
        bson_client = Conn(server.address, Wire("bson", "bson"))
        equal("[bson] add answers over BSON", bson_client.result("add", [1, 2]), 3)
        equal("[bson] swapper answers again", bson_client.result("swapper", ["abc"]), "cba")
        slow_bson = Conn(server.address, Wire("bson", "bson"))
        slow_bson.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        data = bson_encode({"bsonrpc": "2.0", "method": "add", "params": [40, 2], "id": 9})
        for i in range(len(data)):
            slow_bson.send_raw(data[i:i + 1])
            time.sleep(0.001)
        equal("[bson, 1-byte writes] the request is answered", slow_bson.recv().get("result"), 42)
        check("no log line refuses BSON", "the peer sends BSON" not in server.stderr(),
              server.stderr())

        garbage = Conn(server.address, Wire("json", "rfc7464"))
        garbage.send_raw(b"GET / HTTP/1.1\r\n\r\n")
        check("bytes of no framing close the connection", garbage.closed_within(5.0))
        check("the server logs the bytes that match no framing",
              wait_for_stderr(server, "auto: the first bytes match no framing"), server.stderr())

        for framing, conn in conns.items():
            equal(f"[{framing}] other connections go on", conn.result("add", [1, 1]), 2)
            conn.close()
        equal("[bson] the BSON connection goes on", bson_client.result("add", [2, 2]), 4)
        bson_client.close()
        slow_bson.close()
        code = server.terminate()
        equal("the server exits 0 on SIGTERM", code, 0)


if __name__ == "__main__":
    harness.main(main)
