"""SOP checks of the inventory app: the ledger explains every balance (INV-03), safety stock
(INV-01, with the INV-06 seasonal preparation), promotion stock cover (INV-02), count reviews
due by ABC class (INV-04) and slow movers for clearance (INV-07)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext_noop

from storeops.accounts.roles import Role
from storeops.inventory.selectors import (
    TurnoverReport,
    abc_reviews_due,
    ledger_mismatches,
    promotion_cover,
    replenishment_suggestions,
    turnover_report,
)
from storeops.sop.registry import CheckContext, FindingDraft, Schedule, Severity, register_check, titled


@register_check(rule="INV-03", title="库存与流水不一致", owner_role=Role.WAREHOUSE, schedule=Schedule.HOURLY)
def ledger_explains_balance(ctx: CheckContext) -> Iterator[FindingDraft]:
    """A stock row whose balance differs from the sum of its ledger lines: something changed
    stock outside the inventory services. Critical: oversell protection depends on it."""
    for m in ledger_mismatches(store=ctx.store):
        yield FindingDraft(
            subject_key=f"stock:{m.stock_id}",
            subject_type="inventory.stock",
            subject_id=str(m.stock_id),
            severity=Severity.CRITICAL,
            **titled(
                gettext_noop("%(sku)s 在 %(warehouse)s 的库存（%(on_hand)s/%(reserved)s）与流水合计不符"),
                sku=m.sku_code,
                warehouse=m.warehouse_code,
                on_hand=m.on_hand,
                reserved=m.reserved,
            ),
            detail={
                "zone": m.zone,
                "on_hand": m.on_hand,
                "reserved": m.reserved,
                "ledger_on_hand": m.ledger_on_hand,
                "ledger_reserved": m.ledger_reserved,
            },
        )


@register_check(rule="INV-01", title="安全库存补货提醒", owner_role=Role.WAREHOUSE, schedule=Schedule.DAILY)
def safety_stock(ctx: CheckContext) -> Iterator[FindingDraft]:
    """INV-01 with INV-06: stock at or below the safety line of the average sales, or — for a
    product in its seasonal preparation window — of the season's expected demand; the title
    and detail say when the season raised the alert or the quantity."""
    for r in replenishment_suggestions(
        store=ctx.store, today=ctx.today, playbook=ctx.playbook, alerts_only=True
    ):
        detail = {
            "available": r.available,
            "avg_daily_sales": str(round(float(r.avg_daily_sales), 3)),
            "threshold": str(round(float(r.threshold), 3)),
            "suggested_quantity": r.suggested_quantity,
            "method": r.method,
        }
        if r.seasonal and r.season_start and r.season_end:
            detail.update(
                {
                    "seasonal_rule": "INV-06",
                    "season_start": r.season_start.isoformat(),
                    "season_end": r.season_end.isoformat(),
                    "season_source": r.season_source,
                    "season_trend": str(r.season_trend),
                    "seasonal_prep_days": ctx.playbook.seasonal_prep_days,
                    "demand_over_horizon": str(round(float(r.demand_over_horizon or 0), 2)),
                }
            )
            text = titled(
                gettext_noop(
                    "%(code)s 旺季（%(start)s 起）备货：可用库存 %(available)s 件，"
                    "不足以覆盖旺季预计需求，建议补货 %(qty)s 件"
                ),
                code=r.product_code,
                start=r.season_start.isoformat(),
                available=r.available,
                qty=r.suggested_quantity,
            )
        else:
            text = titled(
                gettext_noop("%(code)s 可用库存 %(available)s 件，低于安全库存，建议补货 %(qty)s 件"),
                code=r.product_code,
                available=r.available,
                qty=r.suggested_quantity,
            )
        yield FindingDraft(
            subject_key=f"product:{r.product_id}",
            subject_type="catalog.product",
            subject_id=str(r.product_id),
            **text,
            detail=detail,
        )


@register_check(rule="INV-04", title="ABC分类到期复盘", owner_role=Role.WAREHOUSE, schedule=Schedule.DAILY)
def abc_review_due(ctx: CheckContext) -> Iterator[FindingDraft]:
    """A classified SKU whose count review is due (one class cycle after its last posted count)
    and that is on no open count sheet. Resolved when a sheet covering it is opened or posted;
    the console's ABC page creates a count sheet for all due SKUs at once (INV-05)."""
    for row in abc_reviews_due(store=ctx.store, today=ctx.today):
        yield FindingDraft(
            subject_key=f"sku:{row.sku_id}",
            subject_type="catalog.sku",
            subject_id=str(row.sku_id),
            severity=Severity.INFO,
            **titled(
                gettext_noop("%(code)s（%(klass)s 类）应于 %(due)s 前盘点复核"),
                code=row.sku.code,
                klass=row.abc_class,
                due=row.next_review_on.isoformat(),
            ),
            detail={
                "abc_class": row.abc_class,
                "next_review_on": row.next_review_on.isoformat(),
                "last_counted_on": row.last_counted_on.isoformat() if row.last_counted_on else None,
            },
        )


@register_check(rule="INV-07", title="滞销商品清仓提醒", owner_role=Role.WAREHOUSE, schedule=Schedule.DAILY)
def slow_movers(ctx: CheckContext) -> Iterator[FindingDraft]:
    """A product whose stock would last more than ``slow_mover_days_of_cover`` days at the pace
    of the last ``turnover_period_days`` days (or that sold nothing): flag it for clearance.
    Products listed within the period are too young to judge.

    Per SKU, only a slow SKU of a product that is not slow as a whole (one size or colour
    sitting while the others sell) gets its own finding: a slow product's SKUs are covered by
    the product's finding, so no stock is reported twice."""
    report = turnover_report(store=ctx.store, today=ctx.today, playbook=ctx.playbook, skus=True)
    for r in report.skus:
        if r.slow and not r.product_slow:
            yield _slow_finding(
                ctx,
                report,
                r,
                subject=("catalog.sku", r.sku_id, r.sku_code),
                extra={"level": "sku", "product_code": r.product_code},
            )
    for p in report.products:
        if p.slow:
            yield _slow_finding(ctx, report, p, subject=("catalog.product", p.product_id, p.product_code))


def _slow_finding(
    ctx: CheckContext,
    report: TurnoverReport,
    r: Any,
    *,
    subject: tuple[str, int, str],
    extra: dict[str, Any] | None = None,
) -> FindingDraft:
    """INV-07: the clearance finding of a slow product or SKU (``subject``: type, id, code)."""
    subject_type, subject_id, code = subject
    cover = None if r.days_of_cover is None else round(float(r.days_of_cover))
    return FindingDraft(
        subject_key=f"{subject_type.split('.')[1]}:{subject_id}",
        subject_type=subject_type,
        subject_id=str(subject_id),
        severity=Severity.INFO,
        **(
            titled(
                gettext_noop("%(code)s 近 %(days)s 天无销售，在库 %(on_hand)s 件，建议清仓"),
                code=code,
                days=report.period_days,
                on_hand=r.on_hand,
            )
            if cover is None
            else titled(
                gettext_noop("%(code)s 在库 %(on_hand)s 件可售约 %(cover)s 天，超过滞销线，建议清仓"),
                code=code,
                on_hand=r.on_hand,
                cover=cover,
            )
        ),
        detail={
            **(extra or {}),
            "on_hand": r.on_hand,
            "units_sold": r.units_sold,
            "period_days": report.period_days,
            "days_of_cover": cover,
            "turnover": None if r.turnover is None else str(round(float(r.turnover), 3)),
            "max_days_of_cover": ctx.playbook.slow_mover_days_of_cover,
        },
    )


@register_check(rule="INV-02", title="大促备货不足", owner_role=Role.WAREHOUSE, schedule=Schedule.DAILY)
def promotion_stock_cover(ctx: CheckContext) -> Iterator[FindingDraft]:
    """A SKU of a big promotion starting soon whose available stock does not cover
    ``promo_stock_cover_days`` of uplifted demand (the campaign's expected uplift, else the
    playbook's default): one finding per (campaign, SKU) with the shortfall in units."""
    for r in promotion_cover(
        store=ctx.store, today=ctx.today, playbook=ctx.playbook, playbook_for=ctx.playbook_for
    ):
        if r.cover.ok:
            continue
        yield FindingDraft(
            subject_key=f"campaign:{r.campaign_id}:sku:{r.sku_id}",
            subject_type="catalog.sku",
            subject_id=str(r.sku_id),
            **titled(
                gettext_noop("大促「%(theme)s」（%(day)s 开始）%(code)s 备货不足，还差 %(shortfall)s 件"),
                theme=r.campaign_theme,
                day=r.starts_on.isoformat(),
                code=r.sku_code,
                shortfall=r.cover.shortfall,
            ),
            detail={
                "campaign_id": r.campaign_id,
                "starts_on": r.starts_on.isoformat(),
                "available": r.cover.available,
                "required": r.cover.required,
                "shortfall": r.cover.shortfall,
                "baseline_daily": str(round(float(r.baseline_daily), 3)),
                "uplift": str(r.uplift),
                "uplift_from_playbook": r.uplift_from_playbook,
                "cover_days": r.cover_days,
                "planned_qty": r.planned_qty,
            },
        )
