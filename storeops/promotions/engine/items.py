"""Item level (SOP PROMO-03 level 1): every way to price one line with one item offer.

Item offers do not stack: a line is priced by at most one item offer. A *limited* offer
(flash sale per-buyer limit / stock, add-on per anchor) prices only its cap of units; the
line's other units may then take one unlimited item offer (the *fallback*) or the list
price. :func:`line_options` lists a line's distinct prices, cheapest first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .mechanics import item_cap, item_segment_units, line_in_scope, segment_units, to_units
from .offers import CartLine, CustomerContext, Level, Offer


@dataclass(frozen=True, slots=True)
class ItemOption:
    """One way to price a line at item level (minor units)."""

    units: int
    primary: Offer | None = None
    primary_quantity: int = 0
    primary_units: int = 0
    fallback: Offer | None = None  # prices the units beyond a limited primary offer
    fallback_units: int = 0


def _option(
    line: CartLine,
    customer: CustomerContext,
    list_units: int,
    *,
    primary: Offer,
    primary_quantity: int,
    fallback: Offer | None,
) -> ItemOption:
    primary_units = item_segment_units(primary, line, primary_quantity, customer)
    rest = line.quantity - primary_quantity
    if fallback is None:
        fallback_units = list_units // line.quantity * rest
    else:
        fallback_units = item_segment_units(fallback, line, rest, customer)
    return ItemOption(
        units=primary_units + fallback_units,
        primary=primary,
        primary_quantity=primary_quantity,
        primary_units=primary_units,
        fallback=fallback if rest else None,
        fallback_units=fallback_units,
    )


def item_option(
    lines: Sequence[CartLine],
    line_index: int,
    customer: CustomerContext,
    primary: Offer | None,
    fallback: Offer | None = None,
) -> ItemOption:
    """Price one line with ``primary`` (on up to its cap of units) and ``fallback`` for the rest."""
    line = lines[line_index]
    list_units = to_units(line.unit_price) * line.quantity
    if primary is None:
        return ItemOption(units=list_units)
    cap = item_cap(primary, line_index, lines, customer)
    quantity = line.quantity if cap is None else min(cap, line.quantity)
    return _option(line, customer, list_units, primary=primary, primary_quantity=quantity, fallback=fallback)


def applicable_item_offers(
    lines: Sequence[CartLine], line_index: int, customer: CustomerContext, offers: Sequence[Offer]
) -> list[Offer]:
    """Item offers (already available) covering the line with a non-zero cap."""
    line = lines[line_index]
    return [
        offer
        for offer in offers
        if offer.level is Level.ITEM
        and line_in_scope(offer.scope, line)
        and item_cap(offer, line_index, lines, customer) != 0
    ]


def line_options(
    lines: Sequence[CartLine], line_index: int, customer: CustomerContext, offers: Sequence[Offer]
) -> tuple[ItemOption, ...]:
    """The line's distinct item prices below list, cheapest first, plus the list price.

    ``offers`` are the available offers (any level, in id order); see :func:`options_for_line`.
    """
    line = lines[line_index]
    covering = [
        (offer, item_cap(offer, line_index, lines, customer))
        for offer in offers
        if offer.level is Level.ITEM and line_in_scope(offer.scope, line)
    ]
    return options_for_line(line, to_units(line.unit_price), covering, customer)


def options_for_line(
    line: CartLine,
    unit: int,
    covering: Sequence[tuple[Offer, int | None]],
    customer: CustomerContext,
) -> tuple[ItemOption, ...]:
    """The options of a line with unit price ``unit`` (分) from its ``(item offer, cap)`` pairs.

    ``covering`` lists the available item offers whose scope covers the line, in offer-id
    order, each with its :func:`item_cap`. Candidates are every unlimited offer on all units
    and every limited offer on its cap with the rest at list price or under one unlimited
    fallback. Per distinct price the candidate with the best rank (higher priority, then
    lower offer id, then lower fallback id; the first on a full tie) is kept; prices at or
    above list are dropped as dominated. Segment prices are computed once per (offer, units)
    and an :class:`ItemOption` is built only for the prices kept.
    """
    quantity = line.quantity
    list_units = unit * quantity
    limited: list[tuple[Offer, int]] = []
    unlimited: list[Offer] = []
    for offer, cap in covering:
        if cap == 0:
            continue
        if cap is not None and cap < quantity:
            limited.append((offer, cap))
        else:
            unlimited.append(offer)
    if not limited and not unlimited:
        return (ItemOption(units=list_units),)
    # units -> (rank, primary, primary quantity, primary units, fallback, fallback units)
    best: dict[int, tuple[tuple[int, str, str], Offer, int, int, Offer | None, int]] = {}

    def consider(
        units: int, primary: Offer, p_quantity: int, p_units: int, fallback: Offer | None, f_units: int
    ) -> None:
        if units >= list_units:
            return
        rank = (-primary.priority, primary.id, fallback.id if fallback is not None else "")
        seen = best.get(units)
        if seen is None or rank < seen[0]:
            best[units] = (rank, primary, p_quantity, p_units, fallback, f_units)

    for offer in unlimited:
        p_units = segment_units(offer, unit, quantity, customer)
        consider(p_units, offer, quantity, p_units, None, 0)
    rest_prices: dict[int, list[int]] = {}  # rest quantity -> fallback prices, like ``unlimited``
    for offer, cap in limited:
        p_units = segment_units(offer, unit, cap, customer)
        rest = quantity - cap
        consider(p_units + unit * rest, offer, cap, p_units, None, unit * rest)
        prices = rest_prices.get(rest)
        if prices is None:
            prices = rest_prices[rest] = [segment_units(f, unit, rest, customer) for f in unlimited]
        for fallback, f_units in zip(unlimited, prices, strict=True):
            consider(p_units + f_units, offer, cap, p_units, fallback, f_units)
    options = [
        ItemOption(units, primary, p_quantity, p_units, fallback, f_units)
        for units, (_, primary, p_quantity, p_units, fallback, f_units) in sorted(best.items())
    ]
    options.append(ItemOption(units=list_units))
    return tuple(options)
