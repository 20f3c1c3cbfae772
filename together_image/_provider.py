"""The Together provider: ``create_togetherai()``, ``togetherai``, image models and the raw client.

``TogetherAIImageModel.do_generate()`` makes exactly one ``POST {base}/images/generations`` with the
AI SDK's body rules [3P vercel/ai togetherai-image-model.ts]: ``model``, ``prompt``, ``seed`` if
given, ``n`` only above 1, ``width``/``height`` from ``size``, ``image_url`` from the first input
image, ``response_format: "base64"``, then the ``togetherai`` provider options merged last.
``TogetherImageClient`` exposes the same endpoint raw (``.images.generate(**wire_fields)``). Both
share ``_Connection``, which resolves the key and base URL on every request, merges headers, sends,
and turns error statuses and malformed bodies into the typed errors.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from types import MappingProxyType
from typing import Any, cast
from urllib.parse import urlsplit

from ._config import (
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    check_latin1,
    merge_headers,
    resolve_api_key,
    resolve_base_url,
    user_agent,
    validate_base_url,
    validate_timeout,
)
from ._errors import (
    APICallError,
    APIErrorData,
    InvalidArgumentError,
    InvalidDataContentError,
    InvalidResponseDataError,
    LoadAPIKeyError,
    UnsupportedFunctionalityError,
    describe_value,
    error_class_for_status,
    redact_secret,
)
from ._inputs import (
    NormalizedPrompt,
    normalize_images,
    normalize_prompt,
    parse_size,
    validate_aspect_ratio,
    validate_count,
    validate_seed,
)
from ._media import check_base64, detect_media_type, encode_base64
from ._retry import RetryPolicy, is_retryable_response, run_with_retries
from ._shaping import drop_rejected, route_aspect_ratio, route_images
from ._transport import HTTPResponse, HTTPSession, Transport
from ._types import (
    NOT_GIVEN,
    AbortSignal,
    ImageCallOptions,
    ImageInput,
    ImageModelResult,
    ImageResponse,
    NotGiven,
    ResponseMetadata,
    WireFormatError,
)
from ._types import Warning as ImageWarning
from .models import model_params

PROVIDER_OPTIONS_KEY = "togetherai"
GENERATIONS_PATH = "/images/generations"

MASK_MESSAGE = (
    "Together AI does not support mask-based image editing. Use FLUX Kontext models (e.g., "
    "black-forest-labs/FLUX.1-kontext-pro) with a reference image and descriptive prompt instead."
)

_EXCERPT_LENGTH = 200
_NUMBER = (int, float)
# Types of the documented option keys [DOC OPENAPI; 3P AI SDK options schema]; None is always
# allowed (sent as JSON null to clear a field). Other keys pass through unchecked.
_OPTION_TYPES: Mapping[str, tuple[type, ...]] = {
    "steps": (int,),
    "guidance": _NUMBER,
    "guidance_scale": _NUMBER,
    "negative_prompt": (str,),
    "disable_safety_checker": (bool,),
}


def parse_provider_options(provider_options: object) -> dict[str, Any]:
    """Extract and check the ``togetherai`` entry of ``provider_options``.

    Args:
        provider_options: ``None`` or a mapping of provider name to options; entries of other
            providers are ignored.

    Returns:
        The ``togetherai`` options as a new dict (empty when absent or ``None``).

    Raises:
        InvalidArgumentError: Not mappings, non-string keys, a documented key with the wrong type
            (e.g. ``steps="4"``), or a value JSON cannot represent (NaN, a set, an object...).
    """
    if provider_options is None:
        return {}
    if not isinstance(provider_options, Mapping):
        raise InvalidArgumentError(
            "provider_options must be a mapping like {'togetherai': {'steps': 4}}, got "
            f"{type(provider_options).__name__}.",
            argument="provider_options",
        )
    options = provider_options.get(PROVIDER_OPTIONS_KEY)
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise InvalidArgumentError(
            f"invalid togetherai provider options: expected a mapping, got "
            f"{type(options).__name__}.",
            argument="provider_options",
        )
    for key, value in options.items():
        if not isinstance(key, str):
            raise InvalidArgumentError(
                f"invalid togetherai provider options: keys must be strings, got "
                f"{describe_value(key)}.",
                argument="provider_options",
            )
        expected = _OPTION_TYPES.get(key)
        if expected is not None and not _has_option_type(value, expected):
            names = " or ".join(kind.__name__ for kind in expected)
            raise InvalidArgumentError(
                f"invalid togetherai provider options: {key!r} must be {names} or None, got "
                f"{describe_value(value)}.",
                argument="provider_options",
            )
    try:
        encode_body(options)
    except (TypeError, ValueError) as error:
        raise InvalidArgumentError(
            f"invalid togetherai provider options: values must be JSON-serializable: {error}.",
            argument="provider_options",
        ) from error
    return dict(options)


def _has_option_type(value: object, expected: tuple[type, ...]) -> bool:
    if value is None:
        return True
    if isinstance(value, bool):  # bool is an int subclass, but True is no step count
        return bool in expected
    return isinstance(value, expected)


def parse_call_options(
    *,
    prompt: object,
    size: object = None,
    aspect_ratio: object = None,
    seed: object = None,
    provider_options: object = None,
    headers: object = None,
    timeout: object = NOT_GIVEN,
    abort_signal: object = None,
) -> ImageCallOptions:
    """Check and normalize the arguments of a generation once, before any request.

    Args:
        prompt: A string, an ``ImagePrompt`` or a mapping with ``text``, ``images``, ``mask`` (or
            a ``NormalizedPrompt``, taken as it is).
        size: ``"WxH"`` or ``None``.
        aspect_ratio: ``"W:H"`` or ``None``.
        seed: An ``int`` or ``None``.
        provider_options: ``{"togetherai": {...}}`` or ``None``.
        headers: Call headers or ``None``.
        timeout: Seconds, ``None`` for no limit, ``NOT_GIVEN`` for the provider's.
        abort_signal: ``None`` or a ``threading.Event`` (anything with ``is_set`` and ``wait``).

    Returns:
        The parsed arguments; every input image already a ``image_url`` string.

    Raises:
        InvalidArgumentError: Any invalid argument (``InvalidDataContentError`` for an image that
            cannot be decoded).
    """
    parsed_size = parse_size(size)
    checked_aspect_ratio = validate_aspect_ratio(aspect_ratio)
    checked_seed = validate_seed(seed)
    options = parse_provider_options(provider_options)
    merge_headers(cast("Mapping[str, str | None] | None", headers))  # raises on bad headers
    checked_timeout: float | NotGiven | None = (
        timeout if isinstance(timeout, NotGiven) else validate_timeout(timeout)
    )
    signal = check_abort_signal(abort_signal)
    normalized = prompt if isinstance(prompt, NormalizedPrompt) else normalize_prompt(prompt)
    return ImageCallOptions(
        prompt=normalized.text,
        images=normalized.images,
        mask=normalized.mask,
        size=parsed_size,
        aspect_ratio=checked_aspect_ratio,
        seed=checked_seed,
        provider_options=MappingProxyType(options),
        headers=MappingProxyType(dict(cast("Mapping[str, str | None]", headers or {}))),
        timeout=checked_timeout,
        abort_signal=signal,
    )


def check_abort_signal(abort_signal: object) -> AbortSignal | None:
    """Check an ``abort_signal`` argument.

    Raises:
        InvalidArgumentError: Neither ``None`` nor an object with ``is_set()`` and ``wait()``
            (such as a ``threading.Event``).
    """
    if abort_signal is None:
        return None
    if callable(getattr(abort_signal, "is_set", None)) and callable(
        getattr(abort_signal, "wait", None)
    ):
        return cast("AbortSignal", abort_signal)
    raise InvalidArgumentError(
        f"abort_signal must be a threading.Event or None, got {type(abort_signal).__name__}.",
        argument="abort_signal",
    )


def build_request_body(
    *,
    model_id: str,
    prompt: str | None,
    n: int = 1,
    size: tuple[int, int] | None = None,
    seed: int | None = None,
    aspect_ratio: str | None = None,
    image_url: str | None = None,
    reference_images: Sequence[str] | None = None,
    options: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Build the JSON body of one generation call, in the AI SDK's key order.

    Args:
        model_id: The model.
        prompt: The prompt text; omitted when ``None``.
        n: Images for this call; sent only when above 1.
        size: ``(width, height)``; omitted when ``None``.
        seed: Omitted when ``None``.
        aspect_ratio: Together's ``aspect_ratio``; omitted when ``None``.
        image_url: The normalized first input image; omitted when ``None``.
        reference_images: The normalized input images; omitted when ``None``.
        options: The ``togetherai`` provider options, merged last so they override anything (a
            ``None`` value is kept and sent as JSON ``null``).

    Returns:
        The body as an ordered dict.
    """
    body: dict[str, Any] = {"model": model_id}
    if prompt is not None:
        body["prompt"] = prompt
    if seed is not None:
        body["seed"] = seed
    if n > 1:
        body["n"] = n
    if size is not None:
        body["width"], body["height"] = size
    if aspect_ratio is not None:
        body["aspect_ratio"] = aspect_ratio
    if image_url is not None:
        body["image_url"] = image_url
    if reference_images is not None:
        body["reference_images"] = list(reference_images)
    body["response_format"] = "base64"
    body.update(options or {})
    return body


def encode_body(body: Mapping[str, Any]) -> bytes:
    """Serialize a body as compact UTF-8 JSON (as ``JSON.stringify`` does).

    Raises:
        TypeError: A value is not JSON-serializable.
        ValueError: A float is NaN or infinite.
    """
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def _excerpt(text: str) -> str:
    compact = " ".join(text.split())
    if len(compact) <= _EXCERPT_LENGTH:
        return compact
    return compact[:_EXCERPT_LENGTH] + f"... ({len(text)} characters)"


def _optional_text(value: object) -> str | None:
    return None if value is None else str(value)


def _error_from_response(
    response: HTTPResponse, *, url: str, request_body: Mapping[str, Any], secret: str | None
) -> APICallError:
    text = redact_secret(response.text, secret)
    try:
        payload: object = json.loads(text)
    except (ValueError, RecursionError):  # not JSON, or nested too deeply to parse
        payload = None
    data: APIErrorData | None = None
    body_id: str | None = None
    if isinstance(payload, dict):
        error = payload.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            data = APIErrorData(
                message=error["message"],
                type=_optional_text(error.get("type")),
                code=_optional_text(error.get("code")),
                param=_optional_text(error.get("param")),
            )
        elif isinstance(error, str):
            data = APIErrorData(message=error)
        if isinstance(payload.get("id"), str):
            body_id = payload["id"]
    if data is not None:
        message = data.message
    elif text.strip():
        message = f"{response.reason or 'HTTP error'}: {_excerpt(text)}"
    else:
        message = response.reason or "HTTP error with an empty body"
    headers = response.headers
    return error_class_for_status(response.status_code)(
        message,
        url=url,
        request_body=request_body,
        status_code=response.status_code,
        response_headers=headers,
        response_body=text,
        data=data,
        request_id=body_id or headers.get("x-request-id") or headers.get("cf-ray"),
        is_retryable=is_retryable_response(response.status_code, headers),
    )


def _invalid_response(
    problem: str,
    response: HTTPResponse,
    *,
    url: str,
    request_body: Mapping[str, Any],
    secret: str | None,
) -> InvalidResponseDataError:
    text = redact_secret(response.text, secret)
    headers = response.headers
    return InvalidResponseDataError(
        f"Invalid response body from Together (HTTP {response.status_code}): {problem}. "
        f"Body: {_excerpt(text)!r}",
        url=url,
        request_body=request_body,
        status_code=response.status_code,
        response_headers=headers,
        response_body=text,
        request_id=headers.get("x-request-id") or headers.get("cf-ray"),
        is_retryable=False,
    )


@dataclass(frozen=True, kw_only=True)
class _Exchange:
    """One completed successful call: where it went, what came back, and the parsed body."""

    url: str
    secret: str | None
    response: HTTPResponse
    parsed: ImageResponse


class _Connection:
    """Settings shared by a provider's models or a raw client, and the one way to send a call."""

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | None,
        headers: Mapping[str, str | None] | None,
        session: HTTPSession | None,
        timeout: float | None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        if api_key is not None and not isinstance(api_key, str):
            raise LoadAPIKeyError(
                f"Together AI API key must be a string, got {type(api_key).__name__}."
            )
        if api_key is not None:
            check_latin1(api_key, what="The API key", argument="api_key")
        self._api_key = api_key
        self.max_response_bytes = validate_count(
            max_response_bytes, argument="max_response_bytes", minimum=1
        )
        self._base_url = None if base_url is None else validate_base_url(base_url)
        self._headers = merge_headers(headers)  # checked now rather than at the first request
        self.timeout = validate_timeout(timeout)
        self._transport = Transport(session)
        # Looked up at the first request, then kept: reading package metadata costs ~0.15 ms.
        self._user_agent: str | None = None

    def describe(self) -> str:
        """Return ``repr``-ready settings, never the key itself."""
        key = "given" if self._api_key is not None else "from environment"
        return f"base_url={self._base_url!r}, api_key=<{key}>, timeout={self.timeout!r}"

    def _request_headers(
        self, call_headers: Mapping[str, str | None] | None
    ) -> tuple[dict[str, str], str | None]:
        custom = merge_headers(self._headers, call_headers)
        authorization = next(
            (value for name, value in custom.items() if name.lower() == "authorization"), None
        )
        if authorization is not None:
            # The caller authenticates on their own; no key is needed, but theirs stays secret.
            secret = authorization.partition(" ")[2] or authorization
            key_header: dict[str, str] = {}
        else:
            secret = resolve_api_key(self._api_key, os.environ)
            key_header = {"Authorization": f"Bearer {secret}"}
        if self._user_agent is None:
            self._user_agent = user_agent()
        defaults = {
            "Accept": "application/json",
            "Content-Type": "application/json",
            "User-Agent": self._user_agent,
            **key_header,
        }
        return merge_headers(defaults, self._headers, call_headers), secret

    def download_image(
        self,
        url: str,
        *,
        timeout: float | NotGiven | None = NOT_GIVEN,
        abort_signal: AbortSignal | None = None,
    ) -> bytes:
        """Download one image of a URL-mode answer.

        Only ``Accept`` and ``User-Agent`` are sent: neither the key nor the provider's or the
        call's headers go to the image host (an ``Authorization`` a session carries is removed).

        Args:
            url: The image URL from the answer.
            timeout: As for ``post_generation``.
            abort_signal: As for ``post_generation``.

        Returns:
            The image bytes (at most ``max_response_bytes``).

        Raises:
            InvalidResponseDataError: Not an http(s) URL, or what arrived is no image.
            APICallError: An error status (its status-specific class), a connection or timeout
                error, ``ResponseTooLargeError``.
            AbortError: ``abort_signal`` was set.
        """
        seconds = self.timeout if isinstance(timeout, NotGiven) else validate_timeout(timeout)
        if urlsplit(url).scheme.lower() not in ("http", "https"):
            raise InvalidResponseDataError(
                f"The answer's image URL is not an http(s) URL: {_excerpt(url)!r}.",
                url=url,
                is_retryable=False,
            )
        if self._user_agent is None:
            self._user_agent = user_agent()
        response = self._transport.request(
            "GET",
            url,
            headers={"Accept": "image/*", "User-Agent": self._user_agent, "Authorization": None},
            timeout=seconds,
            max_bytes=self.max_response_bytes,
            abort_signal=abort_signal,
        )
        if not 200 <= response.status_code < 300:
            raise _error_from_response(response, url=url, request_body={}, secret=None)
        if detect_media_type(response.content) is None:
            raise InvalidResponseDataError(
                f"The image at {url} is not an image: {len(response.content)} bytes starting "
                f"{response.content[:8].hex(' ') or '(none)'} "
                f"(Content-Type {response.headers.get('content-type', 'not given')}).",
                url=url,
                status_code=response.status_code,
                response_headers=response.headers,
                is_retryable=False,
            )
        return response.content

    def post_generation(
        self,
        body: Mapping[str, Any],
        *,
        headers: Mapping[str, str | None] | None = None,
        timeout: float | NotGiven | None = NOT_GIVEN,
        abort_signal: AbortSignal | None = None,
    ) -> _Exchange:
        """Send one ``POST /images/generations`` and parse a successful answer.

        Raises:
            LoadAPIKeyError: No key (and no ``Authorization`` header).
            InvalidArgumentError: A bad base URL in ``TOGETHER_BASE_URL``, headers or timeout, or
                a key HTTP cannot carry.
            APICallError: The status-specific subclass for an error status (any status outside
                2xx, 3xx included); a connection or timeout error; ``ResponseTooLargeError``;
                ``InvalidResponseDataError`` for a 2xx body of the wrong shape.
            AbortError: ``abort_signal`` was set.
        """
        seconds = self.timeout if isinstance(timeout, NotGiven) else validate_timeout(timeout)
        url = resolve_base_url(self._base_url, os.environ) + GENERATIONS_PATH
        request_headers, secret = self._request_headers(headers)
        try:
            encoded = encode_body(body)
        except (TypeError, ValueError) as error:
            raise InvalidArgumentError(
                f"request fields must be JSON-serializable: {error}.", argument="body"
            ) from error
        response = self._transport.request(
            "POST",
            url,
            body=encoded,
            headers=request_headers,
            timeout=seconds,
            max_bytes=self.max_response_bytes,
            abort_signal=abort_signal,
            request_body=body,
            secret=secret,
        )
        if not 200 <= response.status_code < 300:
            raise _error_from_response(response, url=url, request_body=body, secret=secret)
        try:
            parsed = ImageResponse.from_wire(json.loads(response.text))
        except (ValueError, RecursionError) as error:  # JSONDecodeError, WireFormatError
            if isinstance(error, WireFormatError):
                problem = str(error)
            elif isinstance(error, RecursionError):
                problem = "the JSON is nested too deeply to parse"
            else:
                problem = "the body is not JSON"
            raise _invalid_response(
                problem, response, url=url, request_body=body, secret=secret
            ) from error
        return _Exchange(url=url, secret=secret, response=response, parsed=parsed)


class TogetherAIImageModel:
    """A Together image model: one ``do_generate()`` is one HTTP call.

    Attributes:
        model_id: The model id sent as ``model`` (e.g. ``"black-forest-labs/FLUX.1-schnell"``).
        provider: ``"togetherai.image"``.
        max_images_per_call: 1, as in the AI SDK: ``generate_image(n=4)`` makes 4 calls.
    """

    provider = "togetherai.image"
    max_images_per_call = 1

    def __init__(
        self, model_id: str, connection: _Connection, *, send_unsupported: bool = False
    ) -> None:
        """Create a model; use ``provider.image(model_id)`` instead of calling this directly."""
        self.model_id = model_id
        self._connection = connection
        self.send_unsupported = send_unsupported
        # What the per-model table knows about this model (None: unknown, sent as the AI SDK does).
        self.params = model_params(model_id)

    def __repr__(self) -> str:
        return f"TogetherAIImageModel(model_id={self.model_id!r})"

    def do_generate(
        self,
        *,
        prompt: str | None,
        n: int = 1,
        size: str | None = None,
        aspect_ratio: str | None = None,
        seed: int | None = None,
        images: Sequence[ImageInput] = (),
        mask: ImageInput | None = None,
        provider_options: Mapping[str, Mapping[str, Any]] | None = None,
        headers: Mapping[str, str | None] | None = None,
        timeout: float | NotGiven | None = NOT_GIVEN,
    ) -> ImageModelResult:
        """Make one generation call (no retries; ``generate_image`` adds them).

        Args:
            prompt: The prompt text (``None`` sends no ``prompt``).
            n: Images to ask for in this call (sent only when above 1).
            size: ``"WxH"``, sent as ``width`` and ``height``.
            aspect_ratio: ``"W:H"``; sent as Together's ``aspect_ratio`` to models that take it
                (per ``together_image.models``), else it yields a warning.
            seed: Sent when not ``None``.
            images: Input images: all as ``reference_images`` on models that take them, else the
                first as ``image_url`` (more yield a warning).
            mask: Must be ``None``: Together has no mask editing.
            provider_options: ``{"togetherai": {...}}``, merged last into the body.
            headers: Call headers, above the provider's (``None`` values remove a header).
            timeout: Seconds, ``None`` for none; the provider's timeout when not given.

        Returns:
            The images' base64 texts, the warnings and the response metadata.

        Raises:
            UnsupportedFunctionalityError: A mask was given.
            InvalidArgumentError: An invalid argument (before any request).
            LoadAPIKeyError: No API key.
            APICallError: The call failed (see ``_Connection.post_generation``), or a 2xx item
                had no valid ``b64_json`` (``InvalidResponseDataError``).
        """
        if mask is not None:
            raise UnsupportedFunctionalityError(MASK_MESSAGE, functionality="mask")
        if prompt is not None and not isinstance(prompt, str):
            raise InvalidArgumentError(
                f"prompt must be a string or None, got {type(prompt).__name__}.", argument="prompt"
            )
        options = parse_call_options(
            prompt=NormalizedPrompt(text=prompt, images=normalize_images(images)),
            size=size,
            aspect_ratio=aspect_ratio,
            seed=seed,
            provider_options=provider_options,
            headers=headers,
            timeout=timeout,
        )
        return self.do_generate_parsed(options, n=validate_count(n, argument="n", minimum=1))

    def do_generate_parsed(self, options: ImageCallOptions, *, n: int = 1) -> ImageModelResult:
        """Make one generation call from arguments already parsed by ``parse_call_options``.

        ``generate_image`` parses its arguments once and calls this for every call and retry.

        Args:
            options: The parsed arguments.
            n: Images to ask for in this call (sent only when above 1).

        Returns:
            As ``do_generate``.

        Raises:
            As ``do_generate``.
        """
        if options.mask is not None:
            raise UnsupportedFunctionalityError(MASK_MESSAGE, functionality="mask")
        aspect_field, aspect_warnings = route_aspect_ratio(
            self.params, options.aspect_ratio, send_unsupported=self.send_unsupported
        )
        image_fields, image_warnings = route_images(
            self.model_id, self.params, options.images, send_unsupported=self.send_unsupported
        )
        body = build_request_body(
            model_id=self.model_id,
            prompt=options.prompt,
            n=n,
            size=options.size,
            seed=options.seed,
            aspect_ratio=aspect_field.get("aspect_ratio"),
            image_url=image_fields.get("image_url"),
            reference_images=image_fields.get("reference_images"),
            options=options.provider_options,
        )
        rejected_warnings: list[ImageWarning] = []
        if not self.send_unsupported:
            body, rejected_warnings = drop_rejected(self.model_id, self.params, body)
        # The AI SDK's order: the aspect ratio, then unsupported fields, then the input images.
        warnings = [*aspect_warnings, *rejected_warnings, *image_warnings]
        timestamp = datetime.now(timezone.utc)
        exchange = self._connection.post_generation(
            body,
            headers=options.headers,
            timeout=options.timeout,
            abort_signal=options.abort_signal,
        )
        return ImageModelResult(
            images=self._images(exchange, body, options),
            warnings=tuple(warnings),
            response=ResponseMetadata(
                timestamp=timestamp, model_id=self.model_id, headers=exchange.response.headers
            ),
        )

    def _images(
        self, exchange: _Exchange, body: Mapping[str, Any], options: ImageCallOptions
    ) -> tuple[str, ...]:
        if body.get("response_format") != "url":
            return _base64_images(exchange, body)
        # URL mode, asked for through provider options: fetch each image (the AI SDK cannot,
        # vercel/ai#11490) so that the result is the same as in base64 mode.
        images = []
        for position, item in enumerate(exchange.parsed.data):
            if item.b64_json is not None:
                images.append(_checked_base64(item.b64_json, position, exchange, body))
            elif item.url is not None:
                data = self._connection.download_image(
                    item.url, timeout=options.timeout, abort_signal=options.abort_signal
                )
                images.append(encode_base64(data))
            else:
                raise _invalid_response(
                    f"data[{position}] has neither url nor b64_json",
                    exchange.response,
                    url=exchange.url,
                    request_body=body,
                    secret=exchange.secret,
                )
        return tuple(images)


def _base64_images(exchange: _Exchange, body: Mapping[str, Any]) -> tuple[str, ...]:
    images = []
    for position, item in enumerate(exchange.parsed.data):
        if item.b64_json is None:
            hint = (
                " (response_format is not 'base64'?); to have URL-mode images downloaded, ask "
                "for response_format 'url' through provider options"
                if item.url is not None
                else ""
            )
            raise _invalid_response(
                f"data[{position}] has no b64_json{hint}",
                exchange.response,
                url=exchange.url,
                request_body=body,
                secret=exchange.secret,
            )
        images.append(_checked_base64(item.b64_json, position, exchange, body))
    return tuple(images)


def _checked_base64(text: str, position: int, exchange: _Exchange, body: Mapping[str, Any]) -> str:
    try:
        # Validated now (a bad body fails the call), decoded when ``.data`` is first read.
        check_base64(text)
    except InvalidDataContentError as error:
        raise _invalid_response(
            f"data[{position}].b64_json is not base64: {error}",
            exchange.response,
            url=exchange.url,
            request_body=body,
            secret=exchange.secret,
        ) from error
    return text


class TogetherAIProvider:
    """Creates Together image models that share one key, base URL, headers, session and timeout."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        headers: Mapping[str, str | None] | None = None,
        session: HTTPSession | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        """Create a provider; see ``create_togetherai`` for the arguments."""
        self._connection = _Connection(
            api_key=api_key,
            base_url=base_url,
            headers=headers,
            session=session,
            timeout=timeout,
            max_response_bytes=max_response_bytes,
        )

    def image(self, model_id: str, *, send_unsupported: bool = False) -> TogetherAIImageModel:
        """Return the image model ``model_id`` (any string; Together decides if it exists).

        For a model the per-model table (``together_image.models``) knows, requests are shaped
        to it: input images go as ``reference_images`` where the model takes them, a top-level
        ``aspect_ratio`` is sent where the model takes it, and fields the model rejects are left
        out with an "unsupported" warning each. Unknown models are sent to as the AI SDK does.

        Args:
            model_id: E.g. ``"black-forest-labs/FLUX.1-schnell"``.
            send_unsupported: Send every field as given, whatever the table says (input images as
                one ``image_url``, as for an unknown model).

        Raises:
            InvalidArgumentError: ``model_id`` is not a non-empty string.
        """
        if not isinstance(model_id, str) or not model_id.strip():
            raise InvalidArgumentError(
                f"model_id must be a non-empty string such as "
                f"'black-forest-labs/FLUX.1-schnell', got {describe_value(model_id)}.",
                argument="model_id",
            )
        if not isinstance(send_unsupported, bool):
            raise InvalidArgumentError(
                f"send_unsupported must be True or False, got {describe_value(send_unsupported)}.",
                argument="send_unsupported",
            )
        return TogetherAIImageModel(model_id, self._connection, send_unsupported=send_unsupported)

    def __repr__(self) -> str:
        return f"TogetherAIProvider({self._connection.describe()})"


def create_togetherai(
    api_key: str | None = None,
    base_url: str | None = None,
    headers: Mapping[str, str | None] | None = None,
    session: HTTPSession | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
) -> TogetherAIProvider:
    """Create a Together provider.

    Args:
        api_key: The API key; when ``None``, ``TOGETHER_API_KEY`` (or the deprecated
            ``TOGETHER_AI_API_KEY``) is read at each request. Not needed when ``headers`` carry
            an ``Authorization`` header.
        base_url: E.g. ``"http://127.0.0.1:8787/v1"``; when ``None``, ``TOGETHER_BASE_URL`` at each
            request, else ``https://api.together.xyz/v1``.
        headers: Extra headers for every request, above the defaults (``Accept``,
            ``Content-Type``, ``User-Agent: together-image/<version>``, ``Authorization``).
        session: A ``requests.Session`` to send through (one is created when ``None``).
        timeout: Seconds one attempt may take in all (connect, headers and the whole body: a
            deadline, not a limit per read); ``None`` for no limit.
        max_response_bytes: The largest answer read, counted after gzip/deflate decoding
            (default 128 MiB, room for a 4K image as base64); a larger one raises
            ``ResponseTooLargeError``.

    Returns:
        The provider; call ``.image(model_id)`` for a model.

    Raises:
        InvalidArgumentError: A malformed base URL, headers, timeout or ``max_response_bytes``,
            or an API key with a character HTTP headers cannot carry.
        LoadAPIKeyError: ``api_key`` is not a string.
    """
    return TogetherAIProvider(
        api_key=api_key,
        base_url=base_url,
        headers=headers,
        session=session,
        timeout=timeout,
        max_response_bytes=max_response_bytes,
    )


togetherai = create_togetherai()
"""The default provider; it reads ``TOGETHER_API_KEY`` and ``TOGETHER_BASE_URL`` per request."""


class Images:
    """The ``images`` resource of ``TogetherImageClient``."""

    def __init__(
        self, connection: _Connection, policy: RetryPolicy, sleep: Callable[[float], None] | None
    ) -> None:
        self._connection = connection
        self._policy = policy
        self._sleep = sleep

    def generate(
        self,
        *,
        model: str,
        extra_headers: Mapping[str, str | None] | None = None,
        timeout: float | NotGiven | None = NOT_GIVEN,
        abort_signal: AbortSignal | None = None,
        **wire_fields: Any,
    ) -> ImageResponse:
        """Call ``POST /images/generations`` with exactly the given fields (retried per policy).

        Args:
            model: The model id.
            extra_headers: Headers for this call, above the client's.
            timeout: Seconds each attempt may take in all; the client's timeout when not given.
            abort_signal: A ``threading.Event``; setting it ends a wait between attempts at once
                and abandons the call in flight (``AbortError``).
            **wire_fields: Body fields sent verbatim, ``None`` as JSON ``null`` (``prompt``,
                ``steps``, ``response_format="url"``, ``image_url``...).

        Returns:
            The typed response (``b64_json`` or ``url`` items, ``timings``, unknown keys in
            ``extra``).

        Raises:
            APICallError: As ``generate_image``; ``RetryError`` after retries.
            InvalidArgumentError: A field that JSON cannot represent.
            LoadAPIKeyError: No API key.
            AbortError: ``abort_signal`` was set.
        """
        signal = check_abort_signal(abort_signal)
        body = {"model": model, **wire_fields}
        exchange = run_with_retries(
            lambda: self._connection.post_generation(
                body, headers=extra_headers, timeout=timeout, abort_signal=signal
            ),
            policy=self._policy,
            sleep=self._sleep,
            abort_signal=signal,
        )
        return exchange.parsed


class TogetherImageClient:
    """A low-level client for Together's image endpoint, returning typed wire responses.

    Example:
        >>> client = TogetherImageClient(base_url="http://127.0.0.1:8787/v1")  # doctest: +SKIP
        >>> client.images.generate(model="black-forest-labs/FLUX.1-schnell", prompt="a quetzal",
        ...                        response_format="url").data[0].url  # doctest: +SKIP
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        headers: Mapping[str, str | None] | None = None,
        session: HTTPSession | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        *,
        sleep: Callable[[float], None] | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        """Create a client.

        Args:
            api_key: As for ``create_togetherai``.
            base_url: As for ``create_togetherai``.
            headers: As for ``create_togetherai``.
            session: As for ``create_togetherai``.
            timeout: As for ``create_togetherai``.
            max_retries: Retries per call after the first attempt.
            sleep: The function that waits between attempts (inject one in tests); ``None``
                waits for real.
            max_response_bytes: As for ``create_togetherai``.

        Raises:
            InvalidArgumentError: A malformed argument.
            LoadAPIKeyError: ``api_key`` is not a string.
        """
        self._connection = _Connection(
            api_key=api_key,
            base_url=base_url,
            headers=headers,
            session=session,
            timeout=timeout,
            max_response_bytes=max_response_bytes,
        )
        policy = RetryPolicy(
            max_retries=validate_count(max_retries, argument="max_retries", minimum=0)
        )
        self.images = Images(self._connection, policy, sleep)

    def __repr__(self) -> str:
        return f"TogetherImageClient({self._connection.describe()})"
