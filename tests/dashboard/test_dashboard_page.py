"""Static checks of the dashboard page: self-contained, escapes by construction, self-refreshing."""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser

import pytest

from together_image_fake._dashboard import dashboard_html


class _PageParser(HTMLParser):
    """Collects the tags, attributes and inline script/style text of one page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.script = ""
        self.style = ""
        self._inside: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._inside = tag

    def handle_endtag(self, tag: str) -> None:
        if tag == self._inside:
            self._inside = None

    def handle_data(self, data: str) -> None:
        if self._inside == "script":
            self.script += data
        elif self._inside == "style":
            self.style += data


@pytest.fixture(scope="module")
def page() -> _PageParser:
    parser = _PageParser()
    parser.feed(dashboard_html())
    parser.close()
    return parser


def test_is_an_html_document_with_one_inline_script_and_style(page: _PageParser) -> None:
    html = dashboard_html()
    assert html.lower().startswith("<!doctype html>")
    assert ("meta", {"charset": "utf-8"}) in page.tags
    assert [tag for tag, _ in page.tags].count("script") == 1
    assert [tag for tag, _ in page.tags].count("style") == 1
    assert page.script.strip()
    assert page.style.strip()


def test_loads_nothing_from_anywhere_else(page: _PageParser) -> None:
    html = dashboard_html()
    assert re.findall(r"(?i)\b(?:https?|wss?|ftp):", html) == []
    fetched = re.findall(r"fetch\(([^,)]+)", page.script)
    assert fetched
    assert all(target.startswith("base + ") for target in fetched), fetched
    for tag, attrs in page.tags:
        assert "src" not in attrs, f"<{tag}> loads {attrs['src']!r}"
        href = attrs.get("href")
        assert href is None or href.startswith("data:"), f"<{tag}> links to {href!r}"
    assert "@import" not in page.style
    assert "url(" not in page.style


@pytest.mark.parametrize(
    "sink",
    ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"],
)
def test_never_parses_server_data_as_markup_or_code(page: _PageParser, sink: str) -> None:
    assert sink not in page.script


def test_only_the_fakes_own_paths_become_image_sources(page: _PageParser) -> None:
    assert 'value.startsWith("/_fake/")' in page.script
    assert ".filter(isFakePath)" in page.script
    assert "isFakePath(call.input_image)" in page.script


@pytest.mark.parametrize("header", ["authorization", "x-api-key"])
def test_credential_headers_are_masked_whatever_the_server_sends(
    page: _PageParser, header: str
) -> None:
    secret_set = re.search(r"SECRET_HEADERS = new Set\(\[(.*?)\]\)", page.script)
    assert secret_set is not None
    assert f'"{header}"' in secret_set.group(1)


def test_polls_the_call_log_and_resets_through_the_control_api(page: _PageParser) -> None:
    assert re.search(r"POLL_MS = \d+;", page.script)
    assert 'fetch(base + "calls"' in page.script
    assert 'fetch(base + "reset", { method: "POST" })' in page.script
    assert "setTimeout(" in page.script
    assert "location.reload" not in page.script


def test_every_element_the_script_looks_up_exists(page: _PageParser) -> None:
    ids = {attrs["id"] for _, attrs in page.tags if attrs.get("id")}
    looked_up = set(re.findall(r'getElementById\("([^"]+)"\)', page.script))
    assert looked_up
    assert looked_up <= ids, f"missing ids: {sorted(looked_up - ids)}"


def test_content_security_policy_allows_only_the_pages_own_script_and_style(
    page: _PageParser,
) -> None:
    policies = [
        attrs["content"] or ""
        for tag, attrs in page.tags
        if tag == "meta" and attrs.get("http-equiv") == "Content-Security-Policy"
    ]
    assert len(policies) == 1
    directives = {}
    for directive in policies[0].split(";"):
        name, _, value = directive.strip().partition(" ")
        directives[name] = value

    def sha256(text: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"

    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == sha256(page.script)
    assert directives["style-src"] == sha256(page.style)
    assert directives["connect-src"] == "'self'"
    assert directives["img-src"] == "'self' data:"
