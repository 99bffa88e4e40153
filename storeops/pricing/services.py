"""Every change of prices, costs and competitor data. Atomic and audited.

:func:`price_set` is the only way a price changes (SOP PRICE-03): it writes the new
version with its reason into the price history and the operation log in one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from storeops.audit.services import audit_record, snapshot
from storeops.catalog.models import Category, Product, Sku
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
    category: Category | None = None,
    url: str = "",
    is_tracked: bool = True,
    first_seen_at: dt.datetime | None = None,
) -> CompetitorProduct:
    """A competitor item to watch. ``first_seen_at`` (default now) is when it was first seen
    on the market; PRICE-04 counts it as new (上新) for ``competitor_new_product_days``."""
    errors = {k: _("必填") for k, v in (("competitor", competitor), ("name", name)) if not v.strip()}
    if len(competitor.strip()) > 100:
        errors["competitor"] = _("不能超过%(n)s个字符") % {"n": 100}
    if len(name.strip()) > 200:
        errors["name"] = _("不能超过%(n)s个字符") % {"n": 200}
    if len(url) > 500:
        errors["url"] = _("不能超过%(n)s个字符") % {"n": 500}
    if errors:
        raise ValidationError(_("竞品信息有误"), fields=errors)
    if product is not None and product.store_id != store.pk:
        raise ValidationError(_("对标商品不属于该店铺"), fields={"product": _("对标商品不属于该店铺")})
    if category is not None and category.store_id != store.pk:
        raise ValidationError(_("类目不属于该店铺"), fields={"category": _("类目不属于该店铺")})
    now = timezone.now()
    if first_seen_at is not None and first_seen_at > now + dt.timedelta(minutes=5):
        message = _("首次发现时间不能在未来")
        raise ValidationError(message, fields={"first_seen_at": message})
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
            category=category,
            url=url,
            is_tracked=is_tracked,
            created_at=now,
            first_seen_at=min(first_seen_at, now) if first_seen_at is not None else now,
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
    is_promotional: bool = False,
    source: str = "manual",
) -> CompetitorPrice:
    """Record one observation of a competitor's price, with the competitor's promotion text
    (满300减30, 限时8折) and whether the price itself is a promotional one (PRICE-04 watches
    the drops). An observation older than the item's first sighting backdates it."""
    amount = parse_amount(price, "price", positive=True)
    observed_at = observed_at or timezone.now()
    if observed_at > timezone.now() + dt.timedelta(minutes=5):
        raise ValidationError(_("观察时间不能在未来"), fields={"observed_at": _("观察时间不能在未来")})
    promotion = promotion.strip()
    if len(promotion) > 200:
        raise ValidationError(_("促销信息过长"), fields={"promotion": _("不能超过%(n)s个字符") % {"n": 200}})
    with transaction.atomic():
        row = CompetitorPrice.objects.create(
            competitor_product=competitor_product,
            price=amount,
            observed_at=observed_at,
            promotion=promotion,
            is_promotional=is_promotional,
            source=source,
        )
        if CompetitorProduct.objects.filter(pk=competitor_product.pk, first_seen_at__gt=observed_at).update(
            first_seen_at=observed_at
        ):
            competitor_product.first_seen_at = observed_at
        audit_record(
            actor=actor,
            action="competitor_price.record",
            obj=competitor_product,
            store_id=competitor_product.store_id,
            after={
                "price": amount,
                "observed_at": observed_at,
                "promotion": promotion,
                "is_promotional": is_promotional,
            },
        )
    return row


@dataclass(frozen=True, slots=True)
class CompetitorObservation:
    """One validated row of a competitor price import (``catalog.imports``, kind competitors)."""

    competitor: str
    name: str
    price: Decimal
    observed_at: dt.datetime
    promotion: str = ""
    is_promotional: bool = False
    product_id: int | None = None
    category_id: int | None = None
    url: str = ""
    is_tracked: bool | None = None  # None: keep (new items: tracked)
    first_seen_at: dt.datetime | None = None


def competitor_observations_import(
    *, actor: Actor, store: Store, rows: list[CompetitorObservation]
) -> tuple[int, int]:
    """Write validated competitor observations in one transaction: the items not watched yet
    are created (first seen at their earliest observation, or the first-seen date given when
    earlier), the matched product, category, link and tracking given on a row update a known
    item, every row is one price observation (source ``import``). Returns (items created,
    observations written)."""
    now = timezone.now()
    with transaction.atomic():
        known = {
            (cp.competitor, cp.name): cp
            for cp in CompetitorProduct.objects.select_for_update().filter(
                store=store, competitor__in={r.competitor for r in rows}
            )
        }
        earliest: dict[tuple[str, str], dt.datetime] = {}
        for r in rows:
            key = (r.competitor, r.name)
            candidates = [r.observed_at, *([r.first_seen_at] if r.first_seen_at else [])]
            earliest[key] = min([*candidates, *([earliest[key]] if key in earliest else [])])
        created: list[CompetitorProduct] = []
        created_keys: set[tuple[str, str]] = set()
        changed: set[tuple[str, str]] = set()
        for r in rows:
            key = (r.competitor, r.name)
            cp = known.get(key)
            if cp is None:
                cp = CompetitorProduct(
                    store=store,
                    competitor=r.competitor,
                    name=r.name,
                    is_tracked=True if r.is_tracked is None else r.is_tracked,
                    created_at=now,
                    first_seen_at=min(earliest[key], now),
                )
                known[key] = cp
                created.append(cp)
                created_keys.add(key)
            for attr, value in (
                ("product_id", r.product_id),
                ("category_id", r.category_id),
                ("url", r.url),
                ("is_tracked", r.is_tracked),
            ):
                if value not in (None, "") and getattr(cp, attr) != value:
                    setattr(cp, attr, value)
                    changed.add(key)
            if key not in created_keys and earliest[key] < cp.first_seen_at:
                cp.first_seen_at = earliest[key]
                changed.add(key)
        CompetitorProduct.objects.bulk_create(created, batch_size=1000)
        updated = [cp for key, cp in known.items() if key in changed - created_keys]
        CompetitorProduct.objects.bulk_update(
            updated, ("product_id", "category_id", "url", "is_tracked", "first_seen_at"), batch_size=1000
        )
        CompetitorPrice.objects.bulk_create(
            [
                CompetitorPrice(
                    competitor_product=known[(r.competitor, r.name)],
                    price=r.price,
                    observed_at=r.observed_at,
                    promotion=r.promotion,
                    is_promotional=r.is_promotional,
                    source="import",
                )
                for r in rows
            ],
            batch_size=2000,
        )
        audit_record(
            actor=actor,
            action="pricing.import_competitors",
            object_type="pricing.competitorproduct",
            object_id="import",
            object_repr=_("导入竞品价格 %(n)s 条") % {"n": len(rows)},
            store_id=store.pk,
            after={
                "created": [f"{cp.competitor} · {cp.name}" for cp in created],
                "updated": len(updated),
                "observations": len(rows),
            },
        )
    return len(created), len(rows)
