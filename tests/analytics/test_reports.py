"""SOP DATA-06: the daily operations report (运营日报) every morning at the playbook's hour and
the weekly / monthly / quarterly reviews with targets against actuals, built from the measures
the system has (DATA-01 metrics, TEAM-01 KPIs, orders, after-sales, findings opened and
resolved, segments, STORE-07 launch targets), stored, sent to the operations team, and
exportable as Excel and PDF."""

from __future__ import annotations

import base64
import datetime as dt
import io
import re
import zlib
from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone, translation
from openpyxl import load_workbook

from storeops.accounts.roles import Role
from storeops.analytics import exports, reports, rules, services
from storeops.analytics.models import OperationsReport, ReportDelivery
from storeops.catalog.models import SalesDaily
from storeops.sop.services import checks_run
from storeops.stores import services as st
from storeops.stores.models import LaunchStep
from tests.orders.builders import ACTOR, World

pytestmark = pytest.mark.django_db

SAT = dt.date(2026, 12, 5)


@pytest.mark.parametrize(
    ("kind", "day", "start", "end"),
    [
        ("daily", SAT, dt.date(2026, 12, 4), SAT),
        ("weekly", SAT, dt.date(2026, 11, 23), dt.date(2026, 11, 30)),
        ("weekly", dt.date(2026, 11, 30), dt.date(2026, 11, 23), dt.date(2026, 11, 30)),  # on Monday
        ("monthly", SAT, dt.date(2026, 11, 1), dt.date(2026, 12, 1)),
        ("monthly", dt.date(2027, 1, 15), dt.date(2026, 12, 1), dt.date(2027, 1, 1)),
        ("quarterly", SAT, dt.date(2026, 7, 1), dt.date(2026, 10, 1)),
        ("quarterly", dt.date(2027, 1, 1), dt.date(2026, 10, 1), dt.date(2027, 1, 1)),
        ("quarterly", dt.date(2026, 3, 31), dt.date(2025, 10, 1), dt.date(2026, 1, 1)),
    ],
)
def test_data_06_a_report_covers_the_last_complete_period(kind, day, start, end):
    assert rules.report_period(rules.ReportKind(kind), day) == (start, end)


@pytest.fixture
def shop(store, channel, make_user):
    """Today: c1 pays 200.00 (2 units), c2 places and never pays; 100 visitors; an owner, an
    operations lead (who receives the report) and the DATA-07 cadence finding opened."""
    world = World(store, channel, stock_sh=20, stock_gz=0)
    today = timezone.localdate()
    SalesDaily.objects.create(
        store=store, product=world.sku_s.product, channel=channel, day=today, visitors=100
    )
    now = timezone.now()
    paid = world.place(2, customer="c1", now=now)
    world.pay(paid, now=now)
    world.place(1, customer="c2", now=now)
    make_user(Role.OPERATIONS)
    make_user(Role.WAREHOUSE)
    checks_run(rule="DATA-07", store=store, notify=False)  # opens "fewer A/B tests than planned"
    return world, today


def _rows(report):
    return {r["code"]: r for s in report.data["sections"] for r in s["rows"]}


def test_data_06_daily_report_from_the_existing_measures(store, shop):
    _world, today = shop
    report = services.report_generate(
        actor=ACTOR, store=store, kind="daily", day=today + dt.timedelta(days=1)
    )
    assert (report.period_start, report.period_end) == (today, today + dt.timedelta(days=1))
    rows = _rows(report)
    assert rows["gmv"]["value"] == "200.00"
    assert rows["orders"]["value"] == "1"
    assert rows["buyers"]["value"] == "1"
    assert rows["aov"]["value"] == "200.00"
    assert rows["uv"]["value"] == "100"
    assert rows["conversion"]["value"] == "0.0100"
    assert rows["conversion"]["target"] == "0.03"  # DATA-02 benchmark
    assert rows["conversion"]["ok"] is False
    assert rows["payment_conversion"]["value"] == "0.5000"
    # DATA-01 targets: every buyer is new (meets 30 %), nobody bought twice (misses 25 %)
    assert (rows["new_customer_share"]["target"], rows["new_customer_share"]["ok"]) == ("0.30", True)
    assert (rows["repurchase_rate"]["value"], rows["repurchase_rate"]["ok"]) == ("0.0000", False)
    assert rows["findings_opened"]["value"] == "1"
    assert rows["findings_unresolved"]["value"] == "1"
    assert rows["cases_opened"]["value"] == "0"
    assert report.missed == sum(1 for r in rows.values() if r["ok"] is False)
    assert report.missed >= 2


def test_data_06_the_report_is_sent_to_operations_once(store, shop):
    report = services.report_generate(actor=ACTOR, store=store, kind="daily")
    sent = list(ReportDelivery.objects.filter(report=report))
    assert {(d.channel, d.recipient) for d in sent} == {
        ("email", "u_operations@example.com"),
        ("log", "u_operations"),
    }
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert "运营日报" in message.subject
    assert "成交额（GMV）" in message.body
    assert f"/reports/{report.pk}/" in message.body
    # generating the same period again rebuilds the figures and sends nothing new
    again = services.report_generate(actor=ACTOR, store=store, kind="daily")
    assert again.pk == report.pk
    assert ReportDelivery.objects.filter(report=report).count() == 2
    assert len(mail.outbox) == 1


def test_data_06_reports_are_generated_from_the_playbook_hour_and_only_once(store, shop, system):
    _world, today = shop
    early = timezone.make_aware(dt.datetime.combine(today, dt.time(7, 30)))
    assert services.reports_due(store=store, now=early) == []  # default hour: 8
    st.playbook_update(actor=system, store=store, values={"report_daily_hour": 7})
    made = services.reports_due(store=store, now=early)
    assert sorted(r.kind for r in made) == ["daily", "monthly", "quarterly", "weekly"]
    assert services.reports_due(store=store, now=early + dt.timedelta(hours=1)) == []
    assert OperationsReport.objects.filter(store=store).count() == 4


def test_data_06_monthly_review_targets_against_actuals_with_launch_targets(store, shop, system):
    _world, today = shop
    last_month_start, _end = rules.report_period(rules.ReportKind.MONTHLY, today)
    douyin = st.channel_create(actor=system, store=store, kind="douyin", code="dy", name="抖音小店")
    plan = st.launch_plan_create(actor=system, channel=douyin, planned_go_live=last_month_start)
    st.launch_targets_set(
        actor=system,
        plan=plan,
        months=3,
        targets={
            (m, k): "0.05" if k == "conversion" else 100
            for m in (1, 2, 3)
            for k in ("gmv", "new_users", "conversion")
        },
    )
    for step in LaunchStep.values:
        st.launch_step_complete(actor=system, plan=plan, step=step)
    st.launch_go_live(actor=system, plan=plan, today=last_month_start)
    target = plan.targets.get(month=1, metric="gmv")
    st.launch_target_record_actual(actor=system, target=target, actual=Decimal("80"))
    report = services.report_generate(actor=ACTOR, store=store, kind="monthly", day=today)
    launch = report.data["launch"]
    assert {(t["month"], t["metric"]) for t in launch} >= {(1, "gmv"), (1, "new_users"), (1, "conversion")}
    gmv = next(t for t in launch if (t["month"], t["metric"]) == (1, "gmv"))
    assert (gmv["target"], gmv["actual"], gmv["ok"]) == ("100.0000", "80.0000", False)
    # the sales targets come from the playbook
    rows = _rows(report)
    assert rows["repurchase_rate"]["target"] == "0.25"
    assert rows["return_rate"]["target"] == "0.10"


def _unescape(m: re.Match[bytes]) -> bytes:
    """One escape of a PDF literal string: an octal byte or an escaped character."""
    code = m.group(1)
    return bytes([int(code, 8)]) if code[:1].isdigit() else code


def _pdf_strings(pdf: bytes) -> str:
    """The text drawn in the PDF: reportlab writes its page streams ASCII85- and Flate-encoded
    and CID-font text as UTF-16BE strings; decode the streams and every string shown (Tj)."""
    text = []
    for match in re.finditer(
        rb"/Filter \[ /ASCII85Decode /FlateDecode \] /Length (\d+)\s*>>\s*stream\r?\n", pdf
    ):
        data = pdf[match.end() : match.end() + int(match.group(1))].strip().removesuffix(b"~>")
        content = zlib.decompress(base64.a85decode(data))
        for literal in re.findall(rb"\((.*?)(?<!\\)\) Tj", content, re.DOTALL):
            raw = re.sub(rb"\\([0-7]{1,3}|.)", _unescape, literal, flags=re.DOTALL)
            text.append(raw.decode("utf-16-be", errors="replace"))
    return "\n".join(text)


def test_data_06_excel_and_pdf_exports(store, shop):
    _world, today = shop
    report = services.report_generate(
        actor=ACTOR, store=store, kind="daily", day=today + dt.timedelta(days=1)
    )
    sheet = load_workbook(io.BytesIO(exports.report_xlsx(report))).active
    cells = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert "运营日报" in cells[0][0]
    # numbers are numbers (finance sums them), shown as the console shows them
    gmv_row = next(r for r in sheet.iter_rows() if r[0].value == "成交额（GMV）")
    assert gmv_row[1].value == 200
    assert gmv_row[1].number_format == '"¥"#,##0.00'
    repurchase_row = next(r for r in sheet.iter_rows() if r[0].value == "复购率")
    assert repurchase_row[4].value == 0.25
    assert repurchase_row[4].number_format == "0.0%"
    assert (repurchase_row[5].value, repurchase_row[6].value) == ("未达标", "≥")
    kpi_labels = {row["label"] for section in reports.report_rows(report) for row in section["rows"]}
    kpi_cells = [r[1:5] for r in cells if r and r[0] in kpi_labels]
    assert kpi_cells
    assert not any(isinstance(v, str) for r in kpi_cells for v in r)
    pdf = exports.report_pdf(report)
    assert pdf.startswith(b"%PDF-")
    assert b"/STSong-Light" in pdf
    assert b"/UniGB-UCS2-H" in pdf
    text = _pdf_strings(pdf)
    assert reports.report_title(report) in text
    assert "成交额（GMV）" in text
    assert "￥200.00" in text
    assert "未达标" in text


def test_data_06_api_generates_lists_and_downloads(store, shop, api_as):
    _world, today = shop
    ops = api_as(Role.OPERATIONS)
    created = ops.post(f"/analytics/{store.pk}/reports", {"kind": "weekly", "day": today.isoformat()})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["kind"] == "weekly"
    assert [s["key"] for s in body["sections"]] == ["sales", "team", "aftersales", "findings"]
    assert ops.post(f"/analytics/{store.pk}/reports", {"kind": "yearly"}).status_code == 422
    analyst = api_as(Role.ANALYST)
    assert analyst.post(f"/analytics/{store.pk}/reports", {"kind": "daily"}).status_code == 403
    listed = analyst.get(f"/analytics/{store.pk}/reports", kind="weekly").json()
    assert listed["total"] == 1
    detail = analyst.get(f"/analytics/{store.pk}/reports/{body['id']}").json()
    last = dt.date.fromisoformat(body["period_end"]) - dt.timedelta(days=1)
    assert detail["title"].endswith(f"{body['period_start']} – {last.isoformat()}")
    pdf = analyst.get(f"/analytics/{store.pk}/reports/{body['id']}/export", format="pdf")
    assert (pdf.status_code, pdf["Content-Type"]) == (200, "application/pdf")
    xlsx = analyst.get(f"/analytics/{store.pk}/reports/{body['id']}/export", format="xlsx")
    assert xlsx["Content-Type"] == exports.XLSX_CONTENT_TYPE
    assert analyst.get(f"/analytics/{store.pk}/reports/{body['id']}/export", format="doc").status_code == 422


def test_data_06_console_list_detail_and_download(store, shop, make_user):
    _world, today = shop
    client = Client()
    client.force_login(make_user(Role.OPERATIONS))
    response = client.post(
        "/reports/generate/", {"kind": "daily", "day": (today + dt.timedelta(days=1)).isoformat()}
    )
    assert response.status_code == 302
    report = OperationsReport.objects.get(store=store, kind="daily")
    assert response["Location"] == f"/reports/{report.pk}/"
    html = client.get(f"/reports/{report.pk}/").content.decode()
    assert "成交额（GMV）" in html
    assert "未达标" in html
    assert "u_operations" in html  # who it was sent to
    assert "运营日报" in client.get("/reports/?kind=daily").content.decode()
    pdf = client.get(f"/reports/{report.pk}/download/?format=pdf")
    assert pdf.content.startswith(b"%PDF-")


def test_data_06_the_hourly_task_generates_what_is_due_and_the_morning_task_takes_the_snapshot(
    store, shop, system
):
    from storeops.analytics.models import CustomerSnapshot
    from storeops.analytics.tasks import generate_due_reports, snapshot_segments
    from storeops.audit.models import AuditEntry

    st.playbook_update(actor=system, store=store, values={"report_daily_hour": 0})  # due all day
    assert generate_due_reports.call_local() == 4
    assert generate_due_reports.call_local() == 0
    assert snapshot_segments.call_local() == 1  # MEM-04: yesterday's snapshot of every store
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    taken = AuditEntry.objects.get(action="segments.snapshot")
    assert (taken.object_id, taken.after["customers"]) == (yesterday, 0)  # today's buyers are not in it yet
    assert not CustomerSnapshot.objects.exists()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_data_06_pdf_draws_no_character_the_cid_font_lacks(store, shop, language):
    # STSong-Light's GB character set has no U+00B7 (the "·" of "生成时间 … · 未达标项 …"): it was
    # drawn as an empty box under the title; likewise the bullet and the minus sign
    _world, today = shop
    report = services.report_generate(
        actor=ACTOR, store=store, kind="daily", day=today + dt.timedelta(days=1)
    )
    with translation.override(language):
        text = _pdf_strings(exports.report_pdf(report))
    assert "・" in text  # the header line's separator, in a character the font has
    assert not {"·", "•", "−", "¥"} & set(text)
