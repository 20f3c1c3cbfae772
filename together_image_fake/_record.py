"""Recording real traffic into cassettes: the recorder, a ``requests`` hook, and a forwarding proxy.

``CassetteRecorder`` collects interactions and scrubs each as it arrives (credential headers
dropped, known secrets and credential parameters replaced; every bearer key it sees becomes a
known secret); ``save()`` scrubs everything once more with all the secrets learned and hands the
cassette to ``Cassette.save``, whose scan refuses to write anything still key-like. Traffic gets
in two ways. ``record_cassette()`` wraps ``requests``' ``HTTPAdapter.send`` for the duration of a
``with`` block, so it records our client or any ``requests``-based code, whatever the upstream.
``UpstreamProxy`` is the responder that forwards API requests to a real upstream (Together, or
another fake) with ``urllib3`` (below ``requests``, so the in-process interception never loops
back), optionally recording; a fake with it (``TogetherProxy``) hosted in-process serves pytest's
``record``/``live`` modes, hosted by the loopback server it is ``together-image-fake record``, a
recording proxy for clients in any language. Recording is the one place the fake package opens
outbound connections.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
import os
import re
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlsplit, urlunsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter

from together_image_fake._backend import FakeTogether
from together_image_fake._calls import CallDetails
from together_image_fake._cassette import (
    BlobPolicy,
    Cassette,
    content_type_of,
    json_style_of,
    render_json,
)
from together_image_fake._errors import FakeAPIError, error_response
from together_image_fake._interactions import (
    CassetteError,
    Interaction,
    RecordedRequest,
    RecordedResponse,
)
from together_image_fake._mounts import BaseURL
from together_image_fake._secrets import Scrubber, secrets_from_environment
from together_image_fake._state import FakeState
from together_image_fake._wire import HOP_BY_HOP, FakeRequest, FakeResponse, ResponseAction

DEFAULT_UPSTREAM = "https://api.together.ai/v1"
"""The real API's current base URL [DOC OPENAPI servers, 2026-04]."""

DEFAULT_FORWARD_ROUTES: tuple[str, ...] = (
    "POST /v1/images/generations",
    "GET /v1/models",
    "GET /shrt/{id}",
)
"""The routes the recording proxy forwards: the ones the toolkit records and replays."""

PLACEHOLDER_KEYS: tuple[str, ...] = ("together-fake-key",)
"""Keys the pytest fixtures send when a test gives none; the proxy swaps them for the real key."""

_PROXY_TIMEOUT_S = 120.0
logger = logging.getLogger("together_image_fake.record")


class UpstreamUnreachableError(CassetteError):
    """Saving was refused because some requests got no answer from the upstream.

    A cassette of a run that could not reach its upstream (offline, a wrong ``--upstream``, a
    dropped connection) would replay those failures as if the API had sent them.

    Attributes:
        path: The cassette that was not written.
        failures: One line per unanswered request (method, scrubbed URL, what happened).
    """

    def __init__(self, path: Path, failures: list[str], total: int) -> None:
        self.path = path
        self.failures = failures
        listed = "\n".join(f"  - {failure}" for failure in failures[:20])
        more = f"\n  … and {len(failures) - 20} more" if len(failures) > 20 else ""
        super().__init__(
            f"Refusing to save cassette {path}: {len(failures)} of {total} request(s) got no "
            f"answer from the upstream; nothing was written.\n{listed}{more}\n"
            "A recording that could not reach its upstream would replay those failures as if "
            "the API had sent them. Check the network, the upstream URL and the key, then record "
            "again (allow_lost_connections=True records such failures on purpose)."
        )


_LOST = {"reset": "connection refused, reset or closed", "timeout": "timed out"}


class CassetteRecorder:
    """Collects scrubbed interactions and saves them as a cassette.

    Thread-safe: concurrent requests (e.g. ``n`` > 1 split into parallel calls) are recorded in
    the order they complete.

    Args:
        path: The cassette file to write on ``save()``.
        secrets: Secret values to scrub (``TOGETHER_API_KEY`` and ``TOGETHER_AI_API_KEY`` from
            ``environ`` are always added, as is every credential seen in a request).
        blobs: ``"sidecar"`` (image bytes in ``<stem>.blobs/``) or ``"elide"`` (left out).
        allow: Regular expressions of benign strings the final scan must not flag.
        meta: Extra metadata for the cassette (``recorded_at`` and ``recorded_with`` are added).
        environ: Environment to read secret variables from (``os.environ`` when ``None``).
        allow_lost_connections: Save requests that got no answer (``reset``/``timeout``
            interactions) instead of refusing the whole recording.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        secrets: Iterable[str] = (),
        blobs: BlobPolicy = "sidecar",
        allow: Iterable[str] = (),
        meta: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
        allow_lost_connections: bool = False,
    ) -> None:
        if blobs not in ("sidecar", "elide"):
            raise ValueError(f"blobs must be 'sidecar' or 'elide', got {blobs!r}")
        self.path = Path(path)
        self.blobs: BlobPolicy = blobs
        self.allow = tuple(allow)
        self.meta = dict(meta or {})
        self.allow_lost_connections = allow_lost_connections
        self._scrubber = Scrubber([*secrets, *secrets_from_environment(environ)])
        self._interactions: list[Interaction] = []
        self._lock = threading.Lock()

    @property
    def interactions(self) -> list[Interaction]:
        """The interactions recorded so far (scrubbed with the secrets known when each arrived)."""
        with self._lock:
            return list(self._interactions)

    def add(
        self,
        *,
        method: str,
        url: str,
        request_headers: Iterable[tuple[str, str]],
        request_body: bytes,
        status: int = 0,
        response_headers: Iterable[tuple[str, str]] = (),
        response_body: bytes = b"",
        action: ResponseAction = "respond",
    ) -> Interaction:
        """Scrub and record one exchange.

        Args:
            method: Request method.
            url: Absolute request URL.
            request_headers: Request headers as sent (credentials included: they are learned,
                then dropped).
            request_body: Request body bytes.
            status: Response status (ignored for a connection-level ``action``).
            response_headers: Response headers.
            response_body: Response body bytes, decoded (no content encoding).
            action: ``"respond"``, or ``"reset"``/``"timeout"`` when no response came.

        Returns:
            The recorded (scrubbed) interaction.
        """
        request_headers = tuple(request_headers)
        with self._lock:
            self._scrubber.learn_from_headers(request_headers)
            request = RecordedRequest(
                method=method.upper(),
                url=url,
                # Content-Length is derived from the body, which is stored canonically.
                headers=tuple(
                    (n, v)
                    for n, v in request_headers
                    if n.lower() not in HOP_BY_HOP and n.lower() != "content-length"
                ),
                body=request_body,
            )
            if action == "respond":
                response = RecordedResponse(
                    status=status,
                    headers=_recordable_response_headers(tuple(response_headers)),
                    body=response_body,
                )
            else:
                response = RecordedResponse(status=0, action=action)
            interaction = self._scrub(Interaction(request=request, response=response))
            self._interactions.append(interaction)
        return interaction

    def cassette(self) -> Cassette:
        """The cassette so far, scrubbed again with every secret learned while recording."""
        with self._lock:
            interactions = tuple(self._scrub(item) for item in self._interactions)
            secrets_known = len(self._scrubber.secrets)
        meta = {
            "recorded_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "recorded_with": f"together-image-fake {_version()}",
            "secrets_scrubbed": secrets_known,
            **self.meta,
        }
        return Cassette(interactions=interactions, meta=meta)

    def save(self) -> Path:
        """Write the cassette (atomically, after the secret scan).

        Returns:
            The cassette's path.

        Raises:
            UpstreamUnreachableError: If a request got no answer from the upstream (unless
                ``allow_lost_connections``); nothing is written then.
            SecretLeakError: If the scan still finds a secret; nothing is written then.
        """
        cassette = self.cassette()
        lost = [
            f"{item.request.method} {item.request.url}: {_LOST[item.response.action]}"
            for item in cassette.interactions
            if item.response.action != "respond"
        ]
        if lost and not self.allow_lost_connections:
            raise UpstreamUnreachableError(self.path, lost, len(cassette.interactions))
        return cassette.save(
            self.path, blobs=self.blobs, secrets=self._scrubber.secrets, allow=self.allow
        )

    def _scrub(self, interaction: Interaction) -> Interaction:
        scrubber = self._scrubber
        request = interaction.request
        headers, dropped = scrubber.headers(request.headers)
        request = RecordedRequest(
            method=request.method,
            url=scrubber.text(request.url),
            headers=headers,
            body=_scrub_body(scrubber, request.body),
            scrubbed_headers=tuple(dict.fromkeys((*request.scrubbed_headers, *dropped))),
        )
        response = interaction.response
        if response.action == "respond":
            kept, _ = scrubber.headers(response.headers)
            response = RecordedResponse(
                status=response.status,
                headers=kept,
                body=_scrub_body(scrubber, response.body, content_type_of(response.headers)),
            )
        return Interaction(request=request, response=response, provenance=interaction.provenance)


def _scrub_body(scrubber: Scrubber, body: bytes, content_type: str = "") -> bytes:
    """Scrub a text or JSON body; binary bodies (images) are left to the final scan."""
    if not body or content_type.startswith("image/"):
        return body
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return body
    scrubbed = scrubber.text(text).encode("utf-8")
    try:
        value = json_loads(scrubbed)
    except ValueError:
        return scrubbed
    cleaned = scrubber.json(value)
    if cleaned == value:
        return scrubbed
    style = json_style_of(scrubbed, value)
    return render_json(cleaned, *style) if style else render_json(cleaned, "compact")


def json_loads(data: bytes) -> Any:
    """Parse JSON bytes, raising ``ValueError`` for anything that is not JSON."""
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, RecursionError) as error:
        raise ValueError(str(error)) from error


def _recordable_response_headers(
    headers: tuple[tuple[str, str], ...],
) -> tuple[tuple[str, str], ...]:
    encoded = any(n.lower() == "content-encoding" for n, _ in headers)
    # Bodies are recorded decoded, so the encoding and the encoded length no longer apply.
    return tuple(
        (name, value)
        for name, value in headers
        if name.lower() not in HOP_BY_HOP
        and name.lower() != "content-encoding"
        and not (encoded and name.lower() == "content-length")
    )


def _version() -> str:
    try:
        return metadata.version("together-image")
    except metadata.PackageNotFoundError:
        return "unknown"


# ---- the requests hook ------------------------------------------------------------------------


@contextlib.contextmanager
def record_cassette(
    path: str | os.PathLike[str],
    *,
    secrets: Iterable[str] = (),
    blobs: BlobPolicy = "sidecar",
    allow: Iterable[str] = (),
    meta: Mapping[str, Any] | None = None,
    hosts: Iterable[str] | None = None,
    allow_lost_connections: bool = False,
) -> Iterator[CassetteRecorder]:
    """Record every ``requests`` exchange made inside the block, then save the cassette.

    Works with our client and any ``requests``-based code, against any upstream (the real API, a
    ``FakeTogetherServer``…). Start it inside other ``requests`` mocks (after them), so it records
    what they answer. The cassette is saved when the block exits normally; after an exception
    nothing is written.

    Example::

        with record_cassette("fixtures/quetzal.json"):
            generate_image(
                model=togetherai.image("black-forest-labs/FLUX.1-schnell"), prompt="a quetzal"
            )

    Args:
        path: The cassette file to write.
        secrets: Extra secret values to scrub (see ``CassetteRecorder``).
        blobs: ``"sidecar"`` or ``"elide"``.
        allow: Regular expressions of benign strings the final scan must not flag.
        meta: Extra cassette metadata.
        hosts: Record only requests to these host names (all when ``None``).
        allow_lost_connections: Save requests that got no answer instead of refusing.

    Yields:
        The recorder (``recorder.interactions`` shows what was captured so far).

    Raises:
        UpstreamUnreachableError: On exit, if a request got no answer (nothing is written).
        SecretLeakError: On exit, if the scan finds a secret (nothing is written).
    """
    recorder = CassetteRecorder(
        path,
        secrets=secrets,
        blobs=blobs,
        allow=allow,
        meta=meta,
        allow_lost_connections=allow_lost_connections,
    )
    wanted = None if hosts is None else {host.lower() for host in hosts}
    previous = HTTPAdapter.send

    def send(adapter: HTTPAdapter, request: requests.PreparedRequest, **kwargs: Any) -> Any:
        url = str(request.url)
        recorded = wanted is None or (urlsplit(url).hostname or "").lower() in wanted
        try:
            response = previous(adapter, request, **kwargs)
        except requests.exceptions.RequestException as error:
            if recorded and isinstance(error, (requests.Timeout, requests.ConnectionError)):
                action: ResponseAction = (
                    "timeout" if isinstance(error, requests.Timeout) else "reset"
                )
                recorder.add(
                    method=str(request.method),
                    url=url,
                    request_headers=request.headers.items(),
                    request_body=_prepared_body(request.body),
                    action=action,
                )
            raise
        if recorded:
            recorder.add(
                method=str(request.method),
                url=url,
                request_headers=request.headers.items(),
                request_body=_prepared_body(request.body),
                status=response.status_code,
                response_headers=response.headers.items(),
                response_body=response.content,
            )
        return response

    with mock.patch.object(HTTPAdapter, "send", send):
        yield recorder
    recorder.save()


def _prepared_body(body: object) -> bytes:
    if body is None:
        return b""
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("utf-8")
    # A streamed upload (a file or generator) was consumed by sending; it cannot be re-read.
    return b""


# ---- the forwarding proxy ---------------------------------------------------------------------


class UpstreamProxy:
    """The responder that forwards API requests to an upstream, optionally recording them.

    Args:
        upstream: Base URL to forward to (``…/v1``).
        recorder: Records every forwarded exchange when given.
        api_key: Sent upstream instead of a missing key or a fixtures placeholder key
            (``PLACEHOLDER_KEYS``); other keys pass through unchanged.
        timeout_s: Read timeout for upstream answers (image models can take 20 s and more).
        cdn_origin: Where ``/shrt/<id>`` image downloads go; by default the real CDN
            (``https://api.together.ai``) for a Together upstream, else the upstream's origin.
        forward_routes: The ``"METHOD /path"`` routes forwarded (``{name}`` matches one path
            segment); others get a 404 and never reach the upstream. Only callers on this
            machine (in-process, or a loopback address) without a foreign ``Origin`` are
            forwarded at all, so neither another machine nor a web page can spend the key.

    Raises:
        ValueError: If ``upstream`` is not an ``http(s)`` URL, or a route is not
            ``"METHOD /path"``.
    """

    def __init__(
        self,
        upstream: str = DEFAULT_UPSTREAM,
        *,
        recorder: CassetteRecorder | None = None,
        api_key: str | None = None,
        timeout_s: float = _PROXY_TIMEOUT_S,
        cdn_origin: str | None = None,
        forward_routes: Iterable[str] = DEFAULT_FORWARD_ROUTES,
    ) -> None:
        base = BaseURL.parse(upstream, expected=f"upstream base URL like {DEFAULT_UPSTREAM}")
        self.forward_routes = tuple(forward_routes)
        self._route_patterns = [_route_pattern(route) for route in self.forward_routes]
        self.upstream = upstream.rstrip("/")
        self.recorder = recorder
        self._api_key = api_key
        self._base = base
        together = base.hostname.endswith(("together.ai", "together.xyz"))
        self._cdn_origin = cdn_origin or ("https://api.together.ai" if together else base.origin)
        self._timeout = urllib3.Timeout(connect=10.0, read=timeout_s)
        self._pool = urllib3.PoolManager()

    def target_url(self, request: FakeRequest) -> str:
        """The upstream URL a request is forwarded to."""
        base = self._base
        if request.path.startswith("/shrt/"):
            url = self._cdn_origin + request.path
        elif base.keeps_v1 or not request.path.startswith("/v1"):
            url = base.origin + base.root + request.path
        else:
            url = base.origin + base.root + request.path[3:]
        parts = urlsplit(url)
        return urlunsplit((parts.scheme, parts.netloc, parts.path, request.query, ""))

    # ---- the responder interface: every API route goes upstream -------------------------------

    def reset(self) -> None:
        """Nothing to forget (the recording keeps everything)."""

    def close(self) -> None:
        """Close upstream connections."""
        self._pool.clear()

    def generate(self, request: FakeRequest, state: FakeState) -> FakeResponse:
        """Forward ``POST /v1/images/generations``."""
        return self.forward(request, state)

    def list_models(self, request: FakeRequest, state: FakeState) -> FakeResponse:
        """Forward ``GET /v1/models``."""
        return self.forward(request, state)

    def cdn_image(self, request: FakeRequest, state: FakeState, ident: str) -> FakeResponse:
        """Forward ``GET /shrt/<id>`` to the CDN."""
        return self.forward(request, state)

    def unknown_route(self, request: FakeRequest, state: FakeState, message: str) -> FakeResponse:
        """Forward any other API path."""
        return self.forward(request, state)

    def refusal(self, request: FakeRequest) -> FakeAPIError | None:
        """Why ``request`` must not go upstream (a route not recorded, a caller elsewhere or a
        web page of another origin), or ``None``."""
        if not any(
            pattern.match(f"{request.method} {request.path}") for pattern in self._route_patterns
        ):
            return FakeAPIError(
                404,
                f"{request.method} {request.path} is not forwarded upstream: the recording proxy "
                f"forwards only {', '.join(self.forward_routes)} (more with forward_routes=... "
                "or record --forward-route).",
                code="not_found",
                stage="gateway",
            )
        if not _is_local(request.peer):
            return FakeAPIError(
                403,
                f"Not forwarded: the recording proxy relays requests from this machine only, "
                f"got one from {request.peer!r}.",
                stage="gateway",
            )
        origin = request.headers.get("origin")
        if origin is not None and origin.strip().lower() != request.origin.lower():
            return FakeAPIError(
                403,
                f"Not forwarded: a request from a web page of another origin "
                f"({origin.strip()[:200]!r}) could spend the recording key.",
                stage="gateway",
            )
        return None

    def forward(self, request: FakeRequest, state: FakeState) -> FakeResponse:
        """Send ``request`` upstream, record the exchange, log the call and return the answer."""
        ctx = state.begin()
        refused = self.refusal(request)
        if refused is not None:
            response = error_response(refused, request_id=ctx.ids.request_id)
            return state.record(ctx, request, response, CallDetails(error=refused.summary()))
        url = self.target_url(request)
        headers = self._forward_headers(request.headers)
        try:
            answer = self._pool.request(
                request.method,
                url,
                body=request.body or None,
                headers=headers,
                timeout=self._timeout,
                retries=False,
                redirect=False,
                preload_content=True,
                decode_content=True,
            )
        except urllib3.exceptions.HTTPError as error:
            # urllib3 makes NewConnectionError (refused, unreachable) a kind of connect timeout.
            timed_out = isinstance(error, urllib3.exceptions.TimeoutError) and not isinstance(
                error, urllib3.exceptions.NewConnectionError
            )
            action: ResponseAction = "timeout" if timed_out else "reset"
            # Without the query string: it may hold a key.
            logger.warning(
                "upstream %s %s failed: %s",
                request.method,
                url.split("?", 1)[0],
                type(error).__name__,
            )
            if self.recorder is not None:
                self.recorder.add(
                    method=request.method,
                    url=url,
                    request_headers=headers.items(),
                    request_body=request.body,
                    action=action,
                )
            return state.record(ctx, request, FakeResponse(status=0, action=action))
        response_headers = _recordable_response_headers(tuple(answer.headers.items()))
        if self.recorder is not None:
            self.recorder.add(
                method=request.method,
                url=url,
                request_headers=headers.items(),
                request_body=request.body,
                status=answer.status,
                response_headers=response_headers,
                response_body=answer.data,
            )
        response = FakeResponse(status=answer.status, headers=response_headers, body=answer.data)
        body = _json_or_none(request.body)
        details = CallDetails.from_body(body if isinstance(body, dict) else None)
        return state.record(ctx, request, response, details)

    def _forward_headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        forwarded = {
            name: value
            for name, value in headers.items()
            if name.lower() not in HOP_BY_HOP and name.lower() not in ("host", "content-length")
        }
        if self._api_key:
            key = forwarded.get("authorization", "").partition(" ")[2]
            if not key.strip() or key.strip() in PLACEHOLDER_KEYS:
                forwarded["authorization"] = f"Bearer {self._api_key}"
        return forwarded


def _route_pattern(route: str) -> re.Pattern[str]:
    method, _, template = route.strip().partition(" ")
    if not method.isalpha() or not template.startswith("/"):
        raise ValueError(
            f'Expected a route as "METHOD /path", e.g. "POST /v1/files", got {route!r}'
        )
    parts = re.split(r"(\{\w+\})", template.strip())
    path = "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts)
    return re.compile(f"^{re.escape(method.upper())} {path}$")


def _is_local(peer: str | None) -> bool:
    """Whether a caller is on this machine: in-process (no peer) or a loopback address."""
    if peer is None:
        return True
    try:
        return ipaddress.ip_address(peer.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _json_or_none(body: bytes) -> Any:
    try:
        return json_loads(body) if body else None
    except ValueError:
        return None


# ---- the named fake: a FakeTogether whose responder forwards upstream ---------------------


class TogetherProxy(FakeTogether):
    """A ``FakeTogether`` that forwards API requests to an upstream (its responder is an
    ``UpstreamProxy``), optionally recording them.

    Host it like any fake: ``with proxy:`` in-process (pytest's ``record``/``live`` modes) or
    ``FakeTogetherServer(fake=proxy)`` (``together-image-fake record``). ``/_fake/…`` control
    routes, the call log and the dashboard work as usual; the API routes go upstream.

    Args:
        upstream: Base URL to forward to (``…/v1``).
        recorder: Records every forwarded exchange when given.
        api_key: Sent upstream instead of a missing key or a fixtures placeholder key; other keys
            pass through unchanged.
        timeout_s: Read timeout for upstream answers.
        base_urls: Extra base URLs to intercept in-process.
        cdn_origin: Where ``/shrt/<id>`` image downloads go (see ``UpstreamProxy``).
        forward_routes: The ``"METHOD /path"`` routes forwarded (by default the ones the toolkit
            records: image generation, the model list, ``/shrt/`` images); only callers on this
            machine without a foreign ``Origin`` are forwarded (see ``UpstreamProxy``).

    Raises:
        ValueError: If ``upstream`` is not an ``http(s)`` URL or a route is malformed.
    """

    def __init__(
        self,
        upstream: str | None = None,
        *,
        recorder: CassetteRecorder | None = None,
        api_key: str | None = None,
        timeout_s: float | None = None,
        base_urls: Sequence[str] = (),
        cdn_origin: str | None = None,
        forward_routes: Iterable[str] | None = None,
    ) -> None:
        options: dict[str, Any] = {"recorder": recorder, "api_key": api_key}
        if forward_routes is not None:
            options["forward_routes"] = forward_routes
        if upstream is not None:
            options["upstream"] = upstream
        if timeout_s is not None:
            options["timeout_s"] = timeout_s
        self.proxy = UpstreamProxy(cdn_origin=cdn_origin, **options)
        super().__init__(responder=self.proxy, base_urls=base_urls)

    @property
    def upstream(self) -> str:
        """The base URL requests are forwarded to."""
        return self.proxy.upstream

    @property
    def recorder(self) -> CassetteRecorder | None:
        """The recorder, when recording."""
        return self.proxy.recorder

    def target_url(self, request: FakeRequest) -> str:
        """The upstream URL a request is forwarded to."""
        return self.proxy.target_url(request)
