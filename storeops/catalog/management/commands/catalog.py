"""``storeops catalog import FILE --kind products --store CODE [--partial]`` and
``storeops catalog export FILE --kind products --store CODE`` (CSV or .xlsx by extension)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from storeops.catalog.imports import KINDS, catalog_import, export_rows, write_table
from storeops.core.context import Actor
from storeops.core.errors import DomainError
from storeops.stores.models import Store

MAX_ERRORS_SHOWN = 200


class Command(BaseCommand):
    help = "Import or export catalog data. 导入/导出商品、价格、供应商、销售、市场与竞品价格数据。"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="import a .csv or .xlsx file")
        imp.add_argument("file")
        imp.add_argument("--kind", required=True, choices=KINDS)
        imp.add_argument("--store", help="store code (default: the only store)")
        imp.add_argument("--partial", action="store_true", help="import the valid rows even if some are bad")
        exp = sub.add_parser("export", help="export to a .csv or .xlsx file")
        exp.add_argument("file")
        exp.add_argument("--kind", required=True, choices=("products", "prices", "suppliers"))
        exp.add_argument("--store", help="store code (default: the only store)")

    def _store(self, code: str | None) -> Store:
        if code:
            store = Store.objects.filter(code=code).first()
            if store is None:
                raise CommandError(f"店铺不存在 / no such store: {code}")
            return store
        stores = list(Store.objects.all()[:2])
        if len(stores) != 1:
            raise CommandError("请用 --store 指定店铺 / pass --store CODE")
        return stores[0]

    def handle(self, *args: Any, **options: Any) -> None:
        console = Console()
        store = self._store(options.get("store"))
        path = Path(options["file"])
        actor = Actor.system("cli")
        if options["action"] == "export":
            header, rows = export_rows(store=store, kind=options["kind"])
            n = write_table(path, header, rows, xlsx=path.suffix.lower() == ".xlsx")
            console.print(f"已导出 {n} 行 → {path}")
            return
        if not path.exists():
            raise CommandError(f"文件不存在 / no such file: {path}")
        started = time.monotonic()
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task(f"导入 {options['kind']}", total=None)

            def step(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            try:
                report = catalog_import(
                    actor=actor,
                    store=store,
                    kind=options["kind"],
                    source=path,
                    partial=options["partial"],
                    progress=step,
                )
            except DomainError as exc:
                raise CommandError(str(exc.message)) from exc
        for error in report.errors[:MAX_ERRORS_SHOWN]:
            console.print(f"[red]{error}[/red]")
        if len(report.errors) > MAX_ERRORS_SHOWN:
            console.print(f"… 另有 {len(report.errors) - MAX_ERRORS_SHOWN} 个错误")
        seconds = time.monotonic() - started
        console.print(
            f"{report.rows} 行，导入 {report.imported} 个，"
            f"错误 {len(report.errors)} 个，用时 {seconds:.1f} 秒"
        )
        if report.errors and not report.partial:
            raise CommandError(
                "有错误行，未导入任何数据 / nothing imported: fix the rows above or use --partial"
            )
