"""Entry point for ``python -m together_image``: the same command line as ``together-image``."""

from __future__ import annotations

from together_image._cli import main

if __name__ == "__main__":
    raise SystemExit(main())
