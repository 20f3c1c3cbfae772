"""The fake's errors: one base class, the API's error answers, and how they become responses.

``FakeTogetherError`` is the base of every exception the fake package raises on purpose (cassette
problems, unavailable pytest modes, injected WSGI aborts, errors answered to clients).
``FakeAPIError`` is an answer in the real error shape; the named constructors below build the
real ones, with their texts and provenance, so a fault and a real check produce the same bytes.
``error_response()`` is the only place an error becomes a ``FakeResponse``: callers pass the
header recipe of where it is answered (the backend's API headers, the gateway's, or none).
"""

from __future__ import annotations

import http
import random
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal

from together_image.models import TEXTS, non_serverless_message
from together_image_fake._wire import (
    JSON_CONTENT_TYPE,
    FakeResponse,
    WireIds,
    etag,
    http_date,
    json_bytes,
    sorted_headers,
)

Stage = Literal["gateway", "backend"]
HeaderRecipe = Callable[[bytes], Mapping[str, str]]
"""Builds an error answer's headers from its body (``Etag`` and ``Content-Length`` depend on it)."""


class FakeTogetherError(Exception):
    """Base class of every error the fake package raises on purpose."""


class FakeAPIError(FakeTogetherError):
    """An error answer of the fake, carrying everything needed to write the real error body.

    Args:
        status: HTTP status.
        message: ``error.message``.
        type: ``error.type``.
        code: ``error.code``.
        param: ``error.param`` (always ``null`` in real traffic [REC]).
        stage: ``"gateway"`` for answers given before the image backend is reached (auth, unknown
            model: fewer headers [REC]); ``"backend"`` for the rest.
        headers: Extra response headers (``Retry-After``, ``X-Ratelimit-*``, ``X-Api-Retries``).
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        stage: Stage = "backend",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {type}: {message}")
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.stage: Stage = stage
        self.headers: dict[str, str] = dict(headers or {})

    def body(self, request_id: str | None) -> dict[str, Any]:
        """Return the real error body: ``{"id", "error": {"message", "type", "param", "code"}}``."""
        return {
            "id": request_id,
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            },
        }

    def summary(self) -> dict[str, str | None]:
        """Return ``{"message", "type", "code"}`` as the call log records it."""
        return {"message": self.message, "type": self.type, "code": self.code}


# Real texts [REC]/[3P]; the tag is in each comment.
INVALID_API_KEY_MESSAGE = (  # [REC] 2025-12 -> 2026-05
    "Invalid API key provided. You can find your API key at https://api.together.ai/settings/api-keys."
)


def invalid_api_key() -> FakeAPIError:
    """401 for a missing or unknown key [REC]."""
    return FakeAPIError(401, INVALID_API_KEY_MESSAGE, code="invalid_api_key", stage="gateway")


def model_not_available(model: str) -> FakeAPIError:
    """404 for an id Together does not serve, with the recorded template [REC]."""
    return FakeAPIError(
        404,
        f"Unable to access model {model}. Please visit https://api.together.ai/models to view the "
        "list of supported models.",
        code="model_not_available",
        stage="gateway",
    )


def non_serverless_model(model: str) -> FakeAPIError:
    """400 ``model_not_available`` for a model served only on dedicated endpoints [3P template;
    the status is 400, not the 404 of an unknown id]."""
    return FakeAPIError(
        400, non_serverless_message(model), code="model_not_available", stage="gateway"
    )


def server_error() -> FakeAPIError:
    """500 ``Internal server error`` as for a chat model on the image endpoint [REC]."""
    return FakeAPIError(
        500, "Internal server error", type="server_error", headers={"X-Api-Retries": "10"}
    )


CREDIT_LIMIT_MESSAGE = TEXTS["credit_limit_2026"].value
"""The 2026 text of the 402 [3P verbatim 2026-05-02]: the default."""
CREDIT_LIMIT_MESSAGE_2025 = (  # [3P] expectedparrot/edsl #2098, 2025-07 (fixtures/credit-limit-402)
    "Credit limit exceeded. Please navigate to https://api.together.xyz/settings/billing "
    "to add credit or upgrade your plan."
)
DYNAMIC_RATE_LIMIT_MESSAGE = TEXTS["dynamic_rate_limit_2026"].value
"""The 2026 text of the dynamic 429 [3P measured 2026-09-06 on Wan2.6-image]: the default."""


def credit_limit(message: str = CREDIT_LIMIT_MESSAGE) -> FakeAPIError:
    """402 when the account has no credit: the 2026 text [3P] by default."""
    return FakeAPIError(402, message, type="credit_limit")


def request_blocked(min_tier: int) -> FakeAPIError:
    """403 for a model above the account's build tier [3P text; status INF]."""
    return FakeAPIError(
        403,
        f"Access to this model is allowed for build tier {min_tier} and above. Also please make "
        "sure that you have a positive balance. Please upgrade your tier by buying credits at "
        "https://api.together.xyz/settings/billing.",
        type="request_blocked",
    )


def model_rate_limit(
    model: str, per_minute: float, headers: Mapping[str, str] | None = None
) -> FakeAPIError:
    """429 for a model-specific rate limit, with the third-party-quoted template [3P]."""
    return FakeAPIError(
        429,
        f"You have reached the rate limit specific to this model {model}. The maximum rate limit "
        f"for this model is {per_minute:.1f} queries per minute. This limit differs from the "
        "general rate limits published at Together AI rate limits documentation "
        "(https://docs.together.ai/docs/rate-limits). For inquiries about increasing your "
        "model-specific rate limit, please contact our sales team "
        "(https://www.together.ai/forms/contact-sales)",
        type="model_rate_limit",
        headers=headers,
    )


def dynamic_rate_limit(headers: Mapping[str, str] | None = None) -> FakeAPIError:
    """429 for the account-wide dynamic limit: ``type`` per the 2026 docs [DOC], the 2026 text
    measured on Wan2.6-image [3P]."""
    return FakeAPIError(
        429, DYNAMIC_RATE_LIMIT_MESSAGE, type="dynamic_request_limited", headers=headers
    )


def safety_checker() -> FakeAPIError:
    """422 when the safety checker triggers [DOC status; INF text]."""
    return FakeAPIError(
        422,
        "The safety checker flagged this request as potentially NSFW content. Change the prompt, "
        "or set disable_safety_checker to true where the model allows it.",
    )


def invalid_value(field: str, detail: str) -> FakeAPIError:
    """400 in the style of the recorded width error [REC form]."""
    return FakeAPIError(400, f"Invalid value for '{field}' parameter. {detail}")


def missing_parameter(field: str, detail: str = "") -> FakeAPIError:
    """400 for a missing required field [INF text]."""
    suffix = f" {detail}" if detail else ""
    return FakeAPIError(400, f"Missing required parameter '{field}'.{suffix}")


NAMED_ERRORS: tuple[str, ...] = (
    "bad_request",
    "invalid_api_key",
    "credit_limit",
    "request_blocked",
    "model_not_available",
    "payload_too_large",
    "safety_checker",
    "rate_limited",
    "dynamic_request_limited",
    "server_error",
    "overloaded",
    "gateway_timeout",
)
"""Names a fault may give in ``error`` (``rate_limited`` is the model-specific 429)."""

_STATUS_TO_NAME = {
    400: "bad_request",
    401: "invalid_api_key",
    402: "credit_limit",
    403: "request_blocked",
    404: "model_not_available",
    413: "payload_too_large",
    422: "safety_checker",
    429: "rate_limited",
    500: "server_error",
    503: "overloaded",
    504: "gateway_timeout",
}


def named_error(name: str, *, model: str | None, status: int | None = None) -> FakeAPIError:
    """Build the error a fault names.

    Args:
        name: One of ``NAMED_ERRORS``.
        model: The requested model (used in texts that name it).
        status: Overrides the status of the named error.

    Returns:
        The error.

    Raises:
        ValueError: If ``name`` is unknown.
    """
    model_text = model or "black-forest-labs/FLUX.1-schnell"
    limit_headers = {"Retry-After": "10", "X-Ratelimit": "true", "X-Ratelimit-Remaining": "0"}
    builders: dict[str, Callable[[], FakeAPIError]] = {
        "bad_request": lambda: FakeAPIError(400, "Invalid request."),
        "invalid_api_key": invalid_api_key,
        "credit_limit": credit_limit,
        "request_blocked": lambda: request_blocked(2),
        "model_not_available": lambda: model_not_available(model_text),
        "payload_too_large": lambda: FakeAPIError(413, "Request entity too large"),  # [3P]
        "safety_checker": safety_checker,
        "rate_limited": lambda: model_rate_limit(model_text, 6.0, limit_headers),
        "dynamic_request_limited": lambda: dynamic_rate_limit(limit_headers),
        "server_error": server_error,
        "overloaded": lambda: FakeAPIError(503, "Engine Overloaded", type="server_error"),  # [DOC]
        "gateway_timeout": lambda: FakeAPIError(504, "Timeout", type="server_error"),  # [DOC]
    }
    if name not in builders:
        raise ValueError(f"Unknown error name {name!r}; expected one of {list(NAMED_ERRORS)}")
    error = builders[name]()
    if status is not None:
        error.status = status
    return error


def error_for_status(status: int, *, model: str | None) -> FakeAPIError:
    """Return the usual error for ``status`` (a named one where it exists, else a generic one)."""
    if status in _STATUS_TO_NAME:
        return named_error(_STATUS_TO_NAME[status], model=model)
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return FakeAPIError(
        status, phrase, type="server_error" if status >= 500 else "invalid_request_error"
    )


class RequestRejected(FakeAPIError):
    """A request an adapter answers itself, before the backend sees it (malformed framing, a body
    over the limit): a gateway error in the real shape.

    Attributes:
        status: The HTTP status to answer with.
        message: The error message for the body.
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(status, message, stage="gateway")

    def response(self) -> FakeResponse:
        """The answer in the real error shape, with the gateway's headers."""
        return gateway_error_response(self)


def error_response(
    error: FakeAPIError, *, request_id: str | None, headers: HeaderRecipe | None = None
) -> FakeResponse:
    """Serialize an error answer: the real body, the headers of where it is answered.

    Args:
        error: The error.
        request_id: The body's ``id`` (``None`` writes ``null``).
        headers: The header recipe; ``None`` sends only ``Content-Type`` and ``Content-Length``.
            The error's own headers (``Retry-After``…) are added last.

    Returns:
        The response, headers in wire order.
    """
    body = json_bytes(error.body(request_id))
    if headers is None:
        merged = {"Content-Type": JSON_CONTENT_TYPE, "Content-Length": str(len(body))}
    else:
        merged = dict(headers(body))
    merged.update(error.headers)
    return FakeResponse(status=error.status, headers=sorted_headers(merged), body=body)


def gateway_error_response(error: FakeAPIError) -> FakeResponse:
    """An error answered outside the backend (request framing, a failing backend), with fresh ids
    and the gateway's headers (``Cf-Ray``, ``Etag``...)."""
    ids = WireIds.draw(random.Random())

    def gateway_headers(body: bytes) -> dict[str, str]:
        return {
            "Cf-Ray": ids.ray,
            "Content-Length": str(len(body)),
            "Content-Type": JSON_CONTENT_TYPE,
            "Date": http_date(time.time()),
            "Etag": etag(body),
            "Server": "cloudflare",
        }

    return error_response(error, request_id=ids.request_id, headers=gateway_headers)
