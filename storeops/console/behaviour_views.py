"""Console pages of shopper behaviour: the funnel (DATA-05) as a bar chart, paths with dwell
and bounce (DATA-05), traffic sources with spend and ROI (DATA-04) and the form for a source's
cost, and the imports. Figures from :mod:`storeops.behaviour.selectors`; the one write goes
through :mod:`storeops.behaviour.services`."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from storeops.behaviour import rules
from storeops.behaviour import selectors as behaviour_selectors
from storeops.behaviour import services as behaviour_services
from storeops.console.views import (
    _actor,
    _base_context,
    console_view,
    filtered_page,
    flash_error,
    posted,
    refused,
    store_or_404,
)
from storeops.core.errors import DomainError, ValidationError
from storeops.stores.selectors import channel_list

if TYPE_CHECKING:
    from storeops.stores.models import Store


def _pct(value: Decimal | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _safe_date(text: str) -> dt.date | None:
    try:
        return parse_date(text.strip())
    except ValueError:
        return None


def _period_args(request: HttpRequest, store: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    channels = list(channel_list(store=store))
    channel_text = request.GET.get("channel", "")
    channel_id = int(channel_text) if channel_text.isdigit() else None
    if channel_id is not None and channel_id not in {c.pk for c in channels}:
        channel_id = None
    args = {
        "since": _safe_date(request.GET.get("since", "")),
        "until": _safe_date(request.GET.get("until", "")),
        "channel_id": channel_id,
    }
    return args, {"channels": channels, "channel_id": channel_id}


def _query(period: Any, channel_id: int | None) -> str:
    q = {"since": period.since.isoformat(), "until": period.until.isoformat()}
    if channel_id is not None:
        q["channel"] = str(channel_id)
    return urlencode(q)


@console_view("behaviour.view_event")
def funnel(request: HttpRequest) -> HttpResponse:
    store = store_or_404(request)
    args, ctx = _period_args(request, store)
    try:
        report = behaviour_selectors.funnel_report(store=store, **args)
    except DomainError as exc:
        flash_error(request, exc)
        report = behaviour_selectors.funnel_report(store=store, channel_id=args["channel_id"])
    f = report.funnel
    low = {s.to_step for s in report.shortfalls}
    top = max((s.visitors for s in f.steps), default=0) or 1
    steps = [
        {
            "s": s,
            "label": _(behaviour_selectors.STEP_LABELS[s.code]),
            "width": f"{s.visitors * 100 / top:.1f}",
            "conversion": _pct(s.conversion),
            "drop": _pct(s.drop_off_rate),
            "threshold": _pct(report.thresholds.get(s.code)) if s.code in report.thresholds else "",
            "low": s.code in low,
        }
        for s in f.steps
    ]
    return render(
        request,
        "console/behaviour_funnel.html",
        _base_context(
            request,
            report=report,
            steps=steps,
            f=f,
            add_to_cart=_pct(f.add_to_cart_rate),
            bounce=_pct(f.payment_bounce),
            overall=_pct(f.overall_conversion),
            query=_query(report.period, ctx["channel_id"]),
            **ctx,
        ),
    )


@console_view("behaviour.view_event")
def paths(request: HttpRequest) -> HttpResponse:
    store = store_or_404(request)
    args, ctx = _period_args(request, store)
    try:
        report = behaviour_selectors.path_report(store=store, **args)
    except DomainError as exc:
        flash_error(request, exc)
        report = behaviour_selectors.path_report(store=store, channel_id=args["channel_id"])
    st = report.stats
    labels = dict(behaviour_selectors.PAGE_TYPE_CHOICES)
    top = st.paths[0][1] if st.paths else 1
    rows = [
        {
            "pages": [str(labels.get(p, p)) for p in pages],
            "sessions": n,
            "share": _pct(rules.ratio(n, st.sessions)),
            "width": f"{n * 100 / top:.1f}",
        }
        for pages, n in st.paths
    ]
    dwell = [
        {"label": labels.get(d.page_type, d.page_type), "views": d.views, "avg": d.average_seconds}
        for d in st.dwell
    ]
    return render(
        request,
        "console/behaviour_paths.html",
        _base_context(
            request,
            report=report,
            stats=st,
            rows=rows,
            dwell=dwell,
            bounce=_pct(st.bounce_rate),
            query=_query(report.period, ctx["channel_id"]),
            **ctx,
        ),
    )


@console_view("behaviour.view_event")
def sources(request: HttpRequest) -> HttpResponse:
    return _sources_page(request, store_or_404(request))


def _sources_page(
    request: HttpRequest,
    store: Store,
    sent: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    code: int = 200,
) -> HttpResponse:
    """The sources report for the period asked; ``sent``: a refused channel cost, shown again
    as typed (the report's period rides on the form's address)."""
    args, ctx = _period_args(request, store)
    try:
        report = behaviour_selectors.source_report(store=store, **args)
    except DomainError as exc:
        flash_error(request, exc)
        report = behaviour_selectors.source_report(store=store, channel_id=args["channel_id"])
    labels = dict(behaviour_selectors.SOURCE_CHOICES)
    alerts: dict[str, set[str]] = {}
    for a in report.alerts():
        alerts.setdefault(a.source, set()).add(a.measure)
    rows = [
        {
            "r": r,
            "label": labels[r.source],
            "conversion": _pct(r.conversion),
            "low_conversion": "conversion" in alerts.get(r.source, set()),
            "low_roi": "roi" in alerts.get(r.source, set()),
        }
        for r in report.rows
    ]
    costs = behaviour_selectors.source_cost_list(
        store=store, since=report.period.since, until=report.period.until
    )
    return render(
        request,
        "console/behaviour_sources.html",
        _base_context(
            request,
            report=report,
            rows=rows,
            costs=Paginator(costs, 50).get_page(request.GET.get("page")),
            source_choices=behaviour_selectors.SOURCE_CHOICES,
            min_conversion=_pct(report.min_conversion),
            query=_query(report.period, ctx["channel_id"]),
            querystring=_query(report.period, ctx["channel_id"]),
            sent=sent or {},
            errors=errors or {},
            **ctx,
        ),
        status=code,
    )


@require_POST
@console_view("behaviour.add_sourcecost")
def source_cost_set(request: HttpRequest) -> HttpResponse:
    """Record a day's spend on a source (DATA-05); a refused one saves nothing and comes back
    as typed."""
    store = store_or_404(request)
    sent = posted(request, "source", "day", "channel", "amount", "note")
    channel = None
    if sent["channel"].isdigit():
        channel = channel_list(store=store).filter(pk=int(sent["channel"])).first()
    day = _safe_date(sent["day"])
    try:
        if day is None:
            raise ValidationError(_("请填写日期"), fields={"day": _("日期格式应为 YYYY-MM-DD")})
        behaviour_services.source_cost_set(
            actor=_actor(request),
            store=store,
            source=sent["source"],
            day=day,
            amount=sent["amount"] or "x",
            channel=channel,
            note=sent["note"],
        )
    except DomainError as exc:
        return _sources_page(request, store, sent=sent, errors=refused(request, exc, sent), code=422)
    messages.success(request, _("已记录渠道花费"))
    return HttpResponseRedirect(reverse("console:behaviour_sources"))


@console_view("behaviour.view_behaviourimport")
def imports(request: HttpRequest) -> HttpResponse:
    store = store_or_404(request)
    page, used = filtered_page(
        request,
        partial(behaviour_selectors.import_list, store=store),
        size=50,
        status=request.GET.get("status", ""),
        kind=request.GET.get("kind", ""),
    )
    status, kind = used["status"], used["kind"]
    for run in page:
        run.format_label = behaviour_selectors.import_format_label(run.file_format)
    return render(
        request,
        "console/behaviour_imports.html",
        _base_context(
            request,
            page=page,
            status=status,
            kind=kind,
            status_choices=behaviour_selectors.IMPORT_STATUS_CHOICES,
            kind_choices=behaviour_selectors.IMPORT_KIND_CHOICES,
            querystring=urlencode({"status": status, "kind": kind}),
            events=behaviour_selectors.event_count(store=store),
        ),
    )


@console_view("behaviour.view_behaviourimport")
def import_detail(request: HttpRequest, import_id: int) -> HttpResponse:
    store = store_or_404(request)
    run = behaviour_selectors.import_get(store=store, import_id=import_id)
    run.format_label = behaviour_selectors.import_format_label(run.file_format)
    return render(request, "console/behaviour_import_detail.html", _base_context(request, run=run))
