"""Request parsing shared by the two HTTP hosts (the loopback server and the WSGI app).

Both turn what arrived into the same ``FakeRequest``: the request target split into path, query and
the origin it names; the ``Host`` header checked before it becomes the origin of absolute URLs; one
rule for ``Content-Length``; header names lower-cased with repeats joined. ``answer()`` is the
"ask the fake, else answer the real 500" step both hosts take. Nothing here opens a socket.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from together_image_fake._errors import RequestRejected, gateway_error_response, server_error
from together_image_fake._wire import FakeRequest, FakeResponse

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_TIMEOUT_HOLD_S",
    "RequestRejected",
    "answer",
    "lower_headers",
    "origin_for",
    "parse_content_length",
    "split_target",
]

# [INF] Together publishes no request-size limit; its 413 text "Request entity too large" is [3P]
# (reference §4.2). 32 MiB comfortably holds a data-URL image of a few megapixels.
DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024
# [INF] Longer than the 60 s default timeouts of the SDKs and our client ([SDK] reference §6), so a
# client with default settings times out before the server lets go; a client that gives up earlier
# closes its socket, which ends the hold at once.
DEFAULT_TIMEOUT_HOLD_S = 90.0
_HOST_HEADER = re.compile(r"^(?:[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$")


def answer(
    handle: Callable[[FakeRequest], FakeResponse],
    request: FakeRequest,
    report: Callable[[str], object],
) -> FakeResponse:
    """Ask the fake; if it fails, report it and answer the real 500 instead.

    A bug in the fake must not cost the client its answer or the host its connection: the client
    sees what the real API sends when its backend fails [REC].

    Args:
        handle: The fake's ``handle``.
        request: The parsed request.
        report: Called, inside the ``except`` block, with a line naming the failed request
            (``logger.exception`` keeps the traceback; a WSGI host writes to ``wsgi.errors``).
    """
    try:
        return handle(request)
    except Exception:
        report(f"together-image-fake: the backend failed on {request.method} {request.path}")
        return gateway_error_response(server_error())


def split_target(target: str) -> tuple[str, str, str | None]:
    """Split an HTTP request target into path, query and the origin it names, if absolute.

    Args:
        target: The request target from the request line (origin form ``/v1/x?a=1`` or absolute form
            ``http://host:port/v1/x``).

    Returns:
        ``(path, query, origin)``; ``origin`` is ``scheme://netloc`` for an absolute-form target and
        ``None`` otherwise. An empty path becomes ``/``.

    Raises:
        RequestRejected: 400 for an absolute-form target that is not a URL (e.g. ``http://[::1/x``).
    """
    if target.startswith(("http://", "https://")):
        try:
            parts = urlsplit(target)
        except ValueError as error:
            raise RequestRejected(
                400, f"Malformed request target {target[:200]!r}: {error}."
            ) from error
        return parts.path or "/", parts.query, f"{parts.scheme}://{parts.netloc}"
    path, _, query = target.partition("?")
    return path or "/", query, None


def origin_for(host_header: str | None, *, scheme: str, fallback: str) -> str:
    """Return the origin the client addressed, from its ``Host`` header when that is well formed.

    Args:
        host_header: The ``Host`` header value, if any.
        scheme: ``http`` or ``https``.
        fallback: The origin to use when the header is absent or not a plain ``host[:port]``.

    Returns:
        ``scheme://host[:port]``.
    """
    if host_header is not None and _HOST_HEADER.match(host_header.strip()):
        return f"{scheme}://{host_header.strip()}"
    return fallback


def parse_content_length(values: list[str], *, limit: int) -> int | None:
    """Validate the ``Content-Length`` header values of one request.

    Args:
        values: Every ``Content-Length`` value the request carried (repeated headers included).
        limit: The largest body accepted, in bytes.

    Returns:
        The declared length, or ``None`` when there is no ``Content-Length``.

    Raises:
        RequestRejected: 400 for a value that is not one non-negative integer (or for repeated,
            different values), 413 for a length above ``limit``.
    """
    if not values:
        return None
    distinct = {value.strip() for value in values}
    declared = next(iter(distinct))
    if len(distinct) != 1 or not (declared.isascii() and declared.isdigit()):
        shown = ", ".join(repr(value) for value in values)
        raise RequestRejected(
            400, f"Invalid Content-Length header: expected one non-negative integer, got {shown}."
        )
    length = int(declared)
    if length > limit:
        raise RequestRejected(
            413, f"Request entity too large: {length} bytes, the limit is {limit} bytes."
        )
    return length


def lower_headers(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Lower-case header names, joining repeated headers with ``", "`` as HTTP allows."""
    headers: dict[str, str] = {}
    for name, value in items:
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers
