"""Keeping secrets out of cassettes: a scrubbing pass, then a scan that refuses to save.

``Scrubber`` removes what is known to be secret before anything is written: credential headers
(dropped, only their names kept), credential query parameters and JSON fields (value replaced by
``SCRUBBED``), and every occurrence of a known secret value (API keys given by the caller, read
from ``TOGETHER_API_KEY``, or seen in an ``Authorization`` header while recording) in URLs, header
values, texts and JSON strings. ``scan()`` is the last line of defence: it walks the document about
to be written and its sidecar blobs and reports every known secret, key-shaped string and
high-entropy token it still finds, so the caller can refuse to save. Findings never quote the
secret itself, only where it is, what kind it is and how long.
"""

from __future__ import annotations

import base64
import binascii
import math
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote, quote_plus, unquote, unquote_plus

SCRUBBED = "<scrubbed>"
"""What a scrubbed value is replaced with."""

SECRET_ENV_VARS: tuple[str, ...] = ("TOGETHER_API_KEY", "TOGETHER_AI_API_KEY")
"""Environment variables whose values are always treated as known secrets."""

MIN_SECRET_LENGTH = 6
"""Shorter known secrets are not searched for: they would match ordinary text."""

# What counts as a credential is said once, here, and read through ``is_secret_header`` and
# ``is_secret_field`` by the scrubber, the scan and the call log's redaction [INF].
#
# Header names that carry credentials: whole names, or a credential word between dashes
# (``X-Together-Api-Key``, ``X-Auth-Token``, ``X-Goog-Authorization``), so that rate-limit headers
# such as ``X-Ratelimit-Limit-Tokens`` (a count) are kept.
_SECRET_HEADER = re.compile(
    r"^(?:authorization|proxy-authorization|cookie|set-cookie|x-api-key|api-key)$"
    r"|(?:^|-)(?:token|secret|password|passwd|api-?key|session|credentials?|auth"
    r"|authorization|cookie)(?:$|-)",
    re.IGNORECASE,
)
# JSON field and query parameter names that carry credentials, as one alternation shared by the
# field rule and the query-in-text rule. An optional ``x-``/``x_`` prefix (``x-api-key`` as a
# query parameter) and a ``<something>_`` prefix before the unambiguous words
# (``together_api_key``, ``db_password``, ``client_secret``) are allowed.
_CREDENTIAL_WORDS = (
    r"api[_-]?key|apikey|key|access[_-]?token|refresh[_-]?token|id[_-]?token|auth[_-]?token"
    r"|token|secret|client[_-]?secret|password|passwd|authorization|auth|signature|sig"
    r"|x-amz-signature|x-amz-credential|x-amz-security-token"
)
_CREDENTIAL_SUFFIXES = r"api[_-]?key|apikey|secret|password|passwd|access[_-]?token|auth[_-]?token"
_SECRET_FIELD_NAME = (
    rf"(?:x[_-])?(?:{_CREDENTIAL_WORDS})"
    rf"|[A-Za-z0-9]+(?:[_-][A-Za-z0-9]+)*[_-](?:{_CREDENTIAL_SUFFIXES})"
)
_SECRET_FIELD = re.compile(rf"^(?:{_SECRET_FIELD_NAME})$", re.IGNORECASE)
# A credential query parameter inside any text (e.g. a presigned URL in a response body).
_SECRET_QUERY_IN_TEXT = re.compile(
    rf"(?P<head>[?&](?:{_SECRET_FIELD_NAME})=)(?P<value>[^&#\s\"'<>]+)", re.IGNORECASE
)
_PERCENT_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_SCRUBBED_FORMS = frozenset({SCRUBBED, quote(SCRUBBED, safe=""), quote_plus(SCRUBBED)})
# An Authorization-style value: a scheme word, then the credential.
_SCHEME_VALUE = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9._~+-]*)\s+(?P<credential>\S.*)$")
_BEARER = re.compile(r"\bbearer\s+(?P<token>[A-Za-z0-9._~+/=-]{8,})", re.IGNORECASE)

# Shapes of API keys [INF]: Together's current ``tgp_v1_…`` keys, OpenAI-style ``sk-…`` keys,
# and generic ``key: value`` assignments left in free text.
_KEY_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    # Not after a letter or digit, but after ``_`` (``KEY_tgp_v1_…``), which ``\b`` would miss.
    ("Together-style API key", re.compile(r"(?<![A-Za-z0-9])tgp_v\d+_[A-Za-z0-9_-]{16,}")),
    ("sk- style API key", re.compile(r"(?<![A-Za-z0-9])sk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}")),
    (
        "credential assignment",
        re.compile(
            r"(?i)\b(?:api[_-]?key|access[_-]?token|secret|password)\b[\"']?\s*[:=]\s*[\"']?"
            r"(?!<scrubbed>)[A-Za-z0-9._~+/=-]{8,}"
        ),
    ),
    (
        # A credential header written out in text (an echoed request, a debug dump), whatever
        # its scheme: ``X-Api-Key: …``, ``Authorization: Token …``, ``authorization: custom …``.
        "credential header",
        re.compile(
            r"(?i)(?<![A-Za-z0-9-])(?:(?:proxy-)?authorization|x-api-key|api-key|x-auth-token"
            r"|x-together-api-key|cookie)[\"']?\s*[:=]\s*[\"']?(?!<scrubbed>)"
            r"(?:[A-Za-z][A-Za-z0-9._~+-]*\s+)?[A-Za-z0-9._~+/=-]{6,}"
            # Not a scheme word whose credential was scrubbed (``Bearer <scrubbed>``).
            r"(?![A-Za-z0-9._~+/=-]|\s+<scrubbed>)"
        ),
    ),
)

# Benign high-entropy strings the real API and the fake produce; removed before the token scan.
DEFAULT_ALLOW: tuple[str, ...] = (
    r'W/"[0-9a-f]+-[A-Za-z0-9+/]{27}"',  # Etag (Express weak Etag over the body) [REC]
    r"\b[A-Za-z0-9]{7}-[A-Za-z0-9]{6}-[0-9a-f]{16}(?:-[A-Z]{3})?\b",  # response ids [REC]
    r"\b[0-9a-f]{64}\.(?:jpe?g|png|webp|gif|bin|txt)\b",  # content-addressed file names
)

_TOKEN = re.compile(r"[A-Za-z0-9_+/=.-]{24,}")
_MIN_TOKEN = 24
_HEX_RUN = re.compile(r"(?<![A-Za-z0-9])[0-9a-fA-F]{32,}(?![A-Za-z0-9])")
ENTROPY_THRESHOLD = 4.0
"""Bits per character from which a long mixed-alphabet token counts as random (a key) [INF]."""
_SLUG_PART_MAX = 16
_SLUG_MEAN_PART = 10

FindingKind = Literal["known secret", "key shape", "credential field", "high-entropy token"]


@dataclass(frozen=True, kw_only=True)
class SecretFinding:
    """Something in a cassette that looks like a secret.

    Attributes:
        where: Location, e.g. ``interactions[0].request.headers.X-Custom`` or ``blob <name>``.
        kind: ``"known secret"``, ``"key shape"`` (with the shape's name in ``detail``),
            ``"credential field"`` (a credential header, JSON field or query parameter that
            still has a value) or ``"high-entropy token"``.
        detail: A description that never contains the secret itself.
    """

    where: str
    kind: FindingKind
    detail: str

    def __str__(self) -> str:
        return f"{self.where}: {self.kind} ({self.detail})"


def secrets_from_environment(environ: Mapping[str, str] | None = None) -> list[str]:
    """Return the values of ``SECRET_ENV_VARS`` that are set (empty values skipped)."""
    env = os.environ if environ is None else environ
    return [env[name] for name in SECRET_ENV_VARS if env.get(name)]


class Scrubber:
    """Removes credentials and known secret values from recorded traffic.

    Args:
        secrets: Secret values to remove wherever they appear.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        for secret in secrets:
            self.learn(secret)

    @property
    def secrets(self) -> frozenset[str]:
        """The known secret values (long enough to search for)."""
        return frozenset(self._secrets)

    def learn(self, secret: str) -> None:
        """Treat ``secret`` as a known secret from now on (ignored when too short to search)."""
        secret = secret.strip()
        if len(secret) >= MIN_SECRET_LENGTH and secret != SCRUBBED:
            self._secrets.add(secret)

    def learn_from_headers(self, headers: Iterable[tuple[str, str]]) -> None:
        """Learn the credentials a request carries: the whole value of every credential header,
        and for a ``<scheme> <credential>`` value (``Bearer``, ``bearer``, ``Token``, a custom
        scheme) the credential alone too, and for ``Basic`` its decoded ``user:password`` and
        password, so an echo of any part is scrubbed."""
        for name, value in headers:
            if not is_secret_header(name):
                continue
            self.learn(value)
            match = _SCHEME_VALUE.match(value.strip())
            if match is None:
                continue
            credential = match.group("credential").strip()
            self.learn(credential)
            if match.group("scheme").lower() == "basic":
                decoded = _basic_credentials(credential)
                if decoded is not None:
                    self.learn(decoded)
                    self.learn(decoded.partition(":")[2])

    def text(self, text: str) -> str:
        """Return ``text`` with known secrets and credential query values replaced."""
        for secret in sorted(self._secrets, key=len, reverse=True):
            for form in _forms(secret):
                text = text.replace(form, SCRUBBED)
        return _SECRET_QUERY_IN_TEXT.sub(lambda m: m.group("head") + SCRUBBED, text)

    def headers(
        self, headers: Iterable[tuple[str, str]]
    ) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
        """Split headers into the kept ones (values scrubbed) and the names of dropped ones.

        Returns:
            ``(kept, dropped_names)``.
        """
        kept: list[tuple[str, str]] = []
        dropped: list[str] = []
        for name, value in headers:
            if is_secret_header(name):
                dropped.append(name)
            else:
                kept.append((name, self.text(value)))
        return tuple(kept), tuple(dropped)

    def json(self, value: Any) -> Any:
        """Return a copy of a JSON value with credential fields and known secrets scrubbed."""
        if isinstance(value, dict):
            return {
                key: SCRUBBED
                if is_secret_field(key) and isinstance(item, str) and item
                else self.json(item)
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [self.json(item) for item in value]
        if isinstance(value, str):
            return self.text(value)
        return value


def is_secret_header(name: str) -> bool:
    """Whether a header of this name carries credentials (never recorded, redacted in logs).

    The one rule for credential headers: ``Authorization``, ``Proxy-Authorization``,
    ``Cookie``/``Set-Cookie``, ``X-Api-Key``, ``Api-Key``, and any name with a credential word
    between dashes (``X-Together-Api-Key``, ``X-Auth-Token``, ``X-Session-Id``), case-insensitive.
    Counting headers such as ``X-Ratelimit-Limit-Tokens`` are not credentials.
    """
    return bool(_SECRET_HEADER.search(name))


def is_secret_field(name: str) -> bool:
    """Whether a JSON field or query parameter of this name carries credentials.

    The one rule for credential fields: ``api_key``/``apiKey``/``api-key``, ``key``, ``token``
    and its ``access_``/``refresh_``/``id_``/``auth_`` forms, ``secret``, ``client_secret``,
    ``password``/``passwd``, ``authorization``/``auth``, signatures (``sig``,
    ``X-Amz-Signature``…), an ``x-`` prefixed form of these, and any ``<name>_api_key``,
    ``<name>_secret``, ``<name>_password`` or ``<name>_token``-like compound
    (``together_api_key``), case-insensitive. ``max_tokens`` is not one.
    """
    return bool(_SECRET_FIELD.match(name))


def _basic_credentials(encoded: str) -> str | None:
    try:
        return base64.b64decode(encoded, validate=True).decode()
    except (binascii.Error, ValueError):
        return None


def _forms(secret: str) -> tuple[str, ...]:
    """The ways a secret may be written: as is, percent-encoded, form-encoded."""
    # safe="" escapes "/" too (a mutant's safe="XXXX" would only spare "X", never escaped anyway).
    escaped = quote(secret, safe="")  # pragma: no mutate
    return tuple(dict.fromkeys((secret, escaped, quote_plus(secret))))


def shannon_entropy(text: str) -> float:
    """Return the Shannon entropy of ``text`` in bits per character (0 for empty text)."""
    if not text:
        return 0.0
    total = len(text)
    return -sum(n / total * math.log2(n / total) for n in Counter(text).values())


def scan(
    document: Any,
    *,
    blobs: Mapping[str, bytes] | None = None,
    secrets: Iterable[str] = (),
    allow: Iterable[str] = (),
) -> list[SecretFinding]:
    """Find what still looks like a secret in a cassette document and its blobs.

    Every string of the document (keys and values), as written and percent-decoded, is checked
    for known secrets (also percent-encoded), key shapes (bearer tokens of any case, ``tgp_…``/
    ``sk-…`` keys, ``api_key=…``, credential headers written out in text) and high-entropy tokens
    (24+ characters of a key alphabet with entropy of at least ``ENTROPY_THRESHOLD`` bits per
    character, or 32+ hex digits). Credential fields (``is_secret_field``), credential headers
    (``is_secret_header``) and credential query parameters that still hold a value other than
    ``SCRUBBED`` are reported whatever the value. Blobs are checked for known secrets only
    (images are high-entropy by nature).

    Args:
        document: The JSON document about to be written.
        blobs: Sidecar files about to be written, by name.
        secrets: Known secret values.
        allow: Regular expressions of benign strings to ignore (added to ``DEFAULT_ALLOW``).

    Returns:
        The findings, in document order; empty when the cassette is clean.
    """
    known = [s for s in dict.fromkeys(s.strip() for s in secrets) if len(s) >= MIN_SECRET_LENGTH]
    allowed = [re.compile(pattern) for pattern in (*DEFAULT_ALLOW, *allow)]
    findings: list[SecretFinding] = []
    for where, text in _strings(document):
        found = list(_scan_text(where, text, known, allowed))
        if _PERCENT_ESCAPE.search(text):
            # A key percent-encoded (``tgp%5Fv1%5F…``, ``Bearer%20…``) in a URL or a form body
            # hides from every pattern above until decoded. (``+`` stays: base64 Etags hold it.)
            decoded = unquote(text)
            if decoded != text:
                found.extend(_scan_text(where + " (decoded)", decoded, known, allowed))
        findings.extend(_distinct(found))
    findings.extend(_credential_fields(document, ""))
    for name, data in (blobs or {}).items():
        for index, secret in enumerate(known):
            if any(form.encode() in data for form in _forms(secret)):
                findings.append(
                    SecretFinding(
                        where=f"blob {name}",
                        kind="known secret",
                        detail=f"known secret #{index + 1}, {len(secret)} characters",
                    )
                )
    return findings


def _distinct(findings: list[SecretFinding]) -> list[SecretFinding]:
    """Drop a decoded-text finding that repeats one of the raw text (same kind and detail)."""
    seen: set[tuple[str, str]] = set()
    kept: list[SecretFinding] = []
    for finding in findings:
        if (finding.kind, finding.detail) not in seen:
            seen.add((finding.kind, finding.detail))
            kept.append(finding)
    return kept


def _credential_fields(value: Any, where: str) -> Iterator[SecretFinding]:
    """Credential fields, headers and query parameters that still hold a value.

    The scrubber replaces every one of them, so a value left in one (however short or plain:
    ``"password": "hunter2"``) is a leak, whatever its shape.
    """
    if isinstance(value, dict):
        in_headers = where.endswith("headers")
        for key, item in value.items():
            path = f"{where}.{key}" if where else str(key)
            key_text = str(key)
            credential = is_secret_field(key_text) or (in_headers and is_secret_header(key_text))
            if credential and isinstance(item, str) and item and item not in _SCRUBBED_FORMS:
                yield SecretFinding(
                    where=path,
                    kind="credential field",
                    detail=f"a value of {len(item)} characters where a credential goes",
                )
            else:
                yield from _credential_fields(item, path)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _credential_fields(item, f"{where}[{index}]")
    elif isinstance(value, str):
        for match in _SECRET_QUERY_IN_TEXT.finditer(value):
            if unquote_plus(match.group("value")) not in _SCRUBBED_FORMS:
                name = match.group("head")[1:-1]
                yield SecretFinding(
                    where=where,
                    kind="credential field",
                    detail=f"query parameter {name} with a value of {len(match.group('value'))}"
                    " characters",
                )


def _strings(value: Any, where: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{where}.{key}" if where else str(key)
            yield path + " (name)", str(key)
            # Content hashes are named by their field; they are checksums, not credentials.
            if key == "sha256" and isinstance(item, str):
                continue
            yield from _strings(item, path)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{where}[{index}]")
    elif isinstance(value, str):
        yield where, value


def _scan_text(
    where: str, text: str, known: list[str], allowed: list[re.Pattern[str]]
) -> Iterator[SecretFinding]:
    for index, secret in enumerate(known):
        if any(form in text for form in _forms(secret)):
            yield SecretFinding(
                where=where,
                kind="known secret",
                detail=f"known secret #{index + 1}, {len(secret)} characters",
            )
    for match in _BEARER.finditer(text):
        yield SecretFinding(
            where=where,
            kind="key shape",
            detail=f"bearer token, {len(match.group('token'))} characters",
        )
    for name, shape in _KEY_SHAPES:
        for match in shape.finditer(text):
            yield SecretFinding(
                where=where, kind="key shape", detail=f"{name}, {len(match.group(0))} characters"
            )
    residue = text
    for pattern in allowed:
        residue = pattern.sub(" ", residue)
    for match in _HEX_RUN.finditer(residue):
        yield SecretFinding(
            where=where,
            kind="high-entropy token",
            detail=f"{len(match.group(0))} hex digits",
        )
    residue = _HEX_RUN.sub(" ", residue)
    for match in _TOKEN.finditer(residue):
        # Path segments are judged one by one: a URL or file path is many short words.
        for segment in match.group(0).split("/"):
            if len(segment) < _MIN_TOKEN or _is_slug(segment):
                continue
            classes = sum(
                (
                    any(c.islower() for c in segment),
                    any(c.isupper() for c in segment),
                    any(c.isdigit() for c in segment),
                )
            )
            entropy = shannon_entropy(segment)
            if classes >= 2 and entropy >= ENTROPY_THRESHOLD:
                yield SecretFinding(
                    where=where,
                    kind="high-entropy token",
                    detail=f"{len(segment)} characters, {entropy:.1f} bits/char",
                )


def _is_slug(segment: str) -> bool:
    """Words joined by ``-``, ``_`` or ``.`` (a model id, a file name), not one random run.

    Separators are frequent in slugs (one every few letters) and rare in random base64url keys
    (about one in 32 characters), which is what tells them apart.
    """
    parts = [part for part in re.split(r"[-_.]", segment) if part]
    return (
        len(parts) >= 2
        and max(map(len, parts)) <= _SLUG_PART_MAX
        and sum(map(len, parts)) / len(parts) <= _SLUG_MEAN_PART
    )
