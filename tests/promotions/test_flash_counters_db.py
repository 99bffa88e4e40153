"""PROMO-01 / INV-03 flash sales at the checkout with Redis (REDIS_URL, set in CI's PostgreSQL +
Redis run): an order takes its flash units from the sale's counter before it writes anything,
so a sold-out sale refuses buyers without touching the database; units go back when the order
fails or is cancelled; the counter follows the offer's stock changes and is reconciled with the
database, which stays the system of record. Without Redis the database decides alone."""

from __future__ import annotations

import logging
import os

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from storeops.core import counters
from storeops.core.errors import Conflict
from storeops.inventory.services import InsufficientStock
from storeops.orders import services as order_services
from storeops.orders.models import Order
from storeops.promotions import flash_counters, services
from storeops.promotions.models import Offer, OfferUse
from tests.concurrency import at_once
from tests.orders.builders import ACTOR, World

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not os.environ.get("REDIS_URL"), reason="flash-sale counters need REDIS_URL (set in CI)"
    ),
]


@pytest.fixture
def world(store, channel):
    return World(store, channel, stock_sh=10, stock_gz=0)


def _flash(world, *, cap, per_buyer=5):
    offer = services.offer_create(
        actor=ACTOR,
        store=world.store,
        kind="flash_sale",
        params={"price": "60.00", "per_buyer_limit": per_buyer},
        product_ids=[world.sku_s.product_id],
        stock_cap=cap,
    )
    return services.offer_set_status(actor=ACTOR, offer=offer, status="active")


def _counter(offer) -> int | None:
    return counters.value(flash_counters.counter_key(offer.pk))


def _sold(offer) -> int:
    return Offer.objects.get(pk=offer.pk).stock_sold


def test_promo_01_orders_take_flash_units_from_the_counter_and_the_database(world):
    offer = _flash(world, cap=3)
    assert _counter(offer) is None  # started by the first order, from the database's figure
    world.place(2, customer="a")
    assert (_counter(offer), _sold(offer)) == (1, 2)
    world.place(1, customer="b")
    assert (_counter(offer), _sold(offer)) == (0, 3)


def test_promo_01_a_sale_sold_out_in_redis_refuses_before_any_database_write(world):
    offer = _flash(world, cap=3)
    world.place(1, customer="a")
    counters.sync(flash_counters.counter_key(offer.pk), 0)  # the other units went to orders in flight
    with CaptureQueriesContext(connection) as queries, pytest.raises(Conflict) as caught:
        world.place(1, customer="b")
    assert caught.value.code == "offer_sold_out"
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE"))
    ]
    assert writes == []
    assert Order.objects.count() == 1
    assert (_counter(offer), _sold(offer)) == (0, 1)


def test_promo_01_an_order_that_fails_later_gives_its_flash_units_back(world):
    offer = _flash(world, cap=5)
    with pytest.raises(InsufficientStock):
        world.place(1, 20, customer="a")  # the flash unit is taken, then size M has too little stock
    assert _counter(offer) == 5
    assert _sold(offer) == 0
    assert not Order.objects.exists()


def test_promo_01_a_counter_above_the_database_is_lowered_when_the_database_refuses(world, monkeypatch):
    offer = _flash(world, cap=2)
    real_quote = services.quote_cart

    def quote_then_sell_out(**kw):
        priced = real_quote(**kw)  # priced with 2 flash units left ...
        Offer.objects.filter(pk=offer.pk).update(stock_sold=2)  # ... sold meanwhile (not through Redis)
        return priced

    monkeypatch.setattr(services, "quote_cart", quote_then_sell_out)
    with pytest.raises(Conflict) as caught:
        world.place(1, customer="a")
    assert caught.value.code == "offer_sold_out"
    assert _counter(offer) == 0  # Redis let it through; the database said no: now Redis knows


def test_promo_01_cancelled_and_closed_orders_give_flash_units_back_to_the_counter(world):
    offer = _flash(world, cap=2)
    order = world.place(2, customer="a")
    assert _counter(offer) == 0
    order_services.order_cancel(actor=ACTOR, order=order, reason="不想要了")
    assert (_counter(offer), _sold(offer)) == (2, 0)
    assert world.place(2, customer="b").payable == 120
    assert _counter(offer) == 0


def test_promo_01_a_changed_flash_stock_starts_the_counter_again(world):
    offer = _flash(world, cap=2)
    world.place(1, customer="a")
    assert _counter(offer) == 1
    services.offer_update(actor=ACTOR, offer=offer, stock_cap=6)
    assert _counter(offer) is None
    world.place(1, customer="b")
    assert _counter(offer) == 4  # 6 − 1 sold before − 1 now


def test_promo_01_reconcile_sets_live_counters_to_the_database(world):
    offer = _flash(world, cap=4)
    world.place(1, customer="a")
    counters.sync(flash_counters.counter_key(offer.pk), 1)  # a rollback the order's code never saw
    result = flash_counters.flash_counters_reconcile()
    assert (result.offers, result.corrected) == (1, 1)
    assert _counter(offer) == 3
    assert flash_counters.flash_counters_reconcile().corrected == 0


def test_promo_01_without_a_reachable_redis_the_database_decides_alone(world, settings, caplog):
    offer = _flash(world, cap=2)
    settings.REDIS_URL = "redis://127.0.0.1:9/0"  # nothing listens there
    with caplog.at_level(logging.WARNING, logger="storeops.promotions"):
        assert world.place(1, customer="a").payable == 60
    assert _sold(offer) == 1
    assert "flash-sale counters unavailable" in caplog.text


def test_promo_01_with_flash_counters_off_redis_is_not_used(world, settings):
    offer = _flash(world, cap=2)
    settings.STOREOPS_FLASH_COUNTERS = False
    world.place(1, customer="a")
    settings.STOREOPS_FLASH_COUNTERS = True
    assert _counter(offer) is None
    assert _sold(offer) == 1


THREADS = 8


@pytest.mark.django_db(transaction=True)
def test_promo_01_concurrent_buyers_through_the_counter_never_pass_the_cap(store, channel):
    world = World(store, channel, stock_sh=50, stock_gz=0)
    offer = _flash(world, cap=3, per_buyer=1)
    customers = iter(f"c{n}" for n in range(THREADS))

    outcome = at_once(lambda: world.place(1, customer=next(customers)), THREADS)
    assert outcome.others(Conflict) == []
    assert {e.code for e in outcome.raised(Conflict)} <= {"offer_sold_out"}
    flash_buyers = OfferUse.objects.count()
    assert flash_buyers == _sold(offer) <= 3
    # the counter and the database agree once the orders are done
    assert _counter(offer) == 3 - _sold(offer)
