"""Waits inside the fixtures: retries and latency advance the fake's clock instead of sleeping, and
``retry_after_s`` shortens the waits retryable answers ask for."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import httpx
import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from together_image import TogetherAIProvider, TogetherImageClient, generate_image
from together_image_fake import FakeResponse, FakeTogether, FakeTogetherServer
from together_image_fake.pytest_plugin import _with_retry_after

SCHNELL = "black-forest-labs/FLUX.1-schnell"
BODY = {"model": SCHNELL, "prompt": "a quetzal"}
AUTH = {"Authorization": "Bearer k"}


def forbidden(seconds: float) -> None:
    raise AssertionError(f"a real sleep of {seconds} s happened")


@pytest.fixture(autouse=True)
def no_real_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any real wait fails the test: ``time.sleep`` and the client's own default sleep.

    Autouse, so it runs before ``together_fake``, which must then replace the client default.
    """
    monkeypatch.setattr(time, "sleep", forbidden)
    for function in (generate_image, TogetherImageClient.__init__):
        assert function.__kwdefaults__ is not None
        monkeypatch.setitem(function.__kwdefaults__, "sleep", forbidden)


def gap(fake: FakeTogether) -> timedelta:
    first, second = fake.calls[:2]
    return second.time - first.time


@pytest.mark.parametrize(
    ("fault", "status", "wait_s"),
    [({"status": 429}, 429, 10), ({"status": 503}, 503, 2), ({"kind": "reset"}, 0, 2)],
)
def test_a_retried_fault_through_together_client_waits_on_the_fakes_clock(
    together_client: TogetherAIProvider,
    together_fake: FakeTogether,
    fault: dict[str, Any],
    status: int,
    wait_s: float,
) -> None:
    together_fake.fail_next(**fault)

    result = generate_image(model=together_client.image(SCHNELL), prompt="a quetzal")

    assert result.image.data
    assert [call.status for call in together_fake.calls] == [status, 200]
    # The 429 asks for 10 s [REC]; without a hint the client backs off 2 s: on the fake's clock.
    assert gap(together_fake) >= timedelta(seconds=wait_s)


def test_the_raw_client_waits_on_the_fakes_clock_too(together_fake: FakeTogether) -> None:
    together_fake.fail_next(status=429)
    client = TogetherImageClient(base_url="https://api.together.xyz/v1")

    client.images.generate(model=SCHNELL, prompt="a quetzal")

    assert gap(together_fake) >= timedelta(seconds=10)


def test_latency_advances_the_clock_instead_of_sleeping(together_fake: FakeTogether) -> None:
    together_fake.fail_next(latency_s=90)
    for _ in range(2):
        requests.post(
            "https://api.together.xyz/v1/images/generations", json=BODY, headers=AUTH, timeout=5
        )

    assert gap(together_fake) >= timedelta(seconds=90)


def test_a_sleep_passed_by_the_caller_wins(
    together_client: TogetherAIProvider, together_fake: FakeTogether
) -> None:
    together_fake.fail_next(status=503)
    waits: list[float] = []

    generate_image(
        model=together_client.image(SCHNELL),
        prompt="x",
        sleep=waits.append,
    )

    assert waits == [2.0]
    assert gap(together_fake) < timedelta(seconds=2)


@pytest.mark.together_fake(retry_after_s=0.001)
def test_retry_after_s_shortens_the_wait_a_429_asks_for(together_fake: FakeTogether) -> None:
    together_fake.fail_next(error="rate_limited")
    together_fake.fail_next(status=400)
    with httpx.Client() as client:
        limited = client.post("https://api.together.xyz/v1/images/generations", json=BODY)
        bad = client.post("https://api.together.xyz/v1/images/generations", json=BODY)

    assert limited.status_code == 429
    assert (limited.headers["retry-after"], limited.headers["retry-after-ms"]) == ("1", "1")
    assert limited.headers.get_list("retry-after") == ["1"]
    assert bad.status_code == 400
    assert "retry-after-ms" not in bad.headers


@pytest.mark.together_fake(retry_after_s=0)
def test_retry_after_s_reaches_our_client(
    together_client: TogetherAIProvider, together_fake: FakeTogether
) -> None:
    together_fake.fail_next(status=429)
    waits: list[float] = []

    generate_image(model=together_client.image(SCHNELL), prompt="x", sleep=waits.append)

    assert waits == [0.0]


@pytest.mark.together_fake(retry_after_s=0.25)
def test_retry_after_s_applies_to_the_server_fixture_for_this_test(
    together_fake_server: FakeTogetherServer,
) -> None:
    together_fake_server.fake.fail_next(status=503)
    reply = httpx.post(
        f"{together_fake_server.base_url}/images/generations", json=BODY, headers=AUTH
    )

    assert reply.status_code == 503
    assert (reply.headers["retry-after"], reply.headers["retry-after-ms"]) == ("1", "250")


def test_the_server_fixture_is_unchanged_without_the_option(
    together_fake_server: FakeTogetherServer,
) -> None:
    together_fake_server.fake.fail_next(error="rate_limited")
    reply = httpx.post(
        f"{together_fake_server.base_url}/images/generations", json=BODY, headers=AUTH
    )

    assert reply.headers["retry-after"] == "10"
    assert "retry-after-ms" not in reply.headers


def test_a_bad_retry_after_s_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.together_fake(retry_after_s=-1)
        def test_bad(together_fake):
            pass
        """
    )

    result = pytester.runpytest()

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*retry_after_s=...) must be a number of seconds from 0 to 60*"])


def others(response: FakeResponse) -> list[tuple[str, str]]:
    return [h for h in response.headers if not h[0].lower().startswith("retry-after")]


headers = st.lists(
    st.tuples(
        st.sampled_from(["Retry-After", "retry-after-ms", "Content-Type", "X-Request-Id"]),
        st.text(alphabet="0123456789abc", max_size=4),
    ),
    max_size=5,
)


@given(
    status=st.integers(min_value=100, max_value=599),
    headers=headers,
    seconds=st.floats(min_value=0, max_value=60),
)
def test_only_retryable_answers_change_and_they_ask_for_the_wait(
    status: int, headers: list[tuple[str, str]], seconds: float
) -> None:
    response = FakeResponse(status=status, headers=tuple(headers), body=b"{}")

    changed = _with_retry_after(response, seconds)

    retryable = status in (408, 409, 429) or status >= 500
    if not retryable:
        assert changed == response
        return
    waits = [(n.lower(), v) for n, v in changed.headers if n.lower().startswith("retry-after")]
    assert sorted(name for name, _ in waits) == ["retry-after", "retry-after-ms"]
    named = dict(waits)
    assert float(named["retry-after-ms"]) / 1000 == pytest.approx(seconds, rel=1e-5, abs=1e-9)
    assert int(named["retry-after"]) >= seconds
    assert others(changed) == others(response)
    assert (changed.status, changed.body) == (response.status, response.body)
