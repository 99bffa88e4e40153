"""Promotions API (/api/v1/promotions): offers (PROMO-01), coupon templates and coupons
(PROMO-02), and the cart quote (PROMO-03/04).

Offer ids in a quote are the engine's: ``of<id>`` for an offer row, ``cp<code>`` for a
coupon, ``member-tier-price`` for the playbook's member-tier price.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status

from storeops.accounts.access import perm, principal
from storeops.core.api import OneOf, Page, paginate
from storeops.promotions import selectors, services
from storeops.promotions.models import (
    CouponKind,
    CouponStatus,
    CouponTemplate,
    IssueRule,
    Offer,
    OfferKind,
    OfferStatus,
)
from storeops.stores.models import Channel, Store

router = Router(tags=["promotions"])


def _store(store_id: int) -> Store:
    return get_object_or_404(Store, pk=store_id)


class OfferIn(Schema):
    kind: Annotated[str, OneOf(OfferKind)]
    params: dict[str, Any] = {}
    title_zh: str = ""
    title_en: str = ""
    category_ids: list[int] = []
    product_ids: list[int] = []
    sku_ids: list[int] = []
    channels: list[str] = []
    tiers: list[str] = []
    segments: list[str] = []
    new_users_only: bool = False
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    exclusive_group: str = ""
    priority: int = 0
    per_user_limit: int | None = None
    stock_cap: int | None = None


class OfferPatch(Schema):
    params: dict[str, Any] | None = None
    title_zh: str | None = None
    title_en: str | None = None
    category_ids: list[int] | None = None
    product_ids: list[int] | None = None
    sku_ids: list[int] | None = None
    channels: list[str] | None = None
    tiers: list[str] | None = None
    segments: list[str] | None = None
    new_users_only: bool | None = None
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    exclusive_group: str | None = None
    priority: int | None = None
    per_user_limit: int | None = None
    stock_cap: int | None = None
    status: Annotated[str, OneOf(OfferStatus)] | None = None


class OfferOut(Schema):
    id: int
    kind: str
    level: str
    status: str
    phase: str  # scheduled / running / expired for an active offer, else its status
    title_zh: str
    title_en: str
    params: dict[str, Any]
    all_items: bool
    category_ids: list[int]
    product_ids: list[int]
    sku_ids: list[int]
    channels: list[str]
    tiers: list[str]
    segments: list[str]
    new_users_only: bool
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    exclusive_group: str
    priority: int
    per_user_limit: int | None
    stock_cap: int | None
    stock_sold: int

    @staticmethod
    def resolve_phase(obj: Offer) -> str:
        return obj.phase()

    @staticmethod
    def resolve_category_ids(obj: Offer) -> list[int]:
        return sorted(i.category_id for i in obj.scope_items.all() if i.category_id)

    @staticmethod
    def resolve_product_ids(obj: Offer) -> list[int]:
        return sorted(i.product_id for i in obj.scope_items.all() if i.product_id)

    @staticmethod
    def resolve_sku_ids(obj: Offer) -> list[int]:
        return sorted(i.sku_id for i in obj.scope_items.all() if i.sku_id)


class TemplateIn(Schema):
    name: str
    kind: Annotated[str, OneOf(CouponKind)]
    amount: Decimal
    threshold: Decimal = Decimal(0)
    stackable: bool = False
    category_ids: list[int] = []
    issue_rule: Annotated[str, OneOf(IssueRule)] = IssueRule.MANUAL
    tier: str = ""
    issue_starts_at: dt.datetime | None = None
    issue_ends_at: dt.datetime | None = None
    valid_from: dt.datetime | None = None
    valid_until: dt.datetime | None = None
    valid_days: int | None = None
    total_quantity: int | None = None
    per_user_limit: int = 1


class TemplateOut(Schema):
    id: int
    name: str
    kind: str
    amount: Decimal
    threshold: Decimal
    stackable: bool
    category_ids: list[int]
    issue_rule: str
    tier: str
    valid_from: dt.datetime | None
    valid_until: dt.datetime | None
    valid_days: int | None
    total_quantity: int | None
    issued_count: int
    per_user_limit: int
    is_active: bool

    @staticmethod
    def resolve_category_ids(obj: CouponTemplate) -> list[int]:
        return sorted(c.pk for c in obj.categories.all())


class IssueIn(Schema):
    customer_refs: list[str]
    campaign_ref: str = ""
    issue_key: str = ""


class CouponOut(Schema):
    id: int
    code: str
    template_id: int
    customer_ref: str
    status: str
    source: str
    campaign_ref: str
    issued_at: dt.datetime
    valid_from: dt.datetime | None
    valid_until: dt.datetime | None
    redeemed_at: dt.datetime | None
    order_ref: str


class IssueOut(Schema):
    issued: list[CouponOut]
    skipped: dict[str, str]


class QuoteLineIn(Schema):
    sku: str  # SKU code
    quantity: int


class ShopperIn(Schema):
    ref: str | None = None
    tier: str | None = None
    segments: list[str] = []
    is_new: bool = False
    joined_groups: list[int] = []
    paid_deposits: list[int] = []


class QuoteIn(Schema):
    lines: list[QuoteLineIn]
    channel_id: int | None = None
    customer: ShopperIn = ShopperIn()
    coupon_codes: list[str] = []
    at: dt.datetime | None = None


class AdjustmentOut(Schema):
    offer_id: str
    level: str
    amount: Decimal


class QuotedLineOut(Schema):
    sku: str
    quantity: int
    list_total: Decimal
    item_total: Decimal
    store_discount: Decimal
    coupon_discount: Decimal
    final_total: Decimal
    adjustments: list[AdjustmentOut]
    deposit: Decimal | None
    balance: Decimal | None


class AppliedOut(Schema):
    offer_id: str
    kind: str
    level: str
    amount: Decimal
    zh: str
    en: str
    coupon_code: str | None


class GiftOut(Schema):
    offer_id: str
    sku: str
    quantity: int


class HintOut(Schema):
    offer_id: str
    missing: Decimal
    gain: Decimal | None
    zh: str
    en: str


class ExplanationOut(Schema):
    offer_id: str | None
    zh: str
    en: str


class QuoteOut(Schema):
    currency: str
    list_total: Decimal
    payable: Decimal
    savings: Decimal
    deposit_total: Decimal
    balance_total: Decimal
    lines: list[QuotedLineOut]
    applied: list[AppliedOut]
    gifts: list[GiftOut]
    hints: list[HintOut]
    explanation: list[ExplanationOut]


@router.post("/{store_id}/quote", response=QuoteOut, auth=perm("promotions.view_offer"))
def quote(request: HttpRequest, store_id: int, payload: QuoteIn) -> dict[str, Any]:
    store = _store(store_id)
    channel = None
    if payload.channel_id is not None:
        channel = get_object_or_404(Channel, pk=payload.channel_id, store=store)
    c = payload.customer
    result = services.quote_cart(
        store=store,
        channel=channel,
        lines=[services.CartItem(sku_code=line.sku, quantity=line.quantity) for line in payload.lines],
        customer=services.Shopper(
            customer_ref=c.ref,
            tier=c.tier,
            segments=frozenset(c.segments),
            is_new=c.is_new,
            joined_groups=frozenset(c.joined_groups),
            paid_deposits=frozenset(c.paid_deposits),
        ),
        coupon_codes=payload.coupon_codes,
        now=payload.at,
    )
    return selectors.quote_as_dict(result.quote, [sku.code for sku in result.skus])


@router.get("/{store_id}/offers", response=Page[OfferOut], auth=perm("promotions.view_offer"))
def offer_list(
    request: HttpRequest,
    store_id: int,
    kind: Annotated[str, OneOf(OfferKind, blank=True)] = "",
    status: Annotated[str, OneOf(OfferStatus, blank=True)] = "",
    scope: Annotated[str, OneOf(selectors.OFFER_SCOPES, blank=True)] = "",
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    qs = selectors.offer_list(store=_store(store_id), kind=kind, status=status, scope=scope)
    return paginate(qs.prefetch_related("scope_items"), page, page_size)


@router.post("/{store_id}/offers", response={201: OfferOut}, auth=perm("promotions.add_offer"))
def offer_create(request: HttpRequest, store_id: int, payload: OfferIn) -> Status:
    offer = services.offer_create(actor=principal(request).actor, store=_store(store_id), **payload.dict())
    return Status(201, selectors.offer_get(store=offer.store, offer_id=offer.pk))


@router.get("/{store_id}/offers/{offer_id}", response=OfferOut, auth=perm("promotions.view_offer"))
def offer_detail(request: HttpRequest, store_id: int, offer_id: int) -> Offer:
    return selectors.offer_get(store=_store(store_id), offer_id=offer_id)


@router.patch("/{store_id}/offers/{offer_id}", response=OfferOut, auth=perm("promotions.change_offer"))
def offer_update(request: HttpRequest, store_id: int, offer_id: int, payload: OfferPatch) -> Offer:
    store = _store(store_id)
    offer = selectors.offer_get(store=store, offer_id=offer_id)
    actor = principal(request).actor
    changes = payload.dict(exclude_unset=True)
    status = changes.pop("status", None)
    if changes:
        offer = services.offer_update(actor=actor, offer=offer, **changes)
    if status is not None and status != offer.status:
        services.offer_set_status(actor=actor, offer=offer, status=status)
    return selectors.offer_get(store=store, offer_id=offer_id)


@router.get(
    "/{store_id}/coupon-templates", response=Page[TemplateOut], auth=perm("promotions.view_coupontemplate")
)
def template_list(request: HttpRequest, store_id: int, page: int = 1, page_size: int = 50) -> dict[str, Any]:
    return paginate(selectors.coupon_template_list(store=_store(store_id)), page, page_size)


@router.post(
    "/{store_id}/coupon-templates", response={201: TemplateOut}, auth=perm("promotions.add_coupontemplate")
)
def template_create(request: HttpRequest, store_id: int, payload: TemplateIn) -> Status:
    data = payload.dict()
    category_ids = data.pop("category_ids")
    template = services.coupon_template_create(
        actor=principal(request).actor, store=_store(store_id), category_ids=category_ids, **data
    )
    return Status(201, template)


@router.post(
    "/{store_id}/coupon-templates/{template_id}/issue",
    response=IssueOut,
    auth=perm("promotions.add_issuedcoupon"),
)
def template_issue(request: HttpRequest, store_id: int, template_id: int, payload: IssueIn) -> dict[str, Any]:
    template = selectors.coupon_template_get(store=_store(store_id), template_id=template_id)
    result = services.coupon_issue_batch(
        actor=principal(request).actor,
        template=template,
        customer_refs=payload.customer_refs,
        campaign_ref=payload.campaign_ref,
        issue_key=payload.issue_key,
    )
    return {"issued": result.issued, "skipped": result.skipped}


@router.get("/{store_id}/coupons", response=Page[CouponOut], auth=perm("promotions.view_issuedcoupon"))
def coupon_list(
    request: HttpRequest,
    store_id: int,
    customer: str = "",
    status: Annotated[str, OneOf(CouponStatus, blank=True)] = "",
    template_id: int | None = None,
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    qs: Any = selectors.coupon_list(
        store=_store(store_id), customer_ref=customer, status=status, template_id=template_id
    )
    return paginate(qs, page, page_size)
