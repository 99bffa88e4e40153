"""SOP DATA-02: a channel's payment conversion more than 15% below its benchmark (playbook
settings, per channel) is a finding with what to check; too little traffic says nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from storeops.analytics.rules import conversion_shortfall
from storeops.catalog.models import SalesDaily
from storeops.sop.models import Finding
from storeops.sop.services import checks_run
from storeops.stores import services as st
from tests.catalog.db_builders import a_dress_category, a_product

RULE = {"benchmark": Decimal("0.03"), "alert_ratio": Decimal("0.15"), "min_visitors": 200}


@pytest.mark.parametrize(
    ("visitors", "buyers", "flagged"),
    [
        (1000, 25, True),  # 2.5% < 3% × 0.85 = 2.55%
        (1000, 26, False),  # 2.6%: within 15% of the benchmark
        (100, 0, False),  # too few visitors to judge
        (200, 0, True),
    ],
)
def test_data_02_conversion_shortfall_rule(visitors, buyers, flagged):
    assert (conversion_shortfall(visitors=visitors, buyers=buyers, **RULE) is not None) is flagged


@pytest.fixture
def traffic(store, channel):
    product = a_product(store, a_dress_category(store, required_qualifications=[]), "C1")
    today = timezone.localdate()

    def days(visitors: int, buyers: int, n: int = 7) -> None:
        for d in range(1, n + 1):
            SalesDaily.objects.update_or_create(
                store=store,
                product=product,
                channel=channel,
                day=today - dt.timedelta(days=d),
                defaults={"visitors": visitors, "buyers": buyers},
            )

    return days


@pytest.mark.django_db
def test_data_02_a_channel_below_its_benchmark_gets_a_finding_with_what_to_check(store, channel, traffic):
    traffic(visitors=300, buyers=6)  # 2% over 7 days
    checks_run(rule="DATA-02", store=store, notify=False)
    (finding,) = Finding.objects.filter(rule_id="DATA-02")
    assert finding.channel_id == channel.pk
    assert finding.detail["conversion"] == "0.0200"
    assert finding.detail["check"] == ["detail_page", "price", "reviews", "competitor_prices"]
    assert "支付转化率 2.0%，低于基准 3.0%" in finding.title
    traffic(visitors=300, buyers=9)  # 3%: recovered
    checks_run(rule="DATA-02", store=store, notify=False)
    finding.refresh_from_db()
    assert finding.status == "resolved"


@pytest.mark.django_db
def test_data_02_the_benchmark_is_a_per_channel_playbook_setting(store, channel, traffic, system):
    traffic(visitors=300, buyers=6)
    st.playbook_update(actor=system, store=store, channel=channel, values={"conversion_benchmark": "0.02"})
    checks_run(rule="DATA-02", store=store, notify=False)
    assert not Finding.objects.filter(rule_id="DATA-02").exists()
