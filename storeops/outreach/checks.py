"""MEM-06: a campaign whose messages were not delivered (delivery rate below the playbook's
floor once the gateway had time to report) is a finding for marketing: the gateway, the
numbers bought or the template (e.g. blocked words) need a look."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.utils.translation import gettext_noop

from storeops.accounts.roles import Role
from storeops.outreach import selectors
from storeops.sop.registry import CheckContext, FindingDraft, Schedule, Severity, register_check, titled


@register_check(rule="MEM-06", title="触达送达率", owner_role=Role.MARKETING, schedule=Schedule.HOURLY)
def delivery_rate_check(ctx: CheckContext) -> Iterator[FindingDraft]:
    book = ctx.playbook
    until = ctx.now - dt.timedelta(hours=book.outreach_receipt_hours)
    since = until - dt.timedelta(days=7)
    campaigns = list(selectors.campaigns_sent_between(ctx.store, since=since, until=until))
    all_stats = selectors.campaigns_stats(campaigns)
    for campaign in campaigns:
        stats = all_stats[campaign.pk]
        rate = stats.delivery_rate
        if rate is None or rate >= book.outreach_min_delivery_rate:
            continue
        yield FindingDraft(
            subject_key=f"campaign:{campaign.pk}",
            subject_type="outreach.campaign",
            subject_id=str(campaign.pk),
            **titled(
                gettext_noop("触达活动「%(name)s」送达率 %(rate)s，低于 %(floor)s"),
                name=campaign.name,
                rate=f"{rate:.0%}",
                floor=f"{book.outreach_min_delivery_rate:.0%}",
            ),
            severity=Severity.WARNING,
            detail={
                "sent": stats.sent,
                "delivered": stats.delivered,
                "failed": stats.failed,
                "delivery_rate": str(rate),
            },
        )
