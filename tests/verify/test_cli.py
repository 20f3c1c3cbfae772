"""``together-image-fake verify`` in-process against loopback fakes: drift found, only drift."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from together_image_fake import FakeTogetherServer
from together_image_fake._cli import main
from together_image_fake._probes import Probe, build_battery
from together_image_fake._verify import UNEXPECTED_SPEND_CAP, run_verify

from .conftest import KEY, REWORDED, SIZES_MODEL

SIZES_TRIP = f"{SIZES_MODEL}:dimensions:trip"


def _report(path: Path) -> dict[str, object]:
    report: dict[str, object] = json.loads(path.read_text())
    return report


def _bodies(probes: Sequence[Probe]) -> list[str]:
    return sorted(json.dumps(p.body, sort_keys=True) for p in probes)


def _sent(upstream: FakeTogetherServer) -> list[str]:
    """The bodies the upstream received (``null`` for the listing)."""
    return sorted(json.dumps(call.body, sort_keys=True) for call in upstream.fake.calls)


def _drifting_rows(report: dict[str, object], probe_id: str) -> set[str]:
    results = report["results"]
    assert isinstance(results, list)
    result = next(r for r in results if r["probe"]["id"] == probe_id)
    return {row["check"] for row in result["rows"] if not row["same"]}


def test_against_an_identical_fake_there_is_no_drift(
    faithful_upstream: FakeTogetherServer,
    key_env: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    report_path = tmp_path / "report.json"
    # A fake upstream costs nothing: a cap above every estimate sends the whole battery.
    status = main(
        [
            "verify",
            "--upstream",
            faithful_upstream.base_url,
            "--spend-up-to",
            "1000",
            "--report",
            str(report_path),
        ]
    )

    out = capsys.readouterr().out
    report = _report(report_path)
    battery = build_battery()
    assert status == 0, out
    assert report["drift"] == 0
    assert report["drifted"] == []
    assert report["battery"] == report["ran"] == len(battery.probes)
    assert report["stopped_before"] is None
    assert "differs:" not in out
    assert "header Etag" in out
    assert "same: the body's weak Etag" in out
    assert _sent(faithful_upstream) == _bodies(battery.probes)


def test_without_a_cap_only_the_free_probes_are_sent(
    faithful_upstream: FakeTogetherServer,
    key_env: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    report_path = tmp_path / "report.json"
    # Rules whose trip probes the fake rejects, so nothing is spent against expectation.
    status = main(
        [
            "verify",
            "--upstream",
            faithful_upstream.base_url,
            "--models",
            "black-forest-labs/FLUX.2-*",
            "--rules",
            "dimensions,n,auth,listing",
            "--report",
            str(report_path),
        ]
    )
    out = capsys.readouterr().out
    report = _report(report_path)
    battery = build_battery(
        models=["black-forest-labs/FLUX.2-*"], rules=["dimensions", "n", "auth", "listing"]
    )
    assert status == 0, out
    assert report["ran"] == len(battery.free)
    assert report["skipped_generating"] == [p.id for p in battery.generating]
    assert report["spent_estimate"] == 0
    assert f"{len(battery.generating)} image-generating probes not sent" in out
    assert _sent(faithful_upstream) == _bodies(battery.free)


def test_against_a_drifted_fake_exactly_the_changed_probes_drift(
    drifted_upstream: FakeTogetherServer,
    key_env: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    report_path = tmp_path / "report.json"
    status = main(
        [
            "verify",
            "--upstream",
            drifted_upstream.base_url,
            "--spend-up-to",
            "1000",
            "--report",
            str(report_path),
        ]
    )

    out = capsys.readouterr().out
    report = _report(report_path)
    assert status == 1
    assert sorted(report["drifted"]) == sorted(["auth", SIZES_TRIP])  # type: ignore[arg-type]
    # The reworded 401 differs in its message and nowhere else (its Etag and length match it).
    assert _drifting_rows(report, "auth") == {"error.message"}
    assert f'differs: real {json.dumps(REWORDED.decode())} / fake "Invalid API key provided.' in out
    # The override makes the upstream serve a request the fake rejects.
    sizes_rows = _drifting_rows(report, SIZES_TRIP)
    assert {"status", "error.message", "body keys", "timings"} <= sizes_rows
    assert "differs: real 200 / fake 400" in out
    results = report["results"]
    assert isinstance(results, list)
    sizes = next(r for r in results if r["probe"]["id"] == SIZES_TRIP)
    assert sizes["charged_estimate"] > 0  # an accepted "free" probe is counted as spent
    assert "2 with drift" in out
    assert report["ran"] == len(build_battery().probes)  # the whole battery, nothing else drifts


def test_drift_only_prints_only_the_rows_that_differ(
    drifted_upstream: FakeTogetherServer, key_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(
        ["verify", "--upstream", drifted_upstream.base_url, "--drift-only", "--rules", "auth,n"]
    )
    out = capsys.readouterr().out
    assert status == 1
    assert "same:" not in out
    assert out.count("[DRIFT]") == 1
    assert "auth  [DRIFT]" in out
    assert "error.message" in out


def test_without_a_key_and_without_an_upstream_it_refuses_before_sending_anything(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TOGETHER_API_KEY", raising=False)
    import urllib3

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("verify tried to send a request")

    monkeypatch.setattr(urllib3.PoolManager, "request", no_network)
    status = main(["verify"])
    err = capsys.readouterr().err
    assert status == 2
    assert "needs TOGETHER_API_KEY, which is not set" in err
    assert "--upstream" in err


def test_the_spend_cap_stops_the_run_before_the_estimate_would_pass_it(
    faithful_upstream: FakeTogetherServer,
    key_env: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Rules whose trip probes the fake rejects, so only generating probes can be spent on.
    battery = build_battery(models=["black-forest-labs/FLUX.2-*"], rules=["dimensions", "n"])
    generating = battery.generating
    assert len(generating) > 3
    # Room for the first three generating probes and not quite for the fourth.
    cap = sum(p.cost for p in generating[:3]) + generating[3].cost * 0.9
    report_path = tmp_path / "report.json"
    status = main(
        [
            "verify",
            "--upstream",
            faithful_upstream.base_url,
            "--models",
            "black-forest-labs/FLUX.2-*",
            "--rules",
            "dimensions,n",
            "--spend-up-to",
            f"{cap:.10f}",
            "--report",
            str(report_path),
        ]
    )
    out = capsys.readouterr().out
    report = _report(report_path)
    assert status == 0, out
    assert report["stopped_before"] == generating[3].id
    assert report["spent_estimate"] == pytest.approx(sum(p.cost for p in generating[:3]), abs=1e-6)
    assert report["spent_estimate"] <= cap  # type: ignore[operator]
    assert f"Stopped before {generating[3].id}" in out
    # The free probes and exactly the first three generating ones reached the upstream.
    assert _sent(faithful_upstream) == _bodies([*battery.free, *generating[:3]])


def test_a_zero_cap_sends_no_generating_probe(
    faithful_upstream: FakeTogetherServer, key_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(
        [
            "verify",
            "--upstream",
            faithful_upstream.base_url,
            "--models",
            "black-forest-labs/FLUX.2-dev",
            "--rules",
            "dimensions,n",
            "--spend-up-to",
            "0",
        ]
    )
    assert status == 0
    assert "Stopped before black-forest-labs/FLUX.2-dev:" in capsys.readouterr().out
    free = build_battery(models=["black-forest-labs/FLUX.2-dev"], rules=["dimensions", "n"]).free
    assert _sent(faithful_upstream) == _bodies(free)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--models", "nobody/*"], "matches no model of the table"),
        (["--rules", "colour"], "Unknown rule(s) colour"),
        (["--spend-up-to", "-1"], "--spend-up-to must be dollars >= 0, got -1.0"),
        (["--upstream", "ftp://127.0.0.1/v1"], "Expected an http(s) upstream base URL"),
    ],
)
def test_bad_selections_are_usage_errors(
    arguments: list[str],
    message: str,
    faithful_upstream: FakeTogetherServer,
    key_env: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = main(["verify", "--upstream", faithful_upstream.base_url, *arguments])
    assert status == 2
    assert message in capsys.readouterr().err
    assert faithful_upstream.fake.calls == []


def test_list_prints_the_battery_without_a_key_or_a_request(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TOGETHER_API_KEY", raising=False)
    status = main(["verify", "--list", "--models", "google/flash-image-2.5"])
    out = capsys.readouterr().out
    battery = build_battery(models=["google/flash-image-2.5"])
    assert status == 0
    assert f"{len(battery.probes)} probes: {len(battery.free)} free" in out
    assert (
        "google/flash-image-2.5:image_url:trip  (rejected) image_url, which the model rejects"
        in out
    )


def test_probes_the_upstream_accepts_against_expectation_stop_the_run_past_the_cap(
    drifted_upstream: FakeTogetherServer, key_env: str, tmp_path: Path
) -> None:
    # The drifted upstream serves the FLUX.2-dev size trip: drift, and images billed for it.
    report_path = tmp_path / "report.json"
    arguments = ["--models", SIZES_MODEL, "--rules", "dimensions,n", "--spend-up-to", "0"]
    status = main(
        [
            "verify",
            "--upstream",
            drifted_upstream.base_url,
            *arguments,
            "--report",
            str(report_path),
        ]
    )
    report = _report(report_path)
    assert status == 1
    assert report["drifted"] == [SIZES_TRIP]
    assert report["stopped_before"] == f"{SIZES_MODEL}:n:trip"
    assert "expected to be rejected" in str(report["stop_reason"])
    assert json.dumps({"n": 5}).strip("{}") not in "".join(_sent(drifted_upstream))


def test_without_a_cap_unexpected_spending_stops_at_the_default_cap(
    faithful_upstream: FakeTogetherServer,
) -> None:
    # An upstream serving up to ten images where four is the limit: each n trip is billed.
    battery = build_battery(models=["google/*"], rules=["n"])
    trips = [p for p in battery.free if p.model]
    for probe in trips:
        faithful_upstream.fake.register_model(str(probe.model), max_n=10)
    report = run_verify(battery, upstream=faithful_upstream.base_url, api_key=KEY)
    spent = 0.0
    expected_stop = None
    for probe in trips:
        if spent > UNEXPECTED_SPEND_CAP:
            expected_stop = probe
            break
        spent += probe.cost
    assert expected_stop is not None, "the n trips of Google's models cost more than the cap"
    assert report.stopped_before == expected_stop
    assert report.spent == pytest.approx(spent)
    assert report.spend_cap == UNEXPECTED_SPEND_CAP
    assert all(result.charged > 0 for result in report.results if result.probe.model)
