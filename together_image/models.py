"""Together's image models and what each does with every wire field, as one table of data.

Together's image endpoint takes one JSON body for every model, but each model treats the fields
differently: some **accept** a field, some **accept and ignore** it (the request succeeds and the
field has no effect), and some **reject** it with a 400 whose words depend on the model. The value
rules differ too (dimension ranges, area windows, fixed size menus, seed bounds, steps, how many
reference images). This module is the single record of all of that, with the evidence behind each
rule. The client reads it to shape requests; the fake reads it to validate, to write
``GET /openapi.json`` and to draw Hypothesis requests. Nothing here does I/O and it imports only the
standard library.

Reading a rule: every ``Rule`` and ``FieldSupport`` carries a provenance tag and a note.
``REC`` recorded real traffic, ``DOC`` Together's documentation, ``SDK``/``RUN`` official SDKs,
``3P`` a third party quoting or measuring the live API, ``INF`` an inference (a guess; the fake
relaxes these with ``strict=False``), ``USER`` set by a test. The sources are listed in the notes;
where sources conflict, the note says which one was followed.

Two wording families (``ModelParams.wording``):

* ``"flux1"`` — FLUX.1 and the diffusion models Together hosts itself (SDXL, Juggernaut): the
  recorded texts, and unknown or unused fields are accepted and ignored.
* ``"runware"`` — FLUX.2 and the partner models (Google, Qwen, ByteDance, Wan, Ideogram, OpenAI,
  Pruna): validation words that match the image service Runware's, with Together's field names
  (``Unsupported use of 'X' parameter…``, ``Invalid parameter detected…``, ``Invalid value for 'X'
  parameter…``, ``Invalid dimensions…``, ``Unsupported use of width/height parameters…``).

Public API::

    from together_image.models import model_params, MODELS, WIRE_FIELDS, TEXTS

    params = model_params("google/gemini-3-pro-image")   # ModelParams, or None for an unknown id
    params.field("seed").support                         # "accepted" | "ignored" | "rejected"
    params.field("seed").message                         # the exact 400 text when rejected
    params.rejected_fields                               # ("seed", "steps", ...) in the real order
    params.ignored_fields                                # accepted without effect
    params.takes_image_url, params.takes_reference_images, params.max_reference_images
    params.takes_only_reference_images                   # image_url refused: send references
    params.takes_aspect_ratio, params.serverless, params.retired, params.is_served
    params.dimensions.value.allows_size(1024, 1024)      # SizeRange | AreaWindow | SizeMenu
    params.dimension_error(1024, 1536)                   # the real 400 text for a bad size, or None
    params.seed_error(2**31)                             # likewise for a seed out of bounds
    params.check_order                                   # the wording family's order of checks
    served_models(), provenance_counts()                 # the 2026-08-17 listing; tag counts

``model_params(model_id)`` returns ``None`` for ids the table does not know. Retired models and
models Together serves only on dedicated endpoints are in the table (``retired`` holds the date,
``serverless`` is ``False``), so a caller can tell "known but not served" from "unknown".
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields, is_dataclass, replace
from typing import Any, Generic, Literal, TypeVar

__all__ = [
    "CHECK_ORDER",
    "MODELS",
    "REJECTION_ORDER",
    "SOURCES",
    "TEXTS",
    "WIRE_FIELDS",
    "AreaWindow",
    "Check",
    "Dimensions",
    "FieldSupport",
    "ImageInputRule",
    "ModelParams",
    "OutputSize",
    "RetiredAnswer",
    "Rule",
    "SeedRange",
    "SizeMenu",
    "SizeRange",
    "Source",
    "Support",
    "Wording",
    "area_message",
    "count_message",
    "menu_message",
    "model_not_available_message",
    "model_params",
    "non_serverless_message",
    "not_in_configuration_message",
    "not_recognized_message",
    "provenance_counts",
    "reference_count_message",
    "seed_message",
    "served_models",
    "side_message",
    "unsupported_use_message",
]

Source = Literal["REC", "DOC", "SDK", "RUN", "3P", "INF", "USER"]
SOURCES: tuple[Source, ...] = ("REC", "DOC", "SDK", "RUN", "3P", "INF", "USER")
Support = Literal["accepted", "ignored", "rejected"]
Wording = Literal["flux1", "runware"]
ImageInputRule = Literal["required", "optional", "refused"]
OutputSize = Literal["request", "reference"]
RetiredAnswer = Literal["model_not_available", "non_serverless"]
Check = Literal[
    "model",
    "prompt",
    "seed",
    "rejected_fields",
    "dimensions",
    "steps",
    "n",
    "reference_images",
    "image_url",
    "image_loras",
    "formats",
]
T = TypeVar("T")

WIRE_FIELDS: tuple[str, ...] = (
    "prompt",
    "model",
    "width",
    "height",
    "n",
    "steps",
    "seed",
    "response_format",
    "output_format",
    "negative_prompt",
    "guidance",
    "guidance_scale",
    "image_url",
    "reference_images",
    "image_loras",
    "aspect_ratio",
    "prompt_upsampling",
    "disable_safety_checker",
    "size",
)
"""Every body field the table describes: OpenAPI fields, documented extras, OpenAI's ``size``."""


# ---- rules and value shapes ------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Rule(Generic[T]):
    """One rule: a value and the evidence behind it.

    Attributes:
        value: What the rule says.
        source: Provenance tag (``REC``, ``DOC``, ``SDK``, ``RUN``, ``3P``, ``INF`` or ``USER``).
        note: The evidence in a few words (which source, and any conflict).
    """

    value: T
    source: Source
    note: str = ""

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"Rule source must be one of {SOURCES}, got {self.source!r}")

    def to_json(self) -> dict[str, Any]:
        """Return ``{"value", "source", "note"}`` with value shapes as JSON values."""
        return {"value": _json_value(self.value), "source": self.source, "note": self.note}


@dataclass(frozen=True, kw_only=True)
class SizeRange:
    """Per-side bounds: ``min <= side <= max`` and ``side % multiple == 0``."""

    min: int
    max: int
    multiple: int

    def allows(self, side: int) -> bool:
        """Return whether one side length satisfies the range."""
        return self.min <= side <= self.max and side % self.multiple == 0

    def allows_size(self, width: int, height: int) -> bool:
        """Return whether both sides satisfy the range."""
        return self.allows(width) and self.allows(height)


@dataclass(frozen=True, kw_only=True)
class AreaWindow:
    """An area window with aspect bounds (Wan 2.6): only ``width × height`` and the ratio count.

    Attributes:
        min_side: The window's floor is ``min_side × min_side`` pixels.
        max_side: The window's ceiling is ``max_side × max_side`` pixels.
        min_ratio: The narrowest ``width:height`` allowed, e.g. ``(1, 4)``.
        max_ratio: The widest ``width:height`` allowed, e.g. ``(4, 1)``.
        example: The valid resolution the real message quotes, ``(width, height)``.
    """

    min_side: int
    max_side: int
    min_ratio: tuple[int, int]
    max_ratio: tuple[int, int]
    example: tuple[int, int]

    def allows_size(self, width: int, height: int) -> bool:
        """Return whether the area is inside the window and the aspect inside its bounds."""
        if width <= 0 or height <= 0:
            return False
        area_ok = self.min_side**2 <= width * height <= self.max_side**2
        # Cross-multiplied so the bounds are exact (no float rounding at 1:4 or 4:1).
        narrow_ok = width * self.min_ratio[1] >= height * self.min_ratio[0]
        wide_ok = width * self.max_ratio[1] <= height * self.max_ratio[0]
        return area_ok and narrow_ok and wide_ok


@dataclass(frozen=True, kw_only=True)
class SizeMenu:
    """A fixed menu of ``(width, height)`` pairs, in the order the real message lists them."""

    sizes: tuple[tuple[int, int], ...]

    def allows_size(self, width: int, height: int) -> bool:
        """Return whether ``(width, height)`` is on the menu."""
        return (width, height) in self.sizes


Dimensions = SizeRange | AreaWindow | SizeMenu


@dataclass(frozen=True, kw_only=True)
class SeedRange:
    """Inclusive seed bounds."""

    min: int
    max: int

    def allows(self, seed: int) -> bool:
        """Return whether ``seed`` is inside the bounds."""
        return self.min <= seed <= self.max


def _json_value(value: object) -> Any:
    if isinstance(value, SizeRange):
        return {"min": value.min, "max": value.max, "multiple": value.multiple}
    if isinstance(value, AreaWindow):
        return {
            "min_area": value.min_side**2,
            "max_area": value.max_side**2,
            "min_ratio": f"{value.min_ratio[0]}:{value.min_ratio[1]}",
            "max_ratio": f"{value.max_ratio[0]}:{value.max_ratio[1]}",
        }
    if isinstance(value, SizeMenu):
        return [f"{w}x{h}" for w, h in value.sizes]
    if isinstance(value, SeedRange):
        return {"min": value.min, "max": value.max}
    if isinstance(value, tuple):
        return [_json_value(item) for item in value]
    if is_dataclass(value) and not isinstance(value, type):
        # Value shapes of extending tables (the fake's prices…), field by field.
        return {f.name: _json_value(getattr(value, f.name)) for f in fields(value)}
    return value


# ---- the real texts --------------------------------------------------------------------------


def unsupported_use_message(name: str) -> str:
    """The Runware-family text for a field a model does not take [3P verbatim for image_url,
    steps and seed]."""
    return (
        f"Unsupported use of '{name}' parameter. This parameter is not supported for the "
        "selected model."
    )


def not_recognized_message(name: str) -> str:
    """The second Runware-family text for a field, with its real double quoting [3P verbatim
    for negative_prompt on FLUX.2-pro]."""
    return f"Invalid parameter detected. The parameter \"'{name}'\" is not recognized or supported."


def not_in_configuration_message(name: str) -> str:
    """Together's text for a field a model configuration does not take [3P verbatim, for steps]."""
    return (
        f"Parameter '{name}' is not supported for the selected model configuration. "
        "Please remove this parameter from your request."
    )


def non_serverless_message(model_id: str) -> str:
    """400 ``model_not_available`` for a model served only on dedicated endpoints [3P template]."""
    return (
        f"Unable to access non-serverless model {model_id}. Please visit "
        f"https://api.together.ai/models/{model_id} to create and start a new dedicated endpoint "
        "for the model."
    )


def model_not_available_message(model_id: str) -> str:
    """404 ``model_not_available`` for an id Together does not know [REC template]."""
    return (
        f"Unable to access model {model_id}. Please visit https://api.together.ai/models to view "
        "the list of supported models."
    )


_SEP = "\u00d7"  # the real Wan message uses MULTIPLICATION SIGN between sides


def side_message(wording: Wording, name: str, sizes: SizeRange) -> str:
    """The text for a width or height outside a ``SizeRange``.

    The Runware family quotes the multiple (``in multiples of '16'``) [REC FLUX.2-dev
    2025-12-14]; the FLUX.1 family does not (``in multiples of 16.``) [3P quote].
    """
    multiple = f"'{sizes.multiple}'" if wording == "runware" else str(sizes.multiple)
    return (
        f"Invalid value for '{name}' parameter. Image {name} must be an integer value between "
        f"{sizes.min} and {sizes.max}, in multiples of {multiple}."
    )


def area_message(window: AreaWindow) -> str:
    """The text for a size outside an ``AreaWindow`` [3P verbatim for Wan2.6-image]."""
    low, high = window.min_side, window.max_side
    (narrow_w, narrow_h), (wide_w, wide_h) = window.min_ratio, window.max_ratio
    example_w, example_h = window.example
    return (
        f"Invalid dimensions. The total area (width {_SEP} height) must be within the range of "
        f"{low}{_SEP}{low} to {high}{_SEP}{high}. The aspect ratio must be between "
        f"{narrow_w}:{narrow_h} and {wide_w}:{wide_h}. For example, {example_w}*{example_h} is a "
        "valid resolution."
    )


def menu_message(menu: SizeMenu) -> str:
    """The text for a size off a ``SizeMenu`` [3P verbatim for flash-image-3.1-lite]."""
    listed = ", ".join(f"'{w}x{h}'" for w, h in menu.sizes)
    return (
        "Unsupported use of width/height parameters. The specified dimensions are not supported "
        f"for the selected model. Supported values are: {listed}."
    )


def seed_message(seeds: SeedRange) -> str:
    """The text for a seed outside a ``SeedRange`` [3P verbatim for Wan2.6-image]."""
    return (
        f"Invalid value for 'seed' parameter. Seed must be an integer value between {seeds.min} "
        f"and {seeds.max}. Default: Random."
    )


def count_message(name: str, noun: str, low: int, high: int) -> str:
    """Runware-form text for a count or integer out of range (``steps``, ``n``) [INF form]."""
    return (
        f"Invalid value for '{name}' parameter. {noun} must be an integer value between {low} "
        f"and {high}."
    )


def reference_count_message(limit: int) -> str:
    """Text for more reference images than a model takes [INF, Runware form]."""
    return (
        "Invalid value for 'reference_images' parameter. The selected model supports at most "
        f"{limit} reference images."
    )


TEXTS: Mapping[str, Rule[str]] = {
    "image_url_unsupported": Rule(
        value=unsupported_use_message("image_url"),
        source="3P",
        note="HeyPuter/puter#2084 (2025-12-02), google/flash-image-2.5, full body",
    ),
    "steps_unsupported": Rule(
        value=unsupported_use_message("steps"),
        source="3P",
        note="Qwen/Qwen-Image-2.0 (2026); google/gemini-3-pro-image (vercel/ai#15035)",
    ),
    "seed_unsupported": Rule(
        value=unsupported_use_message("seed"),
        source="3P",
        note="google/gemini-3-pro-image, vercel/ai#15035 (2026-05-05)",
    ),
    "negative_prompt_not_recognized": Rule(
        value=not_recognized_message("negative_prompt"),
        source="3P",
        note="FLUX.2-pro, measured 2026-08-19 (OrbFrontend/Orb image_gen degrade tests)",
    ),
    "seed_out_of_range": Rule(
        value=seed_message(SeedRange(min=0, max=2147483647)),
        source="3P",
        note="Wan-AI/Wan2.6-image, measured 2026-09-06 (Orb)",
    ),
    "wan_dimensions": Rule(
        value=area_message(
            AreaWindow(
                min_side=1265,
                max_side=1440,
                min_ratio=(1, 4),
                max_ratio=(4, 1),
                example=(768, 2700),
            )
        ),
        source="3P",
        note="Wan-AI/Wan2.6-image 1024x1536, measured 2026-09-06 (Orb)",
    ),
    "flash_lite_menu": Rule(
        value=(
            "Unsupported use of width/height parameters. The specified dimensions are not "
            "supported for the selected model. Supported values are: '1024x1024', '1264x848', "
            "'848x1264', '1200x896', '896x1200', '928x1152', '1152x928', '768x1376', '1376x768', "
            "'1584x672', '2048x512', '512x2048', '3072x384', '384x3072'."
        ),
        source="3P",
        note="google/flash-image-3.1-lite, measured 2026-09-06 (Orb)",
    ),
    "steps_not_in_configuration": Rule(
        value=not_in_configuration_message("steps"),
        source="3P",
        note="full body id oyhs8KB-2kFHot-a34f02a12eea72e1-SEA (2026-10), model not named",
    ),
    "non_serverless": Rule(
        value=non_serverless_message("<id>"),
        source="3P",
        note="template verbatim from a 2026-08-30 body (prompthero/openjourney), status 400",
    ),
    "model_not_available": Rule(
        value=model_not_available_message("<id>"),
        source="REC",
        note="maruel/genai errors/bad_model_image (2026-05-31), status 404",
    ),
    "flux2_dev_width": Rule(
        value=side_message("runware", "width", SizeRange(min=512, max=2048, multiple=16)),
        source="REC",
        note="maruel/genai FLUX.2-dev width 256 (2025-12-14)",
    ),
    "credit_limit_2026": Rule(
        value=(
            "Credit limit exceeded, please [add credits](https://api.together.ai/settings/billing)."
            " If you've already made a payment, please wait up to 5 minutes for balances to update"
            " and try again."
        ),
        source="3P",
        note="402 type credit_limit, verbatim 2026-05-02",
    ),
    "dynamic_rate_limit_2026": Rule(
        value=(
            "Too many requests in a short window. Our rate limits are dynamic - they shift with "
            "live model capacity and your traffic shape, so steady traffic and exponential "
            "back-off help."
        ),
        source="3P",
        note="429 on Wan2.6-image, measured 2026-09-06 (Orb)",
    ),
}
"""Every verbatim production text the table relies on, each with its source."""


# ---- field support and the order of checks ---------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class FieldSupport:
    """What one model does with one wire field.

    Attributes:
        name: The wire field.
        support: ``"accepted"`` (used), ``"ignored"`` (accepted, no effect) or ``"rejected"``.
        source: Provenance tag of this fact.
        note: The evidence.
        message: The exact 400 ``error.message`` when ``support`` is ``"rejected"``, else ``None``.
    """

    name: str
    support: Support
    source: Source
    note: str = ""
    message: str | None = None

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"FieldSupport source must be one of {SOURCES}, got {self.source!r}")
        if (self.support == "rejected") != (self.message is not None):
            raise ValueError(
                f"FieldSupport for {self.name!r}: a message is required exactly when the field "
                f"is rejected (support {self.support!r}, message {self.message!r})"
            )

    @property
    def accepted(self) -> bool:
        """Whether the model uses the field."""
        return self.support == "accepted"

    @property
    def ignored(self) -> bool:
        """Whether the model accepts the field without effect."""
        return self.support == "ignored"

    @property
    def rejected(self) -> bool:
        """Whether sending the field gets a 400."""
        return self.support == "rejected"

    def to_json(self) -> dict[str, Any]:
        """Return the support as JSON (``message`` only when rejected)."""
        out: dict[str, Any] = {"support": self.support, "source": self.source, "note": self.note}
        if self.message is not None:
            out["message"] = self.message
        return out


REJECTION_ORDER: Rule[tuple[str, ...]] = Rule(
    value=(
        "image_url",
        "reference_images",
        "seed",
        "steps",
        "guidance",
        "guidance_scale",
        "image_loras",
        "negative_prompt",
        "disable_safety_checker",
        "output_format",
        "prompt_upsampling",
        "aspect_ratio",
        "size",
    ),
    source="3P",
    note=(
        "Orb 2026-08-19: FLUX.2 refuses image_url first, then negative_prompt on the retry, "
        "although its body put negative_prompt first (a fixed order, not body order); the "
        "rest of the order [INF]"
    ),
)
"""Order in which rejected fields are reported: a body with two gets the first one's words."""

CHECK_ORDER: Mapping[Wording, Rule[tuple[Check, ...]]] = {
    "flux1": Rule(
        value=(
            "model",
            "prompt",
            "dimensions",
            "steps",
            "n",
            "formats",
            "image_url",
            "image_loras",
            "reference_images",
        ),
        source="INF",
        note=(
            "model first [REC: an unknown model is answered before the body is read]; the rest "
            "is the fake's historical order, no FLUX.1 evidence beyond single-error recordings"
        ),
    ),
    "runware": Rule(
        value=(
            "model",
            "prompt",
            "seed",
            "rejected_fields",
            "dimensions",
            "steps",
            "n",
            "reference_images",
            "image_url",
            "formats",
        ),
        source="3P",
        note=(
            "Orb 2026-09-06: the seed range is refused before the dimensions (Wan2.6-image) "
            "and before an unsupported image_url; 2026-08-19: image_url before negative_prompt "
            "(FLUX.2); REC: FLUX.2-dev reports width before height. prompt, steps, n and formats "
            "positions [INF]"
        ),
    ),
}
"""The order of checks per wording family, after the model is resolved."""


# ---- the per-model record --------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ModelParams:
    """Everything the table knows about one model.

    Attributes:
        id: The model id as sent in ``model``.
        display_name: Name as ``GET /v1/models`` lists it.
        organization: Publisher as ``GET /v1/models`` lists it.
        wording: Which family of validation texts the model answers in.
        serverless: Whether Together serves the model on the serverless endpoint at all.
        retired: Date the model left the serverless listing, or ``None`` while it is served.
        retired_answer: What a retired id answers by default (404 unknown, or 400 non-serverless).
        support: Every wire field in ``WIRE_FIELDS`` and what the model does with it.
        dimensions: Allowed ``width``/``height``: a per-side range, an area window or a menu.
        default_size: ``(width, height)`` used when the request gives neither.
        steps: Allowed ``steps`` as ``(low, high)``, or ``None`` when ``steps`` is not taken.
        default_steps: Steps used when the request gives none (``None``: the model has no steps).
        seeds: Inclusive seed bounds, or ``None`` for no bound (or no seed at all).
        max_n: Largest ``n``.
        reference_images: Most ``reference_images`` the model takes (0 when it takes none).
        image_url: Whether an ``image_url`` is required, optional or refused by the model.
        max_loras: Most ``image_loras`` items (0 when the model takes none).
        output_size: ``"reference"`` when an input image sets the output size (Kontext).
        aspect_ratios: Documented ``aspect_ratio`` values (empty when the field is not taken).
        required: Fields the request must carry.
        note: Anything else worth knowing.
    """

    id: str
    display_name: str
    organization: str
    wording: Rule[Wording]
    serverless: Rule[bool]
    retired: Rule[str | None]
    retired_answer: Rule[RetiredAnswer]
    support: Mapping[str, FieldSupport]
    dimensions: Rule[Dimensions]
    default_size: Rule[tuple[int, int]]
    steps: Rule[tuple[int, int] | None]
    default_steps: Rule[int | None]
    seeds: Rule[SeedRange | None]
    max_n: Rule[int]
    reference_images: Rule[int]
    image_url: Rule[ImageInputRule]
    max_loras: Rule[int]
    output_size: Rule[OutputSize]
    aspect_ratios: Rule[tuple[str, ...]]
    required: Rule[tuple[str, ...]]
    note: str = ""

    def __post_init__(self) -> None:
        missing = [name for name in WIRE_FIELDS if name not in self.support]
        if missing:
            raise ValueError(f"Model {self.id}: no support entry for {missing}")
        # The image_url rule and the field's support must agree, or two readers would differ.
        takes = self.support["image_url"].accepted
        if takes != (self.image_url.value != "refused"):
            raise ValueError(
                f"Model {self.id}: image_url rule {self.image_url.value!r} disagrees with field "
                f"support {self.support['image_url'].support!r}"
            )
        if self.support["reference_images"].accepted != (self.reference_images.value > 0):
            raise ValueError(f"Model {self.id}: reference_images count and support disagree")

    # -- the small API the client and the fake share ----------------------------------------

    def field(self, name: str) -> FieldSupport:
        """Return what the model does with wire field ``name``.

        Fields outside ``WIRE_FIELDS`` are accepted and ignored on every model: FLUX.1 was
        measured to ignore unknown fields (``image``, ``images``, ``image_urls``, ``size``) [3P
        Orb]; for the other models that is an inference.
        """
        known = self.support.get(name)
        if known is not None:
            return known
        if self.wording.value == "flux1":
            return FieldSupport(
                name=name,
                support="ignored",
                source="3P",
                note="Orb: FLUX.1 accepts and ignores fields it does not use",
            )
        return FieldSupport(
            name=name, support="ignored", source="INF", note="unknown field; no evidence either way"
        )

    @property
    def rejected_fields(self) -> tuple[str, ...]:
        """Fields this model answers with a 400, in the order the real API reports them."""
        order = REJECTION_ORDER.value
        rejected = [name for name in WIRE_FIELDS if self.support[name].rejected]
        return tuple(sorted(rejected, key=lambda name: (order.index(name), name)))

    @property
    def ignored_fields(self) -> tuple[str, ...]:
        """Fields this model accepts without effect."""
        return tuple(name for name in WIRE_FIELDS if self.support[name].ignored)

    @property
    def takes_image_url(self) -> bool:
        """Whether the model uses one input image given as ``image_url``."""
        return self.support["image_url"].accepted

    @property
    def takes_reference_images(self) -> bool:
        """Whether the model uses several input images given as ``reference_images``."""
        return self.support["reference_images"].accepted

    @property
    def max_reference_images(self) -> int:
        """Most reference images the model takes (0 when it takes none)."""
        return self.reference_images.value

    @property
    def takes_only_reference_images(self) -> bool:
        """Whether input images must go in ``reference_images`` (``image_url`` is rejected)."""
        return self.takes_reference_images and self.support["image_url"].rejected

    @property
    def takes_aspect_ratio(self) -> bool:
        """Whether the model sets its output size from ``aspect_ratio``."""
        return self.support["aspect_ratio"].accepted

    @property
    def is_served(self) -> bool:
        """Whether the serverless endpoint serves the model today (serverless and not retired)."""
        return self.serverless.value and self.retired.value is None

    @property
    def check_order(self) -> Rule[tuple[Check, ...]]:
        """The order of checks of this model's wording family."""
        return CHECK_ORDER[self.wording.value]

    def dimension_error(self, width: int, height: int) -> str | None:
        """Return the real 400 text for ``width``×``height``, or ``None`` when allowed.

        A per-side range reports ``width`` before ``height`` [REC FLUX.2-dev]; an area window
        and a menu report the pair.
        """
        dims = self.dimensions.value
        if isinstance(dims, SizeRange):
            for name, side in (("width", width), ("height", height)):
                if not dims.allows(side):
                    return side_message(self.wording.value, name, dims)
            return None
        if dims.allows_size(width, height):
            return None
        if isinstance(dims, AreaWindow):
            return area_message(dims)
        return menu_message(dims)

    def seed_error(self, seed: int) -> str | None:
        """Return the real 400 text for an out-of-range seed, or ``None``."""
        seeds = self.seeds.value
        if seeds is None or seeds.allows(seed):
            return None
        return seed_message(seeds)

    def rules(self) -> dict[str, Rule[Any]]:
        """Return every value rule by name (the ``support`` entries are separate)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name in RULE_NAMES}

    def provenance(self) -> Iterator[tuple[str, Source]]:
        """Yield ``(rule name, tag)`` for every rule and every field support of the model."""
        for name, rule in self.rules().items():
            yield name, rule.source
        for name in WIRE_FIELDS:
            yield f"support.{name}", self.support[name].source

    def to_json(self) -> dict[str, Any]:
        """Return the model with every rule's provenance, as ``GET /_fake/models`` shows it."""
        return {
            "id": self.id,
            "display_name": self.display_name,
            "organization": self.organization,
            "note": self.note,
            "rules": {name: rule.to_json() for name, rule in self.rules().items()},
            "support": {name: self.support[name].to_json() for name in WIRE_FIELDS},
        }

    def with_support(self, *entries: FieldSupport) -> ModelParams:
        """Return a copy with some field supports replaced."""
        return replace(self, support={**self.support, **{e.name: e for e in entries}})


RULE_NAMES = frozenset(
    f.name
    for f in fields(ModelParams)
    if f.name not in {"id", "display_name", "organization", "support", "note"}
)
"""Names of the ``Rule`` attributes of ``ModelParams``."""


# ---- building blocks -------------------------------------------------------------------------


def _ok(name: str, source: Source, note: str) -> FieldSupport:
    return FieldSupport(name=name, support="accepted", source=source, note=note)


def _ignored(name: str, source: Source, note: str) -> FieldSupport:
    return FieldSupport(name=name, support="ignored", source=source, note=note)


def _unsupported(name: str, source: Source, note: str) -> FieldSupport:
    return FieldSupport(
        name=name,
        support="rejected",
        source=source,
        note=note,
        message=unsupported_use_message(name),
    )


def _not_recognized(name: str, source: Source, note: str) -> FieldSupport:
    return FieldSupport(
        name=name,
        support="rejected",
        source=source,
        note=note,
        message=not_recognized_message(name),
    )


def _not_in_configuration(name: str, source: Source, note: str) -> FieldSupport:
    return FieldSupport(
        name=name,
        support="rejected",
        source=source,
        note=note,
        message=not_in_configuration_message(name),
    )


def _support(*entries: FieldSupport) -> dict[str, FieldSupport]:
    return {entry.name: entry for entry in entries}


_SERVED = Rule[str | None](value=None, source="REC", note="listed by GET /v1/models on 2026-08-17")
_SERVERLESS = Rule(value=True, source="REC", note="listed by GET /v1/models on 2026-08-17")
_NOT_RETIRED = Rule[RetiredAnswer](
    value="model_not_available", source="INF", note="served; used only if it is retired"
)
_DEFAULT_SIZE = Rule(value=(1024, 1024), source="DOC", note="OpenAPI: width/height default 1024")
_MAX_N = Rule(value=4, source="DOC", note="docs: n 1-4")
_REQUIRED = Rule[tuple[str, ...]](
    value=("prompt", "model"), source="DOC", note="OpenAPI: required [prompt, model]"
)
_REQUEST_SIZE = Rule[OutputSize](
    value="request", source="INF", note="output size follows width/height (no other evidence)"
)
_NO_RATIOS = Rule[tuple[str, ...]](
    value=(), source="DOC", note="docs: aspect_ratio is for FLUX Schnell and Kontext only"
)
_DOC_RATIOS = Rule[tuple[str, ...]](
    value=("1:1", "16:9", "9:16", "4:3", "3:2"),
    source="DOC",
    note="SKILLS api-reference: 'For Schnell/Kontext: 1:1, 16:9, 9:16, 4:3, 3:2'",
)
_NO_REFS = Rule(value=0, source="DOC", note="docs: reference_images is for FLUX.2 and Google")
_NO_LORAS = Rule(value=0, source="DOC", note="SKILLS: image_loras on FLUX.2-dev (and FLUX.1-dev)")
_LORAS = Rule(value=2, source="DOC", note="docs: up to 2 LoRAs per image")
_STEPS_DOC = Rule[tuple[int, int] | None](
    value=(1, 50), source="DOC", note="docs: steps 1-50 (no per-model ranges published)"
)
_NO_STEPS = Rule[tuple[int, int] | None](
    value=None, source="3P", note="steps is rejected (see support.steps)"
)
_NO_DEFAULT_STEPS = Rule[int | None](
    value=None, source="DOC", note="serverless table: default steps '-'"
)
_PARTNER_SEEDS = Rule[SeedRange | None](
    value=SeedRange(min=0, max=2147483647),
    source="INF",
    note="measured on Wan2.6-image only (2026-09-06); the same Runware-family bound assumed",
)
_FREE_SEEDS = Rule[SeedRange | None](
    value=None, source="INF", note="no bound observed (seed 42 recorded)"
)
_FLUX1_SIZES = Rule[Dimensions](
    value=SizeRange(min=64, max=1792, multiple=16),
    source="3P",
    note=(
        "Orb 'verified against the live API' (FLUX.1-schnell default): 64..1792, 400 on a "
        "non-multiple of 16; conflicts: 3P quote 256..2048, SKILLS 256-1920, docs multiples of 8"
    ),
)
_FLUX1_SIZES_INF = replace(
    _FLUX1_SIZES, source="INF", note="Orb's provider-level bounds (measured on FLUX.1-schnell)"
)
_GENERIC_SIZES = Rule[Dimensions](
    value=SizeRange(min=256, max=2048, multiple=8),
    source="INF",
    note="no published limit; docs advise multiples of 8",
)

_FLUX1_WORDING = Rule[Wording](
    value="flux1", source="REC", note="FLUX.1 recordings (404, 401, 500) and the 3P width quote"
)
_HOSTED_WORDING = Rule[Wording](
    value="flux1", source="INF", note="hosted by Together like FLUX.1; no validation text seen"
)
_RUNWARE_WORDING = Rule[Wording](
    value="runware",
    source="3P",
    note="texts match Runware's word for word (Puter #2084, Orb, vercel/ai#15035)",
)
_FLUX2_WORDING = Rule[Wording](
    value="runware",
    source="REC",
    note="FLUX.2-dev width text [REC] is Runware's form; FLUX.2-pro negative_prompt text [3P]",
)


def _retired(date: str, answer: RetiredAnswer, why: str) -> dict[str, Any]:
    return {
        "retired": Rule[str | None](
            value=date, source="REC", note=f"absent from GET /v1/models since {date}"
        ),
        "retired_answer": Rule[RetiredAnswer](value=answer, source="INF", note=why),
    }


_OPEN_WEIGHTS = (
    "open weights Together still serves on dedicated endpoints: the non-serverless 400, as a "
    "third party saw for FLUX.1-dev in 2026"
)
_CLOSED = "a closed model no longer offered: answered as an unknown id (404)"


# ---- FLUX.1 ----------------------------------------------------------------------------------


def _flux1_support() -> dict[str, FieldSupport]:
    return _support(
        _ok("prompt", "DOC", "OpenAPI: required"),
        _ok("model", "DOC", "OpenAPI: required"),
        _ok("width", "REC", "256x256 recorded 2025-07 -> 2026-05"),
        _ok("height", "REC", "256x256 recorded 2025-07 -> 2026-05"),
        _ok("n", "DOC", "docs: 1-4"),
        _ok("steps", "DOC", "docs: 1-50"),
        _ok("seed", "REC", "seed 42 recorded"),
        _ok("response_format", "REC", "url default, base64 on request"),
        _ok(
            "output_format",
            "DOC",
            "OpenAPI added jpeg|png on 2025-02-01, when only FLUX.1 was served "
            "(conflict: SKILLS lists it for FLUX.2 only)",
        ),
        _ok("negative_prompt", "DOC", "OpenAPI field"),
        _ignored("guidance", "INF", "SKILLS: guidance is FLUX.2 dev/flex; FLUX.1 ignores extras"),
        _ok("guidance_scale", "DOC", "OpenAPI: guidance_scale default 3.5"),
        _ignored("image_url", "3P", "Orb: FLUX.1-schnell answers 200 and renders the prompt alone"),
        _ignored(
            "reference_images",
            "INF",
            "docs: reference_images is FLUX.2/Google; FLUX.1 ignores fields it does not use "
            "(Orb: image/images/image_urls on Kontext)",
        ),
        _ignored("image_loras", "INF", "LoRAs documented for FLUX.1-dev(-lora) and FLUX.2-dev"),
        _ignored("aspect_ratio", "DOC", "docs: FLUX.1 Pro/1.1 Pro/Dev use width and height"),
        _ignored("prompt_upsampling", "INF", "SKILLS: prompt_upsampling is FLUX.2 only"),
        _ok("disable_safety_checker", "DOC", "docs: works for every model but Schnell Free/Pro"),
        _ignored("size", "3P", "Orb: Together accepts an OpenAI size, ignores it, renders default"),
    )


def _flux1(
    model_id: str,
    name: str,
    *,
    overrides: tuple[FieldSupport, ...] = (),
    dimensions: Rule[Dimensions] = _FLUX1_SIZES_INF,
    default_steps: Rule[int | None],
    image_url: Rule[ImageInputRule] = Rule(
        value="refused", source="3P", note="image_url is ignored, so no input image is used"
    ),
    max_loras: Rule[int] = _NO_LORAS,
    output_size: Rule[OutputSize] = _REQUEST_SIZE,
    aspect_ratios: Rule[tuple[str, ...]] = _NO_RATIOS,
    required: Rule[tuple[str, ...]] = _REQUIRED,
    retired: dict[str, Any] | None = None,
    note: str = "",
) -> ModelParams:
    support = {**_flux1_support(), **_support(*overrides)}
    return ModelParams(
        id=model_id,
        display_name=name,
        organization="Black Forest Labs",
        wording=_FLUX1_WORDING,
        serverless=_SERVERLESS,
        retired=(retired or {}).get("retired", _SERVED),
        retired_answer=(retired or {}).get("retired_answer", _NOT_RETIRED),
        support=support,
        dimensions=dimensions,
        default_size=_DEFAULT_SIZE,
        steps=_STEPS_DOC,
        default_steps=default_steps,
        seeds=_FREE_SEEDS,
        max_n=_MAX_N,
        reference_images=Rule(value=0, source="INF", note="reference_images is ignored"),
        image_url=image_url,
        max_loras=max_loras,
        output_size=output_size,
        aspect_ratios=aspect_ratios,
        required=required,
        note=note,
    )


_KONTEXT_IMAGE = _ok(
    "image_url", "3P", "Orb verified on Kontext pro and max: a data: URL reproduces the reference"
)
_KONTEXT_RULE = Rule[ImageInputRule](
    value="optional", source="DOC", note="docs: edit via image_url; text-only also works"
)
_KONTEXT_SIZE = Rule[OutputSize](
    value="reference",
    source="3P",
    note="Orb: a 512x512 reference on a 1024x576 request came back 1024x1024",
)
_KONTEXT_NOTE = (
    "FLUX.1 Kontext edits the image in image_url; the output takes the reference's aspect at "
    "about one megapixel, whatever width/height say"
)
_KONTEXT_OVERRIDES = (
    _KONTEXT_IMAGE,
    _ok("aspect_ratio", "DOC", "docs: Kontext uses aspect_ratio (or width/height)"),
    _ignored("negative_prompt", "INF", "SKILLS: no negative_prompt on Kontext; FLUX.1 ignores"),
)
_STEPS_28 = Rule[int | None](value=28, source="DOC", note="serverless table: default steps 28")
_STEPS_28_INF = Rule[int | None](value=28, source="INF", note="default steps not published")
_CONTROL_IMAGE = (_ok("image_url", "3P", "third-party usage sends a control image in image_url"),)
_CONTROL_RULE = Rule[ImageInputRule](
    value="required", source="3P", note="third-party usage always sends a control image"
)
_CONTROL_REQUIRED = Rule[tuple[str, ...]](
    value=("prompt", "model", "image_url"), source="3P", note="a control model needs its image"
)


def _flux1_models() -> tuple[ModelParams, ...]:
    bfl = "black-forest-labs/"
    return (
        _flux1(
            bfl + "FLUX.1-schnell",
            "FLUX.1 Schnell",
            dimensions=_FLUX1_SIZES,
            default_steps=Rule(value=4, source="DOC", note="docs: 'Fastest; default 4 steps'"),
            overrides=(
                _ignored(
                    "negative_prompt",
                    "3P",
                    "Orb: distilled, no CFG; same seed with and without gives identical bytes",
                ),
                _ok("aspect_ratio", "DOC", "docs: FLUX Schnell uses aspect_ratio"),
            ),
            aspect_ratios=_DOC_RATIOS,
        ),
        _flux1(
            bfl + "FLUX.1-kontext-pro",
            "FLUX.1 Kontext [pro]",
            dimensions=replace(_FLUX1_SIZES, note="Orb's verified bounds, Kontext pro/max probed"),
            default_steps=_STEPS_28,
            overrides=_KONTEXT_OVERRIDES,
            image_url=_KONTEXT_RULE,
            output_size=_KONTEXT_SIZE,
            aspect_ratios=_DOC_RATIOS,
            note=_KONTEXT_NOTE,
        ),
        _flux1(
            bfl + "FLUX.1-kontext-max",
            "FLUX.1 Kontext [max]",
            dimensions=replace(_FLUX1_SIZES, note="Orb's verified bounds, Kontext pro/max probed"),
            default_steps=_STEPS_28,
            overrides=_KONTEXT_OVERRIDES,
            image_url=_KONTEXT_RULE,
            output_size=_KONTEXT_SIZE,
            aspect_ratios=_DOC_RATIOS,
            note=_KONTEXT_NOTE,
        ),
        _flux1(
            bfl + "FLUX.1.1-pro",
            "FLUX1.1 [pro]",
            default_steps=_NO_DEFAULT_STEPS,
            overrides=(
                _ignored("negative_prompt", "INF", "SKILLS: negative_prompt only on Schnell"),
                _ignored(
                    "disable_safety_checker",
                    "DOC",
                    "docs: the checker cannot be disabled for Flux Pro models",
                ),
            ),
        ),
        # Retired (absent from the 2026-08-17 listing).
        _flux1(
            bfl + "FLUX.1-schnell-Free",
            "FLUX.1 [schnell] Free",
            dimensions=_FLUX1_SIZES,
            default_steps=Rule(value=4, source="INF", note="serverless table: N/A; schnell's 4"),
            overrides=(
                _ignored("negative_prompt", "INF", "same weights as FLUX.1-schnell"),
                _ok("aspect_ratio", "DOC", "docs: FLUX Schnell uses aspect_ratio"),
                _ignored(
                    "disable_safety_checker",
                    "DOC",
                    "docs: the checker cannot be disabled for Schnell Free",
                ),
            ),
            aspect_ratios=_DOC_RATIOS,
            retired=_retired("2026-03-20", "model_not_available", _CLOSED),
        ),
        _flux1(
            bfl + "FLUX.1-dev",
            "FLUX.1 [dev]",
            default_steps=_STEPS_28,
            retired=_retired("2026-03-20", "non_serverless", _OPEN_WEIGHTS),
        ),
        _flux1(
            bfl + "FLUX.1-dev-lora",
            "FLUX.1 [dev] LoRA",
            default_steps=_STEPS_28,
            overrides=(_ok("image_loras", "DOC", "LoRA quickstart: up to 2 LoRAs"),),
            max_loras=_LORAS,
            retired=_retired("2026-03-20", "non_serverless", _OPEN_WEIGHTS),
        ),
        _flux1(
            bfl + "FLUX.1-canny",
            "FLUX.1 Canny [dev]",
            default_steps=_STEPS_28_INF,
            overrides=_CONTROL_IMAGE,
            image_url=_CONTROL_RULE,
            required=_CONTROL_REQUIRED,
            retired=_retired("2025-08-30", "non_serverless", _OPEN_WEIGHTS),
        ),
        _flux1(
            bfl + "FLUX.1-depth",
            "FLUX.1 Depth [dev]",
            default_steps=_STEPS_28_INF,
            overrides=_CONTROL_IMAGE,
            image_url=_CONTROL_RULE,
            required=_CONTROL_REQUIRED,
            retired=_retired("2025-08-30", "non_serverless", _OPEN_WEIGHTS),
        ),
        _flux1(
            bfl + "FLUX.1-redux",
            "FLUX.1 Redux [dev]",
            default_steps=_STEPS_28_INF,
            overrides=_CONTROL_IMAGE,
            image_url=_CONTROL_RULE,
            required=_CONTROL_REQUIRED,
            retired=_retired("2025-08-30", "non_serverless", _OPEN_WEIGHTS),
        ),
        _flux1(
            bfl + "FLUX.1-pro",
            "FLUX.1 [pro]",
            default_steps=_NO_DEFAULT_STEPS,
            overrides=(
                _ignored(
                    "disable_safety_checker",
                    "DOC",
                    "docs: the checker cannot be disabled for Flux Pro models",
                ),
            ),
            retired=_retired("2026-04-16", "model_not_available", _CLOSED),
            note="docs 2025-10-31: calls redirected to FLUX.1.1-pro until it left the listing",
        ),
        _flux1(
            bfl + "FLUX.1-kontext-dev",
            "FLUX.1 Kontext [dev]",
            default_steps=_STEPS_28,
            overrides=_KONTEXT_OVERRIDES,
            image_url=_KONTEXT_RULE,
            output_size=replace(_KONTEXT_SIZE, source="INF", note="as Kontext pro/max"),
            aspect_ratios=_DOC_RATIOS,
            retired=_retired("2026-03-20", "non_serverless", _OPEN_WEIGHTS),
            note=_KONTEXT_NOTE,
        ),
        _flux1(
            bfl + "FLUX.1-krea-dev",
            "FLUX.1 Krea [dev]",
            default_steps=_STEPS_28,
            retired=_retired("2026-05-31", "non_serverless", _OPEN_WEIGHTS),
        ),
    )


# ---- FLUX.2 ----------------------------------------------------------------------------------


def _flux2_support() -> dict[str, FieldSupport]:
    return _support(
        _ok("prompt", "DOC", "OpenAPI: required"),
        _ok("model", "DOC", "OpenAPI: required"),
        _ok("width", "REC", "recorded 2025-12 -> 2026-05"),
        _ok("height", "REC", "recorded 2025-12 -> 2026-05"),
        _ok("n", "DOC", "docs: 1-4"),
        _ok("steps", "DOC", "SKILLS: FLUX.2-dev takes steps"),
        _ok("seed", "REC", "seed 42 recorded on FLUX.2 dev/pro/flex/max"),
        _ok("response_format", "REC", "url recorded; base64 documented"),
        _ok("output_format", "DOC", "SKILLS: output_format on FLUX.2"),
        _not_recognized(
            "negative_prompt",
            "DOC",
            "SKILLS: no negative_prompt on FLUX.2; words measured on FLUX.2-pro [3P]",
        ),
        _ok("guidance", "DOC", "SKILLS: guidance on FLUX.2 dev/flex"),
        _ignored("guidance_scale", "INF", "generic OpenAPI field; FLUX.2 documents guidance"),
        _unsupported(
            "image_url",
            "DOC",
            "docs: FLUX.2 [dev] only supports reference_images; words as measured on FLUX.2 [3P]",
        ),
        _ok("reference_images", "DOC", "docs: reference_images on FLUX.2 pro/dev/flex"),
        _not_recognized("image_loras", "INF", "SKILLS: image_loras on FLUX.2-dev only"),
        _ignored("aspect_ratio", "INF", "docs: aspect_ratio is for Schnell/Kontext"),
        _ok("prompt_upsampling", "DOC", "SKILLS: prompt_upsampling on FLUX.2, default true"),
        _ignored(
            "disable_safety_checker",
            "3P",
            "moderation is Black Forest Labs' own: content_policy_violation even with the flag",
        ),
        _ignored("size", "INF", "an OpenAI size is ignored on FLUX.1 [3P Orb]; assumed here"),
    )


def _flux2(
    model_id: str,
    name: str,
    *,
    overrides: tuple[FieldSupport, ...],
    dimensions: Rule[Dimensions],
    steps: Rule[tuple[int, int] | None],
    default_steps: Rule[int | None],
    reference_images: Rule[int],
    max_loras: Rule[int] = _NO_LORAS,
    note: str = "",
) -> ModelParams:
    return ModelParams(
        id=model_id,
        display_name=name,
        organization="Black Forest Labs",
        wording=_FLUX2_WORDING,
        serverless=_SERVERLESS,
        retired=_SERVED,
        retired_answer=_NOT_RETIRED,
        support={**_flux2_support(), **_support(*overrides)},
        dimensions=dimensions,
        default_size=_DEFAULT_SIZE,
        steps=steps,
        default_steps=default_steps,
        seeds=_FREE_SEEDS,
        max_n=_MAX_N,
        reference_images=reference_images,
        image_url=Rule(value="refused", source="3P", note="see support.image_url"),
        max_loras=max_loras,
        output_size=_REQUEST_SIZE,
        aspect_ratios=_NO_RATIOS,
        required=_REQUIRED,
        note=note,
    )


_FLUX2_IMAGE_URL_MEASURED = _unsupported(
    "image_url",
    "3P",
    "Orb measured 2026-08-19 (FLUX.2 refuses image_url first); Puter #2084 lists FLUX.2-pro; "
    "conflict: docs say pro/flex accept image_url, measurement followed",
)
_STEPS_BY_CONFIG = _not_in_configuration(
    "steps",
    "3P",
    "text verbatim from an unnamed-model 2026 body; refused on FLUX.2 pro/flex per the 2026 "
    "evidence summary (attribution [INF]); conflict: docs say flex has adjustable steps",
)
_BFL_REFS = Rule(value=8, source="3P", note="BFL docs: FLUX.2 pro/flex/max up to 8 via API")


def _flux2_models() -> tuple[ModelParams, ...]:
    bfl = "black-forest-labs/"
    return (
        _flux2(
            bfl + "FLUX.2-dev",
            "FLUX.2 [dev]",
            overrides=(
                _ok("image_loras", "DOC", "SKILLS: up to 2 LoRAs on FLUX.2-dev"),
                _ok("disable_safety_checker", "3P", "only FLUX.2-dev honours the flag"),
            ),
            dimensions=Rule(
                value=SizeRange(min=512, max=2048, multiple=16),
                source="REC",
                note="width 256 -> 400 '...between 512 and 2048, in multiples of '16''",
            ),
            steps=_STEPS_DOC,
            default_steps=_STEPS_28_INF,
            reference_images=Rule(
                value=6, source="INF", note="BFL: 'recommended max 6'; the hard limit is unknown"
            ),
            max_loras=_LORAS,
        ),
        _flux2(
            bfl + "FLUX.2-pro",
            "FLUX.2 [pro]",
            overrides=(
                _FLUX2_IMAGE_URL_MEASURED,
                _STEPS_BY_CONFIG,
                _not_recognized(
                    "negative_prompt",
                    "3P",
                    "measured 2026-08-19 (Orb): the odd double quoting is real",
                ),
                _not_recognized("guidance", "INF", "SKILLS: guidance on dev/flex only"),
            ),
            dimensions=Rule(
                value=SizeRange(min=256, max=3072, multiple=16),
                source="INF",
                note="256x256 accepted [REC]; docs: up to 9 MP output",
            ),
            steps=replace(_NO_STEPS, source="INF"),
            default_steps=_NO_DEFAULT_STEPS,
            reference_images=_BFL_REFS,
        ),
        _flux2(
            bfl + "FLUX.2-flex",
            "FLUX.2 [flex]",
            overrides=(
                replace(
                    _FLUX2_IMAGE_URL_MEASURED,
                    note=(
                        "Orb: 'FLUX.2 and Seedream answer Unsupported use of image_url' (family, "
                        "not variant); conflict: docs say flex accepts image_url"
                    ),
                ),
                _STEPS_BY_CONFIG,
            ),
            dimensions=Rule(
                value=SizeRange(min=256, max=2048, multiple=16),
                source="INF",
                note="256x256 accepted [REC]; maximum not published",
            ),
            steps=replace(_NO_STEPS, source="INF"),
            default_steps=_NO_DEFAULT_STEPS,
            reference_images=_BFL_REFS,
        ),
        _flux2(
            bfl + "FLUX.2-max",
            "FLUX.2 [max]",
            overrides=(
                replace(_FLUX2_IMAGE_URL_MEASURED, source="INF", note="as FLUX.2-pro"),
                _not_recognized("guidance", "INF", "SKILLS: guidance on dev/flex only"),
                _ok("steps", "INF", "GET /v1/models prices it with min_steps 50 [REC]"),
            ),
            dimensions=Rule(
                value=SizeRange(min=256, max=2048, multiple=16),
                source="INF",
                note="512x512 accepted [REC]; limits not published",
            ),
            steps=replace(_STEPS_DOC, source="INF", note="docs' generic 1-50"),
            default_steps=Rule(value=50, source="REC", note="GET /v1/models: min_steps 50"),
            reference_images=_BFL_REFS,
        ),
    )


# ---- partner models (Google, Qwen, ByteDance, Wan, Ideogram, OpenAI, Pruna, xAI) ------------


def _partner_support() -> dict[str, FieldSupport]:
    return _support(
        _ok("prompt", "DOC", "OpenAPI: required"),
        _ok("model", "DOC", "OpenAPI: required"),
        _ok("width", "DOC", "OpenAPI field; value rules per model"),
        _ok("height", "DOC", "OpenAPI field; value rules per model"),
        _ok("n", "DOC", "docs: 1-4"),
        _unsupported(
            "steps",
            "INF",
            "measured on Qwen-Image-2.0 and gemini-3-pro-image [3P]; a third party lists all "
            "non-diffusion partner models as refusing steps",
        ),
        _ok("seed", "INF", "bounded 0..2147483647 (measured on Wan2.6-image)"),
        _ok("response_format", "DOC", "OpenAPI: url or base64"),
        _ignored("output_format", "INF", "SKILLS: output_format is FLUX.2 only"),
        _ok("negative_prompt", "INF", "no evidence either way"),
        _ignored("guidance", "INF", "guidance is documented for FLUX.2 only"),
        _ignored("guidance_scale", "INF", "generic OpenAPI field; no evidence for this model"),
        _unsupported("image_url", "INF", "image_url is documented for Kontext and FLUX.2 only"),
        _unsupported(
            "reference_images", "INF", "reference_images documented for FLUX.2 and Google only"
        ),
        _unsupported("image_loras", "INF", "LoRAs are documented for FLUX only"),
        _ignored("aspect_ratio", "INF", "docs: aspect_ratio is for Schnell/Kontext"),
        _ignored("prompt_upsampling", "INF", "SKILLS: prompt_upsampling is FLUX.2 only"),
        _ignored(
            "disable_safety_checker",
            "INF",
            "Puter #2084 sent it with image_url to flash-image-2.5 and was refused for image_url",
        ),
        _ignored("size", "INF", "an OpenAI size is ignored on FLUX.1 [3P Orb]; assumed here"),
    )


def _partner(
    model_id: str,
    name: str,
    organization: str,
    *,
    overrides: tuple[FieldSupport, ...] = (),
    dimensions: Rule[Dimensions] = _GENERIC_SIZES,
    default_size: Rule[tuple[int, int]] = _DEFAULT_SIZE,
    seeds: Rule[SeedRange | None] = _PARTNER_SEEDS,
    reference_images: Rule[int] = Rule(value=0, source="INF", note="not documented"),
    retired: dict[str, Any] | None = None,
    note: str = "",
) -> ModelParams:
    return ModelParams(
        id=model_id,
        display_name=name,
        organization=organization,
        wording=_RUNWARE_WORDING,
        serverless=_SERVERLESS,
        retired=(retired or {}).get("retired", _SERVED),
        retired_answer=(retired or {}).get("retired_answer", _NOT_RETIRED),
        support={**_partner_support(), **_support(*overrides)},
        dimensions=dimensions,
        default_size=default_size,
        steps=Rule(value=None, source="3P", note="non-diffusion partner models take no steps"),
        default_steps=Rule(value=None, source="DOC", note="serverless table: default steps '-'"),
        seeds=seeds,
        max_n=_MAX_N,
        reference_images=reference_images,
        image_url=Rule(value="refused", source="INF", note="see support.image_url"),
        max_loras=_NO_LORAS,
        output_size=_REQUEST_SIZE,
        aspect_ratios=_NO_RATIOS,
        required=_REQUIRED,
        note=note,
    )


def _menu(*sizes: str) -> SizeMenu:
    pairs = []
    for size in sizes:
        width, height = size.split("x")
        pairs.append((int(width), int(height)))
    return SizeMenu(sizes=tuple(pairs))


_GEMINI_CORE = (
    "1024x1024",
    "1264x848",
    "848x1264",
    "1200x896",
    "896x1200",
    "928x1152",
    "1152x928",
    "768x1376",
    "1376x768",
    "1584x672",
)
_FLASH_31_MENU = _menu(*_GEMINI_CORE, "2048x512", "512x2048", "3072x384", "384x3072")
_GEMINI_3_PRO_MENU = _menu(
    *_GEMINI_CORE,
    "2048x2048",
    "2528x1696",
    "1696x2528",
    "2400x1792",
    "1792x2400",
    "1856x2304",
    "2304x1856",
    "1536x2752",
    "2752x1536",
    "3168x1344",
    "4096x4096",
    "5056x3392",
    "3392x5056",
    "4800x3584",
    "3584x4800",
    "3712x4608",
    "4608x3712",
    "3072x5504",
    "5504x3072",
    "6336x2688",
)
_NANO_MENU = _menu(
    "1024x1024",
    "1248x832",
    "832x1248",
    "1184x864",
    "864x1184",
    "896x1152",
    "1152x896",
    "768x1344",
    "1344x768",
    "1536x672",
)
_GOOGLE_ONLY_REFS = _unsupported(
    "image_url",
    "DOC",
    "docs: Gemini 3 Pro Image and Flash Image 2.5 only support reference_images; words [3P]",
)
_GOOGLE_NEGATIVE = _unsupported(
    "negative_prompt", "DOC", "SKILLS matrix: Google models take no negative_prompt; words [INF]"
)
_GOOGLE_GUIDANCE = _unsupported(
    "guidance", "SDK", "@ai-sdk/togetherai 3.0.54 drops guidance for gemini-3-pro-image"
)
_SEEDREAM_IMAGE_URL = _unsupported(
    "image_url", "3P", "Orb: 'FLUX.2 and Seedream answer Unsupported use of image_url'"
)
_SEEDREAM_NEGATIVE = _unsupported(
    "negative_prompt",
    "3P",
    "Runware (2026-07-27): Seedream 4.0 refuses negativePrompt; Together's words [INF]",
)
_OPENAI_NEGATIVE = _unsupported("negative_prompt", "INF", "OpenAI's image API has no such field")


def _partner_models() -> tuple[ModelParams, ...]:
    measured_steps = _unsupported(
        "steps", "3P", "measured on Qwen/Qwen-Image-2.0 (2026); same words on gemini-3-pro-image"
    )
    return (
        _partner(
            "google/imagen-4.0-preview",
            "Google Imagen 4.0 Preview",
            "Google",
            overrides=(_GOOGLE_NEGATIVE, _GOOGLE_GUIDANCE),
        ),
        _partner(
            "google/imagen-4.0-fast",
            "Google Imagen 4.0 Fast",
            "Google",
            overrides=(_GOOGLE_NEGATIVE, _GOOGLE_GUIDANCE),
        ),
        _partner(
            "google/imagen-4.0-ultra",
            "Google Imagen 4.0 Ultra",
            "Google",
            overrides=(_GOOGLE_NEGATIVE, _GOOGLE_GUIDANCE),
        ),
        _partner(
            "google/flash-image-2.5",
            "Gemini Flash Image 2.5 (Nano Banana)",
            "Google",
            overrides=(
                _unsupported(
                    "image_url",
                    "3P",
                    "HeyPuter/puter#2084 (2025-12-02): full 400 body; docs: only reference_images",
                ),
                _ok("reference_images", "DOC", "docs: Flash Image 2.5 takes reference_images"),
                _GOOGLE_NEGATIVE,
                _GOOGLE_GUIDANCE,
            ),
            dimensions=Rule(
                value=_NANO_MENU,
                source="3P",
                note=(
                    "Runware measured Nano Banana's menu (2026-07-27); SKILLS prints the same "
                    "list (for Gemini 3 Pro's 1K, see that model's note)"
                ),
            ),
            reference_images=Rule(
                value=3, source="INF", note="Google: works best with up to 3 input images"
            ),
        ),
        _partner(
            "google/gemini-3-pro-image",
            "Gemini 3 (Nano Banana Pro)",
            "Google",
            overrides=(
                _GOOGLE_ONLY_REFS,
                _ok("reference_images", "DOC", "docs: Gemini 3 Pro Image takes reference_images"),
                _unsupported(
                    "seed",
                    "3P",
                    "vercel/ai#15035 (2026-05-05) verbatim; the AI SDK now drops seed",
                ),
                measured_steps,
                _GOOGLE_NEGATIVE,
                _GOOGLE_GUIDANCE,
                _ignored(
                    "disable_safety_checker",
                    "SDK",
                    "the AI SDK drops it for this model (precaution, no refusal quoted)",
                ),
            ),
            dimensions=Rule(
                value=_GEMINI_3_PRO_MENU,
                source="3P",
                note=(
                    "Runware measured Nano Banana Pro's 1K list (2026-10-07) and its 16:9 ladder "
                    "1376x768/2752x1536/5504x3072; 2K/4K as the same ratios x2/x4 [INF]. "
                    "Conflict: SKILLS lists 1248x832-style sizes (Flash 2.5's), not followed"
                ),
            ),
            seeds=Rule(value=None, source="3P", note="seed is rejected (vercel/ai#15035)"),
            reference_images=Rule(value=14, source="INF", note="Google: up to 14 reference images"),
        ),
        _partner(
            "google/flash-image-3.1",
            "Gemini 3.1 Flash Image (Nano Banana 2)",
            "Google",
            overrides=(
                replace(_GOOGLE_ONLY_REFS, source="INF", note="as the other Gemini image models"),
                _ok("reference_images", "INF", "as the other Gemini image models"),
                _GOOGLE_NEGATIVE,
                _GOOGLE_GUIDANCE,
            ),
            dimensions=Rule(
                value=_FLASH_31_MENU,
                source="3P",
                note="Runware measured (2026-10-07): Nano Banana 2 takes Lite's menu incl. 8:1",
            ),
            reference_images=Rule(value=14, source="INF", note="as Gemini 3 Pro Image"),
        ),
        _partner(
            "google/flash-image-3.1-lite",
            "Gemini 3.1 Flash-Lite Image (Nano Banana 2 Lite)",
            "Google",
            overrides=(
                replace(_GOOGLE_ONLY_REFS, source="INF", note="as the other Gemini image models"),
                _ok("reference_images", "INF", "as the other Gemini image models"),
                _GOOGLE_NEGATIVE,
                _GOOGLE_GUIDANCE,
            ),
            dimensions=Rule(
                value=_FLASH_31_MENU,
                source="3P",
                note="measured 2026-09-06 (Orb): the 14-size menu, verbatim",
            ),
            reference_images=Rule(value=14, source="INF", note="as Gemini 3 Pro Image"),
        ),
        _partner(
            "ByteDance-Seed/Seedream-3.0",
            "ByteDance Seedream 3.0",
            "ByteDance",
            overrides=(_SEEDREAM_IMAGE_URL, _SEEDREAM_NEGATIVE),
        ),
        _partner(
            "ByteDance-Seed/Seedream-4.0",
            "ByteDance Seedream 4.0",
            "ByteDance",
            overrides=(_SEEDREAM_IMAGE_URL, _SEEDREAM_NEGATIVE),
        ),
        _partner(
            "ByteDance/Seedream-5.0-lite",
            "ByteDance Seedream 5.0 Lite",
            "ByteDance",
            overrides=(_SEEDREAM_IMAGE_URL, _SEEDREAM_NEGATIVE),
        ),
        _partner("Qwen/Qwen-Image", "Qwen Image", "Qwen"),
        _partner("Qwen/Qwen-Image-2.0", "Qwen Image 2.0", "Qwen", overrides=(measured_steps,)),
        _partner("Qwen/Qwen-Image-2.0-Pro", "Qwen Image 2.0 Pro", "Qwen"),
        _partner(
            "Wan-AI/Wan2.6-image",
            "Wan 2.6 Image",
            "Wan-AI",
            overrides=(_ok("seed", "3P", "bounded 0..2147483647, measured 2026-09-06 (Orb)"),),
            dimensions=Rule(
                value=AreaWindow(
                    min_side=1265,
                    max_side=1440,
                    min_ratio=(1, 4),
                    max_ratio=(4, 1),
                    example=(768, 2700),
                ),
                source="3P",
                note="measured 2026-09-06 (Orb): 1024x1536 is 1.7% under the floor",
            ),
            default_size=Rule(
                value=(1280, 1280),
                source="INF",
                note="1024x1024 is outside the window, so the real default must differ",
            ),
            seeds=Rule(
                value=SeedRange(min=0, max=2147483647),
                source="3P",
                note="measured 2026-09-06 (Orb): 0 and 2147483647 pass, -1 and 2^31 refused",
            ),
        ),
        _partner("ideogram/ideogram-3.0", "Ideogram 3.0", "ideogram"),
        _partner("ideogram/ideogram-4.0", "Ideogram 4.0", "ideogram"),
        _partner(
            "openai/gpt-image-1.5",
            "GPT Image 1.5",
            "OpenAI",
            overrides=(_OPENAI_NEGATIVE,),
            dimensions=Rule(
                value=_menu("1024x1024", "1024x1536", "1536x1024"),
                source="INF",
                note="OpenAI's own menu for gpt-image-1.x (Orb quotes its refusal); via Together",
            ),
        ),
        _partner(
            "openai/gpt-image-2",
            "GPT Image 2",
            "OpenAI",
            overrides=(_OPENAI_NEGATIVE,),
            dimensions=Rule(
                value=SizeRange(min=256, max=3840, multiple=16),
                source="3P",
                note="a Runware client (2026-10): any multiple of 16 up to 3840; minimum [INF]",
            ),
        ),
        _partner("prunaai/p-image-ideogram", "P-Image-Ideogram", "Pruna AI"),
        _partner(
            "xai/grok-imagine-image-pro",
            "Grok Imagine Image Pro",
            "xAI",
            retired=_retired("2026-06-22", "model_not_available", _CLOSED),
        ),
    )


# ---- diffusion models Together hosts itself --------------------------------------------------


def _hosted(
    model_id: str,
    name: str,
    organization: str,
    *,
    overrides: tuple[FieldSupport, ...] = (),
    serverless: Rule[bool] = _SERVERLESS,
    retired: dict[str, Any] | None = None,
    note: str = "",
) -> ModelParams:
    support = {
        **_flux1_support(),
        **_support(
            _ok("steps", "3P", "a third party lists SDXL, SD3, DreamShaper, Juggernaut, HiDream"),
            _ok("negative_prompt", "INF", "diffusion model with CFG; no refusal seen"),
            _ignored("image_url", "INF", "no input image documented; FLUX.1-style ignore"),
        ),
        **_support(*overrides),
    }
    return ModelParams(
        id=model_id,
        display_name=name,
        organization=organization,
        wording=_HOSTED_WORDING,
        serverless=serverless,
        retired=(retired or {}).get("retired", _SERVED),
        retired_answer=(retired or {}).get("retired_answer", _NOT_RETIRED),
        support=support,
        dimensions=_FLUX1_SIZES_INF,
        default_size=_DEFAULT_SIZE,
        steps=_STEPS_DOC,
        default_steps=_STEPS_28_INF,
        seeds=_FREE_SEEDS,
        max_n=_MAX_N,
        reference_images=Rule(value=0, source="INF", note="reference_images is ignored"),
        image_url=Rule(value="refused", source="INF", note="image_url is ignored"),
        max_loras=_NO_LORAS,
        output_size=_REQUEST_SIZE,
        aspect_ratios=_NO_RATIOS,
        required=_REQUIRED,
        note=note,
    )


_DEDICATED = Rule(
    value=False, source="3P", note="answers 'Unable to access non-serverless model' (2026-08-30)"
)
_DEDICATED_INF = Rule(
    value=False,
    source="INF",
    note="Together's 2023 serverless image model, dedicated-only like prompthero/openjourney",
)


def _hosted_models() -> tuple[ModelParams, ...]:
    return (
        _hosted(
            "stabilityai/stable-diffusion-xl-base-1.0",
            "SD XL",
            "stabilityai",
            overrides=(_ok("negative_prompt", "3P", "Orb: SDXL honours the negative prompt"),),
        ),
        _hosted(
            "RunDiffusion/Juggernaut-pro-flux",
            "Juggernaut Pro Flux by RunDiffusion 1.0.0",
            "RunDiffusion",
        ),
        _hosted(
            "Rundiffusion/Juggernaut-Lightning-Flux",
            "Juggernaut Lightning Flux by RunDiffusion",
            "RunDiffusion",
            overrides=(_ignored("negative_prompt", "3P", "Orb: accepted, byte-identical image"),),
        ),
        _hosted(
            "stabilityai/stable-diffusion-3-medium",
            "Stable Diffusion 3 Medium",
            "Stability AI",
            retired=_retired("2026-06-22", "non_serverless", _OPEN_WEIGHTS),
        ),
        _hosted(
            "HiDream-ai/HiDream-I1-Full",
            "HiDream I1 Full",
            "HiDream",
            retired=_retired("2026-06-22", "non_serverless", _OPEN_WEIGHTS),
        ),
        _hosted(
            "HiDream-ai/HiDream-I1-Dev",
            "HiDream I1 Dev",
            "HiDream",
            retired=_retired("2026-06-22", "non_serverless", _OPEN_WEIGHTS),
        ),
        _hosted(
            "HiDream-ai/HiDream-I1-Fast",
            "HiDream I1 Fast",
            "HiDream",
            retired=_retired("2026-06-22", "non_serverless", _OPEN_WEIGHTS),
        ),
        _hosted(
            "Lykon/DreamShaper",
            "DreamShaper",
            "Lykon",
            retired=_retired("2026-06-22", "non_serverless", _OPEN_WEIGHTS),
        ),
        # Known to Together, never on the serverless endpoint in 2026.
        _hosted("prompthero/openjourney", "Openjourney v4", "Prompthero", serverless=_DEDICATED),
        _hosted(
            "stabilityai/stable-diffusion-2-1",
            "Stable Diffusion 2.1",
            "Stability AI",
            serverless=_DEDICATED_INF,
        ),
        _hosted(
            "runwayml/stable-diffusion-v1-5",
            "Stable Diffusion 1.5",
            "Runway ML",
            serverless=_DEDICATED_INF,
        ),
        _hosted(
            "SG161222/Realistic_Vision_V3.0_VAE",
            "Realistic Vision 3.0",
            "SG161222",
            serverless=_DEDICATED_INF,
        ),
        _hosted(
            "wavymulder/Analog-Diffusion",
            "Analog Diffusion",
            "Wavymulder",
            serverless=_DEDICATED_INF,
        ),
    )


MODELS: tuple[ModelParams, ...] = (
    *_flux1_models(),
    *_flux2_models(),
    *_partner_models(),
    *_hosted_models(),
)
"""Every model the table knows: the 30 served on 2026-08-17, the retired ones, and known
dedicated-only ids."""

_BY_ID: Mapping[str, ModelParams] = {params.id: params for params in MODELS}


def model_params(model_id: str) -> ModelParams | None:
    """Return the table's record for ``model_id``, or ``None`` for an id it does not know.

    Args:
        model_id: The model id exactly as sent in ``model`` (ids are case-sensitive).

    Returns:
        The record (served, retired or dedicated-only), or ``None``.
    """
    return _BY_ID.get(model_id)


def served_models() -> tuple[ModelParams, ...]:
    """Return the models the serverless endpoint serves today (the 2026-08-17 listing)."""
    return tuple(params for params in MODELS if params.is_served)


def provenance_counts(models: tuple[ModelParams, ...] = MODELS) -> dict[Source, int]:
    """Count provenance tags over every rule and field support of ``models``."""
    counts: dict[Source, int] = dict.fromkeys(SOURCES, 0)
    for params in models:
        for _, source in params.provenance():
            counts[source] += 1
    return counts
