"""Best-price quote latency (SOP PROMO-03), against the brute-force reference in the same run.

Case 1: a 10-line cart with 20 applicable offers and 10 held coupons: median latency of
``quote_best_price`` (target < 1 ms).
Reference: the exhaustive optimiser of ``tests/promotions/reference.py`` cannot finish a
10-line cart (options^10 x store subsets x coupon subsets), so the speed ratio is measured on
the largest cart it finishes in about a second (printed), and equality of results is checked
on many random small carts (``mismatches``).
Case 2: 1,000 active offers over a catalogue of 200,000 products, offers found through the
in-memory ``OfferIndex`` (target < 5 ms per quote). Loading offers from the database is NOT
included yet (the promotion models do not exist yet).

    python benchmarks/pricing.py [--quick]

Ends with one line: RESULT p50_ms=... mismatches=... speedup_vs_bruteforce=... p50_ms_1000_offers=...
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from storeops.core.money import Money  # noqa: E402
from storeops.promotions.engine import (  # noqa: E402
    AddOnDeal,
    CartLine,
    CouponTerms,
    CustomerContext,
    FlashSale,
    GroupBuy,
    HeldCoupon,
    NthItemOff,
    Offer,
    OfferIndex,
    PercentageOff,
    Presale,
    PromotionPolicy,
    Scope,
    ThresholdGift,
    Tier,
    TieredReduction,
    TimeSlotOff,
    member_price_offer,
    quote_best_price,
)
from storeops.promotions.engine.optimiser import build_problem, optimise  # noqa: E402
from tests.promotions.builders import NOW, at  # noqa: E402
from tests.promotions.random_carts import random_case  # noqa: E402
from tests.promotions.reference import brute_force_best  # noqa: E402

ANY = Scope()


def cny(value: str | int) -> Money:
    return Money(str(value))


def cats(*ids: str) -> Scope:
    return Scope(category_ids=frozenset(ids))


def skus(*ids: str) -> Scope:
    return Scope(sku_ids=frozenset(ids))


def reduction(
    offer_id: str,
    tiers: list[tuple[int, int]],
    *,
    scope: Scope = ANY,
    group: str | None = None,
    repeat: bool = False,
) -> Offer:
    mechanic = TieredReduction(tiers=tuple(Tier(cny(t), cny(a)) for t, a in tiers), repeat=repeat)
    return Offer(id=offer_id, mechanic=mechanic, scope=scope, exclusive_group=group)


def held(
    code: str, threshold: int, amount: int, *, scope: Scope = ANY, stackable: bool = False
) -> HeldCoupon:
    terms = CouponTerms(threshold=cny(threshold), amount=cny(amount), stackable=stackable)
    return HeldCoupon(code=code, offer=Offer(id=f"cp-{code}", mechanic=terms, scope=scope))


def case_ten_lines() -> tuple[list[CartLine], CustomerContext, list[Offer], list[HeldCoupon]]:
    prices = ["59.00", "129.90", "89.00", "239.00", "45.50", "399.00", "19.90", "158.00", "75.00", "268.00"]
    lines = [
        CartLine(f"sku{i}", f"prod{i}", f"cat{i % 3}", cny(price), 1 + (i % 3 == 0))
        for i, price in enumerate(prices)
    ]
    who = CustomerContext(customer_id="c1", tier="silver", joined_groups=frozenset({"group"}), channel="web")
    item = [
        member_price_offer(PromotionPolicy()),
        Offer(id="pct-cat0", mechanic=PercentageOff(Decimal("0.9")), scope=cats("cat0")),
        Offer(id="pct-cat1", mechanic=PercentageOff(Decimal("0.85")), scope=cats("cat1")),
        Offer(id="pct-cat2", mechanic=PercentageOff(Decimal("0.92")), scope=cats("cat2")),
        Offer(id="nth", mechanic=NthItemOff(n=2, rate=Decimal("0.5")), scope=skus("sku0", "sku3")),
        Offer(
            id="flash",
            mechanic=FlashSale(price=cny("99.00"), stock_remaining=50, per_buyer_limit=1),
            scope=skus("sku3"),
        ),
        Offer(
            id="slot",
            mechanic=TimeSlotOff(slots=((at(20), at(22)),), rate=Decimal("0.88")),
            scope=skus("sku5"),
        ),
        Offer(
            id="group",
            mechanic=GroupBuy(price=cny("49.00"), group_size=3, time_limit_hours=24),
            scope=skus("sku2"),
        ),
        Offer(
            id="addon",
            mechanic=AddOnDeal(anchor_product_ids=frozenset({"prod5"}), amount_off=cny(10)),
            scope=skus("sku6"),
        ),
        Offer(
            id="presale",
            mechanic=Presale(
                deposit=cny(50),
                multiplier=Decimal(2),
                balance_starts=NOW + timedelta(days=1),
                balance_ends=NOW + timedelta(days=2),
            ),
            scope=skus("sku9"),
        ),
    ]
    store = [
        reduction("store-a", [(200, 30), (300, 50)], group="store"),
        reduction("store-b", [(1000, 150), (1500, 240)], group="store"),
        reduction("store-c", [(200, 25)], repeat=True, group="store"),
        reduction("cat0-off", [(300, 40)], scope=cats("cat0"), group="cat"),
        reduction("cat1-off", [(400, 60)], scope=cats("cat1"), group="cat"),
        reduction("cross", [(1200, 80)]),
        Offer(id="gift-a", mechanic=ThresholdGift(threshold=cny(800), gift_sku_id="tote")),
        Offer(
            id="gift-b", mechanic=ThresholdGift(threshold=cny(1500), gift_sku_id="mug"), exclusive_group="cat"
        ),
        reduction("cat2-off", [(250, 20), (500, 45)], scope=cats("cat2")),
        reduction("flash-day", [(1300, 100)], group="store"),
    ]
    coupons = [
        held("A", 0, 5),
        held("B", 199, 20),
        held("C", 499, 50),
        held("D", 899, 90),
        held("E", 1299, 130),
        held("F", 150, 25, scope=cats("cat1")),
        held("G", 300, 40, scope=cats("cat0")),
        held("H", 100, 15, scope=cats("cat2")),
        held("I", 0, 3, stackable=True),
        held("J", 1000, 60, stackable=True),
    ]
    return lines, who, item + store, coupons


def case_mid(rng: random.Random) -> tuple[list[CartLine], CustomerContext, list[Offer], list[HeldCoupon]]:
    """The largest slice of case 1 the brute force finishes in about a second."""
    lines, who, offers, coupons = case_ten_lines()
    del rng
    keep_lines = lines[:5]
    keep_offers = [
        o
        for o in offers
        if o.id
        in {
            "member-tier-price",
            "pct-cat0",
            "pct-cat1",
            "nth",
            "flash",
            "store-a",
            "store-c",
            "cat0-off",
            "gift-a",
        }
    ]
    return keep_lines, who, keep_offers, coupons[:4]


def timed(fn, repeat: int) -> list[float]:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(repeat):
        start = time.perf_counter_ns()
        fn()
        samples.append((time.perf_counter_ns() - start) / 1e6)
    return samples


def build_catalogue(rng: random.Random, n_products: int, n_offers: int):  # type: ignore[no-untyped-def]
    n_categories = 2000
    category_of = [f"k{rng.randrange(n_categories)}" for _ in range(n_products)]
    price_of = [cny(f"{rng.randint(990, 59900) / 100:.2f}") for _ in range(n_products)]
    offers: list[Offer] = []
    offered_products: list[int] = []
    for k in range(n_offers):
        roll = rng.random()
        if roll < 0.02:
            scope = Scope()
        elif roll < 0.5:
            picks = [rng.randrange(n_products) for _ in range(rng.randint(1, 20))]
            offered_products.extend(picks)
            scope = Scope(product_ids=frozenset(f"p{p}" for p in picks))
        else:
            scope = cats(*(f"k{rng.randrange(n_categories)}" for _ in range(rng.randint(1, 3))))
        if rng.random() < 0.6:
            mechanic: object = PercentageOff(Decimal(rng.choice(["0.8", "0.85", "0.9", "0.95"])))
        elif rng.random() < 0.5:
            mechanic = TieredReduction(
                tiers=(Tier(cny(rng.choice([100, 200, 300])), cny(rng.choice([10, 20, 30]))),)
            )
        else:
            mechanic = NthItemOff(n=2, rate=Decimal("0.5"))
        offers.append(
            Offer(
                id=f"o{k}",
                mechanic=mechanic,
                scope=scope,  # type: ignore[arg-type]
                exclusive_group=rng.choice([None, "g1", "g2"]),
            )
        )
    return category_of, price_of, offers, offered_products


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    quick = args.quick
    rounds = 3
    repeat = 200 if quick else 1500

    # --- case 1 ---------------------------------------------------------------------------
    lines, who, offers, coupons = case_ten_lines()
    problem = build_problem(lines=lines, customer=who, offers=offers, coupons=coupons, now=NOW)
    applicable = sum(1 for o in problem.store_offers) + len(
        {o.primary.id for opts in problem.options for o in opts if o.primary is not None}
    )
    quote = quote_best_price(lines=lines, customer=who, offers=offers, coupons=coupons, now=NOW)
    print(
        f"case 1: {len(lines)} lines, {len(offers)} offers ({applicable} applicable), {len(coupons)} coupons"
    )
    print(
        f"  list {quote.list_total} -> payable {quote.payable}; "
        f"applied: {[a.offer_id for a in quote.applied]}"
    )
    medians = []
    for _ in range(rounds):
        samples = timed(
            lambda: quote_best_price(lines=lines, customer=who, offers=offers, coupons=coupons, now=NOW),
            repeat,
        )
        medians.append(statistics.median(samples))
    p50 = statistics.median(medians)
    print(
        f"  quote_best_price p50 over {rounds} rounds x {repeat}: {p50:.3f} ms (rounds: "
        f"{', '.join(f'{m:.3f}' for m in medians)}); target < 1 ms"
    )

    # --- reference: speed ratio on the largest case the brute force finishes ----------------
    rng = random.Random(42)
    mid_lines, mid_who, mid_offers, mid_coupons = case_mid(rng)
    engine_mid = timed(
        lambda: optimise(
            build_problem(lines=mid_lines, customer=mid_who, offers=mid_offers, coupons=mid_coupons, now=NOW)
        ),
        50 if quick else 300,
    )
    brute_runs = []
    brute_result = None
    for _ in range(1 if quick else 3):
        start = time.perf_counter_ns()
        brute_result = brute_force_best(
            lines=mid_lines, customer=mid_who, offers=mid_offers, coupons=mid_coupons, now=NOW
        )
        brute_runs.append((time.perf_counter_ns() - start) / 1e6)
    engine_result = optimise(
        build_problem(lines=mid_lines, customer=mid_who, offers=mid_offers, coupons=mid_coupons, now=NOW)
    ).result
    assert brute_result is not None
    same = engine_result.key == brute_result.key
    speedup = statistics.median(brute_runs) / statistics.median(engine_mid)
    print(
        f"reference case: {len(mid_lines)} lines, {len(mid_offers)} offers, {len(mid_coupons)} coupons: "
        f"engine {statistics.median(engine_mid):.3f} ms, brute force {statistics.median(brute_runs):.1f} ms, "
        f"speedup x{speedup:.0f}, same result: {same}"
    )

    n_random = 300 if quick else 3000
    mismatches = 0 if same else 1
    for _ in range(n_random):
        case = random_case(rng, max_lines=4, max_item=4, max_store=4, max_coupons=4)
        engine = optimise(
            build_problem(
                lines=case.lines,
                customer=case.customer,
                offers=case.offers,
                coupons=case.coupons,
                now=case.now,
            )
        ).result
        brute = brute_force_best(
            lines=case.lines, customer=case.customer, offers=case.offers, coupons=case.coupons, now=case.now
        )
        mismatches += engine.key != brute.key
    print(f"random carts vs brute force: {mismatches} mismatches in {n_random + 1} quotes")

    # --- case 2: 1,000 offers over 200,000 products through the index ----------------------
    crng = random.Random(7)
    n_products = 200_000
    start = time.perf_counter()
    category_of, price_of, big_offers, offered = build_catalogue(crng, n_products, 1000)
    index = OfferIndex(big_offers)
    built = time.perf_counter() - start
    carts = []
    for _ in range(100 if quick else 400):
        picks = [
            crng.choice(offered) if crng.random() < 0.5 else crng.randrange(n_products) for _ in range(10)
        ]
        carts.append(
            [CartLine(f"p{p}", f"p{p}", category_of[p], price_of[p], crng.randint(1, 2)) for p in picks]
        )
    customer = CustomerContext(customer_id="c2")
    sizes = []
    medians2 = []
    for _ in range(rounds):
        samples = []
        for cart in carts:
            t0 = time.perf_counter_ns()
            found = index.applicable(cart, customer, NOW)
            quote_best_price(lines=cart, customer=customer, offers=found, now=NOW)
            samples.append((time.perf_counter_ns() - t0) / 1e6)
            sizes.append(len(found))
        medians2.append(statistics.median(samples))
    p50_big = statistics.median(medians2)
    print(
        f"case 2: {len(big_offers)} offers over {n_products} products, index built in {built:.2f} s "
        f"(catalogue generation included); "
        f"median {statistics.median(sizes)} applicable offers per 10-line cart"
    )
    print(
        f"  index lookup + quote p50: {p50_big:.3f} ms (rounds: {', '.join(f'{m:.3f}' for m in medians2)}); "
        "target < 5 ms; DB loading of offers NOT included (promotion models not built yet)"
    )
    print(
        f"RESULT p50_ms={p50:.3f} mismatches={mismatches} speedup_vs_bruteforce={speedup:.0f} "
        f"p50_ms_1000_offers={p50_big:.3f}"
    )


if __name__ == "__main__":
    main()
