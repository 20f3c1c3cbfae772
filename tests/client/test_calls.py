"""The AI SDK 7 result surface (``calls``, ``provider_metadata``, ``usage``), empty answers retried,
409 as ``ConflictError`` and URL-mode answers downloaded: through ``responses`` and the fake."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from typing import Any

import pytest
import requests
import responses

from together_image import (
    APICallError,
    ConflictError,
    GeneratedImage,
    GenerateImageCall,
    ImageModelResult,
    ImageUsage,
    InvalidResponseDataError,
    NoImageGeneratedError,
    NotFoundError,
    ResponseMetadata,
    ResponseTooLargeError,
    RetryError,
    TogetherAIImageModel,
    create_togetherai,
    generate_image,
)
from together_image._generate import merge_provider_metadata
from together_image_fake import FakeTogether, inspect_image

from ._support import (
    API_KEY,
    BASE_URL,
    ENDPOINT,
    JPEG,
    JPEG_B64,
    MODEL_ID,
    PNG,
    PNG_B64,
    RESPONSE_ID,
    sent_json,
    sent_timeout,
    success_body,
)

EMPTY = {"id": RESPONSE_ID, "model": MODEL_ID, "object": "list", "data": []}
SCHNELL = "black-forest-labs/FLUX.1-schnell"
IMAGE_URL = "https://api.together.ai/shrt/AbCdEfGhIjKlMnOp"


def tagged(tag: int) -> str:
    return base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes([tag])).decode()


# --- result.calls, provider_metadata, usage ------------------------------------------------------


def test_calls_hold_one_entry_per_provider_call_in_call_order(
    api: responses.RequestsMock, model: TogetherAIImageModel
) -> None:
    for tag in range(3):
        api.post(ENDPOINT, json=success_body(tagged(tag)), headers={"x-request-id": f"req-{tag}"})
    result = generate_image(model=model, prompt="p", n=3, size="64x64")
    assert len(result.calls) == 3
    assert all(isinstance(call, GenerateImageCall) for call in result.calls)
    # Each call carries its own images, warnings and response, and the result's lists are theirs.
    assert [call.images[0].base64 for call in result.calls] == [
        image.base64 for image in result.images
    ]
    assert sorted(image.base64 for image in result.images) == [tagged(tag) for tag in range(3)]
    assert [call.response for call in result.calls] == list(result.responses)
    assert [warning for call in result.calls for warning in call.warnings] == list(result.warnings)
    assert all(len(call.warnings) == 0 for call in result.calls)
    # As upstream for Together: no provider metadata, no usage.
    assert all(call.provider_metadata == {} for call in result.calls)
    assert all(call.usage is None for call in result.calls)
    assert result.provider_metadata == {}
    assert result.usage == ImageUsage(input_tokens=None, output_tokens=None, total_tokens=None)


def test_each_call_keeps_its_own_warnings(api: responses.RequestsMock) -> None:
    # FLUX.1 [dev] takes no aspect_ratio (per the model table): a warning per call.
    model = create_togetherai(api_key=API_KEY, base_url=BASE_URL).image(
        "black-forest-labs/FLUX.1-dev"
    )
    api.post(ENDPOINT, json=success_body())
    result = generate_image(model=model, prompt="p", n=2, aspect_ratio="16:9")
    assert [len(call.warnings) for call in result.calls] == [1, 1]
    assert result.warnings == result.calls[0].warnings + result.calls[1].warnings


class MeteredModel:
    """A model protocol implementation reporting usage and provider metadata, as others may."""

    model_id = "metered/model"
    max_images_per_call = 1

    def __init__(self) -> None:
        self.calls = 0

    def do_generate(self, **arguments: Any) -> ImageModelResult:
        self.calls += 1
        return ImageModelResult(
            images=(tagged(self.calls),),
            warnings=(),
            response=ResponseMetadata(timestamp=datetime.now(timezone.utc), model_id="m"),
            provider_metadata={"metered": {"images": [{"call": self.calls}], "region": "eu"}},
            usage=ImageUsage(input_tokens=10, output_tokens=None, total_tokens=5),
        )


def test_usage_is_summed_and_provider_metadata_merged_across_calls() -> None:
    result = generate_image(model=MeteredModel(), prompt="p", n=2)
    assert result.usage == ImageUsage(input_tokens=20, output_tokens=None, total_tokens=10)
    assert result.provider_metadata == {
        "metered": {"images": [{"call": 1}, {"call": 2}], "region": "eu"}
    }


def test_provider_metadata_merge_concatenates_images_and_keeps_the_latest_values() -> None:
    merged = merge_provider_metadata(
        [{"a": {"images": [1], "x": 1}}, {"a": {"images": [2], "x": 2}, "b": {"y": None}}]
    )
    assert merged == {"a": {"images": [1, 2], "x": 2}, "b": {"y": None}}


def test_calls_through_the_fake() -> None:
    with FakeTogether(seed=3, rate_limits="off") as fake:
        model = create_togetherai(api_key=API_KEY).image(SCHNELL)
        result = generate_image(model=model, prompt="a quetzal", size="256x256", n=2, seed=3)
    assert len(result.calls) == 2
    answered = {str(call.response_id) for call in fake.calls}
    for call in result.calls:
        (image,) = call.images
        assert inspect_image(image.data).prompt == "a quetzal"
        assert str(inspect_image(image.data).request_id) in answered
        assert call.response.headers["x-request-id"] == str(inspect_image(image.data).request_id)


# --- empty answers are retried -------------------------------------------------------------------


def test_an_empty_answer_is_retried_like_a_failed_call(
    api: responses.RequestsMock, model: TogetherAIImageModel, delays: list[float]
) -> None:
    api.post(ENDPOINT, json=EMPTY)
    api.post(ENDPOINT, json=success_body(PNG_B64))
    result = generate_image(model=model, prompt="p", sleep=delays.append)
    assert len(api.calls) == 2
    assert delays == [2.0]
    assert result.image.data == PNG
    # As the AI SDK 7: every answer is a call, the empty one included.
    assert [len(call.images) for call in result.calls] == [0, 1]
    assert len(result.responses) == 2


def test_always_empty_answers_end_in_no_image_generated_with_every_call(
    api: responses.RequestsMock, model: TogetherAIImageModel, delays: list[float]
) -> None:
    api.post(ENDPOINT, json=EMPTY)
    with pytest.raises(NoImageGeneratedError, match=r"^No image generated\.$") as raised:
        generate_image(model=model, prompt="p", max_retries=2, sleep=delays.append)
    assert len(api.calls) == 3
    assert delays == [2.0, 4.0]
    assert len(raised.value.calls) == 3
    assert len(raised.value.responses) == 3
    assert all(call.images == () for call in raised.value.calls)


def test_an_empty_answer_then_an_error_is_a_retry_error(
    api: responses.RequestsMock, model: TogetherAIImageModel, delays: list[float]
) -> None:
    api.post(ENDPOINT, json=EMPTY)
    api.post(ENDPOINT, json={"error": {"message": "bad"}}, status=400)
    with pytest.raises(RetryError) as raised:
        generate_image(model=model, prompt="p", sleep=delays.append)
    assert raised.value.reason == "error_not_retryable"
    first, last = raised.value.errors
    assert isinstance(first, NoImageGeneratedError)
    assert isinstance(last, APICallError)


def test_one_empty_call_among_several_keeps_the_others_images(
    api: responses.RequestsMock, model: TogetherAIImageModel
) -> None:
    api.post(ENDPOINT, json=success_body(JPEG_B64))
    api.post(ENDPOINT, json=EMPTY)
    result = generate_image(model=model, prompt="p", n=2, max_retries=0)
    assert [image.data for image in result.images] == [JPEG]
    assert sorted(len(call.images) for call in result.calls) == [0, 1]


# --- 409 -----------------------------------------------------------------------------------------


def test_409_is_a_retryable_conflict_error(
    api: responses.RequestsMock, model: TogetherAIImageModel, delays: list[float]
) -> None:
    api.post(ENDPOINT, json={"error": {"message": "conflict"}}, status=409)
    api.post(ENDPOINT, json=success_body())
    result = generate_image(model=model, prompt="p", sleep=delays.append)
    assert delays == [2.0]
    assert len(result.images) == 1
    api.post(ENDPOINT, json={"error": {"message": "conflict"}}, status=409)
    with pytest.raises(ConflictError) as raised:
        generate_image(model=model, prompt="p", max_retries=0)
    assert raised.value.status_code == 409
    assert raised.value.is_retryable is True


def test_409_through_the_fake(delays: list[float]) -> None:
    with FakeTogether(rate_limits="off") as fake:
        fake.fail_next(status=409)
        model = create_togetherai(api_key=API_KEY).image(SCHNELL)
        with pytest.raises(ConflictError):
            generate_image(model=model, prompt="p", size="256x256", max_retries=0)
        fake.fail_next(status=409)
        result = generate_image(model=model, prompt="p", size="256x256", sleep=delays.append)
    assert len(result.images) == 1
    assert delays == [2.0]


# --- URL-mode answers are downloaded -------------------------------------------------------------


URL_MODE = {"togetherai": {"response_format": "url"}}


def url_body(*urls: str) -> dict[str, Any]:
    return {
        "id": RESPONSE_ID,
        "model": MODEL_ID,
        "object": "list",
        "data": [{"index": index, "url": url} for index, url in enumerate(urls)],
    }


def test_url_mode_answers_are_downloaded_without_the_key(
    api: responses.RequestsMock, model: TogetherAIImageModel
) -> None:
    api.post(ENDPOINT, json=url_body(IMAGE_URL, IMAGE_URL + "2"))
    api.get(IMAGE_URL, body=PNG, content_type="image/png")
    api.get(IMAGE_URL + "2", body=JPEG, content_type="image/jpeg")
    result = generate_image(
        model=model, prompt="p", provider_options=URL_MODE, headers={"X-Trace": "t1"}
    )
    assert sent_json(api.calls[0])["response_format"] == "url"
    assert [image.data for image in result.images] == [PNG, JPEG]
    assert [image.media_type for image in result.images] == ["image/png", "image/jpeg"]
    for download in api.calls[1:]:
        assert download.request.method == "GET"
        headers = {name.lower(): value for name, value in download.request.headers.items()}
        assert "authorization" not in headers
        assert "x-trace" not in headers
        assert API_KEY not in json.dumps(headers)
        assert headers["accept"] == "image/*"


def test_a_session_authorization_never_reaches_the_image_host(
    api: responses.RequestsMock,
) -> None:
    session = requests.Session()
    session.headers["Authorization"] = "Bearer session-secret"
    model = create_togetherai(api_key=API_KEY, base_url=BASE_URL, session=session).image(MODEL_ID)
    api.post(ENDPOINT, json=url_body(IMAGE_URL))
    api.get(IMAGE_URL, body=PNG)
    result = generate_image(model=model, prompt="p", provider_options=URL_MODE)
    assert result.image.data == PNG
    assert api.calls[0].request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert "Authorization" not in api.calls[1].request.headers


def test_url_mode_downloads_are_bounded_and_typed(api: responses.RequestsMock) -> None:
    model = create_togetherai(
        api_key=API_KEY, base_url=BASE_URL, max_response_bytes=len(PNG) + 10
    ).image(MODEL_ID)
    api.post(ENDPOINT, json=url_body(IMAGE_URL))
    api.get(IMAGE_URL, body=PNG + b"\x00" * 100)
    with pytest.raises(ResponseTooLargeError):
        generate_image(model=model, prompt="p", provider_options=URL_MODE, max_retries=0)


@pytest.mark.parametrize(
    ("answer", "error", "message"),
    [
        ({"status": 404, "body": "gone"}, NotFoundError, "Not Found"),
        ({"status": 200, "body": b"<html>cdn</html>"}, InvalidResponseDataError, "not an image"),
    ],
)
def test_a_failed_download_is_a_typed_error(
    api: responses.RequestsMock,
    model: TogetherAIImageModel,
    answer: dict[str, Any],
    error: type[Exception],
    message: str,
) -> None:
    api.post(ENDPOINT, json=url_body(IMAGE_URL))
    api.get(IMAGE_URL, **answer)
    with pytest.raises(error, match=message) as raised:
        generate_image(model=model, prompt="p", provider_options=URL_MODE, max_retries=0)
    assert getattr(raised.value, "url", None) == IMAGE_URL


def test_without_url_mode_an_url_answer_still_says_what_to_do(
    api: responses.RequestsMock, model: TogetherAIImageModel
) -> None:
    api.post(ENDPOINT, json=url_body(IMAGE_URL))
    with pytest.raises(InvalidResponseDataError, match="response_format 'url' through provider"):
        generate_image(model=model, prompt="p", max_retries=0)
    assert len(api.calls) == 1


def test_url_mode_through_the_fake() -> None:
    with FakeTogether(seed=5, rate_limits="off") as fake:
        model = create_togetherai(api_key=API_KEY).image(SCHNELL)
        result = generate_image(
            model=model, prompt="a quetzal", size="256x256", provider_options=URL_MODE
        )
    assert isinstance(result.image, GeneratedImage)
    assert result.image.media_type == "image/jpeg"
    assert inspect_image(result.image.data).prompt == "a quetzal"
    assert fake.calls[0].body["response_format"] == "url"


def test_url_mode_downloads_take_the_calls_timeout(
    api: responses.RequestsMock, model: TogetherAIImageModel
) -> None:
    api.post(ENDPOINT, json=url_body(IMAGE_URL))
    api.get(IMAGE_URL, body=PNG)
    generate_image(model=model, prompt="p", provider_options=URL_MODE, timeout=7.5)
    post_timeout, get_timeout = (sent_timeout(call) for call in api.calls)
    # Each request gets what is left of its own 7.5 s deadline.
    assert isinstance(get_timeout, float)
    assert 0 < get_timeout <= 7.5
    assert isinstance(post_timeout, float)
    assert 0 < post_timeout <= 7.5
