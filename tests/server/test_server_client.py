"""Our own client against the real fake over HTTP: the scenarios the compat tests give the SDKs."""

from __future__ import annotations

import hashlib
import io
import json

import pytest
import requests
from PIL import Image

from together_image import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    RateLimitError,
    TogetherImageClient,
    create_togetherai,
    generate_image,
)
from together_image_fake import inspect_image
from together_image_fake._server import FakeTogetherServer

from .conftest import SERVER_KEY

SCHNELL = "black-forest-labs/FLUX.1-schnell"
KONTEXT = "black-forest-labs/FLUX.1-kontext-pro"


def png_bytes(color: tuple[int, int, int] = (200, 30, 90)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buffer, format="PNG")
    return buffer.getvalue()


def test_text_to_image_with_size_and_provider_options(fake_server: FakeTogetherServer) -> None:
    provider = create_togetherai(api_key=SERVER_KEY, base_url=fake_server.base_url)
    result = generate_image(
        model=provider.image(SCHNELL),
        prompt="a quetzal in the rain",
        size="512x256",
        seed=5,
        provider_options={"togetherai": {"steps": 4}},
    )
    info = inspect_image(result.image.data)
    assert (info.model, info.prompt, info.width, info.height, info.steps, info.seed) == (
        SCHNELL,
        "a quetzal in the rain",
        512,
        256,
        4,
        5,
    )
    (call,) = fake_server.fake.calls
    assert call.body == {
        "model": SCHNELL,
        "prompt": "a quetzal in the rain",
        "seed": 5,
        "width": 512,
        "height": 256,
        "response_format": "base64",
        "steps": 4,
    }
    assert call.headers["authorization"] == "Bearer ***"


def test_url_mode_points_back_at_the_server(fake_server: FakeTogetherServer) -> None:
    client = TogetherImageClient(api_key=SERVER_KEY, base_url=fake_server.base_url)
    response = client.images.generate(model=SCHNELL, prompt="a heron", response_format="url")
    url = response.data[0].url
    assert url is not None
    assert url.startswith(f"{fake_server.origin}/shrt/")
    image = requests.get(url, headers={"User-Agent": "server-test"}, timeout=5)
    assert image.headers["Content-Type"] == "image/jpeg"
    assert inspect_image(image.content).prompt == "a heron"
    # The real CDN refuses a blank User-Agent [DOCS2026]; so does the fake behind the server.
    assert requests.get(url, headers={"User-Agent": ""}, timeout=5).status_code == 403


def test_edit_with_bytes_records_the_input_image(fake_server: FakeTogetherServer) -> None:
    source = png_bytes()
    provider = create_togetherai(api_key=SERVER_KEY, base_url=fake_server.base_url)
    result = generate_image(
        model=provider.image(KONTEXT), prompt={"text": "make it blue", "images": [source]}
    )
    assert inspect_image(result.image.data).input_sha256 == hashlib.sha256(source).hexdigest()
    (call,) = fake_server.fake.calls
    assert call.body["image_url"].startswith("data:image/png;base64,")
    assert call.input_image == source


def test_n_three_makes_three_calls(fake_server: FakeTogetherServer) -> None:
    provider = create_togetherai(api_key=SERVER_KEY, base_url=fake_server.base_url)
    result = generate_image(model=provider.image(SCHNELL), prompt="three birds", n=3)
    assert len(result.images) == 3
    assert len(result.responses) == 3
    assert [call.status for call in fake_server.fake.calls] == [200, 200, 200]


@pytest.mark.parametrize(
    ("key", "model", "size", "error", "message"),
    [
        ("tgp_v1_wrong", SCHNELL, None, AuthenticationError, "Invalid API key provided."),
        (
            SERVER_KEY,
            "black-forest-labs/FLUX.9-imaginary",
            None,
            NotFoundError,
            "Unable to access model black-forest-labs/FLUX.9-imaginary. Please visit "
            "https://api.together.ai/models to view the list of supported models.",
        ),
        (SERVER_KEY, SCHNELL, "100x100", BadRequestError, "Invalid value for 'width' parameter."),
    ],
)
def test_errors_map_to_the_client_classes(
    fake_server: FakeTogetherServer,
    key: str,
    model: str,
    size: str | None,
    error: type[Exception],
    message: str,
) -> None:
    provider = create_togetherai(api_key=key, base_url=fake_server.base_url)
    with pytest.raises(error) as caught:
        generate_image(model=provider.image(model), prompt="p", size=size, max_retries=0)
    assert message in str(caught.value)
    assert "tgp_v1_wrong" not in str(caught.value)


def test_rate_limit_fault_maps_to_rate_limit_error(fake_server: FakeTogetherServer) -> None:
    fake_server.fake.fail_next(error="rate_limited")
    provider = create_togetherai(api_key=SERVER_KEY, base_url=fake_server.base_url)
    with pytest.raises(RateLimitError) as caught:
        generate_image(model=provider.image(SCHNELL), prompt="p", max_retries=0)
    assert caught.value.status_code == 429
    assert caught.value.response_headers["retry-after"] == "10"


def test_retries_after_two_503s_are_in_the_call_log(fake_server: FakeTogetherServer) -> None:
    fake_server.fake.fail_next(status=503, times=2)
    waits: list[float] = []
    provider = create_togetherai(api_key=SERVER_KEY, base_url=fake_server.base_url)
    result = generate_image(model=provider.image(SCHNELL), prompt="p", sleep=waits.append)
    assert len(result.images) == 1
    assert [call.status for call in fake_server.fake.calls] == [503, 503, 200]
    assert len(waits) == 2


def test_faults_queued_over_the_control_api_reach_the_client(
    fake_server: FakeTogetherServer,
) -> None:
    queued = requests.post(
        f"{fake_server.origin}/_fake/faults", json={"kind": "reset", "times": 1}, timeout=5
    )
    assert queued.status_code == 200
    provider = create_togetherai(api_key=SERVER_KEY, base_url=fake_server.base_url)
    with pytest.raises(APIConnectionError):
        generate_image(model=provider.image(SCHNELL), prompt="p", max_retries=0)
    calls = requests.get(f"{fake_server.origin}/_fake/calls", timeout=5).json()
    assert [(call["path"], call["status"]) for call in calls] == [("/v1/images/generations", 0)]
    assert calls[0]["headers"]["authorization"] == "Bearer ***"
    assert SERVER_KEY not in json.dumps(calls)
    assert requests.post(f"{fake_server.origin}/_fake/reset", timeout=5).status_code == 200
    assert fake_server.fake.calls == []


def test_timeout_fault_times_the_client_out(fake_server: FakeTogetherServer) -> None:
    fake_server.fake.fail_next(kind="timeout")
    provider = create_togetherai(api_key=SERVER_KEY, base_url=fake_server.base_url, timeout=0.2)
    with pytest.raises(APITimeoutError):
        generate_image(model=provider.image(SCHNELL), prompt="p", max_retries=0)


def test_models_route_lists_image_models(fake_server: FakeTogetherServer) -> None:
    response = requests.get(
        f"{fake_server.base_url}/models",
        headers={"Authorization": f"Bearer {SERVER_KEY}"},
        timeout=5,
    )
    assert response.status_code == 200
    assert SCHNELL in {model["id"] for model in response.json()}


def test_doubled_v1_prefix_is_an_unknown_route(fake_server: FakeTogetherServer) -> None:
    # together>=3 appends /v1 itself: given base ".../v1" it calls /v1/v1/..., which the real API
    # does not serve either, so the fake answers 404 instead of hiding the misconfiguration.
    response = requests.post(
        f"{fake_server.origin}/v1/v1/images/generations",
        json={"model": SCHNELL, "prompt": "p"},
        headers={"Authorization": f"Bearer {SERVER_KEY}"},
        timeout=5,
    )
    assert response.status_code == 404
    assert "POST /v1/images/generations" in response.json()["error"]["message"]
