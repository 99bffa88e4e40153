"""Pure arithmetic of DATA-04 / DATA-05 (storeops.behaviour.rules): no database."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storeops.behaviour import rules
from storeops.behaviour.rules import PathEvent, Sessioniser, SourceFigures

# the machine is shared: a slow draw or run says nothing about the property
_RELAXED = settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)

# --- DATA-05: steps and the funnel -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "page", "step"),
    [
        ("page_view", "home", rules.HOME),
        ("page_view", "category", rules.CATEGORY),
        ("page_view", "search", rules.CATEGORY),
        ("page_view", "product", rules.PRODUCT),
        ("favourite", "product", rules.PRODUCT),
        ("add_to_cart", "product", rules.CART),
        ("page_view", "cart", rules.CART),
        ("order", "checkout", rules.CART),
        ("page_view", "pay", rules.CART),  # opening the pay page is not paying
        ("pay", "pay", rules.PAY),
        ("page_view", "other", 0),
    ],
)
def test_data_05_step_of_each_event(kind, page, step):
    assert rules.step_of(kind, page) == step


def test_data_05_funnel_counts_visitors_reaching_at_least_each_step():
    # given 100 visitors: 40 left at home, 30 at category, 20 at product, 6 carted, 4 paid
    result = rules.funnel(
        deepest={1: 40, 2: 30, 3: 20, 4: 6, 5: 4},
        seen={1: 100, 2: 60, 3: 30, 4: 10, 5: 4},
        carted=10,
        carted_paid=4,
    )
    # then each step counts everyone who got at least that far
    assert [s.visitors for s in result.steps] == [100, 60, 30, 10, 4]
    assert [s.drop_off for s in result.steps] == [0, 40, 30, 20, 6]
    assert [s.conversion for s in result.steps] == [
        None,
        Decimal("0.6"),
        Decimal("0.5"),
        Decimal("0.3333"),
        Decimal("0.4"),
    ]
    assert result.step("category").drop_off_rate == Decimal("0.4")
    assert result.add_to_cart_rate == Decimal("0.3333")
    assert result.payment_bounce == Decimal("0.6")  # 6 of 10 carts never paid
    assert result.overall_conversion == Decimal("0.04")


def test_data_05_funnel_refuses_impossible_counts():
    with pytest.raises(ValueError, match="carted_paid"):
        rules.funnel(deepest={4: 1}, seen={}, carted=1, carted_paid=2)
    with pytest.raises(ValueError, match="negative"):
        rules.funnel(deepest={4: -1}, seen={})


@_RELAXED
@given(
    deepest=st.dictionaries(st.integers(0, 5), st.integers(0, 10_000), max_size=6),
    seen=st.dictionaries(st.integers(1, 5), st.integers(0, 10_000), max_size=5),
)
def test_data_05_funnel_counts_never_increase_along_the_steps(deepest, seen):
    result = rules.funnel(deepest=deepest, seen=seen)
    counts = [s.visitors for s in result.steps]
    assert counts == sorted(counts, reverse=True)
    assert counts[0] == sum(n for d, n in deepest.items() if d >= 1) <= result.visitors
    # the drop-offs account for every visitor lost between the first and the last step
    assert sum(s.drop_off for s in result.steps) == counts[0] - counts[-1]
    for s in result.steps[1:]:
        assert s.conversion is None or Decimal(0) <= s.conversion <= 1


def test_data_05_shortfall_below_threshold_only_for_observed_steps_with_enough_visitors():
    # given product → cart converting 3% (below 5%), cart → pay 50% (fine);
    # home and category were never seen (a data set without those pages)
    result = rules.funnel(deepest={3: 970, 4: 15, 5: 15}, seen={3: 1000, 4: 30, 5: 15})
    thresholds = {
        "category": Decimal("0.3"),
        "product": Decimal("0.3"),
        "cart": Decimal("0.05"),
        "pay": Decimal("0.2"),
    }
    found = rules.funnel_shortfalls(result, thresholds=thresholds, min_visitors=200)
    assert [(s.from_step, s.to_step, s.conversion) for s in found] == [("product", "cart", Decimal("0.03"))]
    # and with fewer visitors than the guard, nothing is judged
    assert rules.funnel_shortfalls(result, thresholds=thresholds, min_visitors=1001) == []


def test_data_05_nobody_reaching_a_step_is_a_real_shortfall_but_an_untracked_step_is_not():
    thresholds = {"cart": Decimal("0.05"), "pay": Decimal("0.2")}
    nobody = rules.funnel(deepest={3: 500}, seen={3: 500})
    assert [s.to_step for s in rules.funnel_shortfalls(nobody, thresholds=thresholds, min_visitors=1)] == [
        "cart"
    ]
    # payments seen but no cart events at all: the cart step is not tracked, not judged
    untracked = rules.funnel(deepest={3: 500, 5: 1}, seen={3: 501, 5: 1})
    assert [
        s.to_step for s in rules.funnel_shortfalls(untracked, thresholds=thresholds, min_visitors=1)
    ] == []


# --- DATA-05: sessions -------------------------------------------------------------------------------------


def test_data_05_a_new_session_after_the_inactivity_gap():
    s = Sessioniser(gap_seconds=1800)
    ids = [s.session_for("v", t) for t in (0, 600, 2400, 4201, 4300)]
    # 0 → 600 (10 min) same; 600 → 2400 exactly 30 min: same; 2400 → 4201: 30 min 1 s: new
    assert ids == ["v:0", "v:0", "v:0", "v:4201", "v:4201"]
    assert s.new_sessions == 2
    assert s.session_for("w", 100) == "w:100"


def test_data_05_a_stored_session_continues_and_a_late_event_starts_its_own():
    s = Sessioniser(gap_seconds=1800, carry={"v": (1000, "v:500")})
    assert s.session_for("v", 1500) == "v:500"  # within the gap of the stored last event
    assert s.session_for("v", 200) == "v:200"  # older than the stored last: its own session
    assert s.session_for("v", 1600) == "v:500"  # the late one did not disturb the state
    assert s.new_sessions == 1


@_RELAXED
@given(st.lists(st.integers(0, 100_000), max_size=60), st.integers(1, 5000))
def test_data_05_sessions_split_exactly_at_gaps_longer_than_the_setting(times, gap):
    times = sorted(times)
    s = Sessioniser(gap_seconds=gap)
    ids = [s.session_for("v", t) for t in times]
    for (t0, a), (t1, b) in zip(
        zip(times, ids, strict=True), zip(times[1:], ids[1:], strict=True), strict=False
    ):
        assert (a == b) == (t1 - t0 <= gap)
    assert s.new_sessions == len(set(ids))


# --- DATA-05: paths, dwell, bounce -----------------------------------------------------------------------


def test_data_05_paths_collapse_repeats_and_count_bounces_and_dwell():
    events = [
        PathEvent("a", 0, "home", None),
        PathEvent("a", 10, "product", None),
        PathEvent("a", 40, "product", 25),  # measured dwell wins over the 60 s to the next
        PathEvent("a", 100, "cart", None),  # last page of its session: dwell unknown
        PathEvent("b", 0, "product", None),  # a bounce
        PathEvent("c", 0, "home", None),
        PathEvent("c", 5000, "product", None),  # 5000 s gap capped at the 1800 s session gap
    ]
    stats = rules.path_stats(events, gap_seconds=1800)
    assert stats.sessions == 3
    assert stats.single_page_sessions == 1
    assert stats.bounce_rate == Decimal("0.3333")
    assert dict(stats.paths) == {("home", "product", "cart"): 1, ("product",): 1, ("home", "product"): 1}
    dwell = {d.page_type: (d.views, d.total_seconds) for d in stats.dwell}
    assert dwell == {"home": (2, 10 + 1800), "product": (2, 30 + 25)}
    assert next(d for d in stats.dwell if d.page_type == "product").average_seconds == Decimal("27.5")


def test_data_05_long_paths_are_cut():
    pages = ["home", "category", "product", "cart", "checkout", "pay", "home", "search"]
    stats = rules.path_stats([PathEvent("s", i, p, None) for i, p in enumerate(pages)], gap_seconds=60)
    assert stats.paths[0][0] == (*pages[: rules.PATH_MAX_STEPS], "…")


@_RELAXED
@given(st.lists(st.tuples(st.integers(0, 20), st.sampled_from(["home", "product", "cart"])), max_size=80))
def test_data_05_every_session_has_one_path_and_bounces_never_exceed_sessions(raw):
    events = [
        PathEvent(f"s{s}", i, page, None) for i, (s, page) in enumerate(sorted(raw, key=lambda r: r[0]))
    ]
    stats = rules.path_stats(events, gap_seconds=1800, top=1000)
    assert stats.sessions == len({e.session_id for e in events})
    assert sum(n for _p, n in stats.paths) == stats.sessions
    assert 0 <= stats.single_page_sessions <= stats.sessions


# --- DATA-04: sources ---------------------------------------------------------------------------


def test_data_04_source_conversion_and_roi():
    row = SourceFigures(
        "paid", visitors=1000, buyers=20, revenue=Decimal("3000"), unpriced_payments=0, spend=Decimal("1000")
    )
    assert row.conversion == Decimal("0.02")
    assert row.roi == Decimal("2")  # (3000 − 1000) ÷ 1000
    assert SourceFigures("search", 10, 1, Decimal("50"), 0, None).roi is None  # no spend recorded


def test_data_04_alerts_for_low_conversion_and_low_roi():
    limits = {"min_conversion": Decimal("0.01"), "min_roi": Decimal("2"), "min_visitors": 200}
    weak = SourceFigures(
        "live", visitors=500, buyers=2, revenue=Decimal("200"), unpriced_payments=0, spend=Decimal("100")
    )
    assert [(a.measure, a.value) for a in rules.source_alerts(weak, **limits)] == [
        ("conversion", Decimal("0.004")),
        ("roi", Decimal("1")),
    ]
    few = SourceFigures("live", visitors=50, buyers=0, revenue=Decimal("0"), unpriced_payments=0, spend=None)
    assert rules.source_alerts(few, **limits) == []  # too few visitors, no spend
    unknown = SourceFigures(
        "paid", visitors=500, buyers=50, revenue=Decimal("0"), unpriced_payments=50, spend=Decimal("100")
    )
    assert rules.source_alerts(unknown, **limits) == []  # revenue unknown: no ROI verdict


@_RELAXED
@given(
    visitors=st.integers(0, 10_000),
    buyers=st.integers(0, 10_000),
    revenue=st.decimals(0, 10**6, places=2),
    spend=st.one_of(st.none(), st.decimals(0, 10**6, places=2)),
)
def test_data_04_roi_is_none_without_spend_and_never_below_minus_one(visitors, buyers, revenue, spend):
    row = SourceFigures("paid", visitors, min(buyers, visitors), revenue, 0, spend)
    if not spend:
        assert row.roi is None
    else:
        assert row.roi is not None
        assert row.roi >= -1
    assert row.conversion is None or 0 <= row.conversion <= 1
