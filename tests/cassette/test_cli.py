"""``together-image-fake record`` and ``replay`` in real subprocesses, the fake as upstream."""

from __future__ import annotations

import io
import json
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from together_image_fake import FakeTogetherServer
from together_image_fake._cli import main

from .conftest import SCHNELL, SECRET_KEY, post

RECORDING = re.compile(r"^Recording to (.+): proxy at (http://127\.0\.0\.1:\d+/v1) -> (.+)$")
REPLAYING = re.compile(r"^Replaying (.+) \((\d+) interactions\) at (http://127\.0\.0\.1:\d+/v1)$")
BODY = {"model": SCHNELL, "prompt": "from curl", "width": 256, "height": 256, "seed": 2}


class Command:
    """A ``together-image-fake`` subprocess and its first stdout line."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "together_image_fake", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.first_line = self.process.stdout.readline().rstrip("\n")

    def stop(self, sig: int = signal.SIGINT) -> tuple[int, str]:
        """Send ``sig``; return (exit status, stderr)."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        _, stderr = self.process.communicate(timeout=20)
        return self.process.returncode, stderr


@pytest.fixture
def commands() -> Iterator[list[Command]]:
    started: list[Command] = []
    yield started
    for command in started:
        if command.process.poll() is None:
            command.process.kill()
            command.process.communicate()


def test_record_through_the_proxy_then_replay_over_http(
    tmp_path: Path, upstream: FakeTogetherServer, commands: list[Command]
) -> None:
    path = tmp_path / "cli.json"
    record = Command(
        "record", "--cassette", str(path), "--upstream", upstream.base_url, "--port", "0"
    )
    commands.append(record)
    match = RECORDING.match(record.first_line)
    assert match, record.first_line
    proxy = match.group(2)

    recorded = post(proxy, BODY)
    missing = post(proxy, {"model": "bad model", "prompt": "x"})
    status, stderr = record.stop(signal.SIGINT)

    assert (recorded.status_code, missing.status_code) == (200, 404)
    assert status == 0, stderr
    assert "Saved 2 interaction(s) to" in stderr
    assert SECRET_KEY not in path.read_text()
    assert json.loads(path.read_text())["meta"]["upstream"] == upstream.base_url

    upstream.stop()
    replay = Command("replay", "--cassette", str(path), "--port", "0")
    commands.append(replay)
    match = REPLAYING.match(replay.first_line)
    assert match, replay.first_line
    assert match.group(2) == "2"
    base = match.group(3)
    origin = base.removesuffix("/v1")

    replayed = post(base, BODY, key="any")
    image = requests.get(replayed.json()["data"][0]["url"], timeout=5)
    mismatch = post(base, {**BODY, "prompt": "never recorded"})
    status, stderr = replay.stop(signal.SIGTERM)

    # The proxy passed the upstream's answer through; replay points image URLs at itself.
    assert replayed.content == recorded.content.replace(upstream.origin.encode(), origin.encode())
    assert image.status_code == 404  # the image download was not recorded
    assert mismatch.status_code == 404
    assert mismatch.json()["error"]["code"] == "cassette_mismatch"
    assert (
        'body.prompt: recorded "from curl", sent "never recorded"'
        in mismatch.json()["error"]["message"]
    )
    assert status == 0, stderr


def test_record_refuses_to_save_a_key_it_could_not_scrub(
    tmp_path: Path, upstream: FakeTogetherServer, commands: list[Command]
) -> None:
    path = tmp_path / "leak.json"
    record = Command(
        "record", "--cassette", str(path), "--upstream", upstream.base_url, "--port", "0"
    )
    commands.append(record)
    match = RECORDING.match(record.first_line)
    assert match, record.first_line
    proxy = match.group(2)
    someone_elses = "tgp_v1_Lm3Np5Qr7St9Uv1Wx3Yz5Ab7Cd9Ef1Gh3Ij5Kl7Mn9"

    post(proxy, {**BODY, "prompt": f"my other key is {someone_elses}"})
    status, stderr = record.stop(signal.SIGTERM)

    assert status == 1
    assert "Refusing to save cassette" in stderr
    assert "Together-style API key" in stderr
    assert someone_elses not in stderr
    assert not path.exists()


def test_record_refuses_to_save_when_the_upstream_cannot_be_reached(
    tmp_path: Path, commands: list[Command]
) -> None:
    down = FakeTogetherServer().start()
    unreachable = down.base_url
    down.stop()
    path = tmp_path / "offline.json"
    record = Command("record", "--cassette", str(path), "--upstream", unreachable, "--port", "0")
    commands.append(record)
    match = RECORDING.match(record.first_line)
    assert match, record.first_line

    with pytest.raises(requests.ConnectionError):  # the proxy passes the lost connection on
        post(match.group(2), BODY)
    status, stderr = record.stop(signal.SIGTERM)

    assert status == 1
    assert "1 of 1 request(s) got no answer from the upstream; nothing was written." in stderr
    assert f"POST {unreachable}/images/generations: connection refused, reset or closed" in stderr
    assert not path.exists()


class _Tap(io.StringIO):
    """A stdout stand-in that notices the banner line."""

    def __init__(self) -> None:
        super().__init__()
        self.announced = threading.Event()

    def write(self, text: str) -> int:
        written = super().write(text)
        if text.startswith(("Recording to", "Replaying")):
            self.announced.set()
        return written


def _run_in_process(
    argv: list[str], interact: Callable[[str], None], monkeypatch: pytest.MonkeyPatch
) -> tuple[int, str]:
    """Run the command line here, call ``interact(banner)`` once it serves, then SIGINT it."""
    tap = _Tap()
    monkeypatch.setattr(sys, "stdout", tap)

    def drive() -> None:
        if tap.announced.wait(10):
            try:
                interact(tap.getvalue().splitlines()[0])
            finally:
                # Delivered to the main thread, where the command's handler stops the server.
                signal.raise_signal(signal.SIGINT)

    helper = threading.Thread(target=drive)
    helper.start()
    status = main(argv)
    helper.join()
    return status, tap.getvalue()


def test_record_and_replay_commands_in_process(
    tmp_path: Path, upstream: FakeTogetherServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "in-process.json"
    answers: list[requests.Response] = []

    def record(banner: str) -> None:
        match = RECORDING.match(banner)
        assert match, banner
        answers.append(post(match.group(2), BODY))

    status, _ = _run_in_process(
        [
            "record",
            "--cassette",
            str(path),
            "--upstream",
            upstream.base_url,
            "--port",
            "0",
            "--elide-images",
        ],
        record,
        monkeypatch,
    )
    assert status == 0
    assert answers[0].status_code == 200

    def replay(banner: str) -> None:
        match = REPLAYING.match(banner)
        assert match, banner
        answers.append(post(match.group(3), BODY, key="any"))

    status, _ = _run_in_process(
        ["replay", "--cassette", str(path), "--port", "0", "--ignore", "seed", "--keep-urls"],
        replay,
        monkeypatch,
    )
    assert status == 0
    assert answers[1].content == answers[0].content


@pytest.mark.parametrize(
    ("argv", "status", "message"),
    [
        (["record", "--cassette", "x.json", "--port", "70000"], 2, "--port must be between"),
        (["record", "--cassette", "x.json", "--upstream", "ftp://x"], 2, "http(s) upstream"),
        (["replay", "--cassette", "absent.json"], 1, "No cassette at"),
    ],
)
def test_command_line_mistakes_exit_with_the_reason(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    status: int,
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)

    assert main(argv) == status

    assert message in capsys.readouterr().err
