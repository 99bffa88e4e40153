"""Marketplace order import of N generated Tmall orders: throughput and how long other writers
are blocked.

The import writes in batches (``IMPORT_BATCH_ORDERS``, one transaction each). Reference,
measured in the same run on the same file (into a second Tmall channel): batch size =
everything, i.e. the old single transaction. For each run:

- ``orders/s`` of the write (read + validate + write, as the worker runs it);
- ``longest_txn_ms``: the longest write transaction the import held (on SQLite, the time
  every other writer — checkouts, payments — waits behind it);
- a probe thread that makes a one-row write every 100 ms, as a checkout would, and reports
  the longest it waited and how many of its writes failed (SQLite's busy timeout is 20 s).

Also printed: ``validate_s``, the read + validate part alone (a dry run), which a request
does before it queues a big file. Runs on a throwaway SQLite database.

    python benchmarks/order_import.py [--quick] [--orders N]

Ends with ``RESULT orders_per_s=<n> longest_txn_ms=<n> batch=<n>`` (ours), after the
reference's figures.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("STOREOPS_VAR_DIR", tempfile.mkdtemp(prefix="storeops-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storeops.config.settings")


class TxnClock:
    """Times every outermost transaction of this thread's connection (autocommit off → on)."""

    def __init__(self) -> None:
        from django.db import connection

        self.connection = connection
        self.original = connection.set_autocommit
        self.longest = 0.0
        self.count = 0
        self._started = 0.0

    def __enter__(self) -> TxnClock:
        def timed(autocommit: bool, *args, **kwargs):
            if not autocommit:
                self._started = time.perf_counter()
            result = self.original(autocommit, *args, **kwargs)
            if autocommit and self._started:
                self.longest = max(self.longest, time.perf_counter() - self._started)
                self.count += 1
                self._started = 0.0
            return result

        self.connection.set_autocommit = timed
        return self

    def __exit__(self, *exc) -> None:
        self.connection.set_autocommit = self.original


class WriterProbe(threading.Thread):
    """A one-row write every 100 ms on its own connection, like a checkout; longest wait."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.longest = 0.0
        self.failures = 0
        self.writes = 0

    def run(self) -> None:
        from django.db import OperationalError, connection, transaction

        try:
            while not self.stop.is_set():
                started = time.perf_counter()
                try:
                    with transaction.atomic(), connection.cursor() as cursor:
                        cursor.execute("INSERT INTO bench_probe (at) VALUES (%s)", [started])
                    self.writes += 1
                except OperationalError:  # database is locked: the busy timeout ran out
                    self.failures += 1
                self.longest = max(self.longest, time.perf_counter() - started)
                self.stop.wait(0.1)
        finally:
            connection.close()


def run_import(data: bytes, *, store, channel, actor, batch: int, seconds: float):
    from storeops.orders import imports

    imports.IMPORT_BATCH_ORDERS, imports.IMPORT_BATCH_SECONDS = batch, seconds
    probe = WriterProbe()
    probe.start()
    try:
        with TxnClock() as clock:
            started = time.perf_counter()
            report = imports.orders_import(
                actor=actor, store=store, channel=channel, source=io.BytesIO(data), filename="bench.csv"
            )
            elapsed = time.perf_counter() - started
    finally:
        probe.stop.set()
        probe.join()
    assert report.ok, report.errors[:3]
    return report, elapsed, clock, probe


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="200 orders (under a minute)")
    parser.add_argument("--orders", type=int, help="number of orders (default 2,000; 200 with --quick)")
    args = parser.parse_args()
    count = args.orders or (200 if args.quick else 2_000)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_probe (id INTEGER PRIMARY KEY, at REAL)")

    from storeops.core.context import Actor
    from storeops.orders import imports
    from storeops.orders.models import Order
    from storeops.stores.services import channel_create, store_create
    from tests.orders import import_files as f
    from tests.orders.builders import World

    actor = Actor.system("cli")
    store = store_create(actor=actor, code="bench", name="bench")
    ours_channel = channel_create(actor=actor, store=store, kind="tmall", code="tmall", name="天猫")
    ref_channel = channel_create(actor=actor, store=store, kind="tmall", code="tmall2", name="天猫2")
    stock = count * 3  # every order reserved, in both runs
    World(store, ours_channel, stock_sh=stock, stock_gz=stock)
    data = f.csv_bytes(f.TMALL_HEADER, f.many_tmall_rows(count))
    batch, seconds = imports.IMPORT_BATCH_ORDERS, imports.IMPORT_BATCH_SECONDS

    started = time.perf_counter()
    dry = imports.orders_import(
        actor=actor,
        store=store,
        channel=ours_channel,
        source=io.BytesIO(data),
        filename="b.csv",
        dry_run=True,
    )
    validate_s = time.perf_counter() - started
    assert dry.ok, dry.errors[:3]
    assert dry.orders_total == count

    ours, ours_s, ours_txn, ours_probe = run_import(
        data, store=store, channel=ours_channel, actor=actor, batch=batch, seconds=seconds
    )
    ref, ref_s, ref_txn, ref_probe = run_import(
        data, store=store, channel=ref_channel, actor=actor, batch=10**9, seconds=float("inf")
    )
    for report, channel in ((ours, ours_channel), (ref, ref_channel)):
        assert report.orders_created == count == Order.objects.filter(channel=channel).count()
        assert report.record is not None
        assert report.record.orders_created == count

    rows = len(f.many_tmall_rows(count))
    print(f"orders: {count} ({rows} rows), {connection.vendor}; validate only: {validate_s:.2f} s")
    for label, elapsed, clock, probe in (
        (f"ours (batch {batch}, ≤{seconds:g} s)", ours_s, ours_txn, ours_probe),
        ("reference (one transaction)", ref_s, ref_txn, ref_probe),
    ):
        print(
            f"{label:32} {count / elapsed:7.1f} orders/s  {elapsed:6.1f} s  "
            f"longest txn {clock.longest * 1000:8.0f} ms ({clock.count} txns)  "
            f"probe writer: longest wait {probe.longest * 1000:6.0f} ms, "
            f"{probe.failures} failed of {probe.writes + probe.failures}"
        )
    print(
        f"REFERENCE orders_per_s={count / ref_s:.1f} longest_txn_ms={ref_txn.longest * 1000:.0f} "
        f"probe_max_wait_ms={ref_probe.longest * 1000:.0f} probe_failed={ref_probe.failures}"
    )
    print(
        f"PROBE max_wait_ms={ours_probe.longest * 1000:.0f} failed={ours_probe.failures} "
        f"validate_s={validate_s:.2f}"
    )
    print(
        f"RESULT orders_per_s={count / ours_s:.1f} longest_txn_ms={ours_txn.longest * 1000:.0f} batch={batch}"
    )


if __name__ == "__main__":
    main()
