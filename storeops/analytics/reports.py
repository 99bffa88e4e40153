"""DATA-06: the daily operations report (运营日报) and the weekly / monthly / quarterly reviews,
built from the measures StoreOps already has — DATA-01 daily metrics (visitors, conversion,
AOV, GMV, payment conversion, margins), TEAM-01 KPIs of each role with their playbook targets,
after-sales cases, SOP findings opened and resolved, the MEM-04 segments, and for reviews the
STORE-07 launch targets of new channels.

A report is built for one period ``[start, end)`` next to the period of the same length
before it. Its figures are frozen as JSON in :class:`OperationsReport` (``services.
report_generate``); labels are stored as Chinese msgids and translated when shown, so each
reader sees their language. Exports (Excel, PDF) are in :mod:`storeops.analytics.exports`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from storeops.aftersales import selectors as aftersales_selectors
from storeops.analytics import rules, selectors
from storeops.analytics.models import OperationsReport, ReportKindChoice
from storeops.core.errors import ValidationError
from storeops.core.queries import get_or_not_found
from storeops.orders import selectors as order_selectors
from storeops.service import selectors as service_selectors
from storeops.sop import selectors as sop_selectors
from storeops.stores.models import KpiMetric, Store
from storeops.stores.selectors import launch_plans, playbook_get

REPORT_KIND_CHOICES = ReportKindChoice.choices
REPORT_KIND_LABELS = dict(ReportKindChoice.choices)

# msgids of the rows and sections (stored untranslated; shown with gettext)
LABELS = {
    **selectors.KPI_LABELS,
    "orders": gettext_noop("付款订单数"),
    "buyers": gettext_noop("买家数"),
    "aov": gettext_noop("客单价（GMV÷买家）"),
    "uv": gettext_noop("访客数（UV）"),
    "conversion": gettext_noop("转化率（买家÷访客）"),
    "placed": gettext_noop("下单数"),
    "payment_conversion": gettext_noop("支付转化率（付款÷下单）"),
    "nps": gettext_noop("净推荐值（NPS）"),
    "gross_margin": gettext_noop("毛利率"),
    "net_margin": gettext_noop("净利率"),
    "cases_opened": gettext_noop("新增售后单"),
    "cases_closed": gettext_noop("完结售后单"),
    "cases_open": gettext_noop("期末未完结售后单"),
    "findings_opened": gettext_noop("新增SOP问题"),
    "findings_resolved": gettext_noop("已解决SOP问题"),
    "findings_unresolved": gettext_noop("期末未解决SOP问题"),
}
SECTION_LABELS = {
    "sales": gettext_noop("经营指标"),
    "team": gettext_noop("团队绩效（技术、客服）"),
    "aftersales": gettext_noop("售后"),
    "findings": gettext_noop("SOP问题"),
    "segments": gettext_noop("客户分层"),
    "launch": gettext_noop("新渠道上线目标"),
}


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _extra_measures(store: Store, start: dt.date, end: dt.date) -> dict[str, Decimal | None]:
    """DATA-01 measures beside the TEAM-01 KPIs over ``[start, end)``."""
    since, until = _day_start(start), _day_start(end)
    last = end - dt.timedelta(days=1)
    sales = order_selectors.sales_summary(store, since=since, until=until)
    days = order_selectors.daily_sales(store, start=start, end=last)
    placed = sum(d.placed for d in days.values())
    paid = sum(d.paid for d in days.values())
    uv = sum(t.uv for t in selectors.daily_traffic(store=store, start=start, end=last).values())
    margins = selectors.profitability(store=store, until=until, days=(end - start).days).total
    return {
        "orders": Decimal(sales.orders),
        "buyers": Decimal(sales.buyers),
        "aov": (sales.gmv / sales.buyers).quantize(Decimal("0.01")) if sales.buyers else None,
        "uv": Decimal(uv),
        "conversion": rules.ratio(sales.buyers, uv),
        "placed": Decimal(placed),
        "payment_conversion": rules.ratio(paid, placed),
        "gross_margin": margins.gross_margin,
        "net_margin": margins.net_margin,
    }


_UNITS = {
    "orders": "count",
    "buyers": "count",
    "aov": "cny",
    "uv": "count",
    "conversion": "ratio",
    "placed": "count",
    "payment_conversion": "ratio",
    "gross_margin": "ratio",
    "net_margin": "ratio",
}


def _row(kpi: rules.Kpi) -> dict[str, Any]:
    return {
        "code": kpi.code,
        "unit": kpi.unit,
        "value": _dec(kpi.value),
        "previous": _dec(kpi.previous),
        "change": _dec(kpi.change),
        "target": _dec(kpi.target),
        "better": str(kpi.better),
        "ok": kpi.ok,
    }


def _count_row(code: str, value: int) -> dict[str, Any]:
    return {
        "code": code,
        "unit": "count",
        "value": str(value),
        "previous": None,
        "change": None,
        "target": None,
        "better": "higher",
        "ok": None,
    }


def _segments(store: Store, end: dt.date) -> dict[str, Any] | None:
    """Customers per segment on the last snapshot of the period, and how many entered each
    segment on that snapshot."""
    from storeops.analytics import segments as segment_reads

    day = segment_reads.snapshot_latest_day(store=store, on_or_before=end - dt.timedelta(days=1))
    if day is None:
        return None
    overview = segment_reads.segment_overview(store=store, day=day)
    return {
        "day": day.isoformat(),
        "rows": [
            {"segment": r.segment, "customers": r.customers, "entered": r.entered, "left": r.left}
            for r in overview.segments
        ],
    }


def _nps_kpi(store: Store, start: dt.date, end: dt.date, days: int, target: int) -> rules.Kpi:
    """The net promoter score of the answers given in the period (judged against ``target``
    once there are the playbook's ``nps_min_responses``) and in the period before."""
    now = service_selectors.nps_tally(store=store, since=_day_start(start), until=_day_start(end))
    before = service_selectors.nps_tally(
        store=store, since=_day_start(start - dt.timedelta(days=days)), until=_day_start(start)
    )
    return rules.Kpi(
        "operations",
        "nps",
        now.score,
        before.score,
        Decimal(target) if now.enough else None,
        rules.Better.HIGHER,
        "nps",
    )


def report_build(*, store: Store, kind: str, start: dt.date, end: dt.date) -> dict[str, Any]:
    """The figures of a report over ``[start, end)`` as JSON-ready data."""
    if kind not in ReportKindChoice.values:
        raise ValidationError(
            _("未知的报表类型"), fields={"kind": _("只能是 daily / weekly / monthly / quarterly")}
        )
    days = (end - start).days
    if not 1 <= days <= 366:
        raise ValidationError(_("统计周期无效"), fields={"start": _("1–366 天")})
    book = playbook_get(store=store)
    team = selectors.team_kpis(store=store, until=_day_start(end), days=days)
    now = _extra_measures(store, start, end)
    before = _extra_measures(store, start - dt.timedelta(days=days), start)
    targets: dict[str, tuple[Decimal, rules.Better]] = {
        "conversion": (book.conversion_benchmark, rules.Better.HIGHER),  # DATA-02 benchmark
    }
    sales_rows = [_row(k) for k in team.by_role("operations")]
    for code in ("orders", "buyers", "aov", "uv", "conversion", "placed", "payment_conversion"):
        target, better = targets.get(code, (None, rules.Better.HIGHER))
        sales_rows.append(
            _row(rules.Kpi("operations", code, now[code], before[code], target, better, _UNITS[code]))
        )
    return_kpi = next(k for k in team.kpis if k.code == "return_rate")
    sales_rows.append(_row(return_kpi))
    sales_rows.append(_row(_nps_kpi(store, start, end, days, book.target_nps)))
    sales_rows.extend(
        _row(rules.Kpi("operations", code, now[code], before[code], None, rules.Better.HIGHER, "ratio"))
        for code in ("gross_margin", "net_margin")
    )
    team_rows = [
        _row(k) for k in team.kpis if k.role in ("tech", "customer_service") and k.code != "return_rate"
    ]
    since, until = _day_start(start), _day_start(end)
    cases = aftersales_selectors.case_counts(store=store, since=since, until=until)
    flow = sop_selectors.finding_flow(store_id=store.pk, since=since, until=until)
    sections: list[dict[str, Any]] = [
        {"key": "sales", "rows": sales_rows},
        {"key": "team", "rows": team_rows},
        {
            "key": "aftersales",
            "rows": [
                _count_row("cases_opened", cases.opened),
                _count_row("cases_closed", cases.closed),
                _count_row("cases_open", cases.open_now),
            ],
        },
        {
            "key": "findings",
            "rows": [
                _count_row("findings_opened", flow["opened"]),
                _count_row("findings_resolved", flow["resolved"]),
                _count_row("findings_unresolved", flow["unresolved"]),
            ],
        },
    ]
    missed = sum(1 for s in sections for r in s["rows"] if r["ok"] is False)
    launch = _launch(store, start, end) if kind != ReportKindChoice.DAILY else []
    missed += sum(1 for t in launch if t["ok"] is False)
    return {
        "store": store.name,
        "kind": kind,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "previous_start": (start - dt.timedelta(days=days)).isoformat(),
        "sections": sections,
        "launch": launch,
        "segments": _segments(store, end),
        "missed": missed,
    }


# --- reading stored reports -----------------------------------------------------------------------


def report_list(*, store: Store, kind: str = "") -> QuerySet[OperationsReport]:
    qs = OperationsReport.objects.filter(store=store)
    if kind:
        if kind not in ReportKindChoice.values:
            raise ValidationError(
                _("未知的报表类型"), fields={"kind": _("只能是 daily / weekly / monthly / quarterly")}
            )
        qs = qs.filter(kind=kind)
    return qs.order_by("-period_start", "kind", "-id")


def report_get(*, store: Store, report_id: int) -> OperationsReport:
    return get_or_not_found(
        OperationsReport.objects.prefetch_related("deliveries"),
        _("报表不存在"),
        store=store,
        pk=report_id,
    )


def report_exists(*, store: Store, kind: str, start: dt.date) -> bool:
    return OperationsReport.objects.filter(store=store, kind=kind, period_start=start).exists()


def report_title(report: OperationsReport) -> str:
    last = report.period_end - dt.timedelta(days=1)
    period = (
        report.period_start.isoformat()
        if report.period_start == last
        else f"{report.period_start.isoformat()} – {last.isoformat()}"
    )
    return f"{report.store.name} {_(REPORT_KIND_LABELS[report.kind])} {period}"


def report_rows(report: OperationsReport) -> list[dict[str, Any]]:
    """The stored sections with labels translated and values displayed for the reader."""
    show = selectors.display
    out = []
    for section in report.data.get("sections", []):
        rows = []
        for r in section["rows"]:
            value = None if r["value"] is None else Decimal(r["value"])
            previous = None if r["previous"] is None else Decimal(r["previous"])
            target = None if r["target"] is None else Decimal(r["target"])
            change = None if r["change"] is None else Decimal(r["change"])
            rows.append(
                {
                    "code": r["code"],
                    "label": _(LABELS.get(r["code"], r["code"])),
                    "value": show(value, r["unit"]),
                    "previous": show(previous, r["unit"]) if r["previous"] is not None else "",
                    "change": _change_text(change, r["unit"]),
                    "target": (
                        ("≥ " if r["better"] == "higher" else "≤ ") + show(target, r["unit"])
                        if target is not None
                        else ""
                    ),
                    "ok": r["ok"],
                    # the numbers themselves, for spreadsheets (values shown above are text)
                    "unit": r["unit"],
                    "better": r["better"],
                    "numbers": (value, previous, change, target),
                }
            )
        out.append({"key": section["key"], "label": _(SECTION_LABELS[section["key"]]), "rows": rows})
    return out


def _change_text(change: Decimal | None, unit: str) -> str:
    if change is None:
        return ""
    return f"{change:+.1f}" if unit == "nps" else f"{change * 100:+.1f}%"


def report_segment_rows(report: OperationsReport) -> list[dict[str, Any]]:
    from storeops.analytics.segments import SEGMENT_LABELS

    seg = report.data.get("segments")
    if not seg:
        return []
    return [{**r, "label": str(SEGMENT_LABELS.get(r["segment"], r["segment"]))} for r in seg["rows"]]


def _launch(store: Store, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """STORE-07 targets of the live channels whose month after go-live overlaps ``[start, end)``,
    with the actual as of the period's last day (typed in, else measured); judged (``ok``) only
    for a month that ended within the period."""
    rows = []
    for plan in launch_plans(store=store, status="live"):
        tracking = selectors.launch_tracking(plan, today=end - dt.timedelta(days=1))
        for month in tracking.months:
            assert month.start is not None
            assert month.end is not None
            if not (month.start < end and month.end > start):
                continue
            for cell in month.cells:
                if cell.target is None:
                    continue
                actual = cell.actual
                rows.append(
                    {
                        "channel": plan.channel.name,
                        "month": month.month,
                        "metric": cell.metric,
                        "metric_label": str(KpiMetric(cell.metric).label),
                        "from": month.start.isoformat(),
                        "to": month.end.isoformat(),
                        "target": str(cell.target),
                        "actual": _dec(actual),
                        "ok": None if actual is None or month.end > end else actual >= cell.target,
                    }
                )
    return rows


def report_launch_rows(report: OperationsReport) -> list[dict[str, Any]]:
    return [
        {
            **t,
            "metric_label": _(t["metric_label"]),
            "ok_text": "" if t["ok"] is None else (_("达标") if t["ok"] else _("未达标")),
        }
        for t in report.data.get("launch", [])
    ]
