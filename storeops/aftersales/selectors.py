"""Reads of after-sales: the work queue (new customers first, then the refund deadline), case
detail, the refund-SLA watch list (AS-02) and return rates and reasons (AS-05).

Return rate (AS-05) is a cohort figure: of the units paid for in a period (orders paid in
``[since, until)``, gifts and cancelled/closed orders left out), how many came back in a
return or exchange case that was not rejected or withdrawn. Refund-only units are reported
beside it, not in it (the goods did not come back).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils.translation import gettext_lazy

from storeops.aftersales import rules
from storeops.aftersales.models import AfterSale, AfterSaleLine, CaseKind, CaseReason, CaseStatus
from storeops.core.errors import NotFound, ValidationError
from storeops.core.queries import each
from storeops.orders.models import OrderLine
from storeops.orders.rules import Status as OrderState
from storeops.stores.models import Store

STATUS_CHOICES = CaseStatus.choices
KIND_CHOICES = CaseKind.choices
REASON_CHOICES = CaseReason.choices
_OPEN = [s.value for s in rules.OPEN]
_NOT_SOLD = [OrderState.CANCELLED.value, OrderState.CLOSED.value]
_NOT_COUNTED = [CaseStatus.REJECTED.value, CaseStatus.CANCELLED.value]
WATCH_BATCH = 500  # cases read per query by refund_watch (which returns every one of them)


def case_get(*, store: Store, number: str) -> AfterSale:
    case = (
        AfterSale.objects.select_related("order", "store", "channel", "return_warehouse")
        .filter(store=store, number=number)
        .first()
    )
    if case is None:
        raise NotFound(gettext_lazy("售后单不存在"))
    return case


def case_lines(*, case: AfterSale) -> QuerySet[AfterSaleLine]:
    return case.lines.select_related("order_line", "replacement_sku").order_by("id")


def case_events(*, case: AfterSale) -> QuerySet[Any]:
    return case.events.order_by("created_at", "id")


def case_list(
    *,
    store: Store,
    status: str = "",
    kind: str = "",
    reason: str = "",
    q: str = "",
    open_only: bool = False,
    overdue_at: dt.datetime | None = None,
) -> QuerySet[AfterSale]:
    """The queue: new customers first, then the earliest refund deadline, then the oldest.
    ``status`` may be ``open``; ``overdue_at`` keeps cases whose refund is overdue then."""
    qs = AfterSale.objects.filter(store=store).select_related("order")
    if status == "open":
        open_only = True
    elif status:
        if status not in CaseStatus.values:
            raise ValidationError(
                gettext_lazy("未知的售后状态"), fields={"status": gettext_lazy("未知的售后状态")}
            )
        qs = qs.filter(status=status)
    if open_only:
        qs = qs.filter(status__in=_OPEN)
    if kind:
        if kind not in CaseKind.values:
            raise ValidationError(
                gettext_lazy("未知的售后类型"), fields={"kind": gettext_lazy("未知的售后类型")}
            )
        qs = qs.filter(kind=kind)
    if reason:
        if reason not in CaseReason.values:
            raise ValidationError(
                gettext_lazy("未知的售后原因"), fields={"reason": gettext_lazy("未知的售后原因")}
            )
        qs = qs.filter(reason=reason)
    if q.strip():
        term = q.strip()
        qs = qs.filter(Q(number__icontains=term) | Q(order__number__icontains=term) | Q(customer_ref=term))
    if overdue_at is not None:
        qs = qs.filter(status__in=_OPEN, due_at__lte=overdue_at)
    return qs.order_by("priority", F("due_at").asc(nulls_last=True), "requested_at", "id")


def case_sla(*, case: AfterSale, now: dt.datetime, warn_hours: int) -> rules.SlaState | None:
    """The refund clock of an open case (None: no clock running or already closed)."""
    if case.due_at is None or not case.is_open:
        return None
    return rules.sla_state(due_at=case.due_at, now=now, warn_hours=warn_hours)


def refund_watch(
    *, store: Store, now: dt.datetime, warn_hours: int
) -> Iterator[tuple[AfterSale, rules.SlaState]]:
    """Every open case whose refund is due within ``warn_hours`` or overdue (AS-02), soonest
    due first, read :data:`WATCH_BATCH` at a time."""
    horizon = now + dt.timedelta(hours=warn_hours)
    rows = AfterSale.objects.filter(
        store=store, status__in=_OPEN, due_at__isnull=False, due_at__lte=horizon
    ).select_related("order")
    for case in each(rows, size=WATCH_BATCH, key=("due_at", "pk")):
        assert case.due_at is not None
        state = rules.sla_state(due_at=case.due_at, now=now, warn_hours=warn_hours)
        if state is not rules.SlaState.OK:
            yield case, state


# --- AS-05: return rates and reasons ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RateRow:
    key: int | None
    code: str
    name: str
    sold: int
    returned: int
    exchanged: int
    refund_only: int
    rate: Decimal | None  # (returned + exchanged) / sold


@dataclass(frozen=True, slots=True)
class ReasonRow:
    reason: str
    label: str
    cases: int
    units: int
    share: Decimal | None  # of all cases in the period


@dataclass(frozen=True, slots=True)
class ReturnStats:
    since: dt.datetime
    until: dt.datetime
    sold: int
    returned: int
    rate: Decimal | None
    products: list[RateRow] = field(default_factory=list)
    categories: list[RateRow] = field(default_factory=list)
    reasons: list[ReasonRow] = field(default_factory=list)


def _sold_lines(store: Store, since: dt.datetime, until: dt.datetime) -> QuerySet[OrderLine]:
    return OrderLine.objects.filter(
        order__store=store, order__paid_at__gte=since, order__paid_at__lt=until, is_gift=False
    ).exclude(order__status__in=_NOT_SOLD)


def return_rate(*, store: Store, since: dt.datetime, until: dt.datetime) -> Decimal | None:
    """The overall return rate of :func:`return_stats` alone — (returned + exchanged units) ÷
    units sold, orders paid in the period — in two aggregate queries (TEAM-01, DATA-01)."""
    lines = _sold_lines(store, since, until)
    sold = lines.aggregate(n=Sum("quantity"))["n"] or 0
    back = (
        AfterSaleLine.objects.filter(
            order_line__in=lines.values("pk"), case__kind__in=[CaseKind.RETURN, CaseKind.EXCHANGE]
        )
        .exclude(case__status__in=_NOT_COUNTED)
        .aggregate(n=Sum("quantity"))["n"]
        or 0
    )
    return rules.return_rate(returned=back, sold=sold)


def return_stats(*, store: Store, since: dt.datetime, until: dt.datetime) -> ReturnStats:
    """Return rate per product and per category, and the reasons, for orders paid in the period."""
    if until <= since:
        raise ValidationError(
            gettext_lazy("结束时间须晚于开始时间"), fields={"until": gettext_lazy("须晚于开始时间")}
        )
    lines = _sold_lines(store, since, until)
    levels = {
        "products": ("sku__product_id", "sku__product__code", "sku__product__title"),
        "categories": (
            "sku__product__category_id",
            "sku__product__category__code",
            "sku__product__category__name",
        ),
    }
    cases = AfterSaleLine.objects.filter(order_line__in=lines.values("pk")).exclude(
        case__status__in=_NOT_COUNTED
    )
    out: dict[str, list[RateRow]] = {}
    for level, (key, code, name) in levels.items():
        sold = {r[key]: r for r in lines.values(key, code, name).annotate(n=Sum("quantity"))}
        back: dict[tuple[Any, str], int] = {}
        for r in cases.values(f"order_line__{key}", "case__kind").annotate(n=Sum("quantity")):
            back[(r[f"order_line__{key}"], r["case__kind"])] = r["n"]
        rows = []
        for k, r in sold.items():
            returned = back.get((k, CaseKind.RETURN.value), 0)
            exchanged = back.get((k, CaseKind.EXCHANGE.value), 0)
            rows.append(
                RateRow(
                    key=k,
                    code=r[code] or "",
                    name=r[name] or "",
                    sold=r["n"],
                    returned=returned,
                    exchanged=exchanged,
                    refund_only=back.get((k, CaseKind.REFUND_ONLY.value), 0),
                    rate=rules.return_rate(returned=returned + exchanged, sold=r["n"]),
                )
            )
        rows.sort(key=lambda row: (-(row.rate or Decimal(0)), -row.sold, row.code))
        out[level] = rows
    sold_total = sum(r.sold for r in out["products"])
    back_total = sum(r.returned + r.exchanged for r in out["products"])
    units = {r["case__reason"]: r["n"] for r in cases.values("case__reason").annotate(n=Sum("quantity"))}
    # a case has several lines: cases are counted on their own
    case_counts = {
        r["reason"]: r["c"]
        for r in AfterSale.objects.filter(pk__in=cases.values("case_id"))
        .values("reason")
        .annotate(c=Count("id"))
    }
    total_cases = sum(case_counts.values())
    reasons = [
        ReasonRow(
            reason=value,
            label=str(label),
            cases=case_counts.get(value, 0),
            units=units.get(value, 0),
            share=rules.return_rate(returned=case_counts.get(value, 0), sold=total_cases),
        )
        for value, label in CaseReason.choices
        if case_counts.get(value)
    ]
    reasons.sort(key=lambda r: (-r.cases, r.reason))
    return ReturnStats(
        since=since,
        until=until,
        sold=sold_total,
        returned=back_total,
        rate=rules.return_rate(returned=back_total, sold=sold_total),
        products=out["products"],
        categories=out["categories"],
        reasons=reasons,
    )


@dataclass(frozen=True, slots=True)
class CaseCounts:
    opened: int  # cases requested in the period
    closed: int  # cases closed in the period
    open_now: int  # still open at the end of the period


def case_counts(*, store: Store, since: dt.datetime, until: dt.datetime) -> CaseCounts:
    """After-sales cases opened and closed in ``[since, until)``, and those open at ``until``
    (DATA-06 reports)."""
    qs = AfterSale.objects.filter(store=store)
    return CaseCounts(
        opened=qs.filter(requested_at__gte=since, requested_at__lt=until).count(),
        closed=qs.filter(closed_at__gte=since, closed_at__lt=until).count(),
        open_now=qs.filter(requested_at__lt=until)
        .filter(Q(closed_at__isnull=True) | Q(closed_at__gte=until))
        .count(),
    )


def units_not_restocked(*, store: Store, since: dt.datetime, until: dt.datetime) -> dict[int, int]:
    """Per SKU, the units of orders paid in ``[since, until)`` that after-sales took out of the
    sold units' count although the goods never came back to sellable stock (DATA-08's cost):
    refund-only units (the customer keeps them), returned units refunded after failing QC (now
    defective stock), and exchanged units that failed QC (the replacement left as well)."""
    kept = (
        Q(case__kind=CaseKind.REFUND_ONLY, case__status=CaseStatus.REFUNDED)
        | Q(case__kind=CaseKind.RETURN, case__status=CaseStatus.REFUNDED, qc_failed__gt=0)
        | Q(
            case__kind=CaseKind.EXCHANGE,
            case__status__in=[CaseStatus.INSPECTED, CaseStatus.EXCHANGED],
            qc_failed__gt=0,
        )
    )
    rows = (
        AfterSaleLine.objects.filter(
            kept,
            case__store=store,
            order_line__order__paid_at__gte=since,
            order_line__order__paid_at__lt=until,
        )
        .values("order_line__sku_id", "case__kind")
        .annotate(units=Sum("quantity"), failed=Sum("qc_failed"))
    )
    out: dict[int, int] = {}
    for r in rows:
        units = r["units"] if r["case__kind"] == CaseKind.REFUND_ONLY else r["failed"]
        out[r["order_line__sku_id"]] = out.get(r["order_line__sku_id"], 0) + (units or 0)
    return out
