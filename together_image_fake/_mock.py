"""The ``requests`` in-process adapter: intercepts ``requests`` through ``responses``.

Requests to ``https://api.together.xyz`` and ``https://api.together.ai`` (and any extra base URL)
are turned into ``FakeRequest``s for the fake's ``handle()``; connection faults become the
exceptions ``requests`` itself would raise. Any other request goes to whatever sent requests before
the first fake started (a user's own ``responses`` mock, so the two compose) or, when that is the
real network, is blocked with an error listing the fake's routes: the fake never opens a
connection. This is the only module that imports ``responses``.

Several fakes may intercept at once, started and stopped in any order: one shared
``responses.RequestsMock`` patches ``requests`` while at least one ``InProcessMock`` is active, and
each request goes to the most recently started active fake whose base URLs cover it. Stopping a
fake removes exactly its own interception (``mock.patch`` stacking alone would restore another
fake's patch when stopped out of order).

While fakes intercept, the shared mock forgets each request once the next one arrives (the fake's
own call log is the bounded record), and ``Session.merge_environment_settings`` skips reading the
environment's proxies and CA bundle for requests a fake answers: they never open a connection.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, cast

import requests
import responses
from requests.adapters import HTTPAdapter

from together_image_fake._mounts import (
    DEFAULT_BASE_URLS,
    IN_PROCESS_ORIGIN,
    Mount,
    blocked_message,
    fake_path,
    mounts_for,
)
from together_image_fake._wire import FakeRequest

if TYPE_CHECKING:
    from together_image_fake._backend import FakeTogether

__all__ = ["DEFAULT_BASE_URLS", "IN_PROCESS_ORIGIN", "InProcessMock"]

_Mount = Mount
"""The shared mount type under the name other in-process adapters used first."""

_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
# What ``responses`` captured as the unpatched ``HTTPAdapter.send`` when it was imported.
_NETWORK_SEND: Callable[..., Any] = responses._real_send


class InProcessMock:
    """Routes intercepted ``requests`` traffic to a ``FakeTogether``.

    Args:
        fake: The backend (``handle()`` and ``sleep()`` are all this adapter calls).
        base_urls: Extra base URLs to intercept besides ``DEFAULT_BASE_URLS``.
    """

    def __init__(self, fake: FakeTogether, *, base_urls: Sequence[str] = ()) -> None:
        self._fake = fake
        self._mounts = mounts_for(base_urls)

    @property
    def mounts(self) -> tuple[Mount, ...]:
        """The base URLs this adapter intercepts, longest root first."""
        return self._mounts

    def start(self) -> None:
        """Start intercepting (the first active adapter patches ``requests``)."""
        _INTERCEPTION.add(self)

    def stop(self) -> None:
        """Stop intercepting for this fake only (no-op when not started)."""
        _INTERCEPTION.remove(self)

    def answer(
        self, prepared: requests.PreparedRequest, path: str
    ) -> tuple[int, dict[str, str], bytes] | Exception:
        """Answer one intercepted request whose fake path is ``path``."""
        url = str(prepared.url)
        try:
            body = _body_bytes(prepared.body)
        except UnicodeEncodeError as error:
            return error
        request = FakeRequest(
            method=str(prepared.method).upper(),
            path=path,
            query=url.partition("?")[2].partition("#")[0],
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

    def blocked(self, request: requests.PreparedRequest) -> requests.exceptions.ConnectionError:
        """The error for a request this fake does not serve."""
        message = blocked_message(
            str(request.method), str(request.url), self._mounts, library="responses"
        )
        return requests.exceptions.ConnectionError(message, request=request)


class _Interception:
    """The process-wide patch of ``requests``, shared by every active ``InProcessMock``."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._active: list[InProcessMock] = []
        # One mock for the process, started while any fake is active. Its registrations stay
        # between activations: a suite starts a fake per test, nearly always for the same
        # origins, and registering 14 callbacks anew cost more than the rest of a start.
        # ``responses`` types the send hook positionally but calls it with keyword arguments.
        self._mock = responses.RequestsMock(
            assert_all_requests_are_fired=False,
            real_adapter_send=cast("Any", self._send_elsewhere),
        )
        self._origins: tuple[str, ...] = ()
        """The origin patterns ``_mock`` has callbacks for."""
        self._previous_send: Callable[..., Any] = _NETWORK_SEND
        self._previous_merge: Callable[..., Any] = requests.Session.merge_environment_settings

    def add(self, adapter: InProcessMock) -> None:
        with self._lock:
            if adapter in self._active:
                return
            if not self._active:
                self._previous_send = HTTPAdapter.send
                self._previous_merge = requests.Session.merge_environment_settings
                requests.Session.merge_environment_settings = _intercepted_environment_settings  # type: ignore[method-assign,assignment]
                self._mock.start()
            self._active.append(adapter)
            self._register()

    def remove(self, adapter: InProcessMock) -> None:
        with self._lock:
            if adapter not in self._active:
                return
            self._active.remove(adapter)
            if self._active:
                self._register()
            else:
                self._mock.stop(allow_assert=False)
                self._forget_calls()
                requests.Session.merge_environment_settings = self._previous_merge  # type: ignore[method-assign]

    def _register(self) -> None:
        """Make the shared mock intercept exactly the origins of the active adapters."""
        origins = tuple(
            dict.fromkeys(
                mount.pattern.pattern for adapter in self._active for mount in adapter.mounts
            )
        )
        if origins == self._origins:
            return
        self._mock.reset()
        for pattern in origins:
            for method in _METHODS:
                self._mock.add_callback(
                    method, re.compile(pattern), callback=self._callback, content_type=None
                )
        self._mock.add_passthru(re.compile(".*"))
        self._origins = origins

    def _callback(
        self, prepared: requests.PreparedRequest
    ) -> tuple[int, dict[str, str], bytes] | Exception:
        self._forget_calls()
        with self._lock:
            active = list(reversed(self._active))
        for adapter in active:
            path = fake_path(adapter.mounts, str(prepared.url))
            if path is not None:
                return adapter.answer(prepared, path)
        if not active:
            return requests.exceptions.ConnectionError(
                "FakeTogether stopped while this request was under way", request=prepared
            )
        return active[0].blocked(prepared)

    def serves(self, url: str) -> bool:
        """Whether an active fake answers ``url``."""
        with self._lock:
            active = list(self._active)
        return any(fake_path(adapter.mounts, url) is not None for adapter in active)

    def merge_environment_settings(
        self, session: requests.Session, url: str, *settings: Any
    ) -> dict[str, Any]:
        """``Session.merge_environment_settings`` while fakes intercept: the environment's
        proxies and CA bundle are read only for requests that may reach a socket."""
        if session.trust_env and self.serves(url):
            # An intercepted request never connects, so proxies and CA bundles go unused; reading
            # them scans os.environ twice per request (``requests`` caches nothing). Without the
            # environment, the session's own settings merge exactly as requests merges them.
            untrusting = _EnvironmentBlind(session)
            return self._previous_merge(untrusting, url, *settings)  # type: ignore[no-any-return]
        return self._previous_merge(session, url, *settings)  # type: ignore[no-any-return]

    def _forget_calls(self) -> None:
        """Drop what ``responses`` recorded of the requests before this one.

        A ``RequestsMock`` keeps every request and response it handled, on itself and on the
        registration that matched, until it stops: a fake left running for a whole suite would
        hold every image it served a second time. The fake's own call log is the record, bounded.
        """
        self._mock.calls.reset()
        for registration in self._mock.registered():
            registration.calls.reset()

    def _send_elsewhere(
        self, adapter: HTTPAdapter, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        with self._lock:
            newest = self._active[-1] if self._active else None
        if self._previous_send is not _NETWORK_SEND or newest is None:
            return self._previous_send(adapter, request, **kwargs)  # type: ignore[no-any-return]
        raise newest.blocked(request)


_INTERCEPTION = _Interception()


def _intercepted_environment_settings(
    session: requests.Session, url: str, *settings: Any
) -> dict[str, Any]:
    return _INTERCEPTION.merge_environment_settings(session, url, *settings)


class _EnvironmentBlind:
    """A session's merge settings seen with ``trust_env`` off (the session itself unchanged)."""

    trust_env = False

    def __init__(self, session: requests.Session) -> None:
        self.proxies = session.proxies
        self.stream = session.stream
        self.verify = session.verify
        self.cert = session.cert


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
