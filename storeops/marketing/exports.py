"""The post-mortem as an Excel workbook (SOP PROMO-07)."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from typing import Any, NamedTuple

from django.utils.translation import gettext as _
from openpyxl import Workbook

from storeops.marketing.models import BudgetKind, Campaign


def unavailable_label(section: str) -> str:
    return {
        "top_service_questions": _("客服高频问题"),
        "review_keywords": _("评价关键词"),
        "new_members": _("新用户转会员"),
    }.get(section, section)


def _pct(share: str) -> str:
    return str((Decimal(share) * 100).quantize(Decimal("0.1")))


class PostmortemRow(NamedTuple):
    label: str
    actual: Any
    plan: Any
    # actual and plan are amounts: the console writes them with ¥, the workbook as numbers
    money: bool = False


def postmortem_rows(campaign: Campaign, report: dict[str, Any]) -> list[PostmortemRow]:
    """(item, actual, plan/target, money) rows, in the order the console and the workbook show
    them. The values stay as the report has them (the workbook needs numbers); ``money`` marks
    the rows of amounts, for the console to format."""
    none = "-"
    rows: list[PostmortemRow] = [
        PostmortemRow(_("GMV"), report["gmv"], report["gmv_target"], money=True),
        PostmortemRow(_("GMV达成率(%)"), report["gmv_attainment_pct"] or none, ""),
        PostmortemRow(_("新用户"), report["new_users"], report["new_users_target"]),
        PostmortemRow(_("新用户达成率(%)"), report["new_users_attainment_pct"] or none, ""),
        PostmortemRow(_("花费 / 预算"), report["cost"], report["planned_cost"], money=True),
        PostmortemRow(_("预算使用率(%)"), report["budget_used_pct"] or none, ""),
        PostmortemRow(_("ROI =（销售额 − 成本）÷ 成本"), report["roi"] or none, ""),
        PostmortemRow(_("订单数"), report["orders"], ""),
    ]
    if "new_members" in report:  # reports generated before it was counted say it was unavailable
        share = report["new_members_pct"]
        rows.append(
            PostmortemRow(
                _("新用户转会员"),
                report["new_members"],
                _("占新用户 %(p)s%%") % {"p": share} if share else "",
            )
        )
    labels = dict(BudgetKind.choices)
    rows.extend(
        PostmortemRow(
            f"{_('预算')}·{labels.get(b['kind'], b['kind'])}", b["actual"], b["planned"], money=True
        )
        for b in report["budget"]
    )
    questions, keywords = _("客服高频问题"), _("评价关键词")
    # reports generated before these sections existed don't have them
    rows.extend(
        PostmortemRow(f"{questions}·{q['question']}", q["count"], _("占比 %(p)s%%") % {"p": _pct(q["share"])})
        for q in report.get("top_service_questions", [])
    )
    if "top_service_questions" in report and not report["top_service_questions"]:
        rows.append(PostmortemRow(questions, _("活动期间没有工单"), ""))
    for k in report.get("review_keywords", []):
        rating = _("平均 %(r)s 星") % {"r": k["avg_rating"]} if k["avg_rating"] else ""
        rows.append(PostmortemRow(f"{keywords}·{k['keyword']}", k["count"], rating))
    if "review_keywords" in report and not report["review_keywords"]:
        rows.append(PostmortemRow(keywords, _("活动以来没有评价"), ""))
    rows.extend(
        PostmortemRow(unavailable_label(s), _("暂无数据（模块尚未建设）"), "") for s in report["unavailable"]
    )
    return rows


_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def _cell(value: Any) -> Any:
    """Amounts and counts as numbers in the workbook (finance sums them), the rest as text."""
    if isinstance(value, Decimal | int | float) and not isinstance(value, bool):
        return float(value) if isinstance(value, Decimal) else value
    text = str(value)
    if _NUMBER.fullmatch(text):
        number = Decimal(text)
        return int(number) if "." not in text else float(number)
    return text


def postmortem_workbook(campaign: Campaign, report: dict[str, Any]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = _("活动复盘")[:31]
    ws.append([_("活动"), campaign.theme, f"{campaign.starts_on} ~ {campaign.ends_on}"])
    ws.append([_("项目"), _("实际"), _("计划/目标")])
    for row in postmortem_rows(campaign, report):
        ws.append([str(row.label), _cell(row.actual), _cell(row.plan)])
    ws.column_dimensions["A"].width = 36
    ws.column_dimensions["B"].width = 24
    ws.column_dimensions["C"].width = 24
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
