"""Shared constants and helpers for the client tests: sample images and Together wire bodies."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

from PIL import Image
from responses import Call

BASE_URL = "https://api.example.test/v1"
ENDPOINT = f"{BASE_URL}/images/generations"
DEFAULT_ENDPOINT = "https://api.together.xyz/v1/images/generations"
# Distinctive enough that finding it anywhere in a message means a leak.
API_KEY = "tgp_v1_SECRET-7f3a9c2e5d1b"
MODEL_ID = "black-forest-labs/FLUX.1-schnell"
RESPONSE_ID = "omJKGKg-2kFHot-a046745b3835a2b4-SEA"


def encode_image(fmt: str, color: tuple[int, int, int] = (200, 30, 60)) -> bytes:
    """Encode a tiny 2x2 image with Pillow in ``fmt`` (``"PNG"``, ``"JPEG"``...)."""
    buffer = io.BytesIO()
    Image.new("RGB", (2, 2), color).save(buffer, format=fmt)
    return buffer.getvalue()


PNG = encode_image("PNG")
JPEG = encode_image("JPEG")
PNG_B64 = base64.b64encode(PNG).decode()
JPEG_B64 = base64.b64encode(JPEG).decode()


def success_body(*images: str, model: str = MODEL_ID) -> dict[str, Any]:
    """A base64-mode success body as the real API sends it (key order included)."""
    return {
        "id": RESPONSE_ID,
        "model": model,
        "object": "list",
        "data": [
            {"index": index, "b64_json": image, "timings": {"inference": 0.11}}
            for index, image in enumerate(images or (JPEG_B64,))
        ],
    }


def error_body(
    message: str, *, type: str = "invalid_request_error", code: str | None = None
) -> dict[str, Any]:
    """A real-shaped error body: top-level ``id`` then ``error{message,type,param,code}``."""
    return {
        "id": RESPONSE_ID,
        "error": {"message": message, "type": type, "param": None, "code": code},
    }


def sent_timeout(call: Call) -> object:
    """The ``timeout`` that ``requests`` was given for a recorded request."""
    # responses stores the send() keyword arguments on the request at run time.
    return call.request.req_kwargs["timeout"]  # type: ignore[attr-defined]


def sent_json(call: Call) -> dict[str, Any]:
    """The JSON body of a recorded request."""
    body = call.request.body
    assert isinstance(body, bytes)
    decoded: dict[str, Any] = json.loads(body)
    return decoded
