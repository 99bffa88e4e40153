"""Scheduled inventory work (huey): channel stock offers follow stock movements (INV-03); the
ABC classes are recomputed weekly (INV-04); the idempotency keys of API stock bookings are
forgotten after ``services.IDEMPOTENCY_KEEP_DAYS`` days (daily).

Every minute each store's offers are recomputed for the SKUs with ledger lines after the last
line the previous run saw (all SKUs on the first run, or after the cache lost the mark). Idempotent:
recomputing unchanged stock pushes nothing."""

from __future__ import annotations

from django.core.cache import cache
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from storeops.core.context import Actor
from storeops.inventory.abc_classes import abc_recompute
from storeops.inventory.selectors import skus_moved_since
from storeops.inventory.services import channel_stock_recompute, idempotency_purge
from storeops.stores.selectors import playbook_get, store_list


def channel_stock_sync() -> int:
    pushed = 0
    for store in store_list():
        key = f"inventory:channel-sync:{store.pk}"
        seen = cache.get(key)
        sku_ids, last = skus_moved_since(store=store, after_move_id=seen or 0)
        if seen is None or sku_ids:
            pushed += len(channel_stock_recompute(store=store, sku_ids=None if seen is None else sku_ids))
        cache.set(key, last, timeout=None)
    return pushed


@db_periodic_task(crontab(minute="*"))
@lock_task("inventory-channel-sync")
def run_channel_stock_sync() -> int:
    return channel_stock_sync()


def abc_recompute_all() -> dict[int, dict[str, int]]:
    """INV-04: recompute every store's ABC classes (idempotent: same sales, same classes)."""
    actor = Actor.system("task")
    today = timezone.localdate()
    return {
        store.pk: abc_recompute(actor=actor, store=store, playbook=playbook_get(store=store), today=today)
        for store in store_list()
    }


@db_periodic_task(crontab(day_of_week="1", hour="3", minute="15"))
@lock_task("inventory-abc-recompute")
def run_abc_recompute() -> dict[int, dict[str, int]]:
    return abc_recompute_all()


@db_periodic_task(crontab(hour="4", minute="40"))
@lock_task("inventory-idempotency-purge")
def run_idempotency_purge() -> int:
    return idempotency_purge()
