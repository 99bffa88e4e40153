"""Scheduled promotion jobs (huey). Idempotent; they call services."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from storeops.core.context import Actor
from storeops.promotions.flash_counters import flash_counters_reconcile
from storeops.promotions.services import coupons_expire


@db_periodic_task(crontab(minute="10", hour="0"))  # type: ignore[untyped-decorator]
@lock_task("promo-02-coupon-expiry")  # type: ignore[untyped-decorator]
def expire_coupons() -> int:
    """Daily at 00:10: mark issued coupons past their validity as expired (PROMO-02)."""
    return coupons_expire(actor=Actor.system("task"))


@db_periodic_task(crontab(minute="*"))  # type: ignore[untyped-decorator]
@lock_task("promo-01-flash-counters")  # type: ignore[untyped-decorator]
def reconcile_flash_counters() -> int:
    """Every minute: set the Redis counter of each live flash sale to the database's figure
    (PROMO-01; nothing without Redis). Returns the counters corrected."""
    return flash_counters_reconcile().corrected
