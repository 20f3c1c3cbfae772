"""together_image_fake: a faithful, offline fake of Together AI's image endpoint.

One backend (``FakeTogether``) answers like the real API; thin adapters expose it in-process
(through ``responses``), as a loopback HTTP server, and as pytest fixtures. This module only
re-exports and imports neither pytest nor hypothesis.
"""

from __future__ import annotations

from together_image_fake._backend import FakeCall, FakeTogether, Fault
from together_image_fake._cassette import Cassette, CassetteError, SecretLeakError
from together_image_fake._catalog import CATALOG, Catalog, ModelSpec, Rule, SizeRange
from together_image_fake._record import CassetteRecorder, TogetherProxy, record_cassette
from together_image_fake._render import FakeImageInfo, inspect_image
from together_image_fake._replay import CassetteMismatchError, CassettePlayer
from together_image_fake._server import FakeTogetherServer
from together_image_fake._validate import NAMED_ERRORS
from together_image_fake._wire import FakeRequest, FakeResponse

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
