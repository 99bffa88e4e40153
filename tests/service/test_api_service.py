"""The service API: tickets (CS-01/02), scripts and suggestions (CS-03), reviews (LOG-02), report (CS-04)."""

from __future__ import annotations

import pytest

from storeops.accounts.roles import Role
from storeops.service.models import ReplyScript, Review, Ticket, TicketMessage
from tests.service.builders import a_script, a_ticket

pytestmark = pytest.mark.django_db


def _new(channel, **kw):
    return {
        "channel_id": channel.pk,
        "customer_ref": "c1",
        "subject": "收到的裙子开线",
        "category": "quality",
        "tier": "serious",
        "order_ref": "O-1",
        "sku_code": "DRESS-S",
        "message": "裙子腰部开线了",
        **kw,
    }


def test_cs_01_agent_opens_a_serious_complaint_and_owns_it(store, channel, api_as):
    api = api_as(Role.CUSTOMER_SERVICE)
    response = api.post(f"/service/{store.pk}/tickets", _new(channel))
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["tier"], body["status"], body["owner"]) == ("serious", "open", "u_customer_service")
    assert [m["author_kind"] for m in body["messages"]] == ["customer"]


def test_cs_01_bad_ticket_input_is_422_with_field_messages_and_nothing_saved(store, channel, api_as):
    api = api_as(Role.CUSTOMER_SERVICE)
    # a category or tier outside the schema's enum is refused before the service runs
    response = api.post(f"/service/{store.pk}/tickets", _new(channel, category="nope", tier="huge"))
    assert response.status_code == 422
    assert response.json()["fields"] == {
        "category": "只能是 logistics / quality / service / price / other",
        "tier": "只能是 general / serious / crisis",
    }
    blank = api.post(f"/service/{store.pk}/tickets", _new(channel, subject=""))
    assert blank.status_code == 422
    assert set(blank.json()["fields"]) == {"subject"}
    other = api.post(f"/service/{store.pk}/tickets", _new(channel, channel_id=99999))
    assert other.status_code == 422
    assert "channel_id" in other.json()["fields"]
    assert Ticket.objects.count() == 0


def test_cs_02_reply_transfer_resolve_close_reopen_through_the_api(store, channel, api_as, make_user):
    ticket = a_ticket(store, channel)
    api = api_as(Role.CUSTOMER_SERVICE)
    base = f"/service/{store.pk}/tickets/{ticket.pk}"
    reply = api.post(f"{base}/messages", {"body": "您好，马上为您查询"})
    assert reply.status_code == 201
    assert reply.json()["ticket"]["status"] == "in_progress"
    assert reply.json()["ticket"]["owner"] == "u_customer_service"
    # the owner hands it over to the shop owner
    boss = make_user(Role.OWNER)
    moved = api.post(f"{base}/transfer", {"to_user_id": boss.pk, "reason": "需要店主决定"})
    assert moved.status_code == 200, moved.content
    assert moved.json()["owner"] == "u_owner"
    # now that it is not theirs any more, the agent may not move it again
    again = api.post(f"{base}/transfer", {"to_user_id": boss.pk, "reason": "x"})
    assert again.status_code == 403
    assert api.post(f"{base}/close").status_code == 409
    assert api.post(f"{base}/resolve", {"note": ""}).status_code == 422
    assert api.post(f"{base}/resolve", {"note": "已催件，明日送达"}).json()["status"] == "resolved"
    assert api.post(f"{base}/close").json()["status"] == "closed"
    reopened = api.post(f"{base}/reopen", {"reason": "仍未收到"})
    assert reopened.json()["status"] == "in_progress"
    detail = api.get(base).json()
    assert [t["reason"] for t in detail["transfers"]] == ["需要店主决定"]


def test_cs_01_escalate_to_crisis_and_publish_statement(store, channel, api_as):
    ticket = a_ticket(store, channel)
    api = api_as(Role.CUSTOMER_SERVICE)
    base = f"/service/{store.pk}/tickets/{ticket.pk}"
    assert api.post(f"{base}/statement", {"text": "说明"}).status_code == 409
    up = api.post(f"{base}/escalate", {"tier": "crisis", "reason": "顾客发了微博"})
    assert up.status_code == 200
    assert up.json()["escalated"] is True
    assert up.json()["statement_due_at"]
    assert api.post(f"{base}/escalate", {"tier": "serious", "reason": "x"}).status_code == 422
    published = api.post(f"{base}/statement", {"text": "关于XX事件的说明"})
    assert published.json()["statement_published_at"]


def test_cs_02_ticket_list_filters_and_paginates(store, channel, api_as):
    for i in range(3):
        a_ticket(store, channel, subject=f"物流问题{i}")
    a_ticket(store, channel, subject="价格问题", category="price", tier="serious")
    api = api_as(Role.ANALYST)
    page = api.get(f"/service/{store.pk}/tickets", page_size=2).json()
    assert (page["total"], len(page["items"])) == (4, 2)
    assert api.get(f"/service/{store.pk}/tickets", tier="serious").json()["total"] == 1
    assert api.get(f"/service/{store.pk}/tickets", q="价格").json()["total"] == 1
    assert api.get(f"/service/{store.pk}/tickets", owner="none").json()["total"] == 4
    assert api.get(f"/service/{store.pk}/tickets", owner="abc").status_code == 422
    assert api.get(f"/service/{store.pk}/tickets/99999").status_code == 404


def test_cs_03_scripts_crud_and_suggest(store, api_as):
    api = api_as(Role.CUSTOMER_SERVICE)
    created = api.post(
        f"/service/{store.pk}/scripts",
        {
            "title": "发货时间",
            "body": "{customer}您好，付款后48小时内发货",
            "keywords": ["发货", "什么时候发"],
            "auto_answer": True,
        },
    )
    assert created.status_code == 201, created.content
    sid = created.json()["id"]
    assert api.post(f"/service/{store.pk}/scripts", {"title": "发货时间", "body": "x"}).status_code == 409
    bad = api.post(f"/service/{store.pk}/scripts", {"title": "", "body": ""})
    assert bad.status_code == 422
    assert set(bad.json()["fields"]) == {"title", "body"}
    suggest = api.post(
        f"/service/{store.pk}/reply-suggestions", {"text": "请问什么时候发货呀", "customer": "小王"}
    )
    assert suggest.json()["auto_answer"]["text"] == "小王您好，付款后48小时内发货"
    assert api.patch(f"/service/{store.pk}/scripts/{sid}", {"is_quick": True}).json()["is_quick"] is True
    assert api.call("DELETE", f"/service/{store.pk}/scripts/{sid}").status_code == 204
    assert ReplyScript.objects.count() == 0


def test_cs_03_customer_message_on_an_inquiry_gets_the_faq_answer(store, channel, api_as):
    a_script(store, "物流查询", auto_answer=True)
    ticket = a_ticket(store, channel, kind="inquiry", order_ref="O-8", message="")
    api = api_as(Role.CUSTOMER_SERVICE)
    result = api.post(
        f"/service/{store.pk}/tickets/{ticket.pk}/messages",
        {"author": "customer", "body": "我的快递怎么还没动"},
    )
    assert result.status_code == 201
    assert result.json()["auto_answer"]["body"] == "亲爱的c1，订单O-8的物流我们正在跟进。"
    assert list(TicketMessage.objects.filter(ticket=ticket).values_list("author_kind", flat=True)) == [
        "customer",
        "bot",
    ]


def test_log_02_review_api_creates_lists_and_refuses_bad_input(store, channel, api_as):
    api = api_as(Role.CUSTOMER_SERVICE)
    body = {
        "channel_id": channel.pk,
        "order_ref": "O-1",
        "sku_code": "S1",
        "customer_ref": "c1",
        "rating": 5,
        "text": "质量好",
    }
    assert api.post(f"/service/{store.pk}/reviews", body).status_code == 201
    assert api.post(f"/service/{store.pk}/reviews", body).status_code == 409
    bad = api.post(
        f"/service/{store.pk}/reviews", {**body, "sku_code": "S2", "rating": 6, "images": ["ftp://x"]}
    )
    assert bad.status_code == 422
    assert set(bad.json()["fields"]) == {"rating", "images"}
    assert Review.objects.count() == 1
    assert api.get(f"/service/{store.pk}/reviews").json()["total"] == 1


def test_cs_04_report_api(store, channel, api_as):
    a_ticket(store, channel, opened=__import__("django.utils.timezone", fromlist=["now"]).now())
    api = api_as(Role.ANALYST)
    report = api.get(f"/service/{store.pk}/report").json()
    assert report["total"] == 1
    assert report["by_category"][0]["key"] == "logistics"
    assert api.get(f"/service/{store.pk}/report", start="2026-03-10", end="2026-03-01").status_code == 422
    assert api_as(Role.WAREHOUSE).get(f"/service/{store.pk}/report").status_code == 403


def test_cs_02_ticket_list_query_count_does_not_grow_with_the_page(
    store, channel, api_as, django_assert_max_num_queries
):
    for i in range(12):
        a_ticket(store, channel, subject=f"问题{i}")
    api = api_as(Role.CUSTOMER_SERVICE)
    api.get(f"/service/{store.pk}/tickets")  # warm the session and permission caches
    with django_assert_max_num_queries(8):
        response = api.get(f"/service/{store.pk}/tickets", page_size=12)
    assert len(response.json()["items"]) == 12
