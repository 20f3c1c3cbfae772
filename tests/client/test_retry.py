"""Retry decisions and delays, with an injected sleep (``together_image._retry``)."""

from __future__ import annotations

import email.utils
import threading
import time
from typing import Any

import pytest
import responses

from together_image import (
    AbortError,
    APICallError,
    BadRequestError,
    InternalServerError,
    NoImageGeneratedError,
    RateLimitError,
    RetryError,
    TogetherAIImageModel,
    TogetherImageClient,
    TogetherImageError,
    generate_image,
)
from together_image._retry import (
    RetryPolicy,
    is_retryable_response,
    retry_after_seconds,
    run_with_retries,
)

from ._support import API_KEY, BASE_URL, ENDPOINT, error_body, success_body

NOW = 1_800_000_000.0


def add_failure(
    api: responses.RequestsMock, status: int, headers: dict[str, str] | None = None
) -> None:
    api.post(ENDPOINT, json=error_body(f"failure {status}"), status=status, headers=headers)


def test_backoff_is_two_then_four_seconds(
    api: responses.RequestsMock, model: TogetherAIImageModel, delays: list[float]
) -> None:
    add_failure(api, 500)
    add_failure(api, 503)
    api.post(ENDPOINT, json=success_body())
    result = generate_image(model=model, prompt="p", sleep=delays.append)
    assert delays == [2.0, 4.0]
    assert len(api.calls) == 3
    assert len(result.images) == 1
    assert len(result.responses) == 1  # failed attempts leave no metadata


def test_max_retries_exceeded(
    api: responses.RequestsMock, model: TogetherAIImageModel, delays: list[float]
) -> None:
    for _ in range(3):
        add_failure(api, 500)
    with pytest.raises(RetryError) as raised:
        generate_image(model=model, prompt="p", sleep=delays.append)
    error = raised.value
    assert error.reason == "max_retries_exceeded"
    assert len(error.errors) == 3
    assert all(isinstance(attempt, InternalServerError) for attempt in error.errors)
    assert error.last_error is error.errors[-1]
    assert error.__cause__ is error.last_error
    assert str(error) == (
        "Failed after 3 attempts. Last error: InternalServerError: HTTP 500: failure 500 "
        "[type=invalid_request_error, request_id=omJKGKg-2kFHot-a046745b3835a2b4-SEA]"
    )
    assert delays == [2.0, 4.0]


def test_non_retryable_after_a_retry(
    api: responses.RequestsMock, model: TogetherAIImageModel, delays: list[float]
) -> None:
    add_failure(api, 500)
    add_failure(api, 400)
    with pytest.raises(RetryError) as raised:
        generate_image(model=model, prompt="p", sleep=delays.append)
    error = raised.value
    assert error.reason == "error_not_retryable"
    assert [type(attempt) for attempt in error.errors] == [InternalServerError, BadRequestError]
    assert str(error).startswith(
        "Failed after 2 attempts with non-retryable error: 'BadRequestError: HTTP 400: failure 400"
    )
    assert delays == [2.0]


def test_non_retryable_on_the_last_attempt_is_max_retries_exceeded(
    api: responses.RequestsMock, model: TogetherAIImageModel, delays: list[float]
) -> None:
    add_failure(api, 500)
    add_failure(api, 500)
    add_failure(api, 400)
    with pytest.raises(RetryError) as raised:
        generate_image(model=model, prompt="p", sleep=delays.append)
    assert raised.value.reason == "max_retries_exceeded"


def test_first_non_retryable_error_is_raised_unwrapped(
    api: responses.RequestsMock, model: TogetherAIImageModel, delays: list[float]
) -> None:
    add_failure(api, 400)
    with pytest.raises(BadRequestError):
        generate_image(model=model, prompt="p", sleep=delays.append, max_retries=5)
    assert delays == []
    assert len(api.calls) == 1


@pytest.mark.parametrize("status", [500, 429])
def test_max_retries_zero_raises_the_error_as_is(
    api: responses.RequestsMock, model: TogetherAIImageModel, delays: list[float], status: int
) -> None:
    add_failure(api, status)
    with pytest.raises(APICallError) as raised:
        generate_image(model=model, prompt="p", sleep=delays.append, max_retries=0)
    assert raised.value.status_code == status
    assert raised.value.is_retryable is True
    assert delays == []
    assert len(api.calls) == 1


def test_max_retries_one_makes_two_attempts(
    api: responses.RequestsMock, model: TogetherAIImageModel, delays: list[float]
) -> None:
    add_failure(api, 429)
    add_failure(api, 429)
    with pytest.raises(RetryError) as raised:
        generate_image(model=model, prompt="p", sleep=delays.append, max_retries=1)
    assert len(raised.value.errors) == 2
    assert isinstance(raised.value.last_error, RateLimitError)
    assert delays == [2.0]


@pytest.mark.parametrize(
    ("headers", "expected_delay"),
    [
        ({"retry-after-ms": "300"}, 0.3),
        ({"retry-after-ms": "0"}, 0.0),
        ({"retry-after": "5"}, 5.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"retry-after": "60"}, 60.0),
        ({"retry-after": "120"}, 2.0),  # over 60 s: ignored
        ({"retry-after-ms": "70000"}, 2.0),
        ({"retry-after": "-3"}, 2.0),
        ({"retry-after": "soon"}, 2.0),
        ({"retry-after": "nan"}, 2.0),
        ({"retry-after-ms": "abc", "retry-after": "7"}, 7.0),
        ({"retry-after-ms": "250", "retry-after": "7"}, 0.25),
    ],
)
def test_retry_after_headers(
    api: responses.RequestsMock,
    model: TogetherAIImageModel,
    delays: list[float],
    headers: dict[str, str],
    expected_delay: float,
) -> None:
    add_failure(api, 429, headers)
    api.post(ENDPOINT, json=success_body())
    generate_image(model=model, prompt="p", sleep=delays.append)
    assert delays == [expected_delay]


def test_retry_after_http_date(
    api: responses.RequestsMock, model: TogetherAIImageModel, delays: list[float]
) -> None:
    add_failure(api, 503, {"retry-after": email.utils.formatdate(time.time() + 30, usegmt=True)})
    api.post(ENDPOINT, json=success_body())
    generate_image(model=model, prompt="p", sleep=delays.append)
    assert len(delays) == 1
    assert 28.0 < delays[0] <= 30.0  # the date has whole-second resolution


@pytest.mark.parametrize(
    ("status", "should_retry", "retried"),
    [(400, "true", True), (503, "false", False), (429, "FALSE", False), (500, "maybe", True)],
)
def test_x_should_retry_overrides_the_status(
    api: responses.RequestsMock,
    model: TogetherAIImageModel,
    delays: list[float],
    status: int,
    should_retry: str,
    retried: bool,
) -> None:
    add_failure(api, status, {"x-should-retry": should_retry})
    api.post(ENDPOINT, json=success_body())
    if retried:
        generate_image(model=model, prompt="p", sleep=delays.append)
        assert delays == [2.0]
    else:
        with pytest.raises(APICallError) as raised:
            generate_image(model=model, prompt="p", sleep=delays.append)
        assert raised.value.status_code == status
        assert delays == []


@pytest.mark.parametrize(
    ("status", "headers", "expected"),
    [
        (400, {}, False),
        (401, {}, False),
        (404, {}, False),
        (408, {}, True),
        (409, {}, True),
        (429, {}, True),
        (500, {}, True),
        (599, {}, True),
        (400, {"x-should-retry": " True "}, True),
        (503, {"x-should-retry": "false"}, False),
    ],
)
def test_is_retryable_response(status: int, headers: dict[str, str], expected: bool) -> None:
    assert is_retryable_response(status, headers) is expected


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after": "2"}, 2.0),
        ({"retry-after": email.utils.formatdate(NOW + 12, usegmt=True)}, 12.0),
        ({"retry-after": email.utils.formatdate(NOW - 5, usegmt=True)}, -5.0),
        ({"retry-after": "Wed, 99 Foo 2026"}, None),
        ({"retry-after-ms": "inf"}, None),
    ],
)
def test_retry_after_seconds(headers: dict[str, str], expected: float | None) -> None:
    assert retry_after_seconds(headers, NOW) == expected


@pytest.mark.parametrize(("retry_number", "expected"), [(1, 2.0), (2, 4.0), (3, 8.0), (4, 16.0)])
def test_exponential_backoff(retry_number: int, expected: float) -> None:
    error = APICallError("x", url=ENDPOINT, status_code=500, is_retryable=True)
    assert RetryPolicy().delay(error, retry_number, NOW) == expected


def test_policy_is_configurable() -> None:
    policy = RetryPolicy(initial_delay=0.5, backoff_factor=3.0, max_retry_after=10.0)
    hinted = APICallError("x", url=ENDPOINT, response_headers={"retry-after": "20"})
    assert policy.delay(hinted, 2, NOW) == 1.5


def test_run_with_retries_uses_the_injected_clock_for_dates() -> None:
    error = APICallError(
        "busy",
        url=ENDPOINT,
        status_code=503,
        response_headers={"retry-after": email.utils.formatdate(NOW + 9, usegmt=True)},
        is_retryable=True,
    )
    outcomes: list[Any] = [error, "done"]
    delays: list[float] = []

    def call() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return str(outcome)

    assert run_with_retries(call, policy=RetryPolicy(), sleep=delays.append, clock=lambda: NOW) == (
        "done"
    )
    assert delays == [9.0]


def test_foreign_exceptions_are_not_retried() -> None:
    calls: list[int] = []

    def call() -> None:
        calls.append(1)
        raise KeyError("bug")

    with pytest.raises(KeyError):
        run_with_retries(call, policy=RetryPolicy(max_retries=3), sleep=lambda _: None)
    assert calls == [1]


def test_non_api_errors_are_not_retryable() -> None:
    assert RetryPolicy().should_retry(TogetherImageError("x")) is False


def test_raw_client_retries_with_its_policy(
    api: responses.RequestsMock, delays: list[float]
) -> None:
    add_failure(api, 500)
    api.post(ENDPOINT, json=success_body())
    client = TogetherImageClient(api_key=API_KEY, base_url=BASE_URL, sleep=delays.append)
    client.images.generate(model="m", prompt="p")
    assert delays == [2.0]
    strict = TogetherImageClient(api_key=API_KEY, base_url=BASE_URL, max_retries=0)
    add_failure(api, 500)
    with pytest.raises(InternalServerError):
        strict.images.generate(model="m", prompt="p")


def _failing(*errors: TogetherImageError, then: str = "done") -> tuple[Any, list[int]]:
    """A call that raises ``errors`` one per attempt, then returns ``then``."""
    pending, attempts = list(errors), []

    def call() -> str:
        attempts.append(1)
        if pending:
            raise pending.pop(0)
        return then

    return call, attempts


def _busy() -> APICallError:
    return APICallError("busy", url=ENDPOINT, status_code=503, is_retryable=True)


def test_an_answer_without_images_is_retried_as_the_ai_sdk_does() -> None:
    assert RetryPolicy().should_retry(NoImageGeneratedError()) is True
    call, attempts = _failing(NoImageGeneratedError())
    delays: list[float] = []
    assert run_with_retries(call, policy=RetryPolicy(), sleep=delays.append) == "done"
    assert (len(attempts), delays) == (2, [2.0])


class _Signal:
    """An abort signal that records waits and is set after ``set_after`` of them."""

    def __init__(self, set_after: int | None = None) -> None:
        self.waits: list[float | None] = []
        self._set_after = set_after

    def is_set(self) -> bool:
        return self._set_after is not None and len(self.waits) >= self._set_after

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout)
        return self.is_set()


def test_an_abort_before_the_first_attempt_says_nothing_was_sent() -> None:
    call, attempts = _failing()
    with pytest.raises(AbortError) as raised:
        run_with_retries(call, policy=RetryPolicy(), sleep=None, abort_signal=_Signal(set_after=0))
    assert str(raised.value) == "The call was aborted: abort_signal was set before it was sent."
    assert attempts == []


def test_an_abort_seen_before_a_retry_counts_the_failed_attempts() -> None:
    class SetOnThirdLook:
        """Set between the end of the first wait and the second attempt."""

        looks = 0

        def is_set(self) -> bool:
            self.looks += 1
            return self.looks >= 3

        def wait(self, timeout: float | None = None) -> bool:
            raise AssertionError("an injected sleep is used instead of waiting on the signal")

    call, attempts = _failing(_busy())
    with pytest.raises(AbortError) as raised:
        run_with_retries(
            call, policy=RetryPolicy(), sleep=lambda seconds: None, abort_signal=SetOnThirdLook()
        )
    assert str(raised.value) == (
        "The call was aborted: abort_signal was set after 1 failed attempts."
    )
    assert attempts == [1]


def test_an_abort_during_an_injected_sleep_ends_the_wait_without_another_attempt() -> None:
    signal = threading.Event()
    call, attempts = _failing(_busy())
    with pytest.raises(AbortError) as raised:
        run_with_retries(
            call, policy=RetryPolicy(), sleep=lambda seconds: signal.set(), abort_signal=signal
        )
    assert str(raised.value) == "The call was aborted while waiting 2 s before a retry."
    assert attempts == [1]


def test_without_an_injected_sleep_the_wait_is_on_the_abort_signal() -> None:
    signal = _Signal()
    call, attempts = _failing(_busy(), _busy())
    assert run_with_retries(call, policy=RetryPolicy(), abort_signal=signal) == "done"
    assert signal.waits == [2.0, 4.0]
    assert len(attempts) == 3


def test_without_sleep_or_signal_the_wait_is_a_real_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    call, _ = _failing(_busy())
    assert run_with_retries(call, policy=RetryPolicy(initial_delay=0.25)) == "done"
    assert slept == [0.25]
