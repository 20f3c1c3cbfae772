"""Real exchanges with api.together.xyz, as recorded [REC] in the reference document.

Bodies are byte-exact copies of the recorded ones; headers are the recorded set (the recorder
stripped ``Date`` and ``X-Request-Id``). ``normalise()`` masks what legitimately differs between
two answers (ids, image URLs, timing values) so a fake answer can be compared byte for byte.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

SHIBA_PROMPT = "A doodle animation on a white background of Cartoonish shiba inu, eating ice cream"


@dataclass(frozen=True, kw_only=True)
class Exchange:
    """One recorded request and its answer.

    Attributes:
        name: Test id.
        recorded: Date of the recording.
        method: HTTP method.
        path: Path under the origin.
        body: JSON request body, or ``None``.
        status: Recorded status.
        response: Recorded body text (exact), or ``None`` for binary bodies.
        headers: Recorded response headers.
        options: ``FakeTogether`` options that select the era of the recording.
    """

    name: str
    recorded: str
    method: str
    path: str
    body: dict[str, Any] | None
    status: int
    response: str | None
    headers: dict[str, str]
    options: dict[str, Any] = field(default_factory=dict)


_RATE_LIMIT_ERA = {
    "Retry-After": "2",
    "X-Ratelimit": "false",
    "X-Ratelimit-Limit": "4",
    "X-Ratelimit-Limit-Tokens": "0",
    "X-Ratelimit-Remaining": "7",
    "X-Ratelimit-Remaining-Tokens": "0",
    "X-Ratelimit-Reset": "2",
}
_EDGE = {
    "Access-Control-Allow-Origin": "*",
    "Alt-Svc": 'h3=":443"; ma=86400',
    "Cf-Cache-Status": "DYNAMIC",
    "Content-Type": "application/json; charset=utf-8",
    "Server": "cloudflare",
    "Strict-Transport-Security": "max-age=15552000; includeSubDomains",
}

EXCHANGES: tuple[Exchange, ...] = (
    Exchange(
        name="flux1-schnell-url-2026-05-31",
        recorded="2026-05-31",
        method="POST",
        path="/v1/images/generations",
        body={
            "prompt": SHIBA_PROMPT,
            "model": "black-forest-labs/FLUX.1-schnell",
            "seed": 42,
            "height": 256,
            "width": 256,
        },
        status=200,
        response=(
            "{\n"
            '  "id": "omJKGKg-2kFHot-a046745b3835a2b4-SEA",\n'
            '  "model": "black-forest-labs/FLUX.1-schnell",\n'
            '  "object": "list",\n'
            '  "data": [\n'
            "    {\n"
            '      "index": 0,\n'
            '      "url": "https://api.together.ai/shrt/fFbG3zT1MyXkcYlS",\n'
            '      "timings": {\n'
            '        "inference": 0.11013310612179339\n'
            "      }\n"
            "    }\n"
            "  ]\n"
            "}"
        ),
        headers={
            **_EDGE,
            "Cf-Ray": "a046745b3835a2b4-YUL",
            "Etag": 'W/"125-Xo1SMyK8DKDCrUwnXtEbwiCC2gA"',
            "X-Api-Call-End": "2026-05-31T13:51:39.134Z",
            "X-Api-Call-Start": "2026-05-31T13:51:38.816Z",
            "X-Api-Received": "2026-05-31T13:51:38.807Z",
            "X-Image-Version": "v2",
        },
    ),
    Exchange(
        name="flux2-max-url-2026-05-31",
        recorded="2026-05-31",
        method="POST",
        path="/v1/images/generations",
        body={
            "prompt": SHIBA_PROMPT,
            "model": "black-forest-labs/FLUX.2-max",
            "seed": 42,
            "height": 512,
            "width": 512,
        },
        status=200,
        response=(
            "{\n"
            '  "id": "omJUDy2-2kFHot-a0469f08beb3a299-SEA",\n'
            '  "model": "black-forest-labs/FLUX.2-max",\n'
            '  "object": "list",\n'
            '  "data": [\n'
            "    {\n"
            '      "timings": {\n'
            '        "inference": 17819\n'
            "      },\n"
            '      "index": 0,\n'
            '      "url": "https://api.together.ai/shrt/Y6Nil8Nf2Jc7aT7k"\n'
            "    }\n"
            "  ]\n"
            "}"
        ),
        headers={
            **_EDGE,
            "Cf-Ray": "a0469f08beb3a299-YUL",
            "Etag": 'W/"113-OqWUcWkT2tbxrgHfkMafqD1LFkA"',
            "X-Api-Call-End": "2026-05-31T14:21:04.709Z",
            "X-Api-Call-Start": "2026-05-31T14:20:46.906Z",
            "X-Api-Received": "2026-05-31T14:20:46.890Z",
            "X-Image-Version": "v2",
        },
    ),
    Exchange(
        name="flux2-dev-url-2025-12-18",
        recorded="2025-12-18",
        method="POST",
        path="/v1/images/generations",
        body={
            "prompt": SHIBA_PROMPT,
            "model": "black-forest-labs/FLUX.2-dev",
            "seed": 42,
            "height": 512,
            "width": 512,
        },
        status=200,
        response=(
            "{\n"
            '  "id": "oPiRfoE-2kFHot-9aff623f390fa2a2-YUL",\n'
            '  "model": "black-forest-labs/FLUX.2-dev",\n'
            '  "object": "list",\n'
            '  "data": [\n'
            "    {\n"
            '      "timings": {\n'
            '        "inference": 3041\n'
            "      },\n"
            '      "index": 0,\n'
            '      "url": "https://api.together.ai/shrt/lAgRwuwON8vBEz30"\n'
            "    }\n"
            "  ]\n"
            "}"
        ),
        headers={
            **_EDGE,
            **_RATE_LIMIT_ERA,
            "Cf-Ray": "9aff623f390fa2a2-YUL",
            "Etag": 'W/"112-jI6gYYK0W6cwZA/LdyqtaenL8Fo"',
            "X-Api-Call-End": "2025-12-18T14:34:58.498Z",
            "X-Api-Call-Start": "2025-12-18T14:34:55.486Z",
            "X-Api-Received": "2025-12-18T14:34:55.457Z",
            "X-Image-Version": "v2",
        },
        options={"ratelimit_headers": True},
    ),
    Exchange(
        name="flux2-dev-width-256-400-2025-12-14",
        recorded="2025-12-14",
        method="POST",
        path="/v1/images/generations",
        body={
            "prompt": SHIBA_PROMPT,
            "model": "black-forest-labs/FLUX.2-dev",
            "seed": 42,
            "height": 256,
            "width": 256,
        },
        status=400,
        response=(
            "{\n"
            '  "id": "oPBXZVv-2kFHot-9ade09957e6fa275-PDX",\n'
            '  "error": {\n'
            '    "message": "Invalid value for \'width\' parameter. Image width must be an integer '
            "value between 512 and 2048, in multiples of '16'.\",\n"
            '    "type": "invalid_request_error",\n'
            '    "param": null,\n'
            '    "code": null\n'
            "  }\n"
            "}"
        ),
        headers={
            **_EDGE,
            **_RATE_LIMIT_ERA,
            "Cf-Ray": "9ade09957e6fa275-YUL",
            "Content-Length": "276",
            "Etag": 'W/"114-Mvy3gq0IxN1B+UUpCzzZKHw3J7I"',
            "X-Api-Call-Start": "2025-12-14T13:27:13.603Z",
            "X-Api-Received": "2025-12-14T13:27:13.565Z",
            "X-Image-Version": "v2",
        },
        options={"ratelimit_headers": True},
    ),
    Exchange(
        name="invalid-api-key-401-2025-12-14",
        recorded="2025-12-14",
        method="POST",
        path="/v1/images/generations",
        body={
            "prompt": SHIBA_PROMPT,
            "model": "black-forest-labs/FLUX.1-schnell",
            "seed": 42,
            "height": 256,
            "width": 256,
        },
        status=401,
        response=(
            "{\n"
            '  "id": "oPBSiD4-2kFHot-9addf27b4d34a320-PDX",\n'
            '  "error": {\n'
            '    "message": "Invalid API key provided. You can find your API key at '
            'https://api.together.ai/settings/api-keys.",\n'
            '    "type": "invalid_request_error",\n'
            '    "param": null,\n'
            '    "code": "invalid_api_key"\n'
            "  }\n"
            "}"
        ),
        headers={
            **_EDGE,
            "Cf-Ray": "9addf27b4d34a320-YUL",
            "Content-Length": "269",
            "Etag": 'W/"10d-QsmvLP206XDXbzVTw6pRpR/bB1E"',
            "X-Api-Received": "2025-12-14T13:11:27.303Z",
        },
        options={"api_keys": ["the-right-key"]},
    ),
    Exchange(
        name="unknown-model-404-2026-05",
        recorded="2026-05",
        method="POST",
        path="/v1/images/generations",
        body={"prompt": SHIBA_PROMPT, "model": "bad model"},
        status=404,
        response=(
            "{\n"
            '  "id": "omJGRaU-2kFHot-a04666d3789aa2f9-SEA",\n'
            '  "error": {\n'
            '    "message": "Unable to access model bad model. Please visit '
            'https://api.together.ai/models to view the list of supported models.",\n'
            '    "type": "invalid_request_error",\n'
            '    "param": null,\n'
            '    "code": "model_not_available"\n'
            "  }\n"
            "}"
        ),
        headers={"Content-Type": "application/json; charset=utf-8"},
    ),
    Exchange(
        name="chat-model-500-2025-07",
        recorded="2025-07",
        method="POST",
        path="/v1/images/generations",
        body={"prompt": SHIBA_PROMPT, "model": "meta-llama/Llama-4-Scout-17B-16E-Instruct"},
        status=500,
        response=(
            "{\n"
            '  "id": "o4QCxip-2kFHot-96466a472a2ba2de-PDX",\n'
            '  "error": {\n'
            '    "message": "Internal server error",\n'
            '    "type": "server_error",\n'
            '    "param": null,\n'
            '    "code": null\n'
            "  }\n"
            "}"
        ),
        headers={"Content-Type": "application/json; charset=utf-8", "X-Api-Retries": "10"},
    ),
    Exchange(
        name="minimal-request-200-2025-08-22",
        recorded="2025-08-22",
        method="POST",
        path="/v1/images/generations",
        body={"prompt": SHIBA_PROMPT, "model": "black-forest-labs/FLUX.1-schnell"},
        status=200,
        response=None,
        headers={"Content-Type": "application/json; charset=utf-8"},
    ),
    Exchange(
        name="models-401-compact",
        recorded="2025-12",
        method="GET",
        path="/v1/models",
        body=None,
        status=401,
        response='{"error":{"message":"Unauthorized"}}',
        headers={"Content-Type": "application/json; charset=utf-8"},
        options={"api_keys": ["the-right-key"]},
    ),
)

ACCEPTED_SIZES: tuple[tuple[str, int], ...] = (
    ("black-forest-labs/FLUX.1-schnell", 256),
    ("black-forest-labs/FLUX.1-schnell-Free", 256),
    ("black-forest-labs/FLUX.1-dev", 256),
    ("black-forest-labs/FLUX.2-dev", 512),
    ("black-forest-labs/FLUX.2-pro", 256),
    ("black-forest-labs/FLUX.2-flex", 256),
    ("black-forest-labs/FLUX.2-max", 512),
)
"""Model and square side the real API answered 200 for [REC]."""

CDN_HEADERS = {
    "Access-Control-Expose-Headers": "X-Request-ID",
    "Alt-Svc": 'h3=":443"; ma=86400',
    "Cache-Control": "max-age=31536000, public",
    "Cf-Cache-Status": "DYNAMIC",
    "Content-Security-Policy": "script-src 'none'",
    "Content-Type": "image/jpeg",
    "Server": "cloudflare",
    "Strict-Transport-Security": "max-age=2592000; includeSubDomains",
    "Vary": "Origin",
    "X-Content-Type-Options": "nosniff",
}
"""Fixed headers of ``GET /shrt/<id>`` (2025-12-18 and 2026-05-31) [REC]."""

STRIPPED_BY_RECORDER = frozenset({"date", "x-request-id"})
"""Headers the recorder removed, so the fake may send them."""

_ID = re.compile(r"[A-Za-z0-9]{7}-2kFHot-[0-9a-f]{16}-[A-Z]{3}")
_URL = re.compile(r"https?://[^\"/]+/shrt/[A-Za-z0-9]{16}")
_SECONDS = re.compile(r'"inference": [0-9]+\.[0-9]+(e-?[0-9]+)?')
_MILLIS = re.compile(r'"inference": [0-9]+(?=\s)')


def normalise(body: str) -> str:
    """Mask ids, image URLs and timing values, keeping their kinds (seconds vs milliseconds)."""
    body = _ID.sub("<id>", body)
    body = _URL.sub("<url>", body)
    body = _SECONDS.sub('"inference": <seconds>', body)
    return _MILLIS.sub('"inference": <milliseconds>', body)
