"""The one fixture every contract test goes through: ``api``, parametrized over the fake's modes.

``api.post(path, json=...)`` / ``api.get(path)`` send real HTTP requests with ``requests`` and
return a ``Reply(status, headers, body)``; ``api.fake`` is the ``FakeTogether`` answering them,
configured by ``@pytest.mark.together_fake(...)``. A mode is an origin plus a context that makes
the fake answer there: "inprocess" intercepts https://api.together.xyz with ``responses``;
"server" serves it on a loopback ``FakeTogetherServer``. A new mode adds a parameter and a branch
in ``api``; every test then runs in it too.
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

import pytest
import requests
from requests.structures import CaseInsensitiveDict

from together_image_fake import FakeTogether, FakeTogetherServer
from together_image_fake.pytest_plugin import together_fake_options

API_KEY = "test-key"
_NO_JSON = object()


class Reply(NamedTuple):
    """One answer: status, headers (case-insensitive) and the exact body bytes."""

    status: int
    headers: CaseInsensitiveDict[str]
    body: bytes

    def json(self) -> Any:
        """Return the body parsed as JSON."""
        return jsonlib.loads(self.body)


class ContractAPI:
    """Sends requests to the fake in one mode.

    Args:
        fake: The backend under test.
        origin: ``scheme://host[:port]`` where the fake answers.
        session: The ``requests`` session to send with.
        mode: The mode's name.
    """

    def __init__(
        self, fake: FakeTogether, origin: str, session: requests.Session, mode: str
    ) -> None:
        self.fake = fake
        self.origin = origin
        self.session = session
        self.mode = mode

    @property
    def base_url(self) -> str:
        """The API base URL (``<origin>/v1``) for clients."""
        return f"{self.origin}/v1"

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = _NO_JSON,
        data: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        key: str | None = API_KEY,
        timeout: float = 10.0,
    ) -> Reply:
        """Send one request.

        Args:
            method: HTTP method.
            path: A path on the fake's origin, or an absolute URL the fake returned.
            json: A JSON body.
            data: A raw body instead.
            headers: Extra headers.
            key: Bearer key to send; ``None`` sends no ``Authorization`` header.
            timeout: Seconds before ``requests`` gives up.

        Returns:
            The reply.
        """
        url = path if path.startswith(("http://", "https://")) else self.origin + path
        all_headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
        all_headers.update(headers or {})
        kwargs: dict[str, Any] = {"headers": all_headers, "timeout": timeout}
        if json is not _NO_JSON:
            kwargs["json"] = json
        if data is not None:
            kwargs["data"] = data
        response = self.session.request(method, url, **kwargs)
        return Reply(status=response.status_code, headers=response.headers, body=response.content)

    def post(self, path: str, **kwargs: Any) -> Reply:
        """``request("POST", path, ...)``."""
        return self.request("POST", path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Reply:
        """``request("GET", path, ...)``."""
        return self.request("GET", path, **kwargs)

    def generate(self, **body: Any) -> Reply:
        """POST an image-generation body (``model`` defaults to FLUX.1-schnell)."""
        body.setdefault("model", "black-forest-labs/FLUX.1-schnell")
        return self.post("/v1/images/generations", json=body)


@pytest.fixture(params=["inprocess", "server"])
def api(request: pytest.FixtureRequest) -> Iterator[ContractAPI]:
    """The fake under test, reachable over HTTP in each mode."""
    fake = FakeTogether(**together_fake_options(request))
    with requests.Session() as session:
        if request.param == "inprocess":
            with fake:
                yield ContractAPI(fake, "https://api.together.xyz", session, "inprocess")
        elif request.param == "server":
            with FakeTogetherServer(fake) as server:
                yield ContractAPI(fake, server.origin, session, "server")
        else:
            raise AssertionError(f"Unknown fake mode {request.param!r}")
