"""The fake's model catalog: the client's per-model table plus what only the fake needs.

What a model does with each field, its value rules, the wording of its refusals and the order of
its checks live in one table, ``together_image.models`` (read by the client too). A ``ModelSpec``
wraps that record (``spec.params``) and adds what only the fake needs: the ``timings`` style and
item key order of its answers, the build tier and model-specific rate limit that gate it, its
price, whether the safety checker can be turned off, and its ``GET /v1/models`` entry as recorded
on 2026-08-17. Every rule is a ``Rule`` with its provenance tag (``REC`` recorded real traffic,
``DOC`` Together's docs, ``SDK``/``RUN`` official SDKs, ``3P`` third-party quotes or measurements,
``INF`` inference, ``USER`` set by the test); ``FakeTogether(strict=False)`` skips every ``INF``
rule. The catalog also knows which of Together's serverless ids are *not* image models (chat,
embedding, audio…): by the recorded listing, and by family, because the real endpoint answers
those with a 500 [REC] rather than the 404 it gives an id Together does not know.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from typing import Any, Literal

from together_image.models import (
    MODELS,
    SOURCES,
    AreaWindow,
    Dimensions,
    FieldSupport,
    ImageInputRule,
    ModelParams,
    OutputSize,
    Rule,
    SeedRange,
    SizeMenu,
    SizeRange,
    Source,
    Wording,
    unsupported_use_message,
)

__all__ = [
    "CATALOG",
    "NON_IMAGE_FAMILIES",
    "NON_IMAGE_MODELS",
    "RULE_NAMES",
    "SOURCES",
    "AreaWindow",
    "Catalog",
    "Dimensions",
    "ImageInputRule",
    "ItemOrder",
    "ModelSpec",
    "Price",
    "PriceUnit",
    "Rule",
    "SeedRange",
    "SizeMenu",
    "SizeRange",
    "Source",
    "TimingsStyle",
    "is_non_image_model",
    "recorded_listing",
]

TimingsStyle = Literal["seconds", "milliseconds"]
ItemOrder = Literal["index_first", "timings_first"]
PriceUnit = Literal["megapixel", "image"]


@dataclass(frozen=True, kw_only=True)
class Price:
    """What an image costs: ``amount`` dollars per megapixel (at default steps) or per image."""

    unit: PriceUnit
    amount: float

    def cost(self, *, width: int, height: int, n: int, steps_factor: float = 1.0) -> float:
        """Dollars for ``n`` images of ``width`` x ``height``."""
        if self.unit == "image":
            return self.amount * n
        return width * height / 1e6 * self.amount * steps_factor * n


LISTING_RESOURCE = "_models_2026-08-17.json.gz"
"""``GET /v1/models`` as recorded on 2026-08-17 [REC maruel/genai Warmup.yaml @23c16cde], the
exact compact body gzipped: every modality, the image entries with their real pricing keys."""


@cache
def recorded_listing() -> tuple[dict[str, Any], ...]:
    """Return the recorded ``GET /v1/models`` entries, in recorded order (read once, lazily)."""
    data = resources.files("together_image_fake").joinpath(LISTING_RESOURCE).read_bytes()
    entries = json.loads(gzip.decompress(data))
    return tuple(entries)


def _recorded_entry(model_id: str) -> dict[str, Any] | None:
    return next((entry for entry in recorded_listing() if entry["id"] == model_id), None)


# Table rules a spec exposes under the catalog's historical names.
_ALIASES = {"sizes": "dimensions"}
_TABLE_RULES = frozenset(
    {
        "wording",
        "serverless",
        "retired",
        "retired_answer",
        "dimensions",
        "default_size",
        "steps",
        "default_steps",
        "seeds",
        "max_n",
        "reference_images",
        "image_url",
        "max_loras",
        "output_size",
        "aspect_ratios",
        "required",
    }
)
_FAKE_RULES = frozenset(
    {
        "safety_checker_disableable",
        "timings",
        "item_order",
        "min_tier",
        "rate_limit_per_minute",
        "price",
    }
)
_PLAIN_FIELDS = frozenset({"id", "display_name", "organization", "note"})
RULE_NAMES = frozenset({"sizes"} | (_TABLE_RULES - {"dimensions"}) | _FAKE_RULES)
"""Every rule name of a ``ModelSpec`` (``sizes`` is the table's ``dimensions``)."""


@dataclass(frozen=True, kw_only=True)
class ModelSpec:
    """Everything the fake knows about one image model.

    Attributes:
        params: The model's record in the client's table (``together_image.models``): field
            support, value rules, wording, availability.
        safety_checker_disableable: Whether ``disable_safety_checker`` turns the checker off.
        timings: ``timings.inference`` in float seconds or integer milliseconds.
        item_order: Key order of each ``data`` item.
        min_tier: Lowest account build tier allowed to call the model.
        rate_limit_per_minute: The model-specific limit in images per minute, or ``None``.
        price: What the fake charges per megapixel or per image.
        listed_as_recorded: Whether ``GET /v1/models`` lists the model's recorded entry (a
            user's or renamed model gets an entry in the recorded shape instead).
    """

    params: ModelParams
    safety_checker_disableable: Rule[bool]
    timings: Rule[TimingsStyle]
    item_order: Rule[ItemOrder]
    min_tier: Rule[int]
    rate_limit_per_minute: Rule[float | None]
    price: Rule[Price]
    listed_as_recorded: bool = False

    # -- the table's record, under the names the fake has always used ------------------------

    @property
    def id(self) -> str:
        """The model id as sent in ``model``."""
        return self.params.id

    @property
    def display_name(self) -> str:
        """Human name (``GET /v1/models``)."""
        return self.params.display_name

    @property
    def organization(self) -> str:
        """Publisher (``GET /v1/models``)."""
        return self.params.organization

    @property
    def note(self) -> str:
        """Anything else worth knowing."""
        return self.params.note

    @property
    def sizes(self) -> Rule[Dimensions]:
        """Allowed ``width``/``height``: a per-side range, an area window or a size menu."""
        return self.params.dimensions

    @property
    def default_size(self) -> Rule[tuple[int, int]]:
        """``(width, height)`` when the request gives neither."""
        return self.params.default_size

    @property
    def steps(self) -> Rule[tuple[int, int] | None]:
        """Allowed ``steps`` as ``(low, high)``, or ``None`` when the model takes no steps."""
        return self.params.steps

    @property
    def default_steps(self) -> Rule[int | None]:
        """Steps used when the request gives none."""
        return self.params.default_steps

    @property
    def seeds(self) -> Rule[SeedRange | None]:
        """Inclusive seed bounds, or ``None``."""
        return self.params.seeds

    @property
    def max_n(self) -> Rule[int]:
        """Largest ``n``."""
        return self.params.max_n

    @property
    def image_url(self) -> Rule[ImageInputRule]:
        """Whether an ``image_url`` input is required, optional or refused (ignored or 400)."""
        return self.params.image_url

    @property
    def max_loras(self) -> Rule[int]:
        """Largest number of ``image_loras`` items; 0 when the model takes none."""
        return self.params.max_loras

    @property
    def reference_images(self) -> Rule[int]:
        """Most ``reference_images`` the model takes; 0 when it takes none."""
        return self.params.reference_images

    @property
    def retired(self) -> Rule[str | None]:
        """When the real API stopped serving the model (``None`` while it does)."""
        return self.params.retired

    @property
    def wording(self) -> Rule[Wording]:
        """The wording family of the model's refusals."""
        return self.params.wording

    @property
    def output_size(self) -> Rule[OutputSize]:
        """Whether an input image sets the output size."""
        return self.params.output_size

    def field(self, name: str) -> FieldSupport:
        """What the model does with wire field ``name`` (see ``ModelParams.field``)."""
        return self.params.field(name)

    # -- rules, overrides, JSON -------------------------------------------------------------

    def rules(self) -> dict[str, Rule[Any]]:
        """Return every rule by name: the table's (``sizes`` is ``dimensions``), then the fake's."""
        table = self.params.rules()
        out: dict[str, Rule[Any]] = {}
        for name, rule in table.items():
            out["sizes" if name == "dimensions" else name] = rule
        for name in sorted(_FAKE_RULES):
            out[name] = getattr(self, name)
        return out

    def with_rules(self, **overrides: object) -> ModelSpec:
        """Return a copy with some rules replaced.

        Args:
            **overrides: Rule names (``RULE_NAMES``) mapped to a ``Rule`` or to a bare value
                (tagged ``USER``); also ``id``, ``display_name``, ``organization`` and ``note``.
                Overriding ``image_url`` or ``reference_images`` updates what the model does with
                that field, so the two stay consistent.

        Returns:
            The new spec.

        Raises:
            ValueError: If a name is not a rule or field of ``ModelSpec``.
        """
        table: dict[str, Any] = {}
        fake: dict[str, Any] = {}
        for name, value in overrides.items():
            target = _ALIASES.get(name, name)
            if target in _PLAIN_FIELDS:
                table[target] = value
                continue
            rule = value if isinstance(value, Rule) else Rule(value=value, source="USER")
            if target in _TABLE_RULES:
                table[target] = rule
            elif target in _FAKE_RULES:
                fake[target] = rule
            else:
                known = sorted(RULE_NAMES | _PLAIN_FIELDS)
                raise ValueError(f"Unknown model rule {name!r}; expected one of {known}")
        params = self.params
        if table:
            support = dict(params.support)
            if "image_url" in table:
                support["image_url"] = _image_url_support(params, table["image_url"])
            if "reference_images" in table:
                support["reference_images"] = _references_support(params, table["reference_images"])
            if "max_loras" in table:
                support["image_loras"] = _loras_support(params, table["max_loras"])
            params = replace(params, **table, support=support)
        # A renamed model gets a listing entry of its own.
        recorded = self.listed_as_recorded and params.id == self.params.id
        return replace(self, params=params, listed_as_recorded=recorded, **fake)

    def listing_entry(self) -> dict[str, Any]:
        """The model's ``GET /v1/models`` entry: as recorded, or in the recorded shape."""
        if self.listed_as_recorded:
            entry = _recorded_entry(self.id)
            if entry is not None:
                return dict(entry)
        price = self.price.value
        per_mp = {"price_per_megapixel": price.amount, "min_steps": self.default_steps.value or 0}
        per_image = {"example_price": price.amount, "example_description": "per image"}
        return {
            "id": self.id,
            "object": "model",
            "created": 0,
            "type": "image",
            "running": False,
            "display_name": self.display_name,
            "organization": self.organization,
            "pricing": {
                "hourly": 0,
                "input": 0,
                "output": 0,
                "base": 0,
                "finetune": 0,
                "image_pixel": per_mp if price.unit == "megapixel" else 0,
                "transcribe": 0,
                "image": per_image if price.unit == "image" else 0,
                "video": 0,
            },
        }

    def to_json(self) -> dict[str, Any]:
        """Return the spec with per-rule provenance, as ``GET /_fake/models`` shows it."""
        table = self.params.to_json()
        return {
            "id": self.id,
            "display_name": self.display_name,
            "organization": self.organization,
            "note": self.note,
            "rules": {name: rule.to_json() for name, rule in self.rules().items()},
            "support": table["support"],
        }


def _image_url_support(params: ModelParams, rule: Rule[Any]) -> FieldSupport:
    if rule.value == "refused":
        if params.support["image_url"].accepted:
            return _refusal(params, "image_url", rule)
        return params.support["image_url"]
    return FieldSupport(name="image_url", support="accepted", source=rule.source, note=rule.note)


def _references_support(params: ModelParams, rule: Rule[Any]) -> FieldSupport:
    if rule.value:
        return FieldSupport(
            name="reference_images", support="accepted", source=rule.source, note=rule.note
        )
    if params.support["reference_images"].accepted:
        return _refusal(params, "reference_images", rule)
    return params.support["reference_images"]


def _loras_support(params: ModelParams, rule: Rule[Any]) -> FieldSupport:
    if rule.value:
        return FieldSupport(
            name="image_loras", support="accepted", source=rule.source, note=rule.note
        )
    if params.support["image_loras"].accepted:
        return _refusal(params, "image_loras", rule)
    return params.support["image_loras"]


def _refusal(params: ModelParams, name: str, rule: Rule[Any]) -> FieldSupport:
    # A FLUX.1-family model ignores what it does not use; a Runware-family model refuses it.
    if params.wording.value == "flux1":
        return FieldSupport(name=name, support="ignored", source=rule.source, note=rule.note)
    return FieldSupport(
        name=name,
        support="rejected",
        source=rule.source,
        note=rule.note,
        message=unsupported_use_message(name),
    )


# ---- what only the fake needs, per model -----------------------------------------------------

_SECONDS = Rule[TimingsStyle](value="seconds", source="REC", note="FLUX.1 timings.inference in s")
_SECONDS_ASSUMED = Rule[TimingsStyle](
    value="seconds", source="INF", note="not observed; FLUX.1 style"
)
_MILLIS = Rule[TimingsStyle](value="milliseconds", source="REC", note="FLUX.2 timings in ms")
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
_PRICE_ASSUMED = Rule(
    value=Price(unit="megapixel", amount=0.025), source="INF", note="price not recorded"
)
_SAFETY_OFF_OK = Rule(
    value=True, source="DOC", note="docs: checker works for every model except Schnell Free and Pro"
)
_SAFETY_FIXED = Rule(
    value=False, source="DOC", note="docs: safety checker cannot be disabled for this model"
)
_BFL_MODERATION = Rule(
    value=False,
    source="3P",
    note="Black Forest Labs' own moderation answers even with disable_safety_checker: true",
)


@dataclass(frozen=True, kw_only=True)
class _Extras:
    timings: Rule[TimingsStyle] = _SECONDS_ASSUMED
    item_order: Rule[ItemOrder] = _INDEX_FIRST_ASSUMED
    min_tier: Rule[int] = _TIER1_ASSUMED
    rate_limit: Rule[float | None] = _NO_MODEL_LIMIT
    safety: Rule[bool] = _SAFETY_OFF_OK
    price: Rule[Price] | None = None


_FLUX1_RECORDED = _Extras(timings=_SECONDS, item_order=_INDEX_FIRST, min_tier=_TIER1)
_FLUX2 = _Extras(timings=_MILLIS, item_order=_TIMINGS_FIRST)
_BFL = "black-forest-labs/"
_EXTRAS: Mapping[str, _Extras] = {
    _BFL + "FLUX.1-schnell": _FLUX1_RECORDED,
    _BFL + "FLUX.1-schnell-Free": replace(
        _FLUX1_RECORDED,
        safety=_SAFETY_FIXED,
        rate_limit=Rule(
            value=6.0,
            source="REC",
            note="X-Ratelimit-Limit 0.1/s with Retry-After 10 (2025-08); docs: 6 img/min",
        ),
        price=Rule(value=Price(unit="megapixel", amount=0.0), source="DOC", note="free model"),
    ),
    _BFL + "FLUX.1-dev": _FLUX1_RECORDED,
    _BFL + "FLUX.1-dev-lora": replace(
        _FLUX1_RECORDED,
        price=Rule(
            value=Price(unit="megapixel", amount=0.035),
            source="DOC",
            note="LoRA quickstart: $0.035/MP",
        ),
    ),
    _BFL + "FLUX.1-canny": _FLUX1_RECORDED,
    _BFL + "FLUX.1-depth": _FLUX1_RECORDED,
    _BFL + "FLUX.1-redux": _FLUX1_RECORDED,
    _BFL + "FLUX.1.1-pro": replace(_FLUX1_RECORDED, min_tier=_TIER2, safety=_BFL_MODERATION),
    _BFL + "FLUX.1-pro": replace(_FLUX1_RECORDED, min_tier=_TIER2, safety=_SAFETY_FIXED),
    _BFL + "FLUX.1-kontext-pro": _Extras(
        min_tier=_TIER1,
        rate_limit=Rule(value=57.0, source="DOC", note="rate-limits page 2025-11: 57 img/min"),
    ),
    _BFL + "FLUX.1-kontext-max": _Extras(min_tier=_TIER1),
    _BFL + "FLUX.1-kontext-dev": _Extras(min_tier=_TIER1),
    _BFL + "FLUX.1-krea-dev": replace(_FLUX1_RECORDED),
    _BFL + "FLUX.2-dev": _FLUX2,
    _BFL + "FLUX.2-pro": replace(_FLUX2, safety=_BFL_MODERATION),
    _BFL + "FLUX.2-flex": replace(_FLUX2, safety=_BFL_MODERATION),
    _BFL + "FLUX.2-max": replace(_FLUX2, safety=_BFL_MODERATION),
}


# GET /v1/models on 2026-08-17 [REC]: FLUX.1, FLUX.1.1-pro and FLUX.2-max are priced per
# megapixel (pricing.image_pixel), every other image model per image (pricing.image.example_price).
_RECORDED_PRICES: Mapping[str, tuple[PriceUnit, float]] = {
    "black-forest-labs/FLUX.1-schnell": ("megapixel", 0.0027),
    "black-forest-labs/FLUX.1-kontext-pro": ("megapixel", 0.04),
    "black-forest-labs/FLUX.1-kontext-max": ("megapixel", 0.08),
    "black-forest-labs/FLUX.2-dev": ("image", 0.0154),
    "black-forest-labs/FLUX.2-flex": ("image", 0.03),
    "black-forest-labs/FLUX.2-pro": ("image", 0.03),
    "black-forest-labs/FLUX.2-max": ("megapixel", 0.07),
    "black-forest-labs/FLUX.1.1-pro": ("megapixel", 0.04),
    "openai/gpt-image-1.5": ("image", 0.034),
    "Wan-AI/Wan2.6-image": ("image", 0.03),
    "ByteDance-Seed/Seedream-3.0": ("image", 0.018),
    "ByteDance-Seed/Seedream-4.0": ("image", 0.03),
    "Rundiffusion/Juggernaut-Lightning-Flux": ("image", 0.0017),
    "ideogram/ideogram-3.0": ("image", 0.06),
    "google/gemini-3-pro-image": ("image", 0.134),
    "stabilityai/stable-diffusion-xl-base-1.0": ("image", 0.0019),
    "google/imagen-4.0-fast": ("image", 0.02),
    "google/flash-image-2.5": ("image", 0.039),
    "google/imagen-4.0-ultra": ("image", 0.06),
    "google/imagen-4.0-preview": ("image", 0.04),
    "RunDiffusion/Juggernaut-pro-flux": ("image", 0.0049),
    "Qwen/Qwen-Image": ("image", 0.0058),
    "Qwen/Qwen-Image-2.0-Pro": ("image", 0.075),
    "google/flash-image-3.1": ("image", 0.04657),
    "Qwen/Qwen-Image-2.0": ("image", 0.035),
    "ByteDance/Seedream-5.0-lite": ("image", 0.035),
    "ideogram/ideogram-4.0": ("image", 0.06),
    "openai/gpt-image-2": ("image", 0.053),
    "google/flash-image-3.1-lite": ("image", 0.069),
    "prunaai/p-image-ideogram": ("image", 0.00225),
}


def _price(model_id: str, extras: _Extras) -> Rule[Price]:
    """What the fake charges: the recorded price where there is one."""
    if extras.price is not None:
        return extras.price
    recorded = _RECORDED_PRICES.get(model_id)
    if recorded is None:
        return _PRICE_ASSUMED
    unit, amount = recorded
    key = "image_pixel.price_per_megapixel" if unit == "megapixel" else "image.example_price"
    return Rule(
        value=Price(unit=unit, amount=amount),
        source="REC",
        note=f"GET /v1/models 2026-08-17: pricing.{key}",
    )


def _spec(params: ModelParams) -> ModelSpec:
    extras = _EXTRAS.get(params.id, _Extras())
    return ModelSpec(
        params=params,
        safety_checker_disableable=extras.safety,
        timings=extras.timings,
        item_order=extras.item_order,
        min_tier=extras.min_tier,
        rate_limit_per_minute=extras.rate_limit,
        price=_price(params.id, extras),
        listed_as_recorded=params.id in _RECORDED_PRICES,
    )


CATALOG: tuple[ModelSpec, ...] = tuple(_spec(params) for params in MODELS)
"""Every model the fake knows: the table's (served, retired, dedicated-only), in its order."""


# Serverless ids Together serves on other endpoints. Sending one to the image endpoint gives a
# 500 [REC for meta-llama/Llama-4-Scout-17B-16E-Instruct]; the recorded listing names the rest
# [REC 2026-08-17], and the families extend that to ids not listed then [INF].
_NON_IMAGE_EXTRA: frozenset[str] = frozenset(
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


@cache
def _non_image_ids() -> frozenset[str]:
    listed = {entry["id"] for entry in recorded_listing() if entry.get("type") != "image"}
    return frozenset(listed | _NON_IMAGE_EXTRA)


NON_IMAGE_MODELS: frozenset[str] = _NON_IMAGE_EXTRA
"""Non-image ids named here; ``is_non_image_model`` also knows every non-image id of the
recorded 2026-08-17 listing and the families."""


def is_non_image_model(model_id: str) -> bool:
    """Return whether Together serves ``model_id`` on a non-image endpoint (listing or family)."""
    if model_id in _non_image_ids():
        return True
    return any(pattern.search(model_id) for pattern in NON_IMAGE_FAMILIES)


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
