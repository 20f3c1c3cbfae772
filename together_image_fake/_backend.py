"""``FakeTogether``: the one backend behind every fake mode, and its state.

It holds the API keys, the catalog, the account (build tier, credit), the call log, the fault
queue, the rate-limit windows, the seeded id source and the clock, and answers
``handle(FakeRequest)`` with a ``FakeResponse``: route → (faults) → auth → validation → account
checks → render → real wire format. ``handle`` is thread-safe: state changes happen under one lock
and images render outside it. The context-manager/decorator side (in-process interception) is
delegated to ``_mock`` (requests) and ``_httpx``.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, ParamSpec, TypeVar

from together_image_fake import _routes
from together_image_fake._catalog import Catalog, ModelSpec
from together_image_fake._render import MEDIA_TYPES, Renderer, RenderSpec
from together_image_fake._validate import (
    MAX_JSON_DEPTH,
    NAMED_ERRORS,
    FakeAPIError,
    GenerationRequest,
    RemoteImagePolicy,
    check_auth,
    credit_limit,
    decode_input_image,
    dynamic_rate_limit,
    error_for_status,
    json_depth,
    model_rate_limit,
    named_error,
    parse_json_body,
    parse_json_object,
    request_blocked,
    resolve_model,
    safety_checker,
    validate_generation,
)
from together_image_fake._wire import (
    JSON_CONTENT_TYPE,
    FakeRequest,
    FakeResponse,
    WireIds,
    etag,
    http_date,
    iso_ms,
    json_bytes,
    short_id,
    sorted_headers,
    splice_base64,
)

if TYPE_CHECKING:
    from pathlib import Path

    from together_image_fake._httpx import InProcessHttpx
    from together_image_fake._mock import InProcessMock
    from together_image_fake._replay import CassettePlayer

P = ParamSpec("P")
R = TypeVar("R")
RateLimitMode = Literal["off", "model", "all"]
FaultKind = Literal["reset", "timeout", "html"]

TIER_IMAGES_PER_MINUTE: Mapping[int, float] = {1: 240, 2: 480, 3: 600, 4: 960, 5: 1200}
"""Account-wide image limits per build tier [DOC rate limits, 2025-11]."""

DEFAULT_UNSAFE_TERMS: tuple[str, ...] = ("nsfw",)
"""Prompt words that trip the fake's safety checker unless disabled (a test hook [INF])."""

_REDACTED = "Bearer ***"
_WINDOW_S = 60.0


@dataclass(frozen=True, kw_only=True)
class Fault:
    """One queued fault: how the next matching image request fails.

    Attributes:
        status: HTTP status to answer with (with ``error``: overrides its status; with
            ``kind="html"``: the page's status, default 502).
        error: A named real error (see ``NAMED_ERRORS``), e.g. ``"rate_limited"``.
        latency_s: Seconds to wait before answering (alone: a slow but normal answer).
        kind: ``"reset"`` drops the connection, ``"timeout"`` never answers in time, ``"html"``
            answers with a non-JSON gateway page.
        times: How many requests it applies to.
        model: Only requests for this model id match.
    """

    status: int | None = None
    error: str | None = None
    latency_s: float = 0.0
    kind: FaultKind | None = None
    times: int = 1
    model: str | None = None

    def __post_init__(self) -> None:
        if self.status is not None and (
            isinstance(self.status, bool)
            or not isinstance(self.status, int)
            or not 100 <= self.status <= 599
        ):
            raise ValueError(f"Fault status must be an int from 100 to 599, got {self.status!r}")
        if self.error is not None and self.error not in NAMED_ERRORS:
            raise ValueError(f"Fault error must be one of {list(NAMED_ERRORS)}, got {self.error!r}")
        if self.kind is not None and self.kind not in ("reset", "timeout", "html"):
            raise ValueError(f"Fault kind must be 'reset', 'timeout' or 'html', got {self.kind!r}")
        latency_ok = isinstance(self.latency_s, (int, float)) and not isinstance(
            self.latency_s, bool
        )
        if not latency_ok or not 0 <= self.latency_s <= 600 or math.isnan(self.latency_s):
            raise ValueError(
                f"Fault latency_s must be a number from 0 to 600, got {self.latency_s!r}"
            )
        if isinstance(self.times, bool) or not isinstance(self.times, int) or self.times < 1:
            raise ValueError(f"Fault times must be an int >= 1, got {self.times!r}")
        if self.model is not None and not isinstance(self.model, str):
            raise ValueError(f"Fault model must be a model id string, got {self.model!r}")
        if self.kind in ("reset", "timeout") and (
            self.status is not None or self.error is not None
        ):
            raise ValueError(
                f"A {self.kind!r} fault sends no answer, so it takes no status or error"
            )
        if self.kind == "html" and self.error is not None:
            raise ValueError("An 'html' fault answers with a page, not a named JSON error")
        if self.status is None and self.error is None and self.kind is None and not self.latency_s:
            raise ValueError("A fault needs at least one of status, error, kind or latency_s")

    @classmethod
    def from_json(cls, data: object) -> Fault:
        """Build a fault from its JSON form (the control API's ``POST /_fake/faults`` body).

        Raises:
            ValueError: If ``data`` is not a valid fault object.
        """
        if not isinstance(data, dict):
            raise ValueError(f"A fault must be a JSON object, got {type(data).__name__}")
        allowed = {"status", "error", "latency_s", "kind", "times", "model"}
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise ValueError(f"Unknown fault fields {unknown}; expected some of {sorted(allowed)}")
        return cls(**data)

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "status": self.status,
            "error": self.error,
            "latency_s": self.latency_s,
            "kind": self.kind,
            "times": self.times,
            "model": self.model,
        }

    def describe(self) -> str:
        """A short label for the call log, e.g. ``"error=rate_limited"`` or ``"kind=reset"``."""
        parts = [
            f"{name}={value}"
            for name, value in (
                ("kind", self.kind),
                ("error", self.error),
                ("status", self.status),
                ("latency_s", self.latency_s or None),
            )
            if value is not None
        ]
        return " ".join(parts)


@dataclass(frozen=True, kw_only=True)
class FakeCall:
    """One logged request to the fake's API routes (``/v1/…`` and ``/shrt/…``).

    Attributes:
        seq: 1-based sequence number (order of arrival).
        time: When it arrived (UTC).
        method: HTTP method.
        path: Normalised path.
        headers: Request headers, lower-cased, with ``authorization`` redacted to ``Bearer ***``.
        body: The parsed JSON body, or ``None`` when absent or not JSON.
        status: Response status; 0 when a fault dropped the connection or timed out.
        model: Requested model id.
        prompt: Requested prompt.
        width: Width (effective on success, as sent otherwise).
        height: Height (same).
        response_format: Response format (effective on success, as sent otherwise).
        error: ``{"message", "type", "code"}`` of an error answer, else ``None``.
        fault: Description of the injected fault, else ``None``.
        images: The image bytes returned, in ``index`` order (emptied when evicted).
        image_media_type: Their media type.
        input_image: The bytes of an edit's input image, when known.
        input_media_type: Its media type.
        input_sha256: Its SHA-256 (hex).
        response_id: The response ``id``.
        urls: The ``/shrt/`` URLs returned in ``url`` mode.
        duration_ms: Time spent answering, including injected latency.
        images_evicted: Whether the image bytes were dropped to respect ``max_image_bytes``; an
            inline ``data:`` ``image_url`` in ``body`` is then replaced by a note of its size and
            the input's sha256.
    """

    seq: int
    time: datetime
    method: str
    path: str
    headers: Mapping[str, str]
    body: Any
    status: int
    model: str | None = None
    prompt: str | None = None
    width: int | None = None
    height: int | None = None
    response_format: str | None = None
    error: Mapping[str, str | None] | None = None
    fault: str | None = None
    images: tuple[bytes, ...] = ()
    image_media_type: str | None = None
    input_image: bytes | None = None
    input_media_type: str | None = None
    input_sha256: str | None = None
    response_id: str | None = None
    urls: tuple[str, ...] = ()
    duration_ms: float = 0.0
    images_evicted: bool = False

    def stored_bytes(self) -> int:
        """Bytes of image data this entry keeps alive (an inline ``data:`` input URL included)."""
        inline = _inline_image_url(self.body)
        return sum(map(len, self.images)) + len(self.input_image or b"") + len(inline or "")

    def to_json(self) -> dict[str, Any]:
        """Return the control API's JSON form (``GET /_fake/calls`` elements)."""
        return {
            "seq": self.seq,
            "time": self.time.strftime("%Y-%m-%dT%H:%M:%S.")
            + f"{self.time.microsecond // 1000:03d}Z",
            "method": self.method,
            "path": self.path,
            "headers": dict(self.headers),
            "body": self.body,
            "status": self.status,
            "model": self.model,
            "prompt": self.prompt,
            "width": self.width,
            "height": self.height,
            "response_format": self.response_format,
            "error": dict(self.error) if self.error is not None else None,
            "fault": self.fault,
            "images": [f"/_fake/images/{self.seq}/{index}" for index in range(len(self.images))],
            "input_image": f"/_fake/inputs/{self.seq}" if self.input_image is not None else None,
            "duration_ms": self.duration_ms,
        }


@dataclass
class _Pending:
    fault: Fault
    remaining: int


@dataclass(frozen=True, kw_only=True)
class _Context:
    """Per-request values drawn once, under the lock."""

    seq: int
    rng: random.Random
    ids: WireIds
    received: float
    started: float


class FakeTogether:
    """A faithful fake of Together AI's image endpoint.

    Use it as a context manager or decorator to intercept ``requests`` and httpx in-process, or
    hand it to ``FakeTogetherServer`` to serve it over HTTP. Every mode calls ``handle()``.

    Args:
        seed: Makes ids, URLs, seeds and images reproducible; ``None`` draws fresh ones like the
            real API.
        api_keys: Accepted API keys; ``None`` accepts any non-empty bearer key.
        strict: ``False`` skips every rule tagged [INF] in the catalog and validation.
        models: ``None`` for the full catalog, or model ids to keep and/or ``ModelSpec``s to add.
        tier: The account's build tier (1–5); models above it answer 403 ``request_blocked``.
        credit: Dollars of credit; ``None`` is unlimited. At zero or below, calls answer 402.
        clock: Returns the current Unix time in seconds (rate limits and timestamps use it).
        sleep: Sleeps for injected latency (in-process mode).
        base_urls: Extra base URLs to intercept in-process (besides api.together.xyz/ai ``/v1``).
        rate_limits: ``"model"`` enforces the catalog's model-specific limits, ``"all"`` adds the
            tier's account-wide limit, ``"off"`` disables both.
        ratelimit_headers: Send the ``X-Ratelimit-*`` headers seen until 2026-04 [REC].
        type_field: Add ``"type"`` to each ``data`` item (declared by the spec, absent in real URL
            answers [REC]).
        unsafe_terms: Prompt words that trip the safety checker (422).
        remote_images: For an unregistered ``http(s)`` ``image_url``: ``"record"`` it as given, or
            ``"reject"`` it with 400.
        serve_retired: Keep serving models the real API has retired (the seed document's models).
        max_calls: How many calls the log keeps.
        max_image_bytes: How many bytes of images the log keeps (oldest dropped first).
        image_cache_bytes: Size of the rendered-image cache.
    """

    def __init__(
        self,
        *,
        seed: int | None = None,
        api_keys: Iterable[str] | None = None,
        strict: bool = True,
        models: Iterable[str | ModelSpec] | None = None,
        tier: int = 5,
        credit: float | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
        base_urls: Sequence[str] = (),
        rate_limits: RateLimitMode = "model",
        ratelimit_headers: bool = False,
        type_field: bool = False,
        unsafe_terms: Iterable[str] = DEFAULT_UNSAFE_TERMS,
        remote_images: RemoteImagePolicy = "record",
        serve_retired: bool = True,
        max_calls: int = 10_000,
        max_image_bytes: int = 256 * 1024 * 1024,
        image_cache_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        if rate_limits not in ("off", "model", "all"):
            raise ValueError(f"rate_limits must be 'off', 'model' or 'all', got {rate_limits!r}")
        if remote_images not in ("record", "reject"):
            raise ValueError(f"remote_images must be 'record' or 'reject', got {remote_images!r}")
        if max_calls < 1:
            raise ValueError(f"max_calls must be >= 1, got {max_calls}")
        _check_tier(tier)
        self.seed = seed
        self.strict = strict
        self.api_keys = frozenset(api_keys) if api_keys is not None else None
        self.base_urls = tuple(base_urls)
        self.rate_limits: RateLimitMode = rate_limits
        self.ratelimit_headers = ratelimit_headers
        self.type_field = type_field
        self.unsafe_terms = tuple(term.lower() for term in unsafe_terms)
        self.remote_image_policy: RemoteImagePolicy = remote_images
        self.serve_retired = serve_retired
        self.max_calls = max_calls
        self.max_image_bytes = max_image_bytes
        self._clock = clock or time.time
        self._sleep = sleep or time.sleep
        self._initial_catalog = Catalog.build(models)
        self._initial_tier = tier
        self._initial_credit = credit
        self._renderer = Renderer(cache_bytes=image_cache_bytes)
        self._lock = threading.RLock()
        self._mock: InProcessMock | None = None
        self._httpx: InProcessHttpx | None = None
        self._reset_state()

    @classmethod
    def from_cassette(cls, path: str | Path, **options: Any) -> CassettePlayer:
        """A fake that answers from a recorded cassette instead of validating and rendering.

        Args:
            path: The cassette file.
            **options: ``CassettePlayer`` options: ``ignore=("seed",)``, ``allow_repeats``,
                ``on_mismatch``, ``rewrite_urls``, ``base_urls``.

        Returns:
            A ``CassettePlayer`` (a ``FakeTogether``): use it in-process or serve it with
            ``FakeTogetherServer(fake=...)``.
        """
        from together_image_fake._replay import CassettePlayer

        return CassettePlayer(path, **options)

    # ---- configuration ---------------------------------------------------------------------

    def _reset_state(self) -> None:
        self._catalog = self._initial_catalog
        self._tier = self._initial_tier
        self._credit = self._initial_credit
        self._seq = 0
        self._calls: dict[int, FakeCall] = {}
        self._stored_bytes = 0
        # Logged calls still holding image bytes, in log order: eviction pops from the front
        # instead of rescanning the whole log on every call once the byte budget is reached.
        self._holding: deque[int] = deque()
        self._short_ids: dict[str, tuple[int, int]] = {}
        self._faults: list[_Pending] = []
        self._windows: dict[str, deque[float]] = {}
        self._remote: dict[str, bytes] = {}

    def reset(self) -> None:
        """Forget calls, faults, rate-limit windows, remote images and registered models.

        The tier and credit go back to the values given at construction.
        """
        with self._lock:
            self._reset_state()

    @property
    def catalog(self) -> Catalog:
        """The models currently served."""
        return self._catalog

    @property
    def tier(self) -> int:
        """The account's build tier."""
        return self._tier

    @property
    def credit(self) -> float | None:
        """Remaining credit in dollars (``None``: unlimited)."""
        return self._credit

    def set_tier(self, tier: int) -> None:
        """Set the account's build tier (1–5); models needing a higher tier answer 403."""
        _check_tier(tier)
        with self._lock:
            self._tier = tier

    def set_credit(self, dollars: float | None) -> None:
        """Set the remaining credit; ``None`` is unlimited, ``<= 0`` makes image calls 402."""
        with self._lock:
            self._credit = dollars

    def register_model(
        self, model: ModelSpec | str, *, like: str | None = None, **rules: object
    ) -> ModelSpec:
        """Add a model or override rules of one.

        Args:
            model: A full ``ModelSpec``, or a model id.
            like: For an id not in the catalog: the catalog model to copy (default FLUX.1-schnell).
            **rules: Rule overrides (``ModelSpec`` field names), as ``Rule`` objects or bare values.

        Returns:
            The spec now served for that id.

        Raises:
            ValueError: If ``like`` is unknown or a rule name is not a ``ModelSpec`` field.
        """
        with self._lock:
            if isinstance(model, ModelSpec):
                spec = model.with_rules(**rules) if rules else model
            else:
                base = self._catalog.get(model)
                if base is None:
                    template_id = like or "black-forest-labs/FLUX.1-schnell"
                    template = self._catalog.get(template_id) or Catalog.build().get(template_id)
                    if template is None:
                        raise ValueError(f"Unknown model to copy: {template_id!r}")
                    base = template.with_rules(id=model, display_name=model, organization="User")
                spec = base.with_rules(**rules)
            self._catalog = self._catalog.with_model(spec)
            return spec

    def add_remote_image(self, url: str, data: bytes) -> None:
        """Register the image an ``http(s)`` ``image_url`` points at (the fake never downloads).

        Raises:
            ValueError: If ``url`` is not http(s) or ``data`` is not a PNG/JPEG/WebP/GIF image.
        """
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"Expected an http(s) URL, got {url!r}")
        try:
            decode_input_image(data)
        except FakeAPIError as error:
            raise ValueError(error.message) from error
        with self._lock:
            self._remote[url] = bytes(data)

    def fail_next(
        self,
        status: int | None = None,
        *,
        error: str | None = None,
        latency_s: float = 0.0,
        kind: FaultKind | None = None,
        times: int = 1,
        model: str | None = None,
    ) -> Fault:
        """Queue a fault for the next image request(s); faults apply in the order queued.

        Args:
            status: Status to answer with (a usual error body for it), or the HTML page's status.
            error: A named real error: one of ``NAMED_ERRORS``.
            latency_s: Delay before answering.
            kind: ``"reset"``, ``"timeout"`` or ``"html"``.
            times: How many requests it hits.
            model: Only requests for this model.

        Returns:
            The queued fault.

        Raises:
            ValueError: For an invalid combination (see ``Fault``).
        """
        fault = Fault(
            status=status, error=error, latency_s=latency_s, kind=kind, times=times, model=model
        )
        self.queue_faults([fault])
        return fault

    def queue_faults(self, faults: Iterable[Fault]) -> int:
        """Queue several faults; return how many were queued."""
        pending = [_Pending(fault=fault, remaining=fault.times) for fault in faults]
        with self._lock:
            self._faults.extend(pending)
        return len(pending)

    def pending_faults(self) -> list[Fault]:
        """Return the queued faults, each with ``times`` set to what remains."""
        with self._lock:
            return [replace(p.fault, times=p.remaining) for p in self._faults]

    @property
    def calls(self) -> list[FakeCall]:
        """The call log, oldest first."""
        with self._lock:
            return [self._calls[seq] for seq in sorted(self._calls)]

    def find_call(self, seq: int) -> FakeCall | None:
        """Return the logged call ``seq``, or ``None`` once evicted."""
        with self._lock:
            return self._calls.get(seq)

    # ---- in-process mode -----------------------------------------------------------------------

    def start(self) -> None:
        """Start intercepting ``requests`` and httpx (sync and async) in this process.

        Raises:
            RuntimeError: If already started.
        """
        from together_image_fake._httpx import InProcessHttpx
        from together_image_fake._mock import InProcessMock

        with self._lock:
            if self._mock is not None:
                raise RuntimeError("This FakeTogether is already intercepting requests")
            mock = InProcessMock(self, base_urls=self.base_urls)
            mock.start()
            self._mock = mock
            self._httpx = InProcessHttpx(self, base_urls=self.base_urls)
            self._httpx.start()

    def stop(self) -> None:
        """Stop intercepting (no-op when not started)."""
        with self._lock:
            mock, self._mock = self._mock, None
            httpx_mock, self._httpx = self._httpx, None
        if mock is not None:
            mock.stop()
        if httpx_mock is not None:
            httpx_mock.stop()

    def __enter__(self) -> FakeTogether:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __call__(self, func: Callable[P, R]) -> Callable[P, R]:
        """Decorate ``func`` so it runs with this fake intercepting requests."""

        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            with self:
                return func(*args, **kwargs)

        return wrapper

    def sleep(self, seconds: float) -> None:
        """Carry out injected latency with the configured sleep function."""
        if seconds > 0:
            self._sleep(seconds)

    # ---- the entry point -----------------------------------------------------------------------

    def handle(self, request: FakeRequest) -> FakeResponse:
        """Answer one request exactly as the real API would (the entry point of every adapter).

        Args:
            request: The normalised request.

        Returns:
            The response (possibly a connection-level fault for the adapter to carry out).
        """
        return _routes.dispatch(self, request)

    def _context(self) -> _Context:
        with self._lock:
            self._seq += 1
            seq = self._seq
            received = self._clock()
        # A seeded fake derives each request's randomness from (seed, seq), so concurrent requests
        # stay reproducible whatever order the threads take.
        rng = random.Random(f"{self.seed}:{seq}") if self.seed is not None else random.Random()
        return _Context(
            seq=seq, rng=rng, ids=WireIds.draw(rng), received=received, started=time.perf_counter()
        )

    # ---- API routes (called by _routes) --------------------------------------------------------

    def _generate(self, request: FakeRequest) -> FakeResponse:
        ctx = self._context()
        try:
            parsed = parse_json_body(request.body)
        except FakeAPIError:
            # Validation reports the error; the log keeps whatever Python's json can read of it.
            parsed = None
            logged = _parse_for_log(request.body)
        else:
            # Parsing succeeded as JSON.parse would, so Python's json reads the same value.
            logged = parsed if json_depth(parsed) <= MAX_JSON_DEPTH else None
        log: dict[str, Any] = {"body": logged}
        body = log["body"] if isinstance(log["body"], dict) else {}
        for name in ("model", "prompt", "response_format"):
            log[name] = body.get(name) if isinstance(body.get(name), str) else None
        for name in ("width", "height"):
            value = body.get(name)
            log[name] = value if isinstance(value, int) and not isinstance(value, bool) else None
        model = log["model"]
        fault = self._take_fault(model)
        response: FakeResponse | None = None
        try:
            if fault is not None:
                log["fault"] = fault.describe()
                response = self._fault_response(fault, ctx, model)
            if response is None:
                response = self._generate_images(request, ctx, log, parsed)
        except FakeAPIError as error:
            log["error"] = error.summary()
            response = self._error_response(error, ctx)
        if fault is not None and fault.latency_s:
            response = replace(response, delay_s=fault.latency_s)
        return self._log(ctx, request, response, log)

    def _generate_images(
        self, request: FakeRequest, ctx: _Context, log: dict[str, Any], parsed: Any
    ) -> FakeResponse:
        check_auth(request.headers, self.api_keys)
        body = parse_json_object(request.headers, request.body, strict=self.strict, parsed=parsed)
        spec = resolve_model(body, self._catalog, serve_retired=self.serve_retired)
        with self._lock:
            tier, credit = self._tier, self._credit
        if tier < spec.min_tier.value and (self.strict or spec.min_tier.source != "INF"):
            raise request_blocked(spec.min_tier.value)
        if credit is not None and credit <= 0:
            raise credit_limit()
        valid = validate_generation(
            body,
            spec,
            strict=self.strict,
            remote_images=self._remote_snapshot(),
            remote_policy=self.remote_image_policy,
        )
        log.update(width=valid.width, height=valid.height, response_format=valid.response_format)
        if valid.input_image is not None:
            log.update(
                input_image=valid.input_image.data,
                input_media_type=valid.input_image.media_type,
                input_sha256=valid.input_image.sha256,
            )
        call_start = self._clock()
        limit_headers = self._take_rate_slot(spec, ctx.received)
        self._check_safety(valid)
        seed = valid.seed if valid.seed is not None else ctx.rng.randrange(2**32)
        images = [
            self._renderer.render(
                _render_spec(valid, seed=seed, index=index, fake_seed=self.seed),
                input_image=valid.input_image.data if valid.input_image else None,
                request_id=ctx.ids.request_id,
            )
            for index in range(valid.n)
        ]
        log.update(images=tuple(images), image_media_type=MEDIA_TYPES[valid.output_format])
        items, urls = self._items(valid, images, ctx, request.origin)
        log["urls"] = tuple(urls)
        self._charge(valid)
        payload = {"id": ctx.ids.request_id, "model": spec.id, "object": "list", "data": items}
        # The real API echoes the requested model string [REC]; the catalog id is the same string.
        body_bytes = json_bytes(payload)
        if valid.response_format != "url":
            body_bytes = splice_base64(body_bytes, [base64.b64encode(image) for image in images])
        headers = self._api_headers(ctx, body_bytes, stage="done", call_start=call_start)
        headers.update(limit_headers)
        return FakeResponse(status=200, headers=sorted_headers(headers), body=body_bytes)

    def _items(
        self, valid: GenerationRequest, images: list[bytes], ctx: _Context, origin: str
    ) -> tuple[list[dict[str, Any]], list[str]]:
        items: list[dict[str, Any]] = []
        urls: list[str] = []
        for index in range(len(images)):
            if valid.spec.timings.value == "milliseconds":
                timings: dict[str, Any] = {"inference": ctx.rng.randint(1500, 18000)}
            else:
                timings = {"inference": ctx.rng.uniform(0.09, 1.09)}
            if valid.response_format == "url":
                ident = short_id(ctx.rng)
                url = f"{origin}/shrt/{ident}"
                urls.append(url)
                with self._lock:
                    self._short_ids[ident] = (ctx.seq, index)
                content: dict[str, Any] = {"url": url}
                if self.type_field:
                    content["type"] = "url"
            else:
                # Left empty here; splice_base64 writes the text into the serialized body.
                content = {"b64_json": ""}
                if self.type_field:
                    content["type"] = "b64_json"
            if valid.spec.item_order.value == "timings_first":
                items.append({"timings": timings, "index": index, **content})
            else:
                items.append({"index": index, **content, "timings": timings})
        return items, urls

    def _list_models(self, request: FakeRequest) -> FakeResponse:
        ctx = self._context()
        try:
            check_auth(request.headers, self.api_keys)
        except FakeAPIError as error:
            # This endpoint's 401 is compact and terse [REC].
            body = json_bytes({"error": {"message": "Unauthorized"}}, pretty=False)
            headers = self._api_headers(ctx, body, stage="gateway")
            response = FakeResponse(status=401, headers=sorted_headers(headers), body=body)
            return self._log(ctx, request, response, {"error": error.summary()})
        served = [
            spec
            for spec in self._catalog.models.values()
            if self.serve_retired or spec.retired.value is None
        ]
        body = json_bytes([_model_entry(spec) for spec in served], pretty=False)
        headers = self._api_headers(ctx, body, stage="gateway")
        del headers["Content-Length"]
        response = FakeResponse(status=200, headers=sorted_headers(headers), body=body)
        return self._log(ctx, request, response, {})

    def _cdn_image(self, request: FakeRequest, ident: str) -> FakeResponse:
        ctx = self._context()
        with self._lock:
            location = self._short_ids.get(ident)
            call = self._calls.get(location[0]) if location else None
        if not request.headers.get("user-agent", "").strip():
            # "The CDN rejects requests with a blank User-Agent (HTTP 403)" [DOC].
            body = b"Forbidden: a non-empty User-Agent header is required."
            headers = {"Content-Type": "text/plain; charset=utf-8", "Server": "cloudflare"}
            headers.update({"Cf-Ray": ctx.ids.ray, "Content-Length": str(len(body))})
            headers["Date"] = http_date(ctx.received)
            response = FakeResponse(status=403, headers=sorted_headers(headers), body=body)
            return self._log(ctx, request, response, {})
        if location is None or call is None or location[1] >= len(call.images):
            error = FakeAPIError(
                404, f"No image at /shrt/{ident}.", code="not_found", stage="gateway"
            )
            return self._log(
                ctx, request, self._error_response(error, ctx), {"error": error.summary()}
            )
        image = call.images[location[1]]
        media_type = call.image_media_type or "image/jpeg"
        extension = "png" if media_type == "image/png" else "jpg"
        digest = _sha256_hex(image)
        headers = {
            "Access-Control-Expose-Headers": "X-Request-ID",
            "Alt-Svc": 'h3=":443"; ma=86400',
            "Cache-Control": "max-age=31536000, public",
            "Cf-Cache-Status": "DYNAMIC",
            "Cf-Ray": ctx.ids.ray,
            "Content-Disposition": f'inline; filename="{digest}.{extension}"',
            "Content-Length": str(len(image)),
            "Content-Security-Policy": "script-src 'none'",
            "Content-Type": media_type,
            "Date": http_date(ctx.received),
            "Expires": http_date(ctx.received + 365 * 24 * 3600),
            "Server": "cloudflare",
            "Strict-Transport-Security": "max-age=2592000; includeSubDomains",
            "Vary": "Origin",
            "X-Content-Type-Options": "nosniff",
        }
        response = FakeResponse(status=200, headers=sorted_headers(headers), body=image)
        return self._log(ctx, request, response, {})

    def _unknown_route(self, request: FakeRequest, message: str) -> FakeResponse:
        ctx = self._context()
        error = FakeAPIError(404, message, code="not_found", stage="gateway")
        response = self._error_response(error, ctx)
        if request.path.startswith("/_fake"):
            return response
        return self._log(ctx, request, response, {"error": error.summary()})

    def _control_error(self, status: int, message: str) -> FakeResponse:
        """An error of the control API, in the real error shape (not logged)."""
        ids = WireIds.draw(random.Random())
        body = json_bytes(FakeAPIError(status, message).body(ids.request_id))
        headers = {"Content-Type": JSON_CONTENT_TYPE, "Content-Length": str(len(body))}
        return FakeResponse(status=status, headers=sorted_headers(headers), body=body)

    # ---- pieces --------------------------------------------------------------------------------

    def _remote_snapshot(self) -> dict[str, bytes]:
        with self._lock:
            return dict(self._remote)

    def _take_fault(self, model: str | None) -> Fault | None:
        with self._lock:
            for pending in self._faults:
                if pending.fault.model is None or pending.fault.model == model:
                    pending.remaining -= 1
                    if pending.remaining == 0:
                        self._faults.remove(pending)
                    return pending.fault
        return None

    def _fault_response(
        self, fault: Fault, ctx: _Context, model: str | None
    ) -> FakeResponse | None:
        """The answer a fault forces, or ``None`` when it only adds latency."""
        if fault.kind in ("reset", "timeout"):
            return FakeResponse(status=0, action=fault.kind)
        if fault.kind == "html":
            status = fault.status or 502
            body = _gateway_page(status, ctx.ids.ray).encode("utf-8")
            headers = {
                "Content-Type": "text/html; charset=UTF-8",
                "Content-Length": str(len(body)),
                "Cf-Ray": ctx.ids.ray,
                "Server": "cloudflare",
                "Date": http_date(ctx.received),
            }
            return FakeResponse(status=status, headers=sorted_headers(headers), body=body)
        if fault.error is not None:
            error = named_error(fault.error, model=model, status=fault.status)
        elif fault.status is not None:
            error = error_for_status(fault.status, model=model)
        else:
            return None
        return self._error_response(error, ctx)

    def _take_rate_slot(self, spec: ModelSpec, now: float) -> dict[str, str]:
        """Record one request against the model's window; raise 429 when it is full."""
        model_limit = spec.rate_limit_per_minute.value
        if self.rate_limits == "off" or (model_limit is None and self.rate_limits == "model"):
            return self._limit_headers(None, 0)
        limit = model_limit if model_limit is not None else TIER_IMAGES_PER_MINUTE[self._tier]
        with self._lock:
            window = self._windows.setdefault(spec.id, deque())
            while window and window[0] <= now - _WINDOW_S:
                window.popleft()
            if len(window) >= limit:
                retry_after = max(1, math.ceil(window[0] + _WINDOW_S - now))
                headers = {
                    "Retry-After": str(retry_after),
                    "X-Ratelimit": "true",
                    "X-Ratelimit-Limit": f"{limit / 60:.10g}",
                    "X-Ratelimit-Remaining": "0",
                    "X-Ratelimit-Reset": str(retry_after),
                }
                if model_limit is not None:
                    raise model_rate_limit(spec.id, limit, headers)
                raise dynamic_rate_limit(limit, headers)
            window.append(now)
            used = len(window)
        return self._limit_headers(limit, used)

    def _limit_headers(self, limit: float | None, used: int) -> dict[str, str]:
        if not self.ratelimit_headers:
            return {}
        per_minute = limit if limit is not None else TIER_IMAGES_PER_MINUTE[self._tier]
        reset = str(max(1, math.ceil(60 / per_minute)))
        return {
            "Retry-After": reset,
            "X-Ratelimit": "false",
            "X-Ratelimit-Limit": f"{per_minute / 60:.10g}",
            "X-Ratelimit-Limit-Tokens": "0",
            "X-Ratelimit-Remaining": str(max(0, math.floor(per_minute) - used)),
            "X-Ratelimit-Remaining-Tokens": "0",
            "X-Ratelimit-Reset": reset,
        }

    def _check_safety(self, valid: GenerationRequest) -> None:
        disabled = valid.disable_safety_checker and valid.spec.safety_checker_disableable.value
        if disabled:
            return
        words = valid.prompt.lower()
        if any(term in words for term in self.unsafe_terms):
            raise safety_checker()

    def _charge(self, valid: GenerationRequest) -> None:
        spec = valid.spec
        # "Cost = MP × Price per MP × (Steps ÷ Default Steps)" when steps exceed the default [DOC].
        factor = max(1.0, valid.steps / max(1, spec.default_steps.value))
        cost = valid.width * valid.height / 1e6 * spec.price_per_megapixel.value * factor * valid.n
        with self._lock:
            if self._credit is not None:
                self._credit -= cost

    def _api_headers(
        self,
        ctx: _Context,
        body: bytes,
        *,
        stage: Literal["gateway", "backend", "done"],
        call_start: float | None = None,
    ) -> dict[str, str]:
        headers = {
            "Access-Control-Allow-Origin": "*",
            "Alt-Svc": 'h3=":443"; ma=86400',
            "Cf-Cache-Status": "DYNAMIC",
            "Cf-Ray": ctx.ids.ray,
            "Content-Length": str(len(body)),
            "Content-Type": JSON_CONTENT_TYPE,
            "Date": http_date(ctx.received),
            "Etag": etag(body),
            "Server": "cloudflare",
            "Strict-Transport-Security": "max-age=15552000; includeSubDomains",
            "X-Api-Received": iso_ms(ctx.received),
            "X-Request-Id": ctx.ids.request_id,
        }
        if stage in ("backend", "done"):
            headers["X-Api-Call-Start"] = iso_ms(
                call_start if call_start is not None else ctx.received
            )
            headers["X-Image-Version"] = "v2"
        if stage == "done":
            # Successful answers are sent chunked, without Content-Length [REC].
            del headers["Content-Length"]
            headers["X-Api-Call-End"] = iso_ms(self._clock())
        return headers

    def _error_response(self, error: FakeAPIError, ctx: _Context) -> FakeResponse:
        body = json_bytes(error.body(ctx.ids.request_id))
        stage: Literal["gateway", "backend"] = error.stage
        headers = self._api_headers(ctx, body, stage=stage)
        if stage == "backend" and error.status != 429:
            headers.update(self._limit_headers(None, 0))
        headers.update(error.headers)
        return FakeResponse(status=error.status, headers=sorted_headers(headers), body=body)

    def _log(
        self, ctx: _Context, request: FakeRequest, response: FakeResponse, fields: Mapping[str, Any]
    ) -> FakeResponse:
        duration_ms = (time.perf_counter() - ctx.started) * 1000 + response.delay_s * 1000
        call = FakeCall(
            seq=ctx.seq,
            time=datetime.fromtimestamp(ctx.received, tz=timezone.utc),
            method=request.method,
            path=request.path,
            headers=_redact(request.headers),
            body=fields.get("body"),
            status=response.status,
            duration_ms=round(duration_ms, 3),
            response_id=ctx.ids.request_id,
            **{key: value for key, value in fields.items() if key != "body"},
        )
        with self._lock:
            self._calls[call.seq] = call
            stored = call.stored_bytes()
            if stored:
                self._stored_bytes += stored
                self._holding.append(call.seq)
            self._evict()
        return response

    def _evict(self) -> None:
        while len(self._calls) > self.max_calls:
            seq = next(iter(self._calls))
            old = self._calls.pop(seq)
            self._stored_bytes -= old.stored_bytes()
            # Both keep log order, so the oldest call, if it still holds images, comes first.
            if self._holding and self._holding[0] == seq:
                self._holding.popleft()
            for url in old.urls:
                self._short_ids.pop(url.rsplit("/", 1)[-1], None)
        while self._stored_bytes > self.max_image_bytes and self._holding:
            seq = self._holding.popleft()
            old = self._calls[seq]
            self._stored_bytes -= old.stored_bytes()
            self._calls[seq] = replace(
                old,
                body=_without_inline_image_url(old.body, old.input_sha256),
                images=(),
                input_image=None,
                images_evicted=True,
            )

    def __repr__(self) -> str:
        keys = "any" if self.api_keys is None else f"{len(self.api_keys)} keys"
        return (
            f"FakeTogether(seed={self.seed!r}, strict={self.strict}, api_keys=<{keys}>, "
            f"models={len(self._catalog.models)}, calls={len(self._calls)})"
        )


def _check_tier(tier: int) -> None:
    if isinstance(tier, bool) or not isinstance(tier, int) or tier not in TIER_IMAGES_PER_MINUTE:
        raise ValueError(f"tier must be an int from 1 to 5, got {tier!r}")


def _render_spec(
    valid: GenerationRequest, *, seed: int, index: int, fake_seed: int | None
) -> RenderSpec:
    input_url = (
        valid.image_url if valid.image_url and not valid.image_url.startswith("data:") else None
    )
    return RenderSpec(
        model=valid.spec.id,
        prompt=valid.prompt,
        negative_prompt=valid.negative_prompt,
        width=valid.width,
        height=valid.height,
        seed=seed,
        steps=valid.steps,
        index=index,
        output_format=valid.output_format,
        input_sha256=valid.input_image.sha256 if valid.input_image else None,
        input_url=input_url,
        fake_seed=fake_seed,
    )


def _model_entry(spec: ModelSpec) -> dict[str, Any]:
    """One element of ``GET /v1/models``, in the recorded field order [REC]."""
    return {
        "id": spec.id,
        "object": "model",
        "created": 0,
        "type": "image",
        "running": False,
        "display_name": spec.display_name,
        "organization": spec.organization,
        "link": "",
        "context_length": 0,
        "config": {"chat_template": None, "stop": [], "bos_token": None, "eos_token": None},
        "pricing": {"hourly": 0, "input": 0, "output": 0, "base": 0, "finetune": 0},
    }


def _parse_for_log(body: bytes) -> Any:
    if not body:
        return None
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        return None
    # Too deep to serialize again for /_fake/calls: logged as a body that is not JSON.
    return parsed if json_depth(parsed) <= MAX_JSON_DEPTH else None


def _inline_image_url(body: Any) -> str | None:
    """The request's ``image_url`` when it is an inline ``data:`` URL (image bytes in the log)."""
    if isinstance(body, dict):
        value = body.get("image_url")
        if isinstance(value, str) and value[:5].lower() == "data:":
            return value
    return None


def _without_inline_image_url(body: Any, sha256: str | None) -> Any:
    """The logged body with an inline ``image_url`` replaced by a note of what was dropped."""
    inline = _inline_image_url(body)
    if inline is None:
        return body
    header = inline.split(",", 1)[0]
    note = f"{header},<evicted: {len(inline)} characters"
    note += f", image sha256 {sha256}>" if sha256 else ">"
    return {**body, "image_url": note}


def _redact(headers: Mapping[str, str]) -> dict[str, str]:
    return {
        name.lower(): (_REDACTED if name.lower() in ("authorization", "x-api-key") else value)
        for name, value in headers.items()
    }


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _gateway_page(status: int, ray: str) -> str:
    """A Cloudflare-style gateway error page (what clients see on 502/524) [INF]."""
    titles = {
        502: "Bad gateway",
        503: "Service unavailable",
        504: "Gateway time-out",
        524: "A timeout occurred",
    }
    title = titles.get(status, "Error")
    return (
        "<!DOCTYPE html>\n<html>\n<head><title>"
        f"api.together.xyz | {status}: {title}</title></head>\n<body>\n"
        f"<h1>Error {status}</h1>\n<p>{title}</p>\n<p>Cloudflare Ray ID: {ray.split('-')[0]}</p>\n"
        "</body>\n</html>\n"
    )
