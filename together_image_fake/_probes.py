"""The drift check's battery: requests derived from the per-model rule table, not written by hand.

``table_rules()`` is the one place that reads the table (``together_image.models``, priced by the
fake's catalog): for a model id it returns a ``ModelRules`` (the cheapest valid body, the price,
and per rule one ``RuleCase`` with the change to that body that must trip the rule and the change
that stays just inside it). Rules are the size rule (``dimensions``), each value rule (``steps``,
``n``, ``seed``, ``reference_images``, ``image_loras``, ``image_url``), each field the model
rejects (tripped by sending it) or accepts and ignores (sent, expecting success), and for models
not served the ``retired`` or ``non_serverless`` answer. ``build_battery()`` turns those into
``Probe``s, adds the probes no table row describes (a bad key, an unknown model, a chat model, the
``GET /v1/models`` listing), merges probes that would send the same request, and selects by model
and rule. Probes that the table says the API rejects cost nothing; probes it should accept
generate images and carry a cost estimate from the catalog's pricing, so the runner can keep
within a spending cap.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from together_image.models import (
    MODELS,
    WIRE_FIELDS,
    AreaWindow,
    Dimensions,
    ModelParams,
    Rule,
    SizeRange,
    model_params,
)
from together_image_fake._catalog import Catalog, Price

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
# A public FLUX LoRA as a Hugging Face repo URL, one of the path forms the docs accept [DOC form].
PROBE_LORA = "https://huggingface.co/XLabs-AI/flux-RealismLora"

# Probes no table row describes; each id below is what the real API was seen answering for.
AUTH_MODEL = "black-forest-labs/FLUX.1-schnell"
UNKNOWN_MODEL = "together-image-fake/no-such-model"
NON_IMAGE_MODEL = "meta-llama/Llama-4-Scout-17B-16E-Instruct"  # [REC] 500 server_error

GUESSED_PRICE_FLOOR = 0.24
"""Dollars an image is estimated at, at least, when the catalog's price is a guess ([INF]): the
highest image price in Together's listing of 2026-08-17 [REC] (google/gemini-3-pro-image at 4K,
"$0.24 per image"; gpt-image-1.5 "up to $0.199"), so a guessed price never makes the cap too low."""

GLOBAL_RULES: tuple[str, ...] = (
    "listing",
    "auth",
    "unknown_model",
    "non_image_model",
)
"""Rules that belong to no model; ``--rules`` selects them like the per-model ones."""


@dataclass(frozen=True, kw_only=True)
class RuleCase:
    """One rule of one model, as the drift check probes it.

    Attributes:
        rule: The rule's name: ``dimensions``, a wire field (``steps``, ``n``, ``seed``,
            ``negative_prompt``…), ``retired`` or ``non_serverless``.
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
        price: What an image costs, per megapixel at the default step count or per image.
        default_steps: The step count a per-megapixel price is quoted for.
        min_price_per_image: The least an image is estimated at (``GUESSED_PRICE_FLOOR`` when
            the catalog's price is only a guess, else 0).
        sized_by_reference: Whether an input image, not ``width``/``height``, sets the output
            size (Kontext: about one megapixel [3P Orb]).
    """

    model: str
    base: Mapping[str, Any]
    cases: tuple[RuleCase, ...]
    price: Price
    default_steps: int
    min_price_per_image: float = 0.0
    sized_by_reference: bool = False


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

# A value for each wire field a probe may send on its own: small, cheap, and valid wherever the
# field is taken at all, so a 400 can only come from the rule being probed.
_SAMPLES: Mapping[str, Any] = {
    "width": 1024,
    "height": 1024,
    "n": 1,
    "steps": 4,
    "seed": 42,
    "response_format": "url",
    "output_format": "png",
    "negative_prompt": "blurry",
    "guidance": 3.5,
    "guidance_scale": 3.5,
    "image_url": PROBE_IMAGE,
    "reference_images": [PROBE_IMAGE],
    "image_loras": [{"path": PROBE_LORA, "scale": 1.0}],
    "aspect_ratio": "1:1",
    "prompt_upsampling": False,
    "disable_safety_checker": True,
    "size": "1024x1024",
}
# Fields every probe body carries (or that the base body sets from a value rule).
_BASE_FIELDS = frozenset({"prompt", "model", "width", "height"})


def table_model_ids() -> tuple[str, ...]:
    """Every model id the table knows, in table order."""
    return tuple(params.id for params in MODELS)


def table_rules(model_id: str) -> ModelRules | None:
    """Read one model's rules from the per-model table (``together_image.models``).

    This and ``table_model_ids`` are the only readers of the table: switching the battery to
    another source of per-model rules changes these two functions and nothing else. Pricing is
    what the fake's catalog adds to the table.

    Args:
        model_id: The model id.

    Returns:
        The model's rules, or ``None`` when the table does not know the model.
    """
    params = model_params(model_id)
    if params is None:
        return None
    priced = Catalog.build().get(model_id)
    price = priced.price.value if priced is not None else Price(unit="image", amount=0.0)
    guessed = priced is None or priced.price.source == "INF"
    return ModelRules(
        model=params.id,
        base=_base_body(params),
        cases=_cases(params),
        price=price,
        default_steps=params.default_steps.value or 1,
        min_price_per_image=GUESSED_PRICE_FLOOR if guessed else 0.0,
        sized_by_reference=params.output_size.value == "reference",
    )


def _tagged(source: str, note: str) -> str:
    return f"[{source}] {note}".rstrip()


def _base_body(params: ModelParams) -> dict[str, Any]:
    body: dict[str, Any] = {"model": params.id, "prompt": PROMPT}
    if params.field("width").accepted and params.field("height").accepted:
        body["width"], body["height"] = _smallest_size(params.dimensions.value)
    for name in params.required.value:
        if name not in body:
            body[name] = _SAMPLES[name]
    return body


def _smallest_size(dimensions: Dimensions) -> tuple[int, int]:
    if isinstance(dimensions, SizeRange):
        return dimensions.min, dimensions.min
    if isinstance(dimensions, AreaWindow):
        return dimensions.min_side, dimensions.min_side
    return min(dimensions.sizes, key=lambda size: (size[0] * size[1], size))


def _size_outside(dimensions: Dimensions) -> tuple[tuple[int, int], str]:
    """A size just outside the dimension rule, as small as possible (cheap if accepted)."""
    if isinstance(dimensions, SizeRange):
        width = dimensions.min - dimensions.multiple
        if width < 1:
            width = dimensions.max + dimensions.multiple
            return (width, dimensions.min), f"width {width} above the maximum {dimensions.max}"
        return (width, dimensions.min), f"width {width} below the minimum {dimensions.min}"
    if isinstance(dimensions, AreaWindow):
        side = dimensions.min_side - 1
        return (side, side), f"{side}x{side}, an area below the window's {dimensions.min_side}²"
    width, height = _smallest_size(dimensions)
    while (width, height) in dimensions.sizes or width < 16:
        width = width - 16 if width > 16 else width + 8
    return (width, height), f"{width}x{height}, off the size menu"


def _cases(params: ModelParams) -> tuple[RuleCase, ...]:
    if not params.serverless.value:
        return (
            RuleCase(
                rule="non_serverless",
                evidence=_tagged(params.serverless.source, params.serverless.note),
                trip={},
                trip_note="a model served only on dedicated endpoints",
            ),
        )
    if params.retired.value is not None:
        return (
            RuleCase(
                rule="retired",
                evidence=_tagged(params.retired.source, params.retired.note)
                + f"; answered as {params.retired_answer.value} "
                f"[{params.retired_answer.source}]",
                trip={},
                trip_note=f"a model retired on {params.retired.value}",
            ),
        )
    cases: list[RuleCase] = []
    if params.field("width").accepted and params.field("height").accepted:
        dims = params.dimensions
        (width, height), note = _size_outside(dims.value)
        smallest = _smallest_size(dims.value)
        cases.append(
            RuleCase(
                rule="dimensions",
                evidence=_tagged(dims.source, dims.note),
                trip={"width": width, "height": height},
                trip_note=note,
                inside={},
                inside_note=f"{smallest[0]}x{smallest[1]}, the smallest size allowed",
            )
        )
    for name in WIRE_FIELDS:
        if name in _BASE_FIELDS:
            continue
        support = params.field(name)
        if support.rejected:
            cases.append(
                RuleCase(
                    rule=name,
                    evidence=_tagged(support.source, support.note),
                    trip={name: _SAMPLES[name]},
                    trip_note=f"{name}, which the model rejects",
                )
            )
        elif support.ignored:
            cases.append(
                RuleCase(
                    rule=name,
                    evidence=_tagged(support.source, support.note),
                    trip=None,
                    inside={name: _SAMPLES[name]},
                    inside_note=f"{name}, which the model accepts and ignores",
                )
            )
        else:
            cases.extend(_value_cases(params, name))
    return tuple(cases)


def _value_cases(params: ModelParams, name: str) -> list[RuleCase]:
    """Cases for a field the model takes: its value rule's two sides, if it has one."""
    if name == "steps" and params.steps.value is not None:
        low, high = params.steps.value
        return [
            _two_sided(
                params.steps,
                name,
                trip=(high + 1, f"steps {high + 1}, above the maximum {high}"),
                inside=(low, f"steps {low}, the minimum"),
            )
        ]
    if name == "n":
        top = params.max_n.value
        return [
            _two_sided(
                params.max_n,
                name,
                trip=(top + 1, f"n {top + 1}, above the maximum {top}"),
                inside=(top, f"n {top}, the maximum"),
            )
        ]
    if name == "seed" and params.seeds.value is not None:
        seeds = params.seeds.value
        return [
            _two_sided(
                params.seeds,
                name,
                trip=(seeds.max + 1, f"seed {seeds.max + 1}, above the maximum {seeds.max}"),
                inside=(seeds.max, f"seed {seeds.max}, the maximum"),
            )
        ]
    if name == "reference_images":
        top = params.max_reference_images
        return [
            _two_sided(
                params.reference_images,
                name,
                trip=([PROBE_IMAGE] * (top + 1), f"{top + 1} reference images, above {top}"),
                inside=([PROBE_IMAGE] * top, f"{top} reference images (64x64 PNG data URLs)"),
            )
        ]
    if name == "image_loras" and params.max_loras.value > 0:
        top = params.max_loras.value
        lora = {"path": PROBE_LORA, "scale": 1.0}
        return [
            _two_sided(
                params.max_loras,
                name,
                trip=([lora] * (top + 1), f"{top + 1} LoRAs, above the maximum {top}"),
                inside=([lora] * top, f"{top} LoRAs, the maximum"),
            )
        ]
    if name == "image_url" and params.image_url.value == "required":
        # The base body carries the required image; the trip takes it away.
        return [
            _two_sided(
                params.image_url,
                name,
                trip=(None, "no image_url, which the model requires"),
                inside=(PROBE_IMAGE, "one image_url (a 64x64 PNG data URL)"),
            )
        ]
    if name == "image_url" and params.image_url.value == "optional":
        return [
            RuleCase(
                rule=name,
                evidence=_tagged(params.image_url.source, params.image_url.note),
                trip=None,
                inside={name: PROBE_IMAGE},
                inside_note="one optional image_url (a 64x64 PNG data URL)",
            )
        ]
    return []


def _two_sided(
    rule: Rule[Any], name: str, *, trip: tuple[Any, str], inside: tuple[Any, str]
) -> RuleCase:
    """A value rule's case: ``name`` set to the trip value, or to the inside value."""
    return RuleCase(
        rule=name,
        evidence=_tagged(rule.source, rule.note),
        trip={name: trip[0]},
        trip_note=trip[1],
        inside={name: inside[0]},
        inside_note=inside[1],
    )


# ---- from the table to probes -----------------------------------------------------------------


class SelectionError(ValueError):
    """``--models`` or ``--rules`` selects something the battery does not have."""


def estimate_cost(rules: ModelRules, body: Mapping[str, Any]) -> float:
    """Dollars the real API would charge for ``body`` if it generated the images.

    The catalog's price per image, or "Cost = MP x Price per MP x (Steps / Default Steps)" when
    steps exceed the default [DOC] (what the fake charges too), but at least
    ``rules.min_price_per_image``, times the number of images; a missing width or height counts as
    1024 (the documented default), and so does every side of an output an input image sizes.
    """
    width = _int_or(body.get("width"), 1024)
    height = _int_or(body.get("height"), 1024)
    if rules.sized_by_reference and "image_url" in body:
        # The square probe image comes back at about one megapixel, whatever the request says.
        width = height = 1024
    steps = _int_or(body.get("steps"), rules.default_steps)
    images = max(1, _int_or(body.get("n"), 1))
    factor = max(1.0, steps / max(1, rules.default_steps))
    per_image = rules.price.cost(width=width, height=height, n=1, steps_factor=factor)
    return max(per_image, rules.min_price_per_image) * images


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
        sides: tuple[tuple[Expectation, Mapping[str, Any] | None, str], ...] = (
            ("rejected", case.trip, case.trip_note),
            ("accepted", case.inside, case.inside_note),
        )
        for expect, change, note in sides:
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
                expect=expect,
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
        rules: Rule names to probe (``dimensions``, wire fields such as ``steps`` or
            ``negative_prompt``, ``retired``, ``non_serverless``, and the global ``listing``,
            ``auth``, ``unknown_model``, ``non_image_model``); empty for all.

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
