"""Request parsing shared by the two HTTP hosts (the loopback server and the WSGI app).

Both turn what arrived into the same ``FakeRequest``: the request target split into path, query and
the origin it names; the ``Host`` header checked before it becomes the origin of absolute URLs; one
rule for ``Content-Length``; header names lower-cased with repeats joined. ``answer()`` is the
"ask the fake, else answer the real 500" step both hosts take. ``control_refusal()`` keeps other
web pages away from the control API (``/_fake/…``): only loopback host names and the host actually
bound reach it (no DNS rebinding), and requests that change state must come from no page or the
fake's own (no foreign ``Origin``) and be JSON (no cross-site "simple" form or text posts).
Nothing here opens a socket.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Collection, Iterable
from urllib.parse import urlsplit

from together_image_fake._errors import RequestRejected, gateway_error_response, server_error
from together_image_fake._wire import FakeRequest, FakeResponse

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_TIMEOUT_HOLD_S",
    "RequestRejected",
    "answer",
    "control_refusal",
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


LOOPBACK_NAMES: tuple[str, ...] = ("localhost", "127.0.0.1", "[::1]")
"""Host names the control API always answers (every 127.0.0.0/8 address too)."""
_READ_ONLY = frozenset({"GET", "HEAD", "OPTIONS"})
_JSON_TYPE = re.compile(r"^application/(?:[\w.+-]+\+)?json$")


def control_refusal(
    request: FakeRequest, *, bound_host: str, allowed_hosts: Collection[str] = ()
) -> RequestRejected | None:
    """Why a control-API request must be refused, or ``None`` (and ``None`` for other paths).

    Args:
        request: The parsed request.
        bound_host: The host the server bound (``127.0.0.1``, ``0.0.0.0``…), always allowed.
        allowed_hosts: More host names to allow (e.g. a container's service name); ``"*"``
            allows every name.

    Returns:
        403 for a ``Host`` that is neither loopback, the bound host nor allowed, or for a state
        change whose ``Origin`` is not the fake's own; 415 for a state change with a body that is
        not ``application/json``. A state change with no body (``curl -X POST …/_fake/reset``;
        WSGI servers may call it ``text/plain``) and a same-origin page (the dashboard) pass.
    """
    if request.path != "/_fake" and not request.path.startswith("/_fake/"):
        return None
    host = request.headers.get("host")
    if host is not None and not _host_allowed(host, bound_host, allowed_hosts):
        names = ", ".join(dict.fromkeys((*LOOPBACK_NAMES, bound_host, *allowed_hosts)))
        return RequestRejected(
            403,
            f"Host {host.strip()[:200]!r} is not allowed for the control API: expected one of "
            f"{names} (another page may be trying DNS rebinding). Allow more names with "
            "--allow-host NAME (FakeTogetherServer(allowed_hosts=[...]), "
            "TOGETHER_FAKE_ALLOWED_HOSTS).",
        )
    if request.method in _READ_ONLY:
        return None
    origin = request.headers.get("origin")
    if origin is not None and origin.strip().lower() != request.origin.lower():
        return RequestRejected(
            403,
            f"Cross-origin control request refused: expected no Origin or this fake's own "
            f"({request.origin}), got Origin {origin.strip()[:200]!r}.",
        )
    content_type = request.headers.get("content-type")
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if request.body and not _JSON_TYPE.match(media_type):
        return RequestRejected(
            415,
            "Control requests that change state take JSON: expected Content-Type "
            f"application/json, got {content_type!r} (with curl, add "
            "-H 'Content-Type: application/json').",
        )
    return None


def _host_allowed(host: str, bound_host: str, allowed_hosts: Collection[str]) -> bool:
    if "*" in allowed_hosts:
        return True
    name = _host_name(host)
    if name in LOOPBACK_NAMES or name == _host_name(bound_host):
        return True
    if any(name == _host_name(allowed) for allowed in allowed_hosts):
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


def _host_name(host: str) -> str:
    """The lower-cased name of ``host[:port]`` (IPv6 in brackets, as in a ``Host`` header)."""
    host = host.strip().lower()
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    if host.count(":") > 1:
        return f"[{host}]"  # a bare IPv6 address, as a bound host is given
    return host.split(":", 1)[0]
