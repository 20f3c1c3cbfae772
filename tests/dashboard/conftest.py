"""Dashboard test fixtures: a headless Chromium (skipped when absent) and a running fake server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from together_image_fake import FakeTogether
from together_image_fake._server import FakeTogetherServer

from ._browser import CHROMIUM, Browser


@pytest.fixture
def dashboard_browser(tmp_path: Path) -> Iterator[Browser]:
    """A headless Chromium with a fresh profile under the test's tmp dir."""
    if not CHROMIUM.exists():
        pytest.skip(
            f"{CHROMIUM} is missing: install Debian's browser with "
            "`apt-get install -y chromium` to run the dashboard browser tests"
        )
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    browser = Browser(profile)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def dashboard_server() -> Iterator[FakeTogetherServer]:
    """A loopback fake server with a fresh, seeded backend."""
    with FakeTogetherServer(fake=FakeTogether(seed=8)) as server:
        yield server
