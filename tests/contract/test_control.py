"""The `/_fake/` control API over HTTP: call log, images, reset, models, dashboard, 404s."""

from __future__ import annotations

import base64
import io
import re

import pytest
from PIL import Image

from .conftest import ContractAPI

CALL_KEYS = [
    "seq",
    "time",
    "method",
    "path",
    "headers",
    "body",
    "status",
    "model",
    "prompt",
    "width",
    "height",
    "response_format",
    "error",
    "fault",
    "images",
    "input_image",
    "reference_sha256s",
    "duration_ms",
]


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (0, 128, 255)).save(buffer, "PNG")
    return buffer.getvalue()


def test_calls_lists_each_api_call_in_the_documented_shape(api: ContractAPI) -> None:
    api.generate(prompt="first", width=256, height=256)
    api.generate(prompt="second", width=7)

    calls = api.get("/_fake/calls", key=None).json()

    assert [list(call) for call in calls] == [CALL_KEYS, CALL_KEYS]
    first, second = calls
    assert (first["seq"], second["seq"]) == (1, 2)
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", first["time"])
    assert (first["method"], first["path"], first["status"]) == (
        "POST",
        "/v1/images/generations",
        200,
    )
    assert first["headers"]["authorization"] == "Bearer ***"
    assert first["body"]["prompt"] == "first"
    assert (first["model"], first["prompt"], first["width"], first["height"]) == (
        "black-forest-labs/FLUX.1-schnell",
        "first",
        256,
        256,
    )
    assert (first["response_format"], first["error"], first["fault"]) == ("url", None, None)
    assert first["images"] == ["/_fake/images/1/0"]
    assert first["input_image"] is None
    assert isinstance(first["duration_ms"], float)
    assert second["status"] == 400
    assert list(second["error"]) == ["message", "type", "code"]
    assert second["images"] == []


def test_the_key_never_appears_in_the_control_api(api: ContractAPI) -> None:
    api.post(
        "/v1/images/generations",
        json={"model": "black-forest-labs/FLUX.1-schnell", "prompt": "x"},
        key="sk-very-secret-key",
    )

    assert b"sk-very-secret-key" not in api.get("/_fake/calls", key=None).body
    assert "sk-very-secret-key" not in repr(api.fake.calls)


def test_images_and_inputs_are_served_with_their_type(api: ContractAPI) -> None:
    data_url = "data:image/png;base64," + base64.b64encode(_png()).decode()
    api.generate(model="black-forest-labs/FLUX.1-kontext-pro", prompt="x", image_url=data_url)

    image = api.get("/_fake/images/1/0", key=None)
    source = api.get("/_fake/inputs/1", key=None)

    assert (image.status, image.headers["Content-Type"]) == (200, "image/jpeg")
    assert image.body == api.fake.calls[0].images[0]
    assert (source.status, source.headers["Content-Type"], source.body) == (
        200,
        "image/png",
        _png(),
    )


@pytest.mark.parametrize("path", ["/_fake/images/9/0", "/_fake/images/1/5", "/_fake/inputs/1"])
def test_missing_images_are_404_in_the_real_shape(api: ContractAPI, path: str) -> None:
    api.generate(prompt="x")

    reply = api.get(path, key=None)

    assert reply.status == 404
    assert list(reply.json()) == ["id", "error"]


def test_control_calls_are_not_logged(api: ContractAPI) -> None:
    api.get("/_fake/calls", key=None)
    api.get("/_fake/models", key=None)
    api.get("/_fake/nope", key=None)

    assert api.fake.calls == []


def test_reset_forgets_calls_and_faults(api: ContractAPI) -> None:
    api.generate(prompt="x")
    api.post("/_fake/faults", json={"status": 503}, key=None)

    reply = api.post("/_fake/reset", key=None)

    assert reply.json() == {"reset": True}
    assert api.get("/_fake/calls", key=None).json() == []
    assert api.get("/_fake/faults", key=None).json() == []
    assert api.generate(prompt="x").json()["data"]


def test_models_show_every_rule_with_its_provenance(api: ContractAPI) -> None:
    models = api.get("/_fake/models", key=None).json()

    schnell = next(m for m in models if m["id"] == "black-forest-labs/FLUX.1-schnell")
    assert schnell["rules"]["default_steps"] == {
        "value": 4,
        "source": "DOC",
        "note": "docs: 'Fastest; default 4 steps'",
    }
    sources = {rule["source"] for m in models for rule in m["rules"].values()}
    assert sources <= {"REC", "DOC", "SDK", "RUN", "3P", "INF", "USER"}


def test_dashboard_is_html(api: ContractAPI) -> None:
    reply = api.get("/_fake/", key=None)

    assert reply.status == 200
    assert reply.headers["Content-Type"] == "text/html; charset=utf-8"
    assert b"<html" in reply.body.lower()


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/v2/images"), ("GET", "/v1/images/generations"), ("DELETE", "/_fake/calls")],
)
def test_unknown_routes_get_404_naming_the_routes(api: ContractAPI, method: str, path: str) -> None:
    reply = api.request(method, path)

    assert reply.status == 404
    error = reply.json()["error"]
    assert error["code"] == "not_found"
    assert "POST /v1/images/generations" in error["message"]
    assert f"{method} {path}" in error["message"]
