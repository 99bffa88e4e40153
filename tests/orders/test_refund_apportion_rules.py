"""A refund paid back in parts (a presale order: the balance payment, then the deposit
payment) splits its line detail so that each part's detail adds up to that part and, over
the parts, units and amounts add up to the refund's (SOP PROMO-04)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from storeops.orders.rules import apportion_refund

D = Decimal


def test_promo_04_the_first_part_takes_the_lines_in_order_and_a_split_line_counts_its_units_once():
    lines = [(1, 2, D("60.00")), (2, 0, D("0.00")), (3, 1, D("33.34"))]
    assert apportion_refund(lines, [D("80.01"), D("13.33")]) == [
        [(1, 2, D("60.00")), (2, 0, D("0.00")), (3, 1, D("20.01"))],
        [(3, 0, D("13.33"))],
    ]
    # one part: the detail as it is
    assert apportion_refund(lines, [D("93.34")]) == [lines]
    # a line that fills the first part exactly does not spill an empty entry into the next
    assert apportion_refund([(1, 1, D("50.00")), (2, 3, D("10.00"))], [D("50.00"), D("10.00")]) == [
        [(1, 1, D("50.00"))],
        [(2, 3, D("10.00"))],
    ]


@pytest.mark.parametrize(
    ("lines", "parts", "match"),
    [
        ([(1, 1, D("10.00"))], [D("6.00"), D("5.00")], "add up"),  # more than the lines
        ([(1, 1, D("10.00"))], [D("10.00"), D("0.00")], "positive"),  # an empty part
        ([(1, 1, D("10.00"))], [], "positive"),
        ([(1, 1, D("10.00")), (2, 1, D("-5.00"))], [D("5.00")], "negative"),
    ],
)
def test_promo_04_parts_that_do_not_add_up_to_the_lines_are_refused(lines, parts, match):
    with pytest.raises(ValueError, match=match):
        apportion_refund(lines, parts)


cents = st.integers(0, 50_000).map(lambda c: (D(c) / 100).quantize(D("0.01")))


@given(
    amounts=st.lists(cents, min_size=1, max_size=6),
    cut=st.floats(0, 1),
    qty=st.lists(st.integers(0, 5), min_size=6, max_size=6),
)
def test_promo_04_each_parts_detail_adds_up_to_the_part_exactly(amounts, cut, qty):
    total = sum(amounts, D("0.00"))
    first = (total * D(str(cut))).quantize(D("0.01"))
    parts = [p for p in (first, total - first) if p > 0]
    assume(parts)
    lines = [(i, qty[i], a) for i, a in enumerate(amounts)]
    out = apportion_refund(lines, parts)
    assert [sum((a for _, _, a in part), D(0)) for part in out] == parts
    for i, units, amount in lines:
        mine = [(q, a) for part in out for line, q, a in part if line == i]
        assert sum(a for _, a in mine) == amount
        assert sum(q for q, _ in mine) == units
        assert mine[0][0] == units  # the units on the first part that carries the line
    assert all(a >= 0 for part in out for _, _, a in part)
