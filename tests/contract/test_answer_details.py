"""Details of an answer that a test suite reads but rarely states: which image sits under which
index, and that the safety checker reads prompts whatever their case. Every case runs on every
host (in-process, server, WSGI).
"""

from __future__ import annotations

import base64
import json

import pytest

from together_image_fake import inspect_image

from .conftest import ContractAPI


@pytest.mark.parametrize("n", [2, 3, 4])
def test_each_base64_image_sits_under_its_own_index(api: ContractAPI, n: int) -> None:
    reply = api.generate(prompt="order", n=n, seed=5, response_format="base64")

    assert reply.status == 200
    items = json.loads(reply.body)["data"]
    assert [item["index"] for item in items] == list(range(n))
    indexes = [inspect_image(base64.b64decode(item["b64_json"])).index for item in items]
    assert indexes == list(range(n))
    # Each image is distinct: the fake renders the index into the pixels too.
    assert len({item["b64_json"] for item in items}) == n


@pytest.mark.parametrize("prompt", ["an NSFW picture", "an Nsfw picture", "AN NSFW PICTURE"])
def test_the_safety_checker_reads_prompts_whatever_their_case(
    api: ContractAPI, prompt: str
) -> None:
    reply = api.generate(prompt=prompt)

    assert reply.status == 422
    assert "safety checker" in json.loads(reply.body)["error"]["message"]
