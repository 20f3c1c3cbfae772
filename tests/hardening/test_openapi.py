"""``GET /openapi.json``: served in both modes, pointing at the caller, and in step with the fake's
own rules (every field it validates, every status it can answer). Full OpenAPI validation and the
schema-driven fuzzer run in the ``schema`` tox env (tests/hardening/schema)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from together_image_fake import NAMED_ERRORS, FakeTogether, FakeTogetherServer
from together_image_fake._errors import named_error
from together_image_fake._openapi import OPENAPI_VERSION, openapi_document

# Every body field the fake's validation reads (see _validate.validate_generation).
VALIDATED_FIELDS = {
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
    "guidance",
    "disable_safety_checker",
    "image_url",
    "image_loras",
    "reference_images",
    "aspect_ratio",
}


@pytest.fixture(params=["inprocess", "server"])
def served(request: pytest.FixtureRequest) -> Iterator[tuple[FakeTogether, str]]:
    """A fake and the origin it answers at, in each mode."""
    fake = FakeTogether()
    if request.param == "inprocess":
        with fake:
            yield fake, "https://api.together.xyz"
    else:
        with FakeTogetherServer(fake) as server:
            yield fake, server.origin


def test_the_description_is_served_in_both_modes(served: tuple[FakeTogether, str]) -> None:
    fake, origin = served
    answer = requests.get(f"{origin}/openapi.json", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/json; charset=utf-8"
    document = answer.json()
    assert document["openapi"] == OPENAPI_VERSION == "3.1.0"
    assert set(document["paths"]) == {"/images/generations", "/models"}
    assert fake.calls == []  # a fake-only route: never in the call log


def test_the_server_url_is_the_servers_own_base_url() -> None:
    with FakeTogetherServer() as server:
        document = requests.get(f"{server.origin}/openapi.json", timeout=10).json()
    assert document["servers"] == [{"url": server.base_url}]


def _request_schema(document: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = document["components"]["schemas"]["ImageRequest"]
    return schema


def test_every_validated_field_is_described() -> None:
    schema = _request_schema(openapi_document("http://x/v1", ["m"]))
    assert set(schema["properties"]) == VALIDATED_FIELDS
    assert schema["required"] == ["prompt", "model"]


def test_registered_models_are_listed() -> None:
    fake = FakeTogether(models=["black-forest-labs/FLUX.1-schnell"])
    fake.register_model("acme/painter", like="black-forest-labs/FLUX.1-schnell")
    document = openapi_document("http://x/v1", fake.catalog.models)
    model = _request_schema(document)["properties"]["model"]
    assert model["anyOf"][0]["enum"] == ["acme/painter", "black-forest-labs/FLUX.1-schnell"]


@pytest.mark.parametrize("name", NAMED_ERRORS)
def test_every_error_the_fake_can_give_is_described(name: str) -> None:
    document = openapi_document("http://x/v1", ["m"])
    responses = document["paths"]["/images/generations"]["post"]["responses"]
    assert str(named_error(name, model="m").status) in responses


def test_the_document_is_plain_json() -> None:
    document = openapi_document("http://x/v1", ["m"])
    assert json.loads(json.dumps(document)) == document
