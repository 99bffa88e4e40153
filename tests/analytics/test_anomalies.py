"""SOP DATA-03: sudden traffic drops and abnormal order volumes, per channel, against the same
window on the days before (playbook settings), as findings that resolve themselves."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from storeops.analytics.rules import volume_anomaly
from storeops.catalog.models import SalesDaily
from storeops.sop.models import Finding
from storeops.sop.services import checks_run
from storeops.stores import services as st
from tests.catalog.db_builders import a_dress_category, a_product
from tests.orders.builders import World

LIMITS = {"drop_ratio": Decimal("0.5"), "spike_ratio": Decimal("3"), "min_baseline": 5}


@pytest.mark.parametrize(
    ("current", "history", "expected"),
    [
        (2, [10, 12, 9, 11], "drop"),  # below half the median (10.5)
        (6, [10, 12, 9, 11], None),
        (40, [10, 12, 9, 11], "spike"),  # above 3 × the median
        (1, [3, 4, 3], None),  # a baseline under 5 orders says nothing about a drop
        (15, [0, 0, 0], "spike"),  # from nothing to 3 × the minimum
        (10, [10, 12], None),  # too little history
    ],
)
def test_data_03_volume_anomaly_rule(current, history, expected):
    found = volume_anomaly(current, history, **LIMITS)
    assert (found.kind if found else None) == expected


@pytest.mark.django_db
def test_data_03_an_order_drop_is_critical_and_resolves_when_orders_come_back(store, channel):
    world = World(store, channel, stock_sh=200, stock_gz=0)
    now = timezone.now()
    for day in range(1, 8):  # six orders in the same 3-hour window on each of the 7 days before
        for n in range(6):
            world.place(1, customer=f"d{day}-{n}", now=now - dt.timedelta(days=day, minutes=20 + n))
    world.place(1, customer="today", now=now - dt.timedelta(minutes=30))
    checks_run(rule="DATA-03", store=store, now=now, notify=False)
    (finding,) = Finding.objects.filter(rule_id="DATA-03")
    assert finding.severity == "critical"
    assert finding.channel_id == channel.pk
    assert finding.detail == {"measure": "orders", "kind": "drop", "current": 1, "baseline": 6.0}
    assert "订单量骤降：1 单，平时约 6 单" in finding.title
    for n in range(5):
        world.place(1, customer=f"t{n}", now=now - dt.timedelta(minutes=10 + n))
    checks_run(rule="DATA-03", store=store, now=now, notify=False)
    finding.refresh_from_db()
    assert finding.status == "resolved"


@pytest.mark.django_db
def test_data_03_a_traffic_drop_and_the_thresholds_are_playbook_settings(store, channel, system):
    product = a_product(store, a_dress_category(store, required_qualifications=[]), "V1")
    today = timezone.localdate()
    for d in range(2, 9):
        SalesDaily.objects.create(
            store=store, product=product, channel=channel, day=today - dt.timedelta(days=d), visitors=100
        )
    # yesterday's traffic not imported yet: no news is not a drop
    checks_run(rule="DATA-03", store=store, notify=False)
    assert not Finding.objects.filter(rule_id="DATA-03").exists()
    SalesDaily.objects.create(
        store=store, product=product, channel=channel, day=today - dt.timedelta(days=1), visitors=30
    )
    checks_run(rule="DATA-03", store=store, notify=False)
    (finding,) = Finding.objects.filter(rule_id="DATA-03")
    assert finding.detail["measure"] == "visitors"
    assert finding.severity == "warning"
    assert "昨日访客骤降：30，平时约 100" in finding.title
    # a shop that accepts a deeper dip before it is told
    st.playbook_update(actor=system, store=store, values={"anomaly_drop_ratio": "0.25"})
    checks_run(rule="DATA-03", store=store, notify=False)
    finding.refresh_from_db()
    assert finding.status == "resolved"
