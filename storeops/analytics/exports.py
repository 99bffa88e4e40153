"""Downloads: a segment's customer list (MEM-04, Excel, for outreach) and the operations
reports (DATA-06, Excel and PDF).

The customer list carries the customer reference, segment, RFM scores and figures and the
province/city of the latest order — no names, phones or street addresses (DATA-09 / RISK-05).
The PDF uses reportlab's built-in CID font STSong-Light, so Chinese renders without shipping
a font file.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from django.utils import timezone
from django.utils.translation import gettext as _

from storeops.analytics import reports, segments
from storeops.analytics.models import CustomerSnapshot, OperationsReport
from storeops.analytics.segments import SEGMENT_LABELS
from storeops.core.errors import ValidationError
from storeops.stores.models import Store

PDF_FONT = "STSong-Light"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _workbook_bytes(wb: Any) -> bytes:
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def segment_customers_xlsx(
    *, rows: Iterable[CustomerSnapshot], regions: dict[str, tuple[str, str]], title: str
) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = _("客户名单")[:31]
    ws.append([title])
    ws.append(
        [
            _("顾客"),
            _("分层"),
            "R",
            "F",
            "M",
            _("最近购买距今（天）"),
            _("购买次数"),
            _("消费金额"),
            _("首单日期"),
            _("最近下单日期"),
            _("省"),
            _("市"),
        ]
    )
    for r in rows:
        province, city = regions.get(r.customer_ref, ("", ""))
        ws.append(
            [
                r.customer_ref,
                str(SEGMENT_LABELS.get(r.segment, r.segment)),
                r.r_score,
                r.f_score,
                r.m_score,
                r.recency_days,
                r.frequency,
                float(r.monetary),
                r.first_paid_on,
                r.last_paid_on,
                province,
                city,
            ]
        )
    for cell in ws["H"][2:]:
        cell.number_format = "#,##0.00"
    return _workbook_bytes(wb)


def segment_export(*, store: Store, segment: str, day: dt.date | None) -> tuple[bytes, str, str]:
    """(body, content type, file name) of a segment's customer list on the snapshot ``day``."""
    rows = list(segments.segment_customers(store=store, segment=segment, day=day))
    snapshot_day = rows[0].day if rows else segments.snapshot_latest_day(store=store, on_or_before=day)
    regions = segments.customer_regions(store=store, refs=[r.customer_ref for r in rows], day=snapshot_day)
    label = str(SEGMENT_LABELS.get(segment, _("全部客户")))
    body = segment_customers_xlsx(rows=rows, regions=regions, title=f"{store.name} {label} {snapshot_day}")
    return body, XLSX_CONTENT_TYPE, f"segment-{store.code}-{segment or 'all'}-{snapshot_day}.xlsx"


REPORT_FORMATS = ("xlsx", "pdf")


def report_file(report: OperationsReport, file_format: str) -> tuple[bytes, str, str]:
    """(body, content type, file name) of a report as Excel (``xlsx``) or PDF (``pdf``)."""
    if file_format == "pdf":
        body, content_type = report_pdf(report), "application/pdf"
    elif file_format == "xlsx":
        body, content_type = report_xlsx(report), XLSX_CONTENT_TYPE
    else:
        raise ValidationError(_("文件格式无效"), fields={"format": _("只能是 xlsx 或 pdf")})
    return body, content_type, f"report-{report.kind}-{report.period_start.isoformat()}.{file_format}"


def _ok_text(ok: bool | None) -> str:
    return "" if ok is None else (_("达标") if ok else _("未达标"))


# Excel number formats per KPI unit: the cells hold numbers (sums and charts work), shown as
# the console shows them. Ratios are stored as fractions (0.25) and shown as 25.0 %.
_XLSX_FORMATS = {
    "cny": '"¥"#,##0.00',
    "ratio": "0.0%",
    "rating": "0.00",
    "nps": "0.0",
}


def _xlsx_number(value: Decimal | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def report_xlsx(report: OperationsReport) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = _("报表")[:31]
    ws.append([reports.report_title(report)])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append(
        [
            _("生成时间"),
            timezone.localtime(report.generated_at).strftime("%Y-%m-%d %H:%M"),
            _("未达标项"),
            report.missed,
        ]
    )
    header = [_("指标"), _("本期"), _("上期"), _("变化"), _("目标"), _("是否达标"), _("目标方向")]
    for section in reports.report_rows(report):
        ws.append([])
        ws.append([section["label"]])
        ws.cell(row=ws.max_row, column=1).font = Font(bold=True)
        ws.append(header)
        for r in section["rows"]:
            value, previous, change, target = (_xlsx_number(n) for n in r["numbers"])
            direction = "" if target is None else ("≥" if r["better"] == "higher" else "≤")
            ws.append([r["label"], value, previous, change, target, _ok_text(r["ok"]), direction])
            row = ws.max_row
            if r["unit"] == "minutes":
                number_format = f'0.0" {_("分钟")}"'
            else:
                number_format = _XLSX_FORMATS.get(r["unit"], "0")
            for column in (2, 3, 5):
                ws.cell(row=row, column=column).number_format = number_format
            # NPS changes are points (+5.0), the others relative changes (+5.0 %)
            change_format = "+0.0;-0.0;0.0" if r["unit"] == "nps" else "+0.0%;-0.0%;0.0%"
            ws.cell(row=row, column=4).number_format = change_format
    segment_rows = reports.report_segment_rows(report)
    if segment_rows:
        ws.append([])
        ws.append([_("客户分层")])
        ws.cell(row=ws.max_row, column=1).font = Font(bold=True)
        ws.append([_("分层"), _("客户数"), _("新进入"), _("流出")])
        for s in segment_rows:
            ws.append([s["label"], s["customers"], s["entered"], s["left"]])
    launch_rows = reports.report_launch_rows(report)
    if launch_rows:
        ws.append([])
        ws.append([_("新渠道上线目标")])
        ws.cell(row=ws.max_row, column=1).font = Font(bold=True)
        ws.append([_("渠道"), _("第几个月"), _("指标"), _("目标值"), _("实际值"), _("是否达标")])
        for t in launch_rows:
            ws.append(
                [
                    t["channel"],
                    t["month"],
                    t["metric_label"],
                    _xlsx_number(Decimal(t["target"])),
                    _xlsx_number(Decimal(t["actual"])) if t["actual"] is not None else None,
                    t["ok_text"],
                ]
            )
    ws.column_dimensions["A"].width = 28
    for column in "BCDEFG":
        ws.column_dimensions[column].width = 16
    return _workbook_bytes(wb)


# Characters STSong-Light's GB character set lacks (drawn as an empty box) and the ones it has
# for them: the full-width yen sign for U+00A5, the katakana middle dot for the middle dot and
# the bullet, a hyphen for the minus sign.
_PDF_SUBSTITUTES = str.maketrans({"¥": "￥", "–": "~", "·": "・", "•": "・", "‧": "・", "−": "-"})


def _pdf_text(text: str) -> str:
    return escape(text.translate(_PDF_SUBSTITUTES))


def report_pdf(report: OperationsReport) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    if PDF_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(PDF_FONT))
    title_style = ParagraphStyle("title", fontName=PDF_FONT, fontSize=16, leading=22, spaceAfter=6)
    head_style = ParagraphStyle(
        "head", fontName=PDF_FONT, fontSize=12, leading=18, spaceBefore=8, spaceAfter=4
    )
    text_style = ParagraphStyle("text", fontName=PDF_FONT, fontSize=9, leading=13)
    missed_style = ParagraphStyle("missed", parent=text_style, textColor=colors.HexColor("#b42318"))
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=reports.report_title(report),
        author="StoreOps",
    )
    table_style = TableStyle(
        [
            ("FONTNAME", (0, 0), (-1, -1), PDF_FONT),
            ("FONTSIZE", (0, 0), (-1, -1), 9),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef7")),
            ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9aa5b1")),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ]
    )

    def table(header: list[str], rows: list[list[Any]], widths: list[float]) -> Table:
        data = [[Paragraph(_pdf_text(str(c)), text_style) for c in header]]
        for row in rows:  # a missed target is shown in red
            style = missed_style if row and row[-1] == _("未达标") else text_style
            data.append([Paragraph(_pdf_text(str(c)), style) for c in row])
        t = Table(data, colWidths=[w * mm for w in widths], repeatRows=1)
        t.setStyle(table_style)
        return t

    story: list[Any] = [
        Paragraph(_pdf_text(reports.report_title(report)), title_style),
        Paragraph(
            _pdf_text(
                _("生成时间 %(t)s · 未达标项 %(n)s")
                % {
                    "t": timezone.localtime(report.generated_at).strftime("%Y-%m-%d %H:%M"),
                    "n": report.missed,
                }
            ),
            text_style,
        ),
    ]
    header = [_("指标"), _("本期"), _("上期"), _("变化"), _("目标"), _("是否达标")]
    for section in reports.report_rows(report):
        story += [
            Paragraph(_pdf_text(section["label"]), head_style),
            table(
                header,
                [
                    [r["label"], r["value"], r["previous"], r["change"], r["target"], _ok_text(r["ok"])]
                    for r in section["rows"]
                ],
                [52, 28, 28, 22, 30, 20],
            ),
        ]
    segment_rows = reports.report_segment_rows(report)
    if segment_rows:
        story += [
            Paragraph(_pdf_text(_("客户分层")), head_style),
            table(
                [_("分层"), _("客户数"), _("新进入"), _("流出")],
                [[s["label"], s["customers"], s["entered"], s["left"]] for s in segment_rows],
                [52, 30, 30, 30],
            ),
        ]
    launch_rows = reports.report_launch_rows(report)
    if launch_rows:
        story += [
            Paragraph(_pdf_text(_("新渠道上线目标")), head_style),
            table(
                [_("渠道"), _("第几个月"), _("指标"), _("目标值"), _("实际值"), _("是否达标")],
                [
                    [
                        t["channel"],
                        t["month"],
                        t["metric_label"],
                        t["target"],
                        t["actual"] or "",
                        t["ok_text"],
                    ]
                    for t in launch_rows
                ],
                [40, 20, 34, 28, 28, 20],
            ),
        ]
    story.append(Spacer(1, 4 * mm))
    doc.build(story)
    return buffer.getvalue()
