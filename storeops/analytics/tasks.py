"""Scheduled analytics jobs (huey). Idempotent sweeps that call services.

* MEM-04: every morning at 05:30 (before the daily checks at 06:00 and the daily report), the
  segment snapshot of yesterday for every active store.
* DATA-06: every hour at :20, each store's reports whose time has come (from the playbook's
  ``report_daily_hour``, local time) and that do not exist yet — yesterday's daily report and
  the reviews of the last complete week, month and quarter — are generated and sent.
"""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from storeops.analytics import services
from storeops.core.context import Actor
from storeops.stores.selectors import store_list

log = logging.getLogger("storeops.analytics")


@db_periodic_task(crontab(minute="30", hour="5"))  # type: ignore[untyped-decorator]
@lock_task("mem-04-segment-snapshot")  # type: ignore[untyped-decorator]
def snapshot_segments() -> int:
    done = 0
    for store in store_list():
        try:
            services.segments_snapshot(actor=Actor.system("task"), store=store)
            done += 1
        except Exception:  # one store's failure must not stop the others
            log.exception("segment snapshot failed for store %s", store.pk)
    return done


@db_periodic_task(crontab(minute="20"))  # type: ignore[untyped-decorator]
@lock_task("data-06-reports")  # type: ignore[untyped-decorator]
def generate_due_reports() -> int:
    made = 0
    for store in store_list():
        try:
            made += len(services.reports_due(store=store))
        except Exception:
            log.exception("operations reports failed for store %s", store.pk)
    return made
