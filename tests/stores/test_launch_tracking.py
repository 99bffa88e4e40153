"""SOP STORE-07: launch targets tracked against actuals measured from StoreOps' own orders,
refunds, buyers and traffic on the plan's channel; the console pages of launch plans; the check
with the playbook's ``launch_target_miss_ratio``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client

from storeops.accounts.roles import Role
from storeops.analytics.selectors import launch_tracking
from storeops.audit.models import AuditEntry
from storeops.core.errors import ValidationError
from storeops.sop.models import Finding
from storeops.sop.services import checks_run
from storeops.stores import services as st
from storeops.stores.models import LaunchPlan, LaunchStep, LaunchTarget
from tests.behaviour.builders import ev, post
from tests.members.builders import a_member, refund
from tests.orders.builders import World

LIVE = dt.date(2026, 6, 1)  # month 1: June, month 2: July, month 3: August
AFTER_JUNE = dt.date(2026, 7, 10)


def _at(day: dt.date, hour: int = 12) -> dt.datetime:
    """Local noon (Asia/Shanghai) of ``day`` as an aware time."""
    return dt.datetime.combine(day, dt.time(hour - 8), tzinfo=dt.UTC)


def _targets(gmv: int = 1000, new_users: int = 10, conversion: str = "0.02") -> dict:
    return {
        (m, k): v
        for m in (1, 2, 3)
        for k, v in (("gmv", gmv), ("new_users", new_users), ("conversion", conversion))
    }


def _live_plan(channel, system, *, went_live=LIVE, targets=None) -> LaunchPlan:
    plan = st.launch_plan_create(
        actor=system, channel=channel, planned_go_live=went_live, market_research="类目增长38%"
    )
    st.launch_targets_set(actor=system, plan=plan, targets=targets or _targets(), months=3)
    for step in LaunchStep.values:
        st.launch_step_complete(actor=system, plan=plan, step=step)
    return st.launch_go_live(actor=system, plan=plan, today=went_live)


def _paid(world: World, customer: str, qty: int, day: dt.date):
    order = world.place(qty, customer=customer, now=_at(day))
    world.pay(order, now=_at(day))
    order.refresh_from_db()
    return order


@pytest.fixture
def june(store, channel, system):
    """A channel live since 1 June: in June three buyers paid 400.00 on it (one of them bought
    before go-live), 100.00 of it refunded, one order left unpaid, a fourth buyer paid on
    another channel; six visitors; one member joined. In July one new buyer paid 100.00."""
    world = World(store, channel)
    _paid(world, "old", 1, dt.date(2026, 5, 20))  # before go-live: old is not a new buyer in June
    first = _paid(world, "c1", 2, dt.date(2026, 6, 3))
    _paid(world, "c2", 1, dt.date(2026, 6, 10))
    _paid(world, "old", 1, dt.date(2026, 6, 12))
    world.place(1, customer="c9", now=_at(dt.date(2026, 6, 15)))  # placed, never paid
    refund(first, 1)
    jd = st.channel_create(actor=system, store=store, kind="jd", code="jd", name="京东店")
    world.channel = jd
    _paid(world, "j1", 3, dt.date(2026, 6, 20))  # another channel: not this plan's
    world.channel = channel
    _paid(world, "c3", 1, dt.date(2026, 7, 5))
    post(
        store,
        [ev(f"v{i}", "page_view", _at(dt.date(2026, 6, 5)), "product") for i in range(6)],
        channel=channel,
    )
    a_member(store, "c2", joined=_at(dt.date(2026, 6, 10)))
    return _live_plan(channel, system)


def _cells(month):
    return {c.metric: c for c in month.cells}


def test_store_07_actuals_are_measured_from_the_channels_paid_orders_refunds_buyers_and_visitors(june):
    tracking = launch_tracking(june, today=AFTER_JUNE)
    m1, m2, m3 = tracking.months
    assert (m1.start, m1.end, m1.state) == (dt.date(2026, 6, 1), dt.date(2026, 7, 1), "ended")
    cells = _cells(m1)
    # GMV: 200 + 100 + 100 paid on the channel in June, less the 100 refunded; not JD's 300
    assert cells["gmv"].computed == Decimal("300.00")
    assert (m1.sales.gmv, m1.sales.refunded) == (Decimal("400.00"), Decimal("100.00"))
    # new users: c1 and c2 paid on the channel for the first time; "old" bought in May
    assert cells["new_users"].computed == 2
    # conversion: 3 buyers ÷ 6 visitors (DATA-01's buyers ÷ UV)
    assert cells["conversion"].computed == Decimal("0.5")
    assert (m1.sales.placed, m1.sales.paid, m1.new_members) == (4, 3, 1)
    # against the targets: 300 of 1,000 is 30 %, 2 of 10 new users, 50 % conversion over 2 %
    assert cells["gmv"].attainment == Decimal("0.3")
    assert cells["gmv"].missed(tracking.miss_ratio)
    assert not cells["conversion"].missed(tracking.miss_ratio)
    # July is measured to date; without visitors the conversion is labelled, not zero
    assert m2.state == "current"
    july = _cells(m2)
    assert (july["gmv"].computed, july["new_users"].computed) == (Decimal("100.00"), 1)
    assert july["conversion"].computed is None
    assert july["conversion"].missing_label == "无访客数据"
    assert not july["gmv"].missed(tracking.miss_ratio)  # the month has not ended
    assert m3.state == "future"
    assert {c.missing for c in m3.cells} == {"not_started"}


def test_store_07_a_typed_actual_wins_and_removing_it_brings_back_the_measured_one(june, system):
    gmv = june.targets.get(month=1, metric="gmv")
    st.launch_target_record_actual(actor=system, target=gmv, actual=Decimal("950"))
    cell = _cells(launch_tracking(june, today=AFTER_JUNE).months[0])["gmv"]
    assert (cell.typed, cell.computed, cell.actual) == (
        Decimal("950.0000"),
        Decimal("300.00"),
        Decimal("950"),
    )
    assert not cell.missed(Decimal("0.10"))  # 95 % of the target
    st.launch_target_record_actual(actor=system, target=gmv, actual=None)
    cell = _cells(launch_tracking(june, today=AFTER_JUNE).months[0])["gmv"]
    assert (cell.typed, cell.actual) == (None, Decimal("300.00"))
    assert AuditEntry.objects.filter(action="launch_target.record_actual").count() == 2


def test_store_07_changing_targets_keeps_the_actuals_typed_in(june, system):
    gmv = june.targets.get(month=1, metric="gmv")
    st.launch_target_record_actual(actor=system, target=gmv, actual=Decimal("950"))
    st.launch_targets_set(actor=system, plan=june, targets=_targets(gmv=900), months=3)
    kept = LaunchTarget.objects.get(plan=june, month=1, metric="gmv")
    assert (kept.pk, kept.target, kept.actual) == (gmv.pk, Decimal("900.0000"), Decimal("950.0000"))


def test_store_07_check_fires_for_an_ended_month_below_target_by_more_than_the_playbook_ratio(
    june, store, system
):
    now = _at(AFTER_JUNE)
    checks_run(rule="STORE-07", store=store, now=now, notify=False)
    found = Finding.objects.filter(rule_id="STORE-07", status="open")
    # June: GMV 300 of 1,000 and 2 of 10 new users; conversion 50 % ≥ 2 %; July not over yet
    gmv = june.targets.get(month=1, metric="gmv")
    users = june.targets.get(month=1, metric="new_users")
    assert set(found.values_list("subject_key", flat=True)) == {
        f"launch_target:{gmv.pk}:missed",
        f"launch_target:{users.pk}:missed",
    }
    title = found.get(subject_key=f"launch_target:{gmv.pk}:missed").title
    assert "实际 300 / 目标 1000（达成 30%）" in title
    # 300 is 10 % under a target of 333.33: within a 10 % ratio no finding, beyond it one
    st.launch_targets_set(actor=system, plan=june, targets=_targets(gmv=333, new_users=2), months=3)
    checks_run(rule="STORE-07", store=store, now=now, notify=False)
    assert not Finding.objects.filter(rule_id="STORE-07", status="open").exists()
    st.playbook_update(actor=system, store=store, values={"launch_target_miss_ratio": "0.05"})
    checks_run(rule="STORE-07", store=store, now=now, notify=False)
    assert list(
        Finding.objects.filter(rule_id="STORE-07", status="open").values_list("subject_key", flat=True)
    ) == [f"launch_target:{gmv.pk}:missed"]


def test_store_07_overdue_go_live_names_the_open_full_chain_test_steps(channel, system, store):
    plan = st.launch_plan_create(actor=system, channel=channel, planned_go_live=dt.date(2026, 6, 1))
    for step in (LaunchStep.MARKET_RESEARCH, LaunchStep.QUALIFICATIONS, LaunchStep.TEST_REGISTER):
        st.launch_step_complete(actor=system, plan=plan, step=step)
    # another channel: the full-chain test done, only the KPI targets missing
    jd = st.channel_create(actor=system, store=store, kind="jd", code="jd", name="京东店")
    tested = st.launch_plan_create(actor=system, channel=jd, planned_go_live=dt.date(2026, 6, 1))
    for step in set(LaunchStep.values) - {LaunchStep.KPI_TARGETS}:
        st.launch_step_complete(actor=system, plan=tested, step=step)
    checks_run(rule="STORE-07", store=store, now=_at(dt.date(2026, 6, 2)), notify=False)
    finding = Finding.objects.get(rule_id="STORE-07", subject_key=f"launch_plan:{plan.pk}:overdue")
    assert finding.severity == "warning"
    assert finding.title == "天猫旗舰店 计划上线日 2026-06-01 已过，仍有 5 项未完成，其中全链路测试 4 项"
    assert finding.detail["open_full_chain_steps"] == [
        "test_browse",
        "test_order",
        "test_pay",
        "test_aftersales",
    ]
    other = Finding.objects.get(rule_id="STORE-07", subject_key=f"launch_plan:{tested.pk}:overdue")
    assert (other.severity, other.title) == ("warning", "京东店 计划上线日 2026-06-01 已过，仍有 1 项未完成")
    # not yet past the date: nothing
    Finding.objects.all().delete()
    checks_run(rule="STORE-07", store=store, now=_at(dt.date(2026, 6, 1)), notify=False)
    assert not Finding.objects.exists()


def test_store_07_typed_actuals_and_targets_are_validated(june, system):
    gmv = june.targets.get(month=1, metric="gmv")
    conversion = june.targets.get(month=1, metric="conversion")
    for target, value, message in (
        (gmv, "-1", "实际值不能为负"),
        (gmv, "abc", "请输入数字"),
        (gmv, "NaN", "请输入数字"),
        (gmv, "1e15", "数值超出范围"),
        (conversion, "1.5", "数值超出范围"),
    ):
        with pytest.raises(ValidationError) as excinfo:
            st.launch_target_record_actual(actor=system, target=target, actual=value)
        assert excinfo.value.fields["actual"] == message
    with pytest.raises(ValidationError) as excinfo:
        st.launch_targets_set(actor=system, plan=june, targets=_targets(gmv="1e13"), months=3)
    assert excinfo.value.fields["m1.gmv"] == "数值超出范围"


# ---- console -----------------------------------------------------------------------------------


def _client(make_user, role=Role.OPERATIONS) -> Client:
    client = Client()
    client.force_login(make_user(role))
    return client


def test_store_07_console_plan_page_shows_targets_against_measured_actuals(june, make_user, settings):
    client = _client(make_user)
    html = client.get(f"/launch/{june.pk}/").content.decode()
    # the month's row: target, the measured actual (labelled), the attainment, missed
    assert "第1个月" in html
    assert '<td class="num">¥1,000.00</td>' in html
    assert '<td class="num">¥300.00 <span class="badge sev-info">计算</span></td>' in html
    assert '<td class="num overdue">30% <span class="badge sev-critical">未达标</span></td>' in html
    assert '<td class="num">50.0% <span class="badge sev-info">计算</span></td>' in html
    assert '<span class="muted">无访客数据</span>' in html  # July's conversion
    # the checklist, each step with who ticked it
    assert '<td class="state-ok">✓ 已完成</td><td>system</td>' in html
    # the list links the plan
    listing = client.get("/launch/").content.decode()
    assert f'<a href="/launch/{june.pk}/">天猫旗舰店</a>' in listing


def test_store_07_console_ticks_a_step_with_who_and_when(channel, system, make_user):
    plan = st.launch_plan_create(actor=system, channel=channel, planned_go_live=dt.date(2030, 1, 1))
    client = _client(make_user)
    response = client.post(f"/launch/{plan.pk}/step/", {"step": "test_pay", "note": "支付宝沙箱支付成功"})
    assert response.status_code == 302
    item = plan.items.get(step="test_pay")
    assert (item.done_by, item.note) == ("u_operations", "支付宝沙箱支付成功")
    assert item.done_at is not None
    html = client.get(f"/launch/{plan.pk}/").content.decode()
    assert '<td class="state-ok">✓ 已完成</td><td>u_operations</td>' in html


def test_store_07_console_creates_a_plan_and_refuses_bad_input_as_typed(store, channel, make_user):
    client = _client(make_user)
    response = client.post(
        "/launch/new/",
        {"channel": str(channel.pk), "planned_go_live": "2030-02-30", "market_research": "调研"},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert '<span class="err">日期格式应为 YYYY-MM-DD</span>' in html
    assert ">调研</textarea>" in html
    assert not LaunchPlan.objects.exists()
    response = client.post("/launch/new/", {"channel": str(channel.pk), "planned_go_live": "2030-02-01"})
    plan = LaunchPlan.objects.get()
    assert response["Location"] == f"/launch/{plan.pk}/"
    assert plan.items.count() == len(LaunchStep.values)
    again = client.post("/launch/new/", {"channel": str(channel.pk), "planned_go_live": "2030-02-01"})
    assert again.status_code == 422
    assert '<span class="err">该渠道不存在或已有上线计划</span>' in again.content.decode()


def test_store_07_console_targets_form_validates_and_saves_conversion_as_a_percentage(
    channel, system, make_user
):
    plan = st.launch_plan_create(actor=system, channel=channel, planned_go_live=dt.date(2030, 1, 1))
    client = _client(make_user)
    form = {
        f"m{m}.{k}": v
        for m in (1, 2, 3)
        for k, v in (("gmv", "50000"), ("new_users", "800"), ("conversion", "2.5"))
    }
    bad = {**form, "m2.gmv": "很多", "m3.conversion": "150", "m3.new_users": ""}
    response = client.post(f"/launch/{plan.pk}/targets/", bad)
    assert response.status_code == 422
    html = response.content.decode()
    assert 'name="m2.gmv" value="很多"' in html
    assert '<span class="err">请输入数字</span>' in html
    assert '<span class="err">数值超出范围</span>' in html
    assert '<span class="err">缺少目标</span>' in html
    assert not plan.targets.exists()
    assert client.post(f"/launch/{plan.pk}/targets/", form).status_code == 302
    stored = {(t.month, t.metric): t.target for t in plan.targets.all()}
    assert stored[(1, "conversion")] == Decimal("0.025")
    assert stored[(3, "gmv")] == Decimal("50000")
    html = client.get(f"/launch/{plan.pk}/").content.decode()
    assert 'name="m1.conversion" value="2.5"' in html


def test_store_07_console_types_an_actual_and_shows_it_beside_the_measured_one(june, make_user):
    client = _client(make_user)
    target = june.targets.get(month=1, metric="gmv")
    refused = client.post(f"/launch/{june.pk}/actual/", {"target": target.pk, "actual": "-5"})
    assert refused.status_code == 422
    assert '<span class="err">实际值不能为负</span>' in refused.content.decode()
    client.post(f"/launch/{june.pk}/actual/", {"target": target.pk, "actual": "950"})
    html = client.get(f"/launch/{june.pk}/").content.decode()
    row = html[html.index("<td>GMV（元）</td>") : html.index("<td>新增用户</td>")]
    assert '<td class="num">¥950.00 <span class="badge sev-warning">录入</span></td>' in row
    assert '<td class="num">¥300.00</td>' in row  # the measured one beside it
    assert '<td class="num ">95%</td>' in row


def test_store_07_console_launch_pages_are_in_the_operations_menu(store, make_user):
    html = _client(make_user).get("/").content.decode()
    assert '<a href="/launch/" class="">上线计划</a>' in html
    assert 'href="/launch/"' not in _client(make_user, Role.WAREHOUSE).get("/").content.decode()


def test_store_07_monthly_review_lists_the_measured_actuals_and_judges_only_ended_months(june, system):
    from storeops.analytics import services as analytics

    report = analytics.report_generate(
        actor=system, store=june.store, kind="monthly", day=AFTER_JUNE, notify=False
    )
    rows = {(t["month"], t["metric"]): t for t in report.data["launch"]}
    assert set(rows) == {(1, "gmv"), (1, "new_users"), (1, "conversion")}  # June's months only
    assert (rows[(1, "gmv")]["actual"], rows[(1, "gmv")]["ok"]) == ("300.00", False)
    assert (rows[(1, "conversion")]["actual"], rows[(1, "conversion")]["ok"]) == ("0.5000", True)
    # a weekly review across the start of July: month 2 is shown to date, not judged
    weekly = analytics.report_generate(
        actor=system, store=june.store, kind="weekly", day=dt.date(2026, 7, 8), notify=False
    )
    july = {(t["month"], t["metric"]): t for t in weekly.data["launch"]}
    assert (july[(2, "gmv")]["actual"], july[(2, "gmv")]["ok"]) == ("100.00", None)


def test_store_07_api_edits_a_plan_and_gives_targets_against_actuals(june, store, channel, api_as, system):
    client = api_as(Role.OPERATIONS)
    base = f"/stores/{store.pk}/launch-plans/{june.pk}"
    tracking = client.get(f"{base}/tracking")
    assert tracking.status_code == 200
    body = tracking.json()
    assert body["miss_ratio"] == "0.10"
    june_row = body["months"][0]
    assert (june_row["state"], june_row["gmv_paid"], june_row["refunded"], june_row["uv"]) == (
        "ended",
        "400.00",
        "100.00",
        6,
    )
    gmv = next(c for c in june_row["cells"] if c["metric"] == "gmv")
    assert (gmv["computed"], gmv["actual"], gmv["attainment"], gmv["missed"]) == (
        "300.00",
        "300.00",
        "0.3000",
        True,
    )
    # a live plan keeps its go-live date; its research can still change
    refused = client.patch(base, {"planned_go_live": "2030-01-01"})
    assert refused.status_code == 422
    assert refused.json()["fields"]["planned_go_live"] == "计划已上线"
    edited = client.patch(base, {"market_research": "复盘：客单价偏低"})
    assert (edited.status_code, edited.json()["market_research"]) == (200, "复盘：客单价偏低")
    # a typed actual, then removed again
    target = june.targets.get(month=1, metric="gmv")
    client.put(f"{base}/targets/{target.pk}/actual", {"actual": "950"})
    assert client.get(f"{base}/tracking").json()["months"][0]["cells"][0]["actual"] == "950.0000"
    assert client.put(f"{base}/targets/{target.pk}/actual", {"actual": None}).json()["actual"] is None
    assert api_as(Role.WAREHOUSE).get(f"{base}/tracking").status_code == 403


def test_store_07_console_edits_a_plan_and_goes_live_after_the_checklist(channel, system, make_user, today):
    plan = st.launch_plan_create(actor=system, channel=channel, planned_go_live=today)
    client = _client(make_user)
    refused = client.post(f"/launch/{plan.pk}/edit/", {"planned_go_live": "", "market_research": "增长快"})
    assert refused.status_code == 422
    html = refused.content.decode()
    assert '<span class="err">请填写计划上线日期</span>' in html
    assert ">增长快</textarea>" in html
    client.post(f"/launch/{plan.pk}/edit/", {"planned_go_live": "2030-03-01", "market_research": "增长快"})
    plan.refresh_from_db()
    assert (plan.planned_go_live, plan.market_research) == (dt.date(2030, 3, 1), "增长快")
    # go-live is refused while a step is open, then allowed
    client.post(f"/launch/{plan.pk}/go-live/")
    plan.refresh_from_db()
    assert plan.status == "preparing"
    st.launch_targets_set(actor=system, plan=plan, targets=_targets(), months=3)
    for step in LaunchStep.values:
        st.launch_step_complete(actor=system, plan=plan, step=step)
    client.post(f"/launch/{plan.pk}/go-live/")
    plan.refresh_from_db()
    assert (plan.status, plan.went_live_on) == ("live", today)


def test_store_07_a_launch_finding_links_to_its_plan(june, store, make_user):
    from storeops.console.subjects import subject_link

    checks_run(rule="STORE-07", store=store, now=_at(AFTER_JUNE), notify=False)
    finding = Finding.objects.filter(rule_id="STORE-07").first()
    assert subject_link(finding.subject_type, finding.subject_id, finding.detail) == f"/launch/{june.pk}/"
    assert (
        subject_link(finding.subject_type, finding.subject_id, finding.detail, make_user(Role.WAREHOUSE))
        is None
    )
