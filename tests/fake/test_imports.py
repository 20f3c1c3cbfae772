"""What importing the fake's public modules costs, checked in fresh interpreters.

A unittest-only user, a script or a notebook imports these without pytest having set anything up;
the pytest plugin is loaded by every pytest run in an environment where the package is installed,
so it must not drag Pillow, servers, mocking libraries or asyncio in; and Hypothesis loads the
package's entry point on its own import, before any strategy is wanted.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PUBLIC_MODULES = (
    "together_image_fake",
    "together_image_fake.pytest_plugin",
    "together_image_fake.strategies",
    "together_image_fake.wsgi",
)


def _fresh(code: str) -> str:
    """Run ``code`` in a new interpreter; return its stdout (fail with its stderr)."""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _loaded_after(statement: str, candidates: tuple[str, ...]) -> list[str]:
    code = (
        f"import json, sys\n{statement}\n"
        f"print(json.dumps([m for m in {candidates!r} if m in sys.modules]))"
    )
    loaded: list[str] = json.loads(_fresh(code))
    return loaded


def test_the_strategies_import_first_in_a_plain_interpreter() -> None:
    out = _fresh(
        "from together_image_fake.strategies import image_inputs\n"
        "print(image_inputs().example().form)"
    )
    assert out.strip()


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_every_public_module_imports_on_its_own(module: str) -> None:
    _fresh(f"import {module}")


def test_the_pytest_plugin_imports_nothing_heavy() -> None:
    heavy = ("PIL", "http.server", "unittest.mock", "asyncio", "requests", "responses")
    assert _loaded_after("import together_image_fake.pytest_plugin", heavy) == []


def test_importing_hypothesis_imports_neither_the_client_the_fake_nor_pillow() -> None:
    watched = (
        "together_image",
        "together_image_fake._backend",
        "together_image_fake._state",
        "together_image_fake.strategies",
        "PIL",
    )
    assert _loaded_after("import hypothesis", watched) == []


def test_the_hook_registers_client_types_imported_after_hypothesis() -> None:
    out = _fresh(
        "import hypothesis\n"
        "from hypothesis import strategies as st\n"
        "from together_image import ImagePrompt\n"
        "from together_image_fake import Fault\n"
        "print(type(st.from_type(ImagePrompt).example()).__name__,"
        " type(st.from_type(Fault).example()).__name__)"
    )
    assert out.split() == ["ImagePrompt", "Fault"]


def test_the_package_re_exports_lazily() -> None:
    assert _loaded_after("import together_image_fake", ("PIL", "requests", "responses")) == []
    assert _fresh(
        "import together_image_fake as fake\n"
        "print(fake.FakeTogether.__name__, 'FakeTogether' in dir(fake))"
    ).split() == ["FakeTogether", "True"]
