"""Shared pieces of the drift-check tests: upstream fakes on loopback, one faithful, one drifted.

Nothing here reaches the real API: every upstream is a ``FakeTogetherServer`` on 127.0.0.1, and
the key is a made-up one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from together_image_fake import (
    FakeRequest,
    FakeResponse,
    FakeTogether,
    FakeTogetherServer,
    SizeRange,
)
from together_image_fake._wire import etag

KEY = "tgp_v1_verifyTestKey0123456789abcdefXYZ"
"""A realistic-looking key: it must never reach a recording."""

SIZES_MODEL = "black-forest-labs/FLUX.2-dev"
WIDER = SizeRange(min=256, max=2048, multiple=16)
"""The sizes the drifted upstream allows FLUX.2-dev (the table and the fake: from 512 [REC])."""
REWORDED = b"Invalid API key. Find yours in the dashboard."


class RewordedFake(FakeTogether):
    """A fake whose 401 says something else than the real words (Etag and length kept right)."""

    def handle(self, request: FakeRequest) -> FakeResponse:
        response = super().handle(request)
        if response.status != 401 or b"invalid_api_key" not in response.body:
            return response
        body = response.body.replace(
            b"Invalid API key provided. You can find your API key at "
            b"https://api.together.ai/settings/api-keys.",
            REWORDED,
        )
        assert body != response.body
        headers = (
            *tuple(
                (name, etag(body) if name == "Etag" else value)
                for name, value in response.headers
                if name != "Content-Length"
            ),
            ("Content-Length", str(len(body))),
        )
        return replace(response, body=body, headers=headers)


@pytest.fixture
def faithful_upstream() -> Iterator[FakeTogetherServer]:
    """An upstream with exactly the fake's rules (as the real API: retired models not served)."""
    with FakeTogetherServer(FakeTogether(api_keys=[KEY], serve_retired=False)) as server:
        yield server


@pytest.fixture
def drifted_upstream() -> Iterator[FakeTogetherServer]:
    """An upstream that differs in two known ways: FLUX.2-dev takes sizes from 256 (a registered
    override), and the 401 has other words."""
    fake = RewordedFake(api_keys=[KEY], serve_retired=False)
    fake.register_model(SIZES_MODEL, sizes=WIDER)
    with FakeTogetherServer(fake) as server:
        yield server


@pytest.fixture
def key_env(monkeypatch: pytest.MonkeyPatch) -> str:
    """``TOGETHER_API_KEY`` set to the test key."""
    monkeypatch.setenv("TOGETHER_API_KEY", KEY)
    monkeypatch.delenv("TOGETHER_AI_API_KEY", raising=False)
    return KEY
