"""Replay matching, stated rule by rule: JSON types, repeats, paths behind a prefix, scrubbed query
values. Each rule runs in-process and over the loopback server.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
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


def _replays(
    tmp_path: Path,
    replay_mode: str,
    recorded: Any,
    sent: Any,
    *,
    ignore: tuple[str, ...] = (),
    query: tuple[str, str] = ("", ""),
) -> bool:
    """Whether a request with body ``sent`` (and query ``query[1]``) replays an interaction
    recorded with body ``recorded`` (and query ``query[0]``)."""
    recorded_query, sent_query = query
    path = _save(tmp_path, _exchange(recorded, b'{"ok": true}', url=URL + recorded_query))
    with replaying(path, replay_mode, BASE, on_mismatch="respond", ignore=ignore) as replay:
        reply = requests.post(
            replay.base_url + "/images/generations" + sent_query,
            data=json.dumps(sent),
            headers={"Authorization": "Bearer k", "Content-Type": "application/json"},
            timeout=10,
        )
    assert reply.status_code in (200, 404)
    return reply.status_code == 200


@pytest.mark.parametrize(
    ("recorded", "sent", "matches"),
    [
        ({"image_urls": ["a", "b"]}, {"image_urls": ["a", "b"]}, True),
        ({"image_urls": ["a", "b"]}, {"image_urls": ["a", "c"]}, False),
        ({"image_urls": ["a", "b"]}, {"image_urls": ["b", "a"]}, False),
        ({"image_urls": ["a"]}, {"image_urls": ["a", "a"]}, False),
        ({"image_urls": ["a"]}, {"image_urls": "a"}, False),
        ({"image_urls": "a"}, {"image_urls": ["a"]}, False),
        ({"n": 2}, {"n": [1, 2]}, False),
        ({"n": [1, 2]}, {"n": 2}, False),
        ({"a": {"b": 1}}, {"a": {"b": 1, "c": 2}}, False),
    ],
    ids=lambda value: json.dumps(value) if not isinstance(value, bool) else str(value),
)
def test_lists_match_element_by_element_and_never_a_scalar(
    tmp_path: Path, replay_mode: str, recorded: Any, sent: Any, matches: bool
) -> None:
    assert _replays(tmp_path, replay_mode, recorded, sent) is matches


_IMAGE = b"\x89PNG\r\n\x1a\n an image"
_IMAGE_B64 = base64.b64encode(_IMAGE).decode()
_IMAGE_URL = "data:image/png;base64," + _IMAGE_B64


@pytest.mark.parametrize(
    ("sent", "matches"),
    [
        (_IMAGE_URL, True),
        (_IMAGE_B64, True),  # the same bytes as bare base64, without a data: header
        ("data:image/jpeg;base64," + _IMAGE_B64, True),  # the declared type is not compared
        ("data:image/png;base64," + _IMAGE_B64[:-4] + "AAAA", False),  # other bytes
        (_IMAGE_URL + "!!", False),  # junk after the image
        ("data:image/png;base64,QUJD," + _IMAGE_B64, False),  # the payload runs to the end
        ("data:image/png;base64,not base64", False),
    ],
    ids=["data-url", "bare", "other-type", "other-image", "junk-after", "two-commas", "invalid"],
)
def test_an_elided_image_matches_exactly_the_image_whose_digest_it_kept(
    tmp_path: Path, replay_mode: str, sent: str, matches: bool
) -> None:
    recorded = {"model": SCHNELL, "prompt": "p", "image_url": _IMAGE_URL}
    path = tmp_path / "c.json"
    Cassette(interactions=(_exchange(recorded, b'{"ok": 1}'),)).save(path, blobs="elide")
    assert "$elided" in path.read_text()

    with replaying(path, replay_mode, BASE, on_mismatch="respond") as replay:
        reply = post(replay.base_url, {**recorded, "image_url": sent}, key="k")

    assert reply.status_code == (200 if matches else 404)


def test_an_elided_image_without_a_digest_matches_any_image(
    tmp_path: Path, replay_mode: str
) -> None:
    recorded = {"model": SCHNELL, "prompt": "p", "image_url": _IMAGE_URL}
    path = tmp_path / "c.json"
    Cassette(interactions=(_exchange(recorded, b'{"ok": 1}'),)).save(path, blobs="elide")
    # A hand-edited cassette may drop the digest (the format allows null).
    document = json.loads(path.read_text())
    document["interactions"][0]["request"]["body"]["json"]["image_url"]["$elided"]["sha256"] = None
    path.write_text(json.dumps(document))

    with replaying(path, replay_mode, BASE, on_mismatch="respond") as replay:
        other = post(replay.base_url, {**recorded, "image_url": "data:image/png;base64,QUJD"})

    assert other.status_code == 200


@pytest.mark.parametrize(
    ("ignore", "recorded", "sent", "matches"),
    [
        (("seed",), {"p": "x", "seed": 1}, {"p": "x", "seed": 2}, True),
        (("seed",), {"p": "x", "seed": 1}, {"p": "y", "seed": 2}, False),
        (("a.b",), {"a": {"b": 1, "c": 2}}, {"a": {"b": 9, "c": 2}}, True),
        (("a.b",), {"a": {"b": 1, "c": 2}}, {"a": {"b": 9, "c": 3}}, False),
        (("items.0",), {"items": ["x", "y"]}, {"items": ["z", "y"]}, True),
        (("items.0",), {"items": ["x", "y"]}, {"items": ["x", "z"]}, False),
        (("items.1",), {"items": ["x", "y", "w"]}, {"items": ["x", "q", "w"]}, True),
        (("items.1",), {"items": ["x", "y", "w"]}, {"items": ["x", "q", "v"]}, False),
        (("items.0.u",), {"items": [{"u": 1, "v": 2}, 3]}, {"items": [{"u": 5, "v": 2}, 3]}, True),
        (("items.0.u",), {"items": [{"u": 1, "v": 2}, 3]}, {"items": [{"u": 5, "v": 9}, 3]}, False),
        (("items.0.u",), {"items": [{"u": 1, "v": 2}, 3]}, {"items": [{"u": 5, "v": 2}, 4]}, False),
        (("items.2",), {"items": ["x", "y"]}, {"items": ["x", "y"]}, True),  # past the end
        (("items.2.u",), {"items": ["x", "y"]}, {"items": ["x", "y"]}, True),
        (("items.2",), {"items": ["x", "y"]}, {"items": ["x", "z"]}, False),
        (("items.k",), {"items": ["x", "y"]}, {"items": ["x", "y"]}, True),  # not an index
        (("prompt.a",), {"prompt": "a cat"}, {"prompt": "a cat"}, True),  # not an object
        (("prompt.a",), {"prompt": "a cat"}, {"prompt": "a dog"}, False),
        (("missing.x",), {"p": 1}, {"p": 1}, True),
    ],
)
def test_ignored_fields_are_left_out_by_dotted_path_and_nothing_else_is(
    tmp_path: Path,
    replay_mode: str,
    ignore: tuple[str, ...],
    recorded: Any,
    sent: Any,
    matches: bool,
) -> None:
    assert _replays(tmp_path, replay_mode, recorded, sent, ignore=ignore) is matches


@pytest.mark.parametrize(
    ("recorded_query", "sent_query", "matches"),
    [
        ("?a=&b=1", "?b=1&a=", True),
        ("?a=&b=1", "?b=1", False),  # a blank value is still a parameter
        ("?b=1", "?a=&b=1", False),
        ("?a=1&a=2", "?a=2&a=1", True),
        ("?a=1&a=2", "?a=1", False),
        ("?a=1", "?a=1&a=1", False),
    ],
)
def test_query_parameters_match_as_a_multiset_blank_values_included(
    tmp_path: Path, replay_mode: str, recorded_query: str, sent_query: str, matches: bool
) -> None:
    body = {"model": SCHNELL, "prompt": "q"}
    found = _replays(tmp_path, replay_mode, body, body, query=(recorded_query, sent_query))
    assert found is matches
