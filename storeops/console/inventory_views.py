"""Console pages of the inventory (SOP INV-01, INV-03, INV-04, INV-05, INV-07): stock overview
with filters and the warehouse's stock operations (receive, transfer, adjust), the ledger,
replenishment suggestions, exceptions (ledger mismatches, open INV findings), cycle-count
sheets (list, entry, variance), ABC classes and turnover."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST

from storeops.console.views import (
    PAGE_SIZE,
    _actor,
    _base_context,
    _current_store,
    _int,
    console_view,
    error_text,
    posted,
    querystring,
    refused,
)
from storeops.core.errors import DomainError, ValidationError
from storeops.inventory import abc_classes as abc_services
from storeops.inventory import counts as count_services
from storeops.inventory import selectors as inv
from storeops.inventory import services as stock_services
from storeops.orders import selectors as order_selectors
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
    return _stock_page(request, store)


def _stock_page(
    request: HttpRequest, store: Any, sent: dict[str, str] | None = None, status: int = 200
) -> HttpResponse:
    """The stock overview; ``sent``: a refused stock operation's form, shown again as typed."""
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
            sent=sent or {},
            operations=[
                ("receive", pgettext("action", "入库")),
                ("transfer", _("调拨")),
                ("adjust", _("库存调整")),
            ],
            can_move=request.user.has_perm("inventory.add_stockmove"),
            can_adjust=request.user.has_perm("inventory.change_stock"),
        ),
        status=status,
    )


_OPERATION_FIELDS = (
    "kind",
    "sku_code",
    "warehouse",
    "zone",
    "to_warehouse",
    "to_zone",
    "quantity",
    "reason",
    "reference",
)


@require_POST
@console_view("inventory.add_stockmove")
def stock_operate(request: HttpRequest) -> HttpResponse:
    """A warehouse's stock operation: receive goods (``receive``), move them between warehouses
    or zones (``transfer``), or correct a balance (``adjust``, needs the change-stock
    permission). Each is one ledger line (two for a transfer); a refused one saves nothing and
    the form comes back as it was typed."""
    store = _current_store(request)
    if store is None:
        return _empty(request)
    sent = {name: request.POST.get(name, "").strip() for name in _OPERATION_FIELDS}
    kind = sent["kind"]
    if kind == "adjust" and not request.user.has_perm("inventory.change_stock"):
        return render(request, "console/forbidden.html", {"permission": "inventory.change_stock"}, status=403)
    try:
        done = _stock_operation(request, store, sent)
    except DomainError as exc:
        messages.error(request, error_text(exc))
        return _stock_page(request, store, sent=sent, status=422)
    messages.success(request, done)
    return HttpResponseRedirect(reverse("console:inventory_stock") + "?" + urlencode({"q": sent["sku_code"]}))


def _warehouse(store: Any, value: str) -> Any:
    return inv.warehouse_get(store=store, warehouse_id=int(value)) if value.isdigit() else None


def _operation_checked(store: Any, sent: dict[str, str]) -> dict[str, Any]:
    """The operation's SKU, warehouses, zones and quantity, or a ValidationError naming each
    bad field."""
    zones = dict(inv.ZONE_CHOICES)
    kind = sent["kind"]
    ids, _missing = inv.sku_ids_by_codes(store=store, codes=[sent["sku_code"]] if sent["sku_code"] else [])
    op: dict[str, Any] = {
        "sku": inv.sku_get(store=store, sku_id=ids[0]) if ids else None,
        "warehouse": _warehouse(store, sent["warehouse"]),
        "zone": sent["zone"] or "sellable",
        "to_warehouse": _warehouse(store, sent["to_warehouse"]) if kind == "transfer" else None,
        "to_zone": sent["to_zone"] or "sellable",
        "quantity": int(sent["quantity"]) if re.fullmatch(r"[+-]?\d{1,9}", sent["quantity"]) else 0,
    }
    errors: dict[str, str] = {}
    if kind not in ("receive", "transfer", "adjust"):
        errors["kind"] = _("未知的库存操作")
    if op["sku"] is None:
        errors["sku_code"] = _("找不到 SKU：%(c)s") % {"c": sent["sku_code"] or "-"}
    if op["warehouse"] is None:
        errors["warehouse"] = _("请选择仓库")
    if kind == "transfer" and op["to_warehouse"] is None:
        errors["to_warehouse"] = _("请选择调入仓库")
    if op["zone"] not in zones or op["to_zone"] not in zones:
        errors["zone"] = _("未知的库区")
    if kind == "adjust" and op["quantity"] == 0:
        errors["quantity"] = _("调整数量须为非零整数，减少填负数")
    elif kind != "adjust" and op["quantity"] <= 0:
        errors["quantity"] = _("数量须为正整数")
    if errors:
        raise ValidationError(_("库存操作有误，未保存"), fields=errors)
    return op


def _stock_operation(request: HttpRequest, store: Any, sent: dict[str, str]) -> str:
    op = _operation_checked(store, sent)
    zones = dict(inv.ZONE_CHOICES)
    sku, warehouse, zone, quantity = op["sku"], op["warehouse"], op["zone"], op["quantity"]
    actor = _actor(request)
    values = {"sku": sku.code, "n": quantity, "w": warehouse.name, "z": zones[zone]}
    if sent["kind"] == "receive":
        stock_services.stock_receive(
            actor=actor,
            sku=sku,
            warehouse=warehouse,
            quantity=quantity,
            reason=sent["reason"],
            reference=sent["reference"],
            zone=zone,
        )
        return _("已入库：%(sku)s × %(n)s → %(w)s %(z)s") % values
    if sent["kind"] == "adjust":
        stock_services.stock_adjust(
            actor=actor,
            sku=sku,
            warehouse=warehouse,
            delta=quantity,
            reason=sent["reason"],
            zone=zone,
            reference=sent["reference"],
        )
        return _("已调整库存：%(sku)s %(w)s %(z)s %(d)s") % {**values, "d": f"{quantity:+d}"}
    stock_services.stock_transfer(
        actor=actor,
        sku=sku,
        from_warehouse=warehouse,
        to_warehouse=op["to_warehouse"],
        quantity=quantity,
        reason=sent["reason"],
        from_zone=zone,
        to_zone=op["to_zone"],
        reference=sent["reference"],
    )
    return _("已调拨：%(sku)s × %(n)s，%(w)s %(z)s → %(w2)s %(z2)s") % {
        **values,
        "w2": op["to_warehouse"].name,
        "z2": zones[op["to_zone"]],
    }


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
    rows = _ledger_rows(request, store, list(page.object_list))
    return render(
        request,
        "console/inventory_ledger.html",
        _base_context(
            request,
            page=page,
            rows=rows,
            filters=f,
            querystring=querystring(request),
            warehouses=list(inv.warehouse_list(store=store)),
            kinds=inv.MOVE_KIND_CHOICES,
        ),
    )


def _ledger_rows(request: HttpRequest, store: Any, moves: list[Any]) -> list[dict[str, Any]]:
    """Each move with its reference as people read it: ``order:<number>`` → "订单 <number>"
    linking to the order page, ``aftersale:<number>`` → "售后 <number>" linking to the case
    (a link only for a reader who may open that page); any other reference as written."""
    numbers = {m.reference.partition(":")[2] for m in moves if m.reference.startswith("order:")}
    can_orders = request.user.has_perm("orders.view_order")
    order_ids = order_selectors.order_ids_by_number(store, numbers) if numbers and can_orders else {}
    can_cases = request.user.has_perm("aftersales.view_aftersale")
    rows = []
    for m in moves:
        kind, _sep, number = m.reference.partition(":")
        label, url = m.reference, ""
        if kind == "order" and number:
            label = _("订单 %(n)s") % {"n": number}
            if number in order_ids:
                url = reverse("console:orders_detail", args=[order_ids[number]])
        elif kind == "aftersale" and number:
            label = _("售后 %(n)s") % {"n": number}
            if can_cases:
                url = reverse("console:aftersales_detail", args=[number])
        rows.append({"m": m, "reference": label, "reference_url": url})
    return rows


def _replenishment_page(
    request: HttpRequest,
    store: Any,
    *,
    sent: dict[str, str] | None = None,
    errors: Any = None,
    status: int = 200,
) -> HttpResponse:
    playbook = playbook_get(store=store)
    alerts = request.GET.get("alerts") == "1"
    rows = inv.replenishment_suggestions(
        store=store, today=timezone.localdate(), playbook=playbook, alerts_only=alerts
    )
    # one row per product with stock or sales: the list grows with the catalogue
    page = Paginator(rows, PAGE_SIZE).get_page(_int(request.GET.get("page")))
    return render(
        request,
        "console/inventory_replenishment.html",
        _base_context(
            request,
            page=page,
            playbook=playbook,
            alerts=alerts,
            querystring=querystring(request),
            can_season=request.user.has_perm("catalog.change_product"),
            season_sent=sent or {},
            season_errors=errors or {},
            months=range(1, 13),
        ),
        status=status,
    )


@console_view("inventory.view_stock")
def replenishment(request: HttpRequest) -> HttpResponse:
    store = _current_store(request)
    if store is None:
        return _empty(request)
    return _replenishment_page(request, store)


_SEASON_FIELDS = ("product_code", "season_start_month", "season_end_month", "season_uplift")


@require_POST
@console_view("catalog.change_product")
def replenishment_season(request: HttpRequest) -> HttpResponse:
    """INV-06: set (or clear, with empty months) a product's season (旺季) and its demand
    multiplier; a refused form comes back as it was typed, nothing saved."""
    from storeops.catalog import selectors as catalog_selectors
    from storeops.catalog import services as catalog_services

    store = _current_store(request)
    if store is None:
        return _empty(request)
    sent = posted(request, *_SEASON_FIELDS)
    product = catalog_selectors.product_list(store_id=store.pk).filter(code=sent["product_code"]).first()
    try:
        if product is None:
            raise ValidationError(_("旺季设置有误"), fields={"product_code": _("找不到该商品编码")})
        catalog_services.product_update(
            actor=_actor(request),
            product=product,
            season_start_month=sent["season_start_month"] or None,
            season_end_month=sent["season_end_month"] or None,
            season_uplift=sent["season_uplift"] or None,
        )
    except DomainError as exc:
        errors = refused(request, exc, sent)
        return _replenishment_page(request, store, sent=sent, errors=errors, status=422)
    messages.success(request, _("已保存 %(code)s 的旺季设置") % {"code": product.code})
    return redirect("console:inventory_replenishment")


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
    return _counts_page(request, store, {key: request.GET.get(key, "") for key in _COUNT_FORM_KEYS})


def _counts_page(
    request: HttpRequest, store: Any, prefill: dict[str, str], status: int = 200
) -> HttpResponse:
    """The sheets and the new-sheet form filled in with ``prefill`` (from the query string, or
    a refused form as it was sent)."""
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
            prefill=prefill,
        ),
        status=status,
    )


# the new-sheet form's fields as the counts page pre-fills them from its query string (the
# warehouse and zone under their own names: ``warehouse`` filters the list)
_COUNT_FORM_KEYS = ("scope", "sku_codes", "abc_class", "count_warehouse", "count_zone", "note")


def _count_form_again(request: HttpRequest, store: Any) -> HttpResponse:
    """The counts page again (422) with the refused form filled in as it was sent (it was a
    redirect carrying the form in its query string: a long note made it a 400)."""
    post = request.POST
    values = {
        "scope": post.get("scope", ""),
        "sku_codes": post.get("sku_codes", ""),
        "abc_class": post.get("abc_class", ""),
        "count_warehouse": post.get("warehouse", ""),
        "count_zone": post.get("zone", ""),
        "note": post.get("note", ""),
    }
    return _counts_page(request, store, values, status=422)


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
        return _count_form_again(request, store)
    codes = [c for c in re.split(r"[\s,，]+", request.POST.get("sku_codes", "")) if c]
    sku_ids, missing = inv.sku_ids_by_codes(store=store, codes=codes)
    if missing:
        messages.error(request, _("找不到这些 SKU：%(codes)s") % {"codes": ", ".join(missing[:20])})
        return _count_form_again(request, store)
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
        return _count_form_again(request, store)
    messages.success(request, _("已创建盘点单 %(number)s") % {"number": sheet.number})
    return redirect("console:inventory_count_detail", sheet_id=sheet.pk)


def _error_text(exc: DomainError) -> str:
    return error_text(exc)


# a count sheet's lines a page: what one person counts and types in one go
COUNT_PAGE_SIZE = 100


def _count_filters(request: HttpRequest) -> dict[str, str]:
    """The line filters of a sheet's pages (the entry form keeps them, and its page, in the
    address it posts to)."""
    state = request.GET.get("state", "")
    return {"state": state if state in inv.COUNT_LINE_STATES else "", "q": request.GET.get("q", "").strip()}


def _count_detail_page(
    request: HttpRequest,
    sheet: Any,
    entered: dict[int, str] | None = None,
    status: int = 200,
    *,
    cancel_sent: dict[str, str] | None = None,
    cancel_errors: dict[str, str] | None = None,
) -> HttpResponse:
    """The sheet with its entry form, a page of lines at a time (filtered by state or SKU);
    ``entered``: the counts just typed on this page (kept when refused); ``cancel_sent``: a
    refused cancellation, its reason as typed (with ``cancel_errors`` by field)."""
    report = inv.count_sheet_report(sheet=sheet)
    f = _count_filters(request)
    page = Paginator(inv.count_report_rows(report, state=f["state"], q=f["q"]), COUNT_PAGE_SIZE).get_page(
        _int(request.GET.get("page"))
    )
    lines = [
        {
            "r": r,
            "value": entered.get(r.sku_id, "")
            if entered is not None
            else ("" if r.counted is None else str(r.counted)),
        }
        for r in page.object_list
    ]
    return render(
        request,
        "console/inventory_count_detail.html",
        _base_context(
            request,
            sheet=sheet,
            report=report,
            lines=lines,
            page=page,
            filters=f,
            states=_count_line_states(),
            querystring=querystring(request),
            cancel_sent=cancel_sent or {},
            cancel_errors=cancel_errors or {},
        ),
        status=status,
    )


def _count_line_states() -> list[tuple[str, str]]:
    return [
        ("uncounted", _("未盘")),
        ("counted", _("已盘")),
        ("variance", _("有差异")),
        ("moved", _("需重新盘点")),
    ]


def _sheet_address(sheet: Any, request: HttpRequest) -> str:
    """The sheet's page with the filters and page the form was posted from."""
    url = reverse("console:inventory_count_detail", args=[sheet.pk])
    return f"{url}?{request.GET.urlencode()}" if request.GET else url


@console_view("inventory.view_countsheet")
def count_detail(request: HttpRequest, sheet_id: int) -> HttpResponse:
    return _count_detail_page(request, _sheet_or_404(request, sheet_id))


@require_POST
@console_view("inventory.change_countsheet")
def count_enter(request: HttpRequest, sheet_id: int) -> HttpResponse:
    """Save the counts typed on one page of the sheet (a blank field saves nothing, so the
    other pages' counts stay as they are); back to that page."""
    sheet = _sheet_or_404(request, sheet_id)
    entered = {
        int(key.removeprefix("count_")): value.strip()
        for key, value in request.POST.items()
        if key.startswith("count_") and key.removeprefix("count_").isdigit() and value.strip() != ""
    }
    try:
        count_services.count_sheet_enter(actor=_actor(request), sheet=sheet, counts=entered)
    except DomainError as exc:
        # nothing was saved: show the page again with what was typed, so one typo does not
        # cost the whole page's counts
        messages.error(request, _error_text(exc))
        if not entered:
            return HttpResponseRedirect(_sheet_address(sheet, request))
        typed = {
            int(key.removeprefix("count_")): value.strip()
            for key, value in request.POST.items()
            if key.startswith("count_") and key.removeprefix("count_").isdigit()
        }
        return _count_detail_page(request, sheet, entered=typed, status=422)
    messages.success(request, _("已保存 %(n)s 个 SKU 的实盘数量") % {"n": len(entered)})
    return HttpResponseRedirect(_sheet_address(sheet, request))


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
            sent = posted(request, "reason")
            try:
                count_services.count_sheet_cancel(actor=actor, sheet=sheet, reason=sent["reason"])
            except DomainError as exc:
                # the sheet again (422) with the reason as typed
                errors = refused(request, exc, sent)
                return _count_detail_page(request, sheet, status=422, cancel_sent=sent, cancel_errors=errors)
            messages.success(request, _("盘点单已取消"))
        else:
            messages.error(request, _("未知操作"))
    except DomainError as exc:
        messages.error(request, _error_text(exc))
    return redirect("console:inventory_count_detail", sheet_id=sheet.pk)


@console_view("inventory.view_countsheet")
def count_variance(request: HttpRequest, sheet_id: int) -> HttpResponse:
    sheet = _sheet_or_404(request, sheet_id)
    report = inv.count_sheet_report(sheet=sheet)
    # the counted lines, a page at a time; the uncounted ones are a link to the sheet's
    page = Paginator(inv.count_report_rows(report, state="counted"), PAGE_SIZE).get_page(
        _int(request.GET.get("page"))
    )
    return render(
        request,
        "console/inventory_count_variance.html",
        _base_context(request, sheet=sheet, report=report, page=page, querystring=querystring(request)),
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
    level = "sku" if request.GET.get("level") == "sku" else "product"
    report = inv.turnover_report(
        store=store, today=timezone.localdate(), playbook=playbook, skus=level == "sku"
    )
    slow_only = request.GET.get("slow") == "1"
    items = report.skus if level == "sku" else report.products
    rows = [r for r in items if r.slow or not slow_only]
    page = Paginator(rows, PAGE_SIZE).get_page(_int(request.GET.get("page")))
    return render(
        request,
        "console/inventory_turnover.html",
        _base_context(
            request,
            report=report,
            page=page,
            slow_only=slow_only,
            level=level,
            querystring=querystring(request),
            playbook=playbook,
        ),
    )
