"""``together-image-fake`` as a command: ``--version``, usage errors, secrets kept off the command
line (a file or an environment variable), errors printed whole, a quiet end on a closed pipe."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
import requests

from together_image_fake import Cassette, FakeTogether
from together_image_fake._cassette import Interaction, RecordedRequest, RecordedResponse
from together_image_fake._cli import EXIT_BROKEN_PIPE, build_parser, main

SCHNELL = "black-forest-labs/FLUX.1-schnell"
KEY_IN_FILE = "fake-key-from-a-file-7d2c"
KEY_IN_ENV = "fake-key-from-the-env-41ab"
SERVE_ARGS = ("--port", "0", "--api-key-env", "FAKE_KEY")


def _command(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "together_image_fake", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )


def _fake_image(tmp_path: Path) -> Path:
    with FakeTogether(seed=3):
        answer = requests.post(
            "https://api.together.xyz/v1/images/generations",
            json={"model": SCHNELL, "prompt": "a quetzal", "response_format": "base64"},
            headers={"Authorization": "Bearer k"},
            timeout=5,
        )
    path = tmp_path / "fake.jpg"
    path.write_bytes(base64.b64decode(answer.json()["data"][0]["b64_json"]))
    return path


def test_version_prints_the_installed_version() -> None:
    done = _command("--version")

    assert done.returncode == 0
    assert done.stdout == f"together-image-fake {metadata.version('together-image')}\n"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-1", "argument --max-body-bytes: expected a positive number of bytes, got -1"),
        ("0", "argument --max-body-bytes: expected a positive number of bytes, got 0"),
        ("lots", "argument --max-body-bytes: expected a whole number, got 'lots'"),
    ],
)
def test_an_impossible_body_limit_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], value: str, message: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--max-body-bytes", value])

    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: together-image-fake serve")
    assert message in err
    assert "Traceback" not in err


def test_api_keys_come_from_the_command_line_a_file_and_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = tmp_path / "keys.txt"
    keys.write_text(f"# the team's fake keys\n\n  {KEY_IN_FILE}  \nsecond-key-in-file\n")
    monkeypatch.setenv("FAKE_KEY", KEY_IN_ENV)

    args = build_parser().parse_args(
        ["serve", "--api-key", "visible", "--api-key-file", str(keys), "--api-key-env", "FAKE_KEY"]
    )

    assert args.api_keys == ["visible", KEY_IN_FILE, "second-key-in-file", KEY_IN_ENV]


def test_record_secrets_come_from_a_file_and_the_environment_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = tmp_path / "secrets.txt"
    secrets.write_text("first-secret-value\n")
    monkeypatch.setenv("RECORD_SECRET", "second-secret-value")

    args = build_parser().parse_args(
        [
            "record",
            "--cassette",
            "c.json",
            "--secret-file",
            str(secrets),
            "--secret-env",
            "RECORD_SECRET",
        ]
    )

    assert args.secrets == ["first-secret-value", "second-secret-value"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["serve", "--api-key-file", "absent.txt"], "cannot read absent.txt: No such file"),
        (["serve", "--api-key-file", "empty.txt"], "expected one value per line in empty.txt"),
        (["serve", "--api-key-env", "UNSET_FAKE_KEY"], "environment variable UNSET_FAKE_KEY"),
        (["record", "--cassette", "c.json", "--secret-env", "UNSET_FAKE_KEY"], "UNSET_FAKE_KEY"),
    ],
)
def test_a_secret_source_that_holds_nothing_is_a_usage_error(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("UNSET_FAKE_KEY", raising=False)
    (tmp_path / "empty.txt").write_text("# nothing but a comment\n\n")

    with pytest.raises(SystemExit) as exited:
        main(argv)

    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_help_says_where_a_secret_can_come_from_instead_of_the_command_line() -> None:
    wide = {**os.environ, "COLUMNS": "400"}  # no wrapping, which may break at a hyphen
    serve = _command("serve", "--help", env=wide).stdout
    record = _command("record", "--help", env=wide).stdout

    for text, flag in ((serve, "--api-key"), (record, "--secret")):
        flat = " ".join(text.split())
        assert f"visible to other users (ps): prefer {flag}-file or {flag}-env" in flat
        assert f"{flag}-file PATH like {flag}, one value per line of PATH" in flat
        assert f"{flag}-env NAME like {flag}, the value of the environment variable NAME" in flat


def test_a_served_key_from_the_environment_works_and_stays_out_of_the_process_list() -> None:
    env = {**os.environ, "FAKE_KEY": KEY_IN_ENV}
    server = subprocess.Popen(
        [sys.executable, "-m", "together_image_fake", "serve", *SERVE_ARGS],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert server.stdout is not None
        base_url = server.stdout.readline().split(" at ")[-1].strip()
        body = {"model": SCHNELL, "prompt": "p", "width": 256, "height": 256}
        accepted = requests.post(
            f"{base_url}/images/generations",
            json=body,
            headers={"Authorization": f"Bearer {KEY_IN_ENV}"},
            timeout=10,
        )
        refused = requests.post(
            f"{base_url}/images/generations",
            json=body,
            headers={"Authorization": "Bearer another-key"},
            timeout=10,
        )
        command_line = Path(f"/proc/{server.pid}/cmdline").read_bytes()
    finally:
        server.terminate()
        server.communicate(timeout=20)

    assert (accepted.status_code, refused.status_code) == (200, 401)
    assert KEY_IN_ENV.encode() not in command_line


def test_a_closed_pipe_ends_inspect_quietly(tmp_path: Path) -> None:
    image = _fake_image(tmp_path)
    reader = subprocess.Popen(
        [sys.executable, "-m", "together_image_fake", "inspect", str(image)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert reader.stdout is not None
    # Like `inspect … | head -0`: the reader goes away before the command writes anything.
    reader.stdout.close()
    _, stderr = reader.communicate(timeout=60)

    assert stderr == b""
    assert reader.returncode == EXIT_BROKEN_PIPE


def test_inspect_still_prints_every_field_to_an_open_pipe(tmp_path: Path) -> None:
    done = _command("inspect", str(_fake_image(tmp_path)))

    assert done.returncode == 0
    assert "a quetzal" in done.stdout
    assert done.stderr == ""


def test_replay_prints_each_mismatch_report_whole(tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    request = RecordedRequest(
        method="POST",
        url="https://api.together.xyz/v1/images/generations",
        body=json.dumps({"model": SCHNELL, "prompt": "recorded"}).encode(),
    )
    response = RecordedResponse(
        status=200, headers=(("Content-Type", "application/json"),), body=b'{"data": []}'
    )
    Cassette(interactions=(Interaction(request=request, response=response),)).save(path)
    replay = subprocess.Popen(
        [sys.executable, "-m", "together_image_fake", "replay", f"--cassette={path}", "--port=0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert replay.stdout is not None
        base_url = replay.stdout.readline().split(" at ")[-1].strip()
        mismatch = requests.post(
            f"{base_url}/images/generations",
            json={"model": SCHNELL, "prompt": "never recorded"},
            headers={"Authorization": "Bearer k"},
            timeout=10,
        )
    finally:
        replay.send_signal(signal.SIGINT)
        _, stderr = replay.communicate(timeout=20)

    report = mismatch.json()["error"]["message"]
    assert mismatch.status_code == 404
    assert len(report.splitlines()) > 3
    assert f"error: {report}\n" in stderr
