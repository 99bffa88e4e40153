"""PostgreSQL prepares the application's frequent queries (docs/deploy.md, settings)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from storeops.stores.models import Store

pytestmark = pytest.mark.django_db


def _prepared_statements() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        return int(cursor.fetchone()[0])


def test_postgresql_prepares_a_query_after_five_runs_on_a_connection() -> None:
    # given
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: run with DATABASE_URL=postgres://…")
    before = _prepared_statements()

    # when: one query, with other values, five times, then once more
    for pk in range(5):
        list(Store.objects.filter(pk=pk, code="x"))
    unprepared = _prepared_statements()
    list(Store.objects.filter(pk=6, code="x"))

    # then: run as new text five times, prepared on the sixth run
    assert unprepared == before
    assert _prepared_statements() == before + 1


def _options(env: dict[str, str]) -> str:
    code = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'storeops.config.settings');"
        "from django.conf import settings; o = settings.DATABASES['default'].get('OPTIONS', {});"
        "print(o.get('server_side_binding'), o.get('prepare_threshold'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, **env}, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def test_database_prepare_0_keeps_djangos_client_side_binding(tmp_path: Path) -> None:
    # given a PostgreSQL URL (the settings are only read: nothing connects)
    url = "postgres://shop:secret@127.0.0.1:5432/shop"
    var = {"STOREOPS_VAR_DIR": str(tmp_path)}

    # when / then
    assert _options({"DATABASE_URL": url, **var}) == "True 5"
    assert _options({"DATABASE_URL": url, "DATABASE_PREPARE": "0", **var}) == "None None"
    assert _options({"DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3", **var}) == "None None"
