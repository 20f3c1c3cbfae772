"""Package-level promises: public names, the error tree, import hygiene and module seams."""

from __future__ import annotations

import ast
import builtins
import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import together_image
from together_image import (
    APICallError,
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    InternalServerError,
    InvalidArgumentError,
    InvalidDataContentError,
    InvalidResponseDataError,
    LoadAPIKeyError,
    NoImageGeneratedError,
    NotFoundError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    RetryError,
    TogetherImageError,
    UnprocessableEntityError,
    UnsupportedFunctionalityError,
)
from together_image._errors import error_class_for_status

PACKAGE_DIR = Path(together_image.__file__).parent
CONTRACT = {
    "togetherai",
    "create_togetherai",
    "generate_image",
    "TogetherImageClient",
    "ImagePrompt",
    "GeneratedImage",
    "GenerateImageResult",
    "ResponseMetadata",
    "Warning",
    "ImageResponse",
    "TogetherImageError",
    "InvalidArgumentError",
    "InvalidDataContentError",
    "UnsupportedFunctionalityError",
    "LoadAPIKeyError",
    "APICallError",
    "BadRequestError",
    "AuthenticationError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "NotFoundError",
    "UnprocessableEntityError",
    "RateLimitError",
    "InternalServerError",
    "APIConnectionError",
    "APITimeoutError",
    "InvalidResponseDataError",
    "RetryError",
    "NoImageGeneratedError",
}


def module_names() -> list[str]:
    return [f"together_image.{info.name}" for info in pkgutil.iter_modules([str(PACKAGE_DIR)])]


def test_contract_names_are_exported() -> None:
    assert set(together_image.__all__) >= CONTRACT
    for name in together_image.__all__:
        assert getattr(together_image, name) is not None


def test_warning_is_ours_and_shadows_nothing_inside() -> None:
    assert together_image.Warning.__module__ == "together_image._types"
    assert not issubclass(together_image.Warning, builtins.Warning)
    for name in module_names():
        module = importlib.import_module(name)
        if name != "together_image._types":
            assert "Warning" not in vars(module), f"{name} shadows the builtin Warning"


@pytest.mark.parametrize(
    ("error", "parent"),
    [
        (InvalidArgumentError, TogetherImageError),
        (InvalidArgumentError, ValueError),
        (InvalidDataContentError, InvalidArgumentError),
        (UnsupportedFunctionalityError, TogetherImageError),
        (LoadAPIKeyError, TogetherImageError),
        (APICallError, TogetherImageError),
        (BadRequestError, APICallError),
        (AuthenticationError, APICallError),
        (PaymentRequiredError, APICallError),
        (PermissionDeniedError, APICallError),
        (NotFoundError, APICallError),
        (UnprocessableEntityError, APICallError),
        (RateLimitError, APICallError),
        (InternalServerError, APICallError),
        (APIConnectionError, APICallError),
        (APITimeoutError, APIConnectionError),
        (InvalidResponseDataError, APICallError),
        (RetryError, TogetherImageError),
        (NoImageGeneratedError, TogetherImageError),
    ],
)
def test_error_tree(error: type[Exception], parent: type[Exception]) -> None:
    assert issubclass(error, parent)
    assert error.__name__.endswith("Error")
    assert not hasattr(builtins, error.__name__)


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (402, PaymentRequiredError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (408, APICallError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (500, InternalServerError),
        (529, InternalServerError),
        (302, APICallError),
    ],
)
def test_status_table(status: int, error: type[APICallError]) -> None:
    assert error_class_for_status(status) is error


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_only_the_transport_imports_requests() -> None:
    importers = {
        path.name for path in PACKAGE_DIR.glob("*.py") if "requests" in imported_modules(path)
    }
    assert importers == {"_transport.py"}


def test_importing_the_package_imports_no_pillow_and_reads_no_settings() -> None:
    code = (
        "import os, sys\n"
        "class Spy(dict):\n"
        "    def check(self, key):\n"
        "        if str(key).startswith('TOGETHER'): raise AssertionError(f'{key} read')\n"
        "    def get(self, key, default=None): self.check(key); return super().get(key, default)\n"
        "    def __getitem__(self, key): self.check(key); return super().__getitem__(key)\n"
        "os.environ = Spy(os.environ)\n"
        "import together_image\n"
        "print('PIL' in sys.modules)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert completed.stdout.strip() == "False"


def test_every_module_has_a_docstring() -> None:
    for name in module_names():
        assert importlib.import_module(name).__doc__, name
