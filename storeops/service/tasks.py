"""Scheduled customer-service work (huey), each an idempotent sweep:

* every 15 minutes: send the review invitations that are due (LOG-02);
* Mondays 06:30: store last week's complaint root-cause report for every store (CS-04).

The SLA checks (CS-01/02) run with the SOP checks (``sop.tasks``, every 5 minutes).
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from storeops.core.context import Actor
from storeops.service import services


@db_periodic_task(crontab(minute="*/15"))
@lock_task("service-review-invitations")
def review_invitations_sweep() -> dict[str, int]:
    result = services.review_invitations_send(actor=Actor.system())
    return {"sent": result.sent, "failed": result.failed, "not_due": result.not_due}


@db_periodic_task(crontab(day_of_week="1", hour="6", minute="30"))
@lock_task("service-weekly-report")
def complaint_report_weekly() -> int:
    return len(services.reports_generate_weekly(actor=Actor.system()))
