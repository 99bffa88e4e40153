"""Pricing API (/api/v1/pricing): price history and changes (PRICE-03), cost components
(PRICE-02), the suggester (PRICE-01) and competitor monitoring (PRICE-04)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Router, Schema, Status

from storeops.accounts.access import perm, principal
from storeops.catalog.models import Category, Product, Sku
from storeops.core.api import OneOf, Page, paginate
from storeops.core.money import Money
from storeops.pricing import selectors, services
from storeops.pricing.models import CompetitorProduct, PriceChangeReason
from storeops.stores.models import Channel
from storeops.stores.selectors import playbook_get_by_id

router = Router(tags=["pricing"])


class PriceChangeIn(Schema):
    new_price: Decimal
    # "initial" is the first price's, set by the system
    reason: Annotated[str, OneOf(r for r in PriceChangeReason if r != PriceChangeReason.INITIAL)]
    note: str = ""
    channel_id: int | None = None


class PriceChangeOut(Schema):
    id: int
    sku_id: int
    channel_id: int | None
    old_price: Decimal | None
    new_price: Decimal
    reason: str
    note: str
    actor_label: str
    at: dt.datetime


class CostIn(Schema):
    product: Decimal | None = None
    operations: Decimal | None = None
    logistics: Decimal | None = None
    tax: Decimal | None = None


class CostOut(Schema):
    product: Decimal
    operations: Decimal
    logistics: Decimal
    tax: Decimal
    full_cost: Decimal


class PriceSuggestionOut(Schema):
    feasible: bool
    code: str
    message_zh: str
    message_en: str
    full_cost: Decimal
    competitor_price: Decimal | None
    margin_floor: Decimal
    min_price: Decimal | None
    max_price: Decimal | None
    suggested: Decimal | None


class CompetitorIn(Schema):
    competitor: str
    name: str
    product_id: int | None = None
    category_id: int | None = None
    url: str = ""
    is_tracked: bool = True
    first_seen_at: dt.datetime | None = None  # default: now; an earlier observation backdates it


class CompetitorOut(Schema):
    id: int
    competitor: str
    name: str
    product_id: int | None
    category_id: int | None = None  # its own category, else its matched product's
    url: str
    is_tracked: bool
    first_seen_at: dt.datetime
    is_new: bool = False  # first seen within competitor_new_product_days (上新)
    latest_price: Decimal | None = None
    previous_price: Decimal | None = None
    promotion: str = ""  # the latest observation's
    is_promotional: bool = False  # the latest price is a promotional one
    observed_at: dt.datetime | None = None  # of the latest observation


class ObservationIn(Schema):
    price: Decimal
    observed_at: dt.datetime | None = None
    promotion: str = ""
    is_promotional: bool = False


def _sku(store_id: int, sku_id: int) -> Sku:
    return get_object_or_404(Sku.objects.select_related("store", "product"), pk=sku_id, store_id=store_id)


def _amount(value: Money | None) -> Decimal | None:
    return None if value is None else value.amount


def _cost_out(sku: Sku) -> dict[str, Any]:
    parts = selectors.sku_cost_components(sku=sku)
    return {**{k: v.amount for k, v in parts.items()}, "full_cost": selectors.sku_full_cost(sku=sku).amount}


@router.get(
    "/{store_id}/skus/{sku_id}/prices", response=Page[PriceChangeOut], auth=perm("pricing.view_pricechange")
)
def price_history(
    request: HttpRequest, store_id: int, sku_id: int, page: int = 1, page_size: int = 50
) -> dict[str, Any]:
    return paginate(selectors.price_history(sku=_sku(store_id, sku_id)), page, page_size)


@router.post(
    "/{store_id}/skus/{sku_id}/prices", response={201: PriceChangeOut}, auth=perm("pricing.add_pricechange")
)
def price_set(request: HttpRequest, store_id: int, sku_id: int, payload: PriceChangeIn) -> Status:
    sku = _sku(store_id, sku_id)
    channel = (
        get_object_or_404(Channel, pk=payload.channel_id, store_id=store_id) if payload.channel_id else None
    )
    change = services.price_set(
        actor=principal(request).actor,
        sku=sku,
        new_price=payload.new_price,
        reason=payload.reason,
        note=payload.note,
        channel=channel,
    )
    return Status(201, change)


@router.get("/{store_id}/skus/{sku_id}/cost", response=CostOut, auth=perm("pricing.view_skucost"))
def cost_get(request: HttpRequest, store_id: int, sku_id: int) -> dict[str, Any]:
    return _cost_out(_sku(store_id, sku_id))


@router.put("/{store_id}/skus/{sku_id}/cost", response=CostOut, auth=perm("pricing.change_skucost"))
def cost_set(request: HttpRequest, store_id: int, sku_id: int, payload: CostIn) -> dict[str, Any]:
    sku = _sku(store_id, sku_id)
    services.sku_cost_set(actor=principal(request).actor, sku=sku, **payload.dict())
    return _cost_out(_sku(store_id, sku_id))


@router.get(
    "/{store_id}/skus/{sku_id}/suggestion", response=PriceSuggestionOut, auth=perm("pricing.view_pricechange")
)
def price_suggestion(
    request: HttpRequest,
    store_id: int,
    sku_id: int,
    competitor_price: Decimal | None = None,
    channel_id: int | None = None,
) -> dict[str, Any]:
    sku = _sku(store_id, sku_id)
    channel = get_object_or_404(Channel, pk=channel_id, store_id=store_id) if channel_id else None
    benchmark = (
        Money(services.parse_amount(competitor_price, "competitor_price", positive=True), sku.store.currency)
        if competitor_price is not None
        else None
    )
    cost, used, s = selectors.price_suggest(
        sku=sku, now=timezone.now(), channel=channel, competitor_price=benchmark
    )
    return {
        "feasible": s.feasible,
        "code": s.code.value,
        "message_zh": s.message_zh,
        "message_en": s.message_en,
        "full_cost": cost.amount,
        "competitor_price": _amount(used),
        "margin_floor": s.margin_floor.amount,
        "min_price": _amount(s.min_price),
        "max_price": _amount(s.max_price),
        "suggested": _amount(s.suggested),
    }


def _cents(value: Decimal | None) -> Decimal | None:
    """A subquery's amount as stored (SQLite hands it back without its trailing zeros)."""
    return None if value is None else value.quantize(services.CENT)


def _competitor_out(cp: CompetitorProduct) -> dict[str, Any]:
    """One row of the monitoring table (``cp`` from :func:`selectors.competitor_monitor`)."""
    return {
        "id": cp.pk,
        "competitor": cp.competitor,
        "name": cp.name,
        "product_id": cp.product_id,
        "category_id": cp.effective_category_id,
        "url": cp.url,
        "is_tracked": cp.is_tracked,
        "first_seen_at": cp.first_seen_at,
        "is_new": cp.is_new,
        "latest_price": _cents(cp.latest_price),
        "previous_price": _cents(cp.previous_price),
        "promotion": cp.latest_promotion or "",
        "is_promotional": bool(cp.latest_is_promotional),
        "observed_at": cp.latest_observed_at,
    }


def _monitor(store_id: int, **filters: Any) -> Any:
    return selectors.competitor_monitor(
        store_id=store_id,
        now=timezone.now(),
        new_product_days=playbook_get_by_id(store_id=store_id).competitor_new_product_days,
        **filters,
    )


def _monitor_row(store_id: int, cp_id: int) -> dict[str, Any]:
    return _competitor_out(_monitor(store_id).get(pk=cp_id))


@router.get(
    "/{store_id}/competitors", response=Page[CompetitorOut], auth=perm("pricing.view_competitorproduct")
)
def competitor_list(
    request: HttpRequest,
    store_id: int,
    new_only: bool = False,
    on_promotion: bool = False,
    competitor: str = "",
    q: str = "",
    category_id: int | None = None,
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    """PRICE-04 monitoring table: latest prices, promotions and new items (上新), filtered."""
    qs = _monitor(
        store_id,
        new_only=new_only,
        on_promotion=on_promotion,
        competitor=competitor.strip(),
        q=q.strip(),
        category_id=category_id,
    )
    data = paginate(qs, page, page_size)
    return {**data, "items": [_competitor_out(cp) for cp in data["items"]]}


@router.post(
    "/{store_id}/competitors", response={201: CompetitorOut}, auth=perm("pricing.add_competitorproduct")
)
def competitor_create(request: HttpRequest, store_id: int, payload: CompetitorIn) -> Status:
    from storeops.stores.models import Store

    store = get_object_or_404(Store, pk=store_id)
    data = payload.dict()
    product_id = data.pop("product_id")
    category_id = data.pop("category_id")
    product = get_object_or_404(Product, pk=product_id, store=store) if product_id else None
    category = get_object_or_404(Category, pk=category_id, store=store) if category_id else None
    cp = services.competitor_product_create(
        actor=principal(request).actor, store=store, product=product, category=category, **data
    )
    return Status(201, _monitor_row(store_id, cp.pk))


@router.post(
    "/{store_id}/competitors/{competitor_id}/prices",
    response={201: CompetitorOut},
    auth=perm("pricing.add_competitorprice"),
)
def competitor_price_record(
    request: HttpRequest, store_id: int, competitor_id: int, payload: ObservationIn
) -> Status:
    cp = get_object_or_404(CompetitorProduct, pk=competitor_id, store_id=store_id)
    services.competitor_price_record(
        actor=principal(request).actor,
        competitor_product=cp,
        price=payload.price,
        observed_at=payload.observed_at,
        promotion=payload.promotion,
        is_promotional=payload.is_promotional,
    )
    return Status(201, _monitor_row(store_id, cp.pk))
