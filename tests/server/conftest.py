"""Server test fixtures: an echo backend that shows what the adapter parsed, and raw-socket helpers.

The echo backend answers with the ``FakeRequest`` it received as JSON and carries out the fault
named by the path (``/_echo/reset``, ``/_echo/timeout``, ``/_echo/delay``, ``/_echo/crash``; its
answers carry no ``Content-Length`` except on ``/_echo/sized``), so adapter behaviour is tested
apart from the real backend's rules; behavioural tests use the real ``FakeTogether``.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator

import pytest

from together_image_fake import FakeTogether
from together_image_fake._server import FakeTogetherServer
from together_image_fake._wire import FakeRequest, FakeResponse

SERVER_KEY = "tgp_v1_server-test-key"


class EchoBackend:
    """A backend that echoes each request as JSON and records it."""

    def __init__(self) -> None:
        self.requests: list[FakeRequest] = []
        self._lock = threading.Lock()

    def handle(self, request: FakeRequest) -> FakeResponse:
        with self._lock:
            self.requests.append(request)
        if request.path == "/_echo/reset":
            return FakeResponse(status=200, action="reset")
        if request.path == "/_echo/timeout":
            return FakeResponse(status=200, action="timeout")
        if request.path == "/_echo/crash":
            raise RuntimeError("the echo backend crashed on purpose")
        body = json.dumps(
            {
                "method": request.method,
                "path": request.path,
                "query": request.query,
                "headers": dict(request.headers),
                "body": request.body.decode("latin-1"),
                "origin": request.origin,
            }
        ).encode()
        delay = 1.0 if request.path == "/_echo/delay" else 0.0
        headers: tuple[tuple[str, str], ...] = (
            ("Content-Type", "application/json"),
            ("X-Echo", "1"),
        )
        if request.path == "/_echo/sized":
            # A deliberately wrong length: the adapter must write the real one.
            headers += (("Content-Length", "999"),)
        return FakeResponse(status=200, headers=headers, body=body, delay_s=delay)


@pytest.fixture(scope="module")
def shared_server() -> Iterator[FakeTogetherServer]:
    """The real fake behind one server per module; only ``SERVER_KEY`` is accepted."""
    fake = FakeTogether(api_keys=[SERVER_KEY], seed=11)
    with FakeTogetherServer(fake, timeout_hold_s=5.0) as server:
        yield server


@pytest.fixture
def fake_server(shared_server: FakeTogetherServer) -> FakeTogetherServer:
    """The module's server with the fake's state reset for this test."""
    shared_server.fake.reset()
    return shared_server


@pytest.fixture
def echo_backend() -> EchoBackend:
    return EchoBackend()


@pytest.fixture
def echo_server(echo_backend: EchoBackend) -> Iterator[FakeTogetherServer]:
    with FakeTogetherServer(echo_backend, timeout_hold_s=5.0, idle_timeout_s=5.0) as server:
        yield server


def raw_exchange(server: FakeTogetherServer, data: bytes, *, timeout: float = 5.0) -> bytes:
    """Send raw bytes on a fresh connection, half-close, and read until the server closes."""
    with socket.create_connection((server.host, server.port), timeout=timeout) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        chunks: list[bytes] = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def split_http(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Parse one raw HTTP/1.1 response into (status, lower-cased headers, body)."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body


def connection_threads(server: FakeTogetherServer) -> list[threading.Thread]:
    """The live per-connection threads of ``server`` (other tests' servers may run too)."""
    name = f"together-fake-conn:{server.port}"
    return [thread for thread in threading.enumerate() if thread.name == name]
