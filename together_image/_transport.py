"""The HTTP seam: the only module that imports ``requests``.

``Transport.request`` sends one request and returns a plain ``HTTPResponse`` whatever the status;
every ``requests`` exception is translated here, once, into ``APITimeoutError`` or
``APIConnectionError`` (``raise ... from`` keeps the original as the cause). An answer is read as a
bounded stream: at most ``max_bytes`` arrive, after gzip/deflate decoding as well as before, or
``ResponseTooLargeError`` is raised, so neither an endless body nor a compression bomb can exhaust
memory. ``timeout`` is a deadline for the whole attempt, not a limit per read: before every read of
the body the socket may wait only for the time left. Without an abort signal the exchange runs on
the caller's thread (no thread costs on the common path); there, ``requests`` bounds the wait for
the status line and headers per network read only. With an abort signal, the exchange runs on a
worker thread that the caller stops waiting for as soon as the signal is set or the deadline passes
(whatever phase it is in), and whose socket is then shut down.
"""

from __future__ import annotations

import contextlib
import http
import socket
import threading
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import requests
import urllib3

from ._errors import (
    AbortError,
    APICallError,
    APIConnectionError,
    APITimeoutError,
    ResponseTooLargeError,
    redact_secret,
)
from ._types import AbortSignal

HTTPSession = requests.Session
"""The session type callers may pass to ``create_togetherai(session=...)``."""

_CHUNK_BYTES = 64 * 1024
# How often a caller waiting on an in-flight attempt looks at its abort signal: threading.Event
# offers no way to wait on two events at once.
_ABORT_POLL_SECONDS = 0.02
# Only encodings this module can decode with a bound on the decoded size are asked for.
ACCEPT_ENCODING = "gzip, deflate"
_DECODABLE = frozenset({"gzip", "x-gzip", "deflate"})


@dataclass(frozen=True, kw_only=True)
class HTTPResponse:
    """A received HTTP response, decoupled from ``requests``.

    Attributes:
        status_code: The HTTP status.
        reason: The reason phrase (the standard phrase when the server sent none).
        headers: Headers with lower-cased names.
        content: The body, decoded from its ``Content-Encoding``.
    """

    status_code: int
    reason: str
    headers: Mapping[str, str] = field(default_factory=dict)
    content: bytes = b""

    @cached_property
    def text(self) -> str:
        """The body decoded as UTF-8 (invalid bytes replaced), decoded once."""
        return self.content.decode("utf-8", errors="replace")


def reason_phrase(status_code: int) -> str:
    """Return the standard reason phrase of a status (``""`` for unknown codes)."""
    try:
        return http.HTTPStatus(status_code).phrase
    except ValueError:
        return ""


class _BodyTooLarge(Exception):
    """Raised inside the reader when the body passes the limit (turned into the typed error)."""

    def __init__(self, received: int) -> None:
        super().__init__(received)
        self.received = received


class _Undecodable(Exception):
    """The body's Content-Encoding cannot be decoded."""


class _Decoder:
    """Decodes a body incrementally, never producing more than ``limit`` bytes in total."""

    def __init__(self, encoding: str, limit: int) -> None:
        self._encoding = encoding
        self._limit = limit
        self._out = bytearray()
        self._raw_seen = 0
        self._zlib: Any = None if encoding == "identity" else self._new_zlib()
        self._first = True

    def _new_zlib(self) -> Any:
        # 32 + MAX_WBITS accepts both gzip and zlib headers.
        return zlib.decompressobj(zlib.MAX_WBITS | 32)

    def feed(self, data: bytes) -> None:
        self._raw_seen += len(data)
        if self._raw_seen > self._limit and self._zlib is None:
            raise _BodyTooLarge(self._raw_seen)
        if self._zlib is None:
            self._out += data
            return
        while data:
            room = self._limit - len(self._out)
            try:
                piece = self._zlib.decompress(data, room + 1)
            except zlib.error as error:
                if self._first and self._encoding == "deflate":
                    # Some servers send raw deflate without the zlib header.
                    self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                    self._first = False
                    continue
                raise _Undecodable(f"the {self._encoding} body is corrupt: {error}") from error
            self._first = False
            self._out += piece
            if len(self._out) > self._limit:
                raise _BodyTooLarge(len(self._out))
            data = self._zlib.unconsumed_tail
            if self._zlib.eof:
                # A gzip body may hold several members, one after another.
                data = self._zlib.unused_data + data
                if not data:
                    break
                self._zlib = self._new_zlib()

    def finish(self) -> bytes:
        if self._zlib is not None and not self._zlib.eof:
            room = self._limit - len(self._out)
            self._out += self._zlib.flush(room + 1) if room >= 0 else b""
            if len(self._out) > self._limit:
                raise _BodyTooLarge(len(self._out))
        return bytes(self._out)


@dataclass
class _Attempt:
    """State shared by the caller and the worker thread of one bounded exchange."""

    done: threading.Event = field(default_factory=threading.Event)
    abandoned: bool = False
    response: requests.Response | None = None
    result: HTTPResponse | None = None
    error: BaseException | None = None


class Transport:
    """Sends requests over a ``requests.Session`` (the caller's, or one created on first use)."""

    def __init__(self, session: requests.Session | None = None) -> None:
        """Create a transport.

        Args:
            session: A session to use; when ``None``, one is created on the first request and
                shared by every later request (connection reuse across threads).
        """
        self._session = session
        self._lock = threading.Lock()

    def _get_session(self) -> requests.Session:
        with self._lock:
            if self._session is None:
                self._session = requests.Session()
            return self._session

    def request(
        self,
        method: Literal["GET", "POST"],
        url: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str | None],
        timeout: float | None,
        max_bytes: int,
        abort_signal: AbortSignal | None = None,
        request_body: Mapping[str, Any] | None = None,
        secret: str | None = None,
    ) -> HTTPResponse:
        """Send one request and return the response, whatever its status.

        Args:
            method: ``"POST"`` (a JSON call) or ``"GET"`` (an image download).
            url: The absolute URL.
            body: The encoded body, if any.
            headers: Complete request headers (``Accept-Encoding`` defaults to gzip and deflate);
                a ``None`` value removes a header the session would add.
            timeout: Seconds the whole exchange may take (connect, headers and body), or ``None``
                for no limit.
            max_bytes: The largest body accepted, counted after decoding gzip or deflate.
            abort_signal: Stops waiting as soon as it is set.
            request_body: The body as a mapping, kept on errors for debugging.
            secret: The API key, removed from any error message.

        Returns:
            The response.

        Raises:
            APITimeoutError: The deadline passed before the whole answer arrived.
            APIConnectionError: Any other failure to get a response.
            ResponseTooLargeError: The body is larger than ``max_bytes``.
            AbortError: ``abort_signal`` was set.
        """
        send_headers = dict(headers)
        if not any(name.lower() == "accept-encoding" for name in send_headers):
            send_headers["Accept-Encoding"] = ACCEPT_ENCODING
        context = _Context(
            method=method,
            url=url,
            body=body,
            headers=send_headers,
            timeout=timeout,
            max_bytes=max_bytes,
            request_body=request_body,
            secret=secret,
        )
        deadline = None if timeout is None else time.monotonic() + timeout
        if abort_signal is None:
            return self._exchange(context, _Attempt(), deadline)
        if abort_signal.is_set():
            raise AbortError("The call was aborted before it was sent.")
        return self._abortable(context, abort_signal, deadline)

    def _abortable(
        self, context: _Context, abort_signal: AbortSignal, deadline: float | None
    ) -> HTTPResponse:
        attempt = _Attempt()

        def work() -> None:
            try:
                attempt.result = self._exchange(context, attempt, deadline)
            except BaseException as error:  # handed over to the waiting caller
                attempt.error = error
            finally:
                attempt.done.set()

        threading.Thread(target=work, name="together-image-http", daemon=True).start()
        while not attempt.done.is_set():
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                _abandon(attempt)
                raise context.timeout_error()
            if abort_signal.is_set():
                _abandon(attempt)
                raise AbortError("The call was aborted while in flight.")
            step = _ABORT_POLL_SECONDS
            attempt.done.wait(step if remaining is None else min(remaining, step))
        if attempt.error is not None:
            raise attempt.error
        assert attempt.result is not None  # set whenever error is not
        return attempt.result

    def _exchange(
        self, context: _Context, attempt: _Attempt, deadline: float | None
    ) -> HTTPResponse:
        try:
            response = self._get_session().request(
                context.method,
                context.url,
                data=context.body,
                headers=context.headers,
                timeout=_time_left(context, deadline),
                stream=True,
            )
        except requests.Timeout as error:
            raise context.timeout_error(str(error)) from error
        except requests.RequestException as error:
            raise context.connection_error(str(error)) from error
        attempt.response = response
        try:
            if attempt.abandoned:
                raise AbortError("abandoned")
            content = _read_body(response, context, attempt, deadline)
        except BaseException:
            response.close()  # drops the connection: its stream is in an unknown state
            raise
        # The body was read to its end, so the connection can serve the next request (a
        # recorder's stand-in stream has no connection to release).
        release = getattr(response.raw, "release_conn", None)
        if release is not None:
            release()
        return HTTPResponse(
            status_code=response.status_code,
            reason=response.reason or reason_phrase(response.status_code),
            headers=_lower_case(response.headers),
            content=content,
        )


@dataclass(frozen=True, kw_only=True)
class _Context:
    """One request's settings, and the errors that name it."""

    method: str
    url: str
    body: bytes | None
    headers: Mapping[str, str | None]
    timeout: float | None
    max_bytes: int
    request_body: Mapping[str, Any] | None
    secret: str | None

    def timeout_error(self, detail: str = "") -> APITimeoutError:
        suffix = f": {redact_secret(detail, self.secret)}" if detail else ""
        return APITimeoutError(
            f"Request timed out after {self.timeout} s (the deadline for the whole answer){suffix}",
            url=self.url,
            request_body=self.request_body,
            is_retryable=True,
        )

    def connection_error(self, detail: str) -> APIConnectionError:
        return APIConnectionError(
            f"Cannot connect to API: {redact_secret(detail, self.secret)}",
            url=self.url,
            request_body=self.request_body,
            is_retryable=True,
        )


def _lower_case(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def _time_left(context: _Context, deadline: float | None) -> float | None:
    if deadline is None:
        return None
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise context.timeout_error()
    return remaining


def _read_body(
    response: requests.Response, context: _Context, attempt: _Attempt, deadline: float | None
) -> bytes:
    encoding = response.headers.get("content-encoding", "").strip().lower() or "identity"

    def failure(message: str, error_class: type[APICallError] = APICallError) -> APICallError:
        return error_class(
            message,
            url=context.url,
            request_body=context.request_body,
            status_code=response.status_code,
            response_headers=_lower_case(response.headers),
            is_retryable=False,
        )

    if getattr(response, "_content_consumed", False):
        # Something between the session and this module (a recorder such as the fake's
        # record_cassette, vcrpy, betamax) already read and decoded the whole body.
        content = response.content or b""
        if len(content) > context.max_bytes:
            raise failure(
                f"The response body is larger than max_response_bytes={context.max_bytes} bytes "
                f"({len(content)} bytes).",
                ResponseTooLargeError,
            )
        return content
    if encoding != "identity" and encoding not in _DECODABLE:
        raise failure(
            f"The response has Content-Encoding {encoding!r}; expected one of "
            f"{sorted(_DECODABLE)} or none (the client asks for '{ACCEPT_ENCODING}')."
        )
    decoder = _Decoder("identity" if encoding == "identity" else encoding, context.max_bytes)
    raw = response.raw
    # read1 makes one network read at most, so the socket's wait is bounded by the time left;
    # urllib3 before 2.3 has no read1, and its read() may make several.
    read_once = getattr(raw, "read1", None) or raw.read
    # urllib3 decodes unless told not to (the decoder here bounds what decoding yields); a
    # recorder's stand-in for the raw stream (vcrpy's) takes no such keyword and never decodes.
    undecoded = isinstance(raw, urllib3.response.BaseHTTPResponse)
    sock = getattr(getattr(raw, "connection", None), "sock", None)
    try:
        while True:
            if attempt.abandoned:
                raise AbortError("abandoned")
            remaining = _time_left(context, deadline)
            if remaining is not None and isinstance(sock, socket.socket):
                sock.settimeout(remaining)
            chunk = (
                read_once(_CHUNK_BYTES, decode_content=False)
                if undecoded
                else read_once(_CHUNK_BYTES)
            )
            if not chunk:
                return decoder.finish()
            decoder.feed(chunk)
    except _BodyTooLarge as error:
        raise failure(
            f"The response body is larger than max_response_bytes={context.max_bytes} bytes "
            f"(more than {error.received} bytes arrived{_after_decoding(encoding)}); raise "
            "max_response_bytes if such answers are expected.",
            ResponseTooLargeError,
        ) from None
    except _Undecodable as error:
        raise failure(f"The response body cannot be decoded: {error}.") from error
    except (urllib3.exceptions.ReadTimeoutError, TimeoutError) as error:
        raise context.timeout_error(str(error)) from error
    # Protocol and socket errors while streaming (a reset, a truncated chunked body...).
    except (urllib3.exceptions.HTTPError, requests.RequestException, OSError) as error:
        raise context.connection_error(str(error)) from error


def _after_decoding(encoding: str) -> str:
    return "" if encoding == "identity" else f" after {encoding} decoding"


def _abandon(attempt: _Attempt) -> None:
    """Stop caring about an attempt and wake its worker if it waits on the socket."""
    attempt.abandoned = True
    response = attempt.response
    if response is None:
        return  # still connecting or reading headers: the per-read timeout ends the worker
    connection = getattr(response.raw, "connection", None)
    sock = getattr(connection, "sock", None)
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):  # already closed
            sock.shutdown(socket.SHUT_RDWR)
