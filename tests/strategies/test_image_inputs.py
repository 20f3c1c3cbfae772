"""``image_inputs()`` and ``image_bytes()``: every input form the client accepts, real images."""

from __future__ import annotations

import base64
import gc
import io
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from together_image._inputs import normalize_image_input
from together_image._media import detect_media_type
from together_image_fake import FakeTogether, inspect_image
from together_image_fake.strategies import (
    ENCODABLE_MEDIA_TYPES,
    IMAGE_INPUT_FORMS,
    ImageInputExample,
    ImageInputForm,
    image_bytes,
    image_inputs,
)

from ._support import post_body


@pytest.mark.parametrize("form", IMAGE_INPUT_FORMS)
@settings(max_examples=15)
@given(data=st.data())
def test_each_form_normalizes_to_the_image_url_it_announces(
    form: ImageInputForm, data: st.DataObject
) -> None:
    example = data.draw(image_inputs(forms=[form]))
    assert example.form == form
    assert normalize_image_input(example.value) == example.image_url


@given(image_inputs())
def test_the_bytes_are_the_image_the_value_stands_for(example: ImageInputExample) -> None:
    with Image.open(io.BytesIO(example.data)) as image:
        image.load()
    if example.is_url:
        assert example.image_url == example.value
    else:
        header, _, payload = example.image_url.partition(",")
        assert header == f"data:{example.media_type};base64"
        assert base64.b64decode(payload) == example.data


@pytest.mark.parametrize("media_type", ENCODABLE_MEDIA_TYPES)
@settings(max_examples=10)
@given(data=st.data())
def test_image_bytes_decode_to_their_media_type(media_type: str, data: st.DataObject) -> None:
    encoded = data.draw(image_bytes(media_types=[media_type], min_side=2, max_side=9))
    assert detect_media_type(encoded) == media_type
    with Image.open(io.BytesIO(encoded)) as image:
        image.load()
        assert 2 <= image.width <= 9
        assert 2 <= image.height <= 9


def test_path_inputs_are_written_where_asked(tmp_path: Path) -> None:
    @settings(max_examples=10)
    @given(image_inputs(forms=["path"], directory=tmp_path))
    def check(example: ImageInputExample) -> None:
        assert example.value.parent == tmp_path
        assert example.value.read_bytes() == example.data

    check()
    assert not list(tmp_path.glob("*.part"))


@settings(max_examples=20)
@given(image_inputs(forms=["bytes", "path", "pil_image", "file_object", "data_url", "base64"]))
def test_every_non_url_form_edits_through_the_fake(example: ImageInputExample) -> None:
    # The fake decodes the input image and records its hash: the client sent exactly these bytes.
    fake = FakeTogether(seed=1)
    body = {
        "model": "black-forest-labs/FLUX.1-kontext-pro",
        "prompt": "make it blue",
        "width": 256,
        "height": 256,
        "response_format": "base64",
        "image_url": normalize_image_input(example.value),
    }
    response = post_body(fake, body)
    assert response.status == 200, response.body
    assert fake.calls[-1].input_image == example.data
    image = base64.b64decode(json.loads(response.body)["data"][0]["b64_json"])
    assert inspect_image(image).input_sha256 == fake.calls[-1].input_sha256


def test_default_path_directory_outlives_the_strategy() -> None:
    example = image_inputs(forms=["path"]).example()
    # The strategy is gone; the file must still be there for the test that drew it.
    gc.collect()
    assert example.value.parent.name.startswith("together-image-inputs-")
    assert example.value.read_bytes() == example.data
