"""SOP MEM-01 birthday gift: a member's birthday ("MM-DD") is part of their profile; the
store's active birthday coupon templates (promotions rule ``birthday``: for every tier, or for
one tier) are given from the playbook's ``birthday_gift_days_before`` days ahead through the
birthday, once per member and year; the MEM-01 check reports gifts missed altogether and a
store with birthdays but nothing to give. Also PROMO-02: sign-up coupons on joining."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from storeops.core.errors import ValidationError
from storeops.members import rules, services
from storeops.members.models import BirthdayGift, Member
from storeops.members.tasks import birthday_gifts_daily
from storeops.promotions.models import IssuedCoupon
from storeops.sop.models import Finding
from storeops.sop.services import checks_run
from storeops.stores import services as store_services
from tests.members.builders import ACTOR, a_member, a_template

pytestmark = pytest.mark.django_db

BEFORE = dt.datetime(2026, 1, 5, 2, 0, tzinfo=dt.UTC)


def local(y: int, m: int, d: int, hour: int = 1) -> dt.datetime:
    """``hour`` o'clock local time (UTC+8) on that day, as UTC."""
    return dt.datetime(y, m, d, hour, tzinfo=dt.timezone(dt.timedelta(hours=8))).astimezone(dt.UTC)


def _diamond(member: Member) -> None:
    services.points_adjust(
        actor=ACTOR, member=member, points=1, growth=1_000_000, reason="迁移", unlimited=True
    )
    store_services.playbook_update(
        actor=ACTOR, store=member.store, values={"tier_gold_min_orders": 0, "tier_diamond_min_orders": 0}
    )
    services.tiers_recompute(actor=ACTOR, store=member.store)


# --- pure rules --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("03-15", (3, 15)), ("3-5", (3, 5)), ("12/31", (12, 31)), ("2月29日", (2, 29)), (" 07.01 ", (7, 1))],
)
def test_mem_01_birthday_text_is_read_as_month_and_day(text: str, expected: tuple[int, int]) -> None:
    assert rules.parse_birthday(text) == expected


@pytest.mark.parametrize("text", ["", "13-01", "02-30", "04-31", "0-1", "1990-03-15", "abc", "03-"])
def test_mem_01_impossible_birthdays_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a birthday"):
        rules.parse_birthday(text)


def test_mem_01_a_29_february_birthday_falls_on_28_february_outside_leap_years() -> None:
    assert rules.birthday_in(2027, 2, 29) == dt.date(2027, 2, 28)
    assert rules.birthday_in(2028, 2, 29) == dt.date(2028, 2, 29)
    due = rules.birthdays_due(dt.date(2027, 2, 28), days_before=0)
    assert due == {(2, 28): dt.date(2027, 2, 28), (2, 29): dt.date(2027, 2, 28)}


def test_mem_01_a_gift_ahead_of_a_january_birthday_belongs_to_next_year() -> None:
    due = rules.birthdays_due(dt.date(2026, 12, 29), days_before=5)
    assert due[(1, 2)] == dt.date(2027, 1, 2)
    assert due[(12, 29)] == dt.date(2026, 12, 29)
    assert (12, 28) not in due


@given(
    st.dates(min_value=dt.date(2001, 1, 1), max_value=dt.date(2099, 12, 31)),
    st.integers(min_value=0, max_value=30),
)
def test_mem_01_every_birthday_is_due_on_exactly_days_before_plus_one_days(
    today: dt.date, ahead: int
) -> None:
    """Walking the calendar, a birthday is due on ``ahead + 1`` consecutive days (fewer only for
    29 February, which shares 28 February outside leap years) and always on its own date."""
    for month, day in ((3, 15), (1, 1), (12, 31)):
        birthday = rules.birthday_in(today.year, month, day)
        days = [birthday - dt.timedelta(days=k) for k in range(ahead + 1)]
        assert all(rules.birthdays_due(d, days_before=ahead)[(month, day)] == birthday for d in days)
        before = birthday - dt.timedelta(days=ahead + 1)
        assert rules.birthdays_due(before, days_before=ahead).get((month, day)) != birthday


# --- profile -----------------------------------------------------------------------------------------


def test_mem_01_birthday_is_set_on_joining_and_changed_through_the_profile(store) -> None:
    member = a_member(store, "c1", birthday="03-15", joined=BEFORE)
    assert (member.birth_month, member.birth_day, member.birthday_set_at) == (3, 15, BEFORE)
    changed = services.member_update(actor=ACTOR, member=member, birthday="4/2")
    assert (changed.birth_month, changed.birth_day) == (4, 2)
    assert changed.birthday_set_at is not None
    assert changed.birthday_set_at > BEFORE
    cleared = services.member_update(actor=ACTOR, member=changed, birthday="")
    assert (cleared.birth_month, cleared.birth_day, cleared.birthday_set_at) == (None, None, None)


def test_mem_01_a_bad_birthday_is_a_422_naming_the_field_and_nothing_changes(store) -> None:
    member = a_member(store, "c1", birthday="03-15", joined=BEFORE)
    with pytest.raises(ValidationError) as caught:
        services.member_update(actor=ACTOR, member=member, birthday="02-30", city="杭州")
    assert "birthday" in caught.value.fields
    member.refresh_from_db()
    assert (member.birth_month, member.birth_day, member.city) == (3, 15, "")
    with pytest.raises(ValidationError):
        a_member(store, "c2", birthday="13-01")
    assert not Member.objects.filter(customer_ref="c2").exists()


# --- issuing -------------------------------------------------------------------------------------------


def test_mem_01_birthday_gift_is_given_on_the_birthday_once_a_year(store) -> None:
    # given a member born 15 March and a birthday template for every tier
    a_member(store, "c1", birthday="03-15", joined=BEFORE)
    a_member(store, "c2", birthday="03-16", joined=BEFORE)
    a_template(store, rule="birthday", amount="20")
    # the day before, nothing
    assert services.birthday_gifts_issue(actor=ACTOR, store=store, now=local(2026, 3, 14)).members == 0
    # on the day, one coupon for c1 only
    run = services.birthday_gifts_issue(actor=ACTOR, store=store, now=local(2026, 3, 15))
    assert (run.members, run.coupons) == (1, 1)
    coupon = IssuedCoupon.objects.get()
    assert (coupon.customer_ref, coupon.issue_key, str(coupon.template.amount)) == (
        "c1",
        "birthday-2026",
        "20.00",
    )
    gift = BirthdayGift.objects.get()
    assert (gift.year, gift.birthday, gift.coupons, gift.codes) == (
        2026,
        dt.date(2026, 3, 15),
        1,
        [coupon.code],
    )
    # a second run the same day, or a changed birthday later that year, gives nothing more
    assert services.birthday_gifts_issue(actor=ACTOR, store=store, now=local(2026, 3, 15, 20)).members == 0
    member = Member.objects.get(customer_ref="c1")
    services.member_update(actor=ACTOR, member=member, birthday="03-20")
    assert services.birthday_gifts_issue(actor=ACTOR, store=store, now=local(2026, 3, 20)).coupons == 0
    # the next year, again
    services.member_update(actor=ACTOR, member=member, birthday="03-15")
    assert services.birthday_gifts_issue(actor=ACTOR, store=store, now=local(2027, 3, 15)).coupons == 1
    assert IssuedCoupon.objects.filter(customer_ref="c1").count() == 2


def test_mem_01_days_ahead_is_a_playbook_setting_and_a_missed_day_is_caught_up(store) -> None:
    a_member(store, "c1", birthday="03-15", joined=BEFORE)
    a_template(store, rule="birthday", amount="20")
    store_services.playbook_update(actor=ACTOR, store=store, values={"birthday_gift_days_before": 7})
    assert services.birthday_gifts_issue(actor=ACTOR, store=store, now=local(2026, 3, 7)).members == 0
    # the task did not run on 8 March (seven days ahead); the 10th catches it up
    assert services.birthday_gifts_issue(actor=ACTOR, store=store, now=local(2026, 3, 10)).members == 1
    assert BirthdayGift.objects.get().birthday == dt.date(2026, 3, 15)


def test_mem_01_tier_templates_go_to_their_tier_and_untiered_ones_to_everyone(store) -> None:
    a_member(store, "s1", birthday="06-01", joined=BEFORE)
    diamond = a_member(store, "d1", birthday="06-01", joined=BEFORE)
    _diamond(diamond)
    a_template(store, rule="birthday", amount="10", name="生日券")
    a_template(store, rule="birthday", amount="50", tier="diamond", name="钻石生日礼")
    run = services.birthday_gifts_issue(actor=ACTOR, store=store, now=local(2026, 6, 1))
    assert (run.members, run.coupons) == (2, 3)
    got = {(c.customer_ref, str(c.template.amount)) for c in IssuedCoupon.objects.select_related("template")}
    assert got == {("s1", "10.00"), ("d1", "10.00"), ("d1", "50.00")}
    assert BirthdayGift.objects.get(member=diamond).tier == "diamond"


def test_mem_01_the_daily_task_gives_every_store_its_gifts(store) -> None:
    # the task works on "now": a member whose birthday is today (local time) is due
    a_member(store, "c1", birthday=timezone.localdate().strftime("%m-%d"), joined=BEFORE)
    a_template(store, rule="birthday", amount="20")
    assert birthday_gifts_daily.call_local() == 1
    assert birthday_gifts_daily.call_local() == 0


# --- the check ---------------------------------------------------------------------------------------


def test_mem_01_check_reports_a_gift_missed_by_its_birthday_and_resolves_once_given(store) -> None:
    # given a member whose birthday was known and a template, but the task never ran
    a_member(store, "c1", birthday="03-15", joined=BEFORE)
    a_member(store, "late", joined=BEFORE)
    a_template(store, rule="birthday", amount="20")
    # a customer who told their birthday only after it passed is not owed a gift
    late = Member.objects.get(customer_ref="late")
    Member.objects.filter(pk=late.pk).update(birth_month=3, birth_day=14, birthday_set_at=local(2026, 3, 16))
    # on the birthday itself nothing is missed yet
    checks_run(rule="MEM-01", store=store, now=local(2026, 3, 15, 12), notify=False)
    assert not Finding.objects.filter(rule_id="MEM-01", subject_key="birthday-gifts:missed").exists()
    # the next day, one member missed
    checks_run(rule="MEM-01", store=store, now=local(2026, 3, 16, 12), notify=False)
    finding = Finding.objects.get(rule_id="MEM-01", subject_key="birthday-gifts:missed")
    assert finding.detail["total"] == 1
    assert finding.detail["members"][0]["customer"] == "c1"
    assert finding.status == "open"


def test_mem_01_how_far_back_a_missed_gift_is_reported_is_a_playbook_setting(store) -> None:
    # given a member whose birthday passed 10 days ago without the gift
    a_member(store, "c1", birthday="03-05", joined=BEFORE)
    a_template(store, rule="birthday", amount="20")
    # when the check looks back the default 7 days, then it is not reported
    checks_run(rule="MEM-01", store=store, now=local(2026, 3, 15, 12), notify=False)
    assert not Finding.objects.filter(rule_id="MEM-01", subject_key="birthday-gifts:missed").exists()
    # when it looks back 14 days, then it is
    store_services.playbook_update(actor=ACTOR, store=store, values={"birthday_missed_lookback_days": 14})
    checks_run(rule="MEM-01", store=store, now=local(2026, 3, 15, 12), notify=False)
    finding = Finding.objects.get(rule_id="MEM-01", subject_key="birthday-gifts:missed")
    assert finding.detail["members"][0] == {
        "id": finding.detail["members"][0]["id"],
        "customer": "c1",
        "birthday": "2026-03-05",
    }


def test_mem_01_check_reports_birthdays_this_month_without_a_birthday_template(store) -> None:
    a_member(store, "c1", birthday="03-15", joined=BEFORE)
    checks_run(rule="MEM-01", store=store, now=local(2026, 3, 2), notify=False)
    assert Finding.objects.filter(rule_id="MEM-01", subject_key="birthday-gifts:no-template").exists()
    a_template(store, rule="birthday", amount="20")
    checks_run(rule="MEM-01", store=store, now=local(2026, 3, 3), notify=False)
    finding = Finding.objects.get(rule_id="MEM-01", subject_key="birthday-gifts:no-template")
    assert finding.status != "open"


# --- PROMO-02 sign-up coupons ----------------------------------------------------------------------------


def test_promo_02_joining_gives_the_sign_up_coupons_once(store) -> None:
    a_template(store, rule="new_user", amount="15")
    a_member(store, "c1", joined=BEFORE)
    coupon = IssuedCoupon.objects.get()
    assert (coupon.customer_ref, coupon.source, str(coupon.template.amount)) == ("c1", "new_user", "15.00")
    a_member(store, "c2", joined=BEFORE)
    assert IssuedCoupon.objects.filter(customer_ref="c2").count() == 1
    assert IssuedCoupon.objects.count() == 2
