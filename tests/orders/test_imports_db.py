"""Marketplace order import (issue 6 item 3): the four built-in formats (CSV and .xlsx),
format detection, saved mappings, all-or-nothing validation, idempotent re-import, stock
reservation like a storefront order (ORD-02) and out-of-stock orders held by the review
(ORD-01/ORD-04), ship-by from the channel's playbook (ORD-03)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from storeops.core.errors import ValidationError
from storeops.orders import imports
from storeops.orders import services as svc
from storeops.orders.models import Allocation, Order, OrderEvent, OrderImport, OrderLine
from storeops.stores import services as st
from storeops.stores.services import playbook_update
from tests.orders import import_files as f
from tests.orders.builders import ACTOR, World

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(store, channel):
    return World(store, channel)


def _channel(store, kind, code=None):
    return st.channel_create(actor=ACTOR, store=store, kind=kind, code=code or kind, name=kind)


def _import(world, content: bytes, name: str, channel=None, **kwargs):
    return imports.orders_import(
        actor=ACTOR,
        store=world.store,
        channel=channel or world.channel,
        source=io.BytesIO(content),
        filename=name,
        **kwargs,
    )


def _at(text: str) -> dt.datetime:
    return timezone.make_aware(dt.datetime.fromisoformat(text))


_ADDR = "浙江省 杭州市 西湖区 文三路1号"
_T = "2026-06-01 10:00:00"


def _tm(number, *, sku="P1-S", qty="1", amount="10.00", address=_ADDR, paid=_T, buyer="b"):
    """One Tmall export row (see ``import_files.TMALL_HEADER``)."""
    return [number, buyer, "李四", "13900001111", address, "x", sku, qty, "", amount, "", _T, paid, ""]


# --- the four formats ----------------------------------------------------------------------------


@pytest.mark.parametrize("as_xlsx", [False, True], ids=["csv", "xlsx"])
def test_ord_02_tmall_export_creates_paid_orders_with_reserved_stock(world, as_xlsx):
    # given a Tmall export (one order of two lines with only an order total, one unpaid row)
    maker = f.xlsx_bytes if as_xlsx else f.csv_bytes
    content = maker(f.TMALL_HEADER, f.tmall_rows())
    # when it is imported into the Tmall channel
    report = _import(world, content, "tmall.xlsx" if as_xlsx else "tmall.csv")
    # then the format is detected, the unpaid row skipped and two paid orders created
    assert report.ok, report.errors
    assert (report.file_format, report.rows, report.rows_skipped) == ("tmall", 4, 1)
    assert (report.orders_created, report.orders_unreserved) == (2, 0)
    one = Order.objects.get(number="T1001")
    assert (one.status, one.source, one.customer_ref) == ("paid", "import", "buyer_a")
    assert (one.province, one.city, one.district, one.address) == (
        "浙江省",
        "杭州市",
        "西湖区",
        "文三路100号",
    )
    assert one.payable == one.paid_amount == Decimal("180.00")
    assert one.list_total == Decimal("200.00")
    assert one.discount_total == Decimal("20.00")
    assert one.paid_at == _at("2026-06-01 09:05:00")
    assert one.ship_by == one.paid_at + dt.timedelta(hours=48)  # ORD-03 default from the playbook
    assert one.buyer_note == "尽快发货"
    # the order total of the two-line order is apportioned by list value (1×100 : 2×100)
    two = Order.objects.get(number="T1002")
    paid = list(OrderLine.objects.filter(order=two).order_by("position").values_list("paid_total", flat=True))
    assert paid == [Decimal("83.33"), Decimal("166.67")]
    assert sum(paid) == two.payable == Decimal("250.00")
    # stock is reserved through the allocator, every unit
    held = sum(
        Allocation.objects.filter(line__order__in=[one, two], released=False).values_list(
            "quantity", flat=True
        )
    )
    assert held == 2 + 1 + 2
    kinds = list(OrderEvent.objects.filter(order=one).values_list("kind", flat=True))
    assert kinds == ["imported", "paid"]
    assert not Order.objects.filter(number="T1003").exists()
    record = OrderImport.objects.get()
    assert (record.status, record.orders_created, record.order_numbers) == ("imported", 2, ["T1001", "T1002"])


def test_ord_01_jd_xlsx_with_real_cells_and_run_together_address(world, store):
    # given a JD shop and an .xlsx export whose cells are numbers and datetimes
    jd = _channel(store, "jd")
    rows = [
        [
            *r[:7],
            int(r[7]),
            float(r[8]),
            r[9],
            dt.datetime(2026, 6, 2, 8, 0),
            dt.datetime(2026, 6, 2, 8, 0, 30),
        ]
        for r in f.jd_rows()
    ]
    report = _import(world, f.xlsx_bytes(f.JD_HEADER, rows), "jd.xlsx", channel=jd)
    # then the order is imported with the address split into its parts
    assert report.ok, report.errors
    assert report.file_format == "jd"
    order = Order.objects.get(number="JD501", channel=jd)
    assert (order.province, order.city, order.district, order.address) == (
        "北京市",
        "北京市",
        "朝阳区",
        "建国路1号",
    )
    assert order.payable == Decimal("270.00")
    assert order.paid_at == _at("2026-06-02 08:00:30")
    # and the automatic review passes it (address fine, stock reserved)
    reviewed = svc.order_auto_review(actor=ACTOR, order=order, now=order.paid_at)
    assert reviewed.status == "reviewed"


def test_ord_02_douyin_and_pinduoduo_exports(world, store):
    dy, pdd = _channel(store, "douyin"), _channel(store, "pinduoduo", "pdd")
    a = _import(world, f.csv_bytes(f.DOUYIN_HEADER, f.douyin_rows()), "dy.csv", channel=dy)
    b = _import(world, f.xlsx_bytes(f.PDD_HEADER, f.pdd_rows()), "pdd.xlsx", channel=pdd)
    assert a.ok, a.errors
    assert b.ok, b.errors
    assert (a.file_format, b.file_format) == ("douyin", "pinduoduo")
    douyin = Order.objects.get(number="DY9001")
    assert douyin.lines.count() == 2
    assert douyin.payable == Decimal("150.00")
    assert (douyin.province, douyin.city, douyin.address) == ("广东省", "深圳市", "科技园路1号")
    pinduoduo = Order.objects.get(number="PDD-260604-01")
    assert (pinduoduo.payable, pinduoduo.paid_at) == (Decimal("199.00"), _at("2026-06-04 12:00:00"))


def test_gbk_encoded_csv_is_read(world):
    report = _import(world, f.csv_bytes(f.TMALL_HEADER, f.tmall_rows()[:1], encoding="gb18030"), "t.csv")
    assert report.ok
    assert report.orders_created == 1


# --- detection and mappings ----------------------------------------------------------------------


def test_detect_refuses_a_file_of_another_marketplace(world):
    # given a JD export uploaded to the Tmall channel
    with pytest.raises(ValidationError) as exc:
        _import(world, f.csv_bytes(f.JD_HEADER, f.jd_rows()), "jd.csv")
    assert "京东" in str(exc.value.message)
    assert not Order.objects.exists()


def test_unknown_layout_needs_a_saved_mapping(world):
    header = ["单号", "姓名", "手机号", "地址", "编码", "件数", "金额"]
    rows = [["X1", "张三", "13812345678", "浙江省 杭州市 西湖区 文三路100号", "P1-S", "1", "99.00"]]
    content = f.csv_bytes(header, rows)
    with pytest.raises(ValidationError):
        _import(world, content, "x.csv")
    # when a mapping for the channel's kind is saved
    imports.mapping_save(
        actor=ACTOR,
        store=world.store,
        name="自建表格",
        channel_kind="tmall",
        mapping={
            "order_no": "单号",
            "receiver": ["姓名"],
            "phone": "手机号",
            "full_address": "地址",
            "sku_code": "编码",
            "quantity": "件数",
            "order_amount": "金额",
        },
    )
    # then it is detected automatically, and can be named explicitly
    report = _import(world, content, "x.csv")
    assert report.ok
    assert report.file_format == "mapping:自建表格"
    assert report.orders_created == 1
    again = _import(world, content, "x.csv", mapping_name="自建表格")
    assert again.status == "already_imported"
    assert OrderImport.objects.filter(mapping__name="自建表格").count() == 2


def test_bad_mapping_is_refused_with_field_messages(world):
    with pytest.raises(ValidationError) as exc:
        imports.mapping_save(
            actor=ACTOR, store=world.store, name="m", channel_kind="tmall", mapping={"nonsense": "x"}
        )
    assert {"mapping.nonsense", "mapping.order_no", "mapping.sku_code"} <= set(exc.value.fields)


# --- validated all or nothing (writing in batches: test_imports_batches_db.py) -----------------


def test_bad_file_reports_every_row_in_chinese_and_writes_nothing(world):
    # given a file with one good order and bad rows of every kind
    good = f.tmall_rows()[0]
    rows = [
        good,
        _tm("T2", sku="NOPE"),
        _tm("T3", qty="0"),
        _tm("T4", amount="12.345"),
        _tm("T5", address=""),
        _tm("T6", paid="昨天"),
    ]
    report = _import(world, f.csv_bytes(f.TMALL_HEADER, rows), "bad.csv")
    # then every bad row is reported with its line number, and nothing is written
    text = [str(e) for e in report.errors]
    assert text == [
        "第3行 商家编码: 未知的商家编码：NOPE",
        "第4行 数量: 数量必须大于0",
        "第5行 订单实付金额: 金额最多两位小数：12.345",
        "第6行 收货地址: 收货地址缺失",
        "第7行 付款时间: 时间格式应为 YYYY-MM-DD HH:MM:SS：昨天",
    ]
    assert report.status == "failed"
    assert report.orders_created == 0
    assert not Order.objects.exists()
    assert not Allocation.objects.exists()
    record = OrderImport.objects.get()
    assert record.status == "failed"
    assert record.errors[0] == {
        "line": 3,
        "field": "商家编码",
        "message": "未知的商家编码：NOPE",
    }


def test_rows_of_one_order_must_agree(world):
    rows = f.tmall_rows()[1:3]
    rows[1] = [*rows[1][:9], "999.00", *rows[1][10:]]
    report = _import(world, f.csv_bytes(f.TMALL_HEADER, rows), "t.csv")
    assert [str(e) for e in report.errors] == ["第3行 订单实付金额: 与第2行同一订单的信息不一致"]
    assert not Order.objects.exists()


def test_dry_run_validates_and_writes_nothing(world):
    report = _import(world, f.csv_bytes(f.TMALL_HEADER, f.tmall_rows()), "t.csv", dry_run=True)
    assert report.ok
    assert report.orders_total == 2
    assert report.orders_created == 0
    assert not Order.objects.exists()
    assert not OrderImport.objects.exists()


# --- idempotency ---------------------------------------------------------------------------------


def test_reimporting_the_same_file_creates_nothing_new(world):
    content = f.csv_bytes(f.TMALL_HEADER, f.tmall_rows())
    first = _import(world, content, "t.csv")
    second = _import(world, content, "t.csv")
    assert (first.status, first.orders_created) == ("imported", 2)
    assert (second.status, second.orders_created, second.orders_existing) == ("already_imported", 0, 2)
    assert Order.objects.count() == 2
    assert Allocation.objects.count() == first.orders_created + 1  # no second reservation
    # a file with one more order imports only the new one
    more = [*f.tmall_rows(), _tm("T1009", amount="90.00", buyer="buyer_z")]
    third = _import(world, f.csv_bytes(f.TMALL_HEADER, more), "t2.csv")
    assert (third.orders_created, third.orders_existing, third.order_numbers) == (1, 2, ["T1009"])


# --- stock short: imported, unreserved, held (ORD-01 / ORD-04) -----------------------------------


def test_ord_04_order_without_stock_is_imported_unreserved_and_held_out_of_stock(store, channel):
    world = World(store, channel, stock_sh=1, stock_gz=0)
    rows = [_tm("T77", qty="5", amount="500.00")]
    report = _import(world, f.csv_bytes(f.TMALL_HEADER, rows), "t.csv")
    assert report.ok
    assert (report.orders_created, report.orders_unreserved) == (1, 1)
    order = Order.objects.get(number="T77")
    assert order.status == "paid"
    assert not Allocation.objects.filter(line__order=order).exists()
    held = svc.order_auto_review(actor=ACTOR, order=order, now=order.paid_at)
    assert held.status == "on_hold"
    assert "out_of_stock" in held.hold_reasons
    assert held.notifications.filter(purpose="exception:out_of_stock").exists()


def test_ord_03_ship_by_comes_from_the_channel_playbook(world, store, channel):
    playbook_update(actor=ACTOR, store=store, channel=channel, values={"ship_promise_hours": 24})
    _import(world, f.csv_bytes(f.TMALL_HEADER, f.tmall_rows()[:1]), "t.csv")
    order = Order.objects.get(number="T1001")
    assert order.ship_by == order.paid_at + dt.timedelta(hours=24)


# --- CLI -----------------------------------------------------------------------------------------


def test_cli_imports_and_dry_runs(world, tmp_path, capsys):
    path = tmp_path / "tmall.csv"
    path.write_bytes(f.csv_bytes(f.TMALL_HEADER, f.tmall_rows()))
    call_command("orders", "import", str(path), "--store", "s1", "--channel", "tmall", "--dry-run")
    assert not Order.objects.exists()
    call_command("orders", "import", str(path), "--store", "s1", "--channel", "tmall")
    assert Order.objects.count() == 2
    bad = tmp_path / "bad.csv"
    bad.write_bytes(f.csv_bytes(f.TMALL_HEADER, [[*f.tmall_rows()[0][:6], "NOPE", *f.tmall_rows()[0][7:]]]))
    with pytest.raises(CommandError):
        call_command("orders", "import", str(bad), "--store", "s1", "--channel", "tmall")
    out = capsys.readouterr().out
    assert "未知的商家编码：NOPE" in out


def test_ord_06_as_04_imported_order_is_refunded_and_cancelled_through_the_same_books(world):
    # given an imported Tmall order (paid on the platform)
    report = _import(world, f.csv_bytes(f.TMALL_HEADER, f.tmall_rows()), "tmall.csv")
    assert report.ok, report.errors
    two = Order.objects.get(number="T1002")
    # then its payment is recorded as settled by the marketplace
    payment = two.payments.get()
    assert (payment.provider, payment.status, payment.amount) == ("marketplace", "succeeded", two.payable)
    # a partial refund (one unit of the second line) returns exactly what that unit was paid
    _small, big = two.lines.order_by("position")
    (refund,) = svc.order_refund(actor=ACTOR, order=two, units={big.pk: 1}, reason="少发一件")
    assert refund.amount == Decimal("83.34")  # 166.67 over two units: 83.34 + 83.33
    # and cancelling before shipment refunds the rest, the stock goes back
    two = svc.order_cancel(actor=ACTOR, order=two, reason="买家在平台取消")
    assert two.status == "cancelled"
    assert two.refunded_amount == two.paid_amount == Decimal("250.00")
    assert not Allocation.objects.filter(line__order=two, released=False).exists()
