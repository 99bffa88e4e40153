"""SOP checks of pricing: competitor price drops on tracked items (PRICE-04)."""

from __future__ import annotations

from collections.abc import Iterator

from django.utils.translation import gettext_noop

from storeops.accounts.roles import Role
from storeops.pricing.models import CompetitorProduct
from storeops.sop.registry import CheckContext, FindingDraft, Schedule, register_check, titled


@register_check(rule="PRICE-04", title="竞品降价监控", owner_role=Role.OPERATIONS, schedule=Schedule.HOURLY)
def competitor_price_drop(ctx: CheckContext) -> Iterator[FindingDraft]:
    """A tracked competitor item whose latest observed price fell by at least
    ``competitor_drop_alert_ratio`` against the observation before it. One finding per
    drop (the subject is the observation), open until a later observation replaces it."""
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
