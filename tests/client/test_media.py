"""Media type detection, forgiving base64 and data URLs (``together_image._media``)."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from together_image import InvalidDataContentError, _media
from together_image._media import (
    check_base64,
    decode_base64,
    detect_media_type,
    encode_base64,
    extension_for_media_type,
    parse_data_url,
    to_data_url,
)

from ._support import JPEG, PNG, encode_image

SIGNATURES = [
    ("image/gif", b"GIF87a"),
    ("image/gif", b"GIF89a"),
    ("image/png", b"\x89PNG"),
    ("image/jpeg", b"\xff\xd8"),
    ("image/webp", b"RIFF\x10\x00\x00\x00WEBP"),
    ("image/bmp", b"BM\x3a\x00\x00\x00\x00\x00\x00\x00"),
    ("image/tiff", b"II*\x00"),
    ("image/tiff", b"MM\x00*"),
    ("image/avif", b"\x00\x00\x00\x1cftypavif"),
    ("image/heic", b"\x00\x00\x00\x18ftypheic"),
]


@pytest.mark.parametrize(("media_type", "signature"), SIGNATURES)
def test_detects_each_signature(media_type: str, signature: bytes) -> None:
    assert detect_media_type(signature + b"\x00rest") == media_type


@pytest.mark.parametrize(
    ("fmt", "media_type"),
    [
        ("PNG", "image/png"),
        ("JPEG", "image/jpeg"),
        ("GIF", "image/gif"),
        ("WEBP", "image/webp"),
        ("BMP", "image/bmp"),
        ("TIFF", "image/tiff"),
    ],
)
def test_detects_images_encoded_by_pillow(fmt: str, media_type: str) -> None:
    assert detect_media_type(encode_image(fmt)) == media_type


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x89P",  # truncated PNG signature
        b"GIF",  # "GIF" alone is not GIF87a/GIF89a
        b"BM hello world",  # "BM" without the reserved zero bytes
        b"RIFF\x10\x00\x00\x00WAVEfmt ",  # RIFF, but audio
        b"hello",
    ],
)
def test_unknown_bytes_have_no_media_type(data: bytes) -> None:
    assert detect_media_type(data) is None


@given(st.sampled_from(SIGNATURES), st.binary(max_size=64))
def test_signature_decides_whatever_follows(case: tuple[str, bytes], tail: bytes) -> None:
    media_type, signature = case
    assert detect_media_type(signature + tail) == media_type


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", b""),
        ("YQ", b"a"),
        ("YQ==", b"a"),
        ("YWI", b"ab"),
        ("YWI=", b"ab"),
        ("SGVsbG8", b"Hello"),
        ("SGVs\nbG8=", b"Hello"),
        (" S G V s\tb G 8 = \r\n", b"Hello"),
        ("-_-_", b"\xfb\xff\xbf"),
        ("+/+/", b"\xfb\xff\xbf"),
    ],
)
def test_decode_base64_forgiving_examples(text: str, expected: bytes) -> None:
    assert decode_base64(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Y",  # 4k+1 characters
        "YQ=",  # padding that does not complete a quantum
        "YQ===",
        "Y=Q=",  # padding inside
        "YQ\v=",  # vertical tab is not ASCII whitespace
        "é",
        "SGVsbG8*",
        "cat.png",  # a file name is not base64: pass a pathlib.Path instead
    ],
)
def test_decode_base64_rejects_invalid_text(text: str) -> None:
    with pytest.raises(InvalidDataContentError, match="not a base64-encoded media"):
        decode_base64(text)


def test_decode_base64_rejects_non_strings() -> None:
    with pytest.raises(InvalidDataContentError, match="Expected a base64 string, got bytes"):
        decode_base64(b"YQ==")  # type: ignore[arg-type]


def test_decode_base64_error_quotes_an_excerpt_of_long_input() -> None:
    with pytest.raises(InvalidDataContentError, match=r"\.\.\. \(101 characters\)"):
        decode_base64("A" * 100 + "*")


def test_encode_base64_is_standard_and_padded() -> None:
    assert encode_base64(b"\xfb\xff\xbf\x00") == "+/+/AA=="
    assert encode_base64(memoryview(b"Hello")) == "SGVsbG8="


@pytest.mark.parametrize(
    ("data", "media_type", "expected"),
    [
        (b"Hello", None, "data:image/png;base64,SGVsbG8="),
        (b"", None, "data:image/png;base64,"),
        (b"Hello", "image/webp", "data:image/webp;base64,SGVsbG8="),
        (b"\xff\xd8\xff", None, "data:image/jpeg;base64,/9j/"),
    ],
)
def test_to_data_url(data: bytes, media_type: str | None, expected: str) -> None:
    assert to_data_url(data, media_type) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (to_data_url(PNG), ("image/png", PNG)),
        ("data:;base64," + base64.b64encode(JPEG).decode(), ("image/jpeg", JPEG)),
        ("data:;base64,aGVsbG8=", ("image/png", b"hello")),
        ("DATA:IMAGE/WEBP;BASE64,aGVsbG8", ("image/webp", b"hello")),
        ("data:image/png;name=a.png;base64,aGVs bG8=", ("image/png", b"hello")),
        ("data:text/plain,hello%20world", ("text/plain", b"hello world")),
        ("data:,%89PNG", ("image/png", b"\x89PNG")),
    ],
)
def test_parse_data_url(url: str, expected: tuple[str, bytes]) -> None:
    assert parse_data_url(url) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("data:image/png;base64", "found no comma"),
        ("data:image/png;base64,@@@@", "not a base64-encoded media"),
        ("data:not a type;base64,AA==", "expected a media type"),
        ("http://example.com/a.png", "starting with 'data:'"),
    ],
)
def test_parse_data_url_rejects(url: str, message: str) -> None:
    with pytest.raises(InvalidDataContentError, match=re.escape(message)):
        parse_data_url(url)


@pytest.mark.parametrize(
    ("media_type", "extension"),
    [
        ("image/png", "png"),
        ("image/jpeg", "jpg"),
        ("image/gif", "gif"),
        ("image/webp", "webp"),
        ("image/tiff", "tiff"),
        ("image/x-custom", "x-custom"),
        ("weird", "weird"),
        ("image/", "bin"),
    ],
)
def test_extension_for_media_type(media_type: str, extension: str) -> None:
    assert extension_for_media_type(media_type) == extension


@given(st.binary())
def test_base64_round_trip(data: bytes) -> None:
    assert decode_base64(encode_base64(data)) == data


@given(st.binary())
def test_data_url_round_trip_keeps_bytes_and_detected_type(data: bytes) -> None:
    media_type, decoded = parse_data_url(to_data_url(data))
    assert decoded == data
    assert media_type == (detect_media_type(data) or "image/png")


_BASE64_PIECES = st.sampled_from(
    ["A", "Qw", "+", "/", "-", "_", "=", "==", " ", "\n", "é", "*", "QUJD"]
)


@given(st.lists(_BASE64_PIECES, max_size=12).map("".join) | st.text(max_size=12))
@example("QUJ*")  # four-aligned, the foreign character last: the fast path must not accept it
@example("QUJD\n=\n=")
def test_check_base64_fails_exactly_when_decoding_fails(text: str) -> None:
    try:
        decode_base64(text)
    except InvalidDataContentError:
        with pytest.raises(InvalidDataContentError):
            check_base64(text)
    else:
        check_base64(text)


@given(st.binary())
def test_check_base64_accepts_every_standard_encoding(data: bytes) -> None:
    check_base64(base64.b64encode(data).decode("ascii"))


@pytest.mark.parametrize("wrap", [bytes, bytearray, memoryview], ids=lambda wrap: wrap.__name__)
def test_detect_media_type_takes_any_bytes_like(wrap: Any) -> None:
    # The fake's cassettes sniff memoryviews and bytearrays with this same function.
    assert detect_media_type(wrap(encode_image("GIF"))) == "image/gif"
    assert detect_media_type(wrap(b"RIFF\x00\x00\x00\x00WEBPVP8 ")) == "image/webp"


@pytest.mark.parametrize("text", ["AB=C", "A=BC", "=ABC", "QUJD=QUJ", "QUJDRA=B", "QQ==QUJD"])
def test_check_base64_refuses_padding_inside_the_text(text: str) -> None:
    # '=' may only end a base64 text; inside it, the text is not base64 at all.
    with pytest.raises(InvalidDataContentError, match="base64"):
        check_base64(text)
    with pytest.raises(InvalidDataContentError):
        decode_base64(text)


@given(st.binary(min_size=3), st.data())
def test_check_base64_refuses_an_equals_sign_anywhere_but_the_end(
    data: bytes, draw: st.DataObject
) -> None:
    encoded = base64.b64encode(data).decode("ascii").rstrip("=")
    position = draw.draw(st.integers(0, len(encoded) - 2), label="position")
    broken = encoded[:position] + "=" + encoded[position + 1 :]
    broken += "=" * (-len(broken) % 4)
    with pytest.raises(InvalidDataContentError):
        check_base64(broken)


class _Refuse:
    """Stands in for the forgiving decoder: fails if a fast path falls back to it."""

    def __call__(self, *args: object) -> None:
        raise AssertionError("the fast path fell back to the forgiving decoder")

    fullmatch = __call__


@pytest.mark.parametrize("text", ["", "QUJD", "QUI=", "QQ==", "+/+/QUJD"])
def test_check_base64_reads_padded_standard_base64_without_decoding_it(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What servers send is checked by deleting the alphabet; decoding would copy megabytes.
    monkeypatch.setattr(_media, "decode_base64", _Refuse())
    check_base64(text)


@pytest.mark.parametrize(("text", "expected"), [("QUJD", b"ABC"), ("QUI=", b"AB"), ("QQ==", b"A")])
def test_decode_base64_decodes_padded_standard_base64_in_one_pass(
    text: str, expected: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_media, "_BASE64_BODY", _Refuse())
    assert decode_base64(text) == expected


@pytest.mark.parametrize("text", ["QUJ*", "QU**", "QUJD*AAA", "QU=*", "QUJDé==="])
def test_check_base64_refuses_a_four_aligned_text_ending_in_a_foreign_character(text: str) -> None:
    with pytest.raises(InvalidDataContentError, match="not a base64-encoded media"):
        check_base64(text)


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("SGVsbG8*", "unexpected character '*'"),
        ("SGV!bG8=", "unexpected character '!'"),
        ("Y", "1 base64 characters leave a dangling character"),
        ("QUJDR", "5 base64 characters leave a dangling character"),
    ],
)
def test_decode_base64_errors_say_what_was_wrong_in_the_ai_sdk_wording(
    text: str, detail: str
) -> None:
    prefix = "Invalid data content. Content string is not a base64-encoded media: "
    with pytest.raises(InvalidDataContentError) as raised:
        decode_base64(text)
    assert str(raised.value) == f"{prefix}{detail} (got {text!r})."


def test_an_excerpt_of_forty_characters_is_quoted_whole_and_of_forty_one_cut() -> None:
    forty, forty_one = "A" * 39 + "*", "A" * 40 + "*"
    with pytest.raises(InvalidDataContentError) as whole:
        decode_base64(forty)
    with pytest.raises(InvalidDataContentError) as cut:
        decode_base64(forty_one)
    assert str(whole.value).endswith(f"(got {forty!r}).")
    assert str(cut.value).endswith(f"(got {forty_one[:40]!r}... (41 characters)).")


def test_parse_data_url_quotes_what_it_was_given() -> None:
    with pytest.raises(InvalidDataContentError) as raised:
        parse_data_url("http://example.com/a.png")
    assert str(raised.value) == (
        "Invalid data URL: expected a string starting with 'data:', got 'http://example.com/a.png'."
    )


def test_parse_data_url_splits_at_the_first_comma() -> None:
    # RFC 2397: the header ends at the first comma; later commas belong to the data.
    assert parse_data_url("data:text/plain,a,b%2Cc") == ("text/plain", b"a,b,c")
