"""Secrets: a planted API key (and a wrong one a client tried) appears nowhere the toolkit writes
or shows: server request-log lines and any captured logging, exception messages, reprs and
tracebacks, the call log and every other control-API answer, the dashboard page, the OpenAPI
description, returned images, the CLI's output, and recorded cassettes with their blobs."""

from __future__ import annotations

import base64
import json
import logging
import signal
import subprocess
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from together_image import (
    TogetherImageClient,
    TogetherImageError,
    create_togetherai,
    generate_image,
)
from together_image_fake import (
    FakeTogether,
    FakeTogetherServer,
    TogetherProxy,
    record_cassette,
)
from together_image_fake._record import CassetteRecorder
from together_image_fake._secrets import SCRUBBED, Scrubber, is_secret_field, is_secret_header

# Distinctive enough that finding any form of them anywhere is a leak.
KEY = "tgp_v1_PLANTED-7c1e9a44f0b2d8e6-secret"
WRONG_KEY = "tgp_v1_WRONG-0d5b3f9e21c4a7b8-secret"
MODEL = "black-forest-labs/FLUX.1-schnell"
CONTROL_PATHS = (
    "/_fake/calls",
    "/_fake/faults",
    "/_fake/models",
    "/_fake/",
    "/openapi.json",
    "/_fake/images/1/0",
)


def _forms(secret: str) -> list[bytes]:
    """The secret as text, base64 (alone and as ``Bearer …``) and percent-encoded."""
    raw = secret.encode()
    return [
        raw,
        base64.b64encode(raw),
        base64.urlsafe_b64encode(raw),
        base64.b64encode(b"Bearer " + raw),
        quote(secret, safe="").encode(),
        secret.split("_", 2)[-1].encode(),  # the key without its tgp_v1_ prefix
    ]


def assert_no_secret(where: str, data: str | bytes) -> None:
    blob = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    for secret in (KEY, WRONG_KEY):
        for form in _forms(secret):
            assert form not in blob, f"{where} leaks a key ({form[:12]!r}...)"


@pytest.mark.parametrize("form", range(len(_forms(KEY))))
def test_the_detector_finds_every_form_of_a_key(form: int) -> None:
    with pytest.raises(AssertionError, match="leaks a key"):
        assert_no_secret("a planted leak", b"...log line " + _forms(WRONG_KEY)[form] + b" ...")


def _exception_texts(error: BaseException) -> str:
    parts = ["".join(traceback.format_exception(error)), repr(error), str(error)]
    for attribute in ("response_body", "request_body", "response_headers", "errors", "data"):
        parts.append(repr(getattr(error, attribute, None)))
    return "\n".join(parts)


@pytest.fixture
def captured(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every log record at DEBUG and above, from every logger."""
    with caplog.at_level(logging.DEBUG):
        yield caplog


def _traffic(base_url: str, fake: FakeTogether, errors: list[BaseException]) -> None:
    """Successes, a wrong key, and every fault kind, through the provider and the raw client."""
    provider = create_togetherai(api_key=KEY, base_url=base_url, timeout=0.5)
    model = provider.image(MODEL)
    result = generate_image(model=model, prompt="a quetzal", size="256x256", n=2)
    assert_no_secret("generated images", b"".join(image.data for image in result.images))
    assert_no_secret("response metadata", repr(result.responses))
    for prompt, setup in (
        ("wrong key", None),
        ("reset", {"kind": "reset", "times": 3}),
        ("timeout", {"kind": "timeout", "times": 3}),
        ("html", {"kind": "html", "status": 502, "times": 3}),
        ("429", {"error": "rate_limited", "times": 3}),
        ("401", {"error": "invalid_api_key"}),
    ):
        if setup is not None:
            fake.fail_next(**setup)
        key = WRONG_KEY if prompt == "wrong key" else KEY
        wrong = create_togetherai(api_key=key, base_url=base_url, timeout=0.5).image(MODEL)
        with pytest.raises(TogetherImageError) as raised:
            generate_image(model=wrong, prompt=prompt, size="256x256", sleep=lambda s: None)
        errors.append(raised.value)
    client = TogetherImageClient(api_key=WRONG_KEY, base_url=base_url)
    with pytest.raises(TogetherImageError) as raised:
        client.images.generate(model=MODEL, prompt="raw client")
    errors.append(raised.value)
    for thing in (provider, model, client, client.images, fake):
        assert_no_secret(f"repr of {type(thing).__name__}", repr(thing) + str(thing))


def test_nothing_leaks_over_http(captured: pytest.LogCaptureFixture) -> None:
    fake = FakeTogether(seed=4, api_keys=[KEY], rate_limits="off")
    errors: list[BaseException] = []
    with FakeTogetherServer(fake, timeout_hold_s=1.0) as server:
        _traffic(server.base_url, fake, errors)
        for path in (*CONTROL_PATHS, "/v1/models"):
            answer = requests.get(
                f"{server.origin}{path}", headers={"Authorization": f"Bearer {KEY}"}, timeout=10
            )
            assert answer.status_code == 200, path
            assert_no_secret(f"GET {path}", answer.content)
        assert_no_secret("the server's repr", repr(server))
    for error in errors:
        assert_no_secret(f"{type(error).__name__}", _exception_texts(error))
    assert_no_secret("call log", repr(fake.calls))
    lines = [record.getMessage() for record in captured.records]
    assert any('"POST /v1/images/generations' in line for line in lines)  # the log was captured
    for line in lines:
        assert_no_secret("a log line", line)


def test_nothing_leaks_in_process(captured: pytest.LogCaptureFixture) -> None:
    errors: list[BaseException] = []
    with FakeTogether(seed=4, api_keys=[KEY], rate_limits="off", sleep=lambda s: None) as fake:
        _traffic("https://api.together.xyz/v1", fake, errors)
        for path in CONTROL_PATHS:
            answer = requests.get(f"https://api.together.xyz{path}", timeout=10)
            assert answer.status_code == 200, path
            assert_no_secret(f"GET {path}", answer.content)
    for error in errors:
        assert_no_secret(f"{type(error).__name__}", _exception_texts(error))
    for record in captured.records:
        assert_no_secret("a log line", record.getMessage())


def _files_under(folder: Path) -> list[Path]:
    return [path for path in sorted(folder.rglob("*")) if path.is_file()]


def test_nothing_leaks_into_cassettes(tmp_path: Path) -> None:
    upstream = FakeTogether(seed=4, api_keys=[KEY], rate_limits="off")
    with FakeTogetherServer(upstream) as server:
        # Our client's traffic, recorded at the requests level.
        with record_cassette(tmp_path / "client.json"):
            provider = create_togetherai(api_key=KEY, base_url=server.base_url)
            generate_image(model=provider.image(MODEL), prompt="a quetzal", size="256x256")
            wrong = create_togetherai(api_key=WRONG_KEY, base_url=server.base_url).image(MODEL)
            with pytest.raises(TogetherImageError):
                generate_image(model=wrong, prompt="x", max_retries=0)
        # Any client's traffic, through the recording proxy (together-image-fake record).
        recorder = CassetteRecorder(tmp_path / "proxy.json")
        proxy = TogetherProxy(server.base_url, recorder=recorder, api_key=KEY)
        with FakeTogetherServer(proxy) as recording:
            for key in (KEY, WRONG_KEY):
                requests.post(
                    f"{recording.base_url}/images/generations",
                    json={"model": MODEL, "prompt": "via proxy", "response_format": "base64"},
                    headers={"Authorization": f"Bearer {key}"},
                    timeout=10,
                )
        recorder.save()
    written = _files_under(tmp_path)
    assert {path.name for path in written} >= {"client.json", "proxy.json"}
    assert any(path.suffix in (".jpg", ".png") for path in written)  # blobs are checked too
    for path in written:
        assert_no_secret(f"cassette file {path.name}", path.read_bytes())


def test_nothing_leaks_from_the_command_line() -> None:
    command = [
        sys.executable,
        "-m",
        "together_image_fake",
        "serve",
        "--port",
        "0",
        "--api-key",
        KEY,
        "--api-key",
        "tgp_v1_second-accepted-key-0000",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        base_url = first.rsplit(" ", 1)[-1].strip()
        assert base_url.startswith("http://127.0.0.1:"), first
        for key in (KEY, WRONG_KEY):
            requests.post(
                f"{base_url}/images/generations",
                json={"model": MODEL, "prompt": "cli"},
                headers={"Authorization": f"Bearer {key}"},
                timeout=10,
            )
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=10)
    assert '"POST /v1/images/generations' in stderr  # one request-log line per request
    assert_no_secret("serve's output", first + stdout + stderr)


@given(
    planted=st.text("ABCDEFabcdef0123456789_-", min_size=16, max_size=40),
    tried=st.text("ABCDEFabcdef0123456789_-", min_size=16, max_size=40),
)
def test_no_key_shape_leaks_from_a_rejected_call(planted: str, tried: str) -> None:
    key, wrong = f"tgp_v1_{planted}", f"tgp_v1_{tried}x"
    with FakeTogether(api_keys=[key]) as fake:
        model = create_togetherai(api_key=wrong).image(MODEL)
        with pytest.raises(TogetherImageError) as raised:
            generate_image(model=model, prompt="x", max_retries=0)
        text = _exception_texts(raised.value) + repr(fake.calls)
        text += str([call.to_json() for call in fake.calls])
    assert key not in text
    assert wrong not in text


# ---- the one rule for credential headers and fields ------------------------------------------

CREDENTIAL_HEADERS = [
    "Authorization",
    "Proxy-Authorization",
    "Cookie",
    "Set-Cookie",
    "X-Api-Key",
    "Api-Key",
    "X-Together-Api-Key",
    "X-Auth-Token",
    "X-Auth",
    "X-Goog-Authorization",
    "X-Session-Id",
    "X-Client-Secret",
    "X-Credentials",
]
PLAIN_HEADERS = [
    "Content-Type",
    "Content-Length",
    "X-Request-Id",
    "X-Ratelimit-Limit-Tokens",
    "X-Ratelimit-Remaining-Tokens",
    "WWW-Authenticate",
    "Authentication-Info",
    "X-Api-Call-Id",
    "Etag",
]
CREDENTIAL_FIELDS = [
    "api_key",
    "apiKey",
    "API-KEY",
    "apikey",
    "x-api-key",
    "x_api_key",
    "key",
    "token",
    "access_token",
    "refresh_token",
    "auth_token",
    "secret",
    "client_secret",
    "password",
    "passwd",
    "authorization",
    "auth",
    "sig",
    "X-Amz-Signature",
    "together_api_key",
    "db_password",
    "github_access_token",
]
PLAIN_FIELDS = [
    "prompt",
    "model",
    "max_tokens",
    "prompt_tokens",
    "keyword",
    "monkey",
    "key_frames",
    "seed",
    "response_format",
    "tokens",
]


@pytest.mark.parametrize("name", CREDENTIAL_HEADERS)
def test_credential_headers_are_recognised_by_the_one_rule(name: str) -> None:
    assert is_secret_header(name)
    kept, dropped = Scrubber().headers([(name, "value-1234"), ("Content-Type", "text/plain")])
    assert dropped == (name,)
    assert kept == (("Content-Type", "text/plain"),)


@pytest.mark.parametrize("name", PLAIN_HEADERS)
def test_headers_that_carry_no_credential_are_kept(name: str) -> None:
    assert not is_secret_header(name)


@pytest.mark.parametrize("name", CREDENTIAL_FIELDS)
def test_credential_fields_are_recognised_by_the_one_rule(name: str) -> None:
    assert is_secret_field(name)
    assert Scrubber().json({name: "hunter22", "prompt": "p"}) == {name: SCRUBBED, "prompt": "p"}


@pytest.mark.parametrize("name", PLAIN_FIELDS)
def test_fields_that_carry_no_credential_are_kept(name: str) -> None:
    assert not is_secret_field(name)
    assert Scrubber().json({name: "hunter22"}) == {name: "hunter22"}


@given(
    index=st.integers(min_value=0, max_value=len(CREDENTIAL_HEADERS + PLAIN_HEADERS) - 1),
    flips=st.lists(st.booleans(), min_size=32, max_size=32),
)
def test_the_header_rule_ignores_case(index: int, flips: list[bool]) -> None:
    name = (CREDENTIAL_HEADERS + PLAIN_HEADERS)[index]
    recased = "".join(c.swapcase() if flip else c for c, flip in zip(name, flips, strict=False))
    assert is_secret_header(recased) == is_secret_header(name)


@given(
    index=st.integers(min_value=0, max_value=len(CREDENTIAL_FIELDS + PLAIN_FIELDS) - 1),
    flips=st.lists(st.booleans(), min_size=32, max_size=32),
)
def test_the_field_rule_ignores_case(index: int, flips: list[bool]) -> None:
    name = (CREDENTIAL_FIELDS + PLAIN_FIELDS)[index]
    recased = "".join(c.swapcase() if flip else c for c, flip in zip(name, flips, strict=False))
    assert is_secret_field(recased) == is_secret_field(name)


def test_a_recording_scrubs_every_credential_header_and_field_of_the_audit() -> None:
    # The headers and the body field an audit found verbatim in the call log.
    audit = ["Cookie", "Proxy-Authorization", "Api-Key", "X-Together-Api-Key", "X-Auth-Token"]
    recorder = CassetteRecorder("unused.json", environ={})

    interaction = recorder.add(
        method="POST",
        url="https://api.together.xyz/v1/images/generations",
        request_headers=[(name, f"{name}-{KEY}") for name in audit],
        request_body=f'{{"api_key": "{KEY}", "prompt": "p"}}'.encode(),
        status=200,
        response_body=b"{}",
    )

    assert interaction.request.headers == ()
    # Proxy-Authorization is hop-by-hop: dropped before scrubbing, so not even its name is kept.
    assert interaction.request.scrubbed_headers == tuple(
        name for name in audit if name != "Proxy-Authorization"
    )
    assert json.loads(interaction.request.body) == {"api_key": SCRUBBED, "prompt": "p"}
