"""Property tests: every plan the engine offers or agrees obeys the policy and the
affordability rule, whatever the balance, finances, policy and date."""

import datetime
from dataclasses import replace
from decimal import Decimal

from hypothesis import event, given, settings
from hypothesis import strategies as st

from bot.negotiation import (
    CounterOffer,
    Finances,
    Frequency,
    Option,
    Outcome,
    Policy,
    QuietHours,
    affordable_installment,
    build_quote,
    disposable_income,
    evaluate_counter_offer,
    evaluate_deferral,
    evaluate_settlement,
)
from bot.negotiation.plans import due_date

PROPERTY_SETTINGS = settings(max_examples=300, deadline=None)
THREATS = ("legal", "court", "arrest", "garnish", "lawsuit", "sue ", "jail", "police")


def cents(low: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.integers(low, high).map(lambda c: Decimal(c).scaleb(-2))


def fraction(low: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.integers(low, high).map(lambda p: Decimal(p).scaleb(-2))


# Balances of 1.00-100000.00, with small balances drawn often enough to hit edge cases.
balances = st.one_of(cents(100, 10_000_000), cents(100, 500_000), cents(100, 20_000))
amounts_0_20000 = cents(0, 2_000_000)


@st.composite
def finances_strategy(draw: st.DrawFn) -> Finances:
    income = draw(amounts_0_20000)
    # Half the time expenses leave something over, so plans actually fit.
    expenses = draw(st.one_of(amounts_0_20000, cents(0, int(income * 100))))
    return Finances(income, expenses)


policies = st.builds(
    Policy,
    name=st.just("property"),
    min_installment=cents(100, 50_000),
    max_installments=st.integers(1, 60),
    frequencies=st.lists(st.sampled_from(list(Frequency)), min_size=1, max_size=3, unique=True).map(
        tuple
    ),
    max_share_of_disposable=fraction(1, 100),
    first_payment_window_days=st.integers(1, 60),
    max_deferral_days=st.integers(0, 180),
    settlement_allowed=st.booleans(),
    settlement_floor=fraction(1, 100),
    quiet_hours=st.just(QuietHours(datetime.time(8, 0), datetime.time(21, 0))),
    max_outbound_per_7_days=st.integers(1, 10),
    verification_attempts=st.integers(1, 5),
)
days = st.dates(datetime.date(2020, 1, 1), datetime.date(2035, 12, 31))


@st.composite
def workable_cases(draw: st.DrawFn) -> tuple[Decimal, Finances, Policy]:
    """A balance, finances and policy where installment plans usually fit (the rarer case)."""
    policy = draw(policies)
    count = draw(st.integers(2, 60))
    balance = draw(st.one_of(balances, cents(100, 500_000)))
    # A monthly payment between what the longest plan needs and half the balance...
    low = -(-int(balance * 100) // count)
    regular = draw(cents(low, max(low, int(balance * 50))))
    # ...and the disposable income that makes it affordable under the policy's share.
    needed = (regular / policy.max_share_of_disposable).quantize(Decimal("0.01"), "ROUND_CEILING")
    disposable = needed + draw(cents(0, 10_000))
    expenses = draw(cents(0, 2_000_000))
    weekly = int(regular * 100 * 12 / 52)
    policy = replace(policy, max_installments=count, min_installment=draw(cents(1, max(1, weekly))))
    return balance, Finances(disposable + expenses, expenses), policy


def window_end(policy: Policy, today: datetime.date) -> datetime.date:
    return today + datetime.timedelta(days=policy.first_payment_window_days)


def check_option(
    option: Option,
    balance: Decimal,
    finances: Finances | None,
    policy: Policy,
    today: datetime.date,
) -> None:
    """Every rule a plan must obey (compliance.md, Affordability; the creditor's policy)."""
    schedule = option.schedule
    payments = [i.amount for i in schedule]
    dates = [i.due_date for i in schedule]
    assert all(a > 0 and a == a.quantize(Decimal("0.01")) for a in payments)
    if schedule:
        assert sum(payments) == option.total
    assert all(earlier < later for earlier, later in zip(dates, dates[1:], strict=False))

    if option.settlement:
        assert option.kind == "full"
        floor = (policy.settlement_floor * balance).quantize(Decimal("0.01"), "ROUND_CEILING")
        assert policy.settlement_allowed
        assert floor <= option.total < balance
    else:
        assert option.total == balance

    if option.kind in ("full", "installment"):
        assert today <= dates[0] <= window_end(policy, today)
    if option.kind == "full":
        assert len(schedule) == 1
    if option.kind == "deferral":
        assert option.deferred_until is not None
        assert (
            today
            < option.deferred_until
            <= today + datetime.timedelta(days=policy.max_deferral_days)
        )
        if schedule:
            assert dates[0] == option.deferred_until
        else:
            assert option.requires_review

    if len(schedule) > 1:
        # An installment plan, possibly after a pause.
        frequency = option.frequency
        assert frequency is not None and policy.allows(frequency)
        assert finances is not None
        limit = affordable_installment(policy, finances, frequency)
        regular = payments[0]
        assert 2 <= len(schedule) <= policy.max_installments
        assert all(a == regular for a in payments[:-1])
        assert payments[-1] <= regular <= limit
        # Only a final remainder (or a balance below the minimum) may be under the minimum.
        assert regular >= policy.min_installment or balance < policy.min_installment
        assert dates == [due_date(dates[0], frequency, i) for i in range(len(dates))]


def plan_possible(balance: Decimal, finances: Finances, policy: Policy, f: Frequency) -> bool:
    """Independent oracle: is there any regular amount that satisfies every rule?"""
    if not policy.allows(f) or policy.max_installments < 2:
        return False
    lowest = (balance / policy.max_installments).quantize(Decimal("0.01"), "ROUND_CEILING")
    if balance >= policy.min_installment:
        lowest = max(lowest, policy.min_installment)
    highest = min(affordable_installment(policy, finances, f), balance - Decimal("0.01"))
    return lowest <= highest


@PROPERTY_SETTINGS
@given(
    case=st.one_of(st.tuples(balances, finances_strategy(), policies), workable_cases()),
    today=days,
    hardship=st.booleans(),
    max_options=st.integers(1, 5),
)
def test_every_quoted_option_obeys_the_rules(
    case: tuple[Decimal, Finances, Policy],
    today: datetime.date,
    hardship: bool,
    max_options: int,
) -> None:
    balance, finances, policy = case
    quote = build_quote(
        balance, finances, policy, today, temporary_hardship=hardship, max_options=max_options
    )
    assert len(quote.options) <= max_options
    event("kinds: " + ",".join(sorted({o.kind for o in quote.options})))
    for option in quote.options:
        check_option(option, balance, finances, policy, today)
        assert option.to_dict()["total"] == str(option.total)
        if option.kind == "full":
            assert balance <= disposable_income(finances)
        if option.kind == "deferral":
            assert policy.deferral_allowed and option.deferred_until == today + datetime.timedelta(
                days=policy.max_deferral_days
            )

    full_fits = balance <= disposable_income(finances)
    fitting = [f for f in Frequency if plan_possible(balance, finances, policy, f)]
    if not full_fits and not fitting:
        assert not any(o.kind in ("full", "installment") for o in quote.options)
        assert quote.needs_human_review
        assert quote.reason
        if policy.deferral_allowed:
            assert [o.kind for o in quote.options] == ["deferral"]
    else:
        assert not quote.needs_human_review and quote.reason is None

    # The fewest payments at each frequency where any plan fits.
    all_options = build_quote(balance, finances, policy, today, max_options=5).options
    planned = {o.frequency: o for o in all_options if o.kind == "installment"}
    assert set(planned) == set(fitting)
    for frequency, option in planned.items():
        limit = affordable_installment(policy, finances, frequency)
        fewest = max(2, -(-int(balance * 100) // int(limit * 100)))
        assert option.installment_count == fewest

    if hardship and policy.deferral_allowed:
        assert quote.options[-1].kind == "deferral"


@st.composite
def counter_offers(
    draw: st.DrawFn,
    balance: Decimal,
    finances: Finances,
    policy: Policy,
    today: datetime.date,
) -> CounterOffer:
    """Offers around the interesting edges: the affordable amount, the minimum, the balance."""
    frequency = draw(st.one_of(st.none(), st.sampled_from(list(Frequency))))
    limit = affordable_installment(policy, finances, frequency or Frequency.MONTHLY)
    scaled = st.integers(1, 150).map(lambda p: (limit * p / 100).quantize(Decimal("0.01")))
    # Amounts that break no rule when there are any: between the smallest compliant
    # payment and the affordable limit.
    lowest = -(-int(balance * 100) // policy.max_installments)
    if balance >= policy.min_installment:
        lowest = max(lowest, int(policy.min_installment * 100))
    highest = min(int(limit * 100), int(balance * 100) - 1)
    compliant = cents(lowest, highest) if lowest <= highest else st.nothing()
    amount = draw(
        st.one_of(
            st.none(),
            compliant,
            compliant,
            cents(1, 50_000),
            cents(1, 10_000_000),
            scaled,
            st.just(policy.min_installment),
            st.just(balance),
            st.just((balance / policy.max_installments).quantize(Decimal("0.01"))),
        )
    )
    if amount is not None and amount <= 0:
        amount = Decimal("0.01")
    first_due = draw(st.one_of(st.none(), st.integers(0, 90)))
    return CounterOffer(
        amount=amount,
        frequency=frequency,
        first_due=None if first_due is None else today + datetime.timedelta(days=first_due),
        lump_sum=draw(st.sampled_from([False, False, False, True])),
    )


any_cases = st.tuples(
    st.one_of(balances, cents(100, 500_000)),
    st.one_of(finances_strategy(), finances_strategy(), st.none()),
    policies,
)


@PROPERTY_SETTINGS
@given(case=st.one_of(any_cases, workable_cases()), today=days, data=st.data())
def test_every_agreed_or_countered_plan_obeys_the_rules(
    case: tuple[Decimal, Finances | None, Policy],
    today: datetime.date,
    data: st.DataObject,
) -> None:
    balance, finances, policy = case
    offer = data.draw(
        counter_offers(balance, finances or Finances(Decimal(0), Decimal(0)), policy, today)
    )
    decision = evaluate_counter_offer(balance, finances, policy, today, offer)
    event(f"{decision.outcome.value} {decision.reason}")
    assert not any(word in decision.message.lower() for word in THREATS)
    if finances is None:
        assert (decision.outcome, decision.reason) == (Outcome.REFUSED, "finances_needed")
        return
    if decision.outcome is Outcome.REFUSED:
        assert decision.option is None
        return
    option = decision.option
    assert option is not None
    check_option(option, balance, finances, policy, today)
    assert option.kind in ("full", "installment")
    first = option.schedule[0]
    if option.kind == "installment":
        assert str(first.amount) in decision.message.replace(",", "")
    if decision.outcome is Outcome.ACCEPTED and option.kind == "installment":
        # Accepted means exactly what was proposed.
        assert option.regular_amount == offer.amount
        assert option.frequency is (offer.frequency or Frequency.MONTHLY)
        assert offer.first_due is None or first.due_date == offer.first_due


@PROPERTY_SETTINGS
@given(balance=balances, policy=policies, today=days, amount=cents(1, 10_000_000))
def test_settlements_never_go_below_the_floor(
    balance: Decimal, policy: Policy, today: datetime.date, amount: Decimal
) -> None:
    decision = evaluate_settlement(balance, policy, today, amount)
    if decision.outcome is Outcome.REFUSED:
        assert not policy.settlement_allowed and amount < balance
        return
    assert decision.option is not None
    check_option(decision.option, balance, None, policy, today)
    if decision.outcome is Outcome.ACCEPTED and decision.option.settlement:
        assert decision.option.total == amount


@PROPERTY_SETTINGS
@given(
    balance=balances,
    finances=st.one_of(st.none(), finances_strategy()),
    policy=policies,
    today=days,
    pause=st.one_of(st.none(), st.integers(1, 365)),
)
def test_deferrals_stay_within_the_policy(
    balance: Decimal,
    finances: Finances | None,
    policy: Policy,
    today: datetime.date,
    pause: int | None,
) -> None:
    until = None if pause is None else today + datetime.timedelta(days=pause)
    decision = evaluate_deferral(balance, finances, policy, today, until)
    if not policy.deferral_allowed:
        assert (decision.outcome, decision.reason) == (Outcome.REFUSED, "deferral_not_allowed")
        return
    assert decision.option is not None
    check_option(decision.option, balance, finances, policy, today)
    if until is not None and decision.outcome is Outcome.ACCEPTED:
        assert decision.option.deferred_until == until
