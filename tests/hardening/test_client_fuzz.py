"""Fuzz the client's argument handling with arbitrary Python values: every call either succeeds
or raises a typed ``TogetherImageError``, never another exception; valid arguments always succeed,
and what comes back is checked (the normalized value, the images, the body the fake received).
The crashes this fuzzing found (a NUL in a path, PIL modes Pillow cannot write as PNG, empty
images, headers that are not a mapping) have tests of their own below."""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from together_image import (
    GenerateImageResult,
    ImagePrompt,
    ImageResponse,
    TogetherImageClient,
    TogetherImageError,
    create_togetherai,
    generate_image,
)
from together_image._inputs import (
    NormalizedPrompt,
    is_url,
    normalize_image_input,
    normalize_prompt,
    parse_size,
    validate_aspect_ratio,
    validate_count,
    validate_seed,
)
from together_image._media import parse_data_url, to_data_url
from together_image._provider import parse_provider_options
from together_image_fake import FakeTogether
from together_image_fake.strategies import image_inputs, prompts, provider_options, sizes

KEY = "tgp_v1_client-fuzz-key"
SCHNELL = "black-forest-labs/FLUX.1-schnell"
KONTEXT = "black-forest-labs/FLUX.1-kontext-pro"
# PIL images the client encodes; modes I and La and empty images are known crashes (below).
PIL_IMAGES = [Image.new(mode, (2, 1)) for mode in ("1", "L", "P", "RGB", "RGBA", "CMYK", "F")]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.sampled_from([math.inf, -math.inf, math.nan, 10**400, -(10**400), ..., NotImplemented]),
    st.text(),
    st.text(alphabet="0123456789x:-. ", max_size=12),
    st.binary(max_size=64),
    st.builds(bytearray, st.binary(max_size=16)),
    st.binary(max_size=16).map(lambda data: memoryview(data)),
    st.builds(object),
    st.builds(io.StringIO, st.text(max_size=8)),
    st.builds(io.BytesIO, st.binary(max_size=16)),
    # A NUL byte in a path is a known crash (below).
    st.builds(Path, st.text(max_size=12).filter(lambda text: "\x00" not in text)),
    st.sampled_from(PIL_IMAGES),
    st.just(type),
    st.just(len),
)
junk = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.tuples(children, children),
        st.dictionaries(st.one_of(st.text(max_size=8), st.integers()), children, max_size=3),
        st.frozensets(st.integers(), max_size=2),
        st.builds(ImagePrompt, text=children, images=children, mask=children),
    ),
    max_leaves=8,
)


T = TypeVar("T")


def outcome(call: Callable[[], T], *, valid: bool) -> T | None:
    """Run ``call``: a valid call must succeed; any call may only fail with a typed error.

    Returns:
        What the call returned, or ``None`` when it raised a ``TogetherImageError``.
    """
    try:
        return call()
    except TogetherImageError as error:
        if valid:
            pytest.fail(f"valid arguments were rejected: {type(error).__name__}: {error}")
        return None


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTogether]:
    with FakeTogether(rate_limits="off", max_calls=200, sleep=lambda seconds: None) as fake:
        yield fake


def _check_image_url(value: Any, result: object, expected: str | None) -> None:
    assert isinstance(result, str)
    if expected is not None:
        assert result == expected
    elif isinstance(value, str) and is_url(value):
        assert result == value
    else:
        # Whatever the input, what comes back is a canonical data URL of some bytes.
        media_type, data = parse_data_url(result)
        assert result == to_data_url(data, media_type)


def _check_prompt(value: Any, result: object, expected: str | None) -> None:
    assert isinstance(result, NormalizedPrompt)
    assert result.text is None or isinstance(result.text, str)
    if isinstance(value, str):
        assert result == NormalizedPrompt(text=value)
    for image_url in result.images:
        _check_image_url(image_url, image_url, None)


def _check_size(value: Any, result: object, expected: str | None) -> None:
    if value is None:
        assert result is None
        return
    assert isinstance(result, tuple)
    width, height = result
    assert width >= 1
    assert height >= 1
    assert f"{width}x{height}" == value


def _check_unchanged(value: Any, result: object, expected: str | None) -> None:
    assert result == value
    assert type(result) is type(value)


def _check_options(value: Any, result: object, expected: str | None) -> None:
    assert isinstance(result, dict)
    assert result == dict((value or {}).get("togetherai") or {})


def _check_count(value: Any, result: object, expected: str | None) -> None:
    assert isinstance(result, int)
    assert result == value
    assert result >= 1


def _image_example(example: Any) -> tuple[Any, str]:
    return example.value, example.image_url


def _valid(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[Any, str | None]]:
    return strategy.map(lambda value: (value, None))


RULES: list[tuple[str, Callable[[Any], object], st.SearchStrategy[Any], Any]] = [
    (
        "normalize_image_input",
        normalize_image_input,
        image_inputs().map(_image_example),
        _check_image_url,
    ),
    (
        "normalize_prompt",
        normalize_prompt,
        _valid(prompts(max_size=20) | st.builds(ImagePrompt, text=prompts(max_size=8))),
        _check_prompt,
    ),
    ("parse_size", parse_size, _valid(st.none() | sizes(max_side=4096)), _check_size),
    (
        "validate_aspect_ratio",
        validate_aspect_ratio,
        _valid(st.none() | st.sampled_from(["1:1", "16:9", "9:16", "21:9"])),
        _check_unchanged,
    ),
    ("validate_seed", validate_seed, _valid(st.none() | st.integers()), _check_unchanged),
    (
        "parse_provider_options",
        parse_provider_options,
        _valid(st.none() | provider_options()),
        _check_options,
    ),
    (
        "validate_count",
        lambda value: validate_count(value, argument="n", minimum=1),
        _valid(st.integers(1, 10**6)),
        _check_count,
    ),
]


@pytest.mark.parametrize(
    ("normalize", "valid", "check"),
    [rule[1:] for rule in RULES],
    ids=[rule[0] for rule in RULES],
)
@given(data=st.data())
def test_normalization_rules_are_typed_on_any_value(
    normalize: Callable[[Any], object],
    valid: st.SearchStrategy[tuple[Any, str | None]],
    check: Callable[[Any, object, str | None], None],
    data: st.DataObject,
) -> None:
    is_valid, drawn = data.draw(
        st.one_of(valid.map(lambda pair: (True, pair)), junk.map(lambda v: (False, (v, None)))),
        label="value",
    )
    value, expected = drawn
    result = outcome(lambda: normalize(value), valid=is_valid)
    if result is not None or (is_valid and value is None):
        check(value, result, expected)


# Large valid counts are slow, not wrong: n and max_retries stay small when they are ints.
small_counts = junk.filter(lambda value: not (isinstance(value, int) and value > 3))

Choices = dict[str, tuple[st.SearchStrategy[Any], st.SearchStrategy[Any]]]


def draw_arguments(data: st.DataObject, choices: Choices) -> tuple[bool, dict[str, Any]]:
    """Draw every argument from its valid strategy (half of the examples, so valid calls are
    common), or each from either its valid strategy or its junk.

    Returns:
        Whether every argument came from its valid strategy, and the arguments.
    """
    all_valid = data.draw(st.booleans(), label="all valid")
    valid = True
    values: dict[str, Any] = {}
    for name, (good, bad) in choices.items():
        from_good = all_valid or data.draw(st.booleans(), label=f"{name} valid")
        values[name] = data.draw(good if from_good else bad, label=name)
        valid = valid and from_good
    return valid, values


@given(data=st.data())
def test_generate_image_is_typed_on_any_arguments(fake: FakeTogether, data: st.DataObject) -> None:
    image = data.draw(
        st.none() | image_inputs(forms=["bytes", "base64", "data_url", "pil_image"]), label="image"
    )
    # Kontext takes an input image; FLUX.1 [schnell] answers 400 to one.
    model_id = KONTEXT if image is not None else SCHNELL
    valid, values = draw_arguments(
        data,
        {
            "prompt": (prompts(max_size=20), junk),
            "size": (sizes(model=model_id, max_side=320), junk),
            "n": (st.integers(1, 2), small_counts),
            "seed": (st.none() | st.integers(0, 100), junk),
            "aspect_ratio": (st.sampled_from([None, "1:1"]), junk),
            "provider_options": (st.none() | provider_options(model=model_id), junk),
            # A non-mapping ``headers`` is a known crash (below): only mappings are drawn here.
            "headers": (st.sampled_from([None, {"X-Trace": "1"}]), st.just({"X-Bad": 5})),
            "max_retries": (st.integers(0, 2), small_counts),
            # Generous: the timeout is a deadline for the whole answer; the machine may be busy.
            "timeout": (st.floats(10, 60), junk),
        },
    )
    if image is not None:
        values["prompt"] = {"text": values["prompt"], "images": [image.value]}
    model = create_togetherai(api_key=KEY).image(model_id)
    calls_before = len(fake.calls)
    result = outcome(
        lambda: generate_image(model=model, sleep=lambda seconds: None, **values), valid=valid
    )
    if result is None:
        return
    assert isinstance(result, GenerateImageResult)
    assert len(result.images) == values["n"]
    assert len(result.responses) == values["n"]
    assert all(image.data for image in result.images)
    body = fake.calls[-1].body
    assert len(fake.calls) - calls_before >= values["n"]
    assert body["model"] == model_id
    assert body["prompt"] == (values["prompt"]["text"] if image is not None else values["prompt"])
    if image is not None:
        assert body["image_url"] == image.image_url
    if values["size"] is not None:
        assert f"{body['width']}x{body['height']}" == values["size"]
    if values["seed"] is not None:
        assert body["seed"] == values["seed"]
    for name, option in ((values["provider_options"] or {}).get("togetherai") or {}).items():
        assert body[name] == option


@given(data=st.data())
def test_providers_and_raw_clients_are_typed_on_any_settings(
    fake: FakeTogether, data: st.DataObject
) -> None:
    valid, values = draw_arguments(
        data,
        {
            "api_key": (st.just(KEY), junk),
            # The fake intercepts both of Together's hosts, with or without a trailing slash.
            "base_url": (
                st.sampled_from(
                    [
                        None,
                        "https://api.together.xyz/v1",
                        "https://api.together.ai/v1/",
                        " https://api.together.xyz/v1",
                    ]
                ),
                junk,
            ),
            "timeout": (st.floats(10, 60), junk),
            "model_id": (st.just(SCHNELL), junk),
        },
    )
    model_id = values.pop("model_id")
    raw_fields = data.draw(
        st.just({})
        | st.dictionaries(st.sampled_from(["prompt", "n", "width", "steps"]), junk, max_size=2),
        label="raw fields",
    )

    def through_provider() -> GenerateImageResult:
        provider = create_togetherai(**values)
        return generate_image(model=provider.image(model_id), prompt="x", max_retries=0)

    def through_raw_client() -> ImageResponse:
        client = TogetherImageClient(**values, max_retries=0)
        return client.images.generate(model=model_id, **{"prompt": "x", **raw_fields})

    generated = outcome(through_provider, valid=valid)
    if generated is not None:
        assert len(generated.images) == 1
        assert fake.calls[-1].body["model"] == model_id
    raw = outcome(through_raw_client, valid=valid and not raw_fields)
    if raw is not None:
        assert isinstance(raw, ImageResponse)
        assert raw.data
        assert fake.calls[-1].body["prompt"] == raw_fields.get("prompt", "x")


def test_a_path_with_a_nul_byte_is_a_typed_error() -> None:
    with pytest.raises(TogetherImageError):
        normalize_image_input(Path("photo\x00.png"))


@pytest.mark.parametrize("mode", ["I", "La", "RGBa", "F", "CMYK", "I;16"])
def test_pil_images_in_modes_png_lacks_are_converted(mode: str) -> None:
    image_url = normalize_image_input(Image.new(mode, (2, 1)))
    assert image_url.startswith("data:image/png;base64,")


@pytest.mark.parametrize("size", [(0, 0), (3, 0), (0, 2)])
def test_empty_pil_images_are_a_typed_error(size: tuple[int, int]) -> None:
    with pytest.raises(TogetherImageError, match="empty"):
        normalize_image_input(Image.new("RGB", size))


@pytest.mark.parametrize("headers", [True, 0.1, "X: 1", ImagePrompt()], ids=repr)
def test_headers_that_are_not_a_mapping_are_a_typed_error(headers: Any) -> None:
    with pytest.raises(TogetherImageError):
        create_togetherai(api_key=KEY, headers=headers)
