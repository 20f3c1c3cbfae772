"""Replaying cassettes: matching, ordering, ignored fields, the mismatch report, both modes."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image

from together_image_fake import (
    Cassette,
    CassetteMismatchError,
    CassettePlayer,
    FakeTogether,
    FakeTogetherServer,
)
from together_image_fake._cassette import Interaction, RecordedRequest, RecordedResponse
from together_image_fake._wire import ResponseAction, etag

from .conftest import SCHNELL, post, replaying

BASE = "https://api.together.xyz/v1"
URL = BASE + "/images/generations"


def _exchange(
    body: dict[str, Any],
    status: int = 200,
    answer: bytes = b'{\n  "ok": true\n}',
    url: str = URL,
    method: str = "POST",
) -> Interaction:
    return Interaction(
        request=RecordedRequest(
            method=method, url=url, body=json.dumps(body).encode() if body else b""
        ),
        response=RecordedResponse(
            status=status,
            headers=(("Content-Type", "application/json; charset=utf-8"),),
            body=answer,
        ),
    )


def _save(tmp_path: Path, *interactions: Interaction) -> Path:
    path = tmp_path / "c.json"
    Cassette(interactions=interactions).save(path)
    return path


def test_a_matching_request_gets_the_recorded_answer_byte_for_byte(
    tmp_path: Path, replay_mode: str
) -> None:
    answer = b'{\n  "id": "x",\n  "data": []\n}'
    path = _save(tmp_path, _exchange({"model": SCHNELL, "prompt": "a quetzal"}, answer=answer))

    with replaying(path, replay_mode, BASE) as replay:
        reply = post(replay.base_url, {"prompt": "a quetzal", "model": SCHNELL}, key="any")

        assert reply.status_code == 200
        assert reply.content == answer
        assert replay.player.calls[0].prompt == "a quetzal"


def test_ignored_fields_match_any_value_and_dotted_paths_reach_inside(
    tmp_path: Path, replay_mode: str
) -> None:
    recorded = {
        "model": SCHNELL,
        "prompt": "p",
        "seed": 1,
        "image_loras": [{"path": "a", "scale": 1}],
    }
    path = _save(tmp_path, _exchange(recorded))
    sent = {**recorded, "seed": 99, "image_loras": [{"path": "a", "scale": 0.5}]}

    with replaying(path, replay_mode, BASE, ignore=("seed", "image_loras.0.scale")) as replay:
        assert post(replay.base_url, sent).status_code == 200


def test_identical_requests_play_their_interactions_in_order(
    tmp_path: Path, replay_mode: str
) -> None:
    body = {"model": SCHNELL, "prompt": "retry me"}
    path = _save(
        tmp_path,
        _exchange(body, status=429, answer=b'{"error": {"message": "slow down"}}'),
        _exchange(body, status=200),
    )

    with replaying(path, replay_mode, BASE) as replay:
        statuses = [post(replay.base_url, body).status_code for _ in range(2)]

    assert statuses == [429, 200]


def test_a_request_past_the_recording_fails_unless_repeats_are_allowed(tmp_path: Path) -> None:
    body = {"model": SCHNELL, "prompt": "once"}
    path = _save(tmp_path, _exchange(body))

    with CassettePlayer(path) as player:
        post(BASE, body)
        with pytest.raises(CassetteMismatchError, match=r"already played.*allow_repeats"):
            post(BASE, body)
        assert len(player.mismatches) == 1
    with CassettePlayer(path, allow_repeats=True):
        assert [post(BASE, body).status_code for _ in range(3)] == [200, 200, 200]


def test_the_mismatch_report_shows_the_request_and_diffs_against_the_nearest(
    tmp_path: Path,
) -> None:
    path = _save(
        tmp_path,
        _exchange({"model": SCHNELL, "prompt": "a quetzal", "width": 256, "height": 256}),
        _exchange({"model": "bad model", "prompt": "x"}),
        _exchange({}, url="https://api.together.ai/shrt/abcdefghijklmnop", method="GET"),
    )

    with CassettePlayer(path, ignore=("seed",)), pytest.raises(CassetteMismatchError) as raised:
        post(BASE, {"model": SCHNELL, "prompt": "a quetzal", "width": 512, "height": 256})

    report = str(raised.value)
    assert report.startswith(f"No recorded interaction in {path} matches this request:")
    assert "  POST /v1/images/generations" in report
    assert '"width": 512' in report
    assert "(ignored body fields: seed)" in report
    lines = report.splitlines()
    nearest = lines.index("Nearest recorded interactions:")
    assert lines[nearest + 1].startswith("  #0 POST /v1/images/generations")
    assert lines[nearest + 2].strip() == "body.width: recorded 256, sent 512"
    assert "#2 GET /shrt/abcdefghijklmnop" in report
    assert "method: recorded GET, sent POST" in report


def test_long_values_are_summarized_in_the_report(tmp_path: Path) -> None:
    path = _save(tmp_path, _exchange({"model": SCHNELL, "prompt": "p", "image_url": "x"}))
    data_url = "data:image/png;base64," + "A" * 5000

    with CassettePlayer(path), pytest.raises(CassetteMismatchError) as raised:
        post(BASE, {"model": SCHNELL, "prompt": "p", "image_url": data_url})

    assert "5022 chars, sha256" in str(raised.value)
    assert len(str(raised.value)) < 2000


def test_server_mode_answers_a_mismatch_with_a_readable_404(tmp_path: Path) -> None:
    path = _save(tmp_path, _exchange({"model": SCHNELL, "prompt": "a"}))
    player = CassettePlayer(path, on_mismatch="respond")

    with FakeTogetherServer(player) as server:
        reply = post(server.base_url, {"model": SCHNELL, "prompt": "b"})

    assert reply.status_code == 404
    error = reply.json()["error"]
    assert error["code"] == "cassette_mismatch"
    assert 'body.prompt: recorded "a", sent "b"' in error["message"]
    assert len(player.mismatches) == 1


def test_reset_makes_every_interaction_playable_again(tmp_path: Path) -> None:
    body = {"model": SCHNELL, "prompt": "p"}
    path = _save(tmp_path, _exchange(body), _exchange({"model": SCHNELL, "prompt": "q"}))

    with CassettePlayer(path) as player:
        post(BASE, body)
        assert player.play_counts == [1, 0]
        assert len(player.unplayed()) == 1
        with pytest.raises(AssertionError, match=r"1 recorded interaction\(s\) .* never played"):
            player.assert_all_played()
        player.reset()
        assert player.play_counts == [0, 0]
        post(BASE, body)
        assert player.calls[-1].prompt == "p"


def test_the_control_api_still_works_while_replaying(tmp_path: Path) -> None:
    path = _save(tmp_path, _exchange({"model": SCHNELL, "prompt": "p"}))
    player = CassettePlayer(path, on_mismatch="respond")

    with FakeTogetherServer(player) as server:
        post(server.base_url, {"model": SCHNELL, "prompt": "p"})
        calls = requests.get(server.origin + "/_fake/calls", timeout=5).json()
        requests.post(server.origin + "/_fake/reset", timeout=5)

    assert [call["prompt"] for call in calls] == ["p"]
    assert player.play_counts == [0]


def test_rewritten_image_urls_point_at_the_server_and_keep_a_true_etag(tmp_path: Path) -> None:
    answer = json.dumps(
        {"data": [{"url": "https://api.together.ai/shrt/abcdefghijklmnop"}]}, indent=2
    ).encode()
    recorded = _exchange({"model": SCHNELL, "prompt": "p"}, answer=answer)
    recorded = Interaction(
        request=recorded.request,
        response=RecordedResponse(
            status=200,
            headers=(("Content-Type", "application/json"), ("Etag", etag(answer))),
            body=answer,
        ),
    )
    path = _save(tmp_path, recorded)

    with FakeTogetherServer(CassettePlayer(path, rewrite_urls=True)) as server:
        reply = post(server.base_url, {"model": SCHNELL, "prompt": "p"})

    assert reply.json()["data"][0]["url"] == f"{server.origin}/shrt/abcdefghijklmnop"
    assert reply.headers["Etag"] == etag(reply.content)


def test_an_elided_request_image_matches_the_same_image_only(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (9, 9, 9)).save(buffer, format="PNG")
    image_url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    body = {
        "model": "black-forest-labs/FLUX.1-kontext-pro",
        "prompt": "edit",
        "image_url": image_url,
    }
    path = tmp_path / "c.json"
    Cassette(interactions=(_exchange(body),)).save(path, blobs="elide")
    assert (
        "base64"
        not in json.loads(path.read_text())["interactions"][0]["request"]["body"]["json"][
            "image_url"
        ]
    )

    with CassettePlayer(path):
        assert post(BASE, body).status_code == 200
    other = {
        **body,
        "image_url": "data:image/png;base64," + base64.b64encode(b"\x89PNG other").decode(),
    }
    with CassettePlayer(path), pytest.raises(CassetteMismatchError, match="an elided image"):
        post(BASE, other)


@pytest.mark.parametrize(
    ("action", "error"),
    [("reset", requests.ConnectionError), ("timeout", requests.Timeout)],
)
def test_recorded_connection_failures_replay_as_the_same_failures(
    tmp_path: Path, action: ResponseAction, error: type[Exception]
) -> None:
    recorded = _exchange({"model": SCHNELL, "prompt": "p"})
    failing = Interaction(
        request=recorded.request, response=RecordedResponse(status=0, action=action)
    )
    path = _save(tmp_path, failing)

    with CassettePlayer(path), pytest.raises(error):
        post(BASE, {"model": SCHNELL, "prompt": "p"})


def test_from_cassette_is_a_fake_together(tmp_path: Path) -> None:
    path = _save(tmp_path, _exchange({"model": SCHNELL, "prompt": "p"}))

    player = FakeTogether.from_cassette(path, ignore=("seed",))

    assert isinstance(player, FakeTogether)
    assert player.ignore == ("seed",)
