"""The per-line option list (PROMO-03 item level) against its plain definition."""

from __future__ import annotations

import random

from storeops.promotions.engine.mechanics import item_cap, offer_available
from storeops.promotions.engine.offers import CartLine, CustomerContext, Offer
from storeops.promotions.engine.optimiser import (
    ItemOption,
    applicable_item_offers,
    build_problem,
    item_option,
)

from .random_carts import random_case


def _rank(option: ItemOption) -> tuple[int, str, str]:
    assert option.primary is not None
    fallback_id = option.fallback.id if option.fallback is not None else ""
    return (-option.primary.priority, option.primary.id, fallback_id)


def _plain_options(
    lines: tuple[CartLine, ...], index: int, customer: CustomerContext, offers: list[Offer]
) -> tuple[ItemOption, ...]:
    """Every candidate priced with ``item_option``; per price the best-ranked; list price last."""
    line = lines[index]
    list_option = item_option(lines, index, customer, None)
    applicable = applicable_item_offers(lines, index, customer, offers)
    caps = [item_cap(o, index, lines, customer) for o in applicable]
    limited = [o for o, cap in zip(applicable, caps, strict=True) if cap is not None and cap < line.quantity]
    unlimited = [o for o, cap in zip(applicable, caps, strict=True) if cap is None or cap >= line.quantity]
    candidates = [item_option(lines, index, customer, o) for o in unlimited]
    candidates += [item_option(lines, index, customer, o, f) for o in limited for f in (None, *unlimited)]
    best: dict[int, ItemOption] = {}
    for option in candidates:
        if option.units < list_option.units and (
            option.units not in best or _rank(option) < _rank(best[option.units])
        ):
            best[option.units] = option
    best.setdefault(list_option.units, list_option)
    return tuple(best[units] for units in sorted(best))


def test_promo_03_line_options_are_the_best_ranked_candidate_per_price() -> None:
    # given 1,500 seeded random carts (flash-sale and add-on caps make limited offers common)
    rng = random.Random(3)
    for _ in range(1500):
        case = random_case(rng, max_lines=4, max_item=5)
        # when the problem is built
        problem = build_problem(
            lines=case.lines, customer=case.customer, offers=case.offers, coupons=case.coupons, now=case.now
        )
        live = sorted(
            (o for o in case.offers if offer_available(o, case.customer, case.now)), key=lambda o: o.id
        )
        # then each line's options are exactly the plain definition's, in the same order
        for i in range(len(case.lines)):
            assert problem.options[i] == _plain_options(case.lines, i, case.customer, live)
