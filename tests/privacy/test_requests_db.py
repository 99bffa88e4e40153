"""SOP DATA-09 (PIPL): a customer's request for a copy of their personal data or for its
deletion is recorded with its due time, answered from every app that holds personal data, and
an overdue request is a finding. Deletion keeps orders, money and statistics; it waits for
unfinished orders and open tickets."""

from __future__ import annotations

import datetime as dt

import pytest

from storeops.accounts.roles import Role
from storeops.audit.models import AuditEntry
from storeops.behaviour.models import Event
from storeops.fulfilment.models import Shipment
from storeops.members.models import Member
from storeops.orders import services as order_services
from storeops.orders.models import Order
from storeops.outreach import services as outreach_services
from storeops.outreach.models import Consent
from storeops.privacy import selectors, services
from storeops.privacy.models import DataRequest
from storeops.service.models import Review, Ticket, TicketMessage
from storeops.service.services import reviews as review_services
from storeops.service.services import tickets as ticket_services
from storeops.sop.models import Finding
from storeops.sop.services import checks_run
from storeops.stores import services as store_services
from tests.behaviour.builders import ev, post
from tests.members.builders import a_member
from tests.orders.builders import ACTOR, T0, World, ship

pytestmark = pytest.mark.django_db


def _customer_with_history(store, channel):
    """Customer c1: a member with a profile, a delivered and completed order with its parcel,
    a marketing consent, a resolved ticket and a review."""
    a_member(store, "c1", gender="female", birth_year=1990, birthday="03-15", city="杭州")
    world = World(store, channel)
    order = world.place(1)
    world.pay(order)
    order = ship(order)
    order_services.order_deliver(actor=ACTOR, order=order, at=T0 + dt.timedelta(days=2))
    order_services.orders_complete(now=T0 + dt.timedelta(days=30))
    outreach_services.consent_set(
        actor=ACTOR,
        store=store,
        customer_ref="c1",
        channel="sms",
        opted_in=True,
        source="signup",
        address="13812345678",
    )
    ticket = ticket_services.ticket_open(
        actor=ACTOR,
        store=store,
        channel=channel,
        customer_ref="c1",
        subject="物流太慢",
        category="logistics",
        message="我的手机号是13812345678，快递三天没动",
    )
    ticket_services.ticket_resolve(actor=ACTOR, ticket=ticket, note="已催快递")
    review_services.review_create(
        actor=ACTOR,
        store=store,
        channel=channel,
        order_ref=order.number,
        sku_code="P1-S",
        customer_ref="c1",
        rating=5,
        text="很好，送到西湖区文三路",
        images=["https://img.example.com/1.jpg"],
    )
    return Order.objects.get(pk=order.pk)


def test_data_09_a_request_is_due_the_playbooks_days_after_it_was_received(store):
    store_services.playbook_update(actor=ACTOR, store=store, values={"privacy_request_days": 10})
    request = services.request_open(actor=ACTOR, store=store, customer_ref=" c1 ", kind="access", now=T0)
    assert request.customer_ref == "c1"
    assert request.due_at == T0 + dt.timedelta(days=10)
    assert AuditEntry.objects.filter(action="privacy.request_open").count() == 1


def test_data_09_the_copy_gathers_the_customers_data_from_every_app(store, channel):
    order = _customer_with_history(store, channel)
    request = services.request_open(actor=ACTOR, store=store, customer_ref="c1", kind="access")
    data = services.request_export(actor=ACTOR, request=request)
    assert data["member"][0]["birthday"] == "03-15"
    assert data["orders"][0]["number"] == order.number
    assert data["orders"][0]["phone"] == order.phone
    assert data["shipments"][0]["address"] == order.address
    assert data["marketing_consents"][0]["address"] == "13812345678"
    assert "快递三天没动" in data["service_messages"][0]["text"]
    assert data["reviews"][0]["text"] == "很好，送到西湖区文三路"
    # the access request is answered; the log says how many records, not what they were
    request.refresh_from_db()
    assert request.status == "done"
    assert request.outcome["orders"] == 1
    entry = AuditEntry.objects.get(action="privacy.request_answer")
    assert "13812345678" not in str(entry.after)


def test_data_09_deletion_clears_personal_data_and_keeps_orders_and_money(store, channel):
    order = _customer_with_history(store, channel)
    paid = order.paid_amount
    request = services.request_open(actor=ACTOR, store=store, customer_ref="c1", kind="erase")
    done = services.request_erase(actor=ACTOR, request=request)
    assert done.status == "done"
    order.refresh_from_db()
    assert (order.receiver, order.phone, order.address, order.device_id) == ("", "", "", "")
    assert (order.paid_amount, order.province) == (paid, "浙江省")  # money and region kept
    member = Member.objects.get(customer_ref="c1")
    assert (member.gender, member.birth_month, member.city) == ("", None, "")
    assert Shipment.objects.get().address == ""
    consent = Consent.objects.get(customer_ref="c1")
    assert (consent.status, consent.address) == ("opted_out", "")
    message = TicketMessage.objects.get(ticket__customer_ref="c1", author_kind="customer")
    assert "13812345678" not in message.body
    review = Review.objects.get()
    assert (review.text, review.images, review.rating) == ("", [], 5)
    assert done.outcome["orders"] == 1
    # the copy afterwards holds nothing identifying
    again = selectors.personal_data(store=store, customer_ref="c1")
    assert again["orders"][0]["phone"] == ""
    assert again["marketing_consents"][0]["address"] == ""


def test_data_09_behaviour_events_are_unlinked_from_the_customer(store, channel):
    post(store, [ev("v-c1", "page_view", T0, "home", customer_ref="c1"), ev("v-c2", "page_view", T0, "home")])
    request = services.request_open(actor=ACTOR, store=store, customer_ref="c1", kind="erase")
    services.request_erase(actor=ACTOR, request=request)
    erased, other = Event.objects.order_by("visitor_id")
    assert erased.customer_ref == ""
    assert erased.visitor_id.startswith("erased-")
    assert other.visitor_id == "v-c2"  # only the customer's events; the counts stay


def test_data_09_deletion_waits_for_unfinished_orders_and_open_tickets(store, channel):
    world = World(store, channel)
    order = world.place(1)
    world.pay(order)
    ticket = ticket_services.ticket_open(
        actor=ACTOR, store=store, channel=channel, customer_ref="c1", subject="催发货", category="logistics"
    )
    request = services.request_open(actor=ACTOR, store=store, customer_ref="c1", kind="erase")
    assert selectors.erase_blockers(store=store, customer_ref="c1") == {
        "orders": [order.number],
        "tickets": [f"#{ticket.pk}"],
    }
    from storeops.core.errors import Conflict

    with pytest.raises(Conflict) as refused:
        services.request_erase(actor=ACTOR, request=request)
    assert refused.value.code == "privacy_unfinished_business"
    order.refresh_from_db()
    assert order.phone
    assert DataRequest.objects.get().status == "open"
    assert Ticket.objects.get().status == "open"


def test_data_09_an_access_request_cannot_delete_and_a_done_request_is_not_redone(store):
    from storeops.core.errors import Conflict

    access = services.request_open(actor=ACTOR, store=store, customer_ref="c1", kind="access")
    with pytest.raises(Conflict):
        services.request_erase(actor=ACTOR, request=access)
    services.request_refuse(actor=ACTOR, request=access, reason="无法核实身份")
    with pytest.raises(Conflict):
        services.request_refuse(actor=ACTOR, request=access, reason="again")


def test_data_09_check_reports_an_overdue_request_and_resolves_once_answered(store):
    request = services.request_open(actor=ACTOR, store=store, customer_ref="c1", kind="access", now=T0)
    checks_run(store=store, rule="DATA-09", now=T0 + dt.timedelta(days=14))
    assert not Finding.objects.filter(rule_id="DATA-09").exists()  # 15 days by default
    checks_run(store=store, rule="DATA-09", now=T0 + dt.timedelta(days=16))
    finding = Finding.objects.get(rule_id="DATA-09", status="open")
    assert "c1" in finding.title
    services.request_refuse(actor=ACTOR, request=request, reason="无法核实身份")
    checks_run(store=store, rule="DATA-09", now=T0 + dt.timedelta(days=17))
    assert not Finding.objects.filter(rule_id="DATA-09", status="open").exists()


def test_data_09_api_request_flow_and_permissions(store, channel, api_as):
    _customer_with_history(store, channel)
    service_desk = api_as(Role.CUSTOMER_SERVICE)
    created = service_desk.post(
        f"/privacy/{store.pk}/requests", {"customer_ref": "c1", "kind": "erase", "received_via": "客服热线"}
    )
    assert created.status_code == 201, created.content
    rid = created.json()["id"]
    assert service_desk.get(f"/privacy/{store.pk}/requests/{rid}").json()["blockers"] == {}
    # customer service records and exports; only the owner deletes; finance sees nothing
    assert service_desk.post(f"/privacy/{store.pk}/requests/{rid}/erase").status_code == 403
    assert api_as(Role.FINANCE).get(f"/privacy/{store.pk}/requests").status_code == 403
    bad = service_desk.post(f"/privacy/{store.pk}/requests", {"customer_ref": "", "kind": "erase"})
    assert bad.status_code == 422
    erased = api_as(Role.OWNER).post(f"/privacy/{store.pk}/requests/{rid}/erase")
    assert erased.status_code == 200
    assert erased.json()["status"] == "done"
    listed = service_desk.get(f"/privacy/{store.pk}/requests", status="done")
    assert listed.json()["total"] == 1
