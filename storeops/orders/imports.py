"""Marketplace order import (issue 6, item 3): Tmall/Taobao, JD, Douyin and Pinduoduo order
exports (CSV or .xlsx) — or any other layout through a user-saved column mapping — become
paid orders: validated all or nothing, then written in batches.

- Each built-in format is one declarative :class:`FormatSpec`: our field → the header
  aliases the channel uses. The format of a file is detected from its header row.
- Every row is parsed and validated first (unknown SKU code, bad quantity or amount, missing
  address…); every problem is reported in Chinese with the file's own line number (the
  header is line 1). When any row is bad, no order is written (like ``catalog.imports``).
- A multi-line order is several rows with the same order number; its order-level columns
  (address, amount, times) must agree on every row.
- Good files are written in batches of at most :data:`IMPORT_BATCH_ORDERS` orders (and
  :data:`IMPORT_BATCH_SECONDS`), one transaction each, so no write transaction holds the
  SQLite write lock (checkouts, payments) for long; the :class:`OrderImport` record is created
  ("running") before the first batch and its counters are updated inside each batch's
  transaction, so it always matches what is committed. A batch that fails is rolled back,
  the earlier ones stay, the record says how many orders were imported, and importing the
  same file again adds the rest: an order is created at most once per channel order number
  (checked in the batch's transaction and by the unique constraint, also against an import
  of the same file running at the same time).
- The console and the API import a file with more new orders than the playbook's
  ``order_import_inline_orders`` in the background: the file is saved under the var
  directory, the record is "queued" and the worker (``storeops run_huey``) runs
  :func:`order_import_run`, which validates it again, writes it the same way and deletes the
  file. ``imports_sweep`` (every minute) re-queues a queued import the queue lost and fails an
  import whose worker stopped (no progress for :data:`IMPORT_STALLED_AFTER`).
- Good files create orders through the order rules: status paid (a marketplace exports
  paid orders), ``source=import``, number = the channel's order number (importing the same
  file again creates nothing: "already imported"), the lines' paid totals from the file (an
  order-only amount is apportioned over the lines), stock reserved through the allocator like
  a storefront order — or, when stock is short, left unreserved so the automatic review holds
  the order as out of stock (ORD-01/ORD-04) — a ``paid`` event and ``ship_by`` from the
  channel's playbook (ORD-03).
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import logging
import re
import shutil
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from storeops.audit.services import audit_record
from storeops.catalog import selectors as catalog_selectors
from storeops.catalog.imports import RowError
from storeops.core.context import Actor
from storeops.core.errors import Conflict, DomainError, NotFound, ValidationError
from storeops.core.files import csv_text, datetime_cell, read_bytes, workbook_rows
from storeops.core.money import Money, apportion
from storeops.inventory import services as inventory_services
from storeops.marketing import selectors as marketing_selectors
from storeops.members import selectors as member_selectors
from storeops.orders import rules
from storeops.orders import services as order_services
from storeops.orders.models import (
    Order,
    OrderImport,
    OrderImportMapping,
    OrderImportStatus,
    OrderLine,
    Source,
)
from storeops.stores.models import Channel, Store
from storeops.stores.selectors import playbook_get

S = rules.Status
_CENT = Decimal("0.01")
MAX_ERRORS_STORED = 1000
logger = logging.getLogger(__name__)

# Writing: one transaction per batch of at most this many orders, closed early once it has run
# this long (~30-50 ms per order on SQLite), so other writers wait at most about that long.
IMPORT_BATCH_ORDERS = 100
IMPORT_BATCH_SECONDS = 2.0
# SQLite has no queue for its write lock: a writer waiting in its busy handler retries every
# 100 ms, and a batch begun right after the last commit would take the lock again first, every
# time. The pause between batches lets waiting writers in (not needed on PostgreSQL's row locks).
IMPORT_BATCH_PAUSE = 0.15
# A running import whose record has not moved for this long has lost its worker: it is failed.
IMPORT_STALLED_AFTER = dt.timedelta(minutes=30)
# A queued import not started after this long is handed to the queue again (it may have been lost).
IMPORT_REQUEUE_AFTER = dt.timedelta(minutes=10)
_EXISTING_CHUNK = 500  # order numbers per "already imported?" query (SQLite's variable limit)

# --- the formats ---------------------------------------------------------------------------------

# Our fields and what they mean (labels are shown in error messages and the console, each in
# the reader's language: ``_label``).
FIELDS: dict[str, str] = {
    "order_no": gettext_noop("订单号"),
    "buyer": gettext_noop("买家"),
    "receiver": gettext_noop("收货人"),
    "phone": gettext_noop("电话"),
    "full_address": gettext_noop("收货地址"),
    "province": gettext_noop("省"),
    "city": gettext_noop("市"),
    "district": gettext_noop("区"),
    "address": gettext_noop("详细地址"),
    "sku_code": gettext_noop("商家编码"),
    "title": gettext_noop("商品名称"),
    "quantity": gettext_noop("数量"),
    "unit_price": gettext_noop("单价"),
    "line_amount": gettext_noop("行实付金额"),
    "order_amount": gettext_noop("订单实付金额"),
    "status": gettext_noop("订单状态"),
    "created_at": gettext_noop("下单时间"),
    "paid_at": gettext_noop("付款时间"),
    "buyer_note": gettext_noop("买家留言"),
    # optional, for a saved column mapping: the buyer's IP and device (RISK-01 brushing review)
    "client_ip": gettext_noop("下单IP"),
    "device_id": gettext_noop("设备标识"),
}
# Order-level fields: every row of one order must carry the same value.
_ORDER_FIELDS = ("buyer", "receiver", "phone", "full_address", "province", "city", "district", "address",
                 "order_amount", "created_at", "paid_at", "client_ip", "device_id")  # fmt: skip
_ALWAYS_REQUIRED = ("order_no", "receiver", "phone", "sku_code", "quantity")

# Marketplace order states that mean "not paid" / "closed": such rows are skipped, not imported.
_NOT_PAID_STATES = frozenset(
    {"等待买家付款", "待付款", "未付款", "交易关闭", "已关闭", "已取消", "订单取消", "取消", "交易取消"}
)


@dataclass(frozen=True, slots=True)
class FormatSpec:
    """A channel export layout: our field → the header aliases it may carry."""

    code: str
    label: str
    channel_kinds: tuple[str, ...]
    columns: Mapping[str, tuple[str, ...]]

    def resolve(self, header: Sequence[str]) -> dict[str, int] | None:
        """Column index of each field found in ``header``; ``None`` when a required one is missing."""
        return _resolve(self.columns, header)


BUILTIN_FORMATS: tuple[FormatSpec, ...] = (
    FormatSpec(
        code="tmall",
        label=gettext_noop("天猫/淘宝"),  # the console shows it in the reader's language
        channel_kinds=("tmall", "taobao"),
        columns={
            "order_no": ("订单编号",),
            "buyer": ("买家会员名", "买家昵称"),
            "receiver": ("收货人姓名",),
            "phone": ("联系手机", "联系电话"),
            "full_address": ("收货地址",),
            "title": ("宝贝标题", "商品标题"),
            "sku_code": ("商家编码", "商家编码（SKU）", "SKU商家编码"),
            "quantity": ("购买数量", "宝贝总数量"),
            "unit_price": ("价格", "宝贝单价"),
            "order_amount": ("实付款", "买家实际支付金额"),
            "status": ("订单状态",),
            "created_at": ("订单创建时间",),
            "paid_at": ("订单付款时间",),
            "buyer_note": ("买家留言",),
        },
    ),
    FormatSpec(
        code="jd",
        label=gettext_noop("京东"),  # the console shows it in the reader's language
        channel_kinds=("jd",),
        columns={
            "order_no": ("订单号",),
            "buyer": ("下单帐号", "下单账号"),
            "receiver": ("客户姓名",),
            "phone": ("联系电话",),
            "full_address": ("客户地址",),
            "title": ("商品名称",),
            "sku_code": ("商家SKU", "商品编号", "SKU"),
            "quantity": ("订购数量",),
            "unit_price": ("京东价",),
            "order_amount": ("应付金额",),
            "status": ("订单状态",),
            "created_at": ("下单时间",),
            "paid_at": ("付款确认时间",),
            "buyer_note": ("订单备注",),
        },
    ),
    FormatSpec(
        code="douyin",
        label=gettext_noop("抖音"),  # the console shows it in the reader's language
        channel_kinds=("douyin",),
        columns={
            "order_no": ("主订单编号",),
            "buyer": ("达人昵称", "买家昵称"),
            "receiver": ("收件人",),
            "phone": ("收件人手机号",),
            "province": ("省",),
            "city": ("市",),
            "district": ("区",),
            "address": ("详细地址", "街道"),
            "title": ("选购商品", "商品名称"),
            "sku_code": ("商家编码",),
            "quantity": ("商品数量",),
            "unit_price": ("商品单价",),
            "order_amount": ("订单应付金额",),
            "status": ("订单状态",),
            "created_at": ("订单提交时间",),
            "paid_at": ("支付完成时间",),
            "buyer_note": ("买家留言",),
        },
    ),
    FormatSpec(
        code="pinduoduo",
        label=gettext_noop("拼多多"),  # the console shows it in the reader's language
        channel_kinds=("pinduoduo",),
        columns={
            "order_no": ("订单号",),
            "receiver": ("收货人",),
            "phone": ("手机",),
            "province": ("省",),
            "city": ("市",),
            "district": ("区",),
            "address": ("街道",),
            "title": ("商品",),
            "sku_code": ("商家编码-SKU维度",),
            "quantity": ("商品数量(件)",),
            "order_amount": ("商家实收金额(元)",),
            "status": ("订单状态",),
            "created_at": ("订单成交时间",),
            "paid_at": ("订单成交时间",),
            "buyer_note": ("商家备注",),
        },
    ),
)
FORMATS_BY_CODE = {spec.code: spec for spec in BUILTIN_FORMATS}


def _norm_header(text: str) -> str:
    return re.sub(r"\s+", "", text).replace("（", "(").replace("）", ")").lower()


def _resolve(columns: Mapping[str, Sequence[str]], header: Sequence[str]) -> dict[str, int] | None:
    positions = {_norm_header(h): i for i, h in reversed(list(enumerate(header))) if h.strip()}
    index: dict[str, int] = {}
    for name, aliases in columns.items():
        for alias in aliases:
            if _norm_header(alias) in positions:
                index[name] = positions[_norm_header(alias)]
                break
    if any(name not in index for name in _ALWAYS_REQUIRED):
        return None
    if "order_amount" not in index and "line_amount" not in index:
        return None
    if "full_address" not in index and not {"province", "address"} <= set(index):
        return None
    return index


def mapping_problems(mapping: Any) -> dict[str, str]:
    """What is wrong with a user mapping (``{field: [header, …]}``); empty: usable."""
    if not isinstance(mapping, dict) or not mapping:
        return {"mapping": _("列映射应为 {字段: [表头, …]}")}
    errors: dict[str, str] = {}
    for key, value in mapping.items():
        if key not in FIELDS:
            errors[f"mapping.{key}"] = _("未知字段，可选：%(f)s") % {"f": ", ".join(FIELDS)}
            continue
        aliases = [value] if isinstance(value, str) else value
        if (
            not isinstance(aliases, list)
            or not aliases
            or not all(isinstance(a, str) and a.strip() and len(a) <= 60 for a in aliases)
        ):
            errors[f"mapping.{key}"] = _("请填写表头名称（文字或文字列表）")
    for name in _ALWAYS_REQUIRED:
        if name not in mapping:
            errors.setdefault(f"mapping.{name}", _("必须映射：%(f)s") % {"f": _(FIELDS[name])})
    if "order_amount" not in mapping and "line_amount" not in mapping:
        errors.setdefault("mapping.order_amount", _("订单实付金额和行实付金额至少映射一个"))
    if "full_address" not in mapping and not {"province", "address"} <= set(mapping):
        errors.setdefault("mapping.full_address", _("请映射收货地址，或映射省和详细地址"))
    return errors


def _mapping_columns(mapping: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    return {k: (v,) if isinstance(v, str) else tuple(v) for k, v in mapping.items()}


@dataclass(frozen=True, slots=True)
class Layout:
    """The layout chosen for a file: a built-in format or a saved mapping, with column indexes."""

    code: str
    label: str
    index: dict[str, int]
    mapping: OrderImportMapping | None = None


def detect_layout(
    header: Sequence[str], *, store: Store, channel: Channel, mapping_name: str | None = None
) -> Layout:
    """The layout of a file from its header row: the named saved mapping, else the built-in
    format that fits (the channel's own first), else a saved mapping of the channel's kind.
    Raises ValidationError when none fits or the file belongs to another marketplace."""
    if mapping_name:
        saved = OrderImportMapping.objects.filter(store=store, name=mapping_name).first()
        if saved is None:
            raise ValidationError(
                _("列映射不存在：%(m)s") % {"m": mapping_name}, fields={"mapping": _("不存在")}
            )
        index = _resolve(_mapping_columns(saved.mapping), header)
        if index is None:
            raise ValidationError(
                _("文件表头与列映射“%(m)s”不符") % {"m": saved.name}, fields={"file": _("表头不符")}
            )
        return Layout(f"mapping:{saved.name}", saved.name, index, saved)
    fits = [(spec, spec.resolve(header)) for spec in BUILTIN_FORMATS]
    candidates = [(spec, index) for spec, index in fits if index is not None]
    own = [(spec, index) for spec, index in candidates if channel.kind in spec.channel_kinds]
    if own:
        spec, index = max(own, key=lambda c: len(c[1]))
        return Layout(spec.code, spec.label, index)
    for saved in OrderImportMapping.objects.filter(store=store, channel_kind=channel.kind):
        index = _resolve(_mapping_columns(saved.mapping), header)
        if index is not None:
            return Layout(f"mapping:{saved.name}", saved.name, index, saved)
    if candidates:
        spec, index = max(candidates, key=lambda c: len(c[1]))
        if channel.kind in {k for s in BUILTIN_FORMATS for k in s.channel_kinds}:
            raise ValidationError(
                _("文件是%(f)s的导出格式，与渠道“%(c)s”不符") % {"f": spec.label, "c": channel.name},
                fields={"channel": _("渠道与文件格式不符")},
            )
        return Layout(spec.code, spec.label, index)
    raise ValidationError(
        _("无法识别文件格式：表头不是天猫/淘宝、京东、抖音或拼多多的订单导出，也不符合已保存的列映射"),
        fields={"file": _("无法识别的表头")},
    )


# --- reading -------------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):  # Excel numbers: what was typed, not binary noise
        return str(int(value)) if value == int(value) else format(Decimal(repr(value)).normalize(), "f")
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    # marketplaces protect long numbers from Excel as ="123…" or with a leading tab / quote
    if text.startswith('="') and text.endswith('"'):
        text = text[2:-1]
    return text.lstrip("'\t").strip()


def read_rows(source: str | Path | IO[bytes], filename: str = "") -> list[tuple[int, list[str]]]:
    """(line number, cells) of a .csv (UTF-8 with or without BOM, or GB18030 as Chinese
    marketplaces often export) or .xlsx file; the header is line 1. A file that cannot be
    read is a 422 (``core.files``)."""
    name = (filename or str(getattr(source, "name", source))).lower()
    if name.endswith((".xlsx", ".xlsm")):
        return [
            (line, [_cell(v) for v in values]) for line, values in enumerate(workbook_rows(source), start=1)
        ]
    raw = Path(source).read_bytes() if isinstance(source, str | Path) else read_bytes(source)
    return [
        (line, [_cell(c) for c in cells])
        for line, cells in enumerate(csv.reader(io.StringIO(csv_text(raw))), 1)
    ]


# --- parsing and validation ----------------------------------------------------------------------


class _Bad(Exception):
    def __init__(self, field_name: str, message: str):
        self.field = field_name
        self.message = message


@dataclass
class _Row:
    line: int
    values: dict[str, str]
    sku_id: int = 0
    quantity: int = 0
    line_amount: Decimal | None = None
    unit_price: Decimal | None = None


@dataclass
class ParsedOrder:
    number: str
    first_line: int
    rows: list[_Row]
    buyer: str = ""
    address: order_services.AddressIn | None = None
    order_amount: Decimal | None = None
    created_at: dt.datetime | None = None
    paid_at: dt.datetime | None = None
    buyer_note: str = ""
    client_ip: str | None = None
    device_id: str = ""


@dataclass
class ImportReport:
    """What an import found and did (also returned for a dry run, which writes nothing)."""

    file_format: str = ""
    format_label: str = ""
    rows: int = 0
    rows_skipped: int = 0
    orders_total: int = 0
    orders_created: int = 0
    orders_existing: int = 0
    orders_unreserved: int = 0
    errors: list[RowError] = field(default_factory=list)
    order_numbers: list[str] = field(default_factory=list)
    record: OrderImport | None = None
    dry_run: bool = False
    queued: bool = False  # handed to the worker (see order_import_run); nothing written yet
    running: bool = False  # being written
    failed_writing: bool = False  # the file was good but a batch failed: earlier batches stay

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def status(self) -> str:
        if self.errors:
            return OrderImportStatus.FAILED
        if self.queued:
            return OrderImportStatus.QUEUED
        if self.running:
            return OrderImportStatus.RUNNING
        if self.orders_created == 0 and self.orders_existing > 0:
            return OrderImportStatus.ALREADY
        return OrderImportStatus.IMPORTED


def _label(name: str) -> str:
    return _(FIELDS.get(name, name))


def _text(row: _Row, name: str, *, required: bool = False, max_length: int = 200) -> str:
    value = row.values.get(name, "").strip()
    if required and not value:
        raise _Bad(name, _("必填"))
    if len(value) > max_length:
        raise _Bad(name, _("超过%(n)s个字符") % {"n": max_length})
    return value


def _money(raw: str, name: str) -> Decimal:
    text = raw.replace(",", "").replace("¥", "").replace("￥", "").replace("元", "").strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise _Bad(name, _("不是有效的金额：%(v)s") % {"v": raw}) from None
    if not value.is_finite():
        raise _Bad(name, _("不是有效的金额：%(v)s") % {"v": raw})
    if value != value.quantize(_CENT):
        raise _Bad(name, _("金额最多两位小数：%(v)s") % {"v": raw})
    if value < 0:
        raise _Bad(name, _("金额不能为负"))
    if value >= Decimal("1e12"):
        raise _Bad(name, _("金额过大"))
    return value.quantize(_CENT)


def _when(raw: str, name: str) -> dt.datetime | None:
    try:
        return datetime_cell(raw)
    except ValueError:
        raise _Bad(name, _("时间格式应为 YYYY-MM-DD HH:MM:SS：%(v)s") % {"v": raw.strip()}) from None


def _parse_line(row: _Row, skus: dict[str, Any], store: Store) -> None:
    _text(row, "order_no", required=True, max_length=64)
    code = _text(row, "sku_code", required=True, max_length=64)
    if code not in skus:
        skus[code] = catalog_selectors.sku_get_by_code(store=store, code=code)
    sku = skus[code]
    if sku is None:
        raise _Bad("sku_code", _("未知的商家编码：%(c)s") % {"c": code})
    row.sku_id = sku.pk
    raw_qty = _text(row, "quantity", required=True)
    try:
        qty = int(Decimal(raw_qty))
        if Decimal(raw_qty) != qty:
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        raise _Bad("quantity", _("数量不是整数：%(v)s") % {"v": raw_qty}) from None
    if qty < 1:
        raise _Bad("quantity", _("数量必须大于0"))
    if qty > 100_000:
        raise _Bad("quantity", _("数量过大"))
    row.quantity = qty
    if row.values.get("line_amount", "").strip():
        row.line_amount = _money(row.values["line_amount"], "line_amount")
    if row.values.get("unit_price", "").strip():
        row.unit_price = _money(row.values["unit_price"], "unit_price")


def _parse_order_fields(order: ParsedOrder, row: _Row) -> None:
    """The order-level fields, read from the order's first row."""
    receiver = _text(row, "receiver", required=True, max_length=50)
    phone = _text(row, "phone", required=True, max_length=30)
    if "full_address" in row.values and not row.values.get("province", "").strip():
        full = _text(row, "full_address", max_length=300)
        if not full:
            raise _Bad("full_address", _("收货地址缺失"))
        province, city, district, detail = rules.split_address(full)
        if not province or not detail:
            raise _Bad("full_address", _("收货地址不完整（需含省、市和详细地址）：%(a)s") % {"a": full})
    else:
        province = _text(row, "province", max_length=30)
        city = _text(row, "city", max_length=30)
        district = _text(row, "district", max_length=30)
        detail = _text(row, "address", max_length=200)
        if not province and not detail:
            raise _Bad("address", _("收货地址缺失"))
        if not province:
            raise _Bad("province", _("必填"))
        if not detail:
            raise _Bad("address", _("必填"))
    order.address = order_services.AddressIn(
        receiver=receiver,
        phone=phone,
        province=province[:30],
        city=city[:30],
        district=district[:30],
        address=detail[:200],
    )
    order.buyer = _text(row, "buyer", max_length=60) or phone
    if row.values.get("order_amount", "").strip():
        order.order_amount = _money(row.values["order_amount"], "order_amount")
    order.created_at = _when(row.values.get("created_at", ""), "created_at")
    order.paid_at = _when(row.values.get("paid_at", ""), "paid_at")
    order.buyer_note = row.values.get("buyer_note", "").strip()[:300]
    raw_ip = row.values.get("client_ip", "").strip()
    if raw_ip:
        order.client_ip = rules.ip_normal(raw_ip)
        if order.client_ip is None:
            raise _Bad("client_ip", _("不是有效的IP地址：%(v)s") % {"v": raw_ip[:60]})
    order.device_id = row.values.get("device_id", "").strip()
    if order.device_id and not rules.device_id_valid(order.device_id):
        raise _Bad(
            "device_id",
            _("设备标识无效：最多%(n)s个字符，只能包含字母、数字和 . _ : -") % {"n": rules.DEVICE_ID_MAX},
        )


def _check_amounts(order: ParsedOrder) -> None:
    rows = order.rows
    if order.order_amount is None and any(r.line_amount is None for r in rows):
        bad = next(r for r in rows if r.line_amount is None)
        raise _LineBad(bad.line, "order_amount", _("缺少实付金额"))
    if order.order_amount is not None and all(r.line_amount is not None for r in rows):
        total = sum((r.line_amount or Decimal("0") for r in rows), Decimal("0"))
        if total != order.order_amount:
            raise _LineBad(
                order.first_line,
                "order_amount",
                _("各行实付金额之和 %(s)s 与订单实付金额 %(t)s 不一致")
                % {"s": total, "t": order.order_amount},
            )


class _LineBad(Exception):
    def __init__(self, line: int, field_name: str, message: str):
        self.line = line
        self.field = field_name
        self.message = message


def parse(
    table: Iterable[tuple[int, list[str]]],
    *,
    store: Store,
    channel: Channel,
    mapping_name: str | None = None,
    report: ImportReport,
) -> tuple[Layout | None, list[ParsedOrder]]:
    """Detect the layout, parse and validate every row; problems go to ``report.errors``."""
    rows = iter(table)
    try:
        _line, header = next(rows)
    except StopIteration:
        report.errors.append(RowError(1, "", _("文件为空")))
        return None, []
    layout = detect_layout(header, store=store, channel=channel, mapping_name=mapping_name)
    report.file_format, report.format_label = layout.code, layout.label
    orders: dict[str, ParsedOrder] = {}
    skus: dict[str, Any] = {}
    for line, cells in rows:
        if not any(cells):
            continue
        report.rows += 1
        row = _Row(line, {k: (cells[i] if i < len(cells) else "") for k, i in layout.index.items()})
        if row.values.get("status", "").strip() in _NOT_PAID_STATES:
            report.rows_skipped += 1
            continue
        try:
            _parse_line(row, skus, store)
            number = row.values["order_no"].strip()
            order = orders.get(number)
            if order is None:
                order = orders[number] = ParsedOrder(number=number, first_line=line, rows=[])
                _parse_order_fields(order, row)
            else:
                first = order.rows[0] if order.rows else None
                for name in _ORDER_FIELDS:
                    if (
                        first is not None
                        and row.values.get(name, "").strip() != first.values.get(name, "").strip()
                    ):
                        raise _Bad(name, _("与第%(l)s行同一订单的信息不一致") % {"l": order.first_line})
            order.rows.append(row)
        except _Bad as exc:
            report.errors.append(RowError(line, _label(exc.field), exc.message))
    good = [o for o in orders.values() if o.rows and o.address is not None]
    for order in good:
        try:
            _check_amounts(order)
        except _LineBad as exc:
            report.errors.append(RowError(exc.line, _label(exc.field), exc.message))
    report.errors.sort(key=lambda e: e.line)
    report.orders_total = len(orders)
    return layout, good


# --- writing -------------------------------------------------------------------------------------


def _line_amounts(order: ParsedOrder, skus: Mapping[int, Any], currency: str) -> list[Decimal]:
    """What each line was paid: the file's line amounts, or the order amount apportioned over
    the lines by their list value (unit price × quantity; the catalog price when the file
    gives none)."""
    if all(r.line_amount is not None for r in order.rows):
        return [r.line_amount or Decimal("0") for r in order.rows]
    assert order.order_amount is not None
    weights = [
        Money((r.unit_price if r.unit_price is not None else skus[r.sku_id].price) * r.quantity, currency)
        for r in order.rows
    ]
    return [m.amount for m in apportion(Money(order.order_amount, currency), weights)]


def order_import_create(
    *,
    actor: Actor,
    store: Store,
    channel: Channel,
    order: ParsedOrder,
    now: dt.datetime | None = None,
    member_tier: str = "",
) -> tuple[Order, bool]:
    """Create one validated marketplace order as paid, through the order rules. Returns
    ``(order, reserved)``: ``reserved`` is False when stock was short and the order was left
    unreserved for the automatic review to hold as out of stock (ORD-01/ORD-04).
    ``member_tier`` is the buyer's tier in StoreOps' members (MEM-01: a diamond member's order
    ships sooner), read once per file by the caller.

    Call inside a transaction (the import wraps each batch of a file's orders in one)."""
    now = now or timezone.now()
    if channel.store_id != store.pk:
        raise ValidationError(_("渠道不属于该店铺"), fields={"channel": _("渠道不属于该店铺")})
    if Order.objects.filter(store=store, channel=channel, number=order.number).exists():
        raise Conflict(_("订单 %(n)s 已导入过") % {"n": order.number}, code="already_imported")
    assert order.address is not None
    skus = catalog_selectors.skus_by_id(store=store, ids=sorted({r.sku_id for r in order.rows}))
    currency = store.currency
    paid = _line_amounts(order, skus, currency)
    paid_at = order.paid_at or order.created_at or now
    created_at = min(order.created_at or paid_at, paid_at)
    lines = []
    for row, amount in zip(order.rows, paid, strict=True):
        sku = skus[row.sku_id]
        unit = row.unit_price if row.unit_price is not None else (amount / row.quantity).quantize(_CENT)
        list_total = max(unit * row.quantity, amount)
        lines.append((row, sku, unit, list_total, amount))
    payable = sum((a for *_x, a in lines), Decimal("0.00"))
    list_sum = sum((lt for *_x, lt, _a in lines), Decimal("0.00"))
    address = order.address
    is_new = order_services.is_new_customer(store, order.buyer)
    row_order = Order.objects.create(
        store=store,
        channel=channel,
        number=order.number,
        source=Source.IMPORT,
        customer_ref=order.buyer[:64],
        is_new_customer=is_new,
        member_tier=rules.member_tier_snapshot(member_tier),
        receiver=address.receiver,
        phone=address.phone,
        province=address.province,
        city=address.city,
        district=address.district,
        address=address.address,
        currency=currency,
        list_total=list_sum,
        discount_total=list_sum - payable,
        payable=payable,
        buyer_note=order.buyer_note,
        client_ip=order.client_ip,
        device_id=order.device_id,
        pricing={"imported": {"channel": channel.code, "line": order.first_line}},
        created_at=created_at,
        # AS-02: paid on the platform while a big promotion of the store was live
        is_big_promo=marketing_selectors.big_promo_live(store=store, channel=channel, at=paid_at),
    )
    need: dict[int, int] = {}
    for position, (row, sku, unit, list_total, amount) in enumerate(lines, start=1):
        OrderLine.objects.create(
            order=row_order,
            position=position,
            sku_id=sku.pk,
            sku_code=sku.code,
            title=(row.values.get("title", "").strip() or sku.product.title)[:200],
            quantity=row.quantity,
            unit_price=unit,
            list_total=list_total,
            discount=list_total - amount,
            paid_total=amount,
        )
        need[sku.pk] = need.get(sku.pk, 0) + row.quantity
    order_services._event(
        row_order, actor, "imported", dst=S.CREATED, at=created_at, payable=payable, lines=len(lines)
    )
    audit_record(
        actor=actor,
        action="order.import",
        obj=row_order,
        store_id=store.pk,
        after={"payable": payable, "channel": channel.code, "source": Source.IMPORT},
    )
    reserved = _reserve(row_order, actor=actor, store=store, channel=channel, need=need, skus=skus)
    row_order = order_services.order_mark_paid_on_marketplace(actor=actor, order=row_order, paid_at=paid_at)
    return row_order, reserved


def _reserve(
    order: Order,
    *,
    actor: Actor,
    store: Store,
    channel: Channel,
    need: dict[int, int],
    skus: Mapping[int, Any],
) -> bool:
    """Reserve the order's stock where the allocator says (ORD-02), all or nothing."""
    playbook = playbook_get(store=store, channel=channel)
    address = order_services.AddressIn(
        receiver=order.receiver,
        phone=order.phone,
        province=order.province,
        city=order.city,
        district=order.district,
        address=order.address,
    )
    try:
        with transaction.atomic():  # a savepoint: a shortfall undoes only the reservation
            legs = order_services._allocation_plan(
                store=store, playbook=playbook, address=address, need=need, skus=skus
            )
            for warehouse, sku_id, qty in legs:
                inventory_services.stock_reserve(
                    actor=actor,
                    sku=skus[sku_id],
                    warehouse=warehouse,
                    quantity=qty,
                    reference=f"order:{order.number}",
                )
                order_services._allocate_to_lines(order, sku_id, warehouse, qty)
    except inventory_services.InsufficientStock as exc:
        order_services._event(order, actor, "stock_short", note=str(exc.message))
        return False
    return True


def _actor_user(actor: Actor) -> Any:
    user = actor.user
    return user if user is not None and getattr(user, "pk", None) else None


def orders_import(
    *,
    actor: Actor,
    store: Store,
    channel: Channel,
    source: str | Path | IO[bytes],
    filename: str = "",
    mapping_name: str | None = None,
    dry_run: bool = False,
    now: dt.datetime | None = None,
    background: bool = False,
) -> ImportReport:
    """Import a marketplace order export. The whole file is read and validated first: a bad
    row (or a dry run) writes no order. The orders are then written in batches, one
    transaction each (see the module docstring); orders already imported (same channel order
    number) are skipped, so importing a file again adds only what is missing — which is how
    an import that failed part-way is finished. A file whose orders all exist reports
    "already imported". Every import but a dry run is recorded as an OrderImport.

    With ``background`` (the console and the API), a file with more new orders than the
    playbook's ``order_import_inline_orders`` is not written here: it is saved under the var
    directory and queued for the worker (``report.queued``; see :func:`order_import_run`)."""
    now = now or timezone.now()
    if channel.store_id != store.pk:
        raise ValidationError(_("渠道不属于该店铺"), fields={"channel": _("渠道不属于该店铺")})
    filename = (filename or Path(str(getattr(source, "name", source))).name)[:200]
    report = ImportReport(dry_run=dry_run)
    layout, orders, existing = _prepare(
        report, source=source, filename=filename, store=store, channel=channel, mapping_name=mapping_name
    )
    ctx = _Context(actor=actor, store=store, channel=channel, filename=filename, layout=layout, now=now)
    if dry_run or report.errors:
        if not dry_run:
            _finish(report, ctx)
        return report
    todo = [o for o in orders if o.number not in existing]
    if background and len(todo) > playbook_get(store=store, channel=channel).order_import_inline_orders:
        _queue(report, ctx, source)
        return report
    report.running = True
    record = _record(report, **ctx.kwargs())
    _write(report, todo, ctx, record)
    return report


@dataclass(frozen=True, slots=True)
class _Context:
    """Who imports what, for the record and the orders."""

    actor: Actor
    store: Store
    channel: Channel
    filename: str
    layout: Layout | None
    now: dt.datetime
    # the buyers' member tiers (MEM-01), read once per file by _write
    tiers: Mapping[str, str] = field(default_factory=dict)

    def kwargs(self) -> dict[str, Any]:
        return {
            "actor": self.actor,
            "store": self.store,
            "channel": self.channel,
            "filename": self.filename,
            "layout": self.layout,
            "now": self.now,
        }


def _prepare(
    report: ImportReport,
    *,
    source: str | Path | IO[bytes],
    filename: str,
    store: Store,
    channel: Channel,
    mapping_name: str | None,
) -> tuple[Layout | None, list[ParsedOrder], set[str]]:
    """Read, parse and validate the whole file; the orders and the numbers already imported."""
    try:
        table = read_rows(source, filename)
    except ValidationError:
        raise
    except (csv.Error, OSError, KeyError, ValueError, TypeError) as exc:
        raise ValidationError(_("无法读取文件：%(e)s") % {"e": exc}, fields={"file": str(exc)[:200]}) from exc
    except Exception as exc:  # openpyxl raises its own errors for corrupt workbooks
        raise ValidationError(
            _("无法读取文件：%(e)s") % {"e": exc}, fields={"file": _("不是有效的文件")}
        ) from exc
    layout, orders = parse(table, store=store, channel=channel, mapping_name=mapping_name, report=report)
    numbers = [o.number for o in orders]
    existing: set[str] = set()
    for start in range(0, len(numbers), _EXISTING_CHUNK):
        existing.update(
            Order.objects.filter(
                store=store, channel=channel, number__in=numbers[start : start + _EXISTING_CHUNK]
            ).values_list("number", flat=True)
        )
    report.orders_existing = len(existing)
    return layout, orders, existing


class _Stopped(Exception):
    """The record is no longer queued or running (e.g. failed as stalled): stop writing."""


def _create_once(order: ParsedOrder, ctx: _Context) -> tuple[Order, bool] | None:
    """Create one order, or ``None`` when its channel order number exists — also when an
    import of the same file running at the same time created it a moment ago (PostgreSQL:
    the unique constraint; SQLite serialises the write transactions)."""
    try:
        with transaction.atomic():  # a savepoint: a duplicate undoes only this order
            return order_import_create(
                actor=ctx.actor,
                store=ctx.store,
                channel=ctx.channel,
                order=order,
                now=ctx.now,
                member_tier=ctx.tiers.get(order.buyer[:64], ""),
            )
    except Conflict as exc:
        if exc.code != "already_imported":
            raise
        return None
    except IntegrityError:
        if Order.objects.filter(store=ctx.store, channel=ctx.channel, number=order.number).exists():
            return None
        raise


def _write(report: ImportReport, todo: Sequence[ParsedOrder], ctx: _Context, record: OrderImport) -> None:
    """Write the validated orders in batches, one transaction each, with the record's counters
    updated in the same transaction; then finish the record (status, audit). A failing batch
    is rolled back and fails the import; the batches before it stay."""
    ctx = dataclasses.replace(
        ctx, tiers=member_selectors.member_tiers(ctx.store, (o.buyer[:64] for o in todo))
    )
    position = batch = 0
    while position < len(todo):
        batch += 1
        committed = (report.orders_created, report.orders_existing, report.orders_unreserved)
        numbers = len(report.order_numbers)
        started = time.monotonic()
        end = position
        try:
            with transaction.atomic():
                # the stock rows this batch may reserve, locked up front in the checkouts' order
                batch_orders = todo[position : position + IMPORT_BATCH_ORDERS]
                inventory_services.stock_lock_for_reservations(
                    store=ctx.store, sku_ids={r.sku_id for o in batch_orders for r in o.rows}
                )
                while end < len(todo) and end - position < IMPORT_BATCH_ORDERS:
                    if end > position and time.monotonic() - started >= IMPORT_BATCH_SECONDS:
                        break
                    created = _create_once(todo[end], ctx)
                    end += 1
                    if created is None:  # imported meanwhile (another import of the same file)
                        report.orders_existing += 1
                        continue
                    report.orders_created += 1
                    report.orders_unreserved += 0 if created[1] else 1
                    report.order_numbers.append(created[0].number)
                _record(report, record=record, **ctx.kwargs())
        except _Stopped:  # failed meanwhile (imports_sweep): its errors say what to do
            report.orders_created, report.orders_existing, report.orders_unreserved = committed
            del report.order_numbers[numbers:]
            report.running = False
            report.failed_writing = True
            record.refresh_from_db()
            report.errors.extend(error_rows(record))
            return
        except Exception as exc:  # any error fails the import; the batch is rolled back
            report.orders_created, report.orders_existing, report.orders_unreserved = committed
            del report.order_numbers[numbers:]
            if not isinstance(exc, DomainError | IntegrityError):
                logger.exception("order import %s: batch %s failed", record.pk, batch)
            report.running = False
            report.failed_writing = True
            message = exc.message if isinstance(exc, DomainError) else f"{type(exc).__name__}: {exc}"
            report.errors.append(
                RowError(
                    0,
                    "",
                    _(
                        "写入第 %(b)s 批订单时出错，该批已撤销：%(e)s。之前的批次已导入 %(c)s 单并保留，"
                        "其余 %(r)s 单未导入；再次导入同一文件即可补上其余订单"
                        "（已导入的订单按渠道和订单号跳过，不会重复）。"
                    )
                    % {
                        "b": batch,
                        "e": message,
                        "c": report.orders_created,
                        "r": report.orders_total - report.orders_created - report.orders_existing,
                    },
                )
            )
            break
        position = end
        if position < len(todo):
            _between_batches()
    report.running = False
    _finish(report, ctx, record)


def _between_batches() -> None:
    """Outside any transaction, before the next batch: let waiting writers in (SQLite)."""
    if connection.vendor == "sqlite":
        time.sleep(IMPORT_BATCH_PAUSE)


def _finish(report: ImportReport, ctx: _Context, record: OrderImport | None = None) -> None:
    """The final state of the record (created now for a file refused by validation), and the
    audit entry of the import."""
    try:
        record = _record(report, record=record, **ctx.kwargs())
    except _Stopped:
        if record is not None:
            record.refresh_from_db()
        return
    audit_record(
        actor=ctx.actor,
        action="order.import_file",
        obj=record,
        store_id=ctx.store.pk,
        after={
            "file": record.file_name,
            "status": record.status,
            "created": record.orders_created,
            "errors": len(report.errors),
        },
    )


def import_dir() -> Path:
    """Where queued import files wait for the worker."""
    return Path(settings.VAR_DIR) / "imports"


def stored_file(record: OrderImport) -> Path:
    """The saved upload of a queued import: ``<var>/imports/<record id>-<safe file name>``."""
    safe = re.sub(r"[^\w.-]+", "_", Path(record.file_name).name).lstrip(".")[-100:] or "file"
    return import_dir() / f"{record.pk}-{safe}"


def _queue(report: ImportReport, ctx: _Context, source: str | Path | IO[bytes]) -> None:
    """Save the file, record the import as queued and hand it to the worker once committed."""
    report.queued = True
    record = _record(report, **ctx.kwargs())
    path = stored_file(record)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(source, str | Path):
            shutil.copyfile(source, path)
        else:
            source.seek(0)
            with path.open("wb") as out:
                shutil.copyfileobj(source, out)
    except OSError as exc:
        path.unlink(missing_ok=True)
        report.queued = False
        report.errors.append(RowError(0, "", _("无法保存文件以供后台导入：%(e)s") % {"e": exc}))
        _finish(report, ctx, record)
        return
    record_id = record.pk
    transaction.on_commit(lambda: _enqueue(record_id))


def _enqueue(import_id: int) -> None:
    from storeops.orders.tasks import order_import_task

    try:
        order_import_task(import_id)
    except Exception:  # the record stays queued: imports_sweep hands it to the queue again
        logger.exception("order import %s could not be queued; the sweep retries", import_id)


def order_import_run(*, import_id: int) -> OrderImport | None:
    """Run a queued import (the worker's task): validate the saved file again (the catalog may
    have changed since it was queued), write it in batches, delete the file. Does nothing
    unless the import is still queued, so a task delivered twice imports once."""
    if not OrderImport.objects.filter(pk=import_id, status=OrderImportStatus.QUEUED).update(
        status=OrderImportStatus.RUNNING, updated_at=timezone.now()
    ):
        return OrderImport.objects.filter(pk=import_id).first()
    record = OrderImport.objects.select_related("store", "channel", "mapping", "created_by").get(pk=import_id)
    path = stored_file(record)
    saved = Layout(record.file_format, record.file_format, {}, record.mapping)
    ctx = _Context(
        actor=Actor(user=record.created_by, via="task"),
        store=record.store,
        channel=record.channel,
        filename=record.file_name,
        layout=saved,
        now=record.created_at,
    )
    report = ImportReport(running=True)
    try:
        try:
            layout, orders, existing = _prepare(
                report,
                source=path,
                filename=record.file_name,
                store=record.store,
                channel=record.channel,
                mapping_name=record.mapping.name if record.mapping else None,
            )
        except DomainError as exc:
            layout, orders, existing = None, [], set()
            report.errors.append(RowError(0, "", str(exc.message)))
        ctx = _Context(**{**ctx.kwargs(), "layout": layout or saved})
        if report.errors:
            report.running = False
            _finish(report, ctx, record)
            return record
        _record(report, record=record, **ctx.kwargs())  # the figures of this reading, still running
        _write(report, [o for o in orders if o.number not in existing], ctx, record)
    except Exception as exc:
        logger.exception("order import %s failed", import_id)
        _fail(record, _("后台导入出错：%(e)s") % {"e": f"{type(exc).__name__}: {exc}"})
    finally:
        path.unlink(missing_ok=True)
    record.refresh_from_db()
    return record


def _fail(record: OrderImport, message: str) -> bool:
    """Fail a queued or running import with ``message`` (its committed orders stay)."""
    errors = [*record.errors, {"line": 0, "field": "", "message": message}][:MAX_ERRORS_STORED]
    with transaction.atomic():
        done = OrderImport.objects.filter(
            pk=record.pk, status__in=(OrderImportStatus.QUEUED, OrderImportStatus.RUNNING)
        ).update(status=OrderImportStatus.FAILED, errors=errors, updated_at=timezone.now())
        if done:
            record.refresh_from_db()
            audit_record(
                actor=Actor.system("task"),
                action="order.import_file",
                obj=record,
                store_id=record.store_id,
                after={
                    "file": record.file_name,
                    "status": record.status,
                    "created": record.orders_created,
                    "errors": len(record.errors),
                },
            )
    return bool(done)


def imports_sweep(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Every minute (``orders.tasks.orders_sweep``): hand queued imports not started after
    :data:`IMPORT_REQUEUE_AFTER` to the queue again (the start is a no-op for a copy already
    taken), and fail running imports without progress for :data:`IMPORT_STALLED_AFTER` (their
    worker stopped; the orders of their committed batches stay)."""
    now = now or timezone.now()
    requeued = stalled = 0
    queued = OrderImport.objects.filter(
        status=OrderImportStatus.QUEUED, updated_at__lt=now - IMPORT_REQUEUE_AFTER
    )
    for record in queued:
        if not stored_file(record).exists():
            stalled += _fail(record, _("待导入的文件已不存在，请重新上传。"))
            continue
        if OrderImport.objects.filter(pk=record.pk, status=OrderImportStatus.QUEUED).update(updated_at=now):
            _enqueue(record.pk)
            requeued += 1
    running = OrderImport.objects.filter(
        status=OrderImportStatus.RUNNING, updated_at__lt=now - IMPORT_STALLED_AFTER
    )
    for record in running:
        message = _(
            "后台导入中断（%(m)s 分钟没有进展，后台任务进程可能已重启）。已导入 %(c)s 单并保留；"
            "再次导入同一文件即可补上其余订单。"
        ) % {"m": int(IMPORT_STALLED_AFTER.total_seconds() // 60), "c": record.orders_created}
        if _fail(record, message):
            stalled += 1
            stored_file(record).unlink(missing_ok=True)
    return {"imports_requeued": requeued, "imports_failed": stalled}


def _record(
    report: ImportReport,
    *,
    actor: Actor,
    store: Store,
    channel: Channel,
    filename: str,
    layout: Layout | None,
    now: dt.datetime,
    record: OrderImport | None = None,
) -> OrderImport:
    """Create the import's record, or (``record``) bring it up to date with ``report`` — only
    while it is queued or running, else :class:`_Stopped`."""
    fresh = OrderImport(
        store=store,
        channel=channel,
        file_name=filename or "-",
        file_format=(layout.code if layout else "")[:60],
        mapping=layout.mapping if layout else None,
        status=report.status,
        rows=report.rows,
        rows_skipped=report.rows_skipped,
        orders_total=report.orders_total,
        orders_created=report.orders_created,
        orders_existing=report.orders_existing,
        orders_unreserved=report.orders_unreserved,
        errors=[{"line": e.line, "field": e.field, "message": e.message} for e in report.errors][
            :MAX_ERRORS_STORED
        ],
        order_numbers=report.order_numbers[:5000],
        created_by=_actor_user(actor),
        actor_label=actor.label[:150],
        created_at=now,
    )
    fresh.updated_at = timezone.now()
    if record is None:
        fresh.save(force_insert=True)
        record = fresh
    else:
        changed = {name: getattr(fresh, name) for name in _PROGRESS_FIELDS}
        active = (OrderImportStatus.QUEUED, OrderImportStatus.RUNNING)
        if not OrderImport.objects.filter(pk=record.pk, status__in=active).update(**changed):
            raise _Stopped
        for key, value in changed.items():
            setattr(record, key, value)
    report.record = record
    return record


_PROGRESS_FIELDS = frozenset(
    {"file_format", "mapping", "status", "rows", "rows_skipped", "orders_total", "orders_created",
     "orders_existing", "orders_unreserved", "errors", "order_numbers", "updated_at"}
)  # fmt: skip


# --- saved mappings ------------------------------------------------------------------------------


def _channel_kinds() -> set[str]:
    return {c[0] for c in Channel._meta.get_field("kind").choices or []}


def mapping_save(
    *,
    actor: Actor,
    store: Store,
    name: str,
    channel_kind: str,
    mapping: Any,
    instance: OrderImportMapping | None = None,
) -> OrderImportMapping:
    """Create (or, with ``instance``, change) a saved column mapping."""
    name = (name or "").strip()
    errors = mapping_problems(mapping)
    if not name:
        errors["name"] = _("必填")
    elif len(name) > 60:
        errors["name"] = _("最多 60 个字符")
    if channel_kind not in _channel_kinds():
        errors["channel_kind"] = _("未知的渠道类型")
    clash = OrderImportMapping.objects.filter(store=store, name=name)
    if instance is not None:
        clash = clash.exclude(pk=instance.pk)
    if name and clash.exists():
        errors["name"] = _("已有同名映射")
    if errors:
        raise ValidationError(_("列映射有误"), fields=errors)
    clean = {k: [v] if isinstance(v, str) else [a.strip() for a in v] for k, v in mapping.items()}
    with transaction.atomic():
        before = {"name": instance.name, "mapping": instance.mapping} if instance else None
        if instance is None:
            instance = OrderImportMapping.objects.create(
                store=store, name=name, channel_kind=channel_kind, mapping=clean
            )
        else:
            instance.name, instance.channel_kind, instance.mapping = name, channel_kind, clean
            instance.save()
        audit_record(
            actor=actor,
            action="order.import_mapping_save",
            obj=instance,
            store_id=store.pk,
            before=before,
            after={"name": name, "channel_kind": channel_kind, "mapping": clean},
        )
    return instance


def mapping_delete(*, actor: Actor, mapping: OrderImportMapping) -> None:
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="order.import_mapping_delete",
            obj=mapping,
            store_id=mapping.store_id,
            before={"name": mapping.name, "mapping": mapping.mapping},
        )
        mapping.delete()


# --- reads (for the API and the console) ---------------------------------------------------------


def import_list(
    *, store: Store, channel_id: int | None = None, status: str | None = None
) -> QuerySet[OrderImport]:
    qs = OrderImport.objects.filter(store=store).select_related("channel", "mapping")
    if channel_id:
        qs = qs.filter(channel_id=channel_id)
    if status:
        qs = qs.filter(status=status)
    return qs


def import_get(*, store: Store, import_id: int) -> OrderImport:
    record = import_list(store=store).filter(pk=import_id).first()
    if record is None:
        raise NotFound(_("导入记录不存在"))
    return record


def mapping_list(*, store: Store) -> QuerySet[OrderImportMapping]:
    return OrderImportMapping.objects.filter(store=store)


def mapping_get(*, store: Store, mapping_id: int) -> OrderImportMapping:
    mapping = mapping_list(store=store).filter(pk=mapping_id).first()
    if mapping is None:
        raise NotFound(_("列映射不存在"))
    return mapping


def channel_get(*, store: Store, channel_id: int | None = None, code: str | None = None) -> Channel:
    qs = Channel.objects.filter(store=store)
    channel = qs.filter(pk=channel_id).first() if channel_id else qs.filter(code=code or "").first()
    if channel is None:
        raise ValidationError(_("渠道不存在"), fields={"channel": _("渠道不存在")})
    return channel


def error_rows(record: OrderImport) -> Iterator[RowError]:
    for e in record.errors:
        yield RowError(int(e.get("line", 0)), str(e.get("field", "")), str(e.get("message", "")))


STATUS_CHOICES = list(OrderImportStatus.choices)


def format_label(code: str) -> str:
    """A human label of an import's file format (built-in spec or saved mapping)."""
    if code in FORMATS_BY_CODE:
        return _(FORMATS_BY_CODE[code].label)
    if code.startswith("mapping:"):
        return _("自定义映射：%(m)s") % {"m": code.removeprefix("mapping:")}
    return code or "-"
