"""Wire formats of bsonrpc-server's framings for the Python tests: encoding, framing, and
finding frames in received bytes. Needs pymongo's `bson` module: import it after the caller's
skip check."""
import json
import struct

import bson
from bson.binary import UuidRepresentation
from bson.codec_options import CodecOptions

# UUIDs (binary subtype 4) decode to uuid.UUID and must encode back to subtype 4.
BSON_OPTIONS = CodecOptions(uuid_representation=UuidRepresentation.STANDARD)


def bson_encode(document):
    return bson.encode(document, codec_options=BSON_OPTIONS)


def bson_decode(data):
    return bson.decode(data, codec_options=BSON_OPTIONS)


class Wire:
    """Encodes and frames messages, and finds frames in received bytes."""

    def __init__(self, codec, framing):
        self.codec = codec
        self.framing = "bson" if codec == "bson" else framing
        self.key = "bsonrpc" if codec == "bson" else "jsonrpc"

    def encode(self, message):
        if self.codec == "bson":
            return bson_encode(message)
        return self.frame(json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode())

    def frame(self, payload):
        if self.framing == "rfc7464":
            return b"\x1e" + payload + b"\n"
        if self.framing == "netstring":
            return b"%d:%s," % (len(payload), payload)
        if self.framing == "content-length":
            return b"Content-Length: %d\r\n\r\n%s" % (len(payload), payload)
        if self.framing == "ndjson":
            return payload + b"\n"
        return payload  # frameless and BSON delimit themselves

    def decode(self, payload):
        return bson_decode(payload) if self.codec == "bson" else json.loads(payload)

    def extract(self, buf):
        """(payload, bytes consumed) for the first complete frame in `buf`, or None."""
        if self.framing == "rfc7464":
            end = buf.find(b"\n")
            if end < 0:
                return None
            assert buf[:1] == b"\x1e", f"rfc7464 frame without RS: {buf[:20]!r}"
            return buf[1:end], end + 1
        if self.framing == "netstring":
            colon = buf.find(b":")
            if colon < 0:
                return None
            n = int(buf[:colon])
            if len(buf) < colon + n + 2:
                return None
            assert buf[colon + 1 + n:colon + 2 + n] == b",", "netstring without ','"
            return buf[colon + 1:colon + 1 + n], colon + n + 2
        if self.framing == "content-length":
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return None
            assert buf.startswith(b"Content-Length: "), f"no Content-Length header: {buf[:40]!r}"
            n, start = int(buf[16:end]), end + 4
            return (buf[start:start + n], start + n) if len(buf) >= start + n else None
        if self.framing == "ndjson":
            end = buf.find(b"\n")
            return None if end < 0 else (buf[:end], end + 1)
        if self.framing == "bson":
            if len(buf) < 4:
                return None
            n = struct.unpack("<i", buf[:4])[0]
            return (buf[:n], n) if len(buf) >= n else None
        start = len(buf) - len(buf.lstrip(b" \t\r\n"))
        depth, in_string, escaped = 0, False, False
        for i in range(start, len(buf)):
            c = buf[i:i + 1]
            if in_string:
                if escaped:
                    escaped = False
                elif c == b"\\":
                    escaped = True
                elif c == b'"':
                    in_string = False
            elif c == b'"':
                in_string = True
            elif c in b"{[":
                depth += 1
            elif c in b"}]":
                depth -= 1
                if depth == 0:
                    return buf[start:i + 1], i + 1
        return None
