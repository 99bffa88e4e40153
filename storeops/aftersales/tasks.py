"""Scheduled after-sales work (huey): retry refunds the payment provider refused (AS-02).
The refund-SLA findings themselves come from the sop check schedule."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from storeops.aftersales import services


@db_periodic_task(crontab(minute="*/10"))
@lock_task("aftersales-refunds")
def aftersales_refund_sweep() -> int:
    return services.cases_refund_pending()
