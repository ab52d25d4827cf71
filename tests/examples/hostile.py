#!/usr/bin/python3
"""Hostile peers against bsonrpc-server over real sockets: absurd lengths, frames that never
end, deep nesting, bad UTF-8, request storms, dropped connections, slow drips.

After every scenario the server must still be running, its peak resident memory (VmHWM) must
stay under --rss-ceiling-mib, and a fresh connection must get an `echo` round trip promptly.
The ceiling (200 MiB by default) is about twice what one connection may legitimately hold
outside a request storm: max_message_bytes (16 MiB, which the read buffer may double to
32 MiB while a frame grows, measured peaks 54-67 MiB) plus the process's own few MiB and
thread stacks. After a request storm has been drained, twice the ceiling (see
request_storm); while the storm is held back, the plain ceiling.

usage: hostile.py SCENARIO SERVER [--executor threads|asio] [--rss-ceiling-mib N]
  SCENARIO: netstring-length | bson-huge-length | bson-short-length | endless-frames |
            deep-nesting | invalid-utf8 | request-storm | dropped-connections | slow-drip |
            close-after-request
Time bounds are multiplied by harness.SLOW (BSONRPC_TEST_SLOW, 4 in sanitizer builds).
Exits 77 (skipped) when the `bson` module is missing.
"""
import os
import resource
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import CheckFailed, Server, check, equal  # noqa: E402

harness.require_bson()
from wire import Wire  # noqa: E402

MIB = 1024 * 1024
EXECUTOR = ["--executor", "threads"]  # set by main()
RSS_CEILING_MIB = 200
STORM_RSS_CEILING_MIB = 400  # twice RSS_CEILING_MIB: see request_storm
SLOW = harness.SLOW  # 4 in sanitizer builds
PROMPT = 2.0  # seconds a fresh echo round trip may take after a scenario


def serve(server_bin, *args):
    """The server under test on 127.0.0.1 port 0 with the executor under test."""
    return Server([server_bin, "--listen", "127.0.0.1:0", *EXECUTOR, *args])


def wire(framing):
    """The wire format of `framing` ("bson" for BSON, which frames itself)."""
    return Wire("bson" if framing == "bson" else "json", framing)


def frame(payload, framing):
    return wire(framing).frame(payload)


def request_bytes(method, params, id, framing="rfc7464"):
    w = wire(framing)
    return w.encode({w.key: "2.0", "method": method, "params": params, "id": id})


def connect(server, timeout=5.0):
    return socket.create_connection((server.host, server.port), timeout=timeout)


def reset(sock):
    """Closes with a TCP RST instead of a FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


class Reader:
    """Reads one framing's messages from a socket."""

    def __init__(self, sock, framing):
        self.sock = sock
        self.wire = wire(framing)
        self.buf = b""

    def _extract(self):
        found = self.wire.extract(self.buf)
        return (self.wire.decode(found[0]), found[1]) if found else None

    def message(self, timeout=5.0):
        """The next message, or None if the connection closes (or resets) first."""
        deadline = time.monotonic() + timeout * SLOW
        while True:
            found = self._extract()
            if found:
                self.buf = self.buf[found[1]:]
                return found[0]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise CheckFailed(f"no message within {timeout * SLOW} s (buffered {self.buf[:80]!r})")
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                return None
            if not data:
                return None
            self.buf += data


def closed_within(sock, timeout):
    """(closed, bytes received meanwhile, seconds until the close), with SLOW applied."""
    return harness.closed_within(sock, timeout * SLOW)


def expect_closed_without_reply(name, sock, timeout=2.0):
    closed, received, took = closed_within(sock, timeout)
    check(f"{name}: the connection is closed (after {took * 1000:.0f} ms)", closed,
          f"still open after {timeout * SLOW} s")
    equal(f"{name}: nothing is sent back", received, b"")


def status(server, field):
    """A field of /proc/PID/status in kB (VmRSS, VmHWM) or as a count (Threads)."""
    with open(f"/proc/{server.proc.pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise CheckFailed(f"no {field} in /proc/{server.proc.pid}/status")


def still_serving(server, name, framing="rfc7464", ceiling=None, prompt=PROMPT):
    """The server is alive, within its memory ceiling, and answers a fresh echo promptly."""
    check(f"{name}: the server is still running", server.proc.poll() is None,
          f"exit code {server.proc.poll()}; stderr: {server.stderr()[-2000:]}")
    ceiling = ceiling or RSS_CEILING_MIB
    peak = status(server, "VmHWM") / 1024
    check(f"{name}: peak server RSS {peak:.0f} MiB is under {ceiling} MiB", peak < ceiling)
    started = time.monotonic()
    with connect(server) as s:
        s.sendall(request_bytes("echo", ["fresh"], 4242, framing))
        r = Reader(s, framing).message(prompt)
    took = time.monotonic() - started
    equal(f"{name}: a fresh connection gets its echo", (r or {}).get("result"), "fresh")
    check(f"{name}: ... within {prompt * SLOW:.0f} s ({took * 1000:.0f} ms)", took < prompt * SLOW)


def shut_down(server, name):
    equal(f"{name}: the server exits 0 on SIGTERM", server.terminate(timeout=15 * SLOW), 0)


def netstring_length(server_bin):
    with serve(server_bin, "--framing", "netstring") as server:
        for digits in (b"99999999999999999999", b"18446744073709551616", b"00000000000000000001"):
            name = f"netstring length {digits.decode()}"
            with connect(server) as s:
                s.sendall(digits + b":")
                expect_closed_without_reply(name, s)
            still_serving(server, name, "netstring")
        shut_down(server, "netstring lengths")


def bson_huge_length(server_bin):
    # A 60 s partial-message timeout: a close within 2 s is the length check, not the timer.
    with serve(server_bin, "--codec", "bson", "--partial-message-timeout-ms", "60000") as server:
        for length in (2**31 - 1, 16 * MIB + 1):
            name = f"BSON length {length} then silence"
            with connect(server) as s:
                s.sendall(struct.pack("<i", length))
                expect_closed_without_reply(name, s)
            still_serving(server, name, "bson")
        shut_down(server, "BSON huge lengths")


def bson_short_length(server_bin):
    with serve(server_bin, "--codec", "bson", "--partial-message-timeout-ms", "60000") as server:
        for length in (4, 0, -1, -2**31):
            name = f"BSON length {length}"
            with connect(server) as s:
                s.sendall(struct.pack("<i", length) + b"\x00" * 16)
                expect_closed_without_reply(name, s)
            still_serving(server, name, "bson")
        shut_down(server, "BSON short lengths")


def endless_frames(server_bin):
    """40 MiB with no end in sight: refused once past --max-message-bytes (16 MiB)."""
    total = 40 * MIB
    start = b'{"jsonrpc":"2.0","method":"echo","params":["'
    cases = [
        ("rfc7464", "a string that never ends", b"\x1e" + start, b"a"),
        ("frameless", "a string that never ends", start, b"a"),
        ("frameless", "an array that never closes", b"", b"[1,"),
        ("netstring", "the largest length accepted, and no ','", b"%d:" % (16 * MIB), b"a"),
    ]
    for framing, what, head, filler in cases:
        name = f"{framing}: 40 MiB of {what}"
        with serve(server_bin, "--framing", framing,
                   "--partial-message-timeout-ms", "60000") as server:
            chunk = filler * (MIB // len(filler))
            sent = 0
            refused = None
            with connect(server, timeout=10 * SLOW) as s:
                started = time.monotonic()
                try:
                    s.sendall(head)
                    while sent < total:
                        s.sendall(chunk)
                        sent += len(chunk)
                except (BrokenPipeError, ConnectionResetError) as e:
                    refused = e
                except socket.timeout:
                    pass  # the server stopped reading without closing: fails below
                check(f"{name}: the server stops taking bytes before 40 MiB "
                      f"({sent // MIB} MiB went through in {time.monotonic() - started:.1f} s)",
                      refused is not None and sent < total)
                closed, received, _ = closed_within(s, 2)
                check(f"{name}: the connection is closed, nothing sent back",
                      closed and received == b"", received[:200])
            still_serving(server, name, framing)
            shut_down(server, name)


def bson_element(type_byte, key, payload):
    return bytes([type_byte]) + key.encode() + b"\x00" + payload


def bson_document(elements):
    return struct.pack("<i", 4 + len(elements) + 1) + elements + b"\x00"


def deep_bson(levels):
    """`levels` documents each holding the next under key "a", built without recursion."""
    inner = b"\x05\x00\x00\x00\x00"
    parts_before, parts_after = [], []
    length = len(inner)
    for _ in range(levels - 1):
        length += 8  # int32 length, type byte, "a\0", trailing 0x00
        parts_before.append(struct.pack("<i", length) + b"\x03a\x00")
        parts_after.append(b"\x00")
    return b"".join(reversed(parts_before)) + inner + b"".join(parts_after)


def bson_request_with_params(params_value_document, id):
    string = lambda s: struct.pack("<i", len(s) + 1) + s.encode() + b"\x00"  # noqa: E731
    return bson_document(bson_element(2, "bsonrpc", string("2.0")) +
                         bson_element(2, "method", string("echo")) +
                         bson_element(4, "params", bson_document(
                             bson_element(3, "0", params_value_document))) +
                         bson_element(0x10, "id", struct.pack("<i", id)))


def parse_error_then(name, server, framing, payload, goes_on):
    """`payload` gets -32700; then the same connection serves (or is closed if not goes_on)."""
    with connect(server, timeout=10 * SLOW) as s:
        reader = Reader(s, framing)
        s.sendall(payload)
        r = reader.message(10)
        equal(f"{name}: answered with -32700 and a null id",
              ((r or {}).get("error", {}).get("code"), (r or {}).get("id", "missing")),
              (-32700, None))
        if goes_on:
            s.sendall(request_bytes("echo", ["after"], 2, framing))
            r = reader.message()
            equal(f"{name}: the stream goes on", (r or {}).get("result"), "after")
        else:
            closed, received, _ = closed_within(s, 2)
            check(f"{name}: then the connection is closed", closed and received == b"",
                  received[:200])
    still_serving(server, name, framing)


def deep_nesting(server_bin):
    n = 100_000
    deep_json = b"[" * n + b"]" * n
    request_json = b'{"jsonrpc":"2.0","method":"echo","params":[' + deep_json + b'],"id":1}'
    object_json = b'{"a":' * n + b"1" + b"}" * n
    for framing in ("rfc7464", "netstring", "frameless"):
        with serve(server_bin, "--framing", framing) as server:
            goes_on = framing != "frameless"
            parse_error_then(f"{framing}: 100,000 nested arrays", server, framing,
                             frame(deep_json, framing), goes_on)
            parse_error_then(f"{framing}: a request with 100,000 nested arrays in params",
                             server, framing, frame(request_json, framing), goes_on)
            parse_error_then(f"{framing}: 100,000 nested objects", server, framing,
                             frame(object_json, framing), goes_on)
            shut_down(server, f"{framing} deep nesting")
    with serve(server_bin, "--codec", "bson") as server:
        parse_error_then("bson: 100,000 nested documents", server, "bson", deep_bson(n), True)
        parse_error_then("bson: a request with 100,000 nested documents in params", server,
                         "bson", bson_request_with_params(deep_bson(n), 1), True)
        shut_down(server, "bson deep nesting")


def invalid_utf8(server_bin):
    bad_strings = {
        "a lone 0xFF byte": b"\xff",
        "a truncated two-byte sequence": b"ab\xc3",
        "an overlong '/'": b"\xc0\xaf",
        "a UTF-16 surrogate": b"\xed\xa0\x80",
        "a code point above U+10FFFF": b"\xf4\x90\x80\x80",
    }
    for framing in ("rfc7464", "netstring", "frameless"):
        with serve(server_bin, "--framing", framing) as server:
            for why, raw in bad_strings.items():
                payload = b'{"jsonrpc":"2.0","method":"echo","params":["' + raw + b'"],"id":1}'
                parse_error_then(f"{framing}: {why} inside a JSON string", server, framing,
                                 frame(payload, framing), framing != "frameless")
            shut_down(server, f"{framing} invalid UTF-8")
    with serve(server_bin, "--codec", "bson") as server:
        string = struct.pack("<i", 3) + b"\xff\xfe\x00"
        doc = bson_document(bson_element(2, "bsonrpc", struct.pack("<i", 4) + b"2.0\x00") +
                            bson_element(2, "method", struct.pack("<i", 5) + b"echo\x00") +
                            bson_element(4, "params", bson_document(bson_element(2, "0", string))) +
                            bson_element(0x10, "id", struct.pack("<i", 1)))
        parse_error_then("bson: invalid UTF-8 in a string", server, "bson", doc, True)
        shut_down(server, "bson invalid UTF-8")


def storm_payload(n):
    # Each request is about 1 KiB and its reply about 2 KiB: 100,000 replies are 200 MiB,
    # three times what the server may queue (max_pending_outgoing_bytes, 64 MiB). A server
    # that stops reading has taken about 35 MiB of the 105 MiB of requests by then, and the
    # kernel's socket buffers hold at most 36 MiB more (tcp_rmem and tcp_wmem maxima here).
    return b"".join(request_bytes("echo_times", ["x" * 1000, 2], i) for i in range(n))


def send_until_stalled(sock, payload, stall=1.0, limit=30.0):
    """Sends without reading until the peer stops taking bytes for `stall` s; returns the
    number of bytes sent (len(payload) if all went through)."""
    sock.setblocking(False)
    sent, last_progress = 0, time.monotonic()
    view = memoryview(payload)
    deadline = time.monotonic() + limit * SLOW
    while sent < len(payload) and time.monotonic() < deadline:
        try:
            k = sock.send(view[sent:sent + MIB])
            sent += k
            last_progress = time.monotonic()
        except BlockingIOError:
            if time.monotonic() - last_progress > stall * SLOW:
                break
            time.sleep(0.01)
    return sent


def drain_replies(sock, payload, sent, n, limit=60.0):
    """Sends the rest of `payload` while reading; returns (replies counted, error seen)."""
    import selectors
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE)
    view = memoryview(payload)
    buf = bytearray(4 * MIB)
    replies, error_seen, tail = 0, False, b""
    deadline = time.monotonic() + limit * SLOW
    while replies < n and time.monotonic() < deadline:
        for key, events in sel.select(timeout=1.0):
            if events & selectors.EVENT_WRITE:
                if sent < len(payload):
                    try:
                        sent += sock.send(view[sent:sent + MIB])
                    except BlockingIOError:
                        pass
                else:
                    sel.modify(sock, selectors.EVENT_READ)
            if events & selectors.EVENT_READ:
                try:
                    k = sock.recv_into(buf)
                except BlockingIOError:
                    continue
                if k == 0:
                    return replies, True
                chunk = bytes(buf[:k])
                replies += chunk.count(b"\n")
                error_seen = error_seen or b'"error"' in tail + chunk
                tail = chunk[-8:]
    return replies, error_seen


def request_storm(server_bin):
    """100,000 pipelined requests, replies unread: the server must stop reading (back-pressure)
    and keep serving others; then the client reads every reply, or closes (FIN or RST).
    Each ending gets a fresh server, so that its peak memory is its own."""
    n = 100_000
    payload = storm_payload(n)
    for ending in ("reads every reply", "closes (FIN)", "closes (RST)"):
        name = f"100,000 pipelined requests, replies unread, then the client {ending}"
        with serve(server_bin) as server:
            s = connect(server)
            sent = send_until_stalled(s, payload)
            rss = status(server, "VmRSS") / 1024
            check(f"{name}: the server stops reading ({sent / MIB:.1f} of "
                  f"{len(payload) / MIB:.1f} MiB of requests taken)", sent < len(payload))
            check(f"{name}: server RSS while stalled {rss:.0f} MiB is under {RSS_CEILING_MIB} MiB",
                  rss < RSS_CEILING_MIB)
            still_serving(server, f"{name}, while stalled", prompt=5.0)
            if ending == "reads every reply":
                started = time.monotonic()
                replies, error_seen = drain_replies(s, payload, sent, n)
                equal(f"{name}: every request is answered "
                      f"({time.monotonic() - started:.1f} s)", replies, n)
                check(f"{name}: ... with results, not errors", not error_seen)
                s.close()
            elif ending == "closes (FIN)":
                s.close()
            else:
                reset(s)
            # Draining queues up to 64 MiB of replies while another 64 MiB is being written,
            # in strings that grow by doubling on 64 handler threads, whose glibc arenas keep
            # what they free: peaks of 190-245 MiB were measured (140 MiB with
            # MALLOC_ARENA_MAX=1). An unbounded server fails the checks above first: it would
            # have taken every request, and queued 200 MiB of replies.
            still_serving(server, name, ceiling=STORM_RSS_CEILING_MIB)
            thread_count_settles(server, name)
            shut_down(server, name)


def idle_threads(server):
    """Threads of a server with no connection: threads executor, the main thread alone; asio,
    also the event loop and its 64 handler threads."""
    return 1 if EXECUTOR[1] == "threads" else 66


def thread_count_settles(server, name, slack=8, timeout=10.0):
    """The threads of closed connections go (threads executor: about 2 per connection)."""
    base = idle_threads(server)
    deadline = time.monotonic() + timeout * SLOW
    while status(server, "Threads") > base + slack and time.monotonic() < deadline:
        time.sleep(0.1)
    now = status(server, "Threads")
    check(f"{name}: the server's threads go back to {base} (+{slack}) (now {now})",
          now <= base + slack)


def dropped_connections(server_bin):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))
    halves = [b"\x1e" + b'{"jsonrpc":"2.0","method":"ec',
              request_bytes("sleep_ms", [50], 1) + b"\x1e" + b'{"jsonrpc":"2.0","id":2,"me',
              request_bytes("echo_times", ["x", 100000], 1) + b"\x1e{",
              b"\x1e"]
    with serve(server_bin) as server:
        conns = []
        for i in range(500):
            s = connect(server, timeout=10 * SLOW)
            s.sendall(halves[i % len(halves)])
            conns.append(s)
        time.sleep(0.2)
        name = (f"500 connections opened and dropped mid-message "
                f"({status(server, 'Threads')} server threads while they were open)")
        for i, s in enumerate(conns):
            if i % 2:
                reset(s)
            else:
                s.close()
        still_serving(server, name)
        thread_count_settles(server, name)
        shut_down(server, name)


def slow_drip(server_bin):
    timeout_ms = 1000
    ticks = 16  # 100 ms apart: 1.6 s, 160 bytes of the dripper's 230-byte frame
    for framing in ("rfc7464", "netstring", "frameless", "bson"):
        codec = ["--codec", "bson"] if framing == "bson" else ["--framing", framing]
        with serve(server_bin, *codec, "--partial-message-timeout-ms", str(timeout_ms)) as server:
            whole = request_bytes("echo", ["drip" * 50], 1, framing)
            name = f"{framing}: a peer sending 10 bytes of a frame every 100 ms"
            dripper = connect(server)
            # A steady peer alongside: each of its frames arrives in two halves 100 ms apart,
            # so none of its messages takes long. It must be served throughout.
            steady = connect(server)
            steady_reader = Reader(steady, framing)
            started = time.monotonic()
            closed_at = None
            answered = 0
            for tick in range(ticks):
                if closed_at is None:
                    try:
                        dripper.sendall(whole[tick * 10:tick * 10 + 10])
                        dripper.settimeout(0.001)
                        if dripper.recv(1) == b"":
                            closed_at = time.monotonic() - started
                    except socket.timeout:
                        pass
                    except (BrokenPipeError, ConnectionResetError):
                        closed_at = time.monotonic() - started
                if tick % 2 == 0:
                    message = request_bytes("echo", [tick], tick, framing)
                    steady.sendall(message[:len(message) // 2])
                else:
                    steady.sendall(message[len(message) // 2:])
                    answered += (steady_reader.message() or {}).get("result") == tick - 1
                time.sleep(0.1)
            if closed_at is None:  # not yet: give it until the latest time checked below
                closed, _, _ = harness.closed_within(
                    dripper, max(0.0, timeout_ms / 1000 + 2 * SLOW - (time.monotonic() - started)))
                if closed:
                    closed_at = time.monotonic() - started
            check(f"{name}: closed by the server ({closed_at} s after its first byte)",
                  closed_at is not None)
            check(f"{name}: ... not before --partial-message-timeout-ms",
                  closed_at >= timeout_ms / 1000 * 0.9)
            check(f"{name}: ... nor long after", closed_at < timeout_ms / 1000 + 2 * SLOW)
            equal(f"{framing}: meanwhile a peer sending each frame in two halves 100 ms apart "
                  f"is served throughout", answered, ticks // 2)
            dripper.close()
            steady.close()
            still_serving(server, name, framing)
            shut_down(server, name)


def close_after_request(server_bin):
    requests = [
        ("echo", ["gone"]),
        ("sleep_ms", [200]),
        ("echo_times", ["0123456789", 200000]),  # a 2 MB reply to nobody
        ("long_process", [2, 3, 4]),  # notifies and calls back the peer that left
        ("call_back", ["swapper", ["x"]]),
        ("close_after", []),
    ]
    for framing in ("rfc7464", "bson"):
        codec = ["--codec", "bson"] if framing == "bson" else []
        with serve(server_bin, *codec) as server:
            for round_ in range(10):
                for i, (method, params) in enumerate(requests):
                    s = connect(server)
                    s.sendall(request_bytes(method, params, i, framing))
                    if round_ % 3 == 0:
                        reset(s)
                    elif round_ % 3 == 1:
                        s.close()
                    else:  # half-close: the server sees the end of the stream
                        s.shutdown(socket.SHUT_WR)
                        closed_within(s, 1)
                        s.close()
            name = f"{framing}: 60 peers closing (FIN, RST, half-close) right after a request"
            still_serving(server, name, framing)
            thread_count_settles(server, name)
            shut_down(server, name)


def main():
    global EXECUTOR, RSS_CEILING_MIB, STORM_RSS_CEILING_MIB
    mode, args = sys.argv[1], sys.argv[2:]
    if "--executor" in args:
        at = args.index("--executor")
        EXECUTOR = args[at:at + 2]
        del args[at:at + 2]
    if "--rss-ceiling-mib" in args:
        at = args.index("--rss-ceiling-mib")
        RSS_CEILING_MIB = int(args[at + 1])
        STORM_RSS_CEILING_MIB = RSS_CEILING_MIB * 2
        del args[at:at + 2]
    {"netstring-length": netstring_length, "bson-huge-length": bson_huge_length,
     "bson-short-length": bson_short_length, "endless-frames": endless_frames,
     "deep-nesting": deep_nesting, "invalid-utf8": invalid_utf8,
     "request-storm": request_storm, "dropped-connections": dropped_connections,
     "slow-drip": slow_drip, "close-after-request": close_after_request}[mode](*args)


if __name__ == "__main__":
    harness.main(main)
