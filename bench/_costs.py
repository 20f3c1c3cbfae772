"""Measurement 7: what one test and one call cost a user, in CPU time, against a hand-written mock.

Three figures, each against a hand-written ``responses`` mock answering the same bytes (the fake's
own answer to the request), with the peers a user might pick instead beside it when installed:

- 7b one test: set up what answers, make one call with a prompt not asked before, tear down (512²);
- 7c a repeated identical call (same prompt and seed) through a started interceptor (512²);
- 7d the first call with a new prompt (no seed) through a started interceptor (1024²).

Times are CPU seconds of this process (every thread: pytest-httpserver's server thread counts),
which a machine shared with other work distorts far less than wall time.
"""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path
from typing import Any

from bench._harness import Goal, Row, Sampler, alternate, cpu_timed, median
from bench._inprocess import callback_mock
from bench._peers import (
    HTTPSERVER,
    VCRPY,
    canned_httpserver,
    expect_generation,
    installed,
    peer_rows,
    vcr_replay,
    write_cassette,
)
from bench._workload import API_KEY, MODEL_ID, PROMPT, SEED, Settings, canned_body, wire_body
from together_image import ImageModel, create_togetherai, generate_image
from together_image_fake import FakeTogether

MOCK_BASELINE = "responses mock, same bytes"
TEST_GOAL = Goal(op="<=", limit=1.5)
REPEATED_GOAL = Goal(op="<=", limit=1.2)
NEW_PROMPT_GOAL = Goal(op="<=", limit=2.0)
FAKE = "together-image fake"

Call = Callable[[], object]


def _caller(model: ImageModel, side: int, *, new_prompts: bool) -> Call:
    """One ``generate_image`` call per invocation: a prompt never asked before (and no seed), or
    the same prompt and seed every time."""
    size = f"{side}x{side}"
    numbers = itertools.count()
    if new_prompts:
        return lambda: generate_image(
            model=model, prompt=f"{PROMPT} #{next(numbers)}", size=size, max_retries=0
        )
    return lambda: generate_image(model=model, prompt=PROMPT, size=size, seed=SEED, max_retries=0)


class _Contenders:
    """What answers the calls, per contender: the model to call with and what surrounds calls.

    ``per_test[name]()`` is what a test's fixture does around one test (set up, then tear down);
    ``per_batch[name]()`` what surrounds a batch of calls inside one long test.
    """

    def __init__(self, stack: ExitStack, side: int, folder: Path) -> None:
        body = canned_body(wire_body(side, "base64"))
        in_process = create_togetherai(api_key=API_KEY).image(MODEL_ID)
        self.names: list[str] = [FAKE, MOCK_BASELINE]
        self.models: dict[str, ImageModel] = {FAKE: in_process, MOCK_BASELINE: in_process}
        self.per_test: dict[str, Callable[[], AbstractContextManager[Any]]] = {
            FAKE: FakeTogether,
            MOCK_BASELINE: lambda: callback_mock(body),
        }
        # One fake for every batch (its caches warm, as in a long test); a responses mock forgets
        # its callbacks when it stops, so each batch registers them anew (outside the timing).
        fake = FakeTogether()
        self.per_batch: dict[str, Callable[[], AbstractContextManager[Any]]] = {
            FAKE: lambda: fake,
            MOCK_BASELINE: lambda: callback_mock(body),
        }
        if installed(VCRPY):
            replay = vcr_replay(write_cassette(folder / f"generation-{side}.yaml", side, body))
            self.names.append(VCRPY)
            self.models[VCRPY] = in_process
            self.per_test[VCRPY] = self.per_batch[VCRPY] = replay
        if installed(HTTPSERVER):
            server = stack.enter_context(canned_httpserver(body))

            @contextmanager
            def handlers() -> Iterator[None]:
                expect_generation(server, body)
                try:
                    yield
                finally:
                    server.clear()

            self.names.append(HTTPSERVER)
            self.models[HTTPSERVER] = create_togetherai(
                api_key=API_KEY, base_url=server.url_for("/v1")
            ).image(MODEL_ID)
            self.per_test[HTTPSERVER] = self.per_batch[HTTPSERVER] = handlers


def _one_test(opener: Callable[[], AbstractContextManager[Any]], call: Call) -> Call:
    def test() -> None:
        with opener():
            call()

    return test


def _batch(opener: Callable[[], AbstractContextManager[Any]], call: Call, repeat: int) -> Sampler:
    calls = cpu_timed(call, repeat=repeat)

    def sample() -> list[float]:
        with opener():
            return calls()

    return sample


def _rows(name: str, goal: Goal, samples: dict[str, list[float]]) -> list[Row]:
    ms = {who: median(values) * 1000 for who, values in samples.items()}
    base = ms[MOCK_BASELINE]
    return [
        Row(name=name, baseline=MOCK_BASELINE, fake=ms[FAKE], base=base, unit="ms", goal=goal),
        *peer_rows(
            name.split(" ", 1)[0], baseline=MOCK_BASELINE, unit="ms", measured=ms, base=base
        ),
    ]


def cost_rows(settings: Settings) -> list[Row]:
    """Measurement 7: one test, a repeated call and a new-prompt call, fake vs mock vs peers."""
    rows: list[Row] = []
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="together-image-")))
        small = _Contenders(stack, 512, folder)
        large = _Contenders(stack, 1024, folder)
        figures: list[tuple[str, Goal, _Contenders, Callable[[str], Sampler]]] = [
            (
                "7b one test (set up, new-prompt call, tear down), 512², CPU",
                TEST_GOAL,
                small,
                lambda who: cpu_timed(
                    _one_test(
                        small.per_test[who], _caller(small.models[who], 512, new_prompts=True)
                    ),
                    repeat=settings.repeat,
                ),
            ),
            (
                "7c repeated identical call, 512², CPU",
                REPEATED_GOAL,
                small,
                lambda who: _batch(
                    small.per_batch[who],
                    _caller(small.models[who], 512, new_prompts=False),
                    settings.repeat,
                ),
            ),
            (
                "7d first call with a new prompt, 1024², CPU",
                NEW_PROMPT_GOAL,
                large,
                lambda who: _batch(
                    large.per_batch[who],
                    _caller(large.models[who], 1024, new_prompts=True),
                    settings.repeat,
                ),
            ),
        ]
        for name, goal, contenders, sampler in figures:
            pooled = alternate([sampler(who) for who in contenders.names], rounds=settings.rounds)
            rows.extend(_rows(name, goal, dict(zip(contenders.names, pooled, strict=True))))
    return rows
