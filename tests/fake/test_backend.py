"""The backend through ``handle()``: determinism, thread safety, bounded logs, configuration."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from PIL import Image

from together_image_fake import FakeRequest, FakeTogether, Fault, Rule

SCHNELL = "black-forest-labs/FLUX.1-schnell"
AUTH = {"authorization": "Bearer k", "content-type": "application/json"}


def _generate(fake: FakeTogether, **fields: Any) -> tuple[int, dict[str, Any]]:
    body = {"model": SCHNELL, "prompt": "a quetzal", "width": 256, "height": 256, **fields}
    response = fake.handle(
        FakeRequest(
            method="POST",
            path="/v1/images/generations",
            headers=AUTH,
            body=json.dumps(body).encode(),
        )
    )
    return response.status, json.loads(response.body)


def test_a_seeded_fake_repeats_bytes_ids_and_urls() -> None:
    first, second = FakeTogether(seed=5), FakeTogether(seed=5)

    answers = [
        _generate(fake, response_format=fmt)
        for fake in (first, second)
        for fmt in ("url", "base64")
    ]

    assert answers[:2] == answers[2:]
    assert first.calls[0].images == second.calls[0].images


def test_an_unseeded_fake_draws_fresh_ids_and_seeds() -> None:
    fake = FakeTogether()

    (_, one), (_, two) = _generate(fake), _generate(fake)

    assert one["id"] != two["id"]
    assert fake.calls[0].images != fake.calls[1].images


def test_concurrent_requests_are_each_answered_and_logged_once() -> None:
    fake = FakeTogether(seed=1)

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda i: _generate(fake, prompt=f"p{i % 5}")[0], range(160)))

    assert statuses == [200] * 160
    assert [call.seq for call in fake.calls] == list(range(1, 161))
    assert len({call.response_id for call in fake.calls}) == 160


def test_the_call_log_is_bounded_and_forgets_old_urls() -> None:
    fake = FakeTogether(max_calls=2)
    _, first = _generate(fake)
    _generate(fake)
    _generate(fake)

    short = first["data"][0]["url"].rsplit("/", 1)[1]
    response = fake.handle(
        FakeRequest(method="GET", path=f"/shrt/{short}", headers={"user-agent": "t"})
    )

    assert [call.seq for call in fake.calls] == [3, 4]
    assert response.status == 404


def test_image_bytes_are_bounded_and_evicted_oldest_first() -> None:
    fake = FakeTogether(max_image_bytes=1)

    _generate(fake)
    _generate(fake)

    assert [call.images_evicted for call in fake.calls] == [True, True]
    assert all(call.images == () for call in fake.calls)
    assert fake.handle(FakeRequest(method="GET", path="/_fake/images/1/0")).status == 404


def test_inline_input_images_count_towards_the_budget_and_are_noted_when_evicted() -> None:
    png = base64.b64encode(_png_bytes()).decode()
    fake = FakeTogether(seed=1)
    kontext = "black-forest-labs/FLUX.1-kontext-pro"

    _generate(fake, model=kontext, image_url=f"data:image/png;base64,{png}")
    kept = fake.calls[0]
    assert kept.body["image_url"] == f"data:image/png;base64,{png}"  # within budget: verbatim
    assert kept.stored_bytes() == len(kept.images[0]) + len(kept.input_image or b"") + len(
        kept.body["image_url"]
    )
    fake.max_image_bytes = kept.stored_bytes() * 5 // 2  # room for two such calls, not three
    for _ in range(3):
        _generate(fake, model=kontext, image_url=f"data:image/png;base64,{png}")

    evicted = fake.calls[0]
    assert evicted.images_evicted
    assert evicted.body["image_url"] == (
        f"data:image/png;base64,<evicted: {len(png) + 22} characters, "
        f"image sha256 {kept.input_sha256}>"
    )
    assert evicted.body["prompt"] == "a quetzal"  # the rest of the body is kept
    json.dumps([call.to_json() for call in fake.calls])  # the log still serializes


def test_inline_reference_images_count_towards_the_budget_and_are_noted_when_evicted() -> None:
    png = _png_bytes()
    ref = f"data:image/png;base64,{base64.b64encode(png).decode()}"
    fake = FakeTogether(seed=1)
    flux2 = "black-forest-labs/FLUX.2-dev"

    _generate(fake, model=flux2, width=512, height=512, reference_images=[ref, ref])
    kept = fake.calls[0]
    assert kept.reference_sha256s == (hashlib.sha256(png).hexdigest(),) * 2
    assert kept.stored_bytes() == len(kept.images[0]) + 2 * len(ref)
    fake.max_image_bytes = kept.stored_bytes() * 5 // 2  # room for two such calls, not three
    for _ in range(3):
        _generate(fake, model=flux2, width=512, height=512, reference_images=[ref, ref])

    evicted = fake.calls[0]
    assert evicted.images_evicted
    note = (
        f"data:image/png;base64,<evicted: {len(ref)} characters, "
        f"image sha256 {hashlib.sha256(png).hexdigest()}>"
    )
    assert evicted.body["reference_images"] == [note, note]
    json.dumps([call.to_json() for call in fake.calls])


def _png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), "orange").save(buffer, format="PNG")
    return buffer.getvalue()


def test_register_model_copies_a_model_and_overrides_rules() -> None:
    fake = FakeTogether()

    spec = fake.register_model("acme/painter", max_n=1)
    status, body = _generate(fake, model="acme/painter", n=2)

    assert spec.max_n == Rule(value=1, source="USER")
    assert spec.default_steps == fake.catalog.models[SCHNELL].default_steps
    assert status == 400
    assert "'n'" in body["error"]["message"]
    assert _generate(fake, model="acme/painter")[0] == 200


def test_register_model_overrides_a_catalog_model() -> None:
    fake = FakeTogether()

    fake.register_model(
        SCHNELL, sizes=Rule(value=fake.catalog.models[SCHNELL].sizes.value, source="INF")
    )
    fake.register_model(SCHNELL, max_loras=1)

    assert fake.catalog.models[SCHNELL].sizes.source == "INF"
    assert _generate(fake, image_loras=[{"path": "p", "scale": 0.5}])[0] == 200


def test_register_model_rejects_unknown_templates_and_rules() -> None:
    fake = FakeTogether()

    with pytest.raises(ValueError, match="Unknown model to copy: 'nope'"):
        fake.register_model("acme/x", like="nope")
    with pytest.raises(ValueError, match="Unknown model rule 'size'"):
        fake.register_model(SCHNELL, size=5)


def test_reset_restores_the_constructed_account_and_catalog() -> None:
    fake = FakeTogether(tier=3, credit=1.0)
    fake.set_tier(1)
    fake.set_credit(None)
    fake.register_model("acme/x")
    fake.fail_next(status=500)
    _generate(fake)

    fake.reset()

    assert (fake.tier, fake.credit, fake.calls, fake.pending_faults()) == (3, 1.0, [], [])
    assert "acme/x" not in fake.catalog.models


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"tier": 6}, "tier must be an int from 1 to 5"),
        ({"rate_limits": "some"}, "rate_limits must be"),
        ({"remote_images": "fetch"}, "remote_images must be"),
        ({"max_calls": 0}, "max_calls must be >= 1"),
    ],
)
def test_bad_options_are_rejected(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FakeTogether(**options)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "needs at least one of"),
        ({"status": 600}, "status must be an int from 100 to 599"),
        ({"error": "oops"}, "error must be one of"),
        ({"kind": "timeout", "error": "server_error"}, "takes no status or error"),
        ({"kind": "html", "error": "server_error"}, "not a named JSON error"),
        ({"latency_s": float("nan")}, "latency_s must be a number"),
        ({"times": True, "status": 500}, "times must be an int"),
    ],
)
def test_invalid_faults_say_what_was_expected(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Fault(**fields)


def test_faults_round_trip_through_json() -> None:
    fault = Fault(error="rate_limited", latency_s=0.5, times=2, model="m")

    assert Fault.from_json(fault.to_json()) == fault
    assert fault.describe() == "error=rate_limited latency_s=0.5"


def test_add_remote_image_checks_url_and_bytes() -> None:
    fake = FakeTogether()

    with pytest.raises(ValueError, match="Expected an http"):
        fake.add_remote_image("file:///etc/passwd", b"")
    with pytest.raises(ValueError, match="could not be decoded"):
        fake.add_remote_image("https://e.com/a.png", b"not an image")


def test_repr_names_the_setup_without_keys() -> None:
    text = repr(FakeTogether(seed=1, api_keys=["sk-secret"]))

    assert "sk-secret" not in text
    assert text.startswith("FakeTogether(seed=1, strict=True, api_keys=<1 keys>")


def test_call_json_has_exactly_the_documented_keys() -> None:
    fake = FakeTogether()
    _generate(fake)

    assert list(fake.calls[0].to_json()) == [
        "seq", "time", "method", "path", "headers", "body", "status", "model", "prompt", "width",
        "height", "response_format", "error", "fault", "images", "input_image", "reference_sha256s",
            "duration_ms",
    ]  # fmt: skip


def test_the_call_log_redacts_every_credential_the_secret_rules_know() -> None:
    fake = FakeTogether(strict=False)
    headers = {
        **AUTH,
        "Api-Key": "key-in-api-key",
        "Cookie": "session=abc",
        "Proxy-Authorization": "Basic xyz",
        "X-Together-Api-Key": "key-in-together",
        "X-Auth-Token": "token-value",
        "X-Ratelimit-Limit-Tokens": "10",
    }
    body = {
        "model": SCHNELL,
        "prompt": "a quetzal",
        "api_key": "key-in-body",
        "image_loras": [{"path": "p", "token": "nested-token"}],
    }
    fake.handle(
        FakeRequest(
            method="POST",
            path="/v1/images/generations",
            headers=headers,
            body=json.dumps(body).encode(),
        )
    )

    call = fake.calls[0]
    assert call.headers["authorization"] == "Bearer ***"
    for name in ("api-key", "cookie", "proxy-authorization", "x-together-api-key", "x-auth-token"):
        assert call.headers[name] == "***", name
    assert call.headers["x-ratelimit-limit-tokens"] == "10"  # a count, not a credential
    assert call.body["api_key"] == "***"
    assert call.body["image_loras"] == [{"path": "p", "token": "***"}]
    assert call.body["prompt"] == "a quetzal"
    logged = json.dumps([c.to_json() for c in fake.calls])
    assert "key-in" not in logged
