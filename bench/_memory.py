"""Measurement 9: peak memory of a process that makes many calls with new prompts.

Each contender runs in a process of its own (``python -m bench._memory KIND CALLS BODY CASSETTE``):
it imports only what it needs, starts one interceptor (or server) for the whole run, as a long
test would, and makes CALLS ``generate_image`` calls at 512², each with a prompt never asked
before, keeping none of the results, and prints its peak resident set: the high-water mark of
its own memory in ``/proc/self/status`` (Linux), read before the interceptor stops. The baseline is
a hand-written ``responses`` mock answering the fake's own bytes (read from the file BODY); peers
as in measurement 7 when installed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from bench._harness import Goal, Row, median
from bench._peers import (
    HTTPSERVER,
    PEERS,
    VCRPY,
    canned_httpserver,
    expect_generation,
    installed,
    peer_rows,
    vcr_replay,
    write_cassette,
)
from bench._session import reported_peak_mib
from bench._workload import API_KEY, GENERATIONS_URL, JSON_CONTENT_TYPE, MODEL_ID, PROMPT

MEMORY_SIDE = 512
MOCK_BASELINE = "responses mock, same bytes"
MEMORY_GOAL = Goal(op="<=", limit=1.3)
KINDS = ("fake", "mock", VCRPY, HTTPSERVER)
ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def _mock(body: bytes) -> Iterator[str | None]:
    import responses

    with responses.RequestsMock() as mock:
        mock.add_callback(
            "POST",
            GENERATIONS_URL,
            callback=lambda request: (200, {"Content-Type": JSON_CONTENT_TYPE}, body),
        )
        yield None


@contextmanager
def _fake() -> Iterator[str | None]:
    from together_image_fake import FakeTogether

    with FakeTogether():
        yield None


@contextmanager
def _replayed(cassette: Path) -> Iterator[str | None]:
    with vcr_replay(cassette)():
        yield None


@contextmanager
def _served(body: bytes) -> Iterator[str | None]:
    with canned_httpserver(body) as server:
        expect_generation(server, body)
        yield server.url_for("/v1")


def _contender(kind: str, body: bytes, cassette: str) -> AbstractContextManager[str | None]:
    """What answers, entered for the whole run; yields the base URL to call, or ``None``."""
    if kind == "fake":
        return _fake()
    if kind == "mock":
        return _mock(body)
    if kind == VCRPY:
        return _replayed(Path(cassette))
    return _served(body)


def child(kind: str, calls: int, body_path: str, cassette: str) -> None:
    """The child process's work: ``calls`` new-prompt calls answered by ``kind``."""
    from together_image import create_togetherai, generate_image

    body = Path(body_path).read_bytes()
    with _contender(kind, body, cassette) as base_url:
        model = create_togetherai(api_key=API_KEY, base_url=base_url).image(MODEL_ID)
        size = f"{MEMORY_SIDE}x{MEMORY_SIDE}"
        for number in range(calls):
            generate_image(model=model, prompt=f"{PROMPT} #{number}", size=size, max_retries=0)
        # Read while the interceptor is still up: what the fake keeps is the point.
        with open("/proc/self/status", encoding="ascii") as lines:
            peak = next(line.split()[1] for line in lines if line.startswith("VmHWM:"))
    print(f"peak_rss_kib {peak}")


def peak_rss_mib(kind: str, calls: int, body_path: Path, cassette: Path) -> float:
    """Run the child for ``kind``; return its peak resident set in MiB.

    Raises:
        RuntimeError: If the child fails (with the end of its output).
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith("COVERAGE_")}
    arguments = [kind, str(calls), str(body_path), str(cassette)]
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "bench._memory", *arguments],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        returncode = process.wait()
        output.seek(0)
        text = output.read().decode("utf-8", "replace")
    if returncode != 0:
        raise RuntimeError(
            f"Expected the {kind} memory run to succeed, got exit code {returncode}:\n"
            f"{text[-2000:]}"
        )
    return reported_peak_mib(text)


def memory_rows(calls: int, rounds: int) -> list[Row]:
    """Measurement 9: peak RSS after ``calls`` new-prompt calls, fake vs mock vs peers."""
    from bench._workload import canned_body, wire_body

    with tempfile.TemporaryDirectory(prefix="together-image-bench-") as temporary:
        folder = Path(temporary)
        body = canned_body(wire_body(MEMORY_SIDE, "base64"))
        body_path = folder / "body.json"
        body_path.write_bytes(body)
        cassette = folder / "generation.yaml"
        kinds = [kind for kind in KINDS if kind not in PEERS or installed(kind)]
        if VCRPY in kinds:
            write_cassette(cassette, MEMORY_SIDE, body)
        peaks: dict[str, list[float]] = {kind: [] for kind in kinds}
        for _ in range(rounds):
            for kind in kinds:
                peaks[kind].append(peak_rss_mib(kind, calls, body_path, cassette))
    mib = {kind: median(values) for kind, values in peaks.items()}
    base = mib["mock"]
    return [
        Row(
            name=f"9f peak RSS after {calls} new-prompt calls, {MEMORY_SIDE}²",
            baseline=MOCK_BASELINE,
            fake=mib["fake"],
            base=base,
            unit="MiB",
            goal=MEMORY_GOAL,
        ),
        *peer_rows("9f", baseline=MOCK_BASELINE, unit="MiB", measured=mib, base=base),
    ]


if __name__ == "__main__":
    child(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4])
