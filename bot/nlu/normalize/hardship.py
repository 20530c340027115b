"""The kind of hardship a message names (the ``hardship`` entity's values)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.nlu.normalize.tokens import _clean

HARDSHIP_KINDS = ("job_loss", "illness", "family", "reduced_income", "other")


_POSSESSIVES = ("my", "his", "her", "our", "their", "the")
_RELATIVES = (
    "mom", "mum", "mother", "dad", "father", "husband", "wife", "son", "daughter", "brother",
    "sister", "grandma", "grandmother", "grandpa", "grandfather", "partner", "boyfriend",
    "girlfriend", "fiance", "aunt", "uncle", "baby", "child", "parent", "nan",
)  # fmt: skip


def _with_owners(template: str, owners: Sequence[str] = _POSSESSIVES) -> list[str]:
    return [template.format(owner) for owner in owners]


# Literal phrases, lower-case and space-separated. The spaCy entity ruler labels exactly
# these as `hardship`, and parse_hardship matches them too, so every labelled span
# normalises (tests check both directions).
HARDSHIP_PHRASES: dict[str, tuple[str, ...]] = {
    "job_loss": tuple(
        [
            *_with_owners("lost {} job"),
            *_with_owners("lost {} jobs"),
            "lost work",
            "lost a job",
            "lost the contract",
            "lost my position",
            "laid off",
            "got laid off",
            "been laid off",
            "lay off",
            "layoff",
            "layoffs",
            "got let go",
            "been let go",
            "fired",
            "got fired",
            "got sacked",
            "sacked",
            "terminated",
            "unemployed",
            "jobless",
            "out of work",
            "no job",
            "dont have a job",
            "don't have a job",
            "without a job",
            "between jobs",
            "not working anymore",
            "im not working",
            "i'm not working",
            "no longer working",
            "no longer employed",
            "made redundant",
            "redundant",
            "quit my job",
            "job ended",
            "contract ended",
            "company closed",
            "company shut down",
            "business closed",
            "on unemployment",
            "looking for work",
            "looking for a job",
            "lost my job",
        ]
    ),
    "illness": tuple(
        [
            "sick",
            "been sick",
            "got sick",
            "im sick",
            "i'm sick",
            "was sick",
            "is sick",
            "very sick",
            "really sick",
            "getting sick",
            "sick kid",
            "sick child",
            "illness",
            "fell ill",
            "been ill",
            "very ill",
            "seriously ill",
            "surgery",
            "an operation",
            "hospital",
            "in the hospital",
            "in hospital",
            "hospitalized",
            "hospitalised",
            "cancer",
            "chemo",
            "chemotherapy",
            "medical bills",
            "medical bill",
            "medical issues",
            "medical condition",
            "medical leave",
            "sick leave",
            "on disability",
            "disability",
            "injury",
            "injured",
            "hurt my back",
            "broke my leg",
            "broke my arm",
            "broke my back",
            "accident",
            "diagnosed",
            "stroke",
            "heart attack",
            "covid",
            "health issues",
            "health problems",
            "mental health",
            "treatment",
            "rehab",
            "doctor",
            "doctors",
            "bedridden",
        ]
    ),
    "family": tuple(
        [
            "divorce",
            "divorced",
            "getting divorced",
            "separated",
            "separation",
            "breakup",
            "break up",
            "broke up",
            "baby",
            "new baby",
            "newborn",
            "pregnant",
            "pregnancy",
            "maternity",
            "maternity leave",
            "paternity leave",
            "kids",
            "my kid",
            "children",
            "my child",
            "child care",
            "childcare",
            "daycare",
            "day care",
            "child support",
            "single mom",
            "single mum",
            "single dad",
            "single parent",
            "custody",
            "passed away",
            "death in the family",
            "bereavement",
            "funeral",
            "widow",
            "widowed",
            "caring for my",
            "caregiver",
            "family emergency",
            "family issues",
            "family problems",
            *[f"my {r} passed" for r in _RELATIVES],
            *[f"my {r} passed away" for r in _RELATIVES],
            *[f"my {r} died" for r in _RELATIVES],
        ]
    ),
    "reduced_income": tuple(
        [
            "hours got cut",
            "hours were cut",
            "hours been cut",
            "hours have been cut",
            "hours cut",
            "cut my hours",
            "cut our hours",
            "reduced hours",
            "fewer hours",
            "less hours",
            "pay cut",
            "paycut",
            "took a pay cut",
            "salary cut",
            "wage cut",
            "reduced pay",
            "reduced income",
            "reduced salary",
            "less income",
            "less work",
            "part time",
            "part-time",
            "only part time now",
            "business is slow",
            "business has been slow",
            "business is bad",
            "business is down",
            "slow season",
            "fewer shifts",
            "less shifts",
            "shifts got cut",
            "cut my shifts",
            "no overtime",
            "overtime got cut",
            "furloughed",
            "furlough",
            "making less",
            "earning less",
            "income went down",
            "income dropped",
            "commission is down",
            "demoted",
            "benefits got cut",
            "benefits cut",
            "benefits stopped",
        ]
    ),
    "other": tuple(
        [
            "car broke down",
            "car broke",
            "car repairs",
            "car repair",
            "car trouble",
            "rent went up",
            "rent increased",
            "rent is due",
            "rent got raised",
            "behind on rent",
            "behind on bills",
            "behind on my bills",
            "too many bills",
            "bills piling up",
            "other bills",
            "other debts",
            "can't afford",
            "cant afford",
            "cannot afford",
            "im broke",
            "i'm broke",
            "flat broke",
            "money is tight",
            "tight on money",
            "struggling financially",
            "struggling",
            "evicted",
            "eviction",
            "homeless",
            "got robbed",
            "robbed",
            "stolen",
            "scammed",
            "house fire",
            "flood",
            "hurricane",
            "legal fees",
            "inflation",
            "gas prices",
        ]
    ),
}

# The phrases above that name a crisis (bereavement, severe illness) rather than ordinary
# hardship. The entity still calls them family or illness; the concept lexicon, which
# reads this vocabulary too, leaves them to its crisis concepts (bot/nlu/concepts.py), so
# the intent models keep a crisis apart from ordinary hardship.
CRISIS_PHRASES = frozenset(
    {
        "passed away",
        "death in the family",
        "bereavement",
        "funeral",
        "widow",
        "widowed",
        *[f"my {r} {verb}" for r in _RELATIVES for verb in ("passed", "passed away", "died")],
        "cancer",
        "chemo",
        "chemotherapy",
        "hospitalized",
        "hospitalised",
        "in hospital",
        "in the hospital",
        "stroke",
        "heart attack",
        "mental health",
        "disability",
        "on disability",
        "caregiver",
    }
)

# Stems the literal phrases cannot list (tense and word-order variants).
_HARDSHIP_EXTRA: dict[str, tuple[str, ...]] = {
    "job_loss": (
        r"\blos(?:t|e|ing)\s+(?:my|his|her|our|their|the|a)?\s*(?:job|jobs|position|employment)\b",
        r"\b(?:got|was|been|being|be)\s+(?:laid\s+off|let\s+go|fired|terminated|sacked)\b",
        r"\bunemploy",
    ),
    "illness": (
        # Not a bare "ill": texters write "ill pay friday" for "I'll".
        r"\b(?:sick|sickness|illness)\b(?!\s+(?:of|and\s+tired))",
        r"\bsurger(?:y|ies)\b",
        r"\bhospital",
        r"\binjur(?:y|ies|ed)\b",
        r"\bmedical\b",
    ),
    "family": (
        r"\bdivorc",
        r"\b(?:mom|mum|mother|dad|father|husband|wife|son|daughter|brother|sister|grand\w*"
        r"|partner|baby|child|parent)\s+(?:just\s+)?(?:passed|died)\b",
        r"\b(?:kids|children)\b",
    ),
    "reduced_income": (
        r"\bhours\s+(?:\w+\s+){0,3}cut\b",
        r"\bcut\s+(?:back\s+)?(?:my|our|his|her)?\s*(?:hours|shifts|pay)\b",
        r"\bpart[\s-]?time\b",
        r"\bbusiness\s+(?:\w+\s+){0,3}(?:slow|down|bad|dead)\b",
    ),
    "other": (
        r"\bcar\s+(?:\w+\s+)?broke\b",
        r"\brent\s+(?:\w+\s+){0,2}(?:up|increased|raised)\b",
        r"\bbroke\b(?!\s+(?:my|his|her|down|up|the|a|it))",
    ),
}


# Phrases that mean something else before certain words ("sick of this", "sick and tired").
_PHRASE_GUARDS = {"sick": r"(?!\s+(?:of|and\s+tired))"}


def _hardship_regex(kind: str) -> re.Pattern[str]:
    phrases = sorted(HARDSHIP_PHRASES[kind], key=len, reverse=True)
    alternatives = (re.escape(p) + r"\b" + _PHRASE_GUARDS.get(p, "") for p in phrases)
    literal = r"\b(?:" + "|".join(alternatives) + r")"
    return re.compile("|".join([literal, *_HARDSHIP_EXTRA[kind]]))


_HARDSHIP_RES = {kind: _hardship_regex(kind) for kind in HARDSHIP_KINDS}
# A negator right before the phrase, or with auxiliaries between ("didn't get fired"),
# but not "no i lost my job", which is a "no" answering something else.
_NEGATION_RE = re.compile(
    r"\b(?:not|never|no|didn't|didnt|don't|dont|doesn't|doesnt|wasn't|wasnt|weren't|werent"
    r"|isn't|isnt|aren't|arent|haven't|havent|hasn't|hasnt|won't|wont|ain't|aint)\s+"
    r"(?:(?:get|got|gotten|been|be|being|have|had|really|even|actually|ever|any|a|an|the|my"
    r"|our)\s+){0,2}$"
)


def parse_hardship(text: str) -> str | None:
    """The kind of hardship the text describes, or None when it describes none.

    job_loss ("lost my job", "laid off", "fired", "unemployed"), illness ("surgery",
    "in the hospital", "sick", "cancer", "medical bills", "injury"), family ("divorce",
    "new baby", "my mom passed", "kids", "child care", "funeral"), reduced_income ("hours
    got cut", "pay cut", "reduced hours", "only part time now", "business is slow") or
    other money trouble ("car broke down", "rent went up", "can't afford"). When several
    are named, the one mentioned first wins; "other" only when no specific kind is
    named. A directly negated mention ("i'm not sick", "didn't get fired") is ignored.
    """
    clean = _clean(text)
    if not clean:
        return None
    best: tuple[int, int] | None = None
    best_kind: str | None = None
    for rank, kind in enumerate(HARDSHIP_KINDS):
        if kind == "other" and best_kind is not None:
            break
        for m in _HARDSHIP_RES[kind].finditer(clean):
            # The phrase itself may carry "not" ("not working"): look only before it.
            if _NEGATION_RE.search(clean, max(0, m.start() - 24), m.start()):
                continue
            key = (m.start(), rank)
            if best is None or key < best:
                best, best_kind = key, kind
            break
    return best_kind
