"""Reads of offers and coupons, and their mapping into the engine's types (SOP PROMO-01..03).

:func:`offers_applicable` loads the offers a cart can use with two queries whatever the
number of offers: the active offers in their window whose scope rows match one of the cart's
SKUs, products or categories (or that cover every line), then their scope rows. Rows become
engine :class:`~storeops.promotions.engine.Offer` objects through :func:`mechanic_from_params`,
the same parser the services use to validate ``params`` before saving.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import TruncHour
from django.utils import timezone
from django.utils.dateparse import parse_datetime, parse_time
from django.utils.translation import gettext as _

from storeops.catalog.models import Category, Sku
from storeops.core.errors import NotFound, ValidationError
from storeops.core.money import Money
from storeops.promotions import engine as e
from storeops.promotions.models import (
    CouponKind,
    CouponStatus,
    CouponTemplate,
    IssuedCoupon,
    IssueRule,
    Offer,
    OfferKind,
    OfferScopeItem,
    OfferStatus,
    OfferUse,
)
from storeops.stores.models import Store
from storeops.stores.playbook import PlaybookSettings

OFFER_KIND_CHOICES = OfferKind.choices
OFFER_STATUS_CHOICES = OfferStatus.choices
COUPON_STATUS_CHOICES = CouponStatus.choices
COUPON_KIND_CHOICES = CouponKind.choices
ISSUE_RULE_CHOICES = IssueRule.choices


# --- params JSON <-> engine mechanic -----------------------------------------------------------


def _local(moment: dt.datetime) -> dt.datetime:
    """In the store's time zone (the engine's explanations print it), when it has one."""
    return timezone.localtime(moment) if timezone.is_aware(moment) else moment


def _safe(parse: Callable[[str], Any], value: Any) -> Any:
    """A Django date/time parser that answers None for invalid values instead of raising."""
    if not isinstance(value, str):
        return None
    try:
        return parse(value)
    except ValueError:
        return None


class _Params:
    """Reads typed values out of a params dict, collecting one message per bad field."""

    def __init__(self, raw: Any, currency: str) -> None:
        self.raw: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
        self.currency = currency
        self.errors: dict[str, str] = {}
        if not isinstance(raw, Mapping):
            self.errors["params"] = _("参数必须是一个对象")

    def _get(self, key: str, required: bool) -> Any:
        value = self.raw.get(key)
        if value is None and required:
            self.errors[f"params.{key}"] = _("必填")
        return value

    def decimal(self, key: str, *, required: bool = True, default: Decimal | None = None) -> Decimal:
        value = self._get(key, required)
        if value is None:
            return default if default is not None else Decimal(0)
        try:
            if isinstance(value, float | bool):
                raise TypeError
            return Decimal(str(value))
        except (InvalidOperation, TypeError, ValueError):
            self.errors[f"params.{key}"] = _("不是有效的数字")
            return Decimal(0)

    def money(self, key: str, *, required: bool = True) -> Money:
        value = self.decimal(key, required=required)
        if f"params.{key}" not in self.errors and value != value.quantize(Decimal("0.01")):
            self.errors[f"params.{key}"] = _("金额最多两位小数")
        return Money(value, self.currency)

    def optional_money(self, key: str) -> Money | None:
        return None if self.raw.get(key) is None else self.money(key)

    def integer(self, key: str, *, required: bool = True, default: int = 0) -> int:
        value = self._get(key, required)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | str):
            self.errors[f"params.{key}"] = _("不是有效的整数")
            return default
        try:
            return int(value)
        except ValueError:
            self.errors[f"params.{key}"] = _("不是有效的整数")
            return default

    def boolean(self, key: str) -> bool:
        value = self.raw.get(key, False)
        if not isinstance(value, bool):
            self.errors[f"params.{key}"] = _("应为 true 或 false")
            return False
        return value

    def datetime(self, key: str) -> dt.datetime:
        value = self._get(key, True)
        parsed = _safe(parse_datetime, value)
        if value is not None and (parsed is None or parsed.tzinfo is None):
            self.errors[f"params.{key}"] = _("应为带时区的时间，如 2026-11-11T00:00:00+08:00")
        return parsed or dt.datetime(2000, 1, 1, tzinfo=dt.UTC)

    def items(self, key: str) -> list[Any]:
        value = self._get(key, True)
        if value is not None and not isinstance(value, list):
            self.errors[f"params.{key}"] = _("应为列表")
            return []
        return list(value or [])


def _tiers(p: _Params) -> tuple[e.Tier, ...]:
    tiers = []
    for n, item in enumerate(p.items("tiers")):
        sub = _Params(item, p.currency)
        threshold, amount = sub.money("threshold"), sub.money("amount")
        if sub.errors:
            p.errors[f"params.tiers.{n}"] = "; ".join(
                f"{k.removeprefix('params.')}: {v}" for k, v in sub.errors.items()
            )
            continue
        tiers.append(e.Tier(threshold=threshold, amount=amount))
    return tuple(tiers)


def _slots(p: _Params) -> tuple[tuple[dt.time, dt.time], ...]:
    slots = []
    for n, item in enumerate(p.items("slots")):
        pair = [_safe(parse_time, v) for v in (item if isinstance(item, list) else [])]
        if len(pair) != 2 or None in pair:
            p.errors[f"params.slots.{n}"] = _('时段应为 ["HH:MM", "HH:MM"]')
            continue
        slots.append((pair[0], pair[1]))
    return tuple(slots)


def _build(kind: str, p: _Params, stock_remaining: int) -> Callable[[], e.Mechanic]:
    """The constructor call for ``kind`` with its values read (errors collected on ``p``)."""
    if kind == OfferKind.PERCENTAGE:
        rate = p.decimal("rate")
        return lambda: e.PercentageOff(rate=rate)
    if kind == OfferKind.NTH_ITEM:
        n, rate = p.integer("n"), p.decimal("rate")
        return lambda: e.NthItemOff(n=n, rate=rate)
    if kind == OfferKind.FLASH_SALE:
        price, limit = p.money("price"), p.integer("per_buyer_limit")
        return lambda: e.FlashSale(price=price, stock_remaining=stock_remaining, per_buyer_limit=limit)
    if kind == OfferKind.GROUP_BUY:
        price, size, hours = p.money("price"), p.integer("group_size"), p.integer("time_limit_hours")
        return lambda: e.GroupBuy(price=price, group_size=size, time_limit_hours=hours)
    if kind == OfferKind.PRESALE:
        deposit, multiplier = p.money("deposit"), p.decimal("multiplier")
        starts, ends, cap = (
            _local(p.datetime("balance_starts")),
            _local(p.datetime("balance_ends")),
            p.optional_money("max_deduction"),
        )
        return lambda: e.Presale(
            deposit=deposit,
            multiplier=multiplier,
            balance_starts=starts,
            balance_ends=ends,
            max_deduction=cap,
        )
    if kind == OfferKind.ADD_ON:
        anchors = frozenset(str(a) for a in p.items("anchor_product_ids"))
        amount, per_anchor = p.money("amount_off"), p.integer("max_per_anchor", required=False, default=1)
        return lambda: e.AddOnDeal(anchor_product_ids=anchors, amount_off=amount, max_per_anchor=per_anchor)
    if kind == OfferKind.MEMBER_PRICE:
        raw = p.raw.get("tier_rates")
        if not isinstance(raw, Mapping) or not raw:
            p.errors["params.tier_rates"] = _('应为 {等级: 折扣率}，如 {"gold": "0.9"}')
            raw = {}
        rates = tuple((str(k), _Params(raw, p.currency).decimal(str(k))) for k in sorted(raw))
        return lambda: e.MemberPrice(tier_rates=rates)
    if kind == OfferKind.TIME_SLOT:
        slots, rate = _slots(p), p.decimal("rate")
        return lambda: e.TimeSlotOff(slots=slots, rate=rate)
    if kind == OfferKind.TIERED_REDUCTION:
        tiers, repeat, cap = _tiers(p), p.boolean("repeat"), p.optional_money("max_reduction")
        return lambda: e.TieredReduction(tiers=tiers, repeat=repeat, max_reduction=cap)
    if kind == OfferKind.THRESHOLD_PERCENTAGE:
        threshold, rate, cap = p.money("threshold"), p.decimal("rate"), p.optional_money("max_reduction")
        return lambda: e.ThresholdPercentOff(threshold=threshold, rate=rate, max_reduction=cap)
    if kind == OfferKind.GIFT:
        threshold, qty = p.money("threshold"), p.integer("quantity", required=False, default=1)
        gift = str(p._get("gift_sku", True) or "")
        return lambda: e.ThresholdGift(threshold=threshold, gift_sku_id=gift, quantity=qty)
    p.errors["kind"] = _("未知的促销玩法")
    return lambda: e.PercentageOff(rate=Decimal(0))


def mechanic_from_params(kind: str, params: Any, *, currency: str, stock_remaining: int = 0) -> e.Mechanic:
    """Build the engine mechanic for ``kind`` from its JSON ``params``.

    Raises :class:`ValidationError` with a message per field (``params.<name>``) when a value
    is missing, of the wrong type, or refused by the engine's own checks.
    """
    p = _Params(params, currency)
    make = _build(kind, p, stock_remaining)
    if p.errors:
        raise ValidationError(_("促销参数有误"), fields=p.errors)
    try:
        return make()
    except ValidationError as exc:  # the engine's invariant checks (English, for developers)
        raise ValidationError(
            _("促销参数有误"), fields={"params": _("参数不合法：%(why)s") % {"why": exc.message}}
        ) from exc


def level_of(kind: str) -> str:
    store_kinds = (OfferKind.TIERED_REDUCTION, OfferKind.THRESHOLD_PERCENTAGE, OfferKind.GIFT)
    return str(e.Level.STORE if kind in store_kinds else e.Level.ITEM)


# --- offer rows -> engine offers ---------------------------------------------------------------


# (offer id, category id, product id, sku id): one scope row, as loaded by ``values_list``
ScopeRow = tuple[int, int | None, int | None, int | None]
_ENGINE_FIELDS = (
    "pk",
    "kind",
    "params",
    "channels",
    "tiers",
    "segments",
    "new_users_only",
    "starts_at",
    "ends_at",
    "exclusive_group",
    "priority",
    "per_user_limit",
    "stock_cap",
    "stock_sold",
    "title_zh",
    "title_en",
)


def _engine_offer(f: Mapping[str, Any], scope_rows: Iterable[ScopeRow], currency: str) -> e.Offer:
    categories: set[str] = set()
    products: set[str] = set()
    skus: set[str] = set()
    for _offer, category, product, sku in scope_rows:
        if sku is not None:
            skus.add(str(sku))
        elif product is not None:
            products.add(str(product))
        else:
            categories.add(str(category))
    cap = f["stock_cap"]
    stock = max(cap - f["stock_sold"], 0) if cap is not None else 0
    return e.Offer(
        id=f"of{f['pk']}",
        mechanic=mechanic_from_params(f["kind"], f["params"], currency=currency, stock_remaining=stock),
        scope=e.Scope(
            category_ids=frozenset(categories),
            product_ids=frozenset(products),
            sku_ids=frozenset(skus),
            channels=frozenset(f["channels"]),
            tiers=frozenset(f["tiers"]),
            segments=frozenset(f["segments"]),
            new_users_only=f["new_users_only"],
        ),
        window=e.Window(starts=f["starts_at"], ends=f["ends_at"]),
        exclusive_group=f["exclusive_group"] or None,
        priority=f["priority"],
        per_user_limit=f["per_user_limit"],
        title_zh=f["title_zh"],
        title_en=f["title_en"],
    )


def offer_to_engine(row: Offer, *, currency: str) -> e.Offer:
    """One offer row as the engine's :class:`Offer` (reads ``scope_items``; prefetch it for lists)."""
    fields = {name: getattr(row, name) for name in _ENGINE_FIELDS}
    scope = [(row.pk, i.category_id, i.product_id, i.sku_id) for i in row.scope_items.all()]
    return _engine_offer(fields, scope, currency)


def offer_pk(engine_offer_id: str) -> int | None:
    return int(engine_offer_id[2:]) if engine_offer_id.startswith("of") else None


def _running(now: dt.datetime) -> Q:
    return (Q(starts_at__isnull=True) | Q(starts_at__lte=now)) & (
        Q(ends_at__isnull=True) | Q(ends_at__gt=now)
    )


# Engine offers already built from rows, keyed by (currency, id, updated_at, stock_sold). Every
# change to an offer goes through the services, which save the row (``auto_now`` moves
# ``updated_at``); ``stock_sold`` is the flash-sale stock the engine sees. A changed row has a
# new key, so it is simply rebuilt; the old entry is never served. Per process, bounded.
_BUILT: dict[tuple[str, int, str, int], e.Offer] = {}
_BUILT_MAX = 20_000


def offer_cache_clear() -> None:
    _BUILT.clear()


@functools.lru_cache(maxsize=256)
def _applicable_sql(n_skus: int, n_products: int, n_categories: int) -> str:
    """The look-up of :func:`offers_applicable` as plain SQL (SQLite and PostgreSQL).

    Built once per list-length combination: composing the same query through the ORM costs
    several times the query itself on every quote.
    """
    offer, item = Offer._meta.db_table, OfferScopeItem._meta.db_table
    matches = [
        f"{column} IN ({', '.join(['%s'] * n)})"
        for column, n in (("sku_id", n_skus), ("product_id", n_products), ("category_id", n_categories))
        if n
    ]
    where = " OR ".join(matches)
    scoped = f" OR o.id IN (SELECT s.offer_id FROM {item} s WHERE {where})" if matches else ""  # noqa: S608
    return (
        f"SELECT o.id, o.updated_at, o.stock_sold FROM {offer} o "  # noqa: S608  (no user text in it)
        "WHERE o.store_id = %s AND o.status = %s "
        "AND (o.starts_at IS NULL OR o.starts_at <= %s) AND (o.ends_at IS NULL OR o.ends_at > %s) "
        f"AND (o.all_items = %s{scoped}) ORDER BY o.id"
    )


def is_limited(offer: e.Offer) -> bool:
    """A store offer (id ``of<pk>``) whose use counts per customer: a per-customer limit, or a
    flash sale (its stock and per-buyer units)."""
    return offer.id.startswith("of") and (
        offer.per_user_limit is not None or isinstance(offer.mechanic, e.FlashSale)
    )


def offer_prior_use(*, customer_ref: str, offer_ids: Sequence[int]) -> dict[int, int]:
    """The customer's live uses of each offer (a flash sale's units): orders cancelled or
    closed unpaid gave theirs back. One query."""
    if not customer_ref or not offer_ids:
        return {}
    rows = (
        OfferUse.objects.filter(customer_ref=customer_ref, offer_id__in=offer_ids, released_at__isnull=True)
        .values("offer_id")
        .annotate(n=Sum("quantity"))
    )
    return {row["offer_id"]: row["n"] for row in rows}


def offer_order_ids(*, offer_id: int) -> QuerySet[OfferUse]:
    """The ids (``order_id``) of the orders that used an offer, live or released: a lazy
    query, to filter orders by (``pk__in``) in one statement."""
    return OfferUse.objects.filter(offer_id=offer_id).values("order_id")


def offer_use_summary(*, offer_id: int) -> dict[str, int]:
    """How much a limited offer has been used by live orders: orders, customers, units."""
    live = OfferUse.objects.filter(offer_id=offer_id, released_at__isnull=True)
    got = live.aggregate(
        orders=Count("pk"), customers=Count("customer_ref", distinct=True), units=Sum("quantity")
    )
    return {"orders": got["orders"], "customers": got["customers"], "units": got["units"] or 0}


def offers_applicable(
    *,
    store: Store,
    sku_ids: Iterable[int],
    product_ids: Iterable[int],
    category_ids: Iterable[int],
    now: dt.datetime,
) -> list[e.Offer]:
    """Active offers running at ``now`` whose line scope touches the cart, in id order.

    One query finds them (the scope rows matched through their indexed foreign keys, or
    ``all_items``); offers not built before are then loaded with their scope rows (two more
    queries) and mapped to engine offers. Customer filters (channel, tier, segment, new users)
    and per-user limits are left to the engine, which checks every offer it is given.
    """
    skus, products, categories = sorted(set(sku_ids)), sorted(set(product_ids)), sorted(set(category_ids))
    sql = _applicable_sql(len(skus), len(products), len(categories))
    at = connection.ops.adapt_datetimefield_value(now)
    params = [store.pk, OfferStatus.ACTIVE.value, at, at, True, *skus, *products, *categories]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    currency = store.currency
    # the key's timestamp is the driver's value (naive on SQLite): compared only with itself
    keys = [(currency, pk, str(updated_at), stock_sold) for pk, updated_at, stock_sold in found]
    missing = [key for key in keys if key not in _BUILT]
    fresh: dict[int, e.Offer] = {}
    if missing:
        ids = [key[1] for key in missing]
        scope: dict[int, list[ScopeRow]] = {}
        for item in OfferScopeItem.objects.filter(offer_id__in=ids).values_list(
            "offer_id", "category_id", "product_id", "sku_id"
        ):
            scope.setdefault(item[0], []).append(item)
        for row in Offer.objects.filter(pk__in=ids).values(*_ENGINE_FIELDS):
            fresh[row["pk"]] = _engine_offer(row, scope.get(row["pk"], ()), currency)
        if len(_BUILT) + len(missing) > _BUILT_MAX:
            _BUILT.clear()
        for key in missing:
            if key[1] in fresh:  # a row changed since is stored under its old key: never asked again
                _BUILT[key] = fresh[key[1]]
    return [_BUILT.get(key) or fresh[key[1]] for key in keys if key in _BUILT or key[1] in fresh]


def promotion_policy(playbook: PlaybookSettings) -> e.PromotionPolicy:
    """The playbook's MEM-01 tier price factors as the engine's policy (a factor of 1 is no discount)."""
    rates = (
        ("silver", playbook.tier_discount_silver),
        ("gold", playbook.tier_discount_gold),
        ("diamond", playbook.tier_discount_diamond),
    )
    return e.PromotionPolicy(
        member_tier_rates=tuple((tier, Decimal(r)) for tier, r in rates if Decimal(r) < 1)
    )


# --- cart SKUs -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CartSku:
    id: int
    code: str
    product_id: int
    category_id: int
    price: Decimal
    title: str
    # the row itself (the fields above and its store): a checkout reserves stock with it
    # instead of reading the SKU again
    row: Sku = field(compare=False, repr=False)


def cart_skus(*, store: Store, codes: Sequence[str]) -> dict[str, CartSku]:
    """Active SKUs of the store by code (one query)."""
    rows = (
        Sku.objects.filter(store=store, code__in=list(codes), is_active=True)
        .select_related("product")
        .only("id", "store_id", "code", "price", "product_id", "product__category_id", "product__title")
    )
    return {
        s.code: CartSku(s.pk, s.code, s.product_id, s.product.category_id, s.price, s.product.title, s)
        for s in rows
    }


@functools.lru_cache(maxsize=64)
def _ancestors_sql(n: int) -> str:
    """Walk up the category tree from ``n`` categories in one recursive query (SQLite and
    PostgreSQL). ``UNION`` (not ``UNION ALL``) stops even on a cycle the services refuse."""
    table = Category._meta.db_table
    marks = ", ".join(["%s"] * n)
    return (
        f"WITH RECURSIVE up(leaf, node) AS ("  # noqa: S608  (no user text in it)
        f"SELECT c.id, c.parent_id FROM {table} c WHERE c.id IN ({marks}) AND c.parent_id IS NOT NULL "
        f"UNION SELECT up.leaf, c.parent_id FROM up JOIN {table} c ON c.id = up.node "
        "WHERE c.parent_id IS NOT NULL) SELECT leaf, node FROM up"
    )


def category_ancestors(*, category_ids: Iterable[int]) -> dict[int, frozenset[int]]:
    """Each category's ancestors (parent, grandparent, …; empty for a root), in one query.

    Read per quote, not cached: a category moved in the tree counts from the next quote on.
    """
    ids = sorted(set(category_ids))
    result: dict[int, set[int]] = {pk: set() for pk in ids}
    if ids:
        with connection.cursor() as cursor:
            cursor.execute(_ancestors_sql(len(ids)), ids)
            for leaf, node in cursor.fetchall():
                result[leaf].add(node)
    return {pk: frozenset(nodes) for pk, nodes in result.items()}


def sku_choices(*, store: Store, limit: int = 200) -> list[tuple[str, str]]:
    rows = Sku.objects.filter(store=store, is_active=True).select_related("product").order_by("code")[:limit]
    return [(s.code, f"{s.code} · {s.product.title[:20]} · {s.price}") for s in rows]


# --- lists for the API and console ------------------------------------------------------------


OFFER_SCOPES = ("all", "category", "product", "sku")  # offer_list's ``scope`` filter


def offer_list(
    *, store: Store, kind: str = "", status: str = "", scope: str = "", q: str = ""
) -> QuerySet[Offer]:
    """``scope``: ``all`` (every line), ``category``, ``product`` or ``sku``."""
    qs = Offer.objects.filter(store=store)
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    if scope == "all":
        qs = qs.filter(all_items=True)
    elif scope in OFFER_SCOPES:
        qs = qs.filter(
            Exists(OfferScopeItem.objects.filter(offer=OuterRef("pk"), **{f"{scope}__isnull": False}))
        )
    if q:
        qs = qs.filter(Q(title_zh__icontains=q) | Q(title_en__icontains=q))
    return qs


def offers_enabled(*, store: Store, now: dt.datetime | None = None) -> QuerySet[Offer]:
    """Enabled offers not past their end (scheduled or running): the ones shoppers see."""
    now = now or timezone.now()
    return Offer.objects.filter(store=store, status=OfferStatus.ACTIVE).filter(
        Q(ends_at__isnull=True) | Q(ends_at__gt=now)
    )


def offers_to_link(*, store: Store, keep: Iterable[int] = ()) -> QuerySet[Offer]:
    """Every offer a campaign can take (not ended), newest first, and those in ``keep`` (a
    campaign's own, which stay on its form whatever their status)."""
    qs = Offer.objects.filter(store=store).filter(~Q(status=OfferStatus.ENDED) | Q(pk__in=list(keep)))
    return qs.order_by("-pk")


def offer_get(*, store: Store, offer_id: int) -> Offer:
    row = (
        Offer.objects.filter(store=store, pk=offer_id)
        .prefetch_related(
            Prefetch(
                "scope_items", queryset=OfferScopeItem.objects.select_related("category", "product", "sku")
            )
        )
        .first()
    )
    if row is None:
        raise NotFound(_("促销活动不存在"))
    return row


def coupon_template_list(*, store: Store) -> QuerySet[CouponTemplate]:
    return CouponTemplate.objects.filter(store=store).prefetch_related("categories")


def coupon_template_get(*, store: Store, template_id: int) -> CouponTemplate:
    row = CouponTemplate.objects.filter(store=store, pk=template_id).first()
    if row is None:
        raise NotFound(_("优惠券模板不存在"))
    return row


def coupon_hourly_counts(
    *, template_ids: Sequence[int], since: dt.datetime, until: dt.datetime
) -> dict[dt.datetime, tuple[int, int]]:
    """PROMO-06: per local hour of ``[since, until)`` with something in it, the copies of the
    templates issued and redeemed (a redemption given back with its cancelled order is not one).
    Two grouped queries, whatever the number of hours."""
    if not template_ids:
        return {}
    tz = timezone.get_current_timezone()
    coupons = IssuedCoupon.objects.filter(template_id__in=list(template_ids))
    issued = (
        coupons.filter(issued_at__gte=since, issued_at__lt=until)
        .annotate(hour=TruncHour("issued_at", tzinfo=tz))
        .values("hour")
        .annotate(n=Count("id"))
        .order_by()
    )
    redeemed = (
        coupons.filter(status=CouponStatus.REDEEMED, redeemed_at__gte=since, redeemed_at__lt=until)
        .annotate(hour=TruncHour("redeemed_at", tzinfo=tz))
        .values("hour")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: dict[dt.datetime, list[int]] = {}
    for r in issued:
        counts.setdefault(r["hour"], [0, 0])[0] = r["n"]
    for r in redeemed:
        counts.setdefault(r["hour"], [0, 0])[1] = r["n"]
    return {hour: (n[0], n[1]) for hour, n in counts.items()}


def coupons_issued_before(*, template_ids: Sequence[int], before: dt.datetime) -> int:
    """PROMO-06: copies of the templates issued before ``before`` (a campaign's coupons handed
    out before it started)."""
    if not template_ids:
        return 0
    return IssuedCoupon.objects.filter(template_id__in=list(template_ids), issued_at__lt=before).count()


def coupon_list(
    *, store: Store, customer_ref: str = "", status: str = "", template_id: int | None = None
) -> QuerySet[IssuedCoupon]:
    qs = IssuedCoupon.objects.filter(store=store).select_related("template")
    if customer_ref:
        qs = qs.filter(customer_ref=customer_ref)
    if status:
        qs = qs.filter(status=status)
    if template_id:
        qs = qs.filter(template_id=template_id)
    return qs


def held_coupons(
    *, store: Store, codes: Sequence[str], customer_ref: str | None
) -> tuple[list[e.HeldCoupon], dict[str, str]]:
    """The customer's unused coupons among ``codes`` as engine coupons, and why others are not
    usable (code -> message). One query (the templates' categories are prefetched)."""
    if not codes:
        return [], {}
    rows = {
        c.code: c
        for c in IssuedCoupon.objects.filter(store=store, code__in=list(codes))
        .select_related("template")
        .prefetch_related("template__categories")
    }
    held: list[e.HeldCoupon] = []
    problems: dict[str, str] = {}
    for code in codes:
        row = rows.get(code)
        if row is None or (customer_ref is not None and row.customer_ref != customer_ref):
            problems[code] = _("优惠券不存在或不属于该顾客")
        elif row.status != CouponStatus.ISSUED:
            problems[code] = _("优惠券已使用或已过期")
        else:
            held.append(coupon_to_engine(row, currency=store.currency))
    return held, problems


def coupon_to_engine(row: IssuedCoupon, *, currency: str) -> e.HeldCoupon:
    t = row.template
    terms = e.CouponTerms(
        threshold=Money(t.threshold, currency), amount=Money(t.amount, currency), stackable=t.stackable
    )
    scope = e.Scope(
        category_ids=frozenset(str(c.pk) for c in t.categories.all()),
        new_users_only=t.kind == "new_user",
    )
    offer = e.Offer(id=f"cp{row.code}", mechanic=terms, scope=scope)
    return e.HeldCoupon(
        code=row.code, offer=offer, validity=e.Window(starts=row.valid_from, ends=row.valid_until)
    )


# --- quote output ------------------------------------------------------------------------------


def _amount(value: Money | None) -> Decimal | None:
    return None if value is None else value.amount


def quote_as_dict(q: e.Quote, sku_codes: Sequence[str]) -> dict[str, Any]:
    """A quote as plain data with SKU codes per line (the API body; the console renders it too)."""
    return {
        "currency": q.currency,
        "list_total": q.list_total.amount,
        "payable": q.payable.amount,
        "savings": q.savings.amount,
        "deposit_total": q.deposit_total.amount,
        "balance_total": q.balance_total.amount,
        "lines": [
            {
                "sku": sku,
                "quantity": line.quantity,
                "list_total": line.list_total.amount,
                "item_total": line.item_total.amount,
                "store_discount": line.store_discount.amount,
                "coupon_discount": line.coupon_discount.amount,
                "final_total": line.final_total.amount,
                "adjustments": [
                    {"offer_id": a.offer_id, "level": str(a.level), "amount": a.amount.amount}
                    for a in line.adjustments
                ],
                "deposit": _amount(line.deposit),
                "balance": _amount(line.balance),
            }
            for line, sku in zip(q.lines, sku_codes, strict=True)
        ],
        "applied": [
            {
                "offer_id": a.offer_id,
                "kind": str(a.kind),
                "level": str(a.level),
                "amount": a.amount.amount,
                "zh": a.zh,
                "en": a.en,
                "coupon_code": a.coupon_code,
            }
            for a in q.applied
        ],
        "gifts": [{"offer_id": g.offer_id, "sku": g.sku_id, "quantity": g.quantity} for g in q.gifts],
        "hints": [
            {
                "offer_id": h.offer_id,
                "missing": h.missing.amount,
                "gain": _amount(h.gain),
                "zh": h.zh,
                "en": h.en,
            }
            for h in q.hints
        ],
        "explanation": [{"offer_id": x.offer_id, "zh": x.zh, "en": x.en} for x in q.explanation],
    }


def offer_end_times(*, store: Store, offer_ids: Sequence[int]) -> dict[int, dt.datetime]:
    """When each of these offers ends (offers without an end are left out): the countdowns
    the storefront shows next to a quote (ORD-06)."""
    rows = Offer.objects.filter(store=store, pk__in=list(offer_ids), ends_at__isnull=False)
    return dict(rows.values_list("pk", "ends_at"))


def coupon_holders(*, store: Store, template_id: int, issue_key: str) -> set[str]:
    """Customers issued ``template_id`` under ``issue_key`` (MEM-04: who got this period's
    segment coupon)."""
    return set(
        IssuedCoupon.objects.filter(store=store, template_id=template_id, issue_key=issue_key).values_list(
            "customer_ref", flat=True
        )
    )
