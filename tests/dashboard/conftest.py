"""Dashboard test fixtures: a headless Chromium, skipped with the install line when it is absent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

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
