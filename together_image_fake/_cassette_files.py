"""A cassette on disk: where its files live, how they are read without trusting them, and how
they are written so that concurrent recorders and readers never see a broken cassette.

A cassette ``x.json`` keeps its image blobs in ``x.json.blobs/`` (the whole file name, so no two
cassettes share a folder; older versions wrote ``x.blobs/``, still read when a document names it).
Files are written through a temporary file and ``os.replace``; one save (blobs, document, pruning
of the replaced version's own stale blobs) holds an exclusive ``flock`` on the cassette's folder
and a load holds a shared one, so a load never meets a blob pruned under it. Reading trusts
nothing: only regular files of bounded size are read (a FIFO or ``/dev/zero`` is refused before
any read), JSON nesting is bounded before parsing, and every failure is a ``CassetteFormatError``
naming the file (and the interaction, where there is one).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from together_image_fake._interactions import CassetteError, CassetteFormatError

if sys.platform != "win32":
    import fcntl

MAX_CASSETTE_BYTES = 64 * 1024 * 1024
"""Largest cassette file read; image bytes live in blobs, so real cassettes are a few KiB."""
MAX_BLOB_BYTES = 128 * 1024 * 1024
"""Largest blob read: four times the fake's request cap, room for a lossless 4K image [INF]."""
MAX_JSON_DEPTH = 64
"""Deepest nesting of arrays and objects a cassette may have; real ones stay below 15."""
BLOB_NAME = re.compile(r"^[0-9a-f]{64}\.[a-z0-9]{1,5}$")
"""A blob's file name: its SHA-256, then an extension."""

_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{},:]')


def read_document(path: Path) -> Any:
    """Read and parse a cassette file (call it under ``directory_lock(path.parent, shared=True)``
    together with reading its blobs).

    Raises:
        CassetteFormatError: If it is missing, unreadable, not a bounded regular file, not UTF-8
            JSON or nested too deeply.
    """
    try:
        data = read_regular_file(path, MAX_CASSETTE_BYTES)
    except FileNotFoundError:
        raise CassetteFormatError(f"No cassette at {path}") from None
    except OSError as error:
        raise CassetteFormatError(
            f"{path}: cannot read the cassette ({os_reason(error)})"
        ) from error
    except ValueError as error:
        raise CassetteFormatError(f"{path}: {error}") from error
    return parse_document(data, str(path))


def store(path: Path, document: Mapping[str, Any], blobs: Mapping[str, bytes]) -> None:
    """Write a cassette's blobs, then its document, then prune the replaced version's stale
    blobs, all under the folder's exclusive lock.

    Raises:
        CassetteError: If the blob folder is a symlink or not a folder (nothing is written).
    """
    blob_dir = default_blob_dir(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # One save at a time per folder: another recorder's prune must never run between this one's
    # blob writes and its document write (that is how a cassette lost its blobs).
    with directory_lock(path.parent, shared=False):
        previous = _previous_blobs(path)
        if blobs:
            _own_blob_folder(path, blob_dir).mkdir(exist_ok=True)
            for name, data in blobs.items():
                # Rewritten even when present: heals a truncated blob, and os.replace swaps a
                # symlink planted in its place for a real file instead of writing through it.
                write_atomically(blob_dir / name, data)
        write_atomically(path, dumps_document(document).encode("utf-8"))
        if previous is not None:
            _prune_blobs(path, previous, keep=set(blobs))


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


def check_object_depth(document: Any, source: str) -> None:
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


def os_reason(error: OSError) -> str:
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
def directory_lock(directory: Path, *, shared: bool) -> Iterator[None]:
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


def _own_blob_folder(path: Path, blob_dir: Path) -> Path:
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
                if isinstance(value.get(key), str) and BLOB_NAME.match(value[key]):
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
