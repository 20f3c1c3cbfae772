"""The WSGI adapter: environ parsing, framing, faults, settings from TOGETHER_FAKE_* variables."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterable, Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.util import setup_testing_defaults

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from together_image_fake import FakeRequest, FakeResponse
from together_image_fake._settings import build_fake
from together_image_fake.wsgi import (
    FakeSettings,
    InjectedConnectionFault,
    _EnvironmentApp,
    app,
    make_wsgi_app,
    settings_from_environ,
)

from .conftest import EchoBackend


class Captured:
    """What ``start_response`` was given."""

    status: str = ""
    headers: list[tuple[str, str]]

    def __call__(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        self.status, self.headers = status, headers
        return lambda data: None


def call(
    backend: EchoBackend, body: bytes = b"", *, max_body_bytes: int = 1000, **environ: Any
) -> tuple[Captured, bytes]:
    env: dict[str, Any] = {"wsgi.input": io.BytesIO(body), **environ}
    setup_testing_defaults(env)
    captured = Captured()
    chunks = make_wsgi_app(backend, max_body_bytes=max_body_bytes)(env, captured)
    return captured, b"".join(chunks)


def test_environ_becomes_a_fake_request(echo_backend: EchoBackend) -> None:
    captured, _ = call(
        echo_backend,
        b'{"prompt": "p"}',
        REQUEST_METHOD="POST",
        PATH_INFO="/v1/images/generations",
        QUERY_STRING="a=1",
        CONTENT_TYPE="application/json",
        CONTENT_LENGTH="15",
        HTTP_HOST="127.0.0.1:8787",
        HTTP_X_CUSTOM_HEADER="v",
    )
    assert captured.status == "200 OK"
    (seen,) = echo_backend.requests
    assert (seen.method, seen.path, seen.query) == ("POST", "/v1/images/generations", "a=1")
    assert seen.body == b'{"prompt": "p"}'
    assert seen.headers["x-custom-header"] == "v"
    assert seen.headers["content-type"] == "application/json"
    assert seen.origin == "http://127.0.0.1:8787"


def test_raw_uri_keeps_the_path_as_sent(echo_backend: EchoBackend) -> None:
    call(echo_backend, RAW_URI="/shrt/a%2Fb?x=1", PATH_INFO="/shrt/a/b", QUERY_STRING="x=1")
    assert echo_backend.requests[-1].path == "/shrt/a%2Fb"


def test_path_info_is_re_quoted_without_raw_uri(echo_backend: EchoBackend) -> None:
    call(echo_backend, PATH_INFO="/shrt/a b")
    assert echo_backend.requests[-1].path == "/shrt/a%20b"


def test_origin_falls_back_to_server_name_and_port(echo_backend: EchoBackend) -> None:
    call(echo_backend, HTTP_HOST="bad host", SERVER_NAME="fake.test", SERVER_PORT="9")
    assert echo_backend.requests[-1].origin == "http://fake.test:9"


@pytest.mark.parametrize(
    ("environ", "body", "status", "message"),
    [
        ({"CONTENT_LENGTH": "5000"}, b"", "413 Request Entity Too Large", "5000 bytes"),
        ({"CONTENT_LENGTH": "x"}, b"", "400 Bad Request", "got 'x'"),
        ({"CONTENT_LENGTH": "10"}, b"abc", "400 Bad Request", "expected 10 bytes, got 3"),
        ({"wsgi.input_terminated": True}, b"y" * 1001, "413 Request Entity Too Large", "over"),
    ],
)
def test_bad_bodies_get_the_real_error_shape(
    echo_backend: EchoBackend, environ: dict[str, Any], body: bytes, status: str, message: str
) -> None:
    captured, answer = call(echo_backend, body, REQUEST_METHOD="POST", **environ)
    assert captured.status == status
    payload = json.loads(answer)
    assert list(payload["error"]) == ["message", "type", "param", "code"]
    assert message in payload["error"]["message"]
    assert echo_backend.requests == []


def test_terminated_input_is_read_to_the_end(echo_backend: EchoBackend) -> None:
    call(echo_backend, b"chunked body", REQUEST_METHOD="POST", **{"wsgi.input_terminated": True})
    assert echo_backend.requests[-1].body == b"chunked body"


def test_framing_headers_are_left_to_the_server(echo_backend: EchoBackend) -> None:
    captured, body = call(echo_backend)
    names = [name.lower() for name, _ in captured.headers]
    assert names.count("content-length") == 1
    assert dict(captured.headers)["Content-Length"] == str(len(body))
    assert "x-echo" in names


def test_head_has_no_body(echo_backend: EchoBackend) -> None:
    captured, body = call(echo_backend, REQUEST_METHOD="HEAD")
    assert (captured.status, body) == ("200 OK", b"")


def test_backend_crash_becomes_the_real_500(echo_backend: EchoBackend) -> None:
    errors = io.StringIO()
    captured, body = call(echo_backend, PATH_INFO="/_echo/crash", **{"wsgi.errors": errors})
    assert captured.status == "500 Internal Server Error"
    assert json.loads(body)["error"]["message"] == "Internal server error"
    assert "/_echo/crash" in errors.getvalue()


def test_reset_fault_aborts_the_body(echo_backend: EchoBackend) -> None:
    env: dict[str, Any] = {"PATH_INFO": "/_echo/reset", "wsgi.input": io.BytesIO()}
    setup_testing_defaults(env)
    body: Iterable[bytes] = make_wsgi_app(echo_backend)(env, Captured())
    chunks = iter(body)
    assert next(chunks) == b""
    with pytest.raises(InjectedConnectionFault, match="reset fault"):
        next(chunks)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output clean."""


class _QuietServer(WSGIServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """The aborted response is the point of the test; no traceback."""


@pytest.fixture
def wsgiref_server(echo_backend: EchoBackend) -> Iterator[str]:
    app = make_wsgi_app(echo_backend, timeout_hold_s=0.0)
    server = make_server(
        "127.0.0.1", 0, app, server_class=_QuietServer, handler_class=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def test_under_a_real_wsgi_server_answers_and_aborts(
    wsgiref_server: str, echo_backend: EchoBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    ok = requests.post(f"{wsgiref_server}/v1/images/generations", json={"a": 1}, timeout=5)
    assert ok.status_code == 200
    assert echo_backend.requests[-1].origin == wsgiref_server
    for fault in ("reset", "timeout"):
        with pytest.raises(requests.exceptions.ChunkedEncodingError, match="IncompleteRead"):
            requests.get(f"{wsgiref_server}/_echo/{fault}", timeout=5)
    capsys.readouterr()


def test_settings_default_when_nothing_is_set() -> None:
    assert settings_from_environ({}) == FakeSettings()


@given(
    keys=st.lists(st.from_regex(r"\A[A-Za-z0-9_-]{1,12}\Z"), max_size=3),
    seed=st.none() | st.integers(-(2**63), 2**63),
    strict=st.none() | st.booleans(),
    retired=st.none() | st.booleans(),
    max_body=st.integers(0, 2**40),
    hold=st.floats(0, 1e6, allow_nan=False),
)
def test_settings_round_trip_through_the_environment(
    keys: list[str],
    seed: int | None,
    strict: bool | None,
    retired: bool | None,
    max_body: int,
    hold: float,
) -> None:
    environ = {
        "TOGETHER_FAKE_API_KEYS": " , ".join(keys),
        "TOGETHER_FAKE_MAX_BODY_BYTES": str(max_body),
        "TOGETHER_FAKE_TIMEOUT_HOLD_S": repr(hold),
    }
    if seed is not None:
        environ["TOGETHER_FAKE_SEED"] = str(seed)
    if strict is not None:
        environ["TOGETHER_FAKE_STRICT"] = "yes" if strict else "off"
    if retired is not None:
        environ["TOGETHER_FAKE_SERVE_RETIRED"] = "1" if retired else "false"
    assert settings_from_environ(environ) == FakeSettings(
        api_keys=tuple(keys),
        seed=seed,
        strict=strict is not False,
        serve_retired=retired is True,
        max_body_bytes=max_body,
        timeout_hold_s=hold,
    )


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("TOGETHER_FAKE_SEED", "abc", "TOGETHER_FAKE_SEED must be an integer, got 'abc'"),
        ("TOGETHER_FAKE_STRICT", "maybe", "got 'maybe'"),
        ("TOGETHER_FAKE_SERVE_RETIRED", "perhaps", "got 'perhaps'"),
        ("TOGETHER_FAKE_MAX_BODY_BYTES", "-1", "must be >= 0, got '-1'"),
        ("TOGETHER_FAKE_TIMEOUT_HOLD_S", "soon", "must be a number, got 'soon'"),
    ],
)
def test_bad_settings_name_the_variable(name: str, value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        settings_from_environ({name: value})


def test_the_environment_can_serve_retired_models() -> None:
    # FLUX.1 [dev] left the listing on 2026-03-20 [REC]: 400 by default, served on request.
    body = {"model": "black-forest-labs/FLUX.1-dev", "prompt": "x"}
    for value, status in (("", 400), ("1", 200)):
        fake = build_fake(settings_from_environ({"TOGETHER_FAKE_SERVE_RETIRED": value}))
        request = FakeRequest(
            method="POST",
            path="/v1/images/generations",
            headers={"authorization": "Bearer k", "content-type": "application/json"},
            body=json.dumps(body).encode(),
        )
        assert fake.handle(request).status == status


def test_default_app_builds_its_fake_from_the_environment() -> None:
    default_app = _EnvironmentApp({"TOGETHER_FAKE_API_KEYS": "k1, k2", "TOGETHER_FAKE_SEED": "3"})
    statuses = []
    for key in ("k2", "k3"):
        env: dict[str, Any] = {
            "PATH_INFO": "/v1/models",
            "HTTP_AUTHORIZATION": f"Bearer {key}",
            "wsgi.input": io.BytesIO(),
        }
        setup_testing_defaults(env)
        captured = Captured()
        b"".join(default_app(env, captured))
        statuses.append(captured.status)
    assert statuses == ["200 OK", "401 Unauthorized"]
    assert isinstance(app, _EnvironmentApp)


def test_unknown_status_gets_a_placeholder_reason() -> None:
    class OddStatus:
        def handle(self, request: object) -> FakeResponse:
            return FakeResponse(status=599, body=b"odd")

    env: dict[str, Any] = {"wsgi.input": io.BytesIO()}
    setup_testing_defaults(env)
    captured = Captured()
    make_wsgi_app(OddStatus())(env, captured)  # type: ignore[arg-type]
    assert captured.status == "599 Unknown"


def test_latency_is_waited_before_answering() -> None:
    class Slow:
        def handle(self, request: object) -> FakeResponse:
            return FakeResponse(status=200, body=b"late", delay_s=0.05)

    env: dict[str, Any] = {"wsgi.input": io.BytesIO()}
    setup_testing_defaults(env)
    captured = Captured()
    assert b"".join(make_wsgi_app(Slow())(env, captured)) == b"late"  # type: ignore[arg-type]
    assert captured.status == "200 OK"
