"""AS-02 judges each case by its channel's playbook: the refund warning starts the channel's
``refund_sla_warn_hours`` before the deadline; channels without an override keep the store's."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from storeops.accounts.roles import Role
from storeops.aftersales import services
from storeops.orders import services as order_services
from storeops.sop.models import Finding
from storeops.sop.services import checks_run
from storeops.stores import services as st
from tests.aftersales.builders import ASKED, shipped_order
from tests.orders.builders import ACTOR, World

pytestmark = pytest.mark.django_db


def _refund_only(world, channel, customer, asked):
    world.channel = channel  # World places its orders on world.channel
    order = order_services.order_deliver(
        actor=ACTOR, order=shipped_order(world, 1, customer=customer), at=asked - dt.timedelta(hours=1)
    )
    return services.case_request(
        actor=ACTOR,
        order=order,
        kind="refund_only",
        reason="damaged",
        units={order.lines.get().pk: 1},
        now=asked,
    )


def _open():
    return {f.subject_id: f.severity for f in Finding.objects.filter(rule_id="AS-02", status="open")}


def _cases(store, channel, system, asked):
    """A refund-only case due at ``asked`` + 24 h on the store's channel, and one on a channel
    that warns 8 hours ahead (the store: 4)."""
    early = st.channel_create(actor=system, store=store, kind="pinduoduo", code="pdd", name="拼多多")
    st.playbook_update(actor=system, store=store, channel=early, values={"refund_sla_warn_hours": 8})
    world = World(store, channel)
    on_store = _refund_only(world, channel, "c1", asked)
    on_early = _refund_only(world, early, "c2", asked)
    assert on_store.due_at == on_early.due_at == asked + dt.timedelta(hours=24)
    return on_store, on_early


def test_as_02_check_uses_the_channels_refund_warn_hours(store, channel, system):
    on_store, on_early = _cases(store, channel, system, ASKED)
    # 7 hours before the deadline: only the channel warning 8 hours ahead
    checks_run(rule="AS-02", store=store, now=ASKED + dt.timedelta(hours=17), notify=False)
    assert _open() == {on_early.number: "warning"}
    # 3 hours before: the store's 4 hours apply to the other channel
    checks_run(rule="AS-02", store=store, now=ASKED + dt.timedelta(hours=21), notify=False)
    assert _open() == {on_early.number: "warning", on_store.number: "warning"}


def test_as_02_queue_shows_due_soon_by_the_cases_channel(store, channel, system, make_user):
    # 7 hours before both deadlines: due soon on the channel warning 8 hours ahead only
    on_store, on_early = _cases(store, channel, system, timezone.now() - dt.timedelta(hours=17))
    client = Client()
    client.force_login(make_user(Role.CUSTOMER_SERVICE))
    page = client.get("/aftersales/").content.decode()
    row = {c: page.split(f">{c}</a>")[1].split("</tr>")[0] for c in (on_store.number, on_early.number)}
    assert 'class="state-expiring"' in row[on_early.number]
    assert 'class="state-ok"' in row[on_store.number]
