"""The client against a misbehaving server on loopback: huge, endless, compressed and slow answers,
keys HTTP cannot carry, deeply nested JSON, and bytes that are no image."""

from __future__ import annotations

import io
import json
import tracemalloc
from typing import Any

import pytest
import requests
import requests.adapters
import responses

from together_image import (
    APITimeoutError,
    BadRequestError,
    GeneratedImage,
    InvalidArgumentError,
    InvalidDataContentError,
    InvalidResponseDataError,
    ResponseTooLargeError,
    TogetherImageClient,
    TogetherImageError,
    create_togetherai,
    generate_image,
)
from together_image._config import DEFAULT_MAX_RESPONSE_BYTES

from ._hostile import Handler, endless_chunks, gzip_bomb, gzipped, hostile_server, trickle
from ._support import API_KEY, BASE_URL, ENDPOINT, MODEL_ID, PNG, PNG_B64, success_body

MIB = 1024 * 1024
SUCCESS = json.dumps(success_body(PNG_B64)).encode()


def model_at(base_url: str, **settings: Any) -> Any:
    return create_togetherai(api_key=API_KEY, base_url=base_url, **settings).image(MODEL_ID)


# --- size ---------------------------------------------------------------------------------------


def test_an_endless_body_stops_at_max_response_bytes() -> None:
    with hostile_server(endless_chunks) as (base_url, tally):
        model = model_at(base_url, max_response_bytes=MIB)
        with pytest.raises(ResponseTooLargeError, match="max_response_bytes=1048576") as raised:
            generate_image(model=model, prompt="p", max_retries=0)
        assert tally.finished.wait(10)
    assert raised.value.is_retryable is False
    assert raised.value.status_code == 200
    # Reading stopped near the limit instead of going on for the server's 64 MiB.
    assert tally.bytes_sent < 16 * MIB


def test_a_declared_large_body_is_refused_by_the_raw_client_too() -> None:
    def large(handler: Handler) -> None:
        handler.head(200, Content_Type="application/json", Content_Length=str(8 * MIB))
        for _ in range(128):
            handler.send(b" " * 65536)

    with hostile_server(large) as (base_url, _):
        client = TogetherImageClient(
            api_key=API_KEY, base_url=base_url, max_retries=0, max_response_bytes=MIB
        )
        with pytest.raises(ResponseTooLargeError, match="larger than max_response_bytes"):
            client.images.generate(model=MODEL_ID, prompt="p")


def test_a_gzip_bomb_is_bounded_by_its_decoded_size() -> None:
    bomb = gzip_bomb(256 * MIB)  # about 256 KiB on the wire

    def answer(handler: Handler) -> None:
        handler.head(
            200,
            Content_Type="application/json",
            Content_Encoding="gzip",
            Content_Length=str(len(bomb)),
        )
        handler.send(bomb)

    with hostile_server(answer) as (base_url, _):
        model = model_at(base_url, max_response_bytes=4 * MIB)
        tracemalloc.start()
        try:
            with pytest.raises(ResponseTooLargeError, match="after gzip decoding"):
                generate_image(model=model, prompt="p", max_retries=0)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    # Decoding stopped at the limit: nowhere near the 256 MiB the bomb unpacks to.
    assert peak < 32 * MIB


def test_a_gzip_answer_within_the_limit_is_decoded() -> None:
    body = gzipped(SUCCESS)

    def answer(handler: Handler) -> None:
        handler.head(
            200,
            Content_Type="application/json",
            Content_Encoding="gzip",
            Content_Length=str(len(body)),
        )
        handler.send(body)

    with hostile_server(answer) as (base_url, tally):
        result = generate_image(model=model_at(base_url), prompt="p", max_retries=0)
    assert result.image.data == PNG
    assert tally.headers[0]["accept-encoding"] == "gzip, deflate"


def test_the_default_limit_holds_a_4k_image_as_base64() -> None:
    # A 4096x4096 RGBA PNG of noise: 64 MiB of pixels, a third more as base64, plus JSON.
    worst_4k_png_base64 = 4096 * 4096 * 4 * 4 // 3
    assert worst_4k_png_base64 + 1024 < DEFAULT_MAX_RESPONSE_BYTES
    assert DEFAULT_MAX_RESPONSE_BYTES <= 256 * MIB


@pytest.mark.parametrize("limit", [0, -1, 1.5, "1", True, None])
def test_max_response_bytes_must_be_a_positive_int(limit: Any) -> None:
    with pytest.raises(InvalidArgumentError, match="max_response_bytes"):
        create_togetherai(api_key=API_KEY, max_response_bytes=limit)
    with pytest.raises(InvalidArgumentError, match="max_response_bytes"):
        TogetherImageClient(api_key=API_KEY, max_response_bytes=limit)


def test_an_error_answer_is_bounded_too(api: responses.RequestsMock) -> None:
    api.post(ENDPOINT, status=500, body=b"x" * (2 * MIB))
    model = create_togetherai(api_key=API_KEY, base_url=BASE_URL, max_response_bytes=MIB).image(
        MODEL_ID
    )
    with pytest.raises(ResponseTooLargeError) as raised:
        generate_image(model=model, prompt="p", max_retries=0)
    assert raised.value.status_code == 500


# --- time ---------------------------------------------------------------------------------------


def test_timeout_is_a_deadline_for_the_whole_answer() -> None:
    # Each byte arrives well within the timeout, so a limit per read would never fire and the
    # call would succeed after about 4 s; the deadline ends it.
    def slow(handler: Handler) -> None:
        trickle(handler, SUCCESS, at_once=len(SUCCESS) - 20, gap_s=0.2)

    with hostile_server(slow) as (base_url, tally):
        with pytest.raises(APITimeoutError, match=r"timed out after 1\.0 s") as raised:
            generate_image(model=model_at(base_url, timeout=1.0), prompt="p", max_retries=0)
        assert tally.finished.wait(10)
    assert raised.value.is_retryable is True


# --- keys and errors that must stay typed --------------------------------------------------------


ZERO_WIDTH_KEY = "tgp_v1_abc\u200bdefghijklmnop"


def test_a_key_with_a_non_latin1_character_is_refused_at_creation() -> None:
    with pytest.raises(InvalidArgumentError) as raised:
        create_togetherai(api_key=ZERO_WIDTH_KEY)
    message = str(raised.value)
    assert "U+200B (ZERO WIDTH SPACE) at position 10" in message
    assert raised.value.argument == "api_key"
    assert "abc" not in message
    assert "defghijklmnop" not in message
    assert "abc" not in repr(raised.value)


def test_a_key_from_the_environment_is_checked_before_any_request(
    api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOGETHER_API_KEY", ZERO_WIDTH_KEY)
    model = create_togetherai(base_url=BASE_URL).image(MODEL_ID)
    with pytest.raises(InvalidArgumentError, match="TOGETHER_API_KEY contains U\\+200B") as raised:
        generate_image(model=model, prompt="p")
    assert len(api.calls) == 0
    assert "defghijklmnop" not in str(raised.value)
    assert raised.value.__cause__ is None
    assert raised.value.__context__ is None


def test_a_header_value_http_cannot_carry_is_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="Authorization") as raised:
        create_togetherai(headers={"Authorization": "Bearer k\u2028ey-secret"})
    assert "secret" not in str(raised.value)


def test_deeply_nested_json_in_a_success_is_invalid_response_data(
    api: responses.RequestsMock, model: Any
) -> None:
    api.post(ENDPOINT, body="[" * 200_000 + "]" * 200_000)
    with pytest.raises(InvalidResponseDataError, match="nested too deeply"):
        generate_image(model=model, prompt="p", max_retries=0)


def test_deeply_nested_json_in_an_error_keeps_the_status_error(
    api: responses.RequestsMock, model: Any
) -> None:
    api.post(ENDPOINT, status=400, body='{"error":' * 200_000)
    with pytest.raises(BadRequestError) as raised:
        generate_image(model=model, prompt="p", max_retries=0)
    assert raised.value.data is None


# --- bytes that are no image -------------------------------------------------------------------


def test_bytes_that_are_no_image_give_a_message_without_object_reprs() -> None:
    image = GeneratedImage(base64="bm90IGFuIGltYWdl")  # "not an image"
    with pytest.raises(InvalidDataContentError) as raised:
        image.to_pil()
    message = str(raised.value)
    assert "object at 0x" not in message
    assert "<_io" not in message
    assert "12 bytes" in message
    assert isinstance(raised.value, TogetherImageError)


class _StandInRawAdapter(requests.adapters.BaseAdapter):
    """Answers with a plain file object as ``raw``, as recorders such as vcrpy do: its read1
    takes no ``decode_content`` keyword."""

    def __init__(self, body: bytes) -> None:
        super().__init__()
        self.body = body

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        response = requests.Response()
        response.status_code = 200
        response.headers["Content-Type"] = "application/json; charset=utf-8"
        response.raw = io.BytesIO(self.body)
        response.url = str(request.url)
        response.request = request
        return response

    def close(self) -> None:
        """Nothing to close."""


def test_a_stand_in_raw_stream_is_read_without_urllib3_keywords() -> None:
    session = requests.Session()
    session.mount(BASE_URL, _StandInRawAdapter(json.dumps(success_body(PNG_B64)).encode()))
    provider = create_togetherai(api_key=API_KEY, base_url=BASE_URL, session=session)

    result = generate_image(model=provider.image(MODEL_ID), prompt="p")

    assert result.image.data == PNG
