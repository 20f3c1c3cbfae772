"""The fake's state: faults, the call log, rate windows, the account, under one lock.

``FakeState`` is plain Python with no I/O and no knowledge of what answers requests: the image
generator, the cassette player and the recording proxy all draw a ``RequestContext`` from it
(sequence number, seeded randomness, ids, arrival time), take faults from its queue and log what
they answered as a typed ``FakeCall``. The log is bounded twice: by number of calls and by bytes of
image data kept (the oldest images are dropped first, their calls stay). Credentials never reach
the log: headers and body fields that the project's secret rules (``_secrets``) recognise are
redacted as the call is recorded.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any, Literal

from together_image_fake._calls import (
    BODY_ALLOWANCE,
    CallDetails,
    FakeCall,
    evicted,
    redact_fields,
    redact_headers,
    sha256_hex,
)
from together_image_fake._catalog import Catalog, ModelSpec
from together_image_fake._errors import NAMED_ERRORS
from together_image_fake._wire import FakeRequest, FakeResponse, WireIds

FaultKind = Literal["reset", "timeout", "html"]

TIER_IMAGES_PER_MINUTE: Mapping[int, float] = {1: 240, 2: 480, 3: 600, 4: 960, 5: 1200}
"""Account-wide image limits per build tier [DOC rate limits, 2025-11]."""

_WINDOW_S = 60.0
_NO_DETAILS = CallDetails()


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
class RequestContext:
    """Per-request values drawn once, under the lock.

    Attributes:
        seq: The call's sequence number.
        rng: Its randomness (derived from the fake's seed and ``seq`` when seeded).
        ids: Its request id and ``Cf-Ray``.
        received: Arrival time (the fake's clock, Unix seconds).
        started: ``time.perf_counter()`` at arrival, for ``duration_ms``.
        generation: How many resets the state had seen when the request arrived; a request
            from before a reset is answered, but never logged after it.
    """

    seq: int
    rng: random.Random
    ids: WireIds
    received: float
    started: float
    generation: int = 0


@dataclass(frozen=True, kw_only=True)
class RateSlot:
    """The outcome of taking a slot in a rate window.

    Attributes:
        used: Requests in the window, this one included (0 when refused).
        retry_after_s: Whole seconds until a slot frees up, when the window was full.
    """

    used: int
    retry_after_s: int | None = None


@dataclass
class _Pending:
    fault: Fault
    remaining: int


class FakeState:
    """Everything a fake remembers between requests, behind one re-entrant lock.

    Args:
        seed: Seeds each request's randomness (with its sequence number); ``None`` for fresh.
        catalog: The models served at construction (``reset()`` returns to it).
        tier: The account's build tier (1–5) at construction.
        credit: Dollars of credit at construction; ``None`` is unlimited.
        clock: Returns the current Unix time in seconds.
        max_calls: How many calls the log keeps.
        max_image_bytes: How many bytes of images the log keeps (oldest dropped first).
    """

    def __init__(
        self,
        *,
        seed: int | None,
        catalog: Catalog,
        tier: int,
        credit: float | None,
        clock: Callable[[], float],
        max_calls: int,
        max_image_bytes: int,
    ) -> None:
        if max_calls < 1:
            raise ValueError(f"max_calls must be >= 1, got {max_calls}")
        check_tier(tier)
        self.seed = seed
        self.clock = clock
        self.max_calls = max_calls
        self.max_image_bytes = max_image_bytes
        self._initial = (catalog, tier, credit)
        self._unseeded = random.Random()
        self.lock = threading.RLock()
        self._generation = 0
        self.reset()

    def reset(self) -> None:
        """Forget calls, faults, rate windows, remote images and registered models; the tier and
        credit go back to their values at construction.

        Requests still in flight keep the generation they arrived in: their answers go out, but
        they never land in the new log, take one of its numbers, register a ``/shrt/`` link or
        charge the restored credit (sequence numbers restart at 1 after each reset).
        """
        with self.lock:
            self._generation += 1
            self._catalog, self._tier, self._credit = self._initial
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

    # ---- account -------------------------------------------------------------------------------

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
        """Set the build tier (1–5)."""
        check_tier(tier)
        with self.lock:
            self._tier = tier

    def set_credit(self, dollars: float | None) -> None:
        """Set the remaining credit (``None``: unlimited)."""
        with self.lock:
            self._credit = dollars

    def charge(self, ctx: RequestContext, dollars: float) -> None:
        """Take ``dollars`` off a limited credit (not when a reset came after ``ctx`` arrived)."""
        with self.lock:
            if self._credit is not None and ctx.generation == self._generation:
                self._credit -= dollars

    def register_model(
        self, model: ModelSpec | str, *, like: str | None, rules: Mapping[str, object]
    ) -> ModelSpec:
        """Add a model or override rules of one (see ``FakeTogether.register_model``)."""
        with self.lock:
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
        """Remember the bytes an ``http(s)`` image URL stands for."""
        with self.lock:
            self._remote[url] = bytes(data)

    def remote_images(self) -> dict[str, bytes]:
        """A snapshot of the registered remote images."""
        with self.lock:
            return dict(self._remote)

    # ---- faults --------------------------------------------------------------------------------

    def queue_faults(self, faults: Iterable[Fault]) -> int:
        """Queue faults in order; return how many were queued."""
        pending = [_Pending(fault=fault, remaining=fault.times) for fault in faults]
        with self.lock:
            self._faults.extend(pending)
        return len(pending)

    def pending_faults(self) -> list[Fault]:
        """The queued faults, each with ``times`` set to what remains."""
        with self.lock:
            return [replace(p.fault, times=p.remaining) for p in self._faults]

    def take_fault(self, model: str | None) -> Fault | None:
        """Take one use of the first queued fault that applies to ``model``."""
        with self.lock:
            for pending in self._faults:
                if pending.fault.model is None or pending.fault.model == model:
                    pending.remaining -= 1
                    if pending.remaining == 0:
                        self._faults.remove(pending)
                    return pending.fault
        return None

    # ---- rate windows --------------------------------------------------------------------------

    def take_rate_slot(self, key: str, limit: float, now: float) -> RateSlot:
        """Count one request against the 60-second window ``key``, unless it holds ``limit``."""
        with self.lock:
            window = self._windows.setdefault(key, deque())
            while window and window[0] <= now - _WINDOW_S:
                window.popleft()
            if len(window) >= limit:
                return RateSlot(
                    used=0, retry_after_s=max(1, math.ceil(window[0] + _WINDOW_S - now))
                )
            window.append(now)
            return RateSlot(used=len(window))

    # ---- the call log --------------------------------------------------------------------------

    def begin(self) -> RequestContext:
        """Draw the next request's sequence number, randomness, ids and arrival time."""
        with self.lock:
            self._seq += 1
            seq = self._seq
            generation = self._generation
            received = self.clock()
        # A seeded fake derives each request's randomness from (seed, seq), so concurrent requests
        # stay reproducible whatever order the threads take. An unseeded one promises nothing to
        # reproduce and draws from one generator: seeding a fresh one from the OS per request cost
        # more than all of the request's draws.
        rng = random.Random(f"{self.seed}:{seq}") if self.seed is not None else self._unseeded
        return RequestContext(
            seq=seq,
            rng=rng,
            ids=WireIds.draw(rng),
            received=received,
            started=time.perf_counter(),
            generation=generation,
        )

    def record(
        self,
        ctx: RequestContext,
        request: FakeRequest,
        response: FakeResponse,
        details: CallDetails = _NO_DETAILS,
    ) -> FakeResponse:
        """Log one answered request and return ``response`` unchanged.

        A request that arrived before the last ``reset()`` is not logged: its sequence number
        belongs to the forgotten log, and may already be another call's in the new one.
        """
        duration_ms = (time.perf_counter() - ctx.started) * 1000 + response.delay_s * 1000
        body_bytes = len(request.body) if details.body is not None else 0
        call = FakeCall(
            seq=ctx.seq,
            time=datetime.fromtimestamp(ctx.received, tz=timezone.utc),
            method=request.method,
            path=request.path,
            headers=redact_headers(request.headers),
            body=redact_fields(details.body),
            status=response.status,
            model=details.model,
            prompt=details.prompt,
            width=details.width,
            height=details.height,
            response_format=details.response_format,
            error=details.error,
            fault=details.fault,
            images=details.images,
            image_media_type=details.image_media_type,
            input_image=details.input_image,
            input_media_type=details.input_media_type,
            input_sha256=details.input_sha256,
            reference_sha256s=details.reference_sha256s,
            response_id=ctx.ids.request_id,
            urls=details.urls,
            duration_ms=round(duration_ms, 3),
            body_bytes=body_bytes,
            body_sha256=sha256_hex(request.body) if body_bytes > BODY_ALLOWANCE else None,
        )
        with self.lock:
            if ctx.generation != self._generation:
                return response
            self._calls[call.seq] = call
            stored = call.stored_bytes()
            if stored:
                self._stored_bytes += stored
                self._holding.append(call.seq)
            self._evict()
        return response

    @property
    def calls(self) -> list[FakeCall]:
        """The call log, oldest first."""
        with self.lock:
            return [self._calls[seq] for seq in sorted(self._calls)]

    def find_call(self, seq: int) -> FakeCall | None:
        """The logged call ``seq``, or ``None`` once evicted."""
        with self.lock:
            return self._calls.get(seq)

    def register_short_id(self, ctx: RequestContext, ident: str, index: int) -> None:
        """Remember that ``/shrt/<ident>`` serves image ``index`` of the call ``ctx`` stands for
        (unless a reset came after it arrived: its number may be another call's by now)."""
        with self.lock:
            if ctx.generation == self._generation:
                self._short_ids[ident] = (ctx.seq, index)

    def short_id_image(self, ident: str) -> tuple[bytes, str | None] | None:
        """The image (and its media type) ``/shrt/<ident>`` serves, while its call keeps it."""
        with self.lock:
            location = self._short_ids.get(ident)
            call = self._calls.get(location[0]) if location else None
        if location is None or call is None or location[1] >= len(call.images):
            return None
        return call.images[location[1]], call.image_media_type

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
            self._calls[seq] = evicted(old)


def check_tier(tier: int) -> None:
    """Raise ``ValueError`` unless ``tier`` is a build tier (1–5)."""
    if isinstance(tier, bool) or not isinstance(tier, int) or tier not in TIER_IMAGES_PER_MINUTE:
        raise ValueError(f"tier must be an int from 1 to 5, got {tier!r}")
