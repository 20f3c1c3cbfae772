"""The HTTP seam: the only module that imports ``requests``.

``Transport.post_json`` sends one JSON POST and returns a plain ``HTTPResponse`` whatever the
status; every ``requests`` exception is translated here, once, into ``APITimeoutError`` or
``APIConnectionError`` (``raise ... from`` keeps the original as the cause). Status handling and
body parsing belong to the provider.
"""

from __future__ import annotations

import http
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from ._errors import APIConnectionError, APITimeoutError, redact_secret

HTTPSession = requests.Session
"""The session type callers may pass to ``create_togetherai(session=...)``."""


@dataclass(frozen=True, kw_only=True)
class HTTPResponse:
    """A received HTTP response, decoupled from ``requests``.

    Attributes:
        status_code: The HTTP status.
        reason: The reason phrase (the standard phrase when the server sent none).
        headers: Headers with lower-cased names.
        text: The body decoded as UTF-8 (invalid bytes replaced).
    """

    status_code: int
    reason: str
    headers: Mapping[str, str] = field(default_factory=dict)
    text: str = ""


def reason_phrase(status_code: int) -> str:
    """Return the standard reason phrase of a status (``""`` for unknown codes)."""
    try:
        return http.HTTPStatus(status_code).phrase
    except ValueError:
        return ""


class Transport:
    """Posts JSON over a ``requests.Session`` (the caller's, or one created on first use)."""

    def __init__(self, session: requests.Session | None = None) -> None:
        """Create a transport.

        Args:
            session: A session to use; when ``None``, one is created on the first request and
                shared by every later request (connection reuse across threads).
        """
        self._session = session
        self._lock = threading.Lock()

    def _get_session(self) -> requests.Session:
        with self._lock:
            if self._session is None:
                self._session = requests.Session()
            return self._session

    def post_json(
        self,
        url: str,
        *,
        body: bytes,
        headers: Mapping[str, str],
        timeout: float | None,
        request_body: Mapping[str, Any],
        secret: str | None,
    ) -> HTTPResponse:
        """POST ``body`` to ``url`` and return the response, whatever its status.

        Args:
            url: The absolute URL.
            body: The encoded JSON body.
            headers: Complete request headers.
            timeout: Seconds to wait for connect and for each read, or ``None`` for no limit.
            request_body: The body as a mapping, kept on errors for debugging.
            secret: The API key, removed from any error message.

        Returns:
            The response.

        Raises:
            APITimeoutError: The connection or a read timed out.
            APIConnectionError: Any other failure to get a response.
        """
        try:
            response = self._get_session().post(
                url, data=body, headers=dict(headers), timeout=timeout
            )
        except requests.Timeout as error:
            raise APITimeoutError(
                f"Request timed out after {timeout} s: {redact_secret(str(error), secret)}",
                url=url,
                request_body=request_body,
                is_retryable=True,
            ) from error
        except requests.RequestException as error:
            raise APIConnectionError(
                f"Cannot connect to API: {redact_secret(str(error), secret)}",
                url=url,
                request_body=request_body,
                is_retryable=True,
            ) from error
        return HTTPResponse(
            status_code=response.status_code,
            reason=response.reason or reason_phrase(response.status_code),
            headers={name.lower(): value for name, value in response.headers.items()},
            text=response.content.decode("utf-8", errors="replace"),
        )
