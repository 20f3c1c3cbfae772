"""Validation rules as properties: each rule accepts exactly what it should, strict or relaxed."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from together_image_fake import CATALOG, ModelSpec
from together_image_fake._catalog import Catalog
from together_image_fake._errors import FakeAPIError
from together_image_fake._validate import (
    MAX_INPUT_SIDE,
    MAX_JSON_DEPTH,
    MAX_SIDE,
    check_auth,
    decode_input_image,
    json_depth,
    parse_json_object,
    resolve_model,
    validate_generation,
)

models = st.sampled_from(CATALOG)


def _validate(spec: ModelSpec, strict: bool = True, **fields: Any) -> Any:
    body = {"model": spec.id, "prompt": "a quetzal", **fields}
    if spec.image_url.value == "required":
        body.setdefault("image_url", "data:image/png;base64," + base64.b64encode(_png()).decode())
    return validate_generation(body, spec, strict=strict, remote_images={}, remote_policy="record")


def _outcome(call: Callable[[], Any]) -> tuple[Any, FakeAPIError | None]:
    """Run ``call``; return its result, or the ``FakeAPIError`` it raised."""
    try:
        return call(), None
    except FakeAPIError as error:
        return None, error


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(buffer, "PNG")
    return buffer.getvalue()


def _within_the_fakes_limit(*sides: int) -> bool:
    return all(1 <= side <= MAX_SIDE for side in sides)


@given(models, st.sampled_from(["width", "height"]), st.integers(-10, 5000))
def test_a_side_is_accepted_exactly_when_the_model_allows_it(
    spec: ModelSpec, name: str, side: int
) -> None:
    width, height = spec.default_size.value
    size = (side, height) if name == "width" else (width, side)
    expected_error = spec.params.dimension_error(*size)
    valid, error = _outcome(lambda: _validate(spec, **{name: side}))

    if expected_error is None and _within_the_fakes_limit(*size):
        assert (valid.width, valid.height) == size
    else:
        assert error is not None
        assert error.status == 400
        # The model's own words (together_image.models), or the fake's limit.
        expected = expected_error or f"Invalid value for '{name}' parameter. Image {name} must"
        assert error.message.startswith(expected)


@given(models, st.integers(-10, 5000))
def test_relaxed_mode_drops_inferred_size_rules_but_keeps_the_fakes_limit(
    spec: ModelSpec, side: int
) -> None:
    _, error = _outcome(lambda: _validate(spec, strict=False, width=side))
    accepted = error is None
    size = (side, spec.default_size.value[1])

    if spec.sizes.source == "INF":
        assert accepted == _within_the_fakes_limit(side)
    else:
        assert accepted == (spec.params.dimension_error(*size) is None and 1 <= side <= MAX_SIDE)


@given(models, st.integers(-5, 60), st.integers(-2, 8))
def test_steps_and_n_follow_the_models_rules(spec: ModelSpec, steps: int, n: int) -> None:
    support = spec.field("steps")
    rule = spec.steps.value
    n_ok = 1 <= n <= spec.max_n.value
    valid, error = _outcome(lambda: _validate(spec, steps=steps, n=n))

    if support.rejected:
        # Refused whatever its value, in the model's words [3P/INF per the table].
        assert error is not None
        assert error.message == support.message
    elif support.accepted and rule is not None:
        assert (error is None) == (rule[0] <= steps <= rule[1] and n_ok)
        if valid is not None:
            assert (valid.steps, valid.n) == (steps, n)
    else:
        assert (error is None) == n_ok


@given(models)
def test_defaults_come_from_the_catalog(spec: ModelSpec) -> None:
    valid = _validate(spec)

    assert (valid.width, valid.height) == spec.default_size.value
    assert (valid.steps, valid.n, valid.seed) == (spec.default_steps.value or 0, 1, None)
    assert (valid.response_format, valid.output_format) == ("url", "jpeg")


@given(models, st.integers(1, 30), st.integers(1, 30))
def test_aspect_ratios_land_on_the_models_grid(spec: ModelSpec, w: int, h: int) -> None:
    valid = _validate(spec, aspect_ratio=f"{w}:{h}")

    if not spec.params.takes_aspect_ratio:
        # Accepted and ignored: the default size [DOC/INF per the table].
        assert (valid.width, valid.height) == spec.default_size.value
        return
    assert spec.sizes.value.allows_size(valid.width, valid.height)
    if w > h:
        assert valid.width >= valid.height


@given(st.sampled_from(["Bearer", "bearer", "BEARER", "Basic", "Token"]), st.text(max_size=30))
def test_auth_accepts_any_non_empty_bearer_key(scheme: str, key: str) -> None:
    accepted = scheme.lower() == "bearer" and bool(key.strip())
    found, error = _outcome(lambda: check_auth({"authorization": f"{scheme} {key}"}, None))

    if accepted:
        assert found == key.strip()
    else:
        assert error is not None
        assert (error.status, error.code) == (401, "invalid_api_key")


def test_auth_with_a_key_list_accepts_only_those_keys() -> None:
    assert check_auth({"authorization": "Bearer a"}, frozenset({"a"})) == "a"
    with pytest.raises(FakeAPIError, match="Invalid API key provided"):
        check_auth({"authorization": "Bearer b"}, frozenset({"a"}))


@given(st.booleans(), st.booleans(), st.sampled_from(["image/png", "image/jpeg", ""]))
def test_data_urls_decode_with_or_without_padding_and_line_breaks(
    strip_padding: bool, wrap: bool, declared: str
) -> None:
    encoded = base64.b64encode(_png()).decode()
    if strip_padding:
        encoded = encoded.rstrip("=")
    if wrap:
        encoded = "\n".join(encoded[i : i + 20] for i in range(0, len(encoded), 20))
    kontext = next(spec for spec in CATALOG if spec.id.endswith("kontext-pro"))

    valid = _validate(kontext, image_url=f"data:{declared};base64,{encoded}")

    assert valid.input_image == decode_input_image(_png())
    assert valid.input_image is not None
    assert valid.input_image.media_type == "image/png"


def test_an_oversized_input_image_is_refused() -> None:
    buffer = io.BytesIO()
    Image.new("1", (MAX_SIDE + 1, MAX_SIDE)).save(buffer, "PNG")

    with pytest.raises(FakeAPIError, match="too large"):
        decode_input_image(buffer.getvalue())


def test_unsupported_input_formats_are_refused() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, "BMP")

    with pytest.raises(FakeAPIError, match="got BMP"):
        decode_input_image(buffer.getvalue())


@given(depth=st.integers(min_value=0, max_value=900), wrap_in_object=st.booleans())
def test_json_depth_counts_nesting_iteratively(depth: int, wrap_in_object: bool) -> None:
    value: object = 1
    for level in range(depth):
        value = {"k": value} if wrap_in_object and level % 2 else [value]
    assert json_depth(value) == depth


def _recursive_depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_recursive_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_recursive_depth, value), default=0)
    return 0


@given(
    st.recursive(
        st.none() | st.integers() | st.text(max_size=3),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner),
        max_leaves=30,
    )
)
def test_json_depth_is_the_deepest_nesting_of_any_branch(value: object) -> None:
    assert json_depth(value) == _recursive_depth(value)


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 500])
def test_bodies_nested_too_deep_are_a_400(depth: int) -> None:
    body = '{"model": "m", "extra": ' + "[" * depth + "]" * depth + "}"
    with pytest.raises(FakeAPIError) as caught:
        parse_json_object({"content-type": "application/json"}, body.encode(), strict=True)
    assert caught.value.status == 400
    assert f"deeper than {MAX_JSON_DEPTH} levels" in str(caught.value)


def test_bodies_nested_to_the_limit_are_accepted() -> None:
    nested = "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1)
    body = '{"extra": ' + nested + "}"
    parsed = parse_json_object({"content-type": "application/json"}, body.encode(), strict=True)
    assert json_depth(parsed) == MAX_JSON_DEPTH


# --- the words of each refusal: the field it names and the value it quotes ---------------------

SCHNELL = "black-forest-labs/FLUX.1-schnell"
KONTEXT = "black-forest-labs/FLUX.1-kontext-pro"
FLUX2_PRO = "black-forest-labs/FLUX.2-pro"


def _spec(model_id: str) -> ModelSpec:
    return next(spec for spec in CATALOG if spec.id == model_id)


def _refusal(
    model_id: str, fields: dict[str, Any], *, policy: str = "record", remote: Any = None
) -> str:
    body = {"model": model_id, "prompt": "a quetzal", **fields}
    with pytest.raises(FakeAPIError) as raised:
        validate_generation(
            body,
            _spec(model_id),
            strict=True,
            remote_images=remote or {},
            remote_policy=policy,  # type: ignore[arg-type]
        )
    assert raised.value.status == 400
    return raised.value.message


def _quoted(value: Any) -> str:
    """How a refusal quotes a wrong value: its JSON, non-ASCII raw, cut to 80 characters."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."


@given(
    st.one_of(
        st.text(max_size=120),
        st.integers(),
        st.lists(st.integers(), max_size=30),
        st.dictionaries(st.text(max_size=5), st.booleans(), max_size=8),
    )
)
def test_a_value_of_the_wrong_type_is_named_and_quoted(value: Any) -> None:
    assert _refusal(SCHNELL, {"disable_safety_checker": value}) == (
        "Invalid value for 'disable_safety_checker' parameter. Expected a boolean, got "
        f"{_quoted(value)}."
    )
    if not isinstance(value, int):
        assert _refusal(SCHNELL, {"guidance_scale": value}) == (
            "Invalid value for 'guidance_scale' parameter. Expected a number, got "
            f"{_quoted(value)}."
        )


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("x" * 78, '"' + "x" * 78 + '"'),  # 80 characters with the quotes: whole
        ("x" * 79, '"' + "x" * 76 + "..."),  # 81: cut to 77 and an ellipsis
        ("é" * 3, '"ééé"'),  # non-ASCII text as it is, not \\u escapes
    ],
)
def test_a_quoted_value_is_cut_after_eighty_characters(value: str, shown: str) -> None:
    message = _refusal(SCHNELL, {"disable_safety_checker": value})
    assert message.endswith(f"Expected a boolean, got {shown}.")


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_javascript_number_constants_are_invalid_json(constant: str) -> None:
    with pytest.raises(FakeAPIError) as raised:
        parse_json_object(
            {"content-type": "application/json"}, f'{{"n": {constant}}}'.encode(), strict=True
        )
    assert raised.value.message.startswith(
        f"Invalid JSON in request body: {constant} is not valid JSON"
    )


def _data_url(data: bytes, header: str = "image/png;base64") -> str:
    return f"data:{header}," + base64.b64encode(data).decode()


@pytest.mark.parametrize(
    ("model_id", "field", "as_list"),
    [(KONTEXT, "image_url", False), (FLUX2_PRO, "reference_images", True)],
)
@pytest.mark.parametrize(
    ("url", "detail"),
    [
        (
            "data:image/png,QUJD",
            'Expected a data URL of the form data:<type>;base64,<data>, got "data:image/png,QUJD".',
        ),
        ("data:image/png;base64,QUJD*", "The data URL does not hold valid base64: "),
        (_data_url(b"not an image"), "The input image could not be decoded as an image: "),
        (
            "ftp://example.com/a.png",
            "Expected an http(s) URL or a base64 data URL of an image, got "
            '"ftp://example.com/a.png".',
        ),
    ],
)
def test_an_input_image_refusal_names_its_field(
    model_id: str, field: str, as_list: bool, url: str, detail: str
) -> None:
    message = _refusal(model_id, {field: [url] if as_list else url})
    assert message.startswith(f"Invalid value for '{field}' parameter. {detail}")


@pytest.mark.parametrize(
    ("model_id", "field", "as_list"),
    [(KONTEXT, "image_url", False), (FLUX2_PRO, "reference_images", True)],
)
@pytest.mark.parametrize("url", ["http://example.com/a.png", "https://example.com/a.png"])
def test_remote_images_decode_when_registered_and_refuse_as_the_policy_says(
    model_id: str, field: str, as_list: bool, url: str
) -> None:
    def value(given: str) -> Any:
        return [given] if as_list else given

    body = {"model": model_id, "prompt": "p", field: value(url)}
    spec = _spec(model_id)
    registered = validate_generation(
        body, spec, strict=True, remote_images={url: _png()}, remote_policy="reject"
    )
    unknown = validate_generation(body, spec, strict=True, remote_images={}, remote_policy="record")
    decoded = registered.input_image if field == "image_url" else registered.references[0]
    assert decoded == decode_input_image(_png())
    assert (unknown.input_image, unknown.references) == (None, ())

    assert _refusal(model_id, {field: value(url)}, policy="reject") == (
        f"Invalid value for '{field}' parameter. Could not download the image at \"{url}\"."
    )
    broken = _refusal(model_id, {field: value(url)}, remote={url: b"junk"})
    assert broken.startswith(
        f"Invalid value for '{field}' parameter. The input image could not be decoded"
    )


def _png_of(width: int, height: int, mode: str = "1") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (width, height)).save(buffer, "PNG")
    return buffer.getvalue()


def test_an_input_image_side_may_reach_the_limit_but_not_pass_it() -> None:
    longest = MAX_INPUT_SIDE
    assert decode_input_image(_png_of(longest, 1)).pixels.size == (longest, 1)
    with pytest.raises(FakeAPIError) as raised:
        decode_input_image(_png_of(longest + 1, 1), "reference_images")
    assert raised.value.message == (
        f"Invalid value for 'reference_images' parameter. The input image is {longest + 1}x1 "
        f"pixels: expected at most {longest} pixels a side (and {MAX_SIDE}x{MAX_SIDE} pixels in "
        "all)."
    )


def test_an_input_image_area_may_reach_the_limit_but_not_pass_it() -> None:
    assert decode_input_image(_png_of(MAX_SIDE, MAX_SIDE)).pixels.size == (MAX_SIDE, MAX_SIDE)
    with pytest.raises(FakeAPIError, match=f"{MAX_SIDE + 1}x{MAX_SIDE} pixels is too large"):
        decode_input_image(_png_of(MAX_SIDE + 1, MAX_SIDE))


def test_an_input_image_at_the_longest_side_is_still_decoded_whole() -> None:
    truncated = _png_of(MAX_INPUT_SIDE, 2, "L")[:-40]  # the pixel data cut short
    with pytest.raises(FakeAPIError, match="could not be decoded as an image"):
        decode_input_image(truncated)


def test_the_default_field_of_a_decoding_refusal_is_image_url() -> None:
    with pytest.raises(FakeAPIError) as raised:
        decode_input_image(b"junk")
    assert raised.value.message.startswith(
        "Invalid value for 'image_url' parameter. The input image could not be decoded"
    )
    gif = io.BytesIO()
    Image.new("RGB", (2, 2)).save(gif, "TIFF")
    with pytest.raises(FakeAPIError) as refused:
        decode_input_image(gif.getvalue())
    assert refused.value.message == (
        "Invalid value for 'image_url' parameter. Expected a PNG, JPEG, WebP or GIF input image, "
        "got TIFF."
    )


# --- LoRAs and reference images ---------------------------------------------------------------

FLUX2_DEV = "black-forest-labs/FLUX.2-dev"  # takes up to 2 LoRAs [DOC] and 6 references [INF]
_LORA = {"path": "https://example.com/style.safetensors", "scale": 0.8}


def _accepts(model_id: str, fields: dict[str, Any]) -> Any:
    body = {"model": model_id, "prompt": "a quetzal", **fields}
    return validate_generation(
        body, _spec(model_id), strict=True, remote_images={}, remote_policy="record"
    )


def _is_lora(item: Any) -> bool:
    return (
        isinstance(item, dict)
        and isinstance(item.get("path"), str)
        and type(item.get("scale")) in (int, float)
    )


_LORA_ITEMS = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "path": st.one_of(st.text(max_size=8), st.integers(), st.none()),
            "scale": st.one_of(
                st.floats(allow_nan=False), st.integers(), st.booleans(), st.text(max_size=3)
            ),
        },
    ),
    st.text(max_size=8),
    st.integers(),
    st.lists(st.integers(), max_size=2),
)


@given(st.lists(_LORA_ITEMS, max_size=2))
def test_a_lora_is_an_object_with_a_string_path_and_a_number_scale(items: list[Any]) -> None:
    bad = next((item for item in items if not _is_lora(item)), None)
    if bad is None:
        _accepts(FLUX2_DEV, {"image_loras": items})
        return
    assert _refusal(FLUX2_DEV, {"image_loras": items}) == (
        "Invalid value for 'image_loras' parameter. Each LoRA must be an object with a string "
        f"'path' and a number 'scale', got {_quoted(bad)}."
    )


@pytest.mark.parametrize("count", [0, 1, 2, 3, 5])
def test_a_model_takes_at_most_its_number_of_loras(count: int) -> None:
    fields = {"image_loras": [_LORA] * count}
    if count <= 2:
        _accepts(FLUX2_DEV, fields)
    else:
        assert _refusal(FLUX2_DEV, fields) == (
            f"Invalid value for 'image_loras' parameter. At most 2 LoRAs are allowed, got {count}."
        )
    # Relaxed, the documented limit stays: it is not an inferred rule.
    body = {"model": FLUX2_DEV, "prompt": "p", **fields}
    if count > 2:
        with pytest.raises(FakeAPIError, match="At most 2 LoRAs"):
            validate_generation(
                body, _spec(FLUX2_DEV), strict=False, remote_images={}, remote_policy="record"
            )


@pytest.mark.parametrize("loras", [{"path": "p", "scale": 1}, "p", 3])
def test_loras_must_come_as_an_array(loras: Any) -> None:
    assert _refusal(FLUX2_DEV, {"image_loras": loras}) == (
        f"Invalid value for 'image_loras' parameter. Expected an array, got {_quoted(loras)}."
    )


def test_loras_are_not_read_by_a_model_that_ignores_them() -> None:
    # FLUX.1-schnell ignores image_loras [DOC]: not even its type is checked.
    _accepts(SCHNELL, {"image_loras": "not an array"})


@pytest.mark.parametrize(
    "references", ["https://example.com/a.png", ["https://example.com/a.png", 7], {"a": "b"}]
)
def test_reference_images_must_be_an_array_of_strings(references: Any) -> None:
    assert _refusal(FLUX2_PRO, {"reference_images": references}) == (
        "Invalid value for 'reference_images' parameter. Expected an array of URL strings, got "
        f"{_quoted(references)}."
    )


@pytest.mark.parametrize("count", [7, 8, 9])
def test_a_model_takes_at_most_its_number_of_reference_images(count: int) -> None:
    fields = {"reference_images": [f"https://example.com/{i}.png" for i in range(count)]}
    if count <= 8:
        assert len(_accepts(FLUX2_PRO, fields).reference_urls) == count
    else:
        assert _refusal(FLUX2_PRO, fields) == (
            "Invalid value for 'reference_images' parameter. The selected model supports at most "
            "8 reference images."
        )


# --- the request itself: content type, JSON object, model ------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "Application/JSON",
        "application/json; charset=utf-8",
        "application/json; charset=utf-8; boundary=x",
        " application/json ;charset=utf-8",
        "application/vnd.api+json",
        "application/merge-patch+json; charset=utf-8",
    ],
)
def test_json_content_types_are_accepted(content_type: str) -> None:
    parsed = parse_json_object({"content-type": content_type}, b'{"a": 1}', strict=True)
    assert parsed == {"a": 1}


@pytest.mark.parametrize(
    ("headers", "shown"),
    [
        ({"content-type": "text/plain"}, "'text/plain'"),
        ({"content-type": "text/plain; charset=utf-8"}, "'text/plain'"),
        ({"content-type": "application/json+xml"}, "'application/json+xml'"),
        ({"content-type": "application/jsonp"}, "'application/jsonp'"),
        ({"content-type": ""}, "'none'"),
        ({}, "'none'"),
    ],
)
def test_other_content_types_are_refused_when_strict(headers: dict[str, str], shown: str) -> None:
    with pytest.raises(FakeAPIError) as raised:
        parse_json_object(headers, b'{"a": 1}', strict=True)
    assert raised.value.status == 400
    assert raised.value.message == (
        f"Invalid request: expected Content-Type 'application/json', got {shown}."
    )
    assert parse_json_object(headers, b'{"a": 1}', strict=False) == {"a": 1}


@pytest.mark.parametrize(("body", "kind"), [(b"[1]", "list"), (b'"s"', "str"), (b"1", "int")])
def test_a_body_that_is_not_an_object_is_named_by_its_type(body: bytes, kind: str) -> None:
    with pytest.raises(FakeAPIError) as raised:
        parse_json_object({"content-type": "application/json"}, body, strict=True)
    assert raised.value.message == f"Invalid request body: expected a JSON object, got {kind}."


def _resolve_error(body: dict[str, Any], serve_retired: bool = False) -> FakeAPIError:
    with pytest.raises(FakeAPIError) as raised:
        resolve_model(body, Catalog.build(), serve_retired=serve_retired)
    return raised.value


@pytest.mark.parametrize("model", [7, ["m"], True])
def test_a_model_that_is_not_a_string_is_quoted(model: Any) -> None:
    error = _resolve_error({"model": model})
    assert (error.status, error.message) == (
        400,
        f"Invalid value for 'model' parameter. Expected a string, got {_quoted(model)}.",
    )


@pytest.mark.parametrize(
    "model",
    [
        "acme/unknown-model",
        "black-forest-labs/FLUX.1-pro",  # retired, answering as unknown
        "xai/grok-imagine-image-pro",
    ],
)
def test_an_unknown_or_retired_model_is_named_in_the_404(model: str) -> None:
    error = _resolve_error({"model": model})
    assert (error.status, error.code) == (404, "model_not_available")
    assert error.message == (
        f"Unable to access model {model}. Please visit https://api.together.ai/models to view the "
        "list of supported models."
    )


def test_a_retired_model_is_served_when_asked() -> None:
    model = "black-forest-labs/FLUX.1-pro"
    spec = resolve_model({"model": model}, Catalog.build(), serve_retired=True)
    assert spec.id == model


# --- n, choices and a required input image, in each wording family ---------------------------


@pytest.mark.parametrize("n", [0, 5, -1])
def test_n_out_of_range_is_refused_in_the_families_words(n: int) -> None:
    assert _refusal(FLUX2_PRO, {"n": n}) == (
        "Invalid value for 'n' parameter. N must be an integer value between 1 and 4."
    )
    assert _refusal(SCHNELL, {"n": n}) == (
        f"Invalid value for 'n' parameter. Expected an integer between 1 and 4, got {n}."
    )


@pytest.mark.parametrize(
    ("name", "value", "options"),
    [
        ("response_format", "b64_json", "'base64', 'url'"),  # strict: the SDK's old name is refused
        ("response_format", "URL", "'base64', 'url'"),
        ("output_format", "webp", "'jpeg', 'png'"),
    ],
)
def test_a_value_outside_a_choice_names_every_option(name: str, value: str, options: str) -> None:
    assert _refusal(SCHNELL, {name: value}) == (
        f"Invalid value for '{name}' parameter. Expected one of {options}, got {_quoted(value)}."
    )


def test_a_model_that_needs_an_input_image_says_so() -> None:
    canny = "black-forest-labs/FLUX.1-canny"
    assert _refusal(canny, {}) == (
        f"Missing required parameter 'image_url'. Model {canny} needs an input image."
    )


def test_no_authorization_header_is_the_real_401() -> None:
    for headers in ({}, {"authorization": ""}, {"authorization": "Bearer"}):
        error = _outcome(lambda: check_auth(headers, None))[1]  # noqa: B023 - called at once
        assert error is not None
        assert (error.status, error.code) == (401, "invalid_api_key")


@pytest.mark.parametrize("steps", [0, 51])
def test_steps_out_of_range_are_refused_in_the_families_words(steps: int) -> None:
    assert _refusal(FLUX2_DEV, {"steps": steps}) == (
        "Invalid value for 'steps' parameter. Steps must be an integer value between 1 and 50."
    )
    assert _refusal(SCHNELL, {"steps": steps}) == (
        f"Invalid value for 'steps' parameter. Expected an integer between 1 and 50, got {steps}."
    )


@pytest.mark.parametrize("steps", [1, 50])
def test_steps_at_either_end_of_the_range_are_taken(steps: int) -> None:
    assert _accepts(FLUX2_DEV, {"steps": steps}).steps == steps
    assert _accepts(SCHNELL, {"steps": steps}).steps == steps


@pytest.mark.parametrize("n", [10, 11])
def test_n_never_passes_the_fakes_own_limit_of_ten(n: int) -> None:
    spec = _spec(SCHNELL).with_rules(max_n=12)
    body = {"model": SCHNELL, "prompt": "p", "n": n}
    outcome, error = _outcome(
        lambda: validate_generation(
            body, spec, strict=True, remote_images={}, remote_policy="record"
        )
    )
    if n <= 10:
        assert outcome.n == n
    else:
        assert error is not None
        assert error.message == (
            "Invalid value for 'n' parameter. Expected an integer between 1 and 10, got 11."
        )


def test_a_documented_required_input_image_is_required_when_relaxed_too() -> None:
    canny = "black-forest-labs/FLUX.1-canny"
    body = {"model": canny, "prompt": "p"}
    with pytest.raises(FakeAPIError, match="Missing required parameter 'image_url'"):
        validate_generation(
            body, _spec(canny), strict=False, remote_images={}, remote_policy="record"
        )


def _relaxed(model_id: str, fields: dict[str, Any]) -> Any:
    body = {"model": model_id, "prompt": "a quetzal", **fields}
    return validate_generation(
        body, _spec(model_id), strict=False, remote_images={}, remote_policy="record"
    )


def test_a_relaxed_fake_reads_a_field_refused_only_by_inference_and_checks_its_type() -> None:
    imagen = "google/imagen-4.0-preview"  # refuses steps by an [INF] rule
    _relaxed(imagen, {"steps": 20})
    with pytest.raises(FakeAPIError) as raised:
        _relaxed(imagen, {"steps": "many"})
    assert raised.value.message == (
        "Invalid value for 'steps' parameter. Expected an integer, got \"many\"."
    )


def test_an_ignored_field_is_never_read_strict_or_relaxed() -> None:
    # FLUX.1-schnell ignores guidance [INF]: a wrong type is no error either way.
    _accepts(SCHNELL, {"guidance": "strong"})
    _relaxed(SCHNELL, {"guidance": "strong"})


def test_an_integer_may_be_written_as_a_whole_float() -> None:
    assert _accepts(SCHNELL, {"steps": 20.0}).steps == 20
    assert _refusal(SCHNELL, {"steps": 20.5}) == (
        "Invalid value for 'steps' parameter. Expected an integer, got 20.5."
    )


def test_text_fields_name_a_value_of_another_type() -> None:
    kontext = _refusal(KONTEXT, {"image_url": 7})
    assert kontext == "Invalid value for 'image_url' parameter. Expected a string, got 7."


@pytest.mark.parametrize("prompt", ["", "   ", "\n\t"])
def test_a_blank_prompt_is_refused_when_strict_and_kept_when_relaxed(prompt: str) -> None:
    assert _refusal(SCHNELL, {"prompt": prompt}) == (
        "Invalid value for 'prompt' parameter. Prompt must be a non-empty string."
    )
    assert _relaxed(SCHNELL, {"prompt": prompt}).prompt == prompt


def test_a_missing_prompt_is_a_missing_parameter() -> None:
    assert _refusal(SCHNELL, {"prompt": None}) == "Missing required parameter 'prompt'."


@pytest.mark.parametrize(("side", "accepted"), [(1, True), (MAX_SIDE, True), (MAX_SIDE + 1, False)])
@pytest.mark.parametrize("name", ["width", "height"])
def test_relaxed_sides_keep_the_fakes_limit_with_its_words(
    name: str, side: int, accepted: bool
) -> None:
    pro = "black-forest-labs/FLUX.1.1-pro"  # sizes by an [INF] rule: relaxed, only the fake's
    if accepted:  # own limit is left
        valid = _relaxed(pro, {name: side})
        assert getattr(valid, name) == side
        return
    with pytest.raises(FakeAPIError) as raised:
        _relaxed(pro, {name: side})
    assert raised.value.message == (
        f"Invalid value for '{name}' parameter. Image {name} must be an integer value between 1 "
        f"and {MAX_SIDE} (a limit of the fake)."
    )


@pytest.mark.parametrize("ratio", ["wide", "16x9", "0:9"])
def test_an_aspect_ratio_that_is_not_a_ratio_is_quoted(ratio: str) -> None:
    assert _refusal(SCHNELL, {"aspect_ratio": ratio}) == (
        f"Invalid value for 'aspect_ratio' parameter. Expected a ratio such as '16:9', got "
        f"{_quoted(ratio)}."
    )


@pytest.mark.parametrize(
    ("given", "kept"), [("url", "url"), ("base64", "base64"), ("b64_json", "base64"), (None, "url")]
)
def test_a_relaxed_fake_also_takes_the_sdks_old_response_format_name(
    given: str | None, kept: str
) -> None:
    assert _relaxed(SCHNELL, {"response_format": given}).response_format == kept


@pytest.mark.parametrize(("given", "kept"), [("png", "png"), ("jpeg", "jpeg"), (None, "jpeg")])
def test_output_format_is_kept_or_defaults_to_jpeg(given: str | None, kept: str) -> None:
    assert _accepts(SCHNELL, {"output_format": given}).output_format == kept


def test_guidance_is_checked_as_a_number_where_the_model_takes_it() -> None:
    # FLUX.2-dev takes guidance, FLUX.1-schnell guidance_scale [DOC/3P per the table].
    assert _refusal(FLUX2_DEV, {"guidance": "strong"}) == (
        "Invalid value for 'guidance' parameter. Expected a number, got \"strong\"."
    )
    assert _refusal(SCHNELL, {"guidance_scale": "strong"}) == (
        "Invalid value for 'guidance_scale' parameter. Expected a number, got \"strong\"."
    )


def test_the_safety_switch_is_not_read_by_a_model_that_ignores_it() -> None:
    pro = "black-forest-labs/FLUX.1.1-pro"  # ignores disable_safety_checker [DOC]
    assert _accepts(pro, {"disable_safety_checker": "yes"}).disable_safety_checker is False
    assert _accepts(SCHNELL, {"disable_safety_checker": True}).disable_safety_checker is True
