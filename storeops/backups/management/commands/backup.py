"""``storeops backup [--output DIR]``: dump the database now (SOP STORE-06).

Without ``--output`` the backup goes to ``STOREOPS_BACKUP_DIR`` (and ``STOREOPS_BACKUP_COPY_DIR``
when set), and older backups there beyond the retention are deleted (the playbook's
``backup_keep_days``, or ``STOREOPS_BACKUP_KEEP`` when the server sets it). With
``--output`` it goes to that folder only and nothing is deleted.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn
from rich.table import Table

from storeops.backups.services import backup_create, backup_keep, backup_prune
from storeops.core.context import Actor
from storeops.core.errors import DomainError

STEPS = {
    "count": "统计行数 counting rows",
    "dump": "导出 dumping",
    "compress": "压缩 compressing",
    "checksum": "校验 checksum",
    "copy": "异地副本 off-machine copy",
}


class Command(BaseCommand):
    help = "Back up the database (SOP STORE-06). 备份数据库。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output",
            metavar="DIR",
            help="folder for this backup (default: STOREOPS_BACKUP_DIR, with retention)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        console = Console(stderr=True)
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task("备份 backup", total=None)

            def progress(step: str, done: int, total: int) -> None:
                bar.update(task, description=STEPS.get(step, step), completed=done, total=total or None)

            try:
                result = backup_create(
                    output_dir=options.get("output"), actor=Actor.system("cli"), progress=progress
                )
                pruned = [] if options.get("output") else backup_prune(keep=backup_keep())
            except DomainError as exc:
                raise CommandError(str(exc.message)) from exc
        m = result.manifest
        table = Table(show_header=False, title="备份完成 backup written")
        table.add_column(style="bold", no_wrap=True)
        table.add_column(overflow="fold")
        table.add_row("file", str(result.dump_path))
        table.add_row("engine", m.engine)
        table.add_row("size", f"{m.size:,} bytes")
        table.add_row("sha256", m.sha256)
        table.add_row("tables / rows", f"{len(m.row_counts)} / {sum(m.row_counts.values()):,}")
        table.add_row(
            "copy", str(result.copy_path) if result.copy_path else "— (STOREOPS_BACKUP_COPY_DIR unset)"
        )
        table.add_row("deleted (retention)", str(len(pruned)))
        Console().print(table)
