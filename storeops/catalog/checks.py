"""SOP checks of the catalog: banned words in live copy (LIST-02: products, campaigns, offers,
message templates), slow movers and launch products without add-to-cart (LIST-07),
conversion below the category (LIST-08), supplier scorecards and key-product suppliers (SEL-02)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_noop

from storeops.accounts.roles import Role
from storeops.catalog.banned_words import BannedWordScanner
from storeops.catalog.models import Product, ProductStatus
from storeops.catalog.rules import (
    Severity as RuleSeverity,
)
from storeops.catalog.rules import (
    conversion_below_category,
    key_product_needs_more_suppliers,
    launch_without_add_to_cart,
    lifecycle_stage,
    slow_mover_reasons,
)
from storeops.catalog.selectors import (
    banned_word_scanner,
    key_products_supplier_counts,
    launch_tracking,
    lifecycle_policy,
    sales_window,
    stock_on_hand,
    supplier_policy,
    supplier_ranking,
)
from storeops.marketing.selectors import campaigns_with_copy_out
from storeops.outreach.selectors import template_list
from storeops.promotions.selectors import offers_enabled
from storeops.sop.registry import CheckContext, FindingDraft, Schedule, Severity, register_check, titled

# (rows, the copy fields scanned, other fields the title needs, subject type, finding title,
# the title's parameters)
_CopySource = tuple[QuerySet, tuple[str, ...], tuple[str, ...], str, str, Callable[[Any], dict]]


@register_check(
    rule="LIST-02", title="在售文案禁用词复查", owner_role=Role.OPERATIONS, schedule=Schedule.DAILY
)
def live_copy_banned_words(ctx: CheckContext) -> Iterator[FindingDraft]:
    """Every piece of live copy containing a word of the store's current banned-word list
    (re-run at once when the list changes): live products' titles and descriptions, campaign
    plans past draft (theme, mechanics), enabled offers' titles and active message templates."""
    scanner = banned_word_scanner(store=ctx.store)
    sources: tuple[_CopySource, ...] = (
        (
            Product.objects.filter(store=ctx.store, status=ProductStatus.LIVE),
            ("title", "description"),
            ("code",),
            "catalog.product",
            gettext_noop("在售商品 %(code)s 文案含广告法禁用词：%(words)s"),
            lambda product: {"code": product.code},
        ),
        (
            campaigns_with_copy_out(store=ctx.store),
            ("theme", "mechanics"),
            (),
            "marketing.campaign",
            gettext_noop("营销活动「%(name)s」文案含广告法禁用词：%(words)s"),
            lambda campaign: {"name": campaign.theme},
        ),
        (
            offers_enabled(store=ctx.store, now=ctx.now),
            ("title_zh", "title_en"),
            (),
            "promotions.offer",
            gettext_noop("促销活动 #%(id)s「%(name)s」名称含广告法禁用词：%(words)s"),
            lambda offer: {"id": offer.pk, "name": offer.title_zh or offer.title_en},
        ),
        (
            template_list(ctx.store, active_only=True),
            ("subject", "body"),
            ("code",),
            "outreach.messagetemplate",
            gettext_noop("启用中的消息模板 %(code)s 含广告法禁用词：%(words)s"),
            lambda template: {"code": template.code},
        ),
    )
    for rows, fields, loaded, subject_type, title, params in sources:
        for row in rows.only("pk", *fields, *loaded).order_by("pk").iterator(chunk_size=2000):
            found = scanner.words_in({f: getattr(row, f) for f in fields})
            if found:
                yield _banned_copy_finding(
                    scanner, found, subject=(subject_type, row.pk), title=title, **params(row)
                )


def _banned_copy_finding(
    scanner: BannedWordScanner,
    found: dict[str, tuple[str, ...]],
    *,
    subject: tuple[str, int],
    title: str,
    **params: object,
) -> FindingDraft:
    """One LIST-02 finding for one piece of copy: ``found`` is field -> words."""
    subject_type, pk = subject
    words = "、".join(dict.fromkeys(w for ws in found.values() for w in ws))
    # Products keep their historic key (open findings stay the same finding).
    prefix = "product" if subject_type == "catalog.product" else subject_type
    return FindingDraft(
        subject_key=f"{prefix}:{pk}:banned_words",
        subject_type=subject_type,
        subject_id=str(pk),
        severity=Severity.CRITICAL,
        **titled(title, words=words, **params),
        detail={"words": {f: list(ws) for f, ws in found.items()}, "word_list_version": scanner.version},
    )


def _windows(today: dt.date, days: int) -> tuple[tuple[dt.date, dt.date], tuple[dt.date, dt.date]]:
    recent = (today - dt.timedelta(days=days - 1), today)
    previous = (recent[0] - dt.timedelta(days=days), recent[0] - dt.timedelta(days=1))
    return recent, previous


@register_check(
    rule="LIST-07", title="商品生命周期与滞销", owner_role=Role.OPERATIONS, schedule=Schedule.DAILY
)
def slow_movers(ctx: CheckContext) -> Iterator[FindingDraft]:
    """Live products past launch that sell too little for their stock: flag for clearance.
    Sales and stock come from the daily sales stats; a product without stock data is skipped.
    And launch products viewed but not once added to a cart ``launch_tracking_min_days`` after
    listing (:func:`launch_tracking`: the statistics, else the behaviour events)."""
    yield from _launch_without_add_to_cart(ctx)
    policy = lifecycle_policy(ctx.playbook)
    today = ctx.today
    recent, previous = _windows(today, policy.slow_mover_window_days)
    sales = sales_window(store=ctx.store, start=recent[0], end=recent[1])
    before = sales_window(store=ctx.store, start=previous[0], end=previous[1])
    stock = stock_on_hand(store=ctx.store, until=today)
    live = Product.objects.filter(
        store=ctx.store, status=ProductStatus.LIVE, listed_on__isnull=False, listed_on__lte=today
    ).only("pk", "code", "listed_on")
    for product in live.order_by("pk"):
        if product.pk not in stock:
            continue
        assert product.listed_on is not None
        units = sales.get(product.pk, {}).get("units", 0)
        reasons = slow_mover_reasons(
            listed_on=product.listed_on,
            today=today,
            units_sold_in_window=units,
            stock_on_hand=stock[product.pk],
            policy=policy,
        )
        if not reasons:
            continue
        stage = lifecycle_stage(
            product.listed_on,
            today,
            recent_units=units,
            previous_units=before.get(product.pk, {}).get("units", 0),
            policy=policy,
        )
        yield FindingDraft(
            subject_key=f"product:{product.pk}:slow_mover",
            subject_type="catalog.product",
            subject_id=str(product.pk),
            **titled(
                gettext_noop("滞销商品 %(code)s：%(why)s"),
                code=product.code,
                why={
                    "zh": "；".join(r.message_zh for r in reasons),
                    "en": "; ".join(r.message_en for r in reasons),
                },
            ),
            detail={
                "stage": stage.value,
                "units": units,
                "stock_on_hand": stock[product.pk],
                "reasons": [r.code for r in reasons],
            },
        )


def _launch_without_add_to_cart(ctx: CheckContext) -> Iterator[FindingDraft]:
    policy = lifecycle_policy(ctx.playbook)
    min_days = ctx.playbook.launch_tracking_min_days
    for p in launch_tracking(store=ctx.store, today=ctx.today, days=1).products:
        if not launch_without_add_to_cart(p.age_days, p.total, min_days=min_days, policy=policy):
            continue
        yield FindingDraft(
            subject_key=f"product:{p.product_id}:launch_no_cart",
            subject_type="catalog.product",
            subject_id=str(p.product_id),
            severity=Severity.INFO,
            **titled(
                gettext_noop(
                    "新品 %(code)s 上架 %(days)s 天，浏览 %(clicks)s 次、访客 %(visitors)s 人，仍无加购"
                ),
                code=p.code,
                days=p.age_days,
                clicks=p.total.clicks,
                visitors=p.total.visitors,
            ),
            detail={
                "stage": "launch",
                "age_days": p.age_days,
                "clicks": p.total.clicks,
                "visitors": p.total.visitors,
                "add_to_cart": 0,
                "counted_from_events": p.total.counted,
            },
        )


@register_check(
    rule="LIST-08", title="转化率低于类目均值", owner_role=Role.OPERATIONS, schedule=Schedule.DAILY
)
def low_conversion(ctx: CheckContext) -> Iterator[FindingDraft]:
    """Live products converting below their category's average (share set by the playbook)
    over the last sales window: main image / detail page need work."""
    policy = lifecycle_policy(ctx.playbook)
    recent, _previous = _windows(ctx.today, policy.slow_mover_window_days)
    sales = sales_window(store=ctx.store, start=recent[0], end=recent[1])
    live = list(
        Product.objects.filter(store=ctx.store, status=ProductStatus.LIVE)
        .select_related("category")
        .only("pk", "code", "category__name", "category_id")
        .order_by("pk")
    )
    totals: dict[int, list[int]] = {}
    for p in live:
        s = sales.get(p.pk)
        if s:
            t = totals.setdefault(p.category_id, [0, 0])
            t[0] += s["buyers"]
            t[1] += s["visitors"]
    for p in live:
        s = sales.get(p.pk)
        buyers_visitors = totals.get(p.category_id)
        if not s or not s["visitors"] or not buyers_visitors or not buyers_visitors[1]:
            continue
        cr = Decimal(s["buyers"]) / s["visitors"]
        avg = Decimal(buyers_visitors[0]) / buyers_visitors[1]
        if conversion_below_category(cr, avg, policy, visitors=s["visitors"]):
            yield FindingDraft(
                subject_key=f"product:{p.pk}:low_conversion",
                subject_type="catalog.product",
                subject_id=str(p.pk),
                severity=Severity.INFO,
                **titled(
                    gettext_noop(
                        "商品 %(code)s 转化率 %(cr)s%% 低于类目「%(cat)s」均值 %(avg)s%%，请优化主图/详情页"
                    ),
                    code=p.code,
                    cr=_pct(cr),
                    cat=p.category.name,
                    avg=_pct(avg),
                ),
                detail={"conversion": str(cr), "category_average": str(avg), "visitors": s["visitors"]},
            )


def _pct(ratio: Decimal) -> str:
    return f"{(ratio * 100).quantize(Decimal('0.01')):f}"


@register_check(
    rule="SEL-02", title="供应商评分与核心商品备选供应商", owner_role=Role.OPERATIONS, schedule=Schedule.DAILY
)
def supplier_scorecard(ctx: CheckContext) -> Iterator[FindingDraft]:
    """Suppliers breaching the stock-out or QC thresholds; key products with fewer suppliers
    than the playbook's minimum."""
    for supplier, score in supplier_ranking(store=ctx.store, today=ctx.today, playbook=ctx.playbook):
        breaches = [r for r in score.reasons if r.severity is RuleSeverity.BLOCK]
        if breaches:
            yield FindingDraft(
                subject_key=f"supplier:{supplier.pk}",
                subject_type="catalog.supplier",
                subject_id=str(supplier.pk),
                **titled(
                    gettext_noop("供应商 %(name)s 未达标：%(why)s"),
                    name=supplier.name,
                    why={
                        "zh": "；".join(r.message_zh for r in breaches),
                        "en": "; ".join(r.message_en for r in breaches),
                    },
                ),
                detail={"score": str(score.score), "breaches": [r.code for r in breaches]},
            )
    policy = supplier_policy(ctx.playbook)
    for product in key_products_supplier_counts(store=ctx.store):
        if key_product_needs_more_suppliers(product.n_suppliers, policy):  # type: ignore[attr-defined]
            yield FindingDraft(
                subject_key=f"product:{product.pk}:suppliers",
                subject_type="catalog.product",
                subject_id=str(product.pk),
                **titled(
                    gettext_noop("核心商品 %(code)s 仅有 %(n)s 个供应商，至少需要 %(min)s 个"),
                    code=product.code,
                    n=product.n_suppliers,  # type: ignore[attr-defined]
                    min=policy.min_suppliers_for_key_product,
                ),
                detail={"suppliers": product.n_suppliers},  # type: ignore[attr-defined]
            )
