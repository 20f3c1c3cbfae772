"""Cassettes: recorded HTTP exchanges with Together's image API as diff-friendly JSON files.

A cassette is one UTF-8 JSON file (format ``FORMAT_NAME``, version ``FORMAT_VERSION``) holding
``meta`` and a list of interactions, each a request (method, URL, headers without credentials, the
names of the credential headers that were dropped, a canonical JSON body) and a response (status,
headers, body, or a connection-level ``action``). Response bodies are stored so that loading gives
back the exact bytes: JSON as a readable value plus the serialization ``style`` that reproduces
them (checked when encoding), other text verbatim. Image bytes never sit in the JSON: a binary
body, a ``b64_json`` payload or a ``data:`` URL is moved to a sidecar file named by its SHA-256 in
``<cassette file name>.blobs/`` (real ``.jpg``/``.png`` files, viewable and deduplicated; older
cassettes name their folder ``<stem>.blobs/`` in the document and still load), or elided (only its
size, type and hash kept; replay then serves a small placeholder image). Saving runs the secret
scan of ``_secrets`` and writes nothing when it finds anything; files are written through a
temporary file and ``os.replace``, and the write-and-prune of one save holds an exclusive lock on
the cassette's folder (loading holds a shared one), so concurrent recorders and readers (e.g.
``pytest -n`` workers) never see half a file or a cassette whose blobs were pruned under it.
Loading trusts nothing in the files: only regular files of bounded size are read, JSON nesting is
bounded, and headers, statuses, bodies and URLs are checked, each failure a
``CassetteFormatError`` naming the file and the interaction.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import io
import json
import os
import re
import stat
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from together_image_fake._secrets import SecretFinding, scan
from together_image_fake._wire import ResponseAction

if sys.platform != "win32":
    import fcntl

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
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp"}
_DATA_URL = re.compile(r"^data:(?P<type>[A-Za-z0-9.+-]+/[A-Za-z0-9.+-]+);base64,(?P<payload>.*)$")
_BASE64 = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")
_BLOB_NAME = re.compile(r"^[0-9a-f]{64}\.[a-z0-9]{1,5}$")
_MIN_INLINE_IMAGE_B64 = 64
_MARKERS = ("$blob", "$elided")

MAX_CASSETTE_BYTES = 64 * 1024 * 1024
"""Largest cassette file read; image bytes live in blobs, so real cassettes are a few KiB."""
MAX_BLOB_BYTES = 128 * 1024 * 1024
"""Largest blob read: four times the fake's request cap, room for a lossless 4K image [INF]."""
MAX_JSON_DEPTH = 64
"""Deepest nesting of arrays and objects a cassette may have; real ones stay below 15."""

# RFC 9110 section 5.1 (token) and 5.5 (field-value: visible characters, obs-text, SP, HTAB).
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_HEADER_VALUE_FORBIDDEN = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# RFC 9110 sections 15.3.5, 15.4.5 and 6.4.1: these statuses never have content.
_NO_BODY_STATUSES = frozenset({204, 304}) | frozenset(range(100, 200))
_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{},:]')


class CassetteError(Exception):
    """Base class of the cassette errors."""


class CassetteFormatError(CassetteError, ValueError):
    """A cassette file that cannot be read: not JSON, another format, a newer version, bad data."""


class SecretLeakError(CassetteError):
    """Saving was refused because the cassette still contains something that looks secret.

    Attributes:
        path: The cassette that was not written.
        findings: What was found (never the secret itself).
    """

    def __init__(self, path: Path, findings: list[SecretFinding]) -> None:
        self.path = path
        self.findings = findings
        listed = "\n".join(f"  - {finding}" for finding in findings[:20])
        more = f"\n  … and {len(findings) - 20} more" if len(findings) > 20 else ""
        super().__init__(
            f"Refusing to save cassette {path}: {len(findings)} possible secret(s) remain after "
            f"scrubbing; nothing was written.\n{listed}{more}\n"
            "Pass the secret to the recorder (secrets=[...], --secret) so it is scrubbed, or, "
            "for a false positive, allow the benign pattern (allow=[regex], --allow)."
        )


@dataclass(frozen=True, kw_only=True)
class ElidedBlob:
    """What is kept of an image left out of a cassette.

    Attributes:
        size: Its length in bytes.
        media_type: Its media type, when known.
        sha256: Its SHA-256 (hex), when known.
    """

    size: int
    media_type: str | None = None
    sha256: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the document form."""
        return {"size": self.size, "media_type": self.media_type, "sha256": self.sha256}


@dataclass(frozen=True, kw_only=True)
class RecordedRequest:
    """A recorded request, credentials removed.

    Attributes:
        method: Upper-case method.
        url: Absolute URL (credential query values scrubbed).
        headers: Headers in recorded order, without credential headers.
        body: The body. After loading, a JSON body is its canonical form (sorted keys, compact),
            where an elided image appears as a ``{"$elided": {...}}`` object.
        scrubbed_headers: Names of the credential headers that were dropped.
    """

    method: str
    url: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    scrubbed_headers: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class RecordedResponse:
    """A recorded response.

    Attributes:
        status: HTTP status (0 for a connection-level ``action``).
        headers: Headers in recorded order.
        body: The exact body bytes (elided images replaced by placeholders on load).
        action: ``"respond"``, or ``"reset"``/``"timeout"`` when the connection failed instead.
        elided: Whether part of the body was elided, so ``body`` is not what was recorded.
    """

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    action: ResponseAction = "respond"
    elided: bool = False

    def header(self, name: str) -> str | None:
        """Return the first header called ``name`` (case-insensitive), or ``None``."""
        return _header(self.headers, name)


@dataclass(frozen=True, kw_only=True)
class Interaction:
    """One request and its response.

    Attributes:
        request: The request.
        response: The response.
        provenance: Where each part comes from, e.g. ``{"response.body": "[REC] …"}``: free text
            led by a tag of the reference ([REC], [DOC], [3P], [INF]…); empty for own recordings.
    """

    request: RecordedRequest
    response: RecordedResponse
    provenance: Mapping[str, str] = field(default_factory=dict)


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
            CassetteFormatError: If the file is missing, not a regular file, larger than
                ``MAX_CASSETTE_BYTES``, not a cassette, of a newer format version, nested deeper
                than ``MAX_JSON_DEPTH``, malformed, or a blob is missing, not a regular file, too
                large or does not match its hash.
        """
        path = Path(path)
        with _directory_lock(path.parent, shared=True):
            try:
                data = read_regular_file(path, MAX_CASSETTE_BYTES)
            except FileNotFoundError:
                raise CassetteFormatError(f"No cassette at {path}") from None
            except OSError as error:
                raise CassetteFormatError(
                    f"{path}: cannot read the cassette ({_os_reason(error)})"
                ) from error
            except ValueError as error:
                raise CassetteFormatError(f"{path}: {error}") from error
            document = parse_document(data, str(path))
            return cls.from_document(
                document, blob_dir=blob_dir_for(path, document), source=str(path)
            )

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
        _check_object_depth(document, source)
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
        # One save at a time per folder: another recorder's prune must never run between this
        # one's blob writes and its document write (that is how a cassette lost its blobs).
        with _directory_lock(path.parent, shared=False):
            previous = _previous_blobs(path)
            if blob_files:
                _own_folder(path, blob_dir).mkdir(exist_ok=True)
                for name, data in blob_files.items():
                    # Rewritten even when present: heals a truncated blob, and os.replace swaps
                    # a symlink planted in its place for a real file instead of writing through.
                    write_atomically(blob_dir / name, data)
            write_atomically(path, dumps_document(document).encode("utf-8"))
            if previous is not None:
                _prune_blobs(path, previous, keep=set(blob_files) if blob_files else set())
        return path


def dumps_document(document: Mapping[str, Any]) -> str:
    """Serialize a cassette document the way files are written (2-space indent, final newline)."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def default_blob_dir(path: Path) -> Path:
    """The sidecar directory of a cassette: ``x.json`` → ``x.json.blobs/`` beside it.

    The whole file name is kept, so no two cassettes share a folder (``quetzal.json`` and
    ``quetzal.v1`` once both used ``quetzal.blobs/``, and recording one pruned the other's blobs).
    """
    return path.with_name(path.name + ".blobs")


def legacy_blob_dir(path: Path) -> Path:
    """The folder older versions wrote: ``x.json`` → ``x.blobs/`` (shared by ``x.json`` and
    ``x.v1``). Still read when a document names it in ``blob_dir``."""
    return path.with_name(path.stem + ".blobs")


def blob_dir_for(path: Path, document: Any) -> Path:
    """The sidecar directory a loaded document names (``blob_dir``), else the default one."""
    if isinstance(document, dict) and isinstance(document.get("blob_dir"), str):
        name = document["blob_dir"]
        if (
            "/" not in name
            and "\\" not in name
            and "\x00" not in name
            and name not in ("", ".", "..")
        ):
            return path.with_name(name)
    return default_blob_dir(path)


def read_regular_file(path: Path, limit: int) -> bytes:
    """Read a regular file of at most ``limit`` bytes, whatever sits at ``path``.

    The file is opened without blocking (a named pipe would otherwise wait for a writer forever)
    and checked through its open descriptor, so a swap between check and read changes nothing;
    a device (``/dev/zero``, also behind a symlink) or an oversized file is refused before
    anything is read.

    Raises:
        OSError: If it cannot be opened (``FileNotFoundError`` when absent).
        ValueError: If it is not a regular file or is larger than ``limit``; the message says
            which.
    """
    descriptor = os.open(
        path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    )
    with os.fdopen(descriptor, "rb") as handle:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"expected a regular file, got {_file_kind(info.st_mode)}")
        if info.st_size > limit:
            raise ValueError(f"expected at most {limit} bytes, got a file of {info.st_size} bytes")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"expected at most {limit} bytes, got a file still growing past that")
    return data


def _check_object_depth(document: Any, source: str) -> None:
    """Refuse a parsed document nested deeper than ``MAX_JSON_DEPTH`` (iteratively, so the
    check itself cannot overflow the stack), naming the interaction."""
    pending: list[tuple[Any, int, int | None]] = [(document, 1, None)]
    while pending:
        value, depth, index = pending.pop()
        if not isinstance(value, (dict, list)):
            continue
        if depth > MAX_JSON_DEPTH:
            where = f"interactions[{index}]: " if index is not None else ""
            raise CassetteFormatError(
                f"{source}: {where}expected JSON nested at most {MAX_JSON_DEPTH} levels deep, "
                "got deeper nesting"
            )
        if depth == 1 and isinstance(value, dict) and isinstance(value.get("interactions"), list):
            for position, item in enumerate(value["interactions"]):
                pending.append((item, 3, position))
            pending.extend((item, 2, None) for key, item in value.items() if key != "interactions")
            continue
        items = value.values() if isinstance(value, dict) else value
        pending.extend((item, depth + 1, index) for item in items)


def _file_kind(mode: int) -> str:
    kinds = (
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISDIR, "a directory"),
    )
    return next((name for test, name in kinds if test(mode)), "a special file")


def _os_reason(error: OSError) -> str:
    """An OSError's reason without Python's repr-ish ``[Errno N]`` prefix."""
    return error.strerror or type(error).__name__


def parse_document(data: bytes, source: str) -> Any:
    """Parse a cassette file's bytes, refusing nesting deeper than ``MAX_JSON_DEPTH`` before the
    parser (or any recursive walk after it) can meet it.

    Raises:
        CassetteFormatError: If the bytes are not UTF-8 JSON or nest too deeply.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CassetteFormatError(
            f"{source}: expected UTF-8 JSON, got a byte that is not UTF-8 at offset {error.start}"
        ) from error
    _check_depth(text, source)
    try:
        return json.loads(text)
    except ValueError as error:
        raise CassetteFormatError(f"{source}: not a readable JSON cassette ({error})") from error


def _check_depth(text: str, source: str) -> None:
    """Walk the JSON tokens once (strings skipped whole, iteratively) and refuse deep nesting,
    naming the interaction it happens in."""
    depth = 0
    key: str | None = None
    last_string: str | None = None
    in_interactions = False
    index = -1
    for match in _JSON_TOKEN.finditer(text):
        mark = match.group()
        if mark in ("[", "{"):
            depth += 1
            if depth == 2 and mark == "[" and key == "interactions":
                in_interactions = True
                index = 0
            if depth > MAX_JSON_DEPTH:
                line = text.count("\n", 0, match.start()) + 1
                where = f"interactions[{index}]: " if in_interactions and index >= 0 else ""
                raise CassetteFormatError(
                    f"{source}: {where}expected JSON nested at most {MAX_JSON_DEPTH} levels deep, "
                    f"got deeper nesting (line {line})"
                )
        elif mark in ("]", "}"):
            depth -= 1
            if depth == 1:
                in_interactions = False
        elif mark == ":":
            if depth == 1:
                key = last_string
        elif mark == ",":
            if depth == 2 and in_interactions:
                index += 1
        else:
            last_string = mark[1:-1]


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


@contextlib.contextmanager
def _directory_lock(directory: Path, *, shared: bool) -> Iterator[None]:
    """Hold an advisory lock on a folder: shared to load, exclusive to save.

    ``flock`` on the folder itself leaves no lock file behind. Where no lock can be had (Windows,
    a folder that cannot be opened) the code runs unlocked: atomic renames still keep each file
    whole, only concurrent recorders to one folder are then not serialized.
    """
    if sys.platform == "win32":  # pragma: no cover - no flock there
        yield
        return
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        yield
        return
    try:
        # A file system without flock: proceed as where there are no locks.
        with contextlib.suppress(OSError):
            fcntl.flock(descriptor, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # releases the lock


def _own_folder(path: Path, blob_dir: Path) -> Path:
    """Return ``blob_dir`` after checking it is a real folder (or absent), never a link out."""
    if blob_dir.is_symlink():
        raise CassetteError(
            f"Refusing to save cassette {path}: its blob folder {blob_dir} is a symbolic link "
            f"(to {os.readlink(blob_dir)}); blobs are only written to and pruned from a real "
            "folder beside the cassette, so nothing is written or deleted where the link points. "
            "Replace the link with a folder and save again; nothing was written."
        )
    if blob_dir.exists() and not blob_dir.is_dir():
        raise CassetteError(
            f"Refusing to save cassette {path}: its blob folder {blob_dir} exists and is not a "
            "folder; nothing was written."
        )
    return blob_dir


def _previous_blobs(path: Path) -> tuple[Path, set[str]] | None:
    """The blob folder and blob names of the cassette about to be replaced, or ``None`` when
    there is none or it cannot be read (then nothing is pruned)."""
    try:
        document = parse_document(read_regular_file(path, MAX_CASSETTE_BYTES), str(path))
    except (OSError, ValueError):
        return None
    names: set[str] = set()
    pending: list[Any] = [document.get("interactions") if isinstance(document, dict) else None]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            for key in ("blob", "$blob"):
                if isinstance(value.get(key), str) and _BLOB_NAME.match(value[key]):
                    names.add(value[key])
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return blob_dir_for(path, document), names


def _prune_blobs(path: Path, previous: tuple[Path, set[str]], *, keep: set[str]) -> None:
    """Remove the blobs the replaced version of this cassette referred to and the new one does
    not: never another cassette's blobs, never anything through a symlinked folder.

    A folder in the old ``<stem>.blobs`` layout may be shared by same-stem cassettes
    (``x.json``, ``x.v1``); its blobs are only pruned when no such sibling file exists.
    """
    folder, names = previous
    if folder.is_symlink() or not folder.is_dir():
        return
    if folder == default_blob_dir(path):
        stale = names - keep
    elif folder == legacy_blob_dir(path) and not _has_same_stem_sibling(path):
        stale = names  # the new version keeps its blobs in its own folder
    else:
        return  # a hand-named or possibly shared folder: not known to be this cassette's alone
    for name in stale:
        (folder / name).unlink(missing_ok=True)  # unlink never follows a symlinked entry
    with contextlib.suppress(OSError):
        folder.rmdir()  # only succeeds when empty


def _has_same_stem_sibling(path: Path) -> bool:
    try:
        return any(
            entry.name != path.name and Path(entry.name).stem == path.stem and not entry.is_dir()
            for entry in os.scandir(path.parent)
        )
    except OSError:
        return True


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
    """Detect JPEG, PNG, GIF or WebP from magic bytes."""
    for magic, media_type in _MAGIC:
        if data.startswith(magic):
            return media_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


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
    value = _header(tuple(headers), "content-type") or ""
    return value.partition(";")[0].strip().lower()


def _header(headers: tuple[tuple[str, str], ...], name: str) -> str | None:
    lowered = name.lower()
    for key, value in headers:
        if key.lower() == lowered:
            return value
    return None


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
        self.check_url(url, f"{where}.url")
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
        if body and status in _NO_BODY_STATUSES:
            # Sent anyway, the body would be read as the start of the next response.
            raise CassetteFormatError(
                f"{self.source}: {where}.body: expected no body for status {status} (HTTP "
                f"forbids one), got {len(body)} bytes"
            )
        if self.elided and _header(headers, "content-length") is not None:
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
        for name, value in item.items():
            # Replay writes these to the wire: CR/LF would inject headers of the cassette's
            # choosing (Set-Cookie), a non-Latin-1 character would break the connection.
            if not _HEADER_NAME.match(name):
                raise self.fail(f"{where}.{name}", "a header name (RFC 9110 token)", name)
            if _HEADER_VALUE_FORBIDDEN.search(value):
                raise self.fail(
                    f"{where}.{name}", "a header value without CR, LF or control characters", value
                )
            try:
                value.encode("latin-1")
            except UnicodeEncodeError:
                raise self.fail(
                    f"{where}.{name}", "a header value of Latin-1 characters", value
                ) from None
        return tuple(item.items())

    def check_url(self, url: str, where: str) -> None:
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
        except ValueError as error:
            raise self.fail(where, f"an absolute http(s) URL ({error})", url) from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise self.fail(where, "an absolute http(s) URL", url)
        if _HEADER_VALUE_FORBIDDEN.search(url) or " " in url or "\t" in url:
            raise self.fail(where, "a URL without spaces or control characters", url)

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
            data = read_regular_file(target, MAX_BLOB_BYTES)
        except OSError as error:
            raise CassetteFormatError(
                f"{self.source}: {where}: cannot read blob {target} ({_os_reason(error)})"
            ) from error
        except ValueError as error:
            raise CassetteFormatError(f"{self.source}: {where}: blob {target}: {error}") from error
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
