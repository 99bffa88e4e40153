"""Recommendation tables (SOP REC-01): each rebuild is a :class:`NeighbourBuild`; its rows are
:class:`ItemNeighbour` (store, product, neighbour, kind, score, rank, built_at).

Readers only ever read the rows of the store's one ``current`` build (a partial unique index
allows one per store). A rebuild writes its rows under a new ``building`` build, invisible to
readers however long it takes, then flips the two builds in one short transaction: readers
see the old table or the new one, never half of one."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from storeops.catalog.models import Product
from storeops.stores.models import Store


class NeighbourKind(models.TextChoices):
    SIMILAR = "similar", _("相似商品")
    COMPLEMENTARY = "complementary", _("搭配商品")


class BuildStatus(models.TextChoices):
    BUILDING = "building", _("构建中")
    CURRENT = "current", _("当前")
    SUPERSEDED = "superseded", _("已替换")
    FAILED = "failed", _("失败")


class NeighbourBuild(models.Model):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+", verbose_name=_("店铺"))
    status = models.CharField(
        _("状态"), max_length=20, choices=BuildStatus.choices, default=BuildStatus.BUILDING
    )
    started_at = models.DateTimeField(_("开始时间"), default=timezone.now)
    built_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    via = models.CharField(_("触发方式"), max_length=20)  # console / api / token / cli / task
    actor_label = models.CharField(_("操作人"), max_length=150)
    settings = models.JSONField(_("参数"), default=dict, blank=True)  # the playbook numbers used
    interactions = models.PositiveIntegerField(_("行为数"), default=0)
    users = models.PositiveIntegerField(_("顾客数"), default=0)
    baskets = models.PositiveIntegerField(_("订单数"), default=0)
    products = models.PositiveIntegerField(_("商品数"), default=0)
    similar_rows = models.PositiveIntegerField(_("相似推荐条数"), default=0)
    complementary_rows = models.PositiveIntegerField(_("搭配推荐条数"), default=0)
    seconds = models.FloatField(_("耗时（秒）"), default=0)
    error = models.CharField(_("错误"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("推荐构建")
        verbose_name_plural = _("推荐构建")
        ordering = ("-started_at", "-id")
        permissions = [("rebuild_neighbours", _("重建商品推荐"))]
        constraints = [
            models.UniqueConstraint(
                fields=("store",), condition=Q(status="current"), name="neighbour_build_one_current"
            )
        ]
        indexes = [models.Index(fields=("store", "status"), name="neighbour_build_store_status")]

    def __str__(self) -> str:
        return f"{self.store_id} #{self.pk} {self.status}"


class ItemNeighbour(models.Model):
    build = models.ForeignKey(NeighbourBuild, on_delete=models.CASCADE, related_name="+")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+", verbose_name=_("店铺"))
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+", verbose_name=_("商品"))
    neighbour = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="+", verbose_name=_("推荐商品")
    )
    kind = models.CharField(_("推荐类型"), max_length=20, choices=NeighbourKind.choices)
    score = models.FloatField(_("得分"))
    support = models.PositiveIntegerField(_("共现次数"))
    rank = models.PositiveSmallIntegerField(_("排名"))
    built_at = models.DateTimeField(_("构建时间"))

    class Meta:
        verbose_name = _("商品推荐")
        verbose_name_plural = _("商品推荐")
        ordering = ("build", "product", "kind", "rank")
        constraints = [
            models.UniqueConstraint(fields=("build", "product", "kind", "rank"), name="neighbour_rank_once"),
            models.CheckConstraint(condition=~Q(product=models.F("neighbour")), name="neighbour_not_itself"),
            models.CheckConstraint(condition=Q(score__gt=0) & Q(score__lte=1), name="neighbour_score_in_0_1"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} → {self.neighbour_id} ({self.kind} #{self.rank})"
