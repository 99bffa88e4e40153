"""Every change to an order: placement, payment, review, allocation, shipping, delivery,
cancellation and refunds. Each is one transaction that moves the order through the state
machine of :mod:`storeops.orders.rules`, appends an order event and an audit entry.

Stock is reserved when the order is placed (下单减库存) in the warehouses the allocator
chooses (ORD-02); an unpaid order is closed after the playbook timeout and its stock and
coupons are given back (ORD-06). Payment callbacks are verified and idempotent; an order is
paid exactly once (a DB constraint backs this) and money paid to a closed order is refunded
automatically.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import itertools
import json
import logging
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from storeops.audit.services import audit_record
from storeops.catalog import selectors as catalog_selectors
from storeops.core.context import Actor
from storeops.core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationError
from storeops.core.idempotency import clean_key, key_reused, once
from storeops.core.money import Money
from storeops.core.numbers import create_numbered
from storeops.core.queries import batches, each
from storeops.core.text import clean_text
from storeops.fulfilment import selectors as fulfilment_selectors
from storeops.fulfilment import services as fulfilment_services
from storeops.inventory import allocation as alloc
from storeops.inventory import selectors as inventory_selectors
from storeops.inventory import services as inventory_services
from storeops.marketing import selectors as marketing_selectors
from storeops.orders import groups, rules
from storeops.orders import payments as pay
from storeops.orders.geo import province_centre
from storeops.orders.models import (
    AccountFreeze,
    Allocation,
    CustomerNotification,
    NotificationChannel,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentCallback,
    PaymentRefund,
    PaymentStage,
    PaymentStatus,
    RefundStatus,
    Source,
)
from storeops.orders.notify import configured_notifiers
from storeops.orders.selectors import points_order_q
from storeops.promotions import flash_counters
from storeops.promotions import services as promotion_services
from storeops.promotions.services import CartItem, Shopper
from storeops.stores.models import Channel, Store
from storeops.stores.playbook import PlaybookSettings
from storeops.stores.selectors import channel_list, playbook_get, playbook_get_by_id

if TYPE_CHECKING:
    from storeops.catalog.models import Sku
    from storeops.inventory.models import Warehouse

log = logging.getLogger("storeops.orders")
S = rules.Status

# Orders per query in the sweeps below: each sweep walks *every* order it is due for, this many
# at a time (memory stays bounded; nothing is left for a later run that might never reach it).
BATCH_SIZE = 500


# --- shared helpers -----------------------------------------------------------------------------


def _event(order: Order, actor: Actor, kind: str, **fields: Any) -> None:
    """Write one order event (the fields of :func:`_event_row`)."""
    _event_row(order, actor, kind, **fields).save(force_insert=True)


def _event_row(
    order: Order,
    actor: Actor,
    kind: str,
    *,
    src: str = "",
    dst: str = "",
    note: str = "",
    at: dt.datetime | None = None,
    **data: Any,
) -> OrderEvent:
    """The :func:`_event` row, not saved yet (to write several in one INSERT)."""
    return OrderEvent(
        order=order,
        kind=kind,
        from_status=src,
        to_status=dst,
        note=note[:300],
        data={k: (str(v) if isinstance(v, Decimal | dt.datetime) else v) for k, v in data.items()},
        actor_label=actor.label[:150],
        created_at=at or timezone.now(),
    )


def _transition(
    order: Order,
    target: rules.Status,
    *,
    actor: Actor,
    kind: str,
    note: str = "",
    data: Mapping[str, Any] | None = None,
    at: dt.datetime | None = None,
    locked: bool = False,
    **fields: Any,
) -> Order:
    """Move ``order`` to ``target`` if the state machine allows it and nobody changed the order
    since it was read (a conditional UPDATE on status and version); record event and audit.

    ``locked``: ``order`` was read with :func:`_locked` in the current transaction, so the row
    is exactly the instance plus this UPDATE: the instance is brought up to date in memory
    instead of being read again (expressions among ``fields`` are still re-read)."""
    source = rules.Status(order.status)
    _require(order, target)
    stamp = timezone.now()
    changed = Order.objects.filter(pk=order.pk, status=source, version=order.version).update(
        status=target, version=F("version") + 1, updated_at=stamp, **fields
    )
    if not changed:
        raise Conflict(
            _("订单 %(n)s 已被其他操作修改，请刷新后重试") % {"n": order.number}, code="stale_order"
        )
    if locked:
        computed = [k for k, v in fields.items() if hasattr(v, "resolve_expression")]
        order.status, order.version, order.updated_at = target, order.version + 1, stamp
        for k, v in fields.items():
            if k not in computed:
                setattr(order, k, v)
        if computed:
            order.refresh_from_db(fields=computed)
    else:
        order.refresh_from_db()
    _event(order, actor, kind, src=source, dst=target, note=note, at=at, **dict(data or {}))
    audit_record(
        actor=actor,
        action=f"order.{kind}",
        obj=order,
        store_id=order.store_id,
        before={"status": str(source)},
        after={
            "status": str(target),
            **{k: v for k, v in fields.items() if not hasattr(v, "resolve_expression")},
        },
        note=note,
    )
    return order


def _require(order: Order, target: rules.Status) -> None:
    """Refuse (InvalidTransition) when the state machine does not allow ``order`` → ``target``."""
    source = rules.Status(order.status)
    if not rules.can_transition(source, target):
        raise InvalidTransition(
            _("订单 %(n)s 当前状态为“%(s)s”，不能变为“%(t)s”")
            % {"n": order.number, "s": OrderStatus(source).label, "t": OrderStatus(target).label}
        )


def _locked(order: Order | int) -> Order:
    """The order row (``order`` or its id), locked for the rest of the transaction (PostgreSQL;
    SQLite serialises writers). The store and channel rows ``order`` already carries (read in
    this request) come along instead of being read again."""
    if isinstance(order, int):
        return Order.objects.select_for_update().get(pk=order)
    fresh = Order.objects.select_for_update().get(pk=order.pk)
    for name in ("store", "channel"):
        related = order._state.fields_cache.get(name)
        if related is not None and related.pk == getattr(fresh, f"{name}_id"):
            fresh._state.fields_cache[name] = related
    return fresh


def _playbook(order: Order) -> PlaybookSettings:
    return playbook_get_by_id(store_id=order.store_id, channel_id=order.channel_id)


def _due_by_channel(
    orders: QuerySet[Order],
    *,
    field: str,
    wait: Callable[[PlaybookSettings], dt.timedelta],
    now: dt.datetime,
    store: Store | None = None,
) -> Iterator[Order]:
    """Every order of ``orders`` whose ``field`` lies ``wait`` or longer before ``now``, where
    ``wait`` is read from the playbook of the order's channel (store ← channel). The cutoff is
    in the query, one per channel, so no channel's orders crowd out another's; read in batches."""
    for channel in channel_list(store=store):
        cutoff = now - wait(playbook_get(store=channel.store, channel=channel))
        yield from each(orders.filter(channel=channel, **{f"{field}__lte": cutoff}), size=BATCH_SIZE)


# --- placement (ORD-06, ORD-02) -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AddressIn:
    receiver: str
    phone: str
    province: str
    city: str = ""
    district: str = ""
    address: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None

    def as_rule(self) -> rules.Address:
        return rules.Address(self.receiver, self.phone, self.province, self.city, self.district, self.address)

    def order_fields(self) -> dict[str, Any]:
        """The order's delivery columns (texts stripped, coordinates as given)."""
        return {
            "receiver": self.receiver.strip(),
            "phone": self.phone.strip(),
            "province": self.province.strip(),
            "city": self.city.strip(),
            "district": self.district.strip(),
            "address": self.address.strip(),
            "latitude": self.latitude,
            "longitude": self.longitude,
        }


def _address_errors(address: AddressIn) -> dict[str, str]:
    errors: dict[str, str] = {}
    for name in ("receiver", "phone", "province", "address"):
        if not str(getattr(address, name) or "").strip():
            errors[f"address.{name}"] = _("必填")
    for name, limit in (("latitude", 90), ("longitude", 180)):
        value = getattr(address, name)
        if value is None:
            continue
        try:
            ok = Decimal(value).is_finite() and -limit <= Decimal(value) <= limit
        except (InvalidOperation, TypeError, ValueError):
            ok = False
        if not ok:
            errors[f"address.{name}"] = _("坐标应在 -%(n)s 到 %(n)s 之间") % {"n": limit}
    return errors


def _fingerprint(
    lines: Sequence[CartItem], address: AddressIn, coupon_codes: Sequence[str], customer: str
) -> str:
    body = json.dumps(
        {
            "lines": sorted((i.sku_code, i.quantity) for i in lines),
            "address": [address.receiver, address.phone, address.province, address.city, address.address],
            "coupons": sorted(coupon_codes),
            "customer": customer,
        },
        ensure_ascii=False,
    )
    return hashlib.sha256(body.encode()).hexdigest()[:32]


def _allocation_plan(
    *,
    store: Store,
    playbook: PlaybookSettings,
    address: AddressIn,
    need: Mapping[int, int],
    skus: Mapping[int, Sku],
) -> list[tuple[Warehouse, int, int]]:
    """ORD-02: (warehouse, sku id, units) legs for ``need``; raises InsufficientStock."""
    stock, warehouses = inventory_selectors.available_by_warehouse_with_rows(store=store, sku_ids=list(need))
    base = Money(playbook.shipping_base_cost, store.currency)
    per_km = Money(playbook.shipping_cost_per_km, store.currency)

    def point(lat: Decimal | None, lon: Decimal | None, region: str) -> alloc.GeoPoint:
        if lat is not None and lon is not None:
            return alloc.GeoPoint(float(lat), float(lon))
        return alloc.GeoPoint(*province_centre(region))

    plan = alloc.allocate(
        [alloc.OrderLine(str(sku_id), qty) for sku_id, qty in need.items()],
        alloc.Destination(point(address.latitude, address.longitude, address.province), address.province),
        [
            alloc.Warehouse(
                code=str(w.pk),
                location=point(w.latitude, w.longitude, w.region),
                region=w.region,
                stock={str(k): v for k, v in stock[w.pk].items()},
                base_cost=base,
                per_km_cost=per_km,
            )
            for w in warehouses.values()
        ],
        weights=alloc.AllocationWeights(
            distance=playbook.allocation_weight_distance,
            cost=playbook.allocation_weight_cost,
            split_penalty=playbook.allocation_split_penalty,
        ),
        currency=store.currency,
    )
    if not plan.filled:
        short = {skus[int(line.sku)].code: line.quantity for line in plan.shortfall}
        raise inventory_services.InsufficientStock(
            _("库存不足：%(s)s") % {"s": "，".join(f"{c} 缺 {q} 件" for c, q in short.items())},
            fields={f"lines.{code}": _("库存不足") for code in short},
        )
    # legs in (warehouse id, SKU id) order, as numbers: every reservation takes stock rows in this
    # order (inventory.services.stock_lock_for_reservations too), so two cannot deadlock
    legs = sorted((int(wh), int(sku), qty) for (wh, sku), qty in plan.allocated().items())
    return [(warehouses[wh], sku, qty) for wh, sku, qty in legs]


def is_new_customer(store: Store, customer_ref: str) -> bool:
    """Is the customer new to the store (ORD-01 fraud score, AS-03 priority)? Yes while they
    have no order that is still alive: cancelled and closed-unpaid orders do not count, nor
    goods taken for points (MEM-02), which are not a purchase."""
    return (
        not Order.objects.filter(store=store, customer_ref=customer_ref)
        .exclude(status__in=[S.CLOSED, S.CANCELLED])
        .exclude(points_order_q())
        .exists()
    )


def order_place(
    *,
    actor: Actor,
    store: Store,
    channel: Channel,
    customer: Shopper,
    lines: Sequence[CartItem],
    address: AddressIn,
    coupon_codes: Sequence[str] = (),
    idempotency_key: str | None = None,
    buyer_note: str = "",
    is_big_promo: bool | None = None,
    now: dt.datetime | None = None,
    payment_with: tuple[str, Any] | None = None,
    client_ip: str | None = None,
    device_id: str = "",
    group: groups.GroupRequest | None = None,
    customer_segment: str = "",
) -> tuple[Order, bool]:
    """Place an order: price it with the promotions engine, reserve its stock in the chosen
    warehouses, redeem its coupons — all or nothing. ``group`` starts or joins a group of a
    group-buy offer (拼团, see :mod:`storeops.orders.groups`). Returns ``(order, created)``: the same
    idempotency key returns the order it created the first time (``created=False``).
    ``payment_with`` (provider, gateway): see :func:`checkout_place`. ``client_ip`` and
    ``device_id`` are recorded on the order for the brushing review (RISK-01). ``is_big_promo``
    None (the checkout): a big-promotion order when a big promotion of the store is live for
    the channel now (AS-02's 48 h refund deadline; :func:`marketing.selectors.big_promo_live`).
    ``customer_segment`` is the buyer's lifecycle segment as their member row has it (MEM-04,
    read by the caller with the tier): recorded on the order, a high-value customer's order
    ships sooner."""
    now = now or timezone.now()
    if channel.store_id != store.pk:
        raise ValidationError(_("渠道不属于该店铺"), fields={"channel": _("渠道不属于该店铺")})
    if not (customer.customer_ref or "").strip():
        raise ValidationError(_("缺少顾客标识"), fields={"customer": _("必填")})
    client_ip, device_id = _client_fields(client_ip, device_id)
    key = clean_key(idempotency_key)
    fingerprint = _fingerprint(lines, address, coupon_codes, customer.customer_ref or "")

    def first() -> Order | None:
        existing = Order.objects.filter(store=store, idempotency_key=key).first()
        return None if existing is None else _replayed(existing, fingerprint)

    def place() -> Order:
        if _frozen(store.pk, customer.customer_ref or ""):
            raise Conflict(_("该顾客账号已被冻结（确认刷单），不能下单"), code="account_frozen")
        errors = _address_errors(address)
        if errors:
            raise ValidationError(_("收货信息不完整"), fields=errors)
        return _place(
            actor=actor,
            store=store,
            channel=channel,
            customer=customer,
            lines=lines,
            address=address,
            coupon_codes=coupon_codes,
            key=key,
            fingerprint=fingerprint,
            buyer_note=buyer_note,
            is_big_promo=(
                marketing_selectors.big_promo_live(store=store, channel=channel, at=now)
                if is_big_promo is None
                else is_big_promo
            ),
            now=now,
            payment_with=payment_with,
            client_ip=client_ip,
            device_id=device_id,
            group=group,
            customer_segment=customer_segment,
        )

    return once(key=key, find=first, run=place)


def _client_fields(client_ip: str | None, device_id: str) -> tuple[str | None, str]:
    """RISK-01: the order's client IP and device id, checked (no query): a bad one is a 422."""
    ip = None
    if client_ip:
        ip = rules.ip_normal(client_ip)
        if ip is None:
            raise ValidationError(_("下单IP无效"), fields={"client_ip": _("不是有效的IP地址")})
    device = (device_id or "").strip()
    if device and not rules.device_id_valid(device):
        message = _("设备标识无效：最多%(n)s个字符，只能包含字母、数字和 . _ : -") % {
            "n": rules.DEVICE_ID_MAX
        }
        raise ValidationError(message, fields={"device_id": message})
    return ip, device


def _replayed(order: Order, fingerprint: str) -> Order:
    if order.pricing.get("fingerprint") != fingerprint:
        raise key_reused(_("该幂等键已用于另一笔不同内容的订单（%(n)s）") % {"n": order.number})
    return order


def _place(
    *,
    actor: Actor,
    store: Store,
    channel: Channel,
    customer: Shopper,
    lines: Sequence[CartItem],
    address: AddressIn,
    coupon_codes: Sequence[str],
    key: str | None,
    fingerprint: str,
    buyer_note: str,
    is_big_promo: bool,
    now: dt.datetime,
    payment_with: tuple[str, Any] | None = None,
    client_ip: str | None = None,
    device_id: str = "",
    group: groups.GroupRequest | None = None,
    customer_segment: str = "",
) -> Order:
    playbook = playbook_get(store=store, channel=channel)
    choice, customer = groups.group_choose(store=store, customer=customer, request=group, now=now)
    # new to the store by StoreOps' own orders, whatever the caller says (new-user-only offers)
    customer = dataclasses.replace(customer, is_new=is_new_customer(store, customer.customer_ref))
    priced = promotion_services.quote_cart(
        store=store,
        channel=channel,
        lines=lines,
        customer=customer,
        coupon_codes=coupon_codes,
        now=now,
        playbook=playbook,
    )
    # a flash sale's units come from its counter first (Redis, when configured): a sold-out
    # sale refuses here, before any write; units go back if what follows fails
    with flash_counters.flash_hold(priced):
        quote = priced.quote
        sku_rows: dict[int, Sku] = {s.id: s.row for s in priced.skus}  # read by the quote: not again
        need, gift_skus = _units_needed(store, quote, priced.skus)
        sku_rows.update(gift_skus)
        legs = _allocation_plan(store=store, playbook=playbook, address=address, need=need, skus=sku_rows)
        group_row = (
            groups.group_for_order(
                choice, quote, store=store, leader_ref=customer.customer_ref or "", now=now
            )
            if choice is not None
            else None
        )
        order = create_numbered(
            Order,
            now,
            store=store,
            channel=channel,
            source=Source.STOREFRONT,
            idempotency_key=key,
            customer_ref=customer.customer_ref,
            is_new_customer=customer.is_new,
            member_tier=rules.member_tier_snapshot(customer.tier),  # MEM-01: read when paid
            customer_segment=rules.customer_segment_snapshot(customer_segment),  # MEM-04: likewise
            **address.order_fields(),
            currency=quote.currency,
            list_total=quote.list_total.amount,
            discount_total=quote.savings.amount,
            payable=quote.payable.amount,
            **(_presale_terms(quote) or {}),
            coupon_codes=list(coupon_codes),
            pricing={
                "fingerprint": fingerprint,
                "applied": [
                    {
                        "offer": a.offer_id,
                        "kind": str(a.kind),
                        "amount": str(a.amount.amount),
                        "zh": a.zh,
                        "en": a.en,
                        "coupon": a.coupon_code,
                    }
                    for a in quote.applied
                ],
                "explanation": [{"zh": x.zh, "en": x.en} for x in quote.explanation],
            },
            is_big_promo=is_big_promo,
            buyer_note=buyer_note[:300],
            client_ip=client_ip,
            device_id=device_id,
            group=group_row,
            created_at=now,
        )
        line_rows: dict[int, OrderLine] = {}
        created_lines: list[OrderLine] = []
        position = 0
        for quoted, sku in zip(quote.lines, priced.skus, strict=True):
            position += 1
            row = OrderLine(
                order=order,
                position=position,
                sku_id=sku.id,
                sku_code=sku.code,
                title=sku.title[:200],
                quantity=quoted.quantity,
                unit_price=sku.price,
                list_total=quoted.list_total.amount,
                discount=(quoted.list_total - quoted.final_total).amount,
                paid_total=quoted.final_total.amount,
            )
            created_lines.append(row)
            line_rows.setdefault(sku.id, row)
        for gift in quote.gifts:
            if gift.sku_id.isdigit() and int(gift.sku_id) in gift_skus:
                g = gift_skus[int(gift.sku_id)]
                position += 1
                row = OrderLine(
                    order=order,
                    position=position,
                    sku=g,
                    sku_code=g.code,
                    title=_("赠品：%(c)s") % {"c": g.code},
                    quantity=gift.quantity,
                    unit_price=Decimal("0"),
                    list_total=Decimal("0"),
                    paid_total=Decimal("0"),
                    is_gift=True,
                )
                created_lines.append(row)
                line_rows.setdefault(g.pk, row)
        OrderLine.objects.bulk_create(created_lines)  # one INSERT; the ids come back (RETURNING)
        # reserve: one conditional UPDATE per (warehouse, sku) leg; any shortfall rolls back everything
        remaining = dict(need)
        taken: dict[int, int] = {}  # units allocated so far per line (the lines are new: none before)
        allocations: list[Allocation] = []
        for warehouse, sku_id, qty in legs:
            inventory_services.stock_reserve(
                actor=actor,
                sku=sku_rows[sku_id],
                warehouse=warehouse,
                quantity=qty,
                reference=f"order:{order.number}",
            )
            allocations += _allocation_parts(
                [line for line in created_lines if line.sku_id == sku_id], warehouse, qty, taken
            )
            remaining[sku_id] -= qty
        assert not any(remaining.values()), remaining
        Allocation.objects.bulk_create(allocations)
        for code in coupon_codes:
            promotion_services.coupon_redeem(
                actor=actor,
                coupon_code=code,
                customer=customer.customer_ref or "",
                order_ref=order.number,
                now=now,
            )
        promotion_services.offer_uses_record(
            priced=priced,
            customer_ref=customer.customer_ref or "",
            order_id=order.pk,
            order_number=order.number,
            now=now,
            presale=order.deposit_amount > 0,
        )
        placed = _event_row(
            order, actor, "placed", dst=S.CREATED, at=now, payable=order.payable, lines=len(quote.lines)
        )
        audit_record(
            actor=actor,
            action="order.place",
            obj=order,
            store_id=store.pk,
            after={"payable": order.payable, "status": order.status},
        )
        if order.payable > 0 and payment_with is not None:
            # the order is new in this transaction: nobody else sees it yet. Its "placed" event is
            # written with the payment's "payment_started" in one INSERT (in that order)
            order._storeops_payment = _payment_open(  # type: ignore[attr-defined]
                order,
                actor=actor,
                provider=payment_with[0],
                gateway=payment_with[1],
                minutes=playbook.payment_pending_minutes,
                now=now,
                events_before=[placed],
            )
        else:
            placed.save(force_insert=True)
        if order.payable == 0:
            order = _mark_paid(order, actor=actor, now=now, payment=None)
        else:
            order._storeops_playbook = playbook  # type: ignore[attr-defined]  # for payment_start, this request
        return order


def _units_needed(store: Store, quote: Any, skus: Sequence[Any]) -> tuple[dict[int, int], dict[int, Sku]]:
    """Units to reserve per SKU (the quote's lines and its gifts), and the gifts' SKU rows."""
    need: dict[int, int] = {}
    for quoted, sku in zip(quote.lines, skus, strict=True):
        need[sku.id] = need.get(sku.id, 0) + quoted.quantity
    gift_ids = [int(g.sku_id) for g in quote.gifts if g.sku_id.isdigit()]
    gift_skus = catalog_selectors.skus_by_id(store=store, ids=gift_ids) if gift_ids else {}
    for gift in quote.gifts:
        if gift.sku_id.isdigit() and int(gift.sku_id) in gift_skus:
            need[int(gift.sku_id)] = need.get(int(gift.sku_id), 0) + gift.quantity
    return need, gift_skus


def _presale_terms(quote: Any) -> dict[str, Any] | None:
    """The deposit and balance window of a presale order (定金膨胀, PROMO-01) as Order fields,
    or ``None`` for an order paid at once (no presale, or a deposit that leaves nothing to pay
    later). One presale per order, and nothing else in it but gifts: the goods wait for the
    balance, so a regular item would wait with them."""
    presale_lines = [line for line in quote.lines if line.presale is not None]
    if not presale_lines:
        return None
    deposit = quote.deposit_total.amount
    if deposit <= 0 or deposit >= quote.payable.amount:
        return None
    # one presale offer (its window with it): the offer's page counts the order's deposit
    offers = {line.presale_offer for line in presale_lines}
    if len(presale_lines) != len(quote.lines) or len(offers) != 1:
        raise ValidationError(
            _("预售商品须单独下单：一个订单只能包含同一预售活动的商品"),
            fields={"lines": _("预售商品须单独下单")},
            code="presale_mixed_cart",
        )
    terms = presale_lines[0].presale
    return {
        "deposit_amount": deposit,
        "balance_starts": terms.balance_starts,
        "balance_ends": terms.balance_ends,
    }


def _allocation_parts(
    lines: Sequence[OrderLine], warehouse: Warehouse, qty: int, taken: dict[int, int]
) -> list[Allocation]:
    """:func:`_allocate_to_lines` for lines created in this transaction, from memory: ``taken``
    holds the units already allocated per line id (updated here); the rows are not saved."""
    parts: list[Allocation] = []
    for line in sorted(lines, key=lambda line: line.position):
        room = line.quantity - taken.get(line.pk, 0)
        if room <= 0:
            continue
        part = min(room, qty)
        parts.append(Allocation(line=line, warehouse=warehouse, quantity=part))
        taken[line.pk] = taken.get(line.pk, 0) + part
        qty -= part
        if qty == 0:
            break
    return parts


def _allocate_to_lines(order: Order, sku_id: int, warehouse: Warehouse, qty: int) -> None:
    """Spread ``qty`` reserved units of a SKU in ``warehouse`` over the order's lines of it."""
    for line in order.lines.filter(sku_id=sku_id).order_by("position"):
        taken = sum(a.quantity for a in line.allocations.filter(released=False))
        room = line.quantity - taken
        if room <= 0:
            continue
        part = min(room, qty)
        Allocation.objects.create(line=line, warehouse=warehouse, quantity=part)
        qty -= part
        if qty == 0:
            return


def _release_stock(order: Order, actor: Actor, reason: str) -> int:
    released = 0
    for a in Allocation.objects.filter(line__order=order, released=False, shipped=False).select_related(
        "line__sku", "warehouse"
    ):
        inventory_services.stock_release(
            actor=actor,
            sku=a.line.sku,
            warehouse=a.warehouse,
            quantity=a.quantity,
            reference=f"order:{order.number}",
            reason=reason,
        )
        a.released = True
        a.save(update_fields=["released"])
        released += a.quantity
    return released


def _release_coupons(order: Order, actor: Actor) -> None:
    for code in order.coupon_codes:
        promotion_services.coupon_release(actor=actor, coupon_code=code, order_ref=order.number)


# --- payments (ORD-06) ----------------------------------------------------------------------------


# statuses in which an order waits for a payment (a presale order: its deposit, then its balance)
_PAYABLE = frozenset({S.CREATED, S.DEPOSIT_PAID})


def payment_start(
    *, actor: Actor, order: Order, provider: str = "test", now: dt.datetime | None = None
) -> Payment:
    """Start (or return the open) payment of an unpaid order with ``provider``: the payable,
    or of a presale order the deposit, then — in the balance window — the balance."""
    now = now or timezone.now()
    if order.status not in _PAYABLE:
        raise InvalidTransition(_("订单 %(n)s 不是待付款状态") % {"n": order.number})
    gateway = _gateway(provider)
    # the playbook order_place read earlier in this request, if this order comes from there
    playbook: PlaybookSettings | None = getattr(order, "_storeops_playbook", None)
    with transaction.atomic():
        order = _locked(order)
        if order.status not in _PAYABLE:
            raise InvalidTransition(_("订单 %(n)s 不是待付款状态") % {"n": order.number})
        stage, _amount = payment_due(order, now)
        open_payment = order.payments.filter(
            status=PaymentStatus.PENDING, provider=provider, stage=stage, expires_at__gt=now
        ).first()
        if open_payment is not None:
            return open_payment
        minutes = (playbook or _playbook(order)).payment_pending_minutes
        return _payment_open(order, actor=actor, provider=provider, gateway=gateway, minutes=minutes, now=now)


def payment_due(order: Order, now: dt.datetime) -> tuple[str, Decimal]:
    """What the next payment of an unpaid order collects: ``(stage, amount)``. A presale
    order's balance can be paid only in its balance window (409 ``balance_not_open`` /
    ``balance_closed`` outside it)."""
    if order.deposit_amount <= 0:
        return PaymentStage.FULL, order.payable
    if order.balance_ends is not None and now >= order.balance_ends:
        raise Conflict(_("尾款支付已截止"), code="balance_closed")  # no deposit for it either
    if order.status == S.CREATED:
        return PaymentStage.DEPOSIT, order.deposit_amount
    if order.balance_starts is not None and now < order.balance_starts:
        raise Conflict(
            _("尾款将于 %(t)s 开始支付")
            % {"t": timezone.localtime(order.balance_starts).strftime("%Y-%m-%d %H:%M")},
            code="balance_not_open",
        )
    return PaymentStage.BALANCE, order.payable - order.deposit_amount


def _gateway(provider: str) -> Any:
    """The provider a payment is started with: a configured one that takes payments (the
    marketplace settlement of imported orders does not: the buyer paid on the platform)."""
    try:
        gateway = pay.provider(provider)
    except KeyError as exc:
        raise ValidationError(
            _("不支持的支付方式：%(p)s") % {"p": provider}, fields={"provider": _("不支持")}
        ) from exc
    if isinstance(gateway, pay.MarketplaceSettlement):
        raise ValidationError(
            _("平台订单在平台付款，不能在这里发起支付"), fields={"provider": _("不能用于发起支付")}
        )
    return gateway


def _payment_open(
    order: Order,
    *,
    actor: Actor,
    provider: str,
    gateway: Any,
    minutes: int,
    now: dt.datetime,
    events_before: Sequence[OrderEvent] = (),
) -> Payment:
    """A new pending payment of ``order`` (unpaid, locked or created in this transaction) for
    what is due now (:func:`payment_due`). ``events_before``: unsaved events of the order,
    written before the "payment_started" event in the same INSERT."""
    stage, amount = payment_due(order, now)
    reference = f"P{order.number}{secrets.token_hex(3).upper()}"
    title = f"{order.store.name} {order.number}"
    if stage != PaymentStage.FULL:
        title = f"{title} {PaymentStage(stage).label}"
    instructions = gateway.start(pay.PaymentRequest(reference, order.number, amount, order.currency, title))
    expires_at = now + dt.timedelta(minutes=minutes)
    if stage == PaymentStage.BALANCE and order.balance_ends is not None:
        expires_at = min(expires_at, order.balance_ends)  # no balance taken after its window
    payment = Payment.objects.create(
        order=order,
        provider=provider,
        stage=stage,
        reference=reference,
        amount=amount,
        currency=order.currency,
        instructions={"redirect_url": instructions.redirect_url, "qr_data": instructions.qr_data},
        created_at=now,
        expires_at=expires_at,
    )
    extra = {} if stage == PaymentStage.FULL else {"stage": stage}
    started = _event_row(
        order, actor, "payment_started", at=now, note=provider, reference=reference, amount=amount, **extra
    )
    OrderEvent.objects.bulk_create([*events_before, started])
    return payment


def checkout_place(*, provider: str, **place: Any) -> tuple[Order, bool, Payment | None]:
    """:func:`order_place` and the order's payment with ``provider`` (the storefront's
    checkout, ORD-06): ``(order, created, payment)``. A new unpaid order gets its payment in
    the placing transaction (an unknown provider is refused before anything is written); a
    replayed unpaid order gets its open payment, or a new one (:func:`payment_start`). No
    payment when the order is already paid (nothing to pay, or paid meanwhile)."""
    gateway = _gateway(provider)
    order, created = order_place(**place, payment_with=(provider, gateway))
    payment: Payment | None = getattr(order, "_storeops_payment", None)
    if payment is None and order.status == S.CREATED:  # not a presale's balance: not due yet
        payment = payment_start(actor=place["actor"], order=order, provider=provider)
    return order, created, payment


@dataclass(frozen=True, slots=True)
class CallbackResult:
    result: str  # applied / duplicate / ignored / refunded_late / rejected
    order_number: str = ""
    order_status: str = ""


def payment_callback(
    *, provider: str, body: bytes, headers: Mapping[str, str], now: dt.datetime | None = None
) -> CallbackResult:
    """Apply a provider's asynchronous callback: verified (signature), recorded, idempotent.

    Duplicates (same event id, or another success for an already successful payment) change
    nothing. A failure after a success is ignored (out of order). Money that arrives for an
    order that was closed, cancelled, or already paid through another payment is refunded
    automatically."""
    now = now or timezone.now()
    actor = Actor.system("payment")
    try:
        gateway = pay.provider(provider)
    except KeyError as exc:
        raise NotFound(_("未知的支付渠道")) from exc
    try:
        data = gateway.verify(body, headers)
    except pay.InvalidCallback as exc:
        payment_callback_reject(provider=provider, body=body, error=str(exc), now=now)
        raise PermissionDenied(_("支付回调签名无效"), code="bad_signature") from exc
    return payment_receive(provider=provider, data=data, payload=json.loads(body), actor=actor, now=now)


def payment_receive(
    *,
    provider: str,
    data: pay.CallbackData,
    payload: dict[str, Any],
    actor: Actor,
    now: dt.datetime | None = None,
) -> CallbackResult:
    """Apply what a provider reported about a payment, once per event id: from a verified
    callback (:func:`payment_callback`) or from a line of its statement that finance applied
    (``orders.reconcile.statement_apply``; ``payload`` says which)."""
    now = now or timezone.now()
    redelivery = False
    try:
        with transaction.atomic():
            record = PaymentCallback.objects.create(
                provider=provider,
                event_id=data.event_id,
                outcome=data.outcome,
                valid_signature=True,
                result="received",
                payload=payload,
                received_at=now,
            )
    except IntegrityError:
        prior = PaymentCallback.objects.filter(
            provider=provider, event_id=data.event_id, valid_signature=True
        ).first()
        if prior is None or prior.result != "received":
            known = Payment.objects.filter(reference=data.reference).select_related("order").first()
            if prior is None or known is None:
                return CallbackResult("duplicate")
            return CallbackResult("duplicate", known.order.number, known.order.status)
        # a redelivery of an event whose first handling failed part way (e.g. the provider
        # refused to hand back money): applied again; _apply_callback is idempotent per payment
        record, redelivery = prior, True
    with transaction.atomic():
        # the payment and its order, both rows locked (in this order), in one statement
        payment = (
            Payment.objects.select_for_update()
            .select_related("order")
            .filter(reference=data.reference, provider=provider)
            .first()
        )
        if payment is None:
            _callback_done(record, None, "unknown_payment")
            raise NotFound(_("支付单不存在：%(r)s") % {"r": data.reference})
        order = payment.order
        if redelivery and PaymentCallback.objects.filter(pk=record.pk).exclude(result="received").exists():
            return CallbackResult("duplicate", order.number, order.status)  # handled meanwhile
        result = _apply_callback(payment, order, data, actor=actor, now=_collected_time(data, payment, now))
        _callback_done(record, payment, result)
        if result != "applied":  # "applied" changed the locked order in place (or left it alone)
            order.refresh_from_db()
    return CallbackResult(result, order.number, order.status)


def _collected_time(data: pay.CallbackData, payment: Payment, now: dt.datetime) -> dt.datetime:
    """When the money moved: the provider's own time when it says (a late callback, a line of
    its statement applied days later), kept between the payment's creation and now; the
    payment, the order's ``paid_at`` and ship-by and the day's sales are dated by it."""
    if data.collected_at is None:
        return now
    return min(max(data.collected_at, payment.created_at), now)


def _callback_done(record: PaymentCallback, payment: Payment | None, result: str) -> None:
    PaymentCallback.objects.filter(pk=record.pk).update(payment=payment, result=result)


def _apply_callback(
    payment: Payment, order: Order, data: pay.CallbackData, *, actor: Actor, now: dt.datetime
) -> str:
    if data.outcome == "failed":
        if payment.status in (PaymentStatus.PENDING, PaymentStatus.TIMED_OUT):
            Payment.objects.filter(pk=payment.pk).update(
                status=PaymentStatus.FAILED, failure_reason=data.reason[:200], settled_at=now
            )
            _event(order, actor, "payment_failed", note=data.reason, reference=payment.reference)
            return "applied"
        return "ignored"  # a failure after the payment already succeeded or failed: out of order
    if data.amount != payment.amount:
        return _return_mismatched(payment, order, data, actor=actor, now=now)
    if payment.status in (PaymentStatus.SUCCEEDED, PaymentStatus.RETURNED):
        return "duplicate"
    # decide before writing: only one payment of an order (of a presale order: per stage) may
    # succeed (a DB constraint); a balance is taken only after the deposit
    already_paid = (
        order.payments.filter(status=PaymentStatus.SUCCEEDED, stage=payment.stage)
        .exclude(pk=payment.pk)
        .exists()
    )
    waiting = S.DEPOSIT_PAID if payment.stage == PaymentStage.BALANCE else S.CREATED
    # a deposit that arrives after the balance window shut cannot become an order: handed back
    too_late = (
        payment.stage == PaymentStage.DEPOSIT and order.balance_ends is not None and now >= order.balance_ends
    )
    takes_it = order.status == waiting and not already_paid and not too_late
    settled = {
        "status": PaymentStatus.SUCCEEDED if takes_it else PaymentStatus.RETURNED,
        "provider_txn_id": data.provider_txn_id,
        "settled_at": now,
        "failure_reason": "",
    }
    Payment.objects.filter(pk=payment.pk).update(**settled)
    for name, value in settled.items():  # the row is locked (select_for_update): no re-read
        setattr(payment, name, value)
    if takes_it and payment.stage == PaymentStage.DEPOSIT:
        _transition(
            order,
            S.DEPOSIT_PAID,
            actor=actor,
            at=now,
            locked=True,
            kind="deposit_paid",
            data={"reference": payment.reference, "amount": payment.amount},
            deposit_paid=payment.amount,
        )
        return "applied"
    if takes_it:
        _mark_paid(order, actor=actor, now=now, payment=payment, locked=True)
        return "applied"
    # the money arrived for an order that cannot take it: give it back at once
    reason = _("订单已关闭或已付款，自动退回重复/迟到的付款")
    _refund_payment(
        payment, order, amount=payment.amount, reason=reason, lines=[], actor=actor, count_on_order=False
    )
    _event(order, actor, "payment_refunded_late", note=reason, reference=payment.reference)
    return "refunded_late"


def _return_mismatched(
    payment: Payment, order: Order, data: pay.CallbackData, *, actor: Actor, now: dt.datetime
) -> str:
    """The provider collected another amount than the payment asked for: the order is not paid
    by it (it stays payable through a new payment), and what was collected goes back at once,
    recorded as a refund so finance sees the money in and out."""
    if payment.status == PaymentStatus.FAILED and payment.provider_txn_id == data.provider_txn_id:
        return "duplicate"  # this collection was already handed back
    if payment.status not in (PaymentStatus.PENDING, PaymentStatus.TIMED_OUT, PaymentStatus.FAILED):
        _event(
            order,
            actor,
            "payment_amount_mismatch",
            note=f"{data.amount} != {payment.amount}",
            reference=payment.reference,
        )
        return "ignored"  # the payment already settled: keep the record for reconciliation
    note = _("支付金额不符：收到 %(got)s，应付 %(due)s，已原路退回") % {
        "got": data.amount,
        "due": payment.amount,
    }
    Payment.objects.filter(pk=payment.pk).update(
        status=PaymentStatus.FAILED,
        provider_txn_id=data.provider_txn_id,
        failure_reason=note[:200],
        settled_at=now,
    )
    payment.status, payment.provider_txn_id = PaymentStatus.FAILED, data.provider_txn_id
    _event(order, actor, "payment_amount_mismatch", note=note, reference=payment.reference)
    if data.amount > 0:
        _refund_payment(
            payment, order, amount=data.amount, reason=note, lines=[], actor=actor, count_on_order=False
        )
    return "amount_mismatch"


def _mark_paid(
    order: Order, *, actor: Actor, now: dt.datetime, payment: Payment | None, locked: bool = False
) -> Order:
    playbook = _playbook(order)
    # MEM-01: a diamond member's order (the tier recorded when it was placed: no query here)
    # ships within ``diamond_ship_hours``, MEM-04: a high-value customer's (the segment
    # recorded likewise) within ``segment_high_value_ship_hours``, when sooner than the
    # channel's promise
    hours = rules.promise_hours(
        playbook.ship_promise_hours,
        tier=order.member_tier,
        diamond_hours=playbook.diamond_ship_hours,
        segment=order.customer_segment,
        high_value_hours=playbook.segment_high_value_ship_hours,
    )
    order = _transition(
        order,
        S.PAID,
        actor=actor,
        at=now,
        locked=locked,
        kind="paid",
        data={"reference": payment.reference if payment else "", "amount": order.payable},
        paid_amount=order.payable,
        paid_at=now,
        # a group-buy order's deadline starts when its group forms
        ship_by=None if order.group_id else rules.ship_by(now, promise_hours=hours),
    )
    if order.group_id:
        groups.group_member_paid(
            order=order,
            actor=actor,
            now=now,
            promise_hours=playbook.ship_promise_hours,
            diamond_hours=playbook.diamond_ship_hours,
            high_value_hours=playbook.segment_high_value_ship_hours,
        )
    _record_sales(order, now)
    return order


def order_mark_paid_on_marketplace(*, actor: Actor, order: Order, paid_at: dt.datetime) -> Order:
    """An imported marketplace order was paid on the platform: record that payment (provider
    ``marketplace``, the platform's order number as its transaction id) and mark the order paid,
    so refunds and cancellations go through the same books as web-shop orders."""
    payment = None
    if order.payable > 0:
        payment = Payment.objects.create(
            order=order,
            provider=pay.MarketplaceSettlement.name,
            reference=f"MP{order.channel_id}-{order.number}"[:64],
            provider_txn_id=f"{order.channel_id}:{order.number}",
            amount=order.payable,
            currency=order.currency,
            status=PaymentStatus.SUCCEEDED,
            created_at=paid_at,
            expires_at=paid_at,
            settled_at=paid_at,
        )
    return _mark_paid(order, actor=actor, now=paid_at, payment=payment)


def _record_sales(order: Order, now: dt.datetime) -> None:
    """Paid orders feed the daily sales table the lifecycle, replenishment and reports read."""
    from storeops.catalog import services as catalog_services

    day = timezone.localdate(now)
    per_product: dict[int, tuple[int, Decimal]] = {}
    for product_id, quantity, paid_total in (
        order.lines.order_by().values_list("sku__product_id", "quantity", "paid_total")  # no join to order
    ):
        units, revenue = per_product.get(product_id, (0, Decimal("0")))
        per_product[product_id] = (units + quantity, revenue + paid_total)
    # the day's rows in product order: two orders being paid at once take them in the same order
    for product_id, (units, revenue) in sorted(per_product.items()):
        catalog_services.sales_daily_add(
            store_id=order.store_id,
            channel_id=order.channel_id,
            product_id=product_id,
            day=day,
            units=units,
            revenue=revenue,
        )


def payments_expire(*, now: dt.datetime | None = None) -> int:
    """Pending payments past their expiry time out (the customer can start a new one)."""
    now = now or timezone.now()
    return Payment.objects.filter(status=PaymentStatus.PENDING, expires_at__lte=now).update(
        status=PaymentStatus.TIMED_OUT, settled_at=now
    )


def orders_close_unpaid(*, now: dt.datetime | None = None, store: Store | None = None) -> list[str]:
    """Close orders left unpaid past the playbook timeout, and presale orders whose balance
    window ended unpaid; give their stock, coupons and offer uses back (and of a presale, the
    playbook's share of the deposit)."""
    now = now or timezone.now()
    actor = Actor.system("task")
    candidates = Order.objects.filter(status=S.CREATED).select_related("store", "channel")
    due = _due_by_channel(
        candidates,
        field="created_at",
        wait=lambda book: dt.timedelta(minutes=book.unpaid_order_close_minutes),
        now=now,
        store=store,
    )
    lapsed = Order.objects.filter(status=S.DEPOSIT_PAID, balance_ends__lte=now).select_related(
        "store", "channel"
    )
    # a presale order whose deposit was never paid can no longer be paid once its balance
    # window is over (whatever the unpaid timeout says)
    over = Order.objects.filter(status=S.CREATED, deposit_amount__gt=0, balance_ends__lte=now)
    if store is not None:
        lapsed, over = lapsed.filter(store=store), over.filter(store=store)
    closed = [
        order.number
        for order in itertools.chain(due, over.select_related("store", "channel"))
        if _close(order, S.CREATED, "closed_unpaid", _("超时未付款，订单关闭"), actor=actor, now=now)
    ]
    closed += [
        order.number
        for order in lapsed
        if _close(
            order,
            S.DEPOSIT_PAID,
            "closed_balance_unpaid",
            _("尾款未在截止时间前支付，订单关闭"),
            actor=actor,
            now=now,
        )
    ]
    return closed


def _close(order: Order, status: S, kind: str, note: str, *, actor: Actor, now: dt.datetime) -> bool:
    """Close ``order`` if it is still in ``status`` (its own transaction); False when it was
    paid or cancelled meanwhile."""
    try:
        with transaction.atomic():
            current = _locked(order)
            if current.status != status:
                return False
            _release_stock(current, actor, reason=note[:200])
            _release_coupons(current, actor)
            promotion_services.offer_uses_release(order_id=current.pk, now=now)
            groups.group_member_left(order=current, actor=actor, now=now)
            _deposit_settle(current, actor=actor, reason=note)
            _transition(current, S.CLOSED, actor=actor, at=now, kind=kind, note=note, cancelled_at=now)
    except Conflict:
        return False
    return True


BALANCE_REMINDER = "presale_balance"  # the purpose of the balance reminder (one per order)


def presale_balance_reminders(*, now: dt.datetime | None = None) -> int:
    """Tell each presale customer, once, that the balance window of their order has opened
    (尾款提醒, SMS through the configured notifiers): how much, and until when. Returns the
    reminders sent."""
    now = now or timezone.now()
    actor = Actor.system("task")
    due = (
        Order.objects.filter(status=S.DEPOSIT_PAID, balance_starts__lte=now, balance_ends__gt=now)
        .exclude(notifications__purpose=BALANCE_REMINDER)
        .order_by("balance_ends", "pk")
    )
    sent = 0
    for order in due:
        ends = timezone.localtime(order.balance_ends).strftime("%Y-%m-%d %H:%M")
        customer_notify(
            actor=actor,
            order=order,
            purpose=BALANCE_REMINDER,
            channel=NotificationChannel.SMS,
            text=f"您的预售订单 {order.number} 已可支付尾款 {order.payable - order.deposit_amount} 元，"
            f"请在 {ends} 前支付，逾期订单将关闭。",
            now=now,
        )
        sent += 1
    return sent


def _deposit_settle(order: Order, *, actor: Actor, reason: str, share: Decimal | None = None) -> None:
    """A presale order ends before its balance was paid: ``share`` of its deposit goes back
    to the customer (the store's cancellation: all of it; the customer's cancellation or a
    missed balance: the playbook's ``presale_deposit_refund_ratio``, the default), the rest
    is kept (定金不退) and recorded as such on the order's timeline."""
    if order.deposit_paid <= 0:
        return
    if share is None:
        share = _playbook(order).presale_deposit_refund_ratio
    back = (order.deposit_paid * share).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    kept = order.deposit_paid - back
    if back > 0:
        payment = order.payments.get(status=PaymentStatus.SUCCEEDED, stage=PaymentStage.DEPOSIT)
        _refund_payment(
            payment, order, amount=back, reason=reason, lines=[], actor=actor, count_on_order=False
        )
    if kept > 0:
        _event(order, actor, "deposit_kept", note=reason, amount=kept)


def order_cancel(
    *, actor: Actor, order: Order, reason: str, now: dt.datetime | None = None, by_customer: bool = False
) -> Order:
    """Cancel before shipping: stock, coupons and offer uses go back (paid or not: the order
    never left); a paid order is refunded in full.
    A presale order whose balance is not paid yet gives its deposit back in full when the
    store cancels; when the customer does (``by_customer``), the playbook's share of it."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("请填写取消原因"), fields={"reason": _("必填")})
    with transaction.atomic():
        order = _locked(order)
        status = rules.Status(order.status)
        if status not in rules.RESERVED:
            raise InvalidTransition(
                _("订单 %(n)s 已发货或已结束，不能取消；请走售后流程") % {"n": order.number}
            )
        _release_stock(order, actor, reason=f"订单取消：{reason}"[:200])
        promotion_services.offer_uses_release(order_id=order.pk, now=now)  # the order never left
        groups.group_member_left(order=order, actor=actor, now=now)
        _release_coupons(order, actor)  # paid or not: the order never left
        if status in _PAYABLE:
            _deposit_settle(order, actor=actor, reason=reason, share=None if by_customer else Decimal(1))
        elif order.paid_amount > 0:
            _refund_order_lines(
                order,
                actor=actor,
                reason=reason,
                units={line.pk: line.quantity - line.refunded_qty for line in order.lines.all()},
            )
            order.refresh_from_db()
        return _transition(
            order, S.CANCELLED, actor=actor, at=now, kind="cancelled", note=reason, cancelled_at=now
        )


# --- review (ORD-01, ORD-04) ----------------------------------------------------------------------


def _fraud_scorer() -> Callable[[rules.FraudSignals], int]:
    scorer: Callable[[rules.FraudSignals], int] = import_string(settings.STOREOPS_FRAUD_SCORER)
    return scorer


def _fraud_limits(playbook: PlaybookSettings) -> rules.FraudLimits:
    """ORD-01: the default fraud score's thresholds, from the order's channel's playbook."""
    return rules.FraudLimits(
        new_customer_amount=playbook.fraud_new_customer_amount,
        large_amount=playbook.fraud_large_amount,
        phone_orders=playbook.fraud_phone_orders,
        phone_orders_high=playbook.fraud_phone_orders_high,
        customer_addresses=playbook.fraud_customer_addresses,
        quantity=playbook.fraud_quantity,
    )


def _fraud_signals(order: Order, now: dt.datetime, *, playbook: PlaybookSettings) -> rules.FraudSignals:
    """ORD-01: the fraud score's signals, counted over the playbook's ``fraud_signal_window_hours``,
    with the playbook's thresholds (``limits``)."""
    window_hours = playbook.fraud_signal_window_hours
    since = now - dt.timedelta(hours=window_hours)
    recent = Order.objects.filter(store_id=order.store_id, created_at__gte=since).exclude(pk=order.pk)
    return rules.FraudSignals(
        amount=order.payable,
        is_new_customer=order.is_new_customer,
        orders_same_phone_24h=recent.filter(phone=order.phone).count(),
        distinct_addresses_same_customer_24h=recent.filter(customer_ref=order.customer_ref)
        .values("province", "city", "address")
        .distinct()
        .count(),
        quantity_total=sum(order.lines.values_list("quantity", flat=True)),
        window_hours=window_hours,
        limits=_fraud_limits(playbook),
    )


def _brushing_signals(order: Order, now: dt.datetime, *, window_hours: int) -> rules.BrushingSignals:
    """RISK-01: over the window (this order included), the accounts that ordered to this
    order's address or phone, the orders of its account, the orders from its client IP and the
    accounts on its device (0 when the order carries no IP / device: not counted)."""
    recent = Order.objects.filter(
        store_id=order.store_id, created_at__gte=now - dt.timedelta(hours=window_hours)
    )
    same_place = Q(province=order.province, city=order.city, address=order.address)
    if order.phone:
        same_place |= Q(phone=order.phone)
    accounts = set(recent.filter(same_place).values_list("customer_ref", flat=True)) | {order.customer_ref}
    same_ip = 0
    if order.client_ip:
        same_ip = recent.filter(client_ip=order.client_ip).exclude(pk=order.pk).count() + 1
    same_device = 0
    if order.device_id:
        # ``device_id > ''`` repeats the partial index's condition so SQLite may use it too
        on_device = recent.filter(device_id=order.device_id, device_id__gt="")
        same_device = len(
            set(on_device.values_list("customer_ref", flat=True).distinct()) | {order.customer_ref}
        )
    return rules.BrushingSignals(
        accounts_same_destination=len(accounts),
        orders_same_account=recent.filter(customer_ref=order.customer_ref).exclude(pk=order.pk).count() + 1,
        orders_same_ip=same_ip,
        accounts_same_device=same_device,
    )


def _stock_ok(order: Order) -> bool:
    """Every line's units are reserved (storefront orders always; imported ones may not be)."""
    for line in order.lines.all():
        held = sum(a.quantity for a in line.allocations.all() if not a.released)
        if held < line.quantity:
            return False
    return True


def _require_group_formed(order: Order) -> None:
    if not groups.group_formed(order):
        raise Conflict(
            _("订单 %(n)s 所在的拼团尚未成团，成团后才能审核发货") % {"n": order.number},
            code="group_not_formed",
        )


def order_auto_review(*, actor: Actor, order: Order, now: dt.datetime | None = None) -> Order:
    """ORD-01: pass a paid order automatically, or send it to the manual queue with reasons.
    Customers of exception orders (bad address, out of stock) are told at once (ORD-04)."""
    now = now or timezone.now()
    with transaction.atomic():
        order = _locked(order)
        if order.status != S.PAID:
            raise InvalidTransition(_("订单 %(n)s 不是待审核状态") % {"n": order.number})
        _require_group_formed(order)
        playbook = _playbook(order)
        signals = _fraud_signals(order, now, playbook=playbook)
        score = max(0, min(100, int(_fraud_scorer()(signals))))
        decision = rules.review_decision(
            address=rules.Address(
                order.receiver, order.phone, order.province, order.city, order.district, order.address
            ),
            stock_ok=_stock_ok(order),
            fraud_score=score,
            fraud_hold_score=playbook.fraud_hold_score,
            brushing=rules.brushing_details(
                _brushing_signals(order, now, window_hours=playbook.brushing_window_hours),
                accounts_limit=playbook.brushing_accounts_per_address,
                orders_limit=playbook.brushing_orders_per_account,
                ip_limit=playbook.brushing_orders_per_ip,
                device_limit=playbook.brushing_accounts_per_device,
            )
            + (["account_frozen"] if _frozen(order.store_id, order.customer_ref) else []),
        )
        Order.objects.filter(pk=order.pk).update(fraud_score=score)
        order.fraud_score = score
        if decision.passed:
            return _transition(
                order,
                S.REVIEWED,
                actor=actor,
                at=now,
                kind="reviewed_auto",
                reviewed_at=now,
                data={"fraud_score": score},
            )
        order = _transition(
            order,
            S.ON_HOLD,
            actor=actor,
            at=now,
            kind="held",
            note=", ".join(decision.details),
            hold_reasons=[str(r) for r in decision.reasons],
            data={"reasons": [str(r) for r in decision.reasons], "fraud_score": score},
        )
        for reason in decision.reasons:
            if reason in rules.CUSTOMER_EXCEPTIONS:
                _notify_exception(order, reason, actor=actor, now=now)
    return order


# --- order brushing confirmed: the account is frozen (RISK-01) -----------------------------------


def _frozen(store_id: int, customer_ref: str) -> bool:
    return AccountFreeze.objects.filter(
        store_id=store_id, customer_ref=customer_ref, lifted_at__isnull=True
    ).exists()


def account_freeze(
    *,
    actor: Actor,
    store: Store,
    customer_ref: str,
    reason: str,
    order: Order | None = None,
    now: dt.datetime | None = None,
) -> AccountFreeze:
    """Freeze a customer account of ``store``: its storefront orders are refused and its
    imported orders held in review until a person lifts the freeze."""
    now = now or timezone.now()
    customer_ref = (customer_ref or "").strip()
    if not customer_ref or len(customer_ref) > 100:
        raise ValidationError(_("缺少顾客标识"), fields={"customer_ref": _("必填，最多 100 个字符")})
    reason = clean_text(reason, "reason", limit=300, message=_("请填写冻结原因"))
    if _frozen(store.pk, customer_ref):
        raise Conflict(_("账号 %(c)s 已处于冻结状态") % {"c": customer_ref}, code="already_frozen")
    try:
        with transaction.atomic():
            freeze = AccountFreeze.objects.create(
                store=store,
                customer_ref=customer_ref,
                reason=reason,
                order=order,
                frozen_by=actor.label,
                frozen_at=now,
            )
    except IntegrityError as exc:  # a concurrent freeze of the same account won
        raise Conflict(_("账号 %(c)s 已处于冻结状态") % {"c": customer_ref}, code="already_frozen") from exc
    audit_record(
        actor=actor,
        action="account.freeze",
        obj=freeze,
        store_id=store.pk,
        after={"customer_ref": customer_ref, "reason": reason, "order": order.number if order else ""},
    )
    return freeze


def account_unfreeze(
    *, actor: Actor, freeze: AccountFreeze, note: str, now: dt.datetime | None = None
) -> AccountFreeze:
    """Lift a freeze (the row stays, with who lifted it, when and why)."""
    now = now or timezone.now()
    note = clean_text(note, "note", limit=300, message=_("请填写解冻说明"))
    with transaction.atomic():
        updated = AccountFreeze.objects.filter(pk=freeze.pk, lifted_at__isnull=True).update(
            lifted_at=now, lifted_by=actor.label, lift_note=note
        )
        if not updated:
            raise Conflict(_("该冻结已解除"), code="already_lifted")
        freeze.refresh_from_db()
        audit_record(
            actor=actor,
            action="account.unfreeze",
            obj=freeze,
            store_id=freeze.store_id,
            before={"frozen": True},
            after={"frozen": False, "note": note},
        )
    return freeze


def order_confirm_brushing(*, actor: Actor, order: Order, note: str, now: dt.datetime | None = None) -> Order:
    """RISK-01: a person confirmed that ``order`` is brushing (刷单). In one transaction the
    order is cancelled (stock and coupons back, a paid order refunded in full) and its account
    frozen (unless it already is). Only before shipping, like any cancellation."""
    now = now or timezone.now()
    note = clean_text(note, "note", limit=300, message=_("请填写确认刷单的依据"))
    with transaction.atomic():
        cancelled = order_cancel(actor=actor, order=order, reason=_("确认刷单：%(n)s") % {"n": note}, now=now)
        if not _frozen(cancelled.store_id, cancelled.customer_ref):
            account_freeze(
                actor=actor,
                store=cancelled.store,
                customer_ref=cancelled.customer_ref,
                reason=note,
                order=cancelled,
                now=now,
            )
    return cancelled


_EXCEPTION_TEXT = {
    rules.HoldReason.BAD_ADDRESS: "您的订单 {n} 收货地址或电话有误，请尽快核对修改，以免影响发货。",
    rules.HoldReason.OUT_OF_STOCK: "很抱歉，您的订单 {n} 中部分商品暂时缺货，客服将尽快与您联系处理。",
}


def _notify_exception(order: Order, reason: rules.HoldReason, *, actor: Actor, now: dt.datetime) -> None:
    purpose = f"exception:{reason}"
    if order.notifications.filter(purpose=purpose).exists():
        return
    customer_notify(
        actor=actor,
        order=order,
        purpose=purpose,
        channel=NotificationChannel.SMS,
        text=_EXCEPTION_TEXT[reason].format(n=order.number),
        now=now,
    )


def customer_notify(
    *, actor: Actor, order: Order, purpose: str, channel: str, text: str, now: dt.datetime | None = None
) -> CustomerNotification:
    """Send ``text`` to the order's customer through the configured notifiers and record it."""
    now = now or timezone.now()
    if channel not in NotificationChannel.values:
        raise ValidationError(_("未知的通知方式"), fields={"channel": _("未知的通知方式")})
    text = (text or "").strip()
    if not text:
        raise ValidationError(_("请填写通知内容"), fields={"text": _("必填")})
    delivered = True
    for notifier in configured_notifiers():
        delivered = notifier.send(phone=order.phone, channel=channel, text=text) and delivered
    note = CustomerNotification.objects.create(
        order=order,
        purpose=purpose[:40],
        channel=channel,
        text=text[:500],
        sent_at=now,
        delivered=delivered,
        actor_label=actor.label[:150],
    )
    _event(order, actor, "customer_notified", at=now, note=text[:300], purpose=purpose, channel=channel)
    audit_record(
        actor=actor,
        action="order.notify",
        obj=order,
        store_id=order.store_id,
        after={"purpose": purpose, "channel": channel},
    )
    return note


def order_approve(*, actor: Actor, order: Order, note: str = "", now: dt.datetime | None = None) -> Order:
    """Manual review passes a held order (after the problem was fixed with the customer)."""
    now = now or timezone.now()
    with transaction.atomic():
        order = _locked(order)
        _require_group_formed(order)
        if order.status == S.ON_HOLD and not _stock_ok(order):
            raise Conflict(
                _("订单 %(n)s 仍有商品未预占库存，不能通过审核") % {"n": order.number}, code="not_reserved"
            )
        return _transition(
            order,
            S.REVIEWED,
            actor=actor,
            at=now,
            kind="reviewed_manual",
            note=note,
            reviewed_at=now,
            hold_reasons=[],
        )


def order_hold(*, actor: Actor, order: Order, note: str) -> Order:
    if not (note or "").strip():
        raise ValidationError(_("请填写挂起原因"), fields={"note": _("必填")})
    with transaction.atomic():
        order = _locked(order)
        return _transition(
            order,
            S.ON_HOLD,
            actor=actor,
            kind="held",
            note=note,
            hold_reasons=[rules.HoldReason.MANUAL.value],
        )


def order_update_address(*, actor: Actor, order: Order, address: AddressIn) -> Order:
    """Correct the delivery address before the order ships (the ORD-04 fix for bad addresses)."""
    errors = _address_errors(address)
    if errors:
        raise ValidationError(_("收货信息不完整"), fields=errors)
    with transaction.atomic():
        order = _locked(order)
        if rules.Status(order.status) not in rules.RESERVED:
            raise InvalidTransition(_("订单已发货，不能修改地址"))
        before = {
            "receiver": order.receiver,
            "phone": order.phone_masked,
            "province": order.province,
            "city": order.city,
            "address": order.address,
        }
        # the coordinates go with the address: the old ones point at the old street
        Order.objects.filter(pk=order.pk).update(**address.order_fields(), version=F("version") + 1)
        order.refresh_from_db()
        _event(order, actor, "address_changed")
        audit_record(
            actor=actor,
            action="order.address",
            obj=order,
            store_id=order.store_id,
            before=before,
            after={
                "receiver": order.receiver,
                "phone": order.phone_masked,
                "province": order.province,
                "city": order.city,
                "address": order.address,
            },
        )
    return order


def orders_review_pending(*, now: dt.datetime | None = None) -> int:
    """The periodic sweep behind ORD-01: auto-review every paid order still waiting."""
    now = now or timezone.now()
    actor = Actor.system("task")
    done = 0
    # every waiting order, in batches: orders whose review keeps failing never hold up the rest
    for order in each(Order.objects.filter(groups.reviewable(), status=S.PAID), size=BATCH_SIZE):
        try:
            order_auto_review(actor=actor, order=order, now=now)
            done += 1
        except Conflict:
            continue
    return done


# --- allocation, shipping, delivery (ORD-02, ORD-05) ---------------------------------------------


def _merge_key(order: Order) -> str:
    """Orders of one buyer on one channel to one (normalised) address share this key."""
    where = order.receiver + order.phone + order.province + order.city + order.district + order.address
    text = f"{order.channel_id}|{order.customer_ref}|{alloc.normalise_address(where)}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def order_allocate(*, actor: Actor, order: Order, now: dt.datetime | None = None) -> Order:
    """Confirm the order's warehouses (reserved at placement) and group it with the same
    buyer's unshipped orders to the same address, so they ship as one parcel (ORD-05)."""
    now = now or timezone.now()
    with transaction.atomic():
        order = _locked(order)
        _require(order, S.ALLOCATED)
        if not _stock_ok(order):
            raise Conflict(_("订单 %(n)s 仍有商品未预占库存") % {"n": order.number}, code="not_reserved")
        key = _merge_key(order)
        mates = list(
            Order.objects.filter(store_id=order.store_id, status=S.ALLOCATED, merge_key=key)
            .exclude(pk=order.pk)
            .values_list("number", flat=True)
        )
        return _transition(
            order,
            S.ALLOCATED,
            actor=actor,
            at=now,
            kind="allocated",
            allocated_at=now,
            merge_key=key,
            data={"merged_with": mates} if mates else None,
        )


def merge_group(order: Order) -> list[Order]:
    """The allocated orders that ship together with ``order`` (itself included)."""
    if not order.merge_key:
        return [order]
    return list(
        Order.objects.filter(store_id=order.store_id, status=S.ALLOCATED, merge_key=order.merge_key).order_by(
            "created_at", "pk"
        )
    )


def _leg_lines(allocations: Iterable[Allocation]) -> dict[str, int]:
    """A warehouse's parcel: units per SKU code."""
    lines: dict[str, int] = {}
    for a in allocations:
        lines[a.line.sku_code] = lines.get(a.line.sku_code, 0) + a.quantity
    return lines


def order_ship(
    *,
    actor: Actor,
    order: Order,
    carrier_code: str,
    tracking_numbers: Mapping[int, str] | str,
    now: dt.datetime | None = None,
) -> list[Order]:
    """Ship an allocated order and every order merged with it: one parcel per warehouse
    (``tracking_numbers`` maps warehouse id → tracking number, or one number when a single
    warehouse ships). Reserved units leave the warehouse through the stock ledger.

    LOG-03: the carrier suggested for these parcels is recorded on each (whether it was
    followed shows in the carrier statistics); a blank ``carrier_code`` ships with the
    suggestion. A carrier that breaks the store's carrier rules is refused (422)."""
    now = now or timezone.now()
    carrier = fulfilment_selectors.carrier_get(code=carrier_code) if carrier_code.strip() else None
    with transaction.atomic():
        order = _locked(order)
        if order.status != S.ALLOCATED:
            raise InvalidTransition(_("订单 %(n)s 不是待发货状态") % {"n": order.number})
        group = [order if o.pk == order.pk else _locked(o) for o in merge_group(order)]
        for o in group:
            if o.status != S.ALLOCATED:
                raise InvalidTransition(_("订单 %(n)s 不是待发货状态") % {"n": o.number})
        legs: dict[int, list[Allocation]] = {}
        for a in Allocation.objects.filter(
            line__order__in=group, released=False, shipped=False
        ).select_related("line__sku", "warehouse"):
            legs.setdefault(a.warehouse_id, []).append(a)
        if isinstance(tracking_numbers, str):
            if len(legs) != 1:
                raise ValidationError(
                    _("该订单从多个仓库发货，请为每个仓库填写运单号"),
                    fields={"tracking_numbers": _("每个仓库一个运单号")},
                )
            tracking_numbers = {next(iter(legs)): tracking_numbers}
        missing = [wid for wid in legs if not str(tracking_numbers.get(wid, "")).strip()]
        if missing:
            raise ValidationError(
                _("缺少运单号"), fields={f"tracking_numbers.{w}": _("必填") for w in missing}
            )
        head = group[0]
        suggestion = fulfilment_selectors.carrier_suggest_for_parcels(
            store=head.store,
            province=head.province,
            parcels=[sorted(_leg_lines(allocations).items()) for allocations in legs.values()],
            now=now,
        )
        if carrier is None:
            if not suggestion.best_code:
                raise ValidationError(
                    _("没有可建议的快递，请选择快递公司"),
                    fields={"carrier": _("必填")},
                    code="carrier_required",
                )
            carrier = fulfilment_selectors.carrier_get(code=suggestion.best_code)
        for warehouse_id, allocations in legs.items():
            warehouse = allocations[0].warehouse
            shipped: dict[str, int] = {}
            for a in allocations:
                inventory_services.stock_ship(
                    actor=actor,
                    sku=a.line.sku,
                    warehouse=warehouse,
                    quantity=a.quantity,
                    reference=f"order:{a.line.order.number}",
                )
                a.shipped = True
                a.save(update_fields=["shipped"])
                shipped[a.line.sku_code] = shipped.get(a.line.sku_code, 0) + a.quantity
            fulfilment_services.shipment_create(
                actor=actor,
                store=head.store,
                channel=head.channel,
                order_numbers=[o.number for o in group],  # one link per merged order
                carrier=carrier,
                tracking_no=str(tracking_numbers[warehouse_id]).strip(),
                warehouse_code=warehouse.code,
                lines=sorted(shipped.items()),
                province=head.province,
                city=head.city,
                district=head.district,
                address=head.address,
                phone=head.phone,
                created_at=now,
                suggested_carrier=suggestion.best_code,
            )
        return [
            _transition(
                o,
                S.SHIPPED,
                actor=actor,
                at=now,
                kind="shipped",
                shipped_at=now,
                data={"carrier": carrier.code, "parcels": len(legs)},
            )
            for o in group
        ]


def order_deliver(*, actor: Actor, order: Order, at: dt.datetime | None = None) -> Order:
    """The parcels were signed for. An order whose after-sale case opened before delivery stays
    in after-sale; only its delivery time is recorded (the return window counts from it)."""
    at = at or timezone.now()
    with transaction.atomic():
        order = _locked(order)
        if order.status == S.AFTER_SALE and order.delivered_at is None:
            Order.objects.filter(pk=order.pk).update(delivered_at=at, version=F("version") + 1)
            order.refresh_from_db()
            _event(order, actor, "delivered", at=at)
            return order
        return _transition(order, S.DELIVERED, actor=actor, at=at, kind="delivered", delivered_at=at)


def orders_sync_deliveries(*, now: dt.datetime | None = None) -> int:
    """Shipped orders whose parcels were all signed for become delivered (tracking → order)."""
    actor = Actor.system("task")
    moved = 0
    # (an after-sale case can open before the parcel arrives: its delivery is still recorded)
    # every such order, in batches: parcels lost in transit never keep newer ones waiting
    shipped = Order.objects.filter(Q(status=S.SHIPPED) | Q(status=S.AFTER_SALE, delivered_at__isnull=True))
    for batch in batches(shipped, size=BATCH_SIZE):
        by_ref = fulfilment_selectors.delivered_times(orders=[(o.channel_id, o.number) for o in batch])
        for order in batch:
            at = by_ref.get((order.channel_id, order.number))
            if at is None:
                continue
            try:
                order_deliver(actor=actor, order=order, at=at)
                moved += 1
            except Conflict:
                continue
    return moved


def orders_complete(*, now: dt.datetime | None = None) -> int:
    """Delivered orders whose return window (their channel's) has passed are completed: all of
    them, however many."""
    now = now or timezone.now()
    actor = Actor.system("task")
    done = 0
    due = _due_by_channel(
        Order.objects.filter(status=S.DELIVERED),
        field="delivered_at",
        wait=lambda book: dt.timedelta(days=book.return_window_days),
        now=now,
    )
    for order in due:
        try:
            with transaction.atomic():
                _transition(
                    _locked(order), S.COMPLETED, actor=actor, at=now, kind="completed", completed_at=now
                )
            done += 1
        except Conflict:
            continue
    return done


# --- after-sales hooks and refunds (PROMO-04, AS-04) ---------------------------------------------


def order_after_sale_open(*, actor: Actor, order: Order, note: str = "") -> Order:
    """A return or refund request is open on a shipped/delivered/completed order."""
    with transaction.atomic():
        order = _locked(order)
        if order.status == S.AFTER_SALE:
            return order
        return _transition(order, S.AFTER_SALE, actor=actor, kind="after_sale_opened", note=note)


def order_after_sale_close(
    *, actor: Actor, order: Order, note: str = "", now: dt.datetime | None = None
) -> Order:
    """The after-sale cases are all closed: fully refunded → refunded; else back to delivered
    (or completed when the return window has passed meanwhile)."""
    now = now or timezone.now()
    with transaction.atomic():
        order = _locked(order)
        if order.status != S.AFTER_SALE:
            return order
        if order.paid_amount > 0 and order.refunded_amount == order.paid_amount:
            return _transition(order, S.REFUNDED, actor=actor, kind="refunded", note=note)
        if order.delivered_at is None:
            # the case opened before the parcel arrived: back in transit until the carrier confirms
            return _transition(order, S.SHIPPED, actor=actor, kind="after_sale_closed", note=note)
        window = dt.timedelta(days=_playbook(order).return_window_days)
        if order.delivered_at <= now - window:
            return _transition(
                order, S.COMPLETED, actor=actor, kind="after_sale_closed", note=note, completed_at=now
            )
        return _transition(order, S.DELIVERED, actor=actor, kind="after_sale_closed", note=note)


def refund_quote(order: Order, units: Mapping[int, int]) -> dict[int, Decimal]:
    """What refunding ``units`` (line id → units) returns, per line: exactly what was paid for
    those units (PROMO-04). Raises ValidationError for unknown lines or too many units."""
    lines = {line.pk: line for line in order.lines.all()}
    out: dict[int, Decimal] = {}
    errors: dict[str, str] = {}
    for line_id, qty in units.items():
        line = lines.get(line_id)
        if line is None:
            errors[f"lines.{line_id}"] = _("订单中没有这一行")
            continue
        if isinstance(qty, bool) or not isinstance(qty, int) or qty < 1:
            errors[f"lines.{line_id}"] = _("数量必须是正整数")
            continue
        if line.refunded_qty + qty > line.quantity:
            errors[f"lines.{line_id}"] = _("最多可退 %(n)s 件") % {"n": line.quantity - line.refunded_qty}
            continue
        out[line_id] = rules.refund_for_units(
            line.paid_total, line.quantity, already=line.refunded_qty, units=qty, currency=order.currency
        )
    if errors:
        raise ValidationError(_("退款明细有误"), fields=errors)
    return out


def order_refund(
    *, actor: Actor, order: Order, units: Mapping[int, int], reason: str, reference: str = ""
) -> list[PaymentRefund]:
    """Refund units of an order's lines through the payment provider: the amount is exactly
    what was paid for them. Never more than paid (DB constraints back the services).
    Returns the refund records: one, or two when a presale order's refund is more than its
    balance payment has left (the rest comes from the deposit payment); none when the units
    were free (e.g. gifts). Each record's line detail (``PaymentRefund.lines``) adds up to its
    amount: the balance part takes the lines' amounts first, the deposit part the rest; a line
    split between them counts its units on the balance part only (``qty`` 0 on the deposit
    part) — see :func:`rules.apportion_refund`."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("请填写退款原因"), fields={"reason": _("必填")})
    with transaction.atomic():
        order = _locked(order)
        if order.paid_amount <= 0 and order.payable > 0:
            raise InvalidTransition(_("订单 %(n)s 尚未付款，无需退款") % {"n": order.number})
        if rules.Status(order.status) in rules.PAID_NOT_SHIPPED and _refunds_all(order, units):
            # the goods have not left: a refund of all of it is a cancellation, which also gives
            # back the stock, coupons and offer uses (order_cancel); refunded, the order would
            # otherwise stay paid and could still be reviewed and shipped
            raise InvalidTransition(
                _("订单 %(n)s 尚未发货，不能整单退款；请取消订单（全额退款并退回库存和优惠券）")
                % {"n": order.number},
                code="cancel_instead",
            )
        return _refund_order_lines(order, actor=actor, reason=reason, units=units, reference=reference)


def _refunds_all(order: Order, units: Mapping[int, int]) -> bool:
    """Whether refunding ``units`` leaves nothing of the order: every unit refunded, or all
    that was paid returned (the free lines, e.g. gifts, alone would be left to ship).
    Raises ValidationError for bad units, as the refund itself would."""
    units = {k: v for k, v in units.items() if v}
    amount = sum(refund_quote(order, units).values(), Decimal("0.00"))
    if order.paid_amount > 0 and order.refunded_amount + amount >= order.paid_amount:
        return True
    return all(line.refunded_qty + units.get(line.pk, 0) >= line.quantity for line in order.lines.all())


def _refund_order_lines(
    order: Order, *, actor: Actor, reason: str, units: Mapping[int, int], reference: str = ""
) -> list[PaymentRefund]:
    units = {k: v for k, v in units.items() if v}
    amounts = refund_quote(order, units)
    total = sum(amounts.values(), Decimal("0.00"))
    before = dict(
        OrderLine.objects.filter(pk__in=list(units)).values_list("pk", "refunded_amount", named=False)
    )
    for line_id, qty in units.items():
        # the new amount is computed in Python (SQLite would add the decimals as floats:
        # 83.34 + 83.33 > 166.67); the update is conditional on the amount it was computed from
        changed = OrderLine.objects.filter(
            pk=line_id, refunded_amount=before[line_id], refunded_qty__lte=F("quantity") - qty
        ).update(refunded_qty=F("refunded_qty") + qty, refunded_amount=before[line_id] + amounts[line_id])
        if not changed:
            raise Conflict(_("退款数量超过可退数量"), code="over_refund")
    if total == 0:
        _event(order, actor, "refund_zero", note=reason, lines={str(k): v for k, v in units.items()})
        return []
    payments = list(order.payments.filter(status=PaymentStatus.SUCCEEDED))
    if not payments:
        raise Conflict(_("找不到该订单的成功支付记录"), code="no_payment")
    parts = _refund_split(payments, total)
    details = rules.apportion_refund(
        [(k, units[k], v) for k, v in amounts.items()], [amount for _, amount in parts]
    )
    refunds = []
    for (payment, amount), detail in zip(parts, details, strict=True):
        refunds.append(
            _refund_payment(
                payment,
                order,
                amount=amount,
                reason=reason,
                lines=[{"line": k, "qty": q, "amount": str(a)} for k, q, a in detail],
                actor=actor,
                count_on_order=True,
                reference=f"{reference}-{len(refunds) + 1}" if reference and refunds else reference,
            )
        )
    return refunds


def _refund_split(payments: list[Payment], total: Decimal) -> list[tuple[Payment, Decimal]]:
    """Which successful payments of an order return ``total``: the only one; of a presale
    order, the balance payment as far as it has money left, then the deposit payment (a
    provider refunds at most what a transaction collected)."""
    if len(payments) == 1:
        return [(payments[0], total)]
    order_of = {PaymentStage.BALANCE: 0, PaymentStage.FULL: 1, PaymentStage.DEPOSIT: 2}
    payments.sort(key=lambda p: order_of.get(PaymentStage(p.stage), 1))
    returned = dict(
        PaymentRefund.objects.filter(payment__in=payments, status=RefundStatus.SUCCEEDED)
        .values_list("payment_id")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    parts = []
    for payment in payments:
        room = payment.amount - returned.get(payment.pk, Decimal(0))
        take = min(room, total)
        if take > 0:
            parts.append((payment, take))
            total -= take
    if total > 0:
        raise Conflict(_("退款金额超过实付金额"), code="over_refund")
    return parts


def _refund_payment(
    payment: Payment,
    order: Order,
    *,
    amount: Decimal,
    reason: str,
    lines: list[dict[str, Any]],
    actor: Actor,
    count_on_order: bool,
    reference: str = "",
) -> PaymentRefund:
    gateway = pay.provider(payment.provider)
    ref = reference or f"R{order.number}{secrets.token_hex(3).upper()}"
    if PaymentRefund.objects.filter(reference=ref).exists():
        raise Conflict(_("退款单号重复：%(r)s") % {"r": ref}, code="duplicate_refund")
    # every check before the provider is asked: money that left cannot be called back.
    # Compared in Python on the locked row: SQLite keeps decimals as floats, so the same test
    # in SQL (refunded <= paid - amount) refused exact last refunds (293.00 - 97.67 ≠ 195.33)
    if count_on_order and order.refunded_amount + amount > order.paid_amount:
        raise Conflict(_("退款金额超过实付金额"), code="over_refund")
    result = gateway.refund(
        reference=payment.reference,
        provider_txn_id=payment.provider_txn_id,
        amount=amount,
        refund_reference=ref,
    )
    if not result.ok:
        raise Conflict(_("支付渠道退款失败：%(r)s") % {"r": result.reason}, code="refund_failed")
    if count_on_order:
        changed = Order.objects.filter(pk=order.pk, version=order.version).update(
            refunded_amount=order.refunded_amount + amount, version=F("version") + 1
        )
        if not changed:
            raise Conflict(
                _("订单 %(n)s 已被其他操作修改，请刷新后重试") % {"n": order.number}, code="stale_order"
            )
        order.refresh_from_db()
    refund = PaymentRefund.objects.create(
        payment=payment,
        order=order,
        reference=ref,
        amount=amount,
        reason=reason[:200],
        lines=lines,
        status=RefundStatus.SUCCEEDED,
        provider_refund_id=result.provider_refund_id,
        actor_label=actor.label[:150],
    )
    _event(order, actor, "refunded", note=reason, amount=amount, reference=ref)
    audit_record(
        actor=actor,
        action="order.refund",
        obj=order,
        store_id=order.store_id,
        after={"amount": amount, "refund": ref, "refunded_total": order.refunded_amount},
        note=reason,
    )
    return refund


def payment_callback_reject(
    *, provider: str, body: bytes, error: str, now: dt.datetime | None = None
) -> None:
    """Record a callback whose signature or body did not verify (kept for disputes)."""
    PaymentCallback.objects.create(
        provider=provider[:30],
        event_id="",
        valid_signature=False,
        result="rejected",
        payload={"body": body[:2000].decode("utf-8", "replace"), "error": error[:200]},
        received_at=now or timezone.now(),
    )


def payment_for_reference(*, reference: str, provider: str) -> Payment:
    payment = Payment.objects.filter(reference=reference, provider=provider).first()
    if payment is None:
        raise NotFound(_("支付单不存在：%(r)s") % {"r": reference})
    return payment
