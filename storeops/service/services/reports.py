"""Stored complaint root-cause reports (CS-04): on demand and weekly."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from storeops.audit.services import audit_record
from storeops.core.context import Actor
from storeops.core.errors import ValidationError
from storeops.service.models import ComplaintReport
from storeops.service.selectors import complaint_report
from storeops.stores.models import Store
from storeops.stores.selectors import store_list

# ---- CS-04: stored reports ------------------------------------------------------------------------


def report_generate(*, actor: Actor, store: Store, start: dt.datetime, end: dt.datetime) -> ComplaintReport:
    """Compute and store the root-cause report of ``[start, end)``; generating the same period
    again replaces it (the weekly task may run twice)."""
    if end <= start:
        raise ValidationError(_("结束时间必须晚于开始时间"), fields={"end": _("结束时间必须晚于开始时间")})
    data = complaint_report(store=store, start=start, end=end)
    with transaction.atomic():
        row, created = ComplaintReport.objects.select_for_update().get_or_create(
            store=store, period_start=start, period_end=end, defaults={"data": data}
        )
        if not created:
            row.data = data
            row.generated_at = timezone.now()
            row.save(update_fields=["data", "generated_at"])
        audit_record(
            actor=actor,
            action="complaint_report.generate",
            obj=row,
            store_id=store.pk,
            after={"start": start, "end": end, "total": data["total"]},
        )
    return row


def reports_generate_weekly(*, actor: Actor, now: dt.datetime | None = None) -> list[ComplaintReport]:
    """Last week's report (Monday 00:00 to Monday 00:00, local time) for every active store."""
    today = timezone.localdate(now or timezone.now())
    monday = today - dt.timedelta(days=today.weekday())
    tz = timezone.get_current_timezone()
    end = dt.datetime.combine(monday, dt.time.min, tzinfo=tz)
    start = end - dt.timedelta(days=7)
    return [report_generate(actor=actor, store=s, start=start, end=end) for s in store_list()]
