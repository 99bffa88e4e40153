"""Every change to offers and coupons, and the cart quote (SOP PROMO-01..04).

Writes are atomic, validated before writing and appended to the operation log. Coupon
issuance enforces the template's total quantity and per-user limit under a row lock on the
template; redemption is one conditional UPDATE, so a coupon is redeemed exactly once even
under concurrent checkouts.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from storeops.audit.services import audit_record, snapshot
from storeops.catalog.models import Category, Product, Sku
from storeops.catalog.selectors import banned_word_errors
from storeops.core.context import Actor
from storeops.core.errors import Conflict, InvalidTransition, NotFound, ValidationError
from storeops.core.money import Money
from storeops.promotions import engine as e
from storeops.promotions import flash_counters, selectors
from storeops.promotions.models import (
    CouponKind,
    CouponStatus,
    CouponTemplate,
    IssuedCoupon,
    IssueRule,
    Offer,
    OfferKind,
    OfferScopeItem,
    OfferStatus,
    OfferUse,
)
from storeops.stores.models import Channel, Store
from storeops.stores.playbook import PlaybookSettings
from storeops.stores.selectors import playbook_get

# --- offers ------------------------------------------------------------------------------------

_OFFER_FIELDS = (
    "title_zh",
    "title_en",
    "kind",
    "params",
    "channels",
    "tiers",
    "segments",
    "new_users_only",
    "starts_at",
    "ends_at",
    "exclusive_group",
    "priority",
    "per_user_limit",
    "stock_cap",
)
_SCOPE_FIELDS = ("category_ids", "product_ids", "sku_ids")

# status -> statuses it may move to (an ended offer is final)
OFFER_TRANSITIONS: dict[str, frozenset[str]] = {
    OfferStatus.DRAFT: frozenset({OfferStatus.ACTIVE, OfferStatus.ENDED}),
    OfferStatus.ACTIVE: frozenset({OfferStatus.PAUSED, OfferStatus.ENDED}),
    OfferStatus.PAUSED: frozenset({OfferStatus.ACTIVE, OfferStatus.ENDED}),
    OfferStatus.ENDED: frozenset(),
}


def _str_list(value: Any, name: str, errors: dict[str, str]) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v for v in value):
        errors[name] = _("应为字符串列表")
        return []
    return sorted(set(value))


def _scope_rows(store: Store, data: Mapping[str, Any], errors: dict[str, str]) -> list[OfferScopeItem]:
    rows: list[OfferScopeItem] = []
    for name, model, attr in (
        ("category_ids", Category, "category_id"),
        ("product_ids", Product, "product_id"),
        ("sku_ids", Sku, "sku_id"),
    ):
        ids = data.get(name) or []
        if not isinstance(ids, list | tuple) or not all(isinstance(i, int) for i in ids):
            errors[name] = _("应为整数 ID 列表")
            continue
        found = set(model.objects.filter(store=store, pk__in=ids).values_list("pk", flat=True))
        missing = sorted(set(ids) - found)
        if missing:
            errors[name] = _("不属于本店铺的 ID：%(ids)s") % {"ids": ", ".join(map(str, missing))}
        rows.extend(OfferScopeItem(**{attr: pk}) for pk in sorted(found))
    return rows


def _offer_clean(store: Store, data: dict[str, Any]) -> None:  # noqa: PLR0912  (one pass, every field)
    """Validate the merged offer fields in place; raise one ValidationError with every field's message."""
    errors: dict[str, str] = {}
    kind = data.get("kind")
    mechanic = None
    if kind not in OfferKind.values:
        errors["kind"] = _("未知的促销玩法")
    else:
        try:
            stock = data.get("stock_cap") or 0
            mechanic = selectors.mechanic_from_params(
                kind, data.get("params"), currency=store.currency, stock_remaining=stock
            )
        except ValidationError as exc:
            errors.update({k: str(v) for k, v in exc.fields.items()})
        if kind == OfferKind.FLASH_SALE and not data.get("stock_cap"):
            errors["stock_cap"] = _("秒杀必须设置活动库存上限")
        if kind == OfferKind.GIFT and isinstance(data.get("params"), dict):
            gift = data["params"].get("gift_sku")
            if gift and not Sku.objects.filter(store=store, code=gift).exists():
                errors["params.gift_sku"] = _("赠品 SKU 不存在")
    for name in ("channels", "tiers", "segments"):
        data[name] = _str_list(data.get(name), name, errors)
    starts, ends = data.get("starts_at"), data.get("ends_at")
    for name, value in (("starts_at", starts), ("ends_at", ends)):
        if value is not None and (not isinstance(value, dt.datetime) or timezone.is_naive(value)):
            errors[name] = _("应为带时区的时间")
    if isinstance(starts, dt.datetime) and isinstance(ends, dt.datetime) and ends <= starts:
        errors["ends_at"] = _("结束时间必须晚于开始时间")
    if isinstance(mechanic, e.Presale) and isinstance(ends, dt.datetime) and mechanic.balance_ends <= ends:
        # a deposit taken at the end of the deposit window must leave time to pay the balance
        errors["params.balance_ends"] = _("尾款截止时间必须晚于活动（付定金）结束时间")
    for name in ("per_user_limit", "stock_cap"):
        value = data.get(name)
        if value is not None and (not isinstance(value, int) or value < 1):
            errors[name] = _("应为正整数")
    if not isinstance(data.get("priority", 0), int):
        errors["priority"] = _("应为整数")
    data["exclusive_group"] = str(data.get("exclusive_group") or "")[:40]
    # LIST-02: the offer's titles against the store's banned-word list (catalog's scanner)
    titles = {name: str(data.get(name) or "") for name in ("title_zh", "title_en")}
    errors.update(banned_word_errors(store=store, texts=titles))
    if errors:
        raise ValidationError(_("促销活动信息有误，未保存"), fields=errors)


def _offer_snapshot(offer: Offer) -> dict[str, Any]:
    data = snapshot(offer)
    data["scope"] = sorted(
        (i.category_id or 0, i.product_id or 0, i.sku_id or 0) for i in offer.scope_items.all()
    )
    return data


def offer_create(*, actor: Actor, store: Store, **data: Any) -> Offer:
    """Create a draft offer. ``params`` must build the kind's engine parameters; scope by
    ``category_ids`` / ``product_ids`` / ``sku_ids`` (none: every line)."""
    unknown = set(data) - {*_OFFER_FIELDS, *_SCOPE_FIELDS}
    if unknown:
        raise ValidationError(_("未知字段"), fields={k: _("未知字段") for k in unknown})
    fields = {k: data[k] for k in _OFFER_FIELDS if k in data}
    fields.setdefault("params", {})
    errors: dict[str, str] = {}
    scope = _scope_rows(store, data, errors)
    try:
        _offer_clean(store, fields)
    except ValidationError as exc:
        raise ValidationError(exc.message, fields={**exc.fields, **errors}) from exc
    if errors:
        raise ValidationError(_("促销活动信息有误，未保存"), fields=errors)
    with transaction.atomic():
        offer = Offer.objects.create(
            store=store, level=selectors.level_of(fields["kind"]), all_items=not scope, **fields
        )
        for row in scope:
            row.offer = offer
        OfferScopeItem.objects.bulk_create(scope)
        audit_record(
            actor=actor, action="offer.create", obj=offer, store_id=store.pk, after=_offer_snapshot(offer)
        )
    return offer


def offer_update(*, actor: Actor, offer: Offer, **changes: Any) -> Offer:  # noqa: PLR0912
    """Change an offer's fields (and, when any of the scope lists is given, its whole scope)."""
    unknown = set(changes) - {*_OFFER_FIELDS, *_SCOPE_FIELDS}
    if unknown:
        raise ValidationError(_("未知字段"), fields={k: _("未知字段") for k in unknown})
    with transaction.atomic():
        locked = Offer.objects.select_for_update().get(pk=offer.pk)
        if locked.status == OfferStatus.ENDED:
            raise InvalidTransition(_("已结束的活动不能修改"))
        store = locked.store
        merged = {f: getattr(locked, f) for f in _OFFER_FIELDS} | {
            k: v for k, v in changes.items() if k in _OFFER_FIELDS
        }
        errors: dict[str, str] = {}
        new_scope = None
        if any(k in changes for k in _SCOPE_FIELDS):
            current: dict[str, list[int]] = {name: [] for name in _SCOPE_FIELDS}
            for item in locked.scope_items.all():
                if item.category_id:
                    current["category_ids"].append(item.category_id)
                elif item.product_id:
                    current["product_ids"].append(item.product_id)
                elif item.sku_id:
                    current["sku_ids"].append(item.sku_id)
            new_scope = _scope_rows(
                store, current | {k: changes[k] for k in _SCOPE_FIELDS if k in changes}, errors
            )
        try:
            _offer_clean(store, merged)
        except ValidationError as exc:
            raise ValidationError(exc.message, fields={**exc.fields, **errors}) from exc
        if errors:
            raise ValidationError(_("促销活动信息有误，未保存"), fields=errors)
        if merged.get("stock_cap") is not None and merged["stock_cap"] < locked.stock_sold:
            raise ValidationError(_("促销活动信息有误，未保存"), fields={"stock_cap": _("不能低于已售数量")})
        before = _offer_snapshot(locked)
        for key, value in merged.items():
            setattr(locked, key, value)
        locked.level = selectors.level_of(locked.kind)
        if new_scope is not None:
            locked.scope_items.all().delete()
            for row in new_scope:
                row.offer = locked
            OfferScopeItem.objects.bulk_create(new_scope)
            locked.all_items = not new_scope
        locked.save()
        if locked.kind == OfferKind.FLASH_SALE:
            flash_counters.forget(locked.pk)  # its stock may have changed: start again
        audit_record(
            actor=actor,
            action="offer.update",
            obj=locked,
            store_id=locked.store_id,
            before=before,
            after=_offer_snapshot(locked),
        )
    return locked


def offer_set_status(*, actor: Actor, offer: Offer, status: str) -> Offer:
    """Move an offer along draft → active ⇄ paused → ended."""
    if status not in OfferStatus.values:
        raise ValidationError(_("未知的状态"), fields={"status": _("未知的状态")})
    with transaction.atomic():
        locked = Offer.objects.select_for_update().get(pk=offer.pk)
        if status not in OFFER_TRANSITIONS[locked.status]:
            raise InvalidTransition(
                _("活动不能从“%(a)s”变为“%(b)s”")
                % {"a": locked.get_status_display(), "b": OfferStatus(status).label}
            )
        if status == OfferStatus.ACTIVE:
            _campaign_approved(locked)
        before = {"status": locked.status}
        locked.status = status
        locked.save(update_fields=["status", "updated_at"])
        if locked.kind == OfferKind.FLASH_SALE:
            flash_counters.forget(locked.pk)
        audit_record(
            actor=actor,
            action=f"offer.{status}",
            obj=locked,
            store_id=locked.store_id,
            before=before,
            after={"status": status},
        )
    return locked


def _campaign_approved(offer: Offer) -> None:
    """PROMO-05: an offer of a campaign goes live only once the campaign is approved by the
    whole chain (operations lead → marketing head → finance); a 409 names the campaign."""
    from storeops.marketing import selectors as marketing_selectors  # marketing imports promotions

    holding = marketing_selectors.campaigns_holding_offer(offer_id=offer.pk)
    if holding:
        campaign = holding[0]
        message = _(
            "该优惠属于活动「%(theme)s」，活动当前状态为“%(status)s”，"
            "须完成审批（运营负责人 → 推广负责人 → 财务）后才能生效"
        ) % {"theme": campaign.theme, "status": campaign.get_status_display()}
        raise Conflict(
            message,
            fields={"campaign": campaign.theme, "campaign_status": campaign.get_status_display()},
            code="campaign_not_approved",
        )


# --- coupon templates and issuance ------------------------------------------------------------

_TEMPLATE_FIELDS = (
    "name",
    "kind",
    "threshold",
    "amount",
    "stackable",
    "issue_rule",
    "tier",
    "issue_starts_at",
    "issue_ends_at",
    "valid_from",
    "valid_until",
    "valid_days",
    "total_quantity",
    "per_user_limit",
)


def _decimal(value: Any, name: str, errors: dict[str, str]) -> Decimal:
    try:
        if isinstance(value, float | bool):
            raise TypeError
        amount = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        errors[name] = _("不是有效的金额")
        return Decimal(0)
    if amount != amount.quantize(Decimal("0.01")):
        errors[name] = _("金额最多两位小数")
    return amount


def coupon_template_create(  # noqa: PLR0912  (one validation pass over the template)
    *, actor: Actor, store: Store, category_ids: Sequence[int] = (), **data: Any
) -> CouponTemplate:
    """A coupon template (PROMO-02): store-wide threshold, category, new-user or no-threshold."""
    unknown = set(data) - set(_TEMPLATE_FIELDS)
    if unknown:
        raise ValidationError(_("未知字段"), fields={k: _("未知字段") for k in unknown})
    errors: dict[str, str] = {}
    if not data.get("name"):
        errors["name"] = _("必填")
    kind = data.get("kind")
    if kind not in CouponKind.values:
        errors["kind"] = _("未知的券类型")
    amount = _decimal(data.get("amount"), "amount", errors)
    threshold = _decimal(data.get("threshold", 0), "threshold", errors)
    data["amount"], data["threshold"] = amount, threshold
    if "amount" not in errors and amount <= 0:
        errors["amount"] = _("面额必须大于 0")
    if kind == CouponKind.NO_THRESHOLD and threshold != 0:
        errors["threshold"] = _("无门槛券的门槛必须为 0")
    if kind in (CouponKind.STORE_THRESHOLD, CouponKind.CATEGORY) and threshold <= 0:
        errors["threshold"] = _("满减券需要大于 0 的门槛")
    if kind != CouponKind.NO_THRESHOLD and threshold and amount > threshold:
        errors["amount"] = _("面额不能超过门槛")
    categories = list(Category.objects.filter(store=store, pk__in=list(category_ids)))
    if kind == CouponKind.CATEGORY and not categories:
        errors["category_ids"] = _("品类券至少选择一个本店类目")
    if len(categories) != len(set(category_ids)):
        errors["category_ids"] = _("包含不属于本店铺的类目")
    rule = data.setdefault("issue_rule", IssueRule.MANUAL)
    if rule not in IssueRule.values:
        errors["issue_rule"] = _("未知的发放规则")
    if rule == IssueRule.MONTHLY_TIER and not data.get("tier"):
        errors["tier"] = _("会员月度券需指定会员等级")
    for start, end in (("issue_starts_at", "issue_ends_at"), ("valid_from", "valid_until")):
        a, b = data.get(start), data.get(end)
        if a is not None and b is not None and b <= a:
            errors[end] = _("结束时间必须晚于开始时间")
    for name in ("total_quantity", "valid_days"):
        value = data.get(name)
        if value is not None and (not isinstance(value, int) or value < 1):
            errors[name] = _("应为正整数")
    limit = data.setdefault("per_user_limit", 1)
    if not isinstance(limit, int) or limit < 1:
        errors["per_user_limit"] = _("应为正整数")
    if errors:
        raise ValidationError(_("优惠券模板信息有误，未保存"), fields=errors)
    with transaction.atomic():
        template = CouponTemplate.objects.create(store=store, **data)
        template.categories.set(categories)
        audit_record(
            actor=actor,
            action="coupon_template.create",
            obj=template,
            store_id=store.pk,
            after={**snapshot(template), "category_ids": sorted(c.pk for c in categories)},
        )
    return template


def coupon_template_set_active(*, actor: Actor, template: CouponTemplate, active: bool) -> CouponTemplate:
    with transaction.atomic():
        locked = CouponTemplate.objects.select_for_update().get(pk=template.pk)
        before = {"is_active": locked.is_active}
        locked.is_active = active
        locked.save(update_fields=["is_active"])
        audit_record(
            actor=actor,
            action="coupon_template.activate" if active else "coupon_template.deactivate",
            obj=locked,
            store_id=locked.store_id,
            before=before,
            after={"is_active": active},
        )
    return locked


def _new_code() -> str:
    return "C" + secrets.token_hex(6).upper()  # 48 random bits; uniqueness is a DB constraint


@dataclass(frozen=True, slots=True)
class IssueResult:
    issued: list[IssuedCoupon] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # customer ref -> why


def _issue_refusal(template: CouponTemplate, now: dt.datetime) -> str | None:
    if not template.is_active:
        return _("优惠券模板已停用")
    if template.issue_starts_at is not None and now < template.issue_starts_at:
        return _("尚未到发放时间")
    if template.issue_ends_at is not None and now >= template.issue_ends_at:
        return _("发放已结束")
    if template.valid_until is not None and now >= template.valid_until:
        return _("优惠券有效期已过")
    return None


def _validity(template: CouponTemplate, now: dt.datetime) -> tuple[dt.datetime | None, dt.datetime | None]:
    starts = template.valid_from if template.valid_from is not None else now
    until = template.valid_until
    if template.valid_days is not None:
        by_days = max(starts, now) + dt.timedelta(days=template.valid_days)
        until = by_days if until is None else min(until, by_days)
    return starts, until


def coupon_issue_batch(
    *,
    actor: Actor,
    template: CouponTemplate,
    customer_refs: Sequence[str],
    source: str = IssueRule.MANUAL,
    issue_key: str = "",
    campaign_ref: str = "",
    now: dt.datetime | None = None,
) -> IssueResult:
    """Issue one copy of ``template`` to each customer (a campaign or batch issuance).

    Atomic under a row lock on the template: the total quantity and each customer's limit
    hold even when batches run concurrently. Customers over their limit, or beyond the
    remaining quantity, are skipped with a reason; an ``issue_key`` already used for a
    customer (e.g. the month of a monthly coupon, a review id) is skipped too, so rule
    triggers may fire more than once safely.
    """
    now = now or timezone.now()
    refs = [r.strip() for r in customer_refs]
    if not refs or any(not r or len(r) > 64 for r in refs):
        raise ValidationError(
            _("请填写有效的顾客编号"), fields={"customer_refs": _("每个顾客编号为 1–64 个字符")}
        )
    result = IssueResult()
    with transaction.atomic():
        locked = CouponTemplate.objects.select_for_update().get(pk=template.pk)
        refusal = _issue_refusal(locked, now)
        if refusal is not None:
            raise Conflict(refusal)
        held: dict[str, int] = {}
        keyed: set[str] = set()
        # a monthly (birthday) template's limit is per month (year), its issue key: "1 per
        # customer" means one each month, not one ever (the second would otherwise issue nothing)
        per_period = locked.issue_rule in (IssueRule.MONTHLY_TIER, IssueRule.BIRTHDAY) and bool(issue_key)
        for ref, key in IssuedCoupon.objects.filter(template=locked, customer_ref__in=refs).values_list(
            "customer_ref", "issue_key"
        ):
            if not per_period or key == issue_key:
                held[ref] = held.get(ref, 0) + 1
            if issue_key and key == issue_key:
                keyed.add(ref)
        left = None if locked.total_quantity is None else locked.total_quantity - locked.issued_count
        valid_from, valid_until = _validity(locked, now)
        rows: list[IssuedCoupon] = []
        for ref in refs:
            if ref in keyed:
                result.skipped[ref] = _("本次已发放过")
            elif held.get(ref, 0) >= locked.per_user_limit:
                result.skipped[ref] = _("已达每人限领数量")
            elif left is not None and left <= 0:
                result.skipped[ref] = _("优惠券已发完")
            else:
                held[ref] = held.get(ref, 0) + 1
                if issue_key:
                    keyed.add(ref)
                left = None if left is None else left - 1
                rows.append(
                    IssuedCoupon(
                        template=locked,
                        store_id=locked.store_id,
                        code=_new_code(),
                        customer_ref=ref,
                        source=source,
                        issue_key=issue_key,
                        campaign_ref=campaign_ref,
                        issued_at=now,
                        valid_from=valid_from,
                        valid_until=valid_until,
                    )
                )
        if rows:
            IssuedCoupon.objects.bulk_create(rows)
            locked.issued_count += len(rows)
            locked.save(update_fields=["issued_count"])
            audit_record(
                actor=actor,
                action="coupon.issue",
                obj=locked,
                store_id=locked.store_id,
                before={"issued_count": locked.issued_count - len(rows)},
                after={
                    "issued_count": locked.issued_count,
                    "codes": [r.code for r in rows],
                    "customers": [r.customer_ref for r in rows],
                    "source": source,
                    "campaign_ref": campaign_ref,
                },
            )
        result.issued.extend(rows)
    return result


def coupon_issue(
    *,
    actor: Actor,
    template: CouponTemplate,
    customer_ref: str,
    source: str = IssueRule.MANUAL,
    issue_key: str = "",
    now: dt.datetime | None = None,
) -> IssuedCoupon:
    """Issue one coupon to one customer, or raise :class:`Conflict` saying why not."""
    result = coupon_issue_batch(
        actor=actor,
        template=template,
        customer_refs=[customer_ref],
        source=source,
        issue_key=issue_key,
        now=now,
    )
    if not result.issued:
        raise Conflict(result.skipped[customer_ref.strip()])
    return result.issued[0]


def coupon_issue_by_rule(
    *,
    actor: Actor,
    store: Store,
    rule: str,
    customer_ref: str,
    issue_key: str = "",
    tier: str = "",
    now: dt.datetime | None = None,
) -> list[IssuedCoupon]:
    """Issue every active template of ``rule`` to the customer (new user, review reward,
    referral, monthly tier, birthday). Triggers call this; templates that refuse are skipped, so
    a trigger never fails on one exhausted template. Monthly tier coupons are the ``tier``'s
    templates and default their ``issue_key`` to the month, so a customer gets them once per
    month; birthday templates are those for every tier (no tier) and the ``tier``'s own."""
    if rule not in IssueRule.values or rule == IssueRule.MANUAL:
        raise ValidationError(_("未知的发放规则"), fields={"rule": _("未知的发放规则")})
    now = now or timezone.now()
    templates = CouponTemplate.objects.filter(store=store, issue_rule=rule, is_active=True)
    if rule == IssueRule.MONTHLY_TIER:
        templates = templates.filter(tier=tier)
        issue_key = issue_key or timezone.localtime(now).strftime("%Y-%m")
    elif rule == IssueRule.BIRTHDAY:
        templates = templates.filter(Q(tier="") | Q(tier=tier))
    issued: list[IssuedCoupon] = []
    for template in templates.order_by("pk"):
        try:
            result = coupon_issue_batch(
                actor=actor,
                template=template,
                customer_refs=[customer_ref],
                source=rule,
                issue_key=issue_key,
                now=now,
            )
        except Conflict:
            continue
        issued.extend(result.issued)
    return issued


def coupon_redeem(
    *, actor: Actor, coupon_code: str, customer: str, order_ref: str, now: dt.datetime | None = None
) -> IssuedCoupon:
    """Mark a coupon used by ``order_ref``: exactly once, by its owner, inside its validity.

    One conditional UPDATE (``WHERE status = 'issued' AND <valid now> AND customer = …``):
    of any number of concurrent redemptions, exactly one changes the row; the others get
    :class:`Conflict`. The per-user limit holds because a customer can only redeem the
    copies issued to them, which issuance limits.
    """
    now = now or timezone.now()
    if not order_ref:
        raise ValidationError(_("缺少订单号"), fields={"order_ref": _("必填")})
    with transaction.atomic():
        changed = (
            IssuedCoupon.objects.filter(code=coupon_code, customer_ref=customer, status=CouponStatus.ISSUED)
            .exclude(valid_from__gt=now)
            .exclude(valid_until__lte=now)
            .update(status=CouponStatus.REDEEMED, redeemed_at=now, order_ref=order_ref)
        )
        row = IssuedCoupon.objects.filter(code=coupon_code).first()
        if not changed:
            raise _redeem_refusal(row, customer, now)
        assert row is not None
        audit_record(
            actor=actor,
            action="coupon.redeem",
            obj=row,
            store_id=row.store_id,
            before={"status": CouponStatus.ISSUED},
            after={"status": row.status, "order_ref": order_ref, "redeemed_at": now},
        )
    return row


def offer_uses_record(
    *,
    priced: CartQuote,
    customer_ref: str,
    order_id: int,
    order_number: str,
    now: dt.datetime,
    presale: bool = False,
) -> list[OfferUse]:
    """Book the limited offers an order got (PROMO-01), in the order's transaction; and
    the presale offer of a presale order (``presale``: its deposit is paid apart), one use,
    limited or not, so the offer's page counts its deposits and balances.

    A flash sale takes its units from the sale's stock with one conditional UPDATE
    (``stock_sold + n <= stock_cap``); an offer with only a per-customer limit is locked with
    ``SELECT … FOR UPDATE``. Either way the offer's row stays locked to the end of the
    transaction, so the customer's earlier uses read next are final: two orders of one
    customer at the same moment cannot both pass the limit. The quote priced the order with
    what it saw a moment before; if that no longer holds (the sale sold out, the customer's
    other order took the last use), :class:`Conflict` rolls the order back: quote again.
    No query at all when the order got no limited offer and is no presale.
    """
    units = flash_counters.flash_units(priced)
    got = sorted({int(a.offer_id[2:]) for a in priced.quote.applied if a.offer_id.startswith("of")})
    presales = (
        {
            int(line.presale_offer[2:])
            for line in priced.quote.lines
            if (line.presale_offer or "").startswith("of")
        }
        if presale
        else set()
    )
    uses: list[OfferUse] = []
    for pk in sorted(set(got) | presales):
        offer = priced.limited.get(pk)
        if offer is None:
            if pk in presales:  # not limited: nothing to take or check
                uses.append(_use(pk, customer_ref, order_id, order_number, 1, now))
            continue
        flash = offer.mechanic if isinstance(offer.mechanic, e.FlashSale) else None
        quantity = units.get(pk, 0) if flash is not None else 1
        if quantity < 1:
            continue
        if flash is not None:
            taken = (
                Offer.objects.filter(pk=pk)
                .filter(Q(stock_cap__isnull=True) | Q(stock_sold__lte=F("stock_cap") - quantity))
                .update(stock_sold=F("stock_sold") + quantity)
            )
            if not taken:
                raise flash_counters.sold_out()
        else:
            list(Offer.objects.select_for_update().filter(pk=pk).values_list("pk", flat=True))
        before = selectors.offer_prior_use(customer_ref=customer_ref, offer_ids=[pk]).get(pk, 0)
        over_user = offer.per_user_limit is not None and before >= offer.per_user_limit
        over_buyer = flash is not None and before + quantity > flash.per_buyer_limit
        if over_user or over_buyer:
            raise Conflict(
                _("该顾客已用完本活动的每人限购数量，请重新获取报价后下单"), code="offer_limit_reached"
            )
        uses.append(_use(pk, customer_ref, order_id, order_number, quantity, now))
    if uses:
        OfferUse.objects.bulk_create(uses)
    return uses


def _use(
    offer_id: int, customer_ref: str, order_id: int, order_number: str, quantity: int, now: dt.datetime
) -> OfferUse:
    return OfferUse(
        offer_id=offer_id,
        customer_ref=customer_ref,
        order_id=order_id,
        order_number=order_number,
        quantity=quantity,
        used_at=now,
    )


def offer_uses_release(*, order_id: int, now: dt.datetime | None = None) -> int:
    """Give back the limited-offer uses of an order that was cancelled or closed unpaid: a
    flash sale's units return to its stock and the customer's limit counts them no more.
    Once only (``released_at``). Returns the number of uses released."""
    now = now or timezone.now()
    released = 0
    back: dict[int, int] = {}
    with transaction.atomic():
        for use in OfferUse.objects.select_for_update().filter(order_id=order_id, released_at__isnull=True):
            if Offer.objects.filter(
                pk=use.offer_id, kind=OfferKind.FLASH_SALE, stock_sold__gte=use.quantity
            ).update(stock_sold=F("stock_sold") - use.quantity):
                back[use.offer_id] = back.get(use.offer_id, 0) + use.quantity
            use.released_at = now
            use.save(update_fields=["released_at"])
            released += 1
        flash_counters.give_back(back)  # the units are for sale again in Redis too
    return released


def _redeem_refusal(row: IssuedCoupon | None, customer: str, now: dt.datetime) -> Exception:
    if row is None or row.customer_ref != customer:
        return NotFound(_("优惠券不存在或不属于该顾客"))
    if row.status == CouponStatus.REDEEMED:
        return Conflict(
            _("优惠券已被使用（订单 %(o)s）") % {"o": row.order_ref}, code="coupon_already_redeemed"
        )
    if row.status == CouponStatus.EXPIRED or (row.valid_until is not None and now >= row.valid_until):
        return Conflict(_("优惠券已过期"), code="coupon_expired")
    return Conflict(_("优惠券尚未生效"), code="coupon_not_yet_valid")


def coupons_expire(*, actor: Actor, now: dt.datetime | None = None) -> int:
    """Mark issued coupons past their validity as expired (idempotent; run daily)."""
    now = now or timezone.now()
    with transaction.atomic():
        count = IssuedCoupon.objects.filter(status=CouponStatus.ISSUED, valid_until__lte=now).update(
            status=CouponStatus.EXPIRED
        )
        if count:
            audit_record(
                actor=actor,
                action="coupon.expire",
                object_type="promotions.issuedcoupon",
                after={"count": count},
            )
    return count


# --- quote -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CartItem:
    sku_code: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Shopper:
    """Who is buying: the customer reference, tier (MEM-01), segments, new-user flag."""

    customer_ref: str | None = None
    tier: str | None = None
    segments: frozenset[str] = frozenset()
    is_new: bool = False
    joined_groups: frozenset[int] = frozenset()  # group-buy offer ids whose group is formed
    paid_deposits: frozenset[int] = frozenset()  # presale offer ids whose deposit is paid


@dataclass(frozen=True, slots=True)
class CartQuote:
    quote: e.Quote
    skus: list[selectors.CartSku]  # per quote line
    # the store offers of the quote whose use counts per customer (flash sales, per-customer
    # limits), by id: what :func:`offer_uses_record` books when the quote becomes an order
    limited: Mapping[int, e.Offer] = field(default_factory=dict)
    prior_use: Mapping[int, int] = field(default_factory=dict)  # the customer's, per limited offer

    def flash_left(self) -> list[dict[str, Any]]:
        """Per flash sale the quote applied: the sale's units left and this customer's (before
        this cart), for the storefront's "仅剩 X 件 / 每人限购" display."""
        applied = {a.offer_id for a in self.quote.applied}
        rows = []
        for pk, offer in sorted(self.limited.items()):
            if offer.id in applied and isinstance(offer.mechanic, e.FlashSale):
                mine = offer.mechanic.per_buyer_limit - self.prior_use.get(pk, 0)
                rows.append(
                    {
                        "offer_id": offer.id,
                        "stock_left": offer.mechanic.stock_remaining,
                        "buyer_left": max(0, mine),
                    }
                )
        return rows


def quote_cart(
    *,
    store: Store,
    channel: Channel | None,
    lines: Sequence[CartItem],
    customer: Shopper,
    coupon_codes: Sequence[str] = (),
    now: dt.datetime | None = None,
    playbook: PlaybookSettings | None = None,
) -> CartQuote:
    """The cart's best price (PROMO-03) with the store's offers and the customer's coupons.

    Reads only (no audit): SKUs (1 query), applicable offers (2), coupons (2), playbook, and
    the customer's earlier uses of limited offers (1, only when such an offer applies).
    Member-tier prices come from the playbook's ``tier_discount_*`` settings; a caller that
    has just read the playbook of ``store``/``channel`` (checkout, in the same request) passes it.
    """
    now = now or timezone.now()
    errors: dict[str, str] = {}
    if not lines:
        raise ValidationError(_("购物车为空"), fields={"lines": _("至少一件商品")})
    if channel is not None and channel.store_id != store.pk:
        raise ValidationError(_("渠道不属于该店铺"), fields={"channel": _("渠道不属于该店铺")})
    found = selectors.cart_skus(store=store, codes=[item.sku_code for item in lines])
    # an offer scoped to a category covers its subcategories: each line carries its ancestors
    ancestors = selectors.category_ancestors(category_ids=[sku.category_id for sku in found.values()])
    cart_lines: list[e.CartLine] = []
    skus: list[selectors.CartSku] = []
    for n, item in enumerate(lines):
        sku = found.get(item.sku_code)
        if sku is None:
            errors[f"lines.{n}.sku"] = _("SKU 不存在或已停用：%(c)s") % {"c": item.sku_code}
            continue
        if item.quantity < 1:
            errors[f"lines.{n}.quantity"] = _("数量必须大于 0")
            continue
        cart_lines.append(
            e.CartLine(
                sku_id=str(sku.id),
                product_id=str(sku.product_id),
                category_id=str(sku.category_id),
                unit_price=Money(sku.price, store.currency),
                quantity=item.quantity,
                category_ancestors=frozenset(str(a) for a in ancestors[sku.category_id]),
            )
        )
        skus.append(sku)
    held, problems = selectors.held_coupons(
        store=store, codes=list(coupon_codes), customer_ref=customer.customer_ref
    )
    for code, why in problems.items():
        errors[f"coupon_codes.{code}"] = why
    if errors:
        raise ValidationError(_("购物车信息有误"), fields=errors)
    offers = selectors.offers_applicable(
        store=store,
        sku_ids=[s.id for s in skus],
        product_ids=[s.product_id for s in skus],
        category_ids=[c for s in skus for c in (s.category_id, *ancestors[s.category_id])],
        now=now,
    )
    if playbook is None:
        playbook = playbook_get(store=store, channel=channel)
    policy = selectors.promotion_policy(playbook)
    limited = {int(offer.id[2:]): offer for offer in offers if selectors.is_limited(offer)}
    prior_use = selectors.offer_prior_use(customer_ref=customer.customer_ref or "", offer_ids=list(limited))
    context = e.CustomerContext(
        customer_id=customer.customer_ref,
        tier=customer.tier,
        segments=customer.segments,
        is_new=customer.is_new,
        channel=channel.code if channel is not None else "web",
        joined_groups=frozenset(f"of{pk}" for pk in customer.joined_groups),
        paid_deposits=frozenset(f"of{pk}" for pk in customer.paid_deposits),
        prior_use={f"of{pk}": n for pk, n in prior_use.items()},
    )
    if customer.tier and policy.member_tier_rates:
        offers.append(e.member_price_offer(policy))
    quote = e.quote_best_price(
        lines=cart_lines, customer=context, offers=offers, coupons=held, now=now, policy=policy
    )
    return CartQuote(quote=quote, skus=skus, limited=limited, prior_use=prior_use)


def coupon_release(*, actor: Actor, coupon_code: str, order_ref: str) -> bool:
    """Give a coupon back after its order was cancelled or closed unpaid: one conditional
    UPDATE on (code, order) so only the order that used it can release it, once. The coupon
    returns to ``issued`` (or ``expired`` when its validity has ended meanwhile; the daily
    expiry run catches that). Returns whether anything changed."""
    with transaction.atomic():
        changed = IssuedCoupon.objects.filter(
            code=coupon_code, order_ref=order_ref, status=CouponStatus.REDEEMED
        ).update(status=CouponStatus.ISSUED, redeemed_at=None, order_ref="")
        if changed:
            row = IssuedCoupon.objects.get(code=coupon_code)
            audit_record(
                actor=actor,
                action="coupon.release",
                obj=row,
                store_id=row.store_id,
                before={"status": CouponStatus.REDEEMED, "order_ref": order_ref},
                after={"status": row.status},
            )
    return bool(changed)
