"""Tickets and complaints: tier deadlines and escalation (CS-01), first response, resolution and
first-contact ownership (CS-02), the state machine, and the SLA findings."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from storeops.accounts.roles import Role
from storeops.audit.models import AuditEntry
from storeops.core.context import Actor
from storeops.core.errors import Conflict, InvalidTransition, PermissionDenied, ValidationError
from storeops.promotions import services as prs
from storeops.promotions.selectors import coupon_list
from storeops.service import services
from storeops.service.models import ServiceNotification, Ticket, TicketTransfer
from storeops.sop.models import Finding
from storeops.sop.services import checks_run
from storeops.stores import services as st
from tests.service.builders import ACTOR, a_ticket, agent, at

pytestmark = pytest.mark.django_db


def _open(store, rule):
    return {
        f.subject_key: f.severity
        for f in Finding.objects.filter(store=store, rule_id=rule).exclude(status="resolved")
    }


def test_cs_01_deadlines_follow_the_tier_and_the_playbook(store, channel, system):
    # given the default playbook (2 h answer, 4 h serious solution, 24 h resolution, 24 h crisis)
    general = a_ticket(store, channel)
    serious = a_ticket(store, channel, tier="serious", category="quality", subject="衣服开线")
    crisis = a_ticket(store, channel, tier="crisis", category="quality", subject="微博曝光")
    # then
    assert (general.response_due_at, general.resolution_due_at, general.statement_due_at) == (
        at(2),
        at(24),
        None,
    )
    assert (serious.response_due_at, serious.resolution_due_at) == (at(2), at(4))
    assert (crisis.resolution_due_at, crisis.statement_due_at, crisis.escalated) == (at(4), at(24), True)
    # when the store shortens the general answer time to 1 h
    st.playbook_update(actor=system, store=store, values={"complaint_general_hours": 1})
    assert a_ticket(store, channel).response_due_at == at(1)


def test_cs_01_general_complaint_unanswered_for_2_hours_raises_a_finding_that_resolves_on_reply(
    store, channel, make_user
):
    # given a general complaint opened by the system at T0 (no owner yet)
    ticket = a_ticket(store, channel)
    key = f"ticket:{ticket.pk}:response"
    # when checks run at 1 h (more than 30 min left), 1 h 40 (20 min left) and 2 h 5
    checks_run(rule="CS-01", store=store, now=at(1), notify=False)
    assert _open(store, "CS-01") == {}
    checks_run(rule="CS-01", store=store, now=at(1, minutes=40), notify=False)
    assert _open(store, "CS-01") == {key: "info"}
    checks_run(rule="CS-01", store=store, now=at(2, minutes=5), notify=False)
    # then the finding became a warning owned by customer service, due at the deadline
    assert _open(store, "CS-01") == {key: "warning"}
    finding = Finding.objects.get(subject_key=key, rule_id="CS-01")
    assert finding.owner_role == Role.CUSTOMER_SERVICE.value
    assert finding.due_at == at(2)
    # when an agent replies, then the next run resolves it
    services.ticket_reply(
        actor=Actor(user=agent(make_user)), ticket=ticket, body="正在为您查询", at=at(2, minutes=6)
    )
    checks_run(rule="CS-01", store=store, now=at(2, minutes=10), notify=False)
    assert _open(store, "CS-01") == {}


def test_cs_01_serious_complaint_not_solved_in_4_hours_is_critical(store, channel, make_user):
    ticket = a_ticket(store, channel, tier="serious", category="quality", subject="面料起球")
    services.ticket_reply(
        actor=Actor(user=agent(make_user)), ticket=ticket, body="非常抱歉", at=at(0, minutes=5)
    )
    checks_run(rule="CS-01", store=store, now=at(4, minutes=1), notify=False)
    assert _open(store, "CS-01") == {f"ticket:{ticket.pk}:resolution": "critical"}
    # the general resolution target is CS-02's and is not reported for a serious ticket
    checks_run(rule="CS-02", store=store, now=at(25), notify=False)
    assert _open(store, "CS-02") == {}
    services.ticket_resolve(
        actor=ACTOR, ticket=ticket, note="已退款并补偿", refund_ref="RF-1", at=at(4, minutes=2)
    )
    checks_run(rule="CS-01", store=store, now=at(4, minutes=5), notify=False)
    assert _open(store, "CS-01") == {}


def test_cs_01_ticket_finding_title_is_rendered_in_each_readers_language(store, channel):
    from django.utils import translation

    ticket = a_ticket(store, channel, subject="物流太慢")
    key = f"ticket:{ticket.pk}:response"
    # 20 minutes before the 2-hour first-response deadline, then 5 minutes after it
    checks_run(rule="CS-01", store=store, now=at(1, minutes=40), notify=False)
    soon = Finding.objects.get(rule_id="CS-01", subject_key=key)
    with translation.override("zh-hans"):
        assert soon.display_title == f"工单 #{ticket.pk}（一般）首次响应：还剩 20 分钟 — 物流太慢"
    with translation.override("en"):
        assert soon.display_title == f"Ticket #{ticket.pk} (General) First response: 20 min left — 物流太慢"
    checks_run(rule="CS-01", store=store, now=at(2, minutes=5), notify=False)
    late = Finding.objects.get(rule_id="CS-01", subject_key=key)
    with translation.override("en"):
        assert late.display_title == (
            f"Ticket #{ticket.pk} (General) First response: overdue by 5 min — 物流太慢"
        )


def test_cs_02_unresolved_after_24_hours_raises_a_finding(store, channel, make_user):
    ticket = a_ticket(store, channel)
    services.ticket_reply(
        actor=Actor(user=agent(make_user)), ticket=ticket, body="在查", at=at(0, seconds=20)
    )
    checks_run(rule="CS-02", store=store, now=at(23), notify=False)
    assert _open(store, "CS-02") == {}
    checks_run(rule="CS-02", store=store, now=at(24, minutes=1), notify=False)
    assert _open(store, "CS-02") == {f"ticket:{ticket.pk}:resolution": "warning"}


def test_cs_02_first_response_time_runs_from_the_first_customer_message(store, channel, make_user):
    # given a ticket whose customer wrote at T0
    ticket = a_ticket(store, channel)
    # when an agent answers 25 s later and again later
    services.ticket_reply(actor=Actor(user=agent(make_user)), ticket=ticket, body="您好", at=at(seconds=25))
    services.ticket_reply(actor=Actor(user=agent(make_user)), ticket=ticket, body="已催件", at=at(1))
    ticket.refresh_from_db()
    # then the first response is the first reply, 25 s, and the ticket is in progress
    assert (ticket.first_response_at, ticket.first_response_seconds, ticket.status) == (
        at(seconds=25),
        25,
        "in_progress",
    )


def test_cs_02_first_contact_keeps_ownership_and_only_owner_or_supervisor_may_transfer(
    store, channel, make_user
):
    first = agent(make_user, "first")
    second = agent(make_user, "second")
    boss = make_user(Role.OWNER, "boss")
    # given a ticket opened by the system and answered first by "first"
    ticket = a_ticket(store, channel)
    services.ticket_reply(actor=Actor(user=first), ticket=ticket, body="您好", at=at(0.1))
    # when "second" also replies, then "first" stays the owner
    services.ticket_reply(actor=Actor(user=second), ticket=ticket, body="补充一下", at=at(0.2))
    ticket.refresh_from_db()
    assert ticket.owner == first
    # when "second" tries to take it, then it is refused and nothing is recorded
    with pytest.raises(PermissionDenied):
        services.ticket_transfer(actor=Actor(user=second), ticket=ticket, to_user=second, reason="我来")
    assert TicketTransfer.objects.count() == 0
    # when the owner hands it over, and a supervisor (the shop owner) hands it back
    services.ticket_transfer(actor=Actor(user=first), ticket=ticket, to_user=second, reason="下班交接")
    services.ticket_transfer(actor=Actor(user=boss), ticket=ticket, to_user=first, reason="回到首问")
    ticket.refresh_from_db()
    # then both transfers are recorded
    assert ticket.owner == first
    assert list(
        TicketTransfer.objects.values_list("from_user__username", "to_user__username", "by_user__username")
    ) == [
        ("first", "second", "first"),
        ("second", "first", "boss"),
    ]


def test_cs_02_transfer_target_must_handle_tickets(store, channel, make_user):
    owner = agent(make_user)
    ticket = a_ticket(store, channel, actor=Actor(user=owner))
    with pytest.raises(ValidationError) as exc:
        services.ticket_transfer(
            actor=Actor(user=owner), ticket=ticket, to_user=make_user(Role.WAREHOUSE), reason="x"
        )
    assert "to_user_id" in exc.value.fields


def test_cs_01_crisis_alerts_the_emergency_group_and_owes_a_statement(store, channel, make_user):
    # given people in the emergency roles and one outside it
    for role in (Role.OWNER, Role.MARKETING, Role.CUSTOMER_SERVICE, Role.WAREHOUSE):
        make_user(role)
    ticket = a_ticket(store, channel, tier="serious", category="quality", subject="顾客说要找媒体")
    mail.outbox.clear()
    # when it is escalated to a crisis 3 h after opening
    services.ticket_escalate(actor=ACTOR, ticket=ticket, tier="crisis", reason="微博曝光", at=at(3))
    ticket.refresh_from_db()
    # then the statement is due 24 h later, the solution deadline stays the sooner one
    assert (ticket.tier, ticket.escalated, ticket.statement_due_at) == ("crisis", True, at(27))
    assert ticket.resolution_due_at == at(4)
    # and the emergency group got the alert by e-mail (and the log), the warehouse did not
    assert len(mail.outbox) == 1
    assert sorted(mail.outbox[0].to) == [
        "u_customer_service@example.com",
        "u_marketing@example.com",
        "u_owner@example.com",
    ]
    assert "微博曝光" in mail.outbox[0].body
    assert set(ServiceNotification.objects.filter(ticket=ticket).values_list("channel", flat=True)) == {
        "email",
        "log",
    }
    # when the statement is late, CS-01 reports it; once published, the finding resolves
    services.ticket_resolve(actor=ACTOR, ticket=ticket, note="已处理", refund_ref="RF-2", at=at(3.5))
    checks_run(rule="CS-01", store=store, now=at(28), notify=False)
    assert _open(store, "CS-01") == {f"ticket:{ticket.pk}:statement": "critical"}
    services.ticket_publish_statement(actor=ACTOR, ticket=ticket, text="关于某事的说明", at=at(28.5))
    checks_run(rule="CS-01", store=store, now=at(29), notify=False)
    assert _open(store, "CS-01") == {}


def test_cs_01_escalation_only_goes_up(store, channel):
    ticket = a_ticket(store, channel, tier="serious", category="quality")
    with pytest.raises(ValidationError):
        services.ticket_escalate(actor=ACTOR, ticket=ticket, tier="general", reason="降级")
    assert Ticket.objects.get(pk=ticket.pk).tier == "serious"


def test_cs_01_serious_complaint_resolves_with_refund_reference_and_compensation_coupon(
    store, channel, system
):
    # given a 5 yuan compensation coupon template configured in the playbook
    template = prs.coupon_template_create(
        actor=system, store=store, name="补偿5元券", kind="no_threshold", amount="5"
    )
    st.playbook_update(
        actor=system, store=store, values={"complaint_compensation_coupon_template": template.pk}
    )
    ticket = a_ticket(store, channel, tier="serious", category="quality", customer_ref="c77")
    # when it is resolved with compensation
    services.ticket_resolve(
        actor=ACTOR, ticket=ticket, note="退款+补偿", refund_ref="RF-9", compensate=True, at=at(3)
    )
    ticket.refresh_from_db()
    # then the customer holds the coupon and the ticket records both references
    issued = list(coupon_list(store=store, customer_ref="c77"))
    assert [c.code for c in issued] == [ticket.compensation_coupon]
    assert (ticket.status, ticket.refund_ref, ticket.resolved_at) == ("resolved", "RF-9", at(3))


def test_cs_01_compensation_that_cannot_be_issued_leaves_the_ticket_unresolved(store, channel, system):
    template = prs.coupon_template_create(
        actor=system, store=store, name="补偿券", kind="no_threshold", amount="5", total_quantity=1
    )
    prs.coupon_issue(actor=system, template=template, customer_ref="someone")
    ticket = a_ticket(store, channel, tier="serious", category="quality")
    with pytest.raises(Conflict):
        services.ticket_resolve(
            actor=ACTOR, ticket=ticket, note="补偿", compensate=True, coupon_template_id=template.pk
        )
    ticket.refresh_from_db()
    assert (ticket.status, ticket.compensation_coupon) == ("open", "")
    # and without any template configured, compensation is refused with a field message
    with pytest.raises(ValidationError) as exc:
        services.ticket_resolve(actor=ACTOR, ticket=ticket, note="补偿", compensate=True)
    assert "coupon_template_id" in exc.value.fields


def test_cs_02_state_machine_close_and_reopen(store, channel):
    ticket = a_ticket(store, channel)
    with pytest.raises(InvalidTransition):
        services.ticket_close(actor=ACTOR, ticket=ticket)
    services.ticket_resolve(actor=ACTOR, ticket=ticket, note="已解决", at=at(1))
    services.ticket_close(actor=ACTOR, ticket=ticket, at=at(2))
    with pytest.raises(InvalidTransition):
        services.ticket_reply(actor=ACTOR, ticket=ticket, body="还在吗")
    with pytest.raises(InvalidTransition):
        services.ticket_resolve(actor=ACTOR, ticket=ticket, note="again")
    services.ticket_reopen(actor=ACTOR, ticket=ticket, reason="顾客说还没收到", at=at(30))
    ticket.refresh_from_db()
    assert (ticket.status, ticket.resolved_at, ticket.closed_at, ticket.reopened_count) == (
        "in_progress",
        None,
        None,
        1,
    )
    assert ticket.resolution_due_at == at(30 + 24)
    actions = list(
        AuditEntry.objects.filter(object_type="service.ticket", object_id=str(ticket.pk))
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == ["ticket.open", "ticket.resolve", "ticket.close", "ticket.reopen"]


def test_cs_01_bad_input_is_refused_with_field_messages(store, channel):
    with pytest.raises(ValidationError) as exc:
        services.ticket_open(
            actor=ACTOR, store=store, channel=channel, customer_ref="", subject="", category="x", tier="y"
        )
    assert set(exc.value.fields) == {"customer_ref", "subject", "category", "tier"}
    assert Ticket.objects.count() == 0


def test_cs_01_overdue_filter_lists_only_tickets_past_a_running_deadline(store, channel):
    from storeops.service.selectors import ticket_list

    late = a_ticket(store, channel, opened=at(-3))
    a_ticket(store, channel, opened=dt.datetime.now(dt.UTC))
    assert list(ticket_list(store=store, overdue=True, now=at(0))) == [late]
