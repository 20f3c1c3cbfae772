"""The ``together-image`` command: generate images from the shell and write them to a directory.

``together-image generate --model M --prompt P --out DIR [...]`` calls ``generate_image()`` with the
key from ``TOGETHER_API_KEY``, writes ``DIR/image-<i>.<ext>`` (extension from the detected media
type) and prints each path. Bad arguments exit with status 2, API failures with status 1, each with
a one-line message on stderr.
"""

from __future__ import annotations

import argparse
import json
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
        epilog=f"The API key is read from {API_KEY_ENV}; the base URL from --base-url, else "
        f"{BASE_URL_ENV}, else https://api.together.xyz/v1.",
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
    first_line = (str(error).splitlines() or [type(error).__name__])[0]
    print(f"{PROGRAM}: error: {first_line}", file=sys.stderr)


def _generate(args: argparse.Namespace) -> int:
    options: dict[str, Any] = {}
    if args.steps is not None:
        options["steps"] = args.steps
    options.update(args.option)
    prompt: str | ImagePrompt = args.prompt
    if args.image is not None:
        image: ImageInput = args.image if is_url(args.image) else Path(args.image)
        prompt = ImagePrompt(text=args.prompt, images=[image])
    result = generate_image(
        model=create_togetherai(base_url=args.base_url).image(args.model),
        prompt=prompt,
        n=args.n,
        size=args.size,
        seed=args.seed,
        provider_options={"togetherai": options} if options else None,
    )
    args.out.mkdir(parents=True, exist_ok=True)
    for number, generated in enumerate(result.images, start=1):
        print(generated.save(args.out / f"image-{number}.{generated.extension}"))
    return 0
