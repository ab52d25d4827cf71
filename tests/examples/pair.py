#!/usr/bin/python3
"""Runs an example server and its client end to end over real sockets.

usage:
  pair.py quickstart SERVER CLIENT
  pair.py features SERVER CLIENT
  pair.py conformance SERVER CLIENT WORKDIR [--codec C] [--framing F]
          [--transport tcp|ipv6|unix|tls|mtls] [--certs DIR] [--executor threads|asio]
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Server, check, equal, main, run  # noqa: E402


def quickstart(server_bin, client_bin):
    with Server([server_bin, "0"]) as server:
        code, out, err = run([client_bin, str(server.port), server.host])
        equal("the quickstart client exits 0", code, 0)
        equal("the quickstart client prints the swapped string", out, "!dlroW olleH\n")


def features(server_bin, client_bin):
    with Server([server_bin, "0"]) as server:
        code, out, err = run([client_bin, str(server.port), server.host])
        equal("the features client exits 0", code, 0)
        lines = out.splitlines()
        equal("the batch results come first", lines[:1], ["['-hello--hello-', '-world-']"])
        check("the server's progress notifications are printed in order",
              lines[1:3] == ["Msg from server: Stage 1", "Msg from server: Stage 2"], out)
        equal("long_process(2, 3, 4) returns 24", lines[3:], ["24"])
        printed = server.output_until("GnitseT", 5)
        check("the server printed the client's info and the swapped 'TestinG'",
              len(printed) == 2 and printed[0].startswith("127.0.0.1:") and
              printed[1] == "GnitseT", printed)


def conformance(args):
    server_argv = [args.server, "--codec", args.codec, "--framing", args.framing,
                   "--executor", args.executor, "--verbose"]
    client_base = [args.client, "--codec", args.codec, "--framing", args.framing,
                   "--executor", args.executor, "--timeout-ms", "10000"]
    certs = args.certs
    listen = "127.0.0.1:0"
    if args.transport == "ipv6":
        listen = "[::1]:0"
    if args.transport == "unix":
        listen = f"unix:{args.workdir}/bsonrpc-{args.codec}-{args.framing}-{args.executor}.sock"
    if args.transport in ("tls", "mtls"):
        server_argv += ["--tls-cert", f"{certs}/server.pem", "--tls-key", f"{certs}/server.key"]
        client_base += ["--tls-ca", f"{certs}/ca.pem"]
    if args.transport == "mtls":
        server_argv += ["--tls-client-ca", f"{certs}/ca.pem"]
    os.makedirs(args.workdir, exist_ok=True)
    # Tests run in parallel: each writes files of its own.
    files = f"{args.workdir}/{args.codec}-{args.framing}-{args.transport}-{args.executor}"

    with Server(server_argv + ["--listen", listen]) as server:
        if args.transport == "unix":
            equal("the server names its Unix socket", server.address, listen)
        if args.transport == "ipv6":
            check("the IPv6 listening line is [::1]:PORT",
                  server.address.startswith("[::1]:") and server.port > 0, server.address)
        client = client_base + ["--connect", server.address]
        if args.transport == "mtls":
            plain_client = client
            client = client + ["--tls-cert", f"{certs}/client.pem",
                               "--tls-key", f"{certs}/client.key"]

        code, out, err = run(client)
        equal("the README scenario exits 0", code, 0)
        equal("the README scenario prints the batch, the progress messages and 24",
              out.splitlines(),
              ['["-hello--hello-","-world-"]', "Msg from server: Stage 1",
               "Msg from server: Stage 2", "24"])

        code, out, err = run(client + ["--call", "swapper", '["Hello World!"]'])
        equal("--call prints the result as JSON", (code, out), (0, '"!dlroW olleH"\n'))

        code, out, err = run(client + ["--call", "echo_times", '{"txt": "ab", "n": 3}'])
        equal("--call with named params", (code, out), (0, '"ababab"\n'))

        code, out, err = run(client + ["--call", "add", '[{"$numberLong": "40"}, 2]'])
        equal("--call reads Extended JSON params", (code, out), (0, "42\n"))

        code, out, err = run(client + ["--call", "fail", '[-32042, "no way", {"why": 1}]'])
        equal("--call exits 1 on an error response", code, 1)
        equal("--call prints the error object on stderr",
              json.loads(err), {"code": -32042, "message": "no way", "data": {"why": 1}})
        equal("--call prints nothing on stdout for an error", out, "")

        code, out, err = run(client + ["--call", "long_process", '[1, 2, 3]'])
        equal("--call long_process serves the server's callbacks", (code, out), (0, "6\n"))

        # The client exits right after sending: the notification must still leave.
        code, out, err = run(client + ["--notify", "report_progress", '["from the test"]'])
        equal("--notify exits 0", (code, out), (0, ""))
        check("--notify: the notification reached the server (its --verbose log shows it)",
              server_logged(server, "report_progress: from the test"))

        batch_file = f"{files}-batch.json"
        with open(batch_file, "w") as f:
            json.dump([{"method": "echo_times", "params": ["-hello-", 2]},
                       {"method": "record", "params": [1], "notify": True},
                       {"method": "add", "params": {"a": 1, "b": 2}},
                       {"method": "no_such_method"},
                       {"method": "stats"}], f)
        code, out, err = run(client + ["--batch", batch_file])
        results = json.loads(out)
        equal("--batch exits 1 when a request failed", code, 1)
        equal("--batch prints one outcome per request, in order", results[:3],
              [{"result": "-hello--hello-"}, {"result": 3},
               {"error": {"code": -32601, "message": "Method not found"}}])
        equal("--batch: the notification reached the server before stats",
              results[3]["result"]["notifications"], 1)

        only_notifications = f"{files}-notifications.json"
        with open(only_notifications, "w") as f:
            json.dump([{"method": "report_progress", "params": ["batch 1"], "notify": True},
                       {"method": "report_progress", "params": ["batch 2"], "notify": True}], f)
        code, out, err = run(client + ["--batch", only_notifications])
        equal("--batch of notifications only prints an empty array", (code, out), (0, "[]\n"))
        check("--batch of notifications only: both reached the server before the client quit",
              server_logged(server, "report_progress: batch 1") and
              server_logged(server, "report_progress: batch 2"))

        code, out, err = run(client + ["--call", "echo", '["x"]', "--repeat", "50"])
        check("--repeat reports calls/s on stderr",
              code == 0 and out == '"x"\n' and "calls/s" in err, (code, out, err))

        if args.transport == "mtls":
            code, out, err = run(plain_client + ["--call", "echo", '["x"]'])
            check("mutual TLS: a client without a certificate is refused (exit 1, one line)",
                  code == 1 and out == "" and len(err.strip().splitlines()) == 1, (code, out, err))
        if args.transport in ("tls", "mtls"):
            extra = ["--tls-cert", f"{certs}/client.pem", "--tls-key", f"{certs}/client.key"]
            others = [a for a in client_base if a != f"{certs}/ca.pem" and a != "--tls-ca"]
            code, out, err = run(others + extra + ["--tls-ca", f"{certs}/other-ca.pem",
                                                   "--connect", server.address,
                                                   "--call", "echo", '["x"]'])
            check("TLS: a server certificate from an unknown CA is refused (exit 1, one line)",
                  code == 1 and "certificate verify failed" in err and
                  len(err.strip().splitlines()) == 1, (code, err))
            code, out, err = run(client + ["--connect", f"localhost:{server.port}",
                                           "--call", "echo", '["by name"]'])
            equal("TLS: the certificate is valid for localhost too", (code, out),
                  (0, '"by name"\n'))
            code, out, err = run(others + extra + ["--tls-insecure", "--connect", server.address,
                                                   "--call", "echo", '["insecure"]'])
            equal("TLS: --tls-insecure skips verification", (code, out), (0, '"insecure"\n'))
            plain = [args.client, "--codec", args.codec, "--framing", args.framing,
                     "--timeout-ms", "5000", "--connect", server.address]
            code, out, err = run(plain + ["--call", "echo", '["x"]'])
            equal("TLS: a plain-text client gets an error, not a hang", code, 1)

        equal("the server exits 0 on SIGTERM", server.terminate(), 0)
        if args.transport == "unix":
            check("the server removes its socket file", not os.path.exists(listen[5:]))


def server_logged(server, text, timeout=10.0):
    """Whether the server's --verbose log shows `text` (within `timeout`)."""
    deadline = time.monotonic() + timeout
    while text not in server.stderr() and time.monotonic() < deadline:
        time.sleep(0.05)
    return text in server.stderr()


def parse():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["quickstart", "features", "conformance"])
    p.add_argument("server")
    p.add_argument("client")
    p.add_argument("workdir", nargs="?", default=".")
    p.add_argument("--codec", default="json")
    p.add_argument("--framing", default="rfc7464")
    p.add_argument("--transport", default="tcp",
                   choices=["tcp", "ipv6", "unix", "tls", "mtls"])
    p.add_argument("--certs")
    p.add_argument("--executor", default="threads", choices=["threads", "asio"])
    return p.parse_args()


if __name__ == "__main__":
    a = parse()
    if a.mode == "quickstart":
        main(lambda: quickstart(a.server, a.client))
    elif a.mode == "features":
        main(lambda: features(a.server, a.client))
    else:
        main(lambda: conformance(a))
