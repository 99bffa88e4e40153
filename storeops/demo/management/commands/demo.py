"""``storeops demo``: migrate, load the demo store, run the SOP checks, print the logins,
serve the console. ``--no-serve`` does everything but serve."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from rich.console import Console
from rich.table import Table

from storeops.demo.loader import demo_load, demo_logins
from storeops.sop.services import checks_run


class Command(BaseCommand):
    help = "Set up and serve a demo store. 初始化并启动示例店铺。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-serve", action="store_true", help="set up only, do not start the web server"
        )
        parser.add_argument("--addr", default="127.0.0.1:8000", help="address:port to serve on")

    def handle(self, *args: Any, **options: Any) -> None:
        console = Console()
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        with console.status("迁移数据库 / migrating the database…"):
            call_command("migrate", interactive=False, verbosity=0)
        with console.status("载入示例店铺 / loading the demo store…"):
            store, created = demo_load()
        with console.status("运行 SOP 检查 / running the SOP checks…"):
            results = checks_run(store=store, notify=False)
        raised = sum(r.raised for r in results)
        console.print(
            f"[green]✓[/] {'已创建' if created else '已存在'}示例店铺 {store.name} · "
            f"SOP 检查新增问题 {raised} 个 / demo store {'created' if created else 'present'}, "
            f"{raised} new findings"
        )
        host = options["addr"] if "://" in options["addr"] else f"http://{options['addr']}"
        console.print(f"控制台 / console:  [bold]{host}/[/]")
        console.print(f"管理后台 / admin:  {host}/admin/    API 文档 / docs: {host}/api/v1/docs")
        table = Table()
        table.add_column("角色 / role")
        table.add_column("用户名 / username")
        table.add_column("密码 / password")
        for login in demo_logins():
            table.add_row(f"{login.role.label} ({login.role.value})", login.username, login.password)
        console.print(table)
        console.print(f"数据库 / database: {settings.DATABASES['default']['NAME']}")
        if options["no_serve"]:
            return
        call_command("collectstatic", interactive=False, verbosity=0)
        console.print(f"[bold]Serving on {host}/ — Ctrl+C to stop[/]")
        call_command("runserver", options["addr"], use_reloader=False)
