"""Members (MEM-01/02/05): one per (store, customer reference), their append-only points and
growth-value ledger, the points rewards catalogue (coupons and goods), the monthly
tier-coupon grants (MEM-03) and the yearly birthday gifts (MEM-01).

A member's ``points_balance`` and ``growth_value`` are only ever changed together with a
ledger line by :mod:`storeops.members.services` (one conditional UPDATE each, so two
concurrent redemptions cannot overdraw): check constraints keep both at zero or above, and
each ledger line records the balances after it. The ledger refuses update and delete.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from storeops.analytics.models import SegmentChoice
from storeops.catalog.models import Sku
from storeops.members.rules import Tier as TierValue
from storeops.stores.models import Store


class Tier(models.TextChoices):
    SILVER = TierValue.SILVER.value, _("银卡")
    GOLD = TierValue.GOLD.value, _("金卡")
    DIAMOND = TierValue.DIAMOND.value, _("钻石卡")


class Gender(models.TextChoices):
    UNKNOWN = "", _("未填写")
    FEMALE = "female", _("女")
    MALE = "male", _("男")
    OTHER = "other", _("其他")


class Member(models.Model):
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+", verbose_name=_("店铺"))
    customer_ref = models.CharField(_("顾客"), max_length=64)
    tier = models.CharField(_("会员等级"), max_length=10, choices=Tier.choices, default=Tier.SILVER)
    growth_value = models.BigIntegerField(_("成长值"), default=0)
    points_balance = models.BigIntegerField(_("积分余额"), default=0)
    paid_orders = models.PositiveIntegerField(_("付款订单数"), default=0)  # earned and not fully refunded
    joined_at = models.DateTimeField(_("入会时间"), default=timezone.now, db_index=True)
    tier_changed_at = models.DateTimeField(_("等级变更时间"), null=True, blank=True)
    invite_code = models.CharField(_("邀请码"), max_length=16)
    referred_by = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invitees",
        verbose_name=_("邀请人"),
    )
    referral_rewarded_at = models.DateTimeField(_("邀请奖励发放时间"), null=True, blank=True)
    referral_order = models.CharField(_("邀请奖励订单"), max_length=64, blank=True)
    # optional profile (personas, MEM-07, are built elsewhere)
    gender = models.CharField(_("性别"), max_length=10, choices=Gender.choices, blank=True, default="")
    birth_year = models.PositiveSmallIntegerField(_("出生年份"), null=True, blank=True)
    # the birthday (MEM-01 birthday gift): month and day, both or neither; when it was last set
    # (a birthday told after its gift window is not a missed gift)
    birth_month = models.PositiveSmallIntegerField(_("生日（月）"), null=True, blank=True)
    birth_day = models.PositiveSmallIntegerField(_("生日（日）"), null=True, blank=True)
    birthday_set_at = models.DateTimeField(_("生日登记时间"), null=True, blank=True)
    city = models.CharField(_("城市"), max_length=50, blank=True)
    # MEM-04: the member's lifecycle segment on the latest daily snapshot ("" = not a buyer
    # then), copied here by the snapshot so the checkout reads it with the tier (one row)
    segment = models.CharField(
        _("客户分层"), max_length=20, choices=SegmentChoice.choices, blank=True, default=""
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("会员")
        verbose_name_plural = _("会员")
        ordering = ("store", "-joined_at", "-pk")
        permissions = [
            ("adjust_points", _("调整积分（限额内）")),
            ("adjust_points_any", _("调整积分（不限额）")),
            ("redeem_points", _("积分兑换")),
        ]
        indexes = [
            models.Index(fields=("store", "tier"), name="member_store_tier"),
            models.Index(fields=("store", "birth_month", "birth_day"), name="member_store_birthday"),
        ]
        constraints = [
            models.UniqueConstraint(fields=("store", "customer_ref"), name="member_one_per_customer"),
            models.UniqueConstraint(fields=("store", "invite_code"), name="member_invite_code_unique"),
            models.CheckConstraint(condition=Q(points_balance__gte=0), name="member_points_non_negative"),
            models.CheckConstraint(condition=Q(growth_value__gte=0), name="member_growth_non_negative"),
            models.CheckConstraint(condition=~Q(referred_by=F("pk")), name="member_not_self_referred"),
            models.CheckConstraint(
                condition=Q(birth_year__isnull=True) | Q(birth_year__gte=1900, birth_year__lte=2100),
                name="member_birth_year_plausible",
            ),
            models.CheckConstraint(
                condition=Q(birth_month__isnull=True, birth_day__isnull=True)
                | Q(birth_month__gte=1, birth_month__lte=12, birth_day__gte=1, birth_day__lte=31),
                name="member_birthday_plausible",
            ),
        ]

    def __str__(self) -> str:
        return self.customer_ref


class EntryKind(models.TextChoices):
    EARN = "earn", _("消费获得")
    REVERSE = "reverse", _("退款扣回")
    REDEEM = "redeem", _("积分兑换")
    RESTORE = "restore", _("兑换退回")  # a goods redemption's order cancelled or closed
    ADJUST = "adjust", _("人工调整")


class LedgerQuerySet(models.QuerySet["LedgerEntry"]):
    """The ledger is append-only: lines are never edited or deleted."""

    def update(self, **kwargs: object) -> int:
        raise TypeError("the points ledger is append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("the points ledger is append-only")


class LedgerEntry(models.Model):
    """One change of a member's points and/or growth value, and the balances after it."""

    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="ledger", verbose_name=_("会员")
    )
    kind = models.CharField(_("类型"), max_length=10, choices=EntryKind.choices)
    points = models.BigIntegerField(_("积分变化"), default=0)
    growth = models.BigIntegerField(_("成长值变化"), default=0)
    points_after = models.BigIntegerField(_("变动后积分"))
    growth_after = models.BigIntegerField(_("变动后成长值"))
    # what it is for: the order id (earn), the refund reference (reverse), a redemption key
    source_ref = models.CharField(_("来源"), max_length=64, blank=True)
    order_number = models.CharField(_("订单号"), max_length=64, blank=True)
    amount = models.DecimalField(_("金额"), max_digits=14, decimal_places=2, null=True, blank=True)
    multiplier = models.PositiveSmallIntegerField(_("倍数"), default=1)
    shortfall = models.BigIntegerField(_("未能扣回积分"), default=0)  # reversal beyond the balance
    coupon_code = models.CharField(_("券码"), max_length=32, blank=True)
    reason = models.CharField(_("原因"), max_length=200, blank=True)
    actor_label = models.CharField(_("操作人"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    objects = LedgerQuerySet.as_manager()

    class Meta:
        verbose_name = _("积分流水")
        verbose_name_plural = _("积分流水")
        ordering = ("-created_at", "-pk")
        indexes = [models.Index(fields=("member", "-id"), name="ledger_member_id")]
        constraints = [
            # re-running the order sync never credits or reverses twice
            models.UniqueConstraint(
                fields=("member", "kind", "source_ref"),
                condition=~Q(source_ref=""),
                name="ledger_once_per_source",
            ),
            models.CheckConstraint(condition=Q(points_after__gte=0), name="ledger_points_after_non_negative"),
            models.CheckConstraint(condition=Q(growth_after__gte=0), name="ledger_growth_after_non_negative"),
            models.CheckConstraint(condition=Q(shortfall__gte=0), name="ledger_shortfall_non_negative"),
            models.CheckConstraint(
                condition=(
                    Q(kind="earn", points__gte=0, growth__gte=0)
                    | Q(kind="reverse", points__lte=0, growth__lte=0)
                    | Q(kind="redeem", points__lt=0, growth=0)
                    | Q(kind="restore", points__gt=0, growth=0)
                    | (Q(kind="adjust") & (~Q(points=0) | ~Q(growth=0)))
                ),
                name="ledger_sign_follows_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.points:+d} @member {self.member_id}"


class RewardKind(models.TextChoices):
    COUPON = "coupon", _("抵现券")
    GOODS = "goods", _("实物商品")


class PointsReward(models.Model):
    """An item of the points catalogue (MEM-02), one of two kinds:

    * ``coupon`` (cash offset): a no-threshold coupon template of the promotions app; its
      points price is the template's face value × the playbook's points per yuan, and the
      coupon is issued by :func:`storeops.promotions.services.coupon_issue`;
    * ``goods``: a SKU of the store at a points price set by staff; taking it places a paid
      order with nothing to pay (:mod:`storeops.orders.redemptions`) that reserves and ships
      the goods like any order.
    """

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+", verbose_name=_("店铺"))
    kind = models.CharField(_("类型"), max_length=10, choices=RewardKind.choices, default=RewardKind.COUPON)
    coupon_template_id = models.PositiveIntegerField(_("优惠券模板"), null=True, blank=True)
    sku = models.ForeignKey(
        Sku, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("兑换商品")
    )
    points_price = models.PositiveIntegerField(_("所需积分"), null=True, blank=True)  # goods only
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("积分兑换项")
        verbose_name_plural = _("积分兑换项")
        ordering = ("store", "pk")
        constraints = [
            models.UniqueConstraint(fields=("store", "coupon_template_id"), name="points_reward_once"),
            models.CheckConstraint(
                condition=(
                    Q(
                        kind="coupon",
                        coupon_template_id__isnull=False,
                        sku__isnull=True,
                        points_price__isnull=True,
                    )
                    | Q(kind="goods", coupon_template_id__isnull=True, sku__isnull=False, points_price__gte=1)
                ),
                name="points_reward_fields_follow_kind",
            ),
        ]

    def __str__(self) -> str:
        if self.kind == RewardKind.GOODS:
            return f"reward sku {self.sku_id} @{self.points_price}"
        return f"reward {self.coupon_template_id}"


class TierCouponGrant(models.Model):
    """A member's monthly tier coupons (MEM-03): one row per member and month, written when
    the month's issuance reached them (``coupons`` may be 0 when their tier has none)."""

    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="tier_grants", verbose_name=_("会员")
    )
    month = models.CharField(_("月份"), max_length=7)  # "2026-12"
    tier = models.CharField(_("会员等级"), max_length=10, choices=Tier.choices)
    coupons = models.PositiveSmallIntegerField(_("发券数"), default=0)
    codes = models.JSONField(_("券码"), default=list, blank=True)
    issued_at = models.DateTimeField(_("发放时间"), default=timezone.now)

    class Meta:
        verbose_name = _("会员月度券发放")
        verbose_name_plural = _("会员月度券发放")
        ordering = ("-month", "member")
        constraints = [models.UniqueConstraint(fields=("member", "month"), name="tier_grant_once_a_month")]

    def __str__(self) -> str:
        return f"{self.member_id} {self.month}"


class BirthdayGift(models.Model):
    """A member's birthday gift (MEM-01): one row per member and birthday year, written when the
    gift reached them (``coupons`` may be 0 when no active birthday template fits their tier)."""

    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="birthday_gifts", verbose_name=_("会员")
    )
    year = models.PositiveSmallIntegerField(_("年份"))
    birthday = models.DateField(_("生日"))  # the date it fell on that year
    tier = models.CharField(_("会员等级"), max_length=10, choices=Tier.choices)
    coupons = models.PositiveSmallIntegerField(_("发券数"), default=0)
    codes = models.JSONField(_("券码"), default=list, blank=True)
    issued_at = models.DateTimeField(_("发放时间"), default=timezone.now)

    class Meta:
        verbose_name = _("会员生日礼")
        verbose_name_plural = _("会员生日礼")
        ordering = ("-issued_at", "-pk")
        constraints = [models.UniqueConstraint(fields=("member", "year"), name="birthday_gift_once_a_year")]

    def __str__(self) -> str:
        return f"{self.member_id} {self.year}"
