"""``python -m together_image_fake``: the same command line as ``together-image-fake``."""

from __future__ import annotations

import sys

from together_image_fake._cli import main

if __name__ == "__main__":
    sys.exit(main())
