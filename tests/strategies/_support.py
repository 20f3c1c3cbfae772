"""Helpers for the strategy tests: send a wire body straight to a fake's ``handle()``."""

from __future__ import annotations

import json
from typing import Any

from together_image_fake import FakeRequest, FakeResponse, FakeTogether

KEY = "tgp_v1_strategies-test-key"


def post_body(fake: FakeTogether, body: Any) -> FakeResponse:
    """POST ``body`` as JSON to ``/v1/images/generations`` with a valid key, without any HTTP."""
    return fake.handle(
        FakeRequest(
            method="POST",
            path="/v1/images/generations",
            headers={"authorization": f"Bearer {KEY}", "content-type": "application/json"},
            # allow_nan=False: strategies must only produce valid JSON (no NaN or Infinity).
            body=json.dumps(body, allow_nan=False).encode("utf-8"),
        )
    )


def error_of(response: FakeResponse) -> dict[str, Any]:
    """The ``error`` object of an error answer, checking the real body shape on the way."""
    payload = json.loads(response.body)
    assert list(payload) == ["id", "error"], payload
    error: dict[str, Any] = payload["error"]
    assert list(error) == ["message", "type", "param", "code"], error
    return error
