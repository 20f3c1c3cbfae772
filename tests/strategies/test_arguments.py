"""Bad options raise ``InvalidArgument`` when a strategy is created, naming what was expected."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import SearchStrategy

from together_image_fake import strategies


@pytest.mark.parametrize(
    ("factory", "kwargs", "message"),
    [
        (strategies.image_bytes, {"media_types": []}, "non-empty sequence"),
        (strategies.image_bytes, {"media_types": "image/png"}, "got the string"),
        (strategies.image_bytes, {"media_types": ["image/svg+xml"]}, "image/svg"),
        (strategies.image_bytes, {"min_side": 0}, "min_side must be an int from 1"),
        (strategies.image_bytes, {"min_side": 5, "max_side": 4}, "max_side must be an int from 5"),
        (strategies.image_bytes, {"max_side": True}, "max_side"),
        (strategies.image_inputs, {"forms": ["gif"]}, "forms must be a non-empty sequence"),
        (strategies.image_inputs, {"forms": "bytes"}, "got the string"),
        (strategies.image_inputs, {"directory": 3}, "directory must be a path"),
        (strategies.prompts, {"min_size": 0}, "min_size"),
        (strategies.prompts, {"avoid_terms": "nsfw"}, "avoid_terms"),
        (strategies.sizes, {"model": "no/such-model"}, "built-in model id"),
        (strategies.sizes, {"max_side": 100}, "no side between 512 and 100"),
        (strategies.sizes, {"max_side": 0}, "max_side"),
        (strategies.provider_options, {"model": 42}, "got 42"),
        (strategies.generation_requests, {"models": []}, "must not be empty"),
        (strategies.generation_requests, {"models": "black-forest-labs/FLUX.1-dev"}, "single"),
        (strategies.generation_requests, {"max_n": 0}, "max_n"),
        (strategies.invalid_generation_requests, {"strict": "yes"}, "strict must be a bool"),
        (strategies.fake_faults, {"kinds": []}, "kinds"),
        (strategies.fake_faults, {"kinds": ["explode"]}, "kinds"),
        (strategies.fake_faults, {"max_latency_s": float("nan")}, "max_latency_s"),
        (strategies.fake_faults, {"max_latency_s": 0}, "above 0"),
        (strategies.fake_faults, {"max_times": 0}, "max_times"),
        (strategies.fake_faults, {"models": []}, "models"),
        (strategies.image_prompts, {"max_images": 0}, "max_images"),
        (strategies.generated_images, {"media_types": ["text/plain"]}, "media_types"),
    ],
)
def test_bad_options_are_refused_at_once(
    factory: Callable[..., SearchStrategy[Any]], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidArgument, match=message):
        factory(**kwargs)


def test_options_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        strategies.sizes("black-forest-labs/FLUX.1-schnell")  # type: ignore[call-arg]
