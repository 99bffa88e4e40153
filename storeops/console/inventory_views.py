"""Console pages of the inventory (SOP INV-01, INV-03, INV-04, INV-05, INV-07): stock overview
with filters, the ledger, replenishment suggestions, exceptions (ledger mismatches, open INV
findings), cycle-count sheets (list, entry, variance), ABC classes and turnover."""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from storeops.console.views import (
    PAGE_SIZE,
    _actor,
    _base_context,
    _current_store,
    _int,
    console_view,
    querystring,
)
from storeops.core.errors import DomainError
from storeops.inventory import abc_classes as abc_services
from storeops.inventory import counts as count_services
from storeops.inventory import selectors as inv
from storeops.sop.selectors import finding_list
from storeops.stores.selectors import playbook_get

# the inventory rules whose open findings the exceptions page lists (every one, a page at a time)
INVENTORY_RULES = ("INV-01", "INV-02", "INV-03", "INV-04", "INV-07")


def _empty(request: HttpRequest) -> HttpResponse:
    return render(request, "console/empty.html", _base_context(request))


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
            querystring=querystring(request),
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
            querystring=querystring(request),
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
    findings = finding_list(store_id=store.pk, status="unresolved", rules=INVENTORY_RULES)
    return render(
        request,
        "console/inventory_exceptions.html",
        _base_context(
            request,
            mismatches=inv.ledger_mismatches(store=store),
            page=Paginator(findings, PAGE_SIZE).get_page(_int(request.GET.get("page"))),
            querystring=querystring(request),
        ),
    )


# ---- INV-05 cycle counts ---------------------------------------------------------------------


def _sheet_or_404(request: HttpRequest, sheet_id: int) -> Any:
    store = _current_store(request)
    sheet = inv.count_sheet_get(store=store, sheet_id=sheet_id) if store is not None else None
    if sheet is None:
        raise Http404
    return sheet


@console_view("inventory.view_countsheet")
def counts(request: HttpRequest) -> HttpResponse:
    store = _current_store(request)
    if store is None:
        return _empty(request)
    f = {"status": request.GET.get("status", ""), "warehouse": request.GET.get("warehouse", "")}
    qs = inv.count_sheet_list(
        store=store,
        status=f["status"],
        warehouse_id=int(f["warehouse"]) if f["warehouse"].isdigit() else None,
    )
    page = Paginator(qs, PAGE_SIZE).get_page(_int(request.GET.get("page")))
    return render(
        request,
        "console/inventory_counts.html",
        _base_context(
            request,
            page=page,
            filters=f,
            querystring=querystring(request),
            warehouses=list(inv.warehouse_list(store=store)),
            statuses=inv.COUNT_STATUS_CHOICES,
            scopes=inv.COUNT_SCOPE_CHOICES,
            zones=inv.ZONE_CHOICES,
            prefill={
                "scope": request.GET.get("scope", ""),
                "sku_codes": request.GET.get("sku_codes", ""),
                "abc_class": request.GET.get("abc_class", ""),
            },
        ),
    )


@require_POST
@console_view("inventory.add_countsheet")
def count_create(request: HttpRequest) -> HttpResponse:
    store = _current_store(request)
    if store is None:
        return redirect("console:inventory_counts")
    warehouse_id = request.POST.get("warehouse", "")
    warehouse = (
        inv.warehouse_get(store=store, warehouse_id=int(warehouse_id)) if warehouse_id.isdigit() else None
    )
    if warehouse is None:
        messages.error(request, _("请选择仓库"))
        return redirect("console:inventory_counts")
    codes = [c for c in re.split(r"[\s,，]+", request.POST.get("sku_codes", "")) if c]
    sku_ids, missing = inv.sku_ids_by_codes(store=store, codes=codes)
    if missing:
        messages.error(request, _("找不到这些 SKU：%(codes)s") % {"codes": ", ".join(missing[:20])})
        return redirect("console:inventory_counts")
    try:
        sheet = count_services.count_sheet_create(
            actor=_actor(request),
            store=store,
            warehouse=warehouse,
            zone=request.POST.get("zone") or "sellable",
            scope=request.POST.get("scope") or "skus",
            sku_ids=sku_ids,
            abc_class=request.POST.get("abc_class", ""),
            note=request.POST.get("note", ""),
        )
    except DomainError as exc:
        messages.error(request, _error_text(exc))
        return redirect("console:inventory_counts")
    messages.success(request, _("已创建盘点单 %(number)s") % {"number": sheet.number})
    return redirect("console:inventory_count_detail", sheet_id=sheet.pk)


def _error_text(exc: DomainError) -> str:
    details = "；".join(str(v) for v in exc.fields.values())
    return f"{exc.message}（{details}）" if details else str(exc.message)


@console_view("inventory.view_countsheet")
def count_detail(request: HttpRequest, sheet_id: int) -> HttpResponse:
    sheet = _sheet_or_404(request, sheet_id)
    return render(
        request,
        "console/inventory_count_detail.html",
        _base_context(request, sheet=sheet, report=inv.count_sheet_report(sheet=sheet)),
    )


@require_POST
@console_view("inventory.change_countsheet")
def count_enter(request: HttpRequest, sheet_id: int) -> HttpResponse:
    sheet = _sheet_or_404(request, sheet_id)
    entered = {
        int(key.removeprefix("count_")): value.strip()
        for key, value in request.POST.items()
        if key.startswith("count_") and key.removeprefix("count_").isdigit() and value.strip() != ""
    }
    try:
        count_services.count_sheet_enter(actor=_actor(request), sheet=sheet, counts=entered)
    except DomainError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("已保存 %(n)s 个 SKU 的实盘数量") % {"n": len(entered)})
    return redirect("console:inventory_count_detail", sheet_id=sheet.pk)


@require_POST
@console_view("inventory.change_countsheet")
def count_action(request: HttpRequest, sheet_id: int, action: str) -> HttpResponse:
    sheet = _sheet_or_404(request, sheet_id)
    actor = _actor(request)
    try:
        if action == "start":
            count_services.count_sheet_start(actor=actor, sheet=sheet)
            messages.success(request, _("开始盘点"))
        elif action == "post":
            count_services.count_sheet_post(actor=actor, sheet=sheet)
            messages.success(request, _("盘点单已过账，差异已记入库存流水"))
        elif action == "recount":
            reset = count_services.count_sheet_recount(actor=actor, sheet=sheet)
            messages.success(request, _("%(n)s 个 SKU 需要重新盘点") % {"n": len(reset)})
        elif action == "cancel":
            count_services.count_sheet_cancel(actor=actor, sheet=sheet, reason=request.POST.get("reason", ""))
            messages.success(request, _("盘点单已取消"))
        else:
            messages.error(request, _("未知操作"))
    except DomainError as exc:
        messages.error(request, _error_text(exc))
    return redirect("console:inventory_count_detail", sheet_id=sheet.pk)


@console_view("inventory.view_countsheet")
def count_variance(request: HttpRequest, sheet_id: int) -> HttpResponse:
    sheet = _sheet_or_404(request, sheet_id)
    return render(
        request,
        "console/inventory_count_variance.html",
        _base_context(request, sheet=sheet, report=inv.count_sheet_report(sheet=sheet)),
    )


# ---- INV-04 ABC classes ----------------------------------------------------------------------


@console_view("inventory.view_skuabcclass")
def abc(request: HttpRequest) -> HttpResponse:
    store = _current_store(request)
    if store is None:
        return _empty(request)
    today = timezone.localdate()
    f = {
        "abc_class": request.GET.get("abc_class", ""),
        "q": request.GET.get("q", "").strip(),
        "due": request.GET.get("due", ""),
    }
    qs = inv.abc_class_list(
        store=store,
        abc_class=f["abc_class"] if f["abc_class"] in ("A", "B", "C") else "",
        q=f["q"],
        due_by=today if f["due"] == "1" else None,
    )
    page = Paginator(qs, PAGE_SIZE).get_page(_int(request.GET.get("page")))
    return render(
        request,
        "console/inventory_abc.html",
        _base_context(
            request,
            page=page,
            filters=f,
            querystring=querystring(request),
            classes=inv.ABC_CLASS_CHOICES,
            summary=inv.abc_class_summary(store=store, today=today),
            playbook=playbook_get(store=store),
            today=today,
        ),
    )


@require_POST
@console_view("inventory.change_skuabcclass")
def abc_recompute(request: HttpRequest) -> HttpResponse:
    store = _current_store(request)
    if store is not None:
        summary = abc_services.abc_recompute(
            actor=_actor(request), store=store, playbook=playbook_get(store=store), today=timezone.localdate()
        )
        messages.success(request, _("已重新计算 ABC 分类：A %(A)s 个，B %(B)s 个，C %(C)s 个") % summary)
    return redirect("console:inventory_abc")


# ---- INV-07 turnover -------------------------------------------------------------------------


@console_view("inventory.view_stock")
def turnover(request: HttpRequest) -> HttpResponse:
    store = _current_store(request)
    if store is None:
        return _empty(request)
    playbook = playbook_get(store=store)
    report = inv.turnover_report(store=store, today=timezone.localdate(), playbook=playbook)
    slow_only = request.GET.get("slow") == "1"
    rows = [r for r in report.products if r.slow or not slow_only]
    page = Paginator(rows, PAGE_SIZE).get_page(_int(request.GET.get("page")))
    return render(
        request,
        "console/inventory_turnover.html",
        _base_context(
            request,
            report=report,
            page=page,
            slow_only=slow_only,
            querystring=querystring(request),
            playbook=playbook,
        ),
    )
