"""Recording end to end, with the fake served over HTTP as the upstream: record, then replay gives
byte-identical bodies; the key never reaches the cassette."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from together_image import NotFoundError, create_togetherai, generate_image
from together_image_fake import (
    Cassette,
    CassetteRecorder,
    FakeTogetherServer,
    TogetherProxy,
    record_cassette,
)
from together_image_fake._record import UpstreamUnreachableError, _recordable_response_headers

from .conftest import SCHNELL, SECRET_KEY, post, replaying

FLUX2 = "black-forest-labs/FLUX.2-dev"


def _no_secret_anywhere(path: Path) -> None:
    assert SECRET_KEY not in path.read_text()
    blob_dir = path.with_name(path.name + ".blobs")
    for blob in blob_dir.iterdir() if blob_dir.exists() else ():
        assert SECRET_KEY.encode() not in blob.read_bytes()


def test_record_then_replay_gives_byte_identical_bodies(
    tmp_path: Path, upstream: FakeTogetherServer, replay_mode: str
) -> None:
    path = tmp_path / "session.json"
    base = upstream.base_url
    bodies = [
        {"model": SCHNELL, "prompt": "a quetzal", "width": 256, "height": 256, "seed": 4},
        {
            "model": SCHNELL,
            "prompt": "b64",
            "response_format": "base64",
            "width": 256,
            "height": 256,
        },
        {"model": FLUX2, "prompt": "ms timings", "width": 512, "height": 512, "seed": 5},
        {"model": FLUX2, "prompt": "too small", "width": 256, "height": 256},
        {"model": "bad model", "prompt": "x"},
    ]
    with record_cassette(path) as recorder:
        recorded = [post(base, body) for body in bodies]
        image = requests.get(recorded[0].json()["data"][0]["url"], timeout=5)
        unauthorized = post(base, bodies[0], key="a-wrong-key")
    assert [reply.status_code for reply in recorded] == [200, 200, 200, 400, 404]
    assert len(recorder.interactions) == 7
    _no_secret_anywhere(path)
    upstream.stop()

    with replaying(path, replay_mode, base) as replay:
        replayed = [post(replay.base_url, body, key="anything") for body in bodies]
        replayed_image = requests.get(replayed[0].json()["data"][0]["url"], timeout=5)
        replayed_401 = post(replay.base_url, bodies[0], key="a-wrong-key")

    if replay_mode == "inprocess":
        assert [r.content for r in replayed] == [r.content for r in recorded]
    else:
        # Served elsewhere, url-mode bodies name the replaying server (rewrite_urls); all else is
        # identical.
        origin = replay.base_url.removesuffix("/v1")
        for before, after in zip(recorded, replayed, strict=True):
            assert after.content == before.content.replace(
                upstream.origin.encode(), origin.encode()
            )
    assert [r.status_code for r in replayed] == [200, 200, 200, 400, 404]
    assert replayed_image.content == image.content
    assert replayed_401.content == unauthorized.content
    assert replayed[0].headers["Cf-Ray"] == recorded[0].headers["Cf-Ray"]


def test_our_client_records_and_replays_generate_image(
    tmp_path: Path, upstream: FakeTogetherServer
) -> None:
    path = tmp_path / "client.json"
    provider = create_togetherai(api_key=SECRET_KEY, base_url=upstream.base_url)
    model = provider.image(SCHNELL)
    with record_cassette(path):
        recorded = generate_image(model=model, prompt="a quetzal", size="256x256", seed=1, n=2)
        with pytest.raises(NotFoundError):
            generate_image(model=provider.image("bad model"), prompt="x", max_retries=0)
    document = json.loads(path.read_text())
    assert all("b64_json" in json.dumps(i["response"]) for i in document["interactions"][:2])
    assert len(list((tmp_path / "client.json.blobs").iterdir())) == 2
    _no_secret_anywhere(path)

    with replaying(path, "inprocess", upstream.base_url):
        replayed = generate_image(model=model, prompt="a quetzal", size="256x256", seed=1, n=2)
        with pytest.raises(NotFoundError, match="Unable to access model bad model"):
            generate_image(model=provider.image("bad model"), prompt="x", max_retries=0)

    # n=2 sends two identical requests at once: which answer each call gets is not ordered.
    assert sorted(image.data for image in replayed.images) == sorted(
        image.data for image in recorded.images
    )


def test_the_recording_proxy_records_clients_of_any_language(
    tmp_path: Path, upstream: FakeTogetherServer
) -> None:
    path = tmp_path / "proxy.json"
    recorder = CassetteRecorder(path)
    proxy = TogetherProxy(upstream.base_url, recorder=recorder)
    body = {"model": SCHNELL, "prompt": "via the proxy", "width": 256, "height": 256}

    with FakeTogetherServer(proxy) as server:
        direct = post(server.base_url, body)
        image = requests.get(
            direct.json()["data"][0]["url"].replace(upstream.origin, server.origin), timeout=5
        )
    recorder.save()

    assert direct.status_code == 200
    assert image.headers["Content-Type"] == "image/jpeg"
    assert proxy.calls[0].prompt == "via the proxy"
    _no_secret_anywhere(path)
    with replaying(path, "inprocess", upstream.base_url):
        assert post(upstream.base_url, body).content == direct.content


def test_the_proxy_swaps_a_placeholder_key_for_the_real_one(upstream: FakeTogetherServer) -> None:
    body = {"model": SCHNELL, "prompt": "p", "width": 256, "height": 256}
    with TogetherProxy(
        upstream.base_url, api_key=SECRET_KEY, base_urls=["https://example.test/v1"]
    ):
        placeholder = post("https://example.test/v1", body, key="together-fake-key")
        wrong = post("https://example.test/v1", body, key="someone-elses-key")

    assert placeholder.status_code == 200
    assert wrong.status_code == 401


def _unreachable_base_url() -> str:
    server = FakeTogetherServer().start()
    base = server.base_url
    server.stop()
    return base


def test_a_recording_whose_upstream_could_not_be_reached_is_refused_not_saved(
    tmp_path: Path, upstream: FakeTogetherServer
) -> None:
    base = _unreachable_base_url()
    path = tmp_path / "down.json"

    def record_while_offline() -> None:
        with record_cassette(path):
            post(upstream.base_url, {"model": SCHNELL, "prompt": "p", "width": 256, "height": 256})
            for _ in range(3):
                with pytest.raises(requests.ConnectionError):
                    post(base, {"model": SCHNELL, "prompt": "p"})

    with pytest.raises(UpstreamUnreachableError) as refused:
        record_while_offline()

    assert not path.exists()
    assert (
        refused.value.failures
        == [f"POST {base}/images/generations: connection refused, reset or closed"] * 3
    )
    message = str(refused.value)
    assert message.startswith(
        f"Refusing to save cassette {path}: 3 of 4 request(s) got no answer from the upstream; "
        "nothing was written."
    )
    assert "Check the network, the upstream URL and the key" in message
    assert SECRET_KEY not in message


def test_a_lost_connection_is_recorded_and_replayed_as_one_when_asked_for(
    tmp_path: Path,
) -> None:
    base = _unreachable_base_url()
    path = tmp_path / "down.json"

    with (
        record_cassette(path, allow_lost_connections=True),
        pytest.raises(requests.ConnectionError),
    ):
        post(base, {"model": SCHNELL, "prompt": "p"})

    assert Cassette.load(path).interactions[0].response.action == "reset"
    with replaying(path, "inprocess", base), pytest.raises(requests.ConnectionError):
        post(base, {"model": SCHNELL, "prompt": "p"})


def test_the_proxy_refuses_to_save_a_recording_of_an_unreachable_upstream(
    tmp_path: Path,
) -> None:
    base = _unreachable_base_url()
    recorder = CassetteRecorder(tmp_path / "down.json")

    proxy = TogetherProxy(base, recorder=recorder, base_urls=["https://example.test/v1"])

    with proxy, pytest.raises(requests.ConnectionError):
        post("https://example.test/v1", {"model": SCHNELL, "prompt": "p"})

    assert recorder.interactions[0].response.action == "reset"
    with pytest.raises(UpstreamUnreachableError, match="1 of 1 request"):
        recorder.save()
    assert not (tmp_path / "down.json").exists()


def test_nothing_is_saved_when_the_block_raises(
    tmp_path: Path, upstream: FakeTogetherServer
) -> None:
    path = tmp_path / "failed.json"

    def record_then_fail() -> None:
        with record_cassette(path):
            post(upstream.base_url, {"model": SCHNELL, "prompt": "p", "width": 256, "height": 256})
            raise KeyError("the test failed")

    with pytest.raises(KeyError):
        record_then_fail()

    assert not path.exists()


def test_only_the_named_hosts_are_recorded(tmp_path: Path, upstream: FakeTogetherServer) -> None:
    path = tmp_path / "hosts.json"
    with record_cassette(path, hosts=["api.example.invalid"]) as recorder:
        post(upstream.base_url, {"model": SCHNELL, "prompt": "p", "width": 256, "height": 256})

    assert recorder.interactions == []
    assert Cassette.load(path).interactions == ()


def test_decoded_bodies_drop_the_encoding_headers_that_no_longer_apply() -> None:
    headers = (
        ("Content-Encoding", "gzip"),
        ("Content-Length", "120"),
        ("Transfer-Encoding", "chunked"),
        ("Connection", "keep-alive"),
        ("Content-Type", "application/json"),
    )

    assert _recordable_response_headers(headers) == (("Content-Type", "application/json"),)
