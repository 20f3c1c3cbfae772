"""Replay matching, stated rule by rule: JSON types, repeats, paths behind a prefix, scrubbed query
values. Each rule runs in-process and over the loopback server.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import requests

from together_image_fake import Cassette, CassettePlayer, FakeTogetherServer
from together_image_fake._cassette import Interaction, RecordedRequest, RecordedResponse
from together_image_fake._secrets import SCRUBBED

from .conftest import SCHNELL, post, replaying

BASE = "https://api.together.xyz/v1"
URL = BASE + "/images/generations"


def _exchange(
    body: dict[str, Any] | None, answer: bytes, url: str = URL, method: str = "POST"
) -> Interaction:
    return Interaction(
        request=RecordedRequest(
            method=method, url=url, body=json.dumps(body).encode() if body else b""
        ),
        response=RecordedResponse(
            status=200,
            headers=(("Content-Type", "application/json; charset=utf-8"),),
            body=answer,
        ),
    )


def _save(tmp_path: Path, *interactions: Interaction) -> Path:
    path = tmp_path / "c.json"
    Cassette(interactions=interactions).save(path)
    return path


def test_true_never_matches_one_nor_one_true(tmp_path: Path, replay_mode: str) -> None:
    recorded = {"model": SCHNELL, "prompt": "p", "disable_safety_checker": True}
    path = _save(tmp_path, _exchange(recorded, b'{"ok": true}'))

    with replaying(path, replay_mode, BASE, on_mismatch="respond") as replay:
        reply = post(replay.base_url, {**recorded, "disable_safety_checker": 1}, key="k")
        matched = post(replay.base_url, recorded, key="k")

    assert reply.status_code == 404
    assert len(replay.player.mismatches) == 1
    assert "disable_safety_checker" in str(replay.player.mismatches[0])
    assert matched.status_code == 200


def test_an_integer_matches_the_same_number_written_as_a_float(
    tmp_path: Path, replay_mode: str
) -> None:
    recorded = {"model": SCHNELL, "prompt": "p", "steps": 4}
    path = _save(tmp_path, _exchange(recorded, b'{"ok": 1}'))

    with replaying(path, replay_mode, BASE) as replay:
        reply = post(replay.base_url, {**recorded, "steps": 4.0}, key="k")

    assert reply.status_code == 200
    assert replay.player.mismatches == []


def test_allow_repeats_replays_the_last_matching_interaction_once_all_played(
    tmp_path: Path, replay_mode: str
) -> None:
    body = {"model": SCHNELL, "prompt": "again"}
    other = {"model": SCHNELL, "prompt": "other"}
    path = _save(
        tmp_path,
        _exchange(body, b'{"n": "first"}'),
        _exchange(other, b'{"n": "other"}'),
        _exchange(body, b'{"n": "second"}'),
    )

    with replaying(path, replay_mode, BASE, allow_repeats=True) as replay:
        answers = [post(replay.base_url, body, key="k").content for _ in range(4)]

    assert answers == [b'{"n": "first"}'] + [b'{"n": "second"}'] * 3
    assert replay.player.play_counts == [1, 0, 3]


def test_without_allow_repeats_a_played_interaction_is_not_replayed(
    tmp_path: Path, replay_mode: str
) -> None:
    body = {"model": SCHNELL, "prompt": "once"}
    path = _save(tmp_path, _exchange(body, b'{"n": 1}'))

    with replaying(path, replay_mode, BASE, on_mismatch="respond") as replay:
        first = post(replay.base_url, body, key="k")
        second = post(replay.base_url, body, key="k")

    assert (first.status_code, second.status_code) == (200, 404)
    assert "already played" in str(replay.player.mismatches[0])


def test_a_cdn_image_recorded_behind_a_path_prefix_replays_from_any_host(tmp_path: Path) -> None:
    image = b"\xff\xd8\xff\xe0 a jpeg"
    interaction = Interaction(
        request=RecordedRequest(
            method="GET", url="https://proxy.example/together/shrt/AbC123", body=b""
        ),
        response=RecordedResponse(
            status=200, headers=(("Content-Type", "image/jpeg"),), body=image
        ),
    )
    path = _save(tmp_path, interaction)

    player = CassettePlayer(path, on_mismatch="respond")
    with FakeTogetherServer(player) as server:
        reply = requests.get(f"{server.origin}/shrt/AbC123", timeout=10)
        missing = requests.get(f"{server.origin}/shrt/Other9", timeout=10)

    assert reply.status_code == 200
    assert reply.content == image
    assert missing.status_code == 404


def test_a_scrubbed_query_value_matches_any_value_but_not_a_missing_parameter(
    tmp_path: Path,
) -> None:
    interaction = _exchange(
        None, b'{"data": []}', url=f"{BASE}/models?key={SCRUBBED}&type=image", method="GET"
    )
    path = _save(tmp_path, interaction)

    player = CassettePlayer(path, on_mismatch="respond", allow_repeats=True)
    with FakeTogetherServer(player) as server:
        any_key = requests.get(f"{server.base_url}/models?type=image&key=abc", timeout=10)
        other_type = requests.get(f"{server.base_url}/models?type=chat&key=abc", timeout=10)
        no_key = requests.get(f"{server.base_url}/models?type=image", timeout=10)
        extra = requests.get(f"{server.base_url}/models?type=image&key=a&x=1", timeout=10)

    assert any_key.status_code == 200
    assert [other_type.status_code, no_key.status_code, extra.status_code] == [404, 404, 404]
