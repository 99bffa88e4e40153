"""Reads of recommendations: the current neighbour table (REC-01), the training data read from
the orders app, and the cart add-on suggestions (REC-02)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from storeops.behaviour import selectors as behaviour_selectors
from storeops.catalog import selectors as catalog_selectors
from storeops.core.errors import ValidationError
from storeops.inventory import selectors as inventory_selectors
from storeops.orders import selectors as order_selectors
from storeops.promotions import services as promotion_services
from storeops.recommend import rules
from storeops.recommend.models import BuildStatus, ItemNeighbour, NeighbourBuild, NeighbourKind
from storeops.stores.models import Channel, Store
from storeops.stores.playbook import PlaybookSettings
from storeops.stores.selectors import playbook_get

NEIGHBOUR_KIND_CHOICES = NeighbourKind.choices
BUILD_STATUS_CHOICES = BuildStatus.choices


def policy(playbook: PlaybookSettings) -> rules.Policy:
    """The playbook's REC-01 numbers as the pure core's policy."""
    return rules.Policy(
        k=playbook.rec_neighbours_k,
        min_support=playbook.rec_min_support,
        shrinkage=float(playbook.rec_shrinkage),
        weight_view=float(playbook.rec_weight_view),
        weight_fav=float(playbook.rec_weight_fav),
        weight_cart=float(playbook.rec_weight_cart),
        weight_buy=float(playbook.rec_weight_buy),
        tag_boost=float(playbook.rec_tag_boost),
        tag_fallback_score=float(playbook.rec_tag_fallback_score),
    )


def purchase_interactions(
    *, store: Store, since: dt.datetime, until: dt.datetime
) -> Iterator[rules.Interaction]:
    """Paid orders as ``buy`` interactions, one basket per order (the default training data)."""
    for line in order_selectors.paid_basket_lines(store, since=since, until=until):
        yield rules.Interaction(
            user=line.customer_ref,
            item=line.product_id,
            kind=rules.Kind.BUY,
            at=line.paid_at.timestamp(),
            basket=f"order:{line.order_id}",
        )


def training_interactions(
    *, store: Store, since: dt.datetime, until: dt.datetime
) -> Iterator[rules.Interaction]:
    """What the nightly / console / API rebuild learns from: the paid orders (``buy``, one
    basket per order) and the shop's browsing events linked to a catalogue product (DATA-05's
    behaviour events: page views, favourites, add-to-carts as ``view`` / ``fav`` / ``cart``;
    their order and pay events are left out — the orders are the purchases). The core weighs
    each kind by the playbook's ``rec_weight_*``."""
    yield from purchase_interactions(store=store, since=since, until=until)
    for event in behaviour_selectors.product_interactions(store=store, since=since, until=until):
        kind = _BROWSING_KINDS.get(event.kind)
        if kind is not None:
            yield rules.Interaction(
                user=event.visitor_id, item=int(event.item_key), kind=kind, at=event.timestamp.timestamp()
            )


_BROWSING_KINDS = {"page_view": rules.Kind.VIEW, "favourite": rules.Kind.FAV, "add_to_cart": rules.Kind.CART}


# --- the neighbour table -----------------------------------------------------------------------


def current_build(*, store: Store) -> NeighbourBuild | None:
    return NeighbourBuild.objects.filter(store=store, status=BuildStatus.CURRENT).first()


def build_list(*, store: Store) -> QuerySet[NeighbourBuild]:
    return NeighbourBuild.objects.filter(store=store).order_by("-started_at", "-id")


def neighbours_of(*, store: Store, product_id: int, kind: str = "") -> list[ItemNeighbour]:
    """A product's neighbours in the current table (one kind, or both), best first, with the
    neighbour product (code, title, status) joined."""
    if kind and kind not in NeighbourKind.values:
        raise ValidationError(_("推荐类型无效"), fields={"kind": _("只能是相似商品或搭配商品")})
    qs = ItemNeighbour.objects.filter(
        store=store, build__status=BuildStatus.CURRENT, product_id=product_id
    ).select_related("neighbour")
    if kind:
        qs = qs.filter(kind=kind)
    return list(qs.order_by("kind", "rank"))


def neighbour_counts(*, store: Store, product_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """``{product id: {"similar": n, "complementary": n}}`` in the current table (one query)."""
    rows = (
        ItemNeighbour.objects.filter(
            store=store, build__status=BuildStatus.CURRENT, product_id__in=list(product_ids)
        )
        .values("product_id", "kind")
        .annotate(n=Count("id"))
    )
    out: dict[int, dict[str, int]] = {}
    for r in rows:
        out.setdefault(r["product_id"], {})[r["kind"]] = r["n"]
    return out


def neighbour_rows(*, store: Store, product_ids: Sequence[int], kind: str) -> list[rules.Neighbour]:
    """The current table's rows of these products as the pure core's :class:`Neighbour`."""
    rows = ItemNeighbour.objects.filter(
        store=store, build__status=BuildStatus.CURRENT, product_id__in=list(product_ids), kind=kind
    ).values_list("product_id", "neighbour_id", "score", "support", "rank")
    relation = rules.Relation(kind)
    return [
        rules.Neighbour(item=p, neighbour=n, relation=relation, score=s, support=c, rank=r)
        for p, n, s, c, r in rows
    ]


def in_stock_products(
    *, store: Store, product_ids: Sequence[int], channel: Channel | None
) -> dict[int, tuple[str, Decimal, int]]:
    """Of these products, those on sale (with a channel: listed live on it) with an active SKU
    in stock: ``{product id: (cheapest in-stock SKU code, its price, units available)}``."""
    sellable = catalog_selectors.sellable_skus(
        store=store, product_ids=product_ids, channel_id=channel.pk if channel is not None else None
    )
    stock = inventory_selectors.available_by_sku(sku_ids=[s.sku_id for s in sellable])
    pick: dict[int, tuple[str, Decimal, int]] = {}
    for sku in sellable:  # cheapest first per product
        units = stock.get(sku.sku_id, 0)
        if sku.product_id not in pick and units > 0:
            pick[sku.product_id] = (sku.code, sku.price, units)
    return pick


def sellable_neighbours(
    *, store: Store, rows: Sequence[ItemNeighbour], channel: Channel | None
) -> list[ItemNeighbour]:
    """The rows whose neighbour can be bought now (see :func:`in_stock_products`)."""
    ok = in_stock_products(store=store, product_ids=[r.neighbour_id for r in rows], channel=channel)
    return [r for r in rows if r.neighbour_id in ok]


def _short(amount: Decimal) -> str:
    """5.00 → "5", 4.50 → "4.5" (how shops write a reduction)."""
    text = f"{amount:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


# --- REC-02: cart add-ons ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OfferNote:
    offer_id: str
    zh: str
    en: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class AddOn:
    product_id: int
    product_code: str
    title: str
    sku: str
    price: Decimal  # the SKU's list price
    available: int
    score: float  # sum over the cart's products of the complementary score
    because_of: tuple[int, ...]  # the cart's products that lead to it
    pay_extra: Decimal  # how much more the cart costs with one unit of it (quoted)
    saving: Decimal  # price − pay_extra: > 0 when an offer (add-on deal, threshold…) applies
    offer_text: str  # "加购卸妆水立减5.00元" when saving > 0, else ""
    offers: tuple[OfferNote, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class AddOnResult:
    built_at: dt.datetime | None
    payable: Decimal  # the cart's payable without any add-on
    suggestions: list[AddOn]


def addon_suggestions(
    *,
    store: Store,
    channel: Channel | None,
    lines: Sequence[promotion_services.CartItem],
    customer: promotion_services.Shopper,
    coupon_codes: Sequence[str] = (),
    limit: int | None = None,
    now: dt.datetime | None = None,
) -> AddOnResult:
    """REC-02: complementary products of the cart's products, not in the cart, on sale (with a
    channel: listed live on it) and in stock, ranked by score; at most ``rec_addon_max``.

    Each is priced by the promotions quote service: the cart is quoted with and without one
    unit of the suggestion, so any offer that makes the add-on cheaper (an add-on deal
    "加购立减", a threshold reached…) shows as its ``saving``, computed exactly as checkout
    will compute it. Read-only."""
    now = now or timezone.now()
    playbook = playbook_get(store=store, channel=channel)
    limit = playbook.rec_addon_max if limit is None else min(limit, playbook.rec_addon_max)
    base = promotion_services.quote_cart(
        store=store,
        channel=channel,
        lines=lines,
        customer=customer,
        coupon_codes=coupon_codes,
        now=now,
        playbook=playbook,
    )
    build = current_build(store=store)
    in_cart = sorted({s.product_id for s in base.skus})
    if build is None or limit < 1:
        return AddOnResult(
            built_at=None if build is None else build.built_at,
            payable=base.quote.payable.amount,
            suggestions=[],
        )
    table = neighbour_rows(store=store, product_ids=in_cart, kind=NeighbourKind.COMPLEMENTARY)
    ranked = rules.suggest(table, in_cart, limit=len(table))
    candidates = [int(item) for item, _score in ranked]
    pick = in_stock_products(store=store, product_ids=candidates, channel=channel)
    chosen = [(int(item), score) for item, score in ranked if int(item) in pick][:limit]
    briefs = catalog_selectors.product_briefs(store=store, product_ids=[p for p, _s in chosen])
    because: dict[int, list[int]] = {}
    for n in table:
        because.setdefault(int(n.neighbour), []).append(int(n.item))
    before_offers = {a.offer_id for a in base.quote.applied}
    out = []
    for product_id, score in chosen:
        sku_code, price, available = pick[product_id]
        code, title, core_word = briefs[product_id]
        quoted = promotion_services.quote_cart(
            store=store,
            channel=channel,
            lines=[*lines, promotion_services.CartItem(sku_code=sku_code, quantity=1)],
            customer=customer,
            coupon_codes=coupon_codes,
            now=now,
            playbook=playbook,
        )
        pay_extra = quoted.quote.payable.amount - base.quote.payable.amount
        saving = max(price - pay_extra, Decimal("0"))
        touched = {a.offer_id for a in quoted.quote.lines[-1].adjustments}
        notes = tuple(
            OfferNote(offer_id=a.offer_id, zh=a.zh, en=a.en, amount=a.amount.amount)
            for a in quoted.quote.applied
            if saving > 0 and (a.offer_id in touched or a.offer_id not in before_offers)
        )
        out.append(
            AddOn(
                product_id=product_id,
                product_code=code,
                title=title,
                sku=sku_code,
                price=price,
                available=available,
                score=round(score, 6),
                because_of=tuple(sorted(because.get(product_id, []))),
                pay_extra=pay_extra,
                saving=saving,
                offer_text=(
                    _("加购%(name)s立减%(amount)s元") % {"name": core_word or title, "amount": _short(saving)}
                    if saving > 0
                    else ""
                ),
                offers=notes,
            )
        )
    return AddOnResult(built_at=build.built_at, payable=base.quote.payable.amount, suggestions=out)
