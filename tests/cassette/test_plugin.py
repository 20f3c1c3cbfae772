"""The pytest side of cassettes: ``cassette=`` in the marker and ``--together-mode``, run in
isolated pytest sessions with ``pytester`` (and one ``pytest -n 2`` session)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

# Imported here so in-process pytester runs share them: pytester unloads the modules an inner run
# imports first, which would leave requests holding classes from a discarded http.cookiejar.
import together_image  # noqa: F401
import together_image_fake
from together_image_fake import FakeTogetherServer

from .conftest import SECRET_KEY

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"

QUETZAL_TEST = """
import pytest
from together_image import generate_image

@pytest.mark.together_fake(cassette="cassettes/quetzal.json", ignore=("seed",))
def test_quetzal(together_client, together_fake):
    result = generate_image(
        model=together_client.image("black-forest-labs/FLUX.1-schnell"),
        prompt="a quetzal", size="256x256", seed=SEED,
    )
    assert result.image.media_type == "image/jpeg"
    assert together_fake.calls[-1].prompt == "a quetzal"
"""


@pytest.fixture(autouse=True)
def _no_real_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOGETHER_API_KEY", raising=False)
    monkeypatch.delenv("TOGETHER_BASE_URL", raising=False)


def test_record_then_replay_by_default(
    pytester: pytest.Pytester, upstream: FakeTogetherServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_app=QUETZAL_TEST.replace("SEED", "7"))
    monkeypatch.setenv("TOGETHER_API_KEY", SECRET_KEY)

    pytester.runpytest(
        "--together-mode=record", f"--together-upstream={upstream.base_url}"
    ).assert_outcomes(passed=1)

    cassette = pytester.path / "cassettes" / "quetzal.json"
    text = cassette.read_text()
    assert SECRET_KEY not in text
    assert json.loads(text)["meta"]["test"] == "test_app.py::test_quetzal"
    assert upstream.fake.calls[0].prompt == "a quetzal"
    upstream.stop()
    monkeypatch.delenv("TOGETHER_API_KEY")
    pytester.makepyfile(test_app=QUETZAL_TEST.replace("SEED", "8"))
    pytester.runpytest().assert_outcomes(passed=1)


def test_a_replay_mismatch_fails_the_test_with_the_report(pytester: pytest.Pytester) -> None:
    (pytester.path / "cassettes").mkdir()
    shutil.copy(
        FIXTURES / "unknown-model-404-2026-05-31.json", pytester.path / "cassettes" / "q.json"
    )
    pytester.makepyfile(
        """
        import pytest, requests

        @pytest.mark.together_fake(cassette="cassettes/q.json")
        def test_other_model(together_fake):
            requests.post(
                "https://api.together.xyz/v1/images/generations",
                json={"prompt": "Tell a short joke.", "model": "another model"},
                timeout=5,
            )
        """
    )

    result = pytester.runpytest()

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*CassetteMismatchError: No recorded interaction in *q.json matches this request:*",
            '*body.model: recorded "bad model", sent "another model"*',
        ]
    )


def test_a_recorded_fixture_replays_through_the_client(pytester: pytest.Pytester) -> None:
    (pytester.path / "cassettes").mkdir()
    shutil.copy(
        FIXTURES / "unknown-model-404-2026-05-31.json", pytester.path / "cassettes" / "q.json"
    )
    pytester.makepyfile(
        """
        import pytest
        from together_image import NotFoundError, generate_image

        # Our client asks for base64; the recorded client sent no response_format.
        @pytest.mark.together_fake(cassette="cassettes/q.json", ignore=("response_format",))
        def test_unknown_model(together_client):
            with pytest.raises(NotFoundError, match="Unable to access model bad model"):
                generate_image(
                    model=together_client.image("bad model"), prompt="Tell a short joke."
                )
        """
    )

    pytester.runpytest().assert_outcomes(passed=1)


@pytest.mark.parametrize("mode", ["record", "live"])
def test_real_api_modes_skip_without_a_key(pytester: pytest.Pytester, mode: str) -> None:
    pytester.makepyfile(test_app=QUETZAL_TEST.replace("SEED", "7"))

    result = pytester.runpytest(f"--together-mode={mode}", "-rs")

    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines([f"*--together-mode={mode} *needs TOGETHER_API_KEY*"])
    assert not (pytester.path / "cassettes").exists()


def test_live_mode_calls_the_upstream_and_writes_nothing(
    pytester: pytest.Pytester, upstream: FakeTogetherServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOGETHER_API_KEY", SECRET_KEY)
    pytester.makepyfile(test_app=QUETZAL_TEST.replace("SEED", "7"))

    pytester.runpytest(
        "--together-mode=live", f"--together-upstream={upstream.base_url}"
    ).assert_outcomes(passed=1)

    assert len(upstream.fake.calls) == 1
    assert not (pytester.path / "cassettes").exists()


def test_fake_mode_ignores_the_cassette(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_app=QUETZAL_TEST.replace("SEED", "7"))

    pytester.runpytest("--together-mode=fake").assert_outcomes(passed=1)


def test_tests_without_a_cassette_keep_the_plain_fake_in_every_mode(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        from together_image_fake import CassettePlayer, TogetherProxy

        def test_plain(together_fake):
            assert not isinstance(together_fake, (CassettePlayer, TogetherProxy))
        """
    )

    pytester.runpytest("--together-mode=live").assert_outcomes(passed=1)


def test_xdist_workers_share_cassettes_read_only_and_record_whole_files(
    pytester: pytest.Pytester, upstream: FakeTogetherServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = pytester.path / "shared"
    shutil.copytree(FIXTURES, shared)
    before = {p: p.stat().st_mtime_ns for p in shared.rglob("*")}
    names = sorted(path.stem for path in FIXTURES.glob("*.json"))
    monkeypatch.setenv("TOGETHER_API_KEY", SECRET_KEY)
    pytester.makepyfile(
        f"""
        import json

        import pytest
        import requests
        from together_image_fake import Cassette, CassettePlayer

        @pytest.mark.parametrize("name", {names!r} * 2)
        def test_every_worker_loads_and_replays_the_shared_cassettes(name):
            cassette = Cassette.load(f"shared/{{name}}.json")
            first = cassette.interactions[0].request
            with CassettePlayer(cassette, base_urls=[first.url.rsplit("/v1/", 1)[0] + "/v1"]):
                body = json.loads(first.body) if first.body else None
                reply = requests.request(first.method, first.url, json=body, timeout=5)
            assert reply.content == cassette.interactions[0].response.body

        @pytest.mark.parametrize("n", range(6))
        def test_each_worker_records_its_own_cassette(request, n):
            request.applymarker(pytest.mark.together_fake(cassette=f"recorded/c{{n}}.json"))
            request.getfixturevalue("together_fake")
            reply = requests.post(
                "https://api.together.xyz/v1/images/generations",
                json={{"model": "black-forest-labs/FLUX.1-schnell", "prompt": f"p{{n}}",
                      "width": 256, "height": 256, "response_format": "base64"}},
                headers={{"Authorization": "Bearer together-fake-key"}},
                timeout=10,
            )
            assert reply.status_code == 200
        """
    )

    result = pytester.runpytest_subprocess(
        "-n",
        "2",
        "-p",
        "no:cacheprovider",
        "--together-mode=record",
        f"--together-upstream={upstream.base_url}",
    )

    result.assert_outcomes(passed=len(names) * 2 + 6)
    result.stdout.fnmatch_lines(["*2 workers*"])
    assert {p: p.stat().st_mtime_ns for p in shared.rglob("*")} == before
    recorded = pytester.path / "recorded"
    assert sorted(p.name for p in recorded.glob("*.json")) == [f"c{n}.json" for n in range(6)]
    assert not list(recorded.glob(".*.tmp"))
    for n in range(6):
        cassette = together_image_fake.Cassette.load(recorded / f"c{n}.json")
        assert json.loads(cassette.interactions[0].request.body)["prompt"] == f"p{n}"
        assert SECRET_KEY not in (recorded / f"c{n}.json").read_text()
