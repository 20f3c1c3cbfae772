"""Properties across the whole fake: invalid requests get a 4xx in the real error shape, valid
ones succeed, and every answer parses in the reference client (``together_image``)."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from together_image import APICallError, TogetherImageClient, create_togetherai, generate_image
from together_image.models import SizeMenu, SizeRange
from together_image_fake import (
    CATALOG,
    NAMED_ERRORS,
    FakeRequest,
    FakeTogether,
    ModelSpec,
    inspect_image,
)
from together_image_fake._catalog import is_non_image_model
from together_image_fake.strategies import sizes

MODEL_IDS = [spec.id for spec in CATALOG]
FIELDS = [
    "model", "prompt", "width", "height", "steps", "n", "seed", "response_format",
    "output_format", "negative_prompt", "guidance_scale", "disable_safety_checker", "image_url",
    "image_loras", "reference_images", "aspect_ratio",
]  # fmt: skip
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
PNG_DATA_URL = (
    "data:image/png;base64,"
    + base64.b64encode(
        (lambda b: (Image.new("RGB", (4, 4)).save(b, "PNG"), b.getvalue())[1])(io.BytesIO())
    ).decode()
)
valid_values: dict[str, st.SearchStrategy[Any]] = {
    "model": st.sampled_from(MODEL_IDS),
    "prompt": st.text(min_size=1, max_size=40),
    "width": st.sampled_from([256, 512, 768, 1024]),
    "height": st.sampled_from([256, 512, 768, 1024]),
    "steps": st.integers(1, 50),
    "n": st.integers(1, 4),
    "seed": st.integers(0, 2**32),
    "response_format": st.sampled_from(["url", "base64"]),
    "output_format": st.sampled_from(["jpeg", "png"]),
    "negative_prompt": st.text(max_size=20),
    "guidance_scale": st.floats(0, 20),
    "disable_safety_checker": st.booleans(),
    "image_url": st.sampled_from([PNG_DATA_URL, "https://example.com/a.png"]),
    "image_loras": st.just([{"path": "https://huggingface.co/a/b", "scale": 0.8}]),
    "reference_images": st.just(["https://example.com/a.png"]),
    "aspect_ratio": st.sampled_from(["16:9", "1:1", "3:2"]),
}
junk_values: dict[str, st.SearchStrategy[Any]] = {
    "model": st.text(max_size=30).filter(lambda m: not is_non_image_model(m)),
    "width": st.integers(-50, 1100),
    "height": st.integers(-50, 1100),
    "steps": st.integers(-3, 60),
    "n": st.integers(-1, 6),
    "response_format": st.sampled_from(["b64_json", "png"]),
    "image_url": st.sampled_from(["data:image/png;base64,AAAA", "data:,x", "x"]),
    "aspect_ratio": st.sampled_from(["0:1", "wide", "16:9:1"]),
}


def _mostly_valid(name: str) -> st.SearchStrategy[Any]:
    """A valid value nine times in ten, else a wrong one, so deep rules get exercised too."""
    junk = junk_values.get(name, st.nothing()) | json_values
    return st.integers(0, 9).flatmap(lambda i: junk if i == 0 else valid_values[name])


bodies = st.fixed_dictionaries(
    {"model": _mostly_valid("model"), "prompt": _mostly_valid("prompt")},
    optional={name: _mostly_valid(name) for name in FIELDS if name not in ("model", "prompt")},
)
partial_bodies = st.fixed_dictionaries({}, optional={name: _mostly_valid(name) for name in FIELDS})
raw_bodies = st.one_of(
    bodies.map(lambda b: json.dumps(b).encode()),
    bodies.map(lambda b: json.dumps(b).encode()),
    partial_bodies.map(lambda b: json.dumps(b).encode()),
    st.binary(max_size=60),
)
header_sets = st.one_of(
    st.just({"authorization": "Bearer k", "content-type": "application/json"}),
    st.fixed_dictionaries(
        {},
        optional={
            "authorization": st.sampled_from(["Bearer k", "Bearer ", "Basic k", "k"]),
            "content-type": st.sampled_from(["application/json", "text/plain", "a/x+json"]),
        },
    ),
)


def _assert_real_error_shape(body: bytes) -> None:
    parsed = json.loads(body)
    assert list(parsed) == ["id", "error"]
    assert list(parsed["error"]) == ["message", "type", "param", "code"]
    assert isinstance(parsed["error"]["message"], str)


@given(raw_bodies, header_sets, st.booleans())
def test_every_request_gets_a_success_or_a_4xx_in_the_real_shape(
    body: bytes, headers: dict[str, str], strict: bool
) -> None:
    fake = FakeTogether(seed=0, strict=strict, rate_limits="off")

    response = fake.handle(
        FakeRequest(method="POST", path="/v1/images/generations", headers=headers, body=body)
    )

    assert response.status == 200 or 400 <= response.status < 500
    if response.status != 200:
        _assert_real_error_shape(response.body)
    assert fake.calls[0].status == response.status


def _png(seed: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (12, 10), (seed % 256, 40, 90)).save(buffer, "PNG")
    return buffer.getvalue()


SERVED = [spec for spec in CATALOG if spec.params.is_served]


@st.composite
def valid_calls(draw: st.DrawFn) -> tuple[ModelSpec, dict[str, Any]]:
    """A served model and a generate_image call its rules allow (together_image.models): only
    fields it uses or ignores, values inside its rules."""
    spec = draw(st.sampled_from(SERVED))
    options: dict[str, Any] = {}
    steps = spec.steps.value
    if steps is not None and spec.field("steps").accepted and draw(st.booleans()):
        options["steps"] = draw(st.integers(*steps))
    optional = {
        "negative_prompt": st.text(max_size=20),
        "output_format": st.sampled_from(["jpeg", "png"]),
        "guidance_scale": st.floats(0, 20),
    }
    for name, values in optional.items():
        if not spec.field(name).rejected and draw(st.booleans()):
            options[name] = draw(values)
    prompt: Any = draw(st.text(min_size=1, max_size=60).filter(str.strip))
    needs_image = spec.image_url.value == "required"
    takes_image = spec.image_url.value == "optional" and spec.field("image_url").accepted
    if needs_image or (takes_image and draw(st.booleans())):
        prompt = {"text": prompt, "images": [_png(draw(st.integers(0, 255)))]}
    seeds = spec.seeds.value
    seed = st.integers(seeds.min, seeds.max) if seeds is not None else st.integers(0, 2**31)
    call = {
        "prompt": prompt,
        "size": draw(st.none() | sizes(model=spec, max_side=1600)),
        "n": draw(st.integers(1, 3)),
        "seed": draw(st.none() | seed) if not spec.field("seed").rejected else None,
        "provider_options": {"togetherai": options},
    }
    return spec, call


@settings(max_examples=50)
@given(valid_calls())
def test_every_request_generate_image_builds_from_valid_arguments_is_accepted(
    case: tuple[ModelSpec, dict[str, Any]],
) -> None:
    spec, call = case
    with FakeTogether(unsafe_terms=(), rate_limits="off") as fake:
        result = generate_image(model=create_togetherai(api_key="k").image(spec.id), **call)

    assert [c.status for c in fake.calls] == [200] * call["n"]
    assert len(result.images) == call["n"]
    prompt = call["prompt"] if isinstance(call["prompt"], str) else call["prompt"]["text"]
    # Kontext takes its output shape from the reference [3P Orb], not from size.
    from_reference = spec.output_size.value == "reference" and not isinstance(call["prompt"], str)
    for image in result.images:
        info = inspect_image(image.data)
        assert (info.model, info.prompt) == (spec.id, prompt)
        if call["size"] is not None and not from_reference:
            assert f"{info.width}x{info.height}" == call["size"]


def _smallest_size(spec: ModelSpec) -> tuple[int, int]:
    rule = spec.sizes.value
    if isinstance(rule, SizeRange):
        return rule.min, rule.min
    if isinstance(rule, SizeMenu):
        return min(rule.sizes, key=lambda size: size[0] * size[1])
    return spec.default_size.value


@settings(max_examples=50)
@given(
    st.sampled_from(SERVED),
    st.sampled_from(["url", "base64"]),
    st.integers(1, 4),
    st.booleans(),
)
def test_every_success_parses_in_the_client(
    spec: ModelSpec, response_format: str, n: int, type_field: bool
) -> None:
    fields: dict[str, Any] = {"prompt": "a quetzal", "response_format": response_format, "n": n}
    if spec.image_url.value == "required":
        fields["image_url"] = "data:image/png;base64," + base64.b64encode(_png(1)).decode()
    width, height = _smallest_size(spec)
    fields["width"], fields["height"] = width, height
    with FakeTogether(type_field=type_field):
        parsed = TogetherImageClient(api_key="k").images.generate(model=spec.id, **fields)

    assert [item.index for item in parsed.data] == list(range(n))
    for item in parsed.data:
        if response_format == "url":
            assert item.url is not None
        else:
            assert item.b64_json is not None
            assert inspect_image(base64.b64decode(item.b64_json)).width == width


@given(st.sampled_from(NAMED_ERRORS) | st.integers(400, 599), st.booleans())
def test_every_error_parses_in_the_client(error: str | int, html: bool) -> None:
    client = TogetherImageClient(api_key="k", max_retries=0)
    with FakeTogether() as fake:
        if html:
            fake.fail_next(kind="html", status=error if isinstance(error, int) else 502)
        elif isinstance(error, int):
            fake.fail_next(status=error)
        else:
            fake.fail_next(error=error)
        with pytest.raises(APICallError) as raised:
            client.images.generate(model="black-forest-labs/FLUX.1-schnell", prompt="x")

    answered = fake.calls[0]
    assert raised.value.status_code == answered.status
    if answered.error is not None:
        assert raised.value.message == answered.error["message"]


paths = st.one_of(
    st.sampled_from(
        [
            "/v1/images/generations",
            "/v1/models",
            "/shrt/abc",
            "/_fake/",
            "/_fake/calls",
            "/_fake/reset",
            "/_fake/faults",
            "/_fake/models",
            "/_fake/images/1/0",
            "/_fake/inputs/1",
        ]
    ),
    st.text(max_size=30).map(lambda text: "/" + text),
)


@given(st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD"]), paths, raw_bodies, header_sets)
def test_no_request_to_any_route_crashes_the_fake_or_gets_a_5xx(
    method: str, path: str, body: bytes, headers: dict[str, str]
) -> None:
    fake = FakeTogether(seed=0)
    fake.handle(
        FakeRequest(method="POST", path="/v1/images/generations", headers=headers, body=body)
    )

    response = fake.handle(FakeRequest(method=method, path=path, headers=headers, body=body))

    assert 200 <= response.status < 500
    if (
        response.header("Content-Type") == "application/json; charset=utf-8"
        and response.status >= 400
    ):
        parsed = json.loads(response.body)
        assert "error" in parsed
