"""Reads of warehouses, stock, the ledger and channel offers (SOP INV-03)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Min, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from storeops.core.money import Money
from storeops.inventory import rules
from storeops.inventory.models import (
    AbcClassChoice,
    ChannelStockOffer,
    ChannelStockRule,
    CountScope,
    CountSheet,
    CountSheetLine,
    CountStatus,
    MoveKind,
    SkuAbcClass,
    Stock,
    StockMove,
    Warehouse,
    Zone,
)
from storeops.stores.models import Store
from storeops.stores.playbook import PlaybookSettings

if TYPE_CHECKING:
    from storeops.catalog.models import Sku

ZONE_CHOICES = Zone.choices
MOVE_KIND_CHOICES = MoveKind.choices


def warehouse_list(*, store: Store) -> QuerySet[Warehouse]:
    return Warehouse.objects.filter(store=store).order_by("code")


def warehouse_get(*, store: Store, warehouse_id: int) -> Warehouse | None:
    return Warehouse.objects.filter(store=store, pk=warehouse_id).first()


def sku_get(*, store: Store, sku_id: int) -> Sku | None:
    """A SKU of the store by id (through the stock row's foreign key: catalog models are private)."""
    sku_model: Any = Stock._meta.get_field("sku").related_model
    found: Sku | None = sku_model.objects.filter(store=store, pk=sku_id).first()
    return found


def stock_list(
    *,
    store: Store,
    warehouse_id: int | None = None,
    zone: str = "",
    q: str = "",
    sku_id: int | None = None,
    available_at_most: int | None = None,
) -> QuerySet[Stock]:
    qs = Stock.objects.filter(warehouse__store=store).select_related("sku", "sku__product", "warehouse")
    if warehouse_id:
        qs = qs.filter(warehouse_id=warehouse_id)
    if zone:
        qs = qs.filter(zone=zone)
    if sku_id:
        qs = qs.filter(sku_id=sku_id)
    if q:
        qs = qs.filter(Q(sku__code__icontains=q) | Q(sku__product__title__icontains=q))
    if available_at_most is not None:
        from django.db.models import F

        qs = qs.filter(on_hand__lte=F("reserved") + available_at_most)
    return qs.order_by("sku__code", "warehouse__code", "zone")


def stock_get(*, sku: Sku, warehouse: Warehouse, zone: str = Zone.SELLABLE) -> Stock | None:
    return Stock.objects.filter(sku=sku, warehouse=warehouse, zone=zone).first()


def stock_get_by_id(*, stock_id: int) -> Stock | None:
    return Stock.objects.filter(pk=stock_id).first()


def available_by_sku(*, sku_ids: list[int]) -> dict[int, int]:
    """Sellable available units (on-hand − reserved) per SKU, summed over warehouses."""
    rows = (
        Stock.objects.filter(sku_id__in=sku_ids, zone=Zone.SELLABLE, warehouse__is_active=True)
        .values("sku_id")
        .annotate(on_hand=Sum("on_hand"), reserved=Sum("reserved"))
    )
    return {r["sku_id"]: r["on_hand"] - r["reserved"] for r in rows}


def ledger_list(
    *,
    store: Store,
    sku_id: int | None = None,
    warehouse_id: int | None = None,
    kind: str = "",
    reference: str = "",
) -> QuerySet[StockMove]:
    qs = StockMove.objects.filter(stock__warehouse__store=store).select_related(
        "stock", "stock__sku", "stock__warehouse"
    )
    if sku_id:
        qs = qs.filter(stock__sku_id=sku_id)
    if warehouse_id:
        qs = qs.filter(stock__warehouse_id=warehouse_id)
    if kind:
        qs = qs.filter(kind=kind)
    if reference:
        qs = qs.filter(reference=reference)
    return qs.order_by("-id")


@dataclass(frozen=True, slots=True)
class LedgerMismatch:
    stock_id: int
    sku_code: str
    warehouse_code: str
    zone: str
    on_hand: int
    reserved: int
    ledger_on_hand: int
    ledger_reserved: int


def ledger_mismatches(*, store: Store) -> list[LedgerMismatch]:
    """Stock rows whose balance is not the sum of their ledger lines (INV-03; should be none)."""
    rows = (
        Stock.objects.filter(warehouse__store=store)
        .annotate(
            ledger_on_hand=Coalesce(Sum("moves__on_hand_delta"), 0),
            ledger_reserved=Coalesce(Sum("moves__reserved_delta"), 0),
        )
        .values(
            "pk",
            "sku__code",
            "warehouse__code",
            "zone",
            "on_hand",
            "reserved",
            "ledger_on_hand",
            "ledger_reserved",
        )
    )
    return [
        LedgerMismatch(
            stock_id=r["pk"],
            sku_code=r["sku__code"],
            warehouse_code=r["warehouse__code"],
            zone=r["zone"],
            on_hand=r["on_hand"],
            reserved=r["reserved"],
            ledger_on_hand=r["ledger_on_hand"],
            ledger_reserved=r["ledger_reserved"],
        )
        for r in rows
        if r["on_hand"] != r["ledger_on_hand"] or r["reserved"] != r["ledger_reserved"]
    ]


def channel_rule_list(*, store: Store) -> QuerySet[ChannelStockRule]:
    return (
        ChannelStockRule.objects.filter(channel__store=store)
        .select_related("channel", "sku")
        .order_by("channel__code", "sku__code")
    )


def channel_offer_list(*, store: Store, channel_id: int | None = None) -> QuerySet[ChannelStockOffer]:
    qs = ChannelStockOffer.objects.filter(channel__store=store).select_related("channel", "sku")
    if channel_id:
        qs = qs.filter(channel_id=channel_id)
    return qs.order_by("channel__code", "sku__code")


def skus_moved_since(*, store: Store, after_move_id: int) -> tuple[list[int], int]:
    """SKUs of the store with ledger lines after ``after_move_id``, and the last line's id."""
    rows = list(
        StockMove.objects.filter(stock__warehouse__store=store, id__gt=after_move_id).values_list(
            "id", "stock__sku_id"
        )
    )
    return sorted({sku for _, sku in rows}), max((i for i, _ in rows), default=after_move_id)


@dataclass(frozen=True, slots=True)
class Replenishment:
    product_id: int
    product_code: str
    title: str
    available: int
    avg_daily_sales: Fraction
    threshold: Fraction
    days_of_cover: Fraction | None
    alert: bool
    suggested_quantity: int
    # INV-06: how the demand over lead time + safety days was estimated for the quantity:
    # "forecast" (forecast.py, with ``forecast_method``) or "average" (too little history);
    # empty when there is no alert (no quantity computed)
    method: str = ""
    forecast_method: str = ""
    demand_over_horizon: Fraction | None = None
    # INV-06 seasonal preparation: set while the product is between ``seasonal_prep_days``
    # before its season (旺季) and the season's end; ``season_source`` says how the season's
    # demand was estimated ("last_year" × ``season_trend`` or the configured "uplift");
    # ``seasonal`` is true when the season's demand raised the alert or the quantity
    season_start: dt.date | None = None
    season_end: dt.date | None = None
    season_source: str = ""
    season_trend: Decimal | None = None
    seasonal: bool = False


METHOD_FORECAST = "forecast"
METHOD_AVERAGE = "average"
METHOD_SEASONAL = "seasonal"
PAST_PROMOTION_BASELINE_DAYS = 28  # a past promotion's uplift is measured against these days before it


def _daily_units(
    *, store: Store, product_ids: list[int], start: dt.date, end: dt.date
) -> dict[int, list[int]]:
    """Units sold per product per day ``start..end`` (all channels), oldest first; a product
    with no row before a day has not started selling then (see ``_first_sale``)."""
    sku_model: Any = Stock._meta.get_field("sku").related_model
    product_model = sku_model._meta.get_field("product").related_model
    sales_daily = product_model._meta.get_field("sales_daily").related_model
    days = (end - start).days + 1
    out = {pid: [0] * days for pid in product_ids}
    rows = (
        sales_daily.objects.filter(store=store, product_id__in=product_ids, day__gte=start, day__lte=end)
        .values("product_id", "day")
        .annotate(units=Sum("units"))
    )
    for r in rows:
        out[r["product_id"]][(r["day"] - start).days] += r["units"] or 0
    return out


def _first_sale(*, store: Store, product_ids: list[int]) -> dict[int, dt.date]:
    from django.db.models import Min

    sku_model: Any = Stock._meta.get_field("sku").related_model
    product_model = sku_model._meta.get_field("product").related_model
    sales_daily = product_model._meta.get_field("sales_daily").related_model
    rows = (
        sales_daily.objects.filter(store=store, product_id__in=product_ids, units__gt=0)
        .values("product_id")
        .annotate(first=Min("day"))
    )
    return {r["product_id"]: r["first"] for r in rows}


def _promotion_uplift(
    *, store: Store, today: dt.date, horizon: int, playbook: PlaybookSettings
) -> list[tuple[dt.date, dt.date, frozenset[int] | None, float]]:
    """Big promotions overlapping the next ``horizon`` days: (start, end, product ids of the
    stock plan or None for all products, the uplift they multiply demand by: the campaign's
    ``expected_uplift``, else the playbook's ``promo_default_uplift``)."""
    from storeops.marketing.selectors import big_promotions_open, campaign_uplift

    end = today + dt.timedelta(days=horizon - 1)
    out = []
    for c in (
        big_promotions_open(store=store)
        .filter(starts_on__lte=end, ends_on__gte=today)
        .prefetch_related("stock_lines__sku")
    ):
        plan = frozenset(line.sku.product_id for line in c.stock_lines.all())
        out.append((c.starts_on, c.ends_on, plan or None, float(campaign_uplift(c, playbook))))
    return out


PromotionSpan = tuple[dt.date, dt.date, frozenset[int] | None]


def _past_promotions(*, store: Store, start: dt.date, end: dt.date) -> list[PromotionSpan]:
    """Big promotions that ran within ``start..end`` (approved, active or ended): (start, end,
    product ids of the stock plan or None for all products)."""
    from storeops.marketing.selectors import big_promotions_run

    rows = (
        big_promotions_run(store=store, start=start, end=end)
        .prefetch_related("stock_lines__sku")
        .order_by("starts_on")
    )
    out = []
    for c in rows:
        plan = frozenset(line.sku.product_id for line in c.stock_lines.all())
        out.append((c.starts_on, c.ends_on, plan or None))
    return out


def history_uplift(
    *,
    series: list[int],
    start: dt.date,
    product_id: int,
    promotions: list[PromotionSpan],
    default_uplift: float,
) -> list[float]:
    """INV-06: the multiplier that was in force on each day of ``series`` (from ``start``), so
    the forecast can take past promotions out of the history (``forecast_sku(history_uplift=)``).

    A past big promotion's uplift for this product is *measured*: its mean daily units on the
    promotion's days against the mean of the :data:`PAST_PROMOTION_BASELINE_DAYS` days before it
    (promotion days left out), at least 1; ``default_uplift`` (the playbook's
    ``promo_default_uplift``) when there is no baseline to measure against."""
    factors = [1.0] * len(series)
    is_promo = [False] * len(series)
    spans = []
    for p_start, p_end, plan in promotions:
        if plan is not None and product_id not in plan:
            continue
        lo = max(0, (p_start - start).days)
        hi = min(len(series), (p_end - start).days + 1)
        if lo < hi:
            spans.append((lo, hi))
            for i in range(lo, hi):
                is_promo[i] = True
    for lo, hi in spans:
        base_days = [
            series[i] for i in range(max(0, lo - PAST_PROMOTION_BASELINE_DAYS), lo) if not is_promo[i]
        ]
        base = sum(base_days) / len(base_days) if base_days else 0.0
        promo = sum(series[lo:hi]) / (hi - lo)
        factor = max(1.0, promo / base) if base > 0 else max(1.0, default_uplift)
        for i in range(lo, hi):
            factors[i] *= factor
    return factors


def _forecast_horizon_demand(
    *,
    store: Store,
    product_ids: list[int],
    today: dt.date,
    playbook: PlaybookSettings,
    horizon: int,
) -> dict[int, tuple[Fraction, str]]:
    """INV-06: units the forecast expects over the next ``horizon`` days (lead time + safety
    days) for each product with at least ``forecast_min_history_days`` of history, with the
    method the forecast chose. Planned big promotions in the horizon multiply their days by
    the campaign's ``expected_uplift``, else ``promo_default_uplift`` (overlapping campaigns:
    the largest); past big promotions are taken out of the history first (their
    measured uplift, :func:`history_uplift`), so a past sale does not look like a new level.
    Products with less history are left out (the caller falls back to the average)."""
    from storeops.inventory import forecast

    if horizon <= 0 or not product_ids:
        return {}
    end = today - dt.timedelta(days=1)
    first = _first_sale(store=store, product_ids=product_ids)
    eligible = [
        pid
        for pid in product_ids
        if pid in first and (end - first[pid]).days + 1 >= playbook.forecast_min_history_days
    ]
    if not eligible:
        return {}
    start = end - dt.timedelta(days=playbook.forecast_history_days - 1)
    series = _daily_units(store=store, product_ids=eligible, start=start, end=end)
    promotions = _promotion_uplift(store=store, today=today, horizon=horizon, playbook=playbook)
    past = _past_promotions(store=store, start=start, end=end)
    out: dict[int, tuple[Fraction, str]] = {}
    for pid in eligible:
        begin = max(0, (first[pid] - start).days)  # the history starts at the first sale
        history = series[pid][begin:]
        past_uplift = history_uplift(
            series=history,
            start=start + dt.timedelta(days=begin),
            product_id=pid,
            promotions=past,
            default_uplift=float(playbook.promo_default_uplift),
        )
        future = [
            max(
                (
                    uplift
                    for s, e, plan, uplift in promotions
                    if s <= today + dt.timedelta(days=h) <= e and (plan is None or pid in plan)
                ),
                default=1.0,
            )
            for h in range(horizon)
        ]
        result = forecast.forecast_sku(history, horizon, uplift=future, history_uplift=past_uplift)
        out[pid] = (Fraction(forecast.demand_over(result.values, horizon)), str(result.method))
    return out


@dataclass(frozen=True, slots=True)
class SeasonPlan:
    """INV-06: a product inside its seasonal preparation window (see :func:`_season_plans`)."""

    start: dt.date
    end: dt.date
    source: str
    trend: float
    threshold: Fraction  # demand until the season starts + the safety days (the alert line)
    target: Fraction  # demand until the season starts + lead time + safety days (the order)


def _season_plans(
    *,
    store: Store,
    today: dt.date,
    playbook: PlaybookSettings,
    policy: rules.ReplenishmentPolicy,
    seasons: dict[int, tuple[int, int, Decimal | None]],
    averages: dict[int, Fraction],
) -> dict[int, SeasonPlan]:
    """INV-06 seasonal preparation (e.g. winter goods prepared 45 days ahead).

    For each product with a season (``seasons``: start month, end month, configured uplift)
    whose preparation window is open — from ``seasonal_prep_days`` before the season starts
    (:func:`forecast.prep_date`) to the season's last day — the season's expected demand
    (:func:`forecast.seasonal_demand`: last year's same days × trend with a year of history,
    else the usual pace × the configured uplift) sets two lines, as INV-01 does with the
    average: the stock must last until the season starts plus the safety days (``threshold``),
    and an order brings it to the demand until the season starts plus lead time and safety
    days (``target``). Inside the season both start today."""
    from storeops.inventory import forecast

    if not seasons:
        return {}
    windows: dict[int, tuple[dt.date, dt.date]] = {}
    for pid, (start_month, end_month, _uplift) in seasons.items():
        start, end = forecast.season_window(today, start_month, end_month)
        if forecast.prep_date(start, playbook.seasonal_prep_days) <= today <= end:
            windows[pid] = (start, end)
    if not windows:
        return {}
    end_day = today - dt.timedelta(days=1)
    history_days = forecast.YEAR_DAYS + forecast.SEASON_TREND_DAYS
    first_day = end_day - dt.timedelta(days=history_days - 1)
    first = _first_sale(store=store, product_ids=list(windows))
    series = _daily_units(store=store, product_ids=list(windows), start=first_day, end=end_day)
    past = _past_promotions(store=store, start=first_day, end=end_day)
    out: dict[int, SeasonPlan] = {}
    for pid, (start, end) in windows.items():
        begin = max(0, (first[pid] - first_day).days) if pid in first else len(series[pid])
        history = series[pid][begin:]
        factors = history_uplift(
            series=history,
            start=first_day + dt.timedelta(days=begin),
            product_id=pid,
            promotions=past,
            default_uplift=float(playbook.promo_default_uplift),
        )
        deflated = [units / factor for units, factor in zip(history, factors, strict=True)]
        anchor = max(0, (start - today).days)
        threshold_days = anchor + policy.safety_stock_days
        target_days = anchor + policy.replenishment_lead_time_days + policy.safety_stock_days
        uplift = seasons[pid][2]
        demand = forecast.seasonal_demand(
            deflated,
            target_days,
            first_day=today,
            season_start=start,
            season_end=end,
            base_rate=float(averages.get(pid, Fraction(0))),
            uplift=None if uplift is None else float(uplift),
        )
        if demand is None:
            continue
        out[pid] = SeasonPlan(
            start=start,
            end=end,
            source=demand.source,
            trend=demand.trend,
            threshold=Fraction(forecast.demand_over(demand.values, threshold_days)),
            target=Fraction(forecast.demand_over(demand.values, target_days)),
        )
    return out


def replenishment_suggestions(
    *, store: Store, today: dt.date, playbook: PlaybookSettings, alerts_only: bool = False
) -> list[Replenishment]:
    """INV-01 per product: sellable available stock against average daily sales over the
    playbook window; an alert when it covers ``safety_stock_days`` or less, with the
    suggested order quantity (lead time + safety days). Sales statistics are per product, so
    the check is per product (its SKUs' stock summed).

    INV-06: the quantity covers the demand the forecast (``forecast.py``) expects over lead
    time + safety days when the product has ``forecast_min_history_days`` of history, else
    the average × those days; ``method`` says which was used. A product with a season (旺季)
    inside its preparation window (``seasonal_prep_days`` before the season to its end) is
    also held against the season's expected demand (:func:`_season_plans`): it alerts when its
    stock would not last until the season starts plus the safety days even if the current
    average would not alert, and the quantity covers the season's demand when that is the
    larger (``method`` "seasonal", ``seasonal`` true, the season's dates and source set)."""
    from storeops.catalog.selectors import product_list, sales_window
    from storeops.inventory import rules

    policy = rules.ReplenishmentPolicy(
        safety_stock_days=playbook.safety_stock_days,
        sales_average_window_days=playbook.sales_average_window_days,
        replenishment_lead_time_days=playbook.replenishment_lead_time_days,
    )
    window = policy.sales_average_window_days
    sales = sales_window(
        store=store, start=today - dt.timedelta(days=window), end=today - dt.timedelta(days=1)
    )
    stock_rows = (
        Stock.objects.filter(warehouse__store=store, warehouse__is_active=True, zone=Zone.SELLABLE)
        .values("sku__product_id")
        .annotate(on_hand=Sum("on_hand"), reserved=Sum("reserved"))
    )
    available = {r["sku__product_id"]: r["on_hand"] - r["reserved"] for r in stock_rows}
    seasons = {
        r["pk"]: (r["season_start_month"], r["season_end_month"], r["season_uplift"])
        for r in product_list(store_id=store.pk)
        .filter(season_start_month__isnull=False, season_end_month__isnull=False)
        .values("pk", "season_start_month", "season_end_month", "season_uplift")
    }
    product_ids = set(available) | {pid for pid, s in sales.items() if s["units"]} | set(seasons)
    products = {
        p["pk"]: p
        for p in product_list(store_id=store.pk).filter(pk__in=product_ids).values("pk", "code", "title")
    }
    statuses: dict[int, tuple[Fraction, int, rules.SafetyStockStatus]] = {}
    for pid in sorted(product_ids):
        if pid not in products:
            continue
        avg = Fraction(sales.get(pid, {}).get("units", 0), window)
        avail = max(0, available.get(pid, 0))
        statuses[pid] = (avg, avail, rules.safety_stock_alert(avail, avg, policy))
    plans = _season_plans(
        store=store,
        today=today,
        playbook=playbook,
        policy=policy,
        seasons=seasons,
        averages={pid: avg for pid, (avg, _v, _s) in statuses.items()},
    )
    # INV-06: the quantity of an alert covers the forecast demand over lead time + safety days
    # (only alerting products are forecast: a forecast per product is not free)
    horizon = policy.replenishment_lead_time_days + policy.safety_stock_days
    forecasts = _forecast_horizon_demand(
        store=store,
        product_ids=[pid for pid, (_a, _v, st) in statuses.items() if st.alert],
        today=today,
        playbook=playbook,
        horizon=horizon,
    )
    out: list[Replenishment] = []
    for pid, (avg, avail, status) in statuses.items():
        plan = plans.get(pid)
        seasonal_alert = plan is not None and plan.threshold > 0 and avail <= plan.threshold
        alert = status.alert or seasonal_alert
        if alerts_only and not alert:
            continue
        qty, method, forecast_method, demand = 0, "", "", None
        seasonal = False
        if status.alert:
            if pid in forecasts:
                demand, forecast_method = forecasts[pid]
                method = METHOD_FORECAST
            else:
                method = METHOD_AVERAGE
                demand = rules.reorder_target(avg, policy)
        if alert and plan is not None and (demand is None or plan.target > demand):
            demand, method, seasonal = plan.target, METHOD_SEASONAL, True
        if demand is not None:
            qty = rules.reorder_quantity(
                available=avail, on_order=0, avg_daily_sales=avg, policy=policy, horizon_forecast=demand
            )
        out.append(
            Replenishment(
                product_id=pid,
                product_code=products[pid]["code"],
                title=products[pid]["title"],
                available=avail,
                avg_daily_sales=avg,
                threshold=max(status.threshold, plan.threshold) if seasonal and plan else status.threshold,
                days_of_cover=status.days_of_cover,
                alert=alert,
                suggested_quantity=qty,
                method=method,
                forecast_method=forecast_method,
                demand_over_horizon=demand,
                season_start=plan.start if plan else None,
                season_end=plan.end if plan else None,
                season_source=plan.source if plan else "",
                season_trend=(Decimal(repr(plan.trend)).quantize(Decimal("0.01")) if plan else None),
                seasonal=seasonal,
            )
        )
    return out


def available_by_warehouse(*, store: Store, sku_ids: list[int]) -> dict[int, dict[int, int]]:
    """Sellable available units per active warehouse and SKU: ``{warehouse_id: {sku_id: n}}``
    (the allocator's input, ORD-02). Warehouses without any of the SKUs are left out."""
    rows = Stock.objects.filter(
        sku_id__in=sku_ids, zone=Zone.SELLABLE, warehouse__store=store, warehouse__is_active=True
    ).values_list("warehouse_id", "sku_id", "on_hand", "reserved")
    out: dict[int, dict[int, int]] = {}
    for warehouse_id, sku_id, on_hand, reserved in rows:
        if on_hand - reserved > 0:
            out.setdefault(warehouse_id, {})[sku_id] = on_hand - reserved
    return out


def available_by_warehouse_with_rows(
    *, store: Store, sku_ids: list[int]
) -> tuple[dict[int, dict[int, int]], dict[int, Warehouse]]:
    """:func:`available_by_warehouse` and the warehouses in it (by id, in the order of their
    codes), in one query: what the checkout's allocation needs (ORD-02)."""
    rows = (
        Stock.objects.filter(
            sku_id__in=sku_ids, zone=Zone.SELLABLE, warehouse__store=store, warehouse__is_active=True
        )
        .select_related("warehouse")
        .only("sku_id", "on_hand", "reserved", "warehouse")
        .order_by("warehouse__code", "warehouse_id")
    )
    out: dict[int, dict[int, int]] = {}
    warehouses: dict[int, Warehouse] = {}
    for row in rows:
        if row.on_hand - row.reserved > 0:
            out.setdefault(row.warehouse_id, {})[row.sku_id] = row.on_hand - row.reserved
            warehouses.setdefault(row.warehouse_id, row.warehouse)
    return out, warehouses


# ---- INV-05 cycle counts ---------------------------------------------------------------------

COUNT_STATUS_CHOICES = CountStatus.choices
COUNT_SCOPE_CHOICES = CountScope.choices


def count_sheet_list(
    *, store: Store, status: str = "", warehouse_id: int | None = None
) -> QuerySet[CountSheet]:
    qs = (
        CountSheet.objects.filter(store=store)
        .select_related("warehouse")
        .annotate(
            line_count=Count("lines"),
            counted_count=Count("lines", filter=Q(lines__counted__isnull=False)),
            variance_count=Count("lines", filter=~Q(lines__variance=0) & Q(lines__variance__isnull=False)),
        )
    )
    if status:
        qs = qs.filter(status=status)
    if warehouse_id:
        qs = qs.filter(warehouse_id=warehouse_id)
    return qs.order_by("-id")


def count_sheet_get(*, store: Store, sheet_id: int) -> CountSheet | None:
    return CountSheet.objects.filter(store=store, pk=sheet_id).select_related("warehouse").first()


@dataclass(frozen=True, slots=True)
class CountRow:
    """One line of a count sheet as the entry form and the variance report show it."""

    sku_id: int
    sku_code: str
    title: str
    expected: int
    counted: int | None
    variance: int | None
    adjusted: int | None
    on_hand_now: int
    unit_cost: Money
    variance_value: Money | None

    @property
    def moved(self) -> bool:
        """The book changed since the snapshot: the line must be recounted before posting."""
        return self.adjusted is None and self.on_hand_now != self.expected


@dataclass(frozen=True, slots=True)
class CountReport:
    sheet: CountSheet
    rows: list[CountRow]
    variance: rules.CountVarianceReport

    @property
    def moved(self) -> list[CountRow]:
        return [r for r in self.rows if r.moved]


def count_sheet_report(*, sheet: CountSheet) -> CountReport:
    """INV-05: the sheet's lines with the current on-hand, and the variance report
    (``rules.count_variance``, valued at the SKU cost) over the counted lines."""
    currency = sheet.store.currency
    lines = list(sheet.lines.select_related("sku", "sku__product").order_by("sku__code"))
    on_hand = dict(
        Stock.objects.filter(
            warehouse_id=sheet.warehouse_id, zone=sheet.zone, sku_id__in=[x.sku_id for x in lines]
        ).values_list("sku_id", "on_hand")
    )
    cost = {x.sku.code: Money(x.sku.cost, currency) for x in lines}
    report = rules.count_variance(
        {x.sku.code: x.expected for x in lines},
        {x.sku.code: x.counted for x in lines if x.counted is not None},
        cost,
        currency=currency,
    )
    rows = [
        CountRow(
            sku_id=x.sku_id,
            sku_code=x.sku.code,
            title=x.sku.product.title,
            expected=x.expected,
            counted=x.counted,
            variance=x.variance,
            adjusted=x.adjusted,
            on_hand_now=on_hand.get(x.sku_id, 0),
            unit_cost=cost[x.sku.code],
            variance_value=None if x.variance is None else cost[x.sku.code] * x.variance,
        )
        for x in lines
    ]
    return CountReport(sheet=sheet, rows=rows, variance=report)


# the lines of a sheet a reader can ask for (the console's and the API's ``state`` filter)
COUNT_LINE_STATES = ("uncounted", "counted", "variance", "moved")


def count_report_rows(report: CountReport, *, state: str = "", q: str = "") -> list[CountRow]:
    """The sheet's lines (by SKU code) in ``state`` — ``uncounted``, ``counted``, ``variance``
    (counted and different from the book) or ``moved`` (stock moved since the snapshot: to
    recount); "" every line — whose SKU code or product title contains ``q``. A big sheet is
    counted (and read) a page of these at a time."""
    wanted = {
        "": lambda r: True,
        "uncounted": lambda r: r.counted is None,
        "counted": lambda r: r.counted is not None,
        "variance": lambda r: bool(r.variance),
        "moved": lambda r: r.moved,
    }[state]
    needle = q.strip().casefold()
    return [
        r
        for r in report.rows
        if wanted(r) and (not needle or needle in r.sku_code.casefold() or needle in r.title.casefold())
    ]


def sku_ids_by_codes(*, store: Store, codes: list[str]) -> tuple[list[int], list[str]]:
    """The store's SKU ids for ``codes`` and the codes that matched nothing."""
    sku_model: Any = Stock._meta.get_field("sku").related_model
    found = dict(sku_model.objects.filter(store=store, code__in=codes).values_list("code", "pk"))
    return [found[c] for c in codes if c in found], [c for c in codes if c not in found]


# ---- INV-04 ABC classes ----------------------------------------------------------------------

ABC_CLASS_CHOICES = AbcClassChoice.choices


def abc_class_list(
    *, store: Store, abc_class: str = "", q: str = "", due_by: dt.date | None = None
) -> QuerySet[SkuAbcClass]:
    qs = SkuAbcClass.objects.filter(store=store, sku__is_active=True).select_related("sku", "sku__product")
    if abc_class:
        qs = qs.filter(abc_class=abc_class)
    if q:
        qs = qs.filter(Q(sku__code__icontains=q) | Q(sku__product__title__icontains=q))
    if due_by is not None:
        qs = qs.filter(next_review_on__lte=due_by)
    return qs.order_by("abc_class", "-sales_value", "sku__code")


def abc_class_summary(*, store: Store, today: dt.date) -> dict[str, dict[str, Any]]:
    """Per class: SKU count, sales value and how many are due for review. Every SKU row
    carries its product's sales value, so a class's value sums each product once (not once
    per SKU), in cents."""
    qs = SkuAbcClass.objects.filter(store=store, sku__is_active=True)
    rows = qs.values("abc_class").annotate(
        skus=Count("pk"), due=Count("pk", filter=Q(next_review_on__lte=today))
    )
    out: dict[str, dict[str, Any]] = {
        c: {"skus": 0, "value": Decimal("0.00"), "due": 0} for c in ("A", "B", "C")
    }
    for r in rows:
        out[r["abc_class"]].update(skus=r["skus"], due=r["due"])
    per_product = {
        (klass, product_id): value
        for klass, product_id, value in qs.values_list("abc_class", "sku__product_id", "sales_value")
    }
    for (klass, _product_id), value in per_product.items():
        out[klass]["value"] += value
    for summary in out.values():
        summary["value"] = summary["value"].quantize(Decimal("0.01"))
    return out


def abc_reviews_due(*, store: Store, today: dt.date) -> list[SkuAbcClass]:
    """INV-04 → INV-05: classified SKUs whose count review is due by ``today`` and that are not
    already on an open count sheet."""
    on_open_sheets = CountSheetLine.objects.filter(
        sheet__store=store, sheet__status__in=(CountStatus.DRAFT, CountStatus.COUNTING)
    ).values("sku_id")
    return list(
        SkuAbcClass.objects.filter(store=store, sku__is_active=True, next_review_on__lte=today)
        .exclude(sku_id__in=on_open_sheets)
        .select_related("sku")
        .order_by("next_review_on", "sku__code")
    )


# ---- INV-07 turnover and slow movers ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProductTurnover:
    """INV-07 for one product over the period: units sold ÷ average on-hand units."""

    product_id: int
    product_code: str
    title: str
    category_id: int
    category_name: str
    units_sold: int
    average_inventory: Fraction  # mean closing on-hand over the period's days (units)
    on_hand: int  # now
    turnover: Fraction | None  # None: no stock at all in the period
    days_of_cover: Fraction | None  # now, at the period's pace; None: nothing sold
    slow: bool  # INV-07 clearance candidate
    new: bool  # listed within the period: too young to judge (never flagged slow)


@dataclass(frozen=True, slots=True)
class SkuTurnover:
    """INV-07 for one SKU over the period: units sold ÷ average on-hand units of the SKU."""

    sku_id: int
    sku_code: str
    attributes: dict[str, Any]
    product_id: int
    product_code: str
    title: str
    category_name: str
    units_sold: int  # the product's units sold, split over its SKUs (``sku_units_sold``)
    average_inventory: Fraction  # mean closing on-hand of the SKU over the period's days (units)
    on_hand: int  # now
    turnover: Fraction | None  # None: no stock at all in the period
    days_of_cover: Fraction | None  # now, at the period's pace; None: nothing sold
    slow: bool  # INV-07 clearance candidate
    new: bool  # product listed, or SKU first stocked, within the period: never flagged slow
    product_slow: bool  # the whole product is flagged (the INV-07 check then reports the product)


@dataclass(frozen=True, slots=True)
class CategoryTurnover:
    """INV-07 for one category: cost of goods sold ÷ average inventory value at cost."""

    category_id: int
    category_name: str
    products: int
    sales_cost: Decimal
    average_inventory_value: Decimal
    turnover: Fraction | None


@dataclass(frozen=True, slots=True)
class TurnoverReport:
    start: dt.date
    end: dt.date
    period_days: int
    products: list[ProductTurnover]
    categories: list[CategoryTurnover]
    # the day the store's stock ledger begins, when that is within the playbook's period: the
    # figures cover the days since then only, and nothing is judged slow on a short history
    history_from: dt.date | None = None
    # per SKU: only when asked for (``turnover_report(skus=True)``)
    skus: list[SkuTurnover] = field(default_factory=list)

    @property
    def slow_judged(self) -> bool:
        return self.history_from is None


def _daily_on_hand(
    *, store: Store, start: dt.date, end: dt.date
) -> tuple[dict[int, int], dict[int, list[int]]]:
    """Closing on-hand (all zones, all warehouses) of each SKU on each day ``start..end``,
    rebuilt from the ledger backwards from today's balance: closing(d) = balance now − the
    deltas booked after day d."""
    from django.utils import timezone

    now_on_hand: dict[int, int] = {}  # sku id -> on-hand now
    for sku_id, on_hand in Stock.objects.filter(warehouse__store=store).values_list("sku_id", "on_hand"):
        now_on_hand[sku_id] = now_on_hand.get(sku_id, 0) + on_hand
    after_day: dict[tuple[int, dt.date], int] = {}
    moves = (
        StockMove.objects.filter(
            stock__warehouse__store=store,
            created_at__gte=timezone.make_aware(dt.datetime.combine(start, dt.time.min)),
        )
        .exclude(on_hand_delta=0)
        .values_list("stock__sku_id", "created_at", "on_hand_delta")
    )
    for sku_id, created_at, delta in moves:
        key = (sku_id, timezone.localdate(created_at))
        after_day[key] = after_day.get(key, 0) + delta
    days = (end - start).days + 1
    today = timezone.localdate()
    out: dict[int, list[int]] = {}
    for sku_id, balance in now_on_hand.items():
        # walk back from today to start: closing(d) = closing(d+1) - deltas on day d+1
        closing = balance
        day = today
        levels: dict[dt.date, int] = {}
        while day >= start:
            if day <= end:
                levels[day] = max(0, closing)
            closing -= after_day.get((sku_id, day), 0)
            day -= dt.timedelta(days=1)
        out[sku_id] = [levels[start + dt.timedelta(days=n)] for n in range(days)]
    return now_on_hand, out


def turnover_report(
    *, store: Store, today: dt.date, playbook: PlaybookSettings, skus: bool = False
) -> TurnoverReport:
    """INV-07 over the last ``turnover_period_days`` days up to yesterday.

    Sales statistics are per product (``catalog.SalesDaily``), so the per-item figures are per
    product (its SKUs' stock summed, in units) and the category figures are at cost (units
    sold × the product's mean SKU cost ÷ average stock value at SKU cost). Slow movers: stock
    that would last more than ``slow_mover_days_of_cover`` days at the period's pace, or did
    not sell at all (``rules.slow_mover``); products listed within the period are left out.

    The stock ledger says nothing of the days before the store's first booking (go-live with
    StoreOps): a period reaching back before it is cut to the days since (sales too), and no
    product is judged slow until the ledger covers a whole period — on the day after the
    opening count, every product "sold nothing" in a period that had not started.

    ``skus``: also the per-SKU figures (``report.skus``, see ``_sku_turnover``): two more
    queries, whatever the number of SKUs.
    """
    from django.utils import timezone

    from storeops.catalog.selectors import sales_window

    period = playbook.turnover_period_days
    start, end = today - dt.timedelta(days=period), today - dt.timedelta(days=1)
    first = StockMove.objects.filter(stock__warehouse__store=store).aggregate(first=Min("created_at"))[
        "first"
    ]
    history_from = timezone.localdate(first) if first is not None else None
    if history_from is None or history_from > end:
        return TurnoverReport(
            start=start,
            end=end,
            period_days=period,
            products=[],
            categories=[],
            history_from=history_from or today,
        )
    if history_from > start:
        start, period = history_from, (end - history_from).days + 1
    else:
        history_from = None
    sold = {pid: s["units"] for pid, s in sales_window(store=store, start=start, end=end).items()}
    now_on_hand, daily = _daily_on_hand(store=store, start=start, end=end)
    sku_model: Any = Stock._meta.get_field("sku").related_model
    sku_rows = list(
        sku_model.objects.filter(store=store).values_list(
            "pk",
            "cost",
            "product_id",
            "product__code",
            "product__title",
            "product__category_id",
            "product__category__name",
            "product__listed_on",
            "code",
            "attributes",
        )
    )
    policy = rules.SlowMoverPolicy(max_days_of_cover=playbook.slow_mover_days_of_cover)
    products: dict[int, dict[str, Any]] = {}
    for sku_id, cost, pid, code, title, cat_id, cat_name, listed_on, *_sku in sku_rows:
        p = products.setdefault(
            pid,
            {
                "code": code,
                "title": title,
                "cat": (cat_id, cat_name),
                "listed_on": listed_on,
                "levels": [0] * period,
                "value_levels": [Decimal(0)] * period,
                "costs": [],
                "on_hand": 0,
            },
        )
        p["costs"].append(cost)
        p["on_hand"] += now_on_hand.get(sku_id, 0)
        for n, level in enumerate(daily.get(sku_id, [])):
            p["levels"][n] += level
            p["value_levels"][n] += level * cost
    product_rows: list[ProductTurnover] = []
    cats: dict[int, dict[str, Any]] = {}
    for pid, p in products.items():
        units = sold.get(pid, 0)
        avg = rules.average_inventory(p["levels"])
        on_hand = p["on_hand"]
        if avg == 0 and units == 0:
            continue  # nothing stocked, nothing sold: nothing to turn over
        new = p["listed_on"] is not None and p["listed_on"] > start
        status = rules.slow_mover(on_hand=on_hand, units_sold=units, period_days=period, policy=policy)
        product_rows.append(
            ProductTurnover(
                product_id=pid,
                product_code=p["code"],
                title=p["title"],
                category_id=p["cat"][0],
                category_name=p["cat"][1],
                units_sold=units,
                average_inventory=avg,
                on_hand=on_hand,
                turnover=rules.turnover(units, avg),
                days_of_cover=status.days_of_cover,
                slow=status.slow and not new and history_from is None,
                new=new,
            )
        )
        mean_cost = sum(p["costs"], Decimal(0)) / len(p["costs"])
        c = cats.setdefault(
            p["cat"][0], {"name": p["cat"][1], "products": 0, "cogs": Decimal(0), "inv": Fraction(0)}
        )
        c["products"] += 1
        c["cogs"] += mean_cost * units
        c["inv"] += rules.average_inventory(p["value_levels"])
    product_rows.sort(key=lambda r: (r.turnover is not None, r.turnover or 0, r.product_code))
    category_rows = sorted(
        (
            CategoryTurnover(
                category_id=cid,
                category_name=c["name"],
                products=c["products"],
                sales_cost=c["cogs"].quantize(Decimal("0.01")),
                average_inventory_value=(Decimal(c["inv"].numerator) / c["inv"].denominator).quantize(
                    Decimal("0.01")
                ),
                turnover=rules.turnover(c["cogs"], c["inv"]),
            )
            for cid, c in cats.items()
        ),
        key=lambda r: (r.turnover is not None, r.turnover or 0, r.category_name),
    )
    sku_turnover = (
        _sku_turnover(
            store=store,
            start=start,
            end=end,
            skus=sku_rows,
            sold=sold,
            now_on_hand=now_on_hand,
            daily=daily,
            products={r.product_id: r for r in product_rows},
            policy=policy,
            judged=history_from is None,
        )
        if skus
        else []
    )
    return TurnoverReport(
        start=start,
        end=end,
        period_days=period,
        products=product_rows,
        categories=category_rows,
        history_from=history_from,
        skus=sku_turnover,
    )


def sku_units_sold(
    *,
    product_units: int,
    sku_ids: list[int],
    paid: dict[int, int],
    shipped: dict[int, int],
    stocked: set[int],
) -> dict[int, int]:
    """INV-07: a product's units sold over the period (the product table's figure, from the
    daily sales statistics) split over its SKUs in whole units that sum to it: in proportion to
    the SKUs' units on orders paid in the period; when the product had no paid order lines (its
    sales were imported from the channels' statistics), to the SKUs' shipments in the stock
    ledger; with neither, evenly over the SKUs that had stock in the period (or all of them)."""
    weights = [paid.get(s, 0) for s in sku_ids]
    if not any(weights):
        weights = [shipped.get(s, 0) for s in sku_ids]
    if not any(weights):
        weights = [1 if s in stocked else 0 for s in sku_ids]
    return dict(zip(sku_ids, rules.split_units(product_units, weights), strict=True))


def _sku_turnover(
    *,
    store: Store,
    start: dt.date,
    end: dt.date,
    skus: list[tuple[Any, ...]],
    sold: dict[int, int],
    now_on_hand: dict[int, int],
    daily: dict[int, list[int]],
    products: dict[int, ProductTurnover],
    policy: rules.SlowMoverPolicy,
    judged: bool,
) -> list[SkuTurnover]:
    """INV-07 per SKU, from what the product figures already read (``skus``: the rows of
    ``turnover_report``'s SKU query) plus two queries: the SKUs' units on orders paid in the
    period (``orders.selectors.sku_units_paid``) and, per SKU, the shipments in the period and
    the first booking in the ledger (a SKU first stocked within the period is too young to
    judge, like a product listed within it)."""
    from django.utils import timezone

    from storeops.orders.selectors import sku_units_paid

    period = (end - start).days + 1
    since = timezone.make_aware(dt.datetime.combine(start, dt.time.min))
    until = timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min))
    paid = sku_units_paid(store, since=since, until=until)
    ledger = (
        StockMove.objects.filter(stock__warehouse__store=store)
        .values("stock__sku_id")
        .annotate(
            first=Min("created_at"),
            shipped=Coalesce(
                Sum(
                    "quantity",
                    filter=Q(kind=MoveKind.SHIPMENT, created_at__gte=since, created_at__lt=until),
                ),
                0,
            ),
        )
        .values_list("stock__sku_id", "first", "shipped")
    )
    first_booked: dict[int, dt.date] = {}
    shipped: dict[int, int] = {}
    for sku_id, first, qty in ledger:
        first_booked[sku_id] = timezone.localdate(first)
        shipped[sku_id] = qty
    by_product: dict[int, list[int]] = {}
    skus = sorted(skus, key=lambda row: (row[2], row[8]))  # by product, then SKU code
    for sku_id, _cost, pid, *_rest in skus:
        by_product.setdefault(pid, []).append(sku_id)
    units: dict[int, int] = {}
    for pid, sku_ids in by_product.items():
        units.update(
            sku_units_sold(
                product_units=sold.get(pid, 0),
                sku_ids=sku_ids,
                paid=paid,
                shipped=shipped,
                stocked={s for s in sku_ids if any(daily.get(s, ()))},
            )
        )
    rows: list[SkuTurnover] = []
    for sku_id, _cost, pid, p_code, title, _cat_id, cat_name, listed_on, code, attrs in skus:
        levels = daily.get(sku_id) or [0] * period
        avg = rules.average_inventory(levels)
        sold_units = units.get(sku_id, 0)
        if avg == 0 and sold_units == 0:
            continue
        on_hand = now_on_hand.get(sku_id, 0)
        first = first_booked.get(sku_id)
        new = (listed_on is not None and listed_on > start) or (first is not None and first > start)
        status = rules.slow_mover(on_hand=on_hand, units_sold=sold_units, period_days=period, policy=policy)
        product = products.get(pid)
        rows.append(
            SkuTurnover(
                sku_id=sku_id,
                sku_code=code,
                attributes=attrs or {},
                product_id=pid,
                product_code=p_code,
                title=title,
                category_name=cat_name,
                units_sold=sold_units,
                average_inventory=avg,
                on_hand=on_hand,
                turnover=rules.turnover(sold_units, avg),
                days_of_cover=status.days_of_cover,
                slow=status.slow and not new and judged,
                new=new,
                product_slow=product is not None and product.slow,
            )
        )
    rows.sort(key=lambda r: (r.turnover is not None, r.turnover or 0, r.sku_code))
    return rows


# ---- INV-02 stock cover before a big promotion -----------------------------------------------


@dataclass(frozen=True, slots=True)
class PromotionCoverRow:
    campaign_id: int
    campaign_theme: str
    starts_on: dt.date
    sku_id: int
    sku_code: str
    planned_qty: int | None  # from the campaign's stock plan; None: no plan (all active SKUs)
    baseline_daily: Fraction  # the SKU's usual daily sales
    uplift: Decimal  # the campaign's expected uplift, else the playbook's default
    cover: rules.PromotionCover
    uplift_from_playbook: bool = False  # the campaign gives no uplift of its own
    cover_days: int = 15  # the campaign's playbook's promo_stock_cover_days


def _sku_daily_sales(*, store: Store, today: dt.date, window: int) -> dict[int, Fraction]:
    """Average daily units per SKU over the window. Sales statistics are per product; each
    product's units are split over its active SKUs by their share of the product's shipments in
    the ledger over the same window, or evenly when none shipped."""
    from django.utils import timezone

    from storeops.catalog.selectors import sales_window

    start, end = today - dt.timedelta(days=window), today - dt.timedelta(days=1)
    units = {pid: s["units"] for pid, s in sales_window(store=store, start=start, end=end).items()}
    sku_model: Any = Stock._meta.get_field("sku").related_model
    skus = list(sku_model.objects.filter(store=store, is_active=True).values_list("pk", "product_id"))
    shipped = dict(
        StockMove.objects.filter(
            stock__warehouse__store=store,
            kind=MoveKind.SHIPMENT,
            created_at__gte=timezone.make_aware(dt.datetime.combine(start, dt.time.min)),
            created_at__lt=timezone.make_aware(dt.datetime.combine(today, dt.time.min)),
        )
        .values("stock__sku_id")
        .annotate(q=Sum("quantity"))
        .values_list("stock__sku_id", "q")
    )
    by_product: dict[int, list[int]] = {}
    for sku_id, pid in skus:
        by_product.setdefault(pid, []).append(sku_id)
    out: dict[int, Fraction] = {}
    for pid, sku_ids in by_product.items():
        daily = Fraction(units.get(pid, 0), window)
        total_shipped = sum(shipped.get(s, 0) for s in sku_ids)
        for sku_id in sku_ids:
            share = (
                Fraction(shipped.get(sku_id, 0), total_shipped)
                if total_shipped
                else Fraction(1, len(sku_ids))
            )
            out[sku_id] = daily * share
    return out


def promotion_cover(
    *,
    store: Store,
    today: dt.date,
    playbook: PlaybookSettings,
    playbook_for: Callable[[int | None], PlaybookSettings] | None = None,
) -> list[PromotionCoverRow]:
    """INV-02: for every open big promotion (not cancelled or ended) starting within
    ``promo_cover_lookahead_days``, each SKU of its stock plan — or, without a plan, every
    active SKU of the store — must have sellable available stock ≥ ``promo_stock_cover_days`` ×
    average daily sales (``sales_average_window_days``) × uplift. The uplift is the campaign's
    own ``expected_uplift``, else the playbook's ``promo_default_uplift``.

    ``playbook_for``: the playbook in force for a campaign's channel (``CheckContext.playbook_for``);
    a campaign's default uplift and cover days come from it, the rest from ``playbook``."""
    from storeops.marketing.selectors import big_promotions_open, campaign_uplift

    horizon = today + dt.timedelta(days=playbook.promo_cover_lookahead_days)
    campaigns = list(
        big_promotions_open(store=store)
        .filter(starts_on__gte=today, starts_on__lte=horizon)
        .prefetch_related("stock_lines")
        .order_by("starts_on", "pk")
    )
    if not campaigns:
        return []
    daily = _sku_daily_sales(store=store, today=today, window=playbook.sales_average_window_days)
    sku_model: Any = Stock._meta.get_field("sku").related_model
    codes = dict(sku_model.objects.filter(store=store).values_list("pk", "code"))
    active = sorted(daily)
    available = available_by_sku(sku_ids=list(codes))
    rows: list[PromotionCoverRow] = []
    for campaign in campaigns:
        book = playbook_for(campaign.channel_id) if playbook_for is not None else playbook
        uplift = campaign_uplift(campaign, book)
        plan = {line.sku_id: line.planned_qty for line in campaign.stock_lines.all()}
        rows.extend(
            PromotionCoverRow(
                campaign_id=campaign.pk,
                campaign_theme=campaign.theme,
                starts_on=campaign.starts_on,
                sku_id=sku_id,
                sku_code=codes.get(sku_id, str(sku_id)),
                planned_qty=plan.get(sku_id),
                baseline_daily=daily.get(sku_id, Fraction(0)),
                uplift=uplift,
                cover=rules.promotion_cover_ok(
                    max(0, available.get(sku_id, 0)),
                    daily.get(sku_id, Fraction(0)),
                    uplift,
                    days=book.promo_stock_cover_days,
                ),
                uplift_from_playbook=campaign.expected_uplift is None,
                cover_days=book.promo_stock_cover_days,
            )
            for sku_id in (sorted(plan) if plan else active)
        )
    return rows
