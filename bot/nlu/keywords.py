"""Keywords (whole message, any case): the carriers' STOP and friends, START/UNSTOP and
HELP, and "person" (what the bot itself tells people to reply to reach a human)."""

from __future__ import annotations

import re

OPT_OUT_KEYWORDS = frozenset(
    {"STOP", "UNSUBSCRIBE", "END", "QUIT", "STOPALL", "REVOKE", "OPTOUT", "CANCEL"}
)
OPT_IN_KEYWORDS = frozenset({"START", "UNSTOP"})
HELP_KEYWORDS = frozenset({"HELP"})
# The bot tells people to reply "person" to reach a human; that word alone must work.
HUMAN_KEYWORDS = frozenset(
    {"PERSON", "A PERSON", "HUMAN", "A HUMAN", "AGENT", "OPERATOR", "REPRESENTATIVE", "REAL PERSON"}
)

# Intents the dialogue uses for each keyword family.
KEYWORD_INTENTS = {
    **{k: "request_stop_contact" for k in OPT_OUT_KEYWORDS},
    **{k: "resubscribe" for k in OPT_IN_KEYWORDS},
    **{k: "ask_help" for k in HELP_KEYWORDS},
    **{k: "request_human" for k in HUMAN_KEYWORDS},
}

# Surrounding spaces and punctuation don't change a keyword ("Stop." / " STOP!").
_EDGES = re.compile(r"^[\s\W_]+|[\s\W_]+$", re.UNICODE)


def keyword_of(text: str | None) -> str | None:
    """The keyword a whole message is, upper-cased, or None ("stop texting me" is None)."""
    if not text:
        return None
    core = _EDGES.sub("", text).upper()
    return core if core in KEYWORD_INTENTS else None


def is_opt_out(text: str | None) -> bool:
    return keyword_of(text) in OPT_OUT_KEYWORDS


def is_opt_in(text: str | None) -> bool:
    return keyword_of(text) in OPT_IN_KEYWORDS


def is_help(text: str | None) -> bool:
    return keyword_of(text) in HELP_KEYWORDS
