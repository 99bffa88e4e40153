"""CS-01/CS-02 and RISK-02 judge each ticket / review by its channel's playbook; the other
channels keep the store's values."""

from __future__ import annotations

import pytest

from storeops.service import services
from storeops.sop.models import Finding
from storeops.sop.services import checks_run
from storeops.stores import services as st
from tests.service.builders import ACTOR, T0, a_ticket, at

pytestmark = pytest.mark.django_db


@pytest.fixture
def pdd(store, system):
    return st.channel_create(actor=system, store=store, kind="pinduoduo", code="pdd", name="拼多多")


def _open(store, rule):
    return {
        f.subject_key: f.severity for f in Finding.objects.filter(store=store, rule_id=rule, status="open")
    }


def test_cs_01_check_uses_the_channels_ticket_warn_minutes(store, channel, pdd, system):
    # given a general complaint on each channel, answer due at +2 h; one channel warns 90 minutes
    # ahead (the store: 30)
    st.playbook_update(actor=system, store=store, channel=pdd, values={"ticket_sla_warn_minutes": 90})
    on_store, on_pdd = a_ticket(store, channel), a_ticket(store, pdd, customer_ref="c2")
    # when the check runs 1 hour before the deadline: only that channel's ticket is due soon
    checks_run(rule="CS-01", store=store, now=at(1), notify=False)
    assert _open(store, "CS-01") == {f"ticket:{on_pdd.pk}:response": "info"}
    # 20 minutes before: the store's 30 minutes apply to the other channel
    checks_run(rule="CS-01", store=store, now=at(1, minutes=40), notify=False)
    assert _open(store, "CS-01") == {
        f"ticket:{on_pdd.pk}:response": "info",
        f"ticket:{on_store.pk}:response": "info",
    }


def test_risk_02_check_uses_the_channels_alarm_keywords(store, channel, pdd, system):
    # given a channel whose alarm words are 假货 and 砍一刀 (the store's default list has 黑店, not 砍一刀)
    st.playbook_update(
        actor=system, store=store, channel=pdd, values={"sentiment_alarm_keywords": "假货,砍一刀"}
    )

    def review(ch, n, text):
        return services.review_create(
            actor=ACTOR,
            store=store,
            channel=ch,
            order_ref=f"O{n}",
            sku_code="SKU-1",
            customer_ref=f"c{n}",
            rating=4,
            text=text,
            created_at=T0,
        )

    on_pdd = review(pdd, 1, "砍一刀根本砍不完")
    review(channel, 2, "砍一刀是什么")  # not an alarm word of the store
    on_store = review(channel, 3, "这家卖的是黑店货")  # the store's word, not the channel's list
    review(pdd, 4, "这家卖的是黑店货")
    # when the check runs, then each review is judged by its channel's words
    checks_run(rule="RISK-02", store=store, now=at(1), notify=False)
    assert set(_open(store, "RISK-02")) == {f"review:{on_pdd.pk}", f"review:{on_store.pk}"}
