"""Fixtures for the client tests: a clean environment, a ``responses`` mock, a provider, a model."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses

from together_image import TogetherAIImageModel, TogetherAIProvider, create_togetherai

from ._support import API_KEY, BASE_URL, MODEL_ID

_ENVIRONMENT = ("TOGETHER_API_KEY", "TOGETHER_AI_API_KEY", "TOGETHER_BASE_URL")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    """A ``responses`` mock that fails any request it has no route for."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def provider() -> TogetherAIProvider:
    return create_togetherai(api_key=API_KEY, base_url=BASE_URL)


@pytest.fixture
def model(provider: TogetherAIProvider) -> TogetherAIImageModel:
    return provider.image(MODEL_ID)


@pytest.fixture
def delays() -> list[float]:
    """Records the waits of the retry loop; pass ``sleep=delays.append``."""
    return []
