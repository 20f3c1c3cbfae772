"""Measurements 1 and 3: the in-process fake against a hand-written ``responses`` callback.

Measurement 1 times one client call answered by ``FakeTogether`` against the same call answered by a
``responses`` callback returning the fake's own bytes for that request, for several sizes, both
response formats, on a fresh fake (cold render cache) and on a warm one. Base64 mode goes through
``generate_image``; URL mode through ``TogetherImageClient.images.generate(response_format=
"url")``, since ``generate_image`` asks for base64 as the AI SDK does. Measurement 3 times
``generate_image`` against a raw ``requests.post`` + ``json.loads`` of the same request, both
answered by the same fake.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable

import requests
import responses

from bench._harness import Goal, Row, Sampler, alternate, median, timed
from bench._workload import (
    API_KEY,
    GENERATIONS_URL,
    JSON_CONTENT_TYPE,
    MODEL_ID,
    PROMPT,
    SEED,
    ResponseFormat,
    Settings,
    canned_body,
    request_headers,
    wire_body,
)
from together_image import TogetherImageClient, create_togetherai, generate_image
from together_image_fake import FakeTogether

CALLBACK_BASELINE = "responses callback"
RAW_BASELINE = "requests.post+json.loads"
REPEATED_GOAL = Goal(op="<=", limit=1.5)
FIRST_GOAL = Goal(op="<=", limit=3.0)
CLIENT_GOAL = Goal(op="<=", limit=1.1)


def client_call(
    side: int, response_format: ResponseFormat, *, seed: int | None = SEED
) -> Callable[[], object]:
    """One client call for a ``side``² image, as an application would make it."""
    if response_format == "base64":
        model = create_togetherai(api_key=API_KEY).image(MODEL_ID)
        size = f"{side}x{side}"
        return lambda: generate_image(
            model=model, prompt=PROMPT, size=size, seed=seed, max_retries=0
        )
    client = TogetherImageClient(api_key=API_KEY, max_retries=0)
    return lambda: client.images.generate(
        model=MODEL_ID,
        prompt=PROMPT,
        width=side,
        height=side,
        seed=seed,
        response_format="url",
    )


def callback_mock(body: bytes) -> responses.RequestsMock:
    """The hand-written baseline: a ``responses`` callback answering ``body`` to every POST."""
    mock = responses.RequestsMock(assert_all_requests_are_fired=False)
    mock.add_callback(
        "POST",
        GENERATIONS_URL,
        callback=lambda request: (200, {"Content-Type": JSON_CONTENT_TYPE}, body),
    )
    return mock


def _first_call(
    make: Callable[[], FakeTogether | responses.RequestsMock], call: Callable[[], object]
) -> Sampler:
    """A sampler timing the first call through a freshly built and started interceptor."""

    def sample() -> list[float]:
        interceptor = make()
        interceptor.start()
        try:
            started = time.perf_counter()
            call()
            return [time.perf_counter() - started]
        finally:
            interceptor.stop()

    return sample


def _repeated_calls(
    interceptor: FakeTogether | responses.RequestsMock, call: Callable[[], object], repeat: int
) -> Sampler:
    """A sampler timing ``repeat`` calls through an interceptor started for the batch."""
    batch = timed(call, repeat=repeat)

    def sample() -> list[float]:
        interceptor.start()
        try:
            return batch()
        finally:
            interceptor.stop()

    return sample


def _label(side: int, response_format: ResponseFormat, kind: str) -> str:
    mode = "b64" if response_format == "base64" else "url"
    return f"1 in-process {side}² {mode}, {kind}"


def in_process_rows(settings: Settings) -> list[Row]:
    """Measurement 1: the fake vs a ``responses`` callback, per size, format, first/repeated."""
    rows: list[Row] = []
    sides = (512, 1024, 1792)
    for response_format in ("base64", "url"):
        for side in sides:
            call = client_call(side, response_format)
            body = canned_body(wire_body(side, response_format))
            fake_s, base_s = alternate(
                [
                    _first_call(FakeTogether, call),
                    _first_call(functools.partial(callback_mock, body), call),
                ],
                rounds=settings.rounds,
            )
            rows.append(
                Row(
                    name=_label(side, response_format, "first call"),
                    baseline=CALLBACK_BASELINE,
                    fake=median(fake_s) * 1000,
                    base=median(base_s) * 1000,
                    unit="ms",
                    goal=FIRST_GOAL if side == 1024 else None,
                )
            )
            fake_s, base_s = alternate(
                [
                    _repeated_calls(FakeTogether(), call, settings.repeat),
                    _repeated_calls(callback_mock(body), call, settings.repeat),
                ],
                rounds=settings.rounds,
            )
            rows.append(
                Row(
                    name=_label(side, response_format, "repeated"),
                    baseline=CALLBACK_BASELINE,
                    fake=median(fake_s) * 1000,
                    base=median(base_s) * 1000,
                    unit="ms",
                    goal=REPEATED_GOAL,
                )
            )
    # What most suites do: no seed, so every call asks for a new image and renders.
    call = client_call(1024, "base64", seed=None)
    body = canned_body(wire_body(1024, "base64"))
    fake_s, base_s = alternate(
        [
            _repeated_calls(FakeTogether(), call, settings.repeat),
            _repeated_calls(callback_mock(body), call, settings.repeat),
        ],
        rounds=settings.rounds,
    )
    rows.append(
        Row(
            name="1 in-process 1024² b64, repeated, no seed",
            baseline=CALLBACK_BASELINE,
            fake=median(fake_s) * 1000,
            base=median(base_s) * 1000,
            unit="ms",
            goal=FIRST_GOAL,
        )
    )
    return rows


def raw_call(session: requests.Session, url: str, side: int) -> Callable[[], object]:
    """The hand-rolled client: ``requests.post`` of the same body, then ``json.loads``."""
    data = json.dumps(wire_body(side, "base64")).encode("utf-8")
    headers = request_headers()

    def call() -> object:
        response = session.post(url, data=data, headers=headers, timeout=60)
        return json.loads(response.content)

    return call


def client_overhead_rows(settings: Settings) -> list[Row]:
    """Measurement 3 in-process: ``generate_image`` vs raw ``requests`` against one warm fake."""
    side = 1024
    fake = FakeTogether()
    ours = client_call(side, "base64")
    raw = raw_call(requests.Session(), GENERATIONS_URL, side)
    with fake:
        ours_s, raw_s = alternate(
            [timed(ours, repeat=settings.repeat), timed(raw, repeat=settings.repeat)],
            rounds=settings.rounds,
        )
    return [
        Row(
            name=f"3 client overhead {side}² b64, in-process",
            baseline=RAW_BASELINE,
            fake=median(ours_s) * 1000,
            base=median(raw_s) * 1000,
            unit="ms",
            goal=CLIENT_GOAL,
        )
    ]
