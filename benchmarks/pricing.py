"""Best-price quote latency (SOP PROMO-03), against the brute-force reference in the same run.

Case 1: a 10-line cart with 20 applicable offers and 10 held coupons: median latency of
``quote_best_price`` (target < 1 ms).
Reference: the exhaustive optimiser of ``tests/promotions/reference.py`` cannot finish a
10-line cart (options^10 x store subsets x coupon subsets), so the speed ratio is measured on
the largest cart it finishes in about a second (printed), and equality of results is checked
on many random small carts (``mismatches``).
Case 2: 1,000 active offers over a catalogue of 200,000 products, offers found through the
in-memory ``OfferIndex`` (target < 5 ms per quote), printed for comparison. The 2,000
categories form a tree (100 roots, each over ~19 subcategories) and an offer on a category
covers its subcategories, so each cart line carries its ancestors.
Case 3 (``p50_ms_1000_offers``): the same 1,000 offers as rows of ``promotions.Offer`` in a
throwaway SQLite database (under a temporary directory; migrated, then the store's 200,000
products and SKUs are bulk-created), and each quote first loads the cart's applicable offers
from the database (``promotions.selectors.category_ancestors``, one recursive query up the
category tree, then ``offers_applicable``, one query while no offer changes) and then calls
``quote_best_price``. Also printed: the whole ``services.quote_cart`` (SKU look-up, playbook,
offers, quote), and whether every DB quote's payable equals the in-memory one.
``--quick`` uses 20,000 products in the database (and says so).

    python benchmarks/pricing.py [--quick]

Ends with one line: RESULT p50_ms=... mismatches=... speedup_vs_bruteforce=... p50_ms_1000_offers=...
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
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


N_ROOT_CATEGORIES = 100


def category_parent(key: str) -> str | None:
    """The benchmark's category tree: k100..k1999 sit under one of the roots k0..k99, so an
    offer scoped to a root covers about 20 categories (subcategory scopes, PROMO-01)."""
    n = int(key[1:])
    return None if n < N_ROOT_CATEGORIES else f"k{n % N_ROOT_CATEGORIES}"


def category_ancestors(key: str) -> frozenset[str]:
    parent = category_parent(key)
    return frozenset() if parent is None else frozenset({parent})


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


def catalogue_and_carts(n_products: int, n_offers: int, n_carts: int):  # type: ignore[no-untyped-def]
    """The case-2 catalogue, offers and 10-line carts (half the picks from offered products)."""
    crng = random.Random(7)
    category_of, price_of, offers, offered = build_catalogue(crng, n_products, n_offers)
    carts = []
    for _ in range(n_carts):
        picks = [
            crng.choice(offered) if crng.random() < 0.5 else crng.randrange(n_products) for _ in range(10)
        ]
        carts.append(
            [
                CartLine(
                    f"p{p}",
                    f"p{p}",
                    category_of[p],
                    price_of[p],
                    crng.randint(1, 2),
                    category_ancestors=category_ancestors(category_of[p]),
                )
                for p in picks
            ]
        )
    return category_of, price_of, offers, carts


def _params(mechanic: object) -> tuple[str, dict[str, object]]:
    if isinstance(mechanic, PercentageOff):
        return "percentage", {"rate": str(mechanic.rate)}
    if isinstance(mechanic, NthItemOff):
        return "nth_item", {"n": mechanic.n, "rate": str(mechanic.rate)}
    assert isinstance(mechanic, TieredReduction)
    tiers = [{"threshold": str(t.threshold.amount), "amount": str(t.amount.amount)} for t in mechanic.tiers]
    return "tiered_reduction", {"tiers": tiers}


def db_benchmark(case, *, rounds: int, customer: CustomerContext) -> float:  # type: ignore[no-untyped-def]
    """Case 3: offers as database rows, loaded per quote. Returns the p50 in ms."""
    category_of, price_of, offers, carts = case
    n_products = len(category_of)
    tmp = tempfile.TemporaryDirectory(prefix="storeops-bench-")
    os.environ.pop("DATABASE_URL", None)  # never a real database: a throwaway SQLite file
    os.environ["STOREOPS_VAR_DIR"] = tmp.name
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storeops.config.settings")
    import django

    django.setup()
    from django.conf import settings

    settings.DEBUG = False  # no query log: measure what production does
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from storeops.catalog.models import Category, Product, Sku
    from storeops.promotions import selectors as promo_selectors
    from storeops.promotions import services as promo_services
    from storeops.promotions.models import Offer as OfferRow
    from storeops.promotions.models import OfferScopeItem
    from storeops.stores.models import Store

    start = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrated = time.perf_counter() - start
    start = time.perf_counter()
    store = Store.objects.create(code="bench", name="bench")
    names = sorted(set(category_of), key=lambda k: int(k[1:]))
    roots = {category_parent(k) for k in names} - {None} | {k for k in names if category_parent(k) is None}
    Category.objects.bulk_create(
        [Category(store=store, code=k, name=k) for k in sorted(roots)], batch_size=2000
    )
    cat_pk = dict(Category.objects.filter(store=store).values_list("code", "pk"))
    Category.objects.bulk_create(
        [
            Category(store=store, code=k, name=k, parent_id=cat_pk[category_parent(k)])  # type: ignore[index]
            for k in names
            if k not in cat_pk
        ],
        batch_size=2000,
    )
    cat_pk = dict(Category.objects.filter(store=store).values_list("code", "pk"))
    batch = 10_000
    for lo in range(0, n_products, batch):
        Product.objects.bulk_create(
            [
                Product(
                    store=store, category_id=cat_pk[category_of[p]], code=f"p{p}", core_word="w", title="t"
                )
                for p in range(lo, min(lo + batch, n_products))
            ]
        )
    product_pk = dict(Product.objects.filter(store=store).values_list("code", "pk"))
    for lo in range(0, n_products, batch):
        Sku.objects.bulk_create(
            [
                Sku(store=store, product_id=product_pk[f"p{p}"], code=f"p{p}", price=price_of[p].amount)
                for p in range(lo, min(lo + batch, n_products))
            ]
        )
    sku_pk = dict(Sku.objects.filter(store=store).values_list("code", "pk"))
    rows = []
    for offer in offers:
        kind, params = _params(offer.mechanic)
        rows.append(
            OfferRow(
                store=store,
                kind=kind,
                level=promo_selectors.level_of(kind),
                params=params,
                all_items=offer.scope.all_items,
                exclusive_group=offer.exclusive_group or "",
                status="active",
                title_zh=offer.id,
            )
        )
    OfferRow.objects.bulk_create(rows)
    scope = []
    for offer, row in zip(offers, OfferRow.objects.filter(store=store).order_by("pk"), strict=True):
        scope += [
            OfferScopeItem(offer=row, product_id=product_pk[p]) for p in sorted(offer.scope.product_ids)
        ]
        scope += [OfferScopeItem(offer=row, category_id=cat_pk[k]) for k in sorted(offer.scope.category_ids)]
    OfferScopeItem.objects.bulk_create(scope, batch_size=5000)
    loaded = time.perf_counter() - start
    print(
        f"case 3: database (SQLite, temporary) with {n_products} products/SKUs, "
        f"{len(rows)} active offer rows, "
        f"{len(scope)} scope rows; migrate {migrated:.1f} s, bulk load {loaded:.1f} s"
    )

    db_carts = [
        [
            CartLine(
                str(sku_pk[line.sku_id]),
                str(product_pk[line.product_id]),
                str(cat_pk[line.category_id]),
                line.unit_price,
                line.quantity,
                category_ancestors=frozenset(str(cat_pk[a]) for a in line.category_ancestors),
            )
            for line in cart
        ]
        for cart in carts
    ]
    items = [[promo_services.CartItem(line.sku_id, line.quantity) for line in cart] for cart in carts]
    shopper = promo_services.Shopper(customer_ref=customer.customer_id)

    def load_and_quote(cart: list[CartLine]):  # type: ignore[no-untyped-def]
        # the category tree is walked per quote (one query), as quote_cart does
        ancestors = promo_selectors.category_ancestors(category_ids=[int(line.category_id) for line in cart])
        found = promo_selectors.offers_applicable(
            store=store,
            sku_ids=[int(line.sku_id) for line in cart],
            product_ids=[int(line.product_id) for line in cart],
            category_ids=[
                c for line in cart for c in (int(line.category_id), *ancestors[int(line.category_id)])
            ],
            now=NOW,
        )
        return found, quote_best_price(lines=cart, customer=customer, offers=found, now=NOW)

    with CaptureQueriesContext(connection) as queries:
        load_and_quote(db_carts[0])
    differ = 0
    index = OfferIndex(offers)
    for cart, db_cart in zip(carts, db_carts, strict=True):
        memory = quote_best_price(
            lines=cart, customer=customer, offers=index.applicable(cart, customer, NOW), now=NOW
        )
        differ += memory.payable != load_and_quote(db_cart)[1].payable
    medians = []
    full_medians = []
    for _ in range(rounds):
        samples = []
        for cart in db_carts:
            t0 = time.perf_counter_ns()
            load_and_quote(cart)
            samples.append((time.perf_counter_ns() - t0) / 1e6)
        medians.append(statistics.median(samples))
        full = []
        for cart_items in items:
            t0 = time.perf_counter_ns()
            promo_services.quote_cart(store=store, channel=None, lines=cart_items, customer=shopper, now=NOW)
            full.append((time.perf_counter_ns() - t0) / 1e6)
        full_medians.append(statistics.median(full))
    p50 = statistics.median(medians)
    print(
        f"  DB load of applicable offers ({len(queries)} queries on a cold cache, then 2 per quote "
        f"(category tree, offers) while no offer changes) + quote p50: {p50:.3f} ms "
        f"(rounds: {', '.join(f'{m:.3f}' for m in medians)}); target < 5 ms"
    )
    print(
        f"  whole services.quote_cart (SKUs + playbook + offers + quote) p50: "
        f"{statistics.median(full_medians):.3f} ms; "
        f"payable differs from the in-memory quote in {differ} of {len(carts)} carts"
    )
    connection.close()
    tmp.cleanup()
    return p50


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
    n_products = 200_000
    start = time.perf_counter()
    category_of, price_of, big_offers, carts = catalogue_and_carts(n_products, 1000, 100 if quick else 400)
    index = OfferIndex(big_offers)
    built = time.perf_counter() - start
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
        f"  in-memory index lookup + quote p50: {p50_big:.3f} ms "
        f"(rounds: {', '.join(f'{m:.3f}' for m in medians2)}); target < 5 ms; no database"
    )

    # --- case 3: the same offers loaded from the database per quote ------------------------
    n_db = 20_000 if quick else n_products
    if n_db == n_products:
        db_case = (category_of, price_of, big_offers, carts)
    else:
        db_case = catalogue_and_carts(n_db, 1000, len(carts))
        print(f"case 3 (--quick): {n_db} products in the database instead of {n_products}")
    p50_db = db_benchmark(db_case, rounds=rounds, customer=customer)
    print(
        f"RESULT p50_ms={p50:.3f} mismatches={mismatches} speedup_vs_bruteforce={speedup:.0f} "
        f"p50_ms_1000_offers={p50_db:.3f}"
    )


if __name__ == "__main__":
    main()
