"""Every change to members (MEM-01/02/03/05): join, profile, referral binding, the points and
growth-value ledger (earn from paid orders, reverse on refunds, redeem for coupons or goods,
restore when a goods order ends unshipped, manual adjust), tier recomputation, monthly tier
coupons, referral coupons and birthday gifts (MEM-01).

* Balances move only through :func:`_post`: one conditional UPDATE (``points_balance >=
  cost``) plus one ledger line with the balances after it, so concurrent redemptions never
  overdraw and the balance is always the sum of the ledger.
* Orders are read through :mod:`storeops.orders.selectors`; the only orders this app places
  are goods redemptions, through :mod:`storeops.orders.redemptions` (in the same
  transaction as the points); coupons are issued only through
  :mod:`storeops.promotions.services`, which stays the one owner of coupons.
* The order sync is idempotent: a ledger line is unique per (member, kind, order or refund),
  so re-running it never credits or reverses twice.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from storeops.audit.services import audit_record
from storeops.core.context import Actor
from storeops.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from storeops.core.idempotency import clean_key, key_reused, once
from storeops.members import rules, selectors
from storeops.members.models import (
    BirthdayGift,
    EntryKind,
    Gender,
    LedgerEntry,
    Member,
    PointsReward,
    RewardKind,
    TierCouponGrant,
)
from storeops.orders import redemptions as order_redemptions
from storeops.orders import selectors as order_selectors
from storeops.orders.services import AddressIn
from storeops.promotions import selectors as promo_selectors
from storeops.promotions import services as promo_services
from storeops.stores.models import Channel, Store
from storeops.stores.playbook import PlaybookSettings
from storeops.stores.selectors import channel_list, playbook_get, store_list

_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: codes are read aloud and typed
_CODE_LENGTH = 8
_SYNC_CHUNK = 500  # customer references per order query


def _new_invite_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_LENGTH))


def _clean_ref(customer_ref: str) -> str:
    ref = (customer_ref or "").strip()
    if not ref or len(ref) > 64:
        raise ValidationError(_("请填写有效的顾客编号"), fields={"customer_ref": _("顾客编号为 1–64 个字符")})
    return ref


def _clean_profile(data: dict[str, Any], errors: dict[str, str], *, now: dt.datetime) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "gender" in data:
        gender = data["gender"] or ""
        if gender not in Gender.values:
            errors["gender"] = _("未知的性别")
        out["gender"] = gender
    if "birth_year" in data:
        year = data["birth_year"]
        this_year = timezone.localdate(now).year
        if year is not None and (
            not isinstance(year, int) or isinstance(year, bool) or not 1900 <= year <= this_year
        ):
            errors["birth_year"] = _("出生年份应在 1900 与今年之间")
        out["birth_year"] = year
    if "city" in data:
        city = str(data["city"] or "").strip()
        if len(city) > 50:
            errors["city"] = _("最多 50 个字符")
        out["city"] = city
    if "birthday" in data:  # "MM-DD" (MEM-01 birthday gift); empty or None clears it
        text = str(data["birthday"] or "").strip()
        month = day = None
        if text:
            try:
                month, day = rules.parse_birthday(text)
            except ValueError:
                errors["birthday"] = _("生日应为“月-日”，如 03-15")
        out["birth_month"], out["birth_day"] = month, day
    return out


def _member_snapshot(m: Member) -> dict[str, Any]:
    return {
        "customer_ref": m.customer_ref,
        "tier": m.tier,
        "growth_value": m.growth_value,
        "points_balance": m.points_balance,
        "paid_orders": m.paid_orders,
        "invite_code": m.invite_code,
        "referred_by": m.referred_by_id,
        "gender": m.gender,
        "birth_year": m.birth_year,
        "birthday": rules.birthday_text(m.birth_month, m.birth_day),
        "city": m.city,
    }


def _inviter_by_code(store: Store, code: str) -> Member:
    inviter = Member.objects.filter(store=store, invite_code=code.strip().upper()).first()
    if inviter is None:
        raise ValidationError(_("邀请码无效"), fields={"invite_code": _("邀请码不存在")})
    return inviter


def _referral_refusal(problem: rules.ReferralProblem) -> ValidationError:
    if problem == rules.ReferralProblem.SELF:
        return ValidationError(
            _("不能使用自己的邀请码"), fields={"invite_code": _("不能邀请自己")}, code="self_referral"
        )
    return ValidationError(
        _("邀请关系不能形成循环：邀请人是由该会员直接或间接邀请的"),
        fields={"invite_code": _("邀请关系不能形成循环")},
        code="referral_loop",
    )


# --- join and profile (MEM-01, MEM-05) ------------------------------------------------------------


def member_join(
    *,
    actor: Actor,
    store: Store,
    customer_ref: str,
    invite_code: str = "",
    gender: str = "",
    birth_year: int | None = None,
    city: str = "",
    birthday: str | None = None,
    now: dt.datetime | None = None,
) -> Member:
    """Register a customer as a silver member, optionally invited by another member's code
    (MEM-05: only a customer without a paid order yet can be invited), and give them the
    store's active sign-up coupons (PROMO-02 rule ``new_user``)."""
    now = now or timezone.now()
    ref = _clean_ref(customer_ref)
    errors: dict[str, str] = {}
    profile = _clean_profile(
        {"gender": gender, "birth_year": birth_year, "city": city, "birthday": birthday}, errors, now=now
    )
    if profile["birth_month"] is not None:
        profile["birthday_set_at"] = now
    if errors:
        raise ValidationError(_("会员信息有误，未保存"), fields=errors)
    with transaction.atomic():
        if Member.objects.filter(store=store, customer_ref=ref).exists():
            raise Conflict(_("该顾客已是会员"), code="already_member")
        inviter = None
        if invite_code.strip():
            inviter = _inviter_by_code(store, invite_code)
            if inviter.customer_ref == ref:
                raise _referral_refusal(rules.ReferralProblem.SELF)
            if order_selectors.customer_has_paid_order(store, ref):
                raise ValidationError(
                    _("邀请有礼仅限新顾客：该顾客已有付款订单"),
                    fields={"invite_code": _("该顾客已有付款订单")},
                    code="referral_not_new_customer",
                )
        member = None
        for _attempt in range(5):
            try:
                with transaction.atomic():
                    member = Member.objects.create(
                        store=store,
                        customer_ref=ref,
                        joined_at=now,
                        invite_code=_new_invite_code(),
                        referred_by=inviter,
                        **profile,
                    )
                break
            except IntegrityError as exc:
                if Member.objects.filter(store=store, customer_ref=ref).exists():
                    raise Conflict(_("该顾客已是会员"), code="already_member") from exc
        if member is None:  # five colliding codes out of 31^8: a broken random source
            raise Conflict(_("邀请码生成失败，请重试"))
        audit_record(
            actor=actor, action="member.join", obj=member, store_id=store.pk, after=_member_snapshot(member)
        )
        # PROMO-02: the store's sign-up coupons (rule "new_user"), once per customer ever
        promo_services.coupon_issue_by_rule(
            actor=actor,
            store=store,
            rule=selectors.NEW_USER_RULE,
            customer_ref=ref,
            issue_key="join",
            now=now,
        )
    return member


def member_update(*, actor: Actor, member: Member, **changes: Any) -> Member:
    """Change the optional profile fields (gender, birth year, birthday "MM-DD", city). A
    changed birthday records when it was told (a gift window already past is not owed)."""
    unknown = set(changes) - {"gender", "birth_year", "city", "birthday"}
    if unknown:
        raise ValidationError(_("未知字段"), fields={k: _("未知字段") for k in unknown})
    errors: dict[str, str] = {}
    now = timezone.now()
    clean = _clean_profile(changes, errors, now=now)
    if errors:
        raise ValidationError(_("会员信息有误，未保存"), fields=errors)
    with transaction.atomic():
        locked = Member.objects.select_for_update().get(pk=member.pk)
        before = _member_snapshot(locked)
        if "birth_month" in clean and (clean["birth_month"], clean["birth_day"]) != (
            locked.birth_month,
            locked.birth_day,
        ):
            clean["birthday_set_at"] = now if clean["birth_month"] is not None else None
        for key, value in clean.items():
            setattr(locked, key, value)
        locked.save(update_fields=[*clean, "updated_at"])
        audit_record(
            actor=actor,
            action="member.update",
            obj=locked,
            store_id=locked.store_id,
            before=before,
            after=_member_snapshot(locked),
        )
    return locked


def member_set_referrer(*, actor: Actor, member: Member, invite_code: str) -> Member:
    """Bind an inviter to a member who joined without a code, before their first paid order.
    Refuses self-referral and loops (A invited B, B cannot invite A)."""
    with transaction.atomic():
        locked = Member.objects.select_for_update().get(pk=member.pk)
        if locked.referred_by_id is not None:
            raise Conflict(_("该会员已绑定邀请人"), code="referrer_already_set")
        inviter = _inviter_by_code(locked.store, invite_code)
        problem = rules.referral_problem(
            member_id=locked.pk,
            inviter_id=inviter.pk,
            inviter_of=lambda pk: (
                Member.objects.filter(pk=pk).values_list("referred_by_id", flat=True).first()
            ),
        )
        if problem is not None:
            raise _referral_refusal(problem)
        if locked.paid_orders > 0 or order_selectors.customer_has_paid_order(
            locked.store, locked.customer_ref
        ):
            raise ValidationError(
                _("邀请有礼仅限新顾客：该会员已有付款订单"),
                fields={"invite_code": _("该会员已有付款订单")},
                code="referral_not_new_customer",
            )
        locked.referred_by = inviter
        locked.save(update_fields=["referred_by", "updated_at"])
        audit_record(
            actor=actor,
            action="member.referrer",
            obj=locked,
            store_id=locked.store_id,
            before={"referred_by": None},
            after={"referred_by": inviter.pk, "inviter": inviter.customer_ref},
        )
    return locked


# --- the ledger ------------------------------------------------------------------------------------


def _post(
    *,
    actor: Actor,
    member_id: int,
    kind: str,
    points: int = 0,
    growth: int = 0,
    now: dt.datetime,
    **fields: Any,
) -> LedgerEntry:
    """Apply one ledger line: a conditional UPDATE of the balances (refused when it would take
    either below zero) and the line with the balances after it, in the caller's transaction."""
    condition = Q(pk=member_id)
    if points < 0:
        condition &= Q(points_balance__gte=-points)
    if growth < 0:
        condition &= Q(growth_value__gte=-growth)
    changed = Member.objects.filter(condition).update(
        points_balance=F("points_balance") + points, growth_value=F("growth_value") + growth, updated_at=now
    )
    if not changed:
        raise Conflict(_("积分余额不足"), code="points_insufficient")
    points_after, growth_after = Member.objects.filter(pk=member_id).values_list(
        "points_balance", "growth_value"
    )[0]
    return LedgerEntry.objects.create(
        member_id=member_id,
        kind=kind,
        points=points,
        growth=growth,
        points_after=points_after,
        growth_after=growth_after,
        actor_label=actor.label,
        created_at=now,
        **fields,
    )


def _retier(member_id: int, book: PlaybookSettings, now: dt.datetime) -> tuple[str, str]:
    """Recompute the member's tier from growth value and paid orders; returns (old, new)."""
    old, growth, orders = Member.objects.filter(pk=member_id).values_list(
        "tier", "growth_value", "paid_orders"
    )[0]
    new = rules.tier_for(growth=growth, paid_orders=orders, policy=selectors.tier_policy(book)).value
    if new != old:
        Member.objects.filter(pk=member_id).update(tier=new, tier_changed_at=now, updated_at=now)
    return old, new


MAX_ADJUSTMENT = 1_000_000_000  # points or growth moved by one manual adjustment, either way


def points_adjust(
    *,
    actor: Actor,
    member: Member,
    points: int,
    reason: str,
    growth: int = 0,
    unlimited: bool = False,
    now: dt.datetime | None = None,
) -> LedgerEntry:
    """A manual correction with a reason (e.g. goodwill points, a mistaken earning). Without
    ``unlimited`` (the ``members.adjust_points_any`` permission) one adjustment may move at
    most the playbook's ``points_adjust_limit`` points and no growth value."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    errors: dict[str, str] = {}
    for name, value in (("points", points), ("growth", growth)):
        if not isinstance(value, int) or isinstance(value, bool):
            errors[name] = _("应为整数")
        elif abs(value) > MAX_ADJUSTMENT:  # a typo, and beyond it the database's integers overflow
            errors[name] = _("一次最多调整 %(n)s") % {"n": f"{MAX_ADJUSTMENT:,}"}
    if not reason:
        errors["reason"] = _("请填写调整原因")
    elif len(reason) > 200:
        errors["reason"] = _("最多 200 个字符")
    if not errors and points == 0 and growth == 0:
        errors["points"] = _("调整数量不能为 0")
    if errors:
        raise ValidationError(_("积分调整有误，未保存"), fields=errors)
    book = playbook_get(store=member.store)
    if not unlimited:
        if growth:
            raise PermissionDenied(_("调整成长值需要“不限额调整积分”权限"))
        if abs(points) > book.points_adjust_limit:
            raise PermissionDenied(
                _("单次调整超过上限 %(n)s 积分，需要“不限额调整积分”权限") % {"n": book.points_adjust_limit}
            )
    with transaction.atomic():
        locked = Member.objects.select_for_update().get(pk=member.pk)
        entry = _post(
            actor=actor,
            member_id=locked.pk,
            kind=EntryKind.ADJUST,
            points=points,
            growth=growth,
            now=now,
            reason=reason,
        )
        old, new = _retier(locked.pk, book, now)
        audit_record(
            actor=actor,
            action="member.points_adjust",
            obj=locked,
            store_id=locked.store_id,
            before={
                "points_balance": entry.points_after - points,
                "growth_value": entry.growth_after - growth,
                "tier": old,
            },
            after={"points_balance": entry.points_after, "growth_value": entry.growth_after, "tier": new},
            note=reason,
        )
    return entry


# --- redemption (MEM-02 cash offset) ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Redemption:
    entry: LedgerEntry
    coupon_code: str
    amount: Decimal
    points: int


def points_redeem(
    *, actor: Actor, member: Member, reward_id: int, now: dt.datetime | None = None
) -> Redemption:
    """Spend points on a coupon of the rewards catalogue: the coupon (of the template's face
    value) is issued by the promotions app and the points are taken in the same transaction,
    by a conditional UPDATE, so of concurrent redemptions only those the balance covers
    succeed; a refused coupon (template switched off, per-user limit reached) takes no points."""
    now = now or timezone.now()
    store = member.store
    book = playbook_get(store=store)
    reward = PointsReward.objects.filter(store=store, pk=reward_id).first()
    if reward is None:
        raise NotFound(_("积分兑换项不存在"))
    if not reward.is_active:
        raise Conflict(_("该兑换项已停用"), code="reward_inactive")
    if reward.kind != RewardKind.COUPON or reward.coupon_template_id is None:
        raise ValidationError(
            _("该兑换项是实物商品，请使用兑换商品"),
            fields={"reward_id": _("不是抵现券兑换项")},
            code="reward_kind_mismatch",
        )
    template = promo_selectors.coupon_template_get(store=store, template_id=reward.coupon_template_id)
    cost = rules.offset_points(amount=template.amount, points_per_yuan=book.points_per_yuan_redeemed)
    key = f"points-{secrets.token_hex(8)}"
    with transaction.atomic():
        current = Member.objects.get(pk=member.pk)  # no lock: the UPDATE in _post decides
        if current.points_balance < cost:  # saves issuing a coupon that would be rolled back
            raise Conflict(
                _("积分不足：需要 %(n)s 积分，当前 %(b)s") % {"n": cost, "b": current.points_balance},
                code="points_insufficient",
            )
        coupon = promo_services.coupon_issue(
            actor=actor, template=template, customer_ref=current.customer_ref, issue_key=key, now=now
        )
        entry = _post(
            actor=actor,
            member_id=current.pk,
            kind=EntryKind.REDEEM,
            points=-cost,
            now=now,
            source_ref=key,
            amount=template.amount,
            coupon_code=coupon.code,
            reason=template.name[:200],
        )
        audit_record(
            actor=actor,
            action="member.points_redeem",
            obj=current,
            store_id=store.pk,
            before={"points_balance": entry.points_after + cost},
            after={
                "points_balance": entry.points_after,
                "coupon": coupon.code,
                "amount": str(template.amount),
            },
        )
    return Redemption(entry=entry, coupon_code=coupon.code, amount=template.amount, points=cost)


def reward_create(*, actor: Actor, store: Store, coupon_template_id: int) -> PointsReward:
    """Offer a coupon template for points. It must be a no-threshold coupon (a cash offset) of
    this store; its points price follows its face value and the playbook's rate."""
    template = selectors.coupon_templates(store=store).get(coupon_template_id)
    if template is None:
        raise ValidationError(
            _("优惠券模板不存在"), fields={"coupon_template_id": _("不是本店铺的优惠券模板")}
        )
    if template.kind != "no_threshold":
        raise ValidationError(
            _("积分抵现只能兑换无门槛券"), fields={"coupon_template_id": _("请选择无门槛券模板")}
        )
    with transaction.atomic():
        if PointsReward.objects.filter(store=store, coupon_template_id=template.id).exists():
            raise Conflict(_("该优惠券模板已在兑换列表中"))
        reward = PointsReward.objects.create(
            store=store, kind=RewardKind.COUPON, coupon_template_id=template.id
        )
        audit_record(
            actor=actor,
            action="member.reward_create",
            obj=reward,
            store_id=store.pk,
            after={"coupon_template_id": template.id, "name": template.name, "amount": str(template.amount)},
        )
    return reward


def reward_set_active(*, actor: Actor, reward: PointsReward, active: bool) -> PointsReward:
    with transaction.atomic():
        locked = PointsReward.objects.select_for_update().get(pk=reward.pk)
        before = {"is_active": locked.is_active}
        locked.is_active = active
        locked.save(update_fields=["is_active"])
        audit_record(
            actor=actor,
            action="member.reward_activate" if active else "member.reward_deactivate",
            obj=locked,
            store_id=locked.store_id,
            before=before,
            after={"is_active": active},
        )
    return locked


# --- redemption for goods (MEM-02) -----------------------------------------------------------------

GOODS_REF = "goods:"  # ledger source_ref of a goods redemption: GOODS_REF + the order number


def reward_create_goods(
    *, actor: Actor, store: Store, points_price: int, sku_id: int | None = None, sku_code: str = ""
) -> PointsReward:
    """Offer a SKU of this store (by id or by code) for a points price set by staff (a whole
    number of points above 0). One active goods reward per SKU: switch the old one off to
    change the price."""
    errors: dict[str, str] = {}
    if not isinstance(points_price, int) or isinstance(points_price, bool) or points_price < 1:
        errors["points_price"] = _("所需积分应为大于 0 的整数")
    field_name = "sku_id" if sku_id is not None else "sku_code"
    sku = selectors.sku_for_reward(store=store, sku_id=sku_id, sku_code=sku_code)
    if sku_id is None and not (sku_code or "").strip():
        errors["sku_code"] = _("请填写 SKU 编码")
    elif sku is None:
        errors[field_name] = _("不是本店铺的 SKU")
    elif not sku.is_active:
        errors[field_name] = _("该 SKU 已停用")
    if errors:
        raise ValidationError(_("兑换商品信息有误，未保存"), fields=errors)
    assert sku is not None
    with transaction.atomic():
        if PointsReward.objects.filter(
            store=store, kind=RewardKind.GOODS, sku_id=sku.pk, is_active=True
        ).exists():
            raise Conflict(_("该商品已在兑换列表中；如需改价，请先停用原兑换项"), code="reward_goods_exists")
        reward = PointsReward.objects.create(
            store=store, kind=RewardKind.GOODS, sku_id=sku.pk, points_price=points_price
        )
        audit_record(
            actor=actor,
            action="member.reward_create",
            obj=reward,
            store_id=store.pk,
            after={"kind": RewardKind.GOODS, "sku": sku.code, "points_price": points_price},
        )
    return reward


@dataclass(frozen=True, slots=True)
class GoodsRedemption:
    entry: LedgerEntry
    order_number: str
    order_id: int
    quantity: int
    points: int
    replayed: bool = False  # the idempotency key's first redemption, returned again


def _redemption_channel(store: Store, channel: Channel | None) -> Channel:
    """The channel the order is placed in: the one given, or the store's own web shop."""
    if channel is not None:
        if channel.store_id != store.pk:
            raise ValidationError(_("渠道不属于该店铺"), fields={"channel_id": _("渠道不属于该店铺")})
        return channel
    own = channel_list(store=store, active_only=True).filter(kind="own_web").order_by("pk").first()
    if own is None:
        raise ValidationError(
            _("店铺没有启用的自营网店渠道，请指定兑换订单的渠道"), fields={"channel_id": _("请选择渠道")}
        )
    return own


def points_redeem_goods(
    *,
    actor: Actor,
    member: Member,
    reward_id: int,
    address: AddressIn,
    quantity: int = 1,
    channel: Channel | None = None,
    buyer_note: str = "",
    idempotency_key: str | None = None,
    now: dt.datetime | None = None,
) -> GoodsRedemption:
    """Spend points on goods of the rewards catalogue: a paid order with nothing to pay is
    placed for ``quantity`` × the reward's SKU (stock reserved like any order's) and the points
    (points price × quantity) are taken in the same transaction by a conditional UPDATE, so
    of concurrent redemptions only those the balance covers succeed. Too few points: nothing
    is written; too little stock: no order and no points. The points come back when the order
    is cancelled or closed before shipping (:func:`points_sync`).

    With ``idempotency_key`` (a retried request, a double click) the same key returns the
    first redemption (``replayed``) instead of placing a second order and taking the points
    twice; the key used for anything else is refused."""
    now = now or timezone.now()
    store = member.store
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
        raise ValidationError(_("兑换数量有误"), fields={"quantity": _("数量必须为大于 0 的整数")})
    key = clean_key(idempotency_key)

    def first() -> GoodsRedemption | None:
        return _goods_replay(member, key, reward_id=reward_id, quantity=quantity) if key else None

    def redeem() -> GoodsRedemption:
        reward = PointsReward.objects.filter(store=store, pk=reward_id).first()
        if reward is None:
            raise NotFound(_("积分兑换项不存在"))
        if reward.kind != RewardKind.GOODS or reward.sku_id is None or reward.points_price is None:
            raise ValidationError(
                _("该兑换项是抵现券，请使用积分兑换券"),
                fields={"reward_id": _("不是实物商品兑换项")},
                code="reward_kind_mismatch",
            )
        if not reward.is_active:
            raise Conflict(_("该兑换项已停用"), code="reward_inactive")
        return _redeem_goods(
            actor=actor,
            member=member,
            reward=reward,
            channel=_redemption_channel(store, channel),
            quantity=quantity,
            cost=reward.points_price * quantity,
            address=address,
            buyer_note=buyer_note,
            key=key,
            now=now,
        )

    redemption, _created = once(key=key, find=first, run=redeem)
    return redemption


def _goods_replay(member: Member, key: str, *, reward_id: int, quantity: int) -> GoodsRedemption | None:
    """The redemption placed under ``key`` (None: none yet); Conflict when the key was used
    for another order, member, reward or quantity."""
    placed = order_redemptions.points_order_by_key(member.store, key)
    if placed is None:
        return None
    entry = LedgerEntry.objects.filter(
        member=member, kind=EntryKind.REDEEM, source_ref=f"{GOODS_REF}{placed.number}"
    ).first()
    if entry is None or placed.reward_id != reward_id or placed.quantity != quantity:
        raise key_reused(_("该幂等键已用于另一笔不同内容的订单（%(n)s）") % {"n": placed.number})
    return GoodsRedemption(
        entry=entry,
        order_number=placed.number,
        order_id=placed.id,
        quantity=placed.quantity,
        points=-entry.points,
        replayed=True,
    )


def _redeem_goods(
    *,
    actor: Actor,
    member: Member,
    reward: PointsReward,
    channel: Channel,
    quantity: int,
    cost: int,
    address: AddressIn,
    buyer_note: str,
    key: str | None,
    now: dt.datetime,
) -> GoodsRedemption:
    store = member.store
    assert reward.sku_id is not None  # a goods reward (checked by the caller and the table)
    with transaction.atomic():
        current = Member.objects.get(pk=member.pk)  # no lock: the UPDATE in _post decides
        if current.points_balance < cost:  # refuse before reserving stock that would be rolled back
            raise Conflict(
                _("积分不足：需要 %(n)s 积分，当前 %(b)s") % {"n": cost, "b": current.points_balance},
                code="points_insufficient",
            )
        order = order_redemptions.points_order_place(
            actor=actor,
            store=store,
            channel=channel,
            customer_ref=current.customer_ref,
            sku_id=reward.sku_id,
            quantity=quantity,
            points=cost,
            reward_id=reward.pk,
            address=address,
            buyer_note=buyer_note,
            idempotency_key=key,
            now=now,
        )
        entry = _post(
            actor=actor,
            member_id=current.pk,
            kind=EntryKind.REDEEM,
            points=-cost,
            now=now,
            source_ref=f"{GOODS_REF}{order.number}",
            order_number=order.number,
            amount=order.list_total,
            reason=(_("兑换商品 %(c)s × %(q)s") % {"c": order.lines.get().sku_code, "q": quantity})[:200],
        )
        audit_record(
            actor=actor,
            action="member.points_redeem_goods",
            obj=current,
            store_id=store.pk,
            before={"points_balance": entry.points_after + cost},
            after={
                "points_balance": entry.points_after,
                "order": order.number,
                "reward": reward.pk,
                "quantity": quantity,
                "points": cost,
            },
        )
    return GoodsRedemption(
        entry=entry, order_number=order.number, order_id=order.pk, quantity=quantity, points=cost
    )


def _restore_goods(
    *,
    actor: Actor,
    member_id: int,
    given_back: Sequence[order_redemptions.PointsOrderBack],
    now: dt.datetime,
    result: SyncResult,
) -> None:
    """Give back the points of the member's goods orders in ``given_back``: the share of the
    units given back (all of them for a cancelled or closed order, the returned or refunded
    ones otherwise) less what was given back before. A ``restore`` line per state of an order,
    never two (the ledger's unique key per member, kind and source, and the member's row
    lock), so a run that is repeated or races another gives nothing twice."""
    with transaction.atomic():
        Member.objects.select_for_update().filter(pk=member_id).first()
        costs, restored = _goods_points([member_id], [o.number for o in given_back])
        for order, points in _points_due_back(given_back, member_id, costs, restored):
            whole = order.back >= order.units
            _post(
                actor=actor,
                member_id=member_id,
                kind=EntryKind.RESTORE,
                points=points,
                now=now,
                source_ref=f"{GOODS_REF}{order.number}" + ("" if whole else f"#{order.back}"),
                order_number=order.number,
                reason=_("兑换订单已取消，积分退回")
                if order.ended
                else _("兑换商品退回 %(n)s 件，积分按件退回") % {"n": order.back},
            )
            result.restored += 1
            result.members.add(member_id)


def _goods_points(
    member_ids: Sequence[int], numbers: Sequence[str]
) -> tuple[dict[tuple[int, str], int], dict[tuple[int, str], int]]:
    """The points members paid for goods orders ``numbers`` and the points given back so far,
    by (member, order number)."""
    rows = LedgerEntry.objects.filter(
        member_id__in=member_ids,
        kind__in=(EntryKind.REDEEM, EntryKind.RESTORE),
        order_number__in=numbers,
        source_ref__startswith=GOODS_REF,
    ).values_list("member_id", "kind", "order_number", "points")
    costs: dict[tuple[int, str], int] = {}
    restored: dict[tuple[int, str], int] = {}
    for member, kind, number, points in rows:
        if kind == EntryKind.REDEEM:
            costs[member, number] = costs.get((member, number), 0) - points
        else:
            restored[member, number] = restored.get((member, number), 0) + points
    return costs, restored


def _points_due_back(
    orders: Sequence[order_redemptions.PointsOrderBack],
    member_id: int,
    costs: dict[tuple[int, str], int],
    restored: dict[tuple[int, str], int],
) -> list[tuple[order_redemptions.PointsOrderBack, int]]:
    """(order, points to give back now) for each of the member's orders with some due."""
    due = []
    for order in orders:
        key = (member_id, order.number)
        if key in costs:
            owed = rules.points_given_back(cost=costs[key], units=order.units, back=order.back)
            if owed > restored.get(key, 0):
                due.append((order, owed - restored.get(key, 0)))
    return due


# --- earning from paid orders, reversal on refunds (MEM-02) ---------------------------------------


@dataclass(slots=True)
class SyncResult:
    earned: int = 0
    reversed: int = 0
    restored: int = 0  # goods redemptions given back (cancelled, closed, returned or refunded)
    tier_changes: int = 0
    rewarded: int = 0
    members: set[int] = field(default_factory=set)


def _sync_member(
    *,
    actor: Actor,
    member_id: int,
    orders: Sequence[order_selectors.PaidOrder],
    refunds: Sequence[order_selectors.OrderRefund],
    books: dict[int | None, PlaybookSettings],
    now: dt.datetime,
    result: SyncResult,
) -> None:
    store_book = books[None]
    with transaction.atomic():
        member = Member.objects.select_for_update().get(pk=member_id)
        done = set(
            LedgerEntry.objects.filter(
                member=member, kind__in=(EntryKind.EARN, EntryKind.REVERSE)
            ).values_list("kind", "source_ref")
        )
        earned = {
            ref: (points, growth)
            for ref, points, growth in LedgerEntry.objects.filter(
                member=member, kind=EntryKind.EARN
            ).values_list("source_ref", "points", "growth")
        }
        changed = False
        for order in orders:
            ref = str(order.id)
            if order.paid_at < member.joined_at or (EntryKind.EARN, ref) in done:
                continue
            book = books.get(order.channel_id) or store_book
            member_day = timezone.localtime(order.paid_at).day == book.member_day
            gain = rules.earning(
                paid=order.paid_amount,
                growth_per_yuan=book.growth_per_yuan,
                points_per_yuan=book.points_per_yuan,
                multiplier=book.member_day_points_multiplier if member_day else 1,
            )
            _post(
                actor=actor,
                member_id=member.pk,
                kind=EntryKind.EARN,
                points=gain.points,
                growth=gain.growth,
                now=now,
                source_ref=ref,
                order_number=order.number,
                amount=order.paid_amount,
                multiplier=gain.multiplier,
                reason=_("会员日多倍积分") if member_day else "",
            )
            Member.objects.filter(pk=member.pk).update(paid_orders=F("paid_orders") + 1)
            earned[ref] = (gain.points, gain.growth)
            result.earned += 1
            changed = True
        refunded: dict[int, Decimal] = {}
        for refund in refunds:
            before = refunded.get(refund.order_id, Decimal(0))
            refunded[refund.order_id] = before + refund.amount
            base = earned.get(str(refund.order_id))
            if base is None or (EntryKind.REVERSE, refund.reference) in done:
                continue
            due_points = rules.reversal(
                earned=base[0], paid=refund.order_paid, refunded_before=before, refunded_now=refund.amount
            )
            due_growth = rules.reversal(
                earned=base[1], paid=refund.order_paid, refunded_before=before, refunded_now=refund.amount
            )
            balance, growth_value = Member.objects.filter(pk=member.pk).values_list(
                "points_balance", "growth_value"
            )[0]
            take, take_growth = min(due_points, balance), min(due_growth, growth_value)
            _post(
                actor=actor,
                member_id=member.pk,
                kind=EntryKind.REVERSE,
                points=-take,
                growth=-take_growth,
                now=now,
                source_ref=refund.reference,
                order_number=refund.order_number,
                amount=refund.amount,
                shortfall=due_points - take,
                reason=_("积分已使用，差额 %(n)s 未能扣回") % {"n": due_points - take}
                if take < due_points
                else "",
            )
            if refunded[refund.order_id] >= refund.order_paid:  # refunded in full: no longer a paid order
                Member.objects.filter(pk=member.pk, paid_orders__gt=0).update(
                    paid_orders=F("paid_orders") - 1
                )
            result.reversed += 1
            changed = True
        if changed:
            result.members.add(member.pk)
            old, new = _retier(member.pk, store_book, now)
            if old != new:
                result.tier_changes += 1


def points_sync(
    *, actor: Actor, store: Store, since: dt.datetime | None = None, now: dt.datetime | None = None
) -> SyncResult:
    """Credit members for their orders paid (at or after ``since``; None: all) since they
    joined, take back the share of every refund, and give back the points of goods
    redemptions whose order was cancelled or closed, or whose goods came back through
    after-sales (their share; MEM-02); then issue the referral coupons
    that became due (MEM-05). Idempotent: run it as often as you like."""
    now = now or timezone.now()
    result = SyncResult()
    books = order_selectors.channel_playbooks(store=store)
    members = list(
        Member.objects.filter(store=store).order_by("pk").values_list("pk", "customer_ref", "joined_at")
    )
    for start in range(0, len(members), _SYNC_CHUNK):
        rows = members[start : start + _SYNC_CHUNK]
        chunk = {ref: pk for pk, ref, _joined in rows}
        joined = {pk: at for pk, _ref, at in rows}
        orders = order_selectors.paid_orders_of_customers(store, customer_refs=chunk, paid_since=since)
        refunds = order_selectors.refunds_of_customers(store, customer_refs=chunk, since=since)
        done = set(
            LedgerEntry.objects.filter(
                member_id__in=chunk.values(), kind__in=(EntryKind.EARN, EntryKind.REVERSE)
            ).values_list("member_id", "kind", "source_ref")
        )
        by_ref: dict[str, tuple[list[Any], list[Any]]] = {}
        for order in orders:
            by_ref.setdefault(order.customer_ref, ([], []))[0].append(order)
        for refund in refunds:
            by_ref.setdefault(refund.customer_ref, ([], []))[1].append(refund)
        # goods orders cancelled, closed or (partly) returned: give back what is not back yet
        back: dict[int, list[order_redemptions.PointsOrderBack]] = {}
        for order in order_redemptions.points_orders_given_back(store, customer_refs=chunk, since=since):
            back.setdefault(chunk[order.customer_ref], []).append(order)
        if back:
            numbers = [o.number for orders in back.values() for o in orders]
            costs, restored = _goods_points(list(back), numbers)
            for pk, orders in back.items():
                if _points_due_back(orders, pk, costs, restored):  # then re-read under the member's lock
                    _restore_goods(actor=actor, member_id=pk, given_back=orders, now=now, result=result)
        for ref, (its_orders, its_refunds) in by_ref.items():
            pk = chunk[ref]
            earns = {str(o.id) for o in its_orders if o.paid_at >= joined[pk]}
            new_earn = any((pk, EntryKind.EARN, ref_) not in done for ref_ in earns)
            new_reverse = any(
                (pk, EntryKind.REVERSE, r.reference) not in done
                and (str(r.order_id) in earns or (pk, EntryKind.EARN, str(r.order_id)) in done)
                for r in its_refunds
            )
            if not (new_earn or new_reverse):  # nothing new for this member: no lock, no queries
                continue
            _sync_member(
                actor=actor,
                member_id=pk,
                orders=its_orders,
                refunds=its_refunds,
                books=books,
                now=now,
                result=result,
            )
    result.rewarded = referral_rewards_issue(actor=actor, store=store, now=now)
    if result.earned or result.reversed or result.restored:
        audit_record(
            actor=actor,
            action="member.points_sync",
            object_type="members.member",
            store_id=store.pk,
            after={
                "earned": result.earned,
                "reversed": result.reversed,
                "restored": result.restored,
                "members": len(result.members),
                "tier_changes": result.tier_changes,
            },
        )
    return result


def tiers_recompute(*, actor: Actor, store: Store, now: dt.datetime | None = None) -> int:
    """Re-tier every member (after the playbook's thresholds changed); returns the changes."""
    now = now or timezone.now()
    policy = selectors.tier_policy(playbook_get(store=store))
    changed: dict[str, list[int]] = {}
    for pk, tier, growth, orders in Member.objects.filter(store=store).values_list(
        "pk", "tier", "growth_value", "paid_orders"
    ):
        new = rules.tier_for(growth=growth, paid_orders=orders, policy=policy).value
        if new != tier:
            changed.setdefault(new, []).append(pk)
    if changed:
        with transaction.atomic():
            for tier, ids in changed.items():
                Member.objects.filter(pk__in=ids).update(tier=tier, tier_changed_at=now, updated_at=now)
            audit_record(
                actor=actor,
                action="member.tiers_recompute",
                object_type="members.member",
                store_id=store.pk,
                after={tier: len(ids) for tier, ids in changed.items()},
            )
    return sum(len(ids) for ids in changed.values())


# --- referral coupons (MEM-05) ---------------------------------------------------------------------


def referral_rewards_issue(*, actor: Actor, store: Store, now: dt.datetime | None = None) -> int:
    """Issue the referral coupons of every invited member whose first order is paid: the
    promotions templates of rule ``referral`` to the invitee and to the inviter, once each
    (issue key ``referral-<invitee>``). A referral with nothing issued (no active template)
    stays pending and is retried by the next run.

    With the playbook's ``referral_reward_wait_days`` above 0, an order counts only once it
    was paid that many days ago and is not fully refunded (an order placed and refunded to
    collect the coupons earns nothing); the referral waits until then."""
    now = now or timezone.now()
    wait = dt.timedelta(days=playbook_get(store=store).referral_reward_wait_days)
    pending_members = list(selectors.referrals_pending_reward(store=store))
    qualifying = _orders_kept_since(store, pending_members, paid_before=now - wait) if wait else None
    rewarded = 0
    for pending in pending_members:
        if qualifying is not None and pending.customer_ref not in qualifying:
            continue
        with transaction.atomic():
            member = Member.objects.select_for_update().get(pk=pending.pk)
            if member.referral_rewarded_at is not None or member.referred_by_id is None:
                continue
            inviter = Member.objects.get(pk=member.referred_by_id)
            key = f"referral-{member.pk}"
            mine = promo_services.coupon_issue_by_rule(
                actor=actor,
                store=store,
                rule=selectors.REFERRAL_RULE,
                customer_ref=member.customer_ref,
                issue_key=key,
                now=now,
            )
            theirs = promo_services.coupon_issue_by_rule(
                actor=actor,
                store=store,
                rule=selectors.REFERRAL_RULE,
                customer_ref=inviter.customer_ref,
                issue_key=key,
                now=now,
            )
            if not mine and not theirs:
                continue
            first = (
                qualifying[member.customer_ref]
                if qualifying is not None
                else LedgerEntry.objects.filter(member=member, kind=EntryKind.EARN)
                .order_by("id")
                .values_list("order_number", flat=True)
                .first()
            )
            member.referral_rewarded_at = now
            member.referral_order = first or ""
            member.save(update_fields=["referral_rewarded_at", "referral_order", "updated_at"])
            audit_record(
                actor=actor,
                action="member.referral_reward",
                obj=member,
                store_id=store.pk,
                after={
                    "inviter": inviter.customer_ref,
                    "order": member.referral_order,
                    "invitee_coupons": [c.code for c in mine],
                    "inviter_coupons": [c.code for c in theirs],
                },
            )
            rewarded += 1
    return rewarded


def _orders_kept_since(
    store: Store, members: Sequence[Member], *, paid_before: dt.datetime
) -> dict[str, str]:
    """``customer_ref → order number`` of each member's first order paid after joining and at
    or before ``paid_before`` whose money was not all refunded (two queries for all of them)."""
    joined = {m.customer_ref: m.joined_at for m in members}
    refs = list(joined)
    refunded: dict[int, Decimal] = {}
    for refund in order_selectors.refunds_of_customers(store, customer_refs=refs):
        refunded[refund.order_id] = refunded.get(refund.order_id, Decimal(0)) + refund.amount
    first: dict[str, str] = {}
    for order in order_selectors.paid_orders_of_customers(store, customer_refs=refs):  # oldest first
        kept = refunded.get(order.id, Decimal(0)) < order.paid_amount
        if joined[order.customer_ref] <= order.paid_at <= paid_before and kept:
            first.setdefault(order.customer_ref, order.number)
    return first


def _grant_by_rule(
    *,
    actor: Actor,
    store: Store,
    rule: str,
    grant_model: type[TierCouponGrant] | type[BirthdayGift],
    due: Iterable[tuple[Member, str, dict[str, Any]]],
    now: dt.datetime,
) -> tuple[int, int]:
    """For each ``(member, issue_key, fields)`` in ``due``: issue the member's coupons of the
    promotions ``rule`` under that issue key and save the grant row (``fields`` plus the member,
    tier, coupons and codes), whose unique key makes the grant once. A concurrent run that saved
    the row first wins: this run's coupons for that member are rolled back with it. Returns
    (members reached, coupons issued)."""
    members = coupons = 0
    for member, issue_key, fields in due:
        with transaction.atomic():
            issued = promo_services.coupon_issue_by_rule(
                actor=actor,
                store=store,
                rule=rule,
                customer_ref=member.customer_ref,
                issue_key=issue_key,
                tier=member.tier,
                now=now,
            )
            try:
                with transaction.atomic():
                    grant_model.objects.create(
                        member=member,
                        tier=member.tier,
                        coupons=len(issued),
                        codes=[c.code for c in issued],
                        issued_at=now,
                        **fields,
                    )
            except IntegrityError:  # a concurrent run reached this member first
                transaction.set_rollback(True)
                continue
        members += 1
        coupons += len(issued)
    return members, coupons


# --- monthly tier coupons (MEM-03) -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TierCouponRun:
    month: str
    members: int  # members reached this run
    coupons: int  # coupons issued this run
    not_due: bool = False  # before the month's issue day


def tier_coupons_issue(*, actor: Actor, store: Store, now: dt.datetime | None = None) -> TierCouponRun:
    """From the playbook's issue day (the 1st) on, issue each member who joined before that
    day their tier's monthly coupons (promotions rule ``monthly_tier``, issue key = the month),
    once per member and month; a missed day is caught up by the next run."""
    now = now or timezone.now()
    book = playbook_get(store=store)
    month = selectors.month_key(now)
    moment = selectors.issue_moment(now, book.tier_coupon_day)
    if now < moment:
        return TierCouponRun(month=month, members=0, coupons=0, not_due=True)
    due = selectors.members_due_tier_coupons(store=store, month=month, joined_before=moment)
    members, coupons = _grant_by_rule(
        actor=actor,
        store=store,
        rule=selectors.MONTHLY_TIER_RULE,
        grant_model=TierCouponGrant,
        due=((m, month, {"month": month}) for m in due.order_by("pk").iterator(chunk_size=500)),
        now=now,
    )
    if members:
        audit_record(
            actor=actor,
            action="member.tier_coupons",
            object_type="members.member",
            store_id=store.pk,
            after={"month": month, "members": members, "coupons": coupons},
        )
    return TierCouponRun(month=month, members=members, coupons=coupons)


# --- birthday gifts (MEM-01) -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BirthdayGiftRun:
    members: int  # members reached this run
    coupons: int  # coupons issued this run


def birthday_gifts_issue(*, actor: Actor, store: Store, now: dt.datetime | None = None) -> BirthdayGiftRun:
    """Give each member whose birthday falls within the playbook's ``birthday_gift_days_before``
    days (today included) the store's active birthday coupon templates — those for every tier and
    those for their tier (promotions rule ``birthday``, issue key = the birthday's year) — once
    per member and year. A missed day is caught up by the next run while the birthday is still
    ahead; the MEM-01 check reports gifts missed altogether."""
    now = now or timezone.now()
    book = playbook_get(store=store)
    due = rules.birthdays_due(timezone.localdate(now), days_before=book.birthday_gift_days_before)
    members, coupons = _grant_by_rule(
        actor=actor,
        store=store,
        rule=selectors.BIRTHDAY_RULE,
        grant_model=BirthdayGift,
        due=(
            (m, f"birthday-{day.year}", {"year": day.year, "birthday": day})
            for m, day in selectors.members_due_birthday_gift(store=store, due=due)
        ),
        now=now,
    )
    if members:
        audit_record(
            actor=actor,
            action="member.birthday_gifts",
            object_type="members.member",
            store_id=store.pk,
            after={"day": timezone.localdate(now).isoformat(), "members": members, "coupons": coupons},
        )
    return BirthdayGiftRun(members=members, coupons=coupons)


# --- every store (tasks) ---------------------------------------------------------------------------


def member_segments_set(*, store: Store, segments: Mapping[str, str]) -> int:
    """MEM-04: copy the latest daily snapshot's lifecycle segments (``{customer_ref: segment}``)
    onto the store's member rows, where the checkout reads them with the tier (a high-value
    customer's order ships sooner, their tickets get dedicated service); members absent from
    ``segments`` (no buyer on that day) get "". Returns the member rows given a segment.
    Called inside the snapshot's transaction, which the snapshot's audit line records."""
    Member.objects.filter(store=store).exclude(segment="").update(segment="")
    by_segment: dict[str, list[str]] = {}
    for ref, segment in segments.items():
        by_segment.setdefault(segment, []).append(ref)
    given = 0
    for segment, refs in sorted(by_segment.items()):
        refs.sort()
        for start in range(0, len(refs), _SYNC_CHUNK):
            chunk = refs[start : start + _SYNC_CHUNK]
            given += Member.objects.filter(store=store, customer_ref__in=chunk).update(segment=segment)
    return given


def points_sync_all(*, actor: Actor, since: dt.datetime | None = None) -> SyncResult:
    total = SyncResult()
    for store in store_list():
        one = points_sync(actor=actor, store=store, since=since)
        total.earned += one.earned
        total.reversed += one.reversed
        total.restored += one.restored
        total.tier_changes += one.tier_changes
        total.rewarded += one.rewarded
    return total


def tiers_recompute_all(*, actor: Actor) -> int:
    return sum(tiers_recompute(actor=actor, store=store) for store in store_list())


def tier_coupons_issue_all(*, actor: Actor) -> int:
    return sum(tier_coupons_issue(actor=actor, store=store).coupons for store in store_list())


def birthday_gifts_issue_all(*, actor: Actor) -> int:
    return sum(birthday_gifts_issue(actor=actor, store=store).coupons for store in store_list())
