"""The ``hypothesis`` entry point: registered type strategies, and an import graph that keeps
Hypothesis out of ``import together_image_fake``."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points

from hypothesis import given
from hypothesis import strategies as st

from together_image import GeneratedImage, GenerateImageResult, ImagePrompt
from together_image._inputs import normalize_prompt
from together_image_fake import FakeTogether, Fault
from together_image_fake.strategies import ImageInputExample, InvalidRequestExample


def test_the_entry_point_names_the_hook() -> None:
    hooks = [ep.value for ep in entry_points(group="hypothesis")]
    assert "together_image_fake._hypothesis_hook:_hypothesis_setup_hook" in hooks


@given(st.from_type(ImagePrompt))
def test_image_prompts_from_type_normalize(prompt: ImagePrompt) -> None:
    normalized = normalize_prompt(prompt)
    assert normalized.text == prompt.text
    assert len(normalized.images) == len(prompt.images) >= 1
    assert all(url.startswith(("data:image/", "http")) for url in normalized.images)


@given(st.from_type(GenerateImageResult))
def test_results_from_type_hold_real_images(result: GenerateImageResult) -> None:
    assert len(result.responses) == len(result.images) >= 1
    assert result.image.to_pil().size >= (1, 1)


@given(st.from_type(GeneratedImage))
def test_generated_images_from_type_decode(image: GeneratedImage) -> None:
    assert image.media_type in ("image/jpeg", "image/png")


@given(st.from_type(Fault), st.from_type(ImageInputExample), st.from_type(InvalidRequestExample))
def test_fake_types_from_type(
    fault: Fault, example: ImageInputExample, invalid: InvalidRequestExample
) -> None:
    FakeTogether().queue_faults([fault])
    assert example.data
    assert invalid.status in (400, 404, 500)


def test_importing_the_package_does_not_import_hypothesis() -> None:
    code = (
        "import sys, together_image, together_image_fake, together_image_fake.pytest_plugin\n"
        "loaded = sorted(name for name in sys.modules if name.split('.')[0] == 'hypothesis')\n"
        "print(loaded)\n"
        "sys.exit(1 if loaded else 0)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
