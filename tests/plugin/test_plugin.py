"""The pytest plugin, exercised in isolated pytest runs with ``pytester``."""

from __future__ import annotations

import pytest

# Imported here so in-process pytester runs share them: pytester unloads the modules an inner run
# imports first, which would leave requests holding classes from a discarded http.cookiejar.
import together_image  # noqa: F401
import together_image_fake  # noqa: F401


def test_together_fake_intercepts_requests_and_logs_calls(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import requests

        def test_call(together_fake):
            reply = requests.post(
                "https://api.together.xyz/v1/images/generations",
                json={"model": "black-forest-labs/FLUX.1-schnell", "prompt": "a quetzal"},
                headers={"Authorization": "Bearer k"},
                timeout=5,
            )
            assert reply.status_code == 200
            assert together_fake.calls[0].prompt == "a quetzal"
        """
    )

    pytester.runpytest("--strict-markers").assert_outcomes(passed=1)


def test_interception_ends_with_the_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from requests.adapters import HTTPAdapter

        ORIGINAL = HTTPAdapter.send

        def test_with_fake(together_fake):
            assert HTTPAdapter.send is not ORIGINAL

        def test_after():
            assert HTTPAdapter.send is ORIGINAL
        """
    )

    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=2)


def test_the_marker_configures_the_fake(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import os
        import pytest

        @pytest.mark.together_fake(seed=3, api_keys=["sk-test"], strict=False, tier=1)
        def test_options(together_fake):
            assert together_fake.seed == 3
            assert together_fake.api_keys == frozenset({"sk-test"})
            assert (together_fake.strict, together_fake.tier) == (False, 1)
            assert os.environ["TOGETHER_API_KEY"] == "sk-test"

        @pytest.mark.together_fake(models=["black-forest-labs/FLUX.2-dev"])
        def test_models(together_fake):
            assert list(together_fake.catalog.models) == ["black-forest-labs/FLUX.2-dev"]
        """
    )

    pytester.runpytest("--strict-markers").assert_outcomes(passed=2)


def test_together_client_and_the_default_provider_reach_the_fake(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TOGETHER_API_KEY", raising=False)
    monkeypatch.delenv("TOGETHER_BASE_URL", raising=False)
    pytester.makepyfile(
        """
        from together_image import generate_image, togetherai
        from together_image_fake import inspect_image

        def test_client(together_client, together_fake):
            result = generate_image(
                model=together_client.image("black-forest-labs/FLUX.1-schnell"),
                prompt="a quetzal",
                size="512x512",
                n=2,
            )
            assert len(result.images) == 2
            assert inspect_image(result.image.data).prompt == "a quetzal"
            assert len(together_fake.calls) == 2

        def test_default_provider(together_fake):
            model = togetherai.image("black-forest-labs/FLUX.1-schnell")
            result = generate_image(model=model, prompt="x")
            assert inspect_image(result.image.data).width == 1024
        """
    )

    pytester.runpytest().assert_outcomes(passed=2)


def test_a_custom_base_url_from_the_environment_is_intercepted(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOGETHER_BASE_URL", "http://gateway.internal/together/v1")
    pytester.makepyfile(
        """
        from together_image import generate_image, togetherai

        def test_gateway(together_fake):
            generate_image(model=togetherai.image("black-forest-labs/FLUX.1-schnell"), prompt="x")
            assert together_fake.calls[0].path == "/v1/images/generations"
        """
    )

    pytester.runpytest().assert_outcomes(passed=1)


def test_marker_arguments_must_be_keywords(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.together_fake(3)
        def test_bad(together_fake):
            pass
        """
    )

    result = pytester.runpytest()

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*takes keyword options only*"])


def test_the_plugin_is_registered_by_entry_point(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")

    result.stdout.fnmatch_lines(["*@pytest.mark.together_fake(**options)*"])
