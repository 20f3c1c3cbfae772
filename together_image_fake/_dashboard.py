"""The human dashboard served at ``GET /_fake/``: one self-contained page, no external assets.

The page is a single HTML file shipped as package data (``_dashboard.html``: inline CSS and vanilla
JavaScript, no build step). In the browser it polls the control API of the same origin
(``/_fake/calls``) about once a second and patches the call log in place (newest first, diffed by
sequence number), shows thumbnails from ``/_fake/images/…`` and ``/_fake/inputs/…``, filters by
model and status, and resets the fake through ``POST /_fake/reset``. Server data reaches the page
only through ``textContent``, so prompts and error messages cannot inject markup, and credential
headers are never shown. As a second line of defence the page carries a Content-Security-Policy
that allows only its own inline script and style (by hash) and same-origin requests.
"""

from __future__ import annotations

import base64
import hashlib
from importlib.resources import files


def dashboard_html() -> str:
    """Return the dashboard page.

    Returns:
        The complete HTML document (UTF-8 text) to serve as ``text/html; charset=utf-8`` at
        ``GET /_fake/``. It loads nothing from other hosts and works offline.
    """
    page = files("together_image_fake").joinpath("_dashboard.html").read_text(encoding="utf-8")
    # Hashing at run time keeps the policy matching the inline blocks after every edit of the page.
    page = page.replace("SCRIPT_HASH", _csp_hash(_between(page, "<script>", "</script>")), 1)
    return page.replace("STYLE_HASH", _csp_hash(_between(page, "<style>", "</style>")), 1)


def _between(text: str, start: str, end: str) -> str:
    return text.partition(start)[2].partition(end)[0]


def _csp_hash(source: str) -> str:
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")
