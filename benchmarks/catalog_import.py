"""Excel import of 10,000 products with 50 bad rows: all reported, nothing written.

Reference measured in the same run: reading the same workbook with openpyxl alone (the
floor for any importer of this file). Ours = parse + validate every row + report, in one
transaction that writes nothing because rows are bad. Runs on a throwaway SQLite database.

    python benchmarks/catalog_import.py [--quick]

Ends with ``RESULT seconds=<our import> ratio_vs_parse=<ours / parse only> bad_rows=<n> rows=<n>``.
"""

from __future__ import annotations

import argparse
import io
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="2,000 rows, 2 rounds")
    args = parser.parse_args()
    rows = 2_000 if args.quick else 10_000
    rounds = 2 if args.quick else 3

    import django

    django.setup()
    import openpyxl
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.utils import timezone

    from storeops.catalog.imports import catalog_import
    from storeops.catalog.models import Product
    from storeops.core.context import Actor
    from storeops.stores.services import store_create
    from tests.catalog.db_builders import a_business_license, a_dress_category
    from tests.catalog.test_imports_db import HEADER, product_row

    actor = Actor.system("cli")
    store = store_create(actor=actor, code="bench", name="bench")
    a_business_license(store, timezone.localdate())
    a_dress_category(store)

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    bad_every = rows // 50
    for i in range(rows):
        sheet.append(product_row(i, price="-1" if i % bad_every == bad_every - 1 else "199.00"))
    buffer = io.BytesIO()
    book.save(buffer)
    data = buffer.getvalue()

    parse_times, ours = [], []
    errors = 0
    for _ in range(rounds):
        started = time.perf_counter()
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
        n = sum(1 for _row in wb.active.iter_rows(values_only=True))
        parse_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        report = catalog_import(
            actor=actor, store=store, kind="products", source=io.BytesIO(data), filename="bench.xlsx"
        )
        ours.append(time.perf_counter() - started)
        errors = len(report.errors)
        assert Product.objects.count() == 0, "a bad file must write nothing"
    parse, our = statistics.median(parse_times), statistics.median(ours)
    print(f"rows={rows} (+header, {n} read), bad rows reported={errors}, products written=0")
    print(
        f"openpyxl parse only (reference): {parse:.2f} s   full import: {our:.2f} s   (medians of {rounds})"
    )
    print(f"RESULT seconds={our:.2f} ratio_vs_parse={our / parse:.2f} bad_rows={errors} rows={rows}")


if __name__ == "__main__":
    main()
