"""Every bench section runs end to end on a tiny workload and reports well-formed rows."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench._harness import Row
from bench._suite import write_suites
from bench._workload import MODEL_ID, Settings, canned_body, wire_body
from bench.run import main, parse_args, run_sections

TINY = Settings(
    quick=True,
    rounds=1,
    repeat=1,
    server_seconds=0.05,
    server_rounds=1,
    client_counts=(1, 2),
    scaling_sides=(256, 512),
    scaling_counts=(1, 2),
    suite_calls=2,
    suite_rounds=1,
    session_rounds=1,
    load_requests=3,
    memory_calls=2,
)
ROOT = Path(__file__).resolve().parents[2]


def _assert_well_formed(rows: list[Row]) -> None:
    """Structure only: every row named, its figures present, or a note saying why not.

    Never the values: a fitted exponent can come out at or below zero on a tiny, noisy workload.
    """
    assert rows
    for row in rows:
        assert row.name
        assert row.baseline
        if row.note:
            assert math.isnan(row.fake), row
            assert math.isnan(row.base), row
            assert row.verdict == ""
            continue
        assert math.isfinite(row.fake), row
        assert math.isfinite(row.base), row
        if row.unit != "exp":
            assert min(row.fake, row.base) > 0, row
        assert row.verdict in ("ok", "MISS", "")
        assert (row.verdict == "") is (row.goal is None)


def test_parse_args() -> None:
    args = parse_args(["--quick", "--only", "1", "--only", "9"])
    assert args.quick is True
    assert args.only == ["1", "9"]
    assert parse_args([]).only is None


def test_unknown_section_is_refused() -> None:
    with pytest.raises(SystemExit):
        parse_args(["--only", "10"])


def test_canned_body_is_the_fakes_answer() -> None:
    body = json.loads(canned_body(wire_body(256, "base64")))
    assert body["model"] == MODEL_ID
    assert [item["index"] for item in body["data"]] == [0]
    assert "b64_json" in body["data"][0]


@pytest.mark.parametrize(
    ("section", "names"),
    [
        ("1", ["1 in-process 512² b64, first call", "1 in-process 1024² b64, repeated, no seed"]),
        (
            "2",
            [
                "2 server 512² b64, 1 client: throughput",
                "2 server 512² b64, 2 clients: p99 latency",
            ],
        ),
        (
            "3",
            ["3 client overhead 1024² b64, in-process", "3 client overhead 1024² b64, over HTTP"],
        ),
        ("4", ["4 answer time vs pixels", "4 answer time vs n (512²)"]),
        (
            "6",
            [
                "6a trivial pytest session, Hypothesis installed: CPU",
                "6a trivial pytest session, Hypothesis installed: peak RSS",
                "6a trivial pytest session, no Hypothesis: CPU",
                "6a trivial pytest session, no Hypothesis: peak RSS",
            ],
        ),
        (
            "7",
            [
                "7b one test (set up, new-prompt call, tear down), 512², CPU",
                "7b peer: vcrpy replay",
                "7b peer: pytest-httpserver canned",
                "7c repeated identical call, 512², CPU",
                "7c peer: vcrpy replay",
                "7c peer: pytest-httpserver canned",
                "7d first call with a new prompt, 1024², CPU",
                "7d peer: vcrpy replay",
                "7d peer: pytest-httpserver canned",
            ],
        ),
        (
            "8",
            [
                "8e server CPU per request, new prompt, 512² (load from another process)",
                "8e peer: pytest-httpserver canned",
            ],
        ),
        (
            "9",
            [
                "9f peak RSS after 2 new-prompt calls, 512²",
                "9f peer: vcrpy replay",
                "9f peer: pytest-httpserver canned",
            ],
        ),
    ],
)
def test_section_reports_rows(section: str, names: list[str]) -> None:
    rows, details = run_sections(TINY, [section])
    _assert_well_formed(rows)
    shown = [row.name for row in rows]
    assert all(name in shown for name in names), shown
    if section == "4":
        assert [line.split(":")[0] for line in details] == names
        assert all(row.unit == "exp" and row.base == 1.0 for row in rows)
    if section == "8":
        # vcrpy replays inside the client: no server of its own to set beside the others.
        assert not [name for name in shown if "vcrpy" in name]


@pytest.mark.parametrize(
    ("section", "goals"),
    [
        # The figures each carry their goal; the peers and the RSS rows inform.
        ("7", {"7b one": "≤ 1.5", "7c repeated": "≤ 1.2", "7d first": "≤ 2"}),
        ("8", {"8e server": "≤ 2"}),
        ("9", {"9f peak": "≤ 1.3"}),
    ],
)
def test_each_figure_has_its_goal_and_peers_have_none(section: str, goals: dict[str, str]) -> None:
    rows, _ = run_sections(TINY, [section])
    for row in rows:
        prefix = " ".join(row.name.split(" ")[:2])
        if "peer:" in row.name:
            assert row.goal is None, row
        else:
            assert str(row.goal) == goals[prefix], row


def test_the_session_measurement_hides_only_what_it_says(tmp_path: Path) -> None:
    from bench._session import PACKAGE, _top_level_entries, shadow_site

    package_entries = _top_level_entries(PACKAGE)
    assert package_entries, "the package must be installed for the bench to measure it"
    kept = {entry.name for entry in shadow_site(tmp_path / "without", {PACKAGE}).iterdir()}
    everything = {entry.name for entry in shadow_site(tmp_path / "with", set()).iterdir()}
    assert not package_entries & kept
    assert everything - kept == package_entries & everything
    assert any(name.startswith("pytest") for name in kept)


def test_bare_pytest_from_the_repository_root_collects_the_bench_tests() -> None:
    # The console script puts its own folder, not the working directory, first on sys.path:
    # only the configuration can make `bench` importable, as `python -m pytest` finds it.
    script = Path(sys.executable).with_name("pytest")
    assert script.exists(), script
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    done = subprocess.run(
        [str(script), "--collect-only", "-q", "-p", "no:cacheprovider", "tests/bench"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "tests/bench/test_bench_harness.py::" in done.stdout
    assert "tests/bench/test_bench_sections.py::" in done.stdout


def test_generated_suites_compile(tmp_path: Path) -> None:
    fake_file, canned_file = write_suites(tmp_path, 3)
    for path in (fake_file, canned_file):
        source = path.read_text(encoding="utf-8")
        compile(source, str(path), "exec")
        assert "range(3)" in source
    assert json.loads((tmp_path / "canned.json").read_bytes())["model"] == MODEL_ID


def test_main_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--quick", "--only", "4"]) == 0
    out = capsys.readouterr().out
    assert "quick mode" in out
    assert "4 answer time vs pixels" in out
    assert "ratio" in out.splitlines()[1]
