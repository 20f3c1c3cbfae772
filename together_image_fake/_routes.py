"""The one route table every fake mode uses, and the handlers of the ``/_fake/`` control API.

Adapters normalise paths so the API lives under ``/v1`` and hand the request to
``FakeTogether.handle()``, which calls ``dispatch()`` here. API routes (``/v1/…``, ``/shrt/…``) go
to the backend and are logged; the control API (no auth, not logged) reads and drives the
backend's state for non-Python clients and the dashboard. An unknown route answers 404 in the real
error shape, naming every route the fake serves.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from together_image_fake import _dashboard, _openapi
from together_image_fake._wire import JSON_CONTENT_TYPE, FakeRequest, FakeResponse, json_bytes

if TYPE_CHECKING:
    from together_image_fake._backend import FakeTogether

Handler = Callable[["FakeTogether", FakeRequest, Mapping[str, str]], FakeResponse]

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


# ---- API handlers: thin calls into the backend ------------------------------------------------


def _generate(fake: FakeTogether, request: FakeRequest, params: Mapping[str, str]) -> FakeResponse:
    return fake._generate(request)


def _list_models(
    fake: FakeTogether, request: FakeRequest, params: Mapping[str, str]
) -> FakeResponse:
    return fake._list_models(request)


def _cdn_image(fake: FakeTogether, request: FakeRequest, params: Mapping[str, str]) -> FakeResponse:
    return fake._cdn_image(request, params["id"])


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


def _dashboard_page(
    fake: FakeTogether, request: FakeRequest, params: Mapping[str, str]
) -> FakeResponse:
    body = _dashboard.dashboard_html().encode("utf-8")
    headers = (
        ("Cache-Control", "no-store"),
        ("Content-Length", str(len(body))),
        ("Content-Type", "text/html; charset=utf-8"),
    )
    return FakeResponse(status=200, headers=headers, body=body)


def _calls(fake: FakeTogether, request: FakeRequest, params: Mapping[str, str]) -> FakeResponse:
    return _json([call.to_json() for call in fake.calls])


def _reset(fake: FakeTogether, request: FakeRequest, params: Mapping[str, str]) -> FakeResponse:
    fake.reset()
    return _json({"reset": True})


def _queue_faults(
    fake: FakeTogether, request: FakeRequest, params: Mapping[str, str]
) -> FakeResponse:
    from together_image_fake._backend import Fault

    try:
        data = json.loads(request.body)
        items = data if isinstance(data, list) else [data]
        faults = [Fault.from_json(item) for item in items]
    except (ValueError, TypeError, RecursionError) as error:
        return fake._control_error(
            400, f"Invalid fault: expected a fault object or a list of them ({error})."
        )
    return _json({"queued": fake.queue_faults(faults)})


def _list_faults(
    fake: FakeTogether, request: FakeRequest, params: Mapping[str, str]
) -> FakeResponse:
    return _json([fault.to_json() for fault in fake.pending_faults()])


def _models(fake: FakeTogether, request: FakeRequest, params: Mapping[str, str]) -> FakeResponse:
    return _json([spec.to_json() for spec in fake.catalog.models.values()])


def _image(fake: FakeTogether, request: FakeRequest, params: Mapping[str, str]) -> FakeResponse:
    call = fake.find_call(int(params["seq"]))
    index = int(params["index"])
    if call is None or index >= len(call.images):
        return fake._control_error(
            404, f"No image {index} for call {params['seq']} (unknown, failed or evicted)."
        )
    return _bytes(call.images[index], call.image_media_type or "application/octet-stream")


def _input(fake: FakeTogether, request: FakeRequest, params: Mapping[str, str]) -> FakeResponse:
    call = fake.find_call(int(params["seq"]))
    if call is None or call.input_image is None:
        return fake._control_error(
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
        handler=_openapi.serve_openapi,
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


def dispatch(fake: FakeTogether, request: FakeRequest) -> FakeResponse:
    """Route ``request`` to its handler, or answer 404 naming the fake's routes."""
    for route in ROUTES:
        params = route.match(request.method, request.path)
        if params is not None:
            return route.handler(fake, request, params)
    return fake._unknown_route(
        request,
        f"Unknown route {request.method} {request.path}. The fake serves: {describe_routes()}.",
    )
