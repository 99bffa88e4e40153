"""Reads of members (MEM-01/02/03/05) for the API, the console, checks and other apps.

``member_tier(store, customer_ref)`` is the one other apps need: the checkout passes it to
the promotion engine as ``Shopper.tier`` (MEM-01 tier prices); ``member_standing`` reads the
tier with the lifecycle segment (MEM-04: a high-value customer's order ships sooner) in the
same one query.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from storeops.catalog import selectors as catalog_selectors
from storeops.core.errors import NotFound
from storeops.inventory import selectors as inventory_selectors
from storeops.members import rules
from storeops.members.models import (
    BirthdayGift,
    EntryKind,
    Gender,
    LedgerEntry,
    Member,
    PointsReward,
    RewardKind,
    Tier,
    TierCouponGrant,
)
from storeops.promotions import selectors as promo_selectors
from storeops.stores.models import Store
from storeops.stores.playbook import PlaybookSettings

TIER_CHOICES = Tier.choices
GENDER_CHOICES = Gender.choices
ENTRY_KIND_CHOICES = EntryKind.choices
REWARD_KIND_CHOICES = RewardKind.choices
MONTHLY_TIER_RULE = "monthly_tier"  # promotions IssueRule values used here
REFERRAL_RULE = "referral"
BIRTHDAY_RULE = "birthday"
NEW_USER_RULE = "new_user"
HIGH_VALUE = "high_value"  # the lifecycle segment (MEM-04) on ``Member.segment``


def tier_label(tier: str) -> str:
    return str(Tier(tier).label) if tier in Tier.values else tier


def tier_policy(book: PlaybookSettings) -> rules.TierPolicy:
    return rules.TierPolicy(
        gold_growth=book.tier_gold_growth,
        diamond_growth=book.tier_diamond_growth,
        gold_min_orders=book.tier_gold_min_orders,
        diamond_min_orders=book.tier_diamond_min_orders,
    )


def member_tier(store: Store, customer_ref: str) -> str | None:
    """The customer's member tier (``silver`` / ``gold`` / ``diamond``), or None for a
    customer who is not a member. One indexed query (one row at most: no ordering, no join)."""
    return (
        Member.objects.filter(store=store, customer_ref=customer_ref)
        .order_by()
        .values_list("tier", flat=True)
        .first()
    )


def member_standing(store: Store, customer_ref: str) -> tuple[str, str] | None:
    """The customer's member tier and lifecycle segment (MEM-04, the latest snapshot's; "" when
    they were no buyer then) as ``(tier, segment)``, or None for a customer who is not a
    member — the checkout's one read of the member row (no ordering, no join)."""
    row = (
        Member.objects.filter(store=store, customer_ref=customer_ref)
        .order_by()
        .values_list("tier", "segment")
        .first()
    )
    return None if row is None else (row[0], row[1])


def member_is_high_value(store: Store, customer_ref: str) -> bool:
    """Whether the customer is a member in the high-value segment of the latest snapshot
    (MEM-04 dedicated service). A customer who is not a member is not."""
    return Member.objects.filter(store=store, customer_ref=customer_ref, segment=HIGH_VALUE).exists()


_TIERS_CHUNK = 500  # customer references per query (SQLite's variable limit)


def member_tiers(store: Store, customer_refs: Iterable[str]) -> dict[str, str]:
    """``{customer_ref: tier}`` of those of ``customer_refs`` who are members of ``store``
    (non-members are absent), for a whole imported file at once (MEM-01: the tier an imported
    order records). One query per 500 distinct references: one for most files."""
    refs = sorted({ref for ref in customer_refs if ref})
    tiers: dict[str, str] = {}
    for start in range(0, len(refs), _TIERS_CHUNK):
        rows = Member.objects.filter(store=store, customer_ref__in=refs[start : start + _TIERS_CHUNK])
        tiers.update(rows.order_by().values_list("customer_ref", "tier"))
    return tiers


REFERRED_FILTERS = ("yes", "no")  # member_list's ``referred``: joined with an invite code or not


def member_list(
    *,
    store: Store,
    q: str = "",
    tier: str = "",
    referred: str = "",
    customer_ref: str = "",
    birth_month: int | None = None,
) -> QuerySet[Member]:
    """Members of the store, newest first; ``q`` matches the customer reference, invite code
    or city; ``customer_ref`` is an exact match (an integration looking its customer up);
    ``referred`` = "yes" / "no" filters members who joined with a code; ``birth_month`` (1–12)
    the members whose birthday falls in that month."""
    qs = Member.objects.filter(store=store).select_related("referred_by")
    if birth_month is not None:
        qs = qs.filter(birth_month=birth_month)
    if customer_ref:
        qs = qs.filter(customer_ref=customer_ref.strip())
    q = q.strip()
    if q:
        qs = qs.filter(Q(customer_ref__icontains=q) | Q(invite_code__iexact=q) | Q(city__icontains=q))
    if tier:
        qs = qs.filter(tier=tier)
    if referred == "yes":
        qs = qs.filter(referred_by__isnull=False)
    elif referred == "no":
        qs = qs.filter(referred_by__isnull=True)
    return qs.order_by("-joined_at", "-pk")


def member_get(*, store: Store, member_id: int) -> Member:
    member = Member.objects.filter(store=store, pk=member_id).select_related("referred_by").first()
    if member is None:
        raise NotFound(_("会员不存在"))
    return member


def member_by_ref(*, store: Store, customer_ref: str) -> Member | None:
    return Member.objects.filter(store=store, customer_ref=customer_ref).first()


def member_ledger(*, member: Member, kind: str = "") -> QuerySet[LedgerEntry]:
    qs = LedgerEntry.objects.filter(member=member)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("-id")


def tier_counts(*, store: Store) -> dict[str, int]:
    rows = Member.objects.filter(store=store).values("tier").annotate(n=Count("id"))
    counts = dict.fromkeys(Tier.values, 0)
    counts.update({r["tier"]: r["n"] for r in rows})
    return counts


def joined_count(*, store: Store, start: dt.datetime, end: dt.datetime) -> int:
    """Customers of ``store`` who became members in [start, end) (PROMO-07's post-mortem:
    new users moved into membership during a campaign)."""
    return Member.objects.filter(store=store, joined_at__gte=start, joined_at__lt=end).count()


# --- MEM-07 personas: the optional profile ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MemberProfile:
    gender: str  # a GENDER_CHOICES code; "" when not given
    birth_year: int | None
    city: str


def member_profiles(*, store: Store, customer_refs: Iterable[str] | None = None) -> dict[str, MemberProfile]:
    """MEM-07 personas: the optional profile (gender, birth year, city) of the store's members,
    by customer reference; ``customer_refs`` limits it to those customers. One query."""
    qs = Member.objects.filter(store=store)
    if customer_refs is not None:
        qs = qs.filter(customer_ref__in=list(customer_refs))
    return {
        ref: MemberProfile(gender=gender or "", birth_year=birth_year, city=city or "")
        for ref, gender, birth_year, city in qs.order_by().values_list(
            "customer_ref", "gender", "birth_year", "city"
        )
    }


# --- referral (MEM-05) ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReferralStats:
    invited: int  # members who joined with an invite code
    rewarded: int  # of them, whose first paid order rewarded both sides
    pending: int  # invited, not rewarded yet
    top_inviters: list[dict[str, Any]]  # {"member_id", "customer_ref", "invited", "rewarded"}


def referral_stats(*, store: Store, limit: int = 20) -> ReferralStats:
    invited = Member.objects.filter(store=store, referred_by__isnull=False)
    total = invited.count()
    rewarded = invited.filter(referral_rewarded_at__isnull=False).count()
    top = (
        Member.objects.filter(store=store)
        .annotate(
            invited=Count("invitees"),
            rewarded=Count("invitees", filter=Q(invitees__referral_rewarded_at__isnull=False)),
        )
        .filter(invited__gt=0)
        .order_by("-invited", "-rewarded", "pk")[:limit]
    )
    return ReferralStats(
        invited=total,
        rewarded=rewarded,
        pending=total - rewarded,
        top_inviters=[
            {"member_id": m.pk, "customer_ref": m.customer_ref, "invited": m.invited, "rewarded": m.rewarded}
            for m in top
        ],
    )


def member_invitees(*, member: Member) -> QuerySet[Member]:
    return Member.objects.filter(referred_by=member).order_by("-joined_at", "-pk")


def referrals_pending_reward(*, store: Store) -> QuerySet[Member]:
    """Invited members with a paid order whose referral coupons are not issued yet."""
    return Member.objects.filter(
        store=store, referred_by__isnull=False, referral_rewarded_at__isnull=True, paid_orders__gt=0
    ).select_related("referred_by")


# --- coupon templates of the promotions app that members use --------------------------------------


@dataclass(frozen=True, slots=True)
class TemplateInfo:
    id: int
    name: str
    kind: str
    amount: Decimal
    threshold: Decimal
    issue_rule: str
    tier: str
    is_active: bool


def _info(t: Any) -> TemplateInfo:
    return TemplateInfo(
        id=t.pk,
        name=t.name,
        kind=t.kind,
        amount=t.amount,
        threshold=t.threshold,
        issue_rule=t.issue_rule,
        tier=t.tier,
        is_active=t.is_active,
    )


def coupon_templates(*, store: Store) -> dict[int, TemplateInfo]:
    """The store's coupon templates (through promotions.selectors), by id."""
    return {t.pk: _info(t) for t in promo_selectors.coupon_template_list(store=store)}


def active_templates_of_rule(*, store: Store, rule: str) -> list[TemplateInfo]:
    return [t for t in coupon_templates(store=store).values() if t.issue_rule == rule and t.is_active]


def templates_for_rewards(*, store: Store) -> list[TemplateInfo]:
    """Active no-threshold templates (cash offsets) not offered for points yet: what the
    console's "add a coupon reward" form offers (MEM-02)."""
    offered = set(
        PointsReward.objects.filter(store=store, coupon_template_id__isnull=False).values_list(
            "coupon_template_id", flat=True
        )
    )
    return [
        t
        for t in coupon_templates(store=store).values()
        if t.kind == "no_threshold" and t.is_active and t.id not in offered
    ]


# --- points rewards (MEM-02 cash offset and goods) -------------------------------------------------


@dataclass(frozen=True, slots=True)
class RewardGoods:
    sku_id: int
    code: str
    title: str
    price: Decimal  # the SKU's list price: what the goods are worth
    is_active: bool
    stock: int  # units available to reserve, all warehouses


@dataclass(frozen=True, slots=True)
class RewardRow:
    reward: PointsReward
    template: TemplateInfo | None  # coupon rewards
    points: int | None  # the points price; None when the template is gone
    goods: RewardGoods | None = None  # goods rewards

    @property
    def is_goods(self) -> bool:
        return self.reward.kind == RewardKind.GOODS

    @property
    def name(self) -> str:
        if self.goods is not None:
            return f"{self.goods.title} ({self.goods.code})"
        return self.template.name if self.template is not None else ""

    @property
    def amount(self) -> Decimal | None:
        """The coupon's face value, or the goods' list price."""
        if self.goods is not None:
            return self.goods.price
        return self.template.amount if self.template is not None else None

    @property
    def available(self) -> bool:
        if not self.reward.is_active:
            return False
        if self.is_goods:
            return self.goods is not None and self.goods.is_active and self.goods.stock > 0
        return self.template is not None and self.template.is_active


def reward_rows(
    *, store: Store, book: PlaybookSettings, active_only: bool = False, kind: str = ""
) -> list[RewardRow]:
    """The rewards catalogue with each item's points price; goods rewards with their SKU and
    the stock available to reserve (a fixed number of queries)."""
    qs = PointsReward.objects.filter(store=store)
    if active_only:
        qs = qs.filter(is_active=True)
    if kind:
        qs = qs.filter(kind=kind)
    rewards = list(qs.order_by("pk"))
    templates = coupon_templates(store=store) if any(r.kind == RewardKind.COUPON for r in rewards) else {}
    sku_ids = sorted({r.sku_id for r in rewards if r.kind == RewardKind.GOODS and r.sku_id is not None})
    skus = catalog_selectors.skus_by_id(store=store, ids=sku_ids) if sku_ids else {}
    stock = inventory_selectors.available_by_sku(sku_ids=sku_ids) if sku_ids else {}
    out = []
    for reward in rewards:
        if reward.kind == RewardKind.GOODS:
            sku = skus.get(reward.sku_id or 0)
            goods = (
                RewardGoods(
                    sku_id=sku.pk,
                    code=sku.code,
                    title=sku.product.title,
                    price=sku.price,
                    is_active=sku.is_active,
                    stock=stock.get(sku.pk, 0),
                )
                if sku is not None
                else None
            )
            out.append(RewardRow(reward=reward, template=None, points=reward.points_price, goods=goods))
            continue
        template = templates.get(reward.coupon_template_id or 0)
        points = (
            rules.offset_points(amount=template.amount, points_per_yuan=book.points_per_yuan_redeemed)
            if template is not None
            else None
        )
        out.append(RewardRow(reward=reward, template=template, points=points))
    return out


def sku_for_reward(*, store: Store, sku_id: int | None = None, sku_code: str = "") -> Any:
    """The store's SKU with this id (or else this code), with its product, or None."""
    if sku_id is None:
        code = (sku_code or "").strip()
        return catalog_selectors.sku_get_by_code(store=store, code=code) if code else None
    return catalog_selectors.skus_by_id(store=store, ids=[sku_id]).get(sku_id)


def reward_get(*, store: Store, reward_id: int) -> PointsReward:
    reward = PointsReward.objects.filter(store=store, pk=reward_id).first()
    if reward is None:
        raise NotFound(_("积分兑换项不存在"))
    return reward


# --- monthly tier coupons (MEM-03) -----------------------------------------------------------------


def month_key(at: dt.datetime) -> str:
    return timezone.localtime(at).strftime("%Y-%m")


def issue_moment(at: dt.datetime, issue_day: int) -> dt.datetime:
    """Start (local midnight) of the month's issue day of the month containing ``at``."""
    local = timezone.localtime(at)
    return local.replace(day=issue_day, hour=0, minute=0, second=0, microsecond=0)


def members_due_tier_coupons(*, store: Store, month: str, joined_before: dt.datetime) -> QuerySet[Member]:
    """Members who joined before the month's issue moment and have no grant for ``month``."""
    granted = TierCouponGrant.objects.filter(member__store=store, month=month).values("member_id")
    return Member.objects.filter(store=store, joined_at__lt=joined_before).exclude(pk__in=granted)


def grants_without_coupons(*, store: Store, month: str, tiers: Iterable[str]) -> int:
    """Grants of ``month`` that issued nothing to members of ``tiers`` (tiers that do have
    active monthly templates: a refused issuance, e.g. the template's per-user limit)."""
    return TierCouponGrant.objects.filter(
        member__store=store, month=month, tier__in=list(tiers), coupons=0
    ).count()


def member_grants(*, member: Member, limit: int = 12) -> list[TierCouponGrant]:
    return list(TierCouponGrant.objects.filter(member=member).order_by("-month")[:limit])


# --- birthday gifts (MEM-01) -----------------------------------------------------------------------


def _birthday_q(days: Iterable[tuple[int, int]]) -> Q:
    match = Q(pk__in=[])
    for month, day in days:
        match |= Q(birth_month=month, birth_day=day)
    return match


def _without_gift(members: Iterable[Member], dates: dict[tuple[int, int], dt.date]) -> list[Member]:
    """``members`` who have no gift for the year their birthday (its date in ``dates``) falls in."""
    rows = list(members)
    years = {d.year for d in dates.values()}
    given = set(
        BirthdayGift.objects.filter(member__in=[m.pk for m in rows], year__in=years).values_list(
            "member_id", "year"
        )
    )
    return [m for m in rows if (m.pk, dates[(m.birth_month, m.birth_day)].year) not in given]


def members_due_birthday_gift(
    *, store: Store, due: dict[tuple[int, int], dt.date]
) -> list[tuple[Member, dt.date]]:
    """Members whose birthday is one of ``due`` (:func:`rules.birthdays_due`) and who have no
    gift for that birthday's year yet, each with the birthday's date, in id order."""
    if not due:
        return []
    qs = Member.objects.filter(store=store).filter(_birthday_q(due)).order_by("pk")
    return [(m, due[(m.birth_month, m.birth_day)]) for m in _without_gift(qs, due)]


def members_missed_birthday_gift(
    *, store: Store, missed: dict[tuple[int, int], dt.date], days_before: int
) -> list[tuple[Member, dt.date]]:
    """Members whose birthday was one of ``missed`` (:func:`rules.birthdays_missed`), whose
    birthday was known before its gift window opened (``days_before`` days ahead, local
    midnight) and who got no gift for it: a gift the daily issuance failed to give."""
    if not missed:
        return []
    qs = Member.objects.filter(store=store, birthday_set_at__isnull=False).filter(_birthday_q(missed))
    out = []
    for m in _without_gift(qs.order_by("pk"), missed):
        birthday = missed[(m.birth_month, m.birth_day)]
        opens = timezone.make_aware(dt.datetime.combine(birthday - dt.timedelta(days=days_before), dt.time()))
        if m.birthday_set_at is not None and m.birthday_set_at < opens:
            out.append((m, birthday))
    return out


def birthday_gift_list(*, store: Store, year: int | None = None, q: str = "") -> QuerySet[BirthdayGift]:
    """The store's birthday gifts, newest first; ``q`` matches the customer reference."""
    qs = BirthdayGift.objects.filter(member__store=store).select_related("member")
    if year is not None:
        qs = qs.filter(year=year)
    if q.strip():
        qs = qs.filter(member__customer_ref__icontains=q.strip())
    return qs.order_by("-issued_at", "-pk")


def member_birthday_gifts(*, member: Member, limit: int = 10) -> list[BirthdayGift]:
    return list(BirthdayGift.objects.filter(member=member).order_by("-year")[:limit])


def birthdays_in_month(*, store: Store, month: int) -> int:
    return Member.objects.filter(store=store, birth_month=month).count()
