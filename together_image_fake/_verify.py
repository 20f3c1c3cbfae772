"""``together-image-fake verify``: measure the fake's drift from an upstream, probe by probe.

Each probe of the battery (``_probes``) goes to the upstream through ``TogetherProxy`` (the real
API by default, or any base URL) and, unchanged, to a local ``FakeTogether`` through its public
``handle()``. ``_drift.compare()`` turns the two answers into rows (status; ``error`` type, code,
param and message; the body's keys in order; the timings style; every header the fake claims to
reproduce), each the same or different, so a probe drifts when any row differs. Cost comes first:
probes the table expects to be rejected cost nothing and are the only ones sent by default; probes
that generate images run only under a spending cap, each estimated before it is sent, and the run
stops before the estimate would pass the cap (or once probes the upstream accepted against
expectation have cost more than it). With a record directory every upstream exchange is recorded
by the usual recorder (scrubbed as it arrives) and saved as one cassette per probe (scanned),
tagged [REC] with the date, the probe and the rule, so it can become a fixture.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, TextIO

from together_image_fake._backend import FakeTogether
from together_image_fake._cassette import Cassette
from together_image_fake._drift import Row, compare
from together_image_fake._interactions import CassetteError, Interaction
from together_image_fake._probes import (
    GENERATE_PATH,
    Battery,
    Probe,
    SelectionError,
    build_battery,
)
from together_image_fake._record import DEFAULT_UPSTREAM, CassetteRecorder, TogetherProxy
from together_image_fake._secrets import Scrubber, secrets_from_environment
from together_image_fake._wire import FakeRequest, FakeResponse

__all__ = ["ProbeResult", "VerifyReport", "add_verify_command", "run_verify"]

WRONG_KEY = "verify-deliberately-wrong-key"
"""The key the auth probe sends; never a real one."""

PLACEHOLDER_KEY = "verify-placeholder-key"
"""The key sent to an explicit ``--upstream`` when ``TOGETHER_API_KEY`` is not set."""

UNEXPECTED_SPEND_CAP = 1.0
"""Dollars that probes expected to be rejected may cost, when no cap is given, before the run
stops: the upstream accepting them is drift, and it is billed."""

RATE_LIMIT_RETRIES = 2
"""How many 429 answers in a row a probe waits out before its 429 is compared."""

_DEFAULT_RETRY_S = 10.0
_MAX_RETRY_S = 60.0


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
        stopped_before: The probe the run stopped before (a generating probe whose estimate
            would pass the cap, or any probe once the spend has passed it), or ``None``.
        stop_reason: Why the run stopped, or ``None``.
        spend_cap: The cap in dollars (``UNEXPECTED_SPEND_CAP`` when none was given).
        spent: Estimated dollars spent upstream (the sum of the results' ``charged``).
        record_errors: Cassettes that could not be saved, with the reason.
    """

    upstream: str
    started_at: str
    battery: Battery
    results: tuple[ProbeResult, ...]
    skipped: tuple[Probe, ...] = ()
    stopped_before: Probe | None = None
    stop_reason: str | None = None
    spend_cap: float = UNEXPECTED_SPEND_CAP
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
            "stop_reason": self.stop_reason,
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
        spend_up_to: Dollars the run may spend; ``None`` sends no generating probe and allows
            ``UNEXPECTED_SPEND_CAP`` for probes the upstream accepts against expectation.
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
    cap = spend_up_to if spend_up_to is not None else UNEXPECTED_SPEND_CAP
    results: list[ProbeResult] = []
    skipped: list[Probe] = []
    stopped: Probe | None = None
    reason: str | None = None
    spent = 0.0
    try:
        for probe in battery.probes:
            if probe.generates and spend_up_to is None:
                skipped.append(probe)
                continue
            if probe.generates and spent + probe.cost > cap:
                stopped = probe
                reason = (
                    f"its estimate ${probe.cost:.4f} would bring the spend from ${spent:.4f} "
                    f"past the cap ${cap:.4f}"
                )
                break
            if spent > cap:
                # Only probes the upstream accepted against expectation can get here.
                stopped = probe
                reason = (
                    f"the upstream generated images for probes expected to be rejected, about "
                    f"${spent:.4f}, past the cap ${cap:.4f} (a higher --spend-up-to lets the run "
                    "go on)"
                )
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
        stop_reason=reason,
        spend_cap=cap,
        spent=spent,
        record_errors=tuple(runner.record_errors),
    )


class _Runner:
    """Sends one probe to both sides, records the upstream exchange, and compares.

    One proxy and one recorder serve the whole run; each probe's cassette is cut from the
    interactions the recorder gained while that probe was sent.
    """

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
        self.now = now
        self.sleep = sleep
        self.secrets = [api_key, WRONG_KEY, *secrets_from_environment(environ)]
        self.scrubber = Scrubber(self.secrets)
        self.recorder = None
        if record_dir is not None:
            # Only collects (each probe saves its own cassette); every key is known before the
            # first exchange, so each is scrubbed as it arrives.
            self.recorder = CassetteRecorder(
                record_dir / "verify.json", secrets=self.secrets, environ=environ
            )
        self.proxy = TogetherProxy(upstream, recorder=self.recorder)
        self.record_errors: list[str] = []

    def run(self, probe: Probe) -> ProbeResult:
        request = probe_request(probe, self.api_key)
        recorded_before = len(self.recorder.interactions) if self.recorder else 0
        real, waits = self.send_upstream(request)
        mine = self.fake.handle(request)
        # A generating probe counts at its estimate whatever the answer (what was billed is not
        # known here); a free one counts only if the upstream generated images for it anyway.
        charged = probe.cost if probe.generates or _generated(probe, real) else 0.0
        cassette = None
        if self.recorder is not None and self.record_dir is not None:
            # The last exchange is the answer compared; 429s waited out before it are left out.
            exchanges = self.recorder.interactions[recorded_before:][-1:]
            try:
                cassette = self.save(probe, exchanges, self.record_dir)
            except CassetteError as error:
                self.record_errors.append(f"{probe.id}: {error}")
        # An upstream that echoes the key (in an error message, say) must not put it in the
        # printed table or the JSON report, which CI logs and keeps.
        rows = tuple(
            replace(row, real=self.scrubber.text(row.real), fake=self.scrubber.text(row.fake))
            for row in compare(probe, real, mine)
        )
        return ProbeResult(
            probe=probe,
            rows=rows,
            real=real,
            fake=mine,
            charged=charged,
            cassette=cassette,
            rate_limited=waits,
        )

    def send_upstream(self, request: FakeRequest) -> tuple[FakeResponse, int]:
        """Send one probe upstream, waiting out rate limits (a 429 is the account's state, not
        an answer to the probe).

        Returns:
            ``(answer, how many 429 answers were waited out)``.
        """
        waits = 0
        while True:
            answer = self.proxy.handle(request)
            if answer.action != "respond" or answer.status != 429 or waits == RATE_LIMIT_RETRIES:
                return answer, waits
            waits += 1
            self.sleep(_retry_delay(answer))

    def save(self, probe: Probe, exchanges: Sequence[Interaction], directory: Path) -> Path:
        """Save a probe's exchange with [REC] provenance on every part (as ``fixtures/`` has)."""
        moment = self.now()
        day = moment.strftime("%Y-%m-%d")
        rules = ", ".join(probe.rules)
        provenance = {
            "request": f"[REC] {day} together-image-fake verify, probe {probe.id} (rule "
            f"{rules}): {probe.description}",
            "response.status": f"[REC] {day}",
            "response.headers": f"[REC] {day} as recorded",
            "response.body": f"[REC] {day} byte-exact from {self.upstream}",
        }
        meta = {
            "summary": f"{probe.description}: the table expects it {probe.expect} ({rules})",
            "recorded": day,
            "recorded_at": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "recorded_with": f"together-image-fake {_version()}",
            "source": f"[REC] together-image-fake verify against {self.upstream}",
            "probe": probe.id,
            "rules": list(probe.rules),
            "evidence": probe.evidence,
            "upstream": self.upstream,
        }
        cassette = Cassette(
            interactions=tuple(replace(item, provenance=provenance) for item in exchanges),
            meta=meta,
        )
        # Cassette.save scans for every known secret and refuses to write if one is left.
        return cassette.save(directory / f"{probe.filename}.json", secrets=self.secrets)

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


def _version() -> str:
    try:
        return metadata.version("together-image")
    except metadata.PackageNotFoundError:
        return "unknown"


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
        lines.append(f"Stopped before {report.stopped_before.id}: {report.stop_reason}")
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
