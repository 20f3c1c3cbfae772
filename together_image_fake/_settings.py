"""``FakeSettings``: how to build a fake from the ``TOGETHER_FAKE_*`` environment variables.

Read by the WSGI entry point (``together_image_fake.wsgi:app``) and by the command line, so a
deployment and ``together-image-fake serve`` agree on what each variable means.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from together_image_fake._backend import FakeTogether
from together_image_fake._http import DEFAULT_MAX_BODY_BYTES, DEFAULT_TIMEOUT_HOLD_S
from together_image_fake._images import DEFAULT_MAX_CONCURRENT_RENDERS

__all__ = ["FakeSettings", "build_fake", "settings_from_environ"]

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


@dataclass(frozen=True, kw_only=True)
class FakeSettings:
    """How to build the fake a WSGI deployment serves.

    Attributes:
        api_keys: Keys the fake accepts; empty means any non-empty bearer key.
        seed: Seed for deterministic ids and images; ``None`` for fresh ones.
        strict: ``False`` relaxes every inferred ([INF]) rule.
        serve_retired: Also serve the models the real API has retired.
        max_body_bytes: Largest request body accepted (413 above).
        timeout_hold_s: How long a ``timeout`` fault waits before aborting the response.
        allowed_hosts: Host names, besides loopback ones and the bound host, that may reach the
            control API (``*``: any).
        max_concurrent_renders: Image requests rendered at once (``None``: the fake's default).
    """

    api_keys: tuple[str, ...] = ()
    seed: int | None = None
    strict: bool = True
    serve_retired: bool = False
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    timeout_hold_s: float = DEFAULT_TIMEOUT_HOLD_S
    allowed_hosts: tuple[str, ...] = ()
    max_concurrent_renders: int | None = None


def settings_from_environ(environ: Mapping[str, str]) -> FakeSettings:
    """Read ``FakeSettings`` from ``TOGETHER_FAKE_*`` variables.

    ``TOGETHER_FAKE_API_KEYS`` (comma-separated), ``TOGETHER_FAKE_SEED`` (integer),
    ``TOGETHER_FAKE_STRICT`` and ``TOGETHER_FAKE_SERVE_RETIRED`` (``1``/``0``, ``true``/``false``,
    ``yes``/``no``, ``on``/``off``),
    ``TOGETHER_FAKE_MAX_BODY_BYTES`` (integer >= 0), ``TOGETHER_FAKE_TIMEOUT_HOLD_S``
    (seconds >= 0), ``TOGETHER_FAKE_ALLOWED_HOSTS`` (comma-separated host names that may reach
    the control API besides loopback ones and the bound host; ``*`` for any),
    ``TOGETHER_FAKE_MAX_CONCURRENT_RENDERS`` (integer >= 1).

    Args:
        environ: The environment to read (``os.environ`` in a deployment).

    Returns:
        The settings; unset variables keep their defaults.

    Raises:
        ValueError: A variable is set to a value of the wrong form; the message names it.
    """
    keys = tuple(
        key.strip() for key in environ.get("TOGETHER_FAKE_API_KEYS", "").split(",") if key.strip()
    )
    hosts = tuple(
        name.strip()
        for name in environ.get("TOGETHER_FAKE_ALLOWED_HOSTS", "").split(",")
        if name.strip()
    )
    strict_text = environ.get("TOGETHER_FAKE_STRICT", "").strip().lower()
    if strict_text and strict_text not in _TRUE | _FALSE:
        raise ValueError(
            "TOGETHER_FAKE_STRICT must be one of 1/0, true/false, yes/no, on/off, "
            f"got {environ['TOGETHER_FAKE_STRICT']!r}"
        )
    retired_text = environ.get("TOGETHER_FAKE_SERVE_RETIRED", "").strip().lower()
    if retired_text and retired_text not in _TRUE | _FALSE:
        raise ValueError(
            "TOGETHER_FAKE_SERVE_RETIRED must be one of 1/0, true/false, yes/no, on/off, "
            f"got {environ['TOGETHER_FAKE_SERVE_RETIRED']!r}"
        )
    seed_text = _text(environ, "TOGETHER_FAKE_SEED")
    max_body_text = _text(environ, "TOGETHER_FAKE_MAX_BODY_BYTES")
    hold_text = _text(environ, "TOGETHER_FAKE_TIMEOUT_HOLD_S")
    renders_text = _text(environ, "TOGETHER_FAKE_MAX_CONCURRENT_RENDERS")
    renders = (
        None
        if renders_text is None
        else _parse("TOGETHER_FAKE_MAX_CONCURRENT_RENDERS", renders_text, int)
    )
    if renders is not None and renders < 1:
        raise ValueError(f"TOGETHER_FAKE_MAX_CONCURRENT_RENDERS must be >= 1, got {renders_text!r}")
    max_body = (
        DEFAULT_MAX_BODY_BYTES
        if max_body_text is None
        else _parse("TOGETHER_FAKE_MAX_BODY_BYTES", max_body_text, int)
    )
    hold = (
        DEFAULT_TIMEOUT_HOLD_S
        if hold_text is None
        else _parse("TOGETHER_FAKE_TIMEOUT_HOLD_S", hold_text, float)
    )
    if max_body < 0 or hold < 0:
        raise ValueError(
            "TOGETHER_FAKE_MAX_BODY_BYTES and TOGETHER_FAKE_TIMEOUT_HOLD_S must be >= 0, "
            f"got {max_body_text!r} and {hold_text!r}"
        )
    return FakeSettings(
        api_keys=keys,
        seed=None if seed_text is None else _parse("TOGETHER_FAKE_SEED", seed_text, int),
        strict=strict_text not in _FALSE,
        serve_retired=retired_text in _TRUE,
        max_body_bytes=max_body,
        timeout_hold_s=hold,
        allowed_hosts=hosts,
        max_concurrent_renders=renders,
    )


def _text(environ: Mapping[str, str], name: str) -> str | None:
    text = environ.get(name, "").strip()
    return text or None


_Number = TypeVar("_Number", int, float)


def _parse(name: str, text: str, kind: Callable[[str], _Number]) -> _Number:
    try:
        return kind(text)
    except ValueError:
        expected = "an integer" if kind is int else "a number"
        raise ValueError(f"{name} must be {expected}, got {text!r}") from None


def build_fake(settings: FakeSettings) -> FakeTogether:
    """Build the ``FakeTogether`` that ``settings`` describe.

    Args:
        settings: Keys, seed and strictness.

    Returns:
        A new fake (not intercepting anything in-process: adapters call its ``handle()``).
    """
    return FakeTogether(
        api_keys=list(settings.api_keys) or None,
        seed=settings.seed,
        strict=settings.strict,
        max_concurrent_renders=settings.max_concurrent_renders or DEFAULT_MAX_CONCURRENT_RENDERS,
        serve_retired=settings.serve_retired,
    )
