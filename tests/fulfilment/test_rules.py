"""Pure logistics rules: the status fold (LOG-01) and carrier statistics/score (LOG-03)."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest

from storeops.fulfilment.rules import (
    CarrierFigures,
    EventFact,
    Status,
    SuggestPolicy,
    derive_state,
    median,
    percentile,
    rank_carriers,
    status_from_code,
)

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def _e(hours: int, status: Status | None) -> EventFact:
    return EventFact(time=T0 + dt.timedelta(hours=hours), status=status)


def test_log_01_any_arrival_order_of_the_same_events_gives_the_same_state():
    # given a normal journey
    events = [
        _e(1, Status.PICKED_UP),
        _e(5, Status.IN_TRANSIT),
        _e(9, None),
        _e(20, Status.OUT_FOR_DELIVERY),
        _e(22, Status.DELIVERED),
    ]
    # when the events are folded in every possible arrival order
    states = {derive_state(list(p)) for p in itertools.permutations(events)}
    # then there is one result: delivered, picked up at +1 h, delivered at +22 h
    assert states == {
        derive_state(events),
    }
    state = derive_state(events)
    assert state.status == Status.DELIVERED
    assert state.picked_up_at == T0 + dt.timedelta(hours=1)
    assert state.delivered_at == T0 + dt.timedelta(hours=22)
    assert state.last_event_at == T0 + dt.timedelta(hours=22)


def test_log_01_a_later_lower_scan_does_not_move_the_status_backwards():
    # given a parcel out for delivery, then a later "in transit" scan (re-sorting at a hub)
    state = derive_state(
        [_e(1, Status.PICKED_UP), _e(10, Status.OUT_FOR_DELIVERY), _e(12, Status.IN_TRANSIT)]
    )
    # then it stays out for delivery, but the scan counts as movement
    assert state.status == Status.OUT_FOR_DELIVERY
    assert state.last_event_at == T0 + dt.timedelta(hours=12)


def test_log_01_a_carrier_exception_is_cleared_by_the_next_scan():
    assert derive_state([_e(1, Status.PICKED_UP), _e(5, Status.EXCEPTION)]).status == Status.EXCEPTION
    assert (
        derive_state([_e(1, Status.IN_TRANSIT), _e(5, Status.EXCEPTION), _e(8, Status.PICKED_UP)]).status
        == Status.IN_TRANSIT
    )


@pytest.mark.parametrize("final", [Status.DELIVERED, Status.RETURNED, Status.LOST])
def test_log_01_delivered_returned_and_lost_are_final(final):
    state = derive_state(
        [_e(1, Status.PICKED_UP), _e(5, final), _e(8, Status.IN_TRANSIT), _e(9, Status.EXCEPTION)]
    )
    assert state.status == final


def test_log_01_no_event_or_an_exception_before_pickup_leaves_no_pickup_time():
    assert derive_state([]).status == Status.CREATED
    assert derive_state([_e(3, Status.EXCEPTION)]).picked_up_at is None


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("已揽收", Status.PICKED_UP),
        (" 运输中 ", Status.IN_TRANSIT),
        ("派件", Status.OUT_FOR_DELIVERY),
        ("SIGNED", Status.DELIVERED),
        ("退回", Status.RETURNED),
        ("问题件", Status.EXCEPTION),
        ("到达分拨中心x", None),
    ],
)
def test_log_01_carrier_status_words_map_to_our_statuses(code, status):
    assert status_from_code(code) == status


def test_log_03_median_and_nearest_rank_p90_of_delivery_hours():
    hours = [Decimal(h) for h in (30, 10, 20, 40, 50, 60, 70, 80, 90, 100)]
    assert median(hours) == Decimal(55)
    assert percentile(hours, 90) == Decimal(90)
    assert percentile([Decimal(7)], 90) == Decimal(7)
    assert median([]) is None


def _fig(code: str, p90: str, cost: str, problems: str = "0", per_kg: str | None = None) -> CarrierFigures:
    return CarrierFigures(
        carrier_code=code,
        delivered=10,
        median_hours=Decimal(p90),
        p90_hours=Decimal(p90),
        avg_cost=Decimal(cost),
        cost_per_kg=Decimal(per_kg) if per_kg else None,
        problem_rate=Decimal(problems),
    )


def test_log_03_score_weighs_speed_cost_and_problems_relative_to_the_best():
    # given SF: fast and dear; ZTO: twice as slow, half the price
    ranked = rank_carriers([_fig("SF", "24", "20"), _fig("ZTO", "48", "10")], weight_kg=None)
    # then SF = 0.5*1 + 0.3*2 + 0.2*1 = 1.3 and ZTO = 0.5*2 + 0.3*1 + 0.2 = 1.5
    assert [(s.carrier_code, s.score) for s in ranked] == [
        ("SF", Decimal("1.300")),
        ("ZTO", Decimal("1.500")),
    ]


def test_log_03_a_cost_weighted_policy_prefers_the_cheap_carrier():
    policy = SuggestPolicy(
        weight_speed=Decimal("0.2"), weight_cost=Decimal("0.7"), weight_reliability=Decimal("0.1")
    )
    ranked = rank_carriers([_fig("SF", "24", "20"), _fig("ZTO", "48", "10")], weight_kg=None, policy=policy)
    assert ranked[0].carrier_code == "ZTO"


def test_log_03_weight_prices_by_cost_per_kg_and_problems_cost_points():
    ranked = rank_carriers(
        [_fig("SF", "24", "20", per_kg="4"), _fig("YTO", "24", "20", problems="0.1", per_kg="2")],
        weight_kg=Decimal("2.5"),
    )
    # SF: 10.00 for 2.5 kg; YTO: 5.00 but 10 % problem parcels
    assert [(s.carrier_code, s.estimated_cost, s.score) for s in ranked] == [
        ("YTO", Decimal("5.00"), Decimal("1.200")),
        ("SF", Decimal("10.00"), Decimal("1.300")),
    ]


def test_log_03_carriers_without_a_measured_delivery_time_are_not_ranked():
    assert (
        rank_carriers(
            [_fig("SF", "24", "20").__class__("EMS", 0, None, None, Decimal(5), None, Decimal(0))],
            weight_kg=None,
        )
        == []
    )


# --- a parcel's order numbers (merged parcels, ORD-05) -------------------------------------------


def test_ord_05_merged_parcel_order_ref_text_keeps_whole_numbers_and_counts_the_rest():
    from storeops.fulfilment.rules import order_ref_text

    numbers = [f"2606011000{n:08d}" for n in range(5)]  # 18 characters each, like real ones
    text = order_ref_text(numbers)
    assert len(text) <= 64
    assert text == ",".join(numbers[:3]) + ",…(+2)"  # was cut inside the 4th number
    assert order_ref_text(numbers[:3]) == ",".join(numbers[:3])
    assert order_ref_text(["A"]) == "A"


def test_ord_05_split_order_ref_reads_the_numbers_as_they_were_joined():
    from storeops.fulfilment.rules import split_order_ref

    assert split_order_ref("A1,B2, C3,,A1") == ["A1", "B2", "C3"]
    assert split_order_ref(" ") == []
