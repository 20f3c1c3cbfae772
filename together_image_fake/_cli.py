"""The ``together-image-fake`` command: ``serve`` the fake over HTTP, ``inspect`` a fake image.

``serve`` runs a ``FakeTogetherServer`` in the foreground: its first stdout line is
``Serving fake Together API at http://HOST:PORT/v1`` (flushed, so a parent process can read the
port chosen by ``--port 0``), it logs one line per request to stderr (method, path without the
query, status, size, time: never a header, so never the key), and it stops cleanly on SIGINT or
SIGTERM. ``inspect`` prints what a fake image says about the request that made it. Each command is
a subparser, so more can be added beside them.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import webbrowser
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import TextIO

from together_image_fake._backend import FakeTogether
from together_image_fake._record import add_record_command
from together_image_fake._replay import add_replay_command
from together_image_fake._server import DEFAULT_MAX_BODY_BYTES, FakeTogetherServer
from together_image_fake._verify import add_verify_command
from together_image_fake.wsgi import FakeSettings, build_fake

__all__ = ["build_parser", "main"]

DEFAULT_PORT = 8787


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with one subparser per command."""
    parser = argparse.ArgumentParser(
        prog="together-image-fake",
        description="A faithful offline fake of Together AI's image endpoint.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser(
        "serve",
        help="serve the fake Together API over HTTP",
        description="Serve the fake Together API until interrupted (Ctrl+C or SIGTERM).",
    )
    add_bind_arguments(serve, default_port=DEFAULT_PORT)
    serve.add_argument(
        "--api-key",
        dest="api_keys",
        action="append",
        default=[],
        metavar="KEY",
        help="accept only this key (repeatable); without it any non-empty bearer key is accepted",
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
        "--max-body-bytes",
        type=int,
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
    """Add ``--host`` (loopback by default) and ``--port`` to a command that serves over HTTP."""
    parser.add_argument(
        "--host", default="127.0.0.1", help="interface to bind (default: %(default)s)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=default_port,
        help="port to bind; 0 picks a free one (default: %(default)s)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Args:
        argv: Arguments without the program name; ``sys.argv[1:]`` when ``None``.

    Returns:
        The process exit status: 0 on success, 1 when the command failed (the reason is on stderr),
        2 for a usage error.
    """
    args = build_parser().parse_args(argv)
    status: int = args.run(args)
    return status


def _serve(args: argparse.Namespace) -> int:
    settings = FakeSettings(api_keys=tuple(args.api_keys), seed=args.seed, strict=args.strict)

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
    )


def serve_until_signalled(
    fake: FakeTogether,
    *,
    host: str,
    port: int,
    announce: Callable[[FakeTogetherServer], None],
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> int:
    """Serve ``fake`` on loopback until SIGINT or SIGTERM (``serve``, ``record``, ``replay``).

    Args:
        fake: The backend to serve (a ``FakeTogether``, a cassette player or a recording proxy).
        host: Interface to bind.
        port: Port to bind; 0 picks a free one.
        announce: Prints the command's first stdout lines once the server listens (flushed).
        max_body_bytes: Largest request body accepted.

    Returns:
        0 after a clean stop, 1 when the address cannot be bound, 2 for an impossible port.
    """
    if not 0 <= port <= 65535:
        print(f"error: --port must be between 0 and 65535, got {port}", file=sys.stderr)
        return 2
    server = FakeTogetherServer(fake, host=host, port=port, max_body_bytes=max_body_bytes)
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
        # A timed wait lets the signal handler's Event.set() be seen promptly on every platform.
        while not stop.wait(0.5):
            pass
        print("Stopping the fake Together API", file=sys.stderr, flush=True)
    finally:
        server.stop()
        for sig, old in previous.items():
            signal.signal(sig, old)
        server_logger.removeHandler(handler)
    return 0


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
        print(f"error: cannot read {args.image}: {exc}", file=sys.stderr)
        return 1
    try:
        info = inspect_image(data)
    except ValueError as exc:
        print(f"error: {args.image}: {exc}", file=sys.stderr)
        return 1
    fields = info.to_json()
    if args.json:
        print(json.dumps(fields, ensure_ascii=False))
    else:
        width = max(len(name) for name in fields)
        for name, value in fields.items():
            print(f"{name:<{width}}  {'-' if value is None else value}")
    return 0
