"""The complaint root-cause report as an Excel workbook (SOP CS-04)."""

from __future__ import annotations

import io
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook


def _pct(value: Any) -> str:
    return "-" if value is None else f"{float(value) * 100:.1f}%"


def _dash(value: Any) -> str:
    return "-" if value is None else str(value)


def _ratio(value: Any) -> float | None:
    return None if value is None else float(value)


def group_sections() -> list[tuple[str, str]]:
    return [
        ("by_category", _("按分类")),
        ("by_tier", _("按级别")),
        ("by_sku", _("按商品（SKU）")),
        ("by_channel", _("按渠道")),
    ]


def report_workbook(report: dict[str, Any], store_name: str) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = _("客诉概览")[:31]
    ws.append([_("店铺"), store_name])
    ws.append([_("报告期"), report["start"][:10], report["end"][:10]])
    ws.append(
        [_("投诉数"), report["total"], _("上期"), report["previous_total"], _("环比"), _pct(report["trend"])]
    )
    ws.append([])
    sla, chat = report["sla"], report["chat"]
    ws.append([_("时效达成")])
    for label, value in [
        (_("按时首次响应"), f"{sla['response_on_time']} / {sla['tickets']} ({_pct(sla['response_rate'])})"),
        (_("按时解决"), f"{sla['resolution_on_time']} / {sla['tickets']} ({_pct(sla['resolution_rate'])})"),
        (
            _("首次响应中位数（秒）"),
            sla["first_response_median_seconds"] if sla["first_response_median_seconds"] is not None else "-",
        ),
        (
            _("在线聊天 %(s)s 秒内首响") % {"s": chat["target_seconds"]},
            f"{chat['within_target']} / {chat['due']} ({_pct(chat['share_within_target'])})",
        ),
        (
            _("在线聊天首响中位数 / P90（秒）"),
            f"{_dash(chat['median_seconds'])} / {_dash(chat['p90_seconds'])}",
        ),
        (_("危机声明按时"), f"{sla['statements_on_time']} / {sla['crises']}"),
    ]:
        ws.append([str(label), str(value)])
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 24
    for key, title in group_sections():
        sheet = wb.create_sheet(str(title)[:31])
        sheet.append([_("项目"), _("数量"), _("占比"), _("上期"), _("环比")])
        for row in report[key]:
            # shares and trends as numbers shown as percentages (sortable, summable)
            share, trend = _ratio(row["share"]), _ratio(row["trend"])
            sheet.append([row["label"], row["count"], share, row["previous"], trend])
            for column in (3, 5):
                sheet.cell(row=sheet.max_row, column=column).number_format = "0.0%"
        sheet.column_dimensions["A"].width = 24
    words = wb.create_sheet(_("高频关键词")[:31])
    words.append([_("关键词"), _("提及次数")])
    for row in report["top_keywords"]:
        words.append([row["keyword"], row["count"]])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
