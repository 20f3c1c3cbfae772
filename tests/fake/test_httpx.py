"""The in-process adapter for httpx: sync and async clients, httpx2, faults, blocking, several
fakes, and the rule that the fake never imports httpx itself."""

from __future__ import annotations

import asyncio
import base64
import importlib
import json
import socket
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import httpx
import httpx2
import pytest
import requests

from together_image_fake import NAMED_ERRORS, FakeTogether, inspect_image
from together_image_fake._wire import FakeRequest

SCHNELL = "black-forest-labs/FLUX.1-schnell"
BODY = {"model": SCHNELL, "prompt": "a quetzal", "response_format": "base64"}
AUTH = {"Authorization": "Bearer k"}
AUTH_LOWER = {name.lower(): value for name, value in AUTH.items()}
GENERATIONS = "https://api.together.xyz/v1/images/generations"
LIBRARIES = pytest.mark.parametrize("lib", [httpx, httpx2], ids=["httpx", "httpx2"])

Send = Callable[..., Any]


def send_sync(lib: ModuleType, method: str, url: str, **kwargs: Any) -> Any:
    with lib.Client() as client:
        return client.request(method, url, **kwargs)


def send_async(lib: ModuleType, method: str, url: str, **kwargs: Any) -> Any:
    async def go() -> Any:
        async with lib.AsyncClient() as client:
            return await client.request(method, url, **kwargs)

    return asyncio.run(go())


BOTH_MODES = pytest.mark.parametrize("send", [send_sync, send_async], ids=["sync", "async"])


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records (and refuses) every DNS lookup and connection attempt."""
    attempts: list[str] = []

    def refuse(name: str) -> Callable[..., Any]:
        def refused(*args: Any, **kwargs: Any) -> Any:
            attempts.append(f"{name}{args[:2]!r}")
            raise OSError(f"test: {name} must not be called")

        return refused

    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    monkeypatch.setattr(socket.socket, "connect", refuse("connect"))
    return attempts


@LIBRARIES
@BOTH_MODES
@pytest.mark.parametrize("host", ["https://api.together.xyz/v1", "https://api.together.ai/v1"])
def test_generation_is_answered_in_process(
    lib: ModuleType, send: Send, host: str, no_network: list[str]
) -> None:
    with FakeTogether(seed=3) as fake:
        reply = send(lib, "POST", f"{host}/images/generations", json=BODY, headers=AUTH)

    assert reply.status_code == 200
    assert reply.headers["content-type"] == "application/json; charset=utf-8"
    # Successes come chunked, without Content-Length, as from the real API and the fake's server.
    assert reply.headers["transfer-encoding"] == "chunked"
    assert "content-length" not in reply.headers
    image = inspect_image(base64.b64decode(reply.json()["data"][0]["b64_json"]))
    assert image.prompt == "a quetzal"
    (call,) = fake.calls
    assert (call.path, call.status, call.headers["authorization"]) == (
        "/v1/images/generations",
        200,
        "Bearer ***",
    )
    assert no_network == []


@LIBRARIES
def test_the_answer_is_the_backends_bytes_and_headers(lib: ModuleType) -> None:
    with FakeTogether(seed=5) as fake:
        reply = send_sync(lib, "GET", "https://api.together.xyz/v1/models?x=1", headers=AUTH)

    direct = fake.handle(
        FakeRequest(method="GET", path="/v1/models", query="x=1", headers=AUTH_LOWER, body=b"")
    )
    assert reply.status_code == 200
    assert reply.reason_phrase == "OK"
    assert reply.content == direct.body
    assert reply.headers["content-type"] == dict(direct.headers)["Content-Type"]
    assert fake.calls[0].path == "/v1/models"


@LIBRARIES
def test_clients_created_before_the_fake_started_are_intercepted(lib: ModuleType) -> None:
    client = lib.Client()
    with FakeTogether() as fake:
        reply = client.post(GENERATIONS, json=BODY, headers=AUTH)
    client.close()

    assert reply.status_code == 200
    assert len(fake.calls) == 1


@LIBRARIES
@BOTH_MODES
def test_errors_keep_the_real_status_and_body(lib: ModuleType, send: Send) -> None:
    with FakeTogether(api_keys=["good"]):
        unauthorised = send(lib, "POST", GENERATIONS, json=BODY, headers=AUTH)
        bad = send(
            lib,
            "POST",
            GENERATIONS,
            json={**BODY, "width": 100},
            headers={"Authorization": "Bearer good"},
        )

    assert unauthorised.status_code == 401
    assert unauthorised.json()["error"]["code"] == "invalid_api_key"
    assert bad.status_code == 400
    assert bad.json()["error"]["message"].startswith("Invalid value for 'width' parameter.")


@LIBRARIES
@BOTH_MODES
@pytest.mark.parametrize(
    ("fault", "status", "header"),
    [
        ({"status": 503}, 503, None),
        ({"error": "rate_limited"}, 429, ("retry-after", "10")),
        ({"status": 500}, 500, None),
    ],
)
def test_status_faults_reach_the_client_as_is(
    lib: ModuleType,
    send: Send,
    fault: dict[str, Any],
    status: int,
    header: tuple[str, str] | None,
) -> None:
    with FakeTogether() as fake:
        fake.fail_next(**fault)
        reply = send(lib, "POST", GENERATIONS, json=BODY, headers=AUTH)
        after = send(lib, "POST", GENERATIONS, json=BODY, headers=AUTH)

    assert reply.status_code == status
    assert set(reply.json()) == {"id", "error"}
    if header is not None:
        assert reply.headers[header[0]] == header[1]
    assert after.status_code == 200


@LIBRARIES
@pytest.mark.parametrize("error", NAMED_ERRORS)
def test_every_named_error_reaches_httpx_as_it_reaches_requests(
    lib: ModuleType, error: str
) -> None:
    with FakeTogether(seed=9) as fake:
        fake.fail_next(error=error, times=2)
        by_httpx = send_sync(lib, "POST", GENERATIONS, json=BODY, headers=AUTH)
        by_requests = requests.post(GENERATIONS, json=BODY, headers=AUTH, timeout=5)

    assert by_httpx.status_code == by_requests.status_code >= 400
    assert by_httpx.json()["error"] == by_requests.json()["error"]
    assert list(by_httpx.headers) == [name.lower() for name in by_requests.headers]


@LIBRARIES
@BOTH_MODES
def test_an_html_gateway_page_reaches_the_client_as_is(lib: ModuleType, send: Send) -> None:
    with FakeTogether() as fake:
        fake.fail_next(kind="html", status=524)
        reply = send(lib, "POST", GENERATIONS, json=BODY, headers=AUTH)

    assert reply.status_code == 524
    assert reply.headers["content-type"] == "text/html; charset=UTF-8"
    assert "<h1>Error 524</h1>" in reply.text
    with pytest.raises(json.JSONDecodeError):
        reply.json()


@LIBRARIES
@BOTH_MODES
def test_a_reset_raises_what_a_real_tcp_reset_raises(lib: ModuleType, send: Send) -> None:
    # Against the fake's own server, a reset fault gives ReadError('[Errno 104] Connection reset
    # by peer') caused by ConnectionResetError; in-process gives the same class and cause.
    with FakeTogether() as fake:
        fake.fail_next(kind="reset")
        with pytest.raises(lib.ReadError) as raised:
            send(lib, "POST", GENERATIONS, json=BODY, headers=AUTH)

    assert "Connection reset by peer" in str(raised.value)
    assert isinstance(raised.value.__cause__, ConnectionResetError)
    assert raised.value.request.url == GENERATIONS
    assert fake.calls[0].status == 0


@LIBRARIES
@BOTH_MODES
def test_a_timeout_fault_raises_read_timeout(lib: ModuleType, send: Send) -> None:
    with FakeTogether() as fake:
        fake.fail_next(kind="timeout")
        with pytest.raises(lib.ReadTimeout, match="timed out"):
            send(lib, "POST", GENERATIONS, json=BODY, headers=AUTH)


@LIBRARIES
@BOTH_MODES
def test_latency_goes_through_the_fakes_sleep(lib: ModuleType, send: Send) -> None:
    slept: list[float] = []
    with FakeTogether(sleep=slept.append) as fake:
        fake.fail_next(latency_s=2.5)
        reply = send(lib, "POST", GENERATIONS, json=BODY, headers=AUTH, timeout=30)

    assert reply.status_code == 200
    assert slept == [2.5]


@LIBRARIES
@BOTH_MODES
def test_latency_past_the_read_timeout_is_a_read_timeout(lib: ModuleType, send: Send) -> None:
    slept: list[float] = []
    with FakeTogether(sleep=slept.append) as fake:
        fake.fail_next(latency_s=30)
        with pytest.raises(lib.ReadTimeout):
            send(lib, "POST", GENERATIONS, json=BODY, headers=AUTH, timeout=4)

    # The client gives up after its read timeout, as it would against a slow server.
    assert slept == [4]


@LIBRARIES
@BOTH_MODES
def test_other_hosts_are_blocked_without_dns_or_a_connection(
    lib: ModuleType, send: Send, no_network: list[str]
) -> None:
    with FakeTogether(base_urls=["http://proxy.local/api/v1"]):
        with pytest.raises(lib.ConnectError) as raised:
            send(lib, "GET", "https://no-such-host.invalid/v1/models")
        with pytest.raises(lib.ConnectError):
            # The right host under another path is not the API either.
            send(lib, "GET", "http://proxy.local/elsewhere")

    message = str(raised.value)
    assert "FakeTogether blocked GET https://no-such-host.invalid/v1/models" in message
    assert "POST /v1/images/generations" in message
    assert "https://api.together.xyz" in message
    assert "http://proxy.local/api" in message
    assert no_network == []


@LIBRARIES
def test_extra_base_urls_map_onto_the_api(lib: ModuleType) -> None:
    with FakeTogether(base_urls=["http://proxy.local/together"]) as fake:
        reply = send_sync(
            lib, "POST", "http://proxy.local/together/images/generations", json=BODY, headers=AUTH
        )

    assert reply.status_code == 200
    assert fake.calls[0].path == "/v1/images/generations"


@LIBRARIES
def test_transports_of_the_users_own_are_left_alone(lib: ModuleType) -> None:
    mock = lib.MockTransport(lambda request: lib.Response(200, text="mine"))
    with FakeTogether() as fake, lib.Client(transport=mock) as client:
        reply = client.post(GENERATIONS, json=BODY)

    assert reply.text == "mine"
    assert fake.calls == []


@LIBRARIES
def test_a_transport_patch_made_before_the_fake_keeps_other_hosts(
    lib: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What pytest-httpx or any transport-level mock does: the fake leaves it the other hosts.
    def mine(transport: Any, request: Any) -> Any:
        return lib.Response(200, text=f"mine: {request.url.host}")

    monkeypatch.setattr(lib.HTTPTransport, "handle_request", mine)
    with FakeTogether() as fake:
        other = send_sync(lib, "GET", "https://example.com/x")
        together = send_sync(lib, "POST", GENERATIONS, json=BODY, headers=AUTH)
    after = send_sync(lib, "GET", "https://example.com/y")

    assert (other.text, together.status_code, len(fake.calls)) == ("mine: example.com", 200, 1)
    assert after.text == "mine: example.com"
    assert lib.HTTPTransport.__dict__["handle_request"] is mine


@LIBRARIES
@BOTH_MODES
def test_a_mock_patched_into_the_connection_pool_keeps_other_hosts(
    lib: ModuleType, send: Send, monkeypatch: pytest.MonkeyPatch, no_network: list[str]
) -> None:
    # respx's default seam: the httpcore connection pool under httpx's transport.
    core = importlib.import_module("httpcore" if lib is httpx else "httpcore2")

    def mine(pool: Any, request: Any) -> Any:
        return core.Response(200, content=b"mine: " + request.url.host)

    async def mine_async(pool: Any, request: Any) -> Any:
        return mine(pool, request)

    monkeypatch.setattr(core.ConnectionPool, "handle_request", mine)
    monkeypatch.setattr(core.AsyncConnectionPool, "handle_async_request", mine_async)
    with FakeTogether() as fake:
        other = send(lib, "GET", "https://example.com/x")
        together = send(lib, "POST", GENERATIONS, json=BODY, headers=AUTH)

    assert (other.text, together.status_code, len(fake.calls)) == ("mine: example.com", 200, 1)
    assert no_network == []


def pristine(lib: ModuleType) -> bool:
    return all(
        str(getattr(cls.__dict__[name], "__module__", "")).startswith(f"{lib.__name__}.")
        for cls, name in (
            (lib.HTTPTransport, "handle_request"),
            (lib.AsyncHTTPTransport, "handle_async_request"),
        )
    )


@pytest.fixture
def two_fakes() -> Iterator[tuple[FakeTogether, FakeTogether]]:
    a, b = FakeTogether(), FakeTogether(base_urls=["http://b.local/v1"])
    yield a, b
    a.stop()
    b.stop()


def generate(lib: ModuleType, url: str = GENERATIONS) -> Any:
    return send_sync(lib, "POST", url, json=BODY, headers=AUTH)


@LIBRARIES
@pytest.mark.parametrize("first_stopped", ["a", "b"])
def test_several_fakes_each_remove_only_their_own_interception(
    lib: ModuleType, two_fakes: tuple[FakeTogether, FakeTogether], first_stopped: str
) -> None:
    a, b = two_fakes
    a.start()
    b.start()
    generate(lib)  # the most recently started fake answers the hosts both intercept
    generate(lib, "http://b.local/v1/images/generations")
    assert (len(a.calls), len(b.calls)) == (0, 2)

    (a if first_stopped == "a" else b).stop()
    remaining = b if first_stopped == "a" else a
    generate(lib)
    assert len(remaining.calls) == (3 if remaining is b else 1)
    assert not pristine(lib)

    remaining.stop()
    assert pristine(lib)


@LIBRARIES
def test_a_fake_started_and_stopped_inside_another_leaves_the_outer_one(lib: ModuleType) -> None:
    outer = FakeTogether()
    with outer:
        with FakeTogether() as inner:
            generate(lib)
        generate(lib)
    assert (len(inner.calls), len(outer.calls)) == (1, 1)
    assert pristine(lib)


def run_python(code: str) -> dict[str, Any]:
    """Run ``code`` in a fresh interpreter; it prints one JSON object as its last line."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_the_fake_never_imports_httpx_itself() -> None:
    result = run_python(
        """
        import json, sys
        import together_image_fake
        from together_image_fake import FakeTogether
        imported = {}
        with FakeTogether():
            imported["running"] = sorted(n for n in ("httpx", "httpx2") if n in sys.modules)
        imported["after"] = sorted(n for n in ("httpx", "httpx2") if n in sys.modules)
        print(json.dumps(imported))
        """
    )

    assert result == {"running": [], "after": []}


def test_httpx_imported_while_a_fake_runs_is_intercepted_from_its_first_request() -> None:
    result = run_python(
        """
        import json
        from together_image_fake import FakeTogether
        with FakeTogether() as fake:
            import httpx
            reply = httpx.get(
                "https://api.together.xyz/v1/models", headers={"Authorization": "Bearer k"}
            )
            patched = httpx.HTTPTransport.handle_request.__module__
        print(json.dumps({
            "status": reply.status_code,
            "calls": len(fake.calls),
            "patched_by": patched,
            "after": httpx.HTTPTransport.handle_request.__module__,
        }))
        """
    )

    assert result == {
        "status": 200,
        "calls": 1,
        "patched_by": "together_image_fake._httpx",
        "after": "httpx._transports.default",
    }


def test_a_process_that_cannot_import_httpx_still_runs_the_fake() -> None:
    result = run_python(
        """
        import json, sys
        sys.modules["httpx"] = None  # as if it were not installed
        sys.modules["httpx2"] = None
        import requests
        from together_image_fake import FakeTogether
        with FakeTogether() as fake:
            reply = requests.get(
                "https://api.together.xyz/v1/models",
                headers={"Authorization": "Bearer k"},
                timeout=5,
            )
        print(json.dumps({"status": reply.status_code, "calls": len(fake.calls)}))
        """
    )

    assert result == {"status": 200, "calls": 1}
