"""Wire-body strategies against the fake's own validation: valid bodies pass, each mistake gets the
error its example names, and client-level strategies (sizes, prompts, options) go through
``generate_image``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from together_image import create_togetherai, generate_image
from together_image_fake import CATALOG, FakeTogether, SizeRange, inspect_image
from together_image_fake.strategies import (
    InvalidRequestExample,
    _edits,  # the table the strategy samples
    generation_requests,
    invalid_generation_requests,
    prompts,
    provider_options,
    sizes,
)

from ._support import KEY, error_of, post_body

SCHNELL = "black-forest-labs/FLUX.1-schnell"
# One model per distinct rule set: FLUX.1 3P sizes, FLUX.2-dev REC sizes and LoRAs, a required
# image_url, an optional one with a rate limit, reference images, an [INF]-only model.
MODELS = [
    SCHNELL,
    "black-forest-labs/FLUX.2-dev",
    "black-forest-labs/FLUX.1-canny",
    "black-forest-labs/FLUX.1-kontext-pro",
    "black-forest-labs/FLUX.1-dev-lora",
    "black-forest-labs/FLUX.2-pro",
    "google/flash-image-2.5",
    "stabilityai/stable-diffusion-xl-base-1.0",
    # The 2026 rules (together_image.models): an area window and seed bounds, a fixed menu and
    # refused seed and steps, refused steps.
    "Wan-AI/Wan2.6-image",
    "google/gemini-3-pro-image",
    "Qwen/Qwen-Image-2.0",
]
# Menus and area windows have no size below about 1,000 px a side.
PER_MODEL_MAX_SIDE = 2048


@pytest.fixture(scope="module")
def fake() -> FakeTogether:
    """A strict fake without rate limits (many examples hit the same model), serving the retired
    models too (FLUX.1 Canny, FLUX.1 [dev] LoRA carry rules the others lack)."""
    return FakeTogether(seed=3, rate_limits="off", max_calls=100, serve_retired=True)


@pytest.fixture(scope="module")
def lenient_fake() -> FakeTogether:
    return FakeTogether(seed=3, rate_limits="off", strict=False, max_calls=100, serve_retired=True)


@pytest.fixture(scope="module")
def intercepting_fake(fake: FakeTogether) -> Iterator[FakeTogether]:
    with fake:
        yield fake


@given(generation_requests(max_side=512, max_n=2))
def test_valid_bodies_are_accepted_by_a_strict_fake(fake: FakeTogether, body: Any) -> None:
    response = post_body(fake, body)
    assert response.status == 200, response.body
    payload = json.loads(response.body)
    assert payload["model"] == body["model"]
    assert len(payload["data"]) == body.get("n", 1)


@pytest.mark.parametrize("model", MODELS)
@settings(max_examples=10)
@given(data=st.data())
def test_valid_bodies_follow_each_models_rules(
    fake: FakeTogether, model: str, data: st.DataObject
) -> None:
    body = data.draw(generation_requests(models=[model], max_side=PER_MODEL_MAX_SIDE, max_n=1))
    spec = fake.catalog.models[model]
    assert ("image_url" in body) >= (spec.image_url.value == "required")
    assert ("image_url" in body) <= (spec.image_url.value != "refused")
    assert len(body.get("image_loras", [])) <= spec.max_loras.value
    assert post_body(fake, body).status == 200


@given(generation_requests(max_side=512, max_n=2))
def test_valid_bodies_are_accepted_by_a_lenient_fake(lenient_fake: FakeTogether, body: Any) -> None:
    assert post_body(lenient_fake, body).status == 200


def _check_error(fake: FakeTogether, example: InvalidRequestExample) -> None:
    response = post_body(fake, example.body)
    error = error_of(response)
    assert (response.status, error["type"], error["code"]) == (
        example.status,
        example.error_type,
        example.error_code,
    ), (example.reason, error)
    assert error["param"] is None
    if example.field is not None:
        assert f"'{example.field}'" in error["message"], (example.reason, error)
    if example.message is not None:
        # The model's own words, from the per-model table.
        assert error["message"] == example.message, (example.reason, error)


@given(invalid_generation_requests())
def test_each_mistake_gets_the_error_it_names(
    fake: FakeTogether, example: InvalidRequestExample
) -> None:
    _check_error(fake, example)


@pytest.mark.parametrize("model", MODELS)
@settings(max_examples=15)
@given(data=st.data())
def test_each_models_own_mistakes_get_their_errors(
    fake: FakeTogether, model: str, data: st.DataObject
) -> None:
    _check_error(fake, data.draw(invalid_generation_requests(models=[model])))


@given(invalid_generation_requests(strict=False))
def test_mistakes_for_a_lenient_fake_get_their_errors(
    lenient_fake: FakeTogether, example: InvalidRequestExample
) -> None:
    _check_error(lenient_fake, example)


@pytest.mark.parametrize(
    ("model", "strict", "present", "absent"),
    [
        # FLUX.1-schnell accepts and ignores image_url [3P Orb]: no mistake to make with it.
        (SCHNELL, True, {"bad width", "blank prompt"}, {"image_url missing", "image_url refused"}),
        (SCHNELL, False, {"bad width"}, {"blank prompt", "image_loras refused"}),
        ("black-forest-labs/FLUX.1-canny", False, {"image_url missing"}, {"image_url refused"}),
        ("black-forest-labs/FLUX.1-dev-lora", False, {"too many image_loras"}, set()),
        ("black-forest-labs/FLUX.2-dev", True, {"too many image_loras"}, {"image_loras refused"}),
        ("google/flash-image-2.5", False, {"image_url refused"}, {"reference_images refused"}),
        # Its size and image rules are [INF]: a lenient fake does not apply them.
        ("stabilityai/stable-diffusion-xl-base-1.0", False, set(), {"image_url refused"}),
        (
            "stabilityai/stable-diffusion-xl-base-1.0",
            True,
            {"bad width"},
            {"reference_images refused", "image_url refused"},
        ),
        ("google/gemini-3-pro-image", True, {"seed refused", "steps refused"}, {"bad width"}),
        (
            "Wan-AI/Wan2.6-image",
            True,
            {"seed out of range", "size outside the model's rule"},
            set(),
        ),
        ("Qwen/Qwen-Image-2.0", False, {"steps refused"}, {"steps out of range"}),
    ],
)
def test_mistakes_follow_the_models_rules(
    model: str, strict: bool, present: set[str], absent: set[str]
) -> None:
    spec = next(spec for spec in CATALOG if spec.id == model)
    reasons = {edit.reason for edit in _edits(spec, strict)}
    assert present <= reasons
    assert not absent & reasons


@pytest.mark.parametrize("model", [spec.id for spec in CATALOG])
def test_sizes_fit_each_models_rule(model: str) -> None:
    rule = next(spec for spec in CATALOG if spec.id == model).sizes.value

    @settings(max_examples=20)
    @given(sizes(model=model))
    def check(size: str) -> None:
        width, height = map(int, size.split("x"))
        assert rule.allows_size(width, height)

    check()


@given(sizes())
def test_default_sizes_fit_every_served_model_with_a_side_range(size: str) -> None:
    width, height = map(int, size.split("x"))
    for spec in CATALOG:
        if spec.params.is_served and isinstance(spec.sizes.value, SizeRange):
            assert spec.sizes.value.allows_size(width, height)


@settings(max_examples=20)
@given(prompt=prompts(), size=sizes(model=SCHNELL, max_side=512), options=provider_options())
def test_client_arguments_generate_an_image(
    intercepting_fake: FakeTogether, prompt: str, size: str, options: dict[str, Any]
) -> None:
    provider = create_togetherai(api_key=KEY)
    result = generate_image(
        model=provider.image(SCHNELL), prompt=prompt, size=size, provider_options=options
    )
    info = inspect_image(result.image.data)
    assert info.prompt == prompt
    assert f"{info.width}x{info.height}" == size
    assert info.output_format == options["togetherai"].get("output_format", "jpeg")


@pytest.mark.parametrize("model", ["black-forest-labs/FLUX.2-dev", "google/flash-image-2.5"])
@settings(max_examples=10)
@given(data=st.data())
def test_provider_options_suit_their_model(
    intercepting_fake: FakeTogether, model: str, data: st.DataObject
) -> None:
    options = data.draw(provider_options(model=model))
    provider = create_togetherai(api_key=KEY)
    size = data.draw(sizes(model=model, max_side=1024))  # a menu for flash-image-2.5 [3P]
    result = generate_image(
        model=provider.image(model), prompt="a quetzal", size=size, provider_options=options
    )
    assert len(result.images) == 1


@given(prompts(max_size=30))
def test_prompts_are_never_blank_nor_unsafe(prompt: str) -> None:
    assert prompt.strip()
    assert "nsfw" not in prompt.lower()
    prompt.encode("utf-8")
