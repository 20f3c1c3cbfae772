"""The ``together-image`` command line (run in-process against ``responses``)."""

from __future__ import annotations

import functools
import io
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
import responses

import together_image
from together_image import _cli, generate_image
from together_image._cli import main

from ._support import (
    API_KEY,
    BASE_URL,
    DEFAULT_ENDPOINT,
    ENDPOINT,
    JPEG,
    MODEL_ID,
    PNG,
    PNG_B64,
    error_body,
    sent_json,
    success_body,
)


def run(argv: list[str]) -> int:
    """Run the CLI and return its exit status, whether it returns or exits."""
    try:
        return main(argv)
    except SystemExit as exit:
        return int(exit.code or 0)


@pytest.fixture
def with_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOGETHER_API_KEY", API_KEY)


def generate_args(out: Path, *extra: str) -> list[str]:
    return ["generate", "--model", MODEL_ID, "--prompt", "a quetzal", "--out", str(out), *extra]


@pytest.mark.parametrize("argv", [["--help"], ["generate", "--help"], ["--version"]])
def test_help_and_version_work_without_a_key(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(argv) == 0
    out = capsys.readouterr().out
    assert "together-image" in out


def test_main_module_runs_the_same_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["together_image", "--help"])
    with pytest.raises(SystemExit) as exited:
        runpy.run_path(
            str(Path(together_image.__file__).with_name("__main__.py")), run_name="__main__"
        )
    assert exited.value.code == 0
    assert "generate" in capsys.readouterr().out


def test_python_dash_m_works_in_a_fresh_interpreter() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "together_image", "generate", "--help"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "TOGETHER_API_KEY": ""},
    )
    assert completed.returncode == 0
    assert "--model MODEL" in completed.stdout


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run([]) == 2
    assert "usage: together-image" in capsys.readouterr().err


@pytest.mark.usefixtures("with_key")
def test_generate_writes_images_with_their_extension(
    api: responses.RequestsMock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api.post(DEFAULT_ENDPOINT, json=success_body())
    out = tmp_path / "new" / "dir"
    assert run(generate_args(out, "-n", "2")) == 0
    written = [out / "image-1.jpg", out / "image-2.jpg"]
    assert [path.read_bytes() for path in written] == [JPEG, JPEG]
    assert capsys.readouterr().out.splitlines() == [str(path) for path in written]
    assert api.calls[0].request.headers["Authorization"] == f"Bearer {API_KEY}"


@pytest.mark.usefixtures("with_key")
def test_png_answers_get_a_png_extension(api: responses.RequestsMock, tmp_path: Path) -> None:
    api.post(ENDPOINT, json=success_body(PNG_B64))
    assert run(generate_args(tmp_path, "--base-url", BASE_URL)) == 0
    assert (tmp_path / "image-1.png").read_bytes() == PNG


@pytest.mark.usefixtures("with_key")
def test_arguments_reach_the_body(api: responses.RequestsMock, tmp_path: Path) -> None:
    api.post(ENDPOINT, json=success_body())
    image = tmp_path / "in.png"
    image.write_bytes(PNG)
    argv = generate_args(
        tmp_path,
        "--base-url",
        BASE_URL,
        "--size",
        "512x768",
        "--seed",
        "42",
        "--steps",
        "4",
        "--image",
        str(image),
        "--option",
        "disable_safety_checker=true",
        "--option",
        "guidance_scale=3.5",
        "--option",
        "negative_prompt=blurry, dark",
        "--option",
        "aspect_ratio=16:9",
        "--option",
        "output_format=null",
        "--option",
        "steps=8",
    )
    assert run(argv) == 0
    assert sent_json(api.calls[0]) == {
        "model": MODEL_ID,
        "prompt": "a quetzal",
        "seed": 42,
        "width": 512,
        "height": 768,
        "image_url": f"data:image/png;base64,{PNG_B64}",
        "response_format": "base64",
        "steps": 8,
        "disable_safety_checker": True,
        "guidance_scale": 3.5,
        "negative_prompt": "blurry, dark",
        "aspect_ratio": "16:9",
        "output_format": None,
    }


@pytest.mark.usefixtures("with_key")
def test_image_url_is_sent_verbatim(api: responses.RequestsMock, tmp_path: Path) -> None:
    api.post(ENDPOINT, json=success_body())
    url = "https://example.com/photo.png"
    assert run(generate_args(tmp_path, "--base-url", BASE_URL, "--image", url)) == 0
    assert sent_json(api.calls[0])["image_url"] == url


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--size", "512X512"], "size must be a string 'WIDTHxHEIGHT'"),
        (["-n", "0"], "n must be an integer >= 1"),
        (["--image", "/no/such/file.png"], "Cannot read the image file"),
    ],
)
@pytest.mark.usefixtures("with_key")
def test_bad_arguments_exit_2_with_one_line(
    api: responses.RequestsMock,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    assert run(generate_args(tmp_path, *extra)) == 2
    err = capsys.readouterr().err
    assert err.startswith("together-image: error: ")
    assert message in err
    assert err.count("\n") == 1
    assert len(api.calls) == 0


@pytest.mark.parametrize(
    "argv",
    [
        ["generate", "--prompt", "p", "--out", "x"],
        ["generate", "--model", "m", "--prompt", "p", "--out", "x", "--option", "novalue"],
        ["generate", "--model", "m", "--prompt", "p", "--out", "x", "-n", "two"],
        ["paint"],
    ],
)
def test_argparse_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert run(argv) == 2
    assert "error:" in capsys.readouterr().err


def test_missing_key_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(generate_args(tmp_path)) == 2
    assert "TOGETHER_API_KEY" in capsys.readouterr().err


@pytest.mark.usefixtures("with_key")
def test_api_errors_exit_1_without_leaking_the_key(
    api: responses.RequestsMock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = error_body(f"Invalid API key provided: {API_KEY}", code="invalid_api_key")
    api.post(DEFAULT_ENDPOINT, json=body, status=401)
    assert run(generate_args(tmp_path)) == 1
    err = capsys.readouterr().err
    assert err.startswith("together-image: error: HTTP 401: Invalid API key provided: ***")
    assert API_KEY not in err
    assert not list(tmp_path.iterdir())


@pytest.mark.usefixtures("with_key")
def test_retry_exhaustion_exits_1(
    api: responses.RequestsMock,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    delays: list[float] = []
    monkeypatch.setattr(
        _cli, "generate_image", functools.partial(generate_image, sleep=delays.append)
    )
    api.post(DEFAULT_ENDPOINT, body="<html>oops</html>", status=502)
    assert run(generate_args(tmp_path)) == 1
    assert "Failed after 3 attempts" in capsys.readouterr().err
    assert delays == [2.0, 4.0]


# --- whole messages, broken pipes, keys off the command line ------------------------------------


@pytest.mark.usefixtures("with_key")
def test_a_multi_line_error_is_printed_whole(
    api: responses.RequestsMock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api.post(DEFAULT_ENDPOINT, json=error_body("first line\nsecond line\nthird line"), status=400)
    assert run(generate_args(tmp_path)) == 1
    err = capsys.readouterr().err
    assert err.startswith("together-image: error: HTTP 400: first line\n")
    assert "\nsecond line\nthird line" in err


def test_a_closed_stdout_ends_quietly_and_every_image_is_saved(tmp_path: Path) -> None:
    from together_image_fake import FakeTogether, FakeTogetherServer

    out = tmp_path / "out"
    with FakeTogetherServer(fake=FakeTogether(seed=1)) as server:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "together_image",
                *generate_args(out, "-n", "3", "--size", "256x256", "--base-url", server.base_url),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "TOGETHER_API_KEY": API_KEY},
        )
        assert process.stdout is not None
        assert process.stderr is not None
        process.stdout.close()  # the reader goes away before the first path is printed
        err = process.stderr.read().decode()
        status = process.wait(timeout=60)
    assert err == ""
    assert status == 0
    assert sorted(path.name for path in out.iterdir()) == [
        "image-1.jpg",
        "image-2.jpg",
        "image-3.jpg",
    ]


@pytest.mark.parametrize("content", [f"{API_KEY}\n", f"  {API_KEY}  \nsecond line\n"])
def test_the_key_can_come_from_a_file(
    api: responses.RequestsMock, tmp_path: Path, content: str
) -> None:
    api.post(DEFAULT_ENDPOINT, json=success_body())
    key_file = tmp_path / "key"
    key_file.write_text(content)
    assert run(generate_args(tmp_path / "out", "--api-key-file", str(key_file))) == 0
    assert api.calls[0].request.headers["Authorization"] == f"Bearer {API_KEY}"


def test_the_key_can_come_from_standard_input(
    api: responses.RequestsMock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.post(DEFAULT_ENDPOINT, json=success_body())
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{API_KEY}\n"))
    assert run(generate_args(tmp_path, "--api-key-file", "-")) == 0
    assert api.calls[0].request.headers["Authorization"] == f"Bearer {API_KEY}"


def test_the_key_can_come_from_a_named_variable(
    api: responses.RequestsMock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.post(DEFAULT_ENDPOINT, json=success_body())
    monkeypatch.setenv("MY_TOGETHER_KEY", API_KEY)
    assert run(generate_args(tmp_path, "--api-key-env", "MY_TOGETHER_KEY")) == 0
    assert api.calls[0].request.headers["Authorization"] == f"Bearer {API_KEY}"


def test_the_key_can_be_given_directly(api: responses.RequestsMock, tmp_path: Path) -> None:
    api.post(DEFAULT_ENDPOINT, json=success_body())
    assert run(generate_args(tmp_path, "--api-key", API_KEY)) == 0
    assert api.calls[0].request.headers["Authorization"] == f"Bearer {API_KEY}"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--api-key-file", "/no/such/key"], "Cannot read the API key file '/no/such/key'"),
        (["--api-key-env", "NO_SUCH_VARIABLE_FOR_KEYS"], "NO_SUCH_VARIABLE_FOR_KEYS"),
    ],
)
def test_an_unusable_key_source_exits_2(
    api: responses.RequestsMock,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    assert run(generate_args(tmp_path, *extra)) == 2
    assert message in capsys.readouterr().err
    assert len(api.calls) == 0


def test_an_empty_key_file_exits_2(
    api: responses.RequestsMock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("\n")
    assert run(generate_args(tmp_path, "--api-key-file", str(key_file))) == 2
    assert "is empty" in capsys.readouterr().err


def test_help_says_where_keys_can_come_from(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["generate", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "--api-key-file PATH" in out
    assert "--api-key-env NAME" in out
    assert "visible to other users in the process list (ps)" in out
