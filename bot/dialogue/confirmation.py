"""Is this message an explicit yes? The last check before an agreement is stored.

The NLU may read "that won't work" or "yes but can I start later?" as affirm; storing an
agreement on that would be wrong, so a confirmation also has to look like a plain yes.
"""

from __future__ import annotations

import re

_YES = re.compile(
    r"\b(y|ya|yes+|yeah|yea|yep|yup|ok|okay|k|sure|agree|agreed|deal|confirm|confirmed|"
    r"go ahead|do it|sounds good|fine|perfect|correct|absolutely|definitely|of course|"
    r"let'?s do (it|that|this)|works for me|that works|i accept|accepted)\b|👍|✅|👌|🤝",
    re.IGNORECASE,
)
_DOUBT = re.compile(
    r"\b(no|not|nope|nah|don'?t|doesn'?t|won'?t|wont|can'?t|cant|cannot|never|isn'?t|"
    r"wouldn'?t|but|however|unless|wait|change|instead|maybe|hmm+)\b|\?",
    re.IGNORECASE,
)


def is_explicit_yes(text: str) -> bool:
    """True for "yes", "ok deal 👍", "yes please, go ahead"; False when in doubt."""
    value = (text or "").strip()
    return bool(_YES.search(value)) and not _DOUBT.search(value)
