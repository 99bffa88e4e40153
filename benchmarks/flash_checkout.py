"""Benchmark: a flash sale at the checkout, with and without its Redis counter (PROMO-01, INV-03).

What it measures: what the flash-sale counter (``storeops.promotions.flash_counters`` on
``storeops.core.counters``) buys at the order level. N client processes (default 8) race for a
flash sale of ``--cap`` units (default 50, ``{"price": "60.00", "per_buyer_limit": 1}`` on a
product at 100.00 with plenty of stock), each placing single-unit orders for new customers
through ``storeops.orders.services.order_place`` in a loop (in process: Django is set up in
the parent, the clients are forked from it, each with its own database connection).

Why the measured window is the race for the last units: ``order_place`` prices the cart again
(``quote_cart`` reads the offer's ``stock_sold`` on every quote). Once the database has sold the
cap, the quote no longer gives the flash price and the buyer simply gets an order at the list
price: there is nothing left to refuse. A refusal (409 ``offer_sold_out``) happens only to a
buyer whose quote still saw units while the units were in fact gone: taken from the counter
(counters on) or by orders not yet committed (database alone). The benchmark does not hold a
quote across the sellout (``order_place`` cannot be given one; patching it would measure a path
no buyer takes). So each client loops until its own order comes back at the list price (the
database has sold out), and the figures are those of that race:

- ``flash``: orders at the flash price (must add up to the cap: every unit sold, none twice);
- ``refused``: ``Conflict`` ``offer_sold_out``; its latency p50/p95 is that of a refused
  attempt after the sellout (of the counter, or of the database);
- ``errors``: anything else raised (must be 0); ``oversell``: flash units beyond the cap by
  ``Offer.stock_sold``, by the offer's ``OfferUse`` quantities and by the orders the clients saw
  at the flash price (must be 0);
- ``attempts/s``: flash + refused attempts over the window from the first attempt to the end of
  the last flash or refused one (the orders at list price after it are left out);
  ``sellout_ms``: that window.

Two configurations, alternating (the first of the two swaps every repeat), ``--repeat`` times,
``--rounds`` fresh offers each time (a new offer per round, the previous one ended): counters
on (``REDIS_URL`` set, ``STOREOPS_FLASH_COUNTERS`` true) and the database alone (the children
set ``STOREOPS_FLASH_COUNTERS`` false, as ``FLASH_COUNTERS=0`` does). Rates are medians of the
repeats; latency percentiles pool every refusal of a configuration.

Database: ``DATABASE_URL`` if set, otherwise a throwaway PostgreSQL cluster on loopback
(``initdb`` under /tmp), otherwise SQLite with a note. Redis: ``REDIS_URL`` if set, otherwise a
throwaway ``redis-server`` on loopback; without Redis only the database configuration runs
(the counters' figures are ``na``). Helpers are shared with ``benchmarks/flash_sale.py``.

    python benchmarks/flash_checkout.py [--quick] [--clients 8] [--cap 50] [--rounds 3] [--repeat 3]
"""

from __future__ import annotations

import argparse
import contextlib
import math
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.flash_sale import _setup_django, database_and_redis

LIST_PRICE = "100.00"
FLASH_PRICE = "60.00"
STOCK = 1_000_000  # the SKU's stock: never the limit, the flash sale's cap is
SKU = "FLASH-1"
WARM_SKU = "WARM-1"  # a product without offers: the parent's warm-up order
CONFIGS = ("counters", "db")

FLASH, LIST, REFUSED = "flash", "list", "refused"


# ---- pure helpers ----------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float | None:
    """The ``q`` (0–100) percentile by the nearest-rank method; ``None`` for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class RoundFigures:
    """One round's attempts: ``(kind, started, ended)`` with monotonic clock seconds."""

    flash: int = 0
    refused: int = 0
    listed: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    refused_ms: list[float] = field(default_factory=list)
    window_s: float = 0.0

    @property
    def attempts(self) -> int:
        """Flash and refused attempts: the race for the sale's units."""
        return self.flash + self.refused


def round_figures(records: list[tuple[str, float, float]]) -> RoundFigures:
    """Count a round's attempts; its window runs from the first attempt's start to the end of
    the last flash or refused one (orders at list price come after the sellout)."""
    figures = RoundFigures()
    if not records:
        return figures
    first = min(start for _kind, start, _end in records)
    last = first
    for kind, start, end in records:
        if kind == FLASH:
            figures.flash += 1
        elif kind == REFUSED:
            figures.refused += 1
            figures.refused_ms.append((end - start) * 1000)
        elif kind == LIST:
            figures.listed += 1
            continue
        else:
            figures.errors[kind] += 1
        last = max(last, end)
    figures.window_s = last - first
    return figures


def oversold(cap: int, *, stock_sold: int, uses: int, seen: int) -> int:
    """Flash units sold beyond ``cap`` by the worst of the three counts (0: none)."""
    return max(0, stock_sold - cap, uses - cap, seen - cap)


def fmt(value: float | None, digits: int = 1) -> str:
    return "na" if value is None else f"{value:.{digits}f}"


# ---- the world ---------------------------------------------------------------------------------


def _seed() -> dict[str, int]:
    """A store and channel, a flash product (one SKU at LIST_PRICE, STOCK units) and a warm-up
    product, in one Shanghai warehouse."""
    from storeops.catalog import services as cs
    from storeops.core.context import Actor
    from storeops.inventory import services as inv
    from storeops.stores import services as st

    system = Actor.system("cli")
    store = st.store_create(actor=system, code=f"flash{os.getpid()}", name="秒杀压测店")
    channel = st.channel_create(actor=system, store=store, kind="own_web", code="web", name="自营商城")
    cat = cs.category_create(actor=system, store=store, code="dress", name="连衣裙")
    wh = inv.warehouse_create(
        actor=system,
        store=store,
        code="sh",
        name="上海仓",
        region="上海",
        latitude=Decimal("31.23"),
        longitude=Decimal("121.47"),
    )
    products = {}
    for code, title in ((SKU, "秒杀连衣裙"), (WARM_SKU, "预热连衣裙")):
        product = cs.product_create(
            actor=system,
            store=store,
            category=cat,
            code=code.split("-")[0],
            core_word="连衣裙",
            title=title,
            skus=[{"code": code, "price": LIST_PRICE, "cost": "40.00"}],
        )
        inv.stock_receive(
            actor=system, sku=product.skus.get(), warehouse=wh, quantity=STOCK, reason="压测备货"
        )
        products[code] = product.pk
    return {"store": store.pk, "channel": channel.pk, "product": products[SKU]}


def _offer_start(store_id: int, product_id: int, cap: int) -> int:
    from storeops.core.context import Actor
    from storeops.promotions import services as ps
    from storeops.stores.models import Store

    actor = Actor.system("cli")
    offer = ps.offer_create(
        actor=actor,
        store=Store.objects.get(pk=store_id),
        kind="flash_sale",
        params={"price": FLASH_PRICE, "per_buyer_limit": 1},
        product_ids=[product_id],
        stock_cap=cap,
    )
    return ps.offer_set_status(actor=actor, offer=offer, status="active").pk


def _offer_end(offer_id: int) -> None:
    from storeops.core.context import Actor
    from storeops.promotions import services as ps
    from storeops.promotions.models import Offer

    ps.offer_set_status(actor=Actor.system("cli"), offer=Offer.objects.get(pk=offer_id), status="ended")


def _place(store: Any, channel: Any, sku: str, customer: str) -> Any:
    from storeops.core.context import Actor
    from storeops.orders import services as svc
    from storeops.promotions.services import CartItem, Shopper

    order, _created = svc.order_place(
        actor=Actor.system("api"),
        store=store,
        channel=channel,
        customer=Shopper(customer_ref=customer),
        lines=[CartItem(sku, 1)],
        address=svc.AddressIn(
            receiver="张三",
            phone="13812345678",
            province="浙江省",
            city="杭州市",
            district="西湖区",
            address="文三路100号",
        ),
    )
    return order


# ---- the clients (forked processes, one database connection each) ----------------------------


def _client(
    config: str, ids: dict[str, int], offer_id: int, tag: str, limit: int, start: Any, out: Any
) -> None:
    from django.conf import settings
    from django.db import connection

    from storeops.core import counters
    from storeops.core.errors import Conflict
    from storeops.stores.models import Channel, Store

    connection.close()  # never share the parent's socket
    counters._client.clear()  # nor its Redis connection
    settings.STOREOPS_FLASH_COUNTERS = config == "counters"  # "db": as FLASH_COUNTERS=0 does
    records: list[tuple[str, float, float]] = []
    try:
        store, channel = Store.objects.get(pk=ids["store"]), Channel.objects.get(pk=ids["channel"])
        flash_offer = f"of{offer_id}"
        start.wait()
        for n in range(limit):
            began = time.monotonic()
            try:
                order = _place(store, channel, SKU, f"{tag}-{n}")
                kind = FLASH if any(a["offer"] == flash_offer for a in order.pricing["applied"]) else LIST
            except Conflict as exc:
                kind = REFUSED if exc.code == "offer_sold_out" else f"Conflict {exc.code}"
            except Exception as exc:
                kind = f"{type(exc).__name__}: {str(exc)[:80]}"
            records.append((kind, began, time.monotonic()))
            if kind == LIST:  # the database has sold out: the race is over for this client
                break
    finally:
        out.put(records)
        connection.close()


def _round(
    config: str, ids: dict[str, int], offer_id: int, run: int, clients: int, limit: int
) -> RoundFigures:
    from django.db import connection

    connection.close()
    ctx = multiprocessing.get_context("fork")
    start, out = ctx.Event(), ctx.Queue()
    procs = [
        ctx.Process(target=_client, args=(config, ids, offer_id, f"r{run}c{w}", limit, start, out))
        for w in range(clients)
    ]
    for p in procs:
        p.start()
    time.sleep(0.3)
    start.set()
    records = [r for _ in procs for r in out.get(timeout=600)]
    for p in procs:
        p.join()
    return round_figures(records)


def _check(offer_id: int, cap: int, figures: RoundFigures, config: str) -> tuple[int, list[str]]:
    """The oversell of a round's offer and notes on anything that does not add up."""
    from django.db.models import Sum

    from storeops.core import counters
    from storeops.promotions import flash_counters
    from storeops.promotions.models import Offer, OfferUse

    sold = Offer.objects.get(pk=offer_id).stock_sold
    uses = (
        OfferUse.objects.filter(offer_id=offer_id, released_at__isnull=True).aggregate(n=Sum("quantity"))["n"]
        or 0
    )
    notes = []
    if not sold == uses == figures.flash:
        notes.append(f"stock_sold {sold}, uses {uses}, flash orders seen {figures.flash}")
    if figures.flash < cap:
        notes.append(f"sold {figures.flash} of {cap} (clients stopped at --attempts)")
    if config == "counters":
        left = counters.value(flash_counters.counter_key(offer_id))
        if left != cap - sold:
            notes.append(f"counter {left} != cap - sold {cap - sold}")
    return oversold(cap, stock_sold=sold, uses=uses, seen=figures.flash), notes


@dataclass
class Tally:
    rates: list[float] = field(default_factory=list)  # attempts/s per repeat
    sellout_ms: list[float] = field(default_factory=list)  # per round
    refused_ms: list[float] = field(default_factory=list)
    flash: int = 0
    refused: int = 0
    listed: int = 0
    errors: Counter[str] = field(default_factory=Counter)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="fewer rounds and repeats (< 1 minute)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--cap", type=int, default=50, help="the flash sale's units per round")
    parser.add_argument("--rounds", type=int, default=None, help="fresh offers per configuration and repeat")
    parser.add_argument("--repeat", type=int, default=None)
    parser.add_argument("--attempts", type=int, default=None, help="most attempts per client and round")
    args = parser.parse_args()
    rounds = args.rounds or (1 if args.quick else 3)
    repeat = args.repeat or (2 if args.quick else 5)
    limit = args.attempts or 4 * args.cap + 20

    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="flashcheckout")))
        db_url, note, redis_url = database_and_redis(stack, tmp)
        os.environ.pop("FLASH_COUNTERS", None)  # each configuration sets it in its children
        _setup_django(db_url, str(tmp))
        from django.conf import settings
        from django.db import connection

        from storeops.stores.models import Channel, Store

        configs = CONFIGS if redis_url else ("db",)
        print(f"database: {connection.vendor} ({note}); redis: {redis_url or 'none (counters not measured)'}")
        print(
            f"{args.clients} clients racing for {args.cap} flash units, {rounds} fresh offer(s) per "
            f"configuration, {repeat} repeats, alternating {' / '.join(configs)}"
        )
        ids = _seed()
        # warm the parent (imports, caches) so that every forked client starts warm
        settings.STOREOPS_FLASH_COUNTERS = False
        _place(
            Store.objects.get(pk=ids["store"]), Channel.objects.get(pk=ids["channel"]), WARM_SKU, "warm-up"
        )

        tallies = {c: Tally() for c in configs}
        oversell, run, notes = 0, 0, []
        for r in range(repeat):
            for config in configs if r % 2 == 0 else configs[::-1]:
                tally = tallies[config]
                attempts = 0
                window = 0.0
                for _ in range(rounds):
                    run += 1
                    offer_id = _offer_start(ids["store"], ids["product"], args.cap)
                    figures = _round(config, ids, offer_id, run, args.clients, limit)
                    over, why = _check(offer_id, args.cap, figures, config)
                    _offer_end(offer_id)
                    oversell += over
                    notes += [f"{config} round {run}: {w}" for w in why]
                    attempts += figures.attempts
                    window += figures.window_s
                    tally.sellout_ms.append(figures.window_s * 1000)
                    tally.refused_ms += figures.refused_ms
                    tally.flash += figures.flash
                    tally.refused += figures.refused
                    tally.listed += figures.listed
                    tally.errors += figures.errors
                tally.rates.append(attempts / window if window else 0.0)

        errors = sum(sum(t.errors.values()) for t in tallies.values())
        med: dict[str, dict[str, float | None]] = {}
        for config, t in tallies.items():
            med[config] = {
                "rate": statistics.median(t.rates),
                "sellout": statistics.median(t.sellout_ms),
                "p50": percentile(t.refused_ms, 50),
                "p95": percentile(t.refused_ms, 95),
            }
            label = "counters on (Redis, then the database)" if config == "counters" else "database alone"
            print(f"{config:8s} {label}")
            print(
                f"  attempts/s median {med[config]['rate']:.0f} (repeats: "
                f"{', '.join(f'{x:.0f}' for x in t.rates)}); sellout median {med[config]['sellout']:.0f} ms"
            )
            print(
                f"  flash orders {t.flash}, refused {t.refused} (p50 {fmt(med[config]['p50'])} ms, "
                f"p95 {fmt(med[config]['p95'])} ms), at list price after the sellout {t.listed}, "
                f"errors {sum(t.errors.values())}"
            )
            for what, n in t.errors.most_common(5):
                print(f"    error x{n}: {what}")
        for line in notes:
            print(f"  note: {line}")
        on, off = med.get("counters", {}), med["db"]
        rate_on, rate_off = on.get("rate"), off["rate"]
        ratio = f"{rate_on / rate_off:.2f}" if rate_on and rate_off else "na"
        print(
            f"RESULT oversell={oversell} errors={errors} "
            f"attempts_per_s_counters={fmt(rate_on, 0)} attempts_per_s_db={fmt(rate_off, 0)} "
            f"ratio_counters_vs_db={ratio} "
            f"refused_p95_ms_counters={fmt(on.get('p95'))} refused_p95_ms_db={fmt(off['p95'])} "
            f"sellout_ms_counters={fmt(on.get('sellout'), 0)} sellout_ms_db={fmt(off['sellout'], 0)}"
        )


if __name__ == "__main__":
    main()
