"""The order SOP checks: review within 30 minutes (ORD-01), ship-by warnings (ORD-03),
customers told about exception orders within an hour (ORD-04)."""

from __future__ import annotations

import datetime as dt

import pytest

from storeops.orders import services as svc
from storeops.orders.models import CustomerNotification
from storeops.sop.models import Finding
from storeops.sop.services import checks_run
from storeops.stores import services as st
from tests.orders.builders import ACTOR, T0, World

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(store, channel):
    return World(store, channel)


def _open(rule):
    return list(Finding.objects.filter(rule_id=rule, status="open").order_by("pk"))


def test_ord_01_paid_order_not_reviewed_within_30_minutes_raises_a_finding(world):
    order = world.place(1)
    world.pay(order)
    checks_run(rule="ORD-01", store=world.store, now=T0 + dt.timedelta(minutes=29), notify=False)
    assert _open("ORD-01") == []
    checks_run(rule="ORD-01", store=world.store, now=T0 + dt.timedelta(minutes=31), notify=False)
    [finding] = _open("ORD-01")
    assert finding.subject_id == order.number
    # reviewing clears it
    svc.order_auto_review(actor=ACTOR, order=order, now=T0 + dt.timedelta(minutes=32))
    checks_run(rule="ORD-01", store=world.store, now=T0 + dt.timedelta(minutes=33), notify=False)
    assert _open("ORD-01") == []


def test_ord_01_review_window_is_a_playbook_setting(world, system):
    st.playbook_update(actor=system, store=world.store, values={"order_review_minutes": 10})
    order = world.place(1)
    world.pay(order)
    checks_run(rule="ORD-01", store=world.store, now=T0 + dt.timedelta(minutes=11), notify=False)
    assert [f.subject_id for f in _open("ORD-01")] == [order.number]


def test_ord_03_order_near_its_ship_by_deadline_warns_then_turns_critical(world):
    order = world.place(1)
    world.pay(order)  # ship_by = T0 + 48 h; warning 6 h before
    checks_run(rule="ORD-03", store=world.store, now=T0 + dt.timedelta(hours=41), notify=False)
    assert _open("ORD-03") == []
    checks_run(rule="ORD-03", store=world.store, now=T0 + dt.timedelta(hours=43), notify=False)
    [warning] = _open("ORD-03")
    assert warning.severity == "warning"
    checks_run(rule="ORD-03", store=world.store, now=T0 + dt.timedelta(hours=49), notify=False)
    [critical] = _open("ORD-03")
    assert critical.severity == "critical"


def test_ord_03_channel_promise_sets_the_deadline(world, system):
    st.playbook_update(
        actor=system, store=world.store, channel=world.channel, values={"ship_promise_hours": 24}
    )
    order = world.place(1)
    world.pay(order)
    assert order.ship_by == T0 + dt.timedelta(hours=24)


def test_ord_04_exception_order_without_customer_notice_raises_a_finding(world):
    bad = svc.AddressIn(receiver="李四", phone="1", province="浙江省", city="杭州市", address="文三路100号")
    order = world.place(1, address=bad)
    world.pay(order)
    svc.order_auto_review(actor=ACTOR, order=order, now=T0)
    # the review notified the customer at once: nothing to report
    checks_run(rule="ORD-04", store=world.store, now=T0 + dt.timedelta(minutes=5), notify=False)
    assert _open("ORD-04") == []
    # a notification that was lost (e.g. the SMS gateway was down and the row removed) shows up
    CustomerNotification.objects.filter(order=order).delete()
    checks_run(rule="ORD-04", store=world.store, now=T0 + dt.timedelta(minutes=61), notify=False)
    [finding] = _open("ORD-04")
    assert finding.severity == "critical"
    assert finding.subject_id == order.number


def test_ord_01_finding_title_is_rendered_in_each_readers_language(world):
    from django.utils import translation

    order = world.place(1)
    world.pay(order)
    checks_run(rule="ORD-01", store=world.store, now=T0 + dt.timedelta(minutes=45), notify=False)
    [finding] = _open("ORD-01")
    with translation.override("zh-hans"):
        assert finding.display_title == f"订单 {order.number} 付款 45 分钟仍未审核"
    with translation.override("en"):
        assert finding.display_title == f"Order {order.number} paid 45 minutes ago is still not reviewed"


# --- every subject, not the first N ---------------------------------------------------------------
# A check that read only its first rows would leave the rest without a finding (and resolve the
# findings they had as if they were fine). With the read batch at 2, five subjects all report.


@pytest.fixture
def small_batches(monkeypatch):
    from storeops.orders import checks

    monkeypatch.setattr(checks, "BATCH_SIZE", 2)


def _paid_orders(world, n=5):
    orders = [world.place(1, customer=f"c{i}") for i in range(n)]
    for order in orders:
        world.pay(order)
    return orders


def test_ord_01_every_order_past_the_review_window_has_a_finding(world, small_batches):
    orders = _paid_orders(world)
    checks_run(rule="ORD-01", store=world.store, now=T0 + dt.timedelta(minutes=31), notify=False)
    assert sorted(f.subject_id for f in _open("ORD-01")) == sorted(o.number for o in orders)


def test_ord_03_every_order_near_its_ship_by_time_has_a_finding(world, small_batches):
    orders = _paid_orders(world)
    checks_run(rule="ORD-03", store=world.store, now=T0 + dt.timedelta(hours=43), notify=False)
    assert sorted(f.subject_id for f in _open("ORD-03")) == sorted(o.number for o in orders)


def test_ord_04_every_exception_order_without_a_notice_has_a_finding(world, small_batches):
    bad = svc.AddressIn(receiver="李四", phone="1", province="浙江省", city="杭州市", address="文三路100号")
    orders = [world.place(1, customer=f"c{i}", address=bad) for i in range(5)]
    for order in orders:
        world.pay(order)
        svc.order_auto_review(actor=ACTOR, order=order, now=T0)
    CustomerNotification.objects.all().delete()
    checks_run(rule="ORD-04", store=world.store, now=T0 + dt.timedelta(minutes=61), notify=False)
    assert sorted(f.subject_id for f in _open("ORD-04")) == sorted(o.number for o in orders)
