"""Fixtures for the schema tests, which need schemathesis and openapi-spec-validator.

They run only in the ``schema`` tox env, which installs those and sets
``TOGETHER_IMAGE_SCHEMA=1``; without that variable the modules here are not collected, so the
default test run needs neither package.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from together_image_fake import FakeTogether, FakeTogetherServer

if os.environ.get("TOGETHER_IMAGE_SCHEMA") != "1":
    collect_ignore_glob = ["test_*.py"]

SCHEMA_KEY = "tgp_v1_schema-test-key"


@pytest.fixture(scope="module")
def schema_server() -> Iterator[FakeTogetherServer]:
    """A strict fake without rate limits (a fuzzer sends hundreds of requests to one model)."""
    fake = FakeTogether(seed=1, rate_limits="off", max_calls=5000)
    with FakeTogetherServer(fake, idle_timeout_s=5.0) as server:
        yield server
