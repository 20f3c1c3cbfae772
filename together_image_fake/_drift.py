"""What counts as drift: two answers to one probe compared part by part, as rows.

``compare()`` describes each answer the same way and sets the descriptions side by side: status;
``error`` type, code, param and message; the body's keys in order (nested objects in braces, a
list by its first item); the timings style; for the listing, the image models listed; and every
header the fake claims to reproduce (``CLAIMED_HEADERS``), fixed values exactly, per-answer values
(ids, times) by their shape, ``Etag`` and ``Content-Length`` against the body they came with. A
row is the same when the two descriptions are equal, so per-answer ids and times never count as
drift and a stale ``Etag`` always does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from together_image_fake._probes import MODELS_PATH, Probe
from together_image_fake._wire import FakeResponse, etag

__all__ = ["CLAIMED_HEADERS", "Row", "compare"]

_ABSENT = "absent"
_NOT_APPLICABLE = "n/a"
_SHOWN = 160


def _exact(value: str | None, response: FakeResponse) -> str:
    return _ABSENT if value is None else value


def _shape(pattern: str, label: str) -> Callable[[str | None, FakeResponse], str]:
    compiled = re.compile(pattern)

    def describe(value: str | None, response: FakeResponse) -> str:
        if value is None:
            return _ABSENT
        return label if compiled.fullmatch(value) else f"not {label}: {_clip(value)}"

    return describe


def _etag(value: str | None, response: FakeResponse) -> str:
    if value is None:
        return _ABSENT
    return "the body's weak Etag" if value == etag(response.body) else f"other: {_clip(value)}"


def _content_length(value: str | None, response: FakeResponse) -> str:
    if value is None:
        return _ABSENT
    if value.strip() == str(len(response.body)):
        return "the body's length"
    return f"{_clip(value)} (body is {len(response.body)} bytes)"


_ISO_MS = _shape(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", "an ISO time in ms")

CLAIMED_HEADERS: tuple[tuple[str, Callable[[str | None, FakeResponse], str]], ...] = (
    ("Access-Control-Allow-Origin", _exact),
    ("Alt-Svc", _exact),
    ("Cf-Cache-Status", _exact),
    ("Cf-Ray", _shape(r"[0-9a-f]{16}-[A-Z]{3}", "a Cf-Ray id")),
    ("Content-Length", _content_length),
    ("Content-Type", _exact),
    ("Date", _shape(r"[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT", "an HTTP date")),
    ("Etag", _etag),
    ("Server", _exact),
    ("Strict-Transport-Security", _exact),
    ("X-Api-Call-End", _ISO_MS),
    ("X-Api-Call-Start", _ISO_MS),
    ("X-Api-Received", _ISO_MS),
    ("X-Api-Retries", _exact),
    ("X-Image-Version", _exact),
    (
        "X-Request-Id",
        _shape(r"[A-Za-z0-9]{7}-[A-Za-z0-9]{6}-[0-9a-f]{16}(-[A-Z]{3})?", "a response id"),
    ),
)
"""The headers the fake reproduces (README "How faithful is the fake?", ``fixtures/``), each with
how it is compared: exactly for fixed values; by shape for per-answer values (ids, times); against
the body for ``Etag`` and ``Content-Length``."""


@dataclass(frozen=True, kw_only=True)
class Row:
    """One compared aspect of a probe's two answers.

    Attributes:
        check: What is compared (``status``, ``error.message``, ``header Etag``…).
        real: The upstream's answer, described.
        fake: The fake's answer, described.
        same: Whether they agree.
    """

    check: str
    real: str
    fake: str
    same: bool

    def verdict(self) -> str:
        """``same: <value>`` or ``differs: real <value> / fake <value>``."""
        if self.same:
            return f"same: {self.real}"
        return f"differs: real {self.real} / fake {self.fake}"

    def to_json(self) -> dict[str, Any]:
        """Return the row as the JSON report shows it."""
        return {"check": self.check, "same": self.same, "real": self.real, "fake": self.fake}


def _row(check: str, real: str, fake: str) -> Row:
    return Row(check=check, real=real, fake=fake, same=real == fake)


def compare(probe: Probe, real: FakeResponse, fake: FakeResponse) -> tuple[Row, ...]:
    """Compare the upstream's and the fake's answers to one probe.

    Args:
        probe: The probe both answered.
        real: The upstream's answer.
        fake: The fake's answer.

    Returns:
        The rows, status first, then the error fields (when either answer is an error body), the
        body's keys, the timings style (when either answer has ``data``), the listed image models
        (listing only) and the claimed headers.
    """
    rows = [_row("status", _status(real), _status(fake))]
    real_json, fake_json = _json_of(real), _json_of(fake)
    real_error, fake_error = _error_of(real_json), _error_of(fake_json)
    if real_error is not None or fake_error is not None:
        for name in ("type", "code", "param", "message"):
            rows.append(_row(f"error.{name}", _field(real_error, name), _field(fake_error, name)))
    rows.append(_row("body keys", _keys(real, real_json), _keys(fake, fake_json)))
    real_timings, fake_timings = _timings(real_json), _timings(fake_json)
    if (real_timings, fake_timings) != (_NOT_APPLICABLE, _NOT_APPLICABLE):
        rows.append(_row("timings", real_timings, fake_timings))
    if probe.path == MODELS_PATH:
        rows.append(_listed_images(real_json, fake_json))
    for name, describe in CLAIMED_HEADERS:
        rows.append(
            _row(
                f"header {name}",
                describe(real.header(name), real) if real.action == "respond" else _ABSENT,
                describe(fake.header(name), fake) if fake.action == "respond" else _ABSENT,
            )
        )
    return tuple(rows)


def _status(response: FakeResponse) -> str:
    if response.action != "respond":
        return f"no answer ({response.action})"
    return str(response.status)


class _NoJSON:
    """Marks a body that is not JSON."""


_NO_JSON = _NoJSON()


def _json_of(response: FakeResponse) -> Any:
    if response.action != "respond" or not response.body:
        return _NO_JSON
    try:
        return json.loads(response.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return _NO_JSON


def _error_of(value: Any) -> Mapping[str, Any] | None:
    if isinstance(value, dict) and isinstance(value.get("error"), dict):
        error: Mapping[str, Any] = value["error"]
        return error
    return None


def _field(error: Mapping[str, Any] | None, name: str) -> str:
    if error is None or name not in error:
        return _ABSENT
    return _clip(json.dumps(error[name], ensure_ascii=False))


def _keys(response: FakeResponse, value: Any) -> str:
    if response.action != "respond":
        return _ABSENT
    if value is _NO_JSON:
        kind = response.header("Content-Type") or "no Content-Type"
        return f"not JSON ({len(response.body)} bytes, {kind})"
    return _shape_of(value)


def _shape_of(value: Any) -> str:
    """The keys of a JSON value in order, nested objects in braces, a list as its first item."""
    if isinstance(value, dict):
        parts = []
        for key, item in value.items():
            inner = _shape_of(item)
            parts.append(f"{key}{inner}" if inner.startswith(("{", "[")) else key)
        return "{" + ", ".join(parts) + "}"
    if isinstance(value, list):
        # A listing mixes modalities; the image endpoint's entries are what the fake models.
        images = [item for item in value if isinstance(item, dict) and item.get("type") == "image"]
        sample = images[0] if images else (value[0] if value else None)
        return "[]" if sample is None else f"[{_shape_of(sample)}, …]"
    return ""


def _timings(value: Any) -> str:
    if not isinstance(value, dict) or not isinstance(value.get("data"), list) or not value["data"]:
        return _NOT_APPLICABLE
    item = value["data"][0]
    timings = item.get("timings") if isinstance(item, dict) else None
    if not isinstance(timings, dict) or "inference" not in timings:
        return _ABSENT
    inference = timings["inference"]
    if isinstance(inference, bool) or not isinstance(inference, (int, float)):
        return f"inference is {_clip(json.dumps(inference))}"
    return "integer milliseconds" if isinstance(inference, int) else "float seconds"


def _listed_images(real: Any, fake: Any) -> Row:
    real_ids, fake_ids = _image_ids(real), _image_ids(fake)
    if real_ids is None or fake_ids is None:
        real_text = "not a list" if real_ids is None else f"{len(real_ids)} image models"
        fake_text = "not a list" if fake_ids is None else f"{len(fake_ids)} image models"
        return _row("image models", real_text, fake_text)
    if real_ids == fake_ids:
        text = f"{len(real_ids)} image models"
        return Row(check="image models", real=text, fake=text, same=True)
    only_real = sorted(real_ids - fake_ids)
    only_fake = sorted(fake_ids - real_ids)
    return Row(
        check="image models",
        real=f"{len(real_ids)}, not in the fake: {', '.join(only_real) or 'none'}",
        fake=f"{len(fake_ids)}, not upstream: {', '.join(only_fake) or 'none'}",
        same=False,
    )


def _image_ids(value: Any) -> set[str] | None:
    if not isinstance(value, list):
        return None
    return {
        item["id"]
        for item in value
        if isinstance(item, dict)
        and item.get("type") == "image"
        and isinstance(item.get("id"), str)
    }


def _clip(text: str) -> str:
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"
