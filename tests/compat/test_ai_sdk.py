"""The AI SDK (npm ``ai`` + ``@ai-sdk/togetherai``, run by Node) against the fake server.

Each scenario runs ``ai_sdk_runner.mjs`` in a fresh Node process, which prints what
``generateImage()`` returned or threw; the assertions check it and the fake's call log.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from together_image_fake import FakeTogetherServer, inspect_image

from .conftest import COMPAT_KEY, RUNNER, png_bytes

SCHNELL = "black-forest-labs/FLUX.1-schnell"
KONTEXT = "black-forest-labs/FLUX.1-kontext-pro"


def run_ai_sdk(folder: Path, server: FakeTogetherServer, **scenario: Any) -> dict[str, Any]:
    """Run one scenario with Node and return its JSON outcome."""
    payload = {"baseURL": server.base_url, "apiKey": COMPAT_KEY, **scenario}
    completed = subprocess.run(
        ["node", str(folder / RUNNER.name)],
        input=json.dumps(payload),
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    outcome: dict[str, Any] = json.loads(completed.stdout)
    return outcome


def test_generate_image_with_size_and_provider_options(
    ai_sdk_dir: Path, fake_server: FakeTogetherServer
) -> None:
    outcome = run_ai_sdk(
        ai_sdk_dir,
        fake_server,
        model=SCHNELL,
        prompt="a quetzal, via the AI SDK",
        size="512x256",
        seed=4,
        providerOptions={"togetherai": {"steps": 3, "negative_prompt": "blur"}},
    )
    assert outcome["ok"], outcome
    (image,) = outcome["images"]
    assert image["mediaType"] == "image/jpeg"
    info = inspect_image(base64.b64decode(image["base64"]))
    assert (info.prompt, info.width, info.height, info.steps, info.seed) == (
        "a quetzal, via the AI SDK",
        512,
        256,
        3,
        4,
    )
    # FLUX.1-schnell accepts and ignores negative_prompt (a byte-identical image, measured live:
    # OrbFrontend/Orb providers.py @1e4de79e), so the image does not carry it; the body does.
    assert info.negative_prompt is None
    (call,) = fake_server.fake.calls
    assert call.body == {
        "model": SCHNELL,
        "prompt": "a quetzal, via the AI SDK",
        "seed": 4,
        "width": 512,
        "height": 256,
        "response_format": "base64",
        "steps": 3,
        "negative_prompt": "blur",
    }
    assert call.headers["user-agent"].startswith("ai/7.")


def test_edit_with_a_buffer_on_a_kontext_model(
    ai_sdk_dir: Path, fake_server: FakeTogetherServer
) -> None:
    source = png_bytes()
    outcome = run_ai_sdk(
        ai_sdk_dir,
        fake_server,
        model=KONTEXT,
        prompt="make it blue",
        imageBase64=base64.b64encode(source).decode(),
    )
    assert outcome["ok"], outcome
    info = inspect_image(base64.b64decode(outcome["images"][0]["base64"]))
    assert info.input_sha256 == hashlib.sha256(source).hexdigest()
    (call,) = fake_server.fake.calls
    assert call.body["image_url"] == "data:image/png;base64," + base64.b64encode(source).decode()


def test_n_three_makes_three_calls(ai_sdk_dir: Path, fake_server: FakeTogetherServer) -> None:
    outcome = run_ai_sdk(ai_sdk_dir, fake_server, model=SCHNELL, prompt="three birds", n=3)
    assert outcome["ok"], outcome
    assert len(outcome["images"]) == 3
    assert len(outcome["responses"]) == 3
    calls = fake_server.fake.calls
    assert [call.status for call in calls] == [200, 200, 200]
    assert all("n" not in call.body for call in calls)


def test_unknown_model_is_an_api_call_error_with_the_real_message(
    ai_sdk_dir: Path, fake_server: FakeTogetherServer
) -> None:
    model = "black-forest-labs/FLUX.9-imaginary"
    outcome = run_ai_sdk(ai_sdk_dir, fake_server, model=model, prompt="p", maxRetries=2)
    assert not outcome["ok"]
    error = outcome["error"]
    assert error["isAPICallError"]
    assert error["statusCode"] == 404
    assert error["message"] == (
        f"Unable to access model {model}. Please visit https://api.together.ai/models to view "
        "the list of supported models."
    )
    assert error["isRetryable"] is False
    assert len(fake_server.fake.calls) == 1


@pytest.mark.together_fake(retry_after_s=0.001)
def test_a_503_is_retried_after_the_wait_the_fake_asks_for(
    ai_sdk_dir: Path, together_fake_server: FakeTogetherServer
) -> None:
    together_fake_server.fake.fail_next(status=503)

    outcome = run_ai_sdk(ai_sdk_dir, together_fake_server, model=SCHNELL, prompt="p", maxRetries=2)

    assert outcome["ok"], outcome
    assert [call.status for call in together_fake_server.fake.calls] == [503, 200]
