"""Console pages of the catalog and pricing: product list/detail with audit reasons, the
manual audit queue, supplier ranking, selection screen, price suggester, competitor table."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from storeops.catalog import selectors as catalog_selectors
from storeops.catalog import services as catalog_services
from storeops.console.views import (
    PAGE_SIZE,
    _actor,
    _base_context,
    _current_store,
    _int,
    _safe_next,
    console_view,
    posted,
    querystring,
    refused,
    store_or_404,
)
from storeops.core.errors import DomainError
from storeops.core.money import Money
from storeops.pricing import selectors as pricing_selectors
from storeops.stores.selectors import playbook_get

if TYPE_CHECKING:
    from storeops.stores.models import Store


def _english() -> bool:
    return (translation.get_language() or "").startswith("en")


def _lang_messages(reasons: list[dict[str, Any]]) -> list[dict[str, Any]]:
    zh = (translation.get_language() or "zh-hans").startswith("zh")
    return [{**r, "message": r["message_zh"] if zh else r["message_en"]} for r in reasons]


def _empty(request: HttpRequest) -> HttpResponse:
    return render(request, "console/empty.html", _base_context(request))


@console_view("catalog.view_product")
def products(request: HttpRequest) -> HttpResponse:
    store = _current_store(request)
    if store is None:
        return _empty(request)
    f = {
        "q": request.GET.get("q", "").strip(),
        "status": request.GET.get("status", ""),
        "category": request.GET.get("category", ""),
    }
    qs = catalog_selectors.product_list(
        store_id=store.pk,
        q=f["q"],
        status=f["status"],
        category_id=int(f["category"]) if f["category"].isdigit() else None,
    )
    page = Paginator(qs, PAGE_SIZE).get_page(_int(request.GET.get("page")))
    return render(
        request,
        "console/catalog_products.html",
        _base_context(
            request,
            page=page,
            filters=f,
            querystring=querystring(request),
            statuses=catalog_selectors.PRODUCT_STATUS_CHOICES,
            categories=list(catalog_selectors.category_list(store=store)),
        ),
    )


@console_view("catalog.view_product")
def product_detail(request: HttpRequest, product_id: int) -> HttpResponse:
    store = _current_store(request)
    product = catalog_selectors.product_detail(store_id=store.pk if store else 0, product_id=product_id)
    if product is None:
        raise Http404
    audits = [{"audit": a, "reasons": _lang_messages(a.reasons)} for a in product.audits.all()[:5]]
    return render(
        request,
        "console/catalog_product_detail.html",
        _base_context(
            request,
            product=product,
            audits=audits,
            skus=list(product.skus.all()),
            can_submit=request.user.has_perm("catalog.change_product"),
        ),
    )


@require_POST
@console_view("catalog.change_product")
def product_submit(request: HttpRequest, product_id: int) -> HttpResponse:
    store = _current_store(request)
    product = get_object_or_404(
        catalog_selectors.product_list(store_id=store.pk if store else 0), pk=product_id
    )
    try:
        audit = catalog_services.listing_submit(actor=_actor(request), product=product)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("审核结果：%(o)s") % {"o": audit.get_outcome_display()})
    return HttpResponseRedirect(reverse("console:catalog_product_detail", args=[product_id]))


@console_view("catalog.view_listingaudit")
def audit_queue(request: HttpRequest) -> HttpResponse:
    store = _current_store(request)
    if store is None:
        return _empty(request)
    return _audit_queue_page(request, store)


def _audit_queue_page(
    request: HttpRequest,
    store: Store,
    sent: dict[int, dict[str, str]] | None = None,
    errors: dict[int, dict[str, str]] | None = None,
    code: int = 200,
) -> HttpResponse:
    """The queue, a review form per row; ``sent``: a refused review by its audit's id, shown
    again as typed in its row with ``errors`` by field; the other rows' forms as new."""
    page = Paginator(catalog_selectors.audit_queue(store_id=store.pk), PAGE_SIZE).get_page(
        _int(request.GET.get("page"))
    )
    rows = [
        {
            "audit": a,
            "reasons": _lang_messages(a.reasons),
            "sent": (sent or {}).get(a.pk, {}),
            "errors": (errors or {}).get(a.pk, {}),
        }
        for a in page.object_list
    ]
    return render(
        request,
        "console/catalog_audit_queue.html",
        _base_context(
            request,
            rows=rows,
            page=page,
            querystring=querystring(request),
            can_review=request.user.has_perm("catalog.change_listingaudit"),
        ),
        status=code,
    )


@require_POST
@console_view("catalog.change_listingaudit")
def audit_review(request: HttpRequest, audit_id: int) -> HttpResponse:
    """Approve or reject a queued listing (LIST-02/03); a refused review comes back in its row
    of the queue as typed (the queue's page rides on the form's address)."""
    store = store_or_404(request)
    audit = catalog_selectors.listing_audit_get(store=store, audit_id=audit_id)
    sent = posted(request, "comment")
    try:
        catalog_services.listing_review(
            actor=_actor(request),
            audit=audit,
            approve=request.POST.get("decision") == "approve",
            comment=sent["comment"],
        )
    except DomainError as exc:
        errors = refused(request, exc, sent)
        return _audit_queue_page(request, store, sent={audit.pk: sent}, errors={audit.pk: errors}, code=422)
    messages.success(request, _("已处理：%(p)s") % {"p": audit.product.code})
    return HttpResponseRedirect(_safe_next(request, reverse("console:catalog_audit_queue")))


@console_view("catalog.view_supplier")
def suppliers(request: HttpRequest) -> HttpResponse:
    store = _current_store(request)
    if store is None:
        return _empty(request)
    playbook = playbook_get(store=store)
    ranking = catalog_selectors.supplier_ranking(store=store, today=timezone.localdate(), playbook=playbook)
    # both lists grow with the business: each a page at a time (the key products under ``kpage``)
    page = Paginator(ranking, PAGE_SIZE).get_page(_int(request.GET.get("page")))
    key_page = Paginator(catalog_selectors.key_products_supplier_counts(store=store), PAGE_SIZE).get_page(
        _int(request.GET.get("kpage"))
    )
    return render(
        request,
        "console/catalog_suppliers.html",
        _base_context(
            request,
            page=page,
            key_page=key_page,
            querystring=querystring(request),
            key_querystring=querystring(request, page="kpage"),
            ranking=[
                {
                    "supplier": s,
                    "score": sc,
                    "reasons": [
                        {
                            "text": r.message_en if _english() else r.message_zh,
                            "breach": r.severity == "block",
                        }
                        for r in sc.reasons
                    ],
                }
                for s, sc in page.object_list
            ],
            min_suppliers=playbook.key_product_min_suppliers,
        ),
    )


@console_view("catalog.view_marketcategorystat")
def selection(request: HttpRequest) -> HttpResponse:
    store = _current_store(request)
    if store is None:
        return _empty(request)
    playbook = playbook_get(store=store)
    return render(
        request,
        "console/catalog_selection.html",
        _base_context(
            request,
            rows=catalog_selectors.market_categories(store=store, playbook=playbook),
            min_growth=playbook.selection_min_growth_30d,
            max_ratio=playbook.selection_max_competition_ratio,
        ),
    )


@console_view("pricing.view_pricechange")
def price_suggester(request: HttpRequest) -> HttpResponse:
    store = _current_store(request)
    if store is None:
        return _empty(request)
    sku_code = request.GET.get("sku", "").strip()
    raw_price = request.GET.get("competitor_price", "").strip()
    context: dict[str, Any] = {"sku_code": sku_code, "competitor_price": raw_price}
    if sku_code:
        sku = catalog_selectors.sku_get_by_code(store=store, code=sku_code)
        if sku is None:
            context["error"] = _("SKU不存在：%(c)s") % {"c": sku_code}
        else:
            benchmark = None
            try:
                if raw_price:
                    value = Decimal(raw_price)
                    if not value.is_finite() or value <= 0:
                        raise InvalidOperation
                    benchmark = Money(value, store.currency)
            except InvalidOperation:
                context["error"] = _("竞品价格必须是大于0的数字")
            else:
                cost, used, suggestion = pricing_selectors.price_suggest(
                    sku=sku, now=timezone.now(), competitor_price=benchmark
                )
                zh = (translation.get_language() or "zh-hans").startswith("zh")
                context.update(
                    sku=sku,
                    cost=cost,
                    used=used,
                    suggestion=suggestion,
                    message=suggestion.message_zh if zh else suggestion.message_en,
                    components=pricing_selectors.sku_cost_components(sku=sku),
                    history=list(pricing_selectors.price_history(sku=sku)[:20]),
                )
    return render(
        request,
        "console/catalog_price_suggester.html",
        _base_context(request, **context),
        status=422 if context.get("error") else 200,
    )


@console_view("pricing.view_competitorproduct")
def competitors(request: HttpRequest) -> HttpResponse:
    store = _current_store(request)
    if store is None:
        return _empty(request)
    drop_ratio = playbook_get(store=store).competitor_drop_alert_ratio
    page = Paginator(pricing_selectors.competitor_product_list(store_id=store.pk), PAGE_SIZE).get_page(
        _int(request.GET.get("page"))
    )
    rows = []
    for cp in page.object_list:
        latest, previous = pricing_selectors.competitor_price_pairs(competitor_product=cp)
        change = None
        if latest and previous:
            change = (latest.price - previous.price) / previous.price
        rows.append(
            {
                "cp": cp,
                "latest": latest,
                "previous": previous,
                "change_pct": None if change is None else (change * 100).quantize(Decimal("0.1")),
                "alert": change is not None and cp.is_tracked and change <= -drop_ratio,
            }
        )
    return render(
        request,
        "console/catalog_competitors.html",
        _base_context(request, rows=rows, page=page, querystring=querystring(request)),
    )
