"""SOP MEM-02 "points redeemable for goods": a goods reward (a SKU at a points price set by
staff) is taken by placing a paid order with nothing to pay through the orders app, its stock
reserved like any order's, the points taken in the same transaction; too few points or too
little stock writes nothing; a cancelled goods order gives its points back exactly once."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db.models import Sum

from storeops.aftersales import services as aftersales
from storeops.audit.models import AuditEntry
from storeops.core.errors import Conflict, NotFound, ValidationError
from storeops.inventory.models import Stock
from storeops.members import selectors, services
from storeops.members.models import LedgerEntry, Member, PointsReward
from storeops.orders import services as order_services
from storeops.orders.models import Order
from storeops.stores import services as store_services
from storeops.stores.selectors import playbook_get
from tests.aftersales.builders import ASKED, DELIVERED
from tests.concurrency import at_once
from tests.fulfilment.builders import a_carrier
from tests.members.builders import ACTOR, a_member, a_template, paid_order
from tests.orders.builders import ADDRESS, T0, World

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(store, channel):
    return World(store, channel, stock_sh=3, stock_gz=0)


def _rich_member(store, ref="c1", points=1000):
    member = a_member(store, ref)
    services.points_adjust(actor=ACTOR, member=member, points=points, reason="开卡礼", unlimited=True)
    return member


def _goods_reward(store, world, points_price=300):
    return services.reward_create_goods(
        actor=ACTOR, store=store, sku_id=world.sku_s.pk, points_price=points_price
    )


def _redeem(member, reward, world, quantity=1, key=None):
    return services.points_redeem_goods(
        actor=ACTOR,
        member=member,
        reward_id=reward.pk,
        quantity=quantity,
        address=ADDRESS,
        channel=world.channel,
        idempotency_key=key,
    )


def _reserved(sku):
    return Stock.objects.filter(sku=sku).aggregate(n=Sum("reserved"))["n"] or 0


def _balance(member):
    return Member.objects.get(pk=member.pk).points_balance


def test_mem_02_redeem_goods_places_a_paid_order_with_nothing_to_pay_and_takes_the_points(store, world):
    # given a member with 1,000 points and P1-S (list price 100.00) offered for 300 points
    member = _rich_member(store)
    reward = _goods_reward(store, world)
    # when the member takes two of it
    done = _redeem(member, reward, world, quantity=2)
    # then an order exists for 2 × P1-S, worth 200.00, nothing to pay, paid at once
    order = Order.objects.get(number=done.order_number)
    assert (order.customer_ref, order.status, order.payable, order.paid_amount) == (
        "c1",
        "paid",
        Decimal("0.00"),
        Decimal("0.00"),
    )
    assert (order.list_total, order.discount_total) == (Decimal("200.00"), Decimal("200.00"))
    assert order.pricing["points_redemption"] == {"reward": reward.pk, "points": 600}
    line = order.lines.get()
    assert (line.sku_id, line.quantity, line.paid_total) == (world.sku_s.pk, 2, Decimal("0.00"))
    assert order.payments.count() == 0
    # and its stock is reserved like any order's
    assert _reserved(world.sku_s) == 2
    assert sum(a.quantity for a in line.allocations.all()) == 2
    # and 600 points are gone, with a ledger line naming the order
    assert (done.points, done.quantity, done.entry.points_after, _balance(member)) == (600, 2, 400, 400)
    entry = LedgerEntry.objects.get(member=member, kind="redeem")
    assert (entry.points, entry.source_ref, entry.order_number, entry.amount) == (
        -600,
        f"goods:{order.number}",
        order.number,
        Decimal("200.00"),
    )
    # and both the redemption and the order are in the audit log
    audit = AuditEntry.objects.get(action="member.points_redeem_goods")
    assert (audit.after["order"], audit.after["points"], audit.after["points_balance"]) == (
        order.number,
        600,
        400,
    )
    assert AuditEntry.objects.filter(action="order.place", object_id=str(order.pk)).exists()


def test_mem_02_redeem_goods_without_enough_points_writes_nothing(store, world):
    # given 299 points and a 300-point goods reward
    member = _rich_member(store, points=299)
    reward = _goods_reward(store, world)
    orders_before = Order.objects.count()
    # when redeemed, then it is refused with a clear reason
    with pytest.raises(Conflict) as exc:
        _redeem(member, reward, world)
    assert exc.value.code == "points_insufficient"
    assert "积分不足" in str(exc.value.message)
    # and no order, no reservation, no ledger line: the balance is untouched
    assert Order.objects.count() == orders_before
    assert _reserved(world.sku_s) == 0
    assert _balance(member) == 299
    assert not LedgerEntry.objects.filter(member=member, kind="redeem").exists()


def test_mem_02_redeem_goods_out_of_stock_takes_no_points(store, world):
    # given 3 units in stock and points enough for 10
    member = _rich_member(store, points=3000)
    reward = _goods_reward(store, world)
    # when the member asks for 4, then it is refused as out of stock
    with pytest.raises(Conflict) as exc:
        _redeem(member, reward, world, quantity=4)
    assert exc.value.code == "insufficient_stock"
    assert "库存不足" in str(exc.value.message)
    # and no points are taken, no order placed, no stock reserved
    assert _balance(member) == 3000
    assert not Order.objects.filter(customer_ref="c1").exists()
    assert _reserved(world.sku_s) == 0


def test_mem_02_cancelled_goods_order_gives_the_points_back_once(store, world):
    # given a goods redemption of 300 points
    member = _rich_member(store)
    reward = _goods_reward(store, world)
    done = _redeem(member, reward, world)
    assert _balance(member) == 700
    order = Order.objects.get(number=done.order_number)
    # when the order is cancelled before shipping and the sync runs twice
    order_services.order_cancel(actor=ACTOR, order=order, reason="顾客不要了")
    first = services.points_sync(actor=ACTOR, store=store)
    second = services.points_sync(actor=ACTOR, store=store)
    # then the 300 points came back exactly once, and the stock is free again
    assert (first.restored, second.restored) == (1, 0)
    assert _balance(member) == 1000
    back = LedgerEntry.objects.get(member=member, kind="restore")
    assert (back.points, back.source_ref, back.order_number) == (300, f"goods:{order.number}", order.number)
    assert _reserved(world.sku_s) == 0
    # and the sync's audit entry counts it
    assert AuditEntry.objects.filter(action="member.points_sync").latest("pk").after["restored"] == 1


def test_mem_02_the_recent_sync_task_gives_back_the_points_of_a_goods_order_cancelled_now(store, world):
    from storeops.members import tasks

    member = _rich_member(store)
    done = _redeem(member, _goods_reward(store, world), world)
    order_services.order_cancel(
        actor=ACTOR, order=Order.objects.get(number=done.order_number), reason="地址错误"
    )
    assert tasks.points_sync_recent.call_local()["restored"] == 1
    assert tasks.points_sync_recent.call_local()["restored"] == 0
    assert _balance(member) == 1000


def _delivered(order):
    a_carrier("SF")
    order_services.order_auto_review(actor=ACTOR, order=order, now=T0)
    order = order_services.order_allocate(actor=ACTOR, order=Order.objects.get(pk=order.pk), now=T0)
    [order] = order_services.order_ship(
        actor=ACTOR, order=order, carrier_code="SF", tracking_numbers=f"SF{order.pk:06d}", now=T0
    )
    return order_services.order_deliver(actor=ACTOR, order=order, at=DELIVERED)


def _give_back(order, units, *, kind="return", reason="no_reason"):
    """An after-sale of ``units`` of the order's one line, through to its (zero) refund."""
    line = order.lines.get()
    case = aftersales.case_request(
        actor=ACTOR, order=order, kind=kind, reason=reason, units={line.pk: units}, now=ASKED
    )
    if case.status == "requested":
        case = aftersales.case_approve(actor=ACTOR, case=case, note="同意")
    if kind == "return":
        case = aftersales.case_receive(actor=ACTOR, case=case, tracking_no="SFBACK", now=ASKED)
        case = aftersales.case_inspect(actor=ACTOR, case=case, results={line.pk: (units, 0)}, now=ASKED)
    elif case.status != "refunded":
        case = aftersales.case_refund(actor=ACTOR, case=case, now=ASKED)
    assert (case.status, case.refunded_amount) == ("refunded", Decimal("0.00"))
    return case


def test_mem_02_goods_returned_after_delivery_give_their_share_of_the_points_back(store, world):
    # given three units taken for 900 points, delivered
    member = _rich_member(store)
    done = _redeem(member, _goods_reward(store, world), world, quantity=3)
    order = _delivered(Order.objects.get(number=done.order_number))
    assert _balance(member) == 100
    # when one unit is returned (no reason, within 7 days): no money moves, the sync runs twice
    _give_back(order, 1)
    first = services.points_sync(actor=ACTOR, store=store)
    again = services.points_sync(actor=ACTOR, store=store)
    # then that unit's 300 points came back, once
    assert (first.restored, again.restored, _balance(member)) == (1, 0, 400)
    # and when the other two come back (refund-only: never arrived), the rest comes back too
    _give_back(Order.objects.get(pk=order.pk), 2, kind="refund_only", reason="not_received")
    assert services.points_sync(actor=ACTOR, store=store).restored == 1
    assert services.points_sync(actor=ACTOR, store=store).restored == 0
    assert _balance(member) == 1000
    lines = LedgerEntry.objects.filter(member=member, kind="restore").order_by("pk")
    assert [(e.points, e.source_ref) for e in lines] == [
        (300, f"goods:{order.number}#1"),
        (600, f"goods:{order.number}"),
    ]
    # the returned unit went back to sellable stock through QC
    assert Stock.objects.get(sku=world.sku_s, warehouse=world.sh, zone="sellable").on_hand == 1


def test_mem_02_the_recent_sync_task_gives_back_the_points_of_goods_returned_now(store, world):
    from storeops.members import tasks

    member = _rich_member(store)
    done = _redeem(member, _goods_reward(store, world), world, quantity=2)
    order = _delivered(Order.objects.get(number=done.order_number))
    _give_back(order, 1, kind="refund_only", reason="damaged")  # its zero refund is recorded now
    assert tasks.points_sync_recent.call_local()["restored"] == 1
    assert tasks.points_sync_recent.call_local()["restored"] == 0
    assert _balance(member) == 700


def test_mem_02_a_goods_order_earns_no_points_and_is_not_a_paid_order_for_tiers(store, world):
    # given a member who redeemed goods and also paid an ordinary order of 100.00
    member = _rich_member(store)
    _redeem(member, _goods_reward(store, world), world)
    paid_order(world, "c1", qty=1)
    # when the sync runs
    result = services.points_sync(actor=ACTOR, store=store)
    # then only the paid order earns (100 points, 10,000 growth) and counts as a paid order
    m = Member.objects.get(pk=member.pk)
    assert (result.earned, m.paid_orders, m.points_balance, m.growth_value) == (1, 1, 800, 10_000)


def test_mem_02_goods_reward_needs_a_store_sku_and_a_positive_whole_points_price(store, world, system):
    with pytest.raises(ValidationError) as exc:
        services.reward_create_goods(actor=ACTOR, store=store, sku_id=world.sku_s.pk, points_price=0)
    assert "points_price" in exc.value.fields
    with pytest.raises(ValidationError) as exc:
        services.reward_create_goods(actor=ACTOR, store=store, sku_code="NOPE", points_price=100)
    assert exc.value.fields == {"sku_code": "不是本店铺的 SKU"}
    other = store_services.store_create(actor=system, code="s2", name="别的店")
    with pytest.raises(ValidationError) as exc:
        services.reward_create_goods(actor=ACTOR, store=other, sku_id=world.sku_s.pk, points_price=100)
    assert "sku_id" in exc.value.fields
    # by code works; a second active reward for the same SKU is refused until the first is off
    reward = services.reward_create_goods(actor=ACTOR, store=store, sku_code="P1-S", points_price=100)
    assert (reward.kind, reward.sku_id, reward.points_price, reward.coupon_template_id) == (
        "goods",
        world.sku_s.pk,
        100,
        None,
    )
    with pytest.raises(Conflict) as exc:
        services.reward_create_goods(actor=ACTOR, store=store, sku_code="P1-S", points_price=120)
    assert exc.value.code == "reward_goods_exists"
    services.reward_set_active(actor=ACTOR, reward=reward, active=False)
    services.reward_create_goods(actor=ACTOR, store=store, sku_code="P1-S", points_price=120)
    assert AuditEntry.objects.filter(action="member.reward_create").count() == 2


def test_mem_02_goods_and_coupon_rewards_are_redeemed_each_by_their_own_service(store, world):
    member = _rich_member(store)
    goods = _goods_reward(store, world)
    template = a_template(store, rule="manual", amount="5", per_user=10)
    coupon = services.reward_create(actor=ACTOR, store=store, coupon_template_id=template.pk)
    with pytest.raises(ValidationError) as exc:
        services.points_redeem(actor=ACTOR, member=member, reward_id=goods.pk)
    assert exc.value.code == "reward_kind_mismatch"
    with pytest.raises(ValidationError) as exc:
        _redeem(member, coupon, world)
    assert exc.value.code == "reward_kind_mismatch"
    with pytest.raises(NotFound):
        services.points_redeem_goods(actor=ACTOR, member=member, reward_id=999_999, address=ADDRESS)
    services.reward_set_active(actor=ACTOR, reward=goods, active=False)
    with pytest.raises(Conflict) as exc:
        _redeem(member, goods, world)
    assert exc.value.code == "reward_inactive"
    assert _balance(member) == 1000


def test_mem_02_goods_order_goes_to_the_own_web_shop_unless_a_channel_is_given(store, world, system):
    member = _rich_member(store)
    reward = _goods_reward(store, world)
    # without an own web shop the caller must say where the order goes
    with pytest.raises(ValidationError) as exc:
        services.points_redeem_goods(actor=ACTOR, member=member, reward_id=reward.pk, address=ADDRESS)
    assert "channel_id" in exc.value.fields
    web = store_services.channel_create(actor=system, store=store, kind="own_web", code="web", name="官网")
    done = services.points_redeem_goods(actor=ACTOR, member=member, reward_id=reward.pk, address=ADDRESS)
    assert Order.objects.get(number=done.order_number).channel_id == web.pk


def test_mem_02_rewards_catalogue_lists_goods_with_points_price_and_stock(store, world):
    _goods_reward(store, world, points_price=250)
    rows = selectors.reward_rows(store=store, book=playbook_get(store=store))
    (row,) = rows
    assert (row.is_goods, row.points, row.amount, row.goods.code, row.goods.stock, row.available) == (
        True,
        250,
        Decimal("100.00"),
        "P1-S",
        3,
        True,
    )


THREADS = 6


@pytest.mark.django_db(transaction=True)
def test_mem_02_concurrent_goods_redemptions_never_overdraw(store, channel):
    # given 700 points, a 300-point goods reward and stock for all: the points cover two
    world = World(store, channel, stock_sh=20, stock_gz=0)
    member = _rich_member(store, "t1", points=700)
    reward = _goods_reward(store, world)
    # when six redemptions run at the same moment
    outcome = at_once(lambda: _redeem(member, reward, world), THREADS)
    # then exactly two succeed, the others are refused, and no order is left without points
    assert outcome.others(Conflict) == []
    assert len(outcome.results) == 2
    assert {r.code for r in outcome.raised(Conflict)} == {"points_insufficient"}
    assert _balance(member) == 100
    assert Order.objects.filter(customer_ref="t1").count() == 2
    assert _reserved(world.sku_s) == 2
    assert LedgerEntry.objects.filter(member=member, kind="redeem").count() == 2
    assert PointsReward.objects.get(pk=reward.pk).is_active


def test_mem_02_mem_05_goods_taken_for_points_do_not_make_a_member_an_old_customer_for_referral(store, world):
    # given a member who joined without a code and has only taken goods for points
    member = _rich_member(store, "newbie")
    _redeem(member, _goods_reward(store, world), world)
    inviter = a_member(store, "alice")
    # when an inviter is bound afterwards, it is accepted: a points order is not a purchase
    bound = services.member_set_referrer(actor=ACTOR, member=member, invite_code=inviter.invite_code)
    assert bound.referred_by_id == inviter.pk
    # and a customer who paid for an order is still refused
    paid_order(world, "buyer", qty=1)
    buyer = a_member(store, "buyer")
    with pytest.raises(ValidationError) as refused:
        services.member_set_referrer(actor=ACTOR, member=buyer, invite_code=inviter.invite_code)
    assert refused.value.code == "referral_not_new_customer"


def test_mem_02_the_same_idempotency_key_redeems_once_and_returns_the_first_redemption(store, world):
    # given a member with 1,000 points and a 300-point goods reward
    member = _rich_member(store)
    reward = _goods_reward(store, world)
    first = _redeem(member, reward, world, key="cs-42")
    # when the same request is sent again (a retry, a double click)
    again = _redeem(member, reward, world, key="cs-42")
    # then it is the same redemption: one order, the points taken once, one unit reserved
    assert (again.replayed, first.replayed) == (True, False)
    assert (again.order_number, again.points, again.entry.pk) == (first.order_number, 300, first.entry.pk)
    assert Order.objects.filter(customer_ref="c1").count() == 1
    assert (_balance(member), _reserved(world.sku_s)) == (700, 1)
    # and the key used for another quantity is refused, nothing written
    with pytest.raises(Conflict) as reused:
        _redeem(member, reward, world, quantity=2, key="cs-42")
    assert reused.value.code == "idempotency_key_reused"
    # a storefront order's key is not a redemption either
    paid_order(world, "c9", qty=1)
    Order.objects.filter(customer_ref="c9").update(idempotency_key="shop-1")
    with pytest.raises(Conflict):
        _redeem(member, reward, world, key="shop-1")
    assert (_balance(member), Order.objects.filter(customer_ref="c1").count()) == (700, 1)


@pytest.mark.django_db(transaction=True)
def test_mem_02_concurrent_redemptions_with_one_idempotency_key_take_the_points_once(store, channel):
    # given plenty of points and stock
    world = World(store, channel, stock_sh=20, stock_gz=0)
    member = _rich_member(store, "t2", points=3000)
    reward = _goods_reward(store, world)
    # when the same request arrives six times at once
    outcome = at_once(lambda: _redeem(member, reward, world, key="same-click"), THREADS)
    # then every caller gets the one order; it was placed and paid for with points once
    assert outcome.errors == []
    assert len(outcome.results) == THREADS
    assert len({done.order_number for done in outcome.results}) == 1
    assert sum(not done.replayed for done in outcome.results) == 1
    assert _balance(member) == 2700
    assert Order.objects.filter(customer_ref="t2").count() == 1
    assert _reserved(world.sku_s) == 1


@pytest.mark.django_db(transaction=True)
def test_mem_02_concurrent_syncs_give_the_points_of_returned_goods_back_once(store, channel):
    # given two of three units taken for 900 points returned after delivery
    world = World(store, channel, stock_sh=5, stock_gz=0)
    member = _rich_member(store, "t2")
    done = _redeem(member, _goods_reward(store, world), world, quantity=3)
    _give_back(_delivered(Order.objects.get(number=done.order_number)), 2)
    # when several syncs (the task, "sync now") run at the same moment
    outcome = at_once(lambda: services.points_sync(actor=ACTOR, store=store).restored, THREADS)
    # then the 600 points came back exactly once
    assert outcome.errors == []
    assert sorted(outcome.results) == [0] * (THREADS - 1) + [1]
    assert _balance(member) == 700
    assert LedgerEntry.objects.filter(member=member, kind="restore").count() == 1
