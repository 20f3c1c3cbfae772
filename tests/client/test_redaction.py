"""``redact_secret``: the key never survives, and short placeholder keys never mangle other text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from together_image._errors import redact_secret

LONG_KEYS = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=12, max_size=64
)


@given(before=st.text(), after=st.text(), key=LONG_KEYS)
def test_a_long_key_never_survives_wherever_it_stands(before: str, after: str, key: str) -> None:
    assert key not in redact_secret(before + key + after, key)


@given(key=st.from_regex(r"[A-Za-z0-9_-]{1,11}", fullmatch=True))
def test_a_short_key_standing_as_a_token_is_redacted(key: str) -> None:
    # The frame uses no letter, digit, "_" or "-", so the key can only match where it was put.
    assert redact_secret(f"[{key}] ({key}).", key) == "[***] (***)."


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("rate limit for black-forest-labs/FLUX.1-kontext-pro", "k"),
        ("id omJKGKg-2kFHot-a046745b3835a2b4-SEA", "k"),
        ("Unable to access model test-model", "test"),
    ],
)
def test_a_short_key_inside_other_words_leaves_them_intact(text: str, key: str) -> None:
    assert redact_secret(text, key) == text


@pytest.mark.parametrize("secret", [None, ""])
def test_no_key_means_no_change(secret: str | None) -> None:
    assert redact_secret("anything at all", secret) == "anything at all"
