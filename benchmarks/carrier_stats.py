"""LOG-03 carrier suggestion latency with the statistics cache, against the uncached computation
measured in the same run.

A throwaway SQLite database (under a temporary directory, migrated) gets N shipments over the
last 80 days (five carriers, 31 destination provinces, 85 % delivered with a transit time, some
returned/lost, costs and weights), bulk-created, then one tracking/shipment write through the
services so the store has a statistics version (``fulfilment.CarrierStatsVersion``). Timed:

- **suggestion**: ``selectors.carrier_suggest`` for a 1.5 kg parcel to 浙江省 — uncached (the
  reference: the shipments of the window read and summarised on every call, as before the cache),
  cold (a new version, first read: computes and stores every province at once) and warm (later
  reads of the same version);
- **order page**: the console page of an allocated order (``/orders/<id>/``, signed in as the
  warehouse), which shows the suggestion: cold (just after a write) and warm;
- **shipment creation**: ``services.shipment_create`` without a carrier suggestion given (it
  works one out): with the cache warm before each (page views between shipments), and in a
  burst (each creation retires the version, so the next one reads cold).

Every cached suggestion is checked against the uncached one (``mismatches``).

    python benchmarks/carrier_stats.py [--quick] [--shipments N]

``--quick``: 5,000 shipments and 3 rounds (under a minute on a quiet machine). Ends with one line:
``RESULT shipments=… suggest_ms_uncached=… suggest_ms_cold=… suggest_ms_cached=… speedup=…
page_ms_cold=… page_ms_cached=… create_ms_warm=… create_ms_burst=… mismatches=…``
(medians; ``speedup`` = uncached ÷ cached suggestion).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("STOREOPS_VAR_DIR", tempfile.mkdtemp(prefix="storeops-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storeops.config.settings")

CARRIERS = {
    "SF": (30, "18.00"),
    "ZTO": (52, "8.00"),
    "YTO": (55, "7.50"),
    "JD": (28, "16.00"),
    "EMS": (70, "12.00"),
}
PROVINCES = [
    *[
        "北京市",
        "天津市",
        "河北省",
        "山西省",
        "内蒙古自治区",
        "辽宁省",
        "吉林省",
        "黑龙江省",
        "上海市",
        "江苏省",
        "浙江省",
    ],
    *[
        "安徽省",
        "福建省",
        "江西省",
        "山东省",
        "河南省",
        "湖北省",
        "湖南省",
        "广东省",
        "广西壮族自治区",
        "海南省",
        "重庆市",
    ],
    *[
        "四川省",
        "贵州省",
        "云南省",
        "西藏自治区",
        "陕西省",
        "甘肃省",
        "青海省",
        "宁夏回族自治区",
        "新疆维吾尔自治区",
    ],
]


def ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def build(n: int, store, channel, carriers, rng: random.Random) -> None:
    from django.utils import timezone

    from storeops.fulfilment.models import Shipment, ShipmentStatus

    now = timezone.now()
    rows = []
    for i in range(n):
        code = rng.choice(list(carriers))
        base_hours, cost = CARRIERS[code]
        created = now - dt.timedelta(minutes=rng.randrange(80 * 24 * 60))
        roll = rng.random()
        status = (
            ShipmentStatus.DELIVERED
            if roll < 0.85
            else ShipmentStatus.RETURNED
            if roll < 0.88
            else ShipmentStatus.LOST
            if roll < 0.89
            else ShipmentStatus.IN_TRANSIT
        )
        shipped = created + dt.timedelta(hours=rng.uniform(2, 20))
        delivered = (
            shipped + dt.timedelta(hours=max(6.0, rng.gauss(base_hours, base_hours / 4)))
            if status == ShipmentStatus.DELIVERED
            else None
        )
        rows.append(
            Shipment(
                store=store,
                channel=channel,
                order_ref=f"B{i:07d}",
                warehouse_code="sh",
                carrier=carriers[code],
                tracking_no=f"{code}{i:09d}",
                status=status,
                province=rng.choice(PROVINCES),
                weight_kg=Decimal(rng.randint(200, 8000)) / 1000,
                shipping_cost=Decimal(cost) + Decimal(rng.randint(0, 600)) / 100,
                created_at=created,
                shipped_at=shipped,
                delivered_at=delivered if delivered is None or delivered < now else None,
                last_event_at=delivered or shipped,
                suggested_carrier=rng.choice(["", "SF", "ZTO"]),
            )
        )
    Shipment.objects.bulk_create(rows, batch_size=2000)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="5,000 shipments, 3 rounds")
    parser.add_argument("--shipments", type=int, default=None)
    args = parser.parse_args()
    n = args.shipments or (5_000 if args.quick else 50_000)
    rounds = 3 if args.quick else 7

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.utils import timezone

    from storeops.accounts.roles import Role
    from storeops.accounts.services import user_create
    from storeops.fulfilment import selectors, services
    from storeops.fulfilment.rules import Parcel
    from storeops.orders import services as order_services
    from storeops.stores import services as store_services
    from tests.fulfilment.builders import a_carrier
    from tests.orders.builders import ACTOR, World

    setup_test_environment()  # the test client's host and template hooks
    store = store_services.store_create(actor=ACTOR, code="bench", name="bench")
    channel = store_services.channel_create(actor=ACTOR, store=store, kind="tmall", code="tmall", name="天猫")
    carriers = {code: a_carrier(code) for code in CARRIERS}
    rng = random.Random(7)
    started = time.perf_counter()
    build(n, store, channel, carriers, rng)
    built = time.perf_counter() - started
    print(f"built {n} shipments in {built:.1f} s (SQLite under {os.environ['STOREOPS_VAR_DIR']})")
    services.carrier_stats_changed(store_ids=[store.pk])  # the store now has a statistics version

    parcel = Parcel(weight_kg=Decimal("1.5"), items=1, fragile=False)
    province = "浙江省"

    def uncached():
        since = selectors.carrier_stats_since(store=store)
        return selectors.carrier_suggest(store=store, province=province, parcel=parcel, since=since)

    def cached():
        stats = selectors.carrier_stats_cached(store=store)
        return selectors.carrier_suggest(store=store, province=province, parcel=parcel, stats=stats)

    def timed(fn):
        started = time.perf_counter()
        result = fn()
        return time.perf_counter() - started, result

    mismatches = 0
    ref_times, cold_times, warm_times = [], [], []
    for _ in range(rounds):
        t, ref = timed(uncached)
        ref_times.append(t)
        services.carrier_stats_changed(store_ids=[store.pk])  # a write: the next read is cold
        t, cold = timed(cached)
        cold_times.append(t)
        for _w in range(3):
            t, warm = timed(cached)
            warm_times.append(t)
            mismatches += [s.score for s in warm.ranked] != [s.score for s in ref.ranked]
        mismatches += (cold.best_code, cold.reason) != (ref.best_code, ref.reason)
    print(
        f"suggestion  uncached (reference) {ms(ref_times):8.1f} ms   cold {ms(cold_times):8.1f} ms   "
        f"warm {ms(warm_times):6.2f} ms   best={ref.best_code}"
    )

    # the order page: an allocated order, its console page as the warehouse sees it
    world = World(store, channel, stock_sh=500, stock_gz=0)
    order = world.place(1, now=timezone.now())
    world.pay(order, now=timezone.now())
    order = order_services.order_allocate(
        actor=ACTOR, order=order_services.order_auto_review(actor=ACTOR, order=order)
    )
    user = user_create(actor=ACTOR, username="bench_wh", password="bench-pass-123", roles=[Role.WAREHOUSE])
    client = Client()
    client.force_login(user)
    url = f"/orders/{order.pk}/"
    assert client.get(url).status_code == 200
    page_cold, page_warm, _page_ref = [], [], []
    for _ in range(rounds):
        services.carrier_stats_changed(store_ids=[store.pk])
        page_cold.append(timed(lambda: client.get(url))[0])
        page_warm.extend(timed(lambda: client.get(url))[0] for _w in range(3))
    print(f"order page  cold {ms(page_cold):8.1f} ms   warm {ms(page_warm):6.1f} ms")

    # shipment creation: the service works the suggestion out itself
    seq = iter(range(10**6))

    def create():
        i = next(seq)
        return services.shipment_create(
            actor=ACTOR,
            store=store,
            channel=channel,
            carrier=carriers["ZTO"],
            tracking_no=f"NEW{i:07d}",
            warehouse_code="sh",
            lines=[("P1-S", 1)],
            province=province,
            order_ref=f"N{i}",
            weight_kg="1.2",
            shipping_cost="8.00",
        )

    create_warm, create_burst = [], []
    for _ in range(rounds):
        selectors.carrier_stats_cached(store=store)  # a page view between two shipments
        create_warm.append(timed(create)[0])
    # in a burst each creation reads cold: the previous one retired the version
    create_burst.extend(timed(create)[0] for _ in range(rounds))
    print(
        f"shipment creation  cache warm {ms(create_warm):8.1f} ms   burst (cold) {ms(create_burst):8.1f} ms"
    )

    speedup = ms(ref_times) / ms(warm_times)
    print(
        f"RESULT shipments={n} suggest_ms_uncached={ms(ref_times):.1f} suggest_ms_cold={ms(cold_times):.1f} "
        f"suggest_ms_cached={ms(warm_times):.2f} speedup={speedup:.0f} page_ms_cold={ms(page_cold):.1f} "
        f"page_ms_cached={ms(page_warm):.1f} create_ms_warm={ms(create_warm):.1f} "
        f"create_ms_burst={ms(create_burst):.1f} mismatches={mismatches}"
    )


if __name__ == "__main__":
    main()
