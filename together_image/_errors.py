"""The exception tree of the client and the table mapping HTTP statuses to error classes.

Every error the package raises derives from ``TogetherImageError``. Argument mistakes raise before
any request (``InvalidArgumentError`` and friends); failed HTTP calls raise an ``APICallError``
subclass chosen by status; the retry loop wraps repeated failures in ``RetryError``. Error messages
never carry the API key: text that comes from outside passes through ``redact_secret`` first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from ._types import GenerateImageCall, ResponseMetadata

RetryReason = Literal["max_retries_exceeded", "error_not_retryable"]

_REDACTED = "***"
# A key this long cannot occur by chance inside other text, so every occurrence is the key. A
# shorter "key" (a test placeholder such as "k") is redacted only where it stands as a whole token,
# so that redaction never mangles model names or request ids that merely contain those letters.
_ALWAYS_REDACT_LENGTH = 12
_WORD_CLASS = r"A-Za-z0-9_\-"


def redact_secret(text: str, secret: str | None) -> str:
    """Replace the API key in ``text`` by ``***`` so that keys never reach a message.

    Args:
        text: Text from outside the package (a response body, a foreign exception message).
        secret: The API key in use, or ``None`` when there is none.

    Returns:
        ``text`` with every occurrence of ``secret`` replaced by ``***`` when the key has at least
        12 characters; a shorter key is replaced only where it stands as a whole token (not inside a
        longer run of letters, digits, ``_`` or ``-``).
    """
    if not secret:
        return text
    if len(secret) >= _ALWAYS_REDACT_LENGTH:
        return text.replace(secret, _REDACTED)
    token = rf"(?<![{_WORD_CLASS}]){re.escape(secret)}(?![{_WORD_CLASS}])"
    return re.sub(token, _REDACTED, text)


class TogetherImageError(Exception):
    """Base class of every error raised by ``together_image``."""


class InvalidArgumentError(TogetherImageError, ValueError):
    """An argument is invalid; raised before any request is sent.

    Attributes:
        argument: The name of the offending argument (e.g. ``"size"``).
    """

    def __init__(self, message: str, *, argument: str) -> None:
        super().__init__(message)
        self.argument = argument


class InvalidDataContentError(InvalidArgumentError):
    """An image input (or a base64 text) that cannot be decoded."""

    def __init__(self, message: str, *, argument: str = "image") -> None:
        super().__init__(message, argument=argument)


class UnsupportedFunctionalityError(TogetherImageError):
    """The request asks for something Together cannot do (e.g. mask-based editing).

    Attributes:
        functionality: Short name of the unsupported feature (e.g. ``"mask"``).
    """

    def __init__(self, message: str, *, functionality: str) -> None:
        super().__init__(message)
        self.functionality = functionality


class LoadAPIKeyError(TogetherImageError):
    """No usable API key was given or found in the environment."""


@dataclass(frozen=True, kw_only=True)
class APIErrorData:
    """The parsed ``error`` object of a Together error body.

    Attributes:
        message: ``error.message``.
        type: ``error.type`` (e.g. ``"invalid_request_error"``), if present.
        code: ``error.code`` (e.g. ``"invalid_api_key"``), if present.
        param: ``error.param``, if present.
    """

    message: str
    type: str | None = None
    code: str | None = None
    param: str | None = None


class APICallError(TogetherImageError):
    """An HTTP call to Together failed (error status, unusable body, or no response at all).

    Attributes:
        message: The error message alone (the API's ``error.message``, or the status text and a body
            excerpt when the body was not the documented JSON).
        status_code: The HTTP status, or ``None`` when no response arrived.
        url: The URL that was called.
        request_body: The JSON body that was sent (a mapping).
        response_headers: Response headers with lower-cased names (empty when no response).
        response_body: The raw response text, if any.
        data: The parsed ``error`` object, when the body had one.
        request_id: The body's ``id``, else the ``x-request-id`` or ``cf-ray`` header.
        is_retryable: Whether the retry policy may try again.
    """

    def __init__(
        self,
        message: str,
        *,
        url: str,
        request_body: Mapping[str, Any] | None = None,
        status_code: int | None = None,
        response_headers: Mapping[str, str] | None = None,
        response_body: str | None = None,
        data: APIErrorData | None = None,
        request_id: str | None = None,
        is_retryable: bool = False,
    ) -> None:
        super().__init__(_describe(message, status_code, data, request_id))
        self.message = message
        self.url = url
        self.request_body = request_body
        self.status_code = status_code
        self.response_headers: Mapping[str, str] = dict(response_headers or {})
        self.response_body = response_body
        self.data = data
        self.request_id = request_id
        self.is_retryable = is_retryable


def _describe(
    message: str, status_code: int | None, data: APIErrorData | None, request_id: str | None
) -> str:
    details = []
    if data is not None and data.type:
        details.append(f"type={data.type}")
    if data is not None and data.code:
        details.append(f"code={data.code}")
    if request_id:
        details.append(f"request_id={request_id}")
    prefix = f"HTTP {status_code}: " if status_code is not None else ""
    suffix = f" [{', '.join(details)}]" if details else ""
    return f"{prefix}{message}{suffix}"


class BadRequestError(APICallError):
    """HTTP 400: the request was malformed or had an invalid value."""


class AuthenticationError(APICallError):
    """HTTP 401: the API key is missing or invalid."""


class PaymentRequiredError(APICallError):
    """HTTP 402: the account has no credit left."""


class PermissionDeniedError(APICallError):
    """HTTP 403: the key may not use this model (e.g. build tier too low)."""


class NotFoundError(APICallError):
    """HTTP 404: unknown model or path."""


class ConflictError(APICallError):
    """HTTP 409: the request conflicts with the state of the server; retryable, as in both of
    Together's SDKs and the AI SDK."""


class UnprocessableEntityError(APICallError):
    """HTTP 422: e.g. the safety checker rejected the output."""


class RateLimitError(APICallError):
    """HTTP 429: a rate limit was hit."""


class InternalServerError(APICallError):
    """HTTP 5xx: a server-side failure."""


class APIConnectionError(APICallError):
    """The request never got a response (DNS, refused or reset connection...)."""


class APITimeoutError(APIConnectionError):
    """The request timed out."""


class InvalidResponseDataError(APICallError):
    """A 2xx response whose body is not the documented shape."""


class ResponseTooLargeError(APICallError):
    """An answer larger than ``max_response_bytes`` (counted after gzip/deflate decoding).

    Not retryable: the same request would most likely bring the same answer.
    """


_STATUS_ERRORS: Mapping[int, type[APICallError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: PaymentRequiredError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def error_class_for_status(status_code: int) -> type[APICallError]:
    """Pick the ``APICallError`` subclass for an HTTP error status.

    Args:
        status_code: A non-2xx HTTP status.

    Returns:
        The status-specific class, ``InternalServerError`` for any 5xx, else ``APICallError``.
    """
    if status_code >= 500:
        return InternalServerError
    return _STATUS_ERRORS.get(status_code, APICallError)


class AbortError(TogetherImageError):
    """The caller set the ``abort_signal``: waiting stopped and calls in flight were abandoned.

    Never retried.
    """


class RetryError(TogetherImageError):
    """A call failed on every permitted attempt, or failed for good after a retryable failure.

    Attributes:
        reason: ``"max_retries_exceeded"`` or ``"error_not_retryable"``.
        errors: The error of every attempt, in order.
    """

    def __init__(self, message: str, *, reason: RetryReason, errors: Sequence[Exception]) -> None:
        super().__init__(message)
        self.reason: RetryReason = reason
        self.errors: tuple[Exception, ...] = tuple(errors)

    @property
    def last_error(self) -> Exception:
        """The error of the final attempt."""
        return self.errors[-1]


class NoImageGeneratedError(TogetherImageError):
    """Every call succeeded but no image came back (an empty answer is retried first).

    Also the error of one attempt whose answer held no image, which the retry policy retries like
    a failed call (as the AI SDK does); it then appears in ``RetryError.errors``.

    Attributes:
        responses: Metadata of each answer that arrived (one per entry of ``calls``).
        calls: Each provider call that answered, in call order (the AI SDK 7's ``calls``).
    """

    def __init__(
        self,
        message: str = "No image generated.",
        *,
        responses: Sequence[ResponseMetadata] = (),
        calls: Sequence[GenerateImageCall] = (),
    ) -> None:
        super().__init__(message)
        self.responses: tuple[ResponseMetadata, ...] = tuple(responses)
        self.calls: tuple[GenerateImageCall, ...] = tuple(calls)


def describe_value(value: object) -> str:
    """A wrong argument as an error message quotes it: a string (cut after 40 characters) or a
    number as written, anything else by its type, never the repr of an arbitrary object."""
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else f"{value[:40]!r}... ({len(value)} characters)"
    if isinstance(value, (float, bool)) or (isinstance(value, int) and abs(value) < 10**18):
        return repr(value)
    return type(value).__name__
