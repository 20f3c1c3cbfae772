"""pytest fixtures for testing code that calls Together's image endpoint, offline.

Registered as the ``together_image_fake`` ``pytest11`` entry point. Fixtures only (imports of the
fake happen inside them, so merely having the package installed costs a test run nothing):

- ``together_fake``: a function-scoped ``FakeTogether`` intercepting ``requests`` and httpx
  in-process, configured by ``@pytest.mark.together_fake(seed=…, models=…, strict=…, …)`` (any
  ``FakeTogether`` keyword). ``TOGETHER_API_KEY`` is set to a fake key when unset, so code using
  the default ``togetherai`` provider works unchanged.
  With ``cassette="fixtures/x.json"`` in the marker (plus ``ignore=("seed",)``,
  ``allow_repeats=True``), ``--together-mode`` decides: ``replay`` (default) answers from the
  cassette, ``record`` calls the real API with ``TOGETHER_API_KEY`` and rewrites it, ``live`` calls
  the real API, ``fake`` ignores it (``together_image_fake._modes`` holds the logic).
  In the plain fake, time is virtual: the fake's clock is real time plus every wait asked of
  it, and both its injected latency and our client's retry waits (``generate_image``'s and
  ``TogetherImageClient``'s default ``sleep``) advance that clock instead of sleeping, so a
  retried 429 costs no wall-clock time (``sleep=``/``clock=`` in the marker override this).
  ``retry_after_s=`` in the marker makes every retryable answer (408, 409, 429, 5xx) ask for
  that wait (``Retry-After`` and ``retry-after-ms``), for clients whose sleep the fixture cannot
  reach (the official SDKs).
- ``together_client``: a provider (``create_togetherai``) wired to that fake.
- ``together_fake_server``: a ``FakeTogetherServer`` on a free loopback port, started once per
  session and reset before each test, for clients that must go over real HTTP (other languages,
  subprocesses): ``together_fake_server.base_url``, ``.origin``, ``.fake.calls``; it honours the
  marker's ``retry_after_s`` too.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from together_image import TogetherAIProvider
    from together_image_fake import FakeRequest, FakeResponse, FakeTogether, FakeTogetherServer

FAKE_API_KEY = "together-fake-key"
"""The key the fixtures use when a test gives none."""


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--together-mode`` and ``--together-upstream``."""
    group = parser.getgroup("together-image-fake")
    group.addoption(
        "--together-mode",
        choices=("fake", "replay", "record", "live"),
        default=None,
        help="for tests whose together_fake marker names a cassette: replay it (default), "
        "record it from the real API, call the real API live, or use the plain fake; record and "
        "live need TOGETHER_API_KEY and are skipped without it",
    )
    group.addoption(
        "--together-upstream",
        default="https://api.together.ai/v1",
        metavar="URL",
        help="base URL that record and live modes call (default: %(default)s)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``together_fake`` marker."""
    config.addinivalue_line(
        "markers",
        "together_fake(**options): FakeTogether keyword options for the together_fake fixture "
        "(seed=, models=, strict=, api_keys=, tier=, credit=, rate_limits=, ...), "
        "retry_after_s=SECONDS to shorten the waits retryable answers ask for, or "
        "cassette=PATH with ignore=, allow_repeats= to replay or record a cassette",
    )


def together_fake_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Return the ``FakeTogether`` options of the closest ``together_fake`` marker, if any."""
    marker = request.node.get_closest_marker("together_fake")
    if marker is None:
        return {}
    if marker.args:
        raise pytest.UsageError(
            f"@pytest.mark.together_fake takes keyword options only, got positional {marker.args!r}"
        )
    return dict(marker.kwargs)


@pytest.fixture
def together_fake(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeTogether]:
    """A ``FakeTogether`` intercepting ``requests`` and httpx for the duration of one test."""
    from together_image_fake._modes import ModeUnavailable, open_together_fake, resolve_mode

    options = together_fake_options(request)
    retry_after_s = options.pop("retry_after_s", None)
    try:
        mode = resolve_mode(request.config.getoption("together_mode"), options, os.environ)
    except ModeUnavailable as reason:
        pytest.skip(str(reason))
    keys = options.get("api_keys")
    if not os.environ.get("TOGETHER_API_KEY"):
        monkeypatch.setenv("TOGETHER_API_KEY", sorted(keys)[0] if keys else FAKE_API_KEY)
    base_url = os.environ.get("TOGETHER_BASE_URL")
    if base_url and "base_urls" not in options:
        options["base_urls"] = [base_url]
    if mode == "fake":
        clock = _VirtualClock()
        options.setdefault("clock", clock.time)
        options.setdefault("sleep", clock.sleep)
        _default_client_sleep(monkeypatch, options["sleep"])
    with open_together_fake(
        mode,
        options,
        root=request.config.rootpath,
        upstream=request.config.getoption("together_upstream"),
        environ=os.environ,
        test_id=request.node.nodeid,
    ) as fake:
        _shorten_retry_after(monkeypatch, fake, retry_after_s)
        yield fake


@pytest.fixture
def together_client(together_fake: FakeTogether) -> TogetherAIProvider:
    """A Together provider whose requests the ``together_fake`` fixture answers."""
    from together_image import create_togetherai

    keys = together_fake.api_keys
    return create_togetherai(
        api_key=sorted(keys)[0] if keys else FAKE_API_KEY,
        base_url="https://api.together.xyz/v1",
    )


@pytest.fixture(scope="session")
def together_fake_session_server() -> Iterator[FakeTogetherServer]:
    """The session's ``FakeTogetherServer`` (any non-empty key accepted); prefer
    ``together_fake_server``, which also resets the fake's state before each test."""
    from together_image_fake import FakeTogetherServer

    with FakeTogetherServer() as server:
        yield server


@pytest.fixture
def together_fake_server(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    together_fake_session_server: FakeTogetherServer,
) -> FakeTogetherServer:
    """The session's fake server, with calls, faults and images reset for this test (and the
    marker's ``retry_after_s`` applied for this test only)."""
    together_fake_session_server.fake.reset()
    retry_after_s = together_fake_options(request).get("retry_after_s")
    _shorten_retry_after(monkeypatch, together_fake_session_server.fake, retry_after_s)
    return together_fake_session_server


class _VirtualClock:
    """Real time plus every wait asked of it: ``sleep()`` moves ``time()`` on instead of waiting."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.waited_s = 0.0

    def time(self) -> float:
        """The current Unix time on this clock."""
        return time.time() + self.waited_s

    def sleep(self, seconds: float) -> None:
        """Advance the clock by ``seconds`` (negative waits count as none), at once."""
        with self._lock:
            self.waited_s += max(0.0, seconds)


def _default_client_sleep(monkeypatch: pytest.MonkeyPatch, sleep: Callable[[float], None]) -> None:
    """Make our client wait on ``sleep`` unless a call passes its own (for this test only).

    The client has no provider-level sleep yet, so its defaults are swapped: a call that passes
    ``sleep=`` keeps it.
    """
    from together_image import TogetherImageClient, generate_image

    for function in (generate_image, TogetherImageClient.__init__):
        if function.__kwdefaults__ is not None and "sleep" in function.__kwdefaults__:
            monkeypatch.setitem(function.__kwdefaults__, "sleep", sleep)


def _shorten_retry_after(
    monkeypatch: pytest.MonkeyPatch, fake: FakeTogether, seconds: object
) -> None:
    """Make ``fake``'s retryable answers ask for ``seconds`` of wait (for this test only)."""
    if seconds is None:
        return
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds <= 60:
        raise pytest.UsageError(
            f"together_fake(retry_after_s=...) must be a number of seconds from 0 to 60, got "
            f"{seconds!r}"
        )
    handle = fake.handle

    def shortened(request: FakeRequest) -> FakeResponse:
        return _with_retry_after(handle(request), seconds)

    monkeypatch.setattr(fake, "handle", shortened)


def _with_retry_after(response: FakeResponse, seconds: float) -> FakeResponse:
    """Return ``response`` asking for a ``seconds`` wait if a client would retry it.

    Retryable means 408, 409, 429 or 5xx (what the official SDKs and our client retry [SDK]).
    ``retry-after-ms`` carries the exact wait (read first by the SDKs, the AI SDK and our client
    [SDK]); ``Retry-After`` stays whole seconds, as HTTP defines it, rounded up. The official
    SDKs ignore a wait of 0 and back off instead (about a second), so ask for 0.001 there.
    """
    if response.status not in (408, 409, 429) and response.status < 500:
        return response
    headers = [
        (name, value)
        for name, value in response.headers
        if name.lower() not in ("retry-after", "retry-after-ms")
    ]
    headers += [("Retry-After", str(math.ceil(seconds))), ("retry-after-ms", f"{seconds * 1000:g}")]
    return replace(response, headers=tuple(headers))
