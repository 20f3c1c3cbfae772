"""The call log's record: ``FakeCall`` (one logged request), ``CallDetails`` (what a responder
learned about it), redaction, and what an entry keeps once evicted.

Credentials never reach the log: headers and body fields that the project's secret rules
(``_secrets``) recognise are redacted as the call is recorded. The log's byte budget pays for image
bytes, input images and large request bodies; evicting an entry drops them and leaves notes of
their size and sha256 in their place, so the log says what was there without holding it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from together_image_fake._secrets import is_secret_field, is_secret_header

_REDACTED_BEARER = "Bearer ***"
_REDACTED = "***"
BODY_ALLOWANCE = 1024
"""Bytes of each logged request body that ``max_calls`` alone bounds: only the part of a body
beyond them counts toward ``max_image_bytes`` (an ordinary request body is a few hundred bytes;
the budget is for data URLs, long prompts and other large bodies)."""
# On eviction, body values (and prompt/model) longer than this are replaced by a note of their
# size and sha256; an evicted body whose remaining part is still larger is noted whole.
_KEPT_VALUE_MAX = 1024
_KEPT_BODY_MAX = 16 * 1024


@dataclass(frozen=True, kw_only=True)
class CallDetails:
    """What a responder learned about one request, for its ``FakeCall`` (all optional).

    Attributes mirror the ``FakeCall`` fields of the same names.
    """

    body: Any = None
    model: str | None = None
    prompt: str | None = None
    width: int | None = None
    height: int | None = None
    response_format: str | None = None
    error: Mapping[str, str | None] | None = None
    fault: str | None = None
    images: tuple[bytes, ...] = ()
    image_media_type: str | None = None
    input_image: bytes | None = None
    input_media_type: str | None = None
    input_sha256: str | None = None
    reference_sha256s: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()

    @classmethod
    def from_body(cls, body: Any) -> CallDetails:
        """The details readable from a parsed request body without validating it: the body
        itself, and ``model``, ``prompt``, ``response_format``, ``width``, ``height`` where they
        have the right type."""
        fields = body if isinstance(body, dict) else {}

        def text(name: str) -> str | None:
            value = fields.get(name)
            return value if isinstance(value, str) else None

        def whole(name: str) -> int | None:
            value = fields.get(name)
            return value if isinstance(value, int) and not isinstance(value, bool) else None

        return cls(
            body=body,
            model=text("model"),
            prompt=text("prompt"),
            response_format=text("response_format"),
            width=whole("width"),
            height=whole("height"),
        )


@dataclass(frozen=True, kw_only=True)
class FakeCall:
    """One logged request to the fake's API routes (``/v1/…`` and ``/shrt/…``).

    Attributes:
        seq: 1-based sequence number (order of arrival).
        time: When it arrived (UTC).
        method: HTTP method.
        path: Normalised path.
        headers: Request headers, lower-cased, with ``authorization`` redacted to ``Bearer ***``
            and every other credential header (``_secrets``' rules) to ``***``.
        body: The parsed JSON body, or ``None`` when absent or not JSON; credential fields
            (``api_key``…) are redacted to ``***``.
        status: Response status; 0 when a fault dropped the connection or timed out.
        model: Requested model id.
        prompt: Requested prompt.
        width: Width (effective on success, as sent otherwise).
        height: Height (same).
        response_format: Response format (effective on success, as sent otherwise).
        error: ``{"message", "type", "code"}`` of an error answer, else ``None``.
        fault: Description of the injected fault, else ``None``.
        images: The image bytes returned, in ``index`` order (emptied when evicted).
        image_media_type: Their media type.
        input_image: The bytes of an edit's input image, when known.
        input_media_type: Its media type.
        input_sha256: Its SHA-256 (hex).
        reference_sha256s: The SHA-256 (hex) of each ``reference_images`` entry whose bytes were
            known, in request order.
        response_id: The response ``id``.
        urls: The ``/shrt/`` URLs returned in ``url`` mode.
        duration_ms: Time spent answering, including injected latency.
        images_evicted: Whether the entry was evicted to respect ``max_image_bytes``: its image
            bytes and input image dropped, inline ``data:`` URLs in ``body`` (``image_url``,
            ``reference_images``) replaced by notes of their size and the image's sha256, every
            other body value (and ``prompt``,
            ``model``) over 1 KiB by a note of its size and sha256, and a body still over 16 KiB
            (or one that is not a JSON object) by a note of ``body_bytes`` and ``body_sha256``.
        body_bytes: Size of the logged request body as sent, in bytes (0 when it was not JSON).
        body_sha256: SHA-256 (hex) of the body as sent, for bodies over ``BODY_ALLOWANCE`` bytes.
    """

    seq: int
    time: datetime
    method: str
    path: str
    headers: Mapping[str, str]
    body: Any
    status: int
    model: str | None = None
    prompt: str | None = None
    width: int | None = None
    height: int | None = None
    response_format: str | None = None
    error: Mapping[str, str | None] | None = None
    fault: str | None = None
    images: tuple[bytes, ...] = ()
    image_media_type: str | None = None
    input_image: bytes | None = None
    input_media_type: str | None = None
    input_sha256: str | None = None
    reference_sha256s: tuple[str, ...] = ()
    response_id: str | None = None
    urls: tuple[str, ...] = ()
    duration_ms: float = 0.0
    images_evicted: bool = False
    body_bytes: int = 0
    body_sha256: str | None = None

    def stored_bytes(self) -> int:
        """Bytes this entry holds against ``max_image_bytes``: image bytes, the input image, an
        inline ``data:`` input URL, and the rest of the request body beyond ``BODY_ALLOWANCE``
        bytes (0 once evicted)."""
        if self.images_evicted:
            return 0
        inline = len(_inline_image_url(self.body) or "")
        inline += sum(map(len, _inline_references(self.body)))
        rest = max(0, self.body_bytes - inline - BODY_ALLOWANCE)
        return sum(map(len, self.images)) + len(self.input_image or b"") + inline + rest

    def to_json(self) -> dict[str, Any]:
        """Return the control API's JSON form (``GET /_fake/calls`` elements)."""
        return {
            "seq": self.seq,
            "time": self.time.strftime("%Y-%m-%dT%H:%M:%S.")
            + f"{self.time.microsecond // 1000:03d}Z",
            "method": self.method,
            "path": self.path,
            "headers": dict(self.headers),
            "body": self.body,
            "status": self.status,
            "model": self.model,
            "prompt": self.prompt,
            "width": self.width,
            "height": self.height,
            "response_format": self.response_format,
            "error": dict(self.error) if self.error is not None else None,
            "fault": self.fault,
            "images": [f"/_fake/images/{self.seq}/{index}" for index in range(len(self.images))],
            "input_image": f"/_fake/inputs/{self.seq}" if self.input_image is not None else None,
            "reference_sha256s": list(self.reference_sha256s),
            "duration_ms": self.duration_ms,
        }


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Lower-cased headers with every credential value replaced (``_secrets.is_secret_header``);
    ``authorization`` keeps its scheme word, as ``Bearer ***``."""
    redacted: dict[str, str] = {}
    for name, value in headers.items():
        lowered = name.lower()
        if lowered == "authorization":
            redacted[lowered] = _REDACTED_BEARER
        elif is_secret_header(lowered):
            redacted[lowered] = _REDACTED
        else:
            redacted[lowered] = value
    return redacted


def redact_fields(value: Any) -> Any:
    """A parsed JSON body with the value of every credential field (``_secrets.is_secret_field``),
    at any depth, replaced by ``***``; the very same object when it holds none (no copy)."""
    if isinstance(value, dict):
        cleaned: dict[Any, Any] = {}
        changed = False
        for key, item in value.items():
            if item is not None and isinstance(key, str) and is_secret_field(key):
                new = _REDACTED
            elif isinstance(item, (dict, list)):
                new = redact_fields(item)
            else:
                new = item
            changed = changed or new is not item
            cleaned[key] = new
        return cleaned if changed else value
    if isinstance(value, list):
        items = [redact_fields(item) if isinstance(item, (dict, list)) else item for item in value]
        return (
            items if any(new is not old for new, old in zip(items, value, strict=True)) else value
        )
    return value


def _inline_image_url(body: Any) -> str | None:
    """The request's ``image_url`` when it is an inline ``data:`` URL (image bytes in the log)."""
    if isinstance(body, dict):
        value = body.get("image_url")
        if isinstance(value, str) and value[:5].lower() == "data:":
            return value
    return None


def _is_data_url(value: Any) -> bool:
    return isinstance(value, str) and value[:5].lower() == "data:"


def _inline_references(body: Any) -> list[str]:
    """The request's ``reference_images`` that are inline ``data:`` URLs."""
    if not isinstance(body, dict) or not isinstance(body.get("reference_images"), list):
        return []
    return [ref for ref in body["reference_images"] if _is_data_url(ref)]


def _evicted_note(inline: str, sha256: str | None) -> str:
    header = inline.split(",", 1)[0]
    note = f"{header},<evicted: {len(inline)} characters"
    return note + (f", image sha256 {sha256}>" if sha256 else ">")


def _payload_sha256(data_url: str) -> str | None:
    payload = data_url.split(",", 1)[-1]
    try:
        return sha256_hex(base64.b64decode(payload + "=" * (-len(payload) % 4)))
    except (binascii.Error, ValueError):
        return None


def evicted(call: FakeCall) -> FakeCall:
    """``call`` without what its share of the byte budget paid for (see ``FakeCall``)."""
    return replace(
        call,
        body=_elided_body(call),
        prompt=_elided_text(call.prompt),
        model=_elided_text(call.model),
        images=(),
        input_image=None,
        images_evicted=True,
    )


def _elided_body(call: FakeCall) -> Any:
    """The logged body with every large value replaced by a note of its size and sha256."""
    body = call.body
    if isinstance(body, dict):
        inline = _inline_image_url(body)
        kept: dict[str, Any] = {}
        size = 0
        for key, value in body.items():
            if key == "image_url" and inline is not None:
                kept[key] = _evicted_note(inline, call.input_sha256)
            elif key == "reference_images" and _inline_references(body):
                kept[key] = _elided_value(
                    [
                        _evicted_note(ref, _payload_sha256(ref)) if _is_data_url(ref) else ref
                        for ref in value
                    ]
                )
            else:
                kept[key] = _elided_value(value)
            size += len(key) + _json_size(kept[key])
        if size <= _KEPT_BODY_MAX:
            return kept
    elif call.body_bytes <= BODY_ALLOWANCE:
        return body
    return f"<evicted: {call.body_bytes} bytes of JSON, sha256 {call.body_sha256}>"


def _elided_value(value: Any) -> Any:
    if isinstance(value, str):
        return _elided_text(value)
    if isinstance(value, (dict, list)):
        text = _compact_json(value)
        if len(text) > _KEPT_VALUE_MAX:
            digest = sha256_hex(text.encode("utf-8", "surrogatepass"))
            return f"<evicted: {len(text)} bytes of JSON, sha256 {digest}>"
    return value


def _elided_text(text: str | None) -> str | None:
    if text is None or len(text) <= _KEPT_VALUE_MAX:
        return text
    digest = sha256_hex(text.encode("utf-8", "surrogatepass"))
    return f"<evicted: {len(text)} characters, sha256 {digest}>"


def _json_size(value: Any) -> int:
    return len(value) if isinstance(value, str) else len(_compact_json(value))


def _compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def sha256_hex(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()
