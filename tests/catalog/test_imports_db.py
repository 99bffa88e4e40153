"""Bulk import/export of products+SKUs, prices, suppliers, sales and market data: every bad row
reported with its line, all-or-nothing by default, whole products only with ``partial``."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import Workbook

from storeops.catalog.imports import RowError, catalog_import, export_rows, write_table
from storeops.catalog.models import MarketCategoryStat, Product, SalesDaily, Sku, Supplier
from storeops.pricing.models import PriceChange
from tests.catalog.db_builders import ACTOR, a_dress_category, a_product

pytestmark = pytest.mark.django_db

HEADER = [
    "商品编码",
    "类目编码",
    "核心词",
    "标题",
    "详情描述",
    "宣称功效",
    "核心商品",
    "参数",
    "SKU编码",
    "售价",
    "成本",
    "条码",
    "规格",
]


def product_row(i: int, **changes: str) -> list[str]:
    row = {
        "code": f"P{i:05d}",
        "category": "dress",
        "core": "连衣裙",
        "title": f"碎花雪纺连衣裙{i}",
        "desc": "",
        "eff": "0",
        "key": "",
        "params": "尺码:M;面料:雪纺",
        "sku": f"S{i:05d}",
        "price": "199.00",
        "cost": "60",
        "barcode": "",
        "attrs": "尺码:M",
    }
    row.update(changes)
    return list(row.values())


def csv_file(rows: list[list[str]]) -> io.BytesIO:
    buffer = io.BytesIO()
    write_table(buffer, HEADER, rows, xlsx=False)
    buffer.seek(0)
    buffer.name = "products.csv"
    return buffer


@pytest.fixture
def dress(store):
    return a_dress_category(store)


def test_import_products_with_several_skus_are_imported_with_their_initial_prices(store, dress):
    # given two products, the first with two SKUs on two rows
    source = csv_file(
        [product_row(1), product_row(1, sku="S00001-L", attrs="尺码:L", price="209.50"), product_row(2)]
    )

    # when
    report = catalog_import(actor=ACTOR, store=store, kind="products", source=source)

    # then
    assert (report.ok, report.rows, report.imported) == (True, 3, 2)
    p1 = Product.objects.get(code="P00001")
    assert sorted(p1.skus.values_list("code", "price")) == [
        ("S00001", Decimal("199.00")),
        ("S00001-L", Decimal("209.50")),
    ]
    assert p1.parameters == {"尺码": "M", "面料": "雪纺"}
    assert PriceChange.objects.filter(reason="initial").count() == 3


def test_import_every_bad_row_is_reported_with_its_line_and_nothing_is_imported(store, dress):
    # given 6 data rows (lines 2-7), four of them bad in different ways
    source = csv_file(
        [
            product_row(1),
            product_row(2, price="-5"),
            product_row(3, category="shoes"),
            product_row(4, sku="S00001"),
            product_row(5, title=""),
            product_row(6, price="12.345"),
        ]
    )

    # when
    report = catalog_import(actor=ACTOR, store=store, kind="products", source=source)

    # then
    assert report.errors == [
        RowError(3, "price", "金额不能为负"),
        RowError(4, "category_code", "类目不存在：shoes"),
        RowError(5, "sku_code", "SKU编码与第2行重复"),
        RowError(6, "title", "必填"),
        RowError(7, "price", "金额最多两位小数：12.345"),
    ]
    assert str(report.errors[0]) == "第3行 price: 金额不能为负"
    assert (report.imported, Product.objects.count(), Sku.objects.count()) == (0, 0, 0)


def test_import_partial_import_takes_whole_valid_products_only(store, dress):
    # given P1 valid, P2 with one bad SKU row out of two, P3 valid
    source = csv_file([product_row(1), product_row(2), product_row(2, sku="S2-L", price="x"), product_row(3)])

    # when
    report = catalog_import(actor=ACTOR, store=store, kind="products", source=source, partial=True)

    # then P2 is not half-imported, and its good row says why
    assert sorted(Product.objects.values_list("code", flat=True)) == ["P00001", "P00003"]
    assert report.imported == 2
    assert report.errors == [
        RowError(3, "product_code", "同一商品（P00002）有错误行，整个商品未导入"),
        RowError(4, "price", "不是有效的金额：x"),
    ]


def test_import_an_existing_product_code_is_a_bad_row(store, dress):
    # given P00001 exists
    a_product(store, dress, "P00001", complete=False)

    # when
    report = catalog_import(actor=ACTOR, store=store, kind="products", source=csv_file([product_row(1)]))

    # then
    assert report.errors == [RowError(2, "product_code", "商品编码已存在：P00001")]


def test_import_ten_thousand_product_excel_with_50_bad_rows_reports_all_and_changes_nothing(store, dress):
    # given an Excel file of 10,000 products where every 200th row has a negative price
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADER)
    bad_lines = []
    for i in range(10_000):
        bad = i % 200 == 199
        sheet.append(product_row(i, price="-1" if bad else "199.00"))
        if bad:
            bad_lines.append(i + 2)
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)

    # when (its speed is measured by benchmarks/catalog_import.py, not here)
    report = catalog_import(actor=ACTOR, store=store, kind="products", source=buffer, filename="big.xlsx")

    # then all 50 bad rows are reported and nothing is written
    assert [e.line for e in report.errors] == bad_lines
    assert len(report.errors) == 50
    assert {e.message for e in report.errors} == {"金额不能为负"}
    assert (Product.objects.count(), Sku.objects.count(), PriceChange.objects.count()) == (0, 0, 0)


def test_ten_thousand_valid_products_import_in_one_go(store, dress):
    # given 10,000 valid rows
    source = csv_file([product_row(i) for i in range(10_000)])

    # when
    report = catalog_import(actor=ACTOR, store=store, kind="products", source=source)

    # then
    assert (report.ok, report.imported, Sku.objects.count()) == (True, 10_000, 10_000)


def test_price_03_price_import_versions_each_change_with_its_reason(store, dress, channel):
    # given a product with SKUs P1-S and P1-M at 199
    a_product(store, dress, complete=False)
    rows = [["P1-S", "189.00", "竞品调价", "", ""], ["P1-M", "179.00", "promotion", "618", "tmall"]]
    buffer = io.BytesIO()
    write_table(buffer, ["SKU编码", "售价", "调价原因", "说明", "渠道编码"], rows, xlsx=False)
    buffer.seek(0)

    # when
    report = catalog_import(actor=ACTOR, store=store, kind="prices", source=buffer, filename="p.csv")

    # then
    assert (report.ok, report.imported) == (True, 2)
    changes = sorted(
        PriceChange.objects.exclude(reason="initial").values_list(
            "sku__code", "new_price", "reason", "channel__code"
        )
    )
    assert changes == [
        ("P1-M", Decimal("179.00"), "promotion", "tmall"),
        ("P1-S", Decimal("189.00"), "competitor", None),
    ]


def test_price_03_a_bad_price_row_blocks_the_whole_price_file(store, dress):
    a_product(store, dress, complete=False)
    buffer = io.BytesIO()
    write_table(
        buffer,
        ["sku_code", "price", "reason"],
        [["P1-S", "189.00", "season"], ["NOPE", "1", "season"], ["P1-M", "199.00", "season"]],
        xlsx=False,
    )
    buffer.seek(0)

    report = catalog_import(actor=ACTOR, store=store, kind="prices", source=buffer, filename="p.csv")

    assert report.errors == [
        RowError(3, "sku_code", "SKU不存在：NOPE"),
        RowError(4, "price", "新价格与当前价格相同"),
    ]
    assert PriceChange.objects.exclude(reason="initial").count() == 0


def test_sel_02_suppliers_import_and_export_round_trip(store, tmp_path):
    # given a suppliers file
    path = tmp_path / "suppliers.xlsx"
    write_table(
        path,
        ["供应商编码", "名称", "账期天数", "小批量定制"],
        [["S1", "甲厂", "30", "是"], ["S2", "乙厂", "", "否"]],
        xlsx=True,
    )

    # when imported and exported again
    report = catalog_import(actor=ACTOR, store=store, kind="suppliers", source=path)
    header, rows = export_rows(store=store, kind="suppliers")

    # then
    assert report.imported == 2
    assert list(Supplier.objects.values_list("code", "payment_term_days", "small_batch_customisation")) == [
        ("S1", 30, True),
        ("S2", 0, False),
    ]
    assert list(rows) == [["S1", "甲厂", "", "", 30, 1], ["S2", "乙厂", "", "", 0, 0]]
    assert header[0] == "code"


def test_list_07_sales_stats_import_upserts_the_day(store, dress, channel):
    # given a product and a sales file imported twice with a corrected figure
    a_product(store, dress, "P1", complete=False)

    def sales(units: str) -> io.BytesIO:
        buffer = io.BytesIO()
        write_table(
            buffer,
            ["商品编码", "渠道编码", "日期", "访客数", "买家数", "销量", "销售额", "日末库存"],
            [["P1", "tmall", "2026-03-01", "100", "3", units, "597.00", "40"]],
            xlsx=False,
        )
        buffer.seek(0)
        return buffer

    # when
    catalog_import(actor=ACTOR, store=store, kind="sales", source=sales("3"), filename="s.csv")
    catalog_import(actor=ACTOR, store=store, kind="sales", source=sales("4"), filename="s.csv")

    # then
    assert list(SalesDaily.objects.values_list("units", "stock_on_hand")) == [(4, 40)]


def test_sel_01_market_import_and_candidate_screen(store):
    # given two market categories, one growing 45% with competition 0.4, one growing 20%
    from storeops.catalog.selectors import market_categories
    from storeops.stores.selectors import playbook_get

    buffer = io.BytesIO()
    write_table(
        buffer,
        ["市场类目", "统计截止", "30天增长率", "在线商品数", "搜索人气"],
        [["露营椅", "2026-03-01", "45%", "400", "1000"], ["雨伞", "2026-03-01", "0.2", "100", "1000"]],
        xlsx=False,
    )
    buffer.seek(0)

    # when
    catalog_import(actor=ACTOR, store=store, kind="market", source=buffer, filename="m.csv")
    candidates = market_categories(store=store, playbook=playbook_get(store=store), candidates_only=True)

    # then
    assert MarketCategoryStat.objects.count() == 2
    assert [(c["stat"].category_name, c["competition_ratio"]) for c in candidates] == [
        ("露营椅", Decimal("0.4"))
    ]


def test_import_cli_import_reports_bad_rows_and_fails(store, dress, tmp_path):
    # given a CSV with one bad row
    path = tmp_path / "p.csv"
    write_table(path, HEADER, [product_row(1), product_row(2, price="")], xlsx=False)

    # when / then
    with pytest.raises(CommandError):
        call_command("catalog", "import", str(path), "--kind", "products", "--store", store.code)
    assert Product.objects.count() == 0
    call_command("catalog", "import", str(path), "--kind", "products", "--store", store.code, "--partial")
    assert list(Product.objects.values_list("code", flat=True)) == ["P00001"]


def test_import_a_gbk_csv_saved_by_excel_on_chinese_windows_is_read(store, dress):
    """Excel on Chinese Windows saves "CSV" in GBK: it was refused as unreadable (the order and
    tracking imports read it already; all three now share ``core.files``)."""
    import csv as csv_module

    text = io.StringIO()
    csv_module.writer(text).writerows([HEADER, product_row(1)])
    source = io.BytesIO(text.getvalue().encode("gbk"))
    source.name = "products.csv"
    report = catalog_import(actor=ACTOR, store=store, kind="products", source=source)
    assert (report.ok, report.imported) == (True, 1)
    assert Product.objects.get(code="P00001").title == "碎花雪纺连衣裙1"


def test_import_a_file_that_is_no_table_is_refused_naming_the_file(store, dress):
    from storeops.core.errors import ValidationError

    for name, data in (("products.xlsx", b"not a zip"), ("products.csv", b"\x89PNG\r\n\x1a\n\x82")):
        source = io.BytesIO(data)
        source.name = name
        with pytest.raises(ValidationError) as refused:
            catalog_import(actor=ACTOR, store=store, kind="products", source=source)
        assert "file" in refused.value.fields
    assert not Product.objects.exists()


def test_log_03_the_products_import_and_export_carry_weight_and_fragility(store, dress):
    # given the weight (grams) and fragile columns, one row with a weight that is no whole number
    header = [*HEADER, "重量（克）", "易碎"]
    rows = [[*product_row(1), "1200", "是"], [*product_row(2), "1.5kg", ""]]
    buffer = io.BytesIO()
    write_table(buffer, header, rows, xlsx=False)
    buffer.seek(0)
    buffer.name = "products.csv"
    report = catalog_import(actor=ACTOR, store=store, kind="products", source=buffer)
    # then that row is refused by its column; without it the product imports with its SKU's figures
    assert [(e.line, e.field) for e in report.errors] == [(3, "weight_g")]
    buffer = io.BytesIO()
    write_table(buffer, header, rows[:1], xlsx=False)
    buffer.seek(0)
    buffer.name = "products.csv"
    assert catalog_import(actor=ACTOR, store=store, kind="products", source=buffer).ok
    assert Sku.objects.filter(code="S00001").values_list("weight_g", "is_fragile").get() == (1200, True)
    head, data = export_rows(store=store, kind="products")
    (row,) = [dict(zip(head, r, strict=True)) for r in data]
    assert (row["weight_g"], row["is_fragile"]) == (1200, 1)
