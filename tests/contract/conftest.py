"""The one fixture every contract test goes through: ``api``, parametrized over the fake's modes.

``api.post(path, json=...)`` / ``api.get(path)`` send real HTTP requests with ``requests`` and
return a ``Reply(status, headers, body)``; ``api.fake`` is the ``FakeTogether`` answering them,
configured by ``@pytest.mark.together_fake(...)``. A mode is a host: an origin plus a context that
makes the fake answer there: "inprocess" intercepts https://api.together.xyz with ``responses``;
"server" serves it on a loopback ``FakeTogetherServer``; "wsgi" serves ``make_wsgi_app(fake)``
under the standard library's threaded WSGI server. A new host adds a parameter and a branch in
``api``; every test then runs in it too. ``api.dropped`` is what a dropped connection raises on the
host: WSGI cannot drop a connection before answering, so there the body is cut short instead.
"""

from __future__ import annotations

import contextlib
import json as jsonlib
import socketserver
import threading
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
import requests
from requests.structures import CaseInsensitiveDict

from together_image_fake import FakeTogether, FakeTogetherServer
from together_image_fake.pytest_plugin import together_fake_options
from together_image_fake.wsgi import make_wsgi_app

API_KEY = "test-key"
_NO_JSON = object()


class Reply(NamedTuple):
    """One answer: status, headers (case-insensitive) and the exact body bytes."""

    status: int
    headers: CaseInsensitiveDict[str]
    body: bytes

    def json(self) -> Any:
        """Return the body parsed as JSON."""
        return jsonlib.loads(self.body)


class ContractAPI:
    """Sends requests to the fake in one mode.

    Args:
        fake: The backend under test.
        origin: ``scheme://host[:port]`` where the fake answers.
        session: The ``requests`` session to send with.
        mode: The mode's name.
        dropped: The exception a dropped connection raises on this host.
    """

    def __init__(
        self,
        fake: FakeTogether,
        origin: str,
        session: requests.Session,
        mode: str,
        dropped: type[Exception] = requests.ConnectionError,
    ) -> None:
        self.fake = fake
        self.origin = origin
        self.session = session
        self.mode = mode
        self.dropped = dropped

    @property
    def base_url(self) -> str:
        """The API base URL (``<origin>/v1``) for clients."""
        return f"{self.origin}/v1"

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = _NO_JSON,
        data: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        key: str | None = API_KEY,
        timeout: float = 10.0,
    ) -> Reply:
        """Send one request.

        Args:
            method: HTTP method.
            path: A path on the fake's origin, or an absolute URL the fake returned.
            json: A JSON body.
            data: A raw body instead.
            headers: Extra headers.
            key: Bearer key to send; ``None`` sends no ``Authorization`` header.
            timeout: Seconds before ``requests`` gives up.

        Returns:
            The reply.
        """
        url = path if path.startswith(("http://", "https://")) else self.origin + path
        all_headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
        all_headers.update(headers or {})
        kwargs: dict[str, Any] = {"headers": all_headers, "timeout": timeout}
        if json is not _NO_JSON:
            kwargs["json"] = json
        if data is not None:
            kwargs["data"] = data
        response = self.session.request(method, url, **kwargs)
        return Reply(status=response.status_code, headers=response.headers, body=response.content)

    def post(self, path: str, **kwargs: Any) -> Reply:
        """``request("POST", path, ...)``."""
        return self.request("POST", path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Reply:
        """``request("GET", path, ...)``."""
        return self.request("GET", path, **kwargs)

    def generate(self, **body: Any) -> Reply:
        """POST an image-generation body (``model`` defaults to FLUX.1-schnell)."""
        body.setdefault("model", "black-forest-labs/FLUX.1-schnell")
        return self.post("/v1/images/generations", json=body)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output clean."""


class _ThreadedWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """An aborted answer (a reset or timeout fault) is what the test asked for."""


@contextlib.contextmanager
def _wsgi_host(fake: FakeTogether) -> Iterator[str]:
    # A hold longer than the contract tests' client timeouts, short enough to end with the test.
    app = make_wsgi_app(fake, timeout_hold_s=2.0)
    server = make_server(
        "127.0.0.1", 0, app, server_class=_ThreadedWSGIServer, handler_class=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


@pytest.fixture(params=["inprocess", "server", "wsgi"])
def api(request: pytest.FixtureRequest) -> Iterator[ContractAPI]:
    """The fake under test, reachable over HTTP in each mode."""
    fake = FakeTogether(**together_fake_options(request))
    with requests.Session() as session:
        if request.param == "inprocess":
            with fake:
                yield ContractAPI(fake, "https://api.together.xyz", session, "inprocess")
        elif request.param == "server":
            with FakeTogetherServer(fake) as server:
                yield ContractAPI(fake, server.origin, session, "server")
        elif request.param == "wsgi":
            with _wsgi_host(fake) as origin:
                dropped = requests.exceptions.ChunkedEncodingError
                yield ContractAPI(fake, origin, session, "wsgi", dropped=dropped)
        else:
            raise AssertionError(f"Unknown fake mode {request.param!r}")
