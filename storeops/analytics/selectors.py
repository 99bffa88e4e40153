"""TEAM-01: the KPIs of each role over a period, from the data StoreOps already holds, each
with the same measure over the period before and the playbook's target.

* Operations — GMV (paid in the period; target: the previous period's GMV grown by
  ``kpi_gmv_min_growth``), user growth as the share of buyers who are new customers
  (``target_new_customer_share``), repurchase rate: buyers with two or more paid orders in
  the period (``target_repurchase_rate``).
* Tech — failure rate: the share of the period some incident (RISK-04) was open
  (``kpi_max_failure_rate``), and the number of incidents.
* Customer service — median first response of the tickets opened in the period
  (``kpi_first_response_minutes``), satisfaction as the share of 4–5 star reviews
  (``kpi_min_positive_review_share``) and the average rating, the return rate of the orders
  paid in the period (``kpi_max_return_rate``); and the same per agent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from storeops.aftersales import selectors as aftersales_selectors
from storeops.analytics.models import Experiment, ExperimentStatus, ExperimentSubject, ExperimentVariant
from storeops.analytics.rules import Better, Kpi, ProductProfit, ab_evaluate, assign_bucket, ratio
from storeops.behaviour import selectors as behaviour_selectors
from storeops.catalog import selectors as catalog_selectors
from storeops.core.errors import ValidationError
from storeops.core.money import amount_text
from storeops.core.queries import get_or_not_found
from storeops.members import selectors as member_selectors
from storeops.orders import selectors as order_selectors
from storeops.pricing import selectors as pricing_selectors
from storeops.service import selectors as service_selectors
from storeops.stores import rules as store_rules
from storeops.stores.models import LaunchPlan, Store
from storeops.stores.playbook import PlaybookSettings
from storeops.stores.selectors import LAUNCH_METRIC_LABELS, LAUNCH_METRICS, playbook_get, playbook_get_by_id

ROLES = ("operations", "tech", "customer_service")
ROLE_LABELS = {
    "operations": gettext_lazy("运营"),
    "tech": gettext_lazy("技术"),
    "customer_service": gettext_lazy("客服"),
}
# untranslated (gettext_noop): finding titles keep the key and render it for each reader
KPI_LABELS = {
    "gmv": gettext_noop("成交额（GMV）"),
    "new_customer_share": gettext_noop("新客占比（用户增长）"),
    "repurchase_rate": gettext_noop("复购率"),
    "failure_rate": gettext_noop("故障时长占比"),
    "incidents": gettext_noop("故障次数"),
    "first_response_minutes": gettext_noop("首次响应时长（中位数）"),
    "positive_review_share": gettext_noop("好评率（4–5 分）"),
    "average_rating": gettext_noop("平均评分"),
    "return_rate": gettext_noop("退货率"),
}


def display(value: Decimal | None, unit: str) -> str:
    """A KPI value as people read it: ¥ amounts, percentages, minutes."""
    if value is None:
        return "-"
    if unit == "cny":
        return amount_text(value)
    if unit == "ratio":
        return f"{value * 100:.1f}%"
    if unit == "minutes":
        return _("%(n)s 分钟") % {"n": f"{value:.1f}"}
    if unit == "rating":
        return f"{value:.2f}"
    if unit == "nps":
        return f"{value:.1f}"
    return f"{value:.0f}"


@dataclass(frozen=True, slots=True)
class TeamKpis:
    since: dt.datetime
    until: dt.datetime
    previous_since: dt.datetime
    kpis: list[Kpi]
    agents: list[service_selectors.AgentRow]

    def by_role(self, role: str) -> list[Kpi]:
        return [k for k in self.kpis if k.role == role]

    @property
    def missed(self) -> list[Kpi]:
        return [k for k in self.kpis if k.ok is False]


def whole_days_until() -> dt.datetime:
    """The default end of a "last N days" period: today's local midnight, so the period is
    the N whole local days up to yesterday — the same days DATA-01 and DATA-06 count (a
    rolling ``now − N × 24 h`` cut every period in the middle of a day)."""
    return timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time()))


def _period_end(until: dt.datetime | None) -> dt.datetime:
    """``until`` as given, a time without an offset (``2026-12-01`` or ``2026-12-01T00:00``)
    in the store's local time; by default :func:`whole_days_until`."""
    if until is None:
        return whole_days_until()
    return timezone.make_aware(until) if timezone.is_naive(until) else until


def _dec(value: float | None, places: str = "0.1") -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal(places))


def _measures(
    store: Store, since: dt.datetime, until: dt.datetime
) -> tuple[dict[str, Decimal | None], list[service_selectors.AgentRow]]:
    sales = order_selectors.sales_summary(store, since=since, until=until)
    svc = service_selectors.service_summary(store=store, since=since, until=until)
    return {
        "gmv": sales.gmv,
        "new_customer_share": ratio(sales.new_buyers, sales.buyers),
        "repurchase_rate": ratio(sales.repeat_buyers, sales.buyers),
        "failure_rate": ratio(svc.downtime_minutes, (until - since).total_seconds() / 60),
        "incidents": Decimal(svc.incidents),
        "first_response_minutes": _dec(svc.median_response_minutes),
        "positive_review_share": ratio(svc.positive_reviews, svc.reviews),
        "average_rating": _dec(svc.average_rating, "0.01"),
        "return_rate": aftersales_selectors.return_rate(store=store, since=since, until=until),
    }, svc.agents


def team_kpis(*, store: Store, until: dt.datetime | None = None, days: int | None = None) -> TeamKpis:
    """The KPIs over the ``days`` (default: the playbook's ``kpi_period_days``) before ``until``
    (default: today's local midnight — whole days up to yesterday), next to the period before."""
    book = playbook_get(store=store)
    days = book.kpi_period_days if days is None else days  # days=0 is an error, not "default"
    if not 1 <= days <= 366:
        raise ValidationError(_("统计周期无效"), fields={"days": _("1–366 天")})
    until = _period_end(until)
    since = until - dt.timedelta(days=days)
    previous_since = since - dt.timedelta(days=days)
    now, agents = _measures(store, since, until)
    before, _agents = _measures(store, previous_since, since)
    gmv_target = (
        (before["gmv"] * (1 + book.kpi_gmv_min_growth)).quantize(Decimal("0.01")) if before["gmv"] else None
    )
    spec: list[tuple[str, str, Decimal | None, Better, str]] = [
        ("operations", "gmv", gmv_target, Better.HIGHER, "cny"),
        ("operations", "new_customer_share", book.target_new_customer_share, Better.HIGHER, "ratio"),
        ("operations", "repurchase_rate", book.target_repurchase_rate, Better.HIGHER, "ratio"),
        ("tech", "failure_rate", book.kpi_max_failure_rate, Better.LOWER, "ratio"),
        ("tech", "incidents", None, Better.LOWER, "count"),
        (
            "customer_service",
            "first_response_minutes",
            Decimal(book.kpi_first_response_minutes),
            Better.LOWER,
            "minutes",
        ),
        (
            "customer_service",
            "positive_review_share",
            book.kpi_min_positive_review_share,
            Better.HIGHER,
            "ratio",
        ),
        ("customer_service", "average_rating", None, Better.HIGHER, "rating"),
        ("customer_service", "return_rate", book.kpi_max_return_rate, Better.LOWER, "ratio"),
    ]
    kpis = [
        Kpi(
            role=role,
            code=code,
            value=now[code],
            previous=before[code],
            target=target,
            better=better,
            unit=unit,
        )
        for role, code, target, better, unit in spec
    ]
    return TeamKpis(since=since, until=until, previous_since=previous_since, kpis=kpis, agents=agents)


# --- DATA-08: profitability ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Profitability:
    since: dt.datetime
    until: dt.datetime
    min_net_margin: Decimal
    products: list[ProductProfit]  # by net profit, highest first
    total: ProductProfit  # the store: every product summed

    def contribution(self, product: ProductProfit) -> Decimal | None:
        """The product's share of the store's net profit (None when the store made none)."""
        total = self.total.net_profit
        return ratio(product.net_profit, total) if total > 0 else None

    @property
    def first_day(self) -> dt.date:
        return timezone.localdate(self.since)

    @property
    def last_day(self) -> dt.date:
        """The local day of the period's last moment (``until`` is exclusive)."""
        return timezone.localdate(self.until - dt.timedelta(microseconds=1))

    @property
    def low_profit(self) -> list[ProductProfit]:
        return [p for p in self.products if p.low_profit(self.min_net_margin)]


def profitability(
    *, store: Store, until: dt.datetime | None = None, days: int | None = None
) -> Profitability:
    """Per product over the ``days`` (default: ``kpi_period_days``) before ``until`` (default:
    today's local midnight — whole days up to yesterday): revenue
    (paid less refunded), purchase and full cost of the units that left for good — kept by the
    customers, or refunded without coming back sellable (PRICE-02 components), gross
    and net margin, ROI, share of the profit; ``low_profit_net_margin`` flags the weak ones."""
    book = playbook_get(store=store)
    days = book.kpi_period_days if days is None else days  # days=0 is an error, not "default"
    if not 1 <= days <= 366:
        raise ValidationError(_("统计周期无效"), fields={"days": _("1–366 天")})
    until = _period_end(until)
    since = until - dt.timedelta(days=days)
    sales = order_selectors.sku_sales(store, since=since, until=until)
    # refunded units whose goods did not come back sellable still cost their purchase
    kept = aftersales_selectors.units_not_restocked(store=store, since=since, until=until)
    costs = pricing_selectors.unit_costs(store=store, sku_ids={s.sku_id for s in sales})
    cent = Decimal("0.01")
    by_product: dict[int, list[order_selectors.SkuSales]] = {}
    for row in sales:
        by_product.setdefault(row.product_id, []).append(row)

    def cost(rows: list[order_selectors.SkuSales], which: int) -> Decimal:
        zero = (Decimal(0), Decimal(0))
        return sum(
            (costs.get(r.sku_id, zero)[which] * (r.units + kept.get(r.sku_id, 0)) for r in rows), Decimal(0)
        ).quantize(cent)

    products = [
        ProductProfit(
            product_id=pid,
            code=rows[0].product_code,
            title=rows[0].product_title,
            units=sum(r.units for r in rows),
            revenue=sum((r.revenue for r in rows), Decimal(0)),
            purchase_cost=cost(rows, 0),
            full_cost=cost(rows, 1),
        )
        for pid, rows in by_product.items()
    ]
    products.sort(key=lambda p: (-p.net_profit, p.code))
    total = ProductProfit(
        product_id=0,
        code="",
        title="",
        units=sum(p.units for p in products),
        revenue=sum((p.revenue for p in products), Decimal(0)),
        purchase_cost=sum((p.purchase_cost for p in products), Decimal(0)),
        full_cost=sum((p.full_cost for p in products), Decimal(0)),
    )
    return Profitability(
        since=since,
        until=until,
        min_net_margin=book.low_profit_net_margin,
        products=products,
        total=total,
    )


# --- DATA-01: daily metrics -------------------------------------------------------------------------


# where a day's UV comes from (DATA-01)
UV_BEHAVIOUR = "behaviour"  # distinct visitors of the behaviour events' page views
UV_SALES_DAILY = "sales_daily"  # the channels' statistics: each product's visitors, summed
UV_MIXED = "mixed"  # some channels from each
UV_SOURCE_LABELS = {
    UV_BEHAVIOUR: gettext_lazy("行为数据去重访客"),
    UV_SALES_DAILY: gettext_lazy("按商品访客合计"),
    UV_MIXED: gettext_lazy("部分渠道行为数据、部分按商品访客合计"),
}


@dataclass(frozen=True, slots=True)
class DayTraffic:
    uv: int
    pv: int | None  # page views: only where every channel of the day has behaviour events
    source: str  # UV_BEHAVIOUR / UV_SALES_DAILY / UV_MIXED


def daily_traffic(
    *, store: Store, start: dt.date, end: dt.date, channel_id: int | None = None
) -> dict[dt.date, DayTraffic]:
    """DATA-01: UV and PV per day over ``start..end`` (inclusive), one channel or all. A
    channel's day is taken from the behaviour events when it has page views that day (PV, and
    UV = distinct visitors), else from the channels' statistics (UV = visitors summed over
    products, overcounting a shopper who viewed several; no PV). The store's day sums its
    channels (visitor ids are per channel). Two grouped queries for the whole range."""
    events = behaviour_selectors.page_views_by_channel_day(
        store=store, start=start, end=end, channel_id=channel_id
    )
    stats = catalog_selectors.visitors_by_channel_day(
        store=store, start=start, end=end, channel_id=channel_id
    )
    by_day: dict[dt.date, dict[int | None, tuple[int, int | None]]] = {}
    for (channel, day), visitors in stats.items():
        by_day.setdefault(day, {})[channel] = (visitors, None)
    for (channel, day), (pv, uv) in events.items():
        by_day.setdefault(day, {})[channel] = (uv, pv)  # the events replace the statistics
    out = {}
    for day, channels in by_day.items():
        counted = [pv for _uv, pv in channels.values()]
        from_events = sum(pv is not None for pv in counted)
        source = (
            UV_BEHAVIOUR if from_events == len(counted) else UV_SALES_DAILY if from_events == 0 else UV_MIXED
        )
        out[day] = DayTraffic(
            uv=sum(uv for uv, _pv in channels.values()),
            pv=sum(pv or 0 for pv in counted) if source == UV_BEHAVIOUR else None,
            source=source,
        )
    return out


@dataclass(frozen=True, slots=True)
class DayMetrics:
    day: dt.date
    uv: int  # distinct visitors (behaviour events), else product visitors summed: see uv_source
    buyers: int
    gmv: Decimal
    placed: int
    paid: int
    pv: int | None = None  # page views, from the behaviour events only
    uv_source: str = UV_SALES_DAILY

    @property
    def uv_source_label(self) -> str:
        return str(UV_SOURCE_LABELS[self.uv_source])

    @property
    def conversion(self) -> Decimal | None:  # CR = buyers ÷ UV
        return ratio(self.buyers, self.uv)

    @property
    def aov(self) -> Decimal | None:  # AOV = GMV ÷ buyers
        return (self.gmv / self.buyers).quantize(Decimal("0.01")) if self.buyers else None

    @property
    def payment_conversion(self) -> Decimal | None:  # paid ÷ placed
        return ratio(self.paid, self.placed)


@dataclass(frozen=True, slots=True)
class WeekMetrics:
    since: dt.datetime
    until: dt.datetime
    new_customer_share: Decimal | None
    repurchase_rate: Decimal | None
    return_rate: Decimal | None
    gross_margin: Decimal | None
    net_margin: Decimal | None
    target_new_customer_share: Decimal
    target_repurchase_rate: Decimal
    nps: Decimal | None  # the answers of the 7 days (service.NpsResponse); None without any
    nps_responses: int
    nps_enough: bool  # at least the playbook's nps_min_responses: judged against target_nps
    nps_ok: bool | None
    target_nps: int


@dataclass(frozen=True, slots=True)
class DailyMetrics:
    days: list[DayMetrics]  # newest first
    week: WeekMetrics


def daily_metrics(
    *, store: Store, days: int = 14, end: dt.date | None = None, channel_id: int | None = None
) -> DailyMetrics:
    """DATA-01: UV, PV, buyers, conversion, AOV and GMV (= UV × CR × AOV) per day, with the
    payment conversion (paid ÷ placed orders) — UV and PV as :func:`daily_traffic` (the
    conversion is buyers ÷ that UV, whichever its source); and over the last 7 days the new-customer share
    and repurchase rate against the playbook's targets, the net promoter score of the answers
    given (against ``target_nps`` once there are ``nps_min_responses``), the return rate and the
    gross and net margin. One channel (``channel_id``) or the whole store for the days; the 7
    days' measures are the store's."""
    if not 1 <= days <= 92:
        raise ValidationError(_("统计周期无效"), fields={"days": _("1–92 天")})
    end = end or timezone.localdate()
    start = end - dt.timedelta(days=days - 1)
    sales = order_selectors.daily_sales(store, start=start, end=end, channel_id=channel_id)
    traffic = daily_traffic(store=store, start=start, end=end, channel_id=channel_id)
    none = DayTraffic(uv=0, pv=None, source=UV_SALES_DAILY)
    rows = [
        DayMetrics(
            day=d,
            uv=traffic.get(d, none).uv,
            buyers=s.buyers,
            gmv=s.gmv,
            placed=s.placed,
            paid=s.paid,
            pv=traffic.get(d, none).pv,
            uv_source=traffic.get(d, none).source,
        )
        for d, s in sorted(sales.items(), reverse=True)
    ]
    until = timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time()))
    since = until - dt.timedelta(days=7)
    book = playbook_get(store=store)
    week = order_selectors.sales_summary(store, since=since, until=until)
    margins = profitability(store=store, until=until, days=7).total
    nps = service_selectors.nps_tally(store=store, since=since, until=until)
    return DailyMetrics(
        days=rows,
        week=WeekMetrics(
            since=since,
            until=until,
            new_customer_share=ratio(week.new_buyers, week.buyers),
            repurchase_rate=ratio(week.repeat_buyers, week.buyers),
            return_rate=aftersales_selectors.return_rate(store=store, since=since, until=until),
            gross_margin=margins.gross_margin,
            net_margin=margins.net_margin,
            target_new_customer_share=book.target_new_customer_share,
            target_repurchase_rate=book.target_repurchase_rate,
            nps=nps.score,
            nps_responses=nps.responses,
            nps_enough=nps.enough,
            nps_ok=nps.meets(book.target_nps),
            target_nps=book.target_nps,
        ),
    )


# --- DATA-07: A/B tests -----------------------------------------------------------------------------

AB_DECISION_LABELS = {
    "adopt": gettext_lazy("可采纳 B 版"),
    "reject": gettext_lazy("保留 A 版"),
    "continue": gettext_lazy("继续测试"),
}
EXPERIMENT_SUBJECT_CHOICES = ExperimentSubject.choices
EXPERIMENT_STATUS_CHOICES = ExperimentStatus.choices


@dataclass(frozen=True, slots=True)
class ExperimentResult:
    control: ExperimentVariant
    variant: ExperimentVariant
    control_rate: Decimal | None
    variant_rate: Decimal | None
    lift: Decimal | None
    p_value: float | None
    decision: str  # adopt / reject / continue
    alpha: Decimal
    min_lift: Decimal


def experiment_list(*, store: Store, status: str = "") -> QuerySet[Experiment]:
    qs = Experiment.objects.filter(store=store).prefetch_related("variants")
    if status:
        if status not in ExperimentStatus.values:
            raise ValidationError(_("状态筛选无效"), fields={"status": _("未知的状态")})
        qs = qs.filter(status=status)
    return qs.order_by("-started_at", "-id")


def experiment_get(*, store: Store, experiment_id: int) -> Experiment:
    return get_or_not_found(
        Experiment.objects.prefetch_related("variants"),
        gettext_lazy("A/B测试不存在"),
        store=store,
        pk=experiment_id,
    )


def experiment_result(experiment: Experiment, *, book: PlaybookSettings | None = None) -> ExperimentResult:
    """The two-proportion z-test of B against A, judged by the playbook's ``ab_significance``
    and ``ab_min_lift`` (``book``: the store's playbook, when the caller has it already)."""
    book = book or playbook_get(store=experiment.store)
    variants = {v.code: v for v in experiment.variants.all()}
    a, b = variants["A"], variants["B"]
    r = ab_evaluate(
        control=(a.visitors, a.conversions),
        variant=(b.visitors, b.conversions),
        alpha=book.ab_significance,
        min_lift=book.ab_min_lift,
    )
    return ExperimentResult(
        control=a,
        variant=b,
        control_rate=r.control_rate,
        variant_rate=r.variant_rate,
        lift=r.lift,
        p_value=r.p_value,
        decision=r.decision,
        alpha=book.ab_significance,
        min_lift=book.ab_min_lift,
    )


def experiment_assign(experiment: Experiment, customer_ref: str) -> str:
    """Which variant ``customer_ref`` sees: half the customers each, always the same one."""
    return "A" if assign_bucket(str(experiment.pk), customer_ref) < 50 else "B"


def experiments_started(*, store: Store, since: dt.datetime) -> int:
    return Experiment.objects.filter(store=store, started_at__gte=since).count()


# --- STORE-07: launch plans' actuals from StoreOps' own data ----------------------------------------


@dataclass(frozen=True, slots=True)
class PeriodSales:
    """DATA-01's measures over the days ``[start, end)`` of one channel (or the store): the
    orders paid in them, what was refunded of those orders so far, orders placed and paid,
    distinct buyers, new buyers and visitors (UV as :func:`daily_traffic`, summed by day)."""

    start: dt.date
    end: dt.date  # exclusive
    gmv: Decimal  # paid
    refunded: Decimal
    buyers: int
    new_buyers: int  # first paid order (on the channel, with one) in the period
    placed: int
    paid: int
    uv: int

    @property
    def net_gmv(self) -> Decimal:
        return self.gmv - self.refunded

    @property
    def conversion(self) -> Decimal | None:  # buyers ÷ UV; None without visitor data
        return ratio(self.buyers, self.uv)

    @property
    def payment_conversion(self) -> Decimal | None:  # paid ÷ placed
        return ratio(self.paid, self.placed)


def period_sales(*, store: Store, start: dt.date, end: dt.date, channel_id: int | None = None) -> PeriodSales:
    """:class:`PeriodSales` from the selectors the daily metrics and reports use (no SQL of its own)."""
    last = end - dt.timedelta(days=1)
    since = timezone.make_aware(dt.datetime.combine(start, dt.time()))
    until = timezone.make_aware(dt.datetime.combine(end, dt.time()))
    sales = order_selectors.sales_summary(store, since=since, until=until, channel_id=channel_id)
    days = order_selectors.daily_sales(store, start=start, end=last, channel_id=channel_id).values()
    traffic = daily_traffic(store=store, start=start, end=last, channel_id=channel_id).values()
    return PeriodSales(
        start=start,
        end=end,
        gmv=sales.gmv,
        refunded=sales.refunded,
        buyers=sales.buyers,
        new_buyers=sales.new_buyers,
        placed=sum(d.placed for d in days),
        paid=sum(d.paid for d in days),
        uv=sum(t.uv for t in traffic),
    )


LAUNCH_UNITS = {"gmv": "cny", "new_users": "count", "conversion": "ratio"}
# why a month's measure is not there
LAUNCH_MISSING_LABELS = {
    "not_live": gettext_lazy("未上线"),
    "not_started": gettext_lazy("未开始"),
    "no_visitors": gettext_lazy("无访客数据"),
}


@dataclass(frozen=True, slots=True)
class LaunchCell:
    """One metric of one month: the target, the actual typed in (which wins) and the one measured."""

    metric: str
    target_id: int | None
    target: Decimal | None
    typed: Decimal | None
    computed: Decimal | None
    missing: str  # why ``computed`` is None: a LAUNCH_MISSING_LABELS key ("" when it is there)
    final: bool  # the month has ended: the actual is final and judged against the target

    @property
    def unit(self) -> str:
        return LAUNCH_UNITS[self.metric]

    @property
    def label(self) -> str:
        return str(LAUNCH_METRIC_LABELS[self.metric])

    @property
    def actual(self) -> Decimal | None:
        return self.typed if self.typed is not None else self.computed

    @property
    def attainment(self) -> Decimal | None:
        return None if self.target is None else store_rules.attainment(self.actual, self.target)

    def missed(self, miss_ratio: Decimal) -> bool:
        """A final actual below target by more than ``miss_ratio`` (STORE-07's finding)."""
        if not self.final or self.actual is None or self.target is None:
            return False
        return store_rules.target_missed(self.actual, self.target, miss_ratio)

    @property
    def missing_label(self) -> str:
        return str(LAUNCH_MISSING_LABELS[self.missing]) if self.missing else ""

    @property
    def target_text(self) -> str:
        return display(self.target, self.unit)

    @property
    def actual_text(self) -> str:
        return display(self.actual, self.unit)

    @property
    def computed_text(self) -> str:
        return display(self.computed, self.unit)


@dataclass(frozen=True, slots=True)
class LaunchMonth:
    month: int
    start: dt.date | None  # None until the plan goes live
    end: dt.date | None  # exclusive
    state: str  # not_live / future / current / ended
    sales: PeriodSales | None  # measured (to date, for the current month)
    new_members: int | None  # members who joined the store in the month (all channels)
    cells: list[LaunchCell]

    @property
    def last_day(self) -> dt.date | None:
        return self.end - dt.timedelta(days=1) if self.end else None


@dataclass(frozen=True, slots=True)
class LaunchTracking:
    months: list[LaunchMonth]
    miss_ratio: Decimal  # the channel's launch_target_miss_ratio

    def missed(self) -> list[tuple[LaunchMonth, LaunchCell]]:
        return [(m, c) for m in self.months for c in m.cells if c.missed(self.miss_ratio)]


def launch_tracking(plan: LaunchPlan, *, today: dt.date, ended_only: bool = False) -> LaunchTracking:
    """STORE-07: the plan's targets for each month after go-live against the actuals measured
    from StoreOps' own data on the plan's channel — GMV paid less refunded, new buyers (first
    paid order on the channel), conversion (buyers ÷ visitors, as DATA-01; none without visitor
    data) — with an actual typed in on the target winning over the measured one. The current
    month is measured to ``today`` (inclusive); ``ended_only``: measure only ended months."""
    book = playbook_get_by_id(store_id=plan.store_id, channel_id=plan.channel_id)
    targets = {(t.month, t.metric): t for t in plan.targets.all()}
    months = max([book.launch_kpi_months, *(m for m, _k in targets)])
    live = plan.went_live_on
    spans = (
        store_rules.launch_months(live, months) if live else [(n, None, None) for n in range(1, months + 1)]
    )
    out = []
    for n, start, end in spans:
        if start is None or end is None:
            state = "not_live"
        else:
            state = "future" if start > today else "ended" if end <= today else "current"
        measured = state == "ended" or (state == "current" and not ended_only)
        sales = members = None
        if measured:
            assert start is not None
            assert end is not None
            stop = min(end, today + dt.timedelta(days=1))
            sales = period_sales(store=plan.store, start=start, end=stop, channel_id=plan.channel_id)
            members = member_selectors.joined_count(
                store=plan.store,
                start=timezone.make_aware(dt.datetime.combine(start, dt.time())),
                end=timezone.make_aware(dt.datetime.combine(stop, dt.time())),
            )
        cells = []
        for metric in LAUNCH_METRICS:
            computed: Decimal | None = None
            missing = "not_live" if state == "not_live" else "not_started" if state == "future" else ""
            if sales is not None:
                if metric == "gmv":
                    computed = sales.net_gmv
                elif metric == "new_users":
                    computed = Decimal(sales.new_buyers)
                else:
                    computed = sales.conversion
                    missing = "" if computed is not None else "no_visitors"
            elif not missing:
                missing = "not_started"  # the current month, when only ended ones are measured
            target = targets.get((n, metric))
            cells.append(
                LaunchCell(
                    metric=metric,
                    target_id=target.pk if target else None,
                    target=target.target if target else None,
                    typed=target.actual if target else None,
                    computed=computed,
                    missing=missing,
                    final=state == "ended",
                )
            )
        out.append(
            LaunchMonth(
                month=n, start=start, end=end, state=state, sales=sales, new_members=members, cells=cells
            )
        )
    return LaunchTracking(months=out, miss_ratio=book.launch_target_miss_ratio)
