"""Normalization and validation of ``generate_image()`` arguments, before any request.

Pure functions: image inputs become the ``image_url`` string Together receives (URLs verbatim,
everything else a ``data:<detected type>;base64,<standard base64>`` URL), ``size`` becomes width and
height, prompts become text plus images plus mask, and ``n``/``seed``/``max_retries`` are checked.
Each rule here has a Hypothesis property test.
"""

from __future__ import annotations

import io
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

from ._errors import InvalidArgumentError, InvalidDataContentError, describe_value
from ._media import decode_base64, parse_data_url, to_data_url
from ._types import ImagePrompt

_SIZE = re.compile(r"([1-9][0-9]*)x([1-9][0-9]*)", flags=re.ASCII)
_ASPECT_RATIO = re.compile(r"[1-9][0-9]*:[1-9][0-9]*", flags=re.ASCII)
_URL = re.compile(r"https?://", re.IGNORECASE)
_PROMPT_KEYS = ("text", "images", "mask")
# Modes Pillow writes as PNG as they are; premultiplied modes have a direct straight-alpha twin,
# every other mode (CMYK, YCbCr, 32-bit "I", float "F"…) is converted to RGBA.
_PNG_MODES = frozenset({"1", "L", "LA", "I;16", "P", "RGB", "RGBA"})
_PNG_CONVERSIONS = {"La": "LA", "RGBa": "RGBA"}
_EXPECTED_IMAGE = (
    "bytes, bytearray, memoryview, a base64 or data: string, an http(s) URL string, a "
    "pathlib.Path, a PIL image or a binary file object"
)


@dataclass(frozen=True, kw_only=True)
class NormalizedPrompt:
    """A prompt split into its parts, with every image already normalized.

    Attributes:
        text: The prompt text, or ``None`` for no ``prompt`` field.
        images: ``image_url`` strings (verbatim URLs or data URLs), in input order.
        mask: The mask as given (Together rejects any mask, so it is not converted).
    """

    text: str | None
    images: tuple[str, ...] = ()
    mask: object = None


def is_url(value: str) -> bool:
    """Tell whether a string is an ``http(s)://`` URL, which Together receives verbatim.

    Args:
        value: The string.

    Returns:
        ``True`` when it starts with ``http://`` or ``https://`` (any letter case).
    """
    return _URL.match(value) is not None


def normalize_image_input(image: object) -> str:
    """Turn one image input into the ``image_url`` value Together receives.

    Args:
        image: ``bytes``/``bytearray``/``memoryview``; a string that is an ``http(s)://`` URL, a
            ``data:`` URL or base64 (standard or URL-safe, padding optional, whitespace ignored); an
            ``os.PathLike`` to read; a PIL image (encoded as PNG); or a binary file object to read.

    Returns:
        The URL verbatim for ``http(s)`` URLs; otherwise ``data:<type>;base64,<standard base64>``,
        with the type taken from a data URL header, else detected, else ``image/png``.

    Raises:
        InvalidDataContentError: The input cannot be decoded (bad base64, bad data URL, unsupported
            type, a text-mode file).
        InvalidArgumentError: A path that cannot be read.
    """
    if isinstance(image, str):
        if is_url(image):
            return image
        if image[:5].lower() == "data:":
            media_type, data = parse_data_url(image)
            return to_data_url(data, media_type)
        return to_data_url(decode_base64(image))
    if isinstance(image, (bytes, bytearray)):
        return to_data_url(bytes(image))
    if isinstance(image, memoryview):
        return to_data_url(image.tobytes())
    if isinstance(image, os.PathLike):
        return to_data_url(_read_path(image))
    if _is_pil_image(image):
        return to_data_url(_encode_pil_image(image))  # detected: PNG
    read = getattr(image, "read", None)
    if callable(read):
        return to_data_url(_read_file_object(read))
    raise InvalidDataContentError(
        f"Invalid data content. Expected {_EXPECTED_IMAGE}, but got {type(image).__name__}."
    )


def _read_path(path: os.PathLike[Any]) -> bytes:
    try:
        return Path(path).read_bytes()
    except (OSError, ValueError) as error:  # ValueError: a NUL byte in the path
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise InvalidArgumentError(
            f"Cannot read the image file {os.fspath(path)!r}: {reason}.",
            argument="image",
        ) from error


def _read_file_object(read: Any) -> bytes:
    data = read()
    if not isinstance(data, (bytes, bytearray)):
        raise InvalidDataContentError(
            "Invalid data content. Expected a binary file object (open(..., 'rb')), but read() "
            f"returned {type(data).__name__}."
        )
    return bytes(data)


def _is_pil_image(value: object) -> bool:
    # A PIL image can only exist if Pillow was already imported, so never import it here.
    pil_image = sys.modules.get("PIL.Image")
    return pil_image is not None and isinstance(value, pil_image.Image)


def _encode_pil_image(image: Any) -> bytes:
    if image.width == 0 or image.height == 0:
        raise InvalidDataContentError(
            f"Invalid data content. The PIL image is empty ({image.width}x{image.height})."
        )
    mode = image.mode
    try:
        if mode not in _PNG_MODES:
            image = image.convert(_PNG_CONVERSIONS.get(mode, "RGBA"))
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")  # pragma: no mutate (Pillow reads "png" the same)
    except (OSError, ValueError) as error:
        raise InvalidDataContentError(
            f"Invalid data content. The PIL image (mode {mode!r}) cannot be encoded as PNG: "
            f"{error}."
        ) from error
    return buffer.getvalue()


def normalize_prompt(prompt: object) -> NormalizedPrompt:
    """Split a prompt into text, normalized images and mask.

    Args:
        prompt: A string, an ``ImagePrompt``, or a mapping with keys ``text``, ``images``, ``mask``.

    Returns:
        The normalized prompt. Every image is converted (so a bad second image raises too).

    Raises:
        InvalidArgumentError: Wrong types, unknown mapping keys, or ``images`` not a sequence.
        InvalidDataContentError: An image cannot be decoded.
    """
    if isinstance(prompt, str):
        return NormalizedPrompt(text=prompt)
    # Typed as object: a mapping (or a mistyped ImagePrompt) may hold anything.
    text: object
    images: object
    mask: object
    if isinstance(prompt, ImagePrompt):
        text, images, mask = prompt.text, prompt.images, prompt.mask
    elif isinstance(prompt, Mapping):
        unknown = sorted(str(key) for key in prompt if key not in _PROMPT_KEYS)
        if unknown:
            raise InvalidArgumentError(
                f"prompt has unknown keys {unknown}; expected only {list(_PROMPT_KEYS)}.",
                argument="prompt",
            )
        text, images, mask = prompt.get("text"), prompt.get("images"), prompt.get("mask")
    else:
        raise InvalidArgumentError(
            "prompt must be a string, an ImagePrompt or a mapping with 'text', 'images' and "
            f"'mask', got {type(prompt).__name__}.",
            argument="prompt",
        )
    if text is not None and not isinstance(text, str):
        raise InvalidArgumentError(
            f"prompt text must be a string or None, got {type(text).__name__}.", argument="prompt"
        )
    return NormalizedPrompt(
        text=text, images=normalize_images(images, argument="prompt"), mask=mask
    )


def parse_size(size: object) -> tuple[int, int] | None:
    """Parse ``"WxH"`` into ``(width, height)``.

    Args:
        size: ``None``, or a string matching ``^[1-9][0-9]*x[1-9][0-9]*$`` exactly (lower-case
            ``x``, no spaces, no sign, no leading zero).

    Returns:
        ``None`` for ``None``, else ``(width, height)``.

    Raises:
        InvalidArgumentError: Any other value.
    """
    if size is None:
        return None
    match = _SIZE.fullmatch(size) if isinstance(size, str) else None
    if match is None:
        raise InvalidArgumentError(
            f"size must be a string 'WIDTHxHEIGHT' of positive integers such as '1024x768', "
            f"got {describe_value(size)}.",
            argument="size",
        )
    try:
        return (int(match.group(1)), int(match.group(2)))
    except ValueError as error:  # more digits than int() accepts (sys.get_int_max_str_digits())
        raise InvalidArgumentError(
            f"size is too large: {len(match.group(0))} characters.", argument="size"
        ) from error


def validate_aspect_ratio(aspect_ratio: object) -> str | None:
    """Check an aspect ratio ``"W:H"`` (Together models ignore it at the top level; see warnings).

    Args:
        aspect_ratio: ``None``, or a string matching ``^[1-9][0-9]*:[1-9][0-9]*$``.

    Returns:
        The aspect ratio unchanged.

    Raises:
        InvalidArgumentError: Any other value.
    """
    if aspect_ratio is None:
        return None
    if not isinstance(aspect_ratio, str) or not _ASPECT_RATIO.fullmatch(aspect_ratio):
        raise InvalidArgumentError(
            f"aspect_ratio must be a string 'W:H' of positive integers such as '16:9', "
            f"got {describe_value(aspect_ratio)}.",
            argument="aspect_ratio",
        )
    return aspect_ratio


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_count(value: object, *, argument: str, minimum: int) -> int:
    """Check an integer argument with a lower bound (``n``, ``max_retries``...).

    Args:
        value: The candidate.
        argument: Its name, for the message.
        minimum: The smallest allowed value.

    Returns:
        The value.

    Raises:
        InvalidArgumentError: Not an ``int`` (``bool`` excluded) or below ``minimum``.
    """
    if _is_int(value) and value >= minimum:
        return value
    raise InvalidArgumentError(
        f"{argument} must be an integer >= {minimum}, got {describe_value(value)}.",
        argument=argument,
    )


def validate_seed(seed: object) -> int | None:
    """Check a seed.

    Args:
        seed: ``None`` or an ``int`` (``bool`` excluded).

    Returns:
        The seed.

    Raises:
        InvalidArgumentError: Any other value.
    """
    if seed is None or _is_int(seed):
        return seed
    raise InvalidArgumentError(
        f"seed must be an integer, got {describe_value(seed)}.", argument="seed"
    )


def normalize_images(images: object, *, argument: str = "images") -> tuple[str, ...]:
    """Normalize a list of image inputs (see ``normalize_image_input``).

    Args:
        images: A sequence of inputs, or ``None`` for none.
        argument: The argument name to put in errors.

    Returns:
        The ``image_url`` strings in order.

    Raises:
        InvalidArgumentError: ``images`` is a single image (str, bytes...) or not a sequence.
        InvalidDataContentError: An image cannot be decoded.
    """
    if images is None:
        return ()
    if isinstance(images, (str, bytes, bytearray, memoryview)) or not isinstance(images, Sequence):
        raise InvalidArgumentError(
            f"images must be a list of images (e.g. [image_bytes]), got {type(images).__name__}.",
            argument=argument,
        )
    return tuple(normalize_image_input(image) for image in images)
