"""Money: exact decimals, one currency at a time, rounding only at named points.

Floats are refused everywhere (``Money(0.1)`` raises ``TypeError``): a float has already
lost the cent before we see it. Amounts keep full precision through arithmetic and are
quantised to the currency's minor unit (0.01 for CNY) half-up only where a rounding point
says so, e.g. :func:`round_at` with :class:`RoundingPoint.LINE_PRICE`.

Discounts are spread over order lines with :func:`apportion`, the largest-remainder method,
so the parts always add up to the whole exactly (SOP PROMO-04: partial refunds return
exactly what was paid for the returned lines).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

DEFAULT_CURRENCY = "CNY"
# Minor units per currency (ISO 4217 exponent). CNY has 分 (0.01).
_EXPONENTS: dict[str, int] = {"CNY": 2, "USD": 2, "EUR": 2, "GBP": 2, "HKD": 2, "JPY": 0}


class RoundingPoint(enum.StrEnum):
    """The places where an amount is allowed to be rounded to the minor unit."""

    LINE_PRICE = "line_price"  # unit price x quantity after item-level offers
    DISCOUNT = "discount"  # a percentage discount's amount
    APPORTIONED_SHARE = "apportioned_share"  # a line's share of an order-level discount
    TAX = "tax"
    COST = "cost"
    REPORT = "report"  # figures shown in reports


class CurrencyMismatchError(ValueError):
    """Two amounts in different currencies were combined."""


def exponent(currency: str) -> int:
    return _EXPONENTS.get(currency, 2)


def quantum(currency: str = DEFAULT_CURRENCY) -> Decimal:
    return Decimal(1).scaleb(-exponent(currency))


def to_decimal(value: Decimal | int | str) -> Decimal:
    """Convert an int, str or Decimal to Decimal; refuse floats and non-finite values."""
    if isinstance(value, bool):
        raise TypeError("booleans are not amounts")
    if isinstance(value, float):
        raise TypeError("floats are not accepted for money; pass a str or Decimal")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int | str):
        try:
            result = Decimal(value)
        except InvalidOperation as exc:
            raise ValueError(f"not a decimal amount: {value!r}") from exc
    else:
        raise TypeError(f"cannot make an amount of {type(value).__name__}")
    if not result.is_finite():
        raise ValueError(f"amount must be finite: {value!r}")
    return result


CURRENCY_SYMBOLS = {"CNY": "¥"}


def amount_text(amount: Decimal | int | str, currency: str = DEFAULT_CURRENCY) -> str:
    """An amount as people read it, rounded to the cent half-up: ``Decimal("2100")`` →
    ``"¥2,100.00"``, ``-5`` → ``"-¥5.00"``; a currency without a symbol is written after the
    amount (``"12.50 USD"``). For display only — never parse it back."""
    number = to_decimal(amount).quantize(Decimal("0.01"), ROUND_HALF_UP)
    sign = "-" if number < 0 else ""
    symbol = CURRENCY_SYMBOLS.get(currency)
    text = f"{abs(number):,.2f}"
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {currency}"


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount in one currency. Immutable; floats refused."""

    amount: Decimal
    currency: str = DEFAULT_CURRENCY

    def __init__(self, amount: Decimal | int | str, currency: str = DEFAULT_CURRENCY) -> None:
        object.__setattr__(self, "amount", to_decimal(amount))
        object.__setattr__(self, "currency", currency)

    @classmethod
    def zero(cls, currency: str = DEFAULT_CURRENCY) -> Money:
        return cls(Decimal(0), currency)

    def _check(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatchError(f"{self.currency} vs {other.currency}")
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.amount + self._check(other).amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.amount - self._check(other).amount, self.currency)

    def __mul__(self, factor: Decimal | int | str) -> Money:
        return Money(self.amount * to_decimal(factor), self.currency)

    __rmul__ = __mul__

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._check(other).amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._check(other).amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._check(other).amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._check(other).amount

    def __bool__(self) -> bool:
        return bool(self.amount)

    def quantize(self) -> Money:
        """Round half-up to the currency's minor unit. Prefer :func:`round_at`."""
        return Money(self.amount.quantize(quantum(self.currency), rounding=ROUND_HALF_UP), self.currency)

    def is_quantized(self) -> bool:
        return self.amount == self.amount.quantize(quantum(self.currency), rounding=ROUND_DOWN)

    def clamp_min_zero(self) -> Money:
        """Totals never go below zero (SOP PROMO-04)."""
        return self if self.amount >= 0 else Money.zero(self.currency)

    def __str__(self) -> str:
        return f"{self.quantize().amount} {self.currency}"


def round_at(value: Money, point: RoundingPoint) -> Money:
    """Quantise ``value`` half-up at a named rounding point.

    All points currently round to the minor unit half-up; naming them keeps every rounding
    site findable and lets one point change (e.g. tax rules) without touching the others.
    """
    del point  # every point rounds the same way today; the name documents the call site
    return value.quantize()


def money_sum(values: Iterable[Money], currency: str = DEFAULT_CURRENCY) -> Money:
    total = Money.zero(currency)
    for value in values:
        total = total + value
    return total


def apportion(total: Money, weights: Sequence[Money]) -> list[Money]:
    """Split ``total`` over ``weights`` in proportion, to the minor unit, summing exactly.

    Largest-remainder method: every share is first rounded down to the minor unit, then
    the cents left over go one each to the shares with the largest remainders (ties go to
    the earlier line, so the result is deterministic). If ``total`` is not itself a whole
    number of minor units it is rounded half-up first. When ``0 <= total <= sum(weights)``
    and all weights are non-negative whole minor units (line totals are), no share exceeds
    its weight; a weight finer than the minor unit can be exceeded by less than one unit.

    Zero total weight: the total is spread evenly (the earliest lines take the extra cents).
    """
    if not weights:
        if total.amount != 0:
            raise ValueError("cannot apportion a non-zero amount over no lines")
        return []
    currency = total.currency
    for weight in weights:
        if weight.currency != currency:
            raise CurrencyMismatchError(f"{currency} vs {weight.currency}")
        if weight.amount < 0:
            raise ValueError("apportionment weights must be non-negative")
    unit = quantum(currency)
    target_units = int((total.quantize().amount / unit).to_integral_value())
    sign = -1 if target_units < 0 else 1
    target_units = abs(target_units)
    weight_sum = sum((w.amount for w in weights), Decimal(0))
    n = len(weights)
    if weight_sum == 0:
        base, extra = divmod(target_units, n)
        units = [base + (1 if i < extra else 0) for i in range(n)]
    else:
        exact = [Decimal(target_units) * w.amount / weight_sum for w in weights]
        units = [int(e.to_integral_value(rounding=ROUND_DOWN)) for e in exact]
        leftover = target_units - sum(units)
        order = sorted(range(n), key=lambda i: (-(exact[i] - units[i]), i))
        for i in order[:leftover]:
            units[i] += 1
    return [Money(Decimal(sign * u) * unit, currency) for u in units]


def split_evenly(total: Money, parts: int) -> list[Money]:
    """Split ``total`` into ``parts`` shares that differ by at most one minor unit."""
    if parts <= 0:
        raise ValueError("parts must be positive")
    return apportion(total, [Money.zero(total.currency)] * parts)


def percent(value: Decimal | int | str) -> Decimal:
    """Turn a percentage figure (e.g. ``35``) into a ratio (``0.35``)."""
    return to_decimal(value) / 100
