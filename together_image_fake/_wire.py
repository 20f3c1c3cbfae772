"""The adapter-neutral request and response types every fake mode speaks.

Adapters (the in-process ``responses`` mock, the HTTP server, the WSGI app) parse what arrives
into a ``FakeRequest``, hand it to ``FakeTogether.handle()``, and write the ``FakeResponse`` back
out. Nothing here knows which adapter is in use; connection-level faults (a reset, a timeout,
latency) are data on the response that each adapter carries out in its own way. The helpers below
serialize bodies, Etags, timestamps and ids exactly as the real gateway does.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import formatdate
from typing import Literal

ResponseAction = Literal["respond", "reset", "timeout"]


@dataclass(frozen=True, kw_only=True)
class FakeRequest:
    """One HTTP request as the fake sees it.

    Attributes:
        method: Upper-case HTTP method.
        path: The URL path normalised so the API lives under ``/v1`` (e.g.
            ``/v1/images/generations``, ``/shrt/abc``, ``/_fake/calls``), without the query string.
        query: The raw query string, without ``?``.
        headers: Request headers with lower-cased names.
        body: The raw request body.
        origin: ``scheme://host[:port]`` the client addressed, used to build absolute URLs
            (``https://api.together.ai`` in-process, ``http://127.0.0.1:PORT`` for the server).
        peer: The client's address as an HTTP host saw it (``None`` in-process: this process).
    """

    method: str
    path: str
    query: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    origin: str = "https://api.together.ai"
    peer: str | None = None


@dataclass(frozen=True, kw_only=True)
class FakeResponse:
    """One answer from the fake.

    Attributes:
        status: HTTP status code.
        headers: Response headers in wire order (names as the real API spells them).
        body: The exact body bytes.
        delay_s: Latency to add before answering (a latency fault), in seconds.
        action: ``"respond"`` to answer normally; ``"reset"`` to drop the connection without an
            answer; ``"timeout"`` to never answer in time (the adapter raises or stalls).
    """

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    delay_s: float = 0.0
    action: ResponseAction = "respond"

    def header(self, name: str) -> str | None:
        """Return the first header called ``name`` (case-insensitive), or ``None``."""
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None


# Serialization and identifiers exactly as the real gateway writes them [REC]: the recorded bodies
# are byte-for-byte ``json.dumps(obj, indent=2)`` and their Etags follow the Express weak-Etag
# formula.

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
"""Headers that describe one hop, not the exchange (RFC 9110 §7.6.1, plus the ``Trailers``
spelling PEP 3333 lists): never recorded, forwarded, or set by a WSGI application."""

JSON_CONTENT_TYPE = "application/json; charset=utf-8"
POPS = ("SEA", "PDX", "YUL")
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def json_bytes(obj: object, *, pretty: bool = True) -> bytes:
    """Serialize ``obj`` the way the real API does.

    Args:
        obj: A JSON-compatible value; dict key order is kept.
        pretty: ``True`` for the image endpoint's 2-space indentation [REC]; ``False`` for the
            compact form of ``GET /v1/models`` [REC].

    Returns:
        UTF-8 bytes without a trailing newline.
    """
    indent = 2 if pretty else None
    separators = None if pretty else (",", ":")
    # The gateway is an Express app (its Etag format says so), whose JSON.stringify writes
    # non-ASCII text raw [INF]; a lone surrogate cannot be written raw, so that rare case falls
    # back to escapes.
    text = json.dumps(obj, indent=indent, separators=separators, ensure_ascii=False)
    try:
        return text.encode()
    except UnicodeEncodeError:
        return json.dumps(obj, indent=indent, separators=separators).encode()  # ASCII


_EMPTY_B64_JSON = b'"b64_json": ""'


def splice_base64(body: bytes, texts: Sequence[bytes]) -> bytes:
    """Write base64 texts into the empty ``b64_json`` values of a pretty-printed body, in order.

    Serializing a response with ``"b64_json": ""`` and splicing the texts in afterwards gives the
    same bytes as serializing the texts (base64 needs no JSON escaping) without pushing megabytes
    through the encoder. The pattern can only be a real key and value: inside a JSON string every
    quote is escaped.

    Args:
        body: ``json_bytes(payload)`` where every ``b64_json`` value is ``""``.
        texts: The base64 texts, in the order of the items.

    Returns:
        The body with the texts in place.

    Raises:
        ValueError: If the body does not hold exactly ``len(texts)`` empty ``b64_json`` values.
    """
    pieces = body.split(_EMPTY_B64_JSON)
    if len(pieces) != len(texts) + 1:
        raise ValueError(
            f"Expected {len(texts)} empty b64_json values in the body, found {len(pieces) - 1}"
        )
    spliced = [pieces[0]]
    for index, text in enumerate(texts, start=1):
        spliced += [b'"b64_json": "', text, b'"', pieces[index]]
    return b"".join(spliced)


def etag(body: bytes) -> str:
    """Return the real gateway's weak Etag for ``body``: ``W/"<hex length>-<b64 sha1[:27]>"``."""
    digest = base64.b64encode(hashlib.sha1(body).digest()).decode()  # noqa: S324 - Etag formula
    return f'W/"{len(body):x}-{digest[:27]}"'


def iso_ms(epoch_s: float) -> str:
    """Format a Unix time as the ``X-Api-*`` headers do: ISO-8601, milliseconds, ``Z`` [REC]."""
    moment = datetime.fromtimestamp(epoch_s, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def http_date(epoch_s: float) -> str:
    """Format a Unix time as an HTTP date (``Date``, ``Expires``)."""
    return formatdate(epoch_s, usegmt=True)


@dataclass(frozen=True, kw_only=True)
class WireIds:
    """The identifiers of one response, drawn together so they agree as in the recordings [REC].

    Attributes:
        ray: The Cloudflare ray, ``<16 hex>-<POP>`` (``Cf-Ray``).
        request_id: The body ``id``, ``<7 alnum>-2kFHot-<same 16 hex>-<POP>``.
    """

    ray: str
    request_id: str

    @classmethod
    def draw(cls, rng: random.Random) -> WireIds:
        """Draw a fresh pair of ids from ``rng``."""
        ray_hex = f"{rng.getrandbits(64):016x}"
        prefix = _alnum(rng, 7)
        # The body id and the ray may name different POPs in real traffic [REC].
        return cls(
            ray=f"{ray_hex}-{rng.choice(POPS)}",
            request_id=f"{prefix}-2kFHot-{ray_hex}-{rng.choice(POPS)}",
        )


def short_id(rng: random.Random) -> str:
    """Draw the 16-character alphanumeric id of a ``/shrt/<id>`` image URL [REC]."""
    return _alnum(rng, 16)


def _alnum(rng: random.Random, count: int) -> str:
    return "".join(rng.choice(_ALNUM) for _ in range(count))


def sorted_headers(headers: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """Order headers as the recordings list them: ``Date`` first, then by name."""
    return tuple(sorted(headers.items(), key=lambda item: (item[0] != "Date", item[0].casefold())))
