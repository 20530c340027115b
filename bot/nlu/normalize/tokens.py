"""Cleaning and tokenising debtor text: what every normaliser reads first."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_TRANSLATE = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
    }
)


def _clean(text: object) -> str:
    """Lower-case, NFKC-folded text with control/format characters turned into spaces.

    NFKC folds full-width digits and letters that phone keyboards produce; control and
    format characters (zero-width joiners, RTL marks, lone surrogates) become spaces so
    they can neither glue nor split tokens unexpectedly.
    """
    if not isinstance(text, str) or not text:
        return ""
    text = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in text)
    text = unicodedata.normalize("NFKC", text).translate(_TRANSLATE)
    return " ".join(text.lower().split())


@dataclass(frozen=True)
class _Tok:
    text: str
    start: int
    end: int
    kind: str  # "num", "word" or "sym"


# Digit groups keep their internal separators ("1,234.56", "7.8.1979") so a malformed
# number is seen whole and rejected, rather than read as its first piece.
_TOKEN_RE = re.compile(r"[0-9]+(?:[.,][0-9]+)*|[^\W\d_]+(?:'[^\W\d_]+)*|\S")


def _tokenize(clean: str) -> list[_Tok]:
    toks = []
    for m in _TOKEN_RE.finditer(clean):
        s = m.group()
        kind = "num" if s[0].isdigit() and s[0].isascii() else ("word" if s[0].isalpha() else "sym")
        toks.append(_Tok(s, m.start(), m.end(), kind))
    return toks


def _adjacent(a: _Tok, b: _Tok) -> bool:
    return a.end == b.start
