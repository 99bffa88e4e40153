"""Reads of orders for the console and the API: the filtered order list and its status
counts, the detail with everything it shows, the manual review queue (ORD-01) and the orders
near or past their ship-by time (ORD-03).

Every SOP number comes from the playbook of the order's channel (store ← channel layers), so
a channel with a shorter review window or an earlier ship-risk warning is judged by its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Max, Min, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, TruncHour
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from storeops.core.errors import NotFound, ValidationError
from storeops.fulfilment import selectors as fulfilment_selectors
from storeops.orders import payments, rules
from storeops.orders.models import (
    AccountFreeze,
    Allocation,
    CustomerNotification,
    HoldReasonChoice,
    MemberTier,
    NotificationChannel,
    Order,
    OrderEvent,
    OrderGroup,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentCallback,
    PaymentRefund,
    PaymentStatus,
    RefundStatus,
    Source,
)
from storeops.promotions import selectors as promotion_selectors
from storeops.stores.models import Channel, Store
from storeops.stores.playbook import PlaybookSettings
from storeops.stores.selectors import channel_list, playbooks_by_channel


def customer_phone(*, channel_id: int, number: str) -> str:
    """The phone of the order ``number`` on the channel ("" when StoreOps does not hold it)."""
    return (
        Order.objects.filter(channel_id=channel_id, number=number).values_list("phone", flat=True).first()
        or ""
    )


S = rules.Status

STATUS_CHOICES = OrderStatus.choices
HOLD_REASON_CHOICES = HoldReasonChoice.choices
SOURCE_CHOICES = Source.choices
MEMBER_TIER_CHOICES = MemberTier.choices  # the buyer's tier when the order was placed (MEM-01)
# order_list's ``sort``: "" newest first; "ship_by" earliest ship-by deadline first (the
# warehouse's picking order; orders without a deadline last)
SORT_SHIP_BY = "ship_by"
SORTS = ("", SORT_SHIP_BY)
SORT_CHOICES = [("", gettext_lazy("最新下单在前")), (SORT_SHIP_BY, gettext_lazy("最晚发货时间最早在前"))]
NOTIFY_CHANNEL_CHOICES = NotificationChannel.choices
SHIP_RISK_CHOICES = [
    (rules.ShipRisk.AT_RISK.value, gettext_lazy("即将超时")),
    (rules.ShipRisk.BREACHED.value, gettext_lazy("已超时")),
]
# Paid, not shipped: the orders a ship-by deadline applies to (ORD-03).
UNSHIPPED = tuple(sorted(rules.PAID_NOT_SHIPPED))
# Waiting for a review decision (ORD-01): paid and not yet auto-reviewed, or in the manual queue.
AWAITING_REVIEW = (S.PAID.value, S.ON_HOLD.value)


def status_label(status: str) -> str:
    return str(OrderStatus(status).label) if status in OrderStatus.values else status


def hold_reason_label(reason: str) -> str:
    return str(HoldReasonChoice(reason).label) if reason in HoldReasonChoice.values else reason


# --- playbook per channel ----------------------------------------------------------------------


def channel_playbooks(*, store: Store) -> dict[int | None, PlaybookSettings]:
    """The effective playbook of each of the store's channels (key ``None``: the store's own),
    in two queries whatever the number of channels."""
    books = playbooks_by_channel(store_id=store.pk)
    for channel_id in channel_list(store=store).values_list("pk", flat=True):
        books.setdefault(channel_id, books[None])
    return books


def _book(books: Mapping[int | None, PlaybookSettings], channel_id: int) -> PlaybookSettings:
    return books.get(channel_id) or books[None]


# --- list ----------------------------------------------------------------------------------------


def _day_start(value: dt.date | dt.datetime) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    return timezone.make_aware(dt.datetime.combine(value, dt.time.min))


def _until(value: dt.date | dt.datetime) -> dt.datetime:
    """Exclusive upper bound: a datetime as given, a date through the end of that day."""
    if isinstance(value, dt.datetime):
        return _day_start(value)
    return _day_start(value + dt.timedelta(days=1))


def _ship_risk_q(store: Store, risk: str, now: dt.datetime) -> Q:
    """Orders of the store whose ship-by risk is ``risk`` now (each channel's own warning)."""
    unshipped = Q(status__in=UNSHIPPED, ship_by__isnull=False)
    if risk == rules.ShipRisk.BREACHED:
        return unshipped & Q(ship_by__lte=now)
    books = channel_playbooks(store=store)
    windows = Q(pk__in=[])
    for channel_id, book in books.items():
        if channel_id is None:
            continue
        horizon = now + dt.timedelta(hours=book.ship_risk_hours_before)
        windows |= Q(channel_id=channel_id, ship_by__gt=now, ship_by__lte=horizon)
    return unshipped & windows


def _check_filters(
    *,
    status: str | None,
    hold_reason: str | None,
    ship_risk: str | None,
    source: str | None,
    member_tier: str | None = None,
    sort: str = "",
) -> None:
    errors: dict[str, str] = {}
    if status and status not in OrderStatus.values:
        errors["status"] = _("未知的订单状态")
    if hold_reason and hold_reason not in HoldReasonChoice.values:
        errors["hold_reason"] = _("未知的挂起原因")
    if ship_risk and ship_risk not in (rules.ShipRisk.AT_RISK, rules.ShipRisk.BREACHED):
        errors["ship_risk"] = _("只能是 at_risk 或 breached")
    if source and source not in Source.values:
        errors["source"] = _("未知的订单来源")
    if member_tier and member_tier not in MemberTier.values:
        errors["member_tier"] = _("未知的会员等级")
    if sort not in SORTS:
        errors["sort"] = _("只能为空或 ship_by")
    if errors:
        raise ValidationError(_("筛选条件有误"), fields=errors)


def order_list(
    store: Store,
    *,
    status: str | None = None,
    channel_id: int | None = None,
    q: str | None = None,
    created_from: dt.date | dt.datetime | None = None,
    created_to: dt.date | dt.datetime | None = None,
    paid_from: dt.date | dt.datetime | None = None,
    paid_to: dt.date | dt.datetime | None = None,
    hold_reason: str | None = None,
    ship_risk: str | None = None,
    source: str | None = None,
    is_big_promo: bool | None = None,
    member_tier: str | None = None,
    sort: str = "",
    now: dt.datetime | None = None,
) -> QuerySet[Order]:
    """The store's orders, newest first (``sort="ship_by"``: earliest ship-by deadline first,
    orders without one last), filtered.

    ``q`` matches the order number, the customer or the receiver (contains), the last
    digits of the phone, or exactly the client IP or the device id (RISK-01). ``*_from``
    bounds are inclusive, ``*_to`` bounds exclusive for a datetime and through the end of the
    day for a date. ``ship_risk`` is ``at_risk`` (within the channel's warning window before
    the ship-by time) or ``breached`` (past it), over paid orders not yet shipped.
    ``member_tier`` is the buyer's tier when the order was placed (MEM-01). Unknown filter
    values raise ValidationError."""
    _check_filters(
        status=status,
        hold_reason=hold_reason,
        ship_risk=ship_risk,
        source=source,
        member_tier=member_tier,
        sort=sort,
    )
    qs = Order.objects.filter(store=store).select_related("channel")
    exact = {
        "status": status,
        "channel_id": channel_id,
        "source": source,
        "is_big_promo": is_big_promo,
        "member_tier": member_tier,
    }
    qs = qs.filter(**{k: v for k, v in exact.items() if v is not None and v != ""})
    term = (q or "").strip()
    if term:
        match = Q(number__icontains=term) | Q(customer_ref__icontains=term) | Q(receiver__icontains=term)
        if len(term) == 10 and term.isalnum():  # a group-buy code (拼团): its orders
            match |= Q(group__code=term.upper())
        if term.isdigit() and len(term) >= 4:
            match |= Q(phone__endswith=term)
        ip = rules.ip_normal(term) if not term.isdigit() else None
        if ip is not None:  # the client IP (RISK-01): exact
            match |= Q(client_ip=ip)
        elif rules.device_id_valid(term):
            match |= Q(device_id=term)
        qs = qs.filter(match)
    for name, start, end in (("created_at", created_from, created_to), ("paid_at", paid_from, paid_to)):
        if start is not None:
            qs = qs.filter(**{f"{name}__gte": _day_start(start)})
        if end is not None:
            qs = qs.filter(**{f"{name}__lt": _until(end)})
    if hold_reason:
        # the reasons are a JSON list of plain ASCII codes: match the quoted code in its text
        qs = qs.filter(hold_reasons__icontains=f'"{hold_reason}"')
    if ship_risk:
        qs = qs.filter(_ship_risk_q(store, ship_risk, now or timezone.now()))
    if sort == SORT_SHIP_BY:
        return qs.order_by(F("ship_by").asc(nulls_last=True), "id")
    return qs.order_by("-created_at", "-id")


def order_status_counts(store: Store, **filters: Any) -> dict[str, int]:
    """Orders per status (every status present, zeros included) under the other filters:
    the counts on the list's status tabs."""
    filters.pop("status", None)
    rows = order_list(store, **filters).order_by().values("status").annotate(n=Count("id"))
    counts = dict.fromkeys(OrderStatus.values, 0)
    for row in rows:
        counts[row["status"]] = row["n"]
    return counts


# --- ship-by clock (ORD-03) ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ShipClock:
    """Where an order stands against its ship-by time."""

    deadline: dt.datetime | None
    risk: str  # "" (no deadline applies), ok / at_risk / breached
    minutes_left: int  # negative: overdue by that many minutes

    @property
    def countdown(self) -> str:
        """ "剩余 5小时12分" / "已超时 1小时3分" (empty when no deadline applies)."""
        if not self.risk:
            return ""
        m = abs(self.minutes_left)
        if m >= 24 * 60:
            text = _("%(d)d天%(h)d小时") % {"d": m // 1440, "h": m % 1440 // 60}
        elif m >= 60:
            text = _("%(h)d小时%(m)d分") % {"h": m // 60, "m": m % 60}
        else:
            text = _("%(m)d分") % {"m": m}
        return (_("已超时 %(t)s") if self.minutes_left < 0 else _("剩余 %(t)s")) % {"t": text}


def ship_clock(order: Order, *, now: dt.datetime, warn_hours_before: int) -> ShipClock:
    if order.ship_by is None or order.status not in UNSHIPPED:
        return ShipClock(order.ship_by, "", 0)
    risk = rules.ship_risk(deadline=order.ship_by, now=now, warn_hours_before=warn_hours_before)
    minutes = int((order.ship_by - now).total_seconds() // 60)  # floor: 30 s overdue is -1
    return ShipClock(order.ship_by, str(risk), minutes)


def ship_clocks(orders: Iterable[Order], *, store: Store, now: dt.datetime) -> dict[int, ShipClock]:
    """The ship-by clock of each order (by pk), with each channel's warning window."""
    books = channel_playbooks(store=store)
    return {
        o.pk: ship_clock(o, now=now, warn_hours_before=_book(books, o.channel_id).ship_risk_hours_before)
        for o in orders
    }


@dataclass(frozen=True, slots=True)
class ShipRiskRow:
    order: Order
    clock: ShipClock


@dataclass(slots=True)
class ChannelShipRisk:
    channel: Channel
    at_risk: int = 0
    breached: int = 0
    rows: list[ShipRiskRow] = field(default_factory=list)


def ship_risk_orders(store: Store, now: dt.datetime) -> QuerySet[Order]:
    """ORD-03: paid, unshipped orders at risk or past their ship-by time (each channel's own
    warning window), channel by channel (in name order), most urgent first: all of them, for a
    page at a time (:func:`ship_risk_rows`)."""
    qs = order_list(store).filter(
        _ship_risk_q(store, rules.ShipRisk.AT_RISK, now) | _ship_risk_q(store, rules.ShipRisk.BREACHED, now)
    )
    return qs.order_by("channel__name", "channel_id", "ship_by", "id")


def ship_risk_rows(store: Store, now: dt.datetime, orders: Iterable[Order]) -> list[ShipRiskRow]:
    """``orders`` (one page of :func:`ship_risk_orders`) with their ship-by clocks."""
    orders = list(orders)
    clocks = ship_clocks(orders, store=store, now=now)
    return [ShipRiskRow(o, clocks[o.pk]) for o in orders]


def ship_risk_counts(store: Store, now: dt.datetime) -> dict[int, tuple[int, int]]:
    """(at risk, breached) per channel id, over every order of :func:`ship_risk_orders`."""
    rows = (
        ship_risk_orders(store, now)
        .order_by()
        .values("channel_id")
        .annotate(n=Count("id"), breached=Count("id", filter=Q(ship_by__lte=now)))
    )
    return {r["channel_id"]: (r["n"] - r["breached"], r["breached"]) for r in rows}


def ship_risk_by_channel(
    rows: Iterable[ShipRiskRow], counts: Mapping[int, tuple[int, int]] | None = None
) -> list[ChannelShipRisk]:
    """The ship-risk rows grouped by channel, channels in name order. Each group's counts are
    those of ``counts`` (:func:`ship_risk_counts`: the whole list, when ``rows`` is one page of
    it), or of the rows themselves."""
    groups: dict[int, ChannelShipRisk] = {}
    for row in rows:
        group = groups.setdefault(row.order.channel_id, ChannelShipRisk(row.order.channel))
        group.rows.append(row)
        if counts is not None:
            continue
        if row.clock.risk == rules.ShipRisk.BREACHED:
            group.breached += 1
        else:
            group.at_risk += 1
    for channel_id, group in groups.items():
        if counts is not None:
            group.at_risk, group.breached = counts.get(channel_id, (0, 0))
    return sorted(groups.values(), key=lambda g: (g.channel.name, g.channel.pk))


# --- review queue (ORD-01) ------------------------------------------------------------------------


def review_queue(store: Store) -> QuerySet[Order]:
    """Orders waiting for a review decision: held for manual review, or paid and not yet
    reviewed. Oldest payment first (the one closest to breaching the review window)."""
    return (
        Order.objects.filter(store=store, status__in=AWAITING_REVIEW)
        .select_related("channel")
        .order_by("paid_at", "created_at", "id")
    )


@dataclass(frozen=True, slots=True)
class QueueRow:
    order: Order
    reasons: list[str]  # hold reason labels
    waited_minutes: int  # since payment
    target_minutes: int  # the channel's ORD-01 window

    @property
    def overdue(self) -> bool:
        return self.waited_minutes >= self.target_minutes


def review_queue_rows(
    store: Store, *, now: dt.datetime, orders: Iterable[Order] | None = None
) -> list[QueueRow]:
    """Rows of the review queue (``orders``: one page of :func:`review_queue`; None: all of
    it) with how long each order has waited against its channel's window."""
    books = channel_playbooks(store=store)
    rows = []
    for order in review_queue(store) if orders is None else orders:
        since = order.paid_at or order.created_at
        rows.append(
            QueueRow(
                order=order,
                reasons=[hold_reason_label(r) for r in order.hold_reasons or []],
                waited_minutes=max(0, int((now - since).total_seconds() // 60)),
                target_minutes=_book(books, order.channel_id).order_review_minutes,
            )
        )
    return rows


def review_queue_overdue(store: Store, *, now: dt.datetime) -> int:
    """How many orders of the whole review queue have waited their channel's window or longer
    (one count per channel with its own window, one for the rest)."""
    books = channel_playbooks(store=store)
    waiting = review_queue(store).annotate(since=Coalesce("paid_at", "created_at"))
    own = [c for c in books if c is not None]
    total = waiting.exclude(channel_id__in=own).filter(
        since__lte=now - dt.timedelta(minutes=books[None].order_review_minutes)
    )
    count = total.count()
    for channel_id in own:
        window = dt.timedelta(minutes=books[channel_id].order_review_minutes)
        count += waiting.filter(channel_id=channel_id, since__lte=now - window).count()
    return count


# --- detail -------------------------------------------------------------------------------------


def _detail_qs(store: Store) -> QuerySet[Order]:
    return (
        Order.objects.filter(store=store)
        .select_related("channel", "store")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=OrderLine.objects.order_by("position").prefetch_related(
                    Prefetch(
                        "allocations",
                        queryset=Allocation.objects.select_related("warehouse").order_by("pk"),
                    )
                ),
            ),
            "events",
            Prefetch(
                "payments",
                queryset=Payment.objects.prefetch_related(
                    Prefetch("callbacks", queryset=PaymentCallback.objects.order_by("received_at", "id"))
                ),
            ),
            "refunds",
            "notifications",
        )
    )


def order_detail(store: Store, number: str, *, channel_id: int | None = None) -> Order:
    """One order by number, with its lines (and their allocations), events, payments (and
    their callbacks), refunds and notifications loaded. Numbers are unique per channel: pass
    ``channel_id`` when two channels of the store use the same number."""
    qs = _detail_qs(store).filter(number=number)
    if channel_id is not None:
        qs = qs.filter(channel_id=channel_id)
    found = list(qs[:2])
    if not found:
        raise NotFound(_("订单不存在：%(n)s") % {"n": number})
    if len(found) > 1:
        raise ValidationError(
            _("多个渠道有同号订单 %(n)s，请指定渠道") % {"n": number},
            fields={"channel_id": _("请指定渠道")},
        )
    return found[0]


def order_ids_by_number(store: Store, numbers: Iterable[str]) -> dict[str, int]:
    """The id of each order number that names exactly one order of the store (one query);
    a number two channels share is left out, as is one with no order."""
    found: dict[str, list[int]] = {}
    for number, pk in Order.objects.filter(store=store, number__in=set(numbers)).values_list("number", "pk"):
        found.setdefault(number, []).append(pk)
    return {number: pks[0] for number, pks in found.items() if len(pks) == 1}


def order_get(store: Store, order_id: int) -> Order:
    """One order by id, loaded like :func:`order_detail`."""
    order = _detail_qs(store).filter(pk=order_id).first()
    if order is None:
        raise NotFound(_("订单不存在"))
    return order


@dataclass(slots=True)
class WarehouseAllocation:
    """The units of one order reserved or shipped from one warehouse."""

    warehouse: Any
    lines: list[Allocation] = field(default_factory=list)

    @property
    def units(self) -> int:
        return sum(a.quantity for a in self.lines if not a.released)

    @property
    def open_units(self) -> int:
        """Reserved and not yet shipped."""
        return sum(a.quantity for a in self.lines if not a.released and not a.shipped)


def allocations_by_warehouse(order: Order) -> list[WarehouseAllocation]:
    """The order's allocations grouped per warehouse (uses the prefetched lines)."""
    groups: dict[int, WarehouseAllocation] = {}
    for line in order.lines.all():
        for a in line.allocations.all():
            groups.setdefault(a.warehouse_id, WarehouseAllocation(a.warehouse)).lines.append(a)
    return sorted(groups.values(), key=lambda g: g.warehouse.code)


def ship_group(order: Order) -> list[Order]:
    """The orders that ship in one parcel with ``order`` (itself included; ORD-05): allocated
    orders of the store with the same merge key."""
    if not order.merge_key or order.status != S.ALLOCATED:
        return [order]
    return list(
        Order.objects.filter(store_id=order.store_id, status=S.ALLOCATED, merge_key=order.merge_key).order_by(
            "created_at", "pk"
        )
    )


def ship_warehouses(order: Order) -> list[Any]:
    """Warehouses holding units still to ship for ``order`` and the orders merged with it:
    one parcel (one tracking number) each."""
    group = ship_group(order)
    rows = (
        Allocation.objects.filter(line__order__in=group, released=False, shipped=False)
        .select_related("warehouse")
        .order_by("warehouse__code")
    )
    seen: dict[int, Any] = {}
    for a in rows:
        seen.setdefault(a.warehouse_id, a.warehouse)
    return list(seen.values())


def ship_parcels(order: Order) -> list[list[tuple[str, int]]]:
    """The parcels ``order`` leaves in, as ``(sku code, qty)`` lines: one per warehouse still
    to ship for it and the orders merged with it; before allocation, its own lines as one
    parcel. The input of the LOG-03 carrier suggestion."""
    legs: dict[int, dict[str, int]] = {}
    for warehouse_id, sku_code, qty in (
        Allocation.objects.filter(line__order__in=ship_group(order), released=False, shipped=False)
        .order_by("warehouse__code", "line__sku_code")
        .values_list("warehouse_id", "line__sku_code", "quantity")
    ):
        leg = legs.setdefault(warehouse_id, {})
        leg[sku_code] = leg.get(sku_code, 0) + qty
    if legs:
        return [sorted(leg.items()) for leg in legs.values()]
    return [[(line.sku_code, line.quantity) for line in order.lines.all()]]


def ship_carrier_suggestion(order: Order) -> fulfilment_selectors.CarrierSuggestion:
    """The LOG-03 carrier suggestion for shipping ``order`` (and the orders merged with it):
    a carrier that takes each of its parcels to its province, best by the statistics."""
    return fulfilment_selectors.carrier_suggest_for_parcels(
        store=order.store, province=order.province, parcels=ship_parcels(order)
    )


def pricing_explanation(order: Order, *, language: str) -> list[str]:
    """The order's pricing explanation lines in ``language`` ("en…" → English, else Chinese)."""
    key = "en" if (language or "").startswith("en") else "zh"
    items = (order.pricing or {}).get("explanation", [])
    out = [str(item.get(key) or item.get("zh") or "") for item in items if isinstance(item, dict)]
    return [line for line in out if line]


def applied_offers(order: Order, *, language: str) -> list[dict[str, str]]:
    """The offers and coupons applied when the order was priced, in ``language``."""
    key = "en" if (language or "").startswith("en") else "zh"
    return [
        {
            "text": str(a.get(key) or a.get("zh") or a.get("offer") or ""),
            "amount": str(a.get("amount", "")),
            "coupon": str(a.get("coupon") or ""),
        }
        for a in (order.pricing or {}).get("applied", [])
        if isinstance(a, dict)
    ]


EVENT_LABELS = {
    "placed": gettext_lazy("下单"),
    "imported": gettext_lazy("渠道导入"),  # a marketplace export's order (orders.imports)
    "stock_short": gettext_lazy("缺货未预占"),  # an imported order whose stock could not be held
    "payment_started": gettext_lazy("发起支付"),
    "payment_failed": gettext_lazy("支付失败"),
    "payment_amount_mismatch": gettext_lazy("支付金额不符"),
    "deposit_paid": gettext_lazy("定金已付"),
    "paid": gettext_lazy("付款成功"),
    "group_formed": gettext_lazy("拼团成团"),
    "payment_refunded_late": gettext_lazy("迟到/重复付款已退回"),
    "closed_unpaid": gettext_lazy("超时未付款关闭"),
    "closed_balance_unpaid": gettext_lazy("尾款未付关闭"),
    "deposit_kept": gettext_lazy("定金不退"),
    "cancelled": gettext_lazy("取消"),
    "reviewed_auto": gettext_lazy("自动审核通过"),
    "reviewed_manual": gettext_lazy("人工审核通过"),
    "held": gettext_lazy("挂起待人工审核"),
    "address_changed": gettext_lazy("修改收货地址"),
    "customer_notified": gettext_lazy("通知顾客"),
    "allocated": gettext_lazy("确认分仓"),
    "shipped": gettext_lazy("发货"),
    "delivered": gettext_lazy("签收"),
    "completed": gettext_lazy("完成"),
    "after_sale_opened": gettext_lazy("进入售后"),
    "after_sale_closed": gettext_lazy("售后结束"),
    "refunded": gettext_lazy("退款"),
    "refund_zero": gettext_lazy("零元退款（赠品等）"),
}


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: dt.datetime
    kind: str
    label: str
    from_label: str
    to_label: str
    note: str
    actor: str
    data: dict[str, Any]


def order_timeline(order: Order) -> list[TimelineEntry]:
    """The order's events, oldest first, with Chinese labels for the kind and the statuses."""
    return [
        TimelineEntry(
            at=e.created_at,
            kind=e.kind,
            label=str(EVENT_LABELS.get(e.kind, e.kind)),
            from_label=status_label(e.from_status) if e.from_status else "",
            to_label=status_label(e.to_status) if e.to_status else "",
            note=_event_note(e),
            actor=e.actor_label,
            data=dict(e.data or {}),
        )
        for e in order.events.all()
    ]


def _event_note(event: OrderEvent) -> str:
    """An event's note in words: a hold's details, the provider a payment was started with."""
    if event.kind == "held" and "reasons" in (event.data or {}):
        return hold_note_label(event.note)
    if event.kind == "payment_started" and event.note:
        return payments.provider_label(event.note)
    return event.note


_HOLD_DETAIL_LABELS = {
    "address.name": gettext_lazy("收货人为空"),
    "address.phone": gettext_lazy("电话有误"),
    "address.province": gettext_lazy("缺少省份"),
    "address.city": gettext_lazy("缺少城市"),
    "address.detail": gettext_lazy("详细地址过短"),
}


def hold_note_label(note: str) -> str:
    """The automatic review's hold details ("address.phone, fraud_score=70") in words."""
    parts = []
    for part in (p.strip() for p in note.split(",")):
        if part.startswith("fraud_score="):
            parts.append(_("风险分 %(s)s") % {"s": part.partition("=")[2]})
        else:
            parts.append(str(_HOLD_DETAIL_LABELS.get(part, part)))
    return "，".join(p for p in parts if p)


CALLBACK_RESULT_LABELS = {
    "received": pgettext_lazy("in progress", "处理中"),
    "applied": gettext_lazy("已处理"),
    "duplicate": gettext_lazy("重复通知"),
    "ignored": gettext_lazy("已忽略（乱序）"),
    "refunded_late": gettext_lazy("迟到付款已退回"),
    "amount_mismatch": gettext_lazy("金额不符"),
    "unknown_payment": gettext_lazy("未知支付单"),
    "rejected": gettext_lazy("签名无效，已拒绝"),
}
CALLBACK_OUTCOME_LABELS = {"succeeded": gettext_lazy("支付成功"), "failed": gettext_lazy("支付失败")}


def callback_label(callback: PaymentCallback) -> str:
    outcome = CALLBACK_OUTCOME_LABELS.get(callback.outcome, callback.outcome)
    result = CALLBACK_RESULT_LABELS.get(callback.result, callback.result)
    return f"{outcome} → {result}" if outcome else str(result)


def payment_provider_label(provider: str) -> str:
    """A payment's provider as people read it ("测试支付" for the built-in ``test`` gateway)."""
    return payments.provider_label(provider)


def notification_purpose_label(purpose: str) -> str:
    """ "exception:bad_address" → "异常通知：地址异常"; "manual" → "人工通知"."""
    if purpose.startswith("exception:"):
        return _("异常通知：%(r)s") % {"r": hold_reason_label(purpose.partition(":")[2])}
    if purpose == "manual":
        return _("人工通知")
    if purpose == "presale_balance":
        return _("尾款提醒")
    return purpose


# --- frozen accounts (RISK-01) ----------------------------------------------------------------


FREEZE_STATES = ("active", "lifted", "all")


def account_freezes(store: Store, *, state: str = "active", q: str = "") -> QuerySet[AccountFreeze]:
    """Account freezes of ``store``, newest first: ``state`` active (default), lifted or all;
    ``q`` matches the customer reference."""
    if state not in FREEZE_STATES:
        raise ValidationError(_("状态筛选无效"), fields={"state": _("只能是 active / lifted / all")})
    qs = AccountFreeze.objects.filter(store=store).select_related("order")
    if state == "active":
        qs = qs.filter(lifted_at__isnull=True)
    elif state == "lifted":
        qs = qs.filter(lifted_at__isnull=False)
    if q.strip():
        qs = qs.filter(customer_ref__icontains=q.strip())
    return qs.order_by("-frozen_at", "-id")


def account_freeze_get(store: Store, freeze_id: int) -> AccountFreeze:
    try:
        return AccountFreeze.objects.get(store=store, pk=freeze_id)
    except AccountFreeze.DoesNotExist as exc:
        raise NotFound(_("冻结记录不存在")) from exc


def active_freeze(store: Store, customer_ref: str) -> AccountFreeze | None:
    return AccountFreeze.objects.filter(
        store=store, customer_ref=customer_ref, lifted_at__isnull=True
    ).first()


# --- customers a system failure touched (RISK-04) ---------------------------------------------


def orders_in_window(
    store: Store, *, since: dt.datetime, until: dt.datetime, channel_ids: Iterable[int] = ()
) -> list[Order]:
    """Each customer's latest order placed in ``[since, until]`` (on ``channel_ids``, or all
    channels): one order per customer, through which they are told and compensated."""
    qs = Order.objects.filter(store=store, created_at__gte=since, created_at__lte=until)
    ids = list(channel_ids)
    if ids:
        qs = qs.filter(channel_id__in=ids)
    latest: dict[str, Order] = {}
    for order in qs.order_by("created_at", "id"):
        latest[order.customer_ref] = order
    return sorted(latest.values(), key=lambda o: (o.created_at, o.pk))


def customers_notified(store: Store, *, purpose: str) -> set[str]:
    """Customers who already got a notification with this ``purpose``."""
    return set(
        CustomerNotification.objects.filter(order__store=store, purpose=purpose).values_list(
            "order__customer_ref", flat=True
        )
    )


# --- goods taken for points (MEM-02) are not sales -------------------------------------------


def points_order_q(prefix: str = "") -> Q:
    """Matches the orders placed for goods taken with points (MEM-02,
    :mod:`storeops.orders.redemptions`): paid, with nothing paid. ``prefix`` reaches the order
    from another model (``"order__"`` for order lines). They are not sales: every figure of
    money taken, orders sold, buyers and purchase history leaves them out with
    ``.exclude(points_order_q())``; what counts goods leaving stock (units, costs, stock
    movements, shipping) keeps them."""
    return Q(**{f"{prefix}pricing__has_key": rules.POINTS_REDEMPTION})


def is_points_order(order: Order) -> bool:
    """Was this order placed for goods taken with points (MEM-02)?"""
    return isinstance(order.pricing, dict) and rules.POINTS_REDEMPTION in order.pricing


# --- sales for the team KPIs (TEAM-01) --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SalesSummary:
    gmv: Decimal  # what was paid for orders paid in the period (cancelled / refunded later included)
    orders: int
    buyers: int  # customers with a paid order in the period
    repeat_buyers: int  # of them, with two or more
    new_buyers: int  # of them, whose first paid order in this store is in the period
    refunded: Decimal = Decimal("0.00")  # refunded so far of the period's paid orders

    @property
    def net_gmv(self) -> Decimal:  # paid less refunded (STORE-07 launch actuals)
        return self.gmv - self.refunded


def sales_summary(
    store: Store, *, since: dt.datetime, until: dt.datetime, channel_id: int | None = None
) -> SalesSummary:
    """Orders paid in ``[since, until)`` (closed-unpaid orders never count; goods taken for
    points are not a sale: they count neither as orders nor buyers, nor as a first purchase).
    With ``channel_id``, that channel's orders only: a new buyer is then one whose first paid
    order on the channel is in the period."""
    sales = Order.objects.filter(store=store).exclude(points_order_q())
    if channel_id is not None:
        sales = sales.filter(channel_id=channel_id)
    paid = sales.filter(paid_at__gte=since, paid_at__lt=until)
    totals = paid.aggregate(gmv=Sum("paid_amount"), refunded=Sum("refunded_amount"), n=Count("id"))
    per_buyer = list(paid.values("customer_ref").annotate(n=Count("id")).values_list("customer_ref", "n"))
    firsts = (
        sales.filter(paid_at__isnull=False, customer_ref__in=[c for c, _n in per_buyer])
        .values("customer_ref")
        .annotate(first=Min("paid_at"))
        .filter(first__gte=since)
    )
    return SalesSummary(
        gmv=(totals["gmv"] or Decimal("0")).quantize(Decimal("0.01")),
        orders=totals["n"] or 0,
        buyers=len(per_buyer),
        repeat_buyers=sum(1 for _c, n in per_buyer if n >= 2),
        new_buyers=firsts.count(),
        refunded=(totals["refunded"] or Decimal("0")).quantize(Decimal("0.01")),
    )


def order_counts_by_channel(store: Store, *, since: dt.datetime, until: dt.datetime) -> dict[int, int]:
    """Orders placed in ``[since, until)`` per channel (DATA-03 volume anomalies). Goods taken
    for points are left out: they need no payment, so they would hide a payment fault's drop,
    and a points campaign would look like a brushing spike."""
    rows = (
        Order.objects.filter(store=store, created_at__gte=since, created_at__lt=until)
        .exclude(points_order_q())
        .values("channel_id")
        .annotate(n=Count("id"))
    )
    return {r["channel_id"]: r["n"] for r in rows}


@dataclass(frozen=True, slots=True)
class SkuSales:
    sku_id: int
    product_id: int
    product_code: str
    product_title: str
    units: int  # sold less refunded (gifts included: they cost money)
    revenue: Decimal  # paid less refunded


def sku_sales(store: Store, *, since: dt.datetime, until: dt.datetime) -> list[SkuSales]:
    """Net units and revenue per SKU of the orders paid in ``[since, until)`` (DATA-08). Goods
    taken for points are in: their units cost money and bring no revenue."""
    rows = (
        OrderLine.objects.filter(order__store=store, order__paid_at__gte=since, order__paid_at__lt=until)
        .values("sku_id", "sku__product_id", "sku__product__code", "sku__product__title")
        .annotate(
            q=Sum("quantity"), rq=Sum("refunded_qty"), paid=Sum("paid_total"), refunded=Sum("refunded_amount")
        )
    )
    return [
        SkuSales(
            sku_id=r["sku_id"],
            product_id=r["sku__product_id"],
            product_code=r["sku__product__code"] or "",
            product_title=r["sku__product__title"] or "",
            units=(r["q"] or 0) - (r["rq"] or 0),
            revenue=((r["paid"] or Decimal(0)) - (r["refunded"] or Decimal(0))).quantize(Decimal("0.01")),
        )
        for r in rows
    ]


def sku_units_paid(store: Store, *, since: dt.datetime, until: dt.datetime) -> dict[int, int]:
    """Units per SKU of the orders paid in ``[since, until)``, as the daily sales table counts
    them when an order is paid (refunds not taken off, gifts and goods for points in): the
    SKU-level counterpart of ``catalog.SalesDaily.units`` (INV-07 per SKU)."""
    rows = (
        OrderLine.objects.filter(order__store=store, order__paid_at__gte=since, order__paid_at__lt=until)
        .values("sku_id")
        .annotate(q=Sum("quantity"))
        .values_list("sku_id", "q")
    )
    return {sku_id: q or 0 for sku_id, q in rows}


@dataclass(frozen=True, slots=True)
class DaySales:
    placed: int  # orders placed that day
    paid: int  # of them, paid (payment conversion = paid ÷ placed)
    buyers: int  # customers with an order paid that day
    gmv: Decimal  # paid that day


def daily_sales(
    store: Store, *, start: dt.date, end: dt.date, channel_id: int | None = None
) -> dict[dt.date, DaySales]:
    """DATA-01: per local day of ``start..end`` (inclusive), orders placed and paid, buyers and
    GMV (one channel, or all). Goods taken for points are not sales: they would count as paid
    orders and buyers with nothing paid (diluting AOV, inflating payment conversion)."""
    tz = timezone.get_current_timezone()
    since = timezone.make_aware(dt.datetime.combine(start, dt.time()), tz)
    until = timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time()), tz)
    qs = Order.objects.filter(store=store).exclude(points_order_q())
    if channel_id is not None:
        qs = qs.filter(channel_id=channel_id)
    placed: dict[dt.date, list[bool]] = {}
    for created, paid_at in qs.filter(created_at__gte=since, created_at__lt=until).values_list(
        "created_at", "paid_at"
    ):
        placed.setdefault(timezone.localtime(created, tz).date(), []).append(paid_at is not None)
    buyers: dict[dt.date, set[str]] = {}
    gmv: dict[dt.date, Decimal] = {}
    for paid_at, customer, amount in qs.filter(paid_at__gte=since, paid_at__lt=until).values_list(
        "paid_at", "customer_ref", "paid_amount"
    ):
        day = timezone.localtime(paid_at, tz).date()
        buyers.setdefault(day, set()).add(customer)
        gmv[day] = gmv.get(day, Decimal(0)) + amount
    out = {}
    day = start
    while day <= end:
        flags = placed.get(day, [])
        out[day] = DaySales(
            placed=len(flags),
            paid=sum(flags),
            buyers=len(buyers.get(day, ())),
            gmv=gmv.get(day, Decimal(0)).quantize(Decimal("0.01")),
        )
        day += dt.timedelta(days=1)
    return out


# --- a campaign's hours (PROMO-06) -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HourSales:
    orders: int = 0  # orders placed in the hour
    gmv: Decimal = Decimal("0.00")  # paid in the hour
    payment_attempts: int = 0  # payments started in the hour that have an outcome (not pending)
    payment_failures: int = 0  # of them, failed or timed out


_PAYMENT_FAILED = (PaymentStatus.FAILED, PaymentStatus.TIMED_OUT)


def hourly_sales(
    store: Store | int, *, since: dt.datetime, until: dt.datetime, channel_id: int | None = None
) -> dict[dt.datetime, HourSales]:
    """PROMO-06: per local hour of ``[since, until)`` with something in it, the orders placed
    (one channel, or all), the GMV paid, and the payments started that have an outcome and how
    many of them failed or timed out (a payment still pending is counted once it settles; one
    the provider handed back counts as an attempt, not a failure). Goods taken for points are
    not sales, as in :func:`daily_sales`. Three grouped queries, whatever the number of hours."""
    tz = timezone.get_current_timezone()
    store_id = store if isinstance(store, int) else store.pk
    orders = Order.objects.filter(store_id=store_id).exclude(points_order_q())
    payments = Payment.objects.filter(order__store_id=store_id).exclude(status=PaymentStatus.PENDING)
    if channel_id is not None:
        orders = orders.filter(channel_id=channel_id)
        payments = payments.filter(order__channel_id=channel_id)
    placed = (
        orders.filter(created_at__gte=since, created_at__lt=until)
        .annotate(hour=TruncHour("created_at", tzinfo=tz))
        .values("hour")
        .annotate(n=Count("id"))
        .order_by()
    )
    paid = (
        orders.filter(paid_at__gte=since, paid_at__lt=until)
        .annotate(hour=TruncHour("paid_at", tzinfo=tz))
        .values("hour")
        .annotate(gmv=Sum("paid_amount"))
        .order_by()
    )
    tried = (
        payments.filter(created_at__gte=since, created_at__lt=until)
        .annotate(hour=TruncHour("created_at", tzinfo=tz))
        .values("hour")
        .annotate(n=Count("id"), failed=Count("id", filter=Q(status__in=_PAYMENT_FAILED)))
        .order_by()
    )
    figures: dict[dt.datetime, dict[str, Any]] = {}
    for r in placed:
        figures.setdefault(r["hour"], {})["orders"] = r["n"]
    for r in paid:
        figures.setdefault(r["hour"], {})["gmv"] = (r["gmv"] or Decimal(0)).quantize(Decimal("0.01"))
    for r in tried:
        row = figures.setdefault(r["hour"], {})
        row["payment_attempts"], row["payment_failures"] = r["n"], r["failed"]
    return {hour: HourSales(**values) for hour, values in figures.items()}


# --- paid orders and refunds of customers, for member points (MEM-02) --------------------------


@dataclass(frozen=True, slots=True)
class PaidOrder:
    id: int
    number: str
    channel_id: int
    customer_ref: str
    paid_amount: Decimal
    paid_at: dt.datetime


def paid_orders_of_customers(
    store: Store, *, customer_refs: Iterable[str], paid_since: dt.datetime | None = None
) -> list[PaidOrder]:
    """Orders of ``customer_refs`` that were paid (at or after ``paid_since``), oldest payment
    first. An order that was refunded or cancelled after payment is still listed: it was paid."""
    refs = list(customer_refs)
    if not refs:
        return []
    qs = Order.objects.filter(store=store, customer_ref__in=refs, paid_at__isnull=False, paid_amount__gt=0)
    if paid_since is not None:
        qs = qs.filter(paid_at__gte=paid_since)
    return [
        PaidOrder(id=r[0], number=r[1], channel_id=r[2], customer_ref=r[3], paid_amount=r[4], paid_at=r[5])
        for r in qs.order_by("paid_at", "id").values_list(
            "id", "number", "channel_id", "customer_ref", "paid_amount", "paid_at"
        )
    ]


def refunded_amount_of(*, store_id: Any, number: Any, customer_ref: Any) -> Subquery:
    """An expression for the amount refunded so far on the order ``number`` of ``store_id``
    placed by ``customer_ref`` (all may be ``OuterRef``s; numbers are unique per channel only,
    the customer tells two channels' orders of one number apart), NULL when there is no such
    order: for other apps' aggregates (outreach revenue net of refunds) without importing this
    app's models."""
    return Subquery(
        Order.objects.filter(store_id=store_id, number=number, customer_ref=customer_ref)
        .order_by("id")
        .values("refunded_amount")[:1]
    )


@dataclass(frozen=True, slots=True)
class OrderRefund:
    reference: str
    order_id: int
    order_number: str
    customer_ref: str
    order_paid: Decimal
    amount: Decimal
    created_at: dt.datetime


def refunds_of_customers(
    store: Store, *, customer_refs: Iterable[str], since: dt.datetime | None = None
) -> list[OrderRefund]:
    """Succeeded refunds of the orders of ``customer_refs``: for every order with a refund at
    or after ``since``, *all* its refunds (a share of a partial refund depends on the ones
    before it), oldest first per order."""
    refs = list(customer_refs)
    if not refs:
        return []
    qs = PaymentRefund.objects.filter(
        order__store=store, order__customer_ref__in=refs, status=RefundStatus.SUCCEEDED
    )
    if since is not None:
        order_ids = set(qs.filter(created_at__gte=since).values_list("order_id", flat=True))
        qs = qs.filter(order_id__in=order_ids)
    rows = qs.order_by("order_id", "created_at", "id").values_list(
        "reference",
        "order_id",
        "order__number",
        "order__customer_ref",
        "order__paid_amount",
        "amount",
        "created_at",
    )
    return [
        OrderRefund(
            reference=r[0],
            order_id=r[1],
            order_number=r[2],
            customer_ref=r[3],
            order_paid=r[4],
            amount=r[5],
            created_at=r[6],
        )
        for r in rows
    ]


def customer_has_paid_order(store: Store, customer_ref: str) -> bool:
    """Has this customer ever paid an order in the store (MEM-05: referral is for new customers)?
    Goods taken for points (MEM-02) are not a purchase: they do not count."""
    return (
        Order.objects.filter(store=store, customer_ref=customer_ref, paid_at__isnull=False)
        .exclude(points_order_q())
        .exists()
    )


# --- customers' paid history (MEM-04 segments, MEM-07 personas; read by analytics) ---------------


@dataclass(frozen=True, slots=True)
class CustomerOrderFacts:
    customer_ref: str
    first_paid_at: dt.datetime  # all history before ``until``
    last_paid_at: dt.datetime
    orders: int  # paid orders in the window, not refunded in full
    paid: Decimal  # paid in the window, less refunds
    list_total: Decimal  # list price of the window's paid orders
    discounted_paid: Decimal  # paid (less refunds) for the window's orders with a discount or coupon


def customer_order_facts(
    store: Store, *, since: dt.datetime, until: dt.datetime, customer_refs: Iterable[str] | None = None
) -> list[CustomerOrderFacts]:
    """Per customer with a paid order before ``until``: first and last payment (all history),
    and over ``[since, until)`` the orders kept, money kept, list value and money kept on
    discounted orders. One grouped query. Goods taken for points are not purchases: a customer
    who only took goods for points has no facts, and a redemption neither makes a sleeping
    customer recent nor counts as a full discount."""
    qs = Order.objects.filter(store=store, paid_at__isnull=False, paid_at__lt=until).exclude(points_order_q())
    if customer_refs is not None:
        qs = qs.filter(customer_ref__in=list(customer_refs))
    window = Q(paid_at__gte=since)
    kept = F("paid_amount") - F("refunded_amount")
    rows = (
        qs.values("customer_ref")
        .annotate(
            first=Min("paid_at"),
            last=Max("paid_at"),
            n=Count("id", filter=window & Q(paid_amount__gt=F("refunded_amount"))),
            paid=Sum(kept, filter=window),
            listed=Sum("list_total", filter=window),
            discounted=Sum(kept, filter=window & Q(discount_total__gt=0)),
        )
        .order_by("customer_ref")
    )
    zero = Decimal("0.00")
    return [
        CustomerOrderFacts(
            customer_ref=r["customer_ref"],
            first_paid_at=r["first"],
            last_paid_at=r["last"],
            orders=r["n"] or 0,
            paid=(r["paid"] or zero).quantize(zero),
            list_total=(r["listed"] or zero).quantize(zero),
            discounted_paid=(r["discounted"] or zero).quantize(zero),
        )
        for r in rows
    ]


def customer_category_spend(
    store: Store, *, since: dt.datetime, until: dt.datetime, customer_refs: Iterable[str] | None = None
) -> dict[str, dict[int, Decimal]]:
    """Money kept (paid less refunded) per customer and product category, orders paid in
    ``[since, until)`` (gifts and goods taken for points left out)."""
    qs = OrderLine.objects.filter(
        order__store=store, order__paid_at__gte=since, order__paid_at__lt=until, is_gift=False
    ).exclude(points_order_q("order__"))
    if customer_refs is not None:
        qs = qs.filter(order__customer_ref__in=list(customer_refs))
    rows = qs.values("order__customer_ref", "sku__product__category_id").annotate(
        paid=Sum("paid_total"), refunded=Sum("refunded_amount")
    )
    out: dict[str, dict[int, Decimal]] = {}
    for r in rows:
        amount = (r["paid"] or Decimal(0)) - (r["refunded"] or Decimal(0))
        out.setdefault(r["order__customer_ref"], {})[r["sku__product__category_id"]] = amount
    return out


def customer_regions(
    store: Store, *, until: dt.datetime, customer_refs: Iterable[str] | None = None
) -> dict[str, tuple[str, str]]:
    """Province and city of each customer's latest paid order before ``until`` — nothing finer
    (no name, phone or street: DATA-09 / RISK-05)."""
    qs = Order.objects.filter(store=store, paid_at__isnull=False, paid_at__lt=until)
    if customer_refs is not None:
        qs = qs.filter(customer_ref__in=list(customer_refs))
    out: dict[str, tuple[str, str]] = {}
    for ref, province, city in qs.order_by("paid_at", "id").values_list("customer_ref", "province", "city"):
        out[ref] = (province, city)
    return out


@dataclass(frozen=True, slots=True)
class UnshippedOrder:
    number: str
    channel_id: int
    customer_ref: str
    paid_at: dt.datetime
    status: str


def unshipped_orders_of(
    store: Store, *, customer_refs: Iterable[str], paid_before: dt.datetime, exclude_segment: str = ""
) -> list[UnshippedOrder]:
    """Orders of these customers paid before ``paid_before`` and not shipped yet, oldest first;
    ``exclude_segment``: not those placed by a customer of that segment (MEM-04: a high-value
    customer's order carries its own ship-by deadline, watched by ORD-03)."""
    qs = Order.objects.filter(
        store=store,
        customer_ref__in=list(customer_refs),
        status__in=UNSHIPPED,
        paid_at__lt=paid_before,
    )
    if exclude_segment:
        qs = qs.exclude(customer_segment=exclude_segment)
    rows = qs.order_by("paid_at", "id").values_list(
        "number", "channel_id", "customer_ref", "paid_at", "status"
    )
    return [UnshippedOrder(*r) for r in rows]


# --- baskets for recommendations (REC-01) -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class BasketLine:
    order_id: int
    customer_ref: str
    product_id: int
    paid_at: dt.datetime


def paid_basket_lines(store: Store, *, since: dt.datetime, until: dt.datetime) -> Iterable[BasketLine]:
    """The products of each order paid in ``[since, until)`` (one row per order line; gifts,
    cancelled and fully refunded orders left out): the baskets REC-01 learns "bought together"
    from. Streamed in order id order, so a large history is never held as model objects."""
    rows = (
        OrderLine.objects.filter(
            order__store=store, order__paid_at__gte=since, order__paid_at__lt=until, is_gift=False
        )
        .exclude(order__status__in=(S.CANCELLED.value, S.REFUNDED.value))
        .order_by("order_id", "position")
        .values_list("order_id", "order__customer_ref", "sku__product_id", "order__paid_at")
    )
    for order_id, customer, product_id, paid_at in rows.iterator(chunk_size=5000):
        yield BasketLine(order_id, customer, product_id, paid_at)


# --- outreach (MEM-06): how to reach a customer, and what they bought after a message --------


def customer_phones(store: Store, customer_refs: Iterable[str]) -> dict[str, str]:
    """Each customer's phone from their latest order in the store (customers with no order
    are absent)."""
    refs = list(set(customer_refs))
    phones: dict[str, str] = {}
    for start in range(0, len(refs), 500):
        rows = (
            Order.objects.filter(store=store, customer_ref__in=refs[start : start + 500])
            .exclude(phone="")
            .order_by("customer_ref", "created_at", "id")
            .values_list("customer_ref", "phone")
        )
        phones.update(rows)  # later orders overwrite earlier ones
    return phones


def group_summary(*, store: Store, group_id: int | None = None, code: str = "") -> dict[str, Any]:
    """A group-buy group (拼团) with its live orders counted: joined (paid or awaiting payment)
    and paid. By id, or by the code the storefront shares (any case)."""
    groups = OrderGroup.objects.filter(store=store)
    group = (
        groups.filter(pk=group_id).first()
        if group_id is not None
        else groups.filter(code=code.strip().upper()).first()
    )
    if group is None:
        raise NotFound(_("拼团不存在"))
    live = Order.objects.filter(group=group).exclude(status__in=[rules.Status.CANCELLED, rules.Status.CLOSED])
    counts = live.aggregate(joined=Count("pk"), paid=Count("pk", filter=Q(paid_at__isnull=False)))
    return {
        "code": group.code,
        "offer_id": f"of{group.offer_id}",
        "status": group.status,
        "status_label": group.get_status_display(),
        "size": group.size,
        "joined": counts["joined"],
        "paid": counts["paid"],
        "created_at": group.created_at,
        "expires_at": group.expires_at,
        "formed_at": group.formed_at,
        "failed_at": group.failed_at,
    }


def group_counts(*, store: Store, offer_id: int) -> dict[str, int]:
    """How many groups of a group-buy offer are open, formed and failed."""
    rows = OrderGroup.objects.filter(store=store, offer_id=offer_id).values("status").annotate(n=Count("pk"))
    counts = dict.fromkeys(("open", "formed", "failed"), 0)
    counts.update({row["status"]: row["n"] for row in rows})
    return counts


def presale_counts(*, store: Store, offer_id: int) -> dict[str, Any]:
    """What became of the deposits of a presale offer (定金膨胀, PROMO-01), over its orders
    whose deposit was paid: still waiting for the balance, balance paid, closed because the
    balance was not paid in its window (lapsed), cancelled before the balance. Money: the
    deposits collected, the balances collected, and the deposits kept (定金不退: the part of
    the lapsed and cancelled deposits not given back, from the orders' ``deposit_kept``
    events). The orders are found through the offer's uses (one per presale order). Two
    queries."""
    orders = Order.objects.filter(
        store=store,
        pk__in=promotion_selectors.offer_order_ids(offer_id=offer_id),
        deposit_paid__gt=0,
    )
    unpaid = Q(paid_amount=0)
    paid = Q(paid_amount__gt=0)
    got = orders.aggregate(
        waiting=Count("pk", filter=Q(status=OrderStatus.DEPOSIT_PAID)),
        balance_paid=Count("pk", filter=paid),
        lapsed=Count("pk", filter=unpaid & Q(status=OrderStatus.CLOSED)),
        cancelled=Count("pk", filter=unpaid & Q(status=OrderStatus.CANCELLED)),
        deposits=Sum("deposit_paid"),
        paid_payable=Sum("payable", filter=paid),
        paid_deposits=Sum("deposit_amount", filter=paid),
    )
    zero = Decimal("0.00")
    kept = OrderEvent.objects.filter(order__in=orders, kind="deposit_kept").values_list("data", flat=True)
    return {
        "waiting": got["waiting"],
        "balance_paid": got["balance_paid"],
        "lapsed": got["lapsed"],
        "cancelled": got["cancelled"],
        "deposits": got["deposits"] or zero,
        "balances": (got["paid_payable"] or zero) - (got["paid_deposits"] or zero),
        "kept": sum((Decimal(str(data["amount"])) for data in kept), zero),
    }


GROUP_STATUSES = ("open", "formed", "failed")


def groups_list(*, store: Store, status: str = "", q: str = "") -> QuerySet[OrderGroup]:
    """The store's group-buy groups, newest first (open ones by their deadline), with their
    live and paid orders counted; ``q`` matches the code or the leader's customer reference."""
    if status and status not in GROUP_STATUSES:
        raise ValidationError(_("未知的拼团状态"), fields={"status": _("未知的拼团状态")})
    live = ~Q(orders__status__in=[rules.Status.CANCELLED, rules.Status.CLOSED])
    qs = OrderGroup.objects.filter(store=store).select_related("offer")
    if status:
        qs = qs.filter(status=status)
    if q.strip():
        term = q.strip()
        qs = qs.filter(Q(code__iexact=term) | Q(leader_ref__icontains=term))
    qs = qs.annotate(
        joined=Count("orders", filter=live),
        paid=Count("orders", filter=live & Q(orders__paid_at__isnull=False)),
    )
    return qs.order_by("expires_at", "pk") if status == "open" else qs.order_by("-created_at", "-pk")
