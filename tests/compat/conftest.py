"""Compatibility tests: the real clients (``together`` and ``openai`` from PyPI, litellm, the AI
SDK from npm) against the fake, in-process and over the server.

They need packages the default test run does not install, so they run only in the compat tox
envs, chosen by ``TOGETHER_IMAGE_COMPAT``: ``1`` (env ``compat``: ``together`` 3.x, ``openai``,
litellm and the AI SDK), ``v2`` (env ``compat-v2``: ``together`` 2.x) and ``legacy`` (env
``compat-legacy``: ``together`` 1.x); ``.ci/run`` runs every env of the envlist, these included.
Without that variable no module here is collected, so ``tox -e py`` stays fast and needs neither
the SDKs nor Node. The AI SDK is installed with npm into a per-session temporary folder; without
``node`` or ``npm`` those tests skip, saying why, except under ``CI=true``, where they fail, so
the real-client tests cannot silently disappear from CI.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from together_image_fake import FakeTogether, FakeTogetherServer

# Which modules each compat env runs (by its TOGETHER_IMAGE_COMPAT value); other runs collect none.
_MODULES_BY_ENV = {
    "1": ("test_together_sdk.py", "test_openai_sdk.py", "test_litellm.py", "test_ai_sdk.py"),
    "v2": ("test_together_sdk.py",),
    "legacy": ("test_together_legacy.py",),
}
COMPAT_ENV = os.environ.get("TOGETHER_IMAGE_COMPAT", "")
_SELECTED = _MODULES_BY_ENV.get(COMPAT_ENV, ())
collect_ignore = [
    module for modules in _MODULES_BY_ENV.values() for module in modules if module not in _SELECTED
]

COMPAT_KEY = "tgp_v1_compat-test-key"
AI_SDK_PACKAGES = ("ai@7.0.173", "@ai-sdk/togetherai@3.0.54")
RUNNER = Path(__file__).with_name("ai_sdk_runner.mjs")


@pytest.fixture(scope="session")
def compat_server() -> Iterator[FakeTogetherServer]:
    """The session's server; it accepts only ``COMPAT_KEY``, so a wrong key gets the real 401."""
    with FakeTogetherServer(FakeTogether(api_keys=[COMPAT_KEY], seed=7)) as server:
        yield server


@pytest.fixture
def fake_server(compat_server: FakeTogetherServer) -> FakeTogetherServer:
    """The session server with the fake's state (calls, faults, images) reset for this test."""
    compat_server.fake.reset()
    return compat_server


@pytest.fixture(scope="session")
def ai_sdk_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with ``ai`` and ``@ai-sdk/togetherai`` installed from npm, and the runner script."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        missing = " and ".join(name for name, path in (("node", node), ("npm", npm)) if not path)
        skip_unless_ci(f"{missing} not on PATH: the AI SDK compatibility tests need Node and npm")
    folder = tmp_path_factory.mktemp("ai-sdk")
    command = [npm, "install", "--no-audit", "--no-fund", "--no-package-lock", "--loglevel=error"]
    installed = subprocess.run(
        [*command, *AI_SDK_PACKAGES],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if installed.returncode != 0:
        pytest.fail(f"npm install {' '.join(AI_SDK_PACKAGES)} failed:\n{installed.stderr}")
    shutil.copy(RUNNER, folder / RUNNER.name)
    return folder


def skip_unless_ci(reason: str, environ: Mapping[str, str] = os.environ) -> None:
    """Skip, saying why; under ``CI=true`` fail instead, so CI never loses these tests quietly."""
    if environ.get("CI", "").lower() in ("true", "1"):
        pytest.fail(f"{reason} (required when CI=true)", pytrace=False)
    pytest.skip(reason)


@dataclass(frozen=True, kw_only=True)
class Target:
    """Where a client under test sends its requests: the in-process fake or the fake server.

    Attributes:
        name: ``"in-process"`` or ``"server"``.
        fake: The fake answering (its call log, its faults).
        base_url: The base URL with ``/v1`` (together 1.x and 2.x, openai, litellm); ``None``
            in-process, where clients keep their default Together URL.
        origin: The base URL without ``/v1`` (together >= 3 appends it itself); ``None``
            in-process.
    """

    name: str
    fake: FakeTogether
    base_url: str | None
    origin: str | None


@pytest.fixture(params=["in-process", "server"])
def target(request: pytest.FixtureRequest) -> Target:
    """Each test twice: against ``together_fake`` (in-process, nothing passed to the client) and
    against ``together_fake_server``; both honour ``@pytest.mark.together_fake(retry_after_s=…)``.
    """
    if request.param == "in-process":
        fake: FakeTogether = request.getfixturevalue("together_fake")
        return Target(name="in-process", fake=fake, base_url=None, origin=None)
    server: FakeTogetherServer = request.getfixturevalue("together_fake_server")
    return Target(name="server", fake=server.fake, base_url=server.base_url, origin=server.origin)


def png_bytes(color: tuple[int, int, int] = (200, 30, 90)) -> bytes:
    """A small PNG to edit."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buffer, format="PNG")
    return buffer.getvalue()
