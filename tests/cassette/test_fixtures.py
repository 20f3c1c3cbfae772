"""The cassettes in ``fixtures/``: byte-exact where recorded, and replayable to our client."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from together_image import (
    APICallError,
    AuthenticationError,
    BadRequestError,
    InternalServerError,
    NotFoundError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    TogetherImageClient,
)
from together_image_fake import Cassette
from together_image_fake._cassette import api_path
from together_image_fake._wire import etag

from .conftest import replaying

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
ALL = sorted(FIXTURES.glob("*.json"))
RECORDED_BASE = "https://api.together.xyz/v1"


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_recorded_bodies_reproduce_their_recorded_etag_and_length(path: Path) -> None:
    for interaction in Cassette.load(path).interactions:
        response = interaction.response
        if response.elided:
            continue
        if response.header("Etag") is not None:
            assert etag(response.body) == response.header("Etag")
        if response.header("Content-Length") is not None:
            assert str(len(response.body)) == response.header("Content-Length")


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_every_fixture_replays_its_exact_bytes(path: Path, replay_mode: str) -> None:
    cassette = Cassette.load(path)
    first = cassette.interactions[0]

    with replaying(path, replay_mode, RECORDED_BASE, rewrite_urls=False) as replay:
        reply = requests.request(
            first.request.method,
            replay.base_url.removesuffix("/v1") + api_path(first.request.url),
            json=json.loads(first.request.body) if first.request.body else None,
            timeout=5,
        )

    assert reply.status_code == first.response.status
    assert reply.content == first.response.body


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("flux2-dev-width-400-2025-12-14", BadRequestError),
        ("invalid-api-key-401-2026-05-31", AuthenticationError),
        ("credit-limit-402", PaymentRequiredError),
        ("request-blocked-403", PermissionDeniedError),
        ("unknown-model-404-2026-05-31", NotFoundError),
        ("model-rate-limit-429", RateLimitError),
        ("chat-model-500-2025-07-24", InternalServerError),
    ],
)
def test_our_client_raises_the_right_error_for_each_recorded_error(
    name: str, error: type[APICallError]
) -> None:
    path = FIXTURES / f"{name}.json"
    recorded = Cassette.load(path).interactions[0]
    client = TogetherImageClient(api_key="replay-test-key", base_url=RECORDED_BASE, max_retries=0)

    with replaying(path, "inprocess", RECORDED_BASE), pytest.raises(error) as raised:
        client.images.generate(**json.loads(recorded.request.body))

    assert raised.value.status_code == recorded.response.status
    assert raised.value.message == json.loads(recorded.response.body)["error"]["message"]
