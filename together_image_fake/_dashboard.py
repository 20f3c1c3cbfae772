"""The human dashboard served at ``GET /_fake/``: one self-contained HTML page, no external assets."""

from __future__ import annotations


def dashboard_html() -> str:
    """Return the dashboard page as HTML text (it reads ``/_fake/calls`` from the same origin)."""
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>together-image fake</title></head>"
        "<body><h1>together-image fake</h1><p>Calls: <a href='/_fake/calls'>/_fake/calls</a></p>"
        "</body></html>"
    )
