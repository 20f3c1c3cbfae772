"""A misbehaving HTTP server on loopback, built on the standard library, for the client's tests.

Each test hands the server an ``answer(handler)`` function that writes whatever raw bytes it wants
to ``handler.wfile`` (an endless body, a gzip bomb, a trickle...). Every loop in an answer is
bounded, and a write to a client that went away ends the answer quietly.
"""

from __future__ import annotations

import gzip
import http.server
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

Answer = Callable[["Handler"], None]


@dataclass
class Tally:
    """What the server saw and sent, for assertions."""

    requests: int = 0
    bytes_sent: int = 0
    headers: list[dict[str, str]] = field(default_factory=list)
    finished: threading.Event = field(default_factory=threading.Event)


class Handler(http.server.BaseHTTPRequestHandler):
    """Reads the request, then lets the test's answer write raw bytes."""

    answer: Answer
    tally: Tally
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(length)
        self.tally.requests += 1
        self.tally.headers.append({name.lower(): value for name, value in self.headers.items()})
        try:
            type(self).answer(self)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, OSError):
            pass  # the client stopped reading, which is what most tests want
        finally:
            self.close_connection = True
            self.tally.finished.set()

    def send(self, data: bytes) -> None:
        """Write raw bytes and count them."""
        self.wfile.write(data)
        self.wfile.flush()
        self.tally.bytes_sent += len(data)

    def head(self, status: int = 200, **headers: str) -> None:
        """Write a status line and headers (``Content_Type`` becomes ``Content-Type``)."""
        lines = [f"HTTP/1.1 {status} Whatever"]
        lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
        self.send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output clean."""


@contextmanager
def hostile_server(answer: Answer) -> Iterator[tuple[str, Tally]]:
    """Serve ``answer`` on 127.0.0.1 (port 0); yield the ``/v1`` base URL and the tally."""
    tally = Tally()
    handler = type("BoundHandler", (Handler,), {"answer": staticmethod(answer), "tally": tally})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host}:{port}/v1", tally
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def endless_chunks(handler: Handler, *, limit_bytes: int = 64 * 1024 * 1024) -> None:
    """A chunked body that goes on until the client leaves (or ``limit_bytes``, as a bound)."""
    handler.head(200, Content_Type="application/json", Transfer_Encoding="chunked")
    piece = b"a" * 65536
    chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    while handler.tally.bytes_sent < limit_bytes:
        handler.send(chunk)


def gzip_bomb(decoded_bytes: int) -> bytes:
    """``decoded_bytes`` zero bytes, gzip-compressed (about a thousand times smaller)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: a gzip wrapper
    block = bytes(1024 * 1024)
    parts = [compressor.compress(block) for _ in range(decoded_bytes // len(block))]
    parts.append(compressor.flush())
    return b"".join(parts)


def gzipped(data: bytes) -> bytes:
    """``data`` gzip-compressed."""
    return gzip.compress(data)


def trickle(handler: Handler, body: bytes, *, at_once: int, gap_s: float) -> None:
    """Send ``body`` with its length: ``at_once`` bytes first, then one byte per ``gap_s``."""
    handler.head(200, Content_Type="application/json", Content_Length=str(len(body)))
    handler.send(body[:at_once])
    for position in range(at_once, len(body)):
        time.sleep(gap_s)
        handler.send(body[position : position + 1])
