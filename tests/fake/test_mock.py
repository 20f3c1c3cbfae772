"""The in-process adapter: interception, blocking, composition with ``responses``, decorator."""

from __future__ import annotations

import unittest

import pytest
import requests
import requests.adapters
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


# ---- several fakes, stopped in any order (issue 14, item 14) -----------------------------------

URL = "https://api.together.xyz/v1/images/generations"


def _post() -> requests.Response:
    return requests.post(URL, json=BODY, headers=AUTH, timeout=5)


def test_item_14_stopping_fakes_out_of_order_removes_exactly_each_ones_interception() -> None:
    a, b = FakeTogether(), FakeTogether()
    original = requests.adapters.HTTPAdapter.send
    a.start()
    b.start()
    assert _post().status_code == 200
    a.stop()
    # b, started last, is still on; the stopped a answers nothing more.
    assert _post().status_code == 200
    b.stop()

    with pytest.raises(requests.ConnectionError):
        requests.get("http://127.0.0.1:9/", timeout=0.5)
    assert requests.adapters.HTTPAdapter.send is original
    assert (len(a.calls), len(b.calls)) == (0, 2)


def test_item_14_the_newest_active_fake_answers_and_stopping_it_hands_back() -> None:
    a, b = FakeTogether(), FakeTogether()
    original = requests.adapters.HTTPAdapter.send
    a.start()
    b.start()
    _post()
    b.stop()
    _post()
    a.stop()

    assert (len(a.calls), len(b.calls)) == (1, 1)
    assert requests.adapters.HTTPAdapter.send is original


def test_item_14_each_fake_serves_its_own_extra_base_url() -> None:
    a = FakeTogether(base_urls=["http://a.local/v1"])
    b = FakeTogether(base_urls=["http://b.local/v1"])
    with a, b:
        requests.post("http://a.local/v1/images/generations", json=BODY, headers=AUTH, timeout=5)
        requests.post("http://b.local/v1/images/generations", json=BODY, headers=AUTH, timeout=5)
    with a, pytest.raises(requests.ConnectionError, match="FakeTogether blocked"):
        requests.get("http://b.local/v1/models", timeout=5)

    assert (len(a.calls), len(b.calls)) == (1, 1)


# ---- decorating a unittest.TestCase class (issue 14, item 17) ----------------------------------


def test_item_17_decorating_a_testcase_class_patches_each_test_method() -> None:
    fake = FakeTogether(seed=1)
    seen: list[str] = []

    @fake
    class Generations(unittest.TestCase):
        def setUp(self) -> None:
            seen.append("setUp")

        def test_one(self) -> None:
            assert _post().status_code == 200

        def test_two(self) -> None:
            assert _post().status_code == 200

        def helper(self) -> int:
            return len(fake.calls)

    assert isinstance(Generations, type)
    assert issubclass(Generations, unittest.TestCase)
    result = unittest.TestResult()
    unittest.defaultTestLoader.loadTestsFromTestCase(Generations).run(result)

    assert (result.testsRun, result.errors, result.failures) == (2, [], [])
    assert len(fake.calls) == 2
    assert Generations.helper(Generations("test_one")) == 2  # not a test: not wrapped
    # Between tests, and after, nothing is intercepted.
    with pytest.raises(requests.ConnectionError):
        requests.get("http://127.0.0.1:9/", timeout=0.5)


def test_item_17_decorating_something_else_is_a_clear_type_error() -> None:
    with pytest.raises(TypeError, match="decorates a function or a class, got int"):
        FakeTogether()(3)


def test_the_shared_responses_mock_keeps_no_record_of_answered_requests() -> None:
    from together_image_fake._mock import _INTERCEPTION

    with FakeTogether() as fake:
        for _ in range(5):
            requests.get("https://api.together.xyz/v1/models", timeout=5)
        mock = _INTERCEPTION._mock
        assert mock is not None
        kept = len(mock.calls) + sum(len(entry.calls) for entry in mock.registered())
        # The fake's own, bounded log is the record; responses keeps the last request at most.
        assert kept <= 2
        assert len(fake.calls) == 5


def test_intercepted_requests_skip_the_environment_scan_others_keep_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import requests.sessions

    scanned: list[str] = []
    real_scan = requests.sessions.get_environ_proxies

    def scan(url: str, no_proxy: str | None = None) -> dict[str, str]:
        scanned.append(url)
        return real_scan(url, no_proxy=no_proxy)

    monkeypatch.setattr(requests.sessions, "get_environ_proxies", scan)
    original = requests.Session.merge_environment_settings
    with responses.RequestsMock() as mine:
        mine.add(responses.GET, "https://example.com/x", body="mine")
        with FakeTogether():
            session = requests.Session()
            session.verify = False
            together = session.post(
                "https://api.together.xyz/v1/images/generations", json=BODY, headers=AUTH, timeout=5
            )
            other = session.get("https://example.com/x", timeout=5)
            untrusting = requests.Session()
            untrusting.trust_env = False
            untrusting.get("https://example.com/x", timeout=5)
            # The session's own settings still merge as requests merges them.
            inside = session.merge_environment_settings(
                "https://api.together.xyz/v1/models", {"https": "http://p:1"}, None, None, None
            )
        session.merge_environment_settings(
            "https://api.together.xyz/v1/models", None, None, None, None
        )

    # Proxies and CA bundles only steer real connections, which the fake never opens.
    assert together.status_code == 200
    assert other.text == "mine"
    assert scanned == ["https://example.com/x", "https://api.together.xyz/v1/models"]
    assert inside == {
        "proxies": {"https": "http://p:1"},
        "stream": False,
        "verify": False,
        "cert": None,
    }
    assert requests.Session.merge_environment_settings is original
