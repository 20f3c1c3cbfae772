"""Frozen data types of the client: prompts, results, warnings, metadata and the wire response.

``ImagePrompt`` is what callers pass; ``GeneratedImage``, ``GenerateImageResult``,
``ResponseMetadata`` and ``Warning`` are what ``generate_image()`` returns; ``ImageModelResult`` is
what one model call returns; ``ImageResponse`` is the typed body of ``POST /images/generations``,
parsed once at the edge by ``ImageResponse.from_wire``. ``Warning`` is named after the AI SDK type;
it shadows the builtin only inside this module and as an attribute of the package.
"""

from __future__ import annotations

import builtins
import enum
import io
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import IO, TYPE_CHECKING, Any, Literal, Protocol, Union

from ._errors import InvalidDataContentError
from ._media import (
    DEFAULT_MEDIA_TYPE,
    decode_base64,
    detect_media_type,
    extension_for_media_type,
)

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

# The forms an input image may take; see ``normalize_image_input``. ``Union`` (not ``|``) because
# the alias is evaluated at run time, where the Pillow type is only a forward reference.
ImageInput = Union[bytes, bytearray, memoryview, str, "os.PathLike[str]", IO[bytes], "PILImage"]


class NotGiven(enum.Enum):
    """Sentinel type telling "argument not given" apart from ``None`` (which means "no timeout")."""

    NOT_GIVEN = "NOT_GIVEN"

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN = NotGiven.NOT_GIVEN
"""The single value of ``NotGiven``."""

WarningType = Literal["unsupported", "other"]


class AbortSignal(Protocol):
    """What an ``abort_signal`` must offer; a ``threading.Event`` does."""

    def is_set(self) -> bool:
        """Whether the caller asked to stop."""

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until set or ``timeout`` seconds passed; return whether it is set."""


@dataclass(frozen=True, kw_only=True)
class Warning:  # the AI SDK's name; other modules import it as ImageWarning
    """A non-fatal remark about a call, returned in ``GenerateImageResult.warnings``.

    Attributes:
        type: ``"unsupported"`` (an argument the model ignores) or ``"other"``.
        message: Human-readable text.
        feature: For ``"unsupported"``: the ignored argument (e.g. ``"aspect_ratio"``).
    """

    type: WarningType
    message: str
    feature: str | None = None

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True, kw_only=True)
class ImagePrompt:
    """A prompt with input images, for image editing (FLUX Kontext).

    Attributes:
        text: The instruction, e.g. ``"Make the shirt yellow"``; ``None`` sends no ``prompt`` field.
        images: Input images (any ``ImageInput``); Together uses only the first.
        mask: A mask image; Together does not support masks, so any mask raises
            ``UnsupportedFunctionalityError``.
    """

    text: str | None = None
    images: Sequence[ImageInput] = ()
    mask: ImageInput | None = None


@dataclass(frozen=True, kw_only=True)
class ImageCallOptions:
    """The arguments of ``generate_image()``, checked and normalized once for all of its calls.

    Built by ``parse_call_options`` before any request; every call (and every retry of a call)
    reads it as it is, so nothing is parsed twice.

    Attributes:
        prompt: The prompt text, or ``None`` for no ``prompt`` field.
        images: The input images as ``image_url`` strings (verbatim URLs or data URLs), in order.
        mask: The mask as given (Together rejects any mask, so it is not converted).
        size: ``(width, height)``, or ``None`` to let the API choose.
        aspect_ratio: ``"W:H"``, or ``None``.
        seed: The seed, or ``None``.
        provider_options: The ``togetherai`` provider options (a read-only copy).
        headers: The call headers as given (``None`` values remove a header), checked.
        timeout: Seconds per attempt, ``None`` for no limit, ``NOT_GIVEN`` for the provider's.
        abort_signal: Stops the calls as soon as it is set (``None``: never).
    """

    prompt: str | None = None
    images: tuple[str, ...] = ()
    mask: object = None
    size: tuple[int, int] | None = None
    aspect_ratio: str | None = None
    seed: int | None = None
    provider_options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    headers: Mapping[str, str | None] = field(default_factory=lambda: MappingProxyType({}))
    timeout: float | NotGiven | None = NOT_GIVEN
    abort_signal: AbortSignal | None = None


@dataclass(frozen=True, kw_only=True)
class ResponseMetadata:
    """What is known about one successful HTTP call.

    Attributes:
        timestamp: When the call started (UTC, taken before the request was sent).
        model_id: The model id that was requested.
        headers: Response headers with lower-cased names.
    """

    timestamp: datetime
    model_id: str
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class GeneratedImage:
    """One generated image, kept as the API's base64 text and decoded on first use.

    Attributes:
        base64: The ``b64_json`` text exactly as the API returned it.
    """

    base64: str = field(repr=False)

    @cached_property
    def data(self) -> bytes:
        """The decoded image bytes (decoded once, then cached)."""
        return decode_base64(self.base64)

    @cached_property
    def media_type(self) -> str:
        """The media type detected from the bytes (``image/png`` when unrecognized)."""
        return detect_media_type(self.data) or DEFAULT_MEDIA_TYPE

    @property
    def extension(self) -> str:
        """The usual file extension for ``media_type``, without the dot (e.g. ``"jpg"``)."""
        return extension_for_media_type(self.media_type)

    def to_pil(self) -> PILImage:
        """Open the image with Pillow (imported only now).

        Returns:
            A loaded ``PIL.Image.Image``.

        Raises:
            InvalidDataContentError: The bytes are not an image Pillow can open.
        """
        from PIL import Image

        data = self.data
        try:
            image = Image.open(io.BytesIO(data))
            image.load()
        except (OSError, ValueError, Image.DecompressionBombError) as error:
            # Pillow's own message names the BytesIO object by its repr; say what was read instead.
            raise InvalidDataContentError(
                f"The image data ({len(data)} bytes, starting {data[:8].hex(' ') or 'empty'}) is "
                f"not an image Pillow can open: {type(error).__name__}."
            ) from None
        return image

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the image bytes to ``path`` (no re-encoding).

        Args:
            path: The file to write; choose its suffix from ``extension``.

        Returns:
            The path written, as a ``Path``.
        """
        target = Path(path)
        target.write_bytes(self.data)
        return target

    def __repr__(self) -> str:
        # Never decode here: a repr must not fail, and the text can be megabytes long.
        return f"GeneratedImage(base64={self.base64[:16]!r}... ({len(self.base64)} characters))"


@dataclass(frozen=True, kw_only=True)
class ImageUsage:
    """Token usage of image calls, as the AI SDK reports it (Together reports none).

    Attributes:
        input_tokens: Input tokens, when the provider counts them.
        output_tokens: Output tokens, when the provider counts them.
        total_tokens: Total tokens, when the provider counts them.
    """

    input_tokens: int | None = None
    output_tokens: int | None = None
    total_tokens: int | None = None

    def __add__(self, other: ImageUsage) -> ImageUsage:
        """Sum field by field; a field stays ``None`` only when it is ``None`` on both sides."""
        return ImageUsage(
            input_tokens=_add_optional(self.input_tokens, other.input_tokens),
            output_tokens=_add_optional(self.output_tokens, other.output_tokens),
            total_tokens=_add_optional(self.total_tokens, other.total_tokens),
        )


def _add_optional(left: int | None, right: int | None) -> int | None:
    if left is None:
        return right
    return left if right is None else left + right


def _empty_mapping() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True, kw_only=True)
class ImageModelResult:
    """What one ``do_generate()`` call returns.

    Attributes:
        images: The ``b64_json`` texts of the response, in order.
        warnings: Warnings about this call's arguments.
        response: Metadata of the HTTP call.
        provider_metadata: Provider-specific data about the call (none for Together).
        usage: Token usage, when the provider reports it (Together does not).
    """

    images: tuple[str, ...]
    warnings: tuple[Warning, ...]
    response: ResponseMetadata
    provider_metadata: Mapping[str, Any] = field(default_factory=_empty_mapping)
    usage: ImageUsage | None = None


@dataclass(frozen=True, kw_only=True)
class GenerateImageCall:
    """One provider call made by ``generate_image()``, as the AI SDK 7's ``GenerateImageCall``.

    A call whose answer held no image is retried like a failed one; every answer that arrived,
    empty or not, is one entry.

    Attributes:
        images: The images of this call's answer (empty for an empty answer).
        warnings: The warnings of this call.
        response: Metadata of the HTTP call.
        provider_metadata: Provider-specific data (empty for Together, as in the AI SDK).
        usage: Token usage (``None`` for Together, as in the AI SDK).
    """

    images: tuple[GeneratedImage, ...]
    warnings: tuple[Warning, ...]
    response: ResponseMetadata
    provider_metadata: Mapping[str, Any] = field(default_factory=_empty_mapping)
    usage: ImageUsage | None = None


@dataclass(frozen=True, kw_only=True)
class GenerateImageResult:
    """The result of ``generate_image()``.

    Attributes:
        images: Every image, in call order.
        warnings: The warnings of every call, concatenated in call order.
        responses: One ``ResponseMetadata`` per call (per entry of ``calls``), in call order.
        calls: One entry per provider call, in call order (the AI SDK 7's ``result.calls``).
        provider_metadata: The calls' provider metadata merged (empty for Together).
        usage: The calls' usage summed (every field ``None`` for Together).
    """

    images: tuple[GeneratedImage, ...]
    warnings: tuple[Warning, ...] = ()
    responses: tuple[ResponseMetadata, ...] = ()
    calls: tuple[GenerateImageCall, ...] = ()
    provider_metadata: Mapping[str, Any] = field(default_factory=_empty_mapping)
    usage: ImageUsage = field(default_factory=ImageUsage)

    @property
    def image(self) -> GeneratedImage:
        """The first image."""
        return self.images[0]


class ImageModel(Protocol):
    """What ``generate_image()`` needs from a model (``TogetherAIImageModel`` implements it)."""

    @property
    def model_id(self) -> str:
        """The model id sent to the API."""

    @property
    def max_images_per_call(self) -> int:
        """How many images one HTTP call may ask for."""

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
        """Make exactly one HTTP call and return its images, warnings and metadata."""


class WireFormatError(ValueError):
    """A response body lacks the documented shape (wrapped into ``InvalidResponseDataError``)."""


@dataclass(frozen=True, kw_only=True)
class ImageResponseData:
    """One item of ``ImageResponse.data``.

    Attributes:
        index: Position of the image in the request.
        b64_json: The image as base64 (``response_format="base64"``).
        url: The image URL (``response_format="url"``, the API's default).
        type: ``"b64_json"`` or ``"url"`` when the API sends it (it often does not).
        timings: E.g. ``{"inference": 0.11}`` (seconds for FLUX.1, milliseconds for FLUX.2).
        extra: Any other keys, kept as sent.
    """

    index: int | None = None
    b64_json: str | None = field(default=None, repr=False)
    url: str | None = None
    type: str | None = None
    timings: Mapping[str, float] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class ImageResponse:
    """The body of a successful ``POST /images/generations``.

    Attributes:
        id: Response id (e.g. ``"omJKGKg-2kFHot-a046745b3835a2b4-SEA"``).
        model: The model string echoed back.
        object: ``"list"``.
        data: The image items.
        extra: Any other top-level keys, kept as sent.
    """

    id: str | None = None
    model: str | None = None
    object: str | None = None
    data: tuple[ImageResponseData, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_wire(cls, payload: builtins.object) -> ImageResponse:
        """Parse a decoded JSON body.

        Args:
            payload: The result of ``json.loads`` on the response text.

        Returns:
            The typed response.

        Raises:
            WireFormatError: The payload is not an object with a ``data`` list of objects, or a
                known field has the wrong type.
        """
        if not isinstance(payload, dict):
            raise WireFormatError(f"expected a JSON object, got {_json_type(payload)}")
        items = payload.get("data")
        if not isinstance(items, list):
            raise WireFormatError(f"expected 'data' to be a list, got {_json_type(items)}")
        known = ("id", "model", "object", "data")
        return cls(
            id=_optional(payload, "id", str, "body"),
            model=_optional(payload, "model", str, "body"),
            object=_optional(payload, "object", str, "body"),
            data=tuple(_parse_item(item, position) for position, item in enumerate(items)),
            extra={key: value for key, value in payload.items() if key not in known},
        )


def _parse_item(item: object, position: int) -> ImageResponseData:
    where = f"data[{position}]"
    if not isinstance(item, dict):
        raise WireFormatError(f"expected {where} to be an object, got {_json_type(item)}")
    timings = item.get("timings")
    if timings is not None and not (
        isinstance(timings, dict)
        and all(
            isinstance(value, (int, float)) and not isinstance(value, bool)
            for value in timings.values()
        )
    ):
        raise WireFormatError(f"expected {where}.timings to map names to numbers, got {timings!r}")
    known = ("index", "b64_json", "url", "type", "timings")
    return ImageResponseData(
        index=_optional(item, "index", int, where),
        b64_json=_optional(item, "b64_json", str, where),
        url=_optional(item, "url", str, where),
        type=_optional(item, "type", str, where),
        timings=timings,
        extra={key: value for key, value in item.items() if key not in known},
    )


def _optional(container: dict[str, Any], key: str, kind: type[Any], where: str) -> Any:
    value = container.get(key)
    if value is None or (isinstance(value, kind) and not isinstance(value, bool)):
        return value
    raise WireFormatError(
        f"expected {where}.{key} to be a {kind.__name__} or absent, got {_json_type(value)}"
    )


def _json_type(value: object) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number" if isinstance(value, (int, float)) else "unknown")
