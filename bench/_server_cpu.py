"""Measurement 8: the server's CPU per request, under load from another process.

The servers (the fake's ``FakeTogetherServer``, the stdlib canned server of measurement 2, and
pytest-httpserver with a canned body when installed) run in this process; the load comes from
``bench/_loadgen.py`` in a child process, so no load thread shares the servers' interpreter. Each
burst sends requests with prompts never sent before (512², base64); this process's CPU time
(``time.process_time``: user + system of every thread, from the kernel's per-process clock in
nanoseconds, where ``os.times`` counts 10 ms ticks) is read before the command and after the child
reports the burst done, and divided by the requests sent. This process does nothing else
meanwhile: its main thread waits on the child's pipe.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from bench._harness import Goal, Row, Sampler, alternate, median
from bench._peers import (
    HTTPSERVER,
    canned_httpserver,
    expect_generation,
    installed,
    peer_rows,
)
from bench._server import SERVER_SIDE, canned_server
from bench._workload import Settings, canned_body, wire_body
from together_image_fake import FakeTogether, FakeTogetherServer

CANNED_BASELINE = "stdlib canned server, same bytes"
SERVER_CPU_GOAL = Goal(op="<=", limit=2.0)
FAKE = "fake"
Target = tuple[tuple[str, int], Callable[[], None]]
LOADGEN = Path(__file__).with_name("_loadgen.py")


class LoadGenerator:
    """The child process that sends the requests; one for the whole measurement."""

    def __init__(self, template: dict[str, object]) -> None:
        self._child = subprocess.Popen(
            [sys.executable, str(LOADGEN), json.dumps(template)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def burst(self, host: str, port: int, count: int) -> None:
        """Have the child send ``count`` requests to ``host:port`` and wait until it has.

        Raises:
            RuntimeError: If any request failed or got a non-200 answer.
        """
        assert self._child.stdin is not None
        assert self._child.stdout is not None
        self._child.stdin.write(f"{host} {port} {count}\n")
        self._child.stdin.flush()
        reply = self._child.stdout.readline().strip()
        if reply != "done 0":
            raise RuntimeError(
                f"Expected all {count} requests to {host}:{port} to get 200, got: {reply}"
            )

    def close(self) -> None:
        """End the child (it exits when its input closes)."""
        assert self._child.stdin is not None
        self._child.stdin.close()
        self._child.wait(timeout=30)


def _per_request(
    generator: LoadGenerator,
    target: tuple[str, int],
    count: int,
    before: Callable[[], None] = lambda: None,
) -> Sampler:
    def sample() -> list[float]:
        before()
        started = time.process_time()
        generator.burst(*target, count)
        return [(time.process_time() - started) / count]

    return sample


@contextmanager
def _started_servers(body: bytes) -> Iterator[dict[str, Target]]:
    """The servers to load, by name: ``(host, port)`` and what to do before each burst."""
    with ExitStack() as stack:
        fake = FakeTogether(rate_limits="off")
        server = stack.enter_context(FakeTogetherServer(fake=fake))
        servers: dict[str, Target] = {
            FAKE: ((server.host, server.port), fake.reset),
            CANNED_BASELINE: (stack.enter_context(canned_server(body)), lambda: None),
        }
        if installed(HTTPSERVER):
            peer = stack.enter_context(canned_httpserver(body))
            expect_generation(peer, body)
            servers[HTTPSERVER] = ((peer.host, peer.port), lambda: None)
        yield servers


def server_cpu_rows(settings: Settings) -> list[Row]:
    """Measurement 8: server-process CPU per request, fake vs canned stdlib server vs peer."""
    template = wire_body(SERVER_SIDE, "base64")
    body = canned_body(template)
    generator = LoadGenerator(template)
    try:
        with _started_servers(body) as servers:
            names = list(servers)
            pooled = alternate(
                [
                    _per_request(generator, target, settings.load_requests, before)
                    for target, before in servers.values()
                ],
                rounds=settings.server_rounds,
            )
    finally:
        generator.close()
    samples = dict(zip(names, pooled, strict=True))
    ms = {who: median(values) * 1000 for who, values in samples.items()}
    base = ms[CANNED_BASELINE]
    name = f"8e server CPU per request, new prompt, {SERVER_SIDE}² (load from another process)"
    return [
        Row(
            name=name,
            baseline=CANNED_BASELINE,
            fake=ms[FAKE],
            base=base,
            unit="ms",
            goal=SERVER_CPU_GOAL,
        ),
        # vcrpy replays inside a client process: it has no server to compare.
        *peer_rows(
            "8e",
            baseline=CANNED_BASELINE,
            unit="ms",
            measured=ms,
            base=base,
            peers=(HTTPSERVER,),
        ),
    ]
