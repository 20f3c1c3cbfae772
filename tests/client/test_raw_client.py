"""The low-level ``TogetherImageClient``: verbatim fields in, typed ``ImageResponse`` out."""

from __future__ import annotations

import pytest
import responses

from together_image import (
    ImageResponse,
    ImageResponseData,
    InvalidArgumentError,
    InvalidResponseDataError,
    NotFoundError,
    TogetherImageClient,
)

from ._support import API_KEY, BASE_URL, ENDPOINT, JPEG_B64, MODEL_ID, sent_json, sent_timeout

URL_MODE_BODY = {
    "id": "omJKGKg-2kFHot-a046745b3835a2b4-SEA",
    "model": MODEL_ID,
    "object": "list",
    "data": [
        {
            "index": 0,
            "url": "https://api.together.ai/shrt/fFbG3zT1MyXkcYlS",
            "timings": {"inference": 0.11013310612179339},
        }
    ],
}


@pytest.fixture
def client() -> TogetherImageClient:
    return TogetherImageClient(api_key=API_KEY, base_url=BASE_URL, max_retries=0)


def test_url_mode_response_is_typed(
    api: responses.RequestsMock, client: TogetherImageClient
) -> None:
    api.post(ENDPOINT, json=URL_MODE_BODY)
    response = client.images.generate(model=MODEL_ID, prompt="a quetzal", response_format="url")
    assert response == ImageResponse(
        id="omJKGKg-2kFHot-a046745b3835a2b4-SEA",
        model=MODEL_ID,
        object="list",
        data=(
            ImageResponseData(
                index=0,
                url="https://api.together.ai/shrt/fFbG3zT1MyXkcYlS",
                timings={"inference": 0.11013310612179339},
            ),
        ),
    )
    assert sent_json(api.calls[0]) == {
        "model": MODEL_ID,
        "prompt": "a quetzal",
        "response_format": "url",
    }


def test_mixed_items_type_field_and_unknown_keys(
    api: responses.RequestsMock, client: TogetherImageClient
) -> None:
    api.post(
        ENDPOINT,
        json={
            "id": "x",
            "object": "list",
            "created": 1700000000,
            "data": [
                {
                    "timings": {"inference": 1719},
                    "index": 0,
                    "b64_json": JPEG_B64,
                    "type": "b64_json",
                },
                {"index": 1, "url": "https://cdn.test/1", "type": "url", "revised_prompt": None},
            ],
        },
    )
    response = client.images.generate(model=MODEL_ID, prompt="p")
    first, second = response.data
    assert (first.b64_json, first.type, first.timings) == (
        JPEG_B64,
        "b64_json",
        {"inference": 1719},
    )
    assert (second.url, second.type, second.extra) == (
        "https://cdn.test/1",
        "url",
        {"revised_prompt": None},
    )
    assert response.model is None
    assert response.extra == {"created": 1700000000}
    assert JPEG_B64 not in repr(first)  # megabytes of base64 stay out of reprs


def test_fields_are_sent_verbatim_including_none(
    api: responses.RequestsMock, client: TogetherImageClient
) -> None:
    api.post(ENDPOINT, json=URL_MODE_BODY)
    client.images.generate(
        model=MODEL_ID,
        prompt="p",
        steps=4,
        n=2,
        negative_prompt=None,
        image_loras=[{"path": "https://hf.test/l", "scale": 1}],
        extra_headers={"X-Call": "1"},
        timeout=3,
    )
    call = api.calls[0]
    assert sent_json(call) == {
        "model": MODEL_ID,
        "prompt": "p",
        "steps": 4,
        "n": 2,
        "negative_prompt": None,
        "image_loras": [{"path": "https://hf.test/l", "scale": 1}],
    }
    assert call.request.headers["X-Call"] == "1"
    assert 0 < sent_timeout(call) <= 3.0  # what is left of the deadline


def test_errors_and_invalid_bodies(
    api: responses.RequestsMock, client: TogetherImageClient
) -> None:
    api.post(
        ENDPOINT,
        json={"error": {"message": "Unable to access model bad", "code": "model_not_available"}},
        status=404,
    )
    with pytest.raises(NotFoundError, match="code=model_not_available"):
        client.images.generate(model="bad", prompt="p")
    api.post(ENDPOINT, json={"data": None})
    with pytest.raises(InvalidResponseDataError, match="'data' to be a list"):
        client.images.generate(model=MODEL_ID, prompt="p")


def test_unserializable_fields_raise_before_sending(
    api: responses.RequestsMock, client: TogetherImageClient
) -> None:
    with pytest.raises(InvalidArgumentError, match="JSON-serializable"):
        client.images.generate(model=MODEL_ID, prompt="p", steps={1, 2})
    assert len(api.calls) == 0


@pytest.mark.parametrize("max_retries", [-1, 1.5, None])
def test_max_retries_is_checked(max_retries: object) -> None:
    with pytest.raises(InvalidArgumentError, match="max_retries must be an integer >= 0"):
        TogetherImageClient(api_key=API_KEY, max_retries=max_retries)  # type: ignore[arg-type]


def test_repr_names_settings_but_not_the_key() -> None:
    assert repr(TogetherImageClient(api_key=API_KEY, base_url=BASE_URL)) == (
        f"TogetherImageClient(base_url='{BASE_URL}', api_key=<given>, timeout=60.0)"
    )
    assert repr(TogetherImageClient()) == (
        "TogetherImageClient(base_url=None, api_key=<from environment>, timeout=60.0)"
    )
