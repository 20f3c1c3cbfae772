"""The harness's statistics, alternation, goals and table layout."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench._harness import (
    Goal,
    Row,
    alternate,
    fit_exponent,
    format_table,
    format_value,
    median,
    percentile,
    timed,
)


def _recorder(name: str, log: list[str]) -> object:
    def sample() -> list[float]:
        log.append(name)
        return [float(len(log))]

    return sample


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (2, ["a", "b", "b", "a", "a", "b"]),
        (3, ["a", "b", "c", "b", "c", "a", "c", "a", "b"]),
    ],
)
def test_alternate_rotates_the_order_every_round(count: int, expected: list[str]) -> None:
    log: list[str] = []
    samplers = [_recorder(name, log) for name in "abc"[:count]]
    alternate(samplers, rounds=len(expected) // count - 1, warmup=1)  # type: ignore[arg-type]
    assert log == expected


def test_alternate_drops_warmup_rounds_and_pools_the_rest() -> None:
    log: list[str] = []
    first, second = alternate(
        [_recorder("a", log), _recorder("b", log)],  # type: ignore[list-item]
        rounds=2,
        warmup=1,
    )
    # Calls 1-2 are the warm-up round; call numbers 3-6 are kept: b, a in round 2, a, b in round 3.
    assert first == [4.0, 5.0]
    assert second == [3.0, 6.0]


@pytest.mark.parametrize(("rounds", "warmup"), [(0, 1), (1, -1)])
def test_alternate_rejects_bad_counts(rounds: int, warmup: int) -> None:
    with pytest.raises(ValueError, match="rounds >= 1"):
        alternate([], rounds=rounds, warmup=warmup)


def test_timed_returns_one_duration_per_call() -> None:
    calls: list[int] = []
    durations = timed(lambda: calls.append(1), repeat=3)()
    assert len(durations) == 3
    assert all(value >= 0 for value in durations)
    assert calls == [1, 1, 1]


def test_median_and_percentiles() -> None:
    values = [float(v) for v in range(100, 0, -1)]
    assert median(values) == 50.5
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile(values, 1.0) == 100.0
    assert percentile([7.0], 0.99) == 7.0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: median([]), "at least one value"),
        (lambda: percentile([], 0.5), "0 values"),
        (lambda: percentile([1.0], 0.0), "fraction=0.0"),
        (lambda: fit_exponent([1.0], [1.0]), "two or more"),
        (lambda: fit_exponent([1.0, 2.0], [1.0]), "2 xs and 1 ys"),
        (lambda: fit_exponent([0.0, 2.0], [1.0, 2.0]), "positive"),
        (lambda: fit_exponent([2.0, 2.0], [1.0, 3.0]), "distinct"),
    ],
)
def test_statistics_reject_bad_input(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()  # type: ignore[operator]


@given(
    exponent=st.floats(min_value=-2, max_value=3),
    scale=st.floats(min_value=1e-3, max_value=1e3),
    xs=st.lists(st.integers(min_value=1, max_value=10_000), min_size=2, max_size=8, unique=True),
)
def test_fit_exponent_recovers_a_power_law(exponent: float, scale: float, xs: list[int]) -> None:
    ys = [scale * x**exponent for x in xs]
    assert math.isclose(fit_exponent(xs, ys), exponent, rel_tol=1e-6, abs_tol=1e-6)


@pytest.mark.parametrize(
    ("goal", "ratio", "met", "shown"),
    [
        (Goal(op="<=", limit=1.5), 1.5, True, "≤ 1.5"),
        (Goal(op="<=", limit=1.5), 1.51, False, "≤ 1.5"),
        (Goal(op=">=", limit=0.8), 0.8, True, "≥ 0.8"),
        (Goal(op=">=", limit=0.8), 0.79, False, "≥ 0.8"),
    ],
)
def test_goals(goal: Goal, ratio: float, met: bool, shown: str) -> None:
    assert goal.met(ratio) is met
    assert str(goal) == shown


def test_row_ratio_and_verdict() -> None:
    hit = Row(name="x", baseline="b", fake=3.0, base=2.0, unit="ms", goal=Goal(op="<=", limit=2))
    assert hit.ratio == 1.5
    assert hit.verdict == "ok"
    miss = Row(
        name="x", baseline="b", fake=500, base=1000, unit="req/s", goal=Goal(op=">=", limit=0.8)
    )
    assert miss.verdict == "MISS"
    info = Row(name="x", baseline="b", fake=1.0, base=0.0, unit="s")
    assert info.ratio == math.inf
    assert info.verdict == ""
    missing = Row.missing(name="x", baseline="b", unit="ms", note="not installed")
    assert math.isnan(missing.ratio)
    assert missing.verdict == ""


def test_a_row_with_a_note_shows_the_note_instead_of_figures() -> None:
    rows = [
        Row(name="measured", baseline="b", fake=2.0, base=1.0, unit="MiB"),
        Row.missing(name="absent", baseline="b", unit="MiB", note="not installed"),
    ]
    lines = format_table(rows).splitlines()
    assert "2.0 MiB" in lines[2]
    assert "2.00" in lines[2]
    assert "not installed" in lines[3]
    assert "nan" not in lines[3]
    assert lines[3].split()[-3:] == ["—", "—", "—"]


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (2.3149, "ms", "2.31 ms"),
        (123.4, "ms", "123 ms"),
        (1.5, "s", "1.50 s"),
        (1234.4, "req/s", "1234 req/s"),
        (0.987, "exp", "0.99"),
        (80.64, "MiB", "80.6 MiB"),
    ],
)
def test_format_value(value: float, unit: str, shown: str) -> None:
    assert format_value(value, unit) == shown  # type: ignore[arg-type]


def test_format_table_aligns_columns() -> None:
    rows = [
        Row(
            name="short",
            baseline="base",
            fake=1.0,
            base=2.0,
            unit="ms",
            goal=Goal(op="<=", limit=1.5),
        ),
        Row(name="a much longer name", baseline="b", fake=900.0, base=1000.0, unit="req/s"),
    ]
    lines = format_table(rows).splitlines()
    assert lines[0].split() == ["measurement", "baseline", "fake", "baseline", "ratio", "goal"]
    assert set(lines[1]) == {"-", " "}
    assert "≤ 1.5" in lines[2]
    assert lines[2].endswith("ok")
    assert "900 req/s" in lines[3]
    assert "—" in lines[3]
    # Right-aligned numeric columns: both ratios start (and so end) at the same position.
    assert lines[2].index("0.50") == lines[3].index("0.90")
