"""Together's image API as it is in 2026, per model: the rules of ``together_image/models.py``
answered over HTTP in every host mode, with the real words.

Each case names its source (the table's notes and /work/notes-style citations): [3P] texts were
measured by third parties against the live API (HeyPuter/puter#2084, OrbFrontend/Orb image_gen
tests 2026-08-19/09-06, vercel/ai#15035), [REC] ones recorded (maruel/genai).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
from dataclasses import replace
from typing import Any

import pytest
from PIL import Image

import together_image.models as models
from together_image.models import (
    MODELS,
    TEXTS,
    AreaWindow,
    SizeMenu,
    SizeRange,
    model_params,
    non_serverless_message,
)
from together_image_fake import inspect_image

from .conftest import ContractAPI, Reply

SCHNELL = "black-forest-labs/FLUX.1-schnell"
KONTEXT = "black-forest-labs/FLUX.1-kontext-pro"
FLUX2_DEV = "black-forest-labs/FLUX.2-dev"
FLUX2_PRO = "black-forest-labs/FLUX.2-pro"
GEMINI_PRO = "google/gemini-3-pro-image"
FLASH_25 = "google/flash-image-2.5"
FLASH_LITE = "google/flash-image-3.1-lite"
QWEN_2 = "Qwen/Qwen-Image-2.0"
WAN = "Wan-AI/Wan2.6-image"
GEN = "/v1/images/generations"


def _png(color: tuple[int, int, int], size: tuple[int, int] = (48, 32)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def _data_url(data: bytes) -> str:
    return f"data:image/png;base64,{base64.b64encode(data).decode()}"


def _error(reply: Reply) -> dict[str, Any]:
    body = reply.json()
    assert list(body) == ["id", "error"]
    assert list(body["error"]) == ["message", "type", "param", "code"]
    error: dict[str, Any] = body["error"]
    return error


def _refused(reply: Reply, message: str, *, code: str | None = None) -> None:
    assert reply.status == 400, reply.body[:300]
    error = _error(reply)
    assert error == {
        "message": message,
        "type": "invalid_request_error",
        "param": None,
        "code": code,
    }


def _image(api: ContractAPI, reply: Reply) -> bytes:
    assert reply.status == 200, reply.body[:300]
    item = reply.json()["data"][0]
    if "b64_json" in item:
        return base64.b64decode(item["b64_json"])
    return api.get(item["url"], key=None).body


# ---- the Runware-family words, per model ----------------------------------------------------


@pytest.mark.parametrize(
    ("model", "fields", "text"),
    [
        # [3P] HeyPuter/puter#2084 (2025-12-02), the full production body.
        (FLASH_25, {"image_url": "https://assets.puter.site/doge.jpeg"}, "image_url_unsupported"),
        # [3P] Qwen-Image-2.0 (2026).
        (QWEN_2, {"steps": 28}, "steps_unsupported"),
        # [3P] vercel/ai#15035: gemini-3-pro-image refuses seed and steps.
        (GEMINI_PRO, {"seed": 42}, "seed_unsupported"),
        (GEMINI_PRO, {"steps": 20}, "steps_unsupported"),
        # [3P] Orb, measured 2026-08-19 on FLUX.2-pro (the double quoting is real).
        (FLUX2_PRO, {"negative_prompt": "blurry"}, "negative_prompt_not_recognized"),
        # [3P] an unnamed-model production body; FLUX.2-pro by the table's attribution.
        (FLUX2_PRO, {"steps": 28}, "steps_not_in_configuration"),
        # [3P] Orb measured 2026-09-06 on Wan2.6-image: seed bounds, area window.
        (WAN, {"seed": 2**31, "width": 1280, "height": 1280}, "seed_out_of_range"),
        (WAN, {"seed": -1, "width": 1280, "height": 1280}, "seed_out_of_range"),
        (WAN, {"width": 1024, "height": 1536}, "wan_dimensions"),
        # [3P] Orb measured 2026-09-06 on flash-image-3.1-lite: the fixed menu.
        (FLASH_LITE, {"width": 1024, "height": 1536}, "flash_lite_menu"),
        # [REC] maruel/genai 2025-12-14: FLUX.2-dev width 256.
        (FLUX2_DEV, {"width": 256, "height": 256}, "flux2_dev_width"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_each_model_refuses_in_its_recorded_words(
    api: ContractAPI, model: str, fields: dict[str, Any], text: str
) -> None:
    reply = api.post(GEN, json={"model": model, "prompt": "a quetzal", **fields})

    _refused(reply, TEXTS[text].value)


@pytest.mark.parametrize(
    ("model", "fields"),
    [
        # [3P] Orb: 0 and 2147483647 get through to the next check (inclusive bounds).
        (WAN, {"seed": 0, "width": 1280, "height": 1280}),
        (WAN, {"seed": 2147483647, "width": 768, "height": 2700}),
        # [3P] the menu lists these sizes, so they are accepted.
        (FLASH_LITE, {"width": 1264, "height": 848}),
        (FLASH_LITE, {"width": 3072, "height": 384}),
        # [REC] FLUX.2-pro and -flex took seed 42 at 256x256.
        (FLUX2_PRO, {"seed": 42, "width": 256, "height": 256}),
        # [DOC] FLUX.2-dev takes steps and guidance.
        (FLUX2_DEV, {"steps": 20, "guidance": 4.5, "width": 512, "height": 512}),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_values_inside_the_rules_are_accepted(
    api: ContractAPI, model: str, fields: dict[str, Any]
) -> None:
    reply = api.post(GEN, json={"model": model, "prompt": "a quetzal", **fields})

    assert reply.status == 200, reply.body[:300]


# ---- order of checks --------------------------------------------------------------------------


def test_the_seed_is_refused_before_the_dimensions(api: ContractAPI) -> None:
    # [3P] Orb 2026-09-06: "Together checks the seed first, which is why this stayed hidden".
    reply = api.post(
        GEN, json={"model": WAN, "prompt": "x", "seed": 2**40, "width": 1024, "height": 1536}
    )

    _refused(reply, TEXTS["seed_out_of_range"].value)


def test_image_url_is_refused_before_negative_prompt(api: ContractAPI) -> None:
    # [3P] Orb 2026-08-19: FLUX.2 refuses image_url first, then negative_prompt on the retry,
    # whatever the body's key order.
    body = {"model": FLUX2_PRO, "prompt": "x", "negative_prompt": "blurry"}
    body["image_url"] = _data_url(_png((10, 20, 30)))

    _refused(api.post(GEN, json=body), TEXTS["image_url_unsupported"].value)


def test_the_model_is_checked_before_anything_in_the_body(api: ContractAPI) -> None:
    # [REC] the gateway answers an unknown model before reading the rest of the body.
    reply = api.post(GEN, json={"model": "bad model", "steps": "many", "width": -3})

    assert reply.status == 404
    assert _error(reply)["code"] == "model_not_available"


# ---- availability ------------------------------------------------------------------------------


def test_a_dedicated_only_model_answers_400_non_serverless(api: ContractAPI) -> None:
    # [3P] template verbatim from a 2026-08-30 body: 400, not 404.
    reply = api.post(GEN, json={"model": "prompthero/openjourney", "prompt": "x"})

    _refused(reply, non_serverless_message("prompthero/openjourney"), code="model_not_available")


def test_retired_models_are_not_served_by_default(api: ContractAPI) -> None:
    for params in MODELS:
        if params.retired.value is None:
            continue
        reply = api.post(GEN, json={"model": params.id, "prompt": "x"})
        if params.retired_answer.value == "non_serverless":
            _refused(reply, non_serverless_message(params.id), code="model_not_available")
        else:
            assert reply.status == 404, params.id
            assert _error(reply)["code"] == "model_not_available"


@pytest.mark.together_fake(serve_retired=True)
def test_the_documented_switch_serves_retired_models(api: ContractAPI) -> None:
    reply = api.post(GEN, json={"model": "black-forest-labs/FLUX.1-dev", "prompt": "x"})

    assert reply.status == 200
    listed = {entry["id"] for entry in api.get("/v1/models").json()}
    assert "black-forest-labs/FLUX.1-dev" in listed


def test_every_model_of_the_2026_listing_is_served(api: ContractAPI) -> None:
    for params in MODELS:
        if not params.is_served:
            continue
        width, height = params.default_size.value
        body = {"model": params.id, "prompt": "a quetzal", "width": width, "height": height}
        assert api.post(GEN, json=body).status == 200, params.id


# ---- accepted and ignored --------------------------------------------------------------------


def test_schnell_accepts_and_ignores_negative_prompt_size_and_image_url(api: ContractAPI) -> None:
    # [3P] Orb: byte-identical images with and without negative_prompt; an OpenAI size is
    # ignored (the default renders); image_url answers 200 and the prompt alone renders.
    plain = api.generate(prompt="a quetzal", seed=5, response_format="base64")
    extra = api.generate(
        prompt="a quetzal",
        seed=5,
        response_format="base64",
        negative_prompt="blurry",
        size="512x512",
        image_url=_data_url(_png((250, 0, 0))),
    )

    info = inspect_image(_image(api, extra))
    plain_info = inspect_image(_image(api, plain))
    assert (info.width, info.height) == (1024, 1024)
    assert info.input_sha256 is None
    assert info.negative_prompt is None
    # The same image in all but the request id it carries.
    assert replace(info, request_id=None) == replace(plain_info, request_id=None)


def test_kontext_takes_its_output_shape_from_the_reference(api: ContractAPI) -> None:
    # [3P] Orb: a 512x512 reference on a 1024x576 request came back 1024x1024.
    reference = _png((20, 200, 20), (512, 512))
    reply = api.generate(
        model=KONTEXT, prompt="x", width=1024, height=576, image_url=_data_url(reference)
    )

    info = inspect_image(_image(api, reply))
    assert (info.width, info.height) == (1024, 1024)


# A model registered like Kontext, with the size rule under test: the output takes the
# reference's shape at about one megapixel, snapped to that rule [INF].
_MENU = SizeMenu(sizes=((512, 512), (1024, 1024), (1344, 768), (1792, 1024), (768, 1344)))
_COARSE_RANGE = SizeRange(min=256, max=8192, multiple=32)
_WINDOW = AreaWindow(
    min_side=512, max_side=1440, min_ratio=(1, 4), max_ratio=(4, 1), example=(1024, 1024)
)


@pytest.mark.parametrize(
    ("sizes", "reference", "expected"),
    [
        # A menu: the entry nearest in aspect, then in area.
        (_MENU, (800, 400), (1344, 768)),
        (_MENU, (400, 800), (768, 1344)),
        (_MENU, (500, 500), (1024, 1024)),
        # A range: each side snapped to its multiple, within its bounds and the fake's 4096.
        (_COARSE_RANGE, (900, 300), (1760, 576)),
        (_COARSE_RANGE, (4000, 100), (4096, 256)),
        # Any other rule: multiples of 16.
        (_WINDOW, (900, 300), (1776, 592)),
    ],
    ids=["menu-wide", "menu-tall", "menu-square", "range-wide", "range-bounds", "window"],
)
def test_a_reference_model_fits_the_references_shape_to_its_size_rule(
    api: ContractAPI, sizes: Any, reference: tuple[int, int], expected: tuple[int, int]
) -> None:
    api.fake.register_model("acme/shaper", like=KONTEXT, sizes=sizes)
    reply = api.generate(
        model="acme/shaper", prompt="x", image_url=_data_url(_png((9, 9, 9), reference))
    )

    info = inspect_image(_image(api, reply))
    assert (info.width, info.height) == expected


# ---- reference_images ------------------------------------------------------------------------


def test_reference_images_are_used_logged_and_inspectable(api: ContractAPI) -> None:
    references = [_png((200, 0, 0)), _png((0, 0, 200)), _png((0, 200, 0))]
    reply = api.post(
        GEN,
        json={
            "model": FLUX2_DEV,
            "prompt": "combine them",
            "reference_images": [_data_url(ref) for ref in references],
            "width": 512,
            "height": 512,
            "response_format": "base64",
        },
    )

    digests = [hashlib.sha256(ref).hexdigest() for ref in references]
    info = inspect_image(_image(api, reply))
    assert list(info.reference_sha256s) == digests
    call = api.fake.calls[-1]
    assert list(call.reference_sha256s) == digests
    # The output derives from the references: other references, other pixels.
    other = api.post(
        GEN,
        json={
            "model": FLUX2_DEV,
            "prompt": "combine them",
            "reference_images": [_data_url(_png((90, 90, 90)))],
            "width": 512,
            "height": 512,
            "response_format": "base64",
        },
    )
    assert _image(api, other) != _image(api, reply)


def test_more_references_than_a_model_takes_are_refused(api: ContractAPI) -> None:
    params = model_params(FLASH_25)
    assert params is not None
    limit = params.max_reference_images
    refs = [_data_url(_png((i, i, i))) for i in range(limit + 1)]

    reply = api.post(GEN, json={"model": FLASH_25, "prompt": "x", "reference_images": refs})

    assert reply.status == 400
    assert "reference_images" in _error(reply)["message"]


def test_models_taking_only_references_refuse_image_url_in_the_real_words(
    api: ContractAPI,
) -> None:
    for model in (FLUX2_DEV, GEMINI_PRO, FLASH_25):
        reply = api.post(
            GEN, json={"model": model, "prompt": "x", "image_url": _data_url(_png((1, 2, 3)))}
        )
        _refused(reply, TEXTS["image_url_unsupported"].value)


# ---- 2026 texts for the account errors ---------------------------------------------------------


@pytest.mark.together_fake(credit=0)
def test_out_of_credit_answers_the_2026_text(api: ContractAPI) -> None:
    reply = api.generate(prompt="x")

    assert reply.status == 402
    assert _error(reply)["message"] == TEXTS["credit_limit_2026"].value
    assert _error(reply)["type"] == "credit_limit"


def test_the_dynamic_rate_limit_fault_answers_the_2026_text(api: ContractAPI) -> None:
    api.fake.fail_next(error="dynamic_request_limited")

    reply = api.generate(prompt="x")

    assert reply.status == 429
    assert _error(reply)["message"] == TEXTS["dynamic_rate_limit_2026"].value


# ---- GET /v1/models --------------------------------------------------------------------------


def test_the_model_listing_is_the_2026_08_17_recording(api: ContractAPI) -> None:
    reply = api.get("/v1/models")

    assert reply.status == 200
    assert reply.headers["Content-Type"] == "application/json"
    assert reply.body.startswith(b'[{"id":"')  # compact, as recorded
    listing = json.loads(reply.body)
    kinds = [entry["type"] for entry in listing]
    assert len(listing) == 281
    assert kinds.count("image") == 30
    assert kinds.count("chat") == 171
    schnell = next(entry for entry in listing if entry["id"] == SCHNELL)
    assert schnell["display_name"] == "FLUX.1 Schnell"
    assert schnell["pricing"]["image_pixel"] == {"price_per_megapixel": 0.0027, "min_steps": 4}


# ---- GET /openapi.json -----------------------------------------------------------------------


def test_the_openapi_document_carries_the_per_model_table(api: ContractAPI) -> None:
    document = api.get("/openapi.json", key=None).json()

    table = document["x-together-models"]
    assert table[FLASH_25]["support"]["image_url"] == {
        "support": "rejected",
        "source": "3P",
        "note": model_params(FLASH_25).field("image_url").note,  # type: ignore[union-attr]
        "message": TEXTS["image_url_unsupported"].value,
    }
    assert table[WAN]["rules"]["seeds"]["value"] == {"min": 0, "max": 2147483647}
    assert table[FLASH_LITE]["rules"]["dimensions"]["value"][:2] == ["1024x1024", "1264x848"]
    assert table[SCHNELL]["check_order"]["value"][0] == "model"
    assert table[SCHNELL]["support"]["negative_prompt"]["support"] == "ignored"


# ---- every served model, every rule of the table -----------------------------------------------

SERVED = [params for params in MODELS if params.is_served]
# A well-formed value per field: a refusal is about the field, not the value.
SAMPLES: dict[str, Any] = {
    "steps": 20,
    "seed": 7,
    "negative_prompt": "blurry",
    "guidance": 3.5,
    "guidance_scale": 3.5,
    "output_format": "png",
    "image_url": "https://example.test/in.png",
    "reference_images": ["https://example.test/ref.png"],
    "image_loras": [{"path": "https://huggingface.co/XLabs-AI/flux-RealismLora", "scale": 0.8}],
    "aspect_ratio": "16:9",
    "prompt_upsampling": True,
    "disable_safety_checker": True,
    "size": "512x512",
}


@pytest.mark.parametrize("params", SERVED, ids=lambda params: params.id)
def test_every_refused_field_answers_in_its_models_words(
    api: ContractAPI, params: models.ModelParams
) -> None:
    # Each message and its source are in the table's notes (together_image/models.py).
    for name in params.rejected_fields:
        reply = api.post(GEN, json={"model": params.id, "prompt": "x", name: SAMPLES[name]})
        _refused(reply, params.field(name).message or "")


@pytest.mark.parametrize("params", SERVED, ids=lambda params: params.id)
def test_every_ignored_field_is_accepted_without_effect(
    api: ContractAPI, params: models.ModelParams
) -> None:
    ignored = {name: SAMPLES[name] for name in params.ignored_fields}
    body = {"model": params.id, "prompt": "a quetzal", "seed": None, "response_format": "base64"}
    plain = api.post(GEN, json=body)
    extra = api.post(GEN, json={**body, **ignored})

    assert extra.status == 200, (ignored, extra.body[:300])
    plain_info = inspect_image(_image(api, plain))
    extra_info = inspect_image(_image(api, extra))
    assert (extra_info.width, extra_info.height) == (plain_info.width, plain_info.height)
    assert extra_info.input_sha256 is None
    assert extra_info.reference_sha256s == ()


def _outside(rule: models.Dimensions) -> tuple[int, int]:
    if isinstance(rule, models.SizeRange):
        return rule.max + rule.multiple, rule.min
    return 1000, 1000  # on no menu, under the area window


@pytest.mark.parametrize("params", SERVED, ids=lambda params: params.id)
def test_a_size_outside_each_models_rule_gets_its_words(
    api: ContractAPI, params: models.ModelParams
) -> None:
    width, height = _outside(params.dimensions.value)
    expected = params.dimension_error(width, height)
    assert expected is not None

    reply = api.post(
        GEN, json={"model": params.id, "prompt": "x", "width": width, "height": height}
    )

    _refused(reply, expected)


def test_the_listing_follows_the_catalog_as_it_changes(api: ContractAPI) -> None:
    before = api.get("/v1/models")
    again = api.get("/v1/models")
    api.fake.register_model("acme/painter", like=SCHNELL)
    after = api.get("/v1/models")

    assert before.body == again.body
    ids = [entry["id"] for entry in json.loads(after.body)]
    assert "acme/painter" in ids
    assert "acme/painter" not in before.body.decode()
    assert len(ids) == len(json.loads(before.body)) + 1
