"""Demo shopper behaviour (DATA-04, DATA-05): a week of the own web shop's tracking — visitors
from each traffic source walking home → category/search → product → cart → pay with typical
drop-offs — posted through the same service as the shop's API batches, and what the live room
and social seeding cost per day."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping
from typing import Any

from django.utils import timezone

from storeops.behaviour import services as behaviour
from storeops.core.context import Actor

VISITORS_PER_DAY = 120
# source → (share of visitors, where they land, add-to-cart chance on a product page)
SOURCES = {
    "search": (0.40, "search", 0.10),
    "recommendation": (0.20, "product", 0.08),
    "paid": (0.15, "product", 0.07),
    "social": (0.10, "product", 0.02),
    "live": (0.10, "product", 0.18),
    "other": (0.05, "home", 0.06),
}
DAILY_COSTS = {"live": "300.00", "social": "120.00"}


def _visit(rng: random.Random, source: str, at: dt.datetime, skus: list[Any]) -> list[dict[str, Any]]:
    _share, landing, cart_chance = SOURCES[source]
    visitor = f"demo-{rng.getrandbits(40):010x}"
    events: list[dict[str, Any]] = []

    def add(kind: str, page: str, **extra: Any) -> None:
        nonlocal at
        events.append(
            {
                "visitor_id": visitor,
                "kind": kind,
                "page_type": page,
                "occurred_at": at,
                "source": source,
                "dwell_seconds": rng.randint(3, 120) if kind == "page_view" else None,
                **extra,
            }
        )
        at += dt.timedelta(seconds=rng.randint(10, 150))

    if landing == "home":
        add("page_view", "home")
        if rng.random() > 0.6:
            return events  # bounced on the home page
        add("page_view", "category")
        if rng.random() > 0.7:
            return events
    elif landing == "search":
        add("page_view", "search")
        if rng.random() > 0.75:
            return events
    sku = rng.choice(skus)
    add("page_view", "product", item_id=sku.code)
    if rng.random() < 0.08:
        add("favourite", "product", item_id=sku.code)
    if rng.random() >= cart_chance:
        return events
    add("add_to_cart", "product", item_id=sku.code)
    add("page_view", "cart")
    if rng.random() < 0.45:
        order = f"DEMO-{rng.getrandbits(32):08x}"
        add("order", "checkout", item_id=sku.code, order_ref=order)
        add("pay", "pay", item_id=sku.code, order_ref=order, amount=str(sku.price))
    return events


def load_behaviour_demo(
    *, store: Any, channels: Mapping[str, Any], products: Mapping[str, Any], now: dt.datetime, actor: Actor
) -> None:
    rng = random.Random(20261205)  # noqa: S311 - demo data, the same every time
    skus = [
        sku for product in products.values() for sku in product.skus.filter(is_active=True).order_by("code")
    ]
    if not skus:
        return
    channel = channels["web"]
    sources = list(SOURCES)
    weights = [SOURCES[s][0] for s in sources]
    today = timezone.localdate(now)
    batch: list[dict[str, Any]] = []
    for days_ago in range(7, 0, -1):
        day = today - dt.timedelta(days=days_ago)
        opening = timezone.make_aware(dt.datetime.combine(day, dt.time(8)))
        for i in range(VISITORS_PER_DAY):
            at = opening + dt.timedelta(seconds=i * 420 + rng.randint(0, 400))
            batch += _visit(rng, rng.choices(sources, weights)[0], at, skus)
            if len(batch) >= behaviour.MAX_API_EVENTS - 20:
                behaviour.events_post(actor=actor, store=store, channel=channel, events=batch)
                batch = []
        for source, amount in DAILY_COSTS.items():
            behaviour.source_cost_set(
                actor=actor,
                store=store,
                channel=channel,
                source=source,
                day=day,
                amount=amount,
                note="演示数据",
            )
    if batch:
        behaviour.events_post(actor=actor, store=store, channel=channel, events=batch)
