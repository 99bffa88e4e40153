"""AS-02 with PROMO-05: an order placed (or, imported, paid on the platform) while a big
promotion of its store is live for its channel is a big-promotion order, and its refund
deadline is 48 h, not 24 h. "Live": approved by the whole chain or activated, on a day of its
burst phase (store time), or of its dates when the plan has no burst phase."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.utils import timezone

from storeops.accounts.roles import Role
from storeops.aftersales import services as aftersales
from storeops.marketing import services as ms
from storeops.marketing.selectors import big_promo_live
from storeops.orders import imports
from storeops.orders.models import Order
from storeops.stores import services as st
from tests.aftersales.builders import ASKED, delivered_order
from tests.marketing.builders import ACTOR, a_campaign, an_approved_campaign
from tests.orders import import_files as f
from tests.orders.builders import T0, World

pytestmark = pytest.mark.django_db

# T0 is 2026-06-01 18:00 in Shanghai: the campaign below preheats on 05-31, bursts on 06-01
# and has its return on 06-02.
START = dt.date(2026, 5, 31)
DAY = dt.timedelta(days=1)


def _at(day: dt.date, hour: int = 12) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


@pytest.fixture
def world(store, channel):
    return World(store, channel)


def _big(store, starts_on=START, **overrides):
    return an_approved_campaign(store, starts_on, kind="big_promotion", **overrides)


def test_as_02_a_big_promotion_is_live_on_its_burst_days_once_approved(store, channel):
    assert not big_promo_live(store=store, channel=channel, at=T0)
    _big(store)
    assert big_promo_live(store=store, channel=channel, at=T0)
    # the burst day in store time: 00:00 and 23:59 Shanghai of 06-01
    assert big_promo_live(store=store, channel=channel, at=_at(START + DAY, 0))
    assert big_promo_live(store=store, channel=channel, at=_at(START + DAY, 23))
    # preheat and return days are not the rush
    assert not big_promo_live(store=store, channel=channel, at=_at(START))
    assert not big_promo_live(store=store, channel=channel, at=_at(START + 2 * DAY))


def test_as_02_regular_campaigns_and_plans_not_approved_are_not_live(store, channel):
    an_approved_campaign(store, START)  # a regular campaign
    draft = a_campaign(store, START, kind="big_promotion")
    assert not big_promo_live(store=store, channel=channel, at=T0)
    ms.campaign_submit(actor=ACTOR, campaign=draft)  # pending the operations lead
    assert not big_promo_live(store=store, channel=channel, at=T0)


def test_as_02_an_active_big_promotion_is_live_and_one_ended_or_cancelled_is_not(store, channel):
    campaign = ms.campaign_activate(actor=ACTOR, campaign=_big(store))
    assert big_promo_live(store=store, channel=channel, at=T0)
    ms.campaign_end(actor=ACTOR, campaign=campaign)
    assert not big_promo_live(store=store, channel=channel, at=T0)
    ms.campaign_cancel(actor=ACTOR, campaign=_big(store, theme="另一个"), comment="取消")
    assert not big_promo_live(store=store, channel=channel, at=T0)


def test_as_02_a_plan_without_a_burst_phase_is_live_over_its_dates(store, channel):
    _big(store, phases=[])
    for day in (START, START + DAY, START + 2 * DAY):
        assert big_promo_live(store=store, channel=channel, at=_at(day))
    assert not big_promo_live(store=store, channel=channel, at=_at(START - DAY))
    assert not big_promo_live(store=store, channel=channel, at=_at(START + 3 * DAY))


def test_as_02_a_campaign_of_one_channel_does_not_make_other_channels_orders_big(store, channel):
    other = st.channel_create(actor=ACTOR, store=store, kind="jd", code="jd", name="京东")
    _big(store, channel=other)
    assert big_promo_live(store=store, channel=other, at=T0)
    assert not big_promo_live(store=store, channel=channel, at=T0)


def test_as_02_the_check_is_one_query(store, channel, django_assert_num_queries):
    _big(store)
    with django_assert_num_queries(1):
        assert big_promo_live(store=store, channel=channel, at=T0)


def test_as_02_an_order_placed_in_the_burst_gets_the_48h_refund_deadline(world, store):
    before = world.place(1, customer="early", now=_at(START))  # preheat: a normal order
    _big(store)
    order = delivered_order(world, 1)  # placed at T0, in the burst
    assert order.is_big_promo
    assert not Order.objects.get(pk=before.pk).is_big_promo
    case = aftersales.case_request(
        actor=ACTOR,
        order=order,
        kind="refund_only",
        reason="damaged",
        units={order.lines.get().pk: 1},
        now=ASKED,
    )
    assert case.is_big_promo
    assert case.due_at == ASKED + dt.timedelta(hours=48)


def test_as_02_outside_the_burst_the_refund_deadline_stays_24h(world, store):
    _big(store, starts_on=START + 10 * DAY, ends_on=START + 12 * DAY, phases=[])
    order = delivered_order(world, 1)
    assert not order.is_big_promo
    case = aftersales.case_request(
        actor=ACTOR,
        order=order,
        kind="refund_only",
        reason="damaged",
        units={order.lines.get().pk: 1},
        now=ASKED,
    )
    assert case.due_at == ASKED + dt.timedelta(hours=24)


def test_as_02_the_web_shop_checkout_marks_big_promotion_orders(world, store, api_as):
    shop = api_as(Role.OPERATIONS)
    cart = {
        "channel_id": world.channel.pk,
        "customer": {"ref": "buyer-1"},
        "lines": [{"sku": "P1-S", "quantity": 1}],
        "address": {
            "receiver": "张三",
            "phone": "13812345678",
            "province": "浙江省",
            "city": "杭州市",
            "address": "文三路100号",
        },
    }
    # the checkout places "now": move the campaign onto today's date instead of the clock
    today = timezone.localdate()
    campaign = _big(
        store,
        theme="今天的大促",
        starts_on=today,
        ends_on=today,
        phases=[{"kind": "burst", "starts_on": today, "ends_on": today}],
    )
    placed = shop.client.post(
        f"/api/v1/orders/shop/{store.pk}/orders", json.dumps(cart), content_type="application/json"
    )
    assert placed.status_code == 201, placed.content
    order = Order.objects.get(number=placed.json()["order"]["number"])
    assert order.is_big_promo
    # once it is cancelled, the next checkout is a normal order again
    ms.campaign_cancel(actor=ACTOR, campaign=campaign, comment="取消")
    again = shop.client.post(
        f"/api/v1/orders/shop/{store.pk}/orders",
        json.dumps({**cart, "customer": {"ref": "buyer-2"}}),
        content_type="application/json",
    )
    assert again.status_code == 201, again.content
    assert not Order.objects.get(number=again.json()["order"]["number"]).is_big_promo


def _row(number: str, paid: str) -> list[str]:
    """One Tmall export row (see ``import_files.TMALL_HEADER``), paid at ``paid``."""
    address = "浙江省 杭州市 西湖区 文三路1号"
    return [number, "b", "李四", "13900001111", address, "x", "P1-S", "1", "", "10.00", "", paid, paid, ""]


def test_as_02_imported_orders_paid_in_the_burst_are_big_promotion_orders(world, store):
    _big(store)
    content = f.csv_bytes(
        f.TMALL_HEADER, [_row("T1", "2026-06-01 09:00:00"), _row("T2", "2026-06-02 09:00:00")]
    )
    report = imports.orders_import(
        actor=ACTOR, store=store, channel=world.channel, source=io.BytesIO(content), filename="t.csv"
    )
    assert report.ok, report.errors
    assert Order.objects.get(number="T1").is_big_promo
    assert not Order.objects.get(number="T2").is_big_promo  # paid on the return day
