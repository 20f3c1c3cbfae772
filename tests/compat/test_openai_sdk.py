"""The ``openai`` Python SDK pointed at Together (``base_url`` Together's ``/v1``), in-process
and against the fake server.

openai 3.x is built on ``httpx2`` (pydantic's fork of httpx), which the fake's httpx adapter
patches like httpx. Together's ``response_format`` values are ``base64`` and ``url``; the OpenAI
spelling ``b64_json`` is passed through by the SDK and refused by the fake, as it is unverified
whether the real API accepts it (reference §8, open questions).
"""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import httpx2
import openai
import pytest
from openai._base_client import BaseClient

from together_image_fake import inspect_image

from .conftest import COMPAT_KEY, Target

SCHNELL = "black-forest-labs/FLUX.1-schnell"
TOGETHER_V1 = "https://api.together.xyz/v1"


def client(target: Target, **options: Any) -> openai.OpenAI:
    return openai.OpenAI(api_key=COMPAT_KEY, base_url=target.base_url or TOGETHER_V1, **options)


def test_sdk_version_is_a_3x_on_httpx2() -> None:
    assert openai.__version__.startswith("3.")
    with openai.OpenAI(api_key=COMPAT_KEY, base_url=TOGETHER_V1) as sdk:
        assert isinstance(sdk._client, httpx2.Client)


def test_generation_succeeds(target: Target) -> None:
    with client(target, max_retries=0) as sdk:
        response = sdk.images.generate(
            model=SCHNELL,
            prompt="a quetzal, via openai",
            response_format="base64",  # type: ignore[arg-type]
            extra_body={"width": 512, "height": 256},
        )

    assert response.data is not None
    info = inspect_image(base64.b64decode(response.data[0].b64_json or ""))
    assert (info.prompt, info.width, info.height) == ("a quetzal, via openai", 512, 256)
    (call,) = target.fake.calls
    assert call.path == "/v1/images/generations"
    assert call.headers["user-agent"].startswith("OpenAI/Python 3.")


def test_async_generation_succeeds(target: Target) -> None:
    async def generate() -> Any:
        async with openai.AsyncOpenAI(
            api_key=COMPAT_KEY, base_url=target.base_url or TOGETHER_V1, max_retries=0
        ) as sdk:
            return await sdk.images.generate(model=SCHNELL, prompt="async")

    response = asyncio.run(generate())

    assert response.data is not None
    assert response.data[0].url is not None
    assert [call.prompt for call in target.fake.calls] == ["async"]


@pytest.mark.parametrize(
    ("fields", "error", "text"),
    [
        ({"model": "black-forest-labs/FLUX.9-imaginary"}, openai.NotFoundError, "Unable to access"),
        ({"model": SCHNELL, "response_format": "b64_json"}, openai.BadRequestError, "'base64'"),
    ],
)
def test_errors_map_to_the_sdk_classes(
    target: Target, fields: dict[str, Any], error: type[openai.APIStatusError], text: str
) -> None:
    with client(target, max_retries=0) as sdk, pytest.raises(error) as caught:
        sdk.images.generate(prompt="p", **fields)

    assert text in str(caught.value)
    assert [call.status for call in target.fake.calls] == [caught.value.status_code]


def test_a_reset_is_a_connection_error(target: Target) -> None:
    target.fake.fail_next(kind="reset")
    with client(target, max_retries=0) as sdk, pytest.raises(openai.APIConnectionError):
        sdk.images.generate(model=SCHNELL, prompt="p")


@pytest.mark.together_fake(retry_after_s=0.001)
def test_a_429_is_retried_after_the_wait_the_fake_asks_for(
    target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []
    original = BaseClient._calculate_retry_timeout

    def spy(self: Any, *args: Any, **kwargs: Any) -> float:
        wait: float = original(self, *args, **kwargs)
        waits.append(wait)
        return wait

    monkeypatch.setattr(BaseClient, "_calculate_retry_timeout", spy)
    target.fake.fail_next(error="rate_limited")
    with client(target, max_retries=2) as sdk:
        sdk.images.generate(model=SCHNELL, prompt="p")

    assert [call.status for call in target.fake.calls] == [429, 200]
    assert waits == [0.001]
