"""The ``together-image-fake`` command: ``serve`` the fake over HTTP, ``inspect`` a fake image.

``serve`` runs a ``FakeTogetherServer`` in the foreground: its first stdout line is
``Serving fake Together API at http://HOST:PORT/v1`` (flushed, so a parent process can read the
port chosen by ``--port 0``), it logs one line per request to stderr (method, path without the
query, status, size, time: never a header, so never the key), and it stops cleanly on SIGINT or
SIGTERM. ``record`` serves a recording proxy and ``replay`` a cassette the same way. ``inspect``
prints what a fake image says about the request that made it. Each command is a subparser, so more
can be added beside them; this is the only module that knows them all. Errors are printed whole (a
cassette mismatch report is many lines); secrets can come from a file or an environment variable
instead of the command line, where ``ps`` shows them; a reader that stops early
(``inspect … | head``) ends the command quietly.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import logging
import os
import signal
import sys
import threading
import webbrowser
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from together_image_fake._backend import FakeTogether
from together_image_fake._http import DEFAULT_MAX_BODY_BYTES
from together_image_fake._interactions import CassetteError
from together_image_fake._record import (
    DEFAULT_FORWARD_ROUTES,
    DEFAULT_UPSTREAM,
    CassetteRecorder,
    TogetherProxy,
)
from together_image_fake._replay import CassettePlayer
from together_image_fake._server import FakeTogetherServer
from together_image_fake._settings import FakeSettings, build_fake
from together_image_fake._verify import add_verify_command

__all__ = ["build_parser", "main"]

DEFAULT_PORT = 8787
EXIT_BROKEN_PIPE = 128 + 13
"""Exit status when the reader of stdout went away: what a shell reports for SIGPIPE."""


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with one subparser per command."""
    parser = argparse.ArgumentParser(
        prog="together-image-fake",
        description="A faithful offline fake of Together AI's image endpoint.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser(
        "serve",
        help="serve the fake Together API over HTTP",
        description="Serve the fake Together API until interrupted (Ctrl+C or SIGTERM).",
    )
    add_bind_arguments(serve, default_port=DEFAULT_PORT)
    add_secret_arguments(
        serve,
        flag="--api-key",
        dest="api_keys",
        metavar="KEY",
        what="accept only this key (repeatable); without any, every non-empty bearer key is "
        "accepted",
    )
    serve.add_argument(
        "--seed", type=int, default=None, help="seed for deterministic ids and images"
    )
    serve.add_argument(
        "--strict",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="enforce the inferred ([INF]) validation rules too, or relax them (default: strict)",
    )
    serve.add_argument(
        "--max-concurrent-renders",
        type=int,
        default=None,
        metavar="N",
        help="image requests rendered at once, the others wait: bounds memory under load "
        "(default: one per CPU, at most 4)",
    )
    serve.add_argument(
        "--serve-retired",
        action="store_true",
        help="also serve the models the real API has retired (FLUX.1 [dev], Schnell Free...)",
    )
    serve.add_argument(
        "--max-body-bytes",
        type=_positive_int,
        default=DEFAULT_MAX_BODY_BYTES,
        metavar="N",
        help="largest request body accepted, larger ones get 413 (default: %(default)s)",
    )
    serve.add_argument(
        "--open",
        action="store_true",
        help="open the dashboard (http://HOST:PORT/_fake/) in the default web browser",
    )
    serve.set_defaults(run=_serve)

    inspect = commands.add_parser(
        "inspect",
        help="print the request a fake image encodes",
        description="Print the request a fake image encodes (model, prompt, size, seed, ...).",
    )
    inspect.add_argument("image", help="path of a PNG or JPEG made by the fake, or - for stdin")
    inspect.add_argument("--json", action="store_true", help="print the fields as one JSON object")
    inspect.set_defaults(run=_inspect)
    add_record_command(commands)
    add_replay_command(commands)
    add_verify_command(commands)
    return parser


def add_bind_arguments(parser: argparse.ArgumentParser, *, default_port: int) -> None:
    """Add ``--host`` (loopback by default), ``--port`` and ``--allow-host`` to a command that
    serves over HTTP."""
    parser.add_argument(
        "--host",
        type=_bind_host,
        default="127.0.0.1",
        help="interface to bind (default: %(default)s); any other than loopback is warned about",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=default_port,
        help="port to bind; 0 picks a free one (default: %(default)s)",
    )
    parser.add_argument(
        "--allow-host",
        dest="allowed_hosts",
        action="append",
        default=[],
        metavar="NAME",
        help="a host name, besides loopback ones and --host, that may reach the control API and "
        "dashboard, e.g. a container's service name (repeatable; * allows any)",
    )


def _bind_host(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError(
            f"expected an interface to bind, such as 127.0.0.1, got {text!r}"
        )
    return text.strip()


def is_loopback_host(host: str) -> bool:
    """Whether binding ``host`` keeps the server on this machine (``localhost``, 127.0.0.0/8,
    ``::1``)."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _warn_if_exposed(host: str) -> None:
    if is_loopback_host(host):
        return
    # Loud on purpose: a fake on every interface hands its call log (prompts, bodies, images)
    # and its control API to anyone who can reach the port.
    print(
        f"WARNING: --host {host} is not a loopback address: the fake answers every machine that "
        "can reach this one, and anyone there can read its call log (prompts, request bodies, "
        "images) and queue faults or reset it. Use --host 127.0.0.1 unless that is what you "
        f"want (e.g. inside a container). The control API still answers only loopback names and "
        f"{host!r}; add others with --allow-host.",
        file=sys.stderr,
        flush=True,
    )


def add_secret_arguments(
    parser: argparse.ArgumentParser, *, flag: str, dest: str, metavar: str, what: str
) -> None:
    """Add ``FLAG VALUE``, ``FLAG-file PATH`` and ``FLAG-env NAME``, all appending to ``dest``.

    A value given on the command line is visible to every user of the machine (``ps``), so
    ``--help`` offers the file (one value per line; blank lines and ``#`` comments skipped) and
    the environment variable instead.
    """
    parser.add_argument(
        flag,
        dest=dest,
        action="append",
        default=[],
        metavar=metavar,
        help=f"{what}; on the command line it is visible to other users (ps): prefer "
        f"{flag}-file or {flag}-env",
    )
    parser.add_argument(
        f"{flag}-file",
        dest=dest,
        action=_ValuesFromFile,
        metavar="PATH",
        help=f"like {flag}, one value per line of PATH (blank and # lines skipped; repeatable)",
    )
    parser.add_argument(
        f"{flag}-env",
        dest=dest,
        action=_ValueFromEnvironment,
        metavar="NAME",
        help=f"like {flag}, the value of the environment variable NAME (repeatable)",
    )


class _ValuesFromFile(argparse.Action):
    """Append the values listed in a file (never echoing them in an error)."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        path = str(values)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
            raise argparse.ArgumentError(self, f"cannot read {path}: {reason}") from None
        found = [
            line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
        ]
        if not found:
            raise argparse.ArgumentError(self, f"expected one value per line in {path}, got none")
        _append(namespace, self.dest, found)


class _ValueFromEnvironment(argparse.Action):
    """Append the value of an environment variable (never echoing it in an error)."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        name = str(values)
        value = os.environ.get(name, "").strip()
        if not value:
            raise argparse.ArgumentError(
                self, f"expected the environment variable {name} to hold a value, got none"
            )
        _append(namespace, self.dest, [value])


def _append(namespace: argparse.Namespace, dest: str, found: list[str]) -> None:
    setattr(namespace, dest, [*(getattr(namespace, dest, None) or []), *found])


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number of bytes, got {value}")
    return value


def _version() -> str:
    try:
        return metadata.version("together-image")
    except metadata.PackageNotFoundError:
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Args:
        argv: Arguments without the program name; ``sys.argv[1:]`` when ``None``.

    Returns:
        The process exit status: 0 on success, 1 when the command failed (the reason is on stderr),
        2 for a usage error, ``EXIT_BROKEN_PIPE`` when the reader of stdout went away.
    """
    args = build_parser().parse_args(argv)
    try:
        status: int = args.run(args)
        sys.stdout.flush()  # here, where a closed pipe can still be handled, not at exit
    except BrokenPipeError:
        # The reader stopped early (``inspect … | head``): nothing is wrong, so no traceback.
        # Point stdout at /dev/null so the interpreter's final flush cannot complain either.
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    return status


def report_error(message: object) -> None:
    """Print an error on stderr whole, every line of it (a mismatch report is many)."""
    print(f"error: {message}", file=sys.stderr, flush=True)


def _serve(args: argparse.Namespace) -> int:
    if args.max_concurrent_renders is not None and args.max_concurrent_renders < 1:
        print(
            f"error: --max-concurrent-renders must be >= 1, got {args.max_concurrent_renders}",
            file=sys.stderr,
        )
        return 2
    settings = FakeSettings(
        api_keys=tuple(args.api_keys),
        seed=args.seed,
        strict=args.strict,
        max_concurrent_renders=args.max_concurrent_renders,
        serve_retired=args.serve_retired,
    )

    def announce(server: FakeTogetherServer) -> None:
        print(f"Serving fake Together API at {server.base_url}", flush=True)
        print(
            f"Dashboard at {server.origin}/_fake/ ; together>=3 SDK base URL: {server.origin}",
            flush=True,
        )
        if args.open:
            dashboard = f"{server.origin}/_fake/"
            opened = webbrowser.open(dashboard)
            print(
                f"Opening the dashboard at {dashboard}"
                + ("" if opened else " (no browser found here: open it by hand)"),
                flush=True,
            )

    return serve_until_signalled(
        build_fake(settings),
        host=args.host,
        port=args.port,
        max_body_bytes=args.max_body_bytes,
        announce=announce,
        allowed_hosts=args.allowed_hosts,
    )


def serve_until_signalled(
    fake: FakeTogether,
    *,
    host: str,
    port: int,
    announce: Callable[[FakeTogetherServer], None],
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    allowed_hosts: Sequence[str] = (),
) -> int:
    """Serve ``fake`` on loopback until SIGINT or SIGTERM (``serve``, ``record``, ``replay``).

    Args:
        fake: The backend to serve (a ``FakeTogether``, a cassette player or a recording proxy).
        host: Interface to bind.
        port: Port to bind; 0 picks a free one.
        announce: Prints the command's first stdout lines once the server listens (flushed).
        max_body_bytes: Largest request body accepted.
        allowed_hosts: More host names that may reach the control API (``--allow-host``).

    Returns:
        0 after a clean stop, 1 when the address cannot be bound, 2 for an impossible port.
    """
    if not 0 <= port <= 65535:
        print(f"error: --port must be between 0 and 65535, got {port}", file=sys.stderr)
        return 2
    _warn_if_exposed(host)
    server = FakeTogetherServer(
        fake, host=host, port=port, max_body_bytes=max_body_bytes, allowed_hosts=allowed_hosts
    )
    handler = _request_log_handler(sys.stderr)
    server_logger = logging.getLogger("together_image_fake.server")
    server_logger.addHandler(handler)
    server_logger.setLevel(logging.INFO)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            server.start()
        except OSError as exc:
            print(f"error: cannot listen on {host}:{port}: {exc}", file=sys.stderr)
            return 1
        announce(server)
        reported = 0
        # A timed wait lets the signal handler's Event.set() be seen promptly on every platform.
        while not stop.wait(0.5):
            reported = _report_mismatches(fake, reported)
        _report_mismatches(fake, reported)
        print("Stopping the fake Together API", file=sys.stderr, flush=True)
    finally:
        server.stop()
        for sig, old in previous.items():
            signal.signal(sig, old)
        server_logger.removeHandler(handler)
    return 0


def _report_mismatches(fake: FakeTogether, reported: int) -> int:
    """Print each new cassette mismatch report whole on stderr (the client sees it as a 404
    message, which many clients show cut to one line); return how many are reported."""
    if not isinstance(fake, CassettePlayer):
        return reported
    mismatches = list(fake.mismatches)
    if len(mismatches) < reported:
        reported = 0  # the list was cleared (a reset): every one there is new
    for mismatch in mismatches[reported:]:
        report_error(mismatch.report)
    return len(mismatches)


def _request_log_handler(stream: TextIO) -> logging.Handler:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", datefmt="%Y-%m-%dT%H:%M:%S"))
    handler.setLevel(logging.INFO)
    return handler


def _inspect(args: argparse.Namespace) -> int:
    from together_image_fake._render import inspect_image

    try:
        data = sys.stdin.buffer.read() if args.image == "-" else Path(args.image).read_bytes()
    except OSError as exc:
        report_error(f"cannot read {args.image}: {exc.strerror or type(exc).__name__}")
        return 1
    try:
        info = inspect_image(data)
    except ValueError as exc:
        report_error(f"{args.image}: {exc}")
        return 1
    fields = info.to_json()
    if args.json:
        print(json.dumps(fields, ensure_ascii=False))
    else:
        width = max(len(name) for name in fields)
        for name, value in fields.items():
            print(f"{name:<{width}}  {'-' if value is None else value}")
    return 0


# ---- record and replay -------------------------------------------------------------------------


def add_record_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``together-image-fake record`` to the command line's subparsers."""
    record = commands.add_parser(
        "record",
        help="record traffic to a cassette through a local proxy",
        description=(
            "Serve a recording proxy on loopback: point any client at the printed base URL, its "
            "requests go to --upstream, and every exchange is recorded. On Ctrl+C or SIGTERM the "
            "cassette is scrubbed, scanned for secrets and saved; it is refused (exit status 1) "
            "when it still holds a secret or when a request got no answer from the upstream."
        ),
    )
    record.add_argument("--cassette", required=True, metavar="PATH", help="cassette file to write")
    record.add_argument(
        "--upstream",
        default=DEFAULT_UPSTREAM,
        metavar="URL",
        help="base URL to forward to (default: %(default)s)",
    )
    add_bind_arguments(record, default_port=8788)
    add_secret_arguments(
        record,
        flag="--secret",
        dest="secrets",
        metavar="VALUE",
        what="a secret value to scrub besides TOGETHER_API_KEY and seen bearer keys (repeatable)",
    )
    record.add_argument(
        "--allow",
        action="append",
        default=[],
        metavar="REGEX",
        help="a benign pattern the secret scan must not flag (repeatable)",
    )
    record.add_argument(
        "--elide-images",
        action="store_true",
        help="leave image bytes out (keep size, type and hash) instead of sidecar files",
    )
    record.add_argument(
        "--api-key-from-env",
        action="store_true",
        help="send TOGETHER_API_KEY upstream for requests that carry no key (only requests from "
        "this machine, without a foreign Origin, on the forwarded routes are relayed at all)",
    )
    record.add_argument(
        "--forward-route",
        dest="forward_routes",
        action="append",
        default=[],
        metavar='"METHOD /PATH"',
        help="forward this route too, besides image generation, /v1/models and /shrt/{id} "
        '(repeatable), e.g. "POST /v1/files"',
    )
    record.set_defaults(run=_run_record)


def _run_record(args: argparse.Namespace) -> int:
    recorder = CassetteRecorder(
        args.cassette,
        secrets=args.secrets,
        blobs="elide" if args.elide_images else "sidecar",
        allow=args.allow,
        meta={"upstream": args.upstream},
    )
    try:
        proxy = TogetherProxy(
            args.upstream,
            recorder=recorder,
            api_key=os.environ.get("TOGETHER_API_KEY") if args.api_key_from_env else None,
            forward_routes=(*DEFAULT_FORWARD_ROUTES, *args.forward_routes),
        )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    status = serve_until_signalled(
        proxy,
        host=args.host,
        port=args.port,
        allowed_hosts=args.allowed_hosts,
        announce=lambda server: print(
            f"Recording to {args.cassette}: proxy at {server.base_url} -> {args.upstream}",
            flush=True,
        ),
    )
    if status:
        return status
    try:
        path = recorder.save()
    except CassetteError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(
        f"Saved {len(recorder.interactions)} interaction(s) to {path}", file=sys.stderr, flush=True
    )
    return 0


def add_replay_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``together-image-fake replay`` to the command line's subparsers."""
    replay = commands.add_parser(
        "replay",
        help="serve a cassette over HTTP",
        description=(
            "Answer requests from a recorded cassette over HTTP until interrupted, for clients in "
            "any language. A request no interaction matches gets a 404 whose message explains "
            "the nearest recorded ones (code cassette_mismatch)."
        ),
    )
    replay.add_argument("--cassette", required=True, metavar="PATH", help="cassette to replay")
    add_bind_arguments(replay, default_port=DEFAULT_PORT)
    replay.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="FIELD",
        help="body field left out of matching, e.g. seed (repeatable)",
    )
    replay.add_argument(
        "--allow-repeats", action="store_true", help="replay the last match again once all played"
    )
    replay.add_argument(
        "--keep-urls",
        action="store_true",
        help="keep recorded /shrt/ image URLs instead of pointing them at this server",
    )
    replay.set_defaults(run=_run_replay)


def _run_replay(args: argparse.Namespace) -> int:
    try:
        player = CassettePlayer(
            args.cassette,
            ignore=args.ignore,
            allow_repeats=args.allow_repeats,
            on_mismatch="respond",
            rewrite_urls=not args.keep_urls,
        )
    except (CassetteError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    count = len(player.cassette.interactions)
    return serve_until_signalled(
        player,
        host=args.host,
        port=args.port,
        allowed_hosts=args.allowed_hosts,
        announce=lambda server: print(
            f"Replaying {args.cassette} ({count} interactions) at {server.base_url}", flush=True
        ),
    )
