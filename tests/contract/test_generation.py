"""Image generation over HTTP: success shapes, formats, edits, and each validation rule's answer."""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from PIL import Image

from together_image_fake import inspect_image

from .conftest import ContractAPI, Reply

SCHNELL = "black-forest-labs/FLUX.1-schnell"
KONTEXT = "black-forest-labs/FLUX.1-kontext-pro"
FLUX2_DEV = "black-forest-labs/FLUX.2-dev"
SDXL = "stabilityai/stable-diffusion-xl-base-1.0"
QWEN = "Qwen/Qwen-Image"


def _png(color: tuple[int, int, int] = (200, 30, 30), size: tuple[int, int] = (32, 24)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def _data_url(data: bytes, media_type: str = "image/png") -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode()}"


def _error(reply: Reply) -> dict[str, Any]:
    body = reply.json()
    assert list(body) == ["id", "error"]
    assert list(body["error"]) == ["message", "type", "param", "code"]
    error: dict[str, Any] = body["error"]
    return error


def test_base64_mode_returns_a_jpeg_of_the_requested_size(api: ContractAPI) -> None:
    reply = api.generate(prompt="a quetzal", width=512, height=384, response_format="base64")

    item = reply.json()["data"][0]
    assert list(item) == ["index", "b64_json", "timings"]
    image = Image.open(io.BytesIO(base64.b64decode(item["b64_json"])))
    assert (image.format, image.size) == ("JPEG", (512, 384))


def test_png_output_format(api: ContractAPI) -> None:
    reply = api.generate(prompt="a quetzal", response_format="base64", output_format="png")

    data = base64.b64decode(reply.json()["data"][0]["b64_json"])
    assert data.startswith(b"\x89PNG")
    assert inspect_image(data).output_format == "png"


def test_n_images_have_distinct_indexes_and_pixels(api: ContractAPI) -> None:
    reply = api.generate(prompt="a quetzal", n=3, response_format="base64", width=256, height=256)

    items = reply.json()["data"]
    assert [item["index"] for item in items] == [0, 1, 2]
    assert len({item["b64_json"] for item in items}) == 3


def test_the_image_carries_the_request(api: ContractAPI) -> None:
    # SDXL uses negative_prompt [3P Orb]; FLUX.1-schnell would ignore it.
    reply = api.generate(
        model=SDXL,
        prompt="a quetzal in the rain",
        negative_prompt="blur",
        width=256,
        height=256,
        seed=9,
        steps=3,
        response_format="base64",
    )

    info = inspect_image(base64.b64decode(reply.json()["data"][0]["b64_json"]))
    assert (info.model, info.prompt, info.negative_prompt) == (
        SDXL,
        "a quetzal in the rain",
        "blur",
    )
    assert (info.width, info.height, info.seed, info.steps, info.index) == (256, 256, 9, 3, 0)
    assert info.request_id == reply.json()["id"]


@pytest.mark.together_fake(type_field=True)
@pytest.mark.parametrize(("response_format", "kind"), [("url", "url"), ("base64", "b64_json")])
def test_type_field_can_be_switched_on(api: ContractAPI, response_format: str, kind: str) -> None:
    item = api.generate(prompt="x", response_format=response_format).json()["data"][0]

    assert item["type"] == kind


def test_an_edit_derives_from_the_input_image(api: ContractAPI) -> None:
    red, blue = _png((220, 0, 0)), _png((0, 0, 220))

    first = api.generate(model=KONTEXT, prompt="make it glow", image_url=_data_url(red), seed=1)
    second = api.generate(model=KONTEXT, prompt="make it glow", image_url=_data_url(blue), seed=1)

    first_url, second_url = (r.json()["data"][0]["url"] for r in (first, second))
    first_info = inspect_image(api.get(first_url).body)
    assert first_info.input_sha256 == api.fake.calls[0].input_sha256
    assert api.get(first_url).body != api.get(second_url).body


def test_a_registered_remote_image_is_used_for_an_edit(api: ContractAPI) -> None:
    api.fake.add_remote_image("https://example.com/cat.png", _png((1, 2, 3)))

    reply = api.generate(model=KONTEXT, prompt="x", image_url="https://example.com/cat.png")

    assert reply.status == 200
    assert api.fake.calls[-1].input_image == _png((1, 2, 3))


def test_an_unregistered_remote_image_is_recorded_as_given(api: ContractAPI) -> None:
    reply = api.generate(
        model=KONTEXT, prompt="x", image_url="https://example.com/x.png", response_format="base64"
    )

    info = inspect_image(base64.b64decode(reply.json()["data"][0]["b64_json"]))
    assert (info.input_url, info.input_sha256) == ("https://example.com/x.png", None)


@pytest.mark.together_fake(remote_images="reject")
def test_an_unregistered_remote_image_can_be_rejected(api: ContractAPI) -> None:
    reply = api.generate(model=KONTEXT, prompt="x", image_url="https://example.com/x.png")

    assert reply.status == 400
    assert "Could not download" in _error(reply)["message"]


def test_aspect_ratio_sets_the_size(api: ContractAPI) -> None:
    reply = api.generate(prompt="x", aspect_ratio="16:9", response_format="base64")

    info = inspect_image(base64.b64decode(reply.json()["data"][0]["b64_json"]))
    assert (info.width, info.height) == (1360, 768)


def test_the_model_is_echoed_as_requested(api: ContractAPI) -> None:
    assert api.generate(model=FLUX2_DEV, prompt="x").json()["model"] == FLUX2_DEV


INVALID = [
    ("no-prompt", {}, "Missing required parameter 'prompt'."),
    ("empty-prompt", {"prompt": " "}, "Invalid value for 'prompt' parameter."),
    ("prompt-not-text", {"prompt": 5}, "Invalid value for 'prompt' parameter. Expected a string"),
    (  # FLUX.1 bounds measured by Orb (64..1792, multiples of 16) in the FLUX.1 wording
        "width-off-grid",
        {"width": 1000},
        "Invalid value for 'width' parameter. Image width must be an integer value between 64 "
        "and 1792, in multiples of 16.",
    ),
    ("height-too-big", {"height": 4096}, "Invalid value for 'height' parameter."),
    ("width-text", {"width": "512"}, "Invalid value for 'width' parameter. Expected an integer"),
    ("width-bool", {"width": True}, "Invalid value for 'width' parameter. Expected an integer"),
    ("steps-zero", {"steps": 0}, "Invalid value for 'steps' parameter."),
    ("steps-51", {"steps": 51}, "Invalid value for 'steps' parameter."),
    ("n-five", {"n": 5}, "Invalid value for 'n' parameter."),
    ("seed-float", {"seed": 1.5}, "Invalid value for 'seed' parameter."),
    ("response-format", {"response_format": "png"}, "Invalid value for 'response_format'"),
    ("b64-json-alias", {"response_format": "b64_json"}, "Invalid value for 'response_format'"),
    ("output-format", {"output_format": "webp"}, "Invalid value for 'output_format'"),
    ("guidance-text", {"guidance_scale": "high"}, "Invalid value for 'guidance_scale'"),
    (  # SDXL uses negative_prompt, so checks its type [3P Orb]; schnell ignores it
        "negative-list",
        {"model": SDXL, "negative_prompt": ["x"]},
        "Invalid value for 'negative_prompt'",
    ),
    ("safety-text", {"disable_safety_checker": "yes"}, "'disable_safety_checker'"),
    ("aspect-ratio", {"aspect_ratio": "wide"}, "Invalid value for 'aspect_ratio'"),
    (  # [3P] HeyPuter/puter#2084
        "image-refused",
        {"model": "google/flash-image-2.5", "image_url": "https://e.com/a.png"},
        "Unsupported use of 'image_url' parameter. This parameter is not supported for the "
        "selected model.",
    ),
    (  # Runware-family words [INF]; LoRAs are documented for FLUX only
        "loras-refused",
        {"model": QWEN, "image_loras": [{"path": "p", "scale": 1}]},
        "Unsupported use of 'image_loras' parameter.",
    ),
    (
        "refs-refused",
        {"model": QWEN, "reference_images": ["https://e.com/a.png"]},
        "Unsupported use of 'reference_images' parameter.",
    ),
    ("model-number", {"model": 7}, "Invalid value for 'model' parameter. Expected a string"),
    ("model-missing", {"model": None}, "Missing required parameter 'model'."),
]


@pytest.mark.parametrize(("case", "fields", "message"), INVALID, ids=[c[0] for c in INVALID])
def test_invalid_bodies_get_400_in_the_real_shape(
    api: ContractAPI, case: str, fields: dict[str, Any], message: str
) -> None:
    body: dict[str, Any] = {"model": SCHNELL, "prompt": "a quetzal", **fields}
    if case == "no-prompt":
        del body["prompt"]
    if body["model"] is None:
        del body["model"]

    reply = api.post("/v1/images/generations", json=body)

    assert reply.status == 400
    error = _error(reply)
    assert error["message"].startswith(message) or message in error["message"]
    assert (error["type"], error["param"]) == ("invalid_request_error", None)


EDIT_INVALID = [
    ("not-a-url", "hello", "Expected an http(s) URL or a base64 data URL"),
    ("no-base64", "data:image/png,abc", "data:<type>;base64,<data>"),
    ("bad-base64", "data:image/png;base64,@@@", "does not hold valid base64"),
    ("not-an-image", "data:image/png;base64," + base64.b64encode(b"hello").decode(), "decoded"),
]


@pytest.mark.parametrize(("case", "url", "message"), EDIT_INVALID, ids=[c[0] for c in EDIT_INVALID])
def test_bad_input_images_get_400(api: ContractAPI, case: str, url: str, message: str) -> None:
    reply = api.generate(model=KONTEXT, prompt="x", image_url=url)

    assert reply.status == 400
    assert message in _error(reply)["message"]


@pytest.mark.together_fake(serve_retired=True)  # FLUX.1 Canny was retired on 2025-08-30 [REC]
def test_a_control_model_needs_an_input_image(api: ContractAPI) -> None:
    reply = api.generate(model="black-forest-labs/FLUX.1-canny", prompt="x")

    assert reply.status == 400
    assert _error(reply)["message"].startswith("Missing required parameter 'image_url'.")


@pytest.mark.parametrize(
    ("headers", "data"),
    [
        ({"Content-Type": "application/json"}, b"{not json"),
        ({"Content-Type": "application/json"}, b"[1, 2]"),
        ({"Content-Type": "application/json"}, b'{"prompt": NaN}'),
        ({"Content-Type": "application/json"}, b"\xff\xfe"),
        ({"Content-Type": "text/plain"}, b'{"model": "black-forest-labs/FLUX.1-schnell"}'),
    ],
    ids=["malformed", "array", "nan", "bad-utf8", "content-type"],
)
def test_unparseable_bodies_get_400(api: ContractAPI, headers: dict[str, str], data: bytes) -> None:
    reply = api.post("/v1/images/generations", data=data, headers=headers)

    assert reply.status == 400
    assert _error(reply)["type"] == "invalid_request_error"


@pytest.mark.together_fake(strict=False)
@pytest.mark.parametrize(
    "fields",
    [
        {"image_url": "https://example.com/a.png"},
        {"response_format": "b64_json"},
        {"prompt": ""},
        {"model": "black-forest-labs/FLUX.1.1-pro", "width": 1000},
    ],
    ids=["image-on-schnell", "b64-json-alias", "empty-prompt", "inferred-size-rule"],
)
def test_relaxed_mode_skips_inferred_rules(api: ContractAPI, fields: dict[str, Any]) -> None:
    body = {"model": SCHNELL, "prompt": "a quetzal", **fields}

    assert api.post("/v1/images/generations", json=body).status == 200


@pytest.mark.together_fake(strict=False)
def test_relaxed_mode_keeps_recorded_rules(api: ContractAPI) -> None:
    reply = api.generate(model=FLUX2_DEV, prompt="x", width=256)

    assert reply.status == 400


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Basic eDp5"}, {"Authorization": "Bearer "}], ids=str
)
def test_missing_or_malformed_keys_get_401(api: ContractAPI, headers: dict[str, str]) -> None:
    body = {"model": SCHNELL, "prompt": "x"}

    reply = api.post("/v1/images/generations", json=body, headers=headers, key=None)

    assert reply.status == 401
    assert _error(reply)["code"] == "invalid_api_key"


def test_safety_checker_answers_422_unless_disabled(api: ContractAPI) -> None:
    flagged = api.generate(prompt="an nsfw picture")
    allowed = api.generate(prompt="an nsfw picture", disable_safety_checker=True)

    assert flagged.status == 422
    assert "safety checker" in _error(flagged)["message"]
    assert allowed.status == 200


def test_safety_checker_cannot_be_disabled_for_pro_models(api: ContractAPI) -> None:
    reply = api.generate(
        model="black-forest-labs/FLUX.1.1-pro", prompt="nsfw", disable_safety_checker=True
    )

    assert reply.status == 422


def test_models_lists_every_modality_and_the_served_image_models(api: ContractAPI) -> None:
    # GET /v1/models recorded 2026-08-17 [REC]: every modality, 30 image models.
    reply = api.get("/v1/models")

    models = reply.json()
    assert reply.status == 200
    image_ids = {m["id"] for m in models if m["type"] == "image"}
    assert image_ids == {
        spec.id for spec in api.fake.catalog.models.values() if spec.params.is_served
    }
    assert {"chat", "video", "audio", "embedding"} <= {m["type"] for m in models}
    assert list(models[0])[:4] == ["id", "uuid", "object", "created"]


def test_retired_models_are_refused_by_default(api: ContractAPI) -> None:
    # FLUX.1 [dev] left the listing on 2026-03-20 [REC]; its open weights answer as a
    # dedicated-only model [INF from a 3P report]; FLUX.1 [pro] (closed) as an unknown id.
    dev = api.generate(model="black-forest-labs/FLUX.1-dev", prompt="x")
    pro = api.generate(model="black-forest-labs/FLUX.1-pro", prompt="x")

    assert (dev.status, _error(dev)["code"]) == (400, "model_not_available")
    assert _error(dev)["message"].startswith("Unable to access non-serverless model")
    assert (pro.status, _error(pro)["code"]) == (404, "model_not_available")
    assert "black-forest-labs/FLUX.1-dev" not in {m["id"] for m in api.get("/v1/models").json()}
