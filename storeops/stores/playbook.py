"""The playbook (运营手册): every number of the SOP as a typed, documented setting.

One pydantic model holds them all with the spec's defaults. A store keeps only the values
it overrides (``Playbook.values``); a channel may override the store. The effective
playbook is ``defaults ← store overrides ← channel overrides``, validated as a whole, and
code reads ``playbook.safety_stock_days`` — never a literal.

Each field's ``json_schema_extra`` names the SOP rule it implements, so the console can
show the rule next to the setting and tests can check every rule number is here.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator


def _s(rule: str, default: Any, zh: str, en: str, **constraints: Any) -> Any:
    return Field(default, description=en, json_schema_extra={"rule": rule, "zh": zh}, **constraints)


Pct = Decimal  # ratios are decimals in [0, 1]


class PlaybookSettings(BaseModel):
    """All SOP settings. Ratios are fractions (0.30 = 30%)."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    # STORE
    qualification_warn_days: int = _s(
        "STORE-02", 30, "资质到期提前预警天数", "Warn days before a qualification expires", ge=1, le=365
    )
    launch_kpi_months: int = _s("STORE-07", 3, "新店KPI目标月数", "Months of launch KPI targets", ge=1, le=12)
    launch_target_miss_ratio: Pct = _s(
        "STORE-07",
        Decimal("0.10"),
        "上线KPI未达标容差（低于目标超过该比例即预警）",
        "Launch KPI shortfall that raises a finding (share of the target)",
        ge=0,
        le=1,
    )
    backup_keep_days: int = _s("STORE-06", 14, "备份保留天数", "Days of daily backups kept", ge=1, le=3650)

    # SEL
    selection_min_growth_30d: Pct = _s(
        "SEL-01", Decimal("0.30"), "类目30天增长率下限", "Min 30-day category growth", ge=0, le=10
    )
    selection_max_competition_ratio: Pct = _s(
        "SEL-01",
        Decimal("0.5"),
        "竞争度上限（在线商品数÷搜索人气）",
        "Max competition ratio (listings / search popularity)",
        gt=0,
        le=100,
    )
    supplier_max_stockout_rate: Pct = _s(
        "SEL-02", Decimal("0.05"), "供应商断货率上限", "Max supplier stock-out rate", ge=0, le=1
    )
    supplier_min_qc_pass_rate: Pct = _s(
        "SEL-02", Decimal("0.98"), "供应商抽检合格率下限", "Min supplier QC pass rate", ge=0, le=1
    )
    key_product_min_suppliers: int = _s(
        "SEL-02", 2, "核心商品最少供应商数", "Min suppliers for a key product", ge=1, le=20
    )
    # SEL-02 scorecard: the relative weight of each criterion (they need not add up to 1)
    supplier_weight_stock_out: Pct = _s(
        "SEL-02",
        Decimal("0.25"),
        "供应商评分权重：断货率",
        "Supplier score weight: stock-out rate",
        ge=0,
        le=1,
    )
    supplier_weight_qc: Pct = _s(
        "SEL-02",
        Decimal("0.25"),
        "供应商评分权重：抽检合格率",
        "Supplier score weight: QC pass rate",
        ge=0,
        le=1,
    )
    supplier_weight_on_time: Pct = _s(
        "SEL-02",
        Decimal("0.20"),
        "供应商评分权重：准时交货",
        "Supplier score weight: delivery on time",
        ge=0,
        le=1,
    )
    supplier_weight_payment_terms: Pct = _s(
        "SEL-02",
        Decimal("0.10"),
        "供应商评分权重：账期灵活度",
        "Supplier score weight: payment-term flexibility",
        ge=0,
        le=1,
    )
    supplier_weight_iso9001: Pct = _s(
        "SEL-02",
        Decimal("0.10"),
        "供应商评分权重：ISO 9001 认证",
        "Supplier score weight: ISO 9001",
        ge=0,
        le=1,
    )
    supplier_weight_small_batch: Pct = _s(
        "SEL-02",
        Decimal("0.10"),
        "供应商评分权重：小批量定制",
        "Supplier score weight: small-batch customisation",
        ge=0,
        le=1,
    )
    supplier_payment_term_full_score_days: int = _s(
        "SEL-02",
        60,
        "账期满分天数（账期达到该天数得满分）",
        "Payment term (days) that scores full marks",
        ge=1,
        le=365,
    )
    selection_min_gross_margin: Pct = _s(
        "SEL-03", Decimal("0.30"), "选品最低毛利率", "Min gross margin to select a product", ge=0, lt=1
    )
    # SEL-04: with edges, a product's price band tag (价格带) follows its lowest SKU price
    tag_price_band_edges: str = _s(
        "SEL-04",
        "",
        "价格带分界（元，如 50,100,200 → 0-50元、50-100元、100-200元、200元以上；留空=价格带标签手动设置）",
        "Price band edges (yuan, e.g. 50,100,200 → 0-50元, 50-100元, 100-200元, 200元以上; "
        "empty = price band tags are set by hand)",
        max_length=200,
    )

    # LIST
    title_min_chars: int = _s("LIST-01", 30, "标题最少字数", "Min title length (characters)", ge=1, le=200)
    title_max_chars: int = _s("LIST-01", 60, "标题最多字数", "Max title length (characters)", ge=1, le=200)
    image_max_kb: int = _s("LIST-04", 100, "图片大小上限(KB)", "Max image size (KB)", ge=10, le=10240)
    price_outlier_ratio: Pct = _s(
        "LIST-05",
        Decimal("0.30"),
        "价格偏离竞品/市场价比例上限",
        "Max deviation from market price before flagging",
        gt=0,
        le=10,
    )
    launch_stage_days: int = _s("LIST-07", 30, "新品期天数", "Launch stage length (days)", ge=1, le=365)
    launch_tracking_min_days: int = _s(
        "LIST-07",
        7,
        "新品上架满N天仍无加购则提示",
        "Flag a launch product viewed but not added to cart after N days",
        ge=1,
        le=365,
    )
    stable_stage_days: int = _s(
        "LIST-07", 90, "稳定期截止天数", "End of stable stage (days since listing)", ge=2, le=730
    )
    slow_mover_days_of_cover: int = _s(
        "LIST-07",
        90,
        "滞销判定：库存可售天数超过",
        "Slow mover when stock covers more than N days",
        ge=1,
        le=3650,
    )
    conversion_below_category_ratio: Pct = _s(
        "LIST-08",
        Decimal("0.5"),
        "转化率低于类目均值的比例（0.5=不足一半）",
        "Flag when conversion is below this share of the category average",
        gt=0,
        le=1,
    )
    low_conversion_min_visitors: int = _s(
        "LIST-08",
        100,
        "转化率判定最少访客数（不足则不判定）",
        "Min visitors before a product's conversion is judged",
        ge=1,
        le=1_000_000,
    )

    # PRICE
    min_gross_margin: Pct = _s(
        "PRICE-01", Decimal("0.35"), "定价最低毛利率", "Min gross margin for a price", ge=0, lt=1
    )
    competitor_discount_min: Pct = _s(
        "PRICE-01", Decimal("0.05"), "低于竞品价最小幅度", "Min discount below competitor price", ge=0, lt=1
    )
    competitor_discount_max: Pct = _s(
        "PRICE-01", Decimal("0.10"), "低于竞品价最大幅度", "Max discount below competitor price", ge=0, lt=1
    )
    competitor_drop_alert_ratio: Pct = _s(
        "PRICE-04",
        Decimal("0.05"),
        "竞品降价预警幅度",
        "Competitor price drop that raises a finding",
        gt=0,
        lt=1,
    )
    competitor_new_product_days: int = _s(
        "PRICE-04",
        14,
        "竞品上新天数",
        "Days a competitor product counts as new",
        ge=1,
        le=365,
    )

    # INV
    safety_stock_days: int = _s(
        "INV-01", 3, "安全库存天数", "Safety stock (days of average sales)", ge=0, le=365
    )
    sales_average_window_days: int = _s(
        "INV-01", 28, "日均销量统计窗口（天）", "Window for average daily sales (days)", ge=1, le=365
    )
    replenishment_lead_time_days: int = _s(
        "INV-01", 7, "补货提前期（天）", "Replenishment lead time (days)", ge=0, le=365
    )
    promo_stock_cover_days: int = _s(
        "INV-02", 15, "大促备货覆盖天数", "Stock cover before a big promotion (days)", ge=1, le=365
    )
    abc_a_share: Pct = _s(
        "INV-04", Decimal("0.80"), "A类累计销售额占比", "Cumulative sales share of class A", gt=0, lt=1
    )
    abc_b_share: Pct = _s("INV-04", Decimal("0.15"), "B类销售额占比", "Sales share of class B", gt=0, lt=1)
    seasonal_prep_days: int = _s(
        "INV-06", 45, "季节性备货提前天数", "Seasonal goods prepared ahead (days)", ge=0, le=365
    )
    # --- inventory issue 4 (helper h1): ABC recompute, review cycles, promotion uplift, turnover ---
    abc_sales_window_days: int = _s(
        "INV-04", 90, "ABC分类销售额统计天数", "Days of sales value behind the ABC classes", ge=7, le=730
    )
    abc_review_days_a: int = _s(
        "INV-04", 7, "A类复盘周期（天）", "Review/count cycle of class A (days)", ge=1, le=365
    )
    abc_review_days_b: int = _s(
        "INV-04", 30, "B类复盘周期（天）", "Review/count cycle of class B (days)", ge=1, le=365
    )
    abc_review_days_c: int = _s(
        "INV-04", 90, "C类复盘周期（天）", "Review/count cycle of class C (days)", ge=1, le=730
    )
    promo_default_uplift: Pct = _s(
        "INV-02",
        Decimal("2.0"),
        "大促默认销量倍数（活动未填时）",
        "Expected demand multiplier in a big promotion when the campaign gives none",
        ge=1,
        le=50,
    )
    promo_cover_lookahead_days: int = _s(
        "INV-02",
        30,
        "大促备货检查提前天数",
        "Check stock cover for big promotions starting within (days)",
        ge=1,
        le=365,
    )
    turnover_period_days: int = _s(
        "INV-07", 90, "周转率统计天数", "Period of the turnover figures (days)", ge=7, le=730
    )
    forecast_history_days: int = _s(
        "INV-06", 364, "预测使用的历史天数", "Days of sales history the forecast is fitted on", ge=28, le=1095
    )
    forecast_min_history_days: int = _s(
        "INV-06",
        56,
        "启用预测的最少历史天数（不足则用日均销量）",
        "Min days of history before the forecast replaces the average",
        ge=14,
        le=730,
    )
    # --- end inventory issue 4 block ---

    # PROMO
    big_promo_plan_days: int = _s(
        "PROMO-05", 45, "大促提前规划天数", "Big promotions planned ahead (days)", ge=0, le=365
    )
    campaign_monitor_minutes: int = _s(
        "PROMO-06", 60, "活动监控间隔（分钟）", "Campaign monitoring interval (minutes)", ge=5, le=1440
    )
    postmortem_working_days: int = _s(
        "PROMO-07", 3, "复盘报告期限（工作日）", "Post-mortem due (working days)", ge=1, le=30
    )
    # The working-day calendar (PROMO-07's "3 working days"): Monday to Friday, less the public
    # holidays, plus the weekend days worked instead (调休). Dates and ranges as text.
    holidays: str = _s(
        "PROMO-07",
        "",
        "法定节假日（不算工作日；日期或日期段，如 2026-10-01..2026-10-07, 2027-02-15..2027-02-21）",
        "Public holidays (not working days; dates or ranges, e.g. 2026-10-01..2026-10-07, "
        "2027-02-15..2027-02-21)",
        max_length=2000,
    )
    makeup_workdays: str = _s(
        "PROMO-07",
        "",
        "调休上班日（周末但算工作日；如 2026-09-27, 2026-10-10）",
        "Make-up working days (weekend days that are worked; e.g. 2026-09-27, 2026-10-10)",
        max_length=2000,
    )
    # --- marketing (h2): default campaign thresholds; a campaign may set its own (PROMO-06/08) ---
    campaign_planned_redemption_rate: Pct = _s(
        "PROMO-06",
        Decimal("0.20"),
        "计划优惠券核销率（活动未单独设置时）",
        "Planned coupon redemption rate (unless the campaign sets one)",
        ge=0,
        le=1,
    )
    campaign_max_payment_failure_rate: Pct = _s(
        "PROMO-06",
        Decimal("0.05"),
        "支付失败率告警线（活动未单独设置时）",
        "Payment failure rate alert line (unless the campaign sets one)",
        ge=0,
        le=1,
    )
    campaign_failure_min_attempts: int = _s(
        "PROMO-06",
        10,
        "支付失败率告警的最少支付次数（一小时内少于此数不告警）",
        "Min payment attempts in an hour before its failure rate can raise an alert",
        ge=1,
        le=100000,
    )
    campaign_expected_refund_rate: Pct = _s(
        "PROMO-08",
        Decimal("0.10"),
        "预计退款率（资金准备，活动未单独设置时）",
        "Expected refund rate for the cash reserve (unless the campaign sets one)",
        ge=0,
        le=1,
    )

    # ADS
    ads_max_cpc_vs_industry: Pct = _s(
        "ADS-02",
        Decimal("0.80"),
        "CPC不超过行业均值比例",
        "Max CPC as share of industry average",
        gt=0,
        le=10,
    )
    ads_core_keyword_max_rank: int = _s(
        "ADS-02", 30, "核心词排名上限", "Core keywords must rank within", ge=1, le=1000
    )
    ads_min_roi: Decimal = _s(
        "ADS-02",
        Decimal("3"),
        "广告ROI目标（须高于）",
        "Ad ROI target (must be above; sales / spend)",
        gt=0,
        le=1000,
    )
    ads_stats_window_days: int = _s(
        "ADS-02",
        7,
        "推广效果检查统计最近天数（CPC、ROI）",
        "Ad results are checked over the last (days; CPC, ROI)",
        ge=1,
        le=90,
    )
    ads_peak_bid_uplift_min: Pct = _s(
        "ADS-03", Decimal("0.10"), "高峰时段加价下限", "Peak-hour bid uplift (min)", ge=0, le=5
    )
    ads_peak_bid_uplift_max: Pct = _s(
        "ADS-03", Decimal("0.15"), "高峰时段加价上限", "Peak-hour bid uplift (max)", ge=0, le=5
    )

    # ORD / LOG
    order_review_minutes: int = _s(
        "ORD-01", 30, "订单审核时限（分钟）", "Paid orders reviewed within (minutes)", ge=1, le=1440
    )
    ship_promise_hours: int = _s("ORD-03", 48, "发货时效（小时）", "Ship within (hours)", ge=1, le=720)
    ship_risk_hours_before: int = _s(
        "ORD-03", 6, "发货超时预警提前（小时）", "Warn this many hours before the ship deadline", ge=0, le=720
    )
    exception_notify_minutes: int = _s(
        "ORD-04",
        60,
        "异常订单通知时限（分钟）",
        "Notify customers of exception orders within (minutes)",
        ge=1,
        le=1440,
    )
    unpaid_order_close_minutes: int = _s(
        "ORD-06", 30, "未付款订单关闭时间（分钟）", "Close unpaid orders after (minutes)", ge=1, le=10080
    )
    allocation_weight_distance: Decimal = _s(
        "ORD-02", Decimal("0.01"), "分仓评分：每公里权重", "Allocation score per km", ge=0, le=100
    )
    allocation_weight_cost: Decimal = _s(
        "ORD-02",
        Decimal("1"),
        "分仓评分：每元运费权重",
        "Allocation score per yuan of shipping",
        ge=0,
        le=100,
    )
    allocation_split_penalty: Decimal = _s(
        "ORD-02",
        Decimal("5"),
        "分仓评分：每多拆一单的惩罚",
        "Allocation penalty per extra parcel",
        ge=0,
        le=10000,
    )
    shipping_base_cost: Decimal = _s(
        "ORD-02",
        Decimal("8"),
        "每个包裹基础运费（元）",
        "Base shipping cost per parcel (CNY)",
        ge=0,
        le=10000,
    )
    shipping_cost_per_km: Decimal = _s(
        "ORD-02", Decimal("0.002"), "每公里运费（元）", "Shipping cost per km (CNY)", ge=0, le=100
    )
    scarcity_show_below: int = _s(
        "ORD-06", 10, "显示“仅剩X件”的库存阈值", 'Show "only X left" at or below (units)', ge=0, le=100000
    )
    fraud_hold_score: int = _s(
        "ORD-01",
        70,
        "风险分达到此值转人工审核",
        "Fraud score sending an order to manual review",
        ge=1,
        le=100,
    )
    fraud_signal_window_hours: int = _s(
        "ORD-01",
        24,
        "风险分统计窗口（小时）：同一电话的订单数、同一顾客的收货地址数",
        "Fraud-score window (hours): orders to the same phone, addresses of the same customer",
        ge=1,
        le=720,
    )
    # ORD-01: the default fraud scorer's thresholds (its points stay fixed: 40 / 25 / 20 / 40 / 30 / 20)
    fraud_new_customer_amount: Decimal = _s(
        "ORD-01",
        Decimal("2000"),
        "风险分：新顾客订单金额达到（元）加 40 分",
        "Fraud score: a new customer's order of at least this amount (CNY) adds 40",
        gt=0,
        le=10**9,
        decimal_places=2,
    )
    fraud_large_amount: Decimal = _s(
        "ORD-01",
        Decimal("5000"),
        "风险分：其他订单金额达到（元）加 25 分（须高于新顾客金额）",
        "Fraud score: any other order of at least this amount (CNY) adds 25 (above the new customer's)",
        gt=0,
        le=10**9,
        decimal_places=2,
    )
    fraud_phone_orders: int = _s(
        "ORD-01",
        3,
        "风险分：窗口内同一电话的其他订单数达到即加 20 分",
        "Fraud score: other orders to the same phone within the window that add 20",
        ge=1,
        le=100000,
    )
    fraud_phone_orders_high: int = _s(
        "ORD-01",
        5,
        "风险分：窗口内同一电话的其他订单数达到即加 40 分（须多于上一项）",
        "Fraud score: other orders to the same phone within the window that add 40 (more than the above)",
        ge=2,
        le=100000,
    )
    fraud_customer_addresses: int = _s(
        "ORD-01",
        3,
        "风险分：窗口内同一顾客的其他收货地址数达到即加 30 分",
        "Fraud score: distinct delivery addresses of the same customer within the window that add 30",
        ge=1,
        le=1000,
    )
    fraud_quantity: int = _s(
        "ORD-01",
        50,
        "风险分：订单商品件数达到即加 20 分",
        "Fraud score: units in the order that add 20",
        ge=1,
        le=1_000_000,
    )
    presale_deposit_refund_ratio: Pct = _s(
        "PROMO-01",
        Decimal("0"),
        "预售：买家取消或未在尾款期内付尾款时退还定金的比例（0 = 定金不退）",
        "Presale: share of the deposit refunded when the buyer cancels or misses the balance window "
        "(0 = the deposit is kept)",
        ge=0,
        le=1,
    )
    payment_pending_minutes: int = _s(
        "ORD-06", 15, "支付超时（分钟）", "A started payment times out after (minutes)", ge=1, le=1440
    )
    reconcile_lookback_days: int = _s(
        "ORD-06",
        30,
        "支付对账：检查最近多少天的对账单",
        "Payment reconciliation: statements of the last (days) are checked",
        ge=1,
        le=400,
    )
    reconcile_statement_due_days: int = _s(
        "ORD-06",
        2,
        "支付对账：收款日后多少天仍未导入对账单则提醒（0 = 不提醒）",
        "Payment reconciliation: remind when a day's statement is still not imported after (days; 0 = never)",
        ge=0,
        le=60,
    )
    reconcile_fee_rate_max: Pct = _s(
        "ORD-06",
        Decimal("0.006"),
        "支付对账：约定的渠道手续费率，对账单手续费高于它即提醒（0 = 不核对）",
        "Payment reconciliation: the agreed provider fee rate; fees above it are raised (0 = not checked)",
        ge=0,
        le=Decimal("0.1"),
    )
    reconcile_fee_rates: str = _s(
        "ORD-06",
        "",
        "支付对账：各支付渠道自己的约定费率（如 wechatpay=0.006, alipay=0.0038；未列出的渠道按上一项）",
        "Payment reconciliation: agreed fee rates of single providers (e.g. wechatpay=0.006, "
        "alipay=0.0038; a provider not listed uses the rate above)",
        max_length=500,
    )
    settlement_wait_days: int = _s(
        "ORD-06",
        15,
        "平台结算对账：订单完成后多少天仍未出现在平台结算单中则提醒",
        "Marketplace settlement: raise a completed order not on any settlement report after (days)",
        ge=1,
        le=120,
    )
    settlement_commission_rate_max: Pct = _s(
        "ORD-06",
        Decimal("0"),
        "平台结算对账：约定的平台佣金率（按渠道设置），结算单佣金高于它即提醒（0 = 不核对）",
        "Marketplace settlement: the agreed commission rate (set per channel); higher commissions "
        "are raised (0 = not checked)",
        ge=0,
        le=Decimal("0.5"),
    )
    order_import_inline_orders: int = _s(
        "ORD-06",
        200,
        "渠道订单导入：超过此单数转后台导入",
        "Marketplace order import: files with more new orders than this import in the background",
        ge=0,
        le=1000,
    )
    pickup_timeout_hours: int = _s("LOG-01", 24, "揽收超时（小时）", "Pickup timeout (hours)", ge=1, le=720)
    transit_stuck_hours: int = _s(
        "LOG-01", 48, "物流停滞（小时）", "No tracking movement for (hours)", ge=1, le=720
    )
    review_invite_hours: int = _s(
        "LOG-02", 24, "签收后邀评（小时）", "Review invitation after delivery (hours)", ge=0, le=720
    )
    carrier_stats_days: int = _s(
        "LOG-03",
        90,
        "快递统计与建议的统计天数",
        "Days of shipments behind carrier statistics and the carrier suggestion",
        ge=1,
        le=3650,
    )

    # AS
    return_window_days: int = _s("AS-01", 7, "无理由退换天数", "No-reason return window (days)", ge=0, le=365)
    refund_sla_hours: int = _s("AS-02", 24, "退款时效（小时）", "Refund within (hours)", ge=1, le=720)
    refund_sla_big_promo_hours: int = _s(
        "AS-02", 48, "大促订单退款时效（小时）", "Refund within, big-promotion orders (hours)", ge=1, le=720
    )
    refund_auto_approve_below: Decimal = _s(
        "AS-03",
        Decimal("50"),
        "仅退款自动通过金额上限（元）",
        "Auto-approve refund-only requests below (CNY)",
        ge=0,
        le=100000,
    )
    # --- aftersales (h4): warn this many hours before a refund's SLA deadline (AS-02) ---
    refund_sla_warn_hours: int = _s(
        "AS-02", 4, "退款时效预警（到期前小时）", "Warn before the refund deadline (hours)", ge=0, le=240
    )

    # CS
    complaint_general_hours: int = _s(
        "CS-01", 2, "一般客诉响应（小时）", "General complaint answered within (hours)", ge=1, le=720
    )
    complaint_serious_hours: int = _s(
        "CS-01", 4, "严重客诉解决（小时）", "Serious complaint solved within (hours)", ge=1, le=720
    )
    complaint_crisis_hours: int = _s(
        "CS-01", 24, "危机公关声明（小时）", "Crisis public statement within (hours)", ge=1, le=720
    )
    chat_first_response_seconds: int = _s(
        "CS-02", 30, "首次响应（秒）", "Chat first response (seconds)", ge=1, le=3600
    )
    ticket_resolution_hours: int = _s(
        "CS-02", 24, "工单解决时效（小时）", "Ticket resolution (hours)", ge=1, le=720
    )
    chat_first_response_min_share: Pct = _s(
        "CS-02",
        Decimal("0.90"),
        "在线聊天首响达标率下限（近24小时）",
        "Min share of chats answered within the target (last 24 h)",
        ge=0,
        le=1,
    )
    chat_first_response_min_chats: int = _s(
        "CS-02",
        5,
        "首响达标率至少统计的会话数",
        "Chats needed before the share is judged",
        ge=1,
        le=100000,
    )
    # --- customer service (h3): SLA warning window; coupon templates by id (0 = none) ---
    ticket_sla_warn_minutes: int = _s(
        "CS-01", 30, "客诉时效预警（到期前分钟）", "Warn before a ticket deadline (minutes)", ge=0, le=1440
    )
    complaint_compensation_coupon_template: int = _s(
        "CS-01",
        0,
        "客诉补偿券模板ID（0=未配置）",
        "Compensation coupon template id for complaints (0 = none)",
        ge=0,
    )
    review_reward_coupon_template: int = _s(
        "LOG-02",
        0,
        "晒图评价奖励券模板ID（0=不送券）",
        "Coupon template id rewarding a review with photos (0 = no reward)",
        ge=0,
    )

    # MEM
    tier_discount_silver: Pct = _s(
        "MEM-01", Decimal("0.95"), "银卡折扣", "Silver tier price factor", gt=0, le=1
    )
    tier_discount_gold: Pct = _s("MEM-01", Decimal("0.92"), "金卡折扣", "Gold tier price factor", gt=0, le=1)
    tier_discount_diamond: Pct = _s(
        "MEM-01", Decimal("0.88"), "钻石卡折扣", "Diamond tier price factor", gt=0, le=1
    )
    diamond_ship_hours: int = _s(
        "MEM-01", 24, "钻石会员优先发货（小时）", "Diamond members shipped within (hours)", ge=1, le=720
    )
    birthday_gift_days_before: int = _s(
        "MEM-01",
        0,
        "生日礼提前发放天数（0=生日当天）",
        "Birthday gift issued this many days before the birthday (0 = on the day)",
        ge=0,
        le=30,
    )
    birthday_missed_lookback_days: int = _s(
        "MEM-01",
        7,
        "生日已过多少天内仍未发生日礼即报告",
        "Members whose birthday passed within this many days without their gift are reported",
        ge=1,
        le=60,
    )
    growth_per_yuan: int = _s(
        "MEM-02", 100, "成长值：多少成长值=1元", "Growth value per 1 CNY", ge=1, le=100000
    )
    member_day: int = _s("MEM-02", 18, "会员日（每月几号）", "Member day (day of month)", ge=1, le=28)
    tier_coupon_day: int = _s(
        "MEM-03", 1, "会员券发放日（每月几号）", "Tier coupons issued on day", ge=1, le=28
    )
    # MEM-01/02/03/05: the members app (tiers from growth value, points, tier coupons, referral)
    tier_gold_growth: int = _s(
        "MEM-01", 200_000, "金卡所需成长值", "Growth value needed for gold", ge=1, le=10**12
    )
    tier_diamond_growth: int = _s(
        "MEM-01", 1_000_000, "钻石卡所需成长值", "Growth value needed for diamond", ge=1, le=10**12
    )
    tier_gold_min_orders: int = _s(
        "MEM-01", 2, "金卡所需付款订单数", "Paid orders needed for gold", ge=0, le=10_000
    )
    tier_diamond_min_orders: int = _s(
        "MEM-01", 5, "钻石卡所需付款订单数", "Paid orders needed for diamond", ge=0, le=10_000
    )
    points_per_yuan: int = _s("MEM-02", 1, "每实付1元得积分", "Points earned per 1 CNY paid", ge=0, le=10_000)
    member_day_points_multiplier: int = _s(
        "MEM-02", 2, "会员日积分倍数", "Points multiplier on the member day", ge=1, le=10
    )
    points_per_yuan_redeemed: int = _s(
        "MEM-02", 100, "积分抵现：多少积分=1元", "Points per 1 CNY of cash offset", ge=1, le=1_000_000
    )
    points_adjust_limit: int = _s(
        "MEM-02",
        500,
        "客服单次积分调整上限",
        "Largest manual points adjustment without the unlimited permission",
        ge=0,
        le=1_000_000,
    )
    tier_coupon_deadline_hours: int = _s(
        "MEM-03",
        24,
        "会员券发放期限（发放日后小时）",
        "Tier coupons must be issued within (hours after the issue day starts)",
        ge=1,
        le=27 * 24,
    )
    referral_reward_wait_days: int = _s(
        "MEM-05",
        0,
        "邀请奖励等待天数（被邀请人首单付款后，0=付款即发；7=过了无理由退货期）",
        "Referral coupons wait (days after the invitee's order was paid; 0 = at once, 7 = past "
        "the no-reason return window)",
        ge=0,
        le=90,
    )
    referral_acquisition_cost: Decimal = _s(
        "MEM-05",
        Decimal("0"),
        "获客成本（元，0=未设置）",
        "Customer acquisition cost in CNY that referral coupons must reach (0 = not set)",
        ge=0,
        le=100_000,
        decimal_places=2,
    )

    # DATA
    target_new_customer_share: Pct = _s(
        "DATA-01", Decimal("0.30"), "新客占比目标", "New-customer share target", ge=0, le=1
    )
    target_repurchase_rate: Pct = _s(
        "DATA-01", Decimal("0.25"), "复购率目标", "Repurchase rate target", ge=0, le=1
    )
    target_nps: int = _s(
        "DATA-01",
        0,
        "净推荐值（NPS）目标（−100–100；0 即推荐者不少于贬损者）",
        "Net promoter score (NPS) target (−100 to 100; 0 = at least as many promoters as detractors)",
        ge=-100,
        le=100,
    )
    nps_survey_url: str = _s(
        "DATA-01",
        "",
        "NPS 问卷链接，附在评价邀请中（{order} 换成订单号；空=不附）",
        "NPS survey link added to the review invitation ({order} becomes the order number; empty = none)",
        max_length=300,
    )
    nps_min_responses: int = _s(
        "DATA-01",
        30,
        "NPS 最少答卷数（少于此数只显示、不与目标比较）",
        "NPS: fewest answers in a period to judge it against the target (fewer: shown only)",
        ge=1,
        le=100_000,
    )
    anomaly_window_hours: int = _s(
        "DATA-03", 3, "订单量异常：统计窗口（小时）", "Order-volume anomaly window (hours)", ge=1, le=24
    )
    anomaly_baseline_days: int = _s(
        "DATA-03",
        7,
        "异常基线：对比前几天同一时段",
        "Anomaly baseline: same window on the days before",
        ge=3,
        le=60,
    )
    anomaly_drop_ratio: Pct = _s(
        "DATA-03",
        Decimal("0.5"),
        "骤降：低于基线的比例",
        "A drop: below this share of the baseline",
        gt=0,
        lt=1,
    )
    anomaly_spike_ratio: Pct = _s(
        "DATA-03",
        Decimal("3"),
        "激增：高于基线的倍数",
        "A spike: above this multiple of the baseline",
        gt=1,
        le=100,
    )
    anomaly_min_baseline: int = _s(
        "DATA-03",
        5,
        "基线至少多少单/访客才判断",
        "Judge only when the baseline has at least (orders / visitors)",
        ge=1,
        le=100000,
    )

    # TEAM-01: the KPI targets of each role (operations: the DATA-01 targets above)
    kpi_period_days: int = _s(
        "TEAM-01", 30, "绩效考核周期（天）", "KPI period (days, compared with the one before)", ge=7, le=366
    )
    kpi_gmv_min_growth: Pct = _s(
        "TEAM-01",
        Decimal("0"),
        "运营：成交额较上一周期最低增长",
        "Operations: minimum GMV growth over the previous period",
        ge=-1,
        le=100,
    )
    kpi_max_failure_rate: Pct = _s(
        "TEAM-01",
        Decimal("0.001"),
        "技术：故障时长占比上限",
        "Tech: maximum share of the period in failure",
        ge=0,
        le=1,
    )
    kpi_first_response_minutes: int = _s(
        "TEAM-01",
        30,
        "客服：首次响应时长中位数目标（分钟）",
        "Customer service: median first-response target (minutes)",
        ge=1,
        le=10080,
    )
    kpi_min_positive_review_share: Pct = _s(
        "TEAM-01",
        Decimal("0.90"),
        "客服：好评率（4–5 分）目标",
        "Customer service: share of 4–5 star reviews target",
        ge=0,
        le=1,
    )
    kpi_max_return_rate: Pct = _s(
        "TEAM-01", Decimal("0.10"), "客服：退货率上限", "Customer service: maximum return rate", ge=0, le=1
    )
    low_profit_net_margin: Pct = _s(
        "DATA-08",
        Decimal("0.10"),
        "低利润商品：净利率低于",
        "Low-profit product: net margin below",
        ge=-1,
        le=1,
    )
    privacy_request_days: int = _s(
        "DATA-09",
        15,
        "个人信息查阅/删除请求答复期限（天）",
        "Days to answer a customer's request for a copy or deletion of their personal data",
        ge=1,
        le=60,
    )
    conversion_alert_ratio: Pct = _s(
        "DATA-02",
        Decimal("0.15"),
        "支付转化低于基准比例预警",
        "Alert when payment conversion is this far below benchmark",
        gt=0,
        lt=1,
    )
    conversion_benchmark: Pct = _s(
        "DATA-02",
        Decimal("0.03"),
        "行业/类目支付转化率基准（买家数÷访客数）",
        "Industry / category payment conversion benchmark (buyers ÷ visitors)",
        gt=0,
        le=1,
    )
    conversion_window_days: int = _s(
        "DATA-02", 7, "转化率统计天数", "Days of traffic the conversion is measured over", ge=1, le=90
    )
    conversion_min_visitors: int = _s(
        "DATA-02",
        200,
        "访客数至少多少才判断转化率",
        "Judge the conversion only with at least this many visitors",
        ge=1,
        le=10**9,
    )
    ab_min_lift: Pct = _s(
        "DATA-07",
        Decimal("0.05"),
        "A/B测试采纳最小提升",
        "Min conversion lift to adopt an A/B variant",
        gt=0,
        le=10,
    )
    ab_significance: Pct = _s(
        "DATA-07", Decimal("0.05"), "A/B测试显著性水平", "A/B significance level (alpha)", gt=0, lt=1
    )
    ab_tests_per_month: int = _s(
        "DATA-07", 2, "每月至少开展的A/B测试数", "A/B tests to start each month (at least)", ge=0, le=100
    )

    # MEM-04 / MEM-07 / DATA-06 (analytics): lifecycle segments, personas, operations reports
    segment_new_days: int = _s(
        "MEM-04",
        30,
        "新客：首单距今少于（天）",
        "New customer: first paid order fewer than (days) ago",
        ge=1,
        le=365,
    )
    segment_sleeping_days: int = _s(
        "MEM-04",
        90,
        "沉睡客户：最近一单距今至少（天）",
        "Sleeping customer: last paid order at least (days) ago",
        ge=2,
        le=1095,
    )
    segment_high_value_top_share: Pct = _s(
        "MEM-04",
        Decimal("0.20"),
        "高价值客户：消费金额排名前（比例）",
        "High-value customer: top share of buyers by money spent",
        ge=0,
        le=1,
    )
    segment_high_value_min_amount: Decimal = _s(
        "MEM-04",
        Decimal("0"),
        "高价值客户：或消费金额至少（元，0=只按排名）",
        "High-value customer: or money spent at least (CNY, 0 = rank only)",
        ge=0,
    )
    rfm_window_days: int = _s(
        "MEM-04", 365, "RFM统计窗口（天）", "RFM window for frequency and money (days)", ge=30, le=1095
    )
    segment_coupon_new: int = _s(
        "MEM-04",
        0,
        "新客首单券模板ID（0=未配置）",
        "New customers: first-order coupon template id (0 = none)",
        ge=0,
    )
    segment_coupon_active: int = _s(
        "MEM-04",
        0,
        "活跃客户每周活动券模板ID（0=未配置）",
        "Active customers: weekly flash-sale coupon template id (0 = none)",
        ge=0,
    )
    segment_coupon_high_value: int = _s(
        "MEM-04",
        0,
        "高价值客户每月专属券模板ID（0=未配置）",
        "High-value customers: monthly exclusive coupon template id (0 = none)",
        ge=0,
    )
    segment_coupon_sleeping: int = _s(
        "MEM-04",
        0,
        "沉睡客户每月召回券模板ID（0=未配置）",
        "Sleeping customers: monthly win-back coupon template id (0 = none)",
        ge=0,
    )
    segment_high_value_ship_hours: int = _s(
        "MEM-04",
        24,
        "高价值客户优先发货（付款后小时）",
        "High-value customers' orders shipped within (hours after payment)",
        ge=1,
        le=720,
    )
    segment_high_value_response_minutes: int = _s(
        "MEM-04",
        30,
        "高价值客户专属客服：工单首次响应（分钟）",
        "High-value customers' tickets: first answer within (minutes, dedicated service)",
        ge=1,
        le=1440,
    )
    persona_window_days: int = _s(
        "MEM-07", 365, "用户画像统计窗口（天）", "Persona window (days of orders)", ge=30, le=1095
    )
    persona_top_categories: int = _s(
        "MEM-07", 3, "画像偏好类目数", "Preferred categories shown per persona", ge=1, le=20
    )
    persona_price_sensitive_share: Pct = _s(
        "MEM-07",
        Decimal("0.5"),
        "价格敏感：优惠订单消费占比至少",
        "Price-sensitive: share of spend on discounted orders at least",
        ge=0,
        le=1,
    )
    report_daily_hour: int = _s(
        "DATA-06",
        8,
        "运营日报生成时间（几点）",
        "Daily operations report generated at (hour, local time)",
        ge=0,
        le=23,
    )
    # --- behaviour (helper "behaviour"): DATA-04 traffic sources, DATA-05 funnel and paths ---
    behaviour_session_gap_minutes: int = _s(
        "DATA-05",
        30,
        "会话超时：无操作多少分钟后算新会话",
        "Session inactivity gap: a new session after this many idle minutes",
        ge=1,
        le=1440,
    )
    behaviour_window_days: int = _s(
        "DATA-05",
        7,
        "漏斗与流量来源检查统计天数",
        "Days of behaviour events the funnel and source checks look at",
        ge=1,
        le=90,
    )
    behaviour_min_visitors: int = _s(
        "DATA-05",
        200,
        "访客数至少多少才判断漏斗与来源转化",
        "Judge a funnel step or a source only with at least this many visitors",
        ge=1,
        le=10**9,
    )
    funnel_min_category_rate: Pct = _s(
        "DATA-05",
        Decimal("0.30"),
        "漏斗：首页→分类/搜索页转化下限",
        "Funnel: min conversion home → category/search page",
        ge=0,
        le=1,
    )
    funnel_min_product_rate: Pct = _s(
        "DATA-05",
        Decimal("0.30"),
        "漏斗：分类/搜索页→商品页转化下限",
        "Funnel: min conversion category/search → product page",
        ge=0,
        le=1,
    )
    funnel_min_cart_rate: Pct = _s(
        "DATA-05",
        Decimal("0.05"),
        "漏斗：商品页→加购转化下限（加购率）",
        "Funnel: min conversion product page → cart (add-to-cart rate)",
        ge=0,
        le=1,
    )
    funnel_min_pay_rate: Pct = _s(
        "DATA-05",
        Decimal("0.20"),
        "漏斗：加购→支付转化下限",
        "Funnel: min conversion cart → payment",
        ge=0,
        le=1,
    )
    source_min_conversion: Pct = _s(
        "DATA-04",
        Decimal("0.01"),
        "流量来源转化率下限（买家÷访客）",
        "Traffic source: min conversion (buyers ÷ visitors)",
        ge=0,
        le=1,
    )
    source_min_roi: Decimal = _s(
        "DATA-04",
        Decimal("2"),
        "流量来源ROI下限（(销售额−花费)÷花费）",
        "Traffic source: min ROI ((revenue − spend) ÷ spend)",
        ge=-1,
        le=1000,
    )
    # --- end behaviour block ---
    # MEM-06: outreach (SMS / e-mail / push) — frequency cap, quiet hours, opt-out, tracking
    outreach_frequency_cap: int = _s(
        "MEM-06",
        3,
        "每位顾客营销消息上限（条/周期）",
        "Max marketing messages per customer per cap window",
        ge=1,
        le=100,
    )
    outreach_frequency_days: int = _s(
        "MEM-06", 7, "营销消息频次周期（天）", "Frequency cap window (days)", ge=1, le=90
    )
    outreach_quiet_start_hour: int = _s(
        "MEM-06", 21, "免打扰开始（时）", "Quiet hours start (hour, store time)", ge=0, le=23
    )
    outreach_quiet_end_hour: int = _s(
        "MEM-06", 8, "免打扰结束（时）", "Quiet hours end (hour, store time)", ge=0, le=23
    )
    outreach_sms_optout_text: str = _s(
        "MEM-06",
        "回T退订",
        "短信退订提示",
        "Opt-out instruction appended to marketing SMS",
        min_length=2,
        max_length=20,
    )
    outreach_conversion_days: int = _s(
        "MEM-06", 7, "触达转化归因窗口（天）", "Conversion window after a message (days)", ge=1, le=60
    )
    outreach_min_delivery_rate: Pct = _s(
        "MEM-06", Decimal("0.90"), "触达送达率下限", "Min delivery rate of a campaign", ge=0, le=1
    )
    outreach_receipt_hours: int = _s(
        "MEM-06",
        24,
        "送达回执等待时间（小时）",
        "Hours to wait for delivery receipts before judging a campaign",
        ge=1,
        le=168,
    )
    outreach_price_drop_min_cny: Decimal = _s(
        "MEM-06",
        Decimal("10"),
        "收藏降价提醒最小降幅（元）",
        "Price drop that triggers a favourite alert (CNY)",
        ge=0,
    )
    outreach_price_drop_min_ratio: Pct = _s(
        "MEM-06",
        Decimal("0.10"),
        "收藏降价提醒最小降幅比例",
        "Price drop ratio that triggers a favourite alert",
        gt=0,
        le=1,
    )
    outreach_price_drop_template: str = _s(
        "MEM-06",
        "",
        "收藏降价提醒模板编码（空=不发送）",
        "Template code of the favourite price-drop alert (empty: off)",
        max_length=40,
    )

    # RISK
    brushing_window_hours: int = _s(
        "RISK-01", 24, "刷单识别统计窗口（小时）", "Order-brushing detection window (hours)", ge=1, le=720
    )
    brushing_accounts_per_address: int = _s(
        "RISK-01",
        5,
        "同一收货地址或电话的下单账号数达到即转人工审核",
        "Accounts ordering to one address or phone that send an order to review",
        ge=2,
        le=1000,
    )
    brushing_orders_per_account: int = _s(
        "RISK-01",
        10,
        "同一账号窗口内下单数达到即转人工审核",
        "Orders by one account within the window that send an order to review",
        ge=2,
        le=100000,
    )
    # one IP is shared by many real customers (mobile carrier NAT, offices, campuses): far
    # higher than the per-account limit; raise it for big promotions
    brushing_orders_per_ip: int = _s(
        "RISK-01",
        20,
        "同一IP窗口内下单数达到即转人工审核",
        "Orders from one IP address within the window that send an order to review",
        ge=2,
        le=100000,
    )
    brushing_accounts_per_device: int = _s(
        "RISK-01",
        3,
        "同一设备窗口内下单账号数达到即转人工审核",
        "Accounts ordering from one device within the window that send an order to review",
        ge=2,
        le=1000,
    )
    sentiment_alarm_keywords: str = _s(
        "RISK-02",
        "假货,诈骗,骗子,欺诈,黑店,三无产品,曝光,12315,维权,投诉到平台",
        "舆情预警关键词（逗号分隔）",
        "Brand-sentiment alarm keywords (comma separated)",
        min_length=1,
        max_length=1000,
    )
    sentiment_lookback_days: int = _s(
        "RISK-02", 30, "舆情扫描范围（天）", "Reviews and messages scanned (days back)", ge=1, le=365
    )
    review_attack_window_hours: int = _s(
        "RISK-02", 24, "恶意差评攻击统计窗口（小时）", "Negative-review attack window (hours)", ge=1, le=720
    )
    review_attack_count: int = _s(
        "RISK-02",
        10,
        "窗口内差评数达到即判定疑似恶意差评攻击",
        "Negative reviews within the window that signal an attack",
        ge=2,
        le=100000,
    )
    review_attack_max_rating: int = _s(
        "RISK-02", 2, "差评：评分不高于", "A negative review has a rating of at most", ge=1, le=4
    )
    compliance_adjust_hours: int = _s(
        "RISK-03",
        24,
        "平台规则变更整改时限（小时）",
        "Compliance adjustment after a rule change (hours)",
        ge=1,
        le=720,
    )
    incident_notice_minutes: int = _s(
        "RISK-04",
        60,
        "系统故障后通知受影响顾客的时限（分钟）",
        "Tell the customers a system failure touched within (minutes)",
        ge=5,
        le=1440,
    )
    incident_compensation_coupon_template: int = _s(
        "RISK-04",
        0,
        "故障补偿券模板ID（0=未配置）",
        "Compensation coupon template id after a system failure (0 = none)",
        ge=0,
    )

    # --- recommend (REC-01/02): item-to-item collaborative filtering and cart add-ons ---
    rec_neighbours_k: int = _s(
        "REC-01",
        10,
        "每个商品保留的相似/搭配推荐数（K）",
        "Neighbours kept per product and kind (K)",
        ge=1,
        le=50,
    )
    rec_min_support: int = _s(
        "REC-01",
        2,
        "推荐最少共现次数（同时浏览/购买的顾客或订单数）",
        "Min support: customers (similar) or orders (complementary) with both products",
        ge=1,
        le=10000,
    )
    rec_shrinkage: Decimal = _s(
        "REC-01",
        Decimal("5"),
        "小样本收缩系数（得分×n÷(n+系数)）",
        "Shrinkage for small counts (score × n ÷ (n + shrinkage))",
        ge=0,
        le=10000,
    )
    rec_weight_view: Decimal = _s("REC-01", Decimal("1"), "浏览权重", "Weight of a view", ge=0, le=100)
    rec_weight_fav: Decimal = _s("REC-01", Decimal("2"), "收藏权重", "Weight of a favourite", ge=0, le=100)
    rec_weight_cart: Decimal = _s(
        "REC-01", Decimal("3"), "加购权重", "Weight of an add-to-cart", ge=0, le=100
    )
    rec_weight_buy: Decimal = _s("REC-01", Decimal("4"), "购买权重", "Weight of a purchase", ge=0, le=100)
    rec_history_days: int = _s(
        "REC-01", 180, "推荐训练回看天数", "Days of paid orders the neighbours are learnt from", ge=1, le=3650
    )
    rec_addon_max: int = _s(
        "REC-02", 4, "购物车加购推荐最多条数", "Max add-on suggestions shown with a cart", ge=1, le=20
    )
    rec_tag_boost: Decimal = _s(
        "SEL-04",
        Decimal("0.2"),
        "相似推荐的标签加成（得分×(1+加成×标签重合度)，0=不用标签）",
        "Tag boost of similar products (score × (1 + boost × tag overlap); 0 = tags not used)",
        ge=0,
        le=1,
    )
    rec_tag_fallback_score: Decimal = _s(
        "SEL-04",
        Decimal("0.1"),
        "无共现数据商品按标签推荐相似商品的最高得分（0=不补）",
        "Max score of tag-based similar products for a product without co-occurrence data (0 = none)",
        ge=0,
        le=1,
    )
    # --- end recommend block ---

    # Findings
    finding_due_hours_critical: int = _s(
        "SOP", 4, "严重问题处理时限（小时）", "Critical findings due within (hours)", ge=1, le=720
    )
    finding_due_hours_warning: int = _s(
        "SOP", 24, "警告处理时限（小时）", "Warning findings due within (hours)", ge=1, le=720
    )
    finding_due_hours_info: int = _s(
        "SOP", 72, "提示处理时限（小时）", "Info findings due within (hours)", ge=1, le=2160
    )

    @field_validator("nps_survey_url")
    @classmethod
    def _survey_url(cls, value: str) -> str:
        value = value.strip()
        if value and (not value.startswith(("https://", "http://")) or any(c.isspace() for c in value)):
            raise ValueError("须为 http(s) 链接 / must be an http(s) link")
        return value

    @field_validator("holidays", "makeup_workdays")
    @classmethod
    def _day_list(cls, value: str) -> str:
        date_list(value)  # raises ValueError naming the part that is not a date or a range
        return value.strip()

    @property
    def holiday_dates(self) -> frozenset[dt.date]:
        """``holidays`` as dates (PROMO-07's working-day calendar)."""
        return date_list(self.holidays)

    @property
    def makeup_workday_dates(self) -> frozenset[dt.date]:
        """``makeup_workdays`` as dates (调休: weekend days that are working days)."""
        return date_list(self.makeup_workdays)

    @field_validator("tag_price_band_edges")
    @classmethod
    def _price_band_edges(cls, value: str) -> str:
        from storeops.catalog.rules.tags import price_band_edges

        price_band_edges(value)  # raises ValueError naming the part that is not an edge
        return value.strip()

    @property
    def price_band_edges(self) -> tuple[Decimal, ...]:
        """``tag_price_band_edges`` as amounts (SEL-04); empty: bands are set by hand."""
        from storeops.catalog.rules.tags import price_band_edges

        return price_band_edges(self.tag_price_band_edges)

    @field_validator("reconcile_fee_rates")
    @classmethod
    def _fee_rates(cls, value: str) -> str:
        fee_rates(value)  # raises ValueError naming the part that is not provider=rate
        return value.strip()

    def fee_rate(self, provider: str) -> Decimal:
        """The agreed fee rate of a payment provider: its own (``reconcile_fee_rates``), else
        ``reconcile_fee_rate_max``. 0: not checked."""
        return fee_rates(self.reconcile_fee_rates).get(provider, self.reconcile_fee_rate_max)

    def _fraud_problems(self) -> list[str]:
        """ORD-01: each fraud-score threshold's higher step lies above its lower one."""
        problems = []
        if self.fraud_new_customer_amount >= self.fraud_large_amount:
            problems.append(
                "新顾客风险金额必须低于大额订单金额 / "
                "fraud_new_customer_amount must be below fraud_large_amount"
            )
        if self.fraud_phone_orders >= self.fraud_phone_orders_high:
            problems.append(
                "同一电话订单数的两档须前低后高 / fraud_phone_orders must be below fraud_phone_orders_high"
            )
        return problems

    @model_validator(mode="after")
    def _consistent(self) -> PlaybookSettings:
        problems = []
        both = sorted(self.holiday_dates & self.makeup_workday_dates)
        if both:
            days = ", ".join(d.isoformat() for d in both[:5])
            problems.append(
                f"{days} 既是法定节假日又是调休上班日 / {days} is both a holiday and a make-up working day"
            )
        if self.title_min_chars > self.title_max_chars:
            problems.append("标题最少字数不能大于最多字数 / title_min_chars must not exceed title_max_chars")
        if self.launch_stage_days >= self.stable_stage_days:
            problems.append(
                "新品期必须短于稳定期截止天数 / launch_stage_days must be below stable_stage_days"
            )
        if self.competitor_discount_min > self.competitor_discount_max:
            problems.append(
                "竞品价下浮下限不能大于上限 / competitor_discount_min must not exceed competitor_discount_max"
            )
        weights = (
            self.supplier_weight_stock_out,
            self.supplier_weight_qc,
            self.supplier_weight_on_time,
            self.supplier_weight_payment_terms,
            self.supplier_weight_iso9001,
            self.supplier_weight_small_batch,
        )
        if not sum(weights):
            problems.append("供应商评分权重不能全部为 0 / the supplier score weights cannot all be 0")
        if self.abc_a_share + self.abc_b_share >= 1:
            problems.append("A类与B类占比之和必须小于1 / abc_a_share + abc_b_share must be below 1")
        if self.forecast_min_history_days > self.forecast_history_days:
            problems.append(
                "启用预测的最少历史天数不能大于预测历史天数 / "
                "forecast_min_history_days must not exceed forecast_history_days"
            )
        problems += self._fraud_problems()
        if self.ads_peak_bid_uplift_min > self.ads_peak_bid_uplift_max:
            problems.append("高峰加价下限不能大于上限 / ads_peak_bid_uplift_min must not exceed the max")
        if self.tier_gold_growth >= self.tier_diamond_growth:
            problems.append("金卡成长值必须低于钻石卡 / tier_gold_growth must be below tier_diamond_growth")
        if self.tier_gold_min_orders > self.tier_diamond_min_orders:
            problems.append(
                "金卡订单数不能多于钻石卡 / tier_gold_min_orders must not exceed tier_diamond_min_orders"
            )
        if self.segment_new_days >= self.segment_sleeping_days:
            problems.append("新客天数必须小于沉睡天数 / segment_new_days must be below segment_sleeping_days")
        if problems:
            raise ValueError("; ".join(problems))
        return self


DATE_RANGE_MAX_DAYS = 366


def date_list(text: str) -> frozenset[dt.date]:
    """``"2026-10-01..2026-10-07, 2026-12-25"`` (comma, Chinese comma, semicolon, 、 or new line
    between; a range as ``start..end``, ``start~end`` or ``start至end``, both days included) as
    the set of days. Raises ValueError naming the part that is not a date or a range (end
    before start, or longer than a year)."""
    days: set[dt.date] = set()
    parts = text
    for sep in ("，", "；", ";", "、", "\n"):
        parts = parts.replace(sep, ",")
    for part in filter(None, (p.strip() for p in parts.split(","))):
        span = part.replace("～", "..").replace("~", "..").replace("至", "..")
        first, dots, last = span.partition("..")
        start: dt.date | None
        end: dt.date | None
        try:
            start = dt.date.fromisoformat(first.strip())
            end = dt.date.fromisoformat(last.strip()) if dots else start
        except ValueError:
            start = end = None
        if start is None or end is None or end < start or (end - start).days >= DATE_RANGE_MAX_DAYS:
            raise ValueError(
                f"“{part}” 应为日期（如 2026-10-01）或日期段（如 2026-10-01..2026-10-07，不超过一年） / "
                f"“{part}” must be a date (e.g. 2026-10-01) or a range (e.g. 2026-10-01..2026-10-07, "
                "at most a year)"
            )
        days.update(start + dt.timedelta(days=i) for i in range((end - start).days + 1))
    return frozenset(days)


def fee_rates(text: str) -> dict[str, Decimal]:
    """``"wechatpay=0.006, alipay=0.0038"`` (comma, Chinese comma, semicolon or new line
    between, ``=`` or ``:`` inside) as ``{provider: rate}``; each rate in [0, 0.1]. Raises
    ValueError naming the part that is not ``provider=rate``."""
    rates: dict[str, Decimal] = {}
    parts = text.replace("，", ",").replace("；", ",").replace(";", ",").replace("\n", ",").split(",")
    for part in filter(None, (p.strip() for p in parts)):
        name, sep, number = part.replace("：", "=").replace(":", "=").partition("=")
        name = name.strip()
        try:
            rate = Decimal(number.strip())
        except ArithmeticError:
            rate = Decimal(-1)
        if not sep or not name or not rate.is_finite() or not 0 <= rate <= Decimal("0.1"):
            raise ValueError(
                f"“{part}” 应为 渠道=费率（0–0.1），如 wechatpay=0.006 / "
                f"“{part}” must be provider=rate (0–0.1), e.g. wechatpay=0.006"
            )
        rates[name] = rate
    return rates


FIELDS = PlaybookSettings.model_fields


def setting_rule(name: str) -> str:
    extra = FIELDS[name].json_schema_extra
    return str(extra["rule"]) if isinstance(extra, dict) else ""


def setting_label(name: str, language: str = "zh-hans") -> str:
    extra = FIELDS[name].json_schema_extra
    if language.startswith("zh") and isinstance(extra, dict):
        return str(extra["zh"])
    return FIELDS[name].description or name


def defaults() -> PlaybookSettings:
    return PlaybookSettings()


class PlaybookInvalid(ValueError):
    """Overrides that do not validate; ``errors`` maps setting name → message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in values.items()}


def resolve(*layers: dict[str, Any]) -> PlaybookSettings:
    """Merge override layers (later wins) over the defaults and validate the result."""
    merged: dict[str, Any] = {}
    for layer in layers:
        merged.update(layer or {})
    try:
        return PlaybookSettings(**merged)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for err in exc.errors():
            key = str(err["loc"][0]) if err["loc"] else "__all__"
            errors[key] = _translate_pydantic(err)
        raise PlaybookInvalid(errors) from exc


def clean_overrides(values: dict[str, Any]) -> dict[str, Any]:
    """Validate a layer of overrides and return it normalised for JSON storage."""
    settings = resolve(values)
    return _jsonable({k: getattr(settings, k) for k in values})


def _translate_pydantic(err: Any) -> str:
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    messages = {
        "extra_forbidden": "没有这个设置项 / unknown setting",
        "greater_than_equal": "不能小于 {ge} / must be ≥ {ge}",
        "greater_than": "必须大于 {gt} / must be > {gt}",
        "less_than_equal": "不能大于 {le} / must be ≤ {le}",
        "less_than": "必须小于 {lt} / must be < {lt}",
        "int_parsing": "请输入整数 / must be a whole number",
        "int_from_float": "请输入整数 / must be a whole number",
        "decimal_parsing": "请输入数字 / must be a number",
        "decimal_type": "请输入数字 / must be a number",
        "int_type": "请输入整数 / must be a whole number",
    }
    template = messages.get(kind)
    if template:
        try:
            return template.format(**ctx)
        except (KeyError, IndexError):
            return template
    if kind == "value_error":
        return str(ctx.get("error", err.get("msg", "")))
    return str(err.get("msg", kind))
