"""Shared pieces of the cassette tests: a secret key, an upstream fake server, replay in each mode.

The only upstream reachable here is the fake itself, served over real HTTP: recording tests record
our client (or plain ``requests``) talking to it, then replay what they recorded.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import requests

from together_image_fake import CassettePlayer, FakeTogether, FakeTogetherServer

SECRET_KEY = "tgp_v1_q8ZrT3mWx7Lk2Pn5Vb9Hc4Jd6Fs1Ga0Ye3Ui8Ow2Er"
"""A realistic-looking key that must never reach a cassette."""

SCHNELL = "black-forest-labs/FLUX.1-schnell"
GENERATE = "/images/generations"


class Replay(NamedTuple):
    """A cassette being replayed in one mode: send requests to ``base_url``."""

    player: CassettePlayer
    base_url: str
    mode: str


@pytest.fixture
def upstream() -> Iterator[FakeTogetherServer]:
    """A seeded fake on a loopback port that accepts only ``SECRET_KEY``."""
    with FakeTogetherServer(FakeTogether(seed=11, api_keys=[SECRET_KEY])) as server:
        yield server


@pytest.fixture(params=["inprocess", "server"])
def replay_mode(request: pytest.FixtureRequest) -> str:
    """Each replay behaviour runs in-process and over the loopback server."""
    mode: str = request.param
    return mode


@contextlib.contextmanager
def replaying(path: Path | str, mode: str, base_url: str, **options: Any) -> Iterator[Replay]:
    """Replay ``path`` in ``mode``; in-process it intercepts ``base_url`` (the recorded one)."""
    if mode == "inprocess":
        with CassettePlayer(path, base_urls=[base_url], **options) as player:
            yield Replay(player=player, base_url=base_url, mode=mode)
    else:
        options.setdefault("on_mismatch", "respond")
        options.setdefault("rewrite_urls", True)
        player = CassettePlayer(path, **options)
        with FakeTogetherServer(player) as server:
            yield Replay(player=player, base_url=server.base_url, mode=mode)


def post(base_url: str, body: dict[str, Any], key: str | None = SECRET_KEY) -> requests.Response:
    """POST an image-generation body."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return requests.post(base_url + GENERATE, json=body, headers=headers, timeout=10)
