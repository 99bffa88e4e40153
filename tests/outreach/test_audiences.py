"""SOP MEM-06 with the apps it reads: a campaign to a MEM-04 lifecycle segment, and the
"您收藏的XX商品直降50元" trigger from DATA-05 favourites and a price cut."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from storeops.analytics import services as analytics
from storeops.behaviour import services as behaviour
from storeops.core.context import Actor
from storeops.outreach import services
from storeops.pricing import services as pricing
from storeops.stores import services as st
from tests.orders.builders import World

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("cli")
SENT: list[dict] = []


class Gateway:
    channels = frozenset({"sms"})

    def send(self, *, message_id, channel, address, text):
        SENT.append({"address": address, "text": text})
        return True


@pytest.fixture(autouse=True)
def _gateway(settings):
    settings.STOREOPS_OUTREACH_SENDERS = ["tests.outreach.test_audiences.Gateway"]
    SENT.clear()


def _opt_in(store, ref, phone):
    services.consent_set(
        actor=ACTOR,
        store=store,
        customer_ref=ref,
        channel="sms",
        opted_in=True,
        source="signup",
        address=phone,
    )


def _daytime(days_from_now=0):
    day = timezone.localdate() + dt.timedelta(days=days_from_now)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(11)))


def test_mem_06_a_campaign_to_a_lifecycle_segment_reaches_its_consenting_customers(store, channel):
    world = World(store, channel, stock_sh=20)
    long_ago = _daytime(-200)
    for ref, at in (("old", long_ago), ("fresh1", _daytime(-3)), ("fresh2", _daytime(-2))):
        world.pay(world.place(1, customer=ref, now=at), now=at)
    analytics.segments_snapshot(actor=ACTOR, store=store)
    for ref, phone in (("old", "13800000001"), ("fresh1", "13800000002")):
        _opt_in(store, ref, phone)
    template = services.template_create(
        actor=ACTOR, store=store, code="welcome", name="新客", channel="sms", body="{store}新客礼"
    )
    campaign = services.campaign_create(
        actor=ACTOR, store=store, name="新客欢迎", template=template, audience_kind="segment", segment="new"
    )
    campaign = services.campaign_start(actor=ACTOR, campaign=campaign, now=_daytime())
    refs = dict(campaign.messages.values_list("customer_ref", "status"))
    assert refs == {"fresh1": "sent", "fresh2": "suppressed"}  # "old" is sleeping, not new
    assert [s["address"] for s in SENT] == ["13800000002"]


def test_mem_06_a_favourited_items_price_drop_messages_its_fans_once(store, channel, system):
    world = World(store, channel, stock_sh=20, price="199.00")
    fav_at = _daytime(-1)
    behaviour.events_post(
        actor=ACTOR,
        store=store,
        events=[
            {
                "visitor_id": "v1",
                "customer_ref": "fan",
                "kind": "favourite",
                "item_id": "P1-S",
                "occurred_at": fav_at.isoformat(),
            },
            {"visitor_id": "v2", "kind": "favourite", "item_id": "P1-S", "occurred_at": fav_at.isoformat()},
            {
                "visitor_id": "v3",
                "customer_ref": "looker",
                "kind": "page_view",
                "page_type": "product",
                "item_id": "P1-S",
                "occurred_at": fav_at.isoformat(),
            },
        ],
    )
    _opt_in(store, "fan", "13800000009")
    _opt_in(store, "looker", "13800000008")
    services.template_create(
        actor=ACTOR,
        store=store,
        code="drop",
        name="降价",
        channel="sms",
        body="您收藏的{product}直降{drop}元，现价{price}元",
    )
    st.playbook_update(actor=system, store=store, values={"outreach_price_drop_template": "drop"})
    since = _daytime(-1)
    pricing.price_set(
        actor=ACTOR, sku=world.sku_s, new_price="195.00", reason="promotion"
    )  # 4 off: too small
    assert services.price_drop_alerts(store=store, since=since, now=_daytime()) == []
    pricing.price_set(actor=ACTOR, sku=world.sku_s, new_price="145.00", reason="promotion")  # 50 off
    [campaign] = services.price_drop_alerts(store=store, since=since, now=_daytime())
    assert campaign.audience_kind == "price_drop"
    assert campaign.status == "sent"
    # only the known customer who favourited it (not the anonymous fan, not the viewer)
    assert list(campaign.messages.values_list("customer_ref", flat=True)) == ["fan"]
    [sms] = SENT
    assert sms["address"] == "13800000009"
    assert "直降50元" in sms["text"]
    assert "现价145元" in sms["text"]
    assert sms["text"].endswith("回T退订")
    assert services.price_drop_alerts(store=store, since=since, now=_daytime()) == []  # once per price change
