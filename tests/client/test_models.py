"""The per-model parameter table (``together_image.models``): integrity, real texts, value rules."""

from __future__ import annotations

import ast
import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import together_image.models as models
from together_image.models import (
    CHECK_ORDER,
    MODELS,
    REJECTION_ORDER,
    SOURCES,
    TEXTS,
    WIRE_FIELDS,
    AreaWindow,
    FieldSupport,
    Rule,
    SeedRange,
    SizeMenu,
    SizeRange,
    model_params,
    non_serverless_message,
)

# The 30 image models of GET /v1/models recorded 2026-08-17 (maruel/genai
# providers/togetherai/testdata/TestClient/Warmup.yaml @23c16cde), with their display names.
LISTING_2026_08_17 = {
    "black-forest-labs/FLUX.1-schnell": "FLUX.1 Schnell",
    "black-forest-labs/FLUX.1-kontext-pro": "FLUX.1 Kontext [pro]",
    "black-forest-labs/FLUX.1-kontext-max": "FLUX.1 Kontext [max]",
    "black-forest-labs/FLUX.2-dev": "FLUX.2 [dev]",
    "black-forest-labs/FLUX.2-flex": "FLUX.2 [flex]",
    "black-forest-labs/FLUX.2-pro": "FLUX.2 [pro]",
    "black-forest-labs/FLUX.2-max": "FLUX.2 [max]",
    "black-forest-labs/FLUX.1.1-pro": "FLUX1.1 [pro]",
    "openai/gpt-image-1.5": "GPT Image 1.5",
    "Wan-AI/Wan2.6-image": "Wan 2.6 Image",
    "ByteDance-Seed/Seedream-3.0": "ByteDance Seedream 3.0",
    "ByteDance-Seed/Seedream-4.0": "ByteDance Seedream 4.0",
    "Rundiffusion/Juggernaut-Lightning-Flux": "Juggernaut Lightning Flux by RunDiffusion",
    "ideogram/ideogram-3.0": "Ideogram 3.0",
    "google/gemini-3-pro-image": "Gemini 3 (Nano Banana Pro)",
    "stabilityai/stable-diffusion-xl-base-1.0": "SD XL",
    "google/imagen-4.0-fast": "Google Imagen 4.0 Fast",
    "google/flash-image-2.5": "Gemini Flash Image 2.5 (Nano Banana)",
    "google/imagen-4.0-ultra": "Google Imagen 4.0 Ultra",
    "google/imagen-4.0-preview": "Google Imagen 4.0 Preview",
    "RunDiffusion/Juggernaut-pro-flux": "Juggernaut Pro Flux by RunDiffusion 1.0.0",
    "Qwen/Qwen-Image": "Qwen Image",
    "Qwen/Qwen-Image-2.0-Pro": "Qwen Image 2.0 Pro",
    "google/flash-image-3.1": "Gemini 3.1 Flash Image (Nano Banana 2)",
    "Qwen/Qwen-Image-2.0": "Qwen Image 2.0",
    "ByteDance/Seedream-5.0-lite": "ByteDance Seedream 5.0 Lite",
    "ideogram/ideogram-4.0": "Ideogram 4.0",
    "openai/gpt-image-2": "GPT Image 2",
    "google/flash-image-3.1-lite": "Gemini 3.1 Flash-Lite Image (Nano Banana 2 Lite)",
    "prunaai/p-image-ideogram": "P-Image-Ideogram",
}

# Verbatim production texts, copied from the 2026 reference (together-images-api-2026.md §1) and
# the sources it lists. A test fails if a single character of the table drifts from them.
PUTER_IMAGE_URL = (
    "Unsupported use of 'image_url' parameter. This parameter is not supported for the selected "
    "model."
)
QWEN_STEPS = (
    "Unsupported use of 'steps' parameter. This parameter is not supported for the selected model."
)
GEMINI_SEED = (
    "Unsupported use of 'seed' parameter. This parameter is not supported for the selected model."
)
FLUX2_PRO_NEGATIVE = (
    "Invalid parameter detected. The parameter \"'negative_prompt'\" is not recognized or "
    "supported."
)
WAN_SEED = (
    "Invalid value for 'seed' parameter. Seed must be an integer value between 0 and 2147483647. "
    "Default: Random."
)
WAN_DIMENSIONS = (
    "Invalid dimensions. The total area (width \u00d7 height) must be within the range of "
    "1265\u00d71265 to 1440\u00d71440. The aspect ratio must be between 1:4 and 4:1. For example, "
    "768*2700 is a valid resolution."
)
FLASH_LITE_MENU = (
    "Unsupported use of width/height parameters. The specified dimensions are not supported for "
    "the selected model. Supported values are: '1024x1024', '1264x848', '848x1264', '1200x896', "
    "'896x1200', '928x1152', '1152x928', '768x1376', '1376x768', '1584x672', '2048x512', "
    "'512x2048', '3072x384', '384x3072'."
)
STEPS_CONFIGURATION = (
    "Parameter 'steps' is not supported for the selected model configuration. Please remove this "
    "parameter from your request."
)
OPENJOURNEY = (
    "Unable to access non-serverless model prompthero/openjourney. Please visit "
    "https://api.together.ai/models/prompthero/openjourney to create and start a new dedicated "
    "endpoint for the model."
)
CREDIT_2026 = (
    "Credit limit exceeded, please [add credits](https://api.together.ai/settings/billing). If "
    "you've already made a payment, please wait up to 5 minutes for balances to update and try "
    "again."
)
RATE_2026 = (
    "Too many requests in a short window. Our rate limits are dynamic - they shift with live "
    "model capacity and your traffic shape, so steady traffic and exponential back-off help."
)
FLUX2_DEV_WIDTH = (  # [REC] maruel/genai 2025-12-14, fixtures/flux2-dev-width-400-2025-12-14.json
    "Invalid value for 'width' parameter. Image width must be an integer value between 512 and "
    "2048, in multiples of '16'."
)

SERVED = [params for params in MODELS if params.is_served]


def _params(model_id: str) -> models.ModelParams:
    params = model_params(model_id)
    assert params is not None, model_id
    return params


WAN = _params("Wan-AI/Wan2.6-image")


# ---- integrity -------------------------------------------------------------------------------


def test_ids_are_unique_and_every_field_is_described() -> None:
    ids = [params.id for params in MODELS]
    assert len(ids) == len(set(ids))
    for params in MODELS:
        assert set(params.support) == set(WIRE_FIELDS), params.id


def test_every_rule_and_field_support_is_tagged_and_sourced() -> None:
    for params in MODELS:
        for name, rule in params.rules().items():
            assert rule.source in SOURCES, (params.id, name)
            assert rule.note.strip(), f"{params.id}.{name} has no source note"
        for name in WIRE_FIELDS:
            support = params.support[name]
            assert support.source in SOURCES, (params.id, name)
            assert support.note.strip(), f"{params.id} support.{name} has no source note"
            assert support.name == name
    for name, text in TEXTS.items():
        assert text.source in ("REC", "3P"), name
        assert text.note.strip(), name
    assert REJECTION_ORDER.note.strip()
    for order in CHECK_ORDER.values():
        assert order.note.strip()


def test_the_served_models_are_the_2026_08_17_listing_with_its_display_names() -> None:
    assert {params.id: params.display_name for params in SERVED} == LISTING_2026_08_17


def test_retired_models_carry_a_date_and_are_not_served() -> None:
    retired = {params.id: params.retired.value for params in MODELS if params.retired.value}
    assert retired == {
        "black-forest-labs/FLUX.1-schnell-Free": "2026-03-20",
        "black-forest-labs/FLUX.1-dev": "2026-03-20",
        "black-forest-labs/FLUX.1-dev-lora": "2026-03-20",
        "black-forest-labs/FLUX.1-canny": "2025-08-30",
        "black-forest-labs/FLUX.1-depth": "2025-08-30",
        "black-forest-labs/FLUX.1-redux": "2025-08-30",
        "black-forest-labs/FLUX.1-pro": "2026-04-16",
        "black-forest-labs/FLUX.1-kontext-dev": "2026-03-20",
        "black-forest-labs/FLUX.1-krea-dev": "2026-05-31",
        "stabilityai/stable-diffusion-3-medium": "2026-06-22",
        "HiDream-ai/HiDream-I1-Full": "2026-06-22",
        "HiDream-ai/HiDream-I1-Dev": "2026-06-22",
        "HiDream-ai/HiDream-I1-Fast": "2026-06-22",
        "Lykon/DreamShaper": "2026-06-22",
        "xai/grok-imagine-image-pro": "2026-06-22",
    }
    assert not any(_params(model_id).is_served for model_id in retired)


def test_dedicated_only_models_are_known_but_not_serverless() -> None:
    openjourney = _params("prompthero/openjourney")
    assert openjourney.serverless.value is False
    assert openjourney.serverless.source == "3P"
    assert not openjourney.is_served
    assert model_params("no-such/model") is None


def test_every_default_size_satisfies_its_models_dimension_rule() -> None:
    # A request without width/height must never be refused for its size.
    for params in MODELS:
        width, height = params.default_size.value
        assert params.dimension_error(width, height) is None, params.id


def test_rejected_means_a_message_and_the_image_rules_agree_with_the_fields() -> None:
    with pytest.raises(ValueError, match="message is required exactly when"):
        FieldSupport(name="steps", support="rejected", source="INF", note="x")
    with pytest.raises(ValueError, match="message is required exactly when"):
        FieldSupport(name="steps", support="accepted", source="INF", note="x", message="no")
    kontext = _params("black-forest-labs/FLUX.1-kontext-pro")
    with pytest.raises(ValueError, match="image_url rule"):
        replace(kontext, image_url=Rule(value="refused", source="USER"))
    with pytest.raises(ValueError, match="reference_images count"):
        replace(kontext, reference_images=Rule(value=2, source="USER"))
    with pytest.raises(ValueError, match="Rule source"):
        Rule(value=1, source="GUESS")  # type: ignore[arg-type]


def test_the_module_imports_only_the_standard_library() -> None:
    tree = ast.parse(Path(models.__file__).read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module.split(".")[0])
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}, imported


def test_to_json_is_plain_json_with_provenance() -> None:
    for params in MODELS:
        data = json.loads(json.dumps(params.to_json()))
        assert data["id"] == params.id
        assert set(data["support"]) == set(WIRE_FIELDS)
    wan = WAN.to_json()["rules"]["dimensions"]
    assert wan["value"] == {
        "min_area": 1265**2,
        "max_area": 1440**2,
        "min_ratio": "1:4",
        "max_ratio": "4:1",
    }
    assert wan["source"] == "3P"


# ---- the real texts, exactly -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("model_id", "field", "expected"),
    [
        ("google/flash-image-2.5", "image_url", PUTER_IMAGE_URL),
        ("Qwen/Qwen-Image-2.0", "steps", QWEN_STEPS),
        ("google/gemini-3-pro-image", "seed", GEMINI_SEED),
        ("google/gemini-3-pro-image", "steps", QWEN_STEPS),
        ("black-forest-labs/FLUX.2-pro", "negative_prompt", FLUX2_PRO_NEGATIVE),
        ("black-forest-labs/FLUX.2-pro", "image_url", PUTER_IMAGE_URL),
        ("black-forest-labs/FLUX.2-pro", "steps", STEPS_CONFIGURATION),
        ("ByteDance-Seed/Seedream-4.0", "image_url", PUTER_IMAGE_URL),
    ],
)
def test_rejected_fields_answer_in_the_recorded_words(
    model_id: str, field: str, expected: str
) -> None:
    support = _params(model_id).field(field)
    assert support.rejected
    assert support.message == expected


def test_value_rules_answer_in_the_recorded_words() -> None:
    assert WAN.seed_error(2**31) == WAN_SEED
    assert WAN.seed_error(-1) == WAN_SEED
    assert WAN.dimension_error(1024, 1536) == WAN_DIMENSIONS
    lite = _params("google/flash-image-3.1-lite")
    assert lite.dimension_error(1024, 1536) == FLASH_LITE_MENU
    assert _params("black-forest-labs/FLUX.2-dev").dimension_error(256, 256) == FLUX2_DEV_WIDTH
    assert non_serverless_message("prompthero/openjourney") == OPENJOURNEY


def test_the_texts_table_holds_every_verbatim_text() -> None:
    values = {rule.value for rule in TEXTS.values()}
    for text in (
        PUTER_IMAGE_URL,
        QWEN_STEPS,
        GEMINI_SEED,
        FLUX2_PRO_NEGATIVE,
        WAN_SEED,
        WAN_DIMENSIONS,
        FLASH_LITE_MENU,
        STEPS_CONFIGURATION,
        CREDIT_2026,
        RATE_2026,
        FLUX2_DEV_WIDTH,
    ):
        assert text in values


def test_flux1_and_runware_families_quote_the_multiple_differently() -> None:
    schnell = _params("black-forest-labs/FLUX.1-schnell")
    assert schnell.wording.value == "flux1"
    assert schnell.dimension_error(1800, 512) == (
        "Invalid value for 'width' parameter. Image width must be an integer value between 64 "
        "and 1792, in multiples of 16."
    )
    assert _params("black-forest-labs/FLUX.2-dev").wording.value == "runware"


# ---- what the client reads -------------------------------------------------------------------


def test_input_image_routing_per_model() -> None:
    for model_id in (
        "black-forest-labs/FLUX.2-dev",
        "black-forest-labs/FLUX.2-pro",
        "google/gemini-3-pro-image",
        "google/flash-image-2.5",
    ):
        params = _params(model_id)
        assert params.takes_reference_images, model_id
        assert params.takes_only_reference_images, model_id
        assert params.max_reference_images > 1
    kontext = _params("black-forest-labs/FLUX.1-kontext-pro")
    assert kontext.takes_image_url
    assert not kontext.takes_reference_images
    assert kontext.output_size.value == "reference"
    schnell = _params("black-forest-labs/FLUX.1-schnell")
    assert schnell.field("image_url").ignored
    assert not schnell.takes_image_url
    assert not schnell.takes_reference_images


def test_aspect_ratio_is_taken_by_schnell_and_kontext_only_among_served_models() -> None:
    takers = {params.id for params in SERVED if params.takes_aspect_ratio}
    assert takers == {
        "black-forest-labs/FLUX.1-schnell",
        "black-forest-labs/FLUX.1-kontext-pro",
        "black-forest-labs/FLUX.1-kontext-max",
    }
    for params in MODELS:
        assert bool(params.aspect_ratios.value) == params.takes_aspect_ratio, params.id


def test_accepted_and_ignored_fields_measured_by_third_parties() -> None:
    assert _params("black-forest-labs/FLUX.1-schnell").field("negative_prompt").ignored
    assert _params("Rundiffusion/Juggernaut-Lightning-Flux").field("negative_prompt").ignored
    assert _params("stabilityai/stable-diffusion-xl-base-1.0").field("negative_prompt").accepted
    assert _params("black-forest-labs/FLUX.1-schnell").field("size").ignored
    assert _params("black-forest-labs/FLUX.1-kontext-pro").field("images").ignored


def test_gemini_3_pro_rejects_what_the_ai_sdk_drops() -> None:
    # @ai-sdk/togetherai 3.0.54 drops steps, guidance, negative_prompt and seed for this model.
    gemini = _params("google/gemini-3-pro-image")
    for name in ("steps", "guidance", "negative_prompt", "seed"):
        assert gemini.field(name).rejected, name


# ---- value rules (Hypothesis) ----------------------------------------------------------------


@given(st.integers(min_value=-(2**63), max_value=2**64))
def test_wan_seed_bounds_are_inclusive(seed: int) -> None:
    inside = 0 <= seed <= 2147483647
    assert (WAN.seed_error(seed) is None) == inside


@given(st.integers(min_value=1, max_value=8000), st.integers(min_value=1, max_value=8000))
def test_area_window_is_the_area_and_the_ratio(width: int, height: int) -> None:
    window = WAN.dimensions.value
    assert isinstance(window, AreaWindow)
    expected = 1265**2 <= width * height <= 1440**2 and 0.25 <= width / height <= 4.0
    # Exact rational bounds: a float ratio could only differ exactly at 1:4 or 4:1.
    if width * 4 == height or height * 4 == width:
        expected = 1265**2 <= width * height <= 1440**2
    assert window.allows_size(width, height) == expected
    assert (WAN.dimension_error(width, height) is None) == expected


@given(
    st.integers(min_value=1, max_value=400),
    st.integers(min_value=1, max_value=400),
    st.integers(min_value=1, max_value=64),
    st.integers(min_value=-100, max_value=600),
)
def test_size_range_allows_exactly_the_bounded_multiples(
    low: int, span: int, multiple: int, side: int
) -> None:
    sizes = SizeRange(min=low, max=low + span, multiple=multiple)
    assert sizes.allows(side) == (low <= side <= low + span and side % multiple == 0)


@given(st.sampled_from(MODELS), st.integers(1, 7000), st.integers(1, 7000))
def test_dimension_error_is_none_exactly_when_the_rule_allows(
    params: models.ModelParams, width: int, height: int
) -> None:
    allowed = params.dimensions.value.allows_size(width, height)
    error = params.dimension_error(width, height)
    assert (error is None) == allowed
    if error is not None and isinstance(params.dimensions.value, SizeRange):
        # A per-side range names the first bad side, width before height [REC FLUX.2-dev].
        bad = "width" if not params.dimensions.value.allows(width) else "height"
        assert error.startswith(f"Invalid value for '{bad}' parameter.")


@given(st.sampled_from([p for p in MODELS if isinstance(p.dimensions.value, SizeMenu)]))
def test_every_menu_size_is_allowed_and_listed_in_the_message(params: models.ModelParams) -> None:
    menu = params.dimensions.value
    assert isinstance(menu, SizeMenu)
    assert len(set(menu.sizes)) == len(menu.sizes)
    message = params.dimension_error(1, 1)
    assert message is not None
    for width, height in menu.sizes:
        assert params.dimension_error(width, height) is None
        assert f"'{width}x{height}'" in message


@given(st.sampled_from(MODELS))
def test_rejected_fields_follow_the_real_order(params: models.ModelParams) -> None:
    order = REJECTION_ORDER.value
    rejected = params.rejected_fields
    assert list(rejected) == sorted(rejected, key=order.index)
    assert set(rejected) == {name for name in WIRE_FIELDS if params.support[name].rejected}
    assert set(rejected) <= set(order)


@given(st.sampled_from(MODELS), st.text(min_size=1, max_size=20))
def test_unknown_fields_are_accepted_and_ignored(params: models.ModelParams, name: str) -> None:
    if name in WIRE_FIELDS:
        assert params.field(name) is params.support[name]
    else:
        support = params.field(name)
        assert support.ignored
        assert support.name == name
        assert support.message is None


@given(st.sampled_from(MODELS))
def test_model_is_always_checked_first(params: models.ModelParams) -> None:
    assert params.check_order.value[0] == "model"


@given(st.integers(), st.integers(min_value=0, max_value=2**40))
def test_seed_range_is_inclusive(low: int, span: int) -> None:
    seeds = SeedRange(min=low, max=low + span)
    assert seeds.allows(low)
    assert seeds.allows(low + span)
    assert not seeds.allows(low - 1)
    assert not seeds.allows(low + span + 1)


def test_rules_of_extending_tables_serialize_their_dataclass_values() -> None:
    # The fake's catalog extends the table with value shapes of its own (prices).
    @dataclass(frozen=True, kw_only=True)
    class Price:
        unit: str
        amount: float

    rule = Rule(value=Price(unit="image", amount=0.03), source="REC", note="listing")
    assert rule.to_json() == {
        "value": {"unit": "image", "amount": 0.03},
        "source": "REC",
        "note": "listing",
    }
