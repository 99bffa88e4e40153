"""``storeops recommend rebuild [--store CODE]``: rebuild the similar/complementary table of one
store (or of every active store) now (REC-01), and print what the build holds."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from storeops.core.context import Actor
from storeops.recommend.services import neighbours_rebuild
from storeops.stores.selectors import store_list


class Command(BaseCommand):
    help = "Rebuild product recommendations (REC-01). 重建商品推荐（相似/搭配）。"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        rebuild = sub.add_parser("rebuild", help="rebuild the neighbour table now")
        rebuild.add_argument("--store", help="store code (default: every active store)")

    def handle(self, *args: Any, **options: Any) -> None:
        stores = list(store_list())
        code = options.get("store")
        if code:
            stores = [s for s in stores if s.code == code]
            if not stores:
                raise CommandError(f"店铺不存在 / no such store: {code}")
        for store in stores:
            build = neighbours_rebuild(actor=Actor.system("cli"), store=store)
            self.stdout.write(
                f"{store.code}: build #{build.pk} — {build.baskets} orders, {build.products} products, "
                f"{build.similar_rows} similar + {build.complementary_rows} complementary rows "
                f"in {build.seconds:.2f} s"
            )
