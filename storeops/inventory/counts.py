"""Cycle counts (SOP INV-05): count sheets, count entry, recounts and posting.

A sheet snapshots the book on-hand of its SKUs in one zone of one warehouse when it is created
(draft), is counted (counting), and is posted: every non-zero variance becomes a ledger
adjustment through :func:`storeops.inventory.services.stock_adjust` with the reason
``盘点差异 <sheet number>``, all in one transaction. Posting twice is a :class:`Conflict`.

Stock that moved since the snapshot: posting is refused for the lines whose on-hand is no
longer the snapshot (see :func:`rules.count_posting_delta`); :func:`count_sheet_recount`
re-snapshots those lines and clears their counts so they are counted again. We never guess
whether the count saw a receipt or shipment that happened while the sheet was open.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from storeops.audit.services import audit_record
from storeops.core.context import Actor
from storeops.core.errors import Conflict, InvalidTransition, ValidationError
from storeops.core.text import clean_text
from storeops.inventory import rules
from storeops.inventory.models import (
    CountScope,
    CountSheet,
    CountSheetLine,
    CountStatus,
    Stock,
    Warehouse,
    Zone,
)
from storeops.inventory.services import stock_adjust
from storeops.stores.models import Store

OPEN_STATUSES = (CountStatus.DRAFT, CountStatus.COUNTING)
CANCEL_REASON_MAX = 200  # what the operation log keeps of a cancellation's reason


def _sku_model() -> Any:
    return Stock._meta.get_field("sku").related_model


def _transition(sheet: CountSheet, target: str) -> None:
    if not rules.count_transition_allowed(sheet.status, target):
        raise InvalidTransition(
            _("盘点单 %(number)s 当前状态为“%(status)s”，不能执行此操作")
            % {"number": sheet.number, "status": sheet.get_status_display()}
        )


def _locked(sheet: CountSheet) -> CountSheet:
    return CountSheet.objects.select_for_update().get(pk=sheet.pk)


def _next_number(store: Store) -> str:
    """PD<yyyymmdd>-<n>: the n-th sheet of the store (the store row is locked by the caller)."""
    day = timezone.localdate().strftime("%Y%m%d")
    n = CountSheet.objects.filter(store=store).count() + 1
    while CountSheet.objects.filter(store=store, number=f"PD{day}-{n:03d}").exists():
        n += 1
    return f"PD{day}-{n:03d}"


def _scope_sku_ids(
    *,
    store: Store,
    warehouse: Warehouse,
    zone: str,
    scope: str,
    sku_ids: Iterable[int] | None,
    abc_class: str,
) -> list[int]:
    if scope == CountScope.SKUS:
        wanted = sorted({int(i) for i in (sku_ids or [])})
        if not wanted:
            raise ValidationError(_("请选择要盘点的 SKU"), fields={"sku_ids": _("至少选择一个 SKU")})
        found = set(_sku_model().objects.filter(store=store, pk__in=wanted).values_list("pk", flat=True))
        missing = [i for i in wanted if i not in found]
        if missing:
            raise ValidationError(
                _("SKU 不属于该店铺"),
                fields={"sku_ids": _("不存在的 SKU：%(ids)s") % {"ids": ", ".join(map(str, missing))}},
            )
        return wanted
    if scope == CountScope.ALL:
        return sorted(
            set(Stock.objects.filter(warehouse=warehouse, zone=zone).values_list("sku_id", flat=True))
        )
    if scope in (CountScope.ABC, CountScope.DUE):
        from storeops.inventory.abc_classes import sku_ids_for_count

        return sku_ids_for_count(store=store, scope=scope, abc_class=abc_class)
    raise ValidationError(_("未知的盘点范围"), fields={"scope": _("未知的盘点范围")})


def count_sheet_create(
    *,
    actor: Actor,
    store: Store,
    warehouse: Warehouse,
    zone: str = Zone.SELLABLE,
    scope: str = CountScope.SKUS,
    sku_ids: Iterable[int] | None = None,
    abc_class: str = "",
    note: str = "",
) -> CountSheet:
    """A draft sheet with one line per SKU in scope; each line's ``expected`` is the SKU's
    on-hand in the warehouse zone right now (0 when it has no stock row)."""
    errors: dict[str, str] = {}
    if warehouse.store_id != store.pk:
        errors["warehouse"] = _("仓库不属于该店铺")
    if zone not in Zone.values:
        errors["zone"] = _("未知的库区")
    if scope not in CountScope.values:
        errors["scope"] = _("未知的盘点范围")
    if scope == CountScope.ABC and abc_class not in rules.AbcClass.__members__:
        errors["abc_class"] = _("请选择 A、B 或 C 类")
    if errors:
        raise ValidationError(_("盘点单信息有误"), fields=errors)
    ids = _scope_sku_ids(
        store=store, warehouse=warehouse, zone=zone, scope=scope, sku_ids=sku_ids, abc_class=abc_class
    )
    if not ids:
        raise ValidationError(_("盘点范围内没有 SKU"), fields={"scope": _("盘点范围内没有 SKU")})
    with transaction.atomic():
        Store.objects.select_for_update().get(pk=store.pk)  # one sheet number at a time per store
        busy = sorted(
            set(
                CountSheetLine.objects.filter(
                    sheet__warehouse=warehouse,
                    sheet__zone=zone,
                    sheet__status__in=OPEN_STATUSES,
                    sku_id__in=ids,
                ).values_list("sku__code", flat=True)
            )
        )
        if busy:
            raise Conflict(
                _("以下 SKU 已在未完成的盘点单中：%(codes)s") % {"codes": ", ".join(busy[:20])},
                fields={"sku_ids": _("已在未完成的盘点单中")},
            )
        on_hand = dict(
            Stock.objects.filter(warehouse=warehouse, zone=zone, sku_id__in=ids).values_list(
                "sku_id", "on_hand"
            )
        )
        sheet = CountSheet.objects.create(
            store=store,
            warehouse=warehouse,
            zone=zone,
            number=_next_number(store),
            scope=scope,
            scope_value=abc_class if scope == CountScope.ABC else "",
            note=note[:200],
            created_by=actor.label[:150],
        )
        CountSheetLine.objects.bulk_create(
            [CountSheetLine(sheet=sheet, sku_id=i, expected=on_hand.get(i, 0)) for i in ids]
        )
        audit_record(
            actor=actor,
            action="count_sheet.create",
            obj=sheet,
            store_id=store.pk,
            after={"warehouse": warehouse.code, "zone": zone, "scope": scope, "lines": len(ids)},
        )
    return sheet


def count_sheet_start(*, actor: Actor, sheet: CountSheet) -> CountSheet:
    with transaction.atomic():
        sheet = _locked(sheet)
        _transition(sheet, CountStatus.COUNTING)
        sheet.status, sheet.started_at = CountStatus.COUNTING, timezone.now()
        sheet.save(update_fields=["status", "started_at"])
        audit_record(
            actor=actor,
            action="count_sheet.start",
            obj=sheet,
            store_id=sheet.store_id,
            before={"status": CountStatus.DRAFT},
            after={"status": sheet.status},
        )
    return sheet


def _count_value(raw: Any) -> int:
    if isinstance(raw, bool):
        raise ValueError
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str) and raw.strip().isdigit():
        value = int(raw.strip())
    else:
        raise ValueError
    if value < 0:
        raise ValueError
    return value


def count_sheet_enter(*, actor: Actor, sheet: CountSheet, counts: Mapping[int, Any]) -> CountSheet:
    """Record counted quantities (``{sku_id: units}``, whole numbers ≥ 0) on a sheet that is
    being counted. All or nothing: one bad value and no count is saved."""
    if not counts:
        raise ValidationError(_("没有录入任何数量"), fields={"counts": _("没有录入任何数量")})
    with transaction.atomic():
        sheet = _locked(sheet)
        if sheet.status != CountStatus.COUNTING:
            raise InvalidTransition(
                _("盘点单 %(number)s 不在盘点中，不能录入数量") % {"number": sheet.number}
            )
        lines = {line.sku_id: line for line in sheet.lines.select_related("sku")}
        errors: dict[str, str] = {}
        values: dict[int, int] = {}
        for sku_id, raw in counts.items():
            key = str(sku_id)
            line = lines.get(int(sku_id)) if str(sku_id).isdigit() else None
            if line is None:
                errors[key] = _("该 SKU 不在盘点单中")
                continue
            try:
                values[line.sku_id] = _count_value(raw)
            except ValueError:
                errors[key] = _("%(code)s：实盘数量必须是不小于 0 的整数") % {"code": line.sku.code}
        if errors:
            raise ValidationError(_("盘点数量有误，未保存"), fields=errors)
        now = timezone.now()
        changed = []
        for sku_id, value in values.items():
            line = lines[sku_id]
            line.counted, line.variance, line.counted_at = value, value - line.expected, now
            changed.append(line)
        CountSheetLine.objects.bulk_update(changed, ["counted", "variance", "counted_at"])
        audit_record(
            actor=actor,
            action="count_sheet.enter",
            obj=sheet,
            store_id=sheet.store_id,
            after={lines[i].sku.code: v for i, v in sorted(values.items())},
        )
    return sheet


def count_sheet_recount(
    *, actor: Actor, sheet: CountSheet, sku_ids: Iterable[int] | None = None
) -> list[int]:
    """Re-snapshot the book quantity of lines whose stock moved since the snapshot (or of the
    given SKUs) and clear their counts, so they are counted again. Returns the SKU ids reset."""
    with transaction.atomic():
        sheet = _locked(sheet)
        if sheet.status != CountStatus.COUNTING:
            raise InvalidTransition(_("盘点单 %(number)s 不在盘点中") % {"number": sheet.number})
        lines = list(sheet.lines.all())
        on_hand = dict(
            Stock.objects.filter(
                warehouse_id=sheet.warehouse_id, zone=sheet.zone, sku_id__in=[x.sku_id for x in lines]
            ).values_list("sku_id", "on_hand")
        )
        wanted = None if sku_ids is None else {int(i) for i in sku_ids}
        reset = [
            line
            for line in lines
            if (wanted is not None and line.sku_id in wanted)
            or (wanted is None and on_hand.get(line.sku_id, 0) != line.expected)
        ]
        for line in reset:
            line.expected = on_hand.get(line.sku_id, 0)
            line.counted = line.variance = line.counted_at = None
        CountSheetLine.objects.bulk_update(reset, ["expected", "counted", "variance", "counted_at"])
        if reset:
            audit_record(
                actor=actor,
                action="count_sheet.recount",
                obj=sheet,
                store_id=sheet.store_id,
                after={"recount_sku_ids": [x.sku_id for x in reset]},
            )
    return [x.sku_id for x in reset]


def count_sheet_post(*, actor: Actor, sheet: CountSheet) -> CountSheet:
    """Post the counted lines: each non-zero variance becomes a ``stock_adjust`` ledger line
    (reason ``盘点差异 <number>``, reference the sheet number). One transaction: if any line
    cannot be posted nothing is. Lines not counted are left alone (a partial count says
    nothing about them)."""
    with transaction.atomic():
        sheet = _locked(sheet)
        if sheet.status == CountStatus.POSTED:
            raise Conflict(_("盘点单 %(number)s 已过账") % {"number": sheet.number}, code="already_posted")
        _transition(sheet, CountStatus.POSTED)
        lines = list(sheet.lines.select_related("sku").order_by("sku__code"))
        counted = [x for x in lines if x.counted is not None]
        if not counted:
            raise ValidationError(_("还没有录入任何实盘数量"), fields={"counts": _("请先录入实盘数量")})
        stocks = {
            s.sku_id: s
            for s in Stock.objects.select_for_update()
            .filter(warehouse_id=sheet.warehouse_id, zone=sheet.zone, sku_id__in=[x.sku_id for x in counted])
            .order_by("pk")
        }
        deltas: dict[int, int] = {}
        moved: list[str] = []
        for line in counted:
            stock = stocks.get(line.sku_id)
            assert line.counted is not None
            delta = rules.count_posting_delta(
                expected=line.expected, counted=line.counted, on_hand_now=stock.on_hand if stock else 0
            )
            if delta is None:
                moved.append(line.sku.code)
            else:
                deltas[line.sku_id] = delta
        if moved:
            raise Conflict(
                _("以下 SKU 在建单后有出入库，请重新盘点后再过账：%(codes)s")
                % {"codes": ", ".join(moved[:20])},
                fields={"lines": _("库存已变动，需重新盘点")},
                code="stock_moved",
            )
        reason = _("盘点差异 %(number)s") % {"number": sheet.number}
        warehouse = sheet.warehouse
        for line in counted:
            delta = deltas[line.sku_id]
            if delta:
                stock_adjust(
                    actor=actor,
                    sku=line.sku,
                    warehouse=warehouse,
                    delta=delta,
                    reason=reason,
                    zone=sheet.zone,
                    reference=sheet.number,
                )
            line.adjusted = delta
        CountSheetLine.objects.bulk_update(counted, ["adjusted"])
        sheet.status, sheet.posted_at, sheet.posted_by = CountStatus.POSTED, timezone.now(), actor.label[:150]
        sheet.save(update_fields=["status", "posted_at", "posted_by"])
        # INV-04: the counted SKUs' next review moves one class cycle on
        from storeops.inventory.abc_classes import abc_refresh_reviews
        from storeops.stores.selectors import playbook_get

        abc_refresh_reviews(store=sheet.store, playbook=playbook_get(store=sheet.store))
        audit_record(
            actor=actor,
            action="count_sheet.post",
            obj=sheet,
            store_id=sheet.store_id,
            before={"status": CountStatus.COUNTING},
            after={
                "status": sheet.status,
                "adjustments": {x.sku.code: deltas[x.sku_id] for x in counted if deltas[x.sku_id]},
            },
        )
    return sheet


def count_sheet_cancel(*, actor: Actor, sheet: CountSheet, reason: str = "") -> CountSheet:
    """Cancel a sheet in draft or counting; the reason (optional, at most 200 characters: a
    longer one is refused, it was cut without a word) goes to the operation log."""
    reason = clean_text(reason, "reason", limit=CANCEL_REASON_MAX, required=False)
    with transaction.atomic():
        sheet = _locked(sheet)
        before = sheet.status
        _transition(sheet, CountStatus.CANCELLED)
        sheet.status, sheet.cancelled_at = CountStatus.CANCELLED, timezone.now()
        sheet.save(update_fields=["status", "cancelled_at"])
        audit_record(
            actor=actor,
            action="count_sheet.cancel",
            obj=sheet,
            store_id=sheet.store_id,
            before={"status": before},
            after={"status": sheet.status},
            note=reason,
        )
    return sheet
