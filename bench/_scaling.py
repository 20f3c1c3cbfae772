"""Measurement 4: how the fake's cost of answering grows with pixel count and with ``n``.

Each sample is one ``FakeTogether.handle()`` of a request the process has not seen (a fresh seed
and prompt, so the process-wide background cache misses too), so it draws, encodes, base64-encodes
and serializes every image: the full cost of a cold answer. The
growth is the least-squares exponent of time against pixels (or ``n``); 1.0 is linear.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass

from bench._harness import Goal, Row, Sampler, alternate, fit_exponent, median
from bench._workload import Settings, fake_request, wire_body
from together_image_fake import FakeTogether

LINEAR = "linear growth (1.0)"
LINEAR_GOAL = Goal(op="<=", limit=1.2)


@dataclass(frozen=True, kw_only=True)
class Series:
    """One scaling curve: the x values (and how to show them), the median ms at each."""

    name: str
    labels: tuple[str, ...]
    xs: tuple[int, ...]
    ms: tuple[float, ...]

    @property
    def exponent(self) -> float:
        """Growth exponent of ms against x."""
        return fit_exponent(self.xs, self.ms)

    def describe(self) -> str:
        """``"256²: 1.2 ms, 512²: 2.0 ms, …"``-style detail line."""
        points = ", ".join(
            f"{label}: {ms:.3g} ms" for label, ms in zip(self.labels, self.ms, strict=True)
        )
        return f"{self.name}: {points}"


def _cold_answers(fake: FakeTogether, side: int, n: int, seeds: Iterator[int]) -> float:
    body = wire_body(side, "base64", n=n)
    body["seed"] = seed = next(seeds)
    body["prompt"] = f"{body['prompt']} #{seed}"
    request = fake_request(body)
    started = time.perf_counter()
    response = fake.handle(request)
    elapsed = time.perf_counter() - started
    if response.status != 200:
        raise RuntimeError(f"Expected 200 for {body!r}, got {response.status}: {response.body!r}")
    return elapsed


def _cold_sampler(fake: FakeTogether, side: int, n: int, seeds: Iterator[int]) -> Sampler:
    return lambda: [_cold_answers(fake, side, n, seeds)]


def scaling_series(settings: Settings) -> list[Series]:
    """Render time against pixels (n = 1) and against n (at 512²), cold every time."""
    fake = FakeTogether(rate_limits="off", max_calls=16)
    seeds = itertools.count(1000)
    pixel_samples = alternate(
        [_cold_sampler(fake, side, 1, seeds) for side in settings.scaling_sides],
        rounds=settings.rounds,
    )
    count_samples = alternate(
        [_cold_sampler(fake, 512, n, seeds) for n in settings.scaling_counts],
        rounds=settings.rounds,
    )
    return [
        Series(
            name="4 answer time vs pixels",
            labels=tuple(f"{side}²" for side in settings.scaling_sides),
            xs=tuple(side * side for side in settings.scaling_sides),
            ms=tuple(median(samples) * 1000 for samples in pixel_samples),
        ),
        Series(
            name="4 answer time vs n (512²)",
            labels=tuple(f"n={n}" for n in settings.scaling_counts),
            xs=settings.scaling_counts,
            ms=tuple(median(samples) * 1000 for samples in count_samples),
        ),
    ]


def scaling_rows(series: list[Series]) -> list[Row]:
    """One table row per curve: its exponent against linear growth."""
    return [
        Row(name=s.name, baseline=LINEAR, fake=s.exponent, base=1.0, unit="exp", goal=LINEAR_GOAL)
        for s in series
    ]
