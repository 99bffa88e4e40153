"""SOP MEM-04, the high-value segment's playbook — dedicated service (专属客服): a ticket of a
member in the high-value segment (the latest snapshot, on the member row) is marked when it
opens, answered within ``segment_high_value_response_minutes`` when that is sooner than the
general hours, listed first in the service desk's queue while it is open, and can be filtered
(API and console)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from storeops.accounts.roles import Role
from storeops.members import services as members
from storeops.members.models import Member
from storeops.service import selectors, services
from storeops.stores import services as st
from tests.service.builders import ACTOR, a_ticket, at

pytestmark = pytest.mark.django_db


def _member(store, ref, segment):
    members.member_join(actor=ACTOR, store=store, customer_ref=ref)
    Member.objects.filter(store=store, customer_ref=ref).update(segment=segment)


def test_mem_04_a_high_value_members_ticket_is_marked_and_answered_sooner(store, channel, system):
    _member(store, "big", "high_value")
    _member(store, "plain", "active")
    vip = a_ticket(store, channel, customer_ref="big")
    member = a_ticket(store, channel, customer_ref="plain")
    guest = a_ticket(store, channel, customer_ref="guest")
    assert (vip.high_value, member.high_value, guest.high_value) == (True, False, False)
    # the general answer is due in 2 h; a high-value customer's in 30 min (default)
    assert vip.response_due_at == at(minutes=30)
    assert member.response_due_at == guest.response_due_at == at(2)
    assert vip.resolution_due_at == member.resolution_due_at == at(24)  # resolution unchanged
    # the minutes are a playbook setting, and never lengthen the general hours
    st.playbook_update(actor=system, store=store, values={"segment_high_value_response_minutes": 10})
    assert a_ticket(store, channel, customer_ref="big").response_due_at == at(minutes=10)
    st.playbook_update(actor=system, store=store, values={"segment_high_value_response_minutes": 600})
    assert a_ticket(store, channel, customer_ref="big").response_due_at == at(2)


def test_mem_04_the_high_value_response_minutes_are_validated(store, system):
    from storeops.core.errors import ValidationError

    with pytest.raises(ValidationError):
        st.playbook_update(actor=system, store=store, values={"segment_high_value_response_minutes": 0})


def test_mem_04_the_queue_lists_open_high_value_tickets_first(store, channel):
    _member(store, "big", "high_value")
    old_vip = a_ticket(store, channel, customer_ref="big", opened=at(0))
    newer = a_ticket(store, channel, customer_ref="plain", opened=at(1))
    done_vip = a_ticket(store, channel, customer_ref="big", opened=at(2))
    services.ticket_resolve(actor=ACTOR, ticket=done_vip, note="已补发", at=at(3))
    newest = a_ticket(store, channel, customer_ref="guest", opened=at(4))
    queue = [t.pk for t in selectors.ticket_list(store=store)]
    # the open high-value ticket first; a resolved one takes its place by time
    assert queue == [old_vip.pk, newest.pk, done_vip.pk, newer.pk]
    assert [t.pk for t in selectors.ticket_list(store=store, status="active")] == [
        old_vip.pk,
        newest.pk,
        newer.pk,
    ]
    assert [t.pk for t in selectors.ticket_list(store=store, high_value=True)] == [old_vip.pk, done_vip.pk]


def test_mem_04_api_ticket_fields_and_the_high_value_filter(store, channel, api_as):
    _member(store, "big", "high_value")
    vip = a_ticket(store, channel, customer_ref="big", opened=at(0))
    plain = a_ticket(store, channel, customer_ref="plain", opened=at(1))
    api = api_as(Role.CUSTOMER_SERVICE)
    listed = api.get(f"/service/{store.pk}/tickets")
    assert listed.status_code == 200, listed.content
    assert [(t["id"], t["high_value"]) for t in listed.json()["items"]] == [(vip.pk, True), (plain.pk, False)]
    only = api.get(f"/service/{store.pk}/tickets", high_value="true").json()["items"]
    assert [t["id"] for t in only] == [vip.pk]
    assert api.get(f"/service/{store.pk}/tickets/{vip.pk}").json()["high_value"] is True
    assert api.get(f"/service/{store.pk}/tickets", high_value="maybe").status_code == 422
    opened = api.post(
        f"/service/{store.pk}/tickets",
        {"channel_id": channel.pk, "customer_ref": "big", "subject": "尺码问题", "category": "quality"},
    )
    assert opened.status_code == 201, opened.content
    body = opened.json()
    assert body["high_value"] is True
    due = dt.datetime.fromisoformat(body["response_due_at"]) - dt.datetime.fromisoformat(body["opened_at"])
    assert due == dt.timedelta(minutes=30)


def test_mem_04_console_desk_marks_vip_tickets_and_filters_them(store, channel, make_user):
    _member(store, "big", "high_value")
    vip = a_ticket(store, channel, customer_ref="big", subject="专属问题")
    a_ticket(store, channel, customer_ref="plain", subject="普通问题")
    client = Client()
    client.force_login(make_user(Role.CUSTOMER_SERVICE))
    page = client.get("/service/", {"status": ""}).content.decode()
    assert page.count('title="高价值客户：专属客服">VIP</span>') == 1
    assert 'name="high_value" value="1"' in page
    assert page.index(">专属问题</a>") < page.index(">普通问题</a>")
    only = client.get("/service/", {"status": "", "high_value": "1"}).content.decode()
    assert ">专属问题</a>" in only
    assert ">普通问题</a>" not in only
    detail = client.get(f"/service/tickets/{vip.pk}/").content.decode()
    assert 'id="ticket-vip"' in detail
