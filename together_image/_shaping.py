"""Model-aware request shaping: where input images go, ``aspect_ratio``, and rejected fields.

Pure functions reading the per-model table (``together_image.models``). For a model the table
knows: several input images go as ``reference_images`` when the model takes them (never as
``image_url`` then); otherwise the first goes as ``image_url`` (Kontext takes it), with the AI SDK's
warning for the rest, and is left out where the model rejects ``image_url``; a top-level
``aspect_ratio`` becomes Together's ``aspect_ratio`` on models that take it; and body fields the
model rejects with a 400 are left out with an "unsupported" warning each, as the AI SDK does for
``google/gemini-3-pro-image`` (here for every model, from the table). For a model the table does
not know, everything stays as the AI SDK does it. ``send_unsupported=True`` turns the table off.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._types import Warning as ImageWarning
from .models import ModelParams

MULTIPLE_IMAGES_MESSAGE = (
    "Together AI only supports a single input image. Additional images are ignored."
)
ASPECT_RATIO_MESSAGE = (
    "This model does not support the `aspect_ratio` option; use `size`, or send Together's own "
    "field with provider_options={'togetherai': {'aspect_ratio': ...}}."
)
# Never left out: without them there is no request at all.
_ALWAYS_SENT = frozenset({"model", "prompt"})


def unsupported_message(model_id: str, field: str) -> str:
    """The warning text for a field left out, in the AI SDK's words for ``seed`` on Gemini."""
    return f"The {model_id} model does not support the `{field}` option."


def route_images(
    model_id: str,
    params: ModelParams | None,
    images: Sequence[str],
    *,
    send_unsupported: bool = False,
) -> tuple[dict[str, Any], list[ImageWarning]]:
    """Decide which body fields carry the input images.

    Args:
        model_id: The model, for messages.
        params: The model's table entry, or ``None`` for a model the table does not know.
        images: The normalized inputs (``image_url`` strings), in order.
        send_unsupported: Send as for an unknown model, whatever the table says.

    Returns:
        ``{"reference_images": [...]}``, ``{"image_url": ...}`` or ``{}``, and the warnings.
    """
    if not images:
        return {}, []
    if params is None or send_unsupported:
        return _first_as_image_url(images)
    if params.takes_reference_images:
        limit = params.max_reference_images
        warnings = []
        if len(images) > limit:
            warnings.append(
                ImageWarning(
                    type="other",
                    message=f"The {model_id} model takes at most {limit} reference images; the "
                    f"last {len(images) - limit} were not sent.",
                )
            )
        return {"reference_images": list(images[:limit])}, warnings
    # One image_url, as the AI SDK sends it: Kontext takes it; a model that rejects it has it
    # left out by drop_rejected, with its warning.
    return _first_as_image_url(images)


def _first_as_image_url(images: Sequence[str]) -> tuple[dict[str, Any], list[ImageWarning]]:
    warnings = []
    if len(images) > 1:
        warnings.append(ImageWarning(type="other", message=MULTIPLE_IMAGES_MESSAGE))
    return {"image_url": images[0]}, warnings


def route_aspect_ratio(
    params: ModelParams | None, aspect_ratio: str | None, *, send_unsupported: bool = False
) -> tuple[dict[str, Any], list[ImageWarning]]:
    """Send a top-level ``aspect_ratio`` as Together's field on models that take it.

    Args:
        params: The model's table entry, or ``None`` for a model the table does not know.
        aspect_ratio: The checked ``"W:H"``, or ``None``.
        send_unsupported: Send it whatever the table says (unknown models too).

    Returns:
        ``{"aspect_ratio": ...}`` or ``{}``, and the "unsupported" warning when it is not sent.
    """
    if aspect_ratio is None:
        return {}, []
    if send_unsupported or (params is not None and params.takes_aspect_ratio):
        return {"aspect_ratio": aspect_ratio}, []
    return {}, [
        ImageWarning(type="unsupported", feature="aspect_ratio", message=ASPECT_RATIO_MESSAGE)
    ]


def drop_rejected(
    model_id: str, params: ModelParams | None, body: Mapping[str, Any]
) -> tuple[dict[str, Any], list[ImageWarning]]:
    """Leave out the body fields the model answers with a 400, one warning per field.

    Args:
        model_id: The model, for messages.
        params: The model's table entry; ``None`` (unknown model) leaves the body as it is.
        body: The request body, in its key order.

    Returns:
        The body without the rejected fields (order kept), and the warnings in body order.
    """
    if params is None:
        return dict(body), []
    kept: dict[str, Any] = {}
    warnings: list[ImageWarning] = []
    for name, value in body.items():
        if name not in _ALWAYS_SENT and params.field(name).rejected:
            warnings.append(
                ImageWarning(
                    type="unsupported",
                    feature=name,
                    message=unsupported_message(model_id, name),
                )
            )
        else:
            kept[name] = value
    return kept, warnings
