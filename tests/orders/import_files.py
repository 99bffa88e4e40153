"""Small generated marketplace order exports (CSV and .xlsx) for the import tests (h6)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

TMALL_HEADER = ["订单编号", "买家会员名", "收货人姓名", "联系手机", "收货地址", "宝贝标题", "商家编码",
                "购买数量", "价格", "实付款", "订单状态", "订单创建时间", "订单付款时间",
                "买家留言"]  # fmt: skip
JD_HEADER = ["订单号", "下单帐号", "客户姓名", "联系电话", "客户地址", "商品名称", "商品编号",
             "订购数量", "应付金额", "订单状态", "下单时间", "付款确认时间"]  # fmt: skip
DOUYIN_HEADER = ["主订单编号", "子订单编号", "收件人", "收件人手机号", "省", "市", "区", "详细地址",
                 "选购商品", "商家编码", "商品数量", "商品单价", "订单应付金额", "订单提交时间",
                 "支付完成时间", "订单状态"]  # fmt: skip
PDD_HEADER = ["订单号", "商品", "订单状态", "收货人", "手机", "省", "市", "区", "街道", "商家编码-SKU维度",
              "商品数量(件)", "商家实收金额(元)", "订单成交时间"]  # fmt: skip


def tmall_rows() -> list[list[Any]]:
    """Two orders; T1002 has two lines (same order number on two rows) and only an order total."""
    return [
        ["T1001", "buyer_a", "张三", "13812345678", "浙江省 杭州市 西湖区 文三路100号", "连衣裙S", "P1-S",
         "2", "100.00", "180.00", "买家已付款，等待卖家发货", "2026-06-01 09:00:00",
         "2026-06-01 09:05:00", "尽快发货"],
        ["T1002", "buyer_b", "李四", "13900001111", "上海市 上海市 浦东新区 世纪大道100号", "连衣裙S", "P1-S",
         "1", "100.00", "250.00", "买家已付款，等待卖家发货", "2026-06-01 10:00:00",
         "2026-06-01 10:01:00", ""],
        ["T1002", "buyer_b", "李四", "13900001111", "上海市 上海市 浦东新区 世纪大道100号", "连衣裙M", "P1-M",
         "2", "100.00", "250.00", "买家已付款，等待卖家发货", "2026-06-01 10:00:00",
         "2026-06-01 10:01:00", ""],
        ["T1003", "buyer_c", "王五", "13700001111", "浙江省 宁波市 鄞州区 天童路1号", "连衣裙S", "P1-S",
         "1", "100.00", "100.00", "等待买家付款", "2026-06-01 11:00:00", "", ""],
    ]  # fmt: skip


def jd_rows() -> list[list[Any]]:
    return [
        ["JD501", "jd_user", "赵六", "13611112222", "北京北京市朝阳区建国路1号", "连衣裙", "P1-M", "3",
         "270.00", "等待出库", "2026-06-02 08:00:00", "2026-06-02 08:00:30"],
    ]  # fmt: skip


def douyin_rows() -> list[list[Any]]:
    return [
        ["DY9001", "DY9001-1", "钱七", "13522223333", "广东省", "深圳市", "南山区", "科技园路1号", "连衣裙S",
         "P1-S", "1", "100.00", "150.00", "2026-06-03 20:00:00", "2026-06-03 20:00:10", "待发货"],
        ["DY9001", "DY9001-2", "钱七", "13522223333", "广东省", "深圳市", "南山区", "科技园路1号", "连衣裙M",
         "P1-M", "1", "100.00", "150.00", "2026-06-03 20:00:00", "2026-06-03 20:00:10", "待发货"],
    ]  # fmt: skip


def pdd_rows() -> list[list[Any]]:
    return [
        ["PDD-260604-01", "连衣裙S", "待发货", "孙八", "13433334444", "四川省", "成都市", "武侯区",
         "天府大道100号", "P1-S", "2", "199.00", "2026-06-04 12:00:00"],
    ]  # fmt: skip


_PLACES = (
    "浙江省 杭州市 西湖区 文三路{n}号",
    "上海市 上海市 浦东新区 世纪大道{n}号",
    "广东省 深圳市 南山区 科技园路{n}号",
    "北京市 北京市 朝阳区 建国路{n}号",
    "四川省 成都市 武侯区 天府大道{n}号",
)


def many_tmall_rows(count: int, prefix: str = "B", *, two_line_every: int = 5) -> list[list[str]]:
    """``count`` paid Tmall orders numbered ``<prefix>0000000``…; every ``two_line_every``-th
    (from the first) has two lines, P1-S × 1 and P1-M × 2 (only an order total); the others
    are P1-S × 1. Each order is paid 90.00 per unit."""
    rows = []
    for i in range(count):
        number, buyer = f"{prefix}{i:07d}", f"buyer{i % 700}"
        address = _PLACES[i % len(_PLACES)].format(n=i % 300 + 1)
        paid = f"2026-06-01 {8 + i % 12:02d}:{i % 60:02d}:00"
        lines = [("P1-S", 1), ("P1-M", 2)] if two_line_every and i % two_line_every == 0 else [("P1-S", 1)]
        total = f"{sum(q for _c, q in lines) * 90}.00"
        for code, qty in lines:
            rows.append([number, buyer, "张三", f"138{i:08d}", address, "连衣裙", code, str(qty),
                         "100.00", total, "买家已付款，等待卖家发货", paid, paid, ""])  # fmt: skip
    return rows


def csv_bytes(header: Sequence[str], rows: Sequence[Sequence[Any]], *, encoding: str = "utf-8-sig") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
