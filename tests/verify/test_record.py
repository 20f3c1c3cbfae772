"""``verify --record``: each upstream exchange becomes a scrubbed [REC] cassette that replays."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest

from together_image_fake import (
    Cassette,
    CassettePlayer,
    FakeRequest,
    FakeResponse,
    FakeTogether,
    FakeTogetherServer,
)
from together_image_fake._cli import main
from together_image_fake._probes import Battery, Probe, build_battery
from together_image_fake._verify import WRONG_KEY, probe_request, run_verify

from .conftest import KEY

MODELS = ["black-forest-labs/FLUX.2-dev", "google/flash-image-2.5"]


def test_recordings_replay_byte_exact_and_carry_their_provenance(
    faithful_upstream: FakeTogetherServer, tmp_path: Path
) -> None:
    battery = build_battery(models=MODELS)
    report = run_verify(
        battery,
        upstream=faithful_upstream.base_url,
        api_key=KEY,
        spend_up_to=100.0,  # a fake upstream: nothing is paid
        record_dir=tmp_path,
        environ={"TOGETHER_API_KEY": KEY},
        clock=lambda: datetime(2026, 12, 1, 22, 0, tzinfo=timezone.utc),
    )
    assert len(report.results) == len(battery.probes)  # generating ones included, under the cap
    assert {r.real.status for r in report.results} >= {200, 400, 401, 404, 500}
    for result in report.results:
        assert result.cassette == tmp_path / f"{result.probe.filename}.json"
        text = result.cassette.read_text()
        assert KEY not in text
        assert WRONG_KEY not in text
        cassette = Cassette.load(result.cassette)
        (interaction,) = cassette.interactions
        assert interaction.request.scrubbed_headers == ("authorization",)
        assert cassette.meta["probe"] == result.probe.id
        assert cassette.meta["rules"] == list(result.probe.rules)
        assert cassette.meta["recorded"] == "2026-12-01"
        assert interaction.provenance["request"].startswith(
            f"[REC] 2026-12-01 together-image-fake verify, probe {result.probe.id} (rule "
        )
        assert all(v.startswith("[REC] 2026-12-01") for v in interaction.provenance.values())
        # Replaying the probe's own request gives back what the upstream answered, byte for byte.
        replayed = CassettePlayer(cassette).handle(probe_request(result.probe, KEY))
        assert replayed.status == result.real.status, result.probe.id
        assert replayed.headers == result.real.headers, result.probe.id
        assert replayed.body == result.real.body, result.probe.id


def test_the_command_line_records_one_cassette_per_probe_sent(
    faithful_upstream: FakeTogetherServer,
    key_env: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    directory = tmp_path / "drift"
    status = main(
        [
            "verify",
            "--upstream",
            faithful_upstream.base_url,
            "--models",
            "Qwen/*",
            "--rules",
            "steps,auth",
            "--record",
            str(directory),
        ]
    )
    assert status == 0, capsys.readouterr().out
    sent = build_battery(models=["Qwen/*"], rules=["steps", "auth"]).free
    assert sorted(p.name for p in directory.iterdir()) == sorted(
        f"{probe.filename}.json" for probe in sent
    )
    for path in directory.iterdir():
        document = json.loads(path.read_text())
        assert document["meta"]["source"] == (
            f"[REC] together-image-fake verify against {faithful_upstream.base_url}"
        )
        assert KEY not in path.read_text()


def test_a_recording_the_secret_scan_refuses_is_reported_and_fails_the_run(
    faithful_upstream: FakeTogetherServer, tmp_path: Path
) -> None:
    # A key that only the environment knows and the upstream echoes back: scrubbed, not leaked.
    battery = build_battery(rules=["unknown_model"])
    leaky = "sk-proj-" + "Zq7Xw2Lm9Tr4Vb8Nc1Hy6Jk3" * 2
    probe = battery.probes[0]
    leaking = Battery(
        probes=(
            Probe(
                id=probe.id,
                model=leaky,
                rules=probe.rules,
                expect=probe.expect,
                description=probe.description,
                evidence=probe.evidence,
                body={**dict(probe.body or {}), "model": leaky},
            ),
        )
    )
    report = run_verify(
        leaking,
        upstream=faithful_upstream.base_url,
        api_key=KEY,
        record_dir=tmp_path,
        environ={},
    )
    assert report.exit_status() == 1
    assert len(report.record_errors) == 1
    assert "Refusing to save cassette" in report.record_errors[0]
    assert list(tmp_path.iterdir()) == []


def test_rate_limits_are_waited_out_and_only_the_answer_kept_is_recorded(
    faithful_upstream: FakeTogetherServer, tmp_path: Path
) -> None:
    faithful_upstream.fake.fail_next(error="rate_limited", times=2)
    slept: list[float] = []
    battery = build_battery(rules=["auth"])
    report = run_verify(
        battery,
        upstream=faithful_upstream.base_url,
        api_key=KEY,
        record_dir=tmp_path,
        environ={},
        sleep=slept.append,
    )
    (result,) = report.results
    assert slept == [10.0, 10.0]  # the 429's Retry-After, twice
    assert result.rate_limited == 2
    assert not result.drift
    assert result.cassette is not None
    (interaction,) = Cassette.load(result.cassette).interactions
    assert interaction.response.status == 401


def test_a_rate_limit_that_lasts_is_compared_as_it_is(
    faithful_upstream: FakeTogetherServer,
) -> None:
    faithful_upstream.fake.fail_next(error="rate_limited", times=5)
    slept: list[float] = []
    report = run_verify(
        build_battery(rules=["auth"]),
        upstream=faithful_upstream.base_url,
        api_key=KEY,
        sleep=slept.append,
    )
    (result,) = report.results
    assert len(slept) == 2
    assert result.drift
    assert result.rows[0].verdict() == "differs: real 429 / fake 401"


class _EchoingFake(FakeTogether):
    """An upstream that quotes the request's Authorization header back in its 404 message."""

    def handle(self, request: FakeRequest) -> FakeResponse:
        response = super().handle(request)
        if response.status != 404:
            return response
        echoed = request.headers.get("authorization", "").encode()
        body = response.body.replace(
            b"Unable to access model", b"Key " + echoed + b" may not access"
        )
        headers = tuple((n, v) for n, v in response.headers if n not in ("Content-Length", "Etag"))
        return replace(response, body=body, headers=headers)


def test_a_key_the_upstream_echoes_reaches_neither_the_table_nor_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOGETHER_API_KEY", KEY)
    report_path = tmp_path / "report.json"
    with FakeTogetherServer(_EchoingFake(api_keys=[KEY], serve_retired=False)) as upstream:
        status = main(
            [
                "verify",
                "--upstream",
                upstream.base_url,
                "--rules",
                "unknown_model",
                "--report",
                str(report_path),
                "--record",
                str(tmp_path / "recorded"),
            ]
        )
    out = capsys.readouterr().out
    assert status == 1  # the echo is drift
    assert "<scrubbed> may not access" in out
    assert KEY not in out
    assert KEY not in report_path.read_text()
    assert KEY not in (tmp_path / "recorded" / "unknown_model.json").read_text()
