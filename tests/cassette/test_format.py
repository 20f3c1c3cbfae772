"""The cassette file format: exact bytes back, sidecar blobs, elision, versions, atomic writes."""

from __future__ import annotations

import base64
import io
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from together_image_fake import Cassette, CassetteError
from together_image_fake._cassette import (
    FORMAT_VERSION,
    CassetteFormatError,
    Interaction,
    RecordedRequest,
    RecordedResponse,
    api_path,
    canonical_json,
    json_style_of,
    render_json,
)


def _png(color: tuple[int, int, int] = (10, 20, 30), size: tuple[int, int] = (8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 100, 0)).save(buffer, format="JPEG")
    return buffer.getvalue()


def _cassette(
    response_body: bytes,
    content_type: str = "application/json; charset=utf-8",
    request_body: bytes = b'{"model": "m", "prompt": "p"}',
) -> Cassette:
    request = RecordedRequest(
        method="POST",
        url="https://api.together.xyz/v1/images/generations",
        headers=(("Content-Type", "application/json"),),
        body=request_body,
        scrubbed_headers=("Authorization",),
    )
    response = RecordedResponse(
        status=200,
        headers=(("Content-Type", content_type), ("Content-Length", str(len(response_body)))),
        body=response_body,
    )
    return Cassette(interactions=(Interaction(request=request, response=response),))


def _roundtrip(cassette: Cassette, path: Path, **options: Any) -> Cassette:
    cassette.save(path, **options)
    return Cassette.load(path)


B64_IMAGE = base64.b64encode(_jpeg()).decode()

BODIES = [
    pytest.param(b'{\n  "id": "x",\n  "data": []\n}', "application/json", id="pretty"),
    pytest.param(b'[{"id":"x","n":1.5}]', "application/json", id="compact"),
    pytest.param(b'{"id": "x", "n": 1}', "application/json", id="python-spaced"),
    pytest.param(b'{"a":1}\n', "application/json", id="trailing-newline"),
    pytest.param('{"prompt": "café ☕"}'.encode(), "application/json", id="non-ascii-raw"),
    pytest.param(b'{"prompt": "caf\\u00e9"}', "application/json", id="non-ascii-escaped"),
    pytest.param(b'{"a":1,  "b":2}', "application/json", id="irregular-json-as-text"),
    pytest.param(b'{"a": 1, "a": 2}', "application/json", id="duplicate-keys-as-text"),
    pytest.param(b"<html>\n<h1>502</h1>\n</html>\n", "text/html; charset=UTF-8", id="html"),
    pytest.param(_jpeg(), "image/jpeg", id="jpeg"),
    pytest.param(b"\x00\x01\xfe\xff binary", "application/octet-stream", id="binary"),
    pytest.param(b"", "application/json", id="empty"),
    pytest.param(
        json.dumps({"data": [{"index": 0, "b64_json": B64_IMAGE}]}, indent=2).encode(),
        "application/json",
        id="b64-json-image",
    ),
    pytest.param(b'{"$blob": "not ours"}', "application/json", id="marker-lookalike-as-text"),
]


@pytest.mark.parametrize(("body", "content_type"), BODIES)
def test_response_bodies_come_back_byte_for_byte(
    tmp_path: Path, body: bytes, content_type: str
) -> None:
    loaded = _roundtrip(_cassette(body, content_type), tmp_path / "c.json")

    assert loaded.interactions[0].response.body == body


@given(
    value=st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=8), children, max_size=4)
        ),
        max_leaves=12,
    ),
    style=st.sampled_from(
        ["pretty", "pretty-ascii", "compact", "compact-ascii", "spaced", "spaced-ascii"]
    ),
    newline=st.booleans(),
)
def test_every_json_style_is_detected_and_reproduced(value: Any, style: str, newline: bool) -> None:
    data = render_json(value, style, newline)

    found = json_style_of(data, json.loads(data))

    assert found is not None
    assert render_json(json.loads(data), *found) == data


@given(
    # A body using a marker key ($blob, $elided) is stored as text on purpose (see the
    # "marker-lookalike-as-text" case above), so it is outside this property.
    st.dictionaries(
        st.text(min_size=1, max_size=6).filter(lambda key: key not in ("$blob", "$elided")),
        st.integers() | st.text(max_size=5),
        max_size=6,
    ),
    st.randoms(),
)
def test_request_bodies_are_stored_canonically_whatever_the_key_order(
    body: dict[str, Any], random: Any
) -> None:
    items = list(body.items())
    random.shuffle(items)
    shuffled = json.dumps(dict(items)).encode()
    document, _ = _cassette(b"{}", request_body=shuffled).to_document()

    stored = document["interactions"][0]["request"]["body"]["json"]

    assert list(stored) == sorted(body)
    assert canonical_json(stored) == canonical_json(body)


def test_the_document_is_readable_json_with_format_and_version(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    _cassette(b'{\n  "id": "x"\n}').save(path)

    document = json.loads(path.read_text())

    assert document["format"] == "together-image-fake-cassette"
    assert document["version"] == FORMAT_VERSION
    response = document["interactions"][0]["response"]
    assert response["body"] == {"json": {"id": "x"}, "style": "pretty"}
    assert document["interactions"][0]["request"]["scrubbed_headers"] == ["Authorization"]
    assert path.read_text().endswith("}\n")


def test_images_go_to_sidecar_files_named_by_their_sha256(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    image = _jpeg()
    body = json.dumps({"data": [{"index": 0, "b64_json": base64.b64encode(image).decode()}]})

    _cassette(body.encode()).save(path)

    blobs = list((tmp_path / "c.blobs").iterdir())
    assert [blob.read_bytes() for blob in blobs] == [image]
    assert blobs[0].name.endswith(".jpg")
    document = path.read_text()
    assert blobs[0].name in document
    assert len(document) < 2000


def test_request_data_urls_go_to_sidecars_and_come_back_exactly(tmp_path: Path) -> None:
    image = _png()
    data_url = "data:image/png;base64," + base64.b64encode(image).decode()
    request_body = json.dumps({"image_url": data_url, "model": "m", "prompt": "edit"}).encode()

    loaded = _roundtrip(_cassette(b"{}", request_body=request_body), tmp_path / "c.json")

    assert json.loads(loaded.interactions[0].request.body)["image_url"] == data_url
    assert [p.read_bytes() for p in (tmp_path / "c.blobs").iterdir()] == [image]


def test_elided_images_keep_size_type_and_hash_and_replay_a_placeholder(tmp_path: Path) -> None:
    image = _jpeg()
    path = tmp_path / "c.json"

    loaded = _roundtrip(_cassette(image, "image/jpeg"), path, blobs="elide")

    document = json.loads(path.read_text())
    elided = document["interactions"][0]["response"]["body"]["elided"]
    assert elided["size"] == len(image)
    assert elided["media_type"] == "image/jpeg"
    assert len(elided["sha256"]) == 64
    assert not (tmp_path / "c.blobs").exists()
    response = loaded.interactions[0].response
    assert response.elided
    assert Image.open(io.BytesIO(response.body)).format == "JPEG"
    assert response.header("Content-Length") == str(len(response.body))


def test_a_cassette_with_elided_bodies_cannot_be_saved_again(tmp_path: Path) -> None:
    loaded = _roundtrip(_cassette(_jpeg(), "image/jpeg"), tmp_path / "c.json", blobs="elide")

    with pytest.raises(CassetteError, match="elided when loaded"):
        loaded.save(tmp_path / "again.json")


def test_an_elided_b64_json_replays_a_placeholder_of_the_same_type(tmp_path: Path) -> None:
    body = json.dumps({"data": [{"b64_json": base64.b64encode(_png()).decode()}]}).encode()

    loaded = _roundtrip(_cassette(body), tmp_path / "c.json", blobs="elide")

    payload = json.loads(loaded.interactions[0].response.body)["data"][0]["b64_json"]
    assert Image.open(io.BytesIO(base64.b64decode(payload))).format == "PNG"


def test_saving_is_atomic_shareable_and_prunes_stale_blobs(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    first = json.dumps({"b64_json": base64.b64encode(_png((1, 2, 3))).decode()}).encode()
    second = json.dumps({"b64_json": base64.b64encode(_png((4, 5, 6))).decode()}).encode()
    _cassette(first).save(path)

    _cassette(second).save(path)

    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.blobs", "c.json"]
    assert len(list((tmp_path / "c.blobs").iterdir())) == 1
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    assert Cassette.load(path).interactions[0].response.body == second


def test_a_newer_format_version_is_refused_with_advice(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    _cassette(b"{}").save(path)
    document = json.loads(path.read_text())
    document["version"] = FORMAT_VERSION + 1
    path.write_text(json.dumps(document))

    with pytest.raises(CassetteFormatError, match="newer than this together-image-fake reads"):
        Cassette.load(path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(format="vcr"), 'expected a JSON object with "format"'),
        (lambda d: d.pop("interactions"), 'expected a list "interactions"'),
        (
            lambda d: d["interactions"][0]["response"].update(status="200"),
            r"interactions\[0\]\.response\.status: expected an HTTP status",
        ),
        (
            lambda d: d["interactions"][0]["response"]["body"].update(style="yaml"),
            r"interactions\[0\]\.response\.body\.style: expected one of",
        ),
        (
            lambda d: d["interactions"][0]["request"].update(method=None),
            r"interactions\[0\]\.request\.method: expected a method string, got null",
        ),
    ],
)
def test_malformed_cassettes_say_where_and_what(tmp_path: Path, change: Any, message: str) -> None:
    path = tmp_path / "c.json"
    _cassette(b'{\n  "a": 1\n}').save(path)
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))

    with pytest.raises(CassetteFormatError, match=message):
        Cassette.load(path)


def test_a_changed_blob_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    _cassette(_jpeg(), "image/jpeg").save(path)
    blob = next((tmp_path / "c.blobs").iterdir())
    blob.write_bytes(blob.read_bytes()[:-10])

    with pytest.raises(CassetteFormatError, match="does not match its name"):
        Cassette.load(path)


def test_a_missing_cassette_is_a_cassette_error(tmp_path: Path) -> None:
    with pytest.raises(CassetteError, match="No cassette at"):
        Cassette.load(tmp_path / "absent.json")


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("https://api.together.xyz/v1/images/generations", "/v1/images/generations"),
        ("http://127.0.0.1:9/v1/images/generations?x=1", "/v1/images/generations"),
        ("https://proxy.example/together/v1/models", "/v1/models"),
        ("https://api.together.ai/shrt/fFbG3zT1MyXkcYlS", "/shrt/fFbG3zT1MyXkcYlS"),
        ("/v1/images/generations", "/v1/images/generations"),
    ],
)
def test_api_paths_ignore_the_host_and_prefix(url: str, path: str) -> None:
    assert api_path(url) == path
