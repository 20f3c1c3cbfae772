"""The call log stays true and bounded: a reset cuts off the requests still in flight, request
bodies count toward the log's byte budget, and no credential reaches the log or the dashboard."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from together_image_fake import FakeRequest, FakeTogether, FakeTogetherServer, inspect_image
from together_image_fake._secrets import is_secret_field, is_secret_header

SCHNELL = "black-forest-labs/FLUX.1-schnell"
KEY = "tgp_v1_log-integrity-key"


def _generate(prompt: str, **fields: Any) -> FakeRequest:
    body = {"model": SCHNELL, "prompt": prompt, "width": 256, "height": 256, **fields}
    return FakeRequest(
        method="POST",
        path="/v1/images/generations",
        headers={"authorization": f"Bearer {KEY}", "content-type": "application/json"},
        body=json.dumps(body).encode(),
    )


def _get(path: str) -> FakeRequest:
    return FakeRequest(method="GET", path=path, headers={"user-agent": "log-integrity-test"})


class HoldingClock:
    """A clock that holds one thread at its second reading until released.

    A request reads the clock when it arrives and again when its work starts: holding the second
    reading keeps that request in flight, past its arrival, for as long as the test needs.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._readings: dict[int, int] = {}
        self.hold_thread: int | None = None
        self.holding = threading.Event()
        self.release = threading.Event()

    def __call__(self) -> float:
        ident = threading.get_ident()
        with self._lock:
            count = self._readings[ident] = self._readings.get(ident, 0) + 1
        if ident == self.hold_thread and count == 2:
            self.holding.set()
            self.release.wait(30)
        return time.time()


def _short_id(url: str) -> str:
    return url.rsplit("/", 1)[-1]


def test_item01_reset_during_request_in_flight() -> None:
    # One call's share of the log's byte budget, measured on a fake of its own.
    # Unseeded: a seeded fake derives ids from (seed, number), so a request from before a reset
    # shares its ids and /shrt/ link with the request that takes the same number after it.
    probe = FakeTogether(rate_limits="off")
    assert probe.handle(_generate("fresh", response_format="url")).status == 200
    unit = probe.calls[0].stored_bytes()
    # Room for two calls, not three: a late request counted after the reset would evict one.
    clock = HoldingClock()
    fake = FakeTogether(rate_limits="off", clock=clock, max_image_bytes=unit * 5 // 2)

    late: dict[str, Any] = {}

    def send_late() -> None:
        clock.hold_thread = threading.get_ident()
        late["response"] = fake.handle(_generate("late", response_format="url"))

    sender = threading.Thread(target=send_late)
    sender.start()
    assert clock.holding.wait(10), "the late request never started its work"

    resetter = threading.Thread(target=fake.reset)
    resetter.start()
    resetter.join(10)
    assert not resetter.is_alive(), "reset() waited for the request in flight"

    fresh = fake.handle(_generate("fresh", response_format="url"))
    assert fresh.status == 200
    clock.release.set()
    sender.join(10)
    assert not sender.is_alive()
    third = fake.handle(_generate("third", response_format="url"))
    assert third.status == 200

    # The late request is answered, but it belongs to the log that the reset forgot.
    assert late["response"].status == 200
    calls = fake.calls
    assert [(call.seq, call.prompt) for call in calls] == [(1, "fresh"), (2, "third")]
    # Its link never serves another request's image.
    late_url = json.loads(late["response"].body)["data"][0]["url"]
    assert fake.handle(_get(f"/shrt/{_short_id(late_url)}")).status == 404
    fresh_url = json.loads(fresh.body)["data"][0]["url"]
    served = fake.handle(_get(f"/shrt/{_short_id(fresh_url)}"))
    assert served.status == 200
    assert inspect_image(served.body).prompt == "fresh"
    # The stored-bytes count holds only what the log holds: both calls keep their images.
    assert all(call.images for call in calls), [call.images_evicted for call in calls]
    assert sum(call.stored_bytes() for call in calls) <= unit * 5 // 2


def test_item08_request_bodies_count_toward_the_log_byte_budget() -> None:
    budget = 300_000
    fake = FakeTogether(rate_limits="off", max_image_bytes=budget)
    prompts = [f"{index:03d}" + "x" * 99_997 for index in range(12)]
    for prompt in prompts:
        # An unknown model: rejected, yet logged with its body, like the audit's 30 MiB requests.
        answer = fake.handle(_generate(prompt, model="no-such/model"))
        assert answer.status == 404
    listed = json.dumps(["y" * 1000] * 100).encode()
    for _ in range(4):
        rejected = fake.handle(
            FakeRequest(
                method="POST",
                path="/v1/images/generations",
                headers={"authorization": f"Bearer {KEY}", "content-type": "application/json"},
                body=listed,
            )
        )
        assert rejected.status == 400
    calls = fake.calls
    assert len(calls) == 16
    logged = sum(len(json.dumps(call.body)) for call in calls)
    assert logged <= budget + 16 * 300, logged
    assert sum(call.stored_bytes() for call in calls) <= budget
    # The oldest bodies are elided, keeping what was there: size and sha256, and the small fields.
    oldest = calls[0]
    assert oldest.body["model"] == "no-such/model"
    note = oldest.body["prompt"]
    assert isinstance(note, str)
    assert len(note) < 300
    assert "100000" in note
    assert hashlib.sha256(prompts[0].encode()).hexdigest() in note
    assert oldest.prompt is None or len(oldest.prompt) < 300
    # A body that is not an object is elided whole, with the size and sha256 of what was sent.
    elided_list = [call.body for call in calls[12:] if not isinstance(call.body, list)]
    assert elided_list, "every list body kept whole"
    for note in elided_list:
        assert str(len(listed)) in note
        assert hashlib.sha256(listed).hexdigest() in note
    # The newest body stays whole: the budget keeps the most recent calls.
    assert calls[-1].body == json.loads(listed)


SECRET_HEADERS = {
    "Cookie": "session=cookie-secret-0123456789",
    "Proxy-Authorization": "Basic cHJveHktc2VjcmV0LTAxMjM0NTY3ODk=",
    "Api-Key": "api-key-secret-0123456789",
    "X-Together-Api-Key": "together-secret-0123456789",
    "X-Auth-Token": "auth-token-secret-0123456789",
    "X-Api-Key": "x-api-key-secret-0123456789",
}
BODY_SECRET = "body-api-key-secret-0123456789"
NESTED_SECRET = "nested-token-secret-0123456789"


def _secret_request_fields() -> tuple[dict[str, str], dict[str, Any]]:
    headers = {"Authorization": f"Bearer {KEY}", "User-Agent": "redaction-test", **SECRET_HEADERS}
    body = {
        "model": SCHNELL,
        "prompt": "a quetzal",
        "width": 256,
        "height": 256,
        "api_key": BODY_SECRET,
        "image_loras": [{"path": "some/lora", "scale": 1, "token": NESTED_SECRET}],
    }
    return headers, body


def _secret_values() -> list[str]:
    return [KEY, BODY_SECRET, NESTED_SECRET, *SECRET_HEADERS.values()]


def _assert_redacted(logged: dict[str, Any]) -> None:
    text = json.dumps(logged)
    for value in _secret_values():
        assert value not in text
    headers = logged["headers"]
    for name in SECRET_HEADERS:
        assert name.lower() in headers, "a redacted header keeps its name"
    assert headers["user-agent"] == "redaction-test"
    assert logged["body"]["model"] == SCHNELL
    assert logged["body"]["prompt"] == "a quetzal"
    assert "api_key" in logged["body"]


@pytest.fixture
def redaction_server() -> Iterator[FakeTogetherServer]:
    with FakeTogetherServer(FakeTogether(seed=3, rate_limits="off")) as server:
        yield server


def test_item11_call_log_redacts_every_secret_header_and_field(
    redaction_server: FakeTogetherServer,
) -> None:
    headers, body = _secret_request_fields()
    answer = requests.post(
        f"{redaction_server.base_url}/images/generations", json=body, headers=headers, timeout=10
    )
    assert answer.status_code < 500, answer.text
    listed = requests.get(f"{redaction_server.origin}/_fake/calls", timeout=10).json()
    assert len(listed) == 1
    _assert_redacted(listed[0])
    # The Python call log too.
    _assert_redacted(redaction_server.fake.calls[0].to_json())


_CREDENTIAL_WORDS = ("token", "secret", "password", "api-key", "apikey", "session", "credential")
header_names = st.one_of(
    st.sampled_from(
        [
            "Authorization",
            "Proxy-Authorization",
            "Cookie",
            "Api-Key",
            "X-Api-Key",
            "X-Together-Api-Key",
            "X-Auth-Token",
            "X-Ratelimit-Limit-Tokens",
            "X-Trace-Id",
            "Accept",
        ]
    ),
    st.builds(
        lambda prefix, word, suffix: "-".join(part for part in (prefix, word, suffix) if part),
        st.sampled_from(["", "X", "X-Custom", "Upstream"]),
        st.sampled_from([*_CREDENTIAL_WORDS, "count", "limit", "tokens", "keys", "id"]),
        st.sampled_from(["", "Value", "V2"]),
    ),
)
field_names = st.one_of(
    st.sampled_from(["api_key", "apiKey", "access_token", "password", "secret", "prompt", "seed"]),
    st.from_regex(r"\A[a-z]{1,10}(_[a-z]{1,8})?\Z"),
)


@given(
    names=st.lists(header_names, min_size=1, max_size=4, unique_by=str.lower),
    fields=st.lists(field_names, min_size=1, max_size=4, unique=True),
)
def test_item11_redaction_follows_the_project_secret_rules(
    names: list[str], fields: list[str]
) -> None:
    fake = FakeTogether(rate_limits="off")
    headers = {"authorization": f"Bearer {KEY}", "content-type": "application/json"}
    headers.update(
        {name.lower(): f"value-of-{index}-0123456789" for index, name in enumerate(names)}
    )
    extra = {name: f"field-{index}-0123456789" for index, name in enumerate(fields)}
    body = {"prompt": "a quetzal", **extra, "model": "no-such/model"}
    fake.handle(
        FakeRequest(
            method="POST",
            path="/v1/images/generations",
            headers=headers,
            body=json.dumps(body).encode(),
        )
    )
    (call,) = fake.calls
    for index, name in enumerate(names):
        value = f"value-of-{index}-0123456789"
        logged = call.headers[name.lower()]
        assert (value not in logged) == is_secret_header(name), (name, logged)
    for index, name in enumerate(fields):
        value = f"field-{index}-0123456789"
        if name in ("prompt", "model"):
            continue
        assert (call.body[name] != value) == is_secret_field(name), (name, call.body[name])
