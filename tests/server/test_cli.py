"""The ``together-image-fake`` command: ``serve`` in a real subprocess, ``inspect`` in-process."""

from __future__ import annotations

import io
import json
import os
import re
import runpy
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

import together_image_fake
from together_image_fake import FakeImageInfo, FakeRequest, FakeTogether, inspect_image
from together_image_fake._cli import build_parser, main

SERVING = re.compile(r"^Serving fake Together API at (http://127\.0\.0\.1:(\d+)/v1)$")
CLI_KEY = "tgp_v1_cli-secret"


class ServeProcess:
    """A ``serve`` subprocess and the base URL it announced on its first stdout line."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "together_image_fake", "serve", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.first_line = self.process.stdout.readline().rstrip("\n")

    def stop(self, sig: int = signal.SIGTERM) -> tuple[int, str, str]:
        """Send ``sig`` and return (exit status, rest of stdout, stderr)."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        stdout, stderr = self.process.communicate(timeout=20)
        return self.process.returncode, stdout, stderr


@pytest.fixture
def serve() -> Iterator[ServeProcess]:
    process = ServeProcess("--port", "0", "--api-key", CLI_KEY, "--seed", "3")
    try:
        yield process
    finally:
        if process.process.poll() is None:
            process.process.kill()
            process.process.communicate()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_announces_logs_and_stops_cleanly(serve: ServeProcess, sig: int) -> None:
    match = SERVING.match(serve.first_line)
    assert match, serve.first_line
    base_url = match.group(1)
    ok = requests.post(
        f"{base_url}/images/generations",
        json={"model": "black-forest-labs/FLUX.1-schnell", "prompt": "p", "width": 256},
        headers={"Authorization": f"Bearer {CLI_KEY}"},
        timeout=10,
    )
    assert ok.status_code == 200
    wrong = requests.get(
        f"{base_url}/models", headers={"Authorization": "Bearer tgp_v1_wrong-key"}, timeout=10
    )
    assert wrong.status_code == 401
    status, stdout, stderr = serve.stop(sig)
    assert status == 0
    # Each connection logs from its own thread, so the two lines may come in either order.
    request_lines = [line for line in stderr.splitlines() if '"' in line]
    assert len(request_lines) == 2
    for expected in ('"POST /v1/images/generations HTTP/1.1" 200', '"GET /v1/models HTTP/1.1" 401'):
        assert sum(expected in line for line in request_lines) == 1
    assert CLI_KEY not in stdout + stderr
    assert "tgp_v1_wrong-key" not in stdout + stderr


def test_serve_reports_a_taken_port() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = ServeProcess("--port", str(port))
        status, _, stderr = process.stop()
    assert process.first_line == ""
    assert status == 1
    assert f"cannot listen on 127.0.0.1:{port}" in stderr


def test_serve_rejects_an_impossible_port(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--port", "70000"]) == 2
    assert "--port must be between 0 and 65535, got 70000" in capsys.readouterr().err


def test_serve_options_parse() -> None:
    args = build_parser().parse_args(
        ["serve", "--host", "::1", "--api-key", "a", "--api-key", "b", "--no-strict"]
    )
    assert (args.host, args.port, args.api_keys, args.seed, args.strict) == (
        "::1",
        8787,
        ["a", "b"],
        None,
        False,
    )


def test_serve_can_serve_retired_models() -> None:
    assert build_parser().parse_args(["serve"]).serve_retired is False
    assert build_parser().parse_args(["serve", "--serve-retired"]).serve_retired is True


def test_a_command_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main([])
    assert caught.value.code == 2
    assert "serve" in capsys.readouterr().err


@pytest.fixture
def fake_image(tmp_path: Path) -> tuple[Path, FakeImageInfo]:
    body = json.dumps(
        {
            "model": "black-forest-labs/FLUX.1-schnell",
            "prompt": "a quetzal, inspected",
            "width": 256,
            "height": 256,
            "seed": 9,
            "response_format": "base64",
            "output_format": "png",
        }
    ).encode()
    response = FakeTogether().handle(
        FakeRequest(
            method="POST",
            path="/v1/images/generations",
            headers={"authorization": "Bearer k", "content-type": "application/json"},
            body=body,
        )
    )
    import base64

    data = base64.b64decode(json.loads(response.body)["data"][0]["b64_json"])
    path = tmp_path / "fake.png"
    path.write_bytes(data)
    return path, inspect_image(data)


def test_inspect_prints_what_the_image_encodes(
    fake_image: tuple[Path, FakeImageInfo], capsys: pytest.CaptureFixture[str]
) -> None:
    path, info = fake_image
    assert main(["inspect", str(path)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^prompt\s+a quetzal, inspected$", out, re.MULTILINE)
    assert re.search(r"^seed\s+9$", out, re.MULTILINE)
    assert re.search(r"^negative_prompt\s+-$", out, re.MULTILINE)
    assert main(["inspect", "--json", str(path)]) == 0
    assert json.loads(capsys.readouterr().out) == info.to_json()


def test_inspect_reads_stdin(
    fake_image: tuple[Path, FakeImageInfo],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path, info = fake_image
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(path.read_bytes())))
    assert main(["inspect", "--json", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["model"] == info.model


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "cannot read"), (b"not an image", "Expected PNG or JPEG bytes")],
)
def test_inspect_fails_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | None, message: str
) -> None:
    path = tmp_path / "input.bin"
    if content is not None:
        path.write_bytes(content)
    assert main(["inspect", str(path)]) == 1
    assert message in capsys.readouterr().err


def test_serve_in_process_serves_logs_and_restores_signal_handlers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    original = signal.getsignal(signal.SIGTERM)
    answers: list[int] = []

    def client_then_stop() -> None:
        deadline = time.monotonic() + 10
        while signal.getsignal(signal.SIGTERM) is original:
            if time.monotonic() > deadline:
                return  # serve never started: let the assertions below report it
            time.sleep(0.01)
        for _ in range(100):
            try:
                reply = requests.get(
                    f"http://127.0.0.1:{port}/v1/models",
                    headers={"Authorization": "Bearer in-process-key"},
                    timeout=5,
                )
            except requests.ConnectionError:
                time.sleep(0.01)
                continue
            answers.append(reply.status_code)
            break
        os.kill(os.getpid(), signal.SIGTERM)

    helper = threading.Thread(target=client_then_stop)
    helper.start()
    status = main(["serve", "--port", str(port), "--seed", "1"])
    helper.join()
    captured = capsys.readouterr()
    assert status == 0
    assert answers == [200]
    assert (
        captured.out.splitlines()[0] == f"Serving fake Together API at http://127.0.0.1:{port}/v1"
    )
    assert '"GET /v1/models HTTP/1.1" 200' in captured.err
    assert "in-process-key" not in captured.out + captured.err
    assert signal.getsignal(signal.SIGTERM) is original


def test_python_dash_m_runs_the_same_command(
    fake_image: tuple[Path, FakeImageInfo],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path, info = fake_image
    monkeypatch.setattr(sys, "argv", ["together-image-fake", "inspect", "--json", str(path)])
    # run_path, not run_module: pytest's assertion-rewriting loader has no get_code() for runpy.
    main_path = Path(together_image_fake.__file__).with_name("__main__.py")
    with pytest.raises(SystemExit) as caught:
        runpy.run_path(str(main_path), run_name="__main__")
    assert caught.value.code == 0
    assert json.loads(capsys.readouterr().out)["prompt"] == info.prompt


def test_serve_open_prints_and_opens_the_dashboard(tmp_path: Path) -> None:
    marker = tmp_path / "opened.txt"
    # webbrowser honours $BROWSER: a tiny "browser" that writes down the URL it was asked to open.
    browser = f"{sys.executable} -c 'import sys; open(sys.argv[1], \"w\").write(sys.argv[2])'"
    env = {**os.environ, "BROWSER": f"{browser} {marker} %s"}
    process = subprocess.Popen(
        [sys.executable, "-m", "together_image_fake", "serve", "--port", "0", "--open"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        match = SERVING.match(process.stdout.readline().rstrip("\n"))
        assert match is not None
        origin = match.group(1).removesuffix("/v1")
        assert process.stdout.readline().startswith(f"Dashboard at {origin}/_fake/")
        assert process.stdout.readline().rstrip("\n") == f"Opening the dashboard at {origin}/_fake/"
        deadline = time.monotonic() + 10
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert marker.read_text() == f"{origin}/_fake/"
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=20)
