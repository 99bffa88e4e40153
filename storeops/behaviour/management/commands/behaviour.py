"""``storeops behaviour import FILE --store CODE [--format taobao|generic] [--channel CODE]
[--source SOURCE]``: import shopper behaviour events from a CSV or CSV.gz file, all or nothing
(see :mod:`storeops.behaviour.services`). Exit status 1 when the file had bad rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from storeops.behaviour import ingest, services
from storeops.behaviour.models import TrafficSource
from storeops.core.context import Actor
from storeops.core.errors import DomainError
from storeops.stores.selectors import channel_list, store_list

MAX_ERRORS_SHOWN = 20


class Command(BaseCommand):
    help = "Import shopper behaviour events. 导入顾客行为事件（CSV / CSV.gz）。"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="import a .csv or .csv.gz file of events")
        imp.add_argument("file")
        imp.add_argument("--store", required=True, help="store code")
        imp.add_argument("--format", default="taobao", choices=ingest.FORMATS)
        imp.add_argument("--channel", help="channel code the events belong to (default: none)")
        imp.add_argument(
            "--source",
            default="",
            choices=("", *TrafficSource.values),
            help="traffic source of rows that name none (Taobao rows never do; default: other)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        console = Console(stderr=False)
        store = store_list(active_only=False).filter(code=options["store"]).first()
        if store is None:
            raise CommandError(f"店铺不存在 / no such store: {options['store']}")
        channel = None
        if options.get("channel"):
            channel = channel_list(store=store).filter(code=options["channel"]).first()
            if channel is None:
                raise CommandError(f"渠道不存在 / no such channel: {options['channel']}")
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"文件不存在 / no such file: {path}")
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar:
            reading = bar.add_task("读取并校验 / reading", total=None)
            writing = bar.add_task("写入 / writing", total=None, visible=False)

            def progress(phase: str, done: int, total: int) -> None:
                if phase == "read":
                    bar.update(reading, completed=done)
                else:
                    bar.update(writing, completed=done, total=total, visible=True)

            try:
                run = services.events_import(
                    actor=Actor.system("cli"),
                    store=store,
                    path=path,
                    fmt=options["format"],
                    channel=channel,
                    source=options["source"],
                    progress=progress,
                )
            except DomainError as exc:
                details = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
                raise CommandError(f"{exc.message} {details}".strip()) from exc
        if run.status != "imported":
            console.print(
                f"[red]{run.rows} 行中 {run.bad_rows} 行有误，未导入任何数据 / nothing imported[/red]"
            )
            console.print("错误汇总 / bad rows by reason:")
            for reason, count in list(run.error_summary.items())[:MAX_ERRORS_SHOWN]:
                console.print(f"  {count:>8}  {reason}")
            console.print("前几行 / first bad rows:")
            for e in run.errors[:MAX_ERRORS_SHOWN]:
                console.print(f"  第{e['line']}行 line {e['line']}  {e['field']}: {e['message']}")
            raise CommandError(f"导入失败，记录 {run.pk} / import {run.pk} failed")
        rate = run.imported / float(run.seconds) if run.seconds else 0
        console.print(
            f"已导入 {run.imported} 个事件，{run.sessions} 个新会话，{run.linked} 个关联到商品，"
            f"用时 {run.seconds} 秒（{rate:,.0f} 行/秒）/ imported {run.imported} events "
            f"({run.first_at:%Y-%m-%d %H:%M} – {run.last_at:%Y-%m-%d %H:%M} UTC), import {run.pk}"
        )
