"""PROMO-01 limited offers through the checkout: a flash sale's stock cap and per-buyer limit,
and an offer's per-customer limit, hold across orders (they were only priced within one cart
before: every order got the flash price however many units had been sold)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from storeops.core.errors import Conflict
from storeops.orders import services as order_services
from storeops.promotions import services
from storeops.promotions.models import Offer, OfferUse
from storeops.promotions.services import CartItem, Shopper
from tests.concurrency import at_once
from tests.orders.builders import ACTOR, T0, World

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(store, channel):
    return World(store, channel)


def _offer(world, kind, params, **fields):
    offer = services.offer_create(
        actor=ACTOR,
        store=world.store,
        kind=kind,
        params=params,
        product_ids=[world.sku_s.product_id],
        **fields,
    )
    return services.offer_set_status(actor=ACTOR, offer=offer, status="active")


def _flash(world, *, cap, per_buyer):
    return _offer(world, "flash_sale", {"price": "60.00", "per_buyer_limit": per_buyer}, stock_cap=cap)


def _sold(offer):
    return Offer.objects.get(pk=offer.pk).stock_sold


def test_promo_01_flash_sale_stock_cap_is_consumed_by_orders_and_then_list_price_applies(world):
    offer = _flash(world, cap=3, per_buyer=2)
    first = world.place(2, customer="a")
    second = world.place(2, customer="b")  # one flash unit left: one at 60, one at list
    third = world.place(1, customer="c")
    assert [first.payable, second.payable, third.payable] == [
        Decimal("120.00"),
        Decimal("160.00"),
        Decimal("100.00"),
    ]
    assert _sold(offer) == 3
    assert sorted(OfferUse.objects.values_list("customer_ref", "quantity")) == [("a", 2), ("b", 1)]


def test_promo_01_flash_sale_per_buyer_limit_counts_the_buyers_earlier_orders(world):
    _flash(world, cap=100, per_buyer=2)
    assert world.place(1, customer="a").payable == Decimal("60.00")
    # one flash unit left for this buyer, the other two at list price
    assert world.place(3, customer="a").payable == Decimal("260.00")
    assert world.place(1, customer="a").payable == Decimal("100.00")
    assert world.place(1, customer="b").payable == Decimal("60.00")


def test_promo_01_two_sizes_of_one_flash_product_share_the_buyers_budget(world):
    _flash(world, cap=100, per_buyer=1)
    order = world.place(1, 1, customer="a")  # S and M are both in the sale's scope
    assert order.payable == Decimal("160.00")


def test_promo_01_offer_per_customer_limit_holds_across_orders(world):
    _offer(world, "percentage", {"rate": "0.5"}, per_user_limit=1)
    assert world.place(1, customer="a").payable == Decimal("50.00")
    assert world.place(1, customer="a").payable == Decimal("100.00")
    assert world.place(1, customer="b").payable == Decimal("50.00")


def test_promo_01_cancelled_and_closed_orders_give_the_flash_units_and_the_limit_back(world):
    offer = _flash(world, cap=2, per_buyer=2)
    cancelled = world.place(2, customer="a")
    assert _sold(offer) == 2
    order_services.order_cancel(actor=ACTOR, order=cancelled, reason="不想要了")
    assert _sold(offer) == 0
    assert world.place(2, customer="a").payable == Decimal("120.00")  # the limit is back too
    order_services.orders_close_unpaid(now=T0 + dt.timedelta(days=2))
    assert _sold(offer) == 0
    assert not OfferUse.objects.filter(released_at__isnull=True).exists()
    # a second release of the same order changes nothing
    assert services.offer_uses_release(order_id=cancelled.pk) == 0
    assert _sold(offer) == 0


def test_promo_01_a_quote_the_sale_no_longer_honours_rolls_the_order_back(world, monkeypatch):
    offer = _flash(world, cap=2, per_buyer=2)
    real_quote = services.quote_cart

    def quote_then_sell_out(**kw):
        priced = real_quote(**kw)  # priced with 2 flash units left ...
        Offer.objects.filter(pk=offer.pk).update(stock_sold=2)  # ... sold elsewhere meanwhile
        return priced

    monkeypatch.setattr(services, "quote_cart", quote_then_sell_out)
    with pytest.raises(Conflict) as caught:
        world.place(1, customer="a")
    assert caught.value.code == "offer_sold_out"
    assert not OfferUse.objects.exists()
    from storeops.orders.models import Order

    assert not Order.objects.exists()


def test_promo_01_the_storefront_quote_shows_the_customers_remaining_flash_units(world):
    _flash(world, cap=100, per_buyer=2)
    world.place(2, customer="a")
    for customer, payable in (("a", "100.00"), ("b", "60.00")):
        priced = services.quote_cart(
            store=world.store,
            channel=world.channel,
            lines=[CartItem("P1-S", 1)],
            customer=Shopper(customer_ref=customer),
            now=T0,
        )
        assert str(priced.quote.payable.amount) == payable


THREADS = 6


def _orders_at_flash_price():
    from storeops.orders.models import OrderLine

    return OrderLine.objects.filter(sku_code="P1-S").values_list("order__customer_ref", "discount")


@pytest.mark.django_db(transaction=True)
def test_promo_01_concurrent_buyers_never_get_more_flash_units_than_the_cap(store, channel):
    world = World(store, channel, stock_sh=50, stock_gz=0)
    offer = _flash(world, cap=3, per_buyer=1)
    customers = iter(f"c{n}" for n in range(THREADS))

    outcome = at_once(lambda: world.place(1, customer=next(customers)), THREADS)
    # a buyer whose quote went stale meanwhile is told to quote again; nothing else goes wrong
    assert outcome.others(Conflict) == []
    assert {e.code for e in outcome.raised(Conflict)} <= {"offer_sold_out"}
    discounted = [ref for ref, discount in _orders_at_flash_price() if discount > 0]
    assert len(discounted) == _sold(offer) <= 3
    assert sorted(OfferUse.objects.values_list("customer_ref", flat=True)) == sorted(discounted)


@pytest.mark.django_db(transaction=True)
def test_promo_01_one_buyers_concurrent_orders_never_pass_the_per_buyer_limit(store, channel):
    world = World(store, channel, stock_sh=50, stock_gz=0)
    offer = _flash(world, cap=100, per_buyer=1)
    keys = iter(f"k{n}" for n in range(THREADS))

    outcome = at_once(lambda: world.place(1, customer="same", key=next(keys)), THREADS)
    assert outcome.others(Conflict) == []
    assert {e.code for e in outcome.raised(Conflict)} <= {"offer_limit_reached"}
    discounted = [ref for ref, discount in _orders_at_flash_price() if discount > 0]
    assert len(discounted) == _sold(offer) == 1
    assert OfferUse.objects.get().quantity == 1


def test_promo_01_the_offer_page_shows_how_much_of_the_flash_sale_is_used(world, make_user):
    from django.test import Client

    from storeops.accounts.roles import Role

    offer = _flash(world, cap=5, per_buyer=2)
    world.place(2, customer="a")
    world.place(1, customer="b")
    order_services.order_cancel(actor=ACTOR, order=world.place(1, customer="c"), reason="重复下单")
    client = Client()
    client.force_login(make_user(Role.OPERATIONS))
    page = client.get(f"/promotions/offers/{offer.pk}/").content.decode()
    assert "3 / 5" in page
    assert "已被 2 个订单使用（2 位顾客，3 件；不含已取消或超时关闭的订单）" in page
