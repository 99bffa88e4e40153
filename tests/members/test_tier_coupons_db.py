"""SOP MEM-03: tier coupons issued automatically on the 1st of each month (idempotent per
month, through promotions.coupon_issue_by_rule), and the check that raises a finding when
the month's coupons were not issued by the playbook's deadline."""

from __future__ import annotations

import datetime as dt

import pytest

from storeops.members import services
from storeops.members.models import TierCouponGrant
from storeops.promotions import services as promo
from storeops.promotions.models import IssuedCoupon
from storeops.sop.models import Finding
from storeops.sop.services import checks_run
from storeops.stores import services as store_services
from tests.members.builders import ACTOR, a_member, a_template

pytestmark = pytest.mark.django_db

# local (UTC+8) times: Dec 1 00:30, Dec 2 01:00, Jan 1 00:30
DEC_1 = dt.datetime(2026, 11, 30, 16, 30, tzinfo=dt.UTC)
DEC_2 = dt.datetime(2026, 12, 1, 17, 0, tzinfo=dt.UTC)
JAN_1 = dt.datetime(2026, 12, 31, 16, 30, tzinfo=dt.UTC)
BEFORE = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)


def _gold(member):
    services.points_adjust(
        actor=ACTOR, member=member, points=1, growth=200_000, reason="迁移", unlimited=True
    )
    store_services.playbook_update(actor=ACTOR, store=member.store, values={"tier_gold_min_orders": 0})
    services.tiers_recompute(actor=ACTOR, store=member.store)


def test_mem_03_tier_coupons_are_issued_on_the_first_of_the_month_per_tier(store):
    # given a silver and a gold member and a monthly template for each tier
    silver = a_member(store, "s1", joined=BEFORE)
    gold = a_member(store, "g1", joined=BEFORE)
    _gold(gold)
    a_template(store, rule="monthly_tier", tier="silver", amount="5", per_user=99)
    a_template(store, rule="monthly_tier", tier="gold", amount="20", per_user=99)
    # when December 1 comes, each member gets their tier's coupon
    run = services.tier_coupons_issue(actor=ACTOR, store=store, now=DEC_1)
    # then
    assert (run.month, run.members, run.coupons) == ("2026-12", 2, 2)
    amounts = {
        c.customer_ref: str(c.template.amount) for c in IssuedCoupon.objects.select_related("template")
    }
    assert amounts == {"s1": "5.00", "g1": "20.00"}
    assert IssuedCoupon.objects.get(customer_ref="s1").issue_key == "2026-12"
    assert TierCouponGrant.objects.get(member=silver).tier == "silver"


def test_mem_03_rerun_in_the_same_month_issues_nothing_and_next_month_issues_again(store):
    a_member(store, "s1", joined=BEFORE)
    a_template(store, rule="monthly_tier", tier="silver", amount="5", per_user=99)
    services.tier_coupons_issue(actor=ACTOR, store=store, now=DEC_1)
    again = services.tier_coupons_issue(actor=ACTOR, store=store, now=DEC_2)
    assert (again.members, again.coupons) == (0, 0)
    january = services.tier_coupons_issue(actor=ACTOR, store=store, now=JAN_1)
    assert (january.month, january.coupons) == ("2027-01", 1)
    assert IssuedCoupon.objects.filter(customer_ref="s1").count() == 2


def test_mem_03_members_joining_after_the_issue_day_wait_for_next_month(store):
    a_member(store, "new", joined=DEC_1)
    a_template(store, rule="monthly_tier", tier="silver", amount="5", per_user=99)
    assert services.tier_coupons_issue(actor=ACTOR, store=store, now=DEC_2).members == 0


def test_mem_03_check_raises_a_finding_after_the_deadline_and_resolves_once_issued(store):
    # given a member and a silver template, and no run on December 1
    a_member(store, "s1", joined=BEFORE)
    a_template(store, rule="monthly_tier", tier="silver", amount="5", per_user=99)
    # when the check runs before the deadline (Dec 1 + 24 h), then nothing
    checks_run(rule="MEM-03", store=store, now=DEC_1, notify=False)
    assert not Finding.objects.filter(rule_id="MEM-03").exists()
    # when it runs after the deadline, then one finding for the month
    checks_run(rule="MEM-03", store=store, now=DEC_2, notify=False)
    finding = Finding.objects.get(rule_id="MEM-03")
    assert finding.subject_key == "tier-coupons:2026-12"
    assert finding.detail["members_not_reached"] == 1
    # when the coupons are issued late, then the finding resolves itself
    services.tier_coupons_issue(actor=ACTOR, store=store, now=DEC_2)
    checks_run(rule="MEM-03", store=store, now=DEC_2 + dt.timedelta(hours=1), notify=False)
    finding.refresh_from_db()
    assert finding.status == "resolved"


def test_mem_03_check_flags_members_whose_tier_coupons_were_refused(store):
    # given a silver template of 1 copy in all: November used it up
    a_member(store, "s1", joined=BEFORE)
    promo.coupon_template_create(
        actor=ACTOR,
        store=store,
        name="银卡月券",
        kind="no_threshold",
        amount="5",
        issue_rule="monthly_tier",
        tier="silver",
        total_quantity=1,
    )
    services.tier_coupons_issue(actor=ACTOR, store=store, now=dt.datetime(2026, 11, 1, 1, tzinfo=dt.UTC))
    # when December's run reaches the member but the template refuses a second copy
    run = services.tier_coupons_issue(actor=ACTOR, store=store, now=DEC_1)
    assert (run.members, run.coupons) == (1, 0)
    # then the check reports the member who got nothing
    checks_run(rule="MEM-03", store=store, now=DEC_2, notify=False)
    assert Finding.objects.get(rule_id="MEM-03").detail["members_without_coupons"] == 1


def test_mem_03_issue_day_and_deadline_are_playbook_settings(store):
    store_services.playbook_update(
        actor=ACTOR, store=store, values={"tier_coupon_day": 2, "tier_coupon_deadline_hours": 48}
    )
    a_member(store, "s1", joined=BEFORE)
    a_template(store, rule="monthly_tier", tier="silver", amount="5", per_user=99)
    assert services.tier_coupons_issue(actor=ACTOR, store=store, now=DEC_1).not_due
    checks_run(rule="MEM-03", store=store, now=DEC_2 + dt.timedelta(hours=20), notify=False)
    assert not Finding.objects.filter(rule_id="MEM-03").exists()  # deadline: Dec 4 00:00


def test_mem_03_a_monthly_templates_per_customer_limit_counts_per_month(store):
    # given the default limit of one per customer on a monthly template
    a_member(store, "s1", joined=BEFORE)
    a_template(store, rule="monthly_tier", tier="silver", amount="5", per_user=1)
    # then each month issues it again (the limit is not one ever)
    assert services.tier_coupons_issue(actor=ACTOR, store=store, now=DEC_1).coupons == 1
    assert services.tier_coupons_issue(actor=ACTOR, store=store, now=JAN_1).coupons == 1
    assert IssuedCoupon.objects.filter(customer_ref="s1").count() == 2


def test_mem_03_a_run_that_loses_the_race_for_a_member_keeps_none_of_its_coupons(store, monkeypatch):
    # given a member due their tier coupon, and a concurrent run that saves the member's grant
    # between this run's issuing and its own grant (simulated inside the issuing call)
    member = a_member(store, "s1", joined=BEFORE)
    a_template(store, rule="monthly_tier", tier="silver", amount="5", per_user=99)
    issue = services.promo_services.coupon_issue_by_rule

    def issue_then_lose(**kwargs):
        issued = issue(**kwargs)
        TierCouponGrant.objects.create(member=member, month="2026-12", tier=member.tier, issued_at=DEC_1)
        return issued

    monkeypatch.setattr(services.promo_services, "coupon_issue_by_rule", issue_then_lose)
    # when this run reaches the member
    run = services.tier_coupons_issue(actor=ACTOR, store=store, now=DEC_1)
    # then the member counts as the other run's: this run's coupon is rolled back
    assert (run.members, run.coupons) == (0, 0)
    assert not IssuedCoupon.objects.filter(customer_ref="s1").exists()
