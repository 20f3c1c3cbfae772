"""Fixtures for the hardening tests: a fuzzing target server and a tally of what was tried.

The tally counts every case each fuzz test sent and every status that came back, and prints one
summary line per category at the end of the session (in any output mode); the load and fault tests
add their measured figures the same way, so the numbers the hardening issue asks for (cases tried,
5xx = 0, throughput, the fault matrix) are in every CI log.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Literal

import pytest

from together_image_fake import FakeTogether, FakeTogetherServer

Explained5xx = Literal["real API", "fault"]


class FuzzTally:
    """Cases sent and statuses received, per category, and which 5xx answers were explained."""

    def __init__(self) -> None:
        self.cases: Counter[str] = Counter()
        self.statuses: dict[str, Counter[str]] = {}
        self.explained: Counter[str] = Counter()

    def record(
        self, category: str, status: int | None, *, explained: Explained5xx | None = None
    ) -> None:
        """Count one case.

        Args:
            category: What kind of fuzz it was.
            status: The answer's status; ``None`` when the server closed without answering.
            explained: For a 5xx: ``"real API"`` (the real API answers the same, e.g. 500 for a
                chat model) or ``"fault"`` (a queued fault asked for it).
        """
        self.cases[category] += 1
        self.statuses.setdefault(category, Counter())[str(status) if status else "closed"] += 1
        if status is not None and status >= 500 and explained is not None:
            self.explained[explained] += 1

    def lines(self) -> list[str]:
        """One summary line per category, then the totals."""
        out = []
        server_errors = 0
        for category in sorted(self.cases):
            statuses = self.statuses[category]
            server_errors += sum(n for s, n in statuses.items() if s.startswith("5"))
            shown = ", ".join(f"{status}: {count}" for status, count in sorted(statuses.items()))
            out.append(f"  {category}: {self.cases[category]} cases ({shown})")
        total = sum(self.cases.values())
        unexplained = server_errors - sum(self.explained.values())
        out.append(
            f"  total: {total} cases; 5xx answers: {server_errors} (asked for by a fault: "
            f"{self.explained['fault']}, same as the real API: {self.explained['real API']}, "
            f"unexplained: {unexplained})"
        )
        return out


_TALLY_KEY = pytest.StashKey[FuzzTally]()
_FIGURES_KEY = pytest.StashKey[list[str]]()


@pytest.fixture(scope="session")
def fuzz_tally(request: pytest.FixtureRequest) -> FuzzTally:
    """The session's tally (printed in the terminal summary)."""
    tally = FuzzTally()
    request.config.stash[_TALLY_KEY] = tally
    return tally


@pytest.fixture(scope="session")
def hardening_figures(request: pytest.FixtureRequest) -> list[str]:
    """Lines of measured figures (load, faults) to print in the terminal summary."""
    return request.config.stash.setdefault(_FIGURES_KEY, [])


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the fuzz tally and the measured figures, if those tests ran."""
    tally = terminalreporter.config.stash.get(_TALLY_KEY, None)
    if tally is not None and tally.cases:
        terminalreporter.write_line("server fuzz tally (hardening):")
        for line in tally.lines():
            terminalreporter.write_line(line)
    figures = terminalreporter.config.stash.get(_FIGURES_KEY, [])
    if figures:
        terminalreporter.write_line("hardening figures:")
        for line in figures:
            terminalreporter.write_line(f"  {line}")


@pytest.fixture(scope="module")
def fuzz_server() -> Iterator[FakeTogetherServer]:
    """A strict fake on a loopback server, without rate limits, with short connection timeouts."""
    fake = FakeTogether(seed=5, rate_limits="off", max_calls=500)
    with FakeTogetherServer(fake, idle_timeout_s=2.0, timeout_hold_s=1.0) as server:
        yield server
