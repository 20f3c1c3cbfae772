"""The browser tests skip without Chromium, except under ``CI=true``, where they fail."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import require_chromium


@pytest.mark.parametrize("ci", ["true", "TRUE", "1"])
def test_a_missing_browser_fails_under_ci(tmp_path: Path, ci: str) -> None:
    with pytest.raises(pytest.fail.Exception, match=r"chromium is missing.*required when CI=true"):
        require_chromium(tmp_path / "chromium", {"CI": ci})


@pytest.mark.parametrize("environ", [{}, {"CI": "false"}, {"CI": ""}])
def test_a_missing_browser_skips_elsewhere(tmp_path: Path, environ: dict[str, str]) -> None:
    with pytest.raises(pytest.skip.Exception, match="apt-get install -y chromium"):
        require_chromium(tmp_path / "chromium", environ)


def test_a_present_browser_is_neither(tmp_path: Path) -> None:
    executable = tmp_path / "chromium"
    executable.write_text("")
    require_chromium(executable, {"CI": "true"})
