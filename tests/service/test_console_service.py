"""Console pages of customer service: desk with SLA timers, ticket detail and actions, scripts,
report with Excel export, reviews."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from storeops.accounts.roles import Role
from storeops.service import services
from storeops.service.models import ReplyScript, Ticket, TicketMessage
from tests.service.builders import ACTOR, a_script, a_ticket, at

pytestmark = pytest.mark.django_db


@pytest.fixture
def cs_client(make_user):
    client = Client()
    client.force_login(make_user(Role.CUSTOMER_SERVICE))
    return client


def test_cs_02_desk_lists_tickets_with_overdue_highlighting_and_filters(store, channel, cs_client):
    late = a_ticket(store, channel, subject="迟迟没回复的投诉", opened=at(-3))
    a_ticket(store, channel, subject="刚来的投诉", opened=timezone.now(), tier="serious", category="quality")
    page = cs_client.get("/service/").content.decode()
    assert "迟迟没回复的投诉" in page
    assert "刚来的投诉" in page
    assert 'class="overdue"' in page
    assert "客服" in page  # nav link
    only_serious = cs_client.get("/service/", {"tier": "serious"}).content.decode()
    assert "刚来的投诉" in only_serious
    assert "迟迟没回复的投诉" not in only_serious
    overdue = cs_client.get("/service/", {"overdue": "1"}).content.decode()
    assert f"/service/tickets/{late.pk}/" in overdue
    assert "刚来的投诉" not in overdue


def test_cs_03_ticket_detail_shows_messages_suggestions_and_quick_replies(store, channel, cs_client):
    a_script(store, "物流查询", keywords="快递,物流")
    a_script(store, "问候", keywords="你好", body="您好，{customer}", is_quick=True)
    ticket = a_ticket(store, channel, customer_ref="小王")
    page = cs_client.get(f"/service/tickets/{ticket.pk}/").content.decode()
    assert "我的快递三天没有物流更新了" in page
    assert "亲爱的小王" in page  # suggestion with placeholders filled
    assert "您好，小王" in page  # quick reply


def test_cs_02_reply_from_the_console_takes_ownership_and_errors_are_shown(store, channel, cs_client):
    ticket = a_ticket(store, channel)
    response = cs_client.post(f"/service/tickets/{ticket.pk}/reply/", {"body": "马上处理"})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.owner.username, ticket.status) == ("u_customer_service", "in_progress")
    assert TicketMessage.objects.filter(ticket=ticket, author_kind="agent").count() == 1
    follow = cs_client.post(f"/service/tickets/{ticket.pk}/close/", {}, follow=True).content.decode()
    assert "不能执行此操作" in follow
    assert cs_client.post(f"/service/tickets/{ticket.pk}/fly/", {}).status_code == 404


def test_cs_03_scripts_page_creates_and_tests_matching(store, cs_client):
    response = cs_client.post(
        "/service/scripts/",
        {"title": "发货时间", "body": "48小时内发货", "keywords": "发货,什么时候发", "auto_answer": "1"},
    )
    assert response.status_code == 302
    assert ReplyScript.objects.get().keywords == ["发货", "什么时候发"]
    page = cs_client.get("/service/scripts/", {"test": "什么时候发货"}).content.decode()
    assert "将自动回答" in page
    assert "48小时内发货" in page


def test_cs_04_report_page_and_excel_export(store, channel, cs_client):
    a_ticket(store, channel, opened=timezone.now(), subject="破损")
    services.reports_generate_weekly(actor=ACTOR)
    page = cs_client.get("/service/report/").content.decode()
    assert "每周报告" in page
    assert "客诉分析" in page
    assert "物流" in page
    export = cs_client.get("/service/report.xlsx")
    assert export.status_code == 200
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    assert cs_client.get("/service/report/", {"start": "2026-03-10", "end": "2026-03-01"}).status_code == 200


def test_log_02_reviews_page_renders(store, channel, cs_client):
    services.review_create(
        actor=ACTOR,
        store=store,
        channel=channel,
        order_ref="O-1",
        sku_code="S1",
        customer_ref="c1",
        rating=4,
        text="不错",
    )
    page = cs_client.get("/service/reviews/").content.decode()
    assert "不错" in page
    assert "4★" in page


def test_cs_02_warehouse_cannot_open_the_desk(make_user, store):
    client = Client()
    client.force_login(make_user(Role.WAREHOUSE))
    assert client.get("/service/").status_code == 403
    assert Ticket.objects.count() == 0


def test_cs_01_escalation_offers_only_higher_tiers(store, channel, cs_client):
    import re

    def offered(ticket):
        page = cs_client.get(f"/service/tickets/{ticket.pk}/").content.decode()
        form = re.search(r"escalate/\".*?</form>", page, re.S)
        return re.findall(r'<option value="(\w+)">', form.group(0)) if form else []

    assert offered(a_ticket(store, channel, subject="一般问题", tier="general")) == ["serious", "crisis"]
    assert offered(a_ticket(store, channel, subject="严重问题", tier="serious")) == ["crisis"]
    crisis = a_ticket(store, channel, subject="危机", tier="crisis")
    assert offered(crisis) == []
    assert "已是最高级别" in cs_client.get(f"/service/tickets/{crisis.pk}/").content.decode()


def test_cs_01_compensation_picker_offers_every_active_coupon_template(store, channel, cs_client):
    """The resolve form listed the first 50 active templates only: a store with more could not
    compensate with the others."""
    from storeops.promotions.models import CouponTemplate

    CouponTemplate.objects.bulk_create(
        CouponTemplate(store=store, name=f"补偿券{n}", kind="no_threshold", amount=5) for n in range(51)
    )
    ticket = a_ticket(store, channel)
    offered = cs_client.get(f"/service/tickets/{ticket.pk}/").context["coupon_templates"]
    assert len(offered) == 51


# --- daily work through the console forms (helper "flows") ---------------------------------------


def _messages(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


def test_cs_02_a_refused_action_says_why_without_the_raw_status_code(store, channel, cs_client):
    ticket = a_ticket(store, channel)
    cs_client.post(f"/service/tickets/{ticket.pk}/resolve/", {"note": "已补发"})
    response = cs_client.post(f"/service/tickets/{ticket.pk}/resolve/", {"note": "再解决一次"}, follow=True)
    text = _messages(response)
    assert "工单当前状态为「已解决」，不能执行此操作" in text
    assert "resolved" not in text  # was "…不能执行此操作 resolved"


def test_cs_english_desk_says_in_progress_and_serious_and_errors_read_as_english(store, channel, make_user):
    ticket = a_ticket(store, channel, tier="serious", category="quality")
    services.ticket_reply(actor=ACTOR, ticket=ticket, body="在处理")
    client = Client()
    client.force_login(make_user(Role.CUSTOMER_SERVICE, username="cs_en", language="en"))
    desk = client.get("/service/").content.decode()
    # "处理中" and "严重" were the findings board's "Acknowledged" and "Critical"
    assert "In progress" in desk
    assert "Serious" in desk
    assert "Acknowledged" not in desk
    assert 'type="submit">Create</button>' in desk  # the new-ticket button said "Created"
    response = client.post(f"/service/tickets/{ticket.pk}/resolve/", {"note": ""})
    text = _messages(response)
    assert text.endswith("nothing was saved"), text
    assert "（" not in text
    # the field's message sits next to it, in English
    assert '</textarea><span class="err">Enter the result</span>' in response.content.decode()


def test_cs_01_compensation_coupon_that_cannot_be_issued_is_named_in_the_message(store, channel, cs_client):
    from storeops.promotions import services as prs

    template = prs.coupon_template_create(
        actor=ACTOR, store=store, name="20元补偿券", kind="no_threshold", amount="20", per_user_limit=1
    )
    prs.coupon_issue(actor=ACTOR, template=template, customer_ref="c1")
    ticket = a_ticket(store, channel, customer_ref="c1", tier="serious", category="quality")
    response = cs_client.post(
        f"/service/tickets/{ticket.pk}/resolve/",
        {"note": "补偿", "compensate": "1", "coupon_template_id": str(template.pk)},
    )
    # was only "已达每人限领数量": nothing said it was the compensation coupon or what to do
    text = _messages(response)
    assert "补偿券「20元补偿券」发不出" in text
    # what to do sits next to the picker
    assert '</select><span class="err">请选择其他优惠券模板' in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == "open"


def test_cs_01_refused_new_ticket_keeps_what_was_typed_and_saves_nothing(store, channel, cs_client):
    response = cs_client.post(
        "/service/tickets/new/",
        {
            "channel": channel.pk,
            "kind": "complaint",
            "category": "quality",
            "tier": "serious",
            "customer_ref": "c" * 65,  # too long
            "order_ref": "SO-778",
            "subject": "杯子到手就裂了",
            "message": "收到时杯口有裂纹，要求退款",
        },
    )
    # was a redirect to the desk with an empty form
    assert response.status_code == 422
    html = response.content.decode()
    assert f'value="{"c" * 65}"' in html
    assert 'value="SO-778"' in html
    assert 'value="杯子到手就裂了"' in html
    assert ">收到时杯口有裂纹，要求退款</textarea>" in html
    assert '<option value="quality" selected' in html
    assert '<option value="serious" selected' in html
    assert '<span class="err">顾客编号为 1–64 个字符</span>' in html  # next to its input
    assert "工单信息有误，未保存" in html
    assert not Ticket.objects.exists()


def test_cs_03_refused_new_script_keeps_what_was_typed_and_saves_nothing(store, cs_client):
    response = cs_client.post(
        "/service/scripts/",
        {
            "title": "发货时间",
            "body": "48小时内发货",
            "keywords": "",
            "category": "logistics",
            "auto_answer": "1",
        },
    )
    assert response.status_code == 422  # was a redirect to an empty form
    html = response.content.decode()
    assert 'value="发货时间"' in html
    assert ">48小时内发货</textarea>" in html
    assert 'name="auto_answer" value="1" checked' in html
    assert '<span class="err">自动回答的话术至少需要一个关键词</span>' in html
    assert not ReplyScript.objects.exists()


def test_cs_02_refused_ticket_actions_keep_what_was_typed_and_save_nothing(store, channel, cs_client):
    ticket = a_ticket(store, channel, tier="serious", category="quality")
    # a reply to a closed ticket: the reply typed is kept
    services.ticket_reply(actor=ACTOR, ticket=ticket, body="在处理")
    ticket.refresh_from_db()
    services.ticket_resolve(actor=ACTOR, ticket=ticket, note="已补发", refund_ref="RF-4")
    ticket.refresh_from_db()
    services.ticket_close(actor=ACTOR, ticket=ticket)
    response = cs_client.post(f"/service/tickets/{ticket.pk}/reply/", {"body": "您好，已为您补发新杯子"})
    assert response.status_code == 422  # was a redirect to an empty reply box
    html = response.content.decode()
    assert ">您好，已为您补发新杯子</textarea>" in html
    assert "工单已关闭，请先重开" in html
    assert TicketMessage.objects.filter(ticket=ticket, author_kind="agent").count() == 1
    # a refused reopen: the error next to its reason, the other forms as new
    response = cs_client.post(f"/service/tickets/{ticket.pk}/reopen/", {"reason": "  "})
    assert response.status_code == 422
    html = response.content.decode()
    assert '"重开原因" value=""><span class="err">必填</span>' in html
    assert 'placeholder="回复内容"></textarea>' in html
    ticket.refresh_from_db()
    assert ticket.status == "closed"


def test_cs_01_refused_resolve_keeps_the_note_and_the_coupon_chosen(store, channel, cs_client):
    from storeops.promotions import services as prs

    template = prs.coupon_template_create(
        actor=ACTOR, store=store, name="20元补偿券", kind="no_threshold", amount="20", per_user_limit=1
    )
    ticket = a_ticket(store, channel, customer_ref="c1", tier="serious", category="quality")
    response = cs_client.post(
        f"/service/tickets/{ticket.pk}/resolve/",
        {"note": "已补发", "refund_ref": "R" * 65, "compensate": "1", "coupon_template_id": str(template.pk)},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert ">已补发</textarea>" in html
    assert f'value="{"R" * 65}"><span class="err">最多 64 个字符</span>' in html
    assert 'name="compensate" value="1" checked' in html
    assert f'<option value="{template.pk}" selected>' in html
    ticket.refresh_from_db()
    assert ticket.status == "open"
