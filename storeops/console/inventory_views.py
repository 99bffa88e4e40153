"""Console pages of the inventory (SOP INV-01, INV-03): stock overview with filters, the
ledger, replenishment suggestions and exceptions (ledger mismatches, open INV findings)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from storeops.console.views import PAGE_SIZE, _base_context, _current_store, _int, console_view
from storeops.inventory import selectors as inv
from storeops.sop.selectors import finding_list
from storeops.stores.selectors import playbook_get


def _empty(request: HttpRequest) -> HttpResponse:
    return render(request, "console/empty.html", _base_context(request))


def _querystring(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@console_view("inventory.view_stock")
def stock(request: HttpRequest) -> HttpResponse:
    store = _current_store(request)
    if store is None:
        return _empty(request)
    f = {
        "q": request.GET.get("q", "").strip(),
        "warehouse": request.GET.get("warehouse", ""),
        "zone": request.GET.get("zone", ""),
        "low": request.GET.get("low", ""),
    }
    qs = inv.stock_list(
        store=store,
        warehouse_id=int(f["warehouse"]) if f["warehouse"].isdigit() else None,
        zone=f["zone"],
        q=f["q"],
        available_at_most=int(f["low"]) if f["low"].isdigit() else None,
    )
    page = Paginator(qs, PAGE_SIZE).get_page(_int(request.GET.get("page")))
    return render(
        request,
        "console/inventory_stock.html",
        _base_context(
            request,
            page=page,
            filters=f,
            querystring=_querystring(request),
            warehouses=list(inv.warehouse_list(store=store)),
            zones=inv.ZONE_CHOICES,
        ),
    )


@console_view("inventory.view_stockmove")
def ledger(request: HttpRequest) -> HttpResponse:
    store = _current_store(request)
    if store is None:
        return _empty(request)
    f = {
        "warehouse": request.GET.get("warehouse", ""),
        "kind": request.GET.get("kind", ""),
        "reference": request.GET.get("reference", "").strip(),
        "sku": request.GET.get("sku", ""),
    }
    qs = inv.ledger_list(
        store=store,
        sku_id=int(f["sku"]) if f["sku"].isdigit() else None,
        warehouse_id=int(f["warehouse"]) if f["warehouse"].isdigit() else None,
        kind=f["kind"],
        reference=f["reference"],
    )
    page = Paginator(qs, PAGE_SIZE).get_page(_int(request.GET.get("page")))
    return render(
        request,
        "console/inventory_ledger.html",
        _base_context(
            request,
            page=page,
            filters=f,
            querystring=_querystring(request),
            warehouses=list(inv.warehouse_list(store=store)),
            kinds=inv.MOVE_KIND_CHOICES,
        ),
    )


@console_view("inventory.view_stock")
def replenishment(request: HttpRequest) -> HttpResponse:
    store = _current_store(request)
    if store is None:
        return _empty(request)
    playbook = playbook_get(store=store)
    rows = inv.replenishment_suggestions(
        store=store,
        today=timezone.localdate(),
        playbook=playbook,
        alerts_only=request.GET.get("alerts") == "1",
    )
    return render(
        request,
        "console/inventory_replenishment.html",
        _base_context(request, rows=rows, playbook=playbook, alerts=request.GET.get("alerts") == "1"),
    )


@console_view("inventory.view_stockmove")
def exceptions(request: HttpRequest) -> HttpResponse:
    store = _current_store(request)
    if store is None:
        return _empty(request)
    findings = [
        f
        for rule in ("INV-01", "INV-03")
        for f in finding_list(store_id=store.pk, status="unresolved", rule=rule)[:100]
    ]
    return render(
        request,
        "console/inventory_exceptions.html",
        _base_context(request, mismatches=inv.ledger_mismatches(store=store), findings=findings),
    )
