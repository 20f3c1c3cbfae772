"""Cassettes: recorded HTTP exchanges with Together's image API as diff-friendly JSON files.

A cassette is one UTF-8 JSON file (format ``FORMAT_NAME``, version ``FORMAT_VERSION``) holding
``meta`` and a list of interactions, each a request (method, URL, headers without credentials, the
names of the credential headers that were dropped, a canonical JSON body) and a response (status,
headers, body, or a connection-level ``action``). Response bodies are stored so that loading gives
back the exact bytes: JSON as a readable value plus the serialization ``style`` that reproduces
them (checked when encoding), other text verbatim. Image bytes never sit in the JSON: a binary
body, a ``b64_json`` payload or a ``data:`` URL is moved to a sidecar file named by its SHA-256 in
``<cassette stem>.blobs/`` (real ``.jpg``/``.png`` files, viewable and deduplicated), or elided
(only its size, type and hash kept; replay then serves a small placeholder image). Saving runs the
secret scan of ``_secrets`` and writes nothing when it finds anything; files are written through a
temporary file and ``os.replace``, so readers (e.g. ``pytest -n`` workers) never see half a file.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from together_image._media import detect_media_type
from together_image_fake._interactions import (
    CassetteError,
    CassetteFormatError,
    ElidedBlob,
    Interaction,
    RecordedRequest,
    RecordedResponse,
    SecretLeakError,
    header_value,
)
from together_image_fake._secrets import scan

FORMAT_NAME = "together-image-fake-cassette"
FORMAT_VERSION = 1
"""Bumped on any change an older reader could misread; readers refuse newer versions."""

BlobPolicy = Literal["sidecar", "elide"]

_JSON_STYLES: dict[str, dict[str, Any]] = {
    # The real image endpoint: json.dumps(obj, indent=2) [REC]; non-ASCII written raw [INF].
    "pretty": {"indent": 2, "ensure_ascii": False},
    "pretty-ascii": {"indent": 2, "ensure_ascii": True},
    # GET /v1/models and most clients' request bodies.
    "compact": {"separators": (",", ":"), "ensure_ascii": False},
    "compact-ascii": {"separators": (",", ":"), "ensure_ascii": True},
    # Python's json.dumps defaults.
    "spaced": {"ensure_ascii": False},
    "spaced-ascii": {"ensure_ascii": True},
}
_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp"}
_DATA_URL = re.compile(r"^data:(?P<type>[A-Za-z0-9.+-]+/[A-Za-z0-9.+-]+);base64,(?P<payload>.*)$")
_BASE64 = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")
_BLOB_NAME = re.compile(r"^[0-9a-f]{64}\.[a-z0-9]{1,5}$")
_MIN_INLINE_IMAGE_B64 = 64
_MARKERS = ("$blob", "$elided")


@dataclass(frozen=True, kw_only=True)
class Cassette:
    """A list of interactions plus free-form metadata; load with ``Cassette.load(path)``.

    Attributes:
        interactions: In recording order.
        meta: Free-form metadata (``recorded_at``, ``recorded_with``, ``provenance``, ``note``…).
    """

    interactions: tuple[Interaction, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Cassette:
        """Read a cassette file (and its sidecar blobs). Only reads: safe from many processes.

        Args:
            path: The cassette's ``.json`` file.

        Returns:
            The cassette.

        Raises:
            CassetteFormatError: If the file is missing, not a cassette, of a newer format
                version, malformed, or a blob is missing or does not match its hash.
        """
        path = Path(path)
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CassetteFormatError(f"No cassette at {path}") from None
        except (OSError, UnicodeDecodeError, ValueError) as error:
            raise CassetteFormatError(f"{path}: not a readable JSON cassette ({error})") from error
        return cls.from_document(document, blob_dir=blob_dir_for(path, document), source=str(path))

    @classmethod
    def from_document(
        cls, document: Any, *, blob_dir: Path | None = None, source: str = "<cassette>"
    ) -> Cassette:
        """Build a cassette from its parsed JSON document.

        Args:
            document: The parsed file.
            blob_dir: Where sidecar blobs live.
            source: Name used in error messages.

        Returns:
            The cassette.

        Raises:
            CassetteFormatError: As for ``load``.
        """
        decoder = _Decoder(blob_dir, source)
        if not isinstance(document, dict) or document.get("format") != FORMAT_NAME:
            raise CassetteFormatError(
                f'{source}: expected a JSON object with "format": "{FORMAT_NAME}", got '
                f"{_describe(document.get('format') if isinstance(document, dict) else document)}"
            )
        version = document.get("version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise CassetteFormatError(f'{source}: expected an int "version", got {version!r}')
        if version > FORMAT_VERSION:
            raise CassetteFormatError(
                f"{source}: cassette format version {version} is newer than this "
                f"together-image-fake reads (up to {FORMAT_VERSION}); upgrade together-image-fake"
            )
        items = document.get("interactions")
        if not isinstance(items, list):
            raise CassetteFormatError(f'{source}: expected a list "interactions"')
        meta = document.get("meta", {})
        if not isinstance(meta, dict):
            raise CassetteFormatError(f'{source}: expected an object "meta", got {_describe(meta)}')
        interactions = tuple(
            decoder.interaction(item, f"interactions[{index}]") for index, item in enumerate(items)
        )
        return cls(interactions=interactions, meta=meta)

    def to_document(
        self, *, blobs: BlobPolicy = "sidecar", blob_dir_name: str | None = None
    ) -> tuple[dict[str, Any], dict[str, bytes]]:
        """Encode the cassette.

        Args:
            blobs: ``"sidecar"`` to move image bytes to sidecar files, ``"elide"`` to leave them
                out (size, type and hash kept).
            blob_dir_name: The sidecar directory's name, recorded in the document.

        Returns:
            ``(document, sidecar files by name)``.
        """
        encoder = _Encoder(blobs)
        items = [encoder.interaction(interaction) for interaction in self.interactions]
        document: dict[str, Any] = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "meta": dict(self.meta),
        }
        if encoder.blobs and blob_dir_name:
            document["blob_dir"] = blob_dir_name
        document["interactions"] = items
        return document, encoder.blobs

    def save(
        self,
        path: str | os.PathLike[str],
        *,
        blobs: BlobPolicy = "sidecar",
        secrets: Iterable[str] = (),
        allow: Iterable[str] = (),
    ) -> Path:
        """Scan, then write the cassette and its sidecar blobs atomically.

        Args:
            path: The ``.json`` file to write.
            blobs: ``"sidecar"`` or ``"elide"`` (see ``to_document``).
            secrets: Known secret values the scan must not find.
            allow: Regular expressions of benign strings the scan ignores.

        Returns:
            The path written.

        Raises:
            SecretLeakError: If the scan finds anything (then nothing is written).
        """
        path = Path(path)
        blob_dir = default_blob_dir(path)
        document, blob_files = self.to_document(blobs=blobs, blob_dir_name=blob_dir.name)
        findings = scan(document, blobs=blob_files, secrets=secrets, allow=allow)
        if findings:
            raise SecretLeakError(path, findings)
        path.parent.mkdir(parents=True, exist_ok=True)
        if blob_files:
            blob_dir.mkdir(exist_ok=True)
            for name, data in blob_files.items():
                target = blob_dir / name
                if not target.exists():
                    write_atomically(target, data)
        write_atomically(path, dumps_document(document).encode("utf-8"))
        _prune_blobs(blob_dir, keep=set(blob_files))
        return path


def dumps_document(document: Mapping[str, Any]) -> str:
    """Serialize a cassette document the way files are written (2-space indent, final newline)."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def default_blob_dir(path: Path) -> Path:
    """The sidecar directory of a cassette: ``x.json`` → ``x.blobs/`` beside it."""
    return path.with_name(path.stem + ".blobs")


def blob_dir_for(path: Path, document: Any) -> Path:
    """The sidecar directory a loaded document names (``blob_dir``), else the default one."""
    if isinstance(document, dict) and isinstance(document.get("blob_dir"), str):
        name = document["blob_dir"]
        if "/" not in name and "\\" not in name and name not in ("", ".", ".."):
            return path.with_name(name)
    return default_blob_dir(path)


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory and
    ``os.replace``, so no reader ever sees a partial file."""
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        # mkstemp creates 0600 files; a cassette is a shared fixture, so keep the old file's mode
        # or use the usual 0644.
        os.chmod(temporary, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _prune_blobs(blob_dir: Path, *, keep: set[str]) -> None:
    """Remove sidecar files no interaction refers to any more (after a re-recording)."""
    if not blob_dir.is_dir():
        return
    for entry in blob_dir.iterdir():
        if _BLOB_NAME.match(entry.name) and entry.name not in keep:
            entry.unlink(missing_ok=True)
    if not any(blob_dir.iterdir()):
        blob_dir.rmdir()


# ---- helpers shared with the recorder and the player -----------------------------------------


def api_path(url_or_path: str) -> str:
    """The path of a URL as the fake's routes see it: from ``/v1/…`` or ``/shrt/…`` onwards.

    ``https://api.together.xyz/v1/images/generations``, ``http://127.0.0.1:9/v1/images/generations``
    and ``https://proxy/together/v1/images/generations`` all give ``/v1/images/generations``.
    """
    path = urlsplit(url_or_path).path if "://" in url_or_path else url_or_path.partition("?")[0]
    for marker in ("/v1/", "/shrt/"):
        index = path.find(marker)
        if index >= 0:
            return path[index:]
    return "/v1" if path.endswith("/v1") else (path or "/")


def canonical_json(value: Any) -> bytes:
    """Canonical JSON bytes: sorted keys, compact separators, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sniff_media_type(data: bytes) -> str | None:
    """Detect JPEG, PNG, GIF or WebP from magic bytes (the client's signatures, limited to the
    types a cassette stores as image blobs)."""
    media_type = detect_media_type(data)
    return media_type if media_type in _EXTENSIONS else None


def placeholder_image(media_type: str | None) -> bytes:
    """A small, valid, deterministic image standing in for an elided one (JPEG unless PNG,
    GIF or WebP is asked for)."""
    from PIL import Image

    formats = {"image/png": "PNG", "image/gif": "GIF", "image/webp": "WEBP"}
    image_format = formats.get(media_type or "", "JPEG")
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (128, 128, 128)).save(buffer, format=image_format)
    return buffer.getvalue()


def content_type_of(headers: Iterable[tuple[str, str]]) -> str:
    """The lower-cased media type of a ``Content-Type`` header (no parameters), or ``""``."""
    value = header_value(tuple(headers), "content-type") or ""
    return value.partition(";")[0].strip().lower()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _blob_name(data: bytes, media_type: str | None) -> str:
    return f"{_sha256(data)}.{_EXTENSIONS.get(media_type or '', 'bin')}"


def _describe(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False, default=repr)
    return text if len(text) <= 60 else text[:57] + "..."


# ---- encoding ---------------------------------------------------------------------------------


def json_style_of(data: bytes, value: Any) -> tuple[str, bool] | None:
    """Find the serialization style that reproduces ``data`` from ``value`` exactly.

    Returns:
        ``(style name, trailing newline)``, or ``None`` when no style reproduces the bytes.
    """
    for name, options in _JSON_STYLES.items():
        try:
            text = json.dumps(value, **options).encode("utf-8")
        except UnicodeEncodeError:
            continue
        if data == text:
            return name, False
        if data == text + b"\n":
            return name, True
    return None


def render_json(value: Any, style: str, trailing_newline: bool = False) -> bytes:
    """Serialize ``value`` in a named style (the inverse of ``json_style_of``)."""
    text = json.dumps(value, **_JSON_STYLES[style]).encode("utf-8")
    return text + b"\n" if trailing_newline else text


class _Encoder:
    """Turns interactions into document form, collecting sidecar blobs."""

    def __init__(self, policy: BlobPolicy) -> None:
        if policy not in ("sidecar", "elide"):
            raise ValueError(f"blobs must be 'sidecar' or 'elide', got {policy!r}")
        self.policy = policy
        self.blobs: dict[str, bytes] = {}

    def interaction(self, interaction: Interaction) -> dict[str, Any]:
        request = interaction.request
        document: dict[str, Any] = {
            "request": {
                "method": request.method,
                "url": request.url,
                "headers": _headers_json(request.headers),
            }
        }
        if request.scrubbed_headers:
            document["request"]["scrubbed_headers"] = list(request.scrubbed_headers)
        document["request"]["body"] = self.request_body(request.body, request.headers)
        response = interaction.response
        if response.elided:
            raise CassetteError(
                f"Cannot encode a response whose body was elided when loaded ({request.method} "
                f"{request.url}): a placeholder stands in for it, and saving would store the "
                "placeholder as if it had been recorded. Re-record the interaction instead."
            )
        if response.action != "respond":
            document["response"] = {"action": response.action}
        else:
            document["response"] = {
                "status": response.status,
                "headers": _headers_json(response.headers),
                "body": self.response_body(response.body, response.headers),
            }
        if interaction.provenance:
            document["provenance"] = dict(interaction.provenance)
        return document

    def request_body(self, body: bytes, headers: tuple[tuple[str, str], ...]) -> Any:
        if not body:
            return None
        value = _parse_json(body)
        if value is not _NOT_JSON and not _has_marker(value):
            return {"json": self.extract(_sorted(value))}
        return self.raw(body, headers)

    def response_body(self, body: bytes, headers: tuple[tuple[str, str], ...]) -> Any:
        if not body:
            return None
        value = _parse_json(body)
        if value is not _NOT_JSON and not _has_marker(value):
            style = json_style_of(body, value)
            if style is not None:
                name, newline = style
                encoded: dict[str, Any] = {"json": self.extract(value), "style": name}
                if newline:
                    encoded["trailing_newline"] = True
                return encoded
        return self.raw(body, headers)

    def raw(self, body: bytes, headers: tuple[tuple[str, str], ...]) -> dict[str, Any]:
        media_type = content_type_of(headers)
        sniffed = sniff_media_type(body)
        if sniffed is None and not media_type.startswith("image/"):
            try:
                return {"text": body.decode("utf-8")}
            except UnicodeDecodeError:
                pass
        return self.blob(body, sniffed or media_type or "application/octet-stream")

    def blob(self, data: bytes, media_type: str) -> dict[str, Any]:
        if self.policy == "elide":
            elided = ElidedBlob(size=len(data), media_type=media_type, sha256=_sha256(data))
            return {"elided": elided.to_json()}
        name = _blob_name(data, media_type)
        self.blobs[name] = data
        return {"blob": name, "media_type": media_type}

    def extract(self, value: Any) -> Any:
        """Replace embedded images (data URLs, base64 image payloads) by blob markers."""
        if isinstance(value, dict):
            return {key: self.extract(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.extract(item) for item in value]
        if isinstance(value, str):
            return self.embedded(value) or value
        return value

    def embedded(self, text: str) -> dict[str, Any] | None:
        match = _DATA_URL.match(text)
        if match is not None:
            data = _exact_base64(match.group("payload"))
            if data is None:
                return None
            return self.blob_marker(data, match.group("type"), "data_url")
        if len(text) < _MIN_INLINE_IMAGE_B64:
            return None
        data = _exact_base64(text)
        if data is None or sniff_media_type(data) is None:
            return None
        return self.blob_marker(data, sniff_media_type(data), "base64")

    def blob_marker(self, data: bytes, media_type: str | None, encoding: str) -> dict[str, Any]:
        if self.policy == "elide":
            elided = ElidedBlob(size=len(data), media_type=media_type, sha256=_sha256(data))
            return {"$elided": {**elided.to_json(), "encoding": encoding}}
        name = _blob_name(data, sniff_media_type(data) or media_type)
        self.blobs[name] = data
        marker: dict[str, Any] = {"$blob": name, "encoding": encoding}
        if encoding == "data_url":
            # The URL's declared type, which may differ from what the bytes are.
            marker["media_type"] = media_type
        return marker


def _exact_base64(text: str) -> bytes | None:
    """Decode standard padded base64 only when encoding the result gives ``text`` back."""
    if not _BASE64.match(text) or len(text) % 4:
        return None
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return data if base64.b64encode(data).decode("ascii") == text else None


def _headers_json(headers: tuple[tuple[str, str], ...]) -> dict[str, str]:
    merged: dict[str, str] = {}
    for name, value in headers:
        existing = next((key for key in merged if key.lower() == name.lower()), None)
        if existing is None:
            merged[name] = value
        else:
            merged[existing] = f"{merged[existing]}, {value}"
    return merged


class _NotJSON:
    pass


_NOT_JSON = _NotJSON()


def _parse_json(body: bytes) -> Any:
    if body.lstrip()[:1] not in (b"{", b"["):
        return _NOT_JSON
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return _NOT_JSON


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _sorted(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted(item) for item in value]
    return value


def _has_marker(value: Any) -> bool:
    if isinstance(value, dict):
        return any(key in _MARKERS for key in value) or any(_has_marker(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_marker(item) for item in value)
    return False


# ---- decoding ---------------------------------------------------------------------------------


class _Decoder:
    """Turns document form back into interactions, reading sidecar blobs."""

    def __init__(self, blob_dir: Path | None, source: str) -> None:
        self.blob_dir = blob_dir
        self.source = source
        self.elided = False

    def fail(self, where: str, expected: str, got: object) -> CassetteFormatError:
        return CassetteFormatError(
            f"{self.source}: {where}: expected {expected}, got {_describe(got)}"
        )

    def interaction(self, item: Any, where: str) -> Interaction:
        if not isinstance(item, dict):
            raise self.fail(where, "an object", item)
        request = self.request(item.get("request"), f"{where}.request")
        response = self.response(item.get("response"), f"{where}.response")
        provenance = item.get("provenance", {})
        if not isinstance(provenance, dict) or not all(
            isinstance(v, str) for v in provenance.values()
        ):
            raise self.fail(f"{where}.provenance", "an object of strings", provenance)
        return Interaction(request=request, response=response, provenance=provenance)

    def request(self, item: Any, where: str) -> RecordedRequest:
        if not isinstance(item, dict):
            raise self.fail(where, "an object", item)
        method = item.get("method")
        url = item.get("url")
        if not isinstance(method, str) or not method:
            raise self.fail(f"{where}.method", "a method string", method)
        if not isinstance(url, str) or not url:
            raise self.fail(f"{where}.url", "a URL string", url)
        scrubbed = item.get("scrubbed_headers", [])
        if not isinstance(scrubbed, list) or not all(isinstance(n, str) for n in scrubbed):
            raise self.fail(f"{where}.scrubbed_headers", "a list of header names", scrubbed)
        self.elided = False
        body = self.body(item.get("body"), f"{where}.body", request=True)
        return RecordedRequest(
            method=method.upper(),
            url=url,
            headers=self.headers(item.get("headers", {}), f"{where}.headers"),
            body=body,
            scrubbed_headers=tuple(scrubbed),
        )

    def response(self, item: Any, where: str) -> RecordedResponse:
        if not isinstance(item, dict):
            raise self.fail(where, "an object", item)
        action = item.get("action", "respond")
        if action in ("reset", "timeout"):
            return RecordedResponse(status=0, action=action)
        if action != "respond":
            raise self.fail(f"{where}.action", "'respond', 'reset' or 'timeout'", action)
        status = item.get("status")
        if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
            raise self.fail(f"{where}.status", "an HTTP status from 100 to 599", status)
        headers = self.headers(item.get("headers", {}), f"{where}.headers")
        self.elided = False
        body = self.body(item.get("body"), f"{where}.body", request=False)
        if self.elided and header_value(headers, "content-length") is not None:
            # The placeholder has its own length; a stale Content-Length would break framing.
            headers = tuple(
                (n, str(len(body)) if n.lower() == "content-length" else v) for n, v in headers
            )
        return RecordedResponse(status=status, headers=headers, body=body, elided=self.elided)

    def headers(self, item: Any, where: str) -> tuple[tuple[str, str], ...]:
        if not isinstance(item, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in item.items()
        ):
            raise self.fail(where, "an object of header names to string values", item)
        return tuple(item.items())

    def body(self, item: Any, where: str, *, request: bool) -> bytes:
        if item is None:
            return b""
        if not isinstance(item, dict):
            raise self.fail(where, "null or a body object", item)
        if "json" in item:
            value = self.resolve(item["json"], f"{where}.json", request=request)
            if request:
                return canonical_json(value)
            style = item.get("style")
            if style not in _JSON_STYLES:
                raise self.fail(f"{where}.style", f"one of {sorted(_JSON_STYLES)}", style)
            return render_json(value, style, bool(item.get("trailing_newline", False)))
        if "text" in item:
            if not isinstance(item["text"], str):
                raise self.fail(f"{where}.text", "a string", item["text"])
            return item["text"].encode("utf-8")
        if "blob" in item:
            return self.read_blob(item["blob"], f"{where}.blob")
        if "elided" in item:
            info = self.elided_blob(item["elided"], f"{where}.elided")
            self.elided = True
            return placeholder_image(info.media_type)
        raise self.fail(where, "a body with one of json, text, blob, elided", item)

    def resolve(self, value: Any, where: str, *, request: bool) -> Any:
        """Resolve blob markers; elided markers become placeholders (responses) or stay
        markers that match by hash (requests)."""
        if isinstance(value, dict):
            if "$blob" in value:
                data = self.read_blob(value["$blob"], f"{where}.$blob")
                return _embed(data, value, where, self)
            if "$elided" in value:
                info = self.elided_blob(value["$elided"], f"{where}.$elided")
                if request:
                    return value
                self.elided = True
                data = placeholder_image(info.media_type)
                return _embed(data, value["$elided"], where, self)
            return {
                key: self.resolve(item, f"{where}.{key}", request=request)
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [
                self.resolve(item, f"{where}[{i}]", request=request) for i, item in enumerate(value)
            ]
        return value

    def elided_blob(self, item: Any, where: str) -> ElidedBlob:
        if not isinstance(item, dict) or not isinstance(item.get("size"), int):
            raise self.fail(where, "an object with an int size", item)
        media_type = item.get("media_type")
        sha256 = item.get("sha256")
        if media_type is not None and not isinstance(media_type, str):
            raise self.fail(f"{where}.media_type", "a string or null", media_type)
        if sha256 is not None and not (
            isinstance(sha256, str) and re.fullmatch(r"[0-9a-f]{64}", sha256)
        ):
            raise self.fail(f"{where}.sha256", "64 hex digits or null", sha256)
        return ElidedBlob(size=item["size"], media_type=media_type, sha256=sha256)

    def read_blob(self, name: Any, where: str) -> bytes:
        if not isinstance(name, str) or not _BLOB_NAME.match(name):
            raise self.fail(where, "a blob file name '<sha256>.<ext>'", name)
        if self.blob_dir is None:
            raise CassetteFormatError(
                f"{self.source}: {where}: no blob directory to read {name} from"
            )
        target = self.blob_dir / name
        try:
            data = target.read_bytes()
        except OSError as error:
            raise CassetteFormatError(
                f"{self.source}: {where}: cannot read blob {target} ({error})"
            ) from error
        if _sha256(data) != name.partition(".")[0]:
            raise CassetteFormatError(
                f"{self.source}: {where}: blob {target} does not match its name (SHA-256 "
                f"{_sha256(data)}); the file was changed or truncated"
            )
        return data


def _embed(data: bytes, marker: Mapping[str, Any], where: str, decoder: _Decoder) -> str:
    encoding = marker.get("encoding")
    payload = base64.b64encode(data).decode("ascii")
    if encoding == "base64":
        return payload
    if encoding == "data_url":
        media_type = marker.get("media_type")
        if not isinstance(media_type, str):
            raise decoder.fail(f"{where}.media_type", "a media type string", media_type)
        return f"data:{media_type};base64,{payload}"
    raise decoder.fail(f"{where}.encoding", "'base64' or 'data_url'", encoding)
