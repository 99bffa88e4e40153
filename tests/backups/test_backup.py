"""Backups, their off-machine copy, retention and a verified restore (SOP STORE-06).

Run on SQLite (default) and PostgreSQL (``DATABASE_URL=postgres://…``): every restore goes
into a new, empty database of the same engine, and is checked against the source database
read independently (row counts of every table, a content hash of the key tables)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.core.management import CommandError, call_command
from django.db import connections
from huey.contrib.djhuey import HUEY

from storeops.audit.models import AuditEntry
from storeops.backups.services import (
    BackupChecksumError,
    BackupEngineMismatchError,
    RestoreTargetNotEmpty,
    backup_create,
    backup_keep,
    backup_list,
    backup_prune,
    backup_restore,
)
from storeops.backups.tasks import backup_daily
from storeops.core.context import Actor
from tests.backups.conftest import pg_conninfo

# Committed rows: a backup is read by another connection or process. After each test the database
# is flushed and the post_migrate hooks (content types, permissions, role groups) seed it again.
committed = pytest.mark.django_db(transaction=True)

HASHED_TABLES = ["auth_user", "auth_user_groups", "stores_store", "stores_channel", "audit_auditentry"]


# -- reading a database without Django or the code under test ---------------------------------------


def is_sqlite(database: dict[str, Any]) -> bool:
    return "sqlite" in database["ENGINE"]


def query(database: dict[str, Any], sql: str) -> list[tuple[Any, ...]]:
    if is_sqlite(database):
        name = str(database["NAME"])
        conn = sqlite3.connect(name, uri=name.startswith("file:"))
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(pg_conninfo(database)) as conn:
        return conn.execute(sql).fetchall()  # type: ignore[arg-type]


def tables(database: dict[str, Any]) -> list[str]:
    if is_sqlite(database):
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    else:
        sql = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
    return sorted(r[0] for r in query(database, sql))


def row_counts(database: dict[str, Any]) -> dict[str, int]:
    return {t: query(database, f'SELECT count(*) FROM "{t}"')[0][0] for t in tables(database)}


def content_hash(database: dict[str, Any], table: str) -> str:
    rows = query(database, f'SELECT * FROM "{table}" ORDER BY id')
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def source_database() -> dict[str, Any]:
    return dict(connections["default"].settings_dict)


def other_engine_database(tmp_path: Path) -> dict[str, Any]:
    if is_sqlite(source_database()):
        return {"ENGINE": "django.db.backends.postgresql", "NAME": "never_connected", "HOST": "192.0.2.1"}
    return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp_path / "other-engine.sqlite3")}


def database_url(database: dict[str, Any]) -> str:
    if is_sqlite(database):
        return f"sqlite:///{database['NAME']}"
    user, password = quote(database["USER"], safe=""), quote(database["PASSWORD"], safe="")
    return f"postgres://{user}:{password}@{database['HOST']}:{database['PORT']}/{database['NAME']}"


# -- backup and restore -------------------------------------------------------------------------------


@committed
def test_store_06_a_backup_restored_into_an_empty_database_has_every_row_of_every_table(
    shop_data: dict[str, int], backup_dir: Path, empty_database: dict[str, Any]
) -> None:
    # given: a shop with users, stores, channels and their operation log
    source = source_database()
    counts_before = row_counts(source)
    hashes_before = {t: content_hash(source, t) for t in HASHED_TABLES}
    assert counts_before["stores_store"] == 3
    assert counts_before["auth_user"] == 3
    assert counts_before["audit_auditentry"] >= 10
    assert row_counts(empty_database) == {}

    # when
    backup = backup_create(actor=Actor.system("cli"))
    restored = backup_restore(path=backup.dump_path, database=empty_database)

    # then: every table, every row, the same content
    assert row_counts(empty_database) == counts_before
    assert {t: content_hash(empty_database, t) for t in HASHED_TABLES} == hashes_before
    assert backup.manifest.row_counts == counts_before
    assert restored.row_counts == counts_before
    assert restored.replaced_tables == []


@committed
def test_store_06_the_restored_operation_log_is_still_append_only(
    shop_data: dict[str, int], backup_dir: Path, empty_database: dict[str, Any]
) -> None:
    # given: a restored database (the triggers of audit migration 0002 must come back with the rows)
    backup_restore(path=backup_create().dump_path, database=empty_database)

    # when / then
    with pytest.raises(Exception, match="append-only"):
        query(empty_database, "UPDATE audit_auditentry SET note = 'rewritten'")
    assert query(empty_database, "SELECT count(*) FROM audit_auditentry WHERE note = 'rewritten'") == [(0,)]


@committed
def test_store_06_the_manifest_records_engine_migration_heads_row_counts_and_checksum(
    shop_data: dict[str, int], backup_dir: Path
) -> None:
    # given
    source = source_database()
    heads = dict(query(source, "SELECT app, max(name) FROM django_migrations GROUP BY app"))

    # when
    backup = backup_create()

    # then
    manifest = json.loads(backup.manifest_path.read_text(encoding="utf-8"))
    assert manifest["engine"] == ("sqlite" if is_sqlite(source) else "postgresql")
    assert manifest["engine"] in backup.dump_path.name
    assert backup.dump_path.parent == backup_dir
    assert manifest["dump"] == backup.dump_path.name
    assert manifest["sha256"] == hashlib.sha256(backup.dump_path.read_bytes()).hexdigest()
    assert manifest["size"] == backup.dump_path.stat().st_size
    assert manifest["migrations"] == heads
    assert manifest["row_counts"]["stores_store"] == 3
    assert dt.datetime.fromisoformat(manifest["created_at"]).utcoffset() == dt.timedelta(0)


@committed
def test_store_06_each_backup_run_writes_an_audit_entry(shop_data: dict[str, int], backup_dir: Path) -> None:
    # when
    backup = backup_create(actor=Actor.system("task"))

    # then
    entry = AuditEntry.objects.get(action="backup.create")
    assert entry.via == "task"
    assert entry.object_type == "backup"
    assert entry.object_id == backup.manifest_path.stem
    assert entry.after["sha256"] == backup.manifest.sha256
    assert entry.after["file"] == str(backup.dump_path)


@committed
def test_store_06_a_dump_whose_checksum_does_not_match_is_refused_and_the_target_untouched(
    shop_data: dict[str, int], backup_dir: Path, empty_database: dict[str, Any]
) -> None:
    # given: one byte of the dump changed after the backup
    backup = backup_create()
    data = bytearray(backup.dump_path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    backup.dump_path.write_bytes(bytes(data))

    # when / then
    with pytest.raises(BackupChecksumError, match="checksum mismatch"):
        backup_restore(path=backup.dump_path, database=empty_database)
    assert row_counts(empty_database) == {}


@committed
def test_store_06_a_dump_of_the_other_database_engine_is_refused_with_a_clear_message(
    shop_data: dict[str, int], backup_dir: Path, tmp_path: Path
) -> None:
    # given: a backup of this engine and a target database of the other one
    backup = backup_create()
    target = other_engine_database(tmp_path)

    # when / then
    with pytest.raises(
        BackupEngineMismatchError, match="only be restored into a database of the same engine"
    ):
        backup_restore(path=backup.manifest_path, database=target)
    assert not Path(target["NAME"]).exists()


@committed
def test_store_06_a_restore_into_a_database_with_data_is_refused_unless_forced(
    shop_data: dict[str, int], backup_dir: Path, empty_database: dict[str, Any]
) -> None:
    # given: the target already holds the shop's data
    backup = backup_create()
    backup_restore(path=backup.dump_path, database=empty_database)
    counts = row_counts(empty_database)

    # when: restoring again without force
    with pytest.raises(RestoreTargetNotEmpty) as refused:
        backup_restore(path=backup.dump_path, database=empty_database)

    # then: refused, naming the tables; with force it replaces them
    assert "stores_store" in refused.value.tables
    assert "--yes" in str(refused.value)
    restored = backup_restore(path=backup.dump_path, database=empty_database, force=True)
    assert "stores_store" in restored.replaced_tables
    assert row_counts(empty_database) == counts


@committed
def test_store_06_the_restore_command_refuses_a_database_with_data_without_yes(
    shop_data: dict[str, int], backup_dir: Path
) -> None:
    # given
    call_command("backup")
    ((manifest_path, _manifest),) = backup_list()

    # when / then: the test database holds data
    with pytest.raises(CommandError, match="--yes"):
        call_command("restore", str(manifest_path))


@pytest.mark.slow
@committed
def test_store_06_the_cli_restores_into_a_freshly_migrated_database_and_then_needs_yes(
    shop_data: dict[str, int], backup_dir: Path, empty_database: dict[str, Any], tmp_path: Path
) -> None:
    # given: `storeops backup`, and a new database prepared with `storeops migrate`
    call_command("backup")
    ((manifest_path, manifest),) = backup_list()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(empty_database),
        "STOREOPS_VAR_DIR": str(tmp_path / "var"),
    }
    (tmp_path / "var").mkdir()

    def storeops(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "storeops", *args],
            env=env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=300,
            check=False,
        )

    migrated = storeops("migrate", "--no-input", "-v0")
    assert migrated.returncode == 0, migrated.stderr

    # when: a migrated database without business data counts as empty
    first = storeops("restore", str(manifest_path.parent / manifest.dump))
    again = storeops("restore", str(manifest_path))
    forced = storeops("restore", str(manifest_path), "--yes")

    # then
    assert first.returncode == 0, first.stderr
    assert again.returncode != 0
    assert "--yes" in again.stderr
    assert forced.returncode == 0, forced.stderr
    counts = row_counts(empty_database)
    assert {t: counts[t] for t in manifest.row_counts if t != "audit_auditentry"} == {
        t: n for t, n in manifest.row_counts.items() if t != "audit_auditentry"
    }
    # the restored log holds the backup's entries plus one entry per restore into this database
    assert counts["audit_auditentry"] == manifest.row_counts["audit_auditentry"] + 1
    restores = "SELECT count(*) FROM audit_auditentry WHERE action = 'backup.restore'"
    assert query(empty_database, restores) == [(1,)]


# -- off-machine copy ---------------------------------------------------------------------------------


@committed
def test_store_06_the_copy_folder_gets_a_copy_whose_checksum_is_verified(
    shop_data: dict[str, int], backup_dir: Path, settings: Any, tmp_path: Path
) -> None:
    # given: a mounted remote folder
    remote = tmp_path / "remote" / "storeops"
    settings.STOREOPS_BACKUP_COPY_DIR = str(remote)

    # when
    backup = backup_create()

    # then
    assert backup.copy_path == remote / backup.dump_path.name
    assert hashlib.sha256(backup.copy_path.read_bytes()).hexdigest() == backup.manifest.sha256
    assert (remote / backup.manifest_path.name).read_bytes() == backup.manifest_path.read_bytes()
    assert {p.name for p in remote.iterdir()} == {backup.dump_path.name, backup.manifest_path.name}


@committed
def test_store_06_a_copy_that_arrives_damaged_fails_the_backup_and_is_not_kept(
    shop_data: dict[str, int],
    backup_dir: Path,
    settings: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given: a remote folder that truncates what is written to it
    remote = tmp_path / "remote"
    settings.STOREOPS_BACKUP_COPY_DIR = str(remote)

    def truncating_copy(src: Path, dst: Path) -> None:
        Path(dst).write_bytes(Path(src).read_bytes()[:-10])

    monkeypatch.setattr("storeops.backups.services.shutil.copyfile", truncating_copy)

    # when / then
    with pytest.raises(BackupChecksumError, match="off-machine copy"):
        backup_create()
    assert list(remote.iterdir()) == []
    assert AuditEntry.objects.filter(action="backup.fail").count() == 1
    ((local, _manifest),) = backup_list()  # the local backup itself is complete
    assert local.parent == backup_dir


# -- retention ----------------------------------------------------------------------------------------


@committed
def test_store_06_retention_keeps_the_newest_backups_and_deletes_older_ones(
    shop_data: dict[str, int], backup_dir: Path
) -> None:
    # given: four backups and files that are not backups
    made = [backup_create() for _ in range(4)]
    (backup_dir / "notes.txt").write_text("keep me")
    (backup_dir / "storeops-broken.json").write_text("{not json")

    # when
    deleted = backup_prune(keep=2, directories=[backup_dir])

    # then
    kept = [m.manifest_path for m in made[2:]]
    assert [path for path, _ in backup_list()] == list(reversed(kept))
    assert sorted(deleted) == sorted([p for m in made[:2] for p in (m.dump_path, m.manifest_path)])
    assert all(m.dump_path.exists() for m in made[2:])
    assert (backup_dir / "notes.txt").exists()
    assert (backup_dir / "storeops-broken.json").exists()


@committed
def test_store_06_the_backup_command_applies_retention_to_the_backup_and_copy_folders(
    shop_data: dict[str, int], backup_dir: Path, settings: Any, tmp_path: Path
) -> None:
    # given
    settings.STOREOPS_BACKUP_KEEP = 2
    settings.STOREOPS_BACKUP_COPY_DIR = str(tmp_path / "remote")

    # when
    for _ in range(3):
        call_command("backup")

    # then
    assert len(backup_list()) == 2
    assert len(backup_list(directory=tmp_path / "remote")) == 2
    assert len(list(backup_dir.iterdir())) == 4  # two dumps, two manifests


# -- the daily schedule -------------------------------------------------------------------------------


def test_store_06_the_backup_task_is_scheduled_daily_at_half_past_two() -> None:
    # given
    task = backup_daily.task_class()
    at = dt.datetime(2026, 3, 15, 2, 30)

    # when / then
    assert any(isinstance(t, backup_daily.task_class) for t in HUEY._registry.periodic_tasks)
    assert task.validate_datetime(at)
    assert task.validate_datetime(at + dt.timedelta(days=1))
    assert not task.validate_datetime(at.replace(minute=31))
    assert not task.validate_datetime(at.replace(hour=14))


@committed
def test_store_06_the_daily_task_backs_up_as_the_system_and_prunes(
    shop_data: dict[str, int], backup_dir: Path, settings: Any
) -> None:
    # given: two earlier backups and a retention of two
    settings.STOREOPS_BACKUP_KEEP = 2
    first = backup_create()
    backup_create()

    # when
    name = backup_daily.call_local()

    # then
    names = [manifest.dump for _path, manifest in backup_list()]
    assert names[0] == name
    assert len(names) == 2
    assert first.dump_path.name not in names
    assert AuditEntry.objects.filter(action="backup.create", via="task").count() == 1


@committed
def test_store_06_retention_follows_the_longest_playbook_backup_keep_days_unless_the_server_sets_it(
    shop_data: dict[str, int], backup_dir: Path, settings: Any
) -> None:
    # given no server override, and the stores' playbooks asking for 2 and 3 days
    from storeops.stores.models import Store
    from storeops.stores.services import playbook_update

    settings.STOREOPS_BACKUP_KEEP = None
    first, *others = Store.objects.order_by("pk")
    playbook_update(actor=Actor.system("cli"), store=first, values={"backup_keep_days": 2})
    for store in others:
        playbook_update(actor=Actor.system("cli"), store=store, values={"backup_keep_days": 3})
    assert backup_keep() == 3
    for _ in range(4):
        backup_create()

    # when the daily task runs, the newest three are kept (a store never keeps fewer days than it asked)
    backup_daily.call_local()
    assert len(backup_list()) == 3

    # and a server setting overrides the playbooks
    settings.STOREOPS_BACKUP_KEEP = 1
    assert backup_keep() == 1


@committed
def test_store_06_the_postgresql_password_goes_to_pg_dump_in_the_environment_not_the_command_line(
    shop_data: dict[str, int], backup_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given
    source = source_database()
    if is_sqlite(source):
        pytest.skip("PostgreSQL only: run with DATABASE_URL=postgres://…")
    if not source["PASSWORD"]:
        pytest.skip("the database URL has no password to keep off the command line")
    calls: list[tuple[list[str], dict[str, str]]] = []
    real_run = subprocess.run

    def spy(args: list[str], **kwargs: Any) -> Any:
        calls.append((list(args), dict(kwargs.get("env") or {})))
        return real_run(args, **kwargs)

    monkeypatch.setattr("storeops.backups.services.subprocess.run", spy)

    # when
    backup_create()

    # then
    ((dump_args, dump_env),) = [
        (a, e) for a, e in calls if Path(a[0]).name == "pg_dump" and "--version" not in a
    ]
    assert "--format=custom" in dump_args
    assert not any(source["PASSWORD"] in arg for arg in dump_args)
    assert dump_env["PGPASSWORD"] == source["PASSWORD"]
