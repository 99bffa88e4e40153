"""Helpers for the behaviour tests: event batches through the real service, small files."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
from pathlib import Path
from typing import Any

from storeops.behaviour import services
from storeops.core.context import Actor

ACTOR = Actor.system("cli")
TAOBAO = Path("/work/shared/data/taobao_userbehavior_sample.csv.gz")


def ev(visitor: str, kind: str, at: dt.datetime, page: str = "", **extra: Any) -> dict[str, Any]:
    return {"visitor_id": visitor, "kind": kind, "occurred_at": at, "page_type": page, **extra}


def post(store: Any, events: list[dict[str, Any]], **kw: Any):
    return services.events_post(actor=ACTOR, store=store, events=events, **kw)


def journey(
    visitor: str, start: dt.datetime, pages: list[str], *, source: str = "", amount: str = ""
) -> list[dict[str, Any]]:
    """One visitor's session: a page view per entry (one minute apart); "cart" adds to cart
    on the product page, "pay" pays (with ``amount``)."""
    out = []
    for i, page in enumerate(pages):
        at = start + dt.timedelta(minutes=i)
        if page == "cart":
            out.append(ev(visitor, "add_to_cart", at, "product", source=source))
        elif page == "pay":
            out.append(ev(visitor, "pay", at, "pay", source=source, amount=amount or None))
        else:
            out.append(ev(visitor, "page_view", at, page, source=source))
    return out


def write_csv(
    path: Path, rows: list[list[Any]], header: list[str] | None = None, *, gz: bool = False
) -> Path:
    opener = gzip.open if gz else open
    with opener(path, "wt", newline="", encoding="utf-8") as fh:  # type: ignore[operator]
        w = csv.writer(fh)
        if header:
            w.writerow(header)
        w.writerows(rows)
    return path


def taobao_head(tmp_path: Path, n: int) -> Path:
    """The first ``n`` rows of the real Taobao sample, as a file of their own."""
    with gzip.open(TAOBAO, "rt", encoding="utf-8") as fh:
        lines = [next(fh) for _ in range(n + 1)]
    out = tmp_path / f"taobao_{n}.csv"
    out.write_text("".join(lines), encoding="utf-8")
    return out
