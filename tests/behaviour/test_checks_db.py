"""The DATA-04 and DATA-05 checks: findings when a source or a funnel step falls below the
playbook, resolved when it recovers; the paid source's spend from marketing's ad stats."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from storeops.behaviour import selectors, services
from storeops.sop.models import Finding
from storeops.sop.services import checks_run
from storeops.stores import services as store_services
from tests.behaviour.builders import ACTOR, journey, post

START = dt.datetime(2026, 3, 2, 2, tzinfo=dt.UTC)  # 2026-03-02 10:00 Beijing time
DAY = dt.date(2026, 3, 2)
NEXT_MORNING = dt.datetime(2026, 3, 3, 1, tzinfo=dt.UTC)


def _open(store, rule):
    return {
        f.subject_key: f for f in Finding.objects.filter(store=store, rule_id=rule, resolved_at__isnull=True)
    }


def _visitors(store, n, pages, *, prefix, source="", amount="", hours=0):
    for i in range(n):
        post(
            store,
            journey(
                f"{prefix}{i}",
                START + dt.timedelta(hours=hours, seconds=i),
                pages,
                source=source,
                amount=amount,
            ),
        )


def test_data_05_a_step_below_its_threshold_is_a_finding_that_resolves(store, system):
    # given a small-shop guard of 10 visitors; 20 visitors reach a product page, 1 adds to cart (5% < 10%)
    store_services.playbook_update(
        actor=system, store=store, values={"behaviour_min_visitors": 10, "funnel_min_cart_rate": "0.10"}
    )
    _visitors(store, 19, ["home", "category", "product"], prefix="a")
    _visitors(store, 1, ["home", "category", "product", "cart", "pay"], prefix="b", amount="10")
    # when the DATA-05 check runs the next morning
    checks_run(rule="DATA-05", store=store, now=NEXT_MORNING, notify=False)
    # then product → cart is reported with its figures
    found = _open(store, "DATA-05")
    assert set(found) == {"funnel:product:cart"}
    f = found["funnel:product:cart"]
    assert f.detail["conversion"] == "0.0500"
    assert f.detail["threshold"] == "0.10"
    assert "5.0%" in f.title
    assert "10.0%" in f.title
    # when more visitors add to cart the same day, the finding resolves itself
    _visitors(store, 3, ["product", "cart"], prefix="c", hours=1)
    checks_run(rule="DATA-05", store=store, now=NEXT_MORNING, notify=False)
    assert _open(store, "DATA-05") == {}


def test_data_05_few_visitors_are_not_judged(store):
    _visitors(store, 5, ["home"], prefix="a")  # home → category 0%, but only 5 visitors
    checks_run(rule="DATA-05", store=store, now=NEXT_MORNING, notify=False)
    assert _open(store, "DATA-05") == {}


def test_data_04_paid_spend_comes_from_the_ad_stats_and_low_roi_is_a_finding(store, system):
    from storeops.marketing import services as marketing_services
    from tests.marketing.builders import an_ad_plan

    # given an ad plan that spent 400 on the day (marketing's keyword stats)
    plan = an_ad_plan(store)
    marketing_services.ad_keyword_set(actor=ACTOR, plan=plan, keyword="连衣裙", bid="2.00")
    marketing_services.ad_stats_import_csv(
        actor=ACTOR,
        plan=plan,
        text="日期,关键词,花费,展现量,点击量,成交笔数,成交金额\n2026-03-02,连衣裙,400.00,1000,200,2,600\n",
    )
    # and paid visitors: 10, 2 paying 300 each (revenue 600), plus 50 recorded for affiliates
    store_services.playbook_update(actor=system, store=store, values={"behaviour_min_visitors": 5})
    _visitors(store, 8, ["product"], prefix="p", source="paid")
    _visitors(store, 2, ["product", "pay"], prefix="q", source="paid", amount="300.00")
    services.source_cost_set(
        actor=ACTOR, store=store, source="paid", day=DAY, amount="50.00", note="淘宝客佣金"
    )
    # when the sources are measured
    report = selectors.source_report(store=store, since=DAY, until=DAY)
    (paid,) = report.rows
    # then spend = ad stats + recorded, ROI = (600 − 450) ÷ 450
    assert report.ad_spend == Decimal("400.00")
    assert (paid.visitors, paid.buyers, paid.revenue, paid.spend) == (
        10,
        2,
        Decimal("600.00"),
        Decimal("450.00"),
    )
    assert paid.conversion == Decimal("0.2")
    assert paid.roi == Decimal("0.3333")
    # and the DATA-04 check reports the ROI below the default 2 (not the 20% conversion)
    checks_run(rule="DATA-04", store=store, now=NEXT_MORNING, notify=False)
    found = _open(store, "DATA-04")
    assert set(found) == {"source:paid:roi"}
    assert found["source:paid:roi"].owner_role == "marketing"
    # when the minimum ROI is lowered below it, the finding resolves
    store_services.playbook_update(actor=system, store=store, values={"source_min_roi": "0.3"})
    checks_run(rule="DATA-04", store=store, now=NEXT_MORNING, notify=False)
    assert _open(store, "DATA-04") == {}


def test_data_04_low_conversion_source_is_a_finding_and_channel_filter_applies(store, channel, system):
    store_services.playbook_update(actor=system, store=store, values={"behaviour_min_visitors": 5})
    # given 10 social visitors on the channel, none buying (0% < 1%)
    for i in range(10):
        post(store, journey(f"s{i}", START, ["home"], source="social"), channel=channel)
    checks_run(rule="DATA-04", store=store, now=NEXT_MORNING, notify=False)
    assert set(_open(store, "DATA-04")) == {"source:social:conversion"}
    # the channel filter sees them; another channel's report does not
    assert [
        r.visitors
        for r in selectors.source_report(store=store, since=DAY, until=DAY, channel_id=channel.pk).rows
    ] == [10]
    assert selectors.source_report(store=store, since=DAY, until=DAY, channel_id=channel.pk + 999).rows == []


def test_data_04_ad_spend_total_sums_the_period_and_filters_by_the_plans_channel(store, channel):
    from storeops.marketing import selectors as marketing_selectors
    from storeops.marketing import services as marketing_services
    from tests.marketing.builders import an_ad_plan

    plan = an_ad_plan(store, channel=channel)
    marketing_services.ad_keyword_set(actor=ACTOR, plan=plan, keyword="裙", bid="1.00")
    marketing_services.ad_stats_import_csv(
        actor=ACTOR,
        plan=plan,
        text=(
            "日期,关键词,花费,展现量,点击量,成交笔数,成交金额\n"
            "2026-03-01,裙,10.50,1,1,0,0\n2026-03-02,裙,20.25,1,1,0,0\n2026-03-03,裙,99,1,1,0,0\n"
        ),
    )
    total = marketing_selectors.ad_spend_total(store=store, since=dt.date(2026, 3, 1), until=DAY)
    assert total.amount == Decimal("30.75")
    on_channel = marketing_selectors.ad_spend_total(store=store, since=DAY, until=DAY, channel_id=channel.pk)
    assert on_channel.amount == Decimal("20.25")
    elsewhere = marketing_selectors.ad_spend_total(
        store=store, since=DAY, until=DAY, channel_id=channel.pk + 1
    )
    assert elsewhere.amount == 0
