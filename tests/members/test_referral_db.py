"""SOP MEM-05: referral. The invitee joins with the inviter's code; when the invitee's first
order is paid both get the referral coupons (once each); self-referral and loops are refused;
a check compares the referral coupons' value with the acquisition cost."""

from __future__ import annotations

import datetime as dt

import pytest

from storeops.core.errors import Conflict, ValidationError
from storeops.members import selectors, services
from storeops.members.models import Member
from storeops.promotions.models import IssuedCoupon
from storeops.sop.models import Finding
from storeops.sop.services import checks_run
from storeops.stores import services as store_services
from tests.members.builders import ACTOR, PLAIN_DAY, a_member, a_template, paid_order, refund
from tests.orders.builders import World

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(store, channel):
    return World(store, channel, stock_sh=50, stock_gz=50)


def _coupons(ref):
    return sorted(IssuedCoupon.objects.filter(customer_ref=ref).values_list("template__name", "issue_key"))


def test_mem_05_both_get_referral_coupons_when_the_invitees_first_order_is_paid(store, world):
    # given an inviter, an invitee who joined with the inviter's code, and a referral template
    inviter = a_member(store, "alice")
    invitee = a_member(store, "bob", invite_code=inviter.invite_code)
    a_template(store, rule="referral", amount="30", name="邀请有礼30", per_user=10)
    # when nothing is paid yet, then nothing is issued
    services.points_sync(actor=ACTOR, store=store)
    assert _coupons("alice") == _coupons("bob") == []
    # when the invitee's first order is paid and the sync runs
    order = paid_order(world, "bob")
    result = services.points_sync(actor=ACTOR, store=store)
    # then each side got the referral coupon once, keyed by the invitee
    key = f"referral-{invitee.pk}"
    assert result.rewarded == 1
    assert _coupons("alice") == _coupons("bob") == [("邀请有礼30", key)]
    bob = Member.objects.get(pk=invitee.pk)
    assert bob.referral_rewarded_at is not None
    assert bob.referral_order == order.number


def test_mem_05_second_order_and_reruns_issue_nothing_more(store, world):
    inviter = a_member(store, "alice")
    a_member(store, "bob", invite_code=inviter.invite_code)
    a_template(store, rule="referral", amount="30", per_user=10)
    paid_order(world, "bob")
    services.points_sync(actor=ACTOR, store=store)
    paid_order(world, "bob")
    again = services.points_sync(actor=ACTOR, store=store)
    assert again.rewarded == 0
    assert IssuedCoupon.objects.count() == 2


def test_mem_05_inviter_gets_one_coupon_per_invitee(store, world):
    inviter = a_member(store, "alice")
    a_member(store, "bob", invite_code=inviter.invite_code)
    a_member(store, "carol", invite_code=inviter.invite_code)
    a_template(store, rule="referral", amount="30", per_user=10)
    paid_order(world, "bob")
    paid_order(world, "carol")
    services.points_sync(actor=ACTOR, store=store)
    assert len(_coupons("alice")) == 2
    stats = selectors.referral_stats(store=store)
    assert (stats.invited, stats.rewarded, stats.pending) == (2, 2, 0)
    assert stats.top_inviters[0]["customer_ref"] == "alice"


def test_mem_05_referral_without_an_active_template_stays_pending(store, world):
    inviter = a_member(store, "alice")
    invitee = a_member(store, "bob", invite_code=inviter.invite_code)
    paid_order(world, "bob")
    services.points_sync(actor=ACTOR, store=store)
    assert Member.objects.get(pk=invitee.pk).referral_rewarded_at is None
    a_template(store, rule="referral", amount="30", per_user=10)
    assert services.points_sync(actor=ACTOR, store=store).rewarded == 1


def test_mem_05_unknown_code_and_existing_customers_are_refused(store, world):
    inviter = a_member(store, "alice")
    with pytest.raises(ValidationError) as exc:
        a_member(store, "bob", invite_code="NOPE1234")
    assert "invite_code" in exc.value.fields
    paid_order(world, "old-customer")
    with pytest.raises(ValidationError) as exc:
        a_member(store, "old-customer", invite_code=inviter.invite_code)
    assert exc.value.code == "referral_not_new_customer"


def test_mem_05_self_referral_is_refused(store):
    alice = a_member(store, "alice")
    with pytest.raises(ValidationError) as exc:
        services.member_set_referrer(actor=ACTOR, member=alice, invite_code=alice.invite_code)
    assert exc.value.code == "self_referral"
    assert str(exc.value.message) == "不能使用自己的邀请码"


def test_mem_05_referral_loops_are_refused(store):
    # given alice invited bob and bob invited carol
    alice = a_member(store, "alice")
    bob = a_member(store, "bob", invite_code=alice.invite_code)
    carol = a_member(store, "carol", invite_code=bob.invite_code)
    # when alice (no inviter yet) tries to bind carol's or bob's code, then it is a loop
    for code in (carol.invite_code, bob.invite_code):
        with pytest.raises(ValidationError) as exc:
            services.member_set_referrer(actor=ACTOR, member=alice, invite_code=code)
        assert exc.value.code == "referral_loop"
    # and a member who has an inviter cannot bind another
    with pytest.raises(Conflict):
        services.member_set_referrer(actor=ACTOR, member=carol, invite_code=alice.invite_code)


def test_mem_05_binding_a_referrer_after_the_first_paid_order_is_refused(store, world):
    alice = a_member(store, "alice")
    dave = a_member(store, "dave")
    paid_order(world, "dave")
    with pytest.raises(ValidationError) as exc:
        services.member_set_referrer(actor=ACTOR, member=dave, invite_code=alice.invite_code)
    assert exc.value.code == "referral_not_new_customer"
    eve = a_member(store, "eve")
    bound = services.member_set_referrer(actor=ACTOR, member=eve, invite_code=alice.invite_code.lower())
    assert bound.referred_by_id == alice.pk


def test_mem_05_check_flags_referral_coupons_worth_less_than_the_acquisition_cost(store):
    # given an acquisition cost of 50 CNY and active referral templates worth 20 + 20
    store_services.playbook_update(actor=ACTOR, store=store, values={"referral_acquisition_cost": "50"})
    a_template(store, rule="referral", amount="20", name="A")
    a_template(store, rule="referral", amount="20", name="B")
    a_template(store, rule="manual", amount="100", name="not referral")
    # when checked, then one finding: 40 < 50
    checks_run(rule="MEM-05", store=store, notify=False)
    finding = Finding.objects.get(rule_id="MEM-05", status="open")
    assert finding.detail["worth"] == "40.00"
    assert finding.detail["acquisition_cost"] == "50.00"
    # when a third template brings them to 60, then the finding resolves itself
    a_template(store, rule="referral", amount="20", name="C")
    checks_run(rule="MEM-05", store=store, notify=False)
    finding.refresh_from_db()
    assert finding.status == "resolved"


def test_mem_05_check_is_silent_while_the_acquisition_cost_is_not_set(store):
    checks_run(rule="MEM-05", store=store, notify=False)
    assert not Finding.objects.filter(rule_id="MEM-05").exists()


def test_mem_05_with_a_wait_the_coupons_come_only_after_the_order_was_kept_that_long(store, world, system):
    # given a 7-day wait (the no-reason return window) in the playbook
    store_services.playbook_update(actor=system, store=store, values={"referral_reward_wait_days": 7})
    inviter = a_member(store, "alice")
    invitee = a_member(store, "bob", invite_code=inviter.invite_code)
    a_template(store, rule="referral", amount="30", per_user=10)
    day = dt.timedelta(days=1)
    # when bob's first order is paid and then refunded in full, and a second one is paid later
    first = paid_order(world, "bob", at=PLAIN_DAY)
    refund(first, 1)
    second = paid_order(world, "bob", at=PLAIN_DAY + 3 * day)
    # then nothing is issued while no kept order is 7 days old (the refunded one never counts)
    for at in (PLAIN_DAY + day, PLAIN_DAY + 8 * day):
        assert services.points_sync(actor=ACTOR, store=store, now=at).rewarded == 0
    assert _coupons("alice") == _coupons("bob") == []
    # and once the second order is 7 days old, both get their coupon, for that order
    assert services.points_sync(actor=ACTOR, store=store, now=PLAIN_DAY + 10 * day).rewarded == 1
    assert len(_coupons("alice")) == len(_coupons("bob")) == 1
    assert Member.objects.get(pk=invitee.pk).referral_order == second.number
