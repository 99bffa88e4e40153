"""SOP MEM-04: lifecycle segments new / active / high-value / sleeping with RFM scores from the
paid orders, a daily snapshot (lists, counts and moves), each segment's playbook (its coupon
issued once per period, priority shipping for high-value customers) checked as findings, the
API, the console pages and the Excel export of a segment for outreach."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st_
from openpyxl import load_workbook

from storeops.accounts.roles import Role
from storeops.analytics import rules, segments, services
from storeops.promotions import services as promotions
from storeops.sop.models import Finding
from storeops.sop.services import checks_run
from storeops.stores import services as st
from tests.orders.builders import ACTOR, World

POLICY = rules.SegmentPolicy(
    new_days=30, sleeping_days=90, high_value_top_share=Decimal("0.2"), high_value_min_amount=Decimal(0)
)


# --- pure rules ------------------------------------------------------------------------------------


def test_mem_04_rfm_scores_are_quintiles_by_mid_rank():
    assert rules.quantile_scores([10, 20, 30, 40, 50]) == [1, 2, 3, 4, 5]
    assert rules.quantile_scores([50, 10, 30, 20, 40]) == [5, 1, 3, 2, 4]
    assert rules.quantile_scores([7]) == [3]  # a lone buyer is in the middle
    assert rules.quantile_scores([5, 5, 5, 5]) == [3, 3, 3, 3]  # ties share a score
    assert rules.quantile_scores([]) == []


def test_mem_04_segment_precedence_sleeping_new_high_value_active():
    def seg(recency, tenure, high):
        return rules.segment_of(recency_days=recency, tenure_days=tenure, high_value=high, policy=POLICY)

    assert seg(90, 400, True) is rules.Segment.SLEEPING  # sleeping even if it spent a lot
    assert seg(89, 29, True) is rules.Segment.NEW
    assert seg(10, 30, True) is rules.Segment.HIGH_VALUE
    assert seg(10, 30, False) is rules.Segment.ACTIVE


def test_mem_04_high_value_by_rank_or_by_amount():
    day = dt.date(2026, 6, 30)
    facts = [
        rules.CustomerFacts(f"c{i}", day - dt.timedelta(days=200), day - dt.timedelta(days=5), 1, Decimal(m))
        for i, m in enumerate(["1000", "500", "300", "200", "100"])
    ]
    ranked = {r.customer_ref: r.segment for r in rules.rfm_segments(facts, today=day, policy=POLICY)}
    assert [k for k, v in ranked.items() if v is rules.Segment.HIGH_VALUE] == ["c0"]  # top 20 % of 5
    by_amount = rules.SegmentPolicy(30, 90, Decimal("0"), Decimal("300"))
    amounts = {r.customer_ref: r.segment for r in rules.rfm_segments(facts, today=day, policy=by_amount)}
    assert [k for k, v in amounts.items() if v is rules.Segment.HIGH_VALUE] == ["c0", "c1", "c2"]


def test_mem_04_period_keys_new_once_active_weekly_others_monthly():
    day = dt.date(2026, 12, 5)
    assert rules.segment_period_key(rules.Segment.NEW, day) == "once"
    assert rules.segment_period_key(rules.Segment.ACTIVE, day) == "2026-W49"
    assert rules.segment_period_key(rules.Segment.SLEEPING, day) == "2026-12"
    assert rules.segment_period_key(rules.Segment.HIGH_VALUE, day) == "2026-12"


_facts = st_.lists(
    st_.tuples(
        st_.integers(min_value=0, max_value=800),  # days since the first order
        st_.integers(min_value=0, max_value=800),  # days between the last order and today
        st_.integers(min_value=0, max_value=30),
        st_.decimals(min_value=0, max_value=100000, places=2),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(
    _facts,
    st_.integers(min_value=1, max_value=200),
    st_.integers(min_value=1, max_value=400),
    st_.decimals(min_value=0, max_value=1, places=2),
)
def test_mem_04_every_customer_in_exactly_one_segment_and_scores_in_1_to_5(rows, new_days, extra, share):
    today = dt.date(2026, 6, 30)
    policy = rules.SegmentPolicy(new_days, new_days + extra, share, Decimal(0))
    facts = [
        rules.CustomerFacts(
            f"c{i}",
            today - dt.timedelta(days=first),
            today - dt.timedelta(days=min(first, last)),
            freq,
            money,
        )
        for i, (first, last, freq, money) in enumerate(rows)
    ]
    out = rules.rfm_segments(facts, today=today, policy=policy)
    # every customer exactly once, in exactly one segment
    assert [r.customer_ref for r in out] == [f.customer_ref for f in facts]
    by_segment = {s: {r.customer_ref for r in out if r.segment is s} for s in rules.SEGMENTS}
    assert sum(len(v) for v in by_segment.values()) == len(facts)
    assert set().union(*by_segment.values()) == {f.customer_ref for f in facts}
    for r in out:
        assert {r.r_score, r.f_score, r.m_score} <= {1, 2, 3, 4, 5}
        # the segment follows its definition
        assert (r.segment is rules.Segment.SLEEPING) == (r.recency_days >= policy.sleeping_days)
        if r.segment is rules.Segment.NEW:
            assert (today - r.first_paid).days < policy.new_days
    # more money never scores lower; more recent never scores lower
    for a in out:
        for b in out:
            if a.monetary > b.monetary:
                assert a.m_score >= b.m_score
            if a.recency_days < b.recency_days:
                assert a.r_score >= b.r_score


# --- on real orders ----------------------------------------------------------------------------------


def _at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


@pytest.fixture
def shop(store, channel, system):
    """Yesterday (D): new1 bought 5 days before; big1 three times (200, 50, 10 days before,
    5 units each); act1 and act2 twice (100 and 20 days before); fading once 100 days before;
    sleep1 once 120 days before. High-value: the top 10 %."""
    st.playbook_update(actor=system, store=store, values={"segment_high_value_top_share": "0.1"})
    world = World(store, channel, stock_sh=60, stock_gz=0)
    d = timezone.localdate() - dt.timedelta(days=1)

    def buy(customer, days_before, qty=1):
        when = _at(d - dt.timedelta(days=days_before))
        order = world.place(qty, customer=customer, now=when)
        world.pay(order, now=when)
        return order

    buy("new1", 5)
    for days in (200, 50, 10):
        buy("big1", days, qty=5)
    for c in ("act1", "act2"):
        buy(c, 100)
        buy(c, 20)
    buy("fading", 100)
    buy("sleep1", 120)
    return world, d


def test_mem_04_segments_and_rfm_from_paid_orders(store, shop, system):
    _world, d = shop
    result = services.segments_snapshot(actor=ACTOR, store=store, day=d)
    assert result.customers == 6
    assert result.segments == {"new": 1, "active": 2, "high_value": 1, "sleeping": 2}
    rows = {r.customer_ref: r for r in segments.segment_customers(store=store, day=d)}
    big = rows["big1"]
    assert (big.segment, big.frequency, big.monetary, big.recency_days) == (
        "high_value",
        3,
        Decimal("1500.00"),
        10,
    )
    assert (rows["new1"].r_score, big.r_score, rows["act1"].r_score, rows["fading"].r_score) == (5, 4, 3, 2)
    assert rows["sleep1"].r_score == 1
    assert big.m_score == 5
    assert big.f_score == 5
    assert rows["fading"].segment == rows["sleep1"].segment == "sleeping"
    # sorted lists
    assert [r.customer_ref for r in segments.segment_customers(store=store, day=d, sort="recency")][:2] == [
        "new1",
        "big1",
    ]
    # the thresholds are playbook settings: with sleeping after 110 days, fading is active again
    st.playbook_update(actor=system, store=store, values={"segment_sleeping_days": 110})
    again = services.segments_snapshot(actor=ACTOR, store=store, day=d)
    assert again.segments["sleeping"] == 1


def test_mem_04_thresholds_are_validated_and_future_snapshots_refused(store, system, api_as):
    from storeops.core.errors import ValidationError

    with pytest.raises(ValidationError):
        st.playbook_update(
            actor=system, store=store, values={"segment_new_days": 90, "segment_sleeping_days": 90}
        )
    with pytest.raises(ValidationError):
        st.playbook_update(actor=system, store=store, values={"segment_high_value_top_share": "1.5"})
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    response = api_as(Role.OPERATIONS).post(f"/analytics/{store.pk}/segments/snapshot", {"day": tomorrow})
    assert response.status_code == 422
    assert response.json()["fields"]["day"] == "不能晚于今天"


def test_mem_04_snapshot_counts_the_moves_between_segments(store, shop):
    _world, d = shop
    services.segments_snapshot(actor=ACTOR, store=store, day=d - dt.timedelta(days=30))
    services.segments_snapshot(actor=ACTOR, store=store, day=d)
    overview = segments.segment_overview(store=store)
    assert overview.day == d
    assert overview.previous_day == d - dt.timedelta(days=30)
    # fading went from active to sleeping; new1 is a new buyer
    assert overview.moves == [("", "new", 1), ("active", "sleeping", 1)]
    assert [r.monetary for r in overview.segments] == [
        Decimal("100.00"),
        Decimal("400.00"),
        Decimal("1500.00"),
        Decimal("200.00"),
    ]
    counts = {r.segment: (r.customers, r.entered, r.left) for r in overview.segments}
    assert counts == {"new": (1, 1, 0), "active": (2, 0, 1), "high_value": (1, 0, 0), "sleeping": (2, 1, 0)}
    # taking the same day again replaces it (idempotent)
    services.segments_snapshot(actor=ACTOR, store=store, day=d)
    assert segments.segment_customers(store=store, day=d).count() == 6


def _template(store, name="召回券"):
    return promotions.coupon_template_create(
        actor=ACTOR, store=store, name=name, kind="no_threshold", amount="10", valid_days=30
    )


def test_mem_04_segment_coupon_is_issued_once_per_period_and_the_check_follows(store, shop, system):
    _world, d = shop
    services.segments_snapshot(actor=ACTOR, store=store, day=d)
    # given no coupon templates: one information finding says which segments lack one
    checks_run(rule="MEM-04", store=store, notify=False)
    unconfigured = Finding.objects.get(rule_id="MEM-04", subject_key="segments:playbook_unconfigured")
    assert "沉睡客户" in unconfigured.title
    with pytest.raises(Exception, match="未配置"):
        services.segment_action_run(actor=ACTOR, store=store, segment="sleeping")
    # when the win-back template is configured, the sleeping customers without it are a warning
    template = _template(store)
    st.playbook_update(actor=system, store=store, values={"segment_coupon_sleeping": template.pk})
    checks_run(rule="MEM-04", store=store, notify=False)
    pending = Finding.objects.get(rule_id="MEM-04", subject_key="segment:sleeping:no_action")
    assert pending.severity == "warning"
    assert pending.detail["missing"] == 2
    # then the action issues the coupon to both, once this month
    first = services.segment_action_run(actor=ACTOR, store=store, segment="sleeping")
    assert (first.customers, first.issued, first.skipped) == (2, 2, 0)
    assert first.period_key == timezone.localdate().strftime("%Y-%m")
    second = services.segment_action_run(actor=ACTOR, store=store, segment="sleeping")
    assert (second.issued, second.skipped) == (0, 2)
    checks_run(rule="MEM-04", store=store, notify=False)
    pending.refresh_from_db()
    assert pending.status == "resolved"


def test_mem_04_high_value_orders_not_shipped_in_time_are_findings(store, shop, system):
    _world, d = shop
    services.segments_snapshot(actor=ACTOR, store=store, day=d)
    checks_run(rule="MEM-04", store=store, notify=False)
    late = Finding.objects.filter(rule_id="MEM-04", subject_key__endswith=":priority_shipping")
    assert late.count() == 3  # big1's three paid orders, none shipped
    assert all(f.detail["customer"] == "big1" for f in late)
    # a longer priority window (up to 30 days) leaves the 200- and 50-day-old orders only
    st.playbook_update(actor=system, store=store, values={"segment_high_value_ship_hours": 720})
    checks_run(rule="MEM-04", store=store, notify=False)
    assert (
        Finding.objects.filter(
            rule_id="MEM-04", subject_key__endswith=":priority_shipping", status="open"
        ).count()
        == 2
    )


def test_mem_04_api_lists_exports_and_acts(store, shop, api_as, system):
    _world, d = shop
    ops = api_as(Role.OPERATIONS)
    assert ops.get(f"/analytics/{store.pk}/segments").status_code == 404  # no snapshot yet
    taken = ops.post(f"/analytics/{store.pk}/segments/snapshot", {"day": d.isoformat()})
    assert taken.status_code == 200, taken.content
    assert taken.json()["segments"]["sleeping"] == 2
    overview = ops.get(f"/analytics/{store.pk}/segments").json()
    assert [s["customers"] for s in overview["segments"]] == [1, 2, 1, 2]
    page = ops.get(f"/analytics/{store.pk}/segments/customers", segment="sleeping", page_size=1).json()
    assert (page["total"], len(page["items"])) == (2, 1)
    assert ops.get(f"/analytics/{store.pk}/segments/customers", segment="vip").status_code == 422
    # the action needs the template in the playbook
    assert ops.post(f"/analytics/{store.pk}/segments/new/action").status_code == 422
    template = _template(store, "首单券")
    st.playbook_update(actor=system, store=store, values={"segment_coupon_new": template.pk})
    acted = ops.post(f"/analytics/{store.pk}/segments/new/action").json()
    assert (acted["issued"], acted["period_key"]) == (1, "once")
    assert ops.get(f"/analytics/{store.pk}/segments/actions").json()["total"] == 1
    # export for outreach: the customer list, no personal data
    export = ops.get(f"/analytics/{store.pk}/segments/customers/export", segment="sleeping")
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(export.content)).active
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert sorted(r[0] for r in values[2:]) == ["fading", "sleep1"]
    assert values[2][10:12] == ["浙江省", "杭州市"]
    text = repr(values)
    assert "张三" not in text
    assert "13812345678" not in text
    assert "文三路" not in text
    # an analyst reads, but does not export or act
    analyst = api_as(Role.ANALYST)
    assert analyst.get(f"/analytics/{store.pk}/segments").status_code == 200
    assert analyst.get(f"/analytics/{store.pk}/segments/customers/export").status_code == 403
    assert analyst.post(f"/analytics/{store.pk}/segments/new/action").status_code == 403


def test_mem_04_console_overview_list_and_export(store, shop, make_user):
    _world, d = shop
    client = Client()
    client.force_login(make_user(Role.OPERATIONS))
    assert "还没有客户分层快照" in client.get("/segments/").content.decode()
    response = client.post("/segments/snapshot/", {"day": d.isoformat()})
    assert response.status_code == 302
    html = client.get("/segments/").content.decode()
    assert "沉睡客户" in html
    assert "召回消息" in html
    listing = client.get("/segments/customers/?segment=high_value").content.decode()
    assert "big1" in listing
    assert "fading" not in listing
    bad = client.get("/segments/customers/?segment=vip", follow=True).content.decode()
    assert "未知的客户分层" in bad
    assert "big1" in bad  # the whole snapshot instead
    export = client.get("/segments/export/?segment=new")
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")


@pytest.mark.django_db
def test_mem_04_the_demo_store_has_a_segment_snapshot_and_a_daily_report():
    from storeops.analytics import reports
    from storeops.demo.loader import demo_load

    store, _created = demo_load()
    overview = segments.segment_overview(store=store)
    assert overview.day == timezone.localdate()
    assert overview.customers > 0
    assert reports.report_list(store=store, kind="daily").count() == 1


def test_mem_04_the_customer_list_reads_a_page_in_constant_queries(store, shop, api_as):
    _world, d = shop
    services.segments_snapshot(actor=ACTOR, store=store, day=d)
    ops = api_as(Role.OPERATIONS)
    ops.get(f"/analytics/{store.pk}/segments/customers")  # warm the session and permission caches
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        ops.get(f"/analytics/{store.pk}/segments/customers", page_size=1)
    with CaptureQueriesContext(connection) as many:
        body = ops.get(f"/analytics/{store.pk}/segments/customers", page_size=50).json()
    assert len(body["items"]) == 6
    assert len(many.captured_queries) == len(one.captured_queries) <= 10  # auth, store, day, count, page


# --- the high-value playbook: the segment on the member row (priority shipping, dedicated service) --


def test_mem_04_the_latest_snapshot_puts_each_members_segment_on_the_member_row(store, shop, api_as):
    from storeops.members import services as members
    from storeops.members.models import Member

    _world, d = shop
    for ref in ("big1", "act1", "sleep1", "never-bought"):
        members.member_join(actor=ACTOR, store=store, customer_ref=ref)
    Member.objects.filter(customer_ref="never-bought").update(segment="active")  # stale
    services.segments_snapshot(actor=ACTOR, store=store, day=d)

    def rows():
        return dict(Member.objects.filter(store=store).values_list("customer_ref", "segment"))

    latest = {"big1": "high_value", "act1": "active", "sleep1": "sleeping", "never-bought": ""}
    assert rows() == latest
    # taking an earlier day (act1 had not bought yet) leaves the members on the latest snapshot
    services.segments_snapshot(actor=ACTOR, store=store, day=d - dt.timedelta(days=150))
    assert rows() == latest
    # the members API shows it
    listed = api_as(Role.OPERATIONS).get(f"/members/{store.pk}/members", customer_ref="big1")
    assert [m["segment"] for m in listed.json()["items"]] == ["high_value"]


def test_mem_04_a_high_value_order_with_its_own_deadline_is_left_to_ord_03(store, shop):
    from storeops.orders.models import Order

    _world, d = shop
    services.segments_snapshot(actor=ACTOR, store=store, day=d)
    # big1's latest order was placed as a high-value customer: its ship-by deadline is the
    # priority one, watched by ORD-03; the two placed before stay MEM-04 findings
    latest = Order.objects.filter(customer_ref="big1").order_by("-paid_at").first()
    Order.objects.filter(pk=latest.pk).update(customer_segment="high_value")
    checks_run(rule="MEM-04", store=store, notify=False)
    late = Finding.objects.filter(rule_id="MEM-04", subject_key__endswith=":priority_shipping")
    assert late.count() == 2
    assert latest.number not in {f.subject_id for f in late}
