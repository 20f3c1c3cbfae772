"""litellm's ``image_generation`` for Together (``together_ai/<model>``), in-process and against
the fake server.

litellm sends Together image calls through the ``openai`` SDK (so through httpx2), with its
default ``max_retries`` of 2. It fetches a model price list from GitHub when imported unless
``LITELLM_LOCAL_MODEL_COST_MAP`` is set (the compat env sets it; so does this module, first).
"""

from __future__ import annotations

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import base64
from typing import Any

import litellm
import pytest
from openai._base_client import BaseClient

from together_image_fake import inspect_image

from .conftest import COMPAT_KEY, Target

SCHNELL = "black-forest-labs/FLUX.1-schnell"
# litellm builds pydantic models from ReadOnly TypedDicts on first use; pydantic warns about each.
pytestmark = pytest.mark.filterwarnings("ignore:Items? .*ReadOnly:UserWarning")


def generate(target: Target, **fields: Any) -> Any:
    options: dict[str, Any] = {"model": f"together_ai/{SCHNELL}", "prompt": "p", **fields}
    if target.base_url is not None:
        options["api_base"] = target.base_url
    return litellm.image_generation(api_key=COMPAT_KEY, **options)


def test_generation_succeeds(target: Target) -> None:
    response = generate(target, prompt="a quetzal, via litellm", response_format="base64")

    info = inspect_image(base64.b64decode(response.data[0].b64_json))
    assert info.prompt == "a quetzal, via litellm"
    (call,) = target.fake.calls
    assert call.body == {
        "model": SCHNELL,
        "prompt": "a quetzal, via litellm",
        "response_format": "base64",
    }


@pytest.mark.parametrize(
    ("fields", "error", "text"),
    [
        (
            {"model": "together_ai/black-forest-labs/FLUX.9"},
            litellm.NotFoundError,
            "Unable to access",
        ),
        ({"response_format": "b64_json"}, litellm.BadRequestError, "'base64'"),
    ],
)
def test_errors_map_to_litellm_classes(
    target: Target, fields: dict[str, Any], error: type[Exception], text: str
) -> None:
    with pytest.raises(error) as caught:
        generate(target, max_retries=0, **fields)

    assert text in str(caught.value)


@pytest.mark.together_fake(retry_after_s=0.001)
def test_a_503_is_retried_after_the_wait_the_fake_asks_for(
    target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []
    original = BaseClient._calculate_retry_timeout

    def spy(self: Any, *args: Any, **kwargs: Any) -> float:
        wait: float = original(self, *args, **kwargs)
        waits.append(wait)
        return wait

    monkeypatch.setattr(BaseClient, "_calculate_retry_timeout", spy)
    target.fake.fail_next(status=503)

    response = generate(target)

    assert response.data[0].url
    assert [call.status for call in target.fake.calls] == [503, 200]
    assert waits == [0.001]
