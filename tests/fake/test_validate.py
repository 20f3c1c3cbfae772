"""Validation rules as properties: each rule accepts exactly what it should, strict or relaxed."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from together_image_fake import CATALOG, ModelSpec
from together_image_fake._errors import FakeAPIError
from together_image_fake._validate import (
    MAX_JSON_DEPTH,
    MAX_SIDE,
    check_auth,
    decode_input_image,
    json_depth,
    parse_json_object,
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
