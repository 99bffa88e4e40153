"""MEM-03: the month's tier coupons must be issued by the playbook's deadline (the issue day
plus ``tier_coupon_deadline_hours``). MEM-05: the active referral coupon templates must be
worth at least the playbook's customer acquisition cost. MEM-01: every member whose birthday
was known gets their birthday gift by the birthday, and members with birthdays have a gift to
get."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext_noop

from storeops.accounts.roles import Role
from storeops.members import rules, selectors
from storeops.sop.registry import CheckContext, FindingDraft, Schedule, Severity, register_check, titled


@register_check(rule="MEM-03", title="会员月度券发放", owner_role=Role.OPERATIONS, schedule=Schedule.HOURLY)
def tier_coupons_check(ctx: CheckContext) -> Iterator[FindingDraft]:
    """After the deadline, members who joined before the issue day and were not reached this
    month, and members whose tier has active monthly templates but got none, are a finding."""
    book = ctx.playbook
    moment = selectors.issue_moment(ctx.now, book.tier_coupon_day)
    deadline = moment + dt.timedelta(hours=book.tier_coupon_deadline_hours)
    if ctx.now < deadline:
        return
    month = selectors.month_key(ctx.now)
    missing = selectors.members_due_tier_coupons(store=ctx.store, month=month, joined_before=moment).count()
    tiers = {
        t.tier for t in selectors.active_templates_of_rule(store=ctx.store, rule=selectors.MONTHLY_TIER_RULE)
    }
    empty = selectors.grants_without_coupons(store=ctx.store, month=month, tiers=tiers) if tiers else 0
    if missing or empty:
        yield FindingDraft(
            subject_key=f"tier-coupons:{month}",
            subject_type="members.month",
            subject_id=month,
            **titled(
                gettext_noop("%(month)s 会员月度券未按时发放：%(n)s 位会员未发放，%(m)s 位未领到券"),
                month=month,
                n=missing,
                m=empty,
            ),
            severity=Severity.WARNING,
            detail={
                "month": month,
                "deadline": deadline.isoformat(),
                "members_not_reached": missing,
                "members_without_coupons": empty,
                "tiers_with_templates": sorted(tiers),
            },
        )


@register_check(rule="MEM-05", title="邀请有礼券面额", owner_role=Role.MARKETING, schedule=Schedule.DAILY)
def referral_value_check(ctx: CheckContext) -> Iterator[FindingDraft]:
    """Each side of a referral gets every active ``referral`` template; their face values
    together must reach the acquisition cost (0 = not set: nothing to compare)."""
    cost: Decimal = ctx.playbook.referral_acquisition_cost
    if cost <= 0:
        return
    templates = selectors.active_templates_of_rule(store=ctx.store, rule=selectors.REFERRAL_RULE)
    worth = sum((t.amount for t in templates), Decimal(0))
    if worth < cost:
        yield FindingDraft(
            subject_key="referral-coupons",
            subject_type="members.referral",
            subject_id="referral",
            **titled(
                gettext_noop("邀请有礼券合计面额 %(worth)s 元，低于获客成本 %(cost)s 元"),
                worth=f"{worth:.2f}",
                cost=f"{cost:.2f}",
            ),
            severity=Severity.WARNING,
            detail={
                "worth": f"{worth:.2f}",
                "acquisition_cost": f"{cost:.2f}",
                "templates": [{"id": t.id, "name": t.name, "amount": str(t.amount)} for t in templates],
            },
        )


@register_check(rule="MEM-01", title="会员生日礼", owner_role=Role.OPERATIONS, schedule=Schedule.DAILY)
def birthday_gifts_check(ctx: CheckContext) -> Iterator[FindingDraft]:
    """Members whose birthday passed in the last ``birthday_missed_lookback_days`` (7) without
    their gift (their birthday was known before the gift window opened) are a finding; so is a
    store whose members tell their birthdays but which has no active birthday coupon template
    (nothing to give)."""
    book = ctx.playbook
    today = timezone.localdate(ctx.now)
    missed = selectors.members_missed_birthday_gift(
        store=ctx.store,
        missed=rules.birthdays_missed(today, days=book.birthday_missed_lookback_days),
        days_before=book.birthday_gift_days_before,
    )
    if missed:
        yield FindingDraft(
            subject_key="birthday-gifts:missed",
            subject_type="members.birthday",
            subject_id="missed",
            **titled(
                gettext_noop("%(n)s 位会员生日已过但未收到生日礼"),
                n=len(missed),
            ),
            severity=Severity.WARNING,
            detail={
                "members": [
                    {"id": m.pk, "customer": m.customer_ref, "birthday": day.isoformat()}
                    for m, day in missed[:50]
                ],
                "total": len(missed),
            },
        )
    templates = selectors.active_templates_of_rule(store=ctx.store, rule=selectors.BIRTHDAY_RULE)
    if not templates and selectors.birthdays_in_month(store=ctx.store, month=today.month):
        yield FindingDraft(
            subject_key="birthday-gifts:no-template",
            subject_type="members.birthday",
            subject_id="templates",
            **titled(gettext_noop("本月有会员生日，但没有启用的生日礼优惠券模板")),
            severity=Severity.INFO,
            detail={"month": today.month},
        )
