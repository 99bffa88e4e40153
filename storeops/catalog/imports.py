"""Bulk import and export (CSV / Excel) of products+SKUs, prices, suppliers, daily sales
stats (LIST-07/08 input), market category data (SEL-01 input) and competitor price
observations with their promotions (PRICE-04 monitoring).

Every row is validated first and every bad row is reported with its line number and the
reason (Chinese). Then, in one transaction: nothing is written when any row is bad, or —
with ``partial=True`` — every valid row is. A product spans several rows (one per SKU);
it is imported whole or not at all, never half of it.

File format: the first row holds the column names (Chinese or English, see ``COLUMNS``).
Line numbers are the file's own (the header is line 1).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from storeops.audit.services import audit_record
from storeops.catalog.models import Category, MarketCategoryStat, Product, SalesDaily, Sku, Supplier, Tag
from storeops.catalog.rules import TagTextError, format_tags, parse_tags, price_band_of
from storeops.core.context import Actor
from storeops.core.errors import DomainError, ValidationError
from storeops.core.files import csv_text, read_bytes, workbook_rows
from storeops.pricing import selectors as pricing_selectors
from storeops.pricing.services import CompetitorObservation
from storeops.stores.models import Channel, Store

Progress = Callable[[int, int], None]  # (done, total)

# canonical name -> accepted headers
COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "products": {
        "product_code": ("product_code", "商品编码"),
        "category_code": ("category_code", "类目编码"),
        "core_word": ("core_word", "核心词"),
        "title": ("title", "标题"),
        "description": ("description", "详情描述"),
        "efficacy": ("efficacy", "宣称功效"),
        "is_key": ("is_key", "核心商品"),
        "parameters": ("parameters", "参数"),
        "sku_code": ("sku_code", "SKU编码"),
        "price": ("price", "售价"),
        "cost": ("cost", "成本"),
        "barcode": ("barcode", "条码"),
        "attributes": ("attributes", "规格"),
        # INV-06: the product's season (旺季), optional
        "season_start_month": ("season_start_month", "旺季开始月份"),
        "season_end_month": ("season_end_month", "旺季结束月份"),
        "season_uplift": ("season_uplift", "旺季需求倍数"),
        # SEL-04: "kind:name; kind:name" (kind: category/price_band/style/scene or 类目/价格带/风格/使用场景)
        "tags": ("tags", "标签"),
        # LOG-03: the SKU's weight and fragility, for the carrier choice, optional
        "weight_g": ("weight_g", "重量（克）", "重量(克)"),
        "is_fragile": ("is_fragile", "易碎"),
    },
    "prices": {
        "sku_code": ("sku_code", "SKU编码"),
        "price": ("price", "售价"),
        "reason": ("reason", "调价原因"),
        "note": ("note", "说明"),
        "channel_code": ("channel_code", "渠道编码"),
    },
    "suppliers": {
        "code": ("code", "供应商编码"),
        "name": ("name", "名称"),
        "contact": ("contact", "联系人"),
        "phone": ("phone", "电话"),
        "payment_term_days": ("payment_term_days", "账期天数"),
        "small_batch": ("small_batch", "小批量定制"),
    },
    "sales": {
        "product_code": ("product_code", "商品编码"),
        "channel_code": ("channel_code", "渠道编码"),
        "day": ("day", "日期"),
        "visitors": ("visitors", "访客数"),
        "buyers": ("buyers", "买家数"),
        # LIST-07 launch tracking, optional: page views of the product and shoppers adding it to
        # their cart (人数 preferred: with both 加购人数 and 加购件数 in a file, 人数 is read)
        "clicks": ("clicks", "浏览量", "商品浏览量", "点击量", "点击次数"),
        "add_to_cart": ("add_to_cart", "加购人数", "商品加购人数", "加购件数", "商品加购件数", "加购次数"),
        "units": ("units", "销量"),
        "revenue": ("revenue", "销售额"),
        "stock_on_hand": ("stock_on_hand", "日末库存"),
    },
    "market": {
        "category_name": ("category_name", "市场类目"),
        "period_end": ("period_end", "统计截止"),
        "growth_30d": ("growth_30d", "30天增长率"),
        "listings": ("listings", "在线商品数"),
        "search_popularity": ("search_popularity", "搜索人气"),
        "conversion_rate": ("conversion_rate", "行业转化率", "支付转化率"),
        "source": ("source", "来源"),
    },
    # PRICE-04: one observation a row; an item not watched yet is created (上新 from its
    # earliest observation or its first-seen date)
    "competitors": {
        "competitor": ("competitor", "竞品店铺", "竞店"),
        "name": ("name", "竞品名称", "竞品"),
        "price": ("price", "竞品价格", "价格"),
        "observed_at": ("observed_at", "观察时间", "采集时间"),
        "promotion": ("promotion", "促销信息", "促销活动", "促销"),
        "is_promotional": ("is_promotional", "促销价", "是否促销价"),
        "product_code": ("product_code", "对标商品编码", "对标商品"),
        "category_code": ("category_code", "类目编码"),
        "url": ("url", "链接"),
        "is_tracked": ("is_tracked", "跟踪降价"),
        "first_seen_at": ("first_seen_at", "首次发现", "上新日期"),
    },
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "products": ("product_code", "category_code", "core_word", "title", "sku_code", "price"),
    "prices": ("sku_code", "price", "reason"),
    "suppliers": ("code", "name"),
    "sales": ("product_code", "channel_code", "day"),
    "market": ("category_name", "period_end", "growth_30d", "listings", "search_popularity"),
    "competitors": ("competitor", "name", "price"),
}
KINDS = tuple(COLUMNS)
_TRUE = {"1", "true", "yes", "y", "是", "√"}
_FALSE = {"", "0", "false", "no", "n", "否"}
_CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return (
            f"第{self.line}行 {self.field}: {self.message}"
            if self.field
            else f"第{self.line}行: {self.message}"
        )


@dataclass
class ImportReport:
    kind: str
    rows: int = 0
    imported: int = 0  # objects written (products, prices, suppliers, stats)
    errors: list[RowError] = field(default_factory=list)
    partial: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


class _RowInvalid(Exception):
    def __init__(self, field_name: str, message: str):
        self.field = field_name
        self.message = message


# ---- reading ------------------------------------------------------------------------------


def read_table(source: str | Path | IO[bytes], filename: str = "") -> Iterator[tuple[int, list[str]]]:
    """(line number, cells as strings) of a .csv (UTF-8, BOM allowed; or GBK as Excel on
    Chinese Windows saves it) or .xlsx file. A file that cannot be read is a 422
    (``core.files``)."""
    name = (filename or str(getattr(source, "name", source))).lower()
    if name.endswith((".xlsx", ".xlsm")):
        for line, values in enumerate(workbook_rows(source), start=1):
            yield line, [_cell(v) for v in values]
        return
    raw = Path(source).read_bytes() if isinstance(source, str | Path) else read_bytes(source)
    for line, cells in enumerate(csv.reader(io.StringIO(csv_text(raw), newline="")), start=1):
        yield line, [c.strip() for c in cells]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):  # Excel numbers: keep what was typed, not binary noise
        return format(Decimal(repr(value)).normalize(), "f") if value != int(value) else str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _records(
    kind: str, table: Iterable[tuple[int, list[str]]], report: ImportReport
) -> list[tuple[int, dict[str, str]]]:
    rows = iter(table)
    try:
        _line, header = next(rows)
    except StopIteration:
        report.errors.append(RowError(1, "", _("文件为空")))
        return []
    # alias -> (column, rank): of two headers naming the same column, the earlier alias wins
    aliases = {
        alias.strip().lower(): (canon, rank)
        for canon, names in COLUMNS[kind].items()
        for rank, alias in enumerate(names)
    }
    index: dict[str, int] = {}
    ranks: dict[str, int] = {}
    for i, h in enumerate(header):
        canon, rank = aliases.get(h.strip().lower(), ("", 0))
        if canon and (canon not in ranks or rank < ranks[canon]):
            index[canon], ranks[canon] = i, rank
    missing = [c for c in REQUIRED[kind] if c not in index]
    if missing:
        report.errors.append(RowError(1, "", _("缺少列：%(c)s") % {"c": "、".join(missing)}))
        return []
    records = []
    for line, cells in rows:
        if not any(cells):
            continue
        records.append((line, {c: (cells[i] if i < len(cells) else "") for c, i in index.items()}))
    report.rows = len(records)
    return records


# ---- cell parsers ----------------------------------------------------------------------------


def _required(row: dict[str, str], name: str) -> str:
    value = row.get(name, "").strip()
    if not value:
        raise _RowInvalid(name, _("必填"))
    return value


def _amount(row: dict[str, str], name: str, *, default: str | None = None, positive: bool = False) -> Decimal:
    raw = row.get(name, "").strip() or (default or "")
    if not raw:
        raise _RowInvalid(name, _("必填"))
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise _RowInvalid(name, _("不是有效的金额：%(v)s") % {"v": raw}) from None
    if not value.is_finite() or value != value.quantize(_CENT):
        raise _RowInvalid(name, _("金额最多两位小数：%(v)s") % {"v": raw})
    if value < 0 or (positive and value == 0):
        raise _RowInvalid(name, _("金额必须大于0") if positive else _("金额不能为负"))
    if value >= Decimal("1e12"):
        raise _RowInvalid(name, _("金额过大"))
    return value.quantize(_CENT)


def _int(row: dict[str, str], name: str, default: int | None = 0) -> int:
    raw = row.get(name, "").strip()
    if not raw:
        if default is None:
            raise _RowInvalid(name, _("必填"))
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _RowInvalid(name, _("不是整数：%(v)s") % {"v": raw}) from None
    if value < 0:
        raise _RowInvalid(name, _("不能为负"))
    return value


def _bool(row: dict[str, str], name: str) -> bool:
    raw = row.get(name, "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise _RowInvalid(name, _("请填写 是/否 或 1/0"))


def _date(row: dict[str, str], name: str) -> dt.date:
    raw = _required(row, name)
    try:
        return dt.date.fromisoformat(raw.replace("/", "-"))
    except ValueError:
        raise _RowInvalid(name, _("日期格式应为 YYYY-MM-DD：%(v)s") % {"v": raw}) from None


def _pairs(row: dict[str, str], name: str) -> dict[str, str]:
    """``尺码:M;颜色:红`` (also full-width ：；) -> dict."""
    raw = row.get(name, "").strip().replace("：", ":").replace("；", ";")
    result: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in raw.split(";"))):
        key, sep, value = part.partition(":")
        if not sep or not key.strip():
            raise _RowInvalid(name, _("格式应为 名称:值;名称:值"))
        result[key.strip()] = value.strip()
    return result


# ---- products + SKUs -------------------------------------------------------------------------

_PRODUCT_FIELDS = (
    "category_code",
    "core_word",
    "title",
    "description",
    "efficacy",
    "is_key",
    "parameters",
    "season_start_month",
    "season_end_month",
    "season_uplift",
    "tags",
)


def _tag_pairs(row: dict[str, str]) -> list[tuple[str, str]]:
    """SEL-04: the ``tags`` column, ``kind:name; kind:name``."""
    from storeops.catalog.services import tag_text_problem

    try:
        return parse_tags(row.get("tags", ""))
    except TagTextError as exc:
        raise _RowInvalid("tags", tag_text_problem(exc)) from exc


def _season_fields(row: dict[str, str]) -> dict[str, Any]:
    """INV-06: the season columns, validated as the API does (both months or neither)."""
    from storeops.catalog.services import product_season_clean

    try:
        return product_season_clean(
            None,
            {key: row.get(key, "") for key in ("season_start_month", "season_end_month", "season_uplift")},
        )
    except ValidationError as exc:
        field, message = next(iter(exc.fields.items()))
        raise _RowInvalid(field, str(message)) from exc


def _sku_fields(row: dict[str, str], existing_skus: set[str], seen_skus: dict[str, int]) -> dict[str, Any]:
    sku_code = _required(row, "sku_code")
    if sku_code in existing_skus:
        raise _RowInvalid("sku_code", _("SKU编码已存在：%(c)s") % {"c": sku_code})
    if sku_code in seen_skus:
        raise _RowInvalid("sku_code", _("SKU编码与第%(l)s行重复") % {"l": seen_skus[sku_code]})
    if len(sku_code) > 64:
        raise _RowInvalid("sku_code", _("SKU编码超过64个字符"))
    return {
        "code": sku_code,
        "price": _amount(row, "price"),
        "cost": _amount(row, "cost", default="0"),
        "barcode": row.get("barcode", "")[:64],
        "attributes": _pairs(row, "attributes"),
        **_shipping_fields(row),
    }


def _shipping_fields(row: dict[str, str]) -> dict[str, Any]:
    """LOG-03: weight in grams (empty = unknown) and fragile (是/否), validated as the API does."""
    from storeops.catalog.services import sku_shipping_clean

    try:
        return sku_shipping_clean(
            {"weight_g": row.get("weight_g", ""), "is_fragile": _bool(row, "is_fragile")}
        )
    except ValidationError as exc:
        field, message = next(iter(exc.fields.items()))
        raise _RowInvalid(field, str(message)) from exc


def _product_fields(row: dict[str, str], code: str, categories: dict[str, int]) -> dict[str, Any]:
    if len(code) > 64:
        raise _RowInvalid("product_code", _("商品编码超过64个字符"))
    category_code = _required(row, "category_code")
    if category_code not in categories:
        raise _RowInvalid("category_code", _("类目不存在：%(c)s") % {"c": category_code})
    title = _required(row, "title")
    if len(title) > 200:
        raise _RowInvalid("title", _("标题超过200字"))
    core_word = _required(row, "core_word")
    if len(core_word) > 30:
        raise _RowInvalid("core_word", _("核心词超过30字"))
    return {
        "code": code,
        "category_id": categories[category_code],
        "core_word": core_word,
        "title": title,
        "description": row.get("description", ""),
        "has_efficacy_claim": _bool(row, "efficacy"),
        "is_key": _bool(row, "is_key"),
        "parameters": _pairs(row, "parameters"),
        **_season_fields(row),
    }


def _report_skipped_rows(report: ImportReport, lines_by_product: dict[str, list[int]]) -> None:
    """Partial import: the good rows of a product with a bad row are skipped too — say why."""
    bad_lines = {e.line for e in report.errors}
    for code in sorted(lines_by_product):
        report.errors.extend(
            RowError(line, "product_code", _("同一商品（%(c)s）有错误行，整个商品未导入") % {"c": code})
            for line in lines_by_product[code]
            if line not in bad_lines
        )
    report.errors.sort(key=lambda e: e.line)


def _import_products(
    actor: Actor,
    store: Store,
    records: list[tuple[int, dict[str, str]]],
    report: ImportReport,
    partial: bool,
    progress: Progress | None,
) -> None:
    categories = dict(Category.objects.filter(store=store).values_list("code", "pk"))
    existing_products = set(Product.objects.filter(store=store).values_list("code", flat=True))
    existing_skus = set(Sku.objects.filter(store=store).values_list("code", flat=True))
    groups: dict[str, dict[str, Any]] = {}
    bad_groups: set[str] = set()
    seen_skus: dict[str, int] = {}
    for n, (line, row) in enumerate(records, start=1):
        code = row.get("product_code", "").strip()
        try:
            code = _required(row, "product_code")
            if code in existing_products:
                raise _RowInvalid("product_code", _("商品编码已存在：%(c)s") % {"c": code})
            sku = _sku_fields(row, existing_skus, seen_skus)
            group = groups.get(code)
            if group is None:
                product = _product_fields(row, code, categories)
                raw = {f: row.get(f, "") for f in _PRODUCT_FIELDS}
                groups[code] = {
                    "line": line,
                    "lines": [line],
                    "skus": [sku],
                    "raw": raw,
                    "product": product,
                    "tags": _tag_pairs(row),
                }
            else:
                for f in _PRODUCT_FIELDS if group["product"] is not None else ():
                    if row.get(f, "") and row.get(f, "") != group["raw"][f]:
                        raise _RowInvalid(f, _("与第%(l)s行同一商品的信息不一致") % {"l": group["line"]})
                group["lines"].append(line)
                group["skus"].append(sku)
            seen_skus[sku["code"]] = line
        except _RowInvalid as exc:
            report.errors.append(RowError(line, exc.field, exc.message))
            if code:
                bad_groups.add(code)
                groups.setdefault(code, {"line": line, "lines": [], "skus": [], "raw": {}, "product": None})
                groups[code]["lines"].append(line)
        if progress is not None and n % 500 == 0:
            progress(n, len(records))
    _price_bands_check(store, groups, bad_groups, report)
    if report.errors and not partial:
        return
    if partial:
        _report_skipped_rows(report, {code: groups[code]["lines"] for code in bad_groups})
    good = [g for c, g in groups.items() if c not in bad_groups]
    from storeops.pricing.services import prices_initial_record

    with transaction.atomic():
        products = Product.objects.bulk_create(
            [Product(store=store, **g["product"]) for g in good], batch_size=1000
        )
        skus = [
            Sku(store=store, product=p, **s) for p, g in zip(products, good, strict=True) for s in g["skus"]
        ]
        Sku.objects.bulk_create(skus, batch_size=2000)
        prices_initial_record(actor=actor, skus=skus)
        _tags_link(store, [(p, g["tags"]) for p, g in zip(products, good, strict=True)])
        audit_record(
            actor=actor,
            action="catalog.import_products",
            object_type="catalog.product",
            object_id="import",
            object_repr=_("导入商品 %(n)s 个") % {"n": len(products)},
            store_id=store.pk,
            after={"products": [p.code for p in products], "skus": len(skus)},
        )
    report.imported = len(products)


def _price_bands_check(
    store: Store, groups: dict[str, dict[str, Any]], bad_groups: set[str], report: ImportReport
) -> None:
    """SEL-04: with price band edges in the playbook a product's price band is the one of its
    lowest SKU price: another one typed in the tags column is a row error, none gets it."""
    from storeops.stores.selectors import playbook_get_by_id

    edges = playbook_get_by_id(store_id=store.pk).price_band_edges
    if not edges:
        return
    for code, group in groups.items():
        if code in bad_groups or group["product"] is None:
            continue
        band = price_band_of(min(s["price"] for s in group["skus"]), edges)
        typed = {name for kind, name in group["tags"] if kind == "price_band"}
        if typed - {band}:
            report.errors.append(
                RowError(
                    group["line"], "tags", _("价格带按售价自动计算（%(b)s），不能手动设置") % {"b": band}
                )
            )
            bad_groups.add(code)
            continue
        group["tags"] = [*(p for p in group["tags"] if p[0] != "price_band"), ("price_band", band)]
    report.errors.sort(key=lambda e: e.line)


def _tags_link(store: Store, tagged: list[tuple[Product, list[tuple[str, str]]]]) -> None:
    """Give the new products their tags, creating the store's missing tags (a few queries)."""
    wanted = {pair for _p, pairs in tagged for pair in pairs}
    if not wanted:
        return
    existing = {(t.kind, t.name): t.pk for t in Tag.objects.filter(store=store)}
    missing = [Tag(store=store, kind=k, name=n) for k, n in sorted(wanted - set(existing))]
    Tag.objects.bulk_create(missing, batch_size=1000)
    if missing:
        existing = {(t.kind, t.name): t.pk for t in Tag.objects.filter(store=store)}
    through = Product.tags.through
    through.objects.bulk_create(
        [
            through(product_id=p.pk, tag_id=existing[pair])
            for p, pairs in tagged
            for pair in dict.fromkeys(pairs)
        ],
        batch_size=2000,
    )


# ---- prices ------------------------------------------------------------------------------------


def _price_row(
    row: dict[str, str],
    skus: dict[str, Sku],
    channels: dict[str, Channel],
    seen: dict[tuple[str, str], int],
    line: int,
) -> tuple[Sku, Decimal, str, str, Channel | None]:
    sku = skus.get(_required(row, "sku_code"))
    if sku is None:
        raise _RowInvalid("sku_code", _("SKU不存在：%(c)s") % {"c": row["sku_code"]})
    price = _amount(row, "price")
    reason = pricing_selectors.price_change_reason_parse(_required(row, "reason"))
    if reason is None:
        raise _RowInvalid("reason", _("未知的调价原因：%(r)s") % {"r": row["reason"]})
    note = row.get("note", "")
    if pricing_selectors.price_change_reason_needs_note(reason) and not note:
        raise _RowInvalid("note", _("原因为“其他”时请填写说明"))
    channel = None
    if row.get("channel_code"):
        channel = channels.get(row["channel_code"])
        if channel is None:
            raise _RowInvalid("channel_code", _("渠道不存在：%(c)s") % {"c": row["channel_code"]})
    key = (sku.code, channel.code if channel else "")
    if key in seen:
        raise _RowInvalid("sku_code", _("与第%(l)s行重复") % {"l": seen[key]})
    seen[key] = line
    if channel is None and sku.price == price:
        raise _RowInvalid("price", _("新价格与当前价格相同"))
    return sku, price, reason, note, channel


def _import_prices(
    actor: Actor,
    store: Store,
    records: list[tuple[int, dict[str, str]]],
    report: ImportReport,
    partial: bool,
    progress: Progress | None,
) -> None:
    from storeops.pricing.services import price_set

    skus = {s.code: s for s in Sku.objects.filter(store=store)}
    channels = {c.code: c for c in Channel.objects.filter(store=store)}
    valid: list[tuple[int, Sku, Decimal, str, str, Channel | None]] = []
    seen: dict[tuple[str, str], int] = {}
    for line, row in records:
        try:
            valid.append((line, *_price_row(row, skus, channels, seen, line)))
        except _RowInvalid as exc:
            report.errors.append(RowError(line, exc.field, exc.message))
    if report.errors and not partial:
        return
    with transaction.atomic():
        for n, (line, sku, price, reason, note, channel) in enumerate(valid, start=1):
            try:
                with transaction.atomic():
                    price_set(
                        actor=actor, sku=sku, new_price=price, reason=reason, note=note, channel=channel
                    )
                report.imported += 1
            except DomainError as exc:
                report.errors.append(RowError(line, "price", str(exc.message)))
            if progress is not None and n % 200 == 0:
                progress(n, len(valid))
        if report.errors and not partial:
            transaction.set_rollback(True)
            report.imported = 0
    report.errors.sort(key=lambda e: e.line)


# ---- suppliers ---------------------------------------------------------------------------------


def _import_suppliers(
    actor: Actor,
    store: Store,
    records: list[tuple[int, dict[str, str]]],
    report: ImportReport,
    partial: bool,
    progress: Progress | None,
) -> None:
    existing = set(Supplier.objects.filter(store=store).values_list("code", flat=True))
    rows: list[Supplier] = []
    seen: dict[str, int] = {}
    for line, row in records:
        try:
            code = _required(row, "code")
            if code in existing:
                raise _RowInvalid("code", _("供应商编码已存在：%(c)s") % {"c": code})
            if code in seen:
                raise _RowInvalid("code", _("与第%(l)s行重复") % {"l": seen[code]})
            seen[code] = line
            days = _int(row, "payment_term_days")
            if days > 32767:
                raise _RowInvalid("payment_term_days", _("账期过长"))
            rows.append(
                Supplier(
                    store=store,
                    code=code[:40],
                    name=_required(row, "name")[:200],
                    contact=row.get("contact", "")[:100],
                    phone=row.get("phone", "")[:40],
                    payment_term_days=days,
                    small_batch_customisation=_bool(row, "small_batch"),
                )
            )
        except _RowInvalid as exc:
            report.errors.append(RowError(line, exc.field, exc.message))
    if report.errors and not partial:
        return
    with transaction.atomic():
        Supplier.objects.bulk_create(rows, batch_size=1000)
        audit_record(
            actor=actor,
            action="catalog.import_suppliers",
            object_type="catalog.supplier",
            object_id="import",
            store_id=store.pk,
            after={"suppliers": [s.code for s in rows]},
        )
    report.imported = len(rows)


# ---- daily sales stats (LIST-07/08) ------------------------------------------------------------


def _import_sales(
    actor: Actor,
    store: Store,
    records: list[tuple[int, dict[str, str]]],
    report: ImportReport,
    partial: bool,
    progress: Progress | None,
) -> None:
    products = dict(Product.objects.filter(store=store).values_list("code", "pk"))
    channels = dict(Channel.objects.filter(store=store).values_list("code", "pk"))
    rows: list[SalesDaily] = []
    seen: dict[tuple[int, int, dt.date], int] = {}
    for line, row in records:
        try:
            product_id = products.get(_required(row, "product_code"))
            if product_id is None:
                raise _RowInvalid("product_code", _("商品不存在：%(c)s") % {"c": row["product_code"]})
            channel_id = channels.get(_required(row, "channel_code"))
            if channel_id is None:
                raise _RowInvalid("channel_code", _("渠道不存在：%(c)s") % {"c": row["channel_code"]})
            day = _date(row, "day")
            visitors, buyers = _int(row, "visitors"), _int(row, "buyers")
            if buyers > visitors:
                raise _RowInvalid("buyers", _("买家数不能大于访客数"))
            stock = _int(row, "stock_on_hand", default=-1)
            key = (product_id, channel_id, day)
            if key in seen:
                raise _RowInvalid("day", _("与第%(l)s行重复") % {"l": seen[key]})
            seen[key] = line
            rows.append(
                SalesDaily(
                    store=store,
                    product_id=product_id,
                    channel_id=channel_id,
                    day=day,
                    visitors=visitors,
                    buyers=buyers,
                    clicks=_int(row, "clicks"),
                    add_to_cart=_int(row, "add_to_cart"),
                    units=_int(row, "units"),
                    revenue=_amount(row, "revenue", default="0"),
                    stock_on_hand=None if stock < 0 else stock,
                )
            )
        except _RowInvalid as exc:
            report.errors.append(RowError(line, exc.field, exc.message))
    if report.errors and not partial:
        return
    # the LIST-07 tracking columns are optional: a file without them keeps the day's figures
    optional = tuple(c for c in ("clicks", "add_to_cart") if records and c in records[0][1])
    with transaction.atomic():
        SalesDaily.objects.bulk_create(
            rows,
            batch_size=2000,
            update_conflicts=True,
            unique_fields=("product", "channel", "day"),
            update_fields=("visitors", "buyers", *optional, "units", "revenue", "stock_on_hand"),
        )
        audit_record(
            actor=actor,
            action="catalog.import_sales",
            object_type="catalog.salesdaily",
            object_id="import",
            store_id=store.pk,
            after={"rows": len(rows)},
        )
    report.imported = len(rows)


# ---- market category data (SEL-01) --------------------------------------------------------------


def _share(row: dict[str, str], field: str) -> Decimal | None:
    """An optional share in (0, 1]: "0.032", "3.2%"; empty → None."""
    text = row.get(field, "").strip()
    if not text:
        return None
    try:
        value = Decimal(text.rstrip("%")) / (100 if text.endswith("%") else 1)
    except InvalidOperation:
        raise _RowInvalid(field, _("不是有效的比例：%(v)s") % {"v": text}) from None
    if not value.is_finite() or not 0 < value <= 1 or not (value := value.quantize(Decimal("0.0001"))):
        raise _RowInvalid(field, _("应在 0 到 1（或 0% 到 100%）之间"))
    return value


def _import_market(
    actor: Actor,
    store: Store,
    records: list[tuple[int, dict[str, str]]],
    report: ImportReport,
    partial: bool,
    progress: Progress | None,
) -> None:
    rows: list[MarketCategoryStat] = []
    seen: dict[tuple[str, dt.date], int] = {}
    for line, row in records:
        try:
            name = _required(row, "category_name")[:100]
            period_end = _date(row, "period_end")
            raw = _required(row, "growth_30d").rstrip("%")
            try:
                growth = Decimal(raw) / (100 if row["growth_30d"].endswith("%") else 1)
            except InvalidOperation:
                raise _RowInvalid(
                    "growth_30d", _("不是有效的增长率：%(v)s") % {"v": row["growth_30d"]}
                ) from None
            if not growth.is_finite() or abs(growth) >= 10000:
                raise _RowInvalid("growth_30d", _("增长率超出范围"))
            conversion = _share(row, "conversion_rate")
            key = (name, period_end)
            if key in seen:
                raise _RowInvalid("category_name", _("与第%(l)s行重复") % {"l": seen[key]})
            seen[key] = line
            rows.append(
                MarketCategoryStat(
                    store=store,
                    category_name=name,
                    period_end=period_end,
                    growth_30d=growth.quantize(Decimal("0.0001")),
                    listings=_int(row, "listings", None),
                    search_popularity=_int(row, "search_popularity", None),
                    conversion_rate=conversion,
                    source=row.get("source", "")[:100],
                )
            )
        except _RowInvalid as exc:
            report.errors.append(RowError(line, exc.field, exc.message))
    if report.errors and not partial:
        return
    with transaction.atomic():
        MarketCategoryStat.objects.bulk_create(
            rows,
            batch_size=2000,
            update_conflicts=True,
            unique_fields=("store", "category_name", "period_end"),
            update_fields=("growth_30d", "listings", "search_popularity", "conversion_rate", "source"),
        )
        audit_record(
            actor=actor,
            action="catalog.import_market",
            object_type="catalog.marketcategorystat",
            object_id="import",
            store_id=store.pk,
            after={"rows": len(rows)},
        )
    report.imported = len(rows)


# ---- competitor price observations (PRICE-04) -------------------------------------------------


def _moment(row: dict[str, str], name: str) -> dt.datetime | None:
    """An optional date (the day's start) or date and time (``2026-12-01 10:30``) in the
    current time zone; empty → None."""
    raw = row.get(name, "").strip().replace("/", "-").replace("T", " ")
    if not raw:
        return None
    try:
        value = (
            dt.datetime.fromisoformat(raw)
            if " " in raw
            else dt.datetime.combine(dt.date.fromisoformat(raw), dt.time())
        )
    except ValueError:
        raise _RowInvalid(
            name, _("时间格式应为 YYYY-MM-DD 或 YYYY-MM-DD HH:MM：%(v)s") % {"v": row[name]}
        ) from None
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _competitor_row(
    row: dict[str, str],
    products: dict[str, int],
    categories: dict[str, int],
    seen: dict[tuple[str, str, dt.datetime], int],
    line: int,
    now: dt.datetime,
) -> CompetitorObservation:
    competitor, name = _required(row, "competitor"), _required(row, "name")
    if len(competitor) > 100:
        raise _RowInvalid("competitor", _("不能超过%(n)s个字符") % {"n": 100})
    if len(name) > 200:
        raise _RowInvalid("name", _("不能超过%(n)s个字符") % {"n": 200})
    price = _amount(row, "price", positive=True)
    observed_at = _moment(row, "observed_at") or now
    if observed_at > now + dt.timedelta(minutes=5):
        raise _RowInvalid("observed_at", _("观察时间不能在未来"))
    first_seen_at = _moment(row, "first_seen_at")
    if first_seen_at is not None and first_seen_at > now + dt.timedelta(minutes=5):
        raise _RowInvalid("first_seen_at", _("首次发现时间不能在未来"))
    promotion = row.get("promotion", "").strip()
    if len(promotion) > 200:
        raise _RowInvalid("promotion", _("不能超过%(n)s个字符") % {"n": 200})
    product_id = None
    if row.get("product_code", "").strip():
        product_id = products.get(row["product_code"].strip())
        if product_id is None:
            raise _RowInvalid("product_code", _("商品不存在：%(c)s") % {"c": row["product_code"]})
    category_id = None
    if row.get("category_code", "").strip():
        category_id = categories.get(row["category_code"].strip())
        if category_id is None:
            raise _RowInvalid("category_code", _("类目不存在：%(c)s") % {"c": row["category_code"]})
    url = row.get("url", "").strip()
    if len(url) > 500:
        raise _RowInvalid("url", _("不能超过%(n)s个字符") % {"n": 500})
    key = (competitor, name, observed_at)
    if key in seen:
        raise _RowInvalid("observed_at", _("与第%(l)s行重复") % {"l": seen[key]})
    seen[key] = line
    return CompetitorObservation(
        competitor=competitor,
        name=name,
        price=price,
        observed_at=observed_at,
        promotion=promotion,
        is_promotional=_bool(row, "is_promotional"),
        product_id=product_id,
        category_id=category_id,
        url=url,
        is_tracked=_bool(row, "is_tracked") if row.get("is_tracked", "").strip() else None,
        first_seen_at=first_seen_at,
    )


def _import_competitors(
    actor: Actor,
    store: Store,
    records: list[tuple[int, dict[str, str]]],
    report: ImportReport,
    partial: bool,
    progress: Progress | None,
) -> None:
    """Each row is one observation of a competitor item's price, with the competitor's
    promotion text and whether the price is a promotional one. An observation already
    recorded (same item, same time) is a row error, so a file is not counted twice."""
    from storeops.pricing.services import competitor_observations_import

    now = timezone.now()
    products = dict(Product.objects.filter(store=store).values_list("code", "pk"))
    categories = dict(Category.objects.filter(store=store).values_list("code", "pk"))
    recorded = pricing_selectors.competitor_observation_keys(
        store_id=store.pk, competitors={row.get("competitor", "").strip() for _line, row in records}
    )
    rows: list[CompetitorObservation] = []
    seen: dict[tuple[str, str, dt.datetime], int] = {}
    for line, row in records:
        try:
            observation = _competitor_row(row, products, categories, seen, line, now)
            if (observation.competitor, observation.name, observation.observed_at) in recorded:
                raise _RowInvalid("observed_at", _("该竞品在此时间的价格已导入"))
            rows.append(observation)
        except _RowInvalid as exc:
            report.errors.append(RowError(line, exc.field, exc.message))
    report.errors.sort(key=lambda e: e.line)
    if (report.errors and not partial) or not rows:
        return
    _created, report.imported = competitor_observations_import(actor=actor, store=store, rows=rows)


_IMPORTERS = {
    "products": _import_products,
    "prices": _import_prices,
    "suppliers": _import_suppliers,
    "sales": _import_sales,
    "market": _import_market,
    "competitors": _import_competitors,
}


def catalog_import(
    *,
    actor: Actor,
    store: Store,
    kind: str,
    source: str | Path | IO[bytes],
    filename: str = "",
    partial: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import one file of ``kind`` (products, prices, suppliers, sales, market, competitors)."""
    if kind not in _IMPORTERS:
        raise ValidationError(
            _("未知的导入类型"), fields={"kind": _("可选：%(k)s") % {"k": ", ".join(KINDS)}}
        )
    report = ImportReport(kind=kind, partial=partial)
    try:
        records = _records(kind, read_table(source, filename), report)
    except (csv.Error, OSError, KeyError, ValueError) as exc:
        raise ValidationError(_("无法读取文件：%(e)s") % {"e": exc}, fields={"file": str(exc)}) from exc
    if report.errors:
        return report
    _IMPORTERS[kind](actor, store, records, report, partial, progress)
    if progress is not None:
        progress(report.rows, report.rows)
    return report


# ---- export --------------------------------------------------------------------------------------


def _pairs_text(values: dict[str, Any]) -> str:
    return ";".join(f"{k}:{v}" for k, v in values.items())


def export_rows(*, store: Store, kind: str) -> tuple[list[str], Iterator[list[Any]]]:
    """Header and rows in the import format (so an export can be edited and re-imported)."""
    if kind == "products":
        header = list(COLUMNS["products"])
        tags: dict[int, list[tuple[str, str]]] = {}
        rows = Product.tags.through.objects.filter(product__store=store).values_list(
            "product_id", "tag__kind", "tag__name"
        )
        for product_id, tag_kind, tag_name in rows:
            tags.setdefault(product_id, []).append((tag_kind, tag_name))

        def products() -> Iterator[list[Any]]:
            for s in (
                Sku.objects.filter(store=store)
                .select_related("product", "product__category")
                .order_by("product__code", "code")
                .iterator(chunk_size=2000)
            ):
                p = s.product
                yield [
                    p.code,
                    p.category.code,
                    p.core_word,
                    p.title,
                    p.description,
                    int(p.has_efficacy_claim),
                    int(p.is_key),
                    _pairs_text(p.parameters),
                    s.code,
                    str(s.price),
                    str(s.cost),
                    s.barcode,
                    _pairs_text(s.attributes),
                    p.season_start_month or "",
                    p.season_end_month or "",
                    "" if p.season_uplift is None else str(p.season_uplift),
                    format_tags(tags.get(p.pk, [])),
                    s.weight_g or "",
                    int(s.is_fragile),
                ]

        return header, products()
    if kind == "prices":

        def prices() -> Iterator[list[Any]]:
            for s in Sku.objects.filter(store=store).order_by("code").iterator(chunk_size=2000):
                yield [s.code, str(s.price), "", "", ""]
            for cp in pricing_selectors.channel_prices_for_export(store=store):
                yield [cp.sku.code, str(cp.price), "", "", cp.channel.code]

        return list(COLUMNS["prices"]), prices()
    if kind == "suppliers":

        def suppliers() -> Iterator[list[Any]]:
            for s in Supplier.objects.filter(store=store).order_by("code"):
                yield [
                    s.code,
                    s.name,
                    s.contact,
                    s.phone,
                    s.payment_term_days,
                    int(s.small_batch_customisation),
                ]

        return list(COLUMNS["suppliers"]), suppliers()
    raise ValidationError(_("未知的导出类型"), fields={"kind": _("可选：products, prices, suppliers")})


def write_table(
    path: str | Path | IO[bytes], header: list[str], rows: Iterable[list[Any]], *, xlsx: bool
) -> int:
    """Write a CSV (UTF-8 with BOM, opens in Excel) or an .xlsx file; returns data rows written."""
    count = 0
    if xlsx:
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet()
        sheet.append(header)
        for row in rows:
            sheet.append(row)
            count += 1
        book.save(path)
        return count
    if isinstance(path, str | Path):
        handle: IO[str] = open(path, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115
    else:
        handle = io.TextIOWrapper(path, encoding="utf-8-sig", newline="", write_through=True)
    try:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow(row)
            count += 1
    finally:
        if isinstance(path, str | Path):
            handle.close()
        else:
            handle.detach()
    return count
