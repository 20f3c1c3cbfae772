"""Every recorded real exchange [REC]: the fake answers with the same status, body and headers.

Bodies are compared byte for byte after masking ids, image URLs and timing values; headers by
name (the recorded set must be present) and by value where the value is not per-request.
"""

from __future__ import annotations

import json
import re

import pytest

from together_image_fake._wire import etag, json_bytes

from ._recorded import (
    ACCEPTED_SIZES,
    CDN_HEADERS,
    EXCHANGES,
    SHIBA_PROMPT,
    STRIPPED_BY_RECORDER,
    Exchange,
    normalise,
)
from .conftest import ContractAPI, Reply

# Headers whose recorded values differ per response; checked by shape instead.
_DYNAMIC = {
    "cf-ray": re.compile(r"^[0-9a-f]{16}-[A-Z]{3}$"),
    "etag": re.compile(r'^W/"[0-9a-f]+-[A-Za-z0-9+/]{27}"$'),
    "x-api-call-end": re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"),
    "x-api-call-start": re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"),
    "x-api-received": re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"),
    "content-length": re.compile(r"^\d+$"),
    "x-ratelimit-remaining": re.compile(r"^\d+$"),
    "x-ratelimit-limit": re.compile(r"^[0-9.]+$"),
    "retry-after": re.compile(r"^\d+$"),
    "x-ratelimit-reset": re.compile(r"^\d+$"),
}
# Added by an HTTP server on the way out, not part of the API's own answer.
_TRANSPORT = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length"})


def _send(api: ContractAPI, exchange: Exchange) -> Reply:
    key = "a-wrong-key" if exchange.status == 401 else "the-right-key"
    if exchange.method == "POST":
        return api.post(exchange.path, json=exchange.body, key=key)
    return api.get(exchange.path, key=key)


def _check_headers(reply: Reply, recorded: dict[str, str]) -> None:
    for name, value in recorded.items():
        assert name in reply.headers, f"missing header {name}"
        pattern = _DYNAMIC.get(name.lower())
        if pattern is None:
            assert reply.headers[name] == value, name
        else:
            assert pattern.match(reply.headers[name]), (name, reply.headers[name])


def _cases(exchanges: tuple[Exchange, ...] | list[Exchange]) -> list[object]:
    """Each exchange as a parameter carrying the fake options of its era."""
    return [
        pytest.param(e, marks=pytest.mark.together_fake(**e.options), id=e.name) for e in exchanges
    ]


@pytest.mark.parametrize("exchange", _cases(EXCHANGES))
def test_fake_answers_like_the_recording(api: ContractAPI, exchange: Exchange) -> None:
    reply = _send(api, exchange)

    assert reply.status == exchange.status
    if exchange.response is not None:
        assert normalise(reply.body.decode()) == normalise(exchange.response)
    _check_headers(reply, exchange.headers)
    if reply.headers["Content-Type"].startswith("application/json"):
        assert reply.headers["Etag"] == etag(reply.body)


@pytest.mark.parametrize("exchange", _cases([e for e in EXCHANGES if "Cf-Ray" in e.headers]))
def test_fake_sends_no_header_the_recording_lacks(api: ContractAPI, exchange: Exchange) -> None:
    reply = _send(api, exchange)

    recorded = {name.lower() for name in exchange.headers}
    extra = {name.lower() for name in reply.headers} - recorded - STRIPPED_BY_RECORDER - _TRANSPORT
    assert extra == set()


@pytest.mark.together_fake(api_keys=["the-right-key"])
def test_body_id_and_ray_share_their_hex(api: ContractAPI) -> None:
    reply = api.post(
        "/v1/images/generations",
        json={"model": "black-forest-labs/FLUX.1-schnell", "prompt": SHIBA_PROMPT},
        key="the-right-key",
    )

    body_id = reply.json()["id"]
    assert body_id.split("-")[2] == reply.headers["Cf-Ray"].split("-")[0]
    assert reply.headers["X-Request-Id"] == body_id


# Two of these models were retired since (2026-03-20): their recordings hold under the switch.
@pytest.mark.together_fake(serve_retired=True)
@pytest.mark.parametrize(("model", "side"), ACCEPTED_SIZES)
def test_sizes_the_real_api_accepted_are_accepted(api: ContractAPI, model: str, side: int) -> None:
    reply = api.generate(model=model, prompt=SHIBA_PROMPT, seed=42, width=side, height=side)

    assert reply.status == 200, reply.body


def test_url_mode_image_is_served_with_the_cdn_headers(api: ContractAPI) -> None:
    url = api.generate(prompt=SHIBA_PROMPT).json()["data"][0]["url"]

    reply = api.get(url, key=None)

    assert reply.status == 200
    assert reply.body.startswith(b"\xff\xd8")
    _check_headers(reply, CDN_HEADERS)
    assert reply.headers["Content-Length"] == str(len(reply.body))
    assert re.match(r'^inline; filename="[0-9a-f]{64}\.jpg"$', reply.headers["Content-Disposition"])


def test_url_mode_image_refuses_an_empty_user_agent(api: ContractAPI) -> None:
    url = api.generate(prompt=SHIBA_PROMPT).json()["data"][0]["url"]

    reply = api.get(url, key=None, headers={"User-Agent": ""})

    assert reply.status == 403


def test_real_urls_use_the_recorded_shape(api: ContractAPI) -> None:
    url = api.generate(prompt=SHIBA_PROMPT).json()["data"][0]["url"]

    assert re.match(r"^https?://[^/]+/shrt/[A-Za-z0-9]{16}$", url)


@pytest.mark.parametrize(
    "exchange", [e for e in EXCHANGES if "Etag" in e.headers], ids=lambda e: e.name
)
def test_etag_formula_reproduces_the_recorded_etags(exchange: Exchange) -> None:
    assert exchange.response is not None

    assert etag(exchange.response.encode()) == exchange.headers["Etag"]


@pytest.mark.parametrize(
    "exchange", [e for e in EXCHANGES if e.response and "\n" in e.response], ids=lambda e: e.name
)
def test_serializer_reproduces_the_recorded_bodies(exchange: Exchange) -> None:
    assert exchange.response is not None

    assert json_bytes(json.loads(exchange.response)) == exchange.response.encode()
