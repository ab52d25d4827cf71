"""Shared helpers for the example tests: start a program that prints `listening on ADDR`,
run another with a deadline, and record named checks that fail loudly.

Every wait has a timeout; servers are always asked for port 0 and the real address is read
back from their `listening on` line.
"""
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time

SKIP = 77  # CTest SKIP_RETURN_CODE for every script here


class CheckFailed(AssertionError):
    pass


_passed = 0

# Time bounds are multiplied by this in sanitizer builds (CTest sets BSONRPC_TEST_SLOW=4
# there): programs built with AddressSanitizer at -O0 start, run and exit several times slower.
SLOW = float(os.environ.get("BSONRPC_TEST_SLOW", "1"))


def check(name, condition, detail=""):
    """Records one named check; a failed one raises with what was seen."""
    global _passed
    if not condition:
        raise CheckFailed(f"{name}: {detail}" if detail else name)
    _passed += 1
    print(f"ok - {name}", flush=True)


def equal(name, got, want):
    check(name, got == want, f"expected {want!r}, got {got!r}")


def finish():
    print(f"{_passed} checks passed", flush=True)


class Server:
    """A server process whose stdout lines are collected on a thread."""

    def __init__(self, argv, timeout=10.0):
        self.argv = argv
        # errors="replace": a server may log a peer's bytes that are not UTF-8, and a reader
        # thread that died on them would leave the pipe to fill up and block the server.
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, errors="replace")
        self.lines = queue.Queue()
        self.stderr_text = []
        threading.Thread(target=self._pump, args=(self.proc.stdout, self.lines), daemon=True).start()
        threading.Thread(target=self._collect_stderr, daemon=True).start()
        first = self.next_line(timeout)
        if first is None or not first.startswith("listening on "):
            self.kill()
            raise CheckFailed(f"{' '.join(argv)}: expected 'listening on ...', got {first!r}; "
                              f"stderr: {self.stderr()}")
        self.address = first[len("listening on "):]

    @staticmethod
    def _pump(stream, sink):
        for line in stream:
            sink.put(line.rstrip("\n"))
        sink.put(None)

    def _collect_stderr(self):
        for line in self.proc.stderr:
            self.stderr_text.append(line)

    def stderr(self):
        return "".join(self.stderr_text)

    def next_line(self, timeout):
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            return None

    def output_until(self, needle, timeout):
        """Lines printed until one contains `needle` (or the timeout passes)."""
        seen = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.next_line(max(0.0, deadline - time.monotonic()))
            if line is None:
                break
            seen.append(line)
            if needle in line:
                break
        return seen

    @property
    def host(self):
        return self.address.rsplit(":", 1)[0].strip("[]")

    @property
    def port(self):
        return int(self.address.rsplit(":", 1)[1])

    def terminate(self, sig=signal.SIGTERM, timeout=10.0):
        """Sends `sig` and returns the exit code (None if it did not exit in time)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()


def run(argv, timeout=20.0, stdin=None):
    """Runs a program to completion; returns (exit code, stdout, stderr)."""
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, input=stdin)
    except subprocess.TimeoutExpired as e:
        raise CheckFailed(f"{' '.join(argv)}: still running after {timeout} s "
                          f"(stdout {e.stdout!r})")
    return p.returncode, p.stdout, p.stderr


def closed_within(sock, timeout):
    """(closed, bytes received meanwhile, seconds until the close): whether the peer closes
    (or resets) `sock` within `timeout` seconds."""
    started = time.monotonic()
    deadline = started + timeout
    received = b""
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            data = sock.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            return True, received, time.monotonic() - started
        if not data:
            return True, received, time.monotonic() - started
        received += data
    return False, received, time.monotonic() - started


def main(body):
    """Runs `body()` and turns the outcome into an exit code: 0, 1 or SKIP."""
    try:
        body()
    except CheckFailed as e:
        print(f"FAILED - {e}", flush=True)
        sys.exit(1)
    finish()
    sys.exit(0)


def require_file(path, what):
    if not os.path.exists(path):
        print(f"SKIP: {what} not found at {path}")
        sys.exit(SKIP)


def require_bson():
    """Skips the script (exit 77) when python3 has no `bson` module, which wire.py needs."""
    try:
        import bson  # noqa: F401
    except ImportError:
        print("SKIP: python3 has no `bson` module (Debian: python3-bson)")
        sys.exit(SKIP)
