"""``compare()``: which rows a pair of answers gives, and when they count as the same."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from together_image_fake import FakeResponse
from together_image_fake._drift import CLAIMED_HEADERS, compare
from together_image_fake._probes import build_battery
from together_image_fake._wire import etag

AUTH = next(p for p in build_battery(rules=["auth"]).probes)
LISTING = next(p for p in build_battery(rules=["listing"]).probes)
SIZES = next(p for p in build_battery(rules=["dimensions"]).probes if p.expect == "accepted")


def _answer(status: int, value: Any, **headers: str) -> FakeResponse:
    body = json.dumps(value, indent=2).encode()
    fixed = {
        "Content-Type": "application/json; charset=utf-8",
        "Etag": etag(body),
        "Content-Length": str(len(body)),
        "Server": "cloudflare",
        "Cf-Ray": "a04666cc7b02a2f9-YUL",
    }
    merged = {**fixed, **headers}
    return FakeResponse(
        status=status,
        headers=tuple((k, v) for k, v in merged.items() if v),
        body=body,
    )


def _error(message: str = "Invalid API key provided.", **headers: str) -> FakeResponse:
    return _answer(
        401,
        {
            "id": "omJGRFE-2kFHot-a04666cc7b02a2f9-SEA",
            "error": {
                "message": message,
                "type": "invalid_request_error",
                "param": None,
                "code": "invalid_api_key",
            },
        },
        **headers,
    )


def _differing(rows: tuple[Any, ...]) -> dict[str, str]:
    return {row.check: row.verdict() for row in rows if not row.same}


def test_the_same_error_with_other_ids_and_times_is_no_drift() -> None:
    real = _error(**{"Cf-Ray": "0123456789abcdef-SEA", "Date": "Tue, 01 Dec 2026 22:00:00 GMT"})
    fake = _error(**{"Date": "Wed, 02 Dec 2026 01:02:03 GMT"})
    rows = compare(AUTH, real, fake)
    assert _differing(rows) == {}
    assert [row.check for row in rows[:6]] == [
        "status",
        "error.type",
        "error.code",
        "error.param",
        "error.message",
        "body keys",
    ]
    assert rows[5].real == "{id, error{message, type, param, code}}"
    assert {row.check for row in rows[6:]} == {f"header {name}" for name, _ in CLAIMED_HEADERS}


def test_each_kind_of_difference_shows_in_its_own_row() -> None:
    real = _error("Invalid API key provided.")
    fake = _error("Bad key.", **{"Content-Type": "application/json", "Cf-Ray": "ray-1"})
    assert _differing(compare(AUTH, real, fake)) == {
        "error.message": 'differs: real "Invalid API key provided." / fake "Bad key."',
        "header Content-Type": (
            "differs: real application/json; charset=utf-8 / fake application/json"
        ),
        "header Cf-Ray": "differs: real a Cf-Ray id / fake not a Cf-Ray id: ray-1",
    }


def test_an_etag_or_length_that_does_not_fit_the_body_is_drift() -> None:
    real = _error()
    stale = _error(**{"Etag": 'W/"10d-H8iQOhKMzyfxpHKlJ9F++najF9o"', "Content-Length": "3"})
    differing = _differing(compare(AUTH, real, stale))
    assert set(differing) == {"header Etag", "header Content-Length"}
    assert "fake other: W/" in differing["header Etag"]
    assert differing["header Content-Length"] == (
        f"differs: real the body's length / fake 3 (body is {len(stale.body)} bytes)"
    )


def test_the_timings_style_and_the_key_order_of_images_are_compared() -> None:
    seconds = _answer(
        200,
        {
            "id": "x",
            "model": "m",
            "object": "list",
            "data": [{"index": 0, "url": "u", "timings": {"inference": 0.5}}],
        },
    )
    millis = _answer(
        200,
        {
            "id": "x",
            "model": "m",
            "object": "list",
            "data": [{"timings": {"inference": 1500}, "index": 0, "url": "u"}],
        },
    )
    assert _differing(compare(SIZES, seconds, millis)) == {
        "body keys": (
            "differs: real {id, model, object, data[{index, url, timings{inference}}, …]} / "
            "fake {id, model, object, data[{timings{inference}, index, url}, …]}"
        ),
        "timings": "differs: real float seconds / fake integer milliseconds",
    }


def test_the_listing_compares_the_image_models_listed() -> None:
    def entry(model: str, kind: str = "image") -> dict[str, Any]:
        return {"id": model, "object": "model", "type": kind}

    real = _answer(200, [entry("chat/x", "chat"), entry("a/one"), entry("a/two")])
    fake = _answer(200, [entry("a/one"), entry("a/three")])
    differing = _differing(compare(LISTING, real, fake))
    assert differing == {
        "image models": "differs: real 2, not in the fake: a/two / fake 2, not upstream: a/three"
    }


def test_no_answer_or_a_page_instead_of_json_is_drift() -> None:
    reset = FakeResponse(status=0, action="reset")
    page = FakeResponse(
        status=502, headers=(("Content-Type", "text/html"),), body=b"<html>Bad gateway</html>"
    )
    rows = compare(AUTH, reset, page)
    differing = _differing(rows)
    assert differing["status"] == "differs: real no answer (reset) / fake 502"
    assert differing["body keys"] == "differs: real absent / fake not JSON (24 bytes, text/html)"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)
header_values = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=30)


@given(
    status=st.integers(100, 599),
    value=json_values,
    headers=st.dictionaries(st.sampled_from([n for n, _ in CLAIMED_HEADERS]), header_values),
    probe=st.sampled_from(build_battery().probes),
)
def test_an_answer_compared_with_itself_never_drifts(
    status: int, value: Any, headers: dict[str, str], probe: Any
) -> None:
    body = json.dumps(value).encode()
    response = FakeResponse(status=status, headers=tuple(headers.items()), body=body)
    rows = compare(probe, response, response)
    assert all(row.same for row in rows)
    assert rows[0].check == "status"


@given(
    name=st.sampled_from([n for n, _ in CLAIMED_HEADERS]),
    present=header_values.filter(bool),
)
def test_a_claimed_header_present_on_one_side_only_is_drift_in_that_row_alone(
    name: str, present: str
) -> None:
    real = _error()
    fake_headers = tuple((n, v) for n, v in real.headers if n != name)
    without = FakeResponse(status=real.status, headers=fake_headers, body=real.body)
    with_it = FakeResponse(
        status=real.status, headers=(*fake_headers, (name, present)), body=real.body
    )
    differing = _differing(compare(AUTH, with_it, without))
    assert set(differing) == {f"header {name}"}
    assert differing[f"header {name}"].endswith("/ fake absent")
