"""Requests shaped by the per-model table (``together_image.models``): several input images as
``reference_images``, fields a model rejects left out with a warning, and a top-level
``aspect_ratio`` sent where the model takes it; through ``responses`` and through the fake."""

from __future__ import annotations

from typing import Any

import pytest
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from together_image import (
    ImagePrompt,
    InvalidArgumentError,
    TogetherAIProvider,
    Warning,
    create_togetherai,
    generate_image,
)
from together_image._media import parse_data_url
from together_image.models import MODELS, ModelParams, model_params
from together_image_fake import FakeTogether
from together_image_fake.strategies import ImageInputExample, image_inputs

from ._support import API_KEY, BASE_URL, ENDPOINT, JPEG, JPEG_B64, PNG, PNG_B64, sent_json
from ._support import success_body as _success_body

KONTEXT = "black-forest-labs/FLUX.1-kontext-pro"
FLUX2_DEV = "black-forest-labs/FLUX.2-dev"
GEMINI = "google/gemini-3-pro-image"
UNKNOWN = "someone/new-image-model"
MULTIPLE_IMAGES = "Together AI only supports a single input image. Additional images are ignored."
PNG_URL = f"data:image/png;base64,{PNG_B64}"
JPEG_URL = f"data:image/jpeg;base64,{JPEG_B64}"
# A plausible value for each field a model may reject (the table says which ones it does).
FIELD_VALUES: dict[str, Any] = {
    "seed": 7,
    "steps": 4,
    "guidance": 3.5,
    "guidance_scale": 3.5,
    "negative_prompt": "blurry",
    "image_loras": [{"path": "https://x.test/lora.safetensors", "scale": 1.0}],
    "image_url": "https://x.test/in.png",
    "reference_images": ["https://x.test/ref.png"],
    "output_format": "png",
    "prompt_upsampling": False,
    "disable_safety_checker": True,
    "aspect_ratio": "1:1",
}
REJECTING = [params for params in MODELS if params.rejected_fields]
REFERENCE_MODELS = [params for params in MODELS if params.takes_reference_images]


def success_body(model: str) -> dict[str, Any]:
    return _success_body(model=model)


def body_of(
    api: responses.RequestsMock, model: str, **arguments: Any
) -> tuple[dict[str, Any], Any]:
    """Generate once through ``responses``; return the body sent and the result."""
    api.post(ENDPOINT, json=success_body(model))
    provider = create_togetherai(api_key=API_KEY, base_url=BASE_URL)
    result = generate_image(model=provider.image(model), max_retries=0, **arguments)
    return sent_json(api.calls[-1]), result


def unsupported(model: str, field: str) -> Warning:
    return Warning(
        type="unsupported",
        feature=field,
        message=f"The {model} model does not support the `{field}` option.",
    )


# --- several input images ------------------------------------------------------------------------


def test_the_table_knows_the_models_this_file_relies_on() -> None:
    kontext, flux2_dev, gemini = (model_params(name) for name in (KONTEXT, FLUX2_DEV, GEMINI))
    assert kontext is not None
    assert kontext.takes_image_url
    assert not kontext.takes_reference_images
    assert flux2_dev is not None
    assert flux2_dev.takes_only_reference_images
    assert gemini is not None
    assert "seed" in gemini.rejected_fields
    assert model_params(UNKNOWN) is None


@pytest.mark.parametrize("params", REFERENCE_MODELS, ids=lambda params: params.id)
def test_several_images_go_as_reference_images(
    api: responses.RequestsMock, params: ModelParams
) -> None:
    images = [PNG, JPEG_B64, PNG_URL, "https://x.test/in.png"][: params.max_reference_images]
    body, result = body_of(api, params.id, prompt={"text": "combine", "images": images})
    expected = [PNG_URL, JPEG_URL, PNG_URL, "https://x.test/in.png"][: len(images)]
    assert body["reference_images"] == expected
    assert "image_url" not in body
    assert result.warnings == ()


def test_one_image_on_a_reference_model_is_a_reference_image(
    api: responses.RequestsMock,
) -> None:
    body, result = body_of(api, GEMINI, prompt=ImagePrompt(text="edit", images=[PNG]))
    assert body["reference_images"] == [PNG_URL]
    assert "image_url" not in body
    assert result.warnings == ()


def test_more_images_than_a_model_takes_are_cut_with_a_warning(
    api: responses.RequestsMock,
) -> None:
    params = model_params(FLUX2_DEV)
    assert params is not None
    limit = params.max_reference_images
    body, result = body_of(api, FLUX2_DEV, prompt={"text": "p", "images": [PNG] * (limit + 2)})
    assert body["reference_images"] == [PNG_URL] * limit
    assert [(warning.type, warning.message) for warning in result.warnings] == [
        (
            "other",
            f"The {FLUX2_DEV} model takes at most {limit} reference images; the last 2 were "
            "not sent.",
        )
    ]


@pytest.mark.parametrize("model", [KONTEXT, UNKNOWN])
def test_kontext_and_unknown_models_keep_one_image_url_and_the_ai_sdk_warning(
    api: responses.RequestsMock, model: str
) -> None:
    body, result = body_of(api, model, prompt={"text": "p", "images": [JPEG, PNG]})
    assert body["image_url"] == JPEG_URL
    assert "reference_images" not in body
    assert [(warning.type, warning.message) for warning in result.warnings] == [
        ("other", MULTIPLE_IMAGES)
    ]


def test_the_switch_sends_images_as_for_an_unknown_model(api: responses.RequestsMock) -> None:
    api.post(ENDPOINT, json=success_body(FLUX2_DEV))
    provider = create_togetherai(api_key=API_KEY, base_url=BASE_URL)
    model = provider.image(FLUX2_DEV, send_unsupported=True)
    result = generate_image(model=model, prompt={"text": "p", "images": [PNG, JPEG]})
    body = sent_json(api.calls[0])
    assert body["image_url"] == PNG_URL
    assert "reference_images" not in body
    assert [warning.message for warning in result.warnings] == [MULTIPLE_IMAGES]


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(image_inputs(), max_size=6))
def test_any_list_of_inputs_gives_one_reference_image_each(
    examples: list[ImageInputExample],
) -> None:
    with responses.RequestsMock() as api:
        api.post(ENDPOINT, json=success_body(FLUX2_DEV))
        model = create_togetherai(api_key=API_KEY, base_url=BASE_URL).image(FLUX2_DEV)
        generate_image(
            model=model, prompt={"text": "p", "images": [example.value for example in examples]}
        )
        body = sent_json(api.calls[0])
    if not examples:
        assert "reference_images" not in body
        return
    sent = body["reference_images"]
    assert len(sent) == len(examples)
    for example, image_url in zip(examples, sent, strict=True):
        assert image_url == example.image_url
        if not example.is_url:
            media_type, data = parse_data_url(image_url)
            assert data == example.data
            assert media_type == example.media_type


def test_reference_images_through_the_fake() -> None:
    with FakeTogether(seed=2, rate_limits="off") as fake:
        model = create_togetherai(api_key=API_KEY).image(FLUX2_DEV)
        result = generate_image(
            model=model, prompt={"text": "combine", "images": [PNG, JPEG]}, size="512x512"
        )
    assert result.warnings == ()
    assert len(result.images) == 1
    assert fake.calls[0].body["reference_images"] == [PNG_URL, JPEG_URL]
    assert "image_url" not in fake.calls[0].body


# --- fields a model rejects ----------------------------------------------------------------------


@pytest.mark.parametrize("params", REJECTING, ids=lambda params: params.id)
def test_fields_a_model_rejects_are_left_out_with_a_warning_each(
    api: responses.RequestsMock, params: ModelParams
) -> None:
    options = {name: FIELD_VALUES.get(name, "x") for name in params.rejected_fields}
    body, result = body_of(
        api, params.id, prompt="p", size=None, provider_options={"togetherai": options}
    )
    assert not set(params.rejected_fields) & set(body)
    assert list(result.warnings) == [unsupported(params.id, name) for name in options]


def test_gemini_drops_what_the_ai_sdk_drops_with_its_seed_warning(
    api: responses.RequestsMock,
) -> None:
    body, result = body_of(
        api,
        GEMINI,
        prompt="p",
        seed=42,
        provider_options={"togetherai": {"steps": 4, "guidance": 3.5, "output_format": "png"}},
    )
    assert body == {
        "model": GEMINI,
        "prompt": "p",
        "response_format": "base64",
        "output_format": "png",
    }
    # The AI SDK's words for seed, the same form for every other field left out.
    assert result.warnings[0].message == (
        "The google/gemini-3-pro-image model does not support the `seed` option."
    )
    assert [warning.feature for warning in result.warnings] == ["seed", "steps", "guidance"]


def test_accepted_fields_and_unknown_models_pass_through(api: responses.RequestsMock) -> None:
    options = {"steps": 4, "negative_prompt": "blurry", "my_field": 1}
    body, result = body_of(
        api, UNKNOWN, prompt="p", seed=1, provider_options={"togetherai": options}
    )
    assert body == {
        "model": UNKNOWN,
        "prompt": "p",
        "seed": 1,
        "response_format": "base64",
        **options,
    }
    assert result.warnings == ()


def test_the_switch_sends_rejected_fields_anyway(api: responses.RequestsMock) -> None:
    api.post(ENDPOINT, json=success_body(GEMINI))
    model = create_togetherai(api_key=API_KEY, base_url=BASE_URL).image(
        GEMINI, send_unsupported=True
    )
    result = generate_image(
        model=model, prompt="p", seed=42, provider_options={"togetherai": {"steps": 4}}
    )
    body = sent_json(api.calls[0])
    assert body["seed"] == 42
    assert body["steps"] == 4
    assert result.warnings == ()


@pytest.mark.parametrize("switch", [1, "yes", None])
def test_the_switch_is_a_bool(provider: TogetherAIProvider, switch: Any) -> None:
    with pytest.raises(InvalidArgumentError, match="send_unsupported must be True or False"):
        provider.image(GEMINI, send_unsupported=switch)


def test_rejected_fields_through_the_fake() -> None:
    with FakeTogether(rate_limits="off") as fake:
        model = create_togetherai(api_key=API_KEY).image(GEMINI)
        result = generate_image(
            model=model, prompt="p", seed=3, provider_options={"togetherai": {"steps": 4}}
        )
    assert [warning.feature for warning in result.warnings] == ["seed", "steps"]
    assert "seed" not in fake.calls[0].body
    assert "steps" not in fake.calls[0].body


# --- aspect_ratio --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params", [params for params in MODELS if params.takes_aspect_ratio], ids=lambda p: p.id
)
def test_aspect_ratio_goes_to_models_that_take_it(
    api: responses.RequestsMock, params: ModelParams
) -> None:
    body, result = body_of(api, params.id, prompt="p", aspect_ratio="16:9")
    assert body["aspect_ratio"] == "16:9"
    assert result.warnings == ()


@pytest.mark.parametrize("model", [GEMINI, FLUX2_DEV, UNKNOWN])
def test_aspect_ratio_elsewhere_keeps_the_warning(api: responses.RequestsMock, model: str) -> None:
    body, result = body_of(api, model, prompt="p", aspect_ratio="16:9")
    assert "aspect_ratio" not in body
    assert [(warning.type, warning.feature) for warning in result.warnings] == [
        ("unsupported", "aspect_ratio")
    ]


def test_provider_options_still_win_over_a_top_level_aspect_ratio(
    api: responses.RequestsMock,
) -> None:
    body, _ = body_of(
        api,
        KONTEXT,
        prompt="p",
        aspect_ratio="16:9",
        provider_options={"togetherai": {"aspect_ratio": "1:1"}},
    )
    assert body["aspect_ratio"] == "1:1"


def test_aspect_ratio_through_the_fake() -> None:
    with FakeTogether(rate_limits="off") as fake:
        model = create_togetherai(api_key=API_KEY).image(KONTEXT)
        result = generate_image(
            model=model, prompt={"text": "p", "images": [PNG]}, aspect_ratio="16:9"
        )
    assert result.warnings == ()
    assert fake.calls[0].body["aspect_ratio"] == "16:9"
    assert fake.calls[0].body["image_url"] == PNG_URL
