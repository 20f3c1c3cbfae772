"""The drift check's battery: requests derived from the per-model rule table, not written by hand.

``table_rules()`` is the one place that reads the table: for a model id it returns a
``ModelRules`` (the cheapest valid body, the price, and per rule one ``RuleCase`` with the change to
that body that must trip the rule and the change that stays just inside it). ``build_battery()``
turns those into ``Probe``s, adds the probes no table row describes (a bad key, an unknown model, a
model served only on dedicated endpoints, a chat model, the ``GET /v1/models`` listing), merges
probes that would send the same request, and selects by model and rule. Probes that the table
says the API rejects cost nothing; probes it should accept generate images and carry a cost
estimate from the table's pricing, so the runner can keep within a spending cap.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from together_image_fake._catalog import CATALOG, ModelSpec, Rule

Expectation = Literal["rejected", "accepted"]

GENERATE_PATH = "/v1/images/generations"
MODELS_PATH = "/v1/models"
PROMPT = "together-image-fake verify probe"

# A 64x64 orange PNG (136 bytes): the smallest honest input image for edit and reference probes.
PROBE_IMAGE = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAEAAAABACAIAAAAlC+aJAAAAT0lEQVR42u3PQQkAAAgEsIt"
    "jRCMaywi+hcEKLNP1WgQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQELgsA5oFL7wUm"
    "agAAAABJRU5ErkJggg=="
)
PROBE_LORA = "https://huggingface.co/XLabs-AI/flux-RealismLora"  # the docs' example LoRA [DOC]

# Probes no table row describes; each id below is what the real API was seen answering for.
AUTH_MODEL = "black-forest-labs/FLUX.1-schnell"
UNKNOWN_MODEL = "together-image-fake/no-such-model"
NON_SERVERLESS_MODEL = "prompthero/openjourney"  # [3P] 400 "non-serverless model", 2026-08-30
NON_IMAGE_MODEL = "meta-llama/Llama-4-Scout-17B-16E-Instruct"  # [REC] 500 server_error

GLOBAL_RULES: tuple[str, ...] = (
    "listing",
    "auth",
    "unknown_model",
    "non_serverless",
    "non_image_model",
)
"""Rules that belong to no model; ``--rules`` selects them like the per-model ones."""


@dataclass(frozen=True, kw_only=True)
class RuleCase:
    """One rule of one model, as the drift check probes it.

    Attributes:
        rule: The rule's name (``sizes``, ``steps``, ``n``, ``image_url``, ``image_loras``,
            ``reference_images``, ``retired``).
        evidence: Its provenance tag and source, e.g. ``"[REC] width 256 -> 400 …"``.
        trip: Fields to set (``None`` value: remove) on the model's base body so the rule must
            reject the request; ``None`` when the rule cannot be broken (an optional field).
        trip_note: What the trip request does, in a few words.
        inside: Fields that keep the request just inside the rule; ``None`` when nothing to send.
        inside_note: What the inside request does.
    """

    rule: str
    evidence: str
    trip: Mapping[str, Any] | None
    trip_note: str = ""
    inside: Mapping[str, Any] | None = None
    inside_note: str = ""


@dataclass(frozen=True, kw_only=True)
class ModelRules:
    """What the table says about one model, in the form the battery needs.

    Attributes:
        model: The model id.
        base: The cheapest body the table accepts (smallest size, default steps, one image).
        cases: One ``RuleCase`` per probed rule.
        price_per_megapixel: Dollars per megapixel at the default step count.
        default_steps: The step count the price is quoted for.
        retired: The date the real API stopped serving the model, or ``None``.
    """

    model: str
    base: Mapping[str, Any]
    cases: tuple[RuleCase, ...]
    price_per_megapixel: float
    default_steps: int
    retired: str | None = None


@dataclass(frozen=True, kw_only=True)
class Probe:
    """One request of the battery, sent alike to the upstream and to the fake.

    Attributes:
        id: Stable name, ``<model>:<rule>:<trip|inside>`` or ``<rule>`` for global probes.
        model: The model it concerns, or ``None``.
        rules: The rules it tests (several when rules share one request).
        expect: Whether the table says the API rejects or accepts it.
        description: What the request does.
        evidence: The provenance of the rules it tests.
        method: HTTP method.
        path: API path.
        body: The JSON body, or ``None`` (``GET``).
        bad_key: Send a deliberately wrong API key instead of the real one.
        cost: Estimated dollars if the upstream generates images for it.
    """

    id: str
    model: str | None
    rules: tuple[str, ...]
    expect: Expectation
    description: str
    evidence: str
    method: str = "POST"
    path: str = GENERATE_PATH
    body: Mapping[str, Any] | None = None
    bad_key: bool = False
    cost: float = 0.0

    @property
    def generates(self) -> bool:
        """Whether the table expects this probe to generate (and be charged for) images."""
        return self.expect == "accepted" and self.path == GENERATE_PATH

    @property
    def filename(self) -> str:
        """A file name for this probe's cassette (``/`` and ``:`` become safe characters)."""
        return re.sub(r"[^A-Za-z0-9._-]+", "_", self.id.replace("/", "__").replace(":", "--"))

    def to_json(self) -> dict[str, Any]:
        """Return the probe as the JSON report shows it."""
        return {
            "id": self.id,
            "model": self.model,
            "rules": list(self.rules),
            "expect": self.expect,
            "description": self.description,
            "evidence": self.evidence,
            "method": self.method,
            "path": self.path,
            "body": dict(self.body) if self.body is not None else None,
            "bad_key": self.bad_key,
            "generates": self.generates,
            "estimated_cost": round(self.cost, 6),
        }


@dataclass(frozen=True, kw_only=True)
class Battery:
    """The selected probes, free ones first, and why any model or rule is missing.

    Attributes:
        probes: In sending order: global probes, then rejected-by-design, then generating ones.
        notes: Rules the table has but no probe can test, per model (e.g. an optional field).
    """

    probes: tuple[Probe, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def free(self) -> tuple[Probe, ...]:
        """The probes expected to cost nothing."""
        return tuple(p for p in self.probes if not p.generates)

    @property
    def generating(self) -> tuple[Probe, ...]:
        """The probes expected to generate images."""
        return tuple(p for p in self.probes if p.generates)


# ---- the table --------------------------------------------------------------------------------


def table_model_ids() -> tuple[str, ...]:
    """Every model id the table knows, in table order."""
    return tuple(spec.id for spec in CATALOG)


def table_rules(model_id: str) -> ModelRules | None:
    """Read one model's rules from the table (today the fake's catalog).

    This and ``table_model_ids`` are the only readers of the table: switching the battery to
    another source of per-model rules changes these two functions and nothing else.

    Args:
        model_id: The model id.

    Returns:
        The model's rules, or ``None`` when the table does not know the model.
    """
    spec = next((spec for spec in CATALOG if spec.id == model_id), None)
    return None if spec is None else _catalog_rules(spec)


def _tagged(rule: Rule[Any]) -> str:
    return f"[{rule.source}] {rule.note}".rstrip()


def _catalog_rules(spec: ModelSpec) -> ModelRules:
    sizes = spec.sizes.value
    base: dict[str, Any] = {
        "model": spec.id,
        "prompt": PROMPT,
        "width": sizes.min,
        "height": sizes.min,
    }
    if spec.image_url.value == "required":
        base["image_url"] = PROBE_IMAGE
    retired = spec.retired.value
    if retired is not None:
        case = RuleCase(
            rule="retired",
            evidence=_tagged(spec.retired),
            trip={},
            trip_note=f"a model retired on {retired}",
        )
        return ModelRules(
            model=spec.id,
            base=base,
            cases=(case,),
            price_per_megapixel=spec.price_per_megapixel.value,
            default_steps=spec.default_steps.value,
            retired=retired,
        )
    low, high = spec.steps.value
    max_n = spec.max_n.value
    cases = [
        RuleCase(
            rule="sizes",
            evidence=_tagged(spec.sizes),
            trip={"width": sizes.min - sizes.multiple},
            trip_note=f"width {sizes.min - sizes.multiple} below the minimum {sizes.min}",
            inside={},
            inside_note=f"{sizes.min}x{sizes.min}, the smallest size allowed",
        ),
        RuleCase(
            rule="steps",
            evidence=_tagged(spec.steps),
            trip={"steps": high + 1},
            trip_note=f"steps {high + 1} above the maximum {high}",
            inside={"steps": low},
            inside_note=f"steps {low}, the minimum",
        ),
        RuleCase(
            rule="n",
            evidence=_tagged(spec.max_n),
            trip={"n": max_n + 1},
            trip_note=f"n {max_n + 1} above the maximum {max_n}",
            inside={"n": max_n},
            inside_note=f"n {max_n}, the maximum",
        ),
        _image_url_case(spec),
        _loras_case(spec),
        _reference_images_case(spec),
    ]
    return ModelRules(
        model=spec.id,
        base=base,
        cases=tuple(cases),
        price_per_megapixel=spec.price_per_megapixel.value,
        default_steps=spec.default_steps.value,
    )


def _image_url_case(spec: ModelSpec) -> RuleCase:
    rule = spec.image_url
    if rule.value == "refused":
        return RuleCase(
            rule="image_url",
            evidence=_tagged(rule),
            trip={"image_url": PROBE_IMAGE},
            trip_note="an image_url the model does not take",
            inside={},
            inside_note="no image_url",
        )
    if rule.value == "required":
        return RuleCase(
            rule="image_url",
            evidence=_tagged(rule),
            trip={"image_url": None},
            trip_note="no image_url although the model needs one",
            inside={},
            inside_note="one image_url (a 64x64 PNG data URL)",
        )
    return RuleCase(
        rule="image_url",
        evidence=_tagged(rule),
        trip=None,
        inside={"image_url": PROBE_IMAGE},
        inside_note="one optional image_url (a 64x64 PNG data URL)",
    )


def _loras_case(spec: ModelSpec) -> RuleCase:
    rule = spec.max_loras
    lora = {"path": PROBE_LORA, "scale": 1.0}
    if rule.value == 0:
        return RuleCase(
            rule="image_loras",
            evidence=_tagged(rule),
            trip={"image_loras": [lora]},
            trip_note="one LoRA on a model that takes none",
            inside={},
            inside_note="no image_loras",
        )
    return RuleCase(
        rule="image_loras",
        evidence=_tagged(rule),
        trip={"image_loras": [lora] * (rule.value + 1)},
        trip_note=f"{rule.value + 1} LoRAs, above the maximum {rule.value}",
        inside={"image_loras": [lora] * rule.value},
        inside_note=f"{rule.value} LoRAs, the maximum",
    )


def _reference_images_case(spec: ModelSpec) -> RuleCase:
    rule = spec.reference_images
    if not rule.value:
        return RuleCase(
            rule="reference_images",
            evidence=_tagged(rule),
            trip={"reference_images": [PROBE_IMAGE]},
            trip_note="reference_images on a model that takes none",
            inside={},
            inside_note="no reference_images",
        )
    return RuleCase(
        rule="reference_images",
        evidence=_tagged(rule),
        trip=None,
        inside={"reference_images": [PROBE_IMAGE]},
        inside_note="one reference image (a 64x64 PNG data URL)",
    )


# ---- from the table to probes -----------------------------------------------------------------


class SelectionError(ValueError):
    """``--models`` or ``--rules`` selects something the battery does not have."""


def estimate_cost(rules: ModelRules, body: Mapping[str, Any]) -> float:
    """Dollars the real API would charge for ``body`` if it generated the images.

    "Cost = MP x Price per MP x (Steps / Default Steps)" when steps exceed the default [DOC], times
    the number of images; a missing width or height counts as 1024 (the documented default).
    """
    width = _int_or(body.get("width"), 1024)
    height = _int_or(body.get("height"), 1024)
    steps = _int_or(body.get("steps"), rules.default_steps)
    images = max(1, _int_or(body.get("n"), 1))
    factor = max(1.0, steps / max(1, rules.default_steps))
    return width * height / 1e6 * rules.price_per_megapixel * factor * images


def _int_or(value: object, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _apply(base: Mapping[str, Any], change: Mapping[str, Any]) -> dict[str, Any]:
    body = dict(base)
    for name, value in change.items():
        if value is None:
            body.pop(name, None)
        else:
            body[name] = value
    return body


def model_probes(rules: ModelRules) -> tuple[list[Probe], list[str]]:
    """Turn one model's rules into probes; requests that coincide become one probe.

    Returns:
        ``(probes, notes)``: notes name the rules no request can trip.
    """
    probes: dict[str, Probe] = {}
    notes: list[str] = []
    for case in rules.cases:
        for expect, change, note in (
            ("rejected", case.trip, case.trip_note),
            ("accepted", case.inside, case.inside_note),
        ):
            if change is None:
                if expect == "rejected":
                    notes.append(f"{rules.model}: {case.rule} cannot be tripped ({case.evidence})")
                continue
            body = _apply(rules.base, change)
            key = f"{expect} {_canonical(body)}"
            kind = "trip" if expect == "rejected" else "inside"
            previous = probes.get(key)
            if previous is not None:
                probes[key] = Probe(
                    id=previous.id,
                    model=previous.model,
                    rules=(*previous.rules, case.rule),
                    expect=previous.expect,
                    description=f"{previous.description}; {note}",
                    evidence=f"{previous.evidence} | {case.rule}: {case.evidence}",
                    body=previous.body,
                    cost=previous.cost,
                )
                continue
            probes[key] = Probe(
                id=f"{rules.model}:{case.rule}:{kind}",
                model=rules.model,
                rules=(case.rule,),
                expect=expect,  # type: ignore[arg-type]
                description=note,
                evidence=f"{case.rule}: {case.evidence}",
                body=body,
                cost=estimate_cost(rules, body),
            )
    return list(probes.values()), notes


def _canonical(body: Mapping[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def global_probes() -> list[Probe]:
    """The probes that belong to no model row."""
    base = {"model": AUTH_MODEL, "prompt": PROMPT, "width": 256, "height": 256}
    return [
        Probe(
            id="listing",
            model=None,
            rules=("listing",),
            expect="accepted",
            description="GET /v1/models",
            evidence="[REC] GET /v1/models recorded 2026-08-17 (maruel/genai Warmup.yaml)",
            method="GET",
            path=MODELS_PATH,
        ),
        Probe(
            id="auth",
            model=AUTH_MODEL,
            rules=("auth",),
            expect="rejected",
            description="a wrong API key",
            evidence="[REC] 401 invalid_api_key (fixtures/invalid-api-key-401-2026-05-31)",
            body=base,
            bad_key=True,
        ),
        Probe(
            id="unknown_model",
            model=UNKNOWN_MODEL,
            rules=("unknown_model",),
            expect="rejected",
            description="a model id Together does not know",
            evidence="[REC] 404 model_not_available (fixtures/unknown-model-404-2026-05-31)",
            body={**base, "model": UNKNOWN_MODEL},
        ),
        Probe(
            id="non_serverless",
            model=NON_SERVERLESS_MODEL,
            rules=("non_serverless",),
            expect="rejected",
            description="a model served only on dedicated endpoints",
            evidence="[3P] 400 'Unable to access non-serverless model …' (2026-08-30 body)",
            body={**base, "model": NON_SERVERLESS_MODEL},
        ),
        Probe(
            id="non_image_model",
            model=NON_IMAGE_MODEL,
            rules=("non_image_model",),
            expect="rejected",
            description="a chat model on the image endpoint",
            evidence="[REC] 500 server_error (fixtures/chat-model-500-2025-07-24)",
            body={**base, "model": NON_IMAGE_MODEL},
        ),
    ]


def build_battery(
    *,
    models: Sequence[str] = (),
    rules: Sequence[str] = (),
) -> Battery:
    """Build the probe battery from the table.

    Args:
        models: Model ids or shell-style patterns (``google/*``) to probe; empty for every model.
            Global probes (auth, listing…) are kept whatever the models.
        rules: Rule names to probe (``sizes``, ``steps``, ``n``, ``image_url``, ``image_loras``,
            ``reference_images``, ``retired`` and the global ``listing``, ``auth``,
            ``unknown_model``, ``non_serverless``, ``non_image_model``); empty for all.

    Returns:
        The battery: global probes, then the free per-model probes, then the generating ones.

    Raises:
        SelectionError: If a pattern matches no model or a rule name is unknown.
    """
    known = table_model_ids()
    chosen = _select_models(known, models)
    per_model: list[Probe] = []
    notes: list[str] = []
    for model_id in chosen:
        model_rules = table_rules(model_id)
        if model_rules is None:  # table_model_ids and table_rules read the same table
            continue
        probes, model_notes = model_probes(model_rules)
        per_model.extend(probes)
        notes.extend(model_notes)
    every = [*global_probes(), *per_model]
    # A rule name is valid if any model of the table has it, even when none of the chosen do.
    rule_names = set(GLOBAL_RULES) | {
        case.rule
        for model_id in known
        if (model_rules := table_rules(model_id)) is not None
        for case in model_rules.cases
    }
    unknown = sorted(set(rules) - rule_names)
    if unknown:
        raise SelectionError(
            f"Unknown rule(s) {', '.join(unknown)}: expected some of "
            f"{', '.join(sorted(rule_names))}"
        )
    selected = [p for p in every if not rules or set(p.rules) & set(rules)]
    ordered = [p for p in selected if not p.generates] + [p for p in selected if p.generates]
    return Battery(probes=tuple(ordered), notes=tuple(notes))


def _select_models(known: Sequence[str], patterns: Iterable[str]) -> list[str]:
    wanted = [p for p in patterns if p]
    if not wanted:
        return list(known)
    chosen: list[str] = []
    for pattern in wanted:
        matched = [m for m in known if fnmatch.fnmatchcase(m, pattern)]
        if not matched:
            near = [m for m in known if pattern.lower().split("/")[-1][:6] in m.lower()][:5]
            hint = f"; similar: {', '.join(near)}" if near else ""
            raise SelectionError(
                f"--models {pattern!r} matches no model of the table ({len(known)} models){hint}"
            )
        chosen.extend(m for m in matched if m not in chosen)
    return [m for m in known if m in chosen]
