"""Complaint root-cause report (CS-04) and the post-mortem helpers."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from storeops.service import exports, selectors, services
from storeops.service.models import ComplaintReport
from tests.service.builders import ACTOR, a_script, a_ticket, at

pytestmark = pytest.mark.django_db


def _week(store, channel):
    # previous week (T0-7d … T0): one logistics complaint; this week (T0 … T0+7d): three
    a_ticket(store, channel, opened=at(-24), subject="快递慢")
    a_ticket(store, channel, opened=at(1), subject="快递破损", message="箱子破损了")
    a_ticket(
        store,
        channel,
        opened=at(2),
        subject="面料起球",
        category="quality",
        tier="serious",
        sku_code="DRESS-S",
        message="洗了一次就起球",
    )
    t = a_ticket(
        store,
        channel,
        opened=at(3),
        subject="裙子开线",
        category="quality",
        tier="serious",
        sku_code="DRESS-S",
    )
    a_ticket(store, channel, opened=at(4), kind="inquiry", subject="咨询尺码")  # not a complaint
    services.ticket_reply(actor=ACTOR, ticket=t, body="抱歉", at=at(3, seconds=20))
    services.ticket_resolve(actor=ACTOR, ticket=t, note="退款", refund_ref="RF-3", at=at(5))


def test_cs_04_report_counts_shares_trend_keywords_and_sla(store, channel):
    _week(store, channel)
    report = selectors.complaint_report(store=store, start=at(0), end=at(24 * 7))
    assert (report["total"], report["previous_total"], report["trend"]) == (3, 1, "2.0000")
    assert [(r["key"], r["count"], r["share"], r["previous"]) for r in report["by_category"]] == [
        ("quality", 2, "0.6667", 0),
        ("logistics", 1, "0.3333", 1),
    ]
    assert report["by_category"][0]["label"] == "质量"
    assert [(r["key"], r["count"]) for r in report["by_sku"]] == [("DRESS-S", 2), ("", 1)]
    assert [r["label"] for r in report["by_sku"]] == ["DRESS-S", "未关联商品"]  # was "-"
    assert {k["keyword"]: k["count"] for k in report["top_keywords"]}["破损"] == 1
    sla = report["sla"]
    assert (sla["tickets"], sla["responded"], sla["response_on_time"], sla["resolution_on_time"]) == (
        3,
        1,
        1,
        1,
    )
    assert sla["first_response_median_seconds"] == 20


def test_cs_04_generate_stores_one_report_per_period_and_the_workbook_has_every_section(store, channel):
    _week(store, channel)
    services.report_generate(actor=ACTOR, store=store, start=at(0), end=at(168))
    row = services.report_generate(actor=ACTOR, store=store, start=at(0), end=at(168))
    assert ComplaintReport.objects.count() == 1
    wb = load_workbook(io.BytesIO(exports.report_workbook(row.data, store.name)))
    assert wb.sheetnames == ["客诉概览", "按分类", "按级别", "按商品（SKU）", "按渠道", "高频关键词"]
    quality = wb["按分类"][2]
    assert [c.value for c in quality] == ["质量", 2, pytest.approx(2 / 3, abs=1e-4), 0, None]
    assert quality[2].number_format == "0.0%"


def test_cs_04_weekly_generation_covers_last_monday_to_monday(store, channel):
    rows = services.reports_generate_weekly(actor=ACTOR, now=dt.datetime(2026, 3, 4, 8, 0, tzinfo=dt.UTC))
    assert len(rows) == 1
    assert rows[0].period_end - rows[0].period_start == dt.timedelta(days=7)
    assert rows[0].period_end.weekday() == 0


def test_cs_04_top_questions_group_tickets_by_best_script(store, channel):
    a_script(store, "物流查询", keywords="快递,物流")
    a_script(store, "尺码建议", keywords="尺码,码数")
    a_ticket(store, channel, opened=at(1), subject="快递到哪了", message="")
    a_ticket(store, channel, opened=at(2), subject="问一下", message="物流三天没更新")
    a_ticket(store, channel, opened=at(3), subject="选哪个码数", kind="inquiry", message="")
    a_ticket(store, channel, opened=at(4), subject="发票抬头", message="")
    a_ticket(store, channel, opened=at(200), subject="快递", message="")  # outside the period
    top = selectors.top_questions(store=store, start=at(0), end=at(24), limit=10)
    assert [(q["question"], q["count"]) for q in top] == [("物流查询", 2), ("发票抬头", 1), ("尺码建议", 1)]


def test_cs_04_review_keywords_with_average_rating(store, channel):
    for i, (rating, text) in enumerate([(5, "质量好，物流快"), (5, "质量好"), (2, "色差大，失望")]):
        services.review_create(
            actor=ACTOR,
            store=store,
            channel=channel,
            order_ref=f"O-{i}",
            sku_code="S",
            customer_ref="c",
            rating=rating,
            text=text,
            created_at=at(i),
        )
    words = selectors.review_keywords(store=store, start=at(0), end=at(24), limit=3)
    assert words[0] == {"keyword": "质量好", "count": 2, "avg_rating": "5.0"}
    assert {w["keyword"] for w in words} <= {"质量好", "物流快", "色差", "失望"}
