"""An order-import batch and a checkout of the same SKUs at the same time (PostgreSQL, real
threads): the batch reserves order after order in one transaction, so it used to take the stock
rows in file order while a checkout takes them sorted — a checkout holding one row and waiting
for another the batch held deadlocked with it, and PostgreSQL aborted one of the two (a failed
import batch or a 500 for the shopper). The batch now locks its rows up front in the checkouts'
order (``inventory.services.stock_lock_for_reservations``), so the checkout simply waits."""

from __future__ import annotations

import io
import threading
import time

import pytest
from django.db import connection, connections

from storeops.inventory.models import Stock
from storeops.orders import imports
from storeops.orders.models import Allocation, Order
from tests.orders import import_files as f
from tests.orders.builders import ACTOR, World

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks: PostgreSQL (SQLite serialises writers)"
    ),
]


def _row(number: str, code: str) -> list[str]:
    paid = "2026-06-01 09:00:00"
    return [number, f"buyer-{number}", "李四", "13900000000", "上海市 上海市 浦东新区 世纪大道1号", "连衣裙",
            code, "1", "100.00", "100.00", "买家已付款，等待卖家发货", paid, paid, ""]  # fmt: skip


def _waiting_for_a_lock(pid: int, timeout: float = 20) -> bool:
    """Whether the backend ``pid`` is (within ``timeout``) waiting for a row lock."""
    deadline = time.monotonic() + timeout
    with connections["default"].cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
            row = cursor.fetchone()
            if row and row[0] == "Lock":
                return True
            time.sleep(0.05)
    return False


def test_ord_02_an_import_batch_and_a_checkout_of_the_same_skus_do_not_deadlock(store, channel, monkeypatch):
    # given stock in the Shanghai warehouse only, so every order reserves there
    world = World(store, channel, stock_sh=50, stock_gz=0)
    assert world.sku_s.pk < world.sku_m.pk  # a checkout of both takes S's row, then M's
    # and a file whose first order takes M and whose second takes S, written in one batch
    content = f.csv_bytes(f.TMALL_HEADER, [_row("X1", "P1-M"), _row("X2", "P1-S")])
    first_written, go_on = threading.Event(), threading.Event()
    create_once = imports._create_once

    def paused_after_the_first(order, ctx):
        created = create_once(order, ctx)
        if not first_written.is_set():
            first_written.set()
            go_on.wait(30)
        return created

    monkeypatch.setattr(imports, "_create_once", paused_after_the_first)
    outcome: dict[str, object] = {}
    pids: dict[str, int] = {}

    def run(name, fn):
        try:
            outcome[name] = fn()
        except BaseException as exc:
            outcome[name] = exc
        finally:
            connection.close()

    def do_import():
        return imports.orders_import(
            actor=ACTOR, store=store, channel=channel, source=io.BytesIO(content), filename="locks.csv"
        )

    def do_checkout():
        connection.ensure_connection()
        pids["checkout"] = connection.connection.info.backend_pid
        return world.place(1, 1, customer="shopper")

    importer = threading.Thread(target=run, args=("import", do_import))
    importer.start()
    assert first_written.wait(30), "the import did not write its first order"
    # when a checkout of S and M starts while the batch is between its two orders
    checkout = threading.Thread(target=run, args=("checkout", do_checkout))
    checkout.start()
    for _ in range(200):
        if "checkout" in pids:
            break
        time.sleep(0.01)
    # it waits for a row the batch holds (M's without the up-front lock, S's with it)
    assert _waiting_for_a_lock(pids["checkout"]), "the checkout did not wait for the batch"
    go_on.set()  # and the batch goes on to its second order (S)
    importer.join(60)
    checkout.join(60)

    # then both succeed: no deadlock, every unit held once
    report, placed = outcome["import"], outcome["checkout"]
    assert not isinstance(report, BaseException), report
    assert not isinstance(placed, BaseException), placed
    assert (report.status, report.orders_created, report.failed_writing) == ("imported", 2, False)
    assert isinstance(placed, Order)
    assert Order.objects.count() == 3
    reserved = {s.sku_id: s.reserved for s in Stock.objects.filter(warehouse=world.sh)}
    assert reserved == {world.sku_s.pk: 2, world.sku_m.pk: 2}
    held = sum(a.quantity for a in Allocation.objects.filter(released=False))
    assert held == 4
