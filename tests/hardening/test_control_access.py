"""Who may drive the fake: the control API answers only loopback host names and same-origin JSON,
``serve`` says loudly when it listens beyond loopback, and the recording proxy relays the real key
only on the routes it records, for local callers."""

from __future__ import annotations

import io
import ipaddress
import json
import logging
import socket
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from together_image_fake import (
    CassetteRecorder,
    FakeRequest,
    FakeTogether,
    FakeTogetherServer,
    TogetherProxy,
)
from together_image_fake._http import control_refusal
from together_image_fake.wsgi import make_wsgi_app

from ._raw import RawResponse, assert_real_error, exchange, request_bytes

SCHNELL = "black-forest-labs/FLUX.1-schnell"
PRIVATE_PROMPT = "a private prompt about quetzals"


@pytest.fixture
def control_server() -> Iterator[FakeTogetherServer]:
    with FakeTogetherServer(FakeTogether(seed=2, rate_limits="off")) as server:
        answer = requests.post(
            f"{server.base_url}/images/generations",
            json={"model": SCHNELL, "prompt": PRIVATE_PROMPT, "width": 256, "height": 256},
            headers={"Authorization": "Bearer tgp_v1_control-key"},
            timeout=10,
        )
        assert answer.status_code == 200
        yield server


def _send(
    server: FakeTogetherServer,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes = b"",
) -> RawResponse:
    sent = {**headers, "Content-Length": str(len(body)), "Connection": "close"}
    (response,) = exchange(server.port, request_bytes(method, path, headers=sent, body=body))
    return response


CONTROL_READS = (
    "/_fake/",
    "/_fake",
    "/_fake/calls",
    "/_fake/faults",
    "/_fake/models",
    "/_fake/images/1/0",
)
FOREIGN_HOSTS = (
    "attacker.example",
    "attacker.example:{port}",
    "127.0.0.1.attacker.example:{port}",
    "localhost.attacker.example",
    "192.0.2.7:{port}",
)
LOOPBACK_HOSTS = (
    "127.0.0.1:{port}",
    "127.0.0.1",
    "localhost:{port}",
    "LOCALHOST:{port}",
    "[::1]:{port}",
)


def test_item04_control_api_answers_only_loopback_and_bound_host_names(
    control_server: FakeTogetherServer,
) -> None:
    port = control_server.port
    for path in CONTROL_READS:
        for host in FOREIGN_HOSTS:
            answer = _send(control_server, "GET", path, {"Host": host.format(port=port)})
            assert answer.status == 403, (path, host, answer.status)
            error = assert_real_error(answer)
            assert host.format(port=port) in error["message"]
            assert PRIVATE_PROMPT.encode() not in answer.body
        for host in LOOPBACK_HOSTS:
            answer = _send(control_server, "GET", path, {"Host": host.format(port=port)})
            assert answer.status == 200, (path, host, answer.status)
    refused = _send(
        control_server,
        "POST",
        "/_fake/reset",
        {"Host": f"attacker.example:{port}", "Content-Type": "application/json"},
    )
    assert refused.status == 403
    assert len(control_server.fake.calls) == 1
    # The API routes stay reachable by any name (a container addressed by its service name).
    models = _send(
        control_server,
        "GET",
        "/v1/models",
        {"Host": f"fake-together:{port}", "Authorization": "Bearer tgp_v1_control-key"},
    )
    assert models.status == 200


def test_item04_more_control_host_names_can_be_allowed() -> None:
    server = FakeTogetherServer(FakeTogether(), allowed_hosts=["fake-together"])
    with server:
        allowed = _send(server, "GET", "/_fake/calls", {"Host": f"fake-together:{server.port}"})
        assert allowed.status == 200
        refused = _send(server, "GET", "/_fake/calls", {"Host": f"other:{server.port}"})
        assert refused.status == 403


FAULT = json.dumps({"status": 503, "times": 999}).encode()


def test_item05_state_changes_refuse_foreign_origins_and_non_json(
    control_server: FakeTogetherServer,
) -> None:
    port = control_server.port
    own = f"127.0.0.1:{port}"
    json_type = {"Host": own, "Content-Type": "application/json"}
    refused: list[tuple[str, dict[str, str], bytes, int]] = [
        ("/_fake/faults", {**json_type, "Origin": "https://attacker.example"}, FAULT, 403),
        ("/_fake/faults", {**json_type, "Origin": "null"}, FAULT, 403),
        ("/_fake/faults", {**json_type, "Origin": f"http://127.0.0.1:{port + 1}"}, FAULT, 403),
        ("/_fake/faults", {**json_type, "Origin": f"https://{own}"}, FAULT, 403),
        ("/_fake/faults", {"Host": own, "Content-Type": "text/plain"}, FAULT, 415),
        (
            "/_fake/faults",
            {"Host": own, "Content-Type": "application/x-www-form-urlencoded"},
            FAULT,
            415,
        ),
        ("/_fake/faults", {"Host": own, "Content-Type": "multipart/form-data; b=x"}, FAULT, 415),
        ("/_fake/faults", {"Host": own}, FAULT, 415),
        ("/_fake/reset", {"Host": own, "Origin": "https://attacker.example"}, b"", 403),
        ("/_fake/reset", {"Host": own, "Content-Type": "text/plain"}, b"{}", 415),
    ]
    for path, headers, body, status in refused:
        answer = _send(control_server, "POST", path, headers, body)
        assert answer.status == status, (path, headers, answer.status)
        assert_real_error(answer)
    assert control_server.fake.pending_faults() == []
    assert len(control_server.fake.calls) == 1

    # Same-origin pages (the dashboard) and clients that send no Origin keep working.
    accepted: list[tuple[str, dict[str, str], bytes]] = [
        ("/_fake/faults", json_type, FAULT),
        ("/_fake/faults", {**json_type, "Origin": f"http://{own}"}, FAULT),
        (
            "/_fake/faults",
            {"Host": own, "Content-Type": "application/json; charset=utf-8"},
            FAULT,
        ),
        ("/_fake/reset", {"Host": own, "Origin": f"http://{own}"}, b""),
        ("/_fake/reset", {"Host": own}, b""),
    ]
    for path, headers, body in accepted:
        answer = _send(control_server, "POST", path, headers, body)
        assert answer.status == 200, (path, headers, answer.status, answer.body)


def _occupied_loopback_port() -> socket.socket:
    """A listening loopback socket: binding any address on its port then fails, so the
    command under test prints what it prints before binding and never listens anywhere."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


def _serve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "together_image_fake", "serve", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_item06_serve_warns_for_non_loopback_hosts_and_rejects_an_empty_one() -> None:
    with _occupied_loopback_port() as taken:
        port = str(taken.getsockname()[1])
        # Never bound: the port is taken, so only the warning printed before binding is seen.
        for host in ("0.0.0.0", "::", "192.0.2.7"):  # noqa: S104
            done = _serve("--host", host, "--port", port)
            assert done.returncode == 1, done.stderr
            warning = done.stderr.split("error:")[0]
            assert "WARNING" in warning, done.stderr
            assert host in warning
            assert "127.0.0.1" in warning, "the warning names the safe choice"
        quiet = _serve("--host", "127.0.0.1", "--port", port)
        assert quiet.returncode == 1
        assert "WARNING" not in quiet.stderr
    empty = _serve("--host", "", "--port", "0")
    assert empty.returncode == 2
    assert "--host" in empty.stderr
    assert "''" in empty.stderr or '""' in empty.stderr


REAL_KEY = "tgp_v1_real-upstream-key-0123456789"


@pytest.fixture
def upstream() -> Iterator[FakeTogetherServer]:
    """Stands in for Together: only the real key gets an answer."""
    with FakeTogetherServer(FakeTogether(seed=4, api_keys=[REAL_KEY], rate_limits="off")) as server:
        yield server


def _upstream_paths(upstream: FakeTogetherServer) -> list[str]:
    return [f"{call.method} {call.path}" for call in upstream.fake.calls]


def test_item07_record_proxy_relays_only_recorded_routes_for_local_callers(
    upstream: FakeTogetherServer, tmp_path: Any
) -> None:
    recorder = CassetteRecorder(tmp_path / "proxy.json", secrets=[REAL_KEY])
    proxy = TogetherProxy(upstream.base_url, recorder=recorder, api_key=REAL_KEY)
    body = {"model": SCHNELL, "prompt": "a quetzal", "width": 256, "height": 256}
    with FakeTogetherServer(proxy) as server:
        recorded = requests.post(f"{server.base_url}/images/generations", json=body, timeout=10)
        assert recorded.status_code == 200, recorded.text
        models = requests.get(f"{server.base_url}/models", timeout=10)
        assert models.status_code == 200
        for method, path in (
            ("POST", "/v1/files"),
            ("GET", "/v1/files"),
            ("POST", "/v1/chat/completions"),
            ("POST", "/v1/images/variations"),
        ):
            answer = requests.request(method, f"{server.origin}{path}", json={}, timeout=10)
            assert answer.status_code == 404, (path, answer.status_code)
            assert "not forwarded" in answer.json()["error"]["message"]
        for origin in ("https://attacker.example", "null"):
            crossed = requests.post(
                f"{server.base_url}/images/generations",
                json=body,
                headers={"Origin": origin},
                timeout=10,
            )
            assert crossed.status_code == 403, origin
    assert _upstream_paths(upstream) == ["POST /v1/images/generations", "GET /v1/models"]

    # A caller that is not on this machine gets nothing relayed (the WSGI host knows the peer).
    before = len(upstream.fake.calls)
    app = make_wsgi_app(proxy)
    statuses: list[str] = []
    payload = json.dumps(body).encode()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/v1/images/generations",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8788",
        "REMOTE_ADDR": "192.0.2.7",
        "HTTP_HOST": "127.0.0.1:8788",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(payload)),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(payload),
        "wsgi.errors": io.StringIO(),
    }
    b"".join(app(environ, lambda status, headers, exc_info=None: statuses.append(status)))
    assert statuses[0].startswith("403"), statuses
    assert len(upstream.fake.calls) == before

    # The routes can be configured.
    wider = TogetherProxy(
        upstream.base_url,
        api_key=REAL_KEY,
        forward_routes=("POST /v1/images/generations", "POST /v1/chat/completions"),
    )
    with FakeTogetherServer(wider) as server:
        chat = requests.post(f"{server.origin}/v1/chat/completions", json={}, timeout=10)
        assert chat.status_code != 403
        models = requests.get(f"{server.base_url}/models", timeout=10)
        assert models.status_code == 404
    assert _upstream_paths(upstream)[-1] == "POST /v1/chat/completions"


def test_item07_record_proxy_never_logs_a_query_string(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        unreachable = f"http://127.0.0.1:{closed.getsockname()[1]}/v1"
    query_key = "query-key-secret-0123456789"
    proxy = TogetherProxy(unreachable, api_key=REAL_KEY)
    caplog.set_level(logging.DEBUG)
    with FakeTogetherServer(proxy) as server, pytest.raises(requests.ConnectionError):
        # An unreachable upstream reaches the client as a dropped connection.
        requests.get(f"{server.base_url}/models?api_key={query_key}&key={query_key}", timeout=10)
    assert "/v1/models" in caplog.text, "the failure is logged"
    assert query_key not in caplog.text


def _wsgi_status(app: Any, *, host: str, server_name: str = "127.0.0.1") -> str:
    statuses: list[str] = []
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/_fake/calls",
        "QUERY_STRING": "",
        "SERVER_NAME": server_name,
        "SERVER_PORT": "8000",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": host,
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
    }
    b"".join(app(environ, lambda status, headers, exc_info=None: statuses.append(status)))
    return statuses[0]


def test_item04_the_wsgi_app_guards_the_control_api_too(monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_wsgi_app(FakeTogether())
    assert _wsgi_status(app, host="attacker.example:8000").startswith("403")
    assert _wsgi_status(app, host="localhost:8000").startswith("200")
    # The name the WSGI server was bound to is allowed, like the loopback server's host.
    assert _wsgi_status(app, host="fake.ci:8000", server_name="fake.ci").startswith("200")
    wider = make_wsgi_app(FakeTogether(), allowed_hosts=["fake-together"])
    assert _wsgi_status(wider, host="fake-together:8000").startswith("200")
    # The default app reads the allowed names from TOGETHER_FAKE_ALLOWED_HOSTS.
    from together_image_fake import wsgi

    monkeypatch.setattr(wsgi, "app", wsgi._EnvironmentApp({"TOGETHER_FAKE_ALLOWED_HOSTS": "a, b"}))
    assert _wsgi_status(wsgi.app, host="b:8000").startswith("200")
    assert _wsgi_status(wsgi.app, host="c:8000").startswith("403")


def test_item04_serve_record_and_replay_take_allow_host() -> None:
    from together_image_fake._cli import build_parser

    parser = build_parser()
    for command in (
        ["serve"],
        ["record", "--cassette", "c.json"],
        ["replay", "--cassette", "c.json"],
    ):
        args = parser.parse_args([*command, "--allow-host", "fake", "--allow-host", "ci"])
        assert args.allowed_hosts == ["fake", "ci"]


@given(
    address=st.ip_addresses(),
    port=st.none() | st.integers(1, 65535),
    name=st.from_regex(r"\A[a-z][a-z0-9-]{0,20}(\.[a-z][a-z0-9-]{0,10}){0,3}\Z"),
)
def test_item04_the_host_rule_as_a_property(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, port: int | None, name: str
) -> None:
    def refused(host: str) -> bool:
        request = FakeRequest(method="GET", path="/_fake/calls", headers={"host": host})
        return control_refusal(request, bound_host="127.0.0.1") is not None

    suffix = "" if port is None else f":{port}"
    literal = f"[{address}]" if address.version == 6 else str(address)
    assert refused(literal + suffix) == (not address.is_loopback)
    assert refused(name + suffix) == (name != "localhost")
    # Names are compared without case; the API routes are never refused.
    assert not refused("LocalHost" + suffix)
    api = FakeRequest(method="GET", path="/v1/models", headers={"host": name + suffix})
    assert control_refusal(api, bound_host="127.0.0.1") is None
