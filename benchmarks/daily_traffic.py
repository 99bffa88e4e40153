"""DATA-01 daily UV and PV from the behaviour events: on the real Taobao sample (110,300 events,
one local day, one channel) and on 100,000 generated page views spread over 30 days and three
channels (5,000 visitors, 2,000 products), each asked for a 92-day range (the page's maximum).

The sample is imported through ``behaviour.services.events_import``; then
``analytics.selectors.daily_traffic`` (the daily-metrics UV/PV: one grouped query over the
page views, one over the channels' statistics) is timed over the sample's days, and its
queries counted. For reference, the same grouping is timed as one hand-written SQL statement
on the same table, and the UV that summing visitors per product would give (distinct
visitor × product × day) is printed beside the distinct-visitor UV. Throwaway SQLite database,
DEBUG off.

    python benchmarks/daily_traffic.py [--quick]      # --quick: the first 20,000 rows

Ends with ``RESULT events=<n> traffic_ms=<median> raw_ms=<median> queries=<n>
spread_ms=<median>`` (``spread_ms``: the 30-day data set over 92 days).
"""

from __future__ import annotations

import argparse
import datetime as dt
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
os.environ["DEBUG"] = "0"

from benchmarks.behaviour_import import QUICK_ROWS, _sample  # noqa: E402


def _median_ms(fn, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help=f"the first {QUICK_ROWS:,} rows")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from storeops.analytics import selectors
    from storeops.behaviour import services
    from storeops.behaviour.models import Event
    from storeops.core.context import Actor
    from storeops.stores.services import channel_create, store_create

    actor = Actor.system("cli")
    store = store_create(actor=actor, code="bench", name="bench")
    channel = channel_create(actor=actor, store=store, kind="tmall", code="tmall", name="tmall")
    run = services.events_import(
        actor=actor,
        store=store,
        path=_sample(QUICK_ROWS if args.quick else None),
        fmt="taobao",
        channel=channel,
    )
    assert run.status == "imported", run.status
    start = timezone.localtime(run.first_at).date()
    end = timezone.localtime(run.last_at).date()

    with CaptureQueriesContext(connection) as queries:
        traffic = selectors.daily_traffic(store=store, start=start, end=end)
    traffic_ms = _median_ms(lambda: selectors.daily_traffic(store=store, start=start, end=end))

    table = Event._meta.db_table
    since = timezone.make_aware(dt.datetime.combine(start, dt.time()))
    until = timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time()))
    offset = "+8 hours"  # Asia/Shanghai has no daylight saving
    raw_sql = (
        f"SELECT channel_id, date(occurred_at, '{offset}') AS d, COUNT(*), COUNT(DISTINCT visitor_id) "
        f"FROM {table} WHERE store_id = %s AND kind = 'page_view' AND occurred_at >= %s AND occurred_at < %s "
        "GROUP BY channel_id, d"
    )

    def raw() -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(raw_sql, [store.pk, since, until])
            return cursor.fetchall()

    raw_rows = raw()
    raw_ms = _median_ms(raw)
    assert sum(r[2] for r in raw_rows) == sum(t.pv or 0 for t in traffic.values()), "PV differs from raw SQL"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT date(occurred_at, '{offset}') AS d, COUNT(*) FROM (SELECT DISTINCT visitor_id, "
            f"item_id, date(occurred_at, '{offset}') AS occurred_at FROM {table} "
            "WHERE store_id = %s AND kind = 'page_view') GROUP BY d",
            [store.pk],
        )
        per_product = dict(cursor.fetchall())

    print(f"events={run.imported:,} days {start}..{end} ({len(queries)} queries for the range)")
    for day, t in sorted(traffic.items()):
        summed = per_product.get(day.isoformat(), 0)
        print(f"  {day}  PV {t.pv:>7,}  UV {t.uv:>6,}  (visitors summed over products would be {summed:,})")
    print(f"daily_traffic median of 5: {traffic_ms:.1f} ms   hand-written SQL: {raw_ms:.1f} ms")

    spread = _spread_store(actor, store_create, channel_create)
    last = dt.date(2026, 11, 30)
    with CaptureQueriesContext(connection) as spread_queries:
        by_day = selectors.daily_traffic(store=spread, start=last - dt.timedelta(days=91), end=last)
    spread_ms = _median_ms(
        lambda: selectors.daily_traffic(store=spread, start=last - dt.timedelta(days=91), end=last)
    )
    assert sum(t.pv or 0 for t in by_day.values()) == SPREAD_EVENTS, "page views lost"
    spread_since = timezone.make_aware(dt.datetime.combine(last - dt.timedelta(days=91), dt.time()))
    spread_until = timezone.make_aware(dt.datetime.combine(last + dt.timedelta(days=1), dt.time()))

    def spread_raw() -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(raw_sql, [spread.pk, spread_since, spread_until])
            return cursor.fetchall()

    spread_raw_ms = _median_ms(spread_raw)
    print(
        f"spread: {SPREAD_EVENTS:,} page views over {len(by_day)} days, 3 channels: 92-day range "
        f"{spread_ms:.1f} ms ({len(spread_queries)} queries), "
        f"mean UV/day {statistics.mean(t.uv for t in by_day.values()):,.0f}; "
        f"hand-written SQL {spread_raw_ms:.1f} ms"
    )
    print(
        f"RESULT events={run.imported} traffic_ms={traffic_ms:.1f} raw_ms={raw_ms:.1f} "
        f"queries={len(queries)} spread_ms={spread_ms:.1f} spread_raw_ms={spread_raw_ms:.1f}"
    )


SPREAD_EVENTS = 100_000


def _spread_store(actor, store_create, channel_create):
    """100,000 page views over the 30 days to 2026-11-30, three channels, written directly."""
    import random

    from django.utils import timezone

    from storeops.behaviour.models import BehaviourImport, Event

    store = store_create(actor=actor, code="spread", name="spread")
    channels = [
        channel_create(actor=actor, store=store, kind="tmall", code=f"c{n}", name=f"c{n}") for n in range(3)
    ]
    batch = BehaviourImport.objects.create(
        store=store, kind="file", file_name="gen", file_format="gen", fingerprint="gen", status="imported"
    )
    rng = random.Random(7)
    first = timezone.make_aware(dt.datetime(2026, 11, 1))
    events = [
        Event(
            store=store,
            channel=rng.choice(channels),
            batch=batch,
            visitor_id=f"u{rng.randrange(5000)}",
            session_id="s",
            kind="page_view",
            page_type="product",
            item_id=f"i{rng.randrange(2000)}",
            source="other",
            occurred_at=first + dt.timedelta(seconds=rng.randrange(30 * 86400)),
        )
        for _ in range(SPREAD_EVENTS)
    ]
    Event.objects.bulk_create(events, batch_size=5000)
    return store


if __name__ == "__main__":
    main()
