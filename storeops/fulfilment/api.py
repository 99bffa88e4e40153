"""Logistics API (/api/v1/fulfilment): shipments, tracking import and carrier webhooks
(LOG-01), the exception list, carrier statistics and suggestion (LOG-03).

The carrier webhook is the one route authenticated by an HMAC-SHA256 signature of the body
(``X-StoreOps-Signature: sha256=<hex>``, the carrier's own secret) instead of a user role.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Annotated, Any, ClassVar

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from storeops.accounts.access import perm, principal
from storeops.core.api import OneOf, Page, paginate
from storeops.core.context import Actor
from storeops.core.errors import InvalidSignature, NotFound, ValidationError
from storeops.fulfilment import selectors, services
from storeops.fulfilment.carriers import SIGNATURE_HEADER, adapter_get, read_rows, signature_valid
from storeops.fulfilment.models import Carrier, CarrierRule, FragileHandling, Shipment, ShipmentStatus
from storeops.stores.models import Channel, Store
from storeops.stores.selectors import playbooks_by_channel

router = Router(tags=["fulfilment"])


class CarrierSignature:
    """Ninja auth callable for carrier pushes: the body's HMAC-SHA256 with the carrier's
    secret. Wrong or missing signature, unknown or inactive carrier → 401."""

    openapi_security_schema: ClassVar[dict[str, str]] = {
        "type": "apiKey",
        "in": "header",
        "name": SIGNATURE_HEADER,
    }

    def __call__(self, request: HttpRequest) -> Carrier | None:
        code = str((request.resolver_match.kwargs if request.resolver_match else {}).get("carrier_code", ""))
        carrier = Carrier.objects.filter(code=code.upper(), is_active=True).first()
        if carrier is None:
            raise NotFound(_("没有这个承运商，或已停用：%(c)s") % {"c": code[:40]}, code="unknown_carrier")
        given = request.headers.get(SIGNATURE_HEADER, "")
        if not signature_valid(carrier.secret, request.body, given):
            raise InvalidSignature(
                _(
                    "签名无效：请用该承运商的密钥对原始请求体计算 HMAC-SHA256，"
                    "以 sha256=<十六进制> 放在 %(h)s 头中"
                )
                % {"h": SIGNATURE_HEADER},
                fields={SIGNATURE_HEADER: _("缺少") if not given else _("不匹配")},
            )
        return carrier


class LineIn(Schema):
    sku_code: str
    qty: int


class ShipmentIn(Schema):
    channel_id: int
    order_ref: str = ""  # display text; its comma-separated numbers when order_numbers is not given
    order_numbers: list[str] | None = None  # the orders the parcel carries (a merged parcel: several)
    carrier: str
    tracking_no: str
    warehouse_code: str
    lines: list[LineIn]
    province: str
    city: str = ""
    district: str = ""
    address: str = ""
    phone: str = ""
    weight_kg: Decimal | None = None
    shipping_cost: Decimal = Decimal("0")


class ShipmentOut(Schema):
    id: int
    order_ref: str
    order_numbers: list[str]
    channel_id: int
    carrier: str
    tracking_no: str
    warehouse_code: str
    status: str
    province: str
    city: str
    district: str
    phone_masked: str
    weight_kg: Decimal | None
    shipping_cost: Decimal
    currency: str
    created_at: dt.datetime
    shipped_at: dt.datetime | None
    delivered_at: dt.datetime | None
    last_event_at: dt.datetime | None
    suggested_carrier: str  # LOG-03: the carrier suggested when it shipped ("" = none)

    @staticmethod
    def resolve_carrier(obj: Shipment) -> str:
        return obj.carrier.code

    @staticmethod
    def resolve_order_numbers(obj: Shipment) -> list[str]:
        return [link.order_number for link in obj.orders.all()]


class TrackingEventOut(Schema):
    time: dt.datetime
    code: str
    status: str
    location: str
    description: str
    source: str


class ShipmentLineOut(Schema):
    sku_code: str
    qty: int


class ShipmentDetailOut(ShipmentOut):
    address: str
    lines: list[ShipmentLineOut]
    events: list[TrackingEventOut]

    @staticmethod
    def resolve_lines(obj: Shipment) -> list[Any]:
        return list(obj.lines.all())

    @staticmethod
    def resolve_events(obj: Shipment) -> list[Any]:
        return list(selectors.shipment_events(shipment=obj))


class ProblemOut(Schema):
    line: int
    message: str


class IngestOut(Schema):
    received: int
    stored: int
    duplicates: int
    unknown: list[str]
    problems: list[ProblemOut]
    status_changes: int


class ExceptionOut(Schema):
    shipment_id: int
    kind: str
    label: str
    carrier: str
    tracking_no: str
    order_ref: str
    status: str
    since: dt.datetime
    hours: Decimal


class CarrierStatOut(Schema):
    carrier: str
    carrier_name: str
    province: str
    shipments: int
    delivered: int
    problems: int
    median_hours: Decimal | None
    p90_hours: Decimal | None
    avg_cost: Decimal | None
    cost_per_kg: Decimal | None
    suggestion_followed: int
    suggestion_overridden: int


class CarrierScoreOut(Schema):
    carrier: str
    score: Decimal
    estimated_hours: Decimal
    estimated_cost: Decimal
    fallback: bool
    preferred: bool  # ranked ahead: the parcel is fragile and the carrier is the fragile choice


class ParcelFacts(Schema):
    weight_kg: Decimal | None
    items: int | None
    fragile: bool


class CarrierExcludedOut(Schema):
    carrier: str
    breaches: list[str]  # overweight / too_many_items / province_excluded / fragile_refused
    reason: str


class CarrierSuggestionOut(Schema):
    province: str
    best: str | None
    reason: str
    parcel: ParcelFacts
    ranked: list[CarrierScoreOut]
    unranked: list[str]  # allowed by the rules, no delivery figures yet
    excluded: list[CarrierExcludedOut]


class CarrierRuleIn(Schema):
    max_weight_kg: Decimal | None = None
    max_items: int | None = None
    excluded_provinces: list[str] = []
    fragile: Annotated[str, OneOf(FragileHandling)] = "accept"
    note: str = ""


class CarrierRuleOut(Schema):
    carrier: str
    max_weight_kg: Decimal | None
    max_items: int | None
    excluded_provinces: list[str]
    fragile: str
    note: str
    updated_at: dt.datetime

    @staticmethod
    def resolve_carrier(obj: CarrierRule) -> str:
        return obj.carrier.code


def suggestion_out(result: selectors.CarrierSuggestion) -> dict[str, Any]:
    """The answer of the carrier-suggestion routes (here and the order's, in the orders API)."""
    reasons = result.excluded_reasons()
    return {
        "province": result.province,
        "best": result.best_code or None,
        "reason": result.reason,
        "parcel": {
            "weight_kg": result.parcel.weight_kg,
            "items": result.parcel.items,
            "fragile": result.parcel.fragile,
        },
        "ranked": [
            {
                "carrier": s.carrier_code,
                "score": s.score,
                "estimated_hours": s.estimated_hours,
                "estimated_cost": s.estimated_cost,
                "fallback": s.fallback,
                "preferred": s.carrier_code in result.choice.preferred,
            }
            for s in result.ranked
        ],
        "unranked": result.choice.unranked,
        "excluded": [
            {"carrier": code, "breaches": [b.value for b in broken], "reason": reasons[code]}
            for code, broken in result.choice.excluded.items()
        ],
    }


def _store(store_id: int) -> Store:
    return get_object_or_404(Store, pk=store_id)


def _ingest_out(result: services.IngestResult) -> dict[str, Any]:
    return {
        "received": result.received,
        "stored": result.stored,
        "duplicates": result.duplicates,
        "unknown": result.unknown,
        "problems": [{"line": p.line, "message": p.message} for p in result.problems],
        "status_changes": len(result.status_changes),
    }


@router.get("/{store_id}/shipments", response=Page[ShipmentOut], auth=perm("fulfilment.view_shipment"))
def shipment_list(
    request: HttpRequest,
    store_id: int,
    status: Annotated[str, OneOf(ShipmentStatus, blank=True)] = "",
    carrier: str = "",
    province: str = "",
    q: str = "",
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    qs = selectors.shipment_list(
        store=_store(store_id), status=status, carrier=carrier, province=province, q=q
    )
    return paginate(qs, page, page_size)


@router.get(
    "/{store_id}/shipments/{shipment_id}", response=ShipmentDetailOut, auth=perm("fulfilment.view_shipment")
)
def shipment_detail(request: HttpRequest, store_id: int, shipment_id: int) -> Shipment:
    return selectors.shipment_get(store=_store(store_id), shipment_id=shipment_id)


@router.post("/{store_id}/shipments", response={201: ShipmentOut}, auth=perm("fulfilment.add_shipment"))
def shipment_create(request: HttpRequest, store_id: int, payload: ShipmentIn) -> Status:
    store = _store(store_id)
    channel = get_object_or_404(Channel, pk=payload.channel_id, store=store)
    shipment = services.shipment_create(
        actor=principal(request).actor,
        store=store,
        channel=channel,
        order_ref=payload.order_ref,
        order_numbers=payload.order_numbers,
        carrier=selectors.carrier_get(code=payload.carrier),
        tracking_no=payload.tracking_no,
        warehouse_code=payload.warehouse_code,
        lines=[(line.sku_code, line.qty) for line in payload.lines],
        province=payload.province,
        city=payload.city,
        district=payload.district,
        address=payload.address,
        phone=payload.phone,
        weight_kg=payload.weight_kg,
        shipping_cost=payload.shipping_cost,
    )
    return Status(201, shipment)


@router.post("/{store_id}/tracking/import", response=IngestOut, auth=perm("fulfilment.add_trackingevent"))
def tracking_import(
    request: HttpRequest, store_id: int, carrier: Form[str], file: File[UploadedFile]
) -> dict[str, Any]:
    """Upload a carrier's tracking export (.csv or .xlsx; 运单号/时间/状态/地点/描述)."""
    store = _store(store_id)
    carrier_row = selectors.carrier_get(code=carrier)
    parsed = adapter_get(carrier_row.adapter).parse_rows(read_rows(file, file.name or ""))
    result = services.tracking_events_ingest(
        actor=principal(request).actor,
        carrier=carrier_row,
        drafts=parsed.drafts,
        source="import",
        store=store,
        problems=parsed.problems,
    )
    return _ingest_out(result)


@router.post("/webhooks/{carrier_code}", response=IngestOut, auth=CarrierSignature())
def carrier_webhook(request: HttpRequest, carrier_code: str) -> dict[str, Any]:
    """A carrier's signed tracking push: ``{"events": [{"tracking_no", "time", "status",
    "location", "description"}]}`` (or one event object). Re-sending is harmless."""
    carrier: Carrier = request.auth  # type: ignore[attr-defined]
    try:
        payload = json.loads(request.body or b"{}")
    except ValueError:
        raise ValidationError(_("推送内容不是有效的 JSON")) from None
    parsed = adapter_get(carrier.adapter).parse_webhook(payload)
    result = services.tracking_events_ingest(
        actor=Actor.system(via="api"),
        carrier=carrier,
        drafts=parsed.drafts,
        source="webhook",
        problems=parsed.problems,
    )
    return _ingest_out(result)


@router.get("/{store_id}/exceptions", response=list[ExceptionOut], auth=perm("fulfilment.view_shipment"))
def exception_list(request: HttpRequest, store_id: int) -> list[dict[str, Any]]:
    store = _store(store_id)
    books = playbooks_by_channel(store_id=store.pk)
    playbook = books.pop(None)
    rows = selectors.shipment_exceptions(
        store=store,
        now=timezone.now(),
        pickup_timeout_hours=playbook.pickup_timeout_hours,
        transit_stuck_hours=playbook.transit_stuck_hours,
        channels=books,  # each parcel by its channel's hours
    )
    return [
        {
            "shipment_id": e.shipment.pk,
            "kind": e.kind.value,
            "label": e.label,
            "carrier": e.shipment.carrier.code,
            "tracking_no": e.shipment.tracking_no,
            "order_ref": e.shipment.order_ref,
            "status": e.shipment.status,
            "since": e.since,
            "hours": e.hours,
        }
        for e in rows
    ]


@router.get("/{store_id}/carrier-stats", response=list[CarrierStatOut], auth=perm("fulfilment.view_carrier"))
def carrier_stats(
    request: HttpRequest, store_id: int, days: int | None = None, by_province: bool = True
) -> list[dict[str, Any]]:
    """``days`` back (default: the playbook's ``carrier_stats_days``), per carrier and province.
    Read through the statistics cache, like the suggestion (the window starts on a ten-minute
    mark; see ``selectors.carrier_stats_cached``)."""
    stats = selectors.carrier_stats_cached(store=_store(store_id), days=days)
    rows = stats.by_province if by_province else stats.overall
    return [
        {
            **{k: getattr(s, k) for k in CarrierStatOut.model_fields if k != "carrier"},
            "carrier": s.carrier_code,
        }
        for s in rows
    ]


@router.get(
    "/{store_id}/carrier-suggestion", response=CarrierSuggestionOut, auth=perm("fulfilment.view_carrier")
)
def carrier_suggestion(
    request: HttpRequest,
    store_id: int,
    province: str,
    weight_kg: Decimal | None = None,
    items: int | None = None,
    fragile: bool = False,
    days: int | None = None,
) -> dict[str, Any]:
    """The carrier for a parcel (``weight_kg``, ``items`` units, ``fragile``) to ``province``:
    the store's carrier rules first, then delivery time, cost and problems; with the reason."""
    store = _store(store_id)
    if (weight_kg is not None and weight_kg <= 0) or (items is not None and items <= 0):
        raise ValidationError(
            _("包裹信息有误"),
            fields={
                k: _("须大于 0")
                for k, v in (("weight_kg", weight_kg), ("items", items))
                if v is not None and v <= 0
            },
        )
    result = selectors.carrier_suggest(
        store=store,
        province=province,
        weight_kg=weight_kg,
        items=items,
        fragile=fragile,
        stats=selectors.carrier_stats_cached(store=store, days=days),
    )
    return suggestion_out(result)


@router.get(
    "/{store_id}/carrier-rules", response=list[CarrierRuleOut], auth=perm("fulfilment.view_carrierrule")
)
def carrier_rule_list(request: HttpRequest, store_id: int) -> list[CarrierRule]:
    """The store's carrier rules (LOG-03); a carrier without one takes every parcel."""
    return list(selectors.carrier_rule_list(store=_store(store_id)))


@router.put(
    "/{store_id}/carrier-rules/{carrier_code}",
    response=CarrierRuleOut,
    auth=perm("fulfilment.change_carrierrule"),
)
def carrier_rule_set(
    request: HttpRequest, store_id: int, carrier_code: str, payload: CarrierRuleIn
) -> CarrierRule:
    """Create or replace the store's rule for a carrier: ``max_weight_kg`` per parcel,
    ``max_items`` units per parcel, ``excluded_provinces`` it does not deliver to, ``fragile``
    accept / prefer / refuse. Null / empty: no limit."""
    return services.carrier_rule_set(
        actor=principal(request).actor,
        store=_store(store_id),
        carrier=selectors.carrier_get(code=carrier_code),
        **payload.dict(),
    )


@router.delete(
    "/{store_id}/carrier-rules/{carrier_code}",
    response={204: None},
    auth=perm("fulfilment.delete_carrierrule"),
)
def carrier_rule_delete(request: HttpRequest, store_id: int, carrier_code: str) -> Status:
    store = _store(store_id)
    if not services.carrier_rule_delete(
        actor=principal(request).actor, store=store, carrier=selectors.carrier_get(code=carrier_code)
    ):
        raise NotFound(_("该快递公司没有规则"))
    return Status(204, None)
