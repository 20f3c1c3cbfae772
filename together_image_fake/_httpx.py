"""The in-process adapter for httpx clients, sync and async (the official ``together`` SDK >= 2,
``openai`` pointed at Together, litellm), and for ``httpx2``, the fork the ``openai`` SDK 3.x uses.

The seam is httpx's own transport mechanism: while a fake runs, ``HTTPTransport.handle_request``
and ``AsyncHTTPTransport.handle_async_request`` are replaced on the class, so every client that
would open real connections is caught, including clients (and SDK instances) created before the
fake started, and no DNS lookup or socket ever happens for a request the fake answers or blocks.
Clients built on a transport of their own (``httpx.MockTransport``, ``WSGITransport``,
``ASGITransport``) never reach the network and are left alone. respx was the alternative; it was
not taken because it would add a dependency to do less here: its default seam sits below
httpx, in httpcore (which ``httpx2`` renames), it would still need this module's request and
response translation and fault mapping, and its catch-all error could not carry the fake's route
listing. Patching the transport classes is a few lines over httpx's public transport API.

The patch is process-wide, so the set of running adapters is too: the first ``start()`` patches,
the last ``stop()`` restores, and each ``stop()`` removes only its own fake, in any order. A
request goes to the most recently started running fake whose base URLs match it. Requests to any
other host go to whatever handled the transport before the fake started when that was not httpx
itself (pytest-httpx patches the transport), or to a mock patched below it into the connection
pool (respx's default seam), so a user's mock keeps answering them; otherwise they are blocked
with ``ConnectError`` listing the fake's routes. (respx with ``using="httpx"`` sits above the
transport: it sees Together's requests first and must route them to ``pass_through()``.)

httpx stays optional, by this rule: this module imports neither library, and ``start()`` patches
only a library already in ``sys.modules``; a library imported later while a fake runs is patched
the moment its import completes (an import hook, removed by the last ``stop()``). So a process
that never imports httpx never has it imported by the fake.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import threading
from collections.abc import Callable, Sequence
from http import HTTPStatus
from types import ModuleType
from typing import TYPE_CHECKING, Any

from together_image_fake._mounts import (
    IN_PROCESS_ORIGIN,
    Mount,
    blocked_message,
    fake_path,
    mounts_for,
)
from together_image_fake._wire import FakeRequest, FakeResponse

if TYPE_CHECKING:
    from together_image_fake._backend import FakeTogether

LIBRARIES: tuple[str, ...] = ("httpx", "httpx2")
"""The client libraries patched, by module name (httpx2 keeps httpx's transport API)."""

# What httpx 0.28.1 and httpx2 2.16.2 raise, sync and async, against the fake's own server [RUN]:
# a "reset" fault there closes the socket with SO_LINGER 0 (a TCP RST) and gives ReadError
# "[Errno 104] Connection reset by peer" caused by ConnectionResetError (not RemoteProtocolError,
# which is an orderly close before any answer); a "timeout" fault gives ReadTimeout "timed out".
_RESET_MESSAGE = "[Errno 104] Connection reset by peer (injected by FakeTogether)"
_TIMEOUT_MESSAGE = "timed out"


class HttpxMock:
    """Routes intercepted httpx (and httpx2) traffic to a ``FakeTogether``.

    Args:
        fake: The backend.
        base_urls: Extra base URLs to intercept besides ``DEFAULT_BASE_URLS``.
    """

    def __init__(self, fake: FakeTogether, *, base_urls: Sequence[str] = ()) -> None:
        self._fake = fake
        self.mounts: tuple[Mount, ...] = mounts_for(base_urls)

    def start(self) -> None:
        """Start intercepting (patching each library on the first start in the process)."""
        _INTERCEPTION.add(self)

    def stop(self) -> None:
        """Stop intercepting for this fake only (no-op when not started)."""
        _INTERCEPTION.remove(self)

    def exchange(self, lib: ModuleType, request: Any, body: bytes, path: str) -> Any:
        """Answer one httpx ``request`` with the fake: an ``httpx.Response``, or raise as httpx.

        Raises:
            httpx.ReadError: A ``reset`` fault (what a TCP reset gives httpx).
            httpx.ReadTimeout: A ``timeout`` fault, or latency past the request's read timeout.
        """
        query = request.url.raw_path.decode("ascii").partition("?")[2]
        answer = self._fake.handle(
            FakeRequest(
                method=request.method.upper(),
                path=path,
                query=query,
                headers={name.lower(): value for name, value in request.headers.items()},
                body=body,
                origin=IN_PROCESS_ORIGIN,
            )
        )
        read_timeout = (request.extensions.get("timeout") or {}).get("read")
        if answer.delay_s:
            if read_timeout is not None and answer.delay_s >= read_timeout:
                self._fake.sleep(read_timeout)
                raise lib.ReadTimeout(_TIMEOUT_MESSAGE, request=request)
            self._fake.sleep(answer.delay_s)
        if answer.action == "reset":
            raise lib.ReadError(_RESET_MESSAGE, request=request) from ConnectionResetError(
                104, "Connection reset by peer"
            )
        if answer.action == "timeout":
            raise lib.ReadTimeout(_TIMEOUT_MESSAGE, request=request)
        return _response(lib, request, answer)


def _response(lib: ModuleType, request: Any, answer: FakeResponse) -> Any:
    headers = list(answer.headers)
    if answer.header("Content-Length") is None and answer.header("Transfer-Encoding") is None:
        # As the fake's server sends such answers (and the real API its successes) [REC].
        headers.append(("Transfer-Encoding", "chunked"))
    try:
        reason = HTTPStatus(answer.status).phrase
    except ValueError:
        reason = ""
    # A stream, not content=: content= would add a Content-Length the wire never carried.
    return lib.Response(
        status_code=answer.status,
        headers=headers,
        stream=lib.ByteStream(answer.body),
        request=request,
        extensions={"http_version": b"HTTP/1.1", "reason_phrase": reason.encode("ascii")},
    )


class _Patch:
    """One library's transport classes, patched: what they did before, and the replacements."""

    def __init__(self, lib: ModuleType) -> None:
        self.lib = lib
        self.sync_class: Any = lib.HTTPTransport
        self.async_class: Any = lib.AsyncHTTPTransport
        self.previous_sync: Callable[..., Any] = self.sync_class.__dict__["handle_request"]
        self.previous_async: Callable[..., Any] = self.async_class.__dict__["handle_async_request"]
        self.sync_replacement = self._sync_replacement()
        self.async_replacement = self._async_replacement()
        self.sync_class.handle_request = self.sync_replacement
        self.async_class.handle_async_request = self.async_replacement

    def undo(self) -> None:
        # Restore only what is still ours: a mock patched over us restores our function itself,
        # which then passes everything on, since no fake is running.
        if self.sync_class.__dict__.get("handle_request") is self.sync_replacement:
            self.sync_class.handle_request = self.previous_sync
        if self.async_class.__dict__.get("handle_async_request") is self.async_replacement:
            self.async_class.handle_async_request = self.previous_async

    def _reaches_network(self, handler: Callable[..., Any], transport: Any, method: str) -> bool:
        """Whether ``handler`` would open a real connection for ``transport``: it is httpx's own
        and so is the connection pool below it (respx's default mocks patch the pool)."""
        if _library_of(handler) != self.lib.__name__:
            return False
        pool_handler = getattr(type(getattr(transport, "_pool", None)), method, None)
        return _library_of(pool_handler) in (None, "httpcore", "httpcore2")

    def _blocked(self, request: Any) -> Exception:
        message = blocked_message(
            request.method, str(request.url), _INTERCEPTION.mounts(), library="respx"
        )
        error: Exception = self.lib.ConnectError(message, request=request)
        return error

    def _sync_replacement(self) -> Callable[[Any, Any], Any]:
        lib, previous = self.lib, self.previous_sync

        def handle_request(transport: Any, request: Any) -> Any:
            target = _INTERCEPTION.route(request.url)
            if target is None:
                if _INTERCEPTION.running() and self._reaches_network(
                    previous, transport, "handle_request"
                ):
                    raise self._blocked(request)
                return previous(transport, request)
            adapter, path = target
            return adapter.exchange(lib, request, request.read(), path)

        return handle_request

    def _async_replacement(self) -> Callable[[Any, Any], Any]:
        lib, previous = self.lib, self.previous_async

        async def handle_async_request(transport: Any, request: Any) -> Any:
            target = _INTERCEPTION.route(request.url)
            if target is None:
                if _INTERCEPTION.running() and self._reaches_network(
                    previous, transport, "handle_async_request"
                ):
                    raise self._blocked(request)
                return await previous(transport, request)
            adapter, path = target
            body = await request.aread()
            # Rendering and injected latency run in a worker thread, so the event loop keeps
            # serving other tasks, as it would while a real server works.
            import anyio.to_thread  # a dependency of httpx and httpx2 alike

            return await anyio.to_thread.run_sync(adapter.exchange, lib, request, body, path)

        return handle_async_request


def _library_of(function: object) -> str | None:
    """The top-level package that defined ``function`` (``None`` for no function)."""
    if function is None:
        return None
    return str(getattr(function, "__module__", "")).split(".")[0]


class _Interception:
    """The running adapters and the patches they share (process-wide, like the patch itself)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._adapters: list[HttpxMock] = []
        self._patches: dict[int, _Patch] = {}
        self._hook = _PatchOnImport(self)

    def add(self, adapter: HttpxMock) -> None:
        with self._lock:
            if adapter in self._adapters:
                raise RuntimeError("This FakeTogether is already intercepting httpx")
            self._adapters.append(adapter)
            if len(self._adapters) == 1:
                sys.meta_path.insert(0, self._hook)
                for name in LIBRARIES:
                    module = sys.modules.get(name)
                    if module is not None:
                        self.patch(module)

    def remove(self, adapter: HttpxMock) -> None:
        with self._lock:
            if adapter not in self._adapters:
                return
            self._adapters.remove(adapter)
            if not self._adapters:
                if self._hook in sys.meta_path:
                    sys.meta_path.remove(self._hook)
                for patch in self._patches.values():
                    patch.undo()
                self._patches.clear()

    def patch(self, module: ModuleType) -> None:
        """Patch ``module`` (httpx or httpx2) if a fake runs and it is not patched yet."""
        with self._lock:
            # httpx2's alias_httpx() makes "httpx" and "httpx2" one module: patch it once.
            if self._adapters and id(module.HTTPTransport) not in self._patches:
                self._patches[id(module.HTTPTransport)] = _Patch(module)

    def running(self) -> bool:
        return bool(self._adapters)

    def route(self, url: Any) -> tuple[HttpxMock, str] | None:
        """The newest running adapter whose mounts cover ``url``, and the fake's path for it."""
        with self._lock:
            adapters = list(reversed(self._adapters))
        for adapter in adapters:
            path = fake_path(adapter.mounts, str(url))
            if path is not None:
                return adapter, path
        return None

    def mounts(self) -> tuple[Mount, ...]:
        """Every running adapter's mounts, without duplicates (for the "blocked" message)."""
        with self._lock:
            mounts = [mount for adapter in self._adapters for mount in adapter.mounts]
        return tuple({(m.origin, m.root): m for m in mounts}.values())


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Patches httpx/httpx2 when they are first imported while a fake runs."""

    def __init__(self, interception: _Interception) -> None:
        self._interception = interception

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in LIBRARIES:
            return None
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            if finder is self or find is None:
                continue
            spec: importlib.machinery.ModuleSpec | None = find(fullname, path, target)
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = _PatchingLoader(spec.loader, self._interception)
                return spec
        return None


class _PatchingLoader(importlib.abc.Loader):
    """Runs the real loader, then patches the freshly imported library."""

    def __init__(self, loader: importlib.abc.Loader, interception: _Interception) -> None:
        self._loader = loader
        self._interception = interception

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        self._interception.patch(module)

    def __getattr__(self, name: str) -> Any:
        # Everything else (resource readers, get_source, is_package) is the real loader's.
        return getattr(self._loader, name)


_INTERCEPTION = _Interception()
