"""Campaign plans, the approval chain, monitoring, post-mortems and the cash reserve
(SOP PROMO-05..08) through the services, checks and API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from storeops.accounts.roles import Role
from storeops.audit.models import AuditEntry
from storeops.core.context import Actor
from storeops.core.errors import InvalidTransition, PermissionDenied, ValidationError
from storeops.marketing import exports, selectors
from storeops.marketing import services as ms
from storeops.promotions import services as offer_services
from storeops.sop.models import Finding
from storeops.sop.services import checks_run
from tests.marketing.builders import ACTOR, a_campaign, an_approved_campaign

pytestmark = pytest.mark.django_db


def _as(make_user, role):
    return Actor(user=make_user(role))


def test_promo_05_plan_is_saved_with_phases_budget_targets_and_offers(store, today):
    # given two offers of the store
    offers = [
        offer_services.offer_create(
            actor=ACTOR, store=store, kind="percentage", title_zh=t, params={"rate": "0.9"}
        )
        for t in ("九折", "会员九折")
    ]
    # when a plan with three phases, three budget lines and both offers is created
    campaign = a_campaign(store, today + dt.timedelta(days=10), offer_ids=[offers[1].pk, offers[0].pk])
    # then it is a draft with everything attached, and the creation is logged
    assert campaign.status == "draft"
    assert [p.kind for p in campaign.phases.order_by("starts_on")] == ["preheat", "burst", "return"]
    planned, actual = selectors.campaign_budget(campaign)
    assert (planned.amount, actual.amount) == (Decimal("10000.00"), Decimal("0.00"))
    assert sorted(o.pk for o in campaign.offers.all()) == sorted(o.pk for o in offers)
    entry = AuditEntry.objects.get(action="campaign.create", object_id=str(campaign.pk))
    assert entry.after["offers"] == sorted(o.pk for o in offers)


def test_promo_05_unknown_offer_is_refused(store, today):
    with pytest.raises(ValidationError) as exc:
        a_campaign(store, today + dt.timedelta(days=10), offer_ids=[999])
    assert exc.value.fields == {"offer_ids": "优惠不存在：999"}


def test_promo_05_phase_outside_the_campaign_dates_is_refused(store, today):
    start = today + dt.timedelta(days=10)
    with pytest.raises(ValidationError) as exc:
        a_campaign(
            store,
            start,
            phases=[{"kind": "preheat", "starts_on": start - dt.timedelta(days=1), "ends_on": start}],
        )
    assert "phases.0" in exc.value.fields


def test_promo_05_approval_chain_runs_operations_then_marketing_then_finance(store, today, make_user):
    # given a submitted plan
    campaign = a_campaign(store, today + dt.timedelta(days=10))
    ms.campaign_submit(actor=ACTOR, campaign=campaign)
    # when operations, marketing and finance approve in turn
    c = ms.campaign_decide(actor=_as(make_user, Role.OPERATIONS), campaign=campaign, approve=True)
    assert c.status == "pending_marketing"
    c = ms.campaign_decide(actor=_as(make_user, Role.MARKETING), campaign=c, approve=True)
    assert c.status == "pending_finance"
    c = ms.campaign_decide(actor=_as(make_user, Role.FINANCE), campaign=c, approve=True, comment="预算可控")
    # then it is approved, the timeline shows each step and the log has each decision
    assert c.status == "approved"
    assert c.approved_at is not None
    assert [(a.step, a.decision, a.actor_label) for a in c.approvals.all()] == [
        ("", "submitted", "system"),
        ("operations", "approved", "u_operations"),
        ("marketing", "approved", "u_marketing"),
        ("finance", "approved", "u_finance"),
    ]
    assert AuditEntry.objects.filter(object_id=str(c.pk), action="campaign.approve").count() == 3


@pytest.mark.parametrize("role", [Role.MARKETING, Role.FINANCE, Role.WAREHOUSE])
def test_promo_05_only_the_operations_lead_approves_the_first_step(store, today, make_user, role):
    # given a plan waiting for the operations step
    campaign = a_campaign(store, today + dt.timedelta(days=10))
    ms.campaign_submit(actor=ACTOR, campaign=campaign)
    # when another role tries to approve it, then it is refused and the plan still waits
    with pytest.raises(PermissionDenied):
        ms.campaign_decide(actor=_as(make_user, role), campaign=campaign, approve=True)
    campaign.refresh_from_db()
    assert campaign.status == "pending_operations"


def test_promo_05_reject_returns_the_plan_to_draft_with_the_comment(store, today, make_user):
    # given a plan approved by operations, waiting for marketing
    campaign = a_campaign(store, today + dt.timedelta(days=10))
    ms.campaign_submit(actor=ACTOR, campaign=campaign)
    ms.campaign_decide(actor=_as(make_user, Role.OPERATIONS), campaign=campaign, approve=True)
    # when marketing rejects it
    c = ms.campaign_decide(
        actor=_as(make_user, Role.MARKETING), campaign=campaign, approve=False, comment="KOL预算过高"
    )
    # then it is a draft again with the comment on the timeline and in the log
    assert c.status == "draft"
    last = c.approvals.last()
    assert (last.step, last.decision, last.comment) == ("marketing", "rejected", "KOL预算过高")
    assert AuditEntry.objects.get(action="campaign.reject", object_id=str(c.pk)).note == "KOL预算过高"


def test_promo_05_reject_needs_a_comment(store, today, make_user):
    campaign = a_campaign(store, today + dt.timedelta(days=10))
    ms.campaign_submit(actor=ACTOR, campaign=campaign)
    with pytest.raises(ValidationError):
        ms.campaign_decide(actor=_as(make_user, Role.OPERATIONS), campaign=campaign, approve=False)


def test_promo_05_campaign_cannot_go_live_before_full_approval(store, today, make_user):
    # given a plan approved by operations and marketing only
    campaign = a_campaign(store, today + dt.timedelta(days=10))
    ms.campaign_submit(actor=ACTOR, campaign=campaign)
    ms.campaign_decide(actor=_as(make_user, Role.OPERATIONS), campaign=campaign, approve=True)
    ms.campaign_decide(actor=_as(make_user, Role.MARKETING), campaign=campaign, approve=True)
    # when it is activated, then it is refused with a clear message
    with pytest.raises(InvalidTransition) as exc:
        ms.campaign_activate(actor=ACTOR, campaign=campaign)
    assert str(exc.value.message) == "活动未完成审批（运营负责人 → 推广负责人 → 财务），不能上线"


def test_promo_05_approved_campaign_goes_live(store, today, owner):
    campaign = an_approved_campaign(store, today + dt.timedelta(days=10))
    assert ms.campaign_activate(actor=ACTOR, campaign=campaign).status == "active"


def test_promo_05_big_promotion_created_41_days_ahead_raises_a_finding(store, today):
    # given 11.11 created 41 days before it starts
    a_campaign(store, today + dt.timedelta(days=41), kind="big_promotion")
    # when the check runs
    checks_run(rule="PROMO-05", store=store, notify=False)
    # then one finding says it was planned too late
    finding = Finding.objects.get(rule_id="PROMO-05")
    assert finding.detail["reason"] == "created_late"
    assert finding.detail["plan_days"] == 45


def test_promo_05_big_promotion_planned_60_days_ahead_raises_nothing_yet(store, today):
    a_campaign(store, today + dt.timedelta(days=60), kind="big_promotion")
    a_campaign(store, today + dt.timedelta(days=5), theme="日常上新")  # regular campaigns are not slotted
    checks_run(rule="PROMO-05", store=store, notify=False)
    assert Finding.objects.filter(rule_id="PROMO-05").count() == 0


def test_promo_05_big_promotion_still_unapproved_45_days_before_raises_a_critical_finding(store, today):
    # given a big promotion created 60 days ahead, and the check run 15 days later, unapproved
    a_campaign(store, today + dt.timedelta(days=60), kind="big_promotion")
    later = timezone.now() + dt.timedelta(days=15)
    # when the check runs then
    checks_run(rule="PROMO-05", store=store, now=later, notify=False)
    finding = Finding.objects.get(rule_id="PROMO-05")
    assert (finding.detail["reason"], finding.severity) == ("not_approved", "critical")


def _metrics(campaign, hours):
    base = timezone.now().replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=len(hours))
    rows = [
        {
            "hour": base + dt.timedelta(hours=i),
            "coupons_issued": issued,
            "coupon_redemptions": redeemed,
            "payment_attempts": attempts,
            "payment_failures": failures,
            "orders": 10,
            "gmv": "1000.00",
            "new_users": 5,
        }
        for i, (issued, redeemed, attempts, failures) in enumerate(hours)
    ]
    return ms.campaign_metrics_record(actor=ACTOR, campaign=campaign, rows=rows).count


def test_promo_06_hourly_check_flags_low_redemption_and_payment_failures(store, today, owner):
    # given a live campaign planning 30% redemption and alerting above 5% payment failures
    campaign = ms.campaign_activate(actor=ACTOR, campaign=an_approved_campaign(store, today))
    # and two hours: 20 of 100 coupons redeemed; failures 1/100 then 9/100
    assert _metrics(campaign, [(50, 10, 100, 1), (50, 10, 100, 9)]) == 2
    # when the hourly check runs
    checks_run(rule="PROMO-06", store=store, notify=False)
    # then both alerts are open
    findings = {f.subject_key: f for f in Finding.objects.filter(rule_id="PROMO-06")}
    assert set(findings) == {f"campaign:{campaign.pk}:redemption", f"campaign:{campaign.pk}:payment_failures"}
    assert findings[f"campaign:{campaign.pk}:redemption"].detail["redemption_rate"] == "0.2"
    assert findings[f"campaign:{campaign.pk}:payment_failures"].detail["previous_failure_rate"] == "0.01"


def test_promo_06_healthy_campaign_raises_nothing(store, today, owner):
    campaign = ms.campaign_activate(actor=ACTOR, campaign=an_approved_campaign(store, today))
    _metrics(campaign, [(50, 20, 100, 1)])
    checks_run(rule="PROMO-06", store=store, notify=False)
    assert Finding.objects.filter(rule_id="PROMO-06").count() == 0


def test_promo_06_reimporting_an_hour_replaces_it(store, today, owner):
    campaign = a_campaign(store, today)
    _metrics(campaign, [(50, 20, 100, 1)])
    _metrics(campaign, [(60, 30, 100, 1)])
    assert [
        (m.coupons_issued, m.coupon_redemptions) for m in selectors.campaign_metrics(campaign=campaign)
    ] == [(60, 30)]


def test_promo_06_more_failures_than_attempts_is_refused(store, today):
    campaign = a_campaign(store, today)
    with pytest.raises(ValidationError) as exc:
        _metrics(campaign, [(0, 0, 5, 6)])
    assert "0.payment_failures" in exc.value.fields


def _ended(store, owner, ends_days_ago):
    start = timezone.localdate() - dt.timedelta(days=ends_days_ago + 2)
    campaign = ms.campaign_activate(actor=ACTOR, campaign=an_approved_campaign(store, start))
    return ms.campaign_end(actor=ACTOR, campaign=campaign)


def test_promo_07_postmortem_overdue_after_three_working_days_raises_a_finding(store, owner):
    # given a campaign that ended 10 days ago with no post-mortem
    campaign = _ended(store, owner, 10)
    # when the check runs, then the post-mortem is overdue
    checks_run(rule="PROMO-07", store=store, notify=False)
    assert Finding.objects.get(rule_id="PROMO-07").subject_key == f"campaign:{campaign.pk}:postmortem"
    # and generating the report resolves it on the next run
    ms.campaign_postmortem_generate(actor=ACTOR, campaign=campaign)
    checks_run(rule="PROMO-07", store=store, notify=False)
    assert Finding.objects.get(rule_id="PROMO-07").status == "resolved"


def test_promo_07_finding_title_is_rendered_in_each_readers_language(store, owner):
    from django.utils import translation

    campaign = _ended(store, owner, 10)
    checks_run(rule="PROMO-07", store=store, notify=False)
    finding = Finding.objects.get(rule_id="PROMO-07")
    with translation.override("zh-hans"):
        assert finding.display_title.startswith(f"活动「{campaign.theme}」")
        assert "复盘报告" in finding.display_title
    with translation.override("en"):
        assert campaign.theme in finding.display_title
        assert "复盘" not in finding.display_title
        assert "post-mortem" in finding.display_title.lower()


def test_promo_07_postmortem_not_yet_due_raises_nothing(store, owner):
    _ended(store, owner, 1)
    checks_run(rule="PROMO-07", store=store, notify=False)
    assert Finding.objects.filter(rule_id="PROMO-07").count() == 0


def test_promo_07_postmortem_reports_attainment_roi_budget_and_unavailable_sections(store, owner):
    # given an ended campaign with 3 hours of 1,000 GMV and 5 new users, and 2,000 spent on ads
    campaign = _ended(store, owner, 1)
    _metrics(campaign, [(10, 5, 10, 0)] * 1)
    ms.campaign_metrics_record(
        actor=ACTOR,
        campaign=campaign,
        rows=[
            {"hour": timezone.now() - dt.timedelta(hours=h), "gmv": "1000.00", "new_users": 5} for h in (5, 6)
        ],
    )
    ms.campaign_budget_actual_set(actor=ACTOR, campaign=campaign, kind="ads", actual="2000")
    # when the post-mortem is generated
    report = ms.campaign_postmortem_generate(actor=ACTOR, campaign=campaign).report
    # then it shows attainment, ROI = (3000 − 2000) ÷ 2000, budget used 2000 ÷ 10000
    assert report["gmv"] == "3000.00"
    assert report["gmv_attainment_pct"] == "3.0"
    assert report["new_users"] == 15
    assert report["new_users_attainment_pct"] == "3.0"
    assert report["roi"] == "0.50"
    assert report["budget_used_pct"] == "20.0"
    assert report["top_service_questions"] == []  # no tickets, no reviews: empty, not missing
    assert report["review_keywords"] == []
    assert (report["new_members"], report["new_members_pct"]) == (0, "0.0")
    assert report["unavailable"] == []


def test_promo_07_postmortem_counts_the_new_users_who_became_members_during_the_campaign(store, owner):
    from storeops.members import services as member_services

    # given a campaign with 15 new users, and customers who joined before, during and after it
    campaign = _ended(store, owner, 1)
    ms.campaign_metrics_record(
        actor=ACTOR,
        campaign=campaign,
        rows=[{"hour": timezone.now() - dt.timedelta(hours=30), "gmv": "100.00", "new_users": 15}],
    )
    tz = timezone.get_current_timezone()
    joins = {
        "before": dt.datetime.combine(campaign.starts_on, dt.time.min, tzinfo=tz) - dt.timedelta(seconds=1),
        "first-day": dt.datetime.combine(campaign.starts_on, dt.time.min, tzinfo=tz),
        "last-day": dt.datetime.combine(campaign.ends_on, dt.time(23, 59, 59), tzinfo=tz),
        "after": dt.datetime.combine(campaign.ends_on + dt.timedelta(days=1), dt.time.min, tzinfo=tz),
    }
    for ref, at in joins.items():
        member_services.member_join(actor=ACTOR, store=store, customer_ref=ref, now=at)

    # when
    report = ms.campaign_postmortem_generate(actor=ACTOR, campaign=campaign).report

    # then: 2 of the 15 new users moved into membership
    assert (report["new_members"], report["new_members_pct"]) == (2, "13.3")
    rows = {label: (value, plan) for label, value, plan, _money in exports.postmortem_rows(campaign, report)}
    assert rows["新用户转会员"] == (2, "占新用户 13.3%")


def test_promo_07_cs_04_postmortem_lists_the_customers_questions_and_review_keywords(store, channel, owner):
    from storeops.service import services as service_services
    from tests.service.builders import a_script, a_ticket

    campaign = _ended(store, owner, 1)
    tz = timezone.get_current_timezone()
    during = dt.datetime.combine(campaign.starts_on, dt.time(10), tzinfo=tz)
    before = during - dt.timedelta(days=3)
    a_script(store)  # 物流查询: 物流, 快递, 没动
    a_ticket(store, channel, opened=during)
    later = during + dt.timedelta(hours=1)
    a_ticket(store, channel, opened=later, subject="快递没动", message="快递一直没动")
    a_ticket(store, channel, opened=during, subject="发票", message="怎么开发票", category="other")
    a_ticket(store, channel, opened=before)  # before the campaign: not counted
    for i, (rating, text) in enumerate([(5, "质量好，物流快"), (4, "质量好")]):
        service_services.review_create(
            actor=ACTOR,
            store=store,
            channel=channel,
            order_ref=f"O-{i}",
            sku_code="S",
            customer_ref="c",
            rating=rating,
            text=text,
            created_at=during + dt.timedelta(days=1),
        )

    report = ms.campaign_postmortem_generate(actor=ACTOR, campaign=campaign).report

    assert report["top_service_questions"][0] == {"question": "物流查询", "count": 2, "share": "0.6667"}
    assert [q["question"] for q in report["top_service_questions"]] == ["物流查询", "发票"]
    assert report["review_keywords"][0] == {"keyword": "质量好", "count": 2, "avg_rating": "4.5"}
    rows = [str(r[0]) for r in exports.postmortem_rows(campaign, report)]
    assert "客服高频问题·物流查询" in rows
    assert "评价关键词·质量好" in rows


def test_promo_07_postmortem_of_a_running_campaign_is_refused(store, today, owner):
    campaign = ms.campaign_activate(actor=ACTOR, campaign=an_approved_campaign(store, today))
    with pytest.raises(InvalidTransition):
        ms.campaign_postmortem_generate(actor=ACTOR, campaign=campaign)


def test_promo_08_cash_reserve_of_a_campaign(store, today):
    # given a GMV target of 100,000, a 10% refund rate and a 10,000 budget
    campaign = a_campaign(store, today + dt.timedelta(days=50), kind="big_promotion")
    reserve = selectors.campaign_cash_reserve(selectors.campaign_get(store=store, campaign_id=campaign.pk))
    # then 10,000 expected refunds + 10,000 payouts
    assert (reserve.expected_refunds.amount, reserve.payouts.amount, reserve.total.amount) == (
        Decimal("10000.00"),
        Decimal("10000.00"),
        Decimal("20000.00"),
    )


def test_promo_05_api_approval_route_of_the_wrong_step_is_refused(store, today, api_as):
    # given a plan waiting for the operations step
    campaign = a_campaign(store, today + dt.timedelta(days=10))
    ms.campaign_submit(actor=ACTOR, campaign=campaign)
    # when the owner posts to the finance step
    response = api_as(Role.OWNER).post(
        f"/marketing/{store.pk}/campaigns/{campaign.pk}/approvals/finance", {"approve": True}
    )
    # then it is a conflict naming the step it waits for
    assert response.status_code == 409
    assert response.json()["message"] == "活动当前等待的审批环节是：运营负责人"


def test_promo_05_api_campaign_and_ad_plan_lists_are_paged_with_a_total(store, today, api_as):
    """Both lists page like every API list (they stopped silently at 500 rows, with no total)."""
    from tests.marketing.builders import an_ad_plan

    campaigns = [a_campaign(store, today + dt.timedelta(days=10 + i), theme=f"活动{i}") for i in range(3)]
    plans = [an_ad_plan(store, name=f"计划{i}") for i in range(3)]
    api = api_as(Role.MARKETING)
    for path, rows in (("campaigns", campaigns), ("ad-plans", plans)):
        first = api.get(f"/marketing/{store.pk}/{path}?page_size=2").json()
        second = api.get(f"/marketing/{store.pk}/{path}?page=2&page_size=2").json()
        assert (first["total"], len(first["items"]), len(second["items"])) == (3, 2, 1)
        assert {r["id"] for r in first["items"] + second["items"]} == {r.pk for r in rows}


def test_promo_07_check_console_and_api_give_the_same_due_date_by_the_channels_holidays(
    store, channel, make_user
):
    from django.test import Client

    from storeops.stores import services as st

    # given the channel's calendar: National Day 10-01..10-07 off, Saturday 10-10 worked (调休);
    # the store's own calendar knows no holidays
    st.playbook_update(
        actor=ACTOR,
        store=store,
        channel=channel,
        values={"holidays": "2026-10-01..2026-10-07", "makeup_workdays": "2026-09-27, 2026-10-10"},
    )
    start = dt.date(2026, 9, 28)
    campaign = an_approved_campaign(store, start, channel=channel)
    campaign = ms.campaign_end(actor=ACTOR, campaign=ms.campaign_activate(actor=ACTOR, campaign=campaign))
    assert campaign.ends_on == dt.date(2026, 9, 30)  # a Wednesday
    # then the due date is 10-08, 10-09, Saturday 10-10 (not Monday 10-05) everywhere
    assert selectors.postmortem_due_on(campaign) == dt.date(2026, 10, 10)
    client = Client()
    client.force_login(make_user(Role.MARKETING))
    api = client.get(f"/api/v1/marketing/{store.pk}/campaigns/{campaign.pk}/postmortem")
    assert api.status_code == 200, api.content
    assert api.json()["due_on"] == "2026-10-10"
    page = client.get(f"/marketing/campaigns/{campaign.pk}/postmortem/").content.decode()
    assert "应于此日前完成 2026-10-10" in page

    def run(day):
        at = timezone.make_aware(dt.datetime.combine(day, dt.time(9)))
        checks_run(rule="PROMO-07", store=store, now=at, notify=False)
        return Finding.objects.filter(rule_id="PROMO-07", status="open")

    assert not run(dt.date(2026, 10, 10)).exists()  # due today: not late yet
    finding = run(dt.date(2026, 10, 11)).get()
    assert finding.detail["due_on"] == "2026-10-10"
    assert "2026-10-10" in finding.title
