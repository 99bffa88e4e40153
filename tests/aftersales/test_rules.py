"""The pure after-sales rules (AS-01…AS-05): state machine, window, auto-approval, SLA, queue
order, refund arithmetic and the published policy. No database."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storeops.aftersales import rules
from storeops.aftersales.rules import Kind, LineState, SlaState, Status

T = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
money = st.decimals(min_value=0, max_value=Decimal("99999.99"), places=2)


# --- state machine ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "path"),
    [
        (Kind.REFUND_ONLY, [Status.REQUESTED, Status.APPROVED, Status.REFUNDED]),
        (
            Kind.RETURN,
            [Status.REQUESTED, Status.APPROVED, Status.RECEIVED, Status.INSPECTED, Status.REFUNDED],
        ),
        (
            Kind.EXCHANGE,
            [Status.REQUESTED, Status.APPROVED, Status.RECEIVED, Status.INSPECTED, Status.EXCHANGED],
        ),
    ],
)
def test_as_04_each_kind_has_its_happy_path(kind, path):
    assert all(rules.can_transition(kind, a, b) for a, b in itertools.pairwise(path))


def test_as_04_refund_only_never_waits_for_goods_and_exchanges_never_refund():
    assert not rules.can_transition(Kind.REFUND_ONLY, Status.APPROVED, Status.RECEIVED)
    assert not rules.can_transition(Kind.EXCHANGE, Status.INSPECTED, Status.REFUNDED)
    assert not rules.can_transition(Kind.RETURN, Status.APPROVED, Status.REFUNDED)  # goods first


@given(st.sampled_from(list(Kind)), st.sampled_from(sorted(rules.CLOSED)), st.sampled_from(list(Status)))
def test_as_04_closed_cases_never_move(kind, closed, target):
    assert not rules.can_transition(kind, closed, target)


@given(st.sampled_from(list(Kind)), st.sampled_from([Status.RECEIVED, Status.INSPECTED]))
def test_as_04_cancel_is_refused_once_the_goods_arrived(kind, status):
    assert not rules.can_transition(kind, status, Status.CANCELLED)


# --- AS-01 window -----------------------------------------------------------------------------------


@given(st.integers(min_value=0, max_value=365), st.integers(min_value=-10_000, max_value=600_000))
def test_as_01_window_is_inclusive_of_exactly_n_days(days, minutes):
    now = T + dt.timedelta(minutes=minutes)
    inside = rules.within_window(delivered_at=T, now=now, window_days=days)
    assert inside == (now <= T + dt.timedelta(days=days))


def test_as_01_undelivered_orders_are_always_inside_the_window():
    assert rules.within_window(delivered_at=None, now=T, window_days=0)


# --- AS-03 auto approval and priority -----------------------------------------------------------------


@given(st.sampled_from(list(Kind)), money, money)
def test_as_03_only_refund_only_strictly_below_the_threshold_is_automatic(kind, amount, threshold):
    auto = rules.auto_approvable(kind=kind, amount=amount, threshold=threshold)
    assert auto == (kind is Kind.REFUND_ONLY and amount < threshold)


def test_as_03_exactly_50_is_not_automatic():
    assert rules.auto_approvable(kind="refund_only", amount=Decimal("49.99"), threshold=Decimal("50"))
    assert not rules.auto_approvable(kind="refund_only", amount=Decimal("50.00"), threshold=Decimal("50"))


@given(
    st.lists(
        st.tuples(
            st.booleans(),
            st.none() | st.integers(min_value=0, max_value=1000),
            st.integers(min_value=0, max_value=1000),
        ),
        max_size=20,
    )
)
def test_as_03_queue_puts_every_new_customer_before_every_other(cases):
    keyed = [
        rules.queue_key(
            priority=rules.priority(is_new_customer=new),
            due_at=None if due is None else T + dt.timedelta(hours=due),
            requested_at=T + dt.timedelta(minutes=asked),
        )
        for new, due, asked in cases
    ]
    order = sorted(range(len(cases)), key=lambda i: keyed[i])
    flags = [cases[i][0] for i in order]
    assert flags == sorted(flags, reverse=True)  # all True (new) first
    # inside a priority, cases with a deadline come first, earliest first
    for a, b in itertools.pairwise(order):
        if cases[a][0] == cases[b][0] and cases[b][1] is not None:
            assert cases[a][1] is not None
            assert cases[a][1] <= cases[b][1]


# --- AS-02 SLA ---------------------------------------------------------------------------------------


def test_as_02_due_is_24h_or_48h_for_big_promotions_and_returns_start_at_receipt():
    kw = {"requested_at": T, "normal_hours": 24, "big_promo_hours": 48}
    assert rules.refund_due(kind="refund_only", received_at=None, big_promo=False, **kw) == T + dt.timedelta(
        hours=24
    )
    assert rules.refund_due(kind="refund_only", received_at=None, big_promo=True, **kw) == T + dt.timedelta(
        hours=48
    )
    assert rules.refund_due(kind="return", received_at=None, big_promo=False, **kw) is None
    got = T + dt.timedelta(days=2)
    assert rules.refund_due(kind="return", received_at=got, big_promo=False, **kw) == got + dt.timedelta(
        hours=24
    )
    assert rules.refund_due(kind="exchange", received_at=got, big_promo=True, **kw) is None


@given(st.integers(min_value=-100, max_value=100), st.integers(min_value=0, max_value=48))
def test_as_02_sla_state_is_ok_then_due_soon_then_overdue(hours_left, warn):
    due = T + dt.timedelta(hours=hours_left)
    state = rules.sla_state(due_at=due, now=T, warn_hours=warn)
    if hours_left <= 0:
        assert state is SlaState.OVERDUE
    elif hours_left <= warn:
        assert state is SlaState.DUE_SOON
    else:
        assert state is SlaState.OK


# --- AS-04 refund arithmetic ----------------------------------------------------------------------------


@st.composite
def line_and_cases(draw):
    quantity = draw(st.integers(min_value=1, max_value=30))
    paid = draw(money)
    parts, left = [], quantity
    while left:
        take = draw(st.integers(min_value=1, max_value=left))
        parts.append(take)
        left -= take
    return paid, quantity, parts


@given(line_and_cases())
def test_as_04_cases_over_a_line_refund_exactly_its_paid_total_never_more(data):
    paid, quantity, parts = data
    held, total = 0, Decimal("0")
    for units in parts:
        state = LineState(paid_total=paid, quantity=quantity, refunded_qty=0, held_qty=held)
        assert rules.available_units(state) >= units
        amount = rules.case_line_refund(state, units)
        assert amount >= 0
        total += amount
        held += units
        assert total <= paid
    assert total == paid


@given(line_and_cases())
def test_as_04_unit_refunds_differ_by_at_most_one_cent(data):
    paid, quantity, _parts = data
    amounts = [
        rules.case_line_refund(LineState(paid, quantity, refunded_qty=i, held_qty=0), 1)
        for i in range(quantity)
    ]
    assert max(amounts) - min(amounts) <= Decimal("0.01")


def test_as_04_one_of_three_discounted_units_refunds_its_apportioned_price():
    state = LineState(paid_total=Decimal("290.00"), quantity=3, refunded_qty=0, held_qty=0)
    assert rules.case_line_refund(state, 1) == Decimal("96.67")
    assert rules.case_line_refund(LineState(Decimal("290.00"), 3, 0, 2), 1) == Decimal("96.66")


def test_as_04_asking_for_more_than_is_left_is_an_error():
    with pytest.raises(ValueError, match="more units"):
        rules.case_line_refund(LineState(Decimal("10"), 2, refunded_qty=1, held_qty=1), 1)


def test_as_04_exchange_refunds_nothing():
    lines = {1: (LineState(Decimal("100"), 1, 0, 0), 1)}
    assert rules.case_refund(lines, Kind.EXCHANGE) == Decimal("0.00")
    assert rules.case_refund(lines, Kind.RETURN) == Decimal("100.00")


# --- AS-05, AS-01 ----------------------------------------------------------------------------------------


@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=0, max_value=10_000))
def test_as_05_return_rate_is_a_ratio_or_none_without_sales(returned, sold):
    rate = rules.return_rate(returned=returned, sold=sold)
    if sold == 0:
        assert rate is None
    else:
        assert rate == (Decimal(returned) / Decimal(sold)).quantize(Decimal("0.0001"))


def test_as_01_policy_text_is_generated_from_the_playbook_numbers_in_both_languages():
    text = rules.policy_text(window_days=15, refund_hours=12, big_promo_refund_hours=36)
    assert "15 天" in text.zh
    assert "12 小时" in text.zh
    assert "36 小时" in text.zh
    assert "15 days" in text.en
    assert "12 hours" in text.en
    assert "36 hours" in text.en
    closed = rules.policy_text(window_days=0, refund_hours=24, big_promo_refund_hours=48)
    assert "不提供无理由" in closed.zh


def test_as_02_refund_retries_back_off_from_10_minutes_to_every_6_hours():
    t0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)

    def due(failures, minutes):
        now = t0 + dt.timedelta(minutes=minutes)
        return rules.refund_retry_due(failures=failures, last_failure=t0, now=now)

    assert rules.refund_retry_due(failures=0, last_failure=None, now=t0)
    assert (due(1, 9), due(1, 10)) == (False, True)
    assert (due(2, 19), due(2, 20)) == (False, True)
    assert (due(3, 39), due(3, 40)) == (False, True)
    assert (due(40, 359), due(40, 360)) == (False, True)  # capped: never more than 6 hours apart
