"""The measuring harness: alternated sampling, robust statistics, goals and the printed table.

Every measurement compares the fake against a named baseline in the same process. Samplers run in
rounds whose order rotates (fake first, then baseline first, ...) so slow drift of the machine
(other processes, CPU frequency, a growing heap) lands on both sides alike; the table reports
medians, which ignore the odd scheduling hiccup. Nothing here knows what is being measured.
"""

from __future__ import annotations

import gc
import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

Sampler = Callable[[], list[float]]
"""Runs one batch and returns one number per timed operation (seconds, or any other unit)."""

Unit = Literal["ms", "s", "req/s", "exp", "MiB"]


@dataclass(frozen=True, kw_only=True)
class Goal:
    """A target for the ratio fake / baseline.

    Attributes:
        op: ``"<="`` when smaller ratios are better (times), ``">="`` when larger are (throughput).
        limit: The bound.
    """

    op: Literal["<=", ">="]
    limit: float

    def met(self, ratio: float) -> bool:
        """Return whether ``ratio`` satisfies the goal."""
        return ratio <= self.limit if self.op == "<=" else ratio >= self.limit

    def __str__(self) -> str:
        return f"{'≤' if self.op == '<=' else '≥'} {self.limit:g}"


@dataclass(frozen=True, kw_only=True)
class Row:
    """One line of the table.

    Attributes:
        name: What was measured, e.g. ``"in-process 1024² b64, repeated"``.
        baseline: The named baseline it is compared with.
        fake: The fake's median (in ``unit``).
        base: The baseline's median (in ``unit``).
        unit: Unit of ``fake`` and ``base``.
        goal: The target for ``ratio``, or ``None`` when the row is for information.
        note: Why nothing was measured (``"not installed"`` for a missing peer); ``fake`` and
            ``base`` are then NaN and the table shows the note instead.
    """

    name: str
    baseline: str
    fake: float
    base: float
    unit: Unit
    goal: Goal | None = None
    note: str = ""

    @classmethod
    def missing(cls, *, name: str, baseline: str, unit: Unit, note: str) -> Row:
        """A row that says why it has no figures (a peer tool that is not installed)."""
        return cls(name=name, baseline=baseline, fake=math.nan, base=math.nan, unit=unit, note=note)

    @property
    def ratio(self) -> float:
        """``fake / base`` (``inf`` when the baseline is zero, NaN for a row with a note)."""
        if self.note:
            return math.nan
        return self.fake / self.base if self.base else math.inf

    @property
    def verdict(self) -> str:
        """``"ok"``, ``"MISS"`` or ``""`` when there is no goal or nothing was measured."""
        if self.goal is None or self.note:
            return ""
        return "ok" if self.goal.met(self.ratio) else "MISS"


def timed(operation: Callable[[], object], *, repeat: int = 1) -> Sampler:
    """Make a sampler that times ``repeat`` calls of ``operation``, one number (s) per call."""

    def sample() -> list[float]:
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            operation()
            times.append(time.perf_counter() - started)
        return times

    return sample


def cpu_timed(operation: Callable[[], object], *, repeat: int = 1) -> Sampler:
    """Like ``timed`` but in CPU seconds of this process (every thread), not wall seconds.

    CPU time is what a shared, loaded machine distorts least: waiting for a core costs nothing.
    """

    def sample() -> list[float]:
        times = []
        for _ in range(repeat):
            started = time.process_time()
            operation()
            times.append(time.process_time() - started)
        return times

    return sample


def alternate(samplers: Sequence[Sampler], *, rounds: int, warmup: int = 1) -> list[list[float]]:
    """Run every sampler once per round, rotating the order each round, and pool the results.

    Args:
        samplers: The batches to compare (usually fake and baseline).
        rounds: Rounds whose results are kept.
        warmup: Rounds run first and thrown away (imports, caches, connection pools).

    Returns:
        One list per sampler: the numbers of all kept rounds, in order.

    Raises:
        ValueError: If ``rounds`` < 1 or ``warmup`` < 0.
    """
    if rounds < 1 or warmup < 0:
        raise ValueError(f"Expected rounds >= 1 and warmup >= 0, got {rounds=} {warmup=}")
    pooled: list[list[float]] = [[] for _ in samplers]
    gc.collect()
    for number in range(warmup + rounds):
        shift = number % len(samplers)
        order = list(range(len(samplers)))[shift:] + list(range(len(samplers)))[:shift]
        for position in order:
            values = samplers[position]()
            if number >= warmup:
                pooled[position].extend(values)
    return pooled


def median(values: Sequence[float]) -> float:
    """The median; raises ``ValueError`` naming the problem for an empty sequence."""
    if not values:
        raise ValueError("Expected at least one value to take the median of, got none")
    return statistics.median(values)


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (``fraction`` 0.99 for p99) of ``values``.

    Raises:
        ValueError: For an empty sequence or a fraction outside (0, 1].
    """
    if not values or not 0 < fraction <= 1:
        raise ValueError(
            f"Expected values and 0 < fraction <= 1, got {len(values)} values, {fraction=}"
        )
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def fit_exponent(xs: Sequence[float], ys: Sequence[float]) -> float:
    """The growth exponent ``k`` of ``y ≈ c·x^k``: least-squares slope of log y against log x.

    Raises:
        ValueError: For fewer than two points, unequal lengths, non-positive values or all-equal
            ``xs``.
    """
    if len(xs) != len(ys) or len(xs) < 2:
        raise ValueError(f"Expected two or more (x, y) pairs, got {len(xs)} xs and {len(ys)} ys")
    if min(xs) <= 0 or min(ys) <= 0:
        raise ValueError(f"Expected positive values to fit, got xs={list(xs)} ys={list(ys)}")
    log_x = [math.log(x) for x in xs]
    log_y = [math.log(y) for y in ys]
    mean_x = statistics.fmean(log_x)
    mean_y = statistics.fmean(log_y)
    spread = sum((x - mean_x) ** 2 for x in log_x)
    if spread == 0:
        raise ValueError(f"Expected at least two distinct xs, got {list(xs)}")
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(log_x, log_y, strict=True)) / spread


def format_value(value: float, unit: Unit) -> str:
    """Render one median with its unit: ``"2.31 ms"``, ``"1234 req/s"``, ``"0.98"``."""
    if unit == "ms":
        return f"{value:.3g} ms" if value < 100 else f"{value:.0f} ms"
    if unit == "s":
        return f"{value:.2f} s"
    if unit == "req/s":
        return f"{value:.0f} req/s"
    if unit == "MiB":
        return f"{value:.1f} MiB"
    return f"{value:.2f}"


def format_table(rows: Sequence[Row]) -> str:
    """Lay the rows out as a fixed-width text table with a header line."""
    header = ("measurement", "baseline", "fake", "baseline", "ratio", "goal", "")
    lines = [
        (
            row.name,
            row.baseline,
            row.note or format_value(row.fake, row.unit),
            "—" if row.note else format_value(row.base, row.unit),
            "—" if row.note else f"{row.ratio:.2f}",
            str(row.goal) if row.goal else "—",
            row.verdict,
        )
        for row in rows
    ]
    widths = [max(len(cells[i]) for cells in (header, *lines)) for i in range(len(header))]
    right = {2, 3, 4}

    def render(cells: Sequence[str]) -> str:
        return "  ".join(
            cell.rjust(width) if i in right else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    rule = "  ".join("-" * width for width in widths).rstrip()
    return "\n".join([render(header), rule, *(render(cells) for cells in lines)])
