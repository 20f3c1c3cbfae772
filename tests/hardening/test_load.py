"""Bounded load on the loopback server: 32 keep-alive clients, every request answered and logged
exactly once, and memory flat once the bounded call log and image cache are full.

``TOGETHER_IMAGE_LOAD_SECONDS`` (default 4) sets how long the main run lasts; the figures
(requests, throughput, latency percentiles, memory readings) are printed in the terminal summary.
"""

from __future__ import annotations

import base64
import gc
import http.client
import io
import itertools
import json
import os
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from together_image_fake import FakeRequest, FakeTogether, FakeTogetherServer

CLIENTS = 32
SECONDS = float(os.environ.get("TOGETHER_IMAGE_LOAD_SECONDS", "4"))
HEADERS = {"Authorization": "Bearer tgp_v1_load-key", "Content-Type": "application/json"}
BASE = {"model": "black-forest-labs/FLUX.1-schnell", "width": 256, "height": 256}

Body = Callable[[int, int], dict[str, Any]]


@dataclass
class LoadRun:
    """What the clients saw."""

    ids: list[list[str]] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    connections: list[int] = field(default_factory=list)
    elapsed: float = 0.0

    @property
    def requests(self) -> int:
        return sum(map(len, self.ids))


def run_clients(port: int, seconds: float, body: Body) -> LoadRun:
    """Run ``CLIENTS`` threads, each on one keep-alive connection, for ``seconds``."""
    run = LoadRun(ids=[[] for _ in range(CLIENTS)], connections=[0] * CLIENTS)
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(number: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        sockets: list[object] = []  # each socket object this client used, kept so ids stay unique
        latencies: list[float] = []
        try:
            while time.monotonic() < deadline:
                started = time.perf_counter()
                payload = json.dumps(body(number, len(run.ids[number]))).encode()
                conn.request("POST", "/v1/images/generations", body=payload, headers=HEADERS)
                if not sockets or conn.sock is not sockets[-1]:
                    sockets.append(conn.sock)
                response = conn.getresponse()
                data = response.read()
                latencies.append(time.perf_counter() - started)
                if response.status != 200:
                    with lock:
                        run.failures.append(f"{response.status}: {data[:200]!r}")
                    continue
                run.ids[number].append(json.loads(data)["id"])
        except (OSError, http.client.HTTPException) as error:
            with lock:
                run.failures.append(repr(error))
        finally:
            conn.close()
            with lock:
                run.latencies.extend(latencies)
                run.connections[number] = len(sockets)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run.elapsed = time.monotonic() - started
    return run


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


# Coverage measurement keeps a tracer per thread it has seen: its memory grows with every
# thread the load starts, so it is left out of the readings.
_NOT_COVERAGE = tracemalloc.Filter(False, "*/coverage/*", all_frames=True)


@pytest.fixture
def traced() -> Iterator[None]:
    tracemalloc.start(4)
    try:
        yield
    finally:
        tracemalloc.stop()


def _snapshot() -> tracemalloc.Snapshot:
    gc.collect()
    return tracemalloc.take_snapshot().filter_traces([_NOT_COVERAGE])


def _traced_bytes() -> int:
    return sum(stat.size for stat in _snapshot().statistics("filename"))


def test_keep_alive_clients_are_all_answered_and_logged_once(
    hardening_figures: list[str],
) -> None:
    fake = FakeTogether(seed=1, rate_limits="off", max_calls=1_000_000)
    with FakeTogetherServer(fake) as server:
        run = run_clients(server.port, SECONDS, lambda client, i: {**BASE, "prompt": "load"})
    assert run.failures == []
    assert run.connections == [1] * CLIENTS  # one kept-alive connection per client
    calls = fake.calls
    sent = [response_id for ids in run.ids for response_id in ids]
    logged = [str(call.response_id) for call in calls]
    assert len(set(sent)) == len(sent) == run.requests > 0
    assert sorted(logged) == sorted(sent)  # nothing lost, nothing logged twice
    assert [call.seq for call in calls] == list(range(1, len(calls) + 1))
    assert {call.status for call in calls} == {200}
    hardening_figures.append(
        f"load: {CLIENTS} keep-alive clients x {run.elapsed:.1f} s: {run.requests} requests, "
        f"{run.requests / run.elapsed:.0f} req/s, latency p50 "
        f"{_percentile(run.latencies, 0.5) * 1000:.1f} ms, p99 "
        f"{_percentile(run.latencies, 0.99) * 1000:.1f} ms, "
        f"max {max(run.latencies) * 1000:.1f} ms; 0 failed; "
        f"call log complete ({len(calls)} entries)"
    )


def measure_memory_under_churn() -> dict[str, Any]:
    """Churn a bounded fake through the server and read the traced heap after warm-up.

    Runs in a process of its own (``python -m hardening._memory_probe``): in the suite's process,
    coverage's tracers and other tests' leftovers grow the heap for reasons that are not the fake's.
    """
    limits = {"max_calls": 300, "max_image_bytes": 2_000_000}
    fake = FakeTogether(
        seed=2,
        rate_limits="off",
        max_calls=limits["max_calls"],
        max_image_bytes=limits["max_image_bytes"],
        image_cache_bytes=1_000_000,
    )

    unique = itertools.count()

    def churn(client: int, i: int) -> dict[str, Any]:
        # A new image every time (the negative prompt is part of what is drawn), base64 answers;
        # a fixed seed keeps the label text, and so the renderer's glyph cache, steady.
        return {
            **BASE,
            "prompt": "load",
            "seed": 7,
            "negative_prompt": str(next(unique)),
            "response_format": "base64",
        }

    readings = []
    total = 0
    failures: list[str] = []
    tracemalloc.start(4)
    try:
        with FakeTogetherServer(fake) as server:
            # Warm-up lasts until the call log is full and its images have filled the image cache
            # several times over, however slow the machine.
            warm_up = 0
            while warm_up < 2 * limits["max_calls"]:
                warm_up += run_clients(server.port, 0.5, churn).requests
            first = _snapshot()  # kept to explain any growth
            readings.append(_traced_bytes())
            for _ in range(3):
                run = run_clients(server.port, 1.0, churn)
                failures.extend(run.failures)
                total += run.requests
                readings.append(_traced_bytes())
            growth = [str(stat) for stat in _snapshot().compare_to(first, "lineno")[:8]]
    finally:
        tracemalloc.stop()
    calls = fake.calls
    return {
        "limits": limits,
        "warm_up": warm_up,
        "total": total,
        "failures": failures,
        "readings": readings,
        "growth": growth,
        "calls": len(calls),
        "stored_bytes": sum(call.stored_bytes() for call in calls),
    }


def test_memory_is_flat_once_the_bounded_log_and_cache_are_full(
    hardening_figures: list[str],
) -> None:
    probe = subprocess.run(
        [sys.executable, "-m", "hardening._memory_probe"],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr[-4000:]
    figures = json.loads(probe.stdout.splitlines()[-1])
    limits, readings = figures["limits"], figures["readings"]
    assert figures["failures"] == []
    assert figures["calls"] == limits["max_calls"]
    assert figures["stored_bytes"] <= limits["max_image_bytes"]
    spread = max(readings) - min(readings)
    # Retaining even the images alone past the bounds would add megabytes.
    assert spread < 512 * 1024, (readings, figures["growth"])
    hardening_figures.append(
        f"memory: {figures['warm_up']} warm-up + {figures['total']} requests with a new image "
        f"each; traced Python heap after warm-up {min(readings) / 1e6:.2f}-"
        f"{max(readings) / 1e6:.2f} MB (spread {spread / 1024:.0f} KiB); log "
        f"{figures['calls']}/{limits['max_calls']} calls, "
        f"{figures['stored_bytes'] / 1e6:.2f}/{limits['max_image_bytes'] / 1e6:.0f} MB of images"
    )


def _edit_request(image_url: str) -> FakeRequest:
    body = {**BASE, "model": "black-forest-labs/FLUX.1-kontext-pro", "prompt": "x"}
    return FakeRequest(
        method="POST",
        path="/v1/images/generations",
        headers={key.lower(): value for key, value in HEADERS.items()},
        body=json.dumps({**body, "image_url": image_url}).encode(),
    )


def test_edit_bodies_are_bounded_by_max_image_bytes(traced: None) -> None:
    buffer = io.BytesIO()
    Image.frombytes("RGB", (200, 200), os.urandom(200 * 200 * 3)).save(buffer, "PNG")
    image_url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    # Kontext answers at about one megapixel whatever the size asked [3P Orb]: the render cache
    # (bounded on its own, image_cache_bytes) is off so that only the call log is measured.
    fake = FakeTogether(rate_limits="off", max_image_bytes=100_000, image_cache_bytes=0)
    for _ in range(3):
        assert fake.handle(_edit_request(image_url)).status == 200
    before = _traced_bytes()
    for _ in range(20):
        fake.handle(_edit_request(image_url))
    assert _traced_bytes() - before < 1_000_000
