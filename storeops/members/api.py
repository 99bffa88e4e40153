"""Members API (/api/v1/members): members with their tier, points and ledger (MEM-01/02), join
and referral binding (MEM-05), points adjustment and redemption for coupons or goods
(MEM-02), the points rewards catalogue (coupons and goods), referral statistics, birthday
gifts (MEM-01), and on-demand runs of the order sync, the monthly tier coupons and the
birthday gifts (MEM-01/02/03)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Header, Router, Schema, Status
from pydantic import Field

from storeops.accounts.access import perm, principal
from storeops.core.api import OneOf, Page, paginate
from storeops.core.errors import ValidationError
from storeops.members import selectors, services
from storeops.members.models import BirthdayGift, EntryKind, Gender, Member, RewardKind, Tier
from storeops.members.rules import birthday_text
from storeops.orders.services import AddressIn
from storeops.stores.models import Channel, Store
from storeops.stores.selectors import playbook_get

router = Router(tags=["members"])


def _store(store_id: int) -> Store:
    return get_object_or_404(Store, pk=store_id)


# ---- schemas ------------------------------------------------------------------------------------


class MemberOut(Schema):
    id: int
    customer_ref: str
    tier: str
    growth_value: int
    points_balance: int
    paid_orders: int
    joined_at: dt.datetime
    tier_changed_at: dt.datetime | None
    invite_code: str
    referred_by: str | None
    referral_rewarded_at: dt.datetime | None
    gender: str
    birth_year: int | None
    birthday: str | None  # "MM-DD"
    city: str
    # MEM-04: the lifecycle segment on the latest daily snapshot ("" = no buyer then); read-only
    segment: str

    @staticmethod
    def resolve_referred_by(obj: Member) -> str | None:
        return obj.referred_by.customer_ref if obj.referred_by_id else None

    @staticmethod
    def resolve_birthday(obj: Member) -> str | None:
        return birthday_text(obj.birth_month, obj.birth_day)


class LedgerOut(Schema):
    id: int
    kind: str
    points: int
    growth: int
    points_after: int
    growth_after: int
    source_ref: str
    order_number: str
    amount: Decimal | None
    multiplier: int
    shortfall: int
    coupon_code: str
    reason: str
    actor_label: str
    created_at: dt.datetime


class InviteeOut(Schema):
    id: int
    customer_ref: str
    joined_at: dt.datetime
    paid_orders: int
    referral_rewarded_at: dt.datetime | None
    referral_order: str


class BirthdayGiftOut(Schema):
    id: int
    member_id: int
    customer_ref: str
    year: int
    birthday: dt.date
    tier: str
    coupons: int
    codes: list[str]
    issued_at: dt.datetime

    @staticmethod
    def resolve_customer_ref(obj: BirthdayGift) -> str:
        return obj.member.customer_ref


DETAIL_LEDGER = 50  # the latest ledger lines in a member's detail (all: GET …/ledger)
DETAIL_INVITEES = 100  # the latest invitees in a member's detail (all: GET …/invitees)


class MemberDetailOut(MemberOut):
    ledger: list[LedgerOut]
    invitees: list[InviteeOut]
    invitees_total: int
    birthday_gifts: list[BirthdayGiftOut]

    @staticmethod
    def resolve_birthday_gifts(obj: Member) -> list[Any]:
        return selectors.member_birthday_gifts(member=obj)

    @staticmethod
    def resolve_ledger(obj: Member) -> list[Any]:
        return list(selectors.member_ledger(member=obj)[:DETAIL_LEDGER])

    @staticmethod
    def resolve_invitees(obj: Member) -> list[Any]:
        return list(selectors.member_invitees(member=obj)[:DETAIL_INVITEES])

    @staticmethod
    def resolve_invitees_total(obj: Member) -> int:
        return selectors.member_invitees(member=obj).count()


class JoinIn(Schema):
    customer_ref: str
    invite_code: str = ""
    gender: Annotated[str, OneOf(Gender)] = ""  # "": not given
    birth_year: int | None = None
    birthday: str | None = None  # "MM-DD"
    city: str = ""


class ProfilePatch(Schema):
    gender: Annotated[str, OneOf(Gender)] | None = None
    birth_year: int | None = None
    birthday: str | None = None  # "MM-DD"; "" or null clears it
    city: str | None = None


class ReferrerIn(Schema):
    invite_code: str


class PointsAdjustIn(Schema):
    points: int
    growth: int = 0
    reason: str


class RedeemIn(Schema):
    reward_id: int


class RedeemOut(Schema):
    coupon_code: str
    amount: Decimal
    points: int
    points_balance: int


class AddressIn_(Schema):  # noqa: N801  (the orders service's AddressIn is what it becomes)
    receiver: str
    phone: str
    province: str
    city: str = ""
    district: str = ""
    address: str
    latitude: Decimal | None = None
    longitude: Decimal | None = None


class RedeemGoodsIn(Schema):
    reward_id: int
    quantity: int = 1
    address: AddressIn_
    channel_id: int | None = None  # default: the store's own web shop
    buyer_note: str = ""


class RedeemGoodsOut(Schema):
    order_number: str
    order_id: int
    quantity: int
    points: int
    points_balance: int
    replayed: bool = False


class RewardIn(Schema):
    coupon_template_id: int


class GoodsRewardIn(Schema):
    sku_id: int | None = None
    sku_code: str = ""
    points_price: int


class RewardActiveIn(Schema):
    active: bool


class RewardOut(Schema):
    id: int
    kind: Annotated[str, OneOf(RewardKind)]
    coupon_template_id: int | None
    sku_id: int | None
    sku_code: str
    name: str
    amount: Decimal | None  # coupon face value, or the goods' list price
    points: int | None
    stock: int | None  # goods: units available to reserve
    is_active: bool
    available: bool


class InviterOut(Schema):
    member_id: int
    customer_ref: str
    invited: int
    rewarded: int


class ReferralStatsOut(Schema):
    invited: int
    rewarded: int
    pending: int
    acquisition_cost: Decimal
    referral_coupon_value: Decimal
    top_inviters: list[InviterOut]


class SyncOut(Schema):
    earned: int
    reversed: int
    restored: int
    tier_changes: int
    rewarded: int


class TierCouponsOut(Schema):
    month: str
    members: int
    coupons: int
    not_due: bool


class BirthdayGiftsRunOut(Schema):
    members: int
    coupons: int


# ---- members ------------------------------------------------------------------------------------


@router.get("/{store_id}/members", response=Page[MemberOut], auth=perm("members.view_member"))
def members_list(
    request: HttpRequest,
    store_id: int,
    q: str = "",
    tier: Annotated[str, OneOf(Tier, blank=True)] = "",
    referred: Annotated[str, OneOf(selectors.REFERRED_FILTERS, blank=True)] = "",
    customer_ref: str = "",
    birth_month: Annotated[int, Field(ge=1, le=12)] | None = None,
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    """Members, newest first; ``q`` matches customer, invite code or city; ``customer_ref`` is
    an exact match; ``tier`` filters (silver / gold / diamond); ``referred`` = yes / no;
    ``birth_month`` (1–12): members whose birthday is in that month."""
    qs = selectors.member_list(
        store=_store(store_id),
        q=q,
        tier=tier,
        referred=referred,
        customer_ref=customer_ref,
        birth_month=birth_month,
    )
    return paginate(qs, page, page_size)


@router.post("/{store_id}/members", response={201: MemberOut}, auth=perm("members.add_member"))
def member_join(request: HttpRequest, store_id: int, payload: JoinIn) -> Status:
    member = services.member_join(actor=principal(request).actor, store=_store(store_id), **payload.dict())
    return Status(201, member)


@router.get("/{store_id}/members/{member_id}", response=MemberDetailOut, auth=perm("members.view_member"))
def member_detail(request: HttpRequest, store_id: int, member_id: int) -> Member:
    """The member with their latest 50 ledger lines and latest 100 invitees (``invitees_total``:
    how many they invited; every one through ``…/invitees``)."""
    return selectors.member_get(store=_store(store_id), member_id=member_id)


@router.patch("/{store_id}/members/{member_id}", response=MemberOut, auth=perm("members.change_member"))
def member_update(request: HttpRequest, store_id: int, member_id: int, payload: ProfilePatch) -> Member:
    member = selectors.member_get(store=_store(store_id), member_id=member_id)
    changes = payload.dict(exclude_unset=True)
    return services.member_update(actor=principal(request).actor, member=member, **changes)


@router.get(
    "/{store_id}/members/{member_id}/ledger", response=Page[LedgerOut], auth=perm("members.view_member")
)
def member_ledger(
    request: HttpRequest,
    store_id: int,
    member_id: int,
    kind: Annotated[str, OneOf(EntryKind, blank=True)] = "",
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    member = selectors.member_get(store=_store(store_id), member_id=member_id)
    return paginate(selectors.member_ledger(member=member, kind=kind), page, page_size)


@router.get(
    "/{store_id}/members/{member_id}/invitees", response=Page[InviteeOut], auth=perm("members.view_member")
)
def member_invitees(
    request: HttpRequest, store_id: int, member_id: int, page: int = 1, page_size: int = 50
) -> dict[str, Any]:
    """The members this member invited (MEM-05), newest first."""
    member = selectors.member_get(store=_store(store_id), member_id=member_id)
    return paginate(selectors.member_invitees(member=member), page, page_size)


@router.post(
    "/{store_id}/members/{member_id}/referrer", response=MemberOut, auth=perm("members.change_member")
)
def member_set_referrer(request: HttpRequest, store_id: int, member_id: int, payload: ReferrerIn) -> Member:
    """Bind an inviter by invite code (before the member's first paid order; no self-referral
    or loops)."""
    member = selectors.member_get(store=_store(store_id), member_id=member_id)
    return services.member_set_referrer(
        actor=principal(request).actor, member=member, invite_code=payload.invite_code
    )


@router.post(
    "/{store_id}/members/{member_id}/points/adjust",
    response={201: LedgerOut},
    auth=perm("members.adjust_points"),
)
def points_adjust(request: HttpRequest, store_id: int, member_id: int, payload: PointsAdjustIn) -> Status:
    """A manual adjustment with a reason; beyond the playbook's ``points_adjust_limit`` (and
    for growth value) the caller needs ``members.adjust_points_any``."""
    who = principal(request)
    member = selectors.member_get(store=_store(store_id), member_id=member_id)
    entry = services.points_adjust(
        actor=who.actor,
        member=member,
        points=payload.points,
        growth=payload.growth,
        reason=payload.reason,
        unlimited=who.has_perm("members.adjust_points_any"),
    )
    return Status(201, entry)


@router.post(
    "/{store_id}/members/{member_id}/points/redeem",
    response={201: RedeemOut},
    auth=perm("members.redeem_points"),
)
def points_redeem(request: HttpRequest, store_id: int, member_id: int, payload: RedeemIn) -> Status:
    """Spend points on a coupon of the rewards catalogue (a cash offset)."""
    member = selectors.member_get(store=_store(store_id), member_id=member_id)
    done = services.points_redeem(actor=principal(request).actor, member=member, reward_id=payload.reward_id)
    return Status(
        201,
        {
            "coupon_code": done.coupon_code,
            "amount": done.amount,
            "points": done.points,
            "points_balance": done.entry.points_after,
        },
    )


@router.post(
    "/{store_id}/members/{member_id}/points/redeem-goods",
    response={200: RedeemGoodsOut, 201: RedeemGoodsOut},
    auth=perm("members.redeem_points"),
)
def points_redeem_goods(
    request: HttpRequest,
    store_id: int,
    member_id: int,
    payload: RedeemGoodsIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
) -> Status:
    """Spend points on goods of the rewards catalogue: a paid order with nothing to pay is
    placed for the reward's SKU (stock reserved like any order) in ``channel_id`` (default:
    the store's own web shop), and the points are taken with it. The points come back when
    the order is cancelled or closed before shipping (next order sync). The same
    ``Idempotency-Key`` header returns the first redemption (200, ``replayed``) instead of
    redeeming again (201)."""
    store = _store(store_id)
    member = selectors.member_get(store=store, member_id=member_id)
    channel = None
    if payload.channel_id is not None:
        channel = Channel.objects.filter(store=store, pk=payload.channel_id).first()
        if channel is None:
            raise ValidationError(_("渠道不存在"), fields={"channel_id": _("渠道不存在")})
    done = services.points_redeem_goods(
        actor=principal(request).actor,
        member=member,
        reward_id=payload.reward_id,
        quantity=payload.quantity,
        address=AddressIn(**payload.address.dict()),
        channel=channel,
        buyer_note=payload.buyer_note,
        idempotency_key=idempotency_key,
    )
    return Status(
        200 if done.replayed else 201,
        {
            "order_number": done.order_number,
            "order_id": done.order_id,
            "quantity": done.quantity,
            "points": done.points,
            "points_balance": done.entry.points_after,
            "replayed": done.replayed,
        },
    )


# ---- rewards catalogue ----------------------------------------------------------------------------


def _reward_out(row: selectors.RewardRow) -> dict[str, Any]:
    return {
        "id": row.reward.pk,
        "kind": row.reward.kind,
        "coupon_template_id": row.reward.coupon_template_id,
        "sku_id": row.reward.sku_id,
        "sku_code": row.goods.code if row.goods else "",
        "name": row.name,
        "amount": row.amount,
        "points": row.points,
        "stock": row.goods.stock if row.goods else None,
        "is_active": row.reward.is_active,
        "available": row.available,
    }


@router.get("/{store_id}/rewards", response=list[RewardOut], auth=perm("members.view_pointsreward"))
def rewards_list(
    request: HttpRequest, store_id: int, kind: Annotated[str, OneOf(RewardKind, blank=True)] = ""
) -> list[dict[str, Any]]:
    """The rewards catalogue; ``kind`` filters (coupon / goods)."""
    store = _store(store_id)
    rows = selectors.reward_rows(store=store, book=playbook_get(store=store), kind=kind)
    return [_reward_out(r) for r in rows]


@router.post("/{store_id}/rewards", response={201: RewardOut}, auth=perm("members.add_pointsreward"))
def reward_create(request: HttpRequest, store_id: int, payload: RewardIn) -> Status:
    store = _store(store_id)
    reward = services.reward_create(
        actor=principal(request).actor, store=store, coupon_template_id=payload.coupon_template_id
    )
    rows = selectors.reward_rows(store=store, book=playbook_get(store=store))
    return Status(201, _reward_out(next(r for r in rows if r.reward.pk == reward.pk)))


@router.post("/{store_id}/rewards/goods", response={201: RewardOut}, auth=perm("members.add_pointsreward"))
def reward_create_goods(request: HttpRequest, store_id: int, payload: GoodsRewardIn) -> Status:
    """Offer a SKU of the store (``sku_id`` or ``sku_code``) for ``points_price`` points."""
    store = _store(store_id)
    reward = services.reward_create_goods(
        actor=principal(request).actor,
        store=store,
        sku_id=payload.sku_id,
        sku_code=payload.sku_code,
        points_price=payload.points_price,
    )
    rows = selectors.reward_rows(store=store, book=playbook_get(store=store), kind="goods")
    return Status(201, _reward_out(next(r for r in rows if r.reward.pk == reward.pk)))


@router.post(
    "/{store_id}/rewards/{reward_id}/active", response=RewardOut, auth=perm("members.change_pointsreward")
)
def reward_set_active(
    request: HttpRequest, store_id: int, reward_id: int, payload: RewardActiveIn
) -> dict[str, Any]:
    store = _store(store_id)
    reward = selectors.reward_get(store=store, reward_id=reward_id)
    services.reward_set_active(actor=principal(request).actor, reward=reward, active=payload.active)
    rows = selectors.reward_rows(store=store, book=playbook_get(store=store))
    return _reward_out(next(r for r in rows if r.reward.pk == reward.pk))


# ---- referral and runs ------------------------------------------------------------------------------


@router.get("/{store_id}/referrals", response=ReferralStatsOut, auth=perm("members.view_member"))
def referral_stats(request: HttpRequest, store_id: int) -> dict[str, Any]:
    """Invited members, rewarded and pending referrals, the top inviters, and the referral
    coupons' value against the acquisition cost (MEM-05)."""
    store = _store(store_id)
    stats = selectors.referral_stats(store=store)
    templates = selectors.active_templates_of_rule(store=store, rule=selectors.REFERRAL_RULE)
    return {
        "invited": stats.invited,
        "rewarded": stats.rewarded,
        "pending": stats.pending,
        "acquisition_cost": playbook_get(store=store).referral_acquisition_cost,
        "referral_coupon_value": sum((t.amount for t in templates), Decimal(0)),
        "top_inviters": stats.top_inviters,
    }


@router.post("/{store_id}/sync", response=SyncOut, auth=perm("members.change_member"))
def points_sync(request: HttpRequest, store_id: int) -> dict[str, Any]:
    """Run the order sync now (MEM-02 earning, reversal and points back for cancelled goods
    orders, MEM-05 referral coupons)."""
    result = services.points_sync(actor=principal(request).actor, store=_store(store_id))
    return {
        "earned": result.earned,
        "reversed": result.reversed,
        "restored": result.restored,
        "tier_changes": result.tier_changes,
        "rewarded": result.rewarded,
    }


@router.post("/{store_id}/tier-coupons", response=TierCouponsOut, auth=perm("members.change_member"))
def tier_coupons(request: HttpRequest, store_id: int) -> dict[str, Any]:
    """Issue this month's tier coupons now (idempotent; nothing before the issue day)."""
    run = services.tier_coupons_issue(actor=principal(request).actor, store=_store(store_id))
    return {"month": run.month, "members": run.members, "coupons": run.coupons, "not_due": run.not_due}


@router.get("/{store_id}/birthday-gifts", response=Page[BirthdayGiftOut], auth=perm("members.view_member"))
def birthday_gifts(
    request: HttpRequest,
    store_id: int,
    year: Annotated[int, Field(ge=2000, le=2100)] | None = None,
    q: str = "",
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    """Birthday gifts given (MEM-01), newest first; ``year`` filters, ``q`` matches the customer."""
    qs = selectors.birthday_gift_list(store=_store(store_id), year=year, q=q)
    return paginate(qs, page, page_size)


@router.post("/{store_id}/birthday-gifts", response=BirthdayGiftsRunOut, auth=perm("members.change_member"))
def birthday_gifts_issue(request: HttpRequest, store_id: int) -> dict[str, Any]:
    """Give today's due birthday gifts now (idempotent: once per member and year)."""
    run = services.birthday_gifts_issue(actor=principal(request).actor, store=_store(store_id))
    return {"members": run.members, "coupons": run.coupons}
