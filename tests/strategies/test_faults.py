"""``fake_faults()``: valid ``Fault``s of every kind, each doing what its kind says once queued."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from together_image_fake import NAMED_ERRORS, FakeTogether, Fault
from together_image_fake.strategies import FAULT_KINDS, FaultKind, fake_faults

from ._support import error_of, post_body

BODY = {"model": "black-forest-labs/FLUX.1-schnell", "prompt": "a quetzal", "width": 256}


@given(fake_faults())
def test_faults_round_trip_through_the_control_api_json(fault: Fault) -> None:
    assert Fault.from_json(json.loads(json.dumps(fault.to_json()))) == fault


@pytest.mark.parametrize("kind", FAULT_KINDS)
@settings(max_examples=10)
@given(data=st.data())
def test_each_kind_of_fault_does_what_it_says(kind: FaultKind, data: st.DataObject) -> None:
    fault = data.draw(fake_faults(kinds=[kind], max_latency_s=0.01))
    fake = FakeTogether(sleep=lambda seconds: None)
    fake.queue_faults([fault])
    responses = [post_body(fake, BODY) for _ in range(fault.times)]
    if kind in ("reset", "timeout"):
        assert {response.action for response in responses} == {kind}
    elif kind == "html":
        assert {response.status for response in responses} == {fault.status}
        assert all(response.body.startswith(b"<!DOCTYPE html>") for response in responses)
    elif kind == "latency":
        assert {(r.status, r.delay_s) for r in responses} == {(200, fault.latency_s)}
    else:
        errors = [error_of(response) for response in responses]
        assert all(response.status >= 400 for response in responses)
        if kind == "error":
            assert fault.error in NAMED_ERRORS
            assert len({json.dumps(error) for error in errors}) == 1
    # Spent: the next request is answered normally.
    assert post_body(fake, BODY).status == 200


@given(fake_faults(models=["black-forest-labs/FLUX.2-dev"]))
def test_a_model_filter_leaves_other_models_alone(fault: Fault) -> None:
    fake = FakeTogether(sleep=lambda seconds: None)
    fake.queue_faults([fault])
    assert post_body(fake, BODY).status == 200
    assert fake.pending_faults() == [fault]
