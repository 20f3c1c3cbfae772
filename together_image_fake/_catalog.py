"""The fake's model catalog as data: per model id, every rule it enforces and where that comes from.

Each rule is a ``Rule`` carrying its value and its provenance tag from the reference (``REC``
recorded real traffic, ``DOC`` Together's docs, ``SDK``/``RUN`` official SDKs, ``3P`` third-party
quotes, ``INF`` inference, ``USER`` set by the test). ``FakeTogether(strict=False)`` skips every
``INF`` rule. The catalog also knows which of Together's serverless ids are *not* image models
(chat, embedding, audio…), by list and by family, because the real endpoint answers those with a
500 [REC] rather than the 404 it gives an id Together does not serve.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, Generic, Literal, TypeVar

Source = Literal["REC", "DOC", "SDK", "RUN", "3P", "INF", "USER"]
ImageInputRule = Literal["required", "optional", "refused"]
TimingsStyle = Literal["seconds", "milliseconds"]
ItemOrder = Literal["index_first", "timings_first"]

SOURCES: tuple[Source, ...] = ("REC", "DOC", "SDK", "RUN", "3P", "INF", "USER")
T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class Rule(Generic[T]):
    """One catalog rule: a value and the evidence behind it.

    Attributes:
        value: What the fake enforces.
        source: Provenance tag (``REC``, ``DOC``, ``SDK``, ``RUN``, ``3P``, ``INF`` or ``USER``).
        note: The evidence in a few words.
    """

    value: T
    source: Source
    note: str = ""

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"Rule source must be one of {SOURCES}, got {self.source!r}")

    def to_json(self) -> dict[str, Any]:
        """Return ``{"value", "source", "note"}`` with tuples and ranges as JSON values."""
        value: Any = self.value
        if isinstance(value, SizeRange):
            value = {"min": value.min, "max": value.max, "multiple": value.multiple}
        elif isinstance(value, tuple):
            value = list(value)
        return {"value": value, "source": self.source, "note": self.note}


@dataclass(frozen=True, kw_only=True)
class SizeRange:
    """Allowed image widths and heights: ``min <= side <= max`` and ``side % multiple == 0``."""

    min: int
    max: int
    multiple: int

    def allows(self, side: int) -> bool:
        """Return whether one side length satisfies the range."""
        return self.min <= side <= self.max and side % self.multiple == 0


@dataclass(frozen=True, kw_only=True)
class ModelSpec:
    """Everything the fake knows about one image model.

    Attributes:
        id: The model id as sent in ``model``.
        display_name: Human name (``GET /v1/models``).
        organization: Publisher (``GET /v1/models``).
        sizes: Allowed ``width``/``height``.
        default_size: ``(width, height)`` when the request gives neither.
        steps: Allowed ``steps`` as ``(low, high)``.
        default_steps: Steps used when the request gives none.
        max_n: Largest ``n``.
        image_url: Whether an input image (``image_url``) is required, optional or refused.
        max_loras: Largest number of ``image_loras`` items; 0 refuses the field.
        reference_images: Whether ``reference_images`` is accepted.
        safety_checker_disableable: Whether ``disable_safety_checker`` turns the checker off.
        timings: ``timings.inference`` in float seconds or integer milliseconds.
        item_order: Key order of each ``data`` item.
        min_tier: Lowest account build tier allowed to call the model.
        rate_limit_per_minute: The model-specific limit in images per minute, or ``None``.
        price_per_megapixel: Dollars per megapixel at default steps.
        retired: When the real API stopped serving the model (``None`` while it still does).
        note: Anything else worth knowing.
    """

    id: str
    display_name: str
    organization: str
    sizes: Rule[SizeRange]
    default_size: Rule[tuple[int, int]]
    steps: Rule[tuple[int, int]]
    default_steps: Rule[int]
    max_n: Rule[int]
    image_url: Rule[ImageInputRule]
    max_loras: Rule[int]
    reference_images: Rule[bool]
    safety_checker_disableable: Rule[bool]
    timings: Rule[TimingsStyle]
    item_order: Rule[ItemOrder]
    min_tier: Rule[int]
    rate_limit_per_minute: Rule[float | None]
    price_per_megapixel: Rule[float]
    retired: Rule[str | None]
    note: str = ""

    def rules(self) -> dict[str, Rule[Any]]:
        """Return every rule by field name, in declaration order."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name in RULE_NAMES}

    def with_rules(self, **overrides: object) -> ModelSpec:
        """Return a copy with some rules replaced.

        Args:
            **overrides: Rule names mapped to a ``Rule`` or to a bare value (tagged ``USER``); also
                ``id``, ``display_name``, ``organization`` and ``note``.

        Returns:
            The new spec.

        Raises:
            ValueError: If a name is not a field of ``ModelSpec``.
        """
        changes: dict[str, Any] = {}
        for name, value in overrides.items():
            if name in RULE_NAMES:
                changes[name] = (
                    value if isinstance(value, Rule) else Rule(value=value, source="USER")
                )
            elif name in _PLAIN_FIELDS:
                changes[name] = value
            else:
                known = sorted(RULE_NAMES | _PLAIN_FIELDS)
                raise ValueError(f"Unknown model rule {name!r}; expected one of {known}")
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        """Return the spec with per-rule provenance, as ``GET /_fake/models`` shows it."""
        return {
            "id": self.id,
            "display_name": self.display_name,
            "organization": self.organization,
            "note": self.note,
            "rules": {name: rule.to_json() for name, rule in self.rules().items()},
        }


_PLAIN_FIELDS = frozenset({"id", "display_name", "organization", "note"})
RULE_NAMES = frozenset(f.name for f in fields(ModelSpec)) - _PLAIN_FIELDS


# Rules shared by many models. Each note names the evidence from the reference document.
_DEFAULT_SIZE = Rule(value=(1024, 1024), source="DOC", note="OpenAPI: width/height default 1024")
_STEPS = Rule(
    value=(1, 50), source="DOC", note="docs: steps range 1-50 (no per-model ranges published)"
)
_MAX_N = Rule(value=4, source="DOC", note="docs: n 1-4")
_FLUX1_SIZES = Rule(
    value=SizeRange(min=256, max=2048, multiple=16),
    source="3P",
    note="256x256 accepted [REC]; third party quotes '...between 256 and 2048, in multiples of 16'",
)
_ASSUMED_SIZES = Rule(
    value=SizeRange(min=256, max=2048, multiple=16),
    source="INF",
    note="no published limit; FLUX.1 rule assumed",
)
_OTHER_SIZES = Rule(
    value=SizeRange(min=256, max=2048, multiple=8),
    source="INF",
    note="no published limit; docs advise multiples of 8",
)
_NO_IMAGE = Rule[ImageInputRule](value="refused", source="INF", note="no input image documented")
_EDIT_IMAGE = Rule[ImageInputRule](
    value="optional", source="DOC", note="docs: edit via image_url; text-only also works"
)
_NO_LORAS = Rule(
    value=0, source="INF", note="LoRAs documented only for FLUX.1-dev-lora and FLUX.2-dev"
)
_LORAS = Rule(value=2, source="DOC", note="docs: up to 2 LoRAs per image")
_NO_REFS = Rule(value=False, source="INF", note="reference_images not documented for this model")
_REFS = Rule(value=True, source="DOC", note="docs: reference_images supported")
_SAFETY_OFF_OK = Rule(
    value=True, source="DOC", note="docs: checker works for every model except Schnell Free and Pro"
)
_SAFETY_FIXED = Rule(
    value=False, source="DOC", note="docs: safety checker cannot be disabled for this model"
)
_SECONDS = Rule[TimingsStyle](value="seconds", source="REC", note="FLUX.1 timings.inference in s")
_SECONDS_ASSUMED = Rule[TimingsStyle](
    value="seconds", source="INF", note="not observed; FLUX.1 style"
)
_MILLIS = Rule[TimingsStyle](
    value="milliseconds", source="REC", note="FLUX.2 timings in integer ms"
)
_INDEX_FIRST = Rule[ItemOrder](
    value="index_first", source="REC", note="FLUX.1: index, url, timings"
)
_INDEX_FIRST_ASSUMED = Rule[ItemOrder](value="index_first", source="INF", note="not observed")
_TIMINGS_FIRST = Rule[ItemOrder](
    value="timings_first", source="REC", note="FLUX.2: timings, index, url"
)
_TIER1 = Rule(value=1, source="DOC", note="docs: Tier 1+")
_TIER1_ASSUMED = Rule(value=1, source="INF", note="no tier gating documented")
_TIER2 = Rule(value=2, source="DOC", note="docs: Flux Pro models need Build Tier 2+")
_NO_MODEL_LIMIT = Rule[float | None](value=None, source="DOC", note="general tier limits apply")
_PRICE_ASSUMED = Rule(value=0.025, source="INF", note="price not recorded")
_SERVED = Rule[str | None](value=None, source="REC", note="listed by GET /v1/models in 2026-08")


def _retired(date: str) -> Rule[str | None]:
    return Rule(value=date, source="REC", note=f"absent from GET /v1/models since {date}")


def _steps_default(value: int, source: Source, note: str) -> Rule[int]:
    return Rule(value=value, source=source, note=note)


def _flux1(
    model_id: str,
    name: str,
    *,
    default_steps: Rule[int],
    image_url: Rule[ImageInputRule] = _NO_IMAGE,
    sizes: Rule[SizeRange] = _FLUX1_SIZES,
    timings: Rule[TimingsStyle] = _SECONDS,
    item_order: Rule[ItemOrder] = _INDEX_FIRST,
    max_loras: Rule[int] = _NO_LORAS,
    safety: Rule[bool] = _SAFETY_OFF_OK,
    min_tier: Rule[int] = _TIER1,
    rate_limit: Rule[float | None] = _NO_MODEL_LIMIT,
    price: Rule[float] = _PRICE_ASSUMED,
    retired: Rule[str | None] = _SERVED,
    note: str = "",
) -> ModelSpec:
    return ModelSpec(
        id=model_id,
        display_name=name,
        organization="Black Forest Labs",
        sizes=sizes,
        default_size=_DEFAULT_SIZE,
        steps=_STEPS,
        default_steps=default_steps,
        max_n=_MAX_N,
        image_url=image_url,
        max_loras=max_loras,
        reference_images=_NO_REFS,
        safety_checker_disableable=safety,
        timings=timings,
        item_order=item_order,
        min_tier=min_tier,
        rate_limit_per_minute=rate_limit,
        price_per_megapixel=price,
        retired=retired,
        note=note,
    )


def _flux2(
    model_id: str,
    name: str,
    *,
    sizes: Rule[SizeRange],
    image_url: Rule[ImageInputRule],
    default_steps: Rule[int],
    max_loras: Rule[int] = _NO_LORAS,
    price: Rule[float] = _PRICE_ASSUMED,
    note: str = "",
) -> ModelSpec:
    return ModelSpec(
        id=model_id,
        display_name=name,
        organization="Black Forest Labs",
        sizes=sizes,
        default_size=_DEFAULT_SIZE,
        steps=_STEPS,
        default_steps=default_steps,
        max_n=_MAX_N,
        image_url=image_url,
        max_loras=max_loras,
        reference_images=_REFS,
        safety_checker_disableable=_SAFETY_OFF_OK,
        timings=_MILLIS,
        item_order=_TIMINGS_FIRST,
        min_tier=_TIER1_ASSUMED,
        rate_limit_per_minute=_NO_MODEL_LIMIT,
        price_per_megapixel=price,
        retired=_SERVED,
        note=note,
    )


def _other(
    model_id: str,
    name: str,
    organization: str,
    *,
    image_url: Rule[ImageInputRule] = _NO_IMAGE,
    reference_images: Rule[bool] = _NO_REFS,
    retired: Rule[str | None] = _SERVED,
    price: Rule[float] = _PRICE_ASSUMED,
    note: str = "",
) -> ModelSpec:
    return ModelSpec(
        id=model_id,
        display_name=name,
        organization=organization,
        sizes=_OTHER_SIZES,
        default_size=_DEFAULT_SIZE,
        steps=_STEPS,
        default_steps=_steps_default(28, "INF", "default steps not published"),
        max_n=_MAX_N,
        image_url=image_url,
        max_loras=_NO_LORAS,
        reference_images=reference_images,
        safety_checker_disableable=_SAFETY_OFF_OK,
        timings=_SECONDS_ASSUMED,
        item_order=_INDEX_FIRST_ASSUMED,
        min_tier=_TIER1_ASSUMED,
        rate_limit_per_minute=_NO_MODEL_LIMIT,
        price_per_megapixel=price,
        retired=retired,
        note=note,
    )


_BFL = "black-forest-labs/"
_STEPS_28 = _steps_default(28, "DOC", "serverless table: default steps 28")
_STEPS_28_ASSUMED = _steps_default(28, "INF", "default steps not published")


def _build_catalog() -> tuple[ModelSpec, ...]:
    kontext_note = "FLUX Kontext: edits the image given in image_url"
    control_image = Rule[ImageInputRule](
        value="required", source="3P", note="third-party usage sends a control image in image_url"
    )
    return (
        _flux1(
            _BFL + "FLUX.1-schnell",
            "FLUX.1 [schnell]",
            default_steps=_steps_default(4, "DOC", "docs: 'Fastest; default 4 steps'"),
            price=Rule(value=0.0027, source="REC", note="GET /v1/models pricing 2026"),
        ),
        _flux1(
            _BFL + "FLUX.1-schnell-Free",
            "FLUX.1 [schnell] Free",
            default_steps=_steps_default(4, "INF", "serverless table: N/A; schnell's 4 assumed"),
            safety=_SAFETY_FIXED,
            rate_limit=Rule(
                value=6.0,
                source="REC",
                note="X-Ratelimit-Limit 0.1/s with Retry-After 10 (2025-08); docs: 6 img/min",
            ),
            price=Rule(value=0.0, source="DOC", note="free model"),
            retired=_retired("2026-03-20"),
        ),
        _flux1(
            _BFL + "FLUX.1-dev",
            "FLUX.1 [dev]",
            default_steps=_STEPS_28,
            retired=_retired("2026-03-20"),
        ),
        _flux1(
            _BFL + "FLUX.1-dev-lora",
            "FLUX.1 [dev] LoRA",
            default_steps=_STEPS_28,
            max_loras=_LORAS,
            price=Rule(value=0.035, source="DOC", note="LoRA quickstart: $0.035/MP"),
            retired=_retired("2026-03-20"),
        ),
        _flux1(
            _BFL + "FLUX.1-canny",
            "FLUX.1 Canny [dev]",
            default_steps=_STEPS_28_ASSUMED,
            image_url=control_image,
            retired=_retired("2025-08-30"),
        ),
        _flux1(
            _BFL + "FLUX.1-depth",
            "FLUX.1 Depth [dev]",
            default_steps=_STEPS_28_ASSUMED,
            image_url=control_image,
            retired=_retired("2025-08-30"),
        ),
        _flux1(
            _BFL + "FLUX.1-redux",
            "FLUX.1 Redux [dev]",
            default_steps=_STEPS_28_ASSUMED,
            image_url=control_image,
            retired=_retired("2025-08-30"),
        ),
        _flux1(
            _BFL + "FLUX.1.1-pro",
            "FLUX1.1 [pro]",
            default_steps=_steps_default(28, "INF", "serverless table: no default steps"),
            safety=_SAFETY_FIXED,
            min_tier=_TIER2,
            price=Rule(value=0.04, source="REC", note="GET /v1/models pricing 2026"),
        ),
        _flux1(
            _BFL + "FLUX.1-pro",
            "FLUX.1 [pro]",
            default_steps=_steps_default(28, "INF", "serverless table: no default steps"),
            safety=_SAFETY_FIXED,
            min_tier=_TIER2,
            retired=_retired("2026-04-16"),
            note="docs 2025-10-31: calls redirect to FLUX.1.1-pro",
        ),
        _flux1(
            _BFL + "FLUX.1-kontext-pro",
            "FLUX.1 Kontext [pro]",
            default_steps=_STEPS_28,
            image_url=_EDIT_IMAGE,
            sizes=_ASSUMED_SIZES,
            timings=_SECONDS_ASSUMED,
            item_order=_INDEX_FIRST_ASSUMED,
            rate_limit=Rule(value=57.0, source="DOC", note="rate-limits page 2025-11: 57 img/min"),
            price=Rule(value=0.04, source="REC", note="GET /v1/models pricing 2026"),
            note=kontext_note,
        ),
        _flux1(
            _BFL + "FLUX.1-kontext-max",
            "FLUX.1 Kontext [max]",
            default_steps=_STEPS_28,
            image_url=_EDIT_IMAGE,
            sizes=_ASSUMED_SIZES,
            timings=_SECONDS_ASSUMED,
            item_order=_INDEX_FIRST_ASSUMED,
            price=Rule(value=0.08, source="REC", note="GET /v1/models pricing 2026"),
            note=kontext_note,
        ),
        _flux1(
            _BFL + "FLUX.1-kontext-dev",
            "FLUX.1 Kontext [dev]",
            default_steps=_STEPS_28,
            image_url=_EDIT_IMAGE,
            sizes=_ASSUMED_SIZES,
            timings=_SECONDS_ASSUMED,
            item_order=_INDEX_FIRST_ASSUMED,
            retired=_retired("2026-03-20"),
            note=kontext_note,
        ),
        _flux1(
            _BFL + "FLUX.1-krea-dev",
            "FLUX.1 Krea [dev]",
            default_steps=_STEPS_28,
            sizes=_ASSUMED_SIZES,
            retired=_retired("2026-05-31"),
        ),
        _flux2(
            _BFL + "FLUX.2-dev",
            "FLUX.2 [dev]",
            sizes=Rule(
                value=SizeRange(min=512, max=2048, multiple=16),
                source="REC",
                note="width 256 -> 400 '...between 512 and 2048, in multiples of '16''",
            ),
            image_url=_NO_IMAGE,
            default_steps=_STEPS_28_ASSUMED,
            max_loras=_LORAS,
        ),
        _flux2(
            _BFL + "FLUX.2-pro",
            "FLUX.2 [pro]",
            sizes=Rule(
                value=SizeRange(min=256, max=3072, multiple=16),
                source="INF",
                note="256x256 accepted [REC]; docs: up to 9 MP output",
            ),
            image_url=Rule(value="optional", source="DOC", note="docs: image_url supported"),
            default_steps=_STEPS_28_ASSUMED,
        ),
        _flux2(
            _BFL + "FLUX.2-flex",
            "FLUX.2 [flex]",
            sizes=Rule(
                value=SizeRange(min=256, max=2048, multiple=16),
                source="INF",
                note="256x256 accepted [REC]; maximum not published",
            ),
            image_url=Rule(value="optional", source="DOC", note="docs: image_url supported"),
            default_steps=_STEPS_28_ASSUMED,
        ),
        _flux2(
            _BFL + "FLUX.2-max",
            "FLUX.2 [max]",
            sizes=Rule(
                value=SizeRange(min=256, max=2048, multiple=16),
                source="INF",
                note="512x512 accepted [REC]; limits not published",
            ),
            image_url=_NO_IMAGE,
            default_steps=_steps_default(50, "REC", "GET /v1/models pricing: min_steps 50"),
            price=Rule(value=0.07, source="REC", note="GET /v1/models pricing 2026"),
        ),
        _other(
            "stabilityai/stable-diffusion-xl-base-1.0",
            "Stable Diffusion XL 1.0",
            "Stability AI",
            price=Rule(value=0.0019, source="REC", note="example price for 720x1280 (2026)"),
        ),
        _other(
            "stabilityai/stable-diffusion-3-medium",
            "Stable Diffusion 3 Medium",
            "Stability AI",
            retired=_retired("2026-06-22"),
        ),
        _other("google/imagen-4.0-preview", "Imagen 4.0 Preview", "Google"),
        _other("google/imagen-4.0-fast", "Imagen 4.0 Fast", "Google"),
        _other("google/imagen-4.0-ultra", "Imagen 4.0 Ultra", "Google"),
        _other(
            "google/flash-image-2.5",
            "Gemini Flash Image 2.5",
            "Google",
            image_url=Rule(value="refused", source="DOC", note="docs: does NOT accept image_url"),
            reference_images=_REFS,
        ),
        _other(
            "google/gemini-3-pro-image",
            "Gemini 3 Pro Image",
            "Google",
            image_url=Rule(value="refused", source="DOC", note="docs: does NOT accept image_url"),
            reference_images=_REFS,
            note="docs: fixed 1K/2K/4K size lists (not modelled)",
        ),
        _other("google/flash-image-3.1", "Gemini Flash Image 3.1", "Google"),
        _other("google/flash-image-3.1-lite", "Gemini Flash Image 3.1 Lite", "Google"),
        _other("ByteDance-Seed/Seedream-3.0", "Seedream 3.0", "ByteDance"),
        _other("ByteDance-Seed/Seedream-4.0", "Seedream 4.0", "ByteDance"),
        _other("ByteDance/Seedream-5.0-lite", "Seedream 5.0 Lite", "ByteDance"),
        _other("Qwen/Qwen-Image", "Qwen Image", "Qwen"),
        _other("Qwen/Qwen-Image-2.0", "Qwen Image 2.0", "Qwen"),
        _other("Qwen/Qwen-Image-2.0-Pro", "Qwen Image 2.0 Pro", "Qwen"),
        _other("ideogram/ideogram-3.0", "Ideogram 3.0", "Ideogram"),
        _other("ideogram/ideogram-4.0", "Ideogram 4.0", "Ideogram"),
        _other(
            "HiDream-ai/HiDream-I1-Full",
            "HiDream I1 Full",
            "HiDream",
            retired=_retired("2026-06-22"),
        ),
        _other(
            "HiDream-ai/HiDream-I1-Dev", "HiDream I1 Dev", "HiDream", retired=_retired("2026-06-22")
        ),
        _other(
            "HiDream-ai/HiDream-I1-Fast",
            "HiDream I1 Fast",
            "HiDream",
            retired=_retired("2026-06-22"),
        ),
        _other("Lykon/DreamShaper", "DreamShaper", "Lykon", retired=_retired("2026-06-22")),
        _other("RunDiffusion/Juggernaut-pro-flux", "Juggernaut Pro Flux", "RunDiffusion"),
        _other(
            "Rundiffusion/Juggernaut-Lightning-Flux", "Juggernaut Lightning Flux", "RunDiffusion"
        ),
        _other("Wan-AI/Wan2.6-image", "Wan 2.6 Image", "Wan-AI"),
        _other("openai/gpt-image-1.5", "GPT Image 1.5", "OpenAI"),
        _other("openai/gpt-image-2", "GPT Image 2", "OpenAI"),
        _other(
            "xai/grok-imagine-image-pro",
            "Grok Imagine Image Pro",
            "xAI",
            retired=_retired("2026-06-22"),
        ),
        _other("prunaai/p-image-ideogram", "P-Image Ideogram", "Pruna AI"),
    )


CATALOG: tuple[ModelSpec, ...] = _build_catalog()
"""Every image model the fake knows, seed-document models first."""

# Serverless ids Together serves on other endpoints. Sending one to the image endpoint gives a
# 500 [REC for meta-llama/Llama-4-Scout-17B-16E-Instruct]; the list and families extend that to
# the rest [INF].
NON_IMAGE_MODELS: frozenset[str] = frozenset(
    {
        "meta-llama/Llama-4-Scout-17B-16E-Instruct",
        "meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8",
        "meta-llama/Llama-3.3-70B-Instruct-Turbo",
        "meta-llama/Llama-3.3-70B-Instruct-Turbo-Free",
        "meta-llama/Llama-3.2-3B-Instruct-Turbo",
        "meta-llama/Meta-Llama-3.1-405B-Instruct-Turbo",
        "meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo",
        "meta-llama/Llama-Guard-4-12B",
        "Qwen/Qwen2.5-7B-Instruct-Turbo",
        "Qwen/Qwen2.5-14B-Instruct",
        "Qwen/Qwen2.5-72B-Instruct",
        "Qwen/Qwen3-235B-A22B-Instruct-2507-tput",
        "Qwen/Qwen3-235B-A22B-Thinking-2507",
        "Qwen/QwQ-32B",
        "deepseek-ai/DeepSeek-V3",
        "deepseek-ai/DeepSeek-R1",
        "mistralai/Mistral-7B-Instruct-v0.3",
        "mistralai/Mixtral-8x7B-Instruct-v0.1",
        "arcee-ai/virtuoso-large",
        "arcee_ai/arcee-spotlight",
        "togethercomputer/MoA-1",
        "togethercomputer/m2-bert-80M-32k-retrieval",
        "Salesforce/Llama-Rank-V1",
        "cartesia/sonic",
        "cartesia/sonic-2",
        "openai/whisper-large-v3",
        "openai/gpt-oss-120b",
        "openai/gpt-oss-20b",
        "moonshotai/Kimi-K2-Instruct",
        "zai-org/GLM-4.5-Air-FP8",
        "google/gemma-3n-E4B-it",
        "BAAI/bge-large-en-v1.5",
        "BAAI/bge-base-en-v1.5",
        "intfloat/multilingual-e5-large-instruct",
        "Alibaba-NLP/gte-modernbert-base",
        "hexgrad/Kokoro-82M",
    }
)
NON_IMAGE_FAMILIES: tuple[re.Pattern[str], ...] = tuple(
    re.compile(pattern)
    for pattern in (
        r"^meta-llama/",
        r"^deepseek-ai/",
        r"^mistralai/",
        r"^Qwen/(Qwen[0-9]|QwQ)",
        r"^google/(gemma|veo)",
        r"^openai/(gpt-oss|whisper)",
        r"^(BAAI|intfloat|Alibaba-NLP|mixedbread-ai|WhereIsAI)/",
        r"^(moonshotai|zai-org|nvidia|NousResearch|Gryphe|upstage|scb10x|lgai|marin-community)/",
        r"^(arcee-ai|arcee_ai|togethercomputer|Salesforce|cartesia|hexgrad|canopylabs)/",
        r"^(deepcogito|ServiceNow-AI|perplexity-ai|kwaivgI|minimax)/",
        r"^ByteDance/Seedance",
    )
)


def is_non_image_model(model_id: str) -> bool:
    """Return whether Together serves ``model_id`` on a non-image endpoint (by list or family)."""
    return model_id in NON_IMAGE_MODELS or any(p.search(model_id) for p in NON_IMAGE_FAMILIES)


@dataclass(frozen=True, kw_only=True)
class Catalog:
    """An immutable set of image models keyed by id.

    Attributes:
        models: The models by id, in catalog order.
    """

    models: Mapping[str, ModelSpec] = field(default_factory=dict)

    @classmethod
    def build(cls, models: Iterable[str | ModelSpec] | None = None) -> Catalog:
        """Build a catalog.

        Args:
            models: ``None`` for the full built-in catalog; otherwise ids of built-in models to
                keep and/or ``ModelSpec`` objects to add (a spec replaces a built-in model of the
                same id).

        Returns:
            The catalog.

        Raises:
            ValueError: If an id is not in the built-in catalog.
        """
        builtin = {spec.id: spec for spec in CATALOG}
        if models is None:
            return cls(models=builtin)
        chosen: dict[str, ModelSpec] = {}
        for item in models:
            if isinstance(item, ModelSpec):
                chosen[item.id] = item
            elif item in builtin:
                chosen[item] = builtin[item]
            else:
                raise ValueError(
                    f"Unknown model id {item!r}: pass a ModelSpec for new models, or one of "
                    f"the built-in ids such as {_BFL}FLUX.1-schnell"
                )
        return cls(models=chosen)

    def get(self, model_id: str) -> ModelSpec | None:
        """Return the spec for ``model_id``, or ``None``."""
        return self.models.get(model_id)

    def with_model(self, spec: ModelSpec) -> Catalog:
        """Return a catalog with ``spec`` added or replacing the model of the same id."""
        return Catalog(models={**self.models, spec.id: spec})
