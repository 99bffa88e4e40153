"""SOP INV-03: warehouses, stock balances and the ledger that explains them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from storeops.core.errors import Conflict, ValidationError
from storeops.inventory import selectors as sel
from storeops.inventory import services as inv
from storeops.inventory.models import MoveKind, Stock, StockMove, Zone
from storeops.sop.models import Finding
from storeops.sop.services import checks_run
from tests.catalog.db_builders import ACTOR, a_dress_category, a_product


@pytest.fixture
def sku(store):
    return a_product(store, a_dress_category(store, required_qualifications=[]), "P1").skus.get(code="P1-S")


@pytest.fixture
def wh(store):
    return inv.warehouse_create(
        actor=ACTOR,
        store=store,
        code="sh",
        name="上海仓",
        region="华东",
        latitude=Decimal("31.23"),
        longitude=Decimal("121.47"),
    )


def _stock(sku, wh, zone=Zone.SELLABLE):
    return Stock.objects.get(sku=sku, warehouse=wh, zone=zone)


def test_inv_03_receipt_reserve_ship_leave_balances_the_ledger_explains(sku, wh, store):
    # given 10 units received
    inv.stock_receive(actor=ACTOR, sku=sku, warehouse=wh, quantity=10, reason="采购入库", reference="PO-1")
    # when 4 are reserved, 1 released and 3 shipped
    inv.stock_reserve(actor=ACTOR, sku=sku, warehouse=wh, quantity=4, reference="SO-1")
    inv.stock_release(actor=ACTOR, sku=sku, warehouse=wh, quantity=1, reference="SO-1")
    ship = inv.stock_ship(actor=ACTOR, sku=sku, warehouse=wh, quantity=3, reference="SO-1")
    # then on-hand 7, reserved 0, available 7, and each line records its balances
    stock = _stock(sku, wh)
    assert (stock.on_hand, stock.reserved, stock.available) == (7, 0, 7)
    assert (ship.on_hand_before, ship.reserved_before, ship.on_hand_after, ship.reserved_after) == (
        10,
        3,
        7,
        0,
    )
    kinds = list(StockMove.objects.order_by("id").values_list("kind", "on_hand_delta", "reserved_delta"))
    assert kinds == [("receipt", 10, 0), ("reservation", 0, 4), ("release", 0, -1), ("shipment", -3, -3)]
    assert sel.ledger_mismatches(store=store) == []


def test_inv_03_reserving_more_than_available_is_refused_and_writes_nothing(sku, wh):
    # given 5 units of which 4 are reserved
    inv.stock_receive(actor=ACTOR, sku=sku, warehouse=wh, quantity=5, reason="采购入库")
    inv.stock_reserve(actor=ACTOR, sku=sku, warehouse=wh, quantity=4, reference="SO-1")
    # when 2 more are asked for, then it is refused
    with pytest.raises(inv.InsufficientStock) as err:
        inv.stock_reserve(actor=ACTOR, sku=sku, warehouse=wh, quantity=2, reference="SO-2")
    assert err.value.code == "insufficient_stock"
    # and the balance and ledger are unchanged
    assert (_stock(sku, wh).on_hand, _stock(sku, wh).reserved) == (5, 4)
    assert StockMove.objects.count() == 2


def test_inv_03_shipping_or_releasing_more_than_reserved_is_a_conflict(sku, wh):
    inv.stock_receive(actor=ACTOR, sku=sku, warehouse=wh, quantity=5, reason="采购入库")
    inv.stock_reserve(actor=ACTOR, sku=sku, warehouse=wh, quantity=2, reference="SO-1")
    with pytest.raises(Conflict):
        inv.stock_ship(actor=ACTOR, sku=sku, warehouse=wh, quantity=3, reference="SO-1")
    with pytest.raises(Conflict):
        inv.stock_release(actor=ACTOR, sku=sku, warehouse=wh, quantity=3, reference="SO-1")
    assert (_stock(sku, wh).on_hand, _stock(sku, wh).reserved) == (5, 2)


def test_inv_03_adjustment_cannot_count_away_reserved_units(sku, wh):
    inv.stock_receive(actor=ACTOR, sku=sku, warehouse=wh, quantity=5, reason="采购入库")
    inv.stock_reserve(actor=ACTOR, sku=sku, warehouse=wh, quantity=3, reference="SO-1")
    with pytest.raises(inv.InsufficientStock):
        inv.stock_adjust(actor=ACTOR, sku=sku, warehouse=wh, delta=-3, reason="盘亏")
    move = inv.stock_adjust(actor=ACTOR, sku=sku, warehouse=wh, delta=-2, reason="盘亏")
    assert (move.on_hand_after, move.reserved_after) == (3, 3)


def test_inv_03_database_refuses_negative_or_over_reserved_rows_even_bypassing_services(sku, wh):
    # given a stock row with 2 on hand
    inv.stock_receive(actor=ACTOR, sku=sku, warehouse=wh, quantity=2, reason="采购入库")
    stock = _stock(sku, wh)
    # when raw updates try to break the invariants, then the CHECK constraints refuse them
    for change in ({"on_hand": -1}, {"reserved": -1}, {"reserved": 3}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Stock.objects.filter(pk=stock.pk).update(**change)


def test_inv_03_return_goes_to_qc_and_transfer_moves_it_to_sellable_after_inspection(sku, wh, store):
    inv.stock_return(actor=ACTOR, sku=sku, warehouse=wh, quantity=2, reference="RMA-1")
    assert _stock(sku, wh, Zone.QC).on_hand == 2
    out, into = inv.stock_transfer(
        actor=ACTOR,
        sku=sku,
        from_warehouse=wh,
        to_warehouse=wh,
        from_zone=Zone.QC,
        to_zone=Zone.SELLABLE,
        quantity=2,
        reason="质检合格",
    )
    assert (out.kind, out.on_hand_after, into.kind, into.on_hand_after) == (
        "transfer_out",
        0,
        "transfer_in",
        2,
    )
    assert sel.available_by_sku(sku_ids=[sku.pk]) == {sku.pk: 2}
    assert sel.ledger_mismatches(store=store) == []


def test_inv_03_transfer_between_warehouses_refuses_reserved_units(sku, wh, store):
    bj = inv.warehouse_create(actor=ACTOR, store=store, code="bj", name="北京仓", region="华北")
    inv.stock_receive(actor=ACTOR, sku=sku, warehouse=wh, quantity=5, reason="采购入库")
    inv.stock_reserve(actor=ACTOR, sku=sku, warehouse=wh, quantity=4, reference="SO-1")
    with pytest.raises(inv.InsufficientStock):
        inv.stock_transfer(
            actor=ACTOR, sku=sku, from_warehouse=wh, to_warehouse=bj, quantity=2, reason="调拨"
        )
    inv.stock_transfer(actor=ACTOR, sku=sku, from_warehouse=wh, to_warehouse=bj, quantity=1, reason="调拨")
    assert (_stock(sku, wh).on_hand, _stock(sku, bj).on_hand) == (4, 1)


def test_inv_03_receipt_needs_a_positive_quantity_and_a_reason(sku, wh):
    with pytest.raises(ValidationError):
        inv.stock_receive(actor=ACTOR, sku=sku, warehouse=wh, quantity=0, reason="x")
    with pytest.raises(ValidationError):
        inv.stock_receive(actor=ACTOR, sku=sku, warehouse=wh, quantity=1, reason=" ")


def test_inv_03_ledger_is_append_only(sku, wh):
    inv.stock_receive(actor=ACTOR, sku=sku, warehouse=wh, quantity=1, reason="采购入库")
    with pytest.raises(TypeError):
        StockMove.objects.all().update(quantity=5)
    with pytest.raises(TypeError):
        StockMove.objects.all().delete()


def test_inv_03_check_raises_a_finding_when_a_balance_is_changed_outside_the_ledger(sku, wh, store):
    # given a balance the ledger explains
    inv.stock_receive(actor=ACTOR, sku=sku, warehouse=wh, quantity=5, reason="采购入库")
    checks_run(rule="INV-03", store=store, notify=False)
    assert Finding.objects.filter(rule_id="INV-03").count() == 0
    # when someone edits the row directly
    Stock.objects.filter(sku=sku).update(on_hand=9)
    checks_run(rule="INV-03", store=store, notify=False)
    # then a critical finding names the stock row and both sums
    finding = Finding.objects.get(rule_id="INV-03")
    assert finding.severity == "critical"
    assert finding.detail["on_hand"] == 9
    assert finding.detail["ledger_on_hand"] == 5


def test_inv_03_each_move_kind_has_a_label():
    assert {k for k, _ in MoveKind.choices} == {
        "receipt",
        "reservation",
        "release",
        "shipment",
        "return",
        "adjustment",
        "transfer_out",
        "transfer_in",
    }


def test_inv_03_channel_shares_never_sum_beyond_available_minus_reserve():
    # given five shops: two fixed 30, three ratios 0.5/0.4/0.3 (over-subscribed), reserve 10
    rules = [
        inv.ShareRule(1, "fixed", Decimal(0), 30, 10),
        inv.ShareRule(2, "fixed", Decimal(0), 30, 0),
        inv.ShareRule(3, "ratio", Decimal("0.5"), 0, 0),
        inv.ShareRule(4, "ratio", Decimal("0.4"), 0, 0),
        inv.ShareRule(5, "ratio", Decimal("0.3"), 0, 0),
    ]
    # when 100 are available
    shares = inv.channel_shares(100, rules)
    # then 90 are shared: 30, 30, then 45 asked but 30 left, then nothing
    assert shares == {1: 30, 2: 30, 3: 30, 4: 0, 5: 0}
    assert inv.channel_shares(5, rules) == {1: 0, 2: 0, 3: 0, 4: 0, 5: 0}


def test_inv_03_channel_offers_are_recomputed_and_pushed_when_stock_moves(sku, wh, store, channel, system):
    from storeops.stores import services as st

    jd = st.channel_create(actor=system, store=store, kind="jd", code="jd", name="京东店")
    inv.channel_stock_rule_set(actor=ACTOR, channel=channel, mode="ratio", ratio=Decimal("0.6"), reserve=2)
    inv.channel_stock_rule_set(actor=ACTOR, channel=jd, sku=sku, mode="fixed", fixed_quantity=3)
    pushed = []

    class Recorder:
        def push(self, ch, quantities):
            pushed.append((ch.code, dict(quantities)))

    inv.stock_receive(actor=ACTOR, sku=sku, warehouse=wh, quantity=12, reason="采购入库")
    # when offers are computed: pool 10, jd fixed 3, tmall floor(10*0.6)=6
    inv.channel_stock_recompute(store=store, sku_ids=[sku.pk], adapter=Recorder())
    assert sorted(pushed) == [("jd", {"P1-S": 3}), ("tmall", {"P1-S": 6})]
    # and when 8 are reserved (available 4 → pool 2) only the changed offers are pushed again
    pushed.clear()
    inv.stock_reserve(actor=ACTOR, sku=sku, warehouse=wh, quantity=8, reference="SO-1")
    inv.channel_stock_recompute(store=store, sku_ids=[sku.pk], adapter=Recorder())
    assert sorted(pushed) == [("jd", {"P1-S": 2}), ("tmall", {"P1-S": 0})]
    assert {(o.channel.code, o.quantity) for o in sel.channel_offer_list(store=store)} == {
        ("jd", 2),
        ("tmall", 0),
    }


def test_inv_03_the_sync_task_recomputes_offers_only_for_skus_whose_stock_moved(sku, wh, store, channel):
    from django.core.cache import cache

    from storeops.inventory.tasks import channel_stock_sync

    # given a ratio rule and 10 units; the first run computes everything
    cache.delete(f"inventory:channel-sync:{store.pk}")
    inv.channel_stock_rule_set(actor=ACTOR, channel=channel, mode="ratio", ratio=Decimal("0.5"))
    inv.stock_receive(actor=ACTOR, sku=sku, warehouse=wh, quantity=10, reason="采购入库")
    assert channel_stock_sync() == 1
    # when nothing moves, the next run recomputes nothing
    assert channel_stock_sync() == 0
    # when 4 are reserved, the offer follows: floor(6 × 0.5) = 3
    inv.stock_reserve(actor=ACTOR, sku=sku, warehouse=wh, quantity=4, reference="SO-1")
    assert channel_stock_sync() == 1
    assert [o.quantity for o in sel.channel_offer_list(store=store)] == [3]
