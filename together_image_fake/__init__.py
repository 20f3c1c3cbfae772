"""together_image_fake: a faithful, offline fake of Together AI's image endpoint.

One backend (``FakeTogether``) answers like the real API; thin adapters expose it in-process (through
``responses``), as a loopback HTTP server, and as pytest fixtures. This module only re-exports and
imports neither pytest nor hypothesis.
"""

from __future__ import annotations

__all__: list[str] = []
