"""Secrets never reach a cassette: the scrubbing pass, and the scan that refuses to save."""

from __future__ import annotations

import io
import json
import random
import string
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
import requests
import responses
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from together_image_fake import Cassette, SecretLeakError, record_cassette
from together_image_fake._cassette import Interaction, RecordedRequest, RecordedResponse
from together_image_fake._secrets import (
    ENTROPY_THRESHOLD,
    SCRUBBED,
    Scrubber,
    _is_slug,
    scan,
    secrets_from_environment,
    shannon_entropy,
)

from .conftest import SECRET_KEY

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
API = "https://api.together.xyz/v1/images/generations"


def _jpeg_with_comment(comment: bytes) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="JPEG", comment=comment)
    return buffer.getvalue()


def _plain() -> Interaction:
    return Interaction(
        request=RecordedRequest(
            method="POST",
            url=API,
            headers=(("Content-Type", "application/json"),),
            body=b'{"model": "m", "prompt": "a quetzal"}',
        ),
        response=RecordedResponse(
            status=400,
            headers=(("Content-Type", "application/json; charset=utf-8"),),
            body=b'{\n  "error": {\n    "message": "Invalid value"\n  }\n}',
        ),
    )


def _with_request(**changes: Any) -> Cassette:
    plain = _plain()
    request = RecordedRequest(**{**plain.request.__dict__, **changes})
    return Cassette(interactions=(Interaction(request=request, response=plain.response),))


def _with_response(**changes: Any) -> Cassette:
    plain = _plain()
    response = RecordedResponse(**{**plain.response.__dict__, **changes})
    return Cassette(interactions=(Interaction(request=plain.request, response=response),))


def _error_body(message: str) -> bytes:
    return json.dumps({"error": {"message": message}}, indent=2).encode()


# Every place a key could hide, planted past the scrubber so only the final scan stands guard.
PLACES: list[Any] = [
    pytest.param(lambda key: _with_request(headers=(("X-Debug", key),)), id="request-header"),
    pytest.param(lambda key: _with_request(url=f"{API}?api_key={key}"), id="query"),
    pytest.param(lambda key: _with_request(url=f"{API}?q={key}"), id="query-unnamed"),
    pytest.param(
        lambda key: _with_request(body=json.dumps({"prompt": "p", "api_key": key}).encode()),
        id="request-body-field",
    ),
    pytest.param(
        lambda key: _with_request(body=json.dumps({"prompt": f"use {key} please"}).encode()),
        id="request-body-text",
    ),
    pytest.param(
        lambda key: _with_response(body=_error_body(f"Invalid API key {key} provided.")),
        id="error-message",
    ),
    pytest.param(
        lambda key: _with_response(body=f"<html>key={key}</html>".encode()), id="response-body"
    ),
    pytest.param(
        lambda key: _with_response(
            headers=(("Content-Type", "application/json"), ("X-Echo", f"Bearer {key}"))
        ),
        id="response-header",
    ),
    pytest.param(
        lambda key: _with_response(
            headers=(("Content-Type", "image/jpeg"),), body=_jpeg_with_comment(key.encode())
        ),
        id="image-blob",
    ),
    pytest.param(
        lambda key: Cassette(interactions=(_plain(),), meta={"note": f"recorded with {key}"}),
        id="metadata",
    ),
]


@pytest.mark.parametrize("plant", PLACES)
def test_the_scan_refuses_a_known_key_wherever_it_hides(
    tmp_path: Path, plant: Callable[[str], Cassette]
) -> None:
    path = tmp_path / "c.json"

    with pytest.raises(SecretLeakError) as raised:
        plant(SECRET_KEY).save(path, secrets=[SECRET_KEY])

    assert raised.value.findings
    assert SECRET_KEY not in str(raised.value)
    assert list(tmp_path.iterdir()) == []


UNKNOWN_KEYS = [
    pytest.param("tgp_v1_a8Jk2LmN4pQr6StU8vWx0YzA2bCd4eFg6hIj8kL", id="together-key-shape"),
    pytest.param("3f9c2a7e8b1d4f6a0c5e9b2d7a4f1c8e6b3d0a9f5c2e7b4d1a8f6c3e0b9d2a7f", id="hex-64"),
    pytest.param("Zq7Xw2Rv9Tn4Mk8Lp3Hs6Jd1Fg5Bc0Na", id="random-alnum-32"),
    pytest.param("sk-proj-Abc123Def456Ghi789Jkl012Mno345", id="sk-shape"),
]


@pytest.mark.parametrize("key", UNKNOWN_KEYS)
@pytest.mark.parametrize("plant", PLACES[:-2])
def test_the_scan_refuses_unknown_key_shaped_tokens_too(
    tmp_path: Path, plant: Callable[[str], Cassette], key: str
) -> None:
    with pytest.raises(SecretLeakError):
        plant(key).save(tmp_path / "c.json")

    assert list(tmp_path.iterdir()) == []


@given(st.integers(min_value=0, max_value=2**64), st.integers(min_value=32, max_value=64))
def test_random_keys_of_key_length_are_flagged(seed: int, length: int) -> None:
    # Keys come from a seeded generator, not from Hypothesis' choices, which shrink towards
    # "aaaa…" (not a random key at all).
    generator = random.Random(seed)
    alphabet = string.ascii_letters + string.digits
    key = "".join(generator.choice(alphabet) for _ in range(length))
    document = {"request": {"body": {"json": {"prompt": f"my key is {key}"}}}}

    assert scan(document)


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.json")), ids=lambda p: p.stem)
def test_the_recorded_fixtures_raise_no_false_alarm(path: Path) -> None:
    blob_dir = path.with_name(path.name + ".blobs")
    blobs = {blob.name: blob.read_bytes() for blob in blob_dir.glob("*")}

    assert scan(json.loads(path.read_text()), blobs=blobs) == []


def test_the_allow_list_silences_a_known_benign_token(tmp_path: Path) -> None:
    token = "Zq7Xw2Rv9Tn4Mk8Lp3Hs6Jd1Fg5Bc0Na"
    cassette = _with_response(body=_error_body(f"trace {token}"))

    cassette.save(tmp_path / "c.json", allow=[r"trace [A-Za-z0-9]{32}"])

    assert token in (tmp_path / "c.json").read_text()


@given(
    prefix=st.text(max_size=20),
    suffix=st.text(max_size=20),
    key=st.text(alphabet=string.ascii_letters + string.digits + "_-.~+/=", min_size=6),
)
def test_scrubbed_text_never_contains_the_secret(prefix: str, suffix: str, key: str) -> None:
    scrubbed = Scrubber([key]).text(f"{prefix}{key}{suffix}")

    assert key.strip() not in scrubbed or key.strip() in SCRUBBED


def test_the_scrubber_drops_credential_headers_and_keeps_rate_limit_ones() -> None:
    kept, dropped = Scrubber().headers(
        [
            ("Authorization", "Bearer x"),
            ("X-Api-Key", "y"),
            ("Cookie", "a=b"),
            ("X-Auth-Token", "z"),
            ("X-Ratelimit-Limit-Tokens", "0"),
            ("Content-Type", "application/json"),
        ]
    )

    assert dropped == ("Authorization", "X-Api-Key", "Cookie", "X-Auth-Token")
    assert [name for name, _ in kept] == ["X-Ratelimit-Limit-Tokens", "Content-Type"]


def test_the_recorder_scrubs_a_key_echoed_back_everywhere(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    echo = {
        "id": "x",
        "error": {"message": f"Invalid API key {SECRET_KEY}", "type": "invalid_request_error"},
        "api_key": SECRET_KEY,
    }
    with responses.RequestsMock() as mock:
        mock.add(
            responses.POST,
            API,
            json=echo,
            status=401,
            headers={"X-Echo": SECRET_KEY, "Set-Cookie": "session=abc"},
        )
        with record_cassette(path, hosts=["api.together.xyz"]):
            requests.post(
                f"{API}?token={SECRET_KEY}",
                json={"model": "m", "prompt": f"p {SECRET_KEY}", "api_key": SECRET_KEY},
                headers={"Authorization": f"Bearer {SECRET_KEY}"},
                timeout=5,
            )

    text = path.read_text()
    assert SECRET_KEY not in text
    assert "Authorization" not in json.loads(text)["interactions"][0]["request"]["headers"]
    assert json.loads(text)["interactions"][0]["request"]["scrubbed_headers"] == ["Authorization"]
    assert "Set-Cookie" not in text
    assert text.count(SCRUBBED) >= 5


def test_the_recorder_refuses_a_key_it_was_never_told_about(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    stranger = "tgp_v1_Uv3Wx5Yz7Ab9Cd1Ef3Gh5Ij7Kl9Mn1Op3Qr5St7Uv9"
    with responses.RequestsMock() as mock:
        mock.add(
            responses.POST, API, json={"error": {"message": f"old key {stranger}"}}, status=401
        )
        with pytest.raises(SecretLeakError), record_cassette(path):
            requests.post(API, json={"prompt": "p"}, timeout=5)

    assert list(tmp_path.iterdir()) == []


def test_the_recorder_treats_the_environment_key_as_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOGETHER_API_KEY", "an-env-key-value")
    path = tmp_path / "c.json"
    with responses.RequestsMock() as mock:
        mock.add(responses.POST, API, body="echo an-env-key-value", status=400)
        with record_cassette(path):
            requests.post(API, json={"prompt": "p"}, timeout=5)

    assert "an-env-key-value" not in path.read_text()


# ---- what the scan and the scrubber catch, one behaviour per test -----------------------------


def _kinds(document: Any, **options: Any) -> list[tuple[str, str, str]]:
    return [(f.where, f.kind, f.detail) for f in scan(document, **options)]


@pytest.mark.parametrize("encode", [lambda k: quote(k, safe=""), quote_plus], ids=["quote", "plus"])
def test_a_known_key_percent_encoded_is_found_and_scrubbed(encode: Callable[[str], str]) -> None:
    key = "my key/with+odd=chars"
    url = f"{API}?q={encode(key)}"

    assert _kinds({"url": url}, secrets=[key]) == [
        ("url", "known secret", f"known secret #1, {len(key)} characters")
    ]
    assert Scrubber([key]).text(url) == f"{API}?q={SCRUBBED}"


def test_an_unknown_key_percent_encoded_is_found_once_decoded() -> None:
    key = "tgp_v1_a8Jk2LmN4pQr6StU8vWx0YzA"
    hidden = quote(key, safe="").replace("_", "%5F")

    findings = _kinds({"url": f"{API}?q={hidden}"})

    assert ("url (decoded)", "key shape", f"Together-style API key, {len(key)} characters") in (
        findings
    )


def test_a_percent_encoded_bearer_header_is_found_once_decoded() -> None:
    text = "next=%2Fback%3FAuthorization%3A%20bearer%20abcd1234efgh5678"

    assert ("note (decoded)", "key shape", "bearer token, 16 characters") in _kinds({"note": text})


@pytest.mark.parametrize(
    "field",
    [
        "api_key",
        "apiKey",
        "password",
        "passwd",
        "client_secret",
        "access_token",
        "together_api_key",
    ],
)
def test_a_json_credential_field_with_any_value_is_found(field: str) -> None:
    body = {"json": {"prompt": "p", field: "hunter22"}}  # short and plain: no shape, no entropy

    assert _kinds({"body": body}) == [
        (
            f"body.json.{field}",
            "credential field",
            "a value of 8 characters where a credential goes",
        )
    ]


@pytest.mark.parametrize("value", [SCRUBBED, ""])
def test_a_scrubbed_or_empty_credential_field_is_fine(value: str) -> None:
    assert _kinds({"body": {"json": {"password": value, "max_tokens": "12"}}}) == []


def test_a_credential_header_left_in_a_document_is_found() -> None:
    headers = {"Content-Type": "text/plain", "X-Together-Api-Key": "abc", "Cookie": "a=b"}

    assert _kinds({"request": {"headers": headers}}) == [
        (
            "request.headers.X-Together-Api-Key",
            "credential field",
            "a value of 3 characters where a credential goes",
        ),
        (
            "request.headers.Cookie",
            "credential field",
            "a value of 3 characters where a credential goes",
        ),
    ]


def test_a_credential_query_parameter_with_a_value_is_found_unless_scrubbed() -> None:
    assert _kinds({"url": f"{API}?model=m&api_key=abc"}) == [
        ("url", "credential field", "query parameter api_key with a value of 3 characters")
    ]
    assert _kinds({"url": f"{API}?model=m&api_key={SCRUBBED}"}) == []
    assert _kinds({"url": f"{API}?model=m&api_key={quote(SCRUBBED, safe='')}"}) == []


@pytest.mark.parametrize(
    "key",
    [
        "tgp_v1_ab-CD_ef-GH_ij-KL_mn-OP_qr",  # no run of 16 without a - or _
        "tgp_v1_-_-_-_-_-_-_-_-_-",
        "tgp_v2_Abc_Def-Ghi_Jkl-Mno_Pqr",
    ],
)
def test_together_keys_containing_dashes_and_underscores_are_found_whole(key: str) -> None:
    assert _kinds({"note": f"key {key} end"}) == [
        ("note", "key shape", f"Together-style API key, {len(key)} characters")
    ]


def test_a_together_key_glued_after_an_underscore_is_found() -> None:
    key = "tgp_v1_ab-CD_ef-GH_ij-KL_mn-OP_qr"

    assert ("note", "key shape", f"Together-style API key, {len(key)} characters") in _kinds(
        {"note": f"TOGETHER_KEY_{key}"}
    )


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "Bearer", "bEaReR"])
def test_bearer_tokens_are_found_in_any_case(scheme: str) -> None:
    assert ("note", "key shape", "bearer token, 16 characters") in _kinds(
        {"note": f"authorization: {scheme} abcd1234efgh5678"}
    )


@pytest.mark.parametrize("scheme", ["bearer", "Bearer", "BEARER"])
def test_the_scrubber_learns_a_bearer_credential_in_any_case(scheme: str) -> None:
    scrubber = Scrubber()
    scrubber.learn_from_headers([("authorization", f"{scheme} tok-12345678")])

    assert scrubber.text("echo tok-12345678 done") == f"echo {SCRUBBED} done"


@pytest.mark.parametrize(
    ("header", "value", "credential"),
    [
        ("X-Api-Key", "xk-12345678", "xk-12345678"),
        ("Authorization", "Token abc123xyz789", "abc123xyz789"),
        ("Authorization", "Custom-Scheme s3cr3t-v4lu3", "s3cr3t-v4lu3"),
        ("Authorization", "ApiKey k-98765432", "k-98765432"),
        ("Proxy-Authorization", "Basic dXNlcjpodW50ZXIyMg==", "hunter22"),
    ],
)
def test_the_scrubber_learns_the_credential_of_any_authorization_scheme(
    header: str, value: str, credential: str
) -> None:
    scrubber = Scrubber()
    scrubber.learn_from_headers([(header, value), ("Content-Type", "text/plain-123456")])

    assert scrubber.text(f"a {value} b") == f"a {SCRUBBED} b"
    assert scrubber.text(f"echo {credential}!") == f"echo {SCRUBBED}!"
    assert scrubber.text("text/plain-123456") == "text/plain-123456"  # not a credential header


@pytest.mark.parametrize(
    "text",
    [
        "X-Api-Key: abc123def",
        "x-api-key=abc123def",
        "Authorization: Custom abc123def",
        "authorization: token abc123def",
        "Api-Key: abc123def",
        "X-Auth-Token: abc123def",
    ],
)
def test_a_credential_header_written_out_in_text_is_found(text: str) -> None:
    findings = _kinds({"body": {"text": f"debug dump\n{text}\n"}})

    assert [kind for _, kind, detail in findings if detail.startswith("credential header")] == [
        "key shape"
    ]


def test_a_scrubbed_credential_header_in_text_is_fine() -> None:
    assert (
        _kinds({"body": {"text": f"X-Api-Key: {SCRUBBED}\nAuthorization: Bearer {SCRUBBED}"}}) == []
    )


# ---- findings say exactly where, what and how long; the judging rules at their edges ----------

RANDOM_32 = "Zq7Xw2Rv9Tn4Mk8Lp3Hs6Jd1Fg5Bc0Na"  # 5.0 bits per character
HEX_64 = "3f9c2a7e8b1d4f6a0c5e9b2d7a4f1c8e6b3d0a9f5c2e7b4d1a8f6c3e0b9d2a7f"


def test_findings_name_the_exact_place_kind_and_size() -> None:
    document = {
        "interactions": [
            {"request": {"url": f"https://h/{HEX_64}"}},
            {"response": {"body": {"json": {"items": ["ok", RANDOM_32]}}}},
        ],
        "meta": {"tgp_v1_Ab3Cd5Ef7Gh9Ij1Kl3Mn": 1},
    }

    assert _kinds(document) == [
        ("interactions[0].request.url", "high-entropy token", "64 hex digits"),
        (
            "interactions[1].response.body.json.items[1]",
            "high-entropy token",
            "32 characters, 5.0 bits/char",
        ),
        (
            "meta.tgp_v1_Ab3Cd5Ef7Gh9Ij1Kl3Mn (name)",
            "key shape",
            "Together-style API key, 27 characters",
        ),
        (
            "meta.tgp_v1_Ab3Cd5Ef7Gh9Ij1Kl3Mn (name)",
            "high-entropy token",
            "27 characters, 4.5 bits/char",
        ),
    ]


def test_a_known_secret_in_a_blob_is_named_by_the_blob() -> None:
    secret = "a-secret-value-42"

    assert _kinds({}, blobs={"x.jpg": b"\xff\xd8 a-secret-value-42 \xff"}, secrets=[secret]) == [
        ("blob x.jpg", "known secret", f"known secret #1, {len(secret)} characters")
    ]
    assert _kinds({}, blobs={"x.jpg": b"\xff\xd8 clean \xff"}, secrets=[secret]) == []


def test_secrets_of_the_minimum_length_are_searched_and_shorter_ones_are_not() -> None:
    assert _kinds({"a": "x abcdef y"}, secrets=["abcdef"]) == [
        ("a", "known secret", "known secret #1, 6 characters")
    ]
    assert _kinds({"a": "x abcde y"}, secrets=["abcde"]) == []
    assert Scrubber(["abcdef", "abcde"]).secrets == frozenset({"abcdef"})


def test_a_content_hash_field_is_not_a_secret_but_what_follows_it_is_checked() -> None:
    document = {"sha256": HEX_64, "note": RANDOM_32}

    assert _kinds(document) == [("note", "high-entropy token", "32 characters, 5.0 bits/char")]
    assert _kinds({"other": HEX_64}) == [("other", "high-entropy token", "64 hex digits")]


def test_a_credential_field_inside_a_list_is_found() -> None:
    assert _kinds({"items": [{"prompt": "p"}, {"password": "x1"}]}) == [
        ("items[1].password", "credential field", "a value of 2 characters where a credential goes")
    ]


def test_an_allowed_pattern_splits_the_text_like_a_space() -> None:
    # Each half is shorter than a token; glued to anything, one would become one.
    assert _kinds({"a": "Zq7Xw2Rv9Tn4Mk8Lp3Hs6JSEPd1Fg5Bc0NaYt8Ue3Wi"}, allow=["SEP"]) == []


def test_a_hex_run_is_judged_apart_from_the_text_around_it() -> None:
    assert _kinds({"a": f"-{HEX_64}-Zq7Xw2Rv9Tn4Mk8Lp3Hs6J"}) == [
        ("a", "high-entropy token", "64 hex digits")
    ]


def test_a_random_token_of_exactly_the_minimum_length_is_flagged() -> None:
    assert _kinds({"a": "Zq7Xw2Rv9Tn4Mk8Lp3Hs6Jd1"}) == [
        ("a", "high-entropy token", "24 characters, 4.6 bits/char")
    ]
    assert _kinds({"a": "Zq7Xw2Rv9Tn4Mk8Lp3Hs6Jd"}) == []


def test_a_random_path_segment_after_short_ones_is_flagged() -> None:
    assert _kinds({"a": f"https://h/v1/{RANDOM_32}"}) == [
        ("a", "high-entropy token", "32 characters, 5.0 bits/char")
    ]


def test_two_character_classes_are_enough_for_a_random_token() -> None:
    assert _kinds({"a": "q8zr3mx7lk2pn5vb9hc4jd6fs1ga0ye"}) == [
        ("a", "high-entropy token", "31 characters, 5.0 bits/char")
    ]


def test_a_long_run_of_one_character_class_is_not_a_key() -> None:
    assert _kinds({"a": "qwertyuiopasdfghjklzxcvbnm"}) == []  # 4.7 bits/char, lower case only


@pytest.mark.parametrize(
    ("segment", "slug"),
    [
        ("black-forest-labs", True),
        ("abcdefghijklmnop-a", True),  # longest part exactly 16
        ("abcdefghijklmnopq-a", False),  # a part of 17
        ("abcdefghij-abcdefghij", True),  # mean part length exactly 10
        ("abcdefghijk-abcdefghijk", False),  # mean 11
        ("single", False),
    ],
)
def test_slugs_are_told_from_random_runs_at_the_edges(segment: str, slug: bool) -> None:
    assert _is_slug(segment) is slug


@pytest.mark.parametrize(
    ("text", "bits"), [("", 0.0), ("aaaa", 0.0), ("ab", 1.0), ("aabb", 1.0), ("abcd", 2.0)]
)
def test_shannon_entropy_in_bits_per_character(text: str, bits: float) -> None:
    assert shannon_entropy(text) == bits


def test_the_secret_environment_given_is_read_instead_of_the_process_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TOGETHER_API_KEY", "from-the-process")

    assert secrets_from_environment({"TOGETHER_AI_API_KEY": "given", "TOGETHER_API_KEY": ""}) == [
        "given"
    ]
    assert secrets_from_environment() == ["from-the-process"]


def test_the_scrubber_replaces_credential_query_values_in_text() -> None:
    text = "see https://cdn/x.png?X-Amz-Signature=abc&size=2&token=t0k#top"

    assert Scrubber().text(text) == (
        f"see https://cdn/x.png?X-Amz-Signature={SCRUBBED}&size=2&token={SCRUBBED}#top"
    )


def test_the_scrubber_learns_from_every_credential_header_after_a_plain_one() -> None:
    scrubber = Scrubber()
    scrubber.learn_from_headers([("Content-Type", "text/plain"), ("X-Api-Key", "val-123456")])

    assert scrubber.secrets == frozenset({"val-123456"})


def test_a_basic_password_holding_a_colon_is_learned_whole() -> None:
    scrubber = Scrubber()
    scrubber.learn_from_headers([("Authorization", "Basic dXNlcjpwYXNzOndvcmQxMg==")])

    assert scrubber.text("pw pass:word12!") == f"pw {SCRUBBED}!"


def test_a_basic_value_that_is_not_strict_base64_is_learned_as_given_only() -> None:
    scrubber = Scrubber()
    scrubber.learn_from_headers([("Authorization", "Basic dXNl*cjpwYXNzd29yZA==")])

    assert scrubber.secrets == frozenset({"Basic dXNl*cjpwYXNzd29yZA==", "dXNl*cjpwYXNzd29yZA=="})


def test_a_token_of_exactly_the_entropy_threshold_is_flagged() -> None:
    token = "aB3dE5gH7jK9mN1p" * 2  # 16 symbols twice each: exactly 4.0 bits per character

    assert shannon_entropy(token) == ENTROPY_THRESHOLD
    assert _kinds({"a": token}) == [("a", "high-entropy token", "32 characters, 4.0 bits/char")]


def test_the_scrubber_learns_every_header_after_a_value_without_a_scheme() -> None:
    scrubber = Scrubber()
    scrubber.learn_from_headers(
        [("X-Api-Key", "val-123456"), ("Authorization", "Bearer tok-abcdef")]
    )

    assert scrubber.secrets == frozenset({"val-123456", "Bearer tok-abcdef", "tok-abcdef"})
