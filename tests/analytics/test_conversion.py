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


def _market(store, rows):
    import io

    from storeops.catalog.imports import catalog_import, write_table
    from tests.catalog.db_builders import ACTOR

    buffer = io.BytesIO()
    header = ["市场类目", "统计截止", "30天增长率", "在线商品数", "搜索人气", "行业转化率"]
    write_table(buffer, header, rows, xlsx=False)
    buffer.seek(0)
    return catalog_import(
        actor=ACTOR, store=store, kind="market", source=buffer, filename="m.csv", partial=True
    )


@pytest.mark.django_db
def test_data_02_market_data_gives_a_category_its_industry_conversion(store):
    from storeops.catalog.models import MarketCategoryStat

    report = _market(
        store,
        [
            ["连衣裙", "2026-03-01", "10%", "400", "1000", "3.2%"],
            ["雨伞", "2026-03-01", "0.2", "100", "1000", ""],  # optional
            ["T恤", "2026-03-01", "0.2", "100", "1000", "150%"],  # not a share
        ],
    )
    assert [(e.field, e.line) for e in report.errors] == [("conversion_rate", 4)]
    rates = dict(MarketCategoryStat.objects.values_list("category_name", "conversion_rate"))
    assert rates == {"连衣裙": Decimal("0.0320"), "雨伞": None}


@pytest.mark.django_db
def test_data_02_a_category_below_its_industry_benchmark_gets_its_own_finding(store, channel, traffic):
    # given a channel converting 4% (above the store's 3% benchmark) whose dresses' industry
    # converts 6% according to the imported market data
    traffic(visitors=300, buyers=12)
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    _market(store, [["连衣裙", yesterday.isoformat(), "0.1", "400", "1000", "0.06"]])
    # when
    checks_run(rule="DATA-02", store=store, notify=False)
    # then the category is flagged against its benchmark (4% < 6% × 0.85), the channel is not
    (finding,) = Finding.objects.filter(rule_id="DATA-02")
    assert finding.subject_type == "catalog.category"
    assert "「连衣裙」类目近 7 天支付转化率 4.0%，低于行业基准 6.0%" in finding.title
    assert finding.detail["benchmark_source"] == "market_data"
    # market data of a later period with a lower industry conversion resolves it
    _market(store, [["连衣裙", timezone.localdate().isoformat(), "0.1", "400", "1000", "0.045"]])
    checks_run(rule="DATA-02", store=store, notify=False, now=timezone.now() + dt.timedelta(days=1))
    finding.refresh_from_db()
    assert finding.status == "resolved"
