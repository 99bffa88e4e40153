"""Money (storeops.core.money): exact decimals, one currency, half-up at named rounding points,
and apportionment that always adds up (SOP PROMO-04)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from storeops.core.money import (
    CurrencyMismatchError,
    Money,
    RoundingPoint,
    apportion,
    money_sum,
    percent,
    round_at,
    split_evenly,
    to_decimal,
)

CENT = Decimal("0.01")

# Amounts as exact decimals: whole cents, and finer amounts (a percentage discount, a unit cost).
cents = st.decimals(min_value=Decimal("0"), max_value=Decimal("1000000"), places=2)
fine_amounts = st.decimals(min_value=Decimal("0"), max_value=Decimal("1000000"), places=4)
non_negative_amounts = st.one_of(cents, fine_amounts)
floats = st.floats(allow_nan=True, allow_infinity=True)
weight_lists = st.lists(non_negative_amounts.map(Money), min_size=1, max_size=12)
cent_weight_lists = st.lists(cents.map(Money), min_size=1, max_size=12)


def amounts(values: list[Money]) -> list[Decimal]:
    return [v.amount for v in values]


# ---- construction and arithmetic --------------------------------------------------------


@given(value=floats)
def test_a_float_is_refused_as_an_amount(value):
    # when / then
    with pytest.raises(TypeError, match="float"):
        Money(value)


@given(value=floats)
def test_a_float_is_refused_as_a_multiplication_factor_on_either_side(value):
    # given
    price = Money("19.90")

    # when / then
    with pytest.raises(TypeError, match="float"):
        price * value
    with pytest.raises(TypeError, match="float"):
        value * price


@given(value=floats)
def test_a_float_is_refused_by_to_decimal_and_percent(value):
    # when / then
    with pytest.raises(TypeError, match="float"):
        to_decimal(value)
    with pytest.raises(TypeError, match="float"):
        percent(value)


def test_a_float_cannot_be_added_to_money():
    # when / then
    with pytest.raises(TypeError, match="float"):
        Money("1.00") + 0.1  # type: ignore[operator]


@pytest.mark.parametrize("value", [True, False])
def test_a_boolean_is_refused_as_an_amount(value):
    # when / then
    with pytest.raises(TypeError, match="boolean"):
        Money(value)


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", Decimal("NaN"), Decimal("Infinity")])
def test_a_non_finite_amount_is_refused(value):
    # when / then
    with pytest.raises(ValueError, match="finite"):
        Money(value)


def test_a_string_that_is_not_a_number_is_refused():
    # when / then
    with pytest.raises(ValueError, match="not a decimal amount"):
        Money("12,50")


@pytest.mark.parametrize(
    ("value", "expected"), [("0.10", Decimal("0.10")), (7, Decimal(7)), (Decimal("2.675"), Decimal("2.675"))]
)
def test_strings_ints_and_decimals_are_kept_exactly(value, expected):
    # when
    money = Money(value)

    # then
    assert money.amount == expected
    assert money.currency == "CNY"


def test_adding_ten_dimes_gives_exactly_one_yuan():
    # when
    total = money_sum([Money("0.10")] * 10)

    # then
    assert total == Money("1.00")


def test_multiplication_keeps_full_precision_until_a_rounding_point():
    # when
    line = Money("19.99") * Decimal("0.333")

    # then
    assert line.amount == Decimal("6.65667")
    assert round_at(line, RoundingPoint.LINE_PRICE) == Money("6.66")


@given(a=non_negative_amounts, b=non_negative_amounts)
def test_subtracting_what_was_added_gives_back_the_original_amount(a, b):
    # when
    result = (Money(a) + Money(b)) - Money(b)

    # then
    assert result == Money(a)


@pytest.mark.parametrize(
    "combine",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a <= b,
        lambda a, b: a > b,
        lambda a, b: a >= b,
    ],
    ids=["add", "sub", "lt", "le", "gt", "ge"],
)
def test_combining_two_currencies_raises_currency_mismatch(combine):
    # given
    yuan, dollars = Money("10.00", "CNY"), Money("10.00", "USD")

    # when / then
    with pytest.raises(CurrencyMismatchError, match="CNY vs USD"):
        combine(yuan, dollars)


@given(a=non_negative_amounts, b=non_negative_amounts)
def test_any_two_amounts_in_different_currencies_cannot_be_added(a, b):
    # when / then
    with pytest.raises(CurrencyMismatchError):
        Money(a, "CNY") + Money(b, "EUR")


def test_summing_amounts_in_another_currency_than_the_total_raises():
    # when / then
    with pytest.raises(CurrencyMismatchError):
        money_sum([Money("1.00", "USD")])  # the total defaults to CNY


def test_money_is_immutable():
    # given
    price = Money("5.00")

    # when / then
    with pytest.raises(AttributeError):
        price.amount = Decimal("6.00")  # type: ignore[misc]


# ---- rounding -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("0.005", "0.01"),
        ("0.015", "0.02"),
        ("-0.005", "-0.01"),
        ("2.675", "2.68"),  # a float would give 2.67 (2.675 is 2.67499999... in binary)
        ("0.004", "0.00"),
        ("-0.004", "0.00"),
        ("1.2349", "1.23"),
        ("99.995", "100.00"),
    ],
)
@pytest.mark.parametrize("point", list(RoundingPoint))
def test_every_rounding_point_rounds_half_up_to_the_cent(amount, expected, point):
    # when
    rounded = round_at(Money(amount), point)

    # then
    assert rounded.amount == Decimal(expected)
    assert rounded.amount.as_tuple().exponent == -2
    assert rounded.currency == "CNY"


def test_a_currency_without_minor_units_rounds_to_whole_units():
    # when
    rounded = round_at(Money("1234.5", "JPY"), RoundingPoint.REPORT)

    # then
    assert rounded == Money("1235", "JPY")


@given(amount=st.decimals(min_value=Decimal("-1000000"), max_value=Decimal("1000000"), places=6))
def test_rounding_moves_an_amount_by_at_most_half_a_cent_and_is_stable(amount):
    # when
    rounded = Money(amount).quantize()

    # then
    assert abs(rounded.amount - amount) <= Decimal("0.005")
    assert rounded.is_quantized()
    assert rounded.quantize() == rounded


@pytest.mark.parametrize(
    ("amount", "expected"),
    [("-0.01", "0"), ("-100", "0"), ("0", "0"), ("0.01", "0.01"), ("250.00", "250.00")],
)
def test_clamp_min_zero_lifts_negative_amounts_to_zero_and_keeps_the_rest(amount, expected):
    # when
    clamped = Money(amount, "USD").clamp_min_zero()

    # then
    assert clamped == Money(expected, "USD")


def test_str_shows_the_rounded_amount_and_currency():
    # when / then
    assert str(Money("2.675")) == "2.68 CNY"


# ---- apportionment ---------------------------------------------------------------------------


@given(total=non_negative_amounts, weights=weight_lists)
@example(total=Decimal("10.00"), weights=[Money("1")] * 3)
@example(total=Decimal("0.005"), weights=[Money("0.001")] * 7)
def test_apportioned_shares_add_up_exactly_to_the_rounded_total(total, weights):
    # when
    shares = apportion(Money(total), weights)

    # then
    assert len(shares) == len(weights)
    assert sum(amounts(shares), Decimal(0)) == Money(total).quantize().amount
    assert all(share.is_quantized() and share.currency == "CNY" for share in shares)


@given(total=non_negative_amounts, weights=weight_lists)
def test_each_apportioned_share_is_within_one_cent_of_its_exact_proportional_share(total, weights):
    # given
    weight_sum = sum(amounts(weights), Decimal(0))
    assume(weight_sum > 0)
    target = Money(total).quantize().amount

    # when
    shares = apportion(Money(total), weights)

    # then
    for share, weight in zip(shares, weights, strict=True):
        exact = target * weight.amount / weight_sum
        assert abs(share.amount - exact) < CENT


@given(data=st.data(), weights=cent_weight_lists)
def test_no_share_exceeds_its_weight_when_the_total_is_at_most_the_sum_of_the_weights(data, weights):
    # given line totals in whole cents and a discount between zero and their sum
    weight_sum = sum(amounts(weights), Decimal(0))
    total = data.draw(st.decimals(min_value=Decimal(0), max_value=weight_sum, places=3), label="total")

    # when
    shares = apportion(Money(total), weights)

    # then
    for share, weight in zip(shares, weights, strict=True):
        assert Decimal(0) <= share.amount <= weight.amount


def test_a_weight_finer_than_a_cent_can_be_exceeded_by_less_than_a_cent():
    # given two weights of 1.5 fen that together are exactly the 3-fen total
    weights = [Money("0.015"), Money("0.015")]

    # when
    shares = apportion(Money("0.03"), weights)

    # then shares are whole fen, so one of them must exceed its weight
    assert amounts(shares) == [Decimal("0.02"), Decimal("0.01")]


@given(total=non_negative_amounts, weights=weight_lists)
def test_apportionment_is_deterministic(total, weights):
    # when
    first = apportion(Money(total), weights)
    second = apportion(Money(total), list(weights))

    # then
    assert first == second


@given(total=non_negative_amounts, weights=weight_lists)
def test_a_negative_total_is_apportioned_as_the_mirror_of_the_positive_one(total, weights):
    # when
    negative = apportion(Money(-total), weights)
    positive = apportion(Money(total), weights)

    # then
    assert amounts(negative) == [-share for share in amounts(positive)]


@pytest.mark.parametrize(
    ("total", "weights", "expected"),
    [
        ("10.00", ["1", "1", "1"], ["3.34", "3.33", "3.33"]),  # tie: the earliest line takes the cent
        ("0.02", ["1", "1", "1"], ["0.01", "0.01", "0.00"]),
        ("100.00", ["50.00", "30.00", "20.00"], ["50.00", "30.00", "20.00"]),
        ("10.00", ["19.90", "59.70", "9.90"], ["2.22", "6.67", "1.11"]),  # exact 2.2235, 6.6704, 1.1061
        ("1.00", ["0", "5", "0"], ["0.00", "1.00", "0.00"]),
        ("0.005", ["1", "1"], ["0.01", "0.00"]),  # the total is rounded half-up first
        ("0", ["3", "4"], ["0.00", "0.00"]),
    ],
)
def test_apportionment_table(total, weights, expected):
    # when
    shares = apportion(Money(total), [Money(w) for w in weights])

    # then
    assert amounts(shares) == [Decimal(e) for e in expected]


@given(total=non_negative_amounts, n=st.integers(min_value=1, max_value=20))
def test_zero_weights_split_the_total_evenly_with_the_extra_cents_on_the_earliest_lines(total, n):
    # when
    shares = amounts(apportion(Money(total), [Money(0)] * n))

    # then
    assert sum(shares, Decimal(0)) == Money(total).quantize().amount
    assert max(shares) - min(shares) <= CENT
    assert shares == sorted(shares, reverse=True)


def test_zero_weights_table():
    # when
    shares = apportion(Money("0.05"), [Money(0)] * 3)

    # then
    assert amounts(shares) == [Decimal("0.02"), Decimal("0.02"), Decimal("0.01")]


def test_apportioning_zero_over_no_lines_gives_no_shares():
    # when / then
    assert apportion(Money("0"), []) == []


def test_apportioning_an_amount_over_no_lines_raises():
    # when / then
    with pytest.raises(ValueError, match="no lines"):
        apportion(Money("0.01"), [])


def test_a_negative_weight_is_refused():
    # when / then
    with pytest.raises(ValueError, match="non-negative"):
        apportion(Money("1.00"), [Money("2.00"), Money("-1.00")])


def test_a_weight_in_another_currency_raises_currency_mismatch():
    # when / then
    with pytest.raises(CurrencyMismatchError, match="CNY vs USD"):
        apportion(Money("1.00"), [Money("2.00"), Money("1.00", "USD")])


@given(total=non_negative_amounts, weights=weight_lists)
def test_shares_are_in_the_currency_of_the_total(total, weights):
    # given
    euro_weights = [Money(w.amount, "EUR") for w in weights]

    # when
    shares = apportion(Money(total, "EUR"), euro_weights)

    # then
    assert {s.currency for s in shares} == {"EUR"}


# ---- split_evenly ----------------------------------------------------------------------------


@given(
    total=st.decimals(min_value=Decimal("-1000000"), max_value=Decimal("1000000"), places=2),
    parts=st.integers(min_value=1, max_value=50),
)
def test_split_evenly_gives_parts_that_differ_by_at_most_one_cent_and_add_up(total, parts):
    # when
    shares = amounts(split_evenly(Money(total), parts))

    # then
    assert len(shares) == parts
    assert sum(shares, Decimal(0)) == total
    assert max(shares) - min(shares) <= CENT


def test_split_evenly_table():
    # when / then
    assert amounts(split_evenly(Money("100.00"), 3)) == [Decimal("33.34"), Decimal("33.33"), Decimal("33.33")]
    assert amounts(split_evenly(Money("-0.05"), 2)) == [Decimal("-0.03"), Decimal("-0.02")]


@pytest.mark.parametrize("parts", [0, -1])
def test_split_evenly_refuses_no_parts(parts):
    # when / then
    with pytest.raises(ValueError, match="positive"):
        split_evenly(Money("1.00"), parts)


# ---- SOP PROMO-04: refunds return exactly what was paid ------------------------------------


def _paid_per_line(line_totals: list[Money], order_discount: Money) -> list[Money]:
    """What the customer paid for each line: its total less its share of the order discount."""
    shares = apportion(order_discount, line_totals)
    return [(line - share).clamp_min_zero() for line, share in zip(line_totals, shares, strict=True)]


# SOP: PROMO-04
def test_promo_04_refund_of_every_line_returns_exactly_the_paid_total():
    # given three lines (99.00 + 59.90 + 19.90 = 178.80) and a 30.00 order-level coupon
    lines = [Money("99.00"), Money("59.90"), Money("19.90")]
    discount = Money("30.00")

    # when each line is refunded on its own
    refunds = _paid_per_line(lines, discount)

    # then the refunds are the paid amounts per line and add up to what was paid
    assert amounts(refunds) == [Decimal("82.39"), Decimal("49.85"), Decimal("16.56")]
    assert money_sum(refunds) == Money("148.80")


# SOP: PROMO-04
@given(data=st.data(), lines=st.lists(cents.filter(lambda c: c > 0).map(Money), min_size=1, max_size=10))
def test_promo_04_refunds_of_any_split_of_the_lines_add_up_to_the_paid_total(data, lines):
    # given an order discount no larger than the goods total
    goods = money_sum(lines)
    discount = Money(
        data.draw(st.decimals(min_value=Decimal(0), max_value=goods.amount, places=2), label="discount")
    )
    returned_first = data.draw(st.sets(st.integers(min_value=0, max_value=len(lines) - 1)), label="first")

    # when the lines are refunded in two batches
    paid = _paid_per_line(lines, discount)
    first_refund = money_sum(p for i, p in enumerate(paid) if i in returned_first)
    second_refund = money_sum(p for i, p in enumerate(paid) if i not in returned_first)

    # then together they return exactly what was paid, and no line refunds more than its price
    assert first_refund + second_refund == goods - discount
    assert all(Money(0) <= p <= line for p, line in zip(paid, lines, strict=True))


# SOP: PROMO-04
@given(lines=cent_weight_lists, excess=cents.filter(lambda c: c > 0))
def test_promo_04_a_discount_larger_than_the_goods_leaves_every_line_at_zero_not_below(lines, excess):
    # given a coupon worth more than everything in the order
    discount = money_sum(lines) + Money(excess)

    # when
    paid = _paid_per_line(lines, discount)

    # then the order total is clamped to zero and no line goes negative
    assert paid == [Money("0.00")] * len(lines)
