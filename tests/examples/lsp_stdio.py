#!/usr/bin/python3
"""Drives examples/lsp-stdio-server as an editor would: a child process spoken to through pipes
on its stdin and stdout, in Content-Length framing (the Language Server Protocol's).

usage:
  lsp_stdio.py session SERVER               a whole session, from initialize to exit (code 0)
  lsp_stdio.py exit-without-shutdown SERVER exit before shutdown ends it with code 1
  lsp_stdio.py editor-gone SERVER           end of its stdin ends it, code 1
  lsp_stdio.py malformed-header SERVER      a broken header block ends it, code 1, no reply
"""
import json
import os
import select
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import CheckFailed, check, equal  # noqa: E402

TIMEOUT = 10.0


def frame(message):
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def request(id_, method, params=None):
    message = {"jsonrpc": "2.0", "id": id_, "method": method}
    if params is not None:
        message["params"] = params
    return message


def notification(method, params=None):
    message = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        message["params"] = params
    return message


def hover(id_, uri="file:///work/main.cpp", line=3, character=7):
    return request(id_, "textDocument/hover",
                   {"textDocument": {"uri": uri}, "position": {"line": line, "character": character}})


# What VS Code sends, trimmed: more fields than the server reads, which it must accept.
INITIALIZE = request(1, "initialize", {
    "processId": os.getpid(), "clientInfo": {"name": "lsp_stdio.py", "version": "1"},
    "locale": "en", "rootPath": None, "rootUri": None, "workspaceFolders": None,
    "capabilities": {"textDocument": {"hover": {"contentFormat": ["markdown", "plaintext"]}}},
    "trace": "off"})


class Editor:
    """The server as a child process, and a strict reader of what it writes to stdout."""

    def __init__(self, server_bin):
        self.proc = subprocess.Popen([server_bin], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.pending = b""

    def send(self, *messages):
        """Writes the messages framed, back to back, in one write."""
        self.send_bytes(b"".join(frame(m) for m in messages))

    def send_bytes(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def _read_more(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        ready, _, _ = select.select([self.proc.stdout], [], [], left)
        if not ready:
            return False
        data = os.read(self.proc.stdout.fileno(), 65536)
        if not data:
            return False
        self.pending += data
        return True

    def receive(self):
        """The next message, checking its frame byte for byte: exactly one header,
        `Content-Length: N`, the empty line, N bytes of JSON."""
        deadline = time.monotonic() + TIMEOUT
        while b"\r\n\r\n" not in self.pending:
            if not self._read_more(deadline):
                raise CheckFailed(f"no complete header within {TIMEOUT} s; got {self.pending!r}")
        header, _, rest = self.pending.partition(b"\r\n\r\n")
        check("a reply's header block is exactly one Content-Length line",
              header.startswith(b"Content-Length: ") and header[16:].isdigit(), header)
        length = int(header[16:])
        self.pending = rest
        while len(self.pending) < length:
            if not self._read_more(deadline):
                raise CheckFailed(f"reply body cut short: {length} bytes announced, "
                                  f"{len(self.pending)} arrived")
        body, self.pending = self.pending[:length], self.pending[length:]
        return json.loads(body)

    def output_ends(self):
        """Whether stdout reaches its end (with nothing more on it) within the timeout."""
        deadline = time.monotonic() + TIMEOUT
        while self._read_more(deadline):
            pass
        return self.pending == b"" and time.monotonic() < deadline

    def exit_code(self):
        try:
            return self.proc.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            return None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                stream.close()
            except OSError:
                pass


def error_code(reply):
    return (reply.get("error") or {}).get("code")


def session(server_bin):
    with Editor(server_bin) as editor:
        editor.send(hover(0))
        reply = editor.receive()
        equal("a request before initialize gets ServerNotInitialized (-32002)",
              (reply.get("id"), error_code(reply)), (0, -32002))

        editor.send(INITIALIZE)
        reply = editor.receive()
        equal("initialize answers the request's id", reply.get("id"), 1)
        equal("initialize announces hover support",
              reply.get("result", {}).get("capabilities"), {"hoverProvider": True})

        # Notifications it does not handle get no reply; then two requests in one write.
        editor.send(notification("initialized", {}),
                    notification("textDocument/didOpen", {"textDocument": {
                        "uri": "file:///work/main.cpp", "languageId": "cpp", "version": 1,
                        "text": "int main() {}\n"}}),
                    hover("h-1"), hover(3, uri="file:///other.cpp", line=0, character=0))
        # Requests run concurrently: their replies may come in either order.
        replies = {r.get("id"): r for r in (editor.receive(), editor.receive())}
        equal("both pipelined hovers are answered, one of them by its string id",
              sorted(replies, key=str), [3, "h-1"])
        equal("hover returns markdown naming the document and the position",
              replies["h-1"].get("result", {}).get("contents"),
              {"kind": "markdown",
               "value": "**lsp-stdio-server**: file:///work/main.cpp at line 3, character 7"})
        check("the other hover names its own document",
              "file:///other.cpp at line 0" in
              replies[3].get("result", {}).get("contents", {}).get("value", ""), replies[3])

        # A request whose header arrives in pieces, with a Content-Type header and lowercase names.
        body = json.dumps(hover(4)).encode()
        data = (b"content-type: application/vscode-jsonrpc; charset=utf-8\r\n"
                b"content-length: %d\r\n\r\n" % len(body) + body)
        for piece in (data[:7], data[7:40], data[40:-3], data[-3:]):
            editor.send_bytes(piece)
            time.sleep(0.01)
        equal("a request sent in pieces with other headers is answered", editor.receive().get("id"), 4)

        editor.send(request(5, "textDocument/hover", {"textDocument": {"uri": "file:///x"}}))
        equal("hover without a position gets Invalid params (-32602)",
              error_code(editor.receive()), -32602)
        for line in (1e300, 2**31, 2.5, "3"):
            editor.send(hover(5, line=line))
            equal("hover at line %r gets Invalid params (-32602)" % (line,),
                  error_code(editor.receive()), -32602)
        editor.send(request(6, "textDocument/definition", {}))
        equal("a request it does not know gets Method not found (-32601)",
              error_code(editor.receive()), -32601)

        editor.send(request(7, "shutdown"))
        equal("shutdown answers null", editor.receive(), {"jsonrpc": "2.0", "id": 7, "result": None})
        editor.send(hover(8))
        equal("a request after shutdown gets Invalid request (-32600)",
              error_code(editor.receive()), -32600)

        editor.send(notification("exit"))
        equal("exit after shutdown ends the server with code 0", editor.exit_code(), 0)
        check("nothing follows on stdout after the last reply", editor.output_ends(),
              editor.pending)


def exit_without_shutdown(server_bin):
    with Editor(server_bin) as editor:
        editor.send(INITIALIZE)
        equal("initialize is answered", editor.receive().get("id"), 1)
        editor.send(notification("exit"))
        equal("exit without shutdown ends the server with code 1", editor.exit_code(), 1)


def editor_gone(server_bin):
    with Editor(server_bin) as editor:
        editor.send(INITIALIZE)
        equal("initialize is answered", editor.receive().get("id"), 1)
        editor.proc.stdin.close()
        equal("the end of its stdin ends the server with code 1", editor.exit_code(), 1)


def malformed_header(server_bin):
    with Editor(server_bin) as editor:
        editor.send_bytes(b"Content-Length: twelve\r\n\r\n{}")
        equal("a malformed header block ends the server with code 1", editor.exit_code(), 1)
        check("and gets no reply", editor.output_ends(), editor.pending)


def main():
    mode, server_bin = sys.argv[1], sys.argv[2]
    harness.require_file(server_bin, "lsp-stdio-server")
    {"session": session, "exit-without-shutdown": exit_without_shutdown,
     "editor-gone": editor_gone, "malformed-header": malformed_header}[mode](server_bin)


if __name__ == "__main__":
    harness.main(main)
