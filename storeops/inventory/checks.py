"""SOP checks of the inventory app: the ledger explains every balance (INV-03) and safety
stock (INV-01)."""

from __future__ import annotations

from collections.abc import Iterator

from django.utils.translation import gettext_noop

from storeops.accounts.roles import Role
from storeops.inventory.selectors import ledger_mismatches, replenishment_suggestions
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
    for r in replenishment_suggestions(
        store=ctx.store, today=ctx.today, playbook=ctx.playbook, alerts_only=True
    ):
        yield FindingDraft(
            subject_key=f"product:{r.product_id}",
            subject_type="catalog.product",
            subject_id=str(r.product_id),
            **titled(
                gettext_noop("%(code)s 可用库存 %(available)s 件，低于安全库存，建议补货 %(qty)s 件"),
                code=r.product_code,
                available=r.available,
                qty=r.suggested_quantity,
            ),
            detail={
                "available": r.available,
                "avg_daily_sales": str(round(float(r.avg_daily_sales), 3)),
                "threshold": str(round(float(r.threshold), 3)),
                "suggested_quantity": r.suggested_quantity,
            },
        )
