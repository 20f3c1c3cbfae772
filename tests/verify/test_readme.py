"""The README's drift-check section shows commands that exist, options the command really takes."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from together_image_fake._cli import build_parser, main

README = Path(__file__).resolve().parents[2] / "README.md"
HEADING = "## Is the fake still faithful? A drift check against the real API"


def _section() -> str:
    text = README.read_text(encoding="utf-8")
    assert HEADING in text
    return text.split(HEADING, 1)[1].split("\n## ", 1)[0]


def _verify_commands() -> list[list[str]]:
    commands = []
    for line in _section().splitlines():
        found = re.search(r"together-image-fake (verify[^#\n]*)", line)
        if found:
            commands.append(shlex.split(found.group(1)))
    return commands


def test_every_verify_command_in_the_readme_parses() -> None:
    commands = _verify_commands()
    assert len(commands) >= 6
    parser = build_parser()
    for arguments in commands:
        args = parser.parse_args(arguments)
        assert args.command == "verify"


def test_the_listing_command_of_the_readme_runs_without_a_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TOGETHER_API_KEY", raising=False)
    assert ["verify", "--list"] in _verify_commands()
    assert main(["verify", "--list"]) == 0
    assert re.search(
        r"^\d+ probes: \d+ free, \d+ generating images$", capsys.readouterr().out, re.M
    )


def test_the_nightly_job_uses_the_live_mode_the_plugin_offers() -> None:
    from together_image_fake._modes import MODES

    assert "pytest --together-mode=live" in _section()
    assert "live" in MODES
