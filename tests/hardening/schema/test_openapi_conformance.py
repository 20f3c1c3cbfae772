"""The served description is valid OpenAPI 3.1, and the fake's real traffic conforms to it: bodies
from ``generation_requests()`` match the request schema, and every answer (images in both
formats, every kind of error) matches its response schema."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
import requests
from hypothesis import given, settings
from openapi_spec_validator import validate
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from together_image_fake import FakeTogetherServer
from together_image_fake.strategies import (
    InvalidRequestExample,
    generation_requests,
    invalid_generation_requests,
)

from .conftest import SCHEMA_KEY


@pytest.fixture(scope="module")
def document(schema_server: FakeTogetherServer) -> dict[str, Any]:
    answer = requests.get(f"{schema_server.origin}/openapi.json", timeout=10)
    assert answer.status_code == 200
    loaded: dict[str, Any] = answer.json()
    return loaded


def _validator(document: dict[str, Any], name: str) -> jsonschema.Draft202012Validator:
    registry: Registry[Any] = Registry().with_resource(
        "urn:openapi", DRAFT202012.create_resource(document)
    )
    schema = {"$ref": f"urn:openapi#/components/schemas/{name}"}
    return jsonschema.Draft202012Validator(schema, registry=registry)


def test_the_document_is_valid_openapi(document: dict[str, Any]) -> None:
    validate(document)


@settings(max_examples=40)
@given(generation_requests(max_side=512, max_n=2))
def test_valid_bodies_and_their_answers_conform(
    schema_server: FakeTogetherServer, document: dict[str, Any], body: dict[str, Any]
) -> None:
    _validator(document, "ImageRequest").validate(body)
    answer = requests.post(
        f"{schema_server.base_url}/images/generations",
        json=body,
        headers={"Authorization": f"Bearer {SCHEMA_KEY}"},
        timeout=30,
    )
    assert answer.status_code == 200
    _validator(document, "ImageResponse").validate(answer.json())


@settings(max_examples=40)
@given(invalid_generation_requests())
def test_error_answers_conform(
    schema_server: FakeTogetherServer, document: dict[str, Any], example: InvalidRequestExample
) -> None:
    answer = requests.post(
        f"{schema_server.base_url}/images/generations",
        data=json.dumps(example.body),
        headers={"Authorization": f"Bearer {SCHEMA_KEY}", "Content-Type": "application/json"},
        timeout=30,
    )
    assert str(answer.status_code) in document["paths"]["/images/generations"]["post"]["responses"]
    _validator(document, "Error").validate(answer.json())
