"""Console pages of analytics: team KPIs (TEAM-01), profitability per product with its Excel
export (DATA-08), daily metrics (DATA-01) — figures from :mod:`storeops.analytics.selectors` —
and A/B tests (DATA-07), changed through :mod:`storeops.analytics.services`."""

from __future__ import annotations

import datetime as dt
import io
from functools import partial
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from storeops.analytics import selectors as analytics_selectors
from storeops.analytics import services as analytics_services
from storeops.console.views import (
    _actor,
    _base_context,
    console_view,
    filtered_page,
    flash_error,
    form_date,
    posted,
    refused,
    store_or_404,
)
from storeops.core.errors import DomainError, NotFound, ValidationError
from storeops.stores.selectors import channel_list, playbook_get

if TYPE_CHECKING:
    from storeops.stores.models import Store


# --- team KPIs (TEAM-01) -------------------------------------------------------------------------


@console_view("sop.view_finding")
def team_kpis(request: HttpRequest) -> HttpResponse:
    """The KPIs of each role over the period (7 / 30 / 90 days or the playbook's) ending with
    the day ``until`` (default: yesterday), next to the period before and the playbook's targets;
    customer service per agent."""
    store = store_or_404(request)
    days_text = request.GET.get("days", "")
    days = int(days_text) if days_text.isdigit() else None
    end = form_date(request.GET.get("until"))
    until = timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time())) if end else None
    try:
        team = analytics_selectors.team_kpis(store=store, days=days, until=until)
    except DomainError as exc:
        flash_error(request, exc)
        team = analytics_selectors.team_kpis(store=store)
    groups = [
        {
            "label": analytics_selectors.ROLE_LABELS[role],
            "rows": [
                {
                    "k": k,
                    "label": _(analytics_selectors.KPI_LABELS[k.code]),
                    "value": analytics_selectors.display(k.value, k.unit),
                    "previous": analytics_selectors.display(k.previous, k.unit),
                    "target": analytics_selectors.display(k.target, k.unit) if k.target is not None else "",
                    "change": f"{k.change * 100:+.1f}%" if k.change is not None else "",
                }
                for k in team.by_role(role)
            ],
        }
        for role in analytics_selectors.ROLES
    ]
    return render(
        request,
        "console/team_kpis.html",
        _base_context(
            request,
            team=team,
            groups=groups,
            days=(team.until - team.since).days,
            until=request.GET.get("until", ""),
            last_day=team.until - dt.timedelta(microseconds=1),
            choices=(7, 30, 90),
            missed=len(team.missed),
        ),
    )


# --- profitability (DATA-08) ---------------------------------------------------------------------


@console_view("pricing.view_pricechange")
def profitability(request: HttpRequest) -> HttpResponse:
    """Profit per product over 7 / 30 / 90 days, highest net profit first; ``format=xlsx``
    downloads the same table (DATA-06: reports exportable)."""
    store = store_or_404(request)
    days_text = request.GET.get("days", "")
    days = int(days_text) if days_text.isdigit() else None
    try:
        report = analytics_selectors.profitability(store=store, days=days)
    except DomainError as exc:
        flash_error(request, exc)
        report = analytics_selectors.profitability(store=store)
    rows = [
        {"p": p, "contribution": report.contribution(p), "low": p.low_profit(report.min_net_margin)}
        for p in report.products
    ]
    period = (report.until - report.since).days
    if request.GET.get("format") == "xlsx":
        return _profitability_xlsx(store, report, rows, period)
    return render(
        request,
        "console/profitability.html",
        _base_context(
            request,
            report=report,
            total=report.total,
            page=Paginator(rows, 50).get_page(request.GET.get("page")),
            days=period,
            choices=(7, 30, 90),
            querystring=f"days={period}",
            low=sum(1 for r in rows if r["low"]),
            min_margin=analytics_selectors.display(report.min_net_margin, "ratio"),
        ),
    )


def _profitability_xlsx(store: Store, report: Any, rows: list[dict[str, Any]], days: int) -> HttpResponse:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = _("利润分析")[:31]
    period = f"{report.first_day:%Y-%m-%d} – {report.last_day:%Y-%m-%d}"
    ws.append([store.name, period, _("近 %(d)s 天") % {"d": days}])
    ws.append(
        [
            _("商品编码"),
            _("商品"),
            _("销量"),
            _("销售额"),
            _("采购成本"),
            _("全成本"),
            _("毛利"),
            _("毛利率"),
            _("净利"),
            _("净利率"),
            "ROI",
            _("利润贡献"),
            _("低利润"),
        ]
    )

    def pct(value: Any) -> float | None:
        return None if value is None else float(value)

    for r in rows:
        p = r["p"]
        ws.append(
            [
                p.code,
                p.title,
                p.units,
                float(p.revenue),
                float(p.purchase_cost),
                float(p.full_cost),
                float(p.gross_profit),
                pct(p.gross_margin),
                float(p.net_profit),
                pct(p.net_margin),
                pct(p.roi),
                pct(r["contribution"]),
                _("是") if r["low"] else "",
            ]
        )
    for column in ("H", "J", "K", "L"):
        for cell in ws[column][2:]:
            cell.number_format = "0.0%"
    buffer = io.BytesIO()
    wb.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="profitability-{store.code}-{days}d.xlsx"'
    return response


# --- daily metrics (DATA-01) ---------------------------------------------------------------------


@console_view("orders.view_order")
def daily_metrics(request: HttpRequest) -> HttpResponse:
    """UV × CR × AOV = GMV per day, payment conversion; the week's customer and margin figures."""
    store = store_or_404(request)
    days_text, channel_text = request.GET.get("days", "14"), request.GET.get("channel", "")
    days = int(days_text) if days_text.isdigit() else 14
    channels = list(channel_list(store=store))
    channel_id = int(channel_text) if channel_text.isdigit() else None
    if channel_id is not None and channel_id not in {c.pk for c in channels}:
        channel_id = None
    try:
        metrics = analytics_selectors.daily_metrics(store=store, days=days, channel_id=channel_id)
    except DomainError as exc:
        flash_error(request, exc)
        days, metrics = 14, analytics_selectors.daily_metrics(store=store, channel_id=channel_id)
    show = analytics_selectors.display
    # the latest day with traffic figures (today's are usually imported tomorrow)
    latest = next((m for m in metrics.days if m.uv), metrics.days[0])
    return render(
        request,
        "console/daily_metrics.html",
        _base_context(
            request,
            metrics=metrics,
            rows=[
                {
                    "m": m,
                    "cr": show(m.conversion, "ratio"),
                    "aov": show(m.aov, "cny"),
                    "gmv": show(m.gmv, "cny"),
                    "pay": show(m.payment_conversion, "ratio"),
                }
                for m in metrics.days
            ],
            decomposition=_("%(day)s：GMV %(gmv)s = 访客 %(uv)s × 转化率 %(cr)s × 客单价 %(aov)s")
            % {
                "day": latest.day.strftime("%m-%d"),
                "gmv": show(latest.gmv, "cny"),
                "uv": latest.uv,
                "cr": show(latest.conversion, "ratio"),
                "aov": show(latest.aov, "cny"),
            },
            uv_source=_("访客数口径：%(source)s") % {"source": latest.uv_source_label},
            week={
                "new": show(metrics.week.new_customer_share, "ratio"),
                "new_target": show(metrics.week.target_new_customer_share, "ratio"),
                "new_ok": (metrics.week.new_customer_share or 0) >= metrics.week.target_new_customer_share,
                "repeat": show(metrics.week.repurchase_rate, "ratio"),
                "repeat_target": show(metrics.week.target_repurchase_rate, "ratio"),
                "repeat_ok": (metrics.week.repurchase_rate or 0) >= metrics.week.target_repurchase_rate,
                "nps": "-" if metrics.week.nps is None else f"{metrics.week.nps}",
                "nps_responses": metrics.week.nps_responses,
                "nps_enough": metrics.week.nps_enough,
                "nps_ok": metrics.week.nps_ok,
                "nps_target": metrics.week.target_nps,
                "returns": show(metrics.week.return_rate, "ratio"),
                "gross": show(metrics.week.gross_margin, "ratio"),
                "net": show(metrics.week.net_margin, "ratio"),
            },
            channels=channels,
            channel_id=channel_id,
            days=days,
            choices=(7, 14, 30),
        ),
    )


# --- A/B tests (DATA-07) ---------------------------------------------------------------------------


@console_view("analytics.view_experiment")
def experiments(request: HttpRequest) -> HttpResponse:
    return _experiments_page(request, store_or_404(request))


def _experiments_page(
    request: HttpRequest,
    store: Store,
    sent: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    code: int = 200,
) -> HttpResponse:
    """The tests; ``sent``: a refused new test, shown again as typed with ``errors`` by field."""
    page, used = filtered_page(
        request,
        partial(analytics_selectors.experiment_list, store=store),
        status=request.GET.get("status", ""),
    )
    status = used["status"]
    book = playbook_get(store=store)
    rows = [{"e": e, "r": analytics_selectors.experiment_result(e, book=book)} for e in page]
    return render(
        request,
        "console/experiments.html",
        _base_context(
            request,
            page=page,
            rows=rows,
            status=status,
            querystring=f"status={status}",
            statuses=[("", _("全部")), *analytics_selectors.EXPERIMENT_STATUS_CHOICES],
            subjects=analytics_selectors.EXPERIMENT_SUBJECT_CHOICES,
            labels=analytics_selectors.AB_DECISION_LABELS,
            can_add=request.user.has_perm("analytics.add_experiment"),
            sent=sent or {},
            errors=errors or {},
        ),
        status=code,
    )


@require_POST
@console_view("analytics.add_experiment")
def experiment_create(request: HttpRequest) -> HttpResponse:
    """Start a test; a refused one saves nothing and comes back as typed."""
    store = store_or_404(request)
    sent = posted(request, "name", "subject", "control", "challenger", "hypothesis")
    try:
        experiment = analytics_services.experiment_create(actor=_actor(request), store=store, **sent)
    except DomainError as exc:
        return _experiments_page(request, store, sent=sent, errors=refused(request, exc, sent), code=422)
    messages.success(request, _("已创建A/B测试「%(n)s」") % {"n": experiment.name})
    return HttpResponseRedirect(reverse("console:experiment_detail", args=[experiment.pk]))


@console_view("analytics.view_experiment")
def experiment_detail(request: HttpRequest, experiment_id: int) -> HttpResponse:
    experiment = analytics_selectors.experiment_get(store=store_or_404(request), experiment_id=experiment_id)
    return _experiment_page(request, experiment)


def _experiment_page(
    request: HttpRequest,
    experiment: Any,
    sent: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    code: int = 200,
) -> HttpResponse:
    """A test's page; ``sent``: refused results or decision, shown again as typed."""
    result = analytics_selectors.experiment_result(experiment)
    show = analytics_selectors.display
    return render(
        request,
        "console/experiment_detail.html",
        _base_context(
            request,
            e=experiment,
            r=result,
            rates={
                "a": show(result.control_rate, "ratio"),
                "b": show(result.variant_rate, "ratio"),
                "lift": show(result.lift, "ratio"),
                "min_lift": show(result.min_lift, "ratio"),
                "p": "-" if result.p_value is None else f"{result.p_value:.4f}",
            },
            decision=analytics_selectors.AB_DECISION_LABELS[result.decision],
            can_change=request.user.has_perm("analytics.change_experiment")
            and experiment.status == "running",
            sent=sent or {},
            errors=errors or {},
        ),
        status=code,
    )


@require_POST
@console_view("analytics.change_experiment")
def experiment_action(request: HttpRequest, experiment_id: int, action: str) -> HttpResponse:
    """``results`` (a variant's visitors and conversions) or ``decide`` (adopt B / keep A); a
    refused one saves nothing and the page comes back with the form as typed."""
    if action not in ("results", "decide"):
        raise NotFound(_("未知的操作"))
    experiment = analytics_selectors.experiment_get(store=store_or_404(request), experiment_id=experiment_id)
    sent = (
        posted(request, "variant", "visitors", "conversions")
        if action == "results"
        else posted(request, "note")
    )
    try:
        if action == "results":
            analytics_services.experiment_record(
                actor=_actor(request),
                experiment=experiment,
                variant=sent["variant"],
                visitors=_whole(sent["visitors"], "visitors"),
                conversions=_whole(sent["conversions"], "conversions"),
            )
            messages.success(request, _("已更新测试结果"))
        else:
            decided = analytics_services.experiment_decide(
                actor=_actor(request),
                experiment=experiment,
                adopt=request.POST.get("adopt") == "1",
                note=sent["note"],
            )
            messages.success(request, _("测试已结束：%(s)s") % {"s": decided.get_status_display()})
    except DomainError as exc:
        errors = refused(request, exc, sent)
        return _experiment_page(request, experiment, sent=sent, errors=errors, code=422)
    return HttpResponseRedirect(reverse("console:experiment_detail", args=[experiment_id]))


def _whole(text: str, field: str) -> int:
    text = (text or "").strip()
    if not text.isdigit():
        raise ValidationError(_("测试结果有误"), fields={field: _("请填写非负整数")})
    return int(text)
