"""Orders for goods taken with points (MEM-02 "points redeemable for goods").

A points redemption is an order like any other — numbered, its stock reserved where the
allocator says (ORD-02), reviewed, allocated, shipped, cancellable before shipping — except
that it is not priced by the promotions engine: its one line is worth the SKU's list price
and is discounted in full, so it is placed with nothing to pay and marked paid at once
(as :func:`storeops.orders.services.order_place` does with an order whose payable is 0).

The members app takes the points in the same transaction (:func:`points_order_place` must be
called inside it) and gives them back, in full when the order ends before shipping and in
proportion when units are returned or refunded through after-sales (which moves no money);
it finds those orders with :func:`points_orders_given_back`. Orders carry the redemption in
``pricing["points_redemption"]`` (reward id and points), so the order pages can say so.

Like :mod:`storeops.orders.imports`, this module uses the placement helpers of
:mod:`storeops.orders.services` instead of duplicating them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from storeops.audit.services import audit_record
from storeops.catalog import selectors as catalog_selectors
from storeops.core.context import Actor
from storeops.core.errors import Conflict, ValidationError
from storeops.core.numbers import create_numbered
from storeops.inventory import services as inventory_services
from storeops.orders import rules
from storeops.orders import services as order_services
from storeops.orders.models import Allocation, Order, OrderEvent, OrderLine, Source
from storeops.stores.models import Channel, Store
from storeops.stores.selectors import playbook_get

S = rules.Status
MARKER = rules.POINTS_REDEMPTION  # the key of Order.pricing that marks a points order


def points_order_place(
    *,
    actor: Actor,
    store: Store,
    channel: Channel,
    customer_ref: str,
    sku_id: int,
    quantity: int,
    points: int,
    reward_id: int,
    address: order_services.AddressIn,
    buyer_note: str = "",
    idempotency_key: str | None = None,
    now: dt.datetime | None = None,
) -> Order:
    """Place a paid order with nothing to pay for ``quantity`` × the SKU, taken for ``points``.
    Stock is reserved like any order's (:class:`InsufficientStock` when it is short: nothing
    is written). Must run inside the caller's transaction, which takes the points. A reused
    ``idempotency_key`` of the store raises ``IntegrityError`` (the caller replays the first
    redemption, :func:`points_order_by_key`)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("points_order_place must run inside the transaction that takes the points")
    now = now or timezone.now()
    customer_ref = (customer_ref or "").strip()
    if channel.store_id != store.pk:
        raise ValidationError(_("渠道不属于该店铺"), fields={"channel": _("渠道不属于该店铺")})
    if not customer_ref:
        raise ValidationError(_("缺少顾客标识"), fields={"customer": _("必填")})
    if quantity < 1:
        raise ValidationError(_("数量必须大于 0"), fields={"quantity": _("数量必须大于 0")})
    errors = order_services._address_errors(address)
    if errors:
        raise ValidationError(_("收货信息不完整"), fields=errors)
    if order_services._frozen(store.pk, customer_ref):
        raise Conflict(_("该顾客账号已被冻结（确认刷单），不能下单"), code="account_frozen")
    sku = catalog_selectors.skus_by_id(store=store, ids=[sku_id]).get(sku_id)
    if sku is None or not sku.is_active:
        raise ValidationError(_("兑换的商品已停用或不存在"), fields={"sku": _("SKU 不存在或已停用")})
    playbook = playbook_get(store=store, channel=channel)
    legs = order_services._allocation_plan(
        store=store, playbook=playbook, address=address, need={sku.pk: quantity}, skus={sku.pk: sku}
    )
    worth = (sku.price * quantity).quantize(Decimal("0.01"))
    is_new = order_services.is_new_customer(store, customer_ref)
    note_zh = f"积分兑换：{points} 积分"
    note_en = f"Redeemed for {points} points"
    order = create_numbered(
        Order,
        now,
        store=store,
        channel=channel,
        source=Source.STOREFRONT,
        idempotency_key=idempotency_key,
        customer_ref=customer_ref,
        is_new_customer=is_new,
        **address.order_fields(),
        currency=store.currency,
        list_total=worth,
        discount_total=worth,
        payable=Decimal("0.00"),
        pricing={
            MARKER: {"reward": reward_id, "points": points},
            "applied": [],
            "explanation": [{"zh": note_zh, "en": note_en}],
        },
        buyer_note=buyer_note[:300],
        created_at=now,
    )
    line = OrderLine.objects.create(
        order=order,
        position=1,
        sku=sku,
        sku_code=sku.code,
        title=(_("积分兑换：%(t)s") % {"t": sku.product.title})[:200],
        quantity=quantity,
        unit_price=sku.price,
        list_total=worth,
        discount=worth,
        paid_total=Decimal("0.00"),
    )
    taken: dict[int, int] = {}
    allocations: list[Allocation] = []
    for warehouse, leg_sku, qty in legs:
        inventory_services.stock_reserve(
            actor=actor, sku=sku, warehouse=warehouse, quantity=qty, reference=f"order:{order.number}"
        )
        assert leg_sku == sku.pk
        allocations += order_services._allocation_parts([line], warehouse, qty, taken)
    Allocation.objects.bulk_create(allocations)
    order_services._event(order, actor, "placed", dst=S.CREATED, at=now, payable=order.payable, lines=1)
    audit_record(
        actor=actor,
        action="order.place",
        obj=order,
        store_id=store.pk,
        after={"payable": order.payable, "status": order.status, "points": points, "reward": reward_id},
    )
    return order_services._mark_paid(order, actor=actor, now=now, payment=None)


@dataclass(frozen=True, slots=True)
class PointsOrder:
    id: int
    number: str
    customer_ref: str
    reward_id: int | None  # None: the order under that key is not a points redemption
    quantity: int


def points_order_by_key(store: Store, key: str) -> PointsOrder | None:
    """The order placed under idempotency key ``key`` in the store, with the redemption it
    records (one query and one for its line); None when there is none."""
    order = Order.objects.filter(store=store, idempotency_key=key).first()
    if order is None:
        return None
    marker = order.pricing.get(MARKER) if isinstance(order.pricing, dict) else None
    quantity = sum(order.lines.values_list("quantity", flat=True))
    return PointsOrder(
        id=order.pk,
        number=order.number,
        customer_ref=order.customer_ref,
        reward_id=int(marker["reward"]) if marker else None,
        quantity=quantity,
    )


@dataclass(frozen=True, slots=True)
class PointsOrderBack:
    """How much of a points order the member gave back: ``back`` of its ``units``."""

    number: str
    customer_ref: str
    units: int
    back: int  # all units when the order was cancelled or closed; else the units refunded
    ended: bool  # cancelled or closed (before shipping)


def points_orders_given_back(
    store: Store, *, customer_refs: Iterable[str], since: dt.datetime | None = None
) -> list[PointsOrderBack]:
    """Points orders of ``customer_refs`` that were cancelled or closed, or of which units were
    returned or refunded through after-sales (at or after ``since``; None: ever), oldest first
    (one query). An after-sale "refund" of a points order moves no money (it paid nothing):
    its units are counted on the lines (``refunded_qty``) and its time is the order's
    ``refund_zero`` event."""
    refs = list(customer_refs)
    if not refs:
        return []
    ended = Q(status__in=[S.CANCELLED, S.CLOSED])
    qs = Order.objects.filter(store=store, customer_ref__in=refs, payable=0, pricing__has_key=MARKER)
    if since is None:
        qs = qs.filter(ended | Q(lines__refunded_qty__gt=0))
    else:
        refunded = OrderEvent.objects.filter(order=OuterRef("pk"), kind="refund_zero", created_at__gte=since)
        qs = qs.filter((ended & Q(cancelled_at__gte=since)) | Q(Exists(refunded)))
    rows = (
        Order.objects.filter(pk__in=qs.values("pk"))
        .annotate(units=Sum("lines__quantity"), refunded=Sum("lines__refunded_qty"))
        .order_by("id")
        .values_list("number", "customer_ref", "status", "units", "refunded")
    )
    return [
        PointsOrderBack(
            number=number,
            customer_ref=ref,
            units=units,
            back=units if status in (S.CANCELLED, S.CLOSED) else refunded,
            ended=status in (S.CANCELLED, S.CLOSED),
        )
        for number, ref, status, units, refunded in rows
    ]
