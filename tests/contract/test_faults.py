"""Faults as data, queued over HTTP (``POST /_fake/faults``) or in Python (``fake.fail_next``)."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from .conftest import ContractAPI

NAMED = [
    ("invalid_api_key", 401, "invalid_request_error", "invalid_api_key"),
    ("credit_limit", 402, "credit_limit", None),
    ("request_blocked", 403, "request_blocked", None),
    ("model_not_available", 404, "invalid_request_error", "model_not_available"),
    ("payload_too_large", 413, "invalid_request_error", None),
    ("safety_checker", 422, "invalid_request_error", None),
    ("rate_limited", 429, "model_rate_limit", None),
    ("dynamic_request_limited", 429, "dynamic_request_limited", None),
    ("server_error", 500, "server_error", None),
    ("overloaded", 503, "server_error", None),
    ("gateway_timeout", 504, "server_error", None),
    ("bad_request", 400, "invalid_request_error", None),
]


@pytest.mark.parametrize(("name", "status", "kind", "code"), NAMED, ids=[n[0] for n in NAMED])
def test_named_errors_answer_in_the_real_shape(
    api: ContractAPI, name: str, status: int, kind: str, code: str | None
) -> None:
    assert api.post("/_fake/faults", json={"error": name}, key=None).json() == {"queued": 1}

    reply = api.generate(prompt="x")

    assert reply.status == status
    error = reply.json()["error"]
    assert (error["type"], error["code"], error["param"]) == (kind, code, None)
    assert api.generate(prompt="x").status == 200


def test_rate_limited_fault_carries_retry_headers(api: ContractAPI) -> None:
    api.fake.fail_next(error="rate_limited")

    reply = api.generate(prompt="x")

    assert reply.headers["Retry-After"] == "10"
    assert reply.headers["X-Ratelimit-Remaining"] == "0"
    assert "black-forest-labs/FLUX.1-schnell" in reply.json()["error"]["message"]


def test_status_faults_repeat_then_stop(api: ContractAPI) -> None:
    api.post("/_fake/faults", json={"status": 503, "times": 2}, key=None)

    statuses = [api.generate(prompt="x").status for _ in range(3)]

    assert statuses == [503, 503, 200]
    assert [call.fault for call in api.fake.calls] == ["status=503", "status=503", None]


def test_a_list_of_faults_applies_in_order(api: ContractAPI) -> None:
    faults = [{"status": 500}, {"error": "rate_limited"}, {"status": 418}]

    assert api.post("/_fake/faults", json=faults, key=None).json() == {"queued": 3}
    assert [api.generate(prompt="x").status for _ in range(4)] == [500, 429, 418, 200]


def test_pending_faults_are_listed_with_what_remains(api: ContractAPI) -> None:
    api.post("/_fake/faults", json={"status": 503, "times": 3, "model": "m"}, key=None)
    api.generate(model="m", prompt="x")

    assert api.get("/_fake/faults", key=None).json() == [
        {"status": 503, "error": None, "latency_s": 0.0, "kind": None, "times": 2, "model": "m"}
    ]


def test_a_model_fault_spares_other_models(api: ContractAPI) -> None:
    api.fake.fail_next(status=500, model="black-forest-labs/FLUX.2-dev")

    assert api.generate(prompt="x").status == 200
    assert api.generate(model="black-forest-labs/FLUX.2-dev", prompt="x").status == 500


def test_html_fault_answers_a_gateway_page(api: ContractAPI) -> None:
    api.fake.fail_next(kind="html")

    reply = api.generate(prompt="x")

    assert reply.status == 502
    assert reply.headers["Content-Type"].startswith("text/html")
    assert b"<html>" in reply.body


def test_latency_fault_delays_a_normal_answer(api: ContractAPI) -> None:
    api.fake.fail_next(latency_s=0.01)

    reply = api.generate(prompt="x")

    assert reply.status == 200
    assert api.fake.calls[0].fault == "latency_s=0.01"
    assert api.fake.calls[0].duration_ms >= 10


def test_reset_fault_drops_the_connection(api: ContractAPI) -> None:
    api.fake.fail_next(kind="reset")

    with pytest.raises(api.dropped):
        api.generate(prompt="x")
    assert api.fake.calls[0].status == 0
    assert api.generate(prompt="x").status == 200


def test_timeout_fault_never_answers_in_time(api: ContractAPI) -> None:
    api.fake.fail_next(kind="timeout")

    with pytest.raises(requests.Timeout):
        api.post(
            "/v1/images/generations",
            json={"model": "black-forest-labs/FLUX.1-schnell", "prompt": "x"},
            timeout=0.3,
        )


INVALID_FAULTS: list[Any] = [
    {},
    {"status": 99},
    {"status": "503"},
    {"error": "teapot"},
    {"kind": "explode"},
    {"kind": "reset", "status": 500},
    {"latency_s": -1},
    {"times": 0},
    {"colour": "red"},
    [{"status": 500}, 3],
    "503",
]


@pytest.mark.parametrize("fault", INVALID_FAULTS, ids=[str(f) for f in INVALID_FAULTS])
def test_invalid_faults_get_400_and_queue_nothing(api: ContractAPI, fault: Any) -> None:
    reply = api.post("/_fake/faults", json=fault, key=None)

    assert reply.status == 400
    assert list(reply.json()) == ["id", "error"]
    assert api.fake.pending_faults() == []
