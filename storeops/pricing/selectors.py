"""Reads for pricing: full unit cost (PRICE-02), price history, competitor prices and the
price suggestion (PRICE-01)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import BooleanField, ExpressionWrapper, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from storeops.catalog.models import Category, Product, ProductStatus, Sku
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


def competitor_monitor(
    *,
    store_id: int,
    now: dt.datetime,
    new_product_days: int,
    new_only: bool = False,
    on_promotion: bool = False,
    competitor: str = "",
    q: str = "",
    category_id: int | None = None,
) -> QuerySet[CompetitorProduct]:
    """PRICE-04 monitoring table: the store's competitor items with their latest and previous
    observed price, the latest observation's promotion (``latest_promotion``,
    ``latest_is_promotional``, ``latest_observed_at``), ``is_new`` (first seen within
    ``new_product_days``) and ``effective_category_id`` (the item's own category, else its
    matched product's). Filters: new items only, items whose latest observation is on
    promotion, one competitor, a keyword (item, competitor, category or matched product) and
    a category with the categories below it."""
    observations = CompetitorPrice.objects.filter(
        competitor_product=OuterRef("pk"), observed_at__lte=now
    ).order_by("-observed_at", "-id")
    since = now - dt.timedelta(days=new_product_days)
    qs = (
        CompetitorProduct.objects.filter(store_id=store_id)
        .select_related("product", "category", "product__category")
        .annotate(
            latest_price=Subquery(observations.values("price")[:1]),
            previous_price=Subquery(observations.values("price")[1:2]),
            latest_promotion=Subquery(observations.values("promotion")[:1]),
            latest_is_promotional=Subquery(observations.values("is_promotional")[:1]),
            latest_observed_at=Subquery(observations.values("observed_at")[:1]),
            effective_category_id=Coalesce("category_id", "product__category_id"),
            is_new=ExpressionWrapper(Q(first_seen_at__gte=since), output_field=BooleanField()),
        )
    )
    if new_only:
        qs = qs.filter(first_seen_at__gte=since)
    if on_promotion:
        qs = qs.filter(Q(latest_promotion__gt="") | Q(latest_is_promotional=True))
    if competitor:
        qs = qs.filter(competitor=competitor)
    if q:
        qs = qs.filter(
            Q(name__icontains=q)
            | Q(competitor__icontains=q)
            | Q(category__name__icontains=q)
            | Q(product__category__name__icontains=q)
            | Q(product__code__icontains=q)
            | Q(product__title__icontains=q)
        )
    if category_id is not None:
        from storeops.catalog.selectors import category_subtree_ids

        qs = qs.filter(effective_category_id__in=category_subtree_ids(category_id=category_id))
    return qs.order_by("competitor", "name", "pk")


def competitor_names(*, store_id: int) -> list[str]:
    """The competitors the store watches, for the monitoring table's filter."""
    return list(
        CompetitorProduct.objects.filter(store_id=store_id)
        .order_by("competitor")
        .values_list("competitor", flat=True)
        .distinct()
    )


def competitor_observation_keys(*, store_id: int, competitors: set[str]) -> set[tuple[str, str, dt.datetime]]:
    """(competitor, item, observed at) of the observations recorded for these competitors:
    an import does not record the same observation twice."""
    return set(
        CompetitorPrice.objects.filter(
            competitor_product__store_id=store_id, competitor_product__competitor__in=competitors
        ).values_list("competitor_product__competitor", "competitor_product__name", "observed_at")
    )


def sold_category_ids(*, store: Store) -> set[int]:
    """The categories the store sells in: those of its live products and the categories
    above them (a competitor's new item in 连衣裙 or in its parent 女装 is in our market)."""
    ids = set(
        Product.objects.filter(store=store, status=ProductStatus.LIVE).values_list("category_id", flat=True)
    )
    frontier = ids
    while frontier:
        parents = set(
            Category.objects.filter(pk__in=frontier, parent__isnull=False).values_list("parent_id", flat=True)
        )
        frontier = parents - ids
        ids |= frontier
    return ids


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
