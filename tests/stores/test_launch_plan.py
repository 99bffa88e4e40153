"""SOP STORE-07: new-store launch checklist with 3-month KPI targets tracked against actuals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from storeops.accounts.roles import Role
from storeops.core.errors import Conflict, ValidationError
from storeops.sop.models import Finding
from storeops.sop.services import checks_run
from storeops.stores import services as st
from storeops.stores.models import LaunchPlan, LaunchStep, LaunchTarget

ALL_TARGETS = {(m, k): Decimal(100 * m) for m in (1, 2, 3) for k in ("gmv", "new_users")} | {
    (m, "conversion"): Decimal("0.02") for m in (1, 2, 3)
}


@pytest.fixture
def plan(channel, system, today):
    return st.launch_plan_create(
        actor=system,
        channel=channel,
        planned_go_live=today + dt.timedelta(days=10),
        market_research="类目增长38%",
    )


def test_store_07_targets_for_each_of_the_first_three_months_are_stored(plan, system):
    st.launch_targets_set(actor=system, plan=plan, targets=ALL_TARGETS, months=3)
    stored = {(t.month, t.metric): t.target for t in LaunchTarget.objects.filter(plan=plan)}
    assert stored == ALL_TARGETS
    assert plan.items.get(step=LaunchStep.KPI_TARGETS).done_at is not None


def test_store_07_incomplete_targets_are_rejected_and_nothing_saved(plan, system):
    partial = {k: v for k, v in ALL_TARGETS.items() if k[0] != 3}
    with pytest.raises(ValidationError) as excinfo:
        st.launch_targets_set(actor=system, plan=plan, targets=partial | {(1, "conversion"): "2"}, months=3)
    fields = excinfo.value.fields
    assert fields["m1.conversion"] == "数值超出范围"
    assert {"m3.gmv", "m3.new_users", "m3.conversion"} <= set(fields)
    assert not LaunchTarget.objects.exists()


def test_store_07_cannot_go_live_before_the_full_chain_test(plan, system, today):
    st.launch_targets_set(actor=system, plan=plan, targets=ALL_TARGETS, months=3)
    for step in (
        LaunchStep.MARKET_RESEARCH,
        LaunchStep.QUALIFICATIONS,
        LaunchStep.TEST_REGISTER,
        LaunchStep.TEST_BROWSE,
        LaunchStep.TEST_ORDER,
        LaunchStep.TEST_PAY,
    ):
        st.launch_step_complete(actor=system, plan=plan, step=step)
    with pytest.raises(Conflict) as excinfo:
        st.launch_go_live(actor=system, plan=plan, today=today)
    assert "全链路测试：售后" in str(excinfo.value.message)
    st.launch_step_complete(actor=system, plan=plan, step=LaunchStep.TEST_AFTERSALES, note="退款成功")
    st.launch_go_live(actor=system, plan=plan, today=today)
    plan.refresh_from_db()
    plan.channel.refresh_from_db()
    assert plan.status == LaunchPlan.Status.LIVE
    assert plan.channel.launched_on == today


def test_store_07_missed_and_missing_actuals_raise_findings_after_the_month(plan, system, today):
    # given a channel that went live 40 days ago with targets
    st.launch_targets_set(actor=system, plan=plan, targets=ALL_TARGETS, months=3)
    LaunchPlan.objects.filter(pk=plan.pk).update(status="live", went_live_on=today - dt.timedelta(days=40))
    gmv = LaunchTarget.objects.get(plan=plan, month=1, metric="gmv")
    st.launch_target_record_actual(actor=system, target=gmv, actual=Decimal(80))
    new_users = LaunchTarget.objects.get(plan=plan, month=1, metric="new_users")
    st.launch_target_record_actual(actor=system, target=new_users, actual=Decimal(120))
    # when the STORE-07 check runs
    checks_run(rule="STORE-07", store=plan.store, notify=False)
    # then month 1 GMV is missed, conversion has no actual, new users met; month 2 not due yet
    keys = set(Finding.objects.filter(rule_id="STORE-07").values_list("subject_key", flat=True))
    conv = LaunchTarget.objects.get(plan=plan, month=1, metric="conversion")
    assert keys == {f"launch_target:{gmv.pk}:missed", f"launch_target:{conv.pk}:missing"}
    missed = Finding.objects.get(subject_key=f"launch_target:{gmv.pk}:missed")
    assert "实际 80 / 目标 100" in missed.title


def test_store_07_overdue_go_live_with_open_steps_is_a_finding(plan, system, today):
    LaunchPlan.objects.filter(pk=plan.pk).update(planned_go_live=today - dt.timedelta(days=1))
    checks_run(rule="STORE-07", store=plan.store, notify=False)
    finding = Finding.objects.get(rule_id="STORE-07")
    assert finding.subject_key == f"launch_plan:{plan.pk}:overdue"
    assert len(finding.detail["open_steps"]) == len(LaunchStep.values)


def test_store_07_launch_plan_through_the_api(store, channel, api_as):
    client = api_as(Role.OPERATIONS)
    created = client.post(
        f"/stores/{store.pk}/launch-plans", {"channel_id": channel.pk, "planned_go_live": "2030-01-01"}
    )
    assert created.status_code == 201
    plan_id = created.json()["id"]
    assert len(created.json()["open_steps"]) == 8
    targets = [{"month": m, "metric": k, "target": str(v)} for (m, k), v in ALL_TARGETS.items()]
    put = client.put(f"/stores/{store.pk}/launch-plans/{plan_id}/targets", {"targets": targets})
    assert put.status_code == 200
    assert len(put.json()["targets"]) == 9
    early = client.post(f"/stores/{store.pk}/launch-plans/{plan_id}/go-live", {})
    assert early.status_code == 409
    assert early.json()["code"] == "conflict"
