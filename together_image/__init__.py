"""together_image: a synchronous reference client for Together AI's image endpoint.

It mirrors the semantics of the AI SDK's ``generateImage()`` for Together (text-to-image, FLUX Kontext
editing, provider options, ``n`` split into single-image calls, warnings, typed errors and retries),
with the deliberate improvements documented in the README. This module only re-exports.
"""

from __future__ import annotations

__all__: list[str] = []
