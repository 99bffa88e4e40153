"""Benchmark: a flash sale — many concurrent buyers racing for 100 units (SOP INV-03).

N client processes (default 8), each making thousands of single-unit buy attempts on one
SKU with 100 units, through ``inventory.services.stock_reserve_row`` (the conditional UPDATE
plus its ledger line). Reference, measured in the same run on the same table: the raw
conditional ``UPDATE inventory_stock SET reserved = reserved + 1 WHERE id = … AND
on_hand - reserved >= 1`` with no ledger, no service code. The Redis path
(``inventory.redis_stock.FlashSaleStock.reserve``: Lua pre-deduction, then the database
reservation for the winners) is measured against a raw loop of the same Lua script.

Each configuration runs ``--repeat`` times (alternating), medians are quoted (2 noisy cores).

Database: ``DATABASE_URL`` if set; otherwise a throwaway PostgreSQL cluster on loopback
(``initdb`` under /tmp) if the binaries exist; otherwise SQLite, with a note. Redis:
``REDIS_URL`` if set, otherwise a throwaway ``redis-server`` on loopback if installed,
otherwise the Redis part is skipped (``redis_ratio_vs_raw=na``).

    python benchmarks/flash_sale.py [--quick] [--clients 8] [--attempts 2000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import multiprocessing
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

UNITS = 100


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _throwaway_postgres(tmp: Path) -> Iterator[str | None]:
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not bins:
        yield None
        return
    bindir = Path(bins[-1]).parent
    data, port = tmp / "pg", _free_port()
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: run the cluster as the postgres user
        as_user = ["runuser", "-u", "postgres", "--"]
        tmp.chmod(0o777)
    subprocess.run(
        [*as_user, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
        check=True,
        capture_output=True,
    )
    opts = f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100"
    subprocess.run(
        [
            *as_user,
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            opts,
            "-l",
            str(tmp / "pg.log"),
            "-w",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgres://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            check=False,
        )


@contextlib.contextmanager
def _throwaway_redis() -> Iterator[str | None]:
    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    port = _free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        import redis

        client = redis.Redis(port=port)
        for _ in range(50):
            with contextlib.suppress(redis.ConnectionError):
                client.ping()
                break
            time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _setup_django(database_url: str, var_dir: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["STOREOPS_VAR_DIR"] = var_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storeops.config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _world() -> tuple[int, int]:
    """A store, a SKU and one warehouse; returns (sku id, warehouse id)."""
    from storeops.catalog import services as cs
    from storeops.core.context import Actor
    from storeops.inventory import services as inv
    from storeops.stores import services as st

    actor = Actor.system("cli")
    store = st.store_create(actor=actor, code=f"bench{os.getpid()}", name="压测店")
    cat = cs.category_create(actor=actor, store=store, code="c", name="类目")
    product = cs.product_create(
        actor=actor,
        store=store,
        category=cat,
        code="HOT",
        core_word="连衣裙",
        title="秒杀连衣裙",
        skus=[{"code": "HOT-1", "price": "99.00"}],
    )
    sku = product.skus.get()
    wh = inv.warehouse_create(actor=actor, store=store, code="wh", name="仓")
    return sku.pk, wh.pk


def _fresh_stock(sku_id: int, wh_id: int, run: int) -> int:
    """A new stock row with UNITS available (its own zone/warehouse per run, same table)."""
    from storeops.core.context import Actor
    from storeops.inventory import selectors as sel
    from storeops.inventory import services as inv
    from storeops.inventory.models import Warehouse

    actor = Actor.system("cli")
    base = Warehouse.objects.select_related("store").get(pk=wh_id)
    wh = inv.warehouse_create(actor=actor, store=base.store, code=f"run{run}", name=f"run{run}")
    sku = sel.sku_get(store=base.store, sku_id=sku_id)
    assert sku is not None
    inv.stock_receive(actor=actor, sku=sku, warehouse=wh, quantity=UNITS, reason="秒杀备货")
    stock = sel.stock_get(sku=sku, warehouse=wh)
    assert stock is not None
    return stock.pk


# ---- the clients (forked processes, one database connection each) ----------------------------


def _client_ours(stock_id: int, attempts: int, worker: int) -> int:
    from storeops.core.context import Actor
    from storeops.inventory.services import InsufficientStock, stock_reserve_row

    actor = Actor.system("api")
    sold = 0
    for n in range(attempts):
        try:
            stock_reserve_row(actor=actor, stock_id=stock_id, quantity=1, reference=f"B{worker}-{n}")
            sold += 1
        except InsufficientStock:
            pass
    return sold


def _client_raw(stock_id: int, attempts: int, worker: int) -> int:
    from django.db import connection

    sold = 0
    with connection.cursor() as cur:
        for _ in range(attempts):
            cur.execute(
                "UPDATE inventory_stock SET reserved = reserved + 1 "
                "WHERE id = %s AND on_hand - reserved >= 1",
                [stock_id],
            )
            sold += cur.rowcount
    return sold


def _client_sql_only(stock_id: int, attempts: int, worker: int) -> int:
    """Diagnostic: the service's own statement (the ``inventory_stock_reserve`` function:
    conditional UPDATE + ledger INSERT), prepared, without the Python around it."""
    import datetime as dt

    import psycopg
    from django.db import connection

    from storeops.inventory.services import _RESERVE_PG

    connection.ensure_connection()
    sold = 0
    with psycopg.Cursor(connection.connection) as cur:
        for n in range(attempts):
            now = dt.datetime.now(dt.UTC)
            cur.execute(
                _RESERVE_PG, (stock_id, 1, now, "秒杀", f"S{worker}-{n}", "system", "api"), prepare=True
            )
            sold += 1 if cur.fetchone() is not None else 0
    return sold


def _client_redis(stock_id: int, attempts: int, worker: int) -> int:
    from storeops.core.context import Actor
    from storeops.inventory.redis_stock import FlashSaleStock
    from storeops.inventory.services import InsufficientStock

    flash = FlashSaleStock(stock_id=stock_id)
    actor = Actor.system("api")
    sold = 0
    for n in range(attempts):
        try:
            flash.reserve(actor=actor, quantity=1, reference=f"R{worker}-{n}")
            sold += 1
        except InsufficientStock:
            pass
    return sold


def _client_redis_raw(stock_id: int, attempts: int, worker: int) -> int:
    from storeops.inventory.redis_stock import TAKE, counter_key, redis_client

    client = redis_client()
    take = client.register_script(TAKE)
    key = counter_key(stock_id) + ":raw"
    return sum(1 for _ in range(attempts) if int(take(keys=[key], args=[1])) >= 0)


CLIENTS: dict[str, Callable[[int, int, int], int]] = {
    "ours": _client_ours,
    "raw": _client_raw,
    "sql_only": _client_sql_only,
    "redis": _client_redis,
    "redis_raw": _client_redis_raw,
}


def _child(kind: str, stock_id: int, attempts: int, worker: int, start: object, out: object) -> None:
    from django.db import connection

    connection.close()  # never share the parent's socket
    start.wait()  # type: ignore[attr-defined]
    try:
        out.put(CLIENTS[kind](stock_id, attempts, worker))  # type: ignore[attr-defined]
    finally:
        connection.close()


def _race(kind: str, stock_id: int, clients: int, attempts: int) -> tuple[float, int]:
    from django.db import connection

    connection.close()
    ctx = multiprocessing.get_context("fork")
    start, out = ctx.Event(), ctx.Queue()
    procs = [
        ctx.Process(target=_child, args=(kind, stock_id, attempts, w, start, out)) for w in range(clients)
    ]
    for p in procs:
        p.start()
    time.sleep(0.3)
    t0 = time.perf_counter()
    start.set()
    sold = sum(out.get(timeout=600) for _ in procs)
    elapsed = time.perf_counter() - t0
    for p in procs:
        p.join()
    return clients * attempts / elapsed, sold


def database_and_redis(stack: contextlib.ExitStack, tmp: Path) -> tuple[str, str, str]:
    """``(database URL, what it is, Redis URL)``: ``DATABASE_URL``, else a throwaway PostgreSQL
    on loopback, else SQLite; ``REDIS_URL``, else a throwaway redis-server, else ``""``. The
    Redis URL is exported as ``REDIS_URL`` for Django (and forked children)."""
    db_url = os.environ.get("DATABASE_URL", "")
    note = "DATABASE_URL"
    if not db_url:
        db_url = stack.enter_context(_throwaway_postgres(tmp)) or ""
        note = "throwaway PostgreSQL on loopback"
    if not db_url:
        db_url = f"sqlite:///{tmp / 'bench.sqlite3'}"
        note = "SQLite (no PostgreSQL found: writers serialise, numbers are not PostgreSQL's)"
    redis_url = os.environ.get("REDIS_URL", "") or stack.enter_context(_throwaway_redis()) or ""
    if redis_url:
        os.environ["REDIS_URL"] = redis_url
    return db_url, note, redis_url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer attempts and repeats (< 1 minute)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--attempts", type=int, default=None, help="attempts per client")
    parser.add_argument("--repeat", type=int, default=None)
    args = parser.parse_args()
    attempts = args.attempts or (400 if args.quick else 2000)
    repeat = args.repeat or (3 if args.quick else 5)

    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="flashbench")))
        db_url, note, redis_url = database_and_redis(stack, tmp)
        _setup_django(db_url, str(tmp))
        from django.db import connection

        print(f"database: {connection.vendor} ({note}); redis: {redis_url or 'none (Redis part skipped)'}")
        print(f"{args.clients} clients x {attempts} attempts on {UNITS} units, {repeat} runs each (medians)")
        sku_id, wh_id = _world()

        from storeops.inventory.models import Stock
        from storeops.inventory.selectors import ledger_mismatches

        rates: dict[str, list[float]] = {k: [] for k in CLIENTS}
        oversell = 0
        run = 0
        ledgered: set[int] = set()
        kinds = ["ours", "raw"] + (["redis", "redis_raw"] if redis_url else [])
        if connection.vendor == "postgresql":
            kinds.append("sql_only")  # diagnostic: our statement without the service code
        for _ in range(repeat):
            for kind in kinds:
                run += 1
                stock_id = _fresh_stock(sku_id, wh_id, run)
                if kind.startswith("redis"):
                    from storeops.inventory.redis_stock import FlashSaleStock, counter_key, redis_client

                    if kind == "redis":
                        FlashSaleStock(stock_id=stock_id).load(UNITS)
                    else:
                        redis_client().set(counter_key(stock_id) + ":raw", UNITS)
                if kind in ("ours", "redis", "sql_only"):
                    ledgered.add(stock_id)
                rate, sold = _race(kind, stock_id, args.clients, attempts)
                rates[kind].append(rate)
                stock = Stock.objects.get(pk=stock_id)
                if kind != "redis_raw":
                    assert stock.reserved <= stock.on_hand
                    oversell += max(0, sold - UNITS) + max(0, stock.reserved - stock.on_hand)
                    if sold != UNITS:
                        print(f"  note: {kind} run {run} sold {sold} of {UNITS}")
        store = Stock.objects.get(pk=stock_id).warehouse.store
        mismatches = [m for m in ledger_mismatches(store=store) if m.stock_id in ledgered]
        med = {k: statistics.median(v) for k, v in rates.items() if v}
        for k in kinds:
            runs = ", ".join(f"{r:.0f}" for r in rates[k])
            print(f"  {k:10s} median {med[k]:10.0f} attempts/s   runs: {runs}")
        ratio = med["ours"] / med["raw"]
        redis_ratio = f"{med['redis'] / med['redis_raw']:.2f}" if redis_url else "na"
        print(f"reference (raw conditional UPDATE, same table, same run): {med['raw']:.0f} attempts/s")
        print(f"ledger rows that do not explain their stock row (ours/redis runs): {len(mismatches)}")
        print(
            f"RESULT oversell={oversell} attempts_per_s={med['ours']:.0f} ratio_vs_raw={ratio:.2f} "
            f"redis_ratio_vs_raw={redis_ratio}"
        )


if __name__ == "__main__":
    main()
