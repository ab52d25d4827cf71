#!/usr/bin/python3
"""bsonrpc-server answers rpc.discover with an OpenRPC 1.2.x document of its services, and
`bsonrpc-client --connect ADDR --discover` prints that document and nothing else on stdout, as
one JSON text, exit status 0 (CONFORMANCE.md, "Added for long-lived connections"); the same
document a raw client reads off the wire.

usage: discover.py SERVER_BINARY CLIENT_BINARY [--executor threads|asio]
Exits 77 (skipped) when the `bson` module is missing.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Server, check, equal  # noqa: E402

harness.require_bson()
from conformance import Conn  # noqa: E402
from wire import Wire  # noqa: E402

SERVICES = ["echo", "swapper", "echo_times", "add", "sleep_ms", "fail", "throw_error",
            "long_process", "notify_back", "call_back", "recorded", "close_after", "stats",
            "record", "report_progress"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("server")
    p.add_argument("client")
    p.add_argument("--executor", default="threads", choices=["threads", "asio"])
    a = p.parse_args()
    documents = {}
    for codec, framing in [("json", "rfc7464"), ("json", "ndjson"), ("bson", "bson")]:
        tag = f"[{codec} {framing}]"
        argv = [a.server, "--listen", "127.0.0.1:0", "--codec", codec, "--executor", a.executor]
        client_argv = [a.client, "--connect", None, "--codec", codec, "--discover"]
        if codec == "json":
            argv += ["--framing", framing]
            client_argv += ["--framing", framing]
        with Server(argv) as server:
            client_argv[2] = server.address
            code, out, err = harness.run(client_argv, timeout=20 * harness.SLOW)
            equal(f"{tag} bsonrpc-client --discover exits 0", code, 0)
            check(f"{tag} stdout is one line", out.count("\n") == 1 and out.endswith("\n"), out)
            try:
                doc = json.loads(out)
            except ValueError as e:
                check(f"{tag} stdout is one JSON text", False, f"{e}: {out!r}")
            check(f"{tag} the document is an object", isinstance(doc, dict), out)
            equal(f"{tag} openrpc is 1.2.6", doc.get("openrpc"), "1.2.6")
            equal(f"{tag} info names bsonrpc-server", doc["info"]["title"], "bsonrpc-server")
            check(f"{tag} info has a version", isinstance(doc["info"].get("version"), str))
            names = [m["name"] for m in doc["methods"]]
            equal(f"{tag} rpc.discover comes first", names[0], "rpc.discover")
            check(f"{tag} every service is listed", set(SERVICES) <= set(names), names)
            by_name = {m["name"]: m for m in doc["methods"]}
            equal(f"{tag} echo_times lists its parameter names",
                  [q["name"] for q in by_name["echo_times"]["params"]], ["txt", "n"])
            equal(f"{tag} txt is a string", by_name["echo_times"]["params"][0]["schema"],
                  {"type": "string"})
            equal(f"{tag} the result of swapper is a string",
                  by_name["swapper"]["result"]["schema"], {"type": "string"})
            equal(f"{tag} record is a notification", by_name["record"].get("x-notification"), True)
            check(f"{tag} a Context& is no parameter",
                  [q["name"] for q in by_name["long_process"]["params"]] == ["a", "b", "c"])

            raw = Conn(server.address, Wire(codec, framing))
            wire_doc = raw.result("rpc.discover")
            if codec == "json":
                equal(f"{tag} the client prints what the wire carries", doc, wire_doc)
            raw.close()
            documents[codec] = doc
    equal("both codecs describe the same methods", documents["json"]["methods"],
          documents["bson"]["methods"])


if __name__ == "__main__":
    harness.main(main)
