"""Console pages of marketing: campaigns with the approval timeline and actions (PROMO-05),
the hourly monitoring table (PROMO-06), the post-mortem and its Excel export (PROMO-07), the
cash reserve (PROMO-08) and ad plans with keyword stats (ADS-01..03)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from storeops.console.views import _actor, _base_context, _current_store, console_view
from storeops.core.errors import DomainError, NotFound
from storeops.marketing import exports, selectors
from storeops.marketing import services as ms
from storeops.stores.selectors import playbook_get

if TYPE_CHECKING:
    from storeops.stores.models import Store

ADS_DEFAULT_DAYS = 7


_ACTION_LABELS = {
    "submit": lambda: _("提交审批"),
    "activate": lambda: _("上线"),
    "end": lambda: _("结束活动"),
    "cancel": lambda: _("取消活动"),
}


def _step_label(step: str) -> str:
    return {"operations": _("运营负责人"), "marketing": _("推广负责人"), "finance": _("财务")}.get(step, "")


def _store(request: HttpRequest) -> Store:
    store = _current_store(request)
    if store is None:
        raise NotFound(_("还没有店铺"))
    return store


@console_view("marketing.view_campaign")
def campaigns(request: HttpRequest) -> HttpResponse:
    store = _current_store(request)
    if store is None:
        return render(request, "console/empty.html", _base_context(request))
    status = request.GET.get("status", "")
    rows = list(selectors.campaign_list(store=store, status=status)[:200])
    return render(
        request,
        "console/marketing_campaigns.html",
        _base_context(request, rows=rows, status=status, status_choices=selectors.CAMPAIGN_STATUS_CHOICES),
    )


@console_view("marketing.view_campaign")
def campaign_detail(request: HttpRequest, campaign_id: int) -> HttpResponse:
    store = _store(request)
    campaign = selectors.campaign_get(store=store, campaign_id=campaign_id)
    planned, actual = selectors.campaign_budget(campaign)
    waiting = selectors.campaign_waiting_step(campaign)
    return render(
        request,
        "console/marketing_campaign_detail.html",
        _base_context(
            request,
            campaign=campaign,
            planned=planned,
            actual=actual,
            waiting_step=waiting[0] if waiting else "",
            can_decide=waiting is not None and request.user.has_perm(waiting[1]),
            waiting_label=_step_label(waiting[0]) if waiting else "",
            timeline=[{"a": a, "step": _step_label(a.step)} for a in campaign.approvals.all()],
            actions=[(a, _ACTION_LABELS[a]()) for a in selectors.campaign_available_actions(campaign)],
            metrics=selectors.campaign_metric_rows(campaign=campaign),
            monitor=selectors.campaign_monitor(campaign=campaign),
            reserve=selectors.campaign_cash_reserve(campaign),
        ),
    )


def _back(campaign_id: int) -> HttpResponse:
    return HttpResponseRedirect(reverse("console:marketing_campaign_detail", args=[campaign_id]))


@require_POST
@console_view("marketing.view_campaign")
def campaign_decide(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """Approve or reject the waiting step; the service checks the step's own permission."""
    campaign = selectors.campaign_get(store=_store(request), campaign_id=campaign_id)
    try:
        ms.campaign_decide(
            actor=_actor(request),
            campaign=campaign,
            approve=request.POST.get("decision") == "approve",
            comment=request.POST.get("comment", ""),
            step=request.POST.get("step", ""),
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("审批意见已保存"))
    return _back(campaign_id)


_ACTIONS = {
    "submit": ms.campaign_submit,
    "activate": ms.campaign_activate,
    "end": ms.campaign_end,
    "cancel": ms.campaign_cancel,
}


@require_POST
@console_view("marketing.change_campaign")
def campaign_action(request: HttpRequest, campaign_id: int, action: str) -> HttpResponse:
    campaign = selectors.campaign_get(store=_store(request), campaign_id=campaign_id)
    fn = _ACTIONS.get(action)
    if fn is None:
        raise NotFound(_("未知的操作"))
    try:
        fn(actor=_actor(request), campaign=campaign)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("操作成功"))
    return _back(campaign_id)


@console_view("marketing.view_campaignpostmortem")
def postmortem(request: HttpRequest, campaign_id: int) -> HttpResponse:
    store = _store(request)
    campaign = selectors.campaign_get(store=store, campaign_id=campaign_id)
    row = selectors.postmortem_get(campaign=campaign)
    report = row.report if row else ms.postmortem_figures(campaign)
    n = playbook_get(store=store, channel=campaign.channel).postmortem_working_days
    return render(
        request,
        "console/marketing_postmortem.html",
        _base_context(
            request,
            campaign=campaign,
            postmortem=row,
            rows=exports.postmortem_rows(campaign, report),
            due_on=selectors.postmortem_due_on(campaign, n),
        ),
    )


@require_POST
@console_view("marketing.add_campaignpostmortem")
def postmortem_generate(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = selectors.campaign_get(store=_store(request), campaign_id=campaign_id)
    try:
        ms.campaign_postmortem_generate(
            actor=_actor(request), campaign=campaign, conclusions=request.POST.get("conclusions", "")
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("复盘报告已生成"))
    return HttpResponseRedirect(reverse("console:marketing_postmortem", args=[campaign_id]))


@console_view("marketing.view_campaignpostmortem")
def postmortem_export(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = selectors.campaign_get(store=_store(request), campaign_id=campaign_id)
    row = selectors.postmortem_get(campaign=campaign)
    report = row.report if row else ms.postmortem_figures(campaign)
    response = HttpResponse(
        exports.postmortem_workbook(campaign, report),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="postmortem-{campaign.pk}.xlsx"'
    return response


@console_view("marketing.view_adplan")
def ads(request: HttpRequest) -> HttpResponse:
    store = _current_store(request)
    if store is None:
        return render(request, "console/empty.html", _base_context(request))
    until = timezone.localdate()
    try:
        days = min(max(int(request.GET.get("days", ADS_DEFAULT_DAYS)), 1), 366)
    except ValueError:
        days = ADS_DEFAULT_DAYS
    since = until - dt.timedelta(days=days - 1)
    pb = playbook_get(store=store)
    plans = [
        {"plan": p, "keywords": selectors.keyword_stats(plan=p, since=since, until=until)}
        for p in selectors.ad_plan_list(store=store)[:100]
    ]
    return render(
        request,
        "console/marketing_ads.html",
        _base_context(request, plans=plans, days=days, since=since, until=until, playbook=pb),
    )


@require_POST
@console_view("marketing.add_adkeyworddailystat")
def ads_import(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = selectors.ad_plan_get(store=_store(request), plan_id=plan_id)
    upload = request.FILES.get("file")
    text = upload.read().decode("utf-8-sig", errors="replace") if upload else request.POST.get("csv", "")
    try:
        n = ms.ad_stats_import_csv(actor=_actor(request), plan=plan, text=text)
    except DomainError as exc:
        details = "; ".join(f"{k}: {v}" for k, v in list(exc.fields.items())[:10])
        messages.error(request, f"{exc.message} {details}")
    else:
        messages.success(request, _("已导入 %(n)s 行") % {"n": n})
    return HttpResponseRedirect(reverse("console:marketing_ads"))
