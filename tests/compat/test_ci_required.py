"""The real-client tests skip without Node, except under ``CI=true``, where they fail."""

from __future__ import annotations

import pytest

from .conftest import skip_unless_ci


@pytest.mark.parametrize("ci", ["true", "True", "1"])
def test_a_missing_tool_fails_under_ci(ci: str) -> None:
    with pytest.raises(pytest.fail.Exception, match=r"node not on PATH.*required when CI=true"):
        skip_unless_ci("node not on PATH", {"CI": ci})


@pytest.mark.parametrize("environ", [{}, {"CI": "false"}, {"CI": ""}])
def test_a_missing_tool_skips_elsewhere(environ: dict[str, str]) -> None:
    with pytest.raises(pytest.skip.Exception, match="node not on PATH"):
        skip_unless_ci("node not on PATH", environ)
