"""Measurement 2 (and 3 over HTTP): the fake's loopback server against a minimal stdlib server.

The baseline is the smallest honest ``ThreadingHTTPServer``: HTTP/1.1 keep-alive, Nagle off (so a
kept-alive answer does not wait out the client's delayed ACK), a listen backlog that takes 32
clients connecting at once (as the fake's does), one canned body (the fake's own
answer to the same request) with ``Content-Type`` and ``Content-Length``. Load comes from client
threads in this process, each with its own keep-alive ``http.client`` connection, all started
together and stopped at a deadline; each burst alternates between the two servers.
"""

from __future__ import annotations

import functools
import http.client
import http.server
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import requests

from bench._harness import Row, Sampler, alternate, median, percentile, timed
from bench._inprocess import CLIENT_GOAL, RAW_BASELINE, raw_call
from bench._workload import (
    API_KEY,
    JSON_CONTENT_TYPE,
    MODEL_ID,
    PROMPT,
    SEED,
    Settings,
    canned_body,
    request_headers,
    wire_body,
)
from together_image import create_togetherai, generate_image
from together_image_fake import FakeTogether, FakeTogetherServer

SERVER_BASELINE = "stdlib ThreadingHTTPServer"
SERVER_SIDE = 512


class _CannedHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    body = b""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", JSON_CONTENT_TYPE)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: object) -> None:
        """Stay quiet, as a server under a benchmark should."""


class _CannedServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    # The stdlib backlog of 5 refuses connections when 32 clients connect at once.
    request_queue_size = 128


@contextmanager
def canned_server(body: bytes) -> Iterator[tuple[str, int]]:
    """Serve ``body`` to every POST on a free loopback port; yields ``(host, port)``."""
    handler = type("Handler", (_CannedHandler,), {"body": body})
    server = _CannedServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01})
    thread.start()
    try:
        yield "127.0.0.1", int(server.server_address[1])
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


@dataclass(frozen=True, kw_only=True)
class Burst:
    """The outcome of one load burst.

    Attributes:
        requests: Answers received.
        seconds: Wall time of the burst.
        latencies: Seconds per answered request.
        errors: Requests that failed or got a non-200 status.
    """

    requests: int
    seconds: float
    latencies: list[float]
    errors: int

    @property
    def rate(self) -> float:
        """Requests per second."""
        return self.requests / self.seconds


def load_burst(host: str, port: int, *, clients: int, seconds: float, body: bytes) -> Burst:
    """Run ``clients`` keep-alive clients against ``host:port`` for ``seconds``.

    Args:
        host: Server host.
        port: Server port.
        clients: Concurrent client threads, one connection each.
        seconds: How long they keep sending.
        body: The request body to POST to ``/v1/images/generations``.

    Returns:
        What came back.
    """
    headers = {**request_headers(), "Host": f"{host}:{port}", "User-Agent": "bench"}
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    start = threading.Barrier(clients + 1)
    deadline = [0.0]

    def client(number: int) -> None:
        connection = http.client.HTTPConnection(host, port, timeout=30)
        mine = latencies[number]
        start.wait()
        try:
            # At least one request each, even for a thread scheduled after the deadline.
            while True:
                began = time.perf_counter()
                connection.request("POST", "/v1/images/generations", body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                if response.status == 200:
                    mine.append(time.perf_counter() - began)
                else:
                    errors[number] += 1
                if began >= deadline[0]:
                    break
        except (OSError, http.client.HTTPException):
            errors[number] += 1
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    deadline[0] = began + seconds
    start.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    pooled = [value for mine in latencies for value in mine]
    return Burst(requests=len(pooled), seconds=elapsed, latencies=pooled, errors=sum(errors))


def _burst_sampler(
    target: tuple[str, int],
    kept: list[Burst],
    *,
    clients: int,
    seconds: float,
    body: bytes,
    before: Callable[[], None] = lambda: None,
) -> Sampler:
    """A sampler running one burst against ``target`` (after ``before()``), keeping it in ``kept``.

    Raises:
        RuntimeError: From the sampler, if any request failed or got a non-200 answer.
    """

    def sample() -> list[float]:
        before()
        burst = load_burst(*target, clients=clients, seconds=seconds, body=body)
        if burst.errors:
            raise RuntimeError(
                f"Expected every request to {target} to get 200, got {burst.errors} failures "
                f"out of {burst.requests + burst.errors}"
            )
        kept.append(burst)
        return [burst.rate]

    return sample


def server_rows(settings: Settings) -> list[Row]:
    """Measurement 2: throughput and p50/p99 latency, fake server vs the canned stdlib server.

    For information only: the load threads share this process's interpreter with both servers,
    so these figures measure the threads as much as the servers; measurement 8 gives the
    server's own cost, under load from another process.
    """
    rows: list[Row] = []
    request = wire_body(SERVER_SIDE, "base64")
    data = json.dumps(request).encode("utf-8")
    body = canned_body(request)
    fake = FakeTogether(rate_limits="off")
    with FakeTogetherServer(fake=fake) as server, canned_server(body) as (host, port):
        for clients in settings.client_counts:
            fake_bursts: list[Burst] = []
            base_bursts: list[Burst] = []
            load = functools.partial(
                _burst_sampler, clients=clients, seconds=settings.server_seconds, body=data
            )
            fake_rates, base_rates = alternate(
                [
                    load((server.host, server.port), fake_bursts, before=fake.reset),
                    load((host, port), base_bursts),
                ],
                rounds=settings.server_rounds,
            )
            # The warm-up burst is discarded from the latencies too.
            fake_lat = [v for b in fake_bursts[1:] for v in b.latencies]
            base_lat = [v for b in base_bursts[1:] for v in b.latencies]
            label = f"2 server {SERVER_SIDE}² b64, {clients} client{'s' if clients > 1 else ''}"
            rows.append(
                Row(
                    name=f"{label}: throughput",
                    baseline=SERVER_BASELINE,
                    fake=median(fake_rates),
                    base=median(base_rates),
                    unit="req/s",
                )
            )
            for fraction, name in ((0.5, "p50"), (0.99, "p99")):
                rows.append(
                    Row(
                        name=f"{label}: {name} latency",
                        baseline=SERVER_BASELINE,
                        fake=percentile(fake_lat, fraction) * 1000,
                        base=percentile(base_lat, fraction) * 1000,
                        unit="ms",
                    )
                )
    return rows


def client_overhead_http_rows(settings: Settings) -> list[Row]:
    """Measurement 3 over HTTP: ``generate_image`` vs raw ``requests`` against the fake server."""
    side = 1024
    with FakeTogetherServer(fake=FakeTogether()) as server:
        model = create_togetherai(api_key=API_KEY, base_url=server.base_url).image(MODEL_ID)
        size = f"{side}x{side}"

        def ours() -> object:
            return generate_image(model=model, prompt=PROMPT, size=size, seed=SEED, max_retries=0)

        raw = raw_call(requests.Session(), f"{server.base_url}/images/generations", side)
        ours_s, raw_s = alternate(
            [timed(ours, repeat=settings.repeat), timed(raw, repeat=settings.repeat)],
            rounds=settings.rounds,
        )
    return [
        Row(
            name=f"3 client overhead {side}² b64, over HTTP",
            baseline=RAW_BASELINE,
            fake=median(ours_s) * 1000,
            base=median(raw_s) * 1000,
            unit="ms",
            goal=CLIENT_GOAL,
        )
    ]
