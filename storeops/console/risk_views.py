"""Console pages of risk control. Platform rule changes (RISK-03): the list with its filters
and the adjustment clock of each open change, and the forms to record, assess and close one.
System failures (RISK-04): the incident list and each incident's playbook — failover,
recovery, notice to the customers touched, compensation coupon, close. Every action calls a
service (:mod:`storeops.stores.services`, :mod:`storeops.service.services`)."""

from __future__ import annotations

import datetime as dt
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

from storeops.console.views import (
    PAGE_SIZE,
    _actor,
    _base_context,
    _int,
    console_view,
    filtered_page,
    form_date,
    form_datetime,
    posted,
    querystring,
    refused,
    store_or_404,
)
from storeops.core.errors import DomainError, ValidationError
from storeops.promotions.selectors import coupon_template_list
from storeops.service import selectors as service_selectors
from storeops.service import services as service_services
from storeops.stores import selectors, services
from storeops.stores.selectors import channel_list, playbook_get

if TYPE_CHECKING:
    from storeops.stores.models import Store


@console_view("stores.view_platformrulechange")
def rule_changes(request: HttpRequest) -> HttpResponse:
    return _rule_changes_page(request, store_or_404(request))


def _rule_changes_page(
    request: HttpRequest,
    store: Store,
    sent: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    code: int = 200,
    row_sent: dict[int, dict[str, dict[str, str]]] | None = None,
    row_errors: dict[int, dict[str, dict[str, str]]] | None = None,
) -> HttpResponse:
    """The rule changes; ``sent``: a refused new rule change, shown again as typed.
    ``row_sent``: a row's refused form (assess, complete) by the change's id and the form's
    name, shown again as typed in its row with ``row_errors``; the other rows' forms as new."""
    q = request.GET.get("q", "")
    page, used = filtered_page(
        request,
        partial(selectors.rule_changes, store=store),
        fallback={"status": "open", "q": q},
        status=request.GET.get("status", "open"),
        platform=request.GET.get("platform", ""),
        q=q,
    )
    status, platform = used["status"], used["platform"]
    hours = playbook_get(store=store).compliance_adjust_hours
    now = timezone.now()
    rows = []
    for change in page:
        due = change.announced_at + dt.timedelta(hours=hours)
        rows.append(
            {
                "c": change,
                "due": due,
                "overdue": change.is_open and now >= due,
                "sent": (row_sent or {}).get(change.pk, {}),
                "errors": (row_errors or {}).get(change.pk, {}),
            }
        )
    return render(
        request,
        "console/rule_changes.html",
        _base_context(
            request,
            page=page,
            rows=rows,
            hours=hours,
            status=status,
            platform=platform,
            q=q,
            querystring=querystring(request),
            statuses=[("open", _("未完成")), *selectors.RULE_CHANGE_STATUS_CHOICES, ("", _("全部"))],
            platforms=selectors.PLATFORM_CHOICES,
            can_record=request.user.has_perm("stores.add_platformrulechange"),
            can_change=request.user.has_perm("stores.change_platformrulechange"),
            now_local=timezone.localtime(now).strftime("%Y-%m-%dT%H:%M"),
            sent=sent or {},
            errors=errors or {},
        ),
        status=code,
    )


def _back(request: HttpRequest) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("console:rule_changes"))


@require_POST
@console_view("stores.add_platformrulechange")
def rule_change_record(request: HttpRequest) -> HttpResponse:
    """Record a platform's rule change; a refused one saves nothing and comes back as typed."""
    store = store_or_404(request)
    sent = posted(request, "platform", "title", "summary", "url", "announced_at", "effective_on")
    try:
        announced = form_datetime(sent["announced_at"])
        effective_text = sent["effective_on"]
        effective = form_date(effective_text) if effective_text else None
        errors = {}
        if announced is None:
            errors["announced_at"] = _("请填写获知时间")
        if effective_text and effective is None:
            errors["effective_on"] = _("日期格式应为 YYYY-MM-DD")
        if errors:
            raise ValidationError(_("规则变更信息有误"), fields=errors)
        assert announced is not None
        if timezone.is_naive(announced):
            announced = timezone.make_aware(announced)
        change = services.rule_change_record(
            actor=_actor(request),
            store=store,
            platform=sent["platform"],
            title=sent["title"],
            summary=sent["summary"],
            url=sent["url"],
            announced_at=announced,
            effective_on=effective,
        )
    except DomainError as exc:
        return _rule_changes_page(request, store, sent=sent, errors=refused(request, exc, sent), code=422)
    messages.success(request, _("已登记规则变更「%(t)s」") % {"t": change.title})
    return _back(request)


@require_POST
@console_view("stores.change_platformrulechange")
def rule_change_assess(request: HttpRequest, change_id: int) -> HttpResponse:
    """Assess a change (RISK-03); a refused assessment comes back in its row as typed."""
    store = store_or_404(request)
    change = selectors.rule_change_get(store=store, change_id=change_id)
    sent = posted(request, "assessment", "applies")
    try:
        decision = sent["applies"]
        if decision not in ("yes", "no"):
            raise ValidationError(_("请选择是否适用"), fields={"applies": _("必填")})
        change = services.rule_change_assess(
            actor=_actor(request), change=change, applies=decision == "yes", assessment=sent["assessment"]
        )
    except DomainError as exc:
        return _refused_row(request, store, change_id, "assess", sent, exc)
    messages.success(
        request, _("「%(t)s」已评估：%(s)s") % {"t": change.title, "s": change.get_status_display()}
    )
    return _back(request)


@require_POST
@console_view("stores.change_platformrulechange")
def rule_change_complete(request: HttpRequest, change_id: int) -> HttpResponse:
    """Record what was adjusted (RISK-03); a refused one comes back in its row as typed."""
    store = store_or_404(request)
    change = selectors.rule_change_get(store=store, change_id=change_id)
    sent = posted(request, "actions")
    try:
        change = services.rule_change_complete(actor=_actor(request), change=change, actions=sent["actions"])
    except DomainError as exc:
        return _refused_row(request, store, change_id, "complete", sent, exc)
    messages.success(request, _("「%(t)s」已完成整改") % {"t": change.title})
    return _back(request)


def _refused_row(
    request: HttpRequest, store: Store, change_id: int, form: str, sent: dict[str, str], exc: DomainError
) -> HttpResponse:
    """The rule changes again (the list's filters and page ride on the form's address), the
    refused row's ``form`` as typed with its errors inside it."""
    errors = refused(request, exc, sent)
    return _rule_changes_page(
        request,
        store,
        code=422,
        row_sent={change_id: {form: sent}},
        row_errors={change_id: {form: errors}},
    )


# --- system failures (RISK-04) -------------------------------------------------------------------


@console_view("service.view_incident")
def incidents(request: HttpRequest) -> HttpResponse:
    return _incidents_page(request, store_or_404(request))


def _incidents_page(
    request: HttpRequest,
    store: Store,
    sent: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    code: int = 200,
) -> HttpResponse:
    """The incidents; ``sent``: a refused new incident, shown again as typed."""
    page, used = filtered_page(
        request, partial(service_selectors.incident_list, store=store), status=request.GET.get("status", "")
    )
    status = used["status"]
    return render(
        request,
        "console/incidents.html",
        _base_context(
            request,
            page=page,
            status=status,
            querystring=f"status={status}",
            statuses=[("", _("全部")), ("open", _("未关闭")), *service_selectors.INCIDENT_STATUS_CHOICES],
            channels=list(channel_list(store=store)),
            can_open=request.user.has_perm("service.add_incident"),
            now_local=timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            sent=sent or {},
            errors=errors or {},
        ),
        status=code,
    )


def _step_label(kind: str) -> str:
    labels = {
        "open": _("登记"),
        "failover": _("切换"),
        "recover": _("恢复"),
        "notice": _("通知顾客"),
        "compensate": _("补偿"),
        "close": _("关闭"),
    }
    return labels.get(kind, kind)


def _when(text: str, field: str) -> dt.datetime:
    value = form_datetime(text)
    if value is None:
        problem = _("时间格式有误") if (text or "").strip() else _("请填写时间")
        raise ValidationError(_("故障信息有误"), fields={field: problem})
    return timezone.make_aware(value) if timezone.is_naive(value) else value


@require_POST
@console_view("service.add_incident")
def incident_open(request: HttpRequest) -> HttpResponse:
    """Record a failure; a refused one saves nothing and comes back as typed."""
    store = store_or_404(request)
    sent: dict[str, Any] = posted(request, "title", "description", "started_at")
    channels = [c for c in request.POST.getlist("channels") if c.isdigit()]
    try:
        incident = service_services.incident_open(
            actor=_actor(request),
            store=store,
            title=sent["title"],
            description=sent["description"],
            started_at=_when(sent["started_at"], "started_at"),
            channel_ids=[int(c) for c in channels],
        )
    except DomainError as exc:
        errors = refused(request, exc, sent)
        return _incidents_page(request, store, sent={**sent, "channels": channels}, errors=errors, code=422)
    messages.success(request, _("已登记故障「%(t)s」") % {"t": incident.title})
    return HttpResponseRedirect(reverse("console:incident_detail", args=[incident.pk]))


@console_view("service.view_incident")
def incident_detail(request: HttpRequest, incident_id: int) -> HttpResponse:
    return _incident_page(request, store_or_404(request), incident_id)


def _incident_page(
    request: HttpRequest,
    store: Store,
    incident_id: int,
    sent: dict[str, dict[str, str]] | None = None,
    errors: dict[str, dict[str, str]] | None = None,
    code: int = 200,
) -> HttpResponse:
    """The incident with its action forms; ``sent``: a refused form by its name (``{"close":
    {"note": …}}``), shown again as typed with ``errors`` by field; the other forms as new."""
    incident = service_selectors.incident_get(store=store, incident_id=incident_id)
    touched = service_services.incident_affected_orders(incident)
    return render(
        request,
        "console/incident_detail.html",
        _base_context(
            request,
            incident=incident,
            steps=[{"s": s, "label": _step_label(s.kind)} for s in incident.steps.all()],
            # every customer who ordered on a touched channel during the failure (it showed the
            # first 200): a page at a time
            touched=Paginator(touched, PAGE_SIZE).get_page(_int(request.GET.get("page"))),
            querystring=querystring(request),
            channels=[c.name for c in incident.channels.all()],
            templates=list(coupon_template_list(store=store)),
            default_template=playbook_get(store=store).incident_compensation_coupon_template,
            notice_channels=[("sms", _("短信")), ("message", _("站内信"))],
            can_change=request.user.has_perm("service.change_incident"),
            now_local=timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            sent=sent or {},
            errors=errors or {},
        ),
        status=code,
    )


def _incident_action(
    request: HttpRequest, incident_id: int, run: Any, *, form: str, sent: dict[str, str]
) -> HttpResponse:
    """Run ``run(incident)``; a refusal shows the incident again (422) with the posted
    ``form`` as typed (``sent``) and its errors inside it."""
    store = store_or_404(request)
    incident = service_selectors.incident_get(store=store, incident_id=incident_id)
    try:
        done = run(incident)
    except DomainError as exc:
        errors = refused(request, exc, sent)
        return _incident_page(request, store, incident_id, sent={form: sent}, errors={form: errors}, code=422)
    messages.success(request, done)
    return HttpResponseRedirect(reverse("console:incident_detail", args=[incident_id]))


@require_POST
@console_view("service.change_incident")
def incident_failover(request: HttpRequest, incident_id: int) -> HttpResponse:
    sent = posted(request, "note")

    def run(incident: Any) -> str:
        service_services.incident_failover(actor=_actor(request), incident=incident, note=sent["note"])
        return _("已记录切换措施")

    return _incident_action(request, incident_id, run, form="failover", sent=sent)


@require_POST
@console_view("service.change_incident")
def incident_recover(request: HttpRequest, incident_id: int) -> HttpResponse:
    sent = posted(request, "ended_at", "note")

    def run(incident: Any) -> str:
        service_services.incident_recover(
            actor=_actor(request),
            incident=incident,
            ended_at=_when(sent["ended_at"], "ended_at"),
            note=sent["note"],
        )
        return _("已记录恢复时间")

    return _incident_action(request, incident_id, run, form="recover", sent=sent)


@require_POST
@console_view("service.change_incident")
def incident_notice(request: HttpRequest, incident_id: int) -> HttpResponse:
    sent = posted(request, "text", "channel")

    def run(incident: Any) -> str:
        told = service_services.incident_notify(
            actor=_actor(request), incident=incident, text=sent["text"], channel=sent["channel"] or "sms"
        )
        return _("已通知 %(n)s 位顾客") % {"n": told}

    return _incident_action(request, incident_id, run, form="notice", sent=sent)


@require_POST
@console_view("service.change_incident")
def incident_compensate(request: HttpRequest, incident_id: int) -> HttpResponse:
    sent = posted(request, "template_id")

    def run(incident: Any) -> str:
        template = sent["template_id"]
        issued = service_services.incident_compensate(
            actor=_actor(request),
            incident=incident,
            template_id=int(template) if template.isdigit() else None,
        )
        return _("已发放补偿券 %(n)s 张") % {"n": issued}

    return _incident_action(request, incident_id, run, form="compensate", sent=sent)


@require_POST
@console_view("service.change_incident")
def incident_close(request: HttpRequest, incident_id: int) -> HttpResponse:
    sent = posted(request, "note")

    def run(incident: Any) -> str:
        service_services.incident_close(actor=_actor(request), incident=incident, note=sent["note"])
        return _("故障已关闭")

    return _incident_action(request, incident_id, run, form="close", sent=sent)
