"""``storeops restore PATH [--yes]``: restore a backup made by ``storeops backup`` (SOP STORE-06).

Stop the web and worker processes first. The dump's checksum is verified against its
manifest, a dump of the other database engine is refused, and a database that already holds
data is only replaced with ``--yes``. Afterwards every table's row count is checked.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn
from rich.table import Table

from storeops.backups.services import backup_restore
from storeops.core.context import Actor
from storeops.core.errors import DomainError

STEPS = {
    "checksum": "校验 checksum",
    "decompress": "解压 decompressing",
    "restore": "恢复 restoring",
    "verify": "核对行数 verifying row counts",
}


class Command(BaseCommand):
    help = "Restore a database backup (SOP STORE-06). 从备份恢复数据库。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="the backup's dump file or its .json manifest")
        parser.add_argument(
            "--yes", action="store_true", help="replace the data of a database that is not empty (no prompt)"
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
            task = bar.add_task("恢复 restore", total=None)

            def progress(step: str, done: int, total: int) -> None:
                bar.update(task, description=STEPS.get(step, step), completed=done, total=total or None)

            try:
                result = backup_restore(
                    path=options["path"], force=options["yes"], actor=Actor.system("cli"), progress=progress
                )
            except DomainError as exc:
                raise CommandError(str(exc.message)) from exc
        m = result.manifest
        table = Table(show_header=False, title="恢复完成 restore verified")
        table.add_column(style="bold", no_wrap=True)
        table.add_column(overflow="fold")
        table.add_row("file", str(result.dump_path))
        table.add_row("backup taken", m.created_at)
        table.add_row("tables / rows", f"{len(result.row_counts)} / {sum(result.row_counts.values()):,}")
        table.add_row("replaced tables", str(len(result.replaced_tables)))
        Console().print(table)
