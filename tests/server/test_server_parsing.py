"""Properties of the request-parsing rules both adapters share (target, Host, Content-Length)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from together_image_fake._http import (
    RequestRejected,
    lower_headers,
    origin_for,
    parse_content_length,
    split_target,
)

FALLBACK = "http://127.0.0.1:1"
path_segments = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="?#/"),
    max_size=12,
)
paths = st.lists(path_segments, max_size=4).map(lambda parts: "/" + "/".join(parts))
queries = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="#"),
    max_size=20,
)
hostnames = st.from_regex(r"\A[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?(\.[a-z0-9]{1,10}){0,3}\Z")
ports = st.integers(min_value=1, max_value=65535)


@given(path=paths, query=queries)
def test_origin_form_target_splits_and_rejoins(path: str, query: str) -> None:
    target = f"{path}?{query}" if query else path
    split_path, split_query, origin = split_target(target)
    assert (split_path, split_query, origin) == (path, query, None)


@given(host=hostnames, port=ports, path=paths, query=queries)
def test_absolute_form_target_yields_its_origin(
    host: str, port: int, path: str, query: str
) -> None:
    target = f"http://{host}:{port}{path}" + (f"?{query}" if query else "")
    split_path, split_query, origin = split_target(target)
    assert origin == f"http://{host}:{port}"
    assert (split_path, split_query) == (path, query)


@given(host=hostnames, port=st.none() | ports)
def test_well_formed_host_header_becomes_the_origin(host: str, port: int | None) -> None:
    header = host if port is None else f"{host}:{port}"
    assert origin_for(header, scheme="http", fallback=FALLBACK) == f"http://{header}"


@given(header=st.none() | st.text(max_size=40))
def test_any_host_header_gives_a_plain_origin(header: str | None) -> None:
    origin = origin_for(header, scheme="http", fallback=FALLBACK)
    assert origin == FALLBACK or re.fullmatch(r"http://[A-Za-z0-9._\-\[\]:]+", origin)


@given(length=st.integers(min_value=0, max_value=10**12), limit=st.integers(0, 10**12))
def test_content_length_within_the_limit_is_accepted_and_above_it_is_413(
    length: int, limit: int
) -> None:
    if length <= limit:
        assert parse_content_length([str(length)], limit=limit) == length
    else:
        with pytest.raises(RequestRejected) as caught:
            parse_content_length([str(length)], limit=limit)
        assert caught.value.status == 413
        assert f"{length} bytes, the limit is {limit} bytes" in caught.value.message


@given(value=st.text(max_size=12).filter(lambda v: not re.fullmatch(r"\s*[0-9]+\s*", v)))
def test_content_length_that_is_not_ascii_digits_is_400(value: str) -> None:
    with pytest.raises(RequestRejected) as caught:
        parse_content_length([value], limit=10**9)
    assert caught.value.status == 400
    assert repr(value) in caught.value.message


@given(first=st.integers(0, 1000), second=st.integers(0, 1000))
def test_repeated_content_length_must_agree(first: int, second: int) -> None:
    if first == second:
        assert parse_content_length([str(first), str(second)], limit=1000) == first
    else:
        with pytest.raises(RequestRejected, match="expected one non-negative integer"):
            parse_content_length([str(first), str(second)], limit=1000)


def test_no_content_length_means_none() -> None:
    assert parse_content_length([], limit=0) is None


@given(
    items=st.lists(
        st.tuples(st.from_regex(r"\A[A-Za-z][A-Za-z0-9-]{0,10}\Z"), st.text(max_size=8)),
        max_size=8,
    )
)
def test_header_names_are_lower_cased_and_repeats_joined(items: list[tuple[str, str]]) -> None:
    headers = lower_headers(items)
    assert set(headers) == {name.lower() for name, _ in items}
    for key, value in headers.items():
        assert value == ", ".join(v for name, v in items if name.lower() == key)
