"""Issue 6's reference — benchmarks/checkout.py writes a checkout's rows with raw SQL — must
keep up with the tables: a NOT NULL column the ORM fills (e.g. ``Order.device_id``, RISK-01)
but the raw INSERT leaves out fails every raw order, and the benchmark had no ratio to print."""

from __future__ import annotations

import re
from pathlib import Path

from django.apps import apps
from django.db.models import NOT_PROVIDED, AutoField

SOURCE = Path(__file__).resolve().parents[2] / "benchmarks" / "checkout.py"


def _inserts() -> dict[str, set[str]]:
    text = SOURCE.read_text(encoding="utf-8")
    # the statements are implicitly joined string literals: join them back per statement
    joined = re.sub(r'"\s*\n\s*"', "", text)
    found: dict[str, set[str]] = {}
    for table, columns in re.findall(r"INSERT INTO (\w+) \(([^)]*)\)", joined):
        found[table] = {c.strip() for c in columns.split(",")}
    return found


def test_ord_06_the_benchmarks_raw_inserts_name_every_required_column():
    inserts = _inserts()
    assert {"orders_order", "orders_orderline", "orders_payment", "orders_orderevent"} <= set(inserts)
    by_table = {m._meta.db_table: m for m in apps.get_models()}
    for table, columns in inserts.items():
        model = by_table[table]
        required = {
            f.column
            for f in model._meta.concrete_fields
            if not f.null and not isinstance(f, AutoField) and f.db_default is NOT_PROVIDED
        }
        assert required <= columns, f"{table}: the raw INSERT leaves out {sorted(required - columns)}"
