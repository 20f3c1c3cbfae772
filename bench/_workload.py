"""The requests every measurement sends, the canned answers of the baselines, and run settings.

Baselines answer with exactly the bytes the fake gives for the same request (captured once through
``FakeTogether.handle()``), so both sides move the same number of bytes through the same client code
and only the fake's own work differs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from together_image_fake import FakeRequest

ResponseFormat = Literal["base64", "url"]

MODEL_ID = "black-forest-labs/FLUX.1-schnell"
PROMPT = "A delighted resplendent quetzal mid flight amidst raindrops"
API_KEY = "bench-key"
SEED = 7
BASE_URL = "https://api.together.xyz/v1"
GENERATIONS_URL = f"{BASE_URL}/images/generations"
JSON_CONTENT_TYPE = "application/json; charset=utf-8"


@dataclass(frozen=True, kw_only=True)
class Settings:
    """How much work each section does.

    Attributes:
        quick: Whether this is the CI smoke run.
        rounds: Kept rounds of every alternated comparison.
        repeat: Timed calls per batch for repeated-call measurements.
        server_seconds: Length of one load burst per server and client count.
        server_rounds: Alternated bursts per server and client count.
        client_counts: Keep-alive client counts for the server measurement.
        scaling_sides: Square sizes for the pixel-scaling fit.
        scaling_counts: Values of ``n`` for the n-scaling fit.
        suite_calls: Tests (one call each) in the downstream pytest suite.
        suite_rounds: Alternated runs of each downstream suite.
        session_rounds: Alternated trivial pytest sessions with and without the package.
        load_requests: Requests the load generator sends per burst in the server CPU measurement.
        memory_calls: New-prompt calls made before reading peak memory.
    """

    quick: bool
    rounds: int
    repeat: int
    server_seconds: float
    server_rounds: int
    client_counts: tuple[int, ...]
    scaling_sides: tuple[int, ...]
    scaling_counts: tuple[int, ...]
    suite_calls: int
    suite_rounds: int
    session_rounds: int
    load_requests: int
    memory_calls: int


QUICK = Settings(
    quick=True,
    rounds=9,
    repeat=5,
    server_seconds=0.3,
    server_rounds=2,
    client_counts=(1, 8),
    scaling_sides=(256, 512, 1024, 1792),
    scaling_counts=(1, 2, 4),
    suite_calls=120,
    suite_rounds=1,
    session_rounds=1,
    load_requests=200,
    memory_calls=250,
)
FULL = Settings(
    quick=False,
    rounds=25,
    repeat=10,
    server_seconds=1.0,
    server_rounds=4,
    client_counts=(1, 8, 32),
    scaling_sides=(256, 384, 512, 768, 1024, 1280, 1536, 1792),
    scaling_counts=(1, 2, 3, 4),
    suite_calls=1000,
    suite_rounds=3,
    session_rounds=9,
    load_requests=600,
    memory_calls=2000,
)


def wire_body(side: int, response_format: ResponseFormat, *, n: int = 1) -> dict[str, object]:
    """The JSON body the client sends for a ``side``² image (as ``generate_image`` builds it)."""
    body: dict[str, object] = {"model": MODEL_ID, "prompt": PROMPT, "seed": SEED}
    if n > 1:
        body["n"] = n
    body.update(width=side, height=side, response_format=response_format)
    return body


def request_headers() -> dict[str, str]:
    """Headers of a raw request: JSON in and out, the bench key."""
    return {
        "Accept": "application/json",
        "Authorization": f"Bearer {API_KEY}",
        "Content-Type": "application/json",
    }


def fake_request(
    body: dict[str, object], *, origin: str = "https://api.together.ai"
) -> FakeRequest:
    """The ``FakeRequest`` an adapter would build for ``POST /v1/images/generations``."""
    # Imported here: measurement 9's baseline process imports this module but not the fake.
    from together_image_fake import FakeRequest

    return FakeRequest(
        method="POST",
        path="/v1/images/generations",
        headers={name.lower(): value for name, value in request_headers().items()},
        body=json.dumps(body).encode("utf-8"),
        origin=origin,
    )


def canned_body(body: dict[str, object]) -> bytes:
    """The exact response body the fake gives for ``body``: what the baselines answer with.

    Raises:
        RuntimeError: If the fake refuses the request (the bench's requests must be valid).
    """
    from together_image_fake import FakeTogether

    response = FakeTogether(seed=1).handle(fake_request(body))
    if response.status != 200:
        raise RuntimeError(
            f"Expected the fake to accept the bench request {body!r}, got {response.status}: "
            f"{response.body[:300]!r}"
        )
    return response.body
