"""Every bench section runs end to end on a tiny workload and reports well-formed rows."""

from __future__ import annotations

import json
import math
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
)


def _assert_well_formed(rows: list[Row]) -> None:
    assert rows
    for row in rows:
        assert row.name
        assert row.baseline
        assert math.isfinite(row.fake), row
        assert math.isfinite(row.base), row
        assert min(row.fake, row.base) > 0, row
        assert row.verdict in ("ok", "MISS", "")


def test_parse_args() -> None:
    args = parse_args(["--quick", "--only", "1", "--only", "4"])
    assert args.quick is True
    assert args.only == ["1", "4"]
    assert parse_args([]).only is None


def test_unknown_section_is_refused() -> None:
    with pytest.raises(SystemExit):
        parse_args(["--only", "9"])


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
    ],
)
def test_section_reports_rows(section: str, names: list[str]) -> None:
    rows, details = run_sections(TINY, [section])
    _assert_well_formed(rows)
    shown = [row.name for row in rows]
    assert all(name in shown for name in names), shown
    if section == "4":
        assert [line.split(":")[0] for line in details] == names


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
