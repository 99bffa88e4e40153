"""Scheduled SOP checks (huey). Idempotent: a run only re-reports the current state."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from storeops.sop.registry import Schedule
from storeops.sop.services import checks_run


@db_periodic_task(crontab(minute="*/5"))
@lock_task("sop-frequent")
def run_frequent_checks() -> int:
    return len(checks_run(schedule=Schedule.FREQUENT))


@db_periodic_task(crontab(minute="7"))
@lock_task("sop-hourly")
def run_hourly_checks() -> int:
    return len(checks_run(schedule=Schedule.HOURLY))


@db_periodic_task(crontab(hour="6", minute="0"))
@lock_task("sop-daily")
def run_daily_checks() -> int:
    """Daily checks run early in the morning, before the daily operations report."""
    return len(checks_run(schedule=Schedule.DAILY))
