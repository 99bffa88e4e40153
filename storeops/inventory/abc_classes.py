"""ABC classification (SOP INV-04): recompute the classes from recent sales value, persist them
per SKU with the next count review date, and hand the SKUs that are due to cycle counts
(INV-05, ``counts.count_sheet_create(scope="due")``).

Sales value comes from ``catalog.SalesDaily`` (revenue per product and day) over the playbook's
``abc_sales_window_days``; the shares are ``abc_a_share``/``abc_b_share`` and the review cycles
``abc_review_days_a/b/c``. A SKU's review falls due one cycle after its last posted count (or,
never counted, after the day it was first classified).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Max, Sum
from django.utils import timezone

from storeops.audit.services import audit_record
from storeops.core.context import Actor
from storeops.inventory import rules
from storeops.inventory.models import CountScope, CountSheetLine, CountStatus, SkuAbcClass, Stock
from storeops.stores.models import Store
from storeops.stores.playbook import PlaybookSettings


def _sku_model() -> Any:
    return Stock._meta.get_field("sku").related_model


def _sales_daily_model() -> Any:
    product = _sku_model()._meta.get_field("product").related_model
    return product._meta.get_field("sales_daily").related_model


def abc_policy(playbook: PlaybookSettings) -> rules.AbcPolicy:
    return rules.AbcPolicy(
        a_share=playbook.abc_a_share,
        b_share=playbook.abc_b_share,
        review_days_a=playbook.abc_review_days_a,
        review_days_b=playbook.abc_review_days_b,
        review_days_c=playbook.abc_review_days_c,
    )


def sales_value_by_product(*, store: Store, start: dt.date, end: dt.date) -> dict[int, Decimal]:
    rows = (
        _sales_daily_model()
        .objects.filter(store=store, day__gte=start, day__lte=end)
        .values("product_id")
        .annotate(value=Sum("revenue"))
    )
    return {r["product_id"]: r["value"] or Decimal(0) for r in rows}


def last_counted_on(*, sku_ids: list[int]) -> dict[int, dt.date]:
    """The day each SKU's latest posted count sheet was posted."""
    rows = (
        CountSheetLine.objects.filter(sku_id__in=sku_ids, sheet__status=CountStatus.POSTED)
        .values("sku_id")
        .annotate(last=Max("sheet__posted_at"))
    )
    return {r["sku_id"]: timezone.localdate(r["last"]) for r in rows if r["last"] is not None}


def abc_recompute(
    *, actor: Actor, store: Store, playbook: PlaybookSettings, today: dt.date
) -> dict[str, int]:
    """INV-04: classify every active SKU of the store by its product's sales value over the
    last ``abc_sales_window_days`` days (up to yesterday) and store the class, share and next
    review date. Returns the number of SKUs per class."""
    policy = abc_policy(playbook)
    window = playbook.abc_sales_window_days
    values = sales_value_by_product(
        store=store, start=today - dt.timedelta(days=window), end=today - dt.timedelta(days=1)
    )
    skus = list(_sku_model().objects.filter(store=store, is_active=True).values_list("pk", "product_id"))
    product_ids = {pid for _sku, pid in skus}
    by_product = {str(pid): values.get(pid, Decimal(0)) for pid in product_ids}
    classes = rules.abc_classify(by_product, a_share=policy.a_share, b_share=policy.b_share)
    total = sum(by_product.values(), Decimal(0))
    now = timezone.now()
    counted = last_counted_on(sku_ids=[s for s, _p in skus])
    summary = {c.value: 0 for c in rules.AbcClass}
    with transaction.atomic():
        existing = {row.sku_id: row for row in SkuAbcClass.objects.select_for_update().filter(store=store)}
        keep: set[int] = set()
        for sku_id, pid in skus:
            klass = classes[str(pid)]
            value = by_product[str(pid)]
            share = (value / total).quantize(Decimal("0.000001")) if total else Decimal(0)
            row = existing.get(sku_id) or SkuAbcClass(store=store, sku_id=sku_id, first_classified_on=today)
            row.abc_class, row.sales_value, row.share = klass.value, value, min(share, Decimal(1))
            row.window_days, row.computed_at = window, now
            row.last_counted_on = counted.get(sku_id)
            row.next_review_on = rules.next_review_date(
                row.last_counted_on or row.first_classified_on, klass, policy
            )
            row.save()
            keep.add(sku_id)
            summary[klass.value] += 1
        SkuAbcClass.objects.filter(store=store).exclude(sku_id__in=keep).delete()
        audit_record(
            actor=actor,
            action="inventory.abc_recompute",
            object_type="stores.store",
            object_id=store.pk,
            object_repr=str(store),
            store_id=store.pk,
            after={"classes": summary, "window_days": window},
        )
    return summary


def abc_refresh_reviews(*, store: Store, playbook: PlaybookSettings) -> int:
    """Move each classified SKU's next review after its latest posted count (called when a
    count sheet is posted, so a counted SKU stops being due without waiting for the weekly
    recompute). Returns the number of rows changed."""
    policy = abc_policy(playbook)
    rows = list(SkuAbcClass.objects.filter(store=store))
    counted = last_counted_on(sku_ids=[r.sku_id for r in rows])
    changed = []
    for row in rows:
        last = counted.get(row.sku_id)
        if last is None or last == row.last_counted_on:
            continue
        row.last_counted_on = last
        row.next_review_on = rules.next_review_date(last, rules.AbcClass(row.abc_class), policy)
        changed.append(row)
    SkuAbcClass.objects.bulk_update(changed, ["last_counted_on", "next_review_on"])
    return len(changed)


def sku_ids_for_count(
    *, store: Store, scope: str, abc_class: str = "", today: dt.date | None = None
) -> list[int]:
    """The SKUs a count sheet of scope ``abc`` (one class) or ``due`` (review due by today) covers."""
    qs = SkuAbcClass.objects.filter(store=store, sku__is_active=True)
    if scope == CountScope.ABC:
        qs = qs.filter(abc_class=abc_class)
    else:
        qs = qs.filter(next_review_on__lte=today or timezone.localdate())
    return sorted(qs.values_list("sku_id", flat=True))
