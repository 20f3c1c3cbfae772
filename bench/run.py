"""The bench's command line: run the chosen sections and print the table.

Sections: 1 in-process fake vs a ``responses`` callback; 2 server vs a stdlib server; 3 client
overhead vs raw ``requests``; 4 scaling with pixels and ``n``; 5 a downstream pytest suite; then
what the fake costs its users, one row per figure (6a-9f): 6 a trivial pytest session with and
without the package installed; 7 one test, a repeated call, a new-prompt call (CPU); 8 server CPU
per request under load from another process; 9 peak memory after many new-prompt calls.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from collections.abc import Callable, Sequence

from bench._costs import cost_rows
from bench._harness import Row, format_table
from bench._inprocess import client_overhead_rows, in_process_rows
from bench._memory import memory_rows
from bench._scaling import scaling_rows, scaling_series
from bench._server import client_overhead_http_rows, server_rows
from bench._server_cpu import server_cpu_rows
from bench._session import session_rows
from bench._suite import suite_rows
from bench._workload import FULL, QUICK, Settings

SECTIONS = ("1", "2", "3", "4", "5", "6", "7", "8", "9")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line (``--quick``, ``--only N``...)."""
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Measure the together-image fake against named baselines and print ratios.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="fewer repetitions: under a minute (CI smoke run)"
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=SECTIONS,
        metavar="N",
        help="run only section N (1 in-process, 2 server, 3 client, 4 scaling, 5 suite, "
        "6 pytest session, 7 test and call CPU, 8 server CPU, 9 memory); repeatable",
    )
    return parser.parse_args(argv)


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_sections(settings: Settings, sections: Sequence[str]) -> tuple[list[Row], list[str]]:
    """Run ``sections`` in order; return the table rows and the detail lines (scaling curves)."""
    rows: list[Row] = []
    details: list[str] = []

    def scaling() -> list[Row]:
        series = scaling_series(settings)
        details.extend(s.describe() for s in series)
        return scaling_rows(series)

    steps: dict[str, Callable[[], list[Row]]] = {
        "1": lambda: in_process_rows(settings),
        "2": lambda: server_rows(settings),
        "3": lambda: client_overhead_rows(settings) + client_overhead_http_rows(settings),
        "4": scaling,
        "5": lambda: suite_rows(settings.suite_calls, settings.suite_rounds),
        "6": lambda: session_rows(settings.session_rounds),
        "7": lambda: cost_rows(settings),
        "8": lambda: server_cpu_rows(settings),
        "9": lambda: memory_rows(settings.memory_calls, 1 if settings.quick else 3),
    }
    for section in sections:
        started = time.perf_counter()
        rows.extend(steps[section]())
        _progress(f"section {section} done in {time.perf_counter() - started:.1f} s")
    return rows, details


def main(argv: Sequence[str] | None = None) -> int:
    """Run the bench and print the table; return the exit status (0: it ran)."""
    args = parse_args(argv)
    settings = QUICK if args.quick else FULL
    sections = [s for s in SECTIONS if args.only is None or s in args.only]
    started = time.perf_counter()
    rows, details = run_sections(settings, sections)
    elapsed = time.perf_counter() - started
    mode = "quick" if settings.quick else "full"
    print(
        f"together-image bench ({mode} mode, Python {platform.python_version()}, "
        f"{elapsed:.1f} s); medians of alternated runs, ratio = fake / baseline"
    )
    print(format_table(rows))
    for line in details:
        print(line)
    return 0
