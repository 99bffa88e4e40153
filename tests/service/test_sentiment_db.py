"""RISK-02 brand sentiment: alarm keywords in reviews and customers' messages become findings
(once per review / ticket, not raised again after a person handled them), and a mass
negative-review attack raises one critical finding with its evidence and playbook."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from storeops.accounts.roles import Role
from storeops.core.errors import Conflict, InvalidTransition, ValidationError
from storeops.service import rules, services
from storeops.service.models import ReviewAttack, ReviewAttackStep
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


def _attacks(store):
    return {k: f for k, f in _open(store).items() if k.startswith("review-attack")}


def test_risk_02_a_burst_of_negative_reviews_is_an_attack_that_stays_open_until_its_steps_are_done(
    store, channel, system
):
    playbook_update(actor=system, store=store, values={"review_attack_count": 5})
    # given 4 one-star reviews within the day and one two days earlier
    _review(store, channel, 0, rating=1, text="差", when=T0 - dt.timedelta(days=2))
    ids = [_review(store, channel, n, rating=1, text="差", when=at(n)).pk for n in range(1, 5)]
    checks_run(rule="RISK-02", store=store, now=at(5), notify=False)
    assert _attacks(store) == {}  # 4 within 24 h: below the playbook's 5
    assert not ReviewAttack.objects.exists()
    # when a fifth arrives within the window, an attack is opened with the five as evidence
    ids.append(_review(store, channel, 5, rating=2, text="很差", when=at(5)).pk)
    attack = ReviewAttack.objects.get()
    checks_run(rule="RISK-02", store=store, now=at(6), notify=False)
    finding = _attacks(store)[f"review-attack:{attack.pk}"]
    # then one critical finding lists the reviews and the playbook's three steps, all missing
    assert finding.severity == "critical"
    assert finding.detail["reviews"] == ids
    assert finding.detail["missing"] == ["evidence", "appeal", "communicate"]
    assert "保全证据" in finding.detail["steps"][0]
    # a later negative review near the burst joins the attack as evidence, opening no other
    late = _review(store, channel, 6, rating=1, text="垃圾", when=at(20)).pk
    assert list(attack.reviews.order_by("created_at").values_list("pk", flat=True)) == [*ids, late]
    assert ReviewAttack.objects.count() == 1
    # the burst leaving the window does not resolve it: the steps are not done
    checks_run(rule="RISK-02", store=store, now=at(60), notify=False)
    assert f"review-attack:{attack.pk}" in _attacks(store)
    # the steps go in order: an appeal before the evidence is refused and nothing is written
    with pytest.raises(InvalidTransition):
        services.review_attack_step(actor=ACTOR, attack=attack, step="appeal", note="已申诉")
    assert not ReviewAttackStep.objects.exists()
    services.review_attack_step(
        actor=ACTOR, attack=attack, step="evidence", note="截图存于网盘/差评0302", at=at(61)
    )
    with pytest.raises(Conflict):
        services.review_attack_step(actor=ACTOR, attack=attack, step="evidence", note="again")
    services.review_attack_step(actor=ACTOR, attack=attack, step="appeal", note="申诉单 TM-889", at=at(62))
    checks_run(rule="RISK-02", store=store, now=at(63), notify=False)
    finding = _attacks(store)[f"review-attack:{attack.pk}"]
    assert finding.detail["missing"] == ["communicate"]
    assert [(d["step"], d["by"], d["note"]) for d in finding.detail["done"]] == [
        ("evidence", ACTOR.label, "截图存于网盘/差评0302"),
        ("appeal", ACTOR.label, "申诉单 TM-889"),
    ]
    # the third step closes the attack and the finding resolves
    services.review_attack_step(
        actor=ACTOR, attack=attack, step="communicate", note="已在评价下统一回复", at=at(64)
    )
    attack.refresh_from_db()
    assert attack.closed_at == at(64)
    checks_run(rule="RISK-02", store=store, now=at(65), notify=False)
    assert _attacks(store) == {}


def test_risk_02_a_step_needs_a_known_step_and_a_note(store, channel, system):
    playbook_update(actor=system, store=store, values={"review_attack_count": 2})
    for n in range(2):
        _review(store, channel, n, rating=1, text="差", when=at(n))
    attack = ReviewAttack.objects.get()
    with pytest.raises(ValidationError) as exc:
        services.review_attack_step(actor=ACTOR, attack=attack, step="pray", note=" ")
    assert set(exc.value.fields) == {"step", "note"}
    assert not ReviewAttackStep.objects.exists()


def test_risk_02_reviews_arriving_out_of_order_still_make_a_burst(store, channel, system):
    playbook_update(actor=system, store=store, values={"review_attack_count": 3})
    # imported newest first: each review alone looks back over fewer
    for n in (10, 5, 1):
        _review(store, channel, n, rating=1, text="差", when=at(n))
    assert ReviewAttack.objects.get().reviews.count() == 3
    # positive reviews and negatives far apart never count
    _review(store, channel, 20, rating=5, when=at(11))
    for n in (100, 200):
        _review(store, channel, n, rating=1, text="差", when=at(n))
    assert ReviewAttack.objects.count() == 1


def test_risk_02_attack_burst_rule_finds_count_reviews_within_the_window():
    t = [(n, at(h)) for n, h in enumerate((0, 30, 40, 50, 100))]
    window = dt.timedelta(hours=24)
    assert rules.attack_burst(t, window=window, count=3) == [1, 2, 3]
    assert rules.attack_burst(list(reversed(t)), window=window, count=3) == [1, 2, 3]
    assert rules.attack_burst(t, window=window, count=4) == []
    assert rules.attack_steps_missing(["appeal"]) == ["evidence", "communicate"]


def _burst(store, channel, system, count=2):
    playbook_update(actor=system, store=store, values={"review_attack_count": count})
    for n in range(count):
        _review(store, channel, n, rating=1, text="差评", when=at(n))
    return ReviewAttack.objects.get()


def test_risk_02_api_lists_attacks_and_records_steps_in_order(store, channel, system, api_as):
    attack = _burst(store, channel, system)
    api = api_as(Role.CUSTOMER_SERVICE)
    base = f"/service/{store.pk}/review-attacks"
    listed = api.get(f"{base}?status=open").json()["items"]
    assert [(a["id"], a["review_count"], a["missing"]) for a in listed] == [
        (attack.pk, 2, ["evidence", "appeal", "communicate"])
    ]
    detail = api.get(f"{base}/{attack.pk}").json()
    assert [r["rating"] for r in detail["reviews"]] == [1, 1]
    # out of order: 409, nothing written; unknown step: 422
    response = api.post(f"{base}/{attack.pk}/steps", {"step": "communicate", "note": "回复"})
    assert response.status_code == 409
    assert api.post(f"{base}/{attack.pk}/steps", {"step": "pray", "note": "x"}).status_code == 422
    response = api.post(f"{base}/{attack.pk}/steps", {"step": "evidence", "note": " "})
    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["note"]
    assert not ReviewAttackStep.objects.exists()
    for step in ("evidence", "appeal", "communicate"):
        response = api.post(f"{base}/{attack.pk}/steps", {"step": step, "note": f"{step} 已完成"})
        assert response.status_code == 200, response.content
    body = response.json()
    assert body["closed_at"] is not None
    assert [s["done"]["by"] for s in body["steps"]] == ["u_customer_service"] * 3
    assert api.get(f"{base}?status=open").json()["items"] == []
    # operations may read but not record
    assert api_as(Role.OPERATIONS).get(f"{base}/{attack.pk}").status_code == 200


def test_risk_02_console_attack_page_records_the_next_step_and_keeps_a_refused_note(
    store, channel, system, make_user
):
    attack = _burst(store, channel, system)
    client = Client()
    client.force_login(make_user(Role.CUSTOMER_SERVICE))
    listing = client.get("/service/review-attacks/").content.decode()
    assert f'href="/service/review-attacks/{attack.pk}/"' in listing
    page = client.get(f"/service/review-attacks/{attack.pk}/").content.decode()
    assert 'name="step" value="evidence"' in page
    response = client.post(
        f"/service/review-attacks/{attack.pk}/step/", {"step": "appeal", "note": "申诉单 A1"}
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "请先完成「保全证据」" in html
    assert ">申诉单 A1</textarea>" in html
    response = client.post(
        f"/service/review-attacks/{attack.pk}/step/", {"step": "evidence", "note": "已截图"}
    )
    assert response.status_code == 302
    page = client.get(f"/service/review-attacks/{attack.pk}/").content.decode()
    assert "已截图" in page
    assert 'name="step" value="appeal"' in page
    # the RISK-02 finding links to the attack
    checks_run(rule="RISK-02", store=store, now=at(3), notify=False)
    finding = _attacks(store)[f"review-attack:{attack.pk}"]
    board = client.get(f"/findings/{finding.pk}/").content.decode()
    assert f"/service/review-attacks/{attack.pk}/" in board


@pytest.mark.django_db(transaction=True)
def test_risk_02_negative_reviews_saved_at_the_same_moment_open_one_attack_with_all_of_them(
    store, channel, system
):
    import itertools

    from tests.concurrency import at_once

    # given three one-star reviews this morning, the playbook's burst being five
    playbook_update(actor=system, store=store, values={"review_attack_count": 5})
    for n in range(3):
        _review(store, channel, n, rating=1, text="差", when=at(n))
    numbers = itertools.count(10)

    # when the fourth and the fifth are saved at the same moment
    outcome = at_once(lambda: _review(store, channel, next(numbers), rating=1, text="差", when=at(4)), 2)

    # then together they complete the burst: one attack, all five reviews its evidence
    assert outcome.errors == []
    attack = ReviewAttack.objects.get()
    assert attack.reviews.count() == 5
