"""Hostile cassettes: whatever a cassette file or its blob folder holds, loading ends quickly in a
``CassetteFormatError`` that names the file and the interaction, never a hang, an unbounded read,
a bare ``RecursionError``/``ValueError``, or headers replay would write unchecked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from together_image_fake import Cassette, CassettePlayer
from together_image_fake._cassette import (
    CassetteFormatError,
    Interaction,
    RecordedRequest,
    RecordedResponse,
)
from together_image_fake._cassette_files import MAX_BLOB_BYTES, MAX_CASSETTE_BYTES, MAX_JSON_DEPTH

URL = "https://api.together.xyz/v1/images/generations"

# Loads a cassette in a child process under a 1 GiB address-space limit, so a regression that
# reads without bound fails there instead of exhausting the machine; the pipe timeout below only
# keeps a regression that hangs from hanging the suite.
_LOADER = textwrap.dedent(
    """
    import json, resource, sys, time
    limit = 1024 * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from together_image_fake._cassette import Cassette, CassetteFormatError
    started = time.perf_counter()
    try:
        Cassette.load(sys.argv[1])
        outcome = {"error": None}
    except CassetteFormatError as error:
        outcome = {"error": str(error)}
    outcome["seconds"] = time.perf_counter() - started
    outcome["max_rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(outcome))
    """
)
_HANG_GUARD_S = 120


def _load_in_child(path: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", _LOADER, str(path)],
        capture_output=True,
        text=True,
        timeout=_HANG_GUARD_S,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    outcome: dict[str, Any] = json.loads(done.stdout)
    return outcome


def _document(**response: Any) -> dict[str, Any]:
    good = {
        "request": {"method": "POST", "url": URL, "headers": {}, "body": None},
        "response": {"status": 200, "headers": {"Content-Type": "text/plain"}, "body": None},
    }
    bad = json.loads(json.dumps(good))
    bad["response"].update(response)
    return {
        "format": "together-image-fake-cassette",
        "version": 1,
        "meta": {},
        "interactions": [good, bad],
    }


def _write(tmp_path: Path, document: Any) -> Path:
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(document))
    return path


def _blob_cassette(tmp_path: Path) -> tuple[Path, Path]:
    """A cassette whose second interaction's body is a blob; returns (cassette, blob path)."""
    name = f"{'ab' * 32}.png"
    path = _write(tmp_path, _document(body={"blob": name, "media_type": "image/png"}, headers={}))
    folder = tmp_path / "hostile.json.blobs"
    folder.mkdir()
    return path, folder / name


# ---- headers and statuses replay would send (issue: header injection) -------------------------


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        (
            {"X-Note": "ok\r\nSet-Cookie: session=stolen"},
            r"interactions\[1\]\.response\.headers\.X-Note: expected a header value without "
            r"CR, LF or control characters",
        ),
        ({"X-Note": "line\nbreak"}, r"interactions\[1\]\.response\.headers\.X-Note"),
        ({"X-Note": "nul\x00"}, r"interactions\[1\]\.response\.headers\.X-Note"),
        (
            {"X-Note": "caf\u00e9 \u2603"},
            r"interactions\[1\]\.response\.headers\.X-Note: expected a header value of Latin-1",
        ),
        (
            {"Bad Name": "v"},
            r"interactions\[1\]\.response\.headers\.Bad Name: expected a header name",
        ),
        ({"X-A\r\nSet-Cookie": "v"}, r"expected a header name \(RFC 9110 token\)"),
    ],
)
def test_header_values_replay_would_inject_or_choke_on_are_refused(
    tmp_path: Path, headers: dict[str, str], message: str
) -> None:
    path = _write(tmp_path, _document(headers=headers))

    with pytest.raises(CassetteFormatError, match=message) as caught:
        Cassette.load(path)

    assert str(caught.value).startswith(f"{path}: ")


def test_request_headers_are_checked_too(tmp_path: Path) -> None:
    document = _document()
    document["interactions"][1]["request"]["headers"] = {"X-Note": "a\rb"}

    with pytest.raises(CassetteFormatError, match=r"interactions\[1\]\.request\.headers\.X-Note"):
        Cassette.load(_write(tmp_path, document))


@given(
    value=st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF)).filter(
        lambda v: "\x7f" not in v
    )
)
def test_any_latin1_header_value_without_controls_loads(value: str) -> None:
    cassette = Cassette.from_document(_document(headers={"X-Note": value}))
    assert cassette.interactions[1].response.header("x-note") == value


@given(
    value=st.text(),
    control=st.sampled_from(["\r", "\n", "\x00", "\x1b", "\x7f"]),
    at=st.integers(min_value=0, max_value=20),
)
def test_any_header_value_with_a_control_character_is_refused(
    value: str, control: str, at: int
) -> None:
    with pytest.raises(CassetteFormatError, match=r"interactions\[1\]\.response\.headers"):
        Cassette.from_document(_document(headers={"X-Note": value[:at] + control + value[at:]}))


@pytest.mark.parametrize("status", [204, 304, 101])
def test_statuses_without_content_refuse_a_recorded_body(tmp_path: Path, status: int) -> None:
    path = _write(tmp_path, _document(status=status, body={"text": "smuggled"}))

    with pytest.raises(
        CassetteFormatError,
        match=rf"interactions\[1\]\.response\.body: expected no body for status {status}",
    ):
        Cassette.load(path)


@pytest.mark.parametrize("status", [204, 304])
def test_statuses_without_content_load_without_a_body(tmp_path: Path, status: int) -> None:
    loaded = Cassette.load(_write(tmp_path, _document(status=status, body=None)))
    assert (loaded.interactions[1].response.status, loaded.interactions[1].response.body) == (
        status,
        b"",
    )


# ---- files that are not what they claim (issue: hostile cassettes) ---------------------------


def test_a_blob_that_is_a_named_pipe_is_refused_without_waiting(tmp_path: Path) -> None:
    path, blob = _blob_cassette(tmp_path)
    os.mkfifo(blob)

    outcome = _load_in_child(path)

    assert outcome["error"] == (
        f"{path}: interactions[1].response.body.blob: blob {blob}: expected a regular file, got "
        "a named pipe (FIFO)"
    )


def test_a_blob_linked_to_dev_zero_is_refused_before_reading(tmp_path: Path) -> None:
    path, blob = _blob_cassette(tmp_path)
    blob.symlink_to("/dev/zero")

    outcome = _load_in_child(path)

    assert outcome["error"] == (
        f"{path}: interactions[1].response.body.blob: blob {blob}: expected a regular file, got "
        "a character device"
    )


def test_an_oversized_blob_is_refused_before_reading(tmp_path: Path) -> None:
    path, blob = _blob_cassette(tmp_path)
    with blob.open("wb") as handle:
        handle.truncate(MAX_BLOB_BYTES + 1)  # sparse: costs no disk

    outcome = _load_in_child(path)

    assert outcome["error"] == (
        f"{path}: interactions[1].response.body.blob: blob {blob}: expected at most "
        f"{MAX_BLOB_BYTES} bytes, got a file of {MAX_BLOB_BYTES + 1} bytes"
    )


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "oversized"])
def test_a_cassette_file_that_is_not_a_bounded_regular_file_is_refused(
    tmp_path: Path, kind: str
) -> None:
    path = tmp_path / "hostile.json"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")
    else:
        with path.open("wb") as handle:
            handle.truncate(MAX_CASSETTE_BYTES + 1)

    outcome = _load_in_child(path)

    expected = {
        "fifo": "expected a regular file, got a named pipe (FIFO)",
        "dev-zero": "expected a regular file, got a character device",
        "oversized": f"expected at most {MAX_CASSETTE_BYTES} bytes",
    }[kind]
    assert outcome["error"].startswith(f"{path}: {expected}")


def _nested(levels: int) -> Any:
    value: Any = "bottom"
    for _ in range(levels):
        value = {"a": [value]}
    return value


@pytest.mark.parametrize("levels", [500, 100_000])
def test_deep_nesting_is_refused_naming_the_interaction(tmp_path: Path, levels: int) -> None:
    path = tmp_path / "deep.json"
    # Written by hand: json.dumps itself cannot go this deep.
    text = json.dumps(_document(body={"json": "HOLE", "style": "compact"}))
    path.write_text(text.replace('"HOLE"', "[" * levels + "1" + "]" * levels))

    outcome = _load_in_child(path)

    assert outcome["error"] == (
        f"{path}: interactions[1]: expected JSON nested at most {MAX_JSON_DEPTH} levels deep, "
        "got deeper nesting (line 1)"
    )


def test_a_deep_parsed_document_is_refused_too() -> None:
    with pytest.raises(
        CassetteFormatError,
        match=rf"<cassette>: interactions\[1\]: expected JSON nested at most {MAX_JSON_DEPTH}",
    ):
        Cassette.from_document(_document(body={"json": _nested(500), "style": "compact"}))


def test_nesting_up_to_the_limit_loads(tmp_path: Path) -> None:
    # The document, interactions, the interaction, response, body and json: 6 levels around it.
    inner = MAX_JSON_DEPTH - 6
    body = {"json": json.loads("[" * inner + "]" * inner), "style": "compact"}
    loaded = Cassette.load(_write(tmp_path, _document(body=body)))
    assert loaded.interactions[1].response.body == ("[" * inner + "]" * inner).encode()


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://[::1/v1/images/generations", "Invalid IPv6 URL"),
        ("https://api.together.xyz:99999/v1/images/generations", "out of range"),
        ("https://api.together.xyz:port/v1/images/generations", "Port could not be cast"),
        ("ftp://api.together.xyz/v1/images/generations", None),
        ("/v1/images/generations", None),
        ("https://api.together.xyz/v1/images generations", None),
        ("https://api.together.xyz/v1/images\tgenerations", None),
        ("https://api.together.xyz/v1/images\r\nX-Injected: 1", None),
    ],
)
def test_a_malformed_url_is_a_format_error_naming_the_interaction(
    tmp_path: Path, url: str, reason: str | None
) -> None:
    document = _document()
    document["interactions"][1]["request"]["url"] = url
    path = _write(tmp_path, document)

    with pytest.raises(CassetteFormatError) as caught:
        Cassette.load(path)
    with pytest.raises(CassetteFormatError):
        CassettePlayer(path)  # replaying it fails the same way, not with a bare ValueError

    message = str(caught.value)
    assert message.startswith(f"{path}: interactions[1].request.url: expected ")
    assert reason is None or reason in message


def test_a_saved_cassette_round_trips_through_every_check(tmp_path: Path) -> None:
    request = RecordedRequest(method="GET", url="https://api.together.xyz:443/v1/models?x=1")
    response = RecordedResponse(status=204, headers=(("X-Note", "caf\u00e9\tok"),))
    path = tmp_path / "ok.json"
    Cassette(interactions=(Interaction(request=request, response=response),)).save(path)

    assert Cassette.load(path).interactions[0].response == response
