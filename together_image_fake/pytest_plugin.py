"""pytest fixtures for testing code that calls Together's image endpoint, offline.

Registered as the ``together_image_fake`` ``pytest11`` entry point. Fixtures only (imports of the
fake happen inside them, so merely having the package installed costs a test run nothing):

- ``together_fake``: a function-scoped ``FakeTogether`` intercepting ``requests`` in-process,
  configured by ``@pytest.mark.together_fake(seed=…, models=…, strict=…, api_keys=…, …)`` (any
  ``FakeTogether`` keyword). ``TOGETHER_API_KEY`` is set to a fake key when unset, so code using
  the default ``togetherai`` provider works unchanged.
  With ``cassette="fixtures/x.json"`` in the marker (plus ``ignore=("seed",)``,
  ``allow_repeats=True``), ``--together-mode`` decides: ``replay`` (default) answers from the
  cassette, ``record`` calls the real API with ``TOGETHER_API_KEY`` and rewrites it, ``live`` calls
  the real API, ``fake`` ignores it (``together_image_fake._modes`` holds the logic).
- ``together_client``: a provider (``create_togetherai``) wired to that fake.
- ``together_fake_server``: a ``FakeTogetherServer`` on a free loopback port, started once per
  session and reset before each test, for clients that must go over real HTTP (other languages,
  the official SDKs): ``together_fake_server.base_url``, ``together_fake_server.fake.calls``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from together_image import TogetherAIProvider
    from together_image_fake import FakeTogether, FakeTogetherServer

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
        "(seed=, models=, strict=, api_keys=, tier=, credit=, rate_limits=, ...), or "
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
    """A ``FakeTogether`` intercepting ``requests`` for the duration of one test."""
    from together_image_fake._modes import ModeUnavailable, open_together_fake, resolve_mode

    options = together_fake_options(request)
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
    with open_together_fake(
        mode,
        options,
        root=request.config.rootpath,
        upstream=request.config.getoption("together_upstream"),
        environ=os.environ,
        test_id=request.node.nodeid,
    ) as fake:
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
    together_fake_session_server: FakeTogetherServer,
) -> FakeTogetherServer:
    """The session's fake server, with calls, faults and images reset for this test."""
    together_fake_session_server.fake.reset()
    return together_fake_session_server
