"""The in-process adapter: interception, blocking, composition with ``responses``, decorator."""

from __future__ import annotations

import pytest
import requests
import responses

from together_image_fake import FakeTogether

BODY = {"model": "black-forest-labs/FLUX.1-schnell", "prompt": "a quetzal"}
AUTH = {"Authorization": "Bearer k"}


@pytest.mark.parametrize("host", ["https://api.together.xyz/v1", "https://api.together.ai/v1"])
def test_both_production_hosts_are_intercepted(host: str) -> None:
    with FakeTogether():
        reply = requests.post(f"{host}/images/generations", json=BODY, headers=AUTH, timeout=5)

    assert reply.status_code == 200


def test_other_hosts_are_blocked_with_the_routes_listed() -> None:
    with FakeTogether(), pytest.raises(requests.ConnectionError) as raised:
        requests.get("https://example.com/x", timeout=5)

    message = str(raised.value)
    assert "FakeTogether blocked GET https://example.com/x" in message
    assert "POST /v1/images/generations" in message
    assert "https://api.together.xyz" in message


def test_a_users_own_responses_mock_keeps_answering_other_hosts() -> None:
    with responses.RequestsMock() as mine:
        mine.add(responses.GET, "https://example.com/x", body="mine")
        with FakeTogether() as fake:
            other = requests.get("https://example.com/x", timeout=5)
            together = requests.post(
                "https://api.together.xyz/v1/images/generations", json=BODY, headers=AUTH, timeout=5
            )

    assert (other.text, together.status_code, len(fake.calls)) == ("mine", 200, 1)


@pytest.mark.parametrize(
    ("base_url", "url"),
    [
        ("http://proxy.local/api/v1", "http://proxy.local/api/v1/images/generations"),
        ("http://proxy.local/together", "http://proxy.local/together/images/generations"),
        ("http://127.0.0.1:9/v1/", "http://127.0.0.1:9/v1/images/generations"),
    ],
)
def test_extra_base_urls_map_onto_the_api(base_url: str, url: str) -> None:
    with FakeTogether(base_urls=[base_url]) as fake:
        reply = requests.post(url, json=BODY, headers=AUTH, timeout=5)

    assert reply.status_code == 200
    assert fake.calls[0].path == "/v1/images/generations"


def test_a_bad_base_url_is_rejected() -> None:
    fake = FakeTogether(base_urls=["ftp://x"])

    with pytest.raises(ValueError, match="Expected an http"):
        fake.start()


def test_the_decorator_intercepts_only_while_the_function_runs() -> None:
    fake = FakeTogether()

    @fake
    def call() -> int:
        return requests.post(
            "https://api.together.ai/v1/images/generations", json=BODY, headers=AUTH, timeout=5
        ).status_code

    assert (call(), call.__name__) == (200, "call")
    fake.start()  # not still started by the decorator
    fake.stop()


def test_starting_twice_is_an_error() -> None:
    with FakeTogether() as fake, pytest.raises(RuntimeError, match="already intercepting"):
        fake.start()


def test_streamed_and_text_bodies_are_read() -> None:
    with FakeTogether() as fake:
        streamed = requests.post(
            "https://api.together.xyz/v1/images/generations",
            data=iter([b'{"model": "black-forest-labs/FLUX.1-schnell", ', b'"prompt": "x"}']),
            headers={**AUTH, "Content-Type": "application/json"},
            timeout=5,
        )
        text = requests.post(
            "https://api.together.xyz/v1/images/generations",
            data='{"model": "black-forest-labs/FLUX.1-schnell", "prompt": "x"}',
            headers={**AUTH, "Content-Type": "application/json"},
            timeout=5,
        )
        latin1 = requests.post(
            "https://api.together.xyz/v1/images/generations",
            data='{"model": "black-forest-labs/FLUX.1-schnell", "prompt": "é"}',
            headers={**AUTH, "Content-Type": "application/json"},
            timeout=5,
        )

    # A str body goes out as ISO-8859-1, as http.client sends it: "é" is not UTF-8 JSON then.
    assert (streamed.status_code, text.status_code, latin1.status_code) == (200, 200, 400)
    assert fake.calls[0].prompt == "x"


def test_a_str_body_that_http_client_cannot_send_fails_the_same_way() -> None:
    with FakeTogether(), pytest.raises(UnicodeEncodeError):
        requests.post(
            "https://api.together.xyz/v1/images/generations",
            data='{"prompt": "☃"}',
            headers=AUTH,
            timeout=5,
        )


def test_latency_uses_the_injected_sleep() -> None:
    slept: list[float] = []
    with FakeTogether(sleep=slept.append) as fake:
        fake.fail_next(latency_s=2.5)
        requests.post(
            "https://api.together.xyz/v1/images/generations", json=BODY, headers=AUTH, timeout=5
        )

    assert slept == [2.5]
