"""schemathesis, driven by the fake's own ``/openapi.json``, against the live loopback server.

Positive and negative cases for every operation (examples, coverage and fuzzing phases), checked
for: no 5xx, documented statuses and content types, bodies matching the response schemas, and
every body the schema rejects being rejected. Bounded by ``TOGETHER_IMAGE_SCHEMA_EXAMPLES``
(default 100 per operation) and seeded, so runs repeat.
"""

from __future__ import annotations

import os
import subprocess
import sys

from together_image_fake import FakeTogetherServer
from together_image_fake._catalog import is_non_image_model

from .conftest import SCHEMA_KEY

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
)


def test_schemathesis_finds_no_failure(schema_server: FakeTogetherServer) -> None:
    examples = os.environ.get("TOGETHER_IMAGE_SCHEMA_EXAMPLES", "100")
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{schema_server.origin}/openapi.json",
        "--checks",
        ",".join(CHECKS),
        "--max-examples",
        examples,
        "--seed",
        "1",
        "--workers",
        "1",
        "--request-timeout",
        "10",
        "--header",
        f"Authorization: Bearer {SCHEMA_KEY}",
        "--no-color",
    ]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    print(completed.stdout)
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-2000:]
    calls = schema_server.fake.calls
    assert len(calls) >= 100
    server_errors = [
        call
        for call in calls
        if call.status >= 500 and not (call.model and is_non_image_model(call.model))
    ]
    assert server_errors == []
