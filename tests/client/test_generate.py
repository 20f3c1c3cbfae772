"""``generate_image()``: splitting, concurrency, ordering, aggregation, results and validation."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import responses
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image
from requests import PreparedRequest

from together_image import (
    NOT_GIVEN,
    BadRequestError,
    GeneratedImage,
    GenerateImageResult,
    ImageInput,
    ImageModelResult,
    InvalidArgumentError,
    InvalidDataContentError,
    NoImageGeneratedError,
    ResponseMetadata,
    TogetherAIImageModel,
    TogetherAIProvider,
    Warning,
    _inputs,
    _media,
    _types,
    generate_image,
)
from together_image._generate import MAX_CONCURRENT_CALLS, split_image_counts
from together_image._provider import parse_call_options
from together_image._types import NotGiven

from ._support import ENDPOINT, JPEG, JPEG_B64, MODEL_ID, PNG, PNG_B64, sent_json, success_body

Headers = Mapping[str, str]


def tagged_image(tag: int) -> str:
    """A distinct valid image per tag: a PNG signature followed by the tag."""
    return base64.b64encode(b"\x89PNG\r\n\x1a\n" + tag.to_bytes(4, "big")).decode()


def test_n_makes_one_call_per_image_without_n_in_the_body(
    api: responses.RequestsMock, model: TogetherAIImageModel
) -> None:
    api.post(ENDPOINT, json=success_body())
    result = generate_image(model=model, prompt="p", n=3, seed=7)
    assert len(api.calls) == 3
    assert all(sent_json(call) == sent_json(api.calls[0]) for call in api.calls)
    assert "n" not in sent_json(api.calls[0])
    assert len(result.images) == 3
    assert len(result.responses) == 3


def test_calls_run_concurrently_and_keep_images_with_their_responses(
    api: responses.RequestsMock, model: TogetherAIImageModel
) -> None:
    barrier = threading.Barrier(4, timeout=5)
    arrivals: list[int] = []
    lock = threading.Lock()

    def answer(request: PreparedRequest) -> tuple[int, Headers, str]:
        with lock:
            tag = len(arrivals)
            arrivals.append(tag)
        barrier.wait()  # only returns once all four calls are in flight at the same time
        time.sleep(0.01 * (4 - tag))  # finish in reverse arrival order
        body = success_body(tagged_image(tag))
        return 200, {"x-tag": str(tag)}, json.dumps(body)

    api.add_callback(responses.POST, ENDPOINT, callback=answer)
    result = generate_image(model=model, prompt="p", n=4)
    tags = [int(metadata.headers["x-tag"]) for metadata in result.responses]
    assert sorted(tags) == [0, 1, 2, 3]
    assert [image.base64 for image in result.images] == [tagged_image(tag) for tag in tags]


def test_results_follow_call_order_not_completion_order(
    api: responses.RequestsMock, model: TogetherAIImageModel
) -> None:
    first, second, third = tagged_image(1), tagged_image(2), tagged_image(3)

    def answer(request: PreparedRequest) -> tuple[int, Headers, str]:
        body = json.loads(request.body or b"{}")
        if body.get("n") == 2:  # the first call: answer it last
            time.sleep(0.2)
            return 200, {}, json.dumps(success_body(first, second))
        return 200, {}, json.dumps(success_body(third))

    api.add_callback(responses.POST, ENDPOINT, callback=answer)
    result = generate_image(model=model, prompt="p", n=3, max_images_per_call=2)
    assert [image.base64 for image in result.images] == [first, second, third]
    assert [sent_json(call).get("n") for call in api.calls] == [None, 2]  # completion order


def test_thread_pool_is_bounded(api: responses.RequestsMock, model: TogetherAIImageModel) -> None:
    in_flight = 0
    peak = 0
    lock = threading.Lock()

    def answer(request: PreparedRequest) -> tuple[int, Headers, str]:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        time.sleep(0.02)
        with lock:
            in_flight -= 1
        return 200, {}, json.dumps(success_body())

    api.add_callback(responses.POST, ENDPOINT, callback=answer)
    result = generate_image(model=model, prompt="p", n=MAX_CONCURRENT_CALLS * 2 + 1)
    assert len(result.images) == MAX_CONCURRENT_CALLS * 2 + 1
    assert 1 < peak <= MAX_CONCURRENT_CALLS


def test_a_failing_call_fails_the_whole_generation(
    api: responses.RequestsMock, model: TogetherAIImageModel
) -> None:
    def answer(request: PreparedRequest) -> tuple[int, Headers, str]:
        if json.loads(request.body or b"{}").get("n") == 2:
            return 400, {}, '{"error": {"message": "bad width", "type": "invalid_request_error"}}'
        return 200, {}, json.dumps(success_body())

    api.add_callback(responses.POST, ENDPOINT, callback=answer)
    with pytest.raises(BadRequestError, match="bad width"):
        generate_image(model=model, prompt="p", n=3, max_images_per_call=2)


def test_warnings_are_concatenated_per_call(
    api: responses.RequestsMock, provider: TogetherAIProvider
) -> None:
    # FLUX.1 [dev] takes no aspect_ratio and one input image (per the model table).
    model = provider.image("black-forest-labs/FLUX.1-dev")
    api.post(ENDPOINT, json=success_body())
    result = generate_image(
        model=model, prompt={"text": "t", "images": [PNG, JPEG]}, n=2, aspect_ratio="1:1"
    )
    assert [(w.type, w.feature) for w in result.warnings] == [
        ("unsupported", "aspect_ratio"),
        ("other", None),
        ("unsupported", "aspect_ratio"),
        ("other", None),
    ]
    assert all(isinstance(warning, Warning) for warning in result.warnings)


def test_response_metadata(api: responses.RequestsMock, model: TogetherAIImageModel) -> None:
    api.post(ENDPOINT, json=success_body(), headers={"X-Request-Id": "req-9", "Cf-Ray": "ab-SEA"})
    before = datetime.now(timezone.utc)
    result = generate_image(model=model, prompt="p")
    after = datetime.now(timezone.utc)
    (metadata,) = result.responses
    assert isinstance(metadata, ResponseMetadata)
    assert metadata.model_id == MODEL_ID
    assert before <= metadata.timestamp <= after
    assert metadata.timestamp.tzinfo is timezone.utc
    assert metadata.headers["x-request-id"] == "req-9"
    assert metadata.headers["cf-ray"] == "ab-SEA"
    assert metadata.headers["content-type"] == "application/json"


@pytest.mark.parametrize("n", [1, 2])
def test_no_image_generated(
    api: responses.RequestsMock, model: TogetherAIImageModel, n: int
) -> None:
    api.post(ENDPOINT, json={"id": "x", "model": MODEL_ID, "object": "list", "data": []})
    with pytest.raises(NoImageGeneratedError, match=r"^No image generated\.$") as raised:
        # Without retries, one empty answer per call (retries of empty answers: test_calls.py).
        generate_image(model=model, prompt="p", n=n, max_retries=0)
    assert len(raised.value.responses) == n
    assert raised.value.responses[0].model_id == MODEL_ID


def test_several_images_in_one_response_are_all_kept(
    api: responses.RequestsMock, model: TogetherAIImageModel
) -> None:
    api.post(ENDPOINT, json=success_body(PNG_B64, JPEG_B64))
    result = generate_image(model=model, prompt="p")
    assert [image.media_type for image in result.images] == ["image/png", "image/jpeg"]
    assert result.image is result.images[0]


# --- validation happens before any request --------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "argument"),
    [
        ({"n": 0}, "n"),
        ({"n": 1.5}, "n"),
        ({"n": True}, "n"),
        ({"seed": "1"}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"max_retries": -1}, "max_retries"),
        ({"max_retries": 1.0}, "max_retries"),
        ({"max_images_per_call": 0}, "max_images_per_call"),
        ({"size": "512X512"}, "size"),
        ({"size": ""}, "size"),
        ({"aspect_ratio": "16/9"}, "aspect_ratio"),
        ({"provider_options": {"togetherai": []}}, "provider_options"),
        ({"provider_options": {"togetherai": {"steps": "4"}}}, "provider_options"),
        ({"headers": {"X-A": 1}}, "headers"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": "5"}, "timeout"),
        ({"prompt": 5}, "prompt"),
        ({"prompt": {"txt": "x"}}, "prompt"),
        ({"prompt": {"images": "https://x.test/a.png"}}, "prompt"),
        ({"prompt": {"images": ["cat.png"]}}, "image"),
        ({"model": "black-forest-labs/FLUX.1-schnell"}, "model"),
    ],
)
def test_invalid_arguments_raise_before_any_request(
    api: responses.RequestsMock,
    model: TogetherAIImageModel,
    arguments: dict[str, Any],
    argument: str,
) -> None:
    call: dict[str, Any] = {"model": model, "prompt": "p", **arguments}
    with pytest.raises(InvalidArgumentError) as raised:
        generate_image(**call)
    assert raised.value.argument == argument
    assert isinstance(raised.value, ValueError)
    assert len(api.calls) == 0


def test_undecodable_image_is_invalid_data_content(
    api: responses.RequestsMock, model: TogetherAIImageModel
) -> None:
    with pytest.raises(InvalidDataContentError, match="not a base64-encoded media"):
        generate_image(model=model, prompt={"text": "t", "images": ["%%%%"]})
    assert len(api.calls) == 0


# --- any model implementing the protocol --------------------------------------------------------


class RecordingModel:
    """An in-memory image model returning ``per_call`` tagged images per call."""

    model_id = "recording/model"

    def __init__(self, max_images_per_call: int) -> None:
        self.max_images_per_call = max_images_per_call
        self.counts: list[int] = []
        self.lock = threading.Lock()

    def do_generate(
        self,
        *,
        prompt: str | None,
        n: int = 1,
        size: str | None = None,
        aspect_ratio: str | None = None,
        seed: int | None = None,
        images: Sequence[ImageInput] = (),
        mask: ImageInput | None = None,
        provider_options: Mapping[str, Mapping[str, Any]] | None = None,
        headers: Mapping[str, str | None] | None = None,
        timeout: float | NotGiven | None = NOT_GIVEN,
    ) -> ImageModelResult:
        with self.lock:
            self.counts.append(n)
        return ImageModelResult(
            images=tuple(tagged_image(index) for index in range(n)),
            warnings=(),
            response=ResponseMetadata(timestamp=datetime.now(timezone.utc), model_id=self.model_id),
        )


@pytest.mark.parametrize(
    ("n", "model_limit", "override", "counts"),
    [(5, 2, None, [2, 2, 1]), (4, 2, None, [2, 2]), (3, 1, None, [1, 1, 1]), (5, 1, 5, [5])],
)
def test_n_is_split_by_the_models_limit(
    n: int, model_limit: int, override: int | None, counts: list[int]
) -> None:
    recording = RecordingModel(model_limit)
    result = generate_image(model=recording, prompt="p", n=n, max_images_per_call=override)
    assert sorted(recording.counts) == sorted(counts)
    assert len(result.images) == n


@given(st.integers(1, 200), st.integers(1, 50))
def test_split_image_counts(n: int, per_call: int) -> None:
    counts = split_image_counts(n, per_call)
    assert sum(counts) == n
    assert len(counts) == -(-n // per_call)
    assert all(1 <= count <= per_call for count in counts)
    assert counts[:-1] == [per_call] * (len(counts) - 1)


# --- results ------------------------------------------------------------------------------------


def test_generated_image_decodes_lazily() -> None:
    image = GeneratedImage(base64=JPEG_B64)
    assert "data" not in vars(image)
    assert image.data == JPEG
    assert image.media_type == "image/jpeg"
    assert image.extension == "jpg"
    assert "data" in vars(image)


def test_standard_base64_is_checked_at_call_time_and_decoded_only_by_data(
    api: responses.RequestsMock, model: TogetherAIImageModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.post(ENDPOINT, json=success_body())
    decoded: list[str] = []
    real_decode = _media.decode_base64

    def counting_decode(text: str) -> bytes:
        decoded.append(text)
        return real_decode(text)

    monkeypatch.setattr(_media, "decode_base64", counting_decode)
    monkeypatch.setattr(_types, "decode_base64", counting_decode)
    image = generate_image(model=model, prompt="p", seed=7).image
    assert decoded == []
    assert image.data == JPEG
    assert image.data is image.data
    assert decoded == [JPEG_B64]


def test_generated_image_defaults_to_png_for_unknown_bytes() -> None:
    image = GeneratedImage(base64=base64.b64encode(b"mystery").decode())
    assert (image.media_type, image.extension) == ("image/png", "png")


def test_generated_image_to_pil_and_save(tmp_path: Path) -> None:
    image = GeneratedImage(base64=PNG_B64)
    pil = image.to_pil()
    assert isinstance(pil, Image.Image)
    assert pil.size == (2, 2)
    target = image.save(tmp_path / "out.png")
    assert target == tmp_path / "out.png"
    assert target.read_bytes() == PNG


def test_generated_image_repr_never_decodes() -> None:
    image = GeneratedImage(base64="not base64 at all" * 10)
    assert repr(image) == "GeneratedImage(base64='not base64 at al'... (170 characters))"


def test_generated_images_compare_by_base64() -> None:
    assert GeneratedImage(base64=PNG_B64) == GeneratedImage(base64=PNG_B64)
    assert GeneratedImage(base64=PNG_B64) != GeneratedImage(base64=JPEG_B64)


def test_result_image_is_the_first() -> None:
    first, second = GeneratedImage(base64=PNG_B64), GeneratedImage(base64=JPEG_B64)
    result = GenerateImageResult(images=(first, second))
    assert result.image is first
    assert (result.warnings, result.responses) == ((), ())


def test_warning_str_is_its_message() -> None:
    assert str(Warning(type="other", message="hello")) == "hello"


# --- arguments are parsed once ------------------------------------------------------------------


def test_arguments_are_parsed_once_for_every_call_and_retry(
    api: responses.RequestsMock, model: TogetherAIImageModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    normalized: list[object] = []
    original = _inputs.normalize_image_input

    def counting(image: object) -> str:
        normalized.append(image)
        return original(image)

    monkeypatch.setattr(_inputs, "normalize_image_input", counting)
    api.post(ENDPOINT, status=500, json={"error": {"message": "busy"}})
    api.post(ENDPOINT, json=success_body())
    result = generate_image(
        model=model,
        prompt={"text": "p", "images": [PNG]},
        n=3,
        sleep=lambda seconds: None,
    )
    # Three calls and one retry, one normalization: the calls reuse the parsed arguments.
    assert len(api.calls) == 4
    assert normalized == [PNG]
    assert len(result.images) == 3
    assert {sent_json(call)["image_url"] for call in api.calls} == {
        "data:image/png;base64," + PNG_B64
    }


def test_parsed_call_options_are_frozen_copies() -> None:
    provider_options: dict[str, dict[str, Any]] = {"togetherai": {"steps": 4}}
    headers: dict[str, str | None] = {"X-Trace": "1"}
    options = parse_call_options(
        prompt={"text": "p", "images": [PNG]},
        size="64x32",
        provider_options=provider_options,
        headers=headers,
    )
    provider_options["togetherai"]["steps"] = 40
    headers["X-Trace"] = "2"
    assert options.size == (64, 32)
    assert options.images == ("data:image/png;base64," + PNG_B64,)
    assert options.provider_options == {"steps": 4}
    assert options.headers == {"X-Trace": "1"}
    with pytest.raises(TypeError):
        options.provider_options["steps"] = 1  # type: ignore[index]
    with pytest.raises(AttributeError):
        options.seed = 3  # type: ignore[misc]
