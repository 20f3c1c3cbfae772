"""The human dashboard served at ``GET /_fake/``: one self-contained page, no external assets.

The page is a single HTML file shipped as package data (``_dashboard.html``: inline CSS and vanilla
JavaScript, no build step). In the browser it polls the control API of the same origin
(``/_fake/calls``) about once a second and patches the call log in place (newest first, diffed by
sequence number), shows thumbnails from ``/_fake/images/…`` and ``/_fake/inputs/…``, filters by
model and status, and resets the fake through ``POST /_fake/reset``. Server data reaches the page
only through ``textContent``, so prompts and error messages cannot inject markup, and credential
headers are never shown.
"""

from __future__ import annotations

from importlib.resources import files


def dashboard_html() -> str:
    """Return the dashboard page.

    Returns:
        The complete HTML document (UTF-8 text) to serve as ``text/html; charset=utf-8`` at
        ``GET /_fake/``. It loads nothing from other hosts and works offline.
    """
    return files("together_image_fake").joinpath("_dashboard.html").read_text(encoding="utf-8")
