"""Every change of logistics data: carriers, shipments and tracking events. Atomic and audited.

:func:`tracking_events_ingest` is the one way tracking enters (file import, carrier webhook,
API): idempotent (an event already stored is skipped), one audit entry per batch, and each
touched shipment's status is re-derived from all its events (:func:`rules.derive_state`),
so late or repeated events never move a status backwards.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from storeops.audit.services import audit_record, snapshot
from storeops.core.context import Actor
from storeops.core.errors import Conflict, ValidationError
from storeops.fulfilment import selectors
from storeops.fulfilment.carriers import RowProblem, TrackingEventDraft
from storeops.fulfilment.models import (
    Carrier,
    CarrierRule,
    CarrierStatsVersion,
    FragileHandling,
    Shipment,
    ShipmentLine,
    ShipmentOrder,
    TrackingEvent,
)
from storeops.fulfilment.rules import (
    ORDER_REF_MAX,
    EventFact,
    Parcel,
    Status,
    breaches,
    derive_state,
    order_ref_text,
    province_short,
    split_order_ref,
)
from storeops.orders.geo import PROVINCE_CENTRES
from storeops.stores.models import Channel, Store

_CODE = re.compile(r"^[A-Z0-9_-]{2,20}$")
_PHONE_MASKED = re.compile(r"^[0-9*\-+ ]{0,20}$")


SECRET_MAX = 128  # a carrier's push-signing secret (stored encrypted, RISK-05)


def carrier_create(
    *, actor: Actor, code: str, name: str, secret: str = "", adapter: str = "generic"
) -> Carrier:
    code = code.strip().upper()
    if not _CODE.match(code):
        raise ValidationError(_("快递公司编码有误"), fields={"code": _("2-20位大写字母、数字")})
    if not name.strip():
        raise ValidationError(_("请填写名称"), fields={"name": _("必填")})
    if len(secret) > SECRET_MAX:
        raise ValidationError(
            _("推送签名密钥过长"), fields={"secret": _("最多 %(n)s 个字符") % {"n": SECRET_MAX}}
        )
    with transaction.atomic():
        if Carrier.objects.filter(code=code).exists():
            raise Conflict(_("快递公司编码已存在"), fields={"code": _("已存在")})
        carrier = Carrier.objects.create(code=code, name=name.strip(), secret=secret, adapter=adapter)
        audit_record(actor=actor, action="carrier.create", obj=carrier, after=snapshot(carrier))
    return carrier


# ---- LOG-03 carrier rules ------------------------------------------------------------------------

_PROVINCE_SPLIT = re.compile(r"[,，、;；\s]+")
MAX_PARCEL_KG = Decimal("99999.999")  # what the weight fields hold


def _provinces_clean(value: Any) -> tuple[list[str], str | None]:
    """Short province names from a list or a text ("新疆, 西藏"/"新疆维吾尔自治区、西藏"),
    each a provincial-level region of China; repeats dropped, in the order given."""
    pieces = _PROVINCE_SPLIT.split(value) if isinstance(value, str) else list(value or [])
    out: list[str] = []
    unknown = []
    for piece in pieces:
        name = province_short(str(piece))
        if not name:
            continue
        if name not in PROVINCE_CENTRES:
            unknown.append(str(piece).strip())
        elif name not in out:
            out.append(name)
    if unknown:
        return out, _("不认识的省份：%(p)s") % {"p": "、".join(unknown[:5])}
    return out, None


def carrier_rule_clean(
    *, max_weight_kg: Any = None, max_items: Any = None, excluded_provinces: Any = (), fragile: Any = "accept"
) -> dict[str, Any]:
    """The fields of a carrier rule, validated and normalised (the API, the admin)."""
    errors: dict[str, str] = {}
    weight: Decimal | None = None
    if max_weight_kg not in (None, ""):
        try:
            weight = Decimal(str(max_weight_kg).strip())
        except InvalidOperation:
            weight = None
            errors["max_weight_kg"] = _("请输入数字")
        else:
            if (
                isinstance(max_weight_kg, float | bool)
                or not weight.is_finite()
                or weight <= 0
                or weight > MAX_PARCEL_KG
                or weight != weight.quantize(Decimal("0.001"))
            ):
                errors["max_weight_kg"] = _("限重须大于 0，最多三位小数")
    items: int | None = None
    if max_items not in (None, ""):
        try:
            items = int(str(max_items).strip()) if not isinstance(max_items, bool | float) else 0
        except ValueError:
            items = 0
        if items <= 0:
            errors["max_items"] = _("件数须为正整数")
    if isinstance(excluded_provinces, str | list | tuple):
        provinces, problem = _provinces_clean(excluded_provinces)
        if problem:
            errors["excluded_provinces"] = problem
    else:
        provinces = []
        errors["excluded_provinces"] = _("省份列表格式有误")
    if fragile not in FragileHandling.values:
        errors["fragile"] = _("只能是 accept、prefer 或 refuse")
    if errors:
        raise ValidationError(_("快递规则有误"), fields=errors)
    return {
        "max_weight_kg": weight,
        "max_items": items,
        "excluded_provinces": provinces,
        "fragile": fragile,
    }


def carrier_rule_set(
    *,
    actor: Actor,
    store: Store,
    carrier: Carrier,
    max_weight_kg: Any = None,
    max_items: Any = None,
    excluded_provinces: Any = (),
    fragile: str = "accept",
    note: str = "",
) -> CarrierRule:
    """Create or replace the store's rule for ``carrier`` (LOG-03). Audited with before/after."""
    values = carrier_rule_clean(
        max_weight_kg=max_weight_kg,
        max_items=max_items,
        excluded_provinces=excluded_provinces,
        fragile=fragile,
    )
    if len(note) > 200:
        raise ValidationError(_("快递规则有误"), fields={"note": _("最多 200 个字符")})
    with transaction.atomic():
        Store.objects.select_for_update().filter(pk=store.pk).first()  # one writer per store's rules
        rule = CarrierRule.objects.filter(store=store, carrier=carrier).first()
        before = snapshot(rule) if rule else {}
        if rule is None:
            rule = CarrierRule(store=store, carrier=carrier)
        for key, value in {**values, "note": note.strip()}.items():
            setattr(rule, key, value)
        rule.save()
        audit_record(
            actor=actor,
            action="carrier_rule.set",
            obj=rule,
            store_id=store.pk,
            before=before,
            after=snapshot(rule),
        )
    return rule


def carrier_rule_delete(*, actor: Actor, store: Store, carrier: Carrier) -> bool:
    """Remove the store's rule for ``carrier`` (it then takes every parcel). False: there was none."""
    with transaction.atomic():
        rule = CarrierRule.objects.select_for_update().filter(store=store, carrier=carrier).first()
        if rule is None:
            return False
        audit_record(
            actor=actor,
            action="carrier_rule.delete",
            obj=rule,
            store_id=store.pk,
            before=snapshot(rule),
            after={},
        )
        rule.delete()
    return True


def carrier_stats_changed(*, store_ids: Iterable[int]) -> None:
    """LOG-03: the carrier statistics of these stores changed: once the current transaction
    commits (at once outside one), each gets a new :class:`CarrierStatsVersion` token, so
    every process's cached statistics of the old token are no longer read
    (``selectors.carrier_stats_cached`` explains why after the commit). A failure here is
    logged, never raised: the data is committed, and the entries' expiry (twenty minutes) catches up."""
    ids = sorted(set(store_ids))
    if not ids:
        return
    pending = selectors.carrier_stats_pending()
    pending.update(ids)

    def renew() -> None:
        pending.difference_update(ids)
        for store_id in ids:
            token, now = secrets.token_hex(16), timezone.now()
            if CarrierStatsVersion.objects.filter(store_id=store_id).update(token=token, changed_at=now):
                continue
            try:
                with transaction.atomic():
                    CarrierStatsVersion.objects.create(store_id=store_id, token=token, changed_at=now)
            except IntegrityError:  # another process made the row first: replace its token
                CarrierStatsVersion.objects.filter(store_id=store_id).update(token=token, changed_at=now)

    transaction.on_commit(renew, robust=True)


def _carrier_allowed(*, store: Store, carrier: Carrier, parcel: Parcel, province: str) -> None:
    """Refuse a carrier that breaks one of the store's hard rules for this parcel (422
    ``carrier_not_allowed``): the warehouse picks another carrier or the manager edits the rule."""
    limits = selectors.carrier_limits(store=store)
    broken = breaches(limits.get(carrier.code), parcel, province)
    if broken:
        why = _("，").join(selectors.breach_text(b, limits[carrier.code], province) for b in broken)
        raise ValidationError(
            _("%(carrier)s 不符合本店的快递规则：%(why)s。请换一家快递，或请主管修改快递规则")
            % {"carrier": carrier.code, "why": why},
            fields={"carrier": why},
            code="carrier_not_allowed",
        )


def _mask_phone(phone: str) -> str:
    """Only a masked phone is kept (PII): 13812345678 → 138****5678."""
    digits = re.sub(r"\D", "", phone)
    if "*" in phone:
        if not _PHONE_MASKED.match(phone):
            raise ValidationError(_("电话格式有误"), fields={"phone": _("电话格式有误")})
        return phone.strip()
    if not digits:
        return ""
    if len(digits) < 7:
        raise ValidationError(_("电话格式有误"), fields={"phone": _("电话格式有误")})
    return f"{digits[:3]}****{digits[-4:]}"


def _amount(value: Any, name: str) -> Decimal:
    if isinstance(value, float | bool):
        raise ValidationError(_("金额有误"), fields={name: _("请输入金额")})
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationError(_("金额有误"), fields={name: _("请输入数字")}) from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValidationError(_("金额有误"), fields={name: _("金额不能为负，最多两位小数")})
    return amount


def _shipment_errors(
    *,
    store: Store,
    channel: Channel,
    order_ref: str,
    order_numbers: Sequence[str],
    carrier: Carrier,
    tracking_no: str,
    warehouse_code: str,
    lines: Sequence[tuple[str, int]],
    province: str,
    weight_kg: Any,
) -> tuple[dict[str, str], Decimal | None]:
    errors: dict[str, str] = {}
    if channel.store_id != store.pk:
        errors["channel"] = _("渠道不属于该店铺")
    if not order_numbers:
        errors["order_ref"] = _("必填")
    elif len(order_ref) > ORDER_REF_MAX or any(len(n) > ORDER_REF_MAX for n in order_numbers):
        errors["order_ref"] = _("最多 64 个字符")
    if not tracking_no.strip():
        errors["tracking_no"] = _("必填")
    if not warehouse_code.strip():
        errors["warehouse_code"] = _("必填")
    if not province.strip():
        errors["province"] = _("必填")
    if not carrier.is_active:
        errors["carrier"] = _("快递公司已停用")
    if not lines:
        errors["lines"] = _("至少一行")
    elif any(not str(sku).strip() or int(qty) <= 0 for sku, qty in lines):
        errors["lines"] = _("SKU 必填，数量必须大于0")
    weight: Decimal | None = None
    if weight_kg not in (None, ""):
        try:
            weight = Decimal(str(weight_kg))
        except InvalidOperation:
            weight = Decimal(0)
        if isinstance(weight_kg, float) or not weight.is_finite() or weight <= 0:
            errors["weight_kg"] = _("重量必须大于0")
    return errors, weight


def shipment_create(
    *,
    actor: Actor,
    store: Store,
    channel: Channel,
    carrier: Carrier,
    tracking_no: str,
    warehouse_code: str,
    lines: Sequence[tuple[str, int]],
    province: str,
    order_ref: str = "",
    order_numbers: Sequence[str] | None = None,
    city: str = "",
    district: str = "",
    address: str = "",
    phone: str = "",
    weight_kg: Any = None,
    shipping_cost: Any = "0",
    created_at: Any = None,
    suggested_carrier: str | None = None,
) -> Shipment:
    """Register a parcel handed to ``carrier`` (status ``created``) for the orders it carries:
    ``order_numbers`` (a merged parcel carries several, each linked by a ``ShipmentOrder`` row),
    or when not given the numbers in ``order_ref`` (comma-separated). ``order_ref`` is the
    display text; left blank it is made from the numbers (shortened to fit).

    LOG-03: a carrier that breaks one of the store's carrier rules for this parcel (weight,
    units, destination, fragile goods) is refused (422 ``carrier_not_allowed``). The weight,
    when not given, is the SKUs' weights summed (when every SKU has one). The carrier
    suggested for the parcel is recorded (``suggested_carrier``: given by the caller that
    showed it, e.g. an order shipped from several warehouses; else worked out here)."""
    if order_numbers is None:
        numbers = split_order_ref(order_ref)
    else:
        numbers = list(dict.fromkeys(str(n).strip() for n in order_numbers if str(n).strip()))
    order_ref = order_ref.strip() or order_ref_text(numbers)
    errors, weight = _shipment_errors(
        store=store,
        channel=channel,
        order_ref=order_ref,
        order_numbers=numbers,
        carrier=carrier,
        tracking_no=tracking_no,
        warehouse_code=warehouse_code,
        lines=lines,
        province=province,
        weight_kg=weight_kg,
    )
    if errors:
        raise ValidationError(_("发货单信息有误"), fields=errors)
    cost = _amount(shipping_cost, "shipping_cost")
    phone_masked = _mask_phone(phone)
    parcel = selectors.parcel_from_lines(store=store, lines=lines, weight_kg=weight)
    _carrier_allowed(store=store, carrier=carrier, parcel=parcel, province=province.strip())
    if suggested_carrier is None:
        suggested_carrier = selectors.carrier_suggest(
            store=store,
            province=province.strip(),
            parcel=parcel,
            stats=selectors.carrier_stats_cached(store=store),
        ).best_code
    with transaction.atomic():
        if Shipment.objects.filter(carrier=carrier, tracking_no=tracking_no.strip()).exists():
            raise Conflict(_("该快递公司下运单号已存在"), fields={"tracking_no": _("已存在")})
        shipment = Shipment.objects.create(
            store=store,
            channel=channel,
            order_ref=order_ref,
            carrier=carrier,
            tracking_no=tracking_no.strip(),
            warehouse_code=warehouse_code.strip(),
            province=province.strip(),
            city=city.strip(),
            district=district.strip(),
            address=address.strip(),
            phone_masked=phone_masked,
            weight_kg=parcel.weight_kg,
            shipping_cost=cost,
            created_at=created_at or timezone.now(),
            suggested_carrier=suggested_carrier[:20],
        )
        ShipmentLine.objects.bulk_create(
            [ShipmentLine(shipment=shipment, sku_code=str(s).strip(), qty=int(q)) for s, q in lines]
        )
        ShipmentOrder.objects.bulk_create([ShipmentOrder(shipment=shipment, order_number=n) for n in numbers])
        audit_record(
            actor=actor,
            action="shipment.create",
            obj=shipment,
            store_id=store.pk,
            after={**snapshot(shipment), "lines": [[str(s), int(q)] for s, q in lines], "orders": numbers},
        )
        carrier_stats_changed(store_ids=[store.pk])
    return shipment


@dataclass(slots=True)
class IngestResult:
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    unknown: list[str] = field(default_factory=list)  # tracking numbers without a shipment
    problems: list[RowProblem] = field(default_factory=list)
    status_changes: dict[int, tuple[str, str]] = field(default_factory=dict)  # shipment id → (old, new)


def _shipment_refresh(shipment: Shipment) -> tuple[str, str] | None:
    facts = [
        EventFact(time=e.time, status=Status(e.status) if e.status else None, seq=e.pk)
        for e in shipment.events.all()
    ]
    state = derive_state(facts)
    changed = {
        "status": state.status.value,
        "shipped_at": state.picked_up_at,
        "delivered_at": state.delivered_at,
        "last_event_at": state.last_event_at,
    }
    old_status = shipment.status
    if all(getattr(shipment, k) == v for k, v in changed.items()):
        return None
    for key, value in changed.items():
        setattr(shipment, key, value)
    shipment.save(update_fields=list(changed))
    return (old_status, state.status.value) if old_status != state.status.value else None


def tracking_events_ingest(
    *,
    actor: Actor,
    carrier: Carrier,
    drafts: Iterable[TrackingEventDraft],
    source: str,
    store: Store | None = None,
    problems: Sequence[RowProblem] = (),
) -> IngestResult:
    """Store new events of ``carrier``'s parcels (only ``store``'s when given) and re-derive
    the status of every shipment that got one. Idempotent: re-sending a batch stores nothing."""
    drafts = list(drafts)
    result = IngestResult(received=len(drafts), problems=list(problems))
    numbers = {d.tracking_no for d in drafts}
    with transaction.atomic():
        shipments_qs = Shipment.objects.select_for_update().filter(carrier=carrier, tracking_no__in=numbers)
        if store is not None:
            shipments_qs = shipments_qs.filter(store=store)
        shipments = {s.tracking_no: s for s in shipments_qs}
        result.unknown = sorted(numbers - set(shipments))
        existing = set(
            TrackingEvent.objects.filter(shipment__in=shipments.values()).values_list(
                "shipment_id", "event_key"
            )
        )
        new_rows: list[TrackingEvent] = []
        for d in drafts:
            shipment = shipments.get(d.tracking_no)
            if shipment is None:
                continue
            key = (shipment.pk, d.event_key)
            if key in existing:
                result.duplicates += 1
                continue
            existing.add(key)
            new_rows.append(
                TrackingEvent(
                    shipment=shipment,
                    time=d.time,
                    code=d.code,
                    status=d.status.value if d.status else "",
                    location=d.location,
                    description=d.description,
                    raw=_json_raw(d.raw),
                    source=source[:20],
                    event_key=d.event_key,
                )
            )
        try:
            with transaction.atomic():
                TrackingEvent.objects.bulk_create(new_rows)
        except IntegrityError:  # a concurrent push stored some of them first: insert one by one
            result.duplicates, new_rows = _insert_each(new_rows, result.duplicates)
        result.stored = len(new_rows)
        touched = {row.shipment_id for row in new_rows}
        carrier_stats_changed(store_ids=[s.store_id for s in shipments.values() if s.pk in touched])
        for shipment in shipments.values():
            if shipment.pk in touched:
                change = _shipment_refresh(shipment)
                if change is not None:
                    result.status_changes[shipment.pk] = change
        if result.stored or result.problems:
            store_ids = {s.store_id for s in shipments.values()}
            audit_record(
                actor=actor,
                action="tracking.ingest",
                obj=carrier,
                store_id=store.pk
                if store is not None
                else (next(iter(store_ids)) if len(store_ids) == 1 else None),
                after={
                    "source": source,
                    "received": result.received,
                    "stored": result.stored,
                    "duplicates": result.duplicates,
                    "unknown": result.unknown[:50],
                    "problems": len(result.problems),
                    "status_changes": {str(k): list(v) for k, v in result.status_changes.items()},
                },
            )
    return result


def _insert_each(rows: list[TrackingEvent], duplicates: int) -> tuple[int, list[TrackingEvent]]:
    stored = []
    for row in rows:
        try:
            with transaction.atomic():
                row.save()
            stored.append(row)
        except IntegrityError:
            duplicates += 1
    return duplicates, stored


def _json_raw(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k): v if isinstance(v, str | int | bool | None) else str(v) for k, v in raw.items()}
