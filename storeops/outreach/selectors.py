"""Outreach reads (MEM-06): templates, consents, campaigns with their delivery and conversion
figures, and the messages of a campaign."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, OuterRef, Q, QuerySet, Sum

from storeops.core.errors import NotFound
from storeops.orders import selectors as order_selectors
from storeops.outreach import rules
from storeops.outreach.models import (
    AudienceKind,
    Campaign,
    CampaignStatus,
    Consent,
    ConsentSource,
    ConsentStatus,
    Message,
    MessageStatus,
    MessageTemplate,
    OutreachChannel,
    SuppressReason,
)
from storeops.stores.models import Store

CHANNEL_CHOICES = OutreachChannel.choices
CONSENT_STATUS_CHOICES = ConsentStatus.choices
CONSENT_SOURCE_CHOICES = ConsentSource.choices
AUDIENCE_CHOICES = AudienceKind.choices
CAMPAIGN_STATUS_CHOICES = CampaignStatus.choices
MESSAGE_STATUS_CHOICES = MessageStatus.choices
SUPPRESS_REASON_CHOICES = SuppressReason.choices
PLACEHOLDERS = sorted(rules.PLACEHOLDERS)


def template_list(store: Store, *, active_only: bool = False) -> QuerySet[MessageTemplate]:
    qs = MessageTemplate.objects.filter(store=store)
    return qs.filter(is_active=True) if active_only else qs


def template_get(store: Store, template_id: int) -> MessageTemplate:
    template = MessageTemplate.objects.filter(store=store, pk=template_id).first()
    if template is None:
        raise NotFound("template not found")
    return template


def consent_list(store: Store, *, q: str = "", channel: str = "", status: str = "") -> QuerySet[Consent]:
    qs = Consent.objects.filter(store=store)
    if q:
        qs = qs.filter(customer_ref__icontains=q.strip())
    if channel:
        qs = qs.filter(channel=channel)
    if status:
        qs = qs.filter(status=status)
    return qs


def campaign_list(store: Store, *, status: str = "", q: str = "") -> QuerySet[Campaign]:
    qs = Campaign.objects.filter(store=store).select_related("template")
    if status:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(name__icontains=q.strip())
    return qs


def campaign_get(store: Store, campaign_id: int) -> Campaign:
    campaign = (
        Campaign.objects.filter(store=store, pk=campaign_id).select_related("template", "store").first()
    )
    if campaign is None:
        raise NotFound("campaign not found")
    return campaign


@dataclass(frozen=True, slots=True)
class CampaignStats:
    audience: int
    processed: int
    sent: int  # handed to the gateway (delivered + failed + awaiting a receipt)
    delivered: int
    failed: int
    suppressed: dict[str, int]  # reason -> customers not messaged
    converted: int
    revenue: Decimal  # paid by the converted orders, less what was refunded on them since
    refunded: Decimal  # refunded on the converted orders (after-sales, cancellations)

    @property
    def delivery_rate(self) -> Decimal | None:
        """Delivered ÷ sent (messages without a receipt yet count as not delivered)."""
        return rules.rate(self.delivered, self.sent)

    @property
    def conversion_rate(self) -> Decimal | None:
        return rules.rate(self.converted, self.sent)


def campaign_stats(campaign: Campaign) -> CampaignStats:
    return campaigns_stats([campaign])[campaign.pk]


def campaigns_stats(campaigns: Iterable[Campaign]) -> dict[int, CampaignStats]:
    """Each campaign's message counts, conversions and suppression reasons: two grouped
    queries for any number of campaigns (a list page, a check over the week's campaigns)."""
    by_id = {c.pk: c for c in campaigns}
    if not by_id:
        return {}
    counts = {
        row["campaign_id"]: row
        for row in Message.objects.filter(campaign_id__in=by_id)
        .values("campaign_id")
        .annotate(
            sent=Count("id", filter=~Q(status=MessageStatus.SUPPRESSED)),
            delivered=Count("id", filter=Q(status=MessageStatus.DELIVERED)),
            failed=Count("id", filter=Q(status=MessageStatus.FAILED)),
            converted=Count("id", filter=~Q(converted_order="")),
            paid=Sum("converted_amount"),
            refunded=Sum(
                order_selectors.refunded_amount_of(
                    store_id=OuterRef("store_id"),
                    number=OuterRef("converted_order"),
                    customer_ref=OuterRef("customer_ref"),
                ),
                filter=~Q(converted_order=""),
            ),
        )
        .order_by()
    }
    suppressed: dict[int, dict[str, int]] = {pk: {} for pk in by_id}
    for campaign_id, reason, n in (
        Message.objects.filter(campaign_id__in=by_id, status=MessageStatus.SUPPRESSED)
        .values_list("campaign_id", "reason")
        .annotate(n=Count("id"))
        .values_list("campaign_id", "reason", "n")
        .order_by()
    ):
        suppressed[campaign_id][reason] = n
    empty = {"sent": 0, "delivered": 0, "failed": 0, "converted": 0, "paid": None, "refunded": None}
    result = {}
    for pk, campaign in by_id.items():
        rows = counts.get(pk, empty)
        # SQLite sums as float
        paid = Decimal(str(rows["paid"] or 0)).quantize(Decimal("0.01"))
        refunded = Decimal(str(rows["refunded"] or 0)).quantize(Decimal("0.01"))
        result[pk] = CampaignStats(
            audience=campaign.audience_size,
            processed=campaign.processed,
            sent=rows["sent"],
            delivered=rows["delivered"],
            failed=rows["failed"],
            suppressed=suppressed[pk],
            converted=rows["converted"],
            revenue=paid - refunded,
            refunded=refunded,
        )
    return result


def campaign_messages(campaign: Campaign, *, status: str = "", q: str = "") -> QuerySet[Message]:
    qs = Message.objects.filter(campaign=campaign)
    if status:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(customer_ref__icontains=q.strip())
    return qs.order_by("id")


def campaigns_sent_between(store: Store, *, since: object, until: object) -> QuerySet[Campaign]:
    return Campaign.objects.filter(
        store=store, status=CampaignStatus.SENT, finished_at__gte=since, finished_at__lt=until
    ).select_related("template")
