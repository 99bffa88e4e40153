"""Group buying at the checkout (拼团, SOP PROMO-01): ``group_size`` buyers within
``time_limit_hours`` pay the group price, else they are refunded.

A buyer starts a group by placing an order with the group-buy offer's id, or joins one by
placing an order with the group's code (shared by the storefront). Either way the order is
priced with the group price (the quote engine's ``joined_groups``) and linked to the
:class:`~storeops.orders.models.OrderGroup`. The group forms when ``size`` of its orders are
paid before its deadline: their ship-by deadlines start then (ORD-03) and the review takes
them (ORD-01); until then they are neither reviewed nor shipped. A group past its deadline
fails, and the sweep cancels its orders — the paid ones refunded in full, stock, coupons and
offer uses given back (the order cancellation does all of it). An order paid into a group that
has already failed (a late callback) is refunded by the same sweep.

A group is open to others once one of its orders is paid (开团 = the leader pays, as on the
big platforms): a code shared before that, or of a group whose paid orders all ended, is
refused (``group_not_open``). A group whose every order has ended (the leader's closed unpaid,
say) fails at once instead of waiting for its deadline.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from storeops.audit.services import audit_record
from storeops.core.context import Actor
from storeops.core.errors import Conflict, NotFound, ValidationError
from storeops.orders import rules
from storeops.orders.models import GroupStatus, Order, OrderEvent, OrderGroup
from storeops.promotions import engine as e
from storeops.promotions import selectors as promotion_selectors
from storeops.promotions.services import Shopper
from storeops.stores.models import Store

S = rules.Status
_ENDED = (S.CANCELLED, S.CLOSED)
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed by people


@dataclass(frozen=True, slots=True)
class GroupRequest:
    """What the cart says: start a group of the group-buy offer ``offer_id``, or join ``code``."""

    offer_id: int | None = None
    code: str = ""


@dataclass(frozen=True, slots=True)
class GroupChoice:
    offer_id: int
    group: OrderGroup | None  # None: a new group, started with the order
    size: int
    hours: int


def group_choose(
    *, store: Store, customer: Shopper, request: GroupRequest | None, now: dt.datetime, lock: bool = True
) -> tuple[GroupChoice | None, Shopper]:
    """Check the cart's group request and return it with the shopper as the quote must see
    them: a member of the group, priced at the group price. When placing the order (``lock``,
    in its transaction) a joined group's row is locked so that two joiners cannot both take
    its last place; a quote only reads."""
    if request is None:
        return None, customer
    choice = _choose(
        store=store, customer_ref=customer.customer_ref or "", request=request, now=now, lock=lock
    )
    return choice, dataclasses.replace(customer, joined_groups=customer.joined_groups | {choice.offer_id})


def _choose(
    *, store: Store, customer_ref: str, request: GroupRequest, now: dt.datetime, lock: bool
) -> GroupChoice:
    code = (request.code or "").strip().upper()
    if bool(code) == (request.offer_id is not None):
        raise ValidationError(
            _("拼团信息有误"), fields={"group": _("开团填写 offer_id，参团填写团号 code，二选一")}
        )
    group = None
    offer_id = request.offer_id
    if code:
        rows = OrderGroup.objects.select_for_update() if lock else OrderGroup.objects
        group = rows.filter(store=store, code=code).first()
        if group is None:
            raise ValidationError(_("拼团信息有误"), fields={"group.code": _("团号不存在")})
        if group.status != GroupStatus.OPEN or group.expires_at <= now:
            raise Conflict(_("该团已结束（已成团或已过截止时间），请另行开团"), code="group_closed")
        live = Order.objects.filter(group=group).exclude(status__in=_ENDED)
        if live.filter(customer_ref=customer_ref).exists():
            raise Conflict(_("您已在该团中"), code="group_already_joined")
        if live.count() >= group.size:
            raise Conflict(_("该团人数已满，请另行开团"), code="group_full")
        if not live.filter(paid_at__isnull=False).exists():
            raise Conflict(_("团长付款后才能参团，请稍后再试或另行开团"), code="group_not_open")
        offer_id = group.offer_id
    assert offer_id is not None
    try:
        offer = promotion_selectors.offer_get(store=store, offer_id=offer_id)
    except NotFound:
        raise ValidationError(_("拼团信息有误"), fields={"group.offer_id": _("拼团活动不存在")}) from None
    running = (offer.starts_at is None or offer.starts_at <= now) and (
        offer.ends_at is None or now < offer.ends_at
    )
    if offer.kind != "group_buy" or offer.status != "active" or not running:
        raise ValidationError(_("拼团信息有误"), fields={"group.offer_id": _("不是进行中的拼团活动")})
    mechanic = promotion_selectors.offer_to_engine(offer, currency=store.currency).mechanic
    assert isinstance(mechanic, e.GroupBuy)
    return GroupChoice(offer.pk, group, mechanic.group_size, mechanic.time_limit_hours)


def group_for_order(
    choice: GroupChoice, quote: e.Quote, *, store: Store, leader_ref: str, now: dt.datetime
) -> OrderGroup:
    """The group the priced order belongs to: the one it joins, or a new one it starts. The
    group price must have applied (a cart without the offer's goods is refused)."""
    if f"of{choice.offer_id}" not in {a.offer_id for a in quote.applied}:
        raise ValidationError(
            _("拼团信息有误"),
            fields={"group": _("购物车未按拼团价计价：没有该拼团活动的商品，或已有更低的价格")},
        )
    if choice.group is not None:
        return choice.group
    code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))  # 50 bits; unique in the DB
    return OrderGroup.objects.create(
        store=store,
        offer_id=choice.offer_id,
        code=code,
        leader_ref=leader_ref,
        size=choice.size,
        created_at=now,
        expires_at=now + dt.timedelta(hours=choice.hours),
    )


def group_formed(order: Order) -> bool:
    """Whether the order may go on to review: not a group order, or its group has formed."""
    if order.group_id is None:
        return True
    return OrderGroup.objects.filter(pk=order.group_id, status=GroupStatus.FORMED).exists()


def reviewable() -> Q:
    """The orders the review may take: no group, or a formed one."""
    return Q(group__isnull=True) | Q(group__status=GroupStatus.FORMED)


def group_member_paid(
    *,
    order: Order,
    actor: Actor,
    now: dt.datetime,
    promise_hours: int,
    diamond_hours: int,
    high_value_hours: int | None = None,
) -> OrderGroup:
    """Called in the payment's transaction once ``order`` is paid: the group forms when
    ``size`` of its orders are paid; each paid order's ship-by deadline starts then — the
    channel's ``promise_hours``, or ``diamond_hours`` for a diamond member's order (MEM-01) and
    ``high_value_hours`` for a high-value customer's (MEM-04) when that is sooner."""
    group = OrderGroup.objects.select_for_update().get(pk=order.group_id)
    if group.status == GroupStatus.OPEN and group.expires_at > now:
        paid = Order.objects.filter(group=group, paid_at__isnull=False).exclude(status__in=_ENDED).count()
        if paid >= group.size:
            group.status, group.formed_at = GroupStatus.FORMED, now
            group.save(update_fields=["status", "formed_at"])
            audit_record(
                actor=actor,
                action="order.group_formed",
                obj=group,
                store_id=group.store_id,
                after={"status": group.status, "paid_orders": paid},
            )
    if group.status == GroupStatus.FORMED:
        formed = group.formed_at or now
        waiting = Order.objects.filter(group=group, status=S.PAID, ship_by__isnull=True)
        members = list(waiting.values_list("pk", "member_tier", "customer_segment"))
        by_hours: dict[int, list[int]] = {}
        for pk, tier, segment in members:
            hours = rules.promise_hours(
                promise_hours,
                tier=tier,
                diamond_hours=diamond_hours,
                segment=segment,
                high_value_hours=high_value_hours,
            )
            by_hours.setdefault(hours, []).append(pk)
        for hours, pks in by_hours.items():  # one UPDATE per deadline (three at most)
            Order.objects.filter(pk__in=pks).update(ship_by=rules.ship_by(formed, promise_hours=hours))
        OrderEvent.objects.bulk_create(
            OrderEvent(
                order_id=pk,
                kind="group_formed",
                note=_("拼团 %(c)s 已成团") % {"c": group.code},
                data={"group": group.code},
                actor_label=actor.label[:150],
                created_at=now,
            )
            for pk, *_standing in members
        )
    return group


def group_member_left(*, order: Order, actor: Actor, now: dt.datetime) -> None:
    """Called in the transaction that ends ``order`` (closed unpaid, cancelled): its open group
    fails at once when no live order is left in it (nobody can join it any more)."""
    if order.group_id is None:
        return
    group = OrderGroup.objects.select_for_update().get(pk=order.group_id)
    if group.status != GroupStatus.OPEN:
        return
    if Order.objects.filter(group=group).exclude(pk=order.pk).exclude(status__in=_ENDED).exists():
        return
    _fail(group, actor=actor, now=now, reason="no live orders")


def _fail(group: OrderGroup, *, actor: Actor, now: dt.datetime, reason: str) -> None:
    """Mark the (locked, open) group failed; the sweep cancels its live orders."""
    group.status, group.failed_at = GroupStatus.FAILED, now
    group.save(update_fields=["status", "failed_at"])
    audit_record(
        actor=actor,
        action="order.group_failed",
        obj=group,
        store_id=group.store_id,
        after={"status": "failed", "reason": reason},
    )


def groups_expire(*, now: dt.datetime | None = None) -> int:
    """The sweep: open groups past their deadline fail; the orders of failed groups that are
    still live are cancelled (paid ones refunded in full). Idempotent. Returns the orders
    cancelled."""
    from storeops.orders import services  # the cancellation (services imports this module)

    now = now or timezone.now()
    actor = Actor.system("worker")
    for group in OrderGroup.objects.filter(status=GroupStatus.OPEN, expires_at__lte=now):
        with transaction.atomic():
            locked = OrderGroup.objects.select_for_update().get(pk=group.pk)
            if locked.status != GroupStatus.OPEN:
                continue
            _fail(locked, actor=actor, now=now, reason="deadline")
    cancelled = 0
    live = Order.objects.filter(group__status=GroupStatus.FAILED, status__in=rules.RESERVED)
    for order in live.order_by("pk"):
        try:
            services.order_cancel(actor=actor, order=order, reason=_("拼团未成团，自动取消并退款"), now=now)
            cancelled += 1
        except Conflict:
            continue  # changed meanwhile (e.g. the customer cancelled it): the next sweep sees
    return cancelled
