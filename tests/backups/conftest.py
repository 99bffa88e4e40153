"""Fixtures for the backup tests (SOP STORE-06): committed shop data, a backup folder, and an
empty database of the same engine as the test database to restore into."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connections

from storeops.accounts.roles import Role
from storeops.accounts.services import user_create
from storeops.audit.services import audit_record
from storeops.core.context import Actor
from storeops.stores.services import channel_create, store_create


@pytest.fixture
def backup_dir(settings: Any, tmp_path: Path) -> Path:
    """Backups go to a fresh folder; no off-machine copy unless a test sets one."""
    folder = tmp_path / "backups"
    settings.STOREOPS_BACKUP_DIR = folder
    settings.STOREOPS_BACKUP_COPY_DIR = ""
    settings.STOREOPS_BACKUP_KEEP = 14
    return folder


@pytest.fixture
def shop_data(transactional_db: None) -> dict[str, int]:
    """Users with roles, stores with channels and their audit entries, committed (a backup is
    taken by another connection or process, which only sees committed rows)."""
    actor = Actor.system("cli")
    for i, role in enumerate([Role.OWNER, Role.OPERATIONS, Role.FINANCE]):
        user_create(
            actor=actor,
            username=f"user{i}",
            password="Backup-Test-9d2f",
            roles=[role],
            email=f"user{i}@example.cn",
        )
    for code, name in [("hz-flagship", "杭州旗舰店"), ("sh-outlet", "上海奥莱店"), ("gz-kids", "广州童装店")]:
        store = store_create(actor=actor, code=code, name=name, legal_name=f"{name}有限公司")
        channel_create(actor=actor, store=store, kind="tmall", code=f"{code}-tmall", name=f"{name} 天猫")
    audit_record(
        actor=actor,
        action="note.add",
        object_type="note",
        object_id="1",
        after={"text": "备份前的备注 ✓", "amount": "12.30"},
        note="多行\n备注",
    )
    return {"users": 3, "stores": 3, "channels": 3}


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A ``DATABASES`` entry for a new, empty database of the test database's engine: a new
    SQLite file, or a PostgreSQL database created for the test and dropped after it."""
    source = connections["default"].settings_dict
    if connections["default"].vendor == "sqlite":
        yield {"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp_path / "restored.sqlite3")}
        return
    import psycopg
    from psycopg import sql

    name = f"storeops_restore_{uuid.uuid4().hex[:12]}"
    maintenance = {**source, "NAME": "postgres"}
    with psycopg.connect(pg_conninfo(maintenance), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield {**source, "NAME": name}
    finally:
        with psycopg.connect(pg_conninfo(maintenance), autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def pg_conninfo(database: dict[str, Any]) -> str:
    from psycopg.conninfo import make_conninfo

    params = {
        "dbname": database["NAME"],
        "user": database.get("USER"),
        "password": database.get("PASSWORD"),
        "host": database.get("HOST"),
        "port": str(database.get("PORT") or ""),
    }
    return make_conninfo(**{k: v for k, v in params.items() if v})
