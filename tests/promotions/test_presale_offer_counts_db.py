"""The offer page of a presale (定金膨胀, SOP PROMO-01) shows what became of its deposits:
orders waiting for the balance, balances paid, deposits lapsed (balance missed, order closed)
and cancelled, with the deposits and balances collected and the deposits kept (定金不退).
Before, the page counted uses of flash sales and groups only: a presale order is now linked
to its offer by a use (``OfferUse``) written with the order, so the counts are one query."""

from __future__ import annotations

import importlib
import types
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client

from storeops.accounts.roles import Role
from storeops.core.errors import ValidationError
from storeops.orders import selectors as order_selectors
from storeops.orders import services as svc
from storeops.promotions import services as prs
from storeops.promotions.models import OfferUse
from storeops.promotions.services import CartItem, Shopper
from storeops.stores.services import playbook_update
from tests.orders.builders import ACTOR, ADDRESS, HOUR, T0, World, a_presale

pytestmark = pytest.mark.django_db

BALANCE_ENDS = T0 + 72 * HOUR  # a_presale's balance window: from T0 + 48 h
IN_WINDOW = T0 + 49 * HOUR
D = Decimal


@pytest.fixture
def world(store, channel):
    return World(store, channel)


def _deposit_paid(world, qty, customer, qty_m=0):
    order = world.place(qty, qty_m, customer=customer)
    world.pay(order, now=T0 + HOUR)
    return order


@pytest.fixture
def books(world):
    """P1-S on presale (20.00 counts as 60.00: a unit costs 60.00, 20.00 now, 40.00 later),
    half a deposit given back when the buyer cancels or misses the balance. Orders: two
    waiting (one unit each), one paid in full (two units), the buyer's and the store's
    cancellations (one unit each), one whose deposit was never paid; and a second presale
    (P1-M) whose order must not count on the first."""
    playbook_update(actor=ACTOR, store=world.store, values={"presale_deposit_refund_ratio": "0.5"})
    offer = a_presale(world)
    other = a_presale(world, skus=[world.sku_m], multiplier="2")
    waiting = [_deposit_paid(world, 1, "w1"), _deposit_paid(world, 1, "w2")]
    paid = _deposit_paid(world, 2, "p1")
    mine = _deposit_paid(world, 1, "c1")
    svc.order_cancel(actor=ACTOR, order=mine, reason="不想要了", by_customer=True, now=T0 + 2 * HOUR)
    theirs = _deposit_paid(world, 1, "c2")
    svc.order_cancel(actor=ACTOR, order=theirs, reason="缺货", now=T0 + 2 * HOUR)
    world.place(1, customer="u1")  # the deposit never paid
    elsewhere = _deposit_paid(world, 0, "o1", qty_m=1)
    assert elsewhere.deposit_amount == D("20.00")
    world.pay(paid, now=IN_WINDOW)
    return types.SimpleNamespace(offer=offer, other=other, waiting=waiting, elsewhere=elsewhere)


def test_promo_01_a_presale_offer_counts_its_deposits_balances_lapses_and_cancellations(world, books):
    counts = order_selectors.presale_counts(store=world.store, offer_id=books.offer.pk)
    assert counts == {
        "waiting": 2,
        "balance_paid": 1,
        "lapsed": 0,
        "cancelled": 2,
        "deposits": D("120.00"),  # 20 + 20 + 40 + 20 + 20
        "balances": D("80.00"),
        "kept": D("10.00"),  # half of the buyer's cancelled deposit; the store gave all back
    }
    # the balance window shuts: the two waiting deposits lapse, half of each kept
    svc.orders_close_unpaid(now=BALANCE_ENDS)
    counts = order_selectors.presale_counts(store=world.store, offer_id=books.offer.pk)
    assert (counts["waiting"], counts["lapsed"], counts["cancelled"]) == (0, 2, 2)
    assert (counts["deposits"], counts["balances"], counts["kept"]) == (D("120.00"), D("80.00"), D("30.00"))
    # the other presale counts its own order
    assert order_selectors.presale_counts(store=world.store, offer_id=books.other.pk) == {
        "waiting": 0,
        "balance_paid": 0,
        "lapsed": 1,
        "cancelled": 0,
        "deposits": D("20.00"),
        "balances": D("0.00"),  # never paid
        "kept": D("10.00"),
    }
    # each presale order has one use of its offer; a use ends with its order
    assert OfferUse.objects.filter(offer=books.offer).count() == 6
    assert OfferUse.objects.filter(offer=books.offer, released_at__isnull=True).count() == 1  # the paid one


def test_promo_01_the_presale_offer_page_shows_the_counts_in_both_languages(world, books, make_user):
    zh = Client()
    zh.force_login(make_user(Role.OPERATIONS, username="ops_zh", language="zh-hans"))
    page = zh.get(f"/promotions/offers/{books.offer.pk}/").content.decode()
    assert (
        "预售（已付定金的订单）：待付尾款 2 单，已付尾款 1 单，尾款逾期关闭 0 单，付尾款前取消 2 单" in page
    )
    assert "已收定金 ¥120.00（其中定金不退 ¥10.00），已收尾款 ¥80.00" in page
    en = Client()
    en.force_login(make_user(Role.OPERATIONS, username="ops_en", language="en"))
    page = en.get(f"/promotions/offers/{books.offer.pk}/").content.decode()
    assert (
        "Presale (orders with the deposit paid): 2 awaiting the balance, 1 with the balance paid, "
        "0 closed after missing the balance, 2 cancelled before the balance" in page
    )
    assert (
        "Deposits collected ¥120.00 (of which kept, non-refundable: ¥10.00), balances collected ¥80.00"
        in page
    )
    # a flash sale's page has no presale counts
    flash = prs.offer_create(
        actor=ACTOR,
        store=world.store,
        kind="flash_sale",
        params={"price": "50.00", "per_buyer_limit": 2},
        sku_ids=[world.sku_m.pk],
        stock_cap=5,
    )
    assert "offer-presale" not in en.get(f"/promotions/offers/{flash.pk}/").content.decode()


def test_promo_01_one_order_holds_one_presale_offer(world):
    """Two presales with the same balance window were accepted in one order (only the windows
    were compared, although the refusal says "the same presale offer"): its deposit would
    count on both offers."""
    a_presale(world)
    a_presale(world, skus=[world.sku_m])
    with pytest.raises(ValidationError) as caught:
        svc.order_place(
            actor=ACTOR,
            store=world.store,
            channel=world.channel,
            customer=Shopper(customer_ref="c1"),
            lines=[CartItem("P1-S", 1), CartItem("P1-M", 1)],
            address=ADDRESS,
            now=T0,
        )
    assert caught.value.code == "presale_mixed_cart"
    assert not OfferUse.objects.exists()


def test_promo_01_the_migration_links_presale_orders_placed_before_the_link(world, books):
    """promotions 0005: orders placed before presale orders got their use are linked, by the
    offer their pricing names or, when it names none, by their balance window; a closed
    order's use is released when it closed; orders already linked are left as they are."""
    svc.orders_close_unpaid(now=BALANCE_ENDS)
    before = {
        (u.offer_id, u.order_id, u.released_at is None)
        for u in OfferUse.objects.filter(offer__kind="presale")
    }
    assert len(before) == 7
    OfferUse.objects.filter(offer__kind="presale").exclude(order_id=books.waiting[0].pk).delete()
    migration = importlib.import_module("storeops.promotions.migrations.0005_offer_use_for_presale_orders")
    migration.link_presale_orders(apps, types.SimpleNamespace(connection=connection))
    after = {
        (u.offer_id, u.order_id, u.released_at is None)
        for u in OfferUse.objects.filter(offer__kind="presale")
    }
    assert after == before
    assert order_selectors.presale_counts(store=world.store, offer_id=books.offer.pk)["lapsed"] == 2
