"""The loopback HTTP server adapter: the fake's backend served over real HTTP/1.1 sockets.

This is the only module of the fake that opens sockets. ``FakeTogetherServer`` runs a stdlib
``ThreadingHTTPServer`` in a daemon thread (one daemon thread per connection, HTTP/1.1 keep-alive),
parses each request into a ``FakeRequest``, asks the backend's ``handle()`` for a ``FakeResponse``
and writes it out, carrying out connection-level faults itself: latency, a dropped connection
("reset") and a stall past the client's timeout ("timeout"). Problems the backend never sees (a
malformed request line, a bad ``Content-Length``, a body over the size limit) are answered by the
server in the real error shape. Slow clients, truncated bodies and abrupt disconnects end only their
own connection; ``stop()`` closes every connection and joins every thread it started. Request
parsing is shared with the WSGI adapter (``_http``), so both build the same ``FakeRequest``.
"""

from __future__ import annotations

import contextlib
import errno
import http.server
import logging
import select
import socket
import socketserver
import struct
import threading
import time
from collections.abc import Iterable
from http import HTTPStatus
from types import TracebackType
from typing import TYPE_CHECKING, cast

from together_image_fake._backend import FakeTogether
from together_image_fake._http import (
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_TIMEOUT_HOLD_S,
    RequestRejected,
    answer,
    control_refusal,
    lower_headers,
    origin_for,
    parse_content_length,
    split_target,
)
from together_image_fake._wire import FakeRequest, FakeResponse

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_TIMEOUT_HOLD_S",
    "FakeTogetherServer",
]

logger = logging.getLogger("together_image_fake.server")

DEFAULT_IDLE_TIMEOUT_S = 30.0
DEFAULT_MAX_CONNECTIONS = 256
"""Connections served at once by default (one thread each); see ``FakeTogetherServer``."""
# File descriptors kept free for everything else the process opens (cassettes, logs, pipes).
_SPARE_DESCRIPTORS = 32
# How long a rejected body (413) is read and thrown away so the client sees the answer instead of a
# reset caused by closing a socket with unread data.
_DRAIN_LIMIT_S = 2.0
_DRAIN_CHUNK = 65536
_POLL_S = 0.05
_AMBIGUOUS_FRAMING = "Ambiguous request framing"
# How often the accept loop checks for stop(): short, so starting and stopping a server per test
# stays cheap (about 10 ms).
_ACCEPT_POLL_S = 0.01


class FakeTogetherServer:
    """The fake Together API on a real loopback socket, for clients in any language.

    Example::

        with FakeTogetherServer() as server:          # 127.0.0.1, a free port
            server.base_url                            # "http://127.0.0.1:PORT/v1"
            server.fake.calls                          # what clients sent

    Paths reach the fake as sent. ``together`` >= 3 appends ``/v1`` itself, so it takes ``origin``
    as its base URL; given ``base_url`` it calls ``/v1/v1/...``, which gets the fake's 404 naming
    its routes rather than a silent success the real API would not give.

    Args:
        fake: The backend to serve; a fresh ``FakeTogether()`` when ``None``.
        host: Interface to bind (``127.0.0.1``; ``::1`` for IPv6).
        port: Port to bind; ``0`` picks a free one.
        max_body_bytes: Largest request body accepted; larger ones get 413 in the real error shape.
        timeout_hold_s: How long a ``timeout`` fault holds the connection at most before closing it.
        idle_timeout_s: How long a connection may stay silent (between or inside requests)
            before the server closes it.
        max_connections: How many connections are served at once (lowered to three quarters of
            the process's free file descriptors when that is less). A connection beyond it
            closes the one idle the longest (waiting for a request, else one still sending
            its request), so idle sockets can never starve a request; connections whose
            request the fake is answering are never closed.
        allowed_hosts: Host names, besides loopback ones and ``host``, that may reach the
            control API and dashboard (``/_fake/…``), e.g. a container's service name; ``"*"``
            allows any (the API routes answer every name).

    Attributes:
        fake: The backend being served.
        host: The bound host.
        port: The bound port (the real one when ``port=0``), set once the socket is bound.
    """

    def __init__(
        self,
        fake: FakeTogether | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        timeout_hold_s: float = DEFAULT_TIMEOUT_HOLD_S,
        idle_timeout_s: float = DEFAULT_IDLE_TIMEOUT_S,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        allowed_hosts: Iterable[str] = (),
    ) -> None:
        if fake is None:
            fake = FakeTogether()
        if not host.strip():
            raise ValueError(
                f"host must name an interface to bind, such as 127.0.0.1, got {host!r}"
            )
        if max_body_bytes < 0:
            raise ValueError(f"max_body_bytes must be >= 0, got {max_body_bytes!r}")
        if timeout_hold_s < 0 or idle_timeout_s <= 0:
            raise ValueError(
                "timeout_hold_s must be >= 0 and idle_timeout_s > 0, got "
                f"timeout_hold_s={timeout_hold_s!r}, idle_timeout_s={idle_timeout_s!r}"
            )
        if isinstance(max_connections, bool) or not isinstance(max_connections, int):
            raise ValueError(f"max_connections must be an int >= 1, got {max_connections!r}")
        if max_connections < 1:
            raise ValueError(f"max_connections must be an int >= 1, got {max_connections!r}")
        self.fake: FakeTogether = fake
        self.host = host
        self.port = port
        self.max_body_bytes = max_body_bytes
        self.timeout_hold_s = timeout_hold_s
        self.idle_timeout_s = idle_timeout_s
        self.max_connections = max_connections
        self.allowed_hosts = tuple(allowed_hosts)
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    @property
    def origin(self) -> str:
        """``http://HOST:PORT``, the server's own origin (IPv6 hosts in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT/v1``, base URL for clients (``together`` >= 3 takes ``origin``)."""
        return f"{self.origin}/v1"

    @property
    def running(self) -> bool:
        """Whether the server is accepting connections."""
        return self._ready.is_set()

    def start(self) -> Self:
        """Bind the socket, start serving in a daemon thread, and return once it accepts requests.

        Returns:
            The server itself, so ``server = FakeTogetherServer().start()`` reads naturally.

        Raises:
            RuntimeError: If the server is already running.
            OSError: If the address cannot be bound (e.g. the port is taken).
        """
        if self._httpd is not None:
            raise RuntimeError(f"the fake server is already running at {self.base_url}")
        httpd = _HTTPServer(self)
        self._httpd = httpd
        self.port = int(httpd.server_address[1])
        self._ready.clear()
        self._thread = threading.Thread(
            target=self._serve, args=(httpd,), name=f"together-fake-server:{self.port}", daemon=True
        )
        self._thread.start()
        self._ready.wait()
        logger.info("serving fake Together API at %s", self.base_url)
        return self

    def _serve(self, httpd: _HTTPServer) -> None:
        self._ready.set()
        httpd.serve_forever(poll_interval=_ACCEPT_POLL_S)

    def stop(self) -> None:
        """Stop accepting, close every open connection and join every thread the server started.

        Safe to call more than once, and on a server that never started.
        """
        httpd, thread = self._httpd, self._thread
        if httpd is None or thread is None:
            return
        httpd.stopping.set()
        httpd.shutdown()
        thread.join()
        httpd.server_close()
        httpd.close_connections_and_join()
        self._httpd = None
        self._thread = None
        self._ready.clear()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"FakeTogetherServer(base_url={self.base_url!r}, {state})"


def _descriptor_budget() -> int:
    """Connections the process's file-descriptor limit leaves room for (three quarters of what
    is above ``_SPARE_DESCRIPTORS``; unbounded where the limit cannot be read)."""
    try:
        import resource
    except ImportError:  # not on Windows
        return 1 << 30
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 1 << 30
    return max(4, (soft - _SPARE_DESCRIPTORS) * 3 // 4)


class _HTTPServer(http.server.ThreadingHTTPServer):
    """A ``ThreadingHTTPServer`` tracking its connections and threads so ``stop()`` can end them."""

    daemon_threads = True
    # The stdlib default of 5 drops connections under a burst of concurrent clients.
    request_queue_size = 128

    def __init__(self, owner: FakeTogetherServer) -> None:
        self.owner = owner
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self.connection_limit = min(owner.max_connections, _descriptor_budget())
        # Connections that may be closed to admit a new one, with the time they became so:
        # "idle" (waiting for a request line) and "reading" (still sending their request).
        self._idle: dict[socket.socket, float] = {}
        self._reading: dict[socket.socket, float] = {}
        self._workers: set[threading.Thread] = set()
        self._aborted: set[socket.socket] = set()
        if ":" in owner.host:
            self.address_family = socket.AF_INET6
        super().__init__((owner.host, owner.port), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, a DNS lookup that can stall offline.
        socketserver.TCPServer.server_bind(self)
        self.server_name = self.owner.host
        self.server_port = int(self.server_address[1])

    def process_request(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: object
    ) -> None:
        conn = cast(socket.socket, request)
        worker = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name=f"together-fake-conn:{self.owner.port}",
            daemon=True,
        )
        with self._lock:
            if self.stopping.is_set():
                conn.close()
                return
            if len(self._connections) >= self.connection_limit:
                self._evict_one()
            self._connections.add(conn)
            self._workers.add(worker)
        worker.start()

    def _evict_one(self) -> None:
        """Close the connection idle the longest, else the one sending its request the longest
        (called with the lock held); a connection being answered is never closed."""
        for waiting in (self._idle, self._reading):
            if waiting:
                victim = min(waiting, key=waiting.__getitem__)
                del waiting[victim]
                # Its thread wakes on EOF, ends and closes the socket.
                with contextlib.suppress(OSError):
                    victim.shutdown(socket.SHUT_RDWR)
                logger.debug("closed a waiting connection to admit a new one")
                return

    def mark(self, conn: socket.socket, phase: str) -> None:
        """Record what a connection is doing: ``idle``, ``reading`` or ``busy``."""
        now = time.monotonic()
        with self._lock:
            self._idle.pop(conn, None)
            self._reading.pop(conn, None)
            if conn not in self._connections:
                return
            if phase == "idle":
                self._idle[conn] = now
            elif phase == "reading":
                self._reading[conn] = now

    def get_request(self) -> tuple[socket.socket, object]:
        try:
            return super().get_request()
        except OSError as error:
            if error.errno in (errno.EMFILE, errno.ENFILE):
                # Out of descriptors (other code in the process holds them): wait for some to
                # close instead of spinning on a listening socket that stays readable.
                self.stopping.wait(_ACCEPT_POLL_S * 5)
            raise

    def abort_on_close(self, conn: socket.socket) -> None:
        """Mark a connection to be dropped with a TCP reset instead of an orderly close."""
        with self._lock:
            self._aborted.add(conn)

    def shutdown_request(self, request: socket.socket | tuple[bytes, socket.socket]) -> None:
        conn = cast(socket.socket, request)
        with self._lock:
            aborted = conn in self._aborted
            self._aborted.discard(conn)
            self._connections.discard(conn)
            self._idle.pop(conn, None)
            self._reading.pop(conn, None)
            self._workers.discard(threading.current_thread())
        if aborted:
            # SO_LINGER with a zero timeout makes close() send RST: the client sees a reset, no EOF.
            with contextlib.suppress(OSError):
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()
            return
        super().shutdown_request(request)

    def handle_error(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: object
    ) -> None:
        # The handler deals with connection errors: anything that lands here is a bug, so trace it.
        logger.exception("unexpected error on connection from %s", client_address)

    def close_connections_and_join(self) -> None:
        """Wake every connection thread by shutting its socket down, then join them all."""
        with self._lock:
            connections = list(self._connections)
            workers = list(self._workers)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for worker in workers:
            worker.join()


class _Handler(http.server.BaseHTTPRequestHandler):
    """One connection: parse each request, ask the backend, answer or carry out the fault."""

    protocol_version = "HTTP/1.1"
    # Answer unparseable request lines with a full HTTP/1.1 response, never a bare HTTP/0.9 body.
    default_request_version = "HTTP/1.1"
    # Small answers on a kept-alive connection would otherwise wait out the client's delayed ACK.
    disable_nagle_algorithm = True
    server: _HTTPServer
    # Our own error bodies replace the stdlib's HTML page.
    error_content_type = "application/json; charset=utf-8"

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.owner.idle_timeout_s)

    def handle(self) -> None:
        self.close_connection = True
        try:
            self.handle_one_request()
            while not self.close_connection and not self.server.stopping.is_set():
                self.handle_one_request()
        except OSError as exc:
            # Resets, broken pipes and timeouts end this connection only.
            logger.debug("connection from %s ended: %r", self.client_address[0], exc)
            self.close_connection = True

    def handle_one_request(self) -> None:
        self.command = ""
        self.path = ""
        self.server.mark(self.connection, "idle")
        self.raw_requestline = self.rfile.readline(65537)
        if not self.raw_requestline:
            self.close_connection = True
            return
        self.server.mark(self.connection, "reading")
        started = self._started = time.monotonic()
        if len(self.raw_requestline) > 65536:
            self.requestline = ""
            self.request_version = ""
            self.send_error(414, "Request-URI too long: the limit is 65536 bytes.")
            return
        if not self.parse_request():
            return
        self._serve(started)

    def handle_expect_100(self) -> bool:
        # Refuse an oversized or ambiguously framed body before the client sends it.
        try:
            self._check_framing()
            parse_content_length(
                self.headers.get_all("Content-Length") or [],
                limit=self.server.owner.max_body_bytes,
            )
        except RequestRejected as rejected:
            self._write(rejected.response(), close=True)
            return False
        return super().handle_expect_100()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Answer a protocol error from the stdlib parser in the real error shape.

        The stdlib answers an HTTP/2+ request line with 505; the fake answers every malformed
        request with a 4xx, so a 5xx always means a fault was asked for [INF].
        """
        text = message or self.responses.get(code, ("Error", ""))[0]
        if explain:
            text = f"{text}: {explain}"
        status = 400 if code == HTTPStatus.HTTP_VERSION_NOT_SUPPORTED else code
        self._write(RequestRejected(status, text).response(), close=True)
        self._log(self._started, self.path.partition("?")[0] or "-", status)

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("%s %s", self.client_address[0], format % args)

    def _serve(self, started: float) -> None:
        owner = self.server.owner
        try:
            path, query, absolute_origin = split_target(self.path)
        except RequestRejected as rejected:
            self._write(rejected.response(), close=True)
            self._log(started, "-", rejected.status)
            return
        try:
            body = self._read_body(owner.max_body_bytes)
        except RequestRejected as rejected:
            self._write(rejected.response(), close=True)
            self._log(started, path, rejected.status)
            if rejected.status == 413 or rejected.message.startswith(_AMBIGUOUS_FRAMING):
                self._drain()
            return
        if body is None:
            self.close_connection = True
            self._log(started, path, None, note="client closed before the body was complete")
            return
        request = FakeRequest(
            method=self.command.upper(),
            path=path,
            query=query,
            headers=lower_headers(self.headers.items()),
            body=body,
            origin=absolute_origin
            or origin_for(self.headers.get("Host"), scheme="http", fallback=owner.origin),
            peer=str(self.client_address[0]),
        )
        refusal = control_refusal(request, bound_host=owner.host, allowed_hosts=owner.allowed_hosts)
        if refusal is not None:
            self._write(refusal.response(), close=True)
            self._log(started, path, refusal.status, note=refusal.message.split(":", 1)[0])
            return
        self.server.mark(self.connection, "busy")
        response = answer(owner.fake.handle, request, logger.exception)
        if response.delay_s > 0 and not self._wait(response.delay_s):
            self.close_connection = True
            self._log(started, path, None, note="client left during the latency fault")
            return
        if response.action == "reset":
            self.server.abort_on_close(self.connection)
            self.close_connection = True
            self._log(started, path, None, note="connection reset (fault)")
            return
        if response.action == "timeout":
            self._wait(owner.timeout_hold_s)
            held = time.monotonic() - started
            self.close_connection = True
            self._log(started, path, None, note=f"held {held:.1f}s without answering (fault)")
            return
        self._write(response, head_only=self.command.upper() == "HEAD")
        self._log(started, path, response.status, size=len(response.body))

    def _check_framing(self) -> None:
        """Refuse a request framed both by ``Transfer-Encoding`` and ``Content-Length``.

        Two framings let a proxy in front and this server disagree on where the body ends, so
        bytes one of them reads as body the other reads as a second request (smuggling). RFC 9112
        §6.3 lets a server reject such a message; it must then close the connection.
        """
        encodings = self.headers.get_all("Transfer-Encoding") or []
        lengths = self.headers.get_all("Content-Length") or []
        if encodings and lengths:
            raise RequestRejected(
                400,
                f"{_AMBIGUOUS_FRAMING}: expected either Transfer-Encoding or Content-Length, "
                f"got Transfer-Encoding {', '.join(encodings)!r} "
                f"and Content-Length {', '.join(lengths)!r}.",
            )

    def _read_body(self, limit: int) -> bytes | None:
        """Read the request body; ``None`` when the client went away before sending all of it."""
        self._check_framing()
        transfer_encoding = (
            ", ".join(self.headers.get_all("Transfer-Encoding") or []).strip().lower()
        )
        if transfer_encoding:
            if transfer_encoding != "chunked":
                # RFC 9112 says 501; a 4xx keeps "5xx means a fault was asked for" true [INF].
                raise RequestRejected(
                    400,
                    f"Unsupported Transfer-Encoding: expected 'chunked', "
                    f"got {transfer_encoding!r}.",
                )
            return self._read_chunked(limit)
        length = parse_content_length(self.headers.get_all("Content-Length") or [], limit=limit)
        if not length:
            return b""
        body = self.rfile.read(length)
        return body if len(body) == length else None

    def _read_chunked(self, limit: int) -> bytes | None:
        chunks: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1026)
            if not line:
                return None
            size_text = line.split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise RequestRejected(
                    400, f"Invalid chunk size line: expected hexadecimal digits, got {line[:40]!r}."
                ) from None
            if size == 0:
                break
            total += size
            if total > limit:
                raise RequestRejected(
                    413, f"Request entity too large: over {limit} bytes (chunked body)."
                )
            chunk = self.rfile.read(size + 2)
            if len(chunk) != size + 2:
                return None
            chunks.append(chunk[:size])
        # Trailer fields, if any, end with an empty line.
        while True:
            line = self.rfile.readline(65537)
            if not line:
                return None
            if line in (b"\r\n", b"\n"):
                return b"".join(chunks)

    def _write(
        self, response: FakeResponse, *, head_only: bool = False, close: bool = False
    ) -> None:
        """Write ``response`` with its own headers, correct framing and a ``Date``.

        A response whose headers carry ``Content-Length`` is sent with the right length; one
        without it is sent chunked, as the real API sends its successful answers [REC].
        """
        if close:
            self.close_connection = True
        chunked = response.header("Content-Length") is None and self.request_version == "HTTP/1.1"
        reason = self.responses.get(response.status, ("",))[0]
        lines = [f"{self.protocol_version} {response.status} {reason}"]
        framing = {"content-length", "transfer-encoding", "connection"}
        lines += [f"{n}: {v}" for n, v in response.headers if n.lower() not in framing]
        if response.header("Date") is None:
            lines.append(f"Date: {self.date_time_string()}")
        if chunked:
            lines.append("Transfer-Encoding: chunked")
        else:
            lines.append(f"Content-Length: {len(response.body)}")
        if self.close_connection:
            lines.append("Connection: close")
        if head_only:
            payload = b""
        elif chunked and response.body:
            payload = b"%x\r\n%s\r\n0\r\n\r\n" % (len(response.body), response.body)
        elif chunked:
            payload = b"0\r\n\r\n"
        else:
            payload = response.body
        # Head and body leave in one write: one segment for small answers, no Nagle stall.
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head + payload)
        self.wfile.flush()

    def _wait(self, seconds: float) -> bool:
        """Wait without answering; ``False`` as soon as the client leaves or the server stops."""
        deadline = time.monotonic() + seconds
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return True
            if self.server.stopping.is_set():
                return False
            readable, _, _ = select.select([self.connection], [], [], min(_POLL_S, remaining))
            if readable:
                try:
                    peeked = self.connection.recv(1, socket.MSG_PEEK)
                except OSError:
                    return False
                if not peeked:
                    return False
                # The client sent more bytes (e.g. a pipelined request): wait on without spinning.
                self.server.stopping.wait(min(_POLL_S, remaining))

    def _drain(self) -> None:
        """Discard what the client is still sending after a 413, for a bounded time."""
        try:
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(_DRAIN_LIMIT_S)
            deadline = time.monotonic() + _DRAIN_LIMIT_S
            while time.monotonic() < deadline and self.rfile.read1(_DRAIN_CHUNK):
                pass
        except OSError:
            pass

    def _log(
        self,
        started: float,
        path: str,
        status: int | None,
        *,
        size: int | None = None,
        note: str | None = None,
    ) -> None:
        # The path without its query, and never a header: nothing here can carry the API key.
        elapsed_ms = (time.monotonic() - started) * 1000
        outcome = str(status) if status is not None else "-"
        extra = f" {size}" if size is not None else ""
        suffix = f" ({note})" if note else ""
        logger.info(
            '%s "%s %s %s" %s%s %.1fms%s',
            self.client_address[0],
            self.command or "-",
            path,
            self.request_version,
            outcome,
            extra,
            elapsed_ms,
            suffix,
        )
