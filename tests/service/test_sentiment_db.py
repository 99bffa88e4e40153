"""RISK-02 brand sentiment: alarm keywords in reviews and customers' messages become findings
(once per review / ticket, not raised again after a person handled them), and a mass
negative-review attack raises one critical finding with its evidence and playbook."""

from __future__ import annotations

import datetime as dt

import pytest

from storeops.service import rules, services
from storeops.sop.models import Finding
from storeops.sop.services import checks_run, finding_resolve
from storeops.stores.services import playbook_update
from tests.service.builders import ACTOR, T0, a_ticket, at

pytestmark = pytest.mark.django_db


def _review(store, channel, n, *, rating=5, text="很好", when=T0):
    return services.review_create(
        actor=ACTOR,
        store=store,
        channel=channel,
        order_ref=f"O{n}",
        sku_code="SKU-1",
        customer_ref=f"c{n}",
        rating=rating,
        text=text,
        created_at=when,
    )


def _open(store):
    return {
        f.subject_key: f
        for f in Finding.objects.filter(store=store, rule_id="RISK-02").exclude(status="resolved")
    }


def test_risk_02_keywords_come_from_the_playbook_text():
    assert rules.alarm_keywords(" 假货，诈骗、骗子,,假货\nFake ") == ("假货", "诈骗", "骗子", "Fake")
    assert rules.alarm_hits("this is FAKE, 假货!", ("假货", "fake", "诈骗")) == ["假货", "fake"]
    assert rules.alarm_hits("很好", ("假货",)) == []


def test_risk_02_a_review_with_an_alarm_word_is_a_finding_until_handled(store, channel, system):
    # given a 1-star review calling the goods fake, a 4-star one mentioning 曝光, and a normal one
    fake = _review(store, channel, 1, rating=1, text="收到的是假货，大家别买")
    exposed = _review(store, channel, 2, rating=4, text="还行，但我看到有人曝光过")
    _review(store, channel, 3, rating=5, text="质量很好")
    # when the check runs
    checks_run(rule="RISK-02", store=store, now=at(1), notify=False)
    found = _open(store)
    # then each alarming review is one finding, the negative one critical
    assert set(found) == {f"review:{fake.pk}", f"review:{exposed.pk}"}
    assert found[f"review:{fake.pk}"].severity == "critical"
    assert found[f"review:{fake.pk}"].detail["keywords"] == ["假货"]
    assert found[f"review:{exposed.pk}"].severity == "warning"
    # when a person handles one, it is not raised again on the next run
    finding_resolve(actor=system, finding=found[f"review:{fake.pk}"], note="已联系顾客，确认为正品并补偿")
    checks_run(rule="RISK-02", store=store, now=at(2), notify=False)
    assert set(_open(store)) == {f"review:{exposed.pk}"}
    assert Finding.objects.filter(store=store, subject_key=f"review:{fake.pk}").count() == 1


def test_risk_02_customer_messages_with_alarm_words_flag_their_ticket_once(store, channel):
    ticket = a_ticket(store, channel, message="你们是不是骗子？", opened=T0)
    services.ticket_customer_message(actor=ACTOR, ticket=ticket, body="再不处理我就打12315", at=at(0.5))
    quiet = a_ticket(store, channel, customer_ref="c2", message="什么时候发货", opened=T0)
    checks_run(rule="RISK-02", store=store, now=at(1), notify=False)
    found = _open(store)
    assert set(found) == {f"ticket:{ticket.pk}"}
    finding = found[f"ticket:{ticket.pk}"]
    assert finding.severity == "critical"
    assert finding.detail["keywords"] == ["骗子", "12315"]
    assert len(finding.detail["messages"]) == 2
    assert f"ticket:{quiet.pk}" not in found


def test_risk_02_keywords_and_lookback_are_playbook_settings(store, channel, system):
    _review(store, channel, 1, rating=3, text="感觉是山寨货", when=T0)
    checks_run(rule="RISK-02", store=store, now=at(1), notify=False)
    assert _open(store) == {}
    playbook_update(actor=system, store=store, values={"sentiment_alarm_keywords": "山寨,假货"})
    checks_run(rule="RISK-02", store=store, now=at(1), notify=False)
    assert len(_open(store)) == 1
    # older than the look-back window: no longer scanned
    playbook_update(actor=system, store=store, values={"sentiment_lookback_days": 1})
    checks_run(rule="RISK-02", store=store, now=T0 + dt.timedelta(days=2), notify=False)
    assert _open(store) == {}


def test_risk_02_a_burst_of_negative_reviews_is_an_attack_with_evidence_and_steps(store, channel, system):
    playbook_update(actor=system, store=store, values={"review_attack_count": 5})
    # given 4 one-star reviews within the day and one two days earlier
    _review(store, channel, 0, rating=1, text="差", when=T0 - dt.timedelta(days=2))
    ids = [_review(store, channel, n, rating=1, text="差", when=at(n)).pk for n in range(1, 5)]
    checks_run(rule="RISK-02", store=store, now=at(5), notify=False)
    assert "review-attack" not in _open(store)  # 4 within 24 h: below the playbook's 5
    # when a fifth arrives within the window
    ids.append(_review(store, channel, 5, rating=2, text="很差", when=at(5)).pk)
    checks_run(rule="RISK-02", store=store, now=at(6), notify=False)
    attack = _open(store)["review-attack"]
    # then one critical finding lists the reviews as evidence and the playbook's three steps
    assert attack.severity == "critical"
    assert attack.detail["reviews"] == ids
    assert len(attack.detail["steps"]) == 3
    assert "保全证据" in attack.detail["steps"][0]
    # and it resolves itself once the burst is out of the window
    checks_run(rule="RISK-02", store=store, now=at(40), notify=False)
    assert "review-attack" not in _open(store)
