"""Magic-byte media type detection, base64 and ``data:`` URL helpers.

These are pure functions on bytes and strings. Base64 decoding follows the WHATWG *forgiving-base64*
algorithm (the one ``atob`` implements, which the AI SDK relies on), extended with the URL-safe
alphabet, and raises ``InvalidDataContentError`` instead of silently dropping bad characters as
``base64.b64decode`` does. The fake reuses these helpers (``detect_media_type`` among them), so
both sides agree on every rule.
"""

from __future__ import annotations

import base64
import binascii
import re
import sys
from urllib.parse import unquote_to_bytes

from ._errors import InvalidDataContentError

DEFAULT_MEDIA_TYPE = "image/png"

# (media type, signature) in the order the AI SDK checks them; ``None`` matches any byte. These are
# the tightened signatures of @ai-sdk/provider-utils 5.0.45 (GIF87a/GIF89a, BMP reserved bytes,
# ISO-BMFF box size as a wildcard): they do not match arbitrary bytes starting with "BM" or "GIF".
_SIGNATURES: tuple[tuple[str, tuple[int | None, ...]], ...] = (
    ("image/gif", (0x47, 0x49, 0x46, 0x38, 0x37, 0x61)),
    ("image/gif", (0x47, 0x49, 0x46, 0x38, 0x39, 0x61)),
    ("image/png", (0x89, 0x50, 0x4E, 0x47)),
    ("image/jpeg", (0xFF, 0xD8)),
    ("image/webp", (0x52, 0x49, 0x46, 0x46, None, None, None, None, 0x57, 0x45, 0x42, 0x50)),
    ("image/bmp", (0x42, 0x4D, None, None, None, None, 0x00, 0x00, 0x00, 0x00)),
    ("image/tiff", (0x49, 0x49, 0x2A, 0x00)),
    ("image/tiff", (0x4D, 0x4D, 0x00, 0x2A)),
    ("image/avif", (0x00, 0x00, 0x00, None, 0x66, 0x74, 0x79, 0x70, 0x61, 0x76, 0x69, 0x66)),
    ("image/heic", (0x00, 0x00, 0x00, None, 0x66, 0x74, 0x79, 0x70, 0x68, 0x65, 0x69, 0x63)),
)

_EXTENSIONS = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/bmp": "bmp",
    "image/tiff": "tiff",
    "image/avif": "avif",
    "image/heic": "heic",
}

# WHATWG "ASCII whitespace": TAB, LF, FF, CR, SPACE.
_ASCII_WHITESPACE = {ord(c): None for c in "\t\n\f\r "}
_BASE64_BODY = re.compile(r"[A-Za-z0-9+/]*")
_BASE64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+")
_EXCERPT_LENGTH = 40


def detect_media_type(data: bytes | bytearray | memoryview) -> str | None:
    """Detect an image media type from its leading magic bytes.

    This is the project's one magic-byte sniffer: the client's inputs and results, and the fake's
    cassettes (which import it from here), all decide "which image type is this?" with it.

    Args:
        data: The image bytes (only the first 12 are looked at).

    Returns:
        ``image/png``, ``image/jpeg``, ``image/gif``, ``image/webp``, ``image/bmp``, ``image/tiff``,
        ``image/avif`` or ``image/heic``; ``None`` when no signature matches.
    """
    for media_type, signature in _SIGNATURES:
        if len(data) >= len(signature) and all(
            expected is None or data[index] == expected for index, expected in enumerate(signature)
        ):
            return media_type
    return None


def extension_for_media_type(media_type: str) -> str:
    """Return the usual file extension (without the dot) for an image media type.

    Args:
        media_type: E.g. ``"image/jpeg"``.

    Returns:
        E.g. ``"jpg"``; the subtype for types not in the table (``"image/x-foo"`` -> ``"x-foo"``).
    """
    return _EXTENSIONS.get(media_type, media_type.rpartition("/")[2] or "bin")


def _excerpt(text: str) -> str:
    if len(text) <= _EXCERPT_LENGTH:
        return repr(text)
    return repr(text[:_EXCERPT_LENGTH]) + f"... ({len(text)} characters)"


def decode_base64(text: str) -> bytes:
    """Decode base64 the forgiving way: any alphabet, optional padding, whitespace ignored.

    The URL-safe characters ``-`` and ``_`` are first mapped to ``+`` and ``/``; then the WHATWG
    forgiving-base64 decode applies: ASCII whitespace is removed, one or two trailing ``=`` are
    dropped when the length is a multiple of 4, a remaining length of 4k+1 or any character outside
    ``[A-Za-z0-9+/]`` is an error.

    Args:
        text: The base64 text.

    Returns:
        The decoded bytes (``b""`` for an empty text).

    Raises:
        InvalidDataContentError: ``text`` is not a string or not decodable base64.
    """
    if not isinstance(text, str):
        raise InvalidDataContentError(
            f"Invalid data content. Expected a base64 string, got {type(text).__name__}."
        )
    # Padded standard base64 (what servers send) decodes and validates in one pass with binascii's
    # strict mode (3.11+); the forgiving steps below would copy and scan a text of megabytes three
    # more times. (Mutating the version test is equivalent: both paths give the same answer.)
    if sys.version_info >= (3, 11):  # pragma: no mutate
        if len(text) % 4 == 0 and text.isascii():
            try:
                return binascii.a2b_base64(text, strict_mode=True)
            except binascii.Error:
                pass  # not canonical: the forgiving path decides
    compact = text.replace("-", "+").replace("_", "/").translate(_ASCII_WHITESPACE)
    if len(compact) % 4 == 0:
        if compact.endswith("=="):
            compact = compact[:-2]
        elif compact.endswith("="):
            compact = compact[:-1]
    if len(compact) % 4 == 1:
        raise InvalidDataContentError(
            "Invalid data content. Content string is not a base64-encoded media: "
            f"{len(compact)} base64 characters leave a dangling character (got {_excerpt(text)})."
        )
    if not _BASE64_BODY.fullmatch(compact):
        bad = next(char for char in compact if not _BASE64_BODY.fullmatch(char))
        raise InvalidDataContentError(
            "Invalid data content. Content string is not a base64-encoded media: "
            f"unexpected character {bad!r} (got {_excerpt(text)})."
        )
    # The checks above leave only well-formed input, which the stdlib decodes without error.
    return base64.b64decode(compact + "=" * (-len(compact) % 4))


def check_base64(text: str) -> None:
    """Check that ``decode_base64(text)`` would succeed, without decoding when that is cheap.

    Padded standard base64 (what servers send) is recognised by deleting its alphabet and looking
    at what is left, several times faster than decoding it; any other text is decoded.

    Args:
        text: The base64 text.

    Raises:
        InvalidDataContentError: Exactly when ``decode_base64(text)`` raises it.
    """
    if isinstance(text, str) and len(text) % 4 == 0 and text.isascii():
        raw = text.encode()  # ASCII, so UTF-8 is the same bytes
        rest = raw.translate(None, _BASE64_ALPHABET)
        if rest in (b"", b"=", b"==") and raw.endswith(rest):
            return
    decode_base64(text)


def encode_base64(data: bytes | bytearray | memoryview) -> str:
    """Encode bytes as standard, ``=``-padded base64.

    Args:
        data: The bytes to encode.

    Returns:
        The base64 text (standard alphabet, padded).
    """
    return base64.b64encode(bytes(data)).decode()


def to_data_url(data: bytes, media_type: str | None = None) -> str:
    """Build a ``data:<type>;base64,<standard base64>`` URL for image bytes.

    Args:
        data: The image bytes.
        media_type: The media type to declare; detected from the bytes when ``None``, and
            ``image/png`` when detection fails (as the AI SDK does).

    Returns:
        The data URL.
    """
    declared = media_type or detect_media_type(data) or DEFAULT_MEDIA_TYPE
    return f"data:{declared};base64,{encode_base64(data)}"


def parse_data_url(url: str) -> tuple[str, bytes]:
    """Split a ``data:`` URL into its media type and decoded bytes.

    The payload is decoded with ``decode_base64`` when the header ends in ``;base64``, else
    percent-decoded as RFC 2397 says.

    Args:
        url: A ``data:[<media type>][;params][;base64],<payload>`` URL (scheme case-insensitive).

    Returns:
        ``(media_type, data)``: the header's media type (lower-cased) when it has one, else the type
        detected from the bytes, else ``image/png``.

    Raises:
        InvalidDataContentError: Not a data URL, no comma, a malformed media type, or an undecodable
            base64 payload.
    """
    if not isinstance(url, str) or url[:5].lower() != "data:":
        raise InvalidDataContentError(
            f"Invalid data URL: expected a string starting with 'data:', got {_excerpt(str(url))}."
        )
    header, comma, payload = url[5:].partition(",")
    if not comma:
        raise InvalidDataContentError(
            f"Invalid data URL: expected 'data:<media type>;base64,<data>', found no comma in "
            f"{_excerpt(url)}."
        )
    media_type, *parameters = (part.strip() for part in header.split(";"))
    if media_type and not _MEDIA_TYPE.fullmatch(media_type):
        raise InvalidDataContentError(
            f"Invalid data URL: expected a media type like 'image/png' in the header, got "
            f"{media_type!r}."
        )
    is_base64 = bool(parameters) and parameters[-1].lower() == "base64"
    data = decode_base64(payload) if is_base64 else unquote_to_bytes(payload)
    return (media_type.lower() or detect_media_type(data) or DEFAULT_MEDIA_TYPE, data)
