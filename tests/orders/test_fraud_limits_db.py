"""ORD-01: the default fraud score's thresholds (order amounts, orders to one phone, a
customer's addresses, units) are playbook settings a channel may set for itself; they reach
the scorer as ``FraudSignals.limits``, so a custom scorer written for the old signals keeps
working."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from storeops.core.errors import ValidationError
from storeops.orders import rules
from storeops.orders import services as svc
from storeops.stores import playbook as pb
from storeops.stores import services as st
from storeops.stores.selectors import playbook_get
from tests.orders.builders import ACTOR, T0, World


@pytest.fixture
def world(store, channel):
    return World(store, channel)


def _reviewed(world, channel, qty: int, *, customer: str):
    world.channel = channel  # World places its orders on world.channel
    order = world.place(qty, customer=customer)
    world.pay(order, now=T0)
    return svc.order_auto_review(actor=ACTOR, order=order, now=T0)


# --- the pure scorer ------------------------------------------------------------------------------

QUIET = rules.FraudSignals(
    amount=Decimal("300"),
    is_new_customer=False,
    orders_same_phone_24h=1,
    distinct_addresses_same_customer_24h=1,
    quantity_total=3,
)


@pytest.mark.parametrize(
    ("signals", "limits", "points"),
    [
        ({"is_new_customer": True}, {"new_customer_amount": Decimal("300")}, 40),
        ({}, {"new_customer_amount": Decimal("200"), "large_amount": Decimal("300")}, 25),
        ({}, {"phone_orders": 1}, 20),
        ({}, {"phone_orders": 0, "phone_orders_high": 1}, 40),
        ({}, {"customer_addresses": 1}, 30),
        ({}, {"quantity": 3}, 20),
    ],
)
def test_ord_01_each_fraud_threshold_is_read_from_the_signals_limits(signals, limits, points):
    # given an order that scores nothing under the default thresholds
    s = dataclasses.replace(QUIET, **signals)
    assert rules.default_fraud_score(s) == 0
    # when one threshold is lowered to the order's figure, then that signal's points count
    lowered = dataclasses.replace(s, limits=dataclasses.replace(rules.FraudLimits(), **limits))
    assert rules.default_fraud_score(lowered) == points


def test_ord_01_fraud_limits_defaults_are_the_playbooks():
    # signals built without a playbook score as the store's defaults would
    assert svc._fraud_limits(pb.defaults()) == rules.FraudLimits()


def test_ord_01_signals_built_the_old_way_score_as_before():
    # a caller building FraudSignals positionally, without limits, gets the old thresholds
    assert rules.default_fraud_score(rules.FraudSignals(Decimal("2000"), True, 3, 2, 50)) == 40 + 20 + 20
    assert rules.default_fraud_score(rules.FraudSignals(Decimal("1999"), True, 2, 3, 49)) == 30
    assert rules.default_fraud_score(rules.FraudSignals(Decimal("4999.99"), False, 5, 2, 49, 48)) == 40
    assert rules.default_fraud_score(rules.FraudSignals(Decimal("5000"), False, 2, 2, 1)) == 25


# --- through the automatic review ----------------------------------------------------------------


@pytest.mark.django_db
def test_ord_01_a_lowered_amount_threshold_holds_the_channels_order_only(world, system):
    # given a store holding from a score of 40, and a channel counting new customers' orders
    # of 200 or more as risky (the store: 2000)
    plain = world.channel
    pdd = st.channel_create(actor=system, store=world.store, kind="pinduoduo", code="pdd", name="pdd")
    st.playbook_update(actor=system, store=world.store, values={"fraud_hold_score": 40})
    st.playbook_update(
        actor=system, store=world.store, channel=pdd, values={"fraud_new_customer_amount": "200"}
    )
    # when two new customers' orders of 300 are reviewed, one on each channel
    held = _reviewed(world, pdd, 3, customer="n1")
    passed = _reviewed(world, plain, 3, customer="n2")
    # then only the order on the channel with the lowered threshold crosses the hold score
    assert (held.status, held.hold_reasons, held.fraud_score) == ("on_hold", ["fraud"], 40)
    assert (passed.status, passed.fraud_score) == ("reviewed", 0)


@pytest.mark.django_db
def test_ord_01_a_lowered_quantity_threshold_crosses_the_hold_score(world, system):
    # given the store holds from 20 points: 3 units score nothing under the default 50 units
    st.playbook_update(actor=system, store=world.store, values={"fraud_hold_score": 20})
    assert _reviewed(world, world.channel, 3, customer="c0").status == "reviewed"
    # when orders of 3 units or more count
    st.playbook_update(actor=system, store=world.store, values={"fraud_quantity": 3})
    # then the same order is held
    held = _reviewed(world, world.channel, 3, customer="c0")
    assert (held.status, held.fraud_score) == ("on_hold", 20)


def legacy_scorer(s) -> int:
    """A store's scorer written before ``limits`` existed: it reads only the old fields."""
    return 90 if s.quantity_total >= 2 and s.window_hours == 24 else s.orders_same_phone_24h


def legacy_wrapping_scorer(s) -> int:
    """A store's scorer adding its own points to the default score."""
    return rules.default_fraud_score(s) + (70 if s.distinct_addresses_same_customer_24h == 0 else 0)


@pytest.mark.django_db
def test_ord_01_a_custom_scorer_written_for_the_old_signals_still_works(world, system, settings):
    # given a store's own scorer that knows nothing of the playbook's thresholds
    settings.STOREOPS_FRAUD_SCORER = f"{__name__}.legacy_scorer"
    st.playbook_update(actor=system, store=world.store, values={"fraud_quantity": 1})
    # when orders of 2 units and of 1 unit are reviewed
    held = _reviewed(world, world.channel, 2, customer="c1")
    passed = _reviewed(world, world.channel, 1, customer="c2")
    # then its score decides (the lowered playbook threshold does not reach it)
    assert (held.status, held.fraud_score) == ("on_hold", 90)
    assert (passed.status, passed.fraud_score) == ("reviewed", 1)
    # and one calling the default scorer gets the playbook's thresholds through the signals
    settings.STOREOPS_FRAUD_SCORER = f"{__name__}.legacy_wrapping_scorer"
    wrapped = _reviewed(world, world.channel, 1, customer="c3")
    assert (wrapped.status, wrapped.fraud_score) == ("on_hold", 90)  # 70 + 20 (1 unit ≥ 1)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"fraud_new_customer_amount": "5000"}, "新顾客风险金额必须低于大额订单金额"),
        ({"fraud_large_amount": "1500"}, "新顾客风险金额必须低于大额订单金额"),
        ({"fraud_phone_orders": 5}, "同一电话订单数的两档须前低后高"),
        ({"fraud_phone_orders_high": 2}, "同一电话订单数的两档须前低后高"),
    ],
)
def test_ord_01_fraud_thresholds_out_of_order_are_refused(store, system, values, message):
    with pytest.raises(ValidationError) as excinfo:
        st.playbook_update(actor=system, store=store, values=values)
    assert message in excinfo.value.fields["__all__"]
    assert playbook_get(store=store) == pb.defaults()  # nothing saved
