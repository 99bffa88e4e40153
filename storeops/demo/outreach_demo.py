"""Demo outreach (MEM-06): two templates, the marketing consent of most demo buyers (one has
opted out), a win-back campaign to the whole customer base sent in the morning with some
delivery receipts, and the favourite price-drop alert switched on."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from storeops.analytics import segments
from storeops.core.context import Actor
from storeops.outreach import services
from storeops.stores import services as stores
from storeops.stores.models import Store


def load_outreach_demo(*, store: Store, now: dt.datetime, actor: Actor) -> None:
    sale = services.template_create(
        actor=actor,
        store=store,
        code="member-day",
        name="会员日提醒",
        channel="sms",
        body="{store}会员日：全场积分翻倍，满299减30",
    )
    services.template_create(
        actor=actor,
        store=store,
        code="price-drop",
        name="收藏降价提醒",
        channel="sms",
        body="您收藏的{product}直降{drop}元，现价{price}元，仅限今日！",
    )
    stores.playbook_update(actor=actor, store=store, values={"outreach_price_drop_template": "price-drop"})
    customers = sorted(set(segments.segment_customers(store=store).values_list("customer_ref", flat=True)))
    for i, ref in enumerate(customers):
        if i % 5 == 4:
            continue  # never asked: no consent on record
        services.consent_set(
            actor=actor,
            store=store,
            customer_ref=ref,
            channel="sms",
            opted_in=i % 7 != 3,  # a few replied "T"
            source="signup" if i % 7 != 3 else "reply",
            now=now - dt.timedelta(days=20),
        )
    morning = timezone.make_aware(
        dt.datetime.combine(timezone.localdate(now) - dt.timedelta(days=2), dt.time(10))
    )
    campaign = services.campaign_create(
        actor=actor,
        store=store,
        name="会员日预热",
        template=sale,
        audience_kind="list",
        customer_refs=customers,
        now=morning,
    )
    campaign = services.campaign_start(actor=actor, campaign=campaign, now=morning)
    for i, message in enumerate(campaign.messages.filter(status="sent").order_by("id")):
        services.receipt_record(
            store=store, message_id=message.pk, delivered=i % 6 != 5, at=morning + dt.timedelta(minutes=2)
        )
    services.conversions_attribute(store=store, now=now)
