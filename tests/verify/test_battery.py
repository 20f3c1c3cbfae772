"""The battery comes from the per-model table: each rule tripped once and met once, no more."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from together_image_fake import FakeTogether
from together_image_fake._probes import (
    GLOBAL_RULES,
    SelectionError,
    build_battery,
    table_model_ids,
    table_rules,
)
from together_image_fake._verify import probe_request

from .conftest import KEY

SERVED = [m for m in table_model_ids() if (rules := table_rules(m)) and rules.retired is None]
RETIRED = [m for m in table_model_ids() if m not in SERVED]
PER_MODEL_RULES = ("sizes", "steps", "n", "image_url", "image_loras", "reference_images")


@pytest.fixture(scope="module")
def fake() -> FakeTogether:
    return FakeTogether(api_keys=[KEY], serve_retired=False)


def _answer(fake: FakeTogether, probe_id: str) -> tuple[int, dict[str, object]]:
    probe = next(p for p in build_battery().probes if p.id == probe_id)
    response = fake.handle(probe_request(probe, KEY))
    return response.status, json.loads(response.body)


def test_every_rule_of_every_served_model_has_a_probe_that_trips_it_and_one_inside_it(
    fake: FakeTogether,
) -> None:
    battery = build_battery()
    for model in SERVED:
        probes = [p for p in battery.probes if p.model == model]
        for rule in PER_MODEL_RULES:
            tripping = [p for p in probes if rule in p.rules and p.expect == "rejected"]
            inside = [p for p in probes if rule in p.rules and p.expect == "accepted"]
            assert len(inside) == 1, (model, rule, inside)
            note = [n for n in battery.notes if n.startswith(f"{model}: {rule} ")]
            # A rule that cannot be broken (an optional field) says so instead of a trip probe.
            assert len(tripping) + len(note) == 1, (model, rule, tripping, note)
    # The fake enforces its own table: each trip probe is refused, each inside probe served.
    for probe in battery.probes:
        if probe.model in SERVED and probe.id not in GLOBAL_RULES:
            status = fake.handle(probe_request(probe, KEY)).status
            assert status == (400 if probe.expect == "rejected" else 200), probe.id


def test_a_retired_model_gets_one_probe_expecting_the_real_404(fake: FakeTogether) -> None:
    assert RETIRED, "the table has retired models"
    battery = build_battery(models=RETIRED)
    per_model = [p for p in battery.probes if p.model in RETIRED]
    assert [p.rules for p in per_model] == [("retired",)] * len(RETIRED)
    status, body = _answer(fake, f"{RETIRED[0]}:retired:trip")
    assert status == 404
    assert body["error"]["code"] == "model_not_available"  # type: ignore[index]


def test_requests_that_coincide_are_sent_once_naming_every_rule_they_test() -> None:
    battery = build_battery(models=["black-forest-labs/FLUX.1-schnell"])
    per_model = [p for p in battery.probes if p.id not in GLOBAL_RULES]
    bodies = [json.dumps(p.body, sort_keys=True) for p in per_model]
    assert len(bodies) == len(set(bodies))
    smallest = next(
        p for p in battery.probes if p.id == "black-forest-labs/FLUX.1-schnell:sizes:inside"
    )
    # Schnell refuses image_url, LoRAs and reference images: "without them" is the base request.
    assert smallest.rules == ("sizes", "image_url", "image_loras", "reference_images")
    assert smallest.body == {
        "model": "black-forest-labs/FLUX.1-schnell",
        "prompt": "together-image-fake verify probe",
        "width": 256,
        "height": 256,
    }


def test_the_default_battery_sends_free_probes_first_and_global_ones_whatever_the_models() -> None:
    battery = build_battery(models=["google/*"])
    kinds = [p.generates for p in battery.probes]
    assert kinds == sorted(kinds)  # every free probe before any generating one
    assert {p.id for p in battery.probes} >= set(GLOBAL_RULES)
    assert {p.model for p in battery.probes if p.id not in GLOBAL_RULES} == {
        m for m in table_model_ids() if m.startswith("google/")
    }


def test_generating_probes_use_the_smallest_size_and_fewest_steps_of_the_table() -> None:
    for probe in build_battery().generating:
        assert probe.model is not None
        assert probe.body is not None
        rules = table_rules(probe.model)
        assert rules is not None
        assert (probe.body["width"], probe.body["height"]) == (
            rules.base["width"],
            rules.base["height"],
        )
        assert probe.body.get("steps", 1) <= rules.default_steps
        assert probe.cost > 0 or rules.price_per_megapixel == 0


def test_the_cost_estimate_is_what_the_fake_charges_for_the_same_request() -> None:
    fake = FakeTogether(api_keys=[KEY], serve_retired=False, credit=100.0)
    for probe in build_battery(models=["black-forest-labs/*"]).generating:
        before = fake.credit
        assert before is not None
        assert fake.handle(probe_request(probe, KEY)).status == 200
        assert fake.credit == pytest.approx(before - probe.cost), probe.id


@pytest.mark.parametrize(
    ("models", "rules", "expected"),
    [
        (["nobody/*"], [], "--models 'nobody/*' matches no model"),
        ([], ["width"], "Unknown rule(s) width: expected some of"),
    ],
)
def test_a_selection_that_matches_nothing_says_what_exists(
    models: list[str], rules: list[str], expected: str
) -> None:
    with pytest.raises(SelectionError, match=re.escape(expected)):
        build_battery(models=models, rules=rules)


@given(
    models=st.lists(st.sampled_from(table_model_ids()), max_size=4, unique=True),
    rules=st.lists(
        st.sampled_from((*PER_MODEL_RULES, "retired", *GLOBAL_RULES)), max_size=3, unique=True
    ),
)
def test_selection_keeps_exactly_the_probes_of_the_chosen_models_and_rules(
    models: list[str], rules: list[str]
) -> None:
    battery = build_battery(models=models, rules=rules)
    full = build_battery()
    expected = [
        p
        for p in full.probes
        if (p.id in GLOBAL_RULES or not models or p.model in models)
        and (not rules or set(p.rules) & set(rules))
    ]
    assert [p.id for p in battery.probes] == [p.id for p in expected]
    assert all(not p.generates for p in battery.free)
