"""Scheduled member work (huey), each an idempotent sweep that calls services:

* every 15 minutes: credit points and growth value for orders paid in the last two days and
  take back the share of their refunds, give back the points of goods redemptions whose
  order was cancelled or closed, then issue due referral coupons (MEM-02, MEM-05);
* daily 03:40: the same over all orders (catches anything older) and re-tier every member
  after threshold changes (MEM-01/02);
* daily 00:20: the month's tier coupons, from the playbook's issue day on (MEM-03);
* daily 00:25: birthday gifts of members whose birthday is within the playbook's days ahead
  (MEM-01).
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from storeops.core.context import Actor
from storeops.members import services

RECENT = dt.timedelta(days=2)  # overlap of the frequent sync; re-reading is harmless (idempotent)


@db_periodic_task(crontab(minute="*/15"))  # type: ignore[untyped-decorator]
@lock_task("mem-02-points-sync")  # type: ignore[untyped-decorator]
def points_sync_recent() -> dict[str, int]:
    result = services.points_sync_all(actor=Actor.system("task"), since=timezone.now() - RECENT)
    return {
        "earned": result.earned,
        "reversed": result.reversed,
        "restored": result.restored,
        "rewarded": result.rewarded,
    }


@db_periodic_task(crontab(minute="40", hour="3"))  # type: ignore[untyped-decorator]
@lock_task("mem-02-points-sync")  # type: ignore[untyped-decorator]
def points_sync_full() -> dict[str, int]:
    actor = Actor.system("task")
    result = services.points_sync_all(actor=actor)
    return {
        "earned": result.earned,
        "reversed": result.reversed,
        "restored": result.restored,
        "rewarded": result.rewarded,
        "tier_changes": services.tiers_recompute_all(actor=actor),
    }


@db_periodic_task(crontab(minute="20", hour="0"))  # type: ignore[untyped-decorator]
@lock_task("mem-03-tier-coupons")  # type: ignore[untyped-decorator]
def tier_coupons_monthly() -> int:
    return services.tier_coupons_issue_all(actor=Actor.system("task"))


@db_periodic_task(crontab(minute="25", hour="0"))  # type: ignore[untyped-decorator]
@lock_task("mem-01-birthday-gifts")  # type: ignore[untyped-decorator]
def birthday_gifts_daily() -> int:
    return services.birthday_gifts_issue_all(actor=Actor.system("task"))
