"""``storeops sop check [--rule ID] [--store CODE]`` and ``storeops sop list``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from storeops.core.errors import DomainError
from storeops.sop.registry import all_checks
from storeops.sop.services import checks_run
from storeops.stores.models import Store


class Command(BaseCommand):
    help = "Run or list the SOP checks. 运行或列出 SOP 检查。"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        check = sub.add_parser("check", help="run checks now")
        check.add_argument("--rule", help="only this rule, e.g. STORE-02")
        check.add_argument("--store", help="only this store (code)")
        check.add_argument("--no-notify", action="store_true", help="do not send notifications")
        sub.add_parser("list", help="list registered checks")

    def handle(self, *args: Any, **options: Any) -> None:
        console = Console()
        if options["action"] == "list":
            table = Table("rule", "title", "owner", "schedule")
            for c in all_checks():
                table.add_row(c.rule, c.title, c.owner_role.label, c.schedule.value)
            console.print(table)
            return
        store = None
        if options.get("store"):
            store = Store.objects.filter(code=options["store"]).first()
            if store is None:
                raise CommandError(f"店铺不存在 / no such store: {options['store']}")
        rules = [options["rule"].upper()] if options.get("rule") else [c.rule for c in all_checks()]
        n_stores = 1 if store else Store.objects.filter(is_active=True).count()
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task("SOP checks", total=len(rules) * n_stores)

            def step(check: Any, st: Any) -> None:
                progress.update(task, advance=1, description=f"{check.rule} · {st.code}")

            try:
                results = checks_run(
                    rule=options.get("rule"), store=store, notify=not options["no_notify"], progress=step
                )
            except DomainError as exc:
                raise CommandError(str(exc.message)) from exc
        table = Table("rule", "store", "new", "still open", "resolved", "error")
        by_id = {s.pk: s.code for s in Store.objects.all()}
        for r in results:
            table.add_row(
                r.rule,
                by_id.get(r.store_id, str(r.store_id)),
                str(r.raised),
                str(r.still_open),
                str(r.resolved),
                r.error[:60],
            )
        console.print(table)
        failed = [r for r in results if r.error]
        if failed:
            raise CommandError(f"{len(failed)} check run(s) failed")
