"""Console pages of after-sales: the queue with refund-SLA timers (AS-02, AS-03), a case with
its actions (approve/reject, receive, QC, exchange, refund, cancel; AS-04) and the return-rate
report with the published policy (AS-05, AS-01)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from storeops.aftersales import rules, selectors, services
from storeops.console.views import (
    PAGE_SIZE,
    _actor,
    _base_context,
    _current_store,
    _int,
    console_view,
    error_text,
    posted,
    querystring,
    refused,
)
from storeops.core.errors import DomainError, NotFound
from storeops.fulfilment import selectors as fulfilment_selectors
from storeops.orders import selectors as order_selectors
from storeops.stores.selectors import playbook_get, playbooks_by_channel


def _empty(request: HttpRequest) -> HttpResponse:
    return render(request, "console/empty.html", _base_context(request))


def _store_or_404(request: HttpRequest):  # type: ignore[no-untyped-def]
    store = _current_store(request)
    if store is None:
        raise NotFound(_("没有店铺"))
    return store


def _hours_left(due: dt.datetime | None, now: dt.datetime) -> float | None:
    return None if due is None else round((due - now).total_seconds() / 3600, 1)


@console_view("aftersales.view_aftersale")
def queue(request: HttpRequest) -> HttpResponse:
    store = _current_store(request)
    if store is None:
        return _empty(request)
    now = timezone.now()
    books = playbooks_by_channel(store_id=store.pk)  # each case warns by its channel's hours
    f: dict[str, Any] = {
        "status": request.GET.get("status", "open"),
        "kind": request.GET.get("kind", ""),
        "reason": request.GET.get("reason", ""),
        "q": request.GET.get("q", "").strip(),
        "overdue": request.GET.get("overdue") == "1",
    }
    try:
        qs = selectors.case_list(
            store=store,
            status=f["status"],
            kind=f["kind"],
            reason=f["reason"],
            q=f["q"],
            overdue_at=now if f["overdue"] else None,
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
        qs = selectors.case_list(store=store, status="open")
    page = Paginator(qs, PAGE_SIZE).get_page(_int(request.GET.get("page")))
    rows = [
        {
            "case": c,
            "hours_left": _hours_left(c.due_at, now) if c.is_open else None,
            "sla": selectors.case_sla(
                case=c, now=now, warn_hours=(books.get(c.channel_id) or books[None]).refund_sla_warn_hours
            ),
        }
        for c in page.object_list
    ]
    return render(
        request,
        "console/aftersales_queue.html",
        _base_context(
            request,
            page=page,
            rows=rows,
            filters=f,
            querystring=querystring(request),
            statuses=selectors.STATUS_CHOICES,
            kinds=selectors.KIND_CHOICES,
            reasons=selectors.REASON_CHOICES,
        ),
    )


@console_view("aftersales.view_aftersale")
def detail(request: HttpRequest, number: str) -> HttpResponse:
    return _detail_page(request, _store_or_404(request), number)


def _detail_page(
    request: HttpRequest,
    store: Any,
    number: str,
    sent: dict[str, dict[str, str]] | None = None,
    errors: dict[str, dict[str, str]] | None = None,
    code: int = 200,
) -> HttpResponse:
    """The case with its action forms; ``sent``: a refused form by its name (``{"decide":
    {"note": …}}``), shown again as typed with ``errors`` by field; the other forms as new."""
    case = selectors.case_get(store=store, number=number)
    lines = list(selectors.case_lines(case=case))
    qc_sent = (sent or {}).get("inspect", {})
    qc_errors = (errors or {}).get("inspect", {})
    now = timezone.now()
    warn = playbook_get(store=store, channel=case.channel).refund_sla_warn_hours
    user = request.user
    return render(
        request,
        "console/aftersales_detail.html",
        _base_context(
            request,
            case=case,
            points_order=order_selectors.is_points_order(case.order),
            lines=lines,
            qc_lines=[
                {
                    "l": line,
                    "passed": qc_sent.get(f"passed_{line.order_line_id}", line.quantity),
                    "failed": qc_sent.get(f"failed_{line.order_line_id}", 0),
                    "error": qc_errors.get(f"passed_{line.order_line_id}", ""),
                }
                for line in lines
            ],
            events=list(selectors.case_events(case=case)),
            sla=selectors.case_sla(case=case, now=now, warn_hours=warn),
            hours_left=_hours_left(case.due_at, now) if case.is_open else None,
            can_decide=case.status == rules.Status.REQUESTED
            and user.has_perm("aftersales.approve_aftersale"),
            can_receive=case.status == rules.Status.APPROVED
            and rules.needs_goods(case.kind)
            and user.has_perm("aftersales.handle_returns"),
            can_inspect=case.status == rules.Status.RECEIVED and user.has_perm("aftersales.handle_returns"),
            can_exchange=rules.can_transition(case.kind, case.status, rules.Status.EXCHANGED)
            and user.has_perm("aftersales.handle_returns"),
            carriers=list(fulfilment_selectors.carrier_list(active_only=True)),
            can_refund=rules.can_transition(case.kind, case.status, rules.Status.REFUNDED)
            and user.has_perm("aftersales.refund_aftersale"),
            can_cancel=rules.can_transition(case.kind, case.status, rules.Status.CANCELLED)
            and user.has_perm("aftersales.change_aftersale"),
            sent=sent or {},
            errors=errors or {},
        ),
        status=code,
    )


def _back(number: str) -> HttpResponse:
    return HttpResponseRedirect(reverse("console:aftersales_detail", args=[number]))


def _run(  # type: ignore[no-untyped-def]
    request: HttpRequest,
    number: str,
    fn,
    done: str,
    *,
    form: str = "",
    sent: dict[str, str] | None = None,
    names: dict[str, str] | None = None,
) -> HttpResponse:
    """Run ``fn(case)``; back to the case with its message. ``form``: the case page's form
    posted, with its values ``sent``; a refusal shows the page again (422) with this form as
    typed and its errors inside it (``names``: the service's field → the form's)."""
    store = _store_or_404(request)
    case = selectors.case_get(store=store, number=number)
    try:
        case = fn(case)
    except DomainError as exc:
        if not form:
            messages.error(request, error_text(exc))
            return _back(number)
        typed = sent or {}
        to_form = names or {}
        to_service = {service: field for field, service in to_form.items()}
        known = {to_service.get(key, key): value for key, value in typed.items()}
        errors = {to_form.get(key, key): value for key, value in refused(request, exc, known).items()}
        return _detail_page(request, store, number, sent={form: typed}, errors={form: errors}, code=422)
    else:
        messages.success(request, done % {"n": case.number, "s": case.get_status_display()})
    return _back(number)


@require_POST
@console_view("aftersales.approve_aftersale")
def decide(request: HttpRequest, number: str) -> HttpResponse:
    """Approve or reject (AS-03); a refused decision comes back with its note as typed."""
    decision = request.POST.get("decision", "")
    sent = posted(request, "note")
    note = sent["note"]
    actor = _actor(request)
    if decision == "approve":
        return _run(
            request,
            number,
            lambda c: services.case_approve(actor=actor, case=c, note=note),
            _("售后单 %(n)s：%(s)s"),
            form="decide",
            sent=sent,
        )
    if decision == "reject":
        return _run(
            request,
            number,
            lambda c: services.case_reject(actor=actor, case=c, reason=note),
            _("售后单 %(n)s：%(s)s"),
            form="decide",
            sent=sent,
            names={"reason": "note"},
        )
    messages.error(request, _("未知操作"))
    return _back(number)


@require_POST
@console_view("aftersales.handle_returns")
def goods(request: HttpRequest, number: str) -> HttpResponse:
    """Receive the parcel, record the QC result per line, or ship the exchange (AS-04); a
    refused one comes back as typed."""
    action = request.POST.get("action", "")
    actor = _actor(request)
    if action == "receive":
        sent = posted(request, "tracking_no")
        return _run(
            request,
            number,
            lambda c: services.case_receive(actor=actor, case=c, tracking_no=sent["tracking_no"]),
            _("售后单 %(n)s：%(s)s"),
            form="receive",
            sent=sent,
        )
    if action == "inspect":
        counts = [key for key in request.POST if key.startswith(("passed_", "failed_"))]
        sent = posted(request, "note", *counts)
        results: dict[int, tuple[int, int]] = {}
        for key in counts:
            if key.startswith("passed_"):
                line_id = _int(key.removeprefix("passed_"), 0)
                results[line_id] = (_count(sent[key]), _count(sent.get(f"failed_{line_id}", "0")))
        return _run(
            request,
            number,
            lambda c: services.case_inspect(actor=actor, case=c, results=results, note=sent["note"]),
            _("售后单 %(n)s：%(s)s"),
            form="inspect",
            sent=sent,
            names={f"results.{line_id}": f"passed_{line_id}" for line_id in results},
        )
    if action == "exchange":
        sent = posted(request, "carrier", "tracking_no")
        return _run(
            request,
            number,
            lambda c: services.case_exchange_ship(
                actor=actor, case=c, carrier_code=sent["carrier"], tracking_no=sent["tracking_no"]
            ),
            _("售后单 %(n)s：%(s)s"),
            form="exchange",
            sent=sent,
        )
    messages.error(request, _("未知操作"))
    return _back(number)


def _count(value: str) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return -1  # refused by the service's validation


@require_POST
@console_view("aftersales.refund_aftersale")
def refund(request: HttpRequest, number: str) -> HttpResponse:
    actor = _actor(request)
    return _run(
        request, number, lambda c: services.case_refund(actor=actor, case=c), _("售后单 %(n)s：%(s)s")
    )


@require_POST
@console_view("aftersales.change_aftersale")
def cancel(request: HttpRequest, number: str) -> HttpResponse:
    actor = _actor(request)
    sent = posted(request, "note")
    return _run(
        request,
        number,
        lambda c: services.case_cancel(actor=actor, case=c, reason=sent["note"]),
        _("售后单 %(n)s：%(s)s"),
        form="cancel",
        sent=sent,
        names={"reason": "note"},
    )


@console_view("aftersales.view_aftersale")
def stats(request: HttpRequest) -> HttpResponse:
    store = _current_store(request)
    if store is None:
        return _empty(request)
    today = timezone.localdate()

    def day(name: str, default: dt.date) -> dt.date:
        try:
            return dt.date.fromisoformat(request.GET.get(name, ""))
        except ValueError:
            return default

    until = day("until", today)
    since = day("since", until - dt.timedelta(days=29))
    if since > until:
        since, until = until, since
    start = timezone.make_aware(dt.datetime.combine(since, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min))
    playbook = playbook_get(store=store)
    stats = selectors.return_stats(store=store, since=start, until=end)
    return render(
        request,
        "console/aftersales_stats.html",
        _base_context(
            request,
            stats=stats,
            # every product sold in the period: a page at a time, the period kept in the links
            products=Paginator(stats.products, PAGE_SIZE).get_page(_int(request.GET.get("page"))),
            querystring=querystring(request),
            since=since,
            until=until,
            policy=rules.policy_text(
                window_days=playbook.return_window_days,
                refund_hours=playbook.refund_sla_hours,
                big_promo_refund_hours=playbook.refund_sla_big_promo_hours,
            ),
        ),
    )
