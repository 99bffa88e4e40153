"""PROMO-06 live monitoring counted from StoreOps' own rows: each hour of an approved or live
campaign, the orders placed on its channel, the GMV paid, payment attempts and failures, and
the coupons of its templates issued and redeemed; an hour counted again replaces only those,
exposure and clicks stay as typed; the check alerts on the counted figures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from huey.contrib.djhuey import HUEY

from storeops.accounts.roles import Role
from storeops.audit.models import AuditEntry
from storeops.core.errors import Conflict
from storeops.marketing import selectors
from storeops.marketing import services as ms
from storeops.marketing.models import CampaignMetricHourly
from storeops.marketing.tasks import count_campaign_metrics
from storeops.orders import services as order_services
from storeops.promotions import services as prs
from storeops.sop.models import Finding
from storeops.sop.services import checks_run
from storeops.stores import services as store_services
from storeops.stores.services import playbook_update
from tests.marketing.builders import ACTOR, a_campaign, an_approved_campaign
from tests.orders.builders import World

pytestmark = pytest.mark.django_db

MIN = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)
# 2026-06-01 18:00 in Shanghai: the hour the tests fill
T0 = dt.datetime(2026, 6, 1, 10, 0, tzinfo=dt.UTC)
DAY1 = dt.date(2026, 6, 1)


@pytest.fixture
def channel(store, system):
    """The own web shop: StoreOps takes its orders and payments, so it counts them."""
    return store_services.channel_create(actor=system, store=store, kind="own_web", code="web", name="官网")


@pytest.fixture
def world(store, channel):
    return World(store, channel)


@pytest.fixture
def other_channel(store, system):
    return store_services.channel_create(
        actor=system, store=store, kind="own_web", code="web2", name="官网（海外）"
    )


def _row(campaign, hour=T0):
    return CampaignMetricHourly.objects.get(campaign=campaign, hour=hour)


def _hour_of_orders(world, other_channel):
    """In the hour from T0, on the campaign's channel: order A fails once then pays, B pays,
    C starts a payment left pending; on another channel D pays; the next hour E pays."""
    a = world.place(1, customer="a", now=T0 + 5 * MIN)
    world.pay(a, now=T0 + 6 * MIN, outcome="failed")
    world.pay(a, now=T0 + 8 * MIN)
    b = world.place(1, customer="b", now=T0 + 10 * MIN)
    world.pay(b, now=T0 + 11 * MIN)
    c = world.place(1, customer="c", now=T0 + 20 * MIN)
    order_services.payment_start(actor=ACTOR, order=c, now=T0 + 50 * MIN)
    elsewhere = World.__new__(World)
    elsewhere.__dict__.update(world.__dict__, channel=other_channel)
    d = elsewhere.place(1, customer="d", now=T0 + 30 * MIN)
    elsewhere.pay(d, now=T0 + 31 * MIN)
    e = world.place(1, customer="e", now=T0 + 70 * MIN)
    world.pay(e, now=T0 + 71 * MIN)


def _figures(row):
    return (row.orders, row.gmv, row.payment_attempts, row.payment_failures)


def test_promo_06_counts_orders_gmv_payments_and_failures_of_an_hour_from_real_rows(
    store, channel, world, other_channel
):
    # given an approved campaign on the channel from 1 June, and an hour of orders
    campaign = an_approved_campaign(store, DAY1, channel=channel)
    _hour_of_orders(world, other_channel)
    # when the hourly job counts at 19:03 (the last full hour: 18:00)
    result = ms.campaign_metrics_count(actor=ACTOR, campaign=campaign, now=T0 + HOUR + 3 * MIN)
    # then every hour since midnight of the first day is counted, up to 18:00
    assert len(result.hours) == 19
    assert result.hours[-1] == T0
    # and 18:00 has A, B and C placed on the channel (not D, elsewhere, nor E, the next hour),
    # 200.00 paid, 3 payments with an outcome of which 1 failed (C's is still pending)
    row = _row(campaign)
    assert _figures(row) == (3, Decimal("200.00"), 3, 1)
    assert row.counted_fields == ["orders", "gmv", "payment_attempts", "payment_failures"]
    assert row.counted_at == T0 + HOUR + 3 * MIN
    assert not CampaignMetricHourly.objects.filter(campaign=campaign, hour=T0 + HOUR).exists()
    # when C's payment times out and the job runs again at 20:03
    order_services.payments_expire(now=T0 + HOUR + 10 * MIN)
    again = ms.campaign_metrics_count(actor=ACTOR, campaign=campaign, now=T0 + 2 * HOUR + 3 * MIN)
    # then 18:00 (counted before its payments settled) is counted again with the timeout, and
    # 19:00 is counted with E; the earlier, settled hours are left alone
    assert again.hours == (T0, T0 + HOUR)
    assert _figures(_row(campaign)) == (3, Decimal("200.00"), 4, 2)
    assert _figures(_row(campaign, T0 + HOUR)) == (1, Decimal("100.00"), 1, 0)
    # and a campaign without a channel counts every channel's orders (D too)
    everywhere = an_approved_campaign(store, DAY1, channel=None)
    ms.campaign_metrics_count(actor=ACTOR, campaign=everywhere, now=T0 + 2 * HOUR + 3 * MIN)
    assert _figures(_row(everywhere)) == (4, Decimal("300.00"), 5, 2)


def test_promo_06_recount_is_idempotent_and_keeps_typed_exposure_and_clicks(
    store, channel, world, other_channel
):
    # given the platform's exposure and clicks (and a typed order count) for 18:00
    campaign = an_approved_campaign(store, DAY1, channel=channel)
    ms.campaign_metrics_record(
        actor=ACTOR,
        campaign=campaign,
        rows=[{"hour": T0, "exposure": 5000, "clicks": 300, "orders": 99, "new_users": 7}],
    )
    _hour_of_orders(world, other_channel)
    order_services.payments_expire(now=T0 + HOUR + 10 * MIN)
    now = T0 + 2 * HOUR + 3 * MIN
    # when the hour is counted, then counted again, then recounted on request
    ms.campaign_metrics_count(actor=ACTOR, campaign=campaign, now=now)
    first = _row(campaign)
    # (the second run counts only 19:00 again: counted at 20:03, its payments may still settle)
    assert ms.campaign_metrics_count(actor=ACTOR, campaign=campaign, now=now).hours == (T0 + HOUR,)
    # (once settled, 18:00 is never counted again by the job)
    assert T0 not in ms.campaign_metrics_count(actor=ACTOR, campaign=campaign, now=now + HOUR).hours
    rows = CampaignMetricHourly.objects.filter(campaign=campaign).count()
    recount = ms.campaign_metrics_count(actor=ACTOR, campaign=campaign, now=now + HOUR, recount=True)
    # then the counted figures replaced the typed order count, the same each time, in one row
    # per hour; exposure, clicks and new users are as typed
    row = _row(campaign)
    assert _figures(row) == _figures(first) == (3, Decimal("200.00"), 4, 2)
    assert (row.exposure, row.clicks, row.new_users) == (5000, 300, 7)
    assert len(recount.hours) == rows == CampaignMetricHourly.objects.filter(campaign=campaign).count()
    # when the platform's figures for the hour are imported again, with an order count
    typed = ms.campaign_metrics_record(
        actor=ACTOR, campaign=campaign, rows=[{"hour": T0, "exposure": 6000, "clicks": 320, "orders": 50}]
    )
    # then exposure and clicks change, the counted order count is kept and said so
    row = _row(campaign)
    assert (row.exposure, row.clicks, row.orders) == (6000, 320, 3)
    assert typed.kept_counted == ("orders",)
    # and each count is in the operation log
    actions = list(
        AuditEntry.objects.filter(object_type="marketing.campaign", object_id=str(campaign.pk)).values_list(
            "action", flat=True
        )
    )
    assert actions.count("campaign.metrics_count") == 3
    assert actions.count("campaign.metrics_recount") == 1


def test_promo_06_counts_the_coupons_of_the_linked_templates(store, channel, world):
    # given a campaign linking one template; 2 of its coupons handed out the day before, 2 in
    # the hour, and one of another template
    linked = prs.coupon_template_create(
        actor=ACTOR, store=store, name="满100减10", kind="store_threshold", threshold="100", amount="10"
    )
    other = prs.coupon_template_create(
        actor=ACTOR, store=store, name="满100减5", kind="store_threshold", threshold="100", amount="5"
    )
    campaign = an_approved_campaign(store, DAY1, channel=channel, coupon_template_ids=[linked.pk])
    early = prs.coupon_issue_batch(
        actor=ACTOR, template=linked, customer_refs=["a", "b"], now=T0 - dt.timedelta(days=1)
    ).issued
    prs.coupon_issue_batch(actor=ACTOR, template=linked, customer_refs=["c", "d"], now=T0 + 2 * MIN)
    stray = prs.coupon_issue(actor=ACTOR, template=other, customer_ref="e", now=T0 + 2 * MIN)
    # when a and e use their coupons at 18:05
    world.place(1, customer="a", coupons=[early[0].code], now=T0 + 5 * MIN)
    world.place(1, customer="e", coupons=[stray.code], now=T0 + 5 * MIN)
    ms.campaign_metrics_count(actor=ACTOR, campaign=campaign, now=T0 + HOUR + 3 * MIN)
    # then the first hour holds the 2 handed out before the campaign, 18:00 the 2 of the hour
    # and the 1 redemption of the campaign's coupons: 1 of 4, 25%
    first = _row(campaign, timezone.make_aware(dt.datetime(2026, 6, 1)))
    assert (first.coupons_issued, first.coupon_redemptions) == (2, 0)
    row = _row(campaign)
    assert (row.coupons_issued, row.coupon_redemptions) == (2, 1)
    assert set(row.counted_fields) >= {"coupons_issued", "coupon_redemptions"}
    assert selectors.campaign_monitor(campaign=campaign).redemption_rate == Decimal("0.25")


def test_promo_06_without_linked_coupon_templates_the_coupon_figures_stay_typed(store, channel):
    campaign = an_approved_campaign(store, DAY1, channel=channel)
    ms.campaign_metrics_record(
        actor=ACTOR, campaign=campaign, rows=[{"hour": T0, "coupons_issued": 40, "coupon_redemptions": 10}]
    )
    ms.campaign_metrics_count(actor=ACTOR, campaign=campaign, now=T0 + HOUR + 3 * MIN)
    row = _row(campaign)
    assert (row.coupons_issued, row.coupon_redemptions) == (40, 10)
    assert "coupons_issued" not in row.counted_fields


def test_promo_06_hours_outside_the_campaign_or_its_channel_are_not_counted(
    store, channel, world, other_channel
):
    # given a 3-day campaign (1..3 June) on the channel, orders the day before and after it,
    # and one on another channel during it
    campaign = an_approved_campaign(store, DAY1, channel=channel)
    world.place(1, customer="before", now=T0 - dt.timedelta(days=1))
    world.place(1, customer="after", now=T0 + dt.timedelta(days=3))
    elsewhere = World.__new__(World)
    elsewhere.__dict__.update(world.__dict__, channel=other_channel)
    elsewhere.place(1, customer="elsewhere", now=T0)
    # when it is counted two days after its end
    ms.campaign_metrics_count(actor=ACTOR, campaign=campaign, now=T0 + dt.timedelta(days=4))
    # then its 72 hours are counted (first day's midnight to last day's end), with no orders
    rows = CampaignMetricHourly.objects.filter(campaign=campaign)
    assert rows.count() == 72
    assert sum(r.orders for r in rows) == 0
    hours = sorted(r.hour for r in rows)
    assert timezone.localtime(hours[0]) == timezone.make_aware(dt.datetime(2026, 6, 1, 0))
    assert timezone.localtime(hours[-1]) == timezone.make_aware(dt.datetime(2026, 6, 3, 23))


def test_promo_06_the_count_queries_do_not_grow_with_the_orders(store, channel, world):
    campaign = an_approved_campaign(store, DAY1, channel=channel)
    world.place(1, customer="a", now=T0 + MIN)
    ms.campaign_metrics_count(actor=ACTOR, campaign=campaign, now=T0 + HOUR)  # loads what it caches
    with CaptureQueriesContext(connection) as one:
        ms.campaign_metrics_count(actor=ACTOR, campaign=campaign, now=T0 + HOUR, recount=True)
    for n in range(5):
        order = world.place(1, customer=f"n{n}", now=T0 + (n + 2) * MIN)
        world.pay(order, now=T0 + (n + 2) * MIN)
    with CaptureQueriesContext(connection) as six:
        ms.campaign_metrics_count(actor=ACTOR, campaign=campaign, now=T0 + HOUR, recount=True)
    assert len(six.captured_queries) == len(one.captured_queries)
    assert _row(campaign).orders == 6


def test_promo_06_only_approved_or_live_campaigns_are_counted_by_the_job(store, channel, world):
    # given a draft, an approved and a live campaign over the same days
    draft = a_campaign(store, DAY1, channel=channel)
    approved = an_approved_campaign(store, DAY1, channel=channel)
    live = ms.campaign_activate(actor=ACTOR, campaign=an_approved_campaign(store, DAY1, channel=channel))
    world.place(1, customer="a", now=T0 + MIN)
    # when the hourly job runs at 19:03
    assert ms.campaigns_metrics_count(actor=ACTOR, now=T0 + HOUR + 3 * MIN) == 2 * 19
    # then the approved and the live one are counted, not the draft
    assert _row(approved).orders == _row(live).orders == 1
    assert not CampaignMetricHourly.objects.filter(campaign=draft).exists()
    # and a draft cannot be recounted on request
    with pytest.raises(Conflict) as refused:
        ms.campaign_metrics_count(actor=ACTOR, campaign=draft, recount=True)
    assert refused.value.code == "campaign_not_running"


def test_promo_06_the_count_job_runs_hourly_before_the_hourly_checks():
    autodiscover_modules("tasks")
    assert count_campaign_metrics.task_class in {type(t) for t in HUEY._registry.periodic_tasks}
    instance = count_campaign_metrics.task_class()
    assert instance.validate_datetime(dt.datetime(2026, 3, 15, 13, 3))
    assert not instance.validate_datetime(dt.datetime(2026, 3, 15, 13, 7))


def test_promo_06_alert_fires_on_counted_payment_failures(store, channel, world):
    # given a live campaign (since yesterday) alerting above 5%, judged from 4 attempts an hour
    playbook_update(actor=ACTOR, store=store, values={"campaign_failure_min_attempts": 4})
    today = timezone.localdate()
    campaign = ms.campaign_activate(
        actor=ACTOR,
        campaign=an_approved_campaign(
            store, today - dt.timedelta(days=1), channel=channel, planned_redemption_rate="0"
        ),
    )
    # and in the last full hour 4 orders whose first payment failed, then paid
    hour = timezone.localtime().replace(minute=0, second=0, microsecond=0) - HOUR
    for n in range(4):
        order = world.place(1, customer=f"c{n}", now=hour + (n + 1) * MIN)
        world.pay(order, now=hour + (n + 1) * MIN, outcome="failed")
        world.pay(order, now=hour + (n + 2) * MIN)
    # when the job counts and the hourly check runs
    ms.campaigns_metrics_count(actor=ACTOR)
    checks_run(rule="PROMO-06", store=store, notify=False)
    # then 4 of 8 payments failed: the payment-failure alert is open, on the counted figures
    finding = Finding.objects.get(rule_id="PROMO-06", subject_key=f"campaign:{campaign.pk}:payment_failures")
    assert finding.detail["failure_rate"] == "0.5"
    assert _row(campaign, hour).counted_at is not None
    assert not Finding.objects.filter(rule_id="PROMO-06", subject_key__endswith="figures_missing").exists()


def test_promo_06_failure_rate_of_an_hour_with_few_attempts_raises_no_alert(store, channel, world):
    # given the playbook's default minimum of 10 attempts and an hour with 1 failure in 2
    today = timezone.localdate()
    campaign = ms.campaign_activate(
        actor=ACTOR,
        campaign=an_approved_campaign(
            store, today - dt.timedelta(days=1), channel=channel, planned_redemption_rate="0"
        ),
    )
    hour = timezone.localtime().replace(minute=0, second=0, microsecond=0) - HOUR
    order = world.place(1, customer="c1", now=hour + MIN)
    world.pay(order, now=hour + MIN, outcome="failed")
    world.pay(order, now=hour + 2 * MIN)
    ms.campaigns_metrics_count(actor=ACTOR)
    checks_run(rule="PROMO-06", store=store, notify=False)
    assert selectors.campaign_monitor(campaign=campaign).failure_rate == Decimal("0.5")
    assert not Finding.objects.filter(rule_id="PROMO-06").exists()


# ---- API and console ------------------------------------------------------------------------
def test_promo_06_api_series_says_what_was_counted_and_marketing_can_recount(
    store, channel, world, api_as, other_channel
):
    campaign = an_approved_campaign(store, DAY1, channel=channel)
    ms.campaign_metrics_record(actor=ACTOR, campaign=campaign, rows=[{"hour": T0, "exposure": 800}])
    _hour_of_orders(world, other_channel)
    url = f"/marketing/{store.pk}/campaigns/{campaign.pk}/metrics"
    marketing = api_as(Role.MARKETING)
    # when marketing asks for a recount
    response = marketing.post(url + "/recount")
    # then every hour so far is counted (the campaign's days are over) and the series says so
    assert response.status_code == 200, response.content
    assert response.json()["hours"] == 72
    assert response.json()["counted_fields"] == ["orders", "gmv", "payment_attempts", "payment_failures"]
    series = {dt.datetime.fromisoformat(row["hour"]): row for row in marketing.get(url).json()}
    assert len(series) == 72
    row = series[T0]
    assert (row["exposure"], row["orders"], row["payment_attempts"]) == (800, 3, 3)
    assert row["counted_fields"] == sorted(["orders", "gmv", "payment_attempts", "payment_failures"])
    assert row["counted_at"] is not None
    # and the import of typed figures answers which counted ones it kept
    kept = marketing.post(
        url, {"rows": [{"hour": "2026-06-01T18:00:00+08:00", "exposure": 900, "orders": 1}]}
    )
    # (only the counted figures sent with another value; those not sent are not "typed")
    assert kept.json() == {"count": 1, "kept_counted": ["orders"]}
    assert _row(campaign).exposure == 900
    # and the recount is logged with who asked
    entry = AuditEntry.objects.filter(action="campaign.metrics_recount").get()
    assert entry.actor_label == "u_marketing"
    # and analysts (read-only) may not recount; a draft cannot be
    assert api_as(Role.ANALYST).post(url + "/recount").status_code == 403
    draft = a_campaign(store, DAY1)
    refused = marketing.post(f"/marketing/{store.pk}/campaigns/{draft.pk}/metrics/recount")
    assert (refused.status_code, refused.json()["code"]) == (409, "campaign_not_running")


def test_promo_06_api_plan_links_coupon_templates(store, api_as):
    template = prs.coupon_template_create(
        actor=ACTOR, store=store, name="满100减10", kind="store_threshold", threshold="100", amount="10"
    )
    body = {"theme": "夏季焕新", "starts_on": "2030-06-01", "ends_on": "2030-06-03"}
    client = api_as(Role.MARKETING)
    created = client.post(f"/marketing/{store.pk}/campaigns", {**body, "coupon_template_ids": [template.pk]})
    assert created.status_code == 201, created.content
    assert created.json()["coupon_template_ids"] == [template.pk]
    unknown = client.post(f"/marketing/{store.pk}/campaigns", {**body, "coupon_template_ids": [999999]})
    assert unknown.status_code == 422
    assert "coupon_template_ids" in unknown.json()["fields"]


def test_promo_06_console_shows_counted_and_typed_figures_and_recounts(
    store, channel, world, make_user, other_channel
):
    campaign = an_approved_campaign(store, DAY1, channel=channel)
    ms.campaign_metrics_record(actor=ACTOR, campaign=campaign, rows=[{"hour": T0, "exposure": 800}])
    _hour_of_orders(world, other_channel)
    client = Client()
    client.force_login(make_user(Role.MARKETING))
    # when marketing recounts from the campaign page
    response = client.post(f"/marketing/campaigns/{campaign.pk}/metrics/recount/", follow=True)
    page = response.content.decode()
    # then the page says how many hours, marks the counted figures and names each row's source
    assert "已重新统计 72 个小时的数据" in page
    assert '<td class="num">3 <span class="counted" title="系统统计">✓</span></td>' in page
    assert '<td class="num">800</td>' in page  # exposure, typed: no mark
    assert "系统统计 " in page
    assert f'action="/marketing/campaigns/{campaign.pk}/metrics/recount/"' in page
    # and an analyst sees the figures but no recount button
    analyst = Client()
    analyst.force_login(make_user(Role.ANALYST))
    seen = analyst.get(f"/marketing/campaigns/{campaign.pk}/").content.decode()
    assert '<span class="counted" title="系统统计">✓</span>' in seen
    assert "/metrics/recount/" not in seen


def test_promo_06_console_typed_hour_keeps_the_counted_figures_and_says_which(
    store, channel, world, make_user, other_channel
):
    # given 18:00 counted (3 orders)
    campaign = an_approved_campaign(store, DAY1, channel=channel)
    _hour_of_orders(world, other_channel)
    ms.campaign_metrics_count(actor=ACTOR, campaign=campaign, now=T0 + HOUR + 3 * MIN)
    client = Client()
    client.force_login(make_user(Role.MARKETING))
    form = client.get(f"/marketing/campaigns/{campaign.pk}/metrics/").content.decode()
    assert "系统每小时根据订单、支付和优惠券统计；已统计的小时保留统计值" in form
    # when marketing types the platform's exposure and clicks, and an order count, for 18:00
    typed = {"hour": "2026-06-01T18:00", "exposure": "900", "clicks": "40", "orders": "5"}
    zero = (
        "coupons_issued",
        "coupon_redemptions",
        "payment_attempts",
        "payment_failures",
        "gmv",
        "new_users",
    )
    typed |= dict.fromkeys(zero, "0")
    page = client.post(f"/marketing/campaigns/{campaign.pk}/metrics/", typed, follow=True).content.decode()
    # then exposure and clicks are saved, the counted order count kept, and the page says so
    # (the counted figures left at 0 were not typed: not named)
    row = _row(campaign)
    assert (row.exposure, row.clicks, row.orders, row.gmv) == (900, 40, 3, Decimal("200.00"))
    assert "这一小时的订单数由系统统计，保留统计值，未使用录入的数字" in page


def test_promo_06_a_marketplace_campaign_keeps_the_platforms_typed_order_figures(store, system):
    # given a Tmall campaign whose hour was typed from the platform's dashboard (its orders reach
    # StoreOps only by a later import, without payment attempts)
    tmall = store_services.channel_create(actor=system, store=store, kind="tmall", code="tm", name="天猫")
    campaign = an_approved_campaign(store, DAY1, channel=tmall)
    ms.campaign_metrics_record(
        actor=ACTOR, campaign=campaign, rows=[{"hour": T0, "orders": 120, "gmv": "9000"}]
    )
    # when the hourly count runs
    ms.campaign_metrics_count(actor=ACTOR, campaign=campaign, now=T0 + HOUR + 3 * MIN)
    # then the platform's figures are not replaced by StoreOps' (zero) orders
    row = _row(campaign)
    assert (row.orders, row.gmv) == (120, Decimal("9000"))
    assert "orders" not in (row.counted_fields or [])
