"""PROMO-05 and ADS-02 judge each campaign / ad plan by its channel's playbook; campaigns and
plans on a channel without an override (or on no channel) keep the store's values."""

from __future__ import annotations

import datetime as dt

import pytest

from storeops.marketing import services as ms
from storeops.sop.models import Finding
from storeops.sop.services import checks_run
from storeops.stores import services as st
from tests.marketing.builders import ACTOR, a_campaign, an_ad_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def pdd(store, system):
    return st.channel_create(actor=system, store=store, kind="pinduoduo", code="pdd", name="拼多多")


def test_promo_05_check_uses_the_channels_big_promo_plan_days(store, channel, pdd, system, today):
    # given a channel that plans big promotions 60 days ahead (the store: 45)
    st.playbook_update(actor=system, store=store, channel=pdd, values={"big_promo_plan_days": 60})
    on_pdd = a_campaign(
        store, today + dt.timedelta(days=50), kind="big_promotion", channel=pdd, theme="拼多多年货节"
    )
    a_campaign(
        store, today + dt.timedelta(days=50), kind="big_promotion", channel=channel, theme="天猫年货节"
    )
    on_store = a_campaign(store, today + dt.timedelta(days=41), kind="big_promotion", channel=channel)
    # when the check runs
    checks_run(rule="PROMO-05", store=store, notify=False)
    # then 50 days ahead is late on that channel only; 41 days is late under the store's 45
    found = {f.subject_id: f.detail["plan_days"] for f in Finding.objects.filter(rule_id="PROMO-05")}
    assert found == {str(on_pdd.pk): 60, str(on_store.pk): 45}


def test_ads_02_check_uses_the_channels_core_keyword_rank(store, channel, pdd, system):
    # given a core keyword ranked 35 in a plan on each channel; one channel accepts the top 40
    st.playbook_update(actor=system, store=store, channel=pdd, values={"ads_core_keyword_max_rank": 40})
    keywords = {}
    for ch in (channel, pdd):
        plan = an_ad_plan(store, name=f"连衣裙精准-{ch.code}", channel=ch)
        keywords[ch.code] = ms.ad_keyword_set(
            actor=ACTOR, plan=plan, keyword="连衣裙", bid="2.00", rank=35, is_core=True
        )
    # when the check runs, then only the plan under the store's top 30 is flagged
    checks_run(rule="ADS-02", store=store, notify=False)
    ranks = set(
        Finding.objects.filter(rule_id="ADS-02", subject_key__endswith=":rank").values_list(
            "subject_key", flat=True
        )
    )
    assert ranks == {f"ad_keyword:{keywords['tmall'].pk}:rank"}


def test_ads_02_the_stats_window_is_a_channel_playbook_setting(store, channel, pdd, system, today):
    # given a plan on each channel with ROI 2.5 ten days ago only; one channel looks 14 days back
    st.playbook_update(actor=system, store=store, channel=pdd, values={"ads_stats_window_days": 14})
    ten_days_ago = today - dt.timedelta(days=10)
    plans = {}
    for ch in (channel, pdd):
        plan = an_ad_plan(store, name=f"连衣裙精准-{ch.code}", channel=ch)
        ms.ad_keyword_set(actor=ACTOR, plan=plan, keyword="连衣裙", bid="2.00", rank=3, is_core=True)
        ms.ad_stats_import_csv(
            actor=ACTOR,
            plan=plan,
            text=f"日期,关键词,花费,展现量,点击量,成交笔数,成交金额\n{ten_days_ago},连衣裙,100.00,5000,50,4,250.00\n",
        )
        plans[ch.code] = plan
    # when the check runs
    checks_run(rule="ADS-02", store=store, notify=False)
    # then only the plan whose window reaches that day is judged, naming its window
    roi = Finding.objects.get(rule_id="ADS-02", subject_key__endswith=":roi")
    assert roi.subject_key == f"ad_plan:{plans['pdd'].pk}:roi"
    assert "近 14 天 ROI 2.50" in roi.title
