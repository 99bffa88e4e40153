"""Offers indexed by scope: from a store's active offers to the few a cart can use, fast.

A store may run a thousand offers over a catalogue of hundreds of thousands of products;
a cart of ten lines touches only the offers scoped to its SKUs, products and categories,
plus the store-wide ones. :class:`OfferIndex` is built once (when offers change) and
answers per cart with a few dict look-ups instead of a scan of every offer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from .mechanics import offer_available
from .offers import CartLine, CustomerContext, Offer


class OfferIndex:
    """Immutable once built. ``candidates`` is scope-only; ``applicable`` also checks the
    window, the customer and the per-user limit (the checks ``quote_best_price`` makes)."""

    __slots__ = ("_by_category", "_by_product", "_by_sku", "_store_wide", "size")

    def __init__(self, offers: Iterable[Offer]) -> None:
        by_sku: dict[str, list[Offer]] = {}
        by_product: dict[str, list[Offer]] = {}
        by_category: dict[str, list[Offer]] = {}
        store_wide: list[Offer] = []
        size = 0
        for offer in offers:
            size += 1
            scope = offer.scope
            if scope.all_items:
                store_wide.append(offer)
                continue
            for key in scope.sku_ids:
                by_sku.setdefault(key, []).append(offer)
            for key in scope.product_ids:
                by_product.setdefault(key, []).append(offer)
            for key in scope.category_ids:
                by_category.setdefault(key, []).append(offer)
        self._by_sku = {k: tuple(v) for k, v in by_sku.items()}
        self._by_product = {k: tuple(v) for k, v in by_product.items()}
        self._by_category = {k: tuple(v) for k, v in by_category.items()}
        self._store_wide = tuple(store_wide)
        self.size = size

    def candidates(self, lines: Sequence[CartLine]) -> list[Offer]:
        """Offers whose scope covers at least one line, in offer-id order, each once."""
        found: dict[str, Offer] = {offer.id: offer for offer in self._store_wide}
        empty: tuple[Offer, ...] = ()
        for line in lines:
            for offer in self._by_sku.get(line.sku_id, empty):
                found[offer.id] = offer
            for offer in self._by_product.get(line.product_id, empty):
                found[offer.id] = offer
            for offer in self._by_category.get(line.category_id, empty):
                found[offer.id] = offer
            for ancestor in line.category_ancestors:  # an offer on a parent covers its subtree
                for offer in self._by_category.get(ancestor, empty):
                    found[offer.id] = offer
        return [found[key] for key in sorted(found)]

    def applicable(self, lines: Sequence[CartLine], customer: CustomerContext, now: datetime) -> list[Offer]:
        return [offer for offer in self.candidates(lines) if offer_available(offer, customer, now)]
