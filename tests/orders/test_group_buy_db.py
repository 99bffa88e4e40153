"""Group buying at the checkout (拼团, SOP PROMO-01): start or join a group, formed when its
size of orders are paid before the deadline (then reviewed and shipped), else cancelled and
refunded in full. The engine priced group prices before; the checkout could not use them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from storeops.core.errors import Conflict, ValidationError
from storeops.inventory import services as inv
from storeops.inventory.models import Stock
from storeops.orders import groups
from storeops.orders import services as svc
from storeops.orders.groups import GroupRequest
from storeops.orders.models import Order, OrderGroup
from storeops.promotions import services as prs
from storeops.promotions.services import CartItem, Shopper
from tests.catalog.db_builders import a_product
from tests.orders.builders import ACTOR, ADDRESS, T0, World

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)


@pytest.fixture
def world(store, channel):
    return World(store, channel)


@pytest.fixture
def offer(world):
    made = prs.offer_create(
        actor=ACTOR,
        store=world.store,
        kind="group_buy",
        params={"price": "70.00", "group_size": 2, "time_limit_hours": 24},
        product_ids=[world.sku_s.product_id],
    )
    return prs.offer_set_status(actor=ACTOR, offer=made, status="active")


def _place(world, customer, group, *, qty=1, now=T0, sku="P1-S"):
    order, _ = svc.order_place(
        actor=ACTOR,
        store=world.store,
        channel=world.channel,
        customer=Shopper(customer_ref=customer),
        lines=[CartItem(sku, qty)],
        address=ADDRESS,
        group=group,
        now=now,
    )
    return order


def _start(world, offer, customer="leader", **kw):
    return _place(world, customer, GroupRequest(offer_id=offer.pk), **kw)


def _join(world, code, customer="friend", **kw):
    return _place(world, customer, GroupRequest(code=code), **kw)


def _reserved(world):
    return sum(Stock.objects.filter(sku=world.sku_s).values_list("reserved", flat=True))


def test_promo_01_a_group_forms_when_its_size_of_orders_are_paid_and_only_then_is_reviewed(world, offer):
    leader = _start(world, offer)
    assert leader.payable == Decimal("70.00")  # the group price
    group = leader.group
    assert (group.size, group.status, group.expires_at) == (2, "open", T0 + 24 * HOUR)
    world.pay(leader, now=T0 + HOUR)
    leader.refresh_from_db()
    assert (leader.status, leader.ship_by) == ("paid", None)  # waits: no ship-by clock yet
    # the review leaves it alone while the group is open
    assert svc.orders_review_pending(now=T0 + 2 * HOUR) == 0
    with pytest.raises(Conflict) as caught:
        svc.order_auto_review(actor=ACTOR, order=leader, now=T0 + 2 * HOUR)
    assert caught.value.code == "group_not_formed"
    # a friend joins with the code and pays: the group forms
    friend = _join(world, group.code, now=T0 + 3 * HOUR)
    assert (friend.payable, friend.group_id) == (Decimal("70.00"), group.pk)
    world.pay(friend, now=T0 + 4 * HOUR)
    group.refresh_from_db()
    assert (group.status, group.formed_at) == ("formed", T0 + 4 * HOUR)
    for order in (leader, friend):
        order.refresh_from_db()
        assert order.ship_by == T0 + 4 * HOUR + 48 * HOUR  # ORD-03 from the forming
    assert leader.events.filter(kind="group_formed").exists()
    assert svc.orders_review_pending(now=T0 + 5 * HOUR) == 2


def test_promo_01_a_group_not_formed_in_time_is_cancelled_and_its_paid_orders_refunded(world, offer):
    leader = _start(world, offer)
    world.pay(leader, now=T0 + HOUR)
    unpaid = _join(world, leader.group.code, now=T0 + 2 * HOUR)
    assert _reserved(world) == 2
    assert groups.groups_expire(now=T0 + 24 * HOUR - dt.timedelta(seconds=1)) == 0
    assert groups.groups_expire(now=T0 + 24 * HOUR) == 2
    leader.refresh_from_db()
    unpaid.refresh_from_db()
    assert leader.group.status == "failed"
    assert (leader.status, leader.refunded_amount) == ("cancelled", Decimal("70.00"))
    assert (unpaid.status, unpaid.refunded_amount) == ("cancelled", Decimal("0.00"))
    assert _reserved(world) == 0
    assert groups.groups_expire(now=T0 + 25 * HOUR) == 0  # once


def test_promo_01_an_order_paid_into_a_failed_group_is_refunded_by_the_sweep(world, offer):
    leader = _start(world, offer)
    payment = svc.payment_start(actor=ACTOR, order=leader, now=T0)
    leader.group.expires_at = T0 + HOUR  # (a short deadline; the sweep runs before the callback)
    leader.group.save()
    OrderGroup.objects.filter(pk=leader.group_id).update(status="failed", failed_at=T0 + HOUR)
    from storeops.orders.payments import TestGateway

    body, headers = TestGateway().callback(
        reference=payment.reference, amount=payment.amount, outcome="succeeded"
    )
    svc.payment_callback(provider="test", body=body, headers=headers, now=T0 + 2 * HOUR)
    leader.refresh_from_db()
    assert leader.status == "paid"
    assert groups.groups_expire(now=T0 + 2 * HOUR) == 1
    leader.refresh_from_db()
    assert (leader.status, leader.refunded_amount) == ("cancelled", Decimal("70.00"))


def test_promo_01_bad_group_requests_are_refused_and_write_nothing(world, offer):
    percentage = prs.offer_create(actor=ACTOR, store=world.store, kind="percentage", params={"rate": "0.9"})
    prs.offer_set_status(actor=ACTOR, offer=percentage, status="active")
    cases = [
        (GroupRequest(), "group"),
        (GroupRequest(offer_id=offer.pk, code="ABC"), "group"),
        (GroupRequest(code="NOSUCHCODE"), "group.code"),
        (GroupRequest(offer_id=999_999), "group.offer_id"),
        (GroupRequest(offer_id=percentage.pk), "group.offer_id"),
    ]
    for request, field in cases:
        with pytest.raises(ValidationError) as caught:
            _place(world, "c", request)
        assert field in caught.value.fields, (request, caught.value.fields)
    # a cart without the offer's goods would not get the group price: refused
    other = a_product(world.store, world.sku_s.product.category, "P2")
    inv.stock_receive(
        actor=ACTOR, sku=other.skus.get(code="P2-S"), warehouse=world.sh, quantity=5, reason="入库"
    )
    with pytest.raises(ValidationError) as caught:
        _place(world, "c", GroupRequest(offer_id=offer.pk), sku="P2-S")
    assert "group" in caught.value.fields
    assert not Order.objects.exists()
    assert not OrderGroup.objects.exists()


def test_promo_01_joining_twice_a_full_or_closed_group_is_a_conflict(world, offer):
    leader = _start(world, offer)
    code = leader.group.code
    for customer, code_used, expected in (("leader", code, "group_already_joined"),):
        with pytest.raises(Conflict) as caught:
            _join(world, code_used, customer=customer)
        assert caught.value.code == expected
    world.pay(leader, now=T0)  # the group opens to others once its leader has paid
    _join(world, code.lower(), customer="friend")  # codes are read in any case
    with pytest.raises(Conflict) as caught:
        _join(world, code, customer="third")
    assert caught.value.code == "group_full"
    late = _start(world, offer, customer="other")
    with pytest.raises(Conflict) as caught:
        _join(world, late.group.code, customer="late", now=T0 + 25 * HOUR)
    assert caught.value.code == "group_closed"
    assert Order.objects.count() == 3


def test_ord_01_a_group_order_is_not_overdue_for_review_until_its_group_formed(world, offer, store):
    from storeops.orders.checks import review_overdue
    from storeops.sop.registry import CheckContext
    from storeops.stores.selectors import playbook_get

    leader = _start(world, offer)
    world.pay(leader, now=T0)

    def overdue(now):
        ctx = CheckContext(store=store, now=now, playbook=playbook_get(store=store, channel=None))
        return [d.subject_id for d in review_overdue(ctx)]

    assert overdue(T0 + 10 * HOUR) == []  # paid 10 h ago, but waiting for the group
    friend = _join(world, leader.group.code, now=T0 + 10 * HOUR)
    world.pay(friend, now=T0 + 10 * HOUR)
    assert overdue(T0 + 10 * HOUR + dt.timedelta(minutes=20)) == []
    assert sorted(overdue(T0 + 11 * HOUR)) == sorted([leader.number, friend.number])


def test_promo_01_the_order_page_shows_its_group(world, offer, make_user):
    from django.test import Client

    from storeops.accounts.roles import Role

    leader = _start(world, offer)
    world.pay(leader, now=T0)
    client = Client()
    client.force_login(make_user(Role.CUSTOMER_SERVICE))
    page = client.get(f"/orders/{leader.pk}/").content.decode()
    assert f"拼团 {leader.group.code}：拼团中，已付款 1 / 2 人" in page
    assert "成团后才审核发货" in page


def test_promo_01_the_offer_page_counts_its_groups(world, offer, make_user):
    from django.test import Client

    from storeops.accounts.roles import Role

    _start(world, offer)
    _start(world, offer, customer="other")
    groups.groups_expire(now=T0 + 25 * HOUR)
    _start(world, offer, customer="third", now=T0 + 26 * HOUR)
    client = Client()
    client.force_login(make_user(Role.OPERATIONS))
    page = client.get(f"/promotions/offers/{offer.pk}/").content.decode()
    assert "拼团：进行中 1 个，已成团 0 个，未成团 2 个" in page


def test_promo_01_the_groups_page_lists_groups_by_status_and_finds_their_orders(world, offer, make_user):
    from django.test import Client

    from storeops.accounts.roles import Role

    failed = _start(world, offer, customer="other", now=T0 - 48 * HOUR)
    groups.groups_expire(now=T0)
    leader = _start(world, offer)
    world.pay(leader, now=T0)
    _join(world, leader.group.code, now=T0 + HOUR)
    client = Client()
    client.force_login(make_user(Role.CUSTOMER_SERVICE))
    page = client.get("/orders/groups/?status=open").content.decode()
    assert leader.group.code in page
    assert failed.group.code not in page
    assert "1 / 2" in page  # paid / size
    assert failed.group.code in client.get("/orders/groups/?status=failed").content.decode()
    assert client.get("/orders/groups/?status=bogus").status_code == 200  # a message, all groups
    orders = client.get(f"/orders/?q={leader.group.code.lower()}").content.decode()
    assert leader.number in orders
    assert failed.number not in orders


def test_promo_01_a_group_opens_to_others_only_once_its_leader_has_paid(world, offer):
    leader = _start(world, offer)
    with pytest.raises(Conflict) as caught:
        _join(world, leader.group.code, now=T0 + HOUR)
    assert caught.value.code == "group_not_open"
    assert Order.objects.count() == 1
    world.pay(leader, now=T0 + HOUR)
    assert _join(world, leader.group.code, now=T0 + 2 * HOUR).group_id == leader.group_id


def test_promo_01_a_group_whose_leader_never_paid_fails_when_the_order_closes(world, offer):
    leader = _start(world, offer)
    assert svc.orders_close_unpaid(now=T0 + HOUR) == [leader.number]
    group = OrderGroup.objects.get(pk=leader.group_id)
    assert (group.status, group.failed_at) == ("failed", T0 + HOUR)  # not left open until its deadline
    # a group with a live member stays open when another member leaves
    other = _start(world, offer, customer="other", now=T0 + 2 * HOUR)
    world.pay(other, now=T0 + 2 * HOUR)
    friend = _join(world, other.group.code, now=T0 + 3 * HOUR)
    svc.order_cancel(actor=ACTOR, order=friend, reason="不想要了", now=T0 + 3 * HOUR)
    assert OrderGroup.objects.get(pk=other.group_id).status == "open"
