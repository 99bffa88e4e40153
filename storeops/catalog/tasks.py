"""Scheduled catalog jobs (huey): scheduled listing/delisting (LIST-06) and the re-scan of
live copy when a banned-word list changes (LIST-02). Idempotent; they call services."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from storeops.catalog.services import listings_run_due
from storeops.sop.services import checks_run
from storeops.stores.selectors import store_get


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
