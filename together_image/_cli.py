"""The ``together-image`` command: generate images from the shell and write them to a directory.

``together-image generate --model M --prompt P --out DIR [...]`` calls ``generate_image()`` with the
key from ``--api-key-file``, ``--api-key-env``, ``--api-key`` or ``TOGETHER_API_KEY``, writes
``DIR/image-<i>.<ext>`` (extension from the detected media type) and prints each path. Bad
arguments exit with status 2, API failures with status 1, each with the whole message on stderr
(every line of it). A closed standard output (``... | head``) ends the command quietly.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._config import API_KEY_ENV, BASE_URL_ENV, package_version
from ._errors import (
    APICallError,
    InvalidArgumentError,
    LoadAPIKeyError,
    NoImageGeneratedError,
    RetryError,
    UnsupportedFunctionalityError,
)
from ._generate import generate_image
from ._inputs import is_url
from ._provider import create_togetherai
from ._types import ImageInput, ImagePrompt

PROGRAM = "together-image"
EXIT_API_ERROR = 1
EXIT_USAGE_ERROR = 2

_USAGE_ERRORS = (InvalidArgumentError, UnsupportedFunctionalityError, LoadAPIKeyError)
_API_ERRORS = (APICallError, RetryError, NoImageGeneratedError, OSError)


def _option(text: str) -> tuple[str, Any]:
    key, equals, raw = text.partition("=")
    if not equals or not key:
        raise argparse.ArgumentTypeError(f"expected key=value, got {text!r}")
    try:
        # JSON when it parses (numbers, true/false/null, lists...), else the plain string.
        value = json.loads(raw)
    except ValueError:
        value = raw
    return key, value


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(
        prog=PROGRAM,
        description="Generate and edit images with Together AI.",
        epilog=f"The API key is read from --api-key-file, --api-key-env or --api-key, else from "
        f"{API_KEY_ENV}; the base URL from --base-url, else {BASE_URL_ENV}, else "
        "https://api.together.xyz/v1.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    generate = commands.add_parser(
        "generate",
        help="generate images and write them to a directory",
        description="Generate images (or edit one with --image) and write them to --out.",
    )
    generate.add_argument(
        "--model", required=True, help="model id, e.g. black-forest-labs/FLUX.1-schnell"
    )
    generate.add_argument("--prompt", required=True, help="the prompt text")
    generate.add_argument("--out", required=True, type=Path, help="directory for the images")
    generate.add_argument("--size", help="WIDTHxHEIGHT, e.g. 1024x768")
    generate.add_argument("-n", type=int, default=1, help="number of images (default 1)")
    generate.add_argument("--seed", type=int, help="random seed")
    generate.add_argument("--image", help="input image to edit: a file path or an http(s) URL")
    generate.add_argument("--steps", type=int, help="generation steps (provider option)")
    generate.add_argument(
        "--option",
        type=_option,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="provider option, value parsed as JSON when possible (repeatable)",
    )
    generate.add_argument("--base-url", help="API base URL, e.g. http://127.0.0.1:8787/v1")
    keys = generate.add_mutually_exclusive_group()
    keys.add_argument(
        "--api-key-file",
        type=Path,
        metavar="PATH",
        help="read the API key from this file (its first line; '-' for standard input)",
    )
    keys.add_argument(
        "--api-key-env",
        metavar="NAME",
        help=f"read the API key from this environment variable instead of {API_KEY_ENV}",
    )
    keys.add_argument(
        "--api-key",
        metavar="KEY",
        help="the API key itself; visible to other users in the process list (ps), so prefer "
        f"--api-key-file, --api-key-env or {API_KEY_ENV}",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Args:
        argv: The arguments without the program name (``sys.argv[1:]`` when ``None``).

    Returns:
        0 on success, 1 for an API failure, 2 for bad arguments (argparse exits with 2 itself).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE_ERROR
    try:
        return _generate(args)
    except _USAGE_ERRORS as error:
        _report(error)
        return EXIT_USAGE_ERROR
    except _API_ERRORS as error:
        _report(error)
        return EXIT_API_ERROR


def _report(error: Exception) -> None:
    # Every line: a message's later lines (a list of reasons, a diff) are often the useful part.
    message = str(error) or type(error).__name__
    print(f"{PROGRAM}: error: {message}", file=sys.stderr)


def _silence_stdout() -> None:
    """Point standard output at devnull once its reader went away (``... | head``), so neither
    later prints nor the interpreter's final flush fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        os.close(devnull)


def _api_key(args: argparse.Namespace) -> str | None:
    if args.api_key_file is not None:
        try:
            text = (
                sys.stdin.readline()
                if str(args.api_key_file) == "-"
                else args.api_key_file.read_text(encoding="utf-8")
            )
        except (OSError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else error
            raise InvalidArgumentError(
                f"Cannot read the API key file {str(args.api_key_file)!r}: {reason}.",
                argument="api_key_file",
            ) from None
        key = (text.splitlines() or [""])[0].strip()
        if not key:
            raise InvalidArgumentError(
                f"The API key file {str(args.api_key_file)!r} is empty.", argument="api_key_file"
            )
        return key
    if args.api_key_env is not None:
        key = os.environ.get(args.api_key_env, "").strip()
        if not key:
            raise InvalidArgumentError(
                f"The environment variable {args.api_key_env} named by --api-key-env is not set "
                "or empty.",
                argument="api_key_env",
            )
        return key
    given: str | None = args.api_key
    return given


def _generate(args: argparse.Namespace) -> int:
    options: dict[str, Any] = {}
    if args.steps is not None:
        options["steps"] = args.steps
    options.update(args.option)
    prompt: str | ImagePrompt = args.prompt
    if args.image is not None:
        image: ImageInput = args.image if is_url(args.image) else Path(args.image)
        prompt = ImagePrompt(text=args.prompt, images=[image])
    provider = create_togetherai(api_key=_api_key(args), base_url=args.base_url)
    result = generate_image(
        model=provider.image(args.model),
        prompt=prompt,
        n=args.n,
        size=args.size,
        seed=args.seed,
        provider_options={"togetherai": options} if options else None,
    )
    args.out.mkdir(parents=True, exist_ok=True)
    reader_gone = False
    for number, generated in enumerate(result.images, start=1):
        path = generated.save(args.out / f"image-{number}.{generated.extension}")
        if reader_gone:
            continue  # every image is still saved; only the listing stops
        try:
            print(path, flush=True)
        except BrokenPipeError:
            reader_gone = True
            _silence_stdout()
    return 0
