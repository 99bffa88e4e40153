"""Every change to an after-sale case (AS-01…AS-04). Each is one transaction that moves the
case through the state machine of :mod:`storeops.aftersales.rules`, appends a case event and
an audit entry.

Decisions taken here (see also ``docs`` in the module docstrings of rules/selectors):

* **Who may ask, and when (AS-01).** Returns and exchanges need a delivered order and must be
  asked within ``return_window_days`` of delivery; no reason is needed (``no_reason``).
  Refund-only requests are accepted once the order has shipped (lost or incomplete parcels),
  within the same window once it is delivered. Before shipping there is no after-sale case:
  the customer cancels the order (``orders.services.order_cancel`` refunds in full and gives
  the stock back).
* **Quantities.** A case asks for at most the units bought, minus those refunded and those
  already in other open cases of the same line. Everything is validated before anything is
  written; the order row is locked while the case is created.
* **Automatic approval (AS-03).** A refund-only request below ``refund_auto_approve_below`` is
  approved when it is made, and refunded at once. Returns and exchanges are never automatic.
* **Refunds (AS-04, PROMO-04).** The amount is computed from the apportioned line prices,
  never typed: exactly what was paid for those units, through
  :func:`storeops.orders.services.order_refund` (never more than paid). Refund-only cases
  refund when approved; returns when inspected. QC failure does not withhold the refund (a
  quality complaint is expected to fail QC); it only routes the units to defective stock.
  A refund the payment provider refuses leaves the case waiting (the SLA check keeps it
  visible) and can be retried with :func:`case_refund`.
* **Goods (AS-04).** Returned units go to the QC zone of the warehouse that shipped most of
  them; inspection moves each unit QC → sellable (pass) or QC → defective (fail) through the
  stock ledger. An exchange ships the replacement (same SKU or another SKU of the same product
  at the same price) as a new parcel: reserved and shipped through the ledger, recorded as a
  fulfilment shipment whose order reference is the case number.
* **The order.** The first open case moves the order to ``after_sale``; when its last open
  case ends, the order goes back (or to ``refunded`` when everything was refunded).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Max, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from storeops.aftersales import rules
from storeops.aftersales.models import (
    AfterSale,
    AfterSaleEvent,
    AfterSaleLine,
    CaseKind,
    CaseReason,
    CaseStatus,
)
from storeops.audit.services import audit_record
from storeops.catalog import selectors as catalog_selectors
from storeops.core.context import Actor
from storeops.core.errors import Conflict, DomainError, InvalidTransition, NotFound, ValidationError
from storeops.core.idempotency import clean_key, key_reused, once
from storeops.core.numbers import create_numbered
from storeops.core.queries import each
from storeops.fulfilment import selectors as fulfilment_selectors
from storeops.fulfilment import services as fulfilment_services
from storeops.inventory import selectors as inventory_selectors
from storeops.inventory import services as inventory_services
from storeops.orders import services as order_services
from storeops.orders.models import Allocation, Order, OrderLine
from storeops.orders.rules import Status as OrderState
from storeops.stores.playbook import PlaybookSettings
from storeops.stores.selectors import playbook_get

log = logging.getLogger("storeops.aftersales")
# The stock zones of :class:`storeops.inventory.models.Zone` (private to inventory; its services
# refuse an unknown zone, so a typo here fails loudly).
QC_ZONE, SELLABLE_ZONE, DEFECTIVE_ZONE = "qc", "sellable", "defective"
S = rules.Status

# Orders on which a case may be opened: the goods have left the warehouse.
_SHIPPED_STATES = frozenset(
    {OrderState.SHIPPED, OrderState.DELIVERED, OrderState.COMPLETED, OrderState.AFTER_SALE}
)
MAX_IMAGES = 9  # what the marketplaces accept per request
BATCH_SIZE = 200  # cases read per query by the refund retry sweep (which tries every one due)


def _playbook(order: Order) -> PlaybookSettings:
    return playbook_get(store=order.store, channel=order.channel)


def _event(
    case: AfterSale,
    actor: Actor,
    kind: str,
    *,
    src: str = "",
    dst: str = "",
    note: str = "",
    at: dt.datetime | None = None,
    **data: Any,
) -> None:
    AfterSaleEvent.objects.create(
        created_at=at or timezone.now(),
        case=case,
        kind=kind,
        from_status=src,
        to_status=dst,
        note=note[:300],
        data={k: (str(v) if isinstance(v, Decimal | dt.datetime) else v) for k, v in data.items()},
        actor_label=actor.label[:150],
    )


def _locked(case: AfterSale) -> AfterSale:
    return AfterSale.objects.select_for_update().select_related("order", "store", "channel").get(pk=case.pk)


def _transition(
    case: AfterSale,
    target: rules.Status,
    *,
    actor: Actor,
    kind: str,
    note: str = "",
    data: Mapping[str, Any] | None = None,
    at: dt.datetime,
    **fields: Any,
) -> AfterSale:
    """Move ``case`` to ``target`` if its kind's state machine allows it and nobody changed it
    since it was read (conditional UPDATE on status and version); record event (at the
    service's clock ``at``) and audit."""
    source = rules.Status(case.status)
    if not rules.can_transition(case.kind, source, target):
        raise InvalidTransition(
            _("售后单 %(n)s 当前状态为“%(s)s”，不能变为“%(t)s”")
            % {"n": case.number, "s": CaseStatus(source).label, "t": CaseStatus(target).label}
        )
    if target in rules.CLOSED:
        fields.setdefault("closed_at", at)
    changed = AfterSale.objects.filter(pk=case.pk, status=source, version=case.version).update(
        status=target, version=F("version") + 1, updated_at=timezone.now(), **fields
    )
    if not changed:
        raise Conflict(
            _("售后单 %(n)s 已被其他操作修改，请刷新后重试") % {"n": case.number}, code="stale_case"
        )
    case.refresh_from_db()
    _event(case, actor, kind, src=source, dst=target, note=note, at=at, **dict(data or {}))
    audit_record(
        actor=actor,
        action=f"aftersale.{kind}",
        obj=case,
        store_id=case.store_id,
        before={"status": str(source)},
        after={"status": str(target), **{k: v for k, v in fields.items() if not hasattr(v, "pk")}},
        note=note,
    )
    return case


def _held_units(order: Order, *, exclude_case: int | None = None) -> dict[int, int]:
    """Units per order line in open cases (they will be refunded or exchanged first)."""
    qs = AfterSaleLine.objects.filter(case__order=order, case__status__in=[s.value for s in rules.OPEN])
    if exclude_case is not None:
        qs = qs.exclude(case_id=exclude_case)
    return {row["order_line_id"]: row["n"] for row in qs.values("order_line_id").annotate(n=Sum("quantity"))}


def _line_state(line: OrderLine, held: Mapping[int, int]) -> rules.LineState:
    return rules.LineState(
        paid_total=line.paid_total,
        quantity=line.quantity,
        refunded_qty=line.refunded_qty,
        held_qty=held.get(line.pk, 0),
    )


# --- request (AS-01, AS-03) ------------------------------------------------------------------------


def _request_errors(
    *,
    order: Order,
    kind: str,
    reason: str,
    units: Mapping[int, int],
    lines: Mapping[int, OrderLine],
    held: Mapping[int, int],
    images: Sequence[str],
    replacements: Mapping[int, int],
    playbook: PlaybookSettings,
    now: dt.datetime,
) -> tuple[str, dict[str, str]]:
    """The first problem's message and every field's problem (empty: the request is valid)."""
    errors: dict[str, str] = {}
    message = _("售后申请有误")
    if kind not in CaseKind.values:
        errors["kind"] = _("只能是 return / exchange / refund_only")
    if reason not in CaseReason.values:
        errors["reason"] = _("未知的售后原因")
    if len(images) > MAX_IMAGES:
        errors["images"] = _("最多 %(n)s 张图片") % {"n": MAX_IMAGES}
    elif any(not str(u).startswith(("http://", "https://")) or len(str(u)) > 500 for u in images):
        errors["images"] = _("图片须为 http(s) 地址")
    status = OrderState(order.status)
    if status not in _SHIPPED_STATES:
        message = _("订单 %(n)s 尚未发货或已结束，不能申请售后；未发货订单请直接取消") % {"n": order.number}
        errors["order"] = _("订单状态不允许售后")
    elif kind in (CaseKind.RETURN, CaseKind.EXCHANGE) and order.delivered_at is None:
        message = _("订单 %(n)s 尚未签收，签收后才能退货或换货") % {"n": order.number}
        errors["kind"] = _("签收后才能退换货")
    elif not rules.within_window(
        delivered_at=order.delivered_at, now=now, window_days=playbook.return_window_days
    ):
        message = _("已超过签收后 %(d)s 天的售后期限") % {"d": playbook.return_window_days}
        errors["order"] = _("已超过售后期限")
    errors.update(_line_errors(kind=kind, units=units, lines=lines, held=held, replacements=replacements))
    return message, errors


def _line_errors(
    *,
    kind: str,
    units: Mapping[int, int],
    lines: Mapping[int, OrderLine],
    held: Mapping[int, int],
    replacements: Mapping[int, int],
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not units:
        errors["lines"] = _("请选择要售后的商品和数量")
    for line_id, qty in units.items():
        line = lines.get(line_id)
        if line is None:
            errors[f"lines.{line_id}"] = _("订单中没有这一行")
        elif isinstance(qty, bool) or not isinstance(qty, int) or qty < 1:
            errors[f"lines.{line_id}"] = _("数量必须是正整数")
        elif qty > rules.available_units(_line_state(line, held)):
            errors[f"lines.{line_id}"] = _("最多可申请 %(n)s 件") % {
                "n": max(0, rules.available_units(_line_state(line, held)))
            }
    if replacements and kind != CaseKind.EXCHANGE:
        errors["replacements"] = _("只有换货可以指定换货 SKU")
    for line_id in replacements:
        if line_id not in units:
            errors[f"replacements.{line_id}"] = _("换货 SKU 须对应申请的订单行")
    return errors


def case_request(
    *,
    actor: Actor,
    order: Order,
    kind: str,
    reason: str,
    units: Mapping[int, int],
    reason_text: str = "",
    images: Sequence[str] = (),
    replacements: Mapping[int, int] | None = None,
    customer_ref: str | None = None,
    idempotency_key: str | None = None,
    now: dt.datetime | None = None,
) -> AfterSale:
    """Open a case for ``units`` (order line id → units) of ``order``. A refund-only request
    below the playbook's threshold is approved and refunded at once (AS-03).

    ``customer_ref`` (storefront calls) must be the order's customer. ``replacements`` (exchange
    only) maps order line id → the SKU id to send instead (same product, same price).
    The same ``idempotency_key`` returns the case it created the first time (retries)."""
    now = now or timezone.now()
    replacements = dict(replacements or {})
    images = [str(u).strip() for u in images if str(u).strip()]
    if customer_ref is not None and customer_ref.strip() != order.customer_ref:
        raise NotFound(_("订单不存在"))
    key = clean_key(idempotency_key)

    def first() -> tuple[AfterSale, bool] | None:
        existing = AfterSale.objects.filter(store_id=order.store_id, idempotency_key=key).first()
        return None if existing is None else (_replayed(existing, order), False)

    (case, auto), _created = once(
        key=key,
        find=first,
        run=lambda: _request(
            actor=actor,
            order=order,
            kind=kind,
            reason=reason,
            units=units,
            reason_text=reason_text,
            images=images,
            replacements=replacements,
            key=key,
            now=now,
        ),
    )
    if auto:
        case = _try_refund(case, actor=Actor.system(actor.via), now=now)
    return case


def _replayed(case: AfterSale, order: Order) -> AfterSale:
    if case.order_id != order.pk:
        raise key_reused(_("该幂等键已用于另一个售后申请（%(n)s）") % {"n": case.number})
    return case


def _request(
    *,
    actor: Actor,
    order: Order,
    kind: str,
    reason: str,
    units: Mapping[int, int],
    reason_text: str,
    images: list[str],
    replacements: dict[int, int],
    key: str | None,
    now: dt.datetime,
) -> tuple[AfterSale, bool]:
    with transaction.atomic():
        order = Order.objects.select_for_update().select_related("store", "channel").get(pk=order.pk)
        playbook = _playbook(order)
        lines = {line.pk: line for line in order.lines.select_related("sku").all()}
        held = _held_units(order)
        message, errors = _request_errors(
            order=order,
            kind=kind,
            reason=reason,
            units=units,
            lines=lines,
            held=held,
            images=images,
            replacements=replacements,
            playbook=playbook,
            now=now,
        )
        skus = _replacement_skus(order, replacements, lines, errors)
        if errors:
            raise ValidationError(message, fields=errors)
        amounts = {
            line_id: (
                Decimal("0.00")
                if kind == CaseKind.EXCHANGE
                else rules.case_line_refund(_line_state(lines[line_id], held), qty, order.currency)
            )
            for line_id, qty in units.items()
        }
        total = sum(amounts.values(), Decimal("0.00"))
        case = create_numbered(
            AfterSale,
            now,
            "AS",
            store=order.store,
            channel=order.channel,
            order=order,
            kind=kind,
            reason=reason,
            reason_text=(reason_text or "").strip()[:500],
            images=images,
            customer_ref=order.customer_ref,
            is_new_customer=order.is_new_customer,
            priority=rules.priority(is_new_customer=order.is_new_customer),
            is_big_promo=order.is_big_promo,
            currency=order.currency,
            refund_amount=total,
            due_at=rules.refund_due(
                kind=kind,
                requested_at=now,
                received_at=None,
                big_promo=order.is_big_promo,
                normal_hours=playbook.refund_sla_hours,
                big_promo_hours=playbook.refund_sla_big_promo_hours,
            ),
            requested_via=actor.via[:20],
            idempotency_key=key,
            requested_at=now,
        )
        for line_id, qty in units.items():
            AfterSaleLine.objects.create(
                case=case,
                order_line=lines[line_id],
                quantity=qty,
                refund_amount=amounts[line_id],
                replacement_sku=skus.get(line_id),
            )
        _event(
            case,
            actor,
            "requested",
            dst=S.REQUESTED,
            note=case.reason_text,
            at=now,
            amount=total,
            case_kind=kind,
        )
        audit_record(
            actor=actor,
            action="aftersale.request",
            obj=case,
            store_id=case.store_id,
            after={"order": order.number, "kind": kind, "reason": reason, "refund_amount": total},
        )
        order_services.order_after_sale_open(actor=actor, order=order, note=case.number)
        auto = rules.auto_approvable(kind=kind, amount=total, threshold=playbook.refund_auto_approve_below)
        if auto:
            case = _approve(
                case, actor=Actor.system(actor.via), note=_("小额仅退款自动同意"), now=now, auto=True
            )
    return case, auto


def _replacement_skus(
    order: Order, replacements: Mapping[int, int], lines: Mapping[int, OrderLine], errors: dict[str, str]
) -> dict[int, Any]:
    if not replacements:
        return {}
    found = catalog_selectors.skus_by_id(store=order.store, ids=list(replacements.values()))
    out: dict[int, Any] = {}
    for line_id, sku_id in replacements.items():
        sku, line = found.get(sku_id), lines.get(line_id)
        if line is None:
            continue
        if sku is None:
            errors[f"replacements.{line_id}"] = _("SKU 不存在")
        elif sku.product_id != line.sku.product_id or sku.price != line.sku.price:
            errors[f"replacements.{line_id}"] = _("只能换同一商品、同价格的其他规格")
        else:
            out[line_id] = sku
    return out


# --- decision ---------------------------------------------------------------------------------------


def _return_warehouse(case: AfterSale) -> Any:
    """The warehouse that shipped most of the case's units (the address the customer sends to)."""
    line_ids = list(case.lines.values_list("order_line_id", flat=True))
    shipped: dict[int, int] = {}
    for a in Allocation.objects.filter(line_id__in=line_ids, shipped=True):
        shipped[a.warehouse_id] = shipped.get(a.warehouse_id, 0) + a.quantity
    if not shipped:
        for a in Allocation.objects.filter(line__order_id=case.order_id, shipped=True):
            shipped[a.warehouse_id] = shipped.get(a.warehouse_id, 0) + a.quantity
    warehouses = inventory_selectors.warehouse_list(store=case.store)
    if shipped:
        best = max(shipped, key=lambda w: (shipped[w], -w))
        return warehouses.get(pk=best)
    fallback = warehouses.filter(is_active=True).first()
    if fallback is None:
        raise Conflict(_("店铺没有可收退货的仓库"), code="no_warehouse")
    return fallback


def _approve(case: AfterSale, *, actor: Actor, note: str, now: dt.datetime, auto: bool) -> AfterSale:
    fields: dict[str, Any] = {
        "decided_at": now,
        "decided_by": actor.label[:150],
        "decision_note": note[:300],
        "auto_approved": auto,
    }
    if rules.needs_goods(case.kind):
        fields["return_warehouse"] = _return_warehouse(case)
    return _transition(
        case,
        S.APPROVED,
        actor=actor,
        at=now,
        kind="approved_auto" if auto else "approved",
        note=note,
        data={"auto": auto},
        **fields,
    )


def case_approve(
    *, actor: Actor, case: AfterSale, note: str = "", now: dt.datetime | None = None
) -> AfterSale:
    """Approve a request. A refund-only case is refunded at once; a return or exchange now
    waits for the goods at the returned-goods warehouse."""
    now = now or timezone.now()
    with transaction.atomic():
        case = _approve(_locked(case), actor=actor, note=(note or "").strip(), now=now, auto=False)
    if case.kind == CaseKind.REFUND_ONLY:
        case = _try_refund(case, actor=actor, now=now)
    return case


def case_reject(*, actor: Actor, case: AfterSale, reason: str, now: dt.datetime | None = None) -> AfterSale:
    """Refuse a request; the reason is required (the customer is shown it)."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("请填写拒绝原因"), fields={"reason": _("必填")})
    with transaction.atomic():
        case = _transition(
            _locked(case),
            S.REJECTED,
            actor=actor,
            at=now,
            kind="rejected",
            note=reason,
            decided_at=now,
            decided_by=actor.label[:150],
            decision_note=reason[:300],
            due_at=None,
        )
        _close_order_if_done(case, actor=actor, now=now)
    return case


def case_cancel(
    *,
    actor: Actor,
    case: AfterSale,
    reason: str = "",
    customer_ref: str | None = None,
    now: dt.datetime | None = None,
) -> AfterSale:
    """The customer withdraws the request (before the goods arrive or the money is sent)."""
    now = now or timezone.now()
    if customer_ref is not None and customer_ref.strip() != case.customer_ref:
        raise NotFound(_("售后单不存在"))
    with transaction.atomic():
        case = _transition(
            _locked(case),
            S.CANCELLED,
            actor=actor,
            at=now,
            kind="cancelled",
            note=(reason or "").strip() or _("顾客撤销申请"),
            due_at=None,
        )
        _close_order_if_done(case, actor=actor, now=now)
    return case


# --- goods: receive, inspect (AS-04), exchange ---------------------------------------------------


def case_receive(
    *, actor: Actor, case: AfterSale, tracking_no: str = "", now: dt.datetime | None = None
) -> AfterSale:
    """The returned parcel arrived: its units enter the QC zone of the return warehouse through
    the stock ledger. A return's refund clock (AS-02) starts now."""
    now = now or timezone.now()
    with transaction.atomic():
        case = _locked(case)
        if case.return_warehouse_id is None:
            raise InvalidTransition(_("售后单 %(n)s 不在待退货状态") % {"n": case.number})
        playbook = _playbook(case.order)
        due = rules.refund_due(
            kind=case.kind,
            requested_at=case.requested_at,
            received_at=now,
            big_promo=case.is_big_promo,
            normal_hours=playbook.refund_sla_hours,
            big_promo_hours=playbook.refund_sla_big_promo_hours,
        )
        case = _transition(
            case,
            S.RECEIVED,
            actor=actor,
            at=now,
            kind="received",
            received_at=now,
            due_at=due,
            return_tracking_no=(tracking_no or "").strip()[:64] or case.return_tracking_no,
        )
        warehouse = case.return_warehouse
        assert warehouse is not None  # set at approval for cases that need the goods
        for line in case.lines.select_related("order_line__sku"):
            inventory_services.stock_return(
                actor=actor,
                sku=line.order_line.sku,
                warehouse=warehouse,
                quantity=line.quantity,
                reference=f"aftersale:{case.number}",
                reason=_("售后退货入质检区"),
            )
    return case


def case_inspect(
    *,
    actor: Actor,
    case: AfterSale,
    results: Mapping[int, tuple[int, int]],
    note: str = "",
    now: dt.datetime | None = None,
) -> AfterSale:
    """QC of the returned units: ``results`` maps order line id → (passed, failed), which must
    add up to the line's units. Passed units move QC → sellable, failed ones QC → defective,
    through the stock ledger. A return is then refunded at once."""
    now = now or timezone.now()
    with transaction.atomic():
        case = _locked(case)
        lines = {line.order_line_id: line for line in case.lines.select_related("order_line__sku")}
        errors: dict[str, str] = {}
        for line_id, line in lines.items():
            if line_id not in results:
                errors[f"results.{line_id}"] = _("请填写质检结果")
                continue
            passed, failed = results[line_id]
            if min(passed, failed) < 0 or passed + failed != line.quantity:
                errors[f"results.{line_id}"] = _("合格与不合格数量之和须为 %(n)s") % {"n": line.quantity}
        for line_id in results:
            if line_id not in lines:
                errors[f"results.{line_id}"] = _("售后单中没有这一行")
        if errors:
            raise ValidationError(_("质检结果有误"), fields=errors)
        case = _transition(
            case, S.INSPECTED, actor=actor, at=now, kind="inspected", note=note, inspected_at=now
        )
        warehouse = case.return_warehouse
        assert warehouse is not None  # received cases have a return warehouse
        reference = f"aftersale:{case.number}"
        for line_id, line in lines.items():
            passed, failed = results[line_id]
            AfterSaleLine.objects.filter(pk=line.pk).update(qc_passed=passed, qc_failed=failed)
            for qty, zone, reason in (
                (passed, SELLABLE_ZONE, _("退货质检合格，回可售库存")),
                (failed, DEFECTIVE_ZONE, _("退货质检不合格，转残次品")),
            ):
                if qty:
                    inventory_services.stock_transfer(
                        actor=actor,
                        sku=line.order_line.sku,
                        from_warehouse=warehouse,
                        to_warehouse=warehouse,
                        quantity=qty,
                        reason=reason,
                        from_zone=QC_ZONE,
                        to_zone=zone,
                        reference=reference,
                    )
        _event(case, actor, "qc", at=now, results={str(k): list(v) for k, v in results.items()})
    if case.kind == CaseKind.RETURN:
        case = _try_refund(case, actor=actor, now=now)
    return case


def case_exchange_ship(
    *, actor: Actor, case: AfterSale, carrier_code: str, tracking_no: str, now: dt.datetime | None = None
) -> AfterSale:
    """Send the replacement of an inspected exchange: reserved and shipped from one warehouse
    through the stock ledger and registered as a parcel (order reference = case number)."""
    now = now or timezone.now()
    tracking_no = (tracking_no or "").strip()
    if not tracking_no:
        raise ValidationError(_("请填写运单号"), fields={"tracking_no": _("必填")})
    carrier = fulfilment_selectors.carrier_get(code=carrier_code)
    with transaction.atomic():
        case = _locked(case)
        if not rules.can_transition(case.kind, case.status, S.EXCHANGED):
            raise InvalidTransition(_("售后单 %(n)s 不是待换货发出状态") % {"n": case.number})
        need: dict[int, tuple[Any, int]] = {}
        for line in case.lines.select_related("order_line__sku", "replacement_sku"):
            sku = line.replacement_sku or line.order_line.sku
            prior = need.get(sku.pk, (sku, 0))[1]
            need[sku.pk] = (sku, prior + line.quantity)
        stock = inventory_selectors.available_by_warehouse(store=case.store, sku_ids=list(need))
        home = [case.return_warehouse_id] if case.return_warehouse_id is not None else []
        candidates = [*home, *sorted(w for w in stock if w != case.return_warehouse_id)]
        chosen = next(
            (w for w in candidates if all(stock.get(w, {}).get(k, 0) >= q for k, (_s, q) in need.items())),
            None,
        )
        if chosen is None:
            raise inventory_services.InsufficientStock(
                _("没有一个仓库能发出全部换货商品"), fields={"lines": _("库存不足")}
            )
        warehouse = inventory_selectors.warehouse_list(store=case.store).get(pk=chosen)
        reference = f"aftersale:{case.number}"
        for sku, qty in need.values():
            inventory_services.stock_reserve(
                actor=actor,
                sku=sku,
                warehouse=warehouse,
                quantity=qty,
                reference=reference,
                reason=_("换货预占"),
            )
            inventory_services.stock_ship(
                actor=actor,
                sku=sku,
                warehouse=warehouse,
                quantity=qty,
                reference=reference,
                reason=_("换货发出"),
            )
        order = case.order
        fulfilment_services.shipment_create(
            actor=actor,
            store=case.store,
            channel=case.channel,
            order_ref=case.number,
            carrier=carrier,
            tracking_no=tracking_no,
            warehouse_code=warehouse.code,
            lines=sorted((sku.code, qty) for sku, qty in need.values()),
            province=order.province,
            city=order.city,
            district=order.district,
            address=order.address,
            phone=order.phone,
            created_at=now,
        )
        case = _transition(
            case,
            S.EXCHANGED,
            actor=actor,
            at=now,
            kind="exchanged",
            exchange_tracking_no=tracking_no[:64],
            data={"carrier": carrier.code, "warehouse": warehouse.code},
        )
        _close_order_if_done(case, actor=actor, now=now)
    return case


# --- refunds (AS-04, AS-02) ---------------------------------------------------------------------------


def case_refund(*, actor: Actor, case: AfterSale, now: dt.datetime | None = None) -> AfterSale:
    """Return the money of an approved refund-only case or an inspected return: exactly what
    was paid for its units, through the order's payment provider."""
    now = now or timezone.now()
    with transaction.atomic():
        case = _locked(case)
        if not rules.can_transition(case.kind, case.status, S.REFUNDED):
            raise InvalidTransition(_("售后单 %(n)s 当前不能退款") % {"n": case.number})
        units = dict(case.lines.values_list("order_line_id", "quantity"))
        label = CaseReason(case.reason).label
        refunds = order_services.order_refund(
            actor=actor,
            order=case.order,
            units=units,
            reason=_("售后 %(n)s：%(r)s") % {"n": case.number, "r": label},
            reference=f"R{case.number}",
        )
        amount = sum((r.amount for r in refunds), Decimal("0.00"))
        # The line split is exact; which cent goes to which case follows the refund order.
        case = _transition(
            case,
            S.REFUNDED,
            actor=actor,
            at=now,
            kind="refunded",
            refund_amount=amount,
            refunded_amount=amount,
            refund_reference=refunds[0].reference if refunds else "",
            refunded_at=now,
            data={"amount": amount},
        )
        _close_order_if_done(case, actor=actor, now=now)
    return case


def _try_refund(case: AfterSale, *, actor: Actor, now: dt.datetime) -> AfterSale:
    """Refund now if the provider agrees; otherwise record why and leave the case waiting."""
    try:
        return case_refund(actor=actor, case=case, now=now)
    except DomainError as exc:
        log.warning("after-sale %s refund failed: %s", case.number, exc)
        with transaction.atomic():
            _event(case, actor, "refund_failed", note=str(exc.message), at=now)
        case.refresh_from_db()
        return case


def _close_order_if_done(case: AfterSale, *, actor: Actor, now: dt.datetime) -> None:
    """When the order's last open case ends, the order leaves the after-sale state."""
    still_open = (
        AfterSale.objects.filter(order_id=case.order_id, status__in=[s.value for s in rules.OPEN])
        .exclude(pk=case.pk)
        .exists()
    )
    if not still_open:
        order_services.order_after_sale_close(actor=actor, order=case.order, note=case.number, now=now)


def cases_refund_pending(*, now: dt.datetime | None = None) -> int:
    """The periodic sweep behind AS-02: retry the refunds the payment provider refused earlier
    (approved refund-only cases and inspected returns). Returns how many were refunded."""
    now = now or timezone.now()
    actor = Actor.system("task")
    due = AfterSale.objects.filter(
        Q(kind=CaseKind.REFUND_ONLY, status=CaseStatus.APPROVED)
        | Q(kind=CaseKind.RETURN, status=CaseStatus.INSPECTED)
    ).annotate(
        failures=Count("events", filter=Q(events__kind="refund_failed")),
        last_failure=Max("events__created_at", filter=Q(events__kind="refund_failed")),
    )
    done = 0
    # every such case, new customers first (AS-03), in batches: cases waiting out their retry
    # delay never keep the others from their refund
    for case in each(due, size=BATCH_SIZE, key=("priority", "pk")):
        # a provider that keeps refusing is asked less and less often (the AS-02 SLA finding
        # tells a person meanwhile)
        if not rules.refund_retry_due(failures=case.failures, last_failure=case.last_failure, now=now):
            continue
        if _try_refund(case, actor=actor, now=now).status == CaseStatus.REFUNDED:
            done += 1
    return done
