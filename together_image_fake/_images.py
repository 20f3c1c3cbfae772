"""The image API's answers: ``ImageGenerator``, the responder that validates and renders.

It answers the API routes exactly as the real API would: ``generate`` (route → faults → auth →
validation → account checks → render → real wire format), ``list_models`` and ``cdn_image``
(``/shrt/<id>`` images of URL-mode answers), each with the header recipe recorded for it. It
keeps configuration and the renderer only; everything that changes between requests (faults,
call log, rate windows, account) lives in the ``FakeState`` it is handed with each request. It
knows nothing of the host that received the request.
"""

from __future__ import annotations

import base64
import json
import math
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any, Literal

from together_image_fake._calls import CallDetails, sha256_hex
from together_image_fake._catalog import Catalog, ModelSpec, recorded_listing
from together_image_fake._errors import (
    CREDIT_LIMIT_MESSAGE,
    CREDIT_LIMIT_MESSAGE_2025,
    FakeAPIError,
    credit_limit,
    dynamic_rate_limit,
    error_for_status,
    error_response,
    model_rate_limit,
    named_error,
    request_blocked,
    safety_checker,
)
from together_image_fake._render import MEDIA_TYPES, Renderer, RenderSpec
from together_image_fake._state import TIER_IMAGES_PER_MINUTE, FakeState, Fault, RequestContext
from together_image_fake._validate import (
    MAX_JSON_DEPTH,
    GenerationRequest,
    RemoteImagePolicy,
    check_auth,
    json_depth,
    parse_json_body,
    parse_json_object,
    resolve_model,
    validate_generation,
)
from together_image_fake._wire import (
    JSON_CONTENT_TYPE,
    FakeRequest,
    FakeResponse,
    etag,
    http_date,
    iso_ms,
    json_bytes,
    short_id,
    sorted_headers,
    splice_base64,
)

RateLimitMode = Literal["off", "model", "all"]
AccountTexts = Literal["2026", "2025"]
Stage = Literal["gateway", "backend", "done"]

LISTING_CONTENT_TYPE = "application/json"
"""``GET /v1/models`` answers without a charset [REC 2026-08-17], unlike the image endpoint."""

DEFAULT_UNSAFE_TERMS: tuple[str, ...] = ("nsfw",)
"""Prompt words that trip the fake's safety checker unless disabled (a test hook [INF])."""

DEFAULT_MAX_CONCURRENT_RENDERS = max(1, min(4, os.cpu_count() or 1))
"""Image requests rendered at once by default: one per CPU, at most 4 (rendering is CPU-bound,
so more in flight buy no speed, only memory; the rest wait their turn)."""


class ImageGenerator:
    """The responder that answers like the real API: validate, apply faults, render.

    Args:
        seed: The fake's seed, embedded in rendered images (``None``: fresh randomness).
        api_keys: Accepted API keys; ``None`` accepts any non-empty bearer key.
        strict: ``False`` skips every rule tagged [INF].
        rate_limits: ``"model"``, ``"all"`` or ``"off"`` (see ``FakeTogether``).
        ratelimit_headers: Send the ``X-Ratelimit-*`` headers seen until 2026-04 [REC].
        type_field: Add ``"type"`` to each ``data`` item.
        unsafe_terms: Prompt words that trip the safety checker (422).
        remote_images: ``"record"`` or ``"reject"`` an unregistered ``http(s)`` ``image_url``.
        serve_retired: Also serve models the real API has retired.
        account_texts: ``"2026"`` or ``"2025"`` wording of the account errors (402).
        clock: The fake's clock (``X-Api-Call-*`` timestamps).
        image_cache_bytes: Size of the rendered-image cache.
        max_concurrent_renders: How many requests render (and build their answer) at once;
            others wait their turn, so the canvases, encoders and answers held at once do not
            grow with the number of clients (48 concurrent 3072² ``n=4`` PNG requests: about
            0.6 GB peak with the default limits, the call log's 256 MB of images included).
    """

    def __init__(
        self,
        *,
        seed: int | None,
        api_keys: Iterable[str] | None,
        strict: bool,
        rate_limits: RateLimitMode,
        ratelimit_headers: bool,
        type_field: bool,
        unsafe_terms: Iterable[str],
        remote_images: RemoteImagePolicy,
        serve_retired: bool,
        account_texts: AccountTexts = "2026",
        clock: Callable[[], float],
        image_cache_bytes: int,
        max_concurrent_renders: int = DEFAULT_MAX_CONCURRENT_RENDERS,
    ) -> None:
        if rate_limits not in ("off", "model", "all"):
            raise ValueError(f"rate_limits must be 'off', 'model' or 'all', got {rate_limits!r}")
        if remote_images not in ("record", "reject"):
            raise ValueError(f"remote_images must be 'record' or 'reject', got {remote_images!r}")
        if (
            isinstance(max_concurrent_renders, bool)
            or not isinstance(max_concurrent_renders, int)
            or max_concurrent_renders < 1
        ):
            raise ValueError(
                f"max_concurrent_renders must be an int >= 1, got {max_concurrent_renders!r}"
            )
        self.seed = seed
        self.api_keys = frozenset(api_keys) if api_keys is not None else None
        self.strict = strict
        self.rate_limits: RateLimitMode = rate_limits
        self.ratelimit_headers = ratelimit_headers
        self.type_field = type_field
        self.unsafe_terms = tuple(term.lower() for term in unsafe_terms)
        self.remote_image_policy: RemoteImagePolicy = remote_images
        self.serve_retired = serve_retired
        self._listing: tuple[Catalog, bool, bytes] | None = None
        if account_texts not in ("2026", "2025"):
            raise ValueError(f"account_texts must be '2026' or '2025', got {account_texts!r}")
        self.credit_limit_message = (
            CREDIT_LIMIT_MESSAGE if account_texts == "2026" else CREDIT_LIMIT_MESSAGE_2025
        )
        self.clock = clock
        self.renderer = Renderer(cache_bytes=image_cache_bytes)
        self.max_concurrent_renders = max_concurrent_renders
        self._render_slots = threading.BoundedSemaphore(max_concurrent_renders)

    # ---- the responder interface (called by the route table) ----------------------------------

    def reset(self) -> None:
        """Nothing to forget: the generator keeps no per-request state."""

    def close(self) -> None:
        """Nothing to release."""

    def generate(self, request: FakeRequest, state: FakeState) -> FakeResponse:
        """``POST /v1/images/generations``: faults, then validation and rendering."""
        ctx = state.begin()
        try:
            parsed = parse_json_body(request.body)
        except FakeAPIError:
            # Validation reports the error; the log keeps whatever Python's json can read of it.
            parsed = None
            details = CallDetails.from_body(_loggable_body(request.body))
        else:
            # Parsing succeeded as JSON.parse would, so Python's json reads the same value.
            logged = parsed if json_depth(parsed) <= MAX_JSON_DEPTH else None
            details = CallDetails.from_body(logged)
        fault = state.take_fault(details.model)
        response: FakeResponse | None = None
        try:
            if fault is not None:
                details = replace(details, fault=fault.describe())
                response = self._fault_response(fault, state, ctx, details.model)
            if response is None:
                response, details = self._generate_images(request, state, ctx, details, parsed)
        except FakeAPIError as error:
            details = replace(details, error=error.summary())
            response = self.error_response(error, ctx, state)
        if fault is not None and fault.latency_s:
            response = replace(response, delay_s=fault.latency_s)
        return state.record(ctx, request, response, details)

    def _listing_body(self, catalog: Catalog) -> bytes:
        """The listing's bytes, serialized once per catalog: a catalog never changes (registering
        a model makes a new one), and the listing is 437 KB of JSON."""
        cached = self._listing
        if cached is not None and cached[0] is catalog and cached[1] == self.serve_retired:
            return cached[2]
        served = [
            spec
            for spec in catalog.models.values()
            if spec.params.serverless.value and (self.serve_retired or spec.retired.value is None)
        ]
        body = json_bytes(model_listing(served), pretty=False)
        # One assignment: a racing request at worst serializes the listing again.
        self._listing = (catalog, self.serve_retired, body)
        return body

    def list_models(self, request: FakeRequest, state: FakeState) -> FakeResponse:
        """``GET /v1/models``: the image models served, compact JSON [REC]."""
        ctx = state.begin()
        try:
            check_auth(request.headers, self.api_keys)
        except FakeAPIError as error:
            # This endpoint's 401 is compact and terse [REC].
            body = json_bytes({"error": {"message": "Unauthorized"}}, pretty=False)
            headers = self.api_headers(ctx, body, stage="gateway")
            response = FakeResponse(status=401, headers=sorted_headers(headers), body=body)
            return state.record(ctx, request, response, CallDetails(error=error.summary()))
        body = self._listing_body(state.catalog)
        # The listing's own header set [REC 2026-08-17]: no Etag, no X-Api-*, sent chunked,
        # and Content-Type without a charset, unlike the image endpoint.
        headers = {
            "Access-Control-Allow-Methods": "GET,POST,PATCH",
            "Access-Control-Allow-Origin": "*",
            "Alt-Svc": 'h3=":443"; ma=86400',
            "Cf-Cache-Status": "DYNAMIC",
            "Cf-Ray": ctx.ids.ray,
            "Content-Type": LISTING_CONTENT_TYPE,
            "Date": http_date(ctx.received),
            "Server": "cloudflare",
            "Strict-Transport-Security": "max-age=15552000; includeSubDomains",
            "Vary": (
                "rsc, next-router-state-tree, next-router-prefetch, next-router-segment-prefetch"
            ),
        }
        response = FakeResponse(status=200, headers=sorted_headers(headers), body=body)
        return state.record(ctx, request, response)

    def cdn_image(self, request: FakeRequest, state: FakeState, ident: str) -> FakeResponse:
        """``GET /shrt/<id>``: an image of an earlier URL-mode answer, as the real CDN sends it."""
        ctx = state.begin()
        found = state.short_id_image(ident)
        if not request.headers.get("user-agent", "").strip():
            # "The CDN rejects requests with a blank User-Agent (HTTP 403)" [DOC].
            body = b"Forbidden: a non-empty User-Agent header is required."
            headers = {"Content-Type": "text/plain; charset=utf-8", "Server": "cloudflare"}
            headers.update({"Cf-Ray": ctx.ids.ray, "Content-Length": str(len(body))})
            headers["Date"] = http_date(ctx.received)
            response = FakeResponse(status=403, headers=sorted_headers(headers), body=body)
            return state.record(ctx, request, response)
        if found is None:
            error = FakeAPIError(
                404, f"No image at /shrt/{ident}.", code="not_found", stage="gateway"
            )
            response = self.error_response(error, ctx, state)
            return state.record(ctx, request, response, CallDetails(error=error.summary()))
        image, media_type = found
        media_type = media_type or "image/jpeg"
        extension = "png" if media_type == "image/png" else "jpg"
        headers = {
            "Access-Control-Expose-Headers": "X-Request-ID",
            "Alt-Svc": 'h3=":443"; ma=86400',
            "Cache-Control": "max-age=31536000, public",
            "Cf-Cache-Status": "DYNAMIC",
            "Cf-Ray": ctx.ids.ray,
            "Content-Disposition": f'inline; filename="{sha256_hex(image)}.{extension}"',
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
        return state.record(ctx, request, response)

    def unknown_route(self, request: FakeRequest, state: FakeState, message: str) -> FakeResponse:
        """A path no route serves: 404 in the real error shape, logged like an API call."""
        ctx = state.begin()
        error = FakeAPIError(404, message, code="not_found", stage="gateway")
        response = self.error_response(error, ctx, state)
        return state.record(ctx, request, response, CallDetails(error=error.summary()))

    # ---- header recipes ------------------------------------------------------------------------

    def api_headers(
        self, ctx: RequestContext, body: bytes, *, stage: Stage, call_start: float | None = None
    ) -> dict[str, str]:
        """The headers of an API answer at ``stage``: ``gateway`` (answered before the image
        backend), ``backend`` (an error from it) or ``done`` (a success, sent chunked) [REC]."""
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
            headers["X-Api-Call-End"] = iso_ms(self.clock())
        return headers

    def error_response(
        self, error: FakeAPIError, ctx: RequestContext, state: FakeState
    ) -> FakeResponse:
        """An API error with the headers of the stage that answers it."""

        def recipe(body: bytes) -> dict[str, str]:
            headers = self.api_headers(ctx, body, stage=error.stage)
            if error.stage == "backend" and error.status != 429:
                headers.update(self._limit_headers(None, 0, tier=state.tier))
            return headers

        return error_response(error, request_id=ctx.ids.request_id, headers=recipe)

    # ---- generation ----------------------------------------------------------------------------

    def _generate_images(
        self,
        request: FakeRequest,
        state: FakeState,
        ctx: RequestContext,
        details: CallDetails,
        parsed: Any,
    ) -> tuple[FakeResponse, CallDetails]:
        check_auth(request.headers, self.api_keys)
        body = parse_json_object(request.headers, request.body, strict=self.strict, parsed=parsed)
        spec = resolve_model(body, state.catalog, serve_retired=self.serve_retired)
        tier, credit = state.tier, state.credit
        if tier < spec.min_tier.value and (self.strict or spec.min_tier.source != "INF"):
            raise request_blocked(spec.min_tier.value)
        if credit is not None and credit <= 0:
            raise credit_limit(self.credit_limit_message)
        valid = validate_generation(
            body,
            spec,
            strict=self.strict,
            remote_images=state.remote_images(),
            remote_policy=self.remote_image_policy,
        )
        # The work starts (X-Api-Call-Start) once a render slot is free, as a queued job would.
        with self._render_slots:
            return self._render_answer(request, state, ctx, details, valid)

    def _render_answer(
        self,
        request: FakeRequest,
        state: FakeState,
        ctx: RequestContext,
        details: CallDetails,
        valid: GenerationRequest,
    ) -> tuple[FakeResponse, CallDetails]:
        spec = valid.spec
        call_start = self.clock()
        limit_headers = self._take_rate_slot(state, spec, ctx.received)
        self._check_safety(valid)
        seed = valid.seed if valid.seed is not None else ctx.rng.randrange(2**32)
        images = [
            self.renderer.render(
                _render_spec(valid, seed=seed, index=index, fake_seed=self.seed),
                input_image=valid.input_image.pixels if valid.input_image else None,
                references=tuple(image.pixels for image in valid.references),
                request_id=ctx.ids.request_id,
                # Only a request that names its seed can ask for the same image again.
                repeatable=valid.seed is not None,
            )
            for index in range(valid.n)
        ]
        items, urls = _data_items(
            valid, len(images), state, ctx, request.origin, type_field=self.type_field
        )
        edit = valid.input_image
        details = replace(
            details,
            width=valid.width,
            height=valid.height,
            response_format=valid.response_format,
            images=tuple(images),
            image_media_type=MEDIA_TYPES[valid.output_format],
            urls=tuple(urls),
            input_image=edit.data if edit else None,
            input_media_type=edit.media_type if edit else None,
            input_sha256=edit.sha256 if edit else None,
            reference_sha256s=tuple(image.sha256 for image in valid.references),
        )
        state.charge(ctx, _cost(valid))
        payload = {"id": ctx.ids.request_id, "model": spec.id, "object": "list", "data": items}
        # The real API echoes the requested model string [REC]; the catalog id is the same string.
        body_bytes = json_bytes(payload)
        if valid.response_format != "url":
            body_bytes = splice_base64(body_bytes, [base64.b64encode(image) for image in images])
        headers = self.api_headers(ctx, body_bytes, stage="done", call_start=call_start)
        headers.update(limit_headers)
        response = FakeResponse(status=200, headers=sorted_headers(headers), body=body_bytes)
        return response, details

    def _fault_response(
        self, fault: Fault, state: FakeState, ctx: RequestContext, model: str | None
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
        return self.error_response(error, ctx, state)

    def _take_rate_slot(self, state: FakeState, spec: ModelSpec, now: float) -> dict[str, str]:
        """Count one request against the model's window; raise 429 when it is full."""
        model_limit = spec.rate_limit_per_minute.value
        tier = state.tier
        if self.rate_limits == "off" or (model_limit is None and self.rate_limits == "model"):
            return self._limit_headers(None, 0, tier=tier)
        limit = model_limit if model_limit is not None else TIER_IMAGES_PER_MINUTE[tier]
        slot = state.take_rate_slot(spec.id, limit, now)
        if slot.retry_after_s is not None:
            headers = {
                "Retry-After": str(slot.retry_after_s),
                "X-Ratelimit": "true",
                "X-Ratelimit-Limit": f"{limit / 60:.10g}",
                "X-Ratelimit-Remaining": "0",
                "X-Ratelimit-Reset": str(slot.retry_after_s),
            }
            if model_limit is not None:
                raise model_rate_limit(spec.id, limit, headers)
            raise dynamic_rate_limit(headers)
        return self._limit_headers(limit, slot.used, tier=tier)

    def _limit_headers(self, limit: float | None, used: int, *, tier: int) -> dict[str, str]:
        if not self.ratelimit_headers:
            return {}
        per_minute = limit if limit is not None else TIER_IMAGES_PER_MINUTE[tier]
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


def _data_items(
    valid: GenerationRequest,
    count: int,
    state: FakeState,
    ctx: RequestContext,
    origin: str,
    *,
    type_field: bool,
) -> tuple[list[dict[str, Any]], list[str]]:
    """The answer's ``data`` items (key order and timings per model family [REC]), and the
    ``/shrt/`` URLs of a URL-mode answer, each registered with the state."""
    items: list[dict[str, Any]] = []
    urls: list[str] = []
    for index in range(count):
        if valid.spec.timings.value == "milliseconds":
            timings: dict[str, Any] = {"inference": ctx.rng.randint(1500, 18000)}
        else:
            timings = {"inference": ctx.rng.uniform(0.09, 1.09)}
        if valid.response_format == "url":
            ident = short_id(ctx.rng)
            url = f"{origin}/shrt/{ident}"
            urls.append(url)
            state.register_short_id(ctx, ident, index)
            content: dict[str, Any] = {"url": url}
            if type_field:
                content["type"] = "url"
        else:
            # Left empty here; splice_base64 writes the text into the serialized body.
            content = {"b64_json": ""}
            if type_field:
                content["type"] = "b64_json"
        if valid.spec.item_order.value == "timings_first":
            items.append({"timings": timings, "index": index, **content})
        else:
            items.append({"index": index, **content, "timings": timings})
    return items, urls


def _cost(valid: GenerationRequest) -> float:
    spec = valid.spec
    # "Cost = MP × Price per MP × (Steps ÷ Default Steps)" when steps exceed the default [DOC];
    # models priced per image cost that price per image [REC GET /v1/models pricing].
    factor = max(1.0, valid.steps / max(1, spec.default_steps.value or 1))
    return spec.price.value.cost(
        width=valid.width, height=valid.height, n=valid.n, steps_factor=factor
    )


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
        reference_sha256s=tuple(image.sha256 for image in valid.references),
        fake_seed=fake_seed,
    )


def _loggable_body(body: bytes) -> Any:
    """What the log keeps of a body the gateway could not parse: whatever Python's json reads,
    unless too deep to serialize again for ``/_fake/calls``."""
    if not body:
        return None
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return parsed if json_depth(parsed) <= MAX_JSON_DEPTH else None


def model_listing(served: list[ModelSpec]) -> list[dict[str, Any]]:
    """``GET /v1/models`` as recorded on 2026-08-17 [REC]: every modality in recorded order,
    each image entry replaced by the catalog's (recorded entries as recorded), the image models
    the recording does not list (a user's, or retired ones served on request) appended."""
    by_id = {spec.id: spec for spec in served}
    listing: list[dict[str, Any]] = []
    for entry in recorded_listing():
        if entry.get("type") != "image":
            listing.append(entry)
            continue
        spec = by_id.pop(entry["id"], None)
        if spec is not None:
            listing.append(spec.listing_entry())
    listing.extend(spec.listing_entry() for spec in by_id.values())
    return listing


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
