"""Flash-sale units in Redis in front of the offer's stock (PROMO-01 秒杀, INV-03).

With Redis configured (:mod:`storeops.core.counters`), an order that got a flash-sale price
first takes its units from the sale's counter in Redis — before it writes anything. When the
sale has sold out there, the order is refused at once (409 ``offer_sold_out``, as the
database would refuse it) without touching the database: a sold-out sale's buyers never queue
on the offer's row or the SKU's stock rows. The orders that got units go on to
:func:`~storeops.promotions.services.offer_uses_record`, whose conditional UPDATE of the offer's
``stock_sold`` stays the system of record.

The counter starts, when first used, from the quote's ``stock_cap − stock_sold``. Units go back
when the order then fails (:meth:`FlashHold.release`), when a cancelled or closed order gives
its uses back (:func:`give_back`); a change of the offer's stock or status starts it again
(:func:`forget`); :func:`flash_counters_reconcile` (every minute) sets each live
sale's counter to the database's figure, which mends anything a rollback outside the order's
own code left. Redis being unreachable is logged, and the database alone decides.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from storeops.core import counters
from storeops.core.errors import Conflict
from storeops.promotions import engine as e
from storeops.promotions.models import Offer, OfferKind, OfferStatus

if TYPE_CHECKING:
    from storeops.promotions.services import CartQuote

log = logging.getLogger("storeops.promotions")

# a counter of a sale without an end lives this long after it was last started
OPEN_ENDED = dt.timedelta(days=2)
# and one of a sale with an end this long after it
AFTER_END = dt.timedelta(hours=1)


def counter_key(offer_id: int) -> str:
    return counters.database_key(f"flash-offer:{offer_id}")


def flash_units(priced: CartQuote) -> dict[int, int]:
    """Units per store offer the quote's lines got (item-level adjustments)."""
    units: dict[int, int] = {}
    for line in priced.quote.lines:
        for adjustment in line.adjustments:
            if adjustment.level is e.Level.ITEM and adjustment.offer_id.startswith("of"):
                pk = int(adjustment.offer_id[2:])
                units[pk] = units.get(pk, 0) + adjustment.quantity
    return units


def sold_out() -> Conflict:
    return Conflict(_("秒杀活动库存不足本单数量，请重新获取报价后下单"), code="offer_sold_out")


@dataclass
class FlashHold:
    """The units an order took from the flash-sale counters. As a context manager around the
    order's writes: if they fail, the units go back (and a sale the database says is sold out
    has its counter lowered to the database's figure)."""

    taken: dict[int, int] = field(default_factory=dict)

    def __enter__(self) -> FlashHold:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is not None:
            self.release(resync=isinstance(exc, Conflict) and exc.code == "offer_sold_out")

    def release(self, *, resync: bool = False) -> None:
        if not self.taken:
            return
        try:
            for pk, units in self.taken.items():
                counters.give(counter_key(pk), units)
            if resync:  # the counter had more than the database: lower it to the database's figure
                for pk, left in _database_left(list(self.taken)).items():
                    counters.cap(counter_key(pk), left)
        except counters.CounterUnavailable as err:
            log.warning("flash-sale counters: could not give back %s: %s", self.taken, err)
        self.taken = {}


def flash_hold(priced: CartQuote) -> FlashHold:
    """Take the order's flash-sale units from their counters (none without Redis). Raises
    :class:`Conflict` ``offer_sold_out`` when a counter has too few, having given back what it
    took from the others."""
    hold = FlashHold()
    if not counters.enabled():
        return hold
    wanted = {
        pk: units
        for pk, units in sorted(flash_units(priced).items())
        if units > 0 and pk in priced.limited and isinstance(priced.limited[pk].mechanic, e.FlashSale)
    }
    try:
        for pk, units in wanted.items():
            offer = priced.limited[pk]
            assert isinstance(offer.mechanic, e.FlashSale)
            left = counters.take(
                counter_key(pk), units, start=offer.mechanic.stock_remaining, lifetime=_lifetime(offer)
            )
            if left == counters.SOLD_OUT:
                hold.release()
                raise sold_out()
            hold.taken[pk] = units
    except counters.CounterUnavailable as err:
        log.warning("flash-sale counters unavailable, the database decides alone: %s", err)
        hold.release()
    return hold


def _lifetime(offer: e.Offer) -> int:
    """Seconds a counter started now lives: to an hour after the sale ends, else two days
    (by the clock, whatever time the order is dated)."""
    clock = timezone.now()
    if offer.window.ends is not None:
        return int((offer.window.ends + AFTER_END - clock).total_seconds())
    return int(OPEN_ENDED.total_seconds())


def _database_left(offer_ids: list[int]) -> dict[int, int]:
    return {
        pk: max(0, cap - sold)
        for pk, cap, sold in Offer.objects.filter(pk__in=offer_ids, stock_cap__isnull=False).values_list(
            "pk", "stock_cap", "stock_sold"
        )
    }


def give_back(units: Mapping[int, int]) -> None:
    """Give flash-sale units back to their counters: an order cancelled or closed unpaid gave
    its uses back to the offers. At once, not when the transaction commits: if it rolls back,
    the counter has a few units the database has not (the database still refuses them, and the
    reconcile mends it), where waiting would leave it short of units the database has."""
    if not units or not counters.enabled():
        return
    try:
        for pk, n in units.items():
            counters.give(counter_key(pk), n)
    except counters.CounterUnavailable as err:
        log.warning("flash-sale counters: could not give back %s: %s", dict(units), err)


def forget(offer_id: int) -> None:
    """Drop the offer's counter (its stock or status changed): it starts again from the
    database when next used. Now and once the transaction commits, so that an order between
    the two does not start it from the figures before the change."""
    if not counters.enabled():
        return

    def drop() -> None:
        try:
            counters.forget(counter_key(offer_id))
        except counters.CounterUnavailable as err:
            log.warning("flash-sale counter of offer %s not dropped: %s", offer_id, err)

    drop()
    transaction.on_commit(drop)


@dataclass(frozen=True, slots=True)
class Reconciled:
    offers: int  # live flash sales with a counter
    corrected: int  # counters that differed from the database


def flash_counters_reconcile(*, now: dt.datetime | None = None) -> Reconciled:
    """Set the counter of every live flash sale to what the database has left (cap − sold).
    An order in flight between its take and its commit may be counted twice for a moment; the
    database's conditional UPDATE still decides."""
    if not counters.enabled():
        return Reconciled(0, 0)
    now = now or timezone.now()
    live = Offer.objects.filter(
        kind=OfferKind.FLASH_SALE, status=OfferStatus.ACTIVE, stock_cap__isnull=False
    ).exclude(ends_at__lte=now)
    seen = corrected = 0
    try:
        for pk, cap, sold in live.values_list("pk", "stock_cap", "stock_sold"):
            before = counters.sync(counter_key(pk), max(0, cap - sold))
            if before != counters.MISSING:
                seen += 1
                corrected += before != max(0, cap - sold)
    except counters.CounterUnavailable as err:
        log.warning("flash-sale counters not reconciled: %s", err)
    return Reconciled(seen, corrected)
