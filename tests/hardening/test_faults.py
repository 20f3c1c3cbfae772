"""Faults survived by the client: for every kind of fault the fake injects, ``generate_image`` with
n = 4 either returns all four images in call order (after retries) or raises the documented error,
and the call log shows nothing lost or duplicated. Runs in-process and over real sockets; waits
between retries go to a recorder, so nothing really sleeps, and timeouts are a fraction of a second.

The fault matrix (fault, how often, outcome) is printed in the terminal summary.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from together_image import (
    APICallError,
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    InternalServerError,
    NotFoundError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    RetryError,
    TogetherImageError,
    UnprocessableEntityError,
    create_togetherai,
    generate_image,
)
from together_image_fake import NAMED_ERRORS, FakeTogether, FakeTogetherServer, inspect_image

KEY = "tgp_v1_fault-key"
MODEL = "black-forest-labs/FLUX.1-schnell"
N = 4
MAX_RETRIES = 2
CLIENT_TIMEOUT_S = (
    1.0  # a deadline for the whole answer: generous under load, well below the 2 s hold
)
PERSISTENT = 100  # more than N * (MAX_RETRIES + 1) attempts


@dataclass(frozen=True, kw_only=True)
class FaultCase:
    """One kind of fault and the error class the client documents for it."""

    label: str
    fault: dict[str, Any]
    error: type[APICallError]

    @property
    def retryable(self) -> bool:
        return self.error in (RateLimitError, InternalServerError) or issubclass(
            self.error, APIConnectionError
        )


_NAMED_ERROR_CLASSES: dict[str, type[APICallError]] = {
    "bad_request": BadRequestError,
    "invalid_api_key": AuthenticationError,
    "credit_limit": PaymentRequiredError,
    "request_blocked": PermissionDeniedError,
    "model_not_available": NotFoundError,
    "payload_too_large": APICallError,  # 413 has no class of its own [SDK: plain APIStatusError]
    "safety_checker": UnprocessableEntityError,
    "rate_limited": RateLimitError,
    "dynamic_request_limited": RateLimitError,
    "server_error": InternalServerError,
    "overloaded": InternalServerError,
    "gateway_timeout": InternalServerError,
}
CASES = [
    FaultCase(label="status 429", fault={"status": 429}, error=RateLimitError),
    FaultCase(label="status 500", fault={"status": 500}, error=InternalServerError),
    FaultCase(label="status 503", fault={"status": 503}, error=InternalServerError),
    *(
        FaultCase(label=f"error {name}", fault={"error": name}, error=_NAMED_ERROR_CLASSES[name])
        for name in NAMED_ERRORS
    ),
    FaultCase(label="kind reset", fault={"kind": "reset"}, error=APIConnectionError),
    FaultCase(label="kind timeout", fault={"kind": "timeout"}, error=APITimeoutError),
    FaultCase(
        label="kind html 502", fault={"kind": "html", "status": 502}, error=InternalServerError
    ),
]


@pytest.fixture(scope="module")
def fault_matrix(hardening_figures: list[str]) -> Iterator[dict[str, dict[str, str]]]:
    """Outcomes by fault and scenario, printed once the module's tests are done."""
    matrix: dict[str, dict[str, str]] = {}
    yield matrix
    hardening_figures.append("fault matrix (generate_image, n=4, max_retries=2; both modes agree):")
    for label, outcomes in matrix.items():
        shown = "; ".join(f"{scenario} -> {outcome}" for scenario, outcome in outcomes.items())
        hardening_figures.append(f"  {label}: {shown}")


@pytest.fixture(params=["inprocess", "server"])
def mode(request: pytest.FixtureRequest) -> Iterator[tuple[FakeTogether, str]]:
    """A fresh seeded fake and the base URL where it answers."""
    fake = FakeTogether(seed=9, api_keys=[KEY], rate_limits="off", sleep=lambda seconds: None)
    if request.param == "inprocess":
        with fake:
            yield fake, "https://api.together.xyz/v1"
    else:
        with FakeTogetherServer(fake, timeout_hold_s=2.0) as server:
            yield fake, server.base_url


def _generate(base_url: str, waits: list[float]) -> Any:
    provider = create_togetherai(api_key=KEY, base_url=base_url, timeout=CLIENT_TIMEOUT_S)
    return generate_image(
        model=provider.image(MODEL),
        prompt="a quetzal",
        size="256x256",
        n=N,
        max_retries=MAX_RETRIES,
        sleep=waits.append,
    )


def _assert_four_images_in_order(result: Any, fake: FakeTogether) -> None:
    answered = [call for call in fake.calls if call.status == 200]
    assert len(result.images) == len(result.responses) == len(answered) == N
    image_ids = [inspect_image(image.data).request_id for image in result.images]
    # Each image belongs to the call whose metadata sits at the same position...
    assert image_ids == [response.headers["x-request-id"] for response in result.responses]
    # ...and the successful calls are exactly those images, each once.
    assert sorted(map(str, image_ids)) == sorted(str(call.response_id) for call in answered)


@pytest.mark.parametrize("case", CASES, ids=[case.label for case in CASES])
def test_a_fault_once(
    mode: tuple[FakeTogether, str], fault_matrix: dict[str, dict[str, str]], case: FaultCase
) -> None:
    fake, base_url = mode
    fake.fail_next(**case.fault, times=1)
    waits: list[float] = []
    if case.retryable:
        result = _generate(base_url, waits)
        _assert_four_images_in_order(result, fake)
        assert len(fake.calls) == N + 1
        assert len(waits) == 1
        outcome = f"4 images in order after 1 retry (wait {waits[0]:g} s)"
    else:
        with pytest.raises(case.error) as raised:
            _generate(base_url, waits)
        assert type(raised.value) is case.error
        assert not raised.value.is_retryable
        # No retry: one failed call, and each other call made at most once (calls not yet
        # started when the failure surfaced are cancelled).
        statuses = [call.status for call in fake.calls]
        assert len(statuses) <= N
        assert statuses.count(200) == len(statuses) - 1
        assert waits == []
        outcome = f"raises {case.error.__name__} ({raised.value.status_code}), no retry"
    fault_matrix.setdefault(case.label, {})["x1"] = outcome


@pytest.mark.parametrize("case", CASES, ids=[case.label for case in CASES])
def test_a_persistent_fault(
    mode: tuple[FakeTogether, str], fault_matrix: dict[str, dict[str, str]], case: FaultCase
) -> None:
    fake, base_url = mode
    fake.fail_next(**case.fault, times=PERSISTENT)
    waits: list[float] = []
    with pytest.raises(TogetherImageError) as raised:
        _generate(base_url, waits)
    error = raised.value
    attempts = MAX_RETRIES + 1 if case.retryable else 1
    # Every call that started was tried exactly ``attempts`` times; calls not started when the
    # first failure surfaced are cancelled, so between 1 and N calls ran.
    made, leftover = divmod(len(fake.calls), attempts)
    assert leftover == 0
    assert 1 <= made <= N
    assert all(call.status != 200 for call in fake.calls)
    if case.retryable:
        assert isinstance(error, RetryError)
        assert error.reason == "max_retries_exceeded"
        assert [type(attempt) for attempt in error.errors] == [case.error] * attempts
        outcome = f"RetryError(max_retries_exceeded, {attempts} x {case.error.__name__})"
    else:
        assert type(error) is case.error
        outcome = f"raises {case.error.__name__}, no retry"
    fault_matrix.setdefault(case.label, {})[f"x{PERSISTENT}"] = outcome


def test_latency_is_survived(
    mode: tuple[FakeTogether, str], fault_matrix: dict[str, dict[str, str]]
) -> None:
    fake, base_url = mode
    fake.fail_next(latency_s=0.02, times=N)
    waits: list[float] = []
    _assert_four_images_in_order(_generate(base_url, waits), fake)
    assert waits == []
    assert all(call.fault == "latency_s=0.02" for call in fake.calls)
    fault_matrix.setdefault("latency 0.02 s", {})["x4"] = "4 images in order, no retry"
