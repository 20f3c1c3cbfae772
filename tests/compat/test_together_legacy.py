"""The legacy ``together`` Python SDK (1.x, ``requests``-based), in-process and against the fake
server.

together < 2 takes ``base_url`` with ``/v1`` and always sends ``n``, ``width`` and ``height``
(reference §2.3 [RUN]); it needs every error body to be JSON with an ``error`` object, or it fails
with a bare ``AssertionError`` (reference §0 [RUN]).
"""

from __future__ import annotations

import base64
import hashlib

import pytest
import requests
import together
from together.abstract.api_requestor import APIRequestor

from together_image_fake import FakeTogetherServer, inspect_image

from .conftest import COMPAT_KEY, Target, png_bytes

SCHNELL = "black-forest-labs/FLUX.1-schnell"
KONTEXT = "black-forest-labs/FLUX.1-kontext-pro"


def test_sdk_version_is_the_legacy_line() -> None:
    assert together.version.startswith("1.")


def legacy_client(target: Target, max_retries: int) -> together.Together:
    """The SDK at its default base URL in-process, at the server's ``…/v1`` otherwise."""
    base = {} if target.base_url is None else {"base_url": target.base_url}
    return together.Together(api_key=COMPAT_KEY, max_retries=max_retries, **base)


def test_generation_succeeds(target: Target) -> None:
    response = legacy_client(target, 0).images.generate(
        prompt="a quetzal", model=SCHNELL, width=256, height=256, response_format="base64"
    )

    assert inspect_image(base64.b64decode(response.data[0].b64_json)).prompt == "a quetzal"
    assert [call.status for call in target.fake.calls] == [200]


def test_an_unknown_model_is_the_legacy_invalid_request_error(target: Target) -> None:
    with pytest.raises(together.error.InvalidRequestError, match="Unable to access model"):
        legacy_client(target, 0).images.generate(prompt="p", model="black-forest-labs/FLUX.9")


@pytest.mark.together_fake(retry_after_s=0.001)
def test_a_503_is_retried_after_the_wait_the_fake_asks_for(
    target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []
    original = APIRequestor._calculate_retry_timeout

    def spy(self: APIRequestor, *args: object, **kwargs: object) -> float:
        wait: float = original(self, *args, **kwargs)  # type: ignore[arg-type]
        waits.append(wait)
        return wait

    monkeypatch.setattr(APIRequestor, "_calculate_retry_timeout", spy)
    target.fake.fail_next(status=503)

    legacy_client(target, 2).images.generate(prompt="p", model=SCHNELL)

    assert [call.status for call in target.fake.calls] == [503, 200]
    assert waits == [0.001]


def test_text_to_image_in_base64_and_url_mode(fake_server: FakeTogetherServer) -> None:
    client = together.Together(api_key=COMPAT_KEY, base_url=fake_server.base_url, max_retries=0)
    b64 = client.images.generate(
        prompt="a quetzal, legacy", model=SCHNELL, width=256, height=256, response_format="base64"
    )
    info = inspect_image(base64.b64decode(b64.data[0].b64_json))
    assert (info.prompt, info.width, info.height) == ("a quetzal, legacy", 256, 256)
    by_url = client.images.generate(prompt="a heron", model=SCHNELL, width=256, height=256)
    url = by_url.data[0].url
    assert url.startswith(f"{fake_server.origin}/shrt/")
    image = requests.get(url, headers={"User-Agent": "compat-test"}, timeout=10)
    assert inspect_image(image.content).prompt == "a heron"
    assert fake_server.fake.calls[0].body == {
        "prompt": "a quetzal, legacy",
        "model": SCHNELL,
        "n": 1,
        "height": 256,
        "width": 256,
        "response_format": "base64",
    }


def test_edit_with_an_image_url(fake_server: FakeTogetherServer) -> None:
    source = png_bytes()
    data_url = "data:image/png;base64," + base64.b64encode(source).decode()
    client = together.Together(api_key=COMPAT_KEY, base_url=fake_server.base_url, max_retries=0)
    response = client.images.generate(
        prompt="make it blue", model=KONTEXT, image_url=data_url, response_format="base64"
    )
    info = inspect_image(base64.b64decode(response.data[0].b64_json))
    assert info.input_sha256 == hashlib.sha256(source).hexdigest()


@pytest.mark.parametrize(
    ("key", "fields", "error", "text"),
    [
        ("tgp_v1_wrong", {"model": SCHNELL}, together.error.AuthenticationError, "Invalid API key"),
        (
            COMPAT_KEY,
            {"model": "black-forest-labs/FLUX.9-imaginary"},
            together.error.InvalidRequestError,
            "Unable to access model black-forest-labs/FLUX.9-imaginary.",
        ),
        (
            COMPAT_KEY,
            {"model": SCHNELL, "width": 100},
            together.error.InvalidRequestError,
            "Invalid value for 'width' parameter.",
        ),
    ],
)
def test_errors_map_to_the_legacy_classes(
    fake_server: FakeTogetherServer,
    key: str,
    fields: dict[str, object],
    error: type[Exception],
    text: str,
) -> None:
    client = together.Together(api_key=key, base_url=fake_server.base_url, max_retries=0)
    with pytest.raises(error) as caught:
        client.images.generate(prompt="p", **fields)
    assert text in str(caught.value)


def test_rate_limit_maps_to_rate_limit_error(fake_server: FakeTogetherServer) -> None:
    fake_server.fake.fail_next(error="rate_limited")
    client = together.Together(api_key=COMPAT_KEY, base_url=fake_server.base_url, max_retries=0)
    with pytest.raises(together.error.RateLimitError, match="Error code: 429"):
        client.images.generate(prompt="p", model=SCHNELL)


def test_retries_two_503s_and_the_log_shows_three_calls(
    fake_server: FakeTogetherServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The retry decision is the SDK's own; only its backoff (about 0.5 s, then 1 s) is shortened.
    monkeypatch.setattr(
        APIRequestor, "_calculate_retry_timeout", lambda self, remaining, headers=None: 0.01
    )
    fake_server.fake.fail_next(status=503, times=2)
    client = together.Together(api_key=COMPAT_KEY, base_url=fake_server.base_url, max_retries=2)
    response = client.images.generate(prompt="p", model=SCHNELL, response_format="base64")
    assert response.data[0].b64_json
    assert [call.status for call in fake_server.fake.calls] == [503, 503, 200]
