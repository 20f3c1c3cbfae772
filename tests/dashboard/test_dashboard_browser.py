"""The dashboard in a real headless Chromium: live refresh, thumbnails, filters, reset, no XSS."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import requests
from PIL import Image

from together_image_fake import FakeTogetherServer

from ._browser import Browser

XSS_PROMPT = '<img src=x onerror="window.__xss = 1">a quetzal <b>not bold</b>'
API_KEY = "sk-dashboard-secret-0123456789"

ROWS = "document.querySelectorAll('#calls .call')"
VISIBLE_ROWS = f"[...{ROWS}].filter((row) => !row.hidden).length"
LOADED_THUMBS = (
    "[...document.querySelectorAll('#calls img.thumb')]"
    ".filter((img) => img.complete && img.naturalWidth > 0).length"
)


def _generate(base_url: str, **body: object) -> requests.Response:
    return requests.post(
        f"{base_url}/images/generations",
        json=body,
        headers={"Authorization": f"Bearer {API_KEY}"},
        timeout=10,
    )


def test_live_log_thumbnails_filters_and_reset(
    dashboard_browser: Browser, together_fake_server: FakeTogetherServer, tmp_path: Path
) -> None:
    origin = together_fake_server.origin
    page = dashboard_browser.new_page()
    page.navigate(f"{origin}/_fake/")
    page.wait_for("document.getElementById('status').textContent.startsWith('0 calls')")
    page.evaluate("window.__sameDocument = true")

    schnell = "black-forest-labs/FLUX.1-schnell"
    first = _generate(
        together_fake_server.base_url, model=schnell, prompt="a quetzal", width=512, height=512
    )
    second = _generate(together_fake_server.base_url, model=schnell, prompt=XSS_PROMPT, steps=4)
    failing = _generate(together_fake_server.base_url, model="no-such/model", prompt="a heron")
    assert (first.status_code, second.status_code, failing.status_code) == (200, 200, 404)

    # Live refresh: the rows and both thumbnails arrive without a reload.
    page.wait_for(f"{ROWS}.length === 3")
    page.wait_for(f"{LOADED_THUMBS} === 2")
    assert page.evaluate("window.__sameDocument") is True
    seqs = page.evaluate(f"[...{ROWS}].map((row) => Number(row.dataset.seq))")
    assert seqs == sorted(seqs, reverse=True), "newest call first"
    newest = page.evaluate(f"{ROWS}[0].textContent")
    assert "404" in newest
    assert "model_not_available" in newest
    assert "no-such/model" in newest
    oldest = page.evaluate(f"{ROWS}[2].textContent")
    assert "512×512" in oldest
    assert "a quetzal" in oldest

    # The hostile prompt is shown as text and never becomes markup.
    assert page.evaluate(f"{ROWS}[1].querySelector('.prompt').textContent") == XSS_PROMPT
    assert page.evaluate("window.__xss") is None
    assert page.evaluate("document.querySelectorAll('#calls b').length") == 0
    assert API_KEY not in page.evaluate("document.documentElement.outerHTML")

    page.screenshot(tmp_path / "dashboard.png")

    page.evaluate(
        "(() => { const s = document.getElementById('status-filter'); s.value = 'failed';"
        " s.dispatchEvent(new Event('change')); })()"
    )
    assert page.evaluate(VISIBLE_ROWS) == 1
    page.evaluate(
        "(() => { const s = document.getElementById('status-filter'); s.value = '';"
        " s.dispatchEvent(new Event('change'));"
        f" const m = document.getElementById('model-filter'); m.value = '{schnell}';"
        " m.dispatchEvent(new Event('change')); })()"
    )
    assert page.evaluate(VISIBLE_ROWS) == 2

    page.click("#reset")
    page.wait_for(f"{ROWS}.length === 0")
    assert page.evaluate("document.getElementById('empty').hidden") is False

    assert (tmp_path / "dashboard.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert page.exceptions() == []
    assert [url for url in page.requested_urls() if not url.startswith(f"{origin}/_fake/")] == []


HOSTILE_PROMPTS = [
    "</script><script>window.__xss = 2</script>",
    "&lt;b&gt; stays an entity &amp; <!-- not a comment -->",
    '" onmouseover="window.__xss = 3" x="',
    "javascript:window.__xss = 4",
    "mixed scripts: 鳥 ‏עברית‏ 🦜\nsecond line",
]


def test_prompts_render_verbatim_and_edits_show_their_input_image(
    dashboard_browser: Browser, together_fake_server: FakeTogetherServer
) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (200, 150), (200, 120, 40)).save(buffer, format="PNG")
    data_url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    kontext = "black-forest-labs/FLUX.1-kontext-pro"
    edit = _generate(
        together_fake_server.base_url, model=kontext, prompt="make it snow", image_url=data_url
    )
    assert edit.status_code == 200, edit.text
    for prompt in HOSTILE_PROMPTS:
        answer = _generate(
            together_fake_server.base_url, model="black-forest-labs/FLUX.1-schnell", prompt=prompt
        )
        assert answer.status_code == 200, answer.text

    page = dashboard_browser.new_page()
    page.navigate(f"{together_fake_server.origin}/_fake/")
    page.wait_for(f"{ROWS}.length === {len(HOSTILE_PROMPTS) + 1}")
    shown = page.evaluate(f"[...{ROWS}].map((row) => row.querySelector('.prompt').textContent)")
    assert shown == [*reversed(HOSTILE_PROMPTS), "make it snow"]
    assert page.evaluate("window.__xss") is None

    edit_row = f"{ROWS}[{len(HOSTILE_PROMPTS)}]"
    page.wait_for(
        f"[...{edit_row}.querySelectorAll('img.thumb')]"
        ".every((img) => img.complete && img.naturalWidth > 0)"
    )
    assert page.evaluate(
        f"[...{edit_row}.querySelectorAll('figcaption')].map((c) => c.textContent)"
    ) == [
        "input",
        "image 0",
    ]
    assert page.evaluate(f"{edit_row}.querySelector('img.thumb').naturalWidth") == 200
    body_text = page.evaluate(f"{edit_row}.querySelector('pre.body').textContent")
    assert f"({len(data_url)} chars)" in body_text
    assert data_url not in body_text
    assert page.exceptions() == []
