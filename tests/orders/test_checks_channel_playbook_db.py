"""The order checks judge each order by its channel's playbook (ORD-01, ORD-03, ORD-04): a
channel's override changes the outcome for that channel's orders only; the others keep the
store's values. The channels' playbooks are read once per check run, whatever the number of
orders. And the fraud score's window is a playbook setting (ORD-01)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from storeops.orders import services as svc
from storeops.orders.models import CustomerNotification
from storeops.sop.models import Finding
from storeops.sop.registry import CheckContext, get_check
from storeops.sop.services import checks_run
from storeops.stores import services as st
from storeops.stores.selectors import playbook_get
from tests.orders.builders import ACTOR, T0, World

pytestmark = pytest.mark.django_db

BAD_ADDRESS = svc.AddressIn(
    receiver="李四", phone="1", province="浙江省", city="杭州市", address="文三路100号"
)


@pytest.fixture
def world(store, channel):
    return World(store, channel)


def a_channel(store, system, code: str, kind: str = "pinduoduo"):
    return st.channel_create(actor=system, store=store, kind=kind, code=code, name=code)


def _open(rule):
    return {f.subject_id: f for f in Finding.objects.filter(rule_id=rule, status="open")}


def _place_paid(world, channel, *, customer="c1", address=None, now=T0):
    world.channel = channel  # World places its orders on world.channel
    order = world.place(1, customer=customer, now=now, **({"address": address} if address else {}))
    world.pay(order, now=now)
    return order


def test_ord_01_check_uses_the_channels_review_minutes(world, system):
    # given a channel with a 10-minute window, one with 60, and the store's 30 for the first channel
    fast = a_channel(world.store, system, "pdd")
    slow = a_channel(world.store, system, "jd", kind="jd")
    st.playbook_update(actor=system, store=world.store, channel=fast, values={"order_review_minutes": 10})
    st.playbook_update(actor=system, store=world.store, channel=slow, values={"order_review_minutes": 60})
    plain = world.channel
    on_store = _place_paid(world, plain, customer="c1")
    on_fast = _place_paid(world, fast, customer="c2")
    on_slow = _place_paid(world, slow, customer="c3")
    # when the check runs 11 minutes after payment: only the 10-minute channel's order is late
    checks_run(rule="ORD-01", store=world.store, now=T0 + dt.timedelta(minutes=11), notify=False)
    assert set(_open("ORD-01")) == {on_fast.number}
    assert _open("ORD-01")[on_fast.number].due_at == T0 + dt.timedelta(minutes=10)
    # 31 minutes: the store's 30 applies to the channel without an override; 60 is not reached
    checks_run(rule="ORD-01", store=world.store, now=T0 + dt.timedelta(minutes=31), notify=False)
    assert set(_open("ORD-01")) == {on_fast.number, on_store.number}
    checks_run(rule="ORD-01", store=world.store, now=T0 + dt.timedelta(minutes=61), notify=False)
    assert set(_open("ORD-01")) == {on_fast.number, on_store.number, on_slow.number}


def test_ord_03_check_uses_the_channels_ship_risk_hours(world, system):
    # given ship-by T0 + 48 h everywhere; the store warns 6 h ahead, one channel 12 h, one 2 h
    early = a_channel(world.store, system, "pdd")
    late = a_channel(world.store, system, "jd", kind="jd")
    st.playbook_update(actor=system, store=world.store, channel=early, values={"ship_risk_hours_before": 12})
    st.playbook_update(actor=system, store=world.store, channel=late, values={"ship_risk_hours_before": 2})
    on_store = _place_paid(world, world.channel, customer="c1")
    on_early = _place_paid(world, early, customer="c2")
    on_late = _place_paid(world, late, customer="c3")
    assert on_store.ship_by == on_early.ship_by == on_late.ship_by == T0 + dt.timedelta(hours=48)
    # 11 h before: only the channel warning 12 h ahead
    checks_run(rule="ORD-03", store=world.store, now=T0 + dt.timedelta(hours=37), notify=False)
    assert {n: f.severity for n, f in _open("ORD-03").items()} == {on_early.number: "warning"}
    # 5 h before: the store's 6 h applies to the channel without an override; 2 h not yet
    checks_run(rule="ORD-03", store=world.store, now=T0 + dt.timedelta(hours=43), notify=False)
    assert set(_open("ORD-03")) == {on_early.number, on_store.number}
    checks_run(rule="ORD-03", store=world.store, now=T0 + dt.timedelta(hours=46, minutes=30), notify=False)
    assert set(_open("ORD-03")) == {on_early.number, on_store.number, on_late.number}


def test_ord_04_check_uses_the_channels_exception_notify_minutes(world, system):
    # given two held exception orders whose customer was not told; one channel allows 15 minutes
    strict = a_channel(world.store, system, "pdd")
    st.playbook_update(
        actor=system, store=world.store, channel=strict, values={"exception_notify_minutes": 15}
    )
    on_store = _place_paid(world, world.channel, customer="c1", address=BAD_ADDRESS)
    on_strict = _place_paid(world, strict, customer="c2", address=BAD_ADDRESS)
    for order in (on_store, on_strict):
        svc.order_auto_review(actor=ACTOR, order=order, now=T0)
    CustomerNotification.objects.all().delete()
    # when the check runs 20 minutes after the hold
    checks_run(rule="ORD-04", store=world.store, now=T0 + dt.timedelta(minutes=20), notify=False)
    found = _open("ORD-04")
    # then the strict channel's order is already late; the other is due at the store's 60 minutes
    assert (found[on_strict.number].severity, found[on_strict.number].due_at) == (
        "critical",
        T0 + dt.timedelta(minutes=15),
    )
    assert (found[on_store.number].severity, found[on_store.number].due_at) == (
        "warning",
        T0 + dt.timedelta(minutes=60),
    )


# --- the channels' playbooks are read once --------------------------------------------------------


def test_ord_03_check_context_reads_every_channels_playbook_in_one_query(store, system):
    a = a_channel(store, system, "pdd")
    b = a_channel(store, system, "jd", kind="jd")
    c = a_channel(store, system, "dy", kind="douyin")  # no override: follows the store
    st.playbook_update(actor=system, store=store, values={"ship_risk_hours_before": 8})
    st.playbook_update(actor=system, store=store, channel=a, values={"ship_risk_hours_before": 12})
    st.playbook_update(actor=system, store=store, channel=b, values={"order_review_minutes": 5})
    ctx = CheckContext(store=store, playbook=playbook_get(store=store), now=T0)
    with CaptureQueriesContext(connection) as queries:
        books = [ctx.playbook_for(x) for x in (a.pk, b.pk, c.pk, None, a.pk, b.pk, c.pk)]
        assert len(ctx.playbooks()) == 3
    assert len(queries.captured_queries) == 1
    assert [book.ship_risk_hours_before for book in books[:4]] == [12, 8, 8, 8]
    assert (books[1].order_review_minutes, books[2].order_review_minutes) == (5, 30)
    assert books[3] is ctx.playbook


@pytest.mark.parametrize(
    ("rule", "after"),
    [
        ("ORD-01", dt.timedelta(minutes=29, seconds=30)),  # past 29 and 28 minutes, not the store's 30
        ("ORD-03", dt.timedelta(hours=41, minutes=30)),  # 6.5 h left: inside 7 and 8 h, not the store's 6
    ],
)
def test_ord_01_ord_03_per_channel_values_take_a_bounded_number_of_queries(world, system, rule, after):
    # given paid orders in three channels: the store's values, and two channels with their own
    channels = [
        world.channel,
        a_channel(world.store, system, "pdd"),
        a_channel(world.store, system, "jd", "jd"),
    ]
    for i, ch in enumerate(channels[1:], start=1):
        st.playbook_update(
            actor=system,
            store=world.store,
            channel=ch,
            values={"ship_risk_hours_before": 6 + i, "order_review_minutes": 30 - i},
        )
    check = get_check(rule)

    def run() -> tuple[int, int]:
        ctx = CheckContext(store=world.store, playbook=playbook_get(store=world.store), now=T0 + after)
        with CaptureQueriesContext(connection) as queries:
            drafts = list(check.fn(ctx))
        return len(queries.captured_queries), len(drafts)

    n = 0
    for ch in channels:  # one order per channel
        n += 1
        _place_paid(world, ch, customer=f"c{n}")
    few_queries, few = run()
    for _ in range(4):  # then five per channel
        for ch in channels:
            n += 1
            _place_paid(world, ch, customer=f"c{n}")
    many_queries, many = run()
    # then the orders of the two channels with their own values are reported, with the same
    # number of queries however many orders there are (the channels' playbooks: one of them)
    assert (few, many) == (2, 10)
    assert many_queries == few_queries <= 3


# --- ORD-01: the fraud score's window ---------------------------------------------------------------


def test_ord_01_fraud_signal_window_is_a_channel_playbook_setting(world, system):
    # given three orders to one phone 30 hours ago, and a store holding orders from a score of 20
    # (3+ other orders to the same phone in the window give 20 points)
    plain, wide = world.channel, a_channel(world.store, system, "pdd")
    st.playbook_update(actor=system, store=world.store, values={"fraud_hold_score": 20})
    st.playbook_update(
        actor=system, store=world.store, channel=wide, values={"fraud_signal_window_hours": 48}
    )
    earlier = T0 - dt.timedelta(hours=30)
    for i in range(3):
        _place_paid(world, plain, customer=f"old{i}", now=earlier)
    # when an order to the same phone is reviewed on the channel counting 48 h, and one on the
    # channel with the store's 24 h
    held = svc.order_auto_review(actor=ACTOR, order=_place_paid(world, wide, customer="n1"), now=T0)
    passed = svc.order_auto_review(actor=ACTOR, order=_place_paid(world, plain, customer="n2"), now=T0)
    # then only the first sees the earlier orders and is held for fraud
    assert (held.status, held.hold_reasons, held.fraud_score) == ("on_hold", ["fraud"], 20)
    assert (passed.status, passed.fraud_score) == ("reviewed", 0)
