"""SOP MEM-01 priority shipping as a pure rule: a diamond member's order ships within the
playbook's ``diamond_ship_hours`` when that is sooner than the channel's promise (ORD-03);
every other order keeps the channel's promise."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storeops.orders import rules


@pytest.mark.parametrize(
    ("channel", "tier", "diamond", "expected"),
    [
        (48, "diamond", 24, 24),  # the diamond promise is sooner: it applies
        (12, "diamond", 24, 12),  # the channel already promises sooner: never lengthened
        (24, "diamond", 24, 24),
        (48, "gold", 24, 48),
        (48, "silver", 24, 48),
        (48, "", 24, 48),  # not a member
    ],
)
def test_mem_01_promise_hours_shortens_only_a_diamond_order(channel, tier, diamond, expected):
    assert rules.promise_hours(channel, tier=tier, diamond_hours=diamond) == expected


@given(
    channel=st.integers(min_value=1, max_value=720),
    diamond=st.integers(min_value=1, max_value=720),
    tier=st.sampled_from(["", "silver", "gold", "diamond"]),
)
def test_mem_01_promise_hours_is_never_later_than_the_channel_and_only_diamond_is_sooner(
    channel, diamond, tier
):
    hours = rules.promise_hours(channel, tier=tier, diamond_hours=diamond)
    assert hours <= channel
    if tier == "diamond":
        assert hours == min(channel, diamond)
    else:
        assert hours == channel


@pytest.mark.parametrize(
    ("given_tier", "recorded"),
    [("diamond", "diamond"), ("gold", "gold"), ("silver", "silver"), (None, ""), ("", ""), ("platinum", "")],
)
def test_mem_01_an_order_records_only_a_known_member_tier(given_tier, recorded):
    assert rules.member_tier_snapshot(given_tier) == recorded
