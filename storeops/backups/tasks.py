"""Scheduled core jobs (huey): the daily database backup of SOP STORE-06."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from storeops.backups.services import backup_create, backup_keep, backup_prune
from storeops.core.context import Actor


@db_periodic_task(crontab(hour="2", minute="30"))  # type: ignore[untyped-decorator]  # huey is untyped
@lock_task("store-06-backup")  # type: ignore[untyped-decorator]
def backup_daily() -> str:
    """Back up the database, copy it off the machine (if configured), keep the newest
    :func:`backup_keep` (the playbook's ``backup_keep_days``, or ``STOREOPS_BACKUP_KEEP``). A
    failure raises, so huey logs it, and is in the audit log."""
    result = backup_create(actor=Actor.system("task"))
    backup_prune(keep=backup_keep())
    return result.dump_path.name
