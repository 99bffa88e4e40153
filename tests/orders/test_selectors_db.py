"""Order reads for the console and the API: list filters and status counts, the review queue
(ORD-01), ship-by risk (ORD-03) and the detail with everything loaded."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from storeops.core.errors import NotFound, ValidationError
from storeops.orders import selectors as sel
from storeops.orders import services as svc
from storeops.orders.models import Order
from storeops.stores import services as store_services
from tests.fulfilment.builders import a_carrier
from tests.orders.builders import ACTOR, ADDRESS, T0, World

pytestmark = pytest.mark.django_db

BAD_PHONE = svc.AddressIn(
    receiver="李四", phone="123", province="浙江省", city="杭州市", address="文一路200号"
)


@pytest.fixture
def world(store, channel):
    return World(store, channel)


def _paid(world, *, at=T0, customer="c1", address=ADDRESS, qty=1):
    order = world.place(qty, customer=customer, address=address, now=at)
    world.pay(order, now=at)
    return order


def _numbers(qs):
    return sorted(o.number for o in qs)


# --- list filters -------------------------------------------------------------------------------


def test_order_list_filters_by_status_and_counts_every_status(world, store):
    # given one unpaid, one paid and one held order
    created = world.place(1, customer="a")
    paid = _paid(world, customer="b")
    held = _paid(world, customer="c", address=BAD_PHONE)
    svc.order_auto_review(actor=ACTOR, order=held, now=T0)
    # when filtering by status
    # then each status returns its order, and the tab counts agree
    assert _numbers(sel.order_list(store, status="created")) == [created.number]
    assert _numbers(sel.order_list(store, status="paid")) == [paid.number]
    assert _numbers(sel.order_list(store, status="on_hold")) == [held.number]
    counts = sel.order_status_counts(store)
    assert (counts["created"], counts["paid"], counts["on_hold"], counts["shipped"]) == (1, 1, 1, 0)
    assert sum(counts.values()) == 3


def test_status_counts_follow_the_other_filters_but_not_the_status(world, store):
    world.place(1, customer="alice")
    _paid(world, customer="alice")
    world.place(1, customer="bob")
    counts = sel.order_status_counts(store, status="paid", q="alice")
    assert (counts["created"], counts["paid"]) == (1, 1)


def test_order_list_search_matches_number_customer_receiver_and_phone_suffix(world, store):
    a = world.place(1, customer="vip-001")
    b = world.place(1, customer="c2", address=BAD_PHONE)  # receiver 李四, phone 123
    c = world.place(
        1,
        customer="c3",
        address=svc.AddressIn(
            receiver="王五", phone="13900009876", province="上海市", city="上海市", address="世纪大道1号"
        ),
    )
    assert _numbers(sel.order_list(store, q="vip-0")) == [a.number]
    assert _numbers(sel.order_list(store, q="李四")) == [b.number]
    assert _numbers(sel.order_list(store, q="9876")) == [c.number]
    assert _numbers(sel.order_list(store, q=c.number)) == [c.number]
    # a middle fragment of a phone is not a suffix: no match through the phone (an order
    # number, which is random, may contain the digits by chance)
    assert [n for n in _numbers(sel.order_list(store, q="0000987")) if "0000987" not in n] == []


def test_order_list_filters_by_channel(world, store, channel, system):
    other = store_services.channel_create(actor=system, store=store, kind="jd", code="jd", name="京东店")
    here = world.place(1)
    world.channel = other
    there = world.place(1, customer="c9")
    assert _numbers(sel.order_list(store, channel_id=channel.pk)) == [here.number]
    assert _numbers(sel.order_list(store, channel_id=other.pk)) == [there.number]


def test_order_list_date_ranges_include_whole_days_and_paid_dates(world, store):
    day1 = world.place(1, customer="a", now=T0)  # 2026-06-01 10:00 UTC
    day2 = _paid(world, customer="b", at=T0 + dt.timedelta(days=1))
    day3 = world.place(1, customer="c", now=T0 + dt.timedelta(days=2))
    d = T0.date()
    assert _numbers(sel.order_list(store, created_from=d, created_to=d)) == [day1.number]
    assert _numbers(sel.order_list(store, created_from=d + dt.timedelta(days=1))) == sorted(
        [day2.number, day3.number]
    )
    assert _numbers(sel.order_list(store, created_to=T0 + dt.timedelta(hours=1))) == [day1.number]
    # only the paid order has a payment date
    assert _numbers(sel.order_list(store, paid_from=d, paid_to=d + dt.timedelta(days=5))) == [day2.number]


def test_order_list_filters_by_hold_reason_source_and_big_promo(world, store):
    ok = _paid(world, customer="a")
    held = _paid(world, customer="b", address=BAD_PHONE)
    svc.order_auto_review(actor=ACTOR, order=held, now=T0)
    svc.order_auto_review(actor=ACTOR, order=ok, now=T0)
    Order.objects.filter(pk=ok.pk).update(is_big_promo=True, source="import")
    assert _numbers(sel.order_list(store, hold_reason="bad_address")) == [held.number]
    assert _numbers(sel.order_list(store, hold_reason="fraud")) == []
    assert _numbers(sel.order_list(store, is_big_promo=True)) == [ok.number]
    assert _numbers(sel.order_list(store, is_big_promo=False)) == [held.number]
    assert _numbers(sel.order_list(store, source="import")) == [ok.number]
    assert _numbers(sel.order_list(store, source="storefront")) == [held.number]


def test_order_list_refuses_unknown_filter_values_with_a_message_per_field(store):
    with pytest.raises(ValidationError) as err:
        sel.order_list(store, status="lost", hold_reason="x", ship_risk="late", source="fax")
    assert set(err.value.fields) == {"status", "hold_reason", "ship_risk", "source"}


# --- ship risk (ORD-03) --------------------------------------------------------------------------


def test_ord_03_ship_risk_filter_uses_each_channels_warning_window(world, store, channel, system):
    # given orders paid at T0 (ship by T0 + 48 h, warning 6 h before) ...
    early = _paid(world, customer="a", at=T0)
    late = _paid(world, customer="b", at=T0 + dt.timedelta(hours=10))
    shipped_world_order = _paid(world, customer="c", at=T0 - dt.timedelta(hours=5))
    svc.order_auto_review(actor=ACTOR, order=shipped_world_order, now=T0)
    shipped_world_order.refresh_from_db()
    svc.order_allocate(actor=ACTOR, order=shipped_world_order)
    a_carrier("SF")
    svc.order_ship(actor=ACTOR, order=shipped_world_order, carrier_code="SF", tracking_numbers="SF1")
    # when it is T0 + 43 h: `early` is 5 h before its deadline, `late` 15 h
    now = T0 + dt.timedelta(hours=43)
    # then only `early` is at risk, none is breached, and the shipped one never counts
    assert _numbers(sel.order_list(store, ship_risk="at_risk", now=now)) == [early.number]
    assert _numbers(sel.order_list(store, ship_risk="breached", now=now)) == []
    # given the channel warns 16 h before, then `late` is at risk too
    store_services.playbook_update(
        actor=system, store=store, channel=channel, values={"ship_risk_hours_before": 16}
    )
    assert _numbers(sel.order_list(store, ship_risk="at_risk", now=now)) == sorted(
        [early.number, late.number]
    )
    # two hours after the early deadline it is breached
    later = T0 + dt.timedelta(hours=50)
    assert _numbers(sel.order_list(store, ship_risk="breached", now=later)) == [early.number]


def test_ord_03_ship_risk_page_rows_are_most_urgent_first_and_grouped_by_channel(world, store):
    a = _paid(world, customer="a", at=T0)
    b = _paid(world, customer="b", at=T0 + dt.timedelta(hours=3))
    _paid(world, customer="c", at=T0 + dt.timedelta(hours=30))  # far from its deadline
    now = T0 + dt.timedelta(hours=49)  # a: 1 h late; b: 2 h left
    rows = sel.ship_risk_rows(store, now, sel.ship_risk_orders(store, now))
    assert [(r.order.number, r.clock.risk, r.clock.minutes_left) for r in rows] == [
        (a.number, "breached", -60),
        (b.number, "at_risk", 120),
    ]
    assert rows[0].clock.countdown == "已超时 1小时0分"
    assert rows[1].clock.countdown == "剩余 2小时0分"
    (group,) = sel.ship_risk_by_channel(rows)
    assert (group.channel.pk, group.at_risk, group.breached) == (world.channel.pk, 1, 1)
    assert sel.ship_risk_counts(store, now) == {world.channel.pk: (1, 1)}


def test_ord_03_ship_risk_counts_every_order_and_groups_a_page_by_channel(world, store, system):
    """The counts are of the whole list, whatever page of rows is shown; channels in name
    order, each channel's orders most urgent first."""
    world.channel = store_services.channel_create(
        actor=system, store=store, kind="jd", code="jd", name="京东店"
    )
    jd = [_paid(world, customer=f"j{i}", at=T0 + dt.timedelta(hours=i)) for i in range(3)]
    now = T0 + dt.timedelta(hours=48, minutes=30)  # j0 half an hour late; j1, j2 at risk
    counts = sel.ship_risk_counts(store, now)
    assert counts == {world.channel.pk: (2, 1)}
    assert [o.number for o in sel.ship_risk_orders(store, now)] == [o.number for o in jd]
    first_page = sel.ship_risk_rows(store, now, sel.ship_risk_orders(store, now)[:1])
    (group,) = sel.ship_risk_by_channel(first_page, counts)
    assert (len(group.rows), group.at_risk, group.breached) == (1, 2, 1)


def test_ship_clock_is_blank_for_orders_without_a_deadline(world, store):
    unpaid = world.place(1)
    clocks = sel.ship_clocks([unpaid], store=store, now=T0)
    assert clocks[unpaid.pk].risk == ""
    assert clocks[unpaid.pk].countdown == ""


# --- review queue (ORD-01) -------------------------------------------------------------------------


def test_ord_01_review_queue_holds_paid_and_held_orders_oldest_payment_first(world, store):
    newer_held = _paid(world, customer="a", at=T0 + dt.timedelta(minutes=20), address=BAD_PHONE)
    svc.order_auto_review(actor=ACTOR, order=newer_held, now=T0 + dt.timedelta(minutes=20))
    oldest_paid = _paid(world, customer="b", at=T0)
    reviewed = _paid(world, customer="c", at=T0 - dt.timedelta(minutes=5))
    svc.order_auto_review(actor=ACTOR, order=reviewed, now=T0)
    world.place(1, customer="d")  # unpaid: not in the queue
    assert [o.number for o in sel.review_queue(store)] == [oldest_paid.number, newer_held.number]
    rows = sel.review_queue_rows(store, now=T0 + dt.timedelta(minutes=35))
    assert [(r.waited_minutes, r.target_minutes, r.overdue) for r in rows] == [
        (35, 30, True),
        (15, 30, False),
    ]
    assert rows[1].reasons == ["地址异常"]


def test_ord_01_overdue_count_of_the_whole_queue_uses_each_channels_window(world, store, channel, system):
    # given the store's 30-minute window, a JD shop given 60 minutes, and orders waiting 45 min
    jd = store_services.channel_create(actor=system, store=store, kind="jd", code="jd", name="京东店")
    store_services.playbook_update(actor=system, store=store, channel=jd, values={"order_review_minutes": 60})
    _paid(world, customer="tmall-45", at=T0)
    jd_order = world.place(1, customer="jd-45", now=T0)
    Order.objects.filter(pk=jd_order.pk).update(channel=jd)
    world.pay(Order.objects.get(pk=jd_order.pk), now=T0)
    now = T0 + dt.timedelta(minutes=45)
    # then only the order on the 30-minute channel is overdue, as its page row says
    rows = {r.order.customer_ref: r.overdue for r in sel.review_queue_rows(store, now=now)}
    assert rows == {"tmall-45": True, "jd-45": False}
    assert sel.review_queue_overdue(store, now=now) == 1
    assert sel.review_queue_overdue(store, now=now + dt.timedelta(minutes=15)) == 2


# --- detail -------------------------------------------------------------------------------------


def test_order_detail_loads_everything_in_a_fixed_number_of_queries(world, store, django_assert_num_queries):
    order = _paid(world, qty=2)
    svc.customer_notify(actor=ACTOR, order=order, purpose="manual", channel="sms", text="您好")
    with django_assert_num_queries(8):
        detail = sel.order_detail(store, order.number)
        lines = list(detail.lines.all())
        allocations = [a for line in lines for a in line.allocations.all()]
        _ = [a.warehouse.code for a in allocations]
        events = list(detail.events.all())
        callbacks = [c for p in detail.payments.all() for c in p.callbacks.all()]
        _ = list(detail.refunds.all()), list(detail.notifications.all())
        groups = sel.allocations_by_warehouse(detail)
    assert [line.quantity for line in lines] == [2]
    assert [(g.warehouse.code, g.units, g.open_units) for g in groups] == [("sh", 2, 2)]
    assert [e.kind for e in events][:2] == ["placed", "payment_started"]
    assert [c.result for c in callbacks] == ["applied"]
    assert detail.payable == Decimal("200.00")


def test_order_detail_of_an_unknown_number_is_not_found(store):
    with pytest.raises(NotFound):
        sel.order_detail(store, "nope")
    with pytest.raises(NotFound):
        sel.order_get(store, 999999)


def test_order_detail_asks_for_the_channel_when_two_channels_share_a_number(world, store, system):
    other = store_services.channel_create(actor=system, store=store, kind="jd", code="jd", name="京东店")
    first = world.place(1)
    world.channel = other
    second = world.place(1, customer="c2")
    Order.objects.filter(pk=second.pk).update(number=first.number)
    with pytest.raises(ValidationError) as err:
        sel.order_detail(store, first.number)
    assert "channel_id" in err.value.fields
    assert sel.order_detail(store, first.number, channel_id=other.pk).pk == second.pk


def test_pricing_explanation_follows_the_readers_language(world, store):
    order = world.place(1)
    Order.objects.filter(pk=order.pk).update(
        pricing={"explanation": [{"zh": "满100减10", "en": "10 off over 100"}], "applied": []}
    )
    order.refresh_from_db()
    assert sel.pricing_explanation(order, language="en") == ["10 off over 100"]
    assert sel.pricing_explanation(order, language="zh-hans") == ["满100减10"]


def test_timeline_labels_events_and_statuses_in_chinese(world, store):
    order = _paid(world)
    entries = sel.order_timeline(sel.order_get(store, order.pk))
    paid = next(e for e in entries if e.kind == "paid")
    assert (paid.label, paid.from_label, paid.to_label) == ("付款成功", "待付款", "已付款")
