"""Console pages of promotions: offers list and detail, the quote playground, coupons
(SOP PROMO-01..03). Reads through selectors, the quote through ``services.quote_cart``."""

from __future__ import annotations

import json
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _

from storeops.console.views import PAGE_SIZE, _base_context, _current_store, _int, console_view
from storeops.core.errors import DomainError
from storeops.promotions import selectors, services
from storeops.promotions.engine import offer_label
from storeops.stores.selectors import channel_list

QUOTE_ROWS = 5
TIERS = ("silver", "gold", "diamond")


def _empty(request: HttpRequest) -> HttpResponse:
    return render(request, "console/empty.html", _base_context(request))


def _english() -> bool:
    return (translation.get_language() or "").startswith("en")


@console_view("promotions.view_offer")
def offers(request: HttpRequest) -> HttpResponse:
    store = _current_store(request)
    if store is None:
        return _empty(request)
    f = {k: request.GET.get(k, "").strip() for k in ("kind", "status", "scope", "q")}
    qs = selectors.offer_list(store=store, kind=f["kind"], status=f["status"], scope=f["scope"], q=f["q"])
    page = Paginator(qs.prefetch_related("scope_items"), PAGE_SIZE).get_page(_int(request.GET.get("page")))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "console/promotions_offers.html",
        _base_context(
            request,
            page=page,
            filters=f,
            querystring=query.urlencode(),
            kinds=selectors.OFFER_KIND_CHOICES,
            statuses=selectors.OFFER_STATUS_CHOICES,
            scopes=[
                ("all", _("全店")),
                ("category", _("按类目")),
                ("product", _("按商品")),
                ("sku", _("按SKU")),
            ],
        ),
    )


@console_view("promotions.view_offer")
def offer_detail(request: HttpRequest, offer_id: int) -> HttpResponse:
    store = _current_store(request)
    if store is None:
        return _empty(request)
    offer = selectors.offer_get(store=store, offer_id=offer_id)
    label: tuple[str, str] | None
    try:
        label = offer_label(selectors.offer_to_engine(offer, currency=store.currency))
    except DomainError:
        label = None
    return render(
        request,
        "console/promotions_offer_detail.html",
        _base_context(
            request,
            offer=offer,
            label=(label[1] if _english() else label[0]) if label else "",
            params=json.dumps(offer.params, ensure_ascii=False, indent=2),
            scope_items=list(offer.scope_items.all()),
        ),
    )


@console_view("promotions.view_offer")
def quote(request: HttpRequest) -> HttpResponse:
    """The quote playground: pick SKUs, quantities, a tier and coupons; see the best price."""
    store = _current_store(request)
    if store is None:
        return _empty(request)
    codes = request.GET.getlist("sku")
    quantities = request.GET.getlist("qty")
    rows = [
        {"sku": codes[i] if i < len(codes) else "", "qty": quantities[i] if i < len(quantities) else "1"}
        for i in range(QUOTE_ROWS)
    ]
    form: dict[str, Any] = {
        "tier": request.GET.get("tier", ""),
        "customer": request.GET.get("customer", "").strip(),
        "coupons": request.GET.get("coupons", "").strip(),
        "is_new": request.GET.get("is_new") == "1",
        "channel": request.GET.get("channel", ""),
    }
    items = []
    for row in rows:
        if row["sku"].strip():
            try:
                items.append(services.CartItem(row["sku"].strip(), int(row["qty"] or 1)))
            except ValueError:
                items.append(services.CartItem(row["sku"].strip(), 0))
    result: dict[str, Any] | None = None
    errors: dict[str, Any] = {}
    error = ""
    channels = list(channel_list(store=store))
    if items:
        channel = next((c for c in channels if str(c.pk) == form["channel"]), None)
        try:
            cart = services.quote_cart(
                store=store,
                channel=channel,
                lines=items,
                customer=services.Shopper(
                    customer_ref=form["customer"] or None,
                    tier=form["tier"] if form["tier"] in TIERS else None,
                    is_new=bool(form["is_new"]),
                ),
                coupon_codes=[c for c in form["coupons"].replace(",", " ").split() if c],
            )
        except DomainError as exc:
            error, errors = str(exc.message), exc.fields
        else:
            result = selectors.quote_as_dict(cart.quote, [s.code for s in cart.skus])
            lang = "en" if _english() else "zh"
            result["text"] = {
                "explanation": [x[lang] for x in result["explanation"]],
                "hints": [h[lang] for h in result["hints"]],
            }
    return render(
        request,
        "console/promotions_quote.html",
        _base_context(
            request,
            rows=rows,
            form=form,
            tiers=TIERS,
            channels=channels,
            sku_choices=selectors.sku_choices(store=store),
            result=result,
            error=error,
            errors=errors,
        ),
    )


@console_view("promotions.view_issuedcoupon")
def coupons(request: HttpRequest) -> HttpResponse:
    store = _current_store(request)
    if store is None:
        return _empty(request)
    f = {k: request.GET.get(k, "").strip() for k in ("customer", "status", "template")}
    qs = selectors.coupon_list(
        store=store,
        customer_ref=f["customer"],
        status=f["status"],
        template_id=int(f["template"]) if f["template"].isdigit() else None,
    )
    page = Paginator(qs, PAGE_SIZE).get_page(_int(request.GET.get("page")))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "console/promotions_coupons.html",
        _base_context(
            request,
            page=page,
            filters=f,
            querystring=query.urlencode(),
            statuses=selectors.COUPON_STATUS_CHOICES,
            templates=list(selectors.coupon_template_list(store=store)),
        ),
    )
