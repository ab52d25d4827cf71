#!/usr/bin/python3
"""Process-level behaviour of bsonrpc-server and bsonrpc-client from CONFORMANCE.md: signals,
exit codes, bad command lines, TLS handshakes that never come, message size limits.

usage:
  lifecycle.py signals SERVER [--executor E]
  lifecycle.py graceful-shutdown SERVER [--executor E]
  lifecycle.py bad-flags SERVER CLIENT WORKDIR
  lifecycle.py stalled-handshake SERVER CERTDIR [--executor E]
  lifecycle.py client-failures SERVER CLIENT [--executor E]
  lifecycle.py max-message-bytes SERVER [--executor E]
  lifecycle.py reaping SERVER [--executor E]
  lifecycle.py out-of-descriptors SERVER [--executor E]

--executor threads|asio (default threads) is passed to both programs.
"""
import json
import os
import resource
import signal
import socket
import ssl
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import CheckFailed, Server, check, equal, run  # noqa: E402

EXECUTOR = ["--executor", "threads"]  # set by main()


def serve(server_bin, *args):
    """The server listening on 127.0.0.1 port 0 with the executor under test."""
    return Server([server_bin, "--listen", "127.0.0.1:0", *EXECUTOR, *args])


def frame(message):
    """One JSON-RPC message in RFC 7464 framing (the server's default)."""
    return b"\x1e" + json.dumps(message).encode() + b"\n"


def request(method, params, id):
    return frame({"jsonrpc": "2.0", "method": method, "params": params, "id": id})


def connect(address, timeout=5.0):
    host, port = address.rsplit(":", 1)
    return socket.create_connection((host.strip("[]"), int(port)), timeout=timeout)


def read_message(sock, timeout=5.0):
    """The next RFC 7464 message, or None if the connection closes first."""
    sock.settimeout(timeout)
    data = b""
    while not data.endswith(b"\n"):
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, socket.timeout) as e:
            if isinstance(e, socket.timeout):
                raise CheckFailed(f"no message within {timeout} s")
            return None
        if not chunk:
            return None
        data += chunk
    return json.loads(data[1:-1])


def is_closed(sock, timeout=3.0):
    try:
        return read_message(sock, timeout) is None
    except CheckFailed:
        return False


def served_connection(server, name):
    """A connection to `server` that is being served: an echo on it answered first."""
    c = connect(server.address)
    c.sendall(request("echo", ["ready"], 0))
    equal(f"{name}: the connection is served", (read_message(c) or {}).get("id"), 0)
    return c


def signals(server_bin):
    for sig in (signal.SIGTERM, signal.SIGINT):
        name = signal.Signals(sig).name
        with serve(server_bin) as server:
            # The request must be running when the signal comes: the sleep is long enough
            # (scaled for sanitizer builds) to still run after the pause.
            c = served_connection(server, name)
            sleep_ms = int(600 * harness.SLOW)
            c.sendall(request("sleep_ms", [sleep_ms], 1))
            time.sleep(0.1 * harness.SLOW)
            started = time.monotonic()
            server.proc.send_signal(sig)
            # Refused once the server has closed its listening socket: poll for it.
            refused = False
            deadline = time.monotonic() + 2 * harness.SLOW
            while not refused and time.monotonic() < deadline:
                try:
                    connect(server.address, timeout=1).close()
                    time.sleep(0.05)
                except OSError:
                    refused = True
            check(f"{name}: the server stops accepting", refused)
            r = read_message(c, timeout=10)
            equal(f"{name}: the in-flight sleep_ms({sleep_ms}) is still answered",
                  (r or {}).get("id"), 1)
            check(f"{name}: then the connection is closed", is_closed(c))
            code = server.terminate(sig=0, timeout=10)
            equal(f"{name}: the server exits 0", code, 0)
            check(f"{name}: shutdown took under {3 * harness.SLOW:.0f} s",
                  time.monotonic() - started < 3 * harness.SLOW)
    with serve(server_bin) as server:
        idle = [connect(server.address) for _ in range(3)]
        equal("SIGTERM with idle connections: exit 0", server.terminate(), 0)
        check("SIGTERM closes the idle connections", all(is_closed(c) for c in idle))


def read_until_closed(sock, timeout):
    """Every RFC 7464 message until the peer closes the connection."""
    sock.settimeout(timeout)
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            raise CheckFailed(f"the connection stayed open for {timeout} s")
        except ConnectionResetError:
            raise CheckFailed("the connection was reset")
        if not chunk:
            break
        data += chunk
    return [json.loads(m) for m in data.split(b"\x1e") if m.strip()]


def graceful_shutdown(server_bin):
    """SIGTERM with calls in flight: each request read before it is answered, each read after
    it is refused with -32000, no request is answered twice, then end of stream and exit 0."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        name = signal.Signals(sig).name
        with serve(server_bin) as server:
            c = served_connection(server, name)
            sleep_ms = int(800 * harness.SLOW)
            in_flight = list(range(1, 6))
            c.sendall(b"".join(request("sleep_ms", [sleep_ms], i) for i in in_flight))
            time.sleep(0.1 * harness.SLOW)
            server.proc.send_signal(sig)
            time.sleep(0.1 * harness.SLOW)
            # Read while the sleeps still run: refused, not dropped.
            late = list(range(100, 200))
            c.sendall(b"".join(request("echo", [f"late {i}"], i) for i in late))
            replies = {}
            duplicates = []
            for r in read_until_closed(c, timeout=10 * harness.SLOW):
                if r.get("id") in replies:
                    duplicates.append(r.get("id"))
                replies[r.get("id")] = r
            c.close()
            equal(f"{name}: no request is answered twice", duplicates, [])
            equal(f"{name}: every sleep_ms in flight got its result",
                  [i for i in in_flight if "result" not in replies.get(i, {})], [])
            refused = [i for i in late
                       if replies.get(i, {}).get("error", {}).get("code") == -32000]
            equal(f"{name}: every request read after the signal is refused with -32000",
                  refused, late)
            equal(f"{name}: the server exits 0", server.terminate(sig=0, timeout=10), 0)


def bad_flags(server_bin, client_bin, work):
    os.makedirs(work, exist_ok=True)
    bad_batch = f"{work}/bad-batch.json"
    with open(bad_batch, "w") as f:
        f.write('[{"params": [1]}]')
    server_cases = [
        [],
        ["--listen"],
        ["--listen", "nonsense"],
        ["--listen", "127.0.0.1:99999"],
        ["--listen", "::1:80"],
        ["--listen", "127.0.0.1:0", "--codec", "xml"],
        ["--listen", "127.0.0.1:0", "--framing", "lines"],
        ["--listen", "127.0.0.1:0", "--executor", "fibers"],
        ["--listen", "127.0.0.1:0", "--max-message-bytes", "0"],
        ["--listen", "127.0.0.1:0", "--max-message-bytes", "12k"],
        ["--listen", "127.0.0.1:0", "--tls-cert", "x.pem"],
        ["--listen", "127.0.0.1:0", "--tls-client-ca", "ca.pem"],
        ["--listen", "127.0.0.1:0", "--tls-cert", f"{work}/none.pem", "--tls-key", f"{work}/none.key"],
        ["--listen", "127.0.0.1:0", "--frobnicate"],
    ]
    for args in server_cases:
        code, out, err = run([server_bin, *args], timeout=10)
        check(f"bsonrpc-server {' '.join(args) or '(no arguments)'}: exit 2 with one line on stderr",
              code == 2 and out == "" and len(err.strip().splitlines()) == 1, (code, out, err))
    client_cases = [
        [],
        ["--connect", "127.0.0.1:1", "--call"],
        ["--connect", "127.0.0.1:1", "--call", "echo", "[1"],
        ["--connect", "127.0.0.1:1", "--call", "echo", "5"],
        ["--connect", "127.0.0.1:1", "--call", "echo", "--notify", "x"],
        ["--connect", "127.0.0.1:1", "--notify", "x", "--repeat", "2"],
        ["--connect", "127.0.0.1:1", "--call", "echo", "--repeat", "0"],
        ["--connect", "127.0.0.1:1", "--timeout-ms", "soon"],
        ["--connect", "127.0.0.1:1", "--batch", f"{work}/no-such-file.json"],
        ["--connect", "127.0.0.1:1", "--batch", bad_batch],
        ["--connect", "127.0.0.1:1", "--codec", "yaml"],
        ["--connect", "127.0.0.1:1", "--tls-cert", "c.pem"],
        ["--connect", "127.0.0.1:1", "--tls-ca", f"{work}/none.pem", "--call", "echo"],
    ]
    for args in client_cases:
        code, out, err = run([client_bin, *args], timeout=10)
        check(f"bsonrpc-client {' '.join(args) or '(no arguments)'}: exit 2 with one line on stderr",
              code == 2 and out == "" and len(err.strip().splitlines()) == 1, (code, out, err))

    with Server([server_bin, "--listen", "127.0.0.1:0", "--executor", "asio"]) as server:
        code, out, err = run([client_bin, "--connect", server.address, "--executor", "asio",
                              "--call", "echo", "[1]"])
        equal("--executor asio is accepted by both programs", (code, out), (0, "1\n"))
        code, out, err = run([server_bin, "--listen", server.address], timeout=10)
        check("an address in use: exit 1 (not a usage error), one line",
              code == 1 and len(err.strip().splitlines()) == 1, (code, err))
        equal("the first server still exits 0", server.terminate(), 0)


def stalled_handshake(server_bin, certs):
    with serve(server_bin, "--tls-cert", f"{certs}/server.pem",
               "--tls-key", f"{certs}/server.key") as server:
        stalled = [connect(server.address) for _ in range(5)]
        half = connect(server.address)
        half.sendall(b"\x16\x03\x01\x00")  # the start of a ClientHello, then nothing
        tls = ssl.create_default_context(cafile=f"{certs}/ca.pem")
        started = time.monotonic()
        with tls.wrap_socket(connect(server.address), server_hostname="localhost") as s:
            s.sendall(request("echo", ["through TLS"], 1))
            r = read_message(s)
        elapsed = time.monotonic() - started
        equal("a TLS client is served while 6 others stall their handshakes",
              (r or {}).get("result"), "through TLS")
        check(f"... promptly ({elapsed * 1000:.0f} ms)", elapsed < 2 * harness.SLOW)
        equal("SIGTERM with stalled handshakes: exit 0", server.terminate(), 0)
        for s in stalled + [half]:
            s.close()


def client_failures(server_bin, client_bin):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    free_port = probe.getsockname()[1]
    probe.close()
    for target in (f"127.0.0.1:{free_port}", "unix:/nonexistent/bsonrpc.sock"):
        code, out, err = run([client_bin, *EXECUTOR, "--connect", target, "--call", "echo", "[1]"])
        check(f"connecting to {target} nobody serves: exit 1 with one line",
              code == 1 and out == "" and len(err.strip().splitlines()) == 1, (code, err))

    # A peer that accepts and reads but never answers.
    mute = socket.socket()
    mute.bind(("127.0.0.1", 0))
    mute.listen()
    accepted = []

    def swallow():
        s, _ = mute.accept()
        accepted.append(s)
        s.settimeout(10)
        try:
            while s.recv(65536):
                pass
        except OSError:
            pass

    threading.Thread(target=swallow, daemon=True).start()
    started = time.monotonic()
    code, out, err = run([client_bin, *EXECUTOR, "--connect", f"127.0.0.1:{mute.getsockname()[1]}",
                          "--timeout-ms", "300", "--call", "echo", "[1]"])
    elapsed = time.monotonic() - started
    check("a peer that never answers: exit 1 with one line after --timeout-ms",
          code == 1 and out == "" and len(err.strip().splitlines()) == 1 and "timed out" in err,
          (code, err))
    check(f"... without waiting much longer ({elapsed * 1000:.0f} ms)", elapsed < 3 * harness.SLOW)
    mute.close()
    for s in accepted:
        s.close()

    with serve(server_bin) as server:
        code, out, err = run([client_bin, *EXECUTOR, "--connect", server.address, "--timeout-ms", "200",
                              "--call", "sleep_ms", "[2000]"])
        check("a call slower than --timeout-ms: exit 1 with one line",
              code == 1 and len(err.strip().splitlines()) == 1, (code, err))
        equal("the server still exits 0", server.terminate(), 0)


def max_message_bytes(server_bin):
    with serve(server_bin, "--max-message-bytes", "1000") as server:
        fine, big = connect(server.address), connect(server.address)
        fine.sendall(request("echo", ["x" * 900], 1))
        equal("a message under --max-message-bytes is served",
              (read_message(fine) or {}).get("result"), "x" * 900)
        big.sendall(request("echo", ["x" * 2000], 2))
        check("a message over --max-message-bytes closes that connection", is_closed(big))
        fine.sendall(request("echo", ["still"], 3))
        equal("other connections keep working", (read_message(fine) or {}).get("result"), "still")
        equal("the server exits 0", server.terminate(), 0)


def reaping(server_bin):
    per_connection_threads = EXECUTOR[1] == "threads"  # asio: one loop and a fixed pool
    with serve(server_bin) as server:
        pid = server.proc.pid

        def usage():
            return (len(os.listdir(f"/proc/{pid}/task")), len(os.listdir(f"/proc/{pid}/fd")))

        warm = connect(server.address)
        warm.sendall(request("echo", [0], 0))
        read_message(warm)
        warm.close()
        # The server reaps closed connections twice a second: the base is what usage
        # settles at (unchanged for a second, within 10 s).
        base, stable_since, deadline = usage(), time.monotonic(), time.monotonic() + 10
        while time.monotonic() - stable_since < 1 and time.monotonic() < deadline:
            time.sleep(0.1)
            now = usage()
            if now != base:
                base, stable_since = now, time.monotonic()
        peak = base
        for _ in range(3):
            conns = [connect(server.address) for _ in range(20)]
            for i, c in enumerate(conns):
                c.sendall(request("sleep_ms", [5], i))
            for c in conns:
                read_message(c)
            peak = max(peak, usage())
            for c in conns:
                c.close()
        if per_connection_threads:
            check(f"20 open connections use threads and descriptors (base {base}, peak {peak})",
                  peak[0] > base[0] + 20 and peak[1] >= base[1] + 20)
        else:
            check(f"20 open connections use descriptors, not threads (base {base}, peak {peak})",
                  peak[0] == base[0] and peak[1] >= base[1] + 20)
        deadline = time.monotonic() + 5 * harness.SLOW
        while usage() > base and time.monotonic() < deadline:
            time.sleep(0.1)
        equal("threads and file descriptors of closed connections are released", usage(), base)
        equal("the server exits 0", server.terminate(), 0)


def out_of_descriptors(server_bin):
    with serve(server_bin) as server:
        pid = server.proc.pid
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (40, 40))

        def cpu_seconds():
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

        clients = [connect(server.address) for _ in range(60)]  # the rest wait in the backlog
        time.sleep(0.3)
        before = cpu_seconds()
        time.sleep(1)
        busy = cpu_seconds() - before
        check(f"out of descriptors, the server does not spin ({busy:.2f} s of CPU in 1 s)",
              busy < 0.3)
        check("out of descriptors, the server keeps running", server.proc.poll() is None)
        for c in clients:
            c.close()
        c = connect(server.address)
        c.sendall(request("echo", ["again"], 1))
        # Closed connections are reaped twice a second, a few at a time under this limit:
        # draining the 60 takes seconds before this one is even accepted.
        equal("once descriptors are free, it serves again",
              (read_message(c, timeout=20) or {}).get("result"), "again")
        c.close()
        equal("the server exits 0", server.terminate(), 0)


def main():
    global EXECUTOR
    mode, args = sys.argv[1], sys.argv[2:]
    if "--executor" in args:
        at = args.index("--executor")
        EXECUTOR = args[at:at + 2]
        del args[at:at + 2]
    {"signals": signals, "graceful-shutdown": graceful_shutdown, "bad-flags": bad_flags, "stalled-handshake": stalled_handshake,
     "client-failures": client_failures, "max-message-bytes": max_message_bytes, "reaping": reaping,
     "out-of-descriptors": out_of_descriptors}[mode](*args)


if __name__ == "__main__":
    harness.main(main)
