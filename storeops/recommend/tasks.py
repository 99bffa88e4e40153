"""Scheduled recommendation jobs (huey). Idempotent; they call services."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from storeops.core.context import Actor
from storeops.recommend.services import neighbours_rebuild
from storeops.stores.selectors import store_list


@db_periodic_task(crontab(minute="40", hour="3"))  # type: ignore[untyped-decorator]
@lock_task("rec-01-neighbours-rebuild")  # type: ignore[untyped-decorator]
def rebuild_neighbours() -> int:
    """Nightly at 03:40: rebuild every store's similar/complementary table (REC-01). A store
    whose rebuild fails keeps its current table (the failure is recorded on its build)."""
    done = 0
    for store in store_list():
        try:
            neighbours_rebuild(actor=Actor.system("task"), store=store)
        except Exception:  # noqa: S112  (recorded on the build; the other stores go on)
            continue
        done += 1
    return done
