"""Key, base URL, user agent, headers and timeout resolution (``together_image._config``)."""

from __future__ import annotations

import re
import warnings
from importlib.metadata import PackageNotFoundError, version

import pytest
import responses

from together_image import (
    LoadAPIKeyError,
    TogetherAIProvider,
    _config,
    create_togetherai,
    generate_image,
)
from together_image._config import (
    merge_headers,
    resolve_api_key,
    resolve_base_url,
    user_agent,
    validate_timeout,
)
from together_image._errors import InvalidArgumentError

from ._support import API_KEY, DEFAULT_ENDPOINT, ENDPOINT, MODEL_ID, success_body

DEPRECATION = (
    "TOGETHER_AI_API_KEY is deprecated and will be removed in a future release. "
    "Please use TOGETHER_API_KEY instead."
)


@pytest.mark.parametrize(
    ("explicit", "environ", "expected"),
    [
        ("explicit-key", {"TOGETHER_API_KEY": "env-key"}, "explicit-key"),
        (None, {"TOGETHER_API_KEY": "env-key"}, "env-key"),
        (None, {"TOGETHER_API_KEY": "env-key", "TOGETHER_AI_API_KEY": "old-key"}, "env-key"),
        ("explicit-key", {"TOGETHER_AI_API_KEY": "old-key"}, "explicit-key"),
    ],
)
def test_key_resolution_without_warning(
    explicit: str | None, environ: dict[str, str], expected: str
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert resolve_api_key(explicit, environ) == expected


@pytest.mark.parametrize(
    "environ",
    [
        {"TOGETHER_AI_API_KEY": "old-key"},
        {"TOGETHER_API_KEY": "", "TOGETHER_AI_API_KEY": "old-key"},
    ],
)
def test_deprecated_variable_is_used_with_a_warning(environ: dict[str, str]) -> None:
    with pytest.warns(DeprecationWarning, match=re.escape(DEPRECATION)):
        assert resolve_api_key(None, environ) == "old-key"


@pytest.mark.parametrize(
    ("explicit", "environ", "message"),
    [
        (None, {}, "API key is missing"),
        (None, {"TOGETHER_API_KEY": "  "}, "API key is missing"),
        (None, {"TOGETHER_AI_API_KEY": ""}, "API key is missing"),
        ("", {"TOGETHER_API_KEY": "env-key"}, "API key is empty"),
        (123, {}, "API key must be a string, got int"),
    ],
)
def test_missing_key_names_the_variable(
    explicit: object, environ: dict[str, str], message: str
) -> None:
    with pytest.raises(LoadAPIKeyError, match=message) as raised:
        resolve_api_key(explicit, environ)
    if message != "API key must be a string, got int":
        assert "TOGETHER_API_KEY" in str(raised.value)


def test_key_is_read_from_the_environment_at_request_time(
    api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider = create_togetherai(base_url=ENDPOINT.removesuffix("/images/generations"))
    monkeypatch.setenv("TOGETHER_API_KEY", "late-key")
    api.post(ENDPOINT, json=success_body())
    generate_image(model=provider.image(MODEL_ID), prompt="p")
    assert api.calls[0].request.headers["Authorization"] == "Bearer late-key"


def test_deprecated_key_warns_on_each_request(
    api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOGETHER_AI_API_KEY", "old-key")
    api.post(DEFAULT_ENDPOINT, json=success_body())
    model = create_togetherai().image(MODEL_ID)
    with pytest.warns(DeprecationWarning, match="TOGETHER_AI_API_KEY is deprecated"):
        generate_image(model=model, prompt="p")
    assert api.calls[0].request.headers["Authorization"] == "Bearer old-key"


def test_default_provider_uses_the_default_base_url_and_env_key(
    api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from together_image import togetherai

    monkeypatch.setenv("TOGETHER_API_KEY", API_KEY)
    api.post(DEFAULT_ENDPOINT, json=success_body())
    generate_image(model=togetherai.image(MODEL_ID), prompt="p")
    assert api.calls[0].request.url == DEFAULT_ENDPOINT


def test_base_url_from_environment_at_request_time(
    api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider: TogetherAIProvider = create_togetherai(api_key=API_KEY)
    monkeypatch.setenv("TOGETHER_BASE_URL", "http://127.0.0.1:8787/v1/")
    api.post("http://127.0.0.1:8787/v1/images/generations", json=success_body())
    generate_image(model=provider.image(MODEL_ID), prompt="p")
    assert len(api.calls) == 1


@pytest.mark.parametrize(
    ("explicit", "environ", "expected"),
    [
        (None, {}, "https://api.together.xyz/v1"),
        (None, {"TOGETHER_BASE_URL": ""}, "https://api.together.xyz/v1"),
        (None, {"TOGETHER_BASE_URL": "http://127.0.0.1:8787/v1"}, "http://127.0.0.1:8787/v1"),
        ("https://proxy.test/v1/", {"TOGETHER_BASE_URL": "http://x/v1"}, "https://proxy.test/v1"),
        ("https://proxy.test/v1//", {}, "https://proxy.test/v1"),
    ],
)
def test_resolve_base_url(explicit: str | None, environ: dict[str, str], expected: str) -> None:
    assert resolve_base_url(explicit, environ) == expected


@pytest.mark.parametrize("base_url", ["api.together.xyz/v1", "ftp://host/v1", "https://", 5])
def test_invalid_base_urls(base_url: object) -> None:
    with pytest.raises(InvalidArgumentError, match="base_url must be") as raised:
        create_togetherai(base_url=base_url)  # type: ignore[arg-type]
    assert raised.value.argument == "base_url"


def test_invalid_base_url_in_environment_raises_at_request_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TOGETHER_BASE_URL", "not a url")
    model = create_togetherai(api_key=API_KEY).image(MODEL_ID)
    with pytest.raises(InvalidArgumentError, match="'not a url'"):
        generate_image(model=model, prompt="p")


def test_user_agent_carries_the_installed_version() -> None:
    assert user_agent() == f"together-image/{version('together-image')}"


def test_user_agent_falls_back_when_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> str:
        raise PackageNotFoundError(name)

    monkeypatch.setattr(_config, "version", missing)
    assert user_agent() == "together-image/0+unknown"


@pytest.mark.parametrize(
    ("layers", "expected"),
    [
        (({"A": "1"}, {"a": "2"}), {"a": "2"}),
        (({"User-Agent": "x"}, None, {"X-Trace": "t"}), {"User-Agent": "x", "X-Trace": "t"}),
        (({"A": "1", "B": "2"}, {"b": None}), {"A": "1"}),
        (({"A": "1"}, {"a": None}, {"A": "3"}), {"A": "3"}),
        ((), {}),
    ],
)
def test_merge_headers(
    layers: tuple[dict[str, str | None] | None, ...], expected: dict[str, str]
) -> None:
    assert merge_headers(*layers) == expected


@pytest.mark.parametrize("headers", [{"A": 1}, {1: "a"}, {"A": b"x"}])
def test_merge_headers_rejects_non_strings(headers: dict[object, object]) -> None:
    with pytest.raises(InvalidArgumentError, match="headers must map strings to strings"):
        merge_headers(headers)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"X-Trace": "a\r\nX-Injected: 1"}, "line break or NUL"),
        ({"X-Trace": "a\nb"}, "line break or NUL"),
        ({"X-Trace": "a\x00b"}, "line break or NUL"),
        ({"Bad Name": "v"}, "HTTP tokens"),
        ({"X-Trace:": "v"}, "HTTP tokens"),
        ({"": "v"}, "HTTP tokens"),
        ([("X-Trace", "v")], "must be a mapping"),
        ("X-Trace: v", "must be a mapping"),
    ],
)
def test_headers_that_would_break_the_request_raise_before_sending(
    headers: object, message: str
) -> None:
    with responses.RequestsMock() as mock:  # no request may be sent
        with pytest.raises(InvalidArgumentError, match=message) as caught:
            create_togetherai(api_key=API_KEY, headers=headers)  # type: ignore[arg-type]
        provider = create_togetherai(api_key=API_KEY)
        with pytest.raises(InvalidArgumentError, match=message):
            generate_image(
                model=provider.image(MODEL_ID),
                prompt="p",
                headers=headers,  # type: ignore[arg-type]
            )
        assert len(mock.calls) == 0
    assert "X-Injected: 1" not in str(caught.value)  # values (maybe credentials) are not echoed


@pytest.mark.parametrize(("timeout", "expected"), [(None, None), (1, 1.0), (0.5, 0.5)])
def test_valid_timeouts(timeout: float | None, expected: float | None) -> None:
    assert validate_timeout(timeout) == expected


@pytest.mark.parametrize("timeout", [0, -1, "5", True, float("nan")])
def test_invalid_timeouts(timeout: object) -> None:
    with pytest.raises(InvalidArgumentError, match="timeout must be a positive number"):
        validate_timeout(timeout)
