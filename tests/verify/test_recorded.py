"""``verify`` against a replayed real recording: the 2026-08-17 ``GET /v1/models`` [REC]."""

from __future__ import annotations

from pathlib import Path

from together_image_fake import FakeTogetherServer
from together_image_fake._probes import build_battery
from together_image_fake._replay import CassettePlayer
from together_image_fake._verify import run_verify

from .conftest import KEY

LISTING = Path(__file__).resolve().parents[2] / "fixtures" / "models-list-2026-08-17.json"


def test_the_fake_serves_the_image_models_the_real_listing_named() -> None:
    player = CassettePlayer(LISTING, on_mismatch="respond")
    with FakeTogetherServer(player) as upstream:
        report = run_verify(
            build_battery(rules=["listing"]), upstream=upstream.base_url, api_key=KEY
        )
    (result,) = report.results
    assert result.real.status == 200
    rows = {row.check: row for row in result.rows}
    assert rows["image models"].same, rows["image models"].verdict()
    assert rows["image models"].real == "30 image models"
    # Whatever else differs is reported row by row, and decides the exit status.
    assert report.exit_status() == (1 if any(not row.same for row in result.rows) else 0)
