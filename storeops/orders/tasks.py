"""Scheduled order work (huey), each an idempotent sweep (ORD-01, ORD-06):

* every minute: time out pending payments, close unpaid orders (stock and coupons back; a
  presale order whose balance window ended too), remind presale customers of their balance,
  fail group-buy groups past their deadline (their orders cancelled and refunded),
  auto-review paid orders, move orders whose parcels were signed for to delivered;
* daily: complete delivered orders whose return window has passed.

Marketplace order imports too big to write in the request are queued here
(:func:`order_import_task`); the minute sweep re-queues one the queue lost and fails one whose
worker stopped (``imports.imports_sweep``).
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from storeops.orders import groups, imports, services


@db_periodic_task(crontab(minute="*"))
@lock_task("orders-sweep")
def orders_sweep() -> dict[str, int]:
    return {
        "payments_expired": services.payments_expire(),
        "closed": len(services.orders_close_unpaid()),
        "balance_reminders": services.presale_balance_reminders(),
        "group_orders_cancelled": groups.groups_expire(),
        "reviewed": services.orders_review_pending(),
        "delivered": services.orders_sync_deliveries(),
        **imports.imports_sweep(),
    }


@db_task()
def order_import_task(import_id: int) -> str:
    """Write a queued marketplace order import (saved file, batches); returns its final status."""
    record = imports.order_import_run(import_id=import_id)
    return record.status if record is not None else "missing"


@db_periodic_task(crontab(minute="40", hour="3"))
@lock_task("orders-complete")
def orders_complete_daily() -> int:
    return services.orders_complete()
