"""Fuzz the loopback server over raw sockets: bodies, JSON, numbers, nesting, encodings, headers,
framing and truncation. Every answer is a 4xx in the real error shape (a 2xx when the fuzz happens
to be a valid request), never a 5xx unless the request names one of Together's non-image models
(the real API answers those with 500 [REC]); the server keeps serving throughout."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from together_image_fake import FakeTogetherServer, Fault
from together_image_fake._catalog import is_non_image_model
from together_image_fake.strategies import (
    InvalidRequestExample,
    fake_faults,
    invalid_generation_requests,
)

from ._raw import RawResponse, assert_real_error, exchange, request_bytes
from .conftest import FuzzTally

SCHNELL = "black-forest-labs/FLUX.1-schnell"
VALID = {"model": SCHNELL, "prompt": "a quetzal", "width": 256, "height": 256}
# GET /v1/models answers a missing key with this compact body, unlike the image endpoint [REC].
COMPACT_401 = b'{"error":{"message":"Unauthorized"}}'
FIELDS = (
    "model",
    "prompt",
    "width",
    "height",
    "steps",
    "n",
    "seed",
    "response_format",
    "output_format",
    "negative_prompt",
    "guidance_scale",
    "disable_safety_checker",
    "image_url",
    "image_loras",
    "reference_images",
    "aspect_ratio",
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)


def _check(
    tally: FuzzTally, category: str, responses: list[RawResponse], body: Any = None
) -> list[RawResponse]:
    """Tally the answers and check each: 2xx, or a 4xx (500 for a non-image model) real error."""
    for response in responses:
        if response.status < 300 or response.body == COMPACT_401:
            tally.record(category, response.status)
            continue
        error = assert_real_error(response)
        model = body.get("model") if isinstance(body, dict) else None
        if response.status == 500 and isinstance(model, str) and is_non_image_model(model):
            tally.record(category, response.status, explained="real API")
            assert error["type"] == "server_error"
            continue
        tally.record(category, response.status)
        assert 400 <= response.status < 500, (response.status, error)
    if not responses:
        tally.record(category, None)
    return responses


def _post(server: FakeTogetherServer, body: bytes) -> list[RawResponse]:
    return exchange(server.port, request_bytes(body=body))


def _assert_still_serving(server: FakeTogetherServer) -> None:
    (answer,) = _post(server, json.dumps(VALID).encode())
    assert answer.status == 200
    (calls,) = exchange(
        server.port, request_bytes("GET", "/_fake/calls", headers={"Host": "127.0.0.1"})
    )
    assert calls.status == 200
    # Not parsed: a logged body may be nested deeper than this process's JSON parser allows.
    assert calls.body.startswith(b"[")


@given(st.binary(max_size=512))
def test_arbitrary_bytes_as_the_body(
    fuzz_server: FakeTogetherServer, fuzz_tally: FuzzTally, body: bytes
) -> None:
    (answer,) = _check(fuzz_tally, "arbitrary body bytes", _post(fuzz_server, body))
    assert answer.status == 400


@given(json_values)
def test_arbitrary_json_as_the_body(
    fuzz_server: FakeTogetherServer, fuzz_tally: FuzzTally, value: Any
) -> None:
    (answer,) = _check(
        fuzz_tally, "arbitrary JSON", _post(fuzz_server, json.dumps(value).encode()), value
    )
    assert answer.status == 400


@given(st.fixed_dictionaries({}, optional=dict.fromkeys(FIELDS, json_values)))
def test_known_fields_with_values_of_any_type(
    fuzz_server: FakeTogetherServer, fuzz_tally: FuzzTally, body: dict[str, Any]
) -> None:
    _check(
        fuzz_tally, "known fields, any JSON", _post(fuzz_server, json.dumps(body).encode()), body
    )


@given(invalid_generation_requests(models=[SCHNELL, "black-forest-labs/FLUX.2-dev"]))
def test_wrong_types_and_values_get_the_exact_error(
    fuzz_server: FakeTogetherServer, fuzz_tally: FuzzTally, example: InvalidRequestExample
) -> None:
    (answer,) = _check(
        fuzz_tally,
        "one mistake (invalid_generation_requests)",
        _post(fuzz_server, json.dumps(example.body).encode()),
        example.body,
    )
    error = assert_real_error(answer)
    assert (answer.status, error["type"], error["code"]) == (
        example.status,
        example.error_type,
        example.error_code,
    )


huge_numbers = st.one_of(
    st.sampled_from(
        [
            "1e400",
            "-1e400",
            "1e308",
            "4.9e-324",
            "9" * 4301,
            "-" + "9" * 5000,
            "18446744073709551617",
            "1" + "0" * 300,
            "1.0000000000000000000001",
            "0.0",
            "-0",
            "NaN",
            "Infinity",
            "-Infinity",
        ]
    ),
    st.integers().map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
)


@given(st.sampled_from(["width", "height", "steps", "n", "seed", "guidance_scale"]), huge_numbers)
def test_huge_and_odd_numbers(
    fuzz_server: FakeTogetherServer, fuzz_tally: FuzzTally, name: str, number: str
) -> None:
    head = json.dumps(VALID)[:-1]
    body = f'{head}, "{name}": {number}}}'.encode()
    (answer,) = _check(fuzz_tally, "huge and odd numbers", _post(fuzz_server, body))
    if number in ("NaN", "Infinity", "-Infinity") or len(number) > 4300:
        assert answer.status == 400


@pytest.mark.parametrize("depth", [1, 10, 100, 500, 900, 1100, 5000, 200_000])
@pytest.mark.parametrize("where", ["whole body", "inside a valid body"])
@pytest.mark.parametrize("kind", ["arrays", "objects"])
def test_deep_nesting(
    fuzz_server: FakeTogetherServer, fuzz_tally: FuzzTally, depth: int, where: str, kind: str
) -> None:
    opening, closing = ('{"a":', "}") if kind == "objects" else ("[", "]")
    nested = opening * depth + ("1" if kind == "objects" else "") + closing * depth
    text = nested if where == "whole body" else json.dumps(VALID)[:-1] + f', "extra": {nested}}}'
    (answer,) = _check(fuzz_tally, "deep nesting", _post(fuzz_server, text.encode()))
    if where == "whole body":
        assert answer.status == 400
    _assert_still_serving(fuzz_server)


def test_bodies_nested_near_the_recursion_limit_never_break_the_call_log(
    fuzz_server: FakeTogetherServer, fuzz_tally: FuzzTally
) -> None:
    try:
        for depth in range(900, 1001, 10):
            text = json.dumps(VALID)[:-1] + f', "extra": {"[" * depth + "]" * depth}}}'
            answers = _post(fuzz_server, text.encode())
            _check(fuzz_tally, "deep nesting near the limit", answers)
            assert [answer.status for answer in answers] == [400]
            _assert_still_serving(fuzz_server)
            assert fuzz_server.fake.calls[-2].body is None  # logged, but not as unencodable JSON
    finally:
        fuzz_server.fake.reset()  # the poisoned log would fail every later test


@given(st.binary(min_size=1, max_size=8), st.integers(0, 40))
def test_invalid_utf8_in_the_body(
    fuzz_server: FakeTogetherServer, fuzz_tally: FuzzTally, junk: bytes, position: int
) -> None:
    valid = json.dumps(VALID).encode()
    cut = min(position, len(valid))
    body = valid[:cut] + b"\xff\xfe" + junk + valid[cut:]
    (answer,) = _check(fuzz_tally, "invalid UTF-8 body", _post(fuzz_server, body))
    assert answer.status == 400


header_names = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters=":"),
    min_size=1,
    max_size=12,
)
header_values = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=255, exclude_characters="\r\n"),
    max_size=30,
)


GOOD_HEADERS = {
    "Host": "127.0.0.1",
    "Authorization": "Bearer tgp_v1_fuzz-key",
    "Content-Type": "application/json",
    "Accept": "application/json",
}


@given(
    st.sets(st.sampled_from(sorted(GOOD_HEADERS))),
    st.dictionaries(
        st.sampled_from(sorted(GOOD_HEADERS)) | header_names, header_values, max_size=4
    ),
)
def test_missing_and_garbled_headers(
    fuzz_server: FakeTogetherServer,
    fuzz_tally: FuzzTally,
    kept: set[str],
    garbled: dict[str, str],
) -> None:
    body = json.dumps(VALID).encode()
    headers = {name: value for name, value in GOOD_HEADERS.items() if name in kept}
    headers.update(
        (name, value)
        for name, value in garbled.items()
        if name.lower() not in ("content-length", "transfer-encoding", "expect")
    )
    headers["Content-Length"] = str(len(body))
    head = "POST /v1/images/generations HTTP/1.1\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in headers.items()
    )
    responses = exchange(fuzz_server.port, head.encode("latin-1") + b"\r\n" + body)
    _check(fuzz_tally, "missing and garbled headers", responses)


@pytest.mark.parametrize(
    "head",
    [
        b"POST /v1/images/generations HTTP/1.1\r\nHost x\r\nContent-Length: 2\r\n\r\n{}",
        b"POST /v1/images/generations HTTP/1.1\r\n : empty name\r\nContent-Length: 2\r\n\r\n{}",
        b"POST /v1/images/generations HTTP/1.1\r\nHost: x\r\n folded: line\r\n\r\n",
        b"POST /v1/images/generations HTTP/1.1\r\nAuthorization: Bearer \xff\xfe\r\n\r\n",
        b"POST /v1/images/generations HTTP/1.1\r\nX: \x00\x01\x02\r\n\r\n",
        b"GET /v1/models HTTP/1.1\r\nX: " + b"a" * 70_000 + b"\r\n\r\n",
        b"GET /v1/models HTTP/1.1\r\n" + b"".join(b"X%d: 1\r\n" % i for i in range(150)) + b"\r\n",
        b"GET /v1/mo\x00dels HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /v1/modèls HTTP/1.1\r\nHost: x\r\n\r\n".encode(),
        b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.x\r\n\r\n",
        b"GET / HTTP/1.1 extra\r\n\r\n",
        b"FOO /v1/images/generations HTTP/1.1\r\nHost: x\r\n\r\n",
        b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET http://127.0.0.1/v1/models HTTP/1.1\r\n\r\n",
        b"\xff\xfe / HTTP/1.1\r\n\r\n",
    ],
    ids=lambda head: repr(head[:40]),
)
def test_garbled_request_heads(
    fuzz_server: FakeTogetherServer, fuzz_tally: FuzzTally, head: bytes
) -> None:
    _check(fuzz_tally, "garbled request heads", exchange(fuzz_server.port, head))
    _assert_still_serving(fuzz_server)


@pytest.mark.parametrize(
    "head",
    [
        b"POST /v1/images/generations HTTP/2.0\r\nHost: x\r\n\r\n",
        b"POST /v1/images/generations HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
        b"POST /v1/images/generations HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
    ],
)
def test_unsupported_protocol_features_get_a_400(
    fuzz_server: FakeTogetherServer, fuzz_tally: FuzzTally, head: bytes
) -> None:
    (answer,) = exchange(fuzz_server.port, head)
    fuzz_tally.record("unsupported protocol features", answer.status)
    assert_real_error(answer)
    assert answer.status == 400
    _assert_still_serving(fuzz_server)


def test_malformed_absolute_target_gets_a_400(
    fuzz_server: FakeTogetherServer, fuzz_tally: FuzzTally
) -> None:
    responses = exchange(fuzz_server.port, b"GET http://[::1/x HTTP/1.1\r\n\r\n")
    assert [response.status for response in responses] == [400]
    _check(fuzz_tally, "malformed absolute target", responses)


content_lengths = st.one_of(
    st.sampled_from(["-1", "+2", " ", "", "0x10", "1e3", "２", "1,2", "99999999999999999999999"]),
    st.integers(-5, 10**12).map(str),
    st.text(max_size=6),
)


@given(content_lengths, st.binary(max_size=64))
def test_bad_content_length(
    fuzz_server: FakeTogetherServer, fuzz_tally: FuzzTally, length: str, body: bytes
) -> None:
    head = (
        "POST /v1/images/generations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n"
        f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    )
    responses = exchange(fuzz_server.port, head.encode("utf-8") + body)
    _check(fuzz_tally, "bad Content-Length", responses)
    declared = length.strip()
    if declared.isascii() and declared.isdigit() and int(declared) > fuzz_server.max_body_bytes:
        assert [response.status for response in responses] == [413]


def test_two_different_content_lengths_are_refused(
    fuzz_server: FakeTogetherServer, fuzz_tally: FuzzTally
) -> None:
    head = (
        b"POST /v1/images/generations HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}"
    )
    (answer,) = _check(fuzz_tally, "bad Content-Length", exchange(fuzz_server.port, head))
    assert answer.status == 400


@given(st.data())
def test_truncated_requests(
    fuzz_server: FakeTogetherServer, fuzz_tally: FuzzTally, data: st.DataObject
) -> None:
    whole = request_bytes(body=json.dumps(VALID).encode())
    cut = data.draw(st.integers(0, len(whole) - 1))
    responses = exchange(fuzz_server.port, whole[:cut])
    # A cut inside the body leaves nothing to answer: the server closes. A head cut short is read
    # up to the end of input (the stdlib parser's way), so it may get a 4xx for what is missing.
    _check(fuzz_tally, "truncated requests", responses)


@given(fake_faults(max_latency_s=0.01, max_times=1))
def test_a_5xx_comes_only_when_a_fault_asks_for_it(
    fuzz_server: FakeTogetherServer, fuzz_tally: FuzzTally, fault: Fault
) -> None:
    fuzz_server.fake.queue_faults([fault])
    body = json.dumps(VALID).encode()
    headers = {**GOOD_HEADERS, "Content-Length": str(len(body)), "Connection": "close"}
    # Not half-closed: the server would take that for a client leaving during the latency.
    responses = exchange(
        fuzz_server.port,
        request_bytes(headers=headers, body=body),
        timeout=fuzz_server.timeout_hold_s + 5,
        half_close=False,
    )
    statuses = [response.status for response in responses]
    for status in statuses:
        fuzz_tally.record("queued faults", status, explained="fault" if status >= 500 else None)
    if fault.kind in ("reset", "timeout"):
        assert statuses == []  # dropped, or held and then closed without an answer
        fuzz_tally.record("queued faults", None)
    elif fault.kind == "html":
        assert statuses == [fault.status]
        assert responses[0].headers["content-type"].startswith("text/html")
    elif fault.status is not None or fault.error is not None:
        assert_real_error(responses[0])
        assert statuses[0] >= 400
    else:
        assert statuses == [200]  # latency alone
    assert fuzz_server.fake.pending_faults() == []
    _assert_still_serving(fuzz_server)


def test_server_survives_the_fuzzing_without_leaking_threads(
    fuzz_server: FakeTogetherServer, fuzz_tally: FuzzTally
) -> None:
    before = threading.active_count()
    for body in (b"\xff", b"[" * 100_000, b"{}"):
        _check(fuzz_tally, "arbitrary body bytes", _post(fuzz_server, body))
    _assert_still_serving(fuzz_server)
    assert threading.active_count() <= before + 1
