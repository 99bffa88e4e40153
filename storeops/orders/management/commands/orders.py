"""``storeops orders import FILE --store CODE --channel CODE [--mapping NAME] [--dry-run]``:
import a marketplace order export (.csv or .xlsx; Tmall/Taobao, JD, Douyin, Pinduoduo or a
saved mapping): validated all or nothing, then written in batches in this process (no
worker needed); a run that failed part-way is finished by running it again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console

from storeops.core.context import Actor
from storeops.core.errors import DomainError
from storeops.orders.imports import channel_get, orders_import
from storeops.stores.models import Store

MAX_ERRORS_SHOWN = 200


class Command(BaseCommand):
    help = "Import marketplace orders. 导入渠道订单（天猫/淘宝、京东、抖音、拼多多导出文件）。"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="import a marketplace order export (.csv or .xlsx)")
        imp.add_argument("file")
        imp.add_argument("--store", required=True, help="store code")
        imp.add_argument("--channel", required=True, help="channel code")
        imp.add_argument("--mapping", help="name of a saved column mapping (default: detect)")
        imp.add_argument("--dry-run", action="store_true", help="validate only, write nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        console = Console()
        store = Store.objects.filter(code=options["store"]).first()
        if store is None:
            raise CommandError(f"店铺不存在 / no such store: {options['store']}")
        path = Path(options["file"])
        if not path.exists():
            raise CommandError(f"文件不存在 / no such file: {path}")
        try:
            channel = channel_get(store=store, code=options["channel"])
            report = orders_import(
                actor=Actor.system("cli"),
                store=store,
                channel=channel,
                source=path,
                filename=path.name,
                mapping_name=options.get("mapping"),
                dry_run=options["dry_run"],
            )
        except DomainError as exc:
            raise CommandError(str(exc.message)) from exc
        for error in report.errors[:MAX_ERRORS_SHOWN]:
            console.print(f"[red]{error}[/red]")
        if len(report.errors) > MAX_ERRORS_SHOWN:
            console.print(f"… 另有 {len(report.errors) - MAX_ERRORS_SHOWN} 个错误")
        console.print(
            f"格式 {report.format_label or '-'}：{report.rows} 行"
            f"（跳过未付款/已关闭 {report.rows_skipped} 行），订单 {report.orders_total} 笔，"
            f"新建 {report.orders_created} 笔，已存在 {report.orders_existing} 笔，"
            f"缺货未预占 {report.orders_unreserved} 笔，错误 {len(report.errors)} 个"
        )
        if report.failed_writing:
            raise CommandError(
                f"导入中途失败 / failed part-way: {report.orders_created} 单已导入并保留 (kept); "
                "再次运行同一命令补上其余订单 / run it again to add the rest"
            )
        if report.errors:
            raise CommandError("有错误行，未导入任何订单 / nothing imported: fix the rows above")
        if report.dry_run:
            console.print("试运行：未写入任何数据 / dry run: nothing written")
        elif report.orders_created == 0 and report.orders_existing:
            console.print("文件中的订单均已导入过 / already imported")
