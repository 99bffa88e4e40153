"""MEM-04 lifecycle segments with RFM scores, and MEM-07 personas: the reads.

Segments are computed from the paid orders (``orders.selectors.customer_order_facts``) by the
pure :func:`storeops.analytics.rules.rfm_segments`, with the playbook's thresholds; the daily
snapshot (:class:`CustomerSnapshot`, written by ``services.segments_snapshot``) keeps each
buyer's segment and scores per day, so lists are paginated reads and the day's moves between
segments a grouped count.

Personas describe a customer or a whole segment: purchase frequency, AOV, preferred
categories, price sensitivity (discount depth, share of spend on discounted orders) and
region — province and city only (DATA-09 / RISK-05: no names, phones or streets) — and the
demographics of the members among them (gender split, age bands from the birth year at the
persona's date, top cities of their member profile), with how many customers each figure
covers: the profile is optional, so the known are the base of the shares and the unknown are
counted apart.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, F, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from storeops.analytics import rules
from storeops.analytics.models import CustomerSnapshot, SegmentAction, SegmentChoice
from storeops.catalog import selectors as catalog_selectors
from storeops.core.errors import NotFound, ValidationError
from storeops.members import selectors as member_selectors
from storeops.orders import selectors as order_selectors
from storeops.stores.models import Store
from storeops.stores.playbook import PlaybookSettings
from storeops.stores.selectors import playbook_get

SEGMENT_CHOICES = SegmentChoice.choices
SEGMENT_LABELS = dict(SegmentChoice.choices)
# What each segment's playbook asks for (MEM-04); which of it StoreOps does is in ``built``.
SEGMENT_PLAYBOOK = {
    "new": {
        "actions": [gettext_lazy("首单优惠"), gettext_lazy("新客券")],
        "coupon_setting": "segment_coupon_new",
    },
    "active": {
        "actions": [gettext_lazy("每周秒杀"), gettext_lazy("抽奖")],
        "coupon_setting": "segment_coupon_active",
    },
    "high_value": {
        "actions": [gettext_lazy("专属客服"), gettext_lazy("优先发货")],
        "coupon_setting": "segment_coupon_high_value",
    },
    "sleeping": {
        "actions": [gettext_lazy("召回消息")],
        "coupon_setting": "segment_coupon_sleeping",
    },
}
SORT_CHOICES = {
    "monetary": ("-monetary", "customer_ref"),
    "recency": ("recency_days", "customer_ref"),
    "frequency": ("-frequency", "-monetary", "customer_ref"),
    "customer": ("customer_ref",),
}


def _day_end(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time()))


def segment_policy(book: PlaybookSettings) -> rules.SegmentPolicy:
    return rules.SegmentPolicy(
        new_days=book.segment_new_days,
        sleeping_days=book.segment_sleeping_days,
        high_value_top_share=book.segment_high_value_top_share,
        high_value_min_amount=book.segment_high_value_min_amount,
    )


def segments_compute(
    *, store: Store, day: dt.date, book: PlaybookSettings | None = None
) -> list[rules.CustomerRfm]:
    """Every buyer's segment and RFM scores at the end of ``day`` (orders paid up to then;
    frequency and money over the playbook's ``rfm_window_days``)."""
    book = book or playbook_get(store=store)
    until = _day_end(day)
    since = until - dt.timedelta(days=book.rfm_window_days)
    tz = timezone.get_current_timezone()
    facts = [
        rules.CustomerFacts(
            customer_ref=f.customer_ref,
            first_paid=timezone.localtime(f.first_paid_at, tz).date(),
            last_paid=timezone.localtime(f.last_paid_at, tz).date(),
            frequency=f.orders,
            monetary=f.paid,
        )
        for f in order_selectors.customer_order_facts(store, since=since, until=until)
    ]
    return rules.rfm_segments(facts, today=day, policy=segment_policy(book))


# --- the snapshot ---------------------------------------------------------------------------------


def snapshot_latest_day(*, store: Store, on_or_before: dt.date | None = None) -> dt.date | None:
    qs = CustomerSnapshot.objects.filter(store=store)
    if on_or_before is not None:
        qs = qs.filter(day__lte=on_or_before)
    return qs.order_by("-day").values_list("day", flat=True).first()


def snapshot_previous_day(*, store: Store, day: dt.date) -> dt.date | None:
    return (
        CustomerSnapshot.objects.filter(store=store, day__lt=day)
        .order_by("-day")
        .values_list("day", flat=True)
        .first()
    )


def _resolve_day(store: Store, day: dt.date | None) -> dt.date:
    found = snapshot_latest_day(store=store, on_or_before=day)
    if found is None:
        raise NotFound(_("还没有客户分层快照：请先生成"))
    return found


@dataclass(frozen=True, slots=True)
class SegmentRow:
    segment: str
    label: str
    customers: int
    monetary: Decimal
    entered: int  # came into the segment since the snapshot before
    left: int  # were in it on the snapshot before and are elsewhere now
    actions: list[str]


@dataclass(frozen=True, slots=True)
class SegmentOverview:
    day: dt.date
    previous_day: dt.date | None
    customers: int
    segments: list[SegmentRow]
    moves: list[tuple[str, str, int]]  # (from, to, customers); "" = first snapshot of the buyer


def segment_overview(*, store: Store, day: dt.date | None = None) -> SegmentOverview:
    """Customers and money per segment on the snapshot ``day`` (default: the latest), and the
    moves since the snapshot before."""
    day = _resolve_day(store, day)
    qs = CustomerSnapshot.objects.filter(store=store, day=day)
    counts = {
        r["segment"]: (r["n"], Decimal(r["m"] or 0).quantize(Decimal("0.01")))
        for r in qs.values("segment").annotate(n=Count("id"), m=Sum("monetary")).order_by()
    }
    moves_rows = (
        qs.exclude(segment=F("previous_segment"))
        .values("previous_segment", "segment")
        .annotate(n=Count("id"))
        .order_by("previous_segment", "segment")
    )
    moves = [(r["previous_segment"], r["segment"], r["n"]) for r in moves_rows]
    previous_day = snapshot_previous_day(store=store, day=day)
    left: Counter[str] = Counter()
    entered: Counter[str] = Counter()
    for before, after, n in moves:
        entered[after] += n
        if before:
            left[before] += n
    if previous_day is not None:  # buyers who vanished from the snapshot (all refunded, say)
        gone = CustomerSnapshot.objects.filter(store=store, day=previous_day).exclude(
            customer_ref__in=qs.values("customer_ref")
        )
        for r in gone.values("segment").annotate(n=Count("id")).order_by():
            left[r["segment"]] += r["n"]
    rows = [
        SegmentRow(
            segment=s.value,
            label=str(SEGMENT_LABELS[s.value]),
            customers=counts.get(s.value, (0, Decimal("0.00")))[0],
            monetary=counts.get(s.value, (0, Decimal("0.00")))[1],
            entered=entered[s.value],
            left=left[s.value],
            actions=[str(a) for a in SEGMENT_PLAYBOOK[s.value]["actions"]],
        )
        for s in rules.SEGMENTS
    ]
    return SegmentOverview(
        day=day,
        previous_day=previous_day,
        customers=sum(r.customers for r in rows),
        segments=rows,
        moves=moves,
    )


def segment_customers(
    *, store: Store, segment: str = "", day: dt.date | None = None, sort: str = "monetary", q: str = ""
) -> QuerySet[CustomerSnapshot]:
    """The snapshot rows of ``day`` (default: the latest), one segment or all, sorted."""
    errors = {}
    if segment and segment not in SegmentChoice.values:
        errors["segment"] = _("未知的客户分层")
    if sort not in SORT_CHOICES:
        errors["sort"] = _("只能是 monetary / recency / frequency / customer")
    if errors:
        raise ValidationError(_("筛选条件有误"), fields=errors)
    day = _resolve_day(store, day)
    qs = CustomerSnapshot.objects.filter(store=store, day=day)
    if segment:
        qs = qs.filter(segment=segment)
    if q.strip():
        qs = qs.filter(customer_ref__icontains=q.strip())
    return qs.order_by(*SORT_CHOICES[sort])


def customer_history(*, store: Store, customer_ref: str, limit: int = 30) -> list[CustomerSnapshot]:
    """The customer's latest snapshots, newest first (how their segment moved)."""
    return list(
        CustomerSnapshot.objects.filter(store=store, customer_ref=customer_ref).order_by("-day")[:limit]
    )


def segment_actions(*, store: Store, segment: str = "") -> QuerySet[SegmentAction]:
    qs = SegmentAction.objects.filter(store=store)
    if segment:
        qs = qs.filter(segment=segment)
    return qs.order_by("-created_at", "-id")


# --- MEM-07: personas -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PersonaView:
    subject: str  # a customer ref or a segment code
    customers: int
    orders: int
    paid: Decimal
    orders_per_month: Decimal | None
    aov: Decimal | None
    discount_depth: Decimal | None
    discounted_share: Decimal | None
    price_sensitive: bool | None
    categories: list[tuple[str, Decimal]]  # (category name, share of spend)
    regions: list[tuple[str, Decimal]]  # ("浙江省 杭州市", share of customers)
    segment: str  # the customer's segment on the latest snapshot ("" for a segment persona)
    rfm: str
    since: dt.date
    until: dt.date
    # of the members among ``customers`` (MEM-07); none known by default
    demographics: rules.Demographics = field(
        default_factory=lambda: rules.demographics([], year=1, genders=[])
    )

    @property
    def demographics_available(self) -> bool:  # some customer has gender, birth year or city
        return self.demographics.available


def _persona_window(book: PlaybookSettings, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    until = _day_end(day)
    return until - dt.timedelta(days=book.persona_window_days), until


def _category_names(store: Store) -> dict[int, str]:
    return dict(catalog_selectors.category_list(store=store).values_list("pk", "name"))


def _build(
    *,
    subject: str,
    facts: list[order_selectors.CustomerOrderFacts],
    spend: dict[str, dict[int, Decimal]],
    regions: dict[str, tuple[str, str]],
    profiles: dict[str, member_selectors.MemberProfile],
    names: dict[int, str],
    book: PlaybookSettings,
    since: dt.datetime,
    until: dt.datetime,
    segment: str = "",
    rfm: str = "",
) -> PersonaView:
    tz = timezone.get_current_timezone()
    in_window = [f for f in facts if f.orders > 0 or f.paid != 0]
    since_day = timezone.localtime(since, tz).date()
    until_day = timezone.localtime(until, tz).date()
    sensitive = book.persona_price_sensitive_share

    def one(rows: list[order_selectors.CustomerOrderFacts]) -> rules.PersonaFacts:
        return rules.PersonaFacts(
            customers=len(rows),
            orders=sum(f.orders for f in rows),
            paid=sum((f.paid for f in rows), Decimal(0)),
            list_total=sum((f.list_total for f in rows), Decimal(0)),
            discounted_paid=sum((f.discounted_paid for f in rows), Decimal(0)),
            first_paid=min(timezone.localtime(f.first_paid_at, tz).date() for f in rows),
            last_paid=max(timezone.localtime(f.last_paid_at, tz).date() for f in rows),
        )

    aggregate = one(in_window) if in_window else None
    if aggregate is None:
        p = rules.Persona(None, None, None, None, None)
    else:
        p = rules.persona(aggregate, since=since_day, until=until_day, sensitive_share=sensitive)
        # frequency is per customer, each from their own first order in the window: the mean
        rates = [
            rules.persona(
                one([f]), since=since_day, until=until_day, sensitive_share=sensitive
            ).orders_per_month
            for f in in_window
        ]
        known = [r for r in rates if r is not None]
        mean = (sum(known, Decimal(0)) / len(known)).quantize(Decimal("0.01")) if known else None
        p = rules.Persona(mean, p.aov, p.discount_depth, p.discounted_share, p.price_sensitive)
    by_category: dict[str, Decimal] = {}
    for f in in_window:
        for category_id, amount in spend.get(f.customer_ref, {}).items():
            name = names.get(category_id, str(category_id))
            by_category[name] = by_category.get(name, Decimal(0)) + amount
    places = Counter(
        " ".join(x for x in regions[f.customer_ref] if x) for f in in_window if f.customer_ref in regions
    )
    n = sum(places.values())
    region_shares = [
        (place, (Decimal(c) / n).quantize(Decimal("0.0001")))
        for place, c in sorted(places.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    ]
    return PersonaView(
        subject=subject,
        customers=aggregate.customers if aggregate else 0,
        orders=aggregate.orders if aggregate else 0,
        paid=aggregate.paid if aggregate else Decimal(0),
        orders_per_month=p.orders_per_month,
        aov=p.aov,
        discount_depth=p.discount_depth,
        discounted_share=p.discounted_share,
        price_sensitive=p.price_sensitive,
        categories=rules.top_shares(by_category, book.persona_top_categories),
        regions=region_shares,
        segment=segment,
        rfm=rfm,
        since=since_day,
        until=until_day,
        demographics=_demographics(in_window, profiles, until_day),
    )


GENDER_CODES = [code for code, _label in member_selectors.GENDER_CHOICES if code]
GENDER_LABELS = dict(member_selectors.GENDER_CHOICES)
# MEM-07: the age bands as shown (rules.AGE_BANDS codes)
AGE_BAND_LABELS = {
    "<18": gettext_lazy("18岁以下"),
    "18-24": gettext_lazy("18–24岁"),
    "25-29": gettext_lazy("25–29岁"),
    "30-34": gettext_lazy("30–34岁"),
    "35-39": gettext_lazy("35–39岁"),
    "40-49": gettext_lazy("40–49岁"),
    "50+": gettext_lazy("50岁及以上"),
}
TOP_CITIES = 5


def _demographics(
    facts: list[order_selectors.CustomerOrderFacts],
    profiles: dict[str, member_selectors.MemberProfile],
    day: dt.date,
) -> rules.Demographics:
    """Gender, age band (in ``day``'s year) and city of the persona's customers that are
    members with a profile; the rest are counted as unknown."""
    return rules.demographics(
        [
            rules.Profile(gender=p.gender, birth_year=p.birth_year, city=p.city)
            if (p := profiles.get(f.customer_ref)) is not None
            else None
            for f in facts
        ],
        year=day.year,
        genders=GENDER_CODES,
        top_cities=TOP_CITIES,
    )


def customer_persona(*, store: Store, customer_ref: str, day: dt.date | None = None) -> PersonaView:
    """One customer's persona over the playbook's ``persona_window_days`` to ``day``."""
    ref = (customer_ref or "").strip()
    if not ref or len(ref) > 64:
        raise ValidationError(_("请填写有效的顾客编号"), fields={"customer": _("1–64 个字符")})
    book = playbook_get(store=store)
    day = day or timezone.localdate()
    since, until = _persona_window(book, day)
    facts = order_selectors.customer_order_facts(store, since=since, until=until, customer_refs=[ref])
    if not facts:
        raise NotFound(_("该顾客没有已付款订单：%(c)s") % {"c": ref})
    latest = (
        CustomerSnapshot.objects.filter(store=store, customer_ref=ref, day__lte=day).order_by("-day").first()
    )
    return _build(
        subject=ref,
        facts=facts,
        spend=order_selectors.customer_category_spend(store, since=since, until=until, customer_refs=[ref]),
        regions=order_selectors.customer_regions(store, until=until, customer_refs=[ref]),
        profiles=member_selectors.member_profiles(store=store, customer_refs=[ref]),
        names=_category_names(store),
        book=book,
        since=since,
        until=until,
        segment=latest.segment if latest else "",
        rfm=f"{latest.r_score}{latest.f_score}{latest.m_score}" if latest else "",
    )


def segment_personas(*, store: Store, day: dt.date | None = None) -> list[PersonaView]:
    """The persona of each segment on the snapshot ``day`` (default: the latest): three grouped
    reads over the store's orders and one of the members' profiles, split by the snapshot's
    segments."""
    day = _resolve_day(store, day)
    book = playbook_get(store=store)
    since, until = _persona_window(book, day)
    members: dict[str, str] = dict(
        CustomerSnapshot.objects.filter(store=store, day=day).values_list("customer_ref", "segment")
    )
    facts = order_selectors.customer_order_facts(store, since=since, until=until)
    spend = order_selectors.customer_category_spend(store, since=since, until=until)
    regions = order_selectors.customer_regions(store, until=until)
    profiles = member_selectors.member_profiles(store=store)
    names = _category_names(store)
    return [
        _build(
            subject=s.value,
            facts=[f for f in facts if members.get(f.customer_ref) == s.value],
            spend=spend,
            regions=regions,
            profiles=profiles,
            names=names,
            book=book,
            since=since,
            until=until,
        )
        for s in rules.SEGMENTS
    ]


def customer_regions(*, store: Store, refs: list[str], day: dt.date | None) -> dict[str, tuple[str, str]]:
    """Province and city of each customer's latest paid order up to ``day`` (for exports)."""
    if not refs:
        return {}
    return order_selectors.customer_regions(
        store, until=_day_end(day or timezone.localdate()), customer_refs=refs
    )
