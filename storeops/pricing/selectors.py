"""Reads for pricing: full unit cost (PRICE-02), price history, competitor prices and the
price suggestion (PRICE-01)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import F, QuerySet

from storeops.catalog.models import Product, Sku
from storeops.core.money import Money
from storeops.pricing.models import (
    ChannelPrice,
    CompetitorPrice,
    CompetitorProduct,
    PriceChange,
    PriceChangeReason,
    SkuCost,
)
from storeops.pricing.rules import PriceSuggestion, PricingPolicy, full_unit_cost, suggest_price
from storeops.stores.models import Channel, Store
from storeops.stores.playbook import PlaybookSettings
from storeops.stores.selectors import playbook_get

# Competitor observations older than this are not a current reference (LIST-05, PRICE-01).
REFERENCE_MAX_AGE = dt.timedelta(days=90)


def sku_cost_components(*, sku: Sku) -> dict[str, Money]:
    """The four PRICE-02 components of one unit; missing components are zero."""
    currency = sku.store.currency
    row = SkuCost.objects.filter(sku=sku).first()
    zero = Decimal(0)
    return {
        "product": Money(sku.cost, currency),
        "operations": Money(row.operations if row else zero, currency),
        "logistics": Money(row.logistics if row else zero, currency),
        "tax": Money(row.tax if row else zero, currency),
    }


def unit_costs(*, store: Store, sku_ids: Iterable[int]) -> dict[int, tuple[Decimal, Decimal]]:
    """(purchase cost, full cost) of one unit per SKU, in one query (DATA-08 profitability)."""
    out = {}
    for sku in Sku.objects.filter(store=store, pk__in=list(sku_ids)).select_related("cost_components"):
        row = getattr(sku, "cost_components", None)
        extra = (row.operations + row.logistics + row.tax) if row is not None else Decimal(0)
        out[sku.pk] = (sku.cost, sku.cost + extra)
    return out


def sku_full_cost(*, sku: Sku) -> Money:
    return full_unit_cost(**sku_cost_components(sku=sku))


def sku_price(*, sku: Sku, channel: Channel | None = None) -> Money:
    """The channel price when one is set, else the SKU's base price."""
    currency = sku.store.currency
    if channel is not None:
        row = ChannelPrice.objects.filter(sku=sku, channel=channel).first()
        if row is not None:
            return Money(row.price, currency)
    return Money(sku.price, currency)


def price_history(*, sku: Sku) -> QuerySet[PriceChange]:
    return PriceChange.objects.filter(sku=sku).select_related("channel").order_by("-at", "-id")


def pricing_policy(playbook: PlaybookSettings) -> PricingPolicy:
    return PricingPolicy(
        min_gross_margin=playbook.min_gross_margin,
        competitor_discount_min=playbook.competitor_discount_min,
        competitor_discount_max=playbook.competitor_discount_max,
    )


def competitor_latest_prices(*, product: Product, now: dt.datetime) -> list[Money]:
    """The latest observed price of each competitor item matched to ``product``, if recent."""
    currency = product.store.currency
    since = now - REFERENCE_MAX_AGE
    prices: list[Money] = []
    for cp in CompetitorProduct.objects.filter(product=product).order_by("pk"):
        latest = (
            cp.prices.filter(observed_at__gte=since, observed_at__lte=now)
            .order_by("-observed_at", "-id")
            .first()
        )
        if latest is not None:
            prices.append(Money(latest.price, currency))
    return prices


def price_suggest(
    *, sku: Sku, now: dt.datetime, channel: Channel | None = None, competitor_price: Money | None = None
) -> tuple[Money, Money | None, PriceSuggestion]:
    """PRICE-01 for one SKU: (full cost, competitor price used, suggestion). Without an
    explicit ``competitor_price`` the lowest current price of the matched competitor items
    is the benchmark (the one a shopper compares against)."""
    playbook = playbook_get(store=sku.store, channel=channel)
    cost = sku_full_cost(sku=sku)
    if competitor_price is None:
        latest = competitor_latest_prices(product=sku.product, now=now)
        competitor_price = min(latest) if latest else None
    return cost, competitor_price, suggest_price(cost, competitor_price, pricing_policy(playbook))


def competitor_product_list(*, store_id: int) -> QuerySet[CompetitorProduct]:
    return (
        CompetitorProduct.objects.filter(store_id=store_id)
        .select_related("product")
        .order_by("competitor", "name")
    )


def competitor_price_pairs(
    *, competitor_product: CompetitorProduct
) -> tuple[CompetitorPrice | None, CompetitorPrice | None]:
    """(latest, the one before it)."""
    rows = list(competitor_product.prices.order_by("-observed_at", "-id")[:2])
    latest = rows[0] if rows else None
    previous = rows[1] if len(rows) > 1 else None
    return latest, previous


def price_change_reason_parse(text: str) -> str | None:
    """A reason code from its code or its (Chinese/English) label; None if unknown or not
    selectable by hand (``initial`` is set only by the system)."""
    labels = {str(label): value for value, label in PriceChangeReason.choices}
    reason = labels.get(text, text)
    if reason not in PriceChangeReason.values or reason == PriceChangeReason.INITIAL:
        return None
    return str(reason)


def price_change_reason_needs_note(reason: str) -> bool:
    return reason == PriceChangeReason.OTHER


def channel_prices_for_export(*, store: Store) -> QuerySet[ChannelPrice]:
    return (
        ChannelPrice.objects.filter(sku__store=store)
        .select_related("sku", "channel")
        .order_by("sku__code", "channel__code")
    )


@dataclass(frozen=True, slots=True)
class PriceDrop:
    change_id: int
    sku_id: int
    product_id: int
    product_title: str
    channel_id: int | None
    old_price: Decimal
    new_price: Decimal
    at: dt.datetime


def price_drops_since(*, store: Store, since: dt.datetime, after_id: int = 0) -> list[PriceDrop]:
    """Price changes that lowered a price, recorded after ``since`` (and after the change
    ``after_id``), oldest first (MEM-06: alerts to the customers who favourited the item)."""
    rows = (
        PriceChange.objects.filter(
            store=store, at__gte=since, pk__gt=after_id, old_price__isnull=False, new_price__lt=F("old_price")
        )
        .order_by("pk")
        .values_list(
            "pk",
            "sku_id",
            "sku__product_id",
            "sku__product__title",
            "channel_id",
            "old_price",
            "new_price",
            "at",
        )
    )
    return [PriceDrop(*row) for row in rows]
