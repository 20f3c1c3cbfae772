"""Bounds that keep one client from exhausting the fake: input images bounded per side and decoded
once, a bound on renders in flight, no request smuggling, and connections that idle sockets cannot
starve. Loopback only; every test bounded in count and time."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import resource
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest
import requests
from PIL import Image, ImageFile

from together_image_fake import FakeRequest, FakeTogether, FakeTogetherServer

from ._raw import assert_real_error, exchange, request_bytes

KONTEXT = "black-forest-labs/FLUX.1-kontext-pro"
SCHNELL = "black-forest-labs/FLUX.1-schnell"
KEY = "tgp_v1_resource-bounds-key"
HEADERS = {"authorization": f"Bearer {KEY}", "content-type": "application/json"}


def _png(width: int, height: int, *, noise: bool = False) -> bytes:
    if noise:
        image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    else:
        image = Image.new("L", (width, height))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _edit(image: bytes) -> FakeRequest:
    body = {
        "model": KONTEXT,
        "prompt": "make it snow",
        "width": 256,
        "height": 256,
        "image_url": "data:image/png;base64," + base64.b64encode(image).decode(),
    }
    return FakeRequest(
        method="POST",
        path="/v1/images/generations",
        headers=HEADERS,
        body=json.dumps(body).encode(),
    )


def test_item09_input_images_are_bounded_per_side_and_decoded_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakeTogether(rate_limits="off")
    # Long thin images: a small area, one side far beyond any real photo.
    for width, height in ((16384, 2), (2, 16384), (8193, 16), (1, 16_777_216)):
        answer = fake.handle(_edit(_png(width, height)))
        assert answer.status == 400, (width, height)
        error = json.loads(answer.body)["error"]
        assert "'image_url'" in error["message"]
        assert f"{width}x{height}" in error["message"]
        assert "side" in error["message"]
    assert fake.handle(_edit(_png(8192, 16))).status == 200

    decodes: list[tuple[int, int]] = []
    load = ImageFile.ImageFile.load

    def counting_load(image: ImageFile.ImageFile) -> object:
        if image.tile and image.size == (300, 200):
            decodes.append(image.size)
        return load(image)

    monkeypatch.setattr(ImageFile.ImageFile, "load", counting_load)
    # Fresh pixels, so no cache anywhere has seen this input.
    answer = fake.handle(_edit(_png(300, 200, noise=True)))
    assert answer.status == 200
    assert len(decodes) == 1


class HoldingClock:
    """Holds every thread but the main one at its second clock reading (the start of its work)
    until released, and counts how many are held at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._readings: dict[int, int] = {}
        self.held = 0
        self.most_held = 0
        self.release = threading.Event()
        self.changed = threading.Condition(self._lock)

    def __call__(self) -> float:
        ident = threading.get_ident()
        with self._lock:
            count = self._readings[ident] = self._readings.get(ident, 0) + 1
            hold = ident != threading.main_thread().ident and count == 2
            if hold:
                self.held += 1
                self.most_held = max(self.most_held, self.held)
                self.changed.notify_all()
        if hold:
            self.release.wait(30)
            with self._lock:
                self.held -= 1
        return time.time()

    def wait_until_held(self, count: int, timeout: float) -> bool:
        with self._lock:
            return self.changed.wait_for(lambda: self.held >= count, timeout)


def _generate(prompt: str) -> FakeRequest:
    body = {"model": SCHNELL, "prompt": prompt, "width": 256, "height": 256}
    return FakeRequest(
        method="POST",
        path="/v1/images/generations",
        headers=HEADERS,
        body=json.dumps(body).encode(),
    )


@pytest.mark.parametrize("slots", [None, 2])
def test_item10_renders_in_flight_are_bounded(slots: int | None) -> None:
    clock = HoldingClock()
    options = {} if slots is None else {"max_concurrent_renders": slots}
    fake = FakeTogether(rate_limits="off", clock=clock, **options)
    statuses: list[int] = []
    senders = [
        threading.Thread(target=lambda i=i: statuses.append(fake.handle(_generate(f"p{i}")).status))
        for i in range(12)
    ]
    for sender in senders:
        sender.start()
    try:
        assert clock.wait_until_held(1, 10), "no render started"
        # Would more start? Give them the chance; the bound (at most 8) must hold them back.
        assert not clock.wait_until_held(9, 1.0), f"{clock.held} renders in flight"
        limit = fake.max_concurrent_renders
        assert limit == (slots or limit)
        assert 1 <= limit <= 8
        assert clock.wait_until_held(limit, 10), "fewer renders started than the bound allows"
        assert not clock.wait_until_held(limit + 1, 0.5), f"{clock.held} renders in flight"
    finally:
        clock.release.set()
        for sender in senders:
            sender.join(30)
    # The others waited their turn: every request was answered.
    assert statuses == [200] * 12
    assert clock.most_held == limit


@pytest.fixture
def smuggling_server() -> Iterator[FakeTogetherServer]:
    with FakeTogetherServer(FakeTogether(seed=6, rate_limits="off"), idle_timeout_s=5) as server:
        yield server


def test_item15_chunked_with_content_length_is_refused(
    smuggling_server: FakeTogetherServer,
) -> None:
    smuggled = (
        b"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Authorization: Bearer " + KEY.encode() + b"\r\n\r\n"
    )
    chunked = b"0\r\n\r\n" + smuggled
    for transfer_encoding in ("chunked", "Chunked", " chunked"):
        headers = {
            "Host": "127.0.0.1",
            "Authorization": f"Bearer {KEY}",
            "Content-Type": "application/json",
            "Content-Length": str(len(chunked)),
            "Transfer-Encoding": transfer_encoding,
        }
        responses = exchange(smuggling_server.port, request_bytes(headers=headers, body=chunked))
        assert len(responses) == 1, [r.status for r in responses]
        assert responses[0].status == 400
        error = assert_real_error(responses[0])
        assert "Transfer-Encoding" in error["message"]
        assert "Content-Length" in error["message"]
        assert responses[0].headers.get("connection") == "close"
    assert [call.path for call in smuggling_server.fake.calls] == []


def _announced_port(process: subprocess.Popen[str]) -> int:
    assert process.stdout is not None
    first = process.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:(\d+)/v1", first)
    assert match, first
    return int(match.group(1))


def _open_idle(port: int, count: int) -> list[socket.socket]:
    """Open ``count`` connections that never send a byte (non-blocking: a full backlog never
    stalls the test)."""
    sockets = []
    for _ in range(count):
        sock = socket.socket()
        sock.setblocking(False)
        sock.connect_ex(("127.0.0.1", port))
        sockets.append(sock)
    return sockets


def test_item16_idle_sockets_cannot_starve_a_normal_request() -> None:
    # The audit's 1,100 idle sockets against a 1,024-descriptor limit, scaled down: 300 against 128.
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    process = subprocess.Popen(
        [sys.executable, "-m", "together_image_fake", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (128, hard)),
    )
    idle: list[socket.socket] = []
    try:
        port = _announced_port(process)
        idle = _open_idle(port, 300)
        answer = requests.get(
            f"http://127.0.0.1:{port}/v1/models",
            headers={"Authorization": f"Bearer {KEY}"},
            timeout=(10, 10),
        )
        assert answer.status_code == 200
    finally:
        for sock in idle:
            sock.close()
        process.terminate()
        process.communicate(timeout=30)


def test_item16_connections_beyond_the_bound_evict_idle_ones() -> None:
    with FakeTogetherServer(FakeTogether(), max_connections=8) as server:
        idle = _open_idle(server.port, 40)
        try:
            for _ in range(3):
                answer = requests.get(
                    f"{server.base_url}/models",
                    headers={"Authorization": f"Bearer {KEY}"},
                    timeout=(10, 10),
                )
                assert answer.status_code == 200
        finally:
            for sock in idle:
                sock.close()
