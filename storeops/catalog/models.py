"""Catalog data: categories, tags, products/SKUs, images and documents, listing audits,
channel listings, the banned-word list, daily sales stats, suppliers and market data.

State changes go through :mod:`storeops.catalog.services` (atomic, audited). Prices of SKUs
change only through :func:`storeops.pricing.services.price_set` (SOP PRICE-03).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from storeops.stores.models import Channel, QualificationKind, Store

MONEY = {"max_digits": 14, "decimal_places": 2}


class Category(models.Model):
    """A node of the store's category tree with its listing requirements.

    ``required_qualifications`` (STORE-03) are :class:`QualificationKind` values the store
    must hold valid documents for; ``required_parameters`` (LIST-04) the keys the parameter
    table must fill; ``attribute_words`` / ``scene_words`` (LIST-01, SEL-04) the title
    vocabularies.
    """

    store = models.ForeignKey(
        Store, on_delete=models.PROTECT, related_name="categories", verbose_name=_("店铺")
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("上级类目"),
    )
    code = models.SlugField(_("编码"), max_length=40)
    name = models.CharField(_("名称"), max_length=100)
    required_qualifications = models.JSONField(_("必需资质"), default=list, blank=True)
    required_parameters = models.JSONField(_("必填参数"), default=list, blank=True)
    attribute_words = models.JSONField(_("属性词"), default=list, blank=True)
    scene_words = models.JSONField(_("场景词"), default=list, blank=True)

    class Meta:
        verbose_name = _("类目")
        verbose_name_plural = _("类目")
        ordering = ("store", "code")
        constraints = [
            models.UniqueConstraint(fields=("store", "code"), name="category_code_unique_per_store")
        ]

    def __str__(self) -> str:
        return self.name


class TagKind(models.TextChoices):
    """SEL-04: the tag dimensions used by search and recommendations."""

    CATEGORY = "category", _("类目")
    PRICE_BAND = "price_band", _("价格带")
    STYLE = "style", _("风格")
    SCENE = "scene", _("使用场景")


class Tag(models.Model):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="tags", verbose_name=_("店铺"))
    kind = models.CharField(_("标签类型"), max_length=20, choices=TagKind.choices)
    name = models.CharField(_("名称"), max_length=50)

    class Meta:
        verbose_name = _("商品标签")
        verbose_name_plural = _("商品标签")
        ordering = ("store", "kind", "name")
        constraints = [models.UniqueConstraint(fields=("store", "kind", "name"), name="tag_unique_per_store")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}:{self.name}"


class ProductStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PENDING_AUDIT = "pending_audit", _("待人工审核")
    APPROVED = "approved", _("审核通过")
    REJECTED = "rejected", _("审核驳回")
    LIVE = "live", _("在售")
    DELISTED = "delisted", _("已下架")


class Product(models.Model):
    store = models.ForeignKey(
        Store, on_delete=models.PROTECT, related_name="products", verbose_name=_("店铺")
    )
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="products", verbose_name=_("类目")
    )
    code = models.CharField(_("商品编码"), max_length=64)
    core_word = models.CharField(_("核心词"), max_length=30)
    title = models.CharField(_("标题"), max_length=200)
    description = models.TextField(_("详情描述"), blank=True)
    has_efficacy_claim = models.BooleanField(_("宣称功效"), default=False)
    parameters = models.JSONField(_("参数表"), default=dict, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="products", verbose_name=_("标签"))
    is_key = models.BooleanField(_("核心商品"), default=False)
    status = models.CharField(
        _("状态"), max_length=20, choices=ProductStatus.choices, default=ProductStatus.DRAFT
    )
    listed_on = models.DateField(_("首次上架日期"), null=True, blank=True)
    # INV-06: the months its demand peaks (旺季), inclusive, may wrap the year (11 → 2 is
    # November to February); both or neither. ``season_uplift`` is the expected demand in season
    # against the usual pace, used while the product has less than a year of sales to learn from.
    season_start_month = models.PositiveSmallIntegerField(_("旺季开始月份"), null=True, blank=True)
    season_end_month = models.PositiveSmallIntegerField(_("旺季结束月份"), null=True, blank=True)
    season_uplift = models.DecimalField(
        _("旺季需求倍数"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("商品")
        verbose_name_plural = _("商品")
        ordering = ("store", "code")
        constraints = [
            models.UniqueConstraint(fields=("store", "code"), name="product_code_unique_per_store"),
            models.CheckConstraint(
                condition=(
                    Q(season_start_month__isnull=True, season_end_month__isnull=True)
                    | Q(
                        season_start_month__gte=1,
                        season_start_month__lte=12,
                        season_end_month__gte=1,
                        season_end_month__lte=12,
                    )
                ),
                name="product_season_months",
            ),
            models.CheckConstraint(
                condition=Q(season_uplift__isnull=True) | Q(season_uplift__gt=0),
                name="product_season_uplift_positive",
            ),
        ]
        indexes = [models.Index(fields=("store", "status"))]

    def __str__(self) -> str:
        return f"{self.code} {self.title[:40]}"


class Sku(models.Model):
    """A sellable variant. ``cost`` is the product (purchase) cost of one unit — the first of
    the four PRICE-02 cost components; the others live in ``pricing.SkuCost``."""

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="skus", verbose_name=_("店铺"))
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="skus", verbose_name=_("商品")
    )
    code = models.CharField(_("SKU编码"), max_length=64)
    attributes = models.JSONField(_("规格"), default=dict, blank=True)  # {"颜色": "红", "尺码": "M"}
    barcode = models.CharField(_("条码"), max_length=64, blank=True)
    price = models.DecimalField(_("售价"), **MONEY)
    cost = models.DecimalField(_("商品成本"), **MONEY, default=0)
    is_active = models.BooleanField(_("启用"), default=True)
    # LOG-03: what the carrier choice needs of the item. A parcel's weight is the sum of its
    # units' weights (unknown when one SKU has none); one fragile SKU makes the parcel fragile.
    weight_g = models.PositiveIntegerField(_("重量（克）"), null=True, blank=True)
    is_fragile = models.BooleanField(_("易碎"), default=False)

    class Meta:
        verbose_name = _("SKU")
        verbose_name_plural = _("SKU")
        ordering = ("product", "code")
        # LOG-03: the warehouse weighs parcels and sets weight / fragility without catalog.change_sku
        permissions = [("set_sku_shipping", _("设置 SKU 重量与易碎"))]
        constraints = [
            models.UniqueConstraint(fields=("store", "code"), name="sku_code_unique_per_store"),
            models.CheckConstraint(condition=Q(price__gte=0), name="sku_price_non_negative"),
            models.CheckConstraint(condition=Q(cost__gte=0), name="sku_cost_non_negative"),
            models.CheckConstraint(
                condition=Q(weight_g__isnull=True) | Q(weight_g__gt=0), name="sku_weight_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.code


class ImageRole(models.TextChoices):
    MAIN = "main", _("主图")
    SCENE = "scene", _("场景图")
    DETAIL = "detail", _("详情图")


class ProductImage(models.Model):
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="images", verbose_name=_("商品")
    )
    role = models.CharField(_("用途"), max_length=10, choices=ImageRole.choices)
    name = models.CharField(_("文件名"), max_length=200)
    url = models.CharField(_("地址"), max_length=500, blank=True)
    size_bytes = models.PositiveIntegerField(_("大小(字节)"))
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("商品图片")
        verbose_name_plural = _("商品图片")
        ordering = ("product", "role", "position")

    def __str__(self) -> str:
        return self.name


class ProductDocument(models.Model):
    """A product's own documents: efficacy test reports, cosmetics/health-food registrations
    (LIST-03) and QC reports (LIST-04). Kinds are the store qualification kinds."""

    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="documents", verbose_name=_("商品")
    )
    kind = models.CharField(_("类型"), max_length=40, choices=QualificationKind.choices)
    title = models.CharField(_("名称"), max_length=200)
    number = models.CharField(_("编号"), max_length=100, blank=True)
    issuer = models.CharField(_("出具机构"), max_length=200, blank=True)
    valid_from = models.DateField(_("生效日期"), null=True, blank=True)
    valid_to = models.DateField(_("到期日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("商品文件")
        verbose_name_plural = _("商品文件")
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_to__gte=F("valid_from")),
                name="product_document_valid_range",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.title}"


class AuditOutcome(models.TextChoices):
    APPROVED = "approved", _("自动通过")
    REJECTED = "rejected", _("驳回")
    MANUAL = "manual", _("待人工审核")


class ListingAudit(models.Model):
    """One run of the listing audit on a product, with every reason, and the manual review
    when the audit sent the product to the queue."""

    class Decision(models.TextChoices):
        APPROVE = "approve", _("通过")
        REJECT = "reject", _("驳回")

    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="audits", verbose_name=_("商品")
    )
    created_at = models.DateTimeField(_("审核时间"), default=timezone.now)
    submitted_by = models.CharField(_("提交人"), max_length=150, blank=True)
    passed = models.BooleanField(_("规则通过"))
    outcome = models.CharField(_("结果"), max_length=20, choices=AuditOutcome.choices)
    reasons = models.JSONField(_("原因"), default=list, blank=True)
    word_list_version = models.CharField(_("禁用词版本"), max_length=32, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("审核人"),
    )
    reviewed_at = models.DateTimeField(_("人工审核时间"), null=True, blank=True)
    decision = models.CharField(_("人工结论"), max_length=10, choices=Decision.choices, blank=True)
    comment = models.TextField(_("审核意见"), blank=True)

    class Meta:
        verbose_name = _("上架审核")
        verbose_name_plural = _("上架审核")
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"{self.product} · {self.get_outcome_display()}"


class BannedWordList(models.Model):
    """A store's editable Advertising-Law word list (LIST-02), one word a line (``#``
    comments). Without a row the bundled default list applies. ``version`` is
    :func:`storeops.catalog.banned_words.word_list_version` of the words."""

    store = models.OneToOneField(
        Store, on_delete=models.CASCADE, related_name="banned_words", verbose_name=_("店铺")
    )
    words = models.TextField(_("禁用词"), blank=True)
    version = models.CharField(_("版本"), max_length=32)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("广告法禁用词")
        verbose_name_plural = _("广告法禁用词")

    def __str__(self) -> str:
        return f"{self.store} · {self.version}"


class ListingStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("待上架")
    LIVE = "live", _("在售")
    DELISTED = "delisted", _("已下架")


class DelistReason(models.TextChoices):
    STOCK_OUT = "stock_out", _("缺货")
    UPDATE = "update", _("商品更新")
    SEASON_END = "season_end", _("季末")
    COMPLIANCE = "compliance", _("合规问题")
    OTHER = "other", _("其他")


class RemainingStockAction(models.TextChoices):
    KEEP = "keep", _("保留库存")
    CLEARANCE = "clearance", _("清仓处理")
    TRANSFER = "transfer", _("调拨其他渠道")
    RETURN_TO_SUPPLIER = "return_to_supplier", _("退回供应商")
    DESTROY = "destroy", _("报废")


class ChannelListing(models.Model):
    """A product on one channel, with scheduled listing/delisting (LIST-06)."""

    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="listings", verbose_name=_("商品")
    )
    channel = models.ForeignKey(
        Channel, on_delete=models.PROTECT, related_name="listings", verbose_name=_("渠道")
    )
    status = models.CharField(
        _("状态"), max_length=20, choices=ListingStatus.choices, default=ListingStatus.SCHEDULED
    )
    list_at = models.DateTimeField(_("计划上架时间"), null=True, blank=True)
    delist_at = models.DateTimeField(_("计划下架时间"), null=True, blank=True)
    listed_at = models.DateTimeField(_("上架时间"), null=True, blank=True)
    delisted_at = models.DateTimeField(_("下架时间"), null=True, blank=True)
    delist_reason = models.CharField(_("下架原因"), max_length=20, choices=DelistReason.choices, blank=True)
    remaining_stock_action = models.CharField(
        _("剩余库存处理"), max_length=20, choices=RemainingStockAction.choices, blank=True
    )
    delist_note = models.CharField(_("下架说明"), max_length=300, blank=True)
    # STORE-02: why a scheduled listing whose time has come is still waiting (a required
    # qualification of the category is expired or missing); cleared when it goes live.
    held_reason = models.CharField(_("暂缓上架原因"), max_length=300, blank=True, editable=False)

    class Meta:
        verbose_name = _("渠道上架")
        verbose_name_plural = _("渠道上架")
        constraints = [
            models.UniqueConstraint(fields=("product", "channel"), name="listing_once_per_channel"),
            models.CheckConstraint(
                condition=Q(list_at__isnull=True) | Q(delist_at__isnull=True) | Q(delist_at__gt=F("list_at")),
                name="listing_delist_after_list",
            ),
        ]
        indexes = [models.Index(fields=("status", "list_at")), models.Index(fields=("status", "delist_at"))]

    def __str__(self) -> str:
        return f"{self.product} @ {self.channel}"


class SalesDaily(models.Model):
    """Daily traffic and sales of a product on a channel: the input of LIST-07/08.

    Imported from the channels' statistics exports; paid orders add their units and revenue
    (``services.sales_daily_add``). ``stock_on_hand`` is the closing stock of the day.
    ``clicks`` (page views of the product, 浏览量) and ``add_to_cart`` (加购人数) are the
    LIST-07 launch-stage tracking figures; where a row has none, ``selectors.launch_tracking``
    counts them from the store's own behaviour events (the imported figures win).
    """

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+", verbose_name=_("店铺"))
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="sales_daily", verbose_name=_("商品")
    )
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+", verbose_name=_("渠道"))
    day = models.DateField(_("日期"))
    visitors = models.PositiveIntegerField(_("访客数"), default=0)
    buyers = models.PositiveIntegerField(_("买家数"), default=0)
    clicks = models.PositiveIntegerField(_("浏览量"), default=0)
    add_to_cart = models.PositiveIntegerField(_("加购人数"), default=0)
    units = models.PositiveIntegerField(_("销量"), default=0)
    revenue = models.DecimalField(_("销售额"), **MONEY, default=0)
    stock_on_hand = models.PositiveIntegerField(_("日末库存"), null=True, blank=True)

    class Meta:
        verbose_name = _("商品日销售")
        verbose_name_plural = _("商品日销售")
        constraints = [
            models.UniqueConstraint(fields=("product", "channel", "day"), name="sales_daily_once"),
            models.CheckConstraint(condition=Q(revenue__gte=0), name="sales_daily_revenue_non_negative"),
            models.CheckConstraint(
                condition=Q(buyers__lte=F("visitors")), name="sales_daily_buyers_le_visitors"
            ),
        ]
        indexes = [models.Index(fields=("store", "day"))]

    def __str__(self) -> str:
        return f"{self.product} {self.day}"


# ---- suppliers (SEL-02) --------------------------------------------------------------------


class Supplier(models.Model):
    store = models.ForeignKey(
        Store, on_delete=models.PROTECT, related_name="suppliers", verbose_name=_("店铺")
    )
    code = models.CharField(_("编码"), max_length=40)
    name = models.CharField(_("名称"), max_length=200)
    contact = models.CharField(_("联系人"), max_length=100, blank=True)
    phone = models.CharField(_("电话"), max_length=40, blank=True)
    payment_term_days = models.PositiveSmallIntegerField(_("账期(天)"), default=0)
    small_batch_customisation = models.BooleanField(_("支持小批量定制"), default=False)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("供应商")
        verbose_name_plural = _("供应商")
        ordering = ("store", "code")
        constraints = [
            models.UniqueConstraint(fields=("store", "code"), name="supplier_code_unique_per_store")
        ]

    def __str__(self) -> str:
        return self.name


class CertificationKind(models.TextChoices):
    ISO9001 = "iso9001", _("ISO 9001")
    OTHER = "other", _("其他认证")


class SupplierCertification(models.Model):
    supplier = models.ForeignKey(
        Supplier, on_delete=models.CASCADE, related_name="certifications", verbose_name=_("供应商")
    )
    kind = models.CharField(_("认证"), max_length=20, choices=CertificationKind.choices)
    number = models.CharField(_("证书编号"), max_length=100, blank=True)
    valid_from = models.DateField(_("生效日期"))
    valid_to = models.DateField(_("到期日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("供应商认证")
        verbose_name_plural = _("供应商认证")
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="supplier_cert_valid_range",
            )
        ]

    def __str__(self) -> str:
        return f"{self.supplier} · {self.get_kind_display()}"


class SupplyRecord(models.Model):
    """One purchase order of a supplier and how it went: filled from stock or not, delivered
    on time or not, QC samples and passes."""

    supplier = models.ForeignKey(
        Supplier, on_delete=models.CASCADE, related_name="records", verbose_name=_("供应商")
    )
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("商品")
    )
    reference = models.CharField(_("采购单号"), max_length=64, blank=True)
    ordered_on = models.DateField(_("下单日期"))
    due_on = models.DateField(_("约定交期"))
    delivered_on = models.DateField(_("实际交货"), null=True, blank=True)
    stocked_out = models.BooleanField(_("缺货"), default=False)
    qc_samples = models.PositiveIntegerField(_("抽检数"), default=0)
    qc_passed = models.PositiveIntegerField(_("合格数"), default=0)

    class Meta:
        verbose_name = _("供货记录")
        verbose_name_plural = _("供货记录")
        ordering = ("-ordered_on",)
        constraints = [
            models.CheckConstraint(
                condition=Q(qc_passed__lte=F("qc_samples")), name="supply_qc_passed_le_samples"
            ),
            models.CheckConstraint(condition=Q(due_on__gte=F("ordered_on")), name="supply_due_after_order"),
        ]

    def __str__(self) -> str:
        return f"{self.supplier} {self.ordered_on}"


class ProductSupplier(models.Model):
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="supplier_links", verbose_name=_("商品")
    )
    supplier = models.ForeignKey(
        Supplier, on_delete=models.PROTECT, related_name="product_links", verbose_name=_("供应商")
    )
    is_primary = models.BooleanField(_("主供应商"), default=False)

    class Meta:
        verbose_name = _("商品供应商")
        verbose_name_plural = _("商品供应商")
        constraints = [models.UniqueConstraint(fields=("product", "supplier"), name="product_supplier_once")]

    def __str__(self) -> str:
        return f"{self.product} ← {self.supplier}"


class MarketCategoryStat(models.Model):
    """Imported market data of a category (SEL-01): 30-day growth, online listings and
    search popularity as of ``period_end``."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+", verbose_name=_("店铺"))
    category_name = models.CharField(_("市场类目"), max_length=100)
    period_end = models.DateField(_("统计截止"))
    growth_30d = models.DecimalField(_("30天增长率"), max_digits=8, decimal_places=4)
    listings = models.PositiveIntegerField(_("在线商品数"))
    search_popularity = models.PositiveIntegerField(_("搜索人气"))
    # DATA-02: the category's industry payment conversion (buyers ÷ visitors), when the market
    # data gives it: the benchmark of the store's category of the same name
    conversion_rate = models.DecimalField(
        _("行业支付转化率"), max_digits=6, decimal_places=4, null=True, blank=True
    )
    source = models.CharField(_("来源"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("市场类目数据")
        verbose_name_plural = _("市场类目数据")
        ordering = ("-period_end", "category_name")
        constraints = [
            models.UniqueConstraint(fields=("store", "category_name", "period_end"), name="market_stat_once"),
            models.CheckConstraint(
                condition=Q(conversion_rate__isnull=True) | Q(conversion_rate__gt=0, conversion_rate__lte=1),
                name="market_stat_conversion_0_1",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category_name} {self.period_end}"
