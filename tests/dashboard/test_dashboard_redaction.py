"""The dashboard in headless Chromium never shows a credential a request carried."""

from __future__ import annotations

import requests

from together_image_fake import FakeTogetherServer

from ._browser import Browser

ROWS = "document.querySelectorAll('#calls .call')"
CREDENTIALS = {
    "Authorization": "Bearer sk-dashboard-redaction-0123456789",
    "Api-Key": "api-key-dashboard-secret-0123456789",
    "X-Together-Api-Key": "together-dashboard-secret-0123456789",
    "X-Auth-Token": "auth-token-dashboard-secret-0123456789",
    "Cookie": "session=cookie-dashboard-secret-0123456789",
    "Proxy-Authorization": "Basic cHJveHktZGFzaGJvYXJkLXNlY3JldDAx",
}
BODY_KEY = "body-dashboard-secret-0123456789"


def test_item11_dashboard_never_shows_a_credential(
    dashboard_browser: Browser, together_fake_server: FakeTogetherServer
) -> None:
    answer = requests.post(
        f"{together_fake_server.base_url}/images/generations",
        json={
            "model": "black-forest-labs/FLUX.1-schnell",
            "prompt": "a quetzal",
            "api_key": BODY_KEY,
        },
        headers=CREDENTIALS,
        timeout=10,
    )
    assert answer.status_code < 500, answer.text
    page = dashboard_browser.new_page()
    page.navigate(f"{together_fake_server.origin}/_fake/")
    page.wait_for(f"{ROWS}.length === 1")
    # Open every folded section, so whatever the page holds is rendered.
    page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")
    html = page.evaluate("document.documentElement.outerHTML")
    text = page.evaluate("document.body.innerText")
    for value in [*CREDENTIALS.values(), BODY_KEY]:
        # The credential part: after an auth scheme, after a cookie's name.
        secret = value.rsplit(" ", 1)[-1].partition("session=")[2] or value.rsplit(" ", 1)[-1]
        assert secret not in html
        assert secret not in text
    # The headers are still listed by name.
    assert "api-key" in text.lower()
    assert page.exceptions() == []
