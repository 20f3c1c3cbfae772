"""The WSGI adapter: the fake's backend behind any WSGI server, e.g. several worker processes.

``make_wsgi_app(fake)`` wraps one backend; ``app`` is the ready-made entry point for WSGI servers
(``gunicorn together_image_fake.wsgi:app``) and builds its ``FakeTogether`` from ``TOGETHER_FAKE_*``
environment variables on its first request. State (call log, faults, rate limits, images served in
URL mode) lives in the memory of each process: under a server with several worker processes each
worker has its own fake, so control-API calls and ``/shrt/`` URLs only see the worker that handled
them. Run one worker (threads are fine) when a test needs one shared state. ``FakeSettings`` and
the variables live in ``_settings`` (re-exported here). WSGI has no way to drop a connection, so
a ``reset`` fault sends the headers and then aborts the body (the WSGI server logs the abort and
closes the connection) and a ``timeout`` fault waits ``timeout_hold_s`` before doing the same;
give the WSGI server a worker timeout longer than that.
"""

from __future__ import annotations

import http
import os
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING
from urllib.parse import quote

from together_image_fake._backend import FakeTogether
from together_image_fake._errors import FakeTogetherError
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
from together_image_fake._settings import FakeSettings, build_fake, settings_from_environ
from together_image_fake._wire import HOP_BY_HOP, FakeRequest, FakeResponse

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = [
    "FakeSettings",
    "InjectedConnectionFault",
    "app",
    "build_fake",
    "make_wsgi_app",
    "settings_from_environ",
]

# Framing and hop-by-hop headers are the WSGI server's business (PEP 3333 forbids applications to
# set hop-by-hop ones); the adapter sets Content-Length itself.
_FRAMING = HOP_BY_HOP | {"content-length"}
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


class InjectedConnectionFault(FakeTogetherError):
    """Raised inside a response body to abort it: the WSGI form of a ``reset``/``timeout`` fault."""


def make_wsgi_app(
    fake: FakeTogether,
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    timeout_hold_s: float = DEFAULT_TIMEOUT_HOLD_S,
    allowed_hosts: Iterable[str] = (),
) -> WSGIApplication:
    """Wrap a backend as a WSGI application.

    Args:
        fake: The backend whose ``handle()`` answers every request.
        max_body_bytes: Largest request body accepted; larger ones get 413 in the real error shape.
        timeout_hold_s: How long a ``timeout`` fault waits before aborting the response.
        allowed_hosts: Host names, besides loopback ones and the server's ``SERVER_NAME``, that
            may reach the control API (``/_fake/…``); ``"*"`` allows any.

    Returns:
        A WSGI callable; mount it at the root (its routes are ``/v1/...``, ``/shrt/...``,
        ``/_fake/...``).
    """

    hosts = tuple(allowed_hosts)

    def wsgi_app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        try:
            request = _request_from_environ(environ, max_body_bytes)
        except RequestRejected as rejected:
            return _respond(rejected.response(), start_response)
        bound = str(environ.get("SERVER_NAME", "localhost"))
        refusal = control_refusal(request, bound_host=bound, allowed_hosts=hosts)
        if refusal is not None:
            return _respond(refusal.response(), start_response)
        errors = environ["wsgi.errors"]
        response = answer(fake.handle, request, lambda line: errors.write(line + "\n"))
        if response.delay_s > 0:
            time.sleep(response.delay_s)
        if response.action != "respond":
            return _abort(response, start_response, timeout_hold_s)
        return _respond(response, start_response, head_only=request.method == "HEAD")

    return wsgi_app


def _request_from_environ(environ: WSGIEnvironment, max_body_bytes: int) -> FakeRequest:
    scheme = str(environ.get("wsgi.url_scheme", "http"))
    raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw_uri and not environ.get("SCRIPT_NAME"):
        path, query, absolute_origin = split_target(str(raw_uri))
    else:
        # PEP 3333 gives PATH_INFO percent-decoded as latin-1 text: re-encode it as it was sent.
        path = quote(str(environ.get("PATH_INFO", "")).encode("latin-1"), safe=_PATH_SAFE) or "/"
        query, absolute_origin = str(environ.get("QUERY_STRING", "")), None
    header_items = [
        (key[5:].replace("_", "-"), str(value))
        for key, value in environ.items()
        if key.startswith("HTTP_")
    ]
    for key, name in (("CONTENT_TYPE", "content-type"), ("CONTENT_LENGTH", "content-length")):
        if environ.get(key):
            header_items.append((name, str(environ[key])))
    headers = lower_headers(header_items)
    fallback = f"{scheme}://{environ.get('SERVER_NAME', 'localhost')}:{environ.get('SERVER_PORT')}"
    return FakeRequest(
        method=str(environ.get("REQUEST_METHOD", "GET")).upper(),
        path=path,
        query=query,
        headers=headers,
        body=_read_body(environ, headers, max_body_bytes),
        origin=absolute_origin or origin_for(headers.get("host"), scheme=scheme, fallback=fallback),
        # Unknown when the server gives none: never taken for this machine.
        peer=str(environ.get("REMOTE_ADDR", "")),
    )


def _read_body(environ: WSGIEnvironment, headers: Mapping[str, str], limit: int) -> bytes:
    stream = environ["wsgi.input"]
    declared = headers.get("content-length")
    length = parse_content_length([declared] if declared else [], limit=limit)
    if length is not None:
        body = bytes(stream.read(length)) if length else b""
        if len(body) != length:
            raise RequestRejected(
                400, f"Truncated request body: expected {length} bytes, got {len(body)}."
            )
        return body
    if environ.get("wsgi.input_terminated"):
        # A chunked body the server already de-chunked: read to the end, one byte past the limit.
        body = bytes(stream.read(limit + 1))
        if len(body) > limit:
            raise RequestRejected(413, f"Request entity too large: over {limit} bytes.")
        return body
    return b""


def _status_line(status: int) -> str:
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = "Unknown"
    return f"{status} {phrase}"


def _respond(
    response: FakeResponse, start_response: StartResponse, *, head_only: bool = False
) -> list[bytes]:
    headers = [(name, value) for name, value in response.headers if name.lower() not in _FRAMING]
    headers.append(("Content-Length", str(len(response.body))))
    start_response(_status_line(response.status), headers)
    return [] if head_only else [response.body]


def _abort(
    response: FakeResponse, start_response: StartResponse, timeout_hold_s: float
) -> Iterator[bytes]:
    if response.action == "timeout":
        # Hold before any byte goes out, so a client with a shorter timeout times out waiting for
        # the answer, as it would against the real API.
        time.sleep(timeout_hold_s)
    # Headers promising a body that never comes: the server sends them, the body raises, and the
    # server closes the connection with the answer incomplete, so the client sees a broken response.
    start_response(
        "200 OK", [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", "1")]
    )

    def body() -> Iterator[bytes]:
        yield b""
        raise InjectedConnectionFault(
            f"{response.action} fault: the fake aborts this response on purpose"
        )

    return body()


class _EnvironmentApp:
    """The default WSGI app: builds its fake from ``TOGETHER_FAKE_*`` on the first request."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        self._lock = threading.Lock()
        self._app: WSGIApplication | None = None

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if self._app is None:
            with self._lock:
                if self._app is None:
                    settings = settings_from_environ(self._environ)
                    self._app = make_wsgi_app(
                        build_fake(settings),
                        max_body_bytes=settings.max_body_bytes,
                        timeout_hold_s=settings.timeout_hold_s,
                        allowed_hosts=settings.allowed_hosts,
                    )
        return self._app(environ, start_response)


app: WSGIApplication = _EnvironmentApp(os.environ)
"""``together_image_fake.wsgi:app``: the per-process fake configured by ``TOGETHER_FAKE_*``."""
