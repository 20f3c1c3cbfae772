"""Measurement 6: what having the package installed costs a trivial pytest session.

A one-test file runs with pytest in a subprocess, once in an environment where together-image is
installed and once in the same environment without it. "Without it" is the running interpreter's
own site-packages minus the package's files: a folder of links to every entry of site-packages
but together-image's (its dist-info, and the package folders or the editable-install hook), put on
the path with ``site.addsitedir`` (so ``.pth`` files work as at startup) by an interpreter started
with ``-S``. Both sides start the same way from such a folder; only the package's presence
differs, so its ``pytest11`` plugin and ``hypothesis`` entry point are what the figure measures.
Other distributions' pytest plugins (pytest-xdist, pytest-httpserver...) are left out on both
sides: the session is pytest alone, or pytest with Hypothesis, the floor a user's session has.
The pair runs with Hypothesis installed and, by hiding it too, without.

CPU (user + system) comes from the kernel's account of the finished child (``os.wait4``), so
interpreter start and exit count; peak RSS is the child's own high-water mark (Linux
``/proc/self/status``), which it prints as it ends.
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from bench._harness import Goal, Row, alternate, median

PACKAGE = "together-image"
HYPOTHESIS = "hypothesis"
SESSION_GOAL = Goal(op="<=", limit=1.05)
BASELINE = "same session, package not installed"

TRIVIAL_TEST = '''"""A trivial test: what every pytest session of a user pays at least."""


def test_trivial():
    assert 1 + 1 == 2
'''

# The peak resident set is the child's own high-water mark (VmHWM): the kernel's rusage figure
# for a child (ru_maxrss) starts at the parent's peak when the child is spawned by vfork.
_CHILD = """
import site, sys
site.addsitedir(sys.argv[1])
import pytest
status = pytest.main(["-q", "-p", "no:cacheprovider", "test_trivial.py"])
with open("/proc/self/status") as lines:
    peak = next(line.split()[1] for line in lines if line.startswith("VmHWM:"))
print(f"\\npeak_rss_kib {peak}")
raise SystemExit(status)
"""


@dataclass(frozen=True, kw_only=True)
class Usage:
    """What one finished child process used: CPU seconds (user + system), peak RSS in MiB."""

    cpu: float
    rss_mib: float


def _site_dirs() -> list[str]:
    paths = sysconfig.get_paths()
    return list(dict.fromkeys((paths["purelib"], paths["platlib"])))


def _top_level_entries(distribution: str) -> set[str]:
    """The names directly in site-packages that belong to ``distribution`` (empty if absent).

    Looked up in site-packages only: a source checkout's ``*.egg-info`` on the path (the current
    directory) describes the checkout, not what is installed.
    """
    found = importlib.metadata.distributions(name=distribution, path=_site_dirs())
    files = next(iter(found), None)
    if files is None:
        return set()
    return {
        file.parts[0]
        for file in files.files or []
        if file.parts and file.parts[0] not in ("..", "__pycache__")
    }


def other_pytest_plugins() -> set[str]:
    """Distributions but pytest, Hypothesis and this package that add pytest plugins."""
    return {
        name
        for distribution in importlib.metadata.distributions(path=_site_dirs())
        if (name := distribution.metadata["Name"])
        and name.lower() not in (PACKAGE, HYPOTHESIS, "pytest")
        and any(entry.group == "pytest11" for entry in distribution.entry_points)
    }


def shadow_site(folder: Path, hidden_distributions: Iterable[str]) -> Path:
    """A folder of links to this interpreter's site-packages entries but those of
    ``hidden_distributions``; returns it."""
    hidden = set().union(*(_top_level_entries(name) for name in hidden_distributions))
    folder.mkdir(parents=True)
    for source in _site_dirs():
        for entry in Path(source).iterdir():
            target = folder / entry.name
            if entry.name not in hidden and entry.name != "__pycache__" and not target.exists():
                target.symlink_to(entry)
    return folder


def reported_peak_mib(output: str) -> float:
    """The ``peak_rss_kib N`` figure a child printed last, in MiB.

    Raises:
        RuntimeError: If the output has no such line.
    """
    for line in reversed(output.splitlines()):
        if line.startswith("peak_rss_kib "):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"Expected a 'peak_rss_kib N' line from the child, got:\n{output[-2000:]}")


def run_session(site_dir: Path, project: Path) -> Usage:
    """Run pytest on the trivial test in ``project`` with ``site_dir`` as site-packages.

    Raises:
        RuntimeError: If the session does not pass (with the end of its output).
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTHON", "COVERAGE_", "PYTEST_", "HYPOTHESIS_"))
    }
    with tempfile.TemporaryFile() as output:
        child = subprocess.Popen(
            [sys.executable, "-S", "-c", _CHILD, str(site_dir)],
            cwd=project,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        # wait4 gives this child's own CPU, interpreter start and exit included.
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        text = output.read().decode("utf-8", "replace")
    if child.returncode != 0:
        raise RuntimeError(
            f"Expected the trivial pytest session to pass, got exit code {child.returncode}:"
            f"\n{text[-2000:]}"
        )
    return Usage(cpu=usage.ru_utime + usage.ru_stime, rss_mib=reported_peak_mib(text))


def slug(label: str) -> str:
    """``"no Hypothesis"`` -> ``"no-hypothesis"``."""
    return label.replace(" ", "-").lower()


def _session_pair(
    label: str, *, with_site: Path, without_site: Path, project: Path, rounds: int
) -> list[Row]:
    """Alternate sessions with and without the package; CPU and peak RSS rows."""
    kept: dict[Path, list[Usage]] = {with_site: [], without_site: []}

    def sampler(site_dir: Path) -> Callable[[], list[float]]:
        def sample() -> list[float]:
            usage = run_session(site_dir, project)
            kept[site_dir].append(usage)
            return [usage.cpu]

        return sample

    with_cpu, without_cpu = alternate([sampler(with_site), sampler(without_site)], rounds=rounds)
    # The first run of each side is alternate()'s warm-up, dropped from the RSS too.
    return [
        Row(
            name=f"6a trivial pytest session, {label}: CPU",
            baseline=BASELINE,
            fake=median(with_cpu) * 1000,
            base=median(without_cpu) * 1000,
            unit="ms",
            goal=SESSION_GOAL,
        ),
        Row(
            name=f"6a trivial pytest session, {label}: peak RSS",
            baseline=BASELINE,
            fake=median([usage.rss_mib for usage in kept[with_site][1:]]),
            base=median([usage.rss_mib for usage in kept[without_site][1:]]),
            unit="MiB",
        ),
    ]


def session_rows(rounds: int) -> list[Row]:
    """Measurement 6: CPU and peak RSS of a trivial session, package installed vs not."""
    rows: list[Row] = []
    others = other_pytest_plugins()
    hypothesis_present = bool(_top_level_entries(HYPOTHESIS))
    with tempfile.TemporaryDirectory(prefix="together-image-bench-") as temporary:
        root = Path(temporary)
        project = root / "project"
        project.mkdir()
        (project / "test_trivial.py").write_text(TRIVIAL_TEST, encoding="utf-8")
        variants = [("Hypothesis installed", set()), ("no Hypothesis", {HYPOTHESIS})]
        for label, hide in variants:
            if not hypothesis_present and not hide:
                for what, unit in (("CPU", "ms"), ("peak RSS", "MiB")):
                    rows.append(
                        Row.missing(
                            name=f"6a trivial pytest session, {label}: {what}",
                            baseline=BASELINE,
                            unit=unit,  # type: ignore[arg-type]
                            note="Hypothesis not installed",
                        )
                    )
                continue
            rows.extend(
                _session_pair(
                    label,
                    with_site=shadow_site(root / f"with-{slug(label)}", others | hide),
                    without_site=shadow_site(
                        root / f"without-{slug(label)}", others | hide | {PACKAGE}
                    ),
                    project=project,
                    rounds=rounds,
                )
            )
    return rows
