"""``together-image-fake verify`` as a real process, against a drifted fake on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from together_image_fake import FakeTogetherServer

from .conftest import KEY, SIZES_MODEL


def _run(*args: str, key: str | None) -> subprocess.CompletedProcess[str]:
    env = {
        k: v for k, v in os.environ.items() if k not in ("TOGETHER_API_KEY", "TOGETHER_AI_API_KEY")
    }
    if key is not None:
        env["TOGETHER_API_KEY"] = key
    return subprocess.run(
        [sys.executable, "-m", "together_image_fake", "verify", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_the_command_reports_drift_in_its_exit_status_output_and_report(
    drifted_upstream: FakeTogetherServer, tmp_path: Path
) -> None:
    report_path = tmp_path / "ci" / "drift.json"
    record_dir = tmp_path / "recorded"
    done = _run(
        "--upstream",
        drifted_upstream.base_url,
        "--models",
        SIZES_MODEL,
        "--rules",
        "dimensions,auth,listing",
        "--report",
        str(report_path),
        "--record",
        str(record_dir),
        key=KEY,
    )

    assert done.returncode == 1, done.stderr
    assert "auth  [DRIFT]" in done.stdout
    assert f"{SIZES_MODEL}:dimensions:trip  [DRIFT]" in done.stdout
    assert "listing  [no drift]" in done.stdout
    report = json.loads(report_path.read_text())
    assert sorted(report["drifted"]) == ["auth", f"{SIZES_MODEL}:dimensions:trip"]
    assert len(list(record_dir.glob("*.json"))) == report["ran"]
    assert KEY not in done.stdout + done.stderr
    for path in record_dir.glob("*.json"):
        assert KEY not in path.read_text()


def test_the_command_refuses_without_a_key_for_the_real_api() -> None:
    done = _run(key=None)
    assert done.returncode == 2
    assert "needs TOGETHER_API_KEY" in done.stderr
    assert done.stdout == ""
