"""Pure rules of campaigns and ads (PROMO-05..08, ADS-01..03)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest

from storeops.core.money import Money
from storeops.marketing import rules
from storeops.marketing.rules import CampaignEvent as E
from storeops.marketing.rules import CampaignState as S

D = dt.date


@pytest.mark.parametrize(
    ("state", "event", "expected"),
    [
        (S.DRAFT, E.SUBMIT, S.PENDING_OPERATIONS),
        (S.PENDING_OPERATIONS, E.APPROVE, S.PENDING_MARKETING),
        (S.PENDING_MARKETING, E.APPROVE, S.PENDING_FINANCE),
        (S.PENDING_FINANCE, E.APPROVE, S.APPROVED),
        (S.PENDING_MARKETING, E.REJECT, S.DRAFT),
        (S.PENDING_FINANCE, E.REJECT, S.DRAFT),
        (S.APPROVED, E.ACTIVATE, S.ACTIVE),
        (S.ACTIVE, E.END, S.ENDED),
        (S.DRAFT, E.ACTIVATE, None),
        (S.PENDING_FINANCE, E.ACTIVATE, None),
        (S.ACTIVE, E.CANCEL, None),
        (S.ENDED, E.SUBMIT, None),
    ],
)
def test_promo_05_campaign_transition_table(state, event, expected):
    # given a state and an event, when looked up, then the table gives the next state or refuses
    assert rules.next_state(state, event) == expected


def test_promo_05_only_a_fully_approved_campaign_can_be_activated():
    # given every state, when asked which can be activated, then only the approved one
    assert [s for s in S if rules.next_state(s, E.ACTIVATE) is not None] == [S.APPROVED]


@pytest.mark.parametrize(
    ("created", "approved", "today", "expected"),
    [
        (D(2026, 9, 1), None, D(2026, 9, 20), None),  # 71 days ahead, 52 days left: fine
        (D(2026, 10, 1), None, D(2026, 10, 1), rules.PlanAheadBreach.CREATED_LATE),  # 41 days
        (D(2026, 9, 1), D(2026, 9, 20), D(2026, 10, 1), None),  # approved 52 days ahead
        (D(2026, 9, 1), D(2026, 9, 28), D(2026, 10, 1), rules.PlanAheadBreach.APPROVED_LATE),  # 44 days
        (D(2026, 9, 1), None, D(2026, 9, 27), rules.PlanAheadBreach.NOT_APPROVED),  # 45 days left
        (D(2026, 9, 1), None, D(2026, 9, 26), None),  # 46 days left
    ],
)
def test_promo_05_big_promotion_must_be_planned_45_days_ahead(created, approved, today, expected):
    # given 11.11 starting on 2026-11-11 and a 45-day plan-ahead setting
    breach = rules.big_promo_plan_breach(
        starts_on=D(2026, 11, 11), created_on=created, approved_on=approved, today=today, plan_days=45
    )
    # then the breach (or none) is as expected
    assert breach == expected


def _hour(h: int, issued: int, redeemed: int, attempts: int, failures: int) -> rules.HourFigures:
    return rules.HourFigures(
        dt.datetime(2026, 11, 11, h, tzinfo=dt.UTC), issued, redeemed, attempts, failures
    )


def test_promo_06_redemption_below_plan_and_failures_above_threshold_are_flagged():
    # given two hours: 100 coupons issued, 25 redeemed; failures 2/100 then 8/100
    hours = [_hour(20, 60, 15, 100, 2), _hour(21, 40, 10, 100, 8)]
    # when monitored against a 30% redemption plan and a 5% failure threshold
    alerts = rules.monitor(hours, planned_redemption_rate=Decimal("0.30"), max_failure_rate=Decimal("0.05"))
    # then redemption 25% is below plan and the latest failure rate 8% (up from 2%) is too high
    assert alerts.redemption_rate == Decimal("0.25")
    assert alerts.redemption_below_plan is True
    assert alerts.failure_rate == Decimal("0.08")
    assert alerts.previous_failure_rate == Decimal("0.02")
    assert alerts.failure_above_threshold is True


def test_promo_06_no_coupons_issued_is_not_a_zero_redemption_rate():
    # given hours with no coupons and no payments, when monitored, then nothing is flagged
    alerts = rules.monitor(
        [_hour(20, 0, 0, 0, 0)], planned_redemption_rate=Decimal("0.3"), max_failure_rate=Decimal("0.05")
    )
    assert (alerts.redemption_rate, alerts.redemption_below_plan, alerts.failure_above_threshold) == (
        None,
        False,
        False,
    )


def test_promo_06_few_payment_attempts_are_shown_but_not_judged():
    # given the latest hour failed 1 of 2 payments, and a minimum of 10 attempts to judge
    hours = [_hour(20, 0, 0, 2, 1)]
    alerts = rules.monitor(
        hours, planned_redemption_rate=Decimal("0.3"), max_failure_rate=Decimal("0.05"), min_attempts=10
    )
    # then the 50% is shown, but raises no alert; with 2 as the minimum it does
    assert (alerts.failure_rate, alerts.failure_above_threshold) == (Decimal("0.5"), False)
    judged = rules.monitor(
        hours, planned_redemption_rate=Decimal("0.3"), max_failure_rate=Decimal("0.05"), min_attempts=2
    )
    assert judged.failure_above_threshold is True


def test_promo_06_hour_starts_are_whole_local_hours_that_have_ended():
    # given a zone half an hour off UTC (whole local hours are not whole UTC hours)
    tz = zoneinfo.ZoneInfo("Asia/Kolkata")
    first = dt.datetime(2026, 6, 1, 0, 0, tzinfo=tz)
    # when the hours up to 02:59 are listed, then 00:00 and 01:00 (02:00 has not ended)
    hours = rules.hour_starts(first, dt.datetime(2026, 6, 1, 2, 59, tzinfo=tz))
    assert [h.strftime("%H:%M") for h in hours] == ["00:00", "01:00"]
    # and across a daylight-saving change the hours are real hours (23 on the spring day)
    paris = zoneinfo.ZoneInfo("Europe/Paris")
    day = rules.hour_starts(
        dt.datetime(2026, 3, 29, 0, 0, tzinfo=paris), dt.datetime(2026, 3, 30, 0, 0, tzinfo=paris)
    )
    assert len(day) == 23
    assert rules.hour_floor(dt.datetime(2026, 6, 1, 5, 47, 12, 9, tzinfo=tz)) == dt.datetime(
        2026, 6, 1, 5, 0, tzinfo=tz
    )


def test_promo_06_hours_to_count_are_the_new_ones_and_those_not_settled_when_counted():
    h = [dt.datetime(2026, 6, 1, n, tzinfo=dt.UTC) for n in range(4)]
    settle = dt.timedelta(minutes=15)
    counted_at = {
        h[0]: dt.datetime(2026, 6, 1, 1, 20, tzinfo=dt.UTC),  # after 01:15: settled
        h[1]: dt.datetime(2026, 6, 1, 2, 3, tzinfo=dt.UTC),  # before 02:15: count again
        h[2]: None,  # typed, never counted
    }
    assert rules.hours_to_count(h, counted_at, settle) == h[1:]


@pytest.mark.parametrize(
    ("end", "due"),
    [
        (D(2026, 11, 11), D(2026, 11, 16)),  # Wednesday → the next Monday
        (D(2026, 11, 13), D(2026, 11, 18)),  # Friday → Wednesday
        (D(2026, 11, 14), D(2026, 11, 18)),  # Saturday → Wednesday
    ],
)
def test_promo_07_postmortem_is_due_three_working_days_after_the_end(end, due):
    assert rules.add_working_days(end, 3) == due


# National Day 2026: 10-01..10-07 off, Sunday 09-27 and Saturday 10-10 worked instead (调休)
NATIONAL_DAY = frozenset(D(2026, 10, 1) + dt.timedelta(days=i) for i in range(7))
MAKEUP = frozenset({D(2026, 9, 27), D(2026, 10, 10)})


@pytest.mark.parametrize(
    ("end", "due"),
    [
        (D(2026, 9, 30), D(2026, 10, 10)),  # Wednesday before the holiday → 10-08, 10-09, Sat 10-10
        (D(2026, 9, 25), D(2026, 9, 29)),  # Friday → Sun 09-27 (worked), 09-28, 09-29
        (D(2026, 10, 3), D(2026, 10, 10)),  # in the holiday → 10-08, 10-09, 10-10
        (D(2026, 10, 10), D(2026, 10, 14)),  # the make-up Saturday → Mon..Wed
    ],
)
def test_promo_07_working_days_skip_public_holidays_and_count_makeup_days(end, due):
    assert rules.add_working_days(end, 3, holidays=NATIONAL_DAY, workdays=MAKEUP) == due


def test_promo_07_without_a_calendar_working_days_are_monday_to_friday():
    assert rules.add_working_days(D(2026, 9, 30), 3) == D(2026, 10, 5)
    assert rules.is_working_day(D(2026, 10, 1))
    assert not rules.is_working_day(D(2026, 10, 1), holidays=NATIONAL_DAY)
    assert rules.is_working_day(D(2026, 9, 27), workdays=MAKEUP)
    assert not rules.is_working_day(D(2026, 9, 27))


def test_promo_07_postmortem_attainment_roi_and_budget_used():
    # given GMV 120,000 against 100,000, 400 of 500 new users, cost 9,000 of 10,000 planned
    figures = rules.PostmortemFigures(
        gmv=Money("120000"),
        gmv_target=Money("100000"),
        new_users=400,
        new_users_target=500,
        budget=(
            rules.BudgetFigures("discount", Money("6000"), Money("5000")),
            rules.BudgetFigures("ads", Money("4000"), Money("4000")),
        ),
    )
    # when the post-mortem is computed
    pm = rules.postmortem(figures)
    # then attainment 120% / 80%, ROI (120000 − 9000) ÷ 9000, budget used 90%
    assert pm.gmv_attainment == Decimal("1.2")
    assert pm.new_users_attainment == Decimal("0.8")
    assert pm.cost == Money("9000")
    assert pm.roi is not None
    assert pm.roi.quantize(Decimal("0.0001")) == Decimal("12.3333")
    assert pm.budget_used == Decimal("0.9")


def test_promo_07_roi_is_unknown_without_cost():
    pm = rules.postmortem(rules.PostmortemFigures(Money("100"), Money("0"), 0, 0, ()))
    assert (pm.roi, pm.gmv_attainment, pm.new_users_attainment) == (None, None, None)


def test_promo_08_cash_reserve_is_expected_refunds_plus_payouts():
    # given a GMV target of 100,000, a 12.5% refund rate and a 10,000 budget
    reserve = rules.cash_reserve(
        gmv_target=Money("100000"), refund_rate=Decimal("0.125"), budget=Money("10000")
    )
    # then refunds 12,500 + payouts 10,000 = 22,500
    assert reserve.expected_refunds == Money("12500.00")
    assert reserve.payouts == Money("10000.00")
    assert reserve.total == Money("22500.00")


def test_ads_02_cpc_and_roi():
    assert rules.cpc(Money("10"), 4) == Money("2.5")
    assert rules.cpc(Money("10"), 0) is None
    assert rules.ad_roi(Money("300"), Money("100")) == Decimal(3)
    assert rules.ad_roi(Money("300"), Money("0")) is None


@pytest.mark.parametrize(
    ("roi", "short"), [("2.99", True), ("3", True), ("3.00", True), ("3.0001", False), (None, False)]
)
def test_ads_02_roi_target_is_strictly_above_3(roi, short):
    value = None if roi is None else Decimal(roi)
    assert rules.roi_short_of_target(value, Decimal("3")) is short


@pytest.mark.parametrize(("actual", "expected"), [("0.80", False), ("0.81", True)])
def test_ads_02_cpc_above_80_percent_of_industry_average(actual, expected):
    assert rules.cpc_too_high(Money(actual), Money("1.00"), Decimal("0.8")) is expected


def test_ads_02_core_keyword_rank_worse_than_30():
    assert (rules.rank_too_low(30, 30), rules.rank_too_low(31, 30), rules.rank_too_low(None, 30)) == (
        False,
        True,
        False,
    )


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (dt.time(19, 59), Money("2.00")),
        (dt.time(20, 0), Money("2.24")),  # 2.00 × 1.12
        (dt.time(21, 59), Money("2.24")),
        (dt.time(22, 0), Money("2.00")),
    ],
)
def test_ads_03_peak_hour_bid_schedule(at, expected):
    # given a base bid of 2.00 and +12% from 20:00 to 22:00
    schedule = rules.PeakSchedule(start=dt.time(20), end=dt.time(22), uplift=Decimal("0.12"))
    # when asked for the bid at a time, then the uplift applies inside the window only
    assert rules.bid_at(Money("2.00"), at, schedule) == expected


def test_ads_03_peak_window_may_cross_midnight():
    schedule = rules.PeakSchedule(start=dt.time(23), end=dt.time(1), uplift=Decimal("0.10"))
    assert (schedule.covers(dt.time(0, 30)), schedule.covers(dt.time(1, 0))) == (True, False)


@pytest.mark.parametrize(("uplift", "ok"), [("0.10", True), ("0.15", True), ("0.16", False), ("0.09", False)])
def test_ads_03_uplift_is_validated_against_the_playbook_range(uplift, ok):
    call = lambda: rules.peak_uplift_validate(Decimal(uplift), low=Decimal("0.10"), high=Decimal("0.15"))  # noqa: E731
    if ok:
        call()
    else:
        with pytest.raises(rules.UpliftOutOfRange):
            call()
