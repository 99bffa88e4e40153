"""The reply scripts library, quick replies and FAQ automation (CS-03)."""

from __future__ import annotations

import pytest

from storeops.core.errors import Conflict, ValidationError
from storeops.service import selectors, services
from storeops.service.models import ReplyScript, Ticket, TicketMessage
from tests.service.builders import ACTOR, a_script, a_ticket, at

pytestmark = pytest.mark.django_db


def test_cs_03_inquiry_matching_an_auto_answer_script_is_answered_by_the_bot(store, channel):
    # given an auto-answer script about shipping
    script = a_script(
        store,
        "发货时间",
        keywords="发货,什么时候发",
        body="{customer}您好，订单{order}付款后48小时内发货",
        auto_answer=True,
    )
    ticket = a_ticket(
        store, channel, kind="inquiry", customer_ref="小李", order_ref="O-7", message="", subject="咨询"
    )
    # when the customer asks
    result = services.ticket_customer_message(
        actor=ACTOR, ticket=ticket, body="请问什么时候发货？", at=at(seconds=2)
    )
    # then the bot answers at once with the filled script; that is the first response
    assert result.auto_answer is not None
    assert result.auto_answer.body == "小李您好，订单O-7付款后48小时内发货"
    ticket.refresh_from_db()
    assert (ticket.first_response_at, ticket.first_response_seconds) == (at(seconds=2), 0)
    assert ReplyScript.objects.get(pk=script.pk).uses == 1


def test_cs_03_complaints_and_ambiguous_questions_wait_for_a_person(store, channel):
    a_script(store, "发货", keywords="发货", auto_answer=True)
    a_script(store, "发票", keywords="发票", auto_answer=True)
    complaint = a_ticket(store, channel, message="")
    assert (
        services.ticket_customer_message(actor=ACTOR, ticket=complaint, body="为什么还不发货").auto_answer
        is None
    )
    inquiry = a_ticket(store, channel, kind="inquiry", message="")
    result = services.ticket_customer_message(actor=ACTOR, ticket=inquiry, body="发货和发票的问题")
    assert result.auto_answer is None
    assert {m.title for m in result.suggestions} == {"发货", "发票"}
    assert list(TicketMessage.objects.filter(author_kind="bot")) == []
    assert Ticket.objects.get(pk=inquiry.pk).first_response_at is None


def test_cs_03_suggestions_fill_placeholders_and_quick_replies_list_active_quick_scripts(store):
    a_script(store, "物流查询", keywords="快递,物流")
    a_script(store, "问候", keywords="你好", body="您好，{customer}", is_quick=True)
    hidden = a_script(store, "旧问候", keywords="你好", is_quick=True)
    services.script_update(actor=ACTOR, script=hidden, is_active=False)
    result = selectors.script_suggest(
        store=store, text="快递到哪了", values={"customer": "c1", "order": "O-1"}
    )
    assert [(s.script.title, s.text) for s in result.suggestions] == [
        ("物流查询", "亲爱的c1，订单O-1的物流我们正在跟进。")
    ]
    assert [s.title for s in selectors.script_list(store=store, quick_only=True)] == ["问候"]
    assert selectors.script_suggest(store=store, text="你好").suggestions[0].script.title == "问候"


def test_cs_03_script_validation_and_unique_titles(store):
    a_script(store, "物流查询")
    with pytest.raises(Conflict):
        a_script(store, "物流查询")
    with pytest.raises(ValidationError) as exc:
        services.script_create(
            actor=ACTOR, store=store, title="自动", body="x", keywords="", auto_answer=True
        )
    assert "keywords" in exc.value.fields
    with pytest.raises(ValidationError):
        services.script_update(actor=ACTOR, script=ReplyScript.objects.get(), colour="red")
    assert ReplyScript.objects.count() == 1


def test_cs_03_reply_with_a_script_is_linked_and_counted(store, channel):
    script = a_script(store)
    ticket = a_ticket(store, channel)
    msg = services.ticket_reply(actor=ACTOR, ticket=ticket, body="亲爱的c1，正在跟进", script=script)
    assert msg.script_id == script.pk
    assert ReplyScript.objects.get(pk=script.pk).uses == 1
