"""The wire: exact request bodies and headers, error statuses and response parsing."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from together_image import (
    APICallError,
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ImagePrompt,
    InternalServerError,
    InvalidArgumentError,
    InvalidResponseDataError,
    LoadAPIKeyError,
    NotFoundError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    TogetherAIImageModel,
    TogetherAIProvider,
    UnprocessableEntityError,
    UnsupportedFunctionalityError,
    create_togetherai,
    generate_image,
)
from together_image._provider import (
    _OPTION_TYPES,
    build_request_body,
    encode_body,
    parse_provider_options,
)

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
    error_body,
    sent_json,
    sent_timeout,
    success_body,
)

PNG_DATA_URL = f"data:image/png;base64,{PNG_B64}"
JPEG_DATA_URL = f"data:image/jpeg;base64,{JPEG_B64}"
MULTIPLE_IMAGES = "Together AI only supports a single input image. Additional images are ignored."


def generate_and_capture(
    api: responses.RequestsMock, model: TogetherAIImageModel, **arguments: Any
) -> dict[str, Any]:
    """Run generate_image against a success route and return the one body that was sent."""
    api.post(ENDPOINT, json=success_body())
    generate_image(model=model, **arguments)
    assert len(api.calls) == 1
    return sent_json(api.calls[0])


# --- request bodies -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (
            {"prompt": "a quetzal"},
            {"model": MODEL_ID, "prompt": "a quetzal", "response_format": "base64"},
        ),
        (
            {"prompt": "a quetzal", "size": "1024x768", "seed": 42},
            {
                "model": MODEL_ID,
                "prompt": "a quetzal",
                "seed": 42,
                "width": 1024,
                "height": 768,
                "response_format": "base64",
            },
        ),
        (
            {"prompt": "p", "seed": 0},
            {"model": MODEL_ID, "prompt": "p", "seed": 0, "response_format": "base64"},
        ),
        (
            {"prompt": 'é 😀 "q"'},
            {"model": MODEL_ID, "prompt": 'é 😀 "q"', "response_format": "base64"},
        ),
        (
            {"prompt": {"images": ["https://x.test/in.png"]}},
            {"model": MODEL_ID, "image_url": "https://x.test/in.png", "response_format": "base64"},
        ),
        (
            # FLUX.1 [schnell] takes Together's aspect_ratio (per the model table).
            {"prompt": "p", "aspect_ratio": "16:9"},
            {"model": MODEL_ID, "prompt": "p", "aspect_ratio": "16:9", "response_format": "base64"},
        ),
        (
            {"prompt": "p", "provider_options": {"openai": {"steps": 99}}},
            {"model": MODEL_ID, "prompt": "p", "response_format": "base64"},
        ),
        (
            {"prompt": "p", "provider_options": {"togetherai": None}},
            {"model": MODEL_ID, "prompt": "p", "response_format": "base64"},
        ),
    ],
)
def test_exact_body(
    api: responses.RequestsMock,
    model: TogetherAIImageModel,
    arguments: dict[str, Any],
    expected: dict[str, Any],
) -> None:
    body = generate_and_capture(api, model, **arguments)
    assert body == expected
    assert list(body) == list(expected)  # the AI SDK's key order


def test_body_is_compact_utf8_json(
    api: responses.RequestsMock, model: TogetherAIImageModel
) -> None:
    generate_and_capture(api, model, prompt="é")
    assert api.calls[0].request.body == (
        f'{{"model":"{MODEL_ID}","prompt":"é","response_format":"base64"}}'.encode()
    )


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (PNG, PNG_DATA_URL),
        (bytearray(JPEG), JPEG_DATA_URL),
        (memoryview(PNG), PNG_DATA_URL),
        (JPEG_B64, JPEG_DATA_URL),
        (JPEG_B64.replace("+", "-").replace("/", "_").rstrip("="), JPEG_DATA_URL),
        (f"data:image/png;base64,{PNG_B64}", PNG_DATA_URL),
        ("https://example.com/input.jpg?sig=1", "https://example.com/input.jpg?sig=1"),
        (io.BytesIO(JPEG), JPEG_DATA_URL),
    ],
)
def test_each_image_form_becomes_image_url(
    api: responses.RequestsMock, model: TogetherAIImageModel, image: Any, expected: str
) -> None:
    body = generate_and_capture(
        api, model, prompt={"text": "Make the shirt yellow", "images": [image]}
    )
    assert body == {
        "model": MODEL_ID,
        "prompt": "Make the shirt yellow",
        "image_url": expected,
        "response_format": "base64",
    }


def test_path_and_pil_images(
    api: responses.RequestsMock, model: TogetherAIImageModel, tmp_path: Path
) -> None:
    path = tmp_path / "in.jpg"
    path.write_bytes(JPEG)
    assert (
        generate_and_capture(api, model, prompt=ImagePrompt(text="t", images=[path]))["image_url"]
        == JPEG_DATA_URL
    )
    api.calls.reset()
    body = generate_and_capture(
        api, model, prompt=ImagePrompt(text="t", images=[Image.new("RGB", (2, 2))])
    )
    assert body["image_url"].startswith("data:image/png;base64,iVBORw0KGgo")


def test_multiple_images_send_the_first_and_warn(
    api: responses.RequestsMock, model: TogetherAIImageModel
) -> None:
    api.post(ENDPOINT, json=success_body())
    result = generate_image(
        model=model, prompt={"text": "t", "images": ["https://x.test/1.png", PNG]}
    )
    assert sent_json(api.calls[0])["image_url"] == "https://x.test/1.png"
    assert [(w.type, w.message) for w in result.warnings] == [("other", MULTIPLE_IMAGES)]


def test_aspect_ratio_warns_and_is_not_sent(
    api: responses.RequestsMock, provider: TogetherAIProvider
) -> None:
    # FLUX.1 [dev] takes no aspect_ratio (per the model table).
    model = provider.image("black-forest-labs/FLUX.1-dev")
    api.post(ENDPOINT, json=success_body())
    result = generate_image(model=model, prompt="p", aspect_ratio="16:9", size="512x512")
    assert [(w.type, w.feature) for w in result.warnings] == [("unsupported", "aspect_ratio")]
    assert "provider_options" in str(result.warnings[0])
    assert "aspect_ratio" not in sent_json(api.calls[0])


def test_mask_is_unsupported_and_sends_nothing(
    api: responses.RequestsMock, model: TogetherAIImageModel
) -> None:
    with pytest.raises(UnsupportedFunctionalityError, match="FLUX Kontext") as raised:
        generate_image(
            model=model, prompt={"text": "t", "images": [PNG], "mask": PNG}, max_retries=5
        )
    assert raised.value.functionality == "mask"
    assert len(api.calls) == 0


def test_provider_options_override_in_place_and_append(
    api: responses.RequestsMock, model: TogetherAIImageModel
) -> None:
    options = {
        "model": "other/model",
        "seed": None,
        "width": 7,
        "response_format": "url",
        "steps": 28,
        "guidance_scale": 3.5,
        "negative_prompt": None,
        "disable_safety_checker": True,
        "image_loras": [{"path": "https://hf.test/lora", "scale": 0.8}],
        "aspect_ratio": "16:9",
    }
    api.post(ENDPOINT, json={"data": [{"index": 0, "b64_json": JPEG_B64}]})
    generate_image(
        model=model, prompt="p", size="512x512", seed=3, provider_options={"togetherai": options}
    )
    body = sent_json(api.calls[0])
    assert body == {
        "model": "other/model",
        "prompt": "p",
        "seed": None,
        "width": 7,
        "height": 512,
        "response_format": "url",
        "steps": 28,
        "guidance_scale": 3.5,
        "negative_prompt": None,
        "disable_safety_checker": True,
        "image_loras": [{"path": "https://hf.test/lora", "scale": 0.8}],
        "aspect_ratio": "16:9",
    }
    assert list(body)[:6] == ["model", "prompt", "seed", "width", "height", "response_format"]


@pytest.mark.parametrize(
    ("provider_options", "message"),
    [
        ("steps=4", "provider_options must be a mapping"),
        ({"togetherai": [("steps", 4)]}, "expected a mapping, got list"),
        ({"togetherai": {"steps": "4"}}, "'steps' must be int or None, got '4'"),
        ({"togetherai": {"steps": 4.0}}, "'steps' must be int or None"),
        ({"togetherai": {"steps": True}}, "'steps' must be int or None"),
        ({"togetherai": {"guidance_scale": "high"}}, "'guidance_scale' must be int or float"),
        ({"togetherai": {"negative_prompt": 5}}, "'negative_prompt' must be str or None"),
        ({"togetherai": {"disable_safety_checker": "true"}}, "must be bool or None"),
        ({"togetherai": {1: "x"}}, "keys must be strings"),
        ({"togetherai": {"x": float("nan")}}, "JSON-serializable"),
        ({"togetherai": {"guidance_scale": float("inf")}}, "JSON-serializable"),
        ({"togetherai": {"x": {1, 2}}}, "JSON-serializable"),
    ],
)
def test_invalid_provider_options(provider_options: Any, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        parse_provider_options(provider_options)


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)
CHECKED_OPTIONS = st.fixed_dictionaries(
    {},
    optional={
        "steps": st.none() | st.integers(),
        "guidance_scale": st.none()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False),
        "negative_prompt": st.none() | st.text(),
        "disable_safety_checker": st.none() | st.booleans(),
    },
)
OPTIONS = st.builds(
    lambda free, checked: {**free, **checked},
    # Free keys are any but the checked ones, whose types the client enforces.
    st.dictionaries(
        st.text(max_size=12).filter(lambda key: key not in _OPTION_TYPES), JSON_VALUES, max_size=6
    ),
    CHECKED_OPTIONS,
)


@given(
    OPTIONS,
    st.none() | st.text(max_size=20),
    st.none() | st.integers(),
    st.none() | st.tuples(st.integers(1, 4096), st.integers(1, 4096)),
)
def test_built_body_contains_provider_option_values_verbatim(
    options: dict[str, Any],
    prompt: str | None,
    seed: int | None,
    size: tuple[int, int] | None,
) -> None:
    checked = parse_provider_options({"togetherai": options})
    body = build_request_body(
        model_id=MODEL_ID, prompt=prompt, seed=seed, size=size, options=checked
    )
    wire = json.loads(encode_body(body))
    for key, value in options.items():
        assert body[key] == value
        assert wire[key] == json.loads(json.dumps(value))


@given(OPTIONS)
def test_sent_body_contains_provider_option_values_verbatim(options: dict[str, Any]) -> None:
    model = create_togetherai(api_key=API_KEY, base_url=BASE_URL).image(MODEL_ID)
    with responses.RequestsMock() as api:
        api.post(ENDPOINT, json=success_body())
        generate_image(model=model, prompt="p", provider_options={"togetherai": options})
        body = sent_json(api.calls[0])
    for key, value in options.items():
        assert body[key] == json.loads(json.dumps(value))


def test_do_generate_is_one_call(api: responses.RequestsMock, model: TogetherAIImageModel) -> None:
    api.post(ENDPOINT, json=success_body(PNG_B64, JPEG_B64))
    result = model.do_generate(prompt="p", n=2)
    assert result.images == (PNG_B64, JPEG_B64)
    assert result.response.model_id == MODEL_ID
    assert sent_json(api.calls[0])["n"] == 2
    assert model.max_images_per_call == 1
    assert model.provider == "togetherai.image"


def test_do_generate_rejects_a_non_string_prompt(model: TogetherAIImageModel) -> None:
    with pytest.raises(InvalidArgumentError, match="prompt must be a string or None, got int"):
        model.do_generate(prompt=5)  # type: ignore[arg-type]


@pytest.mark.parametrize("images", [PNG, PNG_B64, 42])
def test_do_generate_wants_a_list_of_images(model: TogetherAIImageModel, images: Any) -> None:
    with pytest.raises(
        InvalidArgumentError, match=r"^images must be a list of images \(e.g. \[image_bytes\]\)"
    ) as raised:
        model.do_generate(prompt="p", images=images)
    assert raised.value.argument == "images"


@pytest.mark.parametrize("model_id", ["", "  ", None, 5])
def test_model_id_must_be_a_non_empty_string(provider: TogetherAIProvider, model_id: Any) -> None:
    with pytest.raises(InvalidArgumentError, match="model_id must be a non-empty string"):
        provider.image(model_id)


# --- headers ------------------------------------------------------------------------------------


def test_default_headers(api: responses.RequestsMock, model: TogetherAIImageModel) -> None:
    generate_and_capture(api, model, prompt="p")
    headers = api.calls[0].request.headers
    assert headers["Authorization"] == f"Bearer {API_KEY}"
    assert headers["Content-Type"] == "application/json"
    assert headers["Accept"] == "application/json"
    assert headers["User-Agent"] == f"together-image/{version('together-image')}"


def test_call_headers_override_provider_headers_case_insensitively(
    api: responses.RequestsMock,
) -> None:
    provider = create_togetherai(
        api_key=API_KEY,
        base_url=BASE_URL,
        headers={"X-Trace": "provider", "X-Provider-Only": "p", "user-agent": "myapp/1"},
    )
    generate_and_capture(
        api,
        provider.image(MODEL_ID),
        prompt="p",
        headers={"x-trace": "call", "X-Call-Only": "c", "X-Provider-Only": None},
    )
    headers = api.calls[0].request.headers
    assert headers["X-Trace"] == "call"
    assert headers["X-Call-Only"] == "c"
    assert "X-Provider-Only" not in headers
    assert headers["User-Agent"] == "myapp/1"


def test_own_authorization_header_needs_no_key(api: responses.RequestsMock) -> None:
    provider = create_togetherai(base_url=BASE_URL, headers={"authorization": "Bearer custom"})
    generate_and_capture(api, provider.image(MODEL_ID), prompt="p")
    assert api.calls[0].request.headers["Authorization"] == "Bearer custom"


def test_missing_key_raises_before_any_request(api: responses.RequestsMock) -> None:
    model = create_togetherai(base_url=BASE_URL).image(MODEL_ID)
    with pytest.raises(LoadAPIKeyError, match="TOGETHER_API_KEY"):
        generate_image(model=model, prompt="p")
    assert len(api.calls) == 0


@pytest.mark.parametrize(
    ("provider_timeout", "call_timeout", "expected"),
    [(60.0, "not given", 60.0), (5, "not given", 5.0), (60.0, 2.5, 2.5), (60.0, None, None)],
)
def test_timeout_reaches_requests(
    api: responses.RequestsMock, provider_timeout: float, call_timeout: Any, expected: float | None
) -> None:
    model = create_togetherai(api_key=API_KEY, base_url=BASE_URL, timeout=provider_timeout).image(
        MODEL_ID
    )
    timeout = {} if call_timeout == "not given" else {"timeout": call_timeout}
    generate_and_capture(api, model, prompt="p", **timeout)
    sent = sent_timeout(api.calls[0])
    # requests gets what is left of the attempt's deadline: at most the timeout itself.
    if expected is None:
        assert sent is None
    else:
        assert isinstance(sent, float)
        assert 0 < sent <= expected


def test_given_session_is_used(api: responses.RequestsMock) -> None:
    session = requests.Session()
    session.headers["X-Session"] = "mine"
    model = create_togetherai(api_key=API_KEY, base_url=BASE_URL, session=session).image(MODEL_ID)
    generate_and_capture(api, model, prompt="p")
    assert api.calls[0].request.headers["X-Session"] == "mine"


# --- error statuses -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error_class", "retryable"),
    [
        (400, BadRequestError, False),
        (401, AuthenticationError, False),
        (402, PaymentRequiredError, False),
        (403, PermissionDeniedError, False),
        (404, NotFoundError, False),
        (408, APICallError, True),
        (409, ConflictError, True),
        (413, APICallError, False),
        (422, UnprocessableEntityError, False),
        (429, RateLimitError, True),
        (500, InternalServerError, True),
        (503, InternalServerError, True),
        (524, InternalServerError, True),
    ],
)
def test_each_status_raises_its_class(
    api: responses.RequestsMock,
    model: TogetherAIImageModel,
    status: int,
    error_class: type[APICallError],
    retryable: bool,
) -> None:
    body = error_body(f"message {status}", type="some_type", code="some_code")
    api.post(ENDPOINT, json=body, status=status, headers={"cf-ray": "a046745b3835a2b4-YUL"})
    with pytest.raises(error_class) as raised:
        generate_image(model=model, prompt="p", max_retries=0)
    error = raised.value
    assert type(error) is error_class
    assert error.status_code == status
    assert error.message == f"message {status}"
    assert error.data is not None
    assert (error.data.type, error.data.code, error.data.param) == ("some_type", "some_code", None)
    assert error.request_id == RESPONSE_ID
    assert error.url == ENDPOINT
    assert error.request_body == {"model": MODEL_ID, "prompt": "p", "response_format": "base64"}
    assert error.response_headers["cf-ray"] == "a046745b3835a2b4-YUL"
    assert json.loads(error.response_body or "") == body
    assert error.is_retryable is retryable
    assert str(error) == (
        f"HTTP {status}: message {status} "
        f"[type=some_type, code=some_code, request_id={RESPONSE_ID}]"
    )


def test_real_401_body(api: responses.RequestsMock, model: TogetherAIImageModel) -> None:
    message = (
        "Invalid API key provided. You can find your API key at "
        "https://api.together.ai/settings/api-keys."
    )
    api.post(ENDPOINT, json=error_body(message, code="invalid_api_key"), status=401)
    with pytest.raises(AuthenticationError, match="code=invalid_api_key") as raised:
        generate_image(model=model, prompt="p")
    assert raised.value.message == message


@pytest.mark.parametrize(
    ("body", "content_type", "status", "headers", "message", "request_id"),
    [
        (
            "<html><head><title>502 Bad Gateway</title></head>\n<body>cloudflare</body></html>",
            "text/html",
            502,
            {"cf-ray": "8f00aa11bb22cc33-SEA"},
            "Bad Gateway: <html><head><title>502 Bad Gateway</title></head> <body>cloudflare",
            "8f00aa11bb22cc33-SEA",
        ),
        ("", "text/plain", 503, {}, "Service Unavailable", None),
        ('{"message": "x"}', "application/json", 400, {}, 'Bad Request: {"message": "x"}', None),
        ('{"error": "Unauthorized"}', "application/json", 401, {}, "Unauthorized", None),
        ('{"error": {"message": 5}}', "application/json", 400, {}, "Bad Request: ", None),
        (
            "[1, 2]",
            "application/json",
            404,
            {"x-request-id": "req-1"},
            "Not Found: [1, 2]",
            "req-1",
        ),
        ("x" * 300, "text/plain", 418, {}, "... (300 characters)", None),
    ],
)
def test_non_json_or_malformed_error_bodies(
    api: responses.RequestsMock,
    model: TogetherAIImageModel,
    body: str,
    content_type: str,
    status: int,
    headers: dict[str, str],
    message: str,
    request_id: str | None,
) -> None:
    api.post(ENDPOINT, body=body, status=status, content_type=content_type, headers=headers)
    with pytest.raises(APICallError) as raised:
        generate_image(model=model, prompt="p", max_retries=0)
    assert message in raised.value.message
    assert raised.value.status_code == status
    assert raised.value.request_id == request_id
    assert raised.value.response_body == body


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("not json", "the body is not JSON"),
        ("[]", "expected a JSON object, got array"),
        ("{}", "expected 'data' to be a list, got null"),
        ('{"data": {}}', "expected 'data' to be a list, got object"),
        ('{"data": [1]}', "expected data[0] to be an object, got number"),
        ('{"data": [{"index": "0", "b64_json": "AA=="}]}', "data[0].index to be a int"),
        ('{"data": [{"index": true, "b64_json": "AA=="}]}', "got boolean"),
        ('{"id": 5, "data": []}', "body.id to be a str or absent, got number"),
        ('{"data": [{"b64_json": "AA==", "timings": {"inference": "1"}}]}', "timings to map"),
        ('{"data": [{"index": 0}]}', "data[0] has no b64_json"),
        (
            '{"data": [{"index": 0, "url": "https://api.together.ai/shrt/x"}]}',
            "data[0] has no b64_json (response_format is not 'base64'?)",
        ),
        ('{"data": [{"b64_json": "*not base64*"}]}', "data[0].b64_json is not base64"),
    ],
)
def test_invalid_success_bodies(
    api: responses.RequestsMock, model: TogetherAIImageModel, body: str, problem: str
) -> None:
    api.post(ENDPOINT, body=body, status=200, content_type="application/json")
    with pytest.raises(InvalidResponseDataError) as raised:
        generate_image(model=model, prompt="p")  # not retryable: raised unwrapped
    assert problem in str(raised.value)
    assert raised.value.status_code == 200
    assert raised.value.is_retryable is False
    assert len(api.calls) == 1


@pytest.mark.parametrize(
    ("exception", "error_class", "message"),
    [
        (requests.ConnectionError("connection refused"), APIConnectionError, "Cannot connect"),
        (requests.ConnectTimeout("connect timed out"), APITimeoutError, "timed out after 60.0 s"),
        (requests.ReadTimeout("read timed out"), APITimeoutError, "read timed out"),
        (requests.exceptions.ChunkedEncodingError("broken"), APIConnectionError, "broken"),
    ],
)
def test_transport_failures_are_translated_once(
    api: responses.RequestsMock,
    model: TogetherAIImageModel,
    exception: Exception,
    error_class: type[APICallError],
    message: str,
) -> None:
    api.post(ENDPOINT, body=exception)
    with pytest.raises(error_class, match=message) as raised:
        generate_image(model=model, prompt="p", max_retries=0)
    assert raised.value.__cause__ is exception
    assert raised.value.is_retryable is True
    assert raised.value.status_code is None
    assert raised.value.url == ENDPOINT


# --- the API key never leaks --------------------------------------------------------------------


def test_key_never_appears_in_reprs_or_messages(
    api: responses.RequestsMock, provider: TogetherAIProvider, model: TogetherAIImageModel
) -> None:
    from together_image import TogetherImageClient

    echoed = error_body(f"Invalid API key {API_KEY} provided.", code="invalid_api_key")
    api.post(ENDPOINT, json=echoed, status=401, headers={"x-echo": "none"})
    api.post(ENDPOINT, body=requests.ConnectionError(f"proxy refused Bearer {API_KEY}"))
    api.post(ENDPOINT, body=f"<html>{API_KEY}</html>", status=200)
    texts = [repr(provider), repr(model), repr(TogetherImageClient(api_key=API_KEY))]
    for _ in range(3):
        with pytest.raises(APICallError) as raised:
            generate_image(model=model, prompt="p", max_retries=0)
        error = raised.value
        texts += [str(error), repr(error), error.message, error.response_body or ""]
        texts += [str(error.data), repr(error.request_body)]
    with pytest.raises(LoadAPIKeyError) as missing:
        create_togetherai(api_key=None, base_url=BASE_URL).image(MODEL_ID).do_generate(prompt="p")
    texts += [str(missing.value), repr(missing.value)]
    assert len(texts) == 3 + 3 * 6 + 2
    for text in texts:
        assert API_KEY not in text
    assert "***" in texts[3]


def test_non_string_key_is_rejected_at_creation() -> None:
    with pytest.raises(LoadAPIKeyError, match="must be a string, got bytes"):
        create_togetherai(api_key=b"key")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (lambda: create_togetherai(timeout=0), "timeout must be a positive number"),
        (lambda: create_togetherai(headers={"X": 1}), "headers must map strings"),  # type: ignore[dict-item]
    ],
)
def test_provider_arguments_are_checked_at_creation(
    factory: Callable[[], object], message: str
) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        factory()


# --- stated behaviours: statuses, request ids and error bodies -----------------------------------


@pytest.mark.parametrize("status", [300, 303, 307, 399])
def test_a_3xx_answer_is_an_error_even_with_a_success_body(
    api: responses.RequestsMock, model: TogetherAIImageModel, status: int
) -> None:
    # Without a Location header requests follows nothing; the answer itself is no success.
    api.post(ENDPOINT, json=success_body(), status=status)
    with pytest.raises(APICallError) as raised:
        generate_image(model=model, prompt="p", max_retries=0)
    assert raised.value.status_code == status
    assert not isinstance(raised.value, InvalidResponseDataError)


def test_request_id_prefers_the_body_id_over_the_headers(
    api: responses.RequestsMock, model: TogetherAIImageModel
) -> None:
    # The body id is the full id of the answer; X-Request-Id, when Together sent it, was the
    # same text, and Cf-Ray carries only its 16-hex part [REC, together-images-api.md §3].
    # When they disagree the body wins, since recorders and proxies strip the headers.
    api.post(
        ENDPOINT,
        json=error_body("bad"),
        status=400,
        headers={"x-request-id": "header-request-id", "cf-ray": "a046745b3835a2b4-YUL"},
    )
    with pytest.raises(BadRequestError) as raised:
        generate_image(model=model, prompt="p")
    assert raised.value.request_id == RESPONSE_ID


def test_request_id_falls_back_to_x_request_id_then_cf_ray(
    api: responses.RequestsMock, model: TogetherAIImageModel
) -> None:
    api.post(
        ENDPOINT,
        json={"error": {"message": "no id"}},
        status=400,
        headers={"x-request-id": "header-request-id", "cf-ray": "a046745b3835a2b4-YUL"},
    )
    api.post(
        ENDPOINT,
        json={"error": {"message": "no id"}},
        status=400,
        headers={"cf-ray": "a046745b3835a2b4-YUL"},
    )
    with pytest.raises(BadRequestError) as first:
        generate_image(model=model, prompt="p")
    with pytest.raises(BadRequestError) as second:
        generate_image(model=model, prompt="p")
    assert first.value.request_id == "header-request-id"
    assert second.value.request_id == "a046745b3835a2b4-YUL"


def test_a_string_error_body_keeps_its_message(
    api: responses.RequestsMock, model: TogetherAIImageModel
) -> None:
    api.post(ENDPOINT, json={"id": RESPONSE_ID, "error": "Model is overloaded"}, status=503)
    with pytest.raises(InternalServerError) as raised:
        generate_image(model=model, prompt="p", max_retries=0)
    assert raised.value.message == "Model is overloaded"
    assert raised.value.data is not None
    assert raised.value.data.message == "Model is overloaded"
    assert str(raised.value) == f"HTTP 503: Model is overloaded [request_id={RESPONSE_ID}]"
