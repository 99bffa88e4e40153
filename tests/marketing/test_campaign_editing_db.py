"""Editing and resubmitting plans, separation of duties in the approval chain (PROMO-05), and
the campaign thresholds that default to the playbook (PROMO-06/08) — services, checks, API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from storeops.accounts.roles import Role
from storeops.audit.models import AuditEntry
from storeops.core.context import Actor
from storeops.core.errors import InvalidTransition, PermissionDenied, ValidationError
from storeops.marketing import selectors
from storeops.marketing import services as ms
from storeops.sop.models import Finding
from storeops.sop.services import checks_run
from storeops.stores.services import playbook_update
from tests.marketing.builders import ACTOR, a_campaign, an_approved_campaign, approvers

pytestmark = pytest.mark.django_db


def _plan(starts_on: dt.date, **overrides):
    data = {
        "theme": "年货节（修改版）",
        "kind": "regular",
        "starts_on": starts_on,
        "ends_on": starts_on + dt.timedelta(days=4),
        "target_gmv": "150000",
        "target_new_users": 800,
        "phases": [{"kind": "burst", "starts_on": starts_on, "ends_on": starts_on + dt.timedelta(days=1)}],
        "budget": [{"kind": "ads", "planned": "2500"}, {"kind": "discount", "planned": "5000"}],
    }
    data.update(overrides)
    return data


# ---- PROMO-05: a rejected plan returns to draft, is edited and resubmitted --------------------
def test_promo_05_rejected_plan_is_edited_and_resubmitted_through_the_whole_chain(store, today):
    # given a plan rejected by the marketing head after the operations lead approved it
    ops, mkt, fin = approvers()
    campaign = a_campaign(store, today + dt.timedelta(days=20))
    ms.campaign_submit(actor=ACTOR, campaign=campaign)
    ms.campaign_decide(actor=ops, campaign=campaign, approve=True)
    rejected = ms.campaign_decide(actor=mkt, campaign=campaign, approve=False, comment="KOL预算过高")
    assert rejected.status == "draft"
    assert selectors.campaign_last_rejection(rejected).comment == "KOL预算过高"
    # when the plan is edited (no KOL budget, a longer window) and resubmitted
    edited = ms.campaign_update(actor=ACTOR, campaign=rejected, **_plan(today + dt.timedelta(days=20)))
    ms.campaign_submit(actor=ACTOR, campaign=edited)
    # then the chain starts again from the operations lead and runs to the end
    for who in (ops, mkt, fin):
        edited = ms.campaign_decide(actor=who, campaign=edited, approve=True)
    assert edited.status == "approved"
    assert edited.theme == "年货节（修改版）"
    assert edited.ends_on == today + dt.timedelta(days=24)
    assert sorted((b.kind, b.planned) for b in edited.budget_lines.all()) == [
        ("ads", Decimal("2500.00")),
        ("discount", Decimal("5000.00")),
    ]
    assert [p.kind for p in edited.phases.all()] == ["burst"]
    # and the edit is in the operation log with the plan before and after
    entry = AuditEntry.objects.get(action="campaign.update", object_id=str(edited.pk))
    assert entry.before["theme"] == "双11狂欢"
    assert entry.after["theme"] == "年货节（修改版）"


def test_promo_05_plan_under_approval_cannot_be_edited(store, today):
    campaign = a_campaign(store, today + dt.timedelta(days=20))
    ms.campaign_submit(actor=ACTOR, campaign=campaign)
    with pytest.raises(InvalidTransition, match="只有草稿"):
        ms.campaign_update(actor=ACTOR, campaign=campaign, **_plan(today + dt.timedelta(days=20)))
    campaign.refresh_from_db()
    assert campaign.theme == "双11狂欢"


def test_promo_05_invalid_edit_changes_nothing(store, today):
    # given a draft with three budget lines
    campaign = a_campaign(store, today + dt.timedelta(days=20))
    # when an edit has its end before its start
    with pytest.raises(ValidationError) as err:
        ms.campaign_update(
            actor=ACTOR,
            campaign=campaign,
            **_plan(today + dt.timedelta(days=20), ends_on=today + dt.timedelta(days=10)),
        )
    # then the error names the field and nothing was written
    assert err.value.fields["ends_on"] == "结束日期不能早于开始日期"
    campaign.refresh_from_db()
    assert campaign.budget_lines.count() == 3
    assert campaign.phases.count() == 3


def test_promo_05_edit_keeps_the_actual_spend_of_a_kept_budget_line(store, today):
    campaign = a_campaign(store, today + dt.timedelta(days=20))
    ms.campaign_budget_actual_set(actor=ACTOR, campaign=campaign, kind="ads", actual="120")
    ms.campaign_update(actor=ACTOR, campaign=campaign, **_plan(today + dt.timedelta(days=20)))
    lines = {b.kind: b for b in campaign.budget_lines.all()}
    assert lines["ads"].actual == Decimal("120.00")
    assert lines["ads"].planned == Decimal("2500.00")
    assert "kol" not in lines


# ---- PROMO-05: separation of duties ---------------------------------------------------------
def test_promo_05_one_user_cannot_approve_two_steps_of_the_same_campaign(store, today, owner):
    # given a plan the owner (who holds every approval permission) approved as operations lead
    campaign = a_campaign(store, today + dt.timedelta(days=20))
    ms.campaign_submit(actor=ACTOR, campaign=campaign)
    boss = Actor(user=owner)
    ms.campaign_decide(actor=boss, campaign=campaign, approve=True)
    # when the owner tries to approve the marketing step too
    with pytest.raises(PermissionDenied) as err:
        ms.campaign_decide(actor=boss, campaign=campaign, approve=True)
    # then it is refused with a clear reason and the plan still waits for marketing
    assert err.value.code == "separation_of_duties"
    assert (
        str(err.value.message)
        == "同一人不能审批同一活动的两个环节：您已审批过「运营负责人」环节，请由其他负责人审批"
    )
    campaign.refresh_from_db()
    assert campaign.status == "pending_marketing"
    assert campaign.approvals.filter(decision="approved").count() == 1


def test_promo_05_the_same_approver_may_reject_a_later_step(store, today, owner):
    # a reject is not an approval: an owner who approved step one may still stop the plan
    campaign = a_campaign(store, today + dt.timedelta(days=20))
    ms.campaign_submit(actor=ACTOR, campaign=campaign)
    boss = Actor(user=owner)
    ms.campaign_decide(actor=boss, campaign=campaign, approve=True)
    c = ms.campaign_decide(actor=boss, campaign=campaign, approve=False, comment="预算不够")
    assert c.status == "draft"


def test_promo_05_approvals_of_an_earlier_submission_do_not_count(store, today, owner):
    # given the owner approved step one, then the plan was rejected and resubmitted
    ops, mkt, _fin = approvers()
    boss = Actor(user=owner)
    campaign = a_campaign(store, today + dt.timedelta(days=20))
    ms.campaign_submit(actor=ACTOR, campaign=campaign)
    ms.campaign_decide(actor=boss, campaign=campaign, approve=True)
    ms.campaign_decide(actor=mkt, campaign=campaign, approve=False, comment="重做")
    ms.campaign_submit(actor=ACTOR, campaign=campaign)
    # when another operations lead approves step one and the owner approves step two
    ms.campaign_decide(actor=ops, campaign=campaign, approve=True)
    c = ms.campaign_decide(actor=boss, campaign=campaign, approve=True)
    # then it passes: in this submission the owner approved one step only
    assert c.status == "pending_finance"


def test_promo_05_api_second_approval_by_the_same_user_is_403_with_its_code(store, today, api_as):
    campaign = a_campaign(store, today + dt.timedelta(days=20))
    ms.campaign_submit(actor=ACTOR, campaign=campaign)
    client = api_as(Role.OWNER)
    base = f"/marketing/{store.pk}/campaigns/{campaign.pk}/approvals"
    assert client.post(f"{base}/operations", {"approve": True}).status_code == 200
    response = client.post(f"{base}/marketing", {"approve": True})
    assert response.status_code == 403
    assert response.json()["code"] == "separation_of_duties"
    assert "同一人不能审批同一活动的两个环节" in response.json()["message"]


# ---- PROMO-05: the API edit route ------------------------------------------------------------
def _api_plan(starts_on: dt.date, **overrides):
    data = {
        "theme": "开学季",
        "kind": "regular",
        "starts_on": starts_on.isoformat(),
        "ends_on": (starts_on + dt.timedelta(days=3)).isoformat(),
        "budget": [{"kind": "ads", "planned": "800"}],
    }
    data.update(overrides)
    return data


def test_promo_05_api_edits_a_draft_and_refuses_once_submitted(store, today, api_as):
    campaign = a_campaign(store, today + dt.timedelta(days=20))
    client = api_as(Role.MARKETING)
    url = f"/marketing/{store.pk}/campaigns/{campaign.pk}"
    # a draft is replaced
    response = client.put(url, _api_plan(today + dt.timedelta(days=20)))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["theme"] == "开学季"
    assert [b["kind"] for b in body["budget"]] == ["ads"]
    assert body["thresholds"]["from_playbook"] == [
        "expected_refund_rate",
        "max_payment_failure_rate",
        "planned_redemption_rate",
    ]
    # bad input is a 422 naming the field, and nothing changes
    bad = client.put(url, _api_plan(today + dt.timedelta(days=20), budget=[{"kind": "tv", "planned": "1"}]))
    assert bad.status_code == 422
    assert bad.json()["fields"] == {"budget.0.kind": "只能是 discount / ads / kol / other"}
    # once submitted, it is a 409
    ms.campaign_submit(actor=ACTOR, campaign=campaign)
    refused = client.put(url, _api_plan(today + dt.timedelta(days=20), theme="再改"))
    assert refused.status_code == 409
    campaign.refresh_from_db()
    assert campaign.theme == "开学季"


# ---- PROMO-06/08: thresholds from the playbook, overridable per campaign ----------------------
def test_promo_06_thresholds_default_to_the_playbook_and_a_campaign_may_override(store, today):
    # given the store's playbook plans 25% redemption and alerts above 3% payment failures
    playbook_update(
        actor=ACTOR,
        store=store,
        values={"campaign_planned_redemption_rate": "0.25", "campaign_max_payment_failure_rate": "0.03"},
    )
    # when one campaign sets nothing and another sets its own failure line
    plain = a_campaign(
        store,
        today,
        planned_redemption_rate=None,
        max_payment_failure_rate=None,
        expected_refund_rate=None,
    )
    own = a_campaign(store, today, planned_redemption_rate=None, max_payment_failure_rate="0.08")
    # then the first follows the playbook, the second keeps its own line
    t = selectors.campaign_thresholds(plain)
    assert (t.planned_redemption_rate, t.max_payment_failure_rate, t.expected_refund_rate) == (
        Decimal("0.25"),
        Decimal("0.03"),
        Decimal("0.10"),
    )
    assert t.from_playbook == {"planned_redemption_rate", "max_payment_failure_rate", "expected_refund_rate"}
    t2 = selectors.campaign_thresholds(own)
    assert t2.max_payment_failure_rate == Decimal("0.0800")
    assert t2.planned_redemption_rate == Decimal("0.25")


def _live(store, today, **overrides):
    return ms.campaign_activate(actor=ACTOR, campaign=an_approved_campaign(store, today, **overrides))


def _hour(campaign, *, issued, redeemed, attempts, failures, hours_ago=1):
    hour = timezone.now().replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=hours_ago)
    row = {
        "hour": hour,
        "coupons_issued": issued,
        "coupon_redemptions": redeemed,
        "payment_attempts": attempts,
        "payment_failures": failures,
    }
    ms.campaign_metrics_record(actor=ACTOR, campaign=campaign, rows=[row])


def test_promo_06_payment_failure_alert_uses_the_playbook_line_when_the_campaign_sets_none(store, today):
    # given a playbook line of 3% and a live campaign without its own line
    playbook_update(actor=ACTOR, store=store, values={"campaign_max_payment_failure_rate": "0.03"})
    campaign = _live(store, today, max_payment_failure_rate=None, planned_redemption_rate=None)
    # when the last hour failed 4 of 100 payments (below the old fixed 5%, above the playbook's 3%)
    _hour(campaign, issued=100, redeemed=50, attempts=100, failures=4)
    checks_run(rule="PROMO-06", store=store, notify=False)
    # then the alert is raised against the playbook's line
    finding = Finding.objects.get(rule_id="PROMO-06", subject_key=f"campaign:{campaign.pk}:payment_failures")
    assert finding.detail["threshold"] == "0.03"
    assert finding.detail["from_playbook"] is True
    assert "超过告警线 3.0%" in finding.title


def test_promo_06_campaign_override_beats_the_playbook(store, today):
    playbook_update(actor=ACTOR, store=store, values={"campaign_max_payment_failure_rate": "0.03"})
    campaign = _live(store, today, max_payment_failure_rate="0.05", planned_redemption_rate="0.10")
    _hour(campaign, issued=100, redeemed=50, attempts=100, failures=4)
    checks_run(rule="PROMO-06", store=store, notify=False)
    assert not Finding.objects.filter(rule_id="PROMO-06").exists()


def test_promo_06_live_campaign_without_figures_for_longer_than_the_interval_raises_a_finding(store, today):
    # given a live campaign whose latest figures cover the hour that ended 2 hours ago
    playbook_update(actor=ACTOR, store=store, values={"campaign_monitor_minutes": 60})
    campaign = _live(store, today - dt.timedelta(days=1), planned_redemption_rate="0")
    _hour(campaign, issued=10, redeemed=5, attempts=10, failures=0, hours_ago=3)
    # when the hourly check runs
    checks_run(rule="PROMO-06", store=store, notify=False)
    # then the missing figures are flagged (more than 60 minutes past the hour they cover)
    finding = Finding.objects.get(rule_id="PROMO-06", subject_key=f"campaign:{campaign.pk}:figures_missing")
    assert finding.detail["interval_minutes"] == 60
    # and once this hour's figures are in, the finding resolves
    _hour(campaign, issued=10, redeemed=5, attempts=10, failures=0, hours_ago=1)
    checks_run(rule="PROMO-06", store=store, notify=False)
    finding.refresh_from_db()
    assert finding.status == "resolved"


def test_promo_06_a_longer_monitoring_interval_tolerates_the_gap(store, today):
    playbook_update(actor=ACTOR, store=store, values={"campaign_monitor_minutes": 240})
    campaign = _live(store, today - dt.timedelta(days=1), planned_redemption_rate="0")
    _hour(campaign, issued=10, redeemed=5, attempts=10, failures=0, hours_ago=3)
    checks_run(rule="PROMO-06", store=store, notify=False)
    assert not Finding.objects.filter(rule_id="PROMO-06").exists()


def test_promo_08_cash_reserve_uses_the_playbook_refund_rate_when_the_campaign_sets_none(store, today):
    # given a playbook expecting 20% refunds and a 100,000 GMV target with a 10,000 budget
    playbook_update(actor=ACTOR, store=store, values={"campaign_expected_refund_rate": "0.20"})
    campaign = a_campaign(store, today + dt.timedelta(days=10), expected_refund_rate=None)
    # then the reserve is 100,000 × 20% + 10,000 = 30,000
    reserve = selectors.campaign_cash_reserve(campaign)
    assert reserve.refund_rate == Decimal("0.20")
    assert reserve.total.amount == Decimal("30000.00")
