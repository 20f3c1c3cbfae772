"""The ``hypothesis`` entry point: type strategies registered without importing anything heavy.

Hypothesis calls ``_hypothesis_setup_hook`` while it is itself being imported. Registering a type
strategy needs the type object, so the hook registers at once for each type whose module is
already imported and, for the others, watches for exactly those modules (a meta-path finder that
wraps their loader) and registers right after their first import. Each registration is a function
Hypothesis calls when it resolves the type, so ``together_image_fake.strategies`` (and with it
Pillow and the client) is imported only then. ``import hypothesis`` imports neither the client, the
fake's modules nor Pillow (only this module and the lazy package ``__init__``), and importing
``together_image_fake.strategies`` first (a plain script, a notebook, a unittest module) no longer
meets a half-imported module.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import threading
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

TYPE_STRATEGIES: dict[str, tuple[tuple[str, str], ...]] = {
    "together_image._types": (
        ("ImagePrompt", "image_prompts"),
        ("GeneratedImage", "generated_images"),
        ("GenerateImageResult", "_results"),
    ),
    "together_image_fake._state": (("Fault", "fake_faults"),),
}
"""``module -> ((type name, strategies function), ...)``: what ``st.from_type`` draws with. The
strategies module registers its own example types (``ImageInputExample``,
``InvalidRequestExample``) as it is imported: they cannot exist before it."""

_lock = threading.Lock()
_pending: set[str] = set()


def _strategy(function_name: str) -> Any:
    """The strategy ``together_image_fake.strategies.<function_name>()`` (imported on first use)."""
    strategies = importlib.import_module("together_image_fake.strategies")
    return getattr(strategies, function_name)()


def _register(module: ModuleType) -> None:
    from hypothesis import strategies as st

    for type_name, function_name in TYPE_STRATEGIES[module.__name__]:
        # A function, not a strategy: Hypothesis calls it only when it resolves the type (a
        # strategy, even a deferred one, is inspected at registration).
        st.register_type_strategy(getattr(module, type_name), _resolver(function_name))


def _resolver(function_name: str) -> Callable[[type], Any]:
    def resolve(_type: type) -> Any:
        return _strategy(function_name)

    return resolve


class _RegisteringLoader(importlib.abc.Loader):
    """Runs a module's own loader, then registers its types."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        _register(module)


class _Watcher(importlib.abc.MetaPathFinder):
    """Finds nothing itself: wraps the loader other finders give for a watched module."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        with _lock:
            if fullname not in _pending:
                return None
            _pending.discard(fullname)
        for finder in sys.meta_path:
            find: Callable[..., importlib.machinery.ModuleSpec | None] | None = getattr(
                finder, "find_spec", None
            )
            if finder is self or find is None:
                continue
            spec = find(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _RegisteringLoader(spec.loader)
                return spec
        return None


_WATCHER = _Watcher()


def _hypothesis_setup_hook() -> None:
    """Register type strategies (the ``hypothesis`` entry point; Hypothesis calls it on import).

    ``st.from_type`` then draws: ``ImagePrompt`` via ``image_prompts()``, ``GeneratedImage`` via
    ``generated_images()``, ``GenerateImageResult`` with one to four images, ``Fault`` via
    ``fake_faults()``; ``ImageInputExample`` via ``image_inputs()`` and ``InvalidRequestExample``
    via ``invalid_generation_requests()`` once the strategies module is imported.
    """
    for name in TYPE_STRATEGIES:
        module = sys.modules.get(name)
        if module is None:
            with _lock:
                _pending.add(name)
        elif not getattr(module.__spec__, "_initializing", False):
            _register(module)
    with _lock:
        if _pending and _WATCHER not in sys.meta_path:
            sys.meta_path.insert(0, _WATCHER)
