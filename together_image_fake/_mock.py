"""The in-process adapter: intercepts ``requests`` with its own ``responses.RequestsMock``.

Requests to ``https://api.together.xyz`` and ``https://api.together.ai`` (and any extra base URL)
are turned into ``FakeRequest``s for ``FakeTogether.handle()``; connection faults become the
exceptions ``requests`` itself would raise. Any other request goes to whatever sent requests before
the fake started (a user's own ``responses`` mock, so the two compose) or, when that is the real
network, is blocked with an error listing the fake's routes: the fake never opens a connection.
This is the only module that imports ``responses``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

import requests
import responses
from requests.adapters import HTTPAdapter

from together_image_fake._routes import describe_routes
from together_image_fake._wire import FakeRequest

if TYPE_CHECKING:
    from together_image_fake._backend import FakeTogether

DEFAULT_BASE_URLS: tuple[str, ...] = ("https://api.together.xyz/v1", "https://api.together.ai/v1")
IN_PROCESS_ORIGIN = "https://api.together.ai"
"""URL-mode image URLs point here, as the real API's do [REC]; the mock serves them too."""

_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
# What ``responses`` captured as the unpatched ``HTTPAdapter.send`` when it was imported.
_NETWORK_SEND: Callable[..., Any] = responses._real_send


class _Mount:
    """One intercepted base URL: its origin and how its paths map onto the fake's."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(
                f"Expected an http(s) base URL such as https://host/v1, got {base_url!r}"
            )
        self.origin = f"{parts.scheme}://{parts.netloc}"
        path = parts.path
        # ".../v1" bases keep their API under /v1; any other base path stands in for /v1.
        self.root = path[:-3] if path.endswith("/v1") else path
        self.api_alias = not path.endswith("/v1")
        self.pattern = re.compile(re.escape(self.origin) + r"(?:[/?#].*)?$")

    def normalise(self, path: str) -> str | None:
        """Map a request path under this mount onto the fake's paths, or ``None`` if outside."""
        if self.root and not (path == self.root or path.startswith(self.root + "/")):
            return None
        rest = path[len(self.root) :] or "/"
        if self.api_alias and not rest.startswith(("/shrt/", "/_fake")):
            return "/v1" + rest
        return rest


class InProcessMock:
    """Routes intercepted ``requests`` traffic to a ``FakeTogether``.

    Args:
        fake: The backend.
        base_urls: Extra base URLs to intercept besides ``DEFAULT_BASE_URLS``.
    """

    def __init__(self, fake: FakeTogether, *, base_urls: Sequence[str] = ()) -> None:
        self._fake = fake
        mounts: list[_Mount] = []
        for base_url in (*DEFAULT_BASE_URLS, *base_urls):
            mount = _Mount(base_url)
            if all((m.origin, m.root) != (mount.origin, mount.root) for m in mounts):
                mounts.append(mount)
        # Longest root first, so /api/v1 wins over / on the same origin.
        self._mounts = sorted(mounts, key=lambda m: len(m.root), reverse=True)
        self._previous_send: Callable[..., Any] = _NETWORK_SEND
        self._mock: responses.RequestsMock | None = None

    def start(self) -> None:
        """Patch ``requests`` (remembering what handled requests before)."""
        self._previous_send = HTTPAdapter.send
        # ``responses`` types this hook positionally but calls it with keyword arguments.
        elsewhere = cast("Any", self._send_elsewhere)
        mock = responses.RequestsMock(
            assert_all_requests_are_fired=False, real_adapter_send=elsewhere
        )
        origins: list[re.Pattern[str]] = []
        for mount in self._mounts:
            if all(existing.pattern != mount.pattern.pattern for existing in origins):
                origins.append(mount.pattern)
        for pattern in origins:
            for method in _METHODS:
                mock.add_callback(method, pattern, callback=self._callback, content_type=None)
        mock.add_passthru(re.compile(".*"))
        mock.start()
        self._mock = mock

    def stop(self) -> None:
        """Undo the patch."""
        if self._mock is not None:
            self._mock.stop(allow_assert=False)
            self._mock = None

    def _callback(
        self, prepared: requests.PreparedRequest
    ) -> tuple[int, dict[str, str], bytes] | Exception:
        url = urlsplit(str(prepared.url))
        origin = f"{url.scheme}://{url.netloc}"
        path: str | None = None
        for mount in self._mounts:
            if mount.origin == origin:
                path = mount.normalise(url.path or "/")
                if path is not None:
                    break
        if path is None:
            return self._blocked(prepared)
        try:
            body = _body_bytes(prepared.body)
        except UnicodeEncodeError as error:
            return error
        request = FakeRequest(
            method=str(prepared.method).upper(),
            path=path,
            query=url.query,
            headers={name.lower(): value for name, value in prepared.headers.items()},
            body=body,
            origin=IN_PROCESS_ORIGIN,
        )
        response = self._fake.handle(request)
        self._fake.sleep(response.delay_s)
        if response.action == "reset":
            return requests.exceptions.ConnectionError(
                ConnectionResetError(104, "Connection reset by peer (injected by FakeTogether)"),
                request=prepared,
            )
        if response.action == "timeout":
            return requests.exceptions.ReadTimeout(
                "Read timed out (injected by FakeTogether)", request=prepared
            )
        return response.status, dict(response.headers), response.body

    def _send_elsewhere(
        self, adapter: HTTPAdapter, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        if self._previous_send is not _NETWORK_SEND:
            return self._previous_send(adapter, request, **kwargs)  # type: ignore[no-any-return]
        raise self._blocked(request)

    def _blocked(self, request: requests.PreparedRequest) -> requests.exceptions.ConnectionError:
        intercepted = ", ".join(f"{m.origin}{m.root}" for m in reversed(self._mounts))
        return requests.exceptions.ConnectionError(
            f"FakeTogether blocked {request.method} {request.url}: it never opens real "
            f"connections. It intercepts {intercepted} and serves {describe_routes()}. Pass "
            "FakeTogether(base_urls=[...]) for another base URL, or mock other hosts with your own "
            "`responses` started before the fake.",
            request=request,
        )


def _body_bytes(body: object) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        # http.client sends a str body as ISO-8859-1 (and fails on other text); so does the fake.
        return body.encode("iso-8859-1")
    if isinstance(body, (bytearray, memoryview)):
        return bytes(body)
    if hasattr(body, "read"):
        data = body.read()
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if isinstance(body, Iterable):
        return b"".join(
            chunk.encode("utf-8") if isinstance(chunk, str) else bytes(chunk) for chunk in body
        )
    return str(body).encode("utf-8")
