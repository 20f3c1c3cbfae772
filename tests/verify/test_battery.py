"""The battery comes from the per-model table: each rule tripped once and met once, no more."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from together_image.models import MODELS, WIRE_FIELDS, ModelParams, model_params
from together_image_fake import Catalog, FakeTogether
from together_image_fake._catalog import Price
from together_image_fake._probes import (
    GLOBAL_RULES,
    GUESSED_PRICE_FLOOR,
    ModelRules,
    Probe,
    RuleCase,
    SelectionError,
    build_battery,
    estimate_cost,
    model_probes,
    table_model_ids,
    table_rules,
)
from together_image_fake._verify import probe_request

from .conftest import KEY

SERVED = [params for params in MODELS if params.is_served]
NOT_SERVED = [params for params in MODELS if not params.is_served]
BATTERY = build_battery()


def _probes_of(params: ModelParams) -> list[Probe]:
    return [p for p in BATTERY.probes if p.model == params.id and p.id not in GLOBAL_RULES]


def _table_refuses(params: ModelParams, body: dict[str, Any]) -> str | None:
    """Which rule of the table the body breaks (by the table's own API), or ``None``."""
    for name in body:
        if name not in ("model", "prompt") and params.field(name).rejected:
            return name
    if "width" in body and params.dimension_error(body["width"], body["height"]) is not None:
        return "dimensions"
    if params.steps.value is not None and "steps" in body:
        low, high = params.steps.value
        if not low <= body["steps"] <= high:
            return "steps"
    if "n" in body and body["n"] > params.max_n.value:
        return "n"
    if "seed" in body and params.seed_error(body["seed"]) is not None:
        return "seed"
    # Count rules bind only where the field is used (an ignored field may carry anything).
    references = body.get("reference_images", [])
    if params.field("reference_images").accepted and len(references) > params.max_reference_images:
        return "reference_images"
    loras = body.get("image_loras", [])
    if params.field("image_loras").accepted and len(loras) > params.max_loras.value:
        return "image_loras"
    if params.image_url.value == "required" and "image_url" not in body:
        return "image_url"
    return None


@pytest.mark.parametrize("params", SERVED, ids=lambda p: p.id)
def test_each_rule_of_a_served_model_is_tripped_by_one_probe_and_met_by_another(
    params: ModelParams,
) -> None:
    probes = _probes_of(params)
    for probe in probes:
        assert probe.body is not None
        broken = _table_refuses(params, dict(probe.body))
        if probe.expect == "rejected":
            assert broken == probe.rules[0], probe.id  # it trips the rule it names, no other
        else:
            assert broken is None, probe.id
    tripped = {rule for p in probes if p.expect == "rejected" for rule in p.rules}
    met = {rule for p in probes if p.expect == "accepted" for rule in p.rules}
    # Every field the table rejects is tripped; every field it ignores is sent and must pass.
    assert set(params.rejected_fields) <= tripped
    assert set(params.ignored_fields) - {"width", "height"} <= met
    # The value rules the model has are probed on both sides.
    assert {"dimensions", "n"} <= tripped & met
    if params.field("steps").accepted and params.steps.value is not None:
        assert "steps" in tripped & met
    if params.field("seed").accepted and params.seeds.value is not None:
        assert "seed" in tripped & met
    if params.takes_reference_images:
        assert "reference_images" in tripped & met


@pytest.mark.parametrize("params", NOT_SERVED, ids=lambda p: p.id)
def test_a_model_not_served_gets_one_probe_for_the_answer_it_gets_instead(
    params: ModelParams,
) -> None:
    (probe,) = _probes_of(params)
    assert probe.rules == (("retired",) if params.serverless.value else ("non_serverless",))
    assert probe.expect == "rejected"
    assert probe.body == {
        "model": params.id,
        "prompt": "together-image-fake verify probe",
        **{"width": probe.body["width"], "height": probe.body["height"]},  # type: ignore[index]
        **({"image_url": probe.body["image_url"]} if "image_url" in params.required.value else {}),  # type: ignore[index]
    }


def test_every_probe_names_its_evidence_with_a_provenance_tag() -> None:
    for probe in BATTERY.probes:
        for part in probe.evidence.split(" | "):
            assert re.search(r"\[(REC|DOC|SDK|RUN|3P|INF|USER)\]", part), probe.id


def test_requests_that_coincide_are_sent_once_naming_every_rule_they_test() -> None:
    base = {"model": "m", "prompt": "p", "width": 256, "height": 256}
    rules = ModelRules(
        model="m",
        base=base,
        cases=(
            RuleCase(rule="a", evidence="[DOC] x", trip={"n": 9}, inside={}),
            RuleCase(rule="b", evidence="[INF] y", trip={"n": 9}, inside={"seed": 1}),
            RuleCase(rule="c", evidence="[3P] z", trip=None, inside={}),
        ),
        price=Price(unit="megapixel", amount=1.0),
        default_steps=4,
    )
    probes, notes = model_probes(rules)
    assert [(p.id, p.rules, p.expect) for p in probes] == [
        ("m:a:trip", ("a", "b"), "rejected"),
        ("m:a:inside", ("a", "c"), "accepted"),
        ("m:b:inside", ("b",), "accepted"),
    ]
    assert probes[0].evidence == "a: [DOC] x | b: [INF] y"
    assert notes == ["m: c cannot be tripped ([3P] z)"]


def test_the_battery_sends_free_probes_first_and_global_ones_whatever_the_models() -> None:
    battery = build_battery(models=["google/*"])
    kinds = [p.generates for p in battery.probes]
    assert kinds == sorted(kinds)  # every free probe before any generating one
    assert {p.id for p in battery.probes} >= set(GLOBAL_RULES)
    assert {p.model for p in battery.probes if p.id not in GLOBAL_RULES} == {
        m for m in table_model_ids() if m.startswith("google/")
    }


def test_generating_probes_use_the_smallest_size_and_no_more_steps_than_the_default() -> None:
    assert BATTERY.generating
    for probe in BATTERY.generating:
        assert probe.model is not None
        assert probe.body is not None
        rules = table_rules(probe.model)
        assert rules is not None
        assert (probe.body["width"], probe.body["height"]) == (
            rules.base["width"],
            rules.base["height"],
        )
        assert probe.body.get("steps", 0) <= rules.default_steps
        params = model_params(probe.model)
        assert params is not None
        assert all(name in WIRE_FIELDS for name in probe.body)


def test_the_cost_estimate_is_what_the_fake_charges_for_the_same_request() -> None:
    fake = FakeTogether(api_keys=[KEY], serve_retired=False, credit=1000.0)
    compared = 0
    for probe in BATTERY.generating:
        before = fake.credit
        assert before is not None
        if fake.handle(probe_request(probe, KEY)).status != 200:
            continue  # a drift of the fake from its own table, reported by other tests
        assert probe.cost == pytest.approx(before - (fake.credit or 0.0)), probe.id
        compared += 1
    assert compared > len(BATTERY.generating) * 0.9


def test_a_guessed_price_is_estimated_at_no_less_than_the_floor() -> None:
    guessed = [m for m in table_model_ids() if (r := table_rules(m)) and r.min_price_per_image]
    assert guessed  # the catalog's [INF] prices
    for model in guessed:
        spec = Catalog.build().get(model)
        assert spec is None or spec.price.source == "INF"
    rules = ModelRules(
        model="m",
        base={},
        cases=(),
        price=Price(unit="megapixel", amount=0.025),
        default_steps=28,
        min_price_per_image=GUESSED_PRICE_FLOOR,
    )
    assert estimate_cost(rules, {"width": 256, "height": 256, "n": 3}) == 3 * GUESSED_PRICE_FLOOR
    big = {"width": 4096, "height": 4096, "steps": 56}
    assert estimate_cost(rules, big) == pytest.approx(4096 * 4096 / 1e6 * 0.025 * 2)


@pytest.mark.parametrize(
    ("models", "rules", "expected"),
    [
        (["nobody/*"], [], "--models 'nobody/*' matches no model of the table"),
        ([], ["width"], "Unknown rule(s) width: expected some of"),
    ],
)
def test_a_selection_that_matches_nothing_says_what_exists(
    models: list[str], rules: list[str], expected: str
) -> None:
    with pytest.raises(SelectionError, match=re.escape(expected)):
        build_battery(models=models, rules=rules)


RULE_NAMES = sorted({rule for p in BATTERY.probes for rule in p.rules})


@given(
    models=st.lists(st.sampled_from(table_model_ids()), max_size=4, unique=True),
    rules=st.lists(st.sampled_from(RULE_NAMES), max_size=3, unique=True),
)
def test_selection_keeps_exactly_the_probes_of_the_chosen_models_and_rules(
    models: list[str], rules: list[str]
) -> None:
    battery = build_battery(models=models, rules=rules)
    expected = [
        p
        for p in BATTERY.probes
        if (p.id in GLOBAL_RULES or not models or p.model in models)
        and (not rules or set(p.rules) & set(rules))
    ]
    assert [p.id for p in battery.probes] == [p.id for p in expected]
    assert all(not p.generates for p in battery.free)
    report = [p.to_json() for p in battery.probes]
    assert json.loads(json.dumps(report)) == report  # the report's form is plain JSON


def test_the_fake_answers_every_probe_as_its_table_expects() -> None:
    """The battery and the fake read one table: against the fake itself nothing may surprise."""
    fake = FakeTogether(api_keys=[KEY], serve_retired=False)
    surprises = []
    for probe in BATTERY.probes:
        if probe.id in GLOBAL_RULES:
            continue
        status = fake.handle(probe_request(probe, KEY)).status
        if (status == 200) != (probe.expect == "accepted"):
            surprises.append(f"{probe.id}: {status}")
    assert surprises == []
