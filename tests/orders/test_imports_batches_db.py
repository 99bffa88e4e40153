"""Marketplace order import, writing: a validated file is written in batches (one transaction
each, the record's counters updated in the same transaction); a failing batch is rolled back,
the earlier ones stay and importing the file again adds the rest; every order is created once
per channel order number, also when an import of the same file runs at the same time. Big
files are queued for the worker (huey), which writes them the same way."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.db import IntegrityError
from django.db.models import Sum
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from storeops.audit.models import AuditEntry
from storeops.core.errors import Conflict
from storeops.inventory.models import Stock
from storeops.orders import imports
from storeops.orders import tasks as order_tasks
from storeops.orders.models import Allocation, Order, OrderImport, OrderLine
from storeops.stores.services import playbook_update
from tests.concurrency import at_once
from tests.orders import import_files as f
from tests.orders.builders import ACTOR, World

pytestmark = pytest.mark.django_db

N = 5  # orders in the test file: with batches of 2, three batches (2 + 2 + 1)


@pytest.fixture
def world(store, channel):
    return World(store, channel, stock_sh=50, stock_gz=50)


@pytest.fixture
def batches_of_two(monkeypatch):
    monkeypatch.setattr(imports, "IMPORT_BATCH_ORDERS", 2)
    monkeypatch.setattr(imports, "IMPORT_BATCH_PAUSE", 0)


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path  # queued files: <var>/imports/<id>-<name>
    return tmp_path


def _file(count: int = N, prefix: str = "B") -> bytes:
    return f.csv_bytes(f.TMALL_HEADER, f.many_tmall_rows(count, prefix))


def _import(world, content: bytes, name: str = "tmall.csv", **kwargs):
    return imports.orders_import(
        actor=ACTOR,
        store=world.store,
        channel=world.channel,
        source=io.BytesIO(content),
        filename=name,
        **kwargs,
    )


def _numbers(count: int = N, prefix: str = "B") -> list[str]:
    return [f"{prefix}{i:07d}" for i in range(count)]


def _units(numbers) -> int:
    """Units on the lines of these orders (in the file: B…0 has three, the others one)."""
    return OrderLine.objects.filter(order__number__in=list(numbers)).aggregate(n=Sum("quantity"))["n"] or 0


def _reserved() -> int:
    return Stock.objects.aggregate(n=Sum("reserved"))["n"] or 0


def _held() -> int:
    return Allocation.objects.filter(released=False).aggregate(n=Sum("quantity"))["n"] or 0


def _spy_batches(monkeypatch):
    """Wrap ``imports._create_once``: before each order, snapshot what the database holds (the
    newest import record and the number of orders)."""
    seen = []
    real = imports._create_once

    def spy(order, ctx):
        record = OrderImport.objects.order_by("-pk").first()
        seen.append((record.status, record.orders_created, record.orders_done, Order.objects.count()))
        return real(order, ctx)

    monkeypatch.setattr(imports, "_create_once", spy)
    return seen


# --- batches -------------------------------------------------------------------------------------


def test_a_file_is_written_in_batches_and_the_record_matches_every_commit(world, batches_of_two, monkeypatch):
    # given a valid file of five orders, written in batches of two
    seen = _spy_batches(monkeypatch)
    # when it is imported
    report = _import(world, _file())
    # then each batch starts on a record that counts exactly the orders committed before it
    assert len(seen) == N
    for status, created, done, orders in (seen[0], seen[2], seen[4]):
        assert status == "running"
        assert created == done == orders
    assert [s[3] for s in seen] == [0, 1, 2, 3, 4]  # one order at a time, in file order
    assert [s[1] for s in seen] == [0, 0, 2, 2, 4]  # the record moves once per batch
    # and the import ends as before: imported, every order created once and reserved
    record = OrderImport.objects.get()
    assert (report.status, record.status, record.orders_created, record.orders_done) == (
        "imported",
        "imported",
        5,
        5,
    )
    assert record.order_numbers == _numbers()
    assert record.updated_at >= record.created_at
    assert _reserved() == _held() == _units(_numbers()) == 7
    audit = AuditEntry.objects.filter(action="order.import_file").get()
    assert (audit.after["status"], audit.after["created"]) == ("imported", 5)


def test_the_batch_size_is_also_bounded_by_time(world, monkeypatch):
    # given batches that may hold 100 orders but only for a moment
    monkeypatch.setattr(imports, "IMPORT_BATCH_PAUSE", 0)
    monkeypatch.setattr(imports, "IMPORT_BATCH_SECONDS", 0)
    seen = _spy_batches(monkeypatch)
    # when a file is imported, then each batch holds one order (at least one, however slow)
    report = _import(world, _file(3))
    assert report.orders_created == 3
    assert [s[1] for s in seen] == [0, 1, 2]


@pytest.mark.parametrize(
    "error",
    [
        RuntimeError("磁盘已满"),
        IntegrityError("UNIQUE constraint failed"),
        Conflict("状态已变", code="stale"),
    ],
    ids=["any-error", "integrity", "conflict"],
)
def test_a_failure_in_batch_2_keeps_batch_1_and_importing_the_file_again_completes_it(
    world, batches_of_two, monkeypatch, error
):
    # given writing that fails at the second order of the second batch (the fourth order)
    real = imports.order_import_create
    calls = []

    def failing(**kwargs):
        calls.append(kwargs["order"].number)
        if len(calls) == 4:
            raise error
        return real(**kwargs)

    monkeypatch.setattr(imports, "order_import_create", failing)
    content = _file()
    # when the file is imported
    report = _import(world, content)
    # then the second batch is rolled back (its first order too), the first one stays
    first = _numbers()[:2]
    assert sorted(Order.objects.values_list("number", flat=True)) == first
    assert _reserved() == _held() == _units(first) == 4
    # and the import is failed, its record counting exactly what was committed
    assert (report.status, report.failed_writing, report.orders_created) == ("failed", True, 2)
    record = OrderImport.objects.get()
    assert (record.status, record.orders_created, record.orders_existing, record.orders_unreserved) == (
        "failed",
        2,
        0,
        0,
    )
    assert record.order_numbers == first
    (problem,) = record.errors
    assert (problem["line"], problem["field"]) == (0, "")
    assert "写入第 2 批订单时出错，该批已撤销" in problem["message"]
    assert str(error.message if isinstance(error, Conflict) else error) in problem["message"]
    assert (
        "之前的批次已导入 2 单并保留，其余 3 单未导入；再次导入同一文件即可补上其余订单" in problem["message"]
    )
    assert AuditEntry.objects.filter(action="order.import_file").get().after["status"] == "failed"

    # when the same file is imported again once the cause is gone
    monkeypatch.setattr(imports, "order_import_create", real)
    again = _import(world, content)
    # then the rest is added, no order twice, and every order holds its stock once
    assert (again.status, again.orders_created, again.orders_existing) == ("imported", 3, 2)
    assert again.order_numbers == _numbers()[2:]
    numbers = list(Order.objects.values_list("number", flat=True))
    assert sorted(numbers) == _numbers()
    assert len(numbers) == len(set(numbers)) == N
    assert _reserved() == _held() == _units(_numbers()) == 7
    for order in Order.objects.all():
        lines = order.lines.aggregate(n=Sum("quantity"))["n"]
        assert (
            Allocation.objects.filter(line__order=order, released=False).aggregate(n=Sum("quantity"))["n"]
            == lines
        )
    assert OrderImport.objects.filter(status="imported").get().orders_done == N


def test_orders_another_import_of_the_same_file_created_meanwhile_are_skipped(
    world, batches_of_two, monkeypatch
):
    # given another import that writes two orders of the file after ours validated it
    content = _file()
    others = f.csv_bytes(f.TMALL_HEADER, [r for r in f.many_tmall_rows(N) if r[0] in _numbers()[2:4]])
    real_write = imports._write
    other_reports = []

    def write(report, todo, ctx, record):
        monkeypatch.setattr(imports, "_write", real_write)
        other_reports.append(_import(world, others, "other.csv"))
        return real_write(report, todo, ctx, record)

    monkeypatch.setattr(imports, "_write", write)
    # when ours writes
    report = _import(world, content)
    # then it skips those two, counts them as existing, and each order exists once
    assert (other_reports[0].orders_created, other_reports[0].order_numbers) == (2, _numbers()[2:4])
    assert (report.status, report.orders_created, report.orders_existing) == ("imported", 3, 2)
    assert report.order_numbers == [_numbers()[i] for i in (0, 1, 4)]
    assert report.record.orders_done == N
    assert sorted(Order.objects.values_list("number", flat=True)) == _numbers()
    assert _reserved() == _held() == _units(_numbers())


def test_a_duplicate_refused_by_the_unique_constraint_counts_as_existing(world, monkeypatch):
    # given (as on PostgreSQL) another import that commits an order between our check and our
    # insert, so that the insert fails on the unique constraint
    other = f.csv_bytes(f.TMALL_HEADER, [r for r in f.many_tmall_rows(3) if r[0] == _numbers()[1]])
    real_write, real_create = imports._write, imports.order_import_create

    def write(report, todo, ctx, record):
        monkeypatch.setattr(imports, "_write", real_write)
        monkeypatch.setattr(imports, "order_import_create", real_create)
        _import(world, other, "other.csv")
        monkeypatch.setattr(imports, "order_import_create", racing)
        return real_write(report, todo, ctx, record)

    def racing(**kwargs):
        if kwargs["order"].number == _numbers()[1]:
            raise IntegrityError("duplicate key value violates unique constraint order_number_unique")
        return real_create(**kwargs)

    monkeypatch.setattr(imports, "_write", write)
    # when the file is imported, the order the constraint refused is skipped as existing
    report = _import(world, _file(3))
    assert (report.status, report.orders_created, report.orders_existing) == ("imported", 2, 1)
    assert sorted(Order.objects.values_list("number", flat=True)) == _numbers(3)


def test_an_integrity_error_for_an_order_that_does_not_exist_fails_the_batch(
    world, batches_of_two, monkeypatch
):
    real = imports.order_import_create

    def broken(**kwargs):
        if kwargs["order"].number == _numbers()[1]:
            raise IntegrityError("CHECK constraint failed: stock_reserved_within_on_hand")
        return real(**kwargs)

    monkeypatch.setattr(imports, "order_import_create", broken)
    report = _import(world, _file(3))
    assert (report.status, report.orders_created) == ("failed", 0)
    assert not Order.objects.exists()
    assert "stock_reserved_within_on_hand" in report.errors[0].message


def test_an_import_marked_failed_while_writing_stops_and_keeps_the_committed_batches(
    world, batches_of_two, monkeypatch
):
    # given an import whose record is failed (by the stalled-import sweep) after its first batch
    def between_batches():
        OrderImport.objects.update(status="failed", errors=[{"line": 0, "field": "", "message": "中断"}])

    monkeypatch.setattr(imports, "_between_batches", between_batches)
    # when it goes on writing, the second batch is rolled back and nothing more is written
    report = _import(world, _file())
    assert sorted(Order.objects.values_list("number", flat=True)) == _numbers()[:2]
    record = OrderImport.objects.get()
    assert (record.status, record.orders_created, record.errors[0]["message"]) == ("failed", 2, "中断")
    assert (report.record.status, report.status, report.failed_writing) == ("failed", "failed", True)
    assert [e.message for e in report.errors] == ["中断"]
    assert _reserved() == _units(_numbers()[:2])


@pytest.mark.django_db(transaction=True)
def test_concurrent_imports_of_the_same_file_create_each_order_once(store, channel, monkeypatch):
    # given stock for everything and one file of six orders, written in batches of two
    World(store, channel, stock_sh=50, stock_gz=50)
    monkeypatch.setattr(imports, "IMPORT_BATCH_ORDERS", 2)
    content = _file(6)

    def run():
        return imports.orders_import(
            actor=ACTOR, store=store, channel=channel, source=io.BytesIO(content), filename="same.csv"
        )

    # when three imports of it run at the same moment
    outcome = at_once(run, 3)
    # then none fails, each order exists once, held once, and the imports account for all six
    assert outcome.errors == []
    numbers = list(Order.objects.values_list("number", flat=True))
    assert sorted(numbers) == _numbers(6)
    assert len(set(numbers)) == 6
    assert sum(r.orders_created for r in outcome.results) == 6
    assert all(r.orders_created + r.orders_existing == 6 for r in outcome.results)
    assert {r.status for r in outcome.results} <= {"imported", "already_imported"}
    records = OrderImport.objects.all()
    assert sum(r.orders_created for r in records) == 6
    assert sorted(n for r in records for n in r.order_numbers) == _numbers(6)
    assert _reserved() == _held() == _units(_numbers(6))


# --- background (huey) ---------------------------------------------------------------------------


@pytest.fixture
def huey_immediate():
    """The worker's tasks run at once, in this thread (huey's immediate mode)."""
    was = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = was


@pytest.fixture
def inline_two(store, channel):
    playbook_update(actor=ACTOR, store=store, values={"order_import_inline_orders": 2})


def test_a_big_file_is_queued_and_the_worker_task_writes_it_in_batches(
    world,
    batches_of_two,
    inline_two,
    var_dir,
    huey_immediate,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    # given a file of five orders, above the playbook's inline limit of two
    seen = _spy_batches(monkeypatch)
    content = _file()
    # when it is imported as the console and the API do
    with django_capture_on_commit_callbacks() as callbacks:
        report = _import(world, content, "天猫 6月 订单(1).csv", background=True)
    # then it is validated, saved and queued: nothing written yet
    record = OrderImport.objects.get()
    assert (report.status, report.queued, record.status) == ("queued", True, "queued")
    assert (record.rows, record.orders_total, record.orders_created, record.orders_done) == (6, 5, 0, 0)
    assert not Order.objects.exists()
    saved = imports.stored_file(record)
    assert saved == var_dir / "imports" / f"{record.pk}-天猫_6月_订单_1_.csv"
    assert saved.read_bytes() == content
    assert len(callbacks) == 1  # handed to the queue once the record is committed
    # when the worker runs the task (immediate mode: now, in this thread)
    callbacks[0]()
    # then it wrote the orders in batches, the record showing the progress of each commit
    assert [s[:3] for s in (seen[0], seen[2], seen[4])] == [
        ("running", 0, 0),
        ("running", 2, 2),
        ("running", 4, 4),
    ]
    record.refresh_from_db()
    assert (record.status, record.orders_created, record.orders_done, record.orders_total) == (
        "imported",
        5,
        5,
        5,
    )
    assert sorted(Order.objects.values_list("number", flat=True)) == _numbers()
    assert _reserved() == _held() == _units(_numbers())
    # and the saved file is gone; the audit entry names the uploader's file
    assert not saved.exists()
    audit = AuditEntry.objects.filter(action="order.import_file").get()
    assert (audit.after["status"], audit.after["file"]) == ("imported", "天猫 6月 订单(1).csv")


def test_a_small_file_is_still_written_in_the_request(world, inline_two, var_dir):
    report = _import(world, _file(2), background=True)
    assert (report.status, report.queued, report.orders_created) == ("imported", False, 2)
    assert not (var_dir / "imports").exists()


def test_orders_already_imported_do_not_count_towards_the_inline_limit(world, inline_two, var_dir):
    _import(world, _file(4))
    report = _import(world, _file(), background=True)  # one new order of five
    assert (report.status, report.orders_created, report.orders_existing) == ("imported", 1, 4)


def test_a_queued_import_whose_worker_never_runs_stays_queued_and_is_queued_again(
    world, inline_two, var_dir, monkeypatch, django_capture_on_commit_callbacks
):
    # given no worker: the queue only records what is handed to it
    task, handed = order_tasks.order_import_task, []
    monkeypatch.setattr(order_tasks, "order_import_task", handed.append)
    with django_capture_on_commit_callbacks(execute=True):
        _import(world, _file(), background=True)
    record = OrderImport.objects.get()
    assert handed == [record.pk]
    # then the import stays visible as queued, its file kept
    assert [r.status for r in imports.import_list(store=world.store, status="queued")] == ["queued"]
    assert imports.stored_file(record).exists()
    # and the minute sweep hands it to the queue again once it has waited too long
    assert imports.imports_sweep()["imports_requeued"] == 0
    later = timezone.now() + imports.IMPORT_REQUEUE_AFTER + dt.timedelta(minutes=1)
    assert imports.imports_sweep(now=later) == {"imports_requeued": 1, "imports_failed": 0}
    assert handed == [record.pk, record.pk]
    # when a worker finally runs it twice (two deliveries), it is imported once
    first = task.call_local(record.pk)
    second = task.call_local(record.pk)
    assert (first, second) == ("imported", "imported")
    assert Order.objects.count() == N
    assert OrderImport.objects.get().orders_created == N
    assert not imports.stored_file(record).exists()


def test_the_sweep_fails_an_import_whose_worker_stopped(world, inline_two, var_dir):
    # given a queued import that a worker started and then lost (no progress for too long)
    _import(world, _file(), background=True)
    record = OrderImport.objects.get()
    old = timezone.now() - imports.IMPORT_STALLED_AFTER - dt.timedelta(minutes=1)
    OrderImport.objects.filter(pk=record.pk).update(status="running", orders_created=2, updated_at=old)
    # when the sweep runs
    assert imports.imports_sweep() == {"imports_requeued": 0, "imports_failed": 1}
    # then it is failed with what to do, and its file is removed
    record.refresh_from_db()
    assert record.status == "failed"
    assert "后台导入中断" in record.errors[-1]["message"]
    assert "已导入 2 单并保留；再次导入同一文件即可补上其余订单" in record.errors[-1]["message"]
    assert not imports.stored_file(record).exists()
    assert imports.imports_sweep() == {"imports_requeued": 0, "imports_failed": 0}


def test_the_worker_fails_a_queued_import_whose_file_is_gone(world, inline_two, var_dir):
    _import(world, _file(), background=True)  # (the test's transaction never commits: not handed)
    record = OrderImport.objects.get()
    imports.stored_file(record).unlink()
    assert order_tasks.order_import_task.call_local(record.pk) == "failed"
    record.refresh_from_db()
    assert "无法读取文件" in record.errors[0]["message"]
    assert not Order.objects.exists()


def test_the_worker_validates_the_file_again(world, inline_two, var_dir):
    # given a queued file whose SKU code is no longer in the catalog when the worker runs
    _import(world, _file(), background=True)
    record = OrderImport.objects.get()
    world.sku_m.__class__.objects.filter(pk=world.sku_m.pk).update(code="P1-M-OLD")
    # when it runs, the file is refused as a whole: nothing written
    assert order_tasks.order_import_task.call_local(record.pk) == "failed"
    record.refresh_from_db()
    assert record.errors[0]["message"] == "未知的商家编码：P1-M"
    assert not Order.objects.exists()
