"""The tools a user would pick instead of the fake, answering the same exchange, when installed.

``vcrpy`` replays a cassette holding the exchange (a request and the fake's own answer bytes);
``pytest-httpserver`` serves the same bytes as a canned body from its werkzeug server. Both are
optional: ``PEERS`` lists the ones importable here, and a row for a missing one says "not
installed" instead of figures. Each peer is used the way its documentation shows for a test:
vcrpy loads the cassette file in every ``use_cassette``; pytest-httpserver keeps one server for the
session and clears its handlers after each test (its ``httpserver`` fixture).
"""

from __future__ import annotations

import importlib.util
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from bench._harness import Row, Unit
from bench._workload import GENERATIONS_URL, JSON_CONTENT_TYPE, request_headers, wire_body

VCRPY = "vcrpy replay"
HTTPSERVER = "pytest-httpserver canned"
NOT_INSTALLED = "not installed"


def installed(peer: str) -> bool:
    """Whether ``peer`` (``VCRPY`` or ``HTTPSERVER``) can be imported here."""
    module = {VCRPY: "vcr", HTTPSERVER: "pytest_httpserver"}[peer]
    return importlib.util.find_spec(module) is not None


PEERS = (VCRPY, HTTPSERVER)


def write_cassette(path: Path, side: int, body: bytes) -> Path:
    """Write a vcrpy cassette (YAML, vcrpy's default) of one generation exchange answered ``body``.

    Written through vcrpy's own serializer, so it is exactly what ``record_mode="once"`` saves.
    """
    from vcr.persisters.filesystem import FilesystemPersister  # type: ignore[import-untyped]
    from vcr.request import Request  # type: ignore[import-untyped]
    from vcr.serializers import yamlserializer  # type: ignore[import-untyped]

    request = Request(
        "POST",
        GENERATIONS_URL,
        json.dumps(wire_body(side, "base64")).encode("utf-8"),
        request_headers(),
    )
    response = {
        "status": {"code": 200, "message": "OK"},
        "headers": {"Content-Type": [JSON_CONTENT_TYPE], "Content-Length": [str(len(body))]},
        "body": {"string": body},
    }
    FilesystemPersister.save_cassette(
        path, {"requests": [request], "responses": [response]}, serializer=yamlserializer
    )
    return path


def vcr_replay(cassette: Path) -> Callable[[], AbstractContextManager[Any]]:
    """A factory of ``use_cassette`` contexts replaying ``cassette`` (no recording, repeats ok).

    vcrpy matches on method, scheme, host, port, path and query by default, so a request with a
    new prompt replays the same answer, as the other baselines give.
    """
    import vcr  # type: ignore[import-untyped]

    recorder = vcr.VCR(record_mode="none")
    return lambda: recorder.use_cassette(str(cassette), allow_playback_repeats=True)


@contextmanager
def canned_httpserver(body: bytes) -> Iterator[Any]:
    """A started pytest-httpserver ``HTTPServer`` (stopped after); handlers are added per test."""
    from pytest_httpserver import HTTPServer

    # werkzeug logs every request at INFO; a bench prints only its table.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = HTTPServer()
    server.start()
    try:
        yield server
    finally:
        server.clear()
        server.stop()


def expect_generation(server: Any, body: bytes) -> None:
    """Register the canned answer, as a test using the ``httpserver`` fixture does."""
    server.expect_request("/v1/images/generations", method="POST").respond_with_data(
        body, content_type=JSON_CONTENT_TYPE
    )


def peer_rows(
    code: str,
    *,
    baseline: str,
    unit: Unit,
    measured: dict[str, float],
    base: float,
    peers: tuple[str, ...] = PEERS,
) -> list[Row]:
    """One row per peer of ``peers`` for figure ``code`` (``"7b"``): its ``measured`` value
    against ``base``, or "not installed"."""
    rows = []
    for peer in peers:
        name = f"{code} peer: {peer}"
        if peer in measured:
            rows.append(
                Row(name=name, baseline=baseline, fake=measured[peer], base=base, unit=unit)
            )
        else:
            rows.append(Row.missing(name=name, baseline=baseline, unit=unit, note=NOT_INSTALLED))
    return rows
