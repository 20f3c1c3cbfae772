"""The HTTP adapter on its own: request parsing, keep-alive, faults, hostile input, shutdown."""

from __future__ import annotations

import http.client
import json
import logging
import socket
import threading
import time
from collections.abc import Callable

import pytest
import requests

from together_image_fake._server import FakeTogetherServer

from .conftest import EchoBackend, connection_threads, raw_exchange, split_http


def wait_until(predicate: Callable[[], bool], *, within: float = 5.0) -> bool:
    """Poll ``predicate`` until it holds or ``within`` seconds pass; return its last value."""
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def assert_error_shape(body: bytes, status_text_part: str) -> None:
    payload = json.loads(body)
    assert list(payload) == ["id", "error"]
    assert list(payload["error"]) == ["message", "type", "param", "code"]
    assert status_text_part in payload["error"]["message"]


def test_base_url_points_at_the_bound_port(echo_server: FakeTogetherServer) -> None:
    assert echo_server.port != 0
    assert echo_server.base_url == f"http://127.0.0.1:{echo_server.port}/v1"
    assert echo_server.origin == f"http://127.0.0.1:{echo_server.port}"
    assert "running" in repr(echo_server)


def test_request_is_parsed_into_a_fake_request(
    echo_server: FakeTogetherServer, echo_backend: EchoBackend
) -> None:
    response = requests.post(
        f"{echo_server.base_url}/images/generations?a=1&b=2",
        data=b'{"prompt": "q"}',
        headers={"Content-Type": "application/json", "X-Custom-Header": "Value"},
        timeout=5,
    )
    assert response.status_code == 200
    (seen,) = echo_backend.requests
    assert seen.method == "POST"
    assert seen.path == "/v1/images/generations"
    assert seen.query == "a=1&b=2"
    assert seen.body == b'{"prompt": "q"}'
    assert seen.headers["x-custom-header"] == "Value"
    assert all(name == name.lower() for name in seen.headers)
    assert seen.origin == echo_server.origin


def test_origin_follows_the_host_the_client_addressed(
    echo_server: FakeTogetherServer, echo_backend: EchoBackend
) -> None:
    requests.get(f"http://localhost:{echo_server.port}/shrt/abc", timeout=5)
    assert echo_backend.requests[-1].origin == f"http://localhost:{echo_server.port}"


@pytest.mark.parametrize("host_header", ["evil.example/path", "a b", "x:99999999", ""])
def test_malformed_host_header_falls_back_to_the_server_origin(
    echo_server: FakeTogetherServer, echo_backend: EchoBackend, host_header: str
) -> None:
    raw = raw_exchange(
        echo_server, f"GET /v1/models HTTP/1.1\r\nHost: {host_header}\r\n\r\n".encode()
    )
    assert split_http(raw)[0] == 200
    assert echo_backend.requests[-1].origin == echo_server.origin


def test_absolute_form_target_gives_path_and_origin(
    echo_server: FakeTogetherServer, echo_backend: EchoBackend
) -> None:
    raw_exchange(
        echo_server,
        b"GET http://127.0.0.1:9/v1/models?x=1 HTTP/1.1\r\nHost: ignored\r\n"
        b"Connection: close\r\n\r\n",
    )
    seen = echo_backend.requests[-1]
    assert (seen.path, seen.query, seen.origin) == ("/v1/models", "x=1", "http://127.0.0.1:9")


def test_keep_alive_serves_several_requests_on_one_connection(
    echo_server: FakeTogetherServer, echo_backend: EchoBackend
) -> None:
    conn = http.client.HTTPConnection(echo_server.host, echo_server.port, timeout=5)
    try:
        conn.request("GET", "/v1/models")
        first = conn.getresponse()
        first.read()
        sock = conn.sock
        for _ in range(3):
            conn.request("POST", "/v1/images/generations", body=b"{}")
            response = conn.getresponse()
            assert response.status == 200
            assert response.getheader("Connection") is None
            response.read()
            assert conn.sock is sock
    finally:
        conn.close()
    assert len(echo_backend.requests) == 4


def test_connection_close_is_honoured(echo_server: FakeTogetherServer) -> None:
    raw = raw_exchange(echo_server, b"GET /v1/models HTTP/1.1\r\nConnection: close\r\n\r\n")
    status, headers, _ = split_http(raw)
    assert (status, headers["connection"]) == (200, "close")


def test_chunked_request_body_is_reassembled(
    echo_server: FakeTogetherServer, echo_backend: EchoBackend
) -> None:
    raw_exchange(
        echo_server,
        b"POST /v1/images/generations HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
        b"Connection: close\r\n\r\n"
        b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n",
    )
    assert echo_backend.requests[-1].body == b"hello world"


def test_expect_100_continue_gets_a_continue_then_the_answer(
    echo_server: FakeTogetherServer,
) -> None:
    with socket.create_connection((echo_server.host, echo_server.port), timeout=5) as sock:
        sock.sendall(
            b"POST /v1/x HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n"
            b"Connection: close\r\n\r\n"
        )
        assert sock.recv(25) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"{}")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    assert split_http(b"".join(chunks))[0] == 200


def test_expect_100_continue_with_an_oversized_body_is_refused_before_the_body() -> None:
    with FakeTogetherServer(EchoBackend(), max_body_bytes=10) as server:
        raw = raw_exchange(
            server,
            b"POST /v1/x HTTP/1.1\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n",
        )
    status, _, body = split_http(raw)
    assert status == 413
    assert_error_shape(body, "Request entity too large: 11 bytes, the limit is 10 bytes.")


@pytest.mark.parametrize(
    ("raw", "status", "message"),
    [
        (b"GARBAGE\r\n\r\n", 400, "Bad request syntax"),
        (b"GET / HTTP/x.y\r\n\r\n", 400, "Bad request version"),
        (b"GET / HTTP/2.0\r\n\r\n", 400, "Invalid HTTP version"),
        (b"POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", 400, "got '1x'"),
        (b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400, "non-negative integer"),
        (
            b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
            400,
            "got '1', '2'",
        ),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 400, "expected 'chunked'"),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400, "chunk size"),
        (b"GET / HTTP/1.1\r\nX: " + b"a" * 70000 + b"\r\n\r\n", 431, "Line too long"),
        (b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n", 414, "Request-URI too long"),
    ],
)
def test_malformed_requests_get_the_real_error_shape_and_the_server_survives(
    echo_server: FakeTogetherServer, raw: bytes, status: int, message: str
) -> None:
    answer_status, headers, body = split_http(raw_exchange(echo_server, raw))
    assert answer_status == status
    assert headers["content-type"] == "application/json; charset=utf-8"
    assert headers["connection"] == "close"
    assert_error_shape(body, message)
    assert requests.get(f"{echo_server.base_url}/models", timeout=5).status_code == 200


def test_body_over_the_limit_gets_413_not_a_reset() -> None:
    with FakeTogetherServer(EchoBackend(), max_body_bytes=1000) as server:
        response = requests.post(
            f"{server.base_url}/images/generations", data=b"x" * 500_000, timeout=5
        )
        assert response.status_code == 413
        assert_error_shape(response.content, "500000 bytes, the limit is 1000 bytes")
        chunked = requests.post(
            f"{server.base_url}/images/generations",
            data=iter([b"x" * 800, b"y" * 800]),
            timeout=5,
        )
        assert chunked.status_code == 413
        assert_error_shape(chunked.content, "over 1000 bytes (chunked body)")


def test_truncated_body_closes_the_connection_without_calling_the_backend(
    echo_server: FakeTogetherServer, echo_backend: EchoBackend
) -> None:
    raw = raw_exchange(echo_server, b"POST /v1/x HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc")
    assert raw == b""
    assert echo_backend.requests == []
    assert requests.get(f"{echo_server.base_url}/models", timeout=5).status_code == 200


def test_truncated_chunked_body_closes_the_connection(
    echo_server: FakeTogetherServer, echo_backend: EchoBackend
) -> None:
    raw = raw_exchange(
        echo_server, b"POST /v1/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc"
    )
    assert raw == b""
    assert echo_backend.requests == []


def test_slow_client_is_dropped_after_the_idle_timeout() -> None:
    with (
        FakeTogetherServer(EchoBackend(), idle_timeout_s=0.2) as server,
        socket.create_connection((server.host, server.port), timeout=5) as sock,
    ):
        sock.sendall(b"POST /v1/x HTTP/1.1\r\nContent-Length: 10\r\n\r\nab")
        assert sock.recv(100) == b""
        assert wait_until(lambda: not connection_threads(server))


def test_idle_keep_alive_connection_is_closed_after_the_idle_timeout() -> None:
    with FakeTogetherServer(EchoBackend(), idle_timeout_s=0.2) as server:
        conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
        conn.request("GET", "/v1/models")
        conn.getresponse().read()
        assert wait_until(lambda: not connection_threads(server))
        conn.close()


def test_abrupt_disconnects_never_leak_threads(echo_server: FakeTogetherServer) -> None:
    for _ in range(20):
        sock = socket.create_connection((echo_server.host, echo_server.port))
        sock.sendall(b"POST /v1/images/generations HTTP/1.1\r\nContent-Length: 50\r\n\r\n{")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.close()
    for _ in range(20):
        socket.create_connection((echo_server.host, echo_server.port)).close()
    assert wait_until(lambda: not connection_threads(echo_server))
    assert requests.get(f"{echo_server.base_url}/models", timeout=5).status_code == 200


def test_client_leaving_during_a_delay_ends_only_its_connection(
    echo_server: FakeTogetherServer,
) -> None:
    with pytest.raises(requests.ReadTimeout):
        requests.get(f"{echo_server.origin}/_echo/delay", timeout=0.1)
    assert requests.get(f"{echo_server.base_url}/models", timeout=5).status_code == 200
    assert wait_until(lambda: not connection_threads(echo_server))


def test_reset_fault_drops_the_connection(echo_server: FakeTogetherServer) -> None:
    with pytest.raises(requests.ConnectionError) as caught:
        requests.get(f"{echo_server.origin}/_echo/reset", timeout=5)
    assert "reset" in str(caught.value).lower()


def test_timeout_fault_stalls_until_the_client_gives_up(echo_server: FakeTogetherServer) -> None:
    with pytest.raises(requests.ReadTimeout):
        requests.get(f"{echo_server.origin}/_echo/timeout", timeout=0.2)
    # The client closed its socket on timeout, which releases the held connection at once.
    assert wait_until(lambda: not connection_threads(echo_server))


def test_timeout_fault_is_bounded() -> None:
    with FakeTogetherServer(EchoBackend(), timeout_hold_s=0.1) as server:
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{server.origin}/_echo/timeout", timeout=5)
        assert requests.get(f"{server.base_url}/models", timeout=5).status_code == 200


def test_backend_crash_becomes_the_real_500(
    echo_server: FakeTogetherServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="together_image_fake.server"):
        response = requests.get(f"{echo_server.origin}/_echo/crash", timeout=5)
    assert response.status_code == 500
    assert_error_shape(response.content, "Internal server error")
    assert "crashed on purpose" in caplog.text


def test_head_sends_headers_without_a_body(echo_server: FakeTogetherServer) -> None:
    response = requests.head(f"{echo_server.origin}/_echo/sized", timeout=5)
    assert response.status_code == 200
    assert int(response.headers["Content-Length"]) > 0
    assert response.content == b""


def test_backend_content_length_is_corrected(echo_server: FakeTogetherServer) -> None:
    status, headers, body = split_http(
        raw_exchange(echo_server, b"GET /_echo/sized HTTP/1.1\r\nConnection: close\r\n\r\n")
    )
    assert status == 200
    assert headers["x-echo"] == "1"
    assert int(headers["content-length"]) == len(body)
    assert "date" in headers


def test_answer_without_content_length_is_sent_chunked(echo_server: FakeTogetherServer) -> None:
    status, headers, body = split_http(
        raw_exchange(echo_server, b"GET /v1/models HTTP/1.1\r\nConnection: close\r\n\r\n")
    )
    assert (status, headers["transfer-encoding"]) == (200, "chunked")
    assert "content-length" not in headers
    size, _, rest = body.partition(b"\r\n")
    assert rest == rest[: int(size, 16)] + b"\r\n0\r\n\r\n"
    assert json.loads(rest[: int(size, 16)])["path"] == "/v1/models"


def test_http_1_0_client_gets_a_content_length(echo_server: FakeTogetherServer) -> None:
    status, headers, body = split_http(
        raw_exchange(echo_server, b"GET /v1/models HTTP/1.0\r\n\r\n")
    )
    assert (status, int(headers["content-length"])) == (200, len(body))
    assert "transfer-encoding" not in headers


def test_request_log_has_one_line_per_request_and_never_the_key(
    echo_server: FakeTogetherServer, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "tgp_v1_secret-key-value"
    with caplog.at_level(logging.INFO, logger="together_image_fake.server"):
        requests.post(
            f"{echo_server.base_url}/images/generations?api_key={secret}",
            json={"prompt": "p"},
            headers={"Authorization": f"Bearer {secret}"},
            timeout=5,
        )
        raw_exchange(echo_server, b"GARBAGE\r\n\r\n")

        def logged() -> list[str]:
            return [
                r.getMessage() for r in caplog.records if r.name == "together_image_fake.server"
            ]

        # A connection's thread logs its line just after the answer is sent: wait for both.
        wait_until(lambda: len(logged()) >= 2)
    lines = logged()
    # Each connection logs from its own thread: the order of the two lines is not fixed.
    assert len(lines) == 2
    assert sum('"POST /v1/images/generations HTTP/1.1" 200' in line for line in lines) == 1
    assert sum('" 400 ' in line for line in lines) == 1
    assert secret not in caplog.text


def test_stop_closes_open_connections_and_joins_every_thread() -> None:
    server = FakeTogetherServer(EchoBackend(), idle_timeout_s=60.0, timeout_hold_s=60.0).start()
    idle = http.client.HTTPConnection(server.host, server.port, timeout=5)
    idle.request("GET", "/v1/models")
    idle.getresponse().read()
    holding = socket.create_connection((server.host, server.port))
    try:
        holding.sendall(b"GET /_echo/timeout HTTP/1.1\r\n\r\n")
        assert wait_until(lambda: len(connection_threads(server)) == 2)
        server.stop()
        assert connection_threads(server) == []
        assert f"together-fake-server:{server.port}" not in {t.name for t in threading.enumerate()}
        assert not server.running
        server.stop()
    finally:
        server.stop()
        idle.close()
        holding.close()


def test_start_twice_and_a_taken_port_fail_clearly(echo_server: FakeTogetherServer) -> None:
    with pytest.raises(RuntimeError, match="already running"):
        echo_server.start()
    with pytest.raises(OSError, match="in use"):
        FakeTogetherServer(EchoBackend(), port=echo_server.port).start()


def test_server_restarts_after_stop() -> None:
    server = FakeTogetherServer(EchoBackend())
    with server:
        first = server.base_url
    with server:
        assert requests.get(f"{server.base_url}/models", timeout=5).status_code == 200
    assert first.startswith("http://127.0.0.1:")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_body_bytes": -1}, "max_body_bytes must be >= 0, got -1"),
        ({"idle_timeout_s": 0}, "idle_timeout_s=0"),
        ({"timeout_hold_s": -1.0}, "timeout_hold_s=-1.0"),
    ],
)
def test_bad_settings_are_rejected(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FakeTogetherServer(EchoBackend(), **kwargs)  # type: ignore[arg-type]


def test_ipv6_loopback_when_available(echo_backend: EchoBackend) -> None:
    if not socket.has_ipv6:
        pytest.skip("this Python has no IPv6 support")
    server = FakeTogetherServer(echo_backend, host="::1")
    try:
        server.start()
    except OSError as exc:
        pytest.skip(f"::1 cannot be bound on this machine: {exc}")
    try:
        assert server.base_url == f"http://[::1]:{server.port}/v1"
        assert requests.get(f"{server.base_url}/models", timeout=5).status_code == 200
        assert echo_backend.requests[-1].origin == f"http://[::1]:{server.port}"
    finally:
        server.stop()
