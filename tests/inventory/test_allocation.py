"""Warehouse allocation (SOP ORD-02) and order-merge candidates (ORD-05)."""

from __future__ import annotations

from decimal import Decimal
from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storeops.core.money import Money
from storeops.inventory.allocation import (
    AllocationCode,
    AllocationWeights,
    Destination,
    GeoPoint,
    MergeableOrder,
    OrderLine,
    Warehouse,
    allocate,
    distance_km,
    merge_candidates,
    normalise_address,
)

HANGZHOU = Destination(GeoPoint(30.27, 120.15), "华东")
SHANGHAI = GeoPoint(31.23, 121.47)  # 165.2 km from Hangzhou
BEIJING = GeoPoint(39.90, 116.40)  # 1123.6 km
GUANGZHOU = GeoPoint(23.13, 113.26)  # 1047.7 km
REGIONS = {"SH": "华东", "BJ": "华北", "GZ": "华南"}
PLACES = {"SH": SHANGHAI, "BJ": BEIJING, "GZ": GUANGZHOU}


def wh(code: str, place: str | None = None, **stock: int) -> Warehouse:
    where = place or code[:2]
    return Warehouse(
        code=code,
        location=PLACES[where],
        region=REGIONS[where],
        stock=stock,
        base_cost=Money("8"),
        per_km_cost=Money("0.01"),
    )


def order(**quantities: int) -> list[OrderLine]:
    return [OrderLine(sku, qty) for sku, qty in quantities.items()]


def test_ord_02_distances_are_great_circle_kilometres_to_a_tenth():
    assert distance_km(SHANGHAI, HANGZHOU.location) == Decimal("165.2")
    assert distance_km(BEIJING, HANGZHOU.location) == Decimal("1123.6")
    assert distance_km(GUANGZHOU, HANGZHOU.location) == Decimal("1047.7")


def test_ord_02_nearest_warehouse_that_holds_everything_ships_the_whole_order():
    # given all three warehouses hold the order
    warehouses = [wh("BJ", A=5, B=5), wh("SH", A=5, B=5), wh("GZ", A=5, B=5)]

    # when
    result = allocate(order(A=2, B=1), HANGZHOU, warehouses)

    # then Shanghai: 8 + 165.2 x 0.01 = 9.652 -> 9.65; score 1.652 + 9.65
    assert result.code is AllocationCode.SINGLE
    assert [(s.warehouse, s.lines) for s in result.shipments] == [
        ("SH", (OrderLine("A", 2), OrderLine("B", 1)))
    ]
    assert result.total_cost == Money("9.65")
    assert result.score == Decimal("11.302")
    assert result.explanation[0] == "SH can fill the whole order; it has the best score of those that can."


def test_ord_02_a_far_single_warehouse_beats_a_near_split():
    # given Shanghai lacks B; Beijing and Guangzhou hold everything
    warehouses = [wh("SH", A=5), wh("BJ", A=5, B=5), wh("GZ", A=5, B=5)]

    # when
    result = allocate(order(A=2, B=1), HANGZHOU, warehouses)

    # then Guangzhou (18.48 + 10.477 = 28.957) beats Beijing (19.24 + 11.236)
    assert result.code is AllocationCode.SINGLE
    assert [s.warehouse for s in result.shipments] == ["GZ"]
    assert result.total_cost == Money("18.48")


def test_ord_02_splits_only_when_no_warehouse_can_fill_and_picks_the_cheapest_pair():
    # given A only in Shanghai, B in Beijing and Guangzhou
    warehouses = [wh("SH", A=5), wh("BJ", B=5), wh("GZ", B=5)]

    # when
    result = allocate(order(A=2, B=1), HANGZHOU, warehouses)

    # then
    assert result.code is AllocationCode.SPLIT
    assert [(s.warehouse, s.lines) for s in result.shipments] == [
        ("GZ", (OrderLine("B", 1),)),
        ("SH", (OrderLine("A", 2),)),
    ]
    assert result.total_cost == Money("28.13")
    assert result.line_splits == 0


def test_ord_02_fewer_shipments_win_over_cheaper_ones():
    # given three cheap Shanghai warehouses with one SKU each, Beijing with A and B
    warehouses = [wh("SH1", "SH", A=1), wh("SH2", "SH", B=1), wh("SH3", "SH", C=1), wh("BJ", A=1, B=1)]

    # when
    result = allocate(order(A=1, B=1, C=1), HANGZHOU, warehouses)

    # then two parcels (Beijing + SH3), although three from Shanghai cost less
    assert [s.warehouse for s in result.shipments] == ["BJ", "SH3"]
    assert result.total_cost == Money("28.89")


def test_ord_02_a_line_comes_from_one_warehouse_when_one_in_the_set_holds_it_all():
    # given A x4: Shanghai has 2 (and B), Guangzhou 4, Beijing 2 (and B)
    warehouses = [wh("SH", A=2, B=1), wh("GZ", A=4), wh("BJ", A=2, B=1)]

    # when
    result = allocate(order(A=4, B=1), HANGZHOU, warehouses)

    # then Shanghai sends B and Guangzhou all of A; no line split
    assert result.allocated() == {("GZ", "A"): 4, ("SH", "B"): 1}
    assert result.line_splits == 0
    assert result.score == Decimal("40.259")


def test_ord_02_a_split_line_costs_the_split_penalty():
    # given A x4 only as 2 + 2
    warehouses = [wh("SH", A=2, B=1), wh("BJ", A=2)]

    # when
    result = allocate(
        order(A=4, B=1), HANGZHOU, warehouses, weights=AllocationWeights(split_penalty=Decimal(5))
    )

    # then
    assert result.allocated() == {("BJ", "A"): 2, ("SH", "A"): 2, ("SH", "B"): 1}
    assert result.line_splits == 1
    assert result.score == Decimal("11.302") + Decimal("30.476") + 5
    assert "1 order line(s) are split over more than one warehouse." in result.explanation


def test_ord_02_region_matrix_price_replaces_the_distance_price():
    # given a flat 6 yuan inside 华东 and 12 yuan from 华南
    warehouses = [wh("SH", A=5), wh("GZ", A=5)]
    matrix = {("华东", "华东"): Money("6"), ("华南", "华东"): Money("12")}

    # when
    result = allocate(order(A=1), HANGZHOU, warehouses, region_costs=matrix)

    # then
    assert result.total_cost == Money("6")
    assert result.score == Decimal("1.652") + 6


def test_ord_02_weights_decide_between_near_and_cheap():
    # given Guangzhou ships for 3 yuan flat, Shanghai for 6, but Guangzhou is 880 km farther
    matrix = {("华东", "华东"): Money("6"), ("华南", "华东"): Money("3")}
    warehouses = [wh("SH", A=5), wh("GZ", A=5)]

    # when cost alone counts / when 1 km weighs 1 fen
    cheap = allocate(
        order(A=1), HANGZHOU, warehouses, region_costs=matrix, weights=AllocationWeights(distance=Decimal(0))
    )
    near = allocate(order(A=1), HANGZHOU, warehouses, region_costs=matrix)

    # then
    assert [s.warehouse for s in cheap.shipments] == ["GZ"]
    assert [s.warehouse for s in near.shipments] == ["SH"]


def test_ord_02_cannot_fill_reports_the_shortfall_per_sku_and_allocates_nothing():
    warehouses = [wh("SH", A=3, B=9), wh("BJ", A=4)]
    result = allocate(order(A=10, B=2, C=1), HANGZHOU, warehouses)
    assert result.code is AllocationCode.CANNOT_FILL
    assert not result.filled
    assert result.shipments == ()
    assert result.shortfall == (OrderLine("A", 3), OrderLine("C", 1))
    assert result.explanation == ("Cannot fill: all warehouses together are short of A x3, C x1.",)


def test_ord_02_lines_of_the_same_sku_are_added_up():
    result = allocate([OrderLine("A", 2), OrderLine("A", 3)], HANGZHOU, [wh("SH", A=5)])
    assert result.allocated() == {("SH", "A"): 5}


def test_ord_02_identical_warehouses_tie_on_the_code_whatever_the_order():
    first = allocate(order(A=1), HANGZHOU, [wh("SH-B", "SH", A=1), wh("SH-A", "SH", A=1)])
    second = allocate(order(A=1), HANGZHOU, [wh("SH-A", "SH", A=1), wh("SH-B", "SH", A=1)])
    assert [s.warehouse for s in first.shipments] == ["SH-A"]
    assert first == second


def test_ord_02_bad_input_is_refused():
    with pytest.raises(ValueError, match="positive"):
        OrderLine("A", 0)
    with pytest.raises(ValueError, match="non-negative"):
        wh("SH", A=-1)
    with pytest.raises(ValueError, match="unique"):
        allocate(order(A=1), HANGZHOU, [wh("SH", A=1), wh("SH", A=1)])
    with pytest.raises(ValueError, match="at least one line"):
        allocate([], HANGZHOU, [wh("SH", A=1)])


def test_ord_02_a_network_too_large_to_search_falls_back_to_a_greedy_cover():
    # given 6 warehouses with one unit each and a search limit of 5 sets
    warehouses = [wh(f"SH{i}", "SH", A=1) for i in range(6)]
    weights = AllocationWeights(max_combinations=5)

    # when 3 units are needed (20 sets of 3)
    result = allocate(order(A=3), HANGZHOU, warehouses, weights=weights)

    # then still filled, never over-allocated, and flagged
    assert result.greedy is True
    assert sum(result.allocated().values()) == 3
    assert len(result.shipments) == 3


# --- properties -------------------------------------------------------------------------------

SKUS = "ABCD"


@st.composite
def networks(draw: st.DrawFn) -> tuple[list[OrderLine], list[Warehouse]]:
    count = draw(st.integers(1, 5))
    warehouses = [
        wh(
            f"W{i}",
            draw(st.sampled_from(sorted(PLACES))),
            **draw(st.dictionaries(st.sampled_from(SKUS), st.integers(0, 6))),
        )
        for i in range(count)
    ]
    quantities = draw(st.dictionaries(st.sampled_from(SKUS), st.integers(1, 8), min_size=1))
    return [OrderLine(sku, qty) for sku, qty in quantities.items()], warehouses


@settings(max_examples=200, deadline=None)
@given(network=networks())
def test_ord_02_never_over_allocates_and_fills_exactly_when_total_stock_suffices(network):
    lines, warehouses = network
    result = allocate(lines, HANGZHOU, warehouses)
    stock = {w.code: w.stock for w in warehouses}
    need = {line.sku: line.quantity for line in lines}
    enough = all(sum(w.stock.get(s, 0) for w in warehouses) >= q for s, q in need.items())

    assert result.filled is enough
    for (code, sku), units in result.allocated().items():
        assert 0 < units <= stock[code].get(sku, 0)
    if enough:
        for sku, qty in need.items():
            assert sum(u for (_, s), u in result.allocated().items() if s == sku) == qty


@settings(max_examples=200, deadline=None)
@given(network=networks())
def test_ord_02_one_shipment_whenever_a_warehouse_can_fill_and_otherwise_the_fewest(network):
    lines, warehouses = network
    result = allocate(lines, HANGZHOU, warehouses)
    if not result.filled:
        return
    need = {line.sku: line.quantity for line in lines}
    fewest = next(
        k
        for k in range(1, len(warehouses) + 1)
        if any(
            all(sum(w.stock.get(s, 0) for w in c) >= q for s, q in need.items())
            for c in combinations(warehouses, k)
        )
    )
    assert len(result.shipments) == fewest
    assert (result.code is AllocationCode.SINGLE) is (fewest == 1)


@settings(max_examples=150, deadline=None)
@given(network=networks(), data=st.data())
def test_ord_02_allocation_does_not_depend_on_the_order_of_lines_or_warehouses(network, data):
    lines, warehouses = network
    shuffled_lines = data.draw(st.permutations(lines))
    shuffled_warehouses = data.draw(st.permutations(warehouses))
    assert allocate(shuffled_lines, HANGZHOU, shuffled_warehouses) == allocate(lines, HANGZHOU, warehouses)


# --- ORD-05 -----------------------------------------------------------------------------------


def test_ord_05_normalised_addresses_ignore_spaces_punctuation_width_and_case():
    assert (
        normalise_address("上海市 浦东新区，世纪大道１００号 Room-3B") == "上海市浦东新区世纪大道100号room3b"
    )


def test_ord_05_unshipped_orders_of_one_buyer_to_one_address_are_merge_candidates():
    # given
    orders = [
        MergeableOrder("o3", "u1", "上海市浦东新区世纪大道100号"),
        MergeableOrder("o1", "u1", "上海市 浦东新区，世纪大道１００号"),
        MergeableOrder("o2", "u1", "上海市浦东新区世纪大道100号", shipped=True),
        MergeableOrder("o4", "u1", "北京市朝阳区建国路1号"),
        MergeableOrder("o5", "u2", "上海市浦东新区世纪大道100号"),
        MergeableOrder("o6", "u2", "上海市浦东新区世纪大道100号", channel="tmall"),
        MergeableOrder("o7", "u3", "杭州市西湖区1号"),
        MergeableOrder("o8", "u3", "杭州市西湖区1号"),
    ]

    # when
    groups = merge_candidates(orders)

    # then shipped o2, lone o4 and o5/o6 (different channels) stay out
    assert [(g.buyer_id, g.order_ids) for g in groups] == [("u1", ("o1", "o3")), ("u3", ("o7", "o8"))]


order_records = st.lists(
    st.builds(
        MergeableOrder,
        order_id=st.text("0123456789", min_size=1, max_size=3),
        buyer_id=st.sampled_from(["u1", "u2"]),
        address=st.sampled_from(["杭州 西湖区1号", "杭州西湖区1号", "上海 1号", ""]),
        shipped=st.booleans(),
    ),
    max_size=12,
    unique_by=lambda o: o.order_id,
)


@given(orders=order_records, data=st.data())
def test_ord_05_merge_groups_hold_only_unshipped_orders_of_one_buyer_and_address_in_any_input_order(
    orders, data
):
    groups = merge_candidates(orders)
    by_id = {o.order_id: o for o in orders}
    for group in groups:
        assert len(group.order_ids) >= 2
        members = [by_id[i] for i in group.order_ids]
        assert not any(o.shipped for o in members)
        assert {(o.buyer_id, normalise_address(o.address)) for o in members} == {
            (group.buyer_id, group.address_key)
        }
    assert merge_candidates(data.draw(st.permutations(orders))) == groups
