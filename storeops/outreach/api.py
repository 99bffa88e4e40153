"""Outreach API (/api/v1/outreach), MEM-06: message templates, marketing consent, campaigns to
a list or a lifecycle segment (price-drop alerts are created by the trigger), their messages
with delivery and conversion, and the gateway's delivery receipts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status

from storeops.accounts.access import perm, principal
from storeops.core.api import OneOf, Page, paginate
from storeops.outreach import audiences, selectors, services
from storeops.outreach.models import (
    AudienceKind,
    CampaignStatus,
    ConsentSource,
    ConsentStatus,
    MessageStatus,
    OutreachChannel,
)
from storeops.stores.models import Store

router = Router(tags=["outreach"])


class MessageTemplateIn(Schema):
    code: str
    name: str
    channel: Annotated[str, OneOf(OutreachChannel)]
    body: str  # placeholders: {product} {drop} {price} {coupon} {store}
    subject: str = ""


class MessageTemplateOut(Schema):
    id: int
    code: str
    name: str
    channel: str
    subject: str
    body: str
    is_active: bool


class ActiveIn(Schema):
    is_active: bool


class ConsentIn(Schema):
    customer_ref: str
    channel: Annotated[str, OneOf(OutreachChannel)]
    opted_in: bool
    source: Annotated[str, OneOf(ConsentSource)]
    address: str = ""  # phone or e-mail; for SMS the latest order's phone is used when empty


class ConsentOut(Schema):
    customer_ref: str
    channel: str
    status: str
    source: str
    changed_at: dt.datetime
    changed_by: str


class OutreachCampaignIn(Schema):
    name: str
    template_id: int
    # a price-drop campaign is not made here (the favourite price-drop alert makes them)
    audience_kind: Annotated[str, OneOf((AudienceKind.LIST, AudienceKind.SEGMENT))]
    customer_refs: list[str] = []  # audience "list"
    segment: Annotated[str, OneOf(audiences.SEGMENT_CODES, blank=True)] = ""  # audience "segment"
    scheduled_at: dt.datetime | None = None


class CampaignStatsOut(Schema):
    audience: int
    processed: int
    sent: int
    delivered: int
    failed: int
    suppressed: dict[str, int]
    converted: int
    revenue: Decimal  # paid by converted orders less their refunds so far
    refunded: Decimal
    delivery_rate: Decimal | None
    conversion_rate: Decimal | None


class OutreachCampaignOut(Schema):
    id: int
    name: str
    template_code: str
    channel: str
    audience_kind: str
    status: str
    scheduled_at: dt.datetime | None
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    audience_size: int
    processed: int
    created_by: str
    created_at: dt.datetime

    @staticmethod
    def resolve_template_code(obj: Any) -> str:
        return str(obj.template.code)

    @staticmethod
    def resolve_channel(obj: Any) -> str:
        return str(obj.template.channel)


class OutreachCampaignDetailOut(OutreachCampaignOut):
    stats: CampaignStatsOut


class OutreachMessageOut(Schema):
    id: int
    customer_ref: str
    channel: str
    address_masked: str
    status: str
    reason: str
    sent_at: dt.datetime | None
    receipt_at: dt.datetime | None
    converted_order: str
    converted_at: dt.datetime | None
    converted_amount: Decimal | None


class ReceiptIn(Schema):
    message_id: int
    delivered: bool
    at: dt.datetime | None = None


def _store(store_id: int) -> Store:
    return get_object_or_404(Store, pk=store_id)


def _stats(stats: selectors.CampaignStats) -> dict[str, Any]:
    return {
        "audience": stats.audience,
        "processed": stats.processed,
        "sent": stats.sent,
        "delivered": stats.delivered,
        "failed": stats.failed,
        "suppressed": stats.suppressed,
        "converted": stats.converted,
        "revenue": stats.revenue,
        "refunded": stats.refunded,
        "delivery_rate": stats.delivery_rate,
        "conversion_rate": stats.conversion_rate,
    }


def _detail(campaign: Any) -> Any:
    campaign.stats = _stats(selectors.campaign_stats(campaign))
    return campaign


@router.get(
    "/{store_id}/templates", response=Page[MessageTemplateOut], auth=perm("outreach.view_messagetemplate")
)
def template_list(request: HttpRequest, store_id: int, page: int = 1, page_size: int = 50) -> Any:
    return paginate(selectors.template_list(_store(store_id)), page, page_size)


@router.post(
    "/{store_id}/templates", response={201: MessageTemplateOut}, auth=perm("outreach.add_messagetemplate")
)
def template_create(request: HttpRequest, store_id: int, payload: MessageTemplateIn) -> Any:
    template = services.template_create(
        actor=principal(request).actor, store=_store(store_id), **payload.dict()
    )
    return Status(201, template)


@router.put(
    "/{store_id}/templates/{template_id}/active",
    response=MessageTemplateOut,
    auth=perm("outreach.change_messagetemplate"),
)
def template_active(request: HttpRequest, store_id: int, template_id: int, payload: ActiveIn) -> Any:
    template = selectors.template_get(_store(store_id), template_id)
    return services.template_set_active(
        actor=principal(request).actor, template=template, active=payload.is_active
    )


@router.get("/{store_id}/consents", response=Page[ConsentOut], auth=perm("outreach.view_consent"))
def consent_list(
    request: HttpRequest,
    store_id: int,
    q: str = "",
    channel: Annotated[str, OneOf(OutreachChannel, blank=True)] = "",
    status: Annotated[str, OneOf(ConsentStatus, blank=True)] = "",
    page: int = 1,
    page_size: int = 50,
) -> Any:
    return paginate(
        selectors.consent_list(_store(store_id), q=q, channel=channel, status=status), page, page_size
    )


@router.post("/{store_id}/consents", response=ConsentOut, auth=perm("outreach.change_consent"))
def consent_set(request: HttpRequest, store_id: int, payload: ConsentIn) -> Any:
    """Record an opt-in or an opt-out (a reply "T", an unsubscribe link, a call to service)."""
    return services.consent_set(actor=principal(request).actor, store=_store(store_id), **payload.dict())


@router.get("/{store_id}/campaigns", response=Page[OutreachCampaignOut], auth=perm("outreach.view_campaign"))
def campaign_list(
    request: HttpRequest,
    store_id: int,
    status: Annotated[str, OneOf(CampaignStatus, blank=True)] = "",
    q: str = "",
    page: int = 1,
    page_size: int = 50,
) -> Any:
    return paginate(selectors.campaign_list(_store(store_id), status=status, q=q), page, page_size)


@router.post(
    "/{store_id}/campaigns", response={201: OutreachCampaignDetailOut}, auth=perm("outreach.add_campaign")
)
def campaign_create(request: HttpRequest, store_id: int, payload: OutreachCampaignIn) -> Any:
    store = _store(store_id)
    data = payload.dict()
    template = selectors.template_get(store, data.pop("template_id"))
    campaign = services.campaign_create(
        actor=principal(request).actor, store=store, template=template, **data
    )
    return Status(201, _detail(campaign))


@router.get(
    "/{store_id}/campaigns/{campaign_id}",
    response=OutreachCampaignDetailOut,
    auth=perm("outreach.view_campaign"),
)
def campaign_detail(request: HttpRequest, store_id: int, campaign_id: int) -> Any:
    return _detail(selectors.campaign_get(_store(store_id), campaign_id))


@router.post(
    "/{store_id}/campaigns/{campaign_id}/send",
    response=OutreachCampaignDetailOut,
    auth=perm("outreach.change_campaign"),
)
def campaign_send(request: HttpRequest, store_id: int, campaign_id: int) -> Any:
    """Send now; inside the quiet hours the campaign is scheduled for the first allowed minute
    (``status`` = scheduled). Large audiences go on in the background: ``processed`` grows."""
    campaign = selectors.campaign_get(_store(store_id), campaign_id)
    return _detail(services.campaign_start(actor=principal(request).actor, campaign=campaign))


@router.post(
    "/{store_id}/campaigns/{campaign_id}/cancel",
    response=OutreachCampaignDetailOut,
    auth=perm("outreach.change_campaign"),
)
def campaign_cancel(request: HttpRequest, store_id: int, campaign_id: int) -> Any:
    campaign = selectors.campaign_get(_store(store_id), campaign_id)
    return _detail(services.campaign_cancel(actor=principal(request).actor, campaign=campaign))


@router.get(
    "/{store_id}/campaigns/{campaign_id}/messages",
    response=Page[OutreachMessageOut],
    auth=perm("outreach.view_campaign"),
)
def campaign_messages(
    request: HttpRequest,
    store_id: int,
    campaign_id: int,
    status: Annotated[str, OneOf(MessageStatus, blank=True)] = "",
    q: str = "",
    page: int = 1,
    page_size: int = 50,
) -> Any:
    campaign = selectors.campaign_get(_store(store_id), campaign_id)
    return paginate(selectors.campaign_messages(campaign, status=status, q=q), page, page_size)


@router.post("/{store_id}/receipts", response=OutreachMessageOut, auth=perm("outreach.change_message"))
def receipt(request: HttpRequest, store_id: int, payload: ReceiptIn) -> Any:
    """The SMS / e-mail / push gateway's delivery report for one message (the message id is the
    one StoreOps sent with it). The first report stands; repeats are answered unchanged."""
    return services.receipt_record(store=_store(store_id), **payload.dict())
