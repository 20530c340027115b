"""A simulated debtor texting the bot: reads each reply, answers as the debtor model decides.

The decisions are the engine-only run's (:mod:`bot.simulation.parley`): offer to pay in
full or settle when there is cash, give the budget, take a pause in temporary hardship,
pick the option that weighs least, counter once with what they can afford, else take a
review pause, refuse or ask for a person. The words vary from templates, seeded per
debtor. Rules the bot must keep are checked on every reply.
"""

from __future__ import annotations

import datetime
import random
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

from bot.negotiation import Option, Policy, format_money
from bot.simulation.bot_texts import (
    OfferedOption,
    agreement_reference,
    numbered_options,
    proposal,
)
from bot.simulation.debtor import can_keep, counter_amount, preferred_option
from bot.simulation.outcomes import breaks_affordability
from bot.simulation.population import Debtor
from bot.simulation.results import Status

CREDITOR = "Northwind Clinic"
MAX_TURNS = 20
# The same bot line this many times in one conversation is a loop.
STUCK_REPEATS = 3
# Prompts the bot attaches to every new set of terms: repeating them is not a loop.
_GENERIC_PROMPTS = ("Reply YES to agree", "Reply YES to go with it")
# What the bot must never say (compliance.md: no threats).
FORBIDDEN = ("legal action", "lawsuit", "sue you", "arrest", "jail", "police", "garnish", "seize")

Send = Callable[[str, str], list[str]]

GREETINGS = (
    "hi who is this",
    "hello?",
    "hey, who's this",
    "hi, i got a message from this number",
    "hello who is texting me",
)
DOB_FORMATS = ("%B %d %Y", "%m/%d/%Y", "%b %d, %Y", "my date of birth is %m/%d/%Y")
TEMPORARY = (
    "i lost my job last month, hoping to find something soon",
    "my hours got cut for a few weeks",
    "i got laid off, should have new work in a month or two",
    "i was off sick for a while and missed some pay",
    "i'm between jobs right now",
)
LASTING = (
    "i'm on disability and money is always tight",
    "my partner left and i'm raising the kids on one income",
    "i can't work anymore because of my health",
    "since the divorce i've got nothing left at the end of the month",
)
NO_HARDSHIP = (
    "i'd like to set up a payment plan",
    "i want to sort this out, what are my options",
    "doing ok, can i pay this off in installments",
    "i'd like to pay this off, what can i do",
)
INCOME = ("about {x}", "{x}", "around ${x} a month", "i take home about {x}", "{x} after tax")
NO_INCOME = ("nothing right now", "zero at the moment", "no income at the moment")
EXPENSES = ("{x}", "about {x}", "around {x} for rent and bills", "roughly ${x}")
CHOICE = ("{n}", "option {n}", "{n} please", "number {n}")
YES = ("yes", "yes please", "ok deal", "yep that works", "YES", "agreed")
COUNTER = (
    "can i pay {a} a month",
    "i could do {a} a month",
    "how about {a} a month",
    "i can manage {a} a month",
)
PAUSE = (
    "can i pause payments for a couple of months",
    "could i have more time, i have nothing right now",
    "can we push it back until i'm working again",
)
PAY_IN_FULL = (
    "i can pay the whole thing",
    "i'll pay the full amount",
    "i want to pay the whole balance",
)
SETTLE = ("can i settle for {a}", "would you take {a} to close it", "can we settle for {a}")
AFTER_LUMP = (
    "i can't pay that much at once, can i set up a payment plan instead",
    "that's more than i have, can i pay in installments",
)
REFUSE = ("i can't afford that, sorry", "no, that's too much for me", "i can't do that right now")
PERSON = ("can i talk to a real person", "i'd like to speak to someone please")
# When the bot has not moved on: phrasings its training data covers well.
NUDGE = (
    "can i set up a payment plan",
    "can i pay this in installments",
    "i'd like to pay monthly",
)


@dataclass
class Exchange:
    """One debtor message and the bot's replies to it."""

    debtor: str
    bot: list[str]


@dataclass
class Conversation:
    """A whole simulated conversation and what was learnt from it."""

    debtor: Debtor
    exchanges: list[Exchange] = field(default_factory=list)
    status: Status = Status.STUCK
    note: str = ""
    reference: str | None = None
    confirmed: Option | None = None
    lump_request: bool = False
    yes_sent: bool = False
    offered: list[Option] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    stuck_loop: bool = False
    # Replies that did not answer what the debtor said (the debtor had to try again).
    off_topic: list[str] = field(default_factory=list)

    @property
    def turns(self) -> int:
        return len(self.exchanges)


class TextingDebtor:
    """Chooses the next message from the bot's latest replies."""

    def __init__(self, debtor: Debtor, policy: Policy, today: datetime.date) -> None:
        self.debtor = debtor
        self.policy = policy
        self.today = today
        self.random = random.Random(debtor.phrasing)
        self.conversation = Conversation(debtor)
        self.verified = False
        self.lump_stage = debtor.lump_sum >= Decimal("10")
        self.figure = ""
        self.finances_sent = False
        self.countered = False
        self.pause_asked = False
        self.choice: Option | None = None
        self.choice_text = ""
        self.review: Option | None = None
        self.review_text = ""
        self.review_taken = False
        self.nudges = 0
        self.person_asked = False
        self.lines: Counter[str] = Counter()

    # --- the conversation ---

    def talk(self, send: Send, sender: str) -> Conversation:
        """Text the bot until an agreement, a hand-off, a refusal or a loop."""
        message: str | None = self.pick(GREETINGS)
        while message is not None:
            if self.conversation.turns >= MAX_TURNS:
                self.finish(Status.STUCK, f"no outcome after {MAX_TURNS} messages")
                break
            try:
                replies = send(sender, message)
            except OSError as exc:
                self.finish(Status.STUCK, f"the bot did not answer: {exc}")
                break
            self.conversation.exchanges.append(Exchange(message, replies))
            self.check_rules(replies)
            if self.conversation.stuck_loop:
                self.finish(Status.STUCK, f"the same bot line {STUCK_REPEATS} times")
                break
            message = self.reply(replies)
        return self.conversation

    def finish(self, status: Status, note: str) -> None:
        self.conversation.status = status
        self.conversation.note = note

    def reply(self, replies: list[str]) -> str | None:
        """The next message, or None when the conversation is over."""
        text = "\n".join(replies)
        lowered = text.lower()
        balance = self.debtor.balance
        reference = agreement_reference(text)
        if reference:
            self.conversation.reference = reference
            self.finish(Status.AGREED, "agreement confirmed in writing")
            return None
        if "member of our team" in lowered:
            self.finish(Status.ESCALATED, "the bot handed over to a person")
            return None
        if self.person_asked:
            self.finish(Status.REFUSED, "asked for a person; the bot did not hand over")
            return None
        if "attempt to collect a debt" in lowered:
            self.verified = True
        if "date of birth" in lowered and not self.verified:
            return self.debtor.birth_date.strftime(self.pick(DOB_FORMATS)).lower()
        if "how are things going" in lowered:
            return self.opening()
        if lowered.startswith("just to check:") or "\njust to check:" in lowered:
            return self.figure
        if "couldn't find an amount" in lowered:
            return self.figure.split()[-1].lstrip("$") if self.figure else self.pick(NUDGE)
        if "comes in each month" in lowered:
            return self.income()
        if "goes on essentials" in lowered:
            return self.expenses()
        offered = numbered_options(text, balance)
        if offered:
            return self.choose(offered)
        if "reply yes to agree" in lowered or "would that work for you" in lowered:
            return self.answer(proposal(text, balance))
        if "which option" in lowered or "which one did you mean" in lowered:
            return self.choice_text or self.refuse()
        if "nothing within your budget fits" in lowered:
            return self.after_refusal()
        return self.nudge()

    # --- what the debtor says ---

    def opening(self) -> str:
        d = self.debtor
        if d.lump_sum >= d.balance:
            self.conversation.lump_request = True
            return self.pick(PAY_IN_FULL)
        if self.lump_stage:
            self.conversation.lump_request = True
            step = Decimal("10")
            offer = (d.lump_sum / step).quantize(Decimal(1), rounding=ROUND_DOWN) * step
            return self.pick(SETTLE).format(a=f"{offer:.0f}")
        return self.situation()

    def situation(self) -> str:
        if self.debtor.hardship == "temporary":
            return self.pick(TEMPORARY)
        if self.debtor.hardship == "lasting":
            return self.pick(LASTING)
        return self.pick(NO_HARDSHIP)

    def income(self) -> str:
        self.finances_sent = True
        amount = self.debtor.stated_income
        self.figure = (
            self.pick(NO_INCOME) if amount == 0 else self.pick(INCOME).format(x=f"{amount:,.0f}")
        )
        return self.figure

    def expenses(self) -> str:
        self.figure = self.pick(EXPENSES).format(x=f"{self.debtor.stated_expenses:,.0f}")
        return self.figure

    def choose(self, offered: list[OfferedOption]) -> str | None:
        d, today = self.debtor, self.today
        options = [o.option for o in offered if o.option is not None]
        if len(options) < len(offered):
            self.conversation.violations.append(
                "unreadable option: " + "; ".join(o.text for o in offered if o.option is None)
            )
        self.note_offers(options)
        numbered = {id(o.option): o.number for o in offered if o.option is not None}
        review = next((o for o in options if o.requires_review), None)
        if review is not None:
            self.review = review
            self.review_text = self.pick(CHOICE).format(n=numbered[id(review)])
        if d.hardship == "temporary":
            pause = next((o for o in options if o.kind == "deferral"), None)
            if pause is not None and can_keep(d, pause, today):
                return self.pick_option(pause, numbered[id(pause)])
        chosen = preferred_option(d, [o for o in options if o.schedule], today)
        if chosen is not None:
            return self.pick_option(chosen, numbered[id(chosen)])
        own = self.own_proposal()
        if own is not None:
            return own
        return self.take_review_or_refuse()

    def pick_option(self, option: Option, number: int) -> str:
        self.choice = option
        self.choice_text = self.pick(CHOICE).format(n=number)
        return self.choice_text

    def own_proposal(self) -> str | None:
        """The debtor's counter-offer (once), or a request for a pause."""
        d = self.debtor
        if d.willingness != "engaged":
            return None
        if not self.countered:
            self.countered = True
            amount = counter_amount(d)
            if amount is not None:
                self.choice = None
                return self.pick(COUNTER).format(a=f"{amount:.0f}")
        if d.hardship == "temporary" and not self.pause_asked and self.policy.deferral_allowed:
            self.pause_asked = True
            self.choice = None
            return self.pick(PAUSE)
        return None

    def answer(self, option: Option | None) -> str | None:
        """Yes or no to the terms the bot asks a yes for."""
        d = self.debtor
        if option is None:
            return self.nudge()
        if self.conversation.lump_request and self.lump_stage:
            self.lump_stage = False
            if option.schedule and option.schedule[0].amount <= d.lump_sum:
                return self.say_yes(option)
            self.conversation.lump_request = False
            # Moving on to a plan, a debtor in hardship says why (the engine run assumes so).
            return self.situation() if d.hardship != "none" else self.pick(AFTER_LUMP)
        self.note_offers([option])
        if option == self.choice or can_keep(d, option, self.today):
            return self.say_yes(option)
        if self.countered and d.accepts_under_pressure and option.schedule:
            return self.say_yes(option)
        own = self.own_proposal()
        if own is not None:
            return own
        return self.take_review_or_refuse()

    def take_review_or_refuse(self) -> str | None:
        """A pause for a person's review costs nothing now: taken when it was offered."""
        if self.review is not None and not self.review_taken:
            self.review_taken = True
            self.choice = self.review
            self.choice_text = self.review_text
            return self.review_text
        return self.refuse()

    def say_yes(self, option: Option) -> str:
        self.conversation.confirmed = option
        self.conversation.yes_sent = True
        return self.pick(YES)

    def after_refusal(self) -> str | None:
        own = self.own_proposal()
        return own if own is not None else self.take_review_or_refuse()

    def refuse(self) -> str | None:
        if self.debtor.asks_for_person:
            # The bot's answer (a hand-off, we expect) ends the conversation.
            self.person_asked = True
            return self.pick(PERSON)
        self.finish(Status.REFUSED, "nothing offered fits")
        self.conversation.exchanges.append(Exchange(self.pick(REFUSE), []))
        return None

    def nudge(self) -> str | None:
        self.nudges += 1
        exchange = self.conversation.exchanges[-1]
        first = exchange.bot[0] if exchange.bot else "(no reply)"
        self.conversation.off_topic.append(f"{exchange.debtor!r} -> {first[:80]!r}")
        if self.nudges > 3:
            self.finish(Status.STUCK, "the bot did not move the conversation on")
            return None
        if self.verified and not self.finances_sent and self.lump_stage is False:
            return self.pick(NUDGE)
        if self.verified and not self.finances_sent:
            self.lump_stage = False
            self.conversation.lump_request = False
            return self.situation()
        return self.pick(NUDGE)

    def pick(self, templates: tuple[str, ...]) -> str:
        return self.random.choice(templates)

    # --- rules the bot must keep ---

    def note_offers(self, options: list[Option]) -> None:
        for option in options:
            self.conversation.offered.append(option)
            if self.conversation.lump_request:
                continue
            if self.finances_sent and breaks_affordability(
                option, self.debtor.stated_finances, self.policy
            ):
                self.conversation.violations.append(
                    f"offered more than the budget allows: {option.to_dict()['schedule'][:1]} "
                    f"x{len(option.schedule)} ({option.frequency})"
                )

    def check_rules(self, replies: list[str]) -> None:
        text = "\n".join(replies)
        lowered = text.lower()
        if not self.verified and "attempt to collect a debt" not in lowered:
            shown = format_money(self.debtor.balance, "USD")
            if CREDITOR.lower() in lowered or shown in text:
                self.conversation.violations.append("debt disclosed before identity was checked")
        for word in FORBIDDEN:
            if re.search(rf"\b{word}\b", lowered):
                self.conversation.violations.append(f"threatening language: {word!r}")
        for line in text.split("\n"):
            line = line.strip()
            if not line or line.startswith(_GENERIC_PROMPTS):
                continue
            self.lines[line] += 1
            if self.lines[line] >= STUCK_REPEATS:
                self.conversation.stuck_loop = True


def talk(
    debtor: Debtor, send: Send, sender: str, policy: Policy, today: datetime.date
) -> Conversation:
    """Have ``debtor`` text the bot through ``send`` (silent debtors never do)."""
    if debtor.willingness == "silent":
        return Conversation(debtor, status=Status.SILENT, note="never replied")
    return TextingDebtor(debtor, policy, today).talk(send, sender)
