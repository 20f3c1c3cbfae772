"""The README tells the truth: its first-screen commands and its Python examples run as shown."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
CI_SCRIPT = README.with_name(".ci") / "run"


def _python_block_after(heading: str) -> str:
    """Return the first ```python block below the ``## heading`` section title."""
    text = README.read_text(encoding="utf-8")
    section = text.split(f"## {heading}", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, flags=re.DOTALL)
    assert match is not None, f"no python example under '## {heading}'"
    return match.group(1)


def test_first_screen_shows_the_two_commands_and_ci_runs_the_test_one() -> None:
    first_screen = README.read_text(encoding="utf-8").split("## ", 1)[0]
    commands = re.findall(r"^(pip install [^#\n]*?)\s+#", first_screen, flags=re.MULTILINE)
    assert commands == ["pip install . && together-image-fake serve", "pip install tox && tox"]
    assert "python3 -m tox" in CI_SCRIPT.read_text(encoding="utf-8")


def test_the_pytest_example_passes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_app=_python_block_after("Test your app offline in 30 seconds"))
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_the_property_test_example_passes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_app=_python_block_after("Property-test your app's image code"))
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_the_client_example_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    # As pasted into a fresh shell: no key in the environment (the example sets one). Set, then
    # delete, so monkeypatch also removes the key the example sets once the test ends.
    monkeypatch.setenv("TOGETHER_API_KEY", "unset-below")
    monkeypatch.delenv("TOGETHER_API_KEY")
    monkeypatch.delenv("TOGETHER_BASE_URL", raising=False)
    exec(compile(_python_block_after("The client in 30 seconds"), "README.md", "exec"), {})  # noqa: S102
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "image/jpeg 2"
    assert re.fullmatch(r"https://api\.together\.ai/shrt/[A-Za-z0-9]{16}", printed[1])
    assert (tmp_path / "quetzal.jpg").stat().st_size > 0
