"""Account state: build tier (403), credit (402) and rate limits (429) on an injected clock."""

from __future__ import annotations

import pytest

from .conftest import ContractAPI

FREE = "black-forest-labs/FLUX.1-schnell-Free"


class ManualClock:
    """A clock tests move by hand."""

    def __init__(self) -> None:
        self.now = 1_780_000_000.0

    def __call__(self) -> float:
        return self.now


_CLOCK = ManualClock()


def test_tier_gated_models_answer_403(api: ContractAPI) -> None:
    api.fake.set_tier(1)

    blocked = api.generate(model="black-forest-labs/FLUX.1.1-pro", prompt="x")

    assert blocked.status == 403
    assert blocked.json()["error"]["type"] == "request_blocked"
    assert "build tier 2" in blocked.json()["error"]["message"]
    assert api.generate(prompt="x").status == 200


def test_no_credit_answers_402(api: ContractAPI) -> None:
    api.fake.set_credit(0.001)

    first = api.generate(prompt="x")
    second = api.generate(prompt="x")

    assert (first.status, second.status) == (200, 402)
    assert second.json()["error"]["type"] == "credit_limit"
    assert api.fake.credit is not None
    assert api.fake.credit < 0


# FLUX.1 [schnell] Free, retired 2026-03-20, kept its recorded rate limit: served on request.
@pytest.mark.together_fake(clock=_CLOCK, rate_limits="model", serve_retired=True)
def test_model_rate_limit_answers_429_until_the_window_passes(api: ContractAPI) -> None:
    statuses = [api.generate(model=FREE, prompt="x").status for _ in range(7)]
    limited = api.generate(model=FREE, prompt="x")
    _CLOCK.now += 61

    assert statuses == [200] * 6 + [429]
    assert limited.headers["Retry-After"] == "60"
    assert limited.headers["X-Ratelimit-Limit"] == "0.1"
    assert limited.json()["error"]["type"] == "model_rate_limit"
    assert "6.0 queries per minute" in limited.json()["error"]["message"]
    assert api.generate(model=FREE, prompt="x").status == 200


@pytest.mark.together_fake(rate_limits="off", serve_retired=True)
def test_rate_limits_can_be_switched_off(api: ContractAPI) -> None:
    assert {api.generate(model=FREE, prompt="x").status for _ in range(8)} == {200}


@pytest.mark.together_fake(ratelimit_headers=True, serve_retired=True)
def test_successes_can_carry_the_2025_rate_limit_headers(api: ContractAPI) -> None:
    reply = api.generate(model=FREE, prompt="x")

    assert (reply.headers["X-Ratelimit-Limit"], reply.headers["Retry-After"]) == ("0.1", "10")
    assert reply.headers["X-Ratelimit-Remaining"] == "5"
