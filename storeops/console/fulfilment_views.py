"""Console pages of logistics: shipments, the daily exception list (LOG-01, with CSV export)
and carrier statistics with the carrier suggestion (LOG-03)."""

from __future__ import annotations

import csv
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from storeops.console.views import PAGE_SIZE, _base_context, _current_store, _int, console_view, querystring
from storeops.fulfilment import selectors
from storeops.stores.selectors import channel_list, playbook_get, playbooks_by_channel

if TYPE_CHECKING:
    from storeops.stores.models import Store


def _empty(request: HttpRequest) -> HttpResponse:
    return render(request, "console/empty.html", _base_context(request))


@console_view("fulfilment.view_shipment")
def shipments(request: HttpRequest) -> HttpResponse:
    store = _current_store(request)
    if store is None:
        return _empty(request)
    f = {
        "status": request.GET.get("status", ""),
        "carrier": request.GET.get("carrier", ""),
        "province": request.GET.get("province", "").strip(),
        "q": request.GET.get("q", "").strip(),
    }
    qs = selectors.shipment_list(
        store=store, status=f["status"], carrier=f["carrier"], province=f["province"], q=f["q"]
    )
    page = Paginator(qs, PAGE_SIZE).get_page(_int(request.GET.get("page")))
    return render(
        request,
        "console/fulfilment_shipments.html",
        _base_context(
            request,
            page=page,
            filters=f,
            querystring=querystring(request),
            statuses=selectors.STATUS_CHOICES,
            carriers=list(selectors.carrier_list()),
        ),
    )


@console_view("fulfilment.view_shipment")
def exceptions(request: HttpRequest) -> HttpResponse:
    store = _current_store(request)
    if store is None:
        return _empty(request)
    books = playbooks_by_channel(store_id=store.pk)
    playbook = books.pop(None)
    now = timezone.now()
    rows = selectors.shipment_exceptions(
        store=store,
        now=now,
        pickup_timeout_hours=playbook.pickup_timeout_hours,
        transit_stuck_hours=playbook.transit_stuck_hours,
        channels=books,  # each parcel by its channel's hours
    )
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="logistics-exceptions-{now:%Y%m%d}.csv"'
        response.write("\ufeff")  # BOM: Excel opens UTF-8 Chinese correctly
        writer = csv.writer(response)
        writer.writerow(
            [
                _("异常类型"),
                _("快递公司"),
                _("运单号"),
                _("订单号"),
                _("状态"),
                _("省"),
                _("起始时间"),
                _("时长（小时）"),
            ]
        )
        carried = selectors.shipment_order_numbers(shipment_ids=[e.shipment.pk for e in rows])
        for e in rows:
            s = e.shipment
            writer.writerow(
                [
                    e.label,
                    s.carrier.code,
                    s.tracking_no,
                    ",".join(carried.get(s.pk, [])) or s.order_ref,  # every merged order, uncut
                    s.get_status_display(),
                    s.province,
                    timezone.localtime(e.since).strftime("%Y-%m-%d %H:%M"),
                    e.hours,
                ]
            )
        return response
    # returned and lost parcels stay on the list: paged, while the CSV above keeps every one
    return render(
        request,
        "console/fulfilment_exceptions.html",
        _base_context(
            request,
            page=Paginator(rows, PAGE_SIZE).get_page(_int(request.GET.get("page"))),
            querystring=querystring(request),
            playbook=playbook,
            channel_hours=_channel_hours(store, books, playbook),
        ),
    )


def _channel_hours(store: Store, books: dict[int | None, Any], playbook: Any) -> list[dict[str, Any]]:
    """LOG-01: the channels whose pickup / transit hours differ from the store's, each with its
    own (the list judges each parcel by its channel's), for the page's header."""
    store_hours = (playbook.pickup_timeout_hours, playbook.transit_stuck_hours)
    out = []
    for channel in channel_list(store=store):
        book = books.get(channel.pk)
        if book is not None and (book.pickup_timeout_hours, book.transit_stuck_hours) != store_hours:
            out.append(
                {
                    "name": channel.name,
                    "pickup": book.pickup_timeout_hours,
                    "stuck": book.transit_stuck_hours,
                }
            )
    return out


@console_view("fulfilment.view_carrier")
def carrier_stats(request: HttpRequest) -> HttpResponse:
    """LOG-03: per-carrier statistics, how often shipping followed the suggestion, the
    store's carrier rules, and the suggestion for a parcel (province, weight, units, fragile)."""
    store = _current_store(request)
    if store is None:
        return _empty(request)
    days = min(_int(request.GET.get("days"), playbook_get(store=store).carrier_stats_days), 3650)
    stats = selectors.carrier_stats_cached(store=store, days=days)
    province = request.GET.get("province", "").strip()
    weight_text = request.GET.get("weight", "").strip()
    items_text = request.GET.get("items", "").strip()
    fragile = request.GET.get("fragile") == "1"
    weight: Decimal | None = None
    try:
        weight = Decimal(weight_text) if weight_text else None
    except InvalidOperation:
        weight = None
    if weight is not None and (not weight.is_finite() or weight <= 0):
        weight = None
    items = int(items_text) if items_text.isdigit() and int(items_text) > 0 else None
    suggestion = (
        selectors.carrier_suggest(
            store=store, province=province, weight_kg=weight, items=items, fragile=fragile, stats=stats
        )
        if province
        else None
    )
    overall = list(stats.overall)
    return render(
        request,
        "console/fulfilment_carriers.html",
        _base_context(
            request,
            overall=overall,
            by_province=list(stats.by_province),
            adoption=selectors.suggestion_adoption(overall),
            rules=list(selectors.carrier_rule_list(store=store)),
            suggestion=suggestion,
            excluded=suggestion.excluded_reasons() if suggestion else {},
            days=days,
            province=province,
            weight=weight_text,
            items=items_text,
            fragile=fragile,
        ),
    )
