"""Many clients at once: every request answered and logged exactly once (bounded count and time)."""

from __future__ import annotations

import http.client
import json
import threading
import time

from together_image_fake import FakeTogether
from together_image_fake._server import FakeTogetherServer

THREADS = 16
REQUESTS_PER_THREAD = 200
# A generous bound that only a hang would reach; it keeps the test from running forever.
DEADLINE_S = 120.0
BODY = json.dumps(
    {
        "model": "black-forest-labs/FLUX.1-schnell",
        "prompt": "a flock of quetzals",
        "width": 256,
        "height": 256,
        "seed": 1,
        "response_format": "url",
    }
).encode()


def client_thread(
    server: FakeTogetherServer, worker: int, statuses: dict[str, int], lock: threading.Lock
) -> None:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
    try:
        for index in range(REQUESTS_PER_THREAD):
            tag = f"{worker}-{index}"
            conn.request(
                "POST",
                "/v1/images/generations",
                body=BODY,
                headers={
                    "Authorization": "Bearer tgp_v1_load",
                    "Content-Type": "application/json",
                    "X-Load-Tag": tag,
                },
            )
            response = conn.getresponse()
            payload = json.loads(response.read())
            assert payload["data"][0]["url"]
            with lock:
                statuses[tag] = response.status
    finally:
        conn.close()


def test_sixteen_clients_times_two_hundred_requests() -> None:
    # Rate limits off: this measures the server, not the (faithful) per-model 429s.
    fake = FakeTogether(rate_limits="off")
    statuses: dict[str, int] = {}
    lock = threading.Lock()
    with FakeTogetherServer(fake) as server:
        threads = [
            threading.Thread(target=client_thread, args=(server, worker, statuses, lock))
            for worker in range(THREADS)
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(DEADLINE_S)
        elapsed = time.perf_counter() - started
        assert not any(thread.is_alive() for thread in threads)
    total = THREADS * REQUESTS_PER_THREAD
    print(f"\n{total} requests from {THREADS} threads in {elapsed:.2f} s ({total / elapsed:.0f}/s)")
    expected = {f"{w}-{i}" for w in range(THREADS) for i in range(REQUESTS_PER_THREAD)}
    assert set(statuses) == expected
    assert set(statuses.values()) == {200}
    logged = [call.headers["x-load-tag"] for call in fake.calls]
    assert len(logged) == total
    assert set(logged) == expected
    assert sorted(call.seq for call in fake.calls) == list(range(1, total + 1))
