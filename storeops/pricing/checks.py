"""SOP checks of pricing: competitor monitoring (PRICE-04) — price drops on tracked items and
new items (上新) in the categories the store sells."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from django.utils.translation import gettext_noop

from storeops.accounts.roles import Role
from storeops.pricing.models import CompetitorProduct
from storeops.pricing.selectors import competitor_monitor, sold_category_ids
from storeops.sop.registry import CheckContext, FindingDraft, Schedule, Severity, register_check, titled


@register_check(rule="PRICE-04", title="竞品降价监控", owner_role=Role.OPERATIONS, schedule=Schedule.HOURLY)
def competitor_price_drop(ctx: CheckContext) -> Iterator[FindingDraft]:
    """Two kinds of finding:

    * a tracked competitor item whose latest observed price fell by at least
      ``competitor_drop_alert_ratio`` against the observation before it. One finding per
      drop (the subject is the observation), open until a later observation replaces it;
    * a competitor item first seen within ``competitor_new_product_days`` whose category (its
      own, else its matched product's) is one the store sells (:func:`sold_category_ids`).
      Informational, once per item; it resolves itself when the item is no longer new. An
      item without a category is only shown as new in the monitoring table."""
    yield from _price_drops(ctx)
    yield from _new_products(ctx)


def _price_drops(ctx: CheckContext) -> Iterator[FindingDraft]:
    ratio = ctx.playbook.competitor_drop_alert_ratio
    tracked = CompetitorProduct.objects.filter(store=ctx.store, is_tracked=True).select_related("product")
    for cp in tracked.order_by("pk"):
        rows = list(cp.prices.filter(observed_at__lte=ctx.now).order_by("-observed_at", "-id")[:2])
        if len(rows) < 2:
            continue
        latest, previous = rows
        if latest.price <= previous.price * (1 - ratio):
            drop = (previous.price - latest.price) / previous.price
            yield FindingDraft(
                subject_key=f"competitor_price:{latest.pk}",
                subject_type="pricing.competitorproduct",
                subject_id=str(cp.pk),
                **titled(
                    gettext_noop("竞品降价：%(c)s「%(n)s」%(old)s → %(new)s 元（降 %(pct)s%%）"),
                    c=cp.competitor,
                    n=cp.name,
                    old=str(previous.price),
                    new=str(latest.price),
                    pct=f"{(drop * 100).quantize(1)}",
                ),
                detail={
                    "old": str(previous.price),
                    "new": str(latest.price),
                    "drop": str(drop),
                    "product_id": cp.product_id,
                    "promotion": latest.promotion,
                },
            )


def _new_products(ctx: CheckContext) -> Iterator[FindingDraft]:
    sold = sold_category_ids(store=ctx.store)
    if not sold:
        return
    new = competitor_monitor(
        store_id=ctx.store.pk,
        now=ctx.now,
        new_product_days=ctx.playbook.competitor_new_product_days,
        new_only=True,
    ).filter(first_seen_at__lte=ctx.now, effective_category_id__in=sold)
    for cp in new:
        category = cp.category or (cp.product.category if cp.product else None)
        yield FindingDraft(
            subject_key=f"competitor_new:{cp.pk}",
            subject_type="pricing.competitorproduct",
            subject_id=str(cp.pk),
            severity=Severity.INFO,
            once=True,
            **titled(
                gettext_noop("竞品上新：%(c)s「%(n)s」（类目：%(cat)s）"),
                c=cp.competitor,
                n=cp.name,
                cat=category.name if category else "",
            ),
            detail={
                "first_seen_at": cp.first_seen_at.isoformat(),
                "category_id": cp.effective_category_id,
                "price": None if cp.latest_price is None else str(cp.latest_price.quantize(Decimal("0.01"))),
                "promotion": cp.latest_promotion or "",
                "is_promotional": bool(cp.latest_is_promotional),
                "product_id": cp.product_id,
            },
        )
