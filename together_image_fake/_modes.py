"""The pytest plugin's test modes: which object answers a test's Together requests.

``--together-mode`` chooses, for tests whose ``together_fake`` marker names a ``cassette``:
``replay`` (the default for them) answers from the cassette; ``record`` forwards to the real API
with ``TOGETHER_API_KEY`` and rewrites the cassette; ``live`` forwards without recording; ``fake``
ignores the cassette. Tests that name no cassette always get the plain fake, whatever the mode,
because they are written against the fake's own behaviour (faults, call log, rendered images).
The plugin only calls ``resolve_mode`` and ``open_together_fake``; this module holds the logic.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

from together_image_fake._backend import FakeTogether
from together_image_fake._errors import FakeTogetherError
from together_image_fake._record import TogetherProxy
from together_image_fake._replay import CassettePlayer

TogetherMode = Literal["fake", "replay", "record", "live"]
MODES: tuple[TogetherMode, ...] = ("fake", "replay", "record", "live")

CASSETTE_OPTIONS = ("cassette", "ignore", "allow_repeats")
"""Marker options that configure cassettes rather than ``FakeTogether``."""


class ModeUnavailable(FakeTogetherError):
    """The chosen mode cannot run here (the plugin turns this into a skip with the reason)."""


def resolve_mode(
    option: str | None, marker_options: Mapping[str, Any], environ: Mapping[str, str]
) -> TogetherMode:
    """Decide the mode of one test.

    Args:
        option: The ``--together-mode`` value, or ``None`` when not given.
        marker_options: The test's ``together_fake`` marker options.
        environ: The environment (``TOGETHER_API_KEY`` is looked up here).

    Returns:
        ``"fake"`` for tests without a cassette; otherwise the option, ``"replay"`` by default.

    Raises:
        ModeUnavailable: For ``record`` or ``live`` without ``TOGETHER_API_KEY``.
        ValueError: For an unknown mode.
    """
    if option is not None and option not in MODES:
        raise ValueError(f"--together-mode must be one of {', '.join(MODES)}, got {option!r}")
    if not marker_options.get("cassette"):
        return "fake"
    mode: TogetherMode = "replay" if option is None else option
    if mode in ("record", "live") and not environ.get("TOGETHER_API_KEY"):
        raise ModeUnavailable(
            f"--together-mode={mode} calls the real Together API and needs TOGETHER_API_KEY; "
            "it is not set"
        )
    return mode


@contextlib.contextmanager
def open_together_fake(
    mode: TogetherMode,
    marker_options: Mapping[str, Any],
    *,
    root: Path,
    upstream: str,
    environ: Mapping[str, str],
    test_id: str = "",
) -> Iterator[FakeTogether]:
    """Start what answers a test's requests in-process, and stop it (saving a recording) after.

    Args:
        mode: From ``resolve_mode``.
        marker_options: Marker options: ``cassette`` (path, relative to ``root``), ``ignore``
            and ``allow_repeats`` for replay; any ``FakeTogether`` option for the fake
            (``base_urls`` applies to every mode).
        root: Directory relative cassette paths start from (pytest's rootdir).
        upstream: Real API base URL for ``record`` and ``live``.
        environ: The environment (the real key for ``record``/``live``).
        test_id: Recorded in the cassette's metadata.

    Yields:
        A started ``FakeTogether`` (a ``CassettePlayer`` or ``TogetherProxy`` outside fake mode).
    """
    options = dict(marker_options)
    cassette = options.pop("cassette", None)
    ignore = tuple(options.pop("ignore", ()))
    allow_repeats = bool(options.pop("allow_repeats", False))
    if mode == "fake" or not cassette:
        with FakeTogether(**options) as fake:
            yield fake
        return
    path = Path(cassette)
    if not path.is_absolute():
        path = root / path
    base_urls = tuple(options.get("base_urls", ()))
    if mode == "replay":
        with CassettePlayer(
            path, ignore=ignore, allow_repeats=allow_repeats, base_urls=base_urls
        ) as player:
            yield player
        return
    from together_image_fake._record import CassetteRecorder

    key = environ["TOGETHER_API_KEY"]
    recorder = (
        CassetteRecorder(path, secrets=[key], meta={"test": test_id}, environ=environ)
        if mode == "record"
        else None
    )
    with TogetherProxy(upstream, recorder=recorder, api_key=key, base_urls=base_urls) as proxy:
        yield proxy
    if recorder is not None:
        recorder.save()
