"""Orders API (/api/v1/orders).

Storefront (the own web shop and integrations; ORD-06) — checkout in three calls:

1. ``POST /orders/shop/{store}/quote`` — the cart priced by the promotions engine, with
   "only X left" stock and offer countdowns;
2. ``POST /orders/shop/{store}/orders`` — place the order (idempotency key) and start its
   payment: the answer carries the gateway's redirect URL / QR data;
3. the customer pays at the gateway, which calls ``POST /orders/payments/{provider}/callback``
   (HMAC-signed, idempotent). With the built-in test gateway, step 3 is
   ``POST /orders/test-gateway/{reference}`` (development only).

Back office: order list and detail, review (ORD-01), address fix and customer notification
(ORD-04), allocation, shipping, delivery and cancellation; confirmed order brushing cancels
the order and freezes the account, frozen accounts are listed and lifted (RISK-01).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from django.conf import settings
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Header, Router, Schema, Status

from storeops.accounts.access import perm, principal
from storeops.core.api import OneOf, Page, paginate
from storeops.core.errors import InvalidSignature, NotFound, ValidationError
from storeops.fulfilment import api as fulfilment_api
from storeops.fulfilment import selectors as fulfilment_selectors
from storeops.inventory import selectors as inventory_selectors
from storeops.members import selectors as member_selectors
from storeops.orders import groups, rules, selectors, services
from storeops.orders import payments as pay
from storeops.orders.models import (
    GroupStatus,
    HoldReasonChoice,
    MemberTier,
    NotificationChannel,
    Order,
    OrderStatus,
    PaymentStage,
    Source,
)
from storeops.promotions import selectors as promotion_selectors
from storeops.promotions import services as promotion_services
from storeops.stores.models import Channel, Store
from storeops.stores.selectors import playbook_get

router = Router(tags=["orders"])


class ProviderSignature:
    """Ninja auth callable for payment callbacks: the provider verifies the body's signature
    (HMAC-SHA256 for the test gateway). Invalid → recorded and 401."""

    openapi_security_schema: ClassVar[dict[str, str]] = {
        "type": "apiKey",
        "in": "header",
        "name": pay.SIGNATURE_HEADER,
    }

    def __call__(self, request: HttpRequest) -> str | None:
        name = str((request.resolver_match.kwargs if request.resolver_match else {}).get("provider", ""))
        try:
            gateway = pay.provider(name)
        except KeyError:
            raise NotFound(_("没有这个支付渠道：%(p)s") % {"p": name[:40]}, code="unknown_provider") from None
        try:
            gateway.verify(request.body, request.headers)
        except pay.InvalidCallback as exc:
            services.payment_callback_reject(provider=name, body=request.body, error=str(exc))
            if not isinstance(exc, pay.BadSignature):  # signed, but not a callback we can read
                raise ValidationError(
                    _("回调内容无效，已记录并拒绝"), fields={"body": str(exc)}, code="invalid_callback"
                ) from None
            raise InvalidSignature(
                _(
                    "回调未通过校验，已记录并拒绝："
                    "请用支付渠道的密钥对原始请求体计算 HMAC-SHA256，放在 %(h)s 头中"
                )
                % {"h": pay.SIGNATURE_HEADER},
                fields={pay.SIGNATURE_HEADER: str(exc)},
            ) from None
        return name


def _store(store_id: int) -> Store:
    return get_object_or_404(Store, pk=store_id)


def _channel(store: Store, channel_id: int) -> Channel:
    channel = Channel.objects.filter(pk=channel_id, store=store).first()
    if channel is None:
        raise ValidationError("渠道不存在", fields={"channel_id": "渠道不存在"})
    return channel


def _order(store: Store, number: str, channel_id: int | None) -> Order:
    """The order numbered ``number``; numbers are unique per channel only, so when two channels
    of the store use the same number the caller names one (``?channel_id=``, else a 422)."""
    return selectors.order_detail(store, number, channel_id=channel_id)


# --- schemas -------------------------------------------------------------------------------------


class CustomerIn(Schema):
    ref: str
    tier: str | None = None
    segments: list[str] = []
    is_new: bool = False


class CartLineIn(Schema):
    sku: str
    quantity: int


class GroupIn(Schema):
    """Group buying (拼团): ``offer_id`` of a group-buy offer starts a group, ``code`` joins one."""

    offer_id: int | None = None
    code: str = ""


class CartIn(Schema):
    channel_id: int
    customer: CustomerIn
    lines: list[CartLineIn]
    coupon_codes: list[str] = []
    group: GroupIn | None = None  # group buying: start or join a group (priced at the group price)


class AddressSchema(Schema):
    receiver: str
    phone: str
    province: str
    city: str = ""
    district: str = ""
    address: str
    latitude: Decimal | None = None
    longitude: Decimal | None = None


class PlaceIn(CartIn):
    address: AddressSchema
    buyer_note: str = ""
    idempotency_key: str | None = None
    provider: str = "test"
    # the shopper's device (app install id / browser fingerprint), or the X-Device-Id header:
    # 1–64 letters, digits, ``. _ : -`` (RISK-01)
    device_id: str | None = None
    # the shopper's IP as the storefront saw it, or the X-Client-IP header (RISK-01); the
    # address that connects to this API is the storefront's server, never taken for it
    client_ip: str | None = None


class StockHintOut(Schema):
    sku: str
    available: int
    only_left: int | None  # set when stock is scarce: show "仅剩 X 件"


class CountdownOut(Schema):
    offer_id: str
    ends_at: dt.datetime
    seconds_left: int


class FlashLeftOut(Schema):
    offer_id: str
    stock_left: int  # the flash sale's units left (before this cart): "仅剩 X 件"
    buyer_left: int  # the units this customer may still buy at the flash price


class ShopQuoteOut(Schema):
    quote: dict[str, Any]
    stock: list[StockHintOut]
    countdowns: list[CountdownOut]
    flash_sales: list[FlashLeftOut]


class PaymentOut(Schema):
    reference: str
    provider: str
    stage: Annotated[str, OneOf(PaymentStage)]  # a presale order has a deposit and a balance payment
    amount: Decimal
    status: str
    redirect_url: str
    qr_data: str
    expires_at: dt.datetime

    @staticmethod
    def resolve_redirect_url(obj: Any) -> str:
        return str(obj.instructions.get("redirect_url", ""))

    @staticmethod
    def resolve_qr_data(obj: Any) -> str:
        return str(obj.instructions.get("qr_data", ""))


class LineOut(Schema):
    id: int
    position: int
    sku_code: str
    title: str
    quantity: int
    unit_price: Decimal
    list_total: Decimal
    discount: Decimal
    paid_total: Decimal
    is_gift: bool
    refunded_qty: int
    refunded_amount: Decimal


class OrderOut(Schema):
    number: str
    channel_id: int
    source: str
    customer_ref: str
    status: str
    status_label: str
    receiver: str
    phone_masked: str
    province: str
    city: str
    currency: str
    list_total: Decimal
    discount_total: Decimal
    payable: Decimal
    paid_amount: Decimal
    refunded_amount: Decimal
    # presale (定金膨胀): the deposit (0 for other orders), whether it is paid, and the window
    # in which the balance (payable - deposit) is paid with POST …/pay
    deposit_amount: Decimal
    deposit_paid: Decimal
    balance_starts: dt.datetime | None
    balance_ends: dt.datetime | None
    is_big_promo: bool
    member_tier: str  # the buyer's tier when the order was placed (MEM-01); "" = not a member
    # the buyer's lifecycle segment when the order was placed (MEM-04; "" = not a member, or
    # no buyer on the latest snapshot): ``high_value`` ships within segment_high_value_ship_hours
    customer_segment: str
    hold_reasons: list[str]
    created_at: dt.datetime
    paid_at: dt.datetime | None
    ship_by: dt.datetime | None
    shipped_at: dt.datetime | None
    delivered_at: dt.datetime | None

    @staticmethod
    def resolve_status_label(obj: Order) -> str:
        return str(OrderStatus(obj.status).label)


class EventOut(Schema):
    kind: str
    from_status: str
    to_status: str
    note: str
    actor_label: str
    created_at: dt.datetime


class AllocationOut(Schema):
    line_id: int
    warehouse_id: int
    warehouse_code: str
    quantity: int
    released: bool
    shipped: bool

    @staticmethod
    def resolve_warehouse_code(obj: Any) -> str:
        return str(obj.warehouse.code)


class ParcelOut(Schema):
    """A parcel carrying the order: its own, or a merged one carrying other orders too
    (``order_numbers``, all of them)."""

    id: int
    carrier: str
    carrier_name: str
    tracking_no: str
    warehouse_code: str
    status: str
    order_numbers: list[str]
    created_at: dt.datetime
    delivered_at: dt.datetime | None

    @staticmethod
    def resolve_carrier(obj: Any) -> str:
        return str(obj.carrier.code)

    @staticmethod
    def resolve_carrier_name(obj: Any) -> str:
        return str(obj.carrier.name)

    @staticmethod
    def resolve_order_numbers(obj: Any) -> list[str]:
        return [link.order_number for link in obj.orders.all()]


class OrderDetailOut(OrderOut):
    district: str
    address: str
    buyer_note: str
    client_ip_masked: str  # where the storefront order came from (RISK-01), masked like the phone
    device_id_masked: str
    fraud_score: int | None
    pricing: dict[str, Any]
    lines: list[LineOut]
    allocations: list[AllocationOut]
    events: list[EventOut]
    payments: list[PaymentOut]
    shipments: list[ParcelOut]

    @staticmethod
    def resolve_lines(obj: Order) -> list[Any]:
        return list(obj.lines.all())

    @staticmethod
    def resolve_allocations(obj: Order) -> list[Any]:
        from storeops.orders.models import Allocation

        return list(Allocation.objects.filter(line__order=obj).select_related("warehouse").order_by("pk"))

    @staticmethod
    def resolve_events(obj: Order) -> list[Any]:
        return list(obj.events.all())

    @staticmethod
    def resolve_payments(obj: Order) -> list[Any]:
        return list(obj.payments.all())

    @staticmethod
    def resolve_shipments(obj: Order) -> list[Any]:
        return fulfilment_selectors.order_shipments(
            store=obj.store, channel=obj.channel_id, order_number=obj.number
        )


class ShopOrderOut(OrderOut):
    """The storefront's view of its order: with its lines (their ids are what an after-sales
    request names)."""

    lines: list[LineOut]

    @staticmethod
    def resolve_lines(obj: Order) -> list[Any]:
        return list(obj.lines.all())


class GroupOut(Schema):
    """A group-buy group (拼团): share ``code`` with friends; it forms when ``size`` orders are
    paid before ``expires_at``."""

    code: str
    offer_id: str
    status: Annotated[str, OneOf(GroupStatus)]
    size: int
    joined: int  # live orders in the group (paid or awaiting payment)
    paid: int
    expires_at: dt.datetime
    formed_at: dt.datetime | None


class PlacedOut(Schema):
    order: OrderOut
    payment: PaymentOut | None
    replayed: bool
    group: GroupOut | None = None


class CallbackOut(Schema):
    result: str
    order_number: str
    order_status: str


class GatewayIn(Schema):
    outcome: Literal["succeeded", "failed"] = "succeeded"
    reason: str = ""


class GatewayOut(Schema):
    callback: CallbackOut
    body: str
    signature: str


class CancelIn(Schema):
    reason: str


class OrderReviewIn(Schema):
    action: Literal["auto", "approve", "hold"]  # the route's three actions (below)
    note: str = ""


class BrushingIn(Schema):
    note: str  # why it is brushing: the evidence the reviewer saw


class FreezeIn(Schema):
    customer_ref: str
    reason: str


class LiftIn(Schema):
    note: str


class FreezeOut(Schema):
    id: int
    customer_ref: str
    reason: str
    order_number: str
    frozen_by: str
    frozen_at: dt.datetime
    lifted_by: str
    lifted_at: dt.datetime | None
    lift_note: str

    @staticmethod
    def resolve_order_number(obj: Any) -> str:
        return obj.order.number if obj.order_id else ""


class ShipIn(Schema):
    carrier: str = ""  # blank: the suggested carrier (LOG-03)
    tracking_no: str = ""
    tracking_numbers: dict[int, str] = {}


class DeliverIn(Schema):
    at: dt.datetime | None = None


class NotifyIn(Schema):
    channel: Annotated[str, OneOf(NotificationChannel)] = "sms"
    text: str
    purpose: str = "manual"


# --- storefront ----------------------------------------------------------------------------------


def _shopper(store: Store, c: CustomerIn, *, judge_new: bool = True) -> promotion_services.Shopper:
    return _buyer(store, c, judge_new=judge_new)[0]


def _buyer(store: Store, c: CustomerIn, *, judge_new: bool = True) -> tuple[promotion_services.Shopper, str]:
    """The shopper as the quote sees them, and their lifecycle segment (MEM-04, "" for a
    customer who is not a member), from one read of the member row. A member's tier is
    StoreOps' own (MEM-01/02: it follows their growth value), whatever the caller says; for a
    customer who is not a member the caller's ``tier`` stands (a shop that keeps its tiers
    elsewhere). Whether they are new to the store (new-user-only offers) is StoreOps' own too,
    from their orders (``judge_new``; placing an order judges it in the service, in the
    order's transaction)."""
    ref = c.ref.strip()
    tier, segment = (member_selectors.member_standing(store, ref) if ref else None) or (None, "")
    is_new = services.is_new_customer(store, ref) if ref and judge_new else c.is_new
    shopper = promotion_services.Shopper(
        customer_ref=ref, tier=tier or c.tier, segments=frozenset(c.segments), is_new=is_new
    )
    return shopper, segment


def _group(cart: CartIn) -> groups.GroupRequest | None:
    g = cart.group
    return None if g is None else groups.GroupRequest(offer_id=g.offer_id, code=g.code)


def _items(lines: list[CartLineIn]) -> list[promotion_services.CartItem]:
    return [promotion_services.CartItem(sku_code=line.sku, quantity=line.quantity) for line in lines]


@router.post("/shop/{store_id}/quote", response=ShopQuoteOut, auth=perm("orders.place_order"))
def shop_quote(request: HttpRequest, store_id: int, payload: CartIn) -> dict[str, Any]:
    """Step 1 of checkout: the best price, scarce stock and offer countdowns (ORD-06)."""
    store = _store(store_id)
    channel = _channel(store, payload.channel_id)
    now = timezone.now()
    _choice, shopper = groups.group_choose(
        store=store, customer=_shopper(store, payload.customer), request=_group(payload), now=now, lock=False
    )
    result = promotion_services.quote_cart(
        store=store,
        channel=channel,
        lines=_items(payload.lines),
        customer=shopper,
        coupon_codes=payload.coupon_codes,
        now=now,
    )
    threshold = playbook_get(store=store, channel=channel).scarcity_show_below
    available = inventory_selectors.available_by_sku(sku_ids=[s.id for s in result.skus])
    stock = []
    for sku in result.skus:
        units = max(0, available.get(sku.id, 0))
        stock.append(
            {"sku": sku.code, "available": units, "only_left": units if units <= threshold else None}
        )
    offer_ids = [
        pk for a in result.quote.applied if (pk := promotion_selectors.offer_pk(a.offer_id)) is not None
    ]
    ends = promotion_selectors.offer_end_times(store=store, offer_ids=offer_ids)
    countdowns = [
        {"offer_id": f"of{pk}", "ends_at": at, "seconds_left": max(0, int((at - now).total_seconds()))}
        for pk, at in sorted(ends.items())
    ]
    return {
        "quote": promotion_selectors.quote_as_dict(result.quote, [s.code for s in result.skus]),
        "stock": stock,
        "countdowns": countdowns,
        "flash_sales": result.flash_left(),
    }


@router.post(
    "/shop/{store_id}/orders", response={200: PlacedOut, 201: PlacedOut}, auth=perm("orders.place_order")
)
def shop_place(
    request: HttpRequest,
    store_id: int,
    payload: PlaceIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
    device_id: str | None = Header(None, alias="X-Device-Id"),
    client_ip: str | None = Header(None, alias="X-Client-IP"),
) -> Status:
    """Step 2: place the order and start its payment. The same idempotency key (header or
    body) returns the first order (200) instead of creating another (201). The order records
    the shopper's IP and device id as the storefront sends them (header or body) for the
    brushing review (RISK-01)."""
    # the channel with its store in one query; the separate reads only to tell which is missing
    channel = Channel.objects.select_related("store").filter(pk=payload.channel_id, store_id=store_id).first()
    if channel is None:
        channel = _channel(_store(store_id), payload.channel_id)
    store = channel.store
    actor = principal(request).actor
    a = payload.address
    shopper, segment = _buyer(store, payload.customer, judge_new=False)
    order, created, payment = services.checkout_place(
        provider=payload.provider,
        actor=actor,
        store=store,
        channel=channel,
        customer=shopper,
        customer_segment=segment,
        lines=_items(payload.lines),
        address=services.AddressIn(
            receiver=a.receiver,
            phone=a.phone,
            province=a.province,
            city=a.city,
            district=a.district,
            address=a.address,
            latitude=a.latitude,
            longitude=a.longitude,
        ),
        coupon_codes=payload.coupon_codes,
        idempotency_key=idempotency_key or payload.idempotency_key,
        buyer_note=payload.buyer_note,
        client_ip=client_ip or payload.client_ip,
        device_id=device_id or payload.device_id or "",
        group=_group(payload),
    )
    body = {"order": order, "payment": payment, "replayed": not created}
    if order.group_id is not None:
        body["group"] = selectors.group_summary(store=store, group_id=order.group_id)
    return Status(201 if created else 200, body)


@router.get("/shop/{store_id}/groups/{code}", response=GroupOut, auth=perm("orders.place_order"))
def shop_group(request: HttpRequest, store_id: int, code: str) -> dict[str, Any]:
    """A group-buy group by its code: how many have joined and paid, and its deadline (for the
    storefront's share page)."""
    return selectors.group_summary(store=_store(store_id), code=code)


@router.get("/shop/{store_id}/orders/{number}", response=ShopOrderOut, auth=perm("orders.place_order"))
def shop_order(request: HttpRequest, store_id: int, number: str, channel_id: int | None = None) -> Order:
    return _order(_store(store_id), number, channel_id)


@router.post("/shop/{store_id}/orders/{number}/pay", response=PaymentOut, auth=perm("orders.place_order"))
def shop_pay(
    request: HttpRequest, store_id: int, number: str, provider: str = "test", channel_id: int | None = None
) -> Any:
    """Start a new payment attempt (after a failure or timeout); returns the open one if any.
    A presale order's balance is paid here, in its balance window (409 ``balance_not_open`` /
    ``balance_closed`` outside it)."""
    order = _order(_store(store_id), number, channel_id)
    return services.payment_start(actor=principal(request).actor, order=order, provider=provider)


@router.post("/shop/{store_id}/orders/{number}/cancel", response=OrderOut, auth=perm("orders.place_order"))
def shop_cancel(
    request: HttpRequest, store_id: int, number: str, payload: CancelIn, channel_id: int | None = None
) -> Order:
    """The customer cancels before shipping. A presale order whose balance is unpaid gives back
    the playbook's share of its deposit (``presale_deposit_refund_ratio``, 0 = 定金不退)."""
    order = _order(_store(store_id), number, channel_id)
    return services.order_cancel(
        actor=principal(request).actor, order=order, reason=payload.reason, by_customer=True
    )


@router.post("/payments/{provider}/callback", response=CallbackOut, auth=ProviderSignature())
def payment_callback(request: HttpRequest, provider: str) -> services.CallbackResult:
    """The provider's asynchronous notification. Always answer 200 for a verified callback
    (even a duplicate) so the provider stops retrying."""
    return services.payment_callback(provider=provider, body=request.body, headers=request.headers)


@router.post("/test-gateway/{reference}", response=GatewayOut, auth=perm("orders.place_order"))
def test_gateway_pay(request: HttpRequest, reference: str, payload: GatewayIn) -> dict[str, Any]:
    """Development only: the customer "pays" at the built-in test gateway, which then sends
    its signed callback. Returns the callback body and signature (to replay it in tests)."""
    if not settings.STOREOPS_PAYMENT_TEST_GATEWAY:
        raise Http404
    payment = services.payment_for_reference(reference=reference, provider="test")
    body, headers = pay.TestGateway().callback(
        reference=payment.reference, amount=payment.amount, outcome=payload.outcome, reason=payload.reason
    )
    result = services.payment_callback(provider="test", body=body, headers=headers)
    return {"callback": result, "body": body.decode(), "signature": headers[pay.SIGNATURE_HEADER]}


# --- back office ---------------------------------------------------------------------------------


@router.get("/{store_id}/orders", response=Page[OrderOut], auth=perm("orders.view_order"))
def order_list(
    request: HttpRequest,
    store_id: int,
    status: Annotated[str, OneOf(OrderStatus, blank=True)] = "",
    channel_id: int | None = None,
    q: str = "",
    created_from: dt.datetime | None = None,
    created_to: dt.datetime | None = None,
    paid_from: dt.datetime | None = None,
    paid_to: dt.datetime | None = None,
    hold_reason: Annotated[str, OneOf(HoldReasonChoice, blank=True)] = "",
    ship_risk: Annotated[str, OneOf((rules.ShipRisk.AT_RISK, rules.ShipRisk.BREACHED), blank=True)] = "",
    source: Annotated[str, OneOf(Source, blank=True)] = "",
    is_big_promo: bool | None = None,
    member_tier: Annotated[str, OneOf(MemberTier, blank=True)] = "",
    sort: Annotated[str, OneOf(selectors.SORTS)] = "",
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    """Orders, newest first, with the console's filters: ``q`` matches the order number,
    customer, receiver or the last digits of the phone; ``hold_reason`` an exception code;
    ``ship_risk`` is ``at_risk`` or ``breached`` (ORD-03); ``member_tier`` the buyer's tier
    when the order was placed (MEM-01). ``sort=ship_by``: earliest ship-by deadline first
    (orders without one last), the warehouse's picking order."""
    qs = selectors.order_list(
        _store(store_id),
        status=status,
        channel_id=channel_id,
        q=q,
        created_from=created_from,
        created_to=created_to,
        paid_from=paid_from,
        paid_to=paid_to,
        hold_reason=hold_reason,
        ship_risk=ship_risk,
        source=source,
        is_big_promo=is_big_promo,
        member_tier=member_tier,
        sort=sort,
    )
    return paginate(qs, page, page_size)


@router.get("/{store_id}/orders/{number}", response=OrderDetailOut, auth=perm("orders.view_order"))
def order_detail(request: HttpRequest, store_id: int, number: str, channel_id: int | None = None) -> Order:
    return _order(_store(store_id), number, channel_id)


@router.post("/{store_id}/orders/{number}/review", response=OrderOut, auth=perm("orders.review_order"))
def order_review(
    request: HttpRequest, store_id: int, number: str, payload: OrderReviewIn, channel_id: int | None = None
) -> Order:
    """``auto`` runs the ORD-01 rules now; ``approve`` passes a held order; ``hold`` sends it
    to the manual queue (note required)."""
    order = _order(_store(store_id), number, channel_id)
    actor = principal(request).actor
    if payload.action == "auto":
        return services.order_auto_review(actor=actor, order=order)
    if payload.action == "approve":
        return services.order_approve(actor=actor, order=order, note=payload.note)
    return services.order_hold(actor=actor, order=order, note=payload.note)  # "hold" (the schema checks)


@router.post("/{store_id}/orders/{number}/address", response=OrderOut, auth=perm("orders.change_order"))
def order_address(
    request: HttpRequest, store_id: int, number: str, payload: AddressSchema, channel_id: int | None = None
) -> Order:
    order = _order(_store(store_id), number, channel_id)
    return services.order_update_address(
        actor=principal(request).actor,
        order=order,
        address=services.AddressIn(**payload.dict()),
    )


@router.post("/{store_id}/orders/{number}/notify", response={201: dict}, auth=perm("orders.change_order"))
def order_notify(
    request: HttpRequest, store_id: int, number: str, payload: NotifyIn, channel_id: int | None = None
) -> Status:
    order = _order(_store(store_id), number, channel_id)
    note = services.customer_notify(
        actor=principal(request).actor,
        order=order,
        purpose=payload.purpose,
        channel=payload.channel,
        text=payload.text,
    )
    return Status(201, {"id": note.pk, "sent_at": note.sent_at, "delivered": note.delivered})


@router.post("/{store_id}/orders/{number}/allocate", response=OrderOut, auth=perm("orders.ship_order"))
def order_allocate(request: HttpRequest, store_id: int, number: str, channel_id: int | None = None) -> Order:
    return services.order_allocate(
        actor=principal(request).actor, order=_order(_store(store_id), number, channel_id)
    )


@router.post("/{store_id}/orders/{number}/ship", response=list[OrderOut], auth=perm("orders.ship_order"))
def order_ship(
    request: HttpRequest, store_id: int, number: str, payload: ShipIn, channel_id: int | None = None
) -> list[Order]:
    """Ship the order (and the orders merged with it). One tracking number when one warehouse
    ships; otherwise ``tracking_numbers`` maps warehouse id → tracking number. Without
    ``carrier``, the suggested one (LOG-03); a carrier breaking the store's carrier rules is a
    422 ``carrier_not_allowed``."""
    order = _order(_store(store_id), number, channel_id)
    numbers: dict[int, str] | str = payload.tracking_numbers or payload.tracking_no
    return services.order_ship(
        actor=principal(request).actor, order=order, carrier_code=payload.carrier, tracking_numbers=numbers
    )


@router.get(
    "/{store_id}/orders/{number}/carrier-suggestion",
    response=fulfilment_api.CarrierSuggestionOut,
    auth=perm("orders.view_order"),
)
def order_carrier_suggestion(
    request: HttpRequest, store_id: int, number: str, channel_id: int | None = None
) -> dict[str, Any]:
    """The carrier to ship the order with (LOG-03): one that takes each of its parcels (and
    those of the orders merged with it) to its province under the store's carrier rules,
    best by delivery time, cost and problems; with the reason."""
    order = _order(_store(store_id), number, channel_id)
    return fulfilment_api.suggestion_out(selectors.ship_carrier_suggestion(order))


@router.post("/{store_id}/orders/{number}/deliver", response=OrderOut, auth=perm("orders.ship_order"))
def order_deliver(
    request: HttpRequest, store_id: int, number: str, payload: DeliverIn, channel_id: int | None = None
) -> Order:
    order = _order(_store(store_id), number, channel_id)
    return services.order_deliver(actor=principal(request).actor, order=order, at=payload.at)


@router.post("/{store_id}/orders/{number}/cancel", response=OrderOut, auth=perm("orders.cancel_order"))
def order_cancel(
    request: HttpRequest, store_id: int, number: str, payload: CancelIn, channel_id: int | None = None
) -> Order:
    order = _order(_store(store_id), number, channel_id)
    return services.order_cancel(actor=principal(request).actor, order=order, reason=payload.reason)


# --- order brushing and frozen accounts (RISK-01) ------------------------------------------------


@router.post("/{store_id}/orders/{number}/brushing", response=OrderOut, auth=perm("orders.freeze_account"))
def order_brushing(
    request: HttpRequest, store_id: int, number: str, payload: BrushingIn, channel_id: int | None = None
) -> Order:
    """Confirm that the order is brushing (刷单): it is cancelled (a paid one refunded in full)
    and its customer account frozen — later storefront orders of the account get 409
    ``account_frozen``, its imported orders are held in review."""
    order = _order(_store(store_id), number, channel_id)
    return services.order_confirm_brushing(actor=principal(request).actor, order=order, note=payload.note)


@router.get("/{store_id}/frozen-accounts", response=Page[FreezeOut], auth=perm("orders.view_accountfreeze"))
def frozen_accounts(
    request: HttpRequest,
    store_id: int,
    state: Annotated[str, OneOf(selectors.FREEZE_STATES)] = "active",
    q: str = "",
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    """Frozen accounts, newest first: ``state`` active (default) / lifted / all."""
    return paginate(selectors.account_freezes(_store(store_id), state=state, q=q), page, page_size)


@router.post(
    "/{store_id}/frozen-accounts",
    response={201: FreezeOut},
    auth=perm("orders.freeze_account"),
)
def frozen_account_add(request: HttpRequest, store_id: int, payload: FreezeIn) -> Any:
    """Freeze an account without an order (e.g. a ring found in a report)."""
    freeze = services.account_freeze(
        actor=principal(request).actor,
        store=_store(store_id),
        customer_ref=payload.customer_ref,
        reason=payload.reason,
    )
    return Status(201, freeze)


@router.post(
    "/{store_id}/frozen-accounts/{freeze_id}/lift", response=FreezeOut, auth=perm("orders.freeze_account")
)
def frozen_account_lift(request: HttpRequest, store_id: int, freeze_id: int, payload: LiftIn) -> Any:
    freeze = selectors.account_freeze_get(_store(store_id), freeze_id)
    return services.account_unfreeze(actor=principal(request).actor, freeze=freeze, note=payload.note)
