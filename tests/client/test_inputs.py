"""Normalization and validation of arguments before any request (``together_image._inputs``)."""

from __future__ import annotations

import base64
import io
import re
import string
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from PIL import Image

from together_image import (
    ImagePrompt,
    InvalidArgumentError,
    InvalidDataContentError,
    create_togetherai,
)
from together_image._config import validate_timeout
from together_image._inputs import (
    normalize_image_input,
    normalize_prompt,
    parse_size,
    validate_aspect_ratio,
    validate_count,
    validate_seed,
)
from together_image._media import detect_media_type, parse_data_url, to_data_url
from together_image._provider import parse_provider_options

from ._support import JPEG, JPEG_B64, PNG, PNG_B64

PNG_DATA_URL = f"data:image/png;base64,{PNG_B64}"
JPEG_DATA_URL = f"data:image/jpeg;base64,{JPEG_B64}"
SIZE_PATTERN = re.compile(r"[1-9][0-9]*x[1-9][0-9]*")


# --- image inputs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (PNG, PNG_DATA_URL),
        (bytearray(JPEG), JPEG_DATA_URL),
        (memoryview(PNG), PNG_DATA_URL),
        (PNG_B64, PNG_DATA_URL),
        (PNG_B64.rstrip("="), PNG_DATA_URL),
        (JPEG_B64.replace("+", "-").replace("/", "_"), JPEG_DATA_URL),
        (PNG_DATA_URL, PNG_DATA_URL),
        (f"data:;base64,{JPEG_B64}", JPEG_DATA_URL),
        (f"data:image/webp;base64,{PNG_B64}", f"data:image/webp;base64,{PNG_B64}"),
        ("SGVsbG8", "data:image/png;base64,SGVsbG8="),
        ("", "data:image/png;base64,"),
        (io.BytesIO(JPEG), JPEG_DATA_URL),
    ],
)
def test_normalize_image_input(image: Any, expected: str) -> None:
    assert normalize_image_input(image) == expected


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/input.jpg",
        "http://127.0.0.1:8787/shrt/abc?x=1&y=2",
        "HTTPS://EXAMPLE.COM/A.PNG",
    ],
)
def test_urls_are_sent_verbatim(url: str) -> None:
    assert normalize_image_input(url) == url


def test_path_is_read(tmp_path: Path) -> None:
    path = tmp_path / "input.jpg"
    path.write_bytes(JPEG)
    assert normalize_image_input(path) == JPEG_DATA_URL


def test_missing_path_is_an_argument_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match=r"Cannot read the image file .*missing\.png"):
        normalize_image_input(tmp_path / "missing.png")


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "P", "CMYK", "F"])
def test_pil_images_are_sent_as_png(mode: str) -> None:
    image = Image.new(mode, (3, 2))
    media_type, data = parse_data_url(normalize_image_input(image))
    assert media_type == "image/png"
    with Image.open(io.BytesIO(data)) as decoded:
        assert decoded.size == (3, 2)


def test_text_mode_file_is_rejected() -> None:
    with pytest.raises(InvalidDataContentError, match=r"binary file object.*returned str"):
        normalize_image_input(io.StringIO("not bytes"))


@pytest.mark.parametrize("image", [42, None, 1.5, ["nested"], object()])
def test_unsupported_types_are_rejected(image: object) -> None:
    with pytest.raises(InvalidDataContentError, match=f"but got {type(image).__name__}"):
        normalize_image_input(image)


@pytest.mark.parametrize(
    "image",
    ["not base64!", "cat.png", "ftp://example.com/a.png", "data:image/png;base64,###"],
)
def test_undecodable_strings_are_rejected(image: str) -> None:
    with pytest.raises(InvalidDataContentError):
        normalize_image_input(image)


# --- prompts ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "text", "images", "mask"),
    [
        ("a quetzal", "a quetzal", (), None),
        ("", "", (), None),
        (ImagePrompt(text="edit", images=[PNG]), "edit", (PNG_DATA_URL,), None),
        ({"text": "edit", "images": [PNG, JPEG_B64]}, "edit", (PNG_DATA_URL, JPEG_DATA_URL), None),
        ({"images": ["https://x.test/a.png"]}, None, ("https://x.test/a.png",), None),
        ({"text": "t", "images": None}, "t", (), None),
        ({"text": "t", "mask": PNG}, "t", (), PNG),
        (ImagePrompt(), None, (), None),
    ],
)
def test_normalize_prompt(
    prompt: Any, text: str | None, images: tuple[str, ...], mask: Any
) -> None:
    normalized = normalize_prompt(prompt)
    assert (normalized.text, normalized.images, normalized.mask) == (text, images, mask)


@pytest.mark.parametrize(
    ("prompt", "message"),
    [
        (5, "prompt must be a string, an ImagePrompt or a mapping"),
        ({"text": "t", "image": PNG}, r"unknown keys \['image'\]"),
        ({"text": 3}, "prompt text must be a string or None, got int"),
        ({"images": PNG_B64}, "images must be a list of images"),
        ({"images": PNG}, "images must be a list of images"),
        (ImagePrompt(images=42), r"list of images \(e.g. \[image_bytes\]\), got int"),  # type: ignore[arg-type]
    ],
)
def test_invalid_prompts(prompt: Any, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message) as raised:
        normalize_prompt(prompt)
    assert raised.value.argument == "prompt"


def test_every_prompt_image_is_checked_even_ignored_ones() -> None:
    with pytest.raises(InvalidDataContentError):
        normalize_prompt({"text": "t", "images": [PNG, "not base64!"]})


# --- size, aspect ratio, counts, seed -------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (None, None),
        ("512x512", (512, 512)),
        ("1024x768", (1024, 768)),
        ("1x1", (1, 1)),
        ("1792x1792", (1792, 1792)),
    ],
)
def test_parse_size(size: str | None, expected: tuple[int, int] | None) -> None:
    assert parse_size(size) == expected


@pytest.mark.parametrize(
    "size",
    [
        "512X512",
        " 512x512",
        "512x512\n",
        "0x0",
        "",
        "1024x768x3",
        "axb",
        "1.5x2.9",
        "-5x-5",
        "+7x8",
        "0X1Fx5",
        "1e3x2",
        "0512x512",
        "512 x 512",
        "５１２x512",  # full-width digits
        512,
        (512, 512),
    ],
)
def test_invalid_sizes(size: object) -> None:
    with pytest.raises(InvalidArgumentError, match="size must be a string 'WIDTHxHEIGHT'"):
        parse_size(size)


def test_absurdly_long_size_is_rejected() -> None:
    with pytest.raises(InvalidArgumentError, match="size is too large"):
        parse_size("9" * 5000 + "x1")


@pytest.mark.parametrize("ratio", [None, "1:1", "16:9", "9:16", "3:2"])
def test_valid_aspect_ratios(ratio: str | None) -> None:
    assert validate_aspect_ratio(ratio) == ratio


@pytest.mark.parametrize("ratio", ["16/9", "0:1", "16:9:1", " 1:1", "1.5:1", 1.5])
def test_invalid_aspect_ratios(ratio: object) -> None:
    with pytest.raises(InvalidArgumentError, match="aspect_ratio must be a string 'W:H'"):
        validate_aspect_ratio(ratio)


@pytest.mark.parametrize(("value", "minimum"), [(1, 1), (4, 1), (0, 0), (7, 0)])
def test_valid_counts(value: int, minimum: int) -> None:
    assert validate_count(value, argument="n", minimum=minimum) == value


@pytest.mark.parametrize(("value", "minimum"), [(0, 1), (-1, 0), (1.0, 1), (True, 1), ("2", 1)])
def test_invalid_counts(value: object, minimum: int) -> None:
    with pytest.raises(InvalidArgumentError, match=f"n must be an integer >= {minimum}"):
        validate_count(value, argument="n", minimum=minimum)


@pytest.mark.parametrize("seed", [None, 0, 42, -1, 2**40])
def test_valid_seeds(seed: int | None) -> None:
    assert validate_seed(seed) == seed


@pytest.mark.parametrize("seed", [1.5, "42", True, float("nan")])
def test_invalid_seeds(seed: object) -> None:
    with pytest.raises(InvalidArgumentError, match="seed must be an integer"):
        validate_seed(seed)


# --- properties ---------------------------------------------------------------------------------


@st.composite
def base64_spellings(draw: st.DrawFn, data: bytes) -> str:
    """Any spelling of ``data`` that forgiving base64 accepts: alphabet, padding, whitespace."""
    text = base64.b64encode(data).decode()
    if draw(st.booleans()):
        text = text.replace("+", "-").replace("/", "_")
    if draw(st.booleans()):
        text = text.rstrip("=")
    whitespace = st.text(alphabet=" \t\n\r\f", max_size=3)
    pieces = [draw(whitespace) + char for char in text]
    spelled = "".join(pieces) + draw(whitespace)
    if draw(st.booleans()):
        return f"data:;base64,{spelled}"
    return spelled


@given(st.binary())
def test_bytes_become_a_data_url_that_decodes_back(data: bytes) -> None:
    for image in (data, bytearray(data), memoryview(data), io.BytesIO(data)):
        media_type, decoded = parse_data_url(normalize_image_input(image))
        assert decoded == data
        assert media_type == (detect_media_type(data) or "image/png")


@given(st.data(), st.binary(max_size=64))
def test_every_base64_spelling_gives_the_same_data_url(draw: st.DataObject, data: bytes) -> None:
    spelling = draw.draw(base64_spellings(data))
    assert normalize_image_input(spelling) == to_data_url(data)


@given(st.binary())
def test_normalization_is_idempotent(data: bytes) -> None:
    once = normalize_image_input(data)
    assert normalize_image_input(once) == once


@given(st.sampled_from(["http://", "https://", "HTTP://", "Https://"]), st.text())
def test_http_urls_pass_through_verbatim(scheme: str, rest: str) -> None:
    url = scheme + rest
    assert normalize_image_input(url) == url


INVALID_BASE64_CHARACTERS = st.characters(
    exclude_characters=string.ascii_letters + string.digits + "+/-_=\t\n\f\r ",
)


@given(st.binary(max_size=32), st.data())
def test_invalid_base64_always_raises(data: bytes, draw: st.DataObject) -> None:
    text = base64.b64encode(data).decode()
    position = draw.draw(st.integers(0, len(text)))
    broken = text[:position] + draw.draw(INVALID_BASE64_CHARACTERS) + text[position:]
    assume(not broken.lower().startswith(("http://", "https://", "data:")))
    with pytest.raises(InvalidDataContentError):
        normalize_image_input(broken)


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"))
def test_a_dangling_base64_character_always_raises(text: str) -> None:
    assume(len(text) % 4 == 1)
    with pytest.raises(InvalidDataContentError):
        normalize_image_input(text)


@given(st.integers(1, 10**12), st.integers(1, 10**12))
def test_valid_sizes_parse_exactly(width: int, height: int) -> None:
    assert parse_size(f"{width}x{height}") == (width, height)


@given(
    st.one_of(
        st.text(),
        st.text(alphabet="0123456789xX: +-.").filter(bool),
        st.builds(
            lambda w, h, sep, pad: f"{pad}{w}{sep}{h}",
            st.integers(-5, 5000),
            st.integers(-5, 5000),
            st.sampled_from(["x", "X", "*", " x ", "×", ":"]),
            st.sampled_from(["", "0", " ", "+"]),
        ),
    )
)
def test_every_other_size_string_raises(size: str) -> None:
    assume(not SIZE_PATTERN.fullmatch(size))
    with pytest.raises(InvalidArgumentError):
        parse_size(size)


@pytest.mark.parametrize(("mode", "expected_mode"), [("RGBa", "RGBA"), ("La", "LA")])
def test_premultiplied_pil_images_keep_their_alpha(mode: str, expected_mode: str) -> None:
    straight = Image.new(expected_mode, (2, 1), (90, 128) if mode == "La" else (90, 60, 30, 128))
    image_url = normalize_image_input(straight.convert(mode))
    media_type, data = parse_data_url(image_url)
    decoded = Image.open(io.BytesIO(data))
    assert media_type == "image/png"
    assert decoded.mode == expected_mode
    # The alpha channel survives the conversion to straight alpha, value for value.
    assert decoded.getchannel("A").getextrema() == (128, 128)


def test_an_unreadable_path_names_the_file_and_the_reason(tmp_path: Path) -> None:
    missing = tmp_path / "missing.png"
    with pytest.raises(InvalidArgumentError) as raised:
        normalize_image_input(missing)
    assert (
        str(raised.value)
        == f"Cannot read the image file {str(missing)!r}: No such file or directory."
    )
    assert raised.value.argument == "image"


def test_a_path_with_a_nul_byte_is_an_argument_error_not_a_crash() -> None:
    with pytest.raises(InvalidArgumentError) as raised:
        normalize_image_input(Path("in\0put.png"))
    assert str(raised.value) == "Cannot read the image file 'in\\x00put.png': embedded null byte."
    assert raised.value.argument == "image"


def test_a_text_mode_file_is_refused_in_the_ai_sdk_wording() -> None:
    with pytest.raises(InvalidDataContentError) as raised:
        normalize_image_input(io.StringIO("not bytes"))
    assert str(raised.value) == (
        "Invalid data content. Expected a binary file object (open(..., 'rb')), but read() "
        "returned str."
    )


@pytest.mark.parametrize("size", [(0, 3), (3, 0), (0, 0)])
def test_an_empty_pil_image_is_refused(size: tuple[int, int]) -> None:
    with pytest.raises(InvalidDataContentError) as raised:
        normalize_image_input(Image.new("RGB", size))
    assert str(raised.value) == (
        f"Invalid data content. The PIL image is empty ({size[0]}x{size[1]})."
    )


@pytest.mark.parametrize("size", [(1, 3), (3, 1), (1, 1)])
def test_a_pil_image_one_pixel_wide_or_high_is_sent(size: tuple[int, int]) -> None:
    media_type, data = parse_data_url(normalize_image_input(Image.new("RGB", size)))
    assert media_type == "image/png"
    with Image.open(io.BytesIO(data)) as decoded:
        assert decoded.size == size


def test_a_pil_image_that_cannot_be_read_is_invalid_data_content() -> None:
    encoded = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 20, 30)).save(encoded, "PNG")
    lazy = Image.open(io.BytesIO(encoded.getvalue()[:-30]))  # pixels cut short, not read yet
    with pytest.raises(InvalidDataContentError) as raised:
        normalize_image_input(lazy)
    assert str(raised.value).startswith(
        "Invalid data content. The PIL image (mode 'RGB') cannot be encoded as PNG: "
    )


@pytest.mark.parametrize(
    "text", ["https:/example.com/a.png", "http//example.com", "httpx://a", " https://a", "ftp://a"]
)
def test_only_an_http_or_https_scheme_makes_a_string_a_url(text: str) -> None:
    with pytest.raises(InvalidDataContentError):
        normalize_image_input(text)


class _Opaque:
    """An object whose repr would leak into a message if one were used."""


_CHECKS = {
    "size": (parse_size, "size must be a string 'WIDTHxHEIGHT' of positive integers"),
    "aspect_ratio": (validate_aspect_ratio, "aspect_ratio must be a string 'W:H'"),
    "n": (lambda v: validate_count(v, argument="n", minimum=1), "n must be an integer >= 1"),
    "seed": (validate_seed, "seed must be an integer"),
}


def _message(check: str, value: object) -> str:
    call, expected = _CHECKS[check]
    with pytest.raises(InvalidArgumentError) as raised:
        call(value)
    message = str(raised.value)
    assert message.startswith(expected)
    return message


@pytest.mark.parametrize("check", sorted(_CHECKS))
@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (_Opaque(), "_Opaque"),
        ([1], "list"),
        (b"512x512", "bytes"),
        (2.5, "2.5"),
        ("x" * 40, repr("x" * 40)),
        ("x" * 41, repr("x" * 40) + "... (41 characters)"),
    ],
    ids=["object", "list", "bytes", "float", "text-40", "text-41"],
)
def test_a_wrong_argument_is_quoted_as_written_or_by_its_type(
    check: str, value: object, shown: str
) -> None:
    assert _message(check, value).endswith(f", got {shown}.")


@pytest.mark.parametrize("check", ["size", "aspect_ratio"])
def test_a_huge_number_is_named_by_its_type_not_its_digits(check: str) -> None:
    assert _message(check, 10**30).endswith(", got int.")
    assert _message(check, -(10**30)).endswith(", got int.")
    assert _message(check, 10**17).endswith(f", got {10**17}.")


@given(
    st.sampled_from(sorted(_CHECKS)),
    st.one_of(
        st.builds(object),
        st.builds(_Opaque),
        st.lists(st.integers(), max_size=3),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=3),
        st.sets(st.integers(), max_size=3),
        st.binary(max_size=8),
    ),
)
def test_no_wrong_argument_is_ever_shown_as_an_object_repr(check: str, value: object) -> None:
    message = _message(check, value)
    assert " at 0x" not in message
    assert message.endswith(f", got {type(value).__name__}.")


def test_a_size_too_long_for_int_is_an_argument_error() -> None:
    size = "9" * 5000 + "x1"
    with pytest.raises(InvalidArgumentError) as raised:
        parse_size(size)
    assert str(raised.value) == f"size is too large: {len(size)} characters."
    assert raised.value.argument == "size"


def test_a_prompt_of_another_type_is_named_by_its_type() -> None:
    with pytest.raises(InvalidArgumentError) as raised:
        normalize_prompt(42)
    assert str(raised.value) == (
        "prompt must be a string, an ImagePrompt or a mapping with 'text', 'images' and 'mask', "
        "got int."
    )
    assert raised.value.argument == "prompt"


def test_numbers_are_quoted_up_to_eighteen_digits() -> None:
    assert _message("size", 10**18 - 1).endswith(f", got {10**18 - 1}.")
    assert _message("size", 10**18).endswith(", got int.")
    assert _message("size", -(10**18)).endswith(", got int.")


class _Unprintable:
    """An argument whose repr would name its address."""


def _argument_errors(value: object) -> list[str]:
    """The messages every client-side argument check gives ``value`` where a type is expected."""
    provider = create_togetherai(api_key="k")
    calls: list[Callable[[], object]] = [
        lambda: validate_timeout(value),
        lambda: parse_provider_options({"togetherai": {value: 1}}),  # type: ignore[dict-item]
        lambda: parse_provider_options({"togetherai": {"steps": value}}),
        lambda: provider.image(value),  # type: ignore[arg-type]
        lambda: provider.image("m", send_unsupported=value),  # type: ignore[arg-type]
    ]
    messages = []
    for call in calls:
        with pytest.raises(InvalidArgumentError) as raised:
            call()
        messages.append(str(raised.value))
    return messages


@pytest.mark.parametrize("value", [_Unprintable(), frozenset({1}), (1, 2)], ids=type)
def test_timeouts_options_and_model_arguments_name_a_wrong_value_by_its_type(value: object) -> None:
    for message in _argument_errors(value):
        assert " at 0x" not in message
        assert message.endswith(f", got {type(value).__name__}.")
