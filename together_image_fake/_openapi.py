"""The OpenAPI 3.1 description of the fake's API, served at ``GET /openapi.json``.

It describes what the fake (and, as far as the reference knows, the real API) accepts and answers
on ``POST /images/generations`` and ``GET /models``: the request fields and types of Together's
own OpenAPI spec [DOC] plus the documented extras (``aspect_ratio``, ``guidance``) [DOC], the
success body as recorded (no ``type`` by default [REC]), and every error status with the real
error body ``{"id", "error": {"message", "type", "param", "code"}}`` [REC]. Constraints appear
only where every model and both strictness modes enforce them, so a schema-driven fuzzer may
expect any body the schema rejects to be rejected; a field some model accepts and ignores has its
shape under ``x-where-used`` instead. The per-model rules (which fields each model uses, ignores or
refuses with which words, its value rules and order of checks) come from the table the client
reads, ``together_image.models``, under ``x-together-models``. Optional fields are nullable
because the fake treats ``null`` as "not given" [INF].
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from together_image.models import REJECTION_ORDER, model_params
from together_image_fake._validate import MAX_SIDE
from together_image_fake._wire import JSON_CONTENT_TYPE, FakeRequest, FakeResponse, json_bytes

OPENAPI_VERSION = "3.1.0"

_ERROR_STATUSES: Mapping[str, str] = {
    "400": "Invalid request: malformed JSON, a missing or mistyped field, a value out of range.",
    "401": "Missing or invalid API key (code invalid_api_key) [REC].",
    "402": "Credit limit exceeded (type credit_limit) [3P].",
    "403": "The model needs a higher build tier (type request_blocked) [3P].",
    "404": "Unknown model (code model_not_available) [REC].",
    "413": "Request body too large [3P].",
    "422": "The safety checker flagged the request [DOC].",
    "429": "Rate limited (type model_rate_limit or dynamic_request_limited), with Retry-After.",
    "500": "Internal server error, e.g. a chat model on this endpoint (type server_error) [REC].",
    "503": "Engine overloaded (injected as a fault) [DOC].",
    "504": "Timeout (injected as a fault) [DOC].",
}


def _nullable(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Allow ``null`` besides ``schema`` (the fake reads ``null`` as "not given")."""
    return {"anyOf": [dict(schema), {"type": "null"}]}


def _per_model(description: str, schema: Mapping[str, Any]) -> dict[str, Any]:
    """A field some model ignores: no constraint every model enforces, the shape it takes where
    it is used given in ``x-where-used``."""
    return {"description": description, "x-where-used": _nullable(schema)}


def _request_schema(model_ids: Iterable[str]) -> dict[str, Any]:
    side = {"type": "integer", "minimum": 1, "maximum": MAX_SIDE}
    return {
        "type": "object",
        "required": ["prompt", "model"],
        "properties": {
            "prompt": {
                "type": "string",
                "description": "A description of the desired images [DOC].",
            },
            "model": {
                "description": "The model id [DOC]; these are the image models the fake serves.",
                "anyOf": [{"type": "string", "enum": sorted(model_ids)}, {"type": "string"}],
            },
            "steps": _nullable({"type": "integer", "minimum": 1, "maximum": 50}),
            "image_url": _per_model(
                "One input image, an http(s) URL or a base64 data URL [DOC]: used by FLUX.1 "
                "Kontext, ignored by FLUX.1-schnell, refused by FLUX.2 and the partner models "
                "(x-together-models).",
                {"type": "string"},
            ),
            "seed": _nullable({"type": "integer"}),
            "n": _nullable({"type": "integer", "minimum": 1, "maximum": 4}),
            "height": _nullable(side),
            "width": _nullable(side),
            "negative_prompt": _per_model(
                "What to avoid [DOC]; ignored by FLUX.1-schnell, refused by FLUX.2 and Google.",
                {"type": "string"},
            ),
            "response_format": _nullable({"type": "string", "enum": ["base64", "url"]}),
            "guidance_scale": _per_model("Prompt adherence [DOC].", {"type": "number"}),
            "guidance": _per_model("FLUX.2 dev/flex guidance [DOC].", {"type": "number"}),
            "output_format": _per_model(
                "Image encoding [DOC]; ignored by the partner models.",
                {"type": "string", "enum": ["jpeg", "png"]},
            ),
            "image_loras": _per_model(
                "LoRA adapters [DOC]: FLUX.2-dev (and the retired FLUX.1-dev-lora).",
                {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["path", "scale"],
                        "properties": {"path": {"type": "string"}, "scale": {"type": "number"}},
                    },
                },
            ),
            "reference_images": _per_model(
                "Several input images [DOC]: FLUX.2 and the Gemini image models.",
                {"type": "array", "items": {"type": "string"}},
            ),
            "disable_safety_checker": _per_model(
                "Turn the safety checker off where the model allows it [DOC].", {"type": "boolean"}
            ),
            "aspect_ratio": _per_model(
                "E.g. 16:9; sets the size when width/height are absent, on FLUX.1-schnell and "
                "Kontext [DOC].",
                {"type": "string", "pattern": "^[1-9][0-9]{0,2}:[1-9][0-9]{0,2}$"},
            ),
        },
    }


def _model_rules(model_ids: Iterable[str]) -> dict[str, Any]:
    """Per model, from the table the client reads (``together_image.models``): what it does with
    every field (accepted, ignored, or rejected with which words), its value rules with their
    provenance, its wording family and its order of checks."""
    rules: dict[str, Any] = {}
    for model_id in sorted(model_ids):
        params = model_params(model_id)
        if params is None:
            continue  # a model the test registered: its rules are in GET /_fake/models
        rules[model_id] = {
            **params.to_json(),
            "check_order": params.check_order.to_json(),
            "rejection_order": REJECTION_ORDER.to_json(),
        }
    return rules


_IMAGE_ITEM: dict[str, Any] = {
    "type": "object",
    "required": ["index"],
    "properties": {
        "index": {"type": "integer", "minimum": 0},
        "b64_json": {"type": "string"},
        "url": {"type": "string"},
        "type": {"type": "string", "enum": ["b64_json", "url"]},
        "timings": {"type": "object", "properties": {"inference": {"type": "number"}}},
    },
    "oneOf": [{"required": ["b64_json"]}, {"required": ["url"]}],
}

_IMAGE_RESPONSE: dict[str, Any] = {
    "type": "object",
    "required": ["id", "model", "object", "data"],
    "properties": {
        "id": {"type": "string"},
        "model": {"type": "string"},
        "object": {"const": "list"},
        "data": {"type": "array", "items": {"$ref": "#/components/schemas/ImageData"}},
    },
}

_ERROR_RESPONSE: dict[str, Any] = {
    "type": "object",
    "required": ["id", "error"],
    "properties": {
        "id": {"type": "string"},
        "error": {
            "type": "object",
            "required": ["message", "type", "param", "code"],
            "additionalProperties": False,
            "properties": {
                "message": {"type": "string"},
                "type": {"type": "string"},
                "param": {"type": ["string", "null"]},
                "code": {"type": ["string", "null"]},
            },
        },
    },
}

# GET /models answers a bad key with this compact body, unlike the image endpoint [REC].
_COMPACT_ERROR: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["message"],
            "properties": {"message": {"type": "string"}},
        }
    },
}

_MODEL: dict[str, Any] = {
    "type": "object",
    "required": ["id", "object", "type"],
    "properties": {
        "id": {"type": "string"},
        "object": {"const": "model"},
        "type": {"type": "string", "description": "image, chat, video, audio… [REC]"},
        "display_name": {"type": "string"},
        "organization": {"type": "string"},
    },
}


# Real requests [REC] and documented ones [DOC], for humans and for a fuzzer's examples phase.
_REQUEST_EXAMPLES: dict[str, Any] = {
    "text-to-image": {
        "summary": "FLUX.1 [schnell], 256x256, as recorded [REC]",
        "value": {
            "prompt": "A delighted resplendent quetzal mid flight amidst raindrops",
            "model": "black-forest-labs/FLUX.1-schnell",
            "seed": 42,
            "height": 256,
            "width": 256,
        },
    },
    "base64": {
        "summary": "Base64 answer in PNG, as the AI SDK asks [3P]",
        "value": {
            "model": "black-forest-labs/FLUX.2-dev",
            "prompt": "a red bicycle",
            "n": 2,
            "width": 512,
            "height": 512,
            "response_format": "base64",
            "output_format": "png",
            "steps": 28,
        },
    },
    "edit": {
        "summary": "FLUX Kontext edit of an image given by URL [DOC]",
        "value": {
            "model": "black-forest-labs/FLUX.1-kontext-pro",
            "prompt": "make the shirt yellow",
            "image_url": "https://images.example.test/shirt.png",
            "aspect_ratio": "16:9",
        },
    },
}


def _json_content(ref: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}


def openapi_document(base_url: str, model_ids: Iterable[str]) -> dict[str, Any]:
    """Build the OpenAPI description.

    Args:
        base_url: The API base URL clients use (``http://127.0.0.1:PORT/v1``), as the server URL.
        model_ids: The image models to list in the ``model`` field's enum.

    Returns:
        The OpenAPI 3.1 document as a JSON-ready dict.
    """
    model_ids = list(model_ids)
    errors = {
        status: {"description": description, "content": _json_content("Error")}
        for status, description in _ERROR_STATUSES.items()
    }
    generation = {
        "operationId": "generateImages",
        "summary": "Generate (or edit) images",
        "security": [{"bearerAuth": []}],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"$ref": "#/components/schemas/ImageRequest"},
                    "examples": _REQUEST_EXAMPLES,
                }
            },
        },
        "responses": {
            "200": {
                "description": "The images, as URLs (the default) or base64 [REC].",
                "content": _json_content("ImageResponse"),
            },
            **errors,
        },
    }
    models = {
        "operationId": "listImageModels",
        "summary": "List the models served, every modality, as recorded 2026-08-17",
        "security": [{"bearerAuth": []}],
        "responses": {
            "200": {
                "description": "Every model, compact JSON, Content-Type without charset [REC].",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Model"},
                        }
                    }
                },
            },
            "401": {
                "description": "Missing or invalid key.",
                "content": _json_content("Unauthorized"),
            },
        },
    }
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Together AI images (together-image-fake)",
            "version": "1.0.0",
            "description": (
                "The image endpoint of Together AI as the fake serves it, from Together's OpenAPI "
                "spec and recorded traffic. Validation beyond these types is per model: "
                "x-together-models (the per-model table with provenance) and GET /_fake/models."
            ),
        },
        "servers": [{"url": base_url}],
        "x-together-models": _model_rules(model_ids),
        "paths": {
            "/images/generations": {"post": generation},
            "/models": {"get": models},
        },
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "ImageRequest": _request_schema(model_ids),
                "ImageResponse": _IMAGE_RESPONSE,
                "ImageData": _IMAGE_ITEM,
                "Error": _ERROR_RESPONSE,
                "Unauthorized": _COMPACT_ERROR,
                "Model": _MODEL,
            },
        },
    }


def serve_openapi(model_ids: Iterable[str], request: FakeRequest) -> FakeResponse:
    """The answer to ``GET /openapi.json``: the description, pointing at the caller's origin."""
    document = openapi_document(f"{request.origin}/v1", model_ids)
    body = json_bytes(document)
    headers = (
        ("Cache-Control", "no-store"),
        ("Content-Length", str(len(body))),
        ("Content-Type", JSON_CONTENT_TYPE),
    )
    return FakeResponse(status=200, headers=headers, body=body)
