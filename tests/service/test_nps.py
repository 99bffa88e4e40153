"""DATA-01 net promoter score (净推荐值): the rules, answers recorded through the API and the
console, survey exports imported, the weekly NPS against the playbook's target, and the NPS in
the daily metrics and the operations reports."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from storeops.accounts.roles import Role
from storeops.analytics import reports
from storeops.analytics import selectors as analytics_selectors
from storeops.audit.models import AuditEntry
from storeops.service import rules, selectors, services
from storeops.service.models import NpsResponse, ReviewInvitation
from storeops.stores import services as store_services

pytestmark = pytest.mark.django_db


def _at(day: dt.date, hour: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def _answers(store, system, day: dt.date, scores: list[int]) -> None:
    for score in scores:
        services.nps_record(actor=system, store=store, score=score, responded_at=_at(day))


# --- rules -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "band"),
    [(0, "detractor"), (6, "detractor"), (7, "passive"), (8, "passive"), (9, "promoter"), (10, "promoter")],
)
def test_data_01_nps_bands_at_their_edges(score, band):
    assert rules.nps_band(score) == band


@pytest.mark.parametrize("score", [-1, 11])
def test_data_01_a_score_outside_0_to_10_has_no_band(score):
    with pytest.raises(ValueError, match="0–10"):
        rules.nps_band(score)


def test_data_01_nps_is_promoters_share_minus_detractors_share():
    # 5 promoters, 3 passives, 2 detractors: 50 % − 20 % = 30
    tally = rules.nps_tally({10: 2, 9: 3, 8: 1, 7: 2, 6: 1, 0: 1}, min_responses=10)
    assert (tally.promoters, tally.passives, tally.detractors, tally.responses) == (5, 3, 2, 10)
    assert tally.score == Decimal("30.0")
    assert tally.enough is True
    assert tally.share(rules.NpsBand.PASSIVE) == Decimal("0.3000")
    assert rules.nps_tally({9: 1, 3: 2}).score == Decimal("-33.3")  # (1 − 2) ÷ 3, half up
    assert rules.nps_tally({}).score is None
    assert rules.nps_tally({10: 3}, min_responses=4).enough is False


@given(st.dictionaries(st.integers(0, 10), st.integers(0, 500)))
def test_data_01_nps_stays_between_minus_100_and_100(counts):
    tally = rules.nps_tally(counts)
    assert tally.responses == sum(counts.values())
    if tally.responses == 0:
        assert tally.score is None
    else:
        assert tally.score is not None
        assert Decimal(-100) <= tally.score <= Decimal(100)
        exact = Decimal(100 * (tally.promoters - tally.detractors)) / tally.responses
        assert abs(tally.score - exact) <= Decimal("0.05")


# --- API: one answer ----------------------------------------------------------------------------------


def test_data_01_the_web_shop_records_an_answer_once(store, channel, api_as):
    api = api_as(Role.CUSTOMER_SERVICE)
    body = {
        "score": 9,
        "channel_id": channel.pk,
        "order_ref": "O-1",
        "external_ref": "WJX-1",
        "comment": "发货快",
    }
    created = api.post(f"/service/{store.pk}/nps", body)
    assert created.status_code == 201, created.content
    assert created.json()["band"] == "promoter"
    assert created.json()["source"] == "api"
    again = api.post(f"/service/{store.pk}/nps", {**body, "order_ref": "O-2"})
    assert again.status_code == 409
    assert again.json()["fields"] == {"external_ref": "该答卷已录入"}
    same_order = api.post(f"/service/{store.pk}/nps", {"score": 3, "order_ref": "O-1"})
    assert same_order.status_code == 409
    assert "order_ref" in same_order.json()["fields"]
    assert NpsResponse.objects.count() == 1
    assert AuditEntry.objects.filter(action="nps.record").count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"score": 11}, "score"),
        ({"score": -1}, "score"),
        ({"order_ref": "x" * 65}, "order_ref"),
        ({"comment": "长" * 1001}, "comment"),
        ({"responded_at": "2999-01-01T00:00:00+08:00"}, "responded_at"),
        ({"responded_at": "1999-12-31T00:00:00+08:00"}, "responded_at"),
        ({"channel_id": 999999}, "channel_id"),
    ],
)
def test_data_01_a_bad_answer_is_422_naming_the_field_and_nothing_is_saved(store, api_as, change, field):
    api = api_as(Role.CUSTOMER_SERVICE)
    response = api.post(f"/service/{store.pk}/nps", {"score": 8, **change})
    assert response.status_code == 422, response.content
    assert field in response.json()["fields"]
    assert NpsResponse.objects.count() == 0


def test_data_01_a_channel_of_another_store_is_refused(store, system, api_as):
    other = store_services.store_create(actor=system, code="s2", name="另一家店")
    theirs = store_services.channel_create(actor=system, store=other, kind="jd", code="jd", name="京东")
    response = api_as(Role.CUSTOMER_SERVICE).post(
        f"/service/{store.pk}/nps", {"score": 8, "channel_id": theirs.pk}
    )
    assert response.status_code == 422
    assert NpsResponse.objects.count() == 0


def test_data_01_answers_are_listed_by_band_and_text(store, system, api_as, today):
    _answers(store, system, today, [10, 9, 7, 2])
    services.nps_record(actor=system, store=store, score=1, comment="物流太慢", responded_at=_at(today))
    api = api_as(Role.ANALYST)
    detractors = api.get(f"/service/{store.pk}/nps", band="detractor")
    assert detractors.status_code == 200
    assert sorted(a["score"] for a in detractors.json()["items"]) == [1, 2]
    slow = api.get(f"/service/{store.pk}/nps", q="物流")
    assert [a["score"] for a in slow.json()["items"]] == [1]
    paged = api.get(f"/service/{store.pk}/nps", page_size=2, page=3)
    assert (paged.json()["total"], len(paged.json()["items"])) == (5, 1)
    assert api.get(f"/service/{store.pk}/nps", band="fans").status_code == 422
    assert api.get(f"/service/{store.pk}/nps", since="1900-01-01").status_code == 422
    assert api.get(f"/service/{store.pk}/nps", until="9999-12-31").json()["total"] == 5
    assert (
        api.get(f"/service/{store.pk}/nps", until=(today - dt.timedelta(days=1)).isoformat()).json()["total"]
        == 0
    )
    assert api_as(Role.WAREHOUSE).get(f"/service/{store.pk}/nps").status_code == 403


# --- import -------------------------------------------------------------------------------------------


def _upload(client: Client, store, name: str, data: bytes):
    return client.post(
        f"/api/v1/service/{store.pk}/nps/import", {"file": SimpleUploadedFile(name, data)}, format="multipart"
    )


def test_data_01_a_survey_export_is_imported_and_a_second_import_adds_nothing(store, channel, api_as, today):
    api = api_as(Role.CUSTOMER_SERVICE)
    day = today.isoformat()
    csv = (
        "序号,提交答卷时间,推荐意愿,订单号,渠道,推荐理由\n"
        f"1,{day} 00:01:00,10,T-1,tmall,包装好\n"
        f"2,{day} 00:02:00,9.0,T-2,天猫旗舰店,\n"
        f"3,{day} 00:03:00,4,,,客服回复慢\n"
        f"3,{day} 00:03:00,4,,,客服回复慢\n"  # the same answer twice in the file
    ).encode("gb18030")
    first = _upload(api.client, store, "wjx.csv", csv)
    assert first.status_code == 201, first.content
    assert first.json() == {"rows": 4, "imported": 3, "duplicates": 1}
    second = _upload(api.client, store, "wjx.csv", csv)
    assert second.json() == {"rows": 4, "imported": 0, "duplicates": 4}
    assert NpsResponse.objects.count() == 3
    assert set(NpsResponse.objects.values_list("channel_id", flat=True)) == {channel.pk, None}
    assert NpsResponse.objects.get(external_ref="3").comment == "客服回复慢"


def test_data_01_an_xlsx_export_is_imported(store, api_as):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["答卷编号", "推荐意愿", "意见"])
    sheet.append(["A1", 8, "还行"])
    sheet.append(["A2", 10, None])
    out = io.BytesIO()
    book.save(out)
    response = _upload(api_as(Role.CUSTOMER_SERVICE).client, store, "survey.xlsx", out.getvalue())
    assert response.status_code == 201, response.content
    assert sorted(NpsResponse.objects.values_list("score", flat=True)) == [8, 10]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("推荐意愿\n9\n十\n", "第 3 行 推荐意愿"),
        ("推荐意愿,答卷时间\n9,昨天\n", "第 2 行 答卷时间"),
        ("推荐意愿,渠道\n9,淘宝\n", "第 2 行 渠道：未知的渠道：淘宝"),
        ("分数\n12\n", "第 2 行 推荐意愿"),
        ("姓名,电话\n张三,138\n", "缺少表头"),
        ("推荐意愿\n", "没有答卷"),
    ],
)
def test_data_01_a_file_with_a_bad_row_is_refused_whole(store, channel, api_as, content, message):
    response = _upload(api_as(Role.CUSTOMER_SERVICE).client, store, "bad.csv", content.encode())
    assert response.status_code == 422, response.content
    assert message in response.json()["fields"]["file"]
    assert NpsResponse.objects.count() == 0


# --- weekly NPS against the target --------------------------------------------------------------------


def test_data_01_weekly_nps_is_judged_against_the_playbook_target(store, system, api_as):
    monday = dt.date(2026, 11, 30)
    # this week: 3 promoters, 1 detractor → 50; the week before: 1 promoter, 3 detractors → −50
    _answers(store, system, monday + dt.timedelta(days=1), [10, 9, 9, 0])
    _answers(store, system, monday - dt.timedelta(days=1), [10, 2, 3, 4])  # the Sunday before
    store_services.playbook_update(
        actor=system, store=store, values={"nps_min_responses": 4, "target_nps": 40}
    )
    overview = selectors.nps_overview(store=store, weeks=3, today=monday + dt.timedelta(days=2))
    assert [w.start for w in overview.weeks] == [
        monday,
        monday - dt.timedelta(weeks=1),
        monday - dt.timedelta(weeks=2),
    ]
    assert [w.tally.score for w in overview.weeks] == [Decimal("50.0"), Decimal("-50.0"), None]
    assert overview.weeks[0].scores[10] == 1
    assert overview.weeks[0].scores[9] == 2
    assert overview.total.tally.score == Decimal("0.0")
    assert overview.target == 40

    response = api_as(Role.OPERATIONS).get(f"/service/{store.pk}/nps/weekly", weeks=53)
    assert response.status_code == 200
    assert api_as(Role.OPERATIONS).get(f"/service/{store.pk}/nps/weekly", weeks=54).status_code == 422
    # fewer answers than nps_min_responses: shown, not judged
    store_services.playbook_update(actor=system, store=store, values={"nps_min_responses": 5})
    overview = selectors.nps_overview(store=store, weeks=1, today=monday)
    assert overview.weeks[0].tally.score == Decimal("50.0")
    assert overview.weeks[0].tally.enough is False


def test_data_01_weekly_api_says_whether_each_week_meets_the_target(store, system, api_as, today):
    _answers(store, system, today, [10, 10, 6])  # 33.3
    store_services.playbook_update(
        actor=system, store=store, values={"nps_min_responses": 3, "target_nps": 30}
    )
    week = api_as(Role.ANALYST).get(f"/service/{store.pk}/nps/weekly", weeks=1).json()["weeks"][0]
    assert week["tally"]["nps"] == pytest.approx(33.3)
    assert week["tally"]["meets_target"] is True
    store_services.playbook_update(actor=system, store=store, values={"target_nps": 35})
    week = api_as(Role.ANALYST).get(f"/service/{store.pk}/nps/weekly", weeks=1).json()["weeks"][0]
    assert week["tally"]["meets_target"] is False


def test_data_01_playbook_refuses_an_nps_target_outside_its_range(store, system):
    from storeops.core.errors import ValidationError

    with pytest.raises(ValidationError):
        store_services.playbook_update(actor=system, store=store, values={"target_nps": 101})


# --- in the daily metrics and the reports -------------------------------------------------------------


def test_data_01_daily_metrics_show_the_weeks_nps_with_its_target(store, system, api_as, today):
    _answers(store, system, today - dt.timedelta(days=2), [9, 10, 5, 8])  # (2 − 1) ÷ 4 = 25
    _answers(store, system, today - dt.timedelta(days=9), [0, 0])  # before the 7 days
    store_services.playbook_update(
        actor=system, store=store, values={"nps_min_responses": 4, "target_nps": 30}
    )
    week = analytics_selectors.daily_metrics(store=store, days=7, end=today).week
    assert (week.nps, week.nps_responses, week.nps_enough, week.nps_ok) == (Decimal("25.0"), 4, True, False)
    body = api_as(Role.ANALYST).get(f"/analytics/{store.pk}/daily-metrics", days=7).json()["week"]
    assert (Decimal(str(body["nps"])), body["nps_responses"], body["nps_ok"], body["target_nps"]) == (
        Decimal("25.0"),
        4,
        False,
        30,
    )


def test_data_01_weekly_report_has_the_nps_and_its_change_in_points(store, system):
    end = dt.date(2026, 11, 30)
    _answers(store, system, end - dt.timedelta(days=3), [10, 10, 10, 0])  # 50
    _answers(store, system, end - dt.timedelta(days=10), [10, 0, 0, 8])  # −25
    store_services.playbook_update(
        actor=system, store=store, values={"nps_min_responses": 4, "target_nps": 60}
    )
    data = reports.report_build(store=store, kind="weekly", start=end - dt.timedelta(days=7), end=end)
    row = next(r for s in data["sections"] for r in s["rows"] if r["code"] == "nps")
    assert (row["value"], row["previous"], row["change"], row["target"], row["ok"]) == (
        "50.0",
        "-25.0",
        "75.0",
        "60",
        False,
    )


# --- console ------------------------------------------------------------------------------------------


@pytest.fixture
def cs_client(make_user):
    client = Client()
    client.force_login(make_user(Role.CUSTOMER_SERVICE))
    return client


def test_data_01_console_nps_page_shows_weeks_distribution_and_answers(
    store, channel, system, cs_client, today
):
    _answers(store, system, today, [10, 9, 3])
    services.nps_record(actor=system, store=store, score=2, comment="退货太麻烦", responded_at=_at(today))
    page = cs_client.get("/service/nps/").content.decode()
    assert "净推荐值（NPS）" in page
    assert "每周 NPS" in page
    assert "退货太麻烦" in page
    assert "样本不足" in page  # 4 answers, fewer than the default 30
    assert "0.0" in page  # (2 − 2) ÷ 4
    only_detractors = cs_client.get("/service/nps/", {"band": "detractor"}).content.decode()
    assert "退货太麻烦" in only_detractors
    assert only_detractors.count('<td class="num">10</td>') == 0


def test_data_01_console_records_a_phone_survey_answer_and_keeps_a_refused_form(store, channel, cs_client):
    ok = cs_client.post(
        "/service/nps/record/", {"score": "8", "channel": str(channel.pk), "comment": "还不错"}
    )
    assert ok.status_code == 302
    answer = NpsResponse.objects.get()
    assert (answer.score, answer.source, answer.channel_id, answer.created_by) == (
        8,
        "console",
        channel.pk,
        "u_customer_service",
    )
    refused = cs_client.post("/service/nps/record/", {"score": "12", "comment": "打错了", "order_ref": "O-9"})
    assert refused.status_code == 422
    html = refused.content.decode()
    assert '<span class="err">推荐意愿为 0–10 的整数</span>' in html
    assert 'value="打错了"' in html
    assert 'value="O-9"' in html
    assert NpsResponse.objects.count() == 1


def test_data_01_console_imports_a_survey_file(store, cs_client):
    upload = SimpleUploadedFile("nps.csv", "答卷编号,推荐意愿\nA,10\nB,6\n".encode())
    response = cs_client.post("/service/nps/import/", {"file": upload})
    assert response.status_code == 302
    assert NpsResponse.objects.count() == 2
    page = cs_client.get("/service/nps/").content.decode()
    assert "已导入 2 份答卷" in page
    bad = cs_client.post("/service/nps/import/", {"file": SimpleUploadedFile("nps.csv", b"x,y\n1,2\n")})
    assert bad.status_code == 422
    assert NpsResponse.objects.count() == 2
    assert cs_client.post("/service/nps/import/", {}).status_code == 422


def test_data_01_console_daily_metrics_show_nps(store, system, make_user, today):
    _answers(store, system, today, [10, 10, 10, 3])
    client = Client()
    client.force_login(make_user(Role.ANALYST))
    page = client.get("/daily-metrics/").content.decode()
    assert "未接入满意度调查" not in page
    assert "50.0" in page
    assert "样本不足" in page


def test_data_01_console_nps_page_in_english(store, system, make_user, today):
    _answers(store, system, today, [9])
    client = Client()
    client.force_login(make_user(Role.OPERATIONS, username="ops_en", language="en"))
    page = client.get("/service/nps/").content.decode()
    assert "Net promoter score (NPS)" in page
    assert "净推荐值" not in page


# --- the survey link in the review invitation ---------------------------------------------------------


def test_data_01_the_review_invitation_carries_the_nps_survey_link_with_the_order(
    store, channel, system, settings
):
    from tests.fulfilment.builders import a_carrier, a_shipment, scan
    from tests.fulfilment.builders import at as f_at

    settings.STOREOPS_CUSTOMER_NOTIFIERS = []
    store_services.playbook_update(
        actor=system, store=store, values={"nps_survey_url": "https://shop.example.com/nps?order={order}"}
    )
    shipment = a_shipment(store, channel, "SF-NPS", carrier=a_carrier())
    scan(shipment, (1, "已揽收"), (20, "已签收"))
    services.review_invitations_send(actor=system, now=f_at(50))
    text = ReviewInvitation.objects.get().text
    assert "请打分（0–10）：https://shop.example.com/nps?order=O-SF-NPS" in text


@pytest.mark.parametrize("url", ["shop.example.com/nps", "ftp://x", "https://a b"])
def test_data_01_the_survey_link_must_be_an_http_link(store, system, url):
    from storeops.core.errors import ValidationError

    with pytest.raises(ValidationError) as caught:
        store_services.playbook_update(actor=system, store=store, values={"nps_survey_url": url})
    assert "nps_survey_url" in caught.value.fields
