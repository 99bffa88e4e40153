"""LOG-01 findings and exception list; LOG-03 statistics and suggestion; LOG-02 delivered list."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from storeops.accounts.roles import Role
from storeops.fulfilment import selectors
from storeops.sop.models import Finding
from storeops.sop.services import checks_run
from storeops.stores import services as st
from tests.fulfilment.builders import a_carrier, a_shipment, at, delivered, scan

pytestmark = pytest.mark.django_db


def _open(store) -> dict[str, str]:
    return {
        f.subject_key: f.owner_role
        for f in Finding.objects.filter(store=store, rule_id="LOG-01").exclude(status="resolved")
    }


def test_log_01_no_pickup_within_24_hours_opens_a_warehouse_finding_that_resolves_on_pickup(store, channel):
    # given a parcel created at T0 and never scanned
    shipment = a_shipment(store, channel, "P1")
    key = f"shipment:{shipment.pk}:pickup_timeout"
    # when checks run at +23 h and at +25 h
    checks_run(rule="LOG-01", store=store, now=at(23), notify=False)
    assert _open(store) == {}
    checks_run(rule="LOG-01", store=store, now=at(25), notify=False)
    # then the second run opens one finding for the warehouse
    assert _open(store) == {key: Role.WAREHOUSE.value}
    finding = Finding.objects.get(subject_key=key)
    assert finding.detail["hours"] == "25.0"
    assert finding.detail["tracking_no"] == "P1"
    # when the pickup scan arrives and the check runs again, then the finding resolves itself
    scan(shipment, (26, "已揽收"))
    checks_run(rule="LOG-01", store=store, now=at(27), notify=False)
    assert _open(store) == {}
    assert Finding.objects.get(subject_key=key).status == "resolved"


def test_log_01_finding_title_is_rendered_in_each_readers_language(store, channel):
    from django.utils import translation

    shipment = a_shipment(store, channel, "P1")
    checks_run(rule="LOG-01", store=store, now=at(25), notify=False)
    finding = Finding.objects.get(subject_key=f"shipment:{shipment.pk}:pickup_timeout")
    with translation.override("zh-hans"):
        assert finding.display_title.startswith("揽收超时：")
    with translation.override("en"):
        assert finding.display_title.startswith("Pickup overdue: ")
        assert "25.0" in finding.display_title


def test_log_01_the_pickup_timeout_follows_the_stores_playbook(store, channel, system):
    st.playbook_update(actor=system, store=store, values={"pickup_timeout_hours": 6})
    shipment = a_shipment(store, channel, "P2")
    checks_run(rule="LOG-01", store=store, now=at(7), notify=False)
    assert set(_open(store)) == {f"shipment:{shipment.pk}:pickup_timeout"}


def _strict_channel(store, system):
    """A channel that follows up after 6 hours without pickup and 12 hours without a scan."""
    strict = st.channel_create(actor=system, store=store, kind="pinduoduo", code="pdd", name="拼多多")
    st.playbook_update(
        actor=system,
        store=store,
        channel=strict,
        values={"pickup_timeout_hours": 6, "transit_stuck_hours": 12},
    )
    return strict


def test_log_01_check_uses_the_channels_pickup_and_transit_hours(store, channel, system):
    # given a parcel never picked up and one idle since +10 h on each channel
    strict = _strict_channel(store, system)
    waiting = {c.code: a_shipment(store, c, f"W-{c.code}") for c in (channel, strict)}
    idle = {c.code: a_shipment(store, c, f"I-{c.code}") for c in (channel, strict)}
    for s in idle.values():
        scan(s, (1, "已揽收"), (10, "运输中"))
    # when the check runs at +23 h: the strict channel's parcels are late, the store's 24/48 h not yet
    checks_run(rule="LOG-01", store=store, now=at(23), notify=False)
    assert set(_open(store)) == {
        f"shipment:{waiting['pdd'].pk}:pickup_timeout",
        f"shipment:{idle['pdd'].pk}:transit_stuck",
    }
    # at +59 h the store's hours apply to the channel without an override
    checks_run(rule="LOG-01", store=store, now=at(59), notify=False)
    assert set(_open(store)) == {
        f"shipment:{s.pk}:{kind}"
        for kind, group in (("pickup_timeout", waiting), ("transit_stuck", idle))
        for s in group.values()
    }


def test_log_01_exception_list_uses_the_channels_hours(store, channel, system, make_user):
    strict = _strict_channel(store, system)
    now = timezone.now()
    a_shipment(store, channel, "C-STORE", created_at=now - dt.timedelta(hours=7))
    a_shipment(store, strict, "C-STRICT", created_at=now - dt.timedelta(hours=7))
    client = Client()
    client.force_login(make_user(Role.WAREHOUSE))
    lines = client.get("/fulfilment/exceptions/?format=csv").content.decode("utf-8-sig").splitlines()
    assert [line.split(",")[2] for line in lines[1:]] == ["C-STRICT"]


def test_log_01_no_movement_for_48_hours_is_stuck_until_the_next_scan(store, channel):
    # given a parcel last scanned at +10 h
    shipment = a_shipment(store, channel, "M1")
    scan(shipment, (1, "已揽收"), (10, "运输中"))
    # when checks run at +57 h (47 h idle) and +59 h (49 h idle)
    checks_run(rule="LOG-01", store=store, now=at(57), notify=False)
    assert _open(store) == {}
    checks_run(rule="LOG-01", store=store, now=at(59), notify=False)
    assert set(_open(store)) == {f"shipment:{shipment.pk}:transit_stuck"}
    # when it moves again, then the finding resolves
    scan(shipment, (60, "派送中"))
    checks_run(rule="LOG-01", store=store, now=at(61), notify=False)
    assert _open(store) == {}


def test_log_01_returned_and_lost_parcels_raise_findings_and_delivered_ones_do_not(store, channel):
    back = a_shipment(store, channel, "R1")
    scan(back, (1, "已揽收"), (30, "退回"))
    gone = a_shipment(store, channel, "L1")
    scan(gone, (1, "已揽收"), (40, "丢失"))
    fine = a_shipment(store, channel, "D1")
    scan(fine, (1, "已揽收"), (20, "已签收"))
    checks_run(rule="LOG-01", store=store, now=at(200), notify=False)
    assert _open(store) == {
        f"shipment:{back.pk}:returned": "warehouse",
        f"shipment:{gone.pk}:lost": "warehouse",
    }
    assert Finding.objects.get(subject_key=f"shipment:{gone.pk}:lost").severity == "critical"


def test_log_01_the_daily_exception_list_shows_each_parcel_once_oldest_first(store, channel):
    a_shipment(store, channel, "E1", created_at=at(0))
    stuck = a_shipment(store, channel, "E2", created_at=at(0))
    scan(stuck, (2, "已揽收"))
    flagged = a_shipment(store, channel, "E3", created_at=at(0))
    scan(flagged, (3, "已揽收"), (5, "问题件"))
    a_shipment(store, channel, "E4", created_at=at(40))  # created 20 h ago: not late yet
    rows = selectors.shipment_exceptions(
        store=store, now=at(60), pickup_timeout_hours=24, transit_stuck_hours=48
    )
    assert [(r.shipment.tracking_no, r.kind.value, r.hours) for r in rows] == [
        ("E1", "pickup_timeout", Decimal("60.0")),
        ("E2", "transit_stuck", Decimal("58.0")),
        ("E3", "exception", Decimal("55.0")),
    ]


def test_log_01_console_exception_list_exports_csv_for_the_carrier_follow_up(store, channel, make_user):
    a_shipment(store, channel, "C1", created_at=at(-1000))
    client = Client()
    client.force_login(make_user(Role.WAREHOUSE))
    page = client.get("/fulfilment/exceptions/")
    export = client.get("/fulfilment/exceptions/?format=csv")
    assert page.status_code == 200
    assert "C1" in page.content.decode()
    assert export["Content-Type"].startswith("text/csv")
    lines = export.content.decode("utf-8-sig").splitlines()
    assert lines[0].split(",")[:3] == ["异常类型", "快递公司", "运单号"]
    assert lines[1].split(",")[:4] == ["揽收超时", "SF", "C1", "O-C1"]
    assert len(lines) == 2


def test_log_03_carrier_statistics_per_province_from_pickup_to_delivery(store, channel):
    sf, zto = a_carrier("SF"), a_carrier("ZTO")
    for i, hours in enumerate((20, 30, 40)):
        delivered(
            store,
            channel,
            f"S{i}",
            carrier=sf,
            pickup_h=1,
            deliver_h=1 + hours,
            cost=f"{20 + i}.00",
            weight="2",
        )
    delivered(store, channel, "Z0", carrier=zto, pickup_h=1, deliver_h=61, cost="8.00", province="广东省")
    a_shipment(store, channel, "Z1", carrier=zto, cost="10.00", province="广东省")  # still on the way
    stats = {(s.carrier_code, s.province): s for s in selectors.carrier_stats(store=store)}
    sf_zj = stats[("SF", "浙江省")]
    assert (sf_zj.shipments, sf_zj.delivered, sf_zj.median_hours, sf_zj.p90_hours) == (
        3,
        3,
        Decimal(30),
        Decimal(40),
    )
    assert (sf_zj.avg_cost, sf_zj.cost_per_kg) == (Decimal("21.00"), Decimal("10.5000"))
    zto_gd = stats[("ZTO", "广东省")]
    assert (zto_gd.shipments, zto_gd.delivered, zto_gd.median_hours, zto_gd.avg_cost) == (
        2,
        1,
        Decimal(60),
        Decimal("9.00"),
    )
    overall = selectors.carrier_stats(store=store, by_province=False)
    assert [(s.carrier_code, s.province, s.shipments) for s in overall] == [("SF", "", 3), ("ZTO", "", 2)]


def test_log_03_suggestion_uses_the_provinces_figures_or_falls_back_to_nationwide(store, channel):
    sf, zto = a_carrier("SF"), a_carrier("ZTO")
    for i in range(3):
        delivered(store, channel, f"S{i}", carrier=sf, pickup_h=1, deliver_h=25, cost="20.00")
        delivered(store, channel, f"Z{i}", carrier=zto, pickup_h=1, deliver_h=49, cost="10.00")
    delivered(store, channel, "Z9", carrier=zto, pickup_h=1, deliver_h=21, cost="10.00", province="广东省")
    # when asking for Zhejiang, then both carriers have enough local deliveries: SF (1.3) beats ZTO (1.5)
    zj = selectors.carrier_suggest(store=store, province="浙江省", since=at(-1))
    assert [(s.carrier_code, s.score, s.fallback) for s in zj.ranked] == [
        ("SF", Decimal("1.300"), False),
        ("ZTO", Decimal("1.500"), False),
    ]
    # when asking for Guangdong (one ZTO delivery only), then both use nationwide figures
    gd = selectors.carrier_suggest(store=store, province="广东省")
    assert gd.best is not None
    assert {s.fallback for s in gd.ranked} == {True}
    assert [s.carrier_code for s in gd.ranked] == ["SF", "ZTO"]


def test_log_02_shipments_delivered_between_lists_the_review_invitation_candidates(store, channel):
    sf = a_carrier("SF")
    early = delivered(store, channel, "V1", carrier=sf, pickup_h=1, deliver_h=10)
    inside = delivered(store, channel, "V2", carrier=sf, pickup_h=1, deliver_h=30)
    delivered(store, channel, "V3", carrier=sf, pickup_h=1, deliver_h=48)  # end is exclusive
    rows = selectors.shipments_delivered_between(start=at(10), end=at(48))
    assert [s.tracking_no for s in rows] == ["V1", "V2"]
    assert (early.delivered_at, inside.delivered_at) == (at(10), at(30))
