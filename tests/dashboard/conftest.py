"""Dashboard test fixtures: a headless Chromium, skipped with the install line when it is absent
(failed instead under ``CI=true``, so CI never loses the browser tests quietly)."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from ._browser import CHROMIUM, Browser


def require_chromium(executable: Path, environ: Mapping[str, str]) -> None:
    """Skip when ``executable`` is missing; under ``CI=true`` fail instead."""
    if executable.exists():
        return
    reason = (
        f"{executable} is missing: install Debian's browser with "
        "`apt-get install -y chromium` to run the dashboard browser tests"
    )
    if environ.get("CI", "").lower() in ("true", "1"):
        pytest.fail(f"{reason} (required when CI=true)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def dashboard_browser(tmp_path: Path) -> Iterator[Browser]:
    """A headless Chromium with a fresh profile under the test's tmp dir."""
    require_chromium(CHROMIUM, os.environ)
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    browser = Browser(profile)
    try:
        yield browser
    finally:
        browser.close()
