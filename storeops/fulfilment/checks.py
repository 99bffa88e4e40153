"""SOP checks of logistics: parcels needing follow-up with the carrier (LOG-01)."""

from __future__ import annotations

from collections.abc import Iterator

from django.utils.translation import gettext_noop

from storeops.accounts.roles import Role
from storeops.fulfilment.selectors import EXCEPTION_LABELS, ExceptionKind, shipment_exceptions
from storeops.sop.registry import (
    CheckContext,
    FindingDraft,
    Schedule,
    Severity,
    msgid,
    register_check,
    titled,
)

_SEVERITY = {
    ExceptionKind.PICKUP_TIMEOUT: Severity.WARNING,
    ExceptionKind.TRANSIT_STUCK: Severity.WARNING,
    ExceptionKind.CARRIER_EXCEPTION: Severity.WARNING,
    ExceptionKind.RETURNED: Severity.WARNING,
    ExceptionKind.LOST: Severity.CRITICAL,
}


@register_check(rule="LOG-01", title="物流异常跟进", owner_role=Role.WAREHOUSE, schedule=Schedule.HOURLY)
def shipment_exceptions_check(ctx: CheckContext) -> Iterator[FindingDraft]:
    """One finding per parcel and problem (pickup timeout, stuck in transit, carrier exception,
    returned, lost). It resolves itself when the problem clears: a pickup scan, a new
    movement, or — for returned/lost — when the parcel's status is corrected by a later scan.
    The timeouts are the parcel's channel's ``pickup_timeout_hours`` / ``transit_stuck_hours``."""
    for exc in shipment_exceptions(
        store=ctx.store,
        now=ctx.now,
        pickup_timeout_hours=ctx.playbook.pickup_timeout_hours,
        transit_stuck_hours=ctx.playbook.transit_stuck_hours,
        channels=ctx.channel_playbooks(),
    ):
        s = exc.shipment
        yield FindingDraft(
            subject_key=f"shipment:{s.pk}:{exc.kind.value}",
            subject_type="fulfilment.shipment",
            subject_id=str(s.pk),
            channel_id=s.channel_id,
            severity=_SEVERITY[exc.kind],
            **titled(
                gettext_noop("%(kind)s：%(carrier)s %(no)s（订单 %(order)s，%(hours)s 小时）"),
                kind=msgid(EXCEPTION_LABELS[exc.kind]),
                carrier=s.carrier.code,
                no=s.tracking_no,
                order=s.order_ref,
                hours=str(exc.hours),
            ),
            detail={
                "kind": exc.kind.value,
                "carrier": s.carrier.code,
                "tracking_no": s.tracking_no,
                "order_ref": s.order_ref,
                "since": exc.since.isoformat(),
                "hours": str(exc.hours),
            },
        )
