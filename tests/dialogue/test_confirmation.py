"""Only a plain yes confirms an agreement."""

from __future__ import annotations

import pytest

from bot.dialogue.confirmation import is_explicit_yes


@pytest.mark.parametrize(
    "text",
    [
        "yes",
        "YES",
        "Yes please",
        "ok",
        "okay deal",
        "sure 👍",
        "yep go ahead",
        "sounds good",
        "y",
        "i agree",
        "👍",
        "lets do it",
    ],
)
def test_plain_yes(text: str) -> None:
    assert is_explicit_yes(text)


@pytest.mark.parametrize(
    "text",
    [
        "that wont work",
        "no",
        "yes but can i start later",
        "ok?",
        "yes... wait actually no",
        "not sure",
        "i dont agree",
        "maybe",
        "can we change the date",
        "",
        "hmm ok",
        "sure, instead can i do weekly",
        "lol",
    ],
)
def test_anything_doubtful_is_not_a_yes(text: str) -> None:
    assert not is_explicit_yes(text)
