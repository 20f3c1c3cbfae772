"""``abort_signal``: a ``threading.Event`` that ends backoff waits at once, abandons calls in flight
and stops every concurrent call of one ``generate_image``; through ``responses``, a loopback server
and the fake."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import responses
from requests import PreparedRequest

from together_image import (
    AbortError,
    InvalidArgumentError,
    TogetherAIImageModel,
    TogetherImageClient,
    create_togetherai,
    generate_image,
)
from together_image import _retry as retry_module
from together_image_fake import FakeTogether

from ._hostile import Handler, hostile_server
from ._support import API_KEY, BASE_URL, ENDPOINT, MODEL_ID, success_body


@pytest.fixture
def no_real_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail at once if a wait between attempts ignores the abort signal and really sleeps."""

    def forbidden(seconds: float) -> None:
        raise AssertionError(f"slept {seconds} s instead of waiting on the abort signal")

    monkeypatch.setattr(retry_module.time, "sleep", forbidden)


class SetOnceWaitedOn(threading.Event):
    """An abort signal that is set the moment anything starts waiting on it: a backoff wait is
    the only ``wait()`` the client makes on the signal, so the abort lands exactly inside it."""

    def wait(self, timeout: float | None = None) -> bool:
        self.set()
        return super().wait(timeout)


def failing() -> Any:
    """A 500 asking for a 60 s wait."""

    def callback(request: PreparedRequest) -> tuple[int, dict[str, str], str]:
        return 500, {"retry-after": "60"}, '{"error": {"message": "busy"}}'

    return callback


@pytest.mark.usefixtures("no_real_sleep")
def test_setting_the_signal_ends_a_backoff_wait_at_once(
    api: responses.RequestsMock, model: TogetherAIImageModel
) -> None:
    abort = SetOnceWaitedOn()
    api.add_callback(responses.POST, ENDPOINT, callback=failing())
    with pytest.raises(AbortError, match="while waiting 60 s before a retry"):
        generate_image(model=model, prompt="p", abort_signal=abort)
    assert len(api.calls) == 1  # never retried


@pytest.mark.usefixtures("no_real_sleep")
def test_the_raw_client_takes_the_signal_too(api: responses.RequestsMock) -> None:
    abort = SetOnceWaitedOn()
    api.add_callback(responses.POST, ENDPOINT, callback=failing())
    client = TogetherImageClient(api_key=API_KEY, base_url=BASE_URL)
    with pytest.raises(AbortError, match="while waiting 60 s before a retry"):
        client.images.generate(model=MODEL_ID, prompt="p", abort_signal=abort)
    assert len(api.calls) == 1


def test_a_set_signal_stops_before_any_request(
    api: responses.RequestsMock, model: TogetherAIImageModel
) -> None:
    abort = threading.Event()
    abort.set()
    api.post(ENDPOINT, json=success_body())
    with pytest.raises(AbortError, match="before it was sent"):
        generate_image(model=model, prompt="p", n=3, abort_signal=abort)
    assert len(api.calls) == 0


def test_an_unset_signal_changes_nothing(
    api: responses.RequestsMock, model: TogetherAIImageModel
) -> None:
    api.post(ENDPOINT, json=success_body())
    result = generate_image(model=model, prompt="p", n=2, abort_signal=threading.Event())
    assert len(result.images) == 2


@pytest.mark.parametrize("signal", [True, "stop", object()], ids=["bool", "str", "object"])
def test_the_signal_must_be_an_event(model: TogetherAIImageModel, signal: Any) -> None:
    with pytest.raises(InvalidArgumentError, match=r"abort_signal must be a threading\.Event"):
        generate_image(model=model, prompt="p", abort_signal=signal)


def holding(handler: Handler) -> None:
    """Headers, then a space every 50 ms for at most 10 s, until the client goes away."""
    handler.head(200, Content_Type="application/json", Content_Length="1000")
    for _ in range(200):
        handler.send(b" ")
        handler.tally.finished.wait(0.05)


@pytest.fixture
def held_calls() -> Iterator[tuple[str, Any]]:
    with hostile_server(holding) as (base_url, tally):
        yield base_url, tally


def test_calls_in_flight_are_abandoned_and_stop_together(held_calls: tuple[str, Any]) -> None:
    base_url, tally = held_calls
    abort = threading.Event()
    model = create_togetherai(api_key=API_KEY, base_url=base_url).image(MODEL_ID)

    def abort_when_all_three_arrived() -> None:
        for _ in range(400):  # at most 20 s
            if tally.requests >= 3:
                break
            abort.wait(0.05)
        abort.set()

    helper = threading.Thread(target=abort_when_all_three_arrived)
    helper.start()
    try:
        with pytest.raises(AbortError, match="aborted while in flight"):
            generate_image(model=model, prompt="p", n=3, abort_signal=abort, max_retries=0)
    finally:
        abort.set()
        helper.join()
    assert tally.requests == 3
    # The abandoned connections were shut down: the server saw its clients go away.
    assert tally.finished.wait(10)


def test_abort_through_the_fake() -> None:
    started = threading.Event()
    release = threading.Event()
    abort = threading.Event()

    def held(seconds: float) -> None:
        started.set()
        release.wait(10)

    with FakeTogether(rate_limits="off", sleep=held) as fake:
        fake.fail_next(latency_s=5.0)
        helper = threading.Thread(target=lambda: (started.wait(10), abort.set()))
        helper.start()
        try:
            with pytest.raises(AbortError):
                generate_image(
                    model=create_togetherai(api_key=API_KEY).image(
                        "black-forest-labs/FLUX.1-schnell"
                    ),
                    prompt="p",
                    size="256x256",
                    abort_signal=abort,
                )
        finally:
            release.set()
            helper.join()
    assert started.is_set()
