"""Compatibility tests: the real clients (``together`` from PyPI, the AI SDK from npm) against the
fake server.

They need packages the default test run does not install, so they run only in the ``compat`` tox
env (``TOGETHER_IMAGE_COMPAT=1``: ``together`` 3.x and the AI SDK) and the ``compat-legacy`` env
(``TOGETHER_IMAGE_COMPAT=legacy``: ``together`` 1.x); ``.ci/run`` runs every env of the envlist,
these included. Without that variable no module here is collected, so ``tox -e py`` stays fast and
needs neither the SDKs nor Node. The AI SDK is installed with npm into a per-session
temporary folder; those tests skip, saying why, only when ``node`` or ``npm`` is missing.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from together_image_fake import FakeTogether, FakeTogetherServer

# Which modules each compat env runs (by its TOGETHER_IMAGE_COMPAT value); other runs collect none.
_MODULES_BY_ENV = {
    "1": ("test_together_sdk.py", "test_ai_sdk.py"),
    "legacy": ("test_together_legacy.py",),
}
_SELECTED = _MODULES_BY_ENV.get(os.environ.get("TOGETHER_IMAGE_COMPAT", ""), ())
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
        pytest.skip(f"{missing} not on PATH: the AI SDK compatibility tests need Node and npm")
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


def png_bytes(color: tuple[int, int, int] = (200, 30, 90)) -> bytes:
    """A small PNG to edit."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buffer, format="PNG")
    return buffer.getvalue()
