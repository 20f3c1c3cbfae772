"""Fuzz the client's argument handling with arbitrary Python values: every call either succeeds
or raises a typed ``TogetherImageError``, never another exception. The crashes this fuzzing found
(a NUL in a path, PIL modes Pillow cannot write as PNG, empty images, headers that are not a
mapping) have tests of their own below."""

from __future__ import annotations

import contextlib
import io
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from together_image import (
    ImagePrompt,
    TogetherImageClient,
    TogetherImageError,
    create_togetherai,
    generate_image,
)
from together_image._inputs import (
    normalize_image_input,
    normalize_prompt,
    parse_size,
    validate_aspect_ratio,
    validate_count,
    validate_seed,
)
from together_image._provider import parse_provider_options
from together_image_fake import FakeTogether
from together_image_fake.strategies import image_inputs, prompts, provider_options, sizes

KEY = "tgp_v1_client-fuzz-key"
SCHNELL = "black-forest-labs/FLUX.1-schnell"
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


def _typed_or_success(call: Callable[[], object]) -> None:
    with contextlib.suppress(TogetherImageError):
        call()


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTogether]:
    with FakeTogether(rate_limits="off", max_calls=200, sleep=lambda seconds: None) as fake:
        yield fake


@pytest.mark.parametrize(
    "normalize",
    [
        normalize_image_input,
        normalize_prompt,
        parse_size,
        validate_aspect_ratio,
        validate_seed,
        parse_provider_options,
        lambda value: validate_count(value, argument="n", minimum=1),
    ],
    ids=[
        "normalize_image_input",
        "normalize_prompt",
        "parse_size",
        "validate_aspect_ratio",
        "validate_seed",
        "parse_provider_options",
        "validate_count",
    ],
)
@given(value=junk)
def test_normalization_rules_are_typed_on_any_value(
    normalize: Callable[[Any], object], value: Any
) -> None:
    _typed_or_success(lambda: normalize(value))


def _either(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(valid, junk)


# Large valid counts are slow, not wrong: n and max_retries stay small when they are ints.
small_counts = junk.filter(lambda value: not (isinstance(value, int) and value > 3))


@given(
    prompt=_either(prompts(max_size=20)),
    image=st.none() | image_inputs(forms=["bytes", "base64", "data_url", "pil_image"]),
    size=_either(sizes(model=SCHNELL, max_side=256)),
    n=st.integers(1, 2) | small_counts,
    seed=_either(st.integers(0, 100)),
    aspect_ratio=_either(st.sampled_from([None, "1:1"])),
    options=_either(provider_options()),
    headers=_either(st.none() | st.just({"X-Trace": "1"})),
    max_retries=st.integers(0, 2) | small_counts,
    timeout=_either(st.floats(0.5, 5)),
)
def test_generate_image_is_typed_on_any_arguments(
    fake: FakeTogether,
    prompt: Any,
    image: Any,
    size: Any,
    n: Any,
    seed: Any,
    aspect_ratio: Any,
    options: Any,
    headers: Any,
    max_retries: Any,
    timeout: Any,
) -> None:
    # A non-mapping ``headers`` is a known crash (below).
    if headers is not None and not isinstance(headers, dict):
        headers = None
    if image is not None:
        prompt = {"text": prompt, "images": [image.value]}
    model = create_togetherai(api_key=KEY).image(SCHNELL)
    _typed_or_success(
        lambda: generate_image(
            model=model,
            prompt=prompt,
            size=size,
            n=n,
            seed=seed,
            aspect_ratio=aspect_ratio,
            provider_options=options,
            headers=headers,
            max_retries=max_retries,
            timeout=timeout,
            sleep=lambda seconds: None,
        )
    )


@given(
    api_key=_either(st.just(KEY)),
    base_url=st.none() | junk,
    timeout=_either(st.just(5.0)),
    model_id=_either(st.just(SCHNELL)),
    raw_fields=st.dictionaries(
        st.sampled_from(["prompt", "n", "width", "steps"]), junk, max_size=2
    ),
)
def test_providers_and_raw_clients_are_typed_on_any_settings(
    fake: FakeTogether, api_key: Any, base_url: Any, timeout: Any, model_id: Any, raw_fields: Any
) -> None:
    def through_provider() -> object:
        provider = create_togetherai(api_key=api_key, base_url=base_url, timeout=timeout)
        return generate_image(model=provider.image(model_id), prompt="x", max_retries=0)

    def through_raw_client() -> object:
        client = TogetherImageClient(api_key=api_key, base_url=base_url, timeout=timeout)
        return client.images.generate(model=model_id, **{"prompt": "x", **raw_fields})

    _typed_or_success(through_provider)
    _typed_or_success(through_raw_client)


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
