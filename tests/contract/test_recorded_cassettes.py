"""The fake against every cassette in ``fixtures/``, in both modes, as strictly as each part's
provenance allows.

Each interaction's recorded request is sent to the fake (set up as the table below says, so it
gives the recorded kind of answer). A part tagged [REC] must match the recording: the body byte for
byte once ids, image URLs and timing values are masked; the recorded header names all present,
with equal values where they are not per-response. Parts tagged [3P]/[DOC]/[INF] are compared on
what those sources vouch for: status, error type, code and message, key order. The fake itself
never reads ``fixtures/``; only these tests do.
"""

from __future__ import annotations

import base64
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from together_image_fake._cassette import Cassette, Interaction, api_path
from together_image_fake._wire import etag

from .conftest import ContractAPI, Reply

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
GOOD_KEY = "the-right-key"

# Values that differ per answer: checked by shape, not value.
_PER_RESPONSE = {
    "cf-ray": re.compile(r"^[0-9a-f]{16}-[A-Z]{3}$"),
    "etag": re.compile(r'^W/"[0-9a-f]+-[A-Za-z0-9+/]{27}"$'),
    "x-api-call-end": re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"),
    "x-api-call-start": re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"),
    "x-api-received": re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"),
    "x-request-id": re.compile(r"^[A-Za-z0-9]{7}-2kFHot-[0-9a-f]{16}-[A-Z]{3}$"),
    "content-length": re.compile(r"^\d+$"),
    "expires": re.compile(r"^[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT$"),
    # The CDN's file names vary between recordings: a hash, "sample.jpg", a UUID [REC].
    "content-disposition": re.compile(r'^inline; filename="[^"/]+\.jpg"$'),
    # Rate-limit counters depend on the account's traffic at that moment.
    "x-ratelimit-limit": re.compile(r"^[0-9.]+$"),
    "x-ratelimit-remaining": re.compile(r"^\d+$"),
    "x-ratelimit-reset": re.compile(r"^\d+$"),
    "retry-after": re.compile(r"^\d+$"),
}
# Stripped by the recorder of the source cassettes, so the fake may send them [REC note].
_STRIPPED_BY_RECORDER = frozenset({"date", "x-request-id", "request-id", "set-cookie"})
# Added per hop by an HTTP server or client, not part of the API's answer.
_TRANSPORT = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length"})

_ID = re.compile(r"[A-Za-z0-9]{7}-[A-Za-z0-9]{6}-[0-9a-f]{16}(?:-[A-Z]{3})?")
_SHRT = re.compile(r"https?://[^\"/]+/shrt/[A-Za-z0-9]{16}")
_SECONDS = re.compile(r'"inference": [0-9]+\.[0-9]+(?:e-?[0-9]+)?')
_MILLIS = re.compile(r'"inference": [0-9]+(?=\s)')


@dataclass(frozen=True, kw_only=True)
class Setup:
    """How to make the fake give the recorded kind of answer.

    Attributes:
        options: ``FakeTogether`` options (the marker of the ``api`` fixture).
        key: Bearer key to send.
        rate_limit: Register the requested model with this per-minute limit and use it up first.
    """

    options: dict[str, Any] = field(default_factory=dict)
    key: str = GOOD_KEY
    rate_limit: float | None = None


SETUPS: dict[str, Setup] = {
    "flux1-schnell-url-2026-05-31": Setup(),
    "flux1-schnell-base64": Setup(),
    "flux2-max-url-2026-05-31": Setup(),
    "flux2-dev-url-2025-12-18": Setup(options={"ratelimit_headers": True}),
    "flux2-dev-width-400-2025-12-14": Setup(options={"ratelimit_headers": True}),
    "invalid-api-key-401-2026-05-31": Setup(options={"api_keys": [GOOD_KEY]}, key="a-wrong-key"),
    "unknown-model-404-2026-05-31": Setup(),
    "chat-model-500-2025-07-24": Setup(options={"ratelimit_headers": True}),
    "model-rate-limit-429": Setup(options={"clock": lambda: 1_750_000_000.0}, rate_limit=9.0),
    # Quoted in 2025, before the 402's 2026 wording.
    "credit-limit-402": Setup(options={"credit": 0, "account_texts": "2025"}),
    "request-blocked-403": Setup(options={"tier": 1}),
    "image-url-unsupported-400-2025-12-02": Setup(),
    "steps-not-in-configuration-400-2026": Setup(),
    "models-list-2026-08-17": Setup(),
}


def _cassettes() -> list[Any]:
    return [
        pytest.param(
            path.stem,
            marks=pytest.mark.together_fake(**SETUPS.get(path.stem, Setup()).options),
            id=path.stem,
        )
        for path in sorted(FIXTURES.glob("*.json"))
    ]


def tag(interaction: Interaction, part: str) -> str:
    """The source tag a provenance entry starts with (``"REC"``, ``"3P"``, ``"INF"``…)."""
    text = interaction.provenance.get(part, "")
    found = re.match(r"\[([A-Z0-9]+)\]", text)
    assert found, f"provenance of {part} must start with a [TAG], got {text!r}"
    return found.group(1)


def masked(body: bytes) -> str:
    """Mask what differs per answer (ids, image URLs, timing values), keeping their kinds."""
    text = _ID.sub("<id>", body.decode("utf-8"))
    text = _SHRT.sub("<url>", text)
    text = _SECONDS.sub('"inference": <seconds>', text)
    return _MILLIS.sub('"inference": <milliseconds>', text)


def send(api: ContractAPI, interaction: Interaction, setup: Setup, previous: Reply | None) -> Reply:
    request = interaction.request
    path = api_path(request.url)
    if request.method == "GET" and path.startswith("/shrt/"):
        assert previous is not None, "an image download follows the answer that named it"
        return api.get(previous.json()["data"][0]["url"], key=None)
    body = json.loads(request.body) if request.body else None
    return api.request(request.method, path, json=body, key=setup.key)


def use_up_rate_limit(api: ContractAPI, interaction: Interaction, limit: float) -> None:
    body = json.loads(interaction.request.body)
    api.fake.register_model(body["model"], rate_limit_per_minute=limit)
    # Identical seeded requests render once (the fake caches images), so this stays fast.
    warmup = {**body, "seed": 1, "width": 256, "height": 256}
    for _ in range(int(limit)):
        assert api.post("/v1/images/generations", json=warmup, key=GOOD_KEY).status == 200


def check_headers(reply: Reply, recorded: Interaction) -> None:
    headers = recorded.response.headers
    if tag(recorded, "response.headers") != "REC":
        assert reply.headers["Content-Type"] == recorded.response.header("Content-Type")
        return
    for name, value in headers:
        assert name in reply.headers, f"the fake does not send the recorded header {name}"
        pattern = _PER_RESPONSE.get(name.lower())
        if pattern is None:
            assert reply.headers[name] == value, name
        else:
            assert pattern.match(reply.headers[name]), (name, reply.headers[name])
    recorded_names = {name.lower() for name, _ in headers}
    extra = {name.lower() for name in reply.headers} - recorded_names
    assert extra - _STRIPPED_BY_RECORDER - _TRANSPORT == set()


def check_body(reply: Reply, recorded: Interaction) -> None:
    body = recorded.response.body
    source = tag(recorded, "response.body")
    content_type = reply.headers["Content-Type"]
    if not content_type.startswith("application/json"):
        # An image download: the recording kept only its size and type.
        assert content_type == recorded.response.header("Content-Type")
        assert Image.open(io.BytesIO(reply.body)).format == "JPEG"
        return
    if recorded.response.header("Etag") is not None:
        assert reply.headers["Etag"] == etag(reply.body)
    else:  # GET /v1/models sends none [REC]
        assert "Etag" not in reply.headers
    if source == "REC":
        assert masked(reply.body) == masked(body)
        return
    got, expected = reply.json(), json.loads(body)
    assert list(got) == list(expected)
    if "error" in expected:
        for name in ("message", "type", "param", "code"):
            assert got["error"][name] == expected["error"][name], name
        return
    item, expected_item = got["data"][0], expected["data"][0]
    assert list(item) == list(expected_item)
    image = Image.open(io.BytesIO(base64.b64decode(item["b64_json"])))
    recorded_image = Image.open(io.BytesIO(base64.b64decode(expected_item["b64_json"])))
    assert (image.format, image.size) == (recorded_image.format, recorded_image.size)


@pytest.mark.parametrize("name", _cassettes())
def test_the_fake_answers_each_recorded_request_like_the_cassette(
    api: ContractAPI, name: str
) -> None:
    cassette = Cassette.load(FIXTURES / f"{name}.json")
    setup = SETUPS[name]
    previous: Reply | None = None
    for interaction in cassette.interactions:
        if setup.rate_limit is not None:
            use_up_rate_limit(api, interaction, setup.rate_limit)

        reply = send(api, interaction, setup, previous)

        assert reply.status == interaction.response.status, reply.body[:300]
        check_body(reply, interaction)
        check_headers(reply, interaction)
        previous = reply


def test_every_fixture_has_a_setup() -> None:
    assert {path.stem for path in FIXTURES.glob("*.json")} == set(SETUPS)


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.json")), ids=lambda p: p.stem)
def test_every_part_of_every_fixture_names_its_source(path: Path) -> None:
    cassette = Cassette.load(path)

    assert cassette.meta["summary"]
    assert cassette.meta["source"].startswith("[")
    for interaction in cassette.interactions:
        for part in ("request", "response.status", "response.headers", "response.body"):
            assert tag(interaction, part) in {"REC", "DOC", "SDK", "RUN", "3P", "INF"}
