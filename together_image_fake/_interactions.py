"""The recorded exchange: requests, responses and interactions, and the cassette errors.

Plain frozen types shared by the cassette format (``_cassette``), the recorder (``_record``) and
the player (``_replay``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from together_image_fake._errors import FakeTogetherError
from together_image_fake._secrets import SecretFinding
from together_image_fake._wire import ResponseAction


class CassetteError(FakeTogetherError):
    """Base class of the cassette errors."""


class CassetteFormatError(CassetteError, ValueError):
    """A cassette file that cannot be read: not JSON, another format, a newer version, bad data."""


class SecretLeakError(CassetteError):
    """Saving was refused because the cassette still contains something that looks secret.

    Attributes:
        path: The cassette that was not written.
        findings: What was found (never the secret itself).
    """

    def __init__(self, path: Path, findings: list[SecretFinding]) -> None:
        self.path = path
        self.findings = findings
        listed = "\n".join(f"  - {finding}" for finding in findings[:20])
        more = f"\n  … and {len(findings) - 20} more" if len(findings) > 20 else ""
        super().__init__(
            f"Refusing to save cassette {path}: {len(findings)} possible secret(s) remain after "
            f"scrubbing; nothing was written.\n{listed}{more}\n"
            "Pass the secret to the recorder (secrets=[...], --secret) so it is scrubbed, or, "
            "for a false positive, allow the benign pattern (allow=[regex], --allow)."
        )


@dataclass(frozen=True, kw_only=True)
class ElidedBlob:
    """What is kept of an image left out of a cassette.

    Attributes:
        size: Its length in bytes.
        media_type: Its media type, when known.
        sha256: Its SHA-256 (hex), when known.
    """

    size: int
    media_type: str | None = None
    sha256: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the document form."""
        return {"size": self.size, "media_type": self.media_type, "sha256": self.sha256}


@dataclass(frozen=True, kw_only=True)
class RecordedRequest:
    """A recorded request, credentials removed.

    Attributes:
        method: Upper-case method.
        url: Absolute URL (credential query values scrubbed).
        headers: Headers in recorded order, without credential headers.
        body: The body. After loading, a JSON body is its canonical form (sorted keys, compact),
            where an elided image appears as a ``{"$elided": {...}}`` object.
        scrubbed_headers: Names of the credential headers that were dropped.
    """

    method: str
    url: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    scrubbed_headers: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class RecordedResponse:
    """A recorded response.

    Attributes:
        status: HTTP status (0 for a connection-level ``action``).
        headers: Headers in recorded order.
        body: The exact body bytes (elided images replaced by placeholders on load).
        action: ``"respond"``, or ``"reset"``/``"timeout"`` when the connection failed instead.
        elided: Whether part of the body was elided, so ``body`` is not what was recorded.
    """

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    action: ResponseAction = "respond"
    elided: bool = False

    def header(self, name: str) -> str | None:
        """Return the first header called ``name`` (case-insensitive), or ``None``."""
        return header_value(self.headers, name)


@dataclass(frozen=True, kw_only=True)
class Interaction:
    """One request and its response.

    Attributes:
        request: The request.
        response: The response.
        provenance: Where each part comes from, e.g. ``{"response.body": "[REC] …"}``: free text
            led by a tag of the reference ([REC], [DOC], [3P], [INF]…); empty for own recordings.
    """

    request: RecordedRequest
    response: RecordedResponse
    provenance: Mapping[str, str] = field(default_factory=dict)


def header_value(headers: tuple[tuple[str, str], ...], name: str) -> str | None:
    """The first header called ``name`` (case-insensitive), or ``None``."""
    lowered = name.lower()
    for key, value in headers:
        if key.lower() == lowered:
            return value
    return None
