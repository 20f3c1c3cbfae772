"""Base URLs the in-process adapters intercept, and how their paths map onto the fake's.

Shared by every in-process adapter (``requests`` through ``responses`` in ``_mock``; httpx) and by
the recording proxy, so that "which URL is the fake's, and under which path" is written once, as
is the message an adapter gives when it blocks a request the fake does not serve.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from together_image_fake._routes import describe_routes

DEFAULT_BASE_URLS: tuple[str, ...] = ("https://api.together.xyz/v1", "https://api.together.ai/v1")
"""The real API's base URLs, intercepted by every in-process fake [DOC]."""

IN_PROCESS_ORIGIN = "https://api.together.ai"
"""URL-mode image URLs point here, as the real API's do [REC]; the mock serves them too."""


@dataclass(frozen=True, kw_only=True)
class BaseURL:
    """An ``http(s)`` API base URL split into what the fake needs.

    Attributes:
        origin: ``scheme://host[:port]``.
        root: The path before the API (``/api`` for ``https://h/api/v1``, ``""`` for ``/v1``).
        keeps_v1: Whether the base URL ends in ``/v1`` (else its path stands in for ``/v1``).
        hostname: The lower-cased host name.
    """

    origin: str
    root: str
    keeps_v1: bool
    hostname: str

    @classmethod
    def parse(cls, base_url: str, *, expected: str = "base URL such as https://host/v1") -> BaseURL:
        """Split ``base_url``.

        Args:
            base_url: The URL.
            expected: What the error message says was expected, after "an http(s)".

        Raises:
            ValueError: If it is not an ``http(s)`` URL with a host.
        """
        parts = urlsplit(base_url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"Expected an http(s) {expected}, got {base_url!r}")
        path = parts.path
        keeps_v1 = path.endswith("/v1")
        return cls(
            origin=f"{parts.scheme}://{parts.netloc}",
            root=path[:-3] if keeps_v1 else path,
            keeps_v1=keeps_v1,
            hostname=(parts.hostname or "").lower(),
        )


@dataclass(frozen=True)
class Mount:
    """One intercepted base URL: its origin and how its paths map onto the fake's.

    Args:
        base_url: The base URL, e.g. ``https://api.together.xyz/v1`` or ``http://proxy.test``.
    """

    base_url: str
    origin: str = field(init=False)
    root: str = field(init=False)
    api_alias: bool = field(init=False)
    pattern: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        parsed = BaseURL.parse(self.base_url)
        object.__setattr__(self, "origin", parsed.origin)
        object.__setattr__(self, "root", parsed.root)
        # ".../v1" bases keep their API under /v1; any other base path stands in for /v1.
        object.__setattr__(self, "api_alias", not parsed.keeps_v1)
        pattern = re.compile(re.escape(parsed.origin) + r"(?:[/?#].*)?$")
        object.__setattr__(self, "pattern", pattern)

    def normalise(self, path: str) -> str | None:
        """Map a request path under this mount onto the fake's paths, or ``None`` if outside."""
        if self.root and not (path == self.root or path.startswith(self.root + "/")):
            return None
        rest = path[len(self.root) :] or "/"
        if self.api_alias and not rest.startswith(("/shrt/", "/_fake")):
            return "/v1" + rest
        return rest


def mounts_for(base_urls: Sequence[str] = ()) -> tuple[Mount, ...]:
    """The mounts of ``DEFAULT_BASE_URLS`` plus ``base_urls``, without duplicates, longest root
    first (so ``/api/v1`` wins over ``/`` on the same origin).

    Raises:
        ValueError: If a base URL is not ``http(s)``.
    """
    return _mounts_for(tuple(base_urls))


@functools.lru_cache(maxsize=64)
def _mounts_for(base_urls: tuple[str, ...]) -> tuple[Mount, ...]:
    # Cached (mounts are frozen): a suite starts a fake per test with the same base URLs.
    mounts: list[Mount] = []
    for base_url in (*DEFAULT_BASE_URLS, *base_urls):
        mount = Mount(base_url)
        if all((m.origin, m.root) != (mount.origin, mount.root) for m in mounts):
            mounts.append(mount)
    return tuple(sorted(mounts, key=lambda m: len(m.root), reverse=True))


def fake_path(mounts: Iterable[Mount], url: str) -> str | None:
    """The fake's path for an absolute request URL, or ``None`` when no mount covers it."""
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    for mount in mounts:
        if mount.origin == origin:
            path = mount.normalise(parts.path or "/")
            if path is not None:
                return path
    return None


def blocked_message(method: str, url: str, mounts: Sequence[Mount], *, library: str) -> str:
    """Why an in-process fake refused a request it does not serve (it never opens connections).

    Args:
        method: The request method.
        url: The request URL.
        mounts: The mounts the fake intercepts.
        library: The mocking library a user would start first for other hosts (``responses``,
            ``respx``).
    """
    intercepted = ", ".join(f"{m.origin}{m.root}" for m in reversed(mounts))
    return (
        f"FakeTogether blocked {method} {url}: it never opens real connections. It intercepts "
        f"{intercepted} and serves {describe_routes()}. Pass FakeTogether(base_urls=[...]) for "
        f"another base URL, or mock other hosts with your own `{library}` started before the fake."
    )
