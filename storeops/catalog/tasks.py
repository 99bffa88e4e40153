"""Scheduled catalog jobs (huey): scheduled listing/delisting (LIST-06), the re-scan of
live copy when a banned-word list changes (LIST-02) and the nightly price band tags (SEL-04).
Idempotent; they call services."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from storeops.catalog.services import listings_run_due, price_bands_refresh
from storeops.core.context import Actor
from storeops.sop.services import checks_run
from storeops.stores.selectors import store_get, store_list


@db_periodic_task(crontab(minute="*"))  # type: ignore[untyped-decorator]
@lock_task("list-06-scheduled-listings")  # type: ignore[untyped-decorator]
def run_scheduled_listings() -> tuple[int, int, int]:
    """Every minute: list / delist what is due. Returns (listed, delisted, held); a held
    listing waits for a valid qualification (STORE-02 finding)."""
    run = listings_run_due()
    return run.listed, run.delisted, run.held


@db_task()  # type: ignore[untyped-decorator]
def scan_live_copy(store_id: int) -> int:
    """Re-check the live copy of one store against its (changed) banned-word list."""
    store = store_get(store_id=store_id)
    if store is None:
        return 0
    return sum(r.raised for r in checks_run(rule="LIST-02", store=store))


@db_periodic_task(crontab(minute="20", hour="3"))  # type: ignore[untyped-decorator]
@lock_task("sel-04-price-bands")  # type: ignore[untyped-decorator]
def refresh_price_bands() -> int:
    """Nightly at 03:20 (before the 03:40 recommendation rebuild): put every product in the
    price band of its lowest active SKU price, for stores with price band edges. Prices and
    SKUs changed through StoreOps are re-banded at once; this catches the admin's edits."""
    return sum(price_bands_refresh(actor=Actor.system("task"), store=store) for store in store_list())
