"""Import of the real Taobao behaviour sample (110,300 events) and its DATA-05 funnel.

References measured in the same run, on the same rows:

* ``parse``: reading the gzip CSV with the csv module alone (the floor of any importer);
* ``raw``: the same events inserted with one ``executemany`` of a hand-written INSERT (values
  prepared in plain Python, sessions included) in one transaction — what the database can
  take without the ORM, validation or catalogue links.

Ours = ``storeops.behaviour.services.events_import``: read + validate every row, sessionise,
link to the catalogue, ``bulk_create`` in batches, one transaction. Then the funnel of the
imported day (three aggregate queries) is timed. Runs on a throwaway SQLite database with
DEBUG off.

    python benchmarks/behaviour_import.py [--quick]      # --quick: the first 20,000 rows

Ends with ``RESULT rows_per_s=<ours> ratio_vs_raw=<ours ÷ raw rows/s> funnel_ms=<median>``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gzip
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("STOREOPS_VAR_DIR", tempfile.mkdtemp(prefix="storeops-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storeops.config.settings")
os.environ["DEBUG"] = "0"  # no SQL logging: measure what production runs

DATA = Path("/work/shared/data/taobao_userbehavior_sample.csv.gz")
QUICK_ROWS = 20_000


def _sample(rows: int | None) -> Path:
    """The whole file, or its first ``rows`` rows as a gzip file of their own."""
    if rows is None:
        return DATA
    out = Path(tempfile.mkdtemp(prefix="bh-bench-")) / f"taobao_{rows}.csv.gz"
    with gzip.open(DATA, "rt", encoding="utf-8") as src, gzip.open(out, "wt", encoding="utf-8") as dst:
        for i, line in enumerate(src):
            if i > rows:
                break
            dst.write(line)
    return out


def _parse_only(path: Path) -> tuple[float, list[list[str]]]:
    started = time.perf_counter()
    with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        rows = list(reader)
    return time.perf_counter() - started, rows


def _raw_insert(store, rows: list[list[str]], gap: int) -> float:
    """The same rows through one executemany (no ORM, no validation), then removed."""
    from django.db import connection, transaction

    from storeops.behaviour import rules
    from storeops.behaviour.ingest import TAOBAO_KINDS
    from storeops.behaviour.models import BehaviourImport, Event

    table = Event._meta.db_table
    cols = (
        "store_id, channel_id, batch_id, visitor_id, customer_ref, session_id, kind, page_type, step, "
        "item_id, category_id, product_id, sku_id, source, occurred_at, dwell_seconds, order_ref, amount"
    )
    sql = f"INSERT INTO {table} ({cols}) VALUES ({', '.join(['%s'] * 18)})"
    run = BehaviourImport.objects.create(
        store=store, kind="file", file_name="raw", file_format="raw", fingerprint="raw", status="failed"
    )
    started = time.perf_counter()
    sessions = rules.Sessioniser(gap)
    values = []
    for user, item, category, behaviour, ts in rows:
        kind, page = TAOBAO_KINDS[behaviour]
        t = int(ts)
        values.append(
            (
                store.pk,
                None,
                run.pk,
                user,
                "",
                sessions.session_for(user, t),
                kind.value,
                page.value,
                rules.step_of(kind.value, page.value),
                item,
                category,
                None,
                None,
                "other",
                dt.datetime.fromtimestamp(t, tz=dt.UTC).isoformat(sep=" "),
                None,
                "",
                None,
            )
        )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(sql, values)
    seconds = time.perf_counter() - started
    Event.objects.filter(batch=run).delete()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help=f"the first {QUICK_ROWS:,} rows")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from storeops.behaviour import selectors, services
    from storeops.core.context import Actor
    from storeops.stores.services import store_create

    actor = Actor.system("cli")
    path = _sample(QUICK_ROWS if args.quick else None)
    parse_s, rows = _parse_only(path)
    raw_store = store_create(actor=actor, code="raw", name="raw")
    gap = 30 * 60
    raw_s = _raw_insert(raw_store, rows, gap)

    store = store_create(actor=actor, code="bench", name="bench")
    started = time.perf_counter()
    run = services.events_import(actor=actor, store=store, path=path, fmt="taobao")
    ours_s = time.perf_counter() - started
    assert run.status == "imported", run.status
    assert run.imported == len(rows), (run.imported, len(rows))

    day = dt.date(2017, 11, 26)
    funnel_times = []
    for _ in range(5):
        t = time.perf_counter()
        report = selectors.funnel_report(store=store, since=day, until=day)
        funnel_times.append(time.perf_counter() - t)
    t = time.perf_counter()
    paths = selectors.path_report(store=store, since=day, until=day)
    paths_s = time.perf_counter() - t
    funnel_ms = statistics.median(funnel_times) * 1000

    n = len(rows)
    ours_rps, raw_rps, parse_rps = n / ours_s, n / raw_s, n / parse_s
    f = report.funnel
    print(f"rows={n:,} file={path.name} sessions={run.sessions:,}")
    print(
        f"csv parse only: {parse_s:.2f} s ({parse_rps:,.0f} rows/s)   raw executemany: {raw_s:.2f} s "
        f"({raw_rps:,.0f} rows/s)   ours: {ours_s:.2f} s ({ours_rps:,.0f} rows/s)"
    )
    print(
        "funnel "
        + " → ".join(f"{s.code} {s.visitors:,}" for s in f.steps)
        + f"   add-to-cart {f.add_to_cart_rate}  payment bounce {f.payment_bounce}"
    )
    print(
        f"funnel median of 5: {funnel_ms:.0f} ms   paths/dwell/bounce: {paths_s * 1000:.0f} ms "
        f"({paths.stats.sessions:,} sessions, bounce {paths.stats.bounce_rate})"
    )
    print(f"RESULT rows_per_s={ours_rps:.0f} ratio_vs_raw={ours_rps / raw_rps:.2f} funnel_ms={funnel_ms:.0f}")


if __name__ == "__main__":
    main()
