"""The official ``together`` Python SDK (3.x, from PyPI) against the fake server.

together >= 3 appends ``/v1`` to its base URL itself, so it is given the server's origin
(``http://HOST:PORT``), not ``base_url`` (reference §0 [RUN]).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator

import pytest
import requests
import together

from together_image_fake import FakeTogetherServer, inspect_image

from .conftest import COMPAT_KEY, png_bytes

SCHNELL = "black-forest-labs/FLUX.1-schnell"
KONTEXT = "black-forest-labs/FLUX.1-kontext-pro"


@pytest.fixture
def client(fake_server: FakeTogetherServer) -> Iterator[together.Together]:
    with together.Together(api_key=COMPAT_KEY, base_url=fake_server.origin, max_retries=0) as sdk:
        yield sdk


def test_sdk_version_is_the_pinned_3x() -> None:
    assert together.__version__.startswith("3.")


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
    assert call.headers["user-agent"].startswith("Together/Python 3.")
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


@pytest.mark.parametrize(
    ("key", "fields", "error", "text"),
    [
        ("tgp_v1_wrong", {"model": SCHNELL}, together.AuthenticationError, "invalid_api_key"),
        (
            COMPAT_KEY,
            {"model": "black-forest-labs/FLUX.9-imaginary"},
            together.NotFoundError,
            "Unable to access model black-forest-labs/FLUX.9-imaginary.",
        ),
        (
            COMPAT_KEY,
            {"model": SCHNELL, "width": 100},
            together.BadRequestError,
            "Invalid value for 'width' parameter.",
        ),
    ],
)
def test_errors_map_to_the_sdk_classes(
    fake_server: FakeTogetherServer,
    key: str,
    fields: dict[str, object],
    error: type[together.APIStatusError],
    text: str,
) -> None:
    with (
        together.Together(api_key=key, base_url=fake_server.origin, max_retries=0) as sdk,
        pytest.raises(error) as caught,
    ):
        sdk.images.generate(prompt="p", **fields)  # type: ignore[arg-type]
    assert text in str(caught.value)
    assert [call.status for call in fake_server.fake.calls] == [caught.value.status_code]


def test_rate_limit_maps_to_rate_limit_error(
    client: together.Together, fake_server: FakeTogetherServer
) -> None:
    fake_server.fake.fail_next(error="rate_limited")
    with pytest.raises(together.RateLimitError) as caught:
        client.images.generate(model=SCHNELL, prompt="p")
    assert caught.value.status_code == 429
    assert "rate limit specific to this model" in str(caught.value)


def test_sdk_retries_two_503s_and_the_log_shows_three_calls(
    fake_server: FakeTogetherServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The retry decision is the SDK's own; only its backoff (about 1 s, then 2 s) is shortened.
    monkeypatch.setattr(
        together._base_client.SyncAPIClient,
        "_calculate_retry_timeout",
        lambda self, remaining, options, headers: 0.01,
    )
    fake_server.fake.fail_next(status=503, times=2)
    with together.Together(api_key=COMPAT_KEY, base_url=fake_server.origin, max_retries=2) as sdk:
        response = sdk.images.generate(model=SCHNELL, prompt="p", response_format="base64")
    assert response.data[0].b64_json
    calls = fake_server.fake.calls
    assert [call.status for call in calls] == [503, 503, 200]
    assert [call.headers["x-stainless-retry-count"] for call in calls] == ["0", "1", "2"]
