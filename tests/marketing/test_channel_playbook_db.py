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
