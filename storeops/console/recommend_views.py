"""Console pages of recommendations: the products with their similar / complementary counts, the
last build and a rebuild button (REC-01), a product's neighbours, and a cart add-on preview
(REC-02) — reads from :mod:`storeops.recommend.selectors`, the rebuild through its services."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from storeops.catalog import selectors as catalog_selectors
from storeops.console.views import _actor, _base_context, console_view, flash_error, store_or_404
from storeops.core.errors import DomainError
from storeops.promotions.services import CartItem, Shopper
from storeops.recommend import selectors, services
from storeops.stores.selectors import channel_list

MAX_CART_LINES = 20


def _cart(text: str) -> list[CartItem]:
    """``"L1-S, R1-M*2"`` → cart items (quantity after ``*``, default 1)."""
    items = []
    for part in text.replace("，", ",").split(","):
        code, _sep, qty = part.strip().partition("*")
        if code:
            items.append(CartItem(sku_code=code.strip(), quantity=int(qty) if qty.strip().isdigit() else 1))
    return items[:MAX_CART_LINES]


@console_view("recommend.view_itemneighbour")
def overview(request: HttpRequest) -> HttpResponse:
    store = store_or_404(request)
    q = request.GET.get("q", "").strip()
    page = Paginator(catalog_selectors.product_list(store_id=store.pk, q=q), 25).get_page(
        request.GET.get("page")
    )
    counts = selectors.neighbour_counts(store=store, product_ids=[p.pk for p in page])
    rows = [{"p": p, "n": counts.get(p.pk, {})} for p in page]
    channels = list(channel_list(store=store, active_only=True))
    cart_text = request.GET.get("cart", "").strip()
    channel_id = request.GET.get("channel", "")
    addons = None
    if cart_text:
        channel = next((c for c in channels if str(c.pk) == channel_id), None)
        try:
            addons = selectors.addon_suggestions(
                store=store, channel=channel, lines=_cart(cart_text), customer=Shopper()
            )
        except DomainError as exc:
            flash_error(request, exc)
    return render(
        request,
        "console/recommend_overview.html",
        _base_context(
            request,
            page=page,
            rows=rows,
            q=q,
            querystring=f"q={q}",
            build=selectors.current_build(store=store),
            builds=list(selectors.build_list(store=store)[:10]),
            channels=channels,
            channel_id=channel_id,
            cart_text=cart_text,
            addons=addons,
            can_rebuild=request.user.has_perm("recommend.rebuild_neighbours"),
        ),
    )


@console_view("recommend.view_itemneighbour")
def product(request: HttpRequest, product_id: int) -> HttpResponse:
    store = store_or_404(request)
    brief = catalog_selectors.product_briefs(store=store, product_ids=[product_id]).get(product_id)
    if brief is None:
        raise Http404(_("商品不存在"))
    rows = selectors.neighbours_of(store=store, product_id=product_id)
    on_sale = selectors.in_stock_products(
        store=store, product_ids=[r.neighbour_id for r in rows], channel=None
    )
    return render(
        request,
        "console/recommend_product.html",
        _base_context(
            request,
            product_id=product_id,
            code=brief[0],
            title=brief[1],
            similar=[(r, r.neighbour_id in on_sale) for r in rows if r.kind == "similar"],
            complementary=[(r, r.neighbour_id in on_sale) for r in rows if r.kind == "complementary"],
            build=selectors.current_build(store=store),
        ),
    )


@require_POST
@console_view("recommend.rebuild_neighbours")
def rebuild(request: HttpRequest) -> HttpResponse:
    try:
        build = services.neighbours_rebuild(actor=_actor(request), store=store_or_404(request))
        messages.success(
            request,
            _("推荐已重建：%(orders)s 个订单，%(similar)s 条相似推荐，%(complementary)s 条搭配推荐")
            % {
                "orders": build.baskets,
                "similar": build.similar_rows,
                "complementary": build.complementary_rows,
            },
        )
    except DomainError as exc:
        flash_error(request, exc)
    return HttpResponseRedirect(reverse("console:recommend_overview"))
