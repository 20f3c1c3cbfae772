"""The catalog: every seed-document model, complete provenance, overrides, non-image ids."""

from __future__ import annotations

import pytest

from together_image_fake import CATALOG, Catalog, ModelSpec, Rule, SizeRange
from together_image_fake._catalog import RULE_NAMES, is_non_image_model

SEED_MODELS = [
    "stabilityai/stable-diffusion-xl-base-1.0",
    "black-forest-labs/FLUX.1-dev",
    "black-forest-labs/FLUX.1-dev-lora",
    "black-forest-labs/FLUX.1-schnell",
    "black-forest-labs/FLUX.1-canny",
    "black-forest-labs/FLUX.1-depth",
    "black-forest-labs/FLUX.1-redux",
    "black-forest-labs/FLUX.1.1-pro",
    "black-forest-labs/FLUX.1-pro",
    "black-forest-labs/FLUX.1-schnell-Free",
    "black-forest-labs/FLUX.1-kontext-pro",
    "black-forest-labs/FLUX.1-kontext-max",
    "black-forest-labs/FLUX.1-kontext-dev",
]
CURRENT_MODELS = [
    "black-forest-labs/FLUX.1-krea-dev",
    "black-forest-labs/FLUX.2-dev",
    "black-forest-labs/FLUX.2-flex",
    "black-forest-labs/FLUX.2-pro",
    "black-forest-labs/FLUX.2-max",
    "google/gemini-3-pro-image",
    "Qwen/Qwen-Image",
    "openai/gpt-image-2",
]


@pytest.mark.parametrize("model_id", SEED_MODELS + CURRENT_MODELS)
def test_catalog_has_the_model(model_id: str) -> None:
    assert Catalog.build().get(model_id) is not None


@pytest.mark.parametrize("spec", CATALOG, ids=[spec.id for spec in CATALOG])
def test_every_rule_says_where_it_comes_from(spec: ModelSpec) -> None:
    rules = spec.rules()

    assert set(rules) == RULE_NAMES
    assert all(rule.note for rule in rules.values())
    assert spec.to_json()["rules"]["sizes"]["source"] == spec.sizes.source


def test_recorded_facts_carry_the_rec_tag() -> None:
    catalog = Catalog.build()
    flux2_dev = catalog.get("black-forest-labs/FLUX.2-dev")
    schnell = catalog.get("black-forest-labs/FLUX.1-schnell")
    assert flux2_dev is not None
    assert schnell is not None

    assert flux2_dev.sizes == Rule(
        value=SizeRange(min=512, max=2048, multiple=16),
        source="REC",
        note="width 256 -> 400 '...between 512 and 2048, in multiples of '16''",
    )
    assert (flux2_dev.timings.value, flux2_dev.timings.source) == ("milliseconds", "REC")
    assert (schnell.item_order.value, schnell.item_order.source) == ("index_first", "REC")


def test_ids_restrict_the_catalog_and_specs_extend_it() -> None:
    schnell = Catalog.build().get("black-forest-labs/FLUX.1-schnell")
    assert schnell is not None
    mine = schnell.with_rules(id="me/model", max_n=1)

    catalog = Catalog.build(["black-forest-labs/FLUX.1-schnell", mine])

    assert list(catalog.models) == ["black-forest-labs/FLUX.1-schnell", "me/model"]
    assert catalog.models["me/model"].max_n == Rule(value=1, source="USER")


def test_unknown_ids_and_rule_names_are_rejected_with_the_expected_names() -> None:
    with pytest.raises(ValueError, match="Unknown model id 'nope'"):
        Catalog.build(["nope"])
    with pytest.raises(ValueError, match="Unknown model rule 'colour'"):
        CATALOG[0].with_rules(colour="red")
    with pytest.raises(ValueError, match="Rule source must be one of"):
        Rule(value=1, source="GUESS")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("model_id", "expected"),
    [
        ("meta-llama/Llama-4-Scout-17B-16E-Instruct", True),
        ("meta-llama/Some-Future-Llama", True),
        ("Qwen/Qwen3-Coder-480B", True),
        ("deepseek-ai/DeepSeek-R1", True),
        ("BAAI/bge-large-en-v1.5", True),
        ("Qwen/Qwen-Image", False),
        ("google/imagen-4.0-fast", False),
        ("bad model", False),
    ],
)
def test_non_image_models_are_known_by_list_and_family(model_id: str, expected: bool) -> None:
    assert is_non_image_model(model_id) is expected


def test_image_models_are_never_taken_for_non_image_models() -> None:
    assert not any(is_non_image_model(spec.id) for spec in CATALOG)


@pytest.mark.parametrize(
    ("side", "allowed"), [(256, True), (2048, True), (240, False), (2064, False), (1000, False)]
)
def test_size_range(side: int, allowed: bool) -> None:
    assert SizeRange(min=256, max=2048, multiple=16).allows(side) is allowed
