"""Console pages of outreach (MEM-06): campaigns (list, new, detail with delivery and
conversion, send / cancel), message templates and marketing consent. Every action calls
:mod:`storeops.outreach.services`."""

from __future__ import annotations

from typing import TYPE_CHECKING

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
    console_view,
    flash_error,
    form_datetime,
    posted,
    querystring,
    refused,
    store_or_404,
)
from storeops.core.errors import DomainError, NotFound, ValidationError
from storeops.outreach import audiences, selectors, services
from storeops.stores.selectors import playbook_get

if TYPE_CHECKING:
    from storeops.stores.models import Store


@console_view("outreach.view_campaign")
def campaigns(request: HttpRequest) -> HttpResponse:
    return _campaigns_page(request, store_or_404(request))


def _campaigns_page(
    request: HttpRequest,
    store: Store,
    sent: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    code: int = 200,
) -> HttpResponse:
    """The campaigns; ``sent``: a refused new campaign, shown again as typed."""
    status, q = request.GET.get("status", ""), request.GET.get("q", "")
    page = Paginator(selectors.campaign_list(store, status=status, q=q), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    stats = selectors.campaigns_stats(page)
    rows = [{"c": c, "stats": stats[c.pk], "skipped": sum(stats[c.pk].suppressed.values())} for c in page]
    book = playbook_get(store=store)
    return render(
        request,
        "console/outreach_campaigns.html",
        _base_context(
            request,
            page=page,
            rows=rows,
            status=status,
            q=q,
            querystring=querystring(request),
            statuses=selectors.CAMPAIGN_STATUS_CHOICES,
            templates=selectors.template_list(store, active_only=True),
            segments=audiences.segment_choices(),
            book=book,
            can_add=request.user.has_perm("outreach.add_campaign"),
            sent=sent or {"audience_kind": "segment"},
            errors=errors or {},
        ),
        status=code,
    )


_CAMPAIGN_FIELDS = ("name", "template", "audience_kind", "segment", "customer_refs", "scheduled_at")


@require_POST
@console_view("outreach.add_campaign")
def campaign_create(request: HttpRequest) -> HttpResponse:
    """Create a campaign; a refused one saves nothing and comes back as typed."""
    store = store_or_404(request)
    sent = posted(request, *_CAMPAIGN_FIELDS)
    try:
        scheduled_text = sent["scheduled_at"]
        scheduled = form_datetime(scheduled_text) if scheduled_text else None
        if scheduled_text and scheduled is None:
            raise ValidationError(_("时间格式有误"), fields={"scheduled_at": _("时间格式有误")})
        if scheduled is not None and timezone.is_naive(scheduled):
            scheduled = timezone.make_aware(scheduled)
        try:
            template_id = int(sent["template"])
        except ValueError:
            raise ValidationError(_("请选择模板"), fields={"template": _("必填")}) from None
        campaign = services.campaign_create(
            actor=_actor(request),
            store=store,
            name=sent["name"],
            template=selectors.template_get(store, template_id),
            audience_kind=sent["audience_kind"],
            customer_refs=services.customers_from_text(sent["customer_refs"]),
            segment=sent["segment"],
            scheduled_at=scheduled,
        )
    except DomainError as exc:
        return _campaigns_page(request, store, sent=sent, errors=refused(request, exc, sent), code=422)
    messages.success(request, _("已创建触达活动「%(n)s」") % {"n": campaign.name})
    return HttpResponseRedirect(reverse("console:outreach_campaign", args=[campaign.pk]))


@console_view("outreach.view_campaign")
def campaign_detail(request: HttpRequest, campaign_id: int) -> HttpResponse:
    store = store_or_404(request)
    campaign = selectors.campaign_get(store, campaign_id)
    status, q = request.GET.get("status", ""), request.GET.get("q", "")
    page = Paginator(selectors.campaign_messages(campaign, status=status, q=q), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    stats = selectors.campaign_stats(campaign)
    reasons = dict(selectors.SUPPRESS_REASON_CHOICES)
    return render(
        request,
        "console/outreach_campaign.html",
        _base_context(
            request,
            campaign=campaign,
            stats=stats,
            suppressed=[(reasons.get(k, k), n) for k, n in sorted(stats.suppressed.items())],
            page=page,
            status=status,
            q=q,
            querystring=querystring(request),
            statuses=selectors.MESSAGE_STATUS_CHOICES,
            can_change=request.user.has_perm("outreach.change_campaign"),
        ),
    )


@require_POST
@console_view("outreach.change_campaign")
def campaign_action(request: HttpRequest, campaign_id: int, action: str) -> HttpResponse:
    try:
        campaign = selectors.campaign_get(store_or_404(request), campaign_id)
        if action == "send":
            campaign = services.campaign_start(actor=_actor(request), campaign=campaign)
            if campaign.status == "scheduled":
                messages.info(
                    request,
                    _("现在是免打扰时段，已安排在 %(t)s 发送")
                    % {"t": timezone.localtime(campaign.scheduled_at).strftime("%m-%d %H:%M")},
                )
            else:
                messages.success(request, _("已开始发送"))
        elif action == "cancel":
            services.campaign_cancel(
                actor=_actor(request), campaign=campaign, note=request.POST.get("note", "")
            )
            messages.success(request, _("已取消"))
        else:
            raise NotFound(_("未知操作"))
    except DomainError as exc:
        flash_error(request, exc)
    return HttpResponseRedirect(reverse("console:outreach_campaign", args=[campaign_id]))


@console_view("outreach.view_messagetemplate")
def templates(request: HttpRequest) -> HttpResponse:
    return _templates_page(request, store_or_404(request))


def _templates_page(
    request: HttpRequest,
    store: Store,
    sent: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    code: int = 200,
) -> HttpResponse:
    """The message templates; ``sent``: a refused new template, shown again as typed."""
    page = Paginator(selectors.template_list(store), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "console/outreach_templates.html",
        _base_context(
            request,
            page=page,
            querystring=querystring(request),
            channels=selectors.CHANNEL_CHOICES,
            placeholders=selectors.PLACEHOLDERS,
            optout=playbook_get(store=store).outreach_sms_optout_text,
            can_add=request.user.has_perm("outreach.add_messagetemplate"),
            can_change=request.user.has_perm("outreach.change_messagetemplate"),
            sent=sent or {},
            errors=errors or {},
        ),
        status=code,
    )


@require_POST
@console_view("outreach.add_messagetemplate")
def template_create(request: HttpRequest) -> HttpResponse:
    """Add a template; a refused one saves nothing and comes back as typed."""
    store = store_or_404(request)
    sent = posted(request, "code", "name", "channel", "body", "subject")
    try:
        template = services.template_create(actor=_actor(request), store=store, **sent)
    except DomainError as exc:
        return _templates_page(request, store, sent=sent, errors=refused(request, exc, sent), code=422)
    messages.success(request, _("已添加模板「%(n)s」") % {"n": template.name})
    return HttpResponseRedirect(reverse("console:outreach_templates"))


@require_POST
@console_view("outreach.change_messagetemplate")
def template_toggle(request: HttpRequest, template_id: int) -> HttpResponse:
    try:
        template = selectors.template_get(store_or_404(request), template_id)
        services.template_set_active(actor=_actor(request), template=template, active=not template.is_active)
    except DomainError as exc:
        flash_error(request, exc)
    return HttpResponseRedirect(reverse("console:outreach_templates"))


@console_view("outreach.view_consent")
def consents(request: HttpRequest) -> HttpResponse:
    return _consents_page(request, store_or_404(request))


def _consents_page(
    request: HttpRequest,
    store: Store,
    sent: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    code: int = 200,
) -> HttpResponse:
    """Marketing consent; ``sent``: a refused consent or opt-out, shown again as typed."""
    q, channel, status = (
        request.GET.get("q", ""),
        request.GET.get("channel", ""),
        request.GET.get("status", ""),
    )
    page = Paginator(selectors.consent_list(store, q=q, channel=channel, status=status), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "console/outreach_consents.html",
        _base_context(
            request,
            page=page,
            q=q,
            channel=channel,
            status=status,
            querystring=querystring(request),
            channels=selectors.CHANNEL_CHOICES,
            statuses=selectors.CONSENT_STATUS_CHOICES,
            sources=selectors.CONSENT_SOURCE_CHOICES,
            can_change=request.user.has_perm("outreach.change_consent"),
            sent=sent or {"source": "console"},
            errors=errors or {},
        ),
        status=code,
    )


@require_POST
@console_view("outreach.change_consent")
def consent_set(request: HttpRequest) -> HttpResponse:
    """Record a consent or an opt-out; a refused one saves nothing and comes back as typed."""
    store = store_or_404(request)
    sent = posted(request, "customer_ref", "channel", "source", "address")
    try:
        consent = services.consent_set(
            actor=_actor(request),
            store=store,
            customer_ref=sent["customer_ref"],
            channel=sent["channel"],
            opted_in=request.POST.get("opted_in") == "yes",
            source=sent["source"] or "console",
            address=sent["address"],
        )
    except DomainError as exc:
        return _consents_page(request, store, sent=sent, errors=refused(request, exc, sent), code=422)
    messages.success(
        request,
        _("已登记：%(c)s %(s)s") % {"c": consent.customer_ref, "s": consent.get_status_display()},
    )
    return HttpResponseRedirect(reverse("console:outreach_consents"))
