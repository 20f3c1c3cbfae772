"""Replaying cassettes: ``CassetteReplay``, the responder that answers from recorded interactions.

A fake whose responder is a ``CassetteReplay`` (``CassettePlayer(path)``,
``FakeTogether.from_cassette(path)``) is hosted unchanged by every adapter: in-process, the
loopback server, the WSGI app; the control API, call log and dashboard keep working. A request
matches an interaction on method, API path (``/v1/…`` or ``/shrt/…``, whatever the host), query
(scrubbed values match anything) and canonical JSON body minus the ignored fields (``seed`` is a
common one); headers are not compared. ``match()`` both decides and explains: it returns
``(ok, reasons)``. Interactions play once each, in order, unless ``allow_repeats``. When nothing
matches, ``CassetteMismatchError`` shows the request and the reasons against the nearest recorded
interactions, in the spirit of ``responses``' "no match" messages.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

from together_image_fake._backend import FakeTogether
from together_image_fake._calls import CallDetails
from together_image_fake._cassette import Cassette, api_path
from together_image_fake._errors import FakeAPIError, error_response
from together_image_fake._interactions import CassetteError, Interaction
from together_image_fake._secrets import SCRUBBED
from together_image_fake._state import FakeState
from together_image_fake._wire import FakeRequest, FakeResponse, etag

MismatchPolicy = Literal["raise", "respond"]

_NEAREST = 3
_SHOWN = 80
_SHRT_URL = re.compile(rb"https?://[^/\"\s]+(/shrt/[A-Za-z0-9]+)")
_ABSENT = object()


class CassetteMismatchError(CassetteError, AssertionError):
    """No recorded interaction matches a request (or every match was already played).

    Attributes:
        request: The request that found no match.
        report: The full explanation (also the message).
    """

    def __init__(self, request: FakeRequest, report: str) -> None:
        super().__init__(report)
        self.request = request
        self.report = report


@dataclass(frozen=True, kw_only=True)
class _Key:
    """What matching compares, for a recorded or an incoming request."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    body: Any


class CassetteReplay:
    """The responder that answers from a cassette.

    Args:
        cassette: The cassette.
        source: How reports name it (its path).
        ignore: Body fields left out of matching: top-level names (``"seed"``) or dotted paths
            (``"image_loras.0.scale"``).
        allow_repeats: Once every interaction matching a request has played, play the last one
            again instead of failing (useful for polling or retry loops).
        on_mismatch: ``"raise"`` raises ``CassetteMismatchError`` out of ``handle()`` (in-process
            tests fail with the report); ``"respond"`` answers 404 in the real error shape with
            the report as the message and code ``"cassette_mismatch"`` (for server mode).
        rewrite_urls: Point ``…/shrt/<id>`` image URLs in replayed bodies at the origin the
            client called (changes the bytes and Etag; needed in server mode to fetch images).
    """

    def __init__(
        self,
        cassette: Cassette,
        *,
        source: str = "<cassette>",
        ignore: Iterable[str] = (),
        allow_repeats: bool = False,
        on_mismatch: MismatchPolicy = "raise",
        rewrite_urls: bool = False,
    ) -> None:
        if on_mismatch not in ("raise", "respond"):
            raise ValueError(f"on_mismatch must be 'raise' or 'respond', got {on_mismatch!r}")
        self.source = source
        self.cassette = cassette
        self.ignore = tuple(ignore)
        self.allow_repeats = allow_repeats
        self.on_mismatch: MismatchPolicy = on_mismatch
        self.rewrite_urls = rewrite_urls
        self._keys = [
            _recorded_key(interaction, self.ignore) for interaction in self.cassette.interactions
        ]
        self._lock = threading.Lock()
        self._plays = [0] * len(self._keys)
        self.mismatches: list[CassetteMismatchError] = []

    def reset(self) -> None:
        """Forget mismatches and make every interaction playable again."""
        with self._lock:
            self._plays = [0] * len(self._keys)
            self.mismatches = []

    def close(self) -> None:
        """Nothing to release."""

    @property
    def play_counts(self) -> list[int]:
        """How many times each interaction was played, in cassette order."""
        with self._lock:
            return list(self._plays)

    def unplayed(self) -> list[Interaction]:
        """The interactions no request has played yet."""
        with self._lock:
            return [
                interaction
                for interaction, plays in zip(self.cassette.interactions, self._plays, strict=True)
                if plays == 0
            ]

    def assert_all_played(self) -> None:
        """Raise ``AssertionError`` naming every interaction no request played."""
        plays = self.play_counts
        missing = [
            f"  #{index} {interaction.request.method} {api_path(interaction.request.url)}"
            for index, interaction in enumerate(self.cassette.interactions)
            if plays[index] == 0
        ]
        if missing:
            raise AssertionError(
                f"{len(missing)} recorded interaction(s) of {self.source} were never played:\n"
                + "\n".join(missing)
            )

    # ---- the responder interface: every API route answers from the cassette -------------------

    def generate(self, request: FakeRequest, state: FakeState) -> FakeResponse:
        """Answer ``POST /v1/images/generations`` from the cassette."""
        return self.replay(request, state)

    def list_models(self, request: FakeRequest, state: FakeState) -> FakeResponse:
        """Answer ``GET /v1/models`` from the cassette."""
        return self.replay(request, state)

    def cdn_image(self, request: FakeRequest, state: FakeState, ident: str) -> FakeResponse:
        """Answer ``GET /shrt/<id>`` from the cassette."""
        return self.replay(request, state)

    def unknown_route(self, request: FakeRequest, state: FakeState, message: str) -> FakeResponse:
        """Answer any other API path from the cassette (it may hold any recorded route)."""
        return self.replay(request, state)

    def replay(self, request: FakeRequest, state: FakeState) -> FakeResponse:
        """Play the first unplayed interaction matching ``request``, and log the call.

        Raises:
            CassetteMismatchError: When nothing matches and ``on_mismatch="raise"``.
        """
        ctx = state.begin()
        key = _incoming_key(request, self.ignore)
        details = CallDetails.from_body(key.body if isinstance(key.body, dict) else None)
        with self._lock:
            index = self._choose(key)
            if index is not None:
                self._plays[index] += 1
            else:
                error = CassetteMismatchError(request, self._report(request, key))
                self.mismatches.append(error)
        if index is None:
            if self.on_mismatch == "raise":
                raise error
            return state.record(ctx, request, _mismatch_response(error), details)
        response = self._response(self.cassette.interactions[index], request)
        return state.record(ctx, request, response, details)

    def _choose(self, key: _Key) -> int | None:
        matching = [i for i, recorded in enumerate(self._keys) if match(recorded, key)[0]]
        for index in matching:
            if self._plays[index] == 0:
                return index
        if matching and self.allow_repeats:
            return matching[-1]
        return None

    def _response(self, interaction: Interaction, request: FakeRequest) -> FakeResponse:
        recorded = interaction.response
        if recorded.action != "respond":
            return FakeResponse(status=0, action=recorded.action)
        body = recorded.body
        headers = recorded.headers
        if self.rewrite_urls:
            rewritten = _SHRT_URL.sub(lambda m: request.origin.encode() + m.group(1), body)
            if rewritten != body:
                body = rewritten
                headers = tuple(
                    (name, _refreshed(name, value, body)) for name, value in recorded.headers
                )
        return FakeResponse(status=recorded.status, headers=headers, body=body)

    def _report(self, request: FakeRequest, key: _Key) -> str:
        shown_query = f"?{request.query}" if request.query else ""
        lines = [
            f"No recorded interaction in {self.source} matches this request:",
            f"  {request.method} {request.path}{shown_query}",
        ]
        if key.body is not _ABSENT:
            lines.append(f"  body: {_show(key.body, limit=400)}")
        if self.ignore:
            lines.append(f"  (ignored body fields: {', '.join(self.ignore)})")
        outcomes = [match(recorded, key) for recorded in self._keys]
        already = [i for i, (ok, _) in enumerate(outcomes) if ok and self._plays[i]]
        if already:
            lines.append(
                f"It matches interaction(s) {', '.join(f'#{i}' for i in already)}, but each was "
                "already played; record the repeated call too, or pass allow_repeats=True."
            )
            return "\n".join(lines)
        if not self._keys:
            lines.append("The cassette has no interactions.")
            return "\n".join(lines)
        ranked = sorted(
            range(len(self._keys)),
            key=lambda i: (_distance(self._keys[i], key, outcomes[i][1]), i),
        )
        lines.append("Nearest recorded interactions:")
        for index in ranked[:_NEAREST]:
            recorded = self._keys[index]
            reasons = outcomes[index][1]
            lines.append(
                f"  #{index} {recorded.method} {recorded.path} (played "
                f"{self._plays[index]} time(s)): {len(reasons)} difference(s)"
            )
            lines.extend(f"      {reason}" for reason in reasons[:8])
            if len(reasons) > 8:
                lines.append(f"      … and {len(reasons) - 8} more")
        if len(self._keys) > _NEAREST:
            lines.append(f"  ({len(self._keys) - _NEAREST} more interaction(s) not shown)")
        return "\n".join(lines)


# ---- matching ---------------------------------------------------------------------------------


def _recorded_key(interaction: Interaction, ignore: tuple[str, ...]) -> _Key:
    request = interaction.request
    parts = urlsplit(request.url)
    return _Key(
        method=request.method.upper(),
        path=api_path(request.url),
        query=tuple(parse_qsl(parts.query, keep_blank_values=True)),
        body=_body_value(request.body, ignore),
    )


def _incoming_key(request: FakeRequest, ignore: tuple[str, ...]) -> _Key:
    return _Key(
        method=request.method.upper(),
        path=api_path(request.path),
        query=tuple(parse_qsl(request.query, keep_blank_values=True)),
        body=_body_value(request.body, ignore),
    )


def _body_value(body: bytes, ignore: tuple[str, ...]) -> Any:
    """The JSON value of a body minus ignored fields; raw bytes for non-JSON; ``_ABSENT`` if
    empty."""
    if not body:
        return _ABSENT
    try:
        value = json.loads(body.decode())  # UTF-8
    except (UnicodeDecodeError, ValueError, RecursionError):
        return body
    for dotted in ignore:
        value = _without(value, dotted.split("."))
    return value


def _without(value: Any, path: list[str]) -> Any:
    head, rest = path[0], path[1:]
    if isinstance(value, dict) and head in value:
        if not rest:
            return {k: v for k, v in value.items() if k != head}
        return {**value, head: _without(value[head], rest)}
    if isinstance(value, list) and head.isdigit() and int(head) < len(value):
        index = int(head)
        if not rest:
            return value[:index] + value[index + 1 :]
        return [*value[:index], _without(value[index], rest), *value[index + 1 :]]
    return value


def match(recorded: _Key, incoming: _Key) -> tuple[bool, list[str]]:
    """Whether an incoming request matches a recorded one, and if not, every reason why.

    One function decides and explains (the ``responses`` library's matchers do the same), so a
    mismatch report can never disagree with the decision.
    """
    if _matches(recorded, incoming):
        return True, []
    # _differences names whatever _matches refused; the fallback is a safety net no input reaches.
    return False, _differences(recorded, incoming) or ["the request differs"]  # pragma: no mutate


def _matches(recorded: _Key, incoming: _Key) -> bool:
    return (
        recorded.method == incoming.method
        and recorded.path == incoming.path
        and _query_matches(recorded.query, incoming.query)
        and _value_matches(recorded.body, incoming.body)
    )


def _query_matches(
    recorded: tuple[tuple[str, str], ...], incoming: tuple[tuple[str, str], ...]
) -> bool:
    return len(recorded) == len(incoming) and all(
        map(_parameter_matches, sorted(recorded), sorted(incoming))
    )


def _parameter_matches(recorded: tuple[str, str], incoming: tuple[str, str]) -> bool:
    return recorded[0] == incoming[0] and recorded[1] in (SCRUBBED, incoming[1])


def _value_matches(recorded: Any, incoming: Any) -> bool:
    """Equality, where an ``{"$elided": …}`` marker matches the image it stands for."""
    if isinstance(recorded, dict) and "$elided" in recorded and isinstance(incoming, str):
        return _elided_matches(recorded["$elided"], incoming)
    if isinstance(recorded, dict) and isinstance(incoming, dict):
        return recorded.keys() == incoming.keys() and all(
            _value_matches(recorded[k], incoming[k]) for k in recorded
        )
    if isinstance(recorded, list) and isinstance(incoming, list):
        return len(recorded) == len(incoming) and all(map(_value_matches, recorded, incoming))
    if type(recorded) is not type(incoming) and not (
        isinstance(recorded, (int, float))
        and isinstance(incoming, (int, float))
        and not isinstance(recorded, bool)
        and not isinstance(incoming, bool)
    ):
        return False
    return bool(recorded == incoming)


def _elided_matches(info: Any, text: str) -> bool:
    sha256 = info.get("sha256") if isinstance(info, dict) else None
    if sha256 is None:
        return True
    payload = text.partition(",")[2] if text.startswith("data:") else text
    try:
        data = base64.b64decode(payload, validate=True)
    except ValueError:
        return False
    return bool(hashlib.sha256(data).hexdigest() == sha256)


def _flatten(value: Any, prefix: str = "body") -> dict[str, Any]:
    if isinstance(value, dict) and "$elided" not in value:
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(_flatten(item, f"{prefix}.{key}"))
        return flat or {prefix: value}
    if isinstance(value, list):
        flat = {}
        for index, item in enumerate(value):
            flat.update(_flatten(item, f"{prefix}[{index}]"))
        return flat or {prefix: value}
    return {prefix: value}


def _differences(recorded: _Key, incoming: _Key) -> list[str]:
    found: list[str] = []
    if recorded.method != incoming.method:
        found.append(f"method: recorded {recorded.method}, sent {incoming.method}")
    if recorded.path != incoming.path:
        found.append(f"path: recorded {recorded.path}, sent {incoming.path}")
    if not _query_matches(recorded.query, incoming.query):
        found.append(f"query: recorded {dict(recorded.query)}, sent {dict(incoming.query)}")
    if recorded.body is _ABSENT or incoming.body is _ABSENT or isinstance(recorded.body, bytes):
        if not _value_matches(recorded.body, incoming.body):
            found.append(f"body: recorded {_show(recorded.body)}, sent {_show(incoming.body)}")
        return found
    if isinstance(incoming.body, bytes):
        found.append(f"body: recorded JSON, sent non-JSON {_show(incoming.body)}")
        return found
    left, right = _flatten(recorded.body), _flatten(incoming.body)
    for name in sorted(set(left) | set(right), key=lambda n: (n not in left, n)):
        old, new = left.get(name, _ABSENT), right.get(name, _ABSENT)
        if old is _ABSENT or new is _ABSENT or not _value_matches(old, new):
            found.append(f"{name}: recorded {_show(old)}, sent {_show(new)}")
    return found


def _distance(recorded: _Key, incoming: _Key, reasons: list[str]) -> int:
    score = 0
    if recorded.method != incoming.method:
        score += 1000
    if recorded.path != incoming.path:
        score += 100
    return score + len(reasons)


def _show(value: Any, limit: int = _SHOWN) -> str:
    if value is _ABSENT:
        return "(absent)"
    if isinstance(value, bytes):
        text = value[:limit].decode("utf-8", "replace")
        return repr(text + ("…" if len(value) > limit else ""))
    if isinstance(value, dict) and "$elided" in value:
        return "(an elided image)"
    text = json.dumps(_shorten(value), ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _shorten(value: Any) -> Any:
    """Summarize data URLs and long strings so reports stay readable."""
    if isinstance(value, dict):
        return {key: _shorten(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shorten(item) for item in value]
    if isinstance(value, str) and len(value) > _SHOWN:
        digest = hashlib.sha256(value.encode()).hexdigest()[:12]
        return f"{value[:40]}… ({len(value)} chars, sha256 {digest}…)"
    return value


def _refreshed(name: str, value: str, body: bytes) -> str:
    lowered = name.lower()
    if lowered == "content-length":
        return str(len(body))
    if lowered == "etag":
        return etag(body)
    return value


def _mismatch_response(error: CassetteMismatchError) -> FakeResponse:
    api_error = FakeAPIError(404, error.report, code="cassette_mismatch")
    return error_response(api_error, request_id=None)


# ---- the named fake: a FakeTogether whose responder replays a cassette --------------------
# It adds no behaviour: it builds its responder and forwards that responder's own accessors, so
# ``isinstance(fake, CassettePlayer)`` and ``with CassettePlayer(path) as player:`` read naturally.


class CassettePlayer(FakeTogether):
    """A ``FakeTogether`` that answers from a cassette (its responder is a ``CassetteReplay``).

    Args:
        cassette: A ``Cassette`` or the path of a cassette file.
        ignore: Body fields left out of matching: top-level names (``"seed"``) or dotted paths
            (``"image_loras.0.scale"``).
        allow_repeats: Once every interaction matching a request has played, play the last one
            again instead of failing (useful for polling or retry loops).
        on_mismatch: ``"raise"`` raises ``CassetteMismatchError`` out of ``handle()`` (in-process
            tests fail with the report); ``"respond"`` answers 404 in the real error shape with
            the report as the message and code ``"cassette_mismatch"`` (for server mode).
        rewrite_urls: Point ``…/shrt/<id>`` image URLs in replayed bodies at the origin the
            client called (changes the bytes and Etag; needed in server mode to fetch images).
        base_urls: Extra base URLs to intercept in-process.
        sleep: Sleep function for the in-process adapter.

    Raises:
        CassetteFormatError: If the cassette file cannot be read.
    """

    def __init__(
        self,
        cassette: Cassette | str | Path,
        *,
        ignore: Iterable[str] = (),
        allow_repeats: bool = False,
        on_mismatch: MismatchPolicy = "raise",
        rewrite_urls: bool = False,
        base_urls: Sequence[str] = (),
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        loaded = cassette if isinstance(cassette, Cassette) else Cassette.load(cassette)
        self.replay = CassetteReplay(
            loaded,
            source=str(cassette) if not isinstance(cassette, Cassette) else "<cassette>",
            ignore=ignore,
            allow_repeats=allow_repeats,
            on_mismatch=on_mismatch,
            rewrite_urls=rewrite_urls,
        )
        super().__init__(responder=self.replay, base_urls=base_urls, sleep=sleep)

    @property
    def cassette(self) -> Cassette:
        """The cassette being replayed."""
        return self.replay.cassette

    @property
    def source(self) -> str:
        """Where the cassette came from."""
        return self.replay.source

    @property
    def ignore(self) -> tuple[str, ...]:
        """Body fields left out of matching."""
        return self.replay.ignore

    @property
    def mismatches(self) -> list[CassetteMismatchError]:
        """Every mismatch so far (also in ``on_mismatch="respond"`` mode)."""
        return self.replay.mismatches

    @property
    def play_counts(self) -> list[int]:
        """How many times each interaction was played, in cassette order."""
        return self.replay.play_counts

    def unplayed(self) -> list[Interaction]:
        """The interactions no request has played yet."""
        return self.replay.unplayed()

    def assert_all_played(self) -> None:
        """Raise ``AssertionError`` naming every interaction no request played."""
        self.replay.assert_all_played()
