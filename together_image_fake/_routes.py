"""The one route table every fake mode uses, and the handlers of the ``/_fake/`` control API.

Adapters normalise paths so the API lives under ``/v1`` and hand the request to
``FakeTogether.handle()``, which calls ``dispatch()`` here. API routes (``/v1/…``, ``/shrt/…``) go
to the fake's *responder* (the image generator, a cassette player or a proxy: see ``Responder``),
which answers and logs them; the control API (no auth, not logged) reads and drives the fake's
``FakeState`` for non-Python clients and the dashboard. Handlers call public methods only. An
unknown route goes to the responder too (the generator answers 404 in the real error shape,
naming every route the fake serves); an unknown ``/_fake/`` path is the control API's own 404.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from together_image_fake import _dashboard, _openapi
from together_image_fake._errors import FakeAPIError, error_response
from together_image_fake._state import FakeState, Fault
from together_image_fake._wire import (
    JSON_CONTENT_TYPE,
    FakeRequest,
    FakeResponse,
    WireIds,
    json_bytes,
)


class Responder(Protocol):
    """What answers the API routes of a fake: the image generator, a cassette player, a proxy.

    Each method gets the request and the fake's ``FakeState`` (to draw a ``RequestContext``, take
    faults and log the call) and returns the answer.
    """

    def generate(self, request: FakeRequest, state: FakeState) -> FakeResponse:
        """``POST /v1/images/generations``."""

    def list_models(self, request: FakeRequest, state: FakeState) -> FakeResponse:
        """``GET /v1/models``."""

    def cdn_image(self, request: FakeRequest, state: FakeState, ident: str) -> FakeResponse:
        """``GET /shrt/<ident>``."""

    def unknown_route(self, request: FakeRequest, state: FakeState, message: str) -> FakeResponse:
        """Any other path outside the control API (``message`` names every route served)."""

    def reset(self) -> None:
        """Forget per-run state (the fake's ``reset()`` calls it)."""

    def close(self) -> None:
        """Release resources (connections) when the fake stops."""


class Served(Protocol):
    """The fake as the route table sees it: its state, its responder, and ``reset()``."""

    @property
    def state(self) -> FakeState:
        """The fake's state."""

    @property
    def responder(self) -> Responder:
        """What answers the API routes."""

    def reset(self) -> None:
        """Reset state and responder."""


Handler = Callable[[Served, FakeRequest, Mapping[str, str]], FakeResponse]

_PARAM = re.compile(r"\{(\w+)\}")
_PARAM_PATTERNS = {"id": "[A-Za-z0-9]{1,64}", "seq": "[0-9]{1,12}", "index": "[0-9]{1,6}"}


@dataclass(frozen=True, kw_only=True)
class Route:
    """One route.

    Attributes:
        method: HTTP method.
        template: Path with ``{name}`` parameters, e.g. ``/shrt/{id}``.
        summary: What it does, for listings and 404 messages.
        handler: ``handler(fake, request, params) -> FakeResponse``.
    """

    method: str
    template: str
    summary: str
    handler: Handler
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        regex = _PARAM.sub(
            lambda m: f"(?P<{m.group(1)}>{_PARAM_PATTERNS[m.group(1)]})", self.template
        )
        object.__setattr__(self, "pattern", re.compile(f"^{regex}$"))

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """Return the path parameters if ``method path`` is this route, else ``None``."""
        if method != self.method:
            return None
        found = self.pattern.match(path)
        return found.groupdict() if found else None


# ---- API handlers: the responder answers ------------------------------------------------------


def _generate(fake: Served, request: FakeRequest, params: Mapping[str, str]) -> FakeResponse:
    return fake.responder.generate(request, fake.state)


def _list_models(fake: Served, request: FakeRequest, params: Mapping[str, str]) -> FakeResponse:
    return fake.responder.list_models(request, fake.state)


def _cdn_image(fake: Served, request: FakeRequest, params: Mapping[str, str]) -> FakeResponse:
    return fake.responder.cdn_image(request, fake.state, params["id"])


def _openapi_document(
    fake: Served, request: FakeRequest, params: Mapping[str, str]
) -> FakeResponse:
    return _openapi.serve_openapi(fake.state.catalog.models, request)


# ---- control API ------------------------------------------------------------------------------


def _json(obj: object, status: int = 200) -> FakeResponse:
    body = json_bytes(obj, pretty=False)
    headers = (
        ("Cache-Control", "no-store"),
        ("Content-Length", str(len(body))),
        ("Content-Type", JSON_CONTENT_TYPE),
    )
    return FakeResponse(status=status, headers=headers, body=body)


def _bytes(data: bytes, media_type: str) -> FakeResponse:
    headers = (
        ("Cache-Control", "no-store"),
        ("Content-Length", str(len(data))),
        ("Content-Type", media_type),
    )
    return FakeResponse(status=200, headers=headers, body=data)


def _dashboard_page(fake: Served, request: FakeRequest, params: Mapping[str, str]) -> FakeResponse:
    body = _dashboard.dashboard_html().encode("utf-8")
    headers = (
        ("Cache-Control", "no-store"),
        ("Content-Length", str(len(body))),
        ("Content-Type", "text/html; charset=utf-8"),
    )
    return FakeResponse(status=200, headers=headers, body=body)


def _calls(fake: Served, request: FakeRequest, params: Mapping[str, str]) -> FakeResponse:
    return _json([call.to_json() for call in fake.state.calls])


def _reset(fake: Served, request: FakeRequest, params: Mapping[str, str]) -> FakeResponse:
    fake.reset()
    return _json({"reset": True})


def _queue_faults(fake: Served, request: FakeRequest, params: Mapping[str, str]) -> FakeResponse:
    try:
        data = json.loads(request.body)
        items = data if isinstance(data, list) else [data]
        faults = [Fault.from_json(item) for item in items]
    except (ValueError, TypeError, RecursionError) as error:
        return control_error(
            400, f"Invalid fault: expected a fault object or a list of them ({error})."
        )
    return _json({"queued": fake.state.queue_faults(faults)})


def _list_faults(fake: Served, request: FakeRequest, params: Mapping[str, str]) -> FakeResponse:
    return _json([fault.to_json() for fault in fake.state.pending_faults()])


def _models(fake: Served, request: FakeRequest, params: Mapping[str, str]) -> FakeResponse:
    return _json([spec.to_json() for spec in fake.state.catalog.models.values()])


def _image(fake: Served, request: FakeRequest, params: Mapping[str, str]) -> FakeResponse:
    call = fake.state.find_call(int(params["seq"]))
    index = int(params["index"])
    if call is None or index >= len(call.images):
        return control_error(
            404, f"No image {index} for call {params['seq']} (unknown, failed or evicted)."
        )
    return _bytes(call.images[index], call.image_media_type or "application/octet-stream")


def _input(fake: Served, request: FakeRequest, params: Mapping[str, str]) -> FakeResponse:
    call = fake.state.find_call(int(params["seq"]))
    if call is None or call.input_image is None:
        return control_error(
            404, f"No input image for call {params['seq']} (unknown, not an edit, or evicted)."
        )
    return _bytes(call.input_image, call.input_media_type or "application/octet-stream")


ROUTES: tuple[Route, ...] = (
    Route(
        method="POST",
        template="/v1/images/generations",
        summary="generate images",
        handler=_generate,
    ),
    Route(method="GET", template="/v1/models", summary="list image models", handler=_list_models),
    Route(
        method="GET",
        template="/shrt/{id}",
        summary="image of a url-mode answer",
        handler=_cdn_image,
    ),
    Route(
        method="GET",
        template="/openapi.json",
        summary="OpenAPI description",
        handler=_openapi_document,
    ),
    Route(method="GET", template="/_fake/", summary="dashboard", handler=_dashboard_page),
    Route(method="GET", template="/_fake", summary="dashboard", handler=_dashboard_page),
    Route(method="GET", template="/_fake/calls", summary="call log", handler=_calls),
    Route(method="POST", template="/_fake/reset", summary="reset state", handler=_reset),
    Route(method="GET", template="/_fake/faults", summary="pending faults", handler=_list_faults),
    Route(method="POST", template="/_fake/faults", summary="queue faults", handler=_queue_faults),
    Route(
        method="GET", template="/_fake/models", summary="catalog with provenance", handler=_models
    ),
    Route(
        method="GET",
        template="/_fake/images/{seq}/{index}",
        summary="an image a call returned",
        handler=_image,
    ),
    Route(
        method="GET",
        template="/_fake/inputs/{seq}",
        summary="an edit's input image",
        handler=_input,
    ),
)
"""Every route of the fake, API first."""


def describe_routes() -> str:
    """Return ``"POST /v1/images/generations, GET /v1/models, …"``."""
    return ", ".join(
        f"{route.method} {route.template}" for route in ROUTES if route.template != "/_fake"
    )


def dispatch(fake: Served, request: FakeRequest) -> FakeResponse:
    """Route ``request`` to its handler, or answer 404 naming the fake's routes."""
    for route in ROUTES:
        params = route.match(request.method, request.path)
        if params is not None:
            return route.handler(fake, request, params)
    message = (
        f"Unknown route {request.method} {request.path}. The fake serves: {describe_routes()}."
    )
    if request.path.startswith("/_fake"):
        # The control API is the fake's own: its 404 is not an API call, so it is not logged.
        return control_error(404, message, code="not_found")
    return fake.responder.unknown_route(request, fake.state, message)


def control_error(status: int, message: str, *, code: str | None = None) -> FakeResponse:
    """An error of the control API, in the real error shape with a fresh id (not logged)."""
    ids = WireIds.draw(random.Random())
    return error_response(FakeAPIError(status, message, code=code), request_id=ids.request_id)
