"""Switching a fake's in-process interception on and off, and the registry of in-process adapters.

``IN_PROCESS_ADAPTERS`` is the one place an in-process adapter is registered: ``requests``
(through ``responses``) always, httpx and httpx2 through ``_httpx`` (which imports neither: it
patches each once something else has imported it). ``Interception`` starts every available
adapter for one fake and stops exactly those (any order across fakes: each adapter removes only
its own interception). ``decorate`` makes a fake usable as a decorator of a
function or of a ``unittest.TestCase`` class (each test method patched, as ``unittest.mock.patch``
does). The fake's core never imports this module's adapters: they are loaded here, on ``start()``.

An in-process adapter is a class ``Adapter(fake, *, base_urls=())`` with ``start()`` and ``stop()``
that calls only ``fake.handle(FakeRequest) -> FakeResponse`` and ``fake.sleep(seconds)``, uses
``_mounts`` for base URLs and the "blocked" message, and whose ``stop()`` removes exactly its own
interception whatever the order other instances are stopped in.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from together_image_fake._wire import FakeRequest, FakeResponse

T = TypeVar("T")


class Handles(Protocol):
    """What an in-process adapter calls on the fake."""

    def handle(self, request: FakeRequest) -> FakeResponse:
        """Answer one request."""

    def sleep(self, seconds: float) -> None:
        """Carry out injected latency."""


class InProcessAdapter(Protocol):
    """An in-process adapter instance (see the module docstring)."""

    def start(self) -> None:
        """Start intercepting."""

    def stop(self) -> None:
        """Stop intercepting (only this instance's interception)."""


AdapterClass = Callable[..., InProcessAdapter]


def _requests_adapter() -> AdapterClass | None:
    from together_image_fake._mock import InProcessMock

    return InProcessMock


@functools.cache
def _optional_adapter(module_name: str, class_name: str, library: str) -> AdapterClass | None:
    # Cached: Python remembers imported modules but not missing ones, and searching the path
    # for an absent library on every start cost more than the rest of starting a fake.
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        # Absent only because the library (or this adapter) is not installed: nothing to patch.
        if error.name in (library, module_name):
            return None
        raise
    adapter: AdapterClass = getattr(module, class_name)
    return adapter


IN_PROCESS_ADAPTERS: tuple[Callable[[], AdapterClass | None], ...] = (
    _requests_adapter,
    functools.partial(_optional_adapter, "together_image_fake._httpx", "HttpxMock", "httpx"),
)
"""Loaders of the in-process adapter classes, in start order; a loader returns ``None`` when its
library is not installed. Register a new adapter by adding its loader here."""


class Interception:
    """One fake's in-process interception: every available adapter, started and stopped together.

    Args:
        fake: What the adapters call (``handle`` and ``sleep``).
        base_urls: Extra base URLs to intercept.
    """

    def __init__(self, fake: Handles, base_urls: Sequence[str]) -> None:
        self._fake = fake
        self.base_urls = tuple(base_urls)
        self._lock = threading.Lock()
        self._adapters: list[InProcessAdapter] | None = None

    @property
    def active(self) -> bool:
        """Whether the fake is intercepting."""
        return self._adapters is not None

    def start(self) -> None:
        """Start every available adapter.

        Raises:
            RuntimeError: If already started.
        """
        with self._lock:
            if self._adapters is not None:
                raise RuntimeError("This FakeTogether is already intercepting requests")
            started: list[InProcessAdapter] = []
            try:
                for load in IN_PROCESS_ADAPTERS:
                    adapter_class = load()
                    if adapter_class is None:
                        continue
                    adapter = adapter_class(self._fake, base_urls=self.base_urls)
                    adapter.start()
                    started.append(adapter)
            except BaseException:
                for adapter in reversed(started):
                    adapter.stop()
                raise
            self._adapters = started

    def stop(self) -> None:
        """Stop this fake's adapters (no-op when not started)."""
        with self._lock:
            adapters, self._adapters = self._adapters, None
        for adapter in reversed(adapters or []):
            adapter.stop()


def decorate(fake: Any, target: T) -> T:
    """Run ``target`` with ``fake`` intercepting: a function for the length of each call, or
    each ``test*`` method of a ``unittest.TestCase`` (or any) class, the class itself kept.

    Raises:
        TypeError: If ``target`` is neither a class nor callable.
    """
    if inspect.isclass(target):
        for name, member in list(vars(target).items()):
            if name.startswith("test") and inspect.isfunction(member):
                setattr(target, name, decorate(fake, member))
        return target
    if not callable(target):
        raise TypeError(
            f"FakeTogether decorates a function or a class, got {type(target).__name__}"
        )
    func: Callable[..., Any] = target

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        with fake:
            return func(*args, **kwargs)

    return run  # type: ignore[return-value]
