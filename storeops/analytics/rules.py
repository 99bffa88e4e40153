"""Pure KPI arithmetic (TEAM-01): ratios, change against the previous period, and whether a
value meets its target. No Django: tested on its own."""

from __future__ import annotations

import datetime as dt
import enum
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal


class Better(enum.StrEnum):
    HIGHER = "higher"  # the target is a floor
    LOWER = "lower"  # the target is a ceiling


def ratio(part: int | float | Decimal, whole: int | float | Decimal) -> Decimal | None:
    """``part / whole`` to 4 places, or None when there is nothing to divide by."""
    if not whole:
        return None
    return (Decimal(str(part)) / Decimal(str(whole))).quantize(Decimal("0.0001"))


def growth(current: Decimal | float | None, previous: Decimal | float | None) -> Decimal | None:
    """Relative change from ``previous`` to ``current`` (None when there is no base)."""
    if current is None or previous is None or not previous:
        return None
    return ratio(Decimal(str(current)) - Decimal(str(previous)), Decimal(str(previous)))


def meets(value: Decimal | float | None, target: Decimal | float, better: Better) -> bool | None:
    """Whether ``value`` meets ``target`` (None: no value to judge)."""
    if value is None:
        return None
    v, t = Decimal(str(value)), Decimal(str(target))
    return v >= t if better is Better.HIGHER else v <= t


@dataclass(frozen=True, slots=True)
class Kpi:
    role: str  # operations / tech / customer_service
    code: str  # stable: gmv, new_customer_share, …
    value: Decimal | None
    previous: Decimal | None  # the same measure over the period before
    target: Decimal | None  # None: shown, not judged
    better: Better
    unit: str  # "cny", "ratio", "minutes", "count", "rating", "nps" (−100…100 points)

    @property
    def ok(self) -> bool | None:
        return None if self.target is None else meets(self.value, self.target, self.better)

    @property
    def change(self) -> Decimal | None:
        """Relative change; of a score that can be 0 or negative (NPS), the difference in points."""
        if self.unit == "nps":
            return None if self.value is None or self.previous is None else self.value - self.previous
        return growth(self.value, self.previous)


# --- DATA-03: sudden drops and abnormal volumes ------------------------------------------------


@dataclass(frozen=True, slots=True)
class Anomaly:
    kind: str  # "drop" or "spike"
    current: int
    baseline: float  # the median of the same window on the days before


def volume_anomaly(
    current: int,
    history: Sequence[int],
    *,
    drop_ratio: Decimal,
    spike_ratio: Decimal,
    min_baseline: int,
) -> Anomaly | None:
    """A drop when ``current`` falls below ``baseline × drop_ratio``, a spike when it exceeds
    ``baseline × spike_ratio``; the baseline is the median of ``history`` (the same window on
    earlier days). Too little history, or a baseline under ``min_baseline``, says nothing
    (small numbers swing by chance) — except a spike from nothing to ``min_baseline × spike``."""
    if len(history) < 3:
        return None
    baseline = float(statistics.median(history))
    if baseline >= min_baseline and current < baseline * float(drop_ratio):
        return Anomaly("drop", current, baseline)
    if current >= max(baseline, min_baseline) * float(spike_ratio):
        return Anomaly("spike", current, baseline)
    return None


# --- DATA-02: payment conversion against the benchmark -----------------------------------------


def conversion_shortfall(
    *, visitors: int, buyers: int, benchmark: Decimal, alert_ratio: Decimal, min_visitors: int
) -> Decimal | None:
    """The payment conversion (buyers ÷ visitors) when it is more than ``alert_ratio`` below
    ``benchmark``; None when it is not, or with fewer than ``min_visitors`` visitors."""
    if visitors < min_visitors:
        return None
    conversion = ratio(buyers, visitors)
    assert conversion is not None
    return conversion if conversion < benchmark * (1 - alert_ratio) else None


# --- DATA-08: profitability ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProductProfit:
    """One product's sales over a period against what its units cost: the purchase cost
    (gross) and the full PRICE-02 cost — purchase, operations, logistics, tax (net)."""

    product_id: int
    code: str
    title: str
    units: int
    revenue: Decimal
    purchase_cost: Decimal
    full_cost: Decimal

    @property
    def gross_profit(self) -> Decimal:
        return self.revenue - self.purchase_cost

    @property
    def net_profit(self) -> Decimal:
        return self.revenue - self.full_cost

    @property
    def gross_margin(self) -> Decimal | None:
        return ratio(self.gross_profit, self.revenue)

    @property
    def net_margin(self) -> Decimal | None:
        return ratio(self.net_profit, self.revenue)

    @property
    def roi(self) -> Decimal | None:
        """(sales − cost) ÷ cost."""
        return ratio(self.net_profit, self.full_cost)

    def low_profit(self, min_net_margin: Decimal) -> bool:
        """Sold something and kept less than ``min_net_margin`` of it (a loss included); a
        product that sold nothing is not judged (LIST-07 watches slow movers)."""
        margin = self.net_margin
        return self.units > 0 and (margin is None or margin < min_net_margin)


# --- DATA-07: A/B tests ---------------------------------------------------------------------------


def assign_bucket(experiment_key: str, customer_ref: str, buckets: int = 100) -> int:
    """A customer's stable bucket in ``0 … buckets−1`` for one experiment: a hash, so the same
    customer always sees the same variant and the split is uniform across customers."""
    import hashlib

    digest = hashlib.sha256(f"{experiment_key}:{customer_ref}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % buckets


@dataclass(frozen=True, slots=True)
class AbResult:
    control_rate: Decimal | None
    variant_rate: Decimal | None
    lift: Decimal | None  # (variant − control) ÷ control
    p_value: float | None  # two-sided two-proportion z-test
    decision: str  # adopt / reject / continue


def ab_evaluate(
    *,
    control: tuple[int, int],
    variant: tuple[int, int],
    alpha: Decimal,
    min_lift: Decimal,
) -> AbResult:
    """``control`` and ``variant`` are (visitors, conversions). Adopt the variant when the
    difference is significant at ``alpha`` and the conversion lift is at least ``min_lift``;
    reject it when it is significantly worse, or significantly different but short of the lift
    worth a change; otherwise keep the test running."""
    import math

    (n1, x1), (n2, x2) = control, variant
    if min(n1, n2) <= 0 or not (0 <= x1 <= n1 and 0 <= x2 <= n2):
        return AbResult(ratio(x1, n1), ratio(x2, n2), None, None, "continue")
    p1, p2 = x1 / n1, x2 / n2
    pooled = (x1 + x2) / (n1 + n2)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    p_value = 1.0 if spread == 0 else math.erfc(abs(p2 - p1) / spread / math.sqrt(2))
    lift = ratio(Decimal(x2 * n1 - x1 * n2), Decimal(x1 * n2)) if x1 else None
    significant = p_value < float(alpha)
    if significant and lift is not None and lift >= min_lift:
        decision = "adopt"
    elif significant:
        decision = "reject"
    else:
        decision = "continue"
    return AbResult(ratio(x1, n1), ratio(x2, n2), lift, p_value, decision)


# --- MEM-04: lifecycle segments and RFM scores ----------------------------------------------------


class Segment(enum.StrEnum):
    NEW = "new"
    ACTIVE = "active"
    HIGH_VALUE = "high_value"
    SLEEPING = "sleeping"


SEGMENTS: tuple[Segment, ...] = (Segment.NEW, Segment.ACTIVE, Segment.HIGH_VALUE, Segment.SLEEPING)
SCORE_MIN, SCORE_MAX = 1, 5  # RFM quintile scores (the usual 1–5 scale, not a tunable number)


@dataclass(frozen=True, slots=True)
class CustomerFacts:
    """A buyer's paid history as of a day: first and last paid order (all history), and over
    the RFM window the paid orders and the money kept (paid less refunded)."""

    customer_ref: str
    first_paid: dt.date
    last_paid: dt.date
    frequency: int
    monetary: Decimal


@dataclass(frozen=True, slots=True)
class SegmentPolicy:
    new_days: int  # first paid order fewer than this many days ago: new
    sleeping_days: int  # last paid order at least this many days ago: sleeping
    high_value_top_share: Decimal  # the top share of buyers by money kept: high-value
    high_value_min_amount: Decimal  # or at least this much money kept (0: rank only)


@dataclass(frozen=True, slots=True)
class CustomerRfm:
    customer_ref: str
    segment: Segment
    recency_days: int
    frequency: int
    monetary: Decimal
    r_score: int
    f_score: int
    m_score: int
    first_paid: dt.date
    last_paid: dt.date

    @property
    def rfm(self) -> str:
        """The three scores as one code, e.g. "545"."""
        return f"{self.r_score}{self.f_score}{self.m_score}"


def quantile_scores(values: Sequence[Decimal | int]) -> list[int]:
    """A 1–5 score per value by its mid-rank among all values (higher value, higher score):
    the share of values below it plus half the share equal to it, cut into fifths. Ties get the
    same score; a lone value scores 3; n distinct values spread evenly over 1…5."""
    n = len(values)
    if n == 0:
        return []
    ordered = sorted(values)
    below: dict[Decimal | int, int] = {}
    equal: dict[Decimal | int, int] = {}
    for i, v in enumerate(ordered):
        below.setdefault(v, i)
        equal[v] = equal.get(v, 0) + 1
    scores = []
    for v in values:
        mid_rank = Decimal(2 * below[v] + equal[v]) / Decimal(2 * n)  # in (0, 1)
        scores.append(min(SCORE_MAX, SCORE_MIN + int(mid_rank * 5)))
    return scores


def segment_of(*, recency_days: int, tenure_days: int, high_value: bool, policy: SegmentPolicy) -> Segment:
    """Exactly one segment: sleeping (no order for ``sleeping_days``) before new (first order
    within ``new_days``) before high-value before active."""
    if recency_days >= policy.sleeping_days:
        return Segment.SLEEPING
    if tenure_days < policy.new_days:
        return Segment.NEW
    if high_value:
        return Segment.HIGH_VALUE
    return Segment.ACTIVE


def rfm_segments(
    facts: Sequence[CustomerFacts], *, today: dt.date, policy: SegmentPolicy
) -> list[CustomerRfm]:
    """RFM scores (recency: fewer days is better) and the lifecycle segment of every buyer."""
    recency = [(today - f.last_paid).days for f in facts]
    r_scores = quantile_scores([-r for r in recency])
    f_scores = quantile_scores([f.frequency for f in facts])
    m_scores = quantile_scores([f.monetary for f in facts])
    n = len(facts)
    ordered = sorted((f.monetary for f in facts), reverse=True)
    above: dict[Decimal, int] = {}
    for i, m in enumerate(ordered):
        above.setdefault(m, i)
    out = []
    for f, rec, r, fs, ms in zip(facts, recency, r_scores, f_scores, m_scores, strict=True):
        by_rank = f.monetary > 0 and Decimal(above[f.monetary]) < policy.high_value_top_share * n
        by_amount = policy.high_value_min_amount > 0 and f.monetary >= policy.high_value_min_amount
        out.append(
            CustomerRfm(
                customer_ref=f.customer_ref,
                segment=segment_of(
                    recency_days=rec,
                    tenure_days=(today - f.first_paid).days,
                    high_value=by_rank or by_amount,
                    policy=policy,
                ),
                recency_days=rec,
                frequency=f.frequency,
                monetary=f.monetary,
                r_score=r,
                f_score=fs,
                m_score=ms,
                first_paid=f.first_paid,
                last_paid=f.last_paid,
            )
        )
    return out


def segment_period_key(segment: Segment, day: dt.date) -> str:
    """The period a segment's playbook action is taken once in: a new customer once ever, the
    active segment every ISO week (the weekly flash sale), high-value and sleeping customers
    every month."""
    if segment is Segment.NEW:
        return "once"
    if segment is Segment.ACTIVE:
        year, week, _day = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day:%Y-%m}"


# --- MEM-07: personas ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PersonaFacts:
    """What a customer (or a group of them) bought over the persona window."""

    customers: int
    orders: int
    paid: Decimal  # what was paid, less refunds
    list_total: Decimal  # the same orders at list price
    discounted_paid: Decimal  # paid for orders that carried a discount or coupon
    first_paid: dt.date
    last_paid: dt.date


@dataclass(frozen=True, slots=True)
class Persona:
    orders_per_month: Decimal | None  # paid orders per 30 days of the customer's tenure in the window
    aov: Decimal | None  # average order value
    discount_depth: Decimal | None  # 1 − paid ÷ list price
    discounted_share: Decimal | None  # share of spend on discounted orders
    price_sensitive: bool | None


def persona(facts: PersonaFacts, *, since: dt.date, until: dt.date, sensitive_share: Decimal) -> Persona:
    """Purchase frequency (orders per 30 days from the later of the window start and the first
    order, to ``until``, over at least 30 days so two orders in a newcomer's first week do not
    read as eight a month; per customer), AOV, discount depth and the share of spend on
    discounted orders; price-sensitive when that share is at least ``sensitive_share``."""
    if facts.orders <= 0 or facts.customers <= 0:
        return Persona(None, None, None, None, None)
    start = max(since, facts.first_paid)
    days = max(30, (until - start).days)
    per_month = (Decimal(facts.orders) * 30 / Decimal(days) / facts.customers).quantize(Decimal("0.01"))
    aov = (facts.paid / facts.orders).quantize(Decimal("0.01"))
    depth = ratio(facts.list_total - facts.paid, facts.list_total) if facts.list_total > 0 else None
    share = ratio(facts.discounted_paid, facts.paid) if facts.paid > 0 else None
    return Persona(
        orders_per_month=per_month,
        aov=aov,
        discount_depth=max(Decimal(0), depth) if depth is not None else None,
        discounted_share=share,
        price_sensitive=None if share is None else share >= sensitive_share,
    )


def top_shares(amounts: dict[str, Decimal], limit: int) -> list[tuple[str, Decimal]]:
    """The ``limit`` largest entries with their share of the total (ties by key)."""
    total = sum(amounts.values(), Decimal(0))
    if total <= 0:
        return []
    ranked = sorted(((k, v) for k, v in amounts.items() if v > 0), key=lambda kv: (-kv[1], kv[0]))
    return [(k, (v / total).quantize(Decimal("0.0001"))) for k, v in ranked[:limit]]


# MEM-07 demographics: age bands by age in the persona's year (birth year known, month not)
AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("<18", 0, 17),
    ("18-24", 18, 24),
    ("25-29", 25, 29),
    ("30-34", 30, 34),
    ("35-39", 35, 39),
    ("40-49", 40, 49),
    ("50+", 50, None),
)


def age_band(birth_year: int | None, year: int) -> str | None:
    """The band of someone born in ``birth_year`` in ``year`` (age = year − birth year), or
    None when the birth year is unknown or after ``year``."""
    if birth_year is None or birth_year > year:
        return None
    age = year - birth_year
    for band, low, high in AGE_BANDS:
        if age >= low and (high is None or age <= high):
            return band
    return None  # pragma: no cover - the last band has no upper bound


@dataclass(frozen=True, slots=True)
class Profile:
    """What a member gave on their profile: ``gender`` "" when not given."""

    gender: str
    birth_year: int | None
    city: str


@dataclass(frozen=True, slots=True)
class Demographics:
    customers: int  # the persona's customers: the base of every coverage figure
    members: int  # of them with a member profile
    gender_known: int
    genders: list[tuple[str, int, Decimal]]  # (gender code, customers, share of gender_known)
    age_known: int
    ages: list[tuple[str, int, Decimal]]  # every band in order, (band, customers, share of age_known)
    city_known: int
    cities: list[tuple[str, int, Decimal]]  # the top cities, (city, customers, share of city_known)

    @property
    def available(self) -> bool:
        return bool(self.gender_known or self.age_known or self.city_known)

    @property
    def gender_unknown(self) -> int:
        return self.customers - self.gender_known

    @property
    def age_unknown(self) -> int:
        return self.customers - self.age_known

    @property
    def city_unknown(self) -> int:
        return self.customers - self.city_known


def _share(n: int, whole: int) -> Decimal:
    return (Decimal(n) / whole).quantize(Decimal("0.0001")) if whole else Decimal(0)


def demographics(
    profiles: Sequence[Profile | None], *, year: int, genders: Sequence[str], top_cities: int = 5
) -> Demographics:
    """MEM-07: gender split, age bands in ``year`` and the top cities of a persona's customers,
    one entry per customer (None: not a member). Shares are of the customers whose field is
    known; the unknown are counted apart (``customers − known``), so the base is visible.
    ``genders``: the codes to list, in order (each listed even at 0)."""
    known = [p for p in profiles if p is not None]
    gender_counts = Counter(p.gender for p in known if p.gender)
    bands = Counter(b for b in (age_band(p.birth_year, year) for p in known) if b is not None)
    cities = Counter(p.city.strip() for p in known if p.city.strip())
    g_known, a_known, c_known = sum(gender_counts.values()), sum(bands.values()), sum(cities.values())
    codes = list(genders) + sorted(set(gender_counts) - set(genders))
    return Demographics(
        customers=len(profiles),
        members=len(known),
        gender_known=g_known,
        genders=[(g, gender_counts[g], _share(gender_counts[g], g_known)) for g in codes],
        age_known=a_known,
        ages=[(band, bands[band], _share(bands[band], a_known)) for band, _low, _high in AGE_BANDS],
        city_known=c_known,
        cities=[
            (city, n, _share(n, c_known))
            for city, n in sorted(cities.items(), key=lambda kv: (-kv[1], kv[0]))[:top_cities]
        ],
    )


# --- DATA-06: report periods ----------------------------------------------------------------------


class ReportKind(enum.StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"


def report_period(kind: ReportKind, day: dt.date) -> tuple[dt.date, dt.date]:
    """The last *complete* period of ``kind`` before ``day``: ``(first day, day after the last)``.
    Daily: yesterday; weekly: the ISO week (Monday–Sunday) before this one; monthly: last month;
    quarterly: last calendar quarter."""
    if kind is ReportKind.DAILY:
        return day - dt.timedelta(days=1), day
    if kind is ReportKind.WEEKLY:
        this_monday = day - dt.timedelta(days=day.weekday())
        return this_monday - dt.timedelta(days=7), this_monday
    if kind is ReportKind.MONTHLY:
        first = day.replace(day=1)
        return (first - dt.timedelta(days=1)).replace(day=1), first
    quarter_first = day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    prev_last = quarter_first - dt.timedelta(days=1)
    return prev_last.replace(month=(prev_last.month - 1) // 3 * 3 + 1, day=1), quarter_first
