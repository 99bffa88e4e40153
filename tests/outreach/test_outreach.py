"""SOP MEM-06: outreach campaigns (SMS, push, e-mail) to a list, a segment or a trigger, with
templates, consent and opt-out, frequency caps, quiet hours, delivery receipts and conversion."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st_

from storeops.accounts.roles import Role
from storeops.core.context import Actor
from storeops.core.errors import Conflict, ValidationError
from storeops.orders import services as order_services
from storeops.outreach import rules, selectors, services
from storeops.outreach.models import Message
from storeops.sop.models import Finding
from storeops.sop.services import checks_run
from storeops.stores import services as st
from tests.orders.builders import World, ship

ACTOR = Actor.system("cli")
SENT_LOG: list[dict] = []


class RecordingSender:
    """A gateway that records what it was handed and refuses numbers ending in 0."""

    channels = frozenset({"sms", "email"})

    def send(self, *, message_id, channel, address, text):
        SENT_LOG.append({"id": message_id, "channel": channel, "address": address, "text": text})
        return not address.endswith("0")


@pytest.fixture(autouse=True)
def _gateway(settings):
    settings.STOREOPS_OUTREACH_SENDERS = ["tests.outreach.test_outreach.RecordingSender"]
    SENT_LOG.clear()


def _at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime(2026, 12, day, hour, minute))


@pytest.fixture
def sms(store):
    return services.template_create(
        actor=ACTOR, store=store, code="hello", name="问候", channel="sms", body="{store}会员日，全场8折"
    )


def _opt_in(store, ref, address="13800000001", channel="sms"):
    return services.consent_set(
        actor=ACTOR,
        store=store,
        customer_ref=ref,
        channel=channel,
        opted_in=True,
        source="signup",
        address=address,
    )


def _campaign(store, template, refs, name="活动"):
    return services.campaign_create(
        actor=ACTOR, store=store, name=name, template=template, audience_kind="list", customer_refs=refs
    )


# --- rules -----------------------------------------------------------------------------------


def test_mem_06_decide_consent_address_and_cap():
    assert rules.decide(consent=None, address="138", sent_in_window=0, cap=3) == rules.Skip.NO_CONSENT
    assert rules.decide(consent="opted_out", address="138", sent_in_window=0, cap=3) == rules.Skip.OPTED_OUT
    assert rules.decide(consent="opted_in", address="", sent_in_window=0, cap=3) == rules.Skip.NO_ADDRESS
    assert (
        rules.decide(consent="opted_in", address="138", sent_in_window=3, cap=3) == rules.Skip.FREQUENCY_CAP
    )
    assert rules.decide(consent="opted_in", address="138", sent_in_window=2, cap=3) is None


def test_mem_06_render_fills_placeholders_and_appends_the_opt_out_once():
    text = rules.render(
        "您收藏的{product}直降{drop}元", {"product": "瑜伽垫", "drop": "50"}, optout="回T退订"
    )
    assert text == "您收藏的瑜伽垫直降50元 回T退订"
    assert rules.render("已含回T退订", {}, optout="回T退订") == "已含回T退订"
    assert rules.render("{coupon}", {}, optout="") == ""  # a missing value renders empty
    assert rules.unknown_placeholders("{product}{bogus}") == {"bogus"}
    assert rules.sms_parts("字" * 70) == 1
    assert rules.sms_parts("字" * 71) == 2


@given(
    st_.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2027, 1, 1)),
    st_.integers(0, 23),
    st_.integers(0, 23),
)
def test_mem_06_next_send_time_is_the_first_minute_outside_the_quiet_hours(local, start, end):
    out = rules.next_send_time(local, start_hour=start, end_hour=end)
    assert out >= local
    assert out - local <= dt.timedelta(hours=24)
    assert not rules.in_quiet_hours(out, start_hour=start, end_hour=end)
    if not rules.in_quiet_hours(local, start_hour=start, end_hour=end):
        assert out == local


def test_mem_06_price_drop_threshold():
    ok = {"min_amount": Decimal("10"), "min_ratio": Decimal("0.10")}
    assert rules.is_price_drop(Decimal("199"), Decimal("149"), **ok)  # 50 off
    assert rules.is_price_drop(Decimal("50"), Decimal("44"), **ok)  # 12 %
    assert not rules.is_price_drop(Decimal("200"), Decimal("195"), **ok)  # 5 off, 2.5 %
    assert not rules.is_price_drop(Decimal("100"), Decimal("120"), **ok)


# --- templates and consent ---------------------------------------------------------------------


def test_mem_06_template_validation(store, sms):
    with pytest.raises(ValidationError) as bad:
        services.template_create(actor=ACTOR, store=store, code="x", name="x", channel="sms", body="{nope}")
    assert "nope" in str(bad.value.fields["body"])
    with pytest.raises(ValidationError) as broken:
        services.template_create(actor=ACTOR, store=store, code="y", name="y", channel="sms", body="{product")
    assert "body" in broken.value.fields
    with pytest.raises(ValidationError) as subject:
        services.template_create(actor=ACTOR, store=store, code="z", name="z", channel="email", body="hi")
    assert "subject" in subject.value.fields
    with pytest.raises(ValidationError):
        services.template_create(actor=ACTOR, store=store, code="hello", name="dup", channel="sms", body="hi")


def test_mem_06_the_latest_consent_statement_wins(store):
    _opt_in(store, "c1")
    services.consent_set(
        actor=ACTOR, store=store, customer_ref="c1", channel="sms", opted_in=False, source="reply"
    )
    consent = selectors.consent_list(store, q="c1").get()
    assert (consent.status, consent.source, consent.address) == ("opted_out", "reply", "13800000001")
    with pytest.raises(ValidationError):
        services.consent_set(
            actor=ACTOR,
            store=store,
            customer_ref="c2",
            channel="sms",
            opted_in=True,
            source="signup",
            address="abc",
        )


# --- sending -----------------------------------------------------------------------------------


def test_mem_06_only_consenting_reachable_customers_under_the_cap_are_messaged(store, sms):
    _opt_in(store, "in")
    _opt_in(store, "out")
    services.consent_set(
        actor=ACTOR, store=store, customer_ref="out", channel="sms", opted_in=False, source="reply"
    )
    services.consent_set(
        actor=ACTOR, store=store, customer_ref="nophone", channel="sms", opted_in=True, source="signup"
    )
    campaign = _campaign(store, sms, ["in", "out", "never-asked", "nophone"])
    campaign = services.campaign_start(actor=ACTOR, campaign=campaign, now=_at(1, 10))
    assert campaign.status == "sent"
    assert campaign.audience_size == 4
    by_ref = {m.customer_ref: m for m in Message.objects.filter(campaign=campaign)}
    assert by_ref["in"].status == "sent"
    assert by_ref["in"].address_masked == "138****0001"
    assert (by_ref["out"].status, by_ref["out"].reason) == ("suppressed", "opted_out")
    assert (by_ref["never-asked"].status, by_ref["never-asked"].reason) == ("suppressed", "no_consent")
    assert (by_ref["nophone"].status, by_ref["nophone"].reason) == ("suppressed", "no_address")
    # the gateway got exactly one SMS, with the store name filled in and the opt-out appended
    assert [s["address"] for s in SENT_LOG] == ["13800000001"]
    assert SENT_LOG[0]["text"] == f"{store.name}会员日，全场8折 回T退订"
    assert SENT_LOG[0]["id"] == by_ref["in"].pk


def test_mem_06_frequency_cap_is_a_playbook_setting(store, sms, system):
    st.playbook_update(
        actor=system, store=store, values={"outreach_frequency_cap": 2, "outreach_frequency_days": 7}
    )
    _opt_in(store, "c1")
    results = []
    for day in (1, 2, 3):
        c = services.campaign_start(
            actor=ACTOR, campaign=_campaign(store, sms, ["c1"], f"d{day}"), now=_at(day, 10)
        )
        results.append(c.messages.get().status)
    assert results == ["sent", "sent", "suppressed"]
    assert Message.objects.filter(status="suppressed").get().reason == "frequency_cap"
    # a week later the window has moved on
    c = services.campaign_start(actor=ACTOR, campaign=_campaign(store, sms, ["c1"], "d9"), now=_at(9, 10))
    assert c.messages.get().status == "sent"


def test_mem_06_a_refusing_gateway_marks_the_message_failed(store, sms):
    _opt_in(store, "c1", address="13800000010")  # the recording gateway refuses numbers ending in 0
    c = services.campaign_start(actor=ACTOR, campaign=_campaign(store, sms, ["c1"]), now=_at(1, 10))
    message = c.messages.get()
    assert message.status == "failed"
    assert message.receipt_at is not None
    assert selectors.campaign_stats(c).delivery_rate == 0


def test_mem_06_quiet_hours_schedule_the_campaign_for_the_morning(store, sms):
    _opt_in(store, "c1")
    campaign = services.campaign_start(
        actor=ACTOR, campaign=_campaign(store, sms, ["c1"]), now=_at(1, 22, 30)
    )
    assert campaign.status == "scheduled"
    assert timezone.localtime(campaign.scheduled_at) == _at(2, 8)
    assert not SENT_LOG
    assert services.campaigns_run_due(now=_at(2, 7, 59)) == 0
    assert services.campaigns_run_due(now=_at(2, 8, 1)) == 1
    campaign.refresh_from_db()
    assert campaign.status == "sent"
    assert len(SENT_LOG) == 1


def test_mem_06_sending_is_at_most_once_and_resumes_in_batches(store, sms, monkeypatch):
    refs = [f"c{i}" for i in range(7)]
    for i, ref in enumerate(refs):
        _opt_in(store, ref, address=f"1380000000{i + 1}")
    monkeypatch.setattr(services, "INLINE_LIMIT", 3)
    monkeypatch.setattr(services, "BATCH", 2)
    campaign = services.campaign_start(actor=ACTOR, campaign=_campaign(store, sms, refs), now=_at(1, 10))
    assert (campaign.status, campaign.processed, campaign.audience_size) == ("sending", 3, 7)
    services.campaigns_run_due(now=_at(1, 10, 1))
    services.campaigns_run_due(now=_at(1, 10, 2))  # nothing left: no second SMS to anyone
    campaign.refresh_from_db()
    assert campaign.status == "sent"
    assert campaign.processed == 7
    # every customer handed to the gateway exactly once, across the three runs
    assert len(SENT_LOG) == 7
    assert len({s["address"] for s in SENT_LOG}) == 7


def test_mem_06_cancel_stops_a_sending_campaign(store, sms, monkeypatch):
    for i in range(4):
        _opt_in(store, f"c{i}", address=f"1380000000{i + 1}")
    monkeypatch.setattr(services, "INLINE_LIMIT", 2)
    campaign = services.campaign_start(
        actor=ACTOR, campaign=_campaign(store, sms, [f"c{i}" for i in range(4)]), now=_at(1, 10)
    )
    services.campaign_cancel(actor=ACTOR, campaign=campaign)
    services.campaigns_run_due(now=_at(1, 10, 1))
    assert len(SENT_LOG) == 2
    with pytest.raises(Conflict):
        services.campaign_start(actor=ACTOR, campaign=campaign, now=_at(1, 11))


# --- receipts, conversions, the check ----------------------------------------------------------


def test_mem_06_receipts_count_delivery_and_a_low_rate_is_a_finding(store, sms):
    for i in range(4):
        _opt_in(store, f"c{i}", address=f"1380000000{i + 1}")
    campaign = services.campaign_start(
        actor=ACTOR, campaign=_campaign(store, sms, [f"c{i}" for i in range(4)]), now=_at(1, 10)
    )
    messages = list(campaign.messages.order_by("id"))
    services.receipt_record(store=store, message_id=messages[0].pk, delivered=True, at=_at(1, 10, 1))
    services.receipt_record(store=store, message_id=messages[1].pk, delivered=False, at=_at(1, 10, 1))
    # a repeated report does not change the first one
    again = services.receipt_record(store=store, message_id=messages[0].pk, delivered=False, at=_at(1, 11))
    assert again.status == "delivered"
    stats = selectors.campaign_stats(campaign)
    assert (stats.sent, stats.delivered, stats.failed, stats.delivery_rate) == (4, 1, 1, Decimal("0.25"))
    # judged only after the receipt wait (24 h): then 25 % < 90 % is a warning for marketing
    checks_run(rule="MEM-06", store=store, now=_at(1, 20), notify=False)
    assert not Finding.objects.filter(rule_id="MEM-06").exists()
    checks_run(rule="MEM-06", store=store, now=_at(2, 11), notify=False)
    finding = Finding.objects.get(rule_id="MEM-06")
    assert finding.subject_key == f"campaign:{campaign.pk}"
    assert finding.severity == "warning"
    assert finding.detail["delivered"] == 1


def test_mem_06_delivery_floor_is_a_playbook_setting(store, sms, system):
    _opt_in(store, "c1")
    campaign = services.campaign_start(actor=ACTOR, campaign=_campaign(store, sms, ["c1"]), now=_at(1, 10))
    services.receipt_record(store=store, message_id=campaign.messages.get().pk, delivered=False)
    st.playbook_update(actor=system, store=store, values={"outreach_min_delivery_rate": "0"})
    checks_run(rule="MEM-06", store=store, now=_at(2, 11), notify=False)
    assert not Finding.objects.filter(rule_id="MEM-06").exists()


def test_mem_06_conversion_is_the_first_paid_order_in_the_window(store, channel, sms, api_as, make_user):
    world = World(store, channel, stock_sh=20)
    for ref in ("buyer", "late", "idle"):
        _opt_in(store, ref)
    campaign = services.campaign_start(
        actor=ACTOR, campaign=_campaign(store, sms, ["buyer", "late", "idle"]), now=_at(1, 10)
    )
    order = world.place(1, customer="buyer", now=_at(2, 9))
    world.pay(order, now=_at(2, 9))
    late = world.place(1, customer="late", now=_at(9, 9))  # after the 7-day window
    world.pay(late, now=_at(9, 9))
    assert services.conversions_attribute(store=store, now=_at(9, 12)) == 1
    assert services.conversions_attribute(store=store, now=_at(9, 12)) == 0  # idempotent
    converted = campaign.messages.get(customer_ref="buyer")
    assert converted.converted_order == order.number
    assert converted.converted_amount == order.paid_amount
    stats = selectors.campaign_stats(campaign)
    assert (stats.converted, stats.revenue, stats.conversion_rate) == (
        1,
        order.paid_amount,
        Decimal("0.3333"),
    )
    # a refund later takes its share out of the campaign's revenue (the conversion stays)
    order = ship(order)  # a 7-day return: after the goods left
    order_services.order_refund(
        actor=ACTOR, order=order, units={order.lines.get().pk: 1}, reason="七天无理由"
    )
    order.refresh_from_db()
    stats = selectors.campaign_stats(campaign)
    assert order.refunded_amount == order.paid_amount > 0
    assert (stats.converted, stats.revenue, stats.refunded) == (1, Decimal("0.00"), order.paid_amount)
    shown = api_as(Role.MARKETING).get(f"/outreach/{store.pk}/campaigns/{campaign.pk}").json()["stats"]
    assert (Decimal(shown["revenue"]), Decimal(shown["refunded"])) == (Decimal("0"), order.paid_amount)
    # the campaign page reads it in English without Chinese brackets around it
    client = Client()
    client.force_login(make_user(Role.MARKETING, username="mkt_en", language="en"))
    page = client.get(f"/outreach/{campaign.pk}/").content.decode()
    assert f"(refunds deducted ¥{order.paid_amount})" in page
    assert "（" not in page


def test_mem_06_revenue_ignores_another_channels_refunded_order_of_the_same_number(store, channel, sms):
    """Order numbers are unique per channel only: a JD order refunded in full that shares the
    converted Tmall order's number must not take the campaign's revenue away."""
    from storeops.orders.models import Order
    from storeops.stores import services as store_services

    world = World(store, channel, stock_sh=20)
    _opt_in(store, "buyer")
    campaign = services.campaign_start(actor=ACTOR, campaign=_campaign(store, sms, ["buyer"]), now=_at(1, 10))
    tmall = world.channel
    world.channel = store_services.channel_create(actor=ACTOR, store=store, kind="jd", code="jd", name="京东")
    other = world.place(1, customer="stranger", now=_at(2, 8))
    world.pay(other, now=_at(2, 8))
    other = ship(other)
    order_services.order_refund(
        actor=ACTOR, order=other, units={other.lines.get().pk: 1}, reason="七天无理由"
    )
    world.channel = tmall
    order = world.place(1, customer="buyer", now=_at(2, 9))
    world.pay(order, now=_at(2, 9))
    Order.objects.filter(pk=other.pk).update(number=order.number)
    assert services.conversions_attribute(store=store, now=_at(2, 12)) == 1
    stats = selectors.campaign_stats(campaign)
    assert (stats.converted, stats.revenue, stats.refunded) == (1, order.paid_amount, Decimal("0.00"))


def test_mem_06_another_customers_order_of_the_same_number_on_another_channel_still_converts(
    store, channel, sms
):
    """Order numbers are unique per channel only: a JD order that converted one customer's
    message must not stop another customer's Tmall order of the same number from converting."""
    from storeops.orders.models import Order
    from storeops.stores import services as store_services

    world = World(store, channel, stock_sh=20)
    for ref in ("a", "b"):
        _opt_in(store, ref)
    campaign = services.campaign_start(
        actor=ACTOR, campaign=_campaign(store, sms, ["a", "b"]), now=_at(1, 10)
    )
    tmall = world.channel
    world.channel = store_services.channel_create(actor=ACTOR, store=store, kind="jd", code="jd", name="京东")
    on_jd = world.place(1, customer="a", now=_at(2, 8))
    world.pay(on_jd, now=_at(2, 8))
    assert services.conversions_attribute(store=store, now=_at(2, 9)) == 1
    world.channel = tmall
    on_tmall = world.place(1, customer="b", now=_at(2, 10))
    world.pay(on_tmall, now=_at(2, 10))
    Order.objects.filter(pk=on_tmall.pk).update(number=on_jd.number)
    assert services.conversions_attribute(store=store, now=_at(2, 12)) == 1
    assert campaign.messages.get(customer_ref="b").converted_order == on_jd.number
    assert selectors.campaign_stats(campaign).converted == 2


def test_mem_06_one_order_converts_only_the_latest_message_before_it(store, channel, sms):
    world = World(store, channel, stock_sh=20)
    _opt_in(store, "c1")
    first = services.campaign_start(actor=ACTOR, campaign=_campaign(store, sms, ["c1"], "一"), now=_at(1, 10))
    second = services.campaign_start(
        actor=ACTOR, campaign=_campaign(store, sms, ["c1"], "二"), now=_at(2, 10)
    )
    order = world.place(1, customer="c1", now=_at(3, 9))
    world.pay(order, now=_at(3, 9))
    services.conversions_attribute(store=store, now=_at(3, 12))
    assert second.messages.get().converted_order == order.number
    assert first.messages.get().converted_order == ""


def test_mem_06_sms_address_falls_back_to_the_latest_order_phone(store, channel, sms):
    world = World(store, channel, stock_sh=5)
    world.place(1, customer="c1", now=_at(1, 9))  # the builder's address: 13812345678
    services.consent_set(
        actor=ACTOR, store=store, customer_ref="c1", channel="sms", opted_in=True, source="signup"
    )
    c = services.campaign_start(actor=ACTOR, campaign=_campaign(store, sms, ["c1"]), now=_at(1, 10))
    assert c.messages.get().status == "sent"
    assert SENT_LOG[0]["address"] == "13812345678"


# --- API and console ---------------------------------------------------------------------------


def test_mem_06_api_campaign_round_trip(store, api_as, system):
    # no quiet hours (start == end), so "send" sends whatever the machine's clock says
    st.playbook_update(
        actor=system, store=store, values={"outreach_quiet_start_hour": 0, "outreach_quiet_end_hour": 0}
    )
    api = api_as(Role.MARKETING)
    bad = api.post(
        f"/outreach/{store.pk}/templates", {"code": "x", "name": "x", "channel": "fax", "body": "hi"}
    )
    assert bad.status_code == 422
    assert "channel" in bad.json()["fields"]
    template = api.post(
        f"/outreach/{store.pk}/templates",
        {"code": "sale", "name": "大促", "channel": "sms", "body": "{store}大促"},
    ).json()
    api.post(
        f"/outreach/{store.pk}/consents",
        {
            "customer_ref": "c1",
            "channel": "sms",
            "opted_in": True,
            "source": "signup",
            "address": "13800000001",
        },
    )
    created = api.post(
        f"/outreach/{store.pk}/campaigns",
        {
            "name": "双12",
            "template_id": template["id"],
            "audience_kind": "list",
            "customer_refs": ["c1", "c2"],
        },
    )
    assert created.status_code == 201
    assert created.json()["status"] == "draft"
    empty = api.post(
        f"/outreach/{store.pk}/campaigns",
        {"name": "空", "template_id": template["id"], "audience_kind": "list", "customer_refs": []},
    )
    assert empty.status_code == 422
    cid = created.json()["id"]
    sent = api.post(f"/outreach/{store.pk}/campaigns/{cid}/send")
    assert sent.status_code == 200
    assert sent.json()["status"] == "sent"
    assert sent.json()["stats"]["sent"] == 1
    assert sent.json()["stats"]["suppressed"] == {"no_consent": 1}
    items = api.get(f"/outreach/{store.pk}/campaigns/{cid}/messages", status="sent").json()["items"]
    receipt = api.post(f"/outreach/{store.pk}/receipts", {"message_id": items[0]["id"], "delivered": True})
    assert receipt.json()["status"] == "delivered"
    again = api.post(f"/outreach/{store.pk}/campaigns/{cid}/send")
    assert again.status_code == 409


def test_mem_06_customer_service_records_opt_outs_but_cannot_send(store, api_as):
    cs = api_as(Role.CUSTOMER_SERVICE)
    ok = cs.post(
        f"/outreach/{store.pk}/consents",
        {"customer_ref": "c1", "channel": "sms", "opted_in": False, "source": "console"},
    )
    assert ok.status_code == 200
    assert ok.json()["status"] == "opted_out"
    assert cs.get(f"/outreach/{store.pk}/campaigns").status_code == 403


def test_mem_06_console_pages_show_stats_and_masked_addresses(store, sms, make_user):
    _opt_in(store, "c1")
    campaign = services.campaign_start(
        actor=ACTOR, campaign=_campaign(store, sms, ["c1", "c2"]), now=_at(1, 10)
    )
    client = Client()
    client.force_login(make_user(Role.MARKETING))
    page = client.get(f"/outreach/{campaign.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "138****0001" in html
    assert "13800000001" not in html
    assert "未授权营销消息" in html
    listing = client.get("/outreach/").content.decode()
    assert "活动" in listing
    assert f"/outreach/{campaign.pk}/" in listing


def test_mem_06_campaign_list_reads_stats_in_two_queries_for_the_whole_page(store, sms, make_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _opt_in(store, "c1")
    first = services.campaign_start(actor=ACTOR, campaign=_campaign(store, sms, ["c1", "c2"]), now=_at(1, 10))
    client = Client()
    client.force_login(make_user(Role.MARKETING))
    client.get("/outreach/")  # warm (session, permissions)
    with CaptureQueriesContext(connection) as one:
        assert client.get("/outreach/").status_code == 200
    more = [
        services.campaign_start(
            actor=ACTOR, campaign=_campaign(store, sms, ["c1"], name=f"活动{i}"), now=_at(2 + i, 10)
        )
        for i in range(3)
    ]
    with CaptureQueriesContext(connection) as four:
        assert client.get("/outreach/").status_code == 200
    assert len(four.captured_queries) == len(one.captured_queries)
    # the batched figures are the per-campaign ones; a campaign without messages counts zeros
    empty = _campaign(store, sms, ["c9"], name="未发送")  # a draft: no messages yet
    batched = selectors.campaigns_stats([first, *more, empty])
    assert batched[first.pk].sent == 1
    assert batched[first.pk].suppressed == {"no_consent": 1}
    assert batched[empty.pk].sent == 0
    assert batched[empty.pk].revenue == Decimal("0.00")
    for c in (first, *more):
        assert batched[c.pk] == selectors.campaign_stats(c)


@pytest.fixture
def marketing_client(make_user):
    client = Client()
    client.force_login(make_user(Role.MARKETING))
    return client


def test_mem_06_refused_new_campaign_keeps_what_was_typed_and_saves_nothing(store, sms, marketing_client):
    response = marketing_client.post(
        "/outreach/new/",
        {
            "name": "双十二会员日",
            "template": sms.pk,
            "audience_kind": "list",
            "segment": "",
            "customer_refs": "c1\nc2\nc3",
            "scheduled_at": "2020-01-01T10:00",  # in the past
        },
    )
    assert response.status_code == 422  # was a redirect to an empty form
    html = response.content.decode()
    assert 'value="双十二会员日"' in html
    assert ">c1\nc2\nc3</textarea>" in html
    assert 'name="audience_kind" value="list" checked' in html
    assert f'<option value="{sms.pk}" selected' in html
    assert 'value="2020-01-01T10:00"' in html
    assert '<span class="err">须晚于现在</span>' in html
    assert not selectors.campaign_list(store).exists()


def test_mem_06_refused_new_template_and_consent_keep_what_was_typed(store, marketing_client):
    response = marketing_client.post(
        "/outreach/templates/new/",
        {
            "code": "price-drop",
            "name": "降价提醒",
            "channel": "email",
            "subject": "",
            "body": "{product}直降{drop}元",
        },
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'value="price-drop"' in html
    assert 'value="降价提醒"' in html
    assert ">{product}直降{drop}元</textarea>" in html
    assert '<option value="email" selected' in html
    assert '<span class="err">邮件和推送需要标题</span>' in html
    assert not selectors.template_list(store).exists()
    response = marketing_client.post(
        "/outreach/consents/set/",
        {
            "customer_ref": "c42",
            "channel": "sms",
            "source": "signup",
            "address": "not-a-phone",
            "opted_in": "yes",
        },
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'value="c42"' in html
    assert 'value="not-a-phone"' in html
    assert '<span class="err">手机号无效</span>' in html
    assert not selectors.consent_list(store).exists()
