"""Scheduled marketing work (huey): every hour at :03, before the hourly checks at :07, count
the hourly figures of the approved and live campaigns from StoreOps' own orders, payments and
coupons (PROMO-06). Idempotent: an hour already counted and settled is not counted again, a
missed run is caught up by the next one."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from storeops.core.context import Actor
from storeops.marketing.services import campaigns_metrics_count


@db_periodic_task(crontab(minute="3"))  # type: ignore[untyped-decorator]
@lock_task("promo-06-campaign-metrics")  # type: ignore[untyped-decorator]
def count_campaign_metrics() -> int:
    """Returns the campaign hours counted."""
    return campaigns_metrics_count(actor=Actor.system("task"))
