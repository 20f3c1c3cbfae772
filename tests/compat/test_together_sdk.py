"""The official ``together`` Python SDK (3.x in env ``compat``, 2.x in ``compat-v2``; both httpx
based), in-process and against the fake server.

In-process, the SDK is built with its defaults (no base URL): the fake's httpx adapter answers.
Over the server, together >= 3 appends ``/v1`` to its base URL itself, so it is given the
server's ``origin`` (``http://HOST:PORT``); 2.x takes ``base_url`` with ``/v1`` (reference §0
[RUN]).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import together
from together._base_client import BaseClient

from together_image_fake import FakeTogetherServer, inspect_image

from .conftest import COMPAT_ENV, COMPAT_KEY, Target, png_bytes

SCHNELL = "black-forest-labs/FLUX.1-schnell"
KONTEXT = "black-forest-labs/FLUX.1-kontext-pro"
MAJOR = int(together.__version__.split(".")[0])


def sdk_base(target: Target) -> dict[str, str]:
    """What to pass the SDK: nothing in-process; the server's origin (>= 3) or base URL (2.x)."""
    url = target.origin if MAJOR >= 3 else target.base_url
    return {} if url is None else {"base_url": url}


def server_base(server: FakeTogetherServer) -> str:
    return server.origin if MAJOR >= 3 else server.base_url


@pytest.fixture
def client(fake_server: FakeTogetherServer) -> Iterator[together.Together]:
    with together.Together(
        api_key=COMPAT_KEY, base_url=server_base(fake_server), max_retries=0
    ) as sdk:
        yield sdk


@pytest.fixture
def retry_waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits the SDK's own retry logic computes (it still sleeps them)."""
    waits: list[float] = []
    original = BaseClient._calculate_retry_timeout

    def spy(self: Any, *args: Any, **kwargs: Any) -> float:
        wait: float = original(self, *args, **kwargs)
        waits.append(wait)
        return wait

    monkeypatch.setattr(BaseClient, "_calculate_retry_timeout", spy)
    return waits


def test_sdk_version_is_the_pinned_line() -> None:
    assert {"1": 3, "v2": 2}[COMPAT_ENV] == MAJOR


def test_generation_succeeds(target: Target) -> None:
    with together.Together(api_key=COMPAT_KEY, max_retries=0, **sdk_base(target)) as sdk:
        response = sdk.images.generate(
            model=SCHNELL, prompt="a quetzal", width=512, height=256, response_format="base64"
        )

    info = inspect_image(base64.b64decode(response.data[0].b64_json or ""))
    assert (info.prompt, info.width, info.height) == ("a quetzal", 512, 256)
    (call,) = target.fake.calls
    assert call.headers["user-agent"].startswith(f"Together/Python {MAJOR}.")


def test_async_generation_succeeds(target: Target) -> None:
    async def generate() -> Any:
        async with together.AsyncTogether(
            api_key=COMPAT_KEY, max_retries=0, **sdk_base(target)
        ) as sdk:
            return await asyncio.gather(
                *(sdk.images.generate(model=SCHNELL, prompt=f"bird {i}") for i in range(3))
            )

    responses = asyncio.run(generate())

    assert [len(response.data) for response in responses] == [1, 1, 1]
    assert sorted(call.prompt or "" for call in target.fake.calls) == ["bird 0", "bird 1", "bird 2"]
    assert target.fake.calls[0].headers["user-agent"].startswith(f"AsyncTogether/Python {MAJOR}.")


@pytest.mark.parametrize(
    ("fields", "error", "text"),
    [
        (
            {"model": "black-forest-labs/FLUX.9-imaginary"},
            together.NotFoundError,
            "Unable to access model black-forest-labs/FLUX.9-imaginary.",
        ),
        ({"model": SCHNELL, "width": 100}, together.BadRequestError, "'width' parameter"),
    ],
)
def test_errors_map_to_the_sdk_classes(
    target: Target, fields: dict[str, Any], error: type[together.APIStatusError], text: str
) -> None:
    with (
        together.Together(api_key=COMPAT_KEY, max_retries=0, **sdk_base(target)) as sdk,
        pytest.raises(error) as caught,
    ):
        sdk.images.generate(prompt="p", **fields)

    assert text in str(caught.value)
    assert [call.status for call in target.fake.calls] == [caught.value.status_code]


@pytest.mark.parametrize(
    ("kind", "error"),
    [("reset", together.APIConnectionError), ("timeout", together.APITimeoutError)],
)
def test_connection_faults_map_to_the_sdk_classes(
    target: Target, kind: str, error: type[together.APIConnectionError]
) -> None:
    target.fake.fail_next(kind=kind)  # type: ignore[arg-type]
    with (
        together.Together(
            api_key=COMPAT_KEY, max_retries=0, timeout=0.5, **sdk_base(target)
        ) as sdk,
        pytest.raises(error),
    ):
        sdk.images.generate(model=SCHNELL, prompt="p")


@pytest.mark.together_fake(retry_after_s=0.001)
def test_a_503_is_retried_after_the_wait_the_fake_asks_for(
    target: Target, retry_waits: list[float]
) -> None:
    target.fake.fail_next(status=503)
    with together.Together(api_key=COMPAT_KEY, max_retries=2, **sdk_base(target)) as sdk:
        response = sdk.images.generate(model=SCHNELL, prompt="p", response_format="base64")

    assert response.data[0].b64_json
    assert [call.status for call in target.fake.calls] == [503, 200]
    assert [call.headers["x-stainless-retry-count"] for call in target.fake.calls] == ["0", "1"]
    assert retry_waits == [0.001]


@pytest.mark.together_fake(retry_after_s=0.001)
def test_async_a_429_is_retried_after_the_wait_the_fake_asks_for(
    target: Target, retry_waits: list[float]
) -> None:
    target.fake.fail_next(error="rate_limited")

    async def generate() -> Any:
        async with together.AsyncTogether(
            api_key=COMPAT_KEY, max_retries=2, **sdk_base(target)
        ) as sdk:
            return await sdk.images.generate(model=SCHNELL, prompt="p")

    asyncio.run(generate())

    assert [call.status for call in target.fake.calls] == [429, 200]
    assert retry_waits == [0.001]


def test_in_process_other_hosts_are_blocked(together_fake: object) -> None:
    with (
        together.Together(
            api_key=COMPAT_KEY, base_url="https://gateway.invalid", max_retries=0
        ) as sdk,
        pytest.raises(together.APIConnectionError) as caught,
    ):
        sdk.images.generate(model=SCHNELL, prompt="p")

    assert "FakeTogether blocked POST https://gateway.invalid" in str(caught.value.__cause__)


def test_the_together_fake_fixture_intercepts_the_sdk(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import together

        def test_sync(together_fake):
            response = together.Together().images.generate(
                model="black-forest-labs/FLUX.1-schnell", prompt="a quetzal"
            )
            assert response.data
            assert together_fake.calls[0].prompt == "a quetzal"

        def test_async(together_fake):
            async def go():
                async with together.AsyncTogether() as sdk:
                    return await sdk.images.generate(
                        model="black-forest-labs/FLUX.1-schnell", prompt="async"
                    )
            assert asyncio.run(go()).data
            assert together_fake.calls[0].prompt == "async"
        """
    )

    pytester.runpytest_subprocess("-p", "no:randomly").assert_outcomes(passed=2)


# ---- over the server only: url mode (CDN links), editing ---------------------------------------


def test_text_to_image_in_base64_mode(
    client: together.Together, fake_server: FakeTogetherServer
) -> None:
    response = client.images.generate(
        model=SCHNELL,
        prompt="a quetzal, via the SDK",
        width=512,
        height=256,
        steps=4,
        seed=21,
        response_format="base64",
    )
    b64 = response.data[0].b64_json
    assert b64 is not None
    info = inspect_image(base64.b64decode(b64))
    assert (info.prompt, info.width, info.height, info.steps, info.seed) == (
        "a quetzal, via the SDK",
        512,
        256,
        4,
        21,
    )
    (call,) = fake_server.fake.calls
    assert call.path == "/v1/images/generations"
    assert call.headers["authorization"] == "Bearer ***"


def test_text_to_image_in_url_mode(
    client: together.Together, fake_server: FakeTogetherServer
) -> None:
    response = client.images.generate(model=SCHNELL, prompt="a heron", response_format="url")
    # The real API sends no "type" in url mode [REC], so the SDK keeps "url" as an extra attribute.
    url = response.data[0].url  # type: ignore[union-attr]
    assert url.startswith(f"{fake_server.origin}/shrt/")
    image = requests.get(url, headers={"User-Agent": "compat-test"}, timeout=10)
    assert image.status_code == 200
    assert inspect_image(image.content).prompt == "a heron"


def test_edit_with_an_image_url(client: together.Together, fake_server: FakeTogetherServer) -> None:
    source = png_bytes()
    data_url = "data:image/png;base64," + base64.b64encode(source).decode()
    response = client.images.generate(
        model=KONTEXT, prompt="make it blue", image_url=data_url, response_format="base64"
    )
    b64 = response.data[0].b64_json
    assert b64 is not None
    assert inspect_image(base64.b64decode(b64)).input_sha256 == hashlib.sha256(source).hexdigest()
    assert fake_server.fake.calls[0].body["image_url"] == data_url


def test_a_wrong_key_is_an_authentication_error(fake_server: FakeTogetherServer) -> None:
    with (
        together.Together(
            api_key="tgp_v1_wrong", base_url=server_base(fake_server), max_retries=0
        ) as sdk,
        pytest.raises(together.AuthenticationError) as caught,
    ):
        sdk.images.generate(model=SCHNELL, prompt="p")
    assert "invalid_api_key" in str(caught.value)


def test_rate_limit_maps_to_rate_limit_error(
    client: together.Together, fake_server: FakeTogetherServer
) -> None:
    fake_server.fake.fail_next(error="rate_limited")
    with pytest.raises(together.RateLimitError) as caught:
        client.images.generate(model=SCHNELL, prompt="p")
    assert caught.value.status_code == 429
    assert "rate limit specific to this model" in str(caught.value)
