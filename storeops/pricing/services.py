"""Every change of prices, costs and competitor data. Atomic and audited.

:func:`price_set` is the only way a price changes (SOP PRICE-03): it writes the new
version with its reason into the price history and the operation log in one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from storeops.audit.services import audit_record, snapshot
from storeops.catalog.models import Product, Sku
from storeops.core.context import Actor
from storeops.core.errors import Conflict, ValidationError
from storeops.pricing.models import (
    ChannelPrice,
    CompetitorPrice,
    CompetitorProduct,
    PriceChange,
    PriceChangeReason,
    SkuCost,
)
from storeops.stores.models import Channel, Store

CENT = Decimal("0.01")


def parse_amount(value: Any, field: str, *, positive: bool = False) -> Decimal:
    """A money amount from user input: a number with at most two decimals, not negative
    (or positive). Floats are refused like everywhere else in money code."""
    if isinstance(value, float | bool) or value is None or value == "":
        raise ValidationError(_("金额有误"), fields={field: _("请输入金额")})
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationError(_("金额有误"), fields={field: _("请输入数字")}) from None
    if not amount.is_finite():
        raise ValidationError(_("金额有误"), fields={field: _("请输入数字")})
    if amount < 0 or (positive and amount == 0):
        raise ValidationError(
            _("金额有误"), fields={field: _("金额必须大于0") if positive else _("金额不能为负")}
        )
    if amount >= Decimal("1e12"):  # before quantize: 1E+30 has more digits than it can hold
        raise ValidationError(_("金额有误"), fields={field: _("金额过大")})
    if amount != amount.quantize(CENT):
        raise ValidationError(_("金额有误"), fields={field: _("金额最多两位小数")})
    return amount.quantize(CENT)


def price_set(
    *, actor: Actor, sku: Sku, new_price: Any, reason: str, note: str = "", channel: Channel | None = None
) -> PriceChange:
    """Change the base price of ``sku`` (or its price on ``channel``) and version it."""
    if reason not in PriceChangeReason.values or reason == PriceChangeReason.INITIAL:
        raise ValidationError(_("请选择调价原因"), fields={"reason": _("请选择调价原因")})
    if reason == PriceChangeReason.OTHER and not note.strip():
        raise ValidationError(_("原因为“其他”时请填写说明"), fields={"note": _("必填")})
    price = parse_amount(new_price, "new_price")
    if channel is not None and channel.store_id != sku.store_id:
        raise ValidationError(_("渠道不属于该店铺"), fields={"channel": _("渠道不属于该店铺")})
    with transaction.atomic():
        locked = Sku.objects.select_for_update().get(pk=sku.pk)
        if channel is None:
            old: Decimal | None = locked.price
            if old == price:
                raise Conflict(_("新价格与当前价格相同"))
            Sku.objects.filter(pk=locked.pk).update(price=price)
            sku.price = price
        else:
            row = ChannelPrice.objects.select_for_update().filter(sku=locked, channel=channel).first()
            old = row.price if row is not None else None
            if old == price:
                raise Conflict(_("新价格与当前价格相同"))
            if row is None:
                ChannelPrice.objects.create(sku=locked, channel=channel, price=price)
            else:
                row.price = price
                row.save(update_fields=["price", "updated_at"])
        change = PriceChange.objects.create(
            store_id=locked.store_id,
            sku=locked,
            channel=channel,
            old_price=old,
            new_price=price,
            reason=reason,
            note=note.strip()[:300],
            actor=actor.user if actor.user is not None and actor.user.pk else None,
            actor_label=actor.label[:150],
        )
        audit_record(
            actor=actor,
            action="price.change",
            obj=locked,
            store_id=locked.store_id,
            before={"price": old, "channel": channel.pk if channel else None},
            after={"price": price, "channel": channel.pk if channel else None},
            note=f"{reason}: {note}".strip(": "),
        )
        if channel is None:  # SEL-04: the price band tag follows the base price
            from storeops.catalog.services import product_price_band_refresh  # catalog imports pricing

            product_price_band_refresh(actor=actor, product_id=locked.product_id, store_id=locked.store_id)
    return change


def prices_initial_record(*, actor: Actor, skus: Iterable[Sku]) -> int:
    """Version the initial prices of newly created SKUs (called inside their transaction)."""
    user = actor.user if actor.user is not None and actor.user.pk else None
    rows = [
        PriceChange(
            store_id=s.store_id,
            sku=s,
            new_price=s.price,
            reason=PriceChangeReason.INITIAL,
            actor=user,
            actor_label=actor.label[:150],
        )
        for s in skus
    ]
    PriceChange.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def sku_cost_set(
    *,
    actor: Actor,
    sku: Sku,
    product: Any = None,
    operations: Any = None,
    logistics: Any = None,
    tax: Any = None,
) -> SkuCost:
    """Set any of the four PRICE-02 cost components of one unit (``None`` keeps a value)."""
    values = {
        k: parse_amount(v, k)
        for k, v in (("product", product), ("operations", operations), ("logistics", logistics), ("tax", tax))
        if v is not None
    }
    with transaction.atomic():
        locked = Sku.objects.select_for_update().get(pk=sku.pk)
        row, _created = SkuCost.objects.select_for_update().get_or_create(sku=locked)
        before = {"product": locked.cost, **snapshot(row, ("operations", "logistics", "tax"))}
        if "product" in values:
            Sku.objects.filter(pk=locked.pk).update(cost=values["product"])
            sku.cost = values["product"]
        for key in ("operations", "logistics", "tax"):
            if key in values:
                setattr(row, key, values[key])
        row.save()
        after = {
            "product": values.get("product", locked.cost),
            **snapshot(row, ("operations", "logistics", "tax")),
        }
        audit_record(
            actor=actor,
            action="sku.cost_set",
            obj=locked,
            store_id=locked.store_id,
            before=before,
            after=after,
        )
    return row


def competitor_product_create(
    *,
    actor: Actor,
    store: Store,
    competitor: str,
    name: str,
    product: Product | None = None,
    url: str = "",
    is_tracked: bool = True,
) -> CompetitorProduct:
    errors = {k: _("必填") for k, v in (("competitor", competitor), ("name", name)) if not v.strip()}
    if errors:
        raise ValidationError(_("竞品信息有误"), fields=errors)
    if product is not None and product.store_id != store.pk:
        raise ValidationError(_("对标商品不属于该店铺"), fields={"product": _("对标商品不属于该店铺")})
    if CompetitorProduct.objects.filter(
        store=store, competitor=competitor.strip(), name=name.strip()
    ).exists():
        raise ValidationError(_("该竞品已存在"), fields={"name": _("该竞品已存在")})
    with transaction.atomic():
        cp = CompetitorProduct.objects.create(
            store=store,
            competitor=competitor.strip(),
            name=name.strip(),
            product=product,
            url=url,
            is_tracked=is_tracked,
        )
        audit_record(
            actor=actor, action="competitor_product.create", obj=cp, store_id=store.pk, after=snapshot(cp)
        )
    return cp


def competitor_price_record(
    *,
    actor: Actor,
    competitor_product: CompetitorProduct,
    price: Any,
    observed_at: dt.datetime | None = None,
    promotion: str = "",
    source: str = "manual",
) -> CompetitorPrice:
    """Record one observation of a competitor's price (PRICE-04 watches the drops)."""
    amount = parse_amount(price, "price", positive=True)
    observed_at = observed_at or timezone.now()
    if observed_at > timezone.now() + dt.timedelta(minutes=5):
        raise ValidationError(_("观察时间不能在未来"), fields={"observed_at": _("观察时间不能在未来")})
    with transaction.atomic():
        row = CompetitorPrice.objects.create(
            competitor_product=competitor_product,
            price=amount,
            observed_at=observed_at,
            promotion=promotion[:200],
            source=source,
        )
        audit_record(
            actor=actor,
            action="competitor_price.record",
            obj=competitor_product,
            store_id=competitor_product.store_id,
            after={"price": amount, "observed_at": observed_at, "promotion": promotion},
        )
    return row
