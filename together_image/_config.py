"""Defaults and environment resolution: API key, base URL, user agent, default headers.

Everything here is a pure function of its arguments (the environment is passed in as a mapping), so
the default provider can be created at import time without reading anything, and resolve the key and
base URL on each request instead.
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from urllib.parse import urlsplit

from ._errors import InvalidArgumentError, LoadAPIKeyError, describe_value

DEFAULT_BASE_URL = "https://api.together.xyz/v1"
DEFAULT_TIMEOUT = 60.0
# The largest answer read, after gzip/deflate decoding. A 4096x4096 RGBA PNG of pure noise (the
# worst case of the largest size Together serves, Gemini's 4K) is 64 MiB, 86 MiB as base64 in
# JSON; 128 MiB leaves room for that and still stops an endless or bomb-sized body.
DEFAULT_MAX_RESPONSE_BYTES = 128 * 1024 * 1024
DEFAULT_MAX_RETRIES = 2
API_KEY_ENV = "TOGETHER_API_KEY"
DEPRECATED_API_KEY_ENV = "TOGETHER_AI_API_KEY"
BASE_URL_ENV = "TOGETHER_BASE_URL"
DISTRIBUTION_NAME = "together-image"
_UNKNOWN_VERSION = "0+unknown"
# RFC 9110 field names are tokens; CR, LF and NUL in a value would end or split the request.
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEADER_VALUE_FORBIDDEN = re.compile(r"[\r\n\x00]")

_MISSING_KEY_MESSAGE = (
    "Together AI API key is missing. Pass it using the api_key argument or set the "
    f"{API_KEY_ENV} environment variable."
)
_DEPRECATED_KEY_MESSAGE = (
    f"{DEPRECATED_API_KEY_ENV} is deprecated and will be removed in a future release. "
    f"Please use {API_KEY_ENV} instead."
)


def resolve_api_key(api_key: object, environ: Mapping[str, str]) -> str:
    """Find the API key: the explicit one, else ``TOGETHER_API_KEY``, else the deprecated variable.

    ``TOGETHER_AI_API_KEY`` is read only when ``TOGETHER_API_KEY`` is unset or empty, and then
    emits a ``DeprecationWarning`` on each resolution (as the AI SDK does on each request). Empty
    and whitespace-only values count as missing, since ``Bearer `` can never authenticate.

    Args:
        api_key: The key given to the provider or client, or ``None``.
        environ: The environment to read (``os.environ`` in production).

    Returns:
        The key.

    Raises:
        LoadAPIKeyError: ``api_key`` is not a string, or no non-empty key was found. The message
            names ``TOGETHER_API_KEY`` and never contains a key.
        InvalidArgumentError: The key holds a character HTTP headers cannot carry (see
            ``check_latin1``).
    """
    if api_key is not None:
        if not isinstance(api_key, str):
            raise LoadAPIKeyError(
                f"Together AI API key must be a string, got {type(api_key).__name__}."
            )
        if api_key.strip():
            check_latin1(api_key, what="The API key", argument="api_key")
            return api_key
        raise LoadAPIKeyError(f"Together AI API key is empty. {_MISSING_KEY_MESSAGE}")
    key = environ.get(API_KEY_ENV, "")
    if key.strip():
        check_latin1(key, what=f"The API key in {API_KEY_ENV}", argument="api_key")
        return key
    deprecated = environ.get(DEPRECATED_API_KEY_ENV, "")
    if deprecated.strip():
        warnings.warn(_DEPRECATED_KEY_MESSAGE, DeprecationWarning, stacklevel=3)
        check_latin1(
            deprecated, what=f"The API key in {DEPRECATED_API_KEY_ENV}", argument="api_key"
        )
        return deprecated
    raise LoadAPIKeyError(_MISSING_KEY_MESSAGE)


def check_latin1(value: str, *, what: str, argument: str) -> None:
    """Check that a header value can be sent: HTTP/1.1 header values are Latin-1 bytes.

    Args:
        value: The value (an API key, a header value).
        what: How to name it in the message, e.g. ``"The API key"``.
        argument: The argument name for the error.

    Raises:
        InvalidArgumentError: A character outside Latin-1 (often an invisible one pasted along
            with a key). The message names the character and its position, never the value.
    """
    for position, character in enumerate(value):
        if ord(character) > 0xFF:
            name = unicodedata.name(character, "unnamed character")
            raise InvalidArgumentError(
                f"{what} contains U+{ord(character):04X} ({name}) at position {position} of "
                f"{len(value)} characters, which cannot be sent in an HTTP header (only Latin-1 "
                "characters can); was it pasted with an invisible character?",
                argument=argument,
            )


def validate_base_url(base_url: object) -> str:
    """Check that a base URL is an absolute ``http(s)`` URL and drop trailing slashes.

    Args:
        base_url: The candidate, e.g. ``"http://127.0.0.1:8787/v1/"``.

    Returns:
        The URL without trailing ``/``, ready for ``+ "/images/generations"``.

    Raises:
        InvalidArgumentError: Not a string, or not an absolute http(s) URL.
    """
    if not isinstance(base_url, str):
        raise InvalidArgumentError(
            f"base_url must be a string like {DEFAULT_BASE_URL!r}, got {type(base_url).__name__}.",
            argument="base_url",
        )
    parts = urlsplit(base_url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise InvalidArgumentError(
            f"base_url must be an absolute http(s) URL like {DEFAULT_BASE_URL!r}, "
            f"got {base_url!r}.",
            argument="base_url",
        )
    return base_url.strip().rstrip("/")


def resolve_base_url(base_url: str | None, environ: Mapping[str, str]) -> str:
    """Pick the base URL: the explicit one, else ``TOGETHER_BASE_URL``, else the default.

    Args:
        base_url: The base URL given to the provider or client, or ``None``.
        environ: The environment to read.

    Returns:
        The validated base URL without trailing ``/``.

    Raises:
        InvalidArgumentError: The chosen URL is not an absolute http(s) URL.
    """
    if base_url is not None:
        return validate_base_url(base_url)
    return validate_base_url(environ.get(BASE_URL_ENV, "").strip() or DEFAULT_BASE_URL)


def package_version() -> str:
    """Return the installed version of ``together-image`` (``0+unknown`` when not installed)."""
    try:
        return version(DISTRIBUTION_NAME)
    except PackageNotFoundError:
        return _UNKNOWN_VERSION


def user_agent() -> str:
    """Return the ``User-Agent`` value sent by default: ``together-image/<version>``."""
    return f"{DISTRIBUTION_NAME}/{package_version()}"


def validate_timeout(timeout: object, *, argument: str = "timeout") -> float | None:
    """Check a timeout in seconds.

    Args:
        timeout: A positive number of seconds, or ``None`` for no timeout.
        argument: The argument name to put in the error.

    Returns:
        The timeout as a float, or ``None``.

    Raises:
        InvalidArgumentError: Not a positive number nor ``None``.
    """
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise InvalidArgumentError(
            f"{argument} must be a positive number of seconds or None, got "
            f"{describe_value(timeout)}.",
            argument=argument,
        )
    return float(timeout)


def merge_headers(*layers: Mapping[str, str | None] | None) -> dict[str, str]:
    """Merge header layers case-insensitively; later layers win, a ``None`` value removes one.

    Args:
        *layers: Header mappings from lowest to highest precedence (``None`` layers are skipped).

    Returns:
        The merged headers, each under the spelling of the layer that set it.

    Raises:
        InvalidArgumentError: A layer is not a mapping, a header name is not an HTTP token, or a
            value is not a string or holds a line break or NUL (which would split the request).
    """
    merged: dict[str, tuple[str, str]] = {}
    for layer in layers:
        if layer is None:
            continue
        if not isinstance(layer, Mapping):
            raise InvalidArgumentError(
                f"headers must be a mapping of header names to values, got {type(layer).__name__}.",
                argument="headers",
            )
        for name, value in layer.items():
            if not isinstance(name, str) or not (value is None or isinstance(value, str)):
                raise InvalidArgumentError(
                    f"headers must map strings to strings (or None to remove a header), got "
                    f"{type(name).__name__} -> {type(value).__name__} for {name!r}.",
                    argument="headers",
                )
            if not _HEADER_NAME.fullmatch(name):
                raise InvalidArgumentError(
                    f"header names must be HTTP tokens (letters, digits, !#$%&'*+-.^_`|~), got "
                    f"{name!r}.",
                    argument="headers",
                )
            if value is not None and _HEADER_VALUE_FORBIDDEN.search(value):
                # The value is not echoed: it may be a credential.
                raise InvalidArgumentError(
                    f"the value of header {name!r} contains a line break or NUL, which HTTP does "
                    "not allow in a header value.",
                    argument="headers",
                )
            if value is not None and not value.isascii():
                check_latin1(value, what=f"The value of header {name!r}", argument="headers")
            if value is None:
                merged.pop(name.lower(), None)
            else:
                merged[name.lower()] = (name, value)
    return dict(merged.values())
