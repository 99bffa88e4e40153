"""Reading and validating behaviour events: files (CSV or CSV.gz, Taobao or generic layout)
and API batches. Every row is checked; a bad row is reported with its line and reason, and
the caller writes nothing when any row is bad (see ``services.events_import``).

Taobao "UserBehavior" layout (no header needed; a header row is skipped):
``user_id, item_id, category_id, behavior_type, timestamp`` with behavior types mapped as

=========  ================  ============  ===========
Taobao     kind              page type     funnel step
=========  ================  ============  ===========
``pv``     page view         product       product
``fav``    favourite         product       product (intent)
``cart``   add to cart       product       cart (intent)
``buy``    pay               pay           pay
=========  ================  ============  ===========

The data has no home/category pages, no traffic source (``--source``, default ``other``), no
dwell time and no amounts: those steps are "not observed", dwell is inferred from the next
event of the session, and revenue is unknown (counted as unpriced payments).

Generic layout: a header row with (English or Chinese names) ``visitor_id`` 访客ID*,
``kind`` 行为*, ``occurred_at`` 时间* (ISO 8601 or unix seconds), ``page_type`` 页面类型,
``customer_ref`` 会员编号, ``item_id`` 商品ID, ``category_id`` 类目ID, ``source`` 流量来源,
``dwell_seconds`` 停留秒数, ``order_ref`` 订单号, ``amount`` 支付金额.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import io
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from storeops.behaviour.models import EventKind, PageType, TrafficSource

FORMATS = ("taobao", "generic")
MAX_ERRORS_KEPT = 200  # every bad row is counted and summarised; the first ones are kept in full
_EARLIEST = int(dt.datetime(2000, 1, 1, tzinfo=dt.UTC).timestamp())
_ID_MAX = 64

TAOBAO_KINDS = {
    "pv": (EventKind.PAGE_VIEW, PageType.PRODUCT),
    "fav": (EventKind.FAVOURITE, PageType.PRODUCT),
    "cart": (EventKind.ADD_TO_CART, PageType.PRODUCT),
    "buy": (EventKind.PAY, PageType.PAY),
}
# generic files and the API may leave the page type out for actions that have a usual page
DEFAULT_PAGE = {
    EventKind.FAVOURITE: PageType.PRODUCT,
    EventKind.ADD_TO_CART: PageType.PRODUCT,
    EventKind.ORDER: PageType.CHECKOUT,
    EventKind.PAY: PageType.PAY,
}
GENERIC_COLUMNS: dict[str, tuple[str, ...]] = {
    "visitor_id": ("visitor_id", "访客ID"),
    "kind": ("kind", "行为"),
    "occurred_at": ("occurred_at", "时间"),
    "page_type": ("page_type", "页面类型"),
    "customer_ref": ("customer_ref", "会员编号"),
    "item_id": ("item_id", "商品ID"),
    "category_id": ("category_id", "类目ID"),
    "source": ("source", "流量来源"),
    "dwell_seconds": ("dwell_seconds", "停留秒数"),
    "order_ref": ("order_ref", "订单号"),
    "amount": ("amount", "支付金额"),
}
GENERIC_REQUIRED = ("visitor_id", "kind", "occurred_at")


@dataclass(frozen=True, slots=True)
class ParsedEvent:
    visitor_id: str
    kind: str
    page_type: str
    ts: int  # unix seconds
    source: str
    item_id: str = ""
    category_id: str = ""
    customer_ref: str = ""
    dwell_seconds: int | None = None
    order_ref: str = ""
    amount: Decimal | None = None


@dataclass(frozen=True, slots=True)
class RowError:
    line: int  # file line (header = 1) or 1-based position in an API batch
    field: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "message": self.message}

    def __str__(self) -> str:
        return _("第%(line)s行 %(field)s：%(message)s") % {
            "line": self.line,
            "field": self.field,
            "message": self.message,
        }


@dataclass
class Parsed:
    events: list[ParsedEvent] = field(default_factory=list)
    rows: int = 0
    bad_rows: int = 0
    errors: list[RowError] = field(default_factory=list)  # the first MAX_ERRORS_KEPT
    summary: Counter[str] = field(default_factory=Counter)  # message → bad rows

    def reject(self, errors: list[RowError]) -> None:
        self.bad_rows += 1
        for e in errors:
            self.summary[f"{e.field}: {e.message}"] += 1
            if len(self.errors) < MAX_ERRORS_KEPT:
                self.errors.append(e)


def file_fingerprint(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def open_text(path: Path) -> io.TextIOBase:
    """A CSV file or a gzip-compressed one (recognised by its magic bytes), as UTF-8 text
    (a BOM is skipped)."""
    with path.open("rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    raw = gzip.open(path, "rb") if gz else path.open("rb")  # noqa: SIM115  (the caller closes it)
    return io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")  # type: ignore[arg-type]


def _now_limit() -> int:
    return int(timezone.now().timestamp()) + 86400


def _ident(value: str, name: str, errors: list[RowError], line: int, *, required: bool) -> str:
    value = value.strip()
    if not value:
        if required:
            errors.append(RowError(line, name, _("不能为空")))
        return ""
    if len(value) > _ID_MAX:
        errors.append(RowError(line, name, _("不能超过 %(n)s 个字符") % {"n": _ID_MAX}))
    return value


def _unix(value: Any, errors: list[RowError], line: int, limit: int) -> int:
    ts: int | None = None
    if isinstance(value, dt.datetime):
        moment = value if timezone.is_aware(value) else timezone.make_aware(value)
        ts = int(moment.timestamp())
    else:
        text = str(value or "").strip()
        if text.isdigit():
            ts = int(text)
        elif text:
            parsed = parse_datetime(text)
            if parsed is not None:
                ts = int((parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)).timestamp())
    if ts is None:
        errors.append(RowError(line, "occurred_at", _("时间格式无效（应为 Unix 秒或 ISO 8601）")))
        return 0
    if not _EARLIEST <= ts <= limit:
        errors.append(RowError(line, "occurred_at", _("时间超出合理范围（2000 年至今）")))
    return ts


def parse_taobao_row(
    row: list[str], line: int, *, source: str, limit: int
) -> tuple[ParsedEvent | None, list[RowError]]:
    errors: list[RowError] = []
    if len(row) != 5:
        return None, [
            RowError(
                line,
                "row",
                _("应有 5 列（user_id,item_id,category_id,behavior_type,timestamp），实有 %(n)s 列")
                % {"n": len(row)},
            )
        ]
    visitor = _ident(row[0], "user_id", errors, line, required=True)
    item = _ident(row[1], "item_id", errors, line, required=True)
    category = _ident(row[2], "category_id", errors, line, required=False)
    mapped = TAOBAO_KINDS.get(row[3].strip())
    if mapped is None:
        errors.append(RowError(line, "behavior_type", _("只能是 pv、fav、cart 或 buy")))
    ts = _unix(row[4], errors, line, limit)
    if errors or mapped is None:
        return None, errors
    kind, page = mapped
    return ParsedEvent(visitor, kind.value, page.value, ts, source, item, category), []


def _dwell(value: str, errors: list[RowError], line: int) -> int | None:
    if not value:
        return None
    try:
        dwell = int(value)
    except ValueError:
        dwell = -1
    if not 0 <= dwell <= 86400:
        errors.append(RowError(line, "dwell_seconds", _("须为 0 到 86400 之间的整数秒")))
    return dwell


def _amount(value: str, kind: str, errors: list[RowError], line: int) -> Decimal | None:
    if not value:
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        amount = Decimal(-1)
    if not amount.is_finite() or amount < 0 or amount >= 10**12 or amount != amount.quantize(Decimal("0.01")):
        errors.append(RowError(line, "amount", _("须为不小于 0、最多两位小数的金额")))
    elif kind != EventKind.PAY:
        errors.append(RowError(line, "amount", _("只有支付事件可以带金额")))
    return amount


def validate_event(
    values: Mapping[str, Any], line: int, *, limit: int, default_source: str = ""
) -> tuple[ParsedEvent | None, list[RowError]]:
    """One event of a generic file or an API batch (values as text or already typed)."""
    errors: list[RowError] = []

    def text(name: str) -> str:
        value = values.get(name)
        return "" if value is None else str(value).strip()

    visitor = _ident(text("visitor_id"), "visitor_id", errors, line, required=True)
    kind = text("kind")
    if kind not in EventKind.values:
        errors.append(RowError(line, "kind", _("只能是 %(v)s") % {"v": "、".join(EventKind.values)}))
    page = text("page_type") or (DEFAULT_PAGE.get(EventKind(kind), "") if kind in EventKind.values else "")
    if not page:
        if kind in EventKind.values:  # an unknown kind is reported already
            errors.append(RowError(line, "page_type", _("浏览事件必须填写页面类型")))
    elif page not in PageType.values:
        errors.append(RowError(line, "page_type", _("只能是 %(v)s") % {"v": "、".join(PageType.values)}))
    source = text("source") or default_source or TrafficSource.OTHER.value
    if source not in TrafficSource.values:
        errors.append(RowError(line, "source", _("只能是 %(v)s") % {"v": "、".join(TrafficSource.values)}))
    ts = _unix(values.get("occurred_at"), errors, line, limit)
    dwell = _dwell(text("dwell_seconds"), errors, line)
    amount = _amount(text("amount"), kind, errors, line)
    item = _ident(text("item_id"), "item_id", errors, line, required=False)
    category = _ident(text("category_id"), "category_id", errors, line, required=False)
    customer = _ident(text("customer_ref"), "customer_ref", errors, line, required=False)
    order_ref = _ident(text("order_ref"), "order_ref", errors, line, required=False)
    if errors:
        return None, errors
    return ParsedEvent(
        visitor, kind, page, ts, source, item, category, customer, dwell, order_ref, amount
    ), []


def _header_index(header: list[str]) -> tuple[dict[str, int], list[RowError]]:
    names = [h.strip() for h in header]
    index: dict[str, int] = {}
    for canonical, aliases in GENERIC_COLUMNS.items():
        for alias in aliases:
            if alias in names:
                index[canonical] = names.index(alias)
                break
    missing = [c for c in GENERIC_REQUIRED if c not in index]
    errors = [RowError(1, c, _("缺少必填列")) for c in missing]
    return index, errors


ProgressFn = Any  # Callable[[int], None] | None: rows read so far


def parse_file(path: Path, *, fmt: str, source: str = "", progress: ProgressFn = None) -> Parsed:
    """Read and check every row of ``path``. ``source``: the traffic source given to rows
    that name none (Taobao rows never do)."""
    if fmt not in FORMATS:
        raise ValueError(fmt)
    parsed = Parsed()
    with open_text(path) as fh:
        reader: Iterator[list[str]] = csv.reader(fh)
        first = next(reader, None)
        if first is None:
            parsed.reject([RowError(1, "file", _("文件是空的"))])
        elif fmt == "taobao":
            _parse_taobao(parsed, first, reader, source=source, progress=progress)
        else:
            _parse_generic(parsed, first, reader, source=source, progress=progress)
    if progress is not None:
        progress(parsed.rows)
    return parsed


_TAOBAO_HEADER = ["user_id", "item_id", "category_id", "behavior_type", "timestamp"]


def _parse_taobao(
    parsed: Parsed, first: list[str], reader: Iterator[list[str]], *, source: str, progress: ProgressFn
) -> None:
    limit = _now_limit()
    rows: Iterator[tuple[int, list[str]]] = enumerate(reader, start=2)
    if [c.strip() for c in first] != _TAOBAO_HEADER:  # no header: the first row is data
        rows = _chain_first(first, rows)
    source = source or TrafficSource.OTHER.value
    for line, row in rows:
        if not row:
            continue
        parsed.rows += 1
        event, errors = parse_taobao_row(row, line, source=source, limit=limit)
        if event is None:
            parsed.reject(errors)
        else:
            parsed.events.append(event)
        if progress is not None and parsed.rows % 10000 == 0:
            progress(parsed.rows)


def _parse_generic(
    parsed: Parsed, first: list[str], reader: Iterator[list[str]], *, source: str, progress: ProgressFn
) -> None:
    limit = _now_limit()
    index, header_errors = _header_index(first)
    if header_errors:
        parsed.reject(header_errors)
        return
    for line, row in enumerate(reader, start=2):
        if not any(c.strip() for c in row):
            continue
        parsed.rows += 1
        values = {name: row[i] if i < len(row) else "" for name, i in index.items()}
        event, errors = validate_event(values, line, limit=limit, default_source=source)
        if event is None:
            parsed.reject(errors)
        else:
            parsed.events.append(event)
        if progress is not None and parsed.rows % 10000 == 0:
            progress(parsed.rows)


def _chain_first(first: list[str], rest: Iterator[tuple[int, list[str]]]) -> Iterator[tuple[int, list[str]]]:
    """The first row was data, not a header: yield it as line 1, then the others (which were
    numbered from 2 already)."""
    yield 1, first
    yield from rest
