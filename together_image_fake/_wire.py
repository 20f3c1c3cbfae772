"""The adapter-neutral request and response types every fake mode speaks.

Adapters (the in-process ``responses`` mock, the HTTP server, the WSGI app) parse what arrives into a
``FakeRequest``, hand it to ``FakeTogether.handle()``, and write the ``FakeResponse`` back out. Nothing
here knows which adapter is in use; connection-level faults (a reset, a timeout, latency) are data on
the response that each adapter carries out in its own way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

ResponseAction = Literal["respond", "reset", "timeout"]


@dataclass(frozen=True, kw_only=True)
class FakeRequest:
    """One HTTP request as the fake sees it.

    Attributes:
        method: Upper-case HTTP method.
        path: The URL path normalised so the API lives under ``/v1`` (e.g. ``/v1/images/generations``,
            ``/shrt/abc``, ``/_fake/calls``), without the query string.
        query: The raw query string, without ``?``.
        headers: Request headers with lower-cased names.
        body: The raw request body.
        origin: ``scheme://host[:port]`` the client addressed, used to build absolute URLs
            (``https://api.together.ai`` in-process, ``http://127.0.0.1:PORT`` for the server).
    """

    method: str
    path: str
    query: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    origin: str = "https://api.together.ai"


@dataclass(frozen=True, kw_only=True)
class FakeResponse:
    """One answer from the fake.

    Attributes:
        status: HTTP status code.
        headers: Response headers in wire order (names as the real API spells them).
        body: The exact body bytes.
        delay_s: Latency to add before answering (a latency fault), in seconds.
        action: ``"respond"`` to answer normally; ``"reset"`` to drop the connection without an
            answer; ``"timeout"`` to never answer in time (the adapter raises or stalls).
    """

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    delay_s: float = 0.0
    action: ResponseAction = "respond"

    def header(self, name: str) -> str | None:
        """Return the first header called ``name`` (case-insensitive), or ``None``."""
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None
