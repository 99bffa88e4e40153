"""SOP INV-03: no oversell under real concurrency — threads and processes racing for the
last units, on SQLite and PostgreSQL (``DATABASE_URL``), and through the Redis flash-sale
path (``REDIS_URL``)."""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections import Counter

import pytest
from django.db import connection

from storeops.inventory import selectors as sel
from storeops.inventory import services as inv
from storeops.inventory.models import Stock, StockMove, Zone
from tests.catalog.db_builders import ACTOR, a_dress_category, a_product

UNITS = 25
WORKERS = 8
ATTEMPTS = 10  # per worker: 80 attempts for 25 units


def _setup(store):
    sku = a_product(store, a_dress_category(store, required_qualifications=[]), "HOT").skus.get(code="HOT-S")
    wh = inv.warehouse_create(actor=ACTOR, store=store, code="sh", name="上海仓")
    inv.stock_receive(actor=ACTOR, sku=sku, warehouse=wh, quantity=UNITS, reason="秒杀备货")
    return sku, wh


def _attempts(stock_id: int, worker: int, reserve) -> Counter:
    outcome: Counter = Counter()
    try:
        for n in range(ATTEMPTS):
            try:
                reserve(stock_id=stock_id, reference=f"SO-{worker}-{n}")
            except inv.InsufficientStock:
                outcome["refused"] += 1
            except BaseException as exc:
                outcome[f"error:{type(exc).__name__}:{exc}"] += 1
            else:
                outcome["sold"] += 1
    finally:
        connection.close()
    return outcome


def _db_reserve(*, stock_id: int, reference: str) -> None:
    inv.stock_reserve_row(actor=ACTOR, stock_id=stock_id, quantity=1, reference=reference)


def _assert_no_oversell(store, stock_id: int, outcome: Counter) -> None:
    errors = {k: v for k, v in outcome.items() if k.startswith("error")}
    assert errors == {}
    assert outcome["sold"] == UNITS
    assert outcome["refused"] == WORKERS * ATTEMPTS - UNITS
    stock = Stock.objects.get(pk=stock_id)
    assert (stock.on_hand, stock.reserved) == (UNITS, UNITS)
    assert StockMove.objects.filter(stock_id=stock_id, kind="reservation").count() == UNITS
    assert sel.ledger_mismatches(store=store) == []


def _race_threads(stock_id: int, reserve) -> Counter:
    barrier = threading.Barrier(WORKERS)
    total: Counter = Counter()
    lock = threading.Lock()

    def run(worker: int) -> None:
        barrier.wait()
        result = _attempts(stock_id, worker, reserve)
        with lock:
            total.update(result)

    threads = [threading.Thread(target=run, args=(w,)) for w in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return total


@pytest.mark.django_db(transaction=True)
def test_inv_03_eight_threads_racing_for_the_last_units_never_oversell(store):
    # given 25 units of a hot SKU
    sku, wh = _setup(store)
    stock_id = Stock.objects.get(sku=sku, warehouse=wh, zone=Zone.SELLABLE).pk
    # when 8 threads make 80 single-unit reservations at once
    outcome = _race_threads(stock_id, _db_reserve)
    # then exactly 25 are sold, 55 refused cleanly, and the ledger explains the balance
    _assert_no_oversell(store, stock_id, outcome)


def _process_main(stock_id: int, worker: int, start, queue) -> None:  # runs in a forked child
    start.wait()
    queue.put(_attempts(stock_id, worker, _db_reserve))


@pytest.mark.django_db(transaction=True)
def test_inv_03_eight_processes_racing_for_the_last_units_never_oversell(store):
    # given 25 units, committed, and no connection inherited by the children
    sku, wh = _setup(store)
    stock_id = Stock.objects.get(sku=sku, warehouse=wh, zone=Zone.SELLABLE).pk
    connection.close()
    ctx = multiprocessing.get_context("fork")
    start, queue = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_process_main, args=(stock_id, w, start, queue)) for w in range(WORKERS)]
    for p in procs:
        p.start()
    # when 8 processes make 80 reservations at once
    start.set()
    outcome: Counter = Counter()
    for _ in procs:
        outcome.update(queue.get(timeout=120))
    for p in procs:
        p.join(timeout=30)
    # then no oversell
    assert [p.exitcode for p in procs] == [0] * WORKERS
    _assert_no_oversell(store, stock_id, outcome)


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="the flash-sale path needs REDIS_URL (set in CI)")
@pytest.mark.django_db(transaction=True)
def test_inv_03_flash_sale_through_redis_never_oversells_and_reconciles_with_the_database(store):
    from storeops.inventory.redis_stock import FlashSaleStock, redis_client

    # given 25 units loaded into the flash-sale counter
    sku, wh = _setup(store)
    stock_id = Stock.objects.get(sku=sku, warehouse=wh, zone=Zone.SELLABLE).pk
    flash = FlashSaleStock(stock_id=stock_id, client=redis_client(os.environ["REDIS_URL"]))
    assert flash.load(100) == UNITS  # never more than the database has
    try:
        # when 8 threads buy 80 times through Redis
        outcome = _race_threads(
            stock_id,
            lambda *, stock_id, reference: flash.reserve(actor=ACTOR, quantity=1, reference=reference),
        )
        # then 25 sold, the counter is empty, and reconciling finds no drift
        _assert_no_oversell(store, stock_id, outcome)
        assert flash.remaining() == 0
        report = flash.reconcile()
        assert (report.available, report.counter_after, report.drift) == (0, 0, 0)
    finally:
        flash.close()


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="the flash-sale path needs REDIS_URL (set in CI)")
@pytest.mark.django_db(transaction=True)
def test_inv_03_flash_sale_counter_above_the_database_is_lowered_and_the_database_still_refuses(store):
    from storeops.inventory.redis_stock import FlashSaleStock, redis_client

    # given a counter loaded with 25 while 20 of the units are then reserved by normal orders
    sku, wh = _setup(store)
    stock_id = Stock.objects.get(sku=sku, warehouse=wh, zone=Zone.SELLABLE).pk
    flash = FlashSaleStock(stock_id=stock_id, client=redis_client(os.environ["REDIS_URL"]))
    flash.load(UNITS)
    try:
        inv.stock_reserve(actor=ACTOR, sku=sku, warehouse=wh, quantity=20, reference="SO-normal")
        # when 8 flash buyers try anyway, the database refuses beyond 5 and the counter gets units back
        sold = 0
        for n in range(8):
            try:
                flash.reserve(actor=ACTOR, quantity=1, reference=f"FS-{n}")
                sold += 1
            except inv.InsufficientStock:
                pass
        assert sold == 5
        assert Stock.objects.get(pk=stock_id).reserved == UNITS
        # then reconciling lowers the counter to what the database has (0)
        report = flash.reconcile()
        assert (report.counter_before, report.counter_after, report.drift) == (20, 0, 20)
    finally:
        flash.close()


@pytest.mark.django_db(transaction=True)
def test_inv_03_opposite_concurrent_transfers_neither_deadlock_nor_lose_units(store):
    # given 20 units in each of two warehouses
    sku, sh = _setup(store)
    bj = inv.warehouse_create(actor=ACTOR, store=store, code="bj", name="北京仓")
    inv.stock_receive(actor=ACTOR, sku=sku, warehouse=bj, quantity=UNITS, reason="备货")
    barrier = threading.Barrier(WORKERS)
    errors: list[BaseException] = []

    def run(worker: int) -> None:
        src, dst = (sh, bj) if worker % 2 else (bj, sh)
        barrier.wait()
        try:
            for _ in range(5):
                inv.stock_transfer(
                    actor=ACTOR, sku=sku, from_warehouse=src, to_warehouse=dst, quantity=1, reason="调拨"
                )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    # when 8 threads transfer in opposite directions at once
    threads = [threading.Thread(target=run, args=(w,)) for w in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    # then no error reached a caller, both sides are unchanged in total, and the ledger explains them
    assert errors == []
    assert sorted(Stock.objects.filter(sku=sku).values_list("on_hand", flat=True)) == [UNITS, UNITS]
    assert StockMove.objects.filter(kind="transfer_out").count() == WORKERS * 5
    assert sel.ledger_mismatches(store=store) == []
