"""Cassettes shared between processes: concurrent saves, blob folders that never collide, pruning
that touches only the saving cassette's own stale blobs and never follows a symlink out."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PIL import Image

from together_image_fake import Cassette, CassetteError
from together_image_fake._cassette import Interaction, RecordedRequest, RecordedResponse

ROUNDS = 20
"""Rounds each of the two recorders saves; before atomic, locked saves 6 of 20 broke a cassette."""

# Each round saves a cassette with three images of its own, then loads whatever is there.
_RECORDER = textwrap.dedent(
    """
    import base64, io, json, sys
    from pathlib import Path
    from PIL import Image
    from together_image_fake._cassette import (
        Cassette, Interaction, RecordedRequest, RecordedResponse,
    )

    path, who, rounds = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    for round_ in range(rounds):
        images = []
        for k in range(3):
            buffer = io.BytesIO()
            Image.new("RGB", (8, 8), (who * 100, round_, k)).save(buffer, format="PNG")
            images.append(base64.b64encode(buffer.getvalue()).decode())
        body = json.dumps({"data": [{"b64_json": image} for image in images]}).encode()
        request = RecordedRequest(
            method="POST", url="https://api.together.xyz/v1/images/generations",
            body=json.dumps({"prompt": f"{who}-{round_}"}).encode(),
        )
        response = RecordedResponse(
            status=200, headers=(("Content-Type", "application/json"),), body=body
        )
        Cassette(interactions=(Interaction(request=request, response=response),)).save(path)
        loaded = Cassette.load(path)
        assert len(json.loads(loaded.interactions[0].response.body)["data"]) == 3
    """
)


def _png(color: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(buffer, format="PNG")
    return buffer.getvalue()


def _cassette(*colors: tuple[int, int, int]) -> Cassette:
    body = json.dumps(
        {"data": [{"b64_json": base64.b64encode(_png(color)).decode()} for color in colors]}
    ).encode()
    request = RecordedRequest(
        method="POST", url="https://api.together.xyz/v1/images/generations", body=b'{"p":1}'
    )
    response = RecordedResponse(
        status=200, headers=(("Content-Type", "application/json"),), body=body
    )
    return Cassette(interactions=(Interaction(request=request, response=response),))


def _images(cassette: Cassette) -> list[bytes]:
    data = json.loads(cassette.interactions[0].response.body)["data"]
    return [base64.b64decode(item["b64_json"]) for item in data]


def test_two_processes_recording_to_one_cassette_always_leave_it_loading_whole(
    tmp_path: Path,
) -> None:
    path = tmp_path / "quetzal.json"
    recorders = [
        subprocess.Popen(
            [sys.executable, "-c", _RECORDER, str(path), str(who), str(ROUNDS)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for who in (1, 2)
    ]
    # Meanwhile this process keeps loading: every load must see one whole version.
    while any(recorder.poll() is None for recorder in recorders):
        if path.exists():
            assert len(_images(Cassette.load(path))) == 3
    outcomes = [recorder.communicate(timeout=300) for recorder in recorders]

    for recorder, (_, stderr) in zip(recorders, outcomes, strict=True):
        assert recorder.returncode == 0, stderr
    final = Cassette.load(path)
    assert len(_images(final)) == 3
    # Only the last version's blobs remain: each save pruned its predecessor's.
    assert sorted(p.name for p in (tmp_path / "quetzal.json.blobs").iterdir()) == sorted(
        {f"{hashlib.sha256(image).hexdigest()}.png" for image in _images(final)}
    )


def test_cassettes_that_share_a_stem_keep_separate_blob_folders(tmp_path: Path) -> None:
    first, second = tmp_path / "quetzal.json", tmp_path / "quetzal.v1"
    _cassette((1, 1, 1)).save(first)
    _cassette((2, 2, 2)).save(second)
    _cassette((3, 3, 3)).save(first)  # re-recording the first prunes only its own blob

    assert _images(Cassette.load(first)) == [_png((3, 3, 3))]
    assert _images(Cassette.load(second)) == [_png((2, 2, 2))]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "quetzal.json",
        "quetzal.json.blobs",
        "quetzal.v1",
        "quetzal.v1.blobs",
    ]


def test_pruning_removes_only_blobs_the_replaced_version_referred_to(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    _cassette((1, 1, 1), (2, 2, 2)).save(path)
    folder = tmp_path / "c.json.blobs"
    stranger = folder / (f"{'0' * 64}.png")
    stranger.write_bytes(b"someone else's file")

    _cassette((2, 2, 2)).save(path)

    assert stranger.read_bytes() == b"someone else's file"
    assert len(list(folder.iterdir())) == 2  # the kept image and the stranger
    assert _images(Cassette.load(path)) == [_png((2, 2, 2))]


def test_a_symlinked_blob_folder_is_never_written_or_pruned_through(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    victim = outside / f"{'a' * 64}.png"
    victim.write_bytes(b"not the cassette's")
    cassettes = tmp_path / "cassettes"
    cassettes.mkdir()
    path = cassettes / "c.json"
    (cassettes / "c.json.blobs").symlink_to(outside)

    with pytest.raises(CassetteError, match=r"is a symbolic link .*nothing was written"):
        _cassette((1, 2, 3)).save(path)

    assert not path.exists()
    assert sorted(p.name for p in outside.iterdir()) == [victim.name]


def test_a_previous_version_behind_a_symlinked_folder_is_not_pruned(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    _cassette((1, 1, 1)).save(path)
    real = tmp_path / "c.json.blobs"
    moved = tmp_path / "moved"
    real.rename(moved)
    real.symlink_to(moved)
    kept = sorted(p.name for p in moved.iterdir())

    Cassette(interactions=()).save(path)  # no blobs: only pruning could touch the folder

    assert sorted(p.name for p in moved.iterdir()) == kept


def test_the_old_stem_layout_loads_and_moves_to_the_new_folder_on_re_recording(
    tmp_path: Path,
) -> None:
    fixture = Path(__file__).parents[2] / "fixtures" / "flux1-schnell-base64.json"
    path = tmp_path / fixture.name
    path.write_bytes(fixture.read_bytes())
    old_folder = tmp_path / "flux1-schnell-base64.blobs"
    old_folder.mkdir()
    for blob in fixture.with_name("flux1-schnell-base64.blobs").iterdir():
        (old_folder / blob.name).write_bytes(blob.read_bytes())
    loaded = Cassette.load(path)

    Cassette(interactions=loaded.interactions, meta=loaded.meta).save(path)

    assert not old_folder.exists()
    assert json.loads(path.read_text())["blob_dir"] == "flux1-schnell-base64.json.blobs"
    assert Cassette.load(path).interactions == loaded.interactions


def test_an_old_stem_folder_a_sibling_may_share_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "quetzal.json"
    _cassette((1, 1, 1)).save(path)
    # Rewrite it into the old layout, and give it a same-stem sibling using the same folder.
    document = json.loads(path.read_text())
    document["blob_dir"] = "quetzal.blobs"
    os.rename(tmp_path / "quetzal.json.blobs", tmp_path / "quetzal.blobs")
    path.write_text(json.dumps(document))
    (tmp_path / "quetzal.v1").write_text(json.dumps(document))

    _cassette((2, 2, 2)).save(path)

    assert _images(Cassette.load(tmp_path / "quetzal.v1")) == [_png((1, 1, 1))]
    assert _images(Cassette.load(path)) == [_png((2, 2, 2))]
