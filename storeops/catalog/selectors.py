"""Reads for the catalog: product lists, the listing-audit draft loaded from the database,
the banned-word scanner per word-list version, supplier scorecards, selection candidates."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from storeops.behaviour import selectors as behaviour_selectors
from storeops.catalog.banned_words import (
    BannedWordScanner,
    load_default_words,
    parse_word_list,
    word_list_version,
)
from storeops.catalog.models import (
    BannedWordList,
    Category,
    CertificationKind,
    ChannelListing,
    ListingAudit,
    ListingStatus,
    MarketCategoryStat,
    Product,
    ProductStatus,
    SalesDaily,
    Sku,
    Supplier,
    SupplyRecord,
    Tag,
    TagKind,
)
from storeops.catalog.rules import (
    HeldQualification,
    ImageRole,
    LaunchFigures,
    LifecyclePolicy,
    ListingDraft,
    ListingImage,
    ListingPolicy,
    SelectionPolicy,
    SupplierPolicy,
    SupplierScore,
    SupplierStats,
    SupplierWeights,
    category_is_candidate,
    competition_ratio,
    format_tags,
    merge_launch_figures,
    qualification_problems,
    rank_suppliers,
    tag_kind,
)
from storeops.core.errors import ValidationError
from storeops.core.money import Money
from storeops.core.queries import get_or_not_found
from storeops.stores.models import Channel, Qualification, QualificationKind, Store
from storeops.stores.playbook import PlaybookSettings
from storeops.stores.selectors import playbook_get

# LIST-03: the product documents that prove an efficacy claim, as store qualification kinds.
EFFICACY_DOCUMENT_KINDS = frozenset(
    {
        QualificationKind.EFFICACY_REPORT.value,
        QualificationKind.COSMETICS_LICENSE.value,
        QualificationKind.HEALTH_FOOD_LICENSE.value,
    }
)
# Supplier scorecards look at the last year of purchase orders (SEL-02 "historical").
SUPPLIER_REVIEW_DAYS = 365


# ---- products --------------------------------------------------------------------------


def category_subtree_ids(*, category_id: int) -> set[int]:
    """The category and all categories below it (one query per level of the tree)."""
    ids, frontier = {category_id}, {category_id}
    while frontier:
        frontier = set(Category.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)) - ids
        ids |= frontier
    return ids


def product_list(
    *,
    store_id: int,
    q: str = "",
    status: str = "",
    category_id: int | None = None,
    tag: str = "",
    tag_id: int | None = None,
    is_key: bool | None = None,
) -> QuerySet[Product]:
    """The store's products by code. ``q`` matches title, code, core word, a SKU's code or
    barcode, or part of a tag's name (SEL-04); ``tag`` is a tag's name (any kind) or
    ``kind:name`` (``style:法式``, ``风格:法式``); ``tag_id`` one tag."""
    qs = Product.objects.filter(store_id=store_id).select_related("category")
    if q:
        qs = qs.filter(
            Q(title__icontains=q)
            | Q(code__icontains=q)
            | Q(core_word__icontains=q)
            | Q(skus__code__iexact=q)
            | Q(skus__barcode=q)
            | Q(tags__name__icontains=q)
        ).distinct()
    if status:
        qs = qs.filter(status=status)
    if category_id:
        qs = qs.filter(category_id__in=category_subtree_ids(category_id=category_id))
    if tag:
        kind_text, sep, name = tag.replace("：", ":").partition(":")
        kind = tag_kind(kind_text) if sep else None
        wanted = Tag.objects.filter(store_id=store_id)
        wanted = wanted.filter(kind=kind, name=name.strip()) if kind else wanted.filter(name=tag.strip())
        qs = qs.filter(tags__in=wanted).distinct()
    if tag_id is not None:
        qs = qs.filter(tags__id=tag_id)
    if is_key is not None:
        qs = qs.filter(is_key=is_key)
    return qs.order_by("code")


# ---- tags (SEL-04) ------------------------------------------------------------------------

TAG_KIND_CHOICES = TagKind.choices


def tag_list(*, store_id: int, kind: str = "", q: str = "") -> QuerySet[Tag]:
    """The store's tags by kind and name, each with ``product_count``."""
    qs = Tag.objects.filter(store_id=store_id)
    if kind:
        qs = qs.filter(kind=kind)
    if q:
        qs = qs.filter(name__icontains=q)
    return qs.annotate(product_count=Count("products")).order_by("kind", "name")


def tag_get(*, store_id: int, tag_id: int) -> Tag:
    return get_or_not_found(Tag.objects.all(), gettext_lazy("标签不存在"), store_id=store_id, pk=tag_id)


def product_tags_text(product: Product) -> str:
    """The product's tags as ``kind:name; kind:name`` (import/export and form format)."""
    return format_tags((t.kind, t.name) for t in product.tags.all())


def sorted_product_tags(product: Product) -> list[Tag]:
    """The product's tags in display order (category, price band, style, scene; then name)."""
    order = {kind: n for n, kind in enumerate(TagKind.values)}
    return sorted(product.tags.all(), key=lambda t: (order.get(t.kind, len(order)), t.name))


def product_tag_ids(*, store: Store) -> dict[int, frozenset[int]]:
    """``{product id: its tag ids}`` for the store's tagged products (one query)."""
    out: dict[int, set[int]] = {}
    rows = Product.tags.through.objects.filter(product__store=store).values_list("product_id", "tag_id")
    for product_id, tag_id in rows:
        out.setdefault(product_id, set()).add(tag_id)
    return {p: frozenset(t) for p, t in out.items()}


def live_product_ids(*, store: Store) -> set[int]:
    """The store's products on sale (status ``live``)."""
    return set(Product.objects.filter(store=store, status=ProductStatus.LIVE).values_list("pk", flat=True))


def product_detail(*, store_id: int, product_id: int) -> Product | None:
    return (
        Product.objects.filter(store_id=store_id, pk=product_id)
        .select_related("category", "store")
        .prefetch_related(
            "skus",
            "images",
            "documents",
            "tags",
            "listings__channel",
            Prefetch("audits", queryset=ListingAudit.objects.order_by("-created_at", "-id")),
        )
        .first()
    )


def audit_queue(*, store_id: int) -> QuerySet[ListingAudit]:
    """Audits waiting for a person (LIST-05 warnings and similar), oldest first."""
    return (
        ListingAudit.objects.filter(
            product__store_id=store_id,
            outcome="manual",
            decision="",
            product__status=ProductStatus.PENDING_AUDIT,
        )
        .select_related("product", "product__category")
        .order_by("created_at", "id")
    )


def category_chain(category: Category) -> list[Category]:
    """The category and its ancestors, root last."""
    chain: list[Category] = []
    seen: set[int] = set()
    node: Category | None = category
    while node is not None and node.pk not in seen:
        chain.append(node)
        seen.add(node.pk)
        node = node.parent
    return chain


def _merged(chain: list[Category], attr: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(str(w) for c in reversed(chain) for w in (getattr(c, attr) or [])))


# ---- banned words (LIST-02) ------------------------------------------------------------

_SCANNERS: dict[str, BannedWordScanner] = {}
_SCANNERS_LOCK = threading.Lock()
_SCANNER_CACHE_SIZE = 32


@cache
def _default_words() -> tuple[str, ...]:
    return load_default_words()


def banned_words_of(*, store: Store) -> tuple[str, ...]:
    """The store's edited list, or the bundled default when it never edited one."""
    row = BannedWordList.objects.filter(store=store).only("words").first()
    return parse_word_list(row.words) if row is not None else _default_words()


def banned_words_is_default(*, store: Store) -> bool:
    """Does the store still use the bundled list (never edited one)?"""
    return not BannedWordList.objects.filter(store=store).exists()


def banned_word_scanner(*, store: Store) -> BannedWordScanner:
    """The store's scanner, built once per word-list version and shared (immutable)."""
    words = banned_words_of(store=store)
    version = word_list_version(words)
    scanner = _SCANNERS.get(version)
    if scanner is None:
        scanner = BannedWordScanner(words)
        with _SCANNERS_LOCK:
            if len(_SCANNERS) >= _SCANNER_CACHE_SIZE:
                _SCANNERS.clear()
            _SCANNERS[version] = scanner
    return scanner


def banned_words_in(*, store: Store, texts: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    """LIST-02 for copy outside the catalog (campaign copy, offer titles, message templates):
    the store's banned words found in each named text, with the catalog's scanner."""
    return banned_word_scanner(store=store).words_in(texts)


def banned_word_errors(*, store: Store, texts: Mapping[str, str]) -> dict[str, str]:
    """Field errors (field name -> message naming the words) for the texts that contain a
    word of the store's banned-word list; empty when the copy is clean. Services merge them
    into their own 422."""
    return {
        name: gettext("含广告法禁用词：%(words)s") % {"words": "、".join(words)}
        for name, words in banned_words_in(store=store, texts=texts).items()
    }


# ---- listing audit draft (LIST-01..05, STORE-02/03) --------------------------------------


def listing_policy(playbook: PlaybookSettings) -> ListingPolicy:
    ratio = min(playbook.price_outlier_ratio, Decimal("0.99"))  # a price cannot be 100% below
    return ListingPolicy(
        title_min_chars=playbook.title_min_chars,
        title_max_chars=playbook.title_max_chars,
        max_image_bytes=playbook.image_max_kb * 1024,
        price_below_reference_max=ratio,
        price_above_reference_max=playbook.price_outlier_ratio,
        efficacy_document_kinds=EFFICACY_DOCUMENT_KINDS,
    )


def _valid_on(row: object, day: dt.date) -> bool:
    valid_from = getattr(row, "valid_from", None)
    valid_to = getattr(row, "valid_to", None)
    return (valid_from is None or valid_from <= day) and (valid_to is None or day <= valid_to)


def listing_draft(
    *,
    product: Product,
    today: dt.date,
    now: dt.datetime | None = None,
    overrides: dict[str, object] | None = None,
) -> ListingDraft:
    """Everything the audit needs about ``product``, loaded from the database.

    ``overrides`` replaces copy fields (title, description, core_word, parameters,
    has_efficacy_claim) to audit a proposed change before it is saved.
    """
    from storeops.pricing.selectors import competitor_latest_prices

    data: dict[str, object] = {
        "title": product.title,
        "description": product.description,
        "core_word": product.core_word,
        "parameters": product.parameters,
        "has_efficacy_claim": product.has_efficacy_claim,
        "category": product.category,
    }
    data.update(overrides or {})
    category = data["category"]
    assert isinstance(category, Category)
    chain = category_chain(category)
    currency = product.store.currency
    prices = [s.price for s in product.skus.all() if s.is_active]
    documents = list(product.documents.all())
    valid_docs = {d.kind for d in documents if _valid_on(d, today)}
    qualifications = Qualification.objects.filter(store_id=product.store_id)
    parameters = data["parameters"] or {}
    assert isinstance(parameters, dict)
    return ListingDraft(
        title=str(data["title"]),
        description=str(data["description"]),
        core_word=str(data["core_word"]),
        price=Money(min(prices), currency) if prices else Money(0, currency),
        attribute_vocabulary=_merged(chain, "attribute_words"),
        scene_vocabulary=_merged(chain, "scene_words"),
        required_qualifications=_merged(chain, "required_qualifications"),
        store_qualifications=tuple(
            HeldQualification(q.kind, q.valid_from, q.valid_to) for q in qualifications
        ),
        has_efficacy_claim=bool(data["has_efficacy_claim"]),
        document_kinds=frozenset(valid_docs),
        required_parameters=_merged(chain, "required_parameters"),
        parameters={str(k): str(v) for k, v in parameters.items()},
        images=tuple(ListingImage(i.name, i.size_bytes, ImageRole(i.role)) for i in product.images.all()),
        qc_report_attached=QualificationKind.QC_REPORT.value in valid_docs,
        reference_prices=tuple(competitor_latest_prices(product=product, now=now or timezone.now())),
    )


@dataclass(frozen=True, slots=True)
class QualificationBlock:
    """A required qualification that stops a product going live (STORE-02/03 at listing
    time), with the store's document it is about (the latest of its kind, if any)."""

    kind: str
    problem: str  # missing | expired | not_yet_valid
    document: str  # the document's title ("" when the store holds none of this kind)
    valid_to: dt.date | None

    @property
    def message(self) -> str:
        label = (
            str(QualificationKind(self.kind).label) if self.kind in QualificationKind.values else self.kind
        )
        name = f"{label}「{self.document}」" if self.document and self.document != label else label
        if self.problem == "expired":
            assert self.valid_to is not None
            return gettext("类目要求的资质 %(name)s 已于 %(date)s 过期") % {
                "name": name,
                "date": self.valid_to.isoformat(),
            }
        if self.problem == "not_yet_valid":
            return gettext("类目要求的资质 %(name)s 尚未生效") % {"name": name}
        return gettext("类目要求的资质 %(name)s 缺失") % {"name": name}


def listing_qualification_blocks(*, product: Product, day: dt.date) -> list[QualificationBlock]:
    """The category's required qualifications (inherited from parent categories too) that
    the store does not hold valid on ``day``: listing is blocked while there is any."""
    required = _merged(category_chain(product.category), "required_qualifications")
    if not required:
        return []
    documents = list(
        Qualification.objects.filter(store_id=product.store_id, kind__in=required).order_by(
            "valid_from", "pk"
        )
    )
    held = [HeldQualification(q.kind, q.valid_from, q.valid_to) for q in documents]
    blocks = []
    for p in qualification_problems(required, held, day=day):
        mine = [q for q in documents if q.kind == p.kind]
        if p.problem == "expired":
            mine = [q for q in mine if q.valid_to == p.valid_to]
        blocks.append(QualificationBlock(p.kind, p.problem, mine[-1].title if mine else "", p.valid_to))
    return blocks


# ---- lifecycle (LIST-07/08) ----------------------------------------------------------------


def lifecycle_policy(playbook: PlaybookSettings) -> LifecyclePolicy:
    return LifecyclePolicy(
        launch_days=playbook.launch_stage_days,
        stable_days=playbook.stable_stage_days,
        slow_mover_max_cover_days=playbook.slow_mover_days_of_cover,
        conversion_flag_ratio=playbook.conversion_below_category_ratio,
        conversion_min_visitors=playbook.low_conversion_min_visitors,
    )


def launch_products(
    *, store: Store, today: dt.date, launch_days: int, channel_id: int | None = None
) -> QuerySet[Product]:
    """LIST-07: the store's live products in their launch stage on ``today`` (first listed
    at most ``launch_days`` days ago), newest first; with ``channel_id``, those live on
    that channel."""
    qs = Product.objects.filter(
        store=store,
        status=ProductStatus.LIVE,
        listed_on__gte=today - dt.timedelta(days=launch_days),
        listed_on__lte=today,
    )
    if channel_id is not None:
        qs = qs.filter(listings__channel_id=channel_id, listings__status=ListingStatus.LIVE)
    return qs.order_by("-listed_on", "code")


LAUNCH_MAX_DAYS = 366  # the longest launch stage (launch_stage_days ≤ 365) with its listing day


@dataclass(frozen=True, slots=True)
class LaunchDay:
    day: dt.date
    figures: LaunchFigures


@dataclass(frozen=True, slots=True)
class LaunchProduct:
    """One launch product's tracking: ``days`` the days shown (oldest first, every day since
    listing or the last ``days`` of them, days without figures as zeros), ``total`` every day
    since listing."""

    product_id: int
    code: str
    title: str
    listed_on: dt.date
    age_days: int  # the listing day is day 0
    days: list[LaunchDay]
    total: LaunchFigures


@dataclass(frozen=True, slots=True)
class LaunchTracking:
    today: dt.date
    launch_days: int  # the playbook's launch_stage_days (the channel's, with a channel)
    products: list[LaunchProduct]


def launch_tracking(
    *,
    store: Store,
    channel: Channel | None = None,
    days: int | None = None,
    today: dt.date | None = None,
    products: Iterable[Product] | None = None,
) -> LaunchTracking:
    """LIST-07: the launch-stage products (:func:`launch_products`, or the given ``products``:
    one page of them) with their day-by-day clicks, add-to-cart, visitors, buyers, units and
    revenue since listing, and the totals; ``channel`` keeps one channel's figures (and its
    playbook's ``launch_stage_days``); ``days`` shows only the last so many days.

    Figures per product, channel and day: the daily sales statistics (imported, fed by paid
    orders) win; where they have 0 (or no row), the store's own behaviour events are counted
    instead (:func:`merge_launch_figures`). Two grouped queries for the whole page."""
    if days is not None and not 1 <= days <= LAUNCH_MAX_DAYS:
        raise ValidationError(gettext("统计周期无效"), fields={"days": gettext("1–366 天")})
    today = today or timezone.localdate()
    launch_days = playbook_get(store=store, channel=channel).launch_stage_days
    channel_id = channel.pk if channel is not None else None
    if products is None:
        products = launch_products(store=store, today=today, launch_days=launch_days, channel_id=channel_id)
    rows = [p for p in products if p.listed_on is not None and p.listed_on <= today]
    if not rows:
        return LaunchTracking(today=today, launch_days=launch_days, products=[])
    ids = [p.pk for p in rows]
    start = min(p.listed_on for p in rows if p.listed_on is not None)
    stats = SalesDaily.objects.filter(store=store, product_id__in=ids, day__gte=start, day__lte=today)
    if channel_id is not None:
        stats = stats.filter(channel_id=channel_id)
    figures = ("clicks", "add_to_cart", "visitors", "buyers", "units", "revenue")
    stated: dict[tuple[int, int | None, dt.date], LaunchFigures] = {
        (pid, cid, day): LaunchFigures(*values)
        for pid, cid, day, *values in stats.values_list("product_id", "channel_id", "day", *figures)
    }
    counted = {
        key: LaunchFigures(clicks=a.clicks, add_to_cart=a.add_to_cart, visitors=a.visitors, buyers=a.buyers)
        for key, a in behaviour_selectors.product_activity_by_day(
            store=store, start=start, end=today, product_ids=ids, channel_id=channel_id
        ).items()
    }
    per_day: dict[tuple[int, dt.date], LaunchFigures] = {}
    for key in stated.keys() | counted.keys():
        merged = merge_launch_figures(stated.get(key), counted.get(key))
        day_key = (key[0], key[2])
        per_day[day_key] = per_day[day_key] + merged if day_key in per_day else merged
    out = []
    for p in rows:
        assert p.listed_on is not None
        span = [p.listed_on + dt.timedelta(days=n) for n in range((today - p.listed_on).days + 1)]
        series = [LaunchDay(day, per_day.get((p.pk, day), LaunchFigures())) for day in span]
        total = sum((d.figures for d in series), LaunchFigures())
        out.append(
            LaunchProduct(
                product_id=p.pk,
                code=p.code,
                title=p.title,
                listed_on=p.listed_on,
                age_days=len(span) - 1,
                days=series[-days:] if days else series,
                total=total,
            )
        )
    return LaunchTracking(today=today, launch_days=launch_days, products=out)


def sales_window(*, store: Store, start: dt.date, end: dt.date) -> dict[int, dict[str, int]]:
    """Units, visitors and buyers per product over ``start..end`` (inclusive)."""
    rows = (
        SalesDaily.objects.filter(store=store, day__gte=start, day__lte=end)
        .values("product_id")
        .annotate(units=Sum("units"), visitors=Sum("visitors"), buyers=Sum("buyers"))
    )
    return {
        r["product_id"]: {
            "units": r["units"] or 0,
            "visitors": r["visitors"] or 0,
            "buyers": r["buyers"] or 0,
        }
        for r in rows
    }


def visitors_by_channel_day(
    *, store: Store, start: dt.date, end: dt.date, channel_id: int | None = None
) -> dict[tuple[int, dt.date], int]:
    """Visitors per (channel, day) over ``start..end`` (inclusive), from the traffic statistics
    (each product's visitors, summed: a shopper who viewed three products counts three times);
    ``channel_id`` keeps one channel."""
    qs = SalesDaily.objects.filter(store=store, day__gte=start, day__lte=end)
    if channel_id is not None:
        qs = qs.filter(channel_id=channel_id)
    rows = qs.values("channel_id", "day").annotate(v=Sum("visitors"))
    return {(r["channel_id"], r["day"]): r["v"] or 0 for r in rows}


def visitors_by_day(
    *, store: Store, start: dt.date, end: dt.date, channel_id: int | None = None
) -> dict[dt.date, int]:
    """Visitors per day over ``start..end`` (inclusive), one channel or all (DATA-01 UV)."""
    qs = SalesDaily.objects.filter(store=store, day__gte=start, day__lte=end)
    if channel_id is not None:
        qs = qs.filter(channel_id=channel_id)
    return {r["day"]: r["v"] or 0 for r in qs.values("day").annotate(v=Sum("visitors"))}


def traffic_by_channel(*, store: Store, start: dt.date, end: dt.date) -> dict[int, tuple[int, int]]:
    """(visitors, buyers) per channel over ``start..end`` (inclusive), from the traffic statistics."""
    rows = (
        SalesDaily.objects.filter(store=store, day__gte=start, day__lte=end)
        .values("channel_id")
        .annotate(v=Sum("visitors"), b=Sum("buyers"))
    )
    return {r["channel_id"]: (r["v"] or 0, r["b"] or 0) for r in rows}


def traffic_by_channel_category(
    *, store: Store, channel_id: int, start: dt.date, end: dt.date
) -> dict[int, tuple[int, int]]:
    """(visitors, buyers) per product category of one channel over ``start..end`` (inclusive)."""
    rows = (
        SalesDaily.objects.filter(store=store, channel_id=channel_id, day__gte=start, day__lte=end)
        .values("product__category_id")
        .annotate(v=Sum("visitors"), b=Sum("buyers"))
    )
    return {r["product__category_id"]: (r["v"] or 0, r["b"] or 0) for r in rows}


def category_conversion_benchmarks(*, store: Store, until: dt.date) -> dict[int, tuple[str, Decimal]]:
    """DATA-02: category id → (its name, the industry payment conversion of the market category
    of the same name in the latest imported market data up to ``until`` that gives one)."""
    latest: dict[str, Decimal] = {}
    stats = MarketCategoryStat.objects.filter(
        store=store, period_end__lte=until, conversion_rate__isnull=False
    ).order_by("category_name", "-period_end")
    for name, rate in stats.values_list("category_name", "conversion_rate"):
        latest.setdefault(name, rate)
    categories = Category.objects.filter(store=store, name__in=list(latest)).values_list("pk", "name")
    return {pk: (name, latest[name]) for pk, name in categories}


def stock_on_hand(*, store: Store, until: dt.date) -> dict[int, int]:
    """Latest known closing stock per product (summed over channels), from the sales stats."""
    latest: dict[tuple[int, int], tuple[dt.date, int]] = {}
    rows = SalesDaily.objects.filter(store=store, day__lte=until, stock_on_hand__isnull=False).values_list(
        "product_id", "channel_id", "day", "stock_on_hand"
    )
    for product_id, channel_id, day, stock in rows:
        key = (product_id, channel_id)
        if key not in latest or latest[key][0] < day:
            latest[key] = (day, stock)
    totals: dict[int, int] = {}
    for (product_id, _channel), (_day, stock) in latest.items():
        totals[product_id] = totals.get(product_id, 0) + stock
    return totals


# ---- suppliers (SEL-02) --------------------------------------------------------------------


def supplier_policy(playbook: PlaybookSettings) -> SupplierPolicy:
    return SupplierPolicy(
        max_stock_out_rate=playbook.supplier_max_stockout_rate,
        min_qc_pass_rate=playbook.supplier_min_qc_pass_rate,
        payment_term_full_score_days=playbook.supplier_payment_term_full_score_days,
        min_suppliers_for_key_product=playbook.key_product_min_suppliers,
        weights=SupplierWeights(
            stock_out=playbook.supplier_weight_stock_out,
            qc=playbook.supplier_weight_qc,
            on_time=playbook.supplier_weight_on_time,
            payment_terms=playbook.supplier_weight_payment_terms,
            iso9001=playbook.supplier_weight_iso9001,
            small_batch=playbook.supplier_weight_small_batch,
        ),
    )


def supplier_stats(*, store: Store, today: dt.date) -> list[SupplierStats]:
    since = today - dt.timedelta(days=SUPPLIER_REVIEW_DAYS)
    suppliers = Supplier.objects.filter(store=store, is_active=True).order_by("code")
    records: dict[int, list[SupplyRecord]] = {}
    for r in SupplyRecord.objects.filter(supplier__store=store, ordered_on__gte=since, ordered_on__lte=today):
        records.setdefault(r.supplier_id, []).append(r)
    iso = set(
        Supplier.objects.filter(
            store=store, certifications__kind=CertificationKind.ISO9001, certifications__valid_from__lte=today
        )
        .filter(Q(certifications__valid_to__isnull=True) | Q(certifications__valid_to__gte=today))
        .values_list("pk", flat=True)
    )
    stats = []
    for s in suppliers:
        rows = records.get(s.pk, [])
        delivered = [r for r in rows if r.delivered_on is not None]
        stats.append(
            SupplierStats(
                supplier_id=str(s.pk),
                orders=len(rows),
                stock_out_events=sum(1 for r in rows if r.stocked_out),
                deliveries=len(delivered),
                on_time_deliveries=sum(1 for r in delivered if r.delivered_on and r.delivered_on <= r.due_on),
                qc_samples=sum(r.qc_samples for r in rows),
                qc_passed=sum(r.qc_passed for r in rows),
                payment_term_days=s.payment_term_days,
                iso9001=s.pk in iso,
                small_batch_customisation=s.small_batch_customisation,
            )
        )
    return stats


def supplier_ranking(
    *, store: Store, today: dt.date, playbook: PlaybookSettings
) -> list[tuple[Supplier, SupplierScore]]:
    """Every active supplier's scorecard, best first."""
    by_id = {str(s.pk): s for s in Supplier.objects.filter(store=store)}
    scores = rank_suppliers(supplier_stats(store=store, today=today), supplier_policy(playbook))
    return [(by_id[s.supplier_id], s) for s in scores]


def key_products_supplier_counts(*, store: Store) -> QuerySet[Product]:
    return (
        Product.objects.filter(store=store, is_key=True)
        .exclude(status=ProductStatus.DELISTED)
        .annotate(n_suppliers=Count("supplier_links", filter=Q(supplier_links__supplier__is_active=True)))
        .order_by("code")
    )


# ---- selection (SEL-01) ----------------------------------------------------------------------


def selection_policy(playbook: PlaybookSettings) -> SelectionPolicy:
    return SelectionPolicy(
        min_category_growth_30d=playbook.selection_min_growth_30d,
        max_competition_ratio=playbook.selection_max_competition_ratio,
        min_gross_margin=playbook.selection_min_gross_margin,
    )


def market_categories(
    *, store: Store, playbook: PlaybookSettings, candidates_only: bool = False
) -> list[dict[str, object]]:
    """The latest imported figures of each market category, with SEL-01's verdict."""
    policy = selection_policy(playbook)
    latest: dict[str, MarketCategoryStat] = {}
    for row in MarketCategoryStat.objects.filter(store=store).order_by("category_name", "-period_end"):
        latest.setdefault(row.category_name, row)
    result = []
    for row in latest.values():
        candidate = category_is_candidate(row.growth_30d, row.listings, row.search_popularity, policy)
        if candidates_only and not candidate:
            continue
        result.append(
            {
                "stat": row,
                "competition_ratio": competition_ratio(row.listings, row.search_popularity),
                "candidate": candidate,
            }
        )
    result.sort(key=lambda r: (not r["candidate"], -r["stat"].growth_30d))  # type: ignore[attr-defined]
    return result


def listings_due(*, now: dt.datetime) -> tuple[QuerySet[ChannelListing], QuerySet[ChannelListing]]:
    """(scheduled listings whose time has come, live listings whose delisting time has come)."""
    to_list = ChannelListing.objects.filter(status="scheduled", list_at__lte=now)
    to_delist = ChannelListing.objects.filter(status="live", delist_at__lte=now)
    return to_list, to_delist


def listings_held(*, store: Store) -> QuerySet[ChannelListing]:
    """Scheduled listings whose time has come but which wait for a valid qualification
    (STORE-02): the reason is on the listing."""
    return (
        ChannelListing.objects.filter(product__store=store, status=ListingStatus.SCHEDULED)
        .exclude(held_reason="")
        .select_related("product", "channel")
        .order_by("pk")
    )


PRODUCT_STATUS_CHOICES = ProductStatus.choices


def category_list(*, store: Store) -> QuerySet[Category]:
    return Category.objects.filter(store=store).order_by("code")


def listing_audit_get(*, store: Store, audit_id: int) -> ListingAudit:
    return get_or_not_found(
        ListingAudit.objects.select_related("product"),
        gettext_lazy("审核记录不存在"),
        pk=audit_id,
        product__store=store,
    )


def sku_get_by_id(*, store: Store, sku_id: int) -> Sku | None:
    """One of the store's SKUs by id, with its product (None: not the store's)."""
    return Sku.objects.filter(store=store, pk=sku_id).select_related("product").first()


def sku_get_by_code(*, store: Store, code: str) -> Sku | None:
    return Sku.objects.select_related("store", "product").filter(store=store, code=code).first()


def sku_shipping_facts(*, store: Store, codes: Iterable[str]) -> dict[str, tuple[int | None, bool]]:
    """``code → (weight in grams or None, fragile)`` of the store's SKUs among ``codes`` (the
    carrier choice of LOG-03); codes that are not the store's SKUs are left out."""
    wanted = sorted(set(codes))
    found: dict[str, tuple[int | None, bool]] = {}
    for start in range(0, len(wanted), 500):
        for code, grams, fragile in Sku.objects.filter(
            store=store, code__in=wanted[start : start + 500]
        ).values_list("code", "weight_g", "is_fragile"):
            found[code] = (grams, fragile)
    return found


def skus_by_id(*, store: Store, ids: list[int]) -> dict[int, Sku]:
    """The store's SKUs with these ids (one query), with their products."""
    return {s.pk: s for s in Sku.objects.filter(store=store, pk__in=ids).select_related("product")}


def catalog_links_by_code(*, store: Store, codes: list[str]) -> dict[str, tuple[int, int | None]]:
    """``code → (product id, SKU id)`` for the codes that are one of the store's SKU codes
    (its product too) or product codes (SKU None); a SKU code wins over a product code.
    Chunked queries, for linking imported behaviour events to the catalogue."""
    found: dict[str, tuple[int, int | None]] = {}
    if not codes or not Product.objects.filter(store=store).exists():
        return found
    unique = sorted(set(codes))
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        for code, product_id in Product.objects.filter(store=store, code__in=chunk).values_list("code", "pk"):
            found[code] = (product_id, None)
        for code, sku_id, product_id in Sku.objects.filter(store=store, code__in=chunk).values_list(
            "code", "pk", "product_id"
        ):
            found[code] = (product_id, sku_id)
    return found


# ---- recommendations (REC-01/02) ---------------------------------------------------------------


def product_category_ids(*, store: Store, product_ids: Iterable[int] | None = None) -> dict[int, int]:
    """Each product's category id (all the store's products, or only ``product_ids``)."""
    qs = Product.objects.filter(store=store)
    if product_ids is not None:
        qs = qs.filter(pk__in=list(product_ids))
    return dict(qs.values_list("pk", "category_id"))


def product_briefs(*, store: Store, product_ids: Iterable[int]) -> dict[int, tuple[str, str, str]]:
    """``{product id: (code, title, core word)}`` for these products (one query)."""
    rows = Product.objects.filter(store=store, pk__in=list(product_ids)).values_list(
        "pk", "code", "title", "core_word"
    )
    return {pk: (code, title, core) for pk, code, title, core in rows}


@dataclass(frozen=True, slots=True)
class SellableSku:
    sku_id: int
    code: str
    product_id: int
    price: Decimal


def sellable_skus(
    *, store: Store, product_ids: Iterable[int], channel_id: int | None = None
) -> list[SellableSku]:
    """Active SKUs of the listed products that are on sale (product ``live``; with a channel,
    listed live on that channel), cheapest first per product (one query)."""
    qs = Sku.objects.filter(
        store=store, product_id__in=list(product_ids), is_active=True, product__status=ProductStatus.LIVE
    )
    if channel_id is not None:
        qs = qs.filter(
            product__listings__channel_id=channel_id, product__listings__status=ListingStatus.LIVE
        ).distinct()
    rows = qs.order_by("product_id", "price", "code").values_list("pk", "code", "product_id", "price")
    return [SellableSku(pk, code, product_id, price) for pk, code, product_id, price in rows]
