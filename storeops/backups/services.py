"""Database backups, their off-machine copy, retention and a verified restore (SOP STORE-06).

A backup is two files side by side in ``settings.STOREOPS_BACKUP_DIR``:

* the dump in the engine's native format: for SQLite a gzip-compressed copy of the database
  file taken with SQLite's online backup API (consistent while the application writes), for
  PostgreSQL a ``pg_dump --format=custom`` archive;
* a JSON manifest ``storeops-<engine>-<UTC timestamp>.json``: engine, creation time, the head
  migration of every app, the row count of every table and the SHA-256 of the dump. Row
  counts are read from the same snapshot the dump is taken from, so they describe the dump
  exactly (PostgreSQL: an exported snapshot shared with pg_dump).

The manifest is written last, so a manifest means a complete dump. A restore refuses a dump
whose checksum does not match, a dump of the other engine, and, unless forced, a target
database that already holds data; afterwards it checks every table's row count against the
manifest. With ``STOREOPS_BACKUP_COPY_DIR`` set (a mounted remote folder) every backup is
also copied there and the copy's checksum verified. :func:`backup_prune` keeps the newest
``keep`` backups in each folder.

Every function takes the target database as a Django ``DATABASES`` entry (``database=``),
defaulting to the ``default`` connection, so a dump can be restored into any database.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import glob
import gzip
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

from storeops.audit.services import audit_record
from storeops.core.context import Actor
from storeops.core.errors import Conflict, DomainError

MANIFEST_FORMAT = 1
SQLITE = "sqlite"
POSTGRESQL = "postgresql"
_ENGINES = {
    "django.db.backends.sqlite3": SQLITE,
    "django.db.backends.postgresql": POSTGRESQL,
    "django.contrib.gis.db.backends.postgis": POSTGRESQL,
    "django.contrib.gis.db.backends.spatialite": SQLITE,
}
_DUMP_SUFFIX = {SQLITE: ".sqlite3.gz", POSTGRESQL: ".dump"}
_DUMP_MAGIC = {SQLITE: b"\x1f\x8b", POSTGRESQL: b"PGDMP"}  # gzip header, pg_dump custom archive header
_ENGINE_LABEL = {SQLITE: "SQLite", POSTGRESQL: "PostgreSQL"}
_NAME_PREFIX = "storeops-"
# Tables that `storeops migrate` fills by itself: a freshly migrated database still counts as empty.
_BOOKKEEPING_TABLES = frozenset(
    {"django_migrations", "django_content_type", "auth_permission", "auth_group", "auth_group_permissions"}
)
# libpq connection keywords that may appear in DATABASES[...]["OPTIONS"], with their environment names.
_LIBPQ_ENV = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "sslcrl": "PGSSLCRL",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "application_name": "PGAPPNAME",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
    "options": "PGOPTIONS",
    "passfile": "PGPASSFILE",
    "service": "PGSERVICE",
}
_CHUNK = 1024 * 1024
_SUBPROCESS_TIMEOUT = 6 * 60 * 60  # seconds; a dump that takes longer than this is stuck

Progress = Callable[[str, int, int], None]
"""Called as ``progress(step, done, total)``; ``total`` is 0 when the size of a step is unknown."""


class BackupError(DomainError):
    code = "backup_failed"
    http_status = 500


class BackupChecksumError(BackupError):
    code = "backup_checksum_mismatch"
    http_status = 422


class BackupEngineMismatchError(BackupError):
    code = "backup_engine_mismatch"
    http_status = 422


class RestoreTargetNotEmpty(Conflict):
    code = "restore_target_not_empty"

    def __init__(self, message: Any, *, tables: list[str]):
        super().__init__(message)
        self.tables = tables


class RestoreVerificationError(BackupError):
    code = "restore_verification_failed"


@dataclass(frozen=True, slots=True)
class Manifest:
    engine: str
    created_at: str  # ISO 8601, UTC
    dump: str  # file name of the dump, next to the manifest
    sha256: str
    size: int
    migrations: dict[str, str]  # app label -> name of its newest applied migration
    row_counts: dict[str, int]  # table -> rows
    server_version: str = ""
    format: int = MANIFEST_FORMAT

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    @classmethod
    def from_file(cls, path: Path) -> Manifest:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            manifest = cls(
                engine=str(data["engine"]),
                created_at=str(data["created_at"]),
                dump=str(data["dump"]),
                sha256=str(data["sha256"]),
                size=int(data["size"]),
                migrations={str(k): str(v) for k, v in data["migrations"].items()},
                row_counts={str(k): int(v) for k, v in data["row_counts"].items()},
                server_version=str(data.get("server_version", "")),
                format=int(data.get("format", MANIFEST_FORMAT)),
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BackupError(f"备份清单无法读取 / unreadable backup manifest {path}: {exc}") from exc
        if manifest.format > MANIFEST_FORMAT:
            raise BackupError(
                f"备份清单版本 {manifest.format} 比本程序新，请先升级 StoreOps / "
                f"manifest format {manifest.format} is newer than this StoreOps understands: {path}"
            )
        if Path(manifest.dump).name != manifest.dump or not manifest.dump.startswith(_NAME_PREFIX):
            raise BackupError(f"备份清单中的文件名无效 / invalid dump name in manifest {path}")
        return manifest

    @property
    def created(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.created_at)


@dataclass(frozen=True, slots=True)
class BackupResult:
    dump_path: Path
    manifest_path: Path
    manifest: Manifest
    copy_path: Path | None = None  # the verified off-machine copy of the dump, if configured


@dataclass(frozen=True, slots=True)
class RestoreResult:
    dump_path: Path
    manifest: Manifest
    row_counts: dict[str, int]  # as counted in the restored database
    replaced_tables: list[str] = field(default_factory=list)  # tables that held data before (force)


# --------------------------------------------------------------------------------------------
# public functions


def backup_create(
    *,
    output_dir: Path | str | None = None,
    database: Mapping[str, Any] | None = None,
    copy_dir: Path | str | None = None,
    actor: Actor | None = None,
    progress: Progress | None = None,
) -> BackupResult:
    """Dump ``database`` (default: the ``default`` connection) into ``output_dir`` (default:
    ``settings.STOREOPS_BACKUP_DIR``) and copy it to ``copy_dir`` (default:
    ``settings.STOREOPS_BACKUP_COPY_DIR``; empty = no copy). Writes one audit entry: the
    backup, or its failure (which is then raised)."""
    actor = actor or Actor.system("cli")
    db = _database(database)
    engine = _engine(db)
    out = Path(output_dir if output_dir is not None else settings.STOREOPS_BACKUP_DIR)
    copy_to = copy_dir if copy_dir is not None else settings.STOREOPS_BACKUP_COPY_DIR
    base = ""
    try:
        out.mkdir(parents=True, exist_ok=True)
        created = timezone.now().astimezone(dt.UTC)
        base = _unique_base(out, engine, created)
        dump_path = out / f"{base}{_DUMP_SUFFIX[engine]}"
        partial = out / f".{dump_path.name}.partial"
        try:
            if engine == SQLITE:
                migrations, row_counts, server_version = _sqlite_dump(db, partial, progress)
            else:
                migrations, row_counts, server_version = _pg_dump(db, partial, progress)
            _fsync(partial)
            partial.replace(dump_path)
        finally:
            partial.unlink(missing_ok=True)
        _step(progress, "checksum", 0, 0)
        manifest = Manifest(
            engine=engine,
            created_at=created.isoformat(),
            dump=dump_path.name,
            sha256=_sha256(dump_path),
            size=dump_path.stat().st_size,
            migrations=migrations,
            row_counts=row_counts,
            server_version=server_version,
        )
        manifest_path = out / f"{base}.json"
        _write_atomic(manifest_path, manifest.to_json().encode())
        copy_path = None
        if copy_to:
            _step(progress, "copy", 0, 0)
            copy_path = _copy_verified(dump_path, manifest, manifest_path, Path(copy_to))
    except Exception as exc:
        _audit_quietly(actor=actor, action="backup.fail", object_id=base, after=None, note=_error_text(exc))
        raise
    result = BackupResult(
        dump_path=dump_path, manifest_path=manifest_path, manifest=manifest, copy_path=copy_path
    )
    _audit_quietly(
        actor=actor,
        action="backup.create",
        object_id=base,
        after={
            "engine": engine,
            "file": str(dump_path),
            "sha256": manifest.sha256,
            "size": manifest.size,
            "tables": len(row_counts),
            "rows": sum(row_counts.values()),
            "copy": str(copy_path) if copy_path else None,
        },
        note="",
    )
    return result


def backup_restore(
    *,
    path: Path | str,
    force: bool = False,
    database: Mapping[str, Any] | None = None,
    actor: Actor | None = None,
    progress: Progress | None = None,
) -> RestoreResult:
    """Restore the backup at ``path`` (its dump or its manifest) into ``database`` (default:
    the ``default`` connection; stop the web and worker processes first).

    Refuses, before touching the target: a dump whose SHA-256 differs from the manifest's, a
    dump of the other engine, and (unless ``force``) a target that holds data beyond what
    ``migrate`` creates. Afterwards every table's row count must equal the manifest's."""
    manifest_path = _manifest_path_for(Path(path))
    manifest = Manifest.from_file(manifest_path)
    dump_path = manifest_path.parent / manifest.dump
    is_default = database is None
    db = _database(database)
    engine = _engine(db)
    if manifest.engine != engine:
        dumped, target = _ENGINE_LABEL.get(manifest.engine, manifest.engine), _ENGINE_LABEL[engine]
        raise BackupEngineMismatchError(
            f"这是 {dumped} 数据库的备份，目标数据库是 {target}：只能恢复到同类数据库 / "
            f"this is a {dumped} backup and the target database is {target}: "
            "a dump can only be restored into a database of the same engine"
        )
    _verify_dump(dump_path, manifest, progress)
    if is_default:
        connections[DEFAULT_DB_ALIAS].close()
    if engine == SQLITE:
        replaced = _sqlite_restore(db, dump_path, force=force, progress=progress)
        row_counts = _sqlite_read(db, _sqlite_row_counts)
    else:
        replaced = _pg_restore(db, dump_path, force=force, progress=progress)
        row_counts = _pg_read(db, _pg_row_counts)
    _step(progress, "verify", 0, 0)
    wrong = {
        table: (expected, row_counts.get(table))
        for table, expected in manifest.row_counts.items()
        if row_counts.get(table) != expected
    }
    if wrong:
        detail = ", ".join(f"{t}: {got} ≠ {exp}" for t, (exp, got) in sorted(wrong.items()))
        raise RestoreVerificationError(
            f"恢复后的行数与备份清单不一致 / restored row counts differ from the manifest: {detail}"
        )
    if is_default:
        _audit_quietly(
            actor=actor or Actor.system("cli"),
            action="backup.restore",
            object_id=manifest_path.stem,
            after={
                "engine": engine,
                "file": str(dump_path),
                "sha256": manifest.sha256,
                "created_at": manifest.created_at,
                "replaced_tables": replaced,
            },
            note="",
        )
    return RestoreResult(
        dump_path=dump_path, manifest=manifest, row_counts=row_counts, replaced_tables=replaced
    )


def backup_keep() -> int:
    """How many daily backups to keep: ``STOREOPS_BACKUP_KEEP`` when the server sets it, else the
    longest ``backup_keep_days`` of the stores' playbooks (STORE-06; one database holds every
    store, so no store keeps fewer days than it asked for)."""
    if settings.STOREOPS_BACKUP_KEEP is not None:
        return int(settings.STOREOPS_BACKUP_KEEP)
    from storeops.stores.playbook import PlaybookSettings
    from storeops.stores.selectors import playbook_get, store_list

    days = [playbook_get(store=store).backup_keep_days for store in store_list()]
    return max(days, default=PlaybookSettings().backup_keep_days)


def backup_prune(*, keep: int, directories: list[Path | str] | None = None) -> list[Path]:
    """Keep the newest ``keep`` backups (by their manifest's creation time) in each folder and
    delete the older ones; default folders: the backup folder and, if set, the copy folder.
    Files that are not StoreOps backups, and backups whose manifest cannot be read, are left
    alone. Returns the deleted files."""
    if keep < 1:
        raise BackupError("保留份数至少为 1 / STOREOPS_BACKUP_KEEP must be at least 1")
    if directories is None:
        directories = [settings.STOREOPS_BACKUP_DIR]
        if settings.STOREOPS_BACKUP_COPY_DIR:
            directories.append(settings.STOREOPS_BACKUP_COPY_DIR)
    deleted: list[Path] = []
    for directory in map(Path, directories):
        for manifest_path, manifest in backup_list(directory=directory)[keep:]:  # newest first
            # The dump first: if interrupted, the manifest left behind lets the next prune finish the job.
            for victim in (manifest_path.parent / manifest.dump, manifest_path):
                if victim.exists():
                    victim.unlink()
                    deleted.append(victim)
    return deleted


def backup_list(*, directory: Path | str | None = None) -> list[tuple[Path, Manifest]]:
    """The readable backups in ``directory`` (default: the backup folder), newest first."""
    folder = Path(directory if directory is not None else settings.STOREOPS_BACKUP_DIR)
    found: list[tuple[Path, Manifest]] = []
    if not folder.is_dir():
        return found
    for manifest_path in folder.glob(f"{_NAME_PREFIX}*.json"):
        with contextlib.suppress(BackupError):
            found.append((manifest_path, Manifest.from_file(manifest_path)))
    found.sort(key=lambda b: (b[1].created, b[0].name), reverse=True)
    return found


def database_engine(database: Mapping[str, Any] | None = None) -> str:
    """``"sqlite"`` or ``"postgresql"`` for a ``DATABASES`` entry (default: the default connection)."""
    return _engine(_database(database))


# --------------------------------------------------------------------------------------------
# shared helpers


def _database(database: Mapping[str, Any] | None) -> Mapping[str, Any]:
    # The connection's settings, not settings.DATABASES: the test runner renames the database.
    return database if database is not None else connections[DEFAULT_DB_ALIAS].settings_dict


def _engine(db: Mapping[str, Any]) -> str:
    engine = _ENGINES.get(str(db.get("ENGINE", "")))
    if engine is None:
        raise BackupError(f"不支持的数据库类型 / unsupported database engine for backups: {db.get('ENGINE')}")
    return engine


def _unique_base(folder: Path, engine: str, created: dt.datetime) -> str:
    stem = f"{_NAME_PREFIX}{engine}-{created:%Y%m%dT%H%M%SZ}"
    base, n = stem, 1
    while (folder / f"{base}.json").exists() or (folder / f"{base}{_DUMP_SUFFIX[engine]}").exists():
        n += 1
        base = f"{stem}-{n}"
    return base


def _manifest_path_for(path: Path) -> Path:
    if path.suffix == ".json":
        candidate = path
    else:
        name = path.name
        for suffix in _DUMP_SUFFIX.values():
            if name.endswith(suffix):
                name = name[: -len(suffix)]
                break
        candidate = path.with_name(f"{name}.json")
    if not candidate.is_file():
        raise BackupError(
            f"找不到备份清单 {candidate}：没有清单无法校验备份 / "
            f"backup manifest {candidate} not found: without it the dump cannot be verified"
        )
    return candidate


def _verify_dump(dump_path: Path, manifest: Manifest, progress: Progress | None) -> None:
    if not dump_path.is_file():
        raise BackupError(f"备份文件不存在 / dump file not found: {dump_path}")
    _step(progress, "checksum", 0, 0)
    actual = _sha256(dump_path)
    if actual != manifest.sha256:
        raise BackupChecksumError(
            f"备份文件校验和不一致，文件已损坏或被改动，拒绝恢复 / checksum mismatch, the dump is damaged "
            f"or was changed; refusing to restore: {dump_path} sha256 {actual} ≠ manifest {manifest.sha256}"
        )
    with dump_path.open("rb") as fh:
        head = fh.read(8)
    if not head.startswith(_DUMP_MAGIC[manifest.engine]):
        raise BackupEngineMismatchError(
            f"备份文件不是 {_ENGINE_LABEL[manifest.engine]} 格式 / "
            f"{dump_path} is not a {_ENGINE_LABEL[manifest.engine]} dump"
        )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    with path.open("rb+") as fh:
        os.fsync(fh.fileno())


def _write_atomic(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}.partial")
    try:
        with partial.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


def _copy_verified(dump_path: Path, manifest: Manifest, manifest_path: Path, copy_dir: Path) -> Path:
    """Copy dump and manifest to the (remote) folder; the dump's copy must hash to the manifest's value."""
    copy_dir.mkdir(parents=True, exist_ok=True)
    target = copy_dir / dump_path.name
    partial = copy_dir / f".{dump_path.name}.partial"
    try:
        shutil.copyfile(dump_path, partial)
        _fsync(partial)
        copied = _sha256(partial)
        if copied != manifest.sha256:
            raise BackupChecksumError(
                f"异地副本校验失败 / the off-machine copy does not match its source: {target} "
                f"sha256 {copied} ≠ {manifest.sha256}"
            )
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    _write_atomic(copy_dir / manifest_path.name, manifest_path.read_bytes())
    return target


def _step(progress: Progress | None, step: str, done: int, total: int) -> None:
    if progress is not None:
        progress(step, done, total)


def _error_text(exc: BaseException) -> str:
    message = exc.message if isinstance(exc, DomainError) else exc
    return f"{type(exc).__name__}: {message}"[:2000]


def _audit_quietly(
    *, actor: Actor, action: str, object_id: str, after: dict[str, Any] | None, note: str
) -> None:
    """The backup itself matters more than its log line: a failure to log is reported, not raised."""
    try:
        audit_record(
            actor=actor,
            action=action,
            object_type="backup",
            object_id=object_id,
            object_repr=object_id,
            after=after,
            note=note,
        )
    except Exception:  # the database may be what failed
        import logging

        logging.getLogger("storeops.backup").exception("could not write the audit entry for %s", action)


def _has_data(row_exists: Mapping[str, bool]) -> list[str]:
    return sorted(t for t, present in row_exists.items() if present and t not in _BOOKKEEPING_TABLES)


def _not_empty_error(tables: list[str]) -> RestoreTargetNotEmpty:
    shown = ", ".join(tables[:10]) + (" …" if len(tables) > 10 else "")
    return RestoreTargetNotEmpty(
        f"目标数据库已有数据（{len(tables)} 张表：{shown}），恢复会替换全部数据；确认请加 --yes / "
        f"the target database holds data ({len(tables)} tables: {shown}); restoring replaces all of it — "
        f"confirm with --yes",
        tables=tables,
    )


# --------------------------------------------------------------------------------------------
# SQLite


def _sqlite_connect(db: Mapping[str, Any], *, must_exist: bool) -> sqlite3.Connection:
    name = str(db.get("NAME") or "")
    if name in ("", ":memory:"):
        raise BackupError(
            "无法访问未命名的内存数据库 / a private in-memory SQLite database cannot be reached"
        )
    if name.startswith("file:"):
        return sqlite3.connect(name, uri=True, timeout=20)
    if must_exist and not Path(name).is_file():
        raise BackupError(f"数据库文件不存在 / SQLite database file not found: {name}")
    return sqlite3.connect(name, timeout=20)


def _sqlite_read(
    db: Mapping[str, Any], reader: Callable[[sqlite3.Connection], dict[str, int]]
) -> dict[str, int]:
    conn = _sqlite_connect(db, must_exist=False)
    try:
        return reader(conn)
    finally:
        conn.close()


def _sqlite_tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
    )
    return sorted(r[0] for r in rows)


def _sqlite_quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sqlite_row_counts(conn: sqlite3.Connection) -> dict[str, int]:
    count = "SELECT count(*) FROM {}"  # table names come from sqlite_master, quoted
    return {t: int(conn.execute(count.format(_sqlite_quote(t))).fetchone()[0]) for t in _sqlite_tables(conn)}


def _sqlite_migrations(conn: sqlite3.Connection) -> dict[str, str]:
    if "django_migrations" not in _sqlite_tables(conn):
        return {}
    rows = conn.execute("SELECT app, max(name) FROM django_migrations GROUP BY app").fetchall()
    return {str(app): str(name) for app, name in rows}


def _sqlite_dump(
    db: Mapping[str, Any], partial: Path, progress: Progress | None
) -> tuple[dict[str, str], dict[str, int], str]:
    raw = partial.with_name(partial.name + ".db")
    raw.unlink(missing_ok=True)
    try:
        source = _sqlite_connect(db, must_exist=True)
        copy = sqlite3.connect(raw)
        try:

            def report(_status: int, remaining: int, total: int) -> None:
                _step(progress, "dump", total - remaining, total)

            # The online backup API copies a consistent snapshot while other connections keep writing.
            source.backup(copy, pages=1024, progress=report)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            check = copy.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise BackupError(f"数据库自检失败 / the SQLite copy failed its integrity check: {check}")
            migrations, counts = _sqlite_migrations(copy), _sqlite_row_counts(copy)
        finally:
            copy.close()
            source.close()
        _step(progress, "compress", 0, 0)
        with raw.open("rb") as src, gzip.open(partial, "wb", compresslevel=6) as dst:
            shutil.copyfileobj(src, dst, _CHUNK)
    finally:
        raw.unlink(missing_ok=True)
    return migrations, counts, sqlite3.sqlite_version


def _sqlite_restore(
    db: Mapping[str, Any], dump_path: Path, *, force: bool, progress: Progress | None
) -> list[str]:
    target = _sqlite_connect(db, must_exist=False)
    try:
        exists = "SELECT EXISTS (SELECT 1 FROM {})"
        replaced = _has_data(
            {
                t: target.execute(exists.format(_sqlite_quote(t))).fetchone()[0] == 1
                for t in _sqlite_tables(target)
            }
        )
        if replaced and not force:
            raise _not_empty_error(replaced)
        name = str(db.get("NAME"))
        folder = Path(name).parent if not name.startswith("file:") else Path(settings.STOREOPS_BACKUP_DIR)
        folder.mkdir(parents=True, exist_ok=True)
        raw = folder / f".{dump_path.name}.restore.db"
        try:
            _step(progress, "decompress", 0, 0)
            with gzip.open(dump_path, "rb") as src, raw.open("wb") as dst:
                shutil.copyfileobj(src, dst, _CHUNK)
            source = sqlite3.connect(raw)
            try:
                check = source.execute("PRAGMA quick_check").fetchone()[0]
                if check != "ok":
                    raise BackupError(
                        f"备份文件中的数据库已损坏 / the database in the dump is damaged: {check}"
                    )

                def report(_status: int, remaining: int, total: int) -> None:
                    _step(progress, "restore", total - remaining, total)

                # Page by page into the target, replacing its whole content in one transaction.
                source.backup(target, pages=1024, progress=report)
            finally:
                source.close()
        finally:
            raw.unlink(missing_ok=True)
            raw.with_name(raw.name + "-journal").unlink(missing_ok=True)
    finally:
        target.close()
    return replaced


# --------------------------------------------------------------------------------------------
# PostgreSQL


def _pg_params(db: Mapping[str, Any]) -> dict[str, str]:
    params = {
        "dbname": str(db.get("NAME") or ""),
        "user": str(db.get("USER") or ""),
        "password": str(db.get("PASSWORD") or ""),
        "host": str(db.get("HOST") or ""),
        "port": str(db.get("PORT") or ""),
    }
    options = db.get("OPTIONS") or {}
    params.update({k: str(v) for k, v in options.items() if k in _LIBPQ_ENV})
    return {k: v for k, v in params.items() if v}


def _pg_env(db: Mapping[str, Any]) -> dict[str, str]:
    """The environment for pg_dump / pg_restore: connection parameters (the password too) travel
    in libpq's environment variables, never on the command line where `ps` shows them."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    names = {
        "dbname": "PGDATABASE",
        "user": "PGUSER",
        "password": "PGPASSWORD",
        "host": "PGHOST",
        "port": "PGPORT",
        **_LIBPQ_ENV,
    }
    env.update({names[k]: v for k, v in _pg_params(db).items()})
    return env


def _pg_connect(db: Mapping[str, Any]) -> Any:
    import psycopg

    try:
        return psycopg.connect(psycopg.conninfo.make_conninfo(**_pg_params(db)))
    except psycopg.Error as exc:
        raise BackupError(f"无法连接 PostgreSQL / cannot connect to PostgreSQL: {exc}") from exc


def _pg_read(db: Mapping[str, Any], reader: Callable[[Any], dict[str, int]]) -> dict[str, int]:
    with contextlib.closing(_pg_connect(db)) as conn:
        return reader(conn)


def _pg_tables(conn: Any) -> list[str]:
    rows = conn.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
    ).fetchall()
    return [str(r[0]) for r in rows]


def _pg_row_counts(conn: Any) -> dict[str, int]:
    from psycopg import sql

    return {
        t: int(conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(t))).fetchone()[0])
        for t in _pg_tables(conn)
    }


def _pg_has_rows(conn: Any) -> dict[str, bool]:
    from psycopg import sql

    return {
        t: bool(
            conn.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(t))).fetchone()[0]
        )
        for t in _pg_tables(conn)
    }


def _pg_migrations(conn: Any) -> dict[str, str]:
    if "django_migrations" not in _pg_tables(conn):
        return {}
    rows = conn.execute("SELECT app, max(name) FROM django_migrations GROUP BY app").fetchall()
    return {str(app): str(name) for app, name in rows}


def _pg_binary(name: str) -> str:
    """``pg_dump``/``pg_restore`` from PATH (Debian: postgresql-client), else the newest under
    /usr/lib/postgresql/*/bin."""
    found = shutil.which(name)
    if found:
        return found
    candidates = glob.glob(f"/usr/lib/postgresql/*/bin/{name}")
    if candidates:
        return max(candidates, key=lambda p: int(re.sub(r"\D", "", Path(p).parts[-3]) or 0))
    raise BackupError(
        f"找不到 {name}，请安装 postgresql-client / {name} not found on PATH: "
        "install the postgresql-client package"
    )


def _pg_tool_major(binary: str) -> int:
    out = subprocess.run(  # noqa: S603 - our own argument list, no shell
        [binary, "--version"], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    match = re.search(r"\)\s*(\d+)", out) or re.search(r"(\d+)", out)
    if not match:
        raise BackupError(f"无法识别 {binary} 的版本 / cannot read the version of {binary}: {out!r}")
    return int(match.group(1))


def _pg_check_tool(binary: str, conn: Any) -> None:
    server_major = int(conn.info.server_version) // 10000
    tool_major = _pg_tool_major(binary)
    if tool_major < server_major:
        raise BackupError(
            f"{Path(binary).name} {tool_major} 比服务器 {server_major} 旧，请安装新版 postgresql-client / "
            f"{binary} is version {tool_major} but the server is {server_major}: install a postgresql-client "
            f"of at least version {server_major}"
        )


def _pg_run(args: list[str], db: Mapping[str, Any], what: str) -> None:
    try:
        done = subprocess.run(  # noqa: S603 - our own argument list, no shell
            args,
            env=_pg_env(db),
            capture_output=True,
            text=True,
            check=False,
            timeout=_SUBPROCESS_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BackupError(f"{what} 失败 / {what} failed: {exc}") from exc
    if done.returncode != 0:
        raise BackupError(
            f"{what} 失败 / {what} failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}"
        )


def _pg_dump(
    db: Mapping[str, Any], partial: Path, progress: Progress | None
) -> tuple[dict[str, str], dict[str, int], str]:
    import psycopg

    binary = _pg_binary("pg_dump")
    with contextlib.closing(_pg_connect(db)) as conn:
        _pg_check_tool(binary, conn)
        # One snapshot for the manifest's counts and for pg_dump: they describe the same data.
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        snapshot = str(conn.execute("SELECT pg_export_snapshot()").fetchone()[0])
        _step(progress, "count", 0, 0)
        migrations, counts = _pg_migrations(conn), _pg_row_counts(conn)
        _step(progress, "dump", 0, 0)
        _pg_run(
            [binary, "--format=custom", "--no-password", f"--snapshot={snapshot}", f"--file={partial}"],
            db,
            "pg_dump",
        )
        conn.rollback()
        version = str(conn.info.parameter_status("server_version") or "")
    return migrations, counts, version


def _pg_restore(
    db: Mapping[str, Any], dump_path: Path, *, force: bool, progress: Progress | None
) -> list[str]:
    binary = _pg_binary("pg_restore")
    with contextlib.closing(_pg_connect(db)) as conn:
        _pg_check_tool(binary, conn)
        conn.autocommit = True
        replaced = _has_data(_pg_has_rows(conn))
    if replaced and not force:
        raise _not_empty_error(replaced)
    _step(progress, "restore", 0, 0)
    # One transaction: a failing restore leaves the target as it was.
    _pg_run(
        [
            binary,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            "--no-password",
            f"--dbname={_pg_params(db).get('dbname', '')}",
            str(dump_path),
        ],
        db,
        "pg_restore",
    )
    return replaced
