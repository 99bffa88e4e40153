"""Pure arithmetic of shopper behaviour (no Django; mypy --strict): sessions, the funnel
(DATA-05), paths, dwell and bounce (DATA-05), and the traffic-source breakdown (DATA-04).

Funnel steps, in order: home → category (a category or search-result page) → product →
cart → pay. An event belongs to one step (:func:`step_of`); a visitor *reaches* a step when
its deepest event in the period is at that step or beyond ("reached at least this step"),
so the visitors per step never increase along the funnel. ``seen`` counts the visitors with
an event at exactly that step: a step nobody was seen on (e.g. home and category in the
Taobao data, which has no page types) is reported as not observed, and its conversions are
not judged.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

STEPS: tuple[str, ...] = ("home", "category", "product", "cart", "pay")
# step numbers stored on each event: 0 = outside the funnel, 1…5 = STEPS
HOME, CATEGORY, PRODUCT, CART, PAY = 1, 2, 3, 4, 5

_PAGE_STEPS = {
    "home": HOME,
    "category": CATEGORY,
    "search": CATEGORY,  # a search-result page plays the category page's part
    "product": PRODUCT,
    "cart": CART,
    "checkout": CART,
    "pay": CART,  # opening the pay page is not paying: only a pay event reaches PAY
}

PATH_MAX_STEPS = 6  # a path longer than this is cut and ends with "…" (long tails never repeat)


def step_of(kind: str, page_type: str) -> int:
    """The funnel step of one event: a payment is PAY; adding to cart or ordering is CART; a
    favourite is a PRODUCT interest; otherwise the page's step (0 for other pages)."""
    if kind == "pay":
        return PAY
    if kind in ("add_to_cart", "order"):
        return CART
    if kind == "favourite":
        return max(PRODUCT, _PAGE_STEPS.get(page_type, 0))
    return _PAGE_STEPS.get(page_type, 0)


def ratio(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    """``part / whole`` to 4 places, or None when there is nothing to divide by."""
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"))


# --- sessions ---------------------------------------------------------------------------------


class Sessioniser:
    """Assigns session ids to a visitor's events given in time order: a new session starts
    when the visitor was inactive for more than ``gap_seconds``. A session id is
    ``"<visitor>:<unix time of its first event>"``, so it is the same whoever computes it.

    ``carry`` gives, per visitor, the last stored event (unix time, session id): an event
    within the gap after it continues that session. An event *older* than the visitor's last
    stored one (a late arrival) starts a session of its own; stored sessions are never
    rewritten."""

    def __init__(self, gap_seconds: int, carry: Mapping[str, tuple[int, str]] | None = None) -> None:
        if gap_seconds <= 0:
            raise ValueError("gap_seconds must be positive")
        self.gap = gap_seconds
        self._last: dict[str, tuple[int, str]] = dict(carry or {})
        self.new_sessions = 0

    def session_for(self, visitor: str, ts: int) -> str:
        last = self._last.get(visitor)
        if last is not None and 0 <= ts - last[0] <= self.gap:
            self._last[visitor] = (ts, last[1])
            return last[1]
        session = f"{visitor}:{ts}"
        self.new_sessions += 1
        if last is None or ts > last[0]:  # a late arrival leaves the visitor's latest state alone
            self._last[visitor] = (ts, session)
        return session


# --- DATA-05: the funnel ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FunnelStep:
    code: str  # one of STEPS
    visitors: int  # reached at least this step
    seen: int  # had an event at exactly this step
    conversion: Decimal | None  # visitors ÷ the previous step's visitors (None for the first)
    drop_off: int  # previous step's visitors − this step's
    drop_off_rate: Decimal | None  # drop_off ÷ previous step's visitors

    @property
    def observed(self) -> bool:
        return self.seen > 0


@dataclass(frozen=True, slots=True)
class Funnel:
    visitors: int  # every visitor with an event in the period
    steps: tuple[FunnelStep, ...]
    carted: int  # visitors who added to cart
    carted_paid: int  # … of whom paid in the period

    def step(self, code: str) -> FunnelStep:
        return self.steps[STEPS.index(code)]

    @property
    def add_to_cart_rate(self) -> Decimal | None:
        """Visitors who reached the cart ÷ visitors who reached a product page."""
        return ratio(self.step("cart").visitors, self.step("product").visitors)

    @property
    def payment_bounce(self) -> Decimal | None:
        """Carts never paid: visitors who added to cart and did not pay ÷ visitors who added."""
        return ratio(self.carted - self.carted_paid, self.carted)

    @property
    def overall_conversion(self) -> Decimal | None:
        return ratio(self.step("pay").visitors, self.visitors)


def funnel(
    *,
    deepest: Mapping[int, int],
    seen: Mapping[int, int],
    carted: int = 0,
    carted_paid: int = 0,
) -> Funnel:
    """``deepest``: visitors per deepest step reached (0 = no funnel page); ``seen``:
    visitors with an event at each step. Steps count visitors who reached *at least* them."""
    if any(n < 0 for n in (*deepest.values(), *seen.values(), carted, carted_paid)):
        raise ValueError("counts must not be negative")
    if carted_paid > carted:
        raise ValueError("carted_paid cannot exceed carted")
    total = sum(deepest.values())
    steps: list[FunnelStep] = []
    previous: int | None = None
    for number, code in enumerate(STEPS, start=1):
        reached = sum(n for d, n in deepest.items() if d >= number)
        drop = 0 if previous is None else previous - reached
        steps.append(
            FunnelStep(
                code=code,
                visitors=reached,
                seen=seen.get(number, 0),
                conversion=None if previous is None else ratio(reached, previous),
                drop_off=drop,
                drop_off_rate=None if previous is None else ratio(drop, previous),
            )
        )
        previous = reached
    return Funnel(visitors=total, steps=tuple(steps), carted=carted, carted_paid=carted_paid)


@dataclass(frozen=True, slots=True)
class StepShortfall:
    from_step: str
    to_step: str
    conversion: Decimal
    threshold: Decimal
    visitors: int  # of the step converted from


def funnel_shortfalls(
    result: Funnel, *, thresholds: Mapping[str, Decimal], min_visitors: int
) -> list[StepShortfall]:
    """Each step whose conversion from the step before is below ``thresholds[step]``. A step
    transition is judged only when both steps were observed and the earlier one had at
    least ``min_visitors`` (small numbers swing by chance)."""
    found = []
    for before, after in zip(result.steps, result.steps[1:], strict=False):
        threshold = thresholds.get(after.code)
        if threshold is None or after.conversion is None:
            continue
        if not before.observed or before.visitors < min_visitors:
            continue
        # a step nobody was seen on, reached only through deeper steps, is not tracked here
        # (e.g. a shop that sends no cart events); nobody reaching it at all is a real zero
        if not after.observed and after.visitors > 0:
            continue
        if after.conversion < threshold:
            found.append(StepShortfall(before.code, after.code, after.conversion, threshold, before.visitors))
    return found


# --- DATA-05: paths, dwell time, bounce rate -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PathEvent:
    session_id: str
    ts: int  # unix seconds
    page_type: str
    dwell_seconds: int | None  # measured by the client; None: inferred from the next event


@dataclass(frozen=True, slots=True)
class DwellStat:
    page_type: str
    views: int  # events on this page type whose dwell is known (measured or inferred)
    total_seconds: int

    @property
    def average_seconds(self) -> Decimal | None:
        return None if not self.views else (Decimal(self.total_seconds) / self.views).quantize(Decimal("0.1"))


@dataclass(frozen=True, slots=True)
class PathStats:
    sessions: int
    single_page_sessions: int
    paths: tuple[tuple[tuple[str, ...], int], ...]  # most common first
    dwell: tuple[DwellStat, ...]

    @property
    def bounce_rate(self) -> Decimal | None:
        """Single-page sessions ÷ sessions."""
        return ratio(self.single_page_sessions, self.sessions)


@dataclass
class _Acc:
    sessions: int = 0
    single: int = 0
    paths: Counter[tuple[str, ...]] = field(default_factory=Counter)
    dwell_n: Counter[str] = field(default_factory=Counter)
    dwell_s: Counter[str] = field(default_factory=Counter)


def _close_session(acc: _Acc, events: Sequence[PathEvent], gap_seconds: int) -> None:
    acc.sessions += 1
    if len(events) == 1:
        acc.single += 1
    path: list[str] = []
    for i, e in enumerate(events):
        if not path or path[-1] != e.page_type:
            path.append(e.page_type)
        dwell = e.dwell_seconds
        if dwell is None and i + 1 < len(events):
            dwell = min(events[i + 1].ts - e.ts, gap_seconds)
        if dwell is not None:
            acc.dwell_n[e.page_type] += 1
            acc.dwell_s[e.page_type] += dwell
    if len(path) > PATH_MAX_STEPS:
        path = [*path[:PATH_MAX_STEPS], "…"]
    acc.paths[tuple(path)] += 1


def path_stats(events: Iterable[PathEvent], *, gap_seconds: int, top: int = 20) -> PathStats:
    """``events`` ordered by session, then time. A path is the session's sequence of page
    types with repeats in a row collapsed (product, product, cart → product → cart), cut after
    ``PATH_MAX_STEPS``. A session of one event is a bounce. Dwell on a page is the client's
    measure when given, else the time to the session's next event (capped at the session
    gap); a session's last page without a measure has no dwell (unknowable, not zero)."""
    acc = _Acc()
    current: list[PathEvent] = []
    for e in events:
        if current and e.session_id != current[0].session_id:
            _close_session(acc, current, gap_seconds)
            current = []
        current.append(e)
    if current:
        _close_session(acc, current, gap_seconds)
    ranked = sorted(acc.paths.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    dwell = tuple(
        DwellStat(page, acc.dwell_n[page], acc.dwell_s[page]) for page in sorted(acc.dwell_n, key=str)
    )
    return PathStats(acc.sessions, acc.single, tuple(ranked), dwell)


# --- DATA-04: traffic sources --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SourceFigures:
    source: str
    visitors: int
    buyers: int
    revenue: Decimal  # sum of the pay events' amounts
    unpriced_payments: int  # pay events without an amount (revenue unknown for them)
    spend: Decimal | None  # None: no cost recorded for this source (not measured, not zero)

    @property
    def conversion(self) -> Decimal | None:
        """Buyers ÷ visitors."""
        return ratio(self.buyers, self.visitors)

    @property
    def roi(self) -> Decimal | None:
        """(revenue − spend) ÷ spend, as DATA-08 defines ROI; None without a spend."""
        if not self.spend:
            return None
        return ratio(self.revenue - self.spend, self.spend)


@dataclass(frozen=True, slots=True)
class SourceAlert:
    source: str
    measure: str  # "conversion" or "roi"
    value: Decimal
    threshold: Decimal


def source_alerts(
    row: SourceFigures, *, min_conversion: Decimal, min_roi: Decimal, min_visitors: int
) -> list[SourceAlert]:
    """A source converting below ``min_conversion`` (with at least ``min_visitors``), or
    returning below ``min_roi`` on what it cost. ROI is judged only when a spend was recorded
    and every payment had an amount (an unknown revenue cannot prove a loss)."""
    alerts = []
    conversion = row.conversion
    if row.visitors >= min_visitors and conversion is not None and conversion < min_conversion:
        alerts.append(SourceAlert(row.source, "conversion", conversion, min_conversion))
    roi = row.roi
    if roi is not None and row.unpriced_payments == 0 and roi < min_roi:
        alerts.append(SourceAlert(row.source, "roi", roi, min_roi))
    return alerts
