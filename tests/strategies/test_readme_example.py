"""The README's "Property-test your app's image code" example, verbatim, so it is known to run."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from together_image import generate_image, togetherai
from together_image_fake import FakeTogether, inspect_image
from together_image_fake.strategies import ImageInputExample, image_inputs, prompts, sizes

MODEL = "black-forest-labs/FLUX.1-kontext-pro"


def restyle_photo(photo: object, style: str, size: str) -> bytes:
    """Your app's code: edit a user's photo with FLUX Kontext."""
    result = generate_image(
        model=togetherai.image(MODEL), prompt={"text": style, "images": [photo]}, size=size
    )
    return result.image.data


@pytest.mark.together_fake(rate_limits="off")
@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(photo=image_inputs(), style=prompts(), size=sizes(model=MODEL, max_side=512))
def test_restyle_photo_edits_the_photo_it_was_given(
    together_fake: FakeTogether, photo: ImageInputExample, style: str, size: str
) -> None:
    if photo.is_url:  # the fake never downloads: tell it what the URL holds
        together_fake.add_remote_image(photo.value, photo.data)
    info = inspect_image(restyle_photo(photo.value, style, size))
    assert info.prompt == style
    assert f"{info.width}x{info.height}" == size
    assert together_fake.calls[-1].input_image == photo.data
