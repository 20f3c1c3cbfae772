"""``together-image-fake verify``: measure the fake's drift from an upstream, probe by probe.

Each probe of the battery (``_probes``) goes to the upstream through ``TogetherProxy`` (the real
API by default, or any base URL) and, unchanged, to a local ``FakeTogether`` through its public
``handle()``. ``compare()`` turns the two answers into rows (status; ``error`` type, code, param
and message; the body's keys in order; the timings style; every header the fake claims to
reproduce), each the same or different, so a probe drifts when any row differs. Cost comes first:
probes the table expects to be rejected cost nothing and are the only ones sent by default; probes
that generate images run only under a spending cap, each estimated before it is sent, and the run
stops before the estimate would pass the cap. With a record directory every upstream exchange is
saved as a cassette by the usual recorder (scrubbed, scanned), tagged [REC] with the date, the
probe and the rule, so it can become a fixture.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

from together_image_fake._backend import FakeTogether
from together_image_fake._cassette import Cassette, CassetteError
from together_image_fake._probes import (
    GENERATE_PATH,
    MODELS_PATH,
    Battery,
    Probe,
    SelectionError,
    build_battery,
)
from together_image_fake._record import DEFAULT_UPSTREAM, CassetteRecorder, TogetherProxy
from together_image_fake._secrets import secrets_from_environment
from together_image_fake._wire import FakeRequest, FakeResponse, etag

__all__ = [
    "CLAIMED_HEADERS",
    "ProbeResult",
    "Row",
    "VerifyReport",
    "add_verify_command",
    "compare",
    "run_verify",
]

WRONG_KEY = "verify-deliberately-wrong-key"
"""The key the auth probe sends; never a real one."""

PLACEHOLDER_KEY = "verify-placeholder-key"
"""The key sent to an explicit ``--upstream`` when ``TOGETHER_API_KEY`` is not set."""

RATE_LIMIT_RETRIES = 2
"""How many 429 answers in a row a probe waits out before its 429 is compared."""

_DEFAULT_RETRY_S = 10.0
_MAX_RETRY_S = 60.0
_ABSENT = "absent"
_NOT_APPLICABLE = "n/a"
_SHOWN = 160


# ---- what is compared -------------------------------------------------------------------------


def _exact(value: str | None, response: FakeResponse) -> str:
    return _ABSENT if value is None else value


def _shape(pattern: str, label: str) -> Callable[[str | None, FakeResponse], str]:
    compiled = re.compile(pattern)

    def describe(value: str | None, response: FakeResponse) -> str:
        if value is None:
            return _ABSENT
        return label if compiled.fullmatch(value) else f"not {label}: {_clip(value)}"

    return describe


def _etag(value: str | None, response: FakeResponse) -> str:
    if value is None:
        return _ABSENT
    return "the body's weak Etag" if value == etag(response.body) else f"other: {_clip(value)}"


def _content_length(value: str | None, response: FakeResponse) -> str:
    if value is None:
        return _ABSENT
    if value.strip() == str(len(response.body)):
        return "the body's length"
    return f"{_clip(value)} (body is {len(response.body)} bytes)"


_ISO_MS = _shape(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", "an ISO time in ms")

CLAIMED_HEADERS: tuple[tuple[str, Callable[[str | None, FakeResponse], str]], ...] = (
    ("Access-Control-Allow-Origin", _exact),
    ("Alt-Svc", _exact),
    ("Cf-Cache-Status", _exact),
    ("Cf-Ray", _shape(r"[0-9a-f]{16}-[A-Z]{3}", "a Cf-Ray id")),
    ("Content-Length", _content_length),
    ("Content-Type", _exact),
    ("Date", _shape(r"[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT", "an HTTP date")),
    ("Etag", _etag),
    ("Server", _exact),
    ("Strict-Transport-Security", _exact),
    ("X-Api-Call-End", _ISO_MS),
    ("X-Api-Call-Start", _ISO_MS),
    ("X-Api-Received", _ISO_MS),
    ("X-Api-Retries", _exact),
    ("X-Image-Version", _exact),
    (
        "X-Request-Id",
        _shape(r"[A-Za-z0-9]{7}-[A-Za-z0-9]{6}-[0-9a-f]{16}(-[A-Z]{3})?", "a response id"),
    ),
)
"""The headers the fake reproduces (README "How faithful is the fake?", ``fixtures/``), each with
how it is compared: exactly for fixed values; by shape for per-answer values (ids, times); against
the body for ``Etag`` and ``Content-Length``."""


@dataclass(frozen=True, kw_only=True)
class Row:
    """One compared aspect of a probe's two answers.

    Attributes:
        check: What is compared (``status``, ``error.message``, ``header Etag``…).
        real: The upstream's answer, described.
        fake: The fake's answer, described.
        same: Whether they agree.
    """

    check: str
    real: str
    fake: str
    same: bool

    def verdict(self) -> str:
        """``same: <value>`` or ``differs: real <value> / fake <value>``."""
        if self.same:
            return f"same: {self.real}"
        return f"differs: real {self.real} / fake {self.fake}"

    def to_json(self) -> dict[str, Any]:
        """Return the row as the JSON report shows it."""
        return {"check": self.check, "same": self.same, "real": self.real, "fake": self.fake}


def _row(check: str, real: str, fake: str) -> Row:
    return Row(check=check, real=real, fake=fake, same=real == fake)


def compare(probe: Probe, real: FakeResponse, fake: FakeResponse) -> tuple[Row, ...]:
    """Compare the upstream's and the fake's answers to one probe.

    Args:
        probe: The probe both answered.
        real: The upstream's answer.
        fake: The fake's answer.

    Returns:
        The rows, status first, then the error fields (when either answer is an error body), the
        body's keys, the timings style (when either answer has ``data``), the listed image models
        (listing only) and the claimed headers.
    """
    rows = [_row("status", _status(real), _status(fake))]
    real_json, fake_json = _json_of(real), _json_of(fake)
    real_error, fake_error = _error_of(real_json), _error_of(fake_json)
    if real_error is not None or fake_error is not None:
        for name in ("type", "code", "param", "message"):
            rows.append(_row(f"error.{name}", _field(real_error, name), _field(fake_error, name)))
    rows.append(_row("body keys", _keys(real, real_json), _keys(fake, fake_json)))
    real_timings, fake_timings = _timings(real_json), _timings(fake_json)
    if (real_timings, fake_timings) != (_NOT_APPLICABLE, _NOT_APPLICABLE):
        rows.append(_row("timings", real_timings, fake_timings))
    if probe.path == MODELS_PATH:
        rows.append(_listed_images(real_json, fake_json))
    for name, describe in CLAIMED_HEADERS:
        rows.append(
            _row(
                f"header {name}",
                describe(real.header(name), real) if real.action == "respond" else _ABSENT,
                describe(fake.header(name), fake) if fake.action == "respond" else _ABSENT,
            )
        )
    return tuple(rows)


def _status(response: FakeResponse) -> str:
    if response.action != "respond":
        return f"no answer ({response.action})"
    return str(response.status)


class _NoJSON:
    """Marks a body that is not JSON."""


_NO_JSON = _NoJSON()


def _json_of(response: FakeResponse) -> Any:
    if response.action != "respond" or not response.body:
        return _NO_JSON
    try:
        return json.loads(response.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return _NO_JSON


def _error_of(value: Any) -> Mapping[str, Any] | None:
    if isinstance(value, dict) and isinstance(value.get("error"), dict):
        error: Mapping[str, Any] = value["error"]
        return error
    return None


def _field(error: Mapping[str, Any] | None, name: str) -> str:
    if error is None or name not in error:
        return _ABSENT
    return _clip(json.dumps(error[name], ensure_ascii=False))


def _keys(response: FakeResponse, value: Any) -> str:
    if response.action != "respond":
        return _ABSENT
    if value is _NO_JSON:
        kind = response.header("Content-Type") or "no Content-Type"
        return f"not JSON ({len(response.body)} bytes, {kind})"
    return _shape_of(value)


def _shape_of(value: Any) -> str:
    """The keys of a JSON value in order, nested objects in braces, a list as its first item."""
    if isinstance(value, dict):
        parts = []
        for key, item in value.items():
            inner = _shape_of(item)
            parts.append(f"{key}{inner}" if inner.startswith(("{", "[")) else key)
        return "{" + ", ".join(parts) + "}"
    if isinstance(value, list):
        # A listing mixes modalities; the image endpoint's entries are what the fake models.
        images = [item for item in value if isinstance(item, dict) and item.get("type") == "image"]
        sample = images[0] if images else (value[0] if value else None)
        return "[]" if sample is None else f"[{_shape_of(sample)}, …]"
    return ""


def _timings(value: Any) -> str:
    if not isinstance(value, dict) or not isinstance(value.get("data"), list) or not value["data"]:
        return _NOT_APPLICABLE
    item = value["data"][0]
    timings = item.get("timings") if isinstance(item, dict) else None
    if not isinstance(timings, dict) or "inference" not in timings:
        return _ABSENT
    inference = timings["inference"]
    if isinstance(inference, bool) or not isinstance(inference, (int, float)):
        return f"inference is {_clip(json.dumps(inference))}"
    return "integer milliseconds" if isinstance(inference, int) else "float seconds"


def _listed_images(real: Any, fake: Any) -> Row:
    real_ids, fake_ids = _image_ids(real), _image_ids(fake)
    if real_ids is None or fake_ids is None:
        real_text = "not a list" if real_ids is None else f"{len(real_ids)} image models"
        fake_text = "not a list" if fake_ids is None else f"{len(fake_ids)} image models"
        return _row("image models", real_text, fake_text)
    if real_ids == fake_ids:
        text = f"{len(real_ids)} image models"
        return Row(check="image models", real=text, fake=text, same=True)
    only_real = sorted(real_ids - fake_ids)
    only_fake = sorted(fake_ids - real_ids)
    return Row(
        check="image models",
        real=f"{len(real_ids)}, not in the fake: {', '.join(only_real) or 'none'}",
        fake=f"{len(fake_ids)}, not upstream: {', '.join(only_fake) or 'none'}",
        same=False,
    )


def _image_ids(value: Any) -> set[str] | None:
    if not isinstance(value, list):
        return None
    return {
        item["id"]
        for item in value
        if isinstance(item, dict)
        and item.get("type") == "image"
        and isinstance(item.get("id"), str)
    }


def _clip(text: str) -> str:
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


# ---- running the battery ----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ProbeResult:
    """One probe's two answers and their comparison.

    Attributes:
        probe: The probe.
        rows: ``compare()``'s rows.
        real: The upstream's answer.
        fake: The fake's answer.
        charged: Dollars counted against the cap: a generating probe's estimate, or a free
            probe's estimate when the upstream generated images for it anyway.
        cassette: Where the upstream exchange was recorded, if it was.
        rate_limited: How many 429 answers were waited out before the one compared.
    """

    probe: Probe
    rows: tuple[Row, ...]
    real: FakeResponse
    fake: FakeResponse
    charged: float = 0.0
    cassette: Path | None = None
    rate_limited: int = 0

    @property
    def drift(self) -> bool:
        """Whether any row differs."""
        return any(not row.same for row in self.rows)

    def to_json(self) -> dict[str, Any]:
        """Return the result as the JSON report shows it."""
        return {
            "probe": self.probe.to_json(),
            "drift": self.drift,
            "charged_estimate": round(self.charged, 6),
            "cassette": str(self.cassette) if self.cassette else None,
            "rate_limited_retries": self.rate_limited,
            "rows": [row.to_json() for row in self.rows],
        }


@dataclass(frozen=True, kw_only=True)
class VerifyReport:
    """What a drift check found.

    Attributes:
        upstream: The base URL compared against.
        started_at: UTC time the run started (ISO 8601).
        battery: Every selected probe.
        results: The probes that ran, in order.
        skipped: Generating probes left out because no spending cap was given.
        stopped_before: The generating probe whose estimate would have passed the cap (the run
            stopped there), or ``None``.
        spend_cap: The cap in dollars, or ``None``.
        spent: Estimated dollars spent upstream (the sum of the results' ``charged``).
        record_errors: Cassettes that could not be saved, with the reason.
    """

    upstream: str
    started_at: str
    battery: Battery
    results: tuple[ProbeResult, ...]
    skipped: tuple[Probe, ...] = ()
    stopped_before: Probe | None = None
    spend_cap: float | None = None
    spent: float = 0.0
    record_errors: tuple[str, ...] = ()

    @property
    def drifted(self) -> tuple[ProbeResult, ...]:
        """The results with drift."""
        return tuple(result for result in self.results if result.drift)

    def exit_status(self) -> int:
        """0 without drift, 1 with drift or a cassette that could not be saved."""
        return 1 if self.drifted or self.record_errors else 0

    def to_json(self) -> dict[str, Any]:
        """Return the whole report as JSON for CI."""
        return {
            "upstream": self.upstream,
            "started_at": self.started_at,
            "battery": len(self.battery.probes),
            "ran": len(self.results),
            "drift": len(self.drifted),
            "drifted": [result.probe.id for result in self.drifted],
            "skipped_generating": [probe.id for probe in self.skipped],
            "stopped_before": self.stopped_before.id if self.stopped_before else None,
            "spend_cap": self.spend_cap,
            "spent_estimate": round(self.spent, 6),
            "record_errors": list(self.record_errors),
            "notes": list(self.battery.notes),
            "results": [result.to_json() for result in self.results],
        }


def probe_request(probe: Probe, api_key: str) -> FakeRequest:
    """The request a probe sends (identically to the upstream and to the fake)."""
    headers = {
        "authorization": f"Bearer {WRONG_KEY if probe.bad_key else api_key}",
        "user-agent": "together-image-fake-verify",
        # Uncompressed answers keep Content-Length comparable with the fake's.
        "accept-encoding": "identity",
    }
    body = b""
    if probe.body is not None:
        headers["content-type"] = "application/json"
        body = json.dumps(probe.body, separators=(",", ":")).encode("utf-8")
    return FakeRequest(method=probe.method, path=probe.path, headers=headers, body=body)


def run_verify(
    battery: Battery,
    *,
    upstream: str,
    api_key: str,
    fake: FakeTogether | None = None,
    spend_up_to: float | None = None,
    record_dir: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    on_result: Callable[[ProbeResult], None] | None = None,
    clock: Callable[[], datetime] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> VerifyReport:
    """Send every probe to the upstream and to the fake and compare the answers.

    Args:
        battery: The probes (``build_battery()``).
        upstream: Base URL of the upstream (``…/v1``).
        api_key: Key sent upstream and the only key the default fake accepts.
        fake: The fake to compare with; by default a ``FakeTogether`` that accepts only
            ``api_key`` and, like the real API, no longer serves retired models.
        spend_up_to: Dollars the generating probes may cost; ``None`` sends none of them.
        record_dir: Save each upstream exchange as a cassette there.
        environ: Environment whose secret variables the recorder scrubs (``os.environ``).
        on_result: Called with each result as soon as it is known (progress output).
        clock: Returns the current UTC time (the date in recordings).
        sleep: Waits out an upstream 429 (``Retry-After``, 1 to 60 s) before sending again, up
            to ``RATE_LIMIT_RETRIES`` times.

    Returns:
        The report.

    Raises:
        ValueError: For an upstream that is not an http(s) base URL or a negative cap.
    """
    if spend_up_to is not None and not spend_up_to >= 0:
        raise ValueError(f"The spending cap must be a number of dollars >= 0, got {spend_up_to}")
    now = clock or (lambda: datetime.now(timezone.utc))
    started = now()
    runner = _Runner(
        upstream=upstream,
        api_key=api_key,
        fake=fake if fake is not None else FakeTogether(api_keys=[api_key], serve_retired=False),
        record_dir=Path(record_dir) if record_dir is not None else None,
        environ=environ,
        now=now,
        sleep=sleep,
    )
    results: list[ProbeResult] = []
    skipped: list[Probe] = []
    stopped: Probe | None = None
    spent = 0.0
    try:
        for probe in battery.probes:
            if probe.generates:
                if spend_up_to is None:
                    skipped.append(probe)
                    continue
                if spent + probe.cost > spend_up_to:
                    stopped = probe
                    break
            result = runner.run(probe)
            spent += result.charged
            results.append(result)
            if on_result is not None:
                on_result(result)
    finally:
        runner.close()
    return VerifyReport(
        upstream=upstream,
        started_at=started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        battery=battery,
        results=tuple(results),
        skipped=tuple(skipped),
        stopped_before=stopped,
        spend_cap=spend_up_to,
        spent=spent,
        record_errors=tuple(runner.record_errors),
    )


class _Runner:
    """Sends one probe to both sides, records the upstream exchange, and compares."""

    def __init__(
        self,
        *,
        upstream: str,
        api_key: str,
        fake: FakeTogether,
        record_dir: Path | None,
        environ: Mapping[str, str] | None,
        now: Callable[[], datetime],
        sleep: Callable[[float], None],
    ) -> None:
        self.upstream = upstream
        self.api_key = api_key
        self.fake = fake
        self.record_dir = record_dir
        self.environ = environ
        self.now = now
        self.sleep = sleep
        self.proxy = TogetherProxy(upstream)
        self.record_errors: list[str] = []

    def run(self, probe: Probe) -> ProbeResult:
        request = probe_request(probe, self.api_key)
        real, recorder, waits = self.send_upstream(probe, request)
        mine = self.fake.handle(request)
        # A generating probe counts at its estimate whatever the answer (what was billed is not
        # known here); a free one counts only if the upstream generated images for it anyway.
        charged = probe.cost if probe.generates or _generated(probe, real) else 0.0
        cassette = None
        if recorder is not None:
            try:
                cassette = _save_recording(
                    recorder,
                    probe,
                    upstream=self.upstream,
                    date=self.now(),
                    secrets=[self.api_key, WRONG_KEY, *secrets_from_environment(self.environ)],
                )
            except CassetteError as error:
                self.record_errors.append(f"{probe.id}: {error}")
        return ProbeResult(
            probe=probe,
            rows=compare(probe, real, mine),
            real=real,
            fake=mine,
            charged=charged,
            cassette=cassette,
            rate_limited=waits,
        )

    def send_upstream(
        self, probe: Probe, request: FakeRequest
    ) -> tuple[FakeResponse, CassetteRecorder | None, int]:
        """Send one probe upstream, waiting out rate limits (a 429 is the account's state, not
        an answer to the probe); each attempt records afresh, so the cassette holds the answer
        kept.

        Returns:
            ``(answer, its recorder, how many 429 answers were waited out)``.
        """
        waits = 0
        while True:
            recorder = None
            if self.record_dir is not None:
                recorder = CassetteRecorder(
                    self.record_dir / f"{probe.filename}.json",
                    secrets=[self.api_key],
                    environ=self.environ,
                )
            self.proxy.recorder = recorder
            answer = self.proxy.handle(request)
            if answer.action != "respond" or answer.status != 429 or waits == RATE_LIMIT_RETRIES:
                return answer, recorder, waits
            waits += 1
            self.sleep(_retry_delay(answer))

    def close(self) -> None:
        self.proxy.stop()


def _retry_delay(answer: FakeResponse) -> float:
    try:
        seconds = float(answer.header("Retry-After") or _DEFAULT_RETRY_S)
    except ValueError:
        seconds = _DEFAULT_RETRY_S
    return min(max(seconds, 1.0), _MAX_RETRY_S)


def _generated(probe: Probe, real: FakeResponse) -> bool:
    return probe.path == GENERATE_PATH and real.action == "respond" and real.status == 200


def _save_recording(
    recorder: CassetteRecorder,
    probe: Probe,
    *,
    upstream: str,
    date: datetime,
    secrets: Sequence[str],
) -> Path:
    """Save the probe's exchange with [REC] provenance on every part (as ``fixtures/`` has)."""
    day = date.strftime("%Y-%m-%d")
    recorded = recorder.cassette()
    rules = ", ".join(probe.rules)
    provenance = {
        "request": f"[REC] {day} together-image-fake verify, probe {probe.id} (rule {rules}): "
        f"{probe.description}",
        "response.status": f"[REC] {day}",
        "response.headers": f"[REC] {day} as recorded",
        "response.body": f"[REC] {day} byte-exact from {upstream}",
    }
    meta = {
        **recorded.meta,
        "summary": f"{probe.description}: the table expects it {probe.expect} ({rules})",
        "recorded": day,
        "source": f"[REC] together-image-fake verify against {upstream}",
        "probe": probe.id,
        "rules": list(probe.rules),
        "evidence": probe.evidence,
        "upstream": upstream,
    }
    cassette = Cassette(
        interactions=tuple(
            replace(interaction, provenance=provenance) for interaction in recorded.interactions
        ),
        meta=meta,
    )
    # The recorder scrubbed every key it saw; the scan is told them again, as recorder.save() does.
    return cassette.save(recorder.path, blobs=recorder.blobs, secrets=secrets, allow=recorder.allow)


# ---- output -----------------------------------------------------------------------------------


def render_result(result: ProbeResult, *, drift_only: bool = False) -> str:
    """A probe's table as text: a heading, then one line per row."""
    probe = result.probe
    verdict = "DRIFT" if result.drift else "no drift"
    lines = [
        f"{probe.id}  [{verdict}]",
        f"  {probe.description}; the table expects it {probe.expect}; {probe.evidence}",
    ]
    if result.charged:
        lines.append(f"  counted against the spend: about ${result.charged:.4f}")
    width = max(len(row.check) for row in result.rows)
    for row in result.rows:
        if drift_only and row.same:
            continue
        lines.append(f"  {row.check:<{width}}  {row.verdict()}")
    return "\n".join(lines)


def render_summary(report: VerifyReport) -> str:
    """The closing lines: counts, spending, what was not sent."""
    lines = [
        f"{len(report.results)} of {len(report.battery.probes)} probes sent to {report.upstream}: "
        f"{len(report.drifted)} with drift"
    ]
    if report.drifted:
        lines.extend(f"  drift: {result.probe.id}" for result in report.drifted)
    if report.skipped:
        cost = sum(probe.cost for probe in report.skipped)
        lines.append(
            f"{len(report.skipped)} image-generating probes not sent (about ${cost:.4f} in all): "
            "pass --spend-up-to DOLLARS to send them"
        )
    if report.stopped_before is not None:
        probe = report.stopped_before
        lines.append(
            f"Stopped before {probe.id}: its estimate ${probe.cost:.4f} would bring the spend "
            f"from ${report.spent:.4f} past the cap ${report.spend_cap:.4f}"
        )
    if report.spent:
        lines.append(f"Estimated spend: ${report.spent:.4f}")
    lines.extend(f"Recording not saved: {error}" for error in report.record_errors)
    return "\n".join(lines)


# ---- command line -----------------------------------------------------------------------------


def add_verify_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``together-image-fake verify`` to the command line's subparsers."""
    verify = commands.add_parser(
        "verify",
        help="measure the fake's drift from the real API (or any upstream)",
        description=(
            "Send a battery of probes derived from the per-model rule table to an upstream (the "
            "real Together API with TOGETHER_API_KEY, or --upstream) and to the fake, and print "
            "per probe whether each part of the answers is the same. Exit status 1 on drift, 2 "
            "without a key for the real API. By default only requests the table expects to be "
            "rejected are sent: they cost nothing."
        ),
    )
    verify.add_argument(
        "--upstream",
        metavar="URL",
        default=None,
        help=f"base URL to compare with (default: the real API, {DEFAULT_UPSTREAM})",
    )
    verify.add_argument(
        "--models",
        action="append",
        default=[],
        metavar="IDS",
        help="model ids or patterns (google/*) to probe, comma-separated or repeated",
    )
    verify.add_argument(
        "--rules",
        action="append",
        default=[],
        metavar="NAMES",
        help="rules to probe, comma-separated or repeated: dimensions, a wire field (steps, n, "
        "seed, negative_prompt, image_url, reference_images, image_loras...), retired, "
        "non_serverless, listing, auth, unknown_model, non_image_model",
    )
    verify.add_argument(
        "--spend-up-to",
        type=float,
        default=None,
        metavar="DOLLARS",
        help="also send the probes that generate images (smallest size and steps), estimated "
        "from the catalog's pricing; the run stops before the estimate would pass this cap",
    )
    verify.add_argument("--record", metavar="DIR", help="save each upstream exchange as a cassette")
    verify.add_argument("--report", metavar="FILE", help="write the whole report as JSON")
    verify.add_argument(
        "--drift-only", action="store_true", help="print only the probes and rows that differ"
    )
    verify.add_argument(
        "--list", action="store_true", help="print the selected probes and send nothing"
    )
    verify.set_defaults(run=_run_verify)


def _split(values: Sequence[str]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _run_verify(args: argparse.Namespace) -> int:
    return verify_command(args, environ=os.environ, out=sys.stdout, err=sys.stderr)


def verify_command(
    args: argparse.Namespace, *, environ: Mapping[str, str], out: TextIO, err: TextIO
) -> int:
    """Run ``verify`` with parsed arguments (the command line's body, testable in-process)."""
    try:
        battery = build_battery(models=_split(args.models), rules=_split(args.rules))
    except SelectionError as error:
        print(f"error: {error}", file=err)
        return 2
    if args.spend_up_to is not None and not args.spend_up_to >= 0:
        print(f"error: --spend-up-to must be dollars >= 0, got {args.spend_up_to}", file=err)
        return 2
    if args.list:
        for probe in battery.probes:
            cost = f" ~${probe.cost:.4f}" if probe.generates else ""
            print(f"{probe.id}  ({probe.expect}{cost}) {probe.description}", file=out)
        print(
            f"{len(battery.probes)} probes: {len(battery.free)} free, "
            f"{len(battery.generating)} generating images",
            file=out,
        )
        return 0
    key = environ.get("TOGETHER_API_KEY", "").strip()
    if not key and args.upstream is None:
        print(
            "error: verify compares the fake with the real Together API and needs "
            "TOGETHER_API_KEY, which is not set. Set it, or compare with another server: "
            "--upstream http://127.0.0.1:8787/v1",
            file=err,
        )
        return 2
    upstream = args.upstream or DEFAULT_UPSTREAM

    def show(result: ProbeResult) -> None:
        if args.drift_only and not result.drift:
            return
        print(render_result(result, drift_only=args.drift_only), file=out, flush=True)

    try:
        report = run_verify(
            battery,
            upstream=upstream,
            api_key=key or PLACEHOLDER_KEY,
            spend_up_to=args.spend_up_to,
            record_dir=args.record,
            environ=environ,
            on_result=show,
        )
    except ValueError as error:
        print(f"error: {error}", file=err)
        return 2
    print(render_summary(report), file=out, flush=True)
    if args.report:
        path = Path(args.report)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n")
    return report.exit_status()
