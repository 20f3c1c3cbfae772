"""Wire helpers: ids, timestamps, header order and JSON serialization."""

from __future__ import annotations

import base64
import json
import random
import re
from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from together_image_fake._wire import (
    POPS,
    FakeResponse,
    WireIds,
    http_date,
    iso_ms,
    json_bytes,
    short_id,
    sorted_headers,
    splice_base64,
)


@given(st.integers())
def test_ids_follow_the_recorded_format_and_share_the_ray(seed: int) -> None:
    ids = WireIds.draw(random.Random(seed))

    assert re.match(r"^[A-Za-z0-9]{7}-2kFHot-[0-9a-f]{16}-(SEA|PDX|YUL)$", ids.request_id)
    assert re.match(r"^[0-9a-f]{16}-(SEA|PDX|YUL)$", ids.ray)
    assert ids.request_id.split("-")[2] == ids.ray.split("-")[0]


@pytest.mark.parametrize("seed", range(51))
def test_ids_are_drawn_exactly_as_random_choice_draws_them(seed: int) -> None:
    # Seeded fakes have always drawn each character with rng.choice; a seed keeps its ids.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    reference = random.Random(seed)
    ray_hex = f"{reference.getrandbits(64):016x}"
    prefix = "".join(reference.choice(alphabet) for _ in range(7))
    ray_pop, body_pop = reference.choice(POPS), reference.choice(POPS)
    short = "".join(reference.choice(alphabet) for _ in range(16))
    rng = random.Random(seed)
    ids = WireIds.draw(rng)
    assert ids.ray == f"{ray_hex}-{ray_pop}"
    assert ids.request_id == f"{prefix}-2kFHot-{ray_hex}-{body_pop}"
    assert short_id(rng) == short


def test_ids_are_reproducible_from_the_same_random_source() -> None:
    assert WireIds.draw(random.Random(3)) == WireIds.draw(random.Random(3))
    assert short_id(random.Random(3)) == short_id(random.Random(3))
    assert re.match(r"^[A-Za-z0-9]{16}$", short_id(random.Random(3)))


@pytest.mark.parametrize(
    ("epoch", "iso"),
    [(0.0, "1970-01-01T00:00:00.000Z"), (1780235498.8079, "2026-05-31T13:51:38.807Z")],
)
def test_iso_ms_matches_the_x_api_header_format(epoch: float, iso: str) -> None:
    assert iso_ms(epoch) == iso


@given(st.floats(min_value=-62_135_596_800, max_value=253_402_300_799))
def test_iso_ms_is_strftime_with_truncated_milliseconds(epoch: float) -> None:
    moment = datetime.fromtimestamp(epoch, tz=timezone.utc)
    expected = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    assert iso_ms(epoch) == expected


def test_http_date_is_an_rfc_7231_date() -> None:
    assert http_date(0) == "Thu, 01 Jan 1970 00:00:00 GMT"


def test_headers_are_sorted_like_the_recordings_with_date_first() -> None:
    headers = sorted_headers({"Server": "s", "Etag": "e", "Date": "d", "cf-ray": "c"})

    assert [name for name, _ in headers] == ["Date", "cf-ray", "Etag", "Server"]


@given(
    st.dictionaries(
        st.sampled_from(["Date", "date", "Etag", "etag", "Vary", "A", "b", "B"]),
        st.text(max_size=2),
    )
)
def test_headers_keep_insertion_order_among_equal_names(headers: dict[str, str]) -> None:
    expected = sorted(headers.items(), key=lambda item: (item[0] != "Date", item[0].lower()))
    assert sorted_headers(headers) == tuple(expected)


def test_header_lookup_is_case_insensitive() -> None:
    response = FakeResponse(status=200, headers=(("Content-Type", "a"), ("content-type", "b")))

    assert (response.header("CONTENT-TYPE"), response.header("x")) == ("a", None)


def test_json_is_indented_and_keeps_key_order() -> None:
    assert json_bytes({"b": 1, "a": [1]}) == b'{\n  "b": 1,\n  "a": [\n    1\n  ]\n}'
    assert json_bytes({"b": 1, "a": [1]}, pretty=False) == b'{"b":1,"a":[1]}'


def test_json_writes_non_ascii_raw_and_survives_lone_surrogates() -> None:
    assert json_bytes({"p": "café"}) == '{\n  "p": "café"\n}'.encode()
    assert json_bytes({"p": "\ud800"}) == b'{\n  "p": "\\ud800"\n}'
    # The compact form stays compact when it falls back to escapes.
    assert json_bytes({"p": "\ud800", "é": 1}, pretty=False) == b'{"p":"\\ud800","\\u00e9":1}'


@given(st.lists(st.binary(min_size=1, max_size=40), min_size=1, max_size=5))
def test_spliced_base64_texts_land_under_their_own_items_in_order(images: list[bytes]) -> None:
    texts = [base64.b64encode(image) for image in images]
    payload = {"data": [{"index": i, "b64_json": ""} for i in range(len(texts))]}

    spliced = splice_base64(json_bytes(payload), texts)

    items = json.loads(spliced)["data"]
    assert [base64.b64decode(item["b64_json"]) for item in items] == images
    assert spliced == json_bytes(
        {"data": [{"index": i, "b64_json": t.decode()} for i, t in enumerate(texts)]}
    )


def test_splicing_refuses_a_body_with_another_number_of_empty_values() -> None:
    body = json_bytes({"data": [{"b64_json": ""}, {"b64_json": ""}]})
    with pytest.raises(ValueError, match="Expected 3 empty b64_json values in the body, found 2"):
        splice_base64(body, [b"QQ==", b"Qg==", b"Qw=="])
