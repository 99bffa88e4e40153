"""Console pages of new-store / new-channel launch plans (STORE-07): the plans, and each plan's
checklist (ticked with who and when), its 3-month SMART targets against the actuals measured
from the channel's orders and traffic (an actual typed in wins), and the forms to create and
edit a plan, set its targets, tick a step, type an actual and confirm go-live. Every action
calls a service (:mod:`storeops.stores.services`); a refused form comes back as typed (422)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from functools import partial
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from storeops.analytics.selectors import launch_tracking
from storeops.console.views import (
    _actor,
    _base_context,
    console_view,
    filtered_page,
    flash_error,
    form_date,
    posted,
    querystring,
    refused,
    store_or_404,
)
from storeops.core.errors import DomainError, ValidationError
from storeops.stores import selectors, services

if TYPE_CHECKING:
    from storeops.stores.models import LaunchPlan, Store

PLAN_FIELDS = ("channel", "planned_go_live", "market_research")


@console_view("stores.view_launchplan")
def launch_plans(request: HttpRequest) -> HttpResponse:
    return _plans_page(request, store_or_404(request))


def _plans_page(
    request: HttpRequest,
    store: Store,
    sent: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    code: int = 200,
) -> HttpResponse:
    """The plans, those being prepared first; ``sent``: a refused new plan, shown again as typed."""
    page, used = filtered_page(
        request, partial(selectors.launch_plans, store=store), status=request.GET.get("status", "")
    )
    status = used["status"]
    today = timezone.localdate()
    rows = []
    for plan in page.object_list:
        steps = selectors.launch_steps(plan)
        open_steps = [s for s in steps if s.done_at is None]
        rows.append(
            {
                "plan": plan,
                "done": len(steps) - len(open_steps),
                "total": len(steps),
                "tests_open": sum(1 for s in open_steps if s.full_chain),
                "overdue": plan.status == "preparing" and plan.planned_go_live < today and bool(open_steps),
                "targets": len(plan.targets.all()),
            }
        )
    return render(
        request,
        "console/launch_plans.html",
        _base_context(
            request,
            page=page,
            rows=rows,
            status=status,
            statuses=selectors.LAUNCH_STATUS_CHOICES,
            querystring=querystring(request),
            channels=list(selectors.launch_channels_without_plan(store=store)),
            can_add=request.user.has_perm("stores.add_launchplan"),
            sent=sent or {},
            errors=errors or {},
        ),
        status=code,
    )


def _go_live_date(sent: dict[str, str], errors: dict[str, str]) -> Any:
    text = sent["planned_go_live"]
    day = form_date(text)
    if day is None:
        errors["planned_go_live"] = _("日期格式应为 YYYY-MM-DD") if text else _("请填写计划上线日期")
    return day


@require_POST
@console_view("stores.add_launchplan")
def launch_plan_create(request: HttpRequest) -> HttpResponse:
    """A new plan for a channel without one: its checklist is created with it."""
    store = store_or_404(request)
    sent = posted(request, *PLAN_FIELDS)
    try:
        errors: dict[str, str] = {}
        channel = None
        if not sent["channel"].isdigit():
            errors["channel"] = _("请选择渠道")
        else:
            channel = (
                selectors.launch_channels_without_plan(store=store).filter(pk=int(sent["channel"])).first()
            )
            if channel is None:
                errors["channel"] = _("该渠道不存在或已有上线计划")
        day = _go_live_date(sent, errors)
        if errors:
            raise ValidationError(_("上线计划信息有误"), fields=errors)
        assert channel is not None
        assert day is not None
        plan = services.launch_plan_create(
            actor=_actor(request),
            channel=channel,
            planned_go_live=day,
            market_research=sent["market_research"],
        )
    except DomainError as exc:
        return _plans_page(request, store, sent=sent, errors=refused(request, exc, sent), code=422)
    messages.success(request, _("已创建上线计划：%(c)s") % {"c": plan.channel.name})
    return HttpResponseRedirect(reverse("console:launch_plan", args=[plan.pk]))


@console_view("stores.view_launchplan")
def launch_plan(request: HttpRequest, plan_id: int) -> HttpResponse:
    return _plan_page(request, store_or_404(request), plan_id)


def _percent(value: Decimal | None) -> str:
    """A ratio as the percentage a form shows (0.025 → "2.5")."""
    if value is None:
        return ""
    text = f"{value * 100:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _plain(value: Decimal | None) -> str:
    if value is None:
        return ""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _form_value(metric: str, value: Decimal | None) -> str:
    return _percent(value) if metric == "conversion" else _plain(value)


def _plan_page(
    request: HttpRequest,
    store: Store,
    plan_id: int,
    *,
    form: str = "",
    sent: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    code: int = 200,
) -> HttpResponse:
    """The plan; ``form``: the name of a refused form (edit, targets, step, actual:<target id>),
    shown again as ``sent`` with ``errors`` next to its fields, the other forms as they are."""
    plan = selectors.launch_plan_get(store=store, plan_id=plan_id)
    today = timezone.localdate()
    tracking = launch_tracking(plan, today=today)
    months = selectors.launch_kpi_months(plan)
    sent, errors = sent or {}, errors or {}
    steps = selectors.launch_steps(plan)
    # the targets form: what was typed, else the targets set
    target_inputs = []
    for month in tracking.months:
        cells = []
        for cell in month.cells:
            name = f"m{month.month}.{cell.metric}"
            value = sent.get(name, "") if form == "targets" else _form_value(cell.metric, cell.target)
            cells.append({"name": name, "label": cell.label, "value": value, "error": errors.get(name, "")})
        target_inputs.append({"month": month.month, "cells": cells})
    table = []
    for month in tracking.months:
        for i, cell in enumerate(month.cells):
            key = f"actual:{cell.target_id}"
            table.append(
                {
                    "month": month,
                    "first": i == 0,
                    "span": len(month.cells),
                    "cell": cell,
                    "missed": cell.missed(tracking.miss_ratio),
                    "attainment": None if cell.attainment is None else f"{cell.attainment * 100:.0f}%",
                    "actual_value": sent.get("actual", "")
                    if form == key
                    else _form_value(cell.metric, cell.typed),
                    "actual_error": errors.get("actual", "") if form == key else "",
                }
            )
    open_steps = [s for s in steps if s.done_at is None]
    return render(
        request,
        "console/launch_plan.html",
        _base_context(
            request,
            plan=plan,
            steps=steps,
            open_steps=open_steps,
            done_count=len(steps) - len(open_steps),
            tests_open=[s for s in open_steps if s.full_chain],
            overdue=plan.status == "preparing" and plan.planned_go_live < today and bool(open_steps),
            tracking=tracking,
            miss_percent=_percent(tracking.miss_ratio),
            table=table,
            target_inputs=target_inputs,
            months=months,
            can_change=request.user.has_perm("stores.change_launchplan"),
            form=form,
            sent=sent,
            errors=errors,
            edit={
                "planned_go_live": sent["planned_go_live"]
                if form == "edit"
                else plan.planned_go_live.isoformat(),
                "market_research": sent["market_research"] if form == "edit" else plan.market_research,
            },
        ),
        status=code,
    )


def _back(plan_id: int) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("console:launch_plan", args=[plan_id]))


def _refused(
    request: HttpRequest, store: Store, plan: LaunchPlan, form: str, sent: dict[str, str], exc: DomainError
) -> HttpResponse:
    return _plan_page(
        request, store, plan.pk, form=form, sent=sent, errors=refused(request, exc, sent), code=422
    )


@require_POST
@console_view("stores.change_launchplan")
def launch_plan_edit(request: HttpRequest, plan_id: int) -> HttpResponse:
    """Change the planned go-live date (before go-live) and the market research conclusions."""
    store = store_or_404(request)
    plan = selectors.launch_plan_get(store=store, plan_id=plan_id)
    sent = posted(request, "planned_go_live", "market_research")
    try:
        errors: dict[str, str] = {}
        day = _go_live_date(sent, errors) if plan.status == "preparing" else None
        if errors:
            raise ValidationError(_("上线计划信息有误"), fields=errors)
        services.launch_plan_update(
            actor=_actor(request), plan=plan, planned_go_live=day, market_research=sent["market_research"]
        )
    except DomainError as exc:
        return _refused(request, store, plan, "edit", sent, exc)
    messages.success(request, _("上线计划已保存"))
    return _back(plan.pk)


def _kpi_text(metric: str, text: str) -> str:
    """What the form's field says, for the service: conversion is typed as a percentage."""
    if metric != "conversion":
        return text
    try:
        return str(Decimal(text.rstrip("%").strip()) / 100)
    except InvalidOperation:
        return text  # the service refuses it as not a number


@require_POST
@console_view("stores.change_launchplan")
def launch_plan_targets(request: HttpRequest, plan_id: int) -> HttpResponse:
    """Set the SMART targets of each of the first months (all of them at once)."""
    store = store_or_404(request)
    plan = selectors.launch_plan_get(store=store, plan_id=plan_id)
    months = selectors.launch_kpi_months(plan)
    names = [f"m{m}.{k}" for m in range(1, months + 1) for k in selectors.LAUNCH_METRICS]
    sent = posted(request, *names)
    targets: dict[tuple[int, str], Any] = {}
    for name in names:
        if sent[name]:
            month, metric = name[1:].split(".")
            targets[(int(month), metric)] = _kpi_text(metric, sent[name])
    try:
        services.launch_targets_set(actor=_actor(request), plan=plan, targets=targets, months=months)
    except DomainError as exc:
        return _refused(request, store, plan, "targets", sent, exc)
    messages.success(request, _("KPI目标已保存"))
    return _back(plan.pk)


@require_POST
@console_view("stores.change_launchplan")
def launch_plan_step(request: HttpRequest, plan_id: int) -> HttpResponse:
    """Tick a checklist step: who and when are recorded, with an optional note."""
    store = store_or_404(request)
    plan = selectors.launch_plan_get(store=store, plan_id=plan_id)
    sent = posted(request, "step", "note")
    try:
        if len(sent["note"]) > 300:
            raise ValidationError(_("内容过长"), fields={"note": _("最多 %(n)s 个字符") % {"n": 300}})
        services.launch_step_complete(actor=_actor(request), plan=plan, step=sent["step"], note=sent["note"])
    except DomainError as exc:
        return _refused(request, store, plan, "step", sent, exc)
    messages.success(request, _("已完成检查项"))
    return _back(plan.pk)


@require_POST
@console_view("stores.change_launchplan")
def launch_plan_actual(request: HttpRequest, plan_id: int) -> HttpResponse:
    """Type a month's actual by hand (it wins over the measured one); empty removes it."""
    store = store_or_404(request)
    plan = selectors.launch_plan_get(store=store, plan_id=plan_id)
    sent = posted(request, "target", "actual")
    target = next((t for t in plan.targets.all() if str(t.pk) == sent["target"]), None)
    if target is None:
        messages.error(request, _("KPI目标不存在"))
        return _back(plan.pk)
    try:
        text = sent["actual"]
        actual = _kpi_text(target.metric, text) if text else None
        services.launch_target_record_actual(actor=_actor(request), target=target, actual=actual)
    except DomainError as exc:
        return _refused(request, store, plan, f"actual:{target.pk}", sent, exc)
    messages.success(request, _("实际值已保存") if text else _("已改用系统计算的实际值"))
    return _back(plan.pk)


@require_POST
@console_view("stores.change_launchplan")
def launch_plan_go_live(request: HttpRequest, plan_id: int) -> HttpResponse:
    """Go live today: refused while a checklist step (the full-chain test included) is open."""
    store = store_or_404(request)
    plan = selectors.launch_plan_get(store=store, plan_id=plan_id)
    try:
        services.launch_go_live(actor=_actor(request), plan=plan, today=timezone.localdate())
    except DomainError as exc:
        flash_error(request, exc)
    else:
        messages.success(request, _("已确认上线：%(c)s") % {"c": plan.channel.name})
    return _back(plan.pk)
