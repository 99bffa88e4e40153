"""The demo store's catalogue: a small home & lifestyle shop (家居生活) with categories,
products and SKUs, suppliers, prices and costs, competitors, market data and 60 days of
sales — all written through the catalog/pricing services, so everything is validated and
audited exactly as an operator's own data would be.

The data is chosen so the SOP checks and the listing audit have something to show:

* audit outcomes: most products pass and go live; 压缩袋 has 第一 in its title (LIST-02),
  沥水篮 has a too-short title and an oversized image (LIST-01/04), 美白精华 claims efficacy
  without a document (LIST-03), 挂耳咖啡 needs the expired food licence (STORE-03) — all
  rejected; 弹力带 is priced far below its competitors (LIST-05) and waits in the manual
  queue; 沥水架 was above its competitors and an owner approved it by hand;
* SEL-02: 义乌优品 breaches the stock-out and QC thresholds; the key product 瑜伽垫 has one
  supplier only;
* PRICE-04: the tracked competitor of 瑜伽垫 just dropped its price by 12.6%;
* LIST-07 / LIST-08: 桌面收纳盒 hardly sells against a full warehouse; 瑜伽砖 converts at a
  third of its category's rate;
* SEL-01: market categories of which some pass the growth/competition screen and some not.

Deterministic: dates are relative to ``today`` and the sales noise comes from a seeded RNG.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from storeops.catalog import services as catalog
from storeops.catalog.imports import catalog_import
from storeops.core.context import Actor
from storeops.pricing import services as pricing
from storeops.stores.models import Channel, Store

if TYPE_CHECKING:
    from storeops.catalog.models import Category, Product

SEED = 20240618
SALES_DAYS = 60


# ---- categories ---------------------------------------------------------------------------

# (code, name, parent code, required qualifications, required parameters, attribute words, scene words)
CATEGORIES: tuple[tuple[str, str, str | None, list[str], list[str], list[str], list[str]], ...] = (
    ("home", "家居日用", None, ["business_license"], [], [], []),
    (
        "home-storage",
        "收纳整理",
        "home",
        [],
        ["材质", "尺寸"],
        ["大容量", "可折叠", "带盖", "防尘", "加厚", "多格", "抽屉式"],
        ["衣柜", "卧室", "宿舍", "桌面", "办公室", "搬家"],
    ),
    (
        "home-kitchen",
        "厨房用品",
        "home",
        [],
        ["材质", "尺寸"],
        ["不锈钢", "免打孔", "双层", "304"],
        ["厨房", "台面", "橱柜"],
    ),
    ("sports", "运动户外", None, ["business_license"], [], [], []),
    (
        "sports-yoga",
        "瑜伽",
        "sports",
        [],
        ["材质", "尺寸"],
        ["防滑", "加厚", "TPE", "高密度", "环保", "高腰", "速干", "裸感"],
        ["居家", "健身房", "瑜伽馆", "普拉提"],
    ),
    ("food", "食品", None, ["business_license", "food_license"], [], [], []),
    (
        "food-coffee",
        "咖啡",
        "food",
        [],
        ["净含量", "产地", "保质期", "配料表"],
        ["挂耳", "阿拉比卡", "中度烘焙", "冷萃"],
        ["办公室", "早餐", "露营", "出差"],
    ),
    ("beauty", "美妆个护", None, ["business_license"], [], [], []),
    (
        "beauty-skincare",
        "护肤",
        "beauty",
        [],
        ["净含量", "适用肤质", "保质期", "备案编号"],
        ["保湿", "补水", "温和", "清爽"],
        ["日常", "换季", "熬夜", "通勤"],
    ),
)


# ---- products ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoProduct:
    code: str
    category: str
    core_word: str
    title: str
    description: str
    parameters: dict[str, str]
    skus: list[Mapping[str, Any]]  # code, price, cost, attributes
    tags: dict[str, list[str]]
    images: list[tuple[str, str, int]] = field(default_factory=list)  # role, name, size in bytes
    documents: list[dict[str, Any]] = field(default_factory=list)
    is_key: bool = False
    efficacy: bool = False


def _skus(
    prefix: str, axes: Mapping[str, Iterable[str]], prices: Mapping[str, tuple[str, str]]
) -> list[Mapping[str, Any]]:
    """SKUs for every combination of ``axes``; ``prices`` maps the last axis' value to (price, cost)."""
    names = list(axes)
    combos: list[dict[str, str]] = [{}]
    for name in names:
        combos = [{**c, name: v} for c in combos for v in axes[name]]
    rows: list[Mapping[str, Any]] = []
    for i, attrs in enumerate(combos, start=1):
        price, cost = prices[attrs[names[-1]]]
        # LOG-03: a weight per SKU (250–850 g), so parcels have a known weight
        grams = 250 + (i * 97) % 600
        rows.append(
            {
                "code": f"{prefix}-{i:02d}",
                "price": price,
                "cost": cost,
                "attributes": attrs,
                "weight_g": grams,
            }
        )
    return rows


def _pictures(code: str, *, scene: bool = True, big: str = "") -> list[tuple[str, str, int]]:
    """A main picture, a usage-scene picture and two detail pictures (sizes in bytes);
    ``big`` names a role whose picture is oversized (LIST-04)."""
    rng = random.Random(f"{SEED}-{code}")  # noqa: S311 - demo data, not security
    pics = [("main", f"{code.lower()}-main.jpg", rng.randint(62_000, 98_000))]
    if scene:
        pics.append(("scene", f"{code.lower()}-scene.jpg", rng.randint(70_000, 99_000)))
    pics += [("detail", f"{code.lower()}-detail-{i}.jpg", rng.randint(40_000, 95_000)) for i in (1, 2)]
    if big:
        pics = [(r, n, 356_000 if r == big else s) for r, n, s in pics]
    return pics


def _qc(title: str, today: dt.date, issuer: str = "SGS 通标标准技术服务有限公司") -> dict[str, Any]:
    return {
        "kind": "qc_report",
        "title": title,
        "issuer": issuer,
        "number": f"QC{today:%Y}-{sum(map(ord, title)) % 100_000:05d}",
        "valid_from": today - dt.timedelta(days=120),
        "valid_to": today + dt.timedelta(days=245),
    }


def demo_products(today: dt.date) -> list[DemoProduct]:
    storage_tags = {"category": ["收纳整理"], "style": ["简约", "北欧"]}
    yoga_tags = {"category": ["瑜伽"], "style": ["运动", "简约"]}
    return [
        DemoProduct(
            code="HOME-001",
            category="home-storage",
            core_word="收纳箱",
            title="悦享大容量可折叠收纳箱带盖家用衣柜衣物整理箱卧室宿舍搬家储物箱",
            description="加厚PP材质，可折叠免安装，带盖防尘；三种尺寸可叠放，适合衣柜、床底与宿舍收纳。",
            parameters={"材质": "PP", "尺寸": "中号 40×30×25cm / 大号 50×35×30cm", "承重": "15kg"},
            skus=_skus(
                "HOME-001",
                {"颜色": ["奶白", "雾灰"], "尺寸": ["中号", "大号"]},
                {"中号": ("59.00", "18.00"), "大号": ("79.00", "24.00")},
            ),
            tags={**storage_tags, "price_band": ["50-100元"], "scene": ["卧室", "宿舍"]},
            images=_pictures("HOME-001"),
            documents=[_qc("收纳箱质检报告", today)],
            is_key=True,
        ),
        DemoProduct(
            code="HOME-002",
            category="home-storage",
            core_word="收纳盒",
            title="悦享桌面收纳盒多格抽屉式文具化妆品整理盒办公室书桌学生宿舍置物架",
            description="透明亚克力，多格抽屉式设计，文具、化妆品分类收纳，适合办公室书桌与宿舍。",
            parameters={"材质": "亚克力", "尺寸": "28×18×15cm", "抽屉数": "3"},
            skus=_skus(
                "HOME-002",
                {"颜色": ["透明", "磨砂白"], "规格": ["三层"]},
                {"三层": ("45.00", "16.00")},
            ),
            tags={**storage_tags, "price_band": ["0-50元"], "scene": ["桌面", "办公室"]},
            images=_pictures("HOME-002"),
            documents=[_qc("收纳盒质检报告", today)],
        ),
        DemoProduct(
            code="HOME-003",
            category="home-storage",
            core_word="压缩袋",
            title="销量第一悦享加厚真空压缩袋衣柜棉被衣物收纳袋宿舍搬家抽气免泵8件套",
            description="加厚PA+PE复合膜，手卷排气免抽气泵，棉被、羽绒服体积减少约七成。",
            parameters={"材质": "PA+PE", "尺寸": "80×100cm×4 / 60×80cm×4"},
            skus=_skus("HOME-003", {"规格": ["8件套"]}, {"8件套": ("39.90", "11.00")}),
            tags={**storage_tags, "price_band": ["0-50元"], "scene": ["衣柜", "搬家"]},
            images=_pictures("HOME-003"),
            documents=[_qc("压缩袋质检报告", today)],
        ),
        DemoProduct(
            code="HOME-004",
            category="home-kitchen",
            core_word="沥水架",
            title="悦享304不锈钢碗碟沥水架免打孔厨房台面双层置物架家用橱柜碗盘收纳架",
            description="304不锈钢一体成型，双层碗碟分区，底部接水盘可抽出清洗，台面免打孔安装。",
            parameters={"材质": "304不锈钢", "尺寸": "双层 55×28×38cm"},
            skus=_skus(
                "HOME-004",
                {"层数": ["双层"], "尺寸": ["标准款", "加长款"]},
                {"标准款": ("139.00", "48.00"), "加长款": ("169.00", "58.00")},
            ),
            tags={
                "category": ["厨房用品"],
                "price_band": ["100-200元"],
                "style": ["简约"],
                "scene": ["厨房"],
            },
            images=_pictures("HOME-004"),
            documents=[_qc("沥水架质检报告", today)],
        ),
        DemoProduct(
            code="HOME-005",
            category="home-kitchen",
            core_word="沥水篮",
            title="不锈钢沥水篮",
            description="洗菜沥水两用，圆孔排水不积水。",
            parameters={"材质": "不锈钢", "尺寸": "直径26cm"},
            skus=_skus("HOME-005", {"尺寸": ["26cm"]}, {"26cm": ("29.90", "9.00")}),
            tags={"category": ["厨房用品"], "price_band": ["0-50元"]},
            images=_pictures("HOME-005", big="main"),
            documents=[_qc("沥水篮质检报告", today)],
        ),
        DemoProduct(
            code="YOGA-001",
            category="sports-yoga",
            core_word="瑜伽垫",
            title="悦享TPE瑜伽垫加厚防滑家用健身垫初学者男女士瑜伽馆专用地垫6mm",
            description="双层TPE高回弹，双面防滑纹理，6mm厚度护膝；附绑带与收纳袋，居家与瑜伽馆都适用。",
            parameters={"材质": "TPE", "尺寸": "183×61cm", "厚度": "6mm"},
            skus=_skus(
                "YOGA-001",
                {"颜色": ["雾霾蓝", "樱花粉", "墨绿"], "厚度": ["6mm"]},
                {"6mm": ("129.00", "38.00")},
            ),
            tags={**yoga_tags, "price_band": ["100-200元"], "scene": ["居家", "瑜伽馆"]},
            images=_pictures("YOGA-001"),
            documents=[_qc("瑜伽垫质检报告", today)],
            is_key=True,
        ),
        DemoProduct(
            code="YOGA-002",
            category="sports-yoga",
            core_word="瑜伽砖",
            title="悦享高密度EVA瑜伽砖环保防滑瑜伽辅助用品舞蹈练功居家健身房初学者",
            description="高密度EVA发泡，轻而不塌，倒角设计握感舒适，辅助拉伸与平衡练习。",
            parameters={"材质": "EVA", "尺寸": "23×15×7.5cm", "重量": "200g"},
            skus=_skus(
                "YOGA-002",
                {"颜色": ["雾霾蓝", "紫色"], "规格": ["单块"]},
                {"单块": ("29.90", "8.50")},
            ),
            tags={**yoga_tags, "price_band": ["0-50元"], "scene": ["居家", "健身房"]},
            images=_pictures("YOGA-002"),
            documents=[_qc("瑜伽砖质检报告", today)],
        ),
        DemoProduct(
            code="YOGA-003",
            category="sports-yoga",
            core_word="弹力带",
            title="悦享瑜伽弹力带防滑乳胶拉力带居家健身房普拉提阻力带男女力量训练套装",
            description="天然乳胶五档阻力，附门扣与手柄，居家即可完成力量与拉伸训练。",
            parameters={"材质": "天然乳胶", "尺寸": "五档阻力 5-40磅"},
            skus=_skus("YOGA-003", {"规格": ["五件套"]}, {"五件套": ("19.90", "7.00")}),
            tags={**yoga_tags, "price_band": ["0-50元"], "scene": ["居家", "普拉提"]},
            images=_pictures("YOGA-003"),
            documents=[_qc("弹力带质检报告", today)],
        ),
        DemoProduct(
            code="YOGA-004",
            category="sports-yoga",
            core_word="瑜伽裤",
            title="悦享高腰裸感瑜伽裤女速干弹力健身裤居家健身房普拉提运动九分打底裤",
            description="裸感亲肤面料，四面弹力，高腰包裹不卷边，速干透气，适合瑜伽、普拉提与日常穿搭。",
            parameters={"材质": "锦纶78% 氨纶22%", "尺寸": "S/M/L/XL"},
            skus=_skus(
                "YOGA-004",
                {"颜色": ["黑色", "燕麦色"], "尺码": ["S", "M", "L", "XL"]},
                {
                    "S": ("99.00", "32.00"),
                    "M": ("99.00", "32.00"),
                    "L": ("99.00", "32.00"),
                    "XL": ("109.00", "35.00"),
                },
            ),
            tags={**yoga_tags, "price_band": ["50-100元"], "scene": ["健身房", "普拉提"]},
            images=_pictures("YOGA-004"),
            documents=[_qc("瑜伽裤质检报告", today)],
        ),
        DemoProduct(
            code="COFFEE-001",
            category="food-coffee",
            core_word="挂耳咖啡",
            title="悦享云南小粒挂耳咖啡阿拉比卡中度烘焙现磨黑咖啡粉办公室早餐露营便携",
            description="云南保山小粒种阿拉比卡，中度烘焙，坚果与焦糖风味，10g×20袋独立包装。",
            parameters={
                "净含量": "200g（10g×20袋）",
                "产地": "云南保山",
                "保质期": "12个月",
                "配料表": "咖啡豆",
            },
            skus=_skus("COFFEE-001", {"规格": ["20袋"]}, {"20袋": ("49.90", "16.00")}),
            tags={
                "category": ["咖啡"],
                "price_band": ["0-50元"],
                "style": ["精品"],
                "scene": ["办公室", "早餐"],
            },
            images=_pictures("COFFEE-001"),
            documents=[_qc("挂耳咖啡检验报告", today, issuer="云南省食品检验所")],
        ),
        DemoProduct(
            code="COFFEE-002",
            category="food-coffee",
            core_word="咖啡液",
            title="悦享冷萃咖啡液浓缩黑咖啡0糖0脂即溶办公室出差露营便携装25ml×12颗",
            description="低温冷萃18小时，冷水牛奶即溶；12颗独立装，出差露营随身带。",
            parameters={"净含量": "300ml（25ml×12颗）", "产地": "云南普洱"},
            skus=_skus("COFFEE-002", {"规格": ["12颗"]}, {"12颗": ("59.00", "21.00")}),
            tags={"category": ["咖啡"], "price_band": ["50-100元"], "scene": ["办公室", "出差"]},
            images=_pictures("COFFEE-002", scene=False),
        ),
        DemoProduct(
            code="BEAUTY-001",
            category="beauty-skincare",
            core_word="面霜",
            title="悦享神经酰胺保湿面霜补水修护屏障温和清爽乳霜秋冬换季熬夜肌肤50g",
            description="神经酰胺与角鲨烷复配，保湿补水、修护肌肤屏障，质地清爽不黏腻。",
            parameters={
                "净含量": "50g",
                "适用肤质": "干性/混合性",
                "保质期": "3年",
                "备案编号": "浙G妆网备字2024012345",
            },
            skus=_skus("BEAUTY-001", {"规格": ["50g"]}, {"50g": ("89.00", "22.00")}),
            tags={
                "category": ["护肤"],
                "price_band": ["50-100元"],
                "style": ["温和"],
                "scene": ["换季", "熬夜"],
            },
            images=_pictures("BEAUTY-001"),
            documents=[
                _qc("面霜产品检验报告", today, issuer="浙江省化妆品检验中心"),
                {
                    "kind": "cosmetics_license",
                    "title": "国产普通化妆品备案凭证",
                    "number": "浙G妆网备字2024012345",
                    "issuer": "浙江省药品监督管理局",
                    "valid_from": today - dt.timedelta(days=200),
                    "valid_to": None,
                },
                {
                    "kind": "efficacy_report",
                    "title": "保湿功效人体评价报告",
                    "issuer": "广东省微生物分析检测中心",
                    "valid_from": today - dt.timedelta(days=180),
                    "valid_to": None,
                },
            ],
            efficacy=True,
        ),
        DemoProduct(
            code="BEAUTY-002",
            category="beauty-skincare",
            core_word="精华液",
            title="悦享烟酰胺美白淡斑精华液提亮肤色温和补水面部精华换季日常护肤30ml",
            description="5%烟酰胺，美白淡斑，改善暗沉。",
            parameters={"净含量": "30ml", "适用肤质": "所有肤质", "保质期": "3年"},
            skus=_skus("BEAUTY-002", {"规格": ["30ml"]}, {"30ml": ("129.00", "26.00")}),
            tags={"category": ["护肤"], "price_band": ["100-200元"], "scene": ["日常"]},
            images=_pictures("BEAUTY-002", big="detail"),
            documents=[_qc("精华液产品检验报告", today, issuer="浙江省化妆品检验中心")],
            efficacy=True,
        ),
    ]


# ---- suppliers ------------------------------------------------------------------------------

# code, name, contact, phone, payment term days, small-batch customisation, ISO 9001, products (primary first)
SUPPLIERS: tuple[tuple[str, str, str, str, int, bool, bool, tuple[str, ...]], ...] = (
    (
        "SUP-JJ",
        "宁波家佳塑业有限公司",
        "陈经理",
        "0574-8765 2301",
        60,
        True,
        True,
        ("HOME-001", "HOME-002", "HOME-003"),
    ),
    (
        "SUP-YP",
        "义乌优品日用品厂",
        "王老板",
        "0579-8552 1187",
        15,
        True,
        False,
        ("HOME-004", "HOME-005", "HOME-001"),
    ),
    (
        "SUP-DG",
        "南通动感运动用品有限公司",
        "刘主管",
        "0513-8567 9920",
        30,
        False,
        True,
        ("YOGA-001", "YOGA-002", "YOGA-003", "YOGA-004"),
    ),
    (
        "SUP-PE",
        "普洱山咖啡庄园合作社",
        "李社长",
        "0879-2123 456",
        30,
        False,
        False,
        ("COFFEE-001", "COFFEE-002"),
    ),
    (
        "SUP-MY",
        "广州美研生物科技有限公司",
        "周经理",
        "020-3722 8810",
        45,
        True,
        True,
        ("BEAUTY-001", "BEAUTY-002"),
    ),
    ("SUP-XR", "杭州新锐家居用品有限公司", "赵经理", "0571-8690 3321", 30, True, False, ()),
)

# code -> (orders, stock-outs, late deliveries, QC samples per order, QC failures in total)
SUPPLY_HISTORY: dict[str, tuple[int, int, int, int, int]] = {
    "SUP-JJ": (10, 0, 1, 20, 1),
    "SUP-YP": (8, 2, 2, 10, 9),  # stock-out 25%, QC pass 88.75%: both breach SEL-02
    "SUP-DG": (9, 0, 0, 20, 2),
    "SUP-PE": (4, 0, 1, 5, 0),
    "SUP-MY": (5, 0, 0, 30, 1),
}


# ---- competitors --------------------------------------------------------------------------------

# competitor, name, our product, tracked, [(days ago, price, promotion)]
COMPETITORS: tuple[tuple[str, str, str | None, bool, list[tuple[int, str, str]]], ...] = (
    (
        "乐动运动旗舰店",
        "乐动TPE双色瑜伽垫6mm加厚防滑",
        "YOGA-001",
        True,
        [(40, "169.00", ""), (12, "159.00", ""), (1, "139.00", "618预售直降20元")],
    ),
    ("Keep官方旗舰店", "Keep瑜伽垫TPE防滑6mm", "YOGA-001", True, [(30, "149.00", ""), (2, "149.00", "")]),
    ("百纳家居旗舰店", "百纳折叠收纳箱带盖大号", "HOME-001", True, [(35, "69.00", ""), (3, "72.00", "")]),
    ("拼拼百货店", "折叠收纳箱加厚带盖", "HOME-001", False, [(20, "39.00", ""), (2, "19.90", "清仓")]),
    ("厨之道旗舰店", "不锈钢碗架沥水架双层", "HOME-004", True, [(25, "89.00", ""), (4, "89.00", "")]),
    ("力健运动专营店", "乳胶弹力带五件套", "YOGA-003", True, [(15, "69.00", ""), (3, "69.00", "")]),
    ("悦动健身旗舰店", "阻力带5件套 普拉提", "YOGA-003", True, [(10, "59.00", "")]),
    ("云咖旗舰店", "云南挂耳咖啡20袋", "COFFEE-001", True, [(6, "59.90", "")]),
    ("轻氧护肤旗舰店", "神经酰胺保湿霜50g", "BEAUTY-001", True, [(14, "99.00", ""), (2, "95.00", "")]),
)


# ---- market data (SEL-01) -------------------------------------------------------------------------

# name, (growth 30d, listings, search popularity) a month ago and now
MARKET: tuple[tuple[str, tuple[str, int, int], tuple[str, int, int]], ...] = (
    ("收纳整理", ("0.31", 41_000, 108_000), ("0.42", 43_500, 124_000)),
    ("瑜伽健身", ("0.28", 29_000, 80_000), ("0.36", 30_200, 91_000)),
    ("香薰蜡烛", ("0.40", 8_600, 35_000), ("0.48", 9_100, 40_500)),
    ("厨房置物", ("0.22", 26_000, 60_000), ("0.33", 27_800, 61_000)),
    ("挂耳咖啡", ("0.51", 76_000, 98_000), ("0.55", 80_400, 101_000)),
    ("露营装备", ("0.92", 140_000, 190_000), ("0.85", 151_000, 203_000)),
    ("保温杯", ("0.15", 95_000, 210_000), ("0.12", 97_300, 214_000)),
    ("护肤面霜", ("0.18", 120_000, 260_000), ("0.21", 123_000, 268_000)),
)


# ---- sales profiles (LIST-07/08) ------------------------------------------------------------------


@dataclass(frozen=True)
class SalesProfile:
    listed_days_ago: int
    channels: dict[str, Decimal]  # channel code -> share of traffic
    visitors: int  # per day, all channels
    conversion: Decimal
    stock: int  # closing stock reported today (on the main channel)
    units_per_buyer: Decimal = Decimal("1.15")


SALES: dict[str, SalesProfile] = {
    "HOME-001": SalesProfile(
        75,
        {"tmall": Decimal("0.5"), "jd": Decimal("0.2"), "pdd": Decimal("0.2"), "web": Decimal("0.1")},
        420,
        Decimal("0.035"),
        760,
    ),
    # A slow mover: a handful of visitors, one sale in the last month, a full warehouse.
    "HOME-002": SalesProfile(82, {"tmall": Decimal("0.7"), "web": Decimal("0.3")}, 3, Decimal("0"), 640),
    "YOGA-001": SalesProfile(
        70,
        {"tmall": Decimal("0.6"), "jd": Decimal("0.25"), "pdd": Decimal("0.15")},
        350,
        Decimal("0.042"),
        420,
    ),
    # A low converter: decent traffic, converts at a third of the category (LIST-08).
    "YOGA-002": SalesProfile(65, {"tmall": Decimal("1")}, 90, Decimal("0.011"), 80),
    # New product: still in its launch stage (no LIST-07 yet).
    "BEAUTY-001": SalesProfile(
        20, {"tmall": Decimal("0.7"), "web": Decimal("0.3")}, 150, Decimal("0.03"), 300
    ),
}
# YOGA-001 sold out on Pinduoduo and was taken off there 10 days ago.
PDD_DELISTED_DAYS_AGO = 10


# ---- loading ----------------------------------------------------------------------------------


def load_catalog_demo(
    *, store: Store, channels: Mapping[str, Channel], today: dt.date, actor: Actor
) -> dict[str, Product]:
    """Create the demo catalogue (inside the caller's transaction). Returns products by code."""
    now = _now_for(today)
    categories = _load_categories(store, actor)
    products = _load_products(store, actor, categories, demo_products(today))
    _load_suppliers(store, actor, products, today)
    _load_competitors(store, actor, products, now)
    _load_costs_and_prices(actor, products, channels)
    _load_audits_and_listings(actor, products, channels, today, now)
    _load_sales(store, actor, products, today)
    _load_market(store, actor, today)
    return products


def _now_for(today: dt.date) -> dt.datetime:
    real_now = timezone.now()
    if today == timezone.localdate(real_now):
        return real_now
    return timezone.make_aware(dt.datetime.combine(today, dt.time(10, 0)))


def _at(now: dt.datetime, days_ago: int, hour: int = 10) -> dt.datetime:
    local = timezone.localtime(now) - dt.timedelta(days=days_ago)
    return local.replace(hour=hour, minute=0, second=0, microsecond=0)


def _load_categories(store: Store, actor: Actor) -> dict[str, Category]:
    out: dict[str, Category] = {}
    for code, name, parent, quals, params, attrs, scenes in CATEGORIES:
        out[code] = catalog.category_create(
            actor=actor,
            store=store,
            code=code,
            name=name,
            parent=out[parent] if parent else None,
            required_qualifications=quals,
            required_parameters=params,
            attribute_words=attrs,
            scene_words=scenes,
        )
    return out


def _load_products(
    store: Store, actor: Actor, categories: Mapping[str, Category], specs: list[DemoProduct]
) -> dict[str, Product]:
    products: dict[str, Product] = {}
    for spec in specs:
        product = catalog.product_create(
            actor=actor,
            store=store,
            category=categories[spec.category],
            code=spec.code,
            core_word=spec.core_word,
            title=spec.title,
            description=spec.description,
            parameters=spec.parameters,
            skus=spec.skus,
            is_key=spec.is_key,
            has_efficacy_claim=spec.efficacy,
        )
        for position, (role, name, size) in enumerate(spec.images):
            catalog.product_image_add(
                actor=actor,
                product=product,
                role=role,
                name=name,
                size_bytes=size,
                url=f"/media/demo/{name}",
                position=position,
            )
        for doc in spec.documents:
            catalog.product_document_add(actor=actor, product=product, **doc)
        catalog.product_tags_set(actor=actor, product=product, tags=spec.tags)
        products[spec.code] = product
    return products


def _load_suppliers(store: Store, actor: Actor, products: Mapping[str, Product], today: dt.date) -> None:
    rng = random.Random(SEED)  # noqa: S311 - demo data, not security
    has_primary: set[str] = set()
    for code, name, contact, phone, term, small_batch, iso, linked in SUPPLIERS:
        supplier = catalog.supplier_create(
            actor=actor,
            store=store,
            code=code,
            name=name,
            contact=contact,
            phone=phone,
            payment_term_days=term,
            small_batch_customisation=small_batch,
        )
        if iso:
            catalog.supplier_certification_add(
                actor=actor,
                supplier=supplier,
                kind="iso9001",
                number=f"CN-ISO9001-{rng.randint(100000, 999999)}",
                valid_from=today - dt.timedelta(days=400),
                valid_to=today + dt.timedelta(days=695),
            )
        for product_code in linked:
            catalog.product_supplier_link(
                actor=actor,
                product=products[product_code],
                supplier=supplier,
                is_primary=product_code not in has_primary,
            )
            has_primary.add(product_code)
        history = SUPPLY_HISTORY.get(code)
        if history is None or not linked:
            continue
        orders, stock_outs, late, samples, failures = history
        for n in range(orders):
            ordered = today - dt.timedelta(days=20 + n * 32 + rng.randint(0, 6))
            due = ordered + dt.timedelta(days=10)
            is_late = n in range(1, 1 + late)
            stocked_out = n in range(orders - stock_outs, orders) if stock_outs else False
            failed = failures // orders + (1 if n < failures % orders else 0)
            catalog.supply_record_add(
                actor=actor,
                supplier=supplier,
                product=products[linked[n % len(linked)]],
                reference=f"PO{ordered:%Y%m%d}{n + 1:02d}",
                ordered_on=ordered,
                due_on=due,
                delivered_on=due + dt.timedelta(days=rng.randint(2, 6))
                if is_late
                else due - dt.timedelta(days=1),
                stocked_out=stocked_out,
                qc_samples=samples,
                qc_passed=samples - failed,
            )


def _load_competitors(store: Store, actor: Actor, products: Mapping[str, Product], now: dt.datetime) -> None:
    for i, (competitor, name, product_code, tracked, prices) in enumerate(COMPETITORS, start=100231):
        cp = pricing.competitor_product_create(
            actor=actor,
            store=store,
            competitor=competitor,
            name=name,
            product=products[product_code] if product_code else None,
            url=f"https://item.example.com/{i:06d}",
            is_tracked=tracked,
        )
        for days_ago, price, promotion in prices:
            pricing.competitor_price_record(
                actor=actor,
                competitor_product=cp,
                price=price,
                observed_at=_at(now, days_ago, hour=9),
                promotion=promotion,
                source="manual",
            )


def _load_costs_and_prices(
    actor: Actor, products: Mapping[str, Product], channels: Mapping[str, Channel]
) -> None:
    """PRICE-02 cost components of every SKU; channel prices and a few versioned changes (PRICE-03)."""
    for product in products.values():
        for sku in product.skus.all():
            price = sku.price
            pricing.sku_cost_set(
                actor=actor,
                sku=sku,
                operations=_cents(price * Decimal("0.12")),
                logistics=_cents(Decimal("6.00") if price < 100 else Decimal("9.00")),
                tax=_cents(price * Decimal("0.06")),
            )
    home = products["HOME-001"]
    for sku in home.skus.all():
        if sku.attributes.get("尺寸") == "大号":
            pricing.price_set(actor=actor, sku=sku, new_price="75.00", reason="promotion", note="春季收纳节")
            pricing.price_set(
                actor=actor, sku=sku, new_price="79.00", reason="season", note="活动结束恢复日常价"
            )
        pricing.price_set(
            actor=actor,
            sku=sku,
            new_price=str(sku.price - Decimal("4.00")),
            reason="promotion",
            note="拼多多百亿补贴",
            channel=channels["pdd"],
        )
    for sku in products["YOGA-001"].skus.all():
        pricing.price_set(
            actor=actor,
            sku=sku,
            new_price="128.00",
            reason="competitor",
            note="乐动同款降价，天猫跟进",
            channel=channels["tmall"],
        )
    for sku in products["HOME-004"].skus.all():
        pricing.price_set(
            actor=actor,
            sku=sku,
            new_price=str(sku.price + Decimal("10.00")),
            reason="cost",
            note="304钢材涨价",
        )


def _cents(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _load_audits_and_listings(
    actor: Actor,
    products: Mapping[str, Product],
    channels: Mapping[str, Channel],
    today: dt.date,
    now: dt.datetime,
) -> None:
    # Everything but the draft goes through the listing audit.
    for code, product in products.items():
        if code != "COFFEE-002":
            catalog.listing_submit(actor=actor, product=product, today=today)
    # 沥水架 sits above its competitor: the owner approves it by hand and it goes live today.
    reviewer = get_user_model().objects.filter(username="demo_owner").first()
    review_actor = Actor(user=reviewer, via="console") if reviewer is not None else actor
    home4 = products["HOME-004"]
    home4.refresh_from_db()
    if home4.status == "pending_audit":
        catalog.listing_review(
            actor=review_actor,
            audit=home4.audits.get(outcome="manual", decision=""),
            approve=True,
            comment="304不锈钢用料优于对标款，定价合理，同意上架",
        )
    # Go live on the channels, back-dated to the launch days of the sales history.
    for code, profile in SALES.items():
        for channel_code in profile.channels:
            catalog.listing_schedule(
                actor=actor,
                product=products[code],
                channel=channels[channel_code],
                now=_at(now, profile.listed_days_ago),
            )
    catalog.listing_schedule(actor=actor, product=home4, channel=channels["tmall"], now=now)
    # 瑜伽裤 is approved and waits for its planned launch in three days.
    catalog.listing_schedule(
        actor=actor,
        product=products["YOGA-004"],
        channel=channels["tmall"],
        list_at=_at(now, -3),
        now=now,
    )
    pdd = products["YOGA-001"].listings.get(channel=channels["pdd"])
    catalog.listing_delist(
        actor=actor,
        listing=pdd,
        reason="stock_out",
        remaining_stock_action="transfer",
        note="拼多多仓断货，余量调拨天猫仓",
        now=_at(now, PDD_DELISTED_DAYS_AGO),
    )


def _load_sales(store: Store, actor: Actor, products: Mapping[str, Product], today: dt.date) -> None:
    rng = random.Random(SEED + 1)  # noqa: S311 - demo data, not security
    rows: list[list[object]] = []
    for code, profile in SALES.items():
        product = products[code]
        price = min(s.price for s in product.skus.all())
        first_day = today - dt.timedelta(days=min(profile.listed_days_ago, SALES_DAYS))
        main_channel = next(iter(profile.channels))
        daily_units = int(profile.visitors * profile.conversion * profile.units_per_buyer)
        day = first_day
        while day < today:
            weekend = Decimal("1.25") if day.weekday() >= 5 else Decimal("1")
            for channel_code, share in profile.channels.items():
                if (
                    code == "YOGA-001"
                    and channel_code == "pdd"
                    and day >= today - dt.timedelta(days=PDD_DELISTED_DAYS_AGO)
                ):
                    continue
                noise = Decimal(rng.randint(85, 115)) / 100
                visitors = int(Decimal(profile.visitors) * share * weekend * noise)
                buyers = int(
                    (Decimal(visitors) * profile.conversion * Decimal(rng.randint(80, 120)) / 100).quantize(
                        Decimal(1)
                    )
                )
                if code == "HOME-002":  # one sale a month lately, a few more before
                    age = (today - day).days
                    buyers = 1 if age in (17, 45, 52, 58) and channel_code == main_channel else 0
                buyers = min(buyers, visitors)
                units = int((Decimal(buyers) * profile.units_per_buyer).quantize(Decimal(1))) if buyers else 0
                units = max(units, buyers)
                is_main = channel_code == main_channel
                days_left = (today - day).days
                stock = profile.stock + days_left * daily_units if is_main else ""
                rows.append(
                    [
                        code,
                        channel_code,
                        day.isoformat(),
                        visitors,
                        buyers,
                        # LIST-07 tracking: page views and add-to-cart shoppers (no extra random
                        # draws, so the rest of the demo data stays as it was)
                        visitors * 3 // 2,
                        max(buyers, visitors * 8 // 100),
                        units,
                        _cents(price * units),
                        stock,
                    ]
                )
            day += dt.timedelta(days=1)
    header = [
        "product_code",
        "channel_code",
        "day",
        "visitors",
        "buyers",
        "clicks",
        "add_to_cart",
        "units",
        "revenue",
        "stock_on_hand",
    ]
    _import(actor, store, "sales", header, rows)


def _load_market(store: Store, actor: Actor, today: dt.date) -> None:
    rows: list[list[object]] = []
    for name, before, latest in MARKET:
        for period_end, (growth, listings, popularity) in (
            (today - dt.timedelta(days=31), before),
            (today - dt.timedelta(days=1), latest),
        ):
            rows.append([name, period_end.isoformat(), growth, listings, popularity, "生意参谋·市场大盘"])
    header = ["category_name", "period_end", "growth_30d", "listings", "search_popularity", "source"]
    _import(actor, store, "market", header, rows)


def _import(actor: Actor, store: Store, kind: str, header: list[str], rows: list[list[object]]) -> None:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(rows)
    source = io.BytesIO(text.getvalue().encode("utf-8"))
    report = catalog_import(actor=actor, store=store, kind=kind, source=source, filename=f"demo-{kind}.csv")
    if not report.ok:
        raise RuntimeError(f"demo {kind} import failed: " + "; ".join(str(e) for e in report.errors[:5]))
