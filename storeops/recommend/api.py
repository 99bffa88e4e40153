"""Recommendations API (/api/v1/recommend).

Storefront (authenticated like the checkout: an ``orders.place_order`` token or session):

* ``POST /recommend/shop/{store}/add-ons`` — REC-02: add-on suggestions for a cart, with the
  saving an offer gives (priced by the promotions quote service). Read-only; it does not touch
  the place-order / pay path.
* ``GET /recommend/shop/{store}/products/{product_id}`` — REC-01: a product's similar and
  complementary products that are on sale and in stock.

Back office: a product's neighbours in the current table, the list of builds, and a rebuild
(``recommend.rebuild_neighbours``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from storeops.accounts.access import perm, principal
from storeops.core.api import Page, paginate
from storeops.core.errors import ValidationError
from storeops.promotions import services as promotion_services
from storeops.recommend import selectors, services
from storeops.stores.models import Channel, Store

router = Router(tags=["recommend"])


class AddOnCustomerIn(Schema):
    ref: str = ""
    tier: str | None = None
    segments: list[str] = []
    is_new: bool = False


class CartLineIn(Schema):
    sku: str
    quantity: int


class AddOnsIn(Schema):
    channel_id: int
    customer: AddOnCustomerIn = AddOnCustomerIn()
    lines: list[CartLineIn]
    coupon_codes: list[str] = []
    limit: int | None = None


class OfferNoteOut(Schema):
    offer_id: str
    zh: str
    en: str
    amount: Decimal


class AddOnOut(Schema):
    product_id: int
    product_code: str
    title: str
    sku: str
    price: Decimal
    available: int
    score: float
    because_of: list[int]
    pay_extra: Decimal
    saving: Decimal
    offer_text: str
    offers: list[OfferNoteOut]


class AddOnsOut(Schema):
    built_at: dt.datetime | None
    payable: Decimal
    suggestions: list[AddOnOut]


class NeighbourOut(Schema):
    kind: str
    rank: int
    score: float
    support: int
    product_id: int
    code: str
    title: str
    status: str

    @staticmethod
    def resolve_product_id(obj: Any) -> int:
        return int(obj.neighbour_id)

    @staticmethod
    def resolve_code(obj: Any) -> str:
        return str(obj.neighbour.code)

    @staticmethod
    def resolve_title(obj: Any) -> str:
        return str(obj.neighbour.title)

    @staticmethod
    def resolve_status(obj: Any) -> str:
        return str(obj.neighbour.status)


class NeighboursOut(Schema):
    product_id: int
    built_at: dt.datetime | None
    similar: list[NeighbourOut]
    complementary: list[NeighbourOut]


class BuildOut(Schema):
    id: int
    status: str
    started_at: dt.datetime
    built_at: dt.datetime | None
    via: str
    actor_label: str
    settings: dict[str, Any]
    interactions: int
    users: int
    baskets: int
    products: int
    similar_rows: int
    complementary_rows: int
    seconds: float
    error: str


def _store(store_id: int) -> Store:
    return get_object_or_404(Store, pk=store_id)


def _channel(store: Store, channel_id: int) -> Channel:
    channel = Channel.objects.filter(pk=channel_id, store=store).first()
    if channel is None:
        raise ValidationError(_("渠道不存在"), fields={"channel_id": _("渠道不存在")})
    return channel


def _neighbours(
    store: Store, product_id: int, *, sellable_only: bool, channel: Channel | None
) -> dict[str, Any]:
    rows = selectors.neighbours_of(store=store, product_id=product_id)
    if sellable_only:
        rows = selectors.sellable_neighbours(store=store, rows=rows, channel=channel)
    build = selectors.current_build(store=store)
    return {
        "product_id": product_id,
        "built_at": build.built_at if build else None,
        "similar": [r for r in rows if r.kind == "similar"],
        "complementary": [r for r in rows if r.kind == "complementary"],
    }


# --- storefront ------------------------------------------------------------------------------------


@router.post("/shop/{store_id}/add-ons", response=AddOnsOut, auth=perm("orders.place_order"))
def shop_add_ons(request: HttpRequest, store_id: int, payload: AddOnsIn) -> Any:
    """REC-02: complementary products for the cart (not in it, on sale on the channel, in
    stock), best first, at most the playbook's ``rec_addon_max``; each with what it adds to
    the payable and the saving an offer gives (``offer_text``: "加购卸妆水立减5.00元")."""
    store = _store(store_id)
    if payload.limit is not None and payload.limit < 1:
        raise ValidationError(_("推荐条数无效"), fields={"limit": _("至少为 1")})
    c = payload.customer
    return selectors.addon_suggestions(
        store=store,
        channel=_channel(store, payload.channel_id),
        lines=[promotion_services.CartItem(sku_code=x.sku, quantity=x.quantity) for x in payload.lines],
        customer=promotion_services.Shopper(
            customer_ref=c.ref.strip() or None, tier=c.tier, segments=frozenset(c.segments), is_new=c.is_new
        ),
        coupon_codes=payload.coupon_codes,
        limit=payload.limit,
    )


@router.get("/shop/{store_id}/products/{product_id}", response=NeighboursOut, auth=perm("orders.place_order"))
def shop_product(request: HttpRequest, store_id: int, product_id: int, channel_id: int | None = None) -> Any:
    """REC-01 on a product page: its similar ("看了又看") and complementary ("搭配购买")
    products that are on sale (on ``channel_id`` when given) and in stock."""
    store = _store(store_id)
    channel = _channel(store, channel_id) if channel_id is not None else None
    return _neighbours(store, product_id, sellable_only=True, channel=channel)


# --- back office -------------------------------------------------------------------------------


@router.get(
    "/{store_id}/products/{product_id}/neighbours",
    response=NeighboursOut,
    auth=perm("recommend.view_itemneighbour"),
)
def product_neighbours(request: HttpRequest, store_id: int, product_id: int) -> Any:
    """REC-01: the product's similar and complementary products in the current table (all of
    them, whatever their status), with score, support (customers / orders) and rank."""
    return _neighbours(_store(store_id), product_id, sellable_only=False, channel=None)


@router.get("/{store_id}/builds", response=Page[BuildOut], auth=perm("recommend.view_neighbourbuild"))
def build_list(request: HttpRequest, store_id: int, page: int = 1, page_size: int = 50) -> Any:
    """The rebuilds, newest first: status (current / superseded / failed), counts, duration."""
    return paginate(selectors.build_list(store=_store(store_id)), page, page_size)


@router.post("/{store_id}/builds", response={201: BuildOut}, auth=perm("recommend.rebuild_neighbours"))
def build_create(request: HttpRequest, store_id: int) -> Any:
    """Rebuild the store's table now from its paid orders (the nightly task does the same)."""
    build = services.neighbours_rebuild(actor=principal(request).actor, store=_store(store_id))
    return Status(201, build)
