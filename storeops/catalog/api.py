"""Catalog API (/api/v1/catalog): products and their tags (SEL-04), listing audit and its queue,
channel listings, categories, the banned-word list, supplier ranking and the selection screen."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from storeops.accounts.access import perm, principal
from storeops.catalog import selectors, services
from storeops.catalog.models import (
    Category,
    ChannelListing,
    DelistReason,
    ListingAudit,
    Product,
    ProductStatus,
    RemainingStockAction,
    Sku,
    Tag,
    TagKind,
)
from storeops.catalog.rules import sorted_tags
from storeops.core.api import OneOf, Page, paginate
from storeops.core.errors import NotFound, ValidationError
from storeops.stores.models import Channel, Store
from storeops.stores.selectors import playbook_get

router = Router(tags=["catalog"])


class CategoryIn(Schema):
    code: str
    name: str
    parent_id: int | None = None
    required_qualifications: list[str] = []
    required_parameters: list[str] = []
    attribute_words: list[str] = []
    scene_words: list[str] = []


class CategoryOut(Schema):
    id: int
    code: str
    name: str
    parent_id: int | None
    required_qualifications: list[str]
    required_parameters: list[str]
    attribute_words: list[str]
    scene_words: list[str]


class SkuIn(Schema):
    code: str
    price: Decimal
    cost: Decimal = Decimal(0)
    barcode: str = ""
    attributes: dict[str, str] = {}
    weight_g: int | None = None  # LOG-03: grams, for the carrier choice (null = unknown)
    is_fragile: bool = False


class SkuOut(Schema):
    id: int
    code: str
    price: Decimal
    cost: Decimal
    barcode: str
    attributes: dict[str, Any]
    is_active: bool
    weight_g: int | None
    is_fragile: bool


class SkuShippingPatch(Schema):
    weight_g: int | None = None
    is_fragile: bool | None = None


class ProductIn(Schema):
    category_id: int
    code: str
    core_word: str
    title: str
    description: str = ""
    has_efficacy_claim: bool = False
    parameters: dict[str, str] = {}
    is_key: bool = False
    skus: list[SkuIn]
    # SEL-04: "kind:name" (kind: category, price_band, style, scene, or 类目/价格带/风格/使用场景)
    tags: list[str] = []


class ProductPatch(Schema):
    category_id: int | None = None
    core_word: str | None = None
    title: str | None = None
    description: str | None = None
    has_efficacy_claim: bool | None = None
    parameters: dict[str, str] | None = None
    is_key: bool | None = None
    # INV-06 season (旺季): months 1..12, both or neither (null clears); the demand multiplier
    # in season used until a year of sales can be learned from
    season_start_month: int | None = None
    season_end_month: int | None = None
    season_uplift: Decimal | None = None
    # SEL-04: replaces all of the product's tags ("kind:name"; [] removes them)
    tags: list[str] | None = None


class TagIn(Schema):
    kind: Annotated[str, OneOf(TagKind)]
    name: str


class TagPatch(Schema):
    kind: Annotated[str, OneOf(TagKind)] | None = None
    name: str | None = None


class TagOut(Schema):
    id: int
    kind: str
    name: str
    text: str
    product_count: int

    @staticmethod
    def resolve_text(obj: Tag) -> str:
        return f"{obj.kind}:{obj.name}"

    @staticmethod
    def resolve_product_count(obj: Tag) -> int:
        count = getattr(obj, "product_count", None)
        return obj.products.count() if count is None else int(count)


class ProductOut(Schema):
    id: int
    code: str
    category_id: int
    core_word: str
    title: str
    status: str
    is_key: bool
    listed_on: dt.date | None
    season_start_month: int | None
    season_end_month: int | None
    season_uplift: Decimal | None
    tags: list[str]

    @staticmethod
    def resolve_tags(obj: Product) -> list[str]:
        return [f"{k}:{n}" for k, n in sorted_tags((t.kind, t.name) for t in obj.tags.all())]


class AuditReasonOut(Schema):
    rule: str
    code: str
    field: str
    message_zh: str
    message_en: str
    severity: str
    positions: list[list[int]]


class ListingAuditOut(Schema):
    id: int
    product_id: int
    created_at: dt.datetime
    passed: bool
    outcome: str
    reasons: list[AuditReasonOut]
    word_list_version: str
    decision: str
    comment: str


class ListingOut(Schema):
    id: int
    product_id: int
    channel_id: int
    status: str
    list_at: dt.datetime | None
    delist_at: dt.datetime | None
    listed_at: dt.datetime | None
    delisted_at: dt.datetime | None
    delist_reason: str
    remaining_stock_action: str
    delist_note: str
    held_reason: str


class ProductDetailOut(ProductOut):
    description: str
    has_efficacy_claim: bool
    parameters: dict[str, Any]
    skus: list[SkuOut]
    listings: list[ListingOut]
    audits: list[ListingAuditOut]

    @staticmethod
    def resolve_skus(obj: Product) -> list[Any]:
        return list(obj.skus.all())

    @staticmethod
    def resolve_listings(obj: Product) -> list[Any]:
        return list(obj.listings.all())

    @staticmethod
    def resolve_audits(obj: Product) -> list[Any]:
        return list(obj.audits.all()[:10])


class AuditReviewIn(Schema):
    approve: bool
    comment: str = ""


class ScheduleIn(Schema):
    channel_id: int
    list_at: dt.datetime | None = None
    delist_at: dt.datetime | None = None
    # LIST-06: required with delist_at (checked by the service, with the other fields)
    delist_reason: str = ""
    remaining_stock_action: str = ""
    delist_note: str = ""


class DelistIn(Schema):
    reason: Annotated[str, OneOf(DelistReason)]
    remaining_stock_action: Annotated[str, OneOf(RemainingStockAction)]
    note: str = ""
    at: dt.datetime | None = None


class BannedWordsIn(Schema):
    words: str


class BannedWordsOut(Schema):
    words: list[str]
    version: str
    is_default: bool


class SupplierIn(Schema):
    code: str
    name: str
    contact: str = ""
    phone: str = ""
    payment_term_days: int = 0
    small_batch_customisation: bool = False


class SupplierOut(Schema):
    id: int
    code: str
    name: str
    payment_term_days: int
    small_batch_customisation: bool
    is_active: bool


class SupplierScoreOut(Schema):
    supplier: SupplierOut
    rank: int
    score: Decimal
    components: dict[str, Decimal]
    reasons: list[str]


class MarketCategoryOut(Schema):
    category_name: str
    period_end: dt.date
    growth_30d: Decimal
    listings: int
    search_popularity: int
    conversion_rate: Decimal | None  # the industry payment conversion: the DATA-02 category benchmark
    competition_ratio: Decimal | None
    candidate: bool


def _store(store_id: int) -> Store:
    return get_object_or_404(Store, pk=store_id)


def _product(store_id: int, product_id: int) -> Product:
    product = selectors.product_detail(store_id=store_id, product_id=product_id)
    if product is None:
        raise NotFound(_("商品不存在"))
    return product


@router.get("/{store_id}/categories", response=list[CategoryOut], auth=perm("catalog.view_category"))
def category_list(request: HttpRequest, store_id: int) -> list[Category]:
    return list(Category.objects.filter(store=_store(store_id)).order_by("code"))


@router.post("/{store_id}/categories", response={201: CategoryOut}, auth=perm("catalog.add_category"))
def category_create(request: HttpRequest, store_id: int, payload: CategoryIn) -> Status:
    store = _store(store_id)
    data = payload.dict()
    parent_id = data.pop("parent_id")
    parent = get_object_or_404(Category, pk=parent_id, store=store) if parent_id else None
    return Status(
        201, services.category_create(actor=principal(request).actor, store=store, parent=parent, **data)
    )


@router.get("/{store_id}/products", response=Page[ProductOut], auth=perm("catalog.view_product"))
def product_list(
    request: HttpRequest,
    store_id: int,
    q: str = "",
    status: Annotated[str, OneOf(ProductStatus, blank=True)] = "",
    category_id: int | None = None,
    tag: str = "",
    tag_id: int | None = None,
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    """``q``: title, code, core word, SKU code or barcode, or part of a tag name; ``tag``: a
    tag name or ``kind:name``; ``tag_id``: one tag (SEL-04)."""
    qs = selectors.product_list(
        store_id=_store(store_id).pk, q=q, status=status, category_id=category_id, tag=tag, tag_id=tag_id
    )
    return paginate(qs.prefetch_related("tags"), page, page_size)


@router.post("/{store_id}/products", response={201: ProductDetailOut}, auth=perm("catalog.add_product"))
def product_create(request: HttpRequest, store_id: int, payload: ProductIn) -> Status:
    store = _store(store_id)
    data = payload.dict()
    category = get_object_or_404(Category, pk=data.pop("category_id"), store=store)
    data["tags"] = services.tags_parse(data["tags"])
    product = services.product_create(actor=principal(request).actor, store=store, category=category, **data)
    return Status(201, _product(store_id, product.pk))


@router.get("/{store_id}/products/{product_id}", response=ProductDetailOut, auth=perm("catalog.view_product"))
def product_detail(request: HttpRequest, store_id: int, product_id: int) -> Product:
    return _product(store_id, product_id)


@router.patch(
    "/{store_id}/products/{product_id}", response=ProductDetailOut, auth=perm("catalog.change_product")
)
def product_update(request: HttpRequest, store_id: int, product_id: int, payload: ProductPatch) -> Product:
    product = _product(store_id, product_id)
    changes = payload.dict(exclude_unset=True)
    if "category_id" in changes:
        if changes["category_id"] is None:
            raise ValidationError(_("商品信息有误"), fields={"category_id": _("必填")})
        changes["category"] = get_object_or_404(Category, pk=changes.pop("category_id"), store_id=store_id)
    if "tags" in changes:
        changes["tags"] = services.tags_parse(changes["tags"] or [])
    services.product_update(actor=principal(request).actor, product=product, **changes)
    return _product(store_id, product_id)


@router.get("/{store_id}/tags", response=Page[TagOut], auth=perm("catalog.view_tag"))
def tag_list(
    request: HttpRequest,
    store_id: int,
    kind: Annotated[str, OneOf(TagKind, blank=True)] = "",
    q: str = "",
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    """SEL-04: the store's tags by kind and name, with how many products carry each."""
    return paginate(selectors.tag_list(store_id=_store(store_id).pk, kind=kind, q=q), page, page_size)


@router.post("/{store_id}/tags", response={201: TagOut}, auth=perm("catalog.add_tag"))
def tag_create(request: HttpRequest, store_id: int, payload: TagIn) -> Status:
    tag = services.tag_create(
        actor=principal(request).actor, store=_store(store_id), kind=payload.kind, name=payload.name
    )
    return Status(201, selectors.tag_get(store_id=store_id, tag_id=tag.pk))


@router.patch("/{store_id}/tags/{tag_id}", response=TagOut, auth=perm("catalog.change_tag"))
def tag_update(request: HttpRequest, store_id: int, tag_id: int, payload: TagPatch) -> Tag:
    tag = selectors.tag_get(store_id=_store(store_id).pk, tag_id=tag_id)
    changes = dict(payload.dict(exclude_unset=True))
    if any(v is None for v in changes.values()):
        raise ValidationError(
            _("标签信息有误"), fields={k: _("必填") for k, v in changes.items() if v is None}
        )
    services.tag_update(actor=principal(request).actor, tag=tag, **changes)
    return selectors.tag_get(store_id=store_id, tag_id=tag_id)


@router.delete("/{store_id}/tags/{tag_id}", response={204: None}, auth=perm("catalog.delete_tag"))
def tag_delete(request: HttpRequest, store_id: int, tag_id: int) -> Status:
    """Delete a tag; it is taken off its products."""
    tag = selectors.tag_get(store_id=_store(store_id).pk, tag_id=tag_id)
    services.tag_delete(actor=principal(request).actor, tag=tag)
    return Status(204, None)


@router.patch("/{store_id}/skus/{sku_code}", response=SkuOut, auth=perm("catalog.set_sku_shipping"))
def sku_shipping_update(request: HttpRequest, store_id: int, sku_code: str, payload: SkuShippingPatch) -> Sku:
    """A SKU's weight in grams and whether it is fragile (LOG-03 carrier choice); only the
    fields sent change, ``weight_g: null`` clears the weight. Its own permission
    ``catalog.set_sku_shipping``: the warehouse weighs parcels and sets these two fields
    without ``catalog.change_sku`` (operations and the owner have it too)."""
    sku = selectors.sku_get_by_code(store=_store(store_id), code=sku_code)
    if sku is None:
        raise NotFound(_("SKU 不存在"))
    changes = payload.dict(exclude_unset=True)
    if changes.get("is_fragile", False) is None:
        raise ValidationError(_("SKU信息有误"), fields={"is_fragile": _("须为 true 或 false")})
    return services.sku_shipping_update(actor=principal(request).actor, sku=sku, **changes)


@router.post(
    "/{store_id}/products/{product_id}/submit", response=ListingAuditOut, auth=perm("catalog.change_product")
)
def listing_submit(request: HttpRequest, store_id: int, product_id: int) -> ListingAudit:
    return services.listing_submit(actor=principal(request).actor, product=_product(store_id, product_id))


@router.get("/{store_id}/audit-queue", response=Page[ListingAuditOut], auth=perm("catalog.view_listingaudit"))
def audit_queue(request: HttpRequest, store_id: int, page: int = 1, page_size: int = 50) -> dict[str, Any]:
    """Audits waiting for a person, oldest first, a page at a time (``total``: all of them)."""
    return paginate(selectors.audit_queue(store_id=_store(store_id).pk), page, page_size)


@router.post(
    "/{store_id}/audits/{audit_id}/review", response=ListingAuditOut, auth=perm("catalog.change_listingaudit")
)
def listing_review(
    request: HttpRequest, store_id: int, audit_id: int, payload: AuditReviewIn
) -> ListingAudit:
    audit = get_object_or_404(ListingAudit, pk=audit_id, product__store_id=store_id)
    return services.listing_review(
        actor=principal(request).actor, audit=audit, approve=payload.approve, comment=payload.comment
    )


@router.post(
    "/{store_id}/products/{product_id}/listings",
    response=ListingOut,
    auth=perm("catalog.change_channellisting"),
)
def listing_schedule(
    request: HttpRequest, store_id: int, product_id: int, payload: ScheduleIn
) -> ChannelListing:
    product = _product(store_id, product_id)
    channel = get_object_or_404(Channel, pk=payload.channel_id, store_id=store_id)
    return services.listing_schedule(
        actor=principal(request).actor,
        product=product,
        channel=channel,
        list_at=payload.list_at,
        delist_at=payload.delist_at,
        delist_reason=payload.delist_reason,
        remaining_stock_action=payload.remaining_stock_action,
        delist_note=payload.delist_note,
    )


@router.post(
    "/{store_id}/listings/{listing_id}/delist",
    response=ListingOut,
    auth=perm("catalog.change_channellisting"),
)
def listing_delist(request: HttpRequest, store_id: int, listing_id: int, payload: DelistIn) -> ChannelListing:
    listing = get_object_or_404(ChannelListing, pk=listing_id, product__store_id=store_id)
    return services.listing_delist(actor=principal(request).actor, listing=listing, **payload.dict())


def _banned_words_out(store: Store) -> dict[str, Any]:
    words = selectors.banned_words_of(store=store)
    return {
        "words": list(words),
        "version": selectors.banned_word_scanner(store=store).version,
        "is_default": selectors.banned_words_is_default(store=store),
    }


@router.get("/{store_id}/banned-words", response=BannedWordsOut, auth=perm("catalog.view_bannedwordlist"))
def banned_words_get(request: HttpRequest, store_id: int) -> dict[str, Any]:
    return _banned_words_out(_store(store_id))


@router.put("/{store_id}/banned-words", response=BannedWordsOut, auth=perm("catalog.change_bannedwordlist"))
def banned_words_update(request: HttpRequest, store_id: int, payload: BannedWordsIn) -> dict[str, Any]:
    store = _store(store_id)
    services.banned_words_update(actor=principal(request).actor, store=store, words=payload.words)
    return _banned_words_out(store)


@router.post("/{store_id}/suppliers", response={201: SupplierOut}, auth=perm("catalog.add_supplier"))
def supplier_create(request: HttpRequest, store_id: int, payload: SupplierIn) -> Status:
    return Status(
        201,
        services.supplier_create(actor=principal(request).actor, store=_store(store_id), **payload.dict()),
    )


@router.get(
    "/{store_id}/suppliers/ranking", response=list[SupplierScoreOut], auth=perm("catalog.view_supplier")
)
def supplier_ranking(request: HttpRequest, store_id: int) -> list[dict[str, Any]]:
    store = _store(store_id)
    ranking = selectors.supplier_ranking(
        store=store, today=timezone.localdate(), playbook=playbook_get(store=store)
    )
    return [
        {
            "supplier": s,
            "rank": i,
            "score": score.score,
            "components": {k: getattr(score.components, k) for k in score.components.__slots__},
            "reasons": [r.message_zh for r in score.reasons],
        }
        for i, (s, score) in enumerate(ranking, start=1)
    ]


@router.get(
    "/{store_id}/selection", response=list[MarketCategoryOut], auth=perm("catalog.view_marketcategorystat")
)
def selection(request: HttpRequest, store_id: int, candidates_only: bool = False) -> list[dict[str, Any]]:
    store = _store(store_id)
    rows = selectors.market_categories(
        store=store, playbook=playbook_get(store=store), candidates_only=candidates_only
    )
    return [
        {
            "category_name": r["stat"].category_name,
            "period_end": r["stat"].period_end,  # type: ignore[attr-defined]
            "growth_30d": r["stat"].growth_30d,
            "listings": r["stat"].listings,  # type: ignore[attr-defined]
            "search_popularity": r["stat"].search_popularity,  # type: ignore[attr-defined]
            "conversion_rate": r["stat"].conversion_rate,  # type: ignore[attr-defined]
            "competition_ratio": r["competition_ratio"],
            "candidate": r["candidate"],
        }
        for r in rows
    ]


# ---- LIST-07: launch-stage tracking ----------------------------------------------------------------


class LaunchFiguresOut(Schema):
    clicks: int  # page views of the product (浏览量)
    add_to_cart: int  # shoppers adding it to their cart (加购人数)
    visitors: int
    buyers: int
    conversion: Decimal | None  # buyers ÷ visitors (null without visitors)
    cart_rate: Decimal | None  # add_to_cart ÷ visitors (null without visitors)
    units: int
    revenue: Decimal
    counted: bool  # some figure counted from the store's behaviour events (no statistics for it)


class LaunchDayOut(LaunchFiguresOut):
    day: dt.date


class ProductLaunchOut(Schema):
    product_id: int
    code: str
    title: str
    listed_on: dt.date
    age_days: int  # the listing day is day 0
    days: list[LaunchDayOut]  # oldest first
    total: LaunchFiguresOut  # every day since listing


class ProductLaunchPageOut(Schema):
    items: list[ProductLaunchOut]
    total: int
    page: int
    page_size: int
    launch_days: int  # the playbook's launch_stage_days (the channel's, with channel_id)
    today: dt.date


def _figures(f: Any) -> dict[str, Any]:
    return {
        "clicks": f.clicks,
        "add_to_cart": f.add_to_cart,
        "visitors": f.visitors,
        "buyers": f.buyers,
        "conversion": f.conversion,
        "cart_rate": f.cart_rate,
        "units": f.units,
        "revenue": f.revenue,
        "counted": f.counted,
    }


@router.get("/{store_id}/launch-tracking", response=ProductLaunchPageOut, auth=perm("catalog.view_product"))
def launch_tracking(
    request: HttpRequest,
    store_id: int,
    channel_id: int | None = None,
    days: int | None = None,
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    """LIST-07: the live products in their launch stage (listed within the playbook's
    ``launch_stage_days``, newest first), each with its day-by-day clicks, add-to-cart,
    visitors, buyers, conversion, add-to-cart rate, units and revenue since listing (``days``:
    only the last so many days; the total is always since listing). Figures come from the
    daily sales statistics; where those have 0, from the store's own behaviour events
    (``counted``). ``channel_id``: products live on that channel, that channel's figures."""
    store = _store(store_id)
    channel = get_object_or_404(store.channels, pk=channel_id) if channel_id is not None else None
    today = timezone.localdate()
    launch_days = playbook_get(store=store, channel=channel).launch_stage_days
    result = paginate(
        selectors.launch_products(store=store, today=today, launch_days=launch_days, channel_id=channel_id),
        page,
        page_size,
    )
    tracking = selectors.launch_tracking(
        store=store, channel=channel, days=days, today=today, products=result["items"]
    )
    result["items"] = [
        {
            "product_id": p.product_id,
            "code": p.code,
            "title": p.title,
            "listed_on": p.listed_on,
            "age_days": p.age_days,
            "days": [{"day": d.day, **_figures(d.figures)} for d in p.days],
            "total": _figures(p.total),
        }
        for p in tracking.products
    ]
    return {**result, "launch_days": launch_days, "today": today}
