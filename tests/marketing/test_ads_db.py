"""Paid ads: plans, keywords, CSV import, industry benchmarks and the ADS-02 check; the
peak-hour bid (ADS-03) through the service and the API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from storeops.accounts.roles import Role
from storeops.audit.models import AuditEntry
from storeops.core.errors import ValidationError
from storeops.marketing import selectors
from storeops.marketing import services as ms
from storeops.sop.models import Finding
from storeops.sop.services import checks_run
from storeops.stores import services as st
from tests.marketing.builders import ACTOR, an_ad_plan

pytestmark = pytest.mark.django_db

CSV_ZH = (
    "日期,关键词,花费,展现量,点击量,成交笔数,成交金额\n"
    "{d},连衣裙,100.00,5000,50,4,250.00\n"
    "{d},碎花裙,40.00,2000,40,3,400.00\n"
)
CSV_EN = "Date,Keyword,Spend,Impressions,Clicks,Conversions,Ad Sales\n{d},连衣裙,60.00,3000,30,2,150.00\n"


def _plan_with_keywords(store):
    plan = an_ad_plan(store)
    ms.ad_keyword_set(actor=ACTOR, plan=plan, keyword="连衣裙", bid="2.00", rank=35, is_core=True)
    ms.ad_keyword_set(actor=ACTOR, plan=plan, keyword="碎花裙", bid="1.00", rank=50)
    return plan


def test_ads_01_traffic_items_use_broad_match(store):
    with pytest.raises(ValidationError) as exc:
        an_ad_plan(store, name="引流", purpose="traffic", match_type="exact")
    assert exc.value.fields["match_type"] == "引流款计划使用广泛匹配"


def test_ads_01_csv_with_chinese_and_english_headers_is_imported_per_keyword_and_day(store, today):
    # given a plan with two keywords
    plan = _plan_with_keywords(store)
    yesterday = today - dt.timedelta(days=1)
    # when a Chinese export for yesterday and an English export for today are imported (twice)
    assert ms.ad_stats_import_csv(actor=ACTOR, plan=plan, text=CSV_ZH.format(d=yesterday)) == 2
    assert ms.ad_stats_import_csv(actor=ACTOR, plan=plan, text=CSV_EN.format(d=today)) == 1
    assert ms.ad_stats_import_csv(actor=ACTOR, plan=plan, text=CSV_EN.format(d=today)) == 1
    # then the totals per keyword add both days once
    stats = {s.keyword.keyword: s for s in selectors.keyword_stats(plan=plan)}
    dress = stats["连衣裙"]
    assert (dress.spend.amount, dress.clicks, dress.conversions, dress.ad_sales.amount) == (
        Decimal("160.00"),
        80,
        6,
        Decimal("400.00"),
    )
    assert dress.cpc.amount == Decimal("2")
    assert dress.roi == Decimal("2.5")


def test_ads_01_csv_with_an_unknown_keyword_imports_nothing(store, today):
    plan = _plan_with_keywords(store)
    text = CSV_ZH.format(d=today) + f"{today},不存在的词,1,1,1,0,0\n"
    with pytest.raises(ValidationError) as exc:
        ms.ad_stats_import_csv(actor=ACTOR, plan=plan, text=text)
    assert exc.value.fields == {"row4.keyword": "计划中没有该关键词"}
    assert all(s.clicks == 0 for s in selectors.keyword_stats(plan=plan))


def test_ads_02_check_flags_cpc_rank_and_roi(store, today):
    # given yesterday: 连衣裙 CPC 2.00 vs industry 2.40 (83%), core keyword at rank 35;
    # 碎花裙 CPC 1.00 vs its category's 2.00 (50%); plan ROI 650 ÷ 140 = 4.64
    plan = _plan_with_keywords(store)
    ms.ad_stats_import_csv(actor=ACTOR, plan=plan, text=CSV_ZH.format(d=today - dt.timedelta(days=1)))
    ms.industry_cpc_record(actor=ACTOR, store=store, keyword="连衣裙", average_cpc="2.40")
    ms.industry_cpc_record(actor=ACTOR, store=store, category="连衣裙", average_cpc="2.00")
    # when the check runs
    checks_run(rule="ADS-02", store=store, notify=False)
    # then the CPC and the rank of 连衣裙 are flagged, and nothing else
    kw = {k.keyword: k.pk for k in plan.keywords.all()}
    assert set(Finding.objects.filter(rule_id="ADS-02").values_list("subject_key", flat=True)) == {
        f"ad_keyword:{kw['连衣裙']}:cpc",
        f"ad_keyword:{kw['连衣裙']}:rank",
    }


def test_ads_02_plan_roi_below_3_raises_a_finding(store, today):
    # given a plan spending 100 for 250 of ad sales (ROI 2.5)
    plan = an_ad_plan(store)
    ms.ad_keyword_set(actor=ACTOR, plan=plan, keyword="连衣裙", bid="2.00", rank=3, is_core=True)
    text = "日期,关键词,花费,展现量,点击量,成交笔数,成交金额\n" + f"{today},连衣裙,100.00,5000,50,4,250.00\n"
    ms.ad_stats_import_csv(actor=ACTOR, plan=plan, text=text)
    # when the check runs, then the plan's ROI is flagged
    checks_run(rule="ADS-02", store=store, notify=False)
    finding = Finding.objects.get(rule_id="ADS-02")
    assert (finding.subject_key, finding.detail["roi"]) == (f"ad_plan:{plan.pk}:roi", "2.5000")


@pytest.mark.parametrize(("sales", "flagged"), [("300.00", True), ("301.00", False)])
def test_ads_02_plan_roi_of_exactly_3_raises_a_finding(store, today, sales, flagged):
    # given a plan spending 100 for 300 (ROI 3: the target is "> 3") or 301 of ad sales
    plan = an_ad_plan(store)
    ms.ad_keyword_set(actor=ACTOR, plan=plan, keyword="连衣裙", bid="2.00", rank=3, is_core=True)
    text = "日期,关键词,花费,展现量,点击量,成交笔数,成交金额\n" + f"{today},连衣裙,100.00,5000,50,4,{sales}\n"
    ms.ad_stats_import_csv(actor=ACTOR, plan=plan, text=text)
    checks_run(rule="ADS-02", store=store, notify=False)
    roi = Finding.objects.filter(rule_id="ADS-02", subject_key=f"ad_plan:{plan.pk}:roi").first()
    assert (roi is not None) is flagged
    if flagged:
        assert "未高于目标 3" in roi.title


def test_ads_03_peak_uplift_outside_the_playbook_range_is_refused(store):
    with pytest.raises(ValidationError) as exc:
        an_ad_plan(store, peak_start=dt.time(20), peak_end=dt.time(22), peak_uplift="0.20")
    assert "peak_uplift" in exc.value.fields


def test_ads_03_playbook_range_can_be_widened_per_store(store):
    st.playbook_update(actor=ACTOR, store=store, values={"ads_peak_bid_uplift_max": "0.25"})
    plan = an_ad_plan(store, peak_start=dt.time(20), peak_end=dt.time(22), peak_uplift="0.20")
    assert plan.peak_uplift == Decimal("0.20")


def test_ads_03_bid_api_returns_the_peak_bid(store, api_as):
    # given a keyword bidding 2.00 in a plan with +15% from 20:00 to 22:00
    plan = an_ad_plan(store, peak_start=dt.time(20), peak_end=dt.time(22), peak_uplift="0.15")
    kw = ms.ad_keyword_set(actor=ACTOR, plan=plan, keyword="连衣裙", bid="2.00")
    client = api_as(Role.MARKETING)
    url = f"/marketing/{store.pk}/ad-plans/{plan.pk}/keywords/{kw.pk}/bid"
    # when asked at 20:30 and at 12:00, then 2.30 and 2.00
    assert client.get(url, at="20:30").json()["bid"] == "2.30"
    assert client.get(url, at="12:00").json()["bid"] == "2.00"


def test_ads_01_plan_detail_api_shows_keyword_stats(store, api_as):
    plan = _plan_with_keywords(store)
    ms.ad_stats_import_csv(actor=ACTOR, plan=plan, text=CSV_ZH.format(d=timezone.localdate()))
    body = api_as(Role.FINANCE).get(f"/marketing/{store.pk}/ad-plans/{plan.pk}").json()
    assert [(k["keyword"], k["spend"], k["cpc"], k["roi"]) for k in body["keywords"]] == [
        ("碎花裙", "40.00", "1.00", "10"),
        ("连衣裙", "100.00", "2.00", "2.5"),
    ]


def test_ads_03_api_updates_a_plan_and_its_peak_schedule_and_refuses_bad_values(store, api_as):
    # given a profit plan without a peak schedule
    plan = an_ad_plan(store)
    client = api_as(Role.MARKETING)
    url = f"/marketing/{store.pk}/ad-plans/{plan.pk}"
    body = {"name": "连衣裙精准", "purpose": "profit", "match_type": "exact", "daily_budget": "800"}
    # when a 20:00–22:00 +15% schedule is set and the plan paused
    response = client.put(
        url, {**body, "peak_start": "20:00", "peak_end": "22:00", "peak_uplift": "0.15", "is_active": False}
    )
    # then the plan carries it, and the change is in the operation log
    assert response.status_code == 200, response.content
    plan.refresh_from_db()
    assert (plan.peak_uplift, plan.is_active, plan.daily_budget) == (
        Decimal("0.1500"),
        False,
        Decimal("800.00"),
    )
    assert AuditEntry.objects.filter(action="ad_plan.update", object_id=str(plan.pk)).count() == 1
    # a traffic plan with exact match, or an uplift of 30%, is a 422 naming the field; nothing changes
    bad = client.put(url, {**body, "purpose": "traffic"})
    assert bad.status_code == 422
    assert bad.json()["fields"]["match_type"] == "引流款计划使用广泛匹配"
    bad = client.put(url, {**body, "peak_start": "20:00", "peak_end": "22:00", "peak_uplift": "0.30"})
    assert bad.status_code == 422
    assert "peak_uplift" in bad.json()["fields"]
    plan.refresh_from_db()
    assert plan.peak_uplift == Decimal("0.1500")
