"""together_image_fake: a faithful, offline fake of Together AI's image endpoint.

Architecture: three layers, imports pointing down only (``tests/fake/test_layout.py`` checks it).
The *core* is plain Python with no I/O and no knowledge of hosts: ``_errors`` (one base error, the
real API errors, one error-to-response function), ``_state`` (faults, call log, rate windows,
account, one lock), ``_calls`` (the log's records, redaction, eviction notes), ``_validate``,
``_render``, ``_wire``, ``_catalog``, ``_images`` (the image generator: the API's answers and their
header recipes), ``_routes`` (the one route table) and ``_backend`` (``FakeTogether``: a small
façade over the state and a *responder*). *Responders* answer the API routes: the image generator,
``_replay`` (a cassette) and ``_record`` (an upstream proxy, and the recorder). *Shells* host the
fake and are each the only importer of their outside library: ``_mock`` (requests via
``responses``), ``_http`` + ``_server`` (sockets), ``wsgi``, ``_settings`` (``TOGETHER_FAKE_*``),
``_cli``, ``pytest_plugin``, ``strategies`` (Hypothesis).
Data flows one way: adapter → ``FakeRequest`` → routes → responder (validate → faults → render,
recording into the state) → ``FakeResponse`` → adapter.

This module only re-exports, lazily (PEP 562): ``import together_image_fake`` imports neither
pytest, Hypothesis, Pillow nor any host until a name is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from together_image_fake._backend import FakeTogether
    from together_image_fake._calls import FakeCall
    from together_image_fake._cassette import Cassette
    from together_image_fake._catalog import CATALOG, Catalog, ModelSpec, Rule, SizeRange
    from together_image_fake._errors import NAMED_ERRORS
    from together_image_fake._interactions import CassetteError, SecretLeakError
    from together_image_fake._record import CassetteRecorder, TogetherProxy, record_cassette
    from together_image_fake._render import FakeImageInfo, inspect_image
    from together_image_fake._replay import CassetteMismatchError, CassettePlayer
    from together_image_fake._server import FakeTogetherServer
    from together_image_fake._state import Fault
    from together_image_fake._wire import FakeRequest, FakeResponse

_EXPORTS: dict[str, str] = {
    "CATALOG": "_catalog",
    "NAMED_ERRORS": "_errors",
    "Cassette": "_cassette",
    "CassetteError": "_interactions",
    "CassetteMismatchError": "_replay",
    "CassettePlayer": "_replay",
    "CassetteRecorder": "_record",
    "Catalog": "_catalog",
    "FakeCall": "_calls",
    "FakeImageInfo": "_render",
    "FakeRequest": "_wire",
    "FakeResponse": "_wire",
    "FakeTogether": "_backend",
    "FakeTogetherServer": "_server",
    "Fault": "_state",
    "ModelSpec": "_catalog",
    "Rule": "_catalog",
    "SecretLeakError": "_interactions",
    "SizeRange": "_catalog",
    "TogetherProxy": "_record",
    "inspect_image": "_render",
    "record_cassette": "_record",
}

__all__ = [
    "CATALOG",
    "NAMED_ERRORS",
    "Cassette",
    "CassetteError",
    "CassetteMismatchError",
    "CassettePlayer",
    "CassetteRecorder",
    "Catalog",
    "FakeCall",
    "FakeImageInfo",
    "FakeRequest",
    "FakeResponse",
    "FakeTogether",
    "FakeTogetherServer",
    "Fault",
    "ModelSpec",
    "Rule",
    "SecretLeakError",
    "SizeRange",
    "TogetherProxy",
    "inspect_image",
    "record_cassette",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'together_image_fake' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"together_image_fake.{module}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
