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
from storeops.stores.selectors import channel_list, playbook_get

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
        "tag": request.GET.get("tag", ""),
    }
    qs = catalog_selectors.product_list(
        store_id=store.pk,
        q=f["q"],
        status=f["status"],
        category_id=int(f["category"]) if f["category"].isdigit() else None,
        tag_id=int(f["tag"]) if f["tag"].isdigit() else None,
    ).prefetch_related("tags")
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
            tag_groups=_tag_groups(store),
        ),
    )


def _tag_groups(store: Store) -> list[tuple[str, list[Any]]]:
    """The store's tags by kind (label, tags), for a filter's option groups."""
    labels = dict(catalog_selectors.TAG_KIND_CHOICES)
    groups: dict[str, list[Any]] = {}
    for tag in catalog_selectors.tag_list(store_id=store.pk):
        groups.setdefault(tag.kind, []).append(tag)
    return [(str(labels.get(kind, kind)), rows) for kind, rows in groups.items()]


@console_view("catalog.view_product")
def product_detail(request: HttpRequest, product_id: int) -> HttpResponse:
    store = _current_store(request)
    product = catalog_selectors.product_detail(store_id=store.pk if store else 0, product_id=product_id)
    if product is None:
        raise Http404
    return _product_detail_page(request, product)


def _product_detail_page(
    request: HttpRequest,
    product: Any,
    sent: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    code: int = 200,
    sku_form: dict[str, Any] | None = None,
) -> HttpResponse:
    """The product page; ``sent``/``errors``: a refused tags form shown again as typed;
    ``sku_form``: a refused SKU weight form (``sku_id``, ``sent``, ``errors``) likewise."""
    audits = [{"audit": a, "reasons": _lang_messages(a.reasons)} for a in product.audits.all()[:5]]
    can_change = request.user.has_perm("catalog.change_product")
    # LIST-07: a live product in its launch stage links to its daily tracking
    age = (timezone.localdate() - product.listed_on).days if product.listed_on else None
    launch_days = playbook_get(store=product.store).launch_stage_days
    launch_day = age if product.status == "live" and age is not None and 0 <= age <= launch_days else None
    return render(
        request,
        "console/catalog_product_detail.html",
        _base_context(
            request,
            product=product,
            audits=audits,
            sku_rows=_sku_rows(product, sku_form or {}),
            tags=catalog_selectors.sorted_product_tags(product),
            tags_sent=sent if sent is not None else {"tags": catalog_selectors.product_tags_text(product)},
            tags_errors=errors or {},
            can_submit=can_change,
            can_tag=can_change,
            launch_day=launch_day,
            launch_days=launch_days,
            can_weigh=request.user.has_perm("catalog.set_sku_shipping"),
            sku_form=sku_form or {},
        ),
        status=code,
    )


def _sku_rows(product: Any, form: dict[str, Any]) -> list[dict[str, Any]]:
    """The product's SKUs with what their weight form shows: the stored weight and fragility,
    or for a refused form the values typed and the message."""
    rows = []
    for sku in product.skus.all():
        row = {"sku": sku, "weight": "" if sku.weight_g is None else sku.weight_g, "fragile": sku.is_fragile}
        if form.get("sku_id") == sku.pk:
            sent = form["sent"]
            row.update(
                weight=sent["weight_g"], fragile=sent["is_fragile"], error=form["errors"].get("weight_g")
            )
        rows.append(row)
    return rows


@require_POST
@console_view("catalog.set_sku_shipping")
def sku_shipping(request: HttpRequest, sku_id: int) -> HttpResponse:
    """LOG-03: set a SKU's weight (grams; empty = unknown) and fragility, e.g. as the warehouse
    weighed it. Its own permission (not ``catalog.change_sku``); audited by the service. A
    refusal comes back on the product page as typed, nothing saved."""
    store = store_or_404(request)
    sku = catalog_selectors.sku_get_by_id(store=store, sku_id=sku_id)
    if sku is None:
        raise Http404
    sent = {**posted(request, "weight_g"), "is_fragile": request.POST.get("is_fragile") == "1"}
    try:
        catalog_services.sku_shipping_update(
            actor=_actor(request), sku=sku, weight_g=sent["weight_g"], is_fragile=sent["is_fragile"]
        )
    except DomainError as exc:
        errors = refused(request, exc, sent)
        product = catalog_selectors.product_detail(store_id=store.pk, product_id=sku.product_id)
        form = {"sku_id": sku.pk, "sent": sent, "errors": errors}
        return _product_detail_page(request, product, sku_form=form, code=422)
    messages.success(request, _("已保存 %(code)s 的重量与易碎") % {"code": sku.code})
    return HttpResponseRedirect(reverse("console:catalog_product_detail", args=[sku.product_id]))


@require_POST
@console_view("catalog.change_product")
def product_tags(request: HttpRequest, product_id: int) -> HttpResponse:
    """SEL-04: replace a product's tags, typed as ``类型:名称；类型:名称``; a refusal comes back
    as typed, nothing saved."""
    store = store_or_404(request)
    product = catalog_selectors.product_detail(store_id=store.pk, product_id=product_id)
    if product is None:
        raise Http404
    sent = posted(request, "tags")
    try:
        catalog_services.product_tags_set(
            actor=_actor(request), product=product, tags=catalog_services.tags_parse(sent["tags"])
        )
    except DomainError as exc:
        errors = refused(request, exc, sent)
        return _product_detail_page(request, product, sent=sent, errors=errors, code=422)
    messages.success(request, _("已保存 %(code)s 的标签") % {"code": product.code})
    return HttpResponseRedirect(reverse("console:catalog_product_detail", args=[product_id]))


# ---- launch-stage tracking (LIST-07) -----------------------------------------------------------

LAUNCH_PAGE_SIZE = 10  # products a page: each shows its own day table
LAUNCH_DAY_CHOICES = (7, 14)  # days shown per product; 0: every day since listing


@console_view("catalog.view_product")
def launch_tracking(request: HttpRequest) -> HttpResponse:
    """新品追踪: the live products in their launch stage, each with a table of its last days'
    clicks, add-to-cart, visitors, buyers, conversion, add-to-cart rate, units and revenue and
    the totals since listing; filter by channel, one product (``product``: from its page)."""
    store = _current_store(request)
    if store is None:
        return _empty(request)
    channels = list(channel_list(store=store))
    channel_text, days_text = request.GET.get("channel", ""), request.GET.get("days", "")
    channel = next((c for c in channels if str(c.pk) == channel_text), None)
    days = int(days_text) if days_text.isdigit() and int(days_text) in (0, *LAUNCH_DAY_CHOICES) else 7
    product_text = request.GET.get("product", "")
    today = timezone.localdate()
    launch_days = playbook_get(store=store, channel=channel).launch_stage_days
    qs = catalog_selectors.launch_products(
        store=store, today=today, launch_days=launch_days, channel_id=channel.pk if channel else None
    )
    if product_text.isdigit():
        qs = qs.filter(pk=int(product_text))
    page = Paginator(qs, LAUNCH_PAGE_SIZE).get_page(_int(request.GET.get("page")))
    tracking = catalog_selectors.launch_tracking(
        store=store, channel=channel, days=days or None, today=today, products=page.object_list
    )
    return render(
        request,
        "console/catalog_launch_tracking.html",
        _base_context(
            request,
            page=page,
            tracking=tracking,
            channels=channels,
            channel_id=channel.pk if channel else None,
            days=days,
            day_choices=LAUNCH_DAY_CHOICES,
            product_filter=product_text if product_text.isdigit() else "",
            querystring=querystring(request),
        ),
    )


# ---- tags (SEL-04) ---------------------------------------------------------------------------


@console_view("catalog.view_tag")
def tags(request: HttpRequest) -> HttpResponse:
    store = _current_store(request)
    if store is None:
        return _empty(request)
    return _tags_page(request, store)


def _tags_page(
    request: HttpRequest,
    store: Store,
    sent: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    row: int | None = None,
    code: int = 200,
) -> HttpResponse:
    """The store's tags (filter by kind, search) with product counts, a new-tag form and a
    rename form per row; ``row``: the tag whose refused rename ``sent`` is (else the new tag)."""
    f = {"kind": request.GET.get("kind", ""), "q": request.GET.get("q", "").strip()}
    kinds = catalog_selectors.TAG_KIND_CHOICES
    qs = catalog_selectors.tag_list(
        store_id=store.pk, kind=f["kind"] if f["kind"] in dict(kinds) else "", q=f["q"]
    )
    page = Paginator(qs, PAGE_SIZE).get_page(_int(request.GET.get("page")))
    playbook = playbook_get(store=store)
    return render(
        request,
        "console/catalog_tags.html",
        _base_context(
            request,
            page=page,
            filters=f,
            kinds=kinds,
            querystring=querystring(request),
            sent=(sent or {}) if row is None else {},
            errors=(errors or {}) if row is None else {},
            row=row,
            row_sent=(sent or {}) if row is not None else {},
            row_errors=(errors or {}) if row is not None else {},
            band_edges=playbook.tag_price_band_edges,
        ),
        status=code,
    )


@require_POST
@console_view("catalog.add_tag")
def tag_create(request: HttpRequest) -> HttpResponse:
    store = store_or_404(request)
    sent = posted(request, "kind", "name")
    try:
        tag = catalog_services.tag_create(
            actor=_actor(request), store=store, kind=sent["kind"], name=sent["name"]
        )
    except DomainError as exc:
        errors = refused(request, exc, sent)
        return _tags_page(request, store, sent=sent, errors=errors, code=422)
    messages.success(request, _("已新增标签：%(t)s") % {"t": tag.name})
    return HttpResponseRedirect(_safe_next(request, reverse("console:catalog_tags")))


@require_POST
@console_view("catalog.change_tag")
def tag_update(request: HttpRequest, tag_id: int) -> HttpResponse:
    store = store_or_404(request)
    tag = catalog_selectors.tag_get(store_id=store.pk, tag_id=tag_id)
    sent = posted(request, "kind", "name")
    try:
        catalog_services.tag_update(actor=_actor(request), tag=tag, kind=sent["kind"], name=sent["name"])
    except DomainError as exc:
        errors = refused(request, exc, sent)
        return _tags_page(request, store, sent=sent, errors=errors, row=tag.pk, code=422)
    messages.success(request, _("已修改标签：%(t)s") % {"t": sent["name"]})
    return HttpResponseRedirect(_safe_next(request, reverse("console:catalog_tags")))


@require_POST
@console_view("catalog.delete_tag")
def tag_delete(request: HttpRequest, tag_id: int) -> HttpResponse:
    store = store_or_404(request)
    tag = catalog_selectors.tag_get(store_id=store.pk, tag_id=tag_id)
    n = catalog_services.tag_delete(actor=_actor(request), tag=tag)
    messages.success(request, _("已删除标签：%(t)s（从 %(n)s 个商品上移除）") % {"t": tag.name, "n": n})
    return HttpResponseRedirect(_safe_next(request, reverse("console:catalog_tags")))


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
    """PRICE-04 monitoring table: latest and previous price, the competitor's current promotion,
    new items (上新, first seen within ``competitor_new_product_days``), with filters."""
    store = _current_store(request)
    if store is None:
        return _empty(request)
    playbook = playbook_get(store=store)
    f = {
        "q": request.GET.get("q", "").strip(),
        "competitor": request.GET.get("competitor", "").strip(),
        "category": request.GET.get("category", ""),
        "new": request.GET.get("new", "") == "1",
        "promo": request.GET.get("promo", "") == "1",
    }
    qs = pricing_selectors.competitor_monitor(
        store_id=store.pk,
        now=timezone.now(),
        new_product_days=playbook.competitor_new_product_days,
        new_only=f["new"],
        on_promotion=f["promo"],
        competitor=f["competitor"],
        q=f["q"],
        category_id=int(f["category"]) if f["category"].isdigit() and len(f["category"]) < 19 else None,
    )
    page = Paginator(qs, PAGE_SIZE).get_page(_int(request.GET.get("page")))
    drop_ratio = playbook.competitor_drop_alert_ratio
    rows = []
    for cp in page.object_list:
        change = None
        if cp.latest_price is not None and cp.previous_price is not None:
            change = (cp.latest_price - cp.previous_price) / cp.previous_price
        rows.append(
            {
                "cp": cp,
                "category": cp.category or (cp.product.category if cp.product else None),
                "change_pct": None if change is None else (change * 100).quantize(Decimal("0.1")),
                "alert": change is not None and cp.is_tracked and change <= -drop_ratio,
            }
        )
    return render(
        request,
        "console/catalog_competitors.html",
        _base_context(
            request,
            rows=rows,
            page=page,
            filters=f,
            new_days=playbook.competitor_new_product_days,
            competitor_names=pricing_selectors.competitor_names(store_id=store.pk),
            categories=catalog_selectors.category_list(store=store),
            querystring=querystring(request),
        ),
    )


# ---- the banned-word list (LIST-02) ----------------------------------------------------------


@console_view("catalog.view_bannedwordlist")
def banned_words(request: HttpRequest) -> HttpResponse:
    return _banned_words_page(request, store_or_404(request))


def _banned_words_page(
    request: HttpRequest, store: Store, sent: dict[str, str] | None = None, code: int = 200
) -> HttpResponse:
    """The store's word list, one a line (the bundled default until the store edits it); a
    refused save comes back as typed."""
    words = catalog_selectors.banned_words_of(store=store)
    return render(
        request,
        "console/catalog_banned_words.html",
        _base_context(
            request,
            words=words,
            text=(sent or {}).get("words", "\n".join(words)),
            version=catalog_selectors.banned_word_scanner(store=store).version,
            is_default=catalog_selectors.banned_words_is_default(store=store),
            can_change=request.user.has_perm("catalog.change_bannedwordlist"),
        ),
        status=code,
    )


@require_POST
@console_view("catalog.change_bannedwordlist")
def banned_words_update(request: HttpRequest) -> HttpResponse:
    """Replace the list; all live copy is re-scanned (LIST-02 findings) right after."""
    store = store_or_404(request)
    sent = {"words": request.POST.get("words", "")}
    try:
        row = catalog_services.banned_words_update(actor=_actor(request), store=store, words=sent["words"])
    except DomainError as exc:
        refused(request, exc, sent)
        return _banned_words_page(request, store, sent=sent, code=422)
    count = len(row.words.splitlines())
    messages.success(request, _("已保存禁用词 %(n)s 个，正在复查在售文案") % {"n": count})
    return HttpResponseRedirect(reverse("console:catalog_banned_words"))
